//! The launched session: `Grant`, its tokens, id_token claims and timing policy.

use super::{answer, bool_json, invalid, json_str, ms, Args, Obj};
use crate::prelude::*;
use crate::protocol::callback::TransactionRecord;
use crate::protocol::context::FhirContextItem;
use crate::protocol::id_token::{self, IdTokenClaims};
use crate::protocol::json::push_json_string;
use crate::protocol::text::push_u64;

use crate::protocol::token::{self, TokenResponse};
use crate::protocol::{fhir, scopes, url, Error, ErrorCode, Result};
use crate::session::{self, EndReason, RefreshTicket, Session, SessionEvent, SessionOptions};

/// A validated id_token: its claims, the payload text they came from (`idTokenClaims`:
/// every claim as sent) and the `fhirUser` URL.
struct CheckedIdToken {
    claims: IdTokenClaims,
    payload: String,
    fhir_user: Option<String>,
}

/// What a grant holds while it lives; `None` in [`Grant`] before the launch completed
/// and after the session ended (the tokens are wiped: spec #65, #80).
struct Live {
    record: TransactionRecord,
    tokens: TokenResponse,
    expires_at_ms: Option<u64>,
    id_token: Option<CheckedIdToken>,
}

/// A launched SMART session: the transaction it came from, the current token
/// response, the validated id_token claims, and the timing policy
/// ([`crate::session::Session`]). Tokens live here and in the JS `SmartClient` that
/// holds this object, in memory only (spec #72).
pub struct Grant {
    live: Option<Live>,
    /// The FHIR base, kept after the end (`serverUrl`).
    server_url: String,
    /// The requested scope, reported when the server granted none (spec #46).
    requested_scope: String,
    session: Session,
}

impl Default for Grant {
    fn default() -> Self {
        Grant::new()
    }
}

impl Grant {
    /// An empty grant; its `launch` step fills it.
    pub fn new() -> Grant {
        Grant {
            live: None,
            server_url: String::new(),
            requested_scope: String::new(),
            // Replaced by the launch's; JS never uses a grant whose launch failed.
            session: Session::new(None, false, SessionOptions::default(), 0),
        }
    }

    /// Runs the grant's step `name` (one of its methods) with `args`, a JSON array of
    /// its arguments (see [`super::step`]).
    pub fn call(&mut self, name: &str, args: &str) -> String {
        let a = Args::parse(args);
        // The envelope is written once here, not in each step.
        answer(match name {
            "launch" => self.accept_launch(
                a.status(0),
                a.str(1),
                a.str(2),
                ms(a.num(3)),
                ms(a.num(4)),
                SessionOptions {
                    expiring_lead_ms: ms(a.num(5)),
                    auto_refresh: a.flag(6),
                },
            ),
            "snapshot" => Ok(self.snapshot()),
            "tick" => Ok(self.tick(a.num(0))),
            "begin_refresh" => self.ticket(),
            "refresh_request" => self.refresh_request_json(a.opt_str(0)),
            "refresh_response" => self.accept_refresh(a.status(0), a.str(1), ms(a.num(2))),
            "refresh_failed" => Ok(self.refresh_failed(a.str(0), a.num(1))),
            "needs_refresh" => Ok(bool_json(self.needs_refresh(a.num(0)))),
            "fhir_request" => self.fhir_target(a.str(0)),
            "fhir_answer" => {
                self.fhir_outcome(a.status(0), a.str(1), a.str(2), a.flag(3), a.flag(4))
            }
            "revocation" => Ok(self.revocation_json()),
            "logout" => Ok(self.logout()),
            _ => Err(invalid("step")),
        })
    }
}

fn session_ended() -> Error {
    Error::new(ErrorCode::SessionEnded)
}

