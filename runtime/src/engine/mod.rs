//! The engine: loads a bundle, opens per-user sessions, masks rows and explains decisions.
//!
//! ```text
//! Engine::load(bytes, keys)          verify the bundle, compile regexes, prepare techniques
//!   └─ engine.session(subject, now)  decode the subject (nothing evaluated yet)
//!        └─ session.source("s")      one source's plan, specialised on first use (user-only
//!                                    conditions evaluated as it needs them, once per session)
//!             ├─ mask_json(row)      → Some(masked cells) | None (row hidden)
//!             ├─ mask_values(row)
//!             ├─ row_shown(row)
//!             ├─ visible_columns()
//!             └─ explain(row)        → which rule decided each cell and row, and why
//!   session.warnings()               → input that did not match the declarations (logged by
//!                                      the application; masking already failed closed)
//! ```
//!
//! Semantics (the compiler has resolved names, scopes and rule order; see the language
//! contract, §3, §4, §6): conditions are three-valued and every decision point turns *unknown*
//! into the outcome that reveals least — a `where` that is unknown lets its rule decide, an
//! unknown exception is not granted, an unknown `who` masks with null, an unknown row filter
//! hides the row, an unknown `visible if` hides the column.

mod deciding;
mod explain;
mod session;
pub mod subject;
mod warnings;

use ahash::AHashMap as HashMap;
use std::fmt;

use regex::Regex;

use crate::bundle::{Bundle, BundleError, TechniquePlan};
use crate::keys::KeyRing;
use crate::lookup::{LookupKind, LookupValues, TableError, TableSet, TableSnapshot, Tables};
use crate::program::interp::{comparison, ColumnPath, Comparison, PurposeTree};
use crate::techniques::PreparedTechnique;
use crate::value::Simple;

pub use deciding::{ConditionExplanation, ConditionRole, DecidingPart, Fact};
pub use explain::{
    CellAction, CellExplanation, Reason, RowExplanation, RowRuleExplanation, RuleRef,
};
use session::SharedPlans;
#[cfg(feature = "arrow")]
pub(crate) use session::{batch_conds, batch_plan};
pub use session::{LinkError, MaskedRows, Session, SourceSession};
pub use subject::{Subject, SubjectError, SubjectIssue};
pub use warnings::InputWarning;

/// Why an engine could not be built.
#[derive(Debug)]
pub enum LoadError {
    /// The bytes are not a valid bundle.
    Bundle(BundleError),
    /// A technique needs a masking key and none was given.
    MissingKey {
        /// The technique's index in the bundle.
        technique: u32,
        /// Its name (`hash`, `tokenize`, …).
        name: &'static str,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Bundle(e) => e.fmt(f),
            LoadError::MissingKey { name, .. } => write!(
                f,
                "the policies use `{name}`, which needs a masking key, and the engine was given \
                 none (pass a key file)"
            ),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Bundle(e) => Some(e),
            LoadError::MissingKey { .. } => None,
        }
    }
}

impl From<BundleError> for LoadError {
    fn from(e: BundleError) -> Self {
        LoadError::Bundle(e)
    }
}

/// A technique ready to apply.
#[derive(Clone, Debug)]
pub(crate) enum Prepared {
    Builtin(PreparedTechnique),
    Expr(u32),
    /// Per level (in the bundle's order), the technique to use; `None` → the highest level's.
    ByLevel(Vec<Option<u32>>),
}

/// Per-source facts derived once at load.
#[derive(Clone, Debug)]
pub(crate) struct SourceMeta {
    /// Per flat column: where its value sits in a row.
    pub paths: Vec<ColumnPath>,
    /// Per flat column: its dotted name.
    pub full_names: Vec<String>,
    /// Flat indices of the top-level columns, in order (row position → flat index).
    pub top: Vec<u32>,
    /// Per flat column: its child fields (flat indices) in order.
    pub children: Vec<Vec<u32>>,
    /// Row positions of the stored (non-derived) top-level columns.
    pub inputs: Vec<u32>,
    /// Per row position: how a typed row's cell is decoded.
    pub decode: Vec<Decode>,
    /// Whether the stored top-level columns are all of simple types and all come before the
    /// derived ones (a typed row may then be read in place; see `SourceSession::plain`).
    pub plain_inputs: bool,
    /// When `plain_inputs`, the simple type of each stored column in input order (what a
    /// typed row's cell is checked against before it is read in place); else empty.
    pub plain_kinds: Vec<Simple>,
    /// Derived columns (flat indices) in evaluation order.
    pub derived_order: Vec<u32>,
    /// Per flat column: whether some derived column reads it (its final decision is needed).
    pub read_by_derived: bool,
    /// Per flat column: whether a program of this source (a condition, a row filter, a derived
    /// column, an expression technique) reads its raw value.
    pub read_by_program: Vec<bool>,
    /// Row positions of the key, event-time and level columns.
    pub key_pos: Option<usize>,
    pub event_pos: Option<usize>,
    pub level_pos: Option<usize>,
}

