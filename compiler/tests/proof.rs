//! Access review by proof (issue 16): `polc who-can-see`, `guarantee` declarations and
//! `polc diff --prove`; every counter-example replayed through the reference evaluator; and
//! the procedure against brute force over a small subject space on generated policy sets.

use crate::support;
use crate::support::polc::polc;

use chrono::{DateTime, Utc};
use pol_compiler::proof::atoms::{Atom, Atoms};
use pol_compiler::proof::bdd::Bdd;
use pol_compiler::proof::decision::{Decisions, Effect};
use pol_compiler::proof::{guarantee, reveal, Set};
use pol_compiler::reference::{Outcome, Reference};
use pol_compiler::source_map::SourceMap;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const HR: &str = r#"
tag PII;
tag PII.SSN;
subject { clearance: int, region: text, }
purpose Research.Marketing;
source people {
  id: int key,
  ssn: text tagged PII.SSN,
  email: text tagged PII,
  country: text,
  salary: int accessible if user.clearance >= 3,
}
policy pii { mask columns tagged PII using null for everyone }
policy ssn {
  mask columns tagged PII.SSN
  using hash for everyone except user has role "privacy_officer" or (user in group "hr" and user.region == row.country)
}
policy email {
  mask column people.email
  using show_last(4) for everyone who user acting under Research
  otherwise unmasked
}
policy eu_rows on source people {
  only show rows where row.country == "FR" for everyone except user in group "hr"
}
"#;

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn analysis(text: &str) -> (SourceMap, pol_compiler::Analysis) {
    let mut map = SourceMap::new();
    map.add("p.pol", text.to_string());
    let a = pol_compiler::check(&map);
    (map, a)
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn who_can_see_states_each_effect_with_the_policy_predicates() {
    let dir = dir_with(&[("p.pol", HR)]);
    let (code, out, err) = polc(dir.path(), &["who-can-see", "p.pol", "people.ssn"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        r#"people.ssn is clear for:
    user has role "privacy_officer"
    user in group "hr", on rows where user.region == row.country
hash for:
    not user has role "privacy_officer" and not user in group "hr"
    not user has role "privacy_officer", on rows where not user.region == row.country
"#
    );
    let (code, out, _) = polc(dir.path(), &["who-can-see", "p.pol", "people.email"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "people.email is clear for:\n    not user acting under Research\nshow_last(4) for:\n    user acting under Research\n"
    );
    let (code, out, _) = polc(dir.path(), &["who-can-see", "p.pol", "people.salary"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "people.salary is clear for:\n    user.clearance >= 3\nnull for:\n    not user.clearance >= 3\n"
    );
    let (code, out, _) = polc(dir.path(), &["who-can-see", "p.pol", "people"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "rows of people are shown to:\n    anyone, on rows where row.country == \"FR\"\n    user in group \"hr\"\nrow rule of `eu_rows` lets a row through for:\n    anyone, on rows where row.country == \"FR\"\n    user in group \"hr\"\n"
    );
}

#[test]
fn who_can_see_json_and_errors() {
    let dir = dir_with(&[("p.pol", HR)]);
    let (code, out, _) = polc(
        dir.path(),
        &["who-can-see", "p.pol", "people.salary", "--format", "json"],
    );
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["clear"]["terms"][0]["user"],
        json!(["user.clearance >= 3"])
    );
    assert_eq!(v["masked"][0]["effect"], json!("null"));
    let (code, _, err) = polc(dir.path(), &["who-can-see", "p.pol", "people.nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("source `people` has no column `nope`"),
        "{err}"
    );
    let (code, _, err) = polc(dir.path(), &["who-can-see", "p.pol", "nobody"]);
    assert_eq!(code, 2);
    assert!(err.contains("no source named `nobody`"), "{err}");
}

/// A broken guarantee's counter-example, replayed through the reference evaluator, shows the
/// leak; a guarantee that holds gives no diagnostic.
#[test]
fn guarantee_counter_examples_replay_as_leaks() {
    let text = format!(
        "{HR}\nguarantee never unmasked column people.salary except user has role \"payroll\";\n\
         guarantee never unmasked columns tagged PII.SSN except user has role \"privacy_officer\" or user in group \"hr\";\n\
         guarantee never show rows of people where row.country != \"FR\" except user in group \"hr\";\n\
         guarantee never unmasked column people.email except not user acting under Research.Marketing;\n"
    );
    let (map, a) = analysis(&text);
    let codes: Vec<&str> = a
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .filter(|c| c.starts_with('E'))
        .collect();
    assert_eq!(codes, vec!["E0043"], "{:?}", a.diagnostics);
    let set = Set {
        model: &a.model,
        resolution: &a.resolution,
        files: &map,
    };
    let broken = guarantee::broken(set);
    assert_eq!(broken.len(), 1);
    let b = &broken[0];
    assert_eq!(b.what, "`people.salary` is clear");
    assert_eq!(b.witness.subject["clearance"], json!(3));
    let r = Reference::new(&a.model, &a.resolution, None, now());
    let row: Map<String, Value> = serde_json::from_value(
        json!({"id": 1, "ssn": "1", "email": "a@b.c", "country": "FR", "salary": 1000}),
    )
    .unwrap();
    match r.mask_row("people", &b.witness.subject, &row).unwrap() {
        Outcome::Shown(out) => assert_eq!(out["salary"], json!(1000)),
        Outcome::Hidden => panic!("the counter-example's row is hidden"),
    }
}

/// `polc diff --prove`: a widened exception is a leak (exit 1) whose counter-example, replayed
/// through the reference evaluator, is clear in NEW and masked in OLD; the same set is proved.
#[test]
fn diff_prove_finds_the_widened_exception_and_replays_it() {
    let new = HR.replace(
        "user has role \"privacy_officer\" or",
        "user has role \"privacy_officer\" or user.clearance > 4 or",
    );
    let dir = dir_with(&[]);
    std::fs::create_dir(dir.path().join("old")).unwrap();
    std::fs::create_dir(dir.path().join("new")).unwrap();
    std::fs::write(dir.path().join("old/p.pol"), HR).unwrap();
    std::fs::write(dir.path().join("new/p.pol"), &new).unwrap();
    let (code, out, err) = polc(dir.path(), &["diff", "--prove", "old", "new"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("people.ssn: clear (was hash)\n"), "{out}");
    assert!(out.contains("\"clearance\":5"), "{out}");
    let (code, _, err) = polc(dir.path(), &["diff", "--prove", "new", "old"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("proved"), "{err}");

    let (om, oa) = analysis(HR);
    let (nm, na) = analysis(&new);
    let old = Set {
        model: &oa.model,
        resolution: &oa.resolution,
        files: &om,
    };
    let newset = Set {
        model: &na.model,
        resolution: &na.resolution,
        files: &nm,
    };
    let leaks = reveal::prove(old, newset);
    assert_eq!(leaks.len(), 1);
    let subject = &leaks[0].witness.subject;
    let row: Map<String, Value> = serde_json::from_value(
        json!({"id": 1, "ssn": "123", "email": "a@b.c", "country": "FR", "salary": 1}),
    )
    .unwrap();
    let ro = Reference::new(&oa.model, &oa.resolution, None, now());
    let rn = Reference::new(&na.model, &na.resolution, None, now());
    let cell = |r: &Reference<'_>| match r.mask_row("people", subject, &row).unwrap() {
        Outcome::Shown(out) => out["ssn"].clone(),
        Outcome::Hidden => Value::Null,
    };
    assert_eq!(cell(&rn), json!("123"));
    assert_eq!(cell(&ro), Value::Null);
}

#[test]
fn impossible_combinations_are_excluded() {
    // `clearance > 5 and clearance < 3` never holds: the column is never clear.
    let text = "subject { clearance: int, }\nsource s { id: int key, x: text accessible if user.clearance > 5 and user.clearance < 3, }\n";
    let (map, a) = analysis(text);
    let set = Set {
        model: &a.model,
        resolution: &a.resolution,
        files: &map,
    };
    let r = pol_compiler::proof::who_can_see_column(set, "s", "x").unwrap();
    assert!(r.clear.no_one, "{r:?}");
    // Research.Marketing implies Research.
    let text = "purpose Research.Marketing;\nsource s { id: int key, x: text accessible if user acting under Research.Marketing and not user acting under Research, }\n";
    let (map, a) = analysis(text);
    let set = Set {
        model: &a.model,
        resolution: &a.resolution,
        files: &map,
    };
    let r = pol_compiler::proof::who_can_see_column(set, "s", "x").unwrap();
    assert!(r.clear.no_one, "{r:?}");
}

// ---- the procedure against brute force ----------------------------------------------------

/// Every subject of a small space: the groups, roles, purposes, attributes and fields the
/// generator's conditions name, well-formed.
fn subjects() -> Vec<Value> {
    let mut out = Vec::new();
    let groups = [vec![], vec!["g1"], vec!["g2", "Legal"], vec!["g1", "Legal"]];
    let roles = [vec![], vec!["agent"], vec!["agent", "owner"]];
    let purposes = [
        vec![],
        vec!["Research"],
        vec!["Research.Marketing"],
        vec!["Ops"],
    ];
    let offices = [None, Some(vec![]), Some(vec!["VA"]), Some(vec!["MD", "VA"])];
    let clearance = [None, Some(0), Some(2), Some(5)];
    let dept = [None, Some("eng"), Some("x")];
    let login = [None, Some("amy"), Some("admin")];
    for (i, g) in groups.iter().enumerate() {
        for (j, r) in roles.iter().enumerate() {
            for (k, p) in purposes.iter().enumerate() {
                let o = &offices[(i + j + k) % offices.len()];
                let c = &clearance[(i * 3 + k) % clearance.len()];
                let d = &dept[(j + k) % dept.len()];
                let l = &login[(i + j) % login.len()];
                let mut m = Map::new();
                m.insert("groups".into(), json!(g));
                m.insert("roles".into(), json!(r));
                m.insert("purposes".into(), json!(p));
                if let Some(o) = o {
                    m.insert("attributes".into(), json!({ "Office": o }));
                }
                if let Some(c) = c {
                    m.insert("clearance".into(), json!(c));
                }
                if let Some(d) = d {
                    m.insert("department".into(), json!(d));
                }
                if let Some(l) = l {
                    m.insert("login".into(), json!(l));
                }
                out.push(Value::Object(m));
            }
        }
    }
    out
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// The value of an atom for a subject and row, when the test can tell it without the
/// procedure (opaque atoms: `None`, left free).
fn atom_value(a: &Atom, subject: &Value, row: &Map<String, Value>) -> Option<bool> {
    let list = |key: &str| -> Vec<String> {
        subject[key]
            .as_array()
            .map(|xs| {
                xs.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let field = |term: &Term| -> Option<Value> {
        match term {
            Term::Now => Some(json!(now().timestamp())),
            Term::User(name) => subject.get(name).cloned().filter(|v| !v.is_null()),
            Term::Row(name) if !name.contains('.') => {
                Some(row.get(name).cloned().unwrap_or(Value::Null)).filter(|v| !v.is_null())
            }
            Term::Row(_) | Term::Today => None,
        }
    };
    Some(match a {
        Atom::Group(g) => list("groups").contains(g),
        Atom::Role(r) => list("roles").contains(r),
        Atom::Purpose(p) => list("purposes")
            .iter()
            .any(|q| q == p || q.starts_with(&format!("{p}."))),
        Atom::AttrPresent(n) => subject["attributes"].get(n).is_some(),
        Atom::AttrValue(n, v) => subject["attributes"][n]
            .as_array()
            .is_some_and(|xs| xs.iter().any(|x| x == v)),
        Atom::Present(f, _) => {
            if f.is_row() {
                // Row cells of the wrong type decode as null: leave them free.
                return None;
            }
            field(f).is_some()
        }
        Atom::Compare {
            field: f,
            op,
            value,
            ..
        } => {
            if f.is_row() {
                return None;
            }
            let Some(v) = field(f) else {
                return Some(false);
            };
            use pol_compiler::proof::atoms::{Cmp, Scalar};
            let ord = match value {
                Scalar::Num(c) => num(&v)?.partial_cmp(c)?,
                Scalar::Text(c) => v.as_str()?.cmp(c.as_str()),
                Scalar::Bool(c) => v.as_bool()?.cmp(c),
            };
            use std::cmp::Ordering::*;
            match op {
                Cmp::Eq => ord == Equal,
                Cmp::Lt => ord == Less,
                Cmp::Le => ord != Greater,
                Cmp::Gt => ord == Greater,
                Cmp::Ge => ord != Less,
            }
        }
        Atom::Opaque { .. } | Atom::Relate { .. } | Atom::InTable { .. } => return None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: support::cases(48), .. ProptestConfig::default() })]

    /// For each generated policy set, subject of the small space and generated row: where the
    /// procedure says a column is clear whatever the unknown (row) atoms are, the reference
    /// evaluator shows the raw value; where it says the column is never clear and only null
    /// applies, the reference shows null; where it says a row is always shown (hidden), the
    /// reference shows (hides) it.
    #[test]
    fn the_procedure_agrees_with_brute_force(case in support::gen::case()) {
        let a = case.check();
        let mut map = SourceMap::new();
        map.add("gen.pol", case.text.clone());
        let set = Set { model: &a.model, resolution: &a.resolution, files: &map };
        let d = Decisions::new(set.model, set.resolution, set.files);
        let r = Reference::new(&a.model, &a.resolution, None, now());
        for (source, row) in &case.rows {
            let s = a.model.source(source).unwrap();
            let src = &a.model.sources[s];
            let mut atoms = Atoms::default();
            let shown = d.shown(&mut atoms, s);
            let cols: Vec<(usize, String, pol_compiler::proof::decision::ColumnDecision)> = src
                .top_columns()
                .filter(|(_, c)| c.derived.is_none() && matches!(c.ty, pol_compiler::model::Ty::Text | pol_compiler::model::Ty::Int))
                .map(|(c, col)| (c, col.name.clone(), d.column(&mut atoms, s, c)))
                .collect::<Vec<_>>();
            let dom = atoms.domain();
            for subject in subjects() {
                let list = atoms.list.clone();
                let known = |v: u32| list.get(v as usize).and_then(|x| atom_value(x, &subject, row));
                let dd = atoms.bdd.restrict(dom, &known);
                prop_assert_ne!(dd, Bdd::FALSE, "the subject is outside the domain: {}\n{}", subject, case.text);
                let sd = atoms.bdd.and(shown, dom);
                let sr = atoms.bdd.restrict(sd, &known);
                let out = r.mask_row(source, &subject, row);
                let Ok(out) = out else { continue };
                match &out {
                    Outcome::Hidden => prop_assert_ne!(sr, dd, "always shown, but hidden: {}\n{}", subject, case.text),
                    Outcome::Shown(_) => prop_assert_ne!(sr, Bdd::FALSE, "never shown, but shown: {}\n{}", subject, case.text),
                }
                let Outcome::Shown(cells) = out else { continue };
                for (_, name, decision) in &cols {
                    let raw = row.get(name).cloned().unwrap_or(Value::Null);
                    let typed = match src.columns[src.column(name).unwrap()].ty {
                        pol_compiler::model::Ty::Text => raw.is_string(),
                        _ => raw.is_i64(),
                    };
                    if !typed {
                        continue;
                    }
                    let clear = decision.effect(&mut atoms.bdd, &Effect::Clear);
                    let cd = atoms.bdd.and(clear, dom);
                    let cr = atoms.bdd.restrict(cd, &known);
                    if cr == dd {
                        prop_assert_eq!(&cells[name], &raw, "{}: always clear for {}, but masked\n{}", name, subject, case.text);
                    }
                    // `null`, or a `who` condition unknown.
                    let nothing: Vec<_> = decision.parts.iter().filter(|p| p.effect.reveals_nothing()).map(|p| p.when).collect();
                    let nulls = atoms.bdd.any(nothing);
                    let nd = atoms.bdd.and(nulls, dom);
                    let nr = atoms.bdd.restrict(nd, &known);
                    if nr == dd {
                        prop_assert_eq!(&cells[name], &Value::Null, "{}: always null for {}\n{}", name, subject, case.text);
                    }
                }
            }
        }
    }
}

/// A broken guarantee is one syntax error; the declarations after it are still read and the
/// guarantees that parse are still proved.
#[test]
fn a_broken_guarantee_is_recovered_and_formatted_guarantees_are_canonical() {
    let text = "source s { id: int key, x: text, }\nguarantee never unmasked ;\nguarantee never unmasked column s.x;\n";
    let (_, a) = analysis(text);
    let codes: Vec<&str> = a.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, vec!["E0001"], "{:?}", a.diagnostics);
    assert_eq!(a.model.guarantees.len(), 1);
    let messy = "source s { id: int key, x: text, }\nguarantee   never unmasked\n column s.x   except user in group \"a\" ;\nguarantee never show rows of s\n where row.x == \"b\";\n";
    let canonical = "source s {\n  id: int key,\n  x: text,\n}\n\nguarantee never unmasked column s.x except user in group \"a\";\nguarantee never show rows of s where row.x == \"b\";\n";
    let dir = dir_with(&[("p.pol", messy)]);
    let (code, _, err) = polc(dir.path(), &["fmt", "p.pol"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p.pol")).unwrap(),
        canonical
    );
    // Both are broken: x has no rule, and every row is shown.
    let (code, out, err) = polc(dir.path(), &["check", "p.pol"]);
    let out = out + &err;
    assert_eq!(code, 1);
    assert_eq!(out.matches("error[E0043]").count(), 2, "{out}");
    assert!(
        out.contains("counter-example: the subject {\"login\":\"someone\",\"groups\":[],"),
        "{out}"
    );
    assert!(out.contains("on a row where row.x is \"b\""), "{out}");
}

// ---- exact comparisons between terms: brute force over subject × row × clock ---------------

use pol_compiler::proof::atoms::{Cmp, Scalar, Term};
use std::collections::{HashMap, HashSet};

/// The value of a term-theory atom under concrete numeric values (`None`: absent or null).
fn theory_atom(a: &Atom, env: &HashMap<String, Option<f64>>) -> Option<bool> {
    let get = |t: &Term| env.get(&t.to_string()).copied().flatten();
    let holds = |op: Cmp, x: f64, y: f64| op.holds(x.partial_cmp(&y).unwrap());
    Some(match a {
        Atom::Present(t, _) => get(t).is_some(),
        Atom::Compare {
            field,
            op,
            value: Scalar::Num(c),
            ..
        } => get(field).is_some_and(|x| holds(*op, x, *c)),
        Atom::Relate {
            left,
            op,
            right,
            offset,
            ..
        } => match (get(left), get(right)) {
            (Some(x), Some(y)) => holds(*op, x, y + *offset as f64),
            _ => false,
        },
        _ => return None,
    })
}

/// Every assignment of the term atoms the domain allows is one that values in `space` give
/// (exactness), and every one they give is in the domain (soundness).
fn assert_domain_is_exact(
    atoms: &mut Atoms,
    dom: pol_compiler::proof::bdd::F,
    envs: &[HashMap<String, Option<f64>>],
    text: &str,
) {
    let list = atoms.list.clone();
    let mut seen: HashSet<Vec<(u32, bool)>> = HashSet::new();
    for env in envs {
        let lits: Vec<(u32, bool)> = list
            .iter()
            .enumerate()
            .filter_map(|(v, a)| theory_atom(a, env).map(|b| (v as u32, b)))
            .collect();
        let map: HashMap<u32, bool> = lits.iter().copied().collect();
        assert!(
            atoms
                .bdd
                .eval(dom, &|v| map.get(&v).copied().unwrap_or(false)),
            "values {env:?} are outside the domain\n{text}"
        );
        seen.insert(lits);
    }
    let cubes: Vec<_> = seen.iter().map(|l| atoms.bdd.cube(l)).collect();
    let all = atoms.bdd.any(cubes);
    let missing = atoms.bdd.and_not(dom, all);
    assert_eq!(
        missing,
        Bdd::FALSE,
        "the domain allows {:?}, which no values give\n{text}",
        atoms.bdd.sat_one(missing)
    );
}

/// Source `s`'s row visibility and column `c`'s clear part, with the domain, on one atom table.
fn decide_s_c(
    map: &SourceMap,
    a: &pol_compiler::Analysis,
) -> (
    Atoms,
    pol_compiler::proof::bdd::F,
    pol_compiler::proof::bdd::F,
    pol_compiler::proof::bdd::F,
) {
    let d = Decisions::new(&a.model, &a.resolution, map);
    let s = a.model.source("s").unwrap();
    let c = a.model.sources[s].column("c").unwrap();
    let mut atoms = Atoms::default();
    let shown = d.shown(&mut atoms, s);
    let decision = d.column(&mut atoms, s, c);
    let clear = decision.effect(&mut atoms.bdd, &Effect::Clear);
    let dom = atoms.domain();
    (atoms, shown, clear, dom)
}

fn int_term() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("user.a".to_string()),
        Just("user.b".to_string()),
        Just("row.x".to_string()),
        Just("row.y".to_string()),
        (0..4i64).prop_map(|c| c.to_string()),
    ]
}

fn int_comparison() -> impl Strategy<Value = String> {
    let op = prop_oneof![
        Just("=="),
        Just("!="),
        Just("<"),
        Just("<="),
        Just(">"),
        Just(">=")
    ];
    (int_term(), op, int_term()).prop_map(|(a, op, b)| {
        // Two constants are not a condition on terms: compare with a term instead.
        let a = if a.parse::<i64>().is_ok() {
            "row.x".to_string()
        } else {
            a
        };
        format!("{a} {op} {b}")
    })
}

fn int_condition() -> impl Strategy<Value = String> {
    combined(int_comparison().boxed(), 3)
}

/// Conditions of `and`, `or` and `not` over leaves, up to `depth` levels.
fn combined(leaf: BoxedStrategy<String>, depth: u32) -> impl Strategy<Value = String> {
    leaf.prop_recursive(depth, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: support::cases(24), .. ProptestConfig::default() })]

    /// Generated sets comparing user fields, row columns and constants: for every subject and
    /// row of a small space, the procedure's decision under the values' atoms is the reference
    /// evaluator's; and the domain allows exactly the combinations some values give.
    #[test]
    fn row_comparisons_agree_with_brute_force(clear in int_condition(), rows in int_condition()) {
        let text = format!(
            "subject {{ a: int, b: int, }}\nsource s {{ id: int key, x: int, y: int, c: text, }}\n\
             policy m {{ mask column s.c using null for everyone except {clear} }}\n\
             policy r on source s {{ only show rows where {rows} for everyone }}\n"
        );
        let (map, a) = analysis(&text);
        prop_assume!(a.diagnostics.iter().all(|d| !d.code.as_str().starts_with('E')));
        let (mut atoms, shown, clear, dom) = decide_s_c(&map, &a);
        prop_assert!(atoms.list.iter().all(|x| theory_atom(x, &HashMap::new()).is_some()), "an opaque atom: {:?}", atoms.list);
        let r = Reference::new(&a.model, &a.resolution, None, now());
        let small: Vec<Option<f64>> = std::iter::once(None).chain((0..5).map(|v| Some(v as f64))).collect();
        let list = atoms.list.clone();
        for &ua in &small { for &ub in &small { for &rx in &small { for &ry in &small {
            let env: HashMap<String, Option<f64>> = [("user.a", ua), ("user.b", ub), ("row.x", rx), ("row.y", ry)]
                .into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let value = |v: u32| list.get(v as usize).and_then(|x| theory_atom(x, &env)).unwrap_or(false);
            let mut subject = json!({"login": "u", "groups": [], "roles": [], "purposes": []});
            if let Some(v) = ua { subject["a"] = json!(v as i64); }
            if let Some(v) = ub { subject["b"] = json!(v as i64); }
            let row: Map<String, Value> = serde_json::from_value(json!({
                "id": 1, "x": rx.map(|v| v as i64), "y": ry.map(|v| v as i64), "c": "raw"
            })).unwrap();
            let out = r.mask_row("s", &subject, &row).unwrap();
            let is_shown = atoms.bdd.eval(shown, &value);
            match out {
                Outcome::Hidden => prop_assert!(!is_shown, "hidden, but the procedure shows it: {env:?}\n{text}"),
                Outcome::Shown(cells) => {
                    prop_assert!(is_shown, "shown, but the procedure hides it: {env:?}\n{text}");
                    let is_clear = atoms.bdd.eval(clear, &value);
                    prop_assert_eq!(cells["c"] == json!("raw"), is_clear, "{:?}\n{}", env, text);
                }
            }
        }}}}
        // Exactness: a value space wide enough for any order of four terms around 0..3.
        let wide: Vec<Option<f64>> = std::iter::once(None).chain((-4..=8).map(|v| Some(v as f64))).collect();
        let mut envs = Vec::new();
        for &ua in &wide { for &ub in &wide { for &rx in &wide { for &ry in &wide {
            envs.push([("user.a", ua), ("user.b", ub), ("row.x", rx), ("row.y", ry)]
                .into_iter().map(|(k, v)| (k.to_string(), v)).collect::<HashMap<_, _>>());
        }}}}
        assert_domain_is_exact(&mut atoms, dom, &envs, &text);
    }
}

fn time_condition() -> impl Strategy<Value = String> {
    let term = prop_oneof![
        Just("now()".to_string()),
        Just("row.t".to_string()),
        Just("now() - 1d".to_string()),
        Just("row.t + 2d".to_string()),
        (0..3i64).prop_map(|d| format!("timestamp(\"2026-01-0{}T00:00:00Z\")", d + 1)),
    ];
    let op = prop_oneof![Just("<"), Just("<="), Just(">"), Just(">="), Just("==")];
    let cmp = (term.clone(), op, term).prop_map(|(a, op, b)| {
        let a = if a.starts_with("timestamp") {
            "now()".to_string()
        } else {
            a
        };
        format!("{a} {op} {b}")
    });
    combined(cmp.boxed(), 2)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: support::cases(24), .. ProptestConfig::default() })]

    /// The clock as one more ordered term: conditions on `now()`, a row timestamp, constants
    /// and fixed offsets, and an `only show rows newer than 1d` window, against the reference
    /// evaluator over a grid of clocks and event times, and the domain's exactness.
    #[test]
    fn time_conditions_agree_with_brute_force(clear in time_condition(), window in 0..3usize) {
        let rule = ["", "only show rows newer than 1d for everyone", "only show rows older than 2d for everyone"][window];
        let text = format!(
            "source s {{ id: int key, t: timestamp event_time, c: text, }}\n\
             policy m {{ mask column s.c using null for everyone except {clear} }}\n\
             policy r on source s {{ {rule} }}\n"
        );
        let (map, a) = analysis(&text);
        prop_assume!(a.diagnostics.iter().all(|d| !d.code.as_str().starts_with('E')));
        let (mut atoms, shown, clear, dom) = decide_s_c(&map, &a);
        prop_assert!(atoms.list.iter().all(|x| theory_atom(x, &HashMap::new()).is_some()), "an opaque atom: {:?}", atoms.list);
        let base = 1_767_225_600i64; // 2026-01-01T00:00:00Z
        // A third of a day: fine enough for every order of two terms' fractional parts.
        let step = 28_800i64;
        let grid: Vec<i64> = (-12..=21).map(|k| base + k * step).collect();
        let list = atoms.list.clone();
        let mut envs = Vec::new();
        for &n in &grid {
            let clock = DateTime::<Utc>::from_timestamp(n, 0).unwrap();
            let r = Reference::new(&a.model, &a.resolution, None, clock);
            for t in std::iter::once(None).chain(grid.iter().map(|&t| Some(t))) {
                let env: HashMap<String, Option<f64>> = [("now()".to_string(), Some(n as f64)), ("row.t".to_string(), t.map(|t| t as f64))].into_iter().collect();
                let value = |v: u32| list.get(v as usize).and_then(|x| theory_atom(x, &env)).unwrap_or(false);
                let at = t.map(|t| DateTime::<Utc>::from_timestamp(t, 0).unwrap().to_rfc3339());
                let row: Map<String, Value> = serde_json::from_value(json!({"id": 1, "t": at, "c": "raw"})).unwrap();
                let out = r.mask_row("s", &json!({"login": "u", "groups": [], "roles": [], "purposes": []}), &row).unwrap();
                let is_shown = atoms.bdd.eval(shown, &value);
                match out {
                    Outcome::Hidden => prop_assert!(!is_shown, "hidden, but the procedure shows it: {env:?}\n{text}"),
                    Outcome::Shown(cells) => {
                        prop_assert!(is_shown, "shown, but the procedure hides it: {env:?}\n{text}");
                        prop_assert_eq!(cells["c"] == json!("raw"), atoms.bdd.eval(clear, &value), "{:?}\n{}", env, text);
                    }
                }
                envs.push(env);
            }
        }
        assert_domain_is_exact(&mut atoms, dom, &envs, &text);
    }
}

const EVENTS: &str = r#"
subject { region: text, }
source ev { id: int key, country: text, at: timestamp event_time, secret: text, }
policy m {
  mask column ev.secret
  using null for everyone except user.region == row.country and now() < timestamp("2026-06-01T00:00:00Z")
}
policy w on source ev { only show rows newer than 7d for everyone }
guarantee never unmasked column ev.secret except user.region == "FR";
guarantee never show rows of ev where row.at < now() - 8d;
guarantee never show rows of ev where row.country == user.region and row.at < now() - 6d;
guarantee never unmasked column ev.secret except now() < timestamp("2026-06-01T00:00:00Z");
"#;

/// Counter-examples with a row and a clock: each gives the row's values and `now()`, and
/// replayed through the reference evaluator at that clock shows the leak; the guarantees that
/// hold only by relating the atoms (the window and `row.at < now() - 8d`; the clock's
/// constants) give none.
#[test]
fn row_and_clock_counter_examples_replay_as_leaks() {
    let (map, a) = analysis(EVENTS);
    let set = Set {
        model: &a.model,
        resolution: &a.resolution,
        files: &map,
    };
    let broken = guarantee::broken(set);
    let whats: Vec<&str> = broken.iter().map(|b| b.what.as_str()).collect();
    assert_eq!(
        whats,
        vec!["`ev.secret` is clear", "a row of `ev` it excludes is shown"],
        "{broken:?}"
    );
    for b in &broken {
        let w = &b.witness;
        let clock = w.now.as_deref().map_or_else(now, |t| {
            DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
        });
        let mut row = json!({"id": 1, "country": "XX", "secret": "s"});
        row["at"] = json!((clock - chrono::Duration::hours(1)).to_rfc3339());
        for (k, v) in &w.row_values {
            row[k] = v.clone();
        }
        let row: Map<String, Value> = serde_json::from_value(row).unwrap();
        let r = Reference::new(&a.model, &a.resolution, None, clock);
        let out = r.mask_row("ev", &w.subject, &row).unwrap();
        let Outcome::Shown(cells) = out else {
            panic!("the counter-example's row is hidden: {w:?}");
        };
        if b.what.contains("secret") {
            assert_eq!(cells["secret"], json!("s"), "{w:?}");
            assert_ne!(w.subject["region"], json!("FR"), "{w:?}");
            assert!(w.now.is_some(), "{w:?}");
        } else {
            let at = DateTime::parse_from_rfc3339(row["at"].as_str().unwrap()).unwrap();
            assert!(at < clock - chrono::Duration::days(6), "{w:?}");
            assert_eq!(row["country"], w.subject["region"], "{w:?}");
        }
        assert!(w.depends_on.is_empty(), "{w:?}");
    }
    // The human form names the row's values and the clock.
    let diags = guarantee::check(set);
    let text = format!("{:?}", diags);
    assert!(text.contains("now() is"), "{text}");
    assert!(text.contains("row.country is"), "{text}");
}

/// `who-can-see` over a row comparison, a window and a k-anonymity: the row parts are
/// relational, the window is a condition on the row and the clock, k-anonymity and
/// detokenize grants are stated apart.
#[test]
fn who_can_see_states_rows_time_and_constraints_apart() {
    let text = format!(
        "{EVENTS}\npolicy k on source ev {{ k_anonymity 3 over country }}\n\
         policy tok {{ mask column ev.country using tokenize for everyone }}\n\
         policy detok {{ allow detokenize column ev.country for everyone who user has role \"billing\" }}\n"
    )
    .replace("guarantee", "// guarantee");
    let dir = dir_with(&[("p.pol", &text)]);
    let (code, out, err) = polc(dir.path(), &["who-can-see", "p.pol", "ev.secret"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "ev.secret is clear for:\n    anyone, on rows where user.region == row.country, while now() < timestamp(\"2026-06-01T00:00:00Z\")\nnull for:\n    anyone, on rows where not user.region == row.country\n    anyone, while not now() < timestamp(\"2026-06-01T00:00:00Z\")\n"
    );
    let (code, out, err) = polc(dir.path(), &["who-can-see", "p.pol", "ev"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "rows of ev are shown to:\n    anyone, on rows where row.at > now() - 7d\nrow rule of `w` lets a row through for:\n    anyone, on rows where row.at > now() - 7d\napart from these, k-anonymity:\n    k_anonymity 3 over country (`k`): batches release these columns only in groups of at least 3 shown rows with the same values (generalised, else suppressed); a single row is refused; an exempt subject gets no k-anonymity\n"
    );
    let (code, out, err) = polc(
        dir.path(),
        &["who-can-see", "p.pol", "ev.country", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["detokenize"].as_array().map(Vec::len), Some(1), "{out}");
    assert!(v["k_anonymity"]
        .as_str()
        .unwrap()
        .starts_with("k_anonymity 3 over country"));
    assert_eq!(v["depends_on"], json!([]));
    // `polc explain` states the k-anonymity apart too.
    std::fs::write(
        dir.path().join("u.json"),
        r#"{"login": "amy", "region": "FR"}"#,
    )
    .unwrap();
    let (code, out, err) = polc(
        dir.path(),
        &["explain", "p.pol", "--subject", "u.json", "--source", "ev"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\n  k_anonymity 3 over country (`k`): batches release"),
        "{out}"
    );
}

/// `x in table T` with T read from a file is membership in its values, exact with the term's
/// other comparisons; a supplied table stays opaque and is listed under "depends on".
#[test]
fn file_tables_are_exact_and_supplied_tables_opaque() {
    let text = r#"
subject { desk: text, }
table eu: text from "eu.json";
table live: text supplied at run time;
source s { id: int key, country: text, secret: text, }
policy r on source s { only show rows where row.country in table eu for everyone }
policy m { mask column s.secret using null for everyone except row.country in table live }
guarantee never show rows of s where row.country == "US";
guarantee never show rows of s where not (row.country in table eu);
guarantee never show rows of s where row.country == user.desk except user.desk == "FR" or user.desk == "DE";
guarantee never unmasked column s.secret;
"#;
    let dir = dir_with(&[("p.pol", text), ("eu.json", r#"["FR", "DE"]"#)]);
    let (code, out, err) = polc(dir.path(), &["check", "p.pol"]);
    let all = out + &err;
    assert_eq!(code, 1, "{all}");
    assert_eq!(all.matches("error[E0043]").count(), 1, "{all}");
    assert!(all.contains("`s.secret` is clear"), "{all}");
    assert!(
        all.contains("(depends on: row.country in table live, not decided by the proof)"),
        "{all}"
    );
    let text = text.replace("guarantee never unmasked column s.secret;", "");
    std::fs::write(dir.path().join("p.pol"), &text).unwrap();
    let (code, out, err) = polc(dir.path(), &["who-can-see", "p.pol", "s"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "rows of s are shown to:\n    anyone, on rows where row.country in table eu\nrow rule of `r` lets a row through for:\n    anyone, on rows where row.country in table eu\n"
    );
    let (code, out, err) = polc(dir.path(), &["who-can-see", "p.pol", "s.secret"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with("depends on (not decided):\n    row.country in table live\n"),
        "{out}"
    );
}

/// Effects are typed: an `expr(…)` technique whose expression changed is a different effect
/// (its rendered text, `expr(…)`, is the same, so comparing texts missed it), and the same
/// expression written elsewhere in the file is the same effect.
#[test]
fn diff_prove_compares_expr_techniques_by_their_expression_not_their_text() {
    let old = "source s { id: int key, n: int, }\npolicy p on source s { mask column s.n using expr(value - value) for everyone }\n";
    let changed = old.replace("value - value", "value + 0");
    let moved = format!("\n// moved\n{old}");
    let dir = dir_with(&[]);
    for (name, text) in [
        ("old", old),
        ("changed", changed.as_str()),
        ("moved", moved.as_str()),
    ] {
        std::fs::create_dir(dir.path().join(name)).unwrap();
        std::fs::write(dir.path().join(name).join("p.pol"), text).unwrap();
    }
    let (code, out, err) = polc(dir.path(), &["diff", "--prove", "old", "changed"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("s.n: expr(…) (was expr(…))\n"), "{out}");
    let (code, out, err) = polc(dir.path(), &["diff", "--prove", "old", "moved"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("proved"), "{err}");
}

/// `by level` techniques are stated apart as masking levels, each once, in the order of their
/// text, with the other techniques of the column listed by their text and the unknown `who` last.
#[test]
fn who_can_see_states_masking_levels_apart_in_a_stable_order() {
    let text = r#"level High > Medium > Low;
subject { clearance: int, }
source participants level Medium from masking_level { id: int key, birth_date: date, note: text, masking_level: text, }
policy note {
  mask column participants.note
  using by level { High: stars, Low: show_last(2) } for everyone who user.clearance > 5
  using show_last(4) for everyone who user.clearance > 2
  using by level { High: null, Low: hash } for everyone who user in group "a"
  otherwise using hash
}
"#;
    let dir = dir_with(&[("p.pol", text)]);
    let (code, out, err) = polc(dir.path(), &["who-can-see", "p.pol", "participants.note"]);
    assert_eq!(code, 0, "{err}");
    let expected = r#"participants.note is clear for:
    no one
by level { High: null, Low: hash } for:
    has(user.clearance) and not user.clearance > 2 and user in group "a"
by level { High: stars, Low: show_last(2) } for:
    user.clearance > 5
hash for:
    has(user.clearance) and not user.clearance > 2 and not user in group "a"
show_last(4) for:
    not user.clearance > 5 and user.clearance > 2
null (a `who` condition is unknown) for:
    not has(user.clearance)
apart from these, masking levels:
    `by level { High: null, Low: hash }` picks the technique by the row's masking level (High > Medium > Low; a level with no entry uses the highest level's)
    `by level { High: stars, Low: show_last(2) }` picks the technique by the row's masking level (High > Medium > Low; a level with no entry uses the highest level's)
"#;
    assert_eq!(out, expected);
}
