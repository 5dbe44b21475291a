//! The lexer: text → tokens, with comments kept as trivia.

use crate::duration::DurationLit;
use crate::span::Span;
use logos::Logos;

/// Why a piece of text is not a token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LexError {
    #[default]
    UnexpectedChar,
    IntegerTooLarge,
    BadEscape(String),
    UnterminatedString,
    UnterminatedComment,
    UnterminatedBackquote,
    BadDuration,
}

impl LexError {
    pub fn message(&self, slice: &str) -> String {
        match self {
            LexError::UnexpectedChar => format!("unexpected character `{}`", slice.escape_debug()),
            LexError::IntegerTooLarge => format!("integer `{slice}` does not fit in 64 bits"),
            LexError::BadEscape(e) => format!("invalid escape `{e}` in string"),
            LexError::UnterminatedString => "unterminated string".to_string(),
            LexError::UnterminatedComment => "unterminated block comment".to_string(),
            LexError::UnterminatedBackquote => "unterminated backquoted identifier".to_string(),
            LexError::BadDuration => format!("duration `{slice}` is too large"),
        }
    }
}

fn unescape(lex: &mut logos::Lexer<'_, RawTok>) -> Result<String, LexError> {
    let s = lex.slice();
    let body = &s[1..s.len() - 1];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let rest = chars.as_str();
                let bad = || {
                    LexError::BadEscape(format!("\\u{}", rest.chars().take(8).collect::<String>()))
                };
                if !rest.starts_with('{') {
                    return Err(bad());
                }
                let close = rest.find('}').ok_or_else(bad)?;
                let hex = &rest[1..close];
                let code = u32::from_str_radix(hex, 16).map_err(|_| bad())?;
                let ch = char::from_u32(code).ok_or_else(bad)?;
                if hex.is_empty() || hex.len() > 6 {
                    return Err(bad());
                }
                out.push(ch);
                chars = rest[close + 1..].chars();
            }
            Some(other) => return Err(LexError::BadEscape(format!("\\{other}"))),
            None => return Err(LexError::BadEscape("\\".to_string())),
        }
    }
    Ok(out)
}

fn duration(lex: &mut logos::Lexer<'_, RawTok>) -> Result<DurationLit, LexError> {
    DurationLit::parse(lex.slice()).ok_or(LexError::BadDuration)
}

/// A block comment `/* … */`: from `/*` to the first `*/` (block comments do not nest). An
/// unterminated one runs to the end of the file and is an error.
fn block_comment(lex: &mut logos::Lexer<'_, RawTok>) -> Result<(), LexError> {
    let rest = lex.remainder();
    match rest.find("*/") {
        Some(end) => {
            lex.bump(end + 2);
            Ok(())
        }
        None => {
            lex.bump(rest.len());
            Err(LexError::UnterminatedComment)
        }
    }
}

fn unterminated_backquote(_: &mut logos::Lexer<'_, RawTok>) -> Result<(), LexError> {
    Err(LexError::UnterminatedBackquote)
}

fn unterminated_string(_: &mut logos::Lexer<'_, RawTok>) -> Result<(), LexError> {
    Err(LexError::UnterminatedString)
}

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(error = LexError)]
enum RawTok {
    #[regex(r"//[^\n]*")]
    LineComment,
    #[token("/*", block_comment)]
    BlockComment,

    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    #[regex(r"`[^`\n]+`")]
    Quoted,
    #[regex(r"`[^`\n]*", unterminated_backquote)]
    UnterminatedQuoted,
    #[regex(r#""([^"\\\n]|\\[^\n])*""#, unescape)]
    Str(String),
    #[regex(r#""([^"\\\n]|\\[^\n])*"#, unterminated_string)]
    UnterminatedStr,
    #[regex(r#"r"[^"\n]*""#)]
    RawStr,
    #[regex(r"[0-9]+", |lex| lex.slice().parse::<i64>().map_err(|_| LexError::IntegerTooLarge))]
    Int(i64),
    #[regex(r"[0-9]+\.[0-9]+", |lex| lex.slice().parse::<f64>().map_err(|_| LexError::IntegerTooLarge))]
    Decimal(f64),
    #[regex(r"[0-9]+(d|h|m|s|w|mo|y)", duration)]
    Duration(DurationLit),

    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("=")]
    Assign,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("%")]
    Percent,
}

