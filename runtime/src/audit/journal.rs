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
//!   the line's last byte, written last). Before anything is appended — on
//!   [`open`](JsonLinesFile::open) and again before every append, under the file lock — the
//!   torn tail is **truncated away** (and the truncation fsynced), so it is never taken for a
//!   record and never glued to the next one. The number of bytes dropped is reported in
//!   [`Recovered::torn_bytes`].
//! - **Opening reads only the tail**: the torn line, if any (read backwards from the end up to
//!   the previous `\n`), and the last complete line, which must parse as a record. The cost of
//!   opening does not depend on the size of the file's history. A torn tail that does not start
//!   like a record (`{`) is not a crash artefact: opening fails with [`JournalError::Corrupt`]
//!   rather than truncating a file that is not a journal.
//! - The target must be a regular file (or not exist yet: it is then created). A directory, a
//!   FIFO, a device such as `/dev/full`, or a file that cannot be opened for appending is an
//!   error at once ([`JournalError::NotAFile`] or [`JournalError::Io`]), before anything is
//!   read or written.
//! - If a write fails midway (disk full, I/O error), the file is truncated back to its length
//!   before the write; if even that fails, the file is *poisoned*: every later append fails
//!   until it is reopened (which repairs it).
//! - A complete line that does not parse is not a crash artefact (crashes only tear the last
//!   line): it means the file was altered or the disk corrupted it. [`read_all`](JsonLinesFile::read_all)
//!   (and opening, for the last line) fails with [`JournalError::Corrupt`] naming the line,
//!   rather than silently dropping a record.
//! - When the file is created, its directory is fsynced too, so the file itself survives a
//!   crash.
//!
//! Several processes may append to one file: every append (and every
//! [`exclusive`](JsonLinesFile::exclusive) section) holds an exclusive advisory lock on the
//! file (`flock`) besides the in-process mutex, and repairs a torn tail a killed writer left
//! before writing.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

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
    /// The path names something that is not a regular file (a directory, a FIFO, a device).
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead (`a directory`, `a FIFO`, `a device`, …).
        kind: &'static str,
    },
    /// A complete line of the file is not a valid record.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The line's number, from 1; 0 when only the tail was read (the last line).
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
            JournalError::NotAFile { path, kind } => write!(
                f,
                "`{}` is {kind}, not a regular file; nothing was written",
                path.display()
            ),
            JournalError::Corrupt {
                path,
                line: 0,
                message,
            } => write!(
                f,
                "`{}` is corrupted: its last line is not a valid record ({message})",
                path.display()
            ),
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

/// What [`JsonLinesFile::open`] found at the end of an existing file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// How many bytes of a torn last line were truncated away (0 after a clean shutdown).
    pub torn_bytes: u64,
    /// The file's length after the repair (its complete lines).
    pub len: u64,
}

#[derive(Debug)]
struct State {
    file: File,
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

/// What a non-regular file is, for messages.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Fails unless `path` is missing or a regular file (following symbolic links).
fn check_target(path: &Path) -> Result<(), JournalError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(meta) => Err(JournalError::NotAFile {
            path: path.to_owned(),
            kind: kind_of(&meta),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(path, "open")(e)),
    }
}

/// Reads `len` bytes at `offset`.
fn read_at(file: &mut File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut buf)?;
    Ok(buf)
}

/// The offset just after the last `\n` strictly before `end` (0 if none), reading backwards
/// in blocks: the cost is the length of the last line, not of the file.
fn line_start_before(file: &mut File, end: u64) -> std::io::Result<u64> {
    const BLOCK: u64 = 64 * 1024;
    let mut hi = end;
    while hi > 0 {
        let lo = hi.saturating_sub(BLOCK);
        let buf = read_at(file, lo, (hi - lo) as usize)?;
        if let Some(i) = buf.iter().rposition(|b| *b == b'\n') {
            return Ok(lo + i as u64 + 1);
        }
        hi = lo;
    }
    Ok(0)
}

