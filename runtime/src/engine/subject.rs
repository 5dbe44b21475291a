//! The subject (user context) of a session, decoded from JSON (§8 of the language contract).

use std::fmt;

use smallvec::{smallvec, SmallVec};

use crate::program::interp::PurposeTree;
use crate::value::{ColumnType, Value};

/// A subject JSON that cannot be used at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectError {
    /// The subject is not a JSON object.
    NotAnObject {
        /// The JSON kind found instead (`array`, `string`, …).
        found: &'static str,
    },
}

impl fmt::Display for SubjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectError::NotAnObject { found } => {
                write!(f, "the subject must be a JSON object, found {found}")
            }
        }
    }
}

impl std::error::Error for SubjectError {}

/// The decoded subject, as programs read it.
///
/// - `login`: a text, or null (unknown) when absent or not a string.
/// - `groups`, `roles`: lists of texts; absent means empty; a value that is not an array of
///   strings is null (the field counts as missing: every test on it is unknown).
/// - `attributes`: a struct value whose fields are the attribute names, each a list of texts
///   (a single string is accepted as a one-element list); absent means empty; an attribute whose
///   value is not text or a list of texts is null; a value that is not an object is null.
/// - `purposes`: the declared purposes the subject names, as texts (undeclared names are
///   ignored: they are below no declared purpose); a value that is not an array of strings is
///   null and `acting under` is unknown.
/// - `fields`: the bundle's declared subject fields, decoded against their types; missing or of
///   the wrong type, null (unknown).
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
    /// The same purposes as indices into the bundle's purpose table (`None` when malformed).
    pub purpose_ids: Option<Vec<u32>>,
    /// The declared subject fields, in the bundle's order.
    pub fields: Vec<Value>,
    /// What decoding had to treat as unknown: a declared field missing or of the wrong type, a
    /// built-in of the wrong type. Masking still fails closed; this says why, for logging.
    pub issues: Vec<SubjectIssue>,
}

/// A subject field that decoding treated as unknown (null).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectIssue {
    /// The field's name (`region`, or a built-in: `login`, `groups`, `roles`, `attributes`,
    /// `purposes`).
    pub field: String,
    /// What the subject holds instead: `None` when the field is missing, else the JSON kind
    /// found (`string`, `number`, …, or `array` when a list holds other than texts).
    pub found: Option<&'static str>,
    /// What the field should be (`text`, `a list of texts`, …).
    pub expected: String,
}

impl fmt::Display for SubjectIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.found {
            None => write!(
                f,
                "the subject has no field `{}` ({} expected)",
                self.field, self.expected
            ),
            Some(kind) => write!(
                f,
                "the subject's field `{}` is {} {kind}, not {}",
                self.field,
                if kind == "array" || kind == "object" {
                    "an"
                } else {
                    "a"
                },
                self.expected
            ),
        }
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn text_set(v: Option<&serde_json::Value>) -> Value {
    match v {
        None | Some(serde_json::Value::Null) => Value::List(Vec::new()),
        Some(serde_json::Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    serde_json::Value::String(s) => out.push(Value::Text(s.clone())),
                    _ => return Value::Null,
                }
            }
            Value::List(out)
        }
        Some(_) => Value::Null,
    }
}

/// Subjects with at most this many declared fields are decoded in one pass over the object's
/// entries, comparing names (no hashing); beyond it, each name is looked up.
const FEW_FIELDS: usize = 8;

/// The entries of a subject object that decoding reads (`None`: absent).
struct Entries<'j> {
    login: Option<&'j serde_json::Value>,
    groups: Option<&'j serde_json::Value>,
    roles: Option<&'j serde_json::Value>,
    attributes: Option<&'j serde_json::Value>,
    purposes: Option<&'j serde_json::Value>,
    /// Per declared field, in the bundle's order.
    fields: SmallVec<[Option<&'j serde_json::Value>; FEW_FIELDS]>,
}

