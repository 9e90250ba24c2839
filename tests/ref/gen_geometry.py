#!/usr/bin/python3
"""numpy/scipy references for silico's population-geometry measures
(src/analysis/{pca,tangling,jpca,rsa,cka,cca}.c), written independently of
the C code from the papers' definitions and their reference implementations
(rsatoolbox, Kornblith et al. 2019's CKA notebook, scipy).

Usage:  /usr/bin/python3 tests/ref/gen_geometry.py OUTDIR
Writes OUTDIR/*.npy (tests/golden/geometry/ when committed), float64:

RSA (rsatoolbox conventions)
  rsa_x.npy (8x20), rsa_y.npy (8x15)    condition patterns
  rdm_x_euclidean.npy, rdm_y_euclidean.npy    ||xi-xj||^2 / p (8x8)
  rdm_x_correlation.npy, rdm_y_correlation.npy  1 - Pearson r
  rsa_compare.npy  [spearman, pearson, kendall tau-a, cosine] of the
                   euclidean RDMs (upper triangles)
  rsa_ties_a.npy, rsa_ties_b.npy (8x8)  RDMs with tied entries (rounded)
  rsa_ties_compare.npy  the same four comparisons (average ranks for ties;
                   tau-a = (concordant - discordant) / pairs)
  cn_x.npy (3x6x10)  three independent splits; cn_rdm.npy crossnobis RDM
                   mean over split pairs a<b of (xi^a-xj^a).(xi^b-xj^b)/p
  condensed.npy    scipy.spatial.distance.squareform(rdm_x_euclidean)
CKA (Kornblith 2019 functions, numpy)
  cka_x.npy (40x10), cka_y.npy (40x6)
  cka.npy  [linear, linear debiased, linear Gram form, Gram debiased, rbf 0.5]
CCA / SVCCA / Procrustes
  cca_x.npy (50x8), cca_y.npy (50x5)
  cca_rho.npy      canonical correlations (svd of Qx^T Qy, numpy QR)
  cca.npy          [mean R^2 = sum rho^2 / min(p,q), svcca mean rho (99%),
                    procrustes distance (scipy orthogonal_procrustes, centred,
                    unit Frobenius norm, Y zero-padded), angular arccos(nuclear)]
  svcca_y.npy (50x12)  a low-rank-plus-noise Y for the SVCCA 99% cut;
  svcca.npy        [svcca mean rho of (cca_x, svcca_y)]
PCA
  pca_x.npy (30x6); pca_var.npy (covariance eigenvalues, descending, numpy
  eigh); pca_comp.npy (6x6, rows, largest |entry| positive); pca_pr.npy [PR]
Tangling (Russo 2018)
  tg_x.npy (2x40x2): a circle and a figure-eight; tg_q.npy (2x40) with
  dt = 0.01, eps = 0.1 * total variance (ddof 1), derivative numpy.gradient;
  tg_median.npy [median]
jPCA (Churchland 2012)
  jp_x.npy (5x30x12): five conditions of a 6-D rotation (planes at 1, 2.5
  and 4 Hz, decaying slightly) embedded in 12 units by a random orthonormal
  map plus a per-unit offset; jp_q.npy (12x6) the embedding (columns 2j,
  2j+1 = plane j); jp_freq_true.npy [1, 2.5, 4]
  jp.npy  [r2_skew, r2_linear, rotation strength, soft used,
           var captured plane 0..2, freq plane 0..2]  with soft = 5% of the
          widest range, k = 6, dt = 0.01 (lstsq for both fits)
"""
import os
import sys

import numpy as np
import scipy.linalg
import scipy.spatial.distance
import scipy.stats


def save(out, name, a):
    np.save(os.path.join(out, name), np.asarray(a, dtype=np.float64))


def upper(d):
    return d[np.triu_indices(d.shape[0], 1)]


def tau_a(a, b):
    s = 0.0
    m = len(a)
    for i in range(m):
        for j in range(i + 1, m):
            s += np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
    return s / (m * (m - 1) / 2)


