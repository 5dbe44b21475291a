//! `polc grants request|list|revoke`, `polc eval --grants`, `polc detokenize`: the built binary
//! run on a small policy set in a temporary directory, exact outputs and exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use clap::CommandFactory;
use std::cell::RefCell;
use std::path::PathBuf;
use std::process::Command;

const POLICIES: &str = r#"
tag PII;
subject { region: text, }
source customers { id: int key, name: text, email: text tagged PII, region: text, }
source cards { id: int key, card: text, }
source notes { body: text, }

policy pii { mask columns tagged PII using redact for everyone }
policy regions on source customers {
  only show rows where row.region == user.region for everyone
}
policy managers on source customers {
  allow temporary unmask for 2h for everyone who user has role "manager"
}
policy tok { mask column cards.card using tokenize for everyone }
policy billing { allow detokenize column cards.card for everyone who user has role "billing" }
"#;

const T0: &str = "2026-05-01T10:00:00Z";

/// A temporary directory with `policies.pol`, subjects (`mia` a manager in region "eu", `al` an
/// agent in "eu", `bo` billing), rows and a key.
struct Env {
    dir: tempfile::TempDir,
    /// The random grant ids seen so far, in order of first appearance: outputs show the n-th
    /// as its alias `g-000…0n` (same length), and arguments may name it so.
    ids: RefCell<Vec<String>>,
}

/// The alias of the n-th grant id (from 1).
fn alias(n: usize) -> String {
    format!("g-{n:032}")
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text).expect("writes");
        };
        write("policies.pol", POLICIES);
        write(
            "mia.json",
            r#"{"login": "mia", "roles": ["manager"], "region": "eu"}"#,
        );
        write(
            "al.json",
            r#"{"login": "al", "roles": ["agent"], "region": "eu"}"#,
        );
        write("bo.json", r#"{"login": "bo", "roles": ["billing"]}"#);
        write("list.json", r#"["not", "an", "object"]"#);
        write(
            "customers.jsonl",
            concat!(
                r#"{"id": 1, "name": "Ann", "email": "ann@example.com", "region": "eu"}"#,
                "\n",
                r#"{"id": 2, "name": "Ben", "email": "ben@example.com", "region": "us"}"#,
                "\n",
                r#"{"id": 3, "name": "Cy", "email": "cy@example.com", "region": "eu"}"#,
                "\n"
            ),
        );
        write("test.key", "grants_cli test key, public\n");
        Env {
            dir,
            ids: RefCell::new(Vec::new()),
        }
    }

    /// `text` with every grant id replaced by its alias.
    fn aliased(&self, text: &str) -> String {
        let re = regex::Regex::new("g-[0-9a-f]{32}").expect("regex");
        let mut ids = self.ids.borrow_mut();
        re.replace_all(text, |c: &regex::Captures<'_>| {
            let id = &c[0];
            let n = match ids.iter().position(|i| i == id) {
                Some(i) => i + 1,
                None => {
                    ids.push(id.to_owned());
                    ids.len()
                }
            };
            alias(n)
        })
        .into_owned()
    }

    /// An argument with an alias replaced by the id it stands for.
    fn unaliased(&self, arg: &str) -> String {
        let ids = self.ids.borrow();
        (1..=ids.len())
            .find(|n| alias(*n) == arg)
            .map_or_else(|| arg.to_owned(), |n| ids[n - 1].clone())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        self.aliased(&std::fs::read_to_string(self.path(name)).expect("reads"))
    }

    /// Runs `polc ARGS` in the directory: (exit code, stdout, stderr).
    fn polc(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_polc"))
            .args(args.iter().map(|a| self.unaliased(a)))
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("runs polc");
        (
            out.status.code().expect("exit code"),
            self.aliased(&String::from_utf8(out.stdout).expect("utf-8")),
            self.aliased(&String::from_utf8(out.stderr).expect("utf-8")),
        )
    }

    /// Runs `polc` with the words of `line` (split at white space), then `extra`.
    fn run(&self, line: &str, extra: &[&str]) -> (i32, String, String) {
        let args: Vec<&str> = line
            .split_whitespace()
            .chain(extra.iter().copied())
            .collect();
        self.polc(&args)
    }

    /// `polc grants request` for `subject` on `customers` with key `key` at `now`.
    fn request(&self, subject: &str, key: &str, now: &str) -> (i32, String, String) {
        self.polc(&[
            "grants",
            "request",
            "policies.pol",
            "--subject",
            subject,
            "--source",
            "customers",
            "--key",
            key,
            "--reason",
            "case 12",
            "--store",
            "grants.jsonl",
            "--audit",
            "audit.jsonl",
            "--now",
            now,
        ])
    }

    fn eval_customers(&self, subject: &str, now: &str, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec![
            "eval",
            "policies.pol",
            "--subject",
            subject,
            "--source",
            "customers",
            "--rows",
            "customers.jsonl",
            "--now",
            now,
            "--key-file",
            "test.key",
        ];
        args.extend_from_slice(extra);
        self.polc(&args)
    }
}

