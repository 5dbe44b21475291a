//! The analysis host: changes, snapshot isolation, parse reuse, policy sets.

use super::*;
use std::path::Path;

const DECLS: &str =
    "tag PII;\ntag Country;\nsource customers {\n  id: int key,\n  email: text tagged PII,\n}\n";
const POLICY: &str = "policy p {\n  mask columns tagged PII using null for everyone\n}\n";

fn doc(name: &str) -> FileKey {
    FileKey::Detached(name.to_string())
}

/// A host with the two documents open, at version 1.
fn host() -> AnalysisHost {
    let mut host = AnalysisHost::new();
    for (name, text) in [("a.pol", DECLS), ("b.pol", POLICY)] {
        host.apply_change(Change::Open {
            file: doc(name),
            text: text.to_string(),
            version: 1,
        });
    }
    host
}

fn edit(file: &FileKey, changes: Vec<TextChange>, version: i32) -> Change {
    Change::Edit {
        file: file.clone(),
        changes,
        version,
    }
}

fn at(line: u32, character: u32) -> LineCol16 {
    LineCol16 { line, character }
}

fn replace(start: LineCol16, end: LineCol16, text: &str) -> TextChange {
    TextChange {
        range: Some((start, end)),
        text: text.to_string(),
    }
}

fn messages(analysis: &Analysis, file: &FileKey) -> Vec<String> {
    analysis
        .diagnostics(file)
        .iter()
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect()
}

/// The parse a snapshot's analysis used for a file.
fn parse_of(analysis: &Analysis, file: &FileKey) -> Arc<SourceFile> {
    analysis
        .kept_parse(file)
        .expect("the file is in the snapshot, parsed")
}

#[test]
fn ranged_edits_apply_in_order_in_utf16_columns() {
    let mut host = AnalysisHost::new();
    let f = doc("x.pol");
    host.apply_change(Change::Open {
        file: f.clone(),
        text: "tag é1;\ntag B;\n".to_string(),
        version: 1,
    });
    // `é` is one UTF-16 unit (two bytes): column 6 is after `1`. The second edit's positions are those of
    // the text the first one left.
    host.apply_change(edit(
        &f,
        vec![
            replace(at(0, 6), at(0, 6), "x"),
            replace(at(1, 4), at(1, 5), "Bee"),
        ],
        2,
    ));
    assert_eq!(
        host.text(&f).as_deref().map(String::as_str),
        Some("tag é1x;\ntag Bee;\n")
    );
    host.apply_change(edit(
        &f,
        vec![TextChange {
            range: None,
            text: "tag Z;\n".to_string(),
        }],
        3,
    ));
    assert_eq!(
        host.text(&f).as_deref().map(String::as_str),
        Some("tag Z;\n")
    );
    // Positions past the end are clamped, never out of bounds.
    host.apply_change(edit(&f, vec![replace(at(9, 9), at(99, 0), "!")], 4));
    assert_eq!(
        host.text(&f).as_deref().map(String::as_str),
        Some("tag Z;\n!")
    );
}

#[test]
fn the_editors_text_wins_over_the_disks_while_open() {
    let mut host = host();
    let a = doc("a.pol");
    let g = host.generation();
    host.apply_change(Change::Disk {
        file: a.clone(),
        text: "tag Other;\n".to_string(),
    });
    host.apply_change(Change::Removed { file: a.clone() });
    assert_eq!(host.generation(), g, "ignored changes leave the generation");
    assert_eq!(host.text(&a).as_deref().map(String::as_str), Some(DECLS));
    assert!(host.is_open(&a));
    // A detached document closed leaves the workspace.
    host.apply_change(Change::Close { file: a.clone() });
    assert!(host.generation() > g);
    assert_eq!(host.text(&a), None);
    host.apply_change(Change::Disk {
        file: a.clone(),
        text: "tag Other;\n".to_string(),
    });
    assert!(!host.is_open(&a));
    host.apply_change(Change::Removed { file: a.clone() });
    assert_eq!(host.text(&a), None);
}

