//! The resolved policy set: what the checker produces and every later stage reads (conflict
//! resolution, the reference evaluator, lowering to a bundle, the language server).
//!
//! Names are resolved to indices, expressions are typed ([`CExpr`]), techniques are checked
//! ([`TechniqueUse`]). Every item keeps the [`Loc`] it was declared at.

pub mod expr;
pub mod hierarchy;
pub mod types;

pub use expr::{Builtin, CExpr, CKind, Const};
pub use hierarchy::{HNode, Hierarchy, NodeId};
pub use types::Ty;

use crate::source_map::Loc;
use pol_grammar::ast::BinOp;
pub use pol_grammar::duration::DurationValue;
use std::sync::Arc;

/// Index of a source in [`Model::sources`].
pub type SourceId = usize;
/// Index of a column in [`Source::columns`].
pub type ColumnId = usize;
/// Index of a mask rule in [`Model::mask_rules`].
pub type RuleId = usize;
/// Index of a lookup table in [`Model::tables`].
pub type TableId = usize;

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub tags: Hierarchy,
    pub purposes: Hierarchy,
    pub subject: Vec<SubjectField>,
    /// Masking levels, highest first.
    pub levels: Vec<Level>,
    /// Shared: a copy of the model (the language server keeps the declarations' model between
    /// analyses) copies no source; change them through [`Model::sources_mut`].
    pub sources: Arc<Vec<Source>>,
    pub policies: Vec<Policy>,
    pub mask_rules: Vec<MaskRule>,
    pub row_rules: Vec<RowRule>,
    pub exempts: Vec<Exempt>,
    /// `guarantee` declarations, checked by [`crate::proof`] for every subject.
    pub guarantees: Vec<Guarantee>,
    pub grants: Vec<Grant>,
    /// `k_anonymity K over …` rules, in authored order ([`Model::k_anonymity_of`] combines
    /// the enforced ones of a source).
    pub k_anonymity: Vec<KAnonymityRule>,
    pub settings: Settings,
    pub tests: Vec<TestCase>,
    /// Lookup tables (`table NAME: TYPE from "FILE" | supplied at run time;`), in authored
    /// order; the first declaration of a name is the one conditions read.
    pub tables: Vec<LookupTable>,
    /// Some declaration or rule of the set could not be parsed (the syntax tree holds an error
    /// node for it): any rule may be missing, so "no rule covers this column" (W0004) is not
    /// reported.
    pub unread_rules: bool,
    /// Source names to ids, kept by [`Model::add_source`] (a policy set has thousands of sources
    /// and every scope and test names one).
    source_index: Arc<std::collections::HashMap<String, SourceId>>,
}

impl Model {
    /// A source by name.
    pub fn source(&self, name: &str) -> Option<SourceId> {
        match self.source_index.get(name) {
            Some(&id) if self.sources.get(id).is_some_and(|s| s.name == name) => Some(id),
            // Sources pushed without `add_source` (hand-built models in tests).
            _ if self.source_index.len() != self.sources.len() => {
                self.sources.iter().position(|s| s.name == name)
            }
            _ => None,
        }
    }

    /// Declares a source; the first declaration of a name is the one [`Model::source`] finds.
    pub fn add_source(&mut self, source: Source) -> SourceId {
        let id = self.sources.len();
        Arc::make_mut(&mut self.source_index)
            .entry(source.name.clone())
            .or_insert(id);
        self.sources_mut().push(source);
        id
    }

    /// The sources, to change (copied first if a copy of the model shares them).
    pub fn sources_mut(&mut self) -> &mut Vec<Source> {
        Arc::make_mut(&mut self.sources)
    }

    /// A lookup table by name.
    pub fn table(&self, name: &str) -> Option<TableId> {
        self.tables.iter().position(|t| t.name == name)
    }

