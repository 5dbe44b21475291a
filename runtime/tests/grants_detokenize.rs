//! Detokenize (§7): the original of a `tokenize` / `format_preserving` value for a permitted
//! user, audited; a clear refusal for anyone else; key rotation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use std::sync::Arc;

use engine_support::*;
use pol_runtime::audit::{AuditAction, AuditRecord, MemorySink, RequestKind};
use pol_runtime::bundle::{GrantAudience, GrantKind, GrantPlan};
use pol_runtime::grants::{DetokenizeError, GrantService, GrantStore, ManualClock};
use pol_runtime::{ColumnType as T, Engine, KeyRing, MaskingKey, Technique};
use serde_json::json;

const CARD: &str = "4111-1111-1111-1111";
const ACCOUNT: &str = "AB-123456";

/// payments { id int key, card_number text (tokenize), account text (format_preserving),
/// note text (redact), level text }; billing may detokenize card_number, account and note.
fn bundle() -> B {
    let mut b = B::new();
    let s = b.source(
        "payments",
        &[
            ("id", T::Int),
            ("card_number", T::Text),
            ("account", T::Text),
            ("note", T::Text),
        ],
    );
    b.src(s).key_column = Some(0);
    let tokenize = b.tech(Technique::Tokenize);
    let fpe = b.tech(Technique::FormatPreserving);
    let redact = b.tech(Technique::Redact);
    let r = b.rule("card_tokens");
    b.add_candidate(s, "card_number", r, None, everyone(tokenize));
    let r = b.rule("account_fpe");
    b.add_candidate(s, "account", r, None, everyone(fpe));
    let r = b.rule("note_redact");
    b.add_candidate(s, "note", r, None, everyone(redact));
    let billing = b.prog(has_role("billing"));
    for (name, column) in [
        ("billing", 1),
        ("billing_accounts", 2),
        ("billing_notes", 3),
    ] {
        let rule = b.rule(name);
        b.b.grants.push(GrantPlan {
            rule,
            kind: GrantKind::Detokenize { source: 0, column },
            audience: GrantAudience::Who(billing),
        });
    }
    b
}

fn service() -> (GrantService, Arc<MemorySink>) {
    let audit = Arc::new(MemorySink::new());
    let clock = Arc::new(ManualClock::new(t0()));
    (
        GrantService::new(GrantStore::in_memory(), audit.clone(), clock),
        audit,
    )
}

fn billing() -> serde_json::Value {
    json!({"login": "bill", "roles": ["billing"]})
}

/// The masked row as anyone sees it.
fn masked(engine: &Engine) -> serde_json::Value {
    mask(
        engine,
        anyone(),
        "payments",
        json!({"id": 1, "card_number": CARD, "account": ACCOUNT, "note": "hello"}),
    )
    .expect("shown")
}

fn text(v: &serde_json::Value, column: &str) -> String {
    v.get(column)
        .and_then(|c| c.as_str())
        .expect("a text cell")
        .to_owned()
}

#[test]
fn billing_gets_the_original_token_and_ciphertext_back() {
    let engine = bundle().engine();
    let row = masked(&engine);
    let token = text(&row, "card_number");
    let key_id = key_ring().active().id().to_owned();
    assert!(token.starts_with(&format!("tok_{key_id}_")), "{token}");
    let cipher = text(&row, "account");
    assert_ne!(cipher, ACCOUNT);
    assert_eq!(cipher.len(), ACCOUNT.len());
    let (svc, audit) = service();
    assert_eq!(
        svc.detokenize(
            &engine,
            &billing(),
            "payments",
            "card_number",
            &token,
            "refund"
        )
        .expect("allowed"),
        CARD
    );
    assert_eq!(
        svc.detokenize(
            &engine,
            &billing(),
            "payments",
            "account",
            &cipher,
            "refund"
        )
        .expect("allowed"),
        ACCOUNT
    );
    assert_eq!(
        audit.records()[0],
        AuditRecord {
            time: t0(),
            subject: "bill".into(),
            action: AuditAction::Detokenize,
            request: RequestKind::Detokenize,
            source: "payments".into(),
            key: None,
            columns: vec!["card_number".into()],
            expiry: None,
            reason: Some("refund".into()),
            detail: "allowed by billing".into(),
        }
    );
    assert_eq!(audit.records()[1].detail, "allowed by billing_accounts");
    // The original is never written to the audit trail.
    assert!(audit
        .records()
        .iter()
        .all(|r| !format!("{r:?}").contains(CARD) && !format!("{r:?}").contains(ACCOUNT)));
}

