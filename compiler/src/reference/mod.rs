//! The reference evaluator: a small tree-walking interpreter over the checked [`Model`] and
//! its [`Resolution`] that states the language's run-time semantics as plainly as possible
//! (docs/language.md §3–§7). It is slow on purpose and exists to be compared with the bundle and the
//! runtime engine (the optimised path), cell by cell.
//!
//! Everything — which rule decides, audiences, `where`, exceptions, exempt, derived columns,
//! lockout, visibility, row rules, masking levels, three-valued logic, the techniques of §5
//! (`techniques/`, one module per family, with the reference's own key derivation) and the
//! decoding of subjects ([`Subject::decode`], §8) — is written out here: the reference shares
//! no evaluation code with the runtime's interpreter or engine, so that the differential tests
//! compare two implementations. It shares plain data types only (`Value`, `ColumnType`, and
//! `SubjectError` as an error value).
//!
//! Three-valued conditions (§3) and the safer side of *unknown*, decision by decision:
//! an exception that is unknown is not granted; an exempt that is unknown is not held; a
//! `where` that is unknown lets its rule decide; a `who` clause that is unknown masks with null;
//! a row filter that is unknown hides the row; a row rule's `who` that is unknown applies both
//! its filter and its `otherwise`; a `visible if` that is unknown hides the column.
//!
//! `expr(…)` techniques evaluate the expression the checker typed for the column's type (and
//! source) with `value` bound to the cell ([`Env::value`]); where there is none, the cell is
//! null. Not covered: temporary unmask and detokenize (§7) are requests to a running engine,
//! not part of masking a row.

mod eval;
pub mod k_anonymity;
mod row;
mod strings;
mod subject;
mod techniques;
mod values;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use pol_runtime::engine::SubjectError;
use pol_runtime::value::{ColumnType, Value};
use sha2::{Digest, Sha256};

use crate::conflicts::{applies_on, Candidate, Resolution, RuleRef};
use crate::model::{
    CExpr, ColumnId, DurationValue, ExprTechnique, MaskBody, Model, RowAudience, RowFilter,
    SourceId, TechArg, TechniqueUse, Ty,
};
use crate::techniques::{applies, column_type, fallback};

use eval::{instant, Env};
pub use eval::{Ev, Truth};
use row::Row;
pub use subject::Subject;

/// What the row rules and masks make of one row for one user.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The row rules hide the row.
    Hidden,
    /// The row is shown: every declared top-level column (derived ones included), in
    /// declaration order, masked.
    Shown(serde_json::Map<String, serde_json::Value>),
}

/// Why the reference could not evaluate a request.
#[derive(Clone, Debug, PartialEq)]
pub enum ReferenceError {
    /// No source has this name.
    NoSuchSource(String),
    /// The subject JSON is not usable.
    Subject(SubjectError),
    /// A cell is decided by a feature the reference does not evaluate (none since it
    /// evaluates `expr(…)`; kept for features added to the language before the reference).
    Unsupported(String),
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReferenceError::NoSuchSource(s) => write!(f, "no source named `{s}`"),
            ReferenceError::Subject(e) => e.fmt(f),
            ReferenceError::Unsupported(what) => {
                write!(f, "the reference evaluator does not support {what}")
            }
        }
    }
}

impl std::error::Error for ReferenceError {}

/// What a decision does to a cell (§6.5).
#[derive(Clone, Debug)]
enum Act<'m> {
    /// The raw value (a struct's fields still obey their own decisions).
    Clear,
    /// This technique, applied to the raw value.
    Mask(&'m TechniqueUse),
    /// Null: a `who` clause was unknown.
    Null,
}

/// The reference evaluator for one policy set, one key ring and one clock.
pub struct Reference<'m> {
    model: &'m Model,
    resolution: &'m Resolution,
    keys: Option<techniques::Keys>,
    now: DateTime<Utc>,
    regexes: RefCell<HashMap<String, Option<regex::Regex>>>,
    /// The parent rows given for linked visibility ([`Reference::with_parent_rows`]).
    parents: HashMap<SourceId, Vec<serde_json::Map<String, serde_json::Value>>>,
    supplied: eval::Supplied,
}

