//! Policies: scopes, targets, `where`, audiences, row rules, grants; and exemptions.

use super::exprs::{ExprCtx, RowCtx};
use super::memo::{Ends, Exempts, Previous, Segment};
use super::suggest::did_you_mean;
use super::Checker;
use crate::diagnostics::Diagnostic;
use crate::model::*;
use crate::source_map::{FileId, Loc};
use mask_rule::RuleSite;
use pol_grammar::ast::{self, AudienceKind, Decl, RowAudienceKind, RowFilterKind};
use pol_grammar::Span;
use pol_runtime::bundle::grants::{
    DEFAULT_APPROVAL_SECONDS, MAX_APPROVAL_SECONDS, MIN_APPROVAL_SECONDS,
};
use std::collections::HashMap;
use std::sync::Arc;

mod guarantee;
mod k_anonymity;
mod mask_rule;
mod source_scope;

/// The lookup of columns by tag (every ancestor of a column's tags): the checker's
/// [`super::Index::columns_under_tag`], built once with the declarations (and kept with them by an
/// incremental resolution), so checking policies or guarantees builds nothing per set.
pub(super) struct TagIndex {
    /// `columns_under_tag`: tag → (source, column) of every column tagged with it or below it,
    /// sorted by (source, column).
    index: Arc<super::Index>,
}

impl TagIndex {
    /// The columns under tag `t` in the sources of `scope`. `under` lists are sorted by source,
    /// so a scope of few sources (a policy `on source s`) looks its sources up by binary search
    /// instead of walking every column under the tag in the whole set.
    fn columns_in(
        &self,
        t: NodeId,
        scope: &[SourceId],
        in_scope: &dyn Fn(&SourceId) -> bool,
    ) -> Vec<(SourceId, ColumnId)> {
        let all = self
            .index
            .columns_under_tag
            .get(&t)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if scope.len().saturating_mul(4) >= all.len() {
            return all.iter().copied().filter(|(s, _)| in_scope(s)).collect();
        }
        let mut out = Vec::new();
        for &s in scope {
            let lo = all.partition_point(|&(x, _)| x < s);
            let hi = all.partition_point(|&(x, _)| x <= s);
            out.extend(all.get(lo..hi).unwrap_or(&[]).iter().copied());
        }
        out
    }
}

