/* lightgru.c — the light GRU of Ravanelli et al. 2018 (the coursework's
 * eqs. 11–14, bench W2), behind the cell interface of cell.h:
 *
 *   a_z = BN_z(W_z x_t),  a_h = BN_h(W_h x_t)          (no separate biases)
 *   z_t = σ(a_z + U_z h_{t−1})
 *   h̃_t = ReLU(a_h + U_h h_{t−1})
 *   h_t = z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t,             h_0 = 0
 *
 *   BN(a)_j = γ_j (a_j − μ_j)/√(σ²_j + ε) + β_j  (torch.nn.BatchNorm1d)
 *
 * Batch norm takes its statistics over all T·B rows of the batch in training
 * mode (d->training: μ, σ² the batch mean and biased variance; the running
 * estimates are then updated as PyTorch does: mean ← (1−m)·mean + m·μ,
 * var ← (1−m)·var + m·σ²·R/(R−1), R = T·B), and uses the running estimates
 * in evaluation mode.
 *
 * Backward (p_z, p_h the pre-activations; δ = ∂L/∂h_t including the
 * recurrent terms from t+1):
 *   ∂p_z = δ ⊙ (h_{t−1} − h̃_t) ⊙ z(1−z)      ∂p_h = δ ⊙ (1−z) ⊙ [h̃_t > 0]
 *   ∂h_{t−1} += δ ⊙ z + ∂p_z U_z + ∂p_h U_h
 *   ∂U_z = Σ_t ∂p_zᵀ h_{t−1},  ∂U_h likewise    ∂a = ∂p
 *   ∂β = Σ_rows ∂a,  ∂γ = Σ_rows ∂a ⊙ x̂         (x̂ the normalised W x)
 *   training: ∂(Wx) = γ/(R·s) · (R ∂a − ∂β − x̂ ⊙ ∂γ)   (exact, through μ, σ²)
 *   eval:     ∂(Wx) = γ/s · ∂a                    (s = √(var + ε))
 *   ∂W_z = ∂(W_z x)ᵀ X,  ∂X = ∂(W_z x) W_z + ∂(W_h x) W_h
 *
 * Parameters (PyTorch-style names; lightgru.h has their indices):
 *   W_z, W_h (N×n_in), U_z, U_h (N×N), bn_z.weight, bn_z.bias, bn_h.weight,
 *   bn_h.bias (N); buffers bn_z.running_mean, bn_z.running_var,
 *   bn_h.running_mean, bn_h.running_var (N).
 * Init: W_z, W_h as nn.Linear's default, U(±1/√n_in) (bench W2); U_z
 *   orthogonal (nn.init.orthogonal_, bench W2); U_h U(±1/√N) (nn.Linear's
 *   default for an N→N map: the coursework does not state it, and W2's
 *   U(0, 1/√N) E/I-balanced magnitudes only make sense under the E/I sign
 *   mask — sl_lightgru_init_uh_ei draws those); γ = 1, β = 0, running mean 0,
 *   running var 1.
 *
 * Layouts: U (T×B×n_in) and H (T×B×N) time-major. The workspace keeps, with
 * R = T·B rows and the z- and h-parts side by side in 2N columns:
 *   X  R×2N  the normalised projections x̂ = [x̂_z | x̂_h]
 *   Z  R×2N  [z | h̃] per step (the records "update_gate", "candidate")
 *   D  R×2N  ∂p = [∂p_z | ∂p_h], turned into ∂(Wx) by the BN backward
 *   UC 2N×N  [U_z; U_h], so each step is one B×N·N×2N GEMM (and one back)
 *   S  2N    1/√(σ² + ε) used by the forward
 *   G  B×2N  the step's recurrent product
 *   UCt N×2N [U_zᵀ | U_hᵀ] (float32 path: the forward's step product is NN)
 * Performance: the input projections and input-weight gradients are GEMMs
 * over the R rows; a step costs one GEMM and one fused elementwise pass.
 * float32 (the library): the step products are libxsmm kernels (act.h's
 * sl_mm; UCt makes the forward one NN), the step passes and batch norm's
 * column sums and affine passes run on 16-lane vectors (row by row, sums in
 * float over 64-row chunks added into doubles), and ∂U_z, ∂U_h are summed
 * step by step while ∂p_t is in L1. The float64 build keeps the scalar
 * loops and whole-sequence GEMMs. */
#include <math.h>
#include <string.h>

#include <lapacke.h>

#include "core/blas.h"
#include "nn/act.h"
#include "nn/cell.h"
#include "nn/lightgru.h"
#include "silico.h"

static const char *const TENSOR_NAMES[SL_LGRU_N_TENSORS] = {
    "W_z",         "W_h",       "U_z",         "U_h",
    "bn_z.weight", "bn_z.bias", "bn_h.weight", "bn_h.bias",
    "bn_z.running_mean", "bn_z.running_var", "bn_h.running_mean", "bn_h.running_var",
};

static const char *const RECORD_NAMES[] = {"update_gate", "candidate"};

