//! A column's decision and a source's row visibility as boolean functions of the atoms,
//! built by following the resolution the runtime follows (docs/language.md §6): exempt first;
//! then the candidates of [`crate::conflicts`] in order (direct > deeper tag > broader,
//! authored first, `combine_exceptions`), each deciding where its `where` is not false and
//! letting the next one decide where it is false; a `who` clause that is unknown masks with
//! null; staged rules are not in the resolution; with no rule left the cell is clear. A derived
//! column is clear only where its inputs are, a struct field only where its struct is.

use super::atoms::{Atoms, Ctx, Tri};
use super::bdd::{Bdd, F};
use super::technique::Technique;
use crate::conflicts::{applies_on, rule_name, Candidate, Resolution, RuleRef};
use crate::model::{
    CExpr, ColumnId, DurationValue, MaskBody, Model, RowAudience, RowFilter, SourceId,
};
use crate::source_map::{FileId, SourceMap};

/// What a decision does to a cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect<'a> {
    /// The raw value.
    Clear,
    /// A technique of the model.
    Technique(Technique<'a>),
    /// Null because a `who` condition is unknown.
    UnknownWho,
    /// Null (or its rule's technique) because an input or the enclosing struct is masked.
    ThroughInput,
}

impl Effect<'_> {
    /// As shown by `who-can-see` (the one place an effect is rendered).
    pub fn text(&self) -> String {
        match self {
            Effect::Clear => "clear".to_string(),
            Effect::Technique(t) => t.text(),
            Effect::UnknownWho => "null (a `who` condition is unknown)".to_string(),
            Effect::ThroughInput => {
                "masked (an input or the enclosing struct is masked)".to_string()
            }
        }
    }

    /// Where the effect is listed in a report: clear, then the techniques (by their text),
    /// then the unknown `who`, then masked through an input.
    pub fn rank(&self) -> u8 {
        match self {
            Effect::Clear => 0,
            Effect::Technique(_) => 1,
            Effect::UnknownWho => 2,
            Effect::ThroughInput => 3,
        }
    }

    /// Does it reveal nothing at all (null)?
    pub fn reveals_nothing(&self) -> bool {
        match self {
            Effect::UnknownWho => true,
            Effect::Technique(t) => t.is_null(),
            Effect::Clear | Effect::ThroughInput => false,
        }
    }
}

/// Who decided: a rule, an exempt, or nothing (no rule left).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decider {
    /// A mask rule or `accessible if` (several when combined), with its name and location.
    Rules(Vec<(String, crate::source_map::Loc)>),
    /// An `exempt` declaration.
    Exempt(crate::source_map::Loc),
    /// No rule decides: clear.
    Nothing,
    /// The derived column's inputs or the struct.
    Inputs,
}

/// One part of a decision: where it applies, what it does, who decided.
#[derive(Clone, Debug)]
pub struct Part<'a> {
    pub when: F,
    pub effect: Effect<'a>,
    pub decider: Decider,
}

/// A column's decision: disjoint parts covering every subject and row.
#[derive(Clone, Debug)]
pub struct ColumnDecision<'a> {
    pub parts: Vec<Part<'a>>,
}

impl<'a> ColumnDecision<'a> {
    /// Where the effect is `e`.
    pub fn effect(&self, bdd: &mut Bdd, e: &Effect<'_>) -> F {
        let fs: Vec<F> = self
            .parts
            .iter()
            .filter(|p| &p.effect == e)
            .map(|p| p.when)
            .collect();
        bdd.any(fs)
    }

    /// The distinct effects, in the order of their first part.
    pub fn effects(&self) -> Vec<Effect<'a>> {
        let mut out: Vec<Effect<'a>> = Vec::new();
        for p in &self.parts {
            if !out.contains(&p.effect) {
                out.push(p.effect.clone());
            }
        }
        out
    }
}

/// A row rule's part in a source's visibility.
#[derive(Clone, Debug)]
pub struct RowPart {
    /// Where the rule lets the row through.
    pub passes: F,
    pub rule: String,
    pub loc: crate::source_map::Loc,
}

/// The decisions of one policy set, over a shared atom table.
pub struct Decisions<'a> {
    pub model: &'a Model,
    pub resolution: &'a Resolution,
    pub files: &'a SourceMap,
    /// The exempts covering each source, computed on first use (a scope may list thousands
    /// of sources, and every column asks).
    exempts: std::cell::OnceCell<Vec<Vec<usize>>>,
}

impl<'a> Decisions<'a> {
    /// The decisions of a checked policy set.
    pub fn new(model: &'a Model, resolution: &'a Resolution, files: &'a SourceMap) -> Self {
        Decisions {
            model,
            resolution,
            files,
            exempts: std::cell::OnceCell::new(),
        }
    }