impl Checker<'_> {
    fn tag_index(&self) -> TagIndex {
        TagIndex {
            index: self.index.clone(),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn scope(&mut self, scope: Option<&ast::Scope>, file: FileId) -> Scope {
        // Every source, built only for the scopes that need it: a policy `on source s` (most of
        // a large set) must not pay for the whole set.
        let n = self.model.sources.len();
        let all = move || 0..n;
        let Some(scope) = scope else {
            return Scope {
                kind: ScopeKind::AllSources,
                loc: None,
                sources: all().collect(),
            };
        };
        let loc = Some(Loc::new(file, scope.span));
        let tagged_with = |this: &Self, s: SourceId, tags: &[NodeId]| {
            this.model.sources[s]
                .tags
                .iter()
                .any(|&t| tags.iter().any(|&u| this.model.tags.is_under(t, u)))
        };
        let (kind, sources) = match &scope.kind {
            ast::ScopeKind::AllSources => (ScopeKind::AllSources, all().collect()),
            ast::ScopeKind::Source(name) => match self.resolve_source(name, file) {
                Some(s) => (ScopeKind::Source(s), vec![s]),
                None => (ScopeKind::Source(usize::MAX), vec![]),
            },
            ast::ScopeKind::SourcesTagged(paths) => {
                let tags: Vec<NodeId> = paths
                    .iter()
                    .filter_map(|p| self.resolve_tag(p, file))
                    .collect();
                let sources = all().filter(|&s| tagged_with(self, s, &tags)).collect();
                (ScopeKind::SourcesTagged(tags), sources)
            }
            ast::ScopeKind::SourcesWithColumnsTagged(paths) => {
                let tags: Vec<NodeId> = paths
                    .iter()
                    .filter_map(|p| self.resolve_tag(p, file))
                    .collect();
                let sources = all()
                    .filter(|&s| {
                        self.model.sources[s].columns.iter().any(|c| {
                            c.tags
                                .iter()
                                .any(|&t| tags.iter().any(|&u| self.model.tags.is_under(t, u)))
                        })
                    })
                    .collect();
                (ScopeKind::SourcesWithColumnsTagged(tags), sources)
            }
            ast::ScopeKind::SourcesNamedLike(pat) => match regex::Regex::new(&pat.value) {
                Ok(re) => {
                    let sources = all()
                        .filter(|&s| re.is_match(&self.model.sources[s].name))
                        .collect();
                    (ScopeKind::SourcesNamedLike(re), sources)
                }
                Err(e) => {
                    self.diags
                        .push(Diagnostic::invalid_regex(Loc::new(file, pat.span), &e));
                    (ScopeKind::AllSources, vec![])
                }
            },
            ast::ScopeKind::SourcesWhere(cond) => {
                let before = self.diags.len();
                let sources = self.sources_where(cond, file);
                if self.diags.len() > before {
                    // Its errors say why; "matches no source" would only repeat them.
                    return Scope {
                        kind: ScopeKind::SourcesWhere,
                        loc,
                        sources,
                    };
                }
                (ScopeKind::SourcesWhere, sources)
            }
        };
        let broken = matches!(kind, ScopeKind::Source(usize::MAX));
        if sources.is_empty() && !broken && !self.model.sources.is_empty() {
            if let Some(at) = loc {
                self.diags.push(Diagnostic::scope_matches_nothing(at));
            }
        }
        Scope { kind, loc, sources }
    }

    /// Checks the policies of every file, reusing (from `previous`) the segment of each file
    /// whose result cannot have changed; returns every file's segment (none without `keep`:
    /// a segment is a copy of the file's policies and rules, kept only for a next resolution).
    pub(super) fn check_policies(
        &mut self,
        previous: Option<&Previous<'_>>,
        keep: bool,
    ) -> Vec<Arc<Segment>> {
        let asts = self.asts;
        let mut tag_index: Option<TagIndex> = None;
        let mut names: HashMap<String, Loc> = HashMap::new();
        let mut order = 0usize;
        let mut segments = Vec::with_capacity(asts.len());
        reserve_for_policies(&mut self.model, asts);
        for (fi, file_ast) in asts.iter().enumerate() {
            let earlier: Vec<Option<Loc>> = file_ast
                .decls
                .iter()
                .filter_map(|d| match d {
                    Decl::Policy(p) => Some(names.get(&p.name.name).copied()),
                    _ => None,
                })
                .collect();
            let kept = previous.and_then(|p| p.segment(fi, &earlier));
            let segment = match kept {
                Some(kept) => {
                    kept.splice(&mut self.model, &mut self.diags, order);
                    order = order.saturating_add(kept.rules);
                    kept
                }
                None => {
                    let ends = Ends::of(&self.model, &self.diags, order);
                    let tags = match tag_index.take() {
                        Some(t) => t,
                        None => self.tag_index(),
                    };
                    let mut first = Vec::new();
                    self.file_policies(fi, &tags, &mut names, &mut first, &mut order);
                    tag_index = Some(tags);
                    if !keep {
                        continue; // `file_policies` added the names it declares first
                    }
                    let mut seg = ends.segment(&self.model, &self.diags, order, earlier, first);
                    seg.base =
                        previous.and_then(|p| p.common_policies(fi, file_ast, &seg.earlier, &seg));
                    Arc::new(seg)
                }
            };
            for (name, at) in &segment.names {
                names.entry(name.clone()).or_insert(*at);
            }
            segments.push(segment);
        }
        segments
    }

    /// Checks the policies of one file, counting rules on from `order`; `first` gets the names
    /// it declares first (also added to `names`).
    fn file_policies(
        &mut self,
        fi: usize,
        tag_index: &TagIndex,
        names: &mut HashMap<String, Loc>,
        first: &mut Vec<(String, Loc)>,
        order: &mut usize,
    ) {
        let Some(file_ast) = self.asts.get(fi) else {
            return;
        };
        let file = FileId(fi as u32);
        {
            for decl in &file_ast.decls {
                let Decl::Policy(p) = decl else { continue };
                let at = Loc::new(file, p.name.span);
                if let Some(&first) = names.get(&p.name.name) {
                    self.duplicate("policy", &p.name.name, at, first);
                    continue;
                }
                names.insert(p.name.name.clone(), at);
                first.push((p.name.name.clone(), at));
                let scope = self.scope(p.scope.as_ref(), file);
                let policy = self.model.policies.len();
                let staged = p.staged.is_some();
                self.model.policies.push(Policy {
                    name: p.name.name.clone(),
                    loc: at,
                    decl: Loc::new(file, p.span),
                    rationale: p.rationale.as_ref().map(|r| r.value.clone()),
                    staged,
                    scope: scope.clone(),
                    doc: p.doc.clone(),
                });
                if p.rules.is_empty() {
                    self.diags.push(Diagnostic::empty_policy(at, &p.name.name));
                }
                for rule in &p.rules {
                    *order += 1;
                    let order = *order;
                    match rule {
                        ast::Rule::Mask(m) => {
                            let site = RuleSite {
                                policy,
                                order,
                                scope: &scope,
                                staged,
                                file,
                                tags: tag_index,
                            };
                            self.mask_rule(m, &site)
                        }
                        ast::Rule::Row(r) => self.row_rule(r, policy, order, &scope, staged, file),
                        ast::Rule::TemporaryUnmask(g) => {
                            let gat = Loc::new(file, g.duration.span);
                            // A calendar duration is at least 28 days: out of range too.
                            let secs = match g.duration.value() {
                                DurationValue::Seconds(s) => s,
                                DurationValue::Months(_) => -1,
                            };
                            if !(3_600..=72 * 3_600).contains(&secs) {
                                self.diags.push(Diagnostic::unmask_duration(gat));
                            }
                            let audience = self.grant_audience(&g.audience, file);
                            let approval = g.approval.as_ref().and_then(|a| self.approval(a, file));
                            self.model.grants.push(Grant {
                                policy,
                                kind: GrantKind::TemporaryUnmask {
                                    seconds: secs,
                                    approval,
                                },
                                audience,
                                loc: Loc::new(file, g.span),
                                staged,
                            });
                        }
                        // Its syntax error is reported; the rules around it are checked.
                        ast::Rule::Error(_) => {}
                        // A list of columns is one grant per column, with the same audience.
                        ast::Rule::Detokenize(g) => {
                            if let Some(a) = &g.approval {
                                self.diags.push(Diagnostic::approval_not_allowed(
                                    Loc::new(file, a.span),
                                    "allow detokenize",
                                ));
                            }
                            let audience = self.grant_audience(&g.audience, file);
                            for column in &g.columns {
                                let Some((s, c)) = self.column_path(column, file, &scope) else {
                                    continue;
                                };
                                self.model.grants.push(Grant {
                                    policy,
                                    kind: GrantKind::Detokenize {
                                        source: s,
                                        column: c,
                                    },
                                    audience: audience.clone(),
                                    loc: Loc::new(file, g.span),
                                    staged,
                                });
                            }
                        }
                        ast::Rule::KAnonymity(k) => {
                            self.k_anonymity_rule(k, policy, &scope, staged, file)
                        }
                    }
                }
            }
        }
    }

    /// `with approval by C within D` (E0062 without approvers, E0063 for a window out of
    /// range); `None` when it names no approvers (the rule is then an error).
    fn approval(&mut self, a: &ast::Approval, file: FileId) -> Option<Approval> {
        let window = match &a.window {
            Some(w) => {
                // A calendar window (`1mo`) is always out of range (5m–72h).
                let secs = match w.value() {
                    DurationValue::Seconds(s) => s,
                    DurationValue::Months(_) => -1,
                };
                if !(MIN_APPROVAL_SECONDS..=MAX_APPROVAL_SECONDS).contains(&secs) {
                    self.diags
                        .push(Diagnostic::approval_window(Loc::new(file, w.span)));
                }
                secs
            }
            None => DEFAULT_APPROVAL_SECONDS,
        };
        let Some(by) = &a.by else {
            self.diags.push(Diagnostic::approval_without_approvers(
                Loc::new(file, a.span),
                false,
            ));
            return None;
        };
        let mut ctx = ExprCtx::new(file, RowCtx::Forbidden("an approval is decided per user"));
        let before = self.diags.len();
        let approvers = self.condition(by, &mut ctx);
        // A condition with errors of its own (reported) is not also called constant.
        if self.diags.len() == before && matches!(approvers.kind, CKind::Const(_)) {
            self.diags.push(Diagnostic::approval_without_approvers(
                Loc::new(file, by.span),
                true,
            ));
        }
        Some(Approval { approvers, window })
    }

    fn grant_audience(&mut self, a: &ast::Audience, file: FileId) -> GrantAudience {
        let mut ctx = ExprCtx::new(file, RowCtx::Forbidden("a grant is decided per user"));
        match &a.kind {
            AudienceKind::Everyone => GrantAudience::Everyone,
            AudienceKind::Except(c) => GrantAudience::Except(self.condition(c, &mut ctx)),
            AudienceKind::Who(c) => GrantAudience::Who(self.condition(c, &mut ctx)),
        }
    }

    /// Resolves `S.c` (or `S.c.field`) against the scope.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
    )]
    fn column_path(
        &mut self,
        path: &ast::Path,
        file: FileId,
        scope: &Scope,
    ) -> Option<(SourceId, ColumnId)> {
        let at = Loc::new(file, path.span);
        if path.segments.len() < 2 {
            self.diags
                .push(Diagnostic::not_a_column_path(at, &path.dotted()));
            return None;
        }
        let s = self.resolve_source(&path.segments[0], file)?;
        let name: Vec<&str> = path.segments[1..].iter().map(|s| s.name.as_str()).collect();
        let name = name.join(".");
        let src = &self.model.sources[s];
        let Some(c) = src.column(&name) else {
            let cat = Loc::new(file, path.segments[1].span.to(path.span));
            let suggestion = did_you_mean(&name, src.columns.iter().map(|c| c.name.as_str()));
            let d = Diagnostic::unknown_column(cat, &name, &src.name, src.loc, suggestion);
            self.diags.push(d);
            return None;
        };
        if !scope.sources.contains(&s) {
            let d = Diagnostic::target_outside_scope(at, &src.name, scope.loc);
            self.diags.push(d);
            return None;
        }
        Some((s, c))
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    fn mask_body(
        &mut self,
        m: &ast::MaskRule,
        file: FileId,
        types: &[Ty],
        direct: bool,
        ctx: &mut ExprCtx,
    ) -> Option<MaskBody> {
        let row = ctx.row;
        let first = &m.clauses[0];
        let who_count = m
            .clauses
            .iter()
            .filter(|c| matches!(c.audience.kind, AudienceKind::Who(_)))
            .count();
        if who_count == 0 {
            if m.clauses.len() > 1 {
                let second = &m.clauses[1];
                self.diags.push(Diagnostic::clause_after_everyone(
                    Loc::new(file, second.span),
                    Loc::new(file, first.audience.span),
                ));
                return None;
            }
            if let Some(o) = &m.otherwise {
                self.diags
                    .push(Diagnostic::otherwise_without_who(Loc::new(file, o.span)));
                return None;
            }
            let t = self.technique_in(&first.technique, file, types, direct, row)?;
            return Some(match &first.audience.kind {
                AudienceKind::Everyone => MaskBody::Everyone(t),
                AudienceKind::Except(c) => {
                    let c = self.condition(c, ctx);
                    MaskBody::Except(t, c)
                }
                AudienceKind::Who(_) => unreachable_who(),
            });
        }
        if who_count != m.clauses.len() {
            let odd = m
                .clauses
                .iter()
                .find(|c| !matches!(c.audience.kind, AudienceKind::Who(_)))
                .map(|c| c.span)
                .unwrap_or(first.span);
            self.diags
                .push(Diagnostic::mixed_audiences(Loc::new(file, odd)));
            return None;
        }
        let mut clauses = Vec::new();
        let mut ok = true;
        for c in &m.clauses {
            let AudienceKind::Who(cond) = &c.audience.kind else {
                continue;
            };
            let cond = self.condition(cond, ctx);
            match self.technique_in(&c.technique, file, types, direct, row) {
                Some(t) => clauses.push((cond, t)),
                None => ok = false,
            }
        }
        let otherwise = match &m.otherwise {
            None => {
                let last = m.clauses.last().map(|c| c.span).unwrap_or(m.span);
                let end = Loc::new(file, Span::new(last.end as usize, last.end as usize));
                self.diags.push(Diagnostic::mask_missing_otherwise(
                    Loc::new(file, last),
                    end,
                ));
                return None;
            }
            Some(o) => match &o.technique {
                None => None,
                Some(t) => match self.technique_in(t, file, types, direct, row) {
                    Some(t) => Some(t),
                    None => return None,
                },
            },
        };
        if !ok {
            return None;
        }
        Some(MaskBody::Who(clauses, otherwise))
    }

    /// W0002 / W0003 for references some covered sources lack; `relevant` is sorted.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn lockout_warnings(
        &mut self,
        missing: &[(SourceId, String, Span)],
        tag_missing: &[(SourceId, String, Span)],
        relevant: &[SourceId],
        file: FileId,
        consequence: &str,
        beyond_one: bool,
    ) {
        let mut by_ref: Vec<((String, Span), Vec<SourceId>)> = Vec::new();
        for (s, name, span) in missing {
            if relevant.binary_search(s).is_err() {
                continue;
            }
            match by_ref
                .iter_mut()
                .find(|((n, sp), _)| n == name && sp == span)
            {
                Some((_, v)) => v.push(*s),
                None => by_ref.push(((name.clone(), *span), vec![*s])),
            }
        }
        for ((name, span), sources) in by_ref {
            if !beyond_one {
                continue;
            }
            let names: Vec<String> = sources
                .iter()
                .take(5)
                .map(|&s| format!("`{}`", self.model.sources[s].name))
                .collect();
            let more = if sources.len() > 5 {
                format!(" and {} more", sources.len() - 5)
            } else {
                String::new()
            };
            let listed = format!("{}{more}", names.join(", "));
            self.diags.push(Diagnostic::column_lockout(
                Loc::new(file, span),
                &name,
                sources.len(),
                &listed,
                consequence,
            ));
        }
        let mut by_tag: Vec<((String, Span), Vec<SourceId>)> = Vec::new();
        for (s, name, span) in tag_missing {
            if relevant.binary_search(s).is_err() {
                continue;
            }
            match by_tag
                .iter_mut()
                .find(|((n, sp), _)| n == name && sp == span)
            {
                Some((_, v)) => v.push(*s),
                None => by_tag.push(((name.clone(), *span), vec![*s])),
            }
        }
        for ((name, span), sources) in by_tag {
            let names: Vec<String> = sources
                .iter()
                .take(5)
                .map(|&s| format!("`{}`", self.model.sources[s].name))
                .collect();
            let more = if sources.len() > 5 {
                format!(" and {} more", sources.len() - 5)
            } else {
                String::new()
            };
            let listed = format!("{}{more}", names.join(", "));
            self.diags.push(Diagnostic::tagged_column_skip(
                Loc::new(file, span),
                &name,
                sources.len(),
                &listed,
            ));
        }
    }

    fn row_filter(
        &mut self,
        f: &ast::RowFilter,
        file: FileId,
        sources: &[SourceId],
        ctx: &mut ExprCtx,
    ) -> Option<RowFilter> {
        let at = Loc::new(file, f.span);
        Some(match &f.kind {
            RowFilterKind::Where(e) => RowFilter::Where(self.condition(e, ctx)),
            RowFilterKind::NewerThan(d) | RowFilterKind::OlderThan(d) => {
                let needs = Needed {
                    marker: "{event_time}",
                    what: "has no `event_time` column",
                    label: "needs an event time",
                    help: "mark a date or timestamp column `event_time`",
                };
                if !self.sources_have(sources, |s| s.event_time.is_some(), &needs, at, ctx) {
                    return None;
                }
                let value = d.value();
                if matches!(value, DurationValue::Seconds(s) | DurationValue::Months(s) if s <= 0) {
                    self.diags
                        .push(Diagnostic::window_not_positive(Loc::new(file, d.span)));
                    return None;
                }
                if matches!(f.kind, RowFilterKind::NewerThan(_)) {
                    RowFilter::NewerThan(value)
                } else {
                    RowFilter::OlderThan(value)
                }
            }
            RowFilterKind::Sample(p, span) => {
                if !(1..=100).contains(p) {
                    self.diags
                        .push(Diagnostic::sample_out_of_range(Loc::new(file, *span)));
                    return None;
                }
                let needs = Needed {
                    marker: "{key}",
                    what: "has no `key` column to sample on",
                    label: "needs a key",
                    help: "mark the row identity column `key`",
                };
                if !self.sources_have(sources, |s| s.key.is_some(), &needs, at, ctx) {
                    return None;
                }
                RowFilter::Sample(*p as u8)
            }
            RowFilterKind::Never => RowFilter::Never,
            RowFilterKind::Linked(parent) => {
                let pid = self.resolve_source(parent, file)?;
                let parent_name = self.model.sources.get(pid).map_or("?", |p| p.name.as_str());
                let what = format!("has no column that `links` `{parent_name}`");
                let needs = Needed {
                    marker: "{link}",
                    what: &what,
                    label: "needs a link",
                    help: "declare the column holding the parent's key with `links PARENT.KEY`",
                };
                if !self.sources_have(sources, |s| s.link_to(pid).is_some(), &needs, at, ctx) {
                    return None;
                }
                RowFilter::Linked(pid)
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn row_rule(
        &mut self,
        r: &ast::RowRule,
        policy: usize,
        order: usize,
        scope: &Scope,
        staged: bool,
        file: FileId,
    ) {
        let sources: &[SourceId] = &scope.sources;
        let mut ctx = ExprCtx::new(file, RowCtx::Sources(sources));
        let filter = self.row_filter(&r.filter, file, sources, &mut ctx);
        let audience = match &r.audience.kind {
            RowAudienceKind::Everyone => Some(RowAudience::Everyone),
            RowAudienceKind::Except(c) => Some(RowAudience::Except(self.condition(c, &mut ctx))),
            RowAudienceKind::Who { cond, otherwise } => {
                let c = self.condition(cond, &mut ctx);
                match otherwise {
                    None => {
                        let end =
                            Loc::new(file, Span::new(r.span.end as usize, r.span.end as usize));
                        self.diags.push(Diagnostic::row_missing_otherwise(
                            Loc::new(file, r.audience.span),
                            end,
                        ));
                        None
                    }
                    Some(ast::RowOtherwise::AllRows(_)) => Some(RowAudience::Who(c, None)),
                    Some(ast::RowOtherwise::Filter(f)) => self
                        .row_filter(f, file, sources, &mut ctx)
                        .map(|f| RowAudience::Who(c, Some(f))),
                }
            }
        };
        let mut skipped: Vec<SourceId> = ctx.tag_missing.iter().map(|(s, _, _)| *s).collect();
        skipped.sort_unstable();
        skipped.dedup();
        let (missing, tag_missing) = (
            std::mem::take(&mut ctx.missing),
            std::mem::take(&mut ctx.tag_missing),
        );
        let (event, other): (Vec<_>, Vec<_>) = missing
            .into_iter()
            .partition(|(_, n, _)| n.starts_with('{'));
        self.lockout_warnings(
            &other,
            &tag_missing,
            sources,
            file,
            "it shows no rows of those sources to anyone it applies to",
            sources.len() > 1,
        );
        for (s, what, span) in event {
            let what = match what.as_str() {
                "{key}" => "a `key` column to sample on",
                "{link}" => "column that `links` the parent this rule follows",
                _ => "an `event_time` column",
            };
            let d = Diagnostic::row_rule_lockout(
                Loc::new(file, span),
                &self.model.sources[s].name,
                what,
            );
            self.diags.push(d);
        }
        let (Some(filter), Some(audience)) = (filter, audience) else {
            return;
        };
        self.model.row_rules.push(RowRule {
            policy,
            order,
            filter,
            audience,
            skipped,
            loc: Loc::new(file, r.span),
            staged,
        });
    }

    /// Resolves every `exempt` into the model, file by file; a file with the very text it had
    /// in `previous` (whose declarations this resolution reuses) takes its exemptions and their
    /// diagnostics from there (an exemption reads only the declarations and its own tree: its
    /// scope, by a source pattern, is a pass over every source). With `keep`, returns each
    /// file's for the next resolution.
    pub(super) fn check_exempts(
        &mut self,
        previous: Option<&Previous<'_>>,
        keep: bool,
    ) -> Vec<Arc<Exempts>> {
        let asts = self.asts;
        let mut kept = Vec::new();
        for (fi, file_ast) in asts.iter().enumerate() {
            if let Some(same) = previous.and_then(|p| p.exempts(fi)) {
                self.model.exempts.extend(same.exempts.iter().cloned());
                self.diags.extend(same.diags.iter().cloned());
                kept.push(same);
                continue;
            }
            let (exempts, diags) = (self.model.exempts.len(), self.diags.len());
            let file = FileId(fi as u32);
            for decl in &file_ast.decls {
                let Decl::Exempt(e) = decl else { continue };
                let scope = self.scope(e.scope.as_ref(), file);
                let mut ctx =
                    ExprCtx::new(file, RowCtx::Forbidden("an exemption is decided per user"));
                let cond = self.condition(&e.cond, &mut ctx);
                self.model.exempts.push(Exempt {
                    cond,
                    scope,
                    loc: Loc::new(file, e.span),
                });
            }
            if keep {
                kept.push(Arc::new(Exempts {
                    exempts: self.model.exempts.get(exempts..).unwrap_or(&[]).to_vec(),
                    diags: self.diags.get(diags..).unwrap_or(&[]).to_vec(),
                }));
            }
        }
        kept
    }
}

fn unreachable_who() -> MaskBody {
    // `who_count == 0` was checked by the caller; keep a harmless value rather than panic.
    MaskBody::Who(Vec::new(), None)
}

/// A column a row filter needs on every source it covers (`newer than` needs the event time,
/// `% of rows` the key).
struct Needed<'a> {
    /// The pseudo-column recorded for lockout when a multi-source scope lacks it.
    marker: &'static str,
    what: &'a str,
    label: &'static str,
    help: &'static str,
}

impl Checker<'_> {
    /// Whether every source of the scope has what the filter needs. On a single source that
    /// lacks it, an error (false); on a wider scope, the sources that lack it are recorded as
    /// locked out (warned about later) and the filter is kept (true).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn sources_have(
        &mut self,
        sources: &[SourceId],
        has: impl Fn(&crate::model::Source) -> bool,
        needs: &Needed<'_>,
        at: Loc,
        ctx: &mut ExprCtx,
    ) -> bool {
        let lacking: Vec<SourceId> = sources
            .iter()
            .copied()
            .filter(|&s| !has(&self.model.sources[s]))
            .collect();
        if lacking.is_empty() {
            return true;
        }
        if let [only] = sources {
            let source = &self.model.sources[*only];
            let d = Diagnostic::row_rule_needs(
                at,
                &source.name,
                needs.what,
                needs.label,
                source.loc,
                needs.help,
            );
            self.diags.push(d);
            return false;
        }
        for s in lacking {
            ctx.missing.push((s, needs.marker.into(), at.span));
        }
        true
    }
}

/// Sizes the model's policy and mask-rule tables for every policy of `asts` at once: grown by
/// doubling, they kept up to half their (large) capacity unused at the end of a 1M-line check.
fn reserve_for_policies(model: &mut crate::model::Model, asts: &[pol_grammar::ast::SourceFile]) {
    let policies = || {
        asts.iter()
            .flat_map(|f| f.decls.iter())
            .filter_map(|d| match d {
                Decl::Policy(p) => Some(p),
                _ => None,
            })
    };
    let mask_rules = policies()
        .flat_map(|p| p.rules.iter())
        .filter(|r| matches!(r, ast::Rule::Mask(_)))
        .count();
    model.policies.reserve_exact(policies().count());
    model.mask_rules.reserve_exact(mask_rules);
}
