//! The syntax tree of one `.pol` file. Every node carries the span of the text it came from.
//!
//! The tree is a faithful picture of what was written: it checks nothing a later stage can check
//! with a better message (names, types, which audience forms may combine). Comments are kept beside
//! the tree in [`SourceFile::comments`]; `///` doc comments are also attached to the declaration or
//! column that follows them.

pub use crate::duration::{DurationLit, DurationUnit, DurationValue};
use crate::span::Span;
use serde::Serialize;

/// An identifier, plain or backquoted (backquotes removed).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
    /// Written in backquotes.
    pub quoted: bool,
}

/// A dotted name: `PII.SSN`, `customers.email`, ``Discovered.Entity.`Social Security Number` ``.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    /// The path as written with dots, without backquotes.
    pub fn dotted(&self) -> String {
        let mut out = String::new();
        for (i, s) in self.segments.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(&s.name);
        }
        out
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "a path always has at least one segment: the grammar builds none empty"
    )]
    pub fn last(&self) -> &Ident {
        // A path always has at least one segment: the grammar builds none empty.
        &self.segments[self.segments.len() - 1]
    }
}

/// A string literal, escapes resolved.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
    pub raw: bool,
}

/// A comment kept beside the tree (for formatting and hover).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comment {
    pub kind: CommentKind,
    /// The whole comment text including its markers.
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CommentKind {
    Line,
    Doc,
    Block,
}

/// A parsed file: its declarations, comments and syntax errors. A copy shares the
/// declarations and comments with the original ([`Shared`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SourceFile {
    pub decls: Shared<Decl>,
    pub comments: Shared<Comment>,
    pub errors: Vec<crate::SyntaxError>,
}

/// An immutable list shared by the copies of a tree: the language server hands the checker a
/// copy of every file's tree per analysis, which copies no declaration. Reads as a slice.
#[derive(Debug, PartialEq)]
pub struct Shared<T>(std::sync::Arc<Vec<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared(std::sync::Arc::new(Vec::new()))
    }
}

impl<T> From<Vec<T>> for Shared<T> {
    fn from(items: Vec<T>) -> Self {
        Shared(std::sync::Arc::new(items))
    }
}

impl<T> Shared<T> {
    /// The items, as a slice.
    pub fn as_slice(&self) -> &[T] {
        self.0.as_slice()
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.0.as_slice()
    }
}

impl<'a, T> IntoIterator for &'a Shared<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.as_slice().serialize(serializer)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Decl {
    Tag(TagDecl),
    Purpose(PurposeDecl),
    Subject(SubjectDecl),
    Source(SourceDecl),
    Policy(PolicyDecl),
    Exempt(ExemptDecl),
    Guarantee(GuaranteeDecl),
    Level(LevelDecl),
    Settings(SettingsDecl),
    Test(TestDecl),
    /// `table NAME: TYPE from "FILE" | supplied at run time;`
    Table(TableDecl),
    /// Text the parser could not read as a declaration (its syntax error is in
    /// [`SourceFile::errors`]); the declarations around it are kept.
    Error(Span),
}

impl Decl {
    pub fn span(&self) -> Span {
        match self {
            Decl::Tag(d) => d.span,
            Decl::Purpose(d) => d.span,
            Decl::Subject(d) => d.span,
            Decl::Source(d) => d.span,
            Decl::Policy(d) => d.span,
            Decl::Exempt(d) => d.span,
            Decl::Guarantee(d) => d.span,
            Decl::Level(d) => d.span,
            Decl::Settings(d) => d.span,
            Decl::Test(d) => d.span,
            Decl::Table(d) => d.span,
            Decl::Error(span) => *span,
        }
    }

    pub(crate) fn doc_mut(&mut self) -> Option<&mut Option<String>> {
        match self {
            Decl::Tag(d) => Some(&mut d.doc),
            Decl::Purpose(d) => Some(&mut d.doc),
            Decl::Subject(d) => Some(&mut d.doc),
            Decl::Source(d) => Some(&mut d.doc),
            Decl::Policy(d) => Some(&mut d.doc),
            Decl::Table(d) => Some(&mut d.doc),
            Decl::Exempt(_)
            | Decl::Guarantee(_)
            | Decl::Level(_)
            | Decl::Settings(_)
            | Decl::Test(_)
            | Decl::Error(_) => None,
        }
    }
}

/// `tag PII.SSN [sensitive] ["description"];`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TagDecl {
    pub path: Path,
    pub sensitive: Option<Span>,
    pub description: Option<StrLit>,
    pub doc: Option<String>,
    pub span: Span,
}

/// `purpose Research.Marketing ["description"];`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PurposeDecl {
    pub path: Path,
    pub description: Option<StrLit>,
    pub doc: Option<String>,
    pub span: Span,
}

