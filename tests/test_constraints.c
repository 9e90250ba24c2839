/* test_constraints.c — masks, Dale's law (reparameterisation, projection,
 * DANN), invariant checks, freeze masks under Adam, penalties, clipping and
 * schedules (src/nn/constraints.c), and the spatial embedding's grid, expm
 * and communicability (src/nn/spatial.c). Gradients are checked by finite
 * differences in tests/f64/test_constraints_fd.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/constraints.h"
#include "nn/spatial.h"
#include "silico.h"
#include "testutil.h"

#define ERR_HAS(s) cr_expect(strstr(sl_last_error(), (s)) != NULL, "error '%s' lacks '%s'", sl_last_error(), (s))

/* ------------------------------------------------------------------ masks */

Test(constraints, random_mask_fraction_and_autapses)
{
    const int n = 300;
    sl_real *M = malloc((size_t)n * n * sizeof *M), *M2 = malloc((size_t)n * n * sizeof *M2);
    sl_rng r;
    sl_rng_seed(&r, 1);
    cr_assert_eq(sl_mask_random(M, n, n, 0.3, 1, &r), SL_OK);
    double on = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            sl_real m = M[(size_t)i * n + j];
            cr_assert(m == 0 || m == 1);
            if (i == j) cr_assert_eq(m, 0, "autapse at %d", i);
            else on += m;
        }
    double frac = on / ((double)n * (n - 1)); /* sd √(0.21/89700) ≈ 0.0015 */
    cr_expect(fabs(frac - 0.3) < 0.01, "fraction %g, expected 0.3", frac);
    sl_rng_seed(&r, 1);
    cr_assert_eq(sl_mask_random(M2, n, n, 0.3, 1, &r), SL_OK);
    cr_expect_eq(memcmp(M, M2, (size_t)n * n * sizeof *M), 0, "same seed, same mask");
    cr_expect_eq(sl_mask_random(M, 3, 4, 0.5, 1, &r), SL_EINVAL);
    ERR_HAS("square");
    cr_expect_eq(sl_mask_random(M, 3, 3, 1.5, 0, &r), SL_EINVAL);
    free(M);
    free(M2);
}

Test(constraints, area_masks)
{
    const int sizes[] = {3, 4, 2};
    unsigned char adj[9];
    cr_assert_eq(sl_area_chain(3, 0, adj), SL_OK);
    sl_real M[81];
    int N = 0;
    cr_assert_eq(sl_mask_areas(M, 3, sizes, adj, 1, &N), SL_OK);
    cr_assert_eq(N, 9);
    const int area[] = {0, 0, 0, 1, 1, 1, 1, 2, 2};
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 9; j++) {
            int want = i != j && (area[i] == area[j] || area[i] == area[j] + 1);
            cr_expect_eq(M[i * 9 + j], (sl_real)want, "M[%d, %d]", i, j);
        }
    /* feedback chain: also a+1 → a; block diagonal without adjacency */
    cr_assert_eq(sl_area_chain(3, 1, adj), SL_OK);
    cr_assert_eq(sl_mask_areas(M, 3, sizes, adj, 0, NULL), SL_OK);
    cr_expect_eq(M[0 * 9 + 3], 1);  /* area 0 ← area 1 */
    cr_expect_eq(M[0 * 9 + 7], 0);  /* area 0 ← area 2: not adjacent */
    cr_expect_eq(M[4 * 9 + 4], 1);  /* autapses kept */
    cr_assert_eq(sl_mask_areas(M, 3, sizes, NULL, 0, NULL), SL_OK);
    cr_expect_eq(M[3 * 9 + 0], 0);
    cr_expect_eq(M[8 * 9 + 7], 1);
    const int bad[] = {3, 0};
    cr_expect_eq(sl_mask_areas(M, 2, bad, NULL, 0, NULL), SL_EINVAL);
    ERR_HAS("area 1");
}

