//! The bundle verifier: everything the engine relies on, checked once at load.
//!
//! - every index into every table (programs, techniques, columns, rules, strings, regexes,
//!   purposes, levels, constants, subject fields);
//! - every program: forward jumps within the program, a static stack depth within
//!   [`MAX_STACK`](crate::program::MAX_STACK), one result, a truthful `user_only` flag, and the
//!   context it is used in (a user-only context — `exempt`, `visible if` — may not read the row;
//!   only `expr(…)` techniques may read `value`; columns are read by index into the source that
//!   uses the program);
//! - every technique's arguments ([`Technique::validate`](crate::techniques::Technique::validate)),
//!   `by level` entries, and regexes;
//! - the shape of every source: unique names, struct fields listed under their struct in the
//!   type's order, derived columns at top level and free of cycles, key, event-time and level
//!   columns of fitting types, audiences of a valid shape, row filters that have the column
//!   they need.

use ahash::AHashSet as HashSet;
use std::fmt;

use super::grants::{
    GrantAudience, GrantKind, MAX_APPROVAL_SECONDS, MAX_UNMASK_SECONDS, MIN_APPROVAL_SECONDS,
    MIN_UNMASK_SECONDS,
};
use super::{Audience, Body, Bundle, RowFilter, SourcePlan, TechniquePlan};
use crate::program::{stack_depth, Op, StackError};

mod links;
mod source;

pub(crate) use links::parents as link_parents;

/// The deepest nesting of struct fields the verifier accepts.
pub const MAX_FIELD_DEPTH: usize = 32;

/// The largest compiled size of one regex, in bytes (the `regex` crate's size limit).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The table an index points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// [`Bundle::programs`].
    Program,
    /// [`Bundle::techniques`].
    Technique,
    /// A source's columns.
    Column,
    /// [`Bundle::rules`].
    Rule,
    /// [`Bundle::strings`].
    String,
    /// [`Bundle::regexes`].
    Regex,
    /// [`Bundle::purposes`].
    Purpose,
    /// [`Bundle::levels`].
    Level,
    /// A program's constant pool.
    Constant,
    /// [`Bundle::subject_fields`].
    SubjectField,
    /// [`Bundle::sources`].
    Source,
    /// [`Bundle::lookups`].
    Lookup,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Program => "program",
            Table::Technique => "technique",
            Table::Column => "column",
            Table::Rule => "rule",
            Table::String => "string",
            Table::Regex => "regex",
            Table::Purpose => "purpose",
            Table::Lookup => "lookup table",
            Table::Level => "level",
            Table::Constant => "constant",
            Table::SubjectField => "subject field",
            Table::Source => "source",
        }
    }
}