static void lgru_tensor(const sl_cell_dims *d, int i, const char **name, int *ndim,
                        int64_t shape[2])
{
    int N = d->n_hidden;
    *name = (i >= 0 && i < SL_LGRU_N_TENSORS) ? TENSOR_NAMES[i] : "?";
    shape[1] = 0;
    if (i == SL_LGRU_W_Z || i == SL_LGRU_W_H) {
        *ndim = 2, shape[0] = N, shape[1] = d->n_in;
    } else if (i == SL_LGRU_U_Z || i == SL_LGRU_U_H) {
        *ndim = 2, shape[0] = N, shape[1] = N;
    } else {
        *ndim = 1, shape[0] = N;
    }
}

/* ------------------------------------------------------------------ init */

void sl_init_orthogonal(int n, sl_real *Q, sl_real *tau, sl_real *sgn, sl_rng *rng)
{
    if (n <= 0) return;
    for (size_t i = 0; i < (size_t)n * n; i++) Q[i] = (sl_real)sl_rng_normal(rng);
    lapack_int info;
    if (SL_IS_DOUBLE)
        info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, n, n, (double *)(void *)Q, n, (double *)(void *)tau);
    else
        info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, n, n, (float *)(void *)Q, n, (float *)(void *)tau);
    if (info == 0) {
        for (int j = 0; j < n; j++) sgn[j] = Q[(size_t)j * n + j] < 0 ? -1 : 1;
        if (SL_IS_DOUBLE)
            info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, n, n, n, (double *)(void *)Q, n,
                                  (const double *)(const void *)tau);
        else
            info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, n, n, n, (float *)(void *)Q, n,
                                  (const float *)(const void *)tau);
    }
    if (info == 0) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) Q[(size_t)i * n + j] *= sgn[j];
        return;
    }
    /* LAPACK failed (out of memory in LAPACKE's work array): modified
     * Gram–Schmidt on the columns of a fresh Gaussian draw, which is the same
     * distribution (Haar), R's diagonal then being positive by construction. */
    for (size_t i = 0; i < (size_t)n * n; i++) Q[i] = (sl_real)sl_rng_normal(rng);
    for (int j = 0; j < n; j++) {
        for (int k = 0; k < j; k++) {
            double dot = 0;
            for (int i = 0; i < n; i++) dot += (double)Q[(size_t)i * n + k] * Q[(size_t)i * n + j];
            for (int i = 0; i < n; i++) Q[(size_t)i * n + j] -= (sl_real)(dot * Q[(size_t)i * n + k]);
        }
        double nrm = 0;
        for (int i = 0; i < n; i++) nrm += (double)Q[(size_t)i * n + j] * Q[(size_t)i * n + j];
        nrm = nrm > 0 ? 1 / sqrt(nrm) : 0;
        for (int i = 0; i < n; i++) Q[(size_t)i * n + j] = (sl_real)(Q[(size_t)i * n + j] * nrm);
    }
}

static void uniform_fill(sl_real *w, size_t n, double lo, double hi, sl_rng *rng)
{
    for (size_t i = 0; i < n; i++) w[i] = (sl_real)(lo + (hi - lo) * sl_rng_uniform(rng));
}

void sl_lightgru_init_uh_ei(int N, int n_exc, sl_real *U_h, sl_rng *rng)
{
    double k = 1.0 / sqrt((double)N);
    double scale = n_exc > 0 ? (double)(N - n_exc) / n_exc : 1.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            U_h[(size_t)i * N + j] = (sl_real)(k * sl_rng_uniform(rng) * (j < n_exc ? scale : 1.0));
}

static void lgru_init(const sl_cell_dims *d, sl_real *const *p, sl_rng *rng)
{
    int N = d->n_hidden, n_in = d->n_in;
    double kx = n_in > 0 ? 1.0 / sqrt((double)n_in) : 0, kh = 1.0 / sqrt((double)N);
    uniform_fill(p[SL_LGRU_W_Z], (size_t)N * n_in, -kx, kx, rng);
    uniform_fill(p[SL_LGRU_W_H], (size_t)N * n_in, -kx, kx, rng);
    /* U_h (N² ≥ N reals) and γ_z (N) serve as the QR's scratch before they are set */
    sl_init_orthogonal(N, p[SL_LGRU_U_Z], p[SL_LGRU_U_H], p[SL_LGRU_BNZ_W], rng);
    uniform_fill(p[SL_LGRU_U_H], (size_t)N * N, -kh, kh, rng);
    for (int j = 0; j < N; j++) {
        p[SL_LGRU_BNZ_W][j] = 1, p[SL_LGRU_BNZ_B][j] = 0;
        p[SL_LGRU_BNH_W][j] = 1, p[SL_LGRU_BNH_B][j] = 0;
        p[SL_LGRU_BNZ_MEAN][j] = 0, p[SL_LGRU_BNZ_VAR][j] = 1;
        p[SL_LGRU_BNH_MEAN][j] = 0, p[SL_LGRU_BNH_VAR][j] = 1;
    }
}

/* ------------------------------------------------------------- workspace */

