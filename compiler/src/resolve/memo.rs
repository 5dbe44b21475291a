//! Incremental resolution: what one resolution of a policy set keeps so that the next one, after
//! an edit of some files, redoes only what the edit can change (the language server's analysis
//! host asks for it; `polc` resolves from scratch).
//!
//! Resolution has two parts whose results are kept:
//! - the **declarations** (tags, purposes, the subject, levels, settings, sources and their
//!   columns): the model and diagnostics they give are reused as a whole when no changed file's
//!   declarations differ (compared as syntax trees, positions included);
//! - the **policies**, file by file, each file's a [`Segment`]: its policies, rules, grants and
//!   diagnostics. A file's segment depends only on the declarations, its own tree, and which of
//!   its policy names an earlier file declared first (a duplicate); it is reused when all three
//!   are unchanged, its policy ids and rule order shifted to where it now starts.
//!
//! Invariant: the model and diagnostics are exactly those of a resolution from scratch (the
//! same values in the same order); `ide::host`'s property tests compare both after random edits.

use crate::diagnostics::Diagnostic;
use crate::model::{Grant, KAnonymityRule, MaskRule, Model, Policy, RowRule};
use crate::source_map::Loc;
use pol_grammar::ast::{Decl, SourceFile};
use std::sync::Arc;

/// What a resolution keeps for the next one; see the module documentation.
#[derive(Clone, Default)]
pub struct Memo {
    /// The model and diagnostics once every declaration is checked (before any policy).
    pub(super) declared: Option<Arc<Declared>>,
    /// Each file's policies, in file order.
    pub(super) segments: Vec<Arc<Segment>>,
    /// Each file's exemptions, in file order.
    pub(super) exempts: Vec<Arc<Exempts>>,
}

/// The exemptions of one file and the diagnostics resolving them gave (they depend only on
/// the declarations and the file's own tree).
pub(super) struct Exempts {
    pub exempts: Vec<crate::model::Exempt>,
    pub diags: Vec<Diagnostic>,
}

/// What checking every declaration gives: the model (its sources shared, see
/// [`Model::sources`]), the diagnostics and the checker's lookups over the sources.
pub(super) struct Declared {
    pub model: Model,
    pub diags: Vec<Diagnostic>,
    pub index: Arc<super::Index>,
}

/// The earlier resolution an incremental one reuses: its trees and its memo.
#[derive(Clone, Copy)]
pub struct Previous<'a> {
    pub asts: &'a [SourceFile],
    pub memo: &'a Memo,
    /// `same[i]`: file `i` has the very text it had then (so the same tree). Files are the same
    /// in number and order as then.
    pub same: &'a [bool],
}

/// The policies of one file, with policy ids and rule order counted from the file's start.
pub(super) struct Segment {
    /// For each policy of the file, in order: where an earlier file declared its name first.
    pub earlier: Vec<Option<Loc>>,
    /// The policy names this file declares first, with where.
    pub names: Vec<(String, Loc)>,
    pub policies: Vec<Policy>,
    pub mask_rules: Vec<MaskRule>,
    pub row_rules: Vec<RowRule>,
    pub grants: Vec<Grant>,
    pub k_anonymity: Vec<KAnonymityRule>,
    pub diags: Vec<Diagnostic>,
    /// How many rules the file's policies hold (the authored order counts them).
    pub rules: usize,
    /// How many policies this segment begins with that equal those of the segment of the
    /// same file in the resolution it was checked after (see [`Previous::common_policies`]).
    pub base: Option<Base>,
}

/// The policies a re-checked file's segment shares with its previous version.
#[derive(Clone, Copy, Debug)]
pub(super) struct Base {
    /// The previous version's segment (its address: it is compared with a segment the
    /// previous memo holds, alive while compared, so the address names it alone).
    of: usize,
    /// How many leading policies are equal in every resolved value (rule ids included).
    policies: usize,
}

