//! Expression bytecode: a compact, typed stack machine for conditions and computed values.
//!
//! A [`Program`] is a sequence of [`Op`]s over a value stack, plus a constant pool. Programs are
//! stored in a bundle's program table and referenced by index; the verifier
//! ([`crate::bundle::verify`]) checks every index, every jump target and the stack depth of every
//! program before the engine runs it, and the interpreter ([`interp`]) still never panics on a
//! program that slipped through (it answers *unknown* instead).
//!
//! # The machine
//!
//! - Every op pops its operands and pushes one result, except the jumps. A program must leave
//!   exactly one value on the stack; that value is its result.
//! - Jumps go **forward only**, so every program runs in time linear in its length and the stack
//!   depth at every instruction is a static property, computed once by the verifier
//!   ([`stack_depth`]).
//! - Conditions are three-valued. Besides ordinary values the stack can hold *unknown*: a null
//!   operand, a type mismatch, a missing subject field, an overflow or any other evaluation error
//!   gives unknown, and unknown propagates. `and`, `or` and `not` follow Kleene's logic
//!   (`false and unknown = false`, `true or unknown = true`, `not unknown = unknown`). A program
//!   used as a condition is *true* only if it yields the boolean `true`.
//! - Durations (`90d`) exist only on the stack (pushed by [`Op::Duration`], produced by
//!   `timestamp - timestamp`); they are never row or subject values. Calendar durations
//!   (`6mo`, pushed by [`Op::Months`]) are another kind of stack value: they move dates and
//!   timestamps by calendar months and add to each other, never to fixed durations.
//!
//! # Operand order
//!
//! Binary ops pop the right operand first: to compute `a < b`, push `a`, push `b`, then `Lt`.
//! `x in xs` is `push x; push xs; In`; `xs contains x` is `push xs; push x; Contains`.

pub mod asm;
pub mod calendar;
pub mod disasm;
pub mod interp;
pub mod shape;
pub mod strings;

use serde::{Deserialize, Serialize};

use crate::value::Value;

pub use asm::{Assembler, Label};
pub use interp::{Eval, Tri};

/// The deepest stack a program may need; the verifier rejects deeper programs.
pub const MAX_STACK: u32 = 256;

/// The longest program (in ops) the verifier accepts.
pub const MAX_CODE_LEN: usize = 1 << 16;

/// The most operands one [`Op::Concat`] may take.
pub const MAX_CONCAT_ARGS: u32 = 64;

/// The longest text `lpad` and `rpad` may produce, in characters: a longer requested length is
/// a check-time error (E0047) when it is a constant, and gives unknown at run time otherwise.
pub const MAX_PAD_LENGTH: i64 = 10_000;

/// The longest text `replace` and `regex_replace` may produce, in characters (1 Mi): a longer
/// result is unknown, so that nested replacements cannot grow a text without bound.
pub const MAX_TEXT_RESULT: usize = 1 << 20;

