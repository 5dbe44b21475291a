//! The README's `polc eval` demo is real: the command between the `eval-demo` markers is run from
//! `examples/data-platform` and its output must be exactly the lines the README shows.

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
