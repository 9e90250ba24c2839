#!/usr/bin/python3
"""PyTorch reference for silico's feed-forward layers (golden tensors).

Usage:  /usr/bin/python3 tests/ref/gen_layers.py OUTDIR

Writes OUTDIR/<case>/ for each case below (the committed copy lives in
tests/golden/layers/), every array float64 unless noted:

  config.json   kind ("conv2d", "maxpool2d", "avgpool2d", "linear", "xent",
                "seed_cnn") and the shape
  conv2d        X W b G Y dX dW db     Y = F.conv2d(X, W, b, stride, padding)
  maxpool2d     X G Y dX argmax(int64) Y, argmax = F.max_pool2d(..., return_indices=True)
  avgpool2d     X G Y dX               F.avg_pool2d (count_include_pad=True)
  linear        X W b G Y dX dW db     F.linear
                  (for these four the loss is L = sum(G * Y), so dL/dY = G)
  xent          Z labels(int64) loss dZ   F.cross_entropy(Z, labels) (mean,
                ignore_index = -100 rows skipped), loss has shape (1,)
  seed_cnn      the lab's LeNet-style CNN (seeds/002, bench W4) on a batch of
                B random 28x28 images x ~ N(0,1) with labels:
                  l1 = maxpool2(relu(conv1(x)))  conv1 1->6 3x3 pad 1
                  l2 = maxpool2(relu(conv2(l1))) conv2 6->16 3x3 pad 1
                  l3 = relu(fc1(flatten(l2)))    784->120
                  l4 = relu(fc2(l3))             120->84
                  y  = fc3(l4)                   84->10
                  loss = F.cross_entropy(y, labels)
                files x labels(int64) <p> (conv1_weight, conv1_bias, ...,
                fc3_bias: nn.Module's default init) l1 l2 l3 l4 y loss
                grad_<p> dx

Float32 safety: the C test runs in float32, so the draws are redone until no
ReLU input is within MARGIN of 0 and every max-pool window's maximum beats its
runner-up by MARGIN (or ties exactly, as ReLU zeros do); then float32
rounding cannot move a kink or an argmax.

Everything is float64 from fixed seeds, single-threaded and deterministic.
"""
import json
import os
import sys

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.stderr.write("gen_layers.py: PyTorch is not importable by %s "
                     "(install Debian's python3-torch)\n" % sys.executable)
    sys.exit(2)

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

MARGIN = 2e-5

CONV = [
    dict(name="conv_s1_p1", N=2, C_in=3, H=7, W=6, C_out=4, kH=3, kW=3, sH=1, sW=1, pH=1, pW=1, seed=101),
    dict(name="conv_s2_p0", N=2, C_in=2, H=9, W=8, C_out=3, kH=3, kW=3, sH=2, sW=2, pH=0, pW=0, seed=102),
    dict(name="conv_s2_p1", N=3, C_in=2, H=8, W=7, C_out=5, kH=3, kW=3, sH=2, sW=2, pH=1, pW=1, seed=103),
    dict(name="conv_rect", N=2, C_in=3, H=6, W=9, C_out=2, kH=2, kW=4, sH=1, sW=3, pH=1, pW=2, seed=104),
    dict(name="conv_1x1", N=3, C_in=5, H=4, W=4, C_out=3, kH=1, kW=1, sH=1, sW=1, pH=0, pW=0, seed=105),
    dict(name="conv_seed1", N=2, C_in=1, H=28, W=28, C_out=6, kH=3, kW=3, sH=1, sW=1, pH=1, pW=1, seed=106),
]
POOL = [
    dict(name="maxpool_k2", kind="maxpool2d", N=2, C=3, H=8, W=6, kH=2, kW=2, sH=2, sW=2, pH=0, pW=0, seed=201),
    dict(name="maxpool_k3_s2_p1", kind="maxpool2d", N=2, C=2, H=7, W=9, kH=3, kW=3, sH=2, sW=2, pH=1, pW=1, seed=202),
    dict(name="maxpool_overlap", kind="maxpool2d", N=1, C=2, H=6, W=7, kH=3, kW=2, sH=1, sW=1, pH=0, pW=1, seed=203),
    dict(name="maxpool_ties", kind="maxpool2d", N=2, C=2, H=6, W=6, kH=2, kW=2, sH=2, sW=2, pH=0, pW=0, seed=204,
         ties=True),
    dict(name="avgpool_k2", kind="avgpool2d", N=2, C=3, H=8, W=6, kH=2, kW=2, sH=2, sW=2, pH=0, pW=0, seed=211),
    dict(name="avgpool_k3_s2_p1", kind="avgpool2d", N=2, C=2, H=7, W=9, kH=3, kW=3, sH=2, sW=2, pH=1, pW=1, seed=212),
]
LINEAR = [
    dict(name="linear_small", B=5, n_in=7, n_out=4, seed=301),
    dict(name="linear_wide", B=4, n_in=50, n_out=30, seed=302),
]
XENT = [
    dict(name="xent_small", B=6, C=10, scale=2.0, offset=0.0, ignore=0, seed=401),
    dict(name="xent_ignore", B=7, C=4, scale=1.0, offset=0.0, ignore=2, seed=402),
    dict(name="xent_large_logits", B=5, C=6, scale=30.0, offset=500.0, ignore=0, seed=403),
]
SEED_CNN = dict(name="seed_cnn", B=4, seed=501)


