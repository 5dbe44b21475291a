//! `pol.Grants`: temporary unmask grants (with approval) and detokenization, over the runtime's
//! [`GrantService`]: a grant store and an audit trail (JSON-lines files, as `polc grants` and
//! `pol-server` keep them), every request audited by the runtime before it answers.

use std::sync::Arc;

use pol_runtime::grants::target::{open_both, Target};
use pol_runtime::grants::{
    ApprovalError, DetokenizeError, GrantService, Granted, Requested, Revoke, SessionError,
    SystemClock, UnmaskError, UnmaskRequest,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{GrantError, SubjectError, UnknownSourceError};
use crate::{values, Engine, SessionPy};

/// A grant store and an audit trail, shared by every user of an application.
#[pyclass(frozen, module = "pol", name = "Grants")]
pub struct Grants {
    service: GrantService,
}

fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn granted<'py>(py: Python<'py>, g: &Granted) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("state", "granted")?;
    d.set_item("id", &g.id)?;
    d.set_item("source", &g.source)?;
    d.set_item("key", &g.key)?;
    d.set_item("rule", &g.rule)?;
    d.set_item("until", time_text(g.until))?;
    Ok(d)
}

fn pending<'py>(py: Python<'py>, r: &UnmaskRequest, state: &str) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("state", state)?;
    d.set_item("id", &r.id)?;
    d.set_item("source", &r.source)?;
    d.set_item("key", &r.key)?;
    d.set_item("rule", &r.rule)?;
    d.set_item("requested_by", &r.requested_by)?;
    d.set_item("answer_by", time_text(r.answer_by))?;
    Ok(d)
}

