//! Runs the command-line walkthroughs of the examples' READMEs and checks that every command
//! prints exactly what the README shows, so the documentation cannot rot.
//!
//! A walkthrough is every ```` ```console ```` block of a README, in order, run in one fresh
//! directory holding a copy of the example folder at `examples/<name>/` (so commands written
//! for the repository root work, and the files they create stay in the temporary directory).
//! In a block, a line starting with `$ ` is a command (continued on the next line after a
//! trailing `\`), and the lines up to the next command are its output: stdout, then stderr,
//! then `[exit N]` when the exit status is not 0. Commands are `polc …` (the binary built for
//! the tests) and `cat FILE`; arguments may be quoted with `"…"` or `'…'`.
//!
//! `POL_BLESS_WALKTHROUGHS=1 cargo test -p pol-compiler --test walkthroughs` rewrites the
//! outputs in the READMEs instead of checking them (review the diff before committing).

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

/// Runs one step in `dir`; its output as the README would show it.
fn run(step: &Step, dir: &Path) -> String {
    let command: String = step
        .lines
        .iter()
        .map(|l| l.strip_suffix('\\').unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ");
    let command = command.strip_prefix("$ ").expect("a command");
    let argv = words(command);
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

/// Runs the walkthrough of `examples/<name>/README.md`; returns the failures (or blesses).
fn walkthrough(name: &str) {
    let example: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let readme_path = example.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("reads the README");
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&example, &dir.path().join("examples").join(name));
    let bless = std::env::var_os("POL_BLESS_WALKTHROUGHS").is_some();
    let parts = parse(&readme);
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
                    let actual = ids.map(&run(step, dir.path()));
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
fn command_words() {
    assert_eq!(
        words(r#"polc a --reason "two words" 'x y' z"#),
        ["polc", "a", "--reason", "two words", "x y", "z"]
    );
    assert_eq!(words(r#"a "" b"#), ["a", "", "b"]);
}
