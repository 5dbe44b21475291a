//! Document formatting: the canonical layout of `polc fmt` (`pol_grammar::format`).

use crate::convert;
use pol_compiler::ide::host::SetAnalysis as Snapshot;
use pol_compiler::source_map::FileId;
use tower_lsp::lsp_types::{DocumentFormattingOptions, OneOf, TextEdit};

/// The formatting capability.
pub fn capability() -> Option<OneOf<bool, DocumentFormattingOptions>> {
    Some(OneOf::Left(true))
}

/// The edits formatting a file; an error message when it does not parse.
pub fn format(snap: &Snapshot, file: FileId) -> Result<Vec<TextEdit>, String> {
    let edits = snap.ide.format(file)?;
    Ok(edits
        .into_iter()
        .map(|e| TextEdit {
            range: convert::range(snap, e.loc.file, e.loc.span),
            new_text: e.new_text,
        })
        .collect())
}
