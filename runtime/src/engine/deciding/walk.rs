//! Finding the minimal deciding parts of a condition (see the parent module) and what each read.

use super::text::{literal, node_text, quoted, Names};
use super::{ConditionExplanation, ConditionRole, DecidingPart, Fact};
use crate::engine::explain::RuleRef;
use crate::program::interp::{load_path, run, Env};
use crate::program::shape::{NodeKind, Shape};
use crate::program::{Op, Program, Tri};
use crate::value::Value;

/// Which row cells an explanation may show.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CellAccess<'a> {
    /// Per flat column: whether the subject sees it clear in this (shown) row.
    Clear(&'a [bool]),
    /// The row is hidden from the subject: no cell is shown.
    RowHidden,
    /// There is no row (an explanation for the user alone): every cell is null.
    NoRow,
}

/// Where a condition is evaluated: the row and subject, the names, and which cells may show.
pub(crate) struct Reading<'a> {
    pub(crate) env: &'a Env<'a>,
    pub(crate) names: Names<'a>,
    pub(crate) cells: CellAccess<'a>,
}

/// Explains `program`, a condition of `rule` in role `role`.
pub(crate) fn explain_condition(
    reading: &Reading<'_>,
    index: u32,
    program: &Program,
    rule: Option<RuleRef>,
    role: ConditionRole,
) -> ConditionExplanation {
    let value = run(program, reading.env).truth();
    let (text, deciding) = match Shape::of(program) {
        Some(shape) => {
            let walk = Walk {
                reading,
                program,
                shape: &shape,
            };
            let mut deciding = Vec::new();
            if walk.reads_withheld() {
                // Taken apart, it would say more about a withheld cell than the decision does.
                deciding.push(walk.part(shape.root(), value));
            } else {
                walk.parts(shape.root(), value, &mut deciding);
            }
            (walk.text(shape.root()), deciding)
        }
        None => ("(a condition of another form)".to_owned(), Vec::new()),
    };
    ConditionExplanation {
        rule,
        role,
        program: index,
        text,
        value: value.as_str().to_owned(),
        deciding,
    }
}

struct Walk<'a> {
    reading: &'a Reading<'a>,
    program: &'a Program,
    shape: &'a Shape,
}

