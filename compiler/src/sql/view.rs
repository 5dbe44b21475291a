//! The masked view of one source: the reference evaluator's decisions (`compiler/src/reference/`)
//! written as SQL.
//!
//! ```sql
//! WITH subject AS MATERIALIZED (
//!   SELECT u.*, <each decision that reads only the subject> d_j FROM (
//!     SELECT u.*, <key material>, <each condition on the subject alone> h_i
//!     FROM <the querying role's subject> u) u)
//! SELECT <each declared column, masked> FROM (
//!   SELECT <raw values>, <each distinct decision a_j>, <level>, <key material>,
//!          <values a technique reads twice, per row> l_c_k_j
//!   FROM base t, subject u, <active grants> g
//!   WHERE <exempt> OR <every row rule holds>
//!   OFFSET 0) x
//! ```
//!
//! A decision is an integer: 0 clear, -1 null (a `who` clause was unknown), k > 0 the column's
//! k-th technique. What depends only on the subject (most conditions, and the whole decision of
//! a column whose rules do not read the row) is computed once per query in the one-row
//! `subject` (`MATERIALIZED` keeps the planner from inlining it into every row); a row then
//! reads a boolean or an integer. A column no rule masks has no decision (it is clear), and
//! columns with the same decision share one. The inner query computes each decision once per row
//! (`OFFSET 0` keeps the planner from inlining it into every use); the outer one applies it.

use std::cell::RefCell;

use super::expr::{kind_of, Kind, Scope};
use super::technique::{self, Cell};
use super::{ident, Options, SqlError, SqlErrorKind};
use crate::conflicts::{applies_on, Candidate, Resolution, RuleRef};
use crate::model::{
    CExpr, CKind, ColumnId, DurationValue, MaskBody, Model, RowAudience, RowFilter, SourceId,
    TechniqueUse, Ty,
};
use crate::source_map::Loc;

/// Builds one source's view.
struct Builder<'a> {
    model: &'a Model,
    resolution: &'a Resolution,
    opts: &'a Options,
    s: SourceId,
    schema: String,
    /// Raw SQL of each column inside the inner query.
    raw: Vec<Option<String>>,
    /// Mismatch SQL of each column (null when it cannot mismatch).
    mismatch: Vec<Option<String>>,
    /// Conditions computed once per query from the subject alone (`u.h_i`).
    hoisted: Vec<String>,
    /// Decisions computed once per query from those conditions (`u.d_i`).
    decided: Vec<String>,
    /// Each top column's decision in the inner query (including grants); `0` for a column no
    /// rule masks.
    decision_sql: Vec<String>,
    /// Each top column's decision column in the inner query (`x.a_j`, shared by the columns
    /// whose decisions are the same SQL); `None` for a column no rule masks (always clear).
    act: Vec<Option<usize>>,
    /// Values techniques need more than once per row, as inner-query columns.
    per_row: Vec<String>,
    /// Whether a condition compiled since the last reset reads the row.
    row_read: bool,
    errors: Vec<SqlError>,
}

/// The name of the view of a parent source's keys and whether each row is shown
/// (linked visibility).
pub fn shown_view_name(source: &str) -> String {
    format!("{source}__shown")
}

/// The `CREATE VIEW` of source `s`, or every reason it cannot be generated.
pub fn view(
    model: &Model,
    resolution: &Resolution,
    opts: &Options,
    s: SourceId,
) -> Result<String, Vec<SqlError>> {
    let mut b = Builder {
        model,
        resolution,
        opts,
        s,
        schema: ident::ident(&opts.schema),
        raw: Vec::new(),
        mismatch: Vec::new(),
        hoisted: Vec::new(),
        decided: Vec::new(),
        decision_sql: Vec::new(),
        act: Vec::new(),
        per_row: Vec::new(),
        row_read: false,
        errors: Vec::new(),
    };
    b.columns();
    b.k_anonymity();
    let sql = b.build();
    if b.errors.is_empty() {
        Ok(sql)
    } else {
        Err(b.errors)
    }
}

impl Builder<'_> {
    /// A source that declares k-anonymity is refused (S0001): the runtime generalises each batch
    /// by a search over the rows it masks (`pol_runtime::k_anonymize`), which a view cannot
    /// reproduce exactly; a view that only counted (`count(*) over (partition by …) >= k`)
    /// would show other values than the runtime.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id"
    )]
    fn k_anonymity(&mut self) {
        let Some(req) = self.model.k_anonymity_of(self.s) else {
            return;
        };
        let src = self.src();
        let names: Vec<&str> = req
            .columns
            .iter()
            .map(|&c| src.columns[c].name.as_str())
            .collect();
        let Some(rule) = self
            .model
            .k_anonymity
            .iter()
            .find(|r| !r.staged && r.columns.iter().any(|(s, _)| *s == self.s))
        else {
            return;
        };
        let kind = SqlErrorKind::Technique {
            technique: format!("k_anonymity {} over {}", req.k, names.join(", ")),
            reason: "k-anonymity generalises each batch of rows by a search over the batch, \
                     which a view cannot reproduce exactly; mask this source with the runtime"
                .to_owned(),
        };
        let loc = rule.loc;
        self.error(kind, None, loc);
    }
}

