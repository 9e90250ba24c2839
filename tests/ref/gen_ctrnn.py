#!/usr/bin/python3
"""PyTorch reference for silico's continuous-time RNN (golden tensors).

Usage:  /usr/bin/python3 tests/ref/gen_ctrnn.py OUTDIR

Writes OUTDIR/ctrnn_<case>/ for each case below:
  config.json            sizes, activation, tau/dt, loss and Adam settings
  u.npy y.npy mask.npy   the batch (B,T,n_in) / (B,T,n_out) / (B,T,n_out)
  J.npy B.npy b.npy W.npy c.npy [x0.npy]   the parameters
  z.npy                  outputs (B,T,n_out) of the deterministic forward
  loss.npy               [total, mse, weight_l2, rate]
  grad_<name>.npy        dLoss/d<name> for every parameter
  adam_losses.npy        total loss before each of the Adam steps (10)
  <name>_after10.npy     parameters after the Adam steps

Everything is float64, computed independently of the C code in PyTorch with
autograd, from fixed numpy seeds: the output is byte-identical run to run.

The model (the exact maths the C implementation must reproduce):
  alpha = dt / tau
  x_0 = x0 (learned, tiled over the batch) or 0
  x_{t+1} = x_t + alpha * (-x_t + J phi(x_t) + B u_t + b)
  z_t     = W phi(x_{t+1}) + c                                  t = 0..T-1
  L = sum(mask (z-y)^2)/sum(mask) + l2_weight * sum_{M in l2_on} sum(M^2)
      + l2_rate * mean_{b, t=1..T, i} phi(x_t)^2
Adam = torch.optim.Adam (no weight decay); optional clip_grad_norm_ over all
parameters before each step.
"""
import json
import os
import sys

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.stderr.write("gen_ctrnn.py: PyTorch is not importable by %s "
                     "(install Debian's python3-torch)\n" % sys.executable)
    sys.exit(2)

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

ADAM_STEPS = 10
KINK_MARGIN = 1e-3  # rect_tanh/relu: no state this close to 0 (float32 safety)

ACTS = {
    "rect_tanh": lambda x: torch.where(x > 0, torch.tanh(x), torch.zeros_like(x)),
    "tanh": torch.tanh,
    "relu": torch.relu,
    "softplus": F.softplus,
    "sigmoid": torch.sigmoid,
}

PARAM_ORDER = ["J", "B", "b", "W", "c", "x0"]

# name, seed, N, n_in, n_out, B, T, act, tau, dt, learn_x0, l2_weight, l2_on,
# l2_rate, lr, clip, masked
CASES = [
    dict(name="n1", seed=101, N=1, n_in=1, n_out=1, B=2, T=5, act="rect_tanh",
         tau=50.0, dt=10.0, learn_x0=False, l2_weight=0.0, l2_on=[], l2_rate=0.0,
         lr=1e-2, clip=0.0, masked=False, b_mean=0.5),
    dict(name="small_recttanh", seed=202, N=8, n_in=3, n_out=2, B=3, T=9,
         act="rect_tanh", tau=50.0, dt=10.0, learn_x0=True, l2_weight=1e-2,
         l2_on=["B", "W"], l2_rate=1e-2, lr=5e-3, clip=0.0, masked=True,
         b_mean=0.3),
    dict(name="small_tanh_clip", seed=303, N=8, n_in=3, n_out=2, B=3, T=9,
         act="tanh", tau=50.0, dt=10.0, learn_x0=True, l2_weight=1e-2,
         l2_on=["J", "B", "W"], l2_rate=1e-2, lr=5e-3, clip=0.5, masked=True,
         b_mean=0.0, y_scale=2.0),
    dict(name="small_relu", seed=404, N=6, n_in=2, n_out=2, B=2, T=8, act="relu",
         tau=30.0, dt=7.0, learn_x0=False, l2_weight=1e-3, l2_on=["J"],
         l2_rate=1e-3, lr=5e-3, clip=0.0, masked=True, b_mean=0.2),
    dict(name="small_softplus", seed=505, N=5, n_in=2, n_out=3, B=2, T=7,
         act="softplus", tau=50.0, dt=10.0, learn_x0=True, l2_weight=1e-3,
         l2_on=["W"], l2_rate=1e-2, lr=5e-3, clip=0.0, masked=False, b_mean=0.0),
    dict(name="small_sigmoid", seed=606, N=5, n_in=2, n_out=1, B=3, T=6,
         act="sigmoid", tau=50.0, dt=10.0, learn_x0=False, l2_weight=1e-2,
         l2_on=["J", "W"], l2_rate=1e-2, lr=5e-3, clip=0.0, masked=True,
         b_mean=0.0),
]


