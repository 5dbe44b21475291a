//! Shared helpers for the engine tests: an expression tree compiled with the runtime's
//! assembler, and a small bundle builder.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use pol_runtime::bundle::{
    Audience, Body, Bundle, Candidate, ColumnPlan, DerivedPlan, GrantAudience, GrantKind,
    GrantPlan, LevelPlan, PurposeInfo, RowAudience, RowFilter, RowOtherwise, RowRulePlan, RuleInfo,
    SourcePlan, TechniquePlan,
};
use pol_runtime::program::{Assembler, Op, Program};
use pol_runtime::{ColumnType, Engine, KeyRing, MaskingKey, Technique, Value};
use serde_json::json;

/// An expression, compiled to bytecode by [`B::prog`].
#[derive(Clone, Debug)]
pub enum E {
    Const(Value),
    Dur(i64),
    Col(u32),
    Val,
    UserField(u32),
    Login,
    Groups,
    Roles,
    Attrs,
    Purposes,
    Now,
    Today,
    Field(Box<E>, String),
    Index(Box<E>, Box<E>),
    Bin(Op, Box<E>, Box<E>),
    Un(Op, Box<E>),
    And(Box<E>, Box<E>),
    Or(Box<E>, Box<E>),
    If(Box<E>, Box<E>, Box<E>),
    Concat(Vec<E>),
    InGroup(String),
    HasRole(String),
    HasAttr(String),
    HasAttrVal(String, String),
    ActingUnder(String),
    Under(Box<E>, String),
    Matches(Box<E>, String),
}

pub fn text(s: &str) -> E {
    E::Const(Value::Text(s.to_owned()))
}
pub fn int(i: i64) -> E {
    E::Const(Value::Int(i))
}
pub fn boolean(b: bool) -> E {
    E::Const(Value::Bool(b))
}
pub fn null() -> E {
    E::Const(Value::Null)
}
pub fn col(i: u32) -> E {
    E::Col(i)
}
pub fn bin(op: Op, a: E, b: E) -> E {
    E::Bin(op, Box::new(a), Box::new(b))
}
pub fn eq(a: E, b: E) -> E {
    bin(Op::Eq, a, b)
}
pub fn ne(a: E, b: E) -> E {
    bin(Op::Ne, a, b)
}
pub fn lt(a: E, b: E) -> E {
    bin(Op::Lt, a, b)
}
pub fn and(a: E, b: E) -> E {
    E::And(Box::new(a), Box::new(b))
}
pub fn or(a: E, b: E) -> E {
    E::Or(Box::new(a), Box::new(b))
}
pub fn not(a: E) -> E {
    E::Un(Op::Not, Box::new(a))
}
pub fn if_(c: E, a: E, b: E) -> E {
    E::If(Box::new(c), Box::new(a), Box::new(b))
}
pub fn in_group(g: &str) -> E {
    E::InGroup(g.to_owned())
}
pub fn has_role(r: &str) -> E {
    E::HasRole(r.to_owned())
}
pub fn login_is(l: &str) -> E {
    eq(E::Login, text(l))
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid clock")
}

pub fn key_ring() -> KeyRing {
    KeyRing::new(MaskingKey::from_bytes(b"engine test key 0123456789").expect("key"))
}

/// A bundle under construction.
pub struct B {
    pub b: Bundle,
}

impl Default for B {
    fn default() -> Self {
        Self::new()
    }
}

impl B {
    pub fn new() -> Self {
        B { b: Bundle::new() }
    }

    pub fn string(&mut self, s: &str) -> u32 {
        match self.b.strings.iter().position(|x| x == s) {
            Some(i) => i as u32,
            None => {
                self.b.strings.push(s.to_owned());
                (self.b.strings.len() - 1) as u32
            }
        }
    }

    pub fn regex(&mut self, s: &str) -> u32 {
        self.b.regexes.push(s.to_owned());
        (self.b.regexes.len() - 1) as u32
    }