def compare4(A, B):
    a, b = upper(A), upper(B)
    return [scipy.stats.spearmanr(a, b)[0], scipy.stats.pearsonr(a, b)[0], tau_a(a, b),
            a @ b / np.linalg.norm(a) / np.linalg.norm(b)]


def rdm_euc(X):
    return scipy.spatial.distance.squareform(scipy.spatial.distance.pdist(X, "sqeuclidean")) / X.shape[1]


def rdm_corr(X):
    return scipy.spatial.distance.squareform(scipy.spatial.distance.pdist(X, "correlation"))


# --- Kornblith et al. 2019 (the CKA notebook), numpy
def gram_linear(x):
    return x @ x.T


def gram_rbf(x, threshold):
    dot = x @ x.T
    sq = np.diag(dot)
    d2 = -2 * dot + sq[:, None] + sq[None, :]
    return np.exp(-d2 / (2 * threshold ** 2 * np.median(d2)))


def center_gram(g, unbiased):
    g = g.copy()
    n = g.shape[0]
    if unbiased:
        np.fill_diagonal(g, 0)
        means = np.sum(g, 0) / (n - 2)
        means -= np.sum(means) / (2 * (n - 1))
        g -= means[:, None]
        g -= means[None, :]
        np.fill_diagonal(g, 0)
    else:
        means = np.mean(g, 0)
        means -= np.mean(means) / 2
        g -= means[:, None]
        g -= means[None, :]
    return g


def cka_gram(gx, gy, debiased):
    gx, gy = center_gram(gx, debiased), center_gram(gy, debiased)
    return gx.ravel() @ gy.ravel() / (np.linalg.norm(gx) * np.linalg.norm(gy))


def _deb(xty, sx, sy, nx, ny, n):
    return xty - n / (n - 2.0) * sx @ sy + nx * ny / ((n - 1) * (n - 2))


def cka_feature(x, y, debiased):
    x = x - x.mean(0)
    y = y - y.mean(0)
    dps = np.linalg.norm(x.T @ y) ** 2
    nx = np.linalg.norm(x.T @ x)
    ny = np.linalg.norm(y.T @ y)
    if debiased:
        n = x.shape[0]
        sx, sy = np.einsum("ij,ij->i", x, x), np.einsum("ij,ij->i", y, y)
        qx, qy = sx.sum(), sy.sum()
        dps = _deb(dps, sx, sy, qx, qy, n)
        nx = np.sqrt(_deb(nx ** 2, sx, sx, qx, qx, n))
        ny = np.sqrt(_deb(ny ** 2, sy, sy, qy, qy, n))
    return dps / (nx * ny)


def cca_rho(x, y):
    x = x - x.mean(0)
    y = y - y.mean(0)
    qx, _ = np.linalg.qr(x)
    qy, _ = np.linalg.qr(y)
    return np.linalg.svd(qx.T @ qy, compute_uv=False)


def svcca(x, y, keep=0.99):
    def red(a):
        a = a - a.mean(0)
        u, s, vt = np.linalg.svd(a, full_matrices=False)
        frac = np.cumsum(s ** 2) / np.sum(s ** 2)
        k = int(np.searchsorted(frac, keep - 1e-12) + 1)
        return u[:, :k] * s[:k]
    return float(np.mean(cca_rho(red(x), red(y))))


def procrustes(x, y):
    x = x - x.mean(0)
    y = y - y.mean(0)
    x /= np.linalg.norm(x)
    y /= np.linalg.norm(y)
    p = max(x.shape[1], y.shape[1])
    xp = np.pad(x, ((0, 0), (0, p - x.shape[1])))
    yp = np.pad(y, ((0, 0), (0, p - y.shape[1])))
    r, _ = scipy.linalg.orthogonal_procrustes(yp, xp)
    d = np.linalg.norm(xp - yp @ r)
    nuc = np.linalg.svd(x.T @ y, compute_uv=False).sum()
    return d, np.arccos(min(nuc, 1.0))