typedef struct {
    sl_real *X, *Z, *D, *UC, *S, *G, *UCt;
    double *bsum;        /* 4·C: Σ ∂p, Σ ∂p ⊙ x̂ over rows, then one step's (float32 backward,
                            fused batch norm) */
    sl_real *DU, *XU;    /* C×n_in each: Σ_t ∂p_tᵀ u_t, Σ_t x̂_tᵀ u_t (likewise) */
} lgru_ws;

static lgru_ws lgru_carve(const sl_cell_dims *d, int B, int T, sl_real *ws)
{
    size_t N = (size_t)d->n_hidden, R = (size_t)B * T;
    lgru_ws w;
    w.X = ws;
    w.Z = w.X + R * 2 * N;
    w.D = w.Z + R * 2 * N;
    w.UC = w.D + R * 2 * N;
    w.S = w.UC + 2 * N * N;
    w.G = w.S + 2 * N;
    w.UCt = w.G + (size_t)B * 2 * N;
    w.bsum = (double *)(void *)(w.UCt + 2 * N * N); /* an even float offset: 8-byte aligned */
    w.DU = (sl_real *)(void *)(w.bsum + 8 * N);
    w.XU = w.DU + 2 * N * (size_t)d->n_in;
    return w;
}

static size_t lgru_ws_size(const sl_cell_dims *d, int B, int T)
{
    size_t N = (size_t)d->n_hidden, R = (size_t)B * T;
    return 3 * R * 2 * N + 4 * N * N + 2 * N + (size_t)B * 2 * N +
           8 * N * (sizeof(double) / sizeof(sl_real)) + 4 * N * (size_t)d->n_in;
}

/* ------------------------------------------------------------ batch norm */

#define BN_BLOCK 128 /* columns summed together (double accumulators on the stack) */

/* float32 column sums for batch norm (nc ≤ BN_BLOCK columns from c0 of the
 * R×C block X): with m: out = Σ_rows (x − m), out2 = Σ_rows (x − m)² (one
 * pass; m a shift near the mean keeps the variance from cancelling), and
 * with D: out = Σ_rows d, out2 = Σ_rows d·x. Over chunks of BN_ROWS rows (in
 * L1), one 16-column strip at a time with its sums in registers (16-lane
 * float sums per chunk, added into doubles: as accurate as the double loops
 * here, and vectorised). */
#define BN_ROWS 64
static void bn_colsums_f32(const float *X, const float *D, size_t R, size_t C, size_t c0,
                           size_t nc, const double *m, double *out, double *out2)
{
    const size_t nv = (nc + 15) / 16;
    for (size_t c = 0; c < nc; c++) out[c] = 0, out2 ? out2[c] = 0 : 0;
    for (size_t r0 = 0; r0 < R; r0 += BN_ROWS) {
        const size_t r1 = R - r0 < BN_ROWS ? R : r0 + BN_ROWS;
        for (size_t v = 0; v < nv; v++) {
            const size_t w = v + 1 < nv ? 16 : nc - 16 * v, col = c0 + 16 * v;
            vf16 s = VF(0), s2 = VF(0);
            if (D) {
                for (size_t r = r0; r < r1; r++) {
                    const vf16 dv = vld(D + r * C + col, w);
                    s += dv;
                    s2 = vfma(dv, vld(X + r * C + col, w), s2);
                }
            } else {
                float mf[16] = {0};
                for (size_t l = 0; l < w; l++) mf[l] = (float)m[16 * v + l];
                const vf16 mv = vload(mf);
                for (size_t r = r0; r < r1; r++) {
                    const vf16 e = vld(X + r * C + col, w) - mv;
                    s += e;
                    s2 = vfma(e, e, s2);
                }
            }
            float t1[16], t2[16]; /* lanes out through memory once, so s, s2 stay in registers */
            vstore(t1, s);
            vstore(t2, s2);
            for (size_t l = 0; l < w; l++) {
                out[16 * v + l] += t1[l];
                if (out2) out2[16 * v + l] += t2[l];
            }
        }
    }
}

/* x ← a·x + b·y + c over columns [c0, c0+nc) of the R×C blocks X (and Y,
 * NULL for none), per-column a, b, c (float32); chunks of BN_ROWS rows, one
 * 16-column strip at a time with its coefficients in registers */
static void bn_affine_f32(float *X, const float *Y, size_t R, size_t C, size_t c0, size_t nc,
                          const double *a, const double *b, const double *c)
{
    const size_t nv = (nc + 15) / 16;
    for (size_t r0 = 0; r0 < R; r0 += BN_ROWS) {
        const size_t r1 = R - r0 < BN_ROWS ? R : r0 + BN_ROWS;
        for (size_t v = 0; v < nv; v++) {
            const size_t w = v + 1 < nv ? 16 : nc - 16 * v, col = c0 + 16 * v;
            float af[16] = {0}, bf[16] = {0}, cf[16] = {0};
            for (size_t l = 0; l < w; l++) {
                af[l] = (float)a[16 * v + l];
                bf[l] = b ? (float)b[16 * v + l] : 0;
                cf[l] = (float)c[16 * v + l];
            }
            const vf16 av = vload(af), bv = vload(bf), cv = vload(cf);
            if (Y) {
                for (size_t r = r0; r < r1; r++) {
                    float *x = X + r * C + col;
                    vst(x, vfma(bv, vld(Y + r * C + col, w), vfma(av, vld(x, w), cv)), w);
                }
            } else {
                for (size_t r = r0; r < r1; r++) {
                    float *x = X + r * C + col;
                    vst(x, vfma(av, vld(x, w), cv), w);
                }
            }
        }
    }
}

