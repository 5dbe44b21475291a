//! A source's k-anonymity ([`KAnonymityPlan`]) in a session: batches of rows are masked, then
//! made k-anonymous over the quasi-identifiers ([`k_anonymize`]); a single row cannot be, so
//! the single-row entry points null its quasi-identifiers (fail closed).
//!
//! An exempt user sees every row clear, as for every other rule; a grant does not lift
//! k-anonymity (the granted record's quasi-identifiers are generalised with the batch).

use serde_json::{Map, Value as Json};

use super::{Derive, SourceSession};
use crate::bundle::KAnonymityPlan;
use crate::engine::explain::RowExplanation;
use crate::techniques::k_anonymity::{
    k_anonymize, Hierarchy, KAnonymity, KAnonymityReport, QuasiIdentifier,
};
use crate::value::{ColumnType, Value};

/// Rows masked as one batch: the shown rows, and what k-anonymity did to them (`None` when the
/// source asks for none, or the user is exempt).
#[derive(Clone, Debug, PartialEq)]
pub struct MaskedRows<R> {
    /// The shown rows, in input order.
    pub rows: Vec<R>,
    /// The generalisation levels and suppressed rows, when k-anonymity applied.
    pub k_anonymity: Option<KAnonymityReport>,
}

impl<'s> SourceSession<'s> {
    /// The source's k-anonymity plan, if it has one and applies to this user (not exempt).
    fn k_plan(&self) -> Option<&'s KAnonymityPlan> {
        if self.spec.exempt {
            return None;
        }
        let bundle = &self.session.engine().bundle;
        bundle
            .k_anonymity
            .iter()
            .find(|p| p.source as usize == self.index)
    }

    /// The k-anonymity this user's batches get: `k` and the quasi-identifier columns, in the
    /// order of the policy. `None` when the source has none or the user is exempt.
    pub fn k_anonymity(&self) -> Option<(usize, Vec<&'s str>)> {
        let plan = self.k_plan()?;
        let names = plan
            .columns
            .iter()
            .filter_map(|&c| self.plan.columns.get(c as usize))
            .map(|c| c.name.as_str())
            .collect();
        Some((plan.k as usize, names))
    }

    /// Per quasi-identifier: its position among the output's top-level columns and its type.
    fn quasi_positions(&self, plan: &KAnonymityPlan) -> Vec<(usize, &'s ColumnType)> {
        plan.columns
            .iter()
            .filter_map(|&c| {
                let pos = self.meta.top.iter().position(|&f| f == c)?;
                let ty = &self.plan.columns.get(c as usize)?.ty;
                Some((pos, ty))
            })
            .collect()
    }

    /// A single row's quasi-identifiers nulled: a row alone cannot be k-anonymous for k ≥ 2.
    pub(super) fn suppress_quasi(&self, out: &mut [Value]) {
        let Some(plan) = self.k_plan() else { return };
        for (pos, _) in self.quasi_positions(plan) {
            if let Some(v) = out.get_mut(pos) {
                *v = Value::Null;
            }
        }
    }

    /// An explanation of one row shows the quasi-identifiers as the row alone is masked: null.
    pub(super) fn suppress_explained(&self, e: &mut RowExplanation) {
        let Some((_, names)) = self.k_anonymity() else {
            return;
        };
        for cell in &mut e.cells {
            let quasi = names.iter().any(|n| {
                cell.column == *n
                    || cell
                        .column
                        .strip_prefix(n)
                        .is_some_and(|rest| rest.starts_with('.'))
            });
            if quasi && cell.value.is_some() {
                cell.value = Some(Json::Null);
            }
        }
    }

    /// Makes masked rows (one value per top-level column) k-anonymous in place. `hierarchy`
    /// chooses each quasi-identifier's generalisation from its declared type.
    pub(crate) fn k_anonymize_rows(
        &self,
        rows: &mut [Vec<Value>],
        hierarchy: fn(&ColumnType) -> Hierarchy,
    ) -> Option<KAnonymityReport> {
        let plan = self.k_plan()?;
        let quasi: Vec<QuasiIdentifier> = self
            .quasi_positions(plan)
            .into_iter()
            .map(|(pos, ty)| QuasiIdentifier::new(pos, hierarchy(ty)))
            .collect();
        match k_anonymize(rows, &KAnonymity::new(plan.k as usize), &quasi) {
            Ok(report) => Some(report),
            // Cannot happen for a verified plan (k ≥ 2, distinct positions in every row); if it
            // did, nothing is shown of the quasi-identifiers.
            Err(_) => {
                for row in rows.iter_mut() {
                    for q in &quasi {
                        if let Some(v) = row.get_mut(q.column) {
                            *v = Value::Null;
                        }
                    }
                }
                Some(KAnonymityReport {
                    levels: vec![0; quasi.len()],
                    suppressed: (0..rows.len()).collect(),
                })
            }
        }
    }

    /// Masks typed rows (each as for [`mask_values`](Self::mask_values)) as one batch: the shown
    /// rows, made k-anonymous over the source's quasi-identifiers when it declares k-anonymity.
    pub fn mask_values_rows(&self, rows: &[Vec<Value>]) -> MaskedRows<Vec<Value>> {
        let mut out: Vec<Vec<Value>> = rows
            .iter()
            .filter_map(|row| {
                let state = self.decode_values(row, Derive::Needed);
                self.count_mismatches(&state);
                self.shown(&state, None)
                    .then(|| self.mask(&state, None, self.reveal(&state)))
            })
            .collect();
        let k_anonymity = self.k_anonymize_rows(&mut out, Hierarchy::for_type);
        MaskedRows {
            rows: out,
            k_anonymity,
        }
    }

    /// Masks JSON rows (each as for [`mask_row`](Self::mask_row)) as one batch: the shown rows,
    /// made k-anonymous over the source's quasi-identifiers when it declares k-anonymity.
    pub fn mask_rows(&self, rows: &[Map<String, Json>]) -> MaskedRows<Map<String, Json>> {
        let mut out: Vec<Vec<Value>> = rows
            .iter()
            .filter_map(|row| {
                let state = self.decode_json(row, Derive::Needed);
                self.count_mismatches(&state);
                self.shown(&state, None)
                    .then(|| self.mask(&state, None, self.reveal(&state)))
            })
            .collect();
        let k_anonymity = self.k_anonymize_rows(&mut out, Hierarchy::for_type);
        let names = self.columns();
        MaskedRows {
            rows: out
                .into_iter()
                .map(|values| {
                    names
                        .iter()
                        .zip(values)
                        .map(|(n, v)| ((*n).to_owned(), v.to_json()))
                        .collect()
                })
                .collect(),
            k_anonymity,
        }
    }
}
