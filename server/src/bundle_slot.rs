//! The bundle being served, and its hot reload: a new bundle (and key file) is read, loaded and
//! verified aside, then swapped in atomically. Requests hold an `Arc` of the bundle they
//! started with, so requests in flight finish on the old one; a bundle that fails to load
//! leaves the old one serving. The lookup tables the server supplies (`--table`) are read and
//! set on the new engine before the swap ([`crate::tables`]), so a reload keeps them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use pol_runtime::{Engine, KeyRing, MaskingKey};
use sha2::{Digest, Sha256};

use crate::tables::{self, Supplied, SupplyError, TableFile};

/// A loaded, verified bundle.
#[derive(Debug)]
pub struct Loaded {
    /// The engine.
    pub engine: Engine,
    /// The first 16 hex digits of the SHA-256 of the bundle file: its version in logs,
    /// `/readyz` and `/metrics`.
    pub version: String,
    /// The lookup tables the server supplied to this engine (`--table`).
    pub tables: Vec<Supplied>,
}

/// Why a bundle could not be loaded.
#[derive(Debug)]
pub enum LoadFailure {
    /// The bundle file cannot be read.
    Read(PathBuf, std::io::Error),
    /// The key file cannot be read or is not a key.
    Key(PathBuf, String),
    /// The bundle does not load or verify.
    Load(PathBuf, String),
    /// A lookup table cannot be supplied to the new bundle.
    Table(SupplyError),
}

impl fmt::Display for LoadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadFailure::Read(p, e) => write!(f, "cannot read the bundle {}: {e}", p.display()),
            LoadFailure::Key(p, e) => write!(f, "the key file {}: {e}", p.display()),
            LoadFailure::Load(p, e) => write!(f, "cannot load the bundle {}: {e}", p.display()),
            LoadFailure::Table(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadFailure {}

/// The bundle file's modification time and length, to notice a change.
pub type Stamp = Option<(SystemTime, u64)>;

/// The stamp of a file (None if it cannot be read).
pub fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Reads, loads and verifies a bundle (and its key), and supplies its lookup tables from their
/// files; `previous` is what the bundle serving now was given (`None` at start).
pub fn load(
    bundle: &Path,
    key_file: Option<&Path>,
    table_files: &[TableFile],
    previous: Option<&[Supplied]>,
) -> Result<Loaded, LoadFailure> {
    let keys = match key_file {
        Some(k) => Some(
            MaskingKey::from_file(k)
                .map(KeyRing::new)
                .map_err(|e| LoadFailure::Key(k.to_owned(), e.to_string()))?,
        ),
        None => None,
    };
    let bytes = std::fs::read(bundle).map_err(|e| LoadFailure::Read(bundle.to_owned(), e))?;
    let version = hex::encode(Sha256::digest(&bytes).get(..8).unwrap_or_default());
    let engine = Engine::load(&bytes, keys)
        .map_err(|e| LoadFailure::Load(bundle.to_owned(), e.to_string()))?;
    let tables = tables::supply(&engine, table_files, previous).map_err(LoadFailure::Table)?;
    Ok(Loaded {
        engine,
        version,
        tables,
    })
}

/// The bundle being served.
#[derive(Debug)]
pub struct BundleSlot {
    bundle: PathBuf,
    key_file: Option<PathBuf>,
    tables: Vec<TableFile>,
    current: RwLock<Arc<Loaded>>,
}

impl BundleSlot {
    /// Loads the first bundle (a failure stops the server from starting).
    pub fn open(
        bundle: PathBuf,
        key_file: Option<PathBuf>,
        tables: Vec<TableFile>,
    ) -> Result<Self, LoadFailure> {
        let loaded = load(&bundle, key_file.as_deref(), &tables, None)?;
        Ok(BundleSlot {
            bundle,
            key_file,
            tables,
            current: RwLock::new(Arc::new(loaded)),
        })
    }

    /// The bundle file.
    pub fn path(&self) -> &Path {
        &self.bundle
    }

    /// The files of the lookup tables the server supplies.
    pub fn table_paths(&self) -> impl Iterator<Item = &Path> {
        self.tables.iter().map(|t| t.path.as_path())
    }

    /// The bundle serving now.
    pub fn current(&self) -> Arc<Loaded> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Loads the bundle file again, aside, supplies it the lookup tables (their files read
    /// again), and swaps it in; on failure the old one stays.
    /// Returns the version now serving. Blocking (reads files): call it off the async workers.
    pub fn reload(&self) -> Result<Arc<Loaded>, LoadFailure> {
        let previous = self.current();
        let loaded = Arc::new(load(
            &self.bundle,
            self.key_file.as_deref(),
            &self.tables,
            Some(&previous.tables),
        )?);
        let mut g = match self.current.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g = Arc::clone(&loaded);
        Ok(loaded)
    }
}
