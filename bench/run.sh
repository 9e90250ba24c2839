#!/bin/sh
# bench/run.sh BUILD_DIR — silico vs the PyTorch peer on the reach CT-RNN
# training step (W1 reach-ctrnn) and on the cell models (issue 3: W2/W3
# shapes), one JSON line per comparison on stdout and in
# BUILD_DIR/bench/results.jsonl (raw per-run records: raw.jsonl).
#
# Comparisons, for N150-B20 and N512-B64:
#   threads 1: silico 1 thread vs the peer with OpenMP 1 / OpenBLAS 1, for the
#              peer variants `loop` (headline: the tutorial's structure) and
#              `loop-opt` (best-effort eager PyTorch).
#   threads 2: silico 2 threads vs the peer's fastest 2-thread mode of
#              omp1-blas2 and omp2-blas1 (omp2-blas2 oversubscribes 2 cores;
#              see /work/shared/bench/README.md), per variant.
# Cells (bench_cells.c vs peer_cells.py), threads 1 only (silico 1 thread vs
# the peer with OpenMP 1 / OpenBLAS 1): lightgru-ei-H64-B32 (the Python-loop
# light GRU with E/I-signed U_h), gru-H64-B32 (nn.GRU), lstm-H32-B16-loop
# (the per-gate loop LSTM), lstm-H32-B16 (nn.LSTM).
# Runs are interleaved (peer, silico, peer, silico, ...) for BENCH_REPEATS
# rounds (default 2) so machine noise hits both; each figure is the median
# over runs of the per-run median step time; speedup = peer_ms / silico_ms.
#
# Environment:
#   BENCH_QUICK=1        CI smoke: 1 round, 3 timed steps, 1 warm-up step
#   BENCH_REPEATS=N      rounds (default 2)
#   BENCH_CONFIGS="..."  CT-RNN configs (default "N150-B20 N512-B64"; "" for none)
#   BENCH_CELLS="..."    cell workloads (default: all four; "" for none)
#   PYTHON=...           interpreter with torch (default /usr/bin/python3)
#   OPENBLAS_CORETYPE    passed through. If unset and OpenBLAS 0.3.21 falls
#                        back to its generic Prescott (SSE3) kernels on a CPU
#                        it does not know (e.g. Sapphire/Emerald Rapids), this
#                        script sets SkylakeX (AVX-512) or Haswell (AVX2) for
#                        BOTH sides, so the peer's GEMMs are not crippled;
#                        BENCH_KEEP_CORETYPE=1 keeps the fallback.
set -eu

BUILD=${1:-build}
PY=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
SILICO="$BUILD/bench_ctrnn"
SILICO_CELLS="$BUILD/bench_cells"
OUT="$BUILD/bench"
CONFIGS=${BENCH_CONFIGS-"N150-B20 N512-B64"}
CELLS=${BENCH_CELLS-"lightgru-ei-H64-B32 gru-H64-B32 lstm-H32-B16-loop lstm-H32-B16"}

for bin in "$SILICO" "$SILICO_CELLS"; do
    if [ ! -x "$bin" ]; then
        echo "bench: $bin not built (make bench builds it)" >&2
        exit 2
    fi
done
if ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "bench: $PY cannot import torch (Debian: apt-get install python3-torch)" >&2
    exit 2
fi

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    REPEATS=${BENCH_REPEATS:-1}
    TIMING="--warmup 1 --steps 3 --min-time 0"
    CTIMING="--warmup 1 --steps 3 --min-time 0"
else
    REPEATS=${BENCH_REPEATS:-2}
    TIMING="--warmup 3 --steps 20 --min-time 2"
    CTIMING="--warmup 5 --steps 20 --min-time 2"
fi