def draw(case, attempt):
    """Parameters and batch (numpy float64) for a case, from its seed."""
    rng = np.random.default_rng([case["seed"], attempt])
    N, ni, no, Bn, T = case["N"], case["n_in"], case["n_out"], case["B"], case["T"]
    g = 1.2
    p = {
        "J": rng.normal(0.0, g / np.sqrt(N), (N, N)),
        "B": rng.normal(0.0, 1.0 / np.sqrt(ni), (N, ni)),
        "b": case["b_mean"] + 0.2 * rng.normal(0.0, 1.0, N),
        "W": rng.uniform(-1.0 / np.sqrt(N), 1.0 / np.sqrt(N), (no, N)),
        "c": rng.uniform(-0.2, 0.2, no),
    }
    if case["learn_x0"]:
        x0 = rng.normal(0.0, 0.5, N)
        if case["act"] in ("rect_tanh", "relu"):
            x0 = np.abs(x0) + 0.1  # active, away from the kink
        p["x0"] = x0
    u = rng.normal(0.0, 1.0, (Bn, T, ni))
    y = rng.normal(0.0, case.get("y_scale", 0.5), (Bn, T, no))
    if case["masked"]:
        mask = (rng.uniform(0.0, 1.0, (Bn, T, no)) > 0.3).astype(np.float64)
        mask[0, 0, 0] = 1.0  # never all zero
        mask[:, 0, :] = 0.0  # a fully masked step, like a task's first ms
    else:
        mask = np.ones((Bn, T, no))
    return p, u, y, mask


def forward(case, P, u):
    """Returns z (B,T,n_out), states x_1..x_T (B,T,N) and x_0 (B,N)."""
    phi = ACTS[case["act"]]
    alpha = case["dt"] / case["tau"]
    Bn, T = u.shape[0], u.shape[1]
    N = case["N"]
    if "x0" in P:
        x = P["x0"].unsqueeze(0).expand(Bn, N)
    else:
        x = torch.zeros(Bn, N)
    x_init = x
    xs, zs = [], []
    for t in range(T):
        x = x + alpha * (-x + phi(x) @ P["J"].T + u[:, t, :] @ P["B"].T + P["b"])
        xs.append(x)
        zs.append(phi(x) @ P["W"].T + P["c"])
    return torch.stack(zs, 1), torch.stack(xs, 1), x_init


def loss_terms(case, P, u, y, mask):
    phi = ACTS[case["act"]]
    z, xs, x_init = forward(case, P, u)
    mse = (mask * (z - y) ** 2).sum() / mask.sum()
    wl2 = torch.zeros(())
    for name in case["l2_on"]:
        wl2 = wl2 + (P[name] ** 2).sum()
    wl2 = case["l2_weight"] * wl2
    rate = case["l2_rate"] * (phi(xs) ** 2).mean()
    total = mse + wl2 + rate
    return total, mse, wl2, rate, z, xs, x_init


def min_abs_state(xs, x_init, learn_x0):
    m = xs.abs().min().item()
    if learn_x0:
        m = min(m, x_init.abs().min().item())
    return m


