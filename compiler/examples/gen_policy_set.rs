//! Writes a synthetic, valid and warning-light Pol policy set for benchmarks and stress tests.
//!
//!     cargo run --release -p pol-compiler --example gen_policy_set -- OUT_DIR [LINES]
//!
//! About LINES lines (default 100000) across 50 `.pol` files: a tag hierarchy of about three hundred tags
//! (sensitive roots, three levels), purposes, subject fields, thousands of sources (tagged columns, nested
//! structs, derived columns, `accessible if` / `visible if`, enum and list columns, masking levels) and
//! thousands of policies of every kind (tag targets at depths 1–3, direct targets, `where` with
//! `row[tagged Region]`, `for everyone who … otherwise …`, row rules of every form, exempts, a few staged).
//!
//! The output is a pure function of LINES (a fixed-seed LCG, no clock, no hashing of addresses), so two runs
//! give byte-identical files. Only the standard library is used: `rustc --edition 2021 gen_policy_set.rs`
//! builds it standalone.
//!
//! How the set stays free of warnings:
//! - every tagged column is decided by some rule (its own source's or a global one), so the columns under
//!   the sensitive roots are all covered;
//! - all columns under one depth-2 tag share one type, and every tag-targeted technique is chosen for that
//!   type (no type fallback); depth-1 policies use `null`;
//! - every source has `region` (tagged `Region`) and `created_at` (event_time), the only columns that rules
//!   scoped beyond one source read, so there is no lockout;
//! - source-scoped tag policies (earlier files) win their ties with the global ones (the last file) by
//!   authored order, and a global policy is emitted only where it still decides some column (the sensitive
//!   columns stay covered: whatever no global rule decides, a rule of its own source does);
//! - at most one direct rule per column, never on a key, never on a column with `accessible if`;
//! - row rules and `where` conditions read only columns no rule masks (`region`, `created_at`, untagged
//!   int columns), so no condition reads a column its audience cannot read.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // A developer tool: a failure stops here.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::process;

/// Files holding sources and their policies (plus 4 fixed files: 50 in all).
const UNIT_FILES: usize = 46;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Text,
    Int,
    Decimal,
    Date,
    Timestamp,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Text => "text",
            Ty::Int => "int",
            Ty::Decimal => "decimal",
            Ty::Date => "date",
            Ty::Timestamp => "timestamp",
        }
    }
    /// Techniques valid on this type (none needs an evaluation clock to type-check).
    fn techniques(self) -> &'static [&'static str] {
        match self {
            Ty::Text => &[
                "show_last(4)",
                "show_first(2)",
                "email_mask",
                "mask_first(3)",
                "mask_last(4, text: \"[Restricted]\")",
                "mask_first(2, char: \"#\")",
                "mask_last_percent(50)",
                "redact",
                "stars",
                "hash",
                "initials",
                "digits",
                "regex(r\"\\d+$\", \"X\")",
                "null",
            ],
            Ty::Int => &[
                "range(10)",
                "round(5)",
                "digits",
                "noise(2)",
                "constant(0)",
                "null",
            ],
            Ty::Decimal => &["round(100)", "range(1000)", "noise(1.5)", "digits", "null"],
            Ty::Date => &[
                "year_only",
                "round(month)",
                "age_range(10, max: 90)",
                "month_year",
                "date_format(\"%Y\")",
                "noise(30)",
                "null",
            ],
            Ty::Timestamp => &[
                "round(day)",
                "round(hour)",
                "year_only(max: 120)",
                "month_year",
                "date_format(\"%Y-%m\")",
                "null",
            ],
        }
    }
}

/// Depth-2 kinds: the name prefix and the type shared by the whole subtree.
const KINDS: [(&str, Ty); 6] = [
    ("Txt", Ty::Text),
    ("Txt", Ty::Text),
    ("Num", Ty::Int),
    ("Dec", Ty::Decimal),
    ("Day", Ty::Date),
    ("Time", Ty::Timestamp),
];

const ROOTS: [(&str, bool); 8] = [
    ("PII", true),
    ("Health", true),
    ("Finance", false),
    ("Ops", false),
    ("Legal", false),
    ("Product", false),
    ("Security", false),
    ("People", false),
];

const GRANDCHILDREN: usize = 5;
const DOMAINS: usize = 12;

