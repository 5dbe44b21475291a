//! The reference evaluator against docs/language.md, rule by rule (§3, §4, §6, §7): small policies,
//! exact expected rows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use chrono::{DateTime, Utc};
use pol_compiler::reference::{Outcome, Reference};
use pol_compiler::source_map::SourceMap;
use pol_compiler::Analysis;
use serde_json::{json, Value};

fn check(text: &str) -> Analysis {
    let mut map = SourceMap::new();
    map.add("t.pol", text.to_string());
    let a = pol_compiler::check(&map);
    let errors: Vec<String> = a
        .diagnostics
        .iter()
        .filter(|d| d.severity() == pol_compiler::diagnostics::Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "the policy does not check: {errors:?}");
    a
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid clock")
        .with_timezone(&Utc)
}

/// The raw masking key the reference derives its sub-keys from.
const KEY: [u8; 32] = [7u8; 32];

/// Masks one row; `None` when hidden.
fn mask(a: &Analysis, source: &str, subject: Value, row: Value) -> Option<Value> {
    let r = Reference::new(&a.model, &a.resolution, Some(&KEY), now());
    let Value::Object(row) = row else {
        panic!("rows are objects")
    };
    match r.mask_row(source, &subject, &row).expect("evaluates") {
        Outcome::Hidden => None,
        Outcome::Shown(m) => Some(Value::Object(m)),
    }
}

fn visible(a: &Analysis, source: &str, subject: Value) -> Vec<String> {
    let r = Reference::new(&a.model, &a.resolution, None, now());
    r.visible_columns(source, &subject).expect("evaluates")
}

const CUSTOMERS: &str = r#"
tag PII; tag PII.SSN; tag PII.Email; tag PII.Phone; tag PII.Name; tag Country; tag PHI;
purpose Research.Marketing;
source customers tagged PHI {
  id:         int key,
  first_name: text tagged PII.Name accessible if user.login == "admin",
  last_name:  text tagged PII.Name visible if user.login == "admin",
  email:      text tagged PII.Email,
  phone:      text tagged PII.Phone,
  ssn:        text tagged PII.SSN,
  country:    text tagged Country,
  full_name = concat(first_name, " ", last_name),
}
policy null_pii { mask columns tagged PII using null for everyone }
policy us_ssn {
  mask columns tagged PII.SSN where row[tagged Country] == "US"
  using redact for everyone except user in group "admins"
}
policy research_email {
  mask columns tagged PII.Email
  using stars for everyone who user acting under Research
  using email_mask for everyone who user has role "agent"
  otherwise using null
}
policy phone_last4 on sources tagged PHI {
  mask columns tagged PII.Phone using show_last(4) for everyone except user has role "supervisor"
}
"#;

fn customer(country: &str) -> Value {
    json!({"id": 1, "first_name": "Jenny", "last_name": "Smith", "email": "jenny@example.com",
           "phone": "555-867-5309", "ssn": "123-45-6789", "country": country})
}

/// §8's example test: agents see partial contact data.
#[test]
fn agents_see_partial_contact_data() {
    let a = check(CUSTOMERS);
    let out = mask(
        &a,
        "customers",
        json!({"login": "amy", "roles": ["agent"]}),
        customer("FR"),
    );
    assert_eq!(
        out,
        Some(
            json!({"id": 1, "first_name": null, "last_name": null, "email": "*******.com",
                    "phone": "*******5309", "ssn": null, "country": "FR", "full_name": null})
        )
    );
}

/// §6.3: the deeper tag wins — `PII.SSN` (depth 2) beats `PII` (depth 1); §6.5: where its
/// `where` is false the next rule decides (the §6.5 example: FR → null, US → the SSN rule).
#[test]
fn deeper_tag_wins_and_false_where_falls_through() {
    let a = check(CUSTOMERS);
    let fr = mask(&a, "customers", json!({}), customer("FR")).expect("shown");
    assert_eq!(fr["ssn"], json!(null));
    let us = mask(&a, "customers", json!({}), customer("US")).expect("shown");
    assert_eq!(us["ssn"], json!("*******"));
    // The exception of the deciding rule holds: clear.
    let admin = mask(
        &a,
        "customers",
        json!({"groups": ["admins"]}),
        customer("US"),
    )
    .expect("shown");
    assert_eq!(admin["ssn"], json!("123-45-6789"));
}

