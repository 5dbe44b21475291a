//! The printing machine under the layout: it walks the file's tokens in source order, writes each
//! one with the separator the layout asked for, and weaves the comments back in by position.
//!
//! The layout (in `layout.rs`) never invents text: it asks for "the next source token" (checking its
//! kind), may drop an optional trailing comma, and may add a trailing comma where the canonical
//! layout wants one. Everything else — literals exactly as written, parentheses, comments — comes
//! from the source.

use crate::ast::{Comment, CommentKind};
use crate::lexer::Tok;
use std::mem::discriminant;

/// The width a one-line layout must fit in (in characters, indentation included).
pub const MAX_WIDTH: usize = 100;

const INDENT: &str = "  ";

/// What goes between the last thing written and the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sep {
    None,
    Space,
    /// A line break. `blank_ok`: keep one blank line if the source has one there; `force_blank`:
    /// always leave one blank line; `cont`: a continuation line (one level deeper), used when a
    /// comment forces a break inside a construct laid out on one line.
    Line {
        blank_ok: bool,
        force_blank: bool,
        cont: bool,
    },
}

/// Enough state to undo a tentative one-line layout.
pub(crate) struct Checkpoint {
    len: usize,
    pos: usize,
    cpos: usize,
    indent: usize,
    sep: Sep,
    last_end: usize,
    wrote: bool,
    in_line_comment: bool,
    had_error: bool,
}

pub(crate) struct Printer<'a> {
    text: &'a str,
    toks: &'a [(usize, Tok<'a>, usize)],
    comments: &'a [Comment],
    /// Next source token.
    pos: usize,
    /// Next comment.
    cpos: usize,
    out: String,
    pub(crate) indent: usize,
    sep: Sep,
    /// End of the last source token or comment dealt with.
    last_end: usize,
    /// Something has been written.
    wrote: bool,
    /// The current output line ends with a `//` comment: nothing more may go on it.
    in_line_comment: bool,
    /// The first disagreement between the layout and the tokens (a formatter bug).
    error: Option<String>,
}