Test(constraints, npy_mask_load_and_errors)
{
    char *dir = tu_tmpdir();
    cr_assert_not_null(dir);
    char *ok = tu_path(dir, "ok.npy"), *u8 = tu_path(dir, "u8.npy"), *two = tu_path(dir, "two.npy"),
         *neg = tu_path(dir, "neg.npy"), *shape = tu_path(dir, "shape.npy"),
         *missing = tu_path(dir, "missing.npy");
    float vals[6] = {0, 1, 1, 0, 1, 1};
    int64_t sh[2] = {2, 3};
    sl_array a = {SL_F32, 2, {2, 3}, vals};
    cr_assert_eq(sl_npy_write(ok, &a), SL_OK);
    uint8_t bytes[6] = {1, 0, 0, 1, 1, 0};
    sl_array b = {SL_U8, 2, {2, 3}, bytes};
    cr_assert_eq(sl_npy_write(u8, &b), SL_OK);
    float v2[6] = {0, 1, 2, 0, 1, 1};
    a.data = v2;
    cr_assert_eq(sl_npy_write(two, &a), SL_OK);
    float vn[6] = {0, 1, 0.5f, 0, -0.25f, 1};
    a.data = vn;
    cr_assert_eq(sl_npy_write(neg, &a), SL_OK);
    sl_array c = {SL_F32, 1, {6}, vals};
    cr_assert_eq(sl_npy_write(shape, &c), SL_OK);
    (void)sh;

    sl_real M[6];
    cr_assert_eq(sl_mask_load_npy(ok, 2, 3, 0, M), SL_OK, "%s", sl_last_error());
    for (int k = 0; k < 6; k++) cr_expect_eq(M[k], vals[k]);
    cr_assert_eq(sl_mask_load_npy(u8, 2, 3, 0, M), SL_OK, "%s", sl_last_error());
    cr_expect_eq(M[0], 1);
    cr_expect_eq(M[1], 0);

    cr_expect_eq(sl_mask_load_npy(ok, 3, 2, 0, M), SL_EINVAL);
    ERR_HAS(ok);
    ERR_HAS("shape (2, 3), expected (3, 2)");
    cr_expect_eq(sl_mask_load_npy(shape, 2, 3, 0, M), SL_EINVAL);
    ERR_HAS("shape (6)");
    cr_expect_eq(sl_mask_load_npy(two, 2, 3, 0, M), SL_EINVAL);
    ERR_HAS(two);
    ERR_HAS("[0, 2] = 2");
    cr_expect_eq(sl_mask_load_npy(two, 2, 3, 1, M), SL_OK, "weights >= 0 allowed");
    cr_expect_eq(M[2], 2);
    cr_expect_eq(sl_mask_load_npy(neg, 2, 3, 1, M), SL_EINVAL);
    ERR_HAS("[1, 1] = -0.25");
    cr_expect_neq(sl_mask_load_npy(missing, 2, 3, 0, M), SL_OK);
    ERR_HAS("missing.npy");
    free(ok), free(u8), free(two), free(neg), free(shape), free(missing);
    tu_rmtree(dir);
}

/* ------------------------------------------------------------ Dale's law */