impl<'a> Builder<'a> {
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn src(&self) -> &'a crate::model::Source {
        &self.model.sources[self.s]
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn error(&mut self, kind: SqlErrorKind, column: Option<ColumnId>, loc: Loc) {
        let src = self.src();
        let column = column.map(|c| src.columns[c].name.clone());
        let err = SqlError {
            kind,
            source: src.name.clone(),
            column,
            loc,
        };
        if !self.errors.contains(&err) {
            self.errors.push(err);
        }
    }

    fn scope(&self) -> Scope<'_> {
        Scope {
            model: self.model,
            schema: &self.schema,
            source: self.s,
            raw: &self.raw,
        }
    }

    /// Raw values: stored columns (an enum outside its domain is null and a mismatch), then
    /// derived ones, each after what it reads.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn columns(&mut self) {
        let src = self.src();
        let n = src.columns.len();
        self.raw = vec![None; n];
        self.mismatch = vec![None; n];
        if !ident::ident_ok(&src.name) {
            self.error(
                SqlErrorKind::Name {
                    name: src.name.clone(),
                },
                None,
                src.loc,
            );
        }
        for (c, col) in src.columns.iter().enumerate() {
            if !ident::ident_ok(&col.name) {
                self.error(
                    SqlErrorKind::Name {
                        name: col.name.clone(),
                    },
                    Some(c),
                    col.loc,
                );
            }
            if col.parent.is_some() || kind_of(&col.ty).is_none() || matches!(col.ty, Ty::List(_)) {
                self.error(
                    SqlErrorKind::ColumnType {
                        ty: col.ty.to_string(),
                    },
                    Some(c),
                    col.decl,
                );
                continue;
            }
            if col.derived.is_some() {
                continue;
            }
            let name = format!("t.{}", ident::ident(&col.name));
            match &col.ty {
                Ty::Enum(values) => {
                    let domain: Vec<String> =
                        values.iter().filter_map(|v| ident::text(v)).collect();
                    let list = domain.join(", ");
                    self.raw[c] = Some(format!("(CASE WHEN {name} IN ({list}) THEN {name} END)"));
                    self.mismatch[c] =
                        Some(format!("({name} IS NOT NULL AND {name} NOT IN ({list}))"));
                }
                _ => self.raw[c] = Some(name),
            }
        }
        // Derived columns: as many passes as there are derived columns (each pass settles at
        // least one when there is no cycle; the checker rejects cycles).
        let derived: Vec<ColumnId> = (0..n)
            .filter(|&c| src.columns[c].derived.is_some() && src.columns[c].parent.is_none())
            .collect();
        let mut pending = derived.clone();
        for _ in 0..derived.len() {
            let mut next = Vec::new();
            for &c in &pending {
                let Some(d) = &src.columns[c].derived else {
                    continue;
                };
                if d.reads.iter().any(|&r| {
                    self.raw[r].is_none()
                        && src.columns[r].derived.is_some()
                        && pending.contains(&r)
                        && r != c
                }) {
                    next.push(c);
                    continue;
                }
                match self.scope().expr(&d.expr) {
                    Ok(x) => match conform(&x.kind, &src.columns[c].ty, &x.sql) {
                        Some(sql) => self.raw[c] = Some(sql),
                        None => self.error(
                            SqlErrorKind::Expression {
                                reason: "a derived value of another type than the column's".into(),
                            },
                            Some(c),
                            src.columns[c].decl,
                        ),
                    },
                    Err(reason) => self.error(
                        SqlErrorKind::Expression { reason },
                        Some(c),
                        src.columns[c].decl,
                    ),
                }
            }
            pending = next;
        }
    }

    /// A condition's SQL: a column of the one-row `subject` when it reads only the subject.
    fn cond(&mut self, e: &CExpr, column: Option<ColumnId>, loc: Loc) -> String {
        match self.scope().cond(e) {
            Ok(sql) if reads_row(e) => {
                self.row_read = true;
                sql
            }
            Ok(sql) => self.hoist(sql),
            Err(reason) => {
                self.error(SqlErrorKind::Expression { reason }, column, loc);
                "NULL::boolean".into()
            }
        }
    }

    /// A condition on the subject (`u`) alone, computed once per query: its column in `subject`.
    fn hoist(&mut self, sql: String) -> String {
        format!("u.h_{}", index_of(&mut self.hoisted, sql))
    }

    fn loc_of(&self, e: &CExpr, fallback: Loc) -> Loc {
        Loc::new(fallback.file, e.span)
    }

    fn exempt(&mut self) -> String {
        self.row_read = false;
        let mut parts = Vec::new();
        for e in &self.model.exempts {
            if e.scope.sources.contains(&self.s) {
                let c = self.cond(&e.cond, None, e.loc);
                parts.push(format!("({c}) IS TRUE"));
            }
        }
        if parts.is_empty() {
            "false".into()
        } else {
            format!("({})", parts.join(" OR "))
        }
    }

    fn row_missing(&self, e: &CExpr) -> bool {
        let src = self.src();
        e.row_refs().iter().any(|(n, _)| src.column(n).is_none())
    }

    /// Every enforced row rule covering the source, AND'ed (each SQL boolean, null = unknown).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn row_rules(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for rule in &self.model.row_rules {
            if rule.staged
                || !self.model.policies[rule.policy]
                    .scope
                    .sources
                    .contains(&self.s)
            {
                continue;
            }
            if !rule.applies_on(self.s) {
                continue;
            }
            let f = self.filter(&rule.filter, rule.loc);
            let pass = match &rule.audience {
                RowAudience::Everyone => f,
                RowAudience::Except(c) => {
                    let c = self.cond(c, None, rule.loc);
                    format!("(CASE WHEN {c} THEN true ELSE {f} END)")
                }
                RowAudience::Who(c, other) => {
                    let c = self.cond(c, None, rule.loc);
                    let o = match other {
                        Some(o) => self.filter(o, rule.loc),
                        None => "true".into(),
                    };
                    format!("(CASE WHEN {c} THEN {f} WHEN NOT {c} THEN {o} ELSE ({f} AND {o}) END)")
                }
            };
            out.push(format!("({pass}) IS TRUE"));
        }
        out
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn filter(&mut self, f: &RowFilter, loc: Loc) -> String {
        let src = self.src();
        let event = src.event_time.and_then(|c| {
            let raw = self.raw.get(c).cloned().flatten()?;
            match src.columns[c].ty {
                Ty::Timestamp => Some(raw),
                Ty::Date => Some(format!("({raw}::timestamp AT TIME ZONE 'UTC')")),
                _ => None,
            }
        });
        match f {
            RowFilter::Where(e) if self.row_missing(e) => "false".into(),
            RowFilter::Where(e) => {
                let l = self.loc_of(e, loc);
                self.cond(e, None, l)
            }
            RowFilter::NewerThan(d) | RowFilter::OlderThan(d) => {
                let Some(ev) = event else {
                    return "NULL::boolean".into();
                };
                let op = if matches!(f, RowFilter::NewerThan(_)) {
                    ">"
                } else {
                    "<"
                };
                match d {
                    DurationValue::Seconds(secs) => {
                        format!("({ev} {op} now() - make_interval(secs => {secs}))")
                    }
                    DurationValue::Months(m) => {
                        format!("({ev} {op} {}.months_ago({m}))", self.schema)
                    }
                }
            }
            // No link to the parent (W0002): no rows.
            RowFilter::Linked(p) if src.link_to(*p).is_none() => "false".into(),
            RowFilter::Linked(p) => {
                let fk = src
                    .link_to(*p)
                    .and_then(|l| self.raw.get(l.column).cloned().flatten());
                let (Some(fk), Some(parent)) = (fk, self.model.sources.get(*p)) else {
                    return "NULL::boolean".into();
                };
                // Every row of the parent with that key is shown (null: none, or a null key).
                format!(
                    "(SELECT bool_and(l.shown) FROM {}.{} l WHERE l.key = {fk})",
                    self.schema,
                    ident::ident(&shown_view_name(&parent.name))
                )
            }
            RowFilter::Sample(pct) => {
                let key = src.key.and_then(|k| {
                    let raw = self.raw.get(k).cloned().flatten()?;
                    canonical_text(&src.columns[k].ty, &raw)
                });
                match key {
                    Some(k) => {
                        let mut prefix = src.name.as_bytes().to_vec();
                        prefix.push(0);
                        format!(
                            "{}.sample_in({}, {k}, {pct})",
                            self.schema,
                            ident::bytea(&prefix)
                        )
                    }
                    None if src.key.is_none() => "NULL::boolean".into(),
                    None => {
                        self.error(
                            SqlErrorKind::Expression {
                                reason: "sampling on a key of this type".into(),
                            },
                            src.key,
                            loc,
                        );
                        "NULL::boolean".into()
                    }
                }
            }
            RowFilter::Never => "false".into(),
        }
    }

    /// The decision of one candidate as a SQL integer, and whether it is conditional (`None`:
    /// it never decides this column).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn candidate(
        &mut self,
        cand: &Candidate,
        c: ColumnId,
        techniques: &mut Vec<&'a TechniqueUse>,
    ) -> Option<(Option<String>, String)> {
        let model = self.model;
        let mut index = |t: &'a TechniqueUse| -> i64 {
            match techniques.iter().position(|u| std::ptr::eq(*u, t)) {
                Some(i) => i as i64 + 1,
                None => {
                    techniques.push(t);
                    techniques.len() as i64
                }
            }
        };
        if let [RuleRef::Mask(id)] = cand.rules.as_slice() {
            let rule = &model.mask_rules[*id];
            if !rule.applies_on(self.s) {
                return None;
            }
            let guard = match &rule.where_ {
                Some(w) if !self.row_missing(w) => {
                    let w = self.cond(w, Some(c), rule.loc);
                    Some(format!("({w}) IS NOT FALSE"))
                }
                _ => None,
            };
            let body = match &rule.body {
                MaskBody::Everyone(t) => index(t).to_string(),
                MaskBody::Except(t, cond) => {
                    let k = index(t);
                    let cond = self.cond(cond, Some(c), rule.loc);
                    format!("(CASE WHEN {cond} THEN 0 ELSE {k} END)")
                }
                MaskBody::Who(clauses, otherwise) => {
                    let mut sql = String::from("(CASE");
                    for (cond, t) in clauses {
                        let k = index(t);
                        let cond = self.cond(cond, Some(c), rule.loc);
                        sql.push_str(&format!(
                            " WHEN {cond} THEN {k} WHEN ({cond}) IS NULL THEN -1"
                        ));
                    }
                    let other = match otherwise {
                        Some(t) => index(t),
                        None => 0,
                    };
                    sql.push_str(&format!(" ELSE {other} END)"));
                    sql
                }
            };
            return Some((guard, body));
        }
        // `accessible if`, or tied `for everyone except` rules combined: exceptions OR'ed.
        let mut technique = None;
        let mut exceptions = Vec::new();
        for r in &cand.rules {
            if !applies_on(model, *r, self.s) {
                continue;
            }
            let (t, cond, loc) = match *r {
                RuleRef::Accessible(rs, rc) => {
                    let a = model.sources[rs].columns[rc].accessible.as_ref()?;
                    (&a.technique, &a.cond, a.loc)
                }
                RuleRef::Mask(id) => match &model.mask_rules[id].body {
                    MaskBody::Except(t, cond) => (t, cond, model.mask_rules[id].loc),
                    _ => return None,
                },
            };
            technique = Some(t);
            exceptions.push(self.cond(cond, Some(c), loc));
        }
        let t = technique?;
        let k = index(t);
        Some((
            None,
            format!(
                "(CASE WHEN {} THEN 0 ELSE {k} END)",
                exceptions.join(" OR ")
            ),
        ))
    }

    /// A column's decision (0 clear, -1 null, k technique) before grants, and its techniques;
    /// computed once per query when it does not read the row.
    fn decision(
        &mut self,
        c: ColumnId,
        exempt: &str,
        exempt_reads_row: bool,
    ) -> (String, Vec<&'a TechniqueUse>) {
        self.row_read = false;
        let mut techniques = Vec::new();
        let mut sql = format!("CASE WHEN {exempt} THEN 0");
        let cands: Vec<Candidate> = self.resolution.candidates(self.s, c).to_vec();
        let mut closed = false;
        for cand in &cands {
            let Some((guard, body)) = self.candidate(cand, c, &mut techniques) else {
                continue;
            };
            match guard {
                Some(g) => sql.push_str(&format!(" WHEN {g} THEN {body}")),
                None => {
                    sql.push_str(&format!(" ELSE {body}"));
                    closed = true;
                    break;
                }
            }
        }
        if !closed {
            sql.push_str(" ELSE 0");
        }
        sql.push_str(" END");
        if self.row_read || exempt_reads_row {
            (sql, techniques)
        } else {
            let i = index_of(&mut self.decided, sql);
            (format!("u.d_{i}"), techniques)
        }
    }

    /// SQL of the level (text) of the row, for `by level`.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn level(&self) -> String {
        let src = self.src();
        let levels = &self.model.levels;
        let Some(plan) = &src.level else {
            return "NULL::text".into();
        };
        let declared: Vec<String> = levels.iter().filter_map(|l| ident::text(&l.name)).collect();
        let default = if levels.iter().any(|l| l.name == plan.default) {
            ident::text(&plan.default).unwrap_or_else(|| "NULL::text".into())
        } else {
            "NULL::text".into()
        };
        let highest = levels
            .first()
            .and_then(|l| ident::text(&l.name))
            .unwrap_or_else(|| "NULL::text".into());
        match plan.column.and_then(|c| Some((c, self.raw.get(c).cloned().flatten()?))) {
            Some((c, raw)) if src.columns[c].ty.is_textual() => format!(
                "(CASE WHEN {raw} IN ({}) THEN {raw} WHEN {raw} IS NOT NULL THEN {highest} ELSE {default} END)",
                declared.join(", ")
            ),
            _ => default,
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn build(&mut self) -> String {
        let src = self.src();
        let schema = self.schema.clone();
        let exempt = self.exempt();
        let exempt_reads_row = self.row_read;
        let key_text = src.key.and_then(|k| {
            let raw = self.raw.get(k).cloned().flatten()?;
            canonical_text(&src.columns[k].ty, &raw)
        });
        let rules = self.row_rules();
        let level = self.level();
        let top: Vec<ColumnId> = src.top_columns().map(|(c, _)| c).collect();
        let mut inner = Vec::new();
        let mut outer = Vec::new();
        for &c in &top {
            if let Some(raw) = self.raw[c]
                .clone()
                .filter(|_| src.columns[c].derived.is_none())
            {
                inner.push(format!("{raw} AS c_{c}"));
            }
            if let Some(m) = self.mismatch[c].clone() {
                inner.push(format!("{m} AS m_{c}"));
            }
        }
        let mut acts = Vec::new();
        let mut shared: Vec<String> = Vec::new();
        let n = src.columns.len();
        self.decision_sql = vec![String::new(); n];
        self.act = vec![None; n];
        for &c in &top {
            let (decision, techniques) = self.decision(c, &exempt, exempt_reads_row);
            let Some(slot) = self.decision_sql.get_mut(c) else {
                continue;
            };
            if techniques.is_empty() {
                // No rule masks this column: every branch of its decision is 0 (clear), with or
                // without a grant; no decision is computed per row.
                *slot = "0".into();
            } else {
                // A granted record is clear (the grant is the row's: never hoisted). Columns
                // with the same decision share one inner column.
                let decision = if key_text.is_some() {
                    format!("CASE WHEN g.key IS NOT NULL THEN 0 ELSE {decision} END")
                } else {
                    decision
                };
                *slot = decision.clone();
                let j = index_of(&mut shared, decision);
                if let Some(a) = self.act.get_mut(c) {
                    *a = Some(j);
                }
            }
            acts.push((c, techniques));
        }
        for (j, d) in shared.iter().enumerate() {
            inner.push(format!("{d} AS a_{j}"));
        }
        // A derived value is computed only where it can come out: its own decision masks it
        // (a technique reads it) or every input is clear (it shows).
        for &c in &top {
            let (Some(raw), Some(d)) = (self.raw[c].clone(), &src.columns[c].derived) else {
                continue;
            };
            let decision = self.decision_sql.get(c).cloned().unwrap_or_default();
            let inputs = self.inputs_clear_inner(&d.reads, 0);
            inner.push(format!(
                "CASE WHEN ({decision}) <> 0 OR ({inputs}) THEN {raw} END AS c_{c}"
            ));
        }
        inner.push(format!("{level} AS lvl"));
        inner.push("u.k_i".into());
        inner.push("u.k_o".into());
        for (c, techniques) in acts {
            let expr = self.output(c, &techniques);
            outer.push(format!(
                "  {expr} AS {}",
                ident::ident(&src.columns[c].name)
            ));
        }
        inner.append(&mut self.per_row);
        let filter = if rules.is_empty() {
            String::new()
        } else {
            format!("\n  WHERE {exempt} OR ({})", rules.join("\n    AND "))
        };
        // An int key joins as a bigint (a grant's key text read back only when it is the
        // canonical text of an int): no text conversion and text hash per row.
        let int_key = src.key.and_then(|k| match src.columns[k].ty {
            Ty::Int => self.raw.get(k).cloned().flatten(),
            _ => None,
        });
        let grants = match (&key_text, int_key) {
            (Some(_), Some(raw)) => format!(
                "\n  LEFT JOIN (SELECT DISTINCT {schema}.int_key(gr.record_key) AS key FROM {schema}.grants gr\n             WHERE gr.source = {} AND gr.expires > now() AND gr.revoked_at IS NULL) g\n    ON g.key = {raw}",
                ident::text(&src.name).unwrap_or_default()
            ),
            (Some(k), None) => format!(
                "\n  LEFT JOIN (SELECT DISTINCT gr.record_key AS key FROM {schema}.grants gr\n             WHERE gr.source = {} AND gr.expires > now() AND gr.revoked_at IS NULL) g\n    ON g.key = {k}",
                ident::text(&src.name).unwrap_or_default()
            ),
            (None, _) => String::new(),
        };
        let mut conds = vec![
            "u.*".to_string(),
            format!("(SELECT k.inner_pad FROM {schema}.hash_key k) AS k_i"),
            format!("(SELECT k.outer_pad FROM {schema}.hash_key k) AS k_o"),
        ];
        for (i, h) in self.hoisted.iter().enumerate() {
            conds.push(format!("{h} AS h_{i}"));
        }
        let mut decisions = vec!["u.*".to_string()];
        for (i, d) in self.decided.iter().enumerate() {
            decisions.push(format!("{d} AS d_{i}"));
        }
        let subject_cte = format!(
            "WITH subject AS MATERIALIZED (\n  SELECT\n    {}\n  FROM (\n    SELECT\n      {}\n    FROM {schema}.decode_subject(\n      (SELECT sj.subject FROM {schema}.subjects sj WHERE sj.role = current_user),\n      current_setting('pol.acting_under', true)) AS u\n  ) AS u\n)",
            decisions.join(",\n    "),
            conds.join(",\n      "),
        );
        let shown_view = self.shown_view(&subject_cte, &exempt, &rules);
        shown_view
            + &format!(
                "CREATE VIEW {schema}.{name} WITH (security_barrier) AS\n{subject_cte}\nSELECT\n{}\nFROM (\n  SELECT\n    {}\n  FROM {base}.{name} AS t\n  CROSS JOIN subject AS u{grants}{filter}\n  OFFSET 0\n) AS x;\n",
                outer.join(",\n"),
                inner.join(",\n    "),
                name = ident::ident(&src.name),
                base = ident::ident(&self.opts.base_schema),
            )
    }

    /// For a source some other source links to: the view `<source>__shown` its children's
    /// filters read, each base row's key and whether the row rules show the row to the
    /// querying subject (as the source's own view filters). Not granted to anyone: the
    /// children's views read it with their owner's rights.
    fn shown_view(&self, subject_cte: &str, exempt: &str, rules: &[String]) -> String {
        let src = self.src();
        let linked_to = self
            .model
            .sources
            .iter()
            .any(|c| c.link_to(self.s).is_some());
        let key = src.key.and_then(|k| self.raw.get(k).cloned().flatten());
        let (true, Some(key)) = (linked_to, key) else {
            return String::new();
        };
        let shown = if rules.is_empty() {
            "true".to_string()
        } else {
            format!("({exempt} OR ({})) IS TRUE", rules.join("\n    AND "))
        };
        format!(
            "CREATE VIEW {schema}.{name} WITH (security_barrier) AS\n{subject_cte}\nSELECT {key} AS key, {shown} AS shown\nFROM {base}.{table} AS t\nCROSS JOIN subject AS u;\n",
            schema = self.schema,
            name = ident::ident(&shown_view_name(&src.name)),
            base = ident::ident(&self.opts.base_schema),
            table = ident::ident(&src.name),
        )
    }

    /// The output expression of a top-level column.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn output(&mut self, c: ColumnId, techniques: &[&'a TechniqueUse]) -> String {
        let src = self.src();
        let col = &src.columns[c];
        let Some(own) = kind_of(&col.ty) else {
            return "NULL".into();
        };
        let raw = format!("x.c_{c}");
        let schema = self.schema.clone();
        let mut arms: Vec<(i64, String, Kind)> = Vec::new();
        let inner_raw = self.raw[c].clone().unwrap_or_else(|| "NULL".into());
        for (i, t) in techniques.iter().enumerate() {
            let k = i as i64 + 1;
            let per_row = RefCell::new(Vec::new());
            let prefix = format!("l_{c}_{k}");
            let cell = Cell {
                model: self.model,
                schema: &schema,
                source: &src.name,
                column: col,
                raw: &raw,
                inner_raw: &inner_raw,
                level: "x.lvl",
                per_row: &per_row,
                per_row_prefix: &prefix,
            };
            let applied = technique::apply(&cell, t);
            let decision = self.decision_sql.get(c).cloned().unwrap_or_default();
            for (j, sql) in per_row.into_inner().into_iter().enumerate() {
                self.per_row.push(format!(
                    "CASE WHEN ({decision}) = {k} THEN {sql} END AS {prefix}_{j}"
                ));
            }
            match applied {
                Ok(m) => arms.push((k, m.sql, m.kind)),
                Err((technique, reason)) => {
                    self.error(
                        SqlErrorKind::Technique { technique, reason },
                        Some(c),
                        t.loc,
                    );
                }
            }
        }
        let mut kinds: Vec<Kind> = arms.iter().map(|(_, _, k)| *k).collect();
        kinds.push(own);
        let out = Output::of(&kinds);
        let Some(clear) = out.conv(&raw, &own) else {
            self.error(
                SqlErrorKind::Technique {
                    technique: techniques
                        .iter()
                        .map(|t| t.display())
                        .collect::<Vec<_>>()
                        .join(", "),
                    reason: "the clear value would need its canonical text".into(),
                },
                Some(c),
                col.decl,
            );
            return "NULL".into();
        };
        let ty = out.sql_type();
        let mut masked_arms = String::new();
        for (k, sql, kind) in &arms {
            // A technique whose value is always null needs no arm: an unmatched CASE is null.
            if *kind == Kind::Null {
                continue;
            }
            match out.conv(sql, kind) {
                Some(s) => masked_arms.push_str(&format!(" WHEN {k} THEN {s}")),
                None => self.error(
                    SqlErrorKind::Technique {
                        technique: techniques[(*k - 1) as usize].display(),
                        reason: "its value would need its canonical text".into(),
                    },
                    Some(c),
                    col.decl,
                ),
            }
        }
        let decided = match self.act_ref(c) {
            Some(a) => format!("(CASE {a} WHEN 0 THEN {clear}{masked_arms} END)::{ty}"),
            None => format!("({clear})::{ty}"),
        };
        let mismatch = if self.mismatch[c].is_some() {
            format!("WHEN x.m_{c} THEN NULL::{ty} ")
        } else {
            String::new()
        };
        match &col.derived {
            Some(d) => {
                let inputs = self.inputs_clear(&d.reads, 0);
                let blocked = match self.act_ref(c) {
                    Some(a) if !masked_arms.is_empty() => {
                        format!("(CASE {a}{masked_arms} END)::{ty}")
                    }
                    _ => format!("NULL::{ty}"),
                };
                format!("(CASE {mismatch}WHEN NOT ({inputs}) THEN {blocked} ELSE {decided} END)")
            }
            None if mismatch.is_empty() => decided,
            None => format!("(CASE {mismatch}ELSE {decided} END)"),
        }
    }

    /// The inner-query column holding column `c`'s decision (`x.a_j`), or `None` when no rule
    /// masks `c` (its decision is always 0).
    fn act_ref(&self, c: ColumnId) -> Option<String> {
        self.act
            .get(c)
            .copied()
            .flatten()
            .map(|j| format!("x.a_{j}"))
    }

    /// [`Self::inputs_clear`] inside the inner query (decisions and mismatches as SQL there).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn inputs_clear_inner(&self, reads: &[ColumnId], depth: usize) -> String {
        let src = self.src();
        if depth > src.columns.len() {
            return "false".into();
        }
        let mut parts = vec!["true".to_string()];
        for &r in reads {
            match self.decision_sql.get(r).filter(|d| !d.is_empty()) {
                Some(d) if d == "0" => {}
                Some(d) => parts.push(format!("({d}) = 0")),
                None => return "true".into(),
            }
            if let Some(m) = &self.mismatch[r] {
                parts.push(format!("NOT {m}"));
            }
            if let Some(d) = &src.columns[r].derived {
                parts.push(format!(
                    "({})",
                    self.inputs_clear_inner(&d.reads, depth + 1)
                ));
            }
        }
        all_of(parts)
    }

    /// Whether every column in `reads` comes out exactly as its raw value (§6.6).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn inputs_clear(&self, reads: &[ColumnId], depth: usize) -> String {
        let src = self.src();
        if depth > src.columns.len() {
            return "false".into();
        }
        let mut parts = vec!["true".to_string()];
        for &r in reads {
            if let Some(a) = self.act_ref(r) {
                parts.push(format!("{a} = 0"));
            }
            if self.mismatch[r].is_some() {
                parts.push(format!("NOT x.m_{r}"));
            }
            if let Some(d) = &src.columns[r].derived {
                parts.push(format!("({})", self.inputs_clear(&d.reads, depth + 1)));
            }
        }
        all_of(parts)
    }
}

