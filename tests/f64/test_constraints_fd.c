/* test_constraints_fd.c — float64 finite-difference checks of the gradients
 * of src/nn/constraints.c and src/nn/spatial.c.
 *
 * Every parameter element x_k is perturbed by ±h (h = 1e-6) and the central
 * difference (L(x+h e_k) − L(x−h e_k))/2h compared with the analytic
 * gradient:  rel = max_k |fd_k − an_k| / max(max_k |an_k|, 1e-8) ≤ 1e-6.
 * Draws are kept ≥ 0.02 away from the kinks of |·| (sgn(0) is a subgradient
 * choice, not a derivative). Covered: L1/L2 (sum and mean), rate L1/L2, the
 * activation-norm penalty, Dale's reparameterisation (with a mask and a
 * 0-sign column), the DANN dense layer (all four parameters and the input),
 * SE1 wiring cost, and the communicability wiring cost (row and column
 * strengths, comms power 1 and 2, a 5×5×4 grid with N = 100 on a sample of
 * entries), plus the Fréchet derivative of expm itself. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/constraints.h"
#include "nn/spatial.h"
#include "silico.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "gradcheck needs -DSL_REAL=double");

#define FD_H 1e-6
#define FD_TOL 1e-6

/* A loss of the flat parameter vector x; accumulates its gradient into g
 * when g is non-NULL. */
typedef double (*fd_loss)(void *ctx, const double *x, double *g);

/* rel error over the entries idx (all n if idx NULL, else m of them). */
static double fd_check_h(fd_loss f, void *ctx, double *x, size_t n, const size_t *idx, size_t m,
                         const char *label, double h)
{
    double *an = calloc(n, sizeof *an);
    f(ctx, x, an);
    double amax = 0;
    for (size_t k = 0; k < n; k++)
        if (fabs(an[k]) > amax) amax = fabs(an[k]);
    double worst = 0;
    size_t cnt = idx ? m : n, worst_k = 0;
    for (size_t q = 0; q < cnt; q++) {
        size_t k = idx ? idx[q] : q;
        double x0 = x[k];
        x[k] = x0 + h;
        double lp = f(ctx, x, NULL);
        x[k] = x0 - h;
        double lm = f(ctx, x, NULL);
        x[k] = x0;
        double fd = (lp - lm) / (2 * h), d = fabs(fd - an[k]);
        if (d > worst || isnan(d)) worst = d, worst_k = k;
    }
    double rel = worst / (amax > 1e-8 ? amax : 1e-8);
    printf("fd %-40s n=%-6zu checked=%-6zu h=%.0e max|an|=%.3e rel=%.2e (worst entry %zu)\n", label,
           n, cnt, h, amax, rel, worst_k);
    free(an);
    return rel;
}

static double fd_check(fd_loss f, void *ctx, double *x, size_t n, const size_t *idx, size_t m,
                       const char *label)
{
    return fd_check_h(f, ctx, x, n, idx, m, label, FD_H);
}

/* Normal draws kept at least 0.02 away from 0. */
static void fill_away(sl_rng *r, double *x, size_t n, double sd)
{
    for (size_t k = 0; k < n; k++) {
        double v;
        do v = sd * sl_rng_normal(r);
        while (fabs(v) < 0.02);
        x[k] = v;
    }
}

/* ---------------------------------------------------------- penalties */

typedef struct {
    int kind; /* 0 L1, 1 L2, 2 rate L1, 3 rate L2, 4 act norm */
    int mean, T, B, N;
    double lam;
} pen_ctx;

static double pen_loss(void *vc, const double *x, double *g)
{
    pen_ctx *c = vc;
    size_t n = (size_t)c->T * c->B * c->N;
    switch (c->kind) {
    case 0: return sl_penalty_l1(x, n, c->lam, c->mean, g);
    case 1: return sl_penalty_l2(x, n, c->lam, c->mean, g);
    case 2: return sl_penalty_rate_l1(x, c->T, c->B, c->N, c->lam, g);
    case 3: return sl_penalty_rate_l2(x, c->T, c->B, c->N, c->lam, g);
    default: return sl_penalty_act_norm(x, c->T, c->B, c->N, c->lam, g);
    }
}