    /// Declares a purpose (and its ancestors), returning its index.
    pub fn purpose(&mut self, name: &str) -> u32 {
        if let Some(i) = self.b.purposes.iter().position(|p| p.name == name) {
            return i as u32;
        }
        let parent = name.rfind('.').map(|dot| self.purpose(&name[..dot]));
        self.b.purposes.push(PurposeInfo {
            name: name.to_owned(),
            parent,
        });
        (self.b.purposes.len() - 1) as u32
    }

    pub fn subject_field(&mut self, name: &str, ty: ColumnType) -> u32 {
        self.b.subject_fields.push((name.to_owned(), ty));
        (self.b.subject_fields.len() - 1) as u32
    }

    fn emit(&mut self, a: &mut Assembler, e: &E) {
        match e {
            E::Const(v) => {
                a.constant(v.clone());
            }
            E::Dur(s) => {
                a.op(Op::Duration(*s));
            }
            E::Col(i) => {
                a.op(Op::Column(*i));
            }
            E::Val => {
                a.op(Op::Value);
            }
            E::UserField(i) => {
                a.op(Op::UserField(*i));
            }
            E::Login => {
                a.op(Op::Login);
            }
            E::Groups => {
                a.op(Op::Groups);
            }
            E::Roles => {
                a.op(Op::Roles);
            }
            E::Attrs => {
                a.op(Op::Attributes);
            }
            E::Purposes => {
                a.op(Op::Purposes);
            }
            E::Now => {
                a.op(Op::Now);
            }
            E::Today => {
                a.op(Op::Today);
            }
            E::Field(x, name) => {
                self.emit(a, x);
                let s = self.string(name);
                a.op(Op::Field(s));
            }
            E::Index(x, k) => {
                self.emit(a, x);
                self.emit(a, k);
                a.op(Op::Index);
            }
            E::Bin(op, x, y) => {
                self.emit(a, x);
                self.emit(a, y);
                a.op(*op);
            }
            E::Un(op, x) => {
                self.emit(a, x);
                a.op(*op);
            }
            E::And(x, y) => {
                let end = a.label();
                self.emit(a, x);
                a.jump_if_false(end);
                self.emit(a, y);
                a.op(Op::And);
                a.place(end);
            }
            E::Or(x, y) => {
                let end = a.label();
                self.emit(a, x);
                a.jump_if_true(end);
                self.emit(a, y);
                a.op(Op::Or);
                a.place(end);
            }
            E::If(c, x, y) => {
                let (els, end) = (a.label(), a.label());
                self.emit(a, c);
                a.branch(els, end);
                self.emit(a, x);
                a.jump(end);
                a.place(els);
                self.emit(a, y);
                a.place(end);
            }
            E::Concat(args) => {
                for x in args {
                    self.emit(a, x);
                }
                a.op(Op::Concat(args.len() as u32));
            }
            E::InGroup(g) => {
                let s = self.string(g);
                a.op(Op::InGroup(s));
            }
            E::HasRole(r) => {
                let s = self.string(r);
                a.op(Op::HasRole(s));
            }
            E::HasAttr(n) => {
                let s = self.string(n);
                a.op(Op::HasAttribute(s));
            }
            E::HasAttrVal(n, v) => {
                let name = self.string(n);
                let value = self.string(v);
                a.op(Op::HasAttributeValue { name, value });
            }
            E::ActingUnder(p) => {
                let i = self.purpose(p);
                a.op(Op::ActingUnder(i));
            }
            E::Under(x, p) => {
                self.emit(a, x);
                let i = self.purpose(p);
                a.op(Op::Under(i));
            }
            E::Matches(x, r) => {
                self.emit(a, x);
                let i = self.regex(r);
                a.op(Op::Matches(i));
            }
        }
    }

    pub fn compile(&mut self, e: &E) -> Program {
        let mut a = Assembler::new();
        self.emit(&mut a, e);
        a.finish().expect("labels placed")
    }

    /// Compiles `e` into the program table.
    pub fn prog(&mut self, e: E) -> u32 {
        let p = self.compile(&e);
        self.b.programs.push(p);
        (self.b.programs.len() - 1) as u32
    }

    pub fn tech(&mut self, t: Technique) -> u32 {
        self.b.techniques.push(TechniquePlan::Builtin(t));
        (self.b.techniques.len() - 1) as u32
    }

