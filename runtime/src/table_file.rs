//! Reading a lookup table's file (`table t: text from "t.csv" [column c];`): a CSV file with a
//! header line, or a JSON array. Pure functions of the file's text; the compiler's checker
//! (`resolve/tables.rs`) finds and reads a `from "FILE"` table's file and locates the errors,
//! and `pol-server` reads the files of its `--table NAME=FILE` options with the same rules.
//!
//! - **CSV** (RFC 4180: `,` separated, `"` quoted with `""` inside, a quoted field may span
//!   lines): the first record names the columns; `column c` picks one, and without it the file
//!   must have exactly one column. Every record has as many fields as the header; blank lines
//!   are skipped.
//! - **JSON**: an array of values (`["EU", "US"]`, `[1, 2]`), or, with `column c`, an array of
//!   objects whose field `c` is the value.
//!
//! A value is a text (for a `text` table) or an integer written in decimal (`int`); a lookup
//! table holds no null. Errors name the line of the file.

use crate::lookup::MAX_TABLE_VALUES;
use crate::lookup::{LookupKind, LookupValues};

/// The largest table file read, in bytes.
pub const MAX_TABLE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The formats a table file may have, by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// `.csv`
    Csv,
    /// `.json`
    Json,
}

impl TableFormat {
    /// The format of a path, by its extension (`None`: neither `.csv` nor `.json`).
    pub fn of(path: &str) -> Option<TableFormat> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(TableFormat::Csv)
        } else if lower.ends_with(".json") {
            Some(TableFormat::Json)
        } else {
            None
        }
    }
}

/// Why a table file's text is not a table; `line` is 1-based when the error has a place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableFileError {
    /// The 1-based line of the file where the error is, when it has a place.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl TableFileError {
    fn at(line: usize, message: impl Into<String>) -> TableFileError {
        TableFileError {
            line: Some(line),
            message: message.into(),
        }
    }

    fn whole(message: impl Into<String>) -> TableFileError {
        TableFileError {
            line: None,
            message: message.into(),
        }
    }
}

/// The values of a table file.
pub fn parse(
    text: &str,
    format: TableFormat,
    column: Option<&str>,
    kind: LookupKind,
) -> Result<LookupValues, TableFileError> {
    let cells = match format {
        TableFormat::Csv => csv_column(text, column)?,
        TableFormat::Json => json_column(text, column)?,
    };
    if cells.len() > MAX_TABLE_VALUES {
        return Err(TableFileError::whole(format!(
            "the file holds {} values, more than a lookup table may ({MAX_TABLE_VALUES})",
            cells.len()
        )));
    }
    typed(cells, kind)
}

/// A cell read from a file: its line and its value (a JSON number or text, a CSV field).
enum Cell {
    Text(String),
    Int(i64),
    Other(&'static str),
}

fn typed(cells: Vec<(usize, Cell)>, kind: LookupKind) -> Result<LookupValues, TableFileError> {
    let limit = crate::lookup::MAX_TABLE_TEXT_BYTES;
    match kind {
        LookupKind::Text => {
            let mut out = Vec::with_capacity(cells.len());
            for (line, cell) in cells {
                match cell {
                    Cell::Text(s) if s.len() > limit => {
                        return Err(TableFileError::at(
                            line,
                            format!("a value of {} bytes is longer than {limit}", s.len()),
                        ))
                    }
                    Cell::Text(s) => out.push(s),
                    Cell::Int(_) => {
                        return Err(TableFileError::at(line, "a number in a `text` table"))
                    }
                    Cell::Other(what) => {
                        return Err(TableFileError::at(
                            line,
                            format!("{what} in a `text` table"),
                        ))
                    }
                }
            }
            Ok(LookupValues::Text(out))
        }
        LookupKind::Int => {
            let mut out = Vec::with_capacity(cells.len());
            for (line, cell) in cells {
                match cell {
                    Cell::Int(i) => out.push(i),
                    Cell::Text(s) => match s.parse::<i64>() {
                        Ok(i) => out.push(i),
                        Err(_) => {
                            return Err(TableFileError::at(
                                line,
                                format!("`{}` is not an int", s.escape_debug()),
                            ))
                        }
                    },
                    Cell::Other(what) => {
                        return Err(TableFileError::at(
                            line,
                            format!("{what} in an `int` table"),
                        ))
                    }
                }
            }
            Ok(LookupValues::Int(out))
        }
    }
}

// ------------------------------------------------------------------------------------ CSV

/// The records of a CSV text, each with the line it starts on.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, TableFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_field = false;
        loop {
            match chars.next() {
                None => break,
                Some('"') if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(TableFileError::at(
                                    start,
                                    "a quoted field is not closed",
                                ))
                            }
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some(',') | Some('\n') | Some('\r') => {}
                        Some(_) => {
                            return Err(TableFileError::at(
                                line,
                                "text after a quoted field's closing `\"`",
                            ))
                        }
                    }
                }
                Some(',') => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    line += 1;
                    break;
                }
                Some('"') => {
                    return Err(TableFileError::at(
                        line,
                        "a `\"` inside an unquoted field (quote the whole field)",
                    ))
                }
                Some(c) => field.push(c),
            }
        }
        fields.push(field);
        let blank =
            fields.len() == 1 && fields.first().is_some_and(String::is_empty) && !quoted_field;
        if !blank {
            records.push((start, fields));
        }
    }
    Ok(records)
}