    pub fn subject_field(&self, name: &str) -> Option<usize> {
        self.subject.iter().position(|f| f.name == name)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn policy_of(&self, rule: RuleId) -> &Policy {
        &self.policies[self.mask_rules[rule].policy]
    }
}

/// A lookup table: reference data of one type that conditions read with `x in table NAME`.
#[derive(Clone, Debug)]
pub struct LookupTable {
    pub name: String,
    /// The name in the declaration.
    pub loc: Loc,
    /// The whole declaration.
    pub decl: Loc,
    /// The type of its values.
    pub kind: pol_runtime::LookupKind,
    pub origin: TableOrigin,
    pub doc: Option<String>,
}

/// Where a lookup table's values come from.
#[derive(Clone, Debug, PartialEq)]
pub enum TableOrigin {
    /// Read from a file when the policy set is checked; the values travel in the bundle.
    File {
        /// The path as written, relative to the declaring file.
        path: String,
        /// The values in file order (repetitions kept; a set in the runtime).
        values: pol_runtime::LookupValues,
    },
    /// Supplied by the application at run time (`Engine::set_table`).
    Supplied,
}

#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub combine_exceptions: bool,
}

#[derive(Clone, Debug)]
pub struct Level {
    pub name: String,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct SubjectField {
    pub name: String,
    pub ty: Ty,
    /// `None` for the built-ins.
    pub loc: Option<Loc>,
    pub doc: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    /// The name in the declaration.
    pub loc: Loc,
    /// The whole declaration.
    pub decl: Loc,
    pub tags: Vec<NodeId>,
    /// Columns in declaration order; a struct's fields follow it (pre-order), named `parent.field`.
    pub columns: Vec<Column>,
    pub key: Option<ColumnId>,
    pub event_time: Option<ColumnId>,
    pub level: Option<SourceLevel>,
    /// `(key: value, …)` after the name: the metadata `on sources where …` scopes read.
    pub meta: Vec<MetaEntry>,
    pub doc: Option<String>,
    /// `links PARENT.KEY` columns (linked visibility), in declaration order; at most one per
    /// parent source.
    pub links: Vec<Link>,
    /// Column names to ids, kept by [`Source::add_column`] (a source may have tens of
    /// thousands of columns, and declaring each looks up the ones before it).
    column_index: std::collections::HashMap<String, ColumnId>,
}

impl Source {
    /// A source without columns.
    pub fn new(
        name: String,
        loc: Loc,
        decl: Loc,
        tags: Vec<NodeId>,
        doc: Option<String>,
    ) -> Source {
        Source {
            name,
            loc,
            decl,
            tags,
            columns: Vec::new(),
            key: None,
            event_time: None,
            level: None,
            meta: Vec::new(),
            doc,
            links: Vec::new(),
            column_index: std::collections::HashMap::new(),
        }
    }

    /// A column by its full dotted name (`patient.ssn`); the first declared of that name.
    pub fn column(&self, name: &str) -> Option<ColumnId> {
        match self.column_index.get(name) {
            Some(&id) if self.columns.get(id).is_some_and(|c| c.name == name) => Some(id),
            // Columns pushed without `add_column`.
            _ if self.column_index.len() != self.columns.len() => {
                self.columns.iter().position(|c| c.name == name)
            }
            _ => None,
        }
    }

    /// Adds a column (its name not yet taken); returns its id.
    pub fn add_column(&mut self, column: Column) -> ColumnId {
        let id = self.columns.len();
        self.column_index.entry(column.name.clone()).or_insert(id);
        self.columns.push(column);
        id
    }

    /// The column of this source that `links` `parent` (linked visibility), if any.
    pub fn link_to(&self, parent: SourceId) -> Option<&Link> {
        self.links.iter().find(|l| l.parent == parent)
    }

    /// Top-level columns (not struct fields).
    pub fn top_columns(&self) -> impl Iterator<Item = (ColumnId, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.parent.is_none())
    }
}

/// `links PARENT.KEY` on a top-level column: the column holds the key of the parent row a row
/// belongs to. `only show rows linked to shown PARENT` reads it: a row is shown only if the
/// parent row with that key is given and shown to the same subject (docs/language.md §12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The linking (foreign key) column, top-level.
    pub column: ColumnId,
    /// The parent source; its `key` column is the one linked to.
    pub parent: SourceId,
    /// The `links …` modifier.
    pub loc: Loc,
}

