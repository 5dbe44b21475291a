//! The disassembler: programs and whole bundles as text, for people and snapshot tests.
//!
//! - [`Op`]'s `Display` is the op's mnemonic and raw operands (`column 3`, `jump_if_false 7`).
//! - [`Program`]'s `Display` lists its ops with their positions and constants; it knows nothing
//!   of the bundle, so names stay indices.
//! - [`Bundle`]'s `Display` is the whole bundle: its tables, every source's plan, the grants,
//!   then every program with what uses it, each op with its operands resolved (constants,
//!   column paths, strings, regexes, subject fields, purposes) and, when the bundle carries a
//!   debug section, the source span it came from. `polc build --emit asm` prints it.
//!
//! Disassembling never fails or panics, even on a bundle the verifier would reject: an index
//! that points nowhere is shown as `?`.

use std::collections::BTreeSet;
use std::fmt;

use super::{Op, Program};
use crate::bundle::{
    Audience, Body, Bundle, RowAudience, RowFilter, RowOtherwise, SourcePlan, TechniquePlan,
};
use crate::bundle::{GrantAudience, GrantKind};

/// Every mnemonic, in the order of [`Op`]'s variants.
pub const MNEMONICS: &[&str] = &[
    "const",
    "duration",
    "column",
    "value",
    "user_field",
    "login",
    "groups",
    "roles",
    "attributes",
    "purposes",
    "now",
    "today",
    "field",
    "index",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "contains",
    "matches",
    "under",
    "add",
    "sub",
    "neg",
    "not",
    "and",
    "or",
    "jump_if_false",
    "jump_if_true",
    "branch",
    "jump",
    "lower",
    "upper",
    "len",
    "concat",
    "starts_with",
    "ends_with",
    "age",
    "has",
    "in_group",
    "has_role",
    "has_attribute",
    "has_attribute_value",
    "acting_under",
    "replace",
    "regex_replace",
    "substring",
    "substring_for",
    "lpad",
    "rpad",
    "coalesce",
    "months",
    "in_table",
];

impl Op {
    /// The op's name in listings (snake case of the variant).
    pub fn mnemonic(&self) -> &'static str {
        use Op::*;
        match self {
            Const(_) => "const",
            Duration(_) => "duration",
            Column(_) => "column",
            Op::Value => "value",
            UserField(_) => "user_field",
            Login => "login",
            Groups => "groups",
            Roles => "roles",
            Attributes => "attributes",
            Purposes => "purposes",
            Now => "now",
            Today => "today",
            Field(_) => "field",
            Index => "index",
            Eq => "eq",
            Ne => "ne",
            Lt => "lt",
            Le => "le",
            Gt => "gt",
            Ge => "ge",
            In => "in",
            Contains => "contains",
            Matches(_) => "matches",
            Under(_) => "under",
            Add => "add",
            Sub => "sub",
            Neg => "neg",
            Not => "not",
            And => "and",
            Or => "or",
            JumpIfFalse(_) => "jump_if_false",
            JumpIfTrue(_) => "jump_if_true",
            Branch { .. } => "branch",
            Jump(_) => "jump",
            Lower => "lower",
            Upper => "upper",
            Len => "len",
            Concat(_) => "concat",
            StartsWith => "starts_with",
            EndsWith => "ends_with",
            Age => "age",
            Has => "has",
            InGroup(_) => "in_group",
            HasRole(_) => "has_role",
            HasAttribute(_) => "has_attribute",
            HasAttributeValue { .. } => "has_attribute_value",
            ActingUnder(_) => "acting_under",
            Replace => "replace",
            RegexReplace { .. } => "regex_replace",
            Substring => "substring",
            SubstringFor => "substring_for",
            Lpad => "lpad",
            Rpad => "rpad",
            Coalesce(_) => "coalesce",
            Months(_) => "months",
            InTable(_) => "in_table",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Op::*;
        let m = self.mnemonic();
        match self {
            Const(i) | Column(i) | UserField(i) | Field(i) | Matches(i) | Under(i) | InGroup(i)
            | HasRole(i) | HasAttribute(i) | ActingUnder(i) | InTable(i) | Concat(i)
            | Coalesce(i) | JumpIfFalse(i) | JumpIfTrue(i) | Jump(i) => write!(f, "{m} {i}"),
            Duration(s) => write!(f, "{m} {s}s"),
            Months(n) => write!(f, "{m} {n}mo"),
            Branch { else_, end } => write!(f, "{m} else {else_} end {end}"),
            HasAttributeValue { name, value } => write!(f, "{m} {name} {value}"),
            RegexReplace { regex, replacement } => write!(f, "{m} {regex} {replacement}"),
            _ => f.write_str(m),
        }
    }
}

