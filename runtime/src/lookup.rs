//! Lookup tables: reference data a policy set declares (`table allowed: text from "a.csv";`) and
//! its conditions read (`row.region in table allowed`).
//!
//! A table's values come either with the bundle (read from a file by the compiler, so a built
//! bundle is self-contained) or from the application at run time
//! ([`Engine::set_table`](crate::Engine::set_table)). The engine keeps every table's current
//! values in one immutable [`TableSnapshot`]; setting a table replaces the snapshot, and a
//! [`Session`](crate::Session) takes the snapshot of the moment it is opened, so every decision
//! of a session sees the same values whatever is set meanwhile.
//!
//! `x in table t` is *unknown* when `x` is null or of another type than the table's, and when
//! `t` is supplied at run time and has not been supplied yet: an unknown condition never reveals
//! more (docs/language.md §3, unknown conditions).

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::program::Tri;
use crate::value::Value;

/// The most values one lookup table may hold (a file table, or a table supplied at run time).
pub const MAX_TABLE_VALUES: usize = 1_000_000;

/// The longest text value of a lookup table, in bytes.
pub const MAX_TABLE_TEXT_BYTES: usize = 4096;

/// The type of a lookup table's values.
///
/// Serialised in bundles: variants are append-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LookupKind {
    /// `text` (an `enum` operand compares as its text).
    Text,
    /// `int`.
    Int,
}

impl LookupKind {
    /// The type's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            LookupKind::Text => "text",
            LookupKind::Int => "int",
        }
    }
}

/// The values of a lookup table, of one kind.
///
/// Serialised in bundles: variants are append-only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LookupValues {
    /// Texts.
    Text(Vec<String>),
    /// Integers.
    Int(Vec<i64>),
}

impl LookupValues {
    /// The kind of these values.
    pub fn kind(&self) -> LookupKind {
        match self {
            LookupValues::Text(_) => LookupKind::Text,
            LookupValues::Int(_) => LookupKind::Int,
        }
    }

    /// How many values (repetitions counted).
    pub fn len(&self) -> usize {
        match self {
            LookupValues::Text(v) => v.len(),
            LookupValues::Int(v) => v.len(),
        }
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the size limits ([`MAX_TABLE_VALUES`], [`MAX_TABLE_TEXT_BYTES`]).
    pub fn check_limits(&self) -> Result<(), TableError> {
        if self.len() > MAX_TABLE_VALUES {
            return Err(TableError::TooManyValues { count: self.len() });
        }
        if let LookupValues::Text(v) = self {
            if let Some(long) = v.iter().find(|s| s.len() > MAX_TABLE_TEXT_BYTES) {
                return Err(TableError::TextTooLong { bytes: long.len() });
            }
        }
        Ok(())
    }
}

/// A lookup table of a bundle: its name, the type of its values, and the values when they came
/// with the bundle (a file table); `None` for a table supplied at run time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupPlan {
    /// The declared name.
    pub name: String,
    /// The type of its values.
    pub kind: LookupKind,
    /// The values of a file table; `None`: supplied at run time.
    pub values: Option<LookupValues>,
}

/// Why a table cannot be set, or a bundle's table is invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The bundle declares no table of that name.
    Unknown {
        /// The name asked for.
        name: String,
    },
    /// The table's values come with the bundle (from a file); only a table declared
    /// `supplied at run time` can be set.
    NotSupplied {
        /// The table's name.
        name: String,
    },
    /// The values are not of the table's type.
    WrongKind {
        /// The table's name.
        name: String,
        /// Its declared type.
        expected: LookupKind,
        /// The type of the values given.
        found: LookupKind,
    },
    /// More values than [`MAX_TABLE_VALUES`].
    TooManyValues {
        /// How many were given.
        count: usize,
    },
    /// A text longer than [`MAX_TABLE_TEXT_BYTES`].
    TextTooLong {
        /// Its length in bytes.
        bytes: usize,
    },
}

