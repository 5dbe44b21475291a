//! The shape of a program: its expression tree, recovered from the bytecode, for explanations.
//!
//! The compiler lowers an expression in post-order (operands, then the operator), `a and b` as
//! `a; JumpIfFalse(L); b; And; L:`, `a or b` likewise with `JumpIfTrue`, and `if c then x else
//! y` as `c; Branch{else_, end}; x; Jump(end); y`. So one pass over the ops with a stack of
//! nodes recovers the tree, and every node covers a contiguous run of ops that is a program of
//! its own ([`Shape::program_of`]): a part of a condition is evaluated alone by the same
//! interpreter as the whole, never by a second evaluator.
//!
//! Nothing here evaluates. A program that does not have this layout (hand-built, or a layout
//! this module does not know) has no shape ([`Shape::of`] gives `None`), and explanations then
//! report the condition as a whole.

use super::{stack_depth, Op, Program};

/// The deepest tree [`Shape::of`] accepts (the compiler's nesting limit), so that walking a
/// shape recursively stays within a bounded stack whatever the bundle holds.
pub const MAX_SHAPE_DEPTH: usize = 256;

/// The longest program given a shape: explaining evaluates each part it reports alone, so its
/// cost is bounded by depth × length.
pub const MAX_SHAPE_LEN: usize = 4096;

/// What a node of a shape is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// The value of one op applied to its children (in push order).
    Op(Op),
    /// `if c then x else y`: children `[c, x, y]`.
    If,
}

/// One node: an op (or an `if`) and its operands, covering ops `start..end` of the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// What it computes.
    pub kind: NodeKind,
    /// Its operands, as indices into [`Shape::nodes`], in push order.
    pub children: Vec<usize>,
    /// Its first op.
    pub start: usize,
    /// One past its last op.
    pub end: usize,
}

/// A program's expression tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Every node; a node's children come before it, the root is the last one.
    pub nodes: Vec<Node>,
}

impl Shape {
    /// The tree of `program`, or `None` when it is not a valid program ([`stack_depth`]), its
    /// ops do not have the compiler's layout, it is longer than [`MAX_SHAPE_LEN`] or deeper than
    /// [`MAX_SHAPE_DEPTH`]. The root covers every op.
    pub fn of(program: &Program) -> Option<Shape> {
        if program.code.len() > MAX_SHAPE_LEN || stack_depth(&program.code).is_err() {
            return None;
        }
        let mut shape = Shape { nodes: Vec::new() };
        let mut depths = Vec::new();
        let roots = shape.build(&program.code, 0, program.code.len(), &mut depths, 0)?;
        let whole = |r: &usize| {
            shape
                .nodes
                .get(*r)
                .is_some_and(|n| n.start == 0 && n.end == program.code.len())
        };
        match roots.as_slice() {
            [root] if *root + 1 == shape.nodes.len() && whole(root) => Some(shape),
            _ => None,
        }
    }