/// Whether a declaration is one of those checked before any policy.
fn declares(d: &Decl) -> bool {
    match d {
        Decl::Tag(_)
        | Decl::Purpose(_)
        | Decl::Subject(_)
        | Decl::Level(_)
        | Decl::Settings(_)
        | Decl::Table(_)
        | Decl::Source(_) => true,
        Decl::Policy(_) | Decl::Exempt(_) | Decl::Guarantee(_) | Decl::Test(_) | Decl::Error(_) => {
            false
        }
    }
}

impl Previous<'_> {
    /// Whether file `i` is the same as then.
    pub(super) fn same(&self, i: usize) -> bool {
        self.same.get(i).copied().unwrap_or(false)
    }

    /// The declarations' model and diagnostics of then, if no file's declarations changed.
    pub(super) fn declared(&self, asts: &[SourceFile]) -> Option<Arc<Declared>> {
        let declared = self.memo.declared.clone()?;
        if asts.len() != self.asts.len() || self.same.len() != asts.len() {
            return None;
        }
        let unchanged = asts.iter().enumerate().all(|(i, new)| {
            self.same(i)
                || self.asts.get(i).is_some_and(|old| {
                    old.decls
                        .iter()
                        .filter(|d| declares(d))
                        .eq(new.decls.iter().filter(|d| declares(d)))
                })
        });
        unchanged.then_some(declared)
    }

    /// The exemptions of file `i` of then, if the file is the same.
    pub(super) fn exempts(&self, i: usize) -> Option<Arc<Exempts>> {
        if !self.same(i) {
            return None;
        }
        self.memo.exempts.get(i).cloned()
    }

    /// How many policies the segment `new` of the changed file `i` (checked against the
    /// declarations of then) begins with that equal its segment of then: those made from the
    /// declarations the two trees begin with, equal as syntax (positions included), when the
    /// policy names among them have the same earlier declarations in preceding files. A
    /// policy's resolution reads only the declarations, its own tree, its place in the file
    /// and which of the names before it were declared first: so these are equal values.
    pub(super) fn common_policies(
        &self,
        i: usize,
        ast: &SourceFile,
        earlier: &[Option<Loc>],
        new: &Segment,
    ) -> Option<Base> {
        let (old_ast, old) = (self.asts.get(i)?, self.memo.segments.get(i)?);
        let equal = old_ast
            .decls
            .iter()
            .zip(ast.decls.iter())
            .take_while(|(a, b)| a == b)
            .count();
        let policies = ast
            .decls
            .iter()
            .take(equal)
            .filter(|d| matches!(d, Decl::Policy(_)))
            .count();
        if old.earlier.get(..policies)? != earlier.get(..policies)? {
            return None;
        }
        let end = ast.decls.get(equal).map(|d| d.span().start);
        let before = |s: &Segment| {
            s.policies
                .iter()
                .take_while(|p| end.is_none_or(|e| p.decl.span.start < e))
                .count()
        };
        let n = before(new);
        (n == before(old)).then_some(Base {
            of: Arc::as_ptr(old) as usize,
            policies: n,
        })
    }

    /// The segment of file `i` of then, if the file is the same and its policy names have the
    /// same earlier declarations.
    pub(super) fn segment(&self, i: usize, earlier: &[Option<Loc>]) -> Option<Arc<Segment>> {
        if !self.same(i) {
            return None;
        }
        let s = self.memo.segments.get(i)?;
        (s.earlier == earlier).then(|| s.clone())
    }
}

impl Segment {
    /// Appends the segment to the model, its ids shifted to start at the model's current ends.
    pub(super) fn splice(&self, model: &mut Model, diags: &mut Vec<Diagnostic>, order: usize) {
        let shift = Shift::Up {
            policy: model.policies.len(),
            order,
        };
        model.policies.extend(self.policies.iter().cloned());
        model.mask_rules.extend(shift.all(&self.mask_rules));
        model.row_rules.extend(shift.all(&self.row_rules));
        model.grants.extend(shift.all(&self.grants));
        model.k_anonymity.extend(shift.all(&self.k_anonymity));
        diags.extend(self.diags.iter().cloned());
    }
}