impl<'m> Reference<'m> {
    /// A reference evaluator. `resolution` gives each column's ordered candidates (§6.2–§6.4);
    /// `key` is the raw masking key (a key file's bytes), from which the reference derives its
    /// own sub-keys; keyed techniques need it (without it, or with a key shorter than 16 bytes,
    /// those cells are null); `now` is the evaluation clock.
    pub fn new(
        model: &'m Model,
        resolution: &'m Resolution,
        key: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Reference<'m> {
        Reference {
            model,
            resolution,
            keys: key.and_then(techniques::Keys::derive),
            now,
            regexes: RefCell::new(HashMap::new()),
            parents: HashMap::new(),
            supplied: HashMap::new(),
        }
    }

    /// Supplies the values of a table declared `supplied at run time` (as
    /// `Engine::set_table` does); `false` if the set declares no such table or its values
    /// come from a file. Until supplied, `x in table` is unknown.
    pub fn supply_table(&mut self, name: &str, values: pol_runtime::LookupValues) -> bool {
        match self.model.table(name) {
            Some(id)
                if self.model.tables.get(id).map(|t| &t.origin)
                    == Some(&crate::model::TableOrigin::Supplied) =>
            {
                self.supplied.insert(id, values);
                true
            }
            _ => false,
        }
    }

    /// Gives the rows of source `parent`, for the rows of sources that follow it (`only show
    /// rows linked to shown parent`): a child row passes if some given row of `parent` has the
    /// key its link column holds and every given row with that key is shown to the subject.
    /// Rows given in several calls add up. Without any, the child rows that follow it are
    /// hidden.
    pub fn with_parent_rows(
        &mut self,
        parent: &str,
        rows: impl IntoIterator<Item = serde_json::Map<String, serde_json::Value>>,
    ) -> Result<(), ReferenceError> {
        let p = self.source_id(parent)?;
        self.parents.entry(p).or_default().extend(rows);
        Ok(())
    }

    /// Decodes a subject by §8 ([`Subject::decode`], the reference's own decoding): missing
    /// built-ins are empty, a declared field of the wrong type is missing.
    pub fn subject(&self, json: &serde_json::Value) -> Result<Subject, ReferenceError> {
        let fields: Vec<(String, ColumnType)> = self
            .model
            .subject
            .iter()
            .filter(|f| f.loc.is_some())
            .map(|f| (f.name.clone(), subject_type(&f.ty)))
            .collect();
        Subject::decode(json, self.model, &fields).map_err(ReferenceError::Subject)
    }

    fn source_id(&self, name: &str) -> Result<SourceId, ReferenceError> {
        self.model
            .source(name)
            .ok_or_else(|| ReferenceError::NoSuchSource(name.to_string()))
    }

    fn env<'e>(&'e self, subject: &'e Subject, row: Option<&'e Row<'e>>) -> Env<'e> {
        Env {
            model: self.model,
            subject,
            now: self.now,
            row: row.map(|r| r as &dyn eval::RowView),
            value: None,
            regexes: &self.regexes,
            supplied: &self.supplied,
        }
    }

