#!/usr/bin/env python3
"""Writes a policy set whose one construct is N deep (issue 9, item 1) to stdout.

    scripts/gen_deep.py KIND N > deep.pol

KIND is one of: and, or, add, sub, eq, not, neg, parens, list_lit, call, field, index, if,
list_type, struct_type, by_level.
"""
import sys

HEAD = """tag PII sensitive;
subject { n: int, b: bool }
"""


def cond(kind, n):
    if kind == "and":
        return " and ".join(["row.b"] * n)
    if kind == "or":
        return " or ".join(["row.b"] * n)
    if kind == "add":
        return " + ".join(["row.n"] * n) + " > 0"
    if kind == "sub":
        return " - ".join(["row.n"] * n) + " > 0"
    if kind == "eq":
        return " == ".join(["row.b"] * n)
    if kind == "not":
        return "not " * n + "row.b"
    if kind == "neg":
        return "-" * n + "row.n > 0"
    if kind == "parens":
        return "(" * n + "row.b" + ")" * n
    if kind == "list_lit":
        return "row.n in " + "[" * n + "1" + "]" * n
    if kind == "call":
        return "has(" * n + "row.b" + ")" * n
    if kind == "field":
        return "user.b" + ".x" * n
    if kind == "index":
        return "row.b" + "[0]" * n
    if kind == "if":
        return "if row.b then " * n + "true" + " else false" * n
    return None


def main():
    kind, n = sys.argv[1], int(sys.argv[2])
    out = [HEAD]
    ty = "bool"
    technique = "null"
    if kind == "list_type":
        ty = "list<" * n + "int" + ">" * n
    elif kind == "struct_type":
        ty = "struct { x: " * n + "int" + " }" * n
    elif kind == "by_level":
        technique = "by level { Low: " * n + "null" + " }" * n
    c = cond(kind, n) or "row.b"
    out.append("level High > Low;\n" if kind == "by_level" else "")
    lvl = " level Low from lvl" if kind == "by_level" else ""
    lvlcol = "  lvl: text,\n" if kind == "by_level" else ""
    out.append(
        f"source s{lvl} {{\n  id: int key,\n  n: int,\n  b: bool,\n  deep: {ty},\n{lvlcol}"
        f"  e: text tagged PII,\n}}\n"
    )
    out.append(
        f"policy p on source s {{\n  mask columns tagged PII where {c} using {technique} for everyone\n}}\n"
    )
    out.append(
        'test "deep" {\n  given user { n: 1, b: true }\n'
        '  given row s { id: 1, n: 1, b: true, e: "x" }\n  expect row { e: null }\n}\n'
    )
    sys.stdout.write("".join(out))


main()
