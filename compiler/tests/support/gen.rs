//! A generator of random but *valid* policy sets, subjects and rows, for differential tests.
//!
//! Cases are drawn from a *choice tape*: a vector of integers that every decision reads from
//! (`pick(n)` takes the next number modulo n; an exhausted tape answers 0). Option 0 is always
//! the simplest one (no `where`, `for everyone`, no extra declaration), so proptest's shrinking
//! of the tape — smaller numbers, fewer of them — shrinks the case towards a small policy.
//!
//! Validity is by construction: one global column catalogue (a name always has one type, so a
//! `row.x` reads the same type in every source), conditions only read columns that exist in a
//! source the rule covers, direct targets only use techniques that apply to the column's type.
//! [`Case::check`] asserts that the text checks without errors.

#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Reads choices from a tape.
pub struct Tape {
    tape: Vec<u32>,
    at: usize,
}

impl Tape {
    pub fn new(tape: Vec<u32>) -> Tape {
        Tape { tape, at: 0 }
    }

    /// A number in `0..n` (0 when the tape is exhausted).
    pub fn pick(&mut self, n: usize) -> usize {
        let v = self.tape.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        if n == 0 {
            0
        } else {
            v as usize % n
        }
    }

    /// True with probability about 1/n (false when the tape is exhausted).
    pub fn one_in(&mut self, n: usize) -> bool {
        self.pick(n) == n - 1
    }

    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.pick(items.len())]
    }
}

/// A column of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Text,
    Int,
    Decimal,
    Date,
    Timestamp,
    Enum,
    Bool,
    Struct,
    ListText,
}

/// The catalogue: (name, kind, tags it may carry).
pub const CATALOGUE: &[(&str, Kind, &[&str])] = &[
    ("name", Kind::Text, &["PII", "PII.Name"]),
    ("email", Kind::Text, &["PII.Email", "PII"]),
    ("ssn", Kind::Text, &["PII.SSN", "PII"]),
    ("country", Kind::Text, &["Country"]),
    ("amount", Kind::Decimal, &["Fin", "Fin.Card"]),
    ("age", Kind::Int, &["PII", "Fin"]),
    ("born", Kind::Date, &["PII.DOB", "PII"]),
    ("at", Kind::Timestamp, &[]),
    ("state", Kind::Enum, &["Fin"]),
    ("active", Kind::Bool, &[]),
    ("patient", Kind::Struct, &["PHI"]),
    ("labels", Kind::ListText, &["PII"]),
];

/// The fields of the `patient` struct: (name, kind, tag).
pub const PATIENT: &[(&str, Kind, &str)] = &[
    ("pname", Kind::Text, "PII.Name"),
    ("pssn", Kind::Text, "PII.SSN"),
    ("page", Kind::Int, ""),
];

const TAGS: &[&str] = &[
    "PII",
    "PII.SSN",
    "PII.Email",
    "PII.Name",
    "PII.DOB",
    "Country",
    "Fin",
    "Fin.Card",
    "PHI",
];

fn type_text(k: Kind) -> &'static str {
    match k {
        Kind::Text => "text",
        Kind::Int => "int",
        Kind::Decimal => "decimal",
        Kind::Date => "date",
        Kind::Timestamp => "timestamp",
        Kind::Enum => "enum(\"MD\", \"VA\", \"DE\")",
        Kind::Bool => "bool",
        Kind::Struct => {
            "struct { pname: text tagged PII.Name, pssn: text tagged PII.SSN, page: int, }"
        }
        Kind::ListText => "list<text>",
    }
}

/// One declared column of a generated source.
#[derive(Clone, Debug)]
pub struct Col {
    pub name: &'static str,
    pub kind: Kind,
    pub tag: Option<&'static str>,
    /// `accessible if …` / `visible if …` text, if any.
    pub modifiers: String,
}

/// A generated source.
#[derive(Clone, Debug)]
pub struct Src {
    pub name: String,
    pub tagged_phi: bool,
    pub cols: Vec<Col>,
    /// Derived columns: (name, expression).
    pub derived: Vec<(&'static str, &'static str)>,
    pub level: bool,
    /// `up: int links s{j}.id`: the index of the parent source (always an earlier one).
    pub link: Option<usize>,
}

impl Src {
    pub fn has(&self, name: &str) -> bool {
        self.cols.iter().any(|c| c.name == name) || self.derived.iter().any(|(n, _)| *n == name)
    }

    fn col(&self, name: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.name == name)
    }

    fn has_tag_under(&self, tag: &str) -> bool {
        let under = |t: &str| t == tag || t.starts_with(&format!("{tag}."));
        self.cols.iter().any(|c| c.tag.is_some_and(under))
            || (self.has("patient") && (under("PII.Name") || under("PII.SSN")))
    }
}

/// A generated case: the policy text, subjects and rows (source name, row).
#[derive(Clone, Debug)]
pub struct Case {
    pub text: String,
    pub sources: Vec<Src>,
    pub subjects: Vec<Value>,
    pub rows: Vec<(String, Map<String, Value>)>,
    /// The values of the lookup tables (declared `supplied at run time`, see [`TABLES`]) the
    /// application supplies; a table not listed is not supplied (its conditions are unknown).
    pub tables: Vec<(String, pol_runtime::LookupValues)>,
}

