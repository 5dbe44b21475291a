#!/usr/bin/env python3
"""Writes a policy set with one very long path or one very wide source (issue 9, item 2).

    scripts/gen_wide.py path N      # one tag of N segments, a column tagged with it, a rule on it
    scripts/gen_wide.py columns N   # one source of N columns, a rule on each tenth
"""
import sys


def main():
    kind, n = sys.argv[1], int(sys.argv[2])
    out = []
    if kind == "path":
        path = ".".join(f"s{i}" for i in range(n))
        out.append(f"tag {path} sensitive;\n")
        out.append(f"source s {{\n  id: int key,\n  e: text tagged {path},\n}}\n")
        out.append(f"policy p {{\n  mask columns tagged {path} using null for everyone\n}}\n")
    elif kind == "columns":
        cols = "".join(f"  c{i}: text,\n" for i in range(n))
        out.append(f"source s {{\n  id: int key,\n{cols}}}\n")
        rules = "".join(
            f"  mask column s.c{i} using null for everyone\n" for i in range(0, n, 10)
        )
        out.append(f"policy p {{\n{rules}}}\n")
    else:
        sys.exit(f"unknown kind {kind}")
    sys.stdout.write("".join(out))


main()
