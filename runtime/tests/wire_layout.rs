//! The wire layout of the bundle's enums: postcard encodes a variant by its index, so
//! reordering or inserting a variant changes what every old bundle means without any error.
//! One value per variant, in declaration order, is encoded here and the encodings are pinned
//! in a snapshot (`snapshots/wire_layout__*.snap`); a reorder fails both the snapshot and the
//! check that the samples' variant indices count up from zero. Variants are append-only: a
//! new one goes last, with a sample appended here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use chrono::{NaiveDate, TimeZone, Utc};
use pol_runtime::bundle::{
    Audience, GrantAudience, GrantKind, RowAudience, RowFilter, RowOtherwise, TechniquePlan,
};
use pol_runtime::program::disasm::MNEMONICS;
use pol_runtime::program::Op;
use pol_runtime::techniques::{Fill, TimeUnit};
use pol_runtime::{ColumnType, Technique, Value};
use serde::Serialize;
use std::fmt::Debug;

/// `Debug = hex bytes` per sample; asserts the samples' variant indices are 0, 1, 2, ….
fn pin<T: Serialize + Debug>(samples: &[T]) -> String {
    let mut out = String::new();
    for (i, s) in samples.iter().enumerate() {
        let bytes = postcard::to_allocvec(s).unwrap();
        assert_eq!(
            bytes.first().copied(),
            Some(i as u8),
            "sample {i} ({s:?}) is not variant {i}: samples must follow the declaration order"
        );
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("{s:?} = {}\n", hex.join(" ")));
    }
    out
}

fn ops() -> Vec<Op> {
    use Op::*;
    vec![
        Const(1),
        Duration(-90),
        Column(2),
        Op::Value,
        UserField(3),
        Login,
        Groups,
        Roles,
        Attributes,
        Purposes,
        Now,
        Today,
        Field(4),
        Index,
        Eq,
        Ne,
        Lt,
        Le,
        Gt,
        Ge,
        In,
        Contains,
        Matches(5),
        Under(6),
        Add,
        Sub,
        Neg,
        Not,
        And,
        Or,
        JumpIfFalse(7),
        JumpIfTrue(8),
        Branch { else_: 9, end: 10 },
        Jump(11),
        Lower,
        Upper,
        Len,
        Concat(3),
        StartsWith,
        EndsWith,
        Age,
        Has,
        InGroup(12),
        HasRole(13),
        HasAttribute(14),
        HasAttributeValue {
            name: 15,
            value: 16,
        },
        ActingUnder(17),
        Replace,
        RegexReplace {
            regex: 18,
            replacement: 19,
        },
        Substring,
        SubstringFor,
        Lpad,
        Rpad,
        Coalesce(2),
        Months(-6),
        InTable(18),
    ]
}

#[test]
fn op_encodings_are_pinned() {
    let ops = ops();
    let names: Vec<&str> = ops.iter().map(Op::mnemonic).collect();
    assert_eq!(names, MNEMONICS, "one sample per op, in declaration order");
    insta::assert_snapshot!("op", pin(&ops));
}

#[test]
fn value_and_type_encodings_are_pinned() {
    let values = vec![
        Value::Null,
        Value::Bool(true),
        Value::Int(-2),
        Value::Decimal(1.5),
        Value::Text("a".into()),
        Value::Date(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()),
        Value::Timestamp(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()),
        Value::List(vec![Value::Int(1)]),
        Value::Struct(vec![("f".into(), Value::Null)]),
    ];
    let types = vec![
        ColumnType::Bool,
        ColumnType::Int,
        ColumnType::Decimal,
        ColumnType::Text,
        ColumnType::Enum(vec!["a".into()]),
        ColumnType::Date,
        ColumnType::Timestamp,
        ColumnType::List(Box::new(ColumnType::Int)),
        ColumnType::Struct(vec![("f".into(), ColumnType::Text)]),
    ];
    insta::assert_snapshot!("value", pin(&values));
    insta::assert_snapshot!("column_type", pin(&types));
}