fn ok(stdout: &str) -> (i32, String, String) {
    (0, stdout.to_owned(), String::new())
}

fn usage(stderr: &str) -> (i32, String, String) {
    (2, String::new(), stderr.to_owned())
}

const GRANTED_1: &str = "granted: customers record 1 is clear for every user until \
     2026-05-01T12:00:00Z (grant g-00000000000000000000000000000001, rule managers)\n";

#[test]
fn the_command_line_is_well_formed() {
    pol_compiler::cli::Cli::command().debug_assert();
}

/// `polc eval`, `polc detokenize` and `polc grants request` take the policies, the subject,
/// the source and the clock as one flattened struct: the same arguments with the same help.
#[test]
fn eval_detokenize_and_grants_request_share_the_request_arguments() {
    let cli = pol_compiler::cli::Cli::command();
    let grants = cli.find_subcommand("grants").expect("grants");
    let commands = [
        cli.find_subcommand("eval").expect("eval"),
        cli.find_subcommand("detokenize").expect("detokenize"),
        grants.find_subcommand("request").expect("grants request"),
    ];
    let expected = [
        ("paths", "Policy files or directories (or give `--bundle`)"),
        ("bundle", "A bundle written by `polc build`"),
        (
            "subject",
            "The subject asking (user context) as a JSON file",
        ),
        (
            "source",
            "The source (of the rows, the value or the record)",
        ),
        ("now", "The clock, RFC 3339 (default: now)"),
    ];
    for command in commands {
        for (id, help) in expected {
            let arg = command
                .get_arguments()
                .find(|a| a.get_id() == id)
                .unwrap_or_else(|| panic!("`{}` has no argument `{id}`", command.get_name()));
            assert_eq!(
                arg.get_help().map(ToString::to_string).as_deref(),
                Some(help),
                "`{}` argument `{id}`",
                command.get_name()
            );
            assert_eq!(arg.get_long(), (id != "paths").then_some(id));
        }
    }
}

#[test]
fn a_permitted_request_is_granted_stored_and_audited() {
    let env = Env::new();
    assert_eq!(env.request("mia.json", "1", T0), ok(GRANTED_1));
    // The intent (written before the audit record), then the grant.
    let grant = "{\"id\":\"g-00000000000000000000000000000001\",\"source\":\"customers\",\
                 \"key\":\"1\",\"granted_to\":\"mia\",\"rule\":\"managers\",\
                 \"granted_at\":\"2026-05-01T10:00:00Z\",\"expires\":\"2026-05-01T12:00:00Z\"}";
    assert_eq!(
        env.read("grants.jsonl"),
        format!("{{\"intent\":{grant}}}\n{grant}\n")
    );
    assert_eq!(
        env.read("audit.jsonl"),
        "{\"time\":\"2026-05-01T10:00:00Z\",\"subject\":\"mia\",\"action\":\"grant\",\
         \"request\":\"unmask\",\"source\":\"customers\",\"key\":\"1\",\"columns\":[],\
         \"expiry\":\"2026-05-01T12:00:00Z\",\"reason\":\"case 12\",\
         \"detail\":\"granted by managers for 7200s as grant g-00000000000000000000000000000001\"}\n"
    );
}