/// An inconsistency in a bundle. `at` fields say where, e.g. `source customers, column ssn,
/// candidate 0`.
#[derive(Clone, Debug, PartialEq)]
pub enum VerifyError {
    /// An index past the end of its table.
    BadIndex {
        /// The table.
        table: Table,
        /// The index found.
        index: u32,
        /// The table's length.
        len: usize,
        /// Where.
        at: String,
    },
    /// A program's jumps or stack discipline are wrong.
    BadProgram {
        /// The program's index.
        program: u32,
        /// What is wrong.
        error: StackError,
    },
    /// A program's `user_only` flag does not match its code.
    UserOnlyFlag {
        /// The program's index.
        program: u32,
        /// The flag in the bundle.
        declared: bool,
    },
    /// A program is used where it may not be (reads the row in a user-only context, reads
    /// `value` outside an `expr(…)` technique).
    BadContext {
        /// The program's index.
        program: u32,
        /// Where it is used.
        at: String,
        /// What is wrong.
        message: &'static str,
    },
    /// A regex does not compile.
    BadRegex {
        /// Its index.
        index: u32,
        /// The regex crate's message.
        message: String,
    },
    /// A technique's arguments are invalid.
    BadTechnique {
        /// Its index.
        technique: u32,
        /// What is wrong.
        message: String,
    },
    /// Derived columns read each other in a cycle.
    DerivedCycle {
        /// The source.
        source: String,
        /// A column on the cycle.
        column: String,
    },
    /// Anything else about the shape of the bundle.
    Structure {
        /// Where.
        at: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::BadIndex {
                table,
                index,
                len,
                at,
            } => write!(
                f,
                "{at}: {} index {index} is out of range (the table has {len})",
                table.name()
            ),
            VerifyError::BadProgram { program, error } => write!(f, "program {program}: {error}"),
            VerifyError::UserOnlyFlag { program, declared } => write!(
                f,
                "program {program} is marked user_only = {declared}, which its code contradicts"
            ),
            VerifyError::BadContext {
                program,
                at,
                message,
            } => write!(f, "{at}: program {program} {message}"),
            VerifyError::BadRegex { index, message } => {
                write!(f, "regex {index} does not compile: {message}")
            }
            VerifyError::BadTechnique { technique, message } => {
                write!(f, "technique {technique}: {message}")
            }
            VerifyError::DerivedCycle { source, column } => write!(
                f,
                "source {source}: derived column {column} depends on itself"
            ),
            VerifyError::Structure { at, message } => write!(f, "{at}: {message}"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// What the verifier computed and the engine reuses.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    /// The maximum stack depth of each program.
    pub max_stack: Vec<u32>,
    /// Per source, its derived columns in an order where each comes after those it reads.
    pub derived_order: Vec<Vec<u32>>,
    /// The bundle's regular expressions, compiled (with the size limit) while checking them.
    pub regexes: Vec<regex::Regex>,
    /// Per source, per flat column: whether a program used in that source's row context (a
    /// condition, a row filter, a derived column, an `expr(…)` technique) reads its raw value.
    pub columns_read: Vec<Vec<bool>>,
}

fn structure(at: impl Into<String>, message: impl Into<String>) -> VerifyError {
    VerifyError::Structure {
        at: at.into(),
        message: message.into(),
    }
}

fn check_index(
    table: Table,
    index: u32,
    len: usize,
    at: &dyn Fn() -> String,
) -> Result<(), VerifyError> {
    if (index as usize) < len {
        Ok(())
    } else {
        Err(VerifyError::BadIndex {
            table,
            index,
            len,
            at: at(),
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Ctx {
    /// Only the subject and the clock.
    User,
    /// The row of a source.
    Row(u32),
    /// The row of a source and `value`.
    Value(u32),
}

struct Verifier<'b> {
    b: &'b Bundle,
    /// Per program: the first context it was checked in (most programs have only one).
    first_ctx: Vec<Option<Ctx>>,
    /// See [`Checked::columns_read`].
    columns_read: Vec<Vec<bool>>,
    /// Further (program, context) pairs already checked.
    seen: HashSet<(u32, Ctx)>,
    seen_tech: HashSet<(u32, u32)>,
}

/// Verifies a bundle.
pub fn verify(b: &Bundle) -> Result<Checked, VerifyError> {
    let mut v = Verifier {
        b,
        first_ctx: vec![None; b.programs.len()],
        columns_read: b
            .sources
            .iter()
            .map(|s| vec![false; s.columns.len()])
            .collect(),
        seen: HashSet::new(),
        seen_tech: HashSet::new(),
    };
    let regexes = v.globals()?;
    let max_stack = v.programs()?;
    v.techniques()?;
    let mut derived_order = Vec::with_capacity(b.sources.len());
    let mut names = HashSet::new();
    for (si, s) in b.sources.iter().enumerate() {
        if !names.insert(s.name.as_str()) {
            return Err(structure(
                format!("source {}", s.name),
                "two sources have this name",
            ));
        }
        derived_order.push(v.source(si as u32, s)?);
    }
    links::check(b)?;
    v.grants()?;
    v.debug()?;
    super::k_anonymity::verify(b)?;
    lookups(&b.lookups)?;
    Ok(Checked {
        max_stack,
        derived_order,
        regexes,
        columns_read: v.columns_read,
    })
}

/// Checks the lookup tables: names unique, a file table's values of its declared kind and within
/// the size limits.
fn lookups(plans: &[crate::lookup::LookupPlan]) -> Result<(), VerifyError> {
    let mut names = HashSet::new();
    for t in plans {
        let at = || format!("lookup table {}", t.name);
        if !names.insert(t.name.as_str()) {
            return Err(structure(at(), "two lookup tables have this name"));
        }
        if let Some(values) = &t.values {
            if values.kind() != t.kind {
                return Err(structure(
                    at(),
                    format!(
                        "its values are {} and it is declared {}",
                        values.kind().name(),
                        t.kind.name()
                    ),
                ));
            }
            values
                .check_limits()
                .map_err(|e| structure(at(), e.to_string()))?;
        }
    }
    Ok(())
}

const BUILTIN_SUBJECT_FIELDS: [&str; 5] = ["login", "groups", "roles", "attributes", "purposes"];

impl<'b> Verifier<'b> {
    /// Checks the debug section: spans only of existing programs, runs at strictly increasing
    /// ops of their program, files the section names.
    fn debug(&self) -> Result<(), VerifyError> {
        let (programs, debug) = (&self.b.programs, &self.b.debug);
        if debug.programs.len() > programs.len() {
            return Err(structure(
                "debug section",
                format!(
                    "it has spans for {} programs, the bundle has {}",
                    debug.programs.len(),
                    programs.len()
                ),
            ));
        }
        for (pi, (p, spans)) in programs.iter().zip(&debug.programs).enumerate() {
            let at = || format!("debug section, program {pi}");
            let mut next = 0usize;
            for run in &spans.runs {
                let start = run.start as usize;
                if start < next || start >= p.code.len() {
                    return Err(structure(
                        at(),
                        format!(
                            "a span run starts at op {start}, not after the previous run and \
                             within the program's {} ops",
                            p.code.len()
                        ),
                    ));
                }
                next = start + 1;
                if run.span.file as usize >= debug.files.len() {
                    return Err(structure(
                        at(),
                        format!(
                            "a span names file {}, the section lists {}",
                            run.span.file,
                            debug.files.len()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks the global tables; returns the compiled regular expressions.
    fn globals(&self) -> Result<Vec<regex::Regex>, VerifyError> {
        let b = self.b;
        let mut regexes = Vec::with_capacity(b.regexes.len());
        for (i, re) in b.regexes.iter().enumerate() {
            regexes.push(
                regex::RegexBuilder::new(re)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| VerifyError::BadRegex {
                        index: i as u32,
                        message: e.to_string(),
                    })?,
            );
        }
        let mut names = HashSet::new();
        for (i, p) in b.purposes.iter().enumerate() {
            if !names.insert(p.name.as_str()) {
                return Err(structure(format!("purpose {}", p.name), "declared twice"));
            }
            if let Some(parent) = p.parent {
                if parent as usize >= i {
                    return Err(structure(
                        format!("purpose {}", p.name),
                        format!("its parent {parent} does not come before it"),
                    ));
                }
            }
        }
        let mut names = HashSet::new();
        for l in &b.levels {
            if !names.insert(l.as_str()) {
                return Err(structure(format!("level {l}"), "declared twice"));
            }
        }
        let mut names = HashSet::new();
        for (name, _) in &b.subject_fields {
            if BUILTIN_SUBJECT_FIELDS.contains(&name.as_str()) {
                return Err(structure(
                    format!("subject field {name}"),
                    "a built-in subject field is declared again",
                ));
            }
            if !names.insert(name.as_str()) {
                return Err(structure(format!("subject field {name}"), "declared twice"));
            }
        }
        Ok(regexes)
    }

    /// Checks every program on its own (indices that do not depend on the source, stack,
    /// user_only flag) and returns their stack depths.
    fn programs(&self) -> Result<Vec<u32>, VerifyError> {
        let b = self.b;
        let mut depths = Vec::with_capacity(b.programs.len());
        for (pi, p) in b.programs.iter().enumerate() {
            let program = pi as u32;
            let depth =
                stack_depth(&p.code).map_err(|error| VerifyError::BadProgram { program, error })?;
            depths.push(depth);
            if p.user_only != p.computes_user_only() {
                return Err(VerifyError::UserOnlyFlag {
                    program,
                    declared: p.user_only,
                });
            }
            for (pc, op) in p.code.iter().enumerate() {
                let at = || format!("program {program}, op {pc}");
                match *op {
                    Op::Const(i) => check_index(Table::Constant, i, p.consts.len(), &at)?,
                    Op::Field(s) | Op::InGroup(s) | Op::HasRole(s) | Op::HasAttribute(s) => {
                        check_index(Table::String, s, b.strings.len(), &at)?
                    }
                    Op::HasAttributeValue { name, value } => {
                        check_index(Table::String, name, b.strings.len(), &at)?;
                        check_index(Table::String, value, b.strings.len(), &at)?;
                    }
                    Op::Matches(r) => check_index(Table::Regex, r, b.regexes.len(), &at)?,
                    Op::RegexReplace { regex, replacement } => {
                        check_index(Table::Regex, regex, b.regexes.len(), &at)?;
                        check_index(Table::String, replacement, b.strings.len(), &at)?;
                    }
                    Op::Under(u) | Op::ActingUnder(u) => {
                        check_index(Table::Purpose, u, b.purposes.len(), &at)?
                    }
                    Op::UserField(f) => {
                        check_index(Table::SubjectField, f, b.subject_fields.len(), &at)?
                    }
                    Op::InTable(t) => check_index(Table::Lookup, t, b.lookups.len(), &at)?,
                    _ => {}
                }
            }
        }
        Ok(depths)
    }

    fn techniques(&self) -> Result<(), VerifyError> {
        let b = self.b;
        for (ti, t) in b.techniques.iter().enumerate() {
            let technique = ti as u32;
            let at = || format!("technique {technique}");
            match t {
                TechniquePlan::Builtin(t) => {
                    t.validate().map_err(|e| VerifyError::BadTechnique {
                        technique,
                        message: e.to_string(),
                    })?
                }
                TechniquePlan::Expr { program } => {
                    check_index(Table::Program, *program, b.programs.len(), &at)?
                }
                TechniquePlan::ByLevel { entries } => {
                    let mut levels = HashSet::new();
                    for (level, tech) in entries {
                        check_index(Table::Level, *level, b.levels.len(), &at)?;
                        check_index(Table::Technique, *tech, b.techniques.len(), &at)?;
                        if !levels.insert(*level) {
                            return Err(VerifyError::BadTechnique {
                                technique,
                                message: format!("`by level` lists level {level} twice"),
                            });
                        }
                        if matches!(
                            b.techniques.get(*tech as usize),
                            Some(TechniquePlan::ByLevel { .. })
                        ) {
                            return Err(VerifyError::BadTechnique {
                                technique,
                                message: "a `by level` entry is itself `by level`".to_owned(),
                            });
                        }
                    }
                    if !levels.contains(&0) {
                        return Err(VerifyError::BadTechnique {
                            technique,
                            message: "`by level` has no entry for the highest level".to_owned(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks the grants table: indices, durations, user-only audiences.
    #[expect(
        clippy::indexing_slicing,
        reason = "each index is bounds-checked just before it is used (`check_index`, `parent < ci`, or an enumeration of the same table)"
    )]
    fn grants(&mut self) -> Result<(), VerifyError> {
        let b = self.b;
        for (gi, g) in b.grants.iter().enumerate() {
            let at = || format!("grant {gi}");
            check_index(Table::Rule, g.rule, b.rules.len(), &at)?;
            let source = g.kind.source();
            check_index(Table::Source, source, b.sources.len(), &at)?;
            match g.kind {
                GrantKind::TemporaryUnmask { seconds, .. } => {
                    if !(MIN_UNMASK_SECONDS..=MAX_UNMASK_SECONDS).contains(&seconds) {
                        return Err(structure(
                            at(),
                            format!(
                                "a temporary unmask lasts from 1h to 72h, not {seconds} seconds"
                            ),
                        ));
                    }
                }
                GrantKind::Detokenize { column, .. } => {
                    let ncols = b.sources[source as usize].columns.len();
                    check_index(Table::Column, column, ncols, &at)?;
                }
                GrantKind::ApprovedUnmask {
                    seconds,
                    approvers,
                    window,
                    ..
                } => {
                    if !(MIN_UNMASK_SECONDS..=MAX_UNMASK_SECONDS).contains(&seconds) {
                        return Err(structure(
                            at(),
                            format!(
                                "a temporary unmask lasts from 1h to 72h, not {seconds} seconds"
                            ),
                        ));
                    }
                    if !(MIN_APPROVAL_SECONDS..=MAX_APPROVAL_SECONDS).contains(&window) {
                        return Err(structure(
                            at(),
                            format!(
                                "a request waits for approval from 5 minutes to 72h, not {window} seconds"
                            ),
                        ));
                    }
                    self.use_program(approvers, Ctx::User, 0, &at)?;
                }
            }
            match g.audience {
                GrantAudience::Everyone => {}
                GrantAudience::Except(p) | GrantAudience::Who(p) => {
                    self.use_program(p, Ctx::User, 0, &at)?
                }
            }
        }
        Ok(())
    }

    /// Checks that program `p` may be used in `ctx` (with columns of `ncols`-column source).
    #[expect(
        clippy::indexing_slicing,
        reason = "each index is bounds-checked just before it is used (`check_index`, `parent < ci`, or an enumeration of the same table)"
    )]
    fn use_program(
        &mut self,
        p: u32,
        ctx: Ctx,
        ncols: usize,
        at: &dyn Fn() -> String,
    ) -> Result<(), VerifyError> {
        check_index(Table::Program, p, self.b.programs.len(), at)?;
        let first = &mut self.first_ctx[p as usize];
        match first {
            None => *first = Some(ctx),
            Some(f) if *f == ctx => return Ok(()),
            Some(_) => {
                if !self.seen.insert((p, ctx)) {
                    return Ok(());
                }
            }
        }
        let program = &self.b.programs[p as usize];
        match ctx {
            Ctx::User => {
                if !program.user_only {
                    return Err(VerifyError::BadContext {
                        program: p,
                        at: at(),
                        message: "reads the row where only the user may be read",
                    });
                }
            }
            Ctx::Row(source) | Ctx::Value(source) => {
                if matches!(ctx, Ctx::Row(_)) && program.reads_value() {
                    return Err(VerifyError::BadContext {
                        program: p,
                        at: at(),
                        message: "reads `value` outside an `expr(…)` technique",
                    });
                }
                for (pc, op) in program.code.iter().enumerate() {
                    if let Op::Column(c) = op {
                        check_index(Table::Column, *c, ncols, &|| {
                            format!("{}, program {p}, op {pc}", at())
                        })?;
                        if let Some(read) = self
                            .columns_read
                            .get_mut(source as usize)
                            .and_then(|r| r.get_mut(*c as usize))
                        {
                            *read = true;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "each index is bounds-checked just before it is used (`check_index`, `parent < ci`, or an enumeration of the same table)"
    )]
    fn use_technique(
        &mut self,
        t: u32,
        source: u32,
        ncols: usize,
        at: &dyn Fn() -> String,
    ) -> Result<(), VerifyError> {
        check_index(Table::Technique, t, self.b.techniques.len(), at)?;
        if !self.seen_tech.insert((t, source)) {
            return Ok(());
        }
        match &self.b.techniques[t as usize] {
            TechniquePlan::Builtin(_) => Ok(()),
            TechniquePlan::Expr { program } => {
                self.use_program(*program, Ctx::Value(source), ncols, at)
            }
            TechniquePlan::ByLevel { entries } => {
                for (_, e) in entries.clone() {
                    self.use_technique(e, source, ncols, at)?;
                }
                Ok(())
            }
        }
    }

    fn body(
        &mut self,
        body: &Body,
        source: u32,
        ncols: usize,
        at: &dyn Fn() -> String,
    ) -> Result<(), VerifyError> {
        let whos = body
            .clauses
            .iter()
            .filter(|(a, _)| matches!(a, Audience::Who(_)))
            .count();
        let shape_ok = if whos == 0 {
            body.clauses.len() == 1 && body.otherwise.is_none()
        } else {
            whos == body.clauses.len() && body.otherwise.is_some()
        };
        if !shape_ok {
            return Err(structure(
                at(),
                "a rule's audience must be one `everyone` or `except` clause, or `who` clauses \
                 closed by an `otherwise`",
            ));
        }
        for (ci, (aud, tech)) in body.clauses.iter().enumerate() {
            let at = || format!("{}, clause {ci}", at());
            match aud {
                Audience::Everyone => {}
                Audience::Except(p) | Audience::Who(p) => {
                    self.use_program(*p, Ctx::Row(source), ncols, &at)?
                }
            }
            self.use_technique(*tech, source, ncols, &at)?;
        }
        if let Some(Some(t)) = body.otherwise {
            self.use_technique(t, source, ncols, &|| format!("{}, otherwise", at()))?;
        }
        Ok(())
    }

    fn filter(
        &mut self,
        f: &RowFilter,
        s: &SourcePlan,
        source: u32,
        at: &dyn Fn() -> String,
    ) -> Result<(), VerifyError> {
        let ncols = s.columns.len();
        match f {
            RowFilter::Where(p) => self.use_program(*p, Ctx::Row(source), ncols, at),
            RowFilter::NewerThan(d)
            | RowFilter::OlderThan(d)
            | RowFilter::NewerThanMonths(d)
            | RowFilter::OlderThanMonths(d) => {
                if s.event_time_column.is_none() {
                    return Err(structure(
                        at(),
                        "a time filter on a source without event_time",
                    ));
                }
                if *d < 0 {
                    return Err(structure(at(), "a negative duration"));
                }
                Ok(())
            }
            RowFilter::Sample(p) => {
                if s.key_column.is_none() {
                    return Err(structure(at(), "a sample on a source without a key column"));
                }
                if !(p.is_finite() && (0.0..=100.0).contains(p)) {
                    return Err(structure(at(), "a sample percentage outside 0..=100"));
                }
                Ok(())
            }
            RowFilter::Never => Ok(()),
            RowFilter::Linked { column, parent } => {
                let top = s
                    .columns
                    .get(*column as usize)
                    .is_some_and(|c| c.parent.is_none() && c.derived.is_none());
                if !top {
                    return Err(structure(
                        at(),
                        "a linked filter on a column that is not a stored top-level column",
                    ));
                }
                if self
                    .b
                    .sources
                    .get(*parent as usize)
                    .is_none_or(|p| p.key_column.is_none())
                {
                    return Err(structure(
                        at(),
                        "a linked filter to a source that does not exist or has no key",
                    ));
                }
                if let Some(read) = self
                    .columns_read
                    .get_mut(source as usize)
                    .and_then(|r| r.get_mut(*column as usize))
                {
                    *read = true;
                }
                Ok(())
            }
        }
    }
}

/// Orders the derived columns of `s` so that each comes after the derived columns it reads
/// (Kahn's algorithm; no recursion).
#[expect(
    clippy::indexing_slicing,
    reason = "each index is bounds-checked just before it is used (`check_index`, `parent < ci`, or an enumeration of the same table)"
)]
fn derived_order(s: &SourcePlan) -> Result<Vec<u32>, VerifyError> {
    let derived: Vec<u32> = s
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.derived.is_some())
        .map(|(i, _)| i as u32)
        .collect();
    let is_derived = |i: u32| {
        s.columns
            .get(i as usize)
            .is_some_and(|c| c.derived.is_some())
    };
    let mut pending: Vec<(u32, usize)> = derived
        .iter()
        .map(|&d| {
            let n = s.columns[d as usize]
                .derived
                .as_ref()
                .map_or(0, |p| p.reads.iter().filter(|r| is_derived(**r)).count());
            (d, n)
        })
        .collect();
    let mut order = Vec::with_capacity(derived.len());
    let mut done = vec![false; s.columns.len()];
    while order.len() < derived.len() {
        let before = order.len();
        for (d, _) in pending.iter_mut() {
            if done[*d as usize] {
                continue;
            }
            let ready = s.columns[*d as usize]
                .derived
                .as_ref()
                .is_some_and(|p| p.reads.iter().all(|r| !is_derived(*r) || done[*r as usize]));
            if ready {
                done[*d as usize] = true;
                order.push(*d);
            }
        }
        if order.len() == before {
            let stuck = pending
                .iter()
                .find(|(d, _)| !done[*d as usize])
                .map(|(d, _)| s.columns[*d as usize].name.clone())
                .unwrap_or_default();
            return Err(VerifyError::DerivedCycle {
                source: s.name.clone(),
                column: stuck,
            });
        }
    }
    Ok(order)
}