impl fmt::Display for Program {
    /// One line per op (`pc  op ; constant`), after a header with the program's flags.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "; {} ops{}", self.code.len(), user_only_text(self))?;
        for (pc, op) in self.code.iter().enumerate() {
            let comment = match op {
                Op::Const(i) => constant(self, *i),
                _ => String::new(),
            };
            writeln!(f, "{}", op_line(pc, op, &comment, ""))?;
        }
        Ok(())
    }
}

fn user_only_text(p: &Program) -> &'static str {
    if p.user_only {
        ", user-only"
    } else {
        ""
    }
}

fn constant(p: &Program, i: u32) -> String {
    p.consts
        .get(i as usize)
        .map(|v| format!("{v:?}"))
        .unwrap_or_else(|| "?".to_owned())
}

fn op_line(pc: usize, op: &Op, comment: &str, span: &str) -> String {
    let comment = if comment.is_empty() {
        String::new()
    } else {
        format!("; {comment}")
    };
    let line = format!("{pc:>5}  {:<24}{comment:<32}{span}", op.to_string());
    line.trim_end().to_owned()
}

impl fmt::Display for Bundle {
    /// The whole bundle: tables, sources, grants, then every program (see the module's
    /// documentation).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "; Pol bundle, format version {}", self.format_version)?;
        tables(self, f)?;
        for s in &self.sources {
            source(self, s, f)?;
        }
        grants(self, f)?;
        k_anonymity(self, f)?;
        let uses = Uses::of(self);
        for (i, p) in self.programs.iter().enumerate() {
            program(self, &uses, i, p, f)?;
        }
        Ok(())
    }
}

fn tables(b: &Bundle, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if b.settings.combine_exceptions {
        writeln!(f, "; combine_exceptions")?;
    }
    list(f, "files", b.debug.files.iter().map(|s| s.to_string()))?;
    list(f, "strings", b.strings.iter().map(|s| format!("{s:?}")))?;
    list(f, "regexes", b.regexes.iter().map(|r| format!("r{r:?}")))?;
    list(
        f,
        "subject fields",
        b.subject_fields.iter().map(|(n, t)| format!("{n}: {t:?}")),
    )?;
    list(
        f,
        "purposes",
        b.purposes.iter().map(|p| match p.parent {
            Some(parent) => format!("{} (under {parent})", p.name),
            None => p.name.clone(),
        }),
    )?;
    list(f, "levels", b.levels.iter().cloned())?;
    list(
        f,
        "rules",
        b.rules
            .iter()
            .map(|r| format!("{} (policy {})", r.name, r.policy)),
    )?;
    list(f, "techniques", b.techniques.iter().map(technique))?;
    list(
        f,
        "lookup tables",
        b.lookups.iter().map(|t| match &t.values {
            Some(v) => format!("{}: {}, {} values", t.name, t.kind.name(), v.len()),
            None => format!("{}: {}, supplied at run time", t.name, t.kind.name()),
        }),
    )
}

fn list(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    items: impl Iterator<Item = String>,
) -> fmt::Result {
    let mut items = items.enumerate().peekable();
    if items.peek().is_none() {
        return Ok(());
    }
    writeln!(f, "{title}:")?;
    for (i, item) in items {
        writeln!(f, "  {i:>3}  {item}")?;
    }
    Ok(())
}

fn technique(t: &TechniquePlan) -> String {
    match t {
        TechniquePlan::Builtin(t) => format!("{t:?}"),
        TechniquePlan::Expr { program } => format!("expr: program {program}"),
        TechniquePlan::ByLevel { entries } => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(level, t)| format!("level {level} → technique {t}"))
                .collect();
            format!("by level: {}", entries.join(", "))
        }
    }
}

