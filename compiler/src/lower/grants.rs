//! Lowering `allow temporary unmask` and `allow detokenize` rules (§7) to the bundle's grants
//! table.
//!
//! A temporary unmask rule gives one [`GrantPlan`] per source its policy's scope covers; a
//! detokenize rule names its column. Audiences are user-only programs (`row` is forbidden in
//! grant audiences, which the checker enforces). Staged grants are not lowered unless the
//! resolution includes staged rules. Grants keep authored order: the runtime grants a request
//! by the first rule that allows the user.

use super::Lowerer;
use crate::model::{GrantAudience, GrantKind};
use pol_runtime::bundle::{self as rt, GrantPlan, RuleInfo};

impl Lowerer<'_, '_> {
    /// Every enforced grant of the model, in authored order.
    pub(super) fn grants(&mut self) -> Vec<GrantPlan> {
        let model = self.model;
        let mut out = Vec::new();
        for (gi, g) in model.grants.iter().enumerate() {
            if g.staged && !self.resolution.include_staged {
                continue;
            }
            let policy = &model.policies[g.policy];
            let (kinds, what) = match g.kind {
                GrantKind::TemporaryUnmask { seconds } => (
                    policy
                        .scope
                        .sources
                        .iter()
                        .map(|s| rt::GrantKind::TemporaryUnmask {
                            source: *s as u32,
                            seconds,
                        })
                        .collect::<Vec<_>>(),
                    format!("allow temporary unmask for {seconds}s"),
                ),
                GrantKind::Detokenize { source, column } => (
                    vec![rt::GrantKind::Detokenize {
                        source: source as u32,
                        column: column as u32,
                    }],
                    format!(
                        "allow detokenize column {}.{}",
                        model.sources[source].name, model.sources[source].columns[column].name
                    ),
                ),
            };
            if kinds.is_empty() {
                continue;
            }
            let audience = match &g.audience {
                GrantAudience::Everyone => rt::GrantAudience::Everyone,
                GrantAudience::Except(c) => rt::GrantAudience::Except(self.program(c, None)),
                GrantAudience::Who(c) => rt::GrantAudience::Who(self.program(c, None)),
            };
            let rule = self.tables.rule(
                format!("grant {gi}"),
                RuleInfo {
                    name: policy.name.clone(),
                    policy: policy.name.clone(),
                    description: policy.rationale.clone().unwrap_or(what),
                },
            );
            out.extend(kinds.into_iter().map(|kind| GrantPlan {
                rule,
                kind,
                audience,
            }));
        }
        out
    }
}
