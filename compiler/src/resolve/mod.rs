//! Resolution and type checking of a whole policy set, order-independent: first every
//! declaration is collected (tags, purposes, subject fields, levels, sources), then every use is
//! resolved against them (columns' conditions, policies, exemptions, tests).

mod declare;
pub mod exprs;
mod links;
pub use links::MAX_LINK_DEPTH;
pub mod memo;
mod policies;
mod source_meta;
pub mod suggest;
mod tables;
pub mod techniques;
mod tests;

use crate::diagnostics::Diagnostic;
use crate::model::{Model, NodeId, SourceId, Ty};
use crate::source_map::{FileId, Loc, SourceMap};
use memo::{Memo, Previous};
use pol_grammar::ast::{Decl, Path, SourceFile};
use std::collections::HashMap;
use std::sync::Arc;
use suggest::did_you_mean;

/// Lookup tables built once the sources are declared.
#[derive(Default)]
pub struct Index {
    /// Column name → the sources holding a column of that name, with its index.
    pub columns_by_name: HashMap<String, Vec<(SourceId, usize)>>,
    /// Tag → the columns carrying it directly, in source then column order.
    pub columns_by_tag: HashMap<NodeId, Vec<(SourceId, usize)>>,
    /// Tag → the columns carrying it or a tag below it, sorted by (source, column), no duplicates.
    pub columns_under_tag: HashMap<NodeId, Vec<(SourceId, usize)>>,
    /// The types of the holders of each column name whose holders do not all have one type.
    /// A `row.NAME` read in a rule of many sources compares its holders' types only for these
    /// names (a type is comparable with itself), and then by class, without reading the
    /// model's columns: the comparison per covered source was 10% of a 1M-line check.
    pub mixed_types: HashMap<String, TypeClasses>,
}

/// The distinct types of one column name's holders.
#[derive(Clone, Debug, Default)]
pub struct TypeClasses {
    /// Each distinct type once.
    pub types: Vec<Ty>,
    /// Per holder (as listed by [`Index::columns_by_name`]): its type's index in `types`.
    pub of_holder: Vec<u32>,
}

impl TypeClasses {
    /// The type of holder `i` (its position in [`Index::columns_by_name`]).
    pub fn of(&self, i: usize) -> Option<&Ty> {
        self.of_holder
            .get(i)
            .and_then(|&k| self.types.get(k as usize))
    }
}

pub struct Checker<'a> {
    pub files: &'a SourceMap,
    pub asts: &'a [SourceFile],
    pub model: Model,
    pub diags: Vec<Diagnostic>,
    /// Shared with the memo of an incremental resolution (built once per declarations).
    pub index: Arc<Index>,
}

/// Resolves and type-checks parsed files; returns the model and every diagnostic. Keeps no
/// [`Memo`]: a one-shot resolution (`polc check`, `polc build`) does not pay for a copy of the
/// declarations' model and of every file's policies that only a next resolution would read.
pub fn resolve(files: &SourceMap, asts: &[SourceFile]) -> (Model, Vec<Diagnostic>) {
    let (model, diags, _) = resolve_with(files, asts, None, false);
    (model, diags)
}

/// [`resolve`], reusing what the resolution of an earlier version of the same files kept
/// (see [`memo`]); also returns what this one keeps. The result equals [`resolve`]'s.
pub fn resolve_after(
    files: &SourceMap,
    asts: &[SourceFile],
    previous: Option<&Previous<'_>>,
) -> (Model, Vec<Diagnostic>, Memo) {
    resolve_with(files, asts, previous, true)
}

/// The resolution; with `keep`, also what the next one may reuse (otherwise an empty [`Memo`],
/// which a next resolution given it as `previous` simply does not reuse).
fn resolve_with(
    files: &SourceMap,
    asts: &[SourceFile],
    previous: Option<&Previous<'_>>,
    keep: bool,
) -> (Model, Vec<Diagnostic>, Memo) {
    let mut c = Checker {
        files,
        asts,
        model: Model::default(),
        diags: Vec::new(),
        index: Arc::default(),
    };
    // A file's policies are reused only when the declarations they were checked against are.
    let mut previous = previous;
    let declared = match previous.and_then(|p| p.declared(asts)) {
        Some(kept) => {
            c.model = kept.model.clone();
            c.diags = kept.diags.clone();
            c.index = kept.index.clone();
            kept
        }
        None => {
            previous = None;
            c.declare_names();
            c.declare_tables();
            c.declare_sources();
            c.check_meta_types();
            c.build_index();
            c.check_columns();
            c.check_links();
            if !keep {
                c.model.unread_rules = asts.iter().any(has_unread_rules);
                c.check_policies(None, false);
                c.check_rest(None, false);
                return (c.model, c.diags, Memo::default());
            }
            Arc::new(memo::Declared {
                model: c.model.clone(),
                diags: c.diags.clone(),
                index: c.index.clone(),
            })
        }
    };
    c.model.unread_rules = asts.iter().any(has_unread_rules);
    let segments = c.check_policies(previous, true);
    let exempts = c.check_rest(previous, true);
    let memo = Memo {
        declared: Some(declared),
        segments,
        exempts,
    };
    (c.model, c.diags, memo)
}

