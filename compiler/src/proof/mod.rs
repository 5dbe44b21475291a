//! Access review by proof (issue 16): who can see a column in clear, who gets which
//! technique, who sees which rows — for every possible subject, not by examples — and the
//! checks built on it (`guarantee` declarations, `polc diff --prove`).
//!
//! A backend of the resolved model: it reads the [`Model`] and the [`Resolution`] (and the
//! files only to quote conditions), never syntax. Conditions on the user become *atoms*
//! ([`atoms`]); a decision becomes a boolean function of them ([`decision`]), represented as a
//! BDD ([`bdd`]); a function is stated back as a short disjunction of the policy's predicates
//! ([`formula`]) or made concrete as a counter-example subject ([`witness`]).

pub mod atoms;
pub mod bdd;
pub mod decision;
pub mod formula;
pub mod guarantee;
pub mod reveal;
pub mod technique;
pub mod terms;
pub mod witness;

use serde::Serialize;

use crate::conflicts::Resolution;
use crate::model::{GrantAudience, GrantKind, Model};
use crate::source_map::SourceMap;

use atoms::{Atoms, Ctx};
use bdd::F;
use decision::{Decisions, Effect};
use formula::{formula, Formula};

/// A checked policy set.
#[derive(Clone, Copy)]
pub struct Set<'a> {
    pub model: &'a Model,
    pub resolution: &'a Resolution,
    pub files: &'a SourceMap,
}

impl<'a> Set<'a> {
    fn decisions(&self) -> Decisions<'a> {
        Decisions::new(self.model, self.resolution, self.files)
    }
}

/// Why a question cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofError {
    /// No source of that name.
    NoSuchSource(String),
    /// The source has no column of that name.
    NoSuchColumn(String, String),
}

impl std::fmt::Display for ProofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProofError::NoSuchSource(s) => write!(f, "no source named `{s}`"),
            ProofError::NoSuchColumn(s, c) => write!(f, "source `{s}` has no column `{c}`"),
        }
    }
}

impl std::error::Error for ProofError {}

/// Who gets what of one column.
#[derive(Clone, Debug, Serialize)]
pub struct ColumnReport {
    pub source: String,
    pub column: String,
    /// Where the cell is shown clear.
    pub clear: Formula,
    /// Where each other effect applies, in a stable order.
    pub masked: Vec<EffectReport>,
    /// Temporary unmask grants that can make the cell clear for everyone, apart.
    pub grants: Vec<String>,
    /// Temporary unmask grants that need approval (a pending request unmasks nothing), apart
    /// from both.
    pub approval_grants: Vec<String>,
    /// Detokenize grants on this column: the original of a token, to the audience, audited.
    pub detokenize: Vec<String>,
    /// Masking levels: a technique chosen per row by its level, stated apart.
    pub levels: Vec<String>,
    /// The source's k-anonymity, when this column is one of its quasi-identifiers.
    pub k_anonymity: Option<String>,
    /// Conditions the procedure does not decide (opaque: free, true, false or unknown).
    pub depends_on: Vec<String>,
}

/// Where one effect applies.
#[derive(Clone, Debug, Serialize)]
pub struct EffectReport {
    pub effect: String,
    pub when: Formula,
}

/// Who sees which rows of a source.
#[derive(Clone, Debug, Serialize)]
pub struct RowsReport {
    pub source: String,
    /// Where a row is shown.
    pub shown: Formula,
    /// Where an exempt shows every row.
    pub exempt: Formula,
    /// Each row rule: where it lets a row through.
    pub rules: Vec<EffectReport>,
    /// The source's k-anonymity: shown rows are released only in groups of at least K.
    pub k_anonymity: Option<String>,
    /// Conditions the procedure does not decide (opaque: free, true, false or unknown).
    pub depends_on: Vec<String>,
}

/// The atom table's domain after everything was abstracted.
fn domain(atoms: &mut Atoms) -> F {
    atoms.domain()
}

