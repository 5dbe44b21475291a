//! Lookup tables in PostgreSQL: two tables of the schema hold every table's values, and
//! `x in table t` reads them.
//!
//! - `<schema>.lookup_tables (name, kind, filled)`: one row per declared table. A file table is
//!   filled by the script (`filled` true, its values written again on every run); a table
//!   supplied at run time is created with `filled` false, and the application fills it: it
//!   writes the values into `lookup_values` and sets `filled` (in one transaction, so that a
//!   query sees the old values or the new ones).
//! - `<schema>.lookup_values (table_name, text_value, int_value)`: the values.
//!
//! `x in table t` is true when `t` holds `x`, false when `t` is filled and does not, and null
//! (unknown) when `x` is null or `t` is not filled yet — the runtime's semantics.

use std::fmt::Write as _;

use super::ident;
use crate::model::{Model, TableOrigin};
use pol_runtime::{LookupKind, LookupValues};

/// How many values one `INSERT` writes.
const VALUES_PER_INSERT: usize = 1000;

/// The tables' DDL and the file tables' values, for the script's preamble.
pub fn preamble(model: &Model, s: &str) -> String {
    let mut out = format!(
        "
-- Lookup tables (`table NAME …` of the policy set): file tables are filled here; the
-- application fills a table supplied at run time (its values, then `filled`, in one
-- transaction). Until then `x in table` is unknown, and masks.
CREATE TABLE IF NOT EXISTS {s}.lookup_tables (
  name text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('text', 'int')),
  filled boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS {s}.lookup_values (
  table_name text NOT NULL REFERENCES {s}.lookup_tables (name) ON DELETE CASCADE,
  text_value text,
  int_value bigint,
  CHECK ((text_value IS NULL) <> (int_value IS NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS lookup_text ON {s}.lookup_values (table_name, text_value COLLATE \"C\") WHERE text_value IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS lookup_int ON {s}.lookup_values (table_name, int_value) WHERE int_value IS NOT NULL;
REVOKE ALL ON {s}.lookup_tables, {s}.lookup_values FROM PUBLIC;
"
    );
    // Tables no longer declared, or whose kind or origin changed, start again.
    let declared: Vec<String> = model
        .tables
        .iter()
        .filter_map(|t| ident::text(&t.name))
        .collect();
    let _ = writeln!(
        out,
        "DELETE FROM {s}.lookup_tables WHERE name <> ALL (ARRAY[{}]::text[]);",
        declared.join(", ")
    );
    for t in &model.tables {
        let Some(name) = ident::text(&t.name) else {
            continue;
        };
        let kind = kind_text(t.kind);
        match &t.origin {
            TableOrigin::Supplied => {
                let _ = writeln!(
                    out,
                    "DELETE FROM {s}.lookup_tables WHERE name = {name} AND kind <> '{kind}';\n\
                     INSERT INTO {s}.lookup_tables (name, kind, filled) VALUES ({name}, '{kind}', false) \
                     ON CONFLICT (name) DO NOTHING;"
                );
            }
            TableOrigin::File { values, .. } => {
                let _ = writeln!(
                    out,
                    "DELETE FROM {s}.lookup_tables WHERE name = {name};\n\
                     INSERT INTO {s}.lookup_tables (name, kind, filled) VALUES ({name}, '{kind}', true);"
                );
                file_values(&mut out, s, &name, values);
            }
        }
    }
    out
}

fn kind_text(kind: LookupKind) -> &'static str {
    match kind {
        LookupKind::Text => "text",
        LookupKind::Int => "int",
    }
}

/// The `INSERT`s of a file table's values (distinct; a text with a NUL character, which no
/// PostgreSQL text can equal, is left out).
fn file_values(out: &mut String, s: &str, name: &str, values: &LookupValues) {
    let rows: Vec<String> = match values {
        LookupValues::Text(v) => {
            let mut v: Vec<&String> = v.iter().collect();
            v.sort();
            v.dedup();
            v.into_iter()
                .filter_map(|t| ident::text(t))
                .map(|t| format!("({name}, {t}, NULL)"))
                .collect()
        }
        LookupValues::Int(v) => {
            let mut v = v.clone();
            v.sort_unstable();
            v.dedup();
            v.into_iter()
                .map(|i| format!("({name}, NULL, {i})"))
                .collect()
        }
    };
    for chunk in rows.chunks(VALUES_PER_INSERT) {
        let _ = writeln!(
            out,
            "INSERT INTO {s}.lookup_values (table_name, text_value, int_value) VALUES\n  {};",
            chunk.join(",\n  ")
        );
    }
}

/// `x in table t` for `x` of the table's kind (`x` is SQL of that kind).
pub fn membership(s: &str, name: &str, kind: LookupKind, x: &str) -> Option<String> {
    let name = ident::text(name)?;
    let holds = match kind {
        LookupKind::Text => format!("l.text_value COLLATE \"C\" = {x} COLLATE \"C\""),
        LookupKind::Int => format!("l.int_value = {x}"),
    };
    Some(format!(
        "(CASE WHEN {x} IS NULL THEN NULL \
         WHEN EXISTS (SELECT 1 FROM {s}.lookup_values l WHERE l.table_name = {name} AND {holds}) THEN true \
         WHEN EXISTS (SELECT 1 FROM {s}.lookup_tables t WHERE t.name = {name} AND t.filled) THEN false END)"
    ))
}
