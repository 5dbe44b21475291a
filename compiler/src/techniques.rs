//! The catalog of techniques (docs/language.md §5): names, parameters, documentation, and the
//! translation of a checked [`TechniqueUse`] into the runtime's [`Technique`] for one column type.
//! Which technique applies to which type is decided by the runtime's own table
//! ([`Technique::applies_to`]), so the compiler and the runtime cannot disagree.

use crate::model::{Const, TechArg, TechniqueUse, Ty};
use pol_runtime::techniques::{Fill, Technique, TimeUnit};
use pol_runtime::value::{ColumnType, Value};

/// The kind of value a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param {
    /// An integer in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    /// A number > 0 (`positive`) or in 0..=1.
    Number {
        positive: bool,
    },
    Text,
    /// A text of at least one character (the runtime refuses an empty one at load).
    NonEmptyText,
    /// A one-character text.
    Char,
    /// A replacement text: at least one character (E0044 otherwise).
    Fill,
    /// A non-empty list of numbers, strictly increasing (`buckets`' edges; E0045 otherwise).
    Edges,
    /// A list of non-empty texts (`buckets`' labels; E0045 otherwise).
    Labels,
    Regex,
    Strftime,
    /// One of these words.
    Word(&'static [&'static str]),
    /// A bare flag (`global`), or `name: true`.
    Flag,
    /// A constant of the column's type.
    Const,
    /// An expression over `value`, `row` and `user`.
    Expr,
    /// `round`: a size > 0 or a time unit.
    SizeOrUnit,
}

pub struct ParamSpec {
    pub name: &'static str,
    pub kind: Param,
    pub required: bool,
}

pub struct TechniqueInfo {
    pub name: &'static str,
    pub params: &'static [ParamSpec],
    pub applies: &'static str,
    pub summary: &'static str,
    pub example: &'static str,
}

const fn p(name: &'static str, kind: Param, required: bool) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        required,
    }
}

const POS: Param = Param::Int {
    min: 1,
    max: i64::MAX,
};

/// The units of `round(unit)`.
pub const TIME_UNITS: &[&str] = &["minute", "hour", "day", "month", "year"];

