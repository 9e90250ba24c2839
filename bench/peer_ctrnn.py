#!/usr/bin/python3
"""PyTorch peer for the reach CT-RNN training step (workload W1, reach-ctrnn).

Run with Debian's interpreter (/usr/bin/python3, python3-torch). The work per
step is the same as bench/bench_ctrnn.c:

    x_0 = 0,  phi(x) = tanh(x) for x > 0 else 0,  alpha = dt/tau = 1/5
    for t in 0..T-1:
        r_t     = phi(x_t)
        x_{t+1} = x_t + alpha (-x_t + J r_t + B u_t + b)
        z_t     = W phi(x_{t+1}) + c
    loss = mean_{t,batch,out} (z - y)^2 + 1e-3 * mean_{t,batch,i} phi(x_{t+1})^2

One timed step = zero_grad + forward over T + backward (BPTT) + Adam(lr 1e-3)
step over J, B, b, W, c + loss.item().

Variants
  loop      the tutorial's structure: a module called once per time step
            (recomputes phi(x_t), J r and B u as two matmuls + bias, readout
            and F.mse_loss per step).
  loop-opt  best-effort eager PyTorch: B u + b for all T in one GEMM, phi
            reused, lerp Euler update, one readout GEMM + loss on the stacked
            rates.

Threads: OMP_NUM_THREADS / MKL_NUM_THREADS / OPENBLAS_NUM_THREADS are set from
--threads / --blas-threads before torch is imported (OpenBLAS sizes its pool
when it loads), then torch.set_num_threads(--threads).

Prints one JSON object per (config, variant). maxrss_mb is the process's peak
RSS so far (getrusage), so run one case per process for a clean figure.
"""
import argparse
import ctypes
import json
import os
import resource
import statistics
import sys
import time