/// How the policies of a resolution changed since an earlier one that had the same
/// declarations ([`Memo::changes_since`]): what conflict resolution, the lints and the name
/// index may keep.
#[derive(Clone, Debug)]
pub struct Changes {
    /// For each mask rule of then: its id now (`None`: its file's policies were checked again).
    rule_ids: Vec<Option<usize>>,
    /// For each source: whether a policy of a file checked again, in its old or new version,
    /// can meet it (a rule matching a column of it, a scope covering it, a grant on it).
    pub touched: Vec<bool>,
    /// For each file: whether its policies are those of then (the very segment reused).
    pub kept_files: Vec<bool>,
}

impl Changes {
    /// The id now of mask rule `old` of then, when its file's policies were kept.
    pub fn rule_id(&self, old: usize) -> Option<usize> {
        self.rule_ids.get(old).copied().flatten()
    }
}

impl Memo {
    /// How this resolution's policies differ from `previous`'s, when both resolved the same
    /// files and this one reused its declarations (else `None`: nothing can be kept).
    pub fn changes_since(&self, previous: &Memo) -> Option<Changes> {
        let (Some(now), Some(then)) = (&self.declared, &previous.declared) else {
            return None;
        };
        if !Arc::ptr_eq(now, then) || self.segments.len() != previous.segments.len() {
            return None;
        }
        let mut changes = Changes {
            rule_ids: Vec::new(),
            touched: vec![false; now.model.sources.len()],
            kept_files: Vec::with_capacity(self.segments.len()),
        };
        let mut start = 0usize;
        for (new, old) in self.segments.iter().zip(&previous.segments) {
            let kept = Arc::ptr_eq(new, old);
            changes.kept_files.push(kept);
            if kept {
                changes
                    .rule_ids
                    .extend((0..old.mask_rules.len()).map(|k| Some(start + k)));
            } else {
                // The policies both versions begin with, equal in every resolved value
                // (positions included), keep their rule ids and touch nothing: appending or
                // editing at a file's end touches only what the new and old tails meet.
                let common = new
                    .base
                    .filter(|b| b.of == Arc::as_ptr(old) as usize)
                    .map_or(0, |b| b.policies);
                let kept_rules = old.rules_before(common);
                changes.rule_ids.extend(
                    (0..old.mask_rules.len()).map(|k| (k < kept_rules).then_some(start + k)),
                );
                old.touch(common, &mut changes.touched);
                new.touch(common, &mut changes.touched);
            }
            start += new.mask_rules.len();
        }
        Some(changes)
    }
}

impl Segment {
    /// Marks the sources the policies of this segment from the `from`-th on can meet: those a
    /// mask rule matches a column of, those the scope of a policy with row rules covers (a
    /// policy's scope is read per source only through its row rules: a policy of mask rules
    /// alone, even one on every source, meets only the sources its rules match), and those a
    /// `detokenize` grant names.
    fn touch(&self, from: usize, touched: &mut [bool]) {
        let mut mark = |s: usize| {
            if let Some(t) = touched.get_mut(s) {
                *t = true;
            }
        };
        for r in tail_of(&self.mask_rules, from, |r| r.policy) {
            r.matches.iter().for_each(|m| mark(m.source));
        }
        let mut last = None;
        for r in tail_of(&self.row_rules, from, |r| r.policy) {
            if last == Some(r.policy) {
                continue;
            }
            last = Some(r.policy);
            if let Some(p) = self.policies.get(r.policy) {
                p.scope.sources.iter().for_each(|&s| mark(s));
            }
        }
        for g in tail_of(&self.grants, from, |g| g.policy) {
            if let crate::model::GrantKind::Detokenize { source, .. } = g.kind {
                mark(source);
            }
        }
    }

    /// How many mask rules the policies before the `policies`-th hold.
    fn rules_before(&self, policies: usize) -> usize {
        self.mask_rules.partition_point(|r| r.policy < policies)
    }
}

