#!/bin/sh
# Install the Debian packages silico needs, only those missing. Idempotent.
# Uses sudo when not root. Set SILICO_DEPS_EXTRA to add packages (CI adds python3-torch).
# dataset-fashion-mnist: the IDX files under /usr/share/datasets/fashion-mnist/ (vision, issue 6).
# gnuplot-nox renders the figures (pngcairo and svg terminals); libpng-dev and libxml2-dev
# (tests only) check their PNG and SVG; chromium (tests only) opens the report headless.
set -e
PKGS="build-essential pkg-config libopenblas-dev liblapacke-dev libinih-dev libcjson-dev
libmatio-dev zlib1g-dev libcriterion-dev libxsmm-dev python3 python3-numpy
dataset-fashion-mnist gnuplot-nox libpng-dev libxml2-dev chromium $SILICO_DEPS_EXTRA"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi
echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "deps: done"