/// One `key: value` of a source's metadata, checked to be a literal.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaEntry {
    pub key: String,
    pub value: Const,
    /// The key where it is written.
    pub loc: Loc,
}

impl Source {
    /// The value of metadata key `key`, if the source declares it.
    pub fn meta_value(&self, key: &str) -> Option<&Const> {
        self.meta.iter().find(|m| m.key == key).map(|m| &m.value)
    }
}

#[derive(Clone, Debug)]
pub struct SourceLevel {
    pub default: String,
    pub column: Option<ColumnId>,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct Column {
    /// Full dotted name: `email`, `patient.ssn`.
    pub name: String,
    pub parent: Option<ColumnId>,
    pub ty: Ty,
    pub tags: Vec<NodeId>,
    pub key: bool,
    pub event_time: bool,
    /// Boxed, as `accessible` and `visible`: most columns have none of the three, and a
    /// column's size counts once per column of the set (52,631 sources × 10 columns held
    /// 400 MB of a 1M-line check while the three were inline).
    pub derived: Option<Box<Derived>>,
    pub accessible: Option<Box<Accessible>>,
    pub visible: Option<Box<CExpr>>,
    /// The column's name in its declaration.
    pub loc: Loc,
    /// The whole column declaration.
    pub decl: Loc,
    pub doc: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Derived {
    pub expr: CExpr,
    /// Columns it reads (directly).
    pub reads: Vec<ColumnId>,
}

/// `accessible if C [otherwise using X]`: a direct rule `using X (null) for everyone except C`.
#[derive(Clone, Debug)]
pub struct Accessible {
    pub cond: CExpr,
    pub technique: TechniqueUse,
    pub loc: Loc,
    /// Whether the rule applies on its column's source: false when `C` reads a
    /// `row[tagged T]` no column of the source carries (§6.8). Decided by the checker.
    pub applies: bool,
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub name: String,
    pub loc: Loc,
    pub decl: Loc,
    pub rationale: Option<String>,
    pub staged: bool,
    pub scope: Scope,
    pub doc: Option<String>,
}

#[derive(Clone, Debug)]
pub enum ScopeKind {
    AllSources,
    Source(SourceId),
    SourcesTagged(Vec<NodeId>),
    SourcesWithColumnsTagged(Vec<NodeId>),
    SourcesNamedLike(regex::Regex),
    /// `on sources where …`: decided by the checker on the sources' metadata; the sources it
    /// covers are [`Scope::sources`] (the model keeps no condition).
    SourcesWhere,
}

#[derive(Clone, Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    pub loc: Option<Loc>,
    /// The sources the scope covers, in declaration order: ascending ids, so membership is a
    /// binary search.
    pub sources: Vec<SourceId>,
}

/// What a mask rule targets.
#[derive(Clone, Debug)]
pub enum Target {
    Column(SourceId, ColumnId),
    Tagged(Vec<NodeId>),
    NamedLike(regex::Regex),
    All,
    AnyTag,
    NoTags,
}

/// How specific a rule's target is for one column (docs/language.md §6.3); greater wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Specificity {
    /// `columns named like`, `all columns`, `columns with any tag`, `columns with no tags`.
    Broad,
    /// A tag target: the depth of the rule's tag that matched (`PII` = 1, `PII.SSN` = 2).
    Tag(u32),
    /// `column S.c` or `accessible if`.
    Direct,
}

impl Specificity {
    pub fn describe(self) -> String {
        match self {
            Specificity::Broad => "a broad target (name, all, any-tag or no-tags)".to_string(),
            Specificity::Tag(d) => format!("a tag of depth {d}"),
            Specificity::Direct => "a direct column target".to_string(),
        }
    }
}

/// A column a rule's target matches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match {
    pub source: SourceId,
    pub column: ColumnId,
    pub specificity: Specificity,
    /// For tag targets: the rule's tag that matched.
    pub tag: Option<NodeId>,
}