Test(constraints, dale_signs_reparam_and_projection)
{
    sl_real sign[10];
    int ne = -1;
    cr_assert_eq(sl_dale_signs(sign, 10, 0.85, &ne), SL_OK);
    cr_expect_eq(ne, 8, "floor(0.85·10) = 8");
    for (int j = 0; j < 10; j++) cr_expect_eq(sign[j], j < 8 ? 1 : -1);
    cr_expect_eq(sl_dale_signs(sign, 10, 1.2, NULL), SL_EINVAL);

    const int n = 40;
    sl_real *W = malloc(n * n * sizeof *W), *M = malloc(n * n * sizeof *M),
            *We = malloc(n * n * sizeof *We), *s = malloc(n * sizeof *s), *W0 = malloc(n * n * sizeof *W0);
    sl_rng r;
    sl_rng_seed(&r, 7);
    cr_assert_eq(sl_dale_signs(s, n, 0.8, NULL), SL_OK);
    cr_assert_eq(sl_mask_random(M, n, n, 0.5, 1, &r), SL_OK);
    for (int k = 0; k < n * n; k++) W[k] = (sl_real)sl_rng_normal(&r);
    sl_dale_reparam(W, M, s, n, n, We);
    cr_expect_eq(sl_check_dale("J_eff", We, s, n, n), SL_OK, "%s", sl_last_error());
    cr_expect_eq(sl_check_mask("J_eff", We, M, n, n), SL_OK, "%s", sl_last_error());
    for (int k = 0; k < n * n; k++)
        cr_expect_eq(fabs((double)We[k]), fabs((double)(W[k] * M[k])));
    /* a 0/1 mask on a 3-unit example: coursework eq. 7 */
    sl_real W3[9] = {1, -2, 3, -4, 5, -6, 7, -8, 9}, M3[9] = {0, 1, 1, 1, 0, 1, 1, 1, 0},
            s3[3] = {1, 1, -1}, E3[9];
    sl_dale_reparam(W3, M3, s3, 3, 3, E3);
    const sl_real want[9] = {0, 2, -3, 4, 0, -6, 7, 8, 0};
    for (int k = 0; k < 9; k++) cr_expect_eq(E3[k], want[k], "eq. 7 entry %d", k);

    /* projection */
    memcpy(W0, W, n * n * sizeof *W);
    cr_expect_neq(sl_check_dale("J", W, s, n, n), SL_OK);
    sl_dale_project(W, M, s, n, n);
    cr_expect_eq(sl_check_dale("J", W, s, n, n), SL_OK, "%s", sl_last_error());
    cr_expect_eq(sl_check_mask("J", W, M, n, n), SL_OK, "%s", sl_last_error());
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            size_t k = (size_t)i * n + j;
            int right = s[j] > 0 ? W0[k] >= 0 : W0[k] <= 0;
            if (M[k] != 0 && right) cr_expect_eq(W[k], W0[k], "a right-signed entry is kept");
        }
    free(W), free(M), free(We), free(s), free(W0);
}

Test(constraints, invariants_name_the_violation)
{
    sl_real W[12] = {0}, M[12], s[4] = {1, 1, -1, -1}, P[12], ref[12];
    for (int k = 0; k < 12; k++) M[k] = 1, P[k] = 1;
    M[2 * 4 + 3] = 0;
    W[2 * 4 + 3] = 0.5f;
    cr_expect_eq(sl_check_mask("J", W, M, 3, 4), SL_EINVAL);
    ERR_HAS("J[2, 3] = 0.5");
    W[2 * 4 + 3] = 0;
    cr_expect_eq(sl_check_mask("J", W, M, 3, 4), SL_OK);

    W[1 * 4 + 2] = 0.25f; /* inhibitory column positive */
    cr_expect_eq(sl_check_dale("W_rec", W, s, 3, 4), SL_EINVAL);
    ERR_HAS("W_rec[1, 2] = 0.25");
    ERR_HAS("inhibitory");
    W[1 * 4 + 2] = -0.25f;
    W[0] = -1;
    cr_expect_eq(sl_check_dale("W_rec", W, s, 3, 4), SL_EINVAL);
    ERR_HAS("W_rec[0, 0] = -1");
    ERR_HAS("excitatory");
    cr_expect_eq(sl_check_nonneg("W_EE", W, 3, 4), SL_EINVAL);
    ERR_HAS("W_EE[0, 0]");

    memcpy(ref, W, sizeof W);
    P[5] = 0;
    W[6] += 1; /* plastic entry: fine */
    cr_expect_eq(sl_check_frozen("B", W, ref, P, 3, 4), SL_OK);
    W[5] = nextafterf((float)W[5], 1.0f); /* one ulp */
    cr_expect_eq(sl_check_frozen("B", W, ref, P, 3, 4), SL_EINVAL);
    ERR_HAS("frozen entry B[1, 1]");
}

/* ------------------------------------------------------------------ DANN */

