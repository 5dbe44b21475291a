//! An immutable analysis of one state of the workspace ([`Analysis`]) and of each of its policy
//! sets ([`SetAnalysis`]).

use super::sets::{self, BadManifest};
use super::{Entry, FileKey, Unchanged};
use crate::diagnostics::Diagnostic;
use crate::ide::{CompletionItem, Hover, Ide, InlayHint, RenameError};
use crate::source_map::{FileId, Loc, SourceMap};
use pol_grammar::ast::SourceFile;
use pol_grammar::Span;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// A span of a file of the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub file: FileKey,
    pub span: Span,
}

/// The analysis of one policy set: the [`Ide`] answering its questions, and which workspace file
/// each of its [`FileId`]s is.
pub struct SetAnalysis {
    pub ide: Ide,
    keys: Vec<FileKey>,
    versions: Vec<Option<i32>>,
    ids: HashMap<FileKey, FileId>,
    /// The texts analysed (shared with the host's entries): a later snapshot whose set has the
    /// same files with the very same texts reuses this analysis.
    texts: Vec<Arc<String>>,
}

impl SetAnalysis {
    /// A set of no files.
    pub fn empty() -> SetAnalysis {
        SetAnalysis {
            ide: Ide::new(SourceMap::new()),
            keys: Vec::new(),
            versions: Vec::new(),
            ids: HashMap::new(),
            texts: Vec::new(),
        }
    }

    /// Whether this analysis is of exactly these files: the same keys in the same order, the
    /// same texts (the host's own, not equal copies) and the same editor versions.
    fn is_of(&self, files: &[&(FileKey, Entry)]) -> bool {
        self.keys.len() == files.len()
            && files.iter().enumerate().all(|(i, (key, entry))| {
                self.keys.get(i) == Some(key)
                    && self.versions.get(i) == Some(&entry.version)
                    && self
                        .texts
                        .get(i)
                        .is_some_and(|t| Arc::ptr_eq(t, &entry.text))
            })
    }

    /// Whether this analysis is of the same files (keys, in order) as `files`, whatever their
    /// texts: then `same[i]` says whether file `i`'s text is the very one analysed.
    fn same_texts(&self, files: &[&(FileKey, Entry)]) -> Option<Vec<bool>> {
        let same_keys = self.keys.len() == files.len()
            && files
                .iter()
                .enumerate()
                .all(|(i, (key, _))| self.keys.get(i) == Some(key));
        same_keys.then(|| {
            files
                .iter()
                .enumerate()
                .map(|(i, (_, e))| self.texts.get(i).is_some_and(|t| Arc::ptr_eq(t, &e.text)))
                .collect()
        })
    }

    /// Parses (where no parse is kept) and checks the files of one set, reusing what the
    /// analysis of an earlier version of the same files can give (incremental analysis).
    fn analyse(files: Vec<&(FileKey, Entry)>, previous: Option<&SetAnalysis>) -> SetAnalysis {
        let same = previous.and_then(|p| Some((p, p.same_texts(&files)?)));
        let mut map = SourceMap::new();
        let mut asts = Vec::with_capacity(files.len());
        let mut keys = Vec::with_capacity(files.len());
        let mut versions = Vec::with_capacity(files.len());
        let mut ids = HashMap::new();
        let mut texts = Vec::with_capacity(files.len());
        for (i, (key, entry)) in files.into_iter().enumerate() {
            // A file with the very text analysed then keeps its text and line index.
            let kept = same
                .as_ref()
                .filter(|(_, same)| same.get(i).copied().unwrap_or(false))
                .and_then(|(p, _)| p.ide.files().shared(FileId(i as u32)))
                .filter(|f| f.name == key.name());
            let id = match kept {
                Some(file) => map.add_shared(file),
                None => map.add(key.name(), entry.text.as_str()),
            };
            asts.push(SourceFile::clone(&entry.parsed()));
            ids.insert(key.clone(), id);
            keys.push(key.clone());
            versions.push(entry.version);
            texts.push(entry.text.clone());
        }
        SetAnalysis {
            ide: Ide::from_parsed_after(
                map,
                asts,
                same.as_ref().map(|(p, same)| (&p.ide, same.as_slice())),
            ),
            keys,
            versions,
            ids,
            texts,
        }
    }

    /// The id of a workspace file in this set.
    pub fn file(&self, key: &FileKey) -> Option<FileId> {
        self.ids.get(key).copied()
    }

    /// The workspace file of an id.
    pub fn key(&self, file: FileId) -> Option<&FileKey> {
        self.keys.get(file.0 as usize)
    }

    /// The editor's version of the text analysed (`None` for a file read from disk).
    pub fn version(&self, file: FileId) -> Option<i32> {
        self.versions.get(file.0 as usize).copied().flatten()
    }

    /// The files of the set, in order.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &FileKey)> {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, k)| (FileId(i as u32), k))
    }

    /// A location of this set as a workspace location.
    pub fn locate(&self, loc: Loc) -> Option<Located> {
        Some(Located {
            file: self.key(loc.file)?.clone(),
            span: loc.span,
        })
    }
}

