#!/bin/sh
# memory-length.sh RUN_DIR — how a trained memorize/report network (task.name
# = memory) copes with sequences longer than those it was trained on.
#
# Evaluates RUN_DIR's checkpoint with `silico eval --json` on its validation
# trials (task.val_trials of the run's task seed; n_repeat as trained):
#   - at the training lengths, as trained (task.min_len..task.max_len): the
#     reference MSE;
#   - at each L in 10 20 30 50 75 100 150 200 250 300 with
#     task.min_len = task.max_len = L;
# and prints L -> MSE -> MSE / training-length MSE (with the MSE as % of the
# null model beside it), then the first L whose MSE exceeds 10x the
# training-length MSE, or "never, up to 300".
#
# The MSE is the task's loss: over every step, most of which have target 0
# (one report step per sequence), so it is diluted as L grows; the % of null
# column divides by the target variance at that length and is not.
#
# Environment: SILICO (default build/silico next to this script's repository),
# LENGTHS (default "10 20 30 50 75 100 150 200 250 300"), FACTOR (default 10).
set -eu

usage() {
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
"") echo "memory-length.sh: missing RUN_DIR (a run of task.name = memory)" >&2; usage >&2; exit 2 ;;
esac
RUN=$1
HERE=$(cd "$(dirname "$0")/.." && pwd)
SILICO=${SILICO:-$HERE/build/silico}
LENGTHS=${LENGTHS:-"10 20 30 50 75 100 150 200 250 300"}
FACTOR=${FACTOR:-10}

[ -x "$SILICO" ] || { echo "memory-length.sh: no silico binary at $SILICO (make build/silico, or set SILICO)" >&2; exit 1; }
[ -d "$RUN" ] || { echo "memory-length.sh: $RUN: no such run directory" >&2; exit 1; }
[ -f "$RUN/config.ini" ] || { echo "memory-length.sh: $RUN: no config.ini (not a silico run directory)" >&2; exit 1; }

# the trained task's keys, from the run's resolved config
key() { sed -n "/^\[task\]/,/^\[/s/^$1[[:space:]]*=[[:space:]]*//p" "$RUN/config.ini" | head -n 1; }
TASK=$(key name)
[ "$TASK" = memory ] || { echo "memory-length.sh: $RUN trained task '$TASK', not the memory task" >&2; exit 1; }
MIN=$(key min_len)
MAX=$(key max_len)
REP=$(key n_repeat)
VAL=$(key val_trials)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# evaluate with the given overrides; one JSON line into $TMP/$1.json
evaluate() {
    tag=$1
    shift
    if ! "$SILICO" eval "$RUN" "$@" --json >"$TMP/$tag.json" 2>"$TMP/$tag.err"; then
        echo "memory-length.sh: silico eval $RUN $* failed:" >&2
        cat "$TMP/$tag.err" >&2
        exit 1
    fi
}

evaluate train
for L in $LENGTHS; do
    evaluate "L$L" "task.min_len=$L" "task.max_len=$L"
done

# shellcheck disable=SC2086 # LENGTHS is a list of words
python3 - "$TMP" "$RUN" "$MIN" "$MAX" "$REP" "$VAL" "$FACTOR" $LENGTHS <<'PY'
import json, sys
tmp, run, lo, hi, rep, val, factor = sys.argv[1:8]
lengths = [int(x) for x in sys.argv[8:]]
factor = float(factor)
load = lambda tag: json.load(open(f"{tmp}/{tag}.json"))
ref = load("train")
m0, p0 = ref["mse"], ref["error_pct"]
print(f"memory-length: {run} (trained on L = {lo}..{hi}, n_repeat = {rep}; "
      f"{val} validation trials per length)")
print(f"  {'L':>8}  {'MSE':>11}  {'x train MSE':>11}  {'% of null':>10}  {'x train %':>10}")
def row(label, e):
    m, p = e["mse"], e["error_pct"]
    rm = m / m0 if m0 > 0 else float("inf")
    rp = p / p0 if p0 and p0 > 0 else float("nan")
    print(f"  {label:>8}  {m:11.4g}  {rm:11.3g}  {p:10.4g}  {rp:10.3g}")
    return rm, rp
row(f"{lo}..{hi}", ref)
first = first_p = None
for L in lengths:
    rm, rp = row(str(L), load(f"L{L}"))
    if first is None and rm > factor:
        first = L
    if first_p is None and rp > factor:
        first_p = L
top = max(lengths) if lengths else 0
fmt = lambda v: str(v) if v is not None else f"never, up to {top}"
f = f"{factor:g}"
print(f"first L whose MSE exceeds {f}x the training-length MSE: {fmt(first)}")
print(f"(by % of the null model, which does not dilute with L: {fmt(first_p)})")
PY
