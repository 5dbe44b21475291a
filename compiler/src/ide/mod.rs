//! The questions an editor asks about a policy set, independent of any editor protocol: a place in
//! (file and byte offset), an answer out (byte spans, markdown, edits). The language server
//! (`pol-lsp`) only converts these to and from LSP types.
//!
//! An [`Ide`] holds one checked policy set: the files, their analysis and a name index. It is
//! immutable; a change to a file means a new `Ide` (re-parsing only the changed files with
//! [`Ide::from_parsed`]).
//!
//! The state of an editor's workspace (its files, the changes applied to them, the parses kept
//! between analyses, the policy sets they form) is the [`host`]'s: [`AnalysisHost::apply_change`]
//! and [`AnalysisHost::snapshot`], whose [`host::Analysis`] holds an `Ide` per policy set.

mod actions;
mod complete;
mod effective;
mod highlight;
pub mod host;
mod hover;
pub mod index;
mod inlay;
mod keywords;
mod navigate;
mod outline;
mod proof_hover;
mod test_hover;
mod text;

pub use actions::CodeAction;
pub use complete::{CompletionItem, CompletionKind};
pub use effective::{effective_summary, rule_summary};
pub use highlight::{HighlightKind, HighlightToken};
pub use host::{AnalysisHost, Change, FileKey};
pub use hover::Hover;
pub use index::{Index, Occurrence, Symbol};
pub use inlay::InlayHint;
pub use navigate::RenameError;
pub use outline::{DocumentSymbol, SymbolKind, WorkspaceSymbol};

use crate::analysis::Analysis;
use crate::diagnostics::Diagnostic;
use crate::source_map::{FileId, Loc, SourceMap};
use pol_grammar::ast::SourceFile;
use pol_grammar::Span;

/// A text edit: replace the span of a file with the text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TextEdit {
    pub loc: Loc,
    pub new_text: String,
}

/// One checked policy set and everything an editor can ask about it.
pub struct Ide {
    files: SourceMap,
    analysis: Analysis,
    index: Index,
    /// The set lowered and loaded for `test` hovers, on first use (`None`: it has errors).
    test_engine: std::sync::OnceLock<Option<crate::testing::EngineEvaluator>>,
}

impl Ide {
    /// Parses and checks every file.
    pub fn new(files: SourceMap) -> Ide {
        let asts = crate::analysis::parse_all(&files);
        Ide::from_parsed(files, asts)
    }

    /// Checks files already parsed (`asts[i]` is the tree of file `i`).
    pub fn from_parsed(files: SourceMap, asts: Vec<SourceFile>) -> Ide {
        Ide::from_parsed_after(files, asts, None)
    }

    /// [`Ide::from_parsed`] after an edit: `previous` is the `Ide` of an earlier version of the
    /// same files (same number and order) and `same[i]` says file `i` has the very text it had
    /// then; what can be is reused (see [`crate::analysis::check_parsed_after`]).
    pub fn from_parsed_after(
        files: SourceMap,
        asts: Vec<SourceFile>,
        previous: Option<(&Ide, &[bool])>,
    ) -> Ide {
        let analysis = crate::analysis::check_parsed_after(
            &files,
            asts,
            previous.map(|(p, same)| (&p.analysis, same)),
        );
        // A file keeps its name index when its text, the declarations and its policies are
        // those of then.
        let keep = previous.and_then(|(p, same)| {
            let changes = analysis.memo.changes_since(&p.analysis.memo)?;
            let keep: Vec<bool> = (0..analysis.asts.len())
                .map(|i| {
                    same.get(i).copied().unwrap_or(false)
                        && changes.kept_files.get(i).copied().unwrap_or(false)
                })
                .collect();
            Some((&p.index, keep))
        });
        let index = Index::build_after(
            &analysis.asts,
            &analysis.model,
            keep.as_ref().map(|(i, k)| (*i, k.as_slice())),
        );
        Ide {
            files,
            analysis,
            index,
            test_engine: std::sync::OnceLock::new(),
        }
    }

    pub fn files(&self) -> &SourceMap {
        &self.files
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The file named `name` (as given to the source map).
    pub fn file_id(&self, name: &str) -> Option<FileId> {
        self.files
            .files()
            .find(|(_, f)| f.name == name)
            .map(|(id, _)| id)
    }

    /// Every diagnostic (exactly `polc check`'s), sorted by file and position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.analysis.diagnostics
    }

    /// The diagnostics whose primary label is in `file`.
    pub fn file_diagnostics(&self, file: FileId) -> Vec<&Diagnostic> {
        self.file_diagnostics_slice(file).iter().collect()
    }

    /// The diagnostics whose primary label is in `file`, as kept (no filtering of the set's).
    pub fn file_diagnostics_slice(&self, file: FileId) -> &[Diagnostic] {
        self.analysis
            .by_file
            .get(file.0 as usize)
            .and_then(|r| self.analysis.diagnostics.get(r.clone()))
            .unwrap_or_default()
    }

