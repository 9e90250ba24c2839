#!/bin/sh
# test-ref.sh BUILD_DIR — regenerate the PyTorch golden tensors and check them.
#
#  1. the generators in tests/ref (Debian's /usr/bin/python3 with
#     python3-torch) write fresh golden tensors into a temporary directory,
#     laid out as tests/golden: ctrnn_<case>/ and one <family>/ per
#     tests/ref/gen_<family>.py;
#  2. tests/ref/compare_golden.py checks them against the committed
#     tests/golden (≤ 1e-4 relative, integer arrays exact; missing or extra
#     files fail) over the parts these generators own — goldens written by
#     other tests (tasks/) are left alone;
#  3. BUILD_DIR/tests/run runs the C implementation against the fresh tensors
#     (SILICO_GOLDEN_DIR): the suites ref_ctrnn and ref_<family>.
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
# gen_ctrnn.py writes ctrnn_<case>/ into the top directory; every other
# tests/ref/gen_<family>.py writes <family>/, checked by the Criterion suite
# ref_<family> (tests/test_ref_<family>.c).
"$PY" tests/ref/gen_ctrnn.py "$tmp"
families=""
for gen in tests/ref/gen_*.py; do
    fam=$(basename "$gen" .py); fam=${fam#gen_}
    [ "$fam" = ctrnn ] && continue
    echo "test-ref: $gen"
    "$PY" "$gen" "$tmp/$fam"
    families="$families $fam"
done

echo "test-ref: comparing fresh tensors with tests/golden"
"$PY" tests/ref/compare_golden.py "$tmp" tests/golden ctrnn_ $families

echo "test-ref: running the C implementation against the fresh tensors"
for suite in ctrnn $families; do
    SILICO_GOLDEN_DIR="$tmp" "$BUILD/tests/run" --filter "ref_$suite/*"
done

echo "test-ref: OK"
