//! A table filled one entry at a time through shared references, so that a session computes
//! only what it is asked for and stays `Send + Sync`.
//!
//! The first entries live inline in the table (a session over a small bundle allocates no
//! table at all); the others in chunks of [`CHUNK`], each allocated on the first use of one of
//! its entries: creating a table of `n` entries costs `n / CHUNK` empty slots, and an entry once
//! filled never moves (a reference to it lives as long as the table).

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use crate::program::Tri;

/// Entries per chunk.
const CHUNK: usize = 128;

/// Entries of a [`Memo`] held inline, before the chunks.
const HEAD: usize = 4;

/// A chunk's entries, allocated together.
type Chunk<T> = Box<[OnceLock<T>]>;

/// `n` chunk slots, none allocated yet (no collecting at all for none, the common case of a
/// small bundle: a session is opened per request).
#[inline]
fn empty_chunks<T>(n: usize) -> Box<[OnceLock<T>]> {
    if n == 0 {
        return Box::default();
    }
    (0..n).map(|_| OnceLock::new()).collect()
}

/// `len` entries, each computed at most once, on first use.
pub(crate) struct Memo<T> {
    /// Entries `0..HEAD`.
    head: [OnceLock<T>; HEAD],
    /// Entries from `HEAD` on, by chunks.
    chunks: Box<[OnceLock<Chunk<T>>]>,
    len: usize,
}

impl<T> Memo<T> {
    /// A table of `len` empty entries.
    #[inline]
    pub(crate) fn new(len: usize) -> Self {
        Memo {
            head: [const { OnceLock::new() }; HEAD],
            chunks: empty_chunks(len.saturating_sub(HEAD).div_ceil(CHUNK)),
            len,
        }
    }

    /// Entry `i`, computed by `init` if it is still empty; `None` past the end.
    #[inline]
    pub(crate) fn get_or_init(&self, i: usize, init: impl FnOnce() -> T) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let slot = match self.head.get(i) {
            Some(slot) => slot,
            None => self.chunked(i - HEAD)?,
        };
        Some(slot.get_or_init(init))
    }

    /// The slot of entry `HEAD + j`, its chunk allocated if need be.
    fn chunked(&self, j: usize) -> Option<&OnceLock<T>> {
        let start = j.checked_sub(j % CHUNK)?;
        let chunk = self.chunks.get(j / CHUNK)?.get_or_init(|| {
            let n = self.len.saturating_sub(HEAD + start).min(CHUNK);
            (0..n).map(|_| OnceLock::new()).collect()
        });
        chunk.get(j % CHUNK)
    }

    /// The entries computed so far, with their indices, in index order.
    pub(crate) fn filled(&self) -> impl Iterator<Item = (usize, &T)> {
        let head = self
            .head
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, e.get()?)));
        let rest = self
            .chunks
            .iter()
            .enumerate()
            .filter_map(|(c, chunk)| Some((c, chunk.get()?)))
            .flat_map(|(c, chunk)| {
                chunk
                    .iter()
                    .enumerate()
                    .filter_map(move |(j, e)| Some((HEAD + c * CHUNK + j, e.get()?)))
            });
        head.chain(rest)
    }
}

impl<T: fmt::Debug> fmt::Debug for Memo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.filled()).finish()
    }
}

/// `len` entries of `Option<Tri>`, each computed on first use, a byte each: the first
/// [`CHUNK`] inline, the others in chunks of 128 zeroed bytes allocated on first use (creating
/// the table costs `len / CHUNK` empty slots). Two threads asking for one
/// entry at once may both compute it; both store the same value (the computation is a pure
/// function of the session), so the race is harmless.
pub(super) struct TriMemo {
    /// Entries `0..CHUNK`.
    head: [AtomicU8; CHUNK],
    /// Entries from `CHUNK` on: chunk `c` holds entries `(c + 1) * CHUNK..`.
    chunks: Box<[OnceLock<Box<[AtomicU8; CHUNK]>>]>,
    len: usize,
}

/// Not computed yet.
const EMPTY: u8 = 0;
/// Computed: `None`.
const NONE: u8 = 4;

pub(super) fn encode(t: Option<Tri>) -> u8 {
    match t {
        Some(Tri::False) => 1,
        Some(Tri::True) => 2,
        Some(Tri::Unknown) => 3,
        None => NONE,
    }
}