#[test]
fn a_request_the_policy_does_not_allow_is_refused_and_audited() {
    let env = Env::new();
    assert_eq!(
        env.request("al.json", "1", T0),
        (
            1,
            String::new(),
            "refused: no `allow temporary unmask` rule of `customers` allows this user\n".into()
        )
    );
    assert_eq!(env.read("grants.jsonl"), "");
    assert_eq!(
        env.read("audit.jsonl"),
        "{\"time\":\"2026-05-01T10:00:00Z\",\"subject\":\"al\",\"action\":\"refusal\",\
         \"request\":\"unmask\",\"source\":\"customers\",\"key\":\"1\",\"columns\":[],\
         \"expiry\":null,\"reason\":\"case 12\",\
         \"detail\":\"no `allow temporary unmask` rule of `customers` allows this user\"}\n"
    );
    // A source the policies never open, and one without a key column: refused.
    let (code, _, err) = env.run(
        "grants request policies.pol --subject mia.json --source notes --key x --store \
        grants.jsonl --audit audit.jsonl --now",
        &[T0],
    );
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "refused: source `notes` has no key column, so no record can be named\n"
        )
    );
    let (code, _, err) = env.run(
        "grants request policies.pol --subject mia.json --source cards --key 1 --store \
        grants.jsonl --audit audit.jsonl --now",
        &[T0],
    );
    assert_eq!(
        (code, err.as_str()),
        (1, "refused: no policy allows temporary unmask on `cards`\n")
    );
    assert_eq!(env.read("audit.jsonl").lines().count(), 3);
}

#[test]
fn request_usage_errors_exit_2_and_audit_nothing() {
    let env = Env::new();
    let base = |subject: &'static str, source: &'static str, key: &'static str| {
        vec![
            "grants",
            "request",
            "policies.pol",
            "--subject",
            subject,
            "--source",
            source,
            "--key",
            key,
            "--store",
            "grants.jsonl",
            "--audit",
            "audit.jsonl",
            "--now",
            T0,
        ]
    };
    assert_eq!(
        env.polc(&base("mia.json", "customers", "one")),
        usage("error: --key `one` is not of type int, the type of `customers.id`\n")
    );
    assert_eq!(
        env.polc(&base("mia.json", "orders", "1")),
        usage("error: no source `orders` in the policies (sources: customers, cards, notes)\n")
    );
    let (code, _, err) = env.polc(&base("missing.json", "customers", "1"));
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: cannot read the subject missing.json: "),
        "{err}"
    );
    assert_eq!(
        env.polc(&base("list.json", "customers", "1")),
        usage("error: the subject list.json must be a JSON object\n")
    );
    let mut bad_now = base("mia.json", "customers", "1");
    *bad_now.last_mut().expect("now") = "yesterday";
    let (code, _, err) = env.polc(&bad_now);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: --now `yesterday` is not an RFC 3339 timestamp"),
        "{err}"
    );
    // Missing --store: clap's usage error.
    let (code, _, err) = env.run(
        "grants request policies.pol --subject mia.json --source customers --key 1 --audit \
        audit.jsonl",
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--store <STORE>"), "{err}");
    assert!(!env.path("audit.jsonl").exists());
    assert!(!env.path("grants.jsonl").exists());
}

#[test]
fn a_request_against_a_built_bundle() {
    let env = Env::new();
    let (code, _, _) = env.run("build policies.pol -o p.bundle", &[]);
    assert_eq!(code, 0);
    assert_eq!(
        env.run(
            "grants request --bundle p.bundle --subject mia.json --source customers --key 1 \
            --reason",
            &[
                "case 12",
                "--store",
                "grants.jsonl",
                "--audit",
                "audit.jsonl",
                "--now",
                T0
            ],
        ),
        ok(GRANTED_1)
    );
}