Test(constraints, dann_init_balanced_and_csgd_keeps_signs)
{
    const int d = 20, ne = 16, ni = 4, B = 8;
    size_t np = (size_t)ne * d + (size_t)ni * d + (size_t)ne * ni + ne;
    sl_real *P = calloc(np, sizeof *P), *G = calloc(np, sizeof *G);
    sl_dann p = {d, ne, ni, P, P + ne * d, P + ne * d + ni * d, P + ne * d + ni * d + ne * ni};
    sl_dann g = {d, ne, ni, G, G + ne * d, G + ne * d + ni * d, G + ne * d + ni * d + ne * ni};
    sl_rng r;
    sl_rng_seed(&r, 3);
    cr_assert_eq(sl_dann_init(&p, 0, &r), SL_OK);
    cr_expect_eq(sl_check_nonneg("W_EE", p.W_EE, ne, d), SL_OK);
    cr_expect_eq(sl_check_nonneg("W_IE", p.W_IE, ni, d), SL_OK);
    cr_expect_eq(sl_check_nonneg("W_EI", p.W_EI, ne, ni), SL_OK);
    for (int i = 0; i < ne; i++) {
        double s = 0;
        for (int k = 0; k < ni; k++) s += p.W_EI[i * ni + k];
        cr_expect(fabs(s - 1) < 1e-5, "W_EI row %d sums to %g", i, s);
    }
    /* W_eff = W_EE − W_EI W_IE has zero column means: E and I cancel */
    for (int j = 0; j < d; j++) {
        double col = 0, mag = 0;
        for (int i = 0; i < ne; i++) {
            double w = p.W_EE[i * d + j];
            for (int k = 0; k < ni; k++) w -= p.W_EI[i * ni + k] * p.W_IE[k * d + j];
            col += w;
            mag += fabs(w);
        }
        cr_expect(fabs(col) < 1e-5 * (mag + 1), "column %d of W_eff sums to %g", j, col);
    }
    /* a few cSGD steps on L = ½‖h − y‖² keep every weight ≥ 0 */
    sl_real *x = malloc(B * d * sizeof *x), *y = malloc(B * ne * sizeof *y), *h = malloc(B * ne * sizeof *h),
            *zi = malloc(B * ni * sizeof *zi), *dh = malloc(B * ne * sizeof *dh), *scr = malloc(B * ni * sizeof *scr);
    for (int k = 0; k < B * d; k++) x[k] = (sl_real)sl_rng_normal(&r);
    for (int k = 0; k < B * ne; k++) y[k] = (sl_real)(2 * sl_rng_normal(&r));
    double first = 0, last = 0;
    for (int step = 0; step < 50; step++) {
        sl_dann_forward(&p, x, B, zi, h);
        double L = 0;
        for (int k = 0; k < B * ne; k++) {
            dh[k] = (h[k] - y[k]) / B;
            L += 0.5 * (h[k] - y[k]) * (h[k] - y[k]) / B;
        }
        if (step == 0) first = L;
        last = L;
        memset(G, 0, np * sizeof *G);
        sl_dann_backward(&p, x, zi, dh, B, &g, NULL, scr);
        sl_real gie = g.W_IE[0], gei = g.W_EI[0];
        sl_dann_csgd_step(&p, &g, 0.05);
        cr_expect(fabs((double)g.W_IE[0] - gie / sqrt(ne)) <= 1e-6 * fabs((double)gie) + 1e-12);
        cr_expect(fabs((double)g.W_EI[0] - gei / d) <= 1e-6 * fabs((double)gei) + 1e-12);
        cr_assert_eq(sl_check_nonneg("W_EE", p.W_EE, ne, d), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_check_nonneg("W_IE", p.W_IE, ni, d), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_check_nonneg("W_EI", p.W_EI, ne, ni), SL_OK, "%s", sl_last_error());
    }
    cr_expect_lt(last, first, "cSGD lowers the loss (%g → %g)", first, last);
    free(P), free(G), free(x), free(y), free(h), free(zi), free(dh), free(scr);
}

/* ------------------------------------------------ freeze masks and Adam */

static void adam_run(sl_adam *a, sl_real *p, const sl_real *target, const sl_real *P, int n,
                     int steps, sl_real *g)
{
    for (int s = 0; s < steps; s++) {
        for (int k = 0; k < n; k++) g[k] = p[k] - target[k]; /* ∇ ½‖p − target‖² */
        if (P) sl_grad_mask(g, P, (size_t)n);
        sl_adam_step(a, p, g);
    }
}