def save(d, name, t):
    a = t.detach().numpy() if torch.is_tensor(t) else np.asarray(t)
    if a.dtype.kind == "f":
        a = a.astype(np.float64)
    elif a.dtype.kind in "iu":
        a = a.astype(np.int64)
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(a))


def outdir(root, name, config):
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=1, sort_keys=True)
        f.write("\n")
    return d


def shape_of(c, keys):
    return {k: c[k] for k in keys}


def gen_conv(root, c):
    g = torch.Generator().manual_seed(c["seed"])
    X = torch.randn(c["N"], c["C_in"], c["H"], c["W"], generator=g, requires_grad=True)
    W = (torch.rand(c["C_out"], c["C_in"], c["kH"], c["kW"], generator=g) * 2 - 1).requires_grad_()
    b = (torch.rand(c["C_out"], generator=g) * 2 - 1).requires_grad_()
    Y = F.conv2d(X, W, b, stride=(c["sH"], c["sW"]), padding=(c["pH"], c["pW"]))
    G = torch.randn(Y.shape, generator=g)
    (Y * G).sum().backward()
    cfg = dict(kind="conv2d", **shape_of(c, ["N", "C_in", "H", "W", "C_out", "kH", "kW", "sH", "sW", "pH", "pW"]))
    d = outdir(root, c["name"], cfg)
    for k, v in dict(X=X, W=W, b=b, G=G, Y=Y, dX=X.grad, dW=W.grad, db=b.grad).items():
        save(d, k, v)


def window_margin_ok(X, c):
    """every window's max beats the runner-up by MARGIN or ties exactly"""
    Xp = F.pad(X, (c["pW"], c["pW"], c["pH"], c["pH"]), value=-float("inf"))
    win = Xp.unfold(2, c["kH"], c["sH"]).unfold(3, c["kW"], c["sW"])
    win = win.reshape(*win.shape[:4], -1)
    top = torch.topk(win, 2, dim=-1).values
    gap = top[..., 0] - top[..., 1]
    return bool(((gap == 0) | (gap > MARGIN)).all())


def gen_pool(root, c):
    g = torch.Generator().manual_seed(c["seed"])
    while True:
        if c.get("ties"):
            # ReLU-like maps: many exact zeros and repeated values, so windows tie
            X = torch.randint(-2, 3, (c["N"], c["C"], c["H"], c["W"]), generator=g).double() * 0.5
            X = X.clamp(min=0.0)
        else:
            X = torch.randn(c["N"], c["C"], c["H"], c["W"], generator=g)
        if window_margin_ok(X, c):
            break
    X.requires_grad_()
    k, s, p = (c["kH"], c["kW"]), (c["sH"], c["sW"]), (c["pH"], c["pW"])
    extra = {}
    if c["kind"] == "maxpool2d":
        Y, idx = F.max_pool2d(X, k, s, p, return_indices=True)
        extra["argmax"] = idx
    else:
        Y = F.avg_pool2d(X, k, s, p, count_include_pad=True)
    G = torch.randn(Y.shape, generator=g)
    (Y * G).sum().backward()
    cfg = dict(kind=c["kind"], **shape_of(c, ["N", "C", "H", "W", "kH", "kW", "sH", "sW", "pH", "pW"]))
    d = outdir(root, c["name"], cfg)
    for k_, v in dict(X=X, G=G, Y=Y, dX=X.grad, **extra).items():
        save(d, k_, v)


