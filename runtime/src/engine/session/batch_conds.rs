//! Row-dependent conditions a batch evaluates column-at-a-time: a comparison of a stored
//! top-level column with a value fixed for the session (`row.team == user.team`,
//! `row.country == "US"`), which the session already evaluates without the interpreter. A row
//! filter or a row-dependent column decision made only of such conditions (and user-only ones)
//! needs no row path: its conditions are one [`Tri`] per row, read straight from the column.

use super::{decide_body, Act, ColSpec, RuleCheck, SourceSession};
use crate::bundle::{Audience, RowFilter};
use crate::engine::Prepared;
use crate::program::Tri;
use crate::value::Value;

/// A condition as a batch evaluates it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum BatchCond {
    /// The same on every row (a user-only condition).
    Const(Tri),
    /// `cell == operand` (or `!=`) on the stored top-level column at row position `pos`; a
    /// null, missing or non-conforming cell, or a null operand, makes it unknown.
    Compare {
        /// The column's row position.
        pos: usize,
        /// `!=`.
        negate: bool,
        /// The session's side (`None`: missing or null).
        operand: Option<Value>,
    },
}

impl BatchCond {
    /// The condition on a cell already conformed to its column's type (`None`: null or
    /// mismatched), as the session's comparison computes it.
    pub(crate) fn on_value(&self, cell: Option<&Value>) -> Tri {
        match self {
            BatchCond::Const(t) => *t,
            BatchCond::Compare {
                negate, operand, ..
            } => {
                let t = crate::program::interp::eq_tri(cell, operand.as_ref());
                if *negate {
                    !t
                } else {
                    t
                }
            }
        }
    }

    /// The condition on a non-null text cell of a `text` column (which always conforms).
    pub(crate) fn on_text(&self, s: &str) -> Tri {
        match self {
            BatchCond::Compare {
                negate,
                operand: Some(Value::Text(o)),
                ..
            } => {
                let t = Tri::from_bool(s == o);
                if *negate {
                    !t
                } else {
                    t
                }
            }
            _ => self.on_value(Some(&Value::Text(s.to_owned()))),
        }
    }
}

impl SourceSession<'_> {
    /// Program `p` as a batch condition, if it is user-only or a comparison of a stored
    /// top-level column with a value fixed for the session.
    pub(crate) fn batch_cond(&self, p: u32) -> Option<BatchCond> {
        if let Some(t) = self.session.user_tri(p) {
            return Some(BatchCond::Const(t));
        }
        let (c, operand) = self.session.compared.comparison(p)?;
        let path = self.meta.paths.get(c.column as usize)?;
        let col = self.plan.columns.get(c.column as usize)?;
        if !path.steps.is_empty() || col.derived.is_some() {
            return None;
        }
        Some(BatchCond::Compare {
            pos: path.top as usize,
            negate: c.negate,
            operand: operand.filter(|v| !v.is_null()).cloned(),
        })
    }

    /// The programs of the row rules, if every check left to the rows is `only show rows where
    /// C` with C a batch condition (see [`batch_cond`](Self::batch_cond)).
    pub(crate) fn row_conds(&self) -> Option<Vec<u32>> {
        self.spec
            .checks
            .iter()
            .map(|check| match check {
                RuleCheck::Filter(RowFilter::Where(p)) => self.batch_cond(*p).map(|_| *p),
                _ => None,
            })
            .collect()
    }

    /// The programs deciding flat column `f` row by row, if it is a stored top-level column
    /// without fields whose remaining candidates read only batch conditions and mask only with
    /// built-in techniques: then the batch decides it per row from those conditions alone.
    pub(crate) fn decision_conds(&self, f: u32) -> Option<Vec<u32>> {
        let col = self.plan.columns.get(f as usize)?;
        let has_fields = !self.meta.children.get(f as usize)?.is_empty();
        if col.derived.is_some() || col.parent.is_some() || has_fields {
            return None;
        }
        let Some(ColSpec::Dyn(which)) = self.spec.columns.get(f as usize) else {
            return None;
        };
        let techniques = &self.session.engine.techniques;
        let mut programs = Vec::new();
        for &k in which {
            let cand = col.candidates.get(k as usize)?;
            programs.extend(cand.where_);
            for (aud, t) in &cand.body.clauses {
                match aud {
                    Audience::Everyone => {}
                    Audience::Except(p) | Audience::Who(p) => programs.push(*p),
                }
                if !matches!(techniques.get(*t as usize), Some(Prepared::Builtin(_))) {
                    return None;
                }
            }
            if let Some(Some(t)) = cand.body.otherwise {
                if !matches!(techniques.get(t as usize), Some(Prepared::Builtin(_))) {
                    return None;
                }
            }
        }
        for p in &programs {
            self.batch_cond(*p)?;
        }
        Some(programs)
    }

    /// The decision of flat column `f` (left to each row by the session) given its conditions'
    /// values on the row, as the row path decides it.
    pub(crate) fn decide_by(&self, f: u32, cond: &mut dyn FnMut(u32) -> Tri) -> Act {
        let (Some(ColSpec::Dyn(which)), Some(c)) = (
            self.spec.columns.get(f as usize),
            self.plan.columns.get(f as usize),
        ) else {
            return Act::Null;
        };
        for &k in which {
            let Some(cand) = c.candidates.get(k as usize) else {
                continue;
            };
            let w = cand.where_.map(&mut *cond);
            if w == Some(Tri::False) {
                continue;
            }
            return decide_body(k, cand, w, cond).act;
        }
        Act::Clear
    }
}