/// The lookup tables every case declares, supplied at run time: their values are drawn per
/// case ([`Case::tables`]), so no file is needed.
pub const TABLES: &str =
    "table countries: text supplied at run time;\ntable ages: int supplied at run time;\n";

/// The texts `in table countries` reads: `row.country`, `row.state` (an enum) and
/// `user.department`.
const COUNTRIES: [&str; 3] = ["US", "FR", "DE"];
const STATES: [&str; 3] = ["MD", "VA", "DE"];
const DEPARTMENTS: [&str; 2] = ["eng", "ops"];
/// The ints a row's `int` cells are drawn from (`row.age in table ages` reads one).
const INTS: [i64; 8] = [0, 25, 31, 67, -1, 41, 1_234_567, -98_765_432];

/// Which tables a case supplies, and with which values. A supplied table holds some of the
/// values the rows and subjects are drawn from and lacks others (one of each at least), plus a
/// value nothing is drawn from, so that `x in table T` is true for some cells and false for
/// others (issue 13: a generator whose values were never in a table could not catch a broken
/// `in table`).
fn tables(t: &mut Tape) -> Vec<(String, pol_runtime::LookupValues)> {
    let mut out = Vec::new();
    if !t.one_in(3) {
        let mut pool: Vec<&str> = Vec::new();
        for v in COUNTRIES.iter().chain(&STATES).chain(&DEPARTMENTS) {
            if !pool.contains(v) {
                pool.push(v);
            }
        }
        let mut values: Vec<String> = some_of(t, &pool).iter().map(|s| s.to_string()).collect();
        values.push("jenny smith".to_string());
        out.push((
            "countries".to_string(),
            pol_runtime::LookupValues::Text(values),
        ));
    }
    if !t.one_in(3) {
        let mut values = some_of(t, &INTS);
        values.push(30);
        out.push(("ages".to_string(), pol_runtime::LookupValues::Int(values)));
    }
    out
}

/// A subset of `pool` holding at least one of its values and lacking at least one.
fn some_of<T: Copy>(t: &mut Tape, pool: &[T]) -> Vec<T> {
    let with = t.pick(pool.len());
    let without = (with + 1 + t.pick(pool.len() - 1)) % pool.len();
    pool.iter()
        .enumerate()
        .filter(|&(i, _)| i == with || (i != without && t.pick(2) == 1))
        .map(|(_, v)| *v)
        .collect()
}

/// The strategy: a choice tape turned into a case.
pub fn case() -> impl Strategy<Value = Case> {
    proptest::collection::vec(any::<u32>(), 50..500).prop_map(|t| Case::generate(&mut Tape::new(t)))
}

/// [`case`] with a `k_anonymity K over …` policy on one source (quasi-identifiers among its
/// scalar columns, K of 2 or 3) and a batch of 4 to 15 more rows of that source.
pub fn case_with_k_anonymity() -> impl Strategy<Value = Case> {
    proptest::collection::vec(any::<u32>(), 50..500).prop_map(|t| {
        let mut t = Tape::new(t);
        let mut case = Case::generate(&mut t);
        let s = t.choose(&case.sources).clone();
        let scalar: Vec<&str> = std::iter::once("id")
            .chain(
                s.cols
                    .iter()
                    .filter(|c| !matches!(c.kind, Kind::Struct | Kind::ListText))
                    .map(|c| c.name),
            )
            .collect();
        let mut quasi: Vec<&str> = Vec::new();
        for _ in 0..1 + t.pick(2) {
            let c = *t.choose(&scalar);
            if !quasi.contains(&c) {
                quasi.push(c);
            }
        }
        let k = 2 + t.pick(2);
        case.text.push_str(&format!(
            "policy pk on source {} {{\n  k_anonymity {k} over {}\n}}\n",
            s.name,
            quasi.join(", ")
        ));
        for _ in 0..4 + t.pick(12) {
            case.rows.push((s.name.clone(), row(&mut t, &s)));
        }
        case
    })
}

/// [`case`] with more derived columns (see [`Case::generate_with`]).
pub fn case_with_derived() -> impl Strategy<Value = Case> {
    proptest::collection::vec(any::<u32>(), 50..500)
        .prop_map(|t| Case::generate_with(&mut Tape::new(t), Derived::Many))
}

/// How many derived columns the generated sources declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derived {
    /// A few (`label`, `next_age`, `shout`, `who_is`), each with probability 1/2.
    Few,
    /// Those, and more: derived columns over columns that are often clear (`place`, reading
    /// `country` and the key), over numbers (`twice`), over two columns of different tags
    /// (`mixed`), over a derived column (`loud`); rows conditions read them; fewer sources
    /// have struct fields (so that more of them are masked without the full row).
    Many,
}

impl Case {
    pub fn generate(t: &mut Tape) -> Case {
        Case::generate_with(t, Derived::Few)
    }

