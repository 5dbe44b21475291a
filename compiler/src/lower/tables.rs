//! The bundle's shared tables while lowering: equal entries are stored once.

use pol_runtime::bundle::{Bundle, ProgramSpans, RuleInfo, TechniquePlan};
use pol_runtime::program::Program;
use std::collections::HashMap;

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
    program_ix: HashMap<String, u32>,
    technique_ix: HashMap<String, u32>,
    rule_ix: HashMap<String, u32>,
}

fn intern<T>(table: &mut Vec<T>, index: &mut HashMap<String, u32>, key: String, item: T) -> u32 {
    if let Some(&i) = index.get(&key) {
        return i;
    }
    let i = table.len() as u32;
    table.push(item);
    index.insert(key, i);
    i
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
        let key = format!("{p:?}");
        let before = self.programs.len();
        let i = intern(&mut self.programs, &mut self.program_ix, key, p);
        if self.programs.len() > before {
            self.spans.push(spans);
        }
        i
    }

    /// The index of a technique.
    pub fn technique(&mut self, t: TechniquePlan) -> u32 {
        let key = format!("{t:?}");
        intern(&mut self.techniques, &mut self.technique_ix, key, t)
    }

    /// The index of a rule's explanation entry, keyed by the rule's identity.
    pub fn rule(&mut self, identity: String, info: RuleInfo) -> u32 {
        intern(&mut self.rules, &mut self.rule_ix, identity, info)
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