/// Every set of one state, analysed.
struct Sets {
    sets: Vec<Arc<SetAnalysis>>,
    by_file: HashMap<FileKey, usize>,
    bad_manifests: Vec<BadManifest>,
}

struct Inner {
    generation: u64,
    files: Vec<(FileKey, Entry)>,
    folders: Vec<PathBuf>,
    sets: OnceLock<Sets>,
    /// An analysed earlier snapshot whose set analyses this one may reuse; let go once this one
    /// is analysed (so that snapshots do not chain).
    previous: Mutex<Option<Analysis>>,
    /// The thread freeing that earlier analysis (see [`Analysis::settle`]).
    freeing: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// An immutable analysis of one state of the workspace: cheap to clone, `Send` and `Sync`. The
/// policy sets are analysed once, by the first question (or [`Analysis::analyse`]); a snapshot
/// keeps answering about its state whatever changes the host receives afterwards.
#[derive(Clone)]
pub struct Analysis(Arc<Inner>);

impl Analysis {
    pub(super) fn new(
        generation: u64,
        files: Vec<(FileKey, Entry)>,
        folders: Vec<PathBuf>,
        previous: Option<&Analysis>,
    ) -> Analysis {
        Analysis(Arc::new(Inner {
            generation,
            files,
            folders,
            sets: OnceLock::new(),
            previous: Mutex::new(previous.and_then(Analysis::newest_analysed)),
            freeing: Mutex::new(None),
        }))
    }

    /// The analysis of an empty workspace, at generation 0.
    pub fn empty() -> Analysis {
        Analysis::new(0, Vec::new(), Vec::new(), None)
    }