/// §6.3: a direct target (`accessible if`) beats any tag target; its exception clears.
#[test]
fn direct_target_beats_tags() {
    let a = check(CUSTOMERS);
    let out = mask(&a, "customers", json!({"login": "admin"}), customer("FR")).expect("shown");
    assert_eq!(out["first_name"], json!("Jenny"));
    // last_name has only `visible if`: visibility never changes a value; `null_pii` decides.
    assert_eq!(out["last_name"], json!(null));
}

/// §4 audiences: the first `who` that holds wins; none holds → otherwise.
#[test]
fn who_clauses_in_order() {
    let a = check(CUSTOMERS);
    let both = json!({"roles": ["agent"], "purposes": ["Research.Marketing"]});
    let out = mask(&a, "customers", both, customer("FR")).expect("shown");
    assert_eq!(out["email"], json!("*****************"));
    let none = mask(&a, "customers", json!({"roles": ["x"]}), customer("FR")).expect("shown");
    assert_eq!(none["email"], json!(null));
}

/// Three-valued: a `who` that is unknown masks with null even when `otherwise` would reveal;
/// an exception that is unknown is not granted.
#[test]
fn unknown_who_is_null_and_unknown_exception_masks() {
    let a = check(
        r#"
        subject { clearance: int, }
        source s { id: int key, a: text, b: text, }
        policy pa { mask column s.a using redact for everyone who user.clearance > 3 otherwise unmasked }
        policy pb { mask column s.b using redact for everyone except user.clearance > 3 }
        "#,
    );
    let row = json!({"id": 1, "a": "x", "b": "y"});
    assert_eq!(
        mask(&a, "s", json!({}), row.clone()),
        Some(json!({"id": 1, "a": null, "b": "*******"}))
    );
    assert_eq!(
        mask(&a, "s", json!({"clearance": 1}), row.clone()),
        Some(json!({"id": 1, "a": "x", "b": "*******"}))
    );
    assert_eq!(
        mask(&a, "s", json!({"clearance": 5}), row),
        Some(json!({"id": 1, "a": "*******", "b": "y"}))
    );
}

/// §6.4: equal specificity — the rule authored first wins.
#[test]
fn authored_first_wins_on_ties() {
    let a = check(
        r#"
        tag T;
        source s { id: int key, a: text tagged T, }
        policy first { mask columns tagged T using redact for everyone except user in group "g1" }
        policy second { mask columns tagged T using stars for everyone except user in group "g2" }
        "#,
    );
    let row = json!({"id": 1, "a": "abc"});
    assert_eq!(
        mask(&a, "s", json!({}), row.clone()).expect("shown")["a"],
        json!("*******")
    );
    // g1 is excepted by the winner; the second rule never decides.
    assert_eq!(
        mask(&a, "s", json!({"groups": ["g1"]}), row.clone()).expect("shown")["a"],
        json!("abc")
    );
    assert_eq!(
        mask(&a, "s", json!({"groups": ["g2"]}), row).expect("shown")["a"],
        json!("*******")
    );
}