/// The dotted path of flat column `c` of `s` (`patient.name`); `?` for an index out of range.
fn column_path(s: &SourcePlan, c: u32) -> String {
    let mut parts = Vec::new();
    let mut at = Some(c);
    // A path is at most as long as the column list (a cycle, in a bundle the verifier would
    // reject, stops there).
    for _ in 0..=s.columns.len() {
        let Some(i) = at else { break };
        let Some(col) = s.columns.get(i as usize) else {
            parts.push("?".to_owned());
            break;
        };
        parts.push(col.name.clone());
        at = col.parent;
    }
    parts.reverse();
    parts.join(".")
}

fn optional_column(i: Option<u32>, s: &SourcePlan) -> String {
    i.map(|i| column_path(s, i))
        .unwrap_or_else(|| "none".to_owned())
}

fn source(b: &Bundle, s: &SourcePlan, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
        f,
        "source {} (key {}, event time {}",
        s.name,
        optional_column(s.key_column, s),
        optional_column(s.event_time_column, s)
    )?;
    if let Some(level) = &s.level {
        let name = b.levels.get(level.default as usize);
        write!(f, ", level {}", name.map_or("?", String::as_str))?;
        if let Some(c) = level.column {
            write!(f, " or from {}", column_path(s, c))?;
        }
    }
    writeln!(f, ")")?;
    for (ci, c) in s.columns.iter().enumerate() {
        writeln!(f, "  column {ci} {}: {:?}", column_path(s, ci as u32), c.ty)?;
        if let Some(d) = &c.derived {
            writeln!(
                f,
                "    derived: program {} reading {:?}",
                d.program, d.reads
            )?;
        }
        if let Some(v) = c.visible {
            writeln!(f, "    visible if: program {v}")?;
        }
        if let Some(a) = c.accessible {
            writeln!(f, "    accessible if: program {a}")?;
        }
        for (k, cand) in c.candidates.iter().enumerate() {
            write!(
                f,
                "    candidate {k} rule {} ({})",
                cand.rule,
                rule_name(b, cand.rule)
            )?;
            if let Some(w) = cand.where_ {
                write!(f, " where program {w}")?;
            }
            writeln!(f, ": {}", body(&cand.body))?;
        }
    }
    for e in &s.exempts {
        writeln!(f, "  exempt if program {e}")?;
    }
    for (k, r) in s.row_rules.iter().enumerate() {
        writeln!(
            f,
            "  row rule {k} rule {} ({}): {} {}",
            r.rule,
            rule_name(b, r.rule),
            row_filter(&r.filter),
            row_audience(&r.audience)
        )?;
    }
    Ok(())
}

fn rule_name(b: &Bundle, rule: u32) -> &str {
    b.rules
        .get(rule as usize)
        .map(|r| r.name.as_str())
        .unwrap_or("?")
}

fn body(b: &Body) -> String {
    let mut parts: Vec<String> = b
        .clauses
        .iter()
        .map(|(a, t)| {
            let who = match a {
                Audience::Everyone => "for everyone".to_owned(),
                Audience::Except(p) => format!("for everyone except program {p}"),
                Audience::Who(p) => format!("for everyone who program {p}"),
            };
            format!("technique {t} {who}")
        })
        .collect();
    match b.otherwise {
        Some(Some(t)) => parts.push(format!("otherwise technique {t}")),
        Some(None) => parts.push("otherwise unmasked".to_owned()),
        None => {}
    }
    parts.join("; ")
}

fn row_filter(r: &RowFilter) -> String {
    match r {
        RowFilter::Where(p) => format!("rows where program {p}"),
        RowFilter::NewerThan(s) => format!("rows newer than {s}s"),
        RowFilter::OlderThan(s) => format!("rows older than {s}s"),
        RowFilter::NewerThanMonths(m) => format!("rows newer than {m}mo"),
        RowFilter::OlderThanMonths(m) => format!("rows older than {m}mo"),
        RowFilter::Sample(p) => format!("{p}% of rows"),
        RowFilter::Never => "no rows".to_owned(),
        RowFilter::Linked { column, parent } => {
            format!("rows whose column {column} is the key of a shown row of source {parent}")
        }
    }
}

fn row_audience(a: &RowAudience) -> String {
    match a {
        RowAudience::Everyone => "for everyone".to_owned(),
        RowAudience::Except(p) => format!("for everyone except program {p}"),
        RowAudience::Who {
            condition,
            otherwise,
        } => {
            let otherwise = match otherwise {
                RowOtherwise::AllRows => "all rows".to_owned(),
                RowOtherwise::Filter(r) => row_filter(r),
            };
            format!("for everyone who program {condition} otherwise {otherwise}")
        }
    }
}

