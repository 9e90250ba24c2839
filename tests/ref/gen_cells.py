#!/usr/bin/python3
"""PyTorch reference for silico's recurrent cells (golden tensors).

Usage:  /usr/bin/python3 tests/ref/gen_cells.py OUTDIR

Writes OUTDIR/<case>/ for each case below (the committed copy lives in
tests/golden/cells/):
  config.json        cell ("rnn", "gru", "lstm"), act, N, n_in, B, T, quad,
                     params (tensor names), records (record names)
  U.npy              inputs (T, B, n_in), time-major
  weight_ih.npy weight_hh.npy bias_ih.npy bias_hh.npy
                     the parameters under PyTorch's names (nn.RNN/GRU/LSTM's
                     weight_ih_l0 … without the layer suffix)
  w.npy              the loss weights (T, B, N)
  H.npy              the outputs h_1..h_T (T, B, N)
  grad_<param>.npy   dL/d<param>;  dU.npy  dL/dU
  <record>.npy       gate traces (T, B, N): rnn "preactivation"; gru
                     "reset_gate", "update_gate", "candidate"; lstm
                     "input_gate", "forget_gate", "cell_candidate",
                     "output_gate", "cell_state", "output"

The loss is L = sum(w * H) + quad * 0.5 * sum(H**2). H and every gradient
come from torch.nn.RNN / nn.GRU / nn.LSTM themselves (batch_first=False, one
layer, h_0 = c_0 = 0), so PyTorch's own gate convention is what the C cells
are checked against. The records are recomputed here step by step from the
parameters with PyTorch's documented equations, and that recomputation must
reproduce the module's output to 1e-12 before anything is written.

Everything is float64 from fixed seeds, single-threaded and deterministic.
"""
import json
import os
import sys

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover
    sys.stderr.write("gen_cells.py: PyTorch is not importable by %s "
                     "(install Debian's python3-torch)\n" % sys.executable)
    sys.exit(2)

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

PARAMS = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
RECORDS = {
    "rnn": ["preactivation"],
    "gru": ["reset_gate", "update_gate", "candidate"],
    "lstm": ["input_gate", "forget_gate", "cell_candidate", "output_gate",
             "cell_state", "output"],
}
KINK_MARGIN = 1e-3  # relu: no pre-activation this close to 0 (float32 safety)

CASES = [
    dict(name="rnn_tanh", cell="rnn", act="tanh", N=6, n_in=3, B=3, T=7, quad=0.0, seed=11),
    dict(name="rnn_relu", cell="rnn", act="relu", N=5, n_in=2, B=2, T=6, quad=1.0, seed=12),
    dict(name="rnn_n1", cell="rnn", act="tanh", N=1, n_in=2, B=2, T=4, quad=1.0, seed=13),
    dict(name="gru_small", cell="gru", act="tanh", N=6, n_in=3, B=3, T=8, quad=0.0, seed=21),
    dict(name="gru_quad", cell="gru", act="tanh", N=4, n_in=5, B=2, T=5, quad=1.0, seed=22),
    dict(name="gru_n1_t1", cell="gru", act="tanh", N=1, n_in=2, B=2, T=1, quad=0.0, seed=23),
    dict(name="lstm_small", cell="lstm", act="tanh", N=5, n_in=4, B=3, T=9, quad=0.0, seed=31),
    dict(name="lstm_quad", cell="lstm", act="tanh", N=7, n_in=2, B=2, T=6, quad=1.0, seed=32),
    dict(name="lstm_n1_t1", cell="lstm", act="tanh", N=1, n_in=3, B=2, T=1, quad=0.0, seed=33),
]


def make_module(case):
    N, ni = case["N"], case["n_in"]
    if case["cell"] == "rnn":
        return torch.nn.RNN(ni, N, num_layers=1, nonlinearity=case["act"],
                            bias=True, batch_first=False)
    if case["cell"] == "gru":
        return torch.nn.GRU(ni, N, num_layers=1, bias=True, batch_first=False)
    return torch.nn.LSTM(ni, N, num_layers=1, bias=True, batch_first=False)


