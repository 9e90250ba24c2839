#!/bin/sh
# Train every example experiment at full size (or those named as arguments
# after the build directory) into runs/examples/<name>/, then print one line
# per run with the figure its summary.json reports and the wall time.
set -e
BUILD=${1:-build}
shift || true
HERE=$(cd "$(dirname "$0")/.." && pwd)
cd "$HERE"
OUT=runs/examples-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
if [ $# -gt 0 ]; then LIST="$*"; else LIST=$(ls examples/*.ini | xargs -n1 basename | sed 's/\.ini$//'); fi
for name in $LIST; do
    echo "== $name"
    "$BUILD/silico" train "examples/$name.ini" --out "$OUT/$name" --quiet || echo "   FAILED: $name"
done
echo
echo "results ($OUT):"
for name in $LIST; do
    f="$OUT/$name/summary.json"
    [ -f "$f" ] || { printf '  %-22s (no summary)\n' "$name"; continue; }
    python3 - "$name" "$f" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
s = json.load(open(path))
parts = []
for k in ("accuracy", "interval_error_pct", "mse", "val_error_pct"):
    if s.get(k) is not None:
        parts.append(f"{k} {s[k]:.4g}")
print(f"  {name:22s} {', '.join(parts):48s} {s['seconds']:7.1f} s")
PY
done