/* Normalise the R×2N block X in place (columns [z | h]): batch statistics
 * (and running-statistic update) in training mode, running ones in eval. */
static void bn_forward(const sl_cell_dims *d, sl_real *const *p, sl_real *X, size_t R, sl_real *S)
{
    int N = d->n_hidden, C = 2 * N;
    double m = d->bn_momentum, eps = d->bn_eps;
    for (int c0 = 0; c0 < C; c0 += BN_BLOCK) {
        int nc = C - c0 < BN_BLOCK ? C - c0 : BN_BLOCK;
        double mean[BN_BLOCK], ist[BN_BLOCK];
        for (int c = 0; c < nc; c++) {
            int j = c0 + c, hpart = j >= N;
            const sl_real *rm = p[hpart ? SL_LGRU_BNH_MEAN : SL_LGRU_BNZ_MEAN];
            const sl_real *rv = p[hpart ? SL_LGRU_BNH_VAR : SL_LGRU_BNZ_VAR];
            mean[c] = rm[j - hpart * N];
            ist[c] = 1.0 / sqrt((double)rv[j - hpart * N] + eps);
        }
        if (d->training && SL_REAL_IS_FLOAT) { /* one pass, shifted by the first row */
            double var[BN_BLOCK], shift[BN_BLOCK];
            for (int c = 0; c < nc; c++) shift[c] = X[c0 + c];
            bn_colsums_f32(F32(X), NULL, R, (size_t)C, (size_t)c0, (size_t)nc, shift, mean, var);
            for (int c = 0; c < nc; c++) {
                const double dm = mean[c] / (double)R;
                mean[c] = shift[c] + dm;
                var[c] = var[c] - (double)R * dm * dm; /* Σ (x − mean)² */
                if (var[c] < 0) var[c] = 0;
            }
            for (int c = 0; c < nc; c++) {
                int j = c0 + c, hpart = j >= N;
                sl_real *rm = p[hpart ? SL_LGRU_BNH_MEAN : SL_LGRU_BNZ_MEAN];
                sl_real *rv = p[hpart ? SL_LGRU_BNH_VAR : SL_LGRU_BNZ_VAR];
                double vb = var[c] / (double)R;
                double vu = R > 1 ? var[c] / (double)(R - 1) : vb;
                rm[j - hpart * N] = (sl_real)((1 - m) * rm[j - hpart * N] + m * mean[c]);
                rv[j - hpart * N] = (sl_real)((1 - m) * rv[j - hpart * N] + m * vu);
                ist[c] = 1.0 / sqrt(vb + eps);
            }
        } else if (d->training) {
            double var[BN_BLOCK];
            for (int c = 0; c < nc; c++) mean[c] = 0, var[c] = 0;
            for (size_t r = 0; r < R; r++) {
                const sl_real *x = X + r * C + c0;
                for (int c = 0; c < nc; c++) mean[c] += x[c];
            }
            for (int c = 0; c < nc; c++) mean[c] /= (double)R;
            for (size_t r = 0; r < R; r++) {
                const sl_real *x = X + r * C + c0;
                for (int c = 0; c < nc; c++) {
                    double e = x[c] - mean[c];
                    var[c] += e * e;
                }
            }
            for (int c = 0; c < nc; c++) {
                int j = c0 + c, hpart = j >= N;
                sl_real *rm = p[hpart ? SL_LGRU_BNH_MEAN : SL_LGRU_BNZ_MEAN];
                sl_real *rv = p[hpart ? SL_LGRU_BNH_VAR : SL_LGRU_BNZ_VAR];
                double vb = var[c] / (double)R;
                double vu = R > 1 ? var[c] / (double)(R - 1) : vb;
                rm[j - hpart * N] = (sl_real)((1 - m) * rm[j - hpart * N] + m * mean[c]);
                rv[j - hpart * N] = (sl_real)((1 - m) * rv[j - hpart * N] + m * vu);
                ist[c] = 1.0 / sqrt(vb + eps);
            }
        }
        for (int c = 0; c < nc; c++) S[c0 + c] = (sl_real)ist[c];
        if (SL_REAL_IS_FLOAT) { /* x̂ = ist·x − ist·mean */
            double shift[BN_BLOCK];
            for (int c = 0; c < nc; c++) shift[c] = -ist[c] * mean[c];
            bn_affine_f32(F32W(X), NULL, R, (size_t)C, (size_t)c0, (size_t)nc, ist, NULL, shift);
            continue;
        }
        for (size_t r = 0; r < R; r++) {
            sl_real *x = X + r * C + c0;
            for (int c = 0; c < nc; c++) x[c] = (sl_real)((x[c] - mean[c]) * ist[c]);
        }
    }
}