fn decode(b: u8) -> Option<Tri> {
    match b {
        1 => Some(Tri::False),
        2 => Some(Tri::True),
        3 => Some(Tri::Unknown),
        _ => None,
    }
}

impl TriMemo {
    /// A table of `len` empty entries.
    #[inline]
    pub(super) fn new(len: usize) -> Self {
        TriMemo {
            head: [const { AtomicU8::new(EMPTY) }; CHUNK],
            chunks: empty_chunks(len.saturating_sub(CHUNK).div_ceil(CHUNK)),
            len,
        }
    }

    /// Entry `i`, computed by `init` if it is still empty; `None` past the end.
    #[inline]
    pub(super) fn get_or_init(&self, i: usize, init: impl FnOnce() -> Option<Tri>) -> Option<Tri> {
        if i >= self.len {
            return None;
        }
        let slot = match self.head.get(i) {
            Some(slot) => slot,
            None => self
                .chunks
                .get((i / CHUNK).checked_sub(1)?)?
                .get_or_init(|| Box::new([const { AtomicU8::new(EMPTY) }; CHUNK]))
                .get(i % CHUNK)?,
        };
        match slot.load(Ordering::Relaxed) {
            EMPTY => {
                let t = init();
                slot.store(encode(t), Ordering::Relaxed);
                t
            }
            b => decode(b),
        }
    }
}

impl fmt::Debug for TriMemo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chunks = std::iter::once(Some(&self.head))
            .chain(self.chunks.iter().map(|chunk| chunk.get().map(|c| &**c)));
        let filled = chunks.enumerate().flat_map(|(c, chunk)| {
            chunk.into_iter().flat_map(move |chunk| {
                chunk.iter().enumerate().filter_map(move |(j, b)| {
                    let b = b.load(Ordering::Relaxed);
                    (b != EMPTY).then(|| (c * CHUNK + j, decode(b)))
                })
            })
        });
        f.debug_map().entries(filled).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{Memo, TriMemo, CHUNK};
    use crate::program::Tri;
    use std::cell::Cell;

    #[test]
    fn computes_each_entry_once_and_only_when_asked() {
        let calls = Cell::new(0);
        let memo = Memo::new(CHUNK * 2 + 3);
        let get = |i: usize| {
            memo.get_or_init(i, || {
                calls.set(calls.get() + 1);
                i * 10
            })
            .copied()
        };
        assert_eq!(get(CHUNK * 2 + 2), Some((CHUNK * 2 + 2) * 10));
        assert_eq!(get(CHUNK * 2 + 2), Some((CHUNK * 2 + 2) * 10));
        assert_eq!(get(5), Some(50));
        assert_eq!(get(CHUNK * 2 + 3), None);
        assert_eq!(get(usize::MAX), None);
        assert_eq!(calls.get(), 2);
        let filled: Vec<(usize, usize)> = memo.filled().map(|(i, v)| (i, *v)).collect();
        assert_eq!(filled, vec![(5, 50), (CHUNK * 2 + 2, (CHUNK * 2 + 2) * 10)]);
    }

    #[test]
    fn an_empty_table_has_no_entries() {
        let memo: Memo<u8> = Memo::new(0);
        assert_eq!(memo.get_or_init(0, || 1), None);
        assert_eq!(memo.filled().count(), 0);
    }

    #[test]
    fn a_tri_memo_computes_each_entry_once_and_keeps_none() {
        let calls = Cell::new(0);
        let memo = TriMemo::new(CHUNK + 2);
        let get = |i: usize, t: Option<Tri>| {
            memo.get_or_init(i, || {
                calls.set(calls.get() + 1);
                t
            })
        };
        assert_eq!(get(CHUNK + 1, Some(Tri::Unknown)), Some(Tri::Unknown));
        assert_eq!(get(CHUNK + 1, Some(Tri::True)), Some(Tri::Unknown));
        assert_eq!(get(3, None), None);
        assert_eq!(get(3, Some(Tri::True)), None);
        assert_eq!(get(4, Some(Tri::False)), Some(Tri::False));
        assert_eq!(get(5, Some(Tri::True)), Some(Tri::True));
        assert_eq!(get(CHUNK + 2, Some(Tri::True)), None);
        assert_eq!(calls.get(), 4);
        assert_eq!(
            format!("{memo:?}"),
            format!(
                "{{3: None, 4: Some(False), 5: Some(True), {}: Some(Unknown)}}",
                CHUNK + 1
            )
        );
    }
}
