//! `k_anonymize(k, columns…)`: a batch API that generalises or nulls the quasi-identifiers of
//! a batch of rows so that every combination of quasi-identifier values shown occurs in at
//! least `k` rows of the batch.
//!
//! # Algorithm
//!
//! A greedy full-domain generalisation with suppression, in the style of Sweeney's *Datafly*:
//!
//! 1. Each quasi-identifier has a [`Hierarchy`] of generalisation levels: level 0 is the value
//!    itself, each further level is coarser (wider numeric ranges, shorter text prefixes,
//!    month → year → decade for dates), and the level after the last is null. Every row of a
//!    column is generalised to the *same* level (full-domain generalisation), so values stay
//!    comparable across rows.
//! 2. Starting with every column at level 0, the rows are grouped by their generalised
//!    quasi-identifier tuple. Rows in groups smaller than `k` are *outliers*.
//! 3. If there are no outliers, the algorithm stops. If there are no more outliers than the
//!    suppression budget ([`KAnonymity::max_suppressed`], `k` rows by default) and they are a
//!    minority of the batch (fewer than half its rows), the outliers' quasi-identifiers are all
//!    set to null (the rows themselves, and their other columns, are kept) and the algorithm
//!    stops: a few unusual rows do not force the whole batch to be generalised, and a batch
//!    whose rows are mostly outliers is generalised rather than mostly suppressed.
//! 4. Otherwise the column with the most distinct generalised values (ties: the first
//!    column) is raised one level, and the algorithm goes back to step 2. When every column
//!    is null, every row is in one group, so the algorithm always ends, after at most the sum
//!    of the hierarchies' lengths plus one rounds of O(rows × columns) work.
//!
//! The result: every row's quasi-identifier tuple either occurs in at least `k` rows, or is
//! entirely null (a suppressed row, or one whose quasi-identifiers were all null to begin
//! with — an all-null tuple reveals nothing). An input that is already k-anonymous is returned
//! unchanged, and a batch with a few outliers loses only those rows' quasi-identifiers. A
//! batch of fewer than `k` rows cannot be k-anonymous with any value shown: every
//! quasi-identifier ends up null (by generalisation to the null level, or by suppression).
//!
//! Values are grouped by type and [canonical text](Value::canonical_text), so the int `1` and
//! the text `"1"` are different values. A value that a hierarchy cannot generalise (a text in
//! a numeric hierarchy, say) becomes null from level 1 on.

use std::collections::HashMap;
use std::fmt;

use chrono::Datelike;

use super::generalize;
use crate::value::{ColumnType, Value};

/// How one quasi-identifier is generalised, level by level.
#[derive(Clone, Debug, PartialEq)]
pub enum Hierarchy {
    /// Numbers (int, decimal) become ranges `lo-hi` (as the `range` technique) of these
    /// widths, one level each, in order (they should grow, e.g. `[5, 10, 20, 50, 100]`).
    Ranges(Vec<f64>),
    /// Texts keep their first `n` characters and every later character becomes `*` (length
    /// kept), for each `n` in order (they should shrink, e.g. `[4, 3, 2, 1]` for zip codes).
    Prefixes(Vec<usize>),
    /// Dates and timestamps become `YYYY-MM`, then `YYYY`, then the decade `1980-1990`.
    Dates,
    /// No intermediate level: the value, or null.
    Suppress,
}

impl Hierarchy {
    /// A default hierarchy for a column type: ranges of widths 5, 10, 20, 50, 100, 1000 for
    /// numbers; prefixes down to one character for text (up to 64 characters); month, year,
    /// decade for dates and timestamps; suppression only for everything else (enums, bools…).
    pub fn for_type(ty: &ColumnType) -> Hierarchy {
        match ty {
            ColumnType::Int | ColumnType::Decimal => {
                Hierarchy::Ranges(vec![5.0, 10.0, 20.0, 50.0, 100.0, 1000.0])
            }
            ColumnType::Text => Hierarchy::Prefixes((1..64).rev().collect()),
            ColumnType::Date | ColumnType::Timestamp => Hierarchy::Dates,
            _ => Hierarchy::Suppress,
        }
    }