fn grants(b: &Bundle, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    list(
        f,
        "grants",
        b.grants.iter().map(|g| {
            let src = b.sources.get(g.kind.source() as usize);
            let name = src.map_or("?", |s| s.name.as_str());
            let kind = match g.kind {
                GrantKind::TemporaryUnmask { seconds, .. } => {
                    format!("temporary unmask of {name} for {seconds}s")
                }
                GrantKind::Detokenize { column, .. } => {
                    let path = src.map_or_else(|| "?".to_owned(), |s| column_path(s, column));
                    format!("detokenize {name}.{path}")
                }
                GrantKind::ApprovedUnmask {
                    seconds,
                    approvers,
                    window,
                    ..
                } => format!(
                    "temporary unmask of {name} for {seconds}s with approval by program {approvers} within {window}s"
                ),
            };
            let who = match g.audience {
                GrantAudience::Everyone => "for everyone".to_owned(),
                GrantAudience::Except(p) => format!("for everyone except program {p}"),
                GrantAudience::Who(p) => format!("for everyone who program {p}"),
            };
            format!("rule {}: {kind} {who}", g.rule)
        }),
    )
}

/// The k-anonymity section (format version 3): one line per source that asks for it.
fn k_anonymity(b: &Bundle, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    list(
        f,
        "k-anonymity",
        b.k_anonymity.iter().map(|k| {
            let src = b.sources.get(k.source as usize);
            let name = src.map_or("?", |s| s.name.as_str());
            let cols: Vec<String> = k
                .columns
                .iter()
                .map(|&c| src.map_or_else(|| "?".to_owned(), |s| column_path(s, c)))
                .collect();
            format!("{name}: k = {} over {}", k.k, cols.join(", "))
        }),
    )
}

/// What uses each program: descriptions, and the sources whose row it reads.
struct Uses {
    what: Vec<Vec<String>>,
    sources: Vec<BTreeSet<usize>>,
}

impl Uses {
    fn of(b: &Bundle) -> Uses {
        let mut u = Uses {
            what: vec![Vec::new(); b.programs.len()],
            sources: vec![BTreeSet::new(); b.programs.len()],
        };
        for (si, s) in b.sources.iter().enumerate() {
            u.source(b, si, s);
        }
        for (gi, g) in b.grants.iter().enumerate() {
            if let GrantAudience::Except(p) | GrantAudience::Who(p) = g.audience {
                u.add(p, None, format!("grant {gi}: audience"));
            }
        }
        u
    }

    fn add(&mut self, program: u32, source: Option<usize>, what: String) {
        let p = program as usize;
        if let Some(w) = self.what.get_mut(p) {
            w.push(what);
        }
        if let (Some(set), Some(s)) = (self.sources.get_mut(p), source) {
            set.insert(s);
        }
    }

    fn source(&mut self, b: &Bundle, si: usize, s: &SourcePlan) {
        let at = Some(si);
        for (ci, c) in s.columns.iter().enumerate() {
            let col = format!("{}.{}", s.name, column_path(s, ci as u32));
            if let Some(d) = &c.derived {
                self.add(d.program, at, format!("{col}: derived value"));
            }
            if let Some(v) = c.visible {
                self.add(v, at, format!("{col}: visible if"));
            }
            if let Some(a) = c.accessible {
                self.add(a, at, format!("{col}: accessible if"));
            }
            for (k, cand) in c.candidates.iter().enumerate() {
                let here = format!("{col} candidate {k}");
                if let Some(w) = cand.where_ {
                    self.add(w, at, format!("{here}: where"));
                }
                for (a, t) in &cand.body.clauses {
                    match a {
                        Audience::Everyone => {}
                        Audience::Except(p) => self.add(*p, at, format!("{here}: except")),
                        Audience::Who(p) => self.add(*p, at, format!("{here}: who")),
                    }
                    self.technique(b, *t, si, &here, 0);
                }
                if let Some(Some(t)) = cand.body.otherwise {
                    self.technique(b, t, si, &here, 0);
                }
            }
        }
        for e in &s.exempts {
            self.add(*e, at, format!("{}: exempt", s.name));
        }
        for (k, r) in s.row_rules.iter().enumerate() {
            let here = format!("{} row rule {k}", s.name);
            if let RowFilter::Where(p) = r.filter {
                self.add(p, at, format!("{here}: where"));
            }
            match &r.audience {
                RowAudience::Everyone => {}
                RowAudience::Except(p) => self.add(*p, at, format!("{here}: except")),
                RowAudience::Who {
                    condition,
                    otherwise,
                } => {
                    self.add(*condition, at, format!("{here}: who"));
                    if let RowOtherwise::Filter(RowFilter::Where(p)) = otherwise {
                        self.add(*p, at, format!("{here}: otherwise where"));
                    }
                }
            }
        }
    }