/// Every technique of §5 except `by level { … }` (a form of its own).
pub const CATALOG: &[TechniqueInfo] = &[
    TechniqueInfo { name: "null", params: &[], applies: "any type", summary: "replaces the value with null", example: "`555-867-5309` → null" },
    TechniqueInfo { name: "constant", params: &[p("value", Param::Const, true)], applies: "any type (the constant must be of the column's type)", summary: "replaces the value with a constant", example: "`constant(\"n/a\")` → `n/a`" },
    TechniqueInfo { name: "hash", params: &[p("scope", Param::Word(&["source", "global"]), false)], applies: "text, enum", summary: "lowercase hex HMAC-SHA256 under the engine's key, per source (or `scope: global` to join across sources)", example: "`jenny@example.com` → `3f1c…`" },
    TechniqueInfo { name: "redact", params: &[], applies: "text", summary: "seven stars, whatever the length", example: "`Jenny` → `*******`" },
    TechniqueInfo { name: "stars", params: &[], applies: "text", summary: "every character replaced by `*`", example: "`Jenny` → `*****`" },
    TechniqueInfo { name: "show_last", params: &[p("n", POS, true), p("char", Param::Char, false), p("text", Param::Fill, false)], applies: "text", summary: "`*******` (or seven `char:`, or the `text:`) followed by the last n letters or digits", example: "`123-45-6789` with `show_last(4, text: \"XXX-XX-\")` → `XXX-XX-6789`" },
    TechniqueInfo { name: "show_first", params: &[p("n", POS, true), p("char", Param::Char, false), p("text", Param::Fill, false)], applies: "text", summary: "the first n letters or digits followed by `*******` (or seven `char:`, or the `text:`)", example: "`555-867-5309` with `show_first(3)` → `555*******`" },
    TechniqueInfo { name: "email_mask", params: &[], applies: "text", summary: "`*******` and the domain's last dot-suffix", example: "`jenny@example.com` → `*******.com`" },
    TechniqueInfo { name: "mask_first", params: &[p("n", POS, true), p("char", Param::Char, false), p("text", Param::Fill, false)], applies: "text", summary: "the first n letters or digits replaced, separators kept", example: "`123-45-6789` with `mask_first(5)` → `***-**-6789`" },
    TechniqueInfo { name: "mask_last", params: &[p("n", POS, true), p("char", Param::Char, false), p("text", Param::Fill, false)], applies: "text", summary: "the last n letters or digits replaced, separators kept", example: "`555-123-4567` with `mask_last(4, text: \"[Restricted]\")` → `555-123-[Restricted]`" },
    TechniqueInfo { name: "mask_first_percent", params: &[p("p", Param::Int { min: 1, max: 100 }, true), p("char", Param::Char, false), p("text", Param::Fill, false)], applies: "text", summary: "the first ⌈len·p/100⌉ characters replaced with `*` (each by `char:`, or all by the `text:` once)", example: "`abcdefghij` with `mask_first_percent(30)` → `***defghij`" },
    TechniqueInfo { name: "mask_last_percent", params: &[p("p", Param::Int { min: 1, max: 100 }, true), p("char", Param::Char, false), p("text", Param::Fill, false)], applies: "text", summary: "the last ⌈len·p/100⌉ characters replaced with `*` (each by `char:`, or all by the `text:` once)", example: "`abcdefghij` with `mask_last_percent(30)` → `abcdefg***`" },
    TechniqueInfo { name: "initials", params: &[p("delimiter", Param::NonEmptyText, false)], applies: "text", summary: "the first character of each part", example: "`John Smith` → `JS`" },
    TechniqueInfo { name: "regex", params: &[p("pattern", Param::Regex, true), p("replacement", Param::Text, true), p("global", Param::Flag, false), p("ignore_case", Param::Flag, false)], applies: "text", summary: "replaces the first (or every, with `global`) match", example: "`regex(r\"\\d+$\", \"XXX\")` on `164.16.13.12` → `164.16.13.XXX`" },
    TechniqueInfo { name: "range", params: &[p("size", Param::Number { positive: true }, true)], applies: "int, decimal", summary: "text `lo-hi` with lo = ⌊v/size⌋·size", example: "25 with `range(10)` → `20-30`" },
    TechniqueInfo { name: "round", params: &[p("size", Param::SizeOrUnit, true)], applies: "int, decimal (a size); date, timestamp (minute, hour, day, month, year)", summary: "the ceiling to a multiple of size, or a date truncated to a unit", example: "21 with `round(5)` → 25" },
    TechniqueInfo { name: "digits", params: &[p("char", Param::Char, false), p("text", Param::Fill, false)], applies: "text, int, decimal", summary: "text with every digit replaced by `*` (or the `char`), or every run of digits by the `text:` once", example: "`A12-7` → `A**-*`; with `digits(text: \"N\")` → `AN-N`" },
    TechniqueInfo { name: "age_range", params: &[p("size", POS, true), p("max", POS, false), p("above", Param::Fill, false)], applies: "date, timestamp", summary: "text range of the age at the evaluation clock; at or above max, null or the `above:` text", example: "born 1990-06-01, clock 2026-01-01, `age_range(10)` → `30-40`" },
    TechniqueInfo { name: "year_only", params: &[p("max", POS, false), p("above", Param::Fill, false)], applies: "date, timestamp", summary: "the year as text; null (or the `above:` text) when the age is at or above max", example: "1988-07-14 → `1988`" },
    TechniqueInfo { name: "month_year", params: &[p("max", POS, false), p("above", Param::Fill, false)], applies: "date, timestamp", summary: "month and year as text; null (or the `above:` text) when the age is at or above max", example: "1988-07-14 → `July 1988`" },
    TechniqueInfo { name: "date_format", params: &[p("pattern", Param::Strftime, true), p("max", POS, false), p("above", Param::Fill, false)], applies: "date, timestamp", summary: "formatted by a strftime pattern; null (or the `above:` text) when the age is at or above max", example: "1988-07-14 with `date_format(\"%m/%Y\")` → `07/1988`" },
    TechniqueInfo { name: "noise", params: &[p("scale", Param::Number { positive: true }, true)], applies: "int, decimal, date, timestamp", summary: "the value plus Laplace noise of that scale, the same for the same row (needs the key)", example: "52000 with `noise(1000)` → 51234" },
    TechniqueInfo { name: "randomize", params: &[p("rate", Param::Number { positive: false }, true)], applies: "enum", summary: "with probability rate another value of the enum's domain, the same for the same row (needs the key)", example: "`MD` with `randomize(0.2)` → `MD` or, one time in five, `VA`/`DE`" },
    TechniqueInfo { name: "tokenize", params: &[], applies: "text", summary: "a reversible token under the engine's key; `allow detokenize` returns the original", example: "`4111 1111 1111 1111` → `tok_1a2b3c4d_…`" },
    TechniqueInfo { name: "format_preserving", params: &[], applies: "text, int", summary: "reversible format-preserving encryption of letters and digits, separators kept; an int keeps its sign and number of digits (at least 7, else null)", example: "`4111-1111-1111-1111` → `8026-3357-9812-4470`" },
    TechniqueInfo { name: "constant_text", params: &[p("text", Param::Fill, true)], applies: "date, timestamp", summary: "a fixed text in place of the date (null stays null)", example: "1988-07-14 with `constant_text(\"Date withheld\")` → `Date withheld`" },
    TechniqueInfo { name: "buckets", params: &[p("edges", Param::Edges, true), p("labels", Param::Labels, false)], applies: "int, decimal, date, timestamp (the age)", summary: "the label of the bucket from the last edge at or below the value (for dates, the age) up to the next edge; null below the first edge; default labels `lo-hi` and `lo+`", example: "17 with `buckets([0, 5, 18, 65], labels: [\"under 5\", \"5-17\", \"18-64\", \"65 and over\"])` → `5-17`" },
    TechniqueInfo { name: "expr", params: &[p("expr", Param::Expr, true)], applies: "any type", summary: "an expression over `value`, `row` and `user`", example: "`expr(upper(value))`" },
];