#[test]
fn list_shows_active_grants_and_marks_the_others_with_all() {
    let env = Env::new();
    assert_eq!(env.request("mia.json", "1", T0).0, 0);
    assert_eq!(env.request("mia.json", "3", "2026-05-01T11:00:00Z").0, 0);
    let list = |now: &str, extra: &[&str]| {
        let mut args = vec!["grants", "list", "--store", "grants.jsonl", "--now", now];
        args.extend_from_slice(extra);
        env.polc(&args)
    };
    assert_eq!(
        list("2026-05-01T11:30:00Z", &[]),
        ok("ID                                  SOURCE     KEY  GRANTED TO  GRANTED AT            EXPIRES               RULE      STATUS\n\
            g-00000000000000000000000000000001  customers  1    mia         2026-05-01T10:00:00Z  2026-05-01T12:00:00Z  managers  active\n\
            g-00000000000000000000000000000002  customers  3    mia         2026-05-01T11:00:00Z  2026-05-01T13:00:00Z  managers  active\n")
    );
    // At the expiry instant the first grant no longer holds.
    assert_eq!(
        list("2026-05-01T12:00:00Z", &["--format", "json"]),
        ok("{\"id\":\"g-00000000000000000000000000000002\",\"source\":\"customers\",\"key\":\"3\",\"granted_to\":\"mia\",\
            \"rule\":\"managers\",\"granted_at\":\"2026-05-01T11:00:00Z\",\
            \"expires\":\"2026-05-01T13:00:00Z\",\"status\":\"active\"}\n")
    );
    assert_eq!(
        list("2026-05-01T12:00:00Z", &["--all"]),
        ok("ID                                  SOURCE     KEY  GRANTED TO  GRANTED AT            EXPIRES               RULE      STATUS\n\
            g-00000000000000000000000000000001  customers  1    mia         2026-05-01T10:00:00Z  2026-05-01T12:00:00Z  managers  expired\n\
            g-00000000000000000000000000000002  customers  3    mia         2026-05-01T11:00:00Z  2026-05-01T13:00:00Z  managers  active\n")
    );
    assert_eq!(
        list("2026-05-01T13:00:00Z", &[]),
        ok("no active grants at 2026-05-01T13:00:00Z\n")
    );
    assert_eq!(list("2026-05-01T13:00:00Z", &["--format", "json"]), ok(""));
    assert_eq!(
        env.run("grants list --store nope.jsonl", &[]),
        usage("error: the grant store nope.jsonl does not exist\n")
    );
}

#[test]
fn revoke_by_id_or_record_is_audited() {
    let env = Env::new();
    assert_eq!(env.request("mia.json", "1", T0).0, 0);
    assert_eq!(env.request("mia.json", "3", T0).0, 0);
    let revoke = |args: &[&str]| {
        let mut all = vec![
            "grants",
            "revoke",
            "--store",
            "grants.jsonl",
            "--audit",
            "audit.jsonl",
            "--subject",
            "al.json",
            "--now",
            "2026-05-01T10:30:00Z",
        ];
        all.extend_from_slice(args);
        env.polc(&all)
    };
    assert_eq!(
        revoke(&["--id", "g-00000000000000000000000000000001", "--reason", "done"]),
        ok("revoked: grant g-00000000000000000000000000000001 (customers record 1, given to mia, was until 2026-05-01T12:00:00Z)\n")
    );
    assert_eq!(
        env.read("audit.jsonl").lines().last(),
        Some(
            "{\"time\":\"2026-05-01T10:30:00Z\",\"subject\":\"al\",\"action\":\"revoke\",\
             \"request\":\"unmask\",\"source\":\"customers\",\"key\":\"1\",\"columns\":[],\
             \"expiry\":\"2026-05-01T12:00:00Z\",\"reason\":\"done\",\
             \"detail\":\"grant g-00000000000000000000000000000001 (given to mia by managers) revoked\"}"
        )
    );
    assert_eq!(
        revoke(&["--id", "g-00000000000000000000000000000001"]),
        (
            1,
            String::new(),
            "error: nothing revoked: no grant `g-00000000000000000000000000000001` holds at 2026-05-01T10:30:00Z\n"
                .into()
        )
    );
    assert_eq!(
        revoke(&["--source", "customers", "--key", "3"]),
        ok("revoked: grant g-00000000000000000000000000000002 (customers record 3, given to mia, was until 2026-05-01T12:00:00Z)\n")
    );
    let (code, _, err) = revoke(&["--source", "customers"]);
    assert_eq!(code, 2);
    assert!(err.contains("--key <KEY>"), "{err}");
    assert_eq!(env.read("audit.jsonl").lines().count(), 5);
    // The revoked records are masked again.
    let (_, out, _) = env.eval_customers(
        "al.json",
        "2026-05-01T10:45:00Z",
        &["--grants", "grants.jsonl"],
    );
    assert_eq!(
        out,
        "{\"id\":1,\"name\":\"Ann\",\"email\":\"*******\",\"region\":\"eu\"}\n\
         {\"id\":3,\"name\":\"Cy\",\"email\":\"*******\",\"region\":\"eu\"}\n"
    );
}

