// The types of smart-launch's JS API (src/api/index.js). The build writes this file as
// the `.d.ts` of both flavours; the `web` flavour adds web-init.d.ts (its `init`).

/** Options of `authorize`, `authorizeUrl` and `authorizePopup`. */
export interface AuthorizeOptions {
  /** The client id registered at the server (or per issuer in `issuers`). */
  clientId?: string;
  /** Space-separated scopes, e.g. "launch openid fhirUser patient/*.rs offline_access". */
  scope?: string;
  /** The registered redirect URI; a relative one is taken relative to the page. */
  redirectUri?: string;
  /** Standalone launch: the FHIR base URL to launch against. */
  iss?: string;
  /** EHR launch allowlist: only these FHIR bases are accepted as `iss`. */
  issuers?: IssuerOptions[];
  /** EHR launch: the launch handle, when the app reads it itself. */
  launch?: string;
  /** The `aud` parameter; defaults to the FHIR base, verbatim. */
  aud?: string;
  /** Where the authorization page opens: "_self" (default), "_top" or "_parent". */
  target?: "_self" | "_top" | "_parent";
  /** Popup size for `authorizePopup` (default 520 x 680). */
  width?: number;
  height?: number;
  /** Allow http:// endpoints on localhost / 127.0.0.1 (development only). */
  allowInsecureLocalhost?: boolean;
  /** Fall back to the CapabilityStatement `oauth-uris` of SMART v1 servers. */
  legacyCapabilityStatement?: boolean;
  /** Limit for each HTTP request, in milliseconds (default 30000). */
  timeoutMs?: number;
}

/** One trusted EHR and this app's registration there. */
export interface IssuerOptions {
  iss: string;
  clientId?: string;
  scope?: string;
  redirectUri?: string;
}

/** Options of `ready`. */
export interface ReadyOptions {
  /** Registered before the first event can fire. */
  onTokenEvent?: (event: TokenEvent) => void;
  /** Seconds before expiry at which `expiring` fires (default 60). */
  expiringLeadSeconds?: number;
  /** Refresh at the expiring point when a refresh token is held (default true). */
  autoRefresh?: boolean;
  /** Limit for each HTTP request, in milliseconds (default 30000). */
  timeoutMs?: number;
  /**
   * Verify the id_token's signature (RS256 or ES256, WebCrypto) with a key from the
   * discovered `jwks_uri`, so `fhirUser` can be trusted in the browser (default false:
   * the claims are always checked, the signature only on request).
   */
  verifyIdToken?: boolean;
}

/** One `fhirContext` item of the token response (SMART 2.0, 2.1 and 2.2 shapes). */
export interface FhirContextItem {
  reference?: string;
  canonical?: string;
  identifier?: object;
  type?: string;
  /** Absent in the response means "launch". */
  role: string;
  [member: string]: unknown;
}

export type TokenEvent =
| { type: "expiring"; expiresAt: number; secondsLeft: number }
| { type: "refreshed"; expiresAt?: number }
| { type: "refreshFailed"; error: SmartError }
| { type: "expired" }
| { type: "ended"; reason: string };

/** Every failure of smart-launch; `code` is stable (see the README's table). */
export class SmartError extends Error {
  code: string;
  status?: number;
  oauthError?: string;
  description?: string;
  field?: string;
}

/** The launched SMART session; `ready()` and `authorizePopup()` make it. */
export class SmartClient {
  private constructor();
  /** The access token ("" once the session has ended). */
  readonly accessToken: string;
  readonly tokenType: string;
  /** The granted scope string: what the server granted, not what was asked (spec #46). */
  readonly scope: string;
  readonly grantedScopes: string[];
  /** Epoch milliseconds, from `expires_in` and the local clock (spec #47). */
  readonly expiresAt: number | undefined;
  /** The FHIR base (= `aud`). */
  readonly serverUrl: string;
  readonly patientId: string | undefined;
  readonly encounterId: string | undefined;
  readonly fhirContext: FhirContextItem[];
  readonly needPatientBanner: boolean | undefined;
  readonly smartStyleUrl: string | undefined;
  readonly intent: string | undefined;
  readonly tenant: string | undefined;
  readonly idToken: string | undefined;
  readonly idTokenClaims: object | undefined;
  /** The user's FHIR resource URL, absolute (spec #69). */
  readonly fhirUser: string | undefined;
  readonly hasRefreshToken: boolean;
  /** Every member of the last token response, extensions included (spec #52). */
  readonly tokenResponse: Record<string, unknown>;
  /** Subscribes to token events; returns the function that unsubscribes. */
  onTokenEvent(listener: (event: TokenEvent) => void): () => void;
  /** Refreshes the access token now. Concurrent calls share one request (spec #63). */
  refresh(options?: { scope?: string }): Promise<void>;
  /** Fetches a FHIR resource; the bearer token goes only to URLs under `serverUrl`. */
  request(pathOrUrl: string, init?: RequestInit): Promise<any>;
  /**
   * Ends the session: revokes the refresh token if the server offers revocation,
   * wipes the tokens from memory and fires `ended`.
   */
  logout(): Promise<void>;
}

/** Starts the launch: discovery, then the authorization redirect (EHR or standalone). */
export function authorize(options: AuthorizeOptions): Promise<void>;

/**
 * Like `authorize`, but returns the authorization URL and its state instead of going
 * there.
 */
export function authorizeUrl(options: AuthorizeOptions): Promise<{ url: string; state: string }>;

/**
 * Runs the authorization in a popup; this page never unloads. Resolves to the client.
 * Call it from a click handler (popup blockers).
 */
export function authorizePopup(options: AuthorizeOptions, readyOptions?: ReadyOptions): Promise<SmartClient>;

/**
 * On the redirect_uri page: validates the callback, exchanges the code once and
 * resolves to the client. `code` and `state` leave the address bar as the token
 * request leaves, before `ready()` returns (spec #39).
 */
export function ready(options?: ReadyOptions): Promise<SmartClient>;

/** The stable error codes, for apps that switch on them. */
export function errorCodes(): string[];
