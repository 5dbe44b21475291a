//! `on sources where COND`: a condition on source metadata, decided here, once, for every
//! source. The model keeps only the sources it covers.
//!
//! Three-valued, as conditions are at run time: a source that lacks a key the comparison reads
//! makes it unknown, `not` keeps unknown, and a source is covered only where the whole
//! condition is true (the scope is the set hover lists, so nothing is hidden).

use super::super::source_meta::const_type;
use super::super::suggest::did_you_mean;
use super::super::Checker;
use crate::diagnostics::Diagnostic;
use crate::model::{Const, SourceId};
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::{BinOp, ExprKind, Ident, SourceCond, SourceCondKind};
use std::cmp::Ordering;

/// A condition with its keys checked and its values read: evaluated per source.
enum Checked {
    Or(Box<Checked>, Box<Checked>),
    And(Box<Checked>, Box<Checked>),
    Not(Box<Checked>),
    Compare(String, BinOp, Const),
    In(String, Vec<Const>),
    Matches(String, regex::Regex),
    Between(String, Const, Const),
    /// A part that did not check (its error is reported): unknown everywhere.
    Broken,
}

impl Checker<'_> {
    /// The sources whose metadata satisfies `cond`, in declaration order.
    pub(super) fn sources_where(&mut self, cond: &SourceCond, file: FileId) -> Vec<SourceId> {
        let checked = self.check_cond(cond, file);
        self.model
            .sources
            .iter()
            .enumerate()
            .filter(|(_, s)| eval(&checked, &|k| s.meta_value(k)) == Some(true))
            .map(|(i, _)| i)
            .collect()
    }

    fn check_cond(&mut self, c: &SourceCond, file: FileId) -> Checked {
        let pair = |this: &mut Self, a: &SourceCond, b: &SourceCond| {
            (
                Box::new(this.check_cond(a, file)),
                Box::new(this.check_cond(b, file)),
            )
        };
        match &c.kind {
            SourceCondKind::Or(a, b) => {
                let (a, b) = pair(self, a, b);
                Checked::Or(a, b)
            }
            SourceCondKind::And(a, b) => {
                let (a, b) = pair(self, a, b);
                Checked::And(a, b)
            }
            SourceCondKind::Not(a) => Checked::Not(Box::new(self.check_cond(a, file))),
            SourceCondKind::Paren(a) => self.check_cond(a, file),
            SourceCondKind::Compare { key, op, value } => {
                let Some(ty) = self.meta_key(key, file) else {
                    return Checked::Broken;
                };
                let at = Loc::new(file, c.span);
                match op {
                    BinOp::In => {
                        let ExprKind::List(items) = &value.kind else {
                            let why = "`in` needs a list: `[\"a\", \"b\"]`";
                            self.diags
                                .push(Diagnostic::metadata_comparison(at, &key.name, ty, why));
                            return Checked::Broken;
                        };
                        let mut values = Vec::new();
                        for item in items {
                            match self.meta_value_of(key, ty, item, file) {
                                Some(v) => values.push(v),
                                None => return Checked::Broken,
                            }
                        }
                        Checked::In(key.name.clone(), values)
                    }
                    BinOp::Matches => {
                        let Some(Const::Text(p)) = self.meta_value_of(key, ty, value, file) else {
                            return Checked::Broken;
                        };
                        match regex::Regex::new(&p) {
                            Ok(re) => Checked::Matches(key.name.clone(), re),
                            Err(e) => {
                                self.diags.push(Diagnostic::invalid_regex(
                                    Loc::new(file, value.span),
                                    &e,
                                ));
                                Checked::Broken
                            }
                        }
                    }
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                        if ty == "a bool" && !matches!(op, BinOp::Eq | BinOp::Ne) {
                            let why = "bools are compared with `==` and `!=` only";
                            self.diags
                                .push(Diagnostic::metadata_comparison(at, &key.name, ty, why));
                            return Checked::Broken;
                        }
                        match self.meta_value_of(key, ty, value, file) {
                            Some(v) => Checked::Compare(key.name.clone(), *op, v),
                            None => Checked::Broken,
                        }
                    }
                    _ => {
                        let why = "a scope compares with `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, \
                                   `matches` or `between`";
                        self.diags
                            .push(Diagnostic::metadata_comparison(at, &key.name, ty, why));
                        Checked::Broken
                    }
                }
            }
            SourceCondKind::Between { key, low, high } => {
                let Some(ty) = self.meta_key(key, file) else {
                    return Checked::Broken;
                };
                if ty == "a bool" {
                    let why = "bools have no order";
                    let at = Loc::new(file, c.span);
                    self.diags
                        .push(Diagnostic::metadata_comparison(at, &key.name, ty, why));
                    return Checked::Broken;
                }
                let low = self.meta_value_of(key, ty, low, file);
                let high = self.meta_value_of(key, ty, high, file);
                match (low, high) {
                    (Some(l), Some(h)) => Checked::Between(key.name.clone(), l, h),
                    _ => Checked::Broken,
                }
            }
        }
    }

    /// The type of metadata key `key` (E0057 with did-you-mean when no source declares it).
    fn meta_key(&mut self, key: &Ident, file: FileId) -> Option<&'static str> {
        let found = self
            .model
            .sources
            .iter()
            .find_map(|s| s.meta_value(&key.name))
            .map(const_type);
        if found.is_none() {
            let mut keys: Vec<&str> = self
                .model
                .sources
                .iter()
                .flat_map(|s| s.meta.iter().map(|m| m.key.as_str()))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            let suggestion = did_you_mean(&key.name, keys);
            let d = Diagnostic::undeclared_metadata_key(
                Loc::new(file, key.span),
                &key.name,
                suggestion,
            );
            self.diags.push(d);
        }
        found
    }

    /// A literal compared with key `key` of type `ty`; `None` (reported) if it is not one of
    /// that type.
    fn meta_value_of(
        &mut self,
        key: &Ident,
        ty: &'static str,
        value: &pol_grammar::ast::Expr,
        file: FileId,
    ) -> Option<Const> {
        let v = self.meta_literal(value, file)?;
        let vt = const_type(&v);
        if vt != ty {
            let at = Loc::new(file, value.span);
            let why = format!("it is compared with {vt}");
            self.diags
                .push(Diagnostic::metadata_comparison(at, &key.name, ty, &why));
            return None;
        }
        Some(v)
    }
}