/// How a typed row's cell at one position is decoded.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Decode {
    /// A derived column: computed, not read.
    Derived,
    /// A stored column (flat index) of a simple type, checked by the value's kind alone.
    Simple(u32, Simple),
    /// A stored column (flat index) of an enum, list or struct type.
    Complex(u32),
}

/// A loaded, verified bundle with its techniques prepared. Immutable and shareable across
/// threads; open a [`Session`] per user.
#[derive(Debug)]
pub struct Engine {
    pub(crate) bundle: Bundle,
    pub(crate) techniques: Vec<Prepared>,
    pub(crate) regexes: Vec<Regex>,
    pub(crate) purposes: PurposeTree,
    pub(crate) sources: Vec<SourceMeta>,
    pub(crate) source_index: HashMap<String, usize>,
    pub(crate) keys: Option<KeyRing>,
    /// Per program: the comparison it is, if it is one (evaluated without the interpreter).
    pub(crate) comparisons: Vec<Option<Comparison>>,
    /// The lookup tables' current values (a session takes a snapshot when it opens).
    pub(crate) tables: Tables,
    /// The tables of a bundle that declares none (sessions borrow it: no lock, no count).
    pub(crate) no_tables: TableSnapshot,
    /// Sources' specialised plans, shared by the sessions whose users read the same user-only
    /// values (`session/shared_plans.rs`).
    pub(crate) plans: SharedPlans,
}

impl Engine {
    /// Decodes, verifies and prepares a bundle. Fails when the bytes are not a valid bundle
    /// ([`LoadError::Bundle`]) or when a technique needs a key and `keys` is `None`
    /// ([`LoadError::MissingKey`]).
    pub fn load(bytes: &[u8], keys: Option<KeyRing>) -> Result<Engine, LoadError> {
        let bundle = crate::bundle::format::decode_unverified(bytes)?;
        Engine::from_bundle(bundle, keys)
    }

