//! Long lines in the human renderer: a line longer than [`MAX_COLUMNS`] characters is shown as a
//! window of at most that many characters around the labels on it, with `...` where text was cut
//! (as rustc does), so that a diagnostic on a megabyte-long line prints a few lines, not the line.
//!
//! The window is applied to a copy of the file made for one diagnostic (a [`View`]), which keeps
//! every line (line numbers do not change) and cuts only the long ones; label ranges are moved
//! into the copy, and the `--> file:line:column` header is computed on the original text.

use crate::source_map::{FileId, SourceMap};
use codespan_reporting::diagnostic::Diagnostic as CsDiagnostic;
use codespan_reporting::files::{Error, Files, Location};
use std::ops::Range;

/// The most characters of one source line a snippet shows.
pub const MAX_COLUMNS: usize = 120;
/// Characters kept before the primary label when the labels on a line are wider than the window.
const LEAD: usize = 20;
/// Marks text cut from a line.
const CUT: &str = "...";

/// Which files of a source map have a line longer than [`MAX_COLUMNS`] characters.
pub(super) fn long_line_files(files: &SourceMap) -> Vec<bool> {
    files
        .files()
        .map(|(_, f)| f.text.split('\n').any(is_long))
        .collect()
}

fn is_long(line: &str) -> bool {
    line.len() > MAX_COLUMNS && line.chars().count() > MAX_COLUMNS
}

/// One piece of the original text kept verbatim in a view.
#[derive(Clone, Copy, Debug)]
struct Piece {
    view: usize,
    orig: usize,
    len: usize,
}

/// A file's text with its long lines cut to a window.
#[derive(Debug)]
struct View {
    text: String,
    line_starts: Vec<usize>,
    pieces: Vec<Piece>,
}

impl View {
    /// Cuts the long lines of `text`, each around the `labels` (byte ranges) on it; the
    /// first label is the primary one.
    fn new(text: &str, labels: &[Range<usize>]) -> View {
        let mut view = View {
            text: String::with_capacity(text.len().min(1 << 20)),
            line_starts: vec![0],
            pieces: Vec::new(),
        };
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let end = start + line.len();
            let body = line.strip_suffix('\n').unwrap_or(line);
            if is_long(body) {
                let (ws, we) = window(text, start, start + body.len(), labels);
                if ws > start {
                    view.text.push_str(CUT);
                }
                view.keep(text, ws, we);
                if we < start + body.len() {
                    view.text.push_str(CUT);
                }
                if body.len() < line.len() {
                    view.keep(text, end - 1, end);
                }
            } else {
                view.keep(text, start, end);
            }
            if line.ends_with('\n') {
                view.line_starts.push(view.text.len());
            }
            start = end;
        }
        view
    }

    fn keep(&mut self, text: &str, from: usize, to: usize) {
        self.pieces.push(Piece {
            view: self.text.len(),
            orig: from,
            len: to - from,
        });
        self.text.push_str(&text[from..to]);
    }

    /// The view offset of an original offset (one cut away goes to the nearest kept text).
    fn to_view(&self, orig: usize) -> usize {
        let i = self.pieces.partition_point(|p| p.orig <= orig);
        match i.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some(p) => p.view + (orig - p.orig).min(p.len),
            None => 0,
        }
    }

    /// The original offset of a view offset.
    fn to_orig(&self, view: usize) -> usize {
        let i = self.pieces.partition_point(|p| p.view <= view);
        match i.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some(p) => p.orig + (view - p.view).min(p.len),
            None => 0,
        }
    }
}

/// The byte window `[ws, we)` of the long line `[ls, le)`: at most [`MAX_COLUMNS`] characters,
/// centred on the labels on the line, or starting a little before the primary one if they are
/// wider than that.
fn window(text: &str, ls: usize, le: usize, labels: &[Range<usize>]) -> (usize, usize) {
    let on_line: Vec<(usize, usize)> = labels
        .iter()
        .filter(|r| r.start <= le && r.end >= ls)
        .map(|r| (r.start.max(ls), r.end.min(le)))
        .collect();
    let line = &text[ls..le];
    let Some(&(first, _)) = on_line.first() else {
        return (ls, ls + advance(line, 0, MAX_COLUMNS));
    };
    let lo = on_line.iter().map(|r| r.0).min().unwrap_or(first);
    let hi = on_line.iter().map(|r| r.1).max().unwrap_or(first);
    let width = text[lo..hi].chars().count();
    let ws = if width < MAX_COLUMNS {
        back(line, lo - ls, (MAX_COLUMNS - width) / 2)
    } else {
        back(line, first - ls, LEAD)
    };
    let we = advance(line, ws, MAX_COLUMNS);
    // Keep the window full when it ends at the line's end.
    let ws = if we == line.len() {
        back(line, we, MAX_COLUMNS)
    } else {
        ws
    };
    (ls + ws, ls + we)
}