const PURPOSE_ROOTS: [&str; 8] = [
    "Analytics",
    "Audit",
    "Support",
    "Marketing",
    "Research",
    "Billing",
    "Fraud",
    "Training",
];
const PURPOSE_CHILDREN: usize = 5;

const SUBJECT_FIELDS: [(&str, &str); 12] = [
    ("department", "text"),
    ("clearance", "int"),
    ("team", "text"),
    ("site", "text"),
    ("cost_center", "int"),
    ("manager_login", "text"),
    ("seniority", "int"),
    ("country", "text"),
    ("contractor", "bool"),
    ("region", "text"),
    ("tier", "int"),
    ("business_unit", "text"),
];

const DEPARTMENTS: [&str; 8] = [
    "HR",
    "Sales",
    "Finance",
    "Engineering",
    "Legal",
    "Support",
    "Marketing",
    "Research",
];
const REGIONS: [&str; 6] = ["EU", "US", "UK", "APAC", "LATAM", "MEA"];

struct Tag {
    path: String,
    depth: usize,
    ty: Ty,
}

/// A tagged column (or struct field) as the global policies see it.
struct Record {
    tag: usize,
    /// Always decided by a rule of its own source: `accessible if`, or an enforced direct rule without `where`.
    claimed: bool,
    /// Its tag is at or below the depth-2 tag of a tag rule scoped to its source, which wins the tie with the
    /// global rule of that depth-2 tag.
    child_claimed: bool,
}

struct Tags {
    all: Vec<Tag>,
    records: Vec<Record>,
    /// `note_N` columns no direct rule decides (they are left to the global name-like rule).
    free_notes: usize,
}

impl Tags {
    fn build() -> Tags {
        let mut all = Vec::new();
        for (root, _) in ROOTS {
            all.push(Tag {
                path: root.to_string(),
                depth: 1,
                ty: Ty::Text,
            });
            for (j, (kind, ty)) in KINDS.iter().enumerate() {
                let child = format!("{root}.{kind}{j}");
                all.push(Tag {
                    path: child.clone(),
                    depth: 2,
                    ty: *ty,
                });
                for k in 0..GRANDCHILDREN {
                    all.push(Tag {
                        path: format!("{child}.L{k}"),
                        depth: 3,
                        ty: *ty,
                    });
                }
            }
        }
        Tags {
            all,
            records: Vec::new(),
            free_notes: 0,
        }
    }
    /// A tag for a new column: depth 1 for 10%, depth 2 for 35%, depth 3 for 55%.
    fn choose(&self, rng: &mut Lcg) -> usize {
        let roll = rng.below(100);
        let want = if roll < 10 {
            1
        } else if roll < 45 {
            2
        } else {
            3
        };
        loop {
            let i = rng.below(self.all.len());
            if self.all[i].depth == want {
                return i;
            }
        }
    }
}

fn purposes() -> Vec<String> {
    let mut out = Vec::new();
    for root in PURPOSE_ROOTS {
        for k in 0..PURPOSE_CHILDREN {
            out.push(format!("{root}.Task{k}"));
        }
    }
    out.push("Analytics.Sampling".to_string());
    out
}

/// A condition on the user only (valid in exceptions, `who` clauses, `accessible if`, `visible if`, exempt).
fn user_condition(rng: &mut Lcg, purposes: &[String]) -> String {
    match rng.below(9) {
        0 => format!("user has role \"role_{}\"", rng.below(60)),
        1 => format!("user in group \"group_{}\"", rng.below(40)),
        2 => format!("user acting under {}", rng.pick(purposes)),
        3 => format!("user acting under {}", rng.pick(&PURPOSE_ROOTS)),
        4 => format!("user.clearance >= {}", 1 + rng.below(5)),
        5 => format!("user.department == \"{}\"", rng.pick(&DEPARTMENTS)),
        6 => format!(
            "user has attribute \"Office Location\" = \"{}\"",
            rng.pick(&["Missouri", "Virginia", "Berlin", "Lyon", "Osaka"])
        ),
        7 => format!(
            "user has role \"role_{}\" and user.seniority > {}",
            rng.below(60),
            rng.below(10)
        ),
        _ => format!(
            "user in group \"group_{}\" or user.department in [\"{}\", \"{}\"]",
            rng.below(40),
            rng.pick(&DEPARTMENTS),
            rng.pick(&DEPARTMENTS)
        ),
    }
}