    /// Verifies and prepares an in-memory bundle (as [`Engine::load`] does after decoding).
    #[expect(
        clippy::indexing_slicing,
        reason = "the verifier checked that each column's parent comes before it, so `paths`, `children`, `full_names` and `pos_of` (one entry per column) hold the parent's entry when the child is read, and `top` holds only indices of this column table"
    )]
    pub fn from_bundle(bundle: Bundle, keys: Option<KeyRing>) -> Result<Engine, LoadError> {
        let mut checked = crate::bundle::verify::verify(&bundle).map_err(BundleError::Invalid)?;
        let mut techniques = Vec::with_capacity(bundle.techniques.len());
        for (i, t) in bundle.techniques.iter().enumerate() {
            techniques.push(match t {
                TechniquePlan::Builtin(t) => {
                    if t.needs_key() && keys.is_none() {
                        return Err(LoadError::MissingKey {
                            technique: i as u32,
                            name: t.name(),
                        });
                    }
                    Prepared::Builtin(t.prepare().map_err(|e| {
                        BundleError::Invalid(crate::bundle::VerifyError::BadTechnique {
                            technique: i as u32,
                            message: e.to_string(),
                        })
                    })?)
                }
                TechniquePlan::Expr { program } => Prepared::Expr(*program),
                TechniquePlan::ByLevel { entries } => {
                    let mut per_level = vec![None; bundle.levels.len()];
                    for (l, t) in entries {
                        if let Some(slot) = per_level.get_mut(*l as usize) {
                            *slot = Some(*t);
                        }
                    }
                    Prepared::ByLevel(per_level)
                }
            });
        }
        // Compiled once, by the verifier.
        let regexes = std::mem::take(&mut checked.regexes);
        let purposes = PurposeTree::new(
            bundle.purposes.iter().map(|p| p.name.clone()).collect(),
            bundle.purposes.iter().map(|p| p.parent).collect(),
        );
        let mut sources = Vec::with_capacity(bundle.sources.len());
        let mut source_index = HashMap::new();
        for (si, s) in bundle.sources.iter().enumerate() {
            source_index.insert(s.name.clone(), si);
            let n = s.columns.len();
            let mut paths = vec![ColumnPath::default(); n];
            let mut full_names = vec![String::new(); n];
            let mut children = vec![Vec::new(); n];
            let mut top = Vec::new();
            let mut pos_of = vec![0usize; n];
            for (ci, c) in s.columns.iter().enumerate() {
                match c.parent {
                    None => {
                        pos_of[ci] = top.len();
                        paths[ci] = ColumnPath {
                            top: top.len() as u32,
                            steps: Vec::new(),
                        };
                        full_names[ci] = c.name.clone();
                        top.push(ci as u32);
                    }
                    Some(p) => {
                        let p = p as usize;
                        let position = children[p].len() as u32;
                        children[p].push(ci as u32);
                        let mut path = paths[p].clone();
                        path.steps.push(position);
                        paths[ci] = path;
                        full_names[ci] = format!("{}.{}", full_names[p], c.name);
                    }
                }
            }
            let inputs = top
                .iter()
                .enumerate()
                .filter(|(_, &f)| s.columns[f as usize].derived.is_none())
                .map(|(pos, _)| pos as u32)
                .collect();
            let decode: Vec<Decode> = top
                .iter()
                .map(|&f| {
                    let c = &s.columns[f as usize];
                    if c.derived.is_some() {
                        return Decode::Derived;
                    }
                    match Simple::of(&c.ty) {
                        Some(simple) => Decode::Simple(f, simple),
                        None => Decode::Complex(f),
                    }
                })
                .collect();
            let stored = decode
                .iter()
                .take_while(|d| matches!(d, Decode::Simple(..)))
                .count();
            let plain_inputs = decode
                .get(stored..)
                .is_some_and(|rest| rest.iter().all(|d| matches!(d, Decode::Derived)));
            let plain_kinds = if plain_inputs {
                decode
                    .iter()
                    .filter_map(|d| match d {
                        Decode::Simple(_, simple) => Some(*simple),
                        _ => None,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let derived_order = checked.derived_order.get(si).cloned().unwrap_or_default();
            let pos = |c: Option<u32>| c.map(|c| pos_of[c as usize]);
            sources.push(SourceMeta {
                paths,
                full_names,
                top,
                children,
                inputs,
                decode,
                plain_inputs,
                plain_kinds,
                read_by_derived: !derived_order.is_empty(),
                read_by_program: checked
                    .columns_read
                    .get_mut(si)
                    .map(std::mem::take)
                    .unwrap_or_default(),
                derived_order,
                key_pos: pos(s.key_column),
                event_pos: pos(s.event_time_column),
                level_pos: pos(s.level.as_ref().and_then(|l| l.column)),
            });
        }
        let bundle_lookups = bundle.lookups.clone();
        let comparisons = bundle
            .programs
            .iter()
            .map(|p| if p.user_only { None } else { comparison(p) })
            .collect();
        Ok(Engine {
            plans: SharedPlans::new(sources.len()),
            bundle,
            techniques,
            regexes,
            purposes,
            sources,
            source_index,
            keys,
            comparisons,
            tables: Tables::new(&bundle_lookups),
            no_tables: TableSnapshot::of_bundle(&[]),
        })
    }

    /// How many specialised source plans the engine keeps for new sessions to share: per
    /// source, one per distinct combination of the user-only values its specialisation read
    /// (at most 8 per source; further users are specialised per session).
    pub fn shared_plans(&self) -> usize {
        self.plans.count()
    }

    /// The bundle this engine runs.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The names of the sources, in bundle order.
    pub fn source_names(&self) -> impl Iterator<Item = &str> {
        self.bundle.sources.iter().map(|s| s.name.as_str())
    }

    /// The engine's keys, if it was given any.
    pub fn keys(&self) -> Option<&KeyRing> {
        self.keys.as_ref()
    }

    /// Supplies (or replaces) the values of a lookup table declared `supplied at run time`.
    /// Sessions opened after the call see the new values; a session already open keeps the
    /// values it opened with. Until a table is supplied, `x in table t` is unknown (it reveals
    /// nothing). Refused: an undeclared table, a file table (its values came with the bundle),
    /// values of another type, more than [`MAX_TABLE_VALUES`](crate::lookup::MAX_TABLE_VALUES).
    pub fn set_table(&self, name: &str, values: LookupValues) -> Result<(), TableError> {
        let (index, plan) = self
            .bundle
            .lookups
            .iter()
            .enumerate()
            .find(|(_, t)| t.name == name)
            .ok_or_else(|| TableError::Unknown {
                name: name.to_owned(),
            })?;
        if plan.values.is_some() {
            return Err(TableError::NotSupplied {
                name: name.to_owned(),
            });
        }
        if values.kind() != plan.kind {
            return Err(TableError::WrongKind {
                name: name.to_owned(),
                expected: plan.kind,
                found: values.kind(),
            });
        }
        values.check_limits()?;
        self.tables.set(index, TableSet::new(&values));
        Ok(())
    }

    /// The lookup tables: name, type, and whether the application supplies it at run time.
    pub fn tables(&self) -> impl Iterator<Item = (&str, LookupKind, bool)> {
        self.bundle
            .lookups
            .iter()
            .map(|t| (t.name.as_str(), t.kind, t.values.is_none()))
    }
}