    /// A case from the tape; `derived` as [`Derived`] says (`Few` draws exactly what
    /// [`generate`](Self::generate) draws from the same tape).
    pub fn generate_with(t: &mut Tape, derived: Derived) -> Case {
        let levels = t.one_in(3);
        let n_sources = 1 + t.pick(3);
        let sources: Vec<Src> = (0..n_sources)
            .map(|i| source(t, i, levels, derived))
            .collect();
        let mut text = String::new();
        text.push_str("tag PII sensitive;\n");
        for tag in TAGS.iter().skip(1) {
            text.push_str(&format!("tag {tag};\n"));
        }
        text.push_str("purpose Research.Marketing;\npurpose Research.Onboarding;\npurpose Ops;\n");
        text.push_str("subject { department: text, clearance: int, }\n");
        text.push_str(TABLES);
        if levels {
            text.push_str("level High > Medium > Low;\n");
        }
        if t.one_in(3) {
            text.push_str("settings { combine_exceptions = true }\n");
        }
        for s in &sources {
            text.push_str(&render_source(s));
        }
        let n_policies = t.pick(7);
        for p in 0..n_policies {
            text.push_str(&policy(t, p, &sources, levels));
        }
        for _ in 0..t.pick(3) {
            let scope = if t.pick(2) == 0 {
                String::new()
            } else {
                format!(" on source {}", t.choose(&sources).name)
            };
            text.push_str(&format!("exempt {}{scope};\n", user_cond(t, 1)));
        }
        let subjects = (0..1 + t.pick(4)).map(|_| subject(t)).collect();
        let mut rows = Vec::new();
        for _ in 0..1 + t.pick(6) {
            let s = t.choose(&sources).clone();
            rows.push((s.name.clone(), row(t, &s)));
        }
        link_rows(t, &sources, &mut rows);
        let tables = tables(t);
        Case {
            text,
            sources,
            subjects,
            rows,
            tables,
        }
    }

    /// Checks the text; panics with the diagnostics if it has errors (a generator bug).
    pub fn check(&self) -> pol_compiler::Analysis {
        let mut map = pol_compiler::source_map::SourceMap::new();
        map.add("gen.pol", self.text.clone());
        let a = pol_compiler::check(&map);
        if a.has_errors() {
            let errors: Vec<_> = a
                .diagnostics
                .iter()
                .filter(|d| d.severity() == pol_compiler::diagnostics::Severity::Error)
                .cloned()
                .collect();
            let rendered = pol_compiler::diagnostics::render::render(
                pol_compiler::diagnostics::render::Format::Human { color: false },
                &errors,
                &map,
            );
            panic!(
                "generator bug: the generated policy does not check\n{}\n{rendered}",
                self.text
            );
        }
        a
    }
}

fn source(t: &mut Tape, i: usize, levels: bool, derived: Derived) -> Src {
    let mut cols = vec![];
    for &(name, kind, tags) in CATALOGUE {
        if t.pick(2) == 0 {
            continue;
        }
        if derived == Derived::Many && kind == Kind::Struct && t.pick(2) == 0 {
            continue;
        }
        let tag = if name == "country" {
            Some("Country")
        } else if tags.is_empty() || t.pick(3) == 0 {
            None
        } else {
            Some(*t.choose(tags))
        };
        let mut modifiers = String::new();
        if kind == Kind::Text && name != "country" {
            match t.pick(5) {
                3 => {
                    modifiers = if t.one_in(3) {
                        " accessible if row.id > 10".to_string()
                    } else {
                        format!(" accessible if {}", user_cond(t, 1))
                    }
                }
                4 => {
                    modifiers = format!(
                        " accessible if {} otherwise using {}",
                        user_cond(t, 1),
                        t.choose(&["redact", "stars", "show_last(2)", "hash"])
                    )
                }
                _ => {}
            }
        }
        if t.one_in(5) {
            modifiers.push_str(&format!(" visible if {}", user_cond(t, 1)));
        }
        cols.push(Col {
            name,
            kind,
            tag,
            modifiers,
        });
    }
    let mut src = Src {
        name: format!("s{i}"),
        tagged_phi: t.pick(2) == 1,
        cols,
        derived: vec![],
        level: false,
        link: None,
    };
    if src.has("name") && src.has("email") && t.pick(2) == 1 {
        src.derived.push(("label", "concat(name, \":\", email)"));
    }
    if src.has("age") && t.pick(2) == 1 {
        src.derived.push(("next_age", "age + 1"));
    }
    if src.has("label") && t.pick(2) == 1 {
        src.derived.push(("shout", "upper(label)"));
    }
    if src.has("patient") && t.pick(2) == 1 {
        src.derived
            .push(("who_is", "concat(patient.pname, \"/\", id)"));
    }
    if derived == Derived::Many {
        more_derived(t, &mut src);
    }
    if levels && src.has("state") {
        src.level = t.pick(2) == 1;
    }
    if i > 0 && t.one_in(2) {
        src.link = Some(t.pick(i));
    }
    src
}

/// The derived columns of [`Derived::Many`], each with probability 3/4.
fn more_derived(t: &mut Tape, src: &mut Src) {
    let add = |t: &mut Tape, src: &mut Src, needs: &[&str], col| {
        if needs.iter().all(|n| src.has(n)) && t.pick(4) != 0 {
            src.derived.push(col);
        }
    };
    add(
        t,
        src,
        &["country"],
        ("place", "concat(country, \"#\", id)"),
    );
    add(t, src, &["amount"], ("twice", "amount + amount"));
    add(
        t,
        src,
        &["name", "country"],
        ("mixed", "concat(name, country)"),
    );
    add(t, src, &["place"], ("loud", "upper(place)"));
    add(t, src, &["age", "amount"], ("sum", "age + amount"));
}

