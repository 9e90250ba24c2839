#!/bin/sh
# test-ref.sh BUILD_DIR — regenerate the PyTorch golden tensors and check them.
#
#  1. tests/ref/gen_ctrnn.py and tests/ref/gen_cells.py (Debian's
#     /usr/bin/python3 with python3-torch) write fresh golden tensors into a
#     temporary directory (ctrnn_<case>/ and cells/<case>/, as in tests/golden);
#  2. every fresh .npy is compared with the committed tests/golden one
#     (max|new − old| / max(max|old|, 1e-6) ≤ 1e-4; missing or extra files
#     fail) — over the parts of tests/golden these generators own (ctrnn_*,
#     cells/), so goldens written by other tests (tasks/) are left alone;
#  3. BUILD_DIR/tests/run --filter 'ref_ctrnn/*' and 'ref_cells/*' run the C
#     implementation against the fresh tensors (SILICO_GOLDEN_DIR).
# Exits non-zero on any failure.
set -eu

BUILD=${1:-build}
PY=${SILICO_REF_PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
cd "$HERE"

if [ ! -x "$PY" ]; then
    echo "test-ref: $PY not found (install Debian's python3 and python3-torch)" >&2
    exit 1
fi
if ! "$PY" -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "test-ref: $PY cannot import torch and numpy;" \
         "install Debian's python3-torch (apt-get install python3-torch python3-numpy)" >&2
    exit 1
fi
if [ ! -x "$BUILD/tests/run" ]; then
    echo "test-ref: $BUILD/tests/run not built (make $BUILD/tests/run)" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/silico-ref.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "test-ref: generating reference tensors with $PY ($("$PY" -c 'import torch; print("torch", torch.__version__)'))"
"$PY" tests/ref/gen_ctrnn.py "$tmp"
"$PY" tests/ref/gen_cells.py "$tmp/cells"

echo "test-ref: comparing fresh tensors with tests/golden"
"$PY" - "$tmp" tests/golden <<'EOF'
import os, sys, json
import numpy as np

fresh, gold = sys.argv[1], sys.argv[2]
TOL = 1e-4

OWNED = ("ctrnn_", "cells")  # top-level entries of tests/golden the generators write

def files(root):
    out = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            rel = os.path.relpath(os.path.join(d, f), root)
            if rel.split(os.sep)[0].startswith(OWNED):
                out.add(rel)
    return out

a, b = files(fresh), files(gold)
bad = 0
for f in sorted(a - b):
    print("  %-45s MISSING from tests/golden" % f); bad += 1
for f in sorted(b - a):
    print("  %-45s EXTRA in tests/golden (not generated)" % f); bad += 1
for f in sorted(a & b):
    pa, pb = os.path.join(fresh, f), os.path.join(gold, f)
    if f.endswith(".npy"):
        x, y = np.load(pa), np.load(pb)
        if x.shape != y.shape:
            print("  %-45s shape %s vs golden %s  FAIL" % (f, x.shape, y.shape)); bad += 1
            continue
        diff = float(np.max(np.abs(x - y))) if x.size else 0.0
        ref = float(np.max(np.abs(y))) if y.size else 0.0
        rel = diff / max(ref, 1e-6)
        ok = np.isfinite(x).all() and rel <= TOL
        print("  %-45s max diff %.2e rel %.2e%s" % (f, diff, rel, "" if ok else "  FAIL"))
        bad += 0 if ok else 1
    elif f.endswith(".json"):
        if json.load(open(pa)) != json.load(open(pb)):
            print("  %-45s differs  FAIL" % f); bad += 1
        else:
            print("  %-45s same" % f)
    else:
        print("  %-45s unexpected file  FAIL" % f); bad += 1
if bad:
    print("test-ref: %d golden file(s) differ from a fresh generation" % bad)
    sys.exit(1)
print("test-ref: all %d golden files match" % len(a))
EOF

echo "test-ref: running the C implementation against the fresh tensors"
SILICO_GOLDEN_DIR="$tmp" "$BUILD/tests/run" --filter 'ref_ctrnn/*'
SILICO_GOLDEN_DIR="$tmp" "$BUILD/tests/run" --filter 'ref_cells/*'
# ---- light-GRU / ENU (tests/ref/gen_lightgru.py → tests/golden/lightgru/) ---
# Self-contained: generate into $tmp/lightgru, compare every file with
# tests/golden/lightgru (same rule as above; missing or extra files fail),
# then run the C cell against the fresh tensors.
echo "test-ref: light-GRU / ENU golden tensors"
"$PY" tests/ref/gen_lightgru.py "$tmp/lightgru"
"$PY" - "$tmp/lightgru" tests/golden/lightgru <<'EOF_LIGHTGRU'
import os, sys, json
import numpy as np
fresh, gold = sys.argv[1], sys.argv[2]
def files(root):
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}
a, b = files(fresh), files(gold)
bad = len(a ^ b)
for f in sorted(a - b): print("  lightgru/%-40s MISSING from tests/golden" % f)
for f in sorted(b - a): print("  lightgru/%-40s EXTRA in tests/golden (not generated)" % f)
for f in sorted(a & b):
    pa, pb = os.path.join(fresh, f), os.path.join(gold, f)
    if f.endswith(".npy"):
        x, y = np.load(pa), np.load(pb)
        if x.shape != y.shape:
            print("  lightgru/%-40s shape %s vs %s  FAIL" % (f, x.shape, y.shape)); bad += 1; continue
        diff = float(np.max(np.abs(x - y))) if x.size else 0.0
        rel = diff / max(float(np.max(np.abs(y))) if y.size else 0.0, 1e-6)
        ok = bool(np.isfinite(x).all()) and rel <= 1e-4
        if not ok: print("  lightgru/%-40s max diff %.2e rel %.2e  FAIL" % (f, diff, rel))
        bad += 0 if ok else 1
    elif f.endswith(".json"):
        if json.load(open(pa)) != json.load(open(pb)):
            print("  lightgru/%-40s differs  FAIL" % f); bad += 1
    else:
        print("  lightgru/%-40s unexpected file  FAIL" % f); bad += 1