def tangling(X, dt, eps_frac=0.1):
    C, T, D = X.shape
    dX = np.gradient(X, dt, axis=1)
    x = X.reshape(-1, D)
    dx = dX.reshape(-1, D)
    eps = eps_frac * np.sum(np.var(x, axis=0, ddof=1))
    q = np.zeros(len(x))
    for i in range(len(x)):
        num = np.sum((dx[i] - dx) ** 2, axis=1)
        den = np.sum((x[i] - x) ** 2, axis=1) + eps
        q[i] = np.max(num / den)
    return q.reshape(C, T), np.median(q)


def jpca(X, dt, k=6):
    C, T, N = X.shape
    rng_ = X.max(axis=(0, 1)) - X.min(axis=(0, 1))
    soft = 0.05 * rng_.max()
    Y = X / (rng_ + soft)
    Y = Y - Y.mean(axis=0, keepdims=True)
    flat = Y.reshape(-1, N)
    flat_c = flat - flat.mean(0)
    w, v = np.linalg.eigh(np.cov(flat_c.T))
    V = v[:, np.argsort(w)[::-1][:k]]
    Z = (flat_c @ V).reshape(C, T, k)
    pre = Z[:, :-1].reshape(-1, k)
    dZ = (np.diff(Z, axis=1) / dt).reshape(-1, k)
    sst = np.sum((dZ - dZ.mean(0)) ** 2)
    Ml = np.linalg.lstsq(pre, dZ, rcond=None)[0]
    r2l = 1 - np.sum((dZ - pre @ Ml) ** 2) / sst
    # skew: parameterise M = sum_b beta_b (E_ij - E_ji)
    cols = []
    idx = [(i, j) for i in range(k) for j in range(i + 1, k)]
    for (i, j) in idx:
        E = np.zeros((k, k))
        E[i, j], E[j, i] = 1, -1
        cols.append((pre @ E).ravel())
    A = np.stack(cols, axis=1)
    beta = np.linalg.lstsq(A, dZ.ravel(), rcond=None)[0]
    Ms = np.zeros((k, k))
    for b, (i, j) in zip(beta, idx):
        Ms[i, j], Ms[j, i] = b, -b
    r2s = 1 - np.sum((dZ - pre @ Ms) ** 2) / sst
    ev, evec = np.linalg.eig(Ms)
    order = [i for i in np.argsort(-np.abs(ev.imag)) if ev[i].imag > 0][: k // 2]
    total = np.sum(flat_c ** 2)
    var, freq = [], []
    for i in order:
        P = np.stack([evec[:, i].real, evec[:, i].imag], axis=1)
        P, _ = np.linalg.qr(P)
        proj = flat_c @ V @ P
        var.append(np.sum(proj ** 2) / total)
        freq.append(ev[i].imag / (2 * np.pi))
    return [r2s, r2l, r2s / r2l, soft] + var + freq


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20120705)

    # RSA
    x = rng.normal(size=(8, 20))
    y = x[:, :15] * 0.5 + rng.normal(size=(8, 15))
    save(out, "rsa_x.npy", x)
    save(out, "rsa_y.npy", y)
    ex, ey = rdm_euc(x), rdm_euc(y)
    save(out, "rdm_x_euclidean.npy", ex)
    save(out, "rdm_y_euclidean.npy", ey)
    save(out, "rdm_x_correlation.npy", rdm_corr(x))
    save(out, "rdm_y_correlation.npy", rdm_corr(y))
    save(out, "rsa_compare.npy", compare4(ex, ey))
    ta, tb = np.round(ex * 2) / 2, np.round(ey * 2) / 2
    save(out, "rsa_ties_a.npy", ta)
    save(out, "rsa_ties_b.npy", tb)
    save(out, "rsa_ties_compare.npy", compare4(ta, tb))
    cn = rng.normal(size=(3, 6, 10)) + rng.normal(size=(1, 6, 10)) * 2
    d = np.zeros((6, 6))
    pairs = 0
    for a in range(3):
        for b in range(a + 1, 3):
            diff_a = cn[a][:, None, :] - cn[a][None, :, :]
            diff_b = cn[b][:, None, :] - cn[b][None, :, :]
            d += np.einsum("ijk,ijk->ij", diff_a, diff_b) / 10
            pairs += 1
    save(out, "cn_x.npy", cn)
    save(out, "cn_rdm.npy", d / pairs)
    save(out, "condensed.npy", scipy.spatial.distance.squareform(ex, checks=False))

    # CKA
    cx = rng.normal(size=(40, 10))
    cy = np.tanh(cx[:, :6] @ rng.normal(size=(6, 6))) + 0.3 * rng.normal(size=(40, 6))
    save(out, "cka_x.npy", cx)
    save(out, "cka_y.npy", cy)
    save(out, "cka.npy", [cka_feature(cx, cy, False), cka_feature(cx, cy, True),
                          cka_gram(gram_linear(cx - cx.mean(0)), gram_linear(cy - cy.mean(0)), False),
                          cka_gram(gram_linear(cx - cx.mean(0)), gram_linear(cy - cy.mean(0)), True),
                          cka_gram(gram_rbf(cx, 0.5), gram_rbf(cy, 0.5), False)])

    # CCA
    ax = rng.normal(size=(50, 8))
    ay = ax[:, :3] @ rng.normal(size=(3, 5)) + 0.8 * rng.normal(size=(50, 5))
    save(out, "cca_x.npy", ax)
    save(out, "cca_y.npy", ay)
    rho = cca_rho(ax, ay)
    save(out, "cca_rho.npy", rho)
    d, ang = procrustes(ax, ay)
    save(out, "cca.npy", [np.sum(rho ** 2) / 5, svcca(ax, ay), d, ang])
    sy = ax[:, :4] @ rng.normal(size=(4, 12)) * 3 + 0.05 * rng.normal(size=(50, 12))
    save(out, "svcca_y.npy", sy)
    save(out, "svcca.npy", [svcca(ax, sy)])

    # PCA
    px = rng.normal(size=(30, 6)) @ np.diag([3, 2, 1.5, 1, 0.5, 0.2]) @ scipy.stats.ortho_group.rvs(6, random_state=7)
    save(out, "pca_x.npy", px)
    w, v = np.linalg.eigh(np.cov(px.T))
    o = np.argsort(w)[::-1]
    comp = v[:, o].T
    for r in comp:
        r *= np.sign(r[np.argmax(np.abs(r))])
    save(out, "pca_var.npy", w[o])
    save(out, "pca_comp.npy", comp)
    save(out, "pca_pr.npy", [w.sum() ** 2 / np.sum(w ** 2)])

    # tangling: a circle and a figure-eight (which crosses itself)
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    circle = np.stack([np.cos(t), np.sin(t)], 1)
    eight = np.stack([np.sin(t), np.sin(2 * t) / 2], 1) + [0.2, 0.1]
    tg = np.stack([circle, eight])
    save(out, "tg_x.npy", tg)
    q, med = tangling(tg, 0.01)
    save(out, "tg_q.npy", q)
    save(out, "tg_median.npy", [med])

    # jPCA on a known rotation
    freqs = np.array([1.0, 2.5, 4.0])
    dt, T, C, N = 0.01, 30, 5, 12
    Q = scipy.stats.ortho_group.rvs(N, random_state=3)[:, :6]
    X = np.zeros((C, T, N))
    for c in range(C):
        z0 = rng.normal(size=6)
        for ti in range(T):
            z = np.zeros(6)
            for j, f in enumerate(freqs):
                a = 2 * np.pi * f * ti * dt
                R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
                z[2 * j:2 * j + 2] = np.exp(-0.5 * ti * dt) * R @ z0[2 * j:2 * j + 2]
            X[c, ti] = Q @ z
    X += rng.uniform(1, 3, size=N)
    save(out, "jp_x.npy", X)
    save(out, "jp_q.npy", Q)
    save(out, "jp_freq_true.npy", freqs)
    save(out, "jp.npy", jpca(X, dt))


if __name__ == "__main__":
    main()
