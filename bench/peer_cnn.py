#!/usr/bin/python3
"""PyTorch peer for the CNN benchmark (issue 6): the seed network of
examples/fmnist-cnn.ini (seeds/002's Net), the same work as bench/bench_cnn.c.

  conv(1->6, 3x3, pad 1) - ReLU - maxpool 2 - conv(6->16, 3x3, pad 1) - ReLU -
  maxpool 2 - flatten - fc 784->120 - ReLU - fc 120->84 - ReLU - fc 84->10

Workloads (28x28 single-channel images, a pool of 8 batches x ~ N(0,1) with
labels uniform in 0..9, used round-robin, not timed):
  cnn-B16, cnn-B256   one training step: zero_grad + forward + F.cross_entropy
                      + backward + Adam(lr 1e-3) step + loss.item()
  cnn-infer-B256      inference under torch.no_grad() (images_per_s added)

Weights: nn.Conv2d / nn.Linear default init (silico draws the same
distributions). Subnormals flushed (torch.set_flush_denormal(True)), as
silico's trainer and bench do. One thread (OpenMP 1, OpenBLAS 1) unless
--threads/--blas-threads say otherwise. Timing as peer_common.time_steps:
median of individually timed steps. One JSON object per workload.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

WORKLOADS = {"cnn-B16": (16, False), "cnn-B256": (256, False), "cnn-infer-B256": (256, True)}
LR, POOL = 1e-3, 8


args = peer_common.parse_cases(__doc__, WORKLOADS)
peer_common.set_threads(args)  # before torch (and with it OpenBLAS / libgomp) loads

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_flush_denormal(True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def run(workload):
    B, infer = WORKLOADS[workload]
    torch.manual_seed(args.seed)
    model = Net()
    pool = [(torch.randn(B, 1, 28, 28), torch.randint(0, 10, (B,))) for _ in range(POOL)]
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    k = [0]

    def step():
        x, y = pool[k[0] % POOL]
        k[0] += 1
        if infer:
            with torch.no_grad():
                return model(x)[0, 0].item()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    model.eval() if infer else model.train()
    timing = peer_common.time_steps(step, args)
    rec = {
        "workload": workload, "config": workload, "impl": "pytorch",
        "variant": "nn.Module", **timing, **peer_common.machine_fields(args, torch),
        "batch": B, "n_params": sum(p.numel() for p in model.parameters()),
    }
    if infer:
        rec["images_per_s"] = B / (timing["ms_per_step"] / 1e3)
    print(json.dumps(rec), flush=True)


for w in WORKLOADS:
    if not args.case or w in args.case:
        run(w)