Test(constraints_fd, penalties)
{
    static const char *names[] = {"L1 sum", "L1 mean", "L2 sum", "L2 mean", "rate L1",
                                  "rate L2", "activation norm (eq. 9)"};
    const int kinds[] = {0, 0, 1, 1, 2, 3, 4}, means[] = {0, 1, 0, 1, 1, 1, 0};
    sl_rng r;
    sl_rng_seed(&r, 11);
    for (int q = 0; q < 7; q++) {
        pen_ctx c = {kinds[q], means[q], 5, 3, 7, 0.37};
        size_t n = (size_t)c.T * c.B * c.N;
        double *x = malloc(n * sizeof *x);
        fill_away(&r, x, n, 1.0);
        double rel = fd_check(pen_loss, &c, x, n, NULL, 0, names[q]);
        cr_expect_leq(rel, FD_TOL, "%s: rel %g", names[q], rel);
        free(x);
    }
}

/* ------------------------------------------------------- Dale reparam */

typedef struct {
    int rows, cols;
    const double *M, *sign, *G;
    double *Weff, *dWeff;
} dale_ctx;

/* L = Σ G⊙W_eff + ½ Σ W_eff² */
static double dale_loss(void *vc, const double *W, double *g)
{
    dale_ctx *c = vc;
    size_t n = (size_t)c->rows * c->cols;
    sl_dale_reparam(W, c->M, c->sign, c->rows, c->cols, c->Weff);
    double L = 0;
    for (size_t k = 0; k < n; k++) {
        L += c->G[k] * c->Weff[k] + 0.5 * c->Weff[k] * c->Weff[k];
        c->dWeff[k] = c->G[k] + c->Weff[k];
    }
    if (g) sl_dale_reparam_backward(W, c->M, c->sign, c->rows, c->cols, c->dWeff, g);
    return L;
}

Test(constraints_fd, dale_reparam)
{
    const int rows = 9, cols = 11;
    size_t n = (size_t)rows * cols;
    sl_rng r;
    sl_rng_seed(&r, 5);
    double *W = malloc(n * sizeof *W), *M = malloc(n * sizeof *M), *G = malloc(n * sizeof *G),
           *Weff = malloc(n * sizeof *Weff), *dWeff = malloc(n * sizeof *dWeff), sign[11];
    fill_away(&r, W, n, 0.5);
    for (size_t k = 0; k < n; k++) {
        double u = sl_rng_uniform(&r);
        M[k] = u < 0.25 ? 0 : u < 0.4 ? 0.5 : 1; /* zeros, a weighted entry, ones */
        G[k] = sl_rng_normal(&r);
    }
    cr_assert_eq(sl_dale_signs(sign, cols, 0.8, NULL), SL_OK);
    sign[3] = 0; /* a non-projecting column (PsychRNN's Dale_out) */
    dale_ctx c = {rows, cols, M, sign, G, Weff, dWeff};
    double rel = fd_check(dale_loss, &c, W, n, NULL, 0, "Dale reparam |W⊙M|·diag(sign)");
    cr_expect_leq(rel, FD_TOL);
    c.M = NULL;
    rel = fd_check(dale_loss, &c, W, n, NULL, 0, "Dale reparam, no mask");
    cr_expect_leq(rel, FD_TOL);
    free(W), free(M), free(G), free(Weff), free(dWeff);
}

/* ---------------------------------------------------------------- DANN */

typedef struct {
    int B, d, ne, ni;
    const double *x_in, *R;
    double *zi, *h, *dh, *scratch, *dx;
    int wrt_x; /* 1: the variable is x (params fixed in P) */
    double *P; /* the parameter buffer when wrt_x */
} dann_ctx;

static sl_dann dann_view(const dann_ctx *c, double *buf)
{
    sl_dann v = {c->d, c->ne, c->ni, buf, buf + (size_t)c->ne * c->d,
                 buf + (size_t)c->ne * c->d + (size_t)c->ni * c->d, NULL};
    v.b = v.W_EI + (size_t)c->ne * c->ni;
    return v;
}

/* L = Σ R⊙h + ½ Σ h² */
static double dann_loss(void *vc, const double *v, double *g)
{
    dann_ctx *c = vc;
    sl_dann p = dann_view(c, c->wrt_x ? c->P : (double *)v);
    const double *x = c->wrt_x ? v : c->x_in;
    sl_dann_forward(&p, x, c->B, c->zi, c->h);
    double L = 0;
    for (size_t k = 0; k < (size_t)c->B * c->ne; k++) {
        L += c->R[k] * c->h[k] + 0.5 * c->h[k] * c->h[k];
        c->dh[k] = c->R[k] + c->h[k];
    }
    if (g) {
        size_t np = (size_t)c->ne * c->d + (size_t)c->ni * c->d + (size_t)c->ne * c->ni + c->ne;
        double *gbuf = calloc(np, sizeof *gbuf);
        sl_dann gv = dann_view(c, gbuf);
        sl_dann_backward(&p, x, c->zi, c->dh, c->B, &gv, c->wrt_x ? c->dx : NULL, c->scratch);
        if (c->wrt_x)
            for (size_t k = 0; k < (size_t)c->B * c->d; k++) g[k] += c->dx[k];
        else
            for (size_t k = 0; k < np; k++) g[k] += gbuf[k];
        free(gbuf);
    }
    return L;
}

