//! The analysis host: the state of an editor's workspace (its folders and `.pol` files, with the
//! editor's text in place of the disk's for open documents) and the changes made to it, in the
//! style of rust-analyzer's `AnalysisHost`. A change is applied with
//! [`AnalysisHost::apply_change`]; [`AnalysisHost::snapshot`] takes an immutable [`Analysis`] of
//! the current state, cheap to take and to clone, which answers the editor's questions on its
//! own thread while later changes are applied.
//!
//! Each file's parse is kept in a cell shared by the host and its snapshots: a file whose text
//! did not change is parsed once, whichever snapshot asks first. An edit to one file re-parses
//! that file only. Knows nothing of LSP: files are [`FileKey`]s, positions byte offsets or
//! (line, UTF-16 column) pairs.

mod reuse;
mod sets;
mod snapshot;

pub use reuse::Unchanged;
pub use sets::{BadManifest, SetKey};
pub use snapshot::{Analysis, Located, SetAnalysis};

use pol_grammar::ast::SourceFile;
use pol_grammar::LineIndex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// A file of the workspace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKey {
    /// A file with a path (on disk, or to be saved there).
    Path(PathBuf),
    /// A document without a path (an editor's unsaved buffer), named by the editor's identifier.
    /// It forms a policy set with the other such documents.
    Detached(String),
}

impl FileKey {
    /// The name the file has in diagnostics (its path, or the editor's identifier).
    pub fn name(&self) -> String {
        match self {
            FileKey::Path(p) => p.display().to_string(),
            FileKey::Detached(name) => name.clone(),
        }
    }

    /// The file's path, when it has one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            FileKey::Path(p) => Some(p),
            FileKey::Detached(_) => None,
        }
    }
}

/// A position as editors count it: a line and a column in UTF-16 code units, both from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol16 {
    pub line: u32,
    pub character: u32,
}

/// One edit of a document's text: the stretch `range` (the whole text when `None`) replaced by
/// `text`. The positions are those of the text as the edits before this one left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextChange {
    pub range: Option<(LineCol16, LineCol16)>,
    pub text: String,
}

/// A change to the workspace.
#[derive(Clone, Debug)]
pub enum Change {
    /// The workspace folders (each the default policy set of the files under no `pol.toml`).
    Folders(Vec<PathBuf>),
    /// A file's text as read from disk (ignored while the file is open in the editor).
    Disk { file: FileKey, text: String },
    /// A document opened in the editor, with its text at a version.
    Open {
        file: FileKey,
        text: String,
        version: i32,
    },
    /// Edits to an open document, bringing it to a version.
    Edit {
        file: FileKey,
        changes: Vec<TextChange>,
        version: i32,
    },
    /// A document closed: it takes the disk's text again when it is a file of a workspace folder
    /// that can be read, else it leaves the workspace.
    Close { file: FileKey },
    /// A file deleted from disk (ignored while the file is open).
    Removed { file: FileKey },
    /// A `pol.toml` appeared, changed or went: the policy sets are formed again.
    ManifestChanged,
}

/// One file of the host: its text, its parse once made, and the editor's version when open.
#[derive(Clone)]
struct Entry {
    text: Arc<String>,
    parse: Arc<OnceLock<Arc<SourceFile>>>,
    version: Option<i32>,
}

impl Entry {
    fn new(text: String, version: Option<i32>) -> Entry {
        Entry {
            text: Arc::new(text),
            parse: Arc::new(OnceLock::new()),
            version,
        }
    }

    /// The parse of the text, made by the first snapshot that needs it.
    fn parsed(&self) -> Arc<SourceFile> {
        self.parse
            .get_or_init(|| Arc::new(pol_grammar::parse_file(&self.text)))
            .clone()
    }
}

/// The workspace state an editor session changes; see the module documentation.
#[derive(Default)]
pub struct AnalysisHost {
    files: BTreeMap<FileKey, Entry>,
    folders: Vec<PathBuf>,
    generation: u64,
    /// The latest snapshot taken: the next one reuses what it (or the analysed snapshot it
    /// would reuse) analysed.
    last: Mutex<Option<Analysis>>,
}

impl AnalysisHost {
    /// An empty workspace.
    pub fn new() -> AnalysisHost {
        AnalysisHost::default()
    }

    /// Applies a change. Every change that alters what an analysis sees bumps the generation.
    pub fn apply_change(&mut self, change: Change) {
        match change {
            Change::Folders(folders) => {
                self.folders = folders;
                self.generation += 1;
            }
            Change::Disk { file, text } => {
                if !self.is_open(&file) {
                    self.put(file, Entry::new(text, None));
                }
            }
            Change::Open {
                file,
                text,
                version,
            } => self.put(file, Entry::new(text, Some(version))),
            Change::Edit {
                file,
                changes,
                version,
            } => {
                let current = self
                    .files
                    .get(&file)
                    .map(|e| e.text.as_str().to_string())
                    .unwrap_or_default();
                let text = apply_text_changes(current, changes);
                self.put(file, Entry::new(text, Some(version)));
            }
            Change::Close { file } => self.close(file),
            Change::Removed { file } => {
                if !self.is_open(&file) && self.files.remove(&file).is_some() {
                    self.generation += 1;
                }
            }
            Change::ManifestChanged => self.generation += 1,
        }
    }

    fn put(&mut self, file: FileKey, entry: Entry) {
        self.files.insert(file, entry);
        self.generation += 1;
    }

    fn close(&mut self, file: FileKey) {
        let disk = file
            .path()
            .filter(|p| self.in_workspace(p))
            .and_then(|p| std::fs::read_to_string(p).ok());
        match disk {
            Some(text) => {
                self.files.insert(file, Entry::new(text, None));
            }
            None => {
                self.files.remove(&file);
            }
        }
        self.generation += 1;
    }

    /// An immutable analysis of the current state. Cheap: it shares the texts and parses; the
    /// analysis itself is made on first question (or [`Analysis::analyse`]).
    pub fn snapshot(&self) -> Analysis {
        let files = self
            .files
            .iter()
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let snapshot = Analysis::new(self.generation, files, self.folders.clone(), last.as_ref());
        *last = Some(snapshot.clone());
        snapshot
    }

    /// Bumped by every change that alters what an analysis sees.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The current text of a file.
    pub fn text(&self, file: &FileKey) -> Option<Arc<String>> {
        self.files.get(file).map(|e| e.text.clone())
    }

    /// Whether a file is open in the editor (its text is the editor's, not the disk's).
    pub fn is_open(&self, file: &FileKey) -> bool {
        self.files.get(file).is_some_and(|e| e.version.is_some())
    }

    /// The workspace folders.
    pub fn folders(&self) -> &[PathBuf] {
        &self.folders
    }

    /// Whether a path lies in a workspace folder.
    pub fn in_workspace(&self, path: &Path) -> bool {
        self.folders.iter().any(|f| path.starts_with(f))
    }
}

/// Applies edits in order to a text. Positions past a line's end or the text's end are clamped.
pub fn apply_text_changes(mut text: String, changes: Vec<TextChange>) -> String {
    for c in changes {
        match c.range {
            None => text = c.text,
            Some((start, end)) => {
                let lines = LineIndex::new(&text);
                let a = lines.offset_utf16(&text, start.line, start.character);
                let b = lines.offset_utf16(&text, end.line, end.character);
                let (a, b) = (a.min(b), a.max(b));
                text.replace_range(a..b, &c.text);
            }
        }
    }
    text
}

#[cfg(test)]
mod tests;