/// A record key given as a Python value, as the key column's type of `source`.
fn record_key(
    engine: &pol_runtime::Engine,
    source: &str,
    key: &Bound<'_, PyAny>,
) -> PyResult<pol_runtime::Value> {
    let text = match values::to_json(key)? {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    engine.record_key(source, &text).map_err(|e| match e {
        pol_runtime::json::RecordKeyError::UnknownSource { .. } => {
            UnknownSourceError::new_err(format!("the bundle has no source `{source}`"))
        }
        other => GrantError::new_err(other.to_string()),
    })
}

#[pymethods]
impl Grants {
    /// Opens (creating if missing) the grant store `store` and the audit trail `audit`:
    /// JSON-lines files, the same files `polc grants` and `pol-server` use.
    #[new]
    fn new(py: Python<'_>, store: std::path::PathBuf, audit: std::path::PathBuf) -> PyResult<Self> {
        let (store, audit) = py
            .detach(|| open_both(&Target::File(store), &Target::File(audit), "pol", false))
            .map_err(|e| GrantError::new_err(e.to_string()))?;
        Ok(Grants {
            service: GrantService::new(store, audit, Arc::new(SystemClock)),
        })
    }

    /// Asks for a temporary unmask of the record of `source` whose key is `key`, for
    /// `subject`, with a justification: a dict with `state` `"granted"` (and `id`, `until`…),
    /// or `"pending"` when the rule that allows the subject needs approval (and `id`,
    /// `answer_by`). Audited either way. Raises GrantError when refused or not stored.
    fn request_unmask<'py>(
        &self,
        py: Python<'py>,
        engine: &Engine,
        subject: &Bound<'py, PyAny>,
        source: &str,
        key: &Bound<'py, PyAny>,
        reason: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let subject = values::to_json(subject)?;
        let key = record_key(&engine.inner, source, key)?;
        let answer = py.detach(|| {
            self.service
                .request(&engine.inner, &subject, source, &key, reason)
        });
        match answer {
            Ok(Requested::Granted(g)) => granted(py, &g),
            Ok(Requested::Pending(r)) => pending(py, &r, "pending"),
            Err(UnmaskError::Subject(e)) => Err(SubjectError::new_err(e.to_string())),
            Err(e) => Err(GrantError::new_err(e.to_string())),
        }
    }

    /// Approves the pending request `request_id` as `approver` (a subject the rule's
    /// approvers' condition holds for, not the requester): the grant, as a dict. Audited.
    fn approve<'py>(
        &self,
        py: Python<'py>,
        engine: &Engine,
        approver: &Bound<'py, PyAny>,
        request_id: &str,
        reason: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let approver = values::to_json(approver)?;
        let answer = py.detach(|| {
            self.service
                .approve(&engine.inner, &approver, request_id, reason)
        });
        granted(py, &answer.map_err(approval_error)?)
    }

    /// Denies the pending request `request_id` as `approver`: the request, as a dict with
    /// `state` `"denied"`. Audited.
    fn deny<'py>(
        &self,
        py: Python<'py>,
        engine: &Engine,
        approver: &Bound<'py, PyAny>,
        request_id: &str,
        reason: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let approver = values::to_json(approver)?;
        let answer = py.detach(|| {
            self.service
                .deny(&engine.inner, &approver, request_id, reason)
        });
        pending(py, &answer.map_err(approval_error)?, "denied")
    }

    /// Revokes the grant `grant_id` (`g-…`) that holds now, for `subject` (whoever may write
    /// the store may revoke; the revoker is audited): the ids revoked. Revoking nothing raises
    /// GrantError (audited as a refusal).
    fn revoke(
        &self,
        py: Python<'_>,
        subject: &Bound<'_, PyAny>,
        grant_id: &str,
        reason: &str,
    ) -> PyResult<Vec<String>> {
        let subject = values::to_json(subject)?;
        let which = Revoke::Id(grant_id.to_owned());
        py.detach(|| self.service.revoke(&subject, &which, reason))
            .map(|revoked| revoked.into_iter().map(|g| g.id).collect())
            .map_err(|e| GrantError::new_err(e.to_string()))
    }

    /// Opens a session for `subject` at `now` (default: the current time) with the temporary
    /// unmask grants that hold then: a granted record's cells are clear for every subject (row
    /// rules still apply); the first reveal of each record is audited.
    #[pyo3(signature = (engine, subject, now = None))]
    fn session(
        &self,
        engine: &Engine,
        subject: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SessionPy> {
        SessionPy::open(
            &engine.inner,
            subject,
            now,
            |engine, subject, now| self.service.session_at(engine, subject, now),
            |e| match e {
                SessionError::Subject(e) => SubjectError::new_err(e.to_string()),
                other => GrantError::new_err(other.to_string()),
            },
        )
    }

    /// The original of `masked`, a `tokenize` or `format_preserving` value of
    /// `source`.`column`, if an `allow detokenize` rule allows `subject`. Audited (the
    /// original is never written); raises GrantError when refused or not reversible.
    #[expect(
        clippy::too_many_arguments,
        reason = "the Python method's parameters, as `GrantService`'s plus the GIL token"
    )]
    fn detokenize(
        &self,
        py: Python<'_>,
        engine: &Engine,
        subject: &Bound<'_, PyAny>,
        source: &str,
        column: &str,
        masked: &str,
        reason: &str,
    ) -> PyResult<String> {
        self.reversible(py, subject, |service, subject| {
            service.detokenize(&engine.inner, subject, source, column, masked, reason)
        })
    }

    /// The token (or format-preserving ciphertext) masking would give `value` in
    /// `source`.`column`, for a subject an `allow detokenize` rule of the column allows.
    /// Audited; raises GrantError when refused.
    #[expect(
        clippy::too_many_arguments,
        reason = "the Python method's parameters, as `GrantService`'s plus the GIL token"
    )]
    fn tokenize(
        &self,
        py: Python<'_>,
        engine: &Engine,
        subject: &Bound<'_, PyAny>,
        source: &str,
        column: &str,
        value: &str,
        reason: &str,
    ) -> PyResult<String> {
        self.reversible(py, subject, |service, subject| {
            service.tokenize(&engine.inner, subject, source, column, value, reason)
        })
    }
}

impl Grants {
    /// Runs a detokenize or tokenize request for `subject` without the GIL.
    fn reversible(
        &self,
        py: Python<'_>,
        subject: &Bound<'_, PyAny>,
        request: impl FnOnce(&GrantService, &serde_json::Value) -> Result<String, DetokenizeError>
            + Send,
    ) -> PyResult<String> {
        let subject = values::to_json(subject)?;
        py.detach(|| request(&self.service, &subject))
            .map_err(detokenize_error)
    }
}

fn approval_error(e: ApprovalError) -> PyErr {
    GrantError::new_err(e.to_string())
}

fn detokenize_error(e: DetokenizeError) -> PyErr {
    match e {
        DetokenizeError::Subject(e) => SubjectError::new_err(e.to_string()),
        other => GrantError::new_err(other.to_string()),
    }
}
