//! The k-anonymity a source enforces (`k_anonymity K over a, b` in a policy): a section of the
//! bundle from format version 3 on.
//!
//! Whether a row's quasi-identifiers may be shown depends on the other rows shown with it, so
//! the engine enforces it per batch ([`crate::engine::SourceSession::mask_rows`] and the
//! batch paths built on it); a single-row API cannot meet k ≥ 2 and nulls the quasi-identifiers
//! instead (fail closed).

use serde::{Deserialize, Serialize};

use super::verify::{Table, VerifyError};
use super::Bundle;
use crate::value::ColumnType;

/// One source's k-anonymity requirement.
///
/// Serialised: fields are append-only (see [`Bundle`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KAnonymityPlan {
    /// The source's index in [`Bundle::sources`].
    pub source: u32,
    /// Every combination of quasi-identifier values shown occurs in at least `k` rows of the
    /// batch (at least 2).
    pub k: u32,
    /// The quasi-identifiers: top-level columns of the source (indices into its columns), of a
    /// scalar type, each once, at least one.
    pub columns: Vec<u32>,
}

/// Checks the k-anonymity section: indices, k ≥ 2, one plan per source, top-level scalar
/// columns listed once.
pub(super) fn verify(b: &Bundle) -> Result<(), VerifyError> {
    let mut seen = Vec::new();
    for (i, plan) in b.k_anonymity.iter().enumerate() {
        let at = format!("k-anonymity {i}");
        let source = b
            .sources
            .get(plan.source as usize)
            .ok_or_else(|| VerifyError::BadIndex {
                table: Table::Source,
                index: plan.source,
                len: b.sources.len(),
                at: at.clone(),
            })?;
        let fail = |message: &str| VerifyError::Structure {
            at: at.clone(),
            message: message.to_owned(),
        };
        if seen.contains(&plan.source) {
            return Err(fail("a second k-anonymity plan for the same source"));
        }
        seen.push(plan.source);
        if plan.k < 2 {
            return Err(fail("k must be at least 2"));
        }
        if plan.columns.is_empty() {
            return Err(fail("no quasi-identifier column"));
        }
        for (j, &c) in plan.columns.iter().enumerate() {
            let column = source
                .columns
                .get(c as usize)
                .ok_or_else(|| VerifyError::BadIndex {
                    table: Table::Column,
                    index: c,
                    len: source.columns.len(),
                    at: at.clone(),
                })?;
            if column.parent.is_some() {
                return Err(fail("a quasi-identifier is a struct field"));
            }
            if matches!(column.ty, ColumnType::Struct(_) | ColumnType::List(_)) {
                return Err(fail("a quasi-identifier is a struct or a list"));
            }
            if plan
                .columns
                .get(..j)
                .is_some_and(|before| before.contains(&c))
            {
                return Err(fail("a quasi-identifier is listed twice"));
            }
        }
    }
    Ok(())
}
