#!/usr/bin/python3
"""numpy/scipy/sklearn references for silico's dissection analyses
(src/analysis/selectivity.c, decode.c).

Usage:  /usr/bin/python3 tests/ref/gen_dissect.py OUTDIR

Writes OUTDIR/<case>/ (the committed copy lives in tests/golden/dissect/),
arrays float64 unless noted:

  dprime_*   X (n x N activity), group (int32, 1 = a, 0 = b, -1 = left out),
             dprime = 2 (mean_a - mean_b) / sqrt(var_a + var_b), numpy var
             (ddof 0): units drawn from normals with known means and sds
  ridge      X (n x p), Y (n x q), fold (int32), lambda (1,), r2 (q): per fold,
             X standardised by the training rows' mean and sd (ddof 0),
             sklearn-equivalent Ridge(alpha=lambda) on centred Y solved by
             scipy.linalg.solve; r2 = 1 - SS_res / SS_tot over the pooled
             held-out predictions
"""
import os
import sys

import numpy as np
import scipy.linalg


def save(d, name, a):
    np.save(os.path.join(d, name + ".npy"), a)


def dprime(X, g):
    a, b = X[g == 1], X[g == 0]
    return 2 * (a.mean(0) - b.mean(0)) / np.sqrt(a.var(0) + b.var(0))


def main(out):
    rng = np.random.default_rng(20251122)
    cases = [("dprime_small", 12, 5), ("dprime_wide", 200, 64)]
    for name, n, N in cases:
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        g = np.zeros(n, dtype=np.int32)
        g[: n // 2] = 1
        g[-1] = -1  # one trial left out of both groups
        rng.shuffle(g)
        mu_a = rng.normal(0, 1, N)
        mu_b = rng.normal(0, 1, N)
        sd = rng.uniform(0.2, 2.0, N)
        X = np.where((g == 1)[:, None], rng.normal(mu_a, sd, (n, N)), rng.normal(mu_b, sd, (n, N)))
        save(d, "X", X)
        save(d, "group", g)
        save(d, "dprime", dprime(X, g))

    d = os.path.join(out, "ridge")
    os.makedirs(d, exist_ok=True)
    n, p, q, folds, lam = 60, 8, 3, 5, 2.5
    X = rng.normal(0, 1, (n, p)) * rng.uniform(0.5, 3, p) + rng.normal(0, 2, p)
    B = rng.normal(0, 1, (p, q))
    Y = X @ B + rng.normal(0, 1.0, (n, q)) + 3.0
    fold = (np.arange(n) % folds).astype(np.int32)
    rng.shuffle(fold)
    pred = np.zeros_like(Y)
    for f in range(folds):
        tr, te = fold != f, fold == f
        mu, sdv = X[tr].mean(0), X[tr].std(0)
        Xt = (X[tr] - mu) / sdv
        ym = Y[tr].mean(0)
        beta = scipy.linalg.solve(Xt.T @ Xt + lam * np.eye(p), Xt.T @ (Y[tr] - ym), assume_a="pos")
        pred[te] = ((X[te] - mu) / sdv) @ beta + ym
    r2 = 1 - ((Y - pred) ** 2).sum(0) / ((Y - Y.mean(0)) ** 2).sum(0)
    save(d, "X", X)
    save(d, "Y", Y)
    save(d, "fold", fold)
    save(d, "lambda", np.array([lam]))
    save(d, "r2", r2)


if __name__ == "__main__":
    main(sys.argv[1])