if bad:
    print("test-ref: %d light-GRU golden file(s) differ from a fresh generation" % bad); sys.exit(1)
print("test-ref: all %d light-GRU golden files match" % len(a))
EOF_LIGHTGRU
SILICO_GOLDEN_DIR="$tmp" "$BUILD/tests/run" --filter 'ref_lightgru/*'
# ---- end light-GRU / ENU ----------------------------------------------------

# ---- feed-forward layers (tests/ref/gen_layers.py → tests/golden/layers/) ---
# Self-contained: generate into $tmp/layers, compare every file with
# tests/golden/layers (same rule as above; missing or extra files fail, int64
# arrays such as max-pool indices must match exactly), then run the C layers
# (conv2d, pooling, linear, cross-entropy, the seed CNN) against the fresh tensors.
echo "test-ref: feed-forward layer golden tensors"
"$PY" tests/ref/gen_layers.py "$tmp/layers"
"$PY" - "$tmp/layers" tests/golden/layers <<'EOF_LAYERS'
import os, sys, json
import numpy as np
fresh, gold = sys.argv[1], sys.argv[2]
def files(root):
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}
a, b = files(fresh), files(gold)
bad = len(a ^ b)
for f in sorted(a - b): print("  layers/%-40s MISSING from tests/golden" % f)
for f in sorted(b - a): print("  layers/%-40s EXTRA in tests/golden (not generated)" % f)
for f in sorted(a & b):
    pa, pb = os.path.join(fresh, f), os.path.join(gold, f)
    if f.endswith(".npy"):
        x, y = np.load(pa), np.load(pb)
        if x.shape != y.shape or x.dtype != y.dtype:
            print("  layers/%-40s %s %s vs %s %s  FAIL" % (f, x.dtype, x.shape, y.dtype, y.shape)); bad += 1; continue
        if x.dtype.kind in "iu":
            ok = bool((x == y).all())
            if not ok: print("  layers/%-40s integer values differ  FAIL" % f)
        else:
            diff = float(np.max(np.abs(x - y))) if x.size else 0.0
            rel = diff / max(float(np.max(np.abs(y))) if y.size else 0.0, 1e-6)
            ok = bool(np.isfinite(x).all()) and rel <= 1e-4
            if not ok: print("  layers/%-40s max diff %.2e rel %.2e  FAIL" % (f, diff, rel))
        bad += 0 if ok else 1
    elif f.endswith(".json"):
        if json.load(open(pa)) != json.load(open(pb)):
            print("  layers/%-40s differs  FAIL" % f); bad += 1
    else:
        print("  layers/%-40s unexpected file  FAIL" % f); bad += 1
if bad:
    print("test-ref: %d layer golden file(s) differ from a fresh generation" % bad); sys.exit(1)
print("test-ref: all %d layer golden files match" % len(a))
EOF_LAYERS
SILICO_GOLDEN_DIR="$tmp" "$BUILD/tests/run" --filter 'ref_layers/*'
# ---- end feed-forward layers -------------------------------------------------

echo "test-ref: OK"