#[test]
fn anyone_else_is_refused_clearly_and_audited() {
    let engine = bundle().engine();
    let token = text(&masked(&engine), "card_number");
    let (svc, audit) = service();
    let err = svc
        .detokenize(
            &engine,
            &json!({"login": "eve"}),
            "payments",
            "card_number",
            &token,
            "",
        )
        .expect_err("refused");
    assert!(matches!(err, DetokenizeError::Refused(_)));
    assert_eq!(
        err.to_string(),
        "detokenize refused: no `allow detokenize` rule of `payments.card_number` allows this user"
    );
    assert_eq!(
        audit.records(),
        vec![AuditRecord {
            time: t0(),
            subject: "eve".into(),
            action: AuditAction::Refusal,
            request: RequestKind::Detokenize,
            source: "payments".into(),
            key: None,
            columns: vec!["card_number".into()],
            expiry: None,
            reason: None,
            detail: "no `allow detokenize` rule of `payments.card_number` allows this user".into(),
        }]
    );
}

#[test]
fn unknown_names_and_irreversible_columns_are_refused() {
    let engine = bundle().engine();
    let (svc, audit) = service();
    let go = |source: &str, column: &str, value: &str| {
        svc.detokenize(&engine, &billing(), source, column, value, "")
            .expect_err("refused")
            .to_string()
    };
    assert_eq!(
        go("payment", "card_number", "x"),
        "detokenize refused: there is no source `payment`"
    );
    assert_eq!(
        go("payments", "card", "x"),
        "detokenize refused: source `payments` has no column `card`"
    );
    assert_eq!(
        go("payments", "note", "*******"),
        "cannot detokenize: no rule masks `payments.note` with `tokenize` or `format_preserving`"
    );
    assert_eq!(
        go("payments", "card_number", "4111"),
        "cannot detokenize: `payments.card_number` is tokenized and this value is not a token"
    );
    assert_eq!(
        go("payments", "card_number", "tok_00000000_AAAA"),
        "cannot detokenize: the token was made with key `00000000`, which the key ring does not hold"
    );
    assert_eq!(
        go("payments", "card_number", "tok_zz"),
        "cannot detokenize: malformed token"
    );
    assert_eq!(audit.records().len(), 6);
    assert!(audit
        .records()
        .iter()
        .all(|r| r.action == AuditAction::Refusal));
}

#[test]
fn a_tampered_token_does_not_decrypt() {
    let engine = bundle().engine();
    let token = text(&masked(&engine), "card_number");
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let (svc, _) = service();
    assert_eq!(
        svc.detokenize(
            &engine,
            &billing(),
            "payments",
            "card_number",
            &tampered,
            ""
        )
        .expect_err("fails")
        .to_string(),
        "cannot detokenize: the token does not decrypt"
    );
}

