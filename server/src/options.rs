//! The server's options: from the command line, from a TOML config file (`--config FILE`, the
//! same names as the long options, e.g. `bundle = "p.polb"`, `jwt-key = ["k.pem"]`), or both —
//! the command line wins. [`Options::resolve`] checks them into a [`Config`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::tables::TableFile;

/// `pol-server` options (every one may also be given in the config file).
#[derive(clap::Parser, Debug, Default, Deserialize)]
#[command(
    name = "pol-server",
    version,
    about = "Pol as a service: masking, explanations, tokens and grants over HTTP"
)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Options {
    /// A TOML file holding any of these options (the command line wins).
    #[arg(long)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// The bundle written by `polc build`.
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// The masking key file (needed by hash, tokenize, format_preserving, noise, randomize).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// A lookup table declared `supplied at run time`, and the CSV or JSON file of its values:
    /// `NAME=FILE`, or `NAME=FILE#COLUMN` to pick a CSV column or JSON field. Repeat for
    /// several. Read again at every bundle reload (and when a file changes).
    #[arg(long = "table")]
    #[serde(default)]
    pub table: Vec<String>,
    /// Where to listen: `HOST:PORT` or `unix:PATH` (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
    /// A grant store: a file or a `postgres://` URL (as `polc grants --store`).
    #[arg(long)]
    pub grants: Option<String>,
    /// An audit trail: a file or a `postgres://` URL (as `polc grants --audit`).
    #[arg(long)]
    pub audit: Option<String>,
    /// The schema of the `grants` and `audit` tables in PostgreSQL (default `pol`).
    #[arg(long)]
    pub schema: Option<String>,
    /// A JWT verification key: a PEM public key (RSA: RS256/384/512; EC P-256/P-384:
    /// ES256/ES384) or, for HS256, a file of at least 32 secret bytes. Repeat for several.
    #[arg(long = "jwt-key")]
    #[serde(default)]
    pub jwt_key: Vec<PathBuf>,
    /// The `iss` a token must carry (default: not checked).
    #[arg(long)]
    pub jwt_issuer: Option<String>,
    /// The `aud` a token must carry (default: not checked).
    #[arg(long)]
    pub jwt_audience: Option<String>,
    /// The claim holding the subject's roles (default `roles`; a dotted path reads nested
    /// claims, e.g. `realm_access.roles`).
    #[arg(long)]
    pub roles_claim: Option<String>,
    /// The claim holding the subject's groups (default `groups`).
    #[arg(long)]
    pub groups_claim: Option<String>,
    /// The claim holding the subject's attributes (default `attributes`).
    #[arg(long)]
    pub attributes_claim: Option<String>,
    /// The claim holding the subject's purposes (default `purposes`).
    #[arg(long)]
    pub purposes_claim: Option<String>,
    /// Sidecar mode: the subject is the JSON of the `X-Pol-Subject` header, set by the
    /// application. Allowed only on a Unix socket or a loopback address.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub trust_subject_header: Option<bool>,
    /// Accept a `now` in request bodies (the evaluation clock; default: refused, the server's
    /// clock is used). For replaying and testing only: a caller's clock decides time
    /// conditions and which grants hold.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub allow_client_clock: Option<bool>,
    /// The largest request body, in bytes (default 1048576; beyond: 413).
    #[arg(long)]
    pub max_body_bytes: Option<usize>,
    /// The most rows one request may hold (default 1000; beyond: 413).
    #[arg(long)]
    pub max_rows: Option<usize>,
    /// The most requests served at once (default 256; beyond: 503).
    #[arg(long)]
    pub max_concurrent: Option<usize>,
    /// The longest a request may take, in milliseconds (default 10000; beyond: 408).
    #[arg(long)]
    pub request_timeout_ms: Option<u64>,
    /// The longest a client may take to send a request's headers, in milliseconds (default
    /// 5000; beyond, the connection is closed).
    #[arg(long)]
    pub header_timeout_ms: Option<u64>,
    /// The longest a client may take to send a request's body, in milliseconds (default 5000;
    /// beyond: 408).
    #[arg(long)]
    pub body_timeout_ms: Option<u64>,
    /// How often the bundle file is checked for a change, in milliseconds (default 1000; 0:
    /// only SIGHUP reloads).
    #[arg(long)]
    pub watch_ms: Option<u64>,
    /// How long a graceful shutdown waits for requests in flight, in milliseconds (default
    /// 10000).
    #[arg(long)]
    pub drain_ms: Option<u64>,
    /// Log format: `text` or `json` (default `text`; the filter is `RUST_LOG`, default `info`).
    #[arg(long)]
    pub log_format: Option<String>,
}

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// A TCP address.
    Tcp(std::net::SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
}

