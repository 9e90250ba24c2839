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
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

CONFIGS = {"N150-B20": (150, 20), "N512-B64": (512, 64)}
VARIANTS = ("loop", "loop-opt")
N_IN, N_OUT, T = 16, 2, 250
ALPHA, LAM_RATE, LR, POOL = 1.0 / 5.0, 1e-3, 1e-3, 8


def parse():
    p = peer_common.parser(__doc__)
    peer_common.add_common_args(p, warmup=3)
    p.add_argument("--case", action="append", default=None,
                   help="CONFIG or CONFIG/VARIANT, repeatable (default: all)")
    a = p.parse_args()
    return a


args = parse()
peer_common.set_threads(args)  # before torch (and with it OpenBLAS / libgomp) loads

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)


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

    timing = peer_common.time_steps(step, args)
    fwd = T * 2 * batch * (n * n + n * N_IN + N_OUT * n)
    rec = {
        "workload": "reach-ctrnn", "config": config, "impl": "pytorch", "variant": variant,
        **timing, **peer_common.machine_fields(args, torch),
        "shape": {"N": n, "batch": batch, "T": T, "n_in": N_IN, "n_out": N_OUT},
        "matmul_gflop_step": 3 * fwd / 1e9,
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
