"""compare_golden.py FRESH GOLD PREFIX... — check freshly generated golden
tensors against the committed ones (used by scripts/test-ref.sh).

Over the entries of GOLD whose top-level name starts with one of the
PREFIXes (the parts the generators own; goldens written by other tests are
left alone): every file must exist on both sides; .npy arrays must have the
same shape and dtype, integer arrays equal values, float arrays
max|new − old| / max(max|old|, 1e-6) <= 1e-4 and finite; .json files equal.
Prints one line per failing file and exits 1 if any fails.
"""
import json
import os
import sys

import numpy as np

TOL = 1e-4


def files(root, prefixes):
    out = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            rel = os.path.relpath(os.path.join(d, f), root)
            if rel.split(os.sep)[0].startswith(prefixes):
                out.add(rel)
    return out


def check(pa, pb):
    """None if the fresh file pa matches the golden pb, else why not."""
    if pa.endswith(".npy"):
        x, y = np.load(pa), np.load(pb)
        if x.shape != y.shape or x.dtype != y.dtype:
            return "%s %s vs golden %s %s" % (x.dtype, x.shape, y.dtype, y.shape)
        if x.dtype.kind in "iub":
            return None if (x == y).all() else "integer values differ"
        diff = float(np.max(np.abs(x - y))) if x.size else 0.0
        rel = diff / max(float(np.max(np.abs(y))) if y.size else 0.0, 1e-6)
        if not np.isfinite(x).all() or rel > TOL:
            return "max diff %.2e rel %.2e" % (diff, rel)
        return None
    if pa.endswith(".json"):
        with open(pa) as fa, open(pb) as fb:
            return None if json.load(fa) == json.load(fb) else "differs"
    return "unexpected file"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    fresh, gold, prefixes = sys.argv[1], sys.argv[2], tuple(sys.argv[3:])
    a, b = files(fresh, prefixes), files(gold, prefixes)
    bad = 0
    for f in sorted(a - b):
        print("  %-50s MISSING from %s" % (f, gold))
        bad += 1
    for f in sorted(b - a):
        print("  %-50s EXTRA in %s (not generated)" % (f, gold))
        bad += 1
    for f in sorted(a & b):
        why = check(os.path.join(fresh, f), os.path.join(gold, f))
        if why:
            print("  %-50s %s  FAIL" % (f, why))
            bad += 1
    if bad:
        print("test-ref: %d golden file(s) differ from a fresh generation" % bad)
        sys.exit(1)
    print("test-ref: all %d golden files (%s) match a fresh generation" % (len(a), ", ".join(prefixes)))


if __name__ == "__main__":
    main()
