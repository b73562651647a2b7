//! Server configuration: the registered clients, lifetimes and switches, and the
//! command-line syntax that fills them in.

use std::path::PathBuf;
use std::time::Duration;

/// The demo client every sandbox knows unless `--no-default-client` is given.
pub const DEMO_CLIENT_ID: &str = "smart-launch-demo";
/// Where the demo app's callback page lives (served by `--serve-app` on port 9401).
pub const DEMO_REDIRECT_URI: &str = "http://127.0.0.1:9401/callback.html";
/// Where the EHR simulator launches the demo app.
pub const DEMO_LAUNCH_URL: &str = "http://127.0.0.1:9401/launch.html";

/// A registered public client (no secret: trust rests on the exact redirect URIs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    /// Exact-match redirect URIs. The first one's origin also receives CORS.
    pub redirect_uris: Vec<String>,
    /// The app's launch URL for EHR launch (the EHR simulator opens it).
    pub launch_url: Option<String>,
}

impl Client {
    /// The origins (`scheme://host[:port]`) of the client's redirect URIs.
    pub fn origins(&self) -> Vec<String> {
        self.redirect_uris
            .iter()
            .filter_map(|u| origin_of(u))
            .collect()
    }
}

/// Everything the sandbox needs to run. `Config::default()` is the documented default.
#[derive(Clone, Debug)]
pub struct Config {
    /// TCP port on 127.0.0.1 (0 picks a free port; the base URL follows the bound port).
    pub port: u16,
    pub clients: Vec<Client>,
    /// Lifetime of access tokens (`expires_in`). Default 3600 s.
    pub access_token_lifetime: Duration,
    /// Lifetime of refresh tokens. Default 24 h.
    pub refresh_token_lifetime: Duration,
    /// Lifetime of authorization codes. Default 60 s.
    pub code_lifetime: Duration,
    /// Lifetime of EHR launch handles. Default 5 min.
    pub launch_lifetime: Duration,
    /// Issue a new refresh token on every refresh and retire the old one. Default on.
    pub rotate_refresh_tokens: bool,
    /// Show a login / patient picker / consent page instead of approving at once.
    pub interactive: bool,
    /// Drop `X-Frame-Options: DENY` and `frame-ancestors 'none'` from the authorize pages.
    pub allow_framing: bool,
    /// Serve this folder as a static app on `app_port` (a second origin).
    pub serve_app: Option<PathBuf>,
    pub app_port: u16,
    /// Name shown in the EHR simulator's header.
    pub ehr_name: String,
    /// Patient chosen by the non-interactive authorize step for standalone launches.
    pub default_patient: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 9400,
            clients: vec![demo_client()],
            access_token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(24 * 3600),
            code_lifetime: Duration::from_secs(60),
            launch_lifetime: Duration::from_secs(300),
            rotate_refresh_tokens: true,
            interactive: false,
            allow_framing: false,
            serve_app: None,
            app_port: 9401,
            ehr_name: "Sandbox EHR".to_string(),
            default_patient: crate::fhir::fixtures::DEFAULT_PATIENT.to_string(),
        }
    }
}

/// The built-in demo client.
pub fn demo_client() -> Client {
    Client {
        id: DEMO_CLIENT_ID.to_string(),
        redirect_uris: vec![DEMO_REDIRECT_URI.to_string()],
        launch_url: Some(DEMO_LAUNCH_URL.to_string()),
    }
}

/// The demo client with its app on `app_port` instead of 9401.
pub fn demo_client_on(app_port: u16) -> Client {
    let origin = format!("http://127.0.0.1:{app_port}");
    Client {
        id: DEMO_CLIENT_ID.to_string(),
        redirect_uris: vec![format!("{origin}/callback.html")],
        launch_url: Some(format!("{origin}/launch.html")),
    }
}

impl Config {
    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Origins of every registered redirect URI (the CORS allowlist of token and FHIR).
    pub fn registered_origins(&self) -> Vec<String> {
        let mut all: Vec<String> = self.clients.iter().flat_map(|c| c.origins()).collect();
        all.sort();
        all.dedup();
        all
    }
}

/// `scheme://authority` of an absolute http(s) URL, lower-cased scheme and host.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "http" { ":80" } else { ":443" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help,
    Version,
}

