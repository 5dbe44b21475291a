//! The bundle: the compiled form of a policy set that the engine loads.
//!
//! A [`Bundle`] is a set of tables linked by `u32` indices: programs ([`Program`]), techniques
//! ([`TechniquePlan`]), rules ([`RuleInfo`], for explanations), strings, regexes, purposes and
//! masking levels, and one [`SourcePlan`] per source. The compiler has already resolved names,
//! types, scopes, specificity and authored order: a column's [`Candidate`]s are in resolution
//! order, and the runtime only evaluates.
//!
//! [`Bundle::to_bytes`] and [`Bundle::from_bytes`] give the binary form ([`format`](mod@format)); the
//! verifier ([`verify`]) runs on every load and checks every index, jump, stack depth and
//! technique argument, so that the engine can trust the tables.

pub mod debug;
pub mod format;
pub mod grants;
mod guard;
pub mod k_anonymity;
mod link_graph;
pub mod verify;

use serde::{Deserialize, Serialize};

use crate::lookup::LookupPlan;
use crate::program::Program;
use crate::techniques::Technique;
use crate::value::ColumnType;

pub use debug::{DebugInfo, ProgramSpans, SourceSpan, SpanRun};
pub use format::{BundleError, FORMAT_VERSION, MAGIC, OLDEST_FORMAT_VERSION};
pub use grants::{GrantAudience, GrantKind, GrantPlan};
pub use k_anonymity::KAnonymityPlan;
pub use verify::VerifyError;

/// A compiled policy set.
///
/// **Wire layout:** postcard encodes this struct (and every struct below) as its fields in
/// declaration order, and every enum as its variant's index then its fields. Fields and
/// variants are therefore append-only: reordering or removing one silently changes what old
/// bundles mean. A change of layout bumps [`FORMAT_VERSION`]; `runtime/tests/golden/` holds
/// bundles of earlier versions that must keep loading (or be refused with the version error).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// The format version this bundle was written for (read: from [`OLDEST_FORMAT_VERSION`] to
    /// [`FORMAT_VERSION`]; [`Bundle::to_bytes`] writes this version's layout).
    pub format_version: u16,
    /// The sources, each with its columns and rules.
    pub sources: Vec<SourcePlan>,
    /// Every program (conditions, derived columns, `expr(…)` techniques), by index.
    pub programs: Vec<Program>,
    /// Every technique, by index.
    pub techniques: Vec<TechniquePlan>,
    /// Every rule a decision can name, by index (for explanations).
    pub rules: Vec<RuleInfo>,
    /// Strings named by programs (field names, group, role and attribute names).
    pub strings: Vec<String>,
    /// Regular expressions of `matches`, compiled at load (the `regex` crate's syntax).
    pub regexes: Vec<String>,
    /// The declared subject fields beside the built-ins, with their types.
    pub subject_fields: Vec<(String, ColumnType)>,
    /// The purpose tree.
    pub purposes: Vec<PurposeInfo>,
    /// The masking levels, highest first.
    pub levels: Vec<String>,
    /// Settings that affect evaluation or explanations.
    pub settings: Settings,
    /// The enforced `allow temporary unmask` and `allow detokenize` rules, in authored order.
    #[serde(default)]
    pub grants: Vec<GrantPlan>,
    /// Where the programs came from ([`debug`]); never used to evaluate. Encoded after the
    /// tables, from format version 2 on (not part of the postcard struct).
    #[serde(skip)]
    pub debug: DebugInfo,
    /// The sources' k-anonymity requirements ([`k_anonymity`]), at most one per source.
    /// Encoded after the debug section, from format version 3 on (not part of the postcard
    /// struct); a bundle of an earlier version has none.
    #[serde(skip)]
    pub k_anonymity: Vec<KAnonymityPlan>,
    /// The lookup tables ([`crate::lookup`]), by index ([`Op::InTable`](crate::program::Op)).
    /// Encoded after the debug section, and only when there is one: a bundle without tables
    /// is byte for byte what it was before tables existed, and a runtime that predates them
    /// refuses a bundle with them (bytes left after the bundle) rather than ignore a condition.
    #[serde(skip)]
    pub lookups: Vec<LookupPlan>,
}