    /// This snapshot when it is analysed, else the analysed one it would reuse.
    fn newest_analysed(&self) -> Option<Analysis> {
        if self.0.sets.get().is_some() {
            return Some(self.clone());
        }
        self.0
            .previous
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The analysis of the set holding the first of these files kept by the earlier snapshot.
    fn earlier(
        previous: Option<&Analysis>,
        files: &[&(FileKey, Entry)],
    ) -> Option<Arc<SetAnalysis>> {
        let sets = previous?.0.sets.get()?;
        let (first, _) = files.first()?;
        sets.sets.get(*sets.by_file.get(first)?).cloned()
    }

    /// Waits until the earlier analysis this one reused is freed (it is freed on a thread of its
    /// own, off the analysis: before giving memory back to the system, wait for it).
    pub fn settle(&self) {
        let freeing = self
            .0
            .freeing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = freeing {
            let _ = thread.join();
        }
    }

    /// The host's generation this snapshot was taken at.
    pub fn generation(&self) -> u64 {
        self.0.generation
    }

    /// Analyses every policy set now (parsing the files without a kept parse), unless done.
    pub fn analyse(&self) {
        self.analysed();
    }

    fn analysed(&self) -> &Sets {
        self.0.sets.get_or_init(|| {
            let previous = self
                .0
                .previous
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            let files: Vec<&(FileKey, Entry)> = self.0.files.iter().collect();
            let out = Analysis::analyse_sets(files, &self.0.folders, previous.as_ref());
            // The earlier analysis is let go on another thread: freeing a large set's trees and
            // model took a quarter of an incremental analysis.
            if let Some(previous) = previous {
                let freeing = std::thread::Builder::new()
                    .name("pol-free".into())
                    .spawn(move || drop(previous))
                    .ok();
                *self
                    .0
                    .freeing
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = freeing;
            }
            out
        })
    }

    /// Analyses the sets of `files`, reusing `previous`'s analyses where it can.
    fn analyse_sets(
        files: Vec<&(FileKey, Entry)>,
        folders: &[PathBuf],
        previous: Option<&Analysis>,
    ) -> Sets {
        let mut out = Sets {
            sets: Vec::new(),
            by_file: HashMap::new(),
            bad_manifests: Vec::new(),
        };
        {
            for (set, files) in sets::group(files, |(k, _)| k, folders) {
                if let Some(bad) = sets::bad_manifest(&set) {
                    out.bad_manifests.push(bad);
                }
                let analysis = match Analysis::earlier(previous, &files) {
                    Some(kept) if kept.is_of(&files) => kept,
                    earlier => Arc::new(SetAnalysis::analyse(files, earlier.as_deref())),
                };
                let index = out.sets.len();
                for (_, key) in analysis.files() {
                    out.by_file.insert(key.clone(), index);
                }
                out.sets.push(analysis);
            }
            out
        }
    }

    /// The analysis of each policy set.
    pub fn sets(&self) -> &[Arc<SetAnalysis>] {
        &self.analysed().sets
    }

    /// The analysis of the set a file belongs to.
    pub fn set_of(&self, file: &FileKey) -> Option<&Arc<SetAnalysis>> {
        let sets = self.analysed();
        sets.by_file.get(file).and_then(|&i| sets.sets.get(i))
    }

    /// The set of a file and the file's id in it.
    pub fn file(&self, file: &FileKey) -> Option<(&Arc<SetAnalysis>, FileId)> {
        let set = self.set_of(file)?;
        Some((set, set.file(file)?))
    }

    /// Whether a file is in the workspace analysed.
    pub fn contains(&self, file: &FileKey) -> bool {
        self.set_of(file).is_some()
    }

    /// The `pol.toml` files of the sets' roots that are invalid.
    pub fn bad_manifests(&self) -> &[BadManifest] {
        &self.analysed().bad_manifests
    }

    /// The bytes of text of every file.
    pub fn bytes(&self) -> usize {
        self.0.files.iter().map(|(_, e)| e.text.len()).sum()
    }

    /// The parse of a file this snapshot's analysis used (tests of parse reuse).
    #[cfg(test)]
    pub(super) fn kept_parse(&self, file: &FileKey) -> Option<Arc<SourceFile>> {
        self.analyse();
        let (_, entry) = self.0.files.iter().find(|(k, _)| k == file)?;
        entry.parse.get().cloned()
    }

    /// The text of a file as this snapshot has it.
    pub fn text(&self, file: &FileKey) -> Option<&str> {
        self.0
            .files
            .iter()
            .find(|(k, _)| k == file)
            .map(|(_, e)| e.text.as_str())
    }

    /// The diagnostics whose primary label is in a file (exactly `polc check`'s for its set).
    pub fn diagnostics(&self, file: &FileKey) -> Vec<Diagnostic> {
        match self.file(file) {
            Some((set, id)) => set.ide.file_diagnostics(id).into_iter().cloned().collect(),
            None => Vec::new(),
        }
    }

    /// Hover documentation at an offset of a file.
    pub fn hover(&self, file: &FileKey, offset: usize) -> Option<Hover> {
        let (set, id) = self.file(file)?;
        set.ide.hover(id, offset)
    }

    /// A hover at an offset of `current`, a newer text of `file` than this snapshot analysed:
    /// answered when the hovered name lies in a stretch the edits did not touch (see
    /// [`Unchanged`]), with its span in `current`; `None` otherwise (ask a newer analysis then).
    pub fn hover_in(&self, file: &FileKey, current: &str, offset: usize) -> Option<Hover> {
        let (set, id) = self.file(file)?;
        let analysed = &set.ide.files().get(id).text;
        let unchanged = Unchanged::new(analysed, current);
        let h = set.ide.hover(id, unchanged.to_old(offset)?)?;
        if h.loc.file != id {
            return None;
        }
        let (start, end) = unchanged.to_new(h.loc.span.start as usize, h.loc.span.end as usize)?;
        Some(Hover {
            loc: Loc::new(id, Span::new(start, end)),
            markdown: h.markdown,
        })
    }

    /// Completions at an offset of `current`, the editor's text of `file` (which may be newer
    /// than this snapshot's), with the names of the file's set.
    pub fn completions_in(
        &self,
        file: &FileKey,
        current: &str,
        offset: usize,
    ) -> Vec<CompletionItem> {
        match self.set_of(file) {
            Some(set) => set.ide.completions_in(current, offset),
            None => SetAnalysis::empty().ide.completions_in(current, offset),
        }
    }

    /// Where the symbol at an offset is declared.
    pub fn definition(&self, file: &FileKey, offset: usize) -> Vec<Located> {
        match self.file(file) {
            Some((set, id)) => locate_all(set, set.ide.definition(id, offset)),
            None => Vec::new(),
        }
    }

    /// Every place the symbol at an offset is named, its declaration included when asked.
    pub fn references(
        &self,
        file: &FileKey,
        offset: usize,
        include_declaration: bool,
    ) -> Vec<Located> {
        match self.file(file) {
            Some((set, id)) => locate_all(set, set.ide.references(id, offset, include_declaration)),
            None => Vec::new(),
        }
    }

    /// The edits renaming the symbol at an offset: each a span of a file and its new text.
    /// `Ok(None)` when the file is not in the workspace.
    pub fn rename(
        &self,
        file: &FileKey,
        offset: usize,
        new_name: &str,
    ) -> Result<Option<Vec<(Located, String)>>, RenameError> {
        let Some((set, id)) = self.file(file) else {
            return Ok(None);
        };
        let edits = set.ide.rename(id, offset, new_name)?;
        Ok(Some(
            edits
                .into_iter()
                .filter_map(|e| Some((set.locate(e.loc)?, e.new_text)))
                .collect(),
        ))
    }

    /// The inlay hints of a file (each column's effective rule).
    pub fn inlay_hints(&self, file: &FileKey) -> Vec<InlayHint> {
        match self.file(file) {
            Some((set, id)) => set.ide.inlay_hints(id),
            None => Vec::new(),
        }
    }
}

fn locate_all(set: &SetAnalysis, locs: Vec<Loc>) -> Vec<Located> {
    locs.into_iter().filter_map(|l| set.locate(l)).collect()
}
