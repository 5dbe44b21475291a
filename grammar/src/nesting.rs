//! The nesting limit: no syntax tree node is more than [`MAX_NESTING`] levels deep.
//!
//! Every stage after the parser (checker, lints, lowering, reference evaluator, formatter, syntax
//! tree serialisation, IDE analysis, and dropping the tree) walks expressions, types and
//! techniques recursively. The parser itself is a table-driven LR parser that holds its stack on
//! the heap, so it would build a tree of any depth; the grammar's actions refuse to build a node
//! deeper than the limit instead, with one error (`E0033` in the compiler) whose span is the
//! construct that is too deep. A tree that exists is therefore at most `MAX_NESTING` levels deep,
//! and a stage needs at most `MAX_NESTING` times its per-level stack, which is what makes a
//! thread of [`pol_compiler::MIN_STACK`] (8 MiB) enough (tested in `compiler/tests/deep_input.rs`).
//!
//! The depth of a node counts the expressions, types and techniques on the way down to its
//! deepest leaf: `a and b and c` is 3 deep (two `and` nodes and a leaf), `not not x` is 3 deep,
//! `list<list<int>>` is 3 deep, `struct { x: struct { y: int } }` is 3 deep. Parentheses add no
//! level (they build no node).

use crate::ast::*;

/// The deepest an expression or technique may be (see the module documentation). A chain of
/// `n` terms of a left-associative operator is `n` deep, so this is also the longest such chain.
pub const MAX_NESTING: usize = 256;

/// The deepest a type may be: a bundle's decoder refuses column types nested much deeper (and the
/// runtime refuses struct fields nested deeper than 32, which the checker reports itself).
pub const MAX_TYPE_NESTING: usize = 64;

/// The error message for a construct deeper than `limit`.
pub fn too_deep_message(what: &str, limit: usize) -> String {
    format!(
        "this {what} nests more than {limit} levels deep, the limit; split it into smaller \
         parts (for many alternatives, `x in [a, b, …]` does not nest)"
    )
}

/// The depth of an expression (a leaf is 1).
pub fn expr_depth(e: &Expr) -> usize {
    let children = match &e.kind {
        ExprKind::Lit(_)
        | ExprKind::UserField(_)
        | ExprKind::RowField(_)
        | ExprKind::RowTagged(_)
        | ExprKind::Value
        | ExprKind::Name(_)
        | ExprKind::ActingUnder(_) => 0,
        ExprKind::List(items) | ExprKind::Call(_, items) => max_of(items.iter().map(expr_depth)),
        ExprKind::Record(entries) => max_of(entries.iter().map(|(_, e)| expr_depth(e))),
        ExprKind::Field(e, _)
        | ExprKind::Neg(e)
        | ExprKind::Not(e)
        | ExprKind::Under(e, _)
        | ExprKind::InGroup(e)
        | ExprKind::HasRole(e)
        | ExprKind::InTable(e, _)
        | ExprKind::HasAttribute(e, None) => expr_depth(e),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) | ExprKind::HasAttribute(a, Some(b)) => {
            expr_depth(a).max(expr_depth(b))
        }
        ExprKind::If(a, b, c) => expr_depth(a).max(expr_depth(b)).max(expr_depth(c)),
    };
    children + 1
}

/// The depth of a condition on source metadata (a comparison is 1, its values not counted
/// beyond their own depth; parentheses count, as they are a node here).
pub fn cond_depth(c: &SourceCond) -> usize {
    let children = match &c.kind {
        SourceCondKind::Or(a, b) | SourceCondKind::And(a, b) => cond_depth(a).max(cond_depth(b)),
        SourceCondKind::Not(a) | SourceCondKind::Paren(a) => cond_depth(a),
        SourceCondKind::Compare { value, .. } => expr_depth(value),
        SourceCondKind::Between { low, high, .. } => expr_depth(low).max(expr_depth(high)),
    };
    children + 1
}

/// The depth of a type (`int` is 1, `list<int>` is 2); a struct counts its fields' types,
/// derived expressions and modifiers.
pub fn type_depth(t: &TypeExpr) -> usize {
    let children = match t {
        TypeExpr::Named(_) | TypeExpr::Enum { .. } => 0,
        TypeExpr::Generic { args, .. } => max_of(args.iter().map(type_depth)),
        TypeExpr::Struct { fields, .. } => max_of(fields.iter().map(column_depth)),
    };
    children + 1
}

/// The depth of a column: its type, derived expression, or modifiers (not a level of its own).
pub fn column_depth(c: &ColumnDecl) -> usize {
    match &c.kind {
        ColumnKind::Derived { expr } => expr_depth(expr),
        ColumnKind::Stored { ty, modifiers } => {
            type_depth(ty).max(max_of(modifiers.iter().map(modifier_depth)))
        }
    }
}

fn modifier_depth(m: &Modifier) -> usize {
    match m {
        Modifier::Key(_)
        | Modifier::EventTime(_)
        | Modifier::Tagged(..)
        | Modifier::Links { .. } => 0,
        Modifier::Accessible {
            cond, otherwise, ..
        } => expr_depth(cond).max(otherwise.as_ref().map_or(0, technique_depth)),
        Modifier::Visible { cond, .. } => expr_depth(cond),
    }
}

/// The depth of a technique: `hash` is 1, its arguments and `by level` entries count below it.
pub fn technique_depth(t: &Technique) -> usize {
    let children = match &t.kind {
        TechniqueKind::Call { args, .. } => max_of(args.iter().map(|a| expr_depth(&a.value))),
        TechniqueKind::ByLevel { entries } => {
            max_of(entries.iter().map(|(_, t)| technique_depth(t)))
        }
    };
    children + 1
}

fn max_of(depths: impl Iterator<Item = usize>) -> usize {
    depths.max().unwrap_or(0)
}