/// The condition on one source's metadata: `None` is unknown (a key the source lacks).
fn eval<'a>(c: &Checked, meta: &dyn Fn(&str) -> Option<&'a Const>) -> Option<bool> {
    match c {
        Checked::Or(a, b) => match (eval(a, meta), eval(b, meta)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Checked::And(a, b) => match (eval(a, meta), eval(b, meta)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Checked::Not(a) => eval(a, meta).map(|b| !b),
        Checked::Compare(k, op, v) => {
            let ord = compare(meta(k)?, v)?;
            Some(match op {
                BinOp::Eq => ord == Ordering::Equal,
                BinOp::Ne => ord != Ordering::Equal,
                BinOp::Lt => ord == Ordering::Less,
                BinOp::Le => ord != Ordering::Greater,
                BinOp::Gt => ord == Ordering::Greater,
                BinOp::Ge => ord != Ordering::Less,
                _ => return None,
            })
        }
        Checked::In(k, values) => {
            let m = meta(k)?;
            Some(
                values
                    .iter()
                    .any(|v| compare(m, v) == Some(Ordering::Equal)),
            )
        }
        Checked::Matches(k, re) => match meta(k)? {
            Const::Text(t) => Some(re.is_match(t)),
            _ => None,
        },
        Checked::Between(k, lo, hi) => {
            let m = meta(k)?;
            Some(compare(m, lo)? != Ordering::Less && compare(m, hi)? != Ordering::Greater)
        }
        Checked::Broken => None,
    }
}

/// The order of two metadata values of one type (`None` across types, or for NaN).
fn compare(a: &Const, b: &Const) -> Option<Ordering> {
    match (a, b) {
        (Const::Text(x), Const::Text(y)) => Some(x.cmp(y)),
        (Const::Bool(x), Const::Bool(y)) => Some(x.cmp(y)),
        (Const::Date(x), Const::Date(y)) => Some(x.cmp(y)),
        (Const::Timestamp(x), Const::Timestamp(y)) => Some(x.cmp(y)),
        (Const::Int(x), Const::Int(y)) => Some(x.cmp(y)),
        (x, y) => number(x)?.partial_cmp(&number(y)?),
    }
}

fn number(c: &Const) -> Option<f64> {
    match c {
        Const::Int(i) => Some(*i as f64),
        Const::Decimal(x) => Some(*x),
        _ => None,
    }
}
