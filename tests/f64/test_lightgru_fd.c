/* test_lightgru_fd.c — float64 finite-difference checks of the light-GRU cell
 * (src/nn/lightgru.c) and the ENU input stage (src/nn/enu.c).
 *
 * Loss L = Σ w ⊙ H with a fixed random w (T×B×N). For every element of every
 * parameter and of the input U, the central difference (h = 1e-6) is compared
 * with the analytic gradient:
 *     rel = max|fd − an| / max(max|an| over the whole buffer, 1e-8) ≤ 1e-6
 * (numerator per tensor; the buffer is all parameters and dU together).
 * Batch norm in training mode (batch statistics over all T·B rows, gradient
 * through them) and in eval mode (running statistics, set to random values);
 * the running statistics are restored before every forward. Cases: N = 1,
 * B = 1, small shapes; the ENU stage alone (L = Σ w ⊙ E); and ENU → light-GRU
 * with the block mask applied as W ⊙ M in the forward and M ⊙ ∂W.
 *
 * An independent naive forward (double loops, no BLAS) checks H and the
 * running-statistic update, and gives the pre-activations: draws are redone
 * until no ReLU input (candidate or ENU) is within 1e-4 of its kink. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cell.h"
#include "nn/enu.h"
#include "nn/lightgru.h"
#include "silico.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "lightgru FD needs -DSL_REAL=double");

#define FD_H 1e-6
#define FD_TOL 1e-6
#define FD_KINK 1e-4
#define NT SL_LGRU_N_TENSORS
#define NP SL_LGRU_N_PARAMS

typedef struct {
    const char *label;
    int N, n_in, B, T, training;
    int k; /* > 0: ENU stage of width N·k in front (n_in is then the ENU's input) */
    uint64_t seed;
} fd_case;

typedef struct {
    fd_case c;
    sl_cell_dims d;
    int cin; /* the cell's n_in (N·k with ENU) */
    size_t R, numel[NT];
    sl_real *p[NT], *g[NT], *buf0[4];
    sl_real *peff[NT]; /* the cell's view: masked W_z, W_h with ENU */
    sl_real *U, *w, *H, *dH, *dU, *ws, *E, *dE, *dCU;
    sl_enu_dims ed;
    sl_real *We, *be, *gWe, *gbe, *M;
    double min_pre; /* min |ReLU input| of the last naive forward */
    int n_off, n_relu; /* ReLU inputs ≤ 0, and all of them */
} fd_net;

static sl_real *fd_alloc(size_t n)
{
    sl_real *p = calloc(n ? n : 1, sizeof(sl_real));
    cr_assert_not_null(p);
    return p;
}

static void fd_net_free(fd_net *n)
{
    for (int i = 0; i < NT; i++) {
        free(n->p[i]);
        free(n->g[i]);
    }
    for (int i = 0; i < 4; i++) free(n->buf0[i]);
    if (n->c.k > 0) {
        free(n->peff[SL_LGRU_W_Z]);
        free(n->peff[SL_LGRU_W_H]);
    }
    free(n->U), free(n->w), free(n->H), free(n->dH), free(n->dU), free(n->ws);
    free(n->E), free(n->dE), free(n->dCU);
    free(n->We), free(n->be), free(n->gWe), free(n->gbe), free(n->M);
}