impl Checker<'_> {
    /// What is checked after every file's policies: k-anonymity overlaps, exempts (each
    /// file's kept from `previous` when it can be, see [`Checker::check_exempts`]; with `keep`,
    /// returned for the next resolution), guarantees, test blocks.
    fn check_rest(
        &mut self,
        previous: Option<&Previous<'_>>,
        keep: bool,
    ) -> Vec<Arc<memo::Exempts>> {
        self.check_k_anonymity_overlaps();
        let exempts = self.check_exempts(previous, keep);
        self.check_guarantees();
        self.check_tests();
        exempts
    }
}

/// Whether a file holds a declaration or a rule the parser could not read.
fn has_unread_rules(ast: &SourceFile) -> bool {
    ast.decls.iter().any(|d| match d {
        Decl::Error(_) => true,
        Decl::Policy(p) => p
            .rules
            .iter()
            .any(|r| matches!(r, pol_grammar::ast::Rule::Error(_))),
        _ => false,
    })
}

impl Index {
    /// The lookups over the declared sources of `model` (built once its sources are declared).
    pub fn build(model: &Model) -> Index {
        let mut by_name: HashMap<String, Vec<(SourceId, usize)>> = HashMap::new();
        let mut by_tag: HashMap<NodeId, Vec<(SourceId, usize)>> = HashMap::new();
        for (s, src) in model.sources.iter().enumerate() {
            for (i, col) in src.columns.iter().enumerate() {
                by_name.entry(col.name.clone()).or_default().push((s, i));
                for &t in &col.tags {
                    let holders = by_tag.entry(t).or_default();
                    if holders.last() != Some(&(s, i)) {
                        holders.push((s, i));
                    }
                }
            }
        }
        let mut under_tag: HashMap<NodeId, Vec<(SourceId, usize)>> = HashMap::new();
        for (&t, holders) in &by_tag {
            let mut node = Some(t);
            while let Some(n) = node {
                under_tag
                    .entry(n)
                    .or_default()
                    .extend(holders.iter().copied());
                node = model.tags.nodes.get(n).and_then(|x| x.parent);
            }
        }
        for holders in under_tag.values_mut() {
            holders.sort_unstable();
            holders.dedup();
        }
        let mixed_types = by_name
            .iter()
            .filter_map(|(name, holders)| Some((name.clone(), type_classes(model, holders)?)))
            .collect();
        Index {
            mixed_types,
            columns_by_name: by_name,
            columns_by_tag: by_tag,
            columns_under_tag: under_tag,
        }
    }
}

/// The distinct types of `holders` `(source, column)`, or `None` when they all have one type.
fn type_classes(model: &Model, holders: &[(SourceId, usize)]) -> Option<TypeClasses> {
    let ty = |&(s, c): &(SourceId, usize)| {
        model
            .sources
            .get(s)
            .and_then(|src| src.columns.get(c))
            .map_or(&Ty::Error, |col| &col.ty)
    };
    let first = ty(holders.first()?);
    if holders.iter().all(|h| ty(h) == first) {
        return None;
    }
    let mut classes = TypeClasses::default();
    for h in holders {
        let t = ty(h);
        let k = match classes.types.iter().position(|x| x == t) {
            Some(k) => k,
            None => {
                classes.types.push(t.clone());
                classes.types.len() - 1
            }
        };
        classes.of_holder.push(k as u32);
    }
    Some(classes)
}

impl Checker<'_> {
    fn build_index(&mut self) {
        self.index = Arc::new(Index::build(&self.model));
    }

    /// Resolves a tag path, reporting it if undeclared.
    pub fn resolve_tag(&mut self, path: &Path, file: FileId) -> Option<NodeId> {
        let name = path.dotted();
        if let Some(t) = self.model.tags.get(&name) {
            return Some(t);
        }
        let at = Loc::new(file, path.span);
        let paths = self.model.tags.paths();
        let suggestion = did_you_mean(&name, paths.iter().map(String::as_str));
        self.diags
            .push(Diagnostic::undeclared_tag(at, &name, suggestion));
        None
    }

    /// Resolves a purpose path, reporting it if undeclared.
    pub fn resolve_purpose(&mut self, path: &Path, file: FileId) -> Option<NodeId> {
        let name = path.dotted();
        if let Some(p) = self.model.purposes.get(&name) {
            return Some(p);
        }
        let at = Loc::new(file, path.span);
        let paths = self.model.purposes.paths();
        let suggestion = did_you_mean(&name, paths.iter().map(String::as_str));
        self.diags
            .push(Diagnostic::undeclared_purpose(at, &name, suggestion));
        None
    }

    /// Resolves a source name, reporting it if undeclared.
    pub fn resolve_source(
        &mut self,
        name: &pol_grammar::ast::Ident,
        file: FileId,
    ) -> Option<SourceId> {
        if let Some(s) = self.model.source(&name.name) {
            return Some(s);
        }
        let at = Loc::new(file, name.span);
        let suggestion = did_you_mean(
            &name.name,
            self.model.sources.iter().map(|s| s.name.as_str()),
        );
        self.diags
            .push(Diagnostic::undeclared_source(at, &name.name, suggestion));
        None
    }

    pub fn duplicate(&mut self, what: &str, name: &str, at: Loc, first: Loc) {
        self.diags
            .push(Diagnostic::duplicate(what, name, at, first));
    }
}