impl Listen {
    /// Whether only this machine can connect (a Unix socket or a loopback address).
    pub fn is_local(&self) -> bool {
        match self {
            Listen::Tcp(a) => a.ip().is_loopback(),
            Listen::Unix(_) => true,
        }
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(a) => write!(f, "{a}"),
            Listen::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// The claim names mapped to the subject's built-in fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimNames {
    /// For `roles`.
    pub roles: String,
    /// For `groups`.
    pub groups: String,
    /// For `attributes`.
    pub attributes: String,
    /// For `purposes`.
    pub purposes: String,
}

/// The limits on requests.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Body size in bytes.
    pub max_body_bytes: usize,
    /// Rows per request.
    pub max_rows: usize,
    /// Requests at once.
    pub max_concurrent: usize,
    /// A whole request.
    pub request_timeout: Duration,
    /// Reading the headers.
    pub header_timeout: Duration,
    /// Reading the body.
    pub body_timeout: Duration,
}

/// Checked options.
#[derive(Clone, Debug)]
pub struct Config {
    /// The bundle file.
    pub bundle: PathBuf,
    /// The masking key file.
    pub key_file: Option<PathBuf>,
    /// The lookup tables the server supplies.
    pub tables: Vec<TableFile>,
    /// Where to listen.
    pub listen: Listen,
    /// The grant store.
    pub grants: Option<String>,
    /// The audit trail.
    pub audit: Option<String>,
    /// The PostgreSQL schema of grants and audit.
    pub schema: String,
    /// JWT verification keys.
    pub jwt_keys: Vec<PathBuf>,
    /// Required `iss`.
    pub jwt_issuer: Option<String>,
    /// Required `aud`.
    pub jwt_audience: Option<String>,
    /// Claim names.
    pub claims: ClaimNames,
    /// Sidecar mode.
    pub trust_subject_header: bool,
    /// Whether a body may set the clock.
    pub allow_client_clock: bool,
    /// Request limits.
    pub limits: Limits,
    /// Bundle file polling (None: SIGHUP only).
    pub watch: Option<Duration>,
    /// Graceful shutdown drain.
    pub drain: Duration,
    /// JSON logs.
    pub json_logs: bool,
}

