#!/usr/bin/python3
"""PyTorch reference for silico's recurrent-matrix constraints (golden tensors):
Dale's law by reparameterisation and a fixed connectivity mask, through the
whole model (cell + linear readout + task loss) as sl_model_loss runs it.

Usage:  /usr/bin/python3 tests/ref/gen_constraints.py OUTDIR

Writes OUTDIR/<case>/ (tests/golden/constraints/<case>/ when committed):
  config.json        cell ("rnn", "lightgru", "ctrnn"), act, N, n_in, n_out, B,
                     T, dale ("off", "reparam"), exc_fraction, no_autapses,
                     rec_mask (1 = mask.npy is the connectivity mask), loss
                     ("mse", "ce"), params (the free parameters, in order);
                     ctrnn also tau, dt (ms) and form ("current", "rate")
  u.npy              inputs (B, T, n_in), batch-major as sl_batch.u
  <param>.npy        the free parameters as silico stores them (for the
                     constrained matrix: the raw R, signed, with nonzero
                     diagonal and masked entries, so the forward must mask)
  mask.npy           rec_mask cases: the N x N 0/1 connectivity mask
  y.npy              mse cases: targets (B, T, n_out)
  labels.npy         ce cases: class indices (B, T), stored as float64
  loss_mask.npy      the loss mask (mse: B, T, n_out; ce: B, T)
  z.npy              outputs z (B, T, n_out)
  loss.npy           [L]
  grad_<param>.npy   dL/d<param> for every free parameter

DANN (ctrnn, dale "dann"): J_eff = J - J_EI J_IE with J (= J_EE), J_IE, J_EI >= 0
as free parameters (n_i = max(1, round(N (1 - f) / f)) interneurons).
The effective recurrent matrix is built as src/nn/model.c documents it, with
columns = presynaptic units, sign_j = +1 for j < floor(f*N), -1 after, and
M = connectivity mask (or 1) with the diagonal zeroed when no_autapses:
  dale reparam   R_eff = |R * M| diag(sign)
  dale off       R_eff = R * M
and torch autograd supplies every gradient. The cells, h_0 = 0:
  rnn       h = tanh(x W_ih^T + b_ih + h R_eff^T + b_hh),  R = weight_hh
  lightgru  a_z = BN_z(x W_z^T), a_h = BN_h(x W_h^T)  (training mode: batch
            statistics over all T*B rows, biased variance, eps 1e-5)
            z = sigmoid(a_z + h U_z^T); hc = relu(a_h + h R_eff^T), R = U_h
            h = z * h + (1 - z) * hc
  ctrnn     (alpha = dt/tau, R = J, x_0 = r_0 = 0)
            current: x <- x + alpha(-x + phi(x) R_eff^T + u B^T + b), h = phi(x)
            rate:    h <- (1 - alpha) h + alpha phi(h R_eff^T + u B^T + b)
            (Yang et al. 2019's LeakyRNN: r integrated)
  readout   z_t = W h_t + c
Loss: mse = sum m (z - y)^2 / sum m; ce = sum m (logsumexp(z) - z_y) / sum m.
Float64 from fixed numpy seeds; draws are redone until no ReLU input and no
unmasked |R| entry is within 1e-3 of 0 (float32 safety at the kinks).
"""
import json
import math
import os
import sys

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.stderr.write("gen_constraints.py: PyTorch is not importable by %s "
                     "(install Debian's python3-torch)\n" % sys.executable)
    sys.exit(2)

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

KINK_MARGIN = 1e-3
EPS = 1e-5

CASES = [
    dict(name="rnn_dale_noautapse", cell="rnn", N=8, n_in=3, n_out=2, B=3, T=6,
         dale="reparam", exc_fraction=0.75, no_autapses=1, rec_mask=0, loss="mse", seed=101),
    dict(name="lightgru_dale", cell="lightgru", N=5, n_in=3, n_out=3, B=4, T=5,
         dale="reparam", exc_fraction=0.8, no_autapses=0, rec_mask=0, loss="ce", seed=102),
    dict(name="rnn_mask", cell="rnn", N=6, n_in=2, n_out=2, B=2, T=7,
         dale="off", exc_fraction=0.0, no_autapses=0, rec_mask=1, loss="mse", seed=103),
    dict(name="ctrnn_dale_noautapse", cell="ctrnn", N=8, n_in=3, n_out=2, B=3, T=9,
         dale="reparam", exc_fraction=0.75, no_autapses=1, rec_mask=0, loss="mse", seed=104,
         act="tanh", form="current", tau=50.0, dt=20.0),
    dict(name="ctrnn_rate", cell="ctrnn", N=7, n_in=3, n_out=3, B=4, T=8,
         dale="off", exc_fraction=0.0, no_autapses=0, rec_mask=0, loss="ce", seed=105,
         act="softplus", form="rate", tau=100.0, dt=20.0),
    dict(name="ctrnn_rate_dale_mask", cell="ctrnn", N=6, n_in=2, n_out=2, B=3, T=7,
         dale="reparam", exc_fraction=0.5, no_autapses=0, rec_mask=1, loss="mse", seed=106,
         act="tanh", form="rate", tau=50.0, dt=10.0),
    dict(name="ctrnn_dann", cell="ctrnn", N=8, n_in=3, n_out=2, B=3, T=8,
         dale="dann", exc_fraction=0.75, no_autapses=0, rec_mask=0, loss="ce", seed=107,
         act="tanh", form="current", tau=50.0, dt=20.0),
]