Test(constraints, freeze_mask_under_adam)
{
    const int n = 64;
    sl_real p[64], p0[64], target[64], P[64], g[64];
    sl_rng r;
    sl_rng_seed(&r, 17);
    for (int k = 0; k < n; k++) {
        p[k] = (sl_real)sl_rng_normal(&r);
        target[k] = (sl_real)sl_rng_normal(&r);
        P[k] = k % 2 ? 1 : 0;
    }
    memcpy(p0, p, sizeof p);
    sl_adam_spec spec = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    sl_adam *a;
    cr_assert_eq(sl_adam_create(&spec, n, &a), SL_OK);
    /* frozen from the first step: masking g is enough (m = v = 0) */
    for (int s = 0; s < 100; s++) {
        adam_run(a, p, target, P, n, 1, g);
        cr_assert_eq(sl_check_frozen("p", p, p0, P, 8, 8), SL_OK, "step %d: %s", s, sl_last_error());
    }
    for (int k = 1; k < n; k += 2) cr_expect_neq(p[k], p0[k], "plastic entry %d moved", k);
    sl_adam_free(a);

    /* trained for 10 steps, then frozen: masking g alone is NOT enough … */
    memcpy(p, p0, sizeof p);
    cr_assert_eq(sl_adam_create(&spec, n, &a), SL_OK);
    adam_run(a, p, target, NULL, n, 10, g);
    sl_real at_freeze[64];
    memcpy(at_freeze, p, sizeof p);
    adam_run(a, p, target, P, n, 1, g);
    cr_expect_eq(sl_check_frozen("p", p, at_freeze, P, 8, 8), SL_EINVAL,
                 "stale Adam moments keep moving a newly frozen entry");
    sl_adam_free(a);
    /* … zeroing its moments at the freeze is */
    memcpy(p, p0, sizeof p);
    cr_assert_eq(sl_adam_create(&spec, n, &a), SL_OK);
    adam_run(a, p, target, NULL, n, 10, g);
    memcpy(at_freeze, p, sizeof p);
    sl_adam_freeze(a, 0, P, (size_t)n);
    for (int s = 0; s < 100; s++) {
        adam_run(a, p, target, P, n, 1, g);
        cr_assert_eq(sl_check_frozen("p", p, at_freeze, P, 8, 8), SL_OK, "%s", sl_last_error());
    }
    sl_adam_free(a);
}

/* -------------------------------------------------------------- penalties */

Test(constraints, penalty_values)
{
    sl_real w[3] = {1, -2, 0}, g[3] = {0, 0, 0};
    double v = sl_penalty_l1(w, 3, 0.5, 0, g); /* (criterion's macros evaluate twice) */
    cr_expect_float_eq(v, 1.5, 1e-12);
    cr_expect_eq(g[0], 0.5f);
    cr_expect_eq(g[1], -0.5f);
    cr_expect_eq(g[2], 0, "sgn(0) = 0");
    cr_expect_float_eq(sl_penalty_l1(w, 3, 0.5, 1, NULL), 0.5, 1e-12);
    cr_expect_float_eq(sl_penalty_l2(w, 3, 0.5, 0, NULL), 2.5, 1e-12);
    cr_expect_float_eq(sl_penalty_l2(w, 3, 0.5, 1, NULL), 2.5 / 3, 1e-12);
    /* activation norm: T = 1, B = 2, N = 2: rows (3, 4) and (0, 0) */
    sl_real h[4] = {3, 4, 0, 0}, gh[4] = {0, 0, 0, 0};
    v = sl_penalty_act_norm(h, 1, 2, 2, 0.1, gh);
    cr_expect_float_eq(v, 0.1 * 5 / 2, 1e-12);
    cr_expect_float_eq(gh[0], 0.05 * 0.6, 1e-7);
    cr_expect_float_eq(gh[1], 0.05 * 0.8, 1e-7);
    cr_expect_eq(gh[2], 0);
    sl_real rr[4] = {1, -1, 2, 0};
    cr_expect_float_eq(sl_penalty_rate_l2(rr, 2, 1, 2, 1, NULL), 6.0 / 4, 1e-12);
    cr_expect_float_eq(sl_penalty_rate_l1(rr, 2, 1, 2, 1, NULL), 1.0, 1e-12);
}

/* ------------------------------------------------ clipping and schedules */

