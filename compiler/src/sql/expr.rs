//! Typed expressions (`CExpr`) as SQL, with the reference evaluator's semantics.
//!
//! Three-valued logic maps onto SQL's: *unknown* is SQL `NULL`, and `AND`, `OR`, `NOT` are
//! Kleene's in both. The reference distinguishes a null *value* from *unknown* in one place
//! only, `concat` (a null value is skipped, unknown makes the whole unknown); a `concat`
//! argument is therefore either a column (null skipped) or an expression that is never a null
//! value. Texts compare by bytes (`COLLATE "C"`), numbers as the runtime does (an int meets a
//! decimal as a double), checked int arithmetic is null on overflow. What SQL cannot compute
//! exactly (`lower`/`upper`, `matches` outside the translatable subset, struct fields, lists of
//! lists…) is refused with the reason.

use pol_grammar::ast::BinOp;

use super::ident;
use super::regex;
use crate::model::{Builtin, CExpr, CKind, Const, Model, NodeId, SourceId, Ty};

/// The SQL kind of a compiled expression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Bool,
    Int,
    Dec,
    Text,
    Date,
    Ts,
    /// A duration: bigint seconds.
    Dur,
    /// A calendar duration: bigint months.
    Months,
    /// `text[]` (subject sets, attribute values, text list literals).
    TextList,
    /// `bigint[]` / `double precision[]` list literals.
    IntList,
    DecList,
    /// The subject's attributes (`jsonb`).
    Attrs,
    /// The `null` literal.
    Null,
}

/// A compiled expression.
#[derive(Clone, Debug)]
pub struct Sx {
    pub sql: String,
    pub kind: Kind,
    /// The expression reads a column directly: SQL null there is a null *value* (not unknown).
    pub column: bool,
}

fn sx(sql: String, kind: Kind) -> Sx {
    Sx {
        sql,
        kind,
        column: false,
    }
}

/// What an expression may read.
pub struct Scope<'a> {
    pub model: &'a Model,
    /// The helper schema, quoted.
    pub schema: &'a str,
    pub source: SourceId,
    /// The raw SQL value of each column of the source (`None`: not readable in SQL).
    pub raw: &'a [Option<String>],
}

type R = Result<Sx, String>;

