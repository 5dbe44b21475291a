//! Types of columns and subject fields: an unknown type name (E0008), a type in a place that
//! does not take it (E0039), a type given the wrong arguments (E0040).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;

impl Diagnostic {
    /// E0008: a type name that is not a type.
    pub fn unknown_type(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UnknownType,
            format!("unknown type `{name}`"),
            at,
            "not a type",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d.with_note("the types are `bool int decimal text date timestamp`, `enum(\"a\", …)`, `struct { … }` and `list<T>`"),
        }
    }

    /// E0008: a generic type name that is not one.
    pub fn unknown_generic_type(at: Loc, name: &str) -> Diagnostic {
        Diagnostic::new(
            Code::UnknownType,
            format!("unknown type `{name}<…>`"),
            at,
            "not a type",
        )
        .with_note("the generic types are `list<T>`, `set<T>` and `map<K, V>`")
    }

    /// E0039: a struct as a subject field's type.
    pub fn struct_subject_field(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::TypeNotAllowedHere,
            "subject fields cannot be structs",
            at,
            "struct here",
        )
    }

    /// E0039: a struct inside a type that cannot hold one (a set, a map).
    pub fn struct_not_allowed(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::TypeNotAllowedHere,
            "a struct is not allowed here",
            at,
            "struct",
        )
    }

    /// E0040: `enum()` without values.
    pub fn empty_enum(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadTypeArguments,
            "an enum needs at least one value",
            at,
            "empty enum",
        )
    }

    /// E0040: `list`/`set` given other than one type.
    pub fn one_type_argument(at: Loc, generic: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadTypeArguments,
            format!("`{generic}` takes one type"),
            at,
            "e.g. `list<text>`",
        )
    }

    /// E0040: `map` given other than two types.
    pub fn map_type_arguments(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadTypeArguments,
            "`map` takes two types",
            at,
            "e.g. `map<text, int>`",
        )
    }
}