static void fd_net_create(fd_net *n, const fd_case *c, uint64_t seed)
{
    memset(n, 0, sizeof *n);
    n->c = *c;
    int N = c->N;
    n->cin = c->k > 0 ? N * c->k : c->n_in;
    n->d = (sl_cell_dims){.n_in = n->cin, .n_hidden = N, .training = c->training,
                          .bn_momentum = 0.1, .bn_eps = 1e-5};
    n->R = (size_t)c->B * c->T;
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    for (int i = 0; i < NT; i++) {
        const char *name;
        int ndim;
        int64_t shape[2] = {1, 1};
        sl_cell_lightgru.tensor(&n->d, i, &name, &ndim, shape);
        n->numel[i] = ndim == 2 ? (size_t)(shape[0] * shape[1]) : (size_t)shape[0];
        n->p[i] = fd_alloc(n->numel[i]);
        n->g[i] = fd_alloc(n->numel[i]);
        n->peff[i] = n->p[i];
    }
    sl_cell_lightgru.init(&n->d, n->p, &rng);
    /* non-trivial γ, β, running statistics */
    for (int j = 0; j < N; j++) {
        n->p[SL_LGRU_BNZ_W][j] = 0.5 + sl_rng_uniform(&rng);
        n->p[SL_LGRU_BNH_W][j] = 0.5 + sl_rng_uniform(&rng);
        n->p[SL_LGRU_BNZ_B][j] = 0.3 * sl_rng_normal(&rng);
        n->p[SL_LGRU_BNH_B][j] = 0.3 * sl_rng_normal(&rng) + 0.2;
        n->p[SL_LGRU_BNZ_MEAN][j] = 0.3 * sl_rng_normal(&rng);
        n->p[SL_LGRU_BNH_MEAN][j] = 0.3 * sl_rng_normal(&rng);
        n->p[SL_LGRU_BNZ_VAR][j] = 0.5 + 1.5 * sl_rng_uniform(&rng);
        n->p[SL_LGRU_BNH_VAR][j] = 0.5 + 1.5 * sl_rng_uniform(&rng);
    }
    for (int i = 0; i < 4; i++) {
        n->buf0[i] = fd_alloc((size_t)N);
        memcpy(n->buf0[i], n->p[NP + i], (size_t)N * sizeof(sl_real));
    }
    size_t nu = n->R * (size_t)c->n_in, nh = n->R * (size_t)N;
    n->U = fd_alloc(nu);
    for (size_t i = 0; i < nu; i++) n->U[i] = sl_rng_normal(&rng);
    n->w = fd_alloc(nh);
    for (size_t i = 0; i < nh; i++) n->w[i] = sl_rng_normal(&rng);
    n->H = fd_alloc(nh);
    n->dH = fd_alloc(nh);
    n->dU = fd_alloc(nu);
    n->ws = fd_alloc(sl_cell_lightgru.ws_size(&n->d, c->B, c->T));
    if (c->k > 0) {
        n->ed = (sl_enu_dims){.n_in = c->n_in, .n_units = N, .k = c->k};
        size_t K = (size_t)N * c->k;
        n->We = fd_alloc(K * c->n_in);
        n->be = fd_alloc(K);
        n->gWe = fd_alloc(K * c->n_in);
        n->gbe = fd_alloc(K);
        sl_enu_init(&n->ed, n->We, n->be, &rng);
        for (size_t i = 0; i < K; i++) n->be[i] += 0.2; /* keep most units active */
        n->E = fd_alloc(n->R * K);
        n->dE = fd_alloc(n->R * K);
        n->dCU = fd_alloc(n->R * K);
        n->M = fd_alloc((size_t)N * K);
        sl_enu_block_mask(1, N, c->k, n->M);
        n->peff[SL_LGRU_W_Z] = fd_alloc((size_t)N * K);
        n->peff[SL_LGRU_W_H] = fd_alloc((size_t)N * K);
    }
}

/* H = cell(U) (through the ENU stage when there is one); running stats restored first. */
static void fd_forward(fd_net *n)
{
    int N = n->c.N;
    for (int i = 0; i < 4; i++) memcpy(n->p[NP + i], n->buf0[i], (size_t)N * sizeof(sl_real));
    const sl_real *cu = n->U;
    if (n->c.k > 0) {
        for (int m = 0; m < 2; m++) {
            int t = m ? SL_LGRU_W_H : SL_LGRU_W_Z;
            memcpy(n->peff[t], n->p[t], n->numel[t] * sizeof(sl_real));
            sl_enu_mask_apply(n->numel[t], n->peff[t], n->M);
        }
        sl_enu_forward(&n->ed, n->We, n->be, n->U, (int)n->R, n->E);
        cu = n->E;
    }
    sl_cell_lightgru.forward(&n->d, n->peff, cu, n->c.B, n->c.T, n->H, n->ws);
}

static double fd_loss(fd_net *n)
{
    fd_forward(n);
    double L = 0;
    for (size_t i = 0; i < n->R * (size_t)n->c.N; i++) L += n->w[i] * n->H[i];
    return L;
}

/* analytic gradients into g[], gWe, gbe, dU */
static void fd_grad(fd_net *n)
{
    for (int i = 0; i < NP; i++) memset(n->g[i], 0, n->numel[i] * sizeof(sl_real));
    fd_forward(n);
    memcpy(n->dH, n->w, n->R * (size_t)n->c.N * sizeof(sl_real));
    if (n->c.k > 0) {
        size_t K = (size_t)n->c.N * n->c.k;
        memset(n->gWe, 0, K * n->c.n_in * sizeof(sl_real));
        memset(n->gbe, 0, K * sizeof(sl_real));
        sl_cell_lightgru.backward(&n->d, n->peff, n->g, n->E, n->c.B, n->c.T, n->H, n->dH, n->dE,
                                  n->ws);
        sl_enu_mask_apply(n->numel[SL_LGRU_W_Z], n->g[SL_LGRU_W_Z], n->M);
        sl_enu_mask_apply(n->numel[SL_LGRU_W_H], n->g[SL_LGRU_W_H], n->M);
        sl_enu_backward(&n->ed, n->We, n->U, (int)n->R, n->E, n->dE, n->gWe, n->gbe, n->dU);
    } else {
        sl_cell_lightgru.backward(&n->d, n->p, n->g, n->U, n->c.B, n->c.T, n->H, n->dH, n->dU,
                                  n->ws);
    }
}

