//! One mask rule, step by step: its target's matches, its `where` (with the lockout warnings),
//! its body checked against the matched columns' types, then the warnings about the body
//! (type fallback, no column matched, global pseudonyms).

use super::{Scope, TagIndex};
use crate::diagnostics::Diagnostic;
use crate::model::*;
use crate::resolve::exprs::{ExprCtx, RowCtx};
use crate::resolve::Checker;
use crate::source_map::{FileId, Loc};
use crate::techniques::{applies, fallback};
use pol_grammar::ast::{self, TargetKind};

/// Where a rule stands: its policy, its place in it, the policy's scope and file.
pub(super) struct RuleSite<'r> {
    pub policy: usize,
    pub order: usize,
    pub scope: &'r Scope,
    pub staged: bool,
    pub file: FileId,
    pub tags: &'r TagIndex,
}

/// A resolved target: what it names, whether it names one column, and the columns it matches
/// (sorted by source, then column).
pub(super) struct Targeted {
    pub target: Target,
    pub direct: bool,
    pub matches: Vec<Match>,
}

fn matched(source: SourceId, column: ColumnId, specificity: Specificity) -> Match {
    Match {
        source,
        column,
        specificity,
        tag: None,
    }
}

impl Checker<'_> {
    /// Checks a mask rule and adds it to the model (unless its target or body is broken).
    pub(super) fn mask_rule(&mut self, m: &ast::MaskRule, site: &RuleSite) {
        let file = site.file;
        let target_loc = Loc::new(file, m.target.span);
        let Some(Targeted {
            target,
            direct,
            mut matches,
        }) = self.mask_target(&m.target, site)
        else {
            return;
        };
        // The model's invariant on `MaskRule::matches` (`matches_on` searches it).
        matches.sort_by_key(|mm| (mm.source, mm.column));
        debug_assert!(matches
            .windows(2)
            .all(|w| matches!(w, [a, b] if (a.source, a.column) < (b.source, b.column))));
        let mut matched_sources: Vec<SourceId> = matches.iter().map(|mm| mm.source).collect();
        matched_sources.dedup();
        // Both sorted: matches by source, a scope's sources by id.
        let row_sources: &[SourceId] = if direct {
            &matched_sources
        } else {
            &site.scope.sources
        };
        let mut skipped = Vec::new();
        let where_ = self.mask_where(m, site, row_sources, &matched_sources, &mut skipped);
        let types = self.matched_types(&matches);
        let mut ctx = ExprCtx::new(file, RowCtx::Sources(row_sources));
        let body = self.mask_body(m, file, &types, direct, &mut ctx);
        let tag_missing = std::mem::take(&mut ctx.tag_missing);
        skipped.extend(tag_missing.iter().map(|(s, _, _)| *s));
        // W0003 for the audience's `row[tagged T]` too: the rule skips those sources.
        self.lockout_warnings(&[], &tag_missing, &matched_sources, file, "", false);
        skipped.sort_unstable();
        skipped.dedup();
        let Some(body) = body else {
            return;
        };
        if !direct {
            self.type_fallback_warnings(&body, &matches);
            if matches.is_empty() && !site.scope.sources.is_empty() {
                self.matches_nothing_warning(site.policy, target_loc);
            }
        }
        self.global_hash_warnings(&body);
        self.model.mask_rules.push(MaskRule {
            policy: site.policy,
            matches,
            order: site.order,
            target,
            target_loc,
            where_,
            body,
            skipped,
            loc: Loc::new(file, m.span),
            staged: site.staged,
        });
    }

    /// Resolves a target to the columns it matches in the scope; `None` when it cannot be
    /// resolved (the error is already reported).
    pub(super) fn mask_target(
        &mut self,
        target: &ast::Target,
        site: &RuleSite,
    ) -> Option<Targeted> {
        // A scope's sources are sorted by id (declaration order).
        let covered: &[SourceId] = &site.scope.sources;
        let in_scope = |s: &SourceId| covered.binary_search(s).is_ok();
        let (target, direct, matches) = match &target.kind {
            TargetKind::Column(path) => {
                let (s, c) = self.column_path(path, site.file, site.scope)?;
                let m = matched(s, c, Specificity::Direct);
                (Target::Column(s, c), true, vec![m])
            }
            TargetKind::Tagged(paths) => {
                let (resolved, matches) = self.tagged_target(paths, site, &in_scope)?;
                (Target::Tagged(resolved), false, matches)
            }
            TargetKind::NamedLike(pat) => {
                let (re, matches) = self.named_like_target(pat, site.file, &in_scope)?;
                (Target::NamedLike(re), false, matches)
            }
            kind @ (TargetKind::All | TargetKind::AnyTag | TargetKind::NoTags) => {
                let (t, matches) = self.broad_target(kind, site.scope);
                (t, false, matches)
            }
        };
        Some(Targeted {
            target,
            direct,
            matches,
        })
    }

    /// `columns tagged T, U`: each column matches by its deepest tag among the rule's.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    fn tagged_target(
        &mut self,
        paths: &[ast::Path],
        site: &RuleSite,
        in_scope: &dyn Fn(&SourceId) -> bool,
    ) -> Option<(Vec<NodeId>, Vec<Match>)> {
        let resolved: Vec<NodeId> = paths
            .iter()
            .filter_map(|p| self.resolve_tag(p, site.file))
            .collect();
        if resolved.len() != paths.len() {
            return None;
        }
        // Every (column, tag) the tags reach; per column the deepest tag, the first of the
        // rule's at equal depth (a stable sort, then the first of each column's run).
        let mut keys: Vec<((SourceId, ColumnId), (u32, NodeId))> = Vec::new();
        for &t in &resolved {
            let depth = self.model.tags.nodes[t].depth;
            let columns = site.tags.columns_in(t, &site.scope.sources, in_scope);
            keys.extend(columns.into_iter().map(|sc| (sc, (depth, t))));
        }
        keys.sort_by_key(|&(sc, (d, _))| (sc, std::cmp::Reverse(d)));
        keys.dedup_by_key(|&mut (sc, _)| sc);
        let matches = keys
            .into_iter()
            .map(|((s, c), (d, t))| Match {
                source: s,
                column: c,
                specificity: Specificity::Tag(d),
                tag: Some(t),
            })
            .collect();
        Some((resolved, matches))
    }

    /// `columns named like "re"`: every column in scope whose name matches.
    fn named_like_target(
        &mut self,
        pat: &ast::StrLit,
        file: FileId,
        in_scope: &dyn Fn(&SourceId) -> bool,
    ) -> Option<(regex::Regex, Vec<Match>)> {
        let re = match regex::Regex::new(&pat.value) {
            Ok(re) => re,
            Err(e) => {
                self.diags
                    .push(Diagnostic::invalid_regex(Loc::new(file, pat.span), &e));
                return None;
            }
        };
        let mut names: Vec<(&String, &Vec<(SourceId, ColumnId)>)> =
            self.index.columns_by_name.iter().collect();
        names.sort_by_key(|(n, _)| *n);
        let matches = names
            .into_iter()
            .filter(|(n, _)| re.is_match(n))
            .flat_map(|(_, holders)| holders.iter())
            .filter(|(s, _)| in_scope(s))
            .map(|&(s, c)| matched(s, c, Specificity::Broad))
            .collect();
        Some((re, matches))
    }

    /// `all columns`, `columns with any tag`, `columns with no tags`.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    fn broad_target(&self, kind: &TargetKind, scope: &Scope) -> (Target, Vec<Match>) {
        let mut matches = Vec::new();
        for &s in &scope.sources {
            for (c, col) in self.model.sources[s].columns.iter().enumerate() {
                let ok = match kind {
                    TargetKind::AnyTag => !col.tags.is_empty(),
                    TargetKind::NoTags => col.tags.is_empty(),
                    _ => true,
                };
                if ok {
                    matches.push(matched(s, c, Specificity::Broad));
                }
            }
        }
        let t = match kind {
            TargetKind::AnyTag => Target::AnyTag,
            TargetKind::NoTags => Target::NoTags,
            _ => Target::All,
        };
        (t, matches)
    }

    /// The rule's `where`, checked over `row_sources`; warns (W0002, W0003) where it reads a
    /// column a matched source lacks, and adds to `skipped` the sources where it reads a
    /// `row[tagged T]` no column carries (the rule does not apply there, §6.8).
    fn mask_where(
        &mut self,
        m: &ast::MaskRule,
        site: &RuleSite,
        row_sources: &[SourceId],
        matched_sources: &[SourceId],
        skipped: &mut Vec<SourceId>,
    ) -> Option<CExpr> {
        let mut ctx = ExprCtx::new(site.file, RowCtx::Sources(row_sources));
        let where_ = m.where_.as_ref().map(|w| self.condition(w, &mut ctx));
        let (missing, tag_missing) = (
            std::mem::take(&mut ctx.missing),
            std::mem::take(&mut ctx.tag_missing),
        );
        skipped.extend(tag_missing.iter().map(|(s, _, _)| *s));
        self.lockout_warnings(
            &missing,
            &tag_missing,
            matched_sources,
            site.file,
            "its `where` counts as true there: the cells it targets are masked",
            site.scope.sources.len() > 1,
        );
        where_
    }

    /// The distinct types of the matched columns, in order of first appearance.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    fn matched_types(&self, matches: &[Match]) -> Vec<Ty> {
        let mut types: Vec<Ty> = Vec::new();
        for mm in matches {
            let t = &self.model.sources[mm.source].columns[mm.column].ty;
            if !types.contains(t) {
                types.push(t.clone());
            }
        }
        types
    }

    /// W0001 for each technique of the body that does not apply to some matched columns.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    fn type_fallback_warnings(&mut self, body: &MaskBody, matches: &[Match]) {
        for t in body.techniques() {
            let bad: Vec<&Match> = matches
                .iter()
                .filter(|mm| !applies(t, &self.model.sources[mm.source].columns[mm.column].ty))
                .collect();
            let Some(first) = bad.first() else {
                continue;
            };
            let first_col = self.model.sources[first.source].columns[first.column].loc;
            let groups = self.fallbacks_by_type(&bad);
            let d = Diagnostic::type_fallback(t.loc, &t.name, bad.len(), first_col, &groups);
            self.diags.push(d);
        }
    }

    /// The columns a technique falls back on, grouped by type family and fallback, in order of
    /// first appearance.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    fn fallbacks_by_type(&self, bad: &[&Match]) -> Vec<(String, Vec<String>)> {
        let mut by_ty: Vec<(String, Vec<String>)> = Vec::new();
        for mm in bad {
            let col = &self.model.sources[mm.source].columns[mm.column];
            let fb = fallback(&col.ty).name;
            let key = format!("{} (falls back to `{fb}`)", col.ty.family());
            let name = format!("{}.{}", self.model.sources[mm.source].name, col.name);
            match by_ty.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(name),
                None => by_ty.push((key, vec![name])),
            }
        }
        by_ty
    }

    /// W0005: a broad or tag target matching no column in a non-empty scope.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    fn matches_nothing_warning(&mut self, policy: usize, target_loc: Loc) {
        let p = &self.model.policies[policy];
        let d = Diagnostic::policy_matches_nothing(target_loc, &p.name, p.loc);
        self.diags.push(d);
    }

    /// W0009 for each `hash(scope: global)` in the body.
    fn global_hash_warnings(&mut self, body: &MaskBody) {
        for t in body.techniques() {
            if matches!(t.arg("scope"), Some(TechArg::Word(w)) if w == "global") {
                self.diags.push(Diagnostic::global_hash(t.loc));
            }
        }
    }
}

