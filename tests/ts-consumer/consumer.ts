// A TypeScript app that installs smart-launch from its tarball: every entry point of the
// API and every TokenEvent variant must type-check under --strict (make test-types).
import init, {
  authorize,
  authorizePopup,
  authorizeUrl,
  errorCodes,
  ready,
  SmartClient,
  SmartError,
  type AuthorizeOptions,
  type FhirContextItem,
  type IssuerOptions,
  type ReadyOptions,
  type TokenEvent,
} from "smart-launch/web";
import * as bundled from "smart-launch";

const issuers: IssuerOptions[] = [
  { iss: "https://ehr.example.org/fhir", clientId: "app", scope: "launch openid", redirectUri: "cb.html" },
];

const options: AuthorizeOptions = {
  clientId: "app",
  scope: "launch openid fhirUser patient/*.rs offline_access",
  redirectUri: "callback.html",
  iss: "https://fhir.example.org/r4",
  issuers,
  launch: "xyz",
  aud: "https://fhir.example.org/r4",
  target: "_top",
  width: 500,
  height: 600,
  allowInsecureLocalhost: false,
  legacyCapabilityStatement: false,
  timeoutMs: 10_000,
};

function describe(event: TokenEvent): string {
  switch (event.type) {
    case "expiring":
      return `expiring at ${event.expiresAt.toFixed(0)}, ${event.secondsLeft.toFixed(0)} s left`;
    case "refreshed":
      return `refreshed until ${event.expiresAt ?? "unknown"}`;
    case "refreshFailed": {
      const e: SmartError = event.error;
      return `refresh failed: ${e.code} ${e.status ?? ""} ${e.oauthError ?? ""} ${e.description ?? ""} ${e.field ?? ""}`;
    }
    case "expired":
      return "expired";
    case "ended":
      return `ended: ${event.reason}`;
    default: {
      const never: never = event;
      return never;
    }
  }
}

const readyOptions: ReadyOptions = {
  onTokenEvent: (e) => console.log(describe(e)),
  expiringLeadSeconds: 30,
  autoRefresh: true,
  timeoutMs: 5_000,
  verifyIdToken: true,
};

async function useClient(client: SmartClient): Promise<void> {
  const token: string = client.accessToken;
  const type: string = client.tokenType;
  const scope: string = client.scope;
  const granted: string[] = client.grantedScopes;
  const expiresAt: number | undefined = client.expiresAt;
  const server: string = client.serverUrl;
  const patient: string | undefined = client.patientId;
  const encounter: string | undefined = client.encounterId;
  const context: FhirContextItem[] = client.fhirContext;
  const roles: string[] = context.map((c) => c.role + (c.reference ?? c.canonical ?? ""));
  const banner: boolean | undefined = client.needPatientBanner;
  const style: string | undefined = client.smartStyleUrl;
  const intent: string | undefined = client.intent;
  const tenant: string | undefined = client.tenant;
  const idToken: string | undefined = client.idToken;
  const claims: object | undefined = client.idTokenClaims;
  const fhirUser: string | undefined = client.fhirUser;
  const hasRefresh: boolean = client.hasRefreshToken;
  const raw: Record<string, unknown> = client.tokenResponse;
  console.log(token.length, type, scope, granted, expiresAt, server, patient, encounter, roles,
    banner, style, intent, tenant, idToken, claims, fhirUser, hasRefresh, raw);

  const unsubscribe: () => void = client.onTokenEvent((e: TokenEvent) => console.log(describe(e)));
  await client.refresh();
  await client.refresh({ scope: "patient/Observation.rs" });
  const resource: unknown = await client.request(`Patient/${patient ?? ""}`);
  await client.request("Observation?patient=1", { headers: { Accept: "application/fhir+json" } });
  unsubscribe();
  await client.logout();
  console.log(resource);
}

async function main(): Promise<void> {
  await init();
  const codes: string[] = errorCodes();
  console.log(codes.includes("session_lost"));
  const { url, state }: { url: string; state: string } = await authorizeUrl(options);
  console.log(url, state);
  try {
    await authorize(options);
    await useClient(await authorizePopup(options, readyOptions));
    await useClient(await authorizePopup(options));
    await useClient(await ready(readyOptions));
    await useClient(await ready());
  } catch (e) {
    if (e instanceof SmartError) {
      const code: string = e.code;
      const message: string = e.message;
      console.log(code, message);
    }
  }
  // The bundler build: same API, no init.
  const client: bundled.SmartClient = await bundled.ready();
  await useClient(client);
  const ErrorClass: typeof bundled.SmartError = bundled.SmartError;
  console.log(ErrorClass.name);
}

void main();
