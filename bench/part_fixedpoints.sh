# bench/part_fixedpoints.sh — sourced by bench/run.sh: the fixed-point pipeline
# (issue 5, workload fixedpoints-N150-K1024), silico (bench_fixedpoints.c) vs
# the PyTorch FixedPointFinder peer (peer_fixedpoints.py), both on one thread
# (OpenBLAS 1, OpenMP 1), interleaved peer, silico for $REPEATS rounds. The
# network (W5: N = 150 tanh, J ~ N(0, 1.5²/N)) and the 1024 initial states
# are written once by the C side (--write-net) and read by both, so both solve
# the same problem. ms_per_step = one whole pipeline run (search until every
# point has q < 1e-10 or stopped improving, at most 5000 Adam iterations;
# dedup; eigenvalues of the unique points); each record carries n_unique,
# n_fixed, n_stable and iterations. BENCH_QUICK=1: 200 iterations at most.
FP_BIN="$BUILD/bench_fixedpoints"
FP_NET="$OUT/fixedpoints-net"
if [ -x "$FP_BIN" ]; then
    mkdir -p "$FP_NET"
    "$FP_BIN" --write-net "$FP_NET"
    if [ "${BENCH_QUICK:-0}" = 1 ]; then FP_ARGS="--max-iters 200"; else FP_ARGS=""; fi
    r=1
    while [ "$r" -le "$REPEATS" ]; do
        echo "bench: fixedpoints-N150-K1024 round $r/$REPEATS ($(( $(date +%s) - start )) s)" >&2
        "$PY" "$HERE/peer_fixedpoints.py" --net "$FP_NET" --threads 1 --blas-threads 1 $FP_ARGS | tag_round "$r"
        OPENBLAS_NUM_THREADS=1 "$FP_BIN" --net "$FP_NET" --threads 1 $FP_ARGS | tag_round "$r"
        r=$((r + 1))
    done
else
    echo "bench: $FP_BIN not built (make bench builds it); fixed points skipped" >&2
fi
