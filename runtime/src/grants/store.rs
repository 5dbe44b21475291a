//! The durable store of temporary unmask grants.
//!
//! Each grant is one line of a [`JsonLinesFile`] (the same durable, append-only format as the
//! audit file: written and fsynced before the grant is reported, a torn last line truncated on
//! reopen), so an application that restarts keeps its grants until they expire. Grants are
//! identified by source *name* and the record key's canonical text, so they survive a new
//! bundle as long as the source keeps its name. Expired grants are ignored when read; the file
//! keeps them (it is append-only) until [`GrantStore::compact`] rewrites it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::{JournalError, JsonLinesFile};

/// One temporary unmask grant as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGrant {
    /// The source's name.
    pub source: String,
    /// The record's key, as canonical text.
    pub key: String,
    /// The login of the user who asked for it.
    pub granted_to: String,
    /// The rule that allowed it.
    pub rule: String,
    /// When it was granted.
    pub granted_at: DateTime<Utc>,
    /// When it expires (the record is masked again from this instant on).
    pub expires: DateTime<Utc>,
}

/// Temporary unmask grants, in memory or durable in a file.
#[derive(Debug)]
pub struct GrantStore {
    file: Option<JsonLinesFile<StoredGrant>>,
    grants: Mutex<Vec<StoredGrant>>,
}

impl GrantStore {
    /// A store that forgets its grants when dropped.
    pub fn in_memory() -> Self {
        GrantStore {
            file: None,
            grants: Mutex::new(Vec::new()),
        }
    }

    /// Opens (creating if needed) the durable store at `path`, reading the grants it holds.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let (file, recovered) = JsonLinesFile::open(path)?;
        Ok(GrantStore {
            file: Some(file),
            grants: Mutex::new(recovered.records),
        })
    }

    /// Adds a grant: durable (in a file store) before this returns.
    pub fn add(&self, grant: StoredGrant) -> Result<(), JournalError> {
        let mut grants = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = &self.file {
            file.append(&grant)?;
        }
        grants.push(grant);
        Ok(())
    }

    /// The grants that hold at `now` (expiry strictly after `now`), in the order they were
    /// given.
    pub fn active(&self, now: DateTime<Utc>) -> Vec<StoredGrant> {
        self.grants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|g| g.expires > now)
            .cloned()
            .collect()
    }

    /// Rewrites the file with only the grants that hold at `now` (a no-op for an in-memory
    /// store apart from forgetting expired grants). The new content is written to a temporary
    /// file beside the store, fsynced, and renamed over it, so a crash leaves either the old
    /// file or the new one.
    pub fn compact(&mut self, now: DateTime<Utc>) -> Result<(), JournalError> {
        let live = self.active(now);
        if let Some(file) = &self.file {
            let path = file.path().to_owned();
            let tmp = tmp_path(&path);
            let io = |action: &'static str| {
                let path = path.clone();
                move |error| JournalError::Io {
                    path,
                    action,
                    error,
                }
            };
            let mut bytes = Vec::new();
            for g in &live {
                serde_json::to_writer(&mut bytes, g)
                    .map_err(|e| JournalError::Encode(e.to_string()))?;
                bytes.push(b'\n');
            }
            let mut out = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)
                .map_err(io("create the compacted copy of"))?;
            out.write_all(&bytes)
                .and_then(|()| out.sync_all())
                .map_err(io("write the compacted copy of"))?;
            std::fs::rename(&tmp, &path).map_err(io("replace"))?;
            if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                if cfg!(unix) {
                    File::open(dir)
                        .and_then(|d| d.sync_all())
                        .map_err(io("sync the directory of"))?;
                }
            }
            let (file, _) = JsonLinesFile::open(&path)?;
            self.file = Some(file);
        }
        *self.grants.lock().unwrap_or_else(|p| p.into_inner()) = live;
        Ok(())
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_owned()).unwrap_or_default();
    name.push(".compact");
    path.with_file_name(name)
}