impl Scope<'_> {
    /// Compiles a condition or value.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn expr(&self, e: &CExpr) -> R {
        match &e.kind {
            CKind::Const(c) => constant_sql(c),
            CKind::List(items) => self.list(items),
            CKind::User(i) => self.user(*i),
            CKind::Row(name) => {
                let src = &self.model.sources[self.source];
                match src.column(name) {
                    Some(c) => self.column(c),
                    None => Ok(null_of(&e.ty)),
                }
            }
            CKind::RowTagged(tag) => {
                let src = &self.model.sources[self.source];
                let tags = &self.model.tags;
                match src
                    .columns
                    .iter()
                    .position(|c| c.tags.iter().any(|&t| tags.is_under(t, *tag)))
                {
                    Some(c) => self.column(c),
                    None => Ok(null_of(&e.ty)),
                }
            }
            CKind::Value => Err("`value` (an `expr(…)` technique)".into()),
            CKind::Field(..) => Err("a struct field".into()),
            CKind::Index(base, key) => self.index(base, key),
            CKind::Call(f, args) => self.call(*f, args),
            CKind::Neg(inner) => {
                let x = self.expr(inner)?;
                match x.kind {
                    Kind::Int | Kind::Dur | Kind::Months => Ok(sx(
                        format!(
                            "(CASE WHEN {0} <> -9223372036854775808 THEN -{0} END)",
                            x.sql
                        ),
                        x.kind,
                    )),
                    Kind::Dec => Ok(sx(format!("(-{})", x.sql), Kind::Dec)),
                    _ => Ok(sx("NULL::bigint".into(), Kind::Int)),
                }
            }
            CKind::Not(inner) => {
                let x = self.cond(inner)?;
                Ok(sx(format!("(NOT {x})"), Kind::Bool))
            }
            CKind::Binary(op, a, b) => self.binary(*op, a, b),
            CKind::Under(inner, p) => {
                let x = self.expr(inner)?;
                let below = self.purposes_below(*p);
                let all = self.purposes_all();
                match x.kind {
                    Kind::TextList => Ok(sx(
                        format!(
                            "(CASE WHEN {0} && {below} THEN true WHEN {0} <@ {all} THEN false END)",
                            x.sql
                        ),
                        Kind::Bool,
                    )),
                    Kind::Text => Ok(sx(
                        format!(
                            "(CASE WHEN {0} = ANY({below}) THEN true WHEN {0} = ANY({all}) THEN false END)",
                            x.sql
                        ),
                        Kind::Bool,
                    )),
                    _ => Ok(sx("NULL::boolean".into(), Kind::Bool)),
                }
            }
            CKind::If(c, a, b) => {
                let c = self.cond(c)?;
                let a = self.expr(a)?;
                let b = self.expr(b)?;
                if a.kind != b.kind && a.kind != Kind::Null && b.kind != Kind::Null {
                    return Err("an `if` whose branches have different types".into());
                }
                let kind = if a.kind == Kind::Null { b.kind } else { a.kind };
                Ok(sx(
                    format!(
                        "(CASE WHEN {c} THEN {} WHEN NOT {c} THEN {} END)",
                        a.sql, b.sql
                    ),
                    kind,
                ))
            }
            CKind::InGroup(g) => self.in_set("u.groups", g),
            CKind::HasRole(r) => self.in_set("u.roles", r),
            CKind::HasAttribute(name, value) => {
                let n = self.text_operand(name)?;
                Ok(sx(
                    match value {
                        Some(v) => {
                            let v = self.text_operand(v)?;
                            format!(
                                "{}.has_attribute_value(u.attributes, {n}, {v})",
                                self.schema
                            )
                        }
                        None => format!("{}.has_attribute(u.attributes, {n})", self.schema),
                    },
                    Kind::Bool,
                ))
            }
            CKind::ActingUnder(p) => Ok(sx(
                format!("(u.purposes && {})", self.purposes_below(*p)),
                Kind::Bool,
            )),
            CKind::Matches(inner, pattern) => {
                let x = self.expr(inner)?;
                if x.kind != Kind::Text {
                    return Ok(sx("NULL::boolean".into(), Kind::Bool));
                }
                let re = regex::translate(pattern, false)
                    .map_err(|why| format!("`matches r\"{pattern}\"` ({why})"))?;
                let lit = ident::text(&re).ok_or("a pattern with a NUL character")?;
                Ok(sx(format!("({} ~ {lit})", x.sql), Kind::Bool))
            }
            CKind::InTable(inner, table) => {
                let x = self.expr(inner)?;
                let t = &self.model.tables[*table];
                let fits = matches!(
                    (t.kind, x.kind),
                    (pol_runtime::LookupKind::Text, Kind::Text)
                        | (pol_runtime::LookupKind::Int, Kind::Int)
                );
                if !fits {
                    return Ok(sx("NULL::boolean".into(), Kind::Bool));
                }
                let sql = super::lookup::membership(self.schema, &t.name, t.kind, &x.sql)
                    .ok_or("a lookup table whose name has a NUL character")?;
                Ok(sx(sql, Kind::Bool))
            }
        }
    }

    /// Compiles a condition: SQL boolean (null = unknown).
    pub fn cond(&self, e: &CExpr) -> Result<String, String> {
        let x = self.expr(e)?;
        Ok(match x.kind {
            Kind::Bool => x.sql,
            // Only the boolean `true` holds; anything else is unknown.
            _ => "NULL::boolean".into(),
        })
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn column(&self, c: usize) -> R {
        let src = &self.model.sources[self.source];
        let col = &src.columns[c];
        let raw = self
            .raw
            .get(c)
            .cloned()
            .flatten()
            .ok_or_else(|| format!("the column `{}`", col.name))?;
        let kind = kind_of(&col.ty).ok_or_else(|| format!("the column `{}`", col.name))?;
        Ok(Sx {
            sql: raw,
            kind,
            column: true,
        })
    }

    fn user(&self, i: usize) -> R {
        let Some(field) = self.model.subject.get(i) else {
            return Ok(sx("NULL::boolean".into(), Kind::Null));
        };
        if field.loc.is_none() {
            return Ok(match field.name.as_str() {
                "login" => sx("u.login".into(), Kind::Text),
                "groups" => sx("u.groups".into(), Kind::TextList),
                "roles" => sx("u.roles".into(), Kind::TextList),
                "attributes" => sx("u.attributes".into(), Kind::Attrs),
                "purposes" => sx("u.purposes".into(), Kind::TextList),
                _ => sx("NULL::boolean".into(), Kind::Null),
            });
        }
        let kind = subject_kind(&field.ty).ok_or_else(|| {
            format!(
                "the subject field `user.{}` of type `{}`",
                field.name, field.ty
            )
        })?;
        Ok(sx(
            format!("u.{}", ident::ident(&format!("f_{}", field.name))),
            kind,
        ))
    }

    fn list(&self, items: &[CExpr]) -> R {
        let mut parts = Vec::new();
        let mut kind = None;
        for item in items {
            let x = self.expr(item)?;
            if x.kind == Kind::Null {
                // Null elements are skipped by membership.
                continue;
            }
            if !matches!(item.kind, CKind::Const(_)) {
                return Err("a list of non-constant values".into());
            }
            match &kind {
                None => kind = Some(x.kind),
                Some(k) if *k == x.kind => {}
                Some(k)
                    if matches!(
                        (k, &x.kind),
                        (Kind::Int, Kind::Dec) | (Kind::Dec, Kind::Int)
                    ) =>
                {
                    kind = Some(Kind::Dec)
                }
                Some(_) => return Err("a list of values of different types".into()),
            }
            parts.push(x.sql);
        }
        let (kind, elem) = match kind {
            None | Some(Kind::Text) => (Kind::TextList, "text"),
            Some(Kind::Int) => (Kind::IntList, "bigint"),
            Some(Kind::Dec) => (Kind::DecList, "double precision"),
            Some(_) => return Err("a list of dates, timestamps or booleans".into()),
        };
        let casted: Vec<String> = parts.iter().map(|p| format!("({p})::{elem}")).collect();
        Ok(sx(format!("ARRAY[{}]::{elem}[]", casted.join(", ")), kind))
    }

    fn index(&self, base: &CExpr, key: &CExpr) -> R {
        let b = self.expr(base)?;
        if b.kind != Kind::Attrs {
            return Err("indexing a list".into());
        }
        let k = self.text_operand(key)?;
        Ok(sx(
            format!("{}.attribute({}, {k})", self.schema, b.sql),
            Kind::TextList,
        ))
    }

    fn text_operand(&self, e: &CExpr) -> Result<String, String> {
        let x = self.expr(e)?;
        match x.kind {
            Kind::Text => Ok(x.sql),
            Kind::Null => Ok("NULL::text".into()),
            _ => Err("a non-text name".into()),
        }
    }

    fn in_set(&self, set: &str, item: &CExpr) -> R {
        let x = self.expr(item)?;
        match x.kind {
            Kind::Text => Ok(sx(format!("({} = ANY({set}))", x.sql), Kind::Bool)),
            _ => Ok(sx("NULL::boolean".into(), Kind::Bool)),
        }
    }

    fn purposes_below(&self, p: NodeId) -> String {
        let h = &self.model.purposes;
        let names: Vec<String> = h
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| h.is_under(*i, p))
            .filter_map(|(i, _)| ident::text(&h.path(i)))
            .collect();
        format!("ARRAY[{}]::text[]", names.join(", "))
    }

    fn purposes_all(&self) -> String {
        let names: Vec<String> = self
            .model
            .purposes
            .paths()
            .iter()
            .filter_map(|p| ident::text(p))
            .collect();
        format!("ARRAY[{}]::text[]", names.join(", "))
    }

    fn call(&self, f: Builtin, args: &[CExpr]) -> R {
        let arg = |i: usize| -> R {
            match args.get(i) {
                Some(a) => self.expr(a),
                None => Ok(sx("NULL::boolean".into(), Kind::Null)),
            }
        };
        match f {
            Builtin::Lower | Builtin::Upper => Err(format!(
                "`{}` (Unicode case mapping differs between Rust and PostgreSQL)",
                f.name()
            )),
            Builtin::Len => {
                let x = arg(0)?;
                Ok(match x.kind {
                    Kind::Text => sx(format!("length({})::bigint", x.sql), Kind::Int),
                    Kind::TextList | Kind::IntList | Kind::DecList => {
                        sx(format!("cardinality({})::bigint", x.sql), Kind::Int)
                    }
                    _ => sx("NULL::bigint".into(), Kind::Int),
                })
            }
            Builtin::Concat => {
                let mut parts = Vec::new();
                for a in args {
                    let x = self.expr(a)?;
                    let text = match x.kind {
                        Kind::Null => continue,
                        Kind::Text => x.sql.clone(),
                        Kind::Int => format!("({})::text", x.sql),
                        Kind::Bool => format!("({})::text", x.sql),
                        _ => return Err(
                            "`concat` of a decimal, date, timestamp or list (their canonical text)"
                                .into(),
                        ),
                    };
                    if x.column {
                        parts.push(format!("coalesce({text}, '')"));
                    } else if is_never_null_value(a) {
                        parts.push(text);
                    } else {
                        return Err("`concat` of a value that may be null".into());
                    }
                }
                if parts.is_empty() {
                    return Ok(sx("''::text".into(), Kind::Text));
                }
                Ok(sx(format!("({})", parts.join(" || ")), Kind::Text))
            }
            Builtin::StartsWith | Builtin::EndsWith => {
                let (s, p) = (arg(0)?, arg(1)?);
                if s.kind != Kind::Text || p.kind != Kind::Text {
                    return Ok(sx("NULL::boolean".into(), Kind::Bool));
                }
                Ok(sx(
                    if f == Builtin::StartsWith {
                        format!("starts_with({}, {})", s.sql, p.sql)
                    } else {
                        format!("(right({0}, length({1})) = {1})", s.sql, p.sql)
                    },
                    Kind::Bool,
                ))
            }
            Builtin::Now => Ok(sx("now()".into(), Kind::Ts)),
            Builtin::Today => Ok(sx(format!("{}.today()", self.schema), Kind::Date)),
            Builtin::Age => {
                let x = arg(0)?;
                let d = match x.kind {
                    Kind::Date => x.sql,
                    Kind::Ts => format!("({} AT TIME ZONE 'UTC')::date", x.sql),
                    _ => return Ok(sx("NULL::bigint".into(), Kind::Int)),
                };
                Ok(sx(
                    format!("{0}.whole_years({d}, {0}.today())", self.schema),
                    Kind::Int,
                ))
            }
            Builtin::Replace
            | Builtin::RegexReplace
            | Builtin::Substring
            | Builtin::Length
            | Builtin::Lpad
            | Builtin::Rpad => self.string_function(f, args),
            Builtin::Coalesce => self.coalesce(args),
            Builtin::Has => {
                let x = arg(0)?;
                Ok(sx(
                    match x.kind {
                        Kind::Dur => format!("({} IS NOT NULL)", x.sql),
                        Kind::Null => "false".into(),
                        _ => format!("({} IS NOT NULL)", x.sql),
                    },
                    Kind::Bool,
                ))
            }
        }
    }

    /// The string functions: PostgreSQL's, through the helpers that give the runtime's
    /// positions, limits and nulls (`helpers.sql`).
    fn string_function(&self, f: Builtin, args: &[CExpr]) -> R {
        let s = self.schema;
        let mut texts = Vec::with_capacity(args.len());
        for a in args {
            let x = self.expr(a)?;
            if !matches!(x.kind, Kind::Text | Kind::Int) {
                let unknown = if f == Builtin::Length {
                    "NULL::bigint"
                } else {
                    "NULL::text"
                };
                let kind = if f == Builtin::Length {
                    Kind::Int
                } else {
                    Kind::Text
                };
                return Ok(sx(unknown.into(), kind));
            }
            texts.push(x.sql);
        }
        let text = |sql: String| Ok(sx(sql, Kind::Text));
        match (f, texts.as_slice()) {
            (Builtin::Replace, [x, from, to]) => {
                text(format!("{s}.text_limit(replace({x}, {from}, {to}))"))
            }
            (Builtin::RegexReplace, [x, _, _]) => {
                let (Some(p), Some(r)) = (
                    args.get(1).and_then(text_const),
                    args.get(2).and_then(text_const),
                ) else {
                    return Err("`regex_replace` without a literal pattern".into());
                };
                let why = |w: String| format!("`regex_replace` with r\"{p}\" ({w})");
                let re = regex::translate(p, false).map_err(why)?;
                let names = regex::group_names(p, false).map_err(why)?;
                let rep = regex::replacement(r, &names).map_err(why)?;
                let re = ident::text(&re).ok_or("a pattern with a NUL character")?;
                let rep = ident::text(&rep).ok_or("a replacement with a NUL character")?;
                text(format!(
                    "{s}.text_limit(regexp_replace({x}, {re}, {rep}, 'g'))"
                ))
            }
            (Builtin::Substring, [x, start]) => text(format!("{s}.substring_from({x}, {start})")),
            (Builtin::Substring, [x, start, len]) => {
                text(format!("{s}.substring_for({x}, {start}, {len})"))
            }
            (Builtin::Length, [x]) => Ok(sx(format!("length({x})::bigint"), Kind::Int)),
            (Builtin::Lpad, [x, n, fill]) => text(format!("{s}.pad_left({x}, {n}, {fill})")),
            (Builtin::Rpad, [x, n, fill]) => text(format!("{s}.pad_right({x}, {n}, {fill})")),
            _ => Err(format!("`{}` with these arguments", f.name())),
        }
    }

    /// `coalesce(…)`: SQL's, over arguments of one kind (`null` literals left out).
    fn coalesce(&self, args: &[CExpr]) -> R {
        let mut kind = Kind::Null;
        let mut parts = Vec::with_capacity(args.len());
        for a in args {
            let x = self.expr(a)?;
            if x.kind == Kind::Null {
                continue;
            }
            if kind != Kind::Null && x.kind != kind {
                return Err("`coalesce` of values of different SQL types".into());
            }
            kind = x.kind;
            parts.push(x.sql);
        }
        if parts.is_empty() {
            return Ok(sx("NULL".into(), Kind::Null));
        }
        Ok(sx(format!("coalesce({})", parts.join(", ")), kind))
    }

    fn binary(&self, op: BinOp, a: &CExpr, b: &CExpr) -> R {
        match op {
            BinOp::And | BinOp::Or => {
                let (x, y) = (self.cond(a)?, self.cond(b)?);
                let word = if op == BinOp::And { "AND" } else { "OR" };
                return Ok(sx(format!("({x} {word} {y})"), Kind::Bool));
            }
            _ => {}
        }
        let (x, y) = (self.expr(a)?, self.expr(b)?);
        match op {
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                compare(op, &x, &y)
            }
            BinOp::In => membership(&x, &y),
            BinOp::Contains => membership(&y, &x),
            BinOp::Add | BinOp::Sub => self.arith(op == BinOp::Sub, &x, &y),
            BinOp::Matches | BinOp::And | BinOp::Or => Ok(sx("NULL::boolean".into(), Kind::Bool)),
        }
    }

    fn arith(&self, sub: bool, x: &Sx, y: &Sx) -> R {
        let s = self.schema;
        let sign = if sub { "-" } else { "+" };
        Ok(match (&x.kind, &y.kind) {
            (Kind::Int, Kind::Int) | (Kind::Dur, Kind::Dur) | (Kind::Months, Kind::Months) => sx(
                format!(
                    "{s}.int_of(({})::numeric {sign} ({})::numeric)",
                    x.sql, y.sql
                ),
                x.kind,
            ),
            // Calendar months in UTC, the day clamped to the month's last (as chrono).
            (Kind::Ts, Kind::Months) => sx(
                format!(
                    "((({} AT TIME ZONE 'UTC') {sign} make_interval(months => ({})::integer)) AT TIME ZONE 'UTC')",
                    x.sql, y.sql
                ),
                Kind::Ts,
            ),
            (Kind::Date, Kind::Months) => sx(
                format!(
                    "(({} {sign} make_interval(months => ({})::integer))::date)",
                    x.sql, y.sql
                ),
                Kind::Date,
            ),
            (Kind::Ts, Kind::Dur) => sx(
                format!("({} {sign} make_interval(secs => {}))", x.sql, y.sql),
                Kind::Ts,
            ),
            (Kind::Date, Kind::Dur) => sx(
                format!("({} {sign} (({}) / 86400)::integer)", x.sql, y.sql),
                Kind::Date,
            ),
            (Kind::Ts, Kind::Ts) if sub => sx(
                format!("trunc(extract(epoch FROM ({} - {})))::bigint", x.sql, y.sql),
                Kind::Dur,
            ),
            (Kind::Date, Kind::Date) if sub => sx(
                format!("(({} - {})::bigint * 86400)", x.sql, y.sql),
                Kind::Dur,
            ),
            (Kind::Int | Kind::Dec, Kind::Int | Kind::Dec) => {
                let neg = if sub { "-" } else { "" };
                sx(
                    format!(
                        "{s}.float_add(({})::double precision, {neg}({})::double precision)",
                        x.sql, y.sql
                    ),
                    Kind::Dec,
                )
            }
            _ => sx("NULL::bigint".into(), Kind::Null),
        })
    }
}