/// Who gets what of `source.column`.
pub fn who_can_see_column(
    set: Set<'_>,
    source: &str,
    column: &str,
) -> Result<ColumnReport, ProofError> {
    let s = set
        .model
        .source(source)
        .ok_or_else(|| ProofError::NoSuchSource(source.to_string()))?;
    let c = set
        .model
        .sources
        .get(s)
        .and_then(|x| x.column(column))
        .ok_or_else(|| ProofError::NoSuchColumn(source.to_string(), column.to_string()))?;
    let mut atoms = Atoms::default();
    let d = set.decisions().column(&mut atoms, s, c);
    let dom = domain(&mut atoms);
    let clear_f = d.effect(&mut atoms.bdd, &Effect::Clear);
    let clear = formula(&mut atoms, clear_f, dom);
    let mut effects = d.effects();
    effects.retain(|e| *e != Effect::Clear);
    let mut masked = Vec::new();
    for e in in_report_order(effects) {
        let f = d.effect(&mut atoms.bdd, &e);
        let when = formula(&mut atoms, f, dom);
        if !when.no_one {
            masked.push(EffectReport {
                effect: e.text(),
                when,
            });
        }
    }
    Ok(ColumnReport {
        source: source.to_string(),
        column: column.to_string(),
        clear,
        masked,
        grants: grants(set, s, false),
        approval_grants: grants(set, s, true),
        detokenize: detokenize(set, s, c),
        levels: levels(set, &d),
        k_anonymity: k_anonymity(set.model, s)
            .filter(|k| k.columns.contains(&c))
            .map(|k| k.text),
        depends_on: depends_on(&atoms),
    })
}

/// Who sees which rows of `source`.
pub fn who_can_see_rows(set: Set<'_>, source: &str) -> Result<RowsReport, ProofError> {
    let s = set
        .model
        .source(source)
        .ok_or_else(|| ProofError::NoSuchSource(source.to_string()))?;
    let mut atoms = Atoms::default();
    let (parts, exempt) = set.decisions().rows(&mut atoms, s);
    let all = atoms.bdd.all(parts.iter().map(|p| p.passes));
    let shown = atoms.bdd.or(exempt, all);
    let dom = domain(&mut atoms);
    let rules = parts
        .iter()
        .map(|p| EffectReport {
            effect: format!("row rule of `{}`", p.rule),
            when: formula(&mut atoms, p.passes, dom),
        })
        .collect();
    Ok(RowsReport {
        source: source.to_string(),
        shown: formula(&mut atoms, shown, dom),
        exempt: formula(&mut atoms, exempt, dom),
        rules,
        k_anonymity: k_anonymity(set.model, s).map(|k| k.text),
        depends_on: depends_on(&atoms),
    })
}

/// The temporary unmask grants that cover a source, as sentences (stated apart: a grant
/// makes a record clear for every user while it holds): those that need approval, or the others.
fn grants(set: Set<'_>, s: usize, approved: bool) -> Vec<String> {
    let model = set.model;
    let mut out = Vec::new();
    for g in &model.grants {
        let GrantKind::TemporaryUnmask { seconds, approval } = &g.kind else {
            continue;
        };
        let Some(policy) = model.policies.get(g.policy) else {
            continue;
        };
        if g.staged || !policy.scope.sources.contains(&s) || approval.is_some() != approved {
            continue;
        }
        let quote = |c: &crate::model::CExpr| quote(set, g, c);
        let who = audience(set, g);
        let line = match approval {
            None => format!(
                "clear for everyone on a record under a temporary unmask grant of `{}` (up to {}h; requested by: {who})",
                policy.name,
                seconds / 3600
            ),
            // Approval-gated: nothing is clear while a request waits (listed apart).
            Some(a) => format!(
                "clear for everyone on a record under an approved temporary unmask grant of `{}` (up to {}h from the approval; requested by: {who}; approved by: {}, never the requester, within {}; a pending request unmasks nothing)",
                policy.name,
                seconds / 3600,
                quote(&a.approvers),
                approval_window(a.window)
            ),
        };
        out.push(line);
    }
    out
}

/// A condition of a grant, as written.
fn quote(set: Set<'_>, g: &crate::model::Grant, c: &crate::model::CExpr) -> String {
    set.files
        .snippet(crate::source_map::Loc::new(g.loc.file, c.span))
        .to_string()
}

/// Who may use a grant, as written.
fn audience(set: Set<'_>, g: &crate::model::Grant) -> String {
    match &g.audience {
        GrantAudience::Everyone => "anyone".to_string(),
        GrantAudience::Except(c) => format!("anyone except where {}", quote(set, g, c)),
        GrantAudience::Who(c) => quote(set, g, c),
    }
}

