//! The policy sets of the workspace: each file belongs to the nearest folder above it that holds
//! a `pol.toml` (a policy-set root, see `pol_compiler::policy_sets`), looked for up to the
//! workspace folder holding the file; files under no root belong to the set of their workspace
//! folder, and files outside every folder (unsaved documents, files opened alone) to one set of
//! their own. Each set is analysed alone: two examples of one repository never see each other's
//! declarations.

use crate::workspace::{self, key, Entry, Parsed, Snapshot};
use pol_compiler::policy_sets::{nearest_root, parse_manifest, ManifestError, MANIFEST};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp::lsp_types::Url;

/// What a set is keyed by: its root folder, its workspace folder, or `None` (outside them).
pub type SetKey = Option<PathBuf>;

/// An invalid `pol.toml`: its URI, its text and what is wrong.
pub struct BadManifest {
    pub uri: Url,
    pub text: String,
    pub error: ManifestError,
}

/// The analysis of every set for one generation of the files.
pub struct Sets {
    pub generation: u64,
    pub sets: Vec<Arc<Snapshot>>,
    by_uri: HashMap<Url, usize>,
    /// The `pol.toml` files of the roots found that are invalid.
    pub bad_manifests: Vec<BadManifest>,
}

impl Sets {
    pub fn empty() -> Sets {
        Sets {
            generation: 0,
            sets: Vec::new(),
            by_uri: HashMap::new(),
            bad_manifests: Vec::new(),
        }
    }

    /// The analysis of the set a document belongs to.
    pub fn of(&self, uri: &Url) -> Option<Arc<Snapshot>> {
        self.by_uri.get(uri).map(|&i| self.sets[i].clone())
    }

    /// Whether a document is in some set.
    pub fn contains(&self, uri: &Url) -> bool {
        self.by_uri.contains_key(uri)
    }
}

/// The set of a file: the nearest root at or above its folder, within the workspace folder
/// holding it (the deepest one when folders nest); else that folder; else `None`.
pub fn set_of(path: &Path, folders: &[PathBuf], roots: &mut HashMap<PathBuf, SetKey>) -> SetKey {
    let folder = folders
        .iter()
        .filter(|f| path.starts_with(f))
        .max_by_key(|f| f.components().count())?;
    let dir = path.parent()?;
    if let Some(known) = roots.get(dir) {
        return known.clone();
    }
    let found = nearest_root(dir, folder).unwrap_or_else(|| folder.clone());
    roots.insert(dir.to_path_buf(), Some(found.clone()));
    Some(found)
}

/// Groups the files by set (sets in the order of their first file; files in order within).
pub fn group(entries: Vec<Entry>, folders: &[PathBuf]) -> Vec<(SetKey, Vec<Entry>)> {
    let mut known = HashMap::new();
    let mut out: Vec<(SetKey, Vec<Entry>)> = Vec::new();
    for e in entries {
        let path = key(&e.uri);
        let set = match e.uri.scheme() {
            "file" => set_of(&path, folders, &mut known),
            _ => None,
        };
        match out.iter_mut().find(|(k, _)| *k == set) {
            Some((_, files)) => files.push(e),
            None => out.push((set, vec![e])),
        }
    }
    out
}

/// The invalid `pol.toml` of a set's root, if it is one and its file does not read as valid.
fn bad_manifest(set: &SetKey) -> Option<BadManifest> {
    let path = set.as_ref()?.join(MANIFEST);
    let text = std::fs::read_to_string(&path).ok()?;
    let error = parse_manifest(&text).err()?;
    Some(BadManifest {
        uri: Url::from_file_path(&path).ok()?,
        text,
        error,
    })
}

/// Analyses each set of the files apart. Returns the trees parsed (to keep) and the analyses.
pub fn analyse(generation: u64, entries: Vec<Entry>, folders: &[PathBuf]) -> (Vec<Parsed>, Sets) {
    let mut parsed = Vec::new();
    let mut sets = Sets::empty();
    sets.generation = generation;
    for (set, files) in group(entries, folders) {
        if let Some(bad) = bad_manifest(&set) {
            sets.bad_manifests.push(bad);
        }
        let (mut p, snap) = workspace::analyse(files);
        parsed.append(&mut p);
        let index = sets.sets.len();
        for uri in &snap.uris {
            sets.by_uri.insert(uri.clone(), index);
        }
        sets.sets.push(Arc::new(snap));
    }
    (parsed, sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &Path) -> Entry {
        Entry {
            uri: Url::from_file_path(path).expect("a file URI"),
            text: Arc::new(String::new()),
            ast: None,
            open: false,
            version: None,
        }
    }

    #[test]
    fn files_go_to_the_nearest_root_within_their_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = dir.path().join("ws");
        for d in ["ws/a/deep", "ws/b", "ws/plain"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("creates");
        }
        std::fs::write(ws.join("a/pol.toml"), "").expect("writes");
        std::fs::write(ws.join("b/pol.toml"), "").expect("writes");
        // A root above the workspace folder is not looked for.
        std::fs::write(dir.path().join("pol.toml"), "").expect("writes");
        let files = [
            ws.join("a/deep/x.pol"),
            ws.join("a/y.pol"),
            ws.join("b/z.pol"),
            ws.join("plain/w.pol"),
            ws.join("top.pol"),
        ];
        let mut entries: Vec<Entry> = files.iter().map(|p| entry(p)).collect();
        entries.push(Entry {
            uri: Url::parse("untitled:Untitled-1").expect("a URI"),
            ..entry(&files[0])
        });
        let groups = group(entries, std::slice::from_ref(&ws));
        let shape: Vec<(SetKey, usize)> =
            groups.iter().map(|(k, f)| (k.clone(), f.len())).collect();
        assert_eq!(
            shape,
            [
                (Some(ws.join("a")), 2),
                (Some(ws.join("b")), 1),
                (Some(ws.clone()), 2),
                (None, 1),
            ]
        );
    }
}