/// §6.4 with `combine_exceptions`: tied `except` rules with one technique OR their exceptions.
#[test]
fn combine_exceptions_ors_the_exceptions() {
    let a = check(
        r#"
        settings { combine_exceptions = true }
        tag T;
        source s { id: int key, a: text tagged T, }
        policy first { mask columns tagged T using redact for everyone except user in group "g1" }
        policy second { mask columns tagged T using redact for everyone except user in group "g2" }
        "#,
    );
    let row = json!({"id": 1, "a": "abc"});
    assert_eq!(
        mask(&a, "s", json!({}), row.clone()).expect("shown")["a"],
        json!("*******")
    );
    assert_eq!(
        mask(&a, "s", json!({"groups": ["g1"]}), row.clone()).expect("shown")["a"],
        json!("abc")
    );
    assert_eq!(
        mask(&a, "s", json!({"groups": ["g2"]}), row).expect("shown")["a"],
        json!("abc")
    );
}

/// §6.3: a tag target beats a broad one; broad targets rank lowest; no rule → clear.
#[test]
fn broad_targets_rank_lowest() {
    let a = check(
        r#"
        tag T;
        source s { id: int key, a: text tagged T, b: text, }
        policy everything { mask all columns using redact for everyone }
        policy tagged_t { mask columns tagged T using stars for everyone }
        "#,
    );
    let out = mask(
        &a,
        "s",
        json!({}),
        json!({"id": 1, "a": "abc", "b": "hello"}),
    );
    // `id` is int: `redact` falls back to null there (§5 type fallback).
    assert_eq!(out, Some(json!({"id": null, "a": "***", "b": "*******"})));
}

/// §6.5: a `where` that is unknown (null operand) lets its rule decide.
#[test]
fn unknown_where_lets_the_rule_decide() {
    let a = check(
        r#"
        source s { id: int key, a: text, n: int, }
        policy p { mask column s.a where row.n > 3 using redact for everyone }
        "#,
    );
    let m = |n: Value| {
        mask(&a, "s", json!({}), json!({"id": 1, "a": "abc", "n": n})).expect("shown")["a"].clone()
    };
    assert_eq!(m(json!(5)), json!("*******"));
    assert_eq!(m(json!(1)), json!("abc"));
    assert_eq!(m(json!(null)), json!("*******"));
}

/// §6.6: a derived column is clear only if every input is clear; else null, unless its own
/// rule masks, whose technique applies to the computed value.
#[test]
fn derived_columns() {
    let a = check(
        r#"
        source s {
          id: int key, first: text, last: text,
          full = concat(first, " ", last),
          shout = upper(first),
        }
        policy pl { mask column s.last using null for everyone except user in group "hr" }
        policy ps { mask column s.shout using stars for everyone except user in group "ops" }
        "#,
    );
    let row = json!({"id": 1, "first": "Ann", "last": "Lee"});
    assert_eq!(
        mask(&a, "s", json!({}), row.clone()),
        Some(json!({"id": 1, "first": "Ann", "last": null, "full": null, "shout": "***"}))
    );
    assert_eq!(
        mask(&a, "s", json!({"groups": ["hr", "ops"]}), row),
        Some(json!({"id": 1, "first": "Ann", "last": "Lee", "full": "Ann Lee", "shout": "ANN"}))
    );
}

/// A struct: its fields obey their own rules inside a clear struct; a masked struct is
/// masked as a whole.
#[test]
fn struct_fields() {
    let a = check(
        r#"
        tag PII; tag PII.SSN;
        source s { id: int key, patient: struct { name: text, ssn: text tagged PII.SSN, age: int, }, }
        policy p { mask columns tagged PII.SSN using mask_first(5) for everyone }
        "#,
    );
    let out = mask(
        &a,
        "s",
        json!({}),
        json!({"id": 1, "patient": {"name": "Ann", "ssn": "123-45-6789", "age": 40, "extra": 1}}),
    );
    assert_eq!(
        out,
        Some(json!({"id": 1, "patient": {"name": "Ann", "ssn": "***-**-6789", "age": 40}}))
    );
}