Test(constraints, clip_by_value)
{
    sl_real g[5] = {-3, 0.5f, 2, NAN, -1};
    cr_expect_eq(sl_clip_grad_value(g, 5, 1), 2);
    cr_expect_eq(g[0], -1);
    cr_expect_eq(g[1], 0.5f);
    cr_expect_eq(g[2], 1);
    cr_expect(isnan(g[3]));
    cr_expect_eq(g[4], -1);
}

Test(constraints, step_schedule)
{
    sl_step_lr s;
    cr_assert_eq(sl_step_lr_init(&s, 0.1, 3, 0.5), SL_OK);
    const double want[] = {0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025};
    for (int k = 0; k < 7; k++) {
        double lr = sl_step_lr_step(&s);
        cr_expect_float_eq(lr, want[k], 1e-15, "epoch %d: %g", k + 1, lr);
    }
    cr_expect_eq(sl_step_lr_init(&s, 0.1, 0, 0.5), SL_EINVAL);
}

Test(constraints, plateau_schedule)
{
    /* min mode, rel threshold 0.1, patience 2 (worked by hand from torch's rules) */
    sl_plateau p;
    cr_assert_eq(sl_plateau_init(&p, 1, 0.5, 2, 0.1, 0), SL_OK);
    const double m1[] = {10, 9.5, 9.2, 9.1, 8.0, 8.0, 8.0, 8.0, 7.1};
    const double w1[] = {1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25};
    for (int k = 0; k < 9; k++) {
        double lr = sl_plateau_step(&p, m1[k]);
        cr_expect_float_eq(lr, w1[k], 1e-15, "epoch %d: %g", k + 1, lr);
    }
    cr_expect_eq(p.n_reductions, 2);
    /* min_lr floors the reductions; a no-op reduction is skipped */
    cr_assert_eq(sl_plateau_init(&p, 1, 0.5, 0, 0, 0.3), SL_OK);
    const double w2[] = {1, 0.5, 0.3, 0.3};
    for (int k = 0; k < 4; k++) {
        double lr = sl_plateau_step(&p, 5);
        cr_expect_float_eq(lr, w2[k], 1e-15, "epoch %d: %g", k + 1, lr);
    }
    cr_expect_eq(p.n_reductions, 2);
    /* cooldown 1, patience 0, absolute threshold */
    cr_assert_eq(sl_plateau_init(&p, 1, 0.5, 0, 0.5, 0), SL_OK);
    p.cooldown = 1;
    p.threshold_abs = 1;
    const double m3[] = {5, 5, 5, 5, 5, 4.4, 4.2};
    const double w3[] = {1, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125}; /* 4.2 is not 0.5 below 4.4 */
    for (int k = 0; k < 7; k++) {
        double lr = sl_plateau_step(&p, m3[k]);
        cr_expect_float_eq(lr, w3[k], 1e-15, "epoch %d: %g", k + 1, lr);
    }
    /* max mode */
    cr_assert_eq(sl_plateau_init(&p, 1, 0.1, 1, 0, 0), SL_OK);
    p.mode_max = 1;
    const double m4[] = {0.5, 0.6, 0.6, 0.6, 0.7};
    const double w4[] = {1, 1, 1, 0.1, 0.1};
    for (int k = 0; k < 5; k++) {
        double lr = sl_plateau_step(&p, m4[k]);
        cr_expect_float_eq(lr, w4[k], 1e-15, "epoch %d: %g", k + 1, lr);
    }
    cr_expect_eq(sl_plateau_init(&p, 1, 1.5, 1, 0, 0), SL_EINVAL);
}

/* --------------------------------------------------------------- spatial */

Test(spatial, grid_and_distances)
{
    double xyz[300], D[100 * 100];
    cr_assert_eq(sl_grid_coords(5, 5, 4, 100, xyz), SL_OK);
    /* seRNN's meshgrid order: k = (iy·nx + ix)·nz + iz */
    cr_expect_eq(xyz[3 * 1 + 2], 1);
    cr_expect_eq(xyz[3 * 4 + 0], 1);
    cr_expect_eq(xyz[3 * 20 + 1], 1);
    cr_expect_eq(xyz[3 * 99 + 0], 4);
    cr_expect_eq(xyz[3 * 99 + 1], 4);
    cr_expect_eq(xyz[3 * 99 + 2], 3);
    sl_distance_matrix(xyz, 100, 1, D);
    cr_expect_eq(D[0], 0);
    cr_expect_float_eq(D[0 * 100 + 99], sqrt(16 + 16 + 9), 1e-12);
    cr_expect_eq(sl_grid_coords(5, 5, 4, 99, xyz), SL_EINVAL);
    ERR_HAS("5 x 5 x 4 = 100 positions for 99 units");
}

