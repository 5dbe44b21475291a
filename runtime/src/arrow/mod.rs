//! Masking Apache Arrow record batches (feature `arrow`).
//!
//! [`SourceSession::mask_batch`](crate::SourceSession::mask_batch) has exactly the semantics of
//! [`mask_values`](crate::SourceSession::mask_values) applied to every row of the batch, with the
//! cells read from and written to Arrow:
//!
//! - input columns are matched by name (the first of duplicates wins); columns the source does
//!   not declare are dropped; a declared column missing from the batch is null;
//! - the output has every declared top-level column (derived ones included), in declaration
//!   order, typed by [`arrow_type`]; rows the row rules hide are removed;
//! - a cell is read by its Arrow type ([`read`]): every integer width is an `int` (a `UInt64`
//!   beyond `i64` is not), floats are `decimal`s, `Utf8`/`LargeUtf8`/`Utf8View` are `text`,
//!   `Date32`/`Date64` are `date`s, timestamps of any unit are instants (a timestamp without a
//!   time zone is read as UTC), lists and structs recursively. A cell of any other Arrow type, or
//!   one that does not conform to the declared type (a text outside an enum's domain, an `int`
//!   column given strings), is a type mismatch: null, as in `mask_values`;
//! - a masked value is written in its column's Arrow type ([`write`]); one of another type (a
//!   technique such as `range` on an `int` column gives text) is written as null, since an Arrow
//!   column has one type: a batch never reveals more than the row path, but it shows null where
//!   `mask_values` shows such a text. Timestamps are written with microsecond precision.
//!
//! Columns whose decision is the same on every row for the session are done column-at-a-time:
//! a clear column whose Arrow type is already its output type is passed through without
//! copying (only filtered when row rules hide rows), a null column is one null array, a column
//! masked by a built-in technique is masked down the column. Row filters and row-dependent
//! decisions made of comparisons with values fixed for the session (`row.team == user.team`)
//! are evaluated down their columns too. What is left — other row-dependent decisions,
//! expression techniques, derived columns, struct fields, grants — goes row by row, given only
//! the cells something evaluated per row reads; a derived column there is decided from the
//! decisions of the columns it reads on the row, without masking the whole row.

mod batch;
mod error;
mod k_anonymity;
mod link;
mod masked;
pub mod read;
mod types;
pub mod write;

pub use error::BatchError;
pub use types::{arrow_type, output_schema};
