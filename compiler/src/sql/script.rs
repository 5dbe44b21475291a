//! The whole script: one transaction that brings a database to the policy set, whatever
//! state an earlier script left it in (tables are created if missing and kept; functions are
//! replaced; every view of the schema is dropped and created again).

use std::fmt::Write as _;

use super::expr::subject_kind;
use super::regex::{char_ranges, ranges_body};
use super::{ident, view, Options, SqlError, SqlErrorKind};
use crate::conflicts::Resolution;
use crate::model::{Model, Ty};

const HELPERS: &str = include_str!("helpers.sql");

/// The generated parts of a script: the preamble (schema, tables, helpers, subject decoding),
/// one view per source (or why it cannot be generated), and the privileges.
pub struct Generated {
    pub preamble: String,
    pub views: Vec<(String, Result<String, Vec<SqlError>>)>,
    /// The order the views are created in: a parent's before its linked children's.
    order: Vec<usize>,
    schema: String,
    base: String,
}

impl Generated {
    /// Every refusal, in source order, each once (a view that follows a parent's repeats the
    /// parent's refusals).
    pub fn errors(&self) -> Vec<SqlError> {
        let mut out: Vec<SqlError> = Vec::new();
        for e in self
            .views
            .iter()
            .filter_map(|(_, r)| r.as_ref().err())
            .flatten()
        {
            if !out.contains(e) {
                out.push(e.clone());
            }
        }
        out
    }

    /// The script, or every refusal when a view cannot be generated.
    pub fn script(&self) -> Result<String, Vec<SqlError>> {
        let errors = self.errors();
        if errors.is_empty() {
            Ok(self.assemble())
        } else {
            Err(errors)
        }
    }

    /// The script with the views that can be generated only (the others are left out, and
    /// their base tables unreadable to everyone but the owner). For tests and for inspecting
    /// a partly supported policy set; `polc sql` refuses instead.
    pub fn script_of_supported(&self) -> String {
        self.assemble()
    }

    /// The names of the sources that have a view.
    pub fn supported(&self) -> Vec<&str> {
        self.views
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(n, _)| n.as_str())
            .collect()
    }

    fn assemble(&self) -> String {
        let s = &self.schema;
        let mut out = self.preamble.clone();
        out.push_str("\n-- The masked views, one per source.\n");
        for (name, view) in self.order.iter().filter_map(|&i| self.views.get(i)) {
            if let Ok(sql) = view {
                let _ = writeln!(out, "\n-- {name}");
                let _ = writeln!(
                    out,
                    "REVOKE ALL ON {}.{} FROM PUBLIC;",
                    self.base,
                    ident::ident(name)
                );
                out.push_str(sql);
                let _ = writeln!(out, "GRANT SELECT ON {s}.{} TO PUBLIC;", ident::ident(name));
            }
        }
        out.push_str("\nCOMMIT;\n");
        out
    }
}

/// Generates every part of the script.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn generate(model: &Model, resolution: &Resolution, opts: &Options) -> Generated {
    let schema = ident::ident(&opts.schema);
    let mut views: Vec<(String, Result<String, Vec<SqlError>>)> = (0..model.sources.len())
        .map(|s| {
            (
                model.sources[s].name.clone(),
                view::view(model, resolution, opts, s),
            )
        })
        .collect();
    let order = parents_first(model);
    // A view whose filter follows a parent reads the parent's `__shown` view, made with the
    // parent's view: without it, the child has no view either (the parent's refusals say why).
    for &s in &order {
        let parents: Vec<usize> = model.sources[s].links.iter().map(|l| l.parent).collect();
        let mut inherited: Vec<SqlError> = Vec::new();
        for p in parents {
            if let Some((_, Err(e))) = views.get(p) {
                inherited.extend(e.iter().cloned());
            }
        }
        if inherited.is_empty() {
            continue;
        }
        if let Some((_, r)) = views.get_mut(s) {
            match r {
                Ok(_) => *r = Err(inherited),
                Err(e) => {
                    for x in inherited {
                        if !e.contains(&x) {
                            e.push(x);
                        }
                    }
                }
            }
        }
    }
    Generated {
        preamble: preamble(model, opts),
        views,
        order,
        schema,
        base: ident::ident(&opts.base_schema),
    }
}

