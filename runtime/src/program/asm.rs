//! A small assembler for [`Program`]s: emits ops, interns constants and resolves forward
//! labels. The compiler lowers expressions with it; the tests build programs with it.
//!
//! It can also record where each op came from ([`Assembler::at`]): the spans of
//! [`Assembler::finish_with_spans`] go into the bundle's debug section.

use super::{Op, Program};
use crate::bundle::debug::{ProgramSpans, SourceSpan};
use crate::value::Value;

/// A forward jump target, placed with [`Assembler::place`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

/// Builds one program. Jumps are emitted with a [`Label`] and patched when the label is placed.
#[derive(Debug, Default)]
pub struct Assembler {
    code: Vec<Op>,
    consts: Vec<Value>,
    labels: Vec<Option<u32>>,
    // (op position, which target, label)
    fixups: Vec<(usize, u8, Label)>,
    span: Option<SourceSpan>,
    spans: ProgramSpans,
}

impl Assembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the span of the ops emitted from now on and returns the previous one (to restore
    /// it after a nested expression). With `None`, ops get no span of their own: they count as
    /// part of the previous run.
    pub fn at(&mut self, span: Option<SourceSpan>) -> Option<SourceSpan> {
        std::mem::replace(&mut self.span, span)
    }

    fn push(&mut self, op: Op) {
        if let Some(span) = self.span {
            self.spans.note(self.code.len() as u32, span);
        }
        self.code.push(op);
    }

    /// Emits an op that takes no label.
    pub fn op(&mut self, op: Op) -> &mut Self {
        self.push(op);
        self
    }

    /// Emits `Const` for this value (equal constants share one pool slot).
    pub fn constant(&mut self, v: Value) -> &mut Self {
        let i = match self.consts.iter().position(|c| c == &v) {
            Some(i) => i,
            None => {
                self.consts.push(v);
                self.consts.len() - 1
            }
        };
        self.push(Op::Const(i as u32));
        self
    }

    /// A new, not yet placed, label.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Places `label` at the next op to be emitted.
    pub fn place(&mut self, label: Label) -> &mut Self {
        if let Some(slot) = self.labels.get_mut(label.0) {
            *slot = Some(self.code.len() as u32);
        }
        self
    }

    fn jump_to(&mut self, op: Op, which: u8, label: Label) -> &mut Self {
        self.fixups.push((self.code.len(), which, label));
        self.push(op);
        self
    }

    /// Emits `Jump` to `label`.
    pub fn jump(&mut self, label: Label) -> &mut Self {
        self.jump_to(Op::Jump(0), 0, label)
    }

    /// Emits `JumpIfFalse` to `label`.
    pub fn jump_if_false(&mut self, label: Label) -> &mut Self {
        self.jump_to(Op::JumpIfFalse(0), 0, label)
    }

    /// Emits `JumpIfTrue` to `label`.
    pub fn jump_if_true(&mut self, label: Label) -> &mut Self {
        self.jump_to(Op::JumpIfTrue(0), 0, label)
    }

    /// Emits `Branch` with its else and end labels.
    pub fn branch(&mut self, else_: Label, end: Label) -> &mut Self {
        self.fixups.push((self.code.len(), 1, else_));
        self.fixups.push((self.code.len(), 2, end));
        self.push(Op::Branch { else_: 0, end: 0 });
        self
    }

    /// Resolves the labels and returns the program (`user_only` computed from the code).
    /// A label never placed is an error naming it.
    pub fn finish(self) -> Result<Program, String> {
        self.finish_with_spans().map(|(program, _)| program)
    }

    /// [`Assembler::finish`], with the spans recorded by [`Assembler::at`].
    pub fn finish_with_spans(self) -> Result<(Program, ProgramSpans), String> {
        let mut code = self.code;
        for (at, which, label) in self.fixups {
            let target = self
                .labels
                .get(label.0)
                .copied()
                .flatten()
                .ok_or_else(|| format!("label {} was never placed", label.0))?;
            match (code.get_mut(at), which) {
                (Some(Op::Jump(t) | Op::JumpIfFalse(t) | Op::JumpIfTrue(t)), 0) => *t = target,
                (Some(Op::Branch { else_, .. }), 1) => *else_ = target,
                (Some(Op::Branch { end, .. }), 2) => *end = target,
                _ => return Err(format!("no jump to patch at op {at}")),
            }
        }
        Ok((Program::new(code, self.consts), self.spans))
    }
}
