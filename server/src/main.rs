//! `pol-server --bundle F [--key-file K] --listen ADDR|unix:PATH (--jwt-key FILE… |
//! --trust-subject-header) [--grants STORE --audit TRAIL] [--config FILE]`: see the crate
//! documentation and README "As a service". Exit 2 when the options, the bundle, a key or a
//! store cannot be used (nothing is served), 1 when serving fails.

use std::process::ExitCode;

use clap::Parser;
use pol_server::options::Options;

/// jemalloc: the request path allocates per row and cell from two worker threads; glibc's
/// malloc took a third of the server's time under load (docs/benchmarks.md, issue 15).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let config = match Options::parse().resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs(config.json_logs);
    // Built before the async runtime starts: the PostgreSQL client is synchronous.
    let state = match pol_server::build_state(&config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(pol_server::run(config, state)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "stopped on an error");
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