/// Why the options cannot be used (the server does not start).
#[derive(Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The config file cannot be read or parsed.
    File(String),
    /// An option is missing or wrong.
    Invalid(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::File(m) | ConfigError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Parses a `--listen` value.
pub fn parse_listen(s: &str) -> Result<Listen, ConfigError> {
    if let Some(path) = s.strip_prefix("unix:") {
        if path.is_empty() {
            return Err(ConfigError::Invalid("--listen unix: needs a path".into()));
        }
        return Ok(Listen::Unix(PathBuf::from(path)));
    }
    s.parse().map(Listen::Tcp).map_err(|_| {
        ConfigError::Invalid(format!(
            "--listen `{s}` is neither HOST:PORT (an IP address and a port) nor unix:PATH"
        ))
    })
}

/// Reads a config file.
pub fn read_config_file(path: &Path) -> Result<Options, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::File(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    toml::from_str(&text)
        .map_err(|e| ConfigError::File(format!("the config file {}: {e}", path.display())))
}

impl Options {
    /// These options, with those of `file` where these have none.
    pub fn or(self, file: Options) -> Options {
        Options {
            config: self.config,
            bundle: self.bundle.or(file.bundle),
            key_file: self.key_file.or(file.key_file),
            table: if self.table.is_empty() {
                file.table
            } else {
                self.table
            },
            listen: self.listen.or(file.listen),
            grants: self.grants.or(file.grants),
            audit: self.audit.or(file.audit),
            schema: self.schema.or(file.schema),
            jwt_key: if self.jwt_key.is_empty() {
                file.jwt_key
            } else {
                self.jwt_key
            },
            jwt_issuer: self.jwt_issuer.or(file.jwt_issuer),
            jwt_audience: self.jwt_audience.or(file.jwt_audience),
            roles_claim: self.roles_claim.or(file.roles_claim),
            groups_claim: self.groups_claim.or(file.groups_claim),
            attributes_claim: self.attributes_claim.or(file.attributes_claim),
            purposes_claim: self.purposes_claim.or(file.purposes_claim),
            trust_subject_header: self.trust_subject_header.or(file.trust_subject_header),
            allow_client_clock: self.allow_client_clock.or(file.allow_client_clock),
            max_body_bytes: self.max_body_bytes.or(file.max_body_bytes),
            max_rows: self.max_rows.or(file.max_rows),
            max_concurrent: self.max_concurrent.or(file.max_concurrent),
            request_timeout_ms: self.request_timeout_ms.or(file.request_timeout_ms),
            header_timeout_ms: self.header_timeout_ms.or(file.header_timeout_ms),
            body_timeout_ms: self.body_timeout_ms.or(file.body_timeout_ms),
            watch_ms: self.watch_ms.or(file.watch_ms),
            drain_ms: self.drain_ms.or(file.drain_ms),
            log_format: self.log_format.or(file.log_format),
        }
    }

    /// Merges the config file (if any) and checks every option.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let o = match &self.config {
            Some(path) => {
                let file = read_config_file(path)?;
                self.or(file)
            }
            None => self,
        };
        let bundle = o.bundle.ok_or_else(|| {
            ConfigError::Invalid("give --bundle (or `bundle` in --config)".into())
        })?;
        let listen = parse_listen(o.listen.as_deref().unwrap_or("127.0.0.1:8080"))?;
        let trust = o.trust_subject_header.unwrap_or(false);
        if trust && !listen.is_local() {
            return Err(ConfigError::Invalid(format!(
                "--trust-subject-header is allowed only on a Unix socket or a loopback address, not {listen}"
            )));
        }
        if trust && !o.jwt_key.is_empty() {
            return Err(ConfigError::Invalid(
                "give either --jwt-key or --trust-subject-header, not both".into(),
            ));
        }
        if !trust && o.jwt_key.is_empty() {
            return Err(ConfigError::Invalid(
                "give --jwt-key FILE (JWT bearer tokens) or --trust-subject-header (sidecar on a local socket)".into(),
            ));
        }
        if o.grants.is_some() && o.audit.is_none() {
            return Err(ConfigError::Invalid(
                "--grants needs --audit: every grant, revocation and reveal is audited".into(),
            ));
        }
        let positive = |name: &str, v: usize| {
            if v == 0 {
                Err(ConfigError::Invalid(format!("--{name} must be at least 1")))
            } else {
                Ok(v)
            }
        };
        let ms = |v: Option<u64>, default: u64| Duration::from_millis(v.unwrap_or(default).max(1));
        let log_format = o.log_format.as_deref().unwrap_or("text");
        if !matches!(log_format, "text" | "json") {
            return Err(ConfigError::Invalid(format!(
                "--log-format `{log_format}`: give text or json"
            )));
        }
        let tables = o
            .table
            .iter()
            .map(|t| TableFile::parse(t).map_err(ConfigError::Invalid))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(twice) = tables
            .iter()
            .enumerate()
            .find(|(i, t)| tables.iter().take(*i).any(|u| u.name == t.name))
        {
            return Err(ConfigError::Invalid(format!(
                "--table `{}` is given twice",
                twice.1.name
            )));
        }
        Ok(Config {
            bundle,
            key_file: o.key_file,
            tables,
            listen,
            grants: o.grants,
            audit: o.audit,
            schema: o.schema.unwrap_or_else(|| "pol".into()),
            jwt_keys: o.jwt_key,
            jwt_issuer: o.jwt_issuer,
            jwt_audience: o.jwt_audience,
            claims: ClaimNames {
                roles: o.roles_claim.unwrap_or_else(|| "roles".into()),
                groups: o.groups_claim.unwrap_or_else(|| "groups".into()),
                attributes: o.attributes_claim.unwrap_or_else(|| "attributes".into()),
                purposes: o.purposes_claim.unwrap_or_else(|| "purposes".into()),
            },
            trust_subject_header: trust,
            allow_client_clock: o.allow_client_clock.unwrap_or(false),
            limits: Limits {
                max_body_bytes: positive("max-body-bytes", o.max_body_bytes.unwrap_or(1 << 20))?,
                max_rows: positive("max-rows", o.max_rows.unwrap_or(1000))?,
                max_concurrent: positive("max-concurrent", o.max_concurrent.unwrap_or(256))?,
                request_timeout: ms(o.request_timeout_ms, 10_000),
                header_timeout: ms(o.header_timeout_ms, 5_000),
                body_timeout: ms(o.body_timeout_ms, 5_000),
            },
            watch: match o.watch_ms.unwrap_or(1000) {
                0 => None,
                n => Some(Duration::from_millis(n)),
            },
            drain: ms(o.drain_ms, 10_000),
            json_logs: log_format == "json",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn resolve(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["pol-server"];
        all.extend_from_slice(args);
        Options::try_parse_from(all)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?
            .resolve()
    }

    #[test]
    fn the_subject_header_is_trusted_only_on_local_sockets() {
        let e = resolve(&[
            "--bundle",
            "b",
            "--trust-subject-header",
            "--listen",
            "0.0.0.0:80",
        ])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--trust-subject-header is allowed only on a Unix socket or a loopback address, not 0.0.0.0:80"
        );
        assert!(resolve(&[
            "--bundle",
            "b",
            "--trust-subject-header",
            "--listen",
            "[::1]:80"
        ])
        .is_ok());
        assert!(resolve(&[
            "--bundle",
            "b",
            "--trust-subject-header",
            "--listen",
            "unix:/tmp/s"
        ])
        .is_ok());
    }

    #[test]
    fn an_authentication_mode_is_required() {
        let e = resolve(&["--bundle", "b"]).unwrap_err();
        assert!(e.to_string().starts_with("give --jwt-key FILE"), "{e}");
    }

    #[test]
    fn the_command_line_wins_over_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "bundle = \"from-file.polb\"\nlisten = \"127.0.0.1:9000\"\njwt-key = [\"k\"]\nmax-rows = 7\n",
        )
        .unwrap();
        let c = resolve(&[
            "--config",
            path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:9001",
        ])
        .unwrap();
        assert_eq!(c.bundle, PathBuf::from("from-file.polb"));
        assert_eq!(c.listen, Listen::Tcp("127.0.0.1:9001".parse().unwrap()));
        assert_eq!(c.limits.max_rows, 7);
        std::fs::write(&path, "bundel = \"x\"\n").unwrap();
        let e = resolve(&["--config", path.to_str().unwrap()]).unwrap_err();
        assert!(e.to_string().contains("unknown field `bundel`"), "{e}");
    }
}
