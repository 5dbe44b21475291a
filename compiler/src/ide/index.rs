//! The name index of a policy set: every place a tag, purpose, source, column, subject field,
//! policy or masking level is declared or used, found by walking the syntax trees with the
//! checked model at hand (to know which sources a `row.x` can mean).

use crate::model::Model;
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::{self, Decl, Expr, ExprKind};
use std::sync::Arc;

/// Something with a name that can be declared and referred to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    /// A tag by its full dotted path.
    Tag(String),
    /// A purpose by its full dotted path.
    Purpose(String),
    Source(String),
    /// A column by source and full dotted column name (`patient.ssn`).
    Column {
        source: String,
        column: String,
    },
    SubjectField(String),
    Policy(String),
    Level(String),
    /// A lookup table by name.
    Table(String),
}

impl Symbol {
    /// The kind of symbol, in words (`tag`, `column`, …).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Symbol::Tag(_) => "tag",
            Symbol::Purpose(_) => "purpose",
            Symbol::Source(_) => "source",
            Symbol::Column { .. } => "column",
            Symbol::SubjectField(_) => "subject field",
            Symbol::Policy(_) => "policy",
            Symbol::Level(_) => "level",
            Symbol::Table(_) => "lookup table",
        }
    }

    /// The name of the symbol as a user would write it in full.
    pub fn display(&self) -> String {
        match self {
            Symbol::Tag(p) | Symbol::Purpose(p) => p.clone(),
            Symbol::Source(s)
            | Symbol::SubjectField(s)
            | Symbol::Policy(s)
            | Symbol::Level(s)
            | Symbol::Table(s) => s.clone(),
            Symbol::Column { source, column } => format!("{source}.{column}"),
        }
    }
}

/// One place a symbol is named. For a dotted path each segment is its own occurrence: in
/// `PII.SSN` the segment `PII` names the tag `PII` and `SSN` names `PII.SSN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub loc: Loc,
    pub symbol: Symbol,
    /// This is the declaration of the symbol (not a use).
    pub is_def: bool,
}

/// Every occurrence of every symbol, sorted by place: each file's list apart, so that an
/// incremental analysis rebuilds only the lists of the files an edit can change
/// ([`Index::build_after`]).
#[derive(Clone, Debug, Default)]
pub struct Index {
    files: Vec<Arc<Vec<Occurrence>>>,
}

impl Index {
    /// Builds the index of parsed files against their checked model.
    pub fn build(asts: &[ast::SourceFile], model: &Model) -> Index {
        Index::build_after(asts, model, None)
    }

    /// [`Index::build`], keeping from `previous` (the index of an earlier version of the same
    /// files) the list of each file `i` with `keep[i]`: a file with the very text it had then,
    /// checked against the same declarations, whose policies were kept (its occurrences read
    /// the model only for the declarations and its own policies' and exemptions' scopes).
    pub fn build_after(
        asts: &[ast::SourceFile],
        model: &Model,
        previous: Option<(&Index, &[bool])>,
    ) -> Index {
        let files = asts
            .iter()
            .enumerate()
            .map(|(i, ast)| {
                let kept = previous.and_then(|(index, keep)| {
                    keep.get(i)
                        .copied()
                        .unwrap_or(false)
                        .then(|| index.files.get(i).cloned())
                        .flatten()
                });
                kept.unwrap_or_else(|| Arc::new(file_occurrences(FileId(i as u32), ast, model)))
            })
            .collect();
        Index { files }
    }

    /// The occurrences at an offset of a file (an offset touching either end counts), the
    /// narrowest first.
    pub fn at(&self, file: FileId, offset: usize) -> Vec<&Occurrence> {
        // Sorted by place: only the occurrences starting at or before the offset can hold it.
        let occurrences = self.file(file);
        let last = occurrences.partition_point(|o| o.loc.span.start as usize <= offset);
        let mut found: Vec<&Occurrence> = occurrences
            .get(..last)
            .unwrap_or_default()
            .iter()
            .filter(|o| o.loc.span.contains(offset))
            .collect();
        found.sort_by_key(|o| o.loc.span.len());
        if let Some(first) = found.first() {
            let len = first.loc.span.len();
            found.retain(|o| o.loc.span.len() == len);
        }
        found
    }

