//! A technique as the proof compares it: the model's [`TechniqueUse`], typed, equal to another
//! when it is the same technique as written (name, arguments, `by level` entries), wherever
//! it was written. It is rendered (`show_last(4)`) only when a report is printed
//! ([`super::decision::Effect::text`]).

use crate::model::{CExpr, CKind, Const, NodeId, TechArg, TechniqueUse, Ty};
use pol_grammar::ast::BinOp;

/// One technique a decision applies.
#[derive(Clone, Copy, Debug)]
pub struct Technique<'a>(pub &'a TechniqueUse);

impl PartialEq for Technique<'_> {
    fn eq(&self, other: &Self) -> bool {
        same_use(self.0, other.0)
    }
}

impl Technique<'_> {
    /// `null`: the cell reveals nothing.
    pub fn is_null(&self) -> bool {
        self.0.name == "null" && self.0.args.is_empty() && self.0.by_level.is_empty()
    }

    /// `by level { … }`: the technique is chosen per row by its masking level.
    pub fn by_level(&self) -> bool {
        !self.0.by_level.is_empty()
    }

    /// As written in policies (`show_last(4)`, `by level { … }`).
    pub fn text(&self) -> String {
        self.0.display()
    }
}

/// The same technique as written, ignoring where.
fn same_use(a: &TechniqueUse, b: &TechniqueUse) -> bool {
    a.name == b.name
        && a.args.len() == b.args.len()
        && a.args
            .iter()
            .zip(&b.args)
            .all(|((n, x), (m, y))| n == m && same_arg(x, y))
        && a.by_level.len() == b.by_level.len()
        && a.by_level
            .iter()
            .zip(&b.by_level)
            .all(|((l, x), (k, y))| l == k && same_use(x, y))
}

/// The same argument. An `expr(E)` is the same when its typed expressions are, node by node,
/// ignoring spans and the file (ids of tags, purposes, subject fields and tables are compared
/// as ids: across two policy sets an expression over a renumbered id counts as different,
/// which can only report more, never hide a change).
fn same_arg(a: &TechArg, b: &TechArg) -> bool {
    match (a, b) {
        (TechArg::Expr(x), TechArg::Expr(y)) => {
            x.typed.len() == y.typed.len()
                && x.typed.iter().zip(&y.typed).all(|(p, q)| {
                    p.ty == q.ty
                        && p.source == q.source
                        && match (&p.expr, &q.expr) {
                            (Some(e), Some(f)) => same_expr(e, f),
                            (None, None) => true,
                            _ => false,
                        }
                })
        }
        _ => a == b,
    }
}

/// One node of an expression without its children and span: two expressions are the same
/// when their pre-order sequences of nodes are (each node states how many children it has).
#[derive(PartialEq)]
enum Node<'e> {
    Const(&'e Const),
    List(usize),
    User(usize),
    Row(&'e str),
    RowTagged(NodeId),
    Value,
    Field(&'e str),
    Index,
    Call(crate::model::Builtin, usize),
    Neg,
    Not,
    Binary(BinOp),
    Under(NodeId),
    If,
    InGroup,
    HasRole,
    HasAttribute(bool),
    ActingUnder(NodeId),
    Matches(&'e str),
    InTable(crate::model::TableId),
}

fn node(e: &CExpr) -> (Node<'_>, &Ty) {
    let n = match &e.kind {
        CKind::Const(c) => Node::Const(c),
        CKind::List(xs) => Node::List(xs.len()),
        CKind::User(u) => Node::User(*u),
        CKind::Row(r) => Node::Row(r),
        CKind::RowTagged(t) => Node::RowTagged(*t),
        CKind::Value => Node::Value,
        CKind::Field(_, f) => Node::Field(f),
        CKind::Index(..) => Node::Index,
        CKind::Call(b, xs) => Node::Call(*b, xs.len()),
        CKind::Neg(_) => Node::Neg,
        CKind::Not(_) => Node::Not,
        CKind::Binary(op, ..) => Node::Binary(*op),
        CKind::Under(_, p) => Node::Under(*p),
        CKind::If(..) => Node::If,
        CKind::InGroup(_) => Node::InGroup,
        CKind::HasRole(_) => Node::HasRole,
        CKind::HasAttribute(_, v) => Node::HasAttribute(v.is_some()),
        CKind::ActingUnder(p) => Node::ActingUnder(*p),
        CKind::Matches(_, p) => Node::Matches(p),
        CKind::InTable(_, t) => Node::InTable(*t),
    };
    (n, &e.ty)
}

/// The same expression, ignoring spans.
fn same_expr(a: &CExpr, b: &CExpr) -> bool {
    let mut xs = Vec::new();
    a.walk(&mut |e| xs.push(node(e)));
    let mut ys = Vec::new();
    b.walk(&mut |e| ys.push(node(e)));
    xs == ys
}