/// The kind of a derived column's value.
fn derived_kind(name: &str) -> Kind {
    match name {
        "next_age" => Kind::Int,
        "twice" | "sum" => Kind::Decimal,
        _ => Kind::Text,
    }
}

/// The metadata of generated source `sN` (none for `s2`, so that scopes meet a source without
/// the key): `server` alternates `db0`/`db1`, `created` is in month N + 1 of 2024.
pub fn source_meta(name: &str) -> Option<(String, String)> {
    let i: usize = name.strip_prefix('s')?.parse().ok()?;
    (i != 2).then(|| (format!("db{}", i % 2), format!("2024-{:02}-15", i + 1)))
}

fn render_source(s: &Src) -> String {
    let mut out = format!("source {}", s.name);
    if let Some((server, created)) = source_meta(&s.name) {
        out.push_str(&format!(
            " (server: \"{server}\", created: date(\"{created}\"))"
        ));
    }
    if s.tagged_phi {
        out.push_str(" tagged PHI");
    }
    if s.level {
        out.push_str(" level Medium from lvl");
    }
    out.push_str(" {\n  id: int key,\n");
    for c in &s.cols {
        out.push_str(&format!("  {}: {}", c.name, type_text(c.kind)));
        if c.kind == Kind::Timestamp {
            out.push_str(" event_time");
        }
        if let Some(tag) = c.tag {
            out.push_str(&format!(" tagged {tag}"));
        }
        out.push_str(&c.modifiers);
        out.push_str(",\n");
    }
    if s.level {
        out.push_str("  lvl: text,\n");
    }
    if let Some(p) = s.link {
        out.push_str(&format!("  up: int links s{p}.id,\n"));
    }
    for (n, e) in &s.derived {
        out.push_str(&format!("  {n} = {e},\n"));
    }
    out.push_str("}\n");
    out
}

/// A condition on the user only.
pub fn user_cond(t: &mut Tape, depth: usize) -> String {
    if depth > 0 && t.one_in(4) {
        let a = user_cond(t, depth - 1);
        let b = user_cond(t, depth - 1);
        return match t.pick(3) {
            0 => format!("({a} and {b})"),
            1 => format!("({a} or {b})"),
            _ => format!("not {a}"),
        };
    }
    match t.pick(12) {
        11 => "user.department in table countries".to_string(),
        0 => format!("user in group \"{}\"", t.choose(&["g1", "g2", "Legal"])),
        1 => format!("user has role \"{}\"", t.choose(&["agent", "owner"])),
        2 => "user has attribute \"Office\"".to_string(),
        3 => format!(
            "user has attribute \"Office\" = \"{}\"",
            t.choose(&["VA", "MD"])
        ),
        4 => "user acting under Research".to_string(),
        5 => format!("user.clearance > {}", t.pick(5)),
        6 => format!("user.department == \"{}\"", t.choose(&["eng", "ops"])),
        7 => format!("user.login == \"{}\"", t.choose(&["amy", "admin"])),
        8 => "\"g1\" in user.groups".to_string(),
        9 => "has(user.clearance)".to_string(),
        _ => "user.purposes under Research.Marketing".to_string(),
    }
}

