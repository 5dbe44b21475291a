//! Policy-set roots: a folder holding a `pol.toml` file is the root of a policy set, and every
//! `.pol` file belongs to the set of the nearest folder above it (or its own) that holds one.
//! One repository can so hold independent policy sets (the examples) that are checked apart.
//!
//! `pol.toml` is TOML. Its keys (all optional; an empty file is valid):
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `name` | string | the policy set's name, shown in messages (default: the folder's name) |
//!
//! Any other key, a value of another type and a file that is not TOML are errors
//! ([`ManifestError`]), with the file, line and column.
//!
//! For `polc` ([`partition`]), a root counts when it is a path given on the command line, a
//! folder below one, or the folder of a file given (roots above the paths given are not looked
//! for, so what a command reads is what it was given). Files under no root form one set.

use crate::source_map::{collect_pol_files, LoadError};
use std::path::{Path, PathBuf};

/// The name of the marker file of a policy-set root.
pub const MANIFEST: &str = "pol.toml";

/// The keys `pol.toml` may hold.
pub const KEYS: &[&str] = &["name"];

/// What a `pol.toml` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The `name` key.
    pub name: Option<String>,
}

/// What is wrong with a `pol.toml`, with the byte range it is about (when known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManifestError {
    /// The file is not TOML.
    Syntax {
        message: String,
        span: Option<std::ops::Range<usize>>,
    },
    /// A key the format does not define.
    UnknownKey {
        key: String,
        span: Option<std::ops::Range<usize>>,
    },
    /// A key with a value of another type.
    WrongType {
        key: String,
        expected: &'static str,
        found: &'static str,
        span: Option<std::ops::Range<usize>>,
    },
}

impl ManifestError {
    /// The stable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            ManifestError::Syntax { .. } => "M0001",
            ManifestError::UnknownKey { .. } => "M0002",
            ManifestError::WrongType { .. } => "M0003",
        }
    }

    /// The byte range of `pol.toml` the error is about.
    pub fn span(&self) -> Option<std::ops::Range<usize>> {
        match self {
            ManifestError::Syntax { span, .. }
            | ManifestError::UnknownKey { span, .. }
            | ManifestError::WrongType { span, .. } => span.clone(),
        }
    }

    /// The message, without the location.
    pub fn message(&self) -> String {
        match self {
            ManifestError::Syntax { message, .. } => {
                format!("not a valid TOML file: {}", message.trim_end())
            }
            ManifestError::UnknownKey { key, .. } => format!(
                "unknown key `{key}` (pol.toml may hold: {})",
                KEYS.join(", ")
            ),
            ManifestError::WrongType {
                key,
                expected,
                found,
                ..
            } => format!("`{key}` must be a {expected} (found: {found})"),
        }
    }

    /// `path:line:column: error[CODE]: message`, with the line and column (one-based) of the
    /// span in `text`, the file's contents.
    pub fn render(&self, path: &Path, text: &str) -> String {
        let (line, column) = self.line_col(text);
        format!(
            "{}:{line}:{column}: error[{}]: {}",
            path.display(),
            self.code(),
            self.message()
        )
    }

    /// One-based line and column (in characters) of the start of the span (1:1 without one).
    pub fn line_col(&self, text: &str) -> (usize, usize) {
        let mut at = self.span().map_or(0, |s| s.start).min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[start..].chars().count() + 1)
    }
}

/// Reads the text of a `pol.toml`.
pub fn parse_manifest(text: &str) -> Result<Manifest, ManifestError> {
    let doc = toml_edit::Document::parse(text).map_err(|e| ManifestError::Syntax {
        message: e.message().to_string(),
        span: e.span(),
    })?;
    let mut manifest = Manifest::default();
    let Some(table) = doc.as_item().as_table() else {
        return Ok(manifest);
    };
    for (key, item) in table.iter() {
        let key_span = table.key(key).and_then(|k| k.span());
        match key {
            "name" => match item.as_str() {
                Some(name) => manifest.name = Some(name.to_string()),
                None => {
                    return Err(ManifestError::WrongType {
                        key: key.to_string(),
                        expected: "string",
                        found: item.type_name(),
                        span: item.span().or(key_span),
                    })
                }
            },
            _ => {
                return Err(ManifestError::UnknownKey {
                    key: key.to_string(),
                    span: key_span,
                })
            }
        }
    }
    Ok(manifest)
}

/// Reading the policy sets of some paths failed.
#[derive(Debug)]
pub enum SetError {
    /// A path or file could not be read.
    Load(LoadError),
    /// A `pol.toml` is invalid.
    Manifest(Box<InvalidManifest>),
}

