//! The README's `polc eval` demo is real: the command between the `eval-demo` markers is run from
//! `examples/data-platform` and its output must be exactly the lines the README shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::path::Path;
use std::process::Command;

#[test]
fn readme_eval_demo_prints_what_the_readme_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let start = readme.find("<!-- eval-demo").expect("eval-demo marker");
    let end = readme.find("<!-- /eval-demo -->").expect("end marker");
    let block = &readme[start..end];
    let mut lines = block
        .lines()
        .skip_while(|l| !l.starts_with("$ polc "))
        .take_while(|l| !l.starts_with("```"));
    let command = lines.next().expect("a `$ polc …` line");
    let expected: String = lines.map(|l| format!("{l}\n")).collect();
    assert!(
        expected.lines().count() >= 2,
        "the README shows the output rows"
    );

    let args: Vec<&str> = command
        .trim_start_matches("$ polc ")
        .split_whitespace()
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_polc"))
        .args(&args)
        .current_dir(root.join("examples/data-platform"))
        .output()
        .expect("run polc");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

/// The markdown files of the repository (outside `target/` and `node_modules/`).
fn markdown_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reads a folder").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "node_modules" || name == ".git" {
            continue;
        }
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

#[test]
fn readme_says_how_to_put_polc_and_pol_lsp_on_the_path_with_locked_installs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(
        readme.contains("cargo install --locked --path compiler"),
        "the README says how to install `polc`"
    );
    assert!(
        readme.contains("cargo install --locked --path lsp"),
        "the README says how to install `pol-lsp`"
    );
    // Every install command of the documentation uses `--locked` (without it, Cargo resolves
    // every dependency again instead of building what `Cargo.lock` pins).
    let mut docs = Vec::new();
    markdown_files(&root, &mut docs);
    assert!(docs.len() >= 5, "{docs:?}");
    for doc in docs {
        let text = std::fs::read_to_string(&doc).expect("reads a markdown file");
        for line in text.lines().filter(|l| l.contains("cargo install ")) {
            assert!(
                line.contains("cargo install --locked "),
                "{}: `{line}` lacks --locked",
                doc.display()
            );
        }
    }
}
