//! The Pol compiler: from parsed files to a checked, resolved policy set ([`model::Model`]),
//! with every diagnostic; conflict resolution per column; and the `polc` command line.

pub mod analysis;
pub mod cli;
pub mod conflicts;
pub mod diagnostics;
pub mod diff;
pub mod ide;
pub mod lints;
pub mod lower;
pub mod model;
pub mod policy_sets;
pub mod proof;
pub mod reference;
pub mod resolve;
pub mod source_map;
pub mod sql;
/// Reading lookup table files: the runtime's, shared with `pol-server` (`--table`).
pub use pol_runtime::table_file;
pub mod techniques;
pub mod testing;

pub use analysis::{check, Analysis};

/// The stack a thread needs to call any entry point of this crate (the analysis, the IDE
/// questions, lowering, the evaluators, the formatter) on any input: the grammar refuses
/// constructs nested deeper than [`pol_grammar::nesting::MAX_NESTING`] (E0033), so no stage
/// recurses deeper than that. `compiler/tests/deep_input.rs` runs every stage at the limit on
/// threads of this size, in a debug build (a release build needs several times less). This is
/// the main thread's usual size on Linux; a thread spawned by `std::thread::spawn` or a tokio
/// worker has only 2 MiB by default, so spawn analysis threads with at least this size (`polc`
/// runs its commands on a thread of 64 MiB, `pol-lsp` its workers too).
pub const MIN_STACK: usize = 8 * 1024 * 1024;