/// The items (sorted by policy id, as a segment holds them) of the policies from the
/// `from`-th on.
fn tail_of<T>(items: &[T], from: usize, policy: impl Fn(&T) -> usize) -> &[T] {
    let lo = items.partition_point(|x| policy(x) < from);
    items.get(lo..).unwrap_or(&[])
}

/// How a segment's policy ids and rule order move: up to where the segment is spliced in, or
/// down to count from the segment's own start.
#[derive(Clone, Copy)]
enum Shift {
    Up { policy: usize, order: usize },
    Down { policy: usize, order: usize },
}

impl Shift {
    fn policy(self, id: usize) -> usize {
        match self {
            Shift::Up { policy, .. } => id.saturating_add(policy),
            Shift::Down { policy, .. } => id.saturating_sub(policy),
        }
    }

    fn order(self, n: usize) -> usize {
        match self {
            Shift::Up { order, .. } => n.saturating_add(order),
            Shift::Down { order, .. } => n.saturating_sub(order),
        }
    }

    /// Copies of `items`, renumbered.
    fn all<'a, T: Renumber>(self, items: &'a [T]) -> impl Iterator<Item = T> + 'a {
        items.iter().cloned().map(move |mut t| {
            t.renumber(self);
            t
        })
    }
}

/// A model item that names its policy (and, for rules, its place in the authored order).
trait Renumber: Clone {
    fn renumber(&mut self, shift: Shift);
}

impl Renumber for MaskRule {
    fn renumber(&mut self, shift: Shift) {
        self.policy = shift.policy(self.policy);
        self.order = shift.order(self.order);
    }
}

impl Renumber for RowRule {
    fn renumber(&mut self, shift: Shift) {
        self.policy = shift.policy(self.policy);
        self.order = shift.order(self.order);
    }
}

impl Renumber for Grant {
    fn renumber(&mut self, shift: Shift) {
        self.policy = shift.policy(self.policy);
    }
}

impl Renumber for KAnonymityRule {
    fn renumber(&mut self, shift: Shift) {
        self.policy = shift.policy(self.policy);
    }
}

/// Where each table of the model and the diagnostics ended before a file's policies.
#[derive(Clone, Copy)]
pub(super) struct Ends {
    policies: usize,
    mask_rules: usize,
    row_rules: usize,
    grants: usize,
    k_anonymity: usize,
    diags: usize,
    order: usize,
}

impl Ends {
    pub(super) fn of(model: &Model, diags: &[Diagnostic], order: usize) -> Ends {
        Ends {
            policies: model.policies.len(),
            mask_rules: model.mask_rules.len(),
            row_rules: model.row_rules.len(),
            grants: model.grants.len(),
            k_anonymity: model.k_anonymity.len(),
            diags: diags.len(),
            order,
        }
    }

    /// What was added since these ends, as a segment with ids counted from them.
    pub(super) fn segment(
        &self,
        model: &Model,
        diags: &[Diagnostic],
        order: usize,
        earlier: Vec<Option<Loc>>,
        names: Vec<(String, Loc)>,
    ) -> Segment {
        fn tail<T>(items: &[T], from: usize) -> &[T] {
            items.get(from.min(items.len())..).unwrap_or(&[])
        }
        let shift = Shift::Down {
            policy: self.policies,
            order: self.order,
        };
        Segment {
            earlier,
            names,
            policies: tail(&model.policies, self.policies).to_vec(),
            mask_rules: shift
                .all(tail(&model.mask_rules, self.mask_rules))
                .collect(),
            row_rules: shift.all(tail(&model.row_rules, self.row_rules)).collect(),
            grants: shift.all(tail(&model.grants, self.grants)).collect(),
            k_anonymity: shift
                .all(tail(&model.k_anonymity, self.k_anonymity))
                .collect(),
            diags: tail(diags, self.diags).to_vec(),
            rules: order.saturating_sub(self.order),
            base: None,
        }
    }
}