/// `using X for everyone …` for a value of type `ty`, on one or several lines (each prefixed by `indent`).
fn audience(rng: &mut Lcg, ty: Ty, purposes: &[String], indent: &str) -> String {
    let techs = ty.techniques();
    match rng.below(10) {
        0 | 1 => format!("{indent}using {} for everyone", rng.pick(techs)),
        2..=5 => format!(
            "{indent}using {} for everyone except {}",
            rng.pick(techs),
            user_condition(rng, purposes)
        ),
        _ => {
            let mut s = String::new();
            let clauses = 1 + rng.below(3);
            for _ in 0..clauses {
                let _ = writeln!(
                    s,
                    "{indent}using {} for everyone who {}",
                    rng.pick(techs),
                    user_condition(rng, purposes)
                );
            }
            if rng.chance(25) {
                let _ = write!(s, "{indent}otherwise unmasked");
            } else {
                let _ = write!(s, "{indent}otherwise using {}", rng.pick(techs));
            }
            s
        }
    }
}

struct Column {
    name: String,
    ty: Option<Ty>,
    tagged: bool,
    has_accessible: bool,
}

struct Out {
    text: String,
    lines: usize,
}

impl Out {
    fn new() -> Out {
        Out {
            text: String::new(),
            lines: 0,
        }
    }
    fn line(&mut self, s: &str) {
        self.text.push_str(s);
        self.text.push('\n');
        self.lines += 1 + s.matches('\n').count();
    }
}

