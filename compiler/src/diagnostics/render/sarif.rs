//! SARIF 2.1.0 for GitHub code scanning: one run of the `polc` tool, one rule per code of
//! [`Code::ALL`] (whether used or not, so `ruleIndex` is stable), one result per diagnostic.
//!
//! - Columns count characters (`columnKind: unicodeCodePoints`), one-based; `endColumn` is
//!   exclusive, as SARIF says.
//! - `artifactLocation.uri` is the file name as given, with `\` turned into `/` and every byte
//!   outside `A-Z a-z 0-9 - . _ ~ /` percent-encoded (so a space is `%20`); an absolute path
//!   becomes a `file://` URI.
//! - `message.text` is the message, then one line per help (`help: …`) and note (`note: …`).
//! - The primary label's message is the message of `locations[0]`; secondary labels are
//!   `relatedLocations` numbered from 1.
//! - `partialFingerprints["polcDiagnosticHash/v1"]` is the first 128 bits of SHA-256 over the
//!   code, URI and message, in hex, then `:N` for the N-th result with that hash in the run, so
//!   it survives edits that move lines.
//! - Fixes are SARIF `fixes`, their edits grouped by file.

use super::{place, Place};
use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::source_map::{Loc, SourceMap};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

pub(crate) const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub(crate) const FINGERPRINT_KEY: &str = "polcDiagnosticHash/v1";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Message,
    full_description: Message,
    help_uri: String,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix {
    description: Message,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: Message,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The project's home page or repository from the manifest, when it names one.
fn information_uri() -> Option<&'static str> {
    [
        option_env!("CARGO_PKG_HOMEPAGE"),
        option_env!("CARGO_PKG_REPOSITORY"),
    ]
    .into_iter()
    .flatten()
    .find(|s| !s.is_empty())
}

/// A file name as a SARIF URI (reference): forward slashes, a leading `./` dropped, everything
/// but unreserved characters and `/` percent-encoded; an absolute path as a `file://` URI.
pub(crate) fn artifact_uri(name: &str) -> String {
    let mut path = name.replace('\\', "/");
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    let bytes = path.as_bytes();
    let drive = matches!(bytes, [d, b':', b'/', ..] if d.is_ascii_alphabetic());
    let (mut out, absolute) = if path.starts_with('/') {
        (String::from("file://"), true)
    } else if drive {
        (String::from("file:///"), true)
    } else {
        (String::new(), false)
    };
    for &b in bytes {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
            || (absolute && b == b':');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn region(p: &Place<'_>) -> Region {
    Region {
        start_line: p.start.line,
        start_column: p.start.column,
        end_line: p.end.line,
        end_column: p.end.column,
    }
}

fn physical(files: &SourceMap, loc: Loc) -> PhysicalLocation {
    let p = place(files, loc);
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: artifact_uri(&p.name),
        },
        region: region(&p),
    }
}

/// The rule name: the code's variant name, which is CamelCase.
fn rule_name(code: Code) -> String {
    format!("{code:?}")
}

fn fingerprint(code: Code, uri: &str, message: &str) -> String {
    let mut h = Sha256::new();
    h.update(code.as_str().as_bytes());
    h.update([0]);
    h.update(uri.as_bytes());
    h.update([0]);
    h.update(message.as_bytes());
    let digest = h.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn result(d: &Diagnostic, files: &SourceMap, seen: &mut HashMap<String, usize>) -> SarifResult {
    let primary = physical(files, d.primary.loc());
    let hash = fingerprint(d.code, &primary.artifact_location.uri, &d.message);
    let occurrence = {
        let n = seen.entry(hash.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let mut text = d.message.clone();
    for h in &d.help {
        text.push_str("\nhelp: ");
        text.push_str(h);
    }
    for n in &d.notes {
        text.push_str("\nnote: ");
        text.push_str(n);
    }
    SarifResult {
        rule_id: d.code.as_str(),
        rule_index: Code::ALL.iter().position(|&c| c == d.code).unwrap_or(0),
        level: level(d.severity()),
        message: Message { text },
        locations: vec![Location {
            id: None,
            physical_location: primary,
            message: (!d.primary.message.is_empty()).then(|| Message {
                text: d.primary.message.clone(),
            }),
        }],
        related_locations: d
            .secondary
            .iter()
            .enumerate()
            .map(|(i, l)| Location {
                id: Some(i + 1),
                physical_location: physical(files, l.loc()),
                message: Some(Message {
                    text: l.message.clone(),
                }),
            })
            .collect(),
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, format!("{hash}:{occurrence}"))]),
        fixes: d
            .fixes
            .iter()
            .map(|f| {
                let mut changes: Vec<ArtifactChange> = Vec::new();
                for (loc, replacement) in &f.edits {
                    let p = physical(files, *loc);
                    let r = Replacement {
                        deleted_region: p.region,
                        inserted_content: Message {
                            text: replacement.clone(),
                        },
                    };
                    match changes
                        .iter_mut()
                        .find(|c| c.artifact_location.uri == p.artifact_location.uri)
                    {
                        Some(c) => c.replacements.push(r),
                        None => changes.push(ArtifactChange {
                            artifact_location: p.artifact_location,
                            replacements: vec![r],
                        }),
                    }
                }
                SarifFix {
                    description: Message {
                        text: f.title.clone(),
                    },
                    artifact_changes: changes,
                }
            })
            .collect(),
    }
}

pub(super) fn render(diags: &[Diagnostic], files: &SourceMap) -> String {
    let rules = Code::ALL
        .iter()
        .map(|&c| Rule {
            id: c.as_str(),
            name: rule_name(c),
            short_description: Message {
                text: c.title().to_string(),
            },
            full_description: Message { text: c.summary() },
            help_uri: c.help_uri(),
            default_configuration: Configuration {
                level: level(c.severity()),
            },
        })
        .collect();
    let mut seen = HashMap::new();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "polc",
                    information_uri: information_uri(),
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results: diags.iter().map(|d| result(d, files, &mut seen)).collect(),
        }],
    };
    // Plain data of strings and numbers: serialising it cannot fail, and if it ever did the
    // output says so rather than stopping the program.
    let mut out = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    out.push('\n');
    out
}
