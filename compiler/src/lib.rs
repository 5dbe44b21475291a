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
pub mod reference;
pub mod resolve;
pub mod source_map;
pub mod sql;
pub mod techniques;
pub mod testing;

pub use analysis::{check, Analysis};
