//! The registry of diagnostic codes. Codes are stable: a code once published keeps its meaning;
//! errors (`E…`) and warnings (`W…`) are numbered separately.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $sev:ident, $title:literal; )*) => {
        /// A diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable code, e.g. `E0003`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// A short title, used as the rule name in SARIF.
            pub fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )* }
            }

            pub fn from_code(code: &str) -> Option<Code> {
                match code { $( $code => Some(Code::$variant), )* _ => None }
            }

            /// The long explanation of the code (`docs/codes/CODE.md`, compiled in): what it
            /// means, why Pol refuses or warns, a failing example and the example fixed.
            /// `polc explain-code` prints it; a code without its page does not compile.
            pub fn explanation(self) -> &'static str {
                match self {
                    $( Code::$variant => include_str!(concat!(
                        env!("CARGO_MANIFEST_DIR"), "/../docs/codes/", $code, ".md"
                    )), )*
                }
            }
        }
    };
}

codes! {
    Syntax = "E0001", Error, "syntax error";
    Duplicate = "E0002", Error, "duplicate declaration";
    UndeclaredTag = "E0003", Error, "undeclared tag";
    UndeclaredPurpose = "E0004", Error, "undeclared purpose";
    UndeclaredSource = "E0005", Error, "undeclared source";
    UndeclaredColumn = "E0006", Error, "undeclared column";
    UndeclaredSubjectField = "E0007", Error, "undeclared subject field";
    UnknownType = "E0008", Error, "unknown type";
    TypeMismatch = "E0009", Error, "mismatched types";
    BadCall = "E0010", Error, "unknown function or wrong arguments";
    RowInUserCondition = "E0011", Error, "`row` in a per-user condition";
    UnknownTechnique = "E0012", Error, "unknown technique";
    TechniqueNotApplicable = "E0013", Error, "technique does not apply to the column's type";
    BadTechniqueArgument = "E0014", Error, "invalid technique argument";
    MissingOtherwise = "E0015", Error, "missing `otherwise`";
    BadAudience = "E0016", Error, "invalid audience";
    UnmaskDuration = "E0017", Error, "temporary unmask duration out of range";
    BadRegex = "E0018", Error, "invalid regular expression";
    NotHierarchical = "E0019", Error, "`under` on a non-hierarchical value";
    BadExpression = "E0020", Error, "expression not allowed here";
    NotACondition = "E0021", Error, "condition is not a bool";
    DerivedCycle = "E0022", Error, "derived columns depend on each other";
    BadLevel = "E0023", Error, "invalid masking level";
    BadSetting = "E0024", Error, "invalid setting";
    BadTest = "E0025", Error, "invalid test";
    AmbiguousTaggedColumn = "E0027", Error, "ambiguous `row[tagged …]`";
    BadLiteral = "E0028", Error, "invalid literal";
    NullComparison = "E0029", Error, "comparison with `null`";
    BadRowRule = "E0030", Error, "invalid row rule";
    BadGrant = "E0031", Error, "invalid grant";
    TargetOutsideScope = "E0032", Error, "target outside the policy's scope";
    TooDeep = "E0033", Error, "nesting too deep";
    ModifierOnField = "E0034", Error, "`key`, `event_time` or derivation on a struct field";
    RepeatedModifier = "E0035", Error, "column modifier written twice";
    SecondSpecialColumn = "E0036", Error, "a second key or event-time column";
    KeyType = "E0037", Error, "key column of a composite type";
    EventTimeType = "E0038", Error, "`event_time` on a column that is not a date or timestamp";
    TypeNotAllowedHere = "E0039", Error, "type not allowed here";
    BadTypeArguments = "E0040", Error, "wrong type arguments";
    UndeclaredLevel = "E0041", Error, "undeclared masking level";
    ExprResultType = "E0042", Error, "`expr(…)` result does not fit the column's type";
    GuaranteeBroken = "E0043", Error, "guarantee does not hold";
    BadReplacement = "E0044", Error, "invalid replacement text or character";
    BadBuckets = "E0045", Error, "invalid bucket edges or labels";
    AboveWithoutMax = "E0046", Error, "`above:` without `max:`";
    StringArgument = "E0047", Error, "string function argument out of range";
    CalendarDuration = "E0048", Error, "calendar duration where only a fixed duration is allowed";
    UndeclaredTable = "E0050", Error, "undeclared lookup table";
    BadTableFile = "E0051", Error, "lookup table file cannot be read";
    TableOutsidePolicySet = "E0052", Error, "lookup table file outside the policy set";
    TableType = "E0053", Error, "lookup table of a type it cannot hold";
    BadLink = "E0054", Error, "invalid `links` column";
    LinkCycle = "E0055", Error, "links form a cycle or a chain too long";
    UndeclaredMetadataKey = "E0057", Error, "undeclared source metadata key";
    InvalidSourceMetadata = "E0058", Error, "invalid source metadata";
    InvalidKAnonymity = "E0059", Error, "invalid k-anonymity rule";
    ApprovalNotAllowed = "E0061", Error, "`with approval` on a grant that cannot wait for approval";
    ApprovalWithoutApprovers = "E0062", Error, "approval without approvers";
    ApprovalWindow = "E0063", Error, "approval window out of range";
    TypeFallback = "W0001", Warning, "technique falls back on a column type it does not apply to";
    Lockout = "W0002", Warning, "rule locked out of a source";
    TaggedColumnSkip = "W0003", Warning, "`row[tagged …]` rule skips a source";
    SensitiveUncovered = "W0004", Warning, "sensitive column not covered by a mask rule";
    PolicyMatchesNothing = "W0005", Warning, "policy matches no column";
    PolicyAlwaysLoses = "W0006", Warning, "policy never takes effect";
    MaskedKey = "W0007", Warning, "key column masked";
    LeakByDichotomy = "W0008", Warning, "condition reads a column its audience cannot read";
    GlobalHash = "W0009", Warning, "pseudonyms join across sources";
    ScopeMatchesNothing = "W0010", Warning, "scope matches no source";
    KAnonymityCombined = "W0015", Warning, "k-anonymity declared twice on a source";
}