/// A token as the parser sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok<'a> {
    Ident(&'a str),
    /// A backquoted identifier, backquotes removed.
    Quoted(&'a str),
    /// `name:` or `` `name`: ``: the name as written (backquotes kept), without the colon.
    Label(&'a str),
    Str(String),
    RawStr(&'a str),
    Int(i64),
    Decimal(f64),
    /// A duration: its amount and unit as written.
    Duration(DurationLit),
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Semi,
    Colon,
    Dot,
    Assign,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Percent,
    KwTag,
    KwSensitive,
    KwPurpose,
    KwSubject,
    KwSource,
    KwTagged,
    KwKey,
    KwEventTime,
    KwAccessible,
    KwVisible,
    KwIf,
    KwThen,
    KwElse,
    KwOtherwise,
    KwPolicy,
    KwStaged,
    KwOn,
    KwAll,
    KwSources,
    KwNamed,
    KwLike,
    KwWith,
    KwColumns,
    KwColumn,
    KwAny,
    KwNo,
    KwTags,
    KwMask,
    KwUsing,
    KwFor,
    KwEveryone,
    KwExcept,
    KwWho,
    KwUnmasked,
    KwWhere,
    KwOnly,
    KwShow,
    KwRows,
    KwNewer,
    KwOlder,
    KwThan,
    KwOf,
    KwNever,
    KwExempt,
    KwGuarantee,
    KwAllow,
    KwTemporary,
    KwUnmask,
    KwDetokenize,
    /// `k_anonymity K over a, b`
    KwKAnonymity,
    KwLevel,
    KwFrom,
    KwBy,
    KwSettings,
    KwTest,
    KwGiven,
    KwUser,
    KwRow,
    KwValue,
    KwExpect,
    KwHidden,
    KwShown,
    KwIn,
    KwContains,
    KwUnder,
    KwMatches,
    KwAnd,
    KwOr,
    KwNot,
    KwTrue,
    KwFalse,
    KwNull,
    KwGroup,
    KwHas,
    KwRole,
    KwAttribute,
    KwActing,
    KwApproval,
    KwWithin,
    KwLinks,
    KwLinked,
    KwTo,
    KwTable,
}

impl Tok<'_> {
    /// How the token is named in "expected …, found …" messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier `{s}`"),
            Tok::Quoted(s) => format!("identifier `{s}`"),
            Tok::Label(s) => format!("`{s}:`"),
            Tok::Str(_) | Tok::RawStr(_) => "a string".to_string(),
            Tok::Int(_) => "an integer".to_string(),
            Tok::Decimal(_) => "a decimal".to_string(),
            Tok::Duration(_) => "a duration".to_string(),
            other => format!("`{}`", other.text()),
        }
    }

    /// Punctuation and keyword text.
    pub fn text(&self) -> &'static str {
        match self {
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Semi => ";",
            Tok::Colon => ":",
            Tok::Dot => ".",
            Tok::Assign => "=",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Percent => "%",
            Tok::KwTag => "tag",
            Tok::KwSensitive => "sensitive",
            Tok::KwPurpose => "purpose",
            Tok::KwSubject => "subject",
            Tok::KwSource => "source",
            Tok::KwTagged => "tagged",
            Tok::KwKey => "key",
            Tok::KwEventTime => "event_time",
            Tok::KwAccessible => "accessible",
            Tok::KwVisible => "visible",
            Tok::KwIf => "if",
            Tok::KwThen => "then",
            Tok::KwElse => "else",
            Tok::KwOtherwise => "otherwise",
            Tok::KwPolicy => "policy",
            Tok::KwStaged => "staged",
            Tok::KwOn => "on",
            Tok::KwAll => "all",
            Tok::KwSources => "sources",
            Tok::KwNamed => "named",
            Tok::KwLike => "like",
            Tok::KwWith => "with",
            Tok::KwColumns => "columns",
            Tok::KwColumn => "column",
            Tok::KwAny => "any",
            Tok::KwNo => "no",
            Tok::KwTags => "tags",
            Tok::KwMask => "mask",
            Tok::KwUsing => "using",
            Tok::KwFor => "for",
            Tok::KwEveryone => "everyone",
            Tok::KwExcept => "except",
            Tok::KwWho => "who",
            Tok::KwUnmasked => "unmasked",
            Tok::KwWhere => "where",
            Tok::KwOnly => "only",
            Tok::KwShow => "show",
            Tok::KwRows => "rows",
            Tok::KwNewer => "newer",
            Tok::KwOlder => "older",
            Tok::KwThan => "than",
            Tok::KwOf => "of",
            Tok::KwNever => "never",
            Tok::KwExempt => "exempt",
            Tok::KwGuarantee => "guarantee",
            Tok::KwAllow => "allow",
            Tok::KwTemporary => "temporary",
            Tok::KwUnmask => "unmask",
            Tok::KwDetokenize => "detokenize",
            Tok::KwKAnonymity => "k_anonymity",
            Tok::KwLevel => "level",
            Tok::KwFrom => "from",
            Tok::KwBy => "by",
            Tok::KwSettings => "settings",
            Tok::KwTest => "test",
            Tok::KwGiven => "given",
            Tok::KwUser => "user",
            Tok::KwRow => "row",
            Tok::KwValue => "value",
            Tok::KwExpect => "expect",
            Tok::KwHidden => "hidden",
            Tok::KwShown => "shown",
            Tok::KwIn => "in",
            Tok::KwContains => "contains",
            Tok::KwUnder => "under",
            Tok::KwMatches => "matches",
            Tok::KwAnd => "and",
            Tok::KwOr => "or",
            Tok::KwNot => "not",
            Tok::KwTrue => "true",
            Tok::KwFalse => "false",
            Tok::KwNull => "null",
            Tok::KwGroup => "group",
            Tok::KwHas => "has",
            Tok::KwApproval => "approval",
            Tok::KwWithin => "within",
            Tok::KwRole => "role",
            Tok::KwAttribute => "attribute",
            Tok::KwActing => "acting",
            Tok::KwLinks => "links",
            Tok::KwLinked => "linked",
            Tok::KwTo => "to",
            Tok::KwTable => "table",
            Tok::Ident(_)
            | Tok::Quoted(_)
            | Tok::Label(_)
            | Tok::Str(_)
            | Tok::RawStr(_)
            | Tok::Int(_)
            | Tok::Decimal(_)
            | Tok::Duration(_) => "",
        }
    }

    /// Does this keyword start a declaration (`tag`, `purpose`, `subject`, `source`, `policy`,
    /// `exempt`, `level`, `settings`, `test`)?
    pub fn is_decl_keyword(&self) -> bool {
        matches!(
            self,
            Tok::KwTag
                | Tok::KwPurpose
                | Tok::KwSubject
                | Tok::KwSource
                | Tok::KwPolicy
                | Tok::KwExempt
                | Tok::KwGuarantee
                | Tok::KwLevel
                | Tok::KwSettings
                | Tok::KwTest
                | Tok::KwTable
        )
    }

    /// Is this one of the keywords of §9?
    pub fn is_keyword(&self) -> bool {
        !matches!(
            self,
            Tok::Ident(_)
                | Tok::Quoted(_)
                | Tok::Label(_)
                | Tok::Str(_)
                | Tok::RawStr(_)
                | Tok::Int(_)
                | Tok::Decimal(_)
                | Tok::Duration(_)
        ) && self
            .text()
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '_')
    }
}