/// A condition reading the row of the given sources (and possibly the user); falls back to
/// a user condition when none of them has a column it could read.
fn row_cond(t: &mut Tape, sources: &[&Src], depth: usize) -> String {
    if depth > 0 && t.one_in(4) {
        let a = row_cond(t, sources, depth - 1);
        let b = row_cond(t, sources, depth - 1);
        return match t.pick(3) {
            0 => format!("({a} and {b})"),
            1 => format!("({a} or {b})"),
            _ => format!("not {a}"),
        };
    }
    let any = |n: &str| sources.iter().any(|s| s.has(n));
    let mut atoms: Vec<String> = Vec::new();
    if any("amount") {
        atoms.push(format!("row.amount < {}", t.choose(&["50", "99.5", "0"])));
    }
    if any("age") {
        atoms.push(format!("row.age >= {}", t.choose(&["30", "0", "65"])));
        atoms.push("row.age in table ages".to_string());
    }
    if any("country") {
        atoms.push(format!("row.country == \"{}\"", t.choose(&["US", "FR"])));
        atoms.push("user.department != row.country".to_string());
        atoms.push("row.country in table countries".to_string());
        atoms.push(format!(
            "row[tagged Country] == \"{}\"",
            t.choose(&["US", "FR"])
        ));
    }
    if !any("country") {
        // No covered source has a column tagged `Country`: the comparison cannot be typed and
        // the rule does not apply on any of them (W0003; issue 13, defect 1).
        atoms.push("row[tagged Country] == \"US\"".to_string());
    }
    if any("state") {
        atoms.push("row.state in user.attributes[\"Office\"]".to_string());
        atoms.push(format!("row.state == \"{}\"", t.choose(&["MD", "VA"])));
    }
    if any("name") {
        atoms.push("row.name matches r\"^J\"".to_string());
        atoms.push("len(row.name) > 3".to_string());
        atoms.push("row.name == user.login".to_string());
    }
    if any("email") {
        atoms.push("has(row.email)".to_string());
        atoms.push("ends_with(row.email, \".com\")".to_string());
    }
    if any("born") {
        atoms.push("row.born < date(\"1990-01-01\")".to_string());
        atoms.push("age(row.born) >= 35".to_string());
    }
    if any("at") {
        atoms.push("row.at > now() - 30d".to_string());
        // Calendar durations (issue 13, item 6).
        atoms.push(format!(
            "row.at > now() - {}",
            t.choose(&["6mo", "1y", "1mo - 2w"])
        ));
    }
    if any("active") {
        atoms.push("row.active".to_string());
    }
    if any("patient") {
        atoms.push("row.patient.page > 40".to_string());
    }
    if any("labels") {
        atoms.push("\"vip\" in row.labels".to_string());
    }
    if any("label") {
        atoms.push("starts_with(row.label, \"J\")".to_string());
    }
    if any("state") {
        atoms.push("row.state in [\"MD\", \"DE\"]".to_string());
        // An enum compared with a text table.
        atoms.push("row.state in table countries".to_string());
    }
    if any("amount") && any("age") {
        atoms.push("row.age + 1 > row.amount".to_string());
    }
    if any("name") {
        atoms.push(format!(
            "(if has(row.name) then lower(row.name) else \"x\") == \"{}\"",
            t.choose(&["ann", "x", "jenny smith"])
        ));
        atoms.push("user.attributes[\"Office\"] contains row.name".to_string());
        // String functions (issue 13, item 3).
        atoms.push(format!(
            "{} == \"{}\"",
            t.choose(&[
                "substring(row.name, 2, 3)",
                "replace(row.name, \"n\", \"\")",
                "regex_replace(row.name, r\"[aeiou]\", \"*\")",
                "lpad(row.name, 5, \"_\")",
                "rpad(substring(row.name, 1, 3), 5, \".\")",
                "coalesce(row.name, user.login)",
            ]),
            t.choose(&["nn", "A", "J*nny Sm*th", "__Ann", "Jen..", "ann"])
        ));
        atoms.push(format!(
            "length(row.name) > {}",
            t.choose(&["2", "3", "10"])
        ));
    }
    if any("born") {
        atoms.push("row.born + 365d > date(\"1996-01-01\")".to_string());
        atoms.push("row.born + 1y > date(\"1996-02-29\")".to_string());
    }
    if any("at") {
        atoms.push("row.at + 30d > timestamp(\"2025-12-20T00:00:00Z\")".to_string());
    }
    if any("next_age") {
        atoms.push("row.next_age > 30".to_string());
    }
    if any("patient") {
        atoms.push("has(row.patient.pssn)".to_string());
    }
    // Derived columns of `Derived::Many` only (no other case has them).
    if any("place") {
        atoms.push(format!("row.place == \"{}\"", t.choose(&["US#1", "FR#2"])));
    }
    if any("twice") {
        atoms.push("row.twice > 100".to_string());
    }
    if any("loud") {
        atoms.push("starts_with(row.loud, \"U\")".to_string());
    }
    if atoms.is_empty() || t.one_in(5) {
        return user_cond(t, 0);
    }
    let i = t.pick(atoms.len());
    atoms.swap_remove(i)
}

const ANY_TECHNIQUES: &[&str] = &[
    "null",
    "redact",
    "stars",
    "show_last(4)",
    "show_first(1)",
    "email_mask",
    "mask_first(3)",
    "mask_last(2, text: \"[R]\")",
    "hash",
    "initials",
    "digits",
    "range(10)",
    "round(5)",
    "year_only",
    "month_year",
    "age_range(10, max: 70)",
    "regex(r\"\\d\", \"#\", global)",
    "mask_first_percent(50)",
    // Issue 13 items 1, 2 and 8: replacements, buckets, `above:` labels, constant text.
    "mask_last_percent(40, text: \"[R]\")",
    "show_last(2, text: \"XX-\")",
    "digits(text: \"N\")",
    "buckets([0, 18, 65], labels: [\"minor\", \"adult\", \"senior\"])",
    "buckets([-1.5, 10])",
    "age_range(10, max: 40, above: \"40 and over\")",
    "constant_text(\"withheld\")",
    "round(month)",
    "noise(2)",
    // `expr(…)` (issue 13, defect 4): typed for every column type it meets; a result of another
    // type than the column's falls back (`hash` on text, `null` otherwise).
    "expr(value)",
    "expr(if has(value) then \"x\" else null)",
    "expr(if user in group \"ops\" then value else null)",
    "expr(row[tagged Country])",
];