/// Where the explanation pages are published: `docs/codes/CODE.md` of the repository (the
/// address of `editors/vscode/package.json`'s repository). SARIF's `helpUri` and the language
/// server's `codeDescription` link there.
pub const DOCS_BASE_URI: &str = "https://github.com/pol-lang/pol/blob/main/docs/codes/";

impl Code {
    /// The address of the code's explanation page.
    pub fn help_uri(self) -> String {
        format!("{DOCS_BASE_URI}{}.md", self.as_str())
    }

    /// The explanation's first paragraph (after the title), on one line: SARIF's
    /// `fullDescription`.
    pub fn summary(self) -> String {
        let body = self
            .explanation()
            .split("\n\n")
            .nth(1)
            .unwrap_or_else(|| self.title());
        let body = body
            .strip_prefix("Error. ")
            .or_else(|| body.strip_prefix("Warning. "))
            .unwrap_or(body);
        body.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// The explanation of a retired code: what it covered and which codes replace it.
pub fn retired_explanation(code: &str) -> Option<&'static str> {
    match code {
        "E0026" => Some(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/codes/E0026.md"
        ))),
        _ => None,
    }
}

/// Codes no longer emitted. A code is never reused: a retired code's number stays taken.
///
/// - `E0026` (invalid column modifier) covered nine different messages; E0034–E0038 replace it.
pub const RETIRED: &[&str] = &["E0026"];

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{Code, RETIRED};

    #[test]
    fn a_retired_code_is_never_reused() {
        for code in Code::ALL {
            assert!(
                !RETIRED.contains(&code.as_str()),
                "{} is retired",
                code.as_str()
            );
        }
        for retired in RETIRED {
            assert_eq!(Code::from_code(retired), None);
        }
    }

    #[test]
    fn codes_are_unique() {
        let mut seen: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        seen.sort_unstable();
        let before = seen.len();
        seen.dedup();
        assert_eq!(seen.len(), before);
    }
}