    pub fn expr_tech(&mut self, e: E) -> u32 {
        let program = self.prog(e);
        self.b.techniques.push(TechniquePlan::Expr { program });
        (self.b.techniques.len() - 1) as u32
    }

    pub fn by_level(&mut self, entries: &[(u32, u32)]) -> u32 {
        self.b.techniques.push(TechniquePlan::ByLevel {
            entries: entries.to_vec(),
        });
        (self.b.techniques.len() - 1) as u32
    }

    pub fn rule(&mut self, name: &str) -> u32 {
        self.b.rules.push(RuleInfo {
            name: name.to_owned(),
            policy: name.to_owned(),
            description: format!("rule {name}"),
        });
        (self.b.rules.len() - 1) as u32
    }

    /// Adds a source with these top-level columns; returns its index.
    pub fn source(&mut self, name: &str, cols: &[(&str, ColumnType)]) -> usize {
        self.b.sources.push(SourcePlan {
            name: name.to_owned(),
            columns: cols
                .iter()
                .map(|(n, t)| column(n, t.clone(), None))
                .collect(),
            key_column: None,
            event_time_column: None,
            level: None,
            exempts: Vec::new(),
            row_rules: Vec::new(),
        });
        self.b.sources.len() - 1
    }

    pub fn src(&mut self, s: usize) -> &mut SourcePlan {
        &mut self.b.sources[s]
    }

    /// The flat index of a column by its (field) name path, e.g. `patient.ssn`.
    pub fn col_index(&self, s: usize, path: &str) -> u32 {
        let src = &self.b.sources[s];
        let mut parent = None;
        let mut found = None;
        for part in path.split('.') {
            found = src
                .columns
                .iter()
                .position(|c| c.name == part && c.parent == parent)
                .map(|i| i as u32);
            parent = found;
        }
        found.unwrap_or_else(|| panic!("no column {path}"))
    }

    /// Adds nested field plans for every field of struct column `path`.
    pub fn expand_struct(&mut self, s: usize, path: &str) {
        let idx = self.col_index(s, path);
        let ty = self.b.sources[s].columns[idx as usize].ty.clone();
        let fields = match ty {
            ColumnType::Struct(f) => f,
            ColumnType::List(e) => match *e {
                ColumnType::Struct(f) => f,
                _ => panic!("not a struct"),
            },
            _ => panic!("not a struct"),
        };
        for (name, ty) in fields {
            self.b.sources[s].columns.push(column(&name, ty, Some(idx)));
        }
    }

    pub fn add_candidate(
        &mut self,
        s: usize,
        path: &str,
        rule: u32,
        where_: Option<u32>,
        body: Body,
    ) {
        let idx = self.col_index(s, path);
        self.b.sources[s].columns[idx as usize]
            .candidates
            .push(Candidate { rule, where_, body });
    }

    pub fn derived(&mut self, s: usize, name: &str, ty: ColumnType, e: E, reads: &[&str]) {
        let program = self.prog(e);
        let reads = reads.iter().map(|r| self.col_index(s, r)).collect();
        let mut c = column(name, ty, None);
        c.derived = Some(DerivedPlan { program, reads });
        self.b.sources[s].columns.push(c);
    }

    pub fn row_rule(&mut self, s: usize, rule: u32, filter: RowFilter, audience: RowAudience) {
        self.b.sources[s].row_rules.push(RowRulePlan {
            rule,
            filter,
            audience,
        });
    }

    pub fn level(&mut self, s: usize, default: u32, column: Option<&str>) {
        let column = column.map(|c| self.col_index(s, c));
        self.b.sources[s].level = Some(LevelPlan { default, column });
    }

    /// Encodes, decodes (through the binary format) and loads the bundle with the test key.
    pub fn engine(&self) -> Engine {
        let bytes = self.b.to_bytes().expect("encodes");
        Engine::load(&bytes, Some(key_ring())).unwrap_or_else(|e| panic!("loads: {e}"))
    }
}