Test(constraints_fd, dann_dense_layer)
{
    dann_ctx c = {.B = 4, .d = 7, .ne = 6, .ni = 3};
    size_t np = (size_t)c.ne * c.d + (size_t)c.ni * c.d + (size_t)c.ne * c.ni + c.ne;
    sl_rng r;
    sl_rng_seed(&r, 21);
    double *P = malloc(np * sizeof *P), *x = malloc((size_t)c.B * c.d * sizeof *x),
           *R = malloc((size_t)c.B * c.ne * sizeof *R);
    sl_dann p = dann_view(&c, P);
    cr_assert_eq(sl_dann_init(&p, 0, &r), SL_OK);
    for (int i = 0; i < c.ne; i++) p.b[i] = 0.1 * sl_rng_normal(&r);
    for (size_t k = 0; k < np; k++) P[k] += 0.05 * sl_rng_uniform(&r); /* break the init's ties */
    for (size_t k = 0; k < (size_t)c.B * c.d; k++) x[k] = sl_rng_normal(&r);
    for (size_t k = 0; k < (size_t)c.B * c.ne; k++) R[k] = sl_rng_normal(&r);
    c.x_in = x;
    c.R = R;
    c.zi = malloc((size_t)c.B * c.ni * sizeof(double));
    c.h = malloc((size_t)c.B * c.ne * sizeof(double));
    c.dh = malloc((size_t)c.B * c.ne * sizeof(double));
    c.scratch = malloc((size_t)c.B * c.ni * sizeof(double));
    c.dx = malloc((size_t)c.B * c.d * sizeof(double));
    double rel = fd_check(dann_loss, &c, P, np, NULL, 0, "DANN W_EE, W_IE, W_EI, b");
    cr_expect_leq(rel, FD_TOL);
    c.wrt_x = 1;
    c.P = P;
    rel = fd_check(dann_loss, &c, x, (size_t)c.B * c.d, NULL, 0, "DANN input x");
    cr_expect_leq(rel, FD_TOL);
    free(P), free(x), free(R), free(c.zi), free(c.h), free(c.dh), free(c.scratch), free(c.dx);
}

/* ------------------------------------------------------ wiring costs */

typedef struct {
    int n;
    const double *D;
    sl_comm_spec spec;
    int comm;
} wire_ctx;

static double wire_loss(void *vc, const double *W, double *g)
{
    wire_ctx *c = vc;
    if (!c->comm) return sl_wiring_cost(W, c->D, (size_t)c->n * c->n, c->spec.lambda, g);
    double L = NAN;
    sl_status st = sl_comm_wiring_cost(&c->spec, W, c->D, c->n, &L, g, NULL);
    cr_assert_eq(st, SL_OK, "%s", sl_last_error());
    return L;
}

static void grid_D(int nx, int ny, int nz, double *D)
{
    int n = nx * ny * nz;
    double *xyz = malloc((size_t)n * 3 * sizeof *xyz);
    cr_assert_eq(sl_grid_coords(nx, ny, nz, n, xyz), SL_OK);
    sl_distance_matrix(xyz, n, 1, D);
    free(xyz);
}

Test(constraints_fd, wiring_cost_se1)
{
    const int n = 12;
    double D[144], W[144];
    grid_D(3, 2, 2, D);
    sl_rng r;
    sl_rng_seed(&r, 2);
    fill_away(&r, W, 144, 0.4);
    wire_ctx c = {n, D, {.lambda = 0.5}, 0};
    double rel = fd_check(wire_loss, &c, W, 144, NULL, 0, "SE1 λΣ|W|⊙D");
    cr_expect_leq(rel, FD_TOL);
}

