//! The files of a policy set, in authored order.

use pol_grammar::{LineIndex, Span};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`]; also its rank in authored order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FileId(pub u32);

/// A place in a policy set: a file and a span in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Loc {
    pub file: FileId,
    pub span: Span,
}

impl Loc {
    pub fn new(file: FileId, span: Span) -> Loc {
        Loc { file, span }
    }
}

/// One file: its display name (a path as given), its text and line index.
#[derive(Clone, Debug)]
pub struct SourceFileText {
    pub name: String,
    pub text: String,
    pub lines: LineIndex,
}

/// Every file of a policy set, in authored order (sorted by path when read from disk).
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    /// Shared: the language server's next analysis of a set takes the unchanged files' texts
    /// and line indexes as they are ([`SourceMap::add_shared`]).
    files: Vec<Arc<SourceFileText>>,
}

/// Reading a policy set from disk failed.
#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let lines = LineIndex::new(&text);
        self.add_shared(Arc::new(SourceFileText {
            name: name.into(),
            text,
            lines,
        }))
    }

    /// Adds a file another map holds (see [`SourceMap::shared`]), without copying it.
    pub fn add_shared(&mut self, file: Arc<SourceFileText>) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    /// Moves the files of `other` after these (texts and line indexes are not copied); a file
    /// `i` of `other` becomes `FileId(self.len() + i)`.
    pub fn append(&mut self, other: SourceMap) {
        self.files.extend(other.files);
    }

    /// A file as shared with other maps.
    pub fn shared(&self, id: FileId) -> Option<Arc<SourceFileText>> {
        self.files.get(id.0 as usize).cloned()
    }

    /// Reads the `.pol` files named by `paths`: a directory means its `.pol` files, recursively,
    /// sorted by path. Files are in the order given, directories expanded in place.
    pub fn load(paths: &[PathBuf]) -> Result<SourceMap, LoadError> {
        let mut map = SourceMap::new();
        for p in paths {
            let meta = std::fs::metadata(p).map_err(|e| LoadError {
                path: p.clone(),
                message: e.to_string(),
            })?;
            if meta.is_dir() {
                let mut found = Vec::new();
                collect_pol_files(p, &mut found)?;
                found.sort();
                for f in found {
                    map.add_path(&f)?;
                }
            } else {
                map.add_path(p)?;
            }
        }
        Ok(map)
    }

    fn add_path(&mut self, path: &Path) -> Result<FileId, LoadError> {
        let bytes = std::fs::read(path).map_err(|e| LoadError {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| LoadError {
            path: path.to_path_buf(),
            message: format!(
                "not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Ok(self.add(path.display().to_string(), text))
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFileText)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f.as_ref()))
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "a `FileId` is only made by this map, as the index of a file it holds (files are never removed)"
    )]
    pub fn get(&self, id: FileId) -> &SourceFileText {
        &self.files[id.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// One-based (line, column in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: u32) -> (usize, usize) {
        let f = self.get(file);
        let mut offset = (offset as usize).min(f.text.len());
        while !f.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = f.lines.line(offset);
        let start = f.lines.line_start(line).unwrap_or(0);
        let col = f
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    /// The text of a span.
    pub fn snippet(&self, loc: Loc) -> &str {
        self.get(loc.file).text.get(loc.span.range()).unwrap_or("")
    }
}

pub(crate) fn collect_pol_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    walk_pol_files(dir, out, &mut |e| Err(e))
}

/// The `.pol` files under a folder, recursively, sorted by path; folders and entries that cannot
/// be read are skipped (the language server's view of a workspace folder, where one unreadable
/// folder must not hide the others). `polc` uses the same walk, failing on the first error.
pub fn pol_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    // Skipping never fails.
    let _skipped = walk_pol_files(dir, &mut out, &mut |_| Ok(()));
    out.sort();
    out
}

/// Walks `dir` for `.pol` files; `on_error` decides whether an unreadable entry stops the walk
/// (`Err`) or is skipped (`Ok`).
fn walk_pol_files(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    on_error: &mut dyn FnMut(LoadError) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            return on_error(LoadError {
                path: dir.to_path_buf(),
                message: e.to_string(),
            })
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                on_error(LoadError {
                    path: dir.to_path_buf(),
                    message: e.to_string(),
                })?;
                continue;
            }
        };
        let path = entry.path();
        let ty = match entry.file_type() {
            Ok(ty) => ty,
            Err(e) => {
                on_error(LoadError {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                continue;
            }
        };
        if ty.is_dir() {
            walk_pol_files(&path, out, on_error)?;
        } else if path.extension().is_some_and(|e| e == "pol") {
            out.push(path);
        }
    }
    Ok(())
}

impl<'a> codespan_reporting::files::Files<'a> for SourceMap {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.files
            .get(id.0 as usize)
            .map(|f| f.name.as_str())
            .ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.files
            .get(id.0 as usize)
            .map(|f| f.text.as_str())
            .ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn line_index(
        &'a self,
        id: FileId,
        byte_index: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        let f = self
            .files
            .get(id.0 as usize)
            .ok_or(codespan_reporting::files::Error::FileMissing)?;
        Ok(f.lines.line(byte_index.min(f.text.len())))
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, codespan_reporting::files::Error> {
        let f = self
            .files
            .get(id.0 as usize)
            .ok_or(codespan_reporting::files::Error::FileMissing)?;
        let start = f.lines.line_start(line_index).ok_or(
            codespan_reporting::files::Error::LineTooLarge {
                given: line_index,
                max: f.lines.line_count().saturating_sub(1),
            },
        )?;
        let end = f.lines.line_start(line_index + 1).unwrap_or(f.text.len());
        Ok(start..end)
    }
}
