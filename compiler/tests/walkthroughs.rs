//! Runs the command-line walkthroughs of the examples' READMEs and checks that every command
//! prints exactly what the README shows, so the documentation cannot rot.
//!
//! A walkthrough is every ```` ```console ```` block of a README, in order, run in a directory
//! standing for the repository root, holding a copy of the example folder at `examples/<name>/`
//! (so commands written for the repository root work). In a block, a line starting with `$ ` is
//! a command (continued on the next line after a trailing `\`), and the lines up to the next
//! command are its output: stdout, then stderr, then `[exit N]` when the exit status is not 0.
//! Commands are `export WALK="$(mktemp -d)"` (a fresh temporary directory, as a user's shell
//! makes it), `polc …` (the binary built for the tests) and `cat FILE`; arguments may be quoted
//! with `"…"` or `'…'`, and `$WALK` in a word is that directory.
//!
//! Every walkthrough must start clean: its first command makes its own `$WALK`, and it writes
//! nothing into the repository root (checked after the run). Replaying the walkthroughs one
//! after another in one repository, in any order, prints what the READMEs show (checked by
//! `walkthroughs_replay_in_any_order`).
//!
//! `POL_BLESS_WALKTHROUGHS=1 cargo test -p pol-compiler --test main walkthroughs::` rewrites the
//! outputs in the READMEs instead of checking them (review the diff before committing).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One command of a walkthrough, with the output the README shows.
struct Step {
    /// The command's lines as written (with `$ ` and continuations).
    lines: Vec<String>,
    expected: String,
}

/// A README as text around its console blocks.
enum Part {
    Text(String),
    Block(Vec<Step>),
}

fn parse(readme: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut lines = readme.split_inclusive('\n');
    while let Some(line) = lines.next() {
        text.push_str(line);
        if line.trim_end() != "```console" {
            continue;
        }
        parts.push(Part::Text(std::mem::take(&mut text)));
        let mut steps: Vec<Step> = Vec::new();
        let mut continuing = false;
        for line in lines.by_ref() {
            let l = line.strip_suffix('\n').unwrap_or(line);
            if l == "```" {
                text.push_str(line);
                break;
            }
            if continuing || l.starts_with("$ ") {
                if continuing {
                    steps.last_mut().expect("a step").lines.push(l.to_owned());
                } else {
                    steps.push(Step {
                        lines: vec![l.to_owned()],
                        expected: String::new(),
                    });
                }
                continuing = l.ends_with('\\');
            } else {
                let step = steps.last_mut().expect("output after a command");
                step.expected.push_str(l);
                step.expected.push('\n');
            }
        }
        parts.push(Part::Block(steps));
    }
    parts.push(Part::Text(text));
    parts
}

/// Splits a command line into words: whitespace-separated, `"…"` and `'…'` quoting.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unterminated quote in `{command}`");
    if in_word {
        out.push(cur);
    }
    out
}

/// The command that starts a walkthrough in a fresh temporary directory.
const FRESH_DIR: &str = "export WALK=\"$(mktemp -d)\"";

/// Where a walkthrough runs: the repository root, and its `$WALK` once made.
struct Places {
    root: PathBuf,
    walk: Option<tempfile::TempDir>,
}

impl Places {
    /// `$WALK` in a word replaced by the walkthrough's directory.
    fn expand(&self, word: &str) -> String {
        match &self.walk {
            Some(w) => word.replace("$WALK", &w.path().display().to_string()),
            None => word.to_string(),
        }
    }
}

/// Runs one step; its output as the README would show it.
fn run(step: &Step, places: &mut Places) -> String {
    let command: String = step
        .lines
        .iter()
        .map(|l| l.strip_suffix('\\').unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ");
    let command = command.strip_prefix("$ ").expect("a command");
    if command == FRESH_DIR {
        places.walk = Some(tempfile::tempdir().expect("tempdir"));
        return String::new();
    }
    let argv: Vec<String> = words(command).iter().map(|w| places.expand(w)).collect();
    let dir = places.root.as_path();
    match argv.first().map(String::as_str) {
        Some("polc") => {
            let out = Command::new(env!("CARGO_BIN_EXE_polc"))
                .args(&argv[1..])
                .current_dir(dir)
                .env("NO_COLOR", "1")
                .output()
                .expect("runs polc");
            let mut text = String::from_utf8(out.stdout).expect("utf-8 stdout");
            text.push_str(&String::from_utf8(out.stderr).expect("utf-8 stderr"));
            match out.status.code() {
                Some(0) => {}
                Some(n) => text.push_str(&format!("[exit {n}]\n")),
                None => panic!("`{command}` was killed"),
            }
            text
        }
        Some("cat") if argv.len() == 2 => std::fs::read_to_string(dir.join(&argv[1]))
            .unwrap_or_else(|e| panic!("`{command}`: {e}")),
        _ => panic!("unsupported walkthrough command `{command}`"),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creates");
    for entry in std::fs::read_dir(from).expect("reads") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copies");
        }
    }
}

