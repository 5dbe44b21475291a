//! The durable store of temporary unmask grants.
//!
//! Each grant is one line of a [`JsonLinesFile`] (the same durable, append-only format as the
//! audit file: written and fsynced before the grant is reported, a torn last line truncated on
//! reopen), so an application that restarts keeps its grants until they expire. Grants are
//! identified by source *name* and the record key's canonical text, so they survive a new
//! bundle as long as the source keeps its name. Expired grants are ignored when read; the file
//! keeps them (it is append-only) until [`GrantStore::compact`] rewrites it.
//!
//! A revocation is appended as a line of its own (`{"revoke":"g-…","revoked_at":…,
//! "revoked_by":…}`); from then on the grant with that id no longer holds. Compaction drops
//! revoked grants with their revocations.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{JournalError, JsonLinesFile};

/// One temporary unmask grant as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGrant {
    /// The grant's id (`g-` and 10 hex digits), derived from the other fields by
    /// [`StoredGrant::derive_id`]; empty in files written before ids existed.
    #[serde(default)]
    pub id: String,
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

impl StoredGrant {
    /// The id of a grant with these fields: `g-` and the first 10 hex digits of a SHA-256 over
    /// source, key, grantee, rule and the instant of the grant (so the same request at the same
    /// instant gets the same id, and revoking it revokes both copies).
    pub fn derive_id(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.source.as_str(),
            self.key.as_str(),
            self.granted_to.as_str(),
            self.rule.as_str(),
            &self
                .granted_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let digest = h.finalize();
        format!("g-{}", &hex::encode(digest)[..10])
    }
}

/// The revocation of a grant, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// The id of the revoked grant.
    pub revoke: String,
    /// When it was revoked.
    pub revoked_at: DateTime<Utc>,
    /// The login of the user who revoked it.
    pub revoked_by: String,
}

/// One line of a store file: a grant or a revocation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Entry {
    Revocation(Revocation),
    Grant(StoredGrant),
}

/// A grant and, if it was revoked, its revocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantEntry {
    /// The grant.
    pub grant: StoredGrant,
    /// Its revocation, if any.
    pub revoked: Option<Revocation>,
}

/// Temporary unmask grants, in memory or durable in a file.
#[derive(Debug)]
pub struct GrantStore {
    file: Option<JsonLinesFile<Entry>>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    grants: Vec<StoredGrant>,
    revocations: Vec<Revocation>,
}

impl State {
    fn push(&mut self, entry: Entry) {
        match entry {
            Entry::Grant(g) => self.grants.push(g),
            Entry::Revocation(r) => self.revocations.push(r),
        }
    }

    fn revocation(&self, id: &str) -> Option<&Revocation> {
        self.revocations.iter().find(|r| r.revoke == id)
    }

    fn holds(&self, g: &StoredGrant, now: DateTime<Utc>) -> bool {
        g.expires > now && (g.id.is_empty() || self.revocation(&g.id).is_none())
    }
}

impl GrantStore {
    /// A store that forgets its grants when dropped.
    pub fn in_memory() -> Self {
        GrantStore {
            file: None,
            state: Mutex::new(State::default()),
        }
    }

    /// Opens (creating if needed) the durable store at `path`, reading the grants it holds.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let (file, recovered) = JsonLinesFile::open(path)?;
        let mut state = State::default();
        for entry in recovered.records {
            state.push(entry);
        }
        Ok(GrantStore {
            file: Some(file),
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a grant: durable (in a file store) before this returns. A grant without an id is
    /// given its [derived id](StoredGrant::derive_id). Returns the grant as stored.
    pub fn add(&self, mut grant: StoredGrant) -> Result<StoredGrant, JournalError> {
        if grant.id.is_empty() {
            grant.id = grant.derive_id();
        }
        let mut state = self.lock();
        let entry = Entry::Grant(grant.clone());
        if let Some(file) = &self.file {
            file.append(&entry)?;
        }
        state.push(entry);
        Ok(grant)
    }

    /// Revokes the grant with this id: durable before this returns. Returns false (and writes
    /// nothing) when no grant has this id or it is already revoked.
    pub fn revoke(&self, id: &str, at: DateTime<Utc>, by: &str) -> Result<bool, JournalError> {
        let mut state = self.lock();
        if id.is_empty()
            || !state.grants.iter().any(|g| g.id == id)
            || state.revocation(id).is_some()
        {
            return Ok(false);
        }
        let entry = Entry::Revocation(Revocation {
            revoke: id.to_owned(),
            revoked_at: at,
            revoked_by: by.to_owned(),
        });
        if let Some(file) = &self.file {
            file.append(&entry)?;
        }
        state.push(entry);
        Ok(true)
    }

    /// The grants that hold at `now` (expiry strictly after `now`, not revoked), in the order
    /// they were given.
    pub fn active(&self, now: DateTime<Utc>) -> Vec<StoredGrant> {
        let state = self.lock();
        state
            .grants
            .iter()
            .filter(|g| state.holds(g, now))
            .cloned()
            .collect()
    }

    /// Every grant of the store (expired and revoked ones included), in the order given, each
    /// with its revocation if any.
    pub fn entries(&self) -> Vec<GrantEntry> {
        let state = self.lock();
        state
            .grants
            .iter()
            .map(|g| GrantEntry {
                grant: g.clone(),
                revoked: state
                    .revocation(&g.id)
                    .filter(|_| !g.id.is_empty())
                    .cloned(),
            })
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
                serde_json::to_writer(&mut bytes, &Entry::Grant(g.clone()))
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
        *self.lock() = State {
            grants: live,
            revocations: Vec::new(),
        };
        Ok(())
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_owned()).unwrap_or_default();
    name.push(".compact");
    path.with_file_name(name)
}