fn techniques() -> Vec<Technique> {
    use Technique::*;
    vec![
        Null,
        Constant(Value::Int(1)),
        Hash { global: true },
        Redact,
        Stars,
        ShowLast(4),
        ShowFirst(2),
        EmailMask,
        MaskFirst {
            n: 5,
            fill: Fill::Char('#'),
        },
        MaskLast {
            n: 2,
            fill: Fill::Text("x".into()),
        },
        MaskFirstPercent(10),
        MaskLastPercent(20),
        Initials {
            delimiter: Some("-".into()),
        },
        Regex {
            pattern: "a".into(),
            replacement: "b".into(),
            global: true,
            ignore_case: false,
        },
        Range(10.0),
        Round(2.0),
        RoundTime(TimeUnit::Month),
        Digits('0'),
        AgeRange {
            size: 10,
            max: Some(90),
        },
        YearOnly { max: None },
        MonthYear { max: Some(80) },
        DateFormat {
            pattern: "%Y".into(),
            max: None,
        },
        Noise(0.5),
        Randomize {
            rate: 0.25,
            domain: vec!["a".into(), "b".into()],
        },
        Tokenize,
        FormatPreserving,
        MaskFirstPercentFill {
            p: 10,
            fill: Fill::Char('#'),
        },
        MaskLastPercentFill {
            p: 20,
            fill: Fill::Text("x".into()),
        },
        ShowFirstFill {
            n: 3,
            fill: Fill::Char('#'),
        },
        ShowLastFill {
            n: 4,
            fill: Fill::Text("XXX-".into()),
        },
        DigitsFill(Fill::Text("N".into())),
        ConstantText("withheld".into()),
        Buckets {
            edges: vec![0.0, 18.0],
            labels: vec!["minor".into(), "adult".into()],
        },
        AboveMax {
            max: 70,
            above: "Over 70".into(),
            technique: Box::new(YearOnly { max: None }),
        },
    ]
}

#[test]
fn technique_encodings_are_pinned() {
    insta::assert_snapshot!("technique", pin(&techniques()));
    insta::assert_snapshot!(
        "fill_and_time_unit",
        format!(
            "# Fill\n{}# TimeUnit\n{}",
            pin(&[Fill::Char('*'), Fill::Text("t".into())]),
            pin(&[
                TimeUnit::Minute,
                TimeUnit::Hour,
                TimeUnit::Day,
                TimeUnit::Month,
                TimeUnit::Year
            ])
        )
    );
    insta::assert_snapshot!(
        "technique_plan",
        pin(&[
            TechniquePlan::Builtin(Technique::Null),
            TechniquePlan::Expr { program: 3 },
            TechniquePlan::ByLevel {
                entries: vec![(0, 1)]
            },
        ])
    );
}

#[test]
fn plan_enum_encodings_are_pinned() {
    let mut out = String::new();
    out += "# Audience\n";
    out += &pin(&[Audience::Everyone, Audience::Except(1), Audience::Who(2)]);
    out += "# RowFilter\n";
    out += &pin(&[
        RowFilter::Where(1),
        RowFilter::NewerThan(60),
        RowFilter::OlderThan(120),
        RowFilter::Sample(12.5),
        RowFilter::Never,
        RowFilter::Linked {
            column: 2,
            parent: 1,
        },
        RowFilter::NewerThanMonths(6),
        RowFilter::OlderThanMonths(12),
    ]);
    out += "# RowAudience\n";
    out += &pin(&[
        RowAudience::Everyone,
        RowAudience::Except(1),
        RowAudience::Who {
            condition: 2,
            otherwise: RowOtherwise::AllRows,
        },
    ]);
    out += "# RowOtherwise\n";
    out += &pin(&[
        RowOtherwise::AllRows,
        RowOtherwise::Filter(RowFilter::Never),
    ]);
    out += "# GrantKind\n";
    out += &pin(&[
        GrantKind::TemporaryUnmask {
            source: 0,
            seconds: 3600,
        },
        GrantKind::Detokenize {
            source: 1,
            column: 2,
        },
    ]);
    out += "# GrantAudience\n";
    out += &pin(&[
        GrantAudience::Everyone,
        GrantAudience::Except(1),
        GrantAudience::Who(2),
    ]);
    insta::assert_snapshot!("plans", out);
}