#[test]
fn eval_with_grants_clears_granted_records_for_everyone_until_expiry() {
    let env = Env::new();
    assert_eq!(env.request("mia.json", "1", T0).0, 0);
    // Ben (id 2, region us) is granted too, but al's row rule still hides him.
    assert_eq!(env.request("mia.json", "2", T0).0, 0);
    let masked = "{\"id\":1,\"name\":\"Ann\",\"email\":\"*******\",\"region\":\"eu\"}\n\
                  {\"id\":3,\"name\":\"Cy\",\"email\":\"*******\",\"region\":\"eu\"}\n";
    let granted = "{\"id\":1,\"name\":\"Ann\",\"email\":\"ann@example.com\",\"region\":\"eu\"}\n\
                   {\"id\":3,\"name\":\"Cy\",\"email\":\"*******\",\"region\":\"eu\"}\n";
    assert_eq!(env.eval_customers("al.json", T0, &[]), ok(masked));
    assert_eq!(
        env.eval_customers(
            "al.json",
            "2026-05-01T11:59:59Z",
            &["--grants", "grants.jsonl", "--audit", "audit.jsonl"]
        ),
        ok(granted)
    );
    assert_eq!(
        env.read("audit.jsonl").lines().last(),
        Some(
            "{\"time\":\"2026-05-01T11:59:59Z\",\"subject\":\"al\",\"action\":\"unmask\",\
             \"request\":\"unmask\",\"source\":\"customers\",\"key\":\"1\",\
             \"columns\":[\"email\"],\"expiry\":\"2026-05-01T12:00:00Z\",\"reason\":null,\
             \"detail\":\"the record is shown clear under a temporary unmask grant\"}"
        )
    );
    // Expired at 12:00: ignored.
    assert_eq!(
        env.eval_customers(
            "al.json",
            "2026-05-01T12:00:00Z",
            &["--grants", "grants.jsonl"]
        ),
        ok(masked)
    );
    assert_eq!(
        env.eval_customers("al.json", T0, &["--grants", "missing.jsonl"]),
        usage("error: the grant store missing.jsonl does not exist\n")
    );
    let (code, _, err) = env.eval_customers("al.json", T0, &["--audit", "audit.jsonl"]);
    assert_eq!(code, 2);
    assert!(err.contains("--grants <GRANTS>"), "{err}");
}

#[test]
fn detokenize_for_a_permitted_subject_refused_for_others() {
    let env = Env::new();
    std::fs::write(
        env.path("cards.jsonl"),
        "{\"id\": 1, \"card\": \"4111 1111 1111 1111\"}\n",
    )
    .expect("writes");
    let (code, out, err) = env.run(
        "eval policies.pol --subject al.json --source cards --rows cards.jsonl --key-file test.key",
        &[],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    let row: serde_json::Value = serde_json::from_str(&out).expect("json");
    let token = row["card"].as_str().expect("a token").to_owned();
    assert!(token.starts_with("tok_"), "{token}");
    let detok = |subject: &str, value: &str| {
        env.run(
            "detokenize policies.pol --subject",
            &[
                subject,
                "--source",
                "cards",
                "--column",
                "card",
                "--key-file",
                "test.key",
                "--value",
                value,
                "--audit",
                "audit.jsonl",
                "--reason",
                "dispute",
                "--now",
                T0,
            ],
        )
    };
    assert_eq!(detok("bo.json", &token), ok("4111 1111 1111 1111\n"));
    assert_eq!(
        detok("al.json", &token),
        (
            1,
            String::new(),
            "error: detokenize refused: no `allow detokenize` rule of `cards.card` allows this user\n"
                .into()
        )
    );
    let (code, _, err) = detok("bo.json", "4111 1111 1111 1111");
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: cannot detokenize: `cards.card` is tokenized and this value is not a token\n"
        )
    );
    let audit = env.read("audit.jsonl");
    let actions: Vec<String> = audit
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            format!("{} {} {}", v["subject"], v["action"], v["detail"])
        })
        .collect();
    assert_eq!(
        actions,
        [
            r#""bo" "detokenize" "allowed by billing""#,
            r#""al" "refusal" "no `allow detokenize` rule of `cards.card` allows this user""#,
            r#""bo" "refusal" "`cards.card` is tokenized and this value is not a token""#,
        ]
    );
    assert!(!audit.contains("4111"), "the original is never audited");
    // Without --audit the answer is the same and nothing is written.
    let (code, out, _) = env.run(
        "detokenize policies.pol --subject bo.json --source cards --column card --key-file \
        test.key --value",
        &[&token],
    );
    assert_eq!((code, out.as_str()), (0, "4111 1111 1111 1111\n"));
    // A different key cannot reverse the token.
    std::fs::write(env.path("other.key"), "another key, also public\n").expect("writes");
    let (code, _, err) = env.run(
        "detokenize policies.pol --subject bo.json --source cards --column card --key-file \
        other.key --value",
        &[&token],
    );
    assert_eq!(code, 1);
    assert!(err.starts_with("error: cannot detokenize: "), "{err}");
    let (code, _, err) = env.run(
        "detokenize policies.pol --subject bo.json --source cards --column card --value",
        &[&token],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--key-file <KEY_FILE>"), "{err}");
    assert_eq!(
        env.run(
            "detokenize policies.pol --subject bo.json --source vault --column card --key-file \
            test.key --value",
            &[&token],
        ),
        usage("error: no source `vault` in the policies (sources: customers, cards, notes)\n")
    );
}

