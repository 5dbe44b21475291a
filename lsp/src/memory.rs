//! Giving memory back to the system after a large analysis.
//!
//! Analysing a large text allocates millions of small objects (tokens, syntax tree, model,
//! diagnostics). When that analysis is replaced, they are freed, but glibc's allocator keeps
//! freed memory in its arenas: only memory at the top of a heap is returned on its own, and
//! one live allocation above a freed stretch pins it. A server that analysed a 23 MB text once
//! kept gigabytes after the text was reverted to 1 KB. [`Shrink`] watches the size of the text
//! each analysis covered; when the text analysed last is much smaller than the largest one since
//! the last trim, it asks the allocator to return its free pages (`malloc_trim`).

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

/// Returns the allocator's free memory to the system (glibc: all arenas, whole free pages
/// anywhere in a heap). Elsewhere a no-op.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` has no preconditions: it only walks the allocator's own free lists
    // under the allocator's locks, and may be called at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
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