/* Naive reference forward (no BLAS, running stats from buf0): checks H and the
 * running-statistic update of the last fd_forward; sets min_pre. Returns the
 * max |H − H_ref| and the max error of the updated running stats in *stat_err. */
static double fd_naive(fd_net *n, double *stat_err)
{
    int N = n->c.N, B = n->c.B, T = n->c.T, ci = n->cin;
    size_t R = n->R;
    double *X = calloc(R * ci, sizeof(double)), *A = calloc(R * 2 * N, sizeof(double));
    double *h = calloc((size_t)(T + 1) * B * N, sizeof(double));
    cr_assert(X && A && h);
    n->min_pre = INFINITY;
    n->n_off = n->n_relu = 0;
    for (size_t r = 0; r < R; r++)
        for (int q = 0; q < ci; q++) {
            if (n->c.k > 0) {
                double s = n->be[q];
                for (int m = 0; m < n->c.n_in; m++)
                    s += n->We[(size_t)q * n->c.n_in + m] * n->U[r * n->c.n_in + m];
                n->min_pre = fmin(n->min_pre, fabs(s));
                n->n_off += s <= 0, n->n_relu++;
                X[r * ci + q] = s > 0 ? s : 0;
            } else {
                X[r * ci + q] = n->U[r * ci + q];
            }
        }
    *stat_err = 0;
    for (int part = 0; part < 2; part++) {
        const sl_real *W = n->p[part ? SL_LGRU_W_H : SL_LGRU_W_Z];
        const sl_real *gam = n->p[part ? SL_LGRU_BNH_W : SL_LGRU_BNZ_W];
        const sl_real *bet = n->p[part ? SL_LGRU_BNH_B : SL_LGRU_BNZ_B];
        const sl_real *rm0 = n->buf0[part ? 2 : 0], *rv0 = n->buf0[part ? 3 : 1];
        const sl_real *rm = n->p[part ? SL_LGRU_BNH_MEAN : SL_LGRU_BNZ_MEAN];
        const sl_real *rv = n->p[part ? SL_LGRU_BNH_VAR : SL_LGRU_BNZ_VAR];
        for (int j = 0; j < N; j++) {
            double *a = calloc(R, sizeof(double));
            cr_assert_not_null(a);
            for (size_t r = 0; r < R; r++) {
                double s = 0;
                for (int q = 0; q < ci; q++) {
                    double wq = W[(size_t)j * ci + q] * (n->c.k > 0 ? n->M[(size_t)j * ci + q] : 1);
                    s += wq * X[r * ci + q];
                }
                a[r] = s;
            }
            double mu = 0, var = 0;
            for (size_t r = 0; r < R; r++) mu += a[r];
            mu /= (double)R;
            for (size_t r = 0; r < R; r++) var += (a[r] - mu) * (a[r] - mu);
            double vb = var / (double)R, vu = var / (double)(R - 1);
            double m_use = n->c.training ? mu : rm0[j], v_use = n->c.training ? vb : rv0[j];
            for (size_t r = 0; r < R; r++)
                A[r * 2 * N + (size_t)part * N + j] =
                    gam[j] * (a[r] - m_use) / sqrt(v_use + 1e-5) + bet[j];
            double erm = n->c.training ? 0.9 * rm0[j] + 0.1 * mu : rm0[j];
            double erv = n->c.training ? 0.9 * rv0[j] + 0.1 * vu : rv0[j];
            *stat_err = fmax(*stat_err, fmax(fabs(erm - rm[j]), fabs(erv - rv[j])));
            free(a);
        }
    }
    double err = 0;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            const double *hp = h + ((size_t)t * B + b) * N;
            double *hn = h + ((size_t)(t + 1) * B + b) * N;
            size_t r = (size_t)t * B + b;
            for (int i = 0; i < N; i++) {
                double pz = A[r * 2 * N + i], ph = A[r * 2 * N + N + i];
                for (int j = 0; j < N; j++) {
                    pz += n->p[SL_LGRU_U_Z][(size_t)i * N + j] * hp[j];
                    ph += n->p[SL_LGRU_U_H][(size_t)i * N + j] * hp[j];
                }
                n->min_pre = fmin(n->min_pre, fabs(ph));
                n->n_off += ph <= 0, n->n_relu++;
                double z = 1 / (1 + exp(-pz)), hc = ph > 0 ? ph : 0;
                hn[i] = z * hp[i] + (1 - z) * hc;
                err = fmax(err, fabs(hn[i] - n->H[r * N + i]));
            }
        }
    free(X), free(A), free(h);
    return err;
}