/// The SQL type of a view column, from the kinds of value that may come out of it (the clear
/// value's and each technique's): the one kind when they agree (null fits any); a decimal when
/// ints meet decimals; `text` when every kind is written in JSON as a string (text, dates and
/// timestamps, the latter two as their canonical text); otherwise `jsonb`, so that each cell
/// keeps the JSON type the runtime gives it (an int column masked by `range` reads the number
/// `3` where it is clear and the text `"0-10"` where it is masked).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Output {
    Typed(Kind),
    Json,
}

impl Output {
    fn of(kinds: &[Kind]) -> Output {
        if let Some(k) = technique::common(kinds) {
            return Output::Typed(k);
        }
        let all = |ok: &[Kind]| kinds.iter().all(|k| *k == Kind::Null || ok.contains(k));
        if all(&[Kind::Int, Kind::Dec]) {
            Output::Typed(Kind::Dec)
        } else if all(&[Kind::Text, Kind::Date, Kind::Ts]) {
            Output::Typed(Kind::Text)
        } else {
            Output::Json
        }
    }

    fn sql_type(&self) -> &'static str {
        match self {
            Output::Typed(k) => sql_type(k),
            Output::Json => "jsonb",
        }
    }

    /// A value of `kind` as a value of this column (`None`: SQL cannot write it exactly).
    fn conv(&self, sql: &str, kind: &Kind) -> Option<String> {
        if *kind == Kind::Null {
            return Some(sql.to_string());
        }
        match self {
            Output::Typed(out) if out == kind => Some(sql.to_string()),
            Output::Typed(Kind::Dec) if *kind == Kind::Int => {
                Some(format!("({sql})::double precision"))
            }
            Output::Typed(_) => canonical_text_kind(kind, sql),
            Output::Json => match kind {
                Kind::Date | Kind::Ts => {
                    canonical_text_kind(kind, sql).map(|t| format!("to_jsonb({t})"))
                }
                Kind::Bool | Kind::Int | Kind::Dec | Kind::Text => {
                    Some(format!("to_jsonb(({sql})::{})", sql_type(kind)))
                }
                _ => None,
            },
        }
    }
}