static double max_rel(const double *a, const double *b, size_t n)
{
    double d = 0, s = 1e-300;
    for (size_t k = 0; k < n; k++) {
        if (fabs(a[k] - b[k]) > d || isnan(a[k])) d = fabs(a[k] - b[k]);
        if (fabs(b[k]) > s) s = fabs(b[k]);
    }
    return d / s;
}

Test(spatial, expm_closed_forms)
{
    /* diagonal: e^{diag(d)} = diag(e^d), small and large norms */
    const double dg[4] = {0.001, -0.3, 2.5, -20};
    double A[16] = {0}, E[16], want[16] = {0};
    for (int i = 0; i < 4; i++) A[i * 5] = dg[i], want[i * 5] = exp(dg[i]);
    cr_assert_eq(sl_expm(A, 4, E), SL_OK);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            cr_expect(fabs(E[i * 4 + j] - want[i * 4 + j]) <= 1e-13 * fabs(want[i * 4 + j]) + 1e-300,
                      "diag E[%d,%d] = %.17g, want %.17g", i, j, E[i * 4 + j], want[i * 4 + j]);
    /* rotation generator [[0, −θ], [θ, 0]] → [[cos, −sin], [sin, cos]] */
    const double thetas[] = {1e-3, 0.3, 1.5, 10, 40};
    for (int q = 0; q < 5; q++) {
        double t = thetas[q], R[4] = {0, -t, t, 0}, ER[4];
        cr_assert_eq(sl_expm(R, 2, ER), SL_OK);
        double w[4] = {cos(t), -sin(t), sin(t), cos(t)};
        cr_expect_leq(max_rel(ER, w, 4), 1e-12 * (1 + t), "θ = %g: rel %g", t, max_rel(ER, w, 4));
    }
    double bad[1] = {NAN}, e1[1];
    cr_expect_eq(sl_expm(bad, 1, e1), SL_ENUMERIC);
}

Test(spatial, expm_and_frechet_vs_scipy)
{
    if (!tu_have_python_module("scipy.linalg") || !tu_have_python_module("numpy")) {
        cr_skip_test("scipy is not available to /usr/bin/python3");
        return;
    }
    char *dir = tu_tmpdir();
    cr_assert_not_null(dir);
    double A[36], H[36], E[36], L[36];
    sl_rng r;
    sl_rng_seed(&r, 12);
    for (int k = 0; k < 36; k++) A[k] = 1.2 * sl_rng_normal(&r), H[k] = sl_rng_normal(&r);
    sl_array a = {SL_F64, 2, {6, 6}, A}, h = {SL_F64, 2, {6, 6}, H};
    char *pa = tu_path(dir, "A.npy"), *ph = tu_path(dir, "H.npy"), *pe = tu_path(dir, "E.npy"),
         *pl = tu_path(dir, "L.npy");
    cr_assert_eq(sl_npy_write(pa, &a), SL_OK);
    cr_assert_eq(sl_npy_write(ph, &h), SL_OK);
    char script[1024];
    snprintf(script, sizeof script,
             "import numpy as np, scipy.linalg as sl\n"
             "A = np.load('%s'); H = np.load('%s')\n"
             "np.save('%s', sl.expm(A))\n"
             "np.save('%s', sl.expm_frechet(A, H, compute_expm=False))\n",
             pa, ph, pe, pl);
    cr_assert_eq(tu_python(dir, script), 0);
    sl_array re = {0}, rl = {0};
    cr_assert_eq(sl_npy_read(pe, &re), SL_OK);
    cr_assert_eq(sl_npy_read(pl, &rl), SL_OK);
    cr_assert_eq(sl_expm(A, 6, E), SL_OK);
    double rel_e = max_rel(E, re.data, 36);
    cr_expect_leq(rel_e, 1e-12, "expm vs scipy: rel %g", rel_e);
    cr_assert_eq(sl_expm_frechet(A, H, 6, E, L), SL_OK);
    double rel_l = max_rel(L, rl.data, 36), rel_e2 = max_rel(E, re.data, 36);
    cr_expect_leq(rel_l, 1e-11, "Fréchet vs scipy: rel %g", rel_l);
    cr_expect_leq(rel_e2, 1e-12, "expm from the block: rel %g", rel_e2);
    printf("expm vs scipy rel %.2e; Fréchet vs scipy rel %.2e\n", rel_e, rel_l);
    sl_array_free(&re);
    sl_array_free(&rl);
    free(pa), free(ph), free(pe), free(pl);
    tu_rmtree(dir);
}