#[derive(Clone, Debug)]
pub struct MaskRule {
    pub policy: usize,
    /// The columns the target matches in the sources the scope covers. Invariant: sorted by
    /// (source, column), no duplicates (the checker sorts them, whatever the target), so that
    /// [`MaskRule::matches_on`] finds one source's matches by binary search.
    pub matches: Vec<Match>,
    /// Global authored order of the rule.
    pub order: usize,
    pub target: Target,
    pub target_loc: Loc,
    pub where_: Option<CExpr>,
    pub body: MaskBody,
    /// The sources where the rule does not apply (§6.8, W0003): its `where` or an audience
    /// condition reads a `row[tagged T]` no column of that source carries. Sorted, no
    /// duplicates. Decided here, once, by the checker (which sees every `row[tagged T]`, even
    /// one whose comparison it could not type), so that every backend skips the same sources.
    pub skipped: Vec<SourceId>,
    pub loc: Loc,
    pub staged: bool,
}

impl MaskRule {
    /// The matches on source `s`, in column order: a slice of [`MaskRule::matches`] found by
    /// binary search (a global rule matches columns of every source; filtering them per source
    /// made per-source work proportional to rules × sources × matches).
    pub fn matches_on(&self, s: SourceId) -> &[Match] {
        let start = self.matches.partition_point(|m| m.source < s);
        let len = self
            .matches
            .get(start..)
            .map_or(0, |rest| rest.partition_point(|m| m.source == s));
        self.matches.get(start..start + len).unwrap_or(&[])
    }

    /// Whether the rule matches column `c` of source `s`.
    pub fn matches_column(&self, s: SourceId, c: ColumnId) -> bool {
        self.matches
            .binary_search_by(|m| (m.source, m.column).cmp(&(s, c)))
            .is_ok()
    }

    /// Whether the rule applies on source `s` (it is not in [`MaskRule::skipped`]).
    pub fn applies_on(&self, s: SourceId) -> bool {
        self.skipped.binary_search(&s).is_err()
    }

    /// The conditions the rule reads: its `where`, then its audience's conditions.
    pub fn conditions(&self) -> Vec<&CExpr> {
        let mut out: Vec<&CExpr> = self.where_.iter().collect();
        match &self.body {
            MaskBody::Everyone(_) => {}
            MaskBody::Except(_, c) => out.push(c),
            MaskBody::Who(clauses, _) => out.extend(clauses.iter().map(|(c, _)| c)),
        }
        out
    }
}

/// The audience part of a mask rule.
#[derive(Clone, Debug)]
pub enum MaskBody {
    /// `using X for everyone`
    Everyone(TechniqueUse),
    /// `using X for everyone except C`
    Except(TechniqueUse, CExpr),
    /// `using X for everyone who C …` clauses, then `otherwise using Y` (`Some`) or
    /// `otherwise unmasked` (`None`).
    Who(Vec<(CExpr, TechniqueUse)>, Option<TechniqueUse>),
}

impl MaskBody {
    pub fn techniques(&self) -> Vec<&TechniqueUse> {
        match self {
            MaskBody::Everyone(t) | MaskBody::Except(t, _) => vec![t],
            MaskBody::Who(cl, o) => cl.iter().map(|(_, t)| t).chain(o.iter()).collect(),
        }
    }
}

/// A checked technique as written in a rule; applied per column type by [`crate::techniques`].
#[derive(Clone, Debug)]
pub struct TechniqueUse {
    pub name: String,
    /// Arguments by parameter name, in the catalog's parameter order.
    pub args: Vec<(String, TechArg)>,
    /// `by level { L: X, … }` entries.
    pub by_level: Vec<(String, TechniqueUse)>,
    pub loc: Loc,
}