/// One purpose of the hierarchy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeInfo {
    /// The full dotted name (`Research.Marketing`).
    pub name: String,
    /// The parent purpose's index, which must be smaller than this purpose's own.
    pub parent: Option<u32>,
}

/// Settings of the policy set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// `combine_exceptions` (already applied by the compiler; kept for explanations).
    pub combine_exceptions: bool,
}

/// What explanations say about a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// The rule's name as shown to people (e.g. `hash_us_ssn`, or `customers.first_name
    /// accessible if` for a column modifier).
    pub name: String,
    /// The policy (or declaration) it comes from.
    pub policy: String,
    /// A one-line description (the policy's rationale or the rule's source text).
    pub description: String,
}

/// A technique as the engine applies it.
///
/// Serialised: variants are append-only (see [`Bundle`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TechniquePlan {
    /// One of the built-in techniques.
    Builtin(Technique),
    /// `expr(EXPR)`: the program is evaluated with `value`, `row` and `user` in scope; its
    /// result is the masked cell (an error gives null).
    Expr {
        /// The program's index.
        program: u32,
    },
    /// `by level { … }`: the technique of the row's masking level.
    ByLevel {
        /// `(level index, technique index)` pairs; the highest level (index 0) must have an
        /// entry, and entries may not be `ByLevel` themselves.
        entries: Vec<(u32, u32)>,
    },
}

/// A source (table) and everything that applies to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourcePlan {
    /// The source's name.
    pub name: String,
    /// Columns in declaration order, flattened: a struct column is followed (not necessarily
    /// immediately) by its fields, whose `parent` is the struct column's index. Top-level
    /// columns (no parent) are the row's columns, derived ones included.
    pub columns: Vec<ColumnPlan>,
    /// The `key` column (top-level).
    pub key_column: Option<u32>,
    /// The `event_time` column (top-level, `timestamp` or `date`).
    pub event_time_column: Option<u32>,
    /// The source's masking level.
    pub level: Option<LevelPlan>,
    /// `exempt` conditions covering this source (user-only programs); any true → exempt.
    pub exempts: Vec<u32>,
    /// Row rules, all applied and AND'ed.
    pub row_rules: Vec<RowRulePlan>,
}

/// `level L from COLUMN`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelPlan {
    /// The default level's index into [`Bundle::levels`].
    pub default: u32,
    /// The top-level text column that overrides it per row (null → the default; a value that is
    /// not a declared level, or not text at all → the highest level; levels match exactly,
    /// case included).
    pub column: Option<u32>,
}

/// One column or nested field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnPlan {
    /// The column's name; for a nested field, the field's own name (the dotted path is built
    /// from the parents).
    pub name: String,
    /// The declared type (for a derived column, the expression's type).
    pub ty: ColumnType,
    /// The struct (or `list<struct>`) column this field belongs to. A struct's fields must all
    /// be listed, in the struct type's field order.
    pub parent: Option<u32>,
    /// For a derived column: how to compute it.
    pub derived: Option<DerivedPlan>,
    /// The mask rules that target this column, in resolution order (specificity, then authored
    /// order).
    pub candidates: Vec<Candidate>,
    /// `visible if`: a user-only program (top-level columns only).
    pub visible: Option<u32>,
    /// The `accessible if` condition, used for visibility when there is no `visible if`
    /// (the masking it implies is a [`Candidate`] of its own).
    pub accessible: Option<u32>,
}

/// A derived column's computation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedPlan {
    /// The program computing the value from the raw row.
    pub program: u32,
    /// The columns it reads (flat indices): the derived value is clear only if all of them are.
    pub reads: Vec<u32>,
}

/// One mask rule as a candidate to decide a column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The rule, for explanations.
    pub rule: u32,
    /// `where EXPR`: false → the next candidate decides; true, unknown or absent → this one
    /// decides.
    pub where_: Option<u32>,
    /// The audience clauses.
    pub body: Body,
}