impl TableError {
    /// A stable code for the error (`L0001`…).
    pub fn code(&self) -> &'static str {
        match self {
            TableError::Unknown { .. } => "L0001",
            TableError::NotSupplied { .. } => "L0002",
            TableError::WrongKind { .. } => "L0003",
            TableError::TooManyValues { .. } => "L0004",
            TableError::TextTooLong { .. } => "L0005",
        }
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::Unknown { name } => {
                write!(f, "the policy set declares no lookup table `{name}`")
            }
            TableError::NotSupplied { name } => write!(
                f,
                "lookup table `{name}` is read from a file when the bundle is built; only a table \
                 declared `supplied at run time` can be set"
            ),
            TableError::WrongKind {
                name,
                expected,
                found,
            } => write!(
                f,
                "lookup table `{name}` holds {} values, and {} values were given",
                expected.name(),
                found.name()
            ),
            TableError::TooManyValues { count } => write!(
                f,
                "{count} values are more than a lookup table may hold ({MAX_TABLE_VALUES})"
            ),
            TableError::TextTooLong { bytes } => write!(
                f,
                "a value of {bytes} bytes is longer than a lookup table's values may be \
                 ({MAX_TABLE_TEXT_BYTES} bytes)"
            ),
        }
    }
}

impl std::error::Error for TableError {}

/// The values of one table, ready for membership tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableSet {
    /// Texts.
    Text(HashSet<String>),
    /// Integers.
    Int(HashSet<i64>),
}

impl TableSet {
    /// The set of `values`.
    pub fn new(values: &LookupValues) -> TableSet {
        match values {
            LookupValues::Text(v) => TableSet::Text(v.iter().cloned().collect()),
            LookupValues::Int(v) => TableSet::Int(v.iter().copied().collect()),
        }
    }

    /// How many distinct values.
    pub fn len(&self) -> usize {
        match self {
            TableSet::Text(s) => s.len(),
            TableSet::Int(s) => s.len(),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `x in table`: unknown for null and for a value of another type.
    pub fn contains(&self, x: &Value) -> Tri {
        match (self, x) {
            (TableSet::Text(s), Value::Text(t)) => Tri::from_bool(s.contains(t.as_str())),
            (TableSet::Int(s), Value::Int(i)) => Tri::from_bool(s.contains(i)),
            _ => Tri::Unknown,
        }
    }
}

/// Every table's values at one moment: per table (bundle order), its set, or `None` for a
/// table supplied at run time and not supplied yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableSnapshot {
    sets: Vec<Option<Arc<TableSet>>>,
}

impl TableSnapshot {
    /// The snapshot of a bundle's tables as built: file tables filled, the others not supplied.
    pub fn of_bundle(plans: &[LookupPlan]) -> TableSnapshot {
        TableSnapshot {
            sets: plans
                .iter()
                .map(|p| p.values.as_ref().map(|v| Arc::new(TableSet::new(v))))
                .collect(),
        }
    }

    /// `x in table i` (unknown when table `i` is not supplied or does not exist).
    pub fn contains(&self, table: u32, x: &Value) -> Tri {
        match self.sets.get(table as usize) {
            Some(Some(set)) => set.contains(x),
            _ => Tri::Unknown,
        }
    }

    /// Table `i`'s values, if supplied.
    pub fn get(&self, table: u32) -> Option<&TableSet> {
        self.sets.get(table as usize)?.as_deref()
    }
}

/// The engine's current tables: a snapshot replaced whole when a table is set.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    current: RwLock<Arc<TableSnapshot>>,
}

impl Tables {
    pub(crate) fn new(plans: &[LookupPlan]) -> Tables {
        Tables {
            current: RwLock::new(Arc::new(TableSnapshot::of_bundle(plans))),
        }
    }

