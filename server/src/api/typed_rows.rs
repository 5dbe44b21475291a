//! The `/mask` body decoded straight from its bytes into the runtime's typed rows: no JSON tree
//! of the body, no map per row. Each row's cells land in the positions of the source's stored
//! columns ([`SourceSession::input_columns`](pol_runtime::SourceSession::input_columns) order),
//! decoded by the column's declared type exactly as [`Value::from_json`] decodes them; a cell
//! that does not decode becomes a value of another type, which
//! [`mask_values`](pol_runtime::SourceSession::mask_values) counts as a mismatch and treats as
//! null — what `mask_json` does with the same cell. Undeclared keys are dropped (parsed, as
//! JSON, so a body is accepted or refused exactly as the JSON tree accepted or refused it);
//! of a repeated key, the last value counts, as in a JSON object.
//!
//! Errors keep the order and messages of the body's typed form ([`super::mask::RowsRequest`]):
//! invalid JSON or a body that does not fit first, then too many rows, then the clock, then a
//! row that is not an object.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use pol_runtime::bundle::SourcePlan;
use pol_runtime::{mismatch, ColumnType, Value};
use serde::de::{
    self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor,
};
use serde::Deserialize;
use serde_json::Value as Json;

use super::links::ParentRows;

/// The stored top-level columns of a source, in declaration order: the cells of a typed row.
#[derive(Debug, Default)]
pub struct InputColumns<'b> {
    columns: Vec<(&'b str, &'b ColumnType)>,
}

impl<'b> InputColumns<'b> {
    /// The stored (not derived) top-level columns of `plan`.
    pub fn of(plan: &'b SourcePlan) -> Self {
        InputColumns {
            columns: plan
                .columns
                .iter()
                .filter(|c| c.parent.is_none() && c.derived.is_none())
                .map(|c| (c.name.as_str(), &c.ty))
                .collect(),
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(n, _)| *n == name)
    }
}

/// A decoded `/mask` body.
#[derive(Debug, Default)]
pub struct MaskBody {
    /// The rows decoded (all of them while within the limit; none past it).
    pub rows: Vec<Vec<Value>>,
    /// How many rows the body holds.
    pub count: usize,
    /// The first row that is not a JSON object: its index and kind (`a string`, …).
    pub not_an_object: Option<(usize, &'static str)>,
    /// The clock the body asks for.
    pub now: Option<String>,
    /// The parent rows given for linked visibility.
    pub link_rows: Vec<ParentRows>,
}

/// Decodes a `/mask` body (`{"rows": [...], "now": …}`) for a source's input columns, keeping
/// at most `max_rows` rows (beyond it the rest is parsed and counted only).
pub fn decode(
    bytes: &[u8],
    columns: &InputColumns<'_>,
    max_rows: usize,
) -> Result<MaskBody, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let body = BodySeed { columns, max_rows }.deserialize(&mut de)?;
    de.end()?;
    Ok(body)
}

const FIELDS: &[&str] = &["rows", "now", "link_rows"];

struct BodySeed<'c, 'b> {
    columns: &'c InputColumns<'b>,
    max_rows: usize,
}

impl<'de> DeserializeSeed<'de> for BodySeed<'_, '_> {
    type Value = MaskBody;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<MaskBody, D::Error> {
        d.deserialize_struct("RowsRequest", FIELDS, self)
    }
}