/// Every keyword of the language.
pub fn keyword(word: &str) -> Option<Tok<'static>> {
    // Asked once per identifier: the keywords are grouped once by (first byte, length), so a
    // word is compared with the one or two keywords of its group (a scan of the whole table was
    // a twelfth of a large set's parsing, a binary search still a sixteenth).
    static GROUPS: std::sync::OnceLock<Vec<Vec<usize>>> = std::sync::OnceLock::new();
    const LONGEST: usize = 32;
    let group = |w: &str| -> Option<usize> {
        let first = usize::from(*w.as_bytes().first()?);
        (w.len() < LONGEST).then_some(first * LONGEST + w.len())
    };
    let groups = GROUPS.get_or_init(|| {
        let mut groups = vec![Vec::new(); 256 * LONGEST];
        for (i, (k, _)) in KEYWORDS.iter().enumerate() {
            if let Some(g) = group(k).and_then(|g| groups.get_mut(g)) {
                g.push(i);
            }
        }
        groups
    });
    groups
        .get(group(word)?)?
        .iter()
        .filter_map(|&i| KEYWORDS.get(i))
        .find(|(k, _)| *k == word)
        .map(|(_, t)| t.clone())
}

/// Is the next non-blank character after `end` on the same line a `:`?
fn followed_by_colon(text: &str, end: usize) -> bool {
    text.get(end..)
        .and_then(|rest| rest.trim_start_matches([' ', '\t']).chars().next())
        == Some(':')
}

/// A lexing error at a span.
#[derive(Clone, Debug, PartialEq)]
pub struct LexDiagnostic {
    pub message: String,
    pub span: Span,
}

