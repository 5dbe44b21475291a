//! A durable, append-only file of JSON lines: the storage under [`FileSink`](super::FileSink)
//! and the temporary-unmask grant store.
//!
//! # Protocol
//!
//! - Each record is one line: its compact JSON (which never contains a raw newline) followed by
//!   `\n`, written with a single `write_all` at the end of the file.
//! - [`JsonLinesFile::append`] returns only after the line is written **and** `fsync`ed
//!   (`File::sync_data`): a record the caller was told is committed survives a crash of the
//!   process or the machine.
//! - A crash can leave at most one **torn line** at the end: the bytes of a line whose `\n`
//!   never reached the file. A line is complete exactly when it ends in `\n` (the newline is
//!   the line's last byte, written last). On [`open`](JsonLinesFile::open) the torn tail is
//!   **truncated away** (and the truncation fsynced) before anything is appended, so it is
//!   never taken for a record and never glued to the next one. The number of bytes dropped is
//!   reported in [`Recovered::torn_bytes`].
//! - If a write fails midway in a running process (disk full, I/O error), the file is truncated
//!   back to its last complete line before the error is returned; if even that fails, the file
//!   is *poisoned*: every later append fails until it is reopened (which repairs it).
//! - A complete line that does not parse is not a crash artefact (crashes only tear the last
//!   line): it means the file was altered or the disk corrupted it, and opening fails with
//!   [`JournalError::Corrupt`] naming the line, rather than silently dropping a record.
//! - When the file is created, its directory is fsynced too, so the file itself survives a
//!   crash.
//!
//! One process should append to a file at a time (appends from several threads of one process
//! are serialised by a mutex); nothing locks the file across processes.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a journal could not be opened or appended to.
#[derive(Debug)]
pub enum JournalError {
    /// An I/O operation failed.
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`open`, `read`, `append`, …).
        action: &'static str,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A complete line of the file is not a valid record.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The line's number, from 1.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A record could not be encoded as JSON.
    Encode(String),
    /// An earlier append failed and the file could not be repaired; reopen it.
    Poisoned {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io {
                path,
                action,
                error,
            } => write!(f, "cannot {action} `{}`: {error}", path.display()),
            JournalError::Corrupt {
                path,
                line,
                message,
            } => write!(
                f,
                "`{}` is corrupted: line {line} is not a valid record ({message})",
                path.display()
            ),
            JournalError::Encode(m) => write!(f, "cannot encode the record: {m}"),
            JournalError::Poisoned { path } => write!(
                f,
                "`{}` could not be repaired after a failed write; reopen it",
                path.display()
            ),
        }
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// What [`JsonLinesFile::open`] found in an existing file.
#[derive(Clone, Debug, PartialEq)]
pub struct Recovered<T> {
    /// Every complete record, in file order.
    pub records: Vec<T>,
    /// How many bytes of a torn last line were truncated away (0 after a clean shutdown).
    pub torn_bytes: u64,
}

#[derive(Debug)]
struct State {
    file: File,
    /// The length of the file's complete lines.
    len: u64,
    poisoned: bool,
}

/// An append-only file of JSON records of type `T`, one per line, durable on return of
/// [`append`](Self::append). See the [module documentation](self) for the protocol.
#[derive(Debug)]
pub struct JsonLinesFile<T> {
    path: PathBuf,
    state: Mutex<State>,
    _records: PhantomData<fn(&T)>,
}

fn io<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(std::io::Error) -> JournalError + 'a {
    move |error| JournalError::Io {
        path: path.to_owned(),
        action,
        error,
    }
}

impl<T: Serialize + DeserializeOwned> JsonLinesFile<T> {
    /// Opens (creating if needed) the file at `path`, reads every complete record, and
    /// truncates a torn last line away.
    pub fn open(path: impl AsRef<Path>) -> Result<(Self, Recovered<T>), JournalError> {
        let path = path.as_ref().to_owned();
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io(&path, "open"))?;
        if !existed {
            sync_parent(&path)?;
        }
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0)).map_err(io(&path, "read"))?;
        file.read_to_end(&mut bytes).map_err(io(&path, "read"))?;
        let complete = bytes
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |last| last + 1);
        let mut records = Vec::new();
        for (i, line) in bytes[..complete]
            .split_inclusive(|b| *b == b'\n')
            .enumerate()
        {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let record = serde_json::from_slice(line).map_err(|e| JournalError::Corrupt {
                path: path.clone(),
                line: i + 1,
                message: e.to_string(),
            })?;
            records.push(record);
        }
        let torn_bytes = (bytes.len() - complete) as u64;
        let len = complete as u64;
        if torn_bytes > 0 {
            file.set_len(len).map_err(io(&path, "truncate"))?;
            file.sync_data().map_err(io(&path, "sync"))?;
        }
        Ok((
            JsonLinesFile {
                path,
                state: Mutex::new(State {
                    file,
                    len,
                    poisoned: false,
                }),
                _records: PhantomData,
            },
            Recovered {
                records,
                torn_bytes,
            },
        ))
    }

    /// Appends one record and returns once it is durable (written and fsynced).
    pub fn append(&self, record: &T) -> Result<(), JournalError> {
        let mut line =
            serde_json::to_vec(record).map_err(|e| JournalError::Encode(e.to_string()))?;
        line.push(b'\n');
        // A poisoned mutex means a thread panicked while appending; the state itself (file
        // handle, length) is still meaningful, and `poisoned` below covers a torn write.
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.poisoned {
            return Err(JournalError::Poisoned {
                path: self.path.clone(),
            });
        }
        let written = state
            .file
            .write_all(&line)
            .and_then(|()| state.file.sync_data());
        match written {
            Ok(()) => {
                state.len += line.len() as u64;
                Ok(())
            }
            Err(error) => {
                // Remove whatever part of the line reached the file, so the next append does
                // not glue a record to a torn one.
                let len = state.len;
                let repaired = state
                    .file
                    .set_len(len)
                    .and_then(|()| state.file.sync_data());
                if repaired.is_err() {
                    state.poisoned = true;
                }
                Err(JournalError::Io {
                    path: self.path.clone(),
                    action: "append to",
                    error,
                })
            }
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Fsyncs the directory holding `path`, so that a newly created file survives a crash.
fn sync_parent(path: &Path) -> Result<(), JournalError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Directories cannot be opened for syncing on every platform; where they can, a failure
    // to sync is an error.
    if cfg!(unix) {
        File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(io(parent, "sync the directory of"))?;
    }
    Ok(())
}
