//! Completion by context. The text before the cursor is read as tokens (the file may not parse
//! while it is being typed): the words just before the cursor say what is expected.

use super::text::clamp;
use super::Ide;
use crate::model::{Model, SourceId, Ty};
use crate::source_map::FileId;
use pol_grammar::lexer::{lex, Tok, KEYWORDS};

/// What a completion proposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum CompletionKind {
    Keyword,
    Snippet,
    Tag,
    Purpose,
    Source,
    Column,
    SubjectField,
    Technique,
    Type,
    /// A built-in function (`substring`, `coalesce`…), offered where an expression may start.
    Function,
    /// A lookup table (after `in table`).
    Table,
}

/// One proposal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    /// A short detail (a type, a full path, what a technique applies to).
    pub detail: Option<String>,
    /// Longer documentation in markdown.
    pub documentation: Option<String>,
    /// The text to insert when it differs from the label; a snippet with `${1:…}` placeholders
    /// when `is_snippet`.
    pub insert_text: Option<String>,
    pub is_snippet: bool,
}

impl CompletionItem {
    fn new(label: impl Into<String>, kind: CompletionKind) -> CompletionItem {
        CompletionItem {
            label: label.into(),
            kind,
            detail: None,
            documentation: None,
            insert_text: None,
            is_snippet: false,
        }
    }

    fn detail(mut self, d: impl Into<String>) -> CompletionItem {
        self.detail = Some(d.into());
        self
    }
}

type Toks<'a> = Vec<Tok<'a>>;

/// Can this token be a name (identifiers, and keywords after a dot)?
fn name_of<'a>(t: &Tok<'a>) -> Option<String> {
    match t {
        Tok::Ident(s) | Tok::Quoted(s) => Some(s.to_string()),
        t if t.is_keyword() => Some(t.text().to_string()),
        _ => None,
    }
}

pub(super) fn completions(ide: &Ide, file: FileId, offset: usize) -> Vec<CompletionItem> {
    completions_in(ide, ide.text(file), offset)
}

/// Completions at an offset of `text`: only the text before the cursor and the analysed model are
/// read, so `text` may be newer than the analysis.
pub(super) fn completions_in(ide: &Ide, text: &str, offset: usize) -> Vec<CompletionItem> {
    let offset = clamp(text, offset);
    let lexed = lex(&text[..offset]);
    let mut toks: Toks = Vec::with_capacity(lexed.tokens.len());
    let mut prefix = String::new();
    let n = lexed.tokens.len();
    for (i, (_, t, r)) in lexed.tokens.into_iter().enumerate() {
        // The word being typed, right at the cursor, is the prefix (not context).
        if i + 1 == n && r == offset {
            if let Some(w) = match &t {
                Tok::Ident(s) => Some(s.to_string()),
                t if t.is_keyword() => Some(t.text().to_string()),
                _ => None,
            } {
                prefix = w;
                continue;
            }
        }
        toks.push(t);
    }
    let model = &ide.analysis.model;
    let items = context_items(model, &toks);
    let lower = prefix.to_lowercase();
    items
        .into_iter()
        .filter(|i| i.label.to_lowercase().starts_with(&lower))
        .collect()
}

/// The dotted path typed just before the cursor (`PII.` → `["PII"]`) and the index of the token
/// before it.
#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn path_before(toks: &Toks) -> (Vec<String>, usize, bool) {
    let mut i = toks.len();
    let mut segs = Vec::new();
    let mut dotted = false;
    while i > 0 && toks[i - 1] == Tok::Dot {
        dotted = true;
        if i < 2 || matches!(toks[i - 2], Tok::KwUser | Tok::KwRow | Tok::KwSource) {
            i -= 1;
            break;
        }
        match name_of(&toks[i - 2]) {
            Some(n) => {
                segs.push(n);
                i -= 2;
            }
            None => {
                i -= 1;
                break;
            }
        }
    }
    segs.reverse();
    (segs, i, dotted)
}

