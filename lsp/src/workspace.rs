//! The policy set the server analyses: the `.pol` files of the workspace folders, with the text
//! of open documents in place of what is on disk. Files are kept in path order (authored order,
//! as `polc check DIR` reads them), each with its parsed tree once parsed.

use pol_compiler::ide::Ide;
use pol_compiler::source_map::{FileId, SourceMap};
use pol_grammar::ast::SourceFile;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp::lsp_types::Url;

/// One file of the set.
#[derive(Clone)]
pub struct Entry {
    pub uri: Url,
    pub text: Arc<String>,
    /// The text's syntax tree, once parsed (cleared when the text changes).
    pub ast: Option<Arc<SourceFile>>,
    /// Open in the editor (its text is the editor's, not the disk's).
    pub open: bool,
    /// The editor's version of the text, when open.
    pub version: Option<i32>,
}

/// The files, keyed by path (compared as paths are, like `polc`), else by URI.
#[derive(Default)]
pub struct Files {
    entries: BTreeMap<PathBuf, Entry>,
    /// Bumped on every change.
    pub generation: u64,
    /// The workspace folders (each the default policy set of the files under no `pol.toml`).
    pub folders: Vec<PathBuf>,
}

/// The sort key of a URI: its file path when it has one.
pub fn key(uri: &Url) -> PathBuf {
    uri.to_file_path()
        .unwrap_or_else(|()| PathBuf::from(uri.to_string()))
}

impl Files {
    /// Sets the text of a file: the editor's, at a version, or the disk's (`None`).
    pub fn set(&mut self, uri: &Url, text: String, version: Option<i32>) {
        let open = version.is_some();
        let k = key(uri);
        let keep_open = self.entries.get(&k).is_some_and(|e| e.open) && !open;
        if keep_open {
            // The editor's text wins over the disk's while the document is open.
            return;
        }
        self.entries.insert(
            k,
            Entry {
                uri: uri.clone(),
                text: Arc::new(text),
                ast: None,
                open,
                version,
            },
        );
        self.generation += 1;
    }

    /// Marks a change that is not in a `.pol` file (a `pol.toml` created, changed or deleted).
    pub fn touch(&mut self) {
        self.generation += 1;
    }

    /// Forgets a file (deleted from disk, or closed and not in a workspace folder).
    pub fn remove(&mut self, uri: &Url) {
        if self.entries.remove(&key(uri)).is_some() {
            self.generation += 1;
        }
    }

    /// Marks an open document closed: it takes the disk's text again, or leaves the set when it is
    /// not a workspace file on disk.
    pub fn close(&mut self, uri: &Url, in_workspace: bool) {
        let k = key(uri);
        let disk = uri
            .to_file_path()
            .ok()
            .filter(|_| in_workspace)
            .and_then(|p| std::fs::read_to_string(p).ok());
        match disk {
            Some(text) => {
                self.entries.insert(
                    k,
                    Entry {
                        uri: uri.clone(),
                        text: Arc::new(text),
                        ast: None,
                        open: false,
                        version: None,
                    },
                );
            }
            None => {
                self.entries.remove(&k);
            }
        }
        self.generation += 1;
    }

    /// The current text of a file.
    pub fn snapshot_text(&self, uri: &Url) -> Option<Arc<String>> {
        self.entries.get(&key(uri)).map(|e| e.text.clone())
    }

    pub fn is_open(&self, uri: &Url) -> bool {
        self.entries.get(&key(uri)).is_some_and(|e| e.open)
    }

    /// The current files in order.
    pub fn snapshot(&self) -> Vec<Entry> {
        self.entries.values().cloned().collect()
    }

    /// Keeps the trees parsed for a snapshot, where the text has not changed since.
    pub fn store_asts(&mut self, parsed: Vec<Parsed>) {
        for (uri, text, ast) in parsed {
            if let Some(e) = self.entries.get_mut(&key(&uri)) {
                if Arc::ptr_eq(&e.text, &text) {
                    e.ast = Some(ast);
                }
            }
        }
    }
}

/// A file parsed by an analysis: its URI, the text parsed and the tree.
pub type Parsed = (Url, Arc<String>, Arc<SourceFile>);

/// The analysis of one policy set (see `sets`) of one generation of the files.
pub struct Snapshot {
    pub ide: Ide,
    pub uris: Vec<Url>,
    /// The editor's version of each file analysed (`None` for files read from disk).
    pub versions: Vec<Option<i32>>,
    pub ids: HashMap<Url, FileId>,
}

impl Snapshot {
    pub fn empty() -> Snapshot {
        Snapshot {
            ide: Ide::new(SourceMap::new()),
            uris: Vec::new(),
            versions: Vec::new(),
            ids: HashMap::new(),
        }
    }

    pub fn file(&self, uri: &Url) -> Option<FileId> {
        self.ids.get(uri).copied()
    }
}

/// Analyses a snapshot of the files: parses those without a tree, checks them all. Returns the
/// trees it parsed (to keep) and the analysis.
pub fn analyse(entries: Vec<Entry>) -> (Vec<Parsed>, Snapshot) {
    let mut map = SourceMap::new();
    let mut asts = Vec::with_capacity(entries.len());
    let mut parsed = Vec::new();
    let mut uris = Vec::with_capacity(entries.len());
    let mut versions = Vec::with_capacity(entries.len());
    let mut ids = HashMap::new();
    for e in entries {
        let id = map.add(key(&e.uri).display().to_string(), e.text.as_str());
        let ast = match &e.ast {
            Some(a) => a.clone(),
            None => {
                let a = Arc::new(pol_grammar::parse_file(&e.text));
                parsed.push((e.uri.clone(), e.text.clone(), a.clone()));
                a
            }
        };
        asts.push(SourceFile::clone(&ast));
        ids.insert(e.uri.clone(), id);
        uris.push(e.uri);
        versions.push(e.version);
    }
    let ide = Ide::from_parsed(map, asts);
    (
        parsed,
        Snapshot {
            ide,
            uris,
            versions,
            ids,
        },
    )
}

/// The `.pol` files under a folder, recursively (unreadable entries are skipped).
pub fn pol_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(_) if path.extension().is_some_and(|e| e == "pol") => out.push(path),
                _ => {}
            }
        }
    }
    out.sort();
    out
}
