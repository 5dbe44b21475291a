//! The session's side of every condition, resolved on first use: the value of a user-only
//! program, and the row-independent operand of a comparison with the row (`row.x == user.y`).
//! Nothing is evaluated when the session opens; each user-only program at most once per
//! session. A comparison's operand is read in place (a constant of the program, a subject
//! field, the login): nothing is copied per session.

use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::memo::TriMemo;
use super::Subject;
use crate::engine::Engine;
use crate::lookup::TableSnapshot;
use crate::program::interp::{role_or_group, run, Comparison, Env, Operand, Row};
use crate::program::Tri;
use crate::value::Value;

/// The subject and clock of a session, and per user-only program its value (see the module
/// doc). A [`Session`](super::Session) holds it as `compared`, the name under which the batch
/// path reads comparison operands.
#[derive(Debug)]
pub(crate) struct Conditions<'e> {
    engine: &'e Engine,
    pub(super) subject: Subject,
    now: DateTime<Utc>,
    /// Per program: its value if user-only, evaluated on first use.
    users: TriMemo,
    /// The lookup tables as they were when the session opened.
    pub(super) tables: Snapshot<'e>,
}

/// The lookup tables of a session: the engine's snapshot when the session opened, or, when the
/// bundle declares no table (so that every snapshot is empty), an empty one borrowed from the
/// engine, which costs the session no lock and no reference count.
#[derive(Debug)]
pub(crate) enum Snapshot<'e> {
    None(&'e TableSnapshot),
    Taken(Arc<TableSnapshot>),
}

impl std::ops::Deref for Snapshot<'_> {
    type Target = TableSnapshot;

    fn deref(&self) -> &TableSnapshot {
        match self {
            Snapshot::None(t) => t,
            Snapshot::Taken(t) => t,
        }
    }
}

impl<'e> Conditions<'e> {
    /// Nothing resolved yet.
    #[inline]
    pub(super) fn new(engine: &'e Engine, subject: Subject, now: DateTime<Utc>) -> Self {
        Conditions {
            engine,
            subject,
            now,
            users: TriMemo::new(engine.bundle.programs.len()),
            tables: if engine.bundle.lookups.is_empty() {
                Snapshot::None(&engine.no_tables)
            } else {
                Snapshot::Taken(engine.tables.snapshot())
            },
        }
    }

    /// Evaluates user-only program `p` (`None`: not user-only, or no such program).
    fn evaluate(&self, p: usize) -> Option<Tri> {
        let b = &self.engine.bundle;
        let program = b.programs.get(p).filter(|program| program.user_only)?;
        // `has role "x"` and `in group "g"` alone (the common user-only programs) are read
        // directly; anything else runs in the interpreter.
        if let Some(t) = role_or_group(program, &self.subject, &b.strings) {
            return Some(t);
        }
        let env = Env {
            row: Row::EMPTY,
            paths: &[],
            value: None,
            subject: &self.subject,
            now: self.now,
            strings: &b.strings,
            regexes: &self.engine.regexes,
            purposes: &self.engine.purposes,
            tables: &self.tables,
        };
        Some(run(program, &env).truth())
    }

    /// The value of program `p` if it is user-only (evaluated on first use).
    #[inline]
    pub(super) fn user(&self, p: u32) -> Option<Tri> {
        let p = p as usize;
        self.users.get_or_init(p, || self.evaluate(p))
    }

    /// Program `p`'s comparison with the row and its session side, if it is one: `None` for
    /// the side when it is missing or null (the comparison is then unknown).
    #[inline]
    pub(crate) fn comparison(&self, p: u32) -> Option<(&'e Comparison, Option<&Value>)> {
        let c = self.engine.comparisons.get(p as usize)?.as_ref()?;
        let operand = match c.operand {
            Operand::Const(k) => self
                .engine
                .bundle
                .programs
                .get(p as usize)
                .and_then(|program| program.consts.get(k as usize)),
            Operand::UserField(f) => self.subject.fields.get(f as usize),
            Operand::Login => Some(&self.subject.login),
        };
        Some((c, operand))
    }
}