#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn context_items(model: &Model, toks: &Toks) -> Vec<CompletionItem> {
    let (segs, anchor_end, dotted) = path_before(toks);
    let anchor = anchor_end.checked_sub(1).map(|i| &toks[i]);
    let before_anchor = anchor_end.checked_sub(2).map(|i| &toks[i]);
    match anchor {
        Some(Tok::KwUser) if dotted && segs.is_empty() => return subject_fields(model),
        Some(Tok::KwRow) if dotted => return row_columns(model, toks, &segs),
        Some(Tok::KwColumn) => return column_paths(model, &segs),
        // `links P.KEY` (linked visibility): a source, then its columns.
        Some(Tok::KwLinks) => return column_paths(model, &segs),
        Some(Tok::KwShown) if matches!(before_anchor, Some(Tok::KwTo)) && !dotted => {
            return sources(model)
        }
        Some(Tok::KwTagged) => return hierarchy(&model.tags, &segs, CompletionKind::Tag),
        Some(Tok::Comma) if in_tag_list(&toks[..anchor_end]) => {
            return hierarchy(&model.tags, &segs, CompletionKind::Tag)
        }
        Some(Tok::KwUnder) => return hierarchy(&model.purposes, &segs, CompletionKind::Purpose),
        Some(Tok::KwSource) if matches!(before_anchor, Some(Tok::KwOn)) && !dotted => {
            return sources(model)
        }
        Some(Tok::KwRow) if matches!(before_anchor, Some(Tok::KwGiven)) => return sources(model),
        // `on sources where source.` : the metadata keys sources declare.
        Some(Tok::KwSource) if dotted && segs.is_empty() => return meta_keys(model),
        Some(Tok::KwUsing) if !dotted => return techniques(model, toks),
        Some(Tok::KwTable) if matches!(before_anchor, Some(Tok::KwIn)) && !dotted => {
            return lookup_tables(model)
        }
        Some(Tok::Label(_))
            if !dotted && in_declaration(toks, &[Tok::KwSource, Tok::KwSubject]) =>
        {
            return types()
        }
        _ => {}
    }
    if dotted {
        return Vec::new();
    }
    keywords(toks)
}

/// Is the comma at the end of `toks` inside a `tagged A, B, …` list?
#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn in_tag_list(toks: &[Tok]) -> bool {
    let mut i = toks.len();
    loop {
        // Skip `, PATH` backwards.
        if i == 0 || toks[i - 1] != Tok::Comma {
            return false;
        }
        i -= 1;
        let start = i;
        while i > 0
            && (name_of(&toks[i - 1]).is_some() && !matches!(toks[i - 1], Tok::KwTagged)
                || toks[i - 1] == Tok::Dot)
        {
            i -= 1;
        }
        if i == start {
            return false;
        }
        if i > 0 && toks[i - 1] == Tok::KwTagged {
            return true;
        }
    }
}

/// The declaration the cursor is in: the index of its keyword at brace depth 0.
#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn enclosing_decl(toks: &Toks) -> Option<usize> {
    let mut depth = 0i32;
    let mut start = None;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::LBrace => depth += 1,
            Tok::RBrace => depth = (depth - 1).max(0),
            t if depth == 0 && t.is_decl_keyword() => {
                let prev = i.checked_sub(1).map(|p| &toks[p]);
                if matches!(prev, None | Some(Tok::Semi) | Some(Tok::RBrace)) {
                    start = Some(i);
                }
            }
            _ => {}
        }
    }
    start
}

#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn in_declaration(toks: &Toks, kinds: &[Tok]) -> bool {
    enclosing_decl(toks).is_some_and(|i| kinds.contains(&toks[i]))
}

fn brace_depth(toks: &Toks) -> i32 {
    toks.iter().fold(0, |d, t| match t {
        Tok::LBrace => d + 1,
        Tok::RBrace => (d - 1).max(0),
        _ => d,
    })
}

/// The sources a `row.` can mean where the cursor is: the enclosing source, or the scope of the
/// enclosing policy (from the model, or `on source S` as typed), else every source.
#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn context_sources(model: &Model, toks: &Toks) -> Vec<SourceId> {
    let all = || (0..model.sources.len()).collect::<Vec<_>>();
    let Some(d) = enclosing_decl(toks) else {
        return all();
    };
    let name = toks.get(d + 1).and_then(name_of);
    match &toks[d] {
        Tok::KwSource => name
            .and_then(|n| model.source(&n))
            .map(|s| vec![s])
            .unwrap_or_else(all),
        Tok::KwPolicy => {
            let header_end = toks[d..]
                .iter()
                .position(|t| *t == Tok::LBrace)
                .map(|p| d + p);
            if let Some(end) = header_end {
                for w in toks[d..end].windows(3) {
                    if w[0] == Tok::KwOn && w[1] == Tok::KwSource {
                        if let Some(s) = name_of(&w[2]).and_then(|n| model.source(&n)) {
                            return vec![s];
                        }
                    }
                }
            }
            name.and_then(|n| model.policies.iter().find(|p| p.name == n))
                .map(|p| p.scope.sources.clone())
                .unwrap_or_else(all)
        }
        _ => all(),
    }
}