/// The conjunction of `parts`, each written once (a derived value may read a column twice).
fn all_of(parts: Vec<String>) -> String {
    let mut once: Vec<String> = Vec::new();
    for p in parts {
        if !once.contains(&p) {
            once.push(p);
        }
    }
    once.join(" AND ")
}

/// The index of `sql` in `list`, added at the end when it is not there yet.
fn index_of(list: &mut Vec<String>, sql: String) -> usize {
    match list.iter().position(|h| *h == sql) {
        Some(i) => i,
        None => {
            list.push(sql);
            list.len() - 1
        }
    }
}

/// Whether an expression reads the row (a column, a tagged column, a technique's value).
fn reads_row(e: &CExpr) -> bool {
    let mut reads = false;
    e.walk(&mut |x| {
        if matches!(x.kind, CKind::Row(_) | CKind::RowTagged(_) | CKind::Value) {
            reads = true;
        }
    });
    reads
}

/// A derived value against its column's type: an int is accepted for a decimal.
fn conform(kind: &Kind, ty: &Ty, sql: &str) -> Option<String> {
    let want = kind_of(ty)?;
    if matches!(ty, Ty::Enum(_)) {
        return None;
    }
    match (kind, &want) {
        (a, b) if a == b => Some(format!("({sql})")),
        (Kind::Null, _) => Some(format!("NULL::{}", sql_type(&want))),
        (Kind::Int, Kind::Dec) => Some(format!("({sql})::double precision")),
        _ => None,
    }
}