Test(spatial, communicability_and_wiring_costs)
{
    const int n = 12;
    double xyz[36], D[144], C[144], C2[144];
    cr_assert_eq(sl_grid_coords(3, 2, 2, n, xyz), SL_OK);
    sl_distance_matrix(xyz, n, 1, D);
    sl_real W[144], WT[144], g[144] = {0};
    sl_rng r;
    sl_rng_seed(&r, 8);
    for (int k = 0; k < 144; k++) W[k] = (sl_real)(0.3 * sl_rng_normal(&r));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) WT[j * n + i] = W[i * n + j];
    /* SE1 */
    double se1 = sl_wiring_cost(W, D, 144, 0.5, g), want = 0;
    for (int k = 0; k < 144; k++) want += 0.5 * fabs((double)W[k]) * D[k];
    cr_expect_float_eq(se1, want, 1e-9);
    /* C has a zero diagonal and is ≥ 0 */
    cr_assert_eq(sl_communicability(W, n, SL_STRENGTH_ROWS, C), SL_OK);
    for (int i = 0; i < n; i++) {
        cr_expect_eq(C[i * n + i], 0);
        for (int j = 0; j < n; j++) cr_expect_geq(C[i * n + j], 0);
    }
    /* seRNN equivalence: column strengths on J = row strengths on Jᵀ, same loss */
    sl_comm_spec sr = {.lambda = 0.5, .strength = SL_STRENGTH_ROWS},
                 sc = {.lambda = 0.5, .strength = SL_STRENGTH_COLS};
    double l1, l2;
    cr_assert_eq(sl_comm_wiring_cost(&sc, W, D, n, &l1, NULL, C), SL_OK);
    cr_assert_eq(sl_comm_wiring_cost(&sr, WT, D, n, &l2, NULL, C2), SL_OK);
    cr_expect(fabs(l1 - l2) <= 1e-5 * fabs(l1), "cols on W %g vs rows on Wᵀ %g", l1, l2);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) cr_expect(fabs(C[i * n + j] - C2[j * n + i]) <= 1e-6 * (1 + C[i * n + j]));
    /* C held constant: gradient λ sgn(W) ⊙ C ⊙ D */
    sl_comm_spec cc = sc;
    cc.c_constant = 1;
    memset(g, 0, sizeof g);
    cr_assert_eq(sl_comm_wiring_cost(&cc, W, D, n, &l2, g, C), SL_OK);
    cr_expect_float_eq(l1, l2, 1e-9 * fabs(l1));
    for (int k = 0; k < 144; k++) {
        double w = W[k] > 0 ? 0.5 * C[k] * D[k] : W[k] < 0 ? -0.5 * C[k] * D[k] : 0;
        cr_expect(fabs((double)g[k] - w) <= 1e-5 * (fabs(w) + 1e-3), "entry %d", k);
    }
    /* an isolated unit (zero row and column) is harmless */
    for (int j = 0; j < n; j++) W[0 * n + j] = W[j * n + 0] = 0;
    memset(g, 0, sizeof g);
    cr_assert_eq(sl_comm_wiring_cost(&sr, W, D, n, &l1, g, NULL), SL_OK);
    cr_expect(isfinite(l1));
    for (int k = 0; k < 144; k++) cr_expect(isfinite((double)g[k]));
}