pub fn info(name: &str) -> Option<&'static TechniqueInfo> {
    CATALOG.iter().find(|t| t.name == name)
}

/// The runtime's type of a column type, when it has one.
pub fn column_type(ty: &Ty) -> Option<ColumnType> {
    Some(match ty {
        Ty::Bool => ColumnType::Bool,
        Ty::Int => ColumnType::Int,
        Ty::Decimal => ColumnType::Decimal,
        Ty::Text => ColumnType::Text,
        Ty::Enum(v) => ColumnType::Enum(v.as_ref().clone()),
        Ty::Date => ColumnType::Date,
        Ty::Timestamp => ColumnType::Timestamp,
        Ty::List(t) => ColumnType::List(Box::new(column_type(t)?)),
        Ty::Struct(fields) => ColumnType::Struct(
            fields
                .iter()
                .map(|(n, t)| Some((n.clone(), column_type(t)?)))
                .collect::<Option<Vec<_>>>()?,
        ),
        Ty::Set(_)
        | Ty::Map(_, _)
        | Ty::Duration
        | Ty::Months
        | Ty::Purpose
        | Ty::Null
        | Ty::Error => return None,
    })
}

pub fn const_value(c: &Const) -> Value {
    match c {
        Const::Null => Value::Null,
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(i) => Value::Int(*i),
        Const::Decimal(d) => Value::Decimal(*d),
        Const::Text(t) => Value::Text(t.clone()),
        Const::Date(d) => Value::Date(*d),
        Const::Timestamp(t) => Value::Timestamp(*t),
        Const::Duration(s) => Value::Int(*s),
        // Not a value: a calendar duration only moves dates.
        Const::Months(_) => Value::Null,
    }
}

fn u32_arg(t: &TechniqueUse, name: &str) -> Option<u32> {
    t.int_arg(name).and_then(|i| u32::try_from(i).ok())
}

/// The replacement written (`char:` first, then `text:`), if any.
fn given_fill(t: &TechniqueUse) -> Option<Fill> {
    match (t.text_arg("char"), t.text_arg("text")) {
        (Some(c), _) => c.chars().next().map(Fill::Char),
        (None, Some(s)) => Some(Fill::Text(s)),
        (None, None) => None,
    }
}