/// One instruction. Indices are `u32`s into the tables named in each variant's documentation.
///
/// Serialised in bundles (postcard: the variant's index): variants are append-only (see
/// [`Bundle`](crate::bundle::Bundle)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    // ---- constants and loads -------------------------------------------------------------
    /// Pushes `consts[i]` of this program.
    Const(u32),
    /// Pushes a duration of this many seconds (a `90d` literal is `Duration(7_776_000)`).
    Duration(i64),
    /// Pushes the raw value of column `i` of the current source's flat column list
    /// ([`crate::bundle::SourcePlan::columns`]): a top-level column (derived ones included) or
    /// a nested field, reached through its parents. A field under a `list<struct>` loads the
    /// list of that field's values, one per element. Only in row programs.
    Column(u32),
    /// Pushes `value`, the cell being masked. Only in `expr(…)` technique programs.
    Value,
    /// Pushes the declared subject field `i` ([`crate::bundle::Bundle::subject_fields`]);
    /// missing or mistyped in the subject, it is unknown.
    UserField(u32),
    /// Pushes `user.login` (unknown when the subject has none).
    Login,
    /// Pushes `user.groups`, a list of texts (empty when absent).
    Groups,
    /// Pushes `user.roles`, a list of texts (empty when absent).
    Roles,
    /// Pushes `user.attributes`, a map from attribute name to a list of texts, as a struct value
    /// (empty when absent). Index it with [`Op::Index`] and a text key.
    Attributes,
    /// Pushes `user.purposes`, a list of the declared purposes' full names.
    Purposes,
    /// Pushes the session clock, a timestamp (`now()`).
    Now,
    /// Pushes the session clock's date in UTC (`today()`).
    Today,

    // ---- access --------------------------------------------------------------------------
    /// Pops a struct and pushes its field named `strings[i]` (null stays null; no such field is
    /// unknown).
    Field(u32),
    /// Pops a key, then a container: `list[int]` (0-based) or `map[text]` (a struct value read
    /// by field name). Out of range or absent keys give null.
    Index,

    // ---- comparisons ---------------------------------------------------------------------
    /// `a == b`: values of one type (int and decimal compare as numbers); unknown if either is
    /// null or the types differ.
    Eq,
    /// `a != b`, the negation of `Eq` (unknown stays unknown).
    Ne,
    /// `a < b` on numbers, texts, dates, timestamps, durations and booleans.
    Lt,
    /// `a <= b`.
    Le,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
    /// `x in xs`: pops `xs` then `x`. `xs` a list: whether some element equals `x`; `xs` a text:
    /// whether `x` is a substring.
    In,
    /// `xs contains x`: pops `x` then `xs`; same as `In` with the operands swapped.
    Contains,
    /// Pops a text; whether `regexes[i]` matches it somewhere.
    Matches(u32),
    /// Pops a purpose name (or a list of them); whether it is purpose `i` or below it.
    Under(u32),

    // ---- arithmetic ----------------------------------------------------------------------
    /// `a + b`: int + int (checked), numbers (int widened to decimal), timestamp + duration,
    /// date + duration (whole days), duration + duration.
    Add,
    /// `a - b`: as `Add`, plus timestamp − timestamp and date − date (a duration).
    Sub,
    /// Unary minus on numbers and durations.
    Neg,

    // ---- logic and control ---------------------------------------------------------------
    /// Kleene negation.
    Not,
    /// Kleene conjunction of the two top values.
    And,
    /// Kleene disjunction of the two top values.
    Or,
    /// If the top of the stack is `false`, jumps to the target *keeping it*; otherwise falls
    /// through keeping it. `a and b` short-circuits as `a; JumpIfFalse(L); b; And; L:`.
    JumpIfFalse(u32),
    /// If the top of the stack is `true`, jumps to the target keeping it; otherwise falls through.
    /// `a or b` is `a; JumpIfTrue(L); b; Or; L:`.
    JumpIfTrue(u32),
    /// Pops a condition: `true` falls through (the then-branch), `false` jumps to `else_`,
    /// unknown pushes unknown and jumps to `end` (the value of the whole `if` is unknown).
    /// `if c then a else b` is `c; Branch{else_: E, end: X}; a; Jump(X); E: b; X:`.
    Branch {
        /// The first op of the else-branch.
        else_: u32,
        /// The op after the whole `if` expression.
        end: u32,
    },
    /// Jumps unconditionally (forward).
    Jump(u32),

    // ---- built-in functions ----------------------------------------------------------------
    /// `lower(text)`.
    Lower,
    /// `upper(text)`.
    Upper,
    /// `len(text | list)`: characters of a text, elements of a list.
    Len,
    /// `concat(a, b, …)` of the top `n` values, in push order: texts as they are, other values
    /// by their canonical text, nulls skipped; unknown if any operand is unknown.
    Concat(u32),
    /// `starts_with(text, prefix)`: pops the prefix, then the text.
    StartsWith,
    /// `ends_with(text, suffix)`: pops the suffix, then the text.
    EndsWith,
    /// `age(date | timestamp)`: whole years from it to the session's date.
    Age,
    /// `has(x)`: whether `x` is neither null nor unknown. Never unknown itself.
    Has,

    // ---- subject predicates ----------------------------------------------------------------
    /// `user in group strings[i]`.
    InGroup(u32),
    /// `user has role strings[i]`.
    HasRole(u32),
    /// `user has attribute strings[i]`: the subject lists that attribute.
    HasAttribute(u32),
    /// `user has attribute strings[name] = strings[value]`.
    HasAttributeValue {
        /// The attribute's name.
        name: u32,
        /// The value looked for.
        value: u32,
    },
    /// `user acting under purposes[i]`: some purpose of the user is it or below it.
    ActingUnder(u32),

    // ---- string functions (issue 13; appended, so older bundles still decode) ----------------
    /// `replace(s, from, to)`: pops `to`, `from`, then `s` ([`strings::replace`]).
    Replace,
    /// `regex_replace(s, …)`: pops `s`; replaces every match of `regexes[regex]` by
    /// `strings[replacement]` ([`strings::regex_replace`]).
    RegexReplace {
        /// The pattern, an index into the bundle's regex table.
        regex: u32,
        /// The replacement, an index into the bundle's string table.
        replacement: u32,
    },
    /// `substring(s, start)`: pops `start`, then `s` ([`strings::substring`]).
    Substring,
    /// `substring(s, start, len)`: pops `len`, `start`, then `s`.
    SubstringFor,
    /// `lpad(s, n, fill)`: pops `fill`, `n`, then `s` ([`strings::pad`]).
    Lpad,
    /// `rpad(s, n, fill)`: as `Lpad`, filling on the right.
    Rpad,
    /// `coalesce(…)` of the top `n` values, in push order: the first that is neither null nor
    /// unknown; null if none is.
    Coalesce(u32),

    // ---- calendar durations (issue 13; appended) ---------------------------------------------
    /// Pushes a calendar duration of this many months (`6mo`; `1y` is `Months(12)`). Adding it
    /// to a date or timestamp moves the calendar month, clamping the day to the month's last
    /// (`2024-01-31 + 1mo` is `2024-02-29`); it never meets a fixed duration.
    Months(i64),

    // ---- lookup tables ---------------------------------------------------------------------
    /// `x in table lookups[i]`: pops `x`; whether the session's snapshot of table `i` holds it
    /// (unknown for null, a value of another type, or a table not supplied yet).
    InTable(u32),
}

