//! Masking techniques as SQL over a cell's raw value, byte-identical to the runtime's output
//! (`pol_runtime::techniques`), or refused with the reason.

use std::cell::RefCell;

use super::expr::Kind;
use super::ident;
use super::regex;
use crate::model::{Column, Model, TechArg, TechniqueUse, Ty};
use crate::techniques::{applies, fallback};

/// What a technique needs besides the cell.
pub struct Cell<'a> {
    pub model: &'a Model,
    /// The helper schema, quoted.
    pub schema: &'a str,
    pub source: &'a str,
    pub column: &'a Column,
    /// SQL of the raw value.
    pub raw: &'a str,
    /// SQL of the raw value in the view's inner query (where per-row values are computed).
    pub inner_raw: &'a str,
    /// SQL of the row's masking level (text), for `by level`.
    pub level: &'a str,
    /// Values the technique needs more than once per row, computed once in the inner query
    /// (only for rows this technique masks): their SQL there, in order.
    pub per_row: &'a RefCell<Vec<String>>,
    /// The name prefix of those values (`x.<prefix>_<i>`).
    pub per_row_prefix: &'a str,
}

impl Cell<'_> {
    /// A value computed once per row in the inner query (over `inner_raw`): its SQL outside.
    fn once(&self, inner_sql: String) -> String {
        let mut values = self.per_row.borrow_mut();
        values.push(inner_sql);
        format!("x.{}_{}", self.per_row_prefix, values.len() - 1)
    }
}

/// A technique's SQL and the kind of value it produces (`Null` for null whatever the input).
pub struct Masked {
    pub sql: String,
    pub kind: Kind,
}

/// Why a technique is refused: the technique as written and the reason.
pub type Refusal = (String, String);

fn refuse(t: &TechniqueUse, why: &str) -> Refusal {
    (t.display(), why.to_string())
}

/// A count argument as a PostgreSQL `integer` (a larger count masks as much as `i32::MAX`).
fn count(t: &TechniqueUse, name: &str) -> Option<String> {
    t.int_arg(name)
        .map(|n| n.clamp(0, i64::from(i32::MAX)).to_string())
}

fn max_arg(t: &TechniqueUse) -> String {
    match t.int_arg("max") {
        Some(m) => format!("({m})::bigint"),
        None => "NULL::bigint".into(),
    }
}

/// The stand-in of `show_first` / `show_last` with `char: c` (seven `c`) or `text: t`.
fn stand_in(t: &TechniqueUse) -> Option<String> {
    match (t.text_arg("char"), t.text_arg("text")) {
        (Some(c), _) => Some(c.repeat(7)),
        (None, Some(x)) => Some(x),
        (None, None) => None,
    }
}

/// `buckets`: the label at the position `bucket_of` gives (an array index 0 is null in SQL:
/// below the first edge); dates by their age.
fn buckets(cell: &Cell<'_>, t: &TechniqueUse, own: Kind) -> Result<Masked, Refusal> {
    let s = cell.schema;
    let raw = cell.raw;
    let edges = t
        .numbers_arg("edges")
        .ok_or_else(|| refuse(t, "no edges"))?;
    let labels = match t.texts_arg("labels") {
        Some(labels) => labels.to_vec(),
        None => crate::techniques::default_bucket_labels(edges),
    };
    let x = match own {
        Kind::Int | Kind::Dec => format!("({raw})::double precision"),
        Kind::Date => format!("{s}.age_of({raw})"),
        Kind::Ts => format!("{s}.age_of(({raw} AT TIME ZONE 'UTC')::date)"),
        _ => return Err(refuse(t, "this type")),
    };
    let edges: Vec<String> = edges.iter().map(|e| ident::float(*e)).collect();
    let labels = labels
        .iter()
        .map(|l| lit(t, l))
        .collect::<Result<Vec<_>, _>>()?;
    masked(
        format!(
            "(ARRAY[{}]::text[])[{s}.bucket_of({x}, ARRAY[{}]::double precision[])]",
            labels.join(", "),
            edges.join(", ")
        ),
        Kind::Text,
    )
}

fn lit(t: &TechniqueUse, s: &str) -> Result<String, Refusal> {
    ident::text(s).ok_or_else(|| refuse(t, "a text with a NUL character"))
}

/// The SQL of a technique applied to a cell (with the type fallback and `by level`).
pub fn apply(cell: &Cell<'_>, t: &TechniqueUse) -> Result<Masked, Refusal> {
    let ty = &cell.column.ty;
    let fb;
    let mut t = t;
    if !applies(t, ty) {
        fb = fallback(ty);
        t = &fb;
    }
    if !t.by_level.is_empty() {
        return by_level(cell, t);
    }
    one(cell, t)
}

