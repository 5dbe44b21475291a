//! Conversions between LSP types (UTF-16 positions, URIs) and the ide's (files, byte spans).

use pol_compiler::diagnostics::{Diagnostic, Severity};
use pol_compiler::ide::host::{BadManifest, SetAnalysis as Snapshot};
use pol_compiler::ide::{self, CompletionKind, HighlightKind, SymbolKind as IdeSymbolKind};
use pol_compiler::source_map::{FileId, Loc};
use pol_grammar::Span;
use tower_lsp::lsp_types as lsp;

/// The LSP position of a byte offset.
pub fn position(snap: &Snapshot, file: FileId, offset: usize) -> lsp::Position {
    let f = snap.ide.files().get(file);
    let (line, character) = f.lines.position_utf16(&f.text, offset);
    lsp::Position { line, character }
}

/// The byte offset of an LSP position (clamped to the text).
pub fn offset(snap: &Snapshot, file: FileId, p: lsp::Position) -> usize {
    let f = snap.ide.files().get(file);
    f.lines.offset_utf16(&f.text, p.line, p.character)
}

pub fn range(snap: &Snapshot, file: FileId, span: Span) -> lsp::Range {
    lsp::Range {
        start: position(snap, file, span.start as usize),
        end: position(snap, file, span.end as usize),
    }
}

pub fn span(snap: &Snapshot, file: FileId, r: lsp::Range) -> Span {
    let a = offset(snap, file, r.start);
    let b = offset(snap, file, r.end);
    Span::new(a.min(b), a.max(b))
}

pub fn location(snap: &Snapshot, loc: Loc) -> Option<lsp::Location> {
    let uri = crate::uri::url(snap.key(loc.file)?)?;
    Some(lsp::Location {
        uri,
        range: range(snap, loc.file, loc.span),
    })
}

/// The diagnostic of an invalid `pol.toml`, on the span it is about (UTF-16 positions).
pub fn manifest_error(bad: &BadManifest) -> lsp::Diagnostic {
    let lines = pol_grammar::LineIndex::new(&bad.text);
    let span = bad.error.span().unwrap_or(0..0);
    let at = |o: usize| {
        let (line, character) = lines.position_utf16(&bad.text, o.min(bad.text.len()));
        lsp::Position { line, character }
    };
    lsp::Diagnostic {
        range: lsp::Range {
            start: at(span.start),
            end: at(span.end),
        },
        severity: Some(lsp::DiagnosticSeverity::ERROR),
        code: Some(lsp::NumberOrString::String(bad.error.code().to_string())),
        source: Some("polc".to_string()),
        message: bad.error.message(),
        ..Default::default()
    }
}

/// A diagnostic as `polc check` reports it: the code, the primary span, the message with its
/// help and notes, the secondary labels as related information.
pub fn diagnostic(snap: &Snapshot, d: &Diagnostic) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    for h in &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    for n in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(n);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            Some(lsp::DiagnosticRelatedInformation {
                location: location(snap, l.loc())?,
                message: l.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(snap, d.primary.file, d.primary.span),
        severity: Some(match d.severity() {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        code_description: lsp::Url::parse(&d.code.help_uri())
            .ok()
            .map(|href| lsp::CodeDescription { href }),
        source: Some("polc".to_string()),
        message,
        related_information: if related.is_empty() {
            None
        } else {
            Some(related)
        },
        tags: None,
        data: None,
    }
}

pub fn completion_kind(k: CompletionKind) -> lsp::CompletionItemKind {
    match k {
        CompletionKind::Keyword => lsp::CompletionItemKind::KEYWORD,
        CompletionKind::Snippet => lsp::CompletionItemKind::SNIPPET,
        CompletionKind::Tag => lsp::CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Purpose => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::Source => lsp::CompletionItemKind::CLASS,
        CompletionKind::Column => lsp::CompletionItemKind::FIELD,
        CompletionKind::SubjectField => lsp::CompletionItemKind::PROPERTY,
        CompletionKind::Technique => lsp::CompletionItemKind::FUNCTION,
        CompletionKind::Type => lsp::CompletionItemKind::TYPE_PARAMETER,
        CompletionKind::Function => lsp::CompletionItemKind::FUNCTION,
        CompletionKind::Table => lsp::CompletionItemKind::STRUCT,
    }
}

pub fn completion(i: &ide::CompletionItem, rank: usize) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: i.label.clone(),
        kind: Some(completion_kind(i.kind)),
        detail: i.detail.clone(),
        documentation: i.documentation.as_ref().map(|d| {
            lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: d.clone(),
            })
        }),
        sort_text: Some(format!("{rank:04}")),
        insert_text: i.insert_text.clone(),
        insert_text_format: Some(if i.is_snippet {
            lsp::InsertTextFormat::SNIPPET
        } else {
            lsp::InsertTextFormat::PLAIN_TEXT
        }),
        ..Default::default()
    }
}