/// One source and the policies scoped to it.
fn unit(n: usize, rng: &mut Lcg, tags: &mut Tags, purposes: &[String], out: &mut Out) {
    let src = format!("s_{n:05}");
    let domain = n % DOMAINS;
    let leveled = rng.chance(8);
    let mut cols: Vec<Column> = Vec::new();
    // (tag, column) for columns tagged exactly with a depth-2 tag.
    let mut tagged_children: Vec<(usize, usize)> = Vec::new();
    // (tag, column index or None for the struct field) of every tagged column.
    let mut tagged_cols: Vec<(usize, Option<usize>)> = Vec::new();

    out.line(&format!("/// Synthetic source {n}."));
    if leveled {
        out.line(&format!(
            "source {src} tagged Domain.D{domain:02} level {} from masking_level {{",
            rng.pick(&["High", "Medium", "Low"])
        ));
    } else {
        out.line(&format!("source {src} tagged Domain.D{domain:02} {{"));
    }
    out.line("  id:         int key,");
    out.line("  region:     text tagged Region,");
    out.line("  created_at: timestamp event_time,");
    if leveled {
        out.line("  masking_level: text,");
    }
    let ncols = 4 + rng.below(9);
    for c in 0..ncols {
        let name = format!("c{c:02}");
        if rng.chance(80) {
            let t = tags.choose(rng);
            tagged_cols.push((t, Some(cols.len())));
            let ty = tags.all[t].ty;
            let path = tags.all[t].path.clone();
            if tags.all[t].depth == 2 {
                tagged_children.push((t, cols.len()));
            }
            let mut line = format!("  {name}: {} tagged {path}", ty.name());
            let mut has_accessible = false;
            if rng.chance(6) {
                let _ = write!(
                    line,
                    " accessible if {} otherwise using {}",
                    user_condition(rng, purposes),
                    rng.pick(ty.techniques())
                );
                has_accessible = true;
            } else if rng.chance(5) {
                let _ = write!(line, " visible if {}", user_condition(rng, purposes));
            }
            line.push(',');
            out.line(&line);
            cols.push(Column {
                name,
                ty: Some(ty),
                tagged: true,
                has_accessible,
            });
        } else {
            match rng.below(6) {
                0 => {
                    out.line(&format!("  {name}: enum(\"new\", \"open\", \"closed\"),"));
                    cols.push(Column {
                        name,
                        ty: None,
                        tagged: false,
                        has_accessible: false,
                    });
                }
                1 => {
                    out.line(&format!("  {name}: bool,"));
                    cols.push(Column {
                        name,
                        ty: None,
                        tagged: false,
                        has_accessible: false,
                    });
                }
                2 => {
                    out.line(&format!("  {name}: list<text>,"));
                    cols.push(Column {
                        name,
                        ty: None,
                        tagged: false,
                        has_accessible: false,
                    });
                }
                _ => {
                    let ty = KINDS[rng.below(KINDS.len())].1;
                    out.line(&format!("  {name}: {},", ty.name()));
                    cols.push(Column {
                        name,
                        ty: Some(ty),
                        tagged: false,
                        has_accessible: false,
                    });
                }
            }
        }
    }
    if rng.chance(30) {
        let note = format!("note_{}", rng.below(3));
        out.line(&format!("  {note}: text,"));
        cols.push(Column {
            name: note,
            ty: Some(Ty::Text),
            tagged: false,
            has_accessible: false,
        });
    }
    if rng.chance(35) {
        let t = tags.choose(rng);
        tagged_cols.push((t, None));
        let (path, ty) = (tags.all[t].path.clone(), tags.all[t].ty);
        out.line("  detail: struct {");
        out.line(&format!("    primary:   {} tagged {path},", ty.name()));
        out.line("    secondary: text,");
        out.line("    rank:      int,");
        out.line("  },");
    }
    // Derived columns over plain (non-struct) columns.
    let texts: Vec<String> = cols
        .iter()
        .filter(|c| c.ty == Some(Ty::Text))
        .map(|c| c.name.clone())
        .collect();
    // Untagged int columns are never masked (direct rules skip them), so row rules and derived conditions
    // may read them without reading a column their audience cannot read.
    let ints: Vec<String> = cols
        .iter()
        .filter(|c| c.ty == Some(Ty::Int) && !c.tagged)
        .map(|c| c.name.clone())
        .collect();
    let mut derived_text: Option<String> = None;
    if let Some(t) = texts.first() {
        out.line(&format!("  label = concat(region, \"/\", upper({t})),"));
        derived_text = Some("label".to_string());
    }
    if let Some(i) = ints.first() {
        out.line(&format!(
            "  size_band = if {i} > 100 then \"large\" else \"small\","
        ));
    }
    out.line("}");
    out.line("");

    // ---- policies scoped to this source
    let mut k = 0;
    let mut policy = |out: &mut Out, header: &str, body: &str| {
        out.line(&format!("policy p_{src}_{k}{header} {{"));
        out.line(body);
        out.line("}");
        k += 1;
    };

    // Direct rules on up to two columns (never a key, never a column with `accessible if`).
    let mut directed: Vec<usize> = Vec::new();
    // Columns an enforced direct rule without `where` always decides.
    let mut claimed: Vec<usize> = Vec::new();
    for _ in 0..(rng.below(3)) {
        let i = rng.below(cols.len());
        if directed.contains(&i) || cols[i].has_accessible {
            continue;
        }
        let Some(ty) = cols[i].ty else { continue };
        if ty == Ty::Int && !cols[i].tagged {
            continue;
        }
        directed.push(i);
        let target = format!("  mask column {src}.{}", cols[i].name);
        let conditional = rng.chance(30);
        let body = if conditional {
            format!(
                "{target} where row.region == \"{}\"\n{}",
                rng.pick(&REGIONS),
                audience(rng, ty, purposes, "  ")
            )
        } else {
            format!("{target}\n{}", audience(rng, ty, purposes, "  "))
        };
        let staged = rng.chance(3);
        if !conditional && !staged {
            claimed.push(i);
        }
        let staged = if staged { " staged" } else { "" };
        policy(out, &format!("{staged} on source {src}"), &body);
    }
    // On a source with a masking level, a `by level` rule on a plain text column.
    if leveled {
        if let Some(i) = cols
            .iter()
            .position(|c| c.ty == Some(Ty::Text) && !c.has_accessible)
            .filter(|i| !directed.contains(i))
        {
            directed.push(i);
            claimed.push(i);
            let body = format!(
                "  mask column {src}.{} using by level {{ High: null, Medium: show_last(2), Low: initials }}\n  for everyone except {}",
                cols[i].name,
                user_condition(rng, purposes)
            );
            policy(out, &format!(" on source {src}"), &body);
        }
    }
    if let Some(d) = &derived_text {
        if rng.chance(15) {
            let body = format!(
                "  mask column {src}.{d} using {} for everyone except {}",
                rng.pick(&["redact", "stars", "show_last(2)", "hash"]),
                user_condition(rng, purposes)
            );
            policy(out, &format!(" on source {src}"), &body);
        }
    }

    // A tag rule scoped to this source, on a depth-2 tag one of its columns carries: it ties with the global
    // rule of that tag and wins the tie by authored order (this file comes before the global file).
    // Columns a direct rule (or `accessible if`) decides are left out, so that this rule does take effect.
    tagged_children.retain(|(_, c)| !directed.contains(c) && !cols[*c].has_accessible);
    let mut source_child: Option<String> = None;
    if !tagged_children.is_empty() && rng.chance(25) {
        let (t, _) = *rng.pick(&tagged_children);
        let (path, ty) = (tags.all[t].path.clone(), tags.all[t].ty);
        source_child = Some(path.clone());
        let body = format!(
            "  mask columns tagged {path}\n{}",
            audience(rng, ty, purposes, "  ")
        );
        policy(out, &format!(" on source {src}"), &body);
    }

    // Row rules.
    if rng.chance(45) {
        let body = match rng.below(8) {
            0 => format!(
                "  only show rows where row.region in user.attributes[\"Regions\"]\n  for everyone except {}",
                user_condition(rng, purposes)
            ),
            1 => format!(
                "  only show rows newer than {}d for everyone except user acting under Audit",
                30 * (1 + rng.below(24))
            ),
            2 => format!(
                "  only show {}% of rows for everyone who user acting under Analytics.Sampling otherwise all rows",
                5 * (1 + rng.below(19))
            ),
            3 => format!(
                "  only show rows where row.region == \"{}\" for everyone who {}\n  otherwise only show rows newer than {}d",
                rng.pick(&REGIONS),
                user_condition(rng, purposes),
                90 * (1 + rng.below(8))
            ),
            4 => format!(
                "  only show rows older than {}d for everyone except {}",
                1 + rng.below(30),
                user_condition(rng, purposes)
            ),
            5 if !ints.is_empty() => format!(
                "  only show rows where row.{} < {} for everyone except {}",
                ints[0],
                100 * (1 + rng.below(50)),
                user_condition(rng, purposes)
            ),
            6 => format!("  never show rows for everyone except user has role \"owner_{src}\""),
            _ => format!(
                "  only show rows where row.region == user.region or row.created_at > now() - {}d\n  for everyone except {}",
                7 * (1 + rng.below(10)),
                user_condition(rng, purposes)
            ),
        };
        policy(out, &format!(" on source {src}"), &body);
    }

    if rng.chance(4) {
        out.line(&format!(
            "exempt user has role \"steward_{src}\" on source {src};"
        ));
    }
    out.line("");

    // What the global policies may still decide in this source.
    for (t, col) in tagged_cols {
        let path = &tags.all[t].path;
        let child_claimed = source_child
            .as_ref()
            .is_some_and(|c| path == c || path.starts_with(&format!("{c}.")));
        let claimed = col.is_some_and(|c| cols[c].has_accessible || claimed.contains(&c));
        tags.records.push(Record {
            tag: t,
            claimed,
            child_claimed,
        });
    }
    tags.free_notes += cols
        .iter()
        .enumerate()
        .filter(|(i, c)| c.name.starts_with("note_") && !claimed.contains(i))
        .count();
}