    /// The number of generalising levels above level 0, null excluded.
    fn depth(&self) -> usize {
        match self {
            Hierarchy::Ranges(w) => w.len(),
            Hierarchy::Prefixes(n) => n.len(),
            Hierarchy::Dates => 3,
            Hierarchy::Suppress => 0,
        }
    }

    /// `value` at `level` (0 = itself, `depth() + 1` = null).
    fn generalise(&self, value: &Value, level: usize) -> Value {
        if level == 0 || value.is_null() {
            return value.clone();
        }
        let step = level - 1;
        match (self, value) {
            (Hierarchy::Ranges(widths), Value::Int(_) | Value::Decimal(_)) => widths
                .get(step)
                .and_then(|w| generalize::range(value, *w).ok())
                .unwrap_or(Value::Null),
            (Hierarchy::Prefixes(lengths), Value::Text(s)) => match lengths.get(step) {
                Some(&n) => Value::Text(
                    s.chars()
                        .enumerate()
                        .map(|(i, c)| if i < n { c } else { '*' })
                        .collect(),
                ),
                None => Value::Null,
            },
            (Hierarchy::Dates, Value::Date(_) | Value::Timestamp(_)) => {
                let (year, month) = match value {
                    Value::Date(d) => (d.year(), d.month()),
                    Value::Timestamp(t) => (t.year(), t.month()),
                    _ => return Value::Null,
                };
                match step {
                    0 => Value::Text(format!("{year:04}-{month:02}")),
                    1 => Value::Text(format!("{year:04}")),
                    2 => {
                        let lo = year.div_euclid(10) * 10;
                        Value::Text(format!("{lo}-{}", lo + 10))
                    }
                    _ => Value::Null,
                }
            }
            _ => Value::Null,
        }
    }
}

/// One quasi-identifier: a position in the rows, and its hierarchy.
#[derive(Clone, Debug, PartialEq)]
pub struct QuasiIdentifier {
    /// The column's position in each row.
    pub column: usize,
    /// How it is generalised.
    pub hierarchy: Hierarchy,
}

impl QuasiIdentifier {
    /// A quasi-identifier at `column` with `hierarchy`.
    pub fn new(column: usize, hierarchy: Hierarchy) -> Self {
        QuasiIdentifier { column, hierarchy }
    }
}

/// The parameters of [`k_anonymize`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KAnonymity {
    /// Every combination shown occurs at least this many times (at least 1).
    pub k: usize,
    /// How many outlier rows may have their quasi-identifiers nulled instead of generalising
    /// further.
    pub max_suppressed: usize,
}

impl KAnonymity {
    /// `k`, with a suppression budget of `k` rows.
    pub fn new(k: usize) -> Self {
        KAnonymity {
            k,
            max_suppressed: k,
        }
    }
}

/// What [`k_anonymize`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KAnonymityReport {
    /// The generalisation level chosen for each quasi-identifier, in the order given (0 =
    /// unchanged; one more than the hierarchy's length = null).
    pub levels: Vec<usize>,
    /// The rows whose quasi-identifiers were nulled by suppression, in order.
    pub suppressed: Vec<usize>,
}

/// Why [`k_anonymize`] could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KAnonymityError {
    /// `k` is 0.
    ZeroK,
    /// A quasi-identifier names a position past the end of a row.
    NoSuchColumn {
        /// The position.
        column: usize,
        /// The first row too short for it.
        row: usize,
    },
    /// The same column is listed twice.
    DuplicateColumn(usize),
}

impl fmt::Display for KAnonymityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KAnonymityError::ZeroK => f.write_str("k must be at least 1"),
            KAnonymityError::NoSuchColumn { column, row } => write!(
                f,
                "quasi-identifier column {column} is past the end of row {row}"
            ),
            KAnonymityError::DuplicateColumn(c) => {
                write!(f, "quasi-identifier column {c} is listed twice")
            }
        }
    }
}