/* D (R×2N) holds ∂a on entry: add ∂γ, ∂β into g and leave ∂(Wx) in D. */
static void bn_backward(const sl_cell_dims *d, sl_real *const *p, sl_real *const *g,
                        const sl_real *X, const sl_real *S, sl_real *D, size_t R)
{
    int N = d->n_hidden, C = 2 * N;
    for (int c0 = 0; c0 < C; c0 += BN_BLOCK) {
        int nc = C - c0 < BN_BLOCK ? C - c0 : BN_BLOCK;
        double dbeta[BN_BLOCK], dgamma[BN_BLOCK], k[BN_BLOCK];
        if (SL_REAL_IS_FLOAT) {
            bn_colsums_f32(F32(X), F32(D), R, (size_t)C, (size_t)c0, (size_t)nc, NULL, dbeta,
                           dgamma);
        } else {
            for (int c = 0; c < nc; c++) dbeta[c] = 0, dgamma[c] = 0;
            for (size_t r = 0; r < R; r++) {
                const sl_real *x = X + r * C + c0, *dd = D + r * C + c0;
                for (int c = 0; c < nc; c++) {
                    dbeta[c] += dd[c];
                    dgamma[c] += (double)dd[c] * x[c];
                }
            }
        }
        for (int c = 0; c < nc; c++) {
            int j = c0 + c, hpart = j >= N, jj = j - hpart * N;
            g[hpart ? SL_LGRU_BNH_B : SL_LGRU_BNZ_B][jj] += (sl_real)dbeta[c];
            g[hpart ? SL_LGRU_BNH_W : SL_LGRU_BNZ_W][jj] += (sl_real)dgamma[c];
            k[c] = (double)p[hpart ? SL_LGRU_BNH_W : SL_LGRU_BNZ_W][jj] * S[j];
            if (d->training) k[c] /= (double)R;
        }
        if (SL_REAL_IS_FLOAT) { /* d ← k·R·d − k·x̂·∂γ − k·∂β  (training), k·d (eval) */
            double a[BN_BLOCK], b[BN_BLOCK], c1[BN_BLOCK];
            const int tr = d->training;
            for (int c = 0; c < nc; c++) {
                a[c] = tr ? k[c] * (double)R : k[c];
                b[c] = tr ? -k[c] * dgamma[c] : 0;
                c1[c] = tr ? -k[c] * dbeta[c] : 0;
            }
            bn_affine_f32(F32W(D), tr ? F32(X) : NULL, R, (size_t)C, (size_t)c0, (size_t)nc, a,
                          b, c1);
        } else if (d->training) {
            for (size_t r = 0; r < R; r++) {
                const sl_real *x = X + r * C + c0;
                sl_real *dd = D + r * C + c0;
                for (int c = 0; c < nc; c++)
                    dd[c] = (sl_real)(k[c] * ((double)R * dd[c] - dbeta[c] - x[c] * dgamma[c]));
            }
        } else {
            for (size_t r = 0; r < R; r++) {
                sl_real *dd = D + r * C + c0;
                for (int c = 0; c < nc; c++) dd[c] = (sl_real)(k[c] * dd[c]);
            }
        }
    }
}

/* Batch norm's backward and ∂W_z, ∂W_h without another pass over the T·B
 * rows (float32, no dU): bn_backward maps ∂p to ∂(Wx) = a ⊙ ∂p + b ⊙ x̂ + c
 * per column (a = k·R, b = −k·∂γ, c = −k·∂β in training; a = k, b = c = 0 in
 * evaluation; k = γ·S (/R in training)), so
 *   ∂W[j,:] = Σ_r ∂(Wx)_rj u_r = a_j (∂pᵀU)_j + b_j (x̂ᵀU)_j + c_j Σ_r u_r,
 * and ∂β = Σ ∂p, ∂γ = Σ ∂p ⊙ x̂: all summed step by step in the recurrence
 * (w->bsum, w->DU, w->XU), ∂(Wx) itself never formed. */
static void lgru_bn_fused(const sl_cell_dims *d, sl_real *const *p, sl_real *const *g,
                          const sl_real *U, size_t R, const lgru_ws *w)
{
    const int N = d->n_hidden, n_in = d->n_in, C = 2 * N, tr = d->training;
    double usum[n_in > 0 ? n_in : 1];
    for (int i = 0; i < n_in; i++) usum[i] = 0;
    for (size_t r = 0; r < R; r++)
        for (int i = 0; i < n_in; i++) usum[i] += U[r * n_in + i];
    for (int j = 0; j < C; j++) {
        const int hpart = j >= N, jj = j - hpart * N;
        const double dbeta = w->bsum[j], dgamma = w->bsum[C + j];
        g[hpart ? SL_LGRU_BNH_B : SL_LGRU_BNZ_B][jj] += (sl_real)dbeta;
        g[hpart ? SL_LGRU_BNH_W : SL_LGRU_BNZ_W][jj] += (sl_real)dgamma;
        double k = (double)p[hpart ? SL_LGRU_BNH_W : SL_LGRU_BNZ_W][jj] * w->S[j];
        if (tr) k /= (double)R;
        const double a = tr ? k * (double)R : k, b = tr ? -k * dgamma : 0, c = tr ? -k * dbeta : 0;
        sl_real *gw = g[hpart ? SL_LGRU_W_H : SL_LGRU_W_Z] + (size_t)jj * n_in;
        const sl_real *du = w->DU + (size_t)j * n_in, *xu = w->XU + (size_t)j * n_in;
        for (int i = 0; i < n_in; i++) gw[i] += (sl_real)(a * du[i] + b * xu[i] + c * usum[i]);
    }
}