/// The PostgreSQL type of a value kind.
pub fn sql_type(kind: &Kind) -> &'static str {
    match kind {
        Kind::Bool => "boolean",
        Kind::Int | Kind::Dur | Kind::Months => "bigint",
        Kind::Dec => "double precision",
        Kind::Text | Kind::Null => "text",
        Kind::Date => "date",
        Kind::Ts => "timestamptz",
        Kind::TextList => "text[]",
        Kind::IntList => "bigint[]",
        Kind::DecList => "double precision[]",
        Kind::Attrs => "jsonb",
    }
}

/// The canonical text (`Value::canonical_text`) of a value of this column type, when SQL
/// writes it identically.
fn canonical_text(ty: &Ty, sql: &str) -> Option<String> {
    canonical_text_kind(&kind_of(ty)?, sql)
}

fn canonical_text_kind(kind: &Kind, sql: &str) -> Option<String> {
    match kind {
        Kind::Text => Some(sql.to_string()),
        Kind::Int | Kind::Bool => Some(format!("({sql})::text")),
        // chrono's `%Y-%m-%d` (years 1–9999).
        Kind::Date => Some(format!("to_char({sql}, 'YYYY-MM-DD')")),
        // RFC 3339 in UTC with `Z`, the fraction as short as it can be (seconds, millis,
        // micros), as chrono's `SecondsFormat::AutoSi`.
        Kind::Ts => Some(format!(
            "(to_char({sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE \
             WHEN extract(microseconds FROM {sql})::bigint % 1000000 = 0 THEN '' \
             WHEN extract(microseconds FROM {sql})::bigint % 1000 = 0 \
             THEN '.' || lpad(((extract(microseconds FROM {sql})::bigint % 1000000) / 1000)::text, 3, '0') \
             ELSE '.' || lpad((extract(microseconds FROM {sql})::bigint % 1000000)::text, 6, '0') END || 'Z')"
        )),
        _ => None,
    }
}
