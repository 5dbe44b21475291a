//! What the proof says, on hover (issue 16): over a `guarantee` declaration, whether it holds
//! for every subject and row — and when it does not, the counter-example and the rule at fault,
//! exactly as E0043 says them; over a column, `polc who-can-see`'s summary of when it is clear,
//! with its k-anonymity and what it depends on that the proof does not decide.

use super::text::one_line;
use super::{Hover, Ide};
use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::proof::{who_can_see_column, Set};
use crate::source_map::{FileId, Loc};

/// The hover of the `guarantee` declaration at `offset`, if one is there.
pub(super) fn guarantee_hover(ide: &Ide, file: FileId, offset: usize) -> Option<Hover> {
    let analysis = &ide.analysis;
    let g = analysis
        .model
        .guarantees
        .iter()
        .find(|g| super::test_hover::within(g.loc, file, offset))?;
    let text = one_line(ide.files.snippet(g.loc), 80);
    let mut out = vec![format!("**guarantee** `{text}`")];
    let broken: Vec<&Diagnostic> = analysis
        .diagnostics
        .iter()
        .filter(|d| {
            d.code == Code::GuaranteeBroken
                && d.primary.file == file
                && g.loc.span.start <= d.primary.span.start
                && d.primary.span.end <= g.loc.span.end
        })
        .collect();
    let other_errors = analysis
        .diagnostics
        .iter()
        .any(|d| d.code != Code::GuaranteeBroken && d.severity() == Severity::Error);
    if broken.is_empty() && other_errors {
        out.push("*Not checked:* the policy set has errors; guarantees are proved only once it has none.".to_string());
    } else if broken.is_empty() {
        out.push("**Holds** for every possible subject and row (proved, not sampled).".to_string());
    }
    for d in broken {
        out.push(format!(
            "**Does not hold** ({}): {}",
            d.code.as_str(),
            d.message
        ));
        for l in &d.secondary {
            let (line, col) = ide.files.line_col(l.file, l.span.start);
            let name = &ide.files.get(l.file).name;
            out.push(format!(
                "*At fault:* `{}` ({name}:{line}:{col}) — {}",
                one_line(ide.files.snippet(Loc::new(l.file, l.span)), 80),
                l.message
            ));
        }
        for n in &d.notes {
            out.push(format!("*{}*", capitalize_first(n)));
        }
    }
    Some(Hover {
        loc: g.loc,
        markdown: out.join("\n\n"),
    })
}

fn capitalize_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `who-can-see`'s summary of a column: who sees it clear (one line per conjunction), the
/// temporary unmask grants, the source's k-anonymity when the column is one of its
/// quasi-identifiers, and the conditions the proof does not decide — or `None` when the set
/// has errors (the proof reads a model built without them).
pub(super) fn clear_summary(ide: &Ide, source: &str, column: &str) -> Option<String> {
    let analysis = &ide.analysis;
    if analysis.has_errors() {
        return None;
    }
    let set = Set {
        model: &analysis.model,
        resolution: &analysis.resolution,
        files: &ide.files,
    };
    let report = who_can_see_column(set, source, column).ok()?;
    let mut out = listed("Clear for", &report.clear.text());
    if !report.grants.is_empty() {
        out.push_str(&format!(
            "\n\n*And, by temporary unmask grants:* {}",
            report.grants.join("; ")
        ));
    }
    if let Some(k) = &report.k_anonymity {
        out.push_str(&format!("\n\n*Apart, k-anonymity:* {k}"));
    }
    if !report.depends_on.is_empty() {
        out.push_str("\n\n");
        out.push_str(&listed("Depends on (not decided)", &report.depends_on));
    }
    Some(out)
}

/// `*Title:* item` for one item, else `*Title:*` and a bulleted list.
fn listed(title: &str, items: &[String]) -> String {
    match items {
        [one] => format!("*{title}:* {one}"),
        _ => {
            let items: Vec<String> = items.iter().map(|l| format!("- {l}")).collect();
            format!("*{title}:*\n{}", items.join("\n"))
        }
    }
}