fn header_files(tags: &Tags, purposes: &[String]) -> Vec<(String, Out)> {
    let mut files = Vec::new();

    let mut t = Out::new();
    t.line("// Generated by gen_policy_set: the tag hierarchy.");
    t.line("");
    for (root, sensitive) in ROOTS {
        t.line(&format!("/// Root {root}."));
        t.line(&format!(
            "tag {root}{};",
            if sensitive { " sensitive" } else { "" }
        ));
        for tag in tags
            .all
            .iter()
            .filter(|x| x.depth > 1 && x.path.starts_with(&format!("{root}.")))
        {
            t.line(&format!("tag {} \"{} columns\";", tag.path, tag.ty.name()));
        }
        t.line("");
    }
    t.line("/// The region of a row; every source has one column with it.");
    t.line("tag Region;");
    t.line("tag Domain;");
    for d in 0..DOMAINS {
        t.line(&format!("tag Domain.D{d:02};"));
    }
    files.push(("00_tags.pol".to_string(), t));

    let mut p = Out::new();
    p.line("// Generated by gen_policy_set: purposes, subject fields and masking levels.");
    p.line("");
    for purpose in purposes {
        p.line(&format!("purpose {purpose};"));
    }
    p.line("");
    p.line("subject {");
    for (name, ty) in SUBJECT_FIELDS {
        p.line(&format!("  {name}: {ty},"));
    }
    p.line("}");
    p.line("");
    p.line("level High > Medium > Low;");
    files.push(("01_declarations.pol".to_string(), p));
    files
}