/// An expression whose SQL null always means *unknown* (never a null value): subject
/// fields, calls, comparisons, arithmetic and constants.
fn is_never_null_value(e: &CExpr) -> bool {
    match &e.kind {
        CKind::Const(c) => *c != Const::Null,
        // `coalesce` gives a null value when every argument is null.
        CKind::Call(Builtin::Coalesce, _) => false,
        CKind::User(_) | CKind::Call(..) | CKind::Binary(..) | CKind::Neg(_) | CKind::Not(_) => {
            true
        }
        _ => false,
    }
}

fn compare(op: BinOp, x: &Sx, y: &Sx) -> R {
    let sqlop = match op {
        BinOp::Eq => "=",
        BinOp::Ne => "<>",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        _ => ">=",
    };
    let ordering = !matches!(op, BinOp::Eq | BinOp::Ne);
    let unknown = || Ok(sx("NULL::boolean".into(), Kind::Bool));
    let out = match (&x.kind, &y.kind) {
        (Kind::Int, Kind::Int)
        | (Kind::Dec, Kind::Dec)
        | (Kind::Date, Kind::Date)
        | (Kind::Ts, Kind::Ts)
        | (Kind::Dur, Kind::Dur)
        | (Kind::Months, Kind::Months)
        | (Kind::Bool, Kind::Bool) => format!("({} {sqlop} {})", x.sql, y.sql),
        (Kind::Int, Kind::Dec) | (Kind::Dec, Kind::Int) => format!(
            "(({})::double precision {sqlop} ({})::double precision)",
            x.sql, y.sql
        ),
        (Kind::Text, Kind::Text) if ordering => {
            format!("({} COLLATE \"C\" {sqlop} {} COLLATE \"C\")", x.sql, y.sql)
        }
        (Kind::Text, Kind::Text) => format!("({} {sqlop} {})", x.sql, y.sql),
        (Kind::TextList, Kind::TextList) | (Kind::IntList, Kind::IntList) if !ordering => {
            return Err("comparing lists".into())
        }
        _ => return unknown(),
    };
    Ok(sx(out, Kind::Bool))
}