/// Grant ids are random (128 bits): the n-th distinct id a walkthrough prints stands for the
/// n-th distinct id its README shows.
struct GrantIds {
    re: regex::Regex,
    shown: Vec<String>,
    seen: Vec<String>,
}

impl GrantIds {
    fn new(readme: &str) -> GrantIds {
        let re = regex::Regex::new("g-[0-9a-f]{32}").expect("regex");
        let mut shown: Vec<String> = Vec::new();
        for m in re.find_iter(readme) {
            if !shown.iter().any(|s| s == m.as_str()) {
                shown.push(m.as_str().to_owned());
            }
        }
        GrantIds {
            re,
            shown,
            seen: Vec::new(),
        }
    }

    /// `actual` with each id replaced by the README's id it stands for.
    fn map(&mut self, actual: &str) -> String {
        let (shown, seen) = (&self.shown, &mut self.seen);
        self.re
            .replace_all(actual, |c: &regex::Captures<'_>| {
                let id = &c[0];
                let n = seen.iter().position(|s| s == id).unwrap_or_else(|| {
                    seen.push(id.to_owned());
                    seen.len() - 1
                });
                shown.get(n).cloned().unwrap_or_else(|| id.to_owned())
            })
            .into_owned()
    }
}

/// The files and folders of a directory, recursively (relative paths, sorted).
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("reads").flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(dir).expect("below").to_path_buf());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Copies `examples/<name>` into `root` (standing for the repository root).
fn copy_example(name: &str, root: &Path) {
    let example: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    copy_dir(&example, &root.join("examples").join(name));
}

/// Runs the walkthrough of `examples/<name>/README.md` in a fresh repository root.
fn walkthrough(name: &str) {
    let root = tempfile::tempdir().expect("tempdir");
    copy_example(name, root.path());
    walkthrough_in(name, root.path());
}

/// Runs the walkthrough of `examples/<name>/README.md` in `root`, which holds a copy of the
/// example; fails on any difference (or blesses the README).
fn walkthrough_in(name: &str, root: &Path) {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
        .join("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("reads the README");
    let before = listing(root);
    let mut places = Places {
        root: root.to_path_buf(),
        walk: None,
    };
    let bless = std::env::var_os("POL_BLESS_WALKTHROUGHS").is_some();
    let parts = parse(&readme);
    let first = parts.iter().find_map(|p| match p {
        Part::Block(steps) => steps.first(),
        Part::Text(_) => None,
    });
    assert_eq!(
        first.map(|s| s.lines.join("\n")),
        Some(format!("$ {FRESH_DIR}")),
        "{name}: the walkthrough must start in a fresh directory of its own"
    );
    let mut ids = GrantIds::new(&readme);
    let mut steps = 0;
    let mut failures = Vec::new();
    let mut blessed = String::new();
    for part in &parts {
        match part {
            Part::Text(t) => blessed.push_str(t),
            Part::Block(block) => {
                for step in block {
                    steps += 1;
                    let actual = ids.map(&run(step, &mut places));
                    for l in &step.lines {
                        blessed.push_str(l);
                        blessed.push('\n');
                    }
                    blessed.push_str(&actual);
                    if actual != step.expected {
                        failures.push(format!(
                            "{}\n--- README shows:\n{}--- actual:\n{}",
                            step.lines.join("\n"),
                            step.expected,
                            actual
                        ));
                    }
                }
            }
        }
    }
    assert!(steps >= 5, "{name}: only {steps} walkthrough commands");
    assert_eq!(
        listing(root),
        before,
        "{name}: the walkthrough wrote into the repository"
    );
    if bless {
        std::fs::write(&readme_path, blessed).expect("writes the README");
        return;
    }
    assert!(
        failures.is_empty(),
        "{name}/README.md is out of date:\n\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn support_desk_temporary_unmask() {
    walkthrough("support-desk");
}

#[test]
fn payments_vault_detokenize() {
    walkthrough("payments-vault");
}

#[test]
fn walkthroughs_replay_in_any_order() {
    // One repository, the walkthroughs replayed one after another: each starts clean.
    let root = tempfile::tempdir().expect("tempdir");
    copy_example("support-desk", root.path());
    copy_example("payments-vault", root.path());
    for name in [
        "support-desk",
        "payments-vault",
        "support-desk",
        "payments-vault",
    ] {
        walkthrough_in(name, root.path());
    }
    let root = tempfile::tempdir().expect("tempdir");
    copy_example("support-desk", root.path());
    copy_example("payments-vault", root.path());
    for name in ["payments-vault", "support-desk"] {
        walkthrough_in(name, root.path());
    }
}

#[test]
fn command_words() {
    assert_eq!(
        words(r#"polc a --reason "two words" 'x y' z"#),
        ["polc", "a", "--reason", "two words", "x y", "z"]
    );
    assert_eq!(words(r#"a "" b"#), ["a", "", "b"]);
}