def run_case(case):
    kinked = case["act"] in ("rect_tanh", "relu")
    for attempt in range(100):
        p, u_np, y_np, mask_np = draw(case, attempt)
        u, y, mask = (torch.tensor(a) for a in (u_np, y_np, mask_np))
        names = [n for n in PARAM_ORDER if n in p]
        P = {n: torch.tensor(p[n], requires_grad=True) for n in names}

        total, mse, wl2, rate, z, xs, x_init = loss_terms(case, P, u, y, mask)
        total.backward()
        grads = {n: P[n].grad.detach().clone() for n in names}
        margin = min_abs_state(xs, x_init, case["learn_x0"])
        loss0 = [total.item(), mse.item(), wl2.item(), rate.item()]
        z0 = z.detach().clone()

        # Adam from the same weights
        Q = {n: torch.tensor(p[n], requires_grad=True) for n in names}
        opt = torch.optim.Adam([Q[n] for n in names], lr=case["lr"],
                               betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                               foreach=False)
        adam_losses = []
        for _ in range(ADAM_STEPS):
            opt.zero_grad()
            tl, _, _, _, _, xs_s, x_init_s = loss_terms(case, Q, u, y, mask)
            margin = min(margin, min_abs_state(xs_s, x_init_s, case["learn_x0"]))
            adam_losses.append(tl.item())
            tl.backward()
            if case["clip"] > 0:
                norm = torch.nn.utils.clip_grad_norm_([Q[n] for n in names],
                                                      case["clip"])
                assert norm.item() > case["clip"], \
                    "%s: clipping should be active" % case["name"]
            opt.step()
        if kinked and margin < KINK_MARGIN:
            continue  # a state too near the kink: draw again (deterministic)
        after = {n: Q[n].detach().clone() for n in names}
        return dict(names=names, p=p, u=u_np, y=y_np, mask=mask_np, z=z0,
                    loss=loss0, grads=grads, adam_losses=adam_losses,
                    after=after, attempt=attempt, margin=margin)
    raise RuntimeError("%s: no draw keeps states away from 0" % case["name"])


def save(path, a):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    np.save(path, a, allow_pickle=False)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen_ctrnn.py OUTDIR\n")
        return 2
    outdir = sys.argv[1]
    for case in CASES:
        r = run_case(case)
        d = os.path.join(outdir, "ctrnn_" + case["name"])
        os.makedirs(d, exist_ok=True)
        cfg = {
            "N": case["N"], "n_in": case["n_in"], "n_out": case["n_out"],
            "B": case["B"], "T": case["T"], "act": case["act"],
            "tau": case["tau"], "dt": case["dt"],
            "learn_x0": bool(case["learn_x0"]),
            "l2_weight": case["l2_weight"], "l2_on": list(case["l2_on"]),
            "l2_rate": case["l2_rate"], "lr": case["lr"], "clip": case["clip"],
            "adam_steps": ADAM_STEPS, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
            "params": r["names"],
        }
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1, sort_keys=True)
            f.write("\n")
        save(os.path.join(d, "u.npy"), r["u"])
        save(os.path.join(d, "y.npy"), r["y"])
        save(os.path.join(d, "mask.npy"), r["mask"])
        for n in r["names"]:
            save(os.path.join(d, n + ".npy"), r["p"][n])
            save(os.path.join(d, "grad_" + n + ".npy"), r["grads"][n].numpy())
            save(os.path.join(d, n + "_after10.npy"), r["after"][n].numpy())
        save(os.path.join(d, "z.npy"), r["z"].numpy())
        save(os.path.join(d, "loss.npy"), r["loss"])
        save(os.path.join(d, "adam_losses.npy"), r["adam_losses"])
        print("ctrnn_%-16s loss %.6f  (draw %d, min|x| %.3g)"
              % (case["name"], r["loss"][0], r["attempt"], r["margin"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
