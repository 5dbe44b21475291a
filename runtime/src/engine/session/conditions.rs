//! The session's side of every condition, resolved on first use: the value of a user-only
//! program, and the row-independent operand of a comparison with the row (`row.x == user.y`).
//! Nothing is evaluated when the session opens; each program at most once per session.

use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::memo::Memo;
use super::Subject;
use crate::engine::Engine;
use crate::lookup::TableSnapshot;
use crate::program::interp::{run, Comparison, Env, Operand};
use crate::program::Tri;
use crate::value::Value;

/// A comparison with the row and its session side (`None`: missing or null, so the comparison
/// is unknown).
pub(crate) type SessionComparison = (Comparison, Option<Value>);

/// What a program is for this session.
#[derive(Debug)]
struct Resolved {
    /// Its value, if it is user-only.
    user: Option<Tri>,
    /// Its session side, if it compares a column with a value fixed for the session.
    compared: Option<SessionComparison>,
}

/// The subject and clock of a session, and per program what they decide (see the module doc).
/// A [`Session`](super::Session) holds it as `compared`, the name under which the batch path
/// reads comparison operands.
#[derive(Debug)]
pub(crate) struct Conditions<'e> {
    engine: &'e Engine,
    pub(super) subject: Subject,
    now: DateTime<Utc>,
    programs: Memo<Resolved>,
    /// The lookup tables as they were when the session opened.
    pub(super) tables: Arc<TableSnapshot>,
}

impl<'e> Conditions<'e> {
    /// Nothing resolved yet.
    pub(super) fn new(engine: &'e Engine, subject: Subject, now: DateTime<Utc>) -> Self {
        Conditions {
            engine,
            subject,
            now,
            programs: Memo::new(engine.bundle.programs.len()),
            tables: engine.tables.snapshot(),
        }
    }

    #[inline]
    fn resolved(&self, p: usize) -> Option<&Resolved> {
        self.programs.get_or_init(p, || self.resolve(p))
    }

    fn resolve(&self, p: usize) -> Resolved {
        let b = &self.engine.bundle;
        let Some(program) = b.programs.get(p) else {
            return Resolved {
                user: None,
                compared: None,
            };
        };
        if program.user_only {
            let env = Env {
                row: &[],
                paths: &[],
                value: None,
                subject: &self.subject,
                now: self.now,
                strings: &b.strings,
                regexes: &self.engine.regexes,
                purposes: &self.engine.purposes,
                tables: &self.tables,
            };
            return Resolved {
                user: Some(run(program, &env).truth()),
                compared: None,
            };
        }
        let compared = self.engine.comparisons.get(p).copied().flatten().map(|c| {
            let operand = match c.operand {
                Operand::Const(k) => program.consts.get(k as usize).cloned(),
                Operand::UserField(f) => self.subject.fields.get(f as usize).cloned(),
                Operand::Login => Some(self.subject.login.clone()),
            };
            (c, operand)
        });
        Resolved {
            user: None,
            compared,
        }
    }

    /// The value of program `p` if it is user-only (evaluated on first use).
    #[inline]
    pub(super) fn user(&self, p: u32) -> Option<Tri> {
        self.resolved(p as usize)?.user
    }

    /// Program `p`'s user-only value and comparison side at once (one look-up on the row path).
    #[inline]
    pub(super) fn side(&self, p: u32) -> (Option<Tri>, Option<&SessionComparison>) {
        match self.resolved(p as usize) {
            Some(r) => (r.user, r.compared.as_ref()),
            None => (None, None),
        }
    }

    /// Program `p`'s comparison with the row and its session side, if it is one (the outer
    /// `None`: no such program).
    #[cfg(feature = "arrow")]
    #[inline]
    pub(crate) fn get(&self, p: usize) -> Option<&Option<SessionComparison>> {
        Some(&self.resolved(p)?.compared)
    }
}