#[test]
fn a_closed_workspace_file_takes_the_disks_text_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.pol");
    std::fs::write(&path, "tag OnDisk;\n").expect("writes");
    let mut host = AnalysisHost::new();
    host.apply_change(Change::Folders(vec![dir.path().to_path_buf()]));
    let f = FileKey::Path(path);
    host.apply_change(Change::Open {
        file: f.clone(),
        text: "tag InEditor;\n".to_string(),
        version: 1,
    });
    host.apply_change(Change::Close { file: f.clone() });
    assert_eq!(
        host.text(&f).as_deref().map(String::as_str),
        Some("tag OnDisk;\n")
    );
    assert!(!host.is_open(&f));
    // Outside every folder, a closed file leaves the workspace even when it exists on disk.
    let outside = tempfile::tempdir().expect("tempdir");
    let alone = FileKey::Path(outside.path().join("y.pol"));
    std::fs::write(outside.path().join("y.pol"), "tag Y;\n").expect("writes");
    host.apply_change(Change::Open {
        file: alone.clone(),
        text: "tag Y;\n".to_string(),
        version: 1,
    });
    host.apply_change(Change::Close {
        file: alone.clone(),
    });
    assert_eq!(host.text(&alone), None);
}

#[test]
fn an_old_snapshot_keeps_answering_after_a_later_change() {
    let mut host = host();
    let b = doc("b.pol");
    let before = host.snapshot();
    // Not analysed yet: the change below must not leak into it.
    host.apply_change(edit(&b, vec![replace(at(1, 22), at(1, 25), "Nope")], 2));
    let after = host.snapshot();
    assert_eq!(
        host.text(&b).as_deref().map(String::as_str),
        Some("policy p {\n  mask columns tagged Nope using null for everyone\n}\n")
    );
    assert_eq!(messages(&before, &b), Vec::<String>::new());
    let now = messages(&after, &b);
    assert_eq!(now.len(), 1, "{now:?}");
    assert!(now[0].contains("`Nope`"), "{now:?}");
    // The old snapshot still hovers `PII` in its text; the new one has no `PII` there.
    let pii = POLICY.find("PII").expect("PII in the policy");
    let hover = before.hover(&b, pii + 1).expect("a hover on PII");
    assert_eq!(hover.loc.span, pol_grammar::Span::new(pii, pii + 3));
    assert!(hover.markdown.contains("PII"), "{}", hover.markdown);
    assert_eq!(before.text(&b), Some(POLICY));
    assert_eq!(before.generation() + 1, after.generation());
    // A snapshot crosses threads and answers there.
    let moved = before.clone();
    let answer = std::thread::spawn(move || moved.hover(&doc("b.pol"), pii + 1).map(|h| h.loc))
        .join()
        .expect("the thread answers");
    assert_eq!(answer, Some(hover.loc));
}

#[test]
fn an_edit_reparses_only_the_file_it_changes() {
    let mut host = host();
    let (a, b) = (doc("a.pol"), doc("b.pol"));
    let first = host.snapshot();
    let (a1, b1) = (parse_of(&first, &a), parse_of(&first, &b));
    // Insert a line at the top of b.pol: every span after it shifts.
    host.apply_change(edit(&b, vec![replace(at(0, 0), at(0, 0), "// moved\n")], 2));
    let second = host.snapshot();
    let (a2, b2) = (parse_of(&second, &a), parse_of(&second, &b));
    assert!(Arc::ptr_eq(&a1, &a2), "a.pol is not parsed again");
    assert!(!Arc::ptr_eq(&b1, &b2), "b.pol is parsed again");
    // A parse made by a snapshot is kept by the host for the next one, even when that snapshot
    // was taken before the parse.
    let third = host.snapshot();
    assert!(Arc::ptr_eq(&parse_of(&third, &b), &b2));
}

#[test]
fn an_older_analysis_answers_hovers_shifted_by_an_edit() {
    let mut host = host();
    let b = doc("b.pol");
    let analysed = host.snapshot();
    analysed.analyse();
    host.apply_change(edit(&b, vec![replace(at(0, 0), at(0, 0), "// moved\n")], 2));
    let current = host.text(&b).expect("b.pol is open");
    let pii = current.find("PII").expect("PII in the policy");
    let hover = analysed
        .hover_in(&b, &current, pii + 1)
        .expect("PII lies after the edit");
    assert_eq!(hover.loc.span, pol_grammar::Span::new(pii, pii + 3));
    assert_eq!(Some(hover), host.snapshot().hover(&b, pii + 1));
    // A name the edit touches waits for the new analysis.
    host.apply_change(edit(&b, vec![replace(at(2, 25), at(2, 25), "X")], 3));
    let current = host.text(&b).expect("b.pol is open");
    assert_eq!(analysed.hover_in(&b, &current, pii + 1), None);
}

