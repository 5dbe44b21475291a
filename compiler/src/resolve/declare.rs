//! Collecting declarations: tags, purposes, subject fields, levels, settings and sources.

use super::exprs::{ExprCtx, RowCtx};
use super::suggest::did_you_mean;
use super::Checker;
use crate::diagnostics::{Diagnostic, RoleModifier};
use crate::model::{
    Accessible, Column, Derived, Level, Source, SourceLevel, SubjectField, TechniqueUse, Ty,
};
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::{ColumnDecl, ColumnKind, Decl, Expr, ExprKind, Modifier, TypeExpr};
use pol_grammar::nesting::MAX_NESTING;
use pol_runtime::bundle::verify::MAX_FIELD_DEPTH;
use std::collections::HashMap;
use std::sync::Arc;

const SCALARS: &[&str] = &["bool", "int", "decimal", "text", "date", "timestamp"];

impl Checker<'_> {
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub(super) fn declare_names(&mut self) {
        for (name, ty) in [
            ("login", Ty::Text),
            ("groups", Ty::Set(Box::new(Ty::Text))),
            ("roles", Ty::Set(Box::new(Ty::Text))),
            (
                "attributes",
                Ty::Map(Box::new(Ty::Text), Box::new(Ty::Set(Box::new(Ty::Text)))),
            ),
            ("purposes", Ty::Set(Box::new(Ty::Purpose))),
        ] {
            self.model.subject.push(SubjectField {
                name: name.to_string(),
                ty,
                loc: None,
                doc: None,
            });
        }
        let asts = self.asts;
        let mut level_decl: Option<Loc> = None;
        let mut settings_decl: Option<Loc> = None;
        for (fi, ast) in asts.iter().enumerate() {
            let file = FileId(fi as u32);
            for decl in &ast.decls {
                match decl {
                    Decl::Tag(t) => {
                        let segs: Vec<String> =
                            t.path.segments.iter().map(|s| s.name.clone()).collect();
                        let at = Loc::new(file, t.path.span);
                        let (id, previous) = self.model.tags.declare(&segs, at);
                        if let Some(first) = previous {
                            self.duplicate("tag", &t.path.dotted(), at, first);
                        }
                        let node = &mut self.model.tags.nodes[id];
                        node.sensitive |= t.sensitive.is_some();
                        if node.description.is_none() {
                            node.description = t.description.as_ref().map(|d| d.value.clone());
                        }
                        if node.doc.is_none() {
                            node.doc = t.doc.clone();
                        }
                    }
                    Decl::Purpose(p) => {
                        let segs: Vec<String> =
                            p.path.segments.iter().map(|s| s.name.clone()).collect();
                        let at = Loc::new(file, p.path.span);
                        let (id, previous) = self.model.purposes.declare(&segs, at);
                        if let Some(first) = previous {
                            self.duplicate("purpose", &p.path.dotted(), at, first);
                        }
                        let node = &mut self.model.purposes.nodes[id];
                        if node.description.is_none() {
                            node.description = p.description.as_ref().map(|d| d.value.clone());
                        }
                        if node.doc.is_none() {
                            node.doc = p.doc.clone();
                        }
                    }
                    Decl::Subject(s) => {
                        for f in &s.fields {
                            let at = Loc::new(file, f.name.span);
                            if let Some(existing) =
                                self.model.subject.iter().find(|x| x.name == f.name.name)
                            {
                                match existing.loc {
                                    Some(first) => {
                                        self.duplicate("subject field", &f.name.name, at, first)
                                    }
                                    None => self
                                        .diags
                                        .push(Diagnostic::builtin_subject_field(at, &f.name.name)),
                                }
                                continue;
                            }
                            let ty = self.subject_type(&f.ty, file);
                            self.model.subject.push(SubjectField {
                                name: f.name.name.clone(),
                                ty,
                                loc: Some(at),
                                doc: f.doc.clone(),
                            });
                        }
                    }
                    Decl::Level(l) => {
                        let at = Loc::new(file, l.span);
                        if let Some(first) = level_decl {
                            self.diags.push(Diagnostic::levels_twice(at, first));
                            continue;
                        }
                        level_decl = Some(at);
                        for lv in &l.levels {
                            let lat = Loc::new(file, lv.span);
                            if let Some(first) =
                                self.model.levels.iter().find(|x| x.name == lv.name)
                            {
                                let first = first.loc;
                                self.duplicate("level", &lv.name, lat, first);
                                continue;
                            }
                            self.model.levels.push(Level {
                                name: lv.name.clone(),
                                loc: lat,
                            });
                        }
                    }
                    Decl::Settings(s) => {
                        let at = Loc::new(file, s.span);
                        if let Some(first) = settings_decl {
                            self.diags.push(Diagnostic::settings_twice(at, first));
                            continue;
                        }
                        settings_decl = Some(at);
                        for e in &s.entries {
                            let eat = Loc::new(file, e.name.span);
                            match (e.name.name.as_str(), &e.value.kind) {
                                (
                                    "combine_exceptions",
                                    ExprKind::Lit(pol_grammar::ast::Literal::Bool(b)),
                                ) => {
                                    self.model.settings.combine_exceptions = *b;
                                }
                                ("combine_exceptions", _) => {
                                    self.diags.push(Diagnostic::combine_exceptions_not_bool(
                                        Loc::new(file, e.value.span),
                                    ))
                                }
                                (other, _) => {
                                    let suggestion = did_you_mean(other, ["combine_exceptions"]);
                                    self.diags
                                        .push(Diagnostic::unknown_setting(eat, other, suggestion));
                                }
                            }
                        }
                    }
                    Decl::Source(_)
                    | Decl::Policy(_)
                    | Decl::Exempt(_)
                    | Decl::Guarantee(_)
                    | Decl::Test(_)
                    | Decl::Table(_)
                    | Decl::Error(_) => {}
                }
            }
        }
    }

    fn subject_type(&mut self, t: &TypeExpr, file: FileId) -> Ty {
        match t {
            TypeExpr::Struct { span, .. } => {
                self.diags
                    .push(Diagnostic::struct_subject_field(Loc::new(file, *span)));
                Ty::Error
            }
            other => self.resolve_type(other, file, &mut Vec::new(), None),
        }
    }

    /// Resolves a type. Struct fields are returned as flattened columns in `fields` when a
    /// `prefix` (the column name) is given.
    pub(super) fn resolve_type(
        &mut self,
        t: &TypeExpr,
        file: FileId,
        fields: &mut Vec<(String, ColumnDecl)>,
        prefix: Option<&str>,
    ) -> Ty {
        match t {
            TypeExpr::Named(n) => match n.name.as_str() {
                "bool" => Ty::Bool,
                "int" => Ty::Int,
                "decimal" => Ty::Decimal,
                "text" => Ty::Text,
                "date" => Ty::Date,
                "timestamp" => Ty::Timestamp,
                other => {
                    let at = Loc::new(file, n.span);
                    let known = SCALARS
                        .iter()
                        .copied()
                        .chain(["enum", "struct", "list", "set", "map"]);
                    let suggestion = did_you_mean(other, known);
                    self.diags
                        .push(Diagnostic::unknown_type(at, other, suggestion));
                    Ty::Error
                }
            },
            TypeExpr::Enum { values, span } => {
                if values.is_empty() {
                    self.diags
                        .push(Diagnostic::empty_enum(Loc::new(file, *span)));
                    return Ty::Error;
                }
                let mut seen: Vec<String> = Vec::new();
                for v in values {
                    if seen.contains(&v.value) {
                        self.diags.push(Diagnostic::enum_value_twice(
                            Loc::new(file, v.span),
                            &v.value,
                        ));
                    } else {
                        seen.push(v.value.clone());
                    }
                }
                Ty::Enum(Arc::new(seen))
            }
            TypeExpr::Struct {
                fields: decls,
                span,
            } => {
                let Some(prefix) = prefix else {
                    self.diags
                        .push(Diagnostic::struct_not_allowed(Loc::new(file, *span)));
                    return Ty::Error;
                };
                let mut tys: Vec<(String, Ty)> = Vec::new();
                // Field names seen so far (a hash set: a struct may have thousands of fields).
                let mut seen_fields: std::collections::HashSet<&str> =
                    std::collections::HashSet::new();
                for f in decls {
                    let name = format!("{prefix}.{}", f.name.name);
                    if !seen_fields.insert(f.name.name.as_str()) {
                        let first = decls
                            .iter()
                            .find(|x| x.name.name == f.name.name)
                            .map(|x| x.name.span)
                            .unwrap_or(f.name.span);
                        self.duplicate(
                            "field",
                            &f.name.name,
                            Loc::new(file, f.name.span),
                            Loc::new(file, first),
                        );
                        continue;
                    }
                    let ty = match &f.kind {
                        ColumnKind::Stored { ty, .. } => {
                            let mut nested = Vec::new();
                            let t = self.resolve_type(ty, file, &mut nested, Some(&name));
                            fields.push((name.clone(), f.clone()));
                            fields.extend(nested);
                            t
                        }
                        ColumnKind::Derived { .. } => {
                            self.diags
                                .push(Diagnostic::derived_field(Loc::new(file, f.span)));
                            continue;
                        }
                    };
                    tys.push((f.name.name.clone(), ty));
                }
                Ty::Struct(Arc::new(tys))
            }
            TypeExpr::Generic { name, args, span } => {
                let at = Loc::new(file, *span);
                match (name.name.as_str(), args.as_slice()) {
                    ("list", [t]) => Ty::List(Box::new(self.resolve_type(t, file, fields, prefix))),
                    ("set", [t]) => Ty::Set(Box::new(self.resolve_type(t, file, fields, None))),
                    ("map", [k, v]) => Ty::Map(
                        Box::new(self.resolve_type(k, file, fields, None)),
                        Box::new(self.resolve_type(v, file, fields, None)),
                    ),
                    ("list" | "set", _) => {
                        self.diags
                            .push(Diagnostic::one_type_argument(at, &name.name));
                        Ty::Error
                    }
                    ("map", _) => {
                        self.diags.push(Diagnostic::map_type_arguments(at));
                        Ty::Error
                    }
                    (other, _) => {
                        self.diags.push(Diagnostic::unknown_generic_type(at, other));
                        Ty::Error
                    }
                }
            }
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub(super) fn declare_sources(&mut self) {
        let asts = self.asts;
        let mut seen: HashMap<String, Loc> = HashMap::new();
        for (fi, ast) in asts.iter().enumerate() {
            let file = FileId(fi as u32);
            for decl in &ast.decls {
                let Decl::Source(s) = decl else { continue };
                let at = Loc::new(file, s.name.span);
                if let Some(&first) = seen.get(&s.name.name) {
                    self.duplicate("source", &s.name.name, at, first);
                    continue;
                }
                seen.insert(s.name.name.clone(), at);
                let tags = s
                    .tags
                    .iter()
                    .filter_map(|p| self.resolve_tag(p, file))
                    .collect();
                let mut source = Source::new(
                    s.name.name.clone(),
                    at,
                    Loc::new(file, s.span),
                    tags,
                    s.doc.clone(),
                );
                // One allocation of the right size for the usual source without structs (a
                // grown vector keeps up to half its capacity unused, per source).
                if let Some(meta) = &s.meta {
                    self.declare_meta(&mut source, meta, file);
                }
                source.columns.reserve_exact(s.columns.len());
                for c in &s.columns {
                    self.declare_column(&mut source, c, None, file);
                }
                if let Some(l) = &s.level {
                    let lat = Loc::new(file, l.span);
                    if !self.model.levels.iter().any(|x| x.name == l.default.name) {
                        let suggestion = did_you_mean(
                            &l.default.name,
                            self.model.levels.iter().map(|x| x.name.as_str()),
                        );
                        self.diags.push(Diagnostic::undeclared_default_level(
                            Loc::new(file, l.default.span),
                            &l.default.name,
                            self.model.levels.is_empty(),
                            suggestion,
                        ));
                    }
                    let column = source.column(&l.column.name);
                    match column {
                        None => {
                            let suggestion = did_you_mean(
                                &l.column.name,
                                source.columns.iter().map(|c| c.name.as_str()),
                            );
                            let d = Diagnostic::unknown_level_column(
                                Loc::new(file, l.column.span),
                                &l.column.name,
                                &s.name.name,
                                suggestion,
                            );
                            self.diags.push(d);
                        }
                        Some(c) if !source.columns[c].ty.is_textual() => {
                            self.diags.push(Diagnostic::level_column_not_text(
                                Loc::new(file, l.column.span),
                                &l.column.name,
                                &source.columns[c].ty,
                                source.columns[c].loc,
                            ));
                        }
                        Some(_) => {}
                    }
                    source.level = Some(SourceLevel {
                        default: l.default.name.clone(),
                        column,
                        loc: lat,
                    });
                }
                self.model.add_source(source);
            }
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn declare_column(
        &mut self,
        source: &mut Source,
        c: &ColumnDecl,
        parent: Option<(usize, &str)>,
        file: FileId,
    ) {
        let name = match parent {
            Some((_, p)) => format!("{p}.{}", c.name.name),
            None => c.name.name.clone(),
        };
        let at = Loc::new(file, c.name.span);
        if let Some(first) = source.column(&name) {
            let first = source.columns[first].loc;
            self.duplicate("column", &name, at, first);
            return;
        }
        if field_depth(source, parent.map(|(p, _)| p)) > MAX_FIELD_DEPTH {
            self.diags.push(Diagnostic::struct_too_deep(at));
            return;
        }
        let index = source.columns.len();
        let mut column = Column {
            name: name.clone(),
            parent: parent.map(|(p, _)| p),
            ty: Ty::Error,
            tags: Vec::new(),
            key: false,
            event_time: false,
            derived: None,
            accessible: None,
            visible: None,
            loc: at,
            decl: Loc::new(file, c.span),
            doc: c.doc.clone(),
        };
        let mut struct_fields: Vec<&ColumnDecl> = Vec::new();
        match &c.kind {
            ColumnKind::Derived { .. } => {}
            ColumnKind::Stored { ty, modifiers } => {
                let mut nested = Vec::new();
                column.ty = self.resolve_type(ty, file, &mut nested, Some(&name));
                // Direct struct fields (of a struct or a list of structs) are declared below.
                let direct = match ty {
                    TypeExpr::Struct { fields, .. } => Some(fields),
                    TypeExpr::Generic { name: g, args, .. } if g.name == "list" => {
                        match args.as_slice() {
                            [TypeExpr::Struct { fields, .. }] => Some(fields),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if let Some(fields) = direct {
                    struct_fields.extend(fields.iter());
                }
                for m in modifiers {
                    let mat = Loc::new(file, m.span());
                    match m {
                        Modifier::Key(_) => {
                            if parent.is_some() {
                                self.diags
                                    .push(Diagnostic::role_on_field(mat, RoleModifier::Key));
                            } else if source.key == Some(index) {
                                self.diags
                                    .push(Diagnostic::repeated_modifier(mat, RoleModifier::Key));
                            } else if let Some(k) = source.key {
                                self.diags.push(Diagnostic::second_role_column(
                                    mat,
                                    RoleModifier::Key,
                                    &source.name,
                                    source.columns[k].loc,
                                ));
                            } else if !matches!(
                                column.ty,
                                Ty::Int
                                    | Ty::Text
                                    | Ty::Enum(_)
                                    | Ty::Decimal
                                    | Ty::Date
                                    | Ty::Timestamp
                                    | Ty::Error
                            ) {
                                self.diags.push(Diagnostic::key_type(mat, &column.ty));
                            } else {
                                source.key = Some(index);
                                column.key = true;
                            }
                        }
                        Modifier::EventTime(_) => {
                            if !matches!(column.ty, Ty::Date | Ty::Timestamp | Ty::Error) {
                                self.diags
                                    .push(Diagnostic::event_time_type(mat, &column.ty));
                            } else if parent.is_some() {
                                self.diags
                                    .push(Diagnostic::role_on_field(mat, RoleModifier::EventTime));
                            } else if source.event_time == Some(index) {
                                self.diags.push(Diagnostic::repeated_modifier(
                                    mat,
                                    RoleModifier::EventTime,
                                ));
                            } else if let Some(k) = source.event_time {
                                self.diags.push(Diagnostic::second_role_column(
                                    mat,
                                    RoleModifier::EventTime,
                                    &source.name,
                                    source.columns[k].loc,
                                ));
                            } else {
                                source.event_time = Some(index);
                                column.event_time = true;
                            }
                        }
                        Modifier::Tagged(paths, _) => {
                            for p in paths {
                                if let Some(t) = self.resolve_tag(p, file) {
                                    if !column.tags.contains(&t) {
                                        column.tags.push(t);
                                    }
                                }
                            }
                        }
                        // Links name other sources: resolved by `check_links`.
                        Modifier::Accessible { .. }
                        | Modifier::Visible { .. }
                        | Modifier::Links { .. } => {}
                    }
                }
            }
        }
        source.add_column(column);
        for f in struct_fields {
            self.declare_column(source, f, Some((index, &name)), file);
        }
    }

    /// Checks derived columns (in dependency order), `accessible if` and `visible if`.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub(super) fn check_columns(&mut self) {
        let asts = self.asts;
        for (fi, ast) in asts.iter().enumerate() {
            let file = FileId(fi as u32);
            for decl in &ast.decls {
                let Decl::Source(s) = decl else { continue };
                let Some(sid) = self.model.source(&s.name.name) else {
                    continue;
                };
                if self.model.sources[sid].loc != Loc::new(file, s.name.span) {
                    continue; // a duplicate declaration, already reported
                }
                let mut decls: Vec<(String, &ColumnDecl)> = Vec::new();
                flatten(&s.columns, None, &mut decls);
                // Derived columns, dependencies first.
                let mut state: HashMap<String, u8> = HashMap::new();
                let mut chains: HashMap<String, usize> = HashMap::new();
                let mut by_name: HashMap<&str, &ColumnDecl> = HashMap::new();
                for (name, c) in &decls {
                    by_name.entry(name.as_str()).or_insert(c);
                }
                for (name, c) in &decls {
                    if matches!(c.kind, ColumnKind::Derived { .. }) {
                        self.visit_derived(sid, name, &by_name, &mut state, &mut chains, file);
                    }
                }
                for (name, c) in &decls {
                    let ColumnKind::Stored { modifiers, .. } = &c.kind else {
                        continue;
                    };
                    let Some(cid) = self.model.sources[sid].column(name) else {
                        continue;
                    };
                    for m in modifiers {
                        match m {
                            Modifier::Accessible {
                                cond,
                                otherwise,
                                span,
                            } => {
                                let mut ctx = ExprCtx::new(file, RowCtx::Column(sid));
                                let cond = self.condition(cond, &mut ctx);
                                let applies = ctx.tag_missing.is_empty();
                                let col_ty = self.model.sources[sid].columns[cid].ty.clone();
                                let technique = match otherwise {
                                    Some(t) => self.technique(t, file, &[col_ty], true),
                                    None => Some(TechniqueUse {
                                        name: "null".into(),
                                        args: vec![],
                                        by_level: vec![],
                                        loc: Loc::new(file, *span),
                                    }),
                                };
                                if let Some(technique) = technique {
                                    self.model.sources_mut()[sid].columns[cid].accessible =
                                        Some(Box::new(Accessible {
                                            cond,
                                            technique,
                                            loc: Loc::new(file, *span),
                                            applies,
                                        }));
                                }
                            }
                            Modifier::Visible { cond, .. } => {
                                let mut ctx = ExprCtx::new(
                                    file,
                                    RowCtx::Forbidden(
                                        "visibility is decided per user, never per row",
                                    ),
                                );
                                let cond = self.condition(cond, &mut ctx);
                                self.model.sources_mut()[sid].columns[cid].visible =
                                    Some(Box::new(cond));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    /// Checks the derived column `root` after the derived columns it reads, depth first with an
    /// explicit stack (a chain of derived columns may be tens of thousands long); a cycle is
    /// reported at the column that closes it. `chains` keeps, per derived column, the length of
    /// the longest chain of derived columns it reads through (itself included); a chain longer
    /// than the nesting limit is one E0033, at the first column beyond it.
    fn visit_derived(
        &mut self,
        sid: usize,
        root: &str,
        decls: &HashMap<&str, &ColumnDecl>,
        state: &mut HashMap<String, u8>,
        chains: &mut HashMap<String, usize>,
        file: FileId,
    ) {
        let mut frames: Vec<DerivedFrame> = Vec::new();
        if let Some(f) = self.enter_derived(root, decls, state, file, &frames) {
            frames.push(f);
        }
        while let Some(top) = frames.last_mut() {
            if let Some(dep) = top.deps.get(top.next).cloned() {
                top.next += 1;
                let derived = decls
                    .get(dep.as_str())
                    .is_some_and(|c| matches!(c.kind, ColumnKind::Derived { .. }));
                if derived {
                    if let Some(f) = self.enter_derived(&dep, decls, state, file, &frames) {
                        frames.push(f);
                    }
                }
                continue;
            }
            let Some(done) = frames.pop() else { break };
            let chain = 1 + done
                .deps
                .iter()
                .filter_map(|d| chains.get(d))
                .max()
                .copied()
                .unwrap_or(0);
            if chain == MAX_NESTING + 1 {
                if let Some(c) = decls.get(done.name.as_str()) {
                    self.diags.push(Diagnostic::derived_chain_too_deep(Loc::new(
                        file,
                        c.name.span,
                    )));
                }
            }
            if chain <= MAX_NESTING {
                self.finish_derived(sid, &done, file);
            }
            chains.insert(done.name.clone(), chain);
            state.insert(done.name, 2);
        }
    }

    /// Starts visiting `name`: `None` if it is done, not derived, or closes a cycle (reported).
    fn enter_derived<'d>(
        &mut self,
        name: &str,
        decls: &HashMap<&str, &'d ColumnDecl>,
        state: &mut HashMap<String, u8>,
        file: FileId,
        frames: &[DerivedFrame<'d>],
    ) -> Option<DerivedFrame<'d>> {
        match state.get(name) {
            Some(2) => return None,
            Some(1) => {
                let cycle: Vec<String> = frames
                    .iter()
                    .map(|f| f.name.clone())
                    .skip_while(|n| n.as_str() != name)
                    .chain([name.to_string()])
                    .collect();
                if let Some(c) = decls.get(name) {
                    self.diags.push(Diagnostic::derived_cycle(
                        Loc::new(file, c.name.span),
                        &cycle,
                    ));
                }
                return None;
            }
            _ => {}
        }
        let decl = decls.get(name)?;
        let ColumnKind::Derived { expr } = &decl.kind else {
            return None;
        };
        state.insert(name.to_string(), 1);
        Some(DerivedFrame {
            name: name.to_string(),
            expr,
            deps: referenced_names(expr),
            next: 0,
        })
    }

    /// Types the derived column of `frame`, whose dependencies are done.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn finish_derived(&mut self, sid: usize, frame: &DerivedFrame<'_>, file: FileId) {
        let mut ctx = ExprCtx::new(file, RowCtx::Column(sid));
        let c = self.expr(frame.expr, &mut ctx);
        let src = &self.model.sources[sid];
        let mut reads: Vec<usize> = c
            .row_refs()
            .iter()
            .filter_map(|(n, _)| src.column(n))
            .collect();
        reads.sort_unstable();
        reads.dedup();
        if let Some(cid) = src.column(&frame.name) {
            let ty = c.ty.clone();
            let column = &mut self.model.sources_mut()[sid].columns[cid];
            column.ty = ty;
            column.derived = Some(Box::new(Derived { expr: c, reads }));
        }
    }
}

/// A derived column being visited: the columns it reads, and the next one to visit.
struct DerivedFrame<'d> {
    name: String,
    expr: &'d Expr,
    deps: Vec<String>,
    next: usize,
}

/// How deep a field of `parent` is: 0 for a top-level column, 1 for a field of one, …
fn field_depth(source: &Source, parent: Option<usize>) -> usize {
    let mut depth = 0;
    let mut at = parent;
    while let Some(p) = at {
        depth += 1;
        at = source.columns.get(p).and_then(|c| c.parent);
    }
    depth
}

pub(super) fn flatten<'a>(
    columns: &'a [ColumnDecl],
    prefix: Option<&str>,
    out: &mut Vec<(String, &'a ColumnDecl)>,
) {
    for c in columns {
        let name = match prefix {
            Some(p) => format!("{p}.{}", c.name.name),
            None => c.name.name.clone(),
        };
        out.push((name.clone(), c));
        if let ColumnKind::Stored { ty, .. } = &c.kind {
            let fields = match ty {
                TypeExpr::Struct { fields, .. } => Some(fields),
                TypeExpr::Generic { name: g, args, .. } if g.name == "list" => {
                    match args.as_slice() {
                        [TypeExpr::Struct { fields, .. }] => Some(fields),
                        _ => None,
                    }
                }
                _ => None,
            };
            if let Some(fields) = fields {
                flatten(fields, Some(&name), out);
            }
        }
    }
}

/// Column names an expression reads by bare name or `row.x` (first segment only).
fn referenced_names(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    e.walk(&mut |x| match &x.kind {
        ExprKind::Name(n) | ExprKind::RowField(n) => out.push(n.name.clone()),
        _ => {}
    });
    out
}