/// The `allow detokenize` grants of a column, as sentences.
fn detokenize(set: Set<'_>, s: usize, c: usize) -> Vec<String> {
    let model = set.model;
    let mut out = Vec::new();
    for g in &model.grants {
        let GrantKind::Detokenize { source, column } = &g.kind else {
            continue;
        };
        if g.staged || *source != s || *column != c {
            continue;
        }
        let Some(policy) = model.policies.get(g.policy) else {
            continue;
        };
        let who = audience(set, g);
        out.push(format!(
            "the original of a token, on request, audited, under `allow detokenize` of `{}` (for: {who})",
            policy.name
        ));
    }
    out
}

/// Effects in the order a report lists them: by [`Effect::rank`], then by their text (a
/// stable order whatever the order of the rules).
fn in_report_order(effects: Vec<Effect<'_>>) -> Vec<Effect<'_>> {
    let mut keyed: Vec<((u8, String), Effect<'_>)> = effects
        .into_iter()
        .map(|e| ((e.rank(), e.text()), e))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, e)| e).collect()
}

/// The techniques chosen per row by masking level (`by level { … }`), as sentences.
fn levels(set: Set<'_>, d: &decision::ColumnDecision<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in in_report_order(d.effects()) {
        let Effect::Technique(t) = &e else {
            continue;
        };
        if !t.by_level() {
            continue;
        }
        let names: Vec<&str> = set.model.levels.iter().map(|l| l.name.as_str()).collect();
        let line = format!(
            "`{}` picks the technique by the row's masking level ({}; a level with no entry uses the highest level's)",
            t.text(),
            names.join(" > ")
        );
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// A source's k-anonymity, stated apart.
pub struct KReport {
    pub columns: Vec<usize>,
    pub text: String,
}

/// The k-anonymity a source enforces, as a sentence: its quasi-identifiers are released only
/// in groups of at least K shown rows (generalised or suppressed by the batch paths). It
/// masks nothing per cell: a quasi-identifier a rule leaves clear is clear in a group of K or
/// more (the proof counts it clear), and an exempt user gets no k-anonymity.
pub fn k_anonymity(model: &Model, s: usize) -> Option<KReport> {
    let req = model.k_anonymity_of(s)?;
    let src = model.sources.get(s)?;
    let names: Vec<String> = req
        .columns
        .iter()
        .filter_map(|&c| src.columns.get(c).map(|x| x.name.clone()))
        .collect();
    let policies: Vec<String> = model
        .k_anonymity
        .iter()
        .filter(|r| !r.staged && r.columns.iter().any(|(x, _)| *x == s))
        .filter_map(|r| {
            model
                .policies
                .get(r.policy)
                .map(|p| format!("`{}`", p.name))
        })
        .collect();
    Some(KReport {
        columns: req.columns.clone(),
        text: format!(
            "k_anonymity {} over {} ({}): batches release these columns only in groups of at least {} shown rows with the same values (generalised, else suppressed); a single row is refused; an exempt subject gets no k-anonymity",
            req.k,
            names.join(", "),
            policies.join(", "),
            req.k
        ),
    })
}

/// The opaque conditions of an analysis, and the relations decided only approximately.
fn depends_on(atoms: &Atoms) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in &atoms.list {
        if let atoms::Atom::Opaque {
            text, holds: true, ..
        } = a
        {
            if !out.contains(text) {
                out.push(text.clone());
            }
        }
    }
    for c in terms::components(atoms) {
        if !c.exact {
            let names: Vec<String> = c.names().map(|(n, _)| n.to_string()).collect();
            out.push(format!(
                "the comparisons between {} (more terms with offsets, or more combinations, than decided exactly)",
                names.join(", ")
            ));
        }
    }
    out
}

/// An approval window as written in policies (`4h`, `90m`).
fn approval_window(seconds: i64) -> String {
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else {
        format!("{}m", seconds / 60)
    }
}

/// The context of a condition of `set`, for [`Atoms::cond`].
pub fn ctx<'a>(set: Set<'a>) -> Ctx<'a> {
    Ctx {
        model: set.model,
        files: set.files,
    }
}