impl<'j> Entries<'j> {
    fn of(
        obj: &'j serde_json::Map<String, serde_json::Value>,
        fields: &[(String, ColumnType)],
    ) -> Self {
        if fields.len() > FEW_FIELDS {
            return Entries {
                login: obj.get("login"),
                groups: obj.get("groups"),
                roles: obj.get("roles"),
                attributes: obj.get("attributes"),
                purposes: obj.get("purposes"),
                fields: fields.iter().map(|(name, _)| obj.get(name)).collect(),
            };
        }
        let mut e = Entries {
            login: None,
            groups: None,
            roles: None,
            attributes: None,
            purposes: None,
            fields: smallvec![None; fields.len()],
        };
        for (key, value) in obj {
            let slot = match key.as_str() {
                "login" => &mut e.login,
                "groups" => &mut e.groups,
                "roles" => &mut e.roles,
                "attributes" => &mut e.attributes,
                "purposes" => &mut e.purposes,
                name => match fields.iter().position(|(f, _)| f == name) {
                    Some(i) => match e.fields.get_mut(i) {
                        Some(slot) => slot,
                        None => continue,
                    },
                    None => continue,
                },
            };
            *slot = Some(value);
        }
        e
    }
}

impl Subject {
    /// Decodes a subject against the bundle's declared fields and purposes.
    pub fn from_json(
        json: &serde_json::Value,
        fields: &[(String, ColumnType)],
        purposes: &PurposeTree,
    ) -> Result<Subject, SubjectError> {
        let obj = match json {
            serde_json::Value::Object(o) => o,
            other => {
                return Err(SubjectError::NotAnObject {
                    found: json_kind(other),
                })
            }
        };
        let mut issues = Vec::new();
        let mut wrong = |field: &str, value: Option<&serde_json::Value>, expected: &str| {
            issues.push(SubjectIssue {
                field: field.to_owned(),
                found: value.map(json_kind),
                expected: expected.to_owned(),
            });
        };
        let e = Entries::of(obj, fields);
        let login = match e.login {
            Some(serde_json::Value::String(s)) => Value::Text(s.clone()),
            None => Value::Null,
            Some(other) => {
                wrong("login", Some(other), "a text");
                Value::Null
            }
        };
        let groups = text_set(e.groups);
        if groups.is_null() {
            wrong("groups", e.groups, "a list of texts");
        }
        let roles = text_set(e.roles);
        if roles.is_null() {
            wrong("roles", e.roles, "a list of texts");
        }
        let attributes = match e.attributes {
            None | Some(serde_json::Value::Null) => Value::Struct(Vec::new()),
            Some(serde_json::Value::Object(map)) => Value::Struct(
                map.iter()
                    .map(|(k, v)| {
                        let vals = match v {
                            serde_json::Value::String(s) => {
                                Value::List(vec![Value::Text(s.clone())])
                            }
                            serde_json::Value::Array(_) => text_set(Some(v)),
                            _ => Value::Null,
                        };
                        (k.clone(), vals)
                    })
                    .collect(),
            ),
            Some(other) => {
                wrong("attributes", Some(other), "an object");
                Value::Null
            }
        };
        let (purpose_names, purpose_ids) = match text_set(e.purposes) {
            Value::List(items) => {
                let mut names = Vec::new();
                let mut ids = Vec::new();
                for item in items {
                    if let Value::Text(s) = &item {
                        if let Some(id) = purposes.find(s) {
                            if !ids.contains(&id) {
                                ids.push(id);
                                names.push(item);
                            }
                        }
                    }
                }
                (Value::List(names), Some(ids))
            }
            _ => {
                wrong("purposes", e.purposes, "a list of texts");
                (Value::Null, None)
            }
        };
        let fields = fields
            .iter()
            .zip(&e.fields)
            .map(|((name, ty), found)| {
                let found = *found;
                let decoded = found.and_then(|v| Value::from_json(v, ty).ok());
                if decoded.is_none() {
                    let ty = ty.to_string();
                    let article = if ty.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    };
                    wrong(name, found, &format!("{article} {ty} value"));
                }
                decoded.unwrap_or(Value::Null)
            })
            .collect();
        Ok(Subject {
            login,
            groups,
            roles,
            attributes,
            purposes: purpose_names,
            purpose_ids,
            fields,
            issues,
        })
    }
}