impl std::error::Error for KAnonymityError {}

/// A value's grouping key: its type and canonical text (`None` for null).
fn group_key(v: &Value) -> Option<String> {
    (!v.is_null()).then(|| format!("{}:{}", v.type_name(), v.canonical_text()))
}

/// Generalises or nulls the quasi-identifiers of `rows` in place (see the [module
/// documentation](self) for the algorithm). Other columns are never changed; no row is added
/// or removed.
#[expect(
    clippy::indexing_slicing,
    reason = "every row was checked to have each quasi-identifier's column above; `current` has one column per quasi-identifier, `levels` one level per quasi-identifier, and each column one value per row"
)]
pub fn k_anonymize(
    rows: &mut [Vec<Value>],
    params: &KAnonymity,
    quasi: &[QuasiIdentifier],
) -> Result<KAnonymityReport, KAnonymityError> {
    if params.k == 0 {
        return Err(KAnonymityError::ZeroK);
    }
    for (i, q) in quasi.iter().enumerate() {
        if quasi[..i].iter().any(|p| p.column == q.column) {
            return Err(KAnonymityError::DuplicateColumn(q.column));
        }
        if let Some(row) = rows.iter().position(|r| r.len() <= q.column) {
            return Err(KAnonymityError::NoSuchColumn {
                column: q.column,
                row,
            });
        }
    }
    let mut levels = vec![0usize; quasi.len()];
    // Per quasi-identifier and level, each row's generalised value (computed lazily).
    let generalised = |q: &QuasiIdentifier, level: usize| -> Vec<Value> {
        let null_level = q.hierarchy.depth() + 1;
        rows.iter()
            .map(|r| {
                if level >= null_level {
                    Value::Null
                } else {
                    q.hierarchy.generalise(&r[q.column], level)
                }
            })
            .collect()
    };
    let mut current: Vec<Vec<Value>> = quasi.iter().map(|q| generalised(q, 0)).collect();
    let suppressed = loop {
        let keys: Vec<Vec<Option<String>>> = (0..rows.len())
            .map(|r| current.iter().map(|col| group_key(&col[r])).collect())
            .collect();
        let mut sizes: HashMap<&[Option<String>], usize> = HashMap::new();
        for k in &keys {
            *sizes.entry(k.as_slice()).or_insert(0) += 1;
        }
        let outliers: Vec<usize> = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.iter().any(Option::is_some) && sizes[k.as_slice()] < params.k)
            .map(|(i, _)| i)
            .collect();
        if outliers.is_empty()
            || (outliers.len() <= params.max_suppressed && 2 * outliers.len() < rows.len())
        {
            break outliers;
        }
        // Raise the column with the most distinct generalised values that can still rise.
        let mut best: Option<(usize, usize)> = None;
        for (qi, q) in quasi.iter().enumerate() {
            if levels[qi] > q.hierarchy.depth() {
                continue;
            }
            let mut distinct: Vec<Option<String>> = current[qi].iter().map(group_key).collect();
            distinct.sort();
            distinct.dedup();
            let better = match best {
                None => true,
                Some((_, n)) => distinct.len() > n,
            };
            if better {
                best = Some((qi, distinct.len()));
            }
        }
        match best {
            Some((qi, _)) => {
                levels[qi] += 1;
                current[qi] = generalised(&quasi[qi], levels[qi]);
            }
            // Every column is null: no outlier is left (all tuples are all-null).
            None => break Vec::new(),
        }
    };
    for &r in &suppressed {
        for col in current.iter_mut() {
            col[r] = Value::Null;
        }
    }
    for (q, col) in quasi.iter().zip(current) {
        for (row, v) in rows.iter_mut().zip(col) {
            row[q.column] = v;
        }
    }
    Ok(KAnonymityReport { levels, suppressed })
}
