#!/bin/sh
# test-ref.sh BUILD_DIR — regenerate the PyTorch golden tensors and check them.
#
#  1. the generators in tests/ref (Debian's /usr/bin/python3 with
#     python3-torch) write fresh golden tensors into a temporary directory,
#     laid out as tests/golden: ctrnn_<case>/, cells/, lightgru/, layers/,
#     constraints/;
#  2. tests/ref/compare_golden.py checks them against the committed
#     tests/golden (≤ 1e-4 relative, integer arrays exact; missing or extra
#     files fail) over the parts these generators own — goldens written by
#     other tests (tasks/) are left alone;
#  3. BUILD_DIR/tests/run runs the C implementation against the fresh tensors
#     (SILICO_GOLDEN_DIR): ref_ctrnn, ref_cells, ref_lightgru, ref_layers,
#     ref_constraints.
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
"$PY" tests/ref/gen_lightgru.py "$tmp/lightgru"
"$PY" tests/ref/gen_layers.py "$tmp/layers"
"$PY" tests/ref/gen_constraints.py "$tmp/constraints"

echo "test-ref: comparing fresh tensors with tests/golden"
"$PY" tests/ref/compare_golden.py "$tmp" tests/golden ctrnn_ cells lightgru layers constraints

echo "test-ref: running the C implementation against the fresh tensors"
for suite in ref_ctrnn ref_cells ref_lightgru ref_layers ref_constraints; do
    SILICO_GOLDEN_DIR="$tmp" "$BUILD/tests/run" --filter "$suite/*"
done

echo "test-ref: OK"
