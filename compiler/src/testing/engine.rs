//! The runtime engine as a [`RowEvaluator`]: the path an application uses.

use super::{RowEvaluator, RowOutcome};
use chrono::{DateTime, Utc};
use pol_runtime::Engine;
use serde_json::{Map, Value as Json};

/// Evaluates rows with a loaded [`Engine`].
pub struct EngineEvaluator {
    /// The engine (a bundle lowered from the policy set, with its keys).
    pub engine: Engine,
}

impl RowEvaluator for EngineEvaluator {
    fn evaluate(
        &self,
        source: &str,
        subject: &Json,
        now: DateTime<Utc>,
        row: &Map<String, Json>,
        parents: &[(&str, &Map<String, Json>)],
    ) -> Result<RowOutcome, String> {
        let mut session = self
            .engine
            .session(subject, now)
            .map_err(|e| e.to_string())?;
        for (parent, r) in parents {
            session.link_rows(parent, [*r]).map_err(|e| e.to_string())?;
        }
        let src = session
            .source(source)
            .ok_or_else(|| format!("the bundle has no source `{source}`"))?;
        let cells = src.mask_json(row);
        Ok(RowOutcome {
            shown: cells.is_some(),
            cells,
            visible: src
                .visible_columns()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        })
    }
}