/// `item in container`: a list holds an equal element, a text holds a substring.
fn membership(item: &Sx, container: &Sx) -> R {
    let out = match (&item.kind, &container.kind) {
        (Kind::Text, Kind::TextList) => format!("({} = ANY({}))", item.sql, container.sql),
        (Kind::Int, Kind::IntList) => format!("({} = ANY({}))", item.sql, container.sql),
        (Kind::Int | Kind::Dec, Kind::IntList | Kind::DecList) => format!(
            "(({})::double precision = ANY(({})::double precision[]))",
            item.sql, container.sql
        ),
        (Kind::Text, Kind::Text) => {
            format!("(strpos({}, {}) > 0)", container.sql, item.sql)
        }
        (_, Kind::TextList | Kind::IntList | Kind::DecList) if item.kind != Kind::Null => {
            // Elements of another type make the answer unknown (no element is equal), unless
            // there is none.
            format!(
                "(CASE WHEN {0} IS NOT NULL AND cardinality({1}) = 0 THEN false END)",
                item.sql, container.sql
            )
        }
        _ => "NULL::boolean".into(),
    };
    Ok(sx(out, Kind::Bool))
}

fn text_const(e: &CExpr) -> Option<&str> {
    match &e.kind {
        CKind::Const(Const::Text(s)) => Some(s),
        _ => None,
    }
}