CONFIGS = {"N150-B20": (150, 20), "N512-B64": (512, 64)}
VARIANTS = ("loop", "loop-opt")
N_IN, N_OUT, T = 16, 2, 250
ALPHA, LAM_RATE, LR, POOL = 1.0 / 5.0, 1e-3, 1e-3, 8


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads (default 1)")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="OpenBLAS threads (default: --threads)")
    p.add_argument("--case", action="append", default=None,
                   help="CONFIG or CONFIG/VARIANT, repeatable (default: all)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20, help="minimum timed steps")
    p.add_argument("--min-time", type=float, default=2.0, help="minimum timed seconds")
    p.add_argument("--max-steps", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.blas_threads is None:
        a.blas_threads = a.threads
    return a


args = parse()
# Must happen before torch (and with it OpenBLAS / libgomp) is loaded.
os.environ["OMP_NUM_THREADS"] = str(args.threads)
os.environ["MKL_NUM_THREADS"] = str(args.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)
assert "torch" not in sys.modules

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)


def openblas():
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_num_threads.restype = ctypes.c_int
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_num_threads(), lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None, None


def phi(x):
    return torch.where(x > 0, torch.tanh(x), torch.zeros((), dtype=x.dtype))


class ReachCTRNN(torch.nn.Module):
    """Sussillo et al. 2015 rate RNN; forward() advances ONE time step."""

    def __init__(self, n, g=1.5, h=1.0):
        super().__init__()
        self.J = torch.nn.Parameter(torch.randn(n, n) * (g / n ** 0.5))
        self.B = torch.nn.Parameter(torch.randn(n, N_IN) * (h / N_IN ** 0.5))
        self.b = torch.nn.Parameter(torch.zeros(n))
        self.out = torch.nn.Linear(n, N_OUT)  # W, c with PyTorch's default init

    def forward(self, x, u_t):
        r = phi(x)
        x = x + ALPHA * (-x + r @ self.J.T + u_t @ self.B.T + self.b)
        r_next = phi(x)
        return x, self.out(r_next), r_next


def loss_loop(net, u, y):
    batch, n = u.shape[0], net.J.shape[0]
    x = torch.zeros(batch, n)
    mse = 0.0
    rate_sq = 0.0
    for t in range(T):
        x, z, r = net(x, u[:, t])
        mse = mse + F.mse_loss(z, y[:, t])
        rate_sq = rate_sq + (r * r).sum()
    return mse / T + LAM_RATE * rate_sq / (T * batch * n)


def loss_loop_opt(net, u, y):
    batch, n = u.shape[0], net.J.shape[0]
    drive_in = torch.addmm(net.b, u.reshape(batch * T, N_IN), net.B.T).view(batch, T, n)
    drive_in = drive_in.unbind(1)  # per-step views without O(T^2) select backward
    jt = net.J.T
    x = torch.zeros(batch, n)
    r = torch.zeros(batch, n)
    rates = []
    for t in range(T):
        x = torch.lerp(x, torch.addmm(drive_in[t], r, jt), ALPHA)
        r = phi(x)
        rates.append(r)
    R = torch.stack(rates, 1)  # (batch, T, n)
    return F.mse_loss(net.out(R), y) + LAM_RATE * (R * R).mean()


def run_case(config, variant):
    n, batch = CONFIGS[config]
    torch.manual_seed(args.seed)
    net = ReachCTRNN(n)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    pool = [(0.5 * torch.randn(batch, T, N_IN), 0.5 * torch.randn(batch, T, N_OUT))
            for _ in range(POOL)]
    loss_fn = loss_loop if variant == "loop" else loss_loop_opt
    k = [0]

    def step():
        u, y = pool[k[0] % POOL]
        k[0] += 1
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net, u, y)
        loss.backward()
        opt.step()
        return loss.item()

    loss_first = None
    for _ in range(args.warmup):
        v = step()
        loss_first = v if loss_first is None else loss_first
    times = []
    loss_last = None
    t_start = time.perf_counter()
    while len(times) < args.steps or (time.perf_counter() - t_start < args.min_time
                                      and len(times) < args.max_steps):
        t0 = time.perf_counter()
        loss_last = step()
        times.append(time.perf_counter() - t0)
    if loss_first is None:
        loss_first = loss_last
    s = sorted(times)
    blas_threads, core = openblas()
    fwd = T * 2 * batch * (n * n + n * N_IN + N_OUT * n)
    rec = {
        "workload": "reach-ctrnn", "config": config, "impl": "pytorch", "variant": variant,
        "ms_per_step": 1e3 * statistics.median(s), "steps": len(s),
        "min_ms": 1e3 * s[0], "mean_ms": 1e3 * statistics.fmean(s),
        "p10_ms": 1e3 * s[int(round(0.1 * (len(s) - 1)))],
        "p90_ms": 1e3 * s[int(round(0.9 * (len(s) - 1)))],
        "warmup": args.warmup, "loss_first": loss_first, "loss_last": loss_last,
        "threads": args.threads, "blas_threads": args.blas_threads,
        "mode": f"omp{args.threads}-blas{args.blas_threads}",
        "torch_threads": torch.get_num_threads(), "openblas_threads": blas_threads,
        "openblas_core": core,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "shape": {"N": n, "batch": batch, "T": T, "n_in": N_IN, "n_out": N_OUT},
        "matmul_gflop_step": 3 * fwd / 1e9, "torch": torch.__version__,
    }
    print(json.dumps(rec), flush=True)


def wanted(config, variant):
    return not args.case or any(c in (config, f"{config}/{variant}") for c in args.case)


if args.case:
    for c in args.case:
        cfg, _, var = c.partition("/")
        if cfg not in CONFIGS or (var and var not in VARIANTS):
            sys.exit(f"unknown case {c!r}; configs {list(CONFIGS)}, variants {list(VARIANTS)}")
for config in CONFIGS:
    for variant in VARIANTS:
        if wanted(config, variant):
            run_case(config, variant)