#[test]
fn each_policy_set_is_analysed_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = dir.path();
    for d in ["one", "two"] {
        std::fs::create_dir_all(ws.join(d)).expect("creates");
    }
    std::fs::write(ws.join("one/pol.toml"), "").expect("writes");
    std::fs::write(ws.join("two/pol.toml"), "name = 3\n").expect("writes");
    let mut host = AnalysisHost::new();
    host.apply_change(Change::Folders(vec![ws.to_path_buf()]));
    let file = |p: &str| FileKey::Path(ws.join(p));
    for (p, text) in [
        ("one/a.pol", DECLS),
        ("one/b.pol", POLICY),
        ("two/b.pol", POLICY),
    ] {
        host.apply_change(Change::Disk {
            file: file(p),
            text: text.to_string(),
        });
    }
    let analysis = host.snapshot();
    assert_eq!(analysis.sets().len(), 2);
    assert_eq!(
        messages(&analysis, &file("one/b.pol")),
        Vec::<String>::new()
    );
    // `two` does not see `one`'s declaration of PII.
    assert_eq!(messages(&analysis, &file("two/b.pol")).len(), 1);
    let bad: Vec<&Path> = analysis
        .bad_manifests()
        .iter()
        .map(|m| m.path.as_path())
        .collect();
    assert_eq!(bad, [ws.join("two/pol.toml").as_path()]);
    let def = analysis.definition(&file("one/b.pol"), POLICY.find("PII").expect("PII") + 1);
    assert_eq!(
        def,
        [Located {
            file: file("one/a.pol"),
            span: pol_grammar::Span::new(4, 7),
        }]
    );
}

#[test]
fn snapshots_are_send_sync_and_cheap_to_clone() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<Analysis>();
}

/// The files of the incremental-analysis property test: two policy sets (two workspace folders)
/// whose files declare tags, sources and policies that use each other's names.
const WORKSPACE: &[(&str, &str)] = &[
    (
        "/pol-ws-one/decls.pol",
        "tag PII sensitive;\ntag PII.Email;\ntag Region;\npurpose Support;\nsubject { team: text }\n",
    ),
    (
        "/pol-ws-one/sources.pol",
        "source customers {\n  id: int key,\n  email: text tagged PII.Email,\n  region: text tagged Region,\n}\nsource orders {\n  id: int key,\n  note: text tagged PII,\n}\n",
    ),
    (
        "/pol-ws-one/policies.pol",
        "policy hide_pii {\n  mask columns tagged PII using null for everyone\n}\npolicy emails {\n  mask customers.email using hash for everyone except user.team == \"support\"\n}\n",
    ),
    (
        "/pol-ws-two/only.pol",
        "tag Secret sensitive;\nsource vault {\n  id: int key,\n  code: text tagged Secret,\n}\npolicy hide {\n  mask columns tagged Secret using null for everyone\n}\n",
    ),
];

/// What an edit of the property test inserts: names declared, used, misspelt, duplicated,
/// broken syntax, whole declarations.
const FRAGMENTS: &[&str] = &[
    "tag Extra;\n",
    "tag PII;\n",
    "tagged Missing",
    " tagged Region",
    "source customers {\n  id: int key,\n}\n",
    "source more {\n  id: int key,\n  mail: text tagged PII.Email,\n}\n",
    "policy hide_pii {\n  mask columns tagged Region using null for everyone\n}\n",
    "policy extra {\n  mask orders.note using redact for everyone\n}\n",
    "policy bad {\n  mask nowhere.x using null for everyone\n}\n",
    "settings { combine_exceptions = true }\n",
    "}",
    "{",
    "PII",
    "x",
    "",
];

/// An edit: in file `file % files`, at the byte `at % (len + 1)`, delete up to `delete` bytes
/// and insert fragment `fragment % FRAGMENTS.len()`; `analyse` says whether the snapshot taken
/// after it is analysed before the next edit (else the next snapshot skips it).
#[derive(Clone, Debug)]
struct RandomEdit {
    file: usize,
    at: usize,
    delete: usize,
    fragment: usize,
    analyse: bool,
}

fn random_edit() -> impl proptest::strategy::Strategy<Value = RandomEdit> {
    use proptest::prelude::*;
    (
        any::<usize>(),
        any::<usize>(),
        0usize..12,
        any::<usize>(),
        any::<bool>(),
    )
        .prop_map(|(file, at, delete, fragment, analyse)| RandomEdit {
            file,
            at,
            delete,
            fragment,
            analyse,
        })
}

/// The (line, UTF-16 column) of a byte offset of an ASCII text.
fn line_col(text: &str, offset: usize) -> LineCol16 {
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let character = (offset - before.rfind('\n').map_or(0, |i| i + 1)) as u32;
    at(line, character)
}