pub fn column(name: &str, ty: ColumnType, parent: Option<u32>) -> ColumnPlan {
    ColumnPlan {
        name: name.to_owned(),
        ty,
        parent,
        derived: None,
        candidates: Vec::new(),
        visible: None,
        accessible: None,
    }
}

pub fn everyone(t: u32) -> Body {
    Body {
        clauses: vec![(Audience::Everyone, t)],
        otherwise: None,
    }
}

pub fn except(p: u32, t: u32) -> Body {
    Body {
        clauses: vec![(Audience::Except(p), t)],
        otherwise: None,
    }
}

pub fn who(clauses: &[(u32, u32)], otherwise: Option<Option<u32>>) -> Body {
    Body {
        clauses: clauses
            .iter()
            .map(|(p, t)| (Audience::Who(*p), *t))
            .collect(),
        otherwise,
    }
}

pub fn row_who(condition: u32, otherwise: RowOtherwise) -> RowAudience {
    RowAudience::Who {
        condition,
        otherwise,
    }
}

/// Masks one JSON row for a subject; the result as a JSON object (None = hidden).
pub fn mask(
    engine: &Engine,
    subject: serde_json::Value,
    source: &str,
    row: serde_json::Value,
) -> Option<serde_json::Value> {
    mask_pairs(engine, subject, source, row)
        .map(|pairs| serde_json::Value::Object(pairs.into_iter().collect()))
}

/// One case of [`assert_masks`]: the subject, the input row, and the masked row expected
/// (`None`: the row is hidden).
pub type MaskCase = (
    serde_json::Value,
    serde_json::Value,
    Option<serde_json::Value>,
);

/// Masks each case's row for its subject on `source` and checks the result; a failure names
/// the case by its position, subject and row.
pub fn assert_masks(engine: &Engine, source: &str, cases: &[MaskCase]) {
    for (i, (subject, row, expected)) in cases.iter().enumerate() {
        assert_eq!(
            &mask(engine, subject.clone(), source, row.clone()),
            expected,
            "case {i}: subject {subject}, row {row}"
        );
    }
}

/// Masks one JSON row; the result as (column, value) pairs in output order.
pub fn mask_pairs(
    engine: &Engine,
    subject: serde_json::Value,
    source: &str,
    row: serde_json::Value,
) -> Option<Vec<(String, serde_json::Value)>> {
    let session = engine
        .session(&subject, t0())
        .expect("subject is an object");
    let src = session.source(source).expect("source exists");
    let row = match row {
        serde_json::Value::Object(m) => m,
        _ => panic!("row must be an object"),
    };
    let out = src.mask_json(&row);
    // The explanation must agree with the masking, cell for cell.
    let ex = src.explain(&row);
    assert_eq!(
        ex.shown,
        out.is_some(),
        "explain and mask disagree on visibility"
    );
    if let Some(pairs) = &out {
        let top: Vec<_> = ex.cells.iter().filter(|c| c.value.is_some()).collect();
        assert_eq!(top.len(), pairs.len());
        for (c, (name, v)) in top.iter().zip(pairs) {
            assert_eq!(&c.column, name);
            assert_eq!(
                c.value.as_ref(),
                Some(v),
                "explain and mask disagree on {name}"
            );
        }
    }
    out
}

pub fn anyone() -> serde_json::Value {
    json!({"login": "someone"})
}

/// customers { id int key, email text }: email null for everyone; anyone may unmask a record
/// for 2h (`allow temporary unmask for 2h for everyone`, rule `open`).
pub fn open_unmask_engine() -> Engine {
    let mut b = B::new();
    let s = b.source(
        "customers",
        &[("id", ColumnType::Int), ("email", ColumnType::Text)],
    );
    b.src(s).key_column = Some(0);
    let null = b.tech(Technique::Null);
    let r = b.rule("null_email");
    b.add_candidate(s, "email", r, None, everyone(null));
    let rule = b.rule("open");
    b.b.grants.push(GrantPlan {
        rule,
        kind: GrantKind::TemporaryUnmask {
            source: 0,
            seconds: 7_200,
        },
        audience: GrantAudience::Everyone,
    });
    b.engine()
}