/// Checks a new id_token (spec #67, #69) and gives its claims and fhirUser URL. Without
/// a discovered `issuer` the claims cannot be validated, so they are not exposed at
/// all: an unvalidated `fhirUser` must not look trusted. `nonce` is the one sent with
/// the authorization request; a refreshed id_token is not bound to it (OIDC §12.2) and
/// is checked against the original instead (spec #70).
fn read_id_token(
    jwt: &str,
    record: &TransactionRecord,
    nonce: Option<&str>,
    now_ms: u64,
) -> Result<Option<CheckedIdToken>> {
    // `&Option<String>`s matched, not `as_deref` calls (11 B gz).
    let Some(issuer) = &record.issuer else {
        return Ok(None);
    };
    let decoded = id_token::decode_id_token(jwt)?;
    let claims = &decoded.claims;
    id_token::validate_claims(
        claims,
        issuer,
        &record.client_id,
        nonce,
        now_ms,
        id_token::CLOCK_LEEWAY_S,
    )?;
    let fhir_user = match &claims.fhir_user {
        Some(claim) => Some(id_token::parse_fhir_user(claim, &record.fhir_base)?.url),
        None => None,
    };
    Ok(Some(CheckedIdToken {
        claims: decoded.claims,
        payload: decoded.payload,
        fhir_user,
    }))
}

/// The normalised `fhirContext` items of a token response (spec #50), each with `i`,
/// its index in the response's `fhirContext` array: the JS side adds the item's other
/// members (`identifier`, extensions) from the response it parsed itself, so no JSON
/// value is written back here.
fn fhir_context_json(items: &[FhirContextItem]) -> String {
    // Each item written in place, `i` first and by hand so that the `Obj` members
    // after it get their commas (not an object string of each item: 22 B gz).
    let mut out = Obj(String::from("["));
    for item in items {
        if out.0.len() > 1 {
            out.0.push(',');
        }
        out.0.push_str("{\"i\":");
        push_u64(&mut out.0, item.index as u64);
        out.opt_string("reference", &item.reference)
            .opt_string("canonical", &item.canonical)
            .opt_string("type", &item.resource_type)
            .str("role", &item.role)
            .0
            .push('}');
    }
    out.0.push(']');
    out.0
}

/// Writes `event` as a JSON object at the end of `obj`'s text, inside the object `obj`
/// is writing: `type` comes first and by hand, so the `Obj` members after it get their
/// commas (written in place, not as an object string of each event: 19 B gz).
fn push_event(obj: &mut Obj, event: &SessionEvent) {
    obj.0.push_str("{\"type\":");
    push_json_string(&mut obj.0, event.kind());
    match *event {
        SessionEvent::Expiring {
            expires_at_ms,
            seconds_left,
        } => {
            obj.num("expiresAt", expires_at_ms)
                .num("secondsLeft", seconds_left);
        }
        SessionEvent::Refreshed { expires_at_ms } => {
            obj.opt_num("expiresAt", expires_at_ms);
        }
        SessionEvent::RefreshFailed { code } => {
            obj.str("code", code.as_str());
        }
        SessionEvent::Expired => {}
        SessionEvent::Ended { reason } => {
            obj.str("reason", reason.as_str());
        }
    }
    obj.0.push('}');
}

impl Grant {
    /// Carries out a session step here: an `ended` event wipes the tokens. Answers the
    /// step for the JS side: `events` to deliver in order, the `wake` instant for the
    /// next [`Grant::tick`] (`null`: none), and `refresh`: start the automatic refresh.
    fn step_json(&mut self, step: session::Step) -> String {
        // Every step of the session comes here, so an ended session has given its
        // `ended` event in this step or an earlier one; asking it, not scanning the
        // events, saved 20 B gz.
        if self.session.is_ended() {
            self.live = None;
        }
        let mut obj = Obj::new();
        // The events are written into the answer itself, not into an array string
        // first (11 B gz).
        obj.raw("events", "[");
        for (i, event) in step.events.iter().enumerate() {
            if i > 0 {
                obj.0.push(',');
            }
            push_event(&mut obj, event);
        }
        obj.0.push(']');
        // An ended session has no wake (see `Session::next_wake_ms`).
        // One key for both arms, not a member call in each (5 B gz).
        let wake = obj.key("wake");
        match step.next_wake_ms {
            Some(at) => push_u64(wake, at),
            None => wake.push_str("null"),
        }
        obj.bool("refresh", step.start_refresh).end()
    }

    fn live(&self) -> Result<&Live> {
        self.live.as_ref().ok_or_else(session_ended)
    }

