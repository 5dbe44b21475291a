//! The policy sets of the workspace: each file belongs to the nearest folder above it that holds
//! a `pol.toml` (a policy-set root, see [`crate::policy_sets`]), looked for up to the workspace
//! folder holding the file; files under no root belong to the set of their workspace folder, and
//! files outside every folder (unsaved documents, files opened alone) to one set of their own.
//! Each set is analysed alone: two examples of one repository never see each other's
//! declarations.

use super::FileKey;
use crate::policy_sets::{nearest_root, parse_manifest, ManifestError, MANIFEST};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What a set is keyed by: its root folder, its workspace folder, or `None` (outside them).
pub type SetKey = Option<PathBuf>;

/// An invalid `pol.toml`: its path, its text and what is wrong.
#[derive(Clone, Debug)]
pub struct BadManifest {
    pub path: PathBuf,
    pub text: String,
    pub error: ManifestError,
}

/// The set of a file: the nearest root at or above its folder, within the workspace folder
/// holding it (the deepest one when folders nest); else that folder; else `None`.
pub(super) fn set_of(
    path: &Path,
    folders: &[PathBuf],
    roots: &mut HashMap<PathBuf, SetKey>,
) -> SetKey {
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

/// Groups items by the set of their file (sets in the order of their first file; items in
/// order within).
pub(super) fn group<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &FileKey,
    folders: &[PathBuf],
) -> Vec<(SetKey, Vec<T>)> {
    let mut known = HashMap::new();
    let mut out: Vec<(SetKey, Vec<T>)> = Vec::new();
    for item in items {
        let set = match key(&item) {
            FileKey::Path(path) => set_of(path, folders, &mut known),
            FileKey::Detached(_) => None,
        };
        match out.iter_mut().find(|(k, _)| *k == set) {
            Some((_, files)) => files.push(item),
            None => out.push((set, vec![item])),
        }
    }
    out
}

/// The invalid `pol.toml` of a set's root, if it is one and its file does not read as valid.
pub(super) fn bad_manifest(set: &SetKey) -> Option<BadManifest> {
    let path = set.as_ref()?.join(MANIFEST);
    let text = std::fs::read_to_string(&path).ok()?;
    let error = parse_manifest(&text).err()?;
    Some(BadManifest { path, text, error })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut files: Vec<FileKey> = [
            ws.join("a/deep/x.pol"),
            ws.join("a/y.pol"),
            ws.join("b/z.pol"),
            ws.join("plain/w.pol"),
            ws.join("top.pol"),
        ]
        .into_iter()
        .map(FileKey::Path)
        .collect();
        files.push(FileKey::Detached("untitled:Untitled-1".to_string()));
        let groups = group(files, |k| k, std::slice::from_ref(&ws));
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
