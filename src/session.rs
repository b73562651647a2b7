//! The in-memory token session: expiry schedule, refresh policy, single-flight refresh
//! and lifecycle events (`smart-spec.md` section 4, checklist #47, #48, #58, #59, #62,
//! #63, #65, #66, #80).
//!
//! Like [`crate::protocol`], this module is pure and deterministic: it reads no clock,
//! sets no timer, does no I/O and touches no browser API. It is a small state machine
//! driven by calls, each given "now" (`now_ms`, epoch milliseconds from the caller's
//! clock). It holds no token either: only *facts* about the current token (its expiry,
//! whether a refresh token is held). The browser layer owns the tokens and the effects:
//!
//! - it calls [`Session::tick`] from a timer set at [`Step::next_wake_ms`], on
//!   `visibilitychange`/`focus` (background tabs throttle timers), and before each FHIR
//!   request; ticking at any extra time is harmless, it gives the same events;
//! - it delivers every [`SessionEvent`] of a [`Step`], in order, to the JS listeners
//!   (`TokenEvent`);
//! - when a step says [`Step::start_refresh`], or [`Session::begin_refresh`] answers
//!   [`RefreshTicket::Start`], it sends exactly one refresh request and reports the result
//!   with [`Session::refresh_succeeded`] or [`Session::refresh_failed`].
//!
//! # Policies
//!
//! - **Expiry** is an instant the caller computed from `expires_in` against its clock at
//!   request time; the access token is never parsed (spec #47). `None` means unknown
//!   (no `expires_in`, spec #48): no `expiring`/`expired` event and no scheduled refresh;
//!   the 401 path (spec #58) renews such a token. An app that wants a default lifetime
//!   passes `Some(now + default)` instead.
//! - **Expiring point** = expiry − lead. The lead is [`SessionOptions::expiring_lead_ms`]
//!   (60 s by default) unless the token's lifetime (expiry − the `now` it was received)
//!   is shorter than twice the lead: then the lead is half the lifetime, so `expiring`
//!   does not fire the moment a short-lived token arrives.
//! - **Once per token** (spec #66): `expiring` and `expired` each fire at most once per
//!   token generation, `expiring` strictly before `expired`. If the first tick that
//!   reaches the expiring point is already at or past expiry (a sleeping laptop, a
//!   throttled tab), only `expired` fires; `expiring` never fires after `expired` for
//!   the same token. A new token (refresh) starts a new generation and cancels whatever
//!   the old one had pending; [`Session::end`] cancels everything.
//! - **Expired with no way to renew**: when expiry passes and no refresh token is held,
//!   `expired` is followed by `ended` (reason [`EndReason::Expired`]): the app must
//!   relaunch (spec #59, section 4).
//! - **Automatic refresh** (when [`SessionOptions::auto_refresh`], the default, and a
//!   refresh token is held, spec #59): one refresh starts at the first tick at or after
//!   the expiring point, nothing else being in flight. That is also true after a sleep
//!   across expiry: `expired` fires, then the refresh starts. A token that arrives
//!   already expired is never refreshed automatically, and an automatic refresh never
//!   starts less than [`MIN_AUTO_REFRESH_GAP_MS`] after its token arrived: a server
//!   that hands out zero or tiny lifetimes cannot drive a refresh loop.
//! - **Single flight** (spec #63): at most one refresh is in flight. Callers that ask
//!   while one is in flight get [`RefreshTicket::Join`] and wait for its result, so N
//!   concurrent callers produce one token request and a refresh token is never sent
//!   twice.
//! - **Rotation** (spec #62): a refresh response with a new refresh token replaces the
//!   old one; a response without one keeps the old one. The session only records that
//!   a refresh token is held; the browser layer swaps the string at once.
//! - **Failures** (spec #65): the caller says whether a failure ends the session
//!   ([`is_terminal_refresh_error`] is the default classification). A terminal failure
//!   (`invalid_grant`, ...) emits `refreshFailed` then `ended` (reason
//!   [`EndReason::RefreshRejected`]) and no refresh is ever started again. A transient
//!   failure (network, timeout, 5xx) emits `refreshFailed` only and keeps the session;
//!   it gets **at most one automatic retry per token**, at half the time remaining
//!   until expiry (but at least [`MIN_AUTO_REFRESH_GAP_MS`] later), and only if that
//!   instant is before expiry; a retry that comes due after expiry (a sleep) is
//!   dropped. A failure before the expiring point does not consume the retry: the
//!   regular automatic attempt still comes. Beyond that, only the app renews: an
//!   explicit `refresh()`, or a FHIR request that finds the token expired
//!   ([`Session::needs_refresh_before_request`]).
//! - **End** (spec #80): [`Session::end`] emits `ended` once; later calls, ticks and
//!   refresh results do nothing. A refresh result that arrives after the end is dropped
//!   and the caller must discard its tokens (check [`Session::is_ended`]).