fn subject_fields(model: &Model) -> Vec<CompletionItem> {
    model
        .subject
        .iter()
        .map(|f| {
            let mut i =
                CompletionItem::new(&f.name, CompletionKind::SubjectField).detail(f.ty.to_string());
            i.documentation = f.doc.clone();
            i
        })
        .collect()
}

/// Columns after `row.` (or `row.patient.`): the next segment of the context sources' columns.
#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn row_columns(model: &Model, toks: &Toks, segs: &[String]) -> Vec<CompletionItem> {
    let prefix = if segs.is_empty() {
        String::new()
    } else {
        format!("{}.", segs.join("."))
    };
    let mut out: Vec<CompletionItem> = Vec::new();
    for s in context_sources(model, toks) {
        let src = &model.sources[s];
        for c in &src.columns {
            let Some(rest) = c.name.strip_prefix(&prefix) else {
                continue;
            };
            if rest.contains('.') || rest.is_empty() {
                continue;
            }
            if let Some(existing) = out.iter_mut().find(|i| i.label == rest) {
                if let Some(d) = &mut existing.detail {
                    if !d.contains(&format!("{}.", src.name)) {
                        d.push_str(&format!(", {}.{}", src.name, c.name));
                    }
                }
                continue;
            }
            out.push(
                CompletionItem::new(rest, CompletionKind::Column)
                    .detail(format!("{} — {}.{}", c.ty, src.name, c.name)),
            );
        }
    }
    out
}

/// After `column`: sources; after `column S.`: its columns; after `column S.p.`: fields of `p`.
#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn column_paths(model: &Model, segs: &[String]) -> Vec<CompletionItem> {
    let Some((first, rest)) = segs.split_first() else {
        return sources(model);
    };
    let Some(s) = model.source(first) else {
        return Vec::new();
    };
    let src = &model.sources[s];
    let prefix = if rest.is_empty() {
        String::new()
    } else {
        format!("{}.", rest.join("."))
    };
    src.columns
        .iter()
        .filter_map(|c| {
            let r = c.name.strip_prefix(&prefix)?;
            (!r.is_empty() && !r.contains('.'))
                .then(|| CompletionItem::new(r, CompletionKind::Column).detail(c.ty.to_string()))
        })
        .collect()
}

/// Every metadata key some source declares (`source s (key: value)`), with how many do.
fn meta_keys(model: &Model) -> Vec<CompletionItem> {
    let mut keys: Vec<(&str, usize)> = Vec::new();
    for m in model.sources.iter().flat_map(|s| &s.meta) {
        match keys.iter_mut().find(|(k, _)| *k == m.key) {
            Some((_, n)) => *n += 1,
            None => keys.push((&m.key, 1)),
        }
    }
    keys.sort_unstable();
    keys.into_iter()
        .map(|(k, n)| {
            CompletionItem::new(k, CompletionKind::SubjectField).detail(format!(
                "source metadata ({n} source{})",
                if n == 1 { "" } else { "s" }
            ))
        })
        .collect()
}

fn sources(model: &Model) -> Vec<CompletionItem> {
    model
        .sources
        .iter()
        .map(|s| {
            CompletionItem::new(&s.name, CompletionKind::Source)
                .detail(format!("source, {} columns", s.columns.len()))
        })
        .collect()
}

/// The lookup tables, after `in table`.
fn lookup_tables(model: &Model) -> Vec<CompletionItem> {
    model
        .tables
        .iter()
        .map(|t| {
            let from = match &t.origin {
                crate::model::TableOrigin::File { path, .. } => format!("from \"{path}\""),
                crate::model::TableOrigin::Supplied => "supplied at run time".to_string(),
            };
            CompletionItem::new(&t.name, CompletionKind::Table)
                .detail(format!("{} table, {from}", t.kind.name()))
        })
        .collect()
}

/// How many segments below the typed prefix completion offers (deeper paths are completed a
/// few segments at a time), so that a hierarchy thousands of levels deep costs O(its size).
const COMPLETION_DEPTH: u32 = 8;