fn csv_column(text: &str, column: Option<&str>) -> Result<Vec<(usize, Cell)>, TableFileError> {
    let mut records = csv_records(text)?.into_iter();
    let Some((header_line, header)) = records.next() else {
        return Err(TableFileError::whole(
            "the file is empty; a CSV table starts with a header line naming its columns",
        ));
    };
    let index = column_index(&header, column, header_line)?;
    let mut cells = Vec::new();
    for (line, fields) in records {
        if fields.len() != header.len() {
            return Err(TableFileError::at(
                line,
                format!(
                    "{} fields where the header has {}",
                    fields.len(),
                    header.len()
                ),
            ));
        }
        if let Some(v) = fields.into_iter().nth(index) {
            cells.push((line, Cell::Text(v)));
        }
    }
    Ok(cells)
}

fn column_index(
    header: &[String],
    column: Option<&str>,
    line: usize,
) -> Result<usize, TableFileError> {
    match column {
        Some(c) => header.iter().position(|h| h == c).ok_or_else(|| {
            TableFileError::at(
                line,
                format!(
                    "the header has no column `{c}` (it has {})",
                    quoted_list(header)
                ),
            )
        }),
        None if header.len() == 1 => Ok(0),
        None => Err(TableFileError::at(
            line,
            format!(
                "the file has {} columns ({}); name one with `column NAME`",
                header.len(),
                quoted_list(header)
            ),
        )),
    }
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ----------------------------------------------------------------------------------- JSON

fn json_column(text: &str, column: Option<&str>) -> Result<Vec<(usize, Cell)>, TableFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| TableFileError::at(e.line().max(1), format!("not JSON: {e}")))?;
    let serde_json::Value::Array(items) = value else {
        return Err(TableFileError::at(
            1,
            "a JSON table is an array (`[\"a\", \"b\"]`, or objects with `column NAME`)",
        ));
    };
    let lines = element_lines(text);
    let mut cells = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let value = match (column, item) {
            (Some(c), serde_json::Value::Object(mut fields)) => match fields.remove(c) {
                Some(v) => v,
                None => return Err(TableFileError::at(line, format!("the object has no `{c}`"))),
            },
            (Some(c), _) => {
                return Err(TableFileError::at(
                    line,
                    format!("not an object (`column {c}` reads each element's field `{c}`)"),
                ))
            }
            (None, serde_json::Value::Object(_)) => {
                return Err(TableFileError::at(
                    line,
                    "an object; name the field to read with `column NAME`",
                ))
            }
            (None, v) => v,
        };
        cells.push((line, json_cell(value)));
    }
    Ok(cells)
}