    fn exempts_of(&self, s: SourceId) -> &[usize] {
        let all = self.exempts.get_or_init(|| {
            let mut by: Vec<Vec<usize>> = vec![Vec::new(); self.model.sources.len()];
            for (i, e) in self.model.exempts.iter().enumerate() {
                for &src in &e.scope.sources {
                    if let Some(v) = by.get_mut(src) {
                        v.push(i);
                    }
                }
            }
            by
        });
        all.get(s).map(|v| v.as_slice()).unwrap_or(&[])
    }

    fn cx(&self) -> Ctx<'_> {
        Ctx {
            model: self.model,
            files: self.files,
        }
    }

    /// Where an `exempt` covering the source holds, with each exempt's own function.
    pub fn exempt(&self, atoms: &mut Atoms, s: SourceId) -> Vec<(F, crate::source_map::Loc)> {
        let mut out = Vec::new();
        for &i in self.exempts_of(s) {
            if let Some(e) = self.model.exempts.get(i) {
                let tri = atoms.cond(self.cx(), &e.cond, e.loc.file);
                out.push((tri.t, e.loc));
            }
        }
        out
    }

    /// A column's own decision (§6.1–§6.5), exempt included.
    pub fn own(&self, atoms: &mut Atoms, s: SourceId, c: ColumnId) -> ColumnDecision<'a> {
        let mut parts = Vec::new();
        let mut undecided = Bdd::TRUE;
        for (when, loc) in self.exempt(atoms, s) {
            let w = atoms.bdd.and(undecided, when);
            parts.push(Part {
                when: w,
                effect: Effect::Clear,
                decider: Decider::Exempt(loc),
            });
            undecided = atoms.bdd.and_not(undecided, when);
        }
        for cand in self.resolution.candidates(s, c) {
            undecided = self.candidate(atoms, s, cand, undecided, &mut parts);
        }
        parts.push(Part {
            when: undecided,
            effect: Effect::Clear,
            decider: Decider::Nothing,
        });
        parts.retain(|p| p.when != Bdd::FALSE);
        ColumnDecision { parts }
    }

    /// Adds one candidate's parts; returns where it leaves the cell undecided.
    fn candidate(
        &self,
        atoms: &mut Atoms,
        s: SourceId,
        cand: &Candidate,
        undecided: F,
        parts: &mut Vec<Part<'a>>,
    ) -> F {
        let model = self.model;
        let src = model.sources.get(s);
        let named = |r: RuleRef| (rule_name(model, r), crate::conflicts::authored(model, r));
        if let [RuleRef::Mask(id)] = cand.rules.as_slice() {
            let Some(rule) = model.mask_rules.get(*id) else {
                return undecided;
            };
            let file = rule.loc.file;
            // §6.8: a rule reading `row[tagged T]` where the source has no column tagged T
            // does not apply here (the checker's answer, `applies_on`).
            if !rule.applies_on(s) {
                return undecided;
            }
            let decides = match &rule.where_ {
                Some(w) if !src.is_some_and(|src| row_missing(src, w)) => {
                    let tri = atoms.cond(self.cx(), w, file);
                    atoms.bdd.and_not(undecided, tri.f)
                }
                _ => undecided,
            };
            let who = Decider::Rules(vec![named(RuleRef::Mask(*id))]);
            let mut push = |when: F, effect: Effect<'a>| {
                parts.push(Part {
                    when,
                    effect,
                    decider: who.clone(),
                })
            };
            match &rule.body {
                MaskBody::Everyone(t) => push(decides, Effect::Technique(Technique(t))),
                MaskBody::Except(t, c) => {
                    let tri = atoms.cond(self.cx(), c, file);
                    push(atoms.bdd.and(decides, tri.t), Effect::Clear);
                    push(
                        atoms.bdd.and_not(decides, tri.t),
                        Effect::Technique(Technique(t)),
                    );
                }
                MaskBody::Who(clauses, otherwise) => {
                    let mut rest = decides;
                    for (c, t) in clauses {
                        let tri = atoms.cond(self.cx(), c, file);
                        push(atoms.bdd.and(rest, tri.t), Effect::Technique(Technique(t)));
                        let known = atoms.bdd.or(tri.t, tri.f);
                        push(atoms.bdd.and_not(rest, known), Effect::UnknownWho);
                        rest = atoms.bdd.and(rest, tri.f);
                    }
                    match otherwise {
                        Some(t) => push(rest, Effect::Technique(Technique(t))),
                        None => push(rest, Effect::Clear),
                    }
                }
            }
            return atoms.bdd.and_not(undecided, decides);
        }
        // `accessible if`, or tied `for everyone except` rules combined: exceptions OR'ed.
        let mut technique = None;
        let mut exception = Bdd::FALSE;
        let mut rules = Vec::new();
        for r in &cand.rules {
            if !applies_on(model, *r, s) {
                continue;
            }
            let (t, cond, file) = match *r {
                RuleRef::Accessible(rs, rc) => {
                    let Some(a) = model
                        .sources
                        .get(rs)
                        .and_then(|x| x.columns.get(rc))
                        .and_then(|c| c.accessible.as_ref())
                    else {
                        return undecided;
                    };
                    (&a.technique, &a.cond, a.loc.file)
                }
                RuleRef::Mask(id) => {
                    match model.mask_rules.get(id).map(|m| (&m.body, m.loc.file)) {
                        Some((MaskBody::Except(t, cond), file)) => (t, cond, file),
                        _ => return undecided,
                    }
                }
            };
            technique = Some(t);
            let tri = atoms.cond(self.cx(), cond, file);
            exception = atoms.bdd.or(exception, tri.t);
            rules.push(named(*r));
        }
        let Some(t) = technique else {
            return undecided;
        };
        let who = Decider::Rules(rules);
        parts.push(Part {
            when: atoms.bdd.and(undecided, exception),
            effect: Effect::Clear,
            decider: who.clone(),
        });
        parts.push(Part {
            when: atoms.bdd.and_not(undecided, exception),
            effect: Effect::Technique(Technique(t)),
            decider: who,
        });
        Bdd::FALSE
    }

    /// A column's final decision: its own, except that it is clear only where every input
    /// (derived columns), every field below it and its enclosing struct are clear (§6.6).
    pub fn column(&self, atoms: &mut Atoms, s: SourceId, c: ColumnId) -> ColumnDecision<'a> {
        let own = self.own(atoms, s, c);
        let own_clear = own.effect(&mut atoms.bdd, &Effect::Clear);
        let mut memo = std::collections::HashMap::new();
        let mut owns = std::collections::HashMap::new();
        owns.insert(c, own_clear);
        let clear = self.final_clear(atoms, s, c, &mut memo, &mut owns, 0);
        let lost = atoms.bdd.and_not(own_clear, clear);
        if lost == Bdd::FALSE {
            return own;
        }
        let mut parts = Vec::new();
        for p in own.parts {
            if p.effect == Effect::Clear {
                let when = atoms.bdd.and(p.when, clear);
                parts.push(Part { when, ..p });
            } else {
                parts.push(p);
            }
        }
        parts.push(Part {
            when: lost,
            effect: Effect::ThroughInput,
            decider: Decider::Inputs,
        });
        parts.retain(|p| p.when != Bdd::FALSE);
        ColumnDecision { parts }
    }

    fn own_clear(
        &self,
        atoms: &mut Atoms,
        s: SourceId,
        c: ColumnId,
        owns: &mut std::collections::HashMap<ColumnId, F>,
    ) -> F {
        if let Some(&f) = owns.get(&c) {
            return f;
        }
        let own = self.own(atoms, s, c);
        let f = own.effect(&mut atoms.bdd, &Effect::Clear);
        owns.insert(c, f);
        f
    }

    fn final_clear(
        &self,
        atoms: &mut Atoms,
        s: SourceId,
        c: ColumnId,
        memo: &mut std::collections::HashMap<ColumnId, F>,
        owns: &mut std::collections::HashMap<ColumnId, F>,
        depth: usize,
    ) -> F {
        if let Some(&f) = memo.get(&c) {
            return f;
        }
        let Some(src) = self.model.sources.get(s) else {
            return Bdd::FALSE;
        };
        if depth > src.columns.len() {
            return Bdd::FALSE;
        }
        let Some(col) = src.columns.get(c) else {
            return Bdd::FALSE;
        };
        let mut clear = self.own_clear(atoms, s, c, owns);
        let mut p = col.parent;
        while let Some(pp) = p {
            let pc = self.own_clear(atoms, s, pp, owns);
            clear = atoms.bdd.and(clear, pc);
            p = src.columns.get(pp).and_then(|x| x.parent);
        }
        let kids: Vec<ColumnId> = (0..src.columns.len())
            .filter(|&k| src.columns.get(k).is_some_and(|x| x.parent == Some(c)))
            .collect();
        let reads: Vec<ColumnId> = col.derived.iter().flat_map(|d| d.reads.clone()).collect();
        for k in kids.into_iter().chain(reads) {
            let kc = self.final_clear(atoms, s, k, memo, owns, depth + 1);
            clear = atoms.bdd.and(clear, kc);
        }
        memo.insert(c, clear);
        clear
    }

    /// A source's row rules (§4, §6.7, §6.8): where each lets a row through, and where an
    /// exempt makes every row shown.
    pub fn rows(&self, atoms: &mut Atoms, s: SourceId) -> (Vec<RowPart>, F) {
        let exempt: Vec<F> = self.exempt(atoms, s).into_iter().map(|(f, _)| f).collect();
        let exempt = atoms.bdd.any(exempt);
        let mut out = Vec::new();
        let model = self.model;
        let Some(src) = model.sources.get(s) else {
            return (out, exempt);
        };
        for rule in &model.row_rules {
            let Some(policy) = model.policies.get(rule.policy) else {
                continue;
            };
            if rule.staged || !policy.scope.sources.contains(&s) {
                continue;
            }
            if !rule.applies_on(s) {
                continue;
            }
            let file = rule.loc.file;
            let filt = self.filter(atoms, src, &rule.filter, file);
            let passes = match &rule.audience {
                RowAudience::Everyone => filt,
                RowAudience::Except(c) => {
                    let tri = atoms.cond(self.cx(), c, file);
                    atoms.bdd.or(tri.t, filt)
                }
                RowAudience::Who(c, other) => {
                    let tri = atoms.cond(self.cx(), c, file);
                    let other = match other {
                        Some(f) => self.filter(atoms, src, f, file),
                        None => Bdd::TRUE,
                    };
                    let a = atoms.bdd.and(tri.t, filt);
                    let b = atoms.bdd.and(tri.f, other);
                    let known = atoms.bdd.or(tri.t, tri.f);
                    let both = atoms.bdd.and(filt, other);
                    let u = atoms.bdd.and_not(both, known);
                    let ab = atoms.bdd.or(a, b);
                    atoms.bdd.or(ab, u)
                }
            };
            out.push(RowPart {
                passes,
                rule: policy.name.clone(),
                loc: rule.loc,
            });
        }
        (out, exempt)
    }

    /// Where a row passes one filter (unknown hides it).
    fn filter(
        &self,
        atoms: &mut Atoms,
        src: &crate::model::Source,
        f: &RowFilter,
        file: FileId,
    ) -> F {
        match f {
            RowFilter::Where(e) if row_missing(src, e) => Bdd::FALSE,
            RowFilter::Where(e) => atoms.cond(self.cx(), e, file).t,
            RowFilter::NewerThan(d) | RowFilter::OlderThan(d) => {
                let newer = matches!(f, RowFilter::NewerThan(_));
                match (d, event_timestamp(src)) {
                    (DurationValue::Seconds(secs), Some(column)) => {
                        atoms.window(column, newer, *secs)
                    }
                    _ => row_atom(
                        atoms,
                        format!(
                            "the row is {} than {d}",
                            if newer { "newer" } else { "older" }
                        ),
                    ),
                }
            }
            RowFilter::Sample(p) => row_atom(atoms, format!("the row is in the {p}% sample")),
            RowFilter::Never => Bdd::FALSE,
            // No link to the parent (W0002): no rows.
            RowFilter::Linked(p) if src.link_to(*p).is_none() => Bdd::FALSE,
            // The parent row is another row, decided by the parent's own rules: an opaque
            // fact about the row (sound: it may hold or fail for any subject).
            RowFilter::Linked(p) => {
                let parent = self.model.sources.get(*p).map_or("?", |x| x.name.as_str());
                row_atom(
                    atoms,
                    format!("the `{parent}` row it links to is given and shown to the subject"),
                )
            }
        }
    }

    /// Where the row is shown: exempt, or every row rule lets it through.
    pub fn shown(&self, atoms: &mut Atoms, s: SourceId) -> F {
        let (parts, exempt) = self.rows(atoms, s);
        let all = atoms.bdd.all(parts.iter().map(|p| p.passes));
        atoms.bdd.or(exempt, all)
    }
}

fn row_atom(atoms: &mut Atoms, text: String) -> F {
    use super::atoms::{Atom, Opaque};
    let v = atoms.atom(Atom::Opaque {
        text: text.clone(),
        kind: Opaque::Row,
        holds: true,
    });
    atoms.atom(Atom::Opaque {
        text,
        kind: Opaque::Row,
        holds: false,
    });
    atoms.bdd.var(v)
}

/// The source's event-time column, when it is a timestamp (a date event column, and calendar
/// windows, stay opaque).
fn event_timestamp(src: &crate::model::Source) -> Option<&str> {
    let c = src.columns.get(src.event_time?)?;
    (c.ty == crate::model::Ty::Timestamp).then_some(c.name.as_str())
}

/// The `Tri` of a condition that is not there: true.
pub fn always() -> Tri {
    Tri::constant(true)
}

/// Does `e` read `row.x` where the source has no column x (§6.8 lockout)?
fn row_missing(src: &crate::model::Source, e: &CExpr) -> bool {
    e.row_refs().iter().any(|(n, _)| src.column(n).is_none())
}