pub const HELP: &str = "\
smart-sandbox: a strict local SMART App Launch authorization server, FHIR server
and EHR simulator. Loopback only (127.0.0.1), plain HTTP, state in memory.

USAGE:
    smart-sandbox [OPTIONS]

OPTIONS:
    --port PORT                     Port of the server (default 9400; 0 = any free port).
                                    FHIR base: http://127.0.0.1:PORT/fhir
    --client ID=URI[,URI...]        Register a public client with its exact redirect
                                    URIs (repeatable). Their origins get CORS on the
                                    token, revocation and FHIR endpoints.
    --client-launch-url ID=URL      The launch URL the EHR simulator opens for client ID.
    --no-demo-client                Drop the built-in demo client `smart-launch-demo`
                                    (redirect http://127.0.0.1:APP_PORT/callback.html,
                                    launch http://127.0.0.1:APP_PORT/launch.html).
                                    A --client with that id replaces it instead.
    --access-token-lifetime SECS    Access token lifetime (default 3600).
    --refresh-token-lifetime SECS   Refresh token lifetime (default 86400).
    --code-lifetime SECS            Authorization code lifetime (default 60).
    --launch-lifetime SECS          EHR launch handle lifetime (default 300).
    --no-refresh-rotation           Keep the same refresh token across refreshes
                                    (default: rotate, and revoke the grant when a
                                    rotated-out token comes back).
    --interactive                   Show a login / patient picker / consent page at
                                    /authorize instead of approving at once as the
                                    default practitioner for the default patient.
    --default-patient ID            Patient picked for standalone launches when not
                                    interactive (default smart-1).
    --allow-framing                 Let the authorize pages be framed (default: they
                                    send X-Frame-Options: DENY and frame-ancestors 'none').
    --serve-app DIR                 Serve a static app folder on a second origin.
    --app-port PORT                 Port of that origin (default 9401).
    --ehr-name NAME                 Name in the EHR simulator's header (default
                                    \"Sandbox EHR\").
    -h, --help                      Print this help.
    -V, --version                   Print the version.

TEST ENDPOINTS (CORS open to any origin):
    GET/DELETE /_log                Requests received, as JSON; DELETE clears.
    GET/POST/DELETE /_faults        Fault injection (see sandbox/README.md).
    GET  /_test/authorize?...       Same checks as /authorize; answers
                                    {\"location\": ...} or {\"error_page\": ...}.
    POST /_test/launch              {\"patient\", \"client_id\"?} -> {\"iss\", \"launch\"}.
";

fn parse_secs(flag: &str, v: &str) -> Result<Duration, String> {
    v.parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| format!("{flag}: expected a number of seconds, got {v:?}"))
}

fn parse_port(flag: &str, v: &str) -> Result<u16, String> {
    v.parse::<u16>()
        .map_err(|_| format!("{flag}: expected a port number, got {v:?}"))
}

/// Check that a redirect URI can be registered: absolute http(s), no fragment.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if origin_of(uri).is_none() {
        return Err(format!(
            "redirect URI {uri:?} is not an absolute http(s) URL"
        ));
    }
    if uri.contains('#') {
        return Err(format!(
            "redirect URI {uri:?} has a fragment (RFC 6749 §3.1.2)"
        ));
    }
    Ok(())
}