    fn snapshot_json(&self) -> String {
        let mut obj = Obj::new();
        obj.str("serverUrl", &self.server_url)
            .str("scope", self.scope());
        if let Some(live) = &self.live {
            let t = &live.tokens;
            let c = &t.context;
            obj.str("accessToken", &t.access_token)
                .str("tokenType", &t.token_type)
                .opt_num("expiresAt", live.expires_at_ms)
                .opt_string("patientId", &c.patient)
                .opt_string("encounterId", &c.encounter)
                .opt_string("smartStyleUrl", &c.smart_style_url)
                .opt_string("intent", &c.intent)
                .opt_string("tenant", &c.tenant)
                .opt_string("idToken", &t.id_token);
            // An `if let`, not an `and_then` closure into `opt_str` (11 B gz).
            if let Some(checked) = &live.id_token {
                obj.opt_string("fhirUser", &checked.fhir_user);
            }
            obj.bool("hasRefreshToken", t.refresh_token.is_some());
            if let Some(banner) = c.need_patient_banner {
                obj.bool("needPatientBanner", banner);
            }
            if let Some(checked) = &live.id_token {
                obj.raw("idTokenClaims", &checked.payload);
            }
        }
        obj.end()
    }

    fn scope(&self) -> &str {
        // `if let`s, not an `and_then` closure and `unwrap_or` (9 B gz).
        if let Some(live) = &self.live {
            if let Some(scope) = &live.tokens.scope {
                return scope;
            }
        }
        &self.requested_scope
    }

    fn accept_launch(
        &mut self,
        status: u16,
        body: &str,
        record: &str,
        requested_at_ms: u64,
        now_ms: u64,
        options: SessionOptions,
    ) -> Result<String> {
        let record = TransactionRecord::from_json(record)?;
        let tokens = token::process_without_warnings(status, body, false)?;
        let id_token = match tokens.id_token.as_deref() {
            Some(jwt) => read_id_token(jwt, &record, record.nonce.as_deref(), now_ms)?,
            None => None,
        };
        let expires_at_ms = token::expires_at_ms(tokens.expires_in, requested_at_ms);
        let context = fhir_context_json(&tokens.context.fhir_context);
        self.server_url = record.fhir_base.clone();
        self.requested_scope = record.requested_scope.clone();
        self.session = Session::new(
            expires_at_ms,
            tokens.refresh_token.is_some(),
            options,
            now_ms,
        );
        self.live = Some(Live {
            record,
            tokens,
            expires_at_ms,
            id_token,
        });
        let step = self.session.tick(now_ms);
        let step = self.step_json(step);
        Ok(Obj::new()
            .raw("client", &self.snapshot_json())
            .raw("fhirContext", &context)
            .raw("step", &step)
            .end())
    }

    /// Processes a refresh answer (spec #60-#62, #64, #70) into the grant.
    fn accept_refresh(&mut self, status: u16, body: &str, now_ms: u64) -> Result<String> {
        let fresh = token::process_without_warnings(status, body, true)?;
        let live = self.live.as_mut().ok_or_else(session_ended)?;
        let claims = match fresh.id_token.as_deref() {
            Some(jwt) => read_id_token(jwt, &live.record, None, now_ms)?,
            None => None,
        };
        // The last check: from here on nothing fails, so the grant may change. One
        // `if let` that checks and then installs the claims (14 B gz less than a check
        // on a tuple of both and a second `if let` after the merge).
        if let Some(mut checked) = claims {
            if let Some(original) = &mut live.id_token {
                id_token::check_refreshed_id_token(&original.claims, &checked.claims)?;
                // The user named at launch stays the user (the claims agree, spec #70).
                checked.fhir_user = original.fhir_user.take();
            }
            live.id_token = Some(checked);
        }
        let context = fhir_context_json(&fresh.context.fhir_context);
        let expires_at_ms = token::expires_at_ms(fresh.expires_in, now_ms);
        token::merge_refreshed_fields(&mut live.tokens, fresh);
        live.expires_at_ms = expires_at_ms;
        let has_refresh = live.tokens.refresh_token.is_some();
        let step = self
            .session
            .refresh_succeeded(expires_at_ms, has_refresh, now_ms);
        let mut obj = Obj::new();
        obj.raw("step", &self.step_json(step));
        // Only when the response brought items, not `[]` (tested on the text: 5 B gz).
        if context.len() > 2 {
            obj.raw("fhirContext", &context);
        }
        Ok(obj.raw("client", &self.snapshot_json()).end())
    }
}

