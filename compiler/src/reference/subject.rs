//! The subject (user context) as the reference reads it, decoded from JSON by docs/language.md
//! §8 — written out here rather than borrowed from the runtime, so that the differential tests
//! compare two decodings too.
//!
//! - `login`: a text; absent or not a string, null (unknown).
//! - `groups`, `roles`: lists of texts; absent (or null) means empty; anything but an array of
//!   strings is null (every test on it is unknown).
//! - `attributes`: a struct whose fields are the attribute names, each a list of texts (a
//!   single string counts as a one-element list; anything else is null); absent means empty;
//!   not an object, null.
//! - `purposes`: the declared purposes the subject names, each once, in the subject's order
//!   (an undeclared name is below no declared purpose, so it is dropped); not an array of
//!   strings, null (`acting under` is unknown).
//! - declared fields (`subject { … }`): decoded against their types; missing or mistyped, null.

use pol_runtime::engine::SubjectError;
use pol_runtime::value::{ColumnType, Value};
use serde_json::Value as Json;

use super::values;
use crate::model::Model;

/// A decoded subject.
#[derive(Clone, Debug, PartialEq)]
pub struct Subject {
    /// `user.login`.
    pub login: Value,
    /// `user.groups`.
    pub groups: Value,
    /// `user.roles`.
    pub roles: Value,
    /// `user.attributes`.
    pub attributes: Value,
    /// `user.purposes`, as full names.
    pub purposes: Value,
    /// The declared subject fields (`subject { … }`), in declaration order.
    pub fields: Vec<Value>,
}

impl Subject {
    /// Decodes `json` for `model`; `fields` are the declared subject fields with their
    /// run-time types. Only a subject that is not a JSON object is an error.
    pub fn decode(
        json: &Json,
        model: &Model,
        fields: &[(String, ColumnType)],
    ) -> Result<Subject, SubjectError> {
        let Json::Object(obj) = json else {
            return Err(SubjectError::NotAnObject {
                found: json_kind(json),
            });
        };
        Ok(Subject {
            login: match obj.get("login") {
                Some(Json::String(s)) => Value::Text(s.clone()),
                _ => Value::Null,
            },
            groups: texts(obj.get("groups")),
            roles: texts(obj.get("roles")),
            attributes: attributes(obj.get("attributes")),
            purposes: purposes(obj.get("purposes"), model),
            fields: fields
                .iter()
                .map(|(name, ty)| {
                    obj.get(name)
                        .and_then(|v| values::decode(v, ty))
                        .unwrap_or(Value::Null)
                })
                .collect(),
        })
    }
}

/// A list of texts; absent or null is empty, anything else null.
fn texts(v: Option<&Json>) -> Value {
    match v {
        None | Some(Json::Null) => Value::List(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::String(s) => Some(Value::Text(s.clone())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map_or(Value::Null, Value::List),
        Some(_) => Value::Null,
    }
}

fn attributes(v: Option<&Json>) -> Value {
    match v {
        None | Some(Json::Null) => Value::Struct(Vec::new()),
        Some(Json::Object(map)) => Value::Struct(
            map.iter()
                .map(|(name, v)| {
                    let values = match v {
                        Json::String(s) => Value::List(vec![Value::Text(s.clone())]),
                        Json::Array(_) => texts(Some(v)),
                        _ => Value::Null,
                    };
                    (name.clone(), values)
                })
                .collect(),
        ),
        Some(_) => Value::Null,
    }
}

fn purposes(v: Option<&Json>, model: &Model) -> Value {
    let Value::List(named) = texts(v) else {
        return Value::Null;
    };
    let mut declared: Vec<Value> = Vec::new();
    for name in named {
        let known = matches!(&name, Value::Text(s) if model.purposes.get(s).is_some());
        if known && !declared.contains(&name) {
            declared.push(name);
        }
    }
    Value::List(declared)
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}
