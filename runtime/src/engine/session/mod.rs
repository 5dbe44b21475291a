//! Sessions: a bundle specialised for one user and one clock.
//!
//! The modules follow a row through a session: [`specialise`] (what the user alone decides, per
//! source), [`decode`] (a row into raw values), [`decide`] (conditions, row rules, column
//! decisions), [`apply`] (techniques on cells), [`explaining`] (the same, with reasons), and
//! [`source`] (the public entry points of one source).

use chrono::{DateTime, Utc};
use smallvec::SmallVec;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use super::subject::{Subject, SubjectError};
use super::{Engine, SourceMeta};
use crate::bundle::{RowFilter, SourcePlan};
use crate::grants::GrantView;
use crate::program::Tri;

mod apply;
mod conditions;
mod decide;
mod decode;
mod explaining;
mod k_anonymity;
mod links;
mod memo;
mod shared_plans;
mod source;
mod specialise;

use conditions::Conditions;
use decide::decide_body;
#[cfg(feature = "arrow")]
pub(crate) use decode::conform;
use decode::{Derive, Raw, RowState};
use explaining::CellTrace;
pub use k_anonymity::MaskedRows;
pub use links::LinkError;
use links::Links;
use memo::Memo;
pub(crate) use shared_plans::SharedPlans;
use specialise::CellPlan;

#[cfg(feature = "arrow")]
pub(crate) mod batch_conds;
#[cfg(feature = "arrow")]
pub(crate) mod batch_plan;
#[cfg(feature = "arrow")]
mod batch_reads;

/// What a decision does to a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    Clear,
    Mask(u32),
    Null,
}

/// Why (the string-free form of [`Reason`], cheap to copy per row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    Exempt,
    NoRule,
    Everyone,
    ExceptionHeld,
    ExceptionNotHeld(Tri),
    WhoHeld,
    WhoUnknown,
    Otherwise,
    OtherwiseUnmasked,
}

/// A column's decision for one user and row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decided {
    /// The deciding candidate's position in the column's list.
    candidate: Option<u32>,
    clause: Option<u32>,
    where_: Option<Tri>,
    why: Why,
    act: Act,
}

impl Decided {
    const NO_RULE: Decided = Decided {
        candidate: None,
        clause: None,
        where_: None,
        why: Why::NoRule,
        act: Act::Clear,
    };
    const EXEMPT: Decided = Decided {
        candidate: None,
        clause: None,
        where_: None,
        why: Why::Exempt,
        act: Act::Clear,
    };
}

#[derive(Clone, Debug)]
enum ColSpec {
    /// Decided for every row.
    Const(Decided),
    /// Decided per row by these candidates (positions in the column's list), in order; none
    /// deciding means clear.
    Dyn(Vec<u32>),
}

#[derive(Clone, Debug)]
enum RuleCheck {
    /// A row-dependent filter of a rule.
    Filter(RowFilter),
    /// A rule whose audience reads the row: evaluated in full per row.
    Generic(usize),
}

#[derive(Clone, Debug)]
struct SourceSpec {
    exempt: bool,
    /// Per row position.
    visible: Flags,
    /// Per flat column.
    columns: Vec<ColSpec>,
    /// A rule that hides every row for this user.
    hidden_by: Option<usize>,
    /// Per flat column: a derived column that is null for this user on every row (its own
    /// decision is null, or clear with an input masked on every row) and that no program reads,
    /// so that masking a row need not compute it. Empty when the source has no derived column.
    null_derived: Vec<bool>,
    /// Per flat column: its decision when it is the same on every row (a placeholder for the
    /// others, listed in `dynamic`).
    base: Decisions,
    /// Flat columns decided per row.
    dynamic: Vec<u32>,
    /// Whether masking needs the final clear state of columns (some derived column that is not
    /// in `null_derived` reads them).
    final_clear_needed: bool,
    /// Per row position, what masking does when neither explanations nor grants are involved,
    /// if every column can be decided without the others (no struct fields, no derived column
    /// whose value may show): the straight-line plan of [`SourceSession::mask`].
    cells: Option<Vec<CellPlan>>,
    checks: SmallVec<[RuleCheck; 4]>,
    /// Whether a conforming typed row can be masked in place: the source's inputs are plain
    /// (`SourceMeta::plain_inputs`) and no derived column is computed for this user (each is
    /// in `null_derived`).
    plain: bool,
}

/// A bundle specialised for one user at one clock, lazily: opening a session decodes the
/// subject and nothing else. A source is specialised on its first
/// [`source`](Session::source) call (every decision that depends only on the user taken once,
/// and kept for the session's life), and a user-only condition is evaluated when a specialised
/// source or a grant needs it (once per session). Masking a row evaluates only what depends on
/// the row. `Send + Sync`: threads may share a session; the first use of a source or condition
/// computes it once.
#[derive(Debug)]
pub struct Session<'e> {
    engine: &'e Engine,
    now: DateTime<Utc>,
    /// The subject, and per program its user-only value or comparison operand (the batch path
    /// reads the operands through this name).
    compared: Conditions<'e>,
    /// Per source: its plan for this user, once asked for.
    specs: Memo<Specialised>,
    /// Temporary unmask grants live at the session clock, if the session was opened through a
    /// [`GrantService`](crate::grants::GrantService).
    grants: Option<GrantView>,
    /// The parent rows given for linked visibility ([`Session::link_rows`]).
    links: Links,
}