fn direct_techniques(k: Kind) -> &'static [&'static str] {
    match k {
        Kind::Text => &[
            "null",
            "redact",
            "stars",
            "show_last(3)",
            "hash",
            "email_mask",
            "mask_last(2)",
            "initials",
            "constant(\"n/a\")",
            "tokenize",
            "format_preserving",
            "show_first(2, char: \"#\")",
            "mask_first_percent(25, char: \"x\")",
            "hash(scope: global)",
            "expr(upper(value))",
            "expr(concat(value, \"!\", user.department))",
            "expr(if user in group \"ops\" then value else \"***\")",
            // String functions (issue 13, item 3).
            "expr(replace(value, \"a\", \"@\"))",
            "expr(regex_replace(value, r\"[aeiou]\", \"*\"))",
            "expr(lpad(substring(value, 2, 3), 5, \"*\"))",
            "expr(rpad(value, 4, \"-\"))",
            "expr(coalesce(value, user.department, \"none\"))",
        ],
        Kind::Int => &[
            "null",
            "round(10)",
            "range(10)",
            "digits",
            "constant(0)",
            "buckets([0, 30, 60])",
            "digits(text: \"#\")",
            "format_preserving",
            "noise(3)",
            "expr(value + 1)",
            "expr(if value > 40 then 40 else value)",
        ],
        Kind::Decimal => &[
            "null",
            "round(5)",
            "range(100)",
            "buckets([0.5, 100], labels: [\"small\", \"large\"])",
            "noise(2.5)",
            "constant(1.5)",
            "expr(value)",
        ],
        Kind::Date => &[
            "null",
            "year_only",
            "round(month)",
            "age_range(10)",
            "month_year(max: 60)",
            "year_only(max: 30, above: \"30+\")",
            "constant_text(\"Date withheld\")",
            "buckets([0, 18], labels: [\"minor\", \"adult\"])",
            "date_format(\"%m/%Y\")",
            "expr(value + 30d)",
            "expr(value + 1mo)",
        ],
        Kind::Timestamp => &[
            "null",
            "round(hour)",
            "year_only",
            "noise(60)",
            "expr(value - 1h)",
        ],
        Kind::Enum => &[
            "null",
            "hash",
            "randomize(0.5)",
            "constant(\"VA\")",
            "expr(value)",
        ],
        Kind::Bool => &["null", "constant(true)", "expr(not value)"],
        Kind::Struct | Kind::ListText => &["null", "expr(null)"],
    }
}

fn technique(t: &mut Tape, direct: Option<Kind>, levels: bool) -> String {
    if levels && t.one_in(6) {
        let a = technique(t, direct, false);
        let b = technique(t, direct, false);
        return match t.pick(2) {
            0 => format!("by level {{ High: {a}, Low: {b} }}"),
            _ => format!("by level {{ Medium: {a} }}"),
        };
    }
    match direct {
        Some(k) => t.choose(direct_techniques(k)).to_string(),
        None => t.choose(ANY_TECHNIQUES).to_string(),
    }
}

fn policy(t: &mut Tape, p: usize, sources: &[Src], levels: bool) -> String {
    let staged = if t.one_in(8) { " staged" } else { "" };
    // Scope and the sources it covers.
    let (scope, covered): (String, Vec<&Src>) = match t.pick(6) {
        0 => (String::new(), sources.iter().collect()),
        1 => {
            let s = t.choose(sources);
            (format!(" on source {}", s.name), vec![s])
        }
        2 => (
            " on sources tagged PHI".to_string(),
            sources.iter().filter(|s| s.tagged_phi).collect(),
        ),
        3 => (
            " on sources with columns tagged Country".to_string(),
            sources
                .iter()
                .filter(|s| s.has_tag_under("Country"))
                .collect(),
        ),
        4 => (
            " on sources named like \"^s[01]$\"".to_string(),
            sources
                .iter()
                .filter(|s| s.name == "s0" || s.name == "s1")
                .collect(),
        ),
        // Scopes by source metadata (`s2` has none: covered by neither a condition nor its
        // negation).
        _ => match t.pick(3) {
            0 => (
                " on sources where source.server == \"db0\"".to_string(),
                sources
                    .iter()
                    .filter(|s| source_meta(&s.name).is_some_and(|(sv, _)| sv == "db0"))
                    .collect(),
            ),
            1 => (
                " on sources where not (source.server in [\"db0\"])".to_string(),
                sources
                    .iter()
                    .filter(|s| source_meta(&s.name).is_some_and(|(sv, _)| sv != "db0"))
                    .collect(),
            ),
            _ => (
                " on sources where source.created between date(\"2024-02-01\") and date(\"2024-12-31\")"
                    .to_string(),
                sources
                    .iter()
                    .filter(|s| source_meta(&s.name).is_some_and(|(_, c)| c.as_str() >= "2024-02-01"))
                    .collect(),
            ),
        },
    };
    let rule = if t.one_in(3) {
        row_rule(t, &covered)
    } else {
        mask_rule(t, &covered, levels)
    };
    // Sometimes a temporary unmask that needs approval: it must change no masking (a grant
    // only acts through a grant store) and its approvers' program must lower and verify.
    let approval = if t.one_in(6) {
        format!(
            "\n  allow temporary unmask for {}h for everyone who {} with approval by {} within {}",
            1 + t.pick(72),
            user_cond(t, 1),
            user_cond(t, 1),
            t.choose(&["5m", "4h", "72h"])
        )
    } else {
        String::new()
    };
    format!("policy p{p}{staged}{scope} {{\n  {rule}{approval}\n}}\n")
}

