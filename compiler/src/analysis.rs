//! The analysis of a policy set: parse every file, resolve and check, run the lints.
//! This is the one entry point the CLI and the language server ask.

use crate::diagnostics::{self, Code, Diagnostic};
use crate::model::Model;
use crate::source_map::{FileId, Loc, SourceMap};
use pol_grammar::ast::SourceFile;
use pol_grammar::SyntaxErrorKind;
use std::ops::Range;

/// Everything known about a policy set after checking.
pub struct Analysis {
    /// The syntax trees (empty after a one-shot [`check`], which frees them once resolved).
    pub asts: Vec<SourceFile>,
    pub model: Model,
    /// The ordered candidates of every column (enforced rules only).
    pub resolution: crate::conflicts::Resolution,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// For each file, where its diagnostics (by primary label) lie in `diagnostics`.
    pub by_file: Vec<std::ops::Range<usize>>,
    /// What the lints found on each source (kept for an incremental analysis).
    pub findings: crate::lints::Findings,
    /// What the resolution keeps for an incremental analysis of the next version of the files
    /// ([`check_parsed_after`]).
    pub memo: crate::resolve::memo::Memo,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        diagnostics::count(&self.diagnostics).0 > 0
    }
}

/// Parses the files given by a source map.
///
/// Files are independent, so large sets are parsed on every available core.
pub fn parse_all(files: &SourceMap) -> Vec<SourceFile> {
    let texts: Vec<&str> = files.files().map(|(_, f)| f.text.as_str()).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let total: usize = texts.iter().map(|t| t.len()).sum();
    if threads < 2 || texts.len() < 2 || total < 256 * 1024 {
        return texts.iter().map(|t| pol_grammar::parse_file(t)).collect();
    }
    let chunk = texts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|t| pol_grammar::parse_file(t))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(asts) => asts,
                // The parser does not panic (property-tested); if it ever did, re-raise it
                // rather than lose files.
                Err(payload) => std::panic::resume_unwind(payload),
            })
            .collect()
    })
}

/// The diagnostic code of a syntax error.
pub fn syntax_code(kind: SyntaxErrorKind) -> Code {
    match kind {
        SyntaxErrorKind::Syntax => Code::Syntax,
        SyntaxErrorKind::TooDeep => Code::TooDeep,
    }
}

/// Checks a whole policy set, once: the analysis keeps no memo for a next, incremental one and
/// no syntax trees (its `memo` and `asts` are empty; the analysis host uses
/// [`check_parsed_after`]).
pub fn check(files: &SourceMap) -> Analysis {
    let asts = parse_all(files);
    analyse(files, asts, None, false)
}

/// Checks a policy set whose files are already parsed (the language server re-parses only the
/// edited file).
pub fn check_parsed(files: &SourceMap, asts: Vec<SourceFile>) -> Analysis {
    check_parsed_after(files, asts, None)
}

/// [`check_parsed`] after an edit: `previous` is the analysis of an earlier version of the same
/// files (the same number, in the same order) and `same[i]` says that file `i` has the very
/// text it had then. Reuses what resolving that version kept (`crate::resolve::memo`); the
/// result equals [`check_parsed`]'s.
pub fn check_parsed_after(
    files: &SourceMap,
    asts: Vec<SourceFile>,
    previous: Option<(&Analysis, &[bool])>,
) -> Analysis {
    analyse(files, asts, previous, true)
}

