//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary directory, listening on
//! a Unix socket in that directory only, stopped when the last test holding it is done (also
//! on panic: the handle's `Drop` stops it). Run as the `postgres` OS user when the tests run
//! as root (PostgreSQL refuses to run as root).
//!
//! Without the PostgreSQL binaries a test prints a clear message and returns; with `CI=true`
//! it fails instead (never a silent skip in CI).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A running cluster.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
}

static SHARED: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());
static DATABASES: AtomicUsize = AtomicUsize::new(0);
static ROLES: AtomicUsize = AtomicUsize::new(0);

/// The directory of `initdb` / `pg_ctl`: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/*/bin`.
fn bindir() -> Option<PathBuf> {
    let from_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_string()))
        .filter(|p| p.join("initdb").is_file() && p.join("pg_ctl").is_file());
    if from_config.is_some() {
        return from_config;
    }
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, p)| p.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, p)| p)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    /// The shared cluster of this test binary, started if needed; `None` (with a message)
    /// when PostgreSQL is not installed, a panic when it is not and `CI=true`.
    pub fn get() -> Option<Arc<Cluster>> {
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = shared.upgrade() {
            return Some(c);
        }
        let Some(bin) = bindir() else {
            let msg = "PostgreSQL is not installed (no `pg_config --bindir` nor \
                       /usr/lib/postgresql/*/bin/initdb): install the Debian packages \
                       `postgresql postgresql-contrib` (scripts/install-deps does)";
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{msg}");
            }
            eprintln!("skipped: {msg}");
            return None;
        };
        let c = Arc::new(Cluster::start(bin));
        *shared = Arc::downgrade(&c);
        Some(c)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
        assert!(
            out.status.success(),
            "{program} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(bin: PathBuf) -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("pol-pg-")
            .tempdir()
            .expect("a temporary directory");
        let as_postgres = is_root();
        if as_postgres {
            let st = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(
                st.success(),
                "cannot chown the cluster directory to postgres"
            );
        }
        let c = Cluster {
            dir,
            bin,
            as_postgres,
        };
        let data = c.data();
        c.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        let opts = format!(
            "-k {} -c listen_addresses='' -c fsync=off -c max_connections=40",
            c.socket_dir()
        );
        let log = format!("{}/log", c.socket_dir());
        c.run(
            "pg_ctl",
            &["start", "-w", "-D", &data, "-o", &opts, "-l", &log],
        );
        c
    }

    fn data(&self) -> String {
        format!("{}/data", self.socket_dir())
    }

    /// The directory holding the socket.
    pub fn socket_dir(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// A connection as the superuser to `db`.
    pub fn connect(&self, db: &str) -> postgres::Client {
        postgres::Config::new()
            .host_path(Path::new(&self.socket_dir()))
            .user("postgres")
            .dbname(db)
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test cluster: {e}"))
    }

    /// A new, empty database; its name.
    pub fn database(&self) -> String {
        let name = format!("t{}", DATABASES.fetch_add(1, Ordering::SeqCst));
        let mut c = self.connect("postgres");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        name
    }

    /// A new login role in `db` with this subject in the `subjects` table of the `polc sql`
    /// schema `schema` (no row there when `None`); its name, unique in the cluster.
    pub fn login_role(
        &self,
        db: &str,
        schema: &str,
        subject: Option<&serde_json::Value>,
    ) -> String {
        let name = format!("r{db}_{}", ROLES.fetch_add(1, Ordering::SeqCst));
        let mut c = self.connect(db);
        c.batch_execute(&format!("CREATE ROLE {name} LOGIN"))
            .expect("create role");
        if let Some(subject) = subject {
            c.execute(
                &format!(
                    "INSERT INTO {schema}.subjects (role, subject) VALUES ($1, $2::text::jsonb)"
                ),
                &[&name, &subject.to_string()],
            )
            .expect("insert subject");
        }
        name
    }

    /// A connection as `role` to `db` (trust authentication over the socket).
    pub fn connect_as(&self, db: &str, role: &str) -> postgres::Client {
        postgres::Config::new()
            .host_path(Path::new(&self.socket_dir()))
            .user(role)
            .dbname(db)
            .connect(postgres::NoTls)
            .expect("connect as a role")
    }

    /// `psql`-like: runs a script of several statements.
    pub fn execute(&self, db: &str, sql: &str) -> Result<(), postgres::Error> {
        self.connect(db).batch_execute(sql)
    }
}

impl Cluster {
    /// Runs `psql` on `script` (standard input) in `db` as the superuser; its output and
    /// errors, interleaved as a terminal shows them.
    pub fn psql(&self, db: &str, script: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-h",
                &self.socket_dir(),
                "-U",
                "postgres",
                "-d",
                db,
                "-f",
                "-",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("psql");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(script.as_bytes()).expect("psql input");
        }
        let out = child.wait_with_output().expect("psql output");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let _ = cmd
            .args(["stop", "-m", "immediate", "-w", "-D", &data])
            .output();
    }
}
