#!/usr/bin/python3
"""PyTorch reference for silico's light-GRU cell and ENU input stage.

Usage:  /usr/bin/python3 tests/ref/gen_lightgru.py OUTDIR

Writes OUTDIR/<case>/ (tests/golden/lightgru/<case>/ when committed):
  config.json                 N, n_in, B, T, training, k (ENU width, 0 = none),
                              momentum, eps
  U.npy                       the input (T, B, n_in), time-major
  W_z.npy W_h.npy U_z.npy U_h.npy bn_z.weight.npy bn_z.bias.npy
  bn_h.weight.npy bn_h.bias.npy            the parameters (PyTorch names)
  bn_z.running_mean.npy …     the running statistics before the forward
  <buffer>_after.npy          … and after it (updated in training mode)
  enu.weight.npy enu.bias.npy mask.npy      ENU cases: the stage and the
                              block-diagonal mask M (N × N·k) of W_z, W_h
  w.npy                       dL/dH: the loss is L = sum(w * H)
  H.npy                       hidden outputs (T, B, N)
  update_gate.npy candidate.npy            z_t and h~_t (T, B, N)
  loss.npy                    [L]
  grad_<param>.npy            dL/d<param> (W_z, W_h of the ENU cases are the
                              raw matrices W^ of W = W^ * M)
  dU.npy                      dL/dU

The model, written by hand in torch except for torch.nn.BatchNorm1d, which
supplies the batch norm (statistics over all T*B rows in training mode,
running ones in eval mode) and its running-statistic update:
  x  = U                                        (no ENU)
  x  = relu(U W_e^T + b_e),  W = W^ * M         (ENU: eqs. 15-17 of the coursework)
  a_z = BN_z(x W_z^T),  a_h = BN_h(x W_h^T)     over all T*B rows
  h_0 = 0;  z = sigmoid(a_z[t] + h U_z^T);  hc = relu(a_h[t] + h U_h^T)
  h = z * h + (1 - z) * hc
Everything is float64 from fixed numpy seeds (byte-identical run to run).
Draws are redone until no ReLU input is within 1e-3 of 0 (float32 safety).
"""
import json
import os
import sys

import numpy as np

try:
    import torch
    import torch.nn as nn
except ImportError:  # pragma: no cover
    sys.stderr.write("gen_lightgru.py: PyTorch is not importable by %s "
                     "(install Debian's python3-torch)\n" % sys.executable)
    sys.exit(2)

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

KINK_MARGIN = 1e-3
MOMENTUM, EPS = 0.1, 1e-5

PARAMS = ["W_z", "W_h", "U_z", "U_h", "bn_z.weight", "bn_z.bias", "bn_h.weight", "bn_h.bias"]
BUFFERS = ["bn_z.running_mean", "bn_z.running_var", "bn_h.running_mean", "bn_h.running_var"]

CASES = [
    dict(name="n1_train", seed=11, N=1, n_in=2, B=3, T=5, training=True, k=0),
    dict(name="small_train", seed=22, N=5, n_in=3, B=4, T=6, training=True, k=0),
    dict(name="small_eval", seed=33, N=5, n_in=3, B=4, T=6, training=False, k=0),
    dict(name="b1_train", seed=44, N=4, n_in=2, B=1, T=7, training=True, k=0),
    dict(name="wide_train", seed=55, N=40, n_in=7, B=6, T=10, training=True, k=0),
    dict(name="enu_train", seed=66, N=4, n_in=3, B=3, T=5, training=True, k=3),
    dict(name="enu_eval", seed=77, N=4, n_in=3, B=3, T=5, training=False, k=3),
]


def orthogonal(rng, n):
    a = rng.normal(0.0, 1.0, (n, n))
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diag(r))


def draw(case, attempt):
    rng = np.random.default_rng([case["seed"], attempt])
    N, ni, Bn, T, k = case["N"], case["n_in"], case["B"], case["T"], case["k"]
    cin = N * k if k else ni
    kx, kh = 1.0 / np.sqrt(cin), 1.0 / np.sqrt(N)
    p = {
        "W_z": rng.uniform(-kx, kx, (N, cin)),
        "W_h": rng.uniform(-kx, kx, (N, cin)),
        "U_z": orthogonal(rng, N),
        "U_h": rng.uniform(-kh, kh, (N, N)),
        "bn_z.weight": rng.uniform(0.5, 1.5, N),
        "bn_z.bias": rng.normal(0.0, 0.3, N),
        "bn_h.weight": rng.uniform(0.5, 1.5, N),
        "bn_h.bias": rng.normal(0.2, 0.3, N),
    }
    b = {
        "bn_z.running_mean": rng.normal(0.0, 0.3, N),
        "bn_z.running_var": rng.uniform(0.5, 2.0, N),
        "bn_h.running_mean": rng.normal(0.0, 0.3, N),
        "bn_h.running_var": rng.uniform(0.5, 2.0, N),
    }
    e = {}
    if k:
        ke = 1.0 / np.sqrt(ni)
        e["enu.weight"] = rng.uniform(-ke, ke, (N * k, ni))
        e["enu.bias"] = rng.uniform(-ke, ke, N * k) + 0.2
        m = np.zeros((N, N * k))
        for i in range(N):
            m[i, i * k:(i + 1) * k] = 1.0
        e["mask"] = m
    U = rng.normal(0.0, 1.0, (T, Bn, ni))
    w = rng.normal(0.0, 1.0, (T, Bn, N))
    return p, b, e, U, w


