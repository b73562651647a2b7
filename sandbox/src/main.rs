//! `smart-sandbox` binary: parse flags, bind loopback, print the URLs, serve.

use std::process::ExitCode;

use smart_sandbox::config::{parse_args, Command, HELP};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => *config,
        Ok(Command::Help) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("smart-sandbox {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("smart-sandbox: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "smart-sandbox: cannot listen on 127.0.0.1:{}: {e}",
                config.port
            );
            return ExitCode::FAILURE;
        }
    };
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(config.port);
    println!("smart-sandbox listening");
    println!("  FHIR base (iss/aud): http://127.0.0.1:{port}/fhir");
    println!("  EHR simulator:       http://127.0.0.1:{port}/ehr");
    println!("  Discovery:           http://127.0.0.1:{port}/fhir/.well-known/smart-configuration");
    if let Some(dir) = &config.serve_app {
        println!(
            "  App ({}):  http://127.0.0.1:{}/",
            dir.display(),
            config.app_port
        );
    }
    for c in &config.clients {
        println!("  client {}: redirect {}", c.id, c.redirect_uris.join(", "));
    }
    if let Err(e) = smart_sandbox::serve(config, listener).await {
        eprintln!("smart-sandbox: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