/// The sources in an order where a parent comes before every source that links to it (its
/// view's filter reads the parent's `__shown` view), otherwise in declaration order.
fn parents_first(model: &Model) -> Vec<usize> {
    let n = model.sources.len();
    // Height: the longest chain of links above a source (links form no cycle, and no chain
    // longer than the limit, once the set checks).
    let mut height = vec![0usize; n];
    for _ in 0..=crate::resolve::MAX_LINK_DEPTH {
        for (s, src) in model.sources.iter().enumerate() {
            let h = src
                .links
                .iter()
                .map(|l| height.get(l.parent).map_or(0, |h| h + 1))
                .max()
                .unwrap_or(0);
            if let Some(x) = height.get_mut(s) {
                *x = h;
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&s| height.get(s).copied().unwrap_or(0));
    order
}

fn preamble(model: &Model, opts: &Options) -> String {
    let s = ident::ident(&opts.schema);
    let schema_text = ident::text(&opts.schema).unwrap_or_default();
    let mut out = String::new();
    let _ = write!(
        out,
        "-- Generated by `polc sql`: the policy set enforced by PostgreSQL (>= 14).
-- Idempotent: run it again after a policy change. One transaction: all or nothing.
-- Querying roles read the views of {s} only; the base tables, the subjects, the hash key,
-- the grants and the audit trail are readable by the owner of this schema alone.
BEGIN;
SET LOCAL search_path = pg_catalog, pg_temp;
SET LOCAL standard_conforming_strings = on;
DO $check$
BEGIN
  IF current_setting('server_version_num')::integer < 140000 THEN
    RAISE EXCEPTION 'pol: PostgreSQL 14 or later is needed';
  END IF;
  IF getdatabaseencoding() <> 'UTF8' THEN
    RAISE EXCEPTION 'pol: the database encoding must be UTF8';
  END IF;
END
$check$;

CREATE SCHEMA IF NOT EXISTS {s};
GRANT USAGE ON SCHEMA {s} TO PUBLIC;

-- Who is asking: a role's subject (the JSON of `polc eval --subject`), managed by the admin.
-- A role without a row is a subject with no groups, roles, attributes or purposes.
CREATE TABLE IF NOT EXISTS {s}.subjects (
  role name PRIMARY KEY,
  subject jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(subject) = 'object')
);

-- The HMAC-SHA256 key of `hash` (the HKDF sub-key of the masking key), as its inner and outer
-- pads: at most one row; none means keyed techniques give null, as in the runtime.
CREATE TABLE IF NOT EXISTS {s}.hash_key (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  inner_pad bytea NOT NULL CHECK (length(inner_pad) = 64),
  outer_pad bytea NOT NULL CHECK (length(outer_pad) = 64)
);

-- Temporary unmask grants (shared by the views and every runtime instance): a record is clear
-- for every user while a grant of it is neither expired nor revoked. Row rules still apply.
CREATE TABLE IF NOT EXISTS {s}.grants (
  id text PRIMARY KEY,
  source text NOT NULL,
  record_key text NOT NULL,
  granted_to text NOT NULL,
  rule text NOT NULL,
  granted_at timestamptz NOT NULL,
  expires timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_by text
);
CREATE INDEX IF NOT EXISTS grants_by_record ON {s}.grants (source, record_key, expires);

-- Temporary unmask requests that wait for approval (`with approval by C`): nothing is unmasked
-- for a request; an approval inserts its grant into the grants table (same transaction).
CREATE TABLE IF NOT EXISTS {s}.requests (
  id text PRIMARY KEY,
  source text NOT NULL,
  record_key text NOT NULL,
  requested_by text NOT NULL,
  rule text NOT NULL,
  requested_at timestamptz NOT NULL,
  answer_by timestamptz NOT NULL,
  seconds bigint NOT NULL,
  reason text,
  outcome text CHECK (outcome IN ('approved', 'denied', 'expired')),
  answered_by text,
  answered_at timestamptz,
  grant_id text
);

-- The audit trail: one row per audit record (the fields of pol_runtime::audit::AuditRecord).
CREATE TABLE IF NOT EXISTS {s}.audit (
  seq bigserial PRIMARY KEY,
  time timestamptz NOT NULL,
  subject text NOT NULL,
  action text NOT NULL,
  request text NOT NULL,
  source text NOT NULL,
  key text,
  columns text[] NOT NULL DEFAULT '{{}}',
  expiry timestamptz,
  reason text,
  detail text NOT NULL
);

REVOKE ALL ON {s}.subjects, {s}.hash_key, {s}.grants, {s}.requests, {s}.audit FROM PUBLIC;
REVOKE ALL ON SEQUENCE {s}.audit_seq_seq FROM PUBLIC;
"
    );
    out.push_str(&super::lookup::preamble(model, &s));
    out.push_str("\n-- The hash key.\n");
    let _ = writeln!(out, "DELETE FROM {s}.hash_key;");
    if let Some(key) = &opts.hash_key {
        let (inner, outer) = hmac_pads(key);
        let _ = writeln!(
            out,
            "INSERT INTO {s}.hash_key (inner_pad, outer_pad) VALUES ({}, {});",
            ident::bytea(&inner),
            ident::bytea(&outer)
        );
    }
    let _ = writeln!(
        out,
        "\n-- Views of an earlier script are replaced (their columns may have changed).
DO $drop$
DECLARE v record;
BEGIN
  FOR v IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {schema_text} AND c.relkind = 'v' LOOP
    EXECUTE format('DROP VIEW IF EXISTS %I.%I CASCADE', {schema_text}, v.relname);
  END LOOP;
END
$drop$;"
    );
    out.push_str("\n-- Helper functions: pure, one per technique or expression the views use.\n");
    let alnum = ranges_body(&char_ranges(char::is_alphanumeric));
    let numeric = ranges_body(&char_ranges(char::is_numeric));
    let space = ranges_body(&char_ranges(char::is_whitespace));
    out.push_str(
        &HELPERS
            .replace("@schema@", &s)
            .replace("@ALNUM@", &alnum)
            .replace("@NUMERIC@", &numeric)
            .replace("@SPACE@", &space),
    );
    out.push_str(&subject_functions(model, opts));
    out
}

/// HMAC's inner and outer pads of a 32-byte key (RFC 2104): the views compute
/// HMAC-SHA256(k, m) = SHA256(outer || SHA256(inner || m)) with the built-in `sha256`.
fn hmac_pads(key: &[u8; 32]) -> (Vec<u8>, Vec<u8>) {
    let mut inner = vec![0x36u8; 64];
    let mut outer = vec![0x5cu8; 64];
    for ((i, o), b) in inner.iter_mut().zip(outer.iter_mut()).zip(key) {
        *i ^= b;
        *o ^= b;
    }
    (inner, outer)
}

/// The subject of the querying role, decoded as the runtime decodes a subject, and
/// `act_under`.
fn subject_functions(model: &Model, opts: &Options) -> String {
    let s = ident::ident(&opts.schema);
    let declared: Vec<String> = model
        .purposes
        .paths()
        .iter()
        .filter_map(|p| ident::text(p))
        .collect();
    let declared = format!("ARRAY[{}]::text[]", declared.join(", "));
    let mut columns = vec![
        "login text".to_string(),
        "groups text[]".into(),
        "roles text[]".into(),
        "attributes jsonb".into(),
        "purposes text[]".into(),
    ];
    let mut values = vec![
        "CASE WHEN jsonb_typeof(j -> 'login') = 'string' THEN j ->> 'login' END".to_string(),
        format!("{s}.text_set(j -> 'groups')"),
        format!("{s}.text_set(j -> 'roles')"),
        format!("{s}.attributes(j -> 'attributes')"),
        format!("{s}.claimed({s}.text_set(j -> 'purposes'), claims, {declared})"),
    ];
    for f in model.subject.iter().filter(|f| f.loc.is_some()) {
        let Some(kind) = subject_kind(&f.ty) else {
            continue;
        };
        let name = ident::text(&f.name).unwrap_or_default();
        let (ty, decode) = match (kind, &f.ty) {
            (_, Ty::Int) => ("bigint", "int_field"),
            (_, Ty::Decimal) => ("double precision", "decimal_field"),
            (_, Ty::Bool) => ("boolean", "bool_field"),
            _ => ("text", "text_field"),
        };
        columns.push(format!("{} {ty}", ident::ident(&format!("f_{}", f.name))));
        values.push(format!("{s}.{decode}(j -> {name})"));
    }
    format!(
        "
-- The subject of a role: its JSON decoded as pol_runtime decodes a subject; `claims` are the
-- purposes the session asked to act under (act_under), kept only if the subject allows them.
DROP FUNCTION IF EXISTS {s}.decode_subject(jsonb, text) CASCADE;
CREATE FUNCTION {s}.decode_subject(j jsonb, claims text)
RETURNS TABLE ({columns})
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 1 AS $fn$
BEGIN
  RETURN QUERY SELECT
    {values};
END;
$fn$;

-- The subject of the querying role. A view runs with its owner's privileges (it may read the
-- subjects table) but `current_user` in it is the querying role: nobody can name another role.
-- The masked views read it the same way.
CREATE VIEW {s}.my_subject WITH (security_barrier) AS
  SELECT d.* FROM {s}.decode_subject(
    (SELECT sj.subject FROM {s}.subjects sj WHERE sj.role = current_user),
    current_setting('pol.acting_under', true)) AS d;
GRANT SELECT ON {s}.my_subject TO PUBLIC;
CREATE VIEW {s}.my_purposes WITH (security_barrier) AS
  SELECT {s}.text_set(sj.subject -> 'purposes') AS allowed
  FROM {s}.subjects sj WHERE sj.role = current_user;
GRANT SELECT ON {s}.my_purposes TO PUBLIC;

-- `SELECT {s}.act_under('Analytics.Product')`: act under a purpose the subject allows, for the
-- session (or, with `for_transaction => true`, until the transaction ends). The claim is kept
-- in the setting `pol.acting_under`; setting it by hand claims nothing more, because every
-- view keeps only the purposes the subject allows.
CREATE OR REPLACE FUNCTION {s}.act_under(purpose text, for_transaction boolean DEFAULT false)
RETURNS text[]
LANGUAGE plpgsql AS $fn$
DECLARE
  allowed text[];
  now_claimed text;
BEGIN
  SELECT mp.allowed INTO allowed FROM {s}.my_purposes mp;
  IF purpose IS NULL OR NOT (purpose = ANY({declared})) THEN
    RAISE EXCEPTION 'pol: % is not a declared purpose', purpose
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF allowed IS NULL OR NOT (purpose = ANY(allowed)) THEN
    RAISE EXCEPTION 'pol: the subject of role % may not act under %', current_user, purpose
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  now_claimed := coalesce(nullif(current_setting('pol.acting_under', true), '') || ',', '')
                 || purpose;
  PERFORM set_config('pol.acting_under', now_claimed, for_transaction);
  RETURN string_to_array(now_claimed, ',');
END;
$fn$;
GRANT EXECUTE ON FUNCTION {s}.act_under(text, boolean) TO PUBLIC;
",
        columns = columns.join(", "),
        values = values.join(",\n    "),
    )
}

