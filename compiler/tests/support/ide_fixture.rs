//! The IDE test fixture: a small two-file policy set (`a.pol` declarations, `b.pol` policies)
//! that the compiler's `ide` tests (`compiler/tests/ide_features.rs`) and the language server's
//! tests (`lsp/tests/editor_session.rs`, declared there with `#[path]`) both ask their editor
//! questions of. `Country`'s description holds an emoji, so that UTF-16 positions, chars and
//! bytes differ after it.

/// `a.pol`: tags, a purpose, the subject and the `customers` source.
pub const DECLS: &str = r#"/// Personally identifiable information.
tag PII sensitive;
tag PII.SSN "Social security numbers";
tag PII.Email;
tag Country "Pays 🌍";
purpose Research.Marketing;

subject {
  clearance: int,
}

source customers {
  id: int key,
  email: text tagged PII.Email,
  ssn: text tagged PII.SSN,
  country: text tagged Country,
  birth: date,
  patient: struct {
    ssn: text tagged PII.SSN,
  },
}
"#;

/// `b.pol`: three column policies and a row policy over `a.pol`.
pub const POLICIES: &str = r#"policy null_pii "PII is nulled unless a more specific rule applies" {
  mask columns tagged PII using null for everyone
}

policy hash_us_ssn {
  mask columns tagged PII.SSN where row[tagged Country] == "US"
  using hash for everyone except user in group "admins"
}

policy research_email {
  mask columns tagged PII.Email
  using hash for everyone who user acting under Research
  otherwise using null
}

policy country_rows on source customers {
  only show rows where row.country == "US" for everyone except user.clearance > 2
}
"#;

/// The fixture's files: (name, text), declarations first (file 0, then file 1).
pub const FILES: [(&str, &str); 2] = [("a.pol", DECLS), ("b.pol", POLICIES)];