#[test]
fn eval_explain_names_the_grant() {
    let env = Env::new();
    assert_eq!(env.request("mia.json", "1", T0).0, 0);
    let (code, out, err) = env.eval_customers(
        "al.json",
        "2026-05-01T11:00:00Z",
        &["--grants", "grants.jsonl", "--explain"],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let email = |line: &serde_json::Value| {
        line["explanation"]["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .find(|c| c["column"] == "email")
            .cloned()
            .expect("email cell")
    };
    let granted = email(&lines[0]);
    assert_eq!(granted["value"], "ann@example.com");
    assert_eq!(
        granted["reason"],
        serde_json::json!({"kind": "temporary_unmask", "until": "2026-05-01T12:00:00Z"})
    );
    // Line 2 (Ben, region us) is hidden by the row rule; line 3 has no grant.
    assert_eq!(lines[1]["shown"], false);
    let other = email(&lines[2]);
    assert_eq!(other["value"], "*******");
    assert_eq!(other["decided_by"]["name"], "pii");
}

/// A derived column whose input is masked for everyone is null on every row (the session skips
/// computing it) — except on a record a grant unmasks, where it is computed and clear.
#[test]
fn a_granted_record_shows_derived_columns_of_masked_inputs() {
    let env = Env::new();
    std::fs::write(
        env.path("derived.pol"),
        "tag PII;\n\
         source people { id: int key, email: text tagged PII, label = concat(\"<\", email, \">\"), }\n\
         policy pii { mask columns tagged PII using redact for everyone }\n\
         policy managers on source people {\n  allow temporary unmask for 2h for everyone who user has role \"manager\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        env.path("people.jsonl"),
        "{\"id\": 1, \"email\": \"ann@example.com\"}\n{\"id\": 2, \"email\": \"ben@example.com\"}\n",
    )
    .unwrap();
    let (code, _, err) = env.run(
        "grants request derived.pol --subject mia.json --source people --key 1 --store g.jsonl \
        --audit a.jsonl --now",
        &[T0],
    );
    assert_eq!(code, 0, "{err}");
    let eval = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            "derived.pol",
            "--subject",
            "al.json",
            "--source",
            "people",
            "--rows",
            "people.jsonl",
            "--now",
            T0,
        ];
        args.extend_from_slice(extra);
        env.polc(&args)
    };
    assert_eq!(
        eval(&[]).1,
        "{\"id\":1,\"email\":\"*******\",\"label\":null}\n{\"id\":2,\"email\":\"*******\",\"label\":null}\n"
    );
    assert_eq!(
        eval(&["--grants", "g.jsonl"]).1,
        "{\"id\":1,\"email\":\"ann@example.com\",\"label\":\"<ann@example.com>\"}\n\
         {\"id\":2,\"email\":\"*******\",\"label\":null}\n"
    );
}

