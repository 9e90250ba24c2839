# part_cnn.sh — sourced by bench/run.sh: the seed CNN (issue 6), silico
# (bench_cnn.c) vs PyTorch (peer_cnn.py), one thread each, interleaved
# (peer, silico) for $REPEATS rounds: cnn-B16 and cnn-B256 (one training
# step: forward, cross-entropy, backward, Adam) and cnn-infer-B256 (forward
# only; records carry images_per_s). BENCH_CNN="..." picks workloads
# ("" for none). Appends impl "c"/"pytorch" records to $RAW.
CNN_WORKLOADS=${BENCH_CNN-"cnn-B16 cnn-B256 cnn-infer-B256"}
if [ -n "$CNN_WORKLOADS" ] && [ ! -x "$BUILD/bench_cnn" ]; then
    echo "bench: $BUILD/bench_cnn not built (make bench builds it)" >&2
    exit 2
fi
for w in $CNN_WORKLOADS; do
    r=1
    while [ "$r" -le "$REPEATS" ]; do
        echo "bench: $w round $r/$REPEATS ($(( $(date +%s) - start )) s)" >&2
        "$PY" "$HERE/peer_cnn.py" --case "$w" --threads 1 --blas-threads 1 $TIMING | tag_round "$r"
        OPENBLAS_NUM_THREADS=1 "$BUILD/bench_cnn" --workload "$w" --threads 1 $TIMING | tag_round "$r"
        r=$((r + 1))
    done
done