fn json_cell(v: serde_json::Value) -> Cell {
    match v {
        serde_json::Value::String(s) => Cell::Text(s),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Other("a number that is not a 64-bit integer"),
        },
        serde_json::Value::Null => Cell::Other("null (a lookup table holds no null)"),
        serde_json::Value::Bool(_) => Cell::Other("a boolean"),
        serde_json::Value::Array(_) => Cell::Other("an array"),
        serde_json::Value::Object(_) => Cell::Other("an object"),
    }
}

/// The line each element of the top-level array starts on (the text is valid JSON).
fn element_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut line = 1usize;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut expect_element = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            if c == '\n' {
                line += 1;
            }
            continue;
        }
        if expect_element && !c.is_whitespace() && c != ']' {
            lines.push(line);
            expect_element = false;
        }
        match c {
            '\n' => line += 1,
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                if depth == 1 {
                    expect_element = true;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 1 => expect_element = true,
            _ => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: LookupValues) -> Vec<String> {
        match v {
            LookupValues::Text(t) => t,
            LookupValues::Int(_) => panic!("ints"),
        }
    }

    #[test]
    fn csv_reads_one_column_with_quotes_and_blank_lines() {
        let text =
            "code,name\nEU,\"Europe, the union\"\n\n\"U\"\"S\",\"United\nStates\"\r\nFR,France\n";
        let v = parse(text, TableFormat::Csv, Some("code"), LookupKind::Text).unwrap();
        assert_eq!(texts(v), ["EU", "U\"S", "FR"]);
        let v = parse(text, TableFormat::Csv, Some("name"), LookupKind::Text).unwrap();
        assert_eq!(texts(v), ["Europe, the union", "United\nStates", "France"]);
    }

    #[test]
    fn csv_errors_name_their_line() {
        let e = parse("code\nEU\nUS,x\n", TableFormat::Csv, None, LookupKind::Text).unwrap_err();
        assert_eq!(e, TableFileError::at(3, "2 fields where the header has 1"));
        let e = parse("a,b\n1,2\n", TableFormat::Csv, None, LookupKind::Int).unwrap_err();
        assert_eq!(
            e,
            TableFileError::at(
                1,
                "the file has 2 columns (`a`, `b`); name one with `column NAME`"
            )
        );
        let e = parse("id\n1\n\"x\ny\"\n", TableFormat::Csv, None, LookupKind::Int).unwrap_err();
        assert_eq!(e, TableFileError::at(3, "`x\\ny` is not an int"));
        let e = parse("id\n\"1\n", TableFormat::Csv, None, LookupKind::Int).unwrap_err();
        assert_eq!(e, TableFileError::at(2, "a quoted field is not closed"));
        let e = parse("", TableFormat::Csv, None, LookupKind::Int).unwrap_err();
        assert_eq!(e.line, None);
    }

    #[test]
    fn json_reads_arrays_and_objects_and_locates_bad_elements() {
        let v = parse("[\n 1,\n 2 ]", TableFormat::Json, None, LookupKind::Int).unwrap();
        assert_eq!(v, LookupValues::Int(vec![1, 2]));
        let text = "[\n {\"id\": \"a,[\"},\n {\"id\": \"b\"}\n]";
        let v = parse(text, TableFormat::Json, Some("id"), LookupKind::Text).unwrap();
        assert_eq!(texts(v), ["a,[", "b"]);
        let e = parse(
            "[\n \"a\",\n null\n]",
            TableFormat::Json,
            None,
            LookupKind::Text,
        )
        .unwrap_err();
        assert_eq!(
            e,
            TableFileError::at(3, "null (a lookup table holds no null) in a `text` table")
        );
        let e = parse("[\n 1,\n \"x\"]", TableFormat::Json, None, LookupKind::Int).unwrap_err();
        assert_eq!(e, TableFileError::at(3, "`x` is not an int"));
        let e = parse("{\"a\": 1}", TableFormat::Json, None, LookupKind::Int).unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = parse("[1,\n", TableFormat::Json, None, LookupKind::Int).unwrap_err();
        assert!(e.message.starts_with("not JSON"), "{e:?}");
    }
}
