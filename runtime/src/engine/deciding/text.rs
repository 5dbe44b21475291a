//! A shape's nodes written back as Pol text, with the bundle's names (strings, subject fields,
//! purposes, regexes, the source's column paths) and parentheses where precedence needs them.

use crate::bundle::Bundle;
use crate::program::shape::{NodeKind, Shape};
use crate::program::{Op, Program};
use crate::value::Value;

/// The names a program's operands index.
pub(crate) struct Names<'a> {
    pub(crate) bundle: &'a Bundle,
    /// The source's flat columns as dotted paths (`patient.ssn`); empty for user-only contexts.
    pub(crate) columns: &'a [String],
}

impl Names<'_> {
    pub(crate) fn string(&self, i: u32) -> &str {
        self.bundle
            .strings
            .get(i as usize)
            .map(String::as_str)
            .unwrap_or("?")
    }

    pub(crate) fn column(&self, i: u32) -> String {
        format!(
            "row.{}",
            self.columns
                .get(i as usize)
                .map(String::as_str)
                .unwrap_or("?")
        )
    }

    pub(crate) fn field(&self, i: u32) -> String {
        format!(
            "user.{}",
            self.bundle
                .subject_fields
                .get(i as usize)
                .map(|(n, _)| n.as_str())
                .unwrap_or("?")
        )
    }

    pub(crate) fn purpose(&self, i: u32) -> &str {
        self.bundle
            .purposes
            .get(i as usize)
            .map(|p| p.name.as_str())
            .unwrap_or("?")
    }
}

/// Binding strength, loosest first (§3 of the language reference).
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const CMP: u8 = 4;
const SUM: u8 = 5;
const NEG: u8 = 6;
const ATOM: u8 = 7;

/// Node `i` of `shape` as Pol text.
pub(crate) fn node_text(shape: &Shape, program: &Program, names: &Names<'_>, i: usize) -> String {
    Writer {
        shape,
        program,
        names,
    }
    .text(i)
    .0
}

struct Writer<'a> {
    shape: &'a Shape,
    program: &'a Program,
    names: &'a Names<'a>,
}

impl Writer<'_> {
    /// The text of node `i` and how tightly it binds.
    fn text(&self, i: usize) -> (String, u8) {
        let Some(node) = self.shape.node(i) else {
            return ("?".to_owned(), ATOM);
        };
        let child = |k: usize, min: u8| -> String {
            match node.children.get(k) {
                Some(c) => {
                    let (t, p) = self.text(*c);
                    if p < min {
                        format!("({t})")
                    } else {
                        t
                    }
                }
                None => "?".to_owned(),
            }
        };
        let op = match node.kind {
            NodeKind::If => {
                return (
                    format!(
                        "if {} then {} else {}",
                        child(0, OR),
                        child(1, OR),
                        child(2, OR)
                    ),
                    OR,
                )
            }
            NodeKind::Op(op) => op,
        };
        let n = self.names;
        let infix = |sym: &str, prec: u8| {
            (
                format!("{} {sym} {}", child(0, prec), child(1, prec + 1)),
                prec,
            )
        };
        let call = |name: &str| {
            let args: Vec<String> = (0..node.children.len()).map(|k| child(k, OR)).collect();
            (format!("{name}({})", args.join(", ")), ATOM)
        };
        match op {
            Op::Const(k) => (
                self.program
                    .consts
                    .get(k as usize)
                    .map(literal)
                    .unwrap_or_else(|| "null".to_owned()),
                ATOM,
            ),
            Op::Duration(s) => (duration(s), ATOM),
            Op::Column(c) => (n.column(c), ATOM),
            Op::Value => ("value".to_owned(), ATOM),
            Op::UserField(f) => (n.field(f), ATOM),
            Op::Login => ("user.login".to_owned(), ATOM),
            Op::Groups => ("user.groups".to_owned(), ATOM),
            Op::Roles => ("user.roles".to_owned(), ATOM),
            Op::Attributes => ("user.attributes".to_owned(), ATOM),
            Op::Purposes => ("user.purposes".to_owned(), ATOM),
            Op::Now => ("now()".to_owned(), ATOM),
            Op::Today => ("today()".to_owned(), ATOM),
            Op::Field(s) => (format!("{}.{}", child(0, ATOM), n.string(s)), ATOM),
            Op::Index => (format!("{}[{}]", child(0, ATOM), child(1, OR)), ATOM),
            Op::Eq => infix("==", CMP),
            Op::Ne => infix("!=", CMP),
            Op::Lt => infix("<", CMP),
            Op::Le => infix("<=", CMP),
            Op::Gt => infix(">", CMP),
            Op::Ge => infix(">=", CMP),
            Op::In => infix("in", CMP),
            Op::Contains => infix("contains", CMP),
            Op::Matches(r) => (
                format!(
                    "{} matches {}",
                    child(0, SUM),
                    literal(&Value::Text(
                        self.names
                            .bundle
                            .regexes
                            .get(r as usize)
                            .cloned()
                            .unwrap_or_default()
                    ))
                ),
                CMP,
            ),
            Op::Under(p) => (format!("{} under {}", child(0, SUM), n.purpose(p)), CMP),
            Op::Add => infix("+", SUM),
            Op::Sub => infix("-", SUM),
            Op::Neg => (format!("-{}", child(0, NEG)), NEG),
            Op::Not => (format!("not {}", child(0, NOT)), NOT),
            Op::And => infix("and", AND),
            Op::Or => infix("or", OR),
            Op::Lower => call("lower"),
            Op::Upper => call("upper"),
            Op::Len => call("len"),
            Op::Concat(_) => call("concat"),
            Op::StartsWith => call("starts_with"),
            Op::EndsWith => call("ends_with"),
            Op::Age => call("age"),
            Op::Has => call("has"),
            Op::InGroup(g) => (format!("user in group {}", quoted(n.string(g))), CMP),
            Op::HasRole(r) => (format!("user has role {}", quoted(n.string(r))), CMP),
            Op::HasAttribute(a) => (format!("user has attribute {}", quoted(n.string(a))), CMP),
            Op::HasAttributeValue { name, value } => (
                format!(
                    "user has attribute {} = {}",
                    quoted(n.string(name)),
                    quoted(n.string(value))
                ),
                CMP,
            ),
            Op::ActingUnder(p) => (format!("user acting under {}", n.purpose(p)), CMP),
            // Jumps never make a node; an op added later reads as a call of its mnemonic.
            other => call(other.mnemonic()),
        }
    }
}

/// A text as a Pol string literal.
pub(crate) fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// A constant as Pol writes it.
pub(crate) fn literal(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Decimal(_) => v.canonical_text(),
        Value::Text(s) => quoted(s),
        Value::Date(_) => format!("date({})", quoted(&v.canonical_text())),
        Value::Timestamp(_) => format!("timestamp({})", quoted(&v.canonical_text())),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

/// A duration in seconds as the largest exact unit (`90d`, `36h`, `15m`, `30s`).
fn duration(secs: i64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs != 0 && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}