    /// `expr(E)` on cell `value` of column `c`: the expression typed for the column's type and
    /// source, evaluated with `value` bound; null where there is none or it is unknown.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn expr_technique(
        &self,
        x: &ExprTechnique,
        row: &Row<'_>,
        subject: &Subject,
        c: ColumnId,
        value: &Value,
    ) -> Value {
        let ty = &row.src().columns[c].ty;
        let Some(e) = x.for_column(row.source, ty) else {
            return Value::Null;
        };
        if self.row_missing(row.source, e) || self.tag_missing(row.source, e) {
            return Value::Null;
        }
        let mut env = self.env(subject, Some(row));
        env.value = Some(value);
        env.eval(e).into_value()
    }

    /// §6.1 / §4 `exempt COND [on SCOPE]`: an exempt covering the source holds for the user
    /// (unknown is not held).
    pub fn is_exempt(
        &self,
        source: &str,
        subject: &serde_json::Value,
    ) -> Result<bool, ReferenceError> {
        let s = self.source_id(source)?;
        let subject = self.subject(subject)?;
        Ok(self.exempt(s, &subject))
    }

    fn exempt(&self, s: SourceId, subject: &Subject) -> bool {
        let env = self.env(subject, None);
        self.model
            .exempts
            .iter()
            .any(|e| e.scope.sources.contains(&s) && env.truth(&e.cond) == Truth::True)
    }

    /// The top-level columns listed for the user, in declaration order (§4): `visible if C`
    /// when the column has one (unknown hides it); otherwise a column with `accessible if C`
    /// is visible exactly when it is accessible — C holds, or the user is exempt on the source
    /// (a C that reads the row cannot be decided per user and hides it); every other column is
    /// visible.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn visible_columns(
        &self,
        source: &str,
        subject: &serde_json::Value,
    ) -> Result<Vec<String>, ReferenceError> {
        let s = self.source_id(source)?;
        let subject = self.subject(subject)?;
        let env = self.env(&subject, None);
        let exempt = self.exempt(s, &subject);
        Ok(self.model.sources[s]
            .top_columns()
            .filter(|(_, c)| match (&c.visible, &c.accessible) {
                (Some(v), _) => env.truth(v) == Truth::True,
                (None, Some(a)) => {
                    exempt || (!a.cond.reads_row() && env.truth(&a.cond) == Truth::True)
                }
                (None, None) => true,
            })
            .map(|(_, c)| c.name.clone())
            .collect())
    }

    /// Masks one JSON row of `source` for the user described by `subject` (§6): `Hidden` when
    /// the row rules hide it, else every declared top-level column in declaration order. On a
    /// source with k-anonymity, the row alone shows its quasi-identifiers null.
    pub fn mask_row(
        &self,
        source: &str,
        subject: &serde_json::Value,
        row: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Outcome, ReferenceError> {
        let mut outcome = self.mask_row_in_batch(source, subject, row)?;
        // A row alone cannot be k-anonymous for k ≥ 2: its quasi-identifiers are null.
        if let (Outcome::Shown(out), Some(quasi)) =
            (&mut outcome, self.quasi_identifiers(source, subject)?)
        {
            for (name, _) in quasi.columns {
                out.insert(name, serde_json::Value::Null);
            }
        }
        Ok(outcome)
    }

    /// [`mask_row`](Self::mask_row) as a row of a batch: the quasi-identifiers of a source
    /// that declares k-anonymity are left as masked, for the batch to make k-anonymous
    /// ([`k_anonymity`]).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn mask_row_in_batch(
        &self,
        source: &str,
        subject: &serde_json::Value,
        row: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Outcome, ReferenceError> {
        let s = self.source_id(source)?;
        let subject = self.subject(subject)?;
        let row = Row::decode(
            self.model,
            s,
            row,
            &subject,
            self.now,
            (&self.regexes, &self.supplied),
        );
        let exempt = self.exempt(s, &subject);
        // §6.7: an exempt user sees every row.
        if !exempt && !self.row_shown(&row, &subject) {
            return Ok(Outcome::Hidden);
        }
        let src = &self.model.sources[s];
        let n = src.columns.len();
        // §6.1: exempt means clear; otherwise each column's own decision (§6.2–§6.5).
        let mut acts: Vec<Act<'m>> = Vec::with_capacity(n);
        for c in 0..n {
            acts.push(if exempt {
                Act::Clear
            } else {
                self.decide(&row, &subject, c)
            });
        }
        let clear = self.final_clear(&row, &acts);
        let mut out = serde_json::Map::new();
        for (c, col) in src.top_columns() {
            // §6.9: a cell whose type does not match its declaration is null.
            let v = if row.mismatch[c] {
                Value::Null
            } else if col.derived.is_some() && !clear_inputs(&clear, col) {
                // §6.6: an input is not clear: null, unless the derived column's own rule
                // masks it, whose technique then applies to the computed value.
                match &acts[c] {
                    Act::Mask(t) => self.apply(t, &row, &subject, c, &row.raw[c])?,
                    _ => Value::Null,
                }
            } else {
                self.act(&row, &subject, &acts, c, row.raw[c].clone())?
            };
            out.insert(col.name.clone(), v.to_json());
        }
        Ok(Outcome::Shown(out))
    }

    // ---- row rules (§4, §6.7, §6.8) ------------------------------------------------------

    /// Every enforced row rule covering the source applies, AND'ed.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn row_shown(&self, row: &Row<'_>, subject: &Subject) -> bool {
        let s = row.source;
        let env = self.env(subject, Some(row));
        for rule in &self.model.row_rules {
            if rule.staged || !self.model.policies[rule.policy].scope.sources.contains(&s) {
                continue;
            }
            // §6.8: `row[tagged T]` with no column tagged T: the rule does not apply here.
            if !rule.applies_on(s) {
                continue;
            }
            let pass = match &rule.audience {
                RowAudience::Everyone => self.filter(&rule.filter, row, &env),
                RowAudience::Except(c) => match env.truth(c) {
                    Truth::True => Truth::True,
                    _ => self.filter(&rule.filter, row, &env),
                },
                RowAudience::Who(c, other) => {
                    let otherwise = || match other {
                        Some(f) => self.filter(f, row, &env),
                        None => Truth::True,
                    };
                    match env.truth(c) {
                        Truth::True => self.filter(&rule.filter, row, &env),
                        Truth::False => otherwise(),
                        // Unknown: both the filter and the otherwise apply.
                        Truth::Unknown => self.filter(&rule.filter, row, &env).and(otherwise()),
                    }
                }
            };
            if pass != Truth::True {
                return false;
            }
        }
        true
    }

    /// Whether a row passes one filter (unknown hides it).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn filter(&self, f: &RowFilter, row: &Row<'_>, env: &Env<'_>) -> Truth {
        let src = row.src();
        let event = || {
            src.event_time
                .and_then(|c| instant(&row.raw[row::top_of(src, c)]))
        };
        let cutoff = |d: &DurationValue| match d {
            DurationValue::Seconds(secs) => {
                chrono::Duration::try_seconds(*secs).and_then(|d| self.now.checked_sub_signed(d))
            }
            DurationValue::Months(m) => m.checked_neg().and_then(|m| {
                eval::shift_months(self.now.date_naive(), m)
                    .map(|d| d.and_time(self.now.time()).and_utc())
            }),
        };
        match f {
            // §6.8 lockout: reading a column the source does not have shows no rows.
            RowFilter::Where(e) if self.row_missing(row.source, e) => Truth::False,
            RowFilter::Where(e) => env.truth(e),
            RowFilter::NewerThan(d) => match (event(), cutoff(d)) {
                (Some(t), Some(c)) => Truth::from_bool(t > c),
                (Some(_), None) => Truth::True,
                (None, _) => Truth::Unknown,
            },
            RowFilter::OlderThan(d) => match (event(), cutoff(d)) {
                (Some(t), Some(c)) => Truth::from_bool(t < c),
                (Some(_), None) => Truth::False,
                (None, _) => Truth::Unknown,
            },
            RowFilter::Sample(pct) => match src.key.map(|k| &row.raw[row::top_of(src, k)]) {
                None | Some(Value::Null) => Truth::Unknown,
                Some(k) => Truth::from_bool(sample_in(&src.name, k, *pct)),
            },
            RowFilter::Never => Truth::False,
            RowFilter::Linked(p) => self.linked(*p, row, env.subject),
        }
    }

    /// `only show rows linked to shown P` on one row: the source's link to P names a key;
    /// no link (lockout), a dangling key or a hidden parent row: false; a null key, or no rows
    /// of P given at all: unknown.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn linked(&self, p: SourceId, row: &Row<'_>, subject: &Subject) -> Truth {
        let src = row.src();
        let Some(link) = src.link_to(p) else {
            return Truth::False;
        };
        let fk = &row.raw[row::top_of(src, link.column)];
        let Some(parents) = self.parents.get(&p) else {
            return Truth::Unknown;
        };
        if matches!(fk, Value::Null) {
            return Truth::Unknown;
        }
        let Some(key) = self.model.sources[p].key else {
            return Truth::False;
        };
        let mut found = false;
        for json in parents {
            let parent = Row::decode(
                self.model,
                p,
                json,
                subject,
                self.now,
                (&self.regexes, &self.supplied),
            );
            if &parent.raw[key] != fk {
                continue;
            }
            found = true;
            // The parent row is shown: exempt on its source, or its row rules pass.
            if !self.exempt(p, subject) && !self.row_shown(&parent, subject) {
                return Truth::False;
            }
        }
        Truth::from_bool(found)
    }

    /// Does `e` read `row.x` where the source has no column x?
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn row_missing(&self, s: SourceId, e: &CExpr) -> bool {
        let src = &self.model.sources[s];
        e.row_refs().iter().any(|(n, _)| src.column(n).is_none())
    }

    /// Does `e` read `row[tagged T]` where no column of the source is tagged T (or below)?
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn tag_missing(&self, s: SourceId, e: &CExpr) -> bool {
        let src = &self.model.sources[s];
        e.tagged_refs().iter().any(|(t, _)| {
            !src.columns
                .iter()
                .any(|c| c.tags.iter().any(|&ct| self.model.tags.is_under(ct, *t)))
        })
    }

    // ---- mask rules (§6.2–§6.5, §6.8) ------------------------------------------------------

    /// A column's own decision for this row: the first candidate (in resolution order) whose
    /// `where` is not false decides through its audience; none left, clear.
    fn decide(&self, row: &Row<'_>, subject: &Subject, c: ColumnId) -> Act<'m> {
        let env = self.env(subject, Some(row));
        for cand in self.resolution.candidates(row.source, c) {
            if let Some(act) = self.candidate(row, &env, cand) {
                return act;
            }
        }
        Act::Clear
    }

    /// The decision of one candidate, or `None` when it does not decide this cell.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn candidate(&self, row: &Row<'_>, env: &Env<'_>, cand: &Candidate) -> Option<Act<'m>> {
        let s = row.source;
        let model = self.model;
        if let [RuleRef::Mask(id)] = cand.rules.as_slice() {
            let rule = &model.mask_rules[*id];
            // §6.8: `row[tagged T]` with no column tagged T: the rule does not apply here.
            if !rule.applies_on(s) {
                return None;
            }
            if let Some(w) = &rule.where_ {
                // §6.8 lockout: a `where` reading a column the source lacks counts as true;
                // otherwise false means the next rule decides and unknown lets this one decide.
                if !self.row_missing(s, w) && env.truth(w) == Truth::False {
                    return None;
                }
            }
            return Some(match &rule.body {
                MaskBody::Everyone(t) => Act::Mask(t),
                MaskBody::Except(t, cond) => match env.truth(cond) {
                    Truth::True => Act::Clear,
                    _ => Act::Mask(t),
                },
                MaskBody::Who(clauses, otherwise) => {
                    for (cond, t) in clauses {
                        match env.truth(cond) {
                            Truth::True => return Some(Act::Mask(t)),
                            Truth::Unknown => return Some(Act::Null),
                            Truth::False => {}
                        }
                    }
                    match otherwise {
                        Some(t) => Act::Mask(t),
                        None => Act::Clear,
                    }
                }
            });
        }
        // `accessible if`, or tied `for everyone except` rules with one technique combined
        // (§6.4): their exceptions are OR'ed.
        let mut technique = None;
        let mut exception = Truth::False;
        for r in &cand.rules {
            if !applies_on(model, *r, s) {
                continue;
            }
            let (t, cond) = match *r {
                RuleRef::Accessible(rs, rc) => {
                    let a = model.sources[rs].columns[rc].accessible.as_ref()?;
                    (&a.technique, &a.cond)
                }
                RuleRef::Mask(id) => match &model.mask_rules[id].body {
                    MaskBody::Except(t, cond) => (t, cond),
                    _ => return None,
                },
            };
            technique = Some(t);
            exception = exception.or(env.truth(cond));
        }
        let t = technique?;
        Some(if exception == Truth::True {
            Act::Clear
        } else {
            Act::Mask(t)
        })
    }

    /// §6.6: whether each column's cell comes out exactly as its raw value — its own decision
    /// is clear, it decoded as its type, every enclosing struct is clear, every field below it
    /// is clear, and (derived) every column it reads is clear.
    fn final_clear(&self, row: &Row<'_>, acts: &[Act<'m>]) -> Vec<bool> {
        let src = row.src();
        let n = src.columns.len();
        let mut memo: Vec<Option<bool>> = vec![None; n];
        (0..n)
            .map(|c| clear_of(src, row, acts, c, &mut memo, 0))
            .collect()
    }

    /// Applies a decision to a value of column `c`.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn act(
        &self,
        row: &Row<'_>,
        subject: &Subject,
        acts: &[Act<'m>],
        c: ColumnId,
        value: Value,
    ) -> Result<Value, ReferenceError> {
        match &acts[c] {
            Act::Null => Ok(Value::Null),
            Act::Mask(t) => self.apply(t, row, subject, c, &value),
            Act::Clear => self.fields(row, subject, acts, c, value),
        }
    }

    /// A clear struct (or list of structs): each field by its own decision.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn fields(
        &self,
        row: &Row<'_>,
        subject: &Subject,
        acts: &[Act<'m>],
        c: ColumnId,
        value: Value,
    ) -> Result<Value, ReferenceError> {
        let src = row.src();
        let kids: Vec<ColumnId> = (0..src.columns.len())
            .filter(|&k| src.columns[k].parent == Some(c))
            .collect();
        if kids.is_empty() {
            return Ok(value);
        }
        match value {
            Value::List(items) => Ok(Value::List(
                items
                    .into_iter()
                    .map(|i| self.fields(row, subject, acts, c, i))
                    .collect::<Result<_, _>>()?,
            )),
            Value::Struct(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for (name, v) in fields {
                    let k = kids
                        .iter()
                        .copied()
                        .find(|&k| row::field_name(src, k) == name);
                    let v = match k {
                        Some(k) => self.act(row, subject, acts, k, v)?,
                        None => Value::Null,
                    };
                    out.push((name, v));
                }
                Ok(Value::Struct(out))
            }
            other => Ok(other),
        }
    }

    /// Applies a technique to a cell (§5): the type fallback for a technique that does not
    /// apply to the column's type, `by level` per the row's masking level (§7); a technique
    /// that fails gives null (nothing fails open).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn apply(
        &self,
        t: &TechniqueUse,
        row: &Row<'_>,
        subject: &Subject,
        c: ColumnId,
        value: &Value,
    ) -> Result<Value, ReferenceError> {
        let src = row.src();
        let col = &src.columns[c];
        let fb;
        let mut t = t;
        if !applies(t, &col.ty) {
            fb = fallback(&col.ty);
            t = &fb;
        }
        if !t.by_level.is_empty() {
            let level = self.level(row);
            let highest = self.model.levels.first().map(|l| l.name.as_str());
            let entry = t
                .by_level
                .iter()
                .find(|(l, _)| Some(l.as_str()) == level)
                .or_else(|| t.by_level.iter().find(|(l, _)| Some(l.as_str()) == highest));
            return match entry {
                Some((_, e)) if e.by_level.is_empty() => self.apply(e, row, subject, c, value),
                _ => Ok(Value::Null),
            };
        }
        if let Some(TechArg::Expr(x)) = t.arg("expr") {
            return Ok(self.expr_technique(x, row, subject, c, value));
        }
        let key = src.key.map(|k| row.value(k)).filter(|v| !v.is_null());
        let cell = techniques::Cell {
            place: techniques::Place {
                source: &src.name,
                column: &col.name,
                row_key: key.as_ref(),
            },
            ty: &col.ty,
            now: self.now,
            keys: self.keys.as_ref(),
        };
        Ok(techniques::apply(t, value, &cell).unwrap_or(Value::Null))
    }

    /// §7: the row's masking level — the level column's value when it names a declared level
    /// (a text naming no level counts as the highest), else the source's default.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn level(&self, row: &Row<'_>) -> Option<&'m str> {
        let src = &self.model.sources[row.source];
        let plan = src.level.as_ref()?;
        let declared = |name: &str| {
            self.model
                .levels
                .iter()
                .find(|l| l.name == name)
                .map(|l| l.name.as_str())
        };
        match plan.column.map(|c| row.value(c)) {
            Some(Value::Text(s)) => {
                declared(&s).or_else(|| self.model.levels.first().map(|l| l.name.as_str()))
            }
            _ => declared(&plan.default),
        }
    }
}

