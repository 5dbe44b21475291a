//! Answering from the previous analysis while the latest text is analysed. An edit changes one
//! stretch of a file: before it (the common prefix) and after it (the common suffix) the text is
//! what was analysed, shifted by the edit's length after it. A position there can be answered by
//! the previous analysis, mapped through the shift, as long as the answer's span lies inside the
//! unchanged text (with a byte to spare, so that a name the edit extends is not taken for the old
//! one). Anything else waits for the analysis of the new text.

/// The unchanged stretches of a file between the analysed text and the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unchanged {
    /// Bytes equal at the start of both texts.
    prefix: usize,
    /// Bytes equal at the end of both texts (not overlapping the prefix in either).
    suffix: usize,
    old_len: usize,
    new_len: usize,
}

impl Unchanged {
    /// Compares the analysed text (`old`) with the current one (`new`).
    pub fn new(old: &str, new: &str) -> Unchanged {
        let (a, b) = (old.as_bytes(), new.as_bytes());
        let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let room = a.len().min(b.len()) - prefix;
        let suffix = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take(room)
            .take_while(|(x, y)| x == y)
            .count();
        Unchanged {
            prefix,
            suffix,
            old_len: a.len(),
            new_len: b.len(),
        }
    }

    /// Whether both texts are the same.
    pub fn identical(self) -> bool {
        self.prefix == self.old_len && self.old_len == self.new_len
    }

    /// The offset in the analysed text of an offset of the current text, when it is in an
    /// unchanged stretch.
    pub fn to_old(self, new_offset: usize) -> Option<usize> {
        if self.identical() {
            return Some(new_offset);
        }
        if new_offset < self.prefix {
            return Some(new_offset);
        }
        if new_offset >= self.new_len - self.suffix && new_offset <= self.new_len {
            return Some(new_offset - (self.new_len - self.suffix) + (self.old_len - self.suffix));
        }
        None
    }

    /// The span in the current text of a span of the analysed text, when it lies inside an
    /// unchanged stretch with a byte to spare next to the edit.
    pub fn to_new(self, start: usize, end: usize) -> Option<(usize, usize)> {
        if self.identical() {
            return Some((start, end));
        }
        if end < self.prefix {
            return Some((start, end));
        }
        let old_suffix_start = self.old_len - self.suffix;
        if start > old_suffix_start && end <= self.old_len {
            let shift = |o: usize| o - old_suffix_start + (self.new_len - self.suffix);
            return Some((shift(start), shift(end)));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Unchanged;

    #[test]
    fn offsets_map_through_the_unchanged_stretches_only() {
        //         0123456789
        let old = "tag PII;\ntag X;\n";
        let new = "tag PII;\ntag Xyz;\n";
        let u = Unchanged::new(old, new);
        assert!(!u.identical());
        // Before the edit: the same offsets; `PII` (4..7) is well inside the prefix.
        assert_eq!(u.to_old(5), Some(5));
        assert_eq!(u.to_new(4, 7), Some((4, 7)));
        // The name the edit extends (`X`, 13..14 in the old text) is not reused.
        assert_eq!(u.to_new(13, 14), None);
        assert_eq!(u.to_old(14), None);
        // After the edit: shifted by the two inserted bytes.
        assert_eq!(u.to_old(new.len() - 1), Some(old.len() - 1));
        let same = Unchanged::new(old, old);
        assert!(same.identical());
        assert_eq!(same.to_new(13, 14), Some((13, 14)));
    }

    #[test]
    fn a_prefix_and_suffix_never_overlap() {
        let u = Unchanged::new("aaa", "aaaa");
        assert_eq!(u.to_old(3), None);
        assert_eq!(u.to_new(0, 2), Some((0, 2)));
        assert_eq!(u.to_new(0, 3), None);
        let u = Unchanged::new("", "abc");
        assert_eq!(u.to_old(1), None);
        assert_eq!(u.to_old(3), Some(0));
        assert_eq!(u.to_new(0, 0), None);
    }
}
