//! `null` and `constant(v)`: null gives null; a constant gives its value, of the column's type
//! (an int constant on a decimal column is that decimal). A null value stays null.

use pol_runtime::value::Value;

use crate::model::{Const, Ty};

/// The value of `constant(c)` on a column of type `ty`.
pub fn constant(c: &Const, ty: &Ty) -> Value {
    match (c, ty) {
        (Const::Null, _) => Value::Null,
        (Const::Bool(b), _) => Value::Bool(*b),
        (Const::Int(i), Ty::Decimal) => Value::Decimal(*i as f64),
        (Const::Int(i), _) => Value::Int(*i),
        (Const::Decimal(d), _) => Value::Decimal(*d),
        (Const::Text(t), _) => Value::Text(t.clone()),
        (Const::Date(d), _) => Value::Date(*d),
        (Const::Timestamp(t), _) => Value::Timestamp(*t),
        (Const::Duration(seconds), _) => Value::Int(*seconds),
        (Const::Months(_), _) => Value::Null,
    }
}