#[test]
fn tokens_made_under_a_retired_key_stay_reversible() {
    let old = MaskingKey::from_bytes(b"the old key, 0123456789").expect("key");
    let new = MaskingKey::from_bytes(b"the new key, 0123456789").expect("key");
    let bytes = bundle().b.to_bytes().expect("encodes");
    let before = Engine::load(&bytes, Some(KeyRing::new(old.clone()))).expect("loads");
    let token = text(&masked(&before), "card_number");
    assert!(token.starts_with(&format!("tok_{}_", old.id())));

    // After rotation: the new key is active, the old one retired.
    let ring = KeyRing::new(new.clone())
        .with_retired(old)
        .expect("distinct");
    let after = Engine::load(&bytes, Some(ring)).expect("loads");
    let (svc, _) = service();
    assert_eq!(
        svc.detokenize(&after, &billing(), "payments", "card_number", &token, "")
            .expect("old token"),
        CARD
    );
    // New tokens are made under the new key.
    let fresh = text(&masked(&after), "card_number");
    assert!(fresh.starts_with(&format!("tok_{}_", new.id())));

    // Without the retired key, the old token names a key the ring does not hold.
    let only_new = Engine::load(&bytes, Some(KeyRing::new(new))).expect("loads");
    match svc.detokenize(&only_new, &billing(), "payments", "card_number", &token, "") {
        Err(DetokenizeError::Failed(m)) => assert!(
            m.starts_with("the token was made with key `")
                && m.ends_with("which the key ring does not hold"),
            "{m}"
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn the_engine_refuses_to_load_keyed_techniques_without_a_key() {
    let bytes = bundle().b.to_bytes().expect("encodes");
    let err = Engine::load(&bytes, None).expect_err("no key");
    assert_eq!(
        err.to_string(),
        "the policies use `tokenize`, which needs a masking key, and the engine was given none \
         (pass a key file)"
    );
}

#[test]
fn a_by_level_tokenize_entry_is_reversible() {
    let mut b = bundle();
    b.b.levels = vec!["High".into(), "Low".into()];
    b.level(0, 0, None);
    let null = b.tech(Technique::Null);
    let tokenize = b.tech(Technique::Tokenize);
    let lvl = b.by_level(&[(0, tokenize), (1, null)]);
    b.b.sources[0].columns[3].candidates[0].body = everyone(lvl);
    let engine = b.engine();
    let token = text(&masked(&engine), "note");
    let (svc, _) = service();
    assert_eq!(
        svc.detokenize(&engine, &billing(), "payments", "note", &token, "")
            .expect("allowed"),
        "hello"
    );
}

/// `format_preserving` on an int column: the masked cell is an int of the same digit count;
/// detokenize reads the value as an int and gives its original back; tokenize makes the same
/// ciphertext; a value that is not an int is refused.
#[test]
fn int_columns_detokenize_and_tokenize_as_ints() {
    let mut b = B::new();
    let s = b.source("accounts", &[("id", T::Int), ("number", T::Int)]);
    b.src(s).key_column = Some(0);
    let fpe = b.tech(Technique::FormatPreserving);
    let r = b.rule("number_fpe");
    b.add_candidate(s, "number", r, None, everyone(fpe));
    let billing_role = b.prog(has_role("billing"));
    let rule = b.rule("billing_numbers");
    b.b.grants.push(GrantPlan {
        rule,
        kind: GrantKind::Detokenize {
            source: 0,
            column: 1,
        },
        audience: GrantAudience::Who(billing_role),
    });
    let engine = b.engine();
    let row = mask(
        &engine,
        anyone(),
        "accounts",
        json!({"id": 1, "number": 5_320_130_001_i64}),
    )
    .expect("shown");
    let cipher = row["number"].as_i64().expect("an int cell");
    assert_ne!(cipher, 5_320_130_001);
    assert_eq!(cipher.to_string().len(), 10);
    let (svc, _audit) = service();
    let original = svc
        .detokenize(
            &engine,
            &billing(),
            "accounts",
            "number",
            &cipher.to_string(),
            "r",
        )
        .expect("allowed");
    assert_eq!(original, "5320130001");
    let made = svc
        .tokenize(&engine, &billing(), "accounts", "number", "5320130001", "r")
        .expect("allowed");
    assert_eq!(made, cipher.to_string());
    let err = svc
        .detokenize(&engine, &billing(), "accounts", "number", "12ab", "r")
        .unwrap_err();
    assert!(
        matches!(err, DetokenizeError::Failed(ref m) if m.contains("is an int")),
        "{err}"
    );
}