/* --------------------------------------------------------------- forward */

static inline sl_real sigmoid(sl_real x)
{
    if (SL_IS_DOUBLE) return (sl_real)(1.0 / (1.0 + exp(-(double)x)));
    return (sl_real)(1.0f / (1.0f + expf(-(float)x))); /* float build: expf is ~3x cheaper */
}

/* One forward step, float32, B rows: x the step's rows of X (B×2N, x̂), G
 * its recurrent product h_{t−1}[U_zᵀ | U_hᵀ] (NULL at t = 0), Z ← [z | h̃],
 * h ← z⊙h_{t−1} + (1 − z)⊙h̃. */
static void lgru_step_f32(const float *x, const float *G, float *Z, float *h, const float *hp,
                          const float *gz, const float *bz, const float *gh, const float *bh,
                          size_t B, size_t N)
{
    for (size_t b = 0; b < B; b++) {
        const float *xr = x + b * 2 * N, *gr = G ? G + b * 2 * N : NULL;
        const float *hpr = hp ? hp + b * N : NULL;
        float *zr = Z + b * 2 * N, *hr = h + b * N;
        for (size_t j = 0; j < N; j += 16) {
            const size_t w = N - j < 16 ? N - j : 16;
            vf16 pz = vfma(vld(gz + j, w), vld(xr + j, w), vld(bz + j, w));
            vf16 ph = vfma(vld(gh + j, w), vld(xr + N + j, w), vld(bh + j, w));
            if (gr) {
                pz += vld(gr + j, w);
                ph += vld(gr + N + j, w);
            }
            const vf16 z = vsigmoid(pz), hc = (vf16)((vi16)ph & (ph > VF(0)));
            vst(zr + j, z, w);
            vst(zr + N + j, hc, w);
            vst(hr + j, hpr ? vfma(z, vld(hpr + j, w) - hc, hc) : hc - z * hc, w);
        }
    }
}

/* One backward step, float32, B rows: dh = δ_t (B×N), Z the step's [z | h̃];
 * D ← [∂p_z | ∂p_h], dhp (NULL at t = 0) += δ ⊙ z. */
static void lgru_back_f32(const float *Z, const float *dh, const float *hp, float *D, float *dhp,
                          const float *X, float *sb, float *sg, size_t B, size_t N)
{
    for (size_t b = 0; b < B; b++) {
        const float *zr = Z + b * 2 * N, *dhr = dh + b * N, *hpr = hp ? hp + b * N : NULL;
        float *dr = D + b * 2 * N, *dhpr = dhp ? dhp + b * N : NULL;
        const float *xr = X ? X + b * 2 * N : NULL;
        for (size_t j = 0; j < N; j += 16) {
            const size_t w = N - j < 16 ? N - j : 16;
            const vf16 z = vld(zr + j, w), hc = vld(zr + N + j, w), del = vld(dhr + j, w);
            const vf16 hpv = hpr ? vld(hpr + j, w) : VF(0);
            const vf16 dpz = del * (hpv - hc) * z * (1 - z);
            vst(dr + j, dpz, w);
            const vf16 dph = (vf16)((vi16)(del * (1 - z)) & (hc > VF(0)));
            vst(dr + N + j, dph, w);
            if (dhpr) vst(dhpr + j, vfma(del, z, vld(dhpr + j, w)), w);
            if (xr) { /* batch norm's column sums Σ ∂p, Σ ∂p ⊙ x̂ (fused backward) */
                vst(sb + j, vld(sb + j, w) + dpz, w);
                vst(sb + N + j, vld(sb + N + j, w) + dph, w);
                vst(sg + j, vfma(dpz, vld(xr + j, w), vld(sg + j, w)), w);
                vst(sg + N + j, vfma(dph, vld(xr + N + j, w), vld(sg + N + j, w)), w);
            }
        }
    }
}