/// A constant as SQL.
pub fn constant_sql(c: &Const) -> R {
    Ok(match c {
        Const::Null => sx("NULL".into(), Kind::Null),
        Const::Bool(b) => sx(b.to_string(), Kind::Bool),
        Const::Int(i) => sx(format!("({i})::bigint"), Kind::Int),
        Const::Decimal(x) if x.is_finite() => sx(format!("({})", ident::float(*x)), Kind::Dec),
        Const::Decimal(_) => return Err("a non-finite number".into()),
        Const::Text(t) => sx(
            format!(
                "{}::text",
                ident::text(t).ok_or("a text with a NUL character")?
            ),
            Kind::Text,
        ),
        Const::Date(d) => {
            let s = d.to_string();
            if s.len() != 10 {
                return Err("a date outside the years 0–9999".into());
            }
            sx(format!("DATE '{s}'"), Kind::Date)
        }
        Const::Timestamp(t) => {
            if t.timestamp_subsec_nanos() % 1000 != 0 {
                return Err("a timestamp finer than a microsecond".into());
            }
            sx(
                format!(
                    "TIMESTAMPTZ '{}'",
                    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                ),
                Kind::Ts,
            )
        }
        Const::Duration(s) => sx(format!("({s})::bigint"), Kind::Dur),
        Const::Months(m) => sx(format!("({m})::bigint"), Kind::Months),
    })
}

