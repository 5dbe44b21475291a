//! Hover: what the name, technique or keyword under the cursor is.

use super::effective::{effective_summary, rule_summary};
use super::index::Symbol;
use super::text::{clamp, one_line};
use super::Ide;
use crate::conflicts::{why_beats, RuleRef};
use crate::model::{Hierarchy, Model, Target};
use crate::source_map::{FileId, Loc};
use pol_grammar::ast;
use pol_grammar::lexer::{lex, Tok};
use pol_grammar::Span;

/// Hover text (markdown) and the span it describes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Hover {
    pub loc: Loc,
    pub markdown: String,
}

const LIST_MAX: usize = 12;

/// `a`, `b`, `c` and N more.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    let shown: Vec<&str> = items.iter().take(LIST_MAX).map(|s| s.as_str()).collect();
    let mut s = shown.join(", ");
    if items.len() > LIST_MAX {
        s.push_str(&format!(" and {} more", items.len() - LIST_MAX));
    }
    s
}

fn code(s: &str) -> String {
    format!("`{s}`")
}

/// A metadata value as it is written.
fn meta_text(c: &crate::model::Const) -> String {
    use crate::model::Const;
    match c {
        Const::Text(t) => format!("{t:?}"),
        Const::Date(d) => format!("date(\"{d}\")"),
        Const::Timestamp(t) => format!("timestamp(\"{}\")", t.to_rfc3339()),
        Const::Int(i) => i.to_string(),
        Const::Decimal(x) => x.to_string(),
        Const::Bool(b) => b.to_string(),
        Const::Null => "null".to_string(),
        Const::Duration(s) => format!("{s}s"),
        Const::Months(m) => format!("{m}mo"),
    }
}

pub(super) fn hover(ide: &Ide, file: FileId, offset: usize) -> Option<Hover> {
    let occurrences = ide.index.at(file, offset);
    if let Some(first) = occurrences.first() {
        let mut parts = Vec::new();
        for o in &occurrences {
            parts.push(symbol_hover(ide, &o.symbol));
        }
        return Some(Hover {
            loc: first.loc,
            markdown: parts.join("\n\n---\n\n"),
        });
    }
    if let Some(h) = super::proof_hover::guarantee_hover(ide, file, offset) {
        return Some(h);
    }
    if let Some(h) = super::test_hover::expectation_hover(ide, file, offset) {
        return Some(h);
    }
    let text = ide.text(file);
    let offset = clamp(text, offset);
    let (span, tok) = token_at(text, offset)?;
    let loc = Loc::new(file, span);
    if let Tok::Ident(name) = &tok {
        if let Some(ast) = ide.ast(file) {
            if technique_spans(ast).contains(&span) {
                return technique_hover(name).map(|markdown| Hover { loc, markdown });
            }
            if function_spans(ast).contains(&span) {
                return function_hover(name).map(|markdown| Hover { loc, markdown });
            }
        }
        return None;
    }
    if tok.is_keyword() {
        let word = tok.text();
        // A technique spelled like a keyword (`null`) in a technique position.
        if let Some(ast) = ide.ast(file) {
            if technique_spans(ast).contains(&span) {
                return technique_hover(word).map(|markdown| Hover { loc, markdown });
            }
        }
        return super::keywords::doc(word).map(|d| Hover {
            loc,
            markdown: format!("**keyword** `{word}`\n\n{d}"),
        });
    }
    None
}

/// The token touching an offset (the one starting at it wins over the one ending at it).
pub(super) fn token_at(text: &str, offset: usize) -> Option<(Span, Tok<'_>)> {
    let lexed = lex(text);
    let mut found = None;
    for (l, t, r) in lexed.tokens {
        if l <= offset && offset <= r {
            let starts_here = l == offset;
            found = Some((Span::new(l, r), t));
            if starts_here {
                break;
            }
        }
        if l > offset {
            break;
        }
    }
    found
}