fn by_level(cell: &Cell<'_>, t: &TechniqueUse) -> Result<Masked, Refusal> {
    let levels = &cell.model.levels;
    let highest = levels.first().map(|l| l.name.as_str());
    let entry = |level: Option<&str>| {
        t.by_level
            .iter()
            .find(|(l, _)| Some(l.as_str()) == level)
            .or_else(|| t.by_level.iter().find(|(l, _)| Some(l.as_str()) == highest))
            .map(|(_, e)| e)
    };
    let sql_of = |e: Option<&TechniqueUse>| -> Result<Masked, Refusal> {
        match e {
            Some(e) if e.by_level.is_empty() => apply(cell, e),
            _ => Ok(Masked {
                sql: "NULL".into(),
                kind: Kind::Null,
            }),
        }
    };
    let mut arms = Vec::new();
    for l in levels {
        arms.push((lit(t, &l.name)?, sql_of(entry(Some(&l.name)))?));
    }
    let otherwise = sql_of(entry(None))?;
    let mut kinds: Vec<Kind> = arms.iter().map(|(_, m)| m.kind).collect();
    kinds.push(otherwise.kind);
    let kind =
        common(&kinds).ok_or_else(|| refuse(t, "its levels give values of different types"))?;
    let mut sql = format!("(CASE {}", cell.level);
    for (name, m) in &arms {
        sql.push_str(&format!(" WHEN {name} THEN {}", m.sql));
    }
    sql.push_str(&format!(" ELSE {} END)", otherwise.sql));
    Ok(Masked { sql, kind })
}

/// The one kind of several results (null fits any), if they agree.
pub fn common(kinds: &[Kind]) -> Option<Kind> {
    let mut out = Kind::Null;
    for k in kinds {
        match (&out, k) {
            (_, Kind::Null) => {}
            (Kind::Null, k) => out = *k,
            (a, b) if a == b => {}
            _ => return None,
        }
    }
    Some(out)
}

fn masked(sql: String, kind: Kind) -> Result<Masked, Refusal> {
    Ok(Masked { sql, kind })
}