impl Env {
    /// `polc ARGS` in the directory, killed (and reported as exit -1) after 20 s.
    fn polc_bounded(&self, args: &[&str]) -> (i32, String, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_polc"))
            .args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs polc");
        let start = std::time::Instant::now();
        while child.try_wait().expect("waits").is_none() {
            if start.elapsed() > std::time::Duration::from_secs(20) {
                child.kill().expect("kills");
                child.wait().expect("waits");
                return (-1, String::new(), "timed out".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let out = child.wait_with_output().expect("output");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).expect("utf-8"),
            String::from_utf8(out.stderr).expect("utf-8"),
        )
    }
}

#[test]
fn an_unusable_audit_or_store_target_fails_at_once_and_stores_nothing() {
    let env = Env::new();
    std::fs::create_dir(env.path("dir")).expect("mkdir");
    let fifo = Command::new("mkfifo")
        .arg(env.path("fifo"))
        .status()
        .expect("mkfifo");
    assert!(fifo.success());
    let request = |store: &str, audit: &str| {
        env.polc_bounded(&[
            "grants",
            "request",
            "policies.pol",
            "--subject",
            "mia.json",
            "--source",
            "customers",
            "--key",
            "1",
            "--store",
            store,
            "--audit",
            audit,
            "--now",
            T0,
        ])
    };
    for (target, kind) in [
        ("/dev/full", "a device"),
        ("fifo", "a FIFO"),
        ("dir", "a directory"),
    ] {
        assert_eq!(
            request("grants.jsonl", target),
            usage(&format!(
                "error: the audit file {target}: the audit record was not written: `{target}` \
                 is {kind}, not a regular file; nothing was written\n"
            )),
            "--audit {target}"
        );
        assert!(!env.path("grants.jsonl").exists(), "nothing stored");
        assert_eq!(
            request(target, "audit.jsonl"),
            usage(&format!(
                "error: the grant store {target}: `{target}` is {kind}, not a regular file; \
                 nothing was written\n"
            )),
            "--store {target}"
        );
        assert_eq!(env.read("audit.jsonl"), "", "nothing audited");
        let (code, _, err) = env.polc_bounded(&[
            "eval",
            "policies.pol",
            "--subject",
            "al.json",
            "--source",
            "customers",
            "--rows",
            "customers.jsonl",
            "--grants",
            target,
        ]);
        assert_eq!(code, 2, "eval --grants {target}: {err}");
    }
}

#[test]
fn opening_reads_only_the_tail_of_the_audit_file() {
    let env = Env::new();
    // A history whose first line is not a record: only the tail is checked, so a request
    // neither reads nor rejects it (reading the whole file would).
    assert_eq!(env.request("al.json", "1", T0).0, 1, "refused and audited");
    let history = env.read("audit.jsonl");
    std::fs::write(env.path("audit.jsonl"), format!("not a record\n{history}")).expect("writes");
    assert_eq!(env.request("mia.json", "1", T0), ok(GRANTED_1));
    assert_eq!(env.read("audit.jsonl").lines().count(), 3);
    // A torn last line (a crash in the middle of a record) is truncated away.
    let mut text = env.read("audit.jsonl");
    std::fs::write(env.path("audit.jsonl"), format!("{text}{{\"time\":\"2026")).expect("writes");
    assert_eq!(env.request("al.json", "1", T0).0, 1);
    assert_eq!(env.read("audit.jsonl").lines().count(), 4);
    text = env.read("audit.jsonl");
    assert!(
        !text.contains("{\"time\":\"2026{"),
        "no record glued to a torn one"
    );
    // A file that does not end like a journal is refused rather than truncated.
    std::fs::write(env.path("other.txt"), "some notes without a newline").expect("writes");
    let (code, _, err) = env.run(
        "grants request policies.pol --subject mia.json --source customers --key 1 --store \
        grants.jsonl --audit other.txt --now",
        &[T0],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is corrupted: its last line is not a valid record"),
        "{err}"
    );
    assert_eq!(env.read("other.txt"), "some notes without a newline");
}

#[test]
fn identical_requests_get_distinct_ids_and_concurrent_revocations_revoke_each_once() {
    let env = Env::new();
    // The same request at the same instant, twice.
    assert_eq!(env.request("mia.json", "1", T0).0, 0);
    assert_eq!(env.request("mia.json", "1", T0).0, 0);
    let (_, list, _) = env.run("grants list --store grants.jsonl --now", &[T0]);
    assert!(
        list.contains("g-00000000000000000000000000000001"),
        "{list}"
    );
    assert!(
        list.contains("g-00000000000000000000000000000002"),
        "{list}"
    );
    let audit_before = env.read("audit.jsonl").lines().count();
    let revokers: Vec<std::process::Child> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_polc"))
                .args([
                    "grants",
                    "revoke",
                    "--store",
                    "grants.jsonl",
                    "--audit",
                    "audit.jsonl",
                    "--subject",
                    "al.json",
                    "--source",
                    "customers",
                    "--key",
                    "1",
                    "--now",
                    "2026-05-01T10:30:00Z",
                ])
                .current_dir(env.dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("runs polc")
        })
        .collect();
    let mut revoked = Vec::new();
    let (mut refused, mut succeeded) = (0, 0);
    for child in revokers {
        let out = child.wait_with_output().expect("waits");
        let stdout = env.aliased(&String::from_utf8(out.stdout).expect("utf-8"));
        match out.status.code() {
            Some(0) => {
                succeeded += 1;
                revoked.extend(stdout.lines().map(str::to_owned));
            }
            Some(1) => refused += 1,
            other => panic!("exit {other:?}: {}", String::from_utf8_lossy(&out.stderr)),
        }
    }
    revoked.sort();
    assert_eq!(
        revoked,
        [
            "revoked: grant g-00000000000000000000000000000001 (customers record 1, given to mia, was until 2026-05-01T12:00:00Z)",
            "revoked: grant g-00000000000000000000000000000002 (customers record 1, given to mia, was until 2026-05-01T12:00:00Z)",
        ]
    );
    let audit = env.read("audit.jsonl");
    let revokes: Vec<&str> = audit
        .lines()
        .skip(audit_before)
        .filter(|l| l.contains("\"action\":\"revoke\""))
        .collect();
    assert_eq!(
        revokes.len(),
        2,
        "each grant revoked and audited once:\n{audit}"
    );
    // The others found nothing to revoke, and said so in the audit file.
    assert_eq!(succeeded + refused, 8);
    assert_eq!(audit.lines().count(), audit_before + 2 + refused);
    let store = env.read("grants.jsonl");
    assert_eq!(store.matches("{\"revoke\":").count(), 2, "{store}");
}

