//! The bundle's shared tables while lowering: equal entries are stored once.
//!
//! Programs and techniques are keyed by their postcard encoding (the bundle's own format: two
//! entries get one key exactly when they encode to the same bytes, so the written bundle is
//! the same as with the former `Debug` keys; the one difference would be two NaN constants
//! with different bit patterns, which `Debug` prints alike and the lowering never produces);
//! rules by what they are
//! ([`RuleKey`]), so that a rule's explanation is built only the first time it is seen. Both
//! are cheap next to the `Debug` strings they replace (a quarter of a 1M-line build was spent
//! formatting keys and explanations of entries already in the tables).

use crate::conflicts::RuleRef;
use pol_runtime::bundle::{Bundle, ProgramSpans, RuleInfo, TechniquePlan};
use pol_runtime::program::Program;
use serde::Serialize;
use std::collections::HashMap;

/// What a rule's explanation entry is for: equal keys share one entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RuleKey {
    /// A mask rule, by index into the model's mask rules.
    Mask(usize),
    /// The `accessible if` of a column (source, column).
    Accessible(usize, usize),
    /// A `combine_exceptions` group, by its rules.
    Combined(Vec<RuleRef>),
    /// A row rule, by index into the model's row rules.
    Row(usize),
    /// A grant, by index into the model's grants.
    Grant(usize),
}

/// Interning tables for strings, regexes, programs, techniques and rules.
#[derive(Default)]
pub struct Tables {
    pub strings: Vec<String>,
    pub regexes: Vec<String>,
    pub programs: Vec<Program>,
    /// The spans of each program (empty ones when lowered without a source map).
    pub spans: Vec<ProgramSpans>,
    pub techniques: Vec<TechniquePlan>,
    pub rules: Vec<RuleInfo>,
    string_ix: HashMap<String, u32>,
    regex_ix: HashMap<String, u32>,
    program_ix: HashMap<Vec<u8>, u32>,
    technique_ix: HashMap<Vec<u8>, u32>,
    rule_ix: HashMap<RuleKey, u32>,
}

fn intern<K: std::hash::Hash + Eq, T>(
    table: &mut Vec<T>,
    index: &mut HashMap<K, u32>,
    key: K,
    item: T,
) -> u32 {
    if let Some(&i) = index.get(&key) {
        return i;
    }
    let i = table.len() as u32;
    table.push(item);
    index.insert(key, i);
    i
}

/// The interning key of a table entry: a tag byte, then its postcard encoding (tag 0). Encoding
/// into memory cannot fail (no I/O, no unsupported types); if it ever did, the entry's `Debug`
/// text keys it instead (tag 1), so interning still merges only equal entries.
fn encoded<T: Serialize + std::fmt::Debug>(item: &T) -> Vec<u8> {
    postcard::to_extend(item, vec![0u8]).unwrap_or_else(|_| {
        let mut key = vec![1u8];
        key.extend_from_slice(format!("{item:?}").as_bytes());
        key
    })
}

impl Tables {
    /// The index of a string.
    pub fn string(&mut self, s: &str) -> u32 {
        intern(
            &mut self.strings,
            &mut self.string_ix,
            s.to_string(),
            s.to_string(),
        )
    }

    /// The index of a regular expression.
    pub fn regex(&mut self, r: &str) -> u32 {
        intern(
            &mut self.regexes,
            &mut self.regex_ix,
            r.to_string(),
            r.to_string(),
        )
    }

    /// The index of a program; a program seen before keeps the spans it was first given.
    pub fn program(&mut self, p: Program, spans: ProgramSpans) -> u32 {
        let key = encoded(&p);
        let before = self.programs.len();
        let i = intern(&mut self.programs, &mut self.program_ix, key, p);
        if self.programs.len() > before {
            self.spans.push(spans);
        }
        i
    }

