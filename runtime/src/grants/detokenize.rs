//! `allow detokenize`: returning the original of a `tokenize` or `format_preserving` value to
//! a permitted user.
//!
//! # Keys and rotation
//!
//! Keys are given to the engine ([`Engine::load`](crate::Engine::load) takes a [`KeyRing`]
//! built from a key file or bytes), never written in a policy or bundle. Every token names the
//! key that made it (`tok_<keyid>_…`), so tokens made under a key that was rotated out stay
//! reversible as long as that key is kept in the ring as a *retired* key
//! ([`KeyRing::add_retired`]). Format-preserving ciphertexts have no room for a key id: they
//! are decrypted with the ring's *active* key, so they must be re-encrypted (or decrypted with
//! [`format_preserving_decrypt_with`](crate::format_preserving_decrypt_with) and the old key)
//! when the active key changes — decrypting under the wrong key gives a wrong value of the
//! same shape, not an error (FF1 is unauthenticated). See [`crate::keys`].
//!
//! [`KeyRing`]: crate::KeyRing
//! [`KeyRing::add_retired`]: crate::KeyRing::add_retired

use std::fmt;

use super::{allows, login, GrantService};
use crate::audit::{AuditAction, AuditError, AuditRecord, RequestKind};
use crate::bundle::{Bundle, ColumnPlan, GrantKind, TechniquePlan};
use crate::engine::{Engine, SubjectError};
use crate::keys::KeyRing;
use crate::techniques::{self, Technique, TechniqueError};
use chrono::{DateTime, Utc};

/// Why a value was not detokenized.
#[derive(Debug)]
pub enum DetokenizeError {
    /// The policy does not allow this user to detokenize this column (or the column does not
    /// exist); the message says why. The refusal was audited.
    Refused(String),
    /// The value cannot be reversed: not a token, made under a key the engine does not hold,
    /// altered, or the column is not masked by a reversible technique. Audited as a refusal.
    Failed(String),
    /// The subject is not a JSON object.
    Subject(SubjectError),
    /// The audit sink failed: the original is not returned.
    Audit(AuditError),
}

impl fmt::Display for DetokenizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetokenizeError::Refused(m) => write!(f, "detokenize refused: {m}"),
            DetokenizeError::Failed(m) => write!(f, "cannot detokenize: {m}"),
            DetokenizeError::Subject(e) => e.fmt(f),
            DetokenizeError::Audit(e) => write!(f, "detokenize not done: {e}"),
        }
    }
}

impl std::error::Error for DetokenizeError {}

/// Which reversible techniques may have produced a column's masked values.
#[derive(Default)]
struct Reversible {
    tokenize: bool,
    format_preserving: bool,
    /// The column is an `int`: its `format_preserving` values are ints, written in decimal.
    int: bool,
}

fn reversible(bundle: &Bundle, column: &ColumnPlan) -> Reversible {
    let mut r = Reversible {
        int: matches!(column.ty, crate::value::ColumnType::Int),
        ..Reversible::default()
    };
    let visit = |t: u32, r: &mut Reversible| match bundle.techniques.get(t as usize) {
        Some(TechniquePlan::Builtin(Technique::Tokenize)) => r.tokenize = true,
        Some(TechniquePlan::Builtin(Technique::FormatPreserving)) => r.format_preserving = true,
        _ => {}
    };
    for cand in &column.candidates {
        let techniques = cand
            .body
            .clauses
            .iter()
            .map(|(_, t)| *t)
            .chain(cand.body.otherwise.flatten());
        for t in techniques {
            visit(t, &mut r);
            if let Some(TechniquePlan::ByLevel { entries }) = bundle.techniques.get(t as usize) {
                for (_, e) in entries {
                    visit(*e, &mut r);
                }
            }
        }
    }
    r
}

enum Outcome {
    Refused(String),
    Failed(String),
}

impl GrantService {
    /// Returns the original of `masked`, a value of `source`.`column` (a dotted path for a
    /// nested field) produced by `tokenize` or `format_preserving`, if an `allow detokenize
    /// column source.column` rule allows `subject` (an unknown audience condition never does).
    ///
    /// A value starting with `tok_` is reversed as a token when a rule of the column tokenizes;
    /// otherwise, when a rule of the column uses `format_preserving`, it is decrypted with the
    /// active key and the column's tweak. The request is audited before the original is
    /// returned: a [`Detokenize`](AuditAction::Detokenize) record on success (the original
    /// itself is never written), a [`Refusal`](AuditAction::Refusal) otherwise; if the audit
    /// fails, the original is not returned.
    pub fn detokenize(
        &self,
        engine: &Engine,
        subject: &serde_json::Value,
        source: &str,
        column: &str,
        masked: &str,
        reason: &str,
    ) -> Result<String, DetokenizeError> {
        let request = (RequestKind::Detokenize, AuditAction::Detokenize);
        self.audited(
            engine,
            subject,
            (source, column),
            reason,
            request,
            |r, keys, _| {
                let failed = |e: TechniqueError| Outcome::Failed(e.to_string());
                let original = if r.tokenize && masked.starts_with("tok_") {
                    techniques::detokenize(masked, keys).map_err(failed)?
                } else if r.format_preserving && r.int {
                    let n = masked.parse::<i64>().map_err(|_| {
                        Outcome::Failed(format!("`{source}.{column}` is an int: {masked:?} is not"))
                    })?;
                    techniques::format_preserving_decrypt_int(n, source, column, keys)
                        .map_err(failed)?
                        .to_string()
                } else if r.format_preserving {
                    techniques::format_preserving_decrypt(masked, source, column, keys)
                        .map_err(failed)?
                } else if r.tokenize {
                    return Err(Outcome::Failed(format!(
                        "`{source}.{column}` is tokenized and this value is not a token"
                    )));
                } else {
                    return Err(Outcome::Failed(format!(
                        "no rule masks `{source}.{column}` with `tokenize` or `format_preserving`"
                    )));
                };
                Ok(original)
            },
        )
    }
}