use core::fmt;

use crate::protocol::ErrorCode;

/// The default lead of the `expiring` event: 60 s before expiry (`expiringLeadSeconds`).
pub const DEFAULT_EXPIRING_LEAD_MS: u64 = 60_000;

/// An automatic refresh (first attempt or retry) never starts sooner than this after
/// its token arrived or after the failure it retries: a floor against refresh loops.
pub const MIN_AUTO_REFRESH_GAP_MS: u64 = 1_000;

/// The app's choices (`ReadyOptions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    /// Refresh automatically at the expiring point (`autoRefresh`, default true).
    pub auto_refresh: bool,
    /// How long before expiry `expiring` fires (`expiringLeadSeconds` × 1000, default
    /// 60 000); shortened to half the lifetime for short-lived tokens.
    pub expiring_lead_ms: u64,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            auto_refresh: true,
            expiring_lead_ms: DEFAULT_EXPIRING_LEAD_MS,
        }
    }
}

/// Why a session ended. The string of each ([`EndReason::as_str`]) is the stable
/// `reason` of the JS `ended` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// The app logged out (spec #80).
    Logout,
    /// The token endpoint refused the refresh (`invalid_grant` or another terminal
    /// failure, spec #65).
    RefreshRejected,
    /// The access token expired and nothing can renew it (no refresh token, spec #59).
    Expired,
    /// The FHIR server refused the token (401 `invalid_token`) and it could not be
    /// renewed (spec #58). Set by the caller through [`Session::end`].
    TokenRejected,
}