/// `subject { department: text, … }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubjectDecl {
    pub fields: Vec<FieldDecl>,
    pub doc: Option<String>,
    pub span: Span,
}

/// One field of `subject { … }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub doc: Option<String>,
    pub span: Span,
}

/// `source NAME [(key: value, …)] [tagged T, …] [level L from column] { columns }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceDecl {
    pub name: Ident,
    /// `(server: "db1", created: date("2024-01-05"))`: the source's metadata, read by
    /// `on sources where …` scopes.
    pub meta: Option<SourceMeta>,
    pub tags: Vec<Path>,
    pub level: Option<SourceLevel>,
    pub columns: Vec<ColumnDecl>,
    pub doc: Option<String>,
    pub span: Span,
}

/// The metadata of a source: `(server: "db1", created: date("2024-01-05"))`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceMeta {
    pub entries: Vec<MetaEntry>,
    pub span: Span,
}

/// One `key: value` of a source's metadata; the value is a literal (checked by the checker).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetaEntry {
    pub key: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `level Medium from masking_level` in a source header.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceLevel {
    pub default: Ident,
    pub column: Ident,
    pub span: Span,
}

/// A column (or a field of a struct column).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnDecl {
    pub name: Ident,
    pub kind: ColumnKind,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ColumnKind {
    /// `name: TYPE modifiers…`
    Stored {
        ty: TypeExpr,
        modifiers: Vec<Modifier>,
    },
    /// `name = EXPR`
    Derived { expr: Expr },
}

