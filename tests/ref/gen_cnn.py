#!/usr/bin/python3
"""PyTorch reference for silico's CNN model (src/nn/cnn.c), whole networks.

Usage:  /usr/bin/python3 tests/ref/gen_cnn.py OUTDIR

Writes OUTDIR/<case>/ for each case below (committed copy: tests/golden/cnn/):

  config.json   layers (model.layers text, silico's syntax), C, H, W, B
  x             the input batch B x C x H x W, float64
  labels        int64 class labels
  <p>           each parameter, named as silico names it with '.' -> '_'
                (conv1_weight, conv1_bias, fc1_weight, ...): nn.Module default init
  act_<i>       the output of layer i (every layer of the list, in order)
  loss          F.cross_entropy(logits, labels), shape (1,)
  grad_<p>      dloss/dp
  dx            dloss/dx

The network is built from the same text silico parses: conv(C_out,k,s=,p=),
maxpool(k,s=,p=), avgpool(k,s=,p=), flatten, linear(out), relu, tanh,
sigmoid, softplus. Cases with ReLU/max-pool are redrawn until no ReLU input is
within MARGIN of 0 and every max-pool window is decided by MARGIN (or an exact
tie), so float32 rounding in the C test cannot flip a kink or an argmax.
Float64, fixed seeds, one thread: deterministic.
"""
import json
import os
import re
import sys

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.stderr.write("gen_cnn.py: PyTorch is not importable by %s "
                     "(install Debian's python3-torch)\n" % sys.executable)
    sys.exit(2)

# the layer generator's float64 set-up, MARGIN, .npy writer and max-pool
# window margin (this file's directory is on sys.path when run as a script)
from gen_layers import MARGIN, save, window_margin_ok  # noqa: E402

SEED_LAYERS = ("conv(6,3,p=1), relu, maxpool(2), conv(16,3,p=1), relu, maxpool(2), flatten, "
               "linear(120), relu, linear(84), relu, linear(10)")

CASES = [
    # the seed network (seeds/002) as examples/fmnist-cnn.ini gives it
    dict(name="seed", layers=SEED_LAYERS, C=1, H=28, W=28, B=3, seed=601),
    # strided conv, average pooling and the smooth activations
    dict(name="smooth", layers="conv(4,3,s=2,p=1), tanh, avgpool(2), conv(5,2), sigmoid, "
                               "flatten, linear(7), softplus, linear(3)",
         C=2, H=9, W=9, B=2, seed=602),
    # overlapping padded max-pool, avg-pool with padding, implicit flatten
    dict(name="pools", layers="conv(3,3,p=1), relu, maxpool(3,s=2,p=1), avgpool(3,s=1,p=1), "
                              "linear(4)",
         C=1, H=8, W=7, B=2, seed=603),
]


def parse(text):
    """silico's model.layers -> list of (kind, positional ints, s, p)"""
    out = []
    for tok in re.findall(r"[a-z_]+(?:\([^)]*\))?", text):
        m = re.match(r"([a-z_]+)(?:\((.*)\))?$", tok)
        name, args = m.group(1), m.group(2)
        pos, kw = [], {}
        if args:
            for a in args.split(","):
                a = a.strip()
                if "=" in a:
                    k, v = a.split("=")
                    kw[k.strip()] = int(v)
                else:
                    pos.append(int(a))
        out.append((name, pos, kw))
    return out


class Net(torch.nn.Module):
    def __init__(self, text, C, H, W):
        super().__init__()
        self.spec = parse(text)
        shape = (C, H, W)
        self.ops = []
        n_conv = n_fc = 0
        for name, pos, kw in self.spec:
            if name == "conv":
                n_conv += 1
                s, p = kw.get("s", 1), kw.get("p", 0)
                mod = torch.nn.Conv2d(shape[0], pos[0], pos[1], stride=s, padding=p)
                setattr(self, "conv%d" % n_conv, mod)
                self.ops.append(("conv", mod))
                h = (shape[1] + 2 * p - pos[1]) // s + 1
                w = (shape[2] + 2 * p - pos[1]) // s + 1
                shape = (pos[0], h, w)
            elif name in ("maxpool", "avgpool"):
                k = pos[0]
                s, p = kw.get("s", k), kw.get("p", 0)
                self.ops.append((name, (k, s, p)))
                shape = (shape[0], (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1)
            elif name == "flatten":
                self.ops.append(("flatten", None))
                shape = (int(np.prod(shape)),)
            elif name == "linear":
                n_fc += 1
                mod = torch.nn.Linear(int(np.prod(shape)), pos[0])
                setattr(self, "fc%d" % n_fc, mod)
                self.ops.append(("linear", mod))
                shape = (pos[0],)
            else:
                self.ops.append((name, None))

    def forward(self, x):
        outs, pre = [], []
        for kind, a in self.ops:
            if kind == "conv":
                x = a(x)
            elif kind == "maxpool":
                pre.append(("maxpool", x, a))
                x = F.max_pool2d(x, a[0], a[1], a[2])
            elif kind == "avgpool":
                x = F.avg_pool2d(x, a[0], a[1], a[2], count_include_pad=True)
            elif kind == "flatten":
                x = torch.flatten(x, start_dim=1)
            elif kind == "linear":
                x = a(torch.flatten(x, start_dim=1))
            elif kind == "relu":
                pre.append(("relu", x, None))
                x = F.relu(x)
            elif kind == "tanh":
                x = torch.tanh(x)
            elif kind == "sigmoid":
                x = torch.sigmoid(x)
            elif kind == "softplus":
                x = F.softplus(x)
            outs.append(x)
        return outs, pre


def pool_shape(k, s, p):
    """a square pool's k, s, p as gen_layers' case keys"""
    return dict(kH=k, kW=k, sH=s, sW=s, pH=p, pW=p)


def safe(pre):
    for kind, x, a in pre:
        if kind == "relu" and bool((x.abs() < MARGIN).any()):
            return False
        if kind == "maxpool" and not window_margin_ok(x, pool_shape(*a)):
            return False
    return True


def gen(root, c):
    torch.manual_seed(c["seed"])
    net = Net(c["layers"], c["C"], c["H"], c["W"])
    g = torch.Generator().manual_seed(c["seed"] + 1)
    n_cls = [m for k, m in net.ops if k == "linear"][-1].out_features
    for _ in range(1000):
        x = torch.randn(c["B"], c["C"], c["H"], c["W"], generator=g)
        labels = torch.randint(0, n_cls, (c["B"],), generator=g)
        with torch.no_grad():
            if safe(net(x)[1]):
                break
    else:
        raise RuntimeError("%s: no safe draw in 1000 tries" % c["name"])
    x.requires_grad_()
    outs, _ = net(x)
    loss = F.cross_entropy(outs[-1], labels)
    loss.backward()
    d = os.path.join(root, c["name"])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({k: c[k] for k in ("layers", "C", "H", "W", "B")}, f, indent=1, sort_keys=True)
        f.write("\n")
    save(d, "x", x)
    save(d, "labels", labels)
    for n, p in net.named_parameters():
        save(d, n.replace(".", "_"), p)
        save(d, "grad_" + n.replace(".", "_"), p.grad)
    for i, o in enumerate(outs):
        save(d, "act_%d" % i, o)
    save(d, "loss", loss.reshape(1))
    save(d, "dx", x.grad)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    root = sys.argv[1]
    os.makedirs(root, exist_ok=True)
    for c in CASES:
        gen(root, c)


if __name__ == "__main__":
    main()
