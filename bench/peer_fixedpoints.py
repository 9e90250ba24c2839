#!/usr/bin/python3
"""PyTorch peer for the fixed-point pipeline (issue 5's benchmark, workload fixedpoints-N150-K1024).

FixedPointFinder's Torch pipeline (Golub & Sussillo 2018; REFERENCE.md §3) on
the W5 network of /work/shared/bench/README.md, written as its users run it.
The network, N = 150, float32 (the peer's default dtype, as FixedPointFinder's):

    F(x) = J tanh(x) + b     (the CT-RNN with tau = dt: x − F(x) = −ẋ)
    q_k  = ½‖x_k − F(x_k)‖²

J (N×N), b (N) and the 1024 initial states X0 come from the directory given
by --net (J.npy, b.npy, x0.npy, written by `build/bench_fixedpoints --write-net
DIR`: J ~ N(0, 1.5²/N), b ~ N(0, 0.1²), X0 = states after 300 Euler steps
(dt/τ = 0.1) from N(0, 1) plus N(0, 0.1²) noise), so both sides solve the same
problem. Not timed: loading them.

Timed, the whole pipeline:
  1. joint search: Adam(lr 1.0) on X with loss mean_k q_k,
     ReduceLROnPlateau(factor 0.95, patience 2) stepped on it (FixedPointFinder's
     hard-coded Torch scheduler); stop when every point has q < --tol-q (1e-10)
     or |q − q_prev| < --tol-dq · lr (FixedPointFinder's rule, default 1e-20),
     or after --max-iters (5000, FixedPointFinder's default);
  2. deduplicate (tol_unique 1e-3: greedy groups within 2-norm distance, keep the
     smallest q) and drop distance outliers (‖x* − c‖ / mean ‖x0 − c‖ ≥ 10);
  3. Jacobians of the unique points, −I + J diag(1 − tanh²(x*)) (continuous
     time), and their eigenvalues (torch.linalg.eigvals, float32).
One timed run = steps 1–3 from the same X0; --repeat runs (default 1), the
median is ms_per_step. Prints one JSON line: n_unique (after dedup and
outliers), n_fixed (unique with q < tol_q), iterations, search_s, eig_s, cpu_s
(the run's CPU time: on a loaded machine a steadier figure than wall time), ...
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402


def parse():
    p = peer_common.parser(__doc__)
    p.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads (default 1)")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="OpenBLAS threads (default: --threads)")
    p.add_argument("--net", required=True, help="directory with J.npy, b.npy, x0.npy")
    p.add_argument("--repeat", type=int, default=1, help="timed runs of the whole pipeline")
    p.add_argument("--max-iters", type=int, default=5000)
    p.add_argument("--tol-q", type=float, default=1e-10)
    p.add_argument("--tol-dq", type=float, default=1e-20)
    p.add_argument("--tol-unique", type=float, default=1e-3)
    return p.parse_args()


args = parse()
peer_common.set_threads(args)

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(args.threads)
J = torch.from_numpy(np.load(os.path.join(args.net, "J.npy")).astype(np.float32))
b = torch.from_numpy(np.load(os.path.join(args.net, "b.npy")).astype(np.float32))
X0 = torch.from_numpy(np.load(os.path.join(args.net, "x0.npy")).astype(np.float32))
K, N = X0.shape
Jt = J.t().contiguous()


def step_map(x):
    return torch.addmm(b, torch.tanh(x), Jt)


def search(x0):
    """FixedPointFinderTorch._run_joint_optimization"""
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.95, patience=2,
                                                       cooldown=0)
    q_prev = torch.full((K,), float("nan"))
    it = 1
    while True:
        opt.zero_grad()
        q = 0.5 * (step_map(x) - x).pow(2).sum(1)
        q_scalar = q.mean()
        q_scalar.backward()
        opt.step()
        sched.step(q_scalar)
        lr = opt.param_groups[0]["lr"]
        qd = q.detach()
        dq = (qd - q_prev).abs()
        if it > 1 and bool(((qd < args.tol_q) | (dq < args.tol_dq * lr)).all()):
            break
        if it + 1 > args.max_iters:
            break
        q_prev = qd
        it += 1
    xs = x.detach()
    with torch.no_grad():
        q = 0.5 * (step_map(xs) - xs).pow(2).sum(1)
    return xs, q, it


def unique(xs, q, tol):
    """FixedPoints.get_unique: for each not-yet-grouped point, all points within tol
    form a group; keep the member with the smallest q"""
    # exact distances: cdist's default matrix-product form loses ~1e-3 in float32 here
    d = torch.cdist(xs, xs, compute_mode="donot_use_mm_for_euclid_dist")
    free = torch.ones(len(xs), dtype=torch.bool)
    keep = []
    for i in range(len(xs)):
        if not free[i]:
            continue
        near = d[i] <= tol
        near[i] = True
        grp = torch.nonzero(near & free).flatten()
        keep.append(int(grp[torch.argmin(q[grp])]))
        free[grp] = False
    return torch.tensor(sorted(keep), dtype=torch.long)


def pipeline():
    c0 = time.process_time()
    t0 = time.perf_counter()
    xs, q, iters = search(X0)
    t1 = time.perf_counter()
    idx = unique(xs, q, args.tol_unique)
    c = X0.mean(0)
    dbar = (X0 - c).norm(dim=1).mean()
    idx = idx[(xs[idx] - c).norm(dim=1) / dbar < 10]
    xu, qu = xs[idx], q[idx]
    t2 = time.perf_counter()
    with torch.no_grad():
        d = 1 - torch.tanh(xu).pow(2)
        jac = J.unsqueeze(0) * d.unsqueeze(1) - torch.eye(N)
        ev = torch.linalg.eigvals(jac)
    t3 = time.perf_counter()
    n_stable = int((ev.real.max(1).values < 0).sum()) if len(idx) else 0
    return {"total": t3 - t0, "cpu_s": time.process_time() - c0, "search_s": t1 - t0, "unique_s": t2 - t1, "eig_s": t3 - t2,
            "iterations": iters, "n_unique": len(idx), "n_fixed": int((qu < args.tol_q).sum()),
            "n_stable": n_stable, "q_max": float(q.max()), "q_median": float(q.median()),
            "n_q_below_tol": int((q < args.tol_q).sum())}


runs = [pipeline() for _ in range(args.repeat)]
tot = sorted(r["total"] for r in runs)
last = runs[-1]
rec = {"workload": "fixedpoints-N150-K1024", "config": "N150-K1024", "impl": "pytorch",
       "variant": "fpf-adam-joint", "ms_per_step": 1e3 * tot[len(tot) // 2], "steps": len(tot),
       "min_ms": 1e3 * tot[0], "loss_first": None, "loss_last": last["q_max"]}
rec.update(last)
rec.update(peer_common.machine_fields(args, torch))
print(json.dumps(rec), flush=True)
