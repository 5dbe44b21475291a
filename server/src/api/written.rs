//! Masked typed rows written as the JSON text `polc eval` prints: `{"column":value,…}` with
//! every top-level column in declaration order, byte for byte what
//! [`SourceSession::write_masked_row`] writes for the same row given as a JSON object.

use pol_runtime::{SourceSession, Value};

/// The `"column":` prefixes of a source's top-level columns, escaped once per request.
#[derive(Debug)]
pub struct ColumnKeys {
    keys: Vec<Vec<u8>>,
}

impl ColumnKeys {
    /// The keys of `src`'s top-level columns (the columns of
    /// [`mask_values`](SourceSession::mask_values)' output).
    pub fn of(src: &SourceSession<'_>) -> Result<Self, serde_json::Error> {
        let keys = src
            .columns()
            .into_iter()
            .map(|name| {
                let mut key = serde_json::to_vec(name)?;
                key.push(b':');
                Ok(key)
            })
            .collect::<Result<_, serde_json::Error>>()?;
        Ok(ColumnKeys { keys })
    }

    /// Writes one masked row (one value per top-level column) as a JSON object.
    pub fn write_row(&self, row: &[Value], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        out.push(b'{');
        for (i, (key, value)) in self.keys.iter().zip(row).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            write_value(value, out)?;
        }
        out.push(b'}');
        Ok(())
    }
}

/// A value as `serde_json::to_writer(out, &value.to_json())` writes it, without the JSON tree
/// for the common scalar kinds.
fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => serde_json::to_writer(&mut *out, i)?,
        Value::Text(s) => serde_json::to_writer(&mut *out, s.as_str())?,
        other => serde_json::to_writer(&mut *out, &other.to_json())?,
    }
    Ok(())
}