PARAMS = {
    "rnn": ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "W", "c"],
    "lightgru": ["W_z", "W_h", "U_z", "U_h", "bn_z.weight", "bn_z.bias",
                 "bn_h.weight", "bn_h.bias", "W", "c"],
    "ctrnn": ["J", "B", "b", "W", "c"],
}
REC = {"rnn": "weight_hh", "lightgru": "U_h", "ctrnn": "J"}


def params_of(case):
    return PARAMS[case["cell"]] + (["J_IE", "J_EI"] if case["dale"] == "dann" else [])


def n_inhibitory(case):
    """DANN interneurons: max(1, round(N (1 - f) / f)), as src/nn/ctrnn.c"""
    f = case["exc_fraction"]
    return max(1, int(math.floor(case["N"] * (1 - f) / f + 0.5)))
PHI = {"tanh": torch.tanh, "softplus": F.softplus}


def draw(case, attempt):
    rng = np.random.default_rng(case["seed"] * 1000 + attempt)
    N, ni, no, B, T = (case[k] for k in ("N", "n_in", "n_out", "B", "T"))
    s = 1.0 / math.sqrt(N)
    un = lambda *shape: rng.uniform(-s, s, size=shape)
    if case["cell"] == "rnn":
        p = dict(weight_ih=un(N, ni), weight_hh=un(N, N) * 1.5, bias_ih=un(N), bias_hh=un(N))
    elif case["cell"] == "ctrnn":
        p = dict(J=rng.standard_normal((N, N)) * 1.5 / math.sqrt(N),
                 B=rng.standard_normal((N, ni)) / math.sqrt(ni), b=un(N))
        if case["dale"] == "dann":  # J = J_EE, J_IE, J_EI >= 0
            k = n_inhibitory(case)
            p["J"] = np.abs(p["J"])
            p["J_IE"] = np.abs(rng.standard_normal((k, N))) / math.sqrt(N)
            p["J_EI"] = np.abs(rng.standard_normal((N, k))) / math.sqrt(k)
    else:
        p = {"W_z": un(N, ni), "W_h": un(N, ni), "U_z": un(N, N), "U_h": un(N, N) * 1.5,
             "bn_z.weight": rng.uniform(0.5, 1.5, N), "bn_z.bias": rng.uniform(-0.3, 0.3, N),
             "bn_h.weight": rng.uniform(0.5, 1.5, N), "bn_h.bias": rng.uniform(-0.3, 0.3, N)}
    p["W"] = un(no, N)
    p["c"] = un(no)
    d = dict(p=p, u=rng.standard_normal((B, T, ni)))
    M = np.ones((N, N))
    if case["rec_mask"]:
        M = (rng.uniform(size=(N, N)) < 0.5).astype(np.float64)
        d["mask"] = M.copy()
    if case["no_autapses"]:
        np.fill_diagonal(M, 0.0)
    d["M"] = M
    if case["loss"] == "mse":
        d["y"] = rng.standard_normal((B, T, no))
        d["lmask"] = (rng.uniform(size=(B, T, no)) < 0.8).astype(np.float64)
        d["lmask"][0, 0, 0] = 1.0
    else:
        d["labels"] = rng.integers(0, no, size=(B, T)).astype(np.float64)
        d["lmask"] = (rng.uniform(size=(B, T)) < 0.7).astype(np.float64)
        d["lmask"][0, 0] = 1.0
    return d


def signs(case):
    N = case["N"]
    ne = int(math.floor(case["exc_fraction"] * N))
    return torch.tensor([1.0 if j < ne else -1.0 for j in range(N)])