impl<T: Serialize + DeserializeOwned> JsonLinesFile<T> {
    /// Opens (creating if needed) the file at `path`, truncates a torn last line away and
    /// checks that the last complete line is a record. Reads only the tail of the file.
    pub fn open(path: impl AsRef<Path>) -> Result<(Self, Recovered), JournalError> {
        let path = path.as_ref().to_owned();
        check_target(&path)?;
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io(&path, "open"))?;
        // The path may have been replaced between the check and the open.
        let meta = file.metadata().map_err(io(&path, "open"))?;
        if !meta.is_file() {
            return Err(JournalError::NotAFile {
                path,
                kind: kind_of(&meta),
            });
        }
        if !existed {
            sync_parent(&path)?;
        }
        let journal = JsonLinesFile {
            path,
            state: Mutex::new(State {
                file,
                poisoned: false,
            }),
            _records: PhantomData,
        };
        let recovered = journal.exclusive(|section| {
            let torn_bytes = section.torn_bytes;
            let len = section.len()?;
            section.last()?;
            Ok(Recovered { torn_bytes, len })
        })??;
        Ok((journal, recovered))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned mutex means a thread panicked while appending; the file handle is still
        // meaningful, and `poisoned` covers a torn write.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` holding the file exclusively (the in-process mutex and an advisory lock
    /// against other processes), after repairing a torn tail. Nothing else appends to the
    /// file meanwhile, so `f` can read the latest records and append in one step.
    pub fn exclusive<R>(
        &self,
        f: impl FnOnce(&mut Section<'_, T>) -> R,
    ) -> Result<R, JournalError> {
        let mut state = self.lock();
        if state.poisoned {
            return Err(JournalError::Poisoned {
                path: self.path.clone(),
            });
        }
        state.file.lock().map_err(io(&self.path, "lock"))?;
        let result = Section::new(&self.path, &mut state).map(|mut section| f(&mut section));
        // Closing the file would release the lock too; an unlock failure leaves nothing to do.
        let _ = state.file.unlock();
        result
    }

    /// Appends one record and returns once it is durable (written and fsynced).
    pub fn append(&self, record: &T) -> Result<(), JournalError> {
        self.exclusive(|section| section.append(record))?
    }

    /// Reads every complete record from the start of the file (streaming: memory holds the
    /// records, not the file's bytes). A line that does not parse is
    /// [`JournalError::Corrupt`] with its number.
    pub fn read_all(&self) -> Result<Vec<T>, JournalError> {
        let mut records = Vec::new();
        self.exclusive(|section| section.read_from(0, 1, |r| records.push(r)))??;
        Ok(records)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Exclusive access to a [`JsonLinesFile`] (see [`JsonLinesFile::exclusive`]).
pub struct Section<'a, T> {
    path: &'a Path,
    state: &'a mut State,
    /// How many bytes of a torn tail were truncated when the section began.
    torn_bytes: u64,
    _records: PhantomData<fn(&T)>,
}

impl<'a, T: Serialize + DeserializeOwned> Section<'a, T> {
    fn new(path: &'a Path, state: &'a mut State) -> Result<Self, JournalError> {
        let mut section = Section {
            path,
            state,
            torn_bytes: 0,
            _records: PhantomData,
        };
        section.torn_bytes = section.repair()?;
        Ok(section)
    }

    /// Truncates a torn last line away; returns how many bytes were dropped.
    fn repair(&mut self) -> Result<u64, JournalError> {
        let path = self.path;
        let file = &mut self.state.file;
        let len = file.metadata().map_err(io(path, "read"))?.len();
        if len == 0 || read_at(file, len - 1, 1).map_err(io(path, "read"))? == b"\n" {
            return Ok(0);
        }
        let start = line_start_before(file, len).map_err(io(path, "read"))?;
        if read_at(file, start, 1).map_err(io(path, "read"))? != b"{" {
            return Err(JournalError::Corrupt {
                path: path.to_owned(),
                line: 0,
                message: "it does not end with a newline and is not a torn record".to_owned(),
            });
        }
        file.set_len(start).map_err(io(path, "truncate"))?;
        file.sync_data().map_err(io(path, "sync"))?;
        Ok(len - start)
    }

    /// The length of the file's complete lines.
    pub fn len(&mut self) -> Result<u64, JournalError> {
        Ok(self
            .state
            .file
            .metadata()
            .map_err(io(self.path, "read"))?
            .len())
    }

    /// Whether the file holds no record.
    pub fn is_empty(&mut self) -> Result<bool, JournalError> {
        Ok(self.len()? == 0)
    }

    /// The last record of the file, if any (reads only that line).
    pub fn last(&mut self) -> Result<Option<T>, JournalError> {
        let len = self.len()?;
        if len == 0 {
            return Ok(None);
        }
        let file = &mut self.state.file;
        let start = line_start_before(file, len - 1).map_err(io(self.path, "read"))?;
        let line =
            read_at(file, start, (len - 1 - start) as usize).map_err(io(self.path, "read"))?;
        serde_json::from_slice(&line)
            .map(Some)
            .map_err(|e| JournalError::Corrupt {
                path: self.path.to_owned(),
                line: 0,
                message: e.to_string(),
            })
    }

    /// Calls `each` on every complete record from byte `offset` (a line start) to the end,
    /// numbering lines from `first_line`; returns the end offset and the next line number.
    pub fn read_from(
        &mut self,
        offset: u64,
        first_line: usize,
        mut each: impl FnMut(T),
    ) -> Result<(u64, usize), JournalError> {
        let path = self.path;
        let file = &mut self.state.file;
        file.seek(SeekFrom::Start(offset))
            .map_err(io(path, "read"))?;
        let mut reader = BufReader::new(&mut *file);
        let mut line = Vec::new();
        let mut pos = offset;
        let mut n = first_line;
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(io(path, "read"))?;
            if read == 0 || line.last() != Some(&b'\n') {
                // The end (a torn tail cannot appear while the section holds the lock).
                return Ok((pos, n));
            }
            let record =
                serde_json::from_slice(line.strip_suffix(b"\n").unwrap_or(line.as_slice()))
                    .map_err(|e| JournalError::Corrupt {
                        path: path.to_owned(),
                        line: n,
                        message: e.to_string(),
                    })?;
            each(record);
            pos += read as u64;
            n += 1;
        }
    }

    /// Appends one record and returns once it is durable (written and fsynced).
    pub fn append(&mut self, record: &T) -> Result<(), JournalError> {
        let mut line =
            serde_json::to_vec(record).map_err(|e| JournalError::Encode(e.to_string()))?;
        line.push(b'\n');
        let len = self.len()?;
        let file = &mut self.state.file;
        let written = file.write_all(&line).and_then(|()| file.sync_data());
        if let Err(error) = written {
            // Remove whatever part of the line reached the file, so the next append does not
            // glue a record to a torn one.
            let repaired = file.set_len(len).and_then(|()| file.sync_data());
            if repaired.is_err() {
                self.state.poisoned = true;
            }
            return Err(JournalError::Io {
                path: self.path.to_owned(),
                action: "append to",
                error,
            });
        }
        Ok(())
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
