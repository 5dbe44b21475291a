//! `guarantee` declarations: their target or source and conditions, resolved. Whether they
//! hold is decided later, by [`crate::proof`], for every subject.

use super::mask_rule::{RuleSite, Targeted};
use crate::model::{Guarantee, GuaranteeKind};
use crate::resolve::exprs::{ExprCtx, RowCtx};
use crate::resolve::Checker;
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::{self, Decl};

impl Checker<'_> {
    /// Resolves every `guarantee` into the model.
    pub(crate) fn check_guarantees(&mut self) {
        let asts = self.asts;
        let tags = self.tag_index();
        let scope = self.scope(None, FileId(0));
        for (fi, file_ast) in asts.iter().enumerate() {
            let file = FileId(fi as u32);
            for decl in &file_ast.decls {
                let Decl::Guarantee(g) = decl else { continue };
                let kind = match &g.kind {
                    ast::GuaranteeKind::Unmasked(target) => {
                        let site = RuleSite {
                            policy: usize::MAX,
                            order: usize::MAX,
                            scope: &scope,
                            staged: false,
                            file,
                            tags: &tags,
                        };
                        let Some(Targeted { matches, .. }) = self.mask_target(target, &site) else {
                            continue;
                        };
                        GuaranteeKind::Unmasked {
                            matches: matches.iter().map(|m| (m.source, m.column)).collect(),
                        }
                    }
                    ast::GuaranteeKind::Rows { source, cond } => {
                        let Some(s) = self.resolve_source(source, file) else {
                            continue;
                        };
                        let sources = [s];
                        let mut ctx = ExprCtx::new(file, RowCtx::Sources(&sources));
                        let cond = self.condition(cond, &mut ctx);
                        GuaranteeKind::Rows { source: s, cond }
                    }
                };
                let except = g.except.as_ref().map(|e| {
                    let mut ctx = ExprCtx::new(
                        file,
                        RowCtx::Forbidden("a guarantee's exception is decided per user"),
                    );
                    self.condition(e, &mut ctx)
                });
                self.model.guarantees.push(Guarantee {
                    kind,
                    except,
                    loc: Loc::new(file, g.span),
                });
            }
        }
    }
}