    fn text(&self, file: FileId) -> &str {
        if (file.0 as usize) < self.files.len() {
            &self.files.get(file).text
        } else {
            ""
        }
    }

    /// The engine `test` hovers run the expectations on (built on first use).
    fn test_engine(&self) -> Option<&crate::testing::EngineEvaluator> {
        self.test_engine
            .get_or_init(|| test_hover::engine(self))
            .as_ref()
    }

    fn ast(&self, file: FileId) -> Option<&SourceFile> {
        self.analysis.asts.get(file.0 as usize)
    }

    fn valid(&self, file: FileId) -> bool {
        (file.0 as usize) < self.files.len()
    }

    /// Hover documentation at an offset.
    pub fn hover(&self, file: FileId, offset: usize) -> Option<Hover> {
        if !self.valid(file) {
            return None;
        }
        hover::hover(self, file, offset)
    }

    /// Completions at an offset, best first.
    pub fn completions(&self, file: FileId, offset: usize) -> Vec<CompletionItem> {
        if !self.valid(file) {
            return Vec::new();
        }
        complete::completions(self, file, offset)
    }

    /// Completions at an offset of `text`, the editor's text of a file, which may be newer than
    /// the analysed one: the context is read from `text` before the cursor, the names (tags,
    /// columns, …) from the analysis. This lets an editor complete while the new text is still
    /// being analysed.
    pub fn completions_in(&self, text: &str, offset: usize) -> Vec<CompletionItem> {
        complete::completions_in(self, text, offset)
    }

    /// Where the symbol at an offset is declared.
    pub fn definition(&self, file: FileId, offset: usize) -> Vec<Loc> {
        navigate::definition(self, file, offset)
    }

    /// Every place the symbol at an offset is named, its declaration included when asked.
    pub fn references(&self, file: FileId, offset: usize, include_declaration: bool) -> Vec<Loc> {
        navigate::references(self, file, offset, include_declaration)
    }

    /// The span a rename at this offset would change, if something renameable is there.
    pub fn prepare_rename(&self, file: FileId, offset: usize) -> Option<Loc> {
        navigate::prepare_rename(self, file, offset)
    }

    /// The edits renaming the symbol at an offset to `new_name` (one identifier).
    pub fn rename(
        &self,
        file: FileId,
        offset: usize,
        new_name: &str,
    ) -> Result<Vec<TextEdit>, RenameError> {
        navigate::rename(self, file, offset, new_name)
    }

    /// The outline of one file.
    pub fn document_symbols(&self, file: FileId) -> Vec<DocumentSymbol> {
        match self.ast(file) {
            Some(ast) => outline::document_symbols(ast),
            None => Vec::new(),
        }
    }

    /// Declarations of the whole policy set whose name contains `query` (case-insensitive).
    pub fn workspace_symbols(&self, query: &str) -> Vec<WorkspaceSymbol> {
        outline::workspace_symbols(self, query)
    }

    /// Foldable spans of a file (declarations, rules, struct columns, comment blocks).
    pub fn folding_ranges(&self, file: FileId) -> Vec<Span> {
        match self.ast(file) {
            Some(ast) => outline::folding_ranges(ast, self.text(file)),
            None => Vec::new(),
        }
    }

    /// Classified tokens of a file, in order, not overlapping.
    pub fn highlight(&self, file: FileId) -> Vec<HighlightToken> {
        if !self.valid(file) {
            return Vec::new();
        }
        highlight::highlight(self, file)
    }

    /// Code actions for a span of a file: diagnostic fixes (did-you-mean, missing `otherwise`)
    /// and declaring an undeclared tag or purpose.
    pub fn code_actions(&self, file: FileId, span: Span) -> Vec<CodeAction> {
        if !self.valid(file) {
            return Vec::new();
        }
        actions::code_actions(self, file, span)
    }

    /// The edits laying a file out canonically (`polc fmt`): none when it already is; an error
    /// when the file does not parse.
    pub fn format(&self, file: FileId) -> Result<Vec<TextEdit>, String> {
        if !self.valid(file) {
            return Err("no such file".to_string());
        }
        let text = self.text(file);
        let formatted = pol_grammar::format::format_source(text).map_err(|e| e.to_string())?;
        if formatted == text {
            return Ok(Vec::new());
        }
        Ok(vec![TextEdit {
            loc: Loc::new(file, Span::new(0, text.len())),
            new_text: formatted,
        }])
    }

    /// An inlay hint after each column of the sources of a file: its effective rule.
    pub fn inlay_hints(&self, file: FileId) -> Vec<InlayHint> {
        if !self.valid(file) {
            return Vec::new();
        }
        inlay::inlay_hints(self, file)
    }
}