/// The byte offset `n` characters after `at` in `s` (or its end).
fn advance(s: &str, at: usize, n: usize) -> usize {
    s[at..]
        .char_indices()
        .nth(n)
        .map_or(s.len(), |(i, _)| at + i)
}

/// The byte offset `n` characters before `at` in `s` (or its start).
fn back(s: &str, at: usize, n: usize) -> usize {
    s[..at]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| if n == 0 { at } else { i })
}

/// The files of one diagnostic as the human renderer shows them: each file with a long line
/// that the diagnostic points into is a [`View`], every other file the source map's text.
pub(super) struct Windowed<'a> {
    files: &'a SourceMap,
    views: Vec<(FileId, View)>,
}

impl<'a> Windowed<'a> {
    /// Cuts the long lines of the files `diag` points into and moves its labels into the cuts.
    #[expect(
        clippy::indexing_slicing,
        reason = "the primary label index was found in this diagnostic's own labels"
    )]
    pub(super) fn new(
        files: &'a SourceMap,
        long: &[bool],
        diag: &mut CsDiagnostic<FileId>,
    ) -> Windowed<'a> {
        let mut views: Vec<(FileId, View)> = Vec::new();
        for label in &diag.labels {
            let id = label.file_id;
            let is_long = long.get(id.0 as usize).copied().unwrap_or(false);
            if !is_long || views.iter().any(|(f, _)| *f == id) {
                continue;
            }
            // The primary label first: the window of a line is placed around it.
            let mut ranges: Vec<Range<usize>> = diag
                .labels
                .iter()
                .filter(|l| l.file_id == id)
                .map(|l| l.range.clone())
                .collect();
            if let Some(p) = diag.labels.iter().position(|l| {
                l.file_id == id && l.style == codespan_reporting::diagnostic::LabelStyle::Primary
            }) {
                let primary = diag.labels[p].range.clone();
                ranges.insert(0, primary);
            }
            views.push((id, View::new(&files.get(id).text, &ranges)));
        }
        for label in &mut diag.labels {
            if let Some((_, v)) = views.iter().find(|(f, _)| *f == label.file_id) {
                let start = v.to_view(label.range.start);
                let end = v.to_view(label.range.end).max(start);
                label.range = start..end;
            }
        }
        Windowed { files, views }
    }

    fn view(&self, id: FileId) -> Option<&View> {
        self.views.iter().find(|(f, _)| *f == id).map(|(_, v)| v)
    }
}

impl<'a> Files<'a> for Windowed<'a> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<Self::Name, Error> {
        self.files.name(id)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, Error> {
        match self.view(id) {
            Some(v) => Ok(v.text.as_str()),
            None => self.files.source(id),
        }
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, Error> {
        match self.view(id) {
            Some(v) => Ok(v
                .line_starts
                .partition_point(|&s| s <= byte_index)
                .saturating_sub(1)),
            None => self.files.line_index(id, byte_index),
        }
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, Error> {
        let Some(v) = self.view(id) else {
            return self.files.line_range(id, line_index);
        };
        let start = *v.line_starts.get(line_index).ok_or(Error::LineTooLarge {
            given: line_index,
            max: v.line_starts.len() - 1,
        })?;
        let end = v
            .line_starts
            .get(line_index + 1)
            .copied()
            .unwrap_or(v.text.len());
        Ok(start..end)
    }

    /// The header's `line:column`: the position in the original text.
    fn location(&'a self, id: FileId, byte_index: usize) -> Result<Location, Error> {
        match self.view(id) {
            Some(v) => self.files.location(id, v.to_orig(byte_index)),
            None => self.files.location(id, byte_index),
        }
    }
}