#[cfg(test)]
mod matches_order_tests {
    use crate::source_map::SourceMap;

    /// A `columns named like` target lists its holders by column name: the checker sorts every
    /// rule's matches by (source, column), and `matches_on` gives one source's slice.
    #[test]
    fn matches_are_sorted_by_source_then_column_and_sliced_per_source() {
        let text = r#"
source a { id: int key, zz_mail: text, aa_mail: text, }
source b { id: int key, other: text, }
source c { id: int key, aa_mail: text, zz_mail: text, }
policy mails {
  mask columns named like "mail" using redact for everyone
}
"#;
        let mut files = SourceMap::new();
        files.add("mails.pol", text.to_string());
        let analysis = crate::check(&files);
        assert!(
            analysis.diagnostics.is_empty(),
            "{:?}",
            analysis.diagnostics
        );
        let (m, rule) = (&analysis.model, &analysis.model.mask_rules[0]);
        let id = |n: &str| m.source(n).unwrap();
        let pairs: Vec<(usize, usize)> =
            rule.matches.iter().map(|x| (x.source, x.column)).collect();
        let mut sorted = pairs.clone();
        sorted.sort();
        assert_eq!(pairs, sorted);
        assert_eq!(pairs.len(), 4);
        let names = |s: &str| -> Vec<&str> {
            rule.matches_on(id(s))
                .iter()
                .map(|x| m.sources[x.source].columns[x.column].name.as_str())
                .collect()
        };
        assert_eq!(names("a"), ["zz_mail", "aa_mail"]);
        assert!(names("b").is_empty());
        assert_eq!(names("c"), ["aa_mail", "zz_mail"]);
        assert!(rule.matches_on(99).is_empty());
        let zz = m.sources[id("a")].column("zz_mail").unwrap();
        assert!(rule.matches_column(id("a"), zz));
        assert!(!rule.matches_column(id("b"), 1));
    }
}