Test(constraints_fd, wiring_cost_communicability)
{
    const int n = 12;
    double D[144], W[144];
    grid_D(3, 2, 2, D);
    sl_rng r;
    sl_rng_seed(&r, 3);
    fill_away(&r, W, 144, 0.4);
    static const char *labels[] = {"SE1_sWc rows, k=1", "SE1_sWc cols, k=1", "SE1_sWc rows, k=2",
                                   "SE1_sWc cols, k=1.5"};
    const sl_strength st[] = {SL_STRENGTH_ROWS, SL_STRENGTH_COLS, SL_STRENGTH_ROWS, SL_STRENGTH_COLS};
    const double kp[] = {1, 1, 2, 1.5};
    for (int q = 0; q < 4; q++) {
        wire_ctx c = {n, D, {.lambda = 0.5, .comms_power = kp[q], .strength = st[q]}, 1};
        double rel = fd_check(wire_loss, &c, W, 144, NULL, 0, labels[q]);
        cr_expect_leq(rel, FD_TOL, "%s: rel %g", labels[q], rel);
    }
    /* Strengths spread over a wide range: half the entries ×6. */
    for (int k = 0; k < 144; k++)
        if (sl_rng_uniform(&r) < 0.5) W[k] *= 6;
    wire_ctx c = {n, D, {.lambda = 2, .strength = SL_STRENGTH_COLS}, 1};
    double rel = fd_check(wire_loss, &c, W, 144, NULL, 0, "SE1_sWc cols, uneven W");
    cr_expect_leq(rel, FD_TOL);
}

Test(constraints_fd, wiring_cost_communicability_serrn_grid)
{
    /* seRNN's geometry: 5×5×4 grid, N = 100; 300 sampled entries. The loss
     * sums 10⁴ terms (L ≈ 10²), so its rounding noise divided by 2h is
     * ≈ 1e-6 of the gradient at h = 1e-6 (measured: rel 9.8e-7 at 1e-6,
     * 9.5e-8 at 1e-5, 9.4e-9 at 1e-4, falling as 1/h: noise, not
     * truncation); h = 1e-4 shows the gradient itself to ~1e-8. */
    const int n = 100;
    size_t nn = (size_t)n * n;
    double *D = malloc(nn * sizeof *D), *W = malloc(nn * sizeof *W);
    grid_D(5, 5, 4, D);
    sl_rng r;
    sl_rng_seed(&r, 4);
    fill_away(&r, W, nn, 0.1);
    size_t idx[300];
    for (int q = 0; q < 300; q++) idx[q] = sl_rng_below(&r, nn);
    wire_ctx c = {n, D, {.lambda = 0.5, .strength = SL_STRENGTH_COLS}, 1};
    double rel = fd_check_h(wire_loss, &c, W, nn, idx, 300, "SE1_sWc 5x5x4 N=100 (300 entries)", 1e-4);
    cr_expect_leq(rel, FD_TOL);
    free(D), free(W);
}

/* ------------------------------------------------------ expm Fréchet */

typedef struct {
    int n;
    const double *A, *G;
    double *E, *L, *AT;
} frechet_ctx;

/* L(X) = ⟨G, e^X⟩, gradient L(Xᵀ, G). */
static double frechet_loss(void *vc, const double *X, double *g)
{
    frechet_ctx *c = vc;
    size_t nn = (size_t)c->n * c->n;
    cr_assert_eq(sl_expm(X, c->n, c->E), SL_OK);
    double L = 0;
    for (size_t k = 0; k < nn; k++) L += c->G[k] * c->E[k];
    if (g) {
        for (int i = 0; i < c->n; i++)
            for (int j = 0; j < c->n; j++) c->AT[(size_t)j * c->n + i] = X[(size_t)i * c->n + j];
        cr_assert_eq(sl_expm_frechet(c->AT, c->G, c->n, NULL, c->L), SL_OK);
        for (size_t k = 0; k < nn; k++) g[k] += c->L[k];
    }
    return L;
}

Test(constraints_fd, expm_frechet_adjoint)
{
    const int n = 7;
    double A[49], G[49], E[49], L[49], AT[49];
    sl_rng r;
    sl_rng_seed(&r, 9);
    for (double scale = 0.05; scale < 5; scale *= 4) { /* Padé 3..13 and squaring */
        for (int k = 0; k < 49; k++) A[k] = scale * sl_rng_normal(&r), G[k] = sl_rng_normal(&r);
        frechet_ctx c = {n, A, G, E, L, AT};
        char label[64];
        snprintf(label, sizeof label, "d<G, e^A>/dA = L(A^T, G), |A|~%.2f", scale);
        double rel = fd_check(frechet_loss, &c, A, 49, NULL, 0, label);
        cr_expect_leq(rel, FD_TOL, "%s: %g", label, rel);
    }
}