    /// Every occurrence of a symbol, in place order.
    pub fn of<'a>(&'a self, symbol: &'a Symbol) -> impl Iterator<Item = &'a Occurrence> + 'a {
        self.files
            .iter()
            .flat_map(|f| f.iter())
            .filter(move |o| &o.symbol == symbol)
    }

    /// The occurrences in one file.
    pub fn in_file(&self, file: FileId) -> impl Iterator<Item = &Occurrence> + '_ {
        self.file(file).iter()
    }

    fn file(&self, file: FileId) -> &[Occurrence] {
        self.files
            .get(file.0 as usize)
            .map_or(&[][..], |f| f.as_slice())
    }
}

/// The occurrences of one file, sorted by place.
fn file_occurrences(file: FileId, ast: &ast::SourceFile, model: &Model) -> Vec<Occurrence> {
    let mut b = Builder {
        model,
        out: Vec::new(),
        file,
    };
    for d in &ast.decls {
        b.decl(d);
    }
    let mut occurrences = b.out;
    occurrences.sort_by(|a, b| (a.loc, &a.symbol, !a.is_def).cmp(&(b.loc, &b.symbol, !b.is_def)));
    occurrences.dedup();
    occurrences
}

/// The item of `items` (sorted by place, as the model's policies and exemptions are) whose
/// place is `at`, found by halving (and, should the table not be sorted, by a scan).
fn placed<T>(items: &[T], at: Loc, place: impl Fn(&T) -> Loc) -> Option<&T> {
    let i = items.partition_point(|x| place(x) < at);
    items
        .get(i)
        .filter(|x| place(x) == at)
        .or_else(|| items.iter().find(|x| place(x) == at))
}

struct Builder<'m> {
    model: &'m Model,
    out: Vec<Occurrence>,
    file: FileId,
}

/// Which sources a `row.x` may mean where an expression is written.
type RowContext = Vec<String>;

