//! Linked visibility: the `links PARENT.KEY` column modifiers, resolved once every source is
//! declared. Each link names the key column of another source, with the linking column's type
//! (E0054); a source links to a parent once; the links between sources form no cycle and no
//! chain longer than [`MAX_LINK_DEPTH`] sources (E0055).

use super::declare::flatten;
use super::suggest::did_you_mean;
use super::Checker;
use crate::diagnostics::Diagnostic;
use crate::model::{Link, SourceId, Ty};
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::{ColumnKind, Decl, Modifier};

/// The longest chain of links a row follows: a row, its parent, its grandparent… at most this
/// many sources in all. The runtime's verifier refuses a bundle beyond it.
pub const MAX_LINK_DEPTH: usize = pol_runtime::bundle::MAX_LINK_DEPTH;

impl Checker<'_> {
    /// Resolves every `links` modifier into [`Link`]s of its source, then checks the graph.
    pub(super) fn check_links(&mut self) {
        let asts = self.asts;
        for (fi, ast) in asts.iter().enumerate() {
            let file = FileId(fi as u32);
            for decl in &ast.decls {
                let Decl::Source(s) = decl else { continue };
                let Some(sid) = self.model.source(&s.name.name) else {
                    continue;
                };
                if self.model.sources.get(sid).map(|x| x.loc) != Some(Loc::new(file, s.name.span)) {
                    continue; // a duplicate declaration, already reported
                }
                let mut decls = Vec::new();
                flatten(&s.columns, None, &mut decls);
                for (name, c) in &decls {
                    let ColumnKind::Stored { modifiers, .. } = &c.kind else {
                        continue;
                    };
                    for m in modifiers {
                        if let Modifier::Links {
                            parent,
                            column,
                            span,
                        } = m
                        {
                            let at = Loc::new(file, *span);
                            self.link(sid, name, parent, column, at, file);
                        }
                    }
                }
            }
        }
        self.check_link_graph();
    }

    /// One `links PARENT.COLUMN` on column `name` of source `sid`.
    fn link(
        &mut self,
        sid: SourceId,
        name: &str,
        parent: &pol_grammar::ast::Ident,
        column: &pol_grammar::ast::Ident,
        at: Loc,
        file: FileId,
    ) {
        let Some(child) = self.model.sources.get(sid) else {
            return;
        };
        let Some(cid) = child.column(name) else {
            return;
        };
        let Some(col) = child.columns.get(cid) else {
            return;
        };
        if col.parent.is_some() {
            self.diags.push(Diagnostic::link_on_field(at));
            return;
        }
        let col_ty = col.ty.clone();
        let Some(pid) = self.resolve_source(parent, file) else {
            return;
        };
        let Some(p) = self.model.sources.get(pid) else {
            return;
        };
        let column_at = Loc::new(file, column.span);
        let Some(pcid) = p.column(&column.name) else {
            let suggestion = did_you_mean(&column.name, p.columns.iter().map(|c| c.name.as_str()));
            let d = Diagnostic::unknown_column(column_at, &column.name, &p.name, p.loc, suggestion);
            self.diags.push(d);
            return;
        };
        if p.key != Some(pcid) {
            let key = p
                .key
                .and_then(|k| p.columns.get(k))
                .map(|k| (k.name.as_str(), k.loc));
            let d = Diagnostic::link_not_key(column_at, &p.name, &column.name, key);
            self.diags.push(d);
            return;
        }
        let Some(key) = p.columns.get(pcid) else {
            return;
        };
        if !link_types_match(&col_ty, &key.ty) {
            let d = Diagnostic::link_type(
                at,
                &col_ty,
                &format!("{}.{}", p.name, key.name),
                &key.ty,
                key.loc,
            );
            self.diags.push(d);
            return;
        }
        let parent_name = p.name.clone();
        let Some(child) = self.model.sources_mut().get_mut(sid) else {
            return;
        };
        if let Some(first) = child.link_to(pid).map(|l| l.loc) {
            let d = Diagnostic::link_repeated(at, &child.name, &parent_name, first);
            self.diags.push(d);
            return;
        }
        child.links.push(Link {
            column: cid,
            parent: pid,
            loc: at,
        });
    }

    /// E0055: a cycle of links (reported once, at the link that closes it, in source order) or
    /// a chain of more than [`MAX_LINK_DEPTH`] sources. Links in a cycle are removed from the
    /// model, so that later stages may follow links without a visited set.
    fn check_link_graph(&mut self) {
        let n = self.model.sources.len();
        // 0 unvisited, 1 on the stack, 2 done; depth = sources in the longest chain from here.
        let mut state = vec![0u8; n];
        let mut depth = vec![1usize; n];
        let mut reported_long = false;
        for root in 0..n {
            if state.get(root) != Some(&0) {
                continue;
            }
            // Iterative depth-first search: (source, next link to follow).
            let mut stack: Vec<(SourceId, usize)> = vec![(root, 0)];
            if let Some(s) = state.get_mut(root) {
                *s = 1;
            }
            while let Some(&(s, next)) = stack.last() {
                let link = self
                    .model
                    .sources
                    .get(s)
                    .and_then(|src| src.links.get(next))
                    .map(|l| (l.parent, l.loc));
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match link {
                    Some((p, loc)) => match state.get(p).copied() {
                        Some(0) => {
                            if let Some(x) = state.get_mut(p) {
                                *x = 1;
                            }
                            stack.push((p, 0));
                        }
                        Some(1) => {
                            let from = stack.iter().position(|(x, _)| *x == p).unwrap_or(0);
                            let mut path: Vec<&str> = stack
                                .get(from..)
                                .unwrap_or_default()
                                .iter()
                                .filter_map(|(x, _)| self.model.sources.get(*x))
                                .map(|x| x.name.as_str())
                                .collect();
                            if let Some(first) = path.first().copied() {
                                path.push(first);
                            }
                            let d = Diagnostic::link_cycle(loc, &path);
                            self.diags.push(d);
                            if let Some(src) = self.model.sources_mut().get_mut(s) {
                                src.links.retain(|l| l.loc != loc);
                            }
                            if let Some(top) = stack.last_mut() {
                                top.1 -= 1;
                            }
                        }
                        _ => {
                            let d = depth.get(p).copied().unwrap_or(1) + 1;
                            if let Some(x) = depth.get_mut(s) {
                                *x = (*x).max(d);
                            }
                        }
                    },
                    None => {
                        stack.pop();
                        if let Some(x) = state.get_mut(s) {
                            *x = 2;
                        }
                        let d = depth.get(s).copied().unwrap_or(1);
                        if let Some(&(up, _)) = stack.last() {
                            if let Some(x) = depth.get_mut(up) {
                                *x = (*x).max(d + 1);
                            }
                        }
                        if d > MAX_LINK_DEPTH && !reported_long {
                            reported_long = true;
                            self.report_long_chain(s, &depth);
                        }
                    }
                }
            }
        }
    }

    /// E0055 for the chain of links that starts at `s` and is longer than the limit, at the
    /// link where it passes the limit.
    fn report_long_chain(&mut self, s: SourceId, depth: &[usize]) {
        let mut path: Vec<&str> = Vec::new();
        let mut at = None;
        let mut cur = Some(s);
        let mut seen = 0;
        while let Some(c) = cur {
            let Some(src) = self.model.sources.get(c) else {
                break;
            };
            path.push(src.name.as_str());
            seen += 1;
            // Follow the deepest link; the chain has no cycle (cycles were removed).
            let next = src
                .links
                .iter()
                .max_by_key(|l| depth.get(l.parent).copied().unwrap_or(0));
            if seen == MAX_LINK_DEPTH {
                at = next.map(|l| l.loc);
            }
            cur = next.map(|l| l.parent);
            if seen > 4 * MAX_LINK_DEPTH {
                break;
            }
        }
        if let Some(at) = at {
            let d = Diagnostic::link_chain_too_long(at, &path, MAX_LINK_DEPTH);
            self.diags.push(d);
        }
    }
}

/// A link column has its parent key's type (an `enum` and `text` match: both are text).
fn link_types_match(a: &Ty, b: &Ty) -> bool {
    a.is_error() || b.is_error() || (a.is_textual() && b.is_textual()) || a == b
}
