#!/usr/bin/python3
"""PyTorch peers for the cell training steps (issue 3's benchmark; W2 ddms-lightgru, W3 memory-lstm).

Run with Debian's interpreter (/usr/bin/python3, python3-torch). The work per
step is the same as bench/bench_cells.c. Time-major data, a pool of 8 batches
used round-robin (not timed):

  lightgru-ei-H64-B32  W2's `lightgru-loop`: light GRU (Ravanelli 2018) as a
      Python loop, input 7, hidden 64 (51 E + 13 I), T 100, batch 32:
          a_z = BN_z(x W_zᵀ), a_h = BN_h(x W_hᵀ)   (training-mode statistics over T·B rows)
          U_h_eff = |U_h| ⊙ M, M[:, j] = +1 (j < 51), −1 (j ≥ 51), M_ii = 0
          z = σ(a_z[t] + h U_zᵀ);  h̃ = relu(a_h[t] + h U_h_effᵀ);  h = z⊙h + (1−z)⊙h̃
          logits = Linear(64, 3)(H);  loss = mean cross-entropy over T·B
  gru-H64-B32          torch.nn.GRU(7, 64) + Linear(64, 3), same data and loss.
  lstm-H32-B16-loop    W3's `loop-pergate`: LSTM with 8 nn.Linear (x→gate with
      bias, h→gate without), input 3, hidden 32, T 45, batch 16, Linear(32, 1),
      MSE over T·B.
  lstm-H32-B16         torch.nn.LSTM(3, 32) + Linear(32, 1), same data and loss.

One timed step = zero_grad + forward over T + backward (BPTT) + Adam(lr 1e-3)
step + loss.item(). --warmup untimed steps, then at least --steps timed steps
and until --min-time seconds have passed (at most --max-steps); the median.

Threads: OMP_NUM_THREADS / MKL_NUM_THREADS / OPENBLAS_NUM_THREADS are set from
--threads / --blas-threads before torch is imported (OpenBLAS sizes its pool
when it loads), then torch.set_num_threads(--threads).

Prints one JSON object per workload. maxrss_mb is the process's peak RSS so
far (getrusage), so run one workload per process for a clean figure.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

WORKLOADS = ("lightgru-ei-H64-B32", "gru-H64-B32", "lstm-H32-B16-loop", "lstm-H32-B16")
LR, POOL = 1e-3, 8


args = peer_common.parse_cases(__doc__, WORKLOADS)
peer_common.set_threads(args)  # before torch (and with it OpenBLAS / libgomp) loads

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)


# ------------------------------------------------------------------ W2 models
GRU_IN, GRU_H, GRU_OUT, GRU_T, GRU_B, E_FRAC = 7, 64, 3, 100, 32, 0.8


class LightGRU(nn.Module):
    """W2's light GRU with E/I-signed U_h, a Python loop over t."""

    def __init__(self):
        super().__init__()
        H = GRU_H
        self.Wz = nn.Linear(GRU_IN, H, bias=False)
        self.Wh = nn.Linear(GRU_IN, H, bias=False)
        self.bn_z = nn.BatchNorm1d(H)
        self.bn_h = nn.BatchNorm1d(H)
        n_e = int(E_FRAC * H)
        self.Uz = nn.Parameter(torch.empty(H, H))
        nn.init.orthogonal_(self.Uz)
        Uh = torch.empty(H, H).uniform_(0.0, 1.0 / H ** 0.5)
        Uh[:, :n_e] *= (H - n_e) / n_e
        self.Uh = nn.Parameter(Uh)
        mask = torch.ones(H, H)
        mask[:, n_e:] = -1.0
        mask.fill_diagonal_(0.0)
        self.register_buffer("mask", mask)
        self.readout = nn.Linear(H, GRU_OUT)

    def forward(self, x):
        t_len, batch, _ = x.shape
        flat = x.reshape(t_len * batch, GRU_IN)
        az = self.bn_z(self.Wz(flat)).view(t_len, batch, GRU_H).unbind(0)
        ah = self.bn_h(self.Wh(flat)).view(t_len, batch, GRU_H).unbind(0)
        Uz_t = self.Uz.t()
        Uh_t = (self.Uh.abs() * self.mask).t()
        h = x.new_zeros(batch, GRU_H)
        hs = []
        for t in range(t_len):
            z = torch.sigmoid(az[t] + h @ Uz_t)
            hc = torch.relu(ah[t] + h @ Uh_t)
            h = z * h + (1.0 - z) * hc
            hs.append(h)
        return self.readout(torch.stack(hs))


class TorchGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(GRU_IN, GRU_H)
        self.readout = nn.Linear(GRU_H, GRU_OUT)

    def forward(self, x):
        return self.readout(self.gru(x)[0])


# ------------------------------------------------------------------ W3 models
LSTM_IN, LSTM_H, LSTM_OUT, LSTM_T, LSTM_B = 3, 32, 1, 45, 16


class PerGateLSTM(nn.Module):
    """W3's `loop-pergate`: one nn.Linear per gate and source."""

    def __init__(self):
        super().__init__()
        h = LSTM_H
        self.xi, self.xf, self.xg, self.xo = (nn.Linear(LSTM_IN, h) for _ in range(4))
        self.hi, self.hf, self.hg, self.ho = (nn.Linear(h, h, bias=False) for _ in range(4))
        self.readout = nn.Linear(h, LSTM_OUT)

    def forward(self, x):
        h = x.new_zeros(x.shape[1], LSTM_H)
        c = x.new_zeros(x.shape[1], LSTM_H)
        hs = []
        for xt in x.unbind(0):
            i = torch.sigmoid(self.xi(xt) + self.hi(h))
            f = torch.sigmoid(self.xf(xt) + self.hf(h))
            g = torch.tanh(self.xg(xt) + self.hg(h))
            o = torch.sigmoid(self.xo(xt) + self.ho(h))
            c = f * c + i * g
            h = o * torch.tanh(c)
            hs.append(h)
        return self.readout(torch.stack(hs))


class TorchLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(LSTM_IN, LSTM_H)
        self.readout = nn.Linear(LSTM_H, LSTM_OUT)

    def forward(self, x):
        return self.readout(self.lstm(x)[0])


# ------------------------------------------------------------------- timing
def run(workload):
    torch.manual_seed(args.seed)
    classify = workload.startswith(("lightgru", "gru"))
    if classify:
        T, B, n_in, n_out, H = GRU_T, GRU_B, GRU_IN, GRU_OUT, GRU_H
        model = LightGRU() if workload.startswith("lightgru") else TorchGRU()
        pool = [(torch.randn(T, B, n_in), torch.randint(0, n_out, (T, B))) for _ in range(POOL)]
    else:
        T, B, n_in, n_out, H = LSTM_T, LSTM_B, LSTM_IN, LSTM_OUT, LSTM_H
        model = PerGateLSTM() if workload.endswith("-loop") else TorchLSTM()
        pool = [(torch.randn(T, B, n_in), torch.randn(T, B, n_out)) for _ in range(POOL)]
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    k = [0]

    def step():
        x, y = pool[k[0] % POOL]
        k[0] += 1
        opt.zero_grad(set_to_none=True)
        out = model(x)
        if classify:
            loss = F.cross_entropy(out.reshape(T * B, n_out), y.reshape(T * B))
        else:
            loss = F.mse_loss(out, y)
        loss.backward()
        opt.step()
        return loss.item()

    timing = peer_common.time_steps(step, args)
    rec = {
        "workload": workload, "config": workload, "impl": "pytorch",
        "variant": {"lightgru-ei-H64-B32": "lightgru-loop", "gru-H64-B32": "nn.GRU",
                    "lstm-H32-B16-loop": "loop-pergate", "lstm-H32-B16": "nn.LSTM"}[workload],
        **timing, **peer_common.machine_fields(args, torch),
        "shape": {"hidden": H, "batch": B, "T": T, "n_in": n_in, "n_out": n_out},
        "n_params": sum(p.numel() for p in model.parameters()),
    }
    print(json.dumps(rec), flush=True)


for w in WORKLOADS:
    if not args.case or w in args.case:
        run(w)
