//! Specialised plans shared across sessions: a source's plan for a user depends only on the
//! user-only values that specialising it read, so the engine keeps, per source, the last few
//! plans with those values, and a new session whose user gives the same values reuses one
//! instead of specialising again.
//!
//! A specialisation is a deterministic function of the bundle and of the user-only values it
//! reads, each read chosen by the values read before it. Replaying a recorded list of reads on a
//! new session (evaluating each program, once per session, through the session's own memo) and
//! finding every value equal therefore proves that specialising again would read the same
//! values and build the same plan. Only the values are compared, never the subject: two users
//! with the same roles share a plan, and the session still reads its own subject for every
//! row-dependent condition, comparison and technique.

use smallvec::SmallVec;
use std::fmt;
use std::sync::{Arc, OnceLock};

use super::memo::{encode, Memo};
use super::{Session, SourceSpec};
use crate::bundle::SourcePlan;
use crate::engine::SourceMeta;

/// Plans kept per source: more users of distinct user-only values than this are specialised
/// per session (still correct, only slower).
const SLOTS: usize = 8;

/// The user-only values a specialisation read, each once, in the order first read: program
/// and [`encode`]d value.
pub(super) type Reads = SmallVec<[(u32, u8); 8]>;

/// One shared plan and the reads it was built from.
struct Cached {
    reads: Reads,
    spec: Arc<SourceSpec>,
}

/// Per source, up to [`SLOTS`] plans, filled on first use (see the module doc). Held by the
/// [`Engine`](crate::engine::Engine); `Send + Sync`.
pub(crate) struct SharedPlans {
    sources: Memo<[OnceLock<Cached>; SLOTS]>,
}

impl SharedPlans {
    /// No plan yet for any of `sources` sources.
    pub(crate) fn new(sources: usize) -> Self {
        SharedPlans {
            sources: Memo::new(sources),
        }
    }

    /// Source `index`'s plan for `session`'s user: a shared one whose reads all hold for this
    /// user, else a new one (kept if a slot is free).
    pub(super) fn plan(
        &self,
        session: &Session<'_>,
        index: usize,
        plan: &SourcePlan,
        meta: &SourceMeta,
    ) -> Arc<SourceSpec> {
        let slots = self
            .sources
            .get_or_init(index, || [const { OnceLock::new() }; SLOTS]);
        let Some(slots) = slots else {
            return Arc::new(session.specialise(plan, meta).0);
        };
        for slot in slots {
            match slot.get() {
                Some(c) if holds(&c.reads, session) => return Arc::clone(&c.spec),
                Some(_) => {}
                None => break,
            }
        }
        let (spec, reads) = session.specialise(plan, meta);
        let spec = Arc::new(spec);
        let mut entry = Cached {
            reads,
            spec: Arc::clone(&spec),
        };
        for slot in slots {
            match slot.set(entry) {
                Ok(()) => break,
                Err(back) => entry = back,
            }
        }
        spec
    }

    /// How many plans are shared, over all sources.
    pub(crate) fn count(&self) -> usize {
        self.sources
            .filled()
            .map(|(_, slots)| slots.iter().filter(|s| s.get().is_some()).count())
            .sum()
    }
}

/// Whether every recorded read gives the same value for `session`'s user.
fn holds(reads: &Reads, session: &Session<'_>) -> bool {
    reads
        .iter()
        .all(|&(p, value)| encode(session.user_tri(p)) == value)
}

impl fmt::Debug for SharedPlans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedPlans")
            .field("plans", &self.count())
            .finish()
    }
}
