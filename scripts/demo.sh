#!/bin/sh
# make demo: train the regularised and the unregularised reach networks
# (examples/reach.ini, examples/reach-unregularized.ini), run every default
# analysis on both when this build has `silico analyze`, and write the
# comparison report for the regularised run; prints the report's path.
# About 4 minutes on 2 shared cores (load 4-6) once built: training ~115 s +
# ~40 s, analyses ~45 s + ~35 s (fixedpoints ~25 s and decode ~11 s of each),
# report ~15 s. silico compare (model vs recorded neurons) needs a data file
# and is not part of the demo; the report names the command.
set -e
START=$(date +%s)
BUILD=${1:-build}
SILICO="$BUILD/silico"
STAMP=$(date -u +%Y%m%d-%H%M%S)
REG="runs/demo-$STAMP/reach"
UNREG="runs/demo-$STAMP/reach-unregularized"
mkdir -p "runs/demo-$STAMP"
echo "== training the regularised reach network -> $REG"
"$SILICO" train examples/reach.ini --out "$REG"
echo "== training the unregularised reach network -> $UNREG"
"$SILICO" train examples/reach-unregularized.ini --out "$UNREG"
if "$SILICO" analyze --help >/dev/null 2>&1; then
    echo "== analyses (silico analyze: every default analysis)"
    for RUN in "$REG" "$UNREG"; do
        "$SILICO" analyze "$RUN" || echo "demo: 'silico analyze $RUN' failed; the report shows what exists"
    done
else
    echo "== this build has no 'silico analyze' yet: the report lists the analyses it would add"
fi
echo "== report"
REPORT=$("$SILICO" report "$REG" "$UNREG")
echo
echo "demo: done in $(( $(date +%s) - START )) s; compare with recorded neurons: silico compare $REG DATA.mat:variable --dims time,neuron,condition"
echo "report: $REPORT"