/// A source specialised for a session's user (a plan the engine may share with other
/// sessions, see `shared_plans`), and what masking its rows observed.
#[derive(Debug)]
struct Specialised {
    spec: Arc<SourceSpec>,
    /// Per top-level column: how many cells masked so far did not decode to the column's type
    /// (see [`Session::warnings`]); allocated at the first such cell.
    mismatched: Mismatched,
}

/// Per top-level column of a source, a count of cells of the wrong type; allocated at the
/// first one.
type Mismatched = OnceLock<Box<[AtomicU64]>>;

/// One source as seen by a session's user.
#[derive(Clone, Copy, Debug)]
pub struct SourceSession<'s> {
    session: &'s Session<'s>,
    index: usize,
    plan: &'s SourcePlan,
    meta: &'s SourceMeta,
    spec: &'s SourceSpec,
    /// Per top-level column: the session's count of cells of the wrong type.
    mismatched: &'s Mismatched,
}

impl Engine {
    /// Opens a session for a subject (the user context, JSON per docs/language.md §8: missing
    /// built-ins are empty, a declared field of the wrong type counts as missing) at a clock.
    /// Fails only when the subject is not a JSON object.
    #[inline]
    pub fn session(
        &self,
        subject: &serde_json::Value,
        clock: DateTime<Utc>,
    ) -> Result<Session<'_>, SubjectError> {
        let subject = Subject::from_json(subject, &self.bundle.subject_fields, &self.purposes)?;
        Ok(Session::new(self, subject, clock))
    }
}

impl<'e> Session<'e> {
    /// A session from an already decoded subject. Nothing is evaluated yet (see [`Session`]).
    #[inline]
    pub fn new(engine: &'e Engine, subject: Subject, now: DateTime<Utc>) -> Session<'e> {
        Session {
            engine,
            now,
            compared: Conditions::new(engine, subject, now),
            specs: Memo::new(engine.bundle.sources.len()),
            grants: None,
            links: Links::default(),
        }
    }

    /// The subject.
    pub fn subject(&self) -> &Subject {
        &self.compared.subject
    }

    /// The session clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The engine.
    pub fn engine(&self) -> &'e Engine {
        self.engine
    }

    /// The source named `name`, as this session's user sees it (specialised on first use).
    pub fn source(&self, name: &str) -> Option<SourceSession<'_>> {
        let index = *self.engine.source_index.get(name)?;
        let plan = self.engine.bundle.sources.get(index)?;
        let meta = self.engine.sources.get(index)?;
        let specialised = self.specs.get_or_init(index, || Specialised {
            spec: self.engine.plans.plan(self, index, plan, meta),
            mismatched: OnceLock::new(),
        })?;
        Some(SourceSession {
            session: self,
            index,
            plan,
            meta,
            spec: &specialised.spec,
            mismatched: &specialised.mismatched,
        })
    }

    /// The sources this session has specialised so far (those asked for with
    /// [`source`](Self::source)), in the bundle's order.
    pub fn specialised_sources(&self) -> Vec<&'e str> {
        let sources = &self.engine.bundle.sources;
        self.specs
            .filled()
            .filter_map(|(i, _)| sources.get(i).map(|s| s.name.as_str()))
            .collect()
    }

    /// Per source specialised so far (index order): how many cells of each top-level column did
    /// not decode to its type. A source never asked for masked no row.
    pub(super) fn mismatch_counts(&self) -> Vec<(usize, &[AtomicU64])> {
        self.specs
            .filled()
            .filter_map(|(i, s)| Some((i, &**s.mismatched.get()?)))
            .collect()
    }

    /// Attaches the temporary unmask grants that hold at the session clock.
    pub(crate) fn with_grants(mut self, grants: GrantView) -> Self {
        self.grants = Some(grants);
        self
    }

    /// The value of a user-only program for this session's user (unknown if it is not
    /// user-only or does not exist).
    pub(crate) fn user_condition(&self, p: u32) -> Tri {
        self.user_tri(p).unwrap_or(Tri::Unknown)
    }

    /// The user-only value of a program, if it is user-only.
    #[inline]
    fn user_tri(&self, p: u32) -> Option<Tri> {
        self.compared.user(p)
    }
}

/// Per-row decisions, one per flat column (on the stack for common widths).
type Decisions = SmallVec<[Decided; 32]>;
/// Per-row flags, one per flat column.
type Flags = SmallVec<[bool; 64]>;