/// Tags or purposes: every path after a keyword, or what is below the typed prefix (up to
/// [`COMPLETION_DEPTH`] segments below it).
#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn hierarchy(
    h: &crate::model::Hierarchy,
    segs: &[String],
    kind: CompletionKind,
) -> Vec<CompletionItem> {
    let (prefix_node, prefix_depth) = if segs.is_empty() {
        (None, 0)
    } else {
        match h.get(&segs.join(".")) {
            Some(id) => (Some(id), h.nodes[id].depth),
            None => return Vec::new(),
        }
    };
    h.nodes
        .iter()
        .enumerate()
        .filter_map(|(id, n)| {
            let below = n.depth.checked_sub(prefix_depth)?;
            if below == 0 || below > COMPLETION_DEPTH {
                return None;
            }
            // The segments from just below the prefix down to this node.
            let mut rest: Vec<&str> = Vec::with_capacity(below as usize);
            let mut at = Some(id);
            for _ in 0..below {
                let node = &h.nodes[at?];
                rest.push(node.name.as_str());
                at = node.parent;
            }
            if at != prefix_node {
                return None;
            }
            rest.reverse();
            let mut item = CompletionItem::new(rest.join("."), kind).detail(h.path(id));
            item.documentation = n.description.clone().or_else(|| n.doc.clone());
            Some(item)
        })
        .collect()
}

fn type_word(ty: &Ty) -> Option<&'static str> {
    Some(match ty {
        Ty::Bool => "bool",
        Ty::Int => "int",
        Ty::Decimal => "decimal",
        Ty::Text => "text",
        Ty::Enum(_) => "enum",
        Ty::Date => "date",
        Ty::Timestamp => "timestamp",
        _ => return None,
    })
}

/// Does a catalog entry apply to a type, by its documented list of types?
fn applies_to(info: &crate::techniques::TechniqueInfo, ty: &Ty) -> bool {
    if info.applies.starts_with("any type") {
        return true;
    }
    match type_word(ty) {
        Some(w) => info
            .applies
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|word| word == w),
        None => false,
    }
}