impl Grant {
    /// Takes the code exchange's answer (spec #44-#55, #67, #69): the token response,
    /// its id_token claims and `fhirUser`, the expiry from `expires_in` and the instant
    /// the request was sent (spec #47), and starts the session policy with the app's
    /// `expiringLeadMs` and `autoRefresh`. Answers `client` (the getters' values),
    /// `fhirContext` (the normalised items, each with `i`, its index in the response's
    /// `fhirContext`) and the first `step`.
    #[allow(clippy::too_many_arguments)]
    pub fn launch(
        &mut self,
        status: u16,
        body: &str,
        record: &str,
        requested_at: f64,
        now: f64,
        expiring_lead_ms: f64,
        auto_refresh: bool,
    ) -> String {
        let result = self.accept_launch(
            status,
            body,
            record,
            ms(requested_at),
            ms(now),
            SessionOptions {
                auto_refresh,
                expiring_lead_ms: ms(expiring_lead_ms),
            },
        );
        answer(result)
    }

    /// The getters' values: `accessToken`, `tokenType`, `scope`, `expiresAt`,
    /// `serverUrl`, `patientId`, `encounterId`, `needPatientBanner`, `smartStyleUrl`,
    /// `intent`, `tenant`, `idToken`, `idTokenClaims`, `fhirUser`, `hasRefreshToken`.
    /// After the end: only `serverUrl` and the requested `scope`.
    pub fn snapshot(&self) -> String {
        self.snapshot_json()
    }

    /// Re-checks the clock (timer, `visibilitychange`, `focus`, before a request:
    /// spec #66); answers the step.
    pub fn tick(&mut self, now: f64) -> String {
        let step = self.session.tick(ms(now));
        self.step_json(step)
    }

    /// "I want a fresh token": answers `"start"` (send the one refresh, then report
    /// it), `"join"` (one is in flight: wait for it, spec #63), or the error
    /// (`no_refresh_token`, `session_ended`).
    pub fn begin_refresh(&mut self) -> String {
        answer(self.ticket())
    }

    fn ticket(&mut self) -> Result<String> {
        match self.session.begin_refresh() {
            RefreshTicket::Start => Ok(json_str("start")),
            RefreshTicket::Join => Ok(json_str("join")),
            refused => Err(Error::new(
                refused.error_code().unwrap_or(ErrorCode::SessionEnded),
            )),
        }
    }

    /// The refresh request to send after `"start"` (spec #60, #61): `url` and `body`.
    /// A `scope` wider than the grant is `scope_not_granted` (report it with
    /// [`Grant::refresh_failed`] like any failure).
    pub fn refresh_request(&self, scope: Option<String>) -> String {
        answer(self.refresh_request_json(scope.as_deref()))
    }

    fn refresh_request_json(&self, scope: Option<&str>) -> Result<String> {
        let live = self.live()?;
        let t = &live.tokens;
        let refresh_token = t
            .refresh_token
            .as_deref()
            .ok_or_else(|| Error::new(ErrorCode::NoRefreshToken))?;
        // Nested `if let`s, not one on a tuple of both (9 B gz).
        if let Some(asked) = scope {
            if let Some(granted) = &t.scope {
                scopes::check_refresh_scope(asked, granted)?;
            }
        }
        let body = token::refresh_body(refresh_token, &live.record.client_id, scope);
        Ok(Obj::new()
            .str("url", &live.record.token_endpoint)
            .str("body", &body)
            .end())
    }

    /// The refresh answer: on success the new tokens replace the old at once (a
    /// rotated refresh token too: spec #62) and the answer is `client`, `step` and,
    /// when the response brought new launch context, `fhirContext`. On failure the
    /// error; the JS side then reports it with [`Grant::refresh_failed`].
    pub fn refresh_response(&mut self, status: u16, body: &str, now: f64) -> String {
        let result = self.accept_refresh(status, body, ms(now));
        answer(result)
    }

    /// The refresh in flight failed with `code` (spec #65: a terminal failure ends the
    /// session); answers the step.
    pub fn refresh_failed(&mut self, code: &str, now: f64) -> String {
        let code = *ErrorCode::ALL
            .iter()
            .find(|c| c.as_str() == code)
            .unwrap_or(&ErrorCode::NetworkError);
        let terminal = session::is_terminal_refresh_error(code);
        let step = self.session.refresh_failed(code, terminal, ms(now));
        self.step_json(step)
    }

