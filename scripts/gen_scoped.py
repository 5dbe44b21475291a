#!/usr/bin/env python3
"""A policy set where every policy is scoped to one source and targets tags (few root tags).

    scripts/gen_scoped.py OUT_DIR [LINES]

The shape of issue 10's slow `polc check` case: each source has columns under a handful of root
tags, and its own policy masks `columns tagged <root>` — the checker must not walk every column
under that tag in the whole set for each policy. Deterministic; about LINES lines in 50 files.
"""
import os
import sys

ROOTS = ["PII", "Fin", "Health"]
SUBS = ["A", "B", "C"]


def source_block(i):
    cols = ["  id: int key,"]
    for r in ROOTS:
        for s in SUBS:
            cols.append(f"  {r.lower()}_{s.lower()}: text tagged {r}.{s},")
    cols.append("  note: text,")
    src = f"source s{i} {{\n" + "\n".join(cols) + "\n}\n"
    pol = (
        f"policy p{i} on source s{i} {{\n"
        + "".join(
            f"  mask columns tagged {r} using hash for everyone except user has role \"r{i % 7}\"\n"
            for r in ROOTS
        )
        + f"  mask columns tagged PII.A using null for everyone\n"
        + "}\n"
    )
    return src + pol


def main():
    out = sys.argv[1]
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    os.makedirs(out, exist_ok=True)
    header = "".join(f"tag {r} sensitive;\n" + "".join(f"tag {r}.{s};\n" for s in SUBS) for r in ROOTS)
    with open(os.path.join(out, "tags.pol"), "w") as f:
        f.write(header)
    per = source_block(0).count("\n")
    n = max(1, lines // per)
    files = 49
    for k in range(files):
        with open(os.path.join(out, f"unit{k:02}.pol"), "w") as f:
            for i in range(k, n, files):
                f.write(source_block(i))
    print(f"{n} sources, about {n * per} lines, in {files + 1} files")


main()