    /// The root node's index.
    pub fn root(&self) -> usize {
        self.nodes.len().saturating_sub(1)
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> Option<&Node> {
        self.nodes.get(i)
    }

    /// The ops of node `i` as a program of their own (jumps moved), with the whole program's
    /// constants; `None` if they do not form a valid program.
    pub fn program_of(&self, program: &Program, i: usize) -> Option<Program> {
        let node = self.nodes.get(i)?;
        let ops = program.code.get(node.start..node.end)?;
        let base = u32::try_from(node.start).ok()?;
        let code = ops
            .iter()
            .map(|op| rebase(*op, base))
            .collect::<Option<Vec<Op>>>()?;
        stack_depth(&code).ok()?;
        Some(Program::new(code, program.consts.clone()))
    }

    /// Builds the nodes of ops `from..to`; returns what is left on the stack.
    fn build(
        &mut self,
        code: &[Op],
        from: usize,
        to: usize,
        depths: &mut Vec<usize>,
        nesting: usize,
    ) -> Option<Vec<usize>> {
        if nesting > MAX_SHAPE_DEPTH {
            return None;
        }
        let mut stack: Vec<usize> = Vec::new();
        let mut pc = from;
        while pc < to {
            let op = *code.get(pc)?;
            match op {
                Op::JumpIfFalse(_) | Op::JumpIfTrue(_) => {}
                Op::Branch { else_, end } => {
                    let (else_, end) = (else_ as usize, end as usize);
                    let c = stack.pop()?;
                    let jump_at = else_.checked_sub(1)?;
                    if code.get(jump_at) != Some(&Op::Jump(end as u32)) || end > to {
                        return None;
                    }
                    let x = single(self.build(code, pc + 1, jump_at, depths, nesting + 1)?)?;
                    let y = single(self.build(code, else_, end, depths, nesting + 1)?)?;
                    let start = self.nodes.get(c)?.start;
                    self.push(NodeKind::If, vec![c, x, y], start, end, depths)?;
                    stack.push(self.nodes.len() - 1);
                    pc = end;
                    continue;
                }
                Op::Jump(_) => return None,
                _ => {
                    let super::StackEffect::Plain { pops } = op.effect() else {
                        return None;
                    };
                    let at = stack.len().checked_sub(pops as usize)?;
                    let children = stack.split_off(at);
                    let start = match children.first() {
                        Some(c) => self.nodes.get(*c)?.start,
                        None => pc,
                    };
                    self.push(NodeKind::Op(op), children, start, pc + 1, depths)?;
                    stack.push(self.nodes.len() - 1);
                }
            }
            pc += 1;
        }
        Some(stack)
    }

    fn push(
        &mut self,
        kind: NodeKind,
        children: Vec<usize>,
        start: usize,
        end: usize,
        depths: &mut Vec<usize>,
    ) -> Option<()> {
        let depth = 1 + children
            .iter()
            .map(|c| depths.get(*c).copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        if depth > MAX_SHAPE_DEPTH {
            return None;
        }
        depths.push(depth);
        self.nodes.push(Node {
            kind,
            children,
            start,
            end,
        });
        Some(())
    }
}

fn single(v: Vec<usize>) -> Option<usize> {
    match v.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// `op` with its jump targets moved back by `base` ops.
fn rebase(op: Op, base: u32) -> Option<Op> {
    Some(match op {
        Op::JumpIfFalse(t) => Op::JumpIfFalse(t.checked_sub(base)?),
        Op::JumpIfTrue(t) => Op::JumpIfTrue(t.checked_sub(base)?),
        Op::Jump(t) => Op::Jump(t.checked_sub(base)?),
        Op::Branch { else_, end } => Op::Branch {
            else_: else_.checked_sub(base)?,
            end: end.checked_sub(base)?,
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn and_or_and_if_have_their_tree() {
        // (a and b) or (if c then d else e), a..e constants.
        let code = vec![
            Op::Const(0),
            Op::JumpIfFalse(4),
            Op::Const(1),
            Op::And,
            Op::JumpIfTrue(11),
            Op::Const(2),
            Op::Branch { else_: 9, end: 10 },
            Op::Const(3),
            Op::Jump(10),
            Op::Const(4),
            Op::Or,
        ];
        let p = Program::new(code, vec![Value::Bool(true); 5]);
        let s = Shape::of(&p).unwrap();
        let root = s.node(s.root()).unwrap();
        assert_eq!(root.kind, NodeKind::Op(Op::Or));
        assert_eq!((root.start, root.end), (0, 11));
        let [l, r] = root.children[..] else { panic!() };
        assert_eq!(s.node(l).unwrap().kind, NodeKind::Op(Op::And));
        assert_eq!((s.node(l).unwrap().start, s.node(l).unwrap().end), (0, 4));
        assert_eq!(s.node(r).unwrap().kind, NodeKind::If);
        assert_eq!((s.node(r).unwrap().start, s.node(r).unwrap().end), (5, 10));
        let sub = s.program_of(&p, r).unwrap();
        assert_eq!(
            sub.code,
            vec![
                Op::Const(2),
                Op::Branch { else_: 4, end: 5 },
                Op::Const(3),
                Op::Jump(5),
                Op::Const(4)
            ]
        );
    }

    #[test]
    fn odd_layouts_have_no_shape() {
        let p = Program::new(vec![Op::Jump(1), Op::Const(0)], vec![Value::Null]);
        assert_eq!(Shape::of(&p), None);
        let p = Program::new(vec![Op::Const(0), Op::Const(0)], vec![Value::Null]);
        assert_eq!(Shape::of(&p), None);
        let mut code = vec![Op::Const(0)];
        code.extend(std::iter::repeat_n(Op::Not, MAX_SHAPE_DEPTH + 1));
        assert_eq!(Shape::of(&Program::new(code, vec![Value::Null])), None);
    }
}