/// What an op does to the stack, for the verifier and the assembler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackEffect {
    /// Pops `pops` values, pushes one, falls through.
    Plain {
        /// Values popped.
        pops: u32,
    },
    /// A jump: see the op's documentation.
    Control,
}

impl Op {
    /// The op's stack effect (jumps are [`StackEffect::Control`]).
    pub fn effect(&self) -> StackEffect {
        use Op::*;
        let pops = match self {
            Const(_)
            | Duration(_)
            | Months(_)
            | Column(_)
            | Op::Value
            | UserField(_)
            | Login
            | Groups
            | Roles
            | Attributes
            | Purposes
            | Now
            | Today
            | InGroup(_)
            | HasRole(_)
            | HasAttribute(_)
            | HasAttributeValue { .. }
            | ActingUnder(_) => 0,
            Field(_)
            | Matches(_)
            | Under(_)
            | Neg
            | Not
            | Lower
            | Upper
            | Len
            | Age
            | Has
            | RegexReplace { .. }
            | InTable(_) => 1,
            Index | Eq | Ne | Lt | Le | Gt | Ge | In | Contains | Add | Sub | And | Or
            | StartsWith | EndsWith | Substring => 2,
            Replace | SubstringFor | Lpad | Rpad => 3,
            Concat(n) | Coalesce(n) => *n,
            JumpIfFalse(_) | JumpIfTrue(_) | Branch { .. } | Jump(_) => {
                return StackEffect::Control
            }
        };
        StackEffect::Plain { pops }
    }

    /// Whether the op reads the row (a column) — such a program is not user-only.
    pub fn reads_row(&self) -> bool {
        matches!(self, Op::Column(_))
    }

    /// Whether the op reads `value` (only allowed in `expr(…)` techniques).
    pub fn reads_value(&self) -> bool {
        matches!(self, Op::Value)
    }
}

/// One compiled expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// The instructions.
    pub code: Vec<Op>,
    /// The constant pool of [`Op::Const`].
    pub consts: Vec<Value>,
    /// Whether the program reads only the subject and the clock (no [`Op::Column`], no
    /// [`Op::Value`]). The verifier checks this flag against the code. A session evaluates
    /// user-only programs once, when it is created.
    pub user_only: bool,
}

impl Program {
    /// A program from its code and constants; `user_only` is computed from the code.
    pub fn new(code: Vec<Op>, consts: Vec<Value>) -> Self {
        let mut program = Program {
            code,
            consts,
            user_only: false,
        };
        program.user_only = program.computes_user_only();
        program
    }

    /// Whether the code reads only the subject and the clock — neither the row nor the masked
    /// value — which is what `user_only` must say.
    pub fn computes_user_only(&self) -> bool {
        !self
            .code
            .iter()
            .any(|op| op.reads_row() || op.reads_value())
    }

    /// Whether the code reads `value`.
    pub fn reads_value(&self) -> bool {
        self.code.iter().any(Op::reads_value)
    }
}

/// Why a program's stack discipline is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackError {
    /// The program has no instructions.
    Empty,
    /// The program has more than [`MAX_CODE_LEN`] instructions.
    TooLong {
        /// Its length.
        len: usize,
    },
    /// A jump goes backwards, to itself, or past the end.
    BadJump {
        /// The jump's position.
        pc: usize,
        /// Its target.
        target: u32,
    },
    /// An op pops more values than the stack holds.
    Underflow {
        /// The op's position.
        pc: usize,
    },
    /// The stack would grow deeper than [`MAX_STACK`].
    Overflow {
        /// The op's position.
        pc: usize,
        /// The depth it would reach.
        depth: u32,
    },
    /// Two paths reach one op with different stack depths.
    Mismatch {
        /// The op's position (or the program's length for its end).
        pc: usize,
        /// One depth.
        first: u32,
        /// The other.
        second: u32,
    },
    /// The program does not end with exactly one value on the stack.
    BadResult {
        /// The depth at the end.
        depth: u32,
    },
    /// A `Concat` or `Coalesce` takes no operand or more than [`MAX_CONCAT_ARGS`].
    BadArity {
        /// The op's position.
        pc: usize,
        /// Its operand count.
        n: u32,
    },
}