#[test]
fn a_request_interrupted_before_its_grant_was_stored_is_settled_by_the_next_one() {
    let env = Env::new();
    assert_eq!(env.request("mia.json", "1", T0), ok(GRANTED_1));
    // A request killed after its audit record and before its grant: the store ends with the
    // intent, the audit file with the grant record.
    let store = std::fs::read_to_string(env.path("grants.jsonl")).expect("reads");
    let intent = store.lines().next().expect("an intent").replace(
        &env.unaliased(&alias(1)),
        "g-0123456789abcdef0123456789abcdef",
    );
    let audit = std::fs::read_to_string(env.path("audit.jsonl")).expect("reads");
    let granted = audit.lines().next().expect("a grant record").replace(
        &env.unaliased(&alias(1)),
        "g-0123456789abcdef0123456789abcdef",
    );
    std::fs::write(env.path("grants.jsonl"), format!("{store}{intent}\n")).expect("writes");
    std::fs::write(env.path("audit.jsonl"), format!("{audit}{granted}\n")).expect("writes");
    // The next request settles it first: a refusal saying that grant did not take effect (the
    // interrupted grant is the third id these outputs show: after the new grant's).
    assert_eq!(env.request("mia.json", "3", T0).0, 0);
    let audit = env.read("audit.jsonl");
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(lines.len(), 4, "{audit}");
    assert_eq!(
        lines[2],
        "{\"time\":\"2026-05-01T10:00:00Z\",\"subject\":\"mia\",\"action\":\"refusal\",\
         \"request\":\"unmask\",\"source\":\"customers\",\"key\":\"1\",\"columns\":[],\
         \"expiry\":null,\"reason\":null,\"detail\":\"grant g-00000000000000000000000000000003 \
         did not take effect: its request was interrupted before the grant was stored\"}"
    );
    assert!(lines[3].contains("\"action\":\"grant\""), "{audit}");
    // It never holds, and it is settled once.
    let (_, list, _) = env.run("grants list --store grants.jsonl --now", &[T0]);
    assert!(
        !list.contains("g-00000000000000000000000000000003"),
        "{list}"
    );
    assert_eq!(env.request("mia.json", "1", T0).0, 0);
    assert_eq!(
        env.read("audit.jsonl")
            .matches("did not take effect")
            .count(),
        1
    );
}

#[test]
fn an_audit_file_that_cannot_be_written_fails_the_request_closed() {
    let env = Env::new();
    // A regular file that no one can append to (not even root): the write fails, so the grant
    // is not given.
    let (code, out, err) = env.polc_bounded(&[
        "grants",
        "request",
        "policies.pol",
        "--subject",
        "mia.json",
        "--source",
        "customers",
        "--key",
        "1",
        "--store",
        "grants.jsonl",
        "--audit",
        "/proc/version",
        "--now",
        T0,
    ]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("/proc/version"), "{err}");
    assert_eq!(
        env.run("grants list --store grants.jsonl --now", &[T0]),
        ok("no active grants at 2026-05-01T10:00:00Z\n")
    );
}