def run(case, p, b, e, U, w):
    N, Bn, T, k = case["N"], case["B"], case["T"], case["k"]
    P = {n: torch.tensor(v, requires_grad=True) for n, v in p.items()}
    E = {n: torch.tensor(v, requires_grad=(n != "mask")) for n, v in e.items()}
    Ut = torch.tensor(U, requires_grad=True)
    bns = {}
    for part in ("z", "h"):
        bn = nn.BatchNorm1d(N, eps=EPS, momentum=MOMENTUM)
        with torch.no_grad():
            bn.weight.copy_(P["bn_%s.weight" % part])
            bn.bias.copy_(P["bn_%s.bias" % part])
            bn.running_mean.copy_(torch.tensor(b["bn_%s.running_mean" % part]))
            bn.running_var.copy_(torch.tensor(b["bn_%s.running_var" % part]))
        bn.train(case["training"])
        bns[part] = bn
    R = T * Bn
    x = Ut.reshape(R, -1)
    min_pre = np.inf
    Wz, Wh = P["W_z"], P["W_h"]
    if k:
        pre_e = x @ E["enu.weight"].T + E["enu.bias"]
        min_pre = min(min_pre, float(pre_e.abs().min()))
        x = torch.relu(pre_e)
        Wz, Wh = Wz * E["mask"], Wh * E["mask"]
    az = bns["z"](x @ Wz.T).view(T, Bn, N)
    ah = bns["h"](x @ Wh.T).view(T, Bn, N)
    h = torch.zeros(Bn, N)
    hs, zs, hcs = [], [], []
    for t in range(T):
        z = torch.sigmoid(az[t] + h @ P["U_z"].T)
        ph = ah[t] + h @ P["U_h"].T
        min_pre = min(min_pre, float(ph.abs().min()))
        hc = torch.relu(ph)
        h = z * h + (1.0 - z) * hc
        hs.append(h)
        zs.append(z)
        hcs.append(hc)
    H = torch.stack(hs)
    L = (torch.tensor(w) * H).sum()
    # gradients w.r.t. the module's gamma/beta: BatchNorm1d holds copies, so
    # differentiate through them and read their .grad
    L.backward()
    out = {"H": H, "update_gate": torch.stack(zs), "candidate": torch.stack(hcs)}
    grads = {}
    for n in ("W_z", "W_h", "U_z", "U_h"):
        grads[n] = P[n].grad
    for part in ("z", "h"):
        grads["bn_%s.weight" % part] = bns[part].weight.grad
        grads["bn_%s.bias" % part] = bns[part].bias.grad
    for n in ("enu.weight", "enu.bias"):
        if n in E:
            grads[n] = E[n].grad
    after = {}
    for part in ("z", "h"):
        after["bn_%s.running_mean" % part] = bns[part].running_mean
        after["bn_%s.running_var" % part] = bns[part].running_var
    return out, float(L), grads, Ut.grad, after, min_pre


def save(path, a):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    np.save(path, a, allow_pickle=False)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen_lightgru.py OUTDIR\n")
        sys.exit(2)
    root = sys.argv[1]
    for case in CASES:
        for attempt in range(100):
            p, b, e, U, w = draw(case, attempt)
            out, L, grads, dU, after, min_pre = run(case, p, b, e, U, w)
            if min_pre >= KINK_MARGIN:
                break
        else:
            raise SystemExit("%s: no draw keeps ReLU inputs away from 0" % case["name"])
        d = os.path.join(root, case["name"])
        os.makedirs(d, exist_ok=True)
        cfg = dict(N=case["N"], n_in=case["n_in"], B=case["B"], T=case["T"],
                   training=int(case["training"]), k=case["k"], momentum=MOMENTUM, eps=EPS)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1, sort_keys=True)
        save(os.path.join(d, "U.npy"), U)
        save(os.path.join(d, "w.npy"), w)
        for n, v in list(p.items()) + list(b.items()) + list(e.items()):
            save(os.path.join(d, n + ".npy"), v)
        for n, v in after.items():
            save(os.path.join(d, n + "_after.npy"), v.detach().numpy())
        for n, v in out.items():
            save(os.path.join(d, n + ".npy"), v.detach().numpy())
        save(os.path.join(d, "loss.npy"), [L])
        for n, v in grads.items():
            save(os.path.join(d, "grad_" + n + ".npy"), v.numpy())
        save(os.path.join(d, "dU.npy"), dU.numpy())


if __name__ == "__main__":
    main()
