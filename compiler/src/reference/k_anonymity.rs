//! k-anonymity as the reference states it (`k_anonymity K over a, b`): the reference does not
//! choose generalisations (that is the runtime's search); it states what any batch the runtime
//! returns must be, and [`Reference::check_batch`] checks it:
//!
//! 1. the shown rows are those [`Reference::mask_row`] shows, in order, and every column that is
//!    not a quasi-identifier is exactly its [`Reference::mask_row_in_batch`] value;
//! 2. each quasi-identifier cell is that value, null, or a generalisation of it: the text with
//!    a tail of its characters replaced by `*` (same length), a range `lo-hi` of numbers with
//!    lo ≤ v < hi, a date's (or timestamp's) `YYYY-MM`, `YYYY` or decade `YYY0-YYY0+10`;
//! 3. every combination of quasi-identifier values that is not entirely null occurs in at
//!    least k of the shown rows.
//!
//! A user exempt on the source gets no k-anonymity (every rule is lifted); a single row's
//! quasi-identifiers are null.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::{Outcome, Reference, ReferenceError};
use crate::model::Ty;

/// The k-anonymity a source asks of this user's batches.
#[derive(Clone, Debug, PartialEq)]
pub struct Quasi {
    pub k: usize,
    /// The quasi-identifier columns, with their declared types.
    pub columns: Vec<(String, Ty)>,
}

impl Reference<'_> {
    /// The k-anonymity of `source` for `subject`: `None` when the source declares none or the
    /// subject is exempt on it.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id"
    )]
    pub fn quasi_identifiers(
        &self,
        source: &str,
        subject: &Json,
    ) -> Result<Option<Quasi>, ReferenceError> {
        let s = self.source_id(source)?;
        let Some(req) = self.model.k_anonymity_of(s) else {
            return Ok(None);
        };
        let subject = self.subject(subject)?;
        if self.exempt(s, &subject) {
            return Ok(None);
        }
        let src = &self.model.sources[s];
        let columns = req
            .columns
            .iter()
            .map(|&c| (src.columns[c].name.clone(), src.columns[c].ty.clone()))
            .collect();
        Ok(Some(Quasi { k: req.k, columns }))
    }

    /// Checks a batch the runtime masked (`output`, the shown rows) against the statement of
    /// the module documentation; `Err` says the first thing that does not hold.
    pub fn check_batch(
        &self,
        source: &str,
        subject: &Json,
        input: &[Map<String, Json>],
        output: &[Map<String, Json>],
    ) -> Result<(), String> {
        let err = |e: ReferenceError| e.to_string();
        let quasi = self.quasi_identifiers(source, subject).map_err(err)?;
        let mut expected = Vec::new();
        for row in input {
            if let Outcome::Shown(m) = self.mask_row_in_batch(source, subject, row).map_err(err)? {
                expected.push(m);
            }
        }
        if expected.len() != output.len() {
            return Err(format!(
                "{} rows shown, the reference shows {}",
                output.len(),
                expected.len()
            ));
        }
        let names: Vec<&str> = quasi
            .iter()
            .flat_map(|q| q.columns.iter().map(|(n, _)| n.as_str()))
            .collect();
        for (i, (want, got)) in expected.iter().zip(output).enumerate() {
            for (name, value) in want {
                let shown = got.get(name).unwrap_or(&Json::Null);
                let ok = if names.contains(&name.as_str()) {
                    shown.is_null() || shown == value || generalises(value, shown)
                } else {
                    shown == value
                };
                if !ok {
                    return Err(format!(
                        "row {i}, column `{name}`: {shown} where the reference masks {value}"
                    ));
                }
            }
        }
        let Some(quasi) = quasi else { return Ok(()) };
        let mut groups: HashMap<Vec<String>, usize> = HashMap::new();
        for row in output {
            let key = combination(row, &quasi);
            if key.iter().any(|v| v != "null") {
                *groups.entry(key).or_insert(0) += 1;
            }
        }
        match groups.iter().find(|(_, &n)| n < quasi.k) {
            Some((key, n)) => Err(format!(
                "the combination {key:?} occurs in {n} rows, fewer than k = {}",
                quasi.k
            )),
            None => Ok(()),
        }
    }
}

/// A row's quasi-identifier values, as JSON text.
fn combination(row: &Map<String, Json>, quasi: &Quasi) -> Vec<String> {
    quasi
        .columns
        .iter()
        .map(|(n, _)| row.get(n).unwrap_or(&Json::Null).to_string())
        .collect()
}

/// Whether `shown` is a generalisation of the masked value `value` (see the module docs).
fn generalises(value: &Json, shown: &Json) -> bool {
    let Json::String(g) = shown else { return false };
    match value {
        Json::String(v) => star_tail(v, g) || date_level(v, g),
        Json::Number(n) => n.as_f64().is_some_and(|x| in_range(x, g)),
        _ => false,
    }
}

/// `g` is `v` with a tail of its characters replaced by `*` (at least one).
fn star_tail(v: &str, g: &str) -> bool {
    let (vc, gc): (Vec<char>, Vec<char>) = (v.chars().collect(), g.chars().collect());
    if vc.len() != gc.len() {
        return false;
    }
    let kept = gc.iter().take_while(|c| **c != '*').count();
    kept < gc.len()
        && gc.iter().skip(kept).all(|c| *c == '*')
        && vc.iter().take(kept).eq(gc.iter().take(kept))
}

/// `g` is `lo-hi` with lo ≤ x < hi.
fn in_range(x: f64, g: &str) -> bool {
    let Some((lo, hi)) = split_range(g) else {
        return false;
    };
    lo <= x && x < hi
}

fn split_range(g: &str) -> Option<(f64, f64)> {
    // The low end may be negative: split at the `-` after the first character.
    let at = g.char_indices().skip(1).find(|(_, c)| *c == '-')?.0;
    let lo = g.get(..at)?.parse::<f64>().ok()?;
    let hi = g.get(at + 1..)?.parse::<f64>().ok()?;
    Some((lo, hi))
}

/// `g` is the month, the year or the decade of the date (or timestamp) text `v`.
fn date_level(v: &str, g: &str) -> bool {
    let (Some(year), Some(month)) = (v.get(..4), v.get(5..7)) else {
        return false;
    };
    let Ok(y) = year.parse::<i64>() else {
        return false;
    };
    let decade = y.div_euclid(10) * 10;
    g == format!("{year}-{month}") || g == year || g == format!("{decade}-{}", decade + 10)
}