    fn technique(&mut self, b: &Bundle, t: u32, si: usize, here: &str, depth: u8) {
        match b.techniques.get(t as usize) {
            Some(TechniquePlan::Expr { program }) => {
                let what = format!("{here}: technique {t}");
                if !self
                    .what
                    .get(*program as usize)
                    .is_some_and(|w| w.contains(&what))
                {
                    self.add(*program, Some(si), what);
                }
            }
            // `by level` entries may not nest (the verifier checks); stop at one level anyway.
            Some(TechniquePlan::ByLevel { entries }) if depth == 0 => {
                for (_, e) in entries {
                    self.technique(b, *e, si, here, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn program(
    b: &Bundle,
    uses: &Uses,
    i: usize,
    p: &Program,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    writeln!(f, "program {i}{}", user_only_text(p))?;
    for what in uses.what.get(i).into_iter().flatten() {
        writeln!(f, "  ; used by {what}")?;
    }
    let spans = b.debug.program(i);
    let sources = uses.sources.get(i);
    for (pc, op) in p.code.iter().enumerate() {
        let comment = operand(b, p, sources, op);
        let span = spans
            .and_then(|s| s.span_of(pc))
            .map(|s| format!("@ {}", b.debug.describe(s)))
            .unwrap_or_default();
        writeln!(f, "{}", op_line(pc, op, &comment, &span))?;
    }
    Ok(())
}

/// An op's operand resolved against the bundle (empty when it has none to resolve).
fn operand(b: &Bundle, p: &Program, sources: Option<&BTreeSet<usize>>, op: &Op) -> String {
    let string = |i: u32| {
        b.strings
            .get(i as usize)
            .map(|s| format!("{s:?}"))
            .unwrap_or_else(|| "?".to_owned())
    };
    let purpose = |i: u32| {
        b.purposes
            .get(i as usize)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "?".to_owned())
    };
    match op {
        Op::Const(i) => constant(p, *i),
        Op::Column(c) => column_names(b, sources, *c),
        Op::UserField(i) => b
            .subject_fields
            .get(*i as usize)
            .map(|(n, _)| format!("user.{n}"))
            .unwrap_or_else(|| "?".to_owned()),
        Op::Field(i) | Op::InGroup(i) | Op::HasRole(i) | Op::HasAttribute(i) => string(*i),
        Op::HasAttributeValue { name, value } => {
            format!("{} = {}", string(*name), string(*value))
        }
        Op::Matches(i) => b
            .regexes
            .get(*i as usize)
            .map(|r| format!("r{r:?}"))
            .unwrap_or_else(|| "?".to_owned()),
        Op::RegexReplace { regex, replacement } => {
            let re = b
                .regexes
                .get(*regex as usize)
                .map(|r| format!("r{r:?}"))
                .unwrap_or_else(|| "?".to_owned());
            format!("{re} -> {}", string(*replacement))
        }
        Op::Under(i) | Op::ActingUnder(i) => purpose(*i),
        Op::InTable(i) => b
            .lookups
            .get(*i as usize)
            .map(|t| format!("table {}", t.name))
            .unwrap_or_else(|| "?".to_owned()),
        _ => String::new(),
    }
}

/// The path of flat column `c` in every source whose row the program reads (`a | b` when
/// sources sharing the program name it differently).
fn column_names(b: &Bundle, sources: Option<&BTreeSet<usize>>, c: u32) -> String {
    let mut names: Vec<String> = Vec::new();
    for s in sources.into_iter().flatten() {
        if let Some(src) = b.sources.get(*s) {
            let name = format!("row.{}", column_path(src, c));
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    if names.is_empty() {
        return "?".to_owned();
    }
    names.join(" | ")
}