def records(case, P, U):
    """Step-by-step recomputation: (H, {record: (T,B,N)}) from PyTorch's equations."""
    N = case["N"]
    T, B = U.shape[0], U.shape[1]
    Wih, Whh, bih, bhh = (P[n] for n in PARAMS)
    h = torch.zeros(B, N)
    c = torch.zeros(B, N)
    out = {k: [] for k in RECORDS[case["cell"]]}
    hs = []
    for t in range(T):
        gi = U[t] @ Wih.T + bih
        gh = h @ Whh.T + bhh
        if case["cell"] == "rnn":
            a = gi + gh
            h = torch.tanh(a) if case["act"] == "tanh" else torch.relu(a)
            out["preactivation"].append(a)
        elif case["cell"] == "gru":
            r = torch.sigmoid(gi[:, :N] + gh[:, :N])
            z = torch.sigmoid(gi[:, N:2 * N] + gh[:, N:2 * N])
            n = torch.tanh(gi[:, 2 * N:] + r * gh[:, 2 * N:])
            h = (1 - z) * n + z * h
            out["reset_gate"].append(r)
            out["update_gate"].append(z)
            out["candidate"].append(n)
        else:
            g4 = gi + gh
            i = torch.sigmoid(g4[:, :N])
            f = torch.sigmoid(g4[:, N:2 * N])
            g = torch.tanh(g4[:, 2 * N:3 * N])
            o = torch.sigmoid(g4[:, 3 * N:])
            c = f * c + i * g
            h = o * torch.tanh(c)
            for k, v in zip(RECORDS["lstm"], (i, f, g, o, c, h)):
                out[k].append(v)
        hs.append(h)
    return torch.stack(hs), {k: torch.stack(v) for k, v in out.items()}


def run_case(case):
    for attempt in range(100):
        torch.manual_seed(case["seed"] * 1000 + attempt)
        mod = make_module(case)  # PyTorch's own init: U(-1/sqrt(N), 1/sqrt(N))
        U = torch.randn(case["T"], case["B"], case["n_in"])
        w = torch.randn(case["T"], case["B"], case["N"])
        P = {n: getattr(mod, n + "_l0") for n in PARAMS}
        with torch.no_grad():
            H_steps, recs = records(case, P, U)
        if case["act"] == "relu" and recs["preactivation"].abs().min().item() < KINK_MARGIN:
            continue
        U.requires_grad_(True)
        H, _ = mod(U)
        L = (w * H).sum() + case["quad"] * 0.5 * (H ** 2).sum()
        L.backward()
        err = (H.detach() - H_steps).abs().max().item()
        assert err < 1e-12, "%s: step-by-step recomputation differs by %g" % (case["name"], err)
        return dict(U=U.detach(), w=w, H=H.detach(), L=L.item(),
                    p={n: P[n].detach().clone() for n in PARAMS},
                    grads={n: P[n].grad.detach().clone() for n in PARAMS},
                    dU=U.grad.detach().clone(), recs=recs, attempt=attempt)
    raise RuntimeError("%s: no draw keeps pre-activations away from 0" % case["name"])


def save(path, a):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    np.save(path, a, allow_pickle=False)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen_cells.py OUTDIR\n")
        return 2
    outdir = sys.argv[1]
    for case in CASES:
        r = run_case(case)
        d = os.path.join(outdir, case["name"])
        os.makedirs(d, exist_ok=True)
        cfg = {k: case[k] for k in ("cell", "act", "N", "n_in", "B", "T", "quad")}
        cfg["params"] = PARAMS
        cfg["records"] = RECORDS[case["cell"]]
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1, sort_keys=True)
            f.write("\n")
        save(os.path.join(d, "U.npy"), r["U"].numpy())
        save(os.path.join(d, "w.npy"), r["w"].numpy())
        save(os.path.join(d, "H.npy"), r["H"].numpy())
        save(os.path.join(d, "dU.npy"), r["dU"].numpy())
        for n in PARAMS:
            save(os.path.join(d, n + ".npy"), r["p"][n].numpy())
            save(os.path.join(d, "grad_" + n + ".npy"), r["grads"][n].numpy())
        for k, v in r["recs"].items():
            save(os.path.join(d, k + ".npy"), v.numpy())
        print("%-12s L %.6f  (draw %d)" % (case["name"], r["L"], r["attempt"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