impl std::fmt::Display for StackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StackError::Empty => f.write_str("the program is empty"),
            StackError::TooLong { len } => {
                write!(f, "the program has {len} ops, more than {MAX_CODE_LEN}")
            }
            StackError::BadJump { pc, target } => write!(
                f,
                "the jump at op {pc} targets {target}, which is not a later op or the end"
            ),
            StackError::Underflow { pc } => {
                write!(f, "op {pc} pops more values than the stack holds")
            }
            StackError::Overflow { pc, depth } => write!(
                f,
                "op {pc} grows the stack to {depth}, deeper than the limit {MAX_STACK}"
            ),
            StackError::Mismatch { pc, first, second } => write!(
                f,
                "op {pc} is reached with stack depths {first} and {second}"
            ),
            StackError::BadResult { depth } => write!(
                f,
                "the program ends with {depth} values on the stack instead of one"
            ),
            StackError::BadArity { pc, n } => write!(
                f,
                "op {pc} concatenates {n} values (1 to {MAX_CONCAT_ARGS} allowed)"
            ),
        }
    }
}

impl std::error::Error for StackError {}

/// Computes the maximum stack depth of `code`, checking every jump (forward only, within the
/// program), that no op underflows, that all paths into an op agree on the depth, that the depth
/// stays within [`MAX_STACK`] and that the program ends with exactly one value.
///
/// Because jumps only go forward, one pass in program order sees every predecessor of an op
/// before the op itself. Unreachable ops are skipped.
pub fn stack_depth(code: &[Op]) -> Result<u32, StackError> {
    if code.is_empty() {
        return Err(StackError::Empty);
    }
    if code.len() > MAX_CODE_LEN {
        return Err(StackError::TooLong { len: code.len() });
    }
    let len = code.len();
    let mut depth: Vec<Option<u32>> = vec![None; len + 1];
    set(&mut depth, 0, 0)?;
    let mut max = 0u32;

    fn set(depth: &mut [Option<u32>], at: usize, d: u32) -> Result<(), StackError> {
        match depth.get(at).copied().flatten() {
            None => {
                if let Some(slot) = depth.get_mut(at) {
                    *slot = Some(d);
                }
                Ok(())
            }
            Some(prev) if prev == d => Ok(()),
            Some(prev) => Err(StackError::Mismatch {
                pc: at,
                first: prev,
                second: d,
            }),
        }
    }
    let target_ok = |pc: usize, t: u32| -> Result<usize, StackError> {
        let t_us = t as usize;
        if t_us > pc && t_us <= len {
            Ok(t_us)
        } else {
            Err(StackError::BadJump { pc, target: t })
        }
    };

    for (pc, op) in code.iter().enumerate() {
        let Some(d) = depth.get(pc).copied().flatten() else {
            continue;
        };
        match op.effect() {
            StackEffect::Plain { pops } => {
                if let Op::Concat(n) | Op::Coalesce(n) = op {
                    if *n == 0 || *n > MAX_CONCAT_ARGS {
                        return Err(StackError::BadArity { pc, n: *n });
                    }
                }
                if d < pops {
                    return Err(StackError::Underflow { pc });
                }
                let nd = d - pops + 1;
                if nd > MAX_STACK {
                    return Err(StackError::Overflow { pc, depth: nd });
                }
                max = max.max(nd);
                set(&mut depth, pc + 1, nd)?;
            }
            StackEffect::Control => match op {
                Op::Jump(t) => {
                    let t = target_ok(pc, *t)?;
                    set(&mut depth, t, d)?;
                }
                Op::JumpIfFalse(t) | Op::JumpIfTrue(t) => {
                    if d < 1 {
                        return Err(StackError::Underflow { pc });
                    }
                    let t = target_ok(pc, *t)?;
                    set(&mut depth, t, d)?;
                    set(&mut depth, pc + 1, d)?;
                }
                Op::Branch { else_, end } => {
                    if d < 1 {
                        return Err(StackError::Underflow { pc });
                    }
                    let e = target_ok(pc, *else_)?;
                    let x = target_ok(pc, *end)?;
                    set(&mut depth, pc + 1, d - 1)?;
                    set(&mut depth, e, d - 1)?;
                    set(&mut depth, x, d)?;
                }
                _ => {}
            },
        }
    }
    match depth.get(len).copied().flatten() {
        Some(1) => Ok(max.max(1)),
        Some(d) => Err(StackError::BadResult { depth: d }),
        None => Err(StackError::BadResult { depth: 0 }),
    }
}