/// The tokens of a file (comments removed), the comments, and lexing errors.
pub struct Lexed<'a> {
    pub tokens: Vec<(usize, Tok<'a>, usize)>,
    pub comments: Vec<crate::ast::Comment>,
    pub errors: Vec<LexDiagnostic>,
}

/// The UTF-8 byte-order mark, accepted (and skipped) at the start of a file.
pub const BOM: &str = "\u{feff}";

/// Splits `text` into tokens. Never fails: bad characters become errors and are skipped.
///
/// A byte-order mark at the start of `text` is skipped; spans stay byte offsets into `text`.
pub fn lex(text: &str) -> Lexed<'_> {
    use crate::ast::{Comment, CommentKind};
    let mut tokens: Vec<(usize, Tok<'_>, usize)> = Vec::new();
    let mut comments = Vec::new();
    let mut errors: Vec<LexDiagnostic> = Vec::new();
    let mut lexer = RawTok::lexer(text);
    if text.starts_with(BOM) {
        lexer.bump(BOM.len());
    }
    // Set when an identifier was turned into a label: the `:` after it is part of the label.
    let mut swallow_colon = false;
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let slice = lexer.slice();
        let tok = match result {
            Ok(t) => t,
            Err(e) => {
                // Merge runs of unexpected characters into one error.
                if e == LexError::UnexpectedChar {
                    if let Some(last) = errors.last_mut() {
                        if last.span.end as usize == range.start
                            && last.message.starts_with("unexpected character")
                        {
                            last.span.end = range.end as u32;
                            last.message =
                                LexError::UnexpectedChar.message(&text[last.span.range()]);
                            continue;
                        }
                    }
                }
                // An unterminated block comment swallows the rest of the file; the error is at
                // its `/*`.
                let end = match e {
                    LexError::UnterminatedComment => range.start + 2,
                    _ => range.end,
                };
                errors.push(LexDiagnostic {
                    message: e.message(slice),
                    span: Span::new(range.start, end),
                });
                continue;
            }
        };
        let t = match tok {
            RawTok::LineComment => {
                let kind = if slice.starts_with("///") && !slice.starts_with("////") {
                    CommentKind::Doc
                } else {
                    CommentKind::Line
                };
                comments.push(Comment {
                    kind,
                    text: slice.to_string(),
                    span: Span::new(range.start, range.end),
                });
                continue;
            }
            RawTok::BlockComment => {
                comments.push(Comment {
                    kind: CommentKind::Block,
                    text: slice.to_string(),
                    span: Span::new(range.start, range.end),
                });
                continue;
            }
            RawTok::UnterminatedQuoted | RawTok::UnterminatedStr => continue,
            RawTok::Ident | RawTok::Quoted if followed_by_colon(text, range.end) => {
                swallow_colon = true;
                Tok::Label(slice)
            }
            RawTok::Ident => keyword(slice).unwrap_or(Tok::Ident(slice)),
            RawTok::Quoted => Tok::Quoted(&slice[1..slice.len() - 1]),
            RawTok::Str(s) => Tok::Str(s),
            RawTok::RawStr => Tok::RawStr(&slice[2..slice.len() - 1]),
            RawTok::Int(i) => Tok::Int(i),
            RawTok::Decimal(d) => Tok::Decimal(d),
            RawTok::Duration(d) => Tok::Duration(d),
            RawTok::LBrace => Tok::LBrace,
            RawTok::RBrace => Tok::RBrace,
            RawTok::LParen => Tok::LParen,
            RawTok::RParen => Tok::RParen,
            RawTok::LBracket => Tok::LBracket,
            RawTok::RBracket => Tok::RBracket,
            RawTok::Comma => Tok::Comma,
            RawTok::Semi => Tok::Semi,
            RawTok::Colon if swallow_colon => {
                swallow_colon = false;
                if let Some(last) = tokens.last_mut() {
                    last.2 = range.end;
                }
                continue;
            }
            RawTok::Colon => Tok::Colon,
            RawTok::Dot => Tok::Dot,
            RawTok::Assign => Tok::Assign,
            RawTok::EqEq => Tok::EqEq,
            RawTok::Ne => Tok::Ne,
            RawTok::Lt => Tok::Lt,
            RawTok::Le => Tok::Le,
            RawTok::Gt => Tok::Gt,
            RawTok::Ge => Tok::Ge,
            RawTok::Plus => Tok::Plus,
            RawTok::Minus => Tok::Minus,
            RawTok::Percent => Tok::Percent,
        };
        tokens.push((range.start, t, range.end));
    }
    Lexed {
        tokens,
        comments,
        errors,
    }
}

