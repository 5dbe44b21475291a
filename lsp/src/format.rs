//! Document formatting. The formatter (`pol_grammar::format`) is not available yet on this
//! branch: the capability is not advertised and a request is answered with an error.

use crate::workspace::Snapshot;
use pol_compiler::source_map::FileId;
use tower_lsp::lsp_types::{OneOf, TextEdit};

/// The formatting capability (none until the formatter exists).
pub fn capability() -> Option<OneOf<bool, tower_lsp::lsp_types::DocumentFormattingOptions>> {
    None
}

/// The edits formatting a file.
pub fn format(_snap: &Snapshot, _file: FileId) -> Result<Vec<TextEdit>, String> {
    Err("formatting is not available in this build of pol-lsp".to_string())
}
