//! Lowering typed expressions ([`CExpr`]) to bytecode [`Program`]s.
//!
//! A program that reads the row is specific to one source: `row.x` and `row[tagged T]` become
//! [`Op::Column`] with the column's index in that source's flat column list. A reference the
//! source cannot satisfy (a `row.x` it does not declare, a `row[tagged T]` no column of it
//! carries) is lowered as null, so that every comparison on it is *unknown*; the rule-level
//! consequences of such a reference (lockout, rule not applying) are decided by the caller
//! with [`missing_refs`].

use super::origin::Origin;
use super::tables::Tables;
use crate::model::{Builtin, CExpr, CKind, Const, Model, SourceId};
use crate::techniques::const_value;
use pol_grammar::ast::BinOp;
use pol_runtime::bundle::ProgramSpans;
use pol_runtime::program::{Assembler, Op, Program};
use pol_runtime::value::Value;

/// What an expression reads that a source does not hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MissingRefs {
    /// A `row.x` whose column the source does not declare (lockout, §6.8).
    pub column: bool,
    /// A `row[tagged T]` no column of the source carries (the rule does not apply, §6.8).
    pub tag: bool,
}

impl MissingRefs {
    /// Both kinds of missing references, combined.
    pub fn or(self, other: MissingRefs) -> MissingRefs {
        MissingRefs {
            column: self.column || other.column,
            tag: self.tag || other.tag,
        }
    }
}

/// The column of `source` that `row[tagged tag]` reads: the one column tagged `tag` or below.
pub fn tagged_column(model: &Model, source: SourceId, tag: usize) -> Option<usize> {
    let src = model.sources.get(source)?;
    let mut found = src
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.tags.iter().any(|&t| model.tags.is_under(t, tag)));
    let first = found.next().map(|(i, _)| i);
    // Two tagged columns is a checked error; never guess between them.
    if found.next().is_some() {
        return None;
    }
    first
}

/// Which row references of `e` the source `source` cannot satisfy.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn missing_refs(model: &Model, source: SourceId, e: &CExpr) -> MissingRefs {
    let src = &model.sources[source];
    let column = e.row_refs().iter().any(|(n, _)| src.column(n).is_none());
    let tag = e
        .tagged_refs()
        .iter()
        .any(|(t, _)| tagged_column(model, source, *t).is_none());
    MissingRefs { column, tag }
}

/// Lowers expressions into the bundle's program table.
pub struct ExprLowerer<'a> {
    pub model: &'a Model,
    /// The source whose row the expression reads (`None`: user-only context).
    pub source: Option<SourceId>,
    /// The file the expression was read from, when the bundle records spans.
    pub origin: Option<Origin<'a>>,
}