/// `polc sql --emit tables`: a `CREATE TABLE` per source for a new database (stored columns
/// only; enums as text with a check).
pub fn tables(model: &Model, opts: &Options) -> Result<String, Vec<SqlError>> {
    let base = ident::ident(&opts.base_schema);
    let mut out = format!(
        "-- Generated by `polc sql --emit tables`: the base tables of the policy set.\nCREATE SCHEMA IF NOT EXISTS {base};\n"
    );
    let mut errors = Vec::new();
    for s in 0..model.sources.len() {
        match table(model, opts, s) {
            Ok(t) => out.push_str(&t),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The `CREATE TABLE IF NOT EXISTS` of one source's base table. Type mapping: bool →
/// `boolean`, int → `bigint`, decimal → `double precision`, text → `text`, enum → `text` with
/// a check of its domain, date → `date`, timestamp → `timestamptz`; derived columns are not
/// stored; lists and structs are refused.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn table(model: &Model, opts: &Options, s: usize) -> Result<String, Vec<SqlError>> {
    let base = ident::ident(&opts.base_schema);
    let src = &model.sources[s];
    let mut errors = Vec::new();
    let mut cols = Vec::new();
    for (c, col) in src.top_columns() {
        if col.derived.is_some() {
            continue;
        }
        let name = ident::ident(&col.name);
        let ty = match &col.ty {
            Ty::Bool => "boolean".to_string(),
            Ty::Int => "bigint".into(),
            Ty::Decimal => "double precision".into(),
            Ty::Text => "text".into(),
            Ty::Date => "date".into(),
            Ty::Timestamp => "timestamptz".into(),
            Ty::Enum(values) => {
                let list: Vec<String> = values.iter().filter_map(|v| ident::text(v)).collect();
                format!("text CHECK ({name} IN ({}))", list.join(", "))
            }
            other => {
                errors.push(SqlError {
                    kind: SqlErrorKind::ColumnType {
                        ty: other.to_string(),
                    },
                    source: src.name.clone(),
                    column: Some(src.columns[c].name.clone()),
                    loc: col.decl,
                });
                continue;
            }
        };
        cols.push(format!("  {name} {ty}"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(format!(
        "\nCREATE TABLE IF NOT EXISTS {base}.{} (\n{}\n);\n",
        ident::ident(&src.name),
        cols.join(",\n")
    ))
}