/* Build a net from the case, redrawing until no ReLU input is near its kink. */
static void fd_setup(fd_net *n, const fd_case *c)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        fd_net_create(n, c, c->seed + 1000003ull * attempt);
        fd_forward(n);
        double serr, herr = fd_naive(n, &serr);
        cr_assert(herr < 1e-12, "%s: H differs from the naive forward by %.3e", c->label, herr);
        cr_assert(serr < 1e-12, "%s: running stats differ from the naive update by %.3e",
                  c->label, serr);
        if (n->min_pre >= FD_KINK) return;
        fd_net_free(n);
    }
    cr_assert_fail("%s: no draw keeps the ReLU inputs away from 0", c->label);
}

typedef struct {
    const char *name;
    sl_real *x, *an;
    size_t n;
} fd_tensor;

static void fd_check_case(const fd_case *c)
{
    fd_net n;
    fd_setup(&n, c);
    fd_grad(&n);
    fd_tensor ts[NP + 3];
    int nt = 0;
    for (int i = 0; i < NP; i++) {
        const char *name;
        int ndim;
        int64_t shape[2];
        sl_cell_lightgru.tensor(&n.d, i, &name, &ndim, shape);
        ts[nt++] = (fd_tensor){name, n.p[i], n.g[i], n.numel[i]};
    }
    if (c->k > 0) {
        size_t K = (size_t)c->N * c->k;
        ts[nt++] = (fd_tensor){"enu.weight", n.We, n.gWe, K * c->n_in};
        ts[nt++] = (fd_tensor){"enu.bias", n.be, n.gbe, K};
    }
    ts[nt++] = (fd_tensor){"U", n.U, n.dU, n.R * (size_t)c->n_in};
    double maxan = 0;
    for (int k = 0; k < nt; k++)
        for (size_t i = 0; i < ts[k].n; i++) maxan = fmax(maxan, fabs(ts[k].an[i]));
    cr_assert(maxan > 0 && isfinite(maxan), "%s: analytic gradient all zero or not finite", c->label);
    double worst = 0;
    for (int k = 0; k < nt; k++) {
        double md = 0;
        for (size_t i = 0; i < ts[k].n; i++) {
            double x0 = ts[k].x[i];
            ts[k].x[i] = (sl_real)(x0 + FD_H);
            double lp = fd_loss(&n);
            ts[k].x[i] = (sl_real)(x0 - FD_H);
            double lm = fd_loss(&n);
            ts[k].x[i] = (sl_real)x0;
            double fd = (lp - lm) / (2 * FD_H);
            md = fmax(md, fabs(fd - ts[k].an[i]));
        }
        double rel = md / fmax(maxan, 1e-8);
        worst = fmax(worst, rel);
        fprintf(stderr, "lightgru_fd %-12s %-12s rel %.2e\n", c->label, ts[k].name, rel);
        cr_expect(rel <= FD_TOL, "%s %s: FD rel %.3e > %.0e", c->label, ts[k].name, rel, FD_TOL);
    }
    fprintf(stderr, "lightgru_fd %-12s worst rel %.2e (min |ReLU input| %.2e, %d of %d off)\n",
            c->label, worst, n.min_pre, n.n_off, n.n_relu);
    fd_net_free(&n);
}

static const fd_case CASES[] = {
    {"n1_train", 1, 1, 3, 4, 1, 0, 11},
    {"n1_eval", 1, 2, 3, 4, 0, 0, 12},
    {"b1_train", 3, 2, 1, 6, 1, 0, 13},
    {"small_train", 4, 3, 3, 5, 1, 0, 14},
    {"small_eval", 4, 3, 3, 5, 0, 0, 15},
    {"enu_train", 3, 2, 2, 4, 1, 2, 16},
    {"enu_eval", 3, 2, 2, 4, 0, 2, 17},
    {"enu_n1_train", 1, 2, 3, 3, 1, 3, 18},
};

Test(lightgru_fd, every_parameter_and_input)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) fd_check_case(&CASES[i]);
}