/// Global tag policies, emitted only where they decide some column (no "never takes effect" warning):
/// a root's rule for unclaimed columns tagged exactly with the root, a depth-2 rule for unclaimed columns
/// no source-scoped rule and no unconditional depth-3 rule decides, depth-3 rules for unclaimed columns
/// tagged with them.
fn global_policies(tags: &Tags, rng: &mut Lcg, purposes: &[String]) -> Out {
    let free = |t: usize| tags.records.iter().any(|r| r.tag == t && !r.claimed);
    let n = tags.all.len();

    // Depth 3 first (their text goes last), since the depth-2 rules depend on which are unconditional.
    let mut deep = Out::new();
    let mut unconditional = vec![false; n];
    for t in (0..n).filter(|&t| tags.all[t].depth == 3 && free(t)) {
        let tag = &tags.all[t];
        let name = tag.path.replace('.', "_");
        // A conditional rule first, then (for most tags) an unconditional one it falls through to.
        if rng.chance(60) {
            let scope = if rng.chance(30) {
                " on sources with columns tagged Region"
            } else {
                ""
            };
            deep.line(&format!("policy g_{name}_where{scope} {{"));
            deep.line(&format!(
                "  mask columns tagged {} where row[tagged Region] == \"{}\"",
                tag.path,
                rng.pick(&REGIONS)
            ));
            deep.line(&audience(rng, tag.ty, purposes, "  "));
            deep.line("}");
            deep.line("");
        }
        if rng.chance(70) {
            let staged = rng.chance(5);
            unconditional[t] = !staged;
            let staged = if staged { " staged" } else { "" };
            deep.line(&format!("policy g_{name}{staged} {{"));
            deep.line(&format!("  mask columns tagged {}", tag.path));
            deep.line(&audience(rng, tag.ty, purposes, "  "));
            deep.line("}");
            deep.line("");
        }
    }

    let mut g = Out::new();
    g.line("// Generated by gen_policy_set: global tag policies, from the shallowest tag to the deepest.");
    g.line("");
    for t in (0..n).filter(|&t| tags.all[t].depth == 1 && free(t)) {
        let root = &tags.all[t].path;
        g.line(&format!(
            "policy g_{root} \"Everything under {root} is nulled unless a deeper rule applies\" {{"
        ));
        g.line(&format!(
            "  mask columns tagged {root} using null for everyone except user has role \"{}_admin\"",
            root.to_lowercase()
        ));
        g.line("}");
        g.line("");
    }
    for c in (0..n).filter(|&t| tags.all[t].depth == 2) {
        let prefix = format!("{}.", tags.all[c].path);
        let decides = tags.records.iter().any(|r| {
            !r.claimed
                && !r.child_claimed
                && (r.tag == c
                    || (tags.all[r.tag].path.starts_with(&prefix) && !unconditional[r.tag]))
        });
        if !decides {
            continue;
        }
        let tag = &tags.all[c];
        g.line(&format!("policy g_{} {{", tag.path.replace('.', "_")));
        g.line(&format!("  mask columns tagged {}", tag.path));
        g.line(&audience(rng, tag.ty, purposes, "  "));
        g.line("}");
        g.line("");
    }
    g.text.push_str(&deep.text);
    g.lines += deep.lines;
    if tags.free_notes > 0 {
        g.line("policy g_notes \"Free-text notes are redacted\" {");
        g.line(concat!(
            "  mask columns named like \"^note_[0-9]+$\" using redact",
            " for everyone except user has role \"note_reader\""
        ));
        g.line("}");
    }
    g
}

