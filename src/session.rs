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
//!   regular automatic attempt still comes; a failure at or after it counts as that
//!   attempt (no second request right behind it). Beyond that, only the app renews: an
//!   explicit `refresh()`, or a FHIR request that finds the token expired
//!   ([`Session::needs_refresh_before_request`]).
//! - **End** (spec #80): [`Session::end`] emits `ended` once; later calls, ticks and
//!   refresh results do nothing. A refresh result that arrives after the end is dropped
//!   and the caller must discard its tokens (check [`Session::is_ended`]).

use crate::prelude::*;
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
    /// The known expiry and its expiring point (expiry − effective lead), in one
    /// `Option`: they are known together (two were 17 B gz of wasm more).
    expiry: Option<(u64, u64)>,
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
            expiry: None,
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
    pub fn begin_refresh(&mut self) -> RefreshTicket {
        if self.ended.is_some() {
            return RefreshTicket::Ended;
        }
        if self.in_flight {
            return RefreshTicket::Join;
        }
        if !self.has_refresh_token {
            return RefreshTicket::Unavailable;
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
        // A failure at or after the automatic point counts as the automatic attempt;
        // with none pending, then, a retry may be scheduled (one test of
        // `pending_auto` for both: 10 B gz).
        if self.pending_auto.is_none_or(|a| a.at_ms <= now_ms) {
            self.pending_auto = None;
            if !self.retry_used && self.options.auto_refresh && self.has_refresh_token {
                if let Some(exp) = self.expires_at_ms().filter(|&exp| now_ms < exp) {
                    let half = now_ms + (exp - now_ms) / 2;
                    let at_ms = half.max(now_ms.saturating_add(MIN_AUTO_REFRESH_GAP_MS));
                    if at_ms < exp {
                        self.pending_auto = Some(AutoStart { at_ms, retry: true });
                        self.retry_used = true;
                    }
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
        self.expiry.is_some_and(|(exp, _)| now_ms >= exp)
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
        // The expiry read once, not through `is_expired` and an `is_some_and` (10 B gz).
        let Some((exp, at)) = self.expiry else {
            return self.in_flight;
        };
        self.in_flight
            || now_ms >= exp
            || (self.options.auto_refresh && !self.failed && now_ms >= at)
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
            if let Some((exp, at)) = self.expiry {
                if !self.expiring_fired {
                    consider(at);
                }
                consider(exp);
            }
        }
        if !self.in_flight {
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
        self.expiry.map(|(exp, _)| exp)
    }

    /// When `expiring` fires for the current token (expiry − effective lead).
    pub fn expiring_at_ms(&self) -> Option<u64> {
        self.expiry.map(|(_, at)| at)
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
        self.expiry = None;
        self.expiring_fired = false;
        self.expired_fired = false;
        self.failed = false;
        self.retry_used = false;
        self.pending_auto = None;
        // One `if let`, not a `map` closure and a second `if let` (4 B gz).
        if let Some(exp) = expires_at_ms {
            let lifetime = exp.saturating_sub(now_ms);
            let lead = if lifetime < self.options.expiring_lead_ms.saturating_mul(2) {
                lifetime / 2
            } else {
                self.options.expiring_lead_ms
            };
            let at = exp - lead;
            self.expiry = Some((exp, at));
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
        // Asked once for both uses below (10 B gz).
        let expired = self.is_expired(now_ms);
        if let Some((exp, at)) = self.expiry {
            if expired {
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
        if auto.retry && expired {
            // A retry never starts after expiry.
            self.pending_auto = None;
            return false;
        }
        // `pending_auto` is only ever set with `auto_refresh` and a refresh token.
        if now_ms >= auto.at_ms && !self.in_flight {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: u64 = 60_000;
    /// A fixed "now" for the start of each test (a plausible epoch-ms value).
    const T0: u64 = 1_700_000_000_000;

    fn session(lifetime_ms: Option<u64>, refresh: bool, opts: SessionOptions) -> Session {
        Session::new(lifetime_ms.map(|l| T0 + l), refresh, opts, T0)
    }

    fn auto() -> SessionOptions {
        SessionOptions::default()
    }

    fn manual() -> SessionOptions {
        SessionOptions {
            auto_refresh: false,
            ..SessionOptions::default()
        }
    }

    /// Ticks from `from` to `to` (inclusive) every `every` ms, collecting (time, event)
    /// and the times at which a refresh was started.
    fn run(
        s: &mut Session,
        from: u64,
        to: u64,
        every: u64,
    ) -> (Vec<(u64, SessionEvent)>, Vec<u64>) {
        let mut events = Vec::new();
        let mut starts = Vec::new();
        let mut t = from;
        while t <= to {
            let step = s.tick(t);
            events.extend(step.events.into_iter().map(|e| (t, e)));
            if step.start_refresh {
                starts.push(t);
            }
            t += every;
        }
        (events, starts)
    }

    fn kinds(events: &[(u64, SessionEvent)]) -> Vec<&'static str> {
        events.iter().map(|(_, e)| e.kind()).collect()
    }

    #[test]
    fn expiring_fires_once_at_expiry_minus_lead() {
        // spec #66: once, at expiry minus skew (60 s by default), across repeated ticks.
        let mut s = session(Some(60 * MIN), false, manual());
        let (events, _) = run(&mut s, T0, T0 + 59 * MIN + 59_000, 1_000);
        assert_eq!(
            events,
            vec![(
                T0 + 59 * MIN,
                SessionEvent::Expiring {
                    expires_at_ms: T0 + 60 * MIN,
                    seconds_left: 60
                }
            )]
        );
    }

    #[test]
    fn expiring_not_one_ms_early() {
        // spec #66: the expiring point is exact.
        let mut s = session(Some(60 * MIN), true, auto());
        let step = s.tick(T0 + 59 * MIN - 1);
        assert!(step.events.is_empty());
        assert!(!step.start_refresh);
        assert_eq!(step.next_wake_ms, Some(T0 + 59 * MIN));
    }

    #[test]
    fn expired_fires_once_at_expiry_after_expiring() {
        // spec #66: expired fires once, at expiry, and after expiring; repeated ticks
        // afterwards emit nothing more.
        let mut s = session(Some(10 * MIN), true, manual());
        let (events, starts) = run(&mut s, T0, T0 + 30 * MIN, 500);
        assert_eq!(kinds(&events), ["expiring", "expired"]);
        assert_eq!(events[0].0, T0 + 9 * MIN);
        assert_eq!(events[1], (T0 + 10 * MIN, SessionEvent::Expired));
        assert!(starts.is_empty());
    }

    #[test]
    fn short_lifetime_uses_half_lifetime_lead() {
        // spec #47, #66: a 60 s token (shorter than twice the 60 s lead) gets a 30 s lead,
        // so expiring does not fire at once.
        let mut s = session(Some(MIN), false, manual());
        assert_eq!(s.expiring_at_ms(), Some(T0 + 30_000));
        assert!(s.tick(T0).events.is_empty());
        assert!(s.tick(T0 + 29_999).events.is_empty());
        assert_eq!(
            s.tick(T0 + 30_000).events,
            [SessionEvent::Expiring {
                expires_at_ms: T0 + MIN,
                seconds_left: 30
            }]
        );
    }

    #[test]
    fn lead_is_kept_when_lifetime_is_exactly_twice_the_lead() {
        // spec #66: the boundary: 120 s lifetime, 60 s lead.
        let s = session(Some(2 * MIN), false, manual());
        assert_eq!(s.expiring_at_ms(), Some(T0 + MIN));
        let custom = SessionOptions {
            auto_refresh: true,
            expiring_lead_ms: 5_000,
        };
        let s = session(Some(2 * MIN), false, custom);
        assert_eq!(s.expiring_at_ms(), Some(T0 + 2 * MIN - 5_000));
    }

    #[test]
    fn seconds_left_rounds_up() {
        // spec #66: a late timer still reports whole seconds, rounded up.
        let mut s = session(Some(60 * MIN), false, manual());
        let step = s.tick(T0 + 59 * MIN + 1_500);
        assert_eq!(
            step.events,
            [SessionEvent::Expiring {
                expires_at_ms: T0 + 60 * MIN,
                seconds_left: 59
            }]
        );
    }

    #[test]
    fn sleep_across_expiry_emits_only_expired_then_refreshes() {
        // spec #66: the first tick after a sleep past expiry emits only `expired`, never
        // `expiring` afterwards, then the automatic refresh starts (spec #63: once).
        let mut s = session(Some(60 * MIN), true, auto());
        assert!(s.tick(T0 + MIN).events.is_empty());
        let step = s.tick(T0 + 5 * 60 * MIN);
        assert_eq!(step.events, [SessionEvent::Expired]);
        assert!(step.start_refresh);
        let (later, starts) = run(&mut s, T0 + 5 * 60 * MIN, T0 + 6 * 60 * MIN, 10_000);
        assert!(later.is_empty());
        assert!(starts.is_empty());
    }

    #[test]
    fn sleep_across_expiry_without_refresh_token_ends_session() {
        // spec #59, section 4: no refresh token, token expired: `expired`, then `ended`
        // (reason "expired") so the app relaunches; no refresh is started.
        let mut s = session(Some(60 * MIN), false, auto());
        let step = s.tick(T0 + 2 * 60 * MIN);
        assert_eq!(
            step.events,
            [
                SessionEvent::Expired,
                SessionEvent::Ended {
                    reason: EndReason::Expired
                }
            ]
        );
        assert!(!step.start_refresh);
        assert_eq!(step.next_wake_ms, None);
        assert!(s.tick(T0 + 3 * 60 * MIN).events.is_empty());
        assert_eq!(s.begin_refresh(), RefreshTicket::Ended);
    }

    #[test]
    fn next_wake_walks_the_schedule() {
        // spec #66: a timer at next_wake sees each point; nothing is left after expiry.
        let mut s = session(Some(60 * MIN), false, manual());
        let mut wakes = vec![];
        let mut step = s.tick(T0);
        while let Some(w) = step.next_wake_ms {
            wakes.push(w);
            assert!(wakes.len() <= 3, "the timer must advance: {wakes:?}");
            step = s.tick(w);
        }
        assert_eq!(wakes, [T0 + 59 * MIN, T0 + 60 * MIN]);
        assert!(s.is_ended());
    }

    #[test]
    fn clock_going_backwards_does_not_refire() {
        // spec #66: at most once per token even if the wall clock is set back.
        let mut s = session(Some(60 * MIN), true, manual());
        assert_eq!(kinds_of(&s.tick(T0 + 59 * MIN + 1)), ["expiring"]);
        assert!(s.tick(T0).events.is_empty());
        assert!(s.tick(T0 + 59 * MIN + 2).events.is_empty());
        assert_eq!(kinds_of(&s.tick(T0 + 61 * MIN)), ["expired"]);
        assert!(s.tick(T0 + 59 * MIN + 3).events.is_empty());
    }

    #[test]
    fn expiring_never_follows_expired_even_if_the_clock_goes_back() {
        // spec #66: after a sleep past expiry only `expired` fired; a clock set back into
        // the expiring window must not produce a late `expiring` for the same token.
        let mut s = session(Some(60 * MIN), true, manual());
        assert_eq!(kinds_of(&s.tick(T0 + 2 * 60 * MIN)), ["expired"]);
        assert!(s.tick(T0 + 59 * MIN + 30_000).events.is_empty());
        assert_eq!(s.next_wake_ms(), None);
    }

    fn kinds_of(step: &Step) -> Vec<&'static str> {
        step.events.iter().map(SessionEvent::kind).collect()
    }

    /// Events of one token over ticks at `times` (in order), by kind.
    fn events_at(times: &[u64], refresh: bool) -> Vec<&'static str> {
        let mut s = session(Some(60 * MIN), refresh, manual());
        times
            .iter()
            .flat_map(|&t| s.tick(T0 + t).events)
            .map(|e| e.kind())
            .collect()
    }

    #[test]
    fn visibility_recheck_at_arbitrary_times_matches_regular_ticks() {
        // spec #66: extra ticks on visibilitychange/focus give the same events as the
        // timer alone.
        let timer = events_at(&[0, 59 * MIN, 60 * MIN], true);
        let busy = events_at(
            &[
                0,
                1,
                7,
                30 * MIN,
                59 * MIN,
                59 * MIN,
                59 * MIN + 1,
                60 * MIN,
                60 * MIN + 9,
            ],
            true,
        );
        assert_eq!(timer, ["expiring", "expired"]);
        assert_eq!(busy, timer);
    }

    proptest! {
        #[test]
        fn any_tick_schedule_obeys_the_once_rules(mut times in proptest::collection::vec(0u64..(2 * 60 * MIN), 0..40)) {
            // spec #66: whatever the tick times (throttled timers, visibility, focus):
            // `expiring` fires iff some tick falls in [expiry - lead, expiry) before any
            // tick at or past expiry; `expired` iff some tick is at or past expiry; each at
            // most once, `expiring` first.
            times.sort_unstable();
            let got = events_at(&times, true);
            let first_late = times.iter().position(|&t| t >= 59 * MIN);
            let want_expiring = first_late.is_some_and(|i| times[i] < 60 * MIN);
            let want_expired = times.iter().any(|&t| t >= 60 * MIN);
            let mut want = vec![];
            if want_expiring { want.push("expiring"); }
            if want_expired { want.push("expired"); }
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn next_wake_is_in_the_future_while_a_refresh_is_in_flight() {
        // spec #66: a due automatic refresh blocked by one in flight must not make the
        // timer spin: the next wake is the expiry, not "now" again and again.
        let mut s = session(Some(60 * MIN), true, auto());
        assert_eq!(s.begin_refresh(), RefreshTicket::Start);
        let now = T0 + 59 * MIN + 30_000;
        let step = s.tick(now);
        assert_eq!(kinds_of(&step), ["expiring"]);
        assert!(!step.start_refresh);
        assert_eq!(step.next_wake_ms, Some(T0 + 60 * MIN));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Tick(u64),
        Begin,
        Succeed {
            lifetime: Option<u64>,
            rotated: bool,
        },
        Fail {
            terminal: bool,
        },
        Logout,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u64..(20 * MIN)).prop_map(Op::Tick),
            2 => Just(Op::Begin),
            1 => (proptest::option::of(0u64..(10 * MIN)), any::<bool>())
                .prop_map(|(lifetime, rotated)| Op::Succeed { lifetime, rotated }),
            1 => proptest::bool::weighted(0.2).prop_map(|terminal| Op::Fail { terminal }),
            1 => proptest::bool::weighted(0.05).prop_map(|_| Op::Logout),
        ]
    }

    proptest! {
        #[test]
        fn random_call_sequences_keep_the_invariants(
            lifetime in proptest::option::of(0u64..(10 * MIN)),
            refresh in any::<bool>(),
            auto_refresh in any::<bool>(),
            ops in proptest::collection::vec(op(), 0..60),
        ) {
            // spec #63, #65, #66, #80 together, for any interleaving of calls.
            let opts = SessionOptions { auto_refresh, ..SessionOptions::default() };
            let mut s = session(lifetime, refresh, opts);
            let mut now = T0;
            let mut in_flight = false; // the model: one request at most
            let mut gen_events: Vec<&str> = vec![];
            let mut auto_starts_this_gen = 0;
            let mut ended = false;
            let mut expiry_known = lifetime.is_some();
            for op in ops {
                let step = match op {
                    Op::Tick(dt) => { now += dt; s.tick(now) }
                    Op::Begin => {
                        match s.begin_refresh() {
                            RefreshTicket::Start => {
                                prop_assert!(!in_flight, "second request while one is in flight");
                                prop_assert!(!ended);
                                in_flight = true;
                            }
                            RefreshTicket::Join => prop_assert!(in_flight),
                            RefreshTicket::Unavailable => prop_assert!(!s.has_refresh_token()),
                            RefreshTicket::Ended => prop_assert!(ended),
                        }
                        continue;
                    }
                    Op::Succeed { lifetime, rotated } => {
                        if !in_flight { continue; }
                        in_flight = false;
                        gen_events.clear();
                        auto_starts_this_gen = 0;
                        expiry_known = lifetime.is_some();
                        s.refresh_succeeded(lifetime.map(|l| now + l), rotated, now)
                    }
                    Op::Fail { terminal } => {
                        if !in_flight { continue; }
                        in_flight = false;
                        s.refresh_failed(ErrorCode::NetworkError, terminal, now)
                    }
                    Op::Logout => s.end(EndReason::Logout),
                };
                if ended {
                    prop_assert_eq!(&step, &Step::default(), "activity after the end");
                }
                if let Some(w) = step.next_wake_ms {
                    prop_assert!(w > now, "wake {} not after now {}", w, now);
                }
                if step.start_refresh {
                    prop_assert!(!in_flight, "automatic start while one is in flight");
                    prop_assert!(auto_refresh && s.has_refresh_token());
                    in_flight = true;
                    auto_starts_this_gen += 1;
                    prop_assert!(auto_starts_this_gen <= 2, "more than one automatic retry");
                }
                for e in &step.events {
                    match e {
                        SessionEvent::Expiring { .. } | SessionEvent::Expired => {
                            prop_assert!(!gen_events.contains(&e.kind()), "{} twice", e.kind());
                            if e.kind() == "expiring" {
                                prop_assert!(!gen_events.contains(&"expired"));
                            }
                            prop_assert!(expiry_known, "expiry event for an unknown expiry");
                            gen_events.push(e.kind());
                        }
                        SessionEvent::Ended { .. } => {
                            prop_assert!(!ended, "ended twice");
                            ended = true;
                            in_flight = false;
                        }
                        _ => {}
                    }
                }
                prop_assert_eq!(s.is_ended(), ended);
                prop_assert_eq!(s.is_refreshing(), in_flight);
            }
        }
    }

    #[test]
    fn auto_refresh_starts_exactly_once_at_the_expiring_point() {
        // spec #63, #66: the timer's tick at expiry - lead emits `expiring` and starts one
        // refresh; ticks while it is in flight start nothing more.
        let mut s = session(Some(60 * MIN), true, auto());
        let (events, starts) = run(&mut s, T0, T0 + 59 * MIN + 50_000, 1_000);
        assert_eq!(starts, [T0 + 59 * MIN]);
        assert_eq!(kinds(&events), ["expiring"]);
        assert!(s.is_refreshing());
    }

    #[test]
    fn ten_concurrent_refresh_callers_give_one_start_nine_joins() {
        // spec #63: N concurrent callers produce one token request.
        let mut s = session(Some(60 * MIN), true, auto());
        let now = T0 + 61 * MIN;
        let tickets: Vec<_> = (0..10).map(|_| s.begin_refresh()).collect();
        assert_eq!(tickets[0], RefreshTicket::Start);
        assert!(tickets[1..].iter().all(|t| *t == RefreshTicket::Join));
        assert_eq!(
            tickets
                .iter()
                .filter(|t| **t == RefreshTicket::Start)
                .count(),
            1
        );
        // The tick that would have auto-started finds the refresh in flight.
        let step = s.tick(now);
        assert_eq!(step.events, [SessionEvent::Expired]);
        assert!(!step.start_refresh);
    }

    #[test]
    fn callers_join_an_automatic_refresh() {
        // spec #63: a request during the automatic refresh waits for it.
        let mut s = session(Some(60 * MIN), true, auto());
        assert!(s.tick(T0 + 59 * MIN).start_refresh);
        assert!(s.needs_refresh_before_request(T0 + 59 * MIN));
        assert_eq!(s.begin_refresh(), RefreshTicket::Join);
        assert_eq!(
            RefreshTicket::Join.error_code(),
            None,
            "joining is not an error"
        );
    }

    #[test]
    fn expired_parallel_requests_refresh_once() {
        // spec #58, #63: 10 requests with an expired token all need a refresh and
        // together produce one token request; after success none needs one.
        let mut s = session(Some(60 * MIN), true, manual());
        let now = T0 + 70 * MIN;
        let mut starts = 0;
        for _ in 0..10 {
            assert!(s.needs_refresh_before_request(now));
            match s.begin_refresh() {
                RefreshTicket::Start => starts += 1,
                RefreshTicket::Join => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(starts, 1);
        let step = s.refresh_succeeded(Some(now + 60 * MIN), false, now + 100);
        assert_eq!(
            step.events,
            [SessionEvent::Refreshed {
                expires_at_ms: Some(now + 60 * MIN)
            }]
        );
        assert!(!s.needs_refresh_before_request(now + 100));
    }

    #[test]
    fn refresh_success_starts_a_new_generation_whose_expiring_fires_once_again() {
        // spec #66: the new token gets its own `expiring`, once; the old one's points are
        // cancelled.
        let mut s = session(Some(60 * MIN), true, auto());
        assert!(s.tick(T0 + 59 * MIN).start_refresh);
        let now = T0 + 59 * MIN + 300;
        let step = s.refresh_succeeded(Some(now + 60 * MIN), true, now);
        assert_eq!(s.generation(), 2);
        assert_eq!(kinds_of(&step), ["refreshed"]);
        assert_eq!(step.next_wake_ms, Some(now + 59 * MIN));
        // The old token's expiry passes: nothing (it was replaced).
        let (events, starts) = run(&mut s, now, now + 59 * MIN + 30_000, 1_000);
        assert_eq!(kinds(&events), ["expiring"]);
        assert_eq!(events[0].0, now + 59 * MIN);
        assert_eq!(starts, [now + 59 * MIN]);
    }

    #[test]
    fn early_manual_refresh_cancels_the_old_tokens_events() {
        // spec #66: cancelled on token replacement.
        let mut s = session(Some(60 * MIN), true, manual());
        assert_eq!(s.begin_refresh(), RefreshTicket::Start);
        let _ = s.refresh_succeeded(Some(T0 + 3 * 60 * MIN), false, T0 + MIN);
        let (events, _) = run(&mut s, T0 + MIN, T0 + 2 * 60 * MIN, 1_000);
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn rotated_or_missing_refresh_token_keeps_refresh_available() {
        // spec #62: a response without a refresh token keeps the old one; with one, the
        // new one replaces it. Either way a refresh token is held and refresh goes on.
        let mut s = session(Some(60 * MIN), true, auto());
        assert_eq!(s.begin_refresh(), RefreshTicket::Start);
        let _ = s.refresh_succeeded(Some(T0 + 60 * MIN), false, T0);
        assert!(s.has_refresh_token());
        assert_eq!(s.begin_refresh(), RefreshTicket::Start);
        let _ = s.refresh_succeeded(Some(T0 + 60 * MIN), true, T0 + 1);
        assert!(s.has_refresh_token());
        // A session that had none gains one if a response brings it.
        let mut s = session(Some(60 * MIN), false, auto());
        assert_eq!(s.begin_refresh(), RefreshTicket::Unavailable);
        let _ = s.refresh_succeeded(Some(T0 + 60 * MIN), true, T0);
        assert_eq!(s.begin_refresh(), RefreshTicket::Start);
    }

    #[test]
    fn invalid_grant_ends_the_session_with_one_event_and_no_further_refresh() {
        // spec #65: one failure, one `refreshFailed` + `ended`, zero further calls.
        let mut s = session(Some(60 * MIN), true, auto());
        assert!(s.tick(T0 + 59 * MIN).start_refresh);
        let code = ErrorCode::InvalidGrant;
        let step = s.refresh_failed(code, is_terminal_refresh_error(code), T0 + 59 * MIN + 200);
        assert_eq!(
            step.events,
            [
                SessionEvent::RefreshFailed { code },
                SessionEvent::Ended {
                    reason: EndReason::RefreshRejected
                }
            ]
        );
        assert_eq!(step.next_wake_ms, None);
        assert!(!step.start_refresh);
        let (events, starts) = run(&mut s, T0 + 59 * MIN, T0 + 10 * 60 * MIN, 5_000);
        assert!(events.is_empty() && starts.is_empty());
        assert_eq!(s.begin_refresh(), RefreshTicket::Ended);
        assert!(!s.needs_refresh_before_request(T0 + 61 * MIN));
    }

    #[test]
    fn terminal_and_transient_failure_codes() {
        // spec #65, #55: OAuth errors and unusable answers end the session; no answer or
        // a bare 5xx is transient.
        for code in [
            ErrorCode::InvalidGrant,
            ErrorCode::InvalidClient,
            ErrorCode::TokenRequestFailed,
            ErrorCode::TokenResponseInvalid,
            ErrorCode::UnsupportedTokenType,
            ErrorCode::IdTokenInvalid,
        ] {
            assert!(is_terminal_refresh_error(code), "{code}");
        }
        for code in [
            ErrorCode::NetworkError,
            ErrorCode::Timeout,
            ErrorCode::TokenServerError,
        ] {
            assert!(!is_terminal_refresh_error(code), "{code}");
        }
    }

    #[test]
    fn transient_failure_retries_once_at_half_the_remaining_time() {
        // spec #65 (policy): a network failure keeps the session and schedules one
        // automatic retry at half the remaining time; a second failure schedules nothing.
        let mut s = session(Some(60 * MIN), true, auto());
        assert!(s.tick(T0 + 59 * MIN).start_refresh);
        let fail_at = T0 + 59 * MIN;
        let step = s.refresh_failed(ErrorCode::NetworkError, false, fail_at);
        assert_eq!(
            step.events,
            [SessionEvent::RefreshFailed {
                code: ErrorCode::NetworkError
            }]
        );
        assert!(!step.start_refresh);
        assert!(!s.is_ended());
        assert_eq!(step.next_wake_ms, Some(fail_at + 30_000));
        let (_, starts) = run(&mut s, fail_at, fail_at + 30_000, 1_000);
        assert_eq!(starts, [fail_at + 30_000]);
        let step = s.refresh_failed(ErrorCode::TokenServerError, false, fail_at + 30_500);
        assert!(!step.start_refresh);
        assert_eq!(
            step.next_wake_ms,
            Some(T0 + 60 * MIN),
            "only the expiry is left"
        );
        let (events, starts) = run(&mut s, fail_at + 30_500, T0 + 5 * 60 * MIN, 1_000);
        assert!(starts.is_empty(), "no retry loop");
        assert_eq!(kinds(&events), ["expired"]);
        assert!(!s.is_ended(), "the app may still refresh by hand");
        assert_eq!(s.begin_refresh(), RefreshTicket::Start);
    }

    #[test]
    fn transient_failure_after_expiry_is_not_retried() {
        // spec #65 (policy): never an automatic retry after expiry.
        let mut s = session(Some(60 * MIN), true, auto());
        let late = T0 + 2 * 60 * MIN;
        let step = s.tick(late);
        assert!(step.start_refresh);
        let step = s.refresh_failed(ErrorCode::Timeout, false, late + 1_000);
        assert_eq!(step.next_wake_ms, None);
        let (events, starts) = run(&mut s, late, late + 60 * MIN, 1_000);
        assert!(events.is_empty() && starts.is_empty());
    }

    #[test]
    fn retry_that_comes_due_after_a_sleep_past_expiry_is_dropped() {
        // spec #65 (policy): the scheduled retry does not run once the token expired.
        let mut s = session(Some(60 * MIN), true, auto());
        assert!(s.tick(T0 + 59 * MIN).start_refresh);
        let _ = s.refresh_failed(ErrorCode::NetworkError, false, T0 + 59 * MIN);
        let step = s.tick(T0 + 3 * 60 * MIN);
        assert_eq!(step.events, [SessionEvent::Expired]);
        assert!(!step.start_refresh);
        assert_eq!(step.next_wake_ms, None);
    }

    #[test]
    fn early_failed_manual_refresh_does_not_consume_the_automatic_attempt() {
        // spec #65 (policy): a failed manual refresh long before the expiring point does
        // not cancel the regular automatic attempt, and schedules nothing extra.
        let mut s = session(Some(60 * MIN), true, auto());
        assert_eq!(s.begin_refresh(), RefreshTicket::Start);
        let step = s.refresh_failed(ErrorCode::NetworkError, false, T0 + MIN);
        assert_eq!(step.next_wake_ms, Some(T0 + 59 * MIN));
        let (_, starts) = run(&mut s, T0 + MIN, T0 + 59 * MIN + 10_000, 1_000);
        assert_eq!(starts, [T0 + 59 * MIN]);
    }

    #[test]
    fn failure_of_a_manual_refresh_spanning_the_expiring_point_is_the_automatic_attempt() {
        // spec #63, #65: no back-to-back second request when a manual refresh that began
        // before the expiring point fails after it; the one retry comes later.
        let mut s = session(Some(60 * MIN), true, auto());
        assert_eq!(s.begin_refresh(), RefreshTicket::Start);
        assert!(!s.tick(T0 + 59 * MIN).start_refresh, "in flight");
        let step = s.refresh_failed(ErrorCode::NetworkError, false, T0 + 59 * MIN + 10_000);
        assert!(!step.start_refresh);
        assert_eq!(step.next_wake_ms, Some(T0 + 59 * MIN + 35_000));
    }

    #[test]
    fn transient_failure_inside_the_lead_lets_requests_use_the_valid_token() {
        // spec #58, #65: after a failed refresh, requests do not each trigger another
        // token request while the token is still valid; once expired, they do.
        let mut s = session(Some(60 * MIN), true, auto());
        assert!(s.tick(T0 + 59 * MIN).start_refresh);
        let _ = s.refresh_failed(ErrorCode::NetworkError, false, T0 + 59 * MIN);
        assert!(!s.needs_refresh_before_request(T0 + 59 * MIN + 1_000));
        assert!(s.needs_refresh_before_request(T0 + 60 * MIN));
    }

    #[test]
    fn no_refresh_token_expiring_fires_and_refresh_is_unavailable() {
        // spec #59: no refresh token: the expiry callback still fires (the cue to
        // relaunch) and no token request is ever made.
        let mut s = session(Some(60 * MIN), false, auto());
        let (events, starts) = run(&mut s, T0, T0 + 59 * MIN, 1_000);
        assert_eq!(kinds(&events), ["expiring"]);
        assert!(starts.is_empty());
        let ticket = s.begin_refresh();
        assert_eq!(ticket, RefreshTicket::Unavailable);
        assert_eq!(ticket.error_code(), Some(ErrorCode::NoRefreshToken));
        assert_eq!(
            ticket.error_code().map(ErrorCode::as_str),
            Some("no_refresh_token")
        );
        assert!(!s.needs_refresh_before_request(T0 + 61 * MIN));
    }

    #[test]
    fn unknown_expiry_never_emits_expiring_or_expired() {
        // spec #48: no expires_in: no events, no timer, no scheduled refresh; a 401 path
        // refresh still works.
        let mut s = session(None, true, auto());
        let step = s.tick(T0);
        assert_eq!(step, Step::default());
        let (events, starts) = run(&mut s, T0, T0 + 48 * 60 * MIN, 60_000);
        assert!(events.is_empty() && starts.is_empty());
        assert!(!s.is_expired(u64::MAX));
        assert!(!s.needs_refresh_before_request(T0 + 48 * 60 * MIN));
        assert_eq!(s.next_wake_ms(), None);
        assert_eq!(s.begin_refresh(), RefreshTicket::Start); // spec #58: 401 path
        let step = s.refresh_succeeded(None, false, T0 + 10);
        assert_eq!(
            step.events,
            [SessionEvent::Refreshed {
                expires_at_ms: None
            }]
        );
        assert_eq!(step.next_wake_ms, None);
    }

    #[test]
    fn end_is_idempotent_and_cancels_future_events() {
        // spec #80, #66: logout emits `ended` once, cancels the expiry callback and any
        // automatic refresh.
        let mut s = session(Some(60 * MIN), true, auto());
        let step = s.end(EndReason::Logout);
        assert_eq!(
            step,
            Step {
                events: vec![SessionEvent::Ended {
                    reason: EndReason::Logout
                }],
                start_refresh: false,
                next_wake_ms: None
            }
        );
        assert_eq!(s.end(EndReason::Logout), Step::default());
        assert_eq!(s.end(EndReason::TokenRejected), Step::default());
        assert_eq!(s.end_reason(), Some(EndReason::Logout));
        let (events, starts) = run(&mut s, T0, T0 + 2 * 60 * MIN, 1_000);
        assert!(events.is_empty() && starts.is_empty());
        assert_eq!(s.begin_refresh(), RefreshTicket::Ended);
        assert_eq!(
            RefreshTicket::Ended.error_code(),
            Some(ErrorCode::SessionEnded)
        );
    }

    #[test]
    fn refresh_result_after_logout_is_dropped() {
        // spec #80: a refresh in flight at logout: its result brings no event, no new
        // generation; the caller sees is_ended() and discards the tokens.
        let mut s = session(Some(60 * MIN), true, auto());
        assert!(s.tick(T0 + 59 * MIN).start_refresh);
        let _ = s.end(EndReason::Logout);
        assert!(!s.is_refreshing());
        assert_eq!(
            s.refresh_succeeded(Some(T0 + 2 * 60 * MIN), true, T0 + 59 * MIN + 100),
            Step::default()
        );
        assert_eq!(s.generation(), 1);
        assert!(s.is_ended());
        assert_eq!(
            s.refresh_failed(ErrorCode::InvalidGrant, true, T0 + 59 * MIN + 100),
            Step::default()
        );
        assert_eq!(s.end_reason(), Some(EndReason::Logout));
    }

    #[test]
    fn auto_refresh_off_emits_expiring_but_never_starts_a_refresh() {
        // spec #66, #59: autoRefresh=false: events fire, no automatic token request, not
        // even a retry; requests refresh only an expired token; a manual refresh works.
        let mut s = session(Some(60 * MIN), true, manual());
        let (events, starts) = run(&mut s, T0, T0 + 3 * 60 * MIN, 1_000);
        assert_eq!(kinds(&events), ["expiring", "expired"]);
        assert!(starts.is_empty());
        assert!(!s.is_ended(), "a refresh token can still renew it");
        let mut s = session(Some(60 * MIN), true, manual());
        assert!(!s.needs_refresh_before_request(T0 + 59 * MIN + 1));
        assert!(s.needs_refresh_before_request(T0 + 60 * MIN));
        assert_eq!(s.begin_refresh(), RefreshTicket::Start);
        let step = s.refresh_failed(ErrorCode::NetworkError, false, T0 + 59 * MIN);
        assert_eq!(step.next_wake_ms, Some(T0 + 60 * MIN), "no retry scheduled");
    }

    #[test]
    fn needs_refresh_before_request_inside_the_lead_with_auto_refresh() {
        // spec #66, #63: a throttled timer missed the expiring point; the request's own
        // check refreshes first (the tick before it would start it too).
        let s = session(Some(60 * MIN), true, auto());
        assert!(!s.needs_refresh_before_request(T0 + 59 * MIN - 1));
        assert!(s.needs_refresh_before_request(T0 + 59 * MIN));
        assert!(!s.is_expired(T0 + 60 * MIN - 1));
        assert!(s.is_expired(T0 + 60 * MIN));
    }

    #[test]
    fn token_received_already_expired_is_not_auto_refreshed() {
        // spec #65: a server answering expires_in=0 cannot drive a refresh loop.
        let mut s = session(Some(60 * MIN), true, auto());
        assert!(s.tick(T0 + 59 * MIN).start_refresh);
        let now = T0 + 59 * MIN + 100;
        let step = s.refresh_succeeded(Some(now), false, now);
        assert_eq!(kinds_of(&step), ["refreshed", "expired"]);
        assert!(!step.start_refresh);
        let (events, starts) = run(&mut s, now, now + 60 * MIN, 100);
        assert!(events.is_empty() && starts.is_empty());
    }

    #[test]
    fn tiny_lifetimes_refresh_at_most_once_a_second() {
        // spec #65: a 200 ms token is refreshed no sooner than MIN_AUTO_REFRESH_GAP_MS
        // after it arrived.
        let mut s = session(Some(200), true, auto());
        let (events, starts) = run(&mut s, T0, T0 + 1_000, 10);
        assert_eq!(kinds(&events), ["expiring", "expired"]);
        assert_eq!(starts, [T0 + MIN_AUTO_REFRESH_GAP_MS]);
    }

    #[test]
    fn stable_strings() {
        // The JS `TokenEvent.type` and `ended.reason` strings are API.
        assert_eq!(EndReason::Logout.as_str(), "logout");
        assert_eq!(EndReason::RefreshRejected.as_str(), "refresh_rejected");
        assert_eq!(EndReason::Expired.to_string(), "expired");
        assert_eq!(EndReason::TokenRejected.as_str(), "token_rejected");
        let all = [
            SessionEvent::Expiring {
                expires_at_ms: 0,
                seconds_left: 0,
            },
            SessionEvent::Refreshed {
                expires_at_ms: None,
            },
            SessionEvent::RefreshFailed {
                code: ErrorCode::NetworkError,
            },
            SessionEvent::Expired,
            SessionEvent::Ended {
                reason: EndReason::Logout,
            },
        ];
        let kinds: Vec<_> = all.iter().map(SessionEvent::kind).collect();
        assert_eq!(
            kinds,
            ["expiring", "refreshed", "refreshFailed", "expired", "ended"]
        );
    }
}