pub fn symbol_kind(k: IdeSymbolKind) -> lsp::SymbolKind {
    match k {
        IdeSymbolKind::Tag => lsp::SymbolKind::ENUM_MEMBER,
        IdeSymbolKind::Purpose => lsp::SymbolKind::CONSTANT,
        IdeSymbolKind::Subject => lsp::SymbolKind::STRUCT,
        IdeSymbolKind::SubjectField => lsp::SymbolKind::PROPERTY,
        IdeSymbolKind::Source => lsp::SymbolKind::CLASS,
        IdeSymbolKind::Column => lsp::SymbolKind::FIELD,
        IdeSymbolKind::Policy => lsp::SymbolKind::FUNCTION,
        IdeSymbolKind::Rule => lsp::SymbolKind::EVENT,
        IdeSymbolKind::Exempt => lsp::SymbolKind::OBJECT,
        IdeSymbolKind::Level => lsp::SymbolKind::ENUM,
        IdeSymbolKind::Table => lsp::SymbolKind::ARRAY,
        IdeSymbolKind::Settings => lsp::SymbolKind::NAMESPACE,
        IdeSymbolKind::Test => lsp::SymbolKind::METHOD,
    }
}

#[allow(deprecated)]
pub fn document_symbol(
    snap: &Snapshot,
    file: FileId,
    s: &ide::DocumentSymbol,
) -> lsp::DocumentSymbol {
    let range = range(snap, file, s.span);
    let mut selection = self::range(snap, file, s.selection);
    // The selection must be inside the range.
    if selection.start < range.start || selection.end > range.end {
        selection = range;
    }
    lsp::DocumentSymbol {
        name: if s.name.is_empty() {
            "?".to_string()
        } else {
            s.name.clone()
        },
        detail: s.detail.clone(),
        kind: symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        range,
        selection_range: selection,
        children: if s.children.is_empty() {
            None
        } else {
            Some(
                s.children
                    .iter()
                    .map(|c| document_symbol(snap, file, c))
                    .collect(),
            )
        },
    }
}

/// The semantic token types, in the order of [`HighlightKind::ALL`].
pub fn token_legend() -> Vec<lsp::SemanticTokenType> {
    HighlightKind::ALL
        .iter()
        .map(|k| match k {
            HighlightKind::Keyword => lsp::SemanticTokenType::KEYWORD,
            HighlightKind::Comment => lsp::SemanticTokenType::COMMENT,
            HighlightKind::DocComment => lsp::SemanticTokenType::COMMENT,
            HighlightKind::String => lsp::SemanticTokenType::STRING,
            HighlightKind::Number => lsp::SemanticTokenType::NUMBER,
            HighlightKind::Type => lsp::SemanticTokenType::TYPE,
            HighlightKind::Tag => lsp::SemanticTokenType::ENUM_MEMBER,
            HighlightKind::Purpose => lsp::SemanticTokenType::NAMESPACE,
            HighlightKind::Source => lsp::SemanticTokenType::CLASS,
            HighlightKind::Column => lsp::SemanticTokenType::PROPERTY,
            HighlightKind::SubjectField => lsp::SemanticTokenType::VARIABLE,
            HighlightKind::Policy => lsp::SemanticTokenType::FUNCTION,
            HighlightKind::Level => lsp::SemanticTokenType::ENUM,
            HighlightKind::Technique => lsp::SemanticTokenType::METHOD,
            HighlightKind::Function => lsp::SemanticTokenType::MACRO,
        })
        .collect()
}

/// The modifiers: `documentation` (doc comments) and `declaration`.
pub fn token_modifiers() -> Vec<lsp::SemanticTokenModifier> {
    vec![lsp::SemanticTokenModifier::DOCUMENTATION]
}

/// Encodes tokens as LSP relative positions, one token per line piece (a block comment over
/// several lines becomes one token per line).
pub fn semantic_tokens(
    snap: &Snapshot,
    file: FileId,
    tokens: &[ide::HighlightToken],
) -> Vec<lsp::SemanticToken> {
    let f = snap.ide.files().get(file);
    let text = f.text.as_str();
    let mut out = Vec::with_capacity(tokens.len());
    let (mut prev_line, mut prev_col) = (0u32, 0u32);
    for t in tokens {
        let kind = HighlightKind::ALL
            .iter()
            .position(|k| *k == t.kind)
            .unwrap_or(0) as u32;
        let modifiers = u32::from(t.kind == HighlightKind::DocComment);
        let mut start = t.span.start as usize;
        let end = (t.span.end as usize).min(text.len());
        while start < end {
            let line_end = text[start..end]
                .find('\n')
                .map(|i| start + i)
                .unwrap_or(end);
            if line_end > start {
                let (line, col) = f.lines.position_utf16(text, start);
                let (_, end_col) = f.lines.position_utf16(text, line_end);
                let delta_line = line - prev_line;
                let delta_start = if delta_line == 0 { col - prev_col } else { col };
                out.push(lsp::SemanticToken {
                    delta_line,
                    delta_start,
                    length: end_col - col,
                    token_type: kind,
                    token_modifiers_bitset: modifiers,
                });
                prev_line = line;
                prev_col = col;
            }
            start = line_end + 1;
        }
    }
    out
}

pub fn text_edits(
    snap: &Snapshot,
    edits: &[ide::TextEdit],
) -> std::collections::HashMap<lsp::Url, Vec<lsp::TextEdit>> {
    let mut changes: std::collections::HashMap<lsp::Url, Vec<lsp::TextEdit>> = Default::default();
    for e in edits {
        if let Some(uri) = snap.key(e.loc.file).and_then(crate::uri::url) {
            changes.entry(uri).or_default().push(lsp::TextEdit {
                range: range(snap, e.loc.file, e.loc.span),
                new_text: e.new_text.clone(),
            });
        }
    }
    changes
}