/// A key of the body object.
enum Field {
    Rows,
    Now,
    LinkRows,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                match v {
                    "rows" => Ok(Field::Rows),
                    "now" => Ok(Field::Now),
                    "link_rows" => Ok(Field::LinkRows),
                    other => Err(E::unknown_field(other, FIELDS)),
                }
            }
        }
        d.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Visitor<'de> for BodySeed<'_, '_> {
    type Value = MaskBody;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct RowsRequest")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaskBody, A::Error> {
        let mut rows: Option<RowsOut> = None;
        let mut now: Option<Option<String>> = None;
        let mut link_rows: Option<Vec<ParentRows>> = None;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Rows if rows.is_some() => return Err(de::Error::duplicate_field("rows")),
                Field::Rows => {
                    rows = Some(map.next_value_seed(RowsSeed {
                        columns: self.columns,
                        max_rows: self.max_rows,
                    })?)
                }
                Field::Now if now.is_some() => return Err(de::Error::duplicate_field("now")),
                Field::Now => now = Some(map.next_value()?),
                Field::LinkRows if link_rows.is_some() => {
                    return Err(de::Error::duplicate_field("link_rows"))
                }
                Field::LinkRows => link_rows = Some(map.next_value()?),
            }
        }
        let rows = rows.ok_or_else(|| de::Error::missing_field("rows"))?;
        Ok(rows.into_body(now.flatten(), link_rows.unwrap_or_default()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaskBody, A::Error> {
        const EXPECTED: &str = "struct RowsRequest with 3 elements";
        let rows = seq
            .next_element_seed(RowsSeed {
                columns: self.columns,
                max_rows: self.max_rows,
            })?
            .ok_or_else(|| de::Error::invalid_length(0, &EXPECTED))?;
        let now: Option<String> = seq.next_element()?.flatten();
        let link_rows: Vec<ParentRows> = seq.next_element()?.unwrap_or_default();
        Ok(rows.into_body(now, link_rows))
    }
}

/// The rows array, decoded.
#[derive(Default)]
struct RowsOut {
    rows: Vec<Vec<Value>>,
    count: usize,
    not_an_object: Option<(usize, &'static str)>,
}

impl RowsOut {
    fn into_body(self, now: Option<String>, link_rows: Vec<ParentRows>) -> MaskBody {
        MaskBody {
            rows: self.rows,
            count: self.count,
            not_an_object: self.not_an_object,
            now,
            link_rows,
        }
    }
}

struct RowsSeed<'c, 'b> {
    columns: &'c InputColumns<'b>,
    max_rows: usize,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, '_> {
    type Value = RowsOut;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RowsOut, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_, '_> {
    type Value = RowsOut;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RowsOut, A::Error> {
        let mut out = RowsOut {
            rows: Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max_rows)),
            ..RowsOut::default()
        };
        loop {
            if out.count >= self.max_rows {
                // Past the limit: parsed (the body must still be valid JSON) and counted only.
                if seq.next_element::<Json>()?.is_none() {
                    break;
                }
            } else {
                match seq.next_element_seed(RowSeed {
                    columns: self.columns,
                })? {
                    None => break,
                    Some(Ok(row)) => out.rows.push(row),
                    Some(Err(kind)) => {
                        out.not_an_object.get_or_insert((out.count, kind));
                    }
                }
            }
            out.count += 1;
        }
        Ok(out)
    }
}

/// One row: its cells by input position, or the kind of the JSON value that is not an object.
struct RowSeed<'c, 'b> {
    columns: &'c InputColumns<'b>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_, '_> {
    type Value = Result<Vec<Value>, &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, '_> {
    type Value = Result<Vec<Value>, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut row = vec![Value::Null; self.columns.columns.len()];
        while let Some(position) = map.next_key_seed(KeySeed {
            columns: self.columns,
        })? {
            let cell = position.and_then(|p| Some((p, self.columns.columns.get(p)?.1)));
            match cell {
                Some((p, ty)) => {
                    let value = map.next_value_seed(CellSeed { ty })?;
                    if let Some(slot) = row.get_mut(p) {
                        *slot = value;
                    }
                }
                None => {
                    map.next_value::<Json>()?;
                }
            }
        }
        Ok(Ok(row))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a string"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Json>()?.is_some() {}
        Ok(Err("an array"))
    }
}

/// A row's key: the input position of the column it names, if it names one.
struct KeySeed<'c, 'b> {
    columns: &'c InputColumns<'b>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_, '_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.columns.position(v))
    }
}

/// One cell, decoded by its column's declared type as [`Value::from_json`] decodes it; a cell
/// that does not decode is [`mismatch`].
struct CellSeed<'t> {
    ty: &'t ColumnType,
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.ty {
            ColumnType::List(_) | ColumnType::Struct(_) => {
                let json = Json::deserialize(d)?;
                Ok(pol_runtime::typed_cell(&json, self.ty))
            }
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cell")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(match self.ty {
            ColumnType::Bool => Value::Bool(v),
            ty => mismatch(ty),
        })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(match self.ty {
            ColumnType::Int => Value::Int(v),
            ColumnType::Decimal => Value::Decimal(v as f64),
            ty => mismatch(ty),
        })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(match self.ty {
            ColumnType::Int => i64::try_from(v).map_or_else(|_| mismatch(self.ty), Value::Int),
            ColumnType::Decimal => Value::Decimal(v as f64),
            ty => mismatch(ty),
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(match self.ty {
            ColumnType::Decimal if v.is_finite() => Value::Decimal(v),
            ty => mismatch(ty),
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(match self.ty {
            ColumnType::Text => Value::Text(v.to_owned()),
            ColumnType::Enum(domain) if domain.iter().any(|d| d == v) => Value::Text(v.to_owned()),
            ColumnType::Date => v
                .parse::<NaiveDate>()
                .map_or_else(|_| mismatch(self.ty), Value::Date),
            ColumnType::Timestamp => DateTime::parse_from_rfc3339(v).map_or_else(
                |_| mismatch(self.ty),
                |t| Value::Timestamp(t.with_timezone(&Utc)),
            ),
            ty => mismatch(ty),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<Json>()?.is_some() {}
        Ok(mismatch(self.ty))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_entry::<IgnoredAny, Json>()?.is_some() {}
        Ok(mismatch(self.ty))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Value, E> {
        Err(E::invalid_type(Unexpected::Other("bytes"), &self))
    }
}