# OpenBLAS core: what it picks by itself, and the fix for an unknown CPU.
core_of() {
    "$PY" -c 'import ctypes; l = ctypes.CDLL("libopenblas.so.0"); l.openblas_get_corename.restype = ctypes.c_char_p; print(l.openblas_get_corename().decode())' 2>/dev/null || echo unknown
}
if [ -z "${OPENBLAS_CORETYPE+x}" ] && [ "${BENCH_KEEP_CORETYPE:-0}" != 1 ]; then
    detected=$(core_of)
    if [ "$detected" = Prescott ]; then
        if grep -q avx512f /proc/cpuinfo; then fix=SkylakeX
        elif grep -q avx2 /proc/cpuinfo; then fix=Haswell
        else fix=""; fi
        if [ -n "$fix" ]; then
            echo "bench: OpenBLAS picked its generic Prescott kernels on this CPU; using OPENBLAS_CORETYPE=$fix for silico and the peer" >&2
            OPENBLAS_CORETYPE=$fix
            export OPENBLAS_CORETYPE
        fi
    fi
fi
CORE=$(core_of)

mkdir -p "$OUT"
RAW="$OUT/raw.jsonl"
: > "$RAW"

# tag_round ROUND: the JSON lines on stdin, each with "round": ROUND, appended to
# $RAW (every run_* below and the bench/part_*.sh use it)
tag_round() {
    "$PY" -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line); r["round"] = int(sys.argv[1]); print(json.dumps(r))' "$1" >> "$RAW"
}

# run_peer CONFIG VARIANT OMP BLAS ROUND
run_peer() {
    "$PY" "$HERE/peer_ctrnn.py" --case "$1/$2" --threads "$3" --blas-threads "$4" $TIMING | tag_round "$5"
}
# run_silico CONFIG THREADS ROUND
run_silico() {
    OPENBLAS_NUM_THREADS=$2 "$SILICO" --config "$1" --threads "$2" $TIMING | tag_round "$3"
}

# run_peer_cell WORKLOAD ROUND / run_silico_cell WORKLOAD ROUND (one thread)
run_peer_cell() {
    "$PY" "$HERE/peer_cells.py" --case "$1" --threads 1 --blas-threads 1 $CTIMING | tag_round "$2"
}
run_silico_cell() {
    OPENBLAS_NUM_THREADS=1 "$SILICO_CELLS" --workload "$1" --threads 1 $CTIMING | tag_round "$2"
}

start=$(date +%s)
for cfg in $CONFIGS; do
    r=1
    while [ "$r" -le "$REPEATS" ]; do
        echo "bench: $cfg round $r/$REPEATS ($(( $(date +%s) - start )) s)" >&2
        # one thread
        run_peer "$cfg" loop 1 1 "$r";      run_silico "$cfg" 1 "$r"
        run_peer "$cfg" loop-opt 1 1 "$r";  run_silico "$cfg" 1 "$r"
        # two threads: both useful peer modes, per variant
        run_peer "$cfg" loop 1 2 "$r";      run_silico "$cfg" 2 "$r"
        run_peer "$cfg" loop 2 1 "$r";      run_silico "$cfg" 2 "$r"
        run_peer "$cfg" loop-opt 1 2 "$r"
        run_peer "$cfg" loop-opt 2 1 "$r";  run_silico "$cfg" 2 "$r"
        r=$((r + 1))
    done
done
for w in $CELLS; do
    r=1
    while [ "$r" -le "$REPEATS" ]; do
        echo "bench: $w round $r/$REPEATS ($(( $(date +%s) - start )) s)" >&2
        run_peer_cell "$w" "$r"; run_silico_cell "$w" "$r"
        r=$((r + 1))
    done
done

# more workloads: each bench/part_*.sh appends records with impl "c" / "pytorch"
# and the same "workload" to $RAW (using $TIMING, $REPEATS, $BUILD, $PY, $HERE);
# they are paired below like the cells.
for part in "$HERE"/part_*.sh; do
    [ -e "$part" ] || continue
    . "$part"
done