    /// The index of a technique.
    pub fn technique(&mut self, t: TechniquePlan) -> u32 {
        let key = encoded(&t);
        intern(&mut self.techniques, &mut self.technique_ix, key, t)
    }

    /// The index of a rule's explanation entry, keyed by the rule's identity; `info` is called
    /// only for a rule not seen before.
    pub fn rule(&mut self, identity: RuleKey, info: impl FnOnce() -> RuleInfo) -> u32 {
        if let Some(&i) = self.rule_ix.get(&identity) {
            return i;
        }
        let i = self.rules.len() as u32;
        self.rules.push(info());
        self.rule_ix.insert(identity, i);
        i
    }

    /// Moves the tables into a bundle.
    pub fn into_bundle(self, bundle: &mut Bundle) {
        bundle.strings = self.strings;
        bundle.regexes = self.regexes;
        bundle.programs = self.programs;
        if self.spans.iter().any(|s| !s.runs.is_empty()) {
            bundle.debug.programs = self.spans;
        }
        bundle.techniques = self.techniques;
        bundle.rules = self.rules;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pol_runtime::bundle::{SourceSpan, SpanRun};
    use pol_runtime::program::Op;
    use pol_runtime::techniques::Technique;
    use pol_runtime::Value;

    fn program(c: Value) -> Program {
        Program::new(vec![Op::Const(0)], vec![c])
    }

    fn spans(line: u32) -> ProgramSpans {
        let span = SourceSpan {
            file: 0,
            line,
            column: 1,
            end_line: line,
            end_column: 2,
        };
        ProgramSpans {
            runs: vec![SpanRun { start: 0, span }],
        }
    }

    #[test]
    fn equal_programs_share_an_entry_with_the_first_spans() {
        let mut t = Tables::default();
        assert_eq!(t.program(program(Value::Int(1)), spans(1)), 0);
        assert_eq!(t.program(program(Value::Int(2)), spans(2)), 1);
        assert_eq!(t.program(program(Value::Int(1)), spans(3)), 0);
        // Constants that print alike in other formats stay apart: 1 and 1.0, 0.0 and -0.0.
        assert_eq!(t.program(program(Value::Decimal(1.0)), spans(4)), 2);
        assert_eq!(t.program(program(Value::Decimal(0.0)), spans(5)), 3);
        assert_eq!(t.program(program(Value::Decimal(-0.0)), spans(6)), 4);
        assert_eq!(t.programs.len(), 5);
        assert_eq!(t.spans.len(), 5);
        assert_eq!(t.spans.first(), Some(&spans(1)));
    }

    #[test]
    fn equal_techniques_share_an_entry() {
        let mut t = Tables::default();
        let null = TechniquePlan::Builtin(Technique::Null);
        let constant = TechniquePlan::Builtin(Technique::Constant(Value::Text("x".into())));
        assert_eq!(t.technique(null.clone()), 0);
        assert_eq!(t.technique(constant.clone()), 1);
        assert_eq!(t.technique(null), 0);
        assert_eq!(t.technique(constant), 1);
        assert_eq!(t.techniques.len(), 2);
    }

    #[test]
    fn a_rule_is_explained_once() {
        let mut t = Tables::default();
        let mut built = 0;
        let mut info = |name: &str| {
            built += 1;
            RuleInfo {
                name: name.into(),
                policy: name.into(),
                description: String::new(),
            }
        };
        assert_eq!(t.rule(RuleKey::Mask(3), || info("a")), 0);
        assert_eq!(t.rule(RuleKey::Row(3), || info("b")), 1);
        assert_eq!(t.rule(RuleKey::Mask(3), || info("c")), 0);
        let both = vec![RuleRef::Mask(1), RuleRef::Accessible(0, 2)];
        assert_eq!(t.rule(RuleKey::Combined(both.clone()), || info("d")), 2);
        assert_eq!(t.rule(RuleKey::Combined(both), || info("e")), 2);
        assert_eq!(built, 3);
        let names: Vec<&str> = t.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "d"]);
    }
}
