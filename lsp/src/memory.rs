//! Giving memory back to the system after a large analysis.
//!
//! Analysing a large text allocates millions of small objects (tokens, syntax tree, model,
//! diagnostics). When that analysis is replaced, they are freed, but an allocator keeps freed
//! memory for reuse: glibc's returns only the top of a heap, and one live allocation above a
//! freed stretch pins it (a server that analysed a 23 MB text once kept gigabytes after the text
//! was reverted to 1 KB). The server therefore runs on jemalloc ([`Allocator`]), whose arenas
//! give freed pages back on their own after a decay time, and [`Shrink`] watches the size of the
//! text each analysis covered: when the text analysed last is much smaller than the largest one
//! since the last trim, [`trim`] asks every arena to purge its free pages at once.
//!
//! Everything here goes through `tikv-jemalloc-ctl`'s safe interface: the crate forbids
//! `unsafe` code (the former `malloc_trim` call was an FFI call).

use tikv_jemalloc_ctl::{arenas, background_thread, Access, AsName};

/// The server's global allocator (set in `main.rs`).
pub type Allocator = tikv_jemallocator::Jemalloc;

/// Trim once the largest text analysed since the last trim is this much larger than the
/// current one (and at least [`MIN_DROP`] larger): a steady workspace never trims.
const FACTOR: usize = 2;
/// The least drop in text size (bytes) worth a trim.
const MIN_DROP: usize = 1 << 20;

/// When to return freed memory to the system.
#[derive(Debug, Default)]
pub struct Shrink {
    /// The largest text (bytes, all files of the set) analysed since the last trim.
    largest: usize,
}

impl Shrink {
    /// Records an analysis of `bytes` of text (kept or dropped).
    pub fn analysed(&mut self, bytes: usize) {
        self.largest = self.largest.max(bytes);
    }

    /// Whether the analysis now live, of `bytes` of text, is small enough next to the largest
    /// since the last trim for a trim; if so, the largest is reset to it.
    pub fn due(&mut self, bytes: usize) -> bool {
        let due = self.largest > bytes.saturating_mul(FACTOR).saturating_add(MIN_DROP);
        if due {
            self.largest = bytes;
        }
        due
    }
}

/// Lets jemalloc purge freed pages from background threads (so an idle server also returns
/// memory after the decay time). Call once at start-up; an allocator that refuses keeps its
/// defaults, which only delays the return of memory.
pub fn configure() {
    let _ = background_thread::write(true);
}

/// Returns every arena's free pages to the system now: each arena's decay times are set to 0
/// (jemalloc purges all unused dirty and muzzy pages when they are) and then restored.
pub fn trim() {
    let Ok(count) = arenas::narenas::read() else {
        return;
    };
    for arena in 0..count {
        for kind in ["dirty", "muzzy"] {
            // Arenas not yet in use refuse the key: there is nothing to purge in them.
            let key = format!("arena.{arena}.{kind}_decay_ms\0");
            let name = key.as_bytes().name();
            if let Ok(previous) = Access::<isize>::read(name) {
                let _ = name.write(0isize);
                let _ = name.write(previous);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shrink;

    #[test]
    fn a_trim_follows_a_large_drop_only() {
        let mut s = Shrink::default();
        s.analysed(1000);
        assert!(!s.due(1000));
        s.analysed(30 << 20);
        assert!(!s.due(30 << 20), "no drop yet");
        assert!(!s.due(20 << 20), "not a large drop");
        assert!(s.due(1000), "from 30 MB to 1 KB");
        assert!(!s.due(1000), "once");
        s.analysed(1 << 20);
        assert!(!s.due(1000), "a drop under a megabyte");
    }
}