/// The spans of technique names written in a file (`hash`, `show_last` in `show_last(4)`).
pub(super) fn technique_spans(file: &ast::SourceFile) -> Vec<Span> {
    fn tech(t: &ast::Technique, out: &mut Vec<Span>) {
        match &t.kind {
            ast::TechniqueKind::Call { name, .. } => out.push(name.span),
            ast::TechniqueKind::ByLevel { entries } => {
                for (_, e) in entries {
                    tech(e, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for d in &file.decls {
        match d {
            ast::Decl::Policy(p) => {
                for r in &p.rules {
                    if let ast::Rule::Mask(m) = r {
                        for c in &m.clauses {
                            tech(&c.technique, &mut out);
                        }
                        if let Some(t) = m.otherwise.as_ref().and_then(|o| o.technique.as_ref()) {
                            tech(t, &mut out);
                        }
                    }
                }
            }
            ast::Decl::Source(s) => {
                fn cols(cs: &[ast::ColumnDecl], out: &mut Vec<Span>) {
                    for c in cs {
                        if let ast::ColumnKind::Stored { ty, modifiers } = &c.kind {
                            for m in modifiers {
                                if let ast::Modifier::Accessible {
                                    otherwise: Some(t), ..
                                } = m
                                {
                                    tech(t, out);
                                }
                            }
                            if let ast::TypeExpr::Struct { fields, .. } = ty {
                                cols(fields, out);
                            }
                        }
                    }
                }
                cols(&s.columns, &mut out);
            }
            _ => {}
        }
    }
    out
}

/// The spans of built-in function names called in a file.
pub(super) fn function_spans(file: &ast::SourceFile) -> Vec<Span> {
    let mut out = Vec::new();
    let mut visit = |e: &ast::Expr| {
        e.walk(&mut |x| {
            if let ast::ExprKind::Call(name, _) = &x.kind {
                out.push(name.span);
            }
        })
    };
    for d in &file.decls {
        each_expr(d, &mut visit);
    }
    out
}

/// Calls `f` on every top-level expression of a declaration.
pub(super) fn each_expr(d: &ast::Decl, f: &mut dyn FnMut(&ast::Expr)) {
    fn tech(t: &ast::Technique, f: &mut dyn FnMut(&ast::Expr)) {
        match &t.kind {
            ast::TechniqueKind::Call { args, .. } => args.iter().for_each(|a| f(&a.value)),
            ast::TechniqueKind::ByLevel { entries } => entries.iter().for_each(|(_, t)| tech(t, f)),
        }
    }
    fn audience(a: &ast::Audience, f: &mut dyn FnMut(&ast::Expr)) {
        if let ast::AudienceKind::Except(e) | ast::AudienceKind::Who(e) = &a.kind {
            f(e)
        }
    }
    fn approval(a: Option<&ast::Approval>, f: &mut dyn FnMut(&ast::Expr)) {
        if let Some(by) = a.and_then(|a| a.by.as_ref()) {
            f(by)
        }
    }
    fn filter(r: &ast::RowFilter, f: &mut dyn FnMut(&ast::Expr)) {
        if let ast::RowFilterKind::Where(e) = &r.kind {
            f(e)
        }
    }
    fn cols(cs: &[ast::ColumnDecl], f: &mut dyn FnMut(&ast::Expr)) {
        for c in cs {
            match &c.kind {
                ast::ColumnKind::Derived { expr } => f(expr),
                ast::ColumnKind::Stored { ty, modifiers } => {
                    for m in modifiers {
                        match m {
                            ast::Modifier::Accessible {
                                cond, otherwise, ..
                            } => {
                                f(cond);
                                if let Some(t) = otherwise {
                                    tech(t, f);
                                }
                            }
                            ast::Modifier::Visible { cond, .. } => f(cond),
                            _ => {}
                        }
                    }
                    if let ast::TypeExpr::Struct { fields, .. } = ty {
                        cols(fields, f);
                    }
                }
            }
        }
    }
    match d {
        ast::Decl::Source(s) => cols(&s.columns, f),
        ast::Decl::Policy(p) => {
            for r in &p.rules {
                match r {
                    ast::Rule::Mask(m) => {
                        if let Some(w) = &m.where_ {
                            f(w);
                        }
                        for c in &m.clauses {
                            tech(&c.technique, f);
                            audience(&c.audience, f);
                        }
                        if let Some(t) = m.otherwise.as_ref().and_then(|o| o.technique.as_ref()) {
                            tech(t, f);
                        }
                    }
                    ast::Rule::Row(r) => {
                        filter(&r.filter, f);
                        match &r.audience.kind {
                            ast::RowAudienceKind::Everyone => {}
                            ast::RowAudienceKind::Except(e) => f(e),
                            ast::RowAudienceKind::Who { cond, otherwise } => {
                                f(cond);
                                if let Some(ast::RowOtherwise::Filter(x)) = otherwise {
                                    filter(x, f);
                                }
                            }
                        }
                    }
                    ast::Rule::TemporaryUnmask(t) => {
                        audience(&t.audience, f);
                        approval(t.approval.as_ref(), f);
                    }
                    ast::Rule::Detokenize(d) => {
                        audience(&d.audience, f);
                        approval(d.approval.as_ref(), f);
                    }
                    ast::Rule::KAnonymity(_) | ast::Rule::Error(_) => {}
                }
            }
        }
        ast::Decl::Exempt(e) => f(&e.cond),
        ast::Decl::Settings(s) => s.entries.iter().for_each(|e| f(&e.value)),
        ast::Decl::Test(t) => {
            for s in &t.stmts {
                match s {
                    ast::TestStmt::GivenUser { record, .. }
                    | ast::TestStmt::GivenRow { record, .. }
                    | ast::TestStmt::ExpectRow { record, .. } => f(record),
                    ast::TestStmt::GivenNow { value, .. } => f(value),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The documentation of a technique from the catalog.
pub fn technique_hover(name: &str) -> Option<String> {
    let t = crate::techniques::info(name)?;
    let params: Vec<String> = t
        .params
        .iter()
        .map(|p| {
            if p.required {
                p.name.to_string()
            } else {
                format!("[{}]", p.name)
            }
        })
        .collect();
    let signature = if params.is_empty() {
        t.name.to_string()
    } else {
        format!("{}({})", t.name, params.join(", "))
    };
    Some(format!(
        "**technique** `{signature}`\n\n{}.\n\n*Applies to:* {}\n\n*Example:* {}",
        capitalize(t.summary),
        t.applies,
        t.example
    ))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn function_hover(name: &str) -> Option<String> {
    let doc = function_doc(name)?;
    Some(format!("**function** `{name}`\n\n{doc}"))
}

/// The one-line documentation of a built-in function (hover and completion).
pub(super) fn function_doc(name: &str) -> Option<&'static str> {
    Some(match name {
        "lower" => "`lower(text) -> text`: lowercase.",
        "upper" => "`upper(text) -> text`: uppercase.",
        "len" => "`len(text | list | set) -> int`: length in characters or items.",
        "concat" => "`concat(a, b, …) -> text`: the texts joined.",
        "starts_with" => "`starts_with(text, prefix) -> bool`.",
        "ends_with" => "`ends_with(text, suffix) -> bool`.",
        "now" => "`now() -> timestamp`: the evaluation clock.",
        "today" => "`today() -> date`: the evaluation clock's date.",
        "age" => "`age(date | timestamp) -> int`: whole years until the evaluation clock.",
        "has" => "`has(x) -> bool`: x is not null (use it instead of comparing with `null`).",
        "replace" => "`replace(text, from, to) -> text`: every occurrence of `from` replaced (an empty `from` changes nothing).",
        "regex_replace" => "`regex_replace(text, r\"pattern\", \"replacement\") -> text`: every match replaced; `$1`, `${name}` expand groups.",
        "substring" => "`substring(text, start[, len]) -> text`: the characters from position `start` (the first is 1), `len` of them; positions outside the text are left out.",
        "length" => "`length(text) -> int`: the number of characters (Unicode scalar values).",
        "lpad" => "`lpad(text, n, fill) -> text`: filled on the left with `fill` to `n` characters, or cut to its first `n` (n at most 10000).",
        "rpad" => "`rpad(text, n, fill) -> text`: filled on the right with `fill` to `n` characters, or cut to its first `n` (n at most 10000).",
        "coalesce" => "`coalesce(a, b, …)`: the first argument that is not null (nor unknown); null if none.",
        "date" => "`date(\"YYYY-MM-DD\")`: a date literal.",
        "timestamp" => "`timestamp(\"…Z\")`: a timestamp literal (RFC 3339).",
        _ => return None,
    })
}

#[expect(
    clippy::indexing_slicing,
    reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
)]
fn hierarchy_lines(h: &Hierarchy, node: usize, out: &mut Vec<String>) {
    // The ancestors, root first; a chain longer than 8 shows its root and its last 7 (each
    // path is spelled, so a hierarchy thousands of levels deep would otherwise cost its square).
    let mut ids = vec![node];
    let mut p = h.nodes[node].parent;
    while let Some(id) = p {
        ids.push(id);
        p = h.nodes[id].parent;
    }
    ids.reverse();
    let shown: Vec<Option<usize>> = if ids.len() > 8 {
        let mut v = vec![Some(ids[0]), None];
        v.extend(ids[ids.len() - 7..].iter().map(|&i| Some(i)));
        v
    } else {
        ids.iter().map(|&i| Some(i)).collect()
    };
    let chain: Vec<String> = shown
        .iter()
        .map(|i| match i {
            Some(i) => code(&h.path(*i)),
            None => "…".to_string(),
        })
        .collect();
    out.push(format!("*Hierarchy:* {}", chain.join(" › ")));
    let children: Vec<String> = h
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.parent == Some(node))
        .map(|(id, _)| code(&h.path(id)))
        .collect();
    if !children.is_empty() {
        out.push(format!("*Below:* {}", list(&children)));
    }
}

fn header_doc(out: &mut Vec<String>, description: Option<&String>, doc: Option<&String>) {
    if let Some(d) = description {
        out.push(format!("\"{d}\""));
    }
    if let Some(d) = doc {
        out.push(d.clone());
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn symbol_hover(ide: &Ide, symbol: &Symbol) -> String {
    let model = &ide.analysis.model;
    match symbol {
        Symbol::Tag(path) => tag_hover(ide, path),
        Symbol::Purpose(path) => {
            let mut out = vec![format!("**purpose** `{path}`")];
            if let Some(id) = model.purposes.get(path) {
                let n = &model.purposes.nodes[id];
                header_doc(&mut out, n.description.as_ref(), n.doc.as_ref());
                hierarchy_lines(&model.purposes, id, &mut out);
            } else {
                out.push("*Not declared.*".to_string());
            }
            out.join("\n\n")
        }
        Symbol::Source(name) => source_hover(ide, name),
        Symbol::Column { source, column } => column_hover(ide, source, column),
        Symbol::SubjectField(name) => match model.subject_field(name) {
            Some(i) => {
                let f = &model.subject[i];
                let mut out = vec![format!("**subject field** `user.{}`: `{}`", f.name, f.ty)];
                out.push(if f.loc.is_some() {
                    "Declared in `subject { … }`.".to_string()
                } else {
                    "Built in.".to_string()
                });
                if let Some(d) = &f.doc {
                    out.push(d.clone());
                }
                out.join("\n\n")
            }
            None => format!("**subject field** `user.{name}`\n\n*Not declared.*"),
        },
        Symbol::Policy(name) => policy_hover(ide, name),
        Symbol::Table(name) => table_hover(ide, name),
        Symbol::Level(name) => {
            let levels: Vec<String> = model.levels.iter().map(|l| code(&l.name)).collect();
            format!(
                "**masking level** `{name}`\n\n*Levels, highest first:* {}",
                if levels.is_empty() {
                    "none declared".to_string()
                } else {
                    levels.join(" > ")
                }
            )
        }
    }
}

/// A lookup table: its type, where its values come from and how many there are.
fn table_hover(ide: &Ide, name: &str) -> String {
    let model = &ide.analysis.model;
    let Some(t) = model.table(name).and_then(|id| model.tables.get(id)) else {
        return format!("**lookup table** `{name}`\n\n*Not declared.*");
    };
    let mut out = vec![format!("**lookup table** `{name}`: `{}`", t.kind.name())];
    out.push(match &t.origin {
        crate::model::TableOrigin::File { path, values } => {
            let distinct = pol_runtime::lookup::TableSet::new(values).len();
            format!(
                "From `{path}`: {distinct} distinct value{} ({} read). Built into the bundle.",
                if distinct == 1 { "" } else { "s" },
                values.len()
            )
        }
        crate::model::TableOrigin::Supplied => {
            "Supplied by the application at run time (`Engine::set_table`); until it is, \
             `x in table` is unknown and masks."
                .to_string()
        }
    });
    if let Some(d) = &t.doc {
        out.push(d.clone());
    }
    out.join("\n\n")
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn tag_hover(ide: &Ide, path: &str) -> String {
    let model = &ide.analysis.model;
    let Some(id) = model.tags.get(path) else {
        return format!("**tag** `{path}`\n\n*Not declared.*");
    };
    let n = &model.tags.nodes[id];
    let mut out = vec![format!(
        "**tag** `{path}`{}",
        if n.sensitive { " — sensitive" } else { "" }
    )];
    header_doc(&mut out, n.description.as_ref(), n.doc.as_ref());
    hierarchy_lines(&model.tags, id, &mut out);
    if let Some(s) = model.tags.sensitive_ancestor(id) {
        if s != id {
            out.push(format!(
                "Sensitive through `{}`: its columns must be covered by a mask rule.",
                model.tags.path(s)
            ));
        }
    }
    let mut columns = Vec::new();
    for s in model.sources.iter() {
        for c in &s.columns {
            if let Some(t) = c.tags.iter().find(|&&t| model.tags.is_under(t, id)) {
                let via = if *t == id {
                    String::new()
                } else {
                    format!(" (as `{}`)", model.tags.path(*t))
                };
                columns.push(format!("`{}.{}`{via}", s.name, c.name));
            }
        }
    }
    out.push(format!(
        "*Columns it marks ({}):* {}",
        columns.len(),
        list(&columns)
    ));
    let sources: Vec<String> = model
        .sources
        .iter()
        .filter(|s| s.tags.iter().any(|&t| model.tags.is_under(t, id)))
        .map(|s| code(&s.name))
        .collect();
    if !sources.is_empty() {
        out.push(format!(
            "*Sources tagged ({}):* {}",
            sources.len(),
            list(&sources)
        ));
    }
    let mut direct = Vec::new();
    let mut inherited = Vec::new();
    for r in &model.mask_rules {
        if let Target::Tagged(ts) = &r.target {
            let name = code(&model.policies[r.policy].name);
            if ts.contains(&id) {
                if !direct.contains(&name) {
                    direct.push(name);
                }
            } else if let Some(a) = ts.iter().find(|&&t| model.tags.is_under(id, t)) {
                let s = format!("{name} (through `{}`)", model.tags.path(*a));
                if !inherited.contains(&s) {
                    inherited.push(s);
                }
            }
        }
    }
    out.push(format!("*Policies targeting it:* {}", list(&direct)));
    if !inherited.is_empty() {
        out.push(format!(
            "*Policies targeting a tag above it:* {}",
            list(&inherited)
        ));
    }
    out.join("\n\n")
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn source_hover(ide: &Ide, name: &str) -> String {
    let model = &ide.analysis.model;
    let Some(sid) = model.source(name) else {
        return format!("**source** `{name}`\n\n*Not declared.*");
    };
    let s = &model.sources[sid];
    let mut out = vec![format!("**source** `{name}`")];
    if let Some(d) = &s.doc {
        out.push(d.clone());
    }
    if !s.tags.is_empty() {
        let tags: Vec<String> = s.tags.iter().map(|&t| code(&model.tags.path(t))).collect();
        out.push(format!("*Tagged:* {}", tags.join(", ")));
    }
    let cols: Vec<String> = s
        .top_columns()
        .map(|(_, c)| format!("`{}: {}`", c.name, c.ty))
        .collect();
    out.push(format!("*Columns ({}):* {}", cols.len(), list(&cols)));
    if let Some(k) = s.key {
        out.push(format!("*Key:* `{}`", s.columns[k].name));
    }
    if let Some(l) = &s.level {
        out.push(format!("*Masking level:* `{}`", l.default));
    }
    if !s.meta.is_empty() {
        let entries: Vec<String> = s
            .meta
            .iter()
            .map(|m| code(&format!("{}: {}", m.key, meta_text(&m.value))))
            .collect();
        out.push(format!("*Metadata:* {}", entries.join(", ")));
    }
    if let Some(req) = model.k_anonymity_of(sid) {
        let cols: Vec<String> = req
            .columns
            .iter()
            .map(|&c| code(&s.columns[c].name))
            .collect();
        out.push(format!(
            "*k-anonymity:* every batch shown is {}-anonymous over {}",
            req.k,
            cols.join(", ")
        ));
    }
    let policies: Vec<String> = model
        .policies
        .iter()
        .filter(|p| p.scope.sources.contains(&sid))
        .map(|p| code(&p.name))
        .collect();
    out.push(format!(
        "*Policies in scope ({}):* {}",
        policies.len(),
        list(&policies)
    ));
    out.join("\n\n")
}

#[expect(
    clippy::indexing_slicing,
    reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
)]
fn column_hover(ide: &Ide, source: &str, column: &str) -> String {
    let model: &Model = &ide.analysis.model;
    let Some(sid) = model.source(source) else {
        return format!("**column** `{source}.{column}`\n\n*Not declared.*");
    };
    let s = &model.sources[sid];
    let Some(cid) = s.column(column) else {
        return format!("**column** `{source}.{column}`\n\n*Not declared.*");
    };
    let c = &s.columns[cid];
    let mut out = vec![format!("**column** `{source}.{column}`: `{}`", c.ty)];
    let mut facts = Vec::new();
    if c.key {
        facts.push("key".to_string());
    }
    if c.event_time {
        facts.push("event time".to_string());
    }
    if let Some(l) = s.links.iter().find(|l| l.column == cid) {
        let parent = &model.sources[l.parent];
        let key = parent.key.map_or("?", |k| parent.columns[k].name.as_str());
        facts.push(format!("links `{}.{key}`", parent.name));
    }
    if !c.tags.is_empty() {
        let tags: Vec<String> = c.tags.iter().map(|&t| code(&model.tags.path(t))).collect();
        facts.push(format!("tagged {}", tags.join(", ")));
    }
    if !facts.is_empty() {
        out.push(facts.join(" · "));
    }
    if let Some(d) = &c.doc {
        out.push(d.clone());
    }
    if let Some(d) = &c.derived {
        out.push(format!(
            "*Derived:* `{}`",
            one_line(ide.files.snippet(Loc::new(c.decl.file, d.expr.span)), 60)
        ));
    }
    if let Some(v) = &c.visible {
        out.push(format!(
            "*Visible if:* `{}`",
            one_line(ide.files.snippet(Loc::new(c.decl.file, v.span)), 60)
        ));
    }
    out.push(format!(
        "*Effective rule:* {}",
        effective_summary(model, &ide.analysis.resolution, &ide.files, sid, cid)
    ));
    if let Some(summary) = super::proof_hover::clear_summary(ide, source, column) {
        out.push(summary);
    }
    let candidates = ide.analysis.resolution.candidates(sid, cid);
    if !candidates.is_empty() {
        let mut lines = vec!["*Rules in resolution order:*".to_string()];
        for (i, cand) in candidates.iter().enumerate() {
            let names: Vec<String> = cand
                .rules
                .iter()
                .map(|r| code(&crate::conflicts::rule_name(model, *r)))
                .collect();
            let body = cand
                .rules
                .first()
                .map(|r| rule_summary(model, &ide.files, *r))
                .unwrap_or_default();
            let mut line = format!(
                "{}. {} — {} ({})",
                i + 1,
                names.join(" + "),
                body,
                cand.specificity.describe()
            );
            if let Some(RuleRef::Mask(id)) = cand.rules.first() {
                if let Some(w) = &model.mask_rules[*id].where_ {
                    line.push_str(&format!(
                        ", where `{}`",
                        one_line(
                            ide.files
                                .snippet(Loc::new(model.mask_rules[*id].loc.file, w.span)),
                            50
                        )
                    ));
                }
            }
            if i > 0 {
                line.push_str(&format!(
                    "; after #{i}: {}",
                    why_beats(model, &candidates[i - 1], cand)
                ));
            }
            lines.push(line);
        }
        out.push(lines.join("\n"));
    }
    out.join("\n\n")
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn policy_hover(ide: &Ide, name: &str) -> String {
    let model = &ide.analysis.model;
    let Some(pid) = model.policies.iter().position(|p| p.name == name) else {
        return format!("**policy** `{name}`");
    };
    let p = &model.policies[pid];
    let mut out = vec![format!(
        "**policy** `{name}`{}",
        if p.staged {
            " — staged (not enforced)"
        } else {
            ""
        }
    )];
    if let Some(r) = &p.rationale {
        out.push(format!("\"{r}\""));
    }
    if let Some(d) = &p.doc {
        out.push(d.clone());
    }
    let scope = match p.scope.loc {
        Some(l) => one_line(ide.files.snippet(l), 60),
        None => "on all sources".to_string(),
    };
    out.push(format!(
        "*Scope:* `{scope}` ({} sources)",
        p.scope.sources.len()
    ));
    if matches!(p.scope.kind, crate::model::ScopeKind::SourcesWhere) {
        // Decided by the checker on the sources' metadata: say which they are.
        let names: Vec<String> = p
            .scope
            .sources
            .iter()
            .map(|&s| code(&model.sources[s].name))
            .collect();
        out.push(format!("*Sources covered:* {}", list(&names)));
    }
    let mut rules = Vec::new();
    let mut decides = 0usize;
    let mut covered = std::collections::BTreeSet::new();
    for (id, r) in model.mask_rules.iter().enumerate() {
        if r.policy != pid {
            continue;
        }
        rules.push(format!(
            "- `{}`: {}",
            one_line(ide.files.snippet(r.target_loc), 50),
            rule_summary(model, &ide.files, RuleRef::Mask(id))
        ));
        for m in &r.matches {
            covered.insert((m.source, m.column));
            let first = ide
                .analysis
                .resolution
                .candidates(m.source, m.column)
                .first();
            if first.is_some_and(|c| c.rules.contains(&RuleRef::Mask(id))) {
                decides += 1;
            }
        }
    }
    for r in model.row_rules.iter().filter(|r| r.policy == pid) {
        rules.push(format!("- `{}`", one_line(ide.files.snippet(r.loc), 70)));
    }
    let mut grant_locs = Vec::new();
    for g in model.grants.iter().filter(|g| g.policy == pid) {
        // A detokenize list is one grant per column, all at the rule's place.
        if !grant_locs.contains(&g.loc) {
            grant_locs.push(g.loc);
            rules.push(format!("- `{}`", one_line(ide.files.snippet(g.loc), 70)));
        }
    }
    for k in model.k_anonymity.iter().filter(|k| k.policy == pid) {
        rules.push(format!("- `{}`", one_line(ide.files.snippet(k.loc), 70)));
    }
    if !rules.is_empty() {
        out.push(format!("*Rules:*\n{}", rules.join("\n")));
    }
    if model.mask_rules.iter().any(|r| r.policy == pid) {
        out.push(format!(
            "*Covers {} column(s); first in resolution order on {decides} of them.*",
            covered.len()
        ));
    }
    out.join("\n\n")
}