/// §6.7: row rules covering the source all apply (AND); an exempt user sees every row and
/// every cell clear (§6.1).
#[test]
fn row_rules_and_exempt() {
    let a = check(
        r#"
        tag Country;
        source claims { id: int key, state: text tagged Country, amount: decimal, }
        policy office_rows on source claims {
          only show rows where row[tagged Country] in user.attributes["Office Location"]
          for everyone except user in group "Legal"
        }
        policy small on source claims { only show rows where row.amount < 100 for everyone }
        policy amounts { mask column claims.amount using round(10) for everyone }
        exempt user in group "auditors" on source claims;
        "#,
    );
    let row = json!({"id": 2, "state": "MO", "amount": 42});
    let office = json!({"attributes": {"Office Location": ["MO", "VA"]}});
    assert_eq!(
        mask(&a, "claims", office, row.clone()),
        Some(json!({"id": 2, "state": "MO", "amount": 50.0}))
    );
    // §8: "others see their office's claims" — another office: hidden.
    assert_eq!(
        mask(
            &a,
            "claims",
            json!({"attributes": {"Office Location": ["VA"]}}),
            row.clone()
        ),
        None
    );
    // No attribute at all: the filter is unknown, the row is hidden.
    assert_eq!(mask(&a, "claims", json!({}), row.clone()), None);
    // Legal passes the first rule but not the second on a large amount.
    let big = json!({"id": 3, "state": "MO", "amount": 500});
    assert_eq!(
        mask(&a, "claims", json!({"groups": ["Legal"]}), big.clone()),
        None
    );
    assert_eq!(
        mask(&a, "claims", json!({"groups": ["auditors"]}), big),
        Some(json!({"id": 3, "state": "MO", "amount": 500.0}))
    );
}

/// §4 row rules: `who … otherwise`, `never show rows`, `newer than`, sample.
#[test]
fn row_rule_forms() {
    let a = check(
        r#"
        source taxis { id: int key, passenger_count: int, pickup: timestamp event_time, }
        source vault { id: int key, secret: text, }
        policy recent on source taxis { only show rows newer than 90d for everyone }
        policy few on source taxis {
          only show rows where row.passenger_count < 2
          for everyone who user in group "drivers" otherwise all rows
        }
        policy lock on source vault { never show rows for everyone except user has role "owner" }
        "#,
    );
    let taxi = |n: i64, at: &str| json!({"id": 1, "passenger_count": n, "pickup": at});
    assert!(mask(&a, "taxis", json!({}), taxi(5, "2025-12-01T00:00:00Z")).is_some());
    assert_eq!(
        mask(&a, "taxis", json!({}), taxi(5, "2025-01-01T00:00:00Z")),
        None
    );
    assert_eq!(
        mask(
            &a,
            "taxis",
            json!({"groups": ["drivers"]}),
            taxi(5, "2025-12-01T00:00:00Z")
        ),
        None
    );
    assert!(mask(
        &a,
        "taxis",
        json!({"groups": ["drivers"]}),
        taxi(1, "2025-12-01T00:00:00Z")
    )
    .is_some());
    // A `who` that is unknown (groups malformed) applies both the filter and the otherwise.
    assert_eq!(
        mask(
            &a,
            "taxis",
            json!({"groups": "drivers"}),
            taxi(5, "2025-12-01T00:00:00Z")
        ),
        None
    );
    // No event time: unknown, hidden.
    assert_eq!(
        mask(
            &a,
            "taxis",
            json!({}),
            json!({"id": 1, "passenger_count": 1})
        ),
        None
    );
    assert_eq!(
        mask(&a, "vault", json!({}), json!({"id": 1, "secret": "s"})),
        None
    );
    assert_eq!(
        mask(
            &a,
            "vault",
            json!({"roles": ["owner"]}),
            json!({"id": 1, "secret": "s"})
        ),
        Some(json!({"id": 1, "secret": "s"}))
    );
}

