#!/usr/bin/python3
"""convert_emg.py — convert the Hatsopoulos-lab center-out EMG (EMG.mat) into
the array silico's reach task reads.

    /usr/bin/python3 scripts/convert_emg.py /path/to/EMG.mat [out.npy]

EMG.mat holds all_EMG, float64, (13 muscles, 3341 samples, 8 directions).
The output (default data/reach/hatsopoulos_emg.npy) is float32 with shape
(8 directions, 3341 samples, 13 muscles): the same values, transposed and cast,
nothing else. See data/reach/README.md for provenance and assumptions.
"""
import os
import sys

import numpy as np
import scipy.io


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    src = argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    out = argv[2] if len(argv) > 2 else os.path.join(here, "..", "data", "reach",
                                                     "hatsopoulos_emg.npy")
    m = scipy.io.loadmat(src)
    if "all_EMG" not in m:
        sys.exit(f"{src}: no variable 'all_EMG'")
    e = np.asarray(m["all_EMG"])
    if e.ndim != 3 or e.shape[0] != 13 or e.shape[2] != 8:
        sys.exit(f"{src}: all_EMG has shape {e.shape}, expected (13, samples, 8)")
    if not np.all(np.isfinite(e)):
        sys.exit(f"{src}: all_EMG contains NaN/Inf")
    a = np.ascontiguousarray(np.transpose(e, (2, 1, 0)).astype("<f4"))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    np.save(out, a)
    print(f"wrote {out}: {a.dtype} {a.shape}, min {a.min():.4g}, max {a.max():.4g}")

    # A look at the time course, to choose task.emg_go_ms / task.emg_end_ms.
    pop = np.abs(a).mean(axis=(0, 2))  # mean |EMG| over directions and muscles
    base = pop[:400].mean()
    peak = pop.max()
    print(f"population |EMG|: baseline (samples 0-399) {base:.3g}, "
          f"peak {peak:.3g} at sample {int(pop.argmax())}")
    for frac in (0.05, 0.1, 0.25, 0.5, 0.9):
        thr = base + frac * (peak - base)
        print(f"  first sample above baseline + {frac:.0%} of range: "
              f"{int(np.argmax(pop > thr))}")
    for s in range(0, a.shape[1], 100):
        print(f"  sample {s:5d}: {pop[s]:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