"$PY" - "$RAW" "$OUT/results.jsonl" "$CORE" "$REPEATS" "$(( $(date +%s) - start ))" <<'EOF'
import json, statistics, sys
raw, dst, core, repeats, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
recs = [json.loads(l) for l in open(raw) if l.strip()]
med = statistics.median
lines = []
configs = list(dict.fromkeys(r["config"] for r in recs if r["workload"] == "reach-ctrnn"))
for cfg in configs:
    for threads in (1, 2):
        sil = [r for r in recs if r["impl"] == "c" and r["workload"] == "reach-ctrnn"
               and r["config"] == cfg and r["threads"] == threads]
        if not sil:
            continue
        s_ms = med([r["ms_per_step"] for r in sil])
        for variant in ("loop", "loop-opt"):
            peer = [r for r in recs if r["impl"] == "pytorch" and r["workload"] == "reach-ctrnn"
                    and r["config"] == cfg
                    and r["variant"] == variant and r["threads"] + r["blas_threads"] == threads + 1
                    and max(r["threads"], r["blas_threads"]) == threads]
            if not peer:
                continue
            modes = {}
            for r in peer:
                modes.setdefault(r["mode"], []).append(r)
            # fastest mode by median over rounds of per-run medians
            mode, runs = min(modes.items(), key=lambda kv: med([r["ms_per_step"] for r in kv[1]]))
            p_ms = med([r["ms_per_step"] for r in runs])
            rec = {"workload": f"reach-ctrnn-{cfg}", "threads": threads, "peer_variant": variant,
                   "silico_ms": round(s_ms, 3), "peer_ms": round(p_ms, 3),
                   "speedup": round(p_ms / s_ms, 2),
                   "silico_maxrss_mb": round(max(r["maxrss_mb"] for r in sil), 1),
                   "peer_maxrss_mb": round(max(r["maxrss_mb"] for r in runs), 1),
                   "peer_mode": mode,
                   "peer_modes_ms": {m: round(med([r["ms_per_step"] for r in v]), 3) for m, v in sorted(modes.items())},
                   "silico_runs": len(sil), "peer_runs": len(runs), "rounds": repeats,
                   "silico_loss_last": sil[-1].get("loss_last"), "peer_loss_last": runs[-1].get("loss_last"),
                   "openblas_core": core}
            lines.append(rec)
# the cells: one thread each side
for w in dict.fromkeys(r["workload"] for r in recs if r["workload"] != "reach-ctrnn"):
    sil = [r for r in recs if r["impl"] == "c" and r["workload"] == w]
    peer = [r for r in recs if r["impl"] == "pytorch" and r["workload"] == w]
    if not sil or not peer:
        continue
    s_ms, p_ms = med([r["ms_per_step"] for r in sil]), med([r["ms_per_step"] for r in peer])
    rec = {"workload": w, "threads": 1, "silico_ms": round(s_ms, 3), "peer_ms": round(p_ms, 3),
           "speedup": round(p_ms / s_ms, 2),
           "silico_maxrss_mb": round(max(r["maxrss_mb"] for r in sil), 1),
           "peer_maxrss_mb": round(max(r["maxrss_mb"] for r in peer), 1),
           "peer_variant": peer[0]["variant"], "peer_mode": peer[0]["mode"],
           "silico_runs": len(sil), "peer_runs": len(peer), "rounds": repeats,
           "silico_loss_last": sil[-1].get("loss_last"), "peer_loss_last": peer[-1].get("loss_last"),
           "openblas_core": core}
    if sil[0].get("note"):
        rec["note"] = sil[0]["note"]
    lines.append(rec)
with open(dst, "w") as f:
    for rec in lines:
        print(json.dumps(rec), flush=True)
        f.write(json.dumps(rec) + "\n")
print(f"bench: {len(lines)} comparisons in {secs} s; raw runs in {raw}", file=sys.stderr)
EOF