fn row_rule(t: &mut Tape, covered: &[&Src]) -> String {
    // The parents the covered sources link to (a source without that link is locked out).
    let parents: Vec<usize> = covered.iter().filter_map(|s| s.link).collect();
    // A time window needs an event time in every covered source.
    let timed = !covered.is_empty()
        && covered
            .iter()
            .all(|s| s.cols.iter().any(|c| c.kind == Kind::Timestamp));
    let filter = |t: &mut Tape| -> String {
        match t.pick(6) {
            0 | 1 => format!("only show rows where {}", row_cond(t, covered, 1)),
            2 => format!("only show {}% of rows", t.choose(&["50", "10", "90"])),
            // Fixed and calendar windows (issue 13, item 6).
            3 if timed => format!(
                "only show rows {} than {}",
                t.choose(&["newer", "older"]),
                t.choose(&["30d", "6mo", "1y", "2w"])
            ),
            4 | 5 if !parents.is_empty() => {
                format!("only show rows linked to shown s{}", t.choose(&parents))
            }
            _ => "never show rows".to_string(),
        }
    };
    let f = filter(t);
    let audience = match t.pick(3) {
        0 => "for everyone".to_string(),
        1 => format!("for everyone except {}", user_cond(t, 1)),
        _ => {
            let other = match t.pick(4) {
                0 => "all rows".to_string(),
                1 => format!("only show rows where {}", row_cond(t, covered, 1)),
                3 if !parents.is_empty() => {
                    format!("only show rows linked to shown s{}", t.choose(&parents))
                }
                _ => "only show 50% of rows".to_string(),
            };
            format!("for everyone who {} otherwise {other}", user_cond(t, 1))
        }
    };
    format!("{f} {audience}")
}

fn mask_rule(t: &mut Tape, covered: &[&Src], levels: bool) -> String {
    // Target, and the kind of a direct target.
    let (target, direct): (String, Option<Kind>) = match t.pick(7) {
        0 | 1 => (format!("columns tagged {}", t.choose(TAGS)), None),
        2 if !covered.is_empty() => {
            let s = *t.choose(covered);
            let mut names: Vec<(String, Kind)> = s
                .cols
                .iter()
                .map(|c| (c.name.to_string(), c.kind))
                .collect();
            if s.has("patient") {
                names.extend(PATIENT.iter().map(|(n, k, _)| (format!("patient.{n}"), *k)));
            }
            for (n, _) in &s.derived {
                names.push((n.to_string(), derived_kind(n)));
            }
            if names.is_empty() {
                ("columns tagged PII".to_string(), None)
            } else {
                let (n, k) = t.choose(&names).clone();
                (format!("column {}.{n}", s.name), Some(k))
            }
        }
        3 => (
            "columns named like \"^(name|email|ssn)$\"".to_string(),
            None,
        ),
        4 => ("all columns".to_string(), None),
        5 => ("columns with any tag".to_string(), None),
        _ => ("columns with no tags".to_string(), None),
    };
    // A direct target's `where` reads the sources it names.
    let where_ = if t.pick(3) == 2 {
        format!(" where {}", row_cond(t, covered, 1))
    } else {
        String::new()
    };
    let where_ = if direct.is_some() && !where_.is_empty() {
        // Keep `where` on direct targets to user conditions: the row context is the matched
        // source, which the covered list may not describe.
        format!(" where {}", user_cond(t, 1))
    } else {
        where_
    };
    let audience_cond = |t: &mut Tape| {
        if direct.is_none() && t.one_in(4) {
            row_cond(t, covered, 1)
        } else {
            user_cond(t, 1)
        }
    };
    let audience = match t.pick(3) {
        0 => format!("using {} for everyone", technique(t, direct, levels)),
        1 => format!(
            "using {} for everyone except {}",
            technique(t, direct, levels),
            audience_cond(t)
        ),
        _ => {
            let mut s = String::new();
            for _ in 0..1 + t.pick(2) {
                s.push_str(&format!(
                    "using {} for everyone who {} ",
                    technique(t, direct, levels),
                    audience_cond(t)
                ));
            }
            if t.pick(2) == 0 {
                s.push_str("otherwise unmasked");
            } else {
                s.push_str(&format!("otherwise using {}", technique(t, direct, levels)));
            }
            s
        }
    };
    format!("mask {target}{where_} {audience}")
}

fn subject(t: &mut Tape) -> Value {
    let mut m = Map::new();
    let set = |t: &mut Tape, items: &[&str]| -> Option<Value> {
        match t.pick(5) {
            0 => None,
            1 => Some(json!("g1")),
            _ => Some(Value::Array(
                items
                    .iter()
                    .filter(|_| t.pick(2) == 1)
                    .map(|s| json!(s))
                    .collect(),
            )),
        }
    };
    match t.pick(4) {
        0 => {}
        1 => {
            m.insert("login".into(), json!(5));
        }
        _ => {
            m.insert("login".into(), json!(t.choose(&["amy", "admin", "bob"])));
        }
    }
    if let Some(v) = set(t, &["g1", "g2", "Legal"]) {
        m.insert("groups".into(), v);
    }
    if let Some(v) = set(t, &["agent", "owner"]) {
        m.insert("roles".into(), v);
    }
    if let Some(v) = set(t, &["Research.Marketing", "Ops", "Nope"]) {
        m.insert("purposes".into(), v);
    }
    match t.pick(4) {
        0 => {}
        1 => {
            m.insert("attributes".into(), json!({"Office": "VA"}));
        }
        2 => {
            m.insert("attributes".into(), json!({"Office": 3}));
        }
        _ => {
            let offices: Vec<&str> = ["VA", "MD"]
                .into_iter()
                .filter(|_| t.pick(2) == 1)
                .collect();
            m.insert("attributes".into(), json!({ "Office": offices }));
        }
    }
    match t.pick(4) {
        0 => {}
        1 => {
            m.insert("clearance".into(), json!("high"));
        }
        _ => {
            m.insert("clearance".into(), json!(t.pick(6)));
        }
    }
    if t.pick(2) == 1 {
        m.insert("department".into(), json!(t.choose(&DEPARTMENTS)));
    }
    Value::Object(m)
}