def gen_linear(root, c):
    g = torch.Generator().manual_seed(c["seed"])
    X = torch.randn(c["B"], c["n_in"], generator=g, requires_grad=True)
    bound = 1.0 / np.sqrt(c["n_in"])
    W = ((torch.rand(c["n_out"], c["n_in"], generator=g) * 2 - 1) * bound).requires_grad_()
    b = ((torch.rand(c["n_out"], generator=g) * 2 - 1) * bound).requires_grad_()
    Y = F.linear(X, W, b)
    G = torch.randn(Y.shape, generator=g)
    (Y * G).sum().backward()
    d = outdir(root, c["name"], dict(kind="linear", B=c["B"], n_in=c["n_in"], n_out=c["n_out"]))
    for k, v in dict(X=X, W=W, b=b, G=G, Y=Y, dX=X.grad, dW=W.grad, db=b.grad).items():
        save(d, k, v)


def gen_xent(root, c):
    g = torch.Generator().manual_seed(c["seed"])
    Z = (torch.randn(c["B"], c["C"], generator=g) * c["scale"] + c["offset"]).requires_grad_()
    labels = torch.randint(0, c["C"], (c["B"],), generator=g)
    labels[: c["ignore"]] = -100
    loss = F.cross_entropy(Z, labels, ignore_index=-100)
    loss.backward()
    d = outdir(root, c["name"], dict(kind="xent", B=c["B"], C=c["C"]))
    for k, v in dict(Z=Z, labels=labels, loss=loss.reshape(1), dZ=Z.grad).items():
        save(d, k, v)


class SeedNet(torch.nn.Module):
    """The seed notebook's Net (seeds/002), without the readout switch."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(6, 16, 3, padding=1)
        self.fc1 = torch.nn.Linear(16 * 7 * 7, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        a1 = self.conv1(x)
        l1 = F.max_pool2d(F.relu(a1), 2)
        a2 = self.conv2(l1)
        l2 = F.max_pool2d(F.relu(a2), 2)
        a3 = self.fc1(torch.flatten(l2, start_dim=1))
        l3 = F.relu(a3)
        a4 = self.fc2(l3)
        l4 = F.relu(a4)
        y = self.fc3(l4)
        return dict(a1=a1, l1=l1, a2=a2, l2=l2, a3=a3, l3=l3, a4=a4, l4=l4, y=y)


def seed_cnn_safe(out):
    """no ReLU input near 0; every pool window decided by MARGIN or an exact tie"""
    for a in ("a1", "a2", "a3", "a4"):
        if bool((out[a].abs() < MARGIN).any()):
            return False
    pc = dict(kH=2, kW=2, sH=2, sW=2, pH=0, pW=0)
    return window_margin_ok(F.relu(out["a1"]), pc) and window_margin_ok(F.relu(out["a2"]), pc)


def gen_seed_cnn(root, c):
    torch.manual_seed(c["seed"])
    net = SeedNet()
    g = torch.Generator().manual_seed(c["seed"] + 1)
    for _ in range(1000):
        x = torch.randn(c["B"], 1, 28, 28, generator=g)
        labels = torch.randint(0, 10, (c["B"],), generator=g)
        with torch.no_grad():
            if seed_cnn_safe(net(x)):
                break
    else:
        raise RuntimeError("seed_cnn: no safe draw in 1000 tries")
    x.requires_grad_()
    out = net(x)
    loss = F.cross_entropy(out["y"], labels)
    loss.backward()
    d = outdir(root, c["name"], dict(kind="seed_cnn", B=c["B"]))
    save(d, "x", x)
    save(d, "labels", labels)
    for n, p in net.named_parameters():
        save(d, n.replace(".", "_"), p)
        save(d, "grad_" + n.replace(".", "_"), p.grad)
    for k in ("l1", "l2", "l3", "l4", "y"):
        save(d, k, out[k])
    save(d, "loss", loss.reshape(1))
    save(d, "dx", x.grad)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    root = sys.argv[1]
    os.makedirs(root, exist_ok=True)
    for c in CONV:
        gen_conv(root, c)
    for c in POOL:
        gen_pool(root, c)
    for c in LINEAR:
        gen_linear(root, c)
    for c in XENT:
        gen_xent(root, c)
    gen_seed_cnn(root, SEED_CNN)


if __name__ == "__main__":
    main()