    /// The current snapshot (a poisoned lock still holds a whole snapshot: it is only ever
    /// replaced, never changed in place).
    pub(crate) fn snapshot(&self) -> Arc<TableSnapshot> {
        match self.current.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces table `i`'s values.
    pub(crate) fn set(&self, table: usize, set: TableSet) {
        let mut guard = match self.current.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut next = TableSnapshot::clone(&guard);
        if let Some(slot) = next.sets.get_mut(table) {
            *slot = Some(Arc::new(set));
        }
        *guard = Arc::new(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans() -> Vec<LookupPlan> {
        vec![
            LookupPlan {
                name: "regions".into(),
                kind: LookupKind::Text,
                values: Some(LookupValues::Text(vec!["EU".into(), "US".into()])),
            },
            LookupPlan {
                name: "vips".into(),
                kind: LookupKind::Int,
                values: None,
            },
        ]
    }

    #[test]
    fn membership_is_unknown_for_null_other_types_and_tables_not_supplied() {
        let snap = TableSnapshot::of_bundle(&plans());
        assert_eq!(snap.contains(0, &Value::Text("EU".into())), Tri::True);
        assert_eq!(snap.contains(0, &Value::Text("FR".into())), Tri::False);
        assert_eq!(snap.contains(0, &Value::Null), Tri::Unknown);
        assert_eq!(snap.contains(0, &Value::Int(1)), Tri::Unknown);
        assert_eq!(snap.contains(1, &Value::Int(1)), Tri::Unknown);
        assert_eq!(snap.contains(7, &Value::Int(1)), Tri::Unknown);
    }

    fn bundle_with(lookups: Vec<LookupPlan>, table: u32) -> crate::Bundle {
        let mut b = crate::Bundle::new();
        b.programs.push(crate::program::Program::new(
            vec![
                crate::program::Op::Login,
                crate::program::Op::InTable(table),
            ],
            vec![],
        ));
        b.lookups = lookups;
        b
    }

    #[test]
    fn the_lookup_section_round_trips_and_is_absent_without_tables() {
        let b = bundle_with(plans(), 1);
        let bytes = b.to_bytes().unwrap();
        assert_eq!(crate::Bundle::from_bytes(&bytes).unwrap(), b);
        // Without tables the bytes are those of a bundle that never had the section (the
        // tables come last, after the debug and k-anonymity sections).
        let mut plain = crate::Bundle::new();
        plain.strings.push("x".into());
        let bytes = plain.to_bytes().unwrap();
        let mut body = postcard::to_allocvec(&plain).unwrap();
        body = postcard::to_extend(&plain.debug, body).unwrap();
        body = postcard::to_extend(&plain.k_anonymity, body).unwrap();
        assert_eq!(&bytes[crate::bundle::format::HEADER_LEN..], &body[..]);
        // A version-1 bundle cannot carry tables.
        let mut old = b.clone();
        old.format_version = 1;
        assert!(old.to_bytes().is_err());
    }

    #[test]
    fn the_verifier_refuses_bad_tables() {
        let err = |b: crate::Bundle| b.verify().unwrap_err().to_string();
        assert!(
            err(bundle_with(plans(), 2)).contains("lookup table"),
            "index"
        );
        let mut twice = plans();
        twice[1].name = "regions".into();
        assert!(err(bundle_with(twice, 0)).contains("two lookup tables have this name"));
        let mut mistyped = plans();
        mistyped[0].kind = LookupKind::Int;
        assert!(
            err(bundle_with(mistyped, 0)).contains("its values are text and it is declared int")
        );
        let mut long = plans();
        long[0].values = Some(LookupValues::Text(vec![
            "x".repeat(MAX_TABLE_TEXT_BYTES + 1)
        ]));
        assert!(err(bundle_with(long, 0)).contains("longer than"));
    }

    #[test]
    fn setting_a_table_leaves_earlier_snapshots_as_they_were() {
        let tables = Tables::new(&plans());
        let before = tables.snapshot();
        tables.set(1, TableSet::new(&LookupValues::Int(vec![7])));
        let after = tables.snapshot();
        assert_eq!(before.contains(1, &Value::Int(7)), Tri::Unknown);
        assert_eq!(after.contains(1, &Value::Int(7)), Tri::True);
        assert_eq!(after.contains(1, &Value::Int(8)), Tri::False);
    }
}