/// An unknown of the SQL type of `ty`.
fn null_of(ty: &Ty) -> Sx {
    let kind = kind_of(ty).unwrap_or(Kind::Null);
    let sql = match kind {
        Kind::Bool => "NULL::boolean",
        Kind::Int | Kind::Dur | Kind::Months => "NULL::bigint",
        Kind::Dec => "NULL::double precision",
        Kind::Text => "NULL::text",
        Kind::Date => "NULL::date",
        Kind::Ts => "NULL::timestamptz",
        Kind::TextList => "NULL::text[]",
        Kind::IntList => "NULL::bigint[]",
        Kind::DecList => "NULL::double precision[]",
        Kind::Attrs => "NULL::jsonb",
        Kind::Null => "NULL",
    };
    sx(sql.into(), kind)
}

/// The SQL kind of a column or value type, when SQL views support it.
pub fn kind_of(ty: &Ty) -> Option<Kind> {
    Some(match ty {
        Ty::Bool => Kind::Bool,
        Ty::Int => Kind::Int,
        Ty::Decimal => Kind::Dec,
        Ty::Text | Ty::Enum(_) | Ty::Purpose => Kind::Text,
        Ty::Date => Kind::Date,
        Ty::Timestamp => Kind::Ts,
        Ty::Duration => Kind::Dur,
        Ty::Months => Kind::Months,
        Ty::List(t) | Ty::Set(t) if t.is_textual() => Kind::TextList,
        _ => return None,
    })
}

/// The SQL kind of a declared subject field, when the subject decoder supports it.
pub fn subject_kind(ty: &Ty) -> Option<Kind> {
    match ty {
        Ty::Bool => Some(Kind::Bool),
        Ty::Int => Some(Kind::Int),
        Ty::Decimal => Some(Kind::Dec),
        Ty::Text => Some(Kind::Text),
        _ => None,
    }
}