impl Walk<'_> {
    fn text(&self, i: usize) -> String {
        node_text(self.shape, self.program, &self.reading.names, i)
    }

    /// Whether the condition reads a cell this explanation withholds.
    fn reads_withheld(&self) -> bool {
        self.program
            .code
            .iter()
            .any(|op| match (op, self.reading.cells) {
                (Op::Column(_), CellAccess::RowHidden) => true,
                (Op::Column(_), CellAccess::NoRow) => false,
                (Op::Column(c), CellAccess::Clear(flags)) => {
                    !flags.get(*c as usize).copied().unwrap_or(false)
                }
                _ => false,
            })
    }

    /// Node `i`'s value, evaluated alone (unknown if its ops do not form a program).
    fn value(&self, i: usize) -> Tri {
        match self.shape.program_of(self.program, i) {
            Some(p) => run(&p, self.reading.env).truth(),
            None => Tri::Unknown,
        }
    }

    /// Appends the minimal parts of node `i`, whose value is `v`, that decide `v`.
    fn parts(&self, i: usize, v: Tri, out: &mut Vec<DecidingPart>) {
        let Some(node) = self.shape.node(i) else {
            return;
        };
        match node.kind {
            NodeKind::Op(Op::Not) => {
                if let Some(c) = node.children.first() {
                    return self.parts(*c, !v, out);
                }
            }
            NodeKind::Op(op @ (Op::And | Op::Or)) => {
                let operands: Vec<(usize, Tri)> = self
                    .operands(i, op)
                    .into_iter()
                    .map(|c| (c, self.value(c)))
                    .collect();
                // `and` false and `or` true: the first operand of that value decides alone.
                let alone = if op == Op::And { Tri::False } else { Tri::True };
                let chosen: Vec<(usize, Tri)> = if v == alone {
                    operands
                        .into_iter()
                        .filter(|(_, t)| *t == v)
                        .take(1)
                        .collect()
                } else {
                    operands.into_iter().filter(|(_, t)| *t == v).collect()
                };
                if !chosen.is_empty() {
                    for (c, t) in chosen {
                        self.parts(c, t, out);
                    }
                    return;
                }
            }
            _ => {}
        }
        out.push(self.part(i, v));
    }

    /// The operands of a chain of `op` (`a and (b and c)`: a, b, c), in written order.
    fn operands(&self, i: usize, op: Op) -> Vec<usize> {
        let mut out = Vec::new();
        let mut todo = vec![i];
        while let Some(n) = todo.pop() {
            match self.shape.node(n) {
                Some(node) if node.kind == NodeKind::Op(op) => {
                    todo.extend(node.children.iter().rev());
                }
                Some(_) => out.push(n),
                None => {}
            }
        }
        out
    }

    fn part(&self, i: usize, v: Tri) -> DecidingPart {
        let facts = self.facts(i);
        let unknown_because = (v == Tri::Unknown).then(|| {
            facts
                .iter()
                .find(|f| f.value.is_none() || f.value == Some(serde_json::Value::Null))
                .map(|f| f.text.clone())
                .unwrap_or_else(|| {
                    "an operand is of another type, or the computation failed".to_owned()
                })
        });
        let ops = self
            .shape
            .node(i)
            .map(|n| [n.start as u32, n.end as u32])
            .unwrap_or_default();
        DecidingPart {
            text: self.text(i),
            ops,
            value: v.as_str().to_owned(),
            facts,
            unknown_because,
        }
    }

    /// What the ops of node `i` read, once each, in the order they read it.
    fn facts(&self, i: usize) -> Vec<Fact> {
        let Some(node) = self.shape.node(i) else {
            return Vec::new();
        };
        let ops = self.program.code.get(node.start..node.end).unwrap_or(&[]);
        let mut out: Vec<Fact> = Vec::new();
        for (k, op) in ops.iter().enumerate() {
            // `user.attributes["name"]` reads one attribute.
            let fact = match (op, ops.get(k + 1), ops.get(k + 2)) {
                (Op::Attributes, Some(Op::Const(c)), Some(Op::Index)) => {
                    match self.program.consts.get(*c as usize) {
                        Some(Value::Text(name)) => Some(self.attribute_fact(name)),
                        _ => self.fact(op),
                    }
                }
                _ => self.fact(op),
            };
            if let Some(fact) = fact {
                if out.iter().all(|f| f.read != fact.read) {
                    out.push(fact);
                }
            }
        }
        out
    }

    fn fact(&self, op: &Op) -> Option<Fact> {
        let env = self.reading.env;
        let names = &self.reading.names;
        let s = env.subject;
        Some(match *op {
            Op::Column(c) => self.cell_fact(c),
            Op::UserField(f) => {
                let read = names.field(f);
                let v = s.fields.get(f as usize).unwrap_or(&Value::Null);
                let field = read.trim_start_matches("user.");
                scalar_fact(read.clone(), v, || self.missing(field))
            }
            Op::Login => scalar_fact("user.login".to_owned(), &s.login, || self.missing("login")),
            Op::Groups | Op::InGroup(_) => list_fact(
                "user.groups",
                &s.groups,
                "the user's groups are",
                "the user is in no group",
            ),
            Op::Roles | Op::HasRole(_) => list_fact(
                "user.roles",
                &s.roles,
                "the user's roles are",
                "the user has no role",
            ),
            Op::Purposes | Op::ActingUnder(_) => list_fact(
                "user.purposes",
                &s.purposes,
                "the user acts under",
                "the user acts under no purpose",
            ),
            Op::HasAttribute(n) | Op::HasAttributeValue { name: n, .. } => {
                self.attribute_fact(names.string(n))
            }
            Op::Attributes => Fact {
                read: "user.attributes".to_owned(),
                value: Some(s.attributes.to_json()),
                withheld: false,
                text: format!("user.attributes is {}", literal(&s.attributes)),
            },
            Op::Now => {
                let v = Value::Timestamp(env.now);
                Fact {
                    read: "now()".to_owned(),
                    value: Some(v.to_json()),
                    withheld: false,
                    text: format!("the clock is {}", v.canonical_text()),
                }
            }
            Op::Today => {
                let v = Value::Date(env.now.date_naive());
                Fact {
                    read: "today()".to_owned(),
                    value: Some(v.to_json()),
                    withheld: false,
                    text: format!("today is {}", v.canonical_text()),
                }
            }
            _ => return None,
        })
    }

    fn attribute_fact(&self, name: &str) -> Fact {
        let read = format!("user.attributes[{}]", quoted(name));
        match &self.reading.env.subject.attributes {
            Value::Struct(fields) => match fields.iter().find(|(k, _)| k == name) {
                Some((_, v)) => list_fact(
                    &read,
                    v,
                    &format!("the user's attribute {} is", quoted(name)),
                    &format!("the user's attribute {} is empty", quoted(name)),
                ),
                None => Fact {
                    read,
                    value: Some(serde_json::Value::Array(Vec::new())),
                    withheld: false,
                    text: format!("the user has no attribute {}", quoted(name)),
                },
            },
            _ => Fact {
                read,
                value: Some(serde_json::Value::Null),
                withheld: false,
                text: "the subject's `attributes` is not an object of texts".to_owned(),
            },
        }
    }

    fn cell_fact(&self, c: u32) -> Fact {
        let read = self.reading.names.column(c);
        let clear = match self.reading.cells {
            CellAccess::Clear(flags) => flags.get(c as usize).copied().unwrap_or(false),
            CellAccess::RowHidden => false,
            CellAccess::NoRow => {
                return Fact {
                    text: format!("{read} depends on the row"),
                    read,
                    value: None,
                    withheld: false,
                }
            }
        };
        if !clear {
            let why = match self.reading.cells {
                CellAccess::RowHidden => "the row is hidden from this user",
                _ => "it is not clear for this user",
            };
            return Fact {
                text: format!("{read} is withheld ({why})"),
                read,
                value: None,
                withheld: true,
            };
        }
        let env = self.reading.env;
        let v = env
            .paths
            .get(c as usize)
            .and_then(|p| env.row.get(p.top as usize).map(|v| load_path(v, &p.steps)));
        match v.as_deref() {
            Some(Value::Null) | None => Fact {
                text: format!("{read} is null"),
                read,
                value: Some(serde_json::Value::Null),
                withheld: false,
            },
            Some(v) => Fact {
                text: format!("{read} is {}", literal(v)),
                read,
                value: Some(v.to_json()),
                withheld: false,
            },
        }
    }

    /// Why a subject field is null: the decoding issue, or that it is absent.
    fn missing(&self, field: &str) -> String {
        self.reading
            .env
            .subject
            .issues
            .iter()
            .find(|i| i.field == field)
            .map(|i| i.to_string())
            .unwrap_or_else(|| format!("the subject has no `{field}`"))
    }
}

fn scalar_fact(read: String, v: &Value, missing: impl FnOnce() -> String) -> Fact {
    match v {
        Value::Null => Fact {
            read,
            value: Some(serde_json::Value::Null),
            withheld: false,
            text: missing(),
        },
        v => Fact {
            text: format!("{read} is {}", literal(v)),
            read,
            value: Some(v.to_json()),
            withheld: false,
        },
    }
}

fn list_fact(read: &str, v: &Value, some: &str, none: &str) -> Fact {
    let text = match v {
        Value::List(items) if items.is_empty() => none.to_owned(),
        Value::List(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Value::Text(t) => t.clone(),
                    other => literal(other),
                })
                .collect();
            format!("{some} {}", items.join(", "))
        }
        _ => format!("the subject's `{read}` is not a list of texts"),
    };
    Fact {
        read: read.to_owned(),
        value: Some(v.to_json()),
        withheld: false,
        text,
    }
}
