"""What the PyTorch peers share: thread set-up (before torch is imported),
the timing rule of /work/shared/bench/README.md, and the common fields of a
JSON record. Used by every peer_*.py (Debian's /usr/bin/python3).

Timing: `warmup` untimed steps, then at least `steps` timed steps and until
`min_time` seconds have passed (at most `max_steps`), each step timed alone
with time.perf_counter; ms_per_step is the median.
"""
import argparse
import ctypes
import os
import resource
import statistics
import sys
import time


def add_common_args(p, warmup):
    """--threads, --blas-threads and the timing options."""
    p.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads (default 1)")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="OpenBLAS threads (default: --threads)")
    p.add_argument("--warmup", type=int, default=warmup)
    p.add_argument("--steps", type=int, default=20, help="minimum timed steps")
    p.add_argument("--min-time", type=float, default=2.0, help="minimum timed seconds")
    p.add_argument("--max-steps", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)


def set_threads(args):
    """Size the OpenMP and OpenBLAS pools; must run before torch is imported
    (OpenBLAS reads OPENBLAS_NUM_THREADS when it loads)."""
    if args.blas_threads is None:
        args.blas_threads = args.threads
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["MKL_NUM_THREADS"] = str(args.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)
    assert "torch" not in sys.modules, "set_threads must run before torch is imported"


def openblas():
    """(OpenBLAS pool size, core name) as the loaded library reports them."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_num_threads.restype = ctypes.c_int
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_num_threads(), lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None, None


def time_steps(step, args):
    """Run step() by the timing rule; returns the record's timing fields."""
    loss_first = None
    for _ in range(args.warmup):
        v = step()
        loss_first = v if loss_first is None else loss_first
    times, loss_last = [], None
    t_start = time.perf_counter()
    while len(times) < args.steps or (time.perf_counter() - t_start < args.min_time
                                      and len(times) < args.max_steps):
        t0 = time.perf_counter()
        loss_last = step()
        times.append(time.perf_counter() - t0)
    if loss_first is None:
        loss_first = loss_last
    s = sorted(times)
    return {
        "ms_per_step": 1e3 * statistics.median(s), "steps": len(s),
        "min_ms": 1e3 * s[0], "mean_ms": 1e3 * statistics.fmean(s),
        "p10_ms": 1e3 * s[int(round(0.1 * (len(s) - 1)))],
        "p90_ms": 1e3 * s[int(round(0.9 * (len(s) - 1)))],
        "warmup": args.warmup, "loss_first": loss_first, "loss_last": loss_last,
    }


def machine_fields(args, torch):
    """Threads, BLAS core and peak memory of this process."""
    blas_threads, core = openblas()
    return {
        "threads": args.threads, "blas_threads": args.blas_threads,
        "mode": f"omp{args.threads}-blas{args.blas_threads}",
        "torch_threads": torch.get_num_threads(), "openblas_threads": blas_threads,
        "openblas_core": core,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "torch": torch.__version__,
    }


def parser(doc):
    return argparse.ArgumentParser(description=doc.splitlines()[0])


def parse_cases(doc, workloads, warmup=5):
    """The arguments of a peer timing named workloads: the common options and
    --case NAME (repeatable, each one of `workloads`; none = all)."""
    p = parser(doc)
    add_common_args(p, warmup=warmup)
    p.add_argument("--case", action="append", default=None,
                   help="workload, repeatable (default: all of " + ", ".join(workloads) + ")")
    a = p.parse_args()
    for c in a.case or ():
        if c not in workloads:
            p.error(f"unknown workload {c!r}; known: {', '.join(workloads)}")
    return a