impl GrantService {
    /// Tokenizes `value` as `source`.`column`'s masking would (`tokenize`, or
    /// `format_preserving` when the column uses it and not `tokenize`), for a `subject` that an
    /// `allow detokenize column source.column` rule allows: who may reverse a column's values
    /// may make them (a vault's tokenize call). Audited before the token is returned (a
    /// [`Tokenize`](AuditAction::Tokenize) record, or a refusal; the value is never written);
    /// if the audit fails, no token is returned.
    pub fn tokenize(
        &self,
        engine: &Engine,
        subject: &serde_json::Value,
        source: &str,
        column: &str,
        value: &str,
        reason: &str,
    ) -> Result<String, DetokenizeError> {
        let request = (RequestKind::Tokenize, AuditAction::Tokenize);
        self.audited(
            engine,
            subject,
            (source, column),
            reason,
            request,
            |r, keys, now| {
                let technique = if r.tokenize {
                    Technique::Tokenize
                } else if r.format_preserving {
                    Technique::FormatPreserving
                } else {
                    return Err(Outcome::Failed(format!(
                        "no rule masks `{source}.{column}` with `tokenize` or `format_preserving`"
                    )));
                };
                let ctx = techniques::MaskContext::new(source, column, now).with_keys(keys);
                let input = match value.parse::<i64>() {
                    Ok(n) if r.int && !r.tokenize => crate::value::Value::Int(n),
                    _ => crate::value::Value::Text(value.to_owned()),
                };
                match technique.apply(&input, &ctx) {
                    Ok(crate::value::Value::Text(t)) => Ok(t),
                    Ok(crate::value::Value::Int(n)) => Ok(n.to_string()),
                    Ok(_) => Err(Outcome::Failed("the technique gave no text".to_owned())),
                    Err(e) => Err(Outcome::Failed(e.to_string())),
                }
            },
        )
    }

    /// One request that an `allow detokenize` rule decides (detokenize or tokenize): the
    /// subject's session, the decision, `work` on the column's reversible techniques and the
    /// key ring, then the audit record — `allowed` on success, a refusal otherwise — written
    /// before the result is returned; if the audit fails, nothing is returned.
    fn audited(
        &self,
        engine: &Engine,
        subject: &serde_json::Value,
        (source, column): (&str, &str),
        reason: &str,
        (request, allowed): (RequestKind, AuditAction),
        work: impl FnOnce(Reversible, &KeyRing, DateTime<Utc>) -> Result<String, Outcome>,
    ) -> Result<String, DetokenizeError> {
        let now = self.clock.now();
        let session = engine
            .session(subject, now)
            .map_err(DetokenizeError::Subject)?;
        let mut record = AuditRecord {
            source: source.to_owned(),
            columns: vec![column.to_owned()],
            ..AuditRecord::refusal(now, login(session.subject()), request, reason)
        };
        let outcome = (|| -> Result<(String, String), Outcome> {
            let (si, flat, rule) = permitted(engine, &session, source, column)?;
            let bundle = engine.bundle();
            let keys = engine
                .keys()
                .ok_or_else(|| Outcome::Failed("the engine was given no key".to_owned()))?;
            let column = bundle
                .sources
                .get(si)
                .and_then(|s| s.columns.get(flat))
                .ok_or_else(|| Outcome::Refused(format!("there is no column `{column}`")))?;
            let r = reversible(bundle, column);
            Ok((work(r, keys, now)?, rule))
        })();
        match outcome {
            Ok((result, rule)) => {
                record.action = allowed;
                record.detail = format!("allowed by {rule}");
                self.audit.record(&record).map_err(DetokenizeError::Audit)?;
                Ok(result)
            }
            Err(Outcome::Refused(m)) => {
                record.detail = m.clone();
                self.audit.record(&record).map_err(DetokenizeError::Audit)?;
                Err(DetokenizeError::Refused(m))
            }
            Err(Outcome::Failed(m)) => {
                record.detail = m.clone();
                self.audit.record(&record).map_err(DetokenizeError::Audit)?;
                Err(DetokenizeError::Failed(m))
            }
        }
    }
}

/// The source index, flat column index and allowing rule of an `allow detokenize` decision.
fn permitted(
    engine: &Engine,
    session: &crate::engine::Session<'_>,
    source: &str,
    column: &str,
) -> Result<(usize, usize, String), Outcome> {
    let bundle = engine.bundle();
    let si = *engine
        .source_index
        .get(source)
        .ok_or_else(|| Outcome::Refused(format!("there is no source `{source}`")))?;
    let flat = engine
        .sources
        .get(si)
        .ok_or_else(|| Outcome::Refused(format!("there is no source `{source}`")))?
        .full_names
        .iter()
        .position(|n| n == column)
        .ok_or_else(|| Outcome::Refused(format!("source `{source}` has no column `{column}`")))?;
    let rule = bundle
        .grants
        .iter()
        .find(|g| {
            matches!(g.kind, GrantKind::Detokenize { source: s, column: c }
                if s as usize == si && c as usize == flat)
                && allows(session, g.audience)
        })
        .map(|g| {
            bundle
                .rules
                .get(g.rule as usize)
                .map(|r| r.name.clone())
                .unwrap_or_default()
        })
        .ok_or_else(|| {
            Outcome::Refused(format!(
                "no `allow detokenize` rule of `{source}.{column}` allows this user"
            ))
        })?;
    Ok((si, flat, rule))
}
