//! `pol-lsp`: the Pol language server over stdio. A thin layer: it turns LSP notifications into
//! changes of the compiler's analysis host ([`pol_compiler::ide::AnalysisHost`]), schedules its
//! analysis, and converts requests and answers between LSP and [`pol_compiler::ide`].

mod convert;
mod exit;
mod format;
mod framing;
mod memory;
mod server;
mod transport;
mod uri;

use tower_lsp::LspService;

/// The stack of every thread of the server (the async workers and the blocking threads that
/// parse and analyse): 64 MiB, where tokio's default is 2 MiB, so that the analysis of a deeply
/// nested text gets at least the room `polc` has on its main thread (8 MiB) and more. Only the
/// pages a thread touches are resident.
const STACK: usize = 64 << 20;

/// jemalloc, whose arenas return freed memory to the system (see [`memory`]).
#[global_allocator]
static ALLOCATOR: memory::Allocator = memory::Allocator {};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("--stdio") => {}
        Some("--version" | "-V") => {
            println!("pol-lsp {}", env!("CARGO_PKG_VERSION"));
            return std::process::ExitCode::SUCCESS;
        }
        Some("--help" | "-h") => {
            println!("pol-lsp: the Pol language server; speaks LSP over stdin/stdout.\n\nusage: pol-lsp [--stdio | --version]");
            return std::process::ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("pol-lsp: unknown argument `{other}` (usage: pol-lsp [--stdio | --version])");
            return std::process::ExitCode::from(2);
        }
    }
    memory::configure();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(STACK)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pol-lsp: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let (service, socket) = LspService::new(server::Backend::new);
        transport::serve(exit::ExitOnExit::new(service), socket).await;
    });
    // The stdin reader blocks on a thread of its own and the analysis worker never ends: do not
    // wait for them once the client said `exit` (or closed the input).
    runtime.shutdown_background();
    std::process::ExitCode::SUCCESS
}