fn value(t: &mut Tape, name: &str, k: Kind) -> Value {
    match k {
        Kind::Text => match name {
            "email" => json!(t.choose(&["jenny@example.com", "bob@x.org", "nodomain", ""])),
            "ssn" | "pssn" => json!(t.choose(&["123-45-6789", "987654321"])),
            "country" => json!(t.choose(&COUNTRIES)),
            _ => json!(t.choose(&["Jenny Smith", "Ann", "J. R. R. Tolkien", "", "Ünïcode 42"])),
        },
        Kind::Int => json!(t.choose(&INTS)),
        Kind::Decimal => json!(t.choose(&[0.0, 42.5, 99.99, 150.0, -3.25, 7.0])),
        Kind::Date => json!(t.choose(&["1988-07-14", "1995-01-01", "2001-12-31", "1950-03-03"])),
        Kind::Timestamp => json!(t.choose(&[
            "2025-12-01T10:00:00Z",
            "2024-01-01T00:00:00Z",
            "2025-12-15T08:30:00+02:00"
        ])),
        Kind::Enum => json!(t.choose(&STATES)),
        Kind::Bool => json!(t.pick(2) == 1),
        Kind::ListText => {
            let items: Vec<&str> = ["vip", "new", "x"]
                .into_iter()
                .filter(|_| t.pick(2) == 1)
                .collect();
            json!(items)
        }
        Kind::Struct => {
            let mut m = Map::new();
            for &(n, k, _) in PATIENT {
                match t.pick(4) {
                    0 => {}
                    1 => {
                        m.insert(n.into(), Value::Null);
                    }
                    _ => {
                        m.insert(n.into(), value(t, n, k));
                    }
                }
            }
            if t.one_in(4) {
                m.insert("extra".into(), json!(1));
            }
            Value::Object(m)
        }
    }
}

fn wrong(t: &mut Tape, k: Kind) -> Value {
    match k {
        Kind::Text | Kind::Enum => json!(t.choose(&[json!(5), json!("ZZ"), json!(true)])),
        Kind::Int => json!(t.choose(&[json!("x"), json!(1.5)])),
        Kind::Decimal => json!("1"),
        Kind::Date => json!(t.choose(&[json!("2020-13-01"), json!(5)])),
        Kind::Timestamp => json!("yesterday"),
        Kind::Bool => json!("true"),
        Kind::Struct => json!({"page": "old"}),
        Kind::ListText => json!("vip"),
    }
}

/// Points about half of the links of the rows at a row of the parent given in the case (the
/// others stay as drawn: absent, null, or dangling more often than not).
fn link_rows(t: &mut Tape, sources: &[Src], rows: &mut [(String, Map<String, Value>)]) {
    for i in 0..rows.len() {
        let Some(parent) = sources
            .iter()
            .find(|s| s.name == rows[i].0)
            .and_then(|s| s.link)
        else {
            continue;
        };
        let ids: Vec<Value> = rows
            .iter()
            .filter(|(n, r)| *n == format!("s{parent}") && r.get("id").is_some_and(Value::is_u64))
            .filter_map(|(_, r)| r.get("id").cloned())
            .collect();
        if !ids.is_empty() && t.one_in(2) {
            let id = t.choose(&ids).clone();
            rows[i].1.insert("up".into(), id);
        }
    }
}

pub fn row(t: &mut Tape, s: &Src) -> Map<String, Value> {
    let mut m = Map::new();
    match t.pick(6) {
        0 => {}
        1 => {
            m.insert("id".into(), Value::Null);
        }
        2 => {
            m.insert("id".into(), json!("one"));
        }
        _ => {
            m.insert("id".into(), json!(t.pick(50)));
        }
    }
    for c in &s.cols {
        match t.pick(8) {
            0 => {}
            1 => {
                m.insert(c.name.into(), Value::Null);
            }
            2 => {
                let v = wrong(t, c.kind);
                m.insert(c.name.into(), v);
            }
            _ => {
                let v = value(t, c.name, c.kind);
                m.insert(c.name.into(), v);
            }
        }
    }
    if s.level {
        let v = json!(t.choose(&[
            json!("High"),
            json!("Low"),
            json!("Medium"),
            json!("Top"),
            Value::Null
        ]));
        m.insert("lvl".into(), v);
    }
    if s.link.is_some() {
        match t.pick(4) {
            0 => {}
            1 => {
                m.insert("up".into(), Value::Null);
            }
            _ => {
                m.insert("up".into(), json!(t.pick(50)));
            }
        }
    }
    if t.one_in(4) {
        m.insert("undeclared".into(), json!("x"));
    }
    if !s.derived.is_empty() && t.one_in(4) {
        // A derived column given in the row is not read: it is computed.
        m.insert(s.derived[0].0.into(), json!("given"));
    }
    m
}