impl<'a> Printer<'a> {
    pub(crate) fn new(
        text: &'a str,
        toks: &'a [(usize, Tok<'a>, usize)],
        comments: &'a [Comment],
    ) -> Printer<'a> {
        Printer {
            text,
            toks,
            comments,
            pos: 0,
            cpos: 0,
            out: String::with_capacity(text.len() + text.len() / 8),
            indent: 0,
            sep: Sep::None,
            last_end: 0,
            wrote: false,
            in_line_comment: false,
            error: None,
        }
    }

    /// The output, or the first internal error.
    pub(crate) fn finish(mut self) -> Result<String, String> {
        if self.error.is_none() && self.pos != self.toks.len() {
            let at = self.toks.get(self.pos).map(|t| t.0).unwrap_or(0);
            self.fail(format!("tokens left over at byte {at}"));
        }
        match self.error {
            Some(e) => Err(e),
            None => {
                if self.wrote {
                    self.out.push('\n');
                }
                Ok(self.out)
            }
        }
    }

    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }

    // ------------------------------------------------------------------ looking at tokens

    pub(crate) fn peek(&self) -> Option<&'a Tok<'a>> {
        self.toks.get(self.pos).map(|t| &t.1)
    }

    /// Start offset of the next source token (the end of the text when none is left).
    pub(crate) fn peek_start(&self) -> usize {
        self.toks.get(self.pos).map_or(self.text.len(), |t| t.0)
    }

    pub(crate) fn peek_is(&self, want: &Tok) -> bool {
        self.peek()
            .is_some_and(|t| discriminant(t) == discriminant(want))
    }

    /// Is any comment strictly inside `start..end`?
    pub(crate) fn has_comment_in(&self, start: usize, end: usize) -> bool {
        let from = self
            .comments
            .partition_point(|c| (c.span.start as usize) <= start);
        self.comments
            .get(from)
            .is_some_and(|c| (c.span.start as usize) < end)
    }

    // ------------------------------------------------------------------ separators

    pub(crate) fn space(&mut self) {
        if self.sep == Sep::None {
            self.sep = Sep::Space;
        }
    }

    /// A line break before the next item; `blank_ok` keeps a blank line the source has there.
    pub(crate) fn line(&mut self, blank_ok: bool) {
        self.sep = Sep::Line {
            blank_ok,
            force_blank: false,
            cont: false,
        };
    }

    /// How much has been written so far.
    pub(crate) fn out_len(&self) -> usize {
        self.out.len()
    }

    pub(crate) fn set_sep(&mut self, sep: Sep) {
        self.sep = sep;
    }

    /// Writes the pending separator, for an element that starts at `at` in the source.
    pub(crate) fn write_sep(&mut self, at: usize) {
        if self.in_line_comment && !matches!(self.sep, Sep::Line { .. }) {
            self.sep = Sep::Line {
                blank_ok: false,
                force_blank: false,
                cont: true,
            };
        }
        match self.sep {
            Sep::None => {}
            Sep::Space => self.out.push(' '),
            Sep::Line {
                blank_ok,
                force_blank,
                cont,
            } => {
                if self.wrote {
                    self.in_line_comment = false;
                    let gap = self.text.get(self.last_end..at).unwrap_or("");
                    let blank = force_blank || (blank_ok && gap.matches('\n').count() >= 2);
                    self.out.push('\n');
                    if blank {
                        self.out.push('\n');
                    }
                    for _ in 0..self.indent + usize::from(cont) {
                        self.out.push_str(INDENT);
                    }
                }
            }
        }
        self.sep = Sep::None;
    }

    // ------------------------------------------------------------------ tokens

    /// Writes the next source token, which must be of the same kind as `want`.
    pub(crate) fn tok(&mut self, want: Tok) {
        match self.peek() {
            Some(t) if discriminant(t) == discriminant(&want) => self.emit(),
            other => {
                let found = other.map_or("end of file".to_string(), |t| t.describe());
                let at = self.peek_start();
                self.fail(format!(
                    "layout expected {} at byte {at}, found {found}",
                    want.describe()
                ));
                // Keep going so that the cursor stays roughly aligned; the result is discarded.
                if other.is_some() {
                    self.emit();
                }
            }
        }
    }

    /// Writes the next source token, whatever it is (names and literals).
    pub(crate) fn tok_any(&mut self) {
        if self.peek().is_some() {
            self.emit();
        } else {
            self.fail("layout expected a token at the end of the file".to_string());
        }
    }

    /// Consumes the next token without writing it if it is of kind `want` (an optional trailing
    /// comma). Comments before it are written with the next token.
    pub(crate) fn skip(&mut self, want: Tok) -> bool {
        if self.peek_is(&want) {
            if let Some((_, _, r)) = self.toks.get(self.pos) {
                self.last_end = *r;
            }
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Writes a comma that is not in the source (a trailing comma of a block).
    pub(crate) fn synth_comma(&mut self) {
        let at = self.peek_start();
        self.write_sep(at);
        self.out.push(',');
        self.wrote = true;
    }

    /// Writes the source comma if there is one, else a new one.
    pub(crate) fn comma(&mut self) {
        if self.peek_is(&Tok::Comma) {
            self.emit();
        } else {
            self.synth_comma();
        }
    }

    fn emit(&mut self) {
        let Some((l, t, r)) = self.toks.get(self.pos) else {
            return;
        };
        let (l, r) = (*l, *r);
        // A doc comment never moves past a `,`: it would document the next column.
        let doc_before = self
            .comments
            .iter()
            .skip(self.cpos)
            .take_while(|c| (c.span.start as usize) < l)
            .any(|c| c.kind == CommentKind::Doc);
        if matches!(t, Tok::Comma | Tok::Semi) && !doc_before {
            // Punctuation goes right after what it ends; comments before it move after it.
            self.write_sep(l);
            self.push_token(t, l, r);
            self.wrote = true;
            // Only the comments on the line of what the punctuation ends; the others wait for
            // the next token, where the layout has decided the separator.
            let next = self.toks.get(self.pos + 1).map(|t| &t.1);
            self.flush_comments_upto(l, next, true);
            self.last_end = self.last_end.max(r);
        } else {
            self.flush_comments_upto(l, Some(t), false);
            self.write_sep(l);
            self.push_token(t, l, r);
            self.wrote = true;
            self.last_end = r;
        }
        self.pos += 1;
    }

    fn push_token(&mut self, t: &Tok, l: usize, r: usize) {
        match t {
            Tok::Label(name) => {
                self.out.push_str(name);
                self.out.push(':');
            }
            _ => {
                let slice = self.text.get(l..r).unwrap_or("");
                self.out.push_str(slice);
            }
        }
    }

    // ------------------------------------------------------------------ comments

    /// Writes every comment that starts before `before`. A comment on the line of the token
    /// before it stays on that line; any other comment gets a line of its own. A comment that ends
    /// its line in the source ends its line in the output.
    pub(crate) fn flush_comments(&mut self, before: usize, next: Option<&Tok>) {
        self.flush_comments_upto(before, next, false);
    }

    /// [`Printer::flush_comments`]; with `trailing_only`, stops at the first comment that is not
    /// on the line of the code before it.
    fn flush_comments_upto(&mut self, before: usize, next: Option<&Tok>, trailing_only: bool) {
        while let Some(c) = self.comments.get(self.cpos) {
            let (cs, ce) = (c.span.start as usize, c.span.end as usize);
            if cs >= before {
                break;
            }
            // A comment that waited behind a `,` or `;` (cs < last_end) starts its own line.
            let trailing = self.wrote
                && !self.in_line_comment
                && cs >= self.last_end
                && self
                    .text
                    .get(self.last_end..cs)
                    .is_some_and(|gap| !gap.contains('\n'));
            if trailing_only && !trailing {
                break;
            }
            self.cpos += 1;
            let body = comment_text(c);
            let prev = self.sep;
            let cont = match prev {
                Sep::Line { cont, .. } => cont,
                Sep::None | Sep::Space => true,
            };
            if trailing {
                if !self.out.ends_with([' ', '\n', '(', '[']) && !self.out.is_empty() {
                    self.out.push(' ');
                }
                self.out.push_str(body);
            } else {
                if !matches!(prev, Sep::Line { .. }) {
                    self.sep = Sep::Line {
                        blank_ok: false,
                        force_blank: false,
                        cont: true,
                    };
                }
                self.write_sep(cs);
                self.out.push_str(body);
            }
            self.wrote = true;
            self.in_line_comment = c.kind != CommentKind::Block;
            self.last_end = self.last_end.max(ce);
            let ends_line = c.kind != CommentKind::Block || self.newline_follows(ce);
            self.sep = if ends_line {
                match (trailing, prev) {
                    (true, Sep::Line { .. }) => prev,
                    _ => Sep::Line {
                        blank_ok: !cont,
                        force_blank: false,
                        cont,
                    },
                }
            } else if trailing {
                match prev {
                    Sep::None if !closes(next) => Sep::Space,
                    _ => prev,
                }
            } else {
                Sep::Space
            };
        }
    }

    /// Is the next non-blank character after `at` a line break (or the end of the text)?
    fn newline_follows(&self, at: usize) -> bool {
        let rest = self.text.get(at..).unwrap_or("");
        match rest.trim_start_matches([' ', '\t', '\r']).chars().next() {
            None | Some('\n') => true,
            Some(_) => false,
        }
    }

    // ------------------------------------------------------------------ tentative layouts

    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            len: self.out.len(),
            pos: self.pos,
            cpos: self.cpos,
            indent: self.indent,
            sep: self.sep,
            last_end: self.last_end,
            wrote: self.wrote,
            in_line_comment: self.in_line_comment,
            had_error: self.error.is_some(),
        }
    }

    pub(crate) fn rollback(&mut self, cp: Checkpoint) {
        self.out.truncate(cp.len);
        self.pos = cp.pos;
        self.cpos = cp.cpos;
        self.indent = cp.indent;
        self.sep = cp.sep;
        self.last_end = cp.last_end;
        self.wrote = cp.wrote;
        self.in_line_comment = cp.in_line_comment;
        if !cp.had_error {
            self.error = None;
        }
    }

    /// Did everything written since `cp` stay on one line that fits in [`MAX_WIDTH`]?
    pub(crate) fn fits_since(&self, cp: &Checkpoint) -> bool {
        let written = self.out.get(cp.len..).unwrap_or("");
        if written.contains('\n') {
            return false;
        }
        let line_start = self.out.rfind('\n').map_or(0, |i| i + 1);
        self.out[line_start..].chars().count() <= MAX_WIDTH
    }
}

/// Does `next` close something (so that no space goes before it)?
fn closes(next: Option<&Tok>) -> bool {
    matches!(
        next,
        Some(Tok::Comma | Tok::Semi | Tok::RParen | Tok::RBracket | Tok::Dot)
    )
}

/// A comment as it is written back: line comments lose trailing blanks.
pub(crate) fn comment_text(c: &Comment) -> &str {
    match c.kind {
        CommentKind::Block => c.text.as_str(),
        CommentKind::Line | CommentKind::Doc => c.text.trim_end(),
    }
}