/// A mask rule's audience.
///
/// Either exactly one `Everyone` or `Except` clause and no `otherwise`, or one or more `Who`
/// clauses and an `otherwise`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    /// `(audience, technique index)` clauses, in order.
    pub clauses: Vec<(Audience, u32)>,
    /// `otherwise using T` (`Some(Some(t))`) or `otherwise unmasked` (`Some(None)`).
    pub otherwise: Option<Option<u32>>,
}

/// Who a clause masks.
///
/// Serialised: variants are append-only (see [`Bundle`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// `for everyone`.
    Everyone,
    /// `for everyone except C`: C true → clear; false or unknown → masked.
    Except(u32),
    /// `for everyone who C`: C true → this clause's technique; unknown → null; false → next.
    Who(u32),
}

/// One row rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowRulePlan {
    /// The rule, for explanations.
    pub rule: u32,
    /// Which rows it keeps.
    pub filter: RowFilter,
    /// Whom it applies to.
    pub audience: RowAudience,
}

/// Which rows a row rule keeps.
///
/// Serialised: variants are append-only (see [`Bundle`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RowFilter {
    /// `only show rows where C` (C unknown → hidden).
    Where(u32),
    /// `only show rows newer than D`: event time > now − D seconds.
    NewerThan(i64),
    /// `only show rows older than D`: event time < now − D seconds.
    OlderThan(i64),
    /// `only show N% of rows`: a deterministic sample on the key column.
    Sample(f64),
    /// `never show rows`.
    Never,
    /// `only show rows linked to shown P`: the row's top-level column `column` holds the key
    /// of a row of source `parent` (an index into [`Bundle::sources`]), and the row passes
    /// only if that parent row was given to the session and is shown to its subject
    /// (`Session::link_rows`). A null key, a key no given parent row has, or a parent whose
    /// rows were never given: hidden.
    Linked {
        /// The linking column's position among the source's top-level columns.
        column: u32,
        /// The parent source.
        parent: u32,
    },
    /// `only show rows newer than 6mo`: event time > now − D calendar months (UTC, the day
    /// clamped to the month's last). Appended: bundles without it decode as before.
    NewerThanMonths(i64),
    /// `only show rows older than 6mo`: event time < now − D calendar months.
    OlderThanMonths(i64),
}

/// The longest chain of linked row rules a bundle may hold: a source, its parent, its
/// grandparent… at most this many sources (the verifier refuses more, and cycles).
pub const MAX_LINK_DEPTH: usize = 16;

/// Whom a row rule applies to.
///
/// Serialised: variants are append-only (see [`Bundle`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RowAudience {
    /// `for everyone`.
    Everyone,
    /// `for everyone except C`: C true → the rule does not apply.
    Except(u32),
    /// `for everyone who C otherwise …`: C true → the filter, false → the otherwise, unknown →
    /// both.
    Who {
        /// The condition.
        condition: u32,
        /// What applies when it is false.
        otherwise: RowOtherwise,
    },
}

/// The `otherwise` of a `who` row rule.
///
/// Serialised: variants are append-only (see [`Bundle`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RowOtherwise {
    /// `otherwise all rows`.
    AllRows,
    /// `otherwise only show rows …`.
    Filter(RowFilter),
}

impl Bundle {
    /// An empty bundle of the current format version.
    pub fn new() -> Self {
        Bundle {
            format_version: FORMAT_VERSION,
            sources: Vec::new(),
            programs: Vec::new(),
            techniques: Vec::new(),
            rules: Vec::new(),
            strings: Vec::new(),
            regexes: Vec::new(),
            subject_fields: Vec::new(),
            purposes: Vec::new(),
            levels: Vec::new(),
            settings: Settings::default(),
            grants: Vec::new(),
            debug: DebugInfo::default(),
            k_anonymity: Vec::new(),
            lookups: Vec::new(),
        }
    }

    /// Runs the verifier (also run by [`Bundle::from_bytes`]).
    pub fn verify(&self) -> Result<(), VerifyError> {
        verify::verify(self).map(|_| ())
    }
}

impl Default for Bundle {
    fn default() -> Self {
        Bundle::new()
    }
}
