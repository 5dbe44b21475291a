//! URI ↔ workspace file mapping: a `file:` URI is the file at its path; any other URI (an
//! editor's unsaved buffer) a detached document named by the URI.

use pol_compiler::ide::FileKey;
use tower_lsp::lsp_types::Url;

/// The workspace file of a URI.
pub fn key(uri: &Url) -> FileKey {
    match uri.scheme() {
        "file" => match uri.to_file_path() {
            Ok(path) => FileKey::Path(path),
            Err(()) => FileKey::Detached(uri.to_string()),
        },
        _ => FileKey::Detached(uri.to_string()),
    }
}

/// The URI of a workspace file.
pub fn url(key: &FileKey) -> Option<Url> {
    match key {
        FileKey::Path(path) => Url::from_file_path(path).ok(),
        FileKey::Detached(name) => Url::parse(name).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_through_keys() {
        for s in [
            "file:///ws/a%20b/x.pol",
            "untitled:Untitled-1",
            "file:///ws/%C3%A9t%C3%A9.pol",
        ] {
            let uri = Url::parse(s).expect("a URI");
            assert_eq!(url(&key(&uri)).as_ref(), Some(&uri), "{s}");
        }
        let uri = Url::parse("untitled:Untitled-1").expect("a URI");
        assert_eq!(key(&uri), FileKey::Detached("untitled:Untitled-1".into()));
    }
}
