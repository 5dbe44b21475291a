//! `row[tagged T]`: the one column of each covered source carrying tag `T` (docs/language.md §3).

use super::{ExprCtx, RowCtx};
use crate::diagnostics::Diagnostic;
use crate::model::{CExpr, CKind, SourceId, Ty};
use crate::resolve::Checker;
use crate::source_map::Loc;
use pol_grammar::ast::Path;
use pol_grammar::Span;

impl Checker<'_> {
    /// Types `row[tagged T]` over the sources of the context: each source must hold at most one
    /// column tagged `T` (or below it), and the columns found must have comparable types.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    pub(super) fn row_tagged(&mut self, path: &Path, span: Span, ctx: &mut ExprCtx) -> CExpr {
        let name = path.dotted();
        let Some(tag) = self.resolve_tag(path, ctx.file) else {
            return CExpr::error(span);
        };
        let one_source;
        let sources: &[SourceId] = match ctx.row {
            RowCtx::Forbidden(why) => return self.row_forbidden(ctx, span, why),
            RowCtx::Sources(s) => s,
            RowCtx::Column(s) => {
                one_source = [s];
                &one_source
            }
        };
        // Every column carrying `tag` or a tag below it, in source then column order.
        let holders: &[(SourceId, usize)] = self
            .index
            .columns_under_tag
            .get(&tag)
            .map_or(&[], Vec::as_slice);
        // The first holder's type, by position (a global rule covers thousands of
        // sources: no type is cloned per source).
        let mut ty: Option<(SourceId, usize)> = None;
        // Both lists are sorted by source: each search starts where the previous one ended,
        // and nothing is allocated per source (a global rule covers every source of the set).
        let mut rest = holders;
        for &s in sources {
            // Usually the next holder is already on `s` or beyond: no search then.
            let from = match rest.first() {
                Some((hs, _)) if *hs >= s => 0,
                _ => rest.partition_point(|(hs, _)| *hs < s),
            };
            let here = rest.get(from..).unwrap_or(&[]);
            let n = here.iter().take_while(|(hs, _)| *hs == s).count();
            let (matching, after) = here.split_at(n);
            rest = after;
            match matching {
                [] => ctx.tag_missing.push((s, name.clone(), span)),
                [(_, column)] => match ty {
                    None => ty = Some((s, *column)),
                    Some(first) => {
                        let at = self.loc(ctx, span);
                        if let Some(d) = self.tagged_type_clash(at, first, (s, *column), &name) {
                            return self.type_error(d, span);
                        }
                    }
                },
                many => {
                    let columns: Vec<usize> = many.iter().map(|(_, c)| *c).collect();
                    return self.ambiguous_tagged(s, &columns, &name, span, ctx);
                }
            }
        }
        let ty = ty.map_or(Ty::Error, |(fs, fc)| {
            self.model.sources[fs].columns[fc].ty.clone()
        });
        CExpr::new(CKind::RowTagged(tag), ty, span)
    }

    /// The column read in a later source must have a type comparable with the first one's;
    /// the error saying they are not, if they are not.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    fn tagged_type_clash(
        &self,
        at: Loc,
        (fs, fc): (SourceId, usize),
        (s, column): (SourceId, usize),
        name: &str,
    ) -> Option<Diagnostic> {
        let src = &self.model.sources[s];
        let cty = &src.columns[column].ty;
        let t = &self.model.sources[fs].columns[fc].ty;
        (!t.comparable(cty)).then(|| Diagnostic::tagged_types_differ(at, name, t, cty, &src.name))
    }

    /// Several columns of source `s` carry the tag: the read is ambiguous (E0027).
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, and a column path has at least two segments once it is known not to be a bare name"
    )]
    fn ambiguous_tagged(
        &mut self,
        s: SourceId,
        many: &[usize],
        name: &str,
        span: Span,
        ctx: &ExprCtx,
    ) -> CExpr {
        let src = &self.model.sources[s];
        let cols: Vec<&str> = many
            .iter()
            .filter_map(|&i| src.columns.get(i))
            .map(|c| c.name.as_str())
            .collect();
        let second = many.get(1).and_then(|&i| src.columns.get(i)).map(|c| c.loc);
        let at = self.loc(ctx, span);
        let d = Diagnostic::ambiguous_tagged_column(at, name, &src.name, &cols, second);
        self.diags.push(d);
        CExpr::error(span)
    }
}