/// `age_range`, `year_only`, `month_year`, `date_format`, with their `max:` and `above:`.
fn age_technique(t: &TechniqueUse) -> Option<Technique> {
    let max = u32_arg(t, "max");
    let above = t.text_arg("above");
    let cut = if above.is_some() { None } else { max };
    let technique = match t.name.as_str() {
        "age_range" => Technique::AgeRange {
            size: u32_arg(t, "size")?,
            max: cut,
        },
        "year_only" => Technique::YearOnly { max: cut },
        "month_year" => Technique::MonthYear { max: cut },
        "date_format" => Technique::DateFormat {
            pattern: t.text_arg("pattern")?,
            max: cut,
        },
        _ => return None,
    };
    Some(match (above, max) {
        (Some(above), Some(max)) => Technique::AboveMax {
            max,
            above,
            technique: Box::new(technique),
        },
        _ => technique,
    })
}

/// The labels of `buckets` written without `labels:` (docs/language.md §5): `lo-hi` for each
/// bucket but the last, `lo+` for the last, each edge in its shortest decimal text without an
/// exponent (`5`, `2.5`; zero as `0`).
pub fn default_bucket_labels(edges: &[f64]) -> Vec<String> {
    let text = |x: f64| {
        if x == 0.0 {
            "0".to_string()
        } else {
            x.to_string()
        }
    };
    edges
        .iter()
        .enumerate()
        .map(|(i, lo)| match edges.get(i + 1) {
            Some(hi) => format!("{}-{}", text(*lo), text(*hi)),
            None => format!("{}+", text(*lo)),
        })
        .collect()
}

/// The runtime technique for a checked use, for a column of type `ty`; `None` for `expr` and
/// `by level` (lowered separately) or when arguments are missing (already reported).
pub fn runtime_technique(t: &TechniqueUse, ty: &Ty) -> Option<Technique> {
    let fill = |t: &TechniqueUse| match (t.text_arg("char"), t.text_arg("text")) {
        (Some(c), _) => Fill::Char(c.chars().next().unwrap_or('*')),
        (None, Some(s)) => Fill::Text(s),
        (None, None) => Fill::Char('*'),
    };
    Some(match t.name.as_str() {
        "null" => Technique::Null,
        "constant" => match (t.arg("value"), ty) {
            // §5: `v` of the column's type — an int constant on a decimal column is a decimal.
            (Some(TechArg::Const(Const::Int(i))), Ty::Decimal) => {
                Technique::Constant(Value::Decimal(*i as f64))
            }
            (Some(TechArg::Const(c)), _) => Technique::Constant(const_value(c)),
            _ => return None,
        },
        "hash" => Technique::Hash {
            global: matches!(t.arg("scope"), Some(TechArg::Word(w)) if w == "global"),
        },
        "redact" => Technique::Redact,
        "stars" => Technique::Stars,
        "show_last" => match given_fill(t) {
            Some(fill) => Technique::ShowLastFill {
                n: u32_arg(t, "n")?,
                fill,
            },
            None => Technique::ShowLast(u32_arg(t, "n")?),
        },
        "show_first" => match given_fill(t) {
            Some(fill) => Technique::ShowFirstFill {
                n: u32_arg(t, "n")?,
                fill,
            },
            None => Technique::ShowFirst(u32_arg(t, "n")?),
        },
        "email_mask" => Technique::EmailMask,
        "mask_first" => Technique::MaskFirst {
            n: u32_arg(t, "n")?,
            fill: fill(t),
        },
        "mask_last" => Technique::MaskLast {
            n: u32_arg(t, "n")?,
            fill: fill(t),
        },
        "mask_first_percent" => {
            let p = u8::try_from(t.int_arg("p")?).ok()?;
            match given_fill(t) {
                Some(fill) => Technique::MaskFirstPercentFill { p, fill },
                None => Technique::MaskFirstPercent(p),
            }
        }
        "mask_last_percent" => {
            let p = u8::try_from(t.int_arg("p")?).ok()?;
            match given_fill(t) {
                Some(fill) => Technique::MaskLastPercentFill { p, fill },
                None => Technique::MaskLastPercent(p),
            }
        }
        "initials" => Technique::Initials {
            delimiter: t.text_arg("delimiter"),
        },
        "regex" => Technique::Regex {
            pattern: t.text_arg("pattern")?,
            replacement: t.text_arg("replacement")?,
            global: t.flag_arg("global"),
            ignore_case: t.flag_arg("ignore_case"),
        },
        "range" => Technique::Range(t.num_arg("size")?),
        "round" => match t.arg("size") {
            Some(TechArg::Word(w)) => Technique::RoundTime(match w.as_str() {
                "minute" => TimeUnit::Minute,
                "hour" => TimeUnit::Hour,
                "day" => TimeUnit::Day,
                "month" => TimeUnit::Month,
                _ => TimeUnit::Year,
            }),
            _ => Technique::Round(t.num_arg("size")?),
        },
        "digits" => match given_fill(t) {
            Some(Fill::Char(c)) => Technique::Digits(c),
            Some(fill) => Technique::DigitsFill(fill),
            None => Technique::Digits('*'),
        },
        "age_range" | "year_only" | "month_year" | "date_format" => return age_technique(t),
        "constant_text" => Technique::ConstantText(t.text_arg("text")?),
        "buckets" => {
            let edges = t.numbers_arg("edges")?.to_vec();
            let labels = match t.texts_arg("labels") {
                Some(labels) => labels.to_vec(),
                None => default_bucket_labels(&edges),
            };
            Technique::Buckets { edges, labels }
        }
        "noise" => Technique::Noise(t.num_arg("scale")?),
        "randomize" => Technique::Randomize {
            rate: t.num_arg("rate")?,
            domain: match ty {
                Ty::Enum(v) => v.as_ref().clone(),
                _ => Vec::new(),
            },
        },
        "tokenize" => Technique::Tokenize,
        "format_preserving" => Technique::FormatPreserving,
        _ => return None,
    })
}