impl Builder<'_> {
    fn push(&mut self, span: pol_grammar::Span, symbol: Symbol, is_def: bool) {
        self.out.push(Occurrence {
            loc: Loc::new(self.file, span),
            symbol,
            is_def,
        });
    }

    /// A hierarchical path: each segment names the prefix ending at it; the last is a
    /// declaration when `def`.
    fn path(&mut self, p: &ast::Path, make: fn(String) -> Symbol, def: bool) {
        let mut prefix = String::new();
        let n = p.segments.len();
        for (i, seg) in p.segments.iter().enumerate() {
            if i > 0 {
                prefix.push('.');
            }
            prefix.push_str(&seg.name);
            self.push(seg.span, make(prefix.clone()), def && i + 1 == n);
        }
    }

    fn tag_path(&mut self, p: &ast::Path) {
        self.path(p, Symbol::Tag, false);
    }

    fn column(&mut self, source: &str, column: &str, span: pol_grammar::Span, def: bool) {
        self.push(
            span,
            Symbol::Column {
                source: source.to_string(),
                column: column.to_string(),
            },
            def,
        );
    }

    /// `S.c.f` as in `column S.c.f`: the source, then each column prefix.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
    )]
    fn column_path(&mut self, p: &ast::Path) {
        let Some(first) = p.segments.first() else {
            return;
        };
        self.push(first.span, Symbol::Source(first.name.clone()), false);
        let mut name = String::new();
        for seg in &p.segments[1..] {
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(&seg.name);
            self.column(&first.name, &name, seg.span, false);
        }
    }

    fn scope_sources(scope: &crate::model::Scope, model: &Model) -> RowContext {
        scope
            .sources
            .iter()
            .filter_map(|&s| model.sources.get(s).map(|s| s.name.clone()))
            .collect()
    }

    fn decl(&mut self, d: &Decl) {
        match d {
            Decl::Tag(t) => {
                self.path(&t.path, Symbol::Tag, true);
            }
            Decl::Purpose(p) => self.path(&p.path, Symbol::Purpose, true),
            Decl::Subject(s) => {
                for f in &s.fields {
                    self.push(f.name.span, Symbol::SubjectField(f.name.name.clone()), true);
                }
            }
            Decl::Source(s) => self.source(s),
            Decl::Policy(p) => self.policy(p),
            Decl::Guarantee(_) => {}
            Decl::Exempt(e) => {
                let ctx = placed(&self.model.exempts, Loc::new(self.file, e.span), |x| x.loc)
                    .map(|x| Self::scope_sources(&x.scope, self.model))
                    .unwrap_or_default();
                self.expr(&e.cond, &ctx, false);
                if let Some(scope) = &e.scope {
                    self.scope(scope);
                }
            }
            Decl::Level(l) => {
                for lv in &l.levels {
                    self.push(lv.span, Symbol::Level(lv.name.clone()), true);
                }
            }
            Decl::Settings(s) => {
                for e in &s.entries {
                    self.expr(&e.value, &Vec::new(), false);
                }
            }
            Decl::Test(t) => self.test(t),
            Decl::Table(t) => self.push(t.name.span, Symbol::Table(t.name.name.clone()), true),
            Decl::Error(_) => {}
        }
    }

    fn source(&mut self, s: &ast::SourceDecl) {
        let name = s.name.name.clone();
        self.push(s.name.span, Symbol::Source(name.clone()), true);
        for t in &s.tags {
            self.tag_path(t);
        }
        if let Some(level) = &s.level {
            self.push(
                level.default.span,
                Symbol::Level(level.default.name.clone()),
                false,
            );
            self.column(&name, &level.column.name, level.column.span, false);
        }
        self.columns(&name, "", &s.columns);
    }

    fn columns(&mut self, source: &str, prefix: &str, columns: &[ast::ColumnDecl]) {
        let ctx = vec![source.to_string()];
        for c in columns {
            let full = format!("{prefix}{}", c.name.name);
            self.column(source, &full, c.name.span, true);
            match &c.kind {
                ast::ColumnKind::Derived { expr } => self.expr(expr, &ctx, true),
                ast::ColumnKind::Stored { ty, modifiers } => {
                    if let ast::TypeExpr::Struct { fields, .. } = ty {
                        self.columns(source, &format!("{full}."), fields);
                    }
                    for m in modifiers {
                        match m {
                            ast::Modifier::Tagged(paths, _) => {
                                for p in paths {
                                    self.tag_path(p);
                                }
                            }
                            ast::Modifier::Accessible {
                                cond, otherwise, ..
                            } => {
                                self.expr(cond, &ctx, false);
                                if let Some(t) = otherwise {
                                    self.technique(t, &ctx);
                                }
                            }
                            ast::Modifier::Visible { cond, .. } => self.expr(cond, &ctx, false),
                            ast::Modifier::Links { parent, column, .. } => {
                                self.push(parent.span, Symbol::Source(parent.name.clone()), false);
                                self.column(&parent.name, &column.name, column.span, false);
                            }
                            ast::Modifier::Key(_) | ast::Modifier::EventTime(_) => {}
                        }
                    }
                }
            }
        }
    }

    fn scope(&mut self, scope: &ast::Scope) {
        match &scope.kind {
            ast::ScopeKind::AllSources
            | ast::ScopeKind::SourcesNamedLike(_)
            | ast::ScopeKind::SourcesWhere(_) => {}
            ast::ScopeKind::Source(s) => self.push(s.span, Symbol::Source(s.name.clone()), false),
            ast::ScopeKind::SourcesTagged(ts) | ast::ScopeKind::SourcesWithColumnsTagged(ts) => {
                for t in ts {
                    self.tag_path(t);
                }
            }
        }
    }

    fn policy(&mut self, p: &ast::PolicyDecl) {
        self.push(p.name.span, Symbol::Policy(p.name.name.clone()), true);
        if let Some(scope) = &p.scope {
            self.scope(scope);
        }
        let ctx = placed(
            &self.model.policies,
            Loc::new(self.file, p.name.span),
            |x| x.loc,
        )
        .map(|x| Self::scope_sources(&x.scope, self.model))
        .unwrap_or_default();
        for r in &p.rules {
            match r {
                ast::Rule::Mask(m) => {
                    match &m.target.kind {
                        ast::TargetKind::Column(path) => self.column_path(path),
                        ast::TargetKind::Tagged(ts) => {
                            for t in ts {
                                self.tag_path(t);
                            }
                        }
                        _ => {}
                    }
                    if let Some(w) = &m.where_ {
                        self.expr(w, &ctx, false);
                    }
                    for c in &m.clauses {
                        self.technique(&c.technique, &ctx);
                        self.audience(&c.audience, &ctx);
                    }
                    if let Some(t) = m.otherwise.as_ref().and_then(|o| o.technique.as_ref()) {
                        self.technique(t, &ctx);
                    }
                }
                ast::Rule::Row(r) => {
                    self.row_filter(&r.filter, &ctx);
                    match &r.audience.kind {
                        ast::RowAudienceKind::Everyone => {}
                        ast::RowAudienceKind::Except(c) => self.expr(c, &ctx, false),
                        ast::RowAudienceKind::Who { cond, otherwise } => {
                            self.expr(cond, &ctx, false);
                            if let Some(ast::RowOtherwise::Filter(f)) = otherwise {
                                self.row_filter(f, &ctx);
                            }
                        }
                    }
                }
                ast::Rule::TemporaryUnmask(t) => {
                    self.audience(&t.audience, &ctx);
                    if let Some(by) = t.approval.as_ref().and_then(|a| a.by.as_ref()) {
                        self.expr(by, &ctx, false);
                    }
                }
                ast::Rule::Detokenize(d) => {
                    for c in &d.columns {
                        self.column_path(c);
                    }
                    self.audience(&d.audience, &ctx);
                    if let Some(by) = d.approval.as_ref().and_then(|a| a.by.as_ref()) {
                        self.expr(by, &ctx, false);
                    }
                }
                ast::Rule::KAnonymity(_) | ast::Rule::Error(_) => {}
            }
        }
    }

    fn row_filter(&mut self, f: &ast::RowFilter, ctx: &RowContext) {
        if let ast::RowFilterKind::Linked(parent) = &f.kind {
            self.push(parent.span, Symbol::Source(parent.name.clone()), false);
        }
        if let ast::RowFilterKind::Where(e) = &f.kind {
            self.expr(e, ctx, false);
        }
    }

    fn audience(&mut self, a: &ast::Audience, ctx: &RowContext) {
        match &a.kind {
            ast::AudienceKind::Everyone => {}
            ast::AudienceKind::Except(e) | ast::AudienceKind::Who(e) => self.expr(e, ctx, false),
        }
    }

    fn technique(&mut self, t: &ast::Technique, ctx: &RowContext) {
        match &t.kind {
            ast::TechniqueKind::Call { args, .. } => {
                for a in args {
                    self.expr(&a.value, ctx, false);
                }
            }
            ast::TechniqueKind::ByLevel { entries } => {
                for (level, t) in entries {
                    self.push(level.span, Symbol::Level(level.name.clone()), false);
                    self.technique(t, ctx);
                }
            }
        }
    }

    /// A `row.x` (or `row.x.y`) in a context: one occurrence per source that has the column.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn row_column(&mut self, name: &str, span: pol_grammar::Span, ctx: &RowContext) {
        for s in ctx {
            let has = self
                .model
                .source(s)
                .is_some_and(|id| self.model.sources[id].column(name).is_some());
            if has {
                self.column(s, name, span, false);
            }
        }
    }

    /// The dotted row column an expression names, if it is `row.a` or `row.a.b…`.
    fn row_chain(e: &Expr) -> Option<(String, Vec<(String, pol_grammar::Span)>)> {
        match &e.kind {
            ExprKind::RowField(i) => Some((i.name.clone(), vec![(i.name.clone(), i.span)])),
            ExprKind::Field(inner, f) => {
                let (mut name, mut segs) = Self::row_chain(inner)?;
                name.push('.');
                name.push_str(&f.name);
                segs.push((name.clone(), f.span));
                Some((name, segs))
            }
            _ => None,
        }
    }

    fn expr(&mut self, e: &Expr, ctx: &RowContext, derived: bool) {
        if let Some((_, segs)) = Self::row_chain(e) {
            for (name, span) in segs {
                self.row_column(&name, span, ctx);
            }
            return;
        }
        match &e.kind {
            ExprKind::UserField(i) => {
                self.push(i.span, Symbol::SubjectField(i.name.clone()), false);
            }
            ExprKind::RowTagged(p) => self.tag_path(p),
            ExprKind::Name(i) if derived => self.row_column(&i.name, i.span, ctx),
            ExprKind::Under(inner, p) => {
                self.expr(inner, ctx, derived);
                self.path(p, Symbol::Purpose, false);
            }
            ExprKind::ActingUnder(p) => self.path(p, Symbol::Purpose, false),
            ExprKind::InTable(inner, t) => {
                self.expr(inner, ctx, derived);
                self.push(t.span, Symbol::Table(t.name.clone()), false);
            }
            ExprKind::Lit(_) | ExprKind::RowField(_) | ExprKind::Value | ExprKind::Name(_) => {}
            ExprKind::List(items) | ExprKind::Call(_, items) => {
                for i in items {
                    self.expr(i, ctx, derived);
                }
            }
            ExprKind::Record(entries) => {
                for (_, v) in entries {
                    self.expr(v, ctx, derived);
                }
            }
            ExprKind::Field(a, _)
            | ExprKind::Neg(a)
            | ExprKind::Not(a)
            | ExprKind::InGroup(a)
            | ExprKind::HasRole(a) => self.expr(a, ctx, derived),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                self.expr(a, ctx, derived);
                self.expr(b, ctx, derived);
            }
            ExprKind::If(a, b, c) => {
                self.expr(a, ctx, derived);
                self.expr(b, ctx, derived);
                self.expr(c, ctx, derived);
            }
            ExprKind::HasAttribute(a, b) => {
                self.expr(a, ctx, derived);
                if let Some(b) = b {
                    self.expr(b, ctx, derived);
                }
            }
        }
    }

    fn record_keys(&mut self, record: &Expr, symbol: impl Fn(&str) -> Option<Symbol>) {
        if let ExprKind::Record(entries) = &record.kind {
            for (k, _) in entries {
                if let Some(s) = symbol(&k.name) {
                    // The key's span covers the name as written (possibly quoted).
                    self.push(k.span, s, false);
                }
            }
        }
    }

    fn test(&mut self, t: &ast::TestDecl) {
        let mut current: Option<String> = None;
        let model = self.model;
        for s in &t.stmts {
            match s {
                ast::TestStmt::GivenUser { record, .. } => {
                    self.record_keys(record, |k| {
                        model
                            .subject_field(k)
                            .map(|_| Symbol::SubjectField(k.to_string()))
                    });
                }
                ast::TestStmt::GivenRow { source, record, .. } => {
                    self.push(source.span, Symbol::Source(source.name.clone()), false);
                    current = Some(source.name.clone());
                    let src = source.name.clone();
                    self.record_keys(record, |k| column_symbol(model, &src, k));
                }
                ast::TestStmt::ExpectRow { record, .. } => {
                    if let Some(src) = current.clone() {
                        self.record_keys(record, |k| column_symbol(model, &src, k));
                    }
                }
                ast::TestStmt::ExpectVisible { columns, .. } => {
                    if let Some(src) = current.clone() {
                        for p in columns {
                            let mut name = String::new();
                            for seg in &p.segments {
                                if !name.is_empty() {
                                    name.push('.');
                                }
                                name.push_str(&seg.name);
                                if let Some(sym) = column_symbol(model, &src, &name) {
                                    self.push(seg.span, sym, false);
                                }
                            }
                        }
                    }
                }
                ast::TestStmt::GivenNow { .. }
                | ast::TestStmt::ExpectHidden(_)
                | ast::TestStmt::ExpectShown(_) => {}
            }
        }
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn column_symbol(model: &Model, source: &str, column: &str) -> Option<Symbol> {
    let s = model.source(source)?;
    model.sources[s].column(column)?;
    Some(Symbol::Column {
        source: source.to_string(),
        column: column.to_string(),
    })
}