/// Parse the command line (without the program name).
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut config = Config::default();
    let mut clients: Vec<Client> = Vec::new();
    let mut launch_urls: Vec<(String, String)> = Vec::new();
    let mut no_demo = false;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--port" => config.port = parse_port("--port", &value("--port")?)?,
            "--app-port" => config.app_port = parse_port("--app-port", &value("--app-port")?)?,
            "--client" => {
                let v = value("--client")?;
                let (id, uris) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--client: expected ID=URI[,URI...], got {v:?}"))?;
                if id.is_empty() {
                    return Err("--client: empty client id".into());
                }
                let redirect_uris: Vec<String> = uris
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if redirect_uris.is_empty() {
                    return Err(format!("--client {id}: at least one redirect URI"));
                }
                for u in &redirect_uris {
                    check_redirect_uri(u).map_err(|e| format!("--client {id}: {e}"))?;
                }
                clients.retain(|c| c.id != id);
                clients.push(Client {
                    id: id.to_string(),
                    redirect_uris,
                    launch_url: None,
                });
            }
            "--client-launch-url" => {
                let v = value("--client-launch-url")?;
                let (id, url) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--client-launch-url: expected ID=URL, got {v:?}"))?;
                if origin_of(url).is_none() {
                    return Err(format!("--client-launch-url {id}: not an http(s) URL"));
                }
                launch_urls.push((id.to_string(), url.to_string()));
            }
            "--no-demo-client" => no_demo = true,
            "--access-token-lifetime" => {
                config.access_token_lifetime = parse_secs(&flag, &value(&flag)?)?
            }
            "--refresh-token-lifetime" => {
                config.refresh_token_lifetime = parse_secs(&flag, &value(&flag)?)?
            }
            "--code-lifetime" => config.code_lifetime = parse_secs(&flag, &value(&flag)?)?,
            "--launch-lifetime" => config.launch_lifetime = parse_secs(&flag, &value(&flag)?)?,
            "--no-refresh-rotation" => config.rotate_refresh_tokens = false,
            "--interactive" => config.interactive = true,
            "--allow-framing" => config.allow_framing = true,
            "--serve-app" => config.serve_app = Some(PathBuf::from(value("--serve-app")?)),
            "--ehr-name" => config.ehr_name = value("--ehr-name")?,
            "--default-patient" => {
                let p = value("--default-patient")?;
                if crate::fhir::fixtures::patient(&p).is_none() {
                    return Err(format!("--default-patient: no fixture patient {p:?}"));
                }
                config.default_patient = p;
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    if !no_demo && !clients.iter().any(|c| c.id == DEMO_CLIENT_ID) {
        clients.insert(0, demo_client_on(config.app_port));
    }
    if clients.is_empty() {
        return Err("no client registered (--no-demo-client without --client)".into());
    }
    config.clients = clients;
    if let Some(dir) = &config.serve_app {
        if !dir.is_dir() {
            return Err(format!("--serve-app: {} is not a folder", dir.display()));
        }
    }
    for (id, url) in launch_urls {
        let client = config
            .clients
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| format!("--client-launch-url: no client {id:?}"))?;
        client.launch_url = Some(url);
    }
    Ok(Command::Run(Box::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse_args(args.iter().map(|s| s.to_string()))? {
            Command::Run(c) => Ok(*c),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn defaults_have_the_demo_client() {
        let c = run(&[]).unwrap();
        assert_eq!(c.port, 9400);
        assert_eq!(c.clients, vec![demo_client()]);
        assert_eq!(c.registered_origins(), vec!["http://127.0.0.1:9401"]);
    }

    #[test]
    fn client_flags() {
        let c = run(&[
            "--client",
            "app=http://localhost:3000/cb,http://localhost:3000/cb2",
            "--client-launch-url=app=http://localhost:3000/launch",
            "--port=0",
        ])
        .unwrap();
        assert_eq!(c.port, 0);
        assert_eq!(c.clients.len(), 2);
        let only = run(&["--no-demo-client", "--client", "a=http://h/cb"]).unwrap();
        assert_eq!(only.clients.len(), 1);
        let replaced = run(&["--client", "smart-launch-demo=http://h/cb"]).unwrap();
        assert_eq!(replaced.clients.len(), 1);
        assert_eq!(replaced.clients[0].launch_url, None);
        let moved = run(&["--app-port", "9500"]).unwrap();
        assert_eq!(
            moved.clients[0].redirect_uris,
            vec!["http://127.0.0.1:9500/callback.html"]
        );
        let app = c.client("app").unwrap();
        assert_eq!(app.redirect_uris.len(), 2);
        assert_eq!(
            app.launch_url.as_deref(),
            Some("http://localhost:3000/launch")
        );
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(run(&["--client", "app"]).is_err());
        assert!(run(&["--client", "app=http://x/cb#frag"]).is_err());
        assert!(run(&["--client", "app=ftp://x/cb"]).is_err());
        assert!(run(&["--port", "x"]).is_err());
        assert!(run(&["--bogus"]).is_err());
        assert!(run(&["--client-launch-url", "nobody=http://x/l"]).is_err());
        assert!(run(&["--no-demo-client"]).is_err());
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("HTTP://Example.org:80/a?b").as_deref(),
            Some("http://example.org")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:9401/callback.html").as_deref(),
            Some("http://127.0.0.1:9401")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }
}