/// An invalid `pol.toml`: where, what, and the message naming the file, line and column.
#[derive(Debug)]
pub struct InvalidManifest {
    pub path: PathBuf,
    pub error: ManifestError,
    pub rendered: String,
}

impl std::fmt::Display for SetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetError::Load(e) => write!(f, "{e}"),
            SetError::Manifest(m) => f.write_str(&m.rendered),
        }
    }
}

impl From<LoadError> for SetError {
    fn from(e: LoadError) -> SetError {
        SetError::Load(e)
    }
}

/// The files of one policy set, in the order they are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicySet {
    /// The folder holding its `pol.toml`; `None` for the files under no root.
    pub root: Option<PathBuf>,
    /// What its `pol.toml` says.
    pub manifest: Manifest,
    pub files: Vec<PathBuf>,
}

impl PolicySet {
    /// The set's name: its manifest's `name`, else its root folder, else `None`.
    pub fn name(&self) -> Option<String> {
        self.manifest
            .name
            .clone()
            .or_else(|| self.root.as_ref().map(|r| r.display().to_string()))
    }
}

/// Reads and checks the `pol.toml` of a root folder.
pub fn read_manifest(root: &Path) -> Result<Manifest, SetError> {
    let path = root.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| LoadError {
        path: path.clone(),
        message: e.to_string(),
    })?;
    parse_manifest(&text).map_err(|error| {
        SetError::Manifest(Box::new(InvalidManifest {
            rendered: error.render(&path, &text),
            path,
            error,
        }))
    })
}

/// The nearest folder at or above `dir` and at or below `limit` that holds a `pol.toml`.
pub fn nearest_root(dir: &Path, limit: &Path) -> Option<PathBuf> {
    let mut at = Some(dir);
    while let Some(d) = at {
        if d.join(MANIFEST).is_file() {
            return Some(d.to_path_buf());
        }
        if d == limit {
            break;
        }
        at = d.parent().filter(|p| p.starts_with(limit));
    }
    None
}

/// The policy sets of the `.pol` files named by `paths` (a directory means its `.pol` files,
/// recursively, sorted by path): one per root, in the order their first file comes, and one
/// for the files under no root. Every root's `pol.toml` is checked.
pub fn partition(paths: &[PathBuf]) -> Result<Vec<PolicySet>, SetError> {
    let mut sets: Vec<PolicySet> = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| LoadError {
            path: p.clone(),
            message: e.to_string(),
        })?;
        let (files, limit) = if meta.is_dir() {
            let mut found = Vec::new();
            collect_pol_files(p, &mut found)?;
            found.sort();
            (found, p.clone())
        } else {
            let dir = p.parent().map_or_else(PathBuf::new, Path::to_path_buf);
            (vec![p.clone()], dir)
        };
        for f in files {
            let dir = f.parent().map_or_else(PathBuf::new, Path::to_path_buf);
            let root = nearest_root(&dir, &limit);
            match sets.iter_mut().find(|s| s.root == root) {
                Some(s) => s.files.push(f),
                None => {
                    let manifest = match &root {
                        Some(r) => read_manifest(r)?,
                        None => Manifest::default(),
                    };
                    sets.push(PolicySet {
                        root,
                        manifest,
                        files: vec![f],
                    });
                }
            }
        }
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_read_and_unknown_keys_rejected() {
        assert_eq!(parse_manifest(""), Ok(Manifest::default()));
        assert_eq!(
            parse_manifest("# a comment\nname = \"desk\"\n"),
            Ok(Manifest {
                name: Some("desk".to_string())
            })
        );
        let text = "name = \"x\"\nnmae = \"y\"\n";
        let e = parse_manifest(text).unwrap_err();
        assert_eq!(
            e.render(Path::new("a/pol.toml"), text),
            "a/pol.toml:2:1: error[M0002]: unknown key `nmae` (pol.toml may hold: name)"
        );
        let text = "name = 3\n";
        let e = parse_manifest(text).unwrap_err();
        assert_eq!(
            e.render(Path::new("pol.toml"), text),
            "pol.toml:1:8: error[M0003]: `name` must be a string (found: integer)"
        );
        let text = "[set]\nname = \"x\"\n";
        assert_eq!(
            parse_manifest(text)
                .unwrap_err()
                .render(Path::new("pol.toml"), text),
            "pol.toml:1:2: error[M0002]: unknown key `set` (pol.toml may hold: name)"
        );
        let text = "name = \n";
        let e = parse_manifest(text).unwrap_err();
        assert_eq!(e.code(), "M0001");
        assert!(e
            .render(Path::new("pol.toml"), text)
            .starts_with("pol.toml:1:"));
    }
}