/// The types of the columns the rule being written targets (empty when unknown).
#[expect(
    clippy::indexing_slicing,
    reason = "token positions are checked against the same token slice (or found in it) just before they are read; model ids index the model's own tables"
)]
fn target_types(model: &Model, toks: &Toks) -> Vec<Ty> {
    // The nearest `mask` (a mask rule) or `accessible` (a column) before the cursor.
    let Some(at) = toks
        .iter()
        .rposition(|t| matches!(t, Tok::KwMask | Tok::KwAccessible))
    else {
        return Vec::new();
    };
    let mut out: Vec<Ty> = Vec::new();
    let mut push = |t: &Ty| {
        if !out.contains(t) {
            out.push(t.clone());
        }
    };
    if toks[at] == Tok::KwAccessible {
        // The column is the last label before `accessible` in a source declaration.
        let Some(label) = toks[..at].iter().rposition(|t| matches!(t, Tok::Label(_))) else {
            return Vec::new();
        };
        let name = match &toks[label] {
            Tok::Label(l) => l.trim_matches('`').to_string(),
            _ => return Vec::new(),
        };
        for s in context_sources(model, &toks[..at].to_vec()) {
            let src = &model.sources[s];
            if let Some(c) = src
                .columns
                .iter()
                .find(|c| c.name.rsplit('.').next() == Some(name.as_str()))
            {
                push(&c.ty);
            }
        }
        return out;
    }
    let after = &toks[at + 1..];
    match after.first() {
        Some(Tok::KwColumn) => {
            let mut segs = Vec::new();
            let mut i = 1;
            while let Some(n) = after.get(i).and_then(name_of) {
                segs.push(n);
                if after.get(i + 1) != Some(&Tok::Dot) {
                    break;
                }
                i += 2;
            }
            if let Some((s, rest)) = segs.split_first() {
                if let Some(sid) = model.source(s) {
                    if let Some(c) = model.sources[sid].column(&rest.join(".")) {
                        push(&model.sources[sid].columns[c].ty);
                    }
                }
            }
        }
        Some(Tok::KwColumns) if after.get(1) == Some(&Tok::KwTagged) => {
            let mut tags = Vec::new();
            let mut cur = String::new();
            for t in &after[2..] {
                match t {
                    Tok::Dot => cur.push('.'),
                    Tok::Comma => tags.push(std::mem::take(&mut cur)),
                    t => match name_of(t) {
                        Some(n) if !matches!(t, Tok::KwWhere | Tok::KwUsing) => cur.push_str(&n),
                        _ => break,
                    },
                }
            }
            if !cur.is_empty() {
                tags.push(cur);
            }
            let ids: Vec<usize> = tags.iter().filter_map(|t| model.tags.get(t)).collect();
            for s in model.sources.iter() {
                for c in &s.columns {
                    if c.tags
                        .iter()
                        .any(|&t| ids.iter().any(|&a| model.tags.is_under(t, a)))
                    {
                        push(&c.ty);
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// Techniques: those that apply to every targeted column's type first.
fn techniques(model: &Model, toks: &Toks) -> Vec<CompletionItem> {
    let types = target_types(model, toks);
    let mut fitting = Vec::new();
    let mut others = Vec::new();
    for t in crate::techniques::CATALOG {
        let mut item = CompletionItem::new(t.name, CompletionKind::Technique).detail(t.applies);
        item.documentation = super::hover::technique_hover(t.name);
        let required: Vec<&str> = t
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        if !required.is_empty() {
            let placeholders: Vec<String> = required
                .iter()
                .enumerate()
                .map(|(i, p)| format!("${{{}:{p}}}", i + 1))
                .collect();
            item.insert_text = Some(format!("{}({})", t.name, placeholders.join(", ")));
            item.is_snippet = true;
        }
        if !types.is_empty() && types.iter().all(|ty| applies_to(t, ty)) {
            fitting.push(item);
        } else {
            others.push(item);
        }
    }
    fitting.extend(others);
    fitting
}

fn types() -> Vec<CompletionItem> {
    let mut out: Vec<CompletionItem> = ["bool", "int", "decimal", "text", "date", "timestamp"]
        .iter()
        .map(|t| CompletionItem::new(*t, CompletionKind::Type))
        .collect();
    for (label, snippet) in [
        ("enum", "enum(\"${1:a}\", \"${2:b}\")"),
        ("struct", "struct {\n  ${1:field}: ${2:text},\n}"),
        ("list", "list<${1:text}>"),
    ] {
        let mut i = CompletionItem::new(label, CompletionKind::Type);
        i.insert_text = Some(snippet.to_string());
        i.is_snippet = true;
        out.push(i);
    }
    out
}

const POLICY_SNIPPET: &str =
    "policy ${1:name} {\n  mask columns tagged ${2:Tag} using ${3:null} for everyone\n}";
const SOURCE_SNIPPET: &str = "source ${1:name} {\n  id: int key,\n  ${2:column}: ${3:text},\n}";

/// Keywords; at the top level only the declaration keywords and the snippets.
fn keywords(toks: &Toks) -> Vec<CompletionItem> {
    if brace_depth(toks) == 0 && matches!(toks.last(), None | Some(Tok::Semi) | Some(Tok::RBrace)) {
        let mut out = Vec::new();
        for (label, detail, snippet) in [
            ("policy", "new policy", POLICY_SNIPPET),
            ("source", "new source", SOURCE_SNIPPET),
        ] {
            let mut i = CompletionItem::new(label, CompletionKind::Snippet).detail(detail);
            i.insert_text = Some(snippet.to_string());
            i.is_snippet = true;
            out.push(i);
        }
        for k in [
            "tag", "purpose", "subject", "source", "policy", "exempt", "level", "settings", "test",
        ] {
            out.push(CompletionItem::new(k, CompletionKind::Keyword));
        }
        return out;
    }
    let mut out: Vec<CompletionItem> = KEYWORDS
        .iter()
        .map(|(k, _)| CompletionItem::new(*k, CompletionKind::Keyword))
        .collect();
    out.extend(functions());
    out
}

/// The built-in functions, each with its signature as detail and a snippet that opens the call.
fn functions() -> impl Iterator<Item = CompletionItem> {
    crate::model::Builtin::ALL
        .iter()
        .map(|(name, _)| *name)
        .chain(["date", "timestamp"])
        .map(|name| {
            let mut i = CompletionItem::new(name, CompletionKind::Function);
            i.documentation = super::hover::function_doc(name).map(str::to_string);
            i.detail = Some("function".to_string());
            i.insert_text = Some(format!("{name}($0)"));
            i.is_snippet = true;
            i
        })
}