/// §4 `only show N% of rows`: deterministic on the key, the same for every user; a row
/// without a key is hidden.
#[test]
fn sample_is_deterministic() {
    let a = check(
        r#"
        source s { id: int key, v: text, }
        policy half on source s { only show 50% of rows for everyone }
        "#,
    );
    let shown: Vec<i64> = (0..20)
        .filter(|i| mask(&a, "s", json!({}), json!({"id": i, "v": "x"})).is_some())
        .collect();
    let again: Vec<i64> = (0..20)
        .filter(|i| {
            mask(
                &a,
                "s",
                json!({"login": "other"}),
                json!({"id": i, "v": "x"}),
            )
            .is_some()
        })
        .collect();
    assert_eq!(shown, again);
    assert!(!shown.is_empty() && shown.len() < 20, "{shown:?}");
    assert!(pol_compiler::reference::sample_in(
        "s",
        &pol_runtime::Value::Int(shown[0]),
        50
    ));
    assert_eq!(mask(&a, "s", json!({}), json!({"v": "x"})), None);
}

/// §6.8 lockout: a row rule reading a column the source lacks shows no rows; a mask rule's
/// `where` reading one counts as true; `row[tagged T]` with no column tagged T means the rule
/// does not apply to that source.
#[test]
fn lockout() {
    let a = check(
        r#"
        tag Country; tag PII;
        source a { id: int key, region: text, v: text tagged PII, }
        source b { id: int key, v: text tagged PII, }
        source c { id: int key, region: text, country: text tagged Country, }
        policy rows_by_region { only show rows where row.region == "EU" for everyone }
        policy by_country { only show rows where row[tagged Country] == "FR" for everyone }
        "#,
    );
    assert_eq!(mask(&a, "b", json!({}), json!({"id": 1, "v": "x"})), None);
    assert_eq!(
        mask(
            &a,
            "a",
            json!({}),
            json!({"id": 1, "region": "EU", "v": "x"})
        ),
        Some(json!({"id": 1, "region": "EU", "v": "x"}))
    );
    let c = |country: &str| json!({"id": 1, "region": "EU", "country": country});
    assert_eq!(mask(&a, "c", json!({}), c("DE")), None);
    assert_eq!(mask(&a, "c", json!({}), c("FR")), Some(c("FR")));
    let b = check(
        r#"
        tag Country; tag PII;
        source a { id: int key, region: text, v: text tagged PII, }
        source b { id: int key, v: text tagged PII, }
        source c { id: int key, country: text tagged Country, w: text tagged PII, }
        policy where_region { mask columns tagged PII where row.region == "US" using redact for everyone }
        policy by_country { mask columns tagged PII where row[tagged Country] == "FR" using stars for everyone }
        "#,
    );
    // On `b`: `where_region` reads a missing column: true, it decides.
    assert_eq!(
        mask(&b, "b", json!({}), json!({"id": 1, "v": "xy"})),
        Some(json!({"id": 1, "v": "*******"}))
    );
    // On `a`: `where_region` is false; `by_country` does not apply (no Country column): clear.
    assert_eq!(
        mask(
            &b,
            "a",
            json!({}),
            json!({"id": 1, "region": "EU", "v": "xy"})
        ),
        Some(json!({"id": 1, "region": "EU", "v": "xy"}))
    );
}

/// §6.9: undeclared columns are dropped, missing ones are null, a cell of the wrong type is
/// null — even for an exempt user.
#[test]
fn undeclared_missing_and_mistyped_cells() {
    let a = check(
        r#"
        source s { id: int key, n: int, d: date, e: enum("a", "b"), }
        exempt user in group "all" on source s;
        "#,
    );
    let row = json!({"id": 1, "n": "5", "d": "2020-02-30", "e": "c", "extra": 1});
    assert_eq!(
        mask(&a, "s", json!({"groups": ["all"]}), row),
        Some(json!({"id": 1, "n": null, "d": null, "e": null}))
    );
    assert_eq!(
        mask(&a, "s", json!({}), json!({"e": "b"})),
        Some(json!({"id": null, "n": null, "d": null, "e": "b"}))
    );
}