/// The keywords of §9 with their tokens.
pub const KEYWORDS: &[(&str, Tok<'static>)] = &[
    ("tag", Tok::KwTag),
    ("sensitive", Tok::KwSensitive),
    ("purpose", Tok::KwPurpose),
    ("subject", Tok::KwSubject),
    ("source", Tok::KwSource),
    ("tagged", Tok::KwTagged),
    ("key", Tok::KwKey),
    ("event_time", Tok::KwEventTime),
    ("accessible", Tok::KwAccessible),
    ("visible", Tok::KwVisible),
    ("if", Tok::KwIf),
    ("then", Tok::KwThen),
    ("else", Tok::KwElse),
    ("otherwise", Tok::KwOtherwise),
    ("policy", Tok::KwPolicy),
    ("staged", Tok::KwStaged),
    ("on", Tok::KwOn),
    ("all", Tok::KwAll),
    ("sources", Tok::KwSources),
    ("named", Tok::KwNamed),
    ("like", Tok::KwLike),
    ("with", Tok::KwWith),
    ("columns", Tok::KwColumns),
    ("column", Tok::KwColumn),
    ("any", Tok::KwAny),
    ("no", Tok::KwNo),
    ("tags", Tok::KwTags),
    ("mask", Tok::KwMask),
    ("using", Tok::KwUsing),
    ("for", Tok::KwFor),
    ("everyone", Tok::KwEveryone),
    ("except", Tok::KwExcept),
    ("who", Tok::KwWho),
    ("unmasked", Tok::KwUnmasked),
    ("where", Tok::KwWhere),
    ("only", Tok::KwOnly),
    ("show", Tok::KwShow),
    ("rows", Tok::KwRows),
    ("newer", Tok::KwNewer),
    ("older", Tok::KwOlder),
    ("than", Tok::KwThan),
    ("of", Tok::KwOf),
    ("never", Tok::KwNever),
    ("exempt", Tok::KwExempt),
    ("guarantee", Tok::KwGuarantee),
    ("allow", Tok::KwAllow),
    ("temporary", Tok::KwTemporary),
    ("unmask", Tok::KwUnmask),
    ("detokenize", Tok::KwDetokenize),
    ("k_anonymity", Tok::KwKAnonymity),
    ("level", Tok::KwLevel),
    ("from", Tok::KwFrom),
    ("by", Tok::KwBy),
    ("settings", Tok::KwSettings),
    ("test", Tok::KwTest),
    ("given", Tok::KwGiven),
    ("user", Tok::KwUser),
    ("row", Tok::KwRow),
    ("value", Tok::KwValue),
    ("expect", Tok::KwExpect),
    ("hidden", Tok::KwHidden),
    ("shown", Tok::KwShown),
    ("in", Tok::KwIn),
    ("contains", Tok::KwContains),
    ("under", Tok::KwUnder),
    ("matches", Tok::KwMatches),
    ("and", Tok::KwAnd),
    ("or", Tok::KwOr),
    ("not", Tok::KwNot),
    ("true", Tok::KwTrue),
    ("false", Tok::KwFalse),
    ("approval", Tok::KwApproval),
    ("within", Tok::KwWithin),
    ("null", Tok::KwNull),
    ("group", Tok::KwGroup),
    ("has", Tok::KwHas),
    ("role", Tok::KwRole),
    ("attribute", Tok::KwAttribute),
    ("acting", Tok::KwActing),
    ("links", Tok::KwLinks),
    ("linked", Tok::KwLinked),
    ("to", Tok::KwTo),
    ("table", Tok::KwTable),
];

#[cfg(test)]
mod keyword_tests {
    use super::{keyword, KEYWORDS};

    /// The sorted lookup answers exactly what a scan of the table answers.
    #[test]
    fn every_keyword_is_found_and_nothing_else() {
        for (k, t) in KEYWORDS {
            assert_eq!(keyword(k).as_ref(), Some(t), "{k}");
            assert_eq!(keyword(&format!("{k}_")), None, "{k}_");
        }
        for word in ["", "a", "zzz", "Tag", "policyx", "row_", "_"] {
            let scanned = KEYWORDS.iter().find(|(k, _)| *k == word).map(|(_, t)| t);
            assert_eq!(keyword(word).as_ref(), scanned, "{word}");
        }
    }
}