/// A host that has never analysed anything, with these texts open.
fn fresh_host(files: &[(FileKey, String)]) -> AnalysisHost {
    let mut host = AnalysisHost::new();
    host.apply_change(Change::Folders(vec![
        PathBuf::from("/pol-ws-one"),
        PathBuf::from("/pol-ws-two"),
    ]));
    for (key, text) in files {
        host.apply_change(Change::Open {
            file: key.clone(),
            text: text.clone(),
            version: 1,
        });
    }
    host
}

/// Every diagnostic of every file, and a hover every few bytes of every file.
fn answers(analysis: &Analysis, files: &[(FileKey, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (key, text) in files {
        for d in analysis.diagnostics(key) {
            out.push(format!("{}: {d:?}", key.name()));
        }
        for offset in (0..=text.len()).step_by(7) {
            if let Some(h) = analysis.hover(key, offset) {
                out.push(format!("{}@{offset}: {h:?}", key.name()));
            }
        }
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// After every edit of a random sequence, the host (which reuses what earlier snapshots
    /// analysed) answers exactly as a host analysing the same texts from scratch: the same
    /// diagnostics of every file, the same hovers.
    #[test]
    fn incremental_analysis_equals_analysis_from_scratch(
        edits in proptest::collection::vec(random_edit(), 1..12)
    ) {
        let mut files: Vec<(FileKey, String)> = WORKSPACE
            .iter()
            .map(|(p, t)| (FileKey::Path(PathBuf::from(p)), t.to_string()))
            .collect();
        let mut host = fresh_host(&files);
        host.snapshot().analyse();
        for (version, e) in edits.iter().enumerate() {
            let i = e.file % files.len();
            let (key, text) = &mut files[i];
            let start = e.at % (text.len() + 1);
            let end = (start + e.delete).min(text.len());
            let fragment = FRAGMENTS[e.fragment % FRAGMENTS.len()];
            let change = replace(line_col(text, start), line_col(text, end), fragment);
            text.replace_range(start..end, fragment);
            host.apply_change(edit(key, vec![change], version as i32 + 2));
            let snapshot = host.snapshot();
            if !e.analyse {
                continue;
            }
            let expected_host = fresh_host(&files);
            let expected = answers(&expected_host.snapshot(), &files);
            proptest::prop_assert_eq!(answers(&snapshot, &files), expected);
        }
    }
}

#[test]
fn an_edit_reanalyses_only_the_set_of_the_edited_file() {
    let files: Vec<(FileKey, String)> = WORKSPACE
        .iter()
        .map(|(p, t)| (FileKey::Path(PathBuf::from(p)), t.to_string()))
        .collect();
    let mut host = fresh_host(&files);
    let before = host.snapshot();
    before.analyse();
    let (one, two) = (&files[0].0, &files[3].0);
    host.apply_change(edit(
        one,
        vec![replace(at(0, 0), at(0, 0), "tag Extra;\n")],
        2,
    ));
    // A snapshot taken and never analysed in between does not break the reuse.
    let _skipped = host.snapshot();
    host.apply_change(edit(
        one,
        vec![replace(at(0, 0), at(0, 0), "tag More;\n")],
        3,
    ));
    let after = host.snapshot();
    let set = |a: &Analysis, f: &FileKey| a.set_of(f).expect("in a set").clone();
    assert!(Arc::ptr_eq(&set(&before, two), &set(&after, two)));
    assert!(!Arc::ptr_eq(&set(&before, one), &set(&after, one)));
    assert_eq!(messages(&after, one), Vec::<String>::new());
}

/// One policy set of four files whose declarations refer to each other: tags, purposes, a
/// subject, levels, sources used by policies, exempts and tests of the other files.
const ONE_SET: &[(&str, &str)] = &[
    (
        "/pol-ws-set/tags.pol",
        "tag PII sensitive;\ntag PII.Email;\ntag PII.Phone;\ntag Region;\npurpose Support;\nsubject { team: text, clearance: int }\nlevel high;\nlevel low;\n",
    ),
    (
        "/pol-ws-set/customers.pol",
        "source customers {\n  id: int key,\n  email: text tagged PII.Email,\n  phone: text tagged PII.Phone,\n  region: text tagged Region,\n}\npolicy cust_email {\n  mask customers.email using hash for everyone except user.team == \"support\"\n}\n",
    ),
    (
        "/pol-ws-set/orders.pol",
        "source orders {\n  id: int key,\n  note: text tagged PII,\n  region: text tagged Region,\n}\npolicy orders_rows {\n  show rows of orders where row.region == \"eu\" to everyone\n}\n",
    ),
    (
        "/pol-ws-set/policies.pol",
        "policy hide_pii {\n  mask columns tagged PII using null for everyone\n}\npolicy phones on source customers {\n  mask columns tagged PII.Phone using redact for everyone\n}\npolicy notes {\n  mask orders.note using redact for everyone\n}\n",
    ),
];

/// What an edit of the single-set property test inserts: declarations other files use (added,
/// duplicated, renamed), uses of names declared elsewhere, rules, broken syntax.
const SET_FRAGMENTS: &[&str] = &[
    "tag PII.Email;\n",
    "tag Region2;\n",
    "tag PII sensitive;\n",
    "source customers {\n  id: int key,\n}\n",
    "source orders2 {\n  id: int key,\n  note: text tagged PII.Email,\n}\n",
    "source extra {\n  id: int key,\n  phone: text tagged PII.Phone,\n  zone: text tagged Region,\n}\n",
    "policy hide_pii {\n  mask columns tagged Region using null for everyone\n}\n",
    "policy more {\n  mask customers.phone using redact for everyone\n}\n",
    "policy regional on source orders {\n  mask columns tagged Region using null for everyone\n}\n",
    "  mask orders.region using null for everyone\n",
    "  mask columns tagged PII.Email using hash for everyone\n",
    "exempt on source orders if user.clearance > 3;\n",
    "level mid;\n",
    "settings { combine_exceptions = true }\n",
    "Email",
    "Phone",
    "orders",
    "customers",
    "}",
    "{",
    ";",
    "",
];

/// An edit of one file of the set: replace bytes, or move a line (a rule, a declaration's
/// line) from one place to another of the same file.
#[derive(Clone, Debug)]
enum SetEdit {
    Replace(RandomEdit),
    MoveLine { file: usize, from: usize, to: usize },
}

fn set_edit() -> impl proptest::strategy::Strategy<Value = SetEdit> {
    use proptest::prelude::*;
    prop_oneof![
        3 => random_edit().prop_map(SetEdit::Replace),
        1 => (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(file, from, to)| SetEdit::MoveLine { file, from, to }),
    ]
}

/// The byte offsets where the lines of a text start.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .collect()
}

/// Applies an edit to the texts; returns the file changed and the editor's change.
fn apply_set_edit(files: &mut [(FileKey, String)], e: &SetEdit) -> (usize, TextChange) {
    match e {
        SetEdit::Replace(e) => {
            let i = e.file % files.len();
            let text = &mut files[i].1;
            let start = e.at % (text.len() + 1);
            let end = (start + e.delete).min(text.len());
            let fragment = SET_FRAGMENTS[e.fragment % SET_FRAGMENTS.len()];
            let change = replace(line_col(text, start), line_col(text, end), fragment);
            text.replace_range(start..end, fragment);
            (i, change)
        }
        SetEdit::MoveLine { file, from, to } => {
            let i = file % files.len();
            let old = files[i].1.clone();
            let starts = line_starts(&old);
            let mut new = old.clone();
            if let Some(&a) = starts.get(from % starts.len().max(1)) {
                let b = old[a..].find('\n').map_or(old.len(), |n| a + n + 1);
                let line = old[a..b].to_string();
                new.replace_range(a..b, "");
                let rest = line_starts(&new);
                let at = rest
                    .get(to % (rest.len() + 1))
                    .copied()
                    .unwrap_or(new.len());
                new.insert_str(at, &line);
            }
            let change = TextChange {
                range: None,
                text: new.clone(),
            };
            files[i].1 = new;
            (i, change)
        }
    }
}

/// A host of the one set, never analysed, with these texts open.
fn fresh_set_host(files: &[(FileKey, String)]) -> AnalysisHost {
    let mut host = AnalysisHost::new();
    host.apply_change(Change::Folders(vec![PathBuf::from("/pol-ws-set")]));
    for (key, text) in files {
        host.apply_change(Change::Open {
            file: key.clone(),
            text: text.clone(),
            version: 1,
        });
    }
    host
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Within one policy set of several files, after every edit of a random sequence (adding,
    /// removing, duplicating and renaming declarations other files use, breaking the syntax,
    /// moving a rule or a declaration), the host answers exactly as one analysing the same
    /// texts from scratch: every diagnostic of every file, the hovers of every file.
    #[test]
    fn incremental_analysis_of_one_set_equals_analysis_from_scratch(
        edits in proptest::collection::vec(set_edit(), 1..16)
    ) {
        let mut files: Vec<(FileKey, String)> = ONE_SET
            .iter()
            .map(|(p, t)| (FileKey::Path(PathBuf::from(p)), t.to_string()))
            .collect();
        let mut host = fresh_set_host(&files);
        host.snapshot().analyse();
        for (version, e) in edits.iter().enumerate() {
            let (i, change) = apply_set_edit(&mut files, e);
            host.apply_change(edit(&files[i].0, vec![change], version as i32 + 2));
            let snapshot = host.snapshot();
            if matches!(e, SetEdit::Replace(r) if !r.analyse) {
                continue;
            }
            let expected = answers(&fresh_set_host(&files).snapshot(), &files);
            proptest::prop_assert_eq!(answers(&snapshot, &files), expected);
        }
    }
}

/// The files of the generated workspace of [`generated_workspace_edits_equal_analysis_from_scratch`]:
/// the declarations, `sources` files of one source and its policies each, and a file of policies
/// over every source.
fn generated_workspace(sources: usize) -> Vec<(FileKey, String)> {
    let mut files = vec![(
        FileKey::Path(PathBuf::from("/pol-ws-gen/decls.pol")),
        "tag PII sensitive;\ntag PII.Email;\ntag PII.Phone;\ntag Region;\nsubject { team: text }\n"
            .to_string(),
    )];
    for i in 0..sources {
        let text = format!(
            "source s{i} {{\n  id: int key,\n  email: text tagged PII.Email,\n  phone: text tagged PII.Phone,\n  region: text tagged Region,\n  card: text tagged PII,\n}}\n\
             policy p{i}_email {{\n  mask column s{i}.email using hash for everyone except user.team == \"support\"\n}}\n\
             policy p{i}_phone on source s{i} {{\n  mask columns tagged PII.Phone where row.region == \"eu\" using redact for everyone\n}}\n"
        );
        files.push((
            FileKey::Path(PathBuf::from(format!("/pol-ws-gen/s{i}.pol"))),
            text,
        ));
    }
    files.push((
        FileKey::Path(PathBuf::from("/pol-ws-gen/zz_global.pol")),
        "policy hide_pii {\n  mask columns tagged PII using null for everyone\n}\n".to_string(),
    ));
    files
}

/// A policy the generated-workspace test inserts, over source `s{k}`, named `name`: each makes
/// (or, removed, takes away) a finding of some lint or checker stage.
fn generated_policy(kind: usize, name: &str, k: usize) -> String {
    let body = match kind % 11 {
        0 => "mask columns tagged PII using null for everyone".to_string(),
        1 => format!("mask column s{k}.region using null for everyone"),
        2 => format!("mask column s{k}.id using null for everyone"),
        3 => {
            return format!(
                "policy {name} on source s{k} {{\n  only show rows where row.card == \"x\" for everyone\n}}\n"
            )
        }
        4 => format!("allow detokenize column s{k}.card for everyone who user.team == \"ops\""),
        5 => format!("mask column s{k}.card using tokenize for everyone"),
        6 => "mask columns tagged PII.Email using hash for everyone".to_string(),
        7 => format!("mask columns tagged NoSuchTag{k} using null for everyone"),
        8 => format!("mask column s{k}.phone where row.card == \"1\" using redact for everyone"),
        // A row rule over every source (no scope): it meets every source through its scope.
        10 => {
            return format!(
                "policy {name} {{\n  only show rows where row.card == \"{k}\" for everyone\n}}\n"
            )
        }
        _ => {
            return format!(
                "policy {name} staged {{\n  mask column s{k}.email using null for everyone\n}}\n"
            )
        }
    };
    format!("policy {name} {{\n  {body}\n}}\n")
}

/// An edit of the generated workspace.
#[derive(Clone, Debug)]
enum GenEdit {
    /// A policy of kind `kind` over source `source` inserted before the `at`-th line of file
    /// `file` that starts a declaration (or at the end); `name` picks a new name or an existing one.
    InsertPolicy {
        file: usize,
        at: usize,
        kind: usize,
        source: usize,
        name: usize,
    },
    /// The `which`-th policy of file `file` deleted.
    DeletePolicy { file: usize, which: usize },
    /// A column of a source renamed (a declaration changes; the rules naming it break).
    RenameColumn { file: usize, column: usize },
    /// An unclosed brace inserted at a line start of a file (the syntax breaks), or, when the
    /// file has one, taken away again.
    BreakOrFix { file: usize, line: usize },
}

fn gen_edit() -> impl proptest::strategy::Strategy<Value = GenEdit> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (any::<usize>(), any::<usize>(), any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(file, at, kind, source, name)| GenEdit::InsertPolicy { file, at, kind, source, name }),
        3 => (any::<usize>(), any::<usize>())
            .prop_map(|(file, which)| GenEdit::DeletePolicy { file, which }),
        1 => (any::<usize>(), any::<usize>())
            .prop_map(|(file, column)| GenEdit::RenameColumn { file, column }),
        1 => (any::<usize>(), any::<usize>())
            .prop_map(|(file, line)| GenEdit::BreakOrFix { file, line }),
    ]
}

/// Applies a generated edit (the `n`-th) to the texts; returns the file changed.
fn apply_gen_edit(files: &mut [(FileKey, String)], e: &GenEdit, n: usize, sources: usize) -> usize {
    const BROKEN: &str = "policy broken_here {\n";
    let pick = |file: usize| file % files.len();
    match *e {
        GenEdit::InsertPolicy {
            file,
            at,
            kind,
            source,
            name,
        } => {
            let i = pick(file);
            let name = match name % 4 {
                0 => format!("p{}_email", name % sources.max(1)),
                _ => format!("ins{n}"),
            };
            let policy = generated_policy(kind, &name, source % sources.max(1));
            let text = &mut files[i].1;
            let starts: Vec<usize> = line_starts(text)
                .into_iter()
                .filter(|&s| text[s..].starts_with("policy") || text[s..].starts_with("source"))
                .collect();
            let offset = starts
                .get(at % (starts.len() + 1))
                .copied()
                .unwrap_or(text.len());
            text.insert_str(offset, &policy);
            i
        }
        GenEdit::DeletePolicy { file, which } => {
            let i = pick(file);
            let text = &mut files[i].1;
            let starts: Vec<usize> = text.match_indices("policy ").map(|(s, _)| s).collect();
            if let Some(&a) = starts.get(which % starts.len().max(1)) {
                let b = text[a..].find("\n}\n").map_or(text.len(), |k| a + k + 3);
                text.replace_range(a..b, "");
            }
            i
        }
        GenEdit::RenameColumn { file, column } => {
            let i = pick(file);
            let text = &mut files[i].1;
            let names = ["email:", "phone:", "region:", "card:", "id:"];
            let col = names[column % names.len()];
            if let Some(at) = text.find(&format!("  {col}")) {
                text.insert(at + 2, 'x');
            }
            i
        }
        GenEdit::BreakOrFix { file, line } => {
            let i = pick(file);
            let text = &mut files[i].1;
            if let Some(at) = text.find(BROKEN) {
                text.replace_range(at..at + BROKEN.len(), "");
            } else {
                let starts = line_starts(text);
                let at = starts
                    .get(line % (starts.len() + 1))
                    .copied()
                    .unwrap_or(text.len());
                text.insert_str(at, BROKEN);
            }
            i
        }
    }
}

/// Every diagnostic of every file of the one set of an analysis, by file.
fn set_diagnostics(analysis: &Analysis, files: &[(FileKey, String)]) -> Vec<String> {
    files
        .iter()
        .flat_map(|(key, _)| {
            analysis
                .diagnostics(key)
                .into_iter()
                .map(move |d| format!("{}: {d:?}", key.name()))
        })
        .collect()
}

/// The same files checked from scratch by [`Ide::from_parsed`], diagnostics by file.
fn from_scratch_diagnostics(files: &[(FileKey, String)]) -> Vec<String> {
    let mut map = crate::source_map::SourceMap::new();
    let mut asts = Vec::new();
    for (key, text) in files {
        map.add(key.name(), text);
        asts.push(pol_grammar::parse_file(text));
    }
    let ide = crate::ide::Ide::from_parsed(map, asts);
    let mut out = Vec::new();
    for (i, (key, _)) in files.iter().enumerate() {
        for d in ide.file_diagnostics(crate::source_map::FileId(i as u32)) {
            out.push(format!("{}: {d:?}", key.name()));
        }
    }
    out
}

/// The generated workspace checks without errors, and the kinds of inserted policies make the
/// findings the property test below relies on (so that it compares something).
#[test]
fn generated_workspace_is_valid_and_its_policies_make_findings() {
    let mut files = generated_workspace(2);
    let base = from_scratch_diagnostics(&files);
    assert!(base.iter().all(|d| !d.contains("Syntax")), "{base:#?}");
    let last = files.len() - 1;
    // All kinds but the tokenizing rule (5), which would make the detokenize grant (4) sound.
    for kind in [0, 1, 2, 3, 4, 6, 7, 8, 9, 10] {
        files[last]
            .1
            .push_str(&generated_policy(kind, &format!("k{kind}"), 1));
    }
    let found = from_scratch_diagnostics(&files).join("\n");
    assert!(!found.contains("Syntax"), "{found}");
    for code in [
        "MaskedKey",
        "LeakByDichotomy",
        "BadGrant",
        "PolicyAlwaysLoses",
    ] {
        assert!(found.contains(code), "no {code} in {found}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// On a generated workspace (a declarations file, a file per source with its policies, a
    /// file of policies over every source), after every edit of a random sequence (a policy of
    /// some kind inserted, a policy deleted, a column renamed, the syntax broken and fixed), the
    /// host's diagnostics of every file equal `Ide::from_parsed`'s on the same texts from
    /// scratch, and its hovers a fresh host's. Inserted policies make and remove findings of
    /// every lint (uncovered, always loses, masked key, leaks, nothing to detokenize) on one
    /// source or all, and shift the rule ids of the files after theirs.
    #[test]
    fn generated_workspace_edits_equal_analysis_from_scratch(
        sources in 2usize..5,
        edits in proptest::collection::vec(gen_edit(), 1..14)
    ) {
        let mut files = generated_workspace(sources);
        let mut host = AnalysisHost::new();
        host.apply_change(Change::Folders(vec![PathBuf::from("/pol-ws-gen")]));
        for (key, text) in &files {
            host.apply_change(Change::Open { file: key.clone(), text: text.clone(), version: 1 });
        }
        proptest::prop_assert_eq!(
            set_diagnostics(&host.snapshot(), &files),
            from_scratch_diagnostics(&files)
        );
        for (n, e) in edits.iter().enumerate() {
            let i = apply_gen_edit(&mut files, e, n, sources);
            let change = TextChange { range: None, text: files[i].1.clone() };
            host.apply_change(edit(&files[i].0, vec![change], n as i32 + 2));
            let snapshot = host.snapshot();
            proptest::prop_assert_eq!(
                set_diagnostics(&snapshot, &files),
                from_scratch_diagnostics(&files)
            );
            if n % 4 == 3 {
                let mut fresh = AnalysisHost::new();
                fresh.apply_change(Change::Folders(vec![PathBuf::from("/pol-ws-gen")]));
                for (key, text) in &files {
                    fresh.apply_change(Change::Open { file: key.clone(), text: text.clone(), version: 1 });
                }
                proptest::prop_assert_eq!(answers(&snapshot, &files), answers(&fresh.snapshot(), &files));
            }
        }
    }
}

/// The unit of change inside an edited file is the policy: after appending a policy to the
/// generated workspace's global file, the sources touched are exactly those the new policy
/// meets (none for a tag no column carries, one for a rule on one column although the policy
/// has no `on …`, every source for a row rule over all sources), and every old rule keeps its id.
#[test]
fn appending_a_policy_touches_only_the_sources_it_meets() {
    let files = generated_workspace(4);
    let ide_of = |files: &[(FileKey, String)], previous: Option<&crate::ide::Ide>| {
        let mut map = crate::source_map::SourceMap::new();
        let mut asts = Vec::new();
        for (key, text) in files {
            map.add(key.name(), text);
            asts.push(pol_grammar::parse_file(text));
        }
        let same: Vec<bool> = (0..files.len()).map(|i| i + 1 < files.len()).collect();
        crate::ide::Ide::from_parsed_after(map, asts, previous.map(|p| (p, same.as_slice())))
    };
    let before = ide_of(&files, None);
    let rules = before.analysis().model.mask_rules.len();
    for (kind, touched) in [
        (7, vec![false; 4]),
        (1, vec![false, false, true, false]),
        (10, vec![true; 4]),
    ] {
        let mut edited = files.clone();
        let last = edited.len() - 1;
        edited[last]
            .1
            .push_str(&generated_policy(kind, "appended", 2));
        let after = ide_of(&edited, Some(&before));
        let changes = after
            .analysis()
            .memo
            .changes_since(&before.analysis().memo)
            .expect("the declarations were reused");
        assert_eq!(changes.touched, touched, "kind {kind}");
        for id in 0..rules {
            assert_eq!(changes.rule_id(id), Some(id), "kind {kind}, rule {id}");
        }
        assert_eq!(
            after
                .diagnostics()
                .iter()
                .map(|d| format!("{d:?}"))
                .collect::<Vec<_>>(),
            ide_of(&edited, None)
                .diagnostics()
                .iter()
                .map(|d| format!("{d:?}"))
                .collect::<Vec<_>>()
        );
    }
}