/// Does the technique apply to a column of this type? `expr` when its result fits the type; `by level`
/// when every entry does; `constant` when its value fits the type.
pub fn applies(t: &TechniqueUse, ty: &Ty) -> bool {
    if ty.is_error() {
        return true;
    }
    if !t.by_level.is_empty() {
        return t.by_level.iter().all(|(_, e)| applies(e, ty));
    }
    match t.name.as_str() {
        "null" => true,
        "expr" => match t.arg("expr") {
            Some(TechArg::Expr(x)) => x.fits(ty),
            _ => true,
        },
        "constant" => match t.arg("value") {
            Some(TechArg::Const(c)) => const_fits(c, ty),
            _ => true,
        },
        "round" => match (t.arg("size"), ty) {
            (Some(TechArg::Word(w)), Ty::Date) => matches!(w.as_str(), "day" | "month" | "year"),
            (Some(TechArg::Word(_)), Ty::Timestamp) => true,
            (Some(TechArg::Word(_)), _) => false,
            (_, t2) => {
                matches!(t2, Ty::Int | Ty::Decimal)
                    && !(matches!(t2, Ty::Int)
                        && t.num_arg("size").is_some_and(|s| s.fract() != 0.0))
            }
        },
        _ => match (runtime_technique(t, ty), column_type(ty)) {
            (Some(rt), Some(ct)) => rt.applies_to(&ct),
            _ => false,
        },
    }
}

/// Does a constant fit a column type (an int where a decimal is expected is accepted)?
pub fn const_fits(c: &Const, ty: &Ty) -> bool {
    match (c, ty) {
        (Const::Null, _) => true,
        (Const::Bool(_), Ty::Bool) => true,
        (Const::Int(_), Ty::Int | Ty::Decimal) => true,
        (Const::Decimal(_), Ty::Decimal) => true,
        (Const::Text(_), Ty::Text) => true,
        (Const::Text(s), Ty::Enum(values)) => values.contains(s),
        (Const::Date(_), Ty::Date) => true,
        (Const::Timestamp(_), Ty::Timestamp) => true,
        _ => false,
    }
}

/// The technique a tag-, name- or all-columns-targeted rule falls back to on a type its technique
/// does not apply to: `hash` on text, `null` on every other type.
pub fn fallback(ty: &Ty) -> TechniqueUse {
    let name = if ty.is_textual() { "hash" } else { "null" };
    TechniqueUse {
        name: name.to_string(),
        args: Vec::new(),
        by_level: Vec::new(),
        loc: crate::source_map::Loc::new(
            crate::source_map::FileId(0),
            pol_grammar::Span::default(),
        ),
    }
}

/// Does a checked technique need the engine's key?
pub fn needs_key(t: &TechniqueUse) -> bool {
    if !t.by_level.is_empty() {
        return t.by_level.iter().any(|(_, e)| needs_key(e));
    }
    matches!(
        t.name.as_str(),
        "hash" | "tokenize" | "format_preserving" | "noise" | "randomize"
    )
}