/// A type as written: `text`, `enum("a", "b")`, `struct { … }`, `list<T>`, `map<K, V>`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TypeExpr {
    Named(Ident),
    Enum {
        values: Vec<StrLit>,
        span: Span,
    },
    Struct {
        fields: Vec<ColumnDecl>,
        span: Span,
    },
    Generic {
        name: Ident,
        args: Vec<TypeExpr>,
        span: Span,
    },
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(i) => i.span,
            TypeExpr::Enum { span, .. }
            | TypeExpr::Struct { span, .. }
            | TypeExpr::Generic { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Modifier {
    Key(Span),
    EventTime(Span),
    Tagged(Vec<Path>, Span),
    Accessible {
        cond: Expr,
        otherwise: Option<Technique>,
        span: Span,
    },
    Visible {
        cond: Expr,
        span: Span,
    },
    /// `links PARENT.COLUMN`: the column holds the key of a row of the parent source (linked
    /// visibility, `only show rows linked to shown PARENT`).
    Links {
        parent: Ident,
        column: Ident,
        span: Span,
    },
}

impl Modifier {
    pub fn span(&self) -> Span {
        match self {
            Modifier::Key(s) | Modifier::EventTime(s) | Modifier::Tagged(_, s) => *s,
            Modifier::Accessible { span, .. }
            | Modifier::Visible { span, .. }
            | Modifier::Links { span, .. } => *span,
        }
    }
}

/// `policy NAME ["rationale"] [staged] [on SCOPE] { RULES }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyDecl {
    pub name: Ident,
    pub rationale: Option<StrLit>,
    pub staged: Option<Span>,
    pub scope: Option<Scope>,
    pub rules: Vec<Rule>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scope {
    pub kind: ScopeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ScopeKind {
    AllSources,
    Source(Ident),
    SourcesTagged(Vec<Path>),
    SourcesWithColumnsTagged(Vec<Path>),
    SourcesNamedLike(StrLit),
    /// `on sources where COND`: the sources whose metadata satisfies `COND`.
    SourcesWhere(SourceCond),
}

/// A condition on source metadata (`on sources where …`), decided by the checker.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceCond {
    pub kind: SourceCondKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum SourceCondKind {
    Or(Box<SourceCond>, Box<SourceCond>),
    And(Box<SourceCond>, Box<SourceCond>),
    Not(Box<SourceCond>),
    /// `( COND )`
    Paren(Box<SourceCond>),
    /// `source.KEY OP VALUE` (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `matches`; `contains`
    /// is refused by the checker).
    Compare {
        key: Ident,
        op: BinOp,
        value: Expr,
    },
    /// `source.KEY between LOW and HIGH` (both ends included).
    Between {
        key: Ident,
        low: Expr,
        high: Expr,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Rule {
    Mask(MaskRule),
    Row(RowRule),
    TemporaryUnmask(TemporaryUnmaskRule),
    Detokenize(DetokenizeRule),
    /// `k_anonymity K over a, b, c`
    KAnonymity(KAnonymityRule),
    /// A rule the parser could not read (its syntax error is in [`SourceFile::errors`]); the
    /// rules around it are kept.
    Error(Span),
}

impl Rule {
    pub fn span(&self) -> Span {
        match self {
            Rule::Mask(r) => r.span,
            Rule::Row(r) => r.span,
            Rule::TemporaryUnmask(r) => r.span,
            Rule::Detokenize(r) => r.span,
            Rule::KAnonymity(r) => r.span,
            Rule::Error(span) => *span,
        }
    }
}

/// `mask TARGET [where EXPR] using … for …`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MaskRule {
    pub target: Target,
    pub where_: Option<Expr>,
    pub clauses: Vec<MaskClause>,
    pub otherwise: Option<Otherwise>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    pub kind: TargetKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TargetKind {
    /// `column S.c` (or `column S.struct.field`)
    Column(Path),
    /// `columns tagged T1, T2`
    Tagged(Vec<Path>),
    /// `columns named like "regex"`
    NamedLike(StrLit),
    /// `all columns`
    All,
    /// `columns with any tag`
    AnyTag,
    /// `columns with no tags`
    NoTags,
}

/// `using TECHNIQUE for everyone [except C | who C]`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MaskClause {
    pub technique: Technique,
    pub audience: Audience,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Audience {
    pub kind: AudienceKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum AudienceKind {
    Everyone,
    Except(Expr),
    Who(Expr),
}

/// `otherwise using X` / `otherwise unmasked`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Otherwise {
    pub technique: Option<Technique>,
    pub span: Span,
}

/// A technique as written: `hash`, `show_last(4)`, `mask_last(4, text: "x")`, `by level { … }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Technique {
    pub kind: TechniqueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TechniqueKind {
    Call {
        name: Ident,
        args: Vec<Arg>,
        /// Written with parentheses (`hash()` rather than `hash`).
        parens: bool,
    },
    ByLevel {
        entries: Vec<(Ident, Technique)>,
    },
}

/// A technique argument: positional `4` or named `max: 70`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arg {
    pub label: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

/// A row rule with its audience.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowRule {
    pub filter: RowFilter,
    pub audience: RowAudience,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowFilter {
    pub kind: RowFilterKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum RowFilterKind {
    Where(Expr),
    NewerThan(Duration),
    OlderThan(Duration),
    /// `only show N% of rows`; the literal as written.
    Sample(i64, Span),
    Never,
    /// `only show rows linked to shown PARENT`: the row's parent record (through the column
    /// that `links` PARENT) must be shown to the same subject.
    Linked(Ident),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowAudience {
    pub kind: RowAudienceKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum RowAudienceKind {
    Everyone,
    Except(Expr),
    /// `for everyone who C otherwise (all rows | FILTER)`; `otherwise` is `None` when omitted
    /// (an error the checker reports).
    Who {
        cond: Expr,
        otherwise: Option<RowOtherwise>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum RowOtherwise {
    AllRows(Span),
    Filter(RowFilter),
}

/// `allow temporary unmask for 24h for everyone who C`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TemporaryUnmaskRule {
    pub duration: Duration,
    pub audience: Audience,
    pub span: Span,
    /// `with approval by C within D`: a request waits for an approver.
    pub approval: Option<Approval>,
}

/// `with approval [by C] [within D]` after a grant's audience: who may approve a request
/// (`by`, required by the checker) and how long it waits for an answer (`within`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Approval {
    pub by: Option<Expr>,
    pub window: Option<Duration>,
    pub span: Span,
}

/// `allow detokenize column S.a, S.b for everyone who C`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DetokenizeRule {
    /// One or more columns, each `S.c`.
    pub columns: Vec<Path>,
    pub audience: Audience,
    pub span: Span,
    /// `with approval …`: parsed so that the checker can refuse it with a location (E0061).
    pub approval: Option<Approval>,
}

/// `k_anonymity K over a, b, c`: every batch of rows of the policy's sources shown together
/// is k-anonymous over these quasi-identifier columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KAnonymityRule {
    /// `k` as written, and its span.
    pub k: (i64, Span),
    /// The quasi-identifier columns (top-level columns of each source of the scope).
    pub columns: Vec<Ident>,
    pub span: Span,
}

/// `exempt COND [on SCOPE];`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExemptDecl {
    pub cond: Expr,
    pub scope: Option<Scope>,
    pub span: Span,
}

/// `guarantee never unmasked TARGET [except COND];` or
/// `guarantee never show rows of S where COND [except COND];`: checked for every subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GuaranteeDecl {
    pub kind: GuaranteeKind,
    /// The users the guarantee does not speak of.
    pub except: Option<Expr>,
    pub span: Span,
}

/// What a guarantee promises.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum GuaranteeKind {
    /// No column the target matches is ever clear.
    Unmasked(Target),
    /// No row of the source where the condition holds is ever shown.
    Rows { source: Ident, cond: Expr },
}

/// `level High > Medium > Low;`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelDecl {
    pub levels: Vec<Ident>,
    pub span: Span,
}

/// `table allowed_regions: text from "regions.csv";` — a lookup table: reference data of one
/// scalar type, read from a file beside the policy set or supplied by the application at run time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableDecl {
    pub name: Ident,
    /// The type of every value of the table.
    pub ty: TypeExpr,
    pub origin: TableOrigin,
    pub doc: Option<String>,
    pub span: Span,
}

