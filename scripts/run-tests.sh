#!/bin/sh
# Run the whole suite: the float64 gradient checks, then the main Criterion
# suite (its summary line ends the output). SILICO_BIN names the CLI binary.
set -e
BUILD=${1:-build}
export SILICO_BIN=${SILICO_BIN:-$BUILD/silico}
echo "== float64 gradient checks ($BUILD/tests/run_f64)"
"$BUILD/tests/run_f64" --jobs 2
echo "== test suite ($BUILD/tests/run)"
"$BUILD/tests/run" --jobs 2