static void lgru_forward(const sl_cell_dims *d, sl_real *const *p, const sl_real *U, int B, int T,
                         sl_real *H, sl_real *ws)
{
    int N = d->n_hidden, n_in = d->n_in, C = 2 * N;
    size_t R = (size_t)B * T, BN = (size_t)B * N;
    if (R == 0 || N <= 0) return;
    lgru_ws w = lgru_carve(d, B, T, ws);

    /* feed-forward terms of all T steps: X = [U W_zᵀ | U W_hᵀ], then BN */
    sl_gemm(0, 1, (int)R, N, n_in, 1, U, n_in, p[SL_LGRU_W_Z], n_in, 0, w.X, C);
    sl_gemm(0, 1, (int)R, N, n_in, 1, U, n_in, p[SL_LGRU_W_H], n_in, 0, w.X + N, C);
    bn_forward(d, p, w.X, R, w.S);

    memcpy(w.UC, p[SL_LGRU_U_Z], (size_t)N * N * sizeof(sl_real));
    memcpy(w.UC + (size_t)N * N, p[SL_LGRU_U_H], (size_t)N * N * sizeof(sl_real));
    const sl_real *gz = p[SL_LGRU_BNZ_W], *bz = p[SL_LGRU_BNZ_B];
    const sl_real *gh = p[SL_LGRU_BNH_W], *bh = p[SL_LGRU_BNH_B];

    /* recurrent noise joins the recurrent term G (B×C) of each step, after batch norm */
    const int noisy = d->noise && d->noise_sd > 0;
    if (SL_REAL_IS_FLOAT) { /* per step: one NN product (libxsmm) and the vector pass */
        sl_transpose(w.UC, C, N, w.UCt);
        const sl_mm step = sl_mm_make(0, 0, B, C, N, N, C, C, 0);
        for (int t = 0; t < T; t++) {
            const sl_real *hp = t ? H + (size_t)(t - 1) * BN : NULL;
            if (hp)
                sl_mm_run(&step, hp, w.UCt, w.G);
            else if (noisy)
                memset(w.G, 0, (size_t)B * C * sizeof(sl_real));
            sl_cell_noise(d, w.G, (size_t)B * C);
            const size_t r0 = (size_t)t * B;
            lgru_step_f32(F32(w.X + r0 * C), hp || noisy ? F32(w.G) : NULL, F32W(w.Z + r0 * C),
                          F32W(H + r0 * N), hp ? F32(hp) : NULL, F32(gz), F32(bz), F32(gh),
                          F32(bh), (size_t)B, (size_t)N);
        }
        return;
    }
    for (int t = 0; t < T; t++) {
        const sl_real *hp = t ? H + (size_t)(t - 1) * BN : NULL;
        if (hp)
            sl_gemm(0, 1, B, C, N, 1, hp, N, w.UC, N, 0, w.G, C);
        else if (noisy)
            memset(w.G, 0, (size_t)B * C * sizeof(sl_real));
        sl_cell_noise(d, w.G, (size_t)B * C);
        const int use_g = hp || noisy;
        for (int b = 0; b < B; b++) {
            size_t r = (size_t)t * B + b;
            const sl_real *x = w.X + r * C, *gr = w.G + (size_t)b * C;
            sl_real *zr = w.Z + r * C, *h = H + r * N;
            const sl_real *hpr = hp ? hp + (size_t)b * N : NULL;
            for (int j = 0; j < N; j++) {
                sl_real pz = gz[j] * x[j] + bz[j] + (use_g ? gr[j] : 0);
                sl_real ph = gh[j] * x[N + j] + bh[j] + (use_g ? gr[N + j] : 0);
                sl_real z = sigmoid(pz), hc = ph > 0 ? ph : 0;
                zr[j] = z, zr[N + j] = hc;
                h[j] = (hpr ? z * hpr[j] : 0) + (1 - z) * hc;
            }
        }
    }
}

/* -------------------------------------------------------------- backward */