/* dL/dH may be overwritten by backward, but the weight gradients ADD: two
 * backward passes after one forward give twice the gradient. */
Test(lightgru_fd, gradients_accumulate)
{
    fd_net n;
    fd_setup(&n, &CASES[3]);
    fd_grad(&n);
    sl_real *g1 = fd_alloc(n.numel[SL_LGRU_U_H]);
    memcpy(g1, n.g[SL_LGRU_U_H], n.numel[SL_LGRU_U_H] * sizeof(sl_real));
    memcpy(n.dH, n.w, n.R * (size_t)n.c.N * sizeof(sl_real));
    sl_cell_lightgru.backward(&n.d, n.p, n.g, n.U, n.c.B, n.c.T, n.H, n.dH, NULL, n.ws);
    for (size_t i = 0; i < n.numel[SL_LGRU_U_H]; i++)
        cr_assert(fabs(n.g[SL_LGRU_U_H][i] - 2 * g1[i]) <= 1e-12 * (1 + fabs(g1[i])));
    free(g1);
    fd_net_free(&n);
}

/* The ENU stage alone: L = Σ w ⊙ E. */
Test(lightgru_fd, enu_stage)
{
    sl_enu_dims e = {.n_in = 3, .n_units = 4, .k = 2};
    int rows = 7, K = sl_enu_width(&e);
    sl_real *W = fd_alloc((size_t)K * 3), *b = fd_alloc(K), *U = fd_alloc((size_t)rows * 3);
    sl_real *w = fd_alloc((size_t)rows * K), *E = fd_alloc((size_t)rows * K);
    sl_real *dE = fd_alloc((size_t)rows * K), *gW = fd_alloc((size_t)K * 3), *gb = fd_alloc(K);
    sl_real *dU = fd_alloc((size_t)rows * 3);
    sl_rng rng;
    double minpre = 0;
    for (uint64_t seed = 1; minpre < FD_KINK; seed++) {
        cr_assert(seed < 200);
        sl_rng_seed(&rng, seed);
        sl_enu_init(&e, W, b, &rng);
        for (int i = 0; i < rows * 3; i++) U[i] = sl_rng_normal(&rng);
        minpre = INFINITY;
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < K; q++) {
                double s = b[q];
                for (int m = 0; m < 3; m++) s += W[q * 3 + m] * U[r * 3 + m];
                minpre = fmin(minpre, fabs(s));
            }
    }
    for (int i = 0; i < rows * K; i++) w[i] = sl_rng_normal(&rng);
    sl_enu_forward(&e, W, b, U, rows, E);
    memcpy(dE, w, (size_t)rows * K * sizeof(sl_real));
    sl_enu_backward(&e, W, U, rows, E, dE, gW, gb, dU);
    fd_tensor ts[3] = {{"enu.weight", W, gW, (size_t)K * 3}, {"enu.bias", b, gb, (size_t)K},
                       {"U", U, dU, (size_t)rows * 3}};
    double maxan = 0;
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < ts[k].n; i++) maxan = fmax(maxan, fabs(ts[k].an[i]));
    for (int k = 0; k < 3; k++) {
        double md = 0;
        for (size_t i = 0; i < ts[k].n; i++) {
            double x0 = ts[k].x[i], L[2];
            for (int s = 0; s < 2; s++) {
                ts[k].x[i] = (sl_real)(x0 + (s ? -FD_H : FD_H));
                sl_enu_forward(&e, W, b, U, rows, E);
                L[s] = 0;
                for (int j = 0; j < rows * K; j++) L[s] += w[j] * E[j];
            }
            ts[k].x[i] = (sl_real)x0;
            md = fmax(md, fabs((L[0] - L[1]) / (2 * FD_H) - ts[k].an[i]));
        }
        double rel = md / fmax(maxan, 1e-8);
        fprintf(stderr, "enu_fd %-10s rel %.2e\n", ts[k].name, rel);
        cr_expect(rel <= FD_TOL, "enu %s: FD rel %.3e", ts[k].name, rel);
    }
    free(W), free(b), free(U), free(w), free(E), free(dE), free(gW), free(gb), free(dU);
}

Test(lightgru_fd, enu_block_mask)
{
    int G = 3, N = 2, k = 3, K = N * k;
    sl_real M[3 * 2 * 6];
    sl_enu_block_mask(G, N, k, M);
    for (int r = 0; r < G * N; r++)
        for (int q = 0; q < K; q++)
            cr_assert_eq(M[r * K + q], (sl_real)(q / k == r % N), "M[%d][%d]", r, q);
}