impl TechniqueUse {
    pub fn arg(&self, name: &str) -> Option<&TechArg> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    /// The integer argument `name`, if it is one.
    pub fn int_arg(&self, name: &str) -> Option<i64> {
        match self.arg(name) {
            Some(TechArg::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// The numeric argument `name` (an integer or a number), if it is one.
    pub fn num_arg(&self, name: &str) -> Option<f64> {
        match self.arg(name) {
            Some(TechArg::Int(i)) => Some(*i as f64),
            Some(TechArg::Number(x)) => Some(*x),
            _ => None,
        }
    }

    /// The text argument `name`, if it is one.
    pub fn text_arg(&self, name: &str) -> Option<String> {
        match self.arg(name) {
            Some(TechArg::Text(s)) => Some(s.clone()),
            _ => None,
        }
    }

    /// The list of numbers `name`, if it is one.
    pub fn numbers_arg(&self, name: &str) -> Option<&[f64]> {
        match self.arg(name) {
            Some(TechArg::Numbers(xs)) => Some(xs),
            _ => None,
        }
    }

    /// The list of texts `name`, if it is one.
    pub fn texts_arg(&self, name: &str) -> Option<&[String]> {
        match self.arg(name) {
            Some(TechArg::Texts(ts)) => Some(ts),
            _ => None,
        }
    }

    /// Whether the word argument (a flag such as `keep_domain`) `name` is given.
    pub fn flag_arg(&self, name: &str) -> bool {
        matches!(self.arg(name), Some(TechArg::Word(_)))
    }

    /// The technique as written, e.g. `show_last(4)`.
    pub fn display(&self) -> String {
        if self.by_level.is_empty() && self.args.is_empty() {
            return self.name.clone();
        }
        if !self.by_level.is_empty() {
            let entries: Vec<String> = self
                .by_level
                .iter()
                .map(|(l, t)| format!("{l}: {}", t.display()))
                .collect();
            return format!("by level {{ {} }}", entries.join(", "));
        }
        let args: Vec<String> = self
            .args
            .iter()
            .enumerate()
            .map(|(i, (n, a))| {
                let v = match a {
                    TechArg::Int(i) => i.to_string(),
                    TechArg::Number(x) => x.to_string(),
                    TechArg::Text(t) => format!("{t:?}"),
                    TechArg::Word(w) => w.clone(),
                    TechArg::Const(c) => format!("{c:?}"),
                    TechArg::Expr(..) => "…".to_string(),
                    TechArg::Numbers(xs) => format!(
                        "[{}]",
                        xs.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
                    ),
                    TechArg::Texts(ts) => format!(
                        "[{}]",
                        ts.iter()
                            .map(|t| format!("{t:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                if i == 0 {
                    v
                } else {
                    format!("{n}: {v}")
                }
            })
            .collect();
        format!("{}({})", self.name, args.join(", "))
    }
}

/// A checked technique argument.
#[derive(Clone, Debug, PartialEq)]
pub enum TechArg {
    Int(i64),
    Number(f64),
    Text(String),
    /// A bare word: `global`, `month`, `ignore_case`.
    Word(String),
    Const(Const),
    /// `expr(E)`, typed by the checker for every column type (and source) it applies to.
    Expr(Box<ExprTechnique>),
    /// A list of numbers: `buckets`' edges.
    Numbers(Vec<f64>),
    /// A list of texts: `buckets`' labels.
    Texts(Vec<String>),
}

/// `expr(E)` as the checker typed it: one typed expression per column type it meets (`value`
/// takes the column's type), and, when it reads the row, one per (source, column type) typed
/// against that source alone. Lowering, the reference evaluator and the SQL backend read these;
/// nothing after the checker types the expression again.
#[derive(Clone, Debug, PartialEq)]
pub struct ExprTechnique {
    /// The file the expression was read from (its spans are in it).
    pub file: crate::source_map::FileId,
    /// The typed expression per column type, over every source the rule covers (`source` is
    /// `None`), then, if it reads the row, per source.
    pub typed: Vec<TypedExpr>,
}

/// `expr(E)` typed for one column type, over the rule's sources or for one source.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedExpr {
    /// The column type (`value`'s type).
    pub ty: Ty,
    /// `Some(s)`: typed for source `s` alone (the expression reads the row).
    pub source: Option<SourceId>,
    /// `None` where it cannot be evaluated: it reads a column or a tag the source lacks, or
    /// does not type against that source alone, or (per source) its result does not fit the
    /// column's type. The cell is null there.
    pub expr: Option<CExpr>,
}

impl ExprTechnique {
    /// Does the result fit a column of type `ty` (§5: `expr` falls back like any technique
    /// that does not apply to a type)? A type it was not typed for fits (it gives null).
    pub fn fits(&self, ty: &Ty) -> bool {
        self.typed
            .iter()
            .find(|t| t.source.is_none() && &t.ty == ty)
            .and_then(|t| t.expr.as_ref())
            .is_none_or(|e| result_fits(&e.ty, ty))
    }

    /// The expression to evaluate on a column of type `ty` in source `source`; `None`: null.
    pub fn for_column(&self, source: SourceId, ty: &Ty) -> Option<&CExpr> {
        let per_source = self
            .typed
            .iter()
            .find(|t| t.source == Some(source) && &t.ty == ty);
        let entry = match per_source {
            Some(e) => e,
            None if self.typed.iter().any(|t| t.source.is_some()) => return None,
            None => self
                .typed
                .iter()
                .find(|t| t.source.is_none() && &t.ty == ty)?,
        };
        entry.expr.as_ref()
    }
}

/// Does an `expr(…)` result of type `result` fit a column of type `column`? As assignment
/// does (an int in a decimal column, `null` anywhere), except that text never fits an `enum`
/// column (its domain is not known to hold the text).
pub fn result_fits(result: &Ty, column: &Ty) -> bool {
    !matches!((result, column), (Ty::Text, Ty::Enum(_))) && result.assignable_to(column)
}

#[derive(Clone, Debug)]
pub struct RowRule {
    pub policy: usize,
    pub order: usize,
    pub filter: RowFilter,
    pub audience: RowAudience,
    /// The sources where the rule does not apply (§6.8, W0003): a condition of it reads a
    /// `row[tagged T]` no column of that source carries. Sorted, no duplicates.
    pub skipped: Vec<SourceId>,
    pub loc: Loc,
    pub staged: bool,
}

impl RowRule {
    /// Whether the rule applies on source `s` (it is not in [`RowRule::skipped`]).
    pub fn applies_on(&self, s: SourceId) -> bool {
        self.skipped.binary_search(&s).is_err()
    }

    /// The conditions the rule reads: its filter's `where`, then its audience's condition and
    /// the `otherwise` filter's `where`.
    pub fn conditions(&self) -> Vec<&CExpr> {
        let mut out = Vec::new();
        if let RowFilter::Where(e) = &self.filter {
            out.push(e);
        }
        match &self.audience {
            RowAudience::Everyone => {}
            RowAudience::Except(c) => out.push(c),
            RowAudience::Who(c, other) => {
                out.push(c);
                if let Some(RowFilter::Where(e)) = other {
                    out.push(e);
                }
            }
        }
        out
    }
}

#[derive(Clone, Debug)]
pub enum RowFilter {
    Where(CExpr),
    /// `only show rows newer than D`: fixed seconds or calendar months.
    NewerThan(DurationValue),
    /// `only show rows older than D`.
    OlderThan(DurationValue),
    Sample(u8),
    Never,
    /// `only show rows linked to shown PARENT`: the parent row (through the source's
    /// [`Link`] to PARENT) is given and shown; a source without that link shows no row (W0002).
    Linked(SourceId),
}

#[derive(Clone, Debug)]
pub enum RowAudience {
    Everyone,
    Except(CExpr),
    Who(CExpr, Option<RowFilter>),
}

#[derive(Clone, Debug)]
pub struct Exempt {
    pub cond: CExpr,
    pub scope: Scope,
    pub loc: Loc,
}

/// A `guarantee` declaration: a promise about every subject, proved by [`crate::proof`].
#[derive(Clone, Debug)]
pub struct Guarantee {
    pub kind: GuaranteeKind,
    /// The users the guarantee does not speak of (`except C`).
    pub except: Option<CExpr>,
    pub loc: Loc,
}

/// What a guarantee promises.
#[derive(Clone, Debug)]
pub enum GuaranteeKind {
    /// No column the target matches (in every source) is ever clear.
    Unmasked { matches: Vec<(SourceId, ColumnId)> },
    /// No row of the source where `cond` holds is ever shown.
    Rows { source: SourceId, cond: CExpr },
}

/// `k_anonymity K over a, b`: every batch of rows of each source shown together is
/// k-anonymous over the quasi-identifiers.
#[derive(Clone, Debug)]
pub struct KAnonymityRule {
    pub policy: usize,
    /// At least 2.
    pub k: usize,
    /// Per source of the policy's scope, the quasi-identifier columns (top-level), as listed.
    pub columns: Vec<(SourceId, Vec<ColumnId>)>,
    pub loc: Loc,
    pub staged: bool,
}

/// The k-anonymity a source enforces: every enforced rule on it combined (the greatest k, the
/// union of the quasi-identifiers, in the order first listed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KRequirement {
    pub k: usize,
    pub columns: Vec<ColumnId>,
}

impl Model {
    /// The k-anonymity enforced on source `s`, if any rule (not staged) asks for it.
    pub fn k_anonymity_of(&self, s: SourceId) -> Option<KRequirement> {
        let mut out: Option<KRequirement> = None;
        for rule in self.k_anonymity.iter().filter(|r| !r.staged) {
            for (_, cols) in rule.columns.iter().filter(|(x, _)| *x == s) {
                let req = out.get_or_insert(KRequirement {
                    k: rule.k,
                    columns: Vec::new(),
                });
                req.k = req.k.max(rule.k);
                for &c in cols {
                    if !req.columns.contains(&c) {
                        req.columns.push(c);
                    }
                }
            }
        }
        out
    }
}

#[derive(Clone, Debug)]
pub enum GrantKind {
    TemporaryUnmask {
        seconds: i64,
        /// `with approval by C within W`: requests wait for an approver.
        approval: Option<Approval>,
    },
    Detokenize {
        source: SourceId,
        column: ColumnId,
    },
}

/// Who approves a temporary unmask request, and how long it waits for an answer.
#[derive(Clone, Debug)]
pub struct Approval {
    /// A user-only condition: true approves (never for the requester's own request).
    pub approvers: CExpr,
    /// Seconds a request waits (the rule's `within`, or the default).
    pub window: i64,
}

#[derive(Clone, Debug)]
pub struct Grant {
    pub policy: usize,
    pub kind: GrantKind,
    pub audience: GrantAudience,
    pub loc: Loc,
    pub staged: bool,
}

#[derive(Clone, Debug)]
pub enum GrantAudience {
    Everyone,
    Except(CExpr),
    Who(CExpr),
}

/// A `test` block, checked.
#[derive(Clone, Debug)]
pub struct TestCase {
    pub name: String,
    pub loc: Loc,
    pub steps: Vec<TestStep>,
}

#[derive(Clone, Debug)]
pub enum TestStep {
    User(serde_json::Value, Loc),
    Now(chrono::DateTime<chrono::Utc>, Loc),
    Row {
        source: SourceId,
        row: serde_json::Map<String, serde_json::Value>,
        loc: Loc,
    },
    ExpectRow(Vec<(String, serde_json::Value, Loc)>, Loc),
    ExpectHidden(Loc),
    ExpectShown(Loc),
    ExpectVisible(Vec<String>, Loc),
}

/// Where a binary operator is used, for messages.
pub fn op_text(op: BinOp) -> &'static str {
    op.as_str()
}

#[cfg(test)]
mod column_index_tests {
    use crate::source_map::SourceMap;

    /// Linear columns (issue 9, item 2): every column the checker declares goes through the
    /// index, so looking one up is a hash lookup, never a scan of the columns before it.
    #[test]
    fn every_declared_column_is_indexed() {
        let columns: String = (0..20_000).map(|i| format!("  c{i}: int,\n")).collect();
        let text = format!(
            "source s {{\n  id: int key,\n{columns}  p: struct {{ a: int, b: int }},\n}}\n"
        );
        let mut map = SourceMap::new();
        map.add("a.pol", text);
        let analysis = crate::check(&map);
        assert!(!analysis.has_errors());
        let s = &analysis.model.sources[0];
        assert_eq!(s.columns.len(), 20_004);
        assert_eq!(s.column_index.len(), s.columns.len());
        assert_eq!(s.column("c19999"), Some(20_000));
        assert_eq!(s.column("p.b"), Some(20_003));
        assert_eq!(s.column("nope"), None);
    }
}
