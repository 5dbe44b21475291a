//! Byte spans into one source file.

use serde::Serialize;

/// A half-open byte range `start..end` into the text of one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn contains(self, offset: usize) -> bool {
        (self.start as usize) <= offset && offset <= (self.end as usize)
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// Byte offset → (line, column) conversion for one file, both zero-based; columns count UTF-16
/// code units when asked (as LSP does) or chars.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        LineIndex { line_starts }
    }

    /// Zero-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&(offset as u32)) {
            Ok(l) => l,
            Err(l) => l.saturating_sub(1),
        }
    }

    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).map(|&s| s as usize)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Where the columns of `line` start: the line start, or after a byte-order mark that
    /// starts the file (editors do not show it, so it is no column).
    fn columns_start(&self, text: &str, line: usize) -> Option<usize> {
        let start = self.line_start(line)?;
        if start == 0 && text.starts_with(crate::lexer::BOM) {
            return Some(crate::lexer::BOM.len());
        }
        Some(start)
    }

    /// Zero-based (line, column in UTF-16 units) of a byte offset; offsets inside a character or
    /// beyond the end are clamped. A byte-order mark at the start of the file is no column.
    pub fn position_utf16(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = self.line(offset);
        let start = self.columns_start(text, line).unwrap_or(0).min(text.len());
        let mut col = 0u32;
        for (i, ch) in text[start..].char_indices() {
            if start + i >= offset {
                break;
            }
            col += ch.len_utf16() as u32;
        }
        (line as u32, col)
    }

    /// Byte offset of a zero-based (line, UTF-16 column) position, clamped to the text; column 0
    /// of the first line is after a byte-order mark.
    pub fn offset_utf16(&self, text: &str, line: u32, col: u32) -> usize {
        let Some(start) = self.columns_start(text, line as usize) else {
            return text.len();
        };
        let start = start.min(text.len());
        let mut units = 0u32;
        for (i, ch) in text[start..].char_indices() {
            if units >= col || ch == '\n' {
                return start + i;
            }
            units += ch.len_utf16() as u32;
        }
        text.len()
    }
}
