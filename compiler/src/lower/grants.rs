//! Lowering `allow temporary unmask` and `allow detokenize` rules (§7) to the bundle's grants
//! table.
//!
//! A temporary unmask rule gives one [`GrantPlan`] per source its policy's scope covers; a
//! detokenize rule names its column. Audiences are user-only programs (`row` is forbidden in
//! grant audiences, which the checker enforces). Staged grants are not lowered unless the
//! resolution includes staged rules. Grants keep authored order: the runtime grants a request
//! by the first rule that allows the user.

use super::tables::RuleKey;
use super::Lowerer;
use crate::model::{GrantAudience, GrantKind};
use pol_runtime::bundle::{self as rt, GrantPlan, RuleInfo};

impl Lowerer<'_, '_> {
    /// Every enforced grant of the model, in authored order.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub(super) fn grants(&mut self) -> Vec<GrantPlan> {
        let model = self.model;
        let mut out = Vec::new();
        for (gi, g) in model.grants.iter().enumerate() {
            if g.staged && !self.resolution.include_staged {
                continue;
            }
            let policy = &model.policies[g.policy];
            self.file = Some(g.loc.file);
            let (kinds, what) = match &g.kind {
                GrantKind::TemporaryUnmask {
                    seconds,
                    approval: None,
                } => (
                    policy
                        .scope
                        .sources
                        .iter()
                        .map(|s| rt::GrantKind::TemporaryUnmask {
                            source: *s as u32,
                            seconds: *seconds,
                        })
                        .collect::<Vec<_>>(),
                    format!("allow temporary unmask for {seconds}s"),
                ),
                GrantKind::TemporaryUnmask {
                    seconds,
                    approval: Some(a),
                } => {
                    let approvers = self.program(&a.approvers, None);
                    (
                        policy
                            .scope
                            .sources
                            .iter()
                            .map(|s| rt::GrantKind::ApprovedUnmask {
                                source: *s as u32,
                                seconds: *seconds,
                                approvers,
                                window: a.window,
                            })
                            .collect::<Vec<_>>(),
                        format!(
                            "allow temporary unmask for {seconds}s with approval within {}s",
                            a.window
                        ),
                    )
                }
                GrantKind::Detokenize { source, column } => (
                    vec![rt::GrantKind::Detokenize {
                        source: *source as u32,
                        column: *column as u32,
                    }],
                    format!(
                        "allow detokenize column {}.{}",
                        model.sources[*source].name, model.sources[*source].columns[*column].name
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
            let rule = self.tables.rule(RuleKey::Grant(gi), || RuleInfo {
                name: policy.name.clone(),
                policy: policy.name.clone(),
                description: policy.rationale.clone().unwrap_or(what),
            });
            out.extend(kinds.into_iter().map(|kind| GrantPlan {
                rule,
                kind,
                audience,
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::source_map::SourceMap;
    use crate::testing::TEST_KEY;
    use pol_runtime::bundle::{Bundle, GrantAudience, GrantKind, GrantPlan, RuleInfo};
    use pol_runtime::grants::{GrantService, GrantStore, ManualClock};
    use pol_runtime::{audit::MemorySink, Engine, KeyRing, MaskingKey, Value};
    use std::sync::Arc;

    const SCHEMA: &str = r#"
        tag Pay;
        source customers { id: int key, name: text, }
        source orders { id: int key, total: decimal, }
        source cards { id: int key, card: text tagged Pay, }
        policy tok { mask column cards.card using tokenize for everyone }
    "#;

    /// Checks `policies` (with [`SCHEMA`]), lowers them (staged rules included or not), and
    /// round-trips the bundle through its bytes (which verifies it on load).
    fn lowered(policies: &str, include_staged: bool) -> (Bundle, Engine) {
        let mut files = SourceMap::new();
        files.add("schema.pol", SCHEMA);
        files.add("grants.pol", policies);
        let analysis = crate::check(&files);
        assert!(
            !analysis.has_errors(),
            "unexpected errors: {:?}",
            analysis.diagnostics
        );
        let resolution = crate::conflicts::resolve(&analysis.model, include_staged);
        let bundle = super::super::lower(&analysis.model, &resolution);
        bundle.verify().expect("the lowered bundle verifies");
        let bytes = bundle.to_bytes().expect("encodes");
        let keys = KeyRing::new(MaskingKey::from_bytes(TEST_KEY).expect("key"));
        let engine = Engine::load(&bytes, Some(keys)).expect("loads (verified)");
        assert_eq!(engine.bundle().grants, bundle.grants);
        (bundle, engine)
    }

    fn info(bundle: &Bundle, g: &GrantPlan) -> RuleInfo {
        bundle.rules[g.rule as usize].clone()
    }

    /// Whether `roles` may unmask customer 1 under the engine's grants.
    fn may_unmask(engine: &Engine, source: &str, roles: &[&str]) -> bool {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("time")
            .to_utc();
        let service = GrantService::new(
            GrantStore::in_memory(),
            Arc::new(MemorySink::new()),
            Arc::new(ManualClock::new(now)),
        );
        let subject = serde_json::json!({ "login": "u", "roles": roles });
        service
            .request_unmask(engine, &subject, source, &Value::Int(1), "test")
            .is_ok()
    }

    #[test]
    fn temporary_unmask_for_everyone_on_one_source() {
        let (bundle, engine) = lowered(
            r#"policy open_one "Anyone may open a customer" on source customers {
                 allow temporary unmask for 2h for everyone
               }"#,
            false,
        );
        assert_eq!(bundle.grants.len(), 1);
        let g = &bundle.grants[0];
        assert_eq!(
            g.kind,
            GrantKind::TemporaryUnmask {
                source: 0,
                seconds: 7200
            }
        );
        assert_eq!(g.audience, GrantAudience::Everyone);
        assert_eq!(
            info(&bundle, g),
            RuleInfo {
                name: "open_one".into(),
                policy: "open_one".into(),
                description: "Anyone may open a customer".into(),
            }
        );
        assert!(may_unmask(&engine, "customers", &[]));
        assert!(!may_unmask(&engine, "orders", &[]));
    }

    #[test]
    fn temporary_unmask_who_gives_one_plan_per_source_in_scope() {
        let (bundle, engine) = lowered(
            r#"policy managers {
                 allow temporary unmask for 72h for everyone who user has role "manager"
               }"#,
            false,
        );
        let kinds: Vec<_> = bundle.grants.iter().map(|g| g.kind.clone()).collect();
        assert_eq!(
            kinds,
            [0, 1, 2].map(|source| GrantKind::TemporaryUnmask {
                source,
                seconds: 72 * 3600
            })
        );
        assert!(bundle
            .grants
            .iter()
            .all(|g| matches!(g.audience, GrantAudience::Who(_))));
        assert_eq!(
            info(&bundle, &bundle.grants[0]).description,
            "allow temporary unmask for 259200s"
        );
        assert!(may_unmask(&engine, "orders", &["manager"]));
        assert!(!may_unmask(&engine, "orders", &["agent"]));
        assert!(!may_unmask(&engine, "orders", &[]));
    }

    #[test]
    fn temporary_unmask_except() {
        let (bundle, engine) = lowered(
            r#"policy not_interns on source orders {
                 allow temporary unmask for 1h for everyone except user has role "intern"
               }"#,
            false,
        );
        assert_eq!(bundle.grants.len(), 1);
        assert_eq!(
            bundle.grants[0].kind,
            GrantKind::TemporaryUnmask {
                source: 1,
                seconds: 3600
            }
        );
        assert!(matches!(
            bundle.grants[0].audience,
            GrantAudience::Except(_)
        ));
        assert!(may_unmask(&engine, "orders", &["agent"]));
        assert!(!may_unmask(&engine, "orders", &["intern"]));
        assert!(!may_unmask(&engine, "customers", &["agent"]));
    }

    #[test]
    fn detokenize_names_its_column() {
        let (bundle, _) = lowered(
            r#"policy billing {
                 allow detokenize column cards.card for everyone who user has role "billing"
               }"#,
            false,
        );
        assert_eq!(bundle.grants.len(), 1);
        let g = &bundle.grants[0];
        assert_eq!(
            g.kind,
            GrantKind::Detokenize {
                source: 2,
                column: 1
            }
        );
        assert!(matches!(g.audience, GrantAudience::Who(_)));
        assert_eq!(
            info(&bundle, g).description,
            "allow detokenize column cards.card"
        );
    }

    #[test]
    fn grants_keep_authored_order() {
        let (bundle, _) = lowered(
            r#"policy b on source orders { allow temporary unmask for 3h for everyone }
               policy a on source orders { allow temporary unmask for 1h for everyone }"#,
            false,
        );
        let names: Vec<String> = bundle
            .grants
            .iter()
            .map(|g| info(&bundle, g).name)
            .collect();
        assert_eq!(names, ["b", "a"]);
    }

    #[test]
    fn staged_grants_are_lowered_only_with_staged_rules() {
        let policies = r#"policy later staged on source customers {
                            allow temporary unmask for 24h for everyone
                          }
                          policy tok_later staged {
                            allow detokenize column cards.card for everyone
                          }"#;
        let (bundle, engine) = lowered(policies, false);
        assert_eq!(bundle.grants, []);
        assert!(!may_unmask(&engine, "customers", &[]));
        let (bundle, engine) = lowered(policies, true);
        assert_eq!(bundle.grants.len(), 2);
        assert!(may_unmask(&engine, "customers", &[]));
    }
}