/// Exempts by domain and by the last digit of the source name, for the domains and digits in use.
fn exempts(sources: usize, rng: &mut Lcg, purposes: &[String]) -> Out {
    let mut e = Out::new();
    e.line("// Generated by gen_policy_set: exemptions.");
    e.line("");
    for d in 0..DOMAINS.min(sources) {
        e.line(&format!(
            "exempt user in group \"auditors_d{d:02}\" on sources tagged Domain.D{d:02};"
        ));
    }
    for i in (0..20).filter(|i| i % 10 < sources) {
        // A conjunction: skip conditions with a top-level `or`, which would widen the exemption.
        let mut extra = user_condition(rng, purposes);
        while extra.contains(" or ") {
            extra = user_condition(rng, purposes);
        }
        // Source names end in every digit, so each of these patterns covers a tenth of the sources.
        e.line(&format!(
            "exempt user has role \"breakglass_{i}\" and {extra} on sources named like \"^s_[0-9]*{}$\";",
            i % 10
        ));
    }
    e
}

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    if args.is_empty() || args.len() > 2 || args[0].starts_with('-') {
        eprintln!("usage: gen_policy_set OUT_DIR [LINES]");
        process::exit(2);
    }
    let out_dir = PathBuf::from(&args[0]);
    let target: usize = match args.get(1) {
        None => 100_000,
        Some(s) => match s.parse() {
            Ok(n) if n >= 1000 => n,
            _ => {
                eprintln!("gen_policy_set: LINES must be an integer >= 1000, got {s:?}");
                process::exit(2);
            }
        },
    };

    let (files, sources, tags) = generate(target);
    if let Err(e) = fs::create_dir_all(&out_dir) {
        eprintln!("gen_policy_set: cannot create {}: {e}", out_dir.display());
        process::exit(2);
    }
    let mut total = 0;
    for (name, o) in &files {
        let path = out_dir.join(name);
        if let Err(e) = fs::write(&path, &o.text) {
            eprintln!("gen_policy_set: cannot write {}: {e}", path.display());
            process::exit(2);
        }
        total += o.text.lines().count();
    }
    let policies: usize = files
        .iter()
        .map(|(_, o)| o.text.matches("\npolicy ").count())
        .sum();
    println!(
        "wrote {} files, {} lines, {} sources, {} policies, {} tags to {}",
        files.len(),
        total,
        sources,
        policies,
        tags,
        out_dir.display()
    );
}

/// The generated files `(name, text)` for about `target` lines, with the number of sources and
/// tags. Benchmarks include this file as a module and call it directly.
pub fn generate_files(target: usize) -> Vec<(String, String)> {
    generate(target)
        .0
        .into_iter()
        .map(|(name, o)| (name, o.text))
        .collect()
}

fn generate(target: usize) -> (Vec<(String, Out)>, usize, usize) {
    let mut rng = Lcg(0x5EED_0F70_1C5E_0001);
    let mut tags = Tags::build();
    let purposes = purposes();

    let headers = header_files(&tags, &purposes);
    // Lines outside the units: the headers, the exempts, and the global policies, whose size depends on
    // which tags the units use (re-estimated as units are added; the estimate uses its own generator so the
    // output does not depend on how often it runs).
    let fixed = headers.iter().map(|(_, o)| o.lines).sum::<usize>() + 36;
    let global_estimate = |tags: &Tags| global_policies(tags, &mut Lcg(1), &purposes).lines;
    let mut estimate = global_estimate(&tags);

    let mut units: Vec<Out> = Vec::new();
    let mut unit_lines = 0;
    let mut n = 0;
    while unit_lines + fixed + estimate < target {
        let mut o = Out::new();
        unit(n, &mut rng, &mut tags, &purposes, &mut o);
        unit_lines += o.lines;
        units.push(o);
        n += 1;
        if n < 64 || n % 32 == 0 {
            estimate = global_estimate(&tags);
        }
    }

    let mut files = headers;
    let per_file = units.len().div_ceil(UNIT_FILES).max(1);
    for (f, chunk) in units.chunks(per_file).enumerate() {
        let mut o = Out::new();
        o.line(&format!(
            "// Generated by gen_policy_set: sources and their policies, part {f}."
        ));
        o.line("");
        for u in chunk {
            o.text.push_str(&u.text);
            o.lines += u.lines;
        }
        files.push((format!("10_sources_{f:02}.pol"), o));
    }
    files.push((
        "90_global_policies.pol".to_string(),
        global_policies(&tags, &mut rng, &purposes),
    ));
    files.push((
        "91_exempts.pol".to_string(),
        exempts(units.len(), &mut rng, &purposes),
    ));

    let tag_count = tags.all.len() + 2 + DOMAINS;
    (files, units.len(), tag_count)
}