/// The analysis; with `keep`, the resolution's memo too.
fn analyse(
    files: &SourceMap,
    asts: Vec<SourceFile>,
    previous: Option<(&Analysis, &[bool])>,
    keep: bool,
) -> Analysis {
    let mut diags: Vec<Diagnostic> = Vec::new();
    for (i, ast) in asts.iter().enumerate() {
        for e in &ast.errors {
            let at = Loc::new(FileId(i as u32), e.span);
            let mut d = Diagnostic::new(syntax_code(e.kind), e.message.clone(), at, "here");
            if let Some(fix) = &e.fix {
                let title = if e.span.is_empty() {
                    format!("insert `{fix}`")
                } else {
                    format!("replace with `{fix}`")
                };
                d = d.with_fix(title, at, fix.clone());
            }
            diags.push(d);
        }
    }
    let earlier = previous.map(|(a, same)| crate::resolve::memo::Previous {
        asts: &a.asts,
        memo: &a.memo,
        same,
    });
    let (model, mut more, memo) = if keep {
        crate::resolve::resolve_after(files, &asts, earlier.as_ref())
    } else {
        let (model, diags) = crate::resolve::resolve(files, &asts);
        (model, diags, crate::resolve::memo::Memo::default())
    };
    diags.append(&mut more);
    if keep {
        return conclude(files, asts, model, diags, memo, previous);
    }
    // A one-shot check keeps no syntax trees once the model is resolved (nothing after the
    // checker reads syntax): they are freed on another thread while conflicts and lints run, so
    // that the peak memory of `polc check` and `polc build` does not hold trees and the later
    // stages at once. The thread is joined before returning (no thread outlives the call).
    std::thread::scope(|scope| {
        // If no thread can be started, the trees are dropped here (the closure is dropped).
        let _ = std::thread::Builder::new().spawn_scoped(scope, move || drop(asts));
        conclude(files, Vec::new(), model, diags, memo, previous)
    })
}

/// The analysis after resolving: the ordered candidates, the lints and the guarantees.
fn conclude(
    files: &SourceMap,
    asts: Vec<SourceFile>,
    model: Model,
    mut diags: Vec<Diagnostic>,
    memo: crate::resolve::memo::Memo,
    previous: Option<(&Analysis, &[bool])>,
) -> Analysis {
    // After an edit of policies only, the sources no changed policy can meet keep their
    // ordered candidates and lint findings.
    let changes = previous.and_then(|(a, _)| Some((a, memo.changes_since(&a.memo)?)));
    let resolution = crate::conflicts::incremental::resolve_after(
        &model,
        false,
        changes.as_ref().map(|(a, c)| (&a.resolution, c)),
    );
    let findings = crate::lints::Findings::find_after(
        &model,
        &resolution,
        changes.as_ref().map(|(a, c)| (&a.findings, c)),
    );
    findings.report(&model, &mut diags);
    if !diags
        .iter()
        .any(|d| d.severity() == diagnostics::Severity::Error)
    {
        let set = crate::proof::Set {
            model: &model,
            resolution: &resolution,
            files,
        };
        diags.extend(crate::proof::guarantee::check(set));
    }
    let (diagnostics, by_file) = sort_per_file(diags, asts.len());
    Analysis {
        asts,
        model,
        resolution,
        diagnostics,
        by_file,
        findings,
        memo,
    }
}

/// The diagnostics in [`diagnostics::sort`]'s order, sorted file by file (each file's are put
/// together first: no sort of the whole list), with the range of each of the `files` files.
fn sort_per_file(diags: Vec<Diagnostic>, files: usize) -> (Vec<Diagnostic>, Vec<Range<usize>>) {
    let mut per_file: Vec<Vec<Diagnostic>> = Vec::new();
    per_file.resize_with(files, Vec::new);
    let mut elsewhere = Vec::new();
    for d in diags {
        match per_file.get_mut(d.primary.file.0 as usize) {
            Some(list) => list.push(d),
            None => elsewhere.push(d),
        }
    }
    let mut out = Vec::new();
    let mut ranges = Vec::with_capacity(files);
    for mut list in per_file {
        diagnostics::sort(&mut list);
        let start = out.len();
        out.append(&mut list);
        ranges.push(start..out.len());
    }
    // Labels of no file of the set (none is made; kept last, in order, should one be).
    diagnostics::sort(&mut elsewhere);
    out.append(&mut elsewhere);
    (out, ranges)
}