impl EndReason {
    /// The stable snake_case string.
    pub const fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::RefreshRejected => "refresh_rejected",
            EndReason::Expired => "expired",
            EndReason::TokenRejected => "token_rejected",
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the app is told; mirrors the JS `TokenEvent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// The access token expires soon: at `expires_at_ms`, `seconds_left` (rounded up)
    /// from now. Fires once per token, at expiry − lead (spec #66).
    Expiring {
        expires_at_ms: u64,
        seconds_left: u64,
    },
    /// A refresh gave a new access token (a new generation).
    Refreshed { expires_at_ms: Option<u64> },
    /// A refresh failed. The caller attaches the full error (status, OAuth error) that
    /// it holds; the session keeps only the code.
    RefreshFailed { code: ErrorCode },
    /// The access token has expired. Fires once per token (spec #66).
    Expired,
    /// The session is over; the caller wipes its tokens. Fires once.
    Ended { reason: EndReason },
}

impl SessionEvent {
    /// The JS `TokenEvent.type` of this event.
    pub const fn kind(&self) -> &'static str {
        match self {
            SessionEvent::Expiring { .. } => "expiring",
            SessionEvent::Refreshed { .. } => "refreshed",
            SessionEvent::RefreshFailed { .. } => "refreshFailed",
            SessionEvent::Expired => "expired",
            SessionEvent::Ended { .. } => "ended",
        }
    }
}

/// What the caller must do after a call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Step {
    /// Events to deliver to the listeners, in this order.
    pub events: Vec<SessionEvent>,
    /// Send one refresh request now. The session already counts it as in flight:
    /// report its result with [`Session::refresh_succeeded`] or
    /// [`Session::refresh_failed`]; meanwhile other callers get
    /// [`RefreshTicket::Join`].
    pub start_refresh: bool,
    /// When to call [`Session::tick`] next (epoch ms); `None`: no timer is needed.
    /// A value at or before now means "tick at once".
    pub next_wake_ms: Option<u64>,
}

/// The answer to "I want a fresh token" ([`Session::begin_refresh`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshTicket {
    /// You send the one refresh request, then report its result.
    Start,
    /// A refresh is already in flight: wait for its result, send nothing (spec #63).
    Join,
    /// No refresh token is held; nothing is sent (`no_refresh_token`, spec #59).
    Unavailable,
    /// The session has ended; relaunch (`session_ended`).
    Ended,
}

impl RefreshTicket {
    /// The error to report to the caller who asked, if this ticket refuses.
    pub const fn error_code(self) -> Option<ErrorCode> {
        match self {
            RefreshTicket::Start | RefreshTicket::Join => None,
            RefreshTicket::Unavailable => Some(ErrorCode::NoRefreshToken),
            RefreshTicket::Ended => Some(ErrorCode::SessionEnded),
        }
    }
}

/// The default answer to "does this refresh failure end the session?" (spec #65).
///
/// Transient, so not terminal: no HTTP answer (`network_error`, `timeout`), a 5xx
/// without an OAuth error (`token_server_error`), and errors raised before anything was
/// sent (`scope_not_granted`, `invalid_options`). Every other code is terminal: an OAuth
/// error will not change on a retry, and a 200 whose body could not be used may carry a
/// rotated refresh token we never saw, so the old one must not be sent again (spec #63).
///
/// Retrying after no answer is rotation-safe in effect: if the lost request did rotate
/// the token, the server refuses the old one (`invalid_grant`), which then ends the
/// session, the outcome we would have had anyway.
pub const fn is_terminal_refresh_error(code: ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::NetworkError
            | ErrorCode::Timeout
            | ErrorCode::TokenServerError
            | ErrorCode::ScopeNotGranted
            | ErrorCode::InvalidOptions
    )
}

/// A pending automatic refresh start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AutoStart {
    at_ms: u64,
    /// A retry after a transient failure: dropped once the token has expired.
    retry: bool,
}

/// The session state machine. See the module doc for the policies.
#[derive(Clone, Debug)]
pub struct Session {
    options: SessionOptions,
    /// 1 for the first token, +1 for each new access token.
    generation: u64,
    expires_at_ms: Option<u64>,
    /// expiry − effective lead; `Some` exactly when the expiry is known.
    expiring_at_ms: Option<u64>,
    has_refresh_token: bool,
    expiring_fired: bool,
    expired_fired: bool,
    /// A transient failure happened for this token.
    failed: bool,
    /// This token's one automatic retry has been scheduled.
    retry_used: bool,
    pending_auto: Option<AutoStart>,
    in_flight: bool,
    ended: Option<EndReason>,
}

impl Session {
    /// A session for the token just received at `now_ms` (the code exchange).
    /// Call [`Session::tick`] right after to get the first wake time.
    pub fn new(
        expires_at_ms: Option<u64>,
        has_refresh_token: bool,
        options: SessionOptions,
        now_ms: u64,
    ) -> Session {
        let mut session = Session {
            options,
            generation: 0,
            expires_at_ms: None,
            expiring_at_ms: None,
            has_refresh_token,
            expiring_fired: false,
            expired_fired: false,
            failed: false,
            retry_used: false,
            pending_auto: None,
            in_flight: false,
            ended: None,
        };
        session.new_generation(expires_at_ms, now_ms);
        session
    }

    /// Re-checks the clock: emits `expiring`/`expired` if their time has come, and may
    /// start the automatic refresh. Idempotent at any time (timer, visibility, focus,
    /// before a request).
    pub fn tick(&mut self, now_ms: u64) -> Step {
        let mut events = Vec::new();
        let start_refresh = self.evaluate(now_ms, &mut events);
        self.step(events, start_refresh)
    }

    /// A caller (the app's `refresh()`, a request that found the token expired, a 401
    /// `invalid_token`) wants a new token. Exactly one of N concurrent callers gets
    /// [`RefreshTicket::Start`] (spec #63). Not limited by the automatic policy: an
    /// explicit refresh is allowed at any time while a refresh token is held.
    pub fn begin_refresh(&mut self, now_ms: u64) -> RefreshTicket {
        if self.ended.is_some() {
            return RefreshTicket::Ended;
        }
        if self.in_flight {
            return RefreshTicket::Join;
        }
        if !self.has_refresh_token {
            return RefreshTicket::Unavailable;
        }
        // A start at or after the automatic point stands for the automatic attempt.
        if self.pending_auto.is_some_and(|a| a.at_ms <= now_ms) {
            self.pending_auto = None;
        }
        self.in_flight = true;
        RefreshTicket::Start
    }

    /// The refresh (or any token replacement) succeeded at `now_ms` with a new access
    /// token expiring at `expires_at_ms`. `new_refresh_token`: the response carried a
    /// refresh token, which replaces the old one; without one the old is kept (spec
    /// #62). Starts a new generation: `expiring`/`expired` can fire again for it, and
    /// the old token's pending events are cancelled (spec #66). After the session ended
    /// this does nothing, and the caller must discard the tokens it received.
    pub fn refresh_succeeded(
        &mut self,
        expires_at_ms: Option<u64>,
        new_refresh_token: bool,
        now_ms: u64,
    ) -> Step {
        if self.ended.is_some() {
            return Step::default();
        }
        self.in_flight = false;
        self.has_refresh_token |= new_refresh_token;
        self.new_generation(expires_at_ms, now_ms);
        let mut events = vec![SessionEvent::Refreshed { expires_at_ms }];
        let start_refresh = self.evaluate(now_ms, &mut events);
        self.step(events, start_refresh)
    }

    /// The refresh in flight failed with `code`. `ends_session` (see
    /// [`is_terminal_refresh_error`]): the session ends and no refresh is ever started
    /// again (spec #65). Otherwise the failure is transient: see the module doc for the
    /// single automatic retry.
    pub fn refresh_failed(&mut self, code: ErrorCode, ends_session: bool, now_ms: u64) -> Step {
        if self.ended.is_some() {
            return Step::default();
        }
        self.in_flight = false;
        let mut events = vec![SessionEvent::RefreshFailed { code }];
        if ends_session {
            self.finish(EndReason::RefreshRejected, &mut events);
            return self.step(events, false);
        }
        self.failed = true;
        // A failure at or after the automatic point counts as the automatic attempt.
        if self.pending_auto.is_some_and(|a| a.at_ms <= now_ms) {
            self.pending_auto = None;
        }
        if self.pending_auto.is_none()
            && !self.retry_used
            && self.options.auto_refresh
            && self.has_refresh_token
        {
            if let Some(exp) = self.expires_at_ms.filter(|&exp| now_ms < exp) {
                let half = now_ms + (exp - now_ms) / 2;
                let at_ms = half.max(now_ms.saturating_add(MIN_AUTO_REFRESH_GAP_MS));
                if at_ms < exp {
                    self.pending_auto = Some(AutoStart { at_ms, retry: true });
                    self.retry_used = true;
                }
            }
        }
        let start_refresh = self.evaluate(now_ms, &mut events);
        self.step(events, start_refresh)
    }

    /// Ends the session (logout, spec #80; or a token the server refused). Emits `ended`
    /// once; later calls return an empty step. Cancels every future event and refresh.
    pub fn end(&mut self, reason: EndReason) -> Step {
        if self.ended.is_some() {
            return Step::default();
        }
        let mut events = Vec::new();
        self.finish(reason, &mut events);
        self.step(events, false)
    }

    /// Whether the current access token's known expiry has passed. An unknown expiry is
    /// never expired (spec #48).
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_some_and(|exp| now_ms >= exp)
    }

    /// Whether a FHIR request should first get a fresh token through
    /// [`Session::begin_refresh`] (which then answers `Start` or `Join`): a refresh
    /// token is held and the session is live, and either a refresh is in flight, or
    /// the token has expired, or (with `auto_refresh`, and no failed refresh for this
    /// token yet) the expiring point has passed. Otherwise the request uses the token
    /// it has (a 401 then leads to one refresh, spec #58).
    pub fn needs_refresh_before_request(&self, now_ms: u64) -> bool {
        if self.ended.is_some() || !self.has_refresh_token {
            return false;
        }
        if self.in_flight || self.is_expired(now_ms) {
            return true;
        }
        self.options.auto_refresh
            && !self.failed
            && self.expiring_at_ms.is_some_and(|at| now_ms >= at)
    }

    /// When [`Session::tick`] should next be called; `None`: never (unknown expiry,
    /// everything fired, or ended).
    pub fn next_wake_ms(&self) -> Option<u64> {
        if self.ended.is_some() {
            return None;
        }
        let mut wake: Option<u64> = None;
        let mut consider = |t: u64| wake = Some(wake.map_or(t, |w| w.min(t)));
        if !self.expired_fired {
            if let (Some(exp), Some(at)) = (self.expires_at_ms, self.expiring_at_ms) {
                if !self.expiring_fired {
                    consider(at);
                }
                consider(exp);
            }
        }
        if !self.in_flight && self.has_refresh_token && self.options.auto_refresh {
            if let Some(auto) = self.pending_auto {
                consider(auto.at_ms);
            }
        }
        wake
    }

    /// The current token generation: 1 for the first token, +1 per new access token.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The current token's expiry, if known.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.expires_at_ms
    }

    /// When `expiring` fires for the current token (expiry − effective lead).
    pub fn expiring_at_ms(&self) -> Option<u64> {
        self.expiring_at_ms
    }

    pub fn has_refresh_token(&self) -> bool {
        self.has_refresh_token
    }

    /// A refresh is in flight.
    pub fn is_refreshing(&self) -> bool {
        self.in_flight
    }

    pub fn is_ended(&self) -> bool {
        self.ended.is_some()
    }

    pub fn end_reason(&self) -> Option<EndReason> {
        self.ended
    }

    pub fn options(&self) -> SessionOptions {
        self.options
    }

    // --- internals ---

    fn new_generation(&mut self, expires_at_ms: Option<u64>, now_ms: u64) {
        self.generation += 1;
        self.expires_at_ms = expires_at_ms;
        self.expiring_at_ms = expires_at_ms.map(|exp| {
            let lifetime = exp.saturating_sub(now_ms);
            let lead = if lifetime < self.options.expiring_lead_ms.saturating_mul(2) {
                lifetime / 2
            } else {
                self.options.expiring_lead_ms
            };
            exp - lead
        });
        self.expiring_fired = false;
        self.expired_fired = false;
        self.failed = false;
        self.retry_used = false;
        self.pending_auto = None;
        if let (Some(exp), Some(at)) = (self.expires_at_ms, self.expiring_at_ms) {
            // A token that arrives already expired is not refreshed automatically.
            if self.options.auto_refresh && self.has_refresh_token && now_ms < exp {
                let at_ms = at.max(now_ms.saturating_add(MIN_AUTO_REFRESH_GAP_MS));
                self.pending_auto = Some(AutoStart {
                    at_ms,
                    retry: false,
                });
            }
        }
    }

    /// The clock rules at `now_ms`; returns whether an automatic refresh starts.
    fn evaluate(&mut self, now_ms: u64, events: &mut Vec<SessionEvent>) -> bool {
        if self.ended.is_some() {
            return false;
        }
        if let (Some(exp), Some(at)) = (self.expires_at_ms, self.expiring_at_ms) {
            if now_ms >= exp {
                if !self.expired_fired {
                    self.expired_fired = true;
                    // Never `expiring` after `expired` for the same token.
                    self.expiring_fired = true;
                    events.push(SessionEvent::Expired);
                }
                if !self.has_refresh_token {
                    self.finish(EndReason::Expired, events);
                    return false;
                }
            } else if now_ms >= at && !self.expiring_fired {
                self.expiring_fired = true;
                events.push(SessionEvent::Expiring {
                    expires_at_ms: exp,
                    seconds_left: (exp - now_ms).div_ceil(1000),
                });
            }
        }
        let Some(auto) = self.pending_auto else {
            return false;
        };
        if auto.retry && self.is_expired(now_ms) {
            // A retry never starts after expiry.
            self.pending_auto = None;
            return false;
        }
        if now_ms >= auto.at_ms
            && !self.in_flight
            && self.has_refresh_token
            && self.options.auto_refresh
        {
            self.pending_auto = None;
            self.in_flight = true;
            return true;
        }
        false
    }

    fn finish(&mut self, reason: EndReason, events: &mut Vec<SessionEvent>) {
        self.ended = Some(reason);
        self.in_flight = false;
        self.pending_auto = None;
        events.push(SessionEvent::Ended { reason });
    }

    fn step(&self, events: Vec<SessionEvent>, start_refresh: bool) -> Step {
        Step {
            events,
            start_refresh,
            next_wake_ms: self.next_wake_ms(),
        }
    }
}
