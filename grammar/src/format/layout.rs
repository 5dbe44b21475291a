//! The canonical layout: which construct goes on which line. See the module docs of
//! [`crate::format`] for the rules.

use super::printer::{Printer, Sep};
use crate::ast::*;
use crate::lexer::Tok;

impl Printer<'_> {
    /// Lays out a whole file.
    pub(crate) fn file(&mut self, decls: &[Decl]) {
        let mut prev: Option<&Decl> = None;
        for d in decls {
            let force_blank = prev.is_some_and(|p| !compact_pair(p, d));
            self.set_sep(Sep::Line {
                blank_ok: true,
                force_blank,
                cont: false,
            });
            self.decl(d);
            prev = Some(d);
        }
        self.line(true);
        self.flush_comments(usize::MAX, None);
    }

    fn decl(&mut self, d: &Decl) {
        match d {
            // A file with syntax errors is never formatted (`format_source` refuses it first).
            Decl::Error(_) => {}
            Decl::Tag(t) => {
                self.tok(Tok::KwTag);
                self.space();
                self.path(&t.path);
                while matches!(
                    self.peek(),
                    Some(Tok::KwSensitive | Tok::Str(_) | Tok::RawStr(_))
                ) {
                    self.space();
                    self.tok_any();
                }
                self.tok(Tok::Semi);
            }
            Decl::Purpose(p) => {
                self.tok(Tok::KwPurpose);
                self.space();
                self.path(&p.path);
                if p.description.is_some() {
                    self.space();
                    self.tok_any();
                }
                self.tok(Tok::Semi);
            }
            Decl::Subject(s) => {
                self.tok(Tok::KwSubject);
                self.space();
                self.block(&s.fields, true, |p, f| {
                    p.tok(Tok::Label(""));
                    p.space();
                    p.ty(&f.ty);
                });
            }
            Decl::Source(s) => self.source(s),
            Decl::Policy(p) => {
                self.tok(Tok::KwPolicy);
                self.space();
                self.tok_any();
                if p.rationale.is_some() {
                    self.space();
                    self.tok_any();
                }
                if p.staged.is_some() {
                    self.space();
                    self.tok(Tok::KwStaged);
                }
                if let Some(scope) = &p.scope {
                    self.space();
                    self.scope(scope);
                }
                self.space();
                self.block(&p.rules, false, |p, r| p.rule(r));
            }
            Decl::Exempt(e) => {
                self.tok(Tok::KwExempt);
                self.space();
                self.expr(&e.cond);
                if let Some(scope) = &e.scope {
                    self.space();
                    self.scope(scope);
                }
                self.tok(Tok::Semi);
            }
            Decl::Guarantee(g) => {
                self.words(&[Tok::KwGuarantee, Tok::KwNever]);
                match &g.kind {
                    GuaranteeKind::Unmasked(t) => {
                        self.tok(Tok::KwUnmasked);
                        self.space();
                        self.target(t);
                    }
                    GuaranteeKind::Rows { cond, .. } => {
                        self.words(&[Tok::KwShow, Tok::KwRows, Tok::KwOf]);
                        self.tok_any();
                        self.space();
                        self.tok(Tok::KwWhere);
                        self.space();
                        self.expr(cond);
                    }
                }
                if let Some(e) = &g.except {
                    self.space();
                    self.tok(Tok::KwExcept);
                    self.space();
                    self.expr(e);
                }
                self.tok(Tok::Semi);
            }
            Decl::Level(l) => {
                self.tok(Tok::KwLevel);
                self.space();
                for (i, _) in l.levels.iter().enumerate() {
                    if i > 0 {
                        self.space();
                        self.tok(Tok::Gt);
                        self.space();
                    }
                    self.tok_any();
                }
                self.tok(Tok::Semi);
            }
            Decl::Settings(s) => {
                self.tok(Tok::KwSettings);
                self.space();
                self.block(&s.entries, true, |p, e| {
                    p.tok_any();
                    p.space();
                    p.tok(Tok::Assign);
                    p.space();
                    p.expr(&e.value);
                });
            }
            Decl::Test(t) => {
                self.tok(Tok::KwTest);
                self.space();
                self.tok_any();
                self.space();
                self.block(&t.stmts, false, |p, s| p.test_stmt(s));
            }
            Decl::Table(t) => self.table(t),
        }
    }

    /// `table NAME: TYPE from "FILE" [column C];` or `table NAME: TYPE supplied at run time;`
    fn table(&mut self, t: &TableDecl) {
        self.tok(Tok::KwTable);
        self.space();
        self.tok(Tok::Label(""));
        self.space();
        self.ty(&t.ty);
        self.space();
        match &t.origin {
            TableOrigin::File { column, .. } => {
                self.tok(Tok::KwFrom);
                self.space();
                self.tok_any();
                if column.is_some() {
                    self.space();
                    self.tok(Tok::KwColumn);
                    self.space();
                    self.tok_any();
                }
            }
            TableOrigin::Supplied(_) => {
                for i in 0..4 {
                    if i > 0 {
                        self.space();
                    }
                    self.tok_any();
                }
            }
        }
        self.tok(Tok::Semi);
    }

    /// `{ items }`, one item per line, one level deeper; with `commas`, every item ends with a
    /// comma. An empty block is `{}` unless comments are inside.
    fn block<T>(&mut self, items: &[T], commas: bool, mut item: impl FnMut(&mut Self, &T)) {
        self.tok(Tok::LBrace);
        let after_open = self.out_len();
        self.indent += 1;
        for (i, it) in items.iter().enumerate() {
            self.line(i > 0);
            item(self, it);
            if commas {
                self.comma();
            }
        }
        // Comments before the `}` belong inside the block.
        let close = self.peek_start();
        self.line(!items.is_empty());
        self.flush_comments(close, Some(&Tok::RBrace));
        self.indent = self.indent.saturating_sub(1);
        if self.out_len() == after_open {
            self.set_sep(Sep::None);
        } else {
            self.line(false);
        }
        self.tok(Tok::RBrace);
    }

    fn source(&mut self, s: &SourceDecl) {
        self.tok(Tok::KwSource);
        self.space();
        self.tok_any();
        if let Some(meta) = &s.meta {
            self.space();
            self.tok(Tok::LParen);
            for (i, e) in meta.entries.iter().enumerate() {
                if i > 0 {
                    self.tok(Tok::Comma);
                    self.space();
                }
                self.tok_any();
                self.space();
                self.expr(&e.value);
            }
            self.skip(Tok::Comma);
            self.tok(Tok::RParen);
        }
        let mut tags = s.tags.iter();
        loop {
            match self.peek() {
                Some(Tok::KwTagged) => {
                    self.space();
                    self.tok(Tok::KwTagged);
                    self.space();
                    loop {
                        match tags.next() {
                            Some(p) => self.path(p),
                            None => {
                                self.tok_any();
                                break;
                            }
                        }
                        if self.peek_is(&Tok::Comma) {
                            self.tok(Tok::Comma);
                            self.space();
                        } else {
                            break;
                        }
                    }
                }
                Some(Tok::KwLevel) => {
                    self.space();
                    self.tok(Tok::KwLevel);
                    self.space();
                    self.tok_any();
                    self.space();
                    self.tok(Tok::KwFrom);
                    self.space();
                    self.tok_any();
                }
                _ => break,
            }
        }
        self.space();
        self.block(&s.columns, true, |p, c| p.column(c));
    }

    fn column(&mut self, c: &ColumnDecl) {
        match &c.kind {
            ColumnKind::Stored { ty, modifiers } => {
                self.tok(Tok::Label(""));
                self.space();
                self.ty(ty);
                for m in modifiers {
                    self.space();
                    self.modifier(m);
                }
            }
            ColumnKind::Derived { expr } => {
                self.tok_any();
                self.space();
                self.tok(Tok::Assign);
                self.space();
                self.expr(expr);
            }
        }
    }

    fn ty(&mut self, t: &TypeExpr) {
        match t {
            TypeExpr::Named(_) => self.tok_any(),
            TypeExpr::Enum { values, .. } => {
                self.tok_any();
                self.tok(Tok::LParen);
                for (i, _) in values.iter().enumerate() {
                    if i > 0 {
                        self.tok(Tok::Comma);
                        self.space();
                    }
                    self.tok_any();
                }
                self.skip(Tok::Comma);
                self.tok(Tok::RParen);
            }
            TypeExpr::Struct { fields, .. } => {
                self.tok_any();
                self.space();
                self.block(fields, true, |p, c| p.column(c));
            }
            TypeExpr::Generic { args, .. } => {
                self.tok_any();
                self.tok(Tok::Lt);
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        self.tok(Tok::Comma);
                        self.space();
                    }
                    self.ty(a);
                }
                self.tok(Tok::Gt);
            }
        }
    }

    fn modifier(&mut self, m: &Modifier) {
        match m {
            Modifier::Key(_) => self.tok(Tok::KwKey),
            Modifier::EventTime(_) => self.tok(Tok::KwEventTime),
            Modifier::Tagged(paths, _) => {
                self.tok(Tok::KwTagged);
                self.space();
                self.paths(paths);
            }
            Modifier::Accessible {
                cond, otherwise, ..
            } => {
                self.words(&[Tok::KwAccessible, Tok::KwIf]);
                self.expr(cond);
                if let Some(t) = otherwise {
                    self.space();
                    self.words(&[Tok::KwOtherwise, Tok::KwUsing]);
                    self.technique(t);
                }
            }
            Modifier::Visible { cond, .. } => {
                self.words(&[Tok::KwVisible, Tok::KwIf]);
                self.expr(cond);
            }
            Modifier::Links { .. } => {
                self.words(&[Tok::KwLinks]);
                self.tok_any();
                self.tok(Tok::Dot);
                self.tok_any();
            }
        }
    }

    fn path(&mut self, p: &Path) {
        for (i, _) in p.segments.iter().enumerate() {
            if i > 0 {
                self.tok(Tok::Dot);
            }
            self.tok_any();
        }
    }

    /// `A, B.C` (never a trailing comma: the grammar allows none).
    fn paths(&mut self, paths: &[Path]) {
        for (i, p) in paths.iter().enumerate() {
            if i > 0 {
                self.tok(Tok::Comma);
                self.space();
            }
            self.path(p);
        }
    }

    fn scope(&mut self, s: &Scope) {
        self.tok(Tok::KwOn);
        self.space();
        match &s.kind {
            ScopeKind::AllSources => {
                self.tok(Tok::KwAll);
                self.space();
                self.tok(Tok::KwSources);
            }
            ScopeKind::Source(_) => {
                self.tok(Tok::KwSource);
                self.space();
                self.tok_any();
            }
            ScopeKind::SourcesTagged(paths) => {
                self.words(&[Tok::KwSources, Tok::KwTagged]);
                self.paths(paths);
            }
            ScopeKind::SourcesWithColumnsTagged(paths) => {
                self.words(&[Tok::KwSources, Tok::KwWith, Tok::KwColumns, Tok::KwTagged]);
                self.paths(paths);
            }
            ScopeKind::SourcesNamedLike(_) => {
                self.words(&[Tok::KwSources, Tok::KwNamed, Tok::KwLike]);
                self.tok_any();
            }
            ScopeKind::SourcesWhere(c) => {
                self.words(&[Tok::KwSources, Tok::KwWhere]);
                self.source_cond(c);
            }
        }
    }

    /// A condition on source metadata, on one line.
    fn source_cond(&mut self, c: &SourceCond) {
        match &c.kind {
            SourceCondKind::Or(a, b) | SourceCondKind::And(a, b) => {
                self.source_cond(a);
                self.space();
                self.tok_any();
                self.space();
                self.source_cond(b);
            }
            SourceCondKind::Not(a) => {
                self.tok(Tok::KwNot);
                self.space();
                self.source_cond(a);
            }
            SourceCondKind::Paren(a) => {
                self.tok(Tok::LParen);
                self.source_cond(a);
                self.tok(Tok::RParen);
            }
            SourceCondKind::Compare { value, .. } => {
                self.tok(Tok::KwSource);
                self.tok(Tok::Dot);
                self.tok_any();
                self.space();
                self.tok_any();
                self.space();
                self.expr(value);
            }
            SourceCondKind::Between { low, high, .. } => {
                self.tok(Tok::KwSource);
                self.tok(Tok::Dot);
                self.tok_any();
                self.space();
                self.tok_any();
                self.space();
                self.expr(low);
                self.space();
                self.tok(Tok::KwAnd);
                self.space();
                self.expr(high);
            }
        }
    }

    // ------------------------------------------------------------------ rules

    /// One rule: on one line when it fits, has at most one `using` clause and no comment inside;
    /// otherwise broken before every clause.
    fn rule(&mut self, r: &Rule) {
        let span = r.span();
        let flat_ok = !self.has_comment_in(span.start as usize, span.end as usize)
            && match r {
                Rule::Mask(m) => m.clauses.len() <= 1,
                _ => true,
            };
        self.tentative(span.start as usize, flat_ok, |p, flat| p.rule_body(r, flat));
    }

    /// Writes the comments and separator before an item starting at `start`, then lays it out
    /// flat if `flat_ok` and it fits, else broken.
    fn tentative(&mut self, start: usize, flat_ok: bool, mut body: impl FnMut(&mut Self, bool)) {
        let next = self.peek();
        self.flush_comments(start, next);
        self.write_sep(start);
        if flat_ok {
            let cp = self.checkpoint();
            body(self, true);
            if self.fits_since(&cp) {
                return;
            }
            self.rollback(cp);
        }
        body(self, false);
    }

    /// A break between the parts of a rule: a space when flat, else a new line.
    fn brk(&mut self, flat: bool) {
        if flat {
            self.space();
        } else {
            self.line(false);
        }
    }

    fn rule_body(&mut self, r: &Rule, flat: bool) {
        match r {
            // As `Decl::Error`: never formatted.
            Rule::Error(_) => {}
            Rule::Mask(m) => {
                self.tok(Tok::KwMask);
                self.space();
                self.target(&m.target);
                if let Some(w) = &m.where_ {
                    self.space();
                    self.tok(Tok::KwWhere);
                    self.space();
                    self.expr(w);
                }
                self.indent += 1;
                for c in &m.clauses {
                    self.brk(flat);
                    if flat {
                        self.clause_body(c, true);
                    } else {
                        let flat_ok =
                            !self.has_comment_in(c.span.start as usize, c.span.end as usize);
                        self.tentative(c.span.start as usize, flat_ok, |p, flat| {
                            p.clause_body(c, flat)
                        });
                    }
                }
                if let Some(o) = &m.otherwise {
                    self.brk(flat);
                    self.tok(Tok::KwOtherwise);
                    self.space();
                    match &o.technique {
                        Some(t) => {
                            self.tok(Tok::KwUsing);
                            self.space();
                            self.technique(t);
                        }
                        None => self.tok(Tok::KwUnmasked),
                    }
                }
                self.indent -= 1;
            }
            Rule::Row(rr) => {
                self.row_filter(&rr.filter);
                self.indent += 1;
                self.brk(flat);
                self.tok(Tok::KwFor);
                self.space();
                self.tok(Tok::KwEveryone);
                match &rr.audience.kind {
                    RowAudienceKind::Everyone => {}
                    RowAudienceKind::Except(e) => {
                        self.space();
                        self.tok(Tok::KwExcept);
                        self.space();
                        self.expr(e);
                    }
                    RowAudienceKind::Who { cond, otherwise } => {
                        self.space();
                        self.tok(Tok::KwWho);
                        self.space();
                        self.expr(cond);
                        if let Some(o) = otherwise {
                            self.brk(flat);
                            self.tok(Tok::KwOtherwise);
                            self.space();
                            match o {
                                RowOtherwise::AllRows(_) => {
                                    self.tok(Tok::KwAll);
                                    self.space();
                                    self.tok(Tok::KwRows);
                                }
                                RowOtherwise::Filter(f) => self.row_filter(f),
                            }
                        }
                    }
                }
                self.indent -= 1;
            }
            Rule::KAnonymity(k) => {
                // `k_anonymity K over a, b`: the keyword, the number, `over`, then the columns.
                self.tok(Tok::KwKAnonymity);
                self.space();
                self.tok_any();
                self.space();
                self.tok_any();
                self.space();
                for (i, _) in k.columns.iter().enumerate() {
                    if i > 0 {
                        self.tok(Tok::Comma);
                        self.space();
                    }
                    self.tok_any();
                }
            }
            Rule::TemporaryUnmask(t) => {
                self.words(&[Tok::KwAllow, Tok::KwTemporary, Tok::KwUnmask, Tok::KwFor]);
                self.tok_any();
                self.indent += 1;
                self.brk(flat);
                self.audience(&t.audience);
                self.approval(t.approval.as_ref(), flat);
                self.indent -= 1;
            }
            Rule::Detokenize(d) => {
                self.words(&[Tok::KwAllow, Tok::KwDetokenize, Tok::KwColumn]);
                self.paths(&d.columns);
                self.indent += 1;
                self.brk(flat);
                self.audience(&d.audience);
                self.approval(d.approval.as_ref(), flat);
                self.indent -= 1;
            }
        }
    }

    /// `using T for AUDIENCE`; when broken, the audience goes on the next line, one level deeper.
    fn clause_body(&mut self, c: &MaskClause, flat: bool) {
        self.tok(Tok::KwUsing);
        self.space();
        self.technique(&c.technique);
        self.indent += 1;
        self.brk(flat);
        self.audience(&c.audience);
        self.indent -= 1;
    }

    fn target(&mut self, t: &Target) {
        match &t.kind {
            TargetKind::Column(p) => {
                self.tok(Tok::KwColumn);
                self.space();
                self.path(p);
            }
            TargetKind::Tagged(paths) => {
                self.words(&[Tok::KwColumns, Tok::KwTagged]);
                self.paths(paths);
            }
            TargetKind::NamedLike(_) => {
                self.words(&[Tok::KwColumns, Tok::KwNamed, Tok::KwLike]);
                self.tok_any();
            }
            TargetKind::All => {
                self.tok(Tok::KwAll);
                self.space();
                self.tok(Tok::KwColumns);
            }
            TargetKind::AnyTag | TargetKind::NoTags => {
                self.words(&[Tok::KwColumns, Tok::KwWith]);
                self.tok_any();
                self.space();
                self.tok_any();
            }
        }
    }

    /// `with approval by C within D` after a grant's audience, on a line of its own when broken.
    fn approval(&mut self, a: Option<&Approval>, flat: bool) {
        let Some(a) = a else { return };
        self.brk(flat);
        self.tok(Tok::KwWith);
        self.space();
        self.tok(Tok::KwApproval);
        if let Some(by) = &a.by {
            self.space();
            self.tok(Tok::KwBy);
            self.space();
            self.expr(by);
        }
        if a.window.is_some() {
            self.space();
            self.tok(Tok::KwWithin);
            self.space();
            self.tok_any();
        }
    }

    fn audience(&mut self, a: &Audience) {
        self.tok(Tok::KwFor);
        self.space();
        self.tok(Tok::KwEveryone);
        match &a.kind {
            AudienceKind::Everyone => {}
            AudienceKind::Except(e) => {
                self.space();
                self.tok(Tok::KwExcept);
                self.space();
                self.expr(e);
            }
            AudienceKind::Who(e) => {
                self.space();
                self.tok(Tok::KwWho);
                self.space();
                self.expr(e);
            }
        }
    }

    fn technique(&mut self, t: &Technique) {
        match &t.kind {
            TechniqueKind::Call { args, parens, .. } => {
                self.tok_any();
                if *parens {
                    self.tok(Tok::LParen);
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            self.tok(Tok::Comma);
                            self.space();
                        }
                        if a.label.is_some() {
                            self.tok(Tok::Label(""));
                            self.space();
                        }
                        self.expr(&a.value);
                    }
                    self.skip(Tok::Comma);
                    self.tok(Tok::RParen);
                }
            }
            TechniqueKind::ByLevel { entries } => {
                self.tok(Tok::KwBy);
                self.space();
                self.tok(Tok::KwLevel);
                self.space();
                self.tok(Tok::LBrace);
                for (i, (_, tech)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.tok(Tok::Comma);
                    }
                    self.space();
                    self.tok(Tok::Label(""));
                    self.space();
                    self.technique(tech);
                }
                self.skip(Tok::Comma);
                if !entries.is_empty() {
                    self.space();
                }
                self.tok(Tok::RBrace);
            }
        }
    }

    fn row_filter(&mut self, f: &RowFilter) {
        match &f.kind {
            RowFilterKind::Linked(_) => {
                self.words(&[
                    Tok::KwOnly,
                    Tok::KwShow,
                    Tok::KwRows,
                    Tok::KwLinked,
                    Tok::KwTo,
                    Tok::KwShown,
                ]);
                self.tok_any();
            }
            RowFilterKind::Never => {
                self.tok(Tok::KwNever);
                self.space();
                self.tok(Tok::KwShow);
                self.space();
                self.tok(Tok::KwRows);
            }
            RowFilterKind::Sample(..) => {
                self.words(&[Tok::KwOnly, Tok::KwShow]);
                self.tok_any();
                self.tok(Tok::Percent);
                self.space();
                self.tok(Tok::KwOf);
                self.space();
                self.tok(Tok::KwRows);
            }
            RowFilterKind::Where(_) | RowFilterKind::NewerThan(_) | RowFilterKind::OlderThan(_) => {
                self.words(&[Tok::KwOnly, Tok::KwShow, Tok::KwRows]);
                match &f.kind {
                    RowFilterKind::Where(e) => {
                        self.tok(Tok::KwWhere);
                        self.space();
                        self.expr(e);
                    }
                    _ => {
                        self.tok_any();
                        self.space();
                        self.tok(Tok::KwThan);
                        self.space();
                        self.tok_any();
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ tests

    /// One statement of a `test`: on one line when it fits and has no comment inside; otherwise
    /// its record gets one entry per line.
    fn test_stmt(&mut self, s: &TestStmt) {
        let span = s.span();
        let flat_ok = !self.has_comment_in(span.start as usize, span.end as usize);
        self.tentative(span.start as usize, flat_ok, |p, flat| {
            p.test_stmt_body(s, flat)
        });
    }

    fn test_stmt_body(&mut self, s: &TestStmt, flat: bool) {
        match s {
            TestStmt::GivenUser { record, .. } => {
                self.words(&[Tok::KwGiven, Tok::KwUser]);
                self.record(record, flat);
            }
            TestStmt::GivenRow { record, .. } => {
                self.words(&[Tok::KwGiven, Tok::KwRow]);
                self.tok_any();
                self.space();
                self.record(record, flat);
            }
            TestStmt::GivenNow { value, .. } => {
                self.tok(Tok::KwGiven);
                self.space();
                self.tok_any();
                self.space();
                self.expr(value);
            }
            TestStmt::ExpectRow { record, .. } => {
                self.words(&[Tok::KwExpect, Tok::KwRow]);
                self.record(record, flat);
            }
            TestStmt::ExpectHidden(_) | TestStmt::ExpectShown(_) => {
                self.tok(Tok::KwExpect);
                self.space();
                self.tok_any();
            }
            TestStmt::ExpectVisible { columns, .. } => {
                self.tok(Tok::KwExpect);
                self.space();
                self.tok(Tok::KwVisible);
                self.space();
                self.tok(Tok::LBracket);
                self.paths(columns);
                self.skip(Tok::Comma);
                self.tok(Tok::RBracket);
            }
        }
    }

    /// The record of a test statement: inline when `flat`, else one entry per line.
    fn record(&mut self, e: &Expr, flat: bool) {
        match &e.kind {
            ExprKind::Record(entries) if !flat => {
                self.block(entries, true, |p, (_, v)| p.record_entry(v));
            }
            _ => self.expr(e),
        }
    }

    fn record_entry(&mut self, value: &Expr) {
        if self.peek_is(&Tok::Label("")) {
            self.tok_any();
        } else {
            self.tok_any();
            self.tok(Tok::Colon);
        }
        self.space();
        self.expr(value);
    }

    // ------------------------------------------------------------------ expressions

    /// Writes the `(` tokens that group the expression starting at `start`; returns how many.
    fn open_parens(&mut self, start: usize) -> usize {
        let mut n = 0;
        while self.peek_is(&Tok::LParen) && self.peek_start() < start {
            self.tok(Tok::LParen);
            n += 1;
        }
        n
    }

    /// An expression, on one line (only comments break it), its parentheses as written.
    pub(crate) fn expr(&mut self, e: &Expr) {
        let parens = self.open_parens(e.span.start as usize);
        match &e.kind {
            ExprKind::Lit(_) | ExprKind::Name(_) => self.tok_any(),
            ExprKind::Value => self.tok(Tok::KwValue),
            ExprKind::List(items) => {
                self.tok(Tok::LBracket);
                self.expr_list(items);
                self.tok(Tok::RBracket);
            }
            ExprKind::Record(entries) => {
                self.tok(Tok::LBrace);
                for (i, (_, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.tok(Tok::Comma);
                    }
                    self.space();
                    self.record_entry(v);
                }
                self.skip(Tok::Comma);
                if !entries.is_empty() {
                    self.space();
                }
                self.tok(Tok::RBrace);
            }
            ExprKind::UserField(_) | ExprKind::RowField(_) => {
                self.tok_any();
                self.tok(Tok::Dot);
                self.tok_any();
            }
            ExprKind::RowTagged(p) => {
                self.tok(Tok::KwRow);
                self.tok(Tok::LBracket);
                self.tok(Tok::KwTagged);
                self.space();
                self.path(p);
                self.tok(Tok::RBracket);
            }
            ExprKind::Field(inner, _) => {
                self.expr(inner);
                self.tok(Tok::Dot);
                self.tok_any();
            }
            ExprKind::Index(a, b) => {
                self.expr(a);
                self.tok(Tok::LBracket);
                self.expr(b);
                self.tok(Tok::RBracket);
            }
            ExprKind::Call(_, args) => {
                self.tok_any();
                self.tok(Tok::LParen);
                self.expr_list(args);
                self.tok(Tok::RParen);
            }
            ExprKind::Neg(inner) => {
                self.tok(Tok::Minus);
                self.expr(inner);
            }
            ExprKind::Not(inner) => {
                self.tok(Tok::KwNot);
                self.space();
                self.expr(inner);
            }
            ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.space();
                self.tok_any();
                self.space();
                self.expr(b);
            }
            ExprKind::Under(a, p) => {
                self.expr(a);
                self.space();
                self.tok(Tok::KwUnder);
                self.space();
                self.path(p);
            }
            ExprKind::If(c, a, b) => {
                self.tok(Tok::KwIf);
                self.space();
                self.expr(c);
                self.space();
                self.tok(Tok::KwThen);
                self.space();
                self.expr(a);
                self.space();
                self.tok(Tok::KwElse);
                self.space();
                self.expr(b);
            }
            ExprKind::InGroup(g) => {
                self.words(&[Tok::KwUser, Tok::KwIn, Tok::KwGroup]);
                self.expr(g);
            }
            ExprKind::HasRole(g) => {
                self.words(&[Tok::KwUser, Tok::KwHas, Tok::KwRole]);
                self.expr(g);
            }
            ExprKind::HasAttribute(a, v) => {
                self.words(&[Tok::KwUser, Tok::KwHas, Tok::KwAttribute]);
                self.expr(a);
                if let Some(v) = v {
                    self.space();
                    self.tok(Tok::Assign);
                    self.space();
                    self.expr(v);
                }
            }
            ExprKind::ActingUnder(p) => {
                self.words(&[Tok::KwUser, Tok::KwActing, Tok::KwUnder]);
                self.path(p);
            }
            ExprKind::InTable(a, _) => {
                self.expr(a);
                self.space();
                self.words(&[Tok::KwIn, Tok::KwTable]);
                self.tok_any();
            }
        }
        for _ in 0..parens {
            self.tok(Tok::RParen);
        }
    }

    /// Keywords separated (and followed) by one space.
    fn words(&mut self, words: &[Tok]) {
        for w in words {
            self.tok(w.clone());
            self.space();
        }
    }

    /// `a, b, c` without a trailing comma.
    fn expr_list(&mut self, items: &[Expr]) {
        for (i, e) in items.iter().enumerate() {
            if i > 0 {
                self.tok(Tok::Comma);
                self.space();
            }
            self.expr(e);
        }
        self.skip(Tok::Comma);
    }
}

/// Two declarations that may stand on consecutive lines (no blank line forced between them).
fn compact_pair(a: &Decl, b: &Decl) -> bool {
    matches!(
        (a, b),
        (Decl::Tag(_), Decl::Tag(_))
            | (Decl::Purpose(_), Decl::Purpose(_))
            | (Decl::Exempt(_), Decl::Exempt(_))
            | (Decl::Guarantee(_), Decl::Guarantee(_))
            | (Decl::Level(_), Decl::Level(_))
            | (Decl::Table(_), Decl::Table(_))
    )
}
