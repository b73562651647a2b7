//! The in-memory state of grants, codes, tokens, launch handles and pending
//! interactive authorizations. Everything is keyed by random opaque strings.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// 32 random bytes, base64url: codes, tokens, launch handles.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: still unique, if predictable (a test server only).
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = format!(
            "{:?}-{}",
            SystemTime::now(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        bytes.copy_from_slice(&Sha256::digest(seed.as_bytes()));
    }
    B64.encode(bytes)
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What the user (or the default approval) authorized.
#[derive(Clone, Debug)]
pub struct Grant {
    pub client_id: String,
    /// Granted scopes, in request order.
    pub scopes: Vec<String>,
    pub patient: Option<String>,
    pub encounter: Option<String>,
    pub fhir_context: Option<Value>,
    pub need_patient_banner: Option<bool>,
    pub smart_style: bool,
    /// The Practitioner id of the user.
    pub user: String,
    pub nonce: Option<String>,
    pub auth_time: u64,
    pub revoked: bool,
}

#[derive(Clone, Debug)]
pub struct CodeRecord {
    pub grant: u64,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires: Instant,
    pub used: bool,
}

#[derive(Clone, Debug)]
pub struct AccessRecord {
    pub grant: u64,
    pub scopes: Vec<String>,
    pub expires: Instant,
}

#[derive(Clone, Debug)]
pub struct RefreshRecord {
    pub grant: u64,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires: Instant,
    /// Rotated out: presenting it again revokes the whole grant.
    pub retired: bool,
}

#[derive(Clone, Debug)]
pub struct LaunchRecord {
    pub patient: String,
    pub encounter: Option<String>,
    pub client_id: Option<String>,
    pub need_patient_banner: bool,
    pub expires: Instant,
    pub used: bool,
}

/// A validated authorization request waiting on the interactive consent page.
#[derive(Clone, Debug)]
pub struct Pending {
    pub request: crate::authorize::AuthRequest,
    pub expires: Instant,
}

#[derive(Default)]
pub struct Store {
    next_grant: u64,
    pub grants: HashMap<u64, Grant>,
    pub codes: HashMap<String, CodeRecord>,
    pub access: HashMap<String, AccessRecord>,
    pub refresh: HashMap<String, RefreshRecord>,
    pub launches: HashMap<String, LaunchRecord>,
    pub pending: HashMap<String, Pending>,
}

impl Store {
    pub fn add_grant(&mut self, grant: Grant) -> u64 {
        self.next_grant += 1;
        self.grants.insert(self.next_grant, grant);
        self.next_grant
    }

    pub fn new_code(&mut self, record: CodeRecord) -> String {
        let code = random_token();
        self.codes.insert(code.clone(), record);
        code
    }

    pub fn new_access(&mut self, grant: u64, scopes: Vec<String>, lifetime: Duration) -> String {
        let token = random_token();
        self.access.insert(
            token.clone(),
            AccessRecord {
                grant,
                scopes,
                expires: Instant::now() + lifetime,
            },
        );
        token
    }

    pub fn new_refresh(
        &mut self,
        grant: u64,
        client_id: &str,
        scopes: Vec<String>,
        lifetime: Duration,
    ) -> String {
        let token = random_token();
        self.refresh.insert(
            token.clone(),
            RefreshRecord {
                grant,
                client_id: client_id.to_string(),
                scopes,
                expires: Instant::now() + lifetime,
                retired: false,
            },
        );
        token
    }

    /// End a grant: its access and refresh tokens stop working at once.
    pub fn revoke_grant(&mut self, grant: u64) {
        if let Some(g) = self.grants.get_mut(&grant) {
            g.revoked = true;
        }
        self.access.retain(|_, a| a.grant != grant);
        self.refresh.retain(|_, r| r.grant != grant);
        self.codes.retain(|_, c| c.grant != grant);
    }

    /// A live access token and its grant.
    pub fn access_token(&self, token: &str) -> Result<(&AccessRecord, &Grant), &'static str> {
        let rec = self
            .access
            .get(token)
            .ok_or("the access token is unknown or was revoked")?;
        if rec.expires <= Instant::now() {
            return Err("the access token has expired");
        }
        let grant = self
            .grants
            .get(&rec.grant)
            .filter(|g| !g.revoked)
            .ok_or("the grant of this access token was revoked")?;
        Ok((rec, grant))
    }

    /// Forget what has expired (called on every token request; the store stays small).
    pub fn sweep(&mut self) {
        let now = Instant::now();
        let grace = Duration::from_secs(600);
        self.codes.retain(|_, c| c.expires + grace > now);
        self.access.retain(|_, a| a.expires + grace > now);
        self.launches.retain(|_, l| l.expires + grace > now);
        self.pending.retain(|_, p| p.expires > now);
    }
}