impl ExprLowerer<'_> {
    /// Lowers `e` to a program and the spans of its ops (none without an origin); an internal
    /// failure (never expected) gives a program that yields null (unknown), which every
    /// decision point turns into the safe side.
    pub fn program(&self, e: &CExpr, tables: &mut Tables) -> (Program, ProgramSpans) {
        let mut asm = Assembler::new();
        self.emit(e, &mut asm, tables);
        match asm.finish_with_spans() {
            Ok(p) => p,
            Err(_) => (unknown_program(), ProgramSpans::default()),
        }
    }

    /// Emits `e`; its own ops get its span, its operands' ops theirs.
    fn emit(&self, e: &CExpr, a: &mut Assembler, t: &mut Tables) {
        let outer = a.at(self.origin.map(|o| o.span(e.span)));
        self.emit_kind(e, a, t);
        a.at(outer);
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn emit_kind(&self, e: &CExpr, a: &mut Assembler, t: &mut Tables) {
        match &e.kind {
            CKind::Const(Const::Duration(s)) => {
                a.op(Op::Duration(*s));
            }
            CKind::Const(Const::Months(m)) => {
                a.op(Op::Months(*m));
            }
            CKind::Const(c) => {
                a.constant(const_value(c));
            }
            CKind::List(items) => match const_list(items) {
                Some(v) => {
                    a.constant(v);
                }
                None => {
                    // Lists of non-constant items only appear on the right of `in` (lowered
                    // there); anywhere else the value is unknown.
                    a.constant(Value::Null);
                }
            },
            CKind::User(i) => {
                let op = match self.model.subject.get(*i) {
                    Some(f) if f.loc.is_none() => match f.name.as_str() {
                        "login" => Op::Login,
                        "groups" => Op::Groups,
                        "roles" => Op::Roles,
                        "attributes" => Op::Attributes,
                        "purposes" => Op::Purposes,
                        _ => Op::Const(u32::MAX),
                    },
                    Some(_) => {
                        let declared = self.model.subject[..*i]
                            .iter()
                            .filter(|f| f.loc.is_some())
                            .count();
                        Op::UserField(declared as u32)
                    }
                    None => Op::Const(u32::MAX),
                };
                if op == Op::Const(u32::MAX) {
                    a.constant(Value::Null);
                } else {
                    a.op(op);
                }
            }
            CKind::Row(name) => {
                match self.source.and_then(|s| self.model.sources[s].column(name)) {
                    Some(c) => {
                        a.op(Op::Column(c as u32));
                    }
                    None => {
                        a.constant(Value::Null);
                    }
                }
            }
            CKind::RowTagged(tag) => {
                match self.source.and_then(|s| tagged_column(self.model, s, *tag)) {
                    Some(c) => {
                        a.op(Op::Column(c as u32));
                    }
                    None => {
                        a.constant(Value::Null);
                    }
                }
            }
            CKind::Value => {
                a.op(Op::Value);
            }
            CKind::Field(base, name) => {
                self.emit(base, a, t);
                a.op(Op::Field(t.string(name)));
            }
            CKind::Index(base, key) => {
                self.emit(base, a, t);
                self.emit(key, a, t);
                a.op(Op::Index);
            }
            CKind::Call(f, args) => {
                if let Builtin::Now | Builtin::Today = f {
                    a.op(if *f == Builtin::Now {
                        Op::Now
                    } else {
                        Op::Today
                    });
                    return;
                }
                if *f == Builtin::RegexReplace {
                    self.regex_replace(args, a, t);
                    return;
                }
                for arg in args {
                    self.emit(arg, a, t);
                }
                a.op(match f {
                    Builtin::Lower => Op::Lower,
                    Builtin::Upper => Op::Upper,
                    Builtin::Len => Op::Len,
                    Builtin::Concat => Op::Concat(args.len() as u32),
                    Builtin::StartsWith => Op::StartsWith,
                    Builtin::EndsWith => Op::EndsWith,
                    Builtin::Age => Op::Age,
                    Builtin::Has => Op::Has,
                    Builtin::Now => Op::Now,
                    Builtin::Today => Op::Today,
                    Builtin::Replace => Op::Replace,
                    Builtin::Substring if args.len() == 3 => Op::SubstringFor,
                    Builtin::Substring => Op::Substring,
                    Builtin::Length => Op::Len,
                    Builtin::Lpad => Op::Lpad,
                    Builtin::Rpad => Op::Rpad,
                    Builtin::Coalesce => Op::Coalesce(args.len() as u32),
                    // Lowered by `regex_replace` above.
                    Builtin::RegexReplace => return,
                });
            }
            CKind::Neg(inner) => {
                self.emit(inner, a, t);
                a.op(Op::Neg);
            }
            CKind::Not(inner) => {
                self.emit(inner, a, t);
                a.op(Op::Not);
            }
            CKind::Binary(op, l, r) => self.binary(*op, l, r, a, t),
            CKind::Under(inner, purpose) => {
                self.emit(inner, a, t);
                a.op(Op::Under(*purpose as u32));
            }
            CKind::If(c, x, y) => {
                let else_ = a.label();
                let end = a.label();
                self.emit(c, a, t);
                a.branch(else_, end);
                self.emit(x, a, t);
                a.jump(end);
                a.place(else_);
                self.emit(y, a, t);
                a.place(end);
            }
            CKind::InGroup(g) | CKind::HasRole(g) => {
                let group = matches!(e.kind, CKind::InGroup(_));
                match text_const(g) {
                    Some(s) => {
                        let i = t.string(s);
                        a.op(if group {
                            Op::InGroup(i)
                        } else {
                            Op::HasRole(i)
                        });
                    }
                    None => {
                        self.emit(g, a, t);
                        a.op(if group { Op::Groups } else { Op::Roles });
                        a.op(Op::In);
                    }
                }
            }
            CKind::HasAttribute(name, value) => {
                match (text_const(name), value.as_deref().map(text_const)) {
                    (Some(n), None) => {
                        let n = t.string(n);
                        a.op(Op::HasAttribute(n));
                    }
                    (Some(n), Some(Some(v))) => {
                        let (n, v) = (t.string(n), t.string(v));
                        a.op(Op::HasAttributeValue { name: n, value: v });
                    }
                    (_, None) => {
                        a.op(Op::Attributes);
                        self.emit(name, a, t);
                        a.op(Op::Index);
                        a.op(Op::Has);
                    }
                    (_, Some(_)) => {
                        if let Some(v) = value {
                            self.emit(v, a, t);
                        }
                        a.op(Op::Attributes);
                        self.emit(name, a, t);
                        a.op(Op::Index);
                        a.op(Op::In);
                    }
                }
            }
            CKind::ActingUnder(p) => {
                a.op(Op::ActingUnder(*p as u32));
            }
            CKind::Matches(inner, pattern) => {
                self.emit(inner, a, t);
                a.op(Op::Matches(t.regex(pattern)));
            }
            // The bundle's lookup tables are the model's, in the same order.
            CKind::InTable(inner, table) => {
                self.emit(inner, a, t);
                a.op(Op::InTable(*table as u32));
            }
        }
    }

    fn binary(&self, op: BinOp, l: &CExpr, r: &CExpr, a: &mut Assembler, t: &mut Tables) {
        match op {
            BinOp::And | BinOp::Or => {
                let end = a.label();
                self.emit(l, a, t);
                if op == BinOp::And {
                    a.jump_if_false(end);
                } else {
                    a.jump_if_true(end);
                }
                self.emit(r, a, t);
                a.op(if op == BinOp::And { Op::And } else { Op::Or });
                a.place(end);
            }
            // `x in [a, b]` with non-constant items: `x == a or x == b`.
            BinOp::In | BinOp::Contains => {
                let (item, list) = if op == BinOp::In { (l, r) } else { (r, l) };
                if let CKind::List(items) = &list.kind {
                    if const_list(items).is_none() {
                        self.membership(item, items, a, t);
                        return;
                    }
                }
                self.emit(l, a, t);
                self.emit(r, a, t);
                a.op(if op == BinOp::In {
                    Op::In
                } else {
                    Op::Contains
                });
            }
            BinOp::Matches => {
                // Always lowered as `CKind::Matches`; a bare `matches` is unknown.
                a.constant(Value::Null);
            }
            _ => {
                self.emit(l, a, t);
                self.emit(r, a, t);
                a.op(match op {
                    BinOp::Eq => Op::Eq,
                    BinOp::Ne => Op::Ne,
                    BinOp::Lt => Op::Lt,
                    BinOp::Le => Op::Le,
                    BinOp::Gt => Op::Gt,
                    BinOp::Ge => Op::Ge,
                    BinOp::Add => Op::Add,
                    _ => Op::Sub,
                });
            }
        }
    }

    /// `regex_replace(s, r"p", "r")`: the pattern and replacement are constants (the checker
    /// makes sure), kept in the bundle's regex and string tables.
    fn regex_replace(&self, args: &[CExpr], a: &mut Assembler, t: &mut Tables) {
        match args {
            [s, p, r] => match (text_const(p), text_const(r)) {
                (Some(p), Some(r)) => {
                    self.emit(s, a, t);
                    let (regex, replacement) = (t.regex(p), t.string(r));
                    a.op(Op::RegexReplace { regex, replacement });
                }
                _ => {
                    a.constant(Value::Null);
                }
            },
            _ => {
                a.constant(Value::Null);
            }
        }
    }

    fn membership(&self, item: &CExpr, items: &[CExpr], a: &mut Assembler, t: &mut Tables) {
        if items.is_empty() {
            a.constant(Value::Bool(false));
            return;
        }
        for (i, x) in items.iter().enumerate() {
            self.emit(item, a, t);
            self.emit(x, a, t);
            a.op(Op::Eq);
            if i > 0 {
                a.op(Op::Or);
            }
        }
    }
}

/// A program that yields null (unknown as a condition).
pub fn unknown_program() -> Program {
    Program::new(vec![Op::Const(0)], vec![Value::Null])
}

fn text_const(e: &CExpr) -> Option<&str> {
    match &e.kind {
        CKind::Const(Const::Text(s)) => Some(s),
        _ => None,
    }
}

fn const_list(items: &[CExpr]) -> Option<Value> {
    items
        .iter()
        .map(|i| match &i.kind {
            CKind::Const(Const::Duration(_) | Const::Months(_)) => None,
            CKind::Const(c) => Some(const_value(c)),
            CKind::List(inner) => const_list(inner),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .map(Value::List)
}