/// Where a lookup table's values come from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TableOrigin {
    /// `from "FILE" [column NAME]`: a CSV or JSON file, its path relative to the declaring file.
    File { path: StrLit, column: Option<Ident> },
    /// `supplied at run time`: the application supplies the values through the runtime API.
    Supplied(Span),
}

/// `settings { combine_exceptions = true }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SettingsDecl {
    pub entries: Vec<Setting>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Setting {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `test "name" { given … expect … }`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestDecl {
    pub name: StrLit,
    pub stmts: Vec<TestStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TestStmt {
    GivenUser {
        record: Expr,
        span: Span,
    },
    GivenRow {
        source: Ident,
        record: Expr,
        span: Span,
    },
    GivenNow {
        value: Expr,
        span: Span,
    },
    ExpectRow {
        record: Expr,
        span: Span,
    },
    ExpectHidden(Span),
    ExpectShown(Span),
    ExpectVisible {
        columns: Vec<Path>,
        span: Span,
    },
}

impl TestStmt {
    pub fn span(&self) -> Span {
        match self {
            TestStmt::GivenUser { span, .. }
            | TestStmt::GivenRow { span, .. }
            | TestStmt::GivenNow { span, .. }
            | TestStmt::ExpectRow { span, .. }
            | TestStmt::ExpectVisible { span, .. } => *span,
            TestStmt::ExpectHidden(s) | TestStmt::ExpectShown(s) => *s,
        }
    }
}

/// A duration literal: `90d`, `24h`, `15m`, `30s`, `2w`, or calendar `6mo`, `1y`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Duration {
    /// The number as written.
    pub amount: i64,
    /// The unit as written.
    pub unit: DurationUnit,
    pub span: Span,
}

impl Duration {
    /// Its length: fixed seconds or calendar months.
    pub fn value(&self) -> DurationValue {
        DurationLit {
            amount: self.amount,
            unit: self.unit,
        }
        .value()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Contains,
    Matches,
    Add,
    Sub,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::Contains => "contains",
            BinOp::Matches => "matches",
            BinOp::Add => "+",
            BinOp::Sub => "-",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Literal {
    Int(i64),
    Decimal(f64),
    Str(StrLit),
    Bool(bool),
    Null,
    Duration(Duration),
}

/// A key of a record literal: `login:` or `"Office Location":`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordKey {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ExprKind {
    Lit(Literal),
    List(Vec<Expr>),
    /// `{ key: value, … }` — only in `test` blocks.
    Record(Vec<(RecordKey, Expr)>),
    /// `user.FIELD`
    UserField(Ident),
    /// `row.COLUMN`
    RowField(Ident),
    /// `row[tagged T]`
    RowTagged(Path),
    /// `value` inside `expr(…)`
    Value,
    /// A bare name; meaningful only as a technique argument (`scope: global`, `round(month)`).
    Name(Ident),
    /// `e.field`
    Field(Box<Expr>, Ident),
    /// `e[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `f(args)`
    Call(Ident, Vec<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `e under P`
    Under(Box<Expr>, Path),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `user in group G`
    InGroup(Box<Expr>),
    /// `user has role R`
    HasRole(Box<Expr>),
    /// `user has attribute A [= V]`
    HasAttribute(Box<Expr>, Option<Box<Expr>>),
    /// `user acting under P`
    ActingUnder(Path),
    /// `e in table T`: is the value one of the lookup table's values?
    InTable(Box<Expr>, Ident),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// Calls `f` on this expression and every sub-expression, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Lit(_)
            | ExprKind::UserField(_)
            | ExprKind::RowField(_)
            | ExprKind::RowTagged(_)
            | ExprKind::Value
            | ExprKind::Name(_)
            | ExprKind::ActingUnder(_) => {}
            ExprKind::List(items) | ExprKind::Call(_, items) => {
                for e in items {
                    e.walk(f);
                }
            }
            ExprKind::Record(entries) => {
                for (_, e) in entries {
                    e.walk(f);
                }
            }
            ExprKind::Field(e, _)
            | ExprKind::Neg(e)
            | ExprKind::Not(e)
            | ExprKind::Under(e, _)
            | ExprKind::InGroup(e)
            | ExprKind::HasRole(e)
            | ExprKind::InTable(e, _) => e.walk(f),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ExprKind::If(a, b, c) => {
                a.walk(f);
                b.walk(f);
                c.walk(f);
            }
            ExprKind::HasAttribute(a, b) => {
                a.walk(f);
                if let Some(b) = b {
                    b.walk(f);
                }
            }
        }
    }
}