/// §4 visibility: `visible if`, else `accessible if`, else visible; in declaration order.
#[test]
fn visible_columns() {
    let a = check(CUSTOMERS);
    assert_eq!(
        visible(&a, "customers", json!({})),
        ["id", "email", "phone", "ssn", "country", "full_name"]
    );
    assert_eq!(
        visible(&a, "customers", json!({"login": "admin"})),
        [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "ssn",
            "country",
            "full_name"
        ]
    );
}

/// §7 masking levels: the row's level column overrides the source default; a level with no
/// entry uses the highest level's.
#[test]
fn masking_levels() {
    let a = check(
        r#"
        level High > Medium > Low;
        source p level Medium from masking_level { id: int key, name: text, masking_level: text, }
        policy names { mask column p.name using by level { High: redact, Low: show_first(2) } for everyone }
        "#,
    );
    let m = |lvl: Value| {
        mask(
            &a,
            "p",
            json!({}),
            json!({"id": 1, "name": "Jenny", "masking_level": lvl}),
        )
        .expect("shown")["name"]
            .clone()
    };
    assert_eq!(m(json!("Low")), json!("Je*******"));
    assert_eq!(m(json!("High")), json!("*******"));
    // Medium (the default, for a null level) has no entry: the highest level's.
    assert_eq!(m(json!(null)), json!("*******"));
}

/// §3 expressions: Kleene `or` rescues an unknown operand; `if`; built-ins; `has`.
#[test]
fn three_valued_expressions() {
    let a = check(
        r#"
        subject { clearance: int, }
        source s { id: int key, a: text, b: text, c: text, }
        policy pa { mask column s.a using redact for everyone except user.clearance > 3 or user in group "g" }
        policy pb { mask column s.b using redact for everyone except has(user.clearance) }
        policy pc { mask column s.c using redact for everyone except (if user.clearance > 1 then len(user.login) else 0) == 3 }
        "#,
    );
    let row = json!({"id": 1, "a": "x", "b": "y", "c": "z"});
    assert_eq!(
        mask(&a, "s", json!({"groups": ["g"]}), row.clone()),
        Some(json!({"id": 1, "a": "x", "b": "*******", "c": "*******"}))
    );
    assert_eq!(
        mask(&a, "s", json!({"login": "bob", "clearance": 2}), row),
        Some(json!({"id": 1, "a": "*******", "b": "y", "c": "z"}))
    );
}

/// §6.1 with §6.6 and §6.9: an exempt user reads every cell clear, but a mistyped cell is still
/// null and a derived column reading it is null — exactly as with no rule at all; an
/// `accessible if` column is visible to an exempt user (it is accessible).
#[test]
fn exempt_with_mistyped_input_and_visibility() {
    let a = check(
        r#"
        source s {
          id: int key,
          name: text accessible if user.login == "admin",
          email: text,
          label = concat(name, ":", email),
        }
        exempt user in group "all" on source s;
        "#,
    );
    let row = json!({"id": 1, "name": 5, "email": "e@x.org"});
    let expected = Some(json!({"id": 1, "name": null, "email": "e@x.org", "label": null}));
    assert_eq!(
        mask(&a, "s", json!({"groups": ["all"]}), row.clone()),
        expected
    );
    let ok = json!({"id": 1, "name": "Ann", "email": "e@x.org"});
    assert_eq!(
        mask(&a, "s", json!({"groups": ["all"]}), ok.clone()),
        Some(json!({"id": 1, "name": "Ann", "email": "e@x.org", "label": "Ann:e@x.org"}))
    );
    // Not exempt: `accessible if` masks the name with null, so the label is null.
    assert_eq!(
        mask(&a, "s", json!({}), ok),
        Some(json!({"id": 1, "name": null, "email": "e@x.org", "label": null}))
    );
    assert_eq!(
        visible(&a, "s", json!({"groups": ["all"]})),
        ["id", "name", "email", "label"]
    );
    assert_eq!(visible(&a, "s", json!({})), ["id", "email", "label"]);
}