fn clear_inputs(clear: &[bool], col: &crate::model::Column) -> bool {
    col.derived.as_ref().is_some_and(|d| {
        d.reads
            .iter()
            .all(|&r| clear.get(r).copied().unwrap_or(false))
    })
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn clear_of(
    src: &crate::model::Source,
    row: &Row<'_>,
    acts: &[Act<'_>],
    c: ColumnId,
    memo: &mut Vec<Option<bool>>,
    depth: usize,
) -> bool {
    if let Some(v) = memo[c] {
        return v;
    }
    if depth > src.columns.len() {
        // Only a cycle (rejected by the checker) gets here.
        return false;
    }
    let col = &src.columns[c];
    let mut clear = matches!(acts[c], Act::Clear) && !(col.parent.is_none() && row.mismatch[c]);
    let mut p = col.parent;
    while let Some(pp) = p {
        clear &= matches!(acts[pp], Act::Clear)
            && !(src.columns[pp].parent.is_none() && row.mismatch[pp]);
        p = src.columns[pp].parent;
    }
    if clear {
        for k in 0..src.columns.len() {
            if src.columns[k].parent == Some(c) && !clear_of(src, row, acts, k, memo, depth + 1) {
                clear = false;
                break;
            }
        }
    }
    if clear {
        if let Some(d) = &col.derived {
            for &r in &d.reads {
                if !clear_of(src, row, acts, r, memo, depth + 1) {
                    clear = false;
                    break;
                }
            }
        }
    }
    memo[c] = Some(clear);
    clear
}

/// The runtime type a declared subject field decodes as (sets are lists).
fn subject_type(ty: &Ty) -> ColumnType {
    match ty {
        Ty::Set(t) => ColumnType::List(Box::new(subject_type(t))),
        Ty::Purpose => ColumnType::Text,
        other => column_type(other).unwrap_or(ColumnType::Text),
    }
}

/// §4 `only show N% of rows`: a deterministic sample on the key, the same for every user —
/// the first 8 bytes of SHA-256(source + "\0" + the key's canonical text), big-endian, mod
/// 10000, below N × 100 (the runtime's documented choice).
pub fn sample_in(source: &str, key: &Value, pct: u8) -> bool {
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    h.update([0u8]);
    h.update(techniques::canonical_text(key).as_bytes());
    let digest = h.finalize();
    let first = digest.first_chunk::<8>().copied().unwrap_or_default();
    u64::from_be_bytes(first) % 10_000 < u64::from(pct) * 100
}

impl Reference<'_> {
    /// Evaluates a condition that reads no row for a subject (tools such as `polc diff` ask
    /// what a rule's audience makes of one user). A condition that reads the row is unknown.
    pub fn user_truth(&self, subject: &Subject, cond: &CExpr) -> Truth {
        if cond.reads_row() {
            return Truth::Unknown;
        }
        self.env(subject, None).truth(cond)
    }
}