static void lgru_backward(const sl_cell_dims *d, sl_real *const *p, sl_real *const *g,
                          const sl_real *U, int B, int T, const sl_real *H, sl_real *dH,
                          sl_real *dU, sl_real *ws)
{
    int N = d->n_hidden, n_in = d->n_in, C = 2 * N;
    size_t R = (size_t)B * T, BN = (size_t)B * N;
    if (R == 0 || N <= 0) return;
    lgru_ws w = lgru_carve(d, B, T, ws);

    /* float32 without dU: batch norm's backward and the input weights' gradients
     * are fused into the recurrence (see lgru_bn_fused) */
    const int fused = SL_REAL_IS_FLOAT && !dU;
    if (fused) {
        memset(w.bsum, 0, 2 * (size_t)C * sizeof(double));
        memset(w.DU, 0, 2 * (size_t)C * n_in * sizeof(sl_real));
    }
    /* the recurrence, backwards: dH[t] becomes δ_t = ∂L/∂h_t in place */
    if (SL_REAL_IS_FLOAT) { /* libxsmm per step; ∂U_z, ∂U_h summed while ∂p_t is in L1 */
        const sl_mm back = sl_mm_make(0, 0, B, N, C, C, N, N, 1);
        const sl_mm dU1 = sl_mm_make(1, 0, N, N, B, C, N, N, 1);
        const sl_mm du = sl_mm_make(1, 0, C, n_in, B, C, n_in, n_in, 1);
        for (int t = T - 1; t >= 0; t--) {
            sl_real *dh = dH + (size_t)t * BN, *Dt = w.D + (size_t)t * B * C;
            if (t < T - 1) sl_mm_run(&back, Dt + (size_t)B * C, w.UC, dh);
            const sl_real *hp = t ? H + (size_t)(t - 1) * BN : NULL;
            sl_real *dhp = t ? dH + (size_t)(t - 1) * BN : NULL;
            float *sb = fused ? (float *)(void *)(w.bsum + 2 * C) : NULL, *sg = sb ? sb + C : NULL;
            if (sb) memset(sb, 0, 2 * (size_t)C * sizeof(float));
            lgru_back_f32(F32(w.Z + (size_t)t * B * C), F32(dh), hp ? F32(hp) : NULL, F32W(Dt),
                          dhp ? F32W(dhp) : NULL, fused ? F32(w.X + (size_t)t * B * C) : NULL, sb,
                          sg, (size_t)B, (size_t)N);
            if (hp) {
                sl_mm_run(&dU1, Dt, hp, g[SL_LGRU_U_Z]);
                sl_mm_run(&dU1, Dt + N, hp, g[SL_LGRU_U_H]);
            }
            if (fused) {
                const sl_real *Xt = w.X + (size_t)t * B * C, *Ut = U + (size_t)t * B * n_in;
                for (int j = 0; j < C; j++) w.bsum[j] += sb[j], w.bsum[C + j] += sg[j];
                sl_mm_run(&du, Dt, Ut, w.DU);
                sl_mm_run(&du, Xt, Ut, w.XU);
            }
        }
    } else for (int t = T - 1; t >= 0; t--) {
        sl_real *dh = dH + (size_t)t * BN;
        if (t < T - 1) /* δ_t += ∂p_{t+1} [U_z; U_h] */
            sl_gemm(0, 0, B, N, C, 1, w.D + (size_t)(t + 1) * B * C, C, w.UC, N, 1, dh, N);
        const sl_real *hp = t ? H + (size_t)(t - 1) * BN : NULL;
        sl_real *dhp = t ? dH + (size_t)(t - 1) * BN : NULL;
        for (int b = 0; b < B; b++) {
            size_t r = (size_t)t * B + b;
            const sl_real *zr = w.Z + r * C;
            sl_real *dr = w.D + r * C;
            const sl_real *dhr = dh + (size_t)b * N;
            for (int j = 0; j < N; j++) {
                sl_real z = zr[j], hc = zr[N + j], del = dhr[j];
                sl_real hpv = hp ? hp[(size_t)b * N + j] : 0;
                dr[j] = del * (hpv - hc) * z * (1 - z);
                dr[N + j] = hc > 0 ? del * (1 - z) : 0;
                if (dhp) dhp[(size_t)b * N + j] += del * z;
            }
        }
    }
    /* ∂U_z = Σ_{t≥1} ∂p_z,tᵀ h_{t−1}, ∂U_h likewise: one GEMM each over the rows */
    if (T > 1 && !SL_REAL_IS_FLOAT) {
        int Rm = (int)(R - (size_t)B);
        sl_gemm(1, 0, N, N, Rm, 1, w.D + (size_t)B * C, C, H, N, 1, g[SL_LGRU_U_Z], N);
        sl_gemm(1, 0, N, N, Rm, 1, w.D + (size_t)B * C + N, C, H, N, 1, g[SL_LGRU_U_H], N);
    }
    if (fused) {
        lgru_bn_fused(d, p, g, U, R, &w);
        return;
    }
    /* batch norm: D = ∂a → ∂(Wx); then the input weights and inputs */
    bn_backward(d, p, g, w.X, w.S, w.D, R);
    sl_gemm(1, 0, N, n_in, (int)R, 1, w.D, C, U, n_in, 1, g[SL_LGRU_W_Z], n_in);
    sl_gemm(1, 0, N, n_in, (int)R, 1, w.D + N, C, U, n_in, 1, g[SL_LGRU_W_H], n_in);
    if (dU) {
        sl_gemm(0, 0, (int)R, n_in, N, 1, w.D, C, p[SL_LGRU_W_Z], n_in, 0, dU, n_in);
        sl_gemm(0, 0, (int)R, n_in, N, 1, w.D + N, C, p[SL_LGRU_W_H], n_in, 1, dU, n_in);
    }
}

/* --------------------------------------------------------------- records */

static void lgru_record(const sl_cell_dims *d, const sl_real *ws, int B, int T, int which,
                        sl_real *out)
{
    size_t N = (size_t)d->n_hidden, R = (size_t)B * T;
    const sl_real *Z = ws + R * 2 * N + (which == 1 ? N : 0); /* lgru_carve's Z */
    for (size_t r = 0; r < R; r++) memcpy(out + r * N, Z + r * 2 * N, N * sizeof(sl_real));
}

const sl_cell_ops sl_cell_lightgru = {
    .name = "lightgru",
    .n_tensors = SL_LGRU_N_PARAMS,
    .n_buffers = SL_LGRU_N_TENSORS - SL_LGRU_N_PARAMS,
    .tensor = lgru_tensor,
    .init = lgru_init,
    .ws_size = lgru_ws_size,
    .forward = lgru_forward,
    .backward = lgru_backward,
    .n_records = 2,
    .record_names = RECORD_NAMES,
    .record = lgru_record,
};