def forward(case, P, d):
    """(loss, z (B,T,n_out), min |ReLU input|)"""
    N, B, T = case["N"], case["B"], case["T"]
    M = torch.tensor(d["M"])
    R = P[REC[case["cell"]]]
    if case["dale"] == "reparam":
        Reff = (R * M).abs() * signs(case)[None, :]
    elif case["dale"] == "dann":  # Cornford 2021: J_eff = J_EE - J_EI J_IE
        Reff = R - P["J_EI"] @ P["J_IE"]
    else:
        Reff = R * M
    x = torch.tensor(d["u"]).transpose(0, 1)  # (T, B, n_in)
    h = torch.zeros(B, N)
    hs = []
    kink = float("inf")
    if case["cell"] == "lightgru":
        def bn(a, g, b):
            a2 = a.reshape(T * B, N)
            mu = a2.mean(0)
            var = ((a2 - mu) ** 2).mean(0)
            return ((a2 - mu) / torch.sqrt(var + EPS) * g + b).reshape(T, B, N)
        az = bn(x @ P["W_z"].T, P["bn_z.weight"], P["bn_z.bias"])
        ah = bn(x @ P["W_h"].T, P["bn_h.weight"], P["bn_h.bias"])
    if case["cell"] == "ctrnn":
        alpha = case["dt"] / case["tau"]
        phi = PHI[case["act"]]
        xs = torch.zeros(B, N)
    for t in range(T):
        if case["cell"] == "ctrnn" and case["form"] == "current":
            xs = xs + alpha * (-xs + phi(xs) @ Reff.T + x[t] @ P["B"].T + P["b"])
            h = phi(xs)
        elif case["cell"] == "ctrnn":
            h = (1 - alpha) * h + alpha * phi(h @ Reff.T + x[t] @ P["B"].T + P["b"])
        elif case["cell"] == "rnn":
            h = torch.tanh(x[t] @ P["weight_ih"].T + P["bias_ih"] + h @ Reff.T + P["bias_hh"])
        else:
            z = torch.sigmoid(az[t] + h @ P["U_z"].T)
            ph = ah[t] + h @ Reff.T
            kink = min(kink, ph.detach().abs().min().item())
            h = z * h + (1 - z) * torch.relu(ph)
        hs.append(h)
    H = torch.stack(hs).transpose(0, 1)  # (B, T, N)
    Z = H @ P["W"].T + P["c"]
    m = torch.tensor(d["lmask"])
    if case["loss"] == "mse":
        L = (m * (Z - torch.tensor(d["y"])) ** 2).sum() / m.sum()
    else:
        lab = torch.tensor(d["labels"]).long()
        nll = torch.logsumexp(Z, -1) - Z.gather(-1, lab[..., None])[..., 0]
        L = (m * nll).sum() / m.sum()
    return L, Z, kink


def run_case(case):
    for attempt in range(100):
        d = draw(case, attempt)
        R = d["p"][REC[case["cell"]]]
        if case["dale"] == "reparam" and np.abs(R[d["M"] != 0]).min() < KINK_MARGIN:
            continue
        P = {k: torch.tensor(v, requires_grad=True) for k, v in d["p"].items()}
        L, Z, kink = forward(case, P, d)
        if kink < KINK_MARGIN:
            continue
        L.backward()
        d.update(L=L.item(), z=Z.detach().numpy(), attempt=attempt,
                 grads={k: P[k].grad.numpy().copy() for k in params_of(case)})
        return d
    raise RuntimeError("%s: no draw keeps the kinks away from 0" % case["name"])


def save(path, a):
    np.save(path, np.ascontiguousarray(np.asarray(a, dtype=np.float64)), allow_pickle=False)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen_constraints.py OUTDIR\n")
        return 2
    for case in CASES:
        r = run_case(case)
        dd = os.path.join(sys.argv[1], case["name"])
        os.makedirs(dd, exist_ok=True)
        cfg = {k: case[k] for k in ("cell", "N", "n_in", "n_out", "B", "T", "dale",
                                    "exc_fraction", "no_autapses", "rec_mask", "loss")}
        cfg["act"] = case.get("act", "tanh")
        for k in ("form", "tau", "dt"):
            if k in case:
                cfg[k] = case[k]
        cfg["params"] = params_of(case)
        with open(os.path.join(dd, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1, sort_keys=True)
            f.write("\n")
        save(os.path.join(dd, "u.npy"), r["u"])
        for k in params_of(case):
            save(os.path.join(dd, k + ".npy"), r["p"][k])
            save(os.path.join(dd, "grad_" + k + ".npy"), r["grads"][k])
        if "mask" in r:
            save(os.path.join(dd, "mask.npy"), r["mask"])
        if "y" in r:
            save(os.path.join(dd, "y.npy"), r["y"])
        if "labels" in r:
            save(os.path.join(dd, "labels.npy"), r["labels"])
        save(os.path.join(dd, "loss_mask.npy"), r["lmask"])
        save(os.path.join(dd, "z.npy"), r["z"])
        save(os.path.join(dd, "loss.npy"), [r["L"]])
        print("%-20s L %.6f  (draw %d)" % (case["name"], r["L"], r["attempt"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