    /// Whether a FHIR request should get a fresh token first (see
    /// [`Session::needs_refresh_before_request`]).
    pub fn needs_refresh(&self, now: f64) -> bool {
        self.live.is_some() && self.session.needs_refresh_before_request(ms(now))
    }

    /// Where a FHIR request goes (spec #56, #57): `url`, resolved against `serverUrl`,
    /// and `bearer`, the access token, only when the URL lies under `serverUrl`.
    pub fn fhir_request(&self, path_or_url: &str) -> String {
        answer(self.fhir_target(path_or_url))
    }

    fn fhir_target(&self, path_or_url: &str) -> Result<String> {
        let live = self.live()?;
        let server = &live.record.fhir_base;
        // Copied and pushed to, not `text::concat` of a two-item slice (17 B gz).
        let mut base = String::from(url::strip_trailing_slash(server));
        base.push('/');
        let target = url::resolve_url(path_or_url, &base).ok_or_else(|| invalid("pathOrUrl"))?;
        let bearer = url::is_under(&target, server).then_some(live.tokens.access_token.as_str());
        Ok(Obj::new()
            .str("url", &target)
            .opt_str("bearer", bearer)
            .end())
    }

    /// What a FHIR answer means (spec #58): `"done"` for 2xx; `"retry"` for a 401 on a
    /// request that carried the token, not yet retried, and not for lack of scope, when
    /// a refresh token is held (refresh once, then send again); otherwise the error:
    /// `invalid_token` (401), `insufficient_scope` (403), `fhir_request_failed`, with
    /// the status and the OperationOutcome text.
    pub fn fhir_answer(
        &self,
        status: u16,
        www_authenticate: Option<String>,
        body: &str,
        with_token: bool,
        retried: bool,
    ) -> String {
        answer(self.fhir_outcome(
            status,
            www_authenticate.as_deref().unwrap_or(""),
            body,
            with_token,
            retried,
        ))
    }

    fn fhir_outcome(
        &self,
        status: u16,
        // No header is an empty one, which names no error: read as `str` from the
        // arguments, not as an `Option` and through `and_then` (13 B gz).
        www_authenticate: &str,
        body: &str,
        with_token: bool,
        retried: bool,
    ) -> Result<String> {
        let bearer_error = fhir::bearer_error(www_authenticate);
        let can_refresh = self
            .live
            .as_ref()
            .is_some_and(|l| l.tokens.refresh_token.is_some());
        let code = match status {
            200..=299 => return Ok(json_str("done")),
            401 if with_token
                && !retried
                && can_refresh
                && bearer_error != Some("insufficient_scope") =>
            {
                return Ok(json_str("retry"))
            }
            401 => ErrorCode::InvalidToken,
            // No refresh helps a scope problem.
            403 => ErrorCode::InsufficientScope,
            _ => ErrorCode::FhirRequestFailed,
        };
        let mut error = Error::new(code).status(status);
        if let Some(text) = fhir::operation_outcome_text(body) {
            error = error.description(&text);
        }
        Err(error)
    }

    /// The revocation request of logout (spec #80), `null` when the server offers no
    /// revocation or no refresh token is held: `url` and `body`.
    pub fn revocation(&self) -> String {
        answer(Ok(self.revocation_json()))
    }

    fn revocation_json(&self) -> String {
        // Plain `if let`s: an `Option` chain with `?` in an `and_then` closure and an
        // `unwrap_or_else` was 34 B gz more.
        if let Some(live) = &self.live {
            if let (Some(endpoint), Some(refresh_token)) =
                (&live.record.revocation_endpoint, &live.tokens.refresh_token)
            {
                let body = token::revocation_body(refresh_token, &live.record.client_id);
                return Obj::new().str("url", endpoint).str("body", &body).end();
            }
        }
        String::from("null")
    }

    /// Ends the session by logout (spec #80): the tokens are wiped, `ended` fires once.
    pub fn logout(&mut self) -> String {
        let step = self.session.end(EndReason::Logout);
        self.step_json(step)
    }
}