fn one(cell: &Cell<'_>, t: &TechniqueUse) -> Result<Masked, Refusal> {
    let s = cell.schema;
    let raw = cell.raw;
    let ty = &cell.column.ty;
    let own = super::expr::kind_of(ty).ok_or_else(|| refuse(t, "the column's type"))?;
    let text_in = ty.is_textual();
    let needs_text = |why: &str| -> Result<(), Refusal> {
        if matches!(ty, Ty::Text) {
            Ok(())
        } else {
            Err(refuse(t, why))
        }
    };
    match t.name.as_str() {
        "null" => masked("NULL".into(), Kind::Null),
        "constant" => {
            let Some(TechArg::Const(c)) = t.arg("value") else {
                return Err(refuse(t, "no constant"));
            };
            let v = super::expr::constant_sql(c).map_err(|why| refuse(t, &why))?;
            let kind = if v.kind == Kind::Null {
                Kind::Null
            } else {
                v.kind
            };
            masked(
                format!("(CASE WHEN {raw} IS NOT NULL THEN {} END)", v.sql),
                kind,
            )
        }
        "hash" => {
            if !text_in {
                return Err(refuse(t, "hashing the canonical text of a non-text value"));
            }
            let global = matches!(t.arg("scope"), Some(TechArg::Word(w)) if w == "global");
            let mut prefix = Vec::new();
            if !global {
                prefix.extend_from_slice(cell.source.as_bytes());
                prefix.push(0);
            }
            masked(
                format!(
                    "encode(sha256(x.k_o || sha256(x.k_i || {} || convert_to({raw}, 'UTF8'))), 'hex')",
                    ident::bytea(&prefix)
                ),
                Kind::Text,
            )
        }
        "redact" => {
            needs_text("redact")?;
            masked(
                format!("(CASE WHEN {raw} IS NOT NULL THEN '*******' END)"),
                Kind::Text,
            )
        }
        "stars" => {
            needs_text("stars")?;
            masked(format!("repeat('*', length({raw}))"), Kind::Text)
        }
        "show_last" | "show_first" => {
            needs_text("show")?;
            let n = count(t, "n").ok_or_else(|| refuse(t, "no count"))?;
            let alnum = cell.once(format!(
                "{s}.alnum_slow({}, {n}, {})",
                cell.inner_raw,
                t.name == "show_last"
            ));
            let sql = match stand_in(t) {
                Some(st) => format!("{s}.{}_with({raw}, {alnum}, {n}, {})", t.name, lit(t, &st)?),
                None => format!("{s}.{}_of({raw}, {alnum}, {n})", t.name),
            };
            masked(sql, Kind::Text)
        }
        "email_mask" => {
            needs_text("email_mask")?;
            let domain = cell.once(format!("split_part({}, '@', -1)", cell.inner_raw));
            masked(format!("{s}.email_mask_of({raw}, {domain})"), Kind::Text)
        }
        "mask_first" | "mask_last" => {
            needs_text("mask")?;
            let n = count(t, "n").ok_or_else(|| refuse(t, "no count"))?;
            let (c, fill_text) = match (t.text_arg("char"), t.text_arg("text")) {
                (Some(c), _) => (c.chars().next().unwrap_or('*').to_string(), None),
                (None, Some(x)) => ("*".to_string(), Some(x)),
                (None, None) => ("*".to_string(), None),
            };
            let c = lit(t, &c)?;
            // With a fill character, the part is masked where it is found (in the inner
            // query); with a fill text, it is found there and masked outside.
            let (fill_text, part_fill) = match fill_text {
                Some(x) => (lit(t, &x)?, "NULL::text".to_string()),
                None => ("NULL::text".to_string(), c.clone()),
            };
            let from_end = t.name == "mask_last";
            let part = cell.once(format!(
                "{s}.alnum_part({}, {n}, {from_end}, {part_fill})",
                cell.inner_raw
            ));
            masked(
                format!("{s}.mask_alnum_of({raw}, {part}, {n}, {from_end}, {c}, {fill_text})"),
                Kind::Text,
            )
        }
        "mask_first_percent" | "mask_last_percent"
            if t.arg("char").is_some() || t.arg("text").is_some() =>
        {
            needs_text("mask")?;
            let p = count(t, "p").ok_or_else(|| refuse(t, "no percentage"))?;
            let (c, x) = match (t.text_arg("char"), t.text_arg("text")) {
                (Some(c), _) => (lit(t, &c)?, "NULL::text".to_string()),
                (None, Some(x)) => ("NULL::text".to_string(), lit(t, &x)?),
                (None, None) => return Err(refuse(t, "no replacement")),
            };
            masked(
                format!(
                    "{s}.mask_percent_with({raw}, {p}, {}, {c}, {x})",
                    t.name == "mask_last_percent"
                ),
                Kind::Text,
            )
        }
        "mask_first_percent" | "mask_last_percent" => {
            needs_text("mask")?;
            let p = count(t, "p").ok_or_else(|| refuse(t, "no percentage"))?;
            masked(
                format!(
                    "{s}.mask_percent({raw}, {p}, {})",
                    t.name == "mask_last_percent"
                ),
                Kind::Text,
            )
        }
        "initials" => {
            needs_text("initials")?;
            let d = match t.text_arg("delimiter") {
                Some(d) => lit(t, &d)?,
                None => "NULL::text".into(),
            };
            masked(format!("{s}.initials({raw}, {d})"), Kind::Text)
        }
        "regex" => {
            needs_text("regex")?;
            let pattern = t
                .text_arg("pattern")
                .ok_or_else(|| refuse(t, "no pattern"))?;
            let rep = t
                .text_arg("replacement")
                .ok_or_else(|| refuse(t, "no replacement"))?;
            let ic = t.flag_arg("ignore_case");
            let re = regex::translate(&pattern, ic).map_err(|why| refuse(t, &why))?;
            let names = regex::group_names(&pattern, ic).map_err(|why| refuse(t, &why))?;
            let rep = regex::replacement(&rep, &names).map_err(|why| refuse(t, &why))?;
            let flags = if t.flag_arg("global") { ", 'g'" } else { "" };
            masked(
                format!(
                    "regexp_replace({raw}, {}, {}{flags})",
                    lit(t, &re)?,
                    lit(t, &rep)?
                ),
                Kind::Text,
            )
        }
        "range" => {
            let size = t.num_arg("size").ok_or_else(|| refuse(t, "no size"))?;
            let whole = size.fract() == 0.0 && size > 0.0 && size < 9.0e15;
            match (own, whole) {
                (Kind::Int, true) => {
                    masked(format!("{s}.int_range({raw}, {})", size as i64), Kind::Text)
                }
                (Kind::Dec, true) => masked(
                    format!("{s}.dec_range({raw}, {})", ident::float(size)),
                    Kind::Text,
                ),
                _ => Err(refuse(t, "a fractional size (decimal formatting)")),
            }
        }
        "round" => match t.arg("size") {
            Some(TechArg::Word(unit)) => {
                let sql = match (own, unit.as_str()) {
                    (Kind::Date, "day") => format!("({raw})"),
                    (Kind::Date, u) => format!("(date_trunc('{u}', {raw}::timestamp)::date)"),
                    (Kind::Ts, u) => format!("date_trunc('{u}', {raw}, 'UTC')"),
                    _ => return Err(refuse(t, "a unit on this type")),
                };
                masked(sql, own)
            }
            _ => {
                let size = t.num_arg("size").ok_or_else(|| refuse(t, "no size"))?;
                let whole = size.fract() == 0.0 && size > 0.0 && size < 9.0e15;
                match (own, whole) {
                    (Kind::Int, true) => {
                        masked(format!("{s}.int_round({raw}, {})", size as i64), Kind::Int)
                    }
                    (Kind::Dec, true) => masked(
                        format!("{s}.dec_round({raw}, {})", ident::float(size)),
                        Kind::Dec,
                    ),
                    _ => Err(refuse(t, "a fractional size (decimal rounding)")),
                }
            }
        },
        "digits" if t.arg("char").is_none() && t.arg("text").is_some() => {
            let x = t
                .text_arg("text")
                .ok_or_else(|| refuse(t, "no replacement"))?;
            // In a PostgreSQL replacement `\&` is the match and `\\` a backslash; `&` is itself.
            let fill = x.replace('\\', "\\\\");
            let arg = match own {
                Kind::Text => raw.to_string(),
                Kind::Int => format!("({raw})::text"),
                _ => return Err(refuse(t, "the canonical text of a decimal")),
            };
            masked(
                format!("{s}.digit_runs({arg}, {})", lit(t, &fill)?),
                Kind::Text,
            )
        }
        "constant_text" => {
            let x = t.text_arg("text").ok_or_else(|| refuse(t, "no text"))?;
            masked(
                format!("(CASE WHEN {raw} IS NOT NULL THEN {} END)", lit(t, &x)?),
                Kind::Text,
            )
        }
        "buckets" => buckets(cell, t, own),
        "digits" => {
            let c = t
                .text_arg("char")
                .and_then(|c| c.chars().next())
                .unwrap_or('*');
            let fill = match c {
                // `\&` would insert the match (the digit itself): `&` is written as it is.
                '\\' => "\\\\".to_string(),
                c => c.to_string(),
            };
            let arg = match own {
                Kind::Text => raw.to_string(),
                Kind::Int => format!("({raw})::text"),
                _ => return Err(refuse(t, "the canonical text of a decimal")),
            };
            masked(format!("{s}.digits({arg}, {})", lit(t, &fill)?), Kind::Text)
        }
        "age_range" | "year_only" | "month_year" => {
            let d = match own {
                Kind::Date => raw.to_string(),
                Kind::Ts => format!("({raw} AT TIME ZONE 'UTC')::date"),
                _ => return Err(refuse(t, "this type")),
            };
            let above = t.text_arg("above");
            // With `above:`, the technique itself has no cut-off: the CASE shows the text.
            let max = if above.is_some() {
                "NULL::bigint".to_string()
            } else {
                max_arg(t)
            };
            let sql = if t.name == "age_range" {
                let size = t.int_arg("size").ok_or_else(|| refuse(t, "no size"))?;
                format!("{s}.age_range({d}, {size}, {max})")
            } else {
                format!("{s}.{}({d}, {max})", t.name)
            };
            let sql = match above {
                Some(above) => format!(
                    "(CASE WHEN {s}.too_old({d}, {}) THEN {} ELSE {sql} END)",
                    max_arg(t),
                    lit(t, &above)?
                ),
                None => sql,
            };
            masked(sql, Kind::Text)
        }
        "date_format" => Err(refuse(t, "strftime patterns are not translated")),
        "noise" | "randomize" => Err(refuse(
            t,
            "its Laplace and uniform draws use floating-point functions SQL does not reproduce",
        )),
        "tokenize" => Err(refuse(t, "AES-SIV is not available in PostgreSQL")),
        "format_preserving" => Err(refuse(t, "FF1 is not available in PostgreSQL")),
        "expr" => Err(refuse(t, "`expr(…)` techniques are not translated")),
        _ => Err(refuse(t, "unknown technique")),
    }
}
