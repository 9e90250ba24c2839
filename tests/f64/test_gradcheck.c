/* test_gradcheck.c — float64 finite-difference checks of every gradient.
 *
 * Built with -DSL_REAL=double against libsilico_f64.a. For each
 * configuration, the total loss of sl_model_loss is differentiated by central
 * differences (h = 1e-6) with respect to EVERY parameter element and compared
 * with the analytic gradient that sl_model_loss accumulates:
 *     rel = max|fd − an| / max(max|an|, 1e-8)  ≤ 1e-6
 * (numerator per tensor, max|an| over the whole parameter buffer).
 * A single loss term is isolated by differencing two loss specs (the term on
 * minus the term off), both for the finite differences and the analytic
 * gradients. For rect_tanh and relu the draws are redone until no state is
 * within 1e-4 of the kink at 0. Also checks sl_mse_loss's dz and
 * sl_clip_grad_norm.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "gradcheck needs -DSL_REAL=double");

#define GC_H 1e-6
#define GC_TOL 1e-6
#define GC_KINK 1e-4

typedef struct {
    const char *label;
    int N, n_in, n_out, B, T;
    sl_activation act;
    double tau, dt;
    int learn_x0;
    int masked;       /* mask with zeros (else all ones) */
    int null_mask;    /* pass mask = NULL */
    double sigma_rec; /* > 0: noisy forward, same draws every evaluation */
    double b_mean;    /* mean of b (positive keeps rect_tanh active) */
    uint64_t seed;
} gc_case;

typedef struct {
    sl_model *m;
    sl_workspace *ws;
    sl_real *u, *y, *mask;
    sl_batch batch;
    uint64_t noise_seed;
    int noisy;
} gc_net;

static double gc_normal(sl_rng *r, double sd) { return sd * sl_rng_normal(r); }

static int gc_near_kink(gc_net *g)
{
    const sl_model_spec *sp = sl_model_get_spec(g->m);
    if (sp->act != SL_ACT_RECT_TANH && sp->act != SL_ACT_RELU)
        return 0;
    int B = g->batch.B, T = g->batch.T, N = sp->n_hidden;
    size_t n = (size_t)B * T * N;
    sl_real *x = malloc(n * sizeof(sl_real));
    cr_assert_not_null(x);
    sl_model_states(g->ws, x, NULL);
    double mn = INFINITY;
    for (size_t i = 0; i < n; i++)
        mn = fmin(mn, fabs(x[i]));
    free(x);
    const sl_param_info *x0 = sl_model_find(g->m, "x0");
    if (x0)
        for (size_t i = 0; i < x0->numel; i++)
            mn = fmin(mn, fabs(sl_model_params(g->m)[x0->offset + i]));
    return mn < GC_KINK;
}

static double gc_loss(gc_net *g, const sl_loss_spec *ls, int backward, sl_loss_terms *t)
{
    sl_rng noise;
    sl_rng_seed(&noise, g->noise_seed);
    sl_loss_terms tt;
    sl_status s = sl_model_loss(g->m, g->ws, &g->batch, ls, g->noisy ? &noise : NULL,
                                backward, &tt, NULL);
    cr_assert_eq(s, SL_OK, "sl_model_loss: %s", sl_last_error());
    if (t)
        *t = tt;
    return tt.total;
}

/* Build a network with random weights and batch; redraw while near a kink. */
static void gc_build(const gc_case *c, gc_net *g)
{
    sl_model_spec spec = {0};
    spec.n_in = c->n_in;
    spec.n_hidden = c->N;
    spec.n_out = c->n_out;
    spec.act = c->act;
    spec.tau_ms = c->tau;
    spec.dt_ms = c->dt;
    spec.g = 1.2;
    spec.h = 1.0;
    spec.learn_x0 = c->learn_x0;
    spec.sigma_rec = c->sigma_rec;
    memset(g, 0, sizeof *g);
    size_t nu = (size_t)c->B * c->T * c->n_in, ny = (size_t)c->B * c->T * c->n_out;
    g->u = malloc(nu * sizeof(sl_real));
    g->y = malloc(ny * sizeof(sl_real));
    g->mask = malloc(ny * sizeof(sl_real));
    cr_assert(g->u && g->y && g->mask);
    g->noisy = c->sigma_rec > 0;
    for (int attempt = 0; attempt < 200; attempt++) {
        sl_rng rng;
        sl_rng_seed_stream(&rng, c->seed, (uint64_t)attempt);
        if (g->m)
            sl_model_free(g->m);
        if (g->ws)
            sl_workspace_free(g->ws);
        g->m = NULL;
        g->ws = NULL;
        cr_assert_eq(sl_model_create(&spec, &rng, &g->m), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_workspace_create(g->m, c->B, c->T, &g->ws), SL_OK, "%s",
                     sl_last_error());
        sl_real *p = sl_model_params(g->m);
        for (int k = 0; k < sl_model_num_tensors(g->m); k++) {
            const sl_param_info *pi = sl_model_tensor(g->m, k);
            double sd = 0.5, mean = 0;
            if (!strcmp(pi->name, "J"))
                sd = 1.2 / sqrt((double)c->N);
            else if (!strcmp(pi->name, "B"))
                sd = 1.0 / sqrt((double)c->n_in);
            else if (!strcmp(pi->name, "W"))
                sd = 1.0 / sqrt((double)c->N);
            else if (!strcmp(pi->name, "b"))
                sd = 0.2, mean = c->b_mean;
            else if (!strcmp(pi->name, "c"))
                sd = 0.2;
            for (size_t i = 0; i < pi->numel; i++)
                p[pi->offset + i] = (sl_real)(mean + gc_normal(&rng, sd));
        }
        for (size_t i = 0; i < nu; i++)
            g->u[i] = (sl_real)gc_normal(&rng, 1.0);
        for (size_t i = 0; i < ny; i++) {
            g->y[i] = (sl_real)gc_normal(&rng, 0.5);
            g->mask[i] = c->masked ? (sl_rng_uniform(&rng) < 0.3 ? 0 : 1) : 1;
        }
        g->mask[0] = 1;
        g->noise_seed = c->seed * 7919 + (uint64_t)attempt;
        g->batch = (sl_batch){.B = c->B, .T = c->T, .n_in = c->n_in, .n_out = c->n_out,
                              .u = g->u, .y = g->y, .mask = c->null_mask ? NULL : g->mask,
                              .cond = NULL};
        sl_loss_spec none = {0};
        gc_loss(g, &none, 0, NULL);
        if (!gc_near_kink(g))
            return;
    }
    cr_assert_fail("%s: every draw has a state within %g of 0", c->label, GC_KINK);
}

static void gc_free(gc_net *g)
{
    sl_workspace_free(g->ws);
    sl_model_free(g->m);
    free(g->u), free(g->y), free(g->mask);
}

/* Analytic and finite-difference gradients of L(on) − L(off) (off NULL: of
 * L(on)), compared per tensor. Returns the worst rel. */
static double gc_check(const char *label, gc_net *g, const sl_loss_spec *on,
                       const sl_loss_spec *off)
{
    size_t P = sl_model_num_params(g->m);
    sl_real *p = sl_model_params(g->m), *gr = sl_model_grads(g->m);
    double *an = calloc(P, sizeof(double)), *fd = calloc(P, sizeof(double));
    cr_assert(an && fd);

    sl_model_zero_grad(g->m);
    gc_loss(g, on, 1, NULL);
    for (size_t i = 0; i < P; i++)
        an[i] = gr[i];
    if (off) {
        sl_model_zero_grad(g->m);
        gc_loss(g, off, 1, NULL);
        for (size_t i = 0; i < P; i++)
            an[i] -= gr[i];
    }
    for (size_t i = 0; i < P; i++) {
        const sl_real keep = p[i];
        p[i] = keep + GC_H;
        double lp = gc_loss(g, on, 0, NULL) - (off ? gc_loss(g, off, 0, NULL) : 0);
        p[i] = keep - GC_H;
        double lm = gc_loss(g, on, 0, NULL) - (off ? gc_loss(g, off, 0, NULL) : 0);
        p[i] = keep;
        fd[i] = (lp - lm) / (2 * GC_H);
    }

    /* norm-wise: the denominator is the largest analytic gradient element of
     * the whole buffer (a tensor the term does not touch has an exactly zero
     * gradient, and its finite differences are rounding noise) */
    double an_all = 0;
    for (size_t i = 0; i < P; i++)
        an_all = fmax(an_all, fabs(an[i]));
    cr_expect_gt(an_all, 1e-8, "%s: gradient is identically zero", label);
    double worst = 0;
    for (int k = 0; k < sl_model_num_tensors(g->m); k++) {
        const sl_param_info *pi = sl_model_tensor(g->m, k);
        double maxan = 0, maxd = 0;
        for (size_t i = 0; i < pi->numel; i++) {
            maxan = fmax(maxan, fabs(an[pi->offset + i]));
            maxd = fmax(maxd, fabs(an[pi->offset + i] - fd[pi->offset + i]));
        }
        double rel = maxd / fmax(an_all, 1e-8);
        if (!isfinite(rel))
            rel = INFINITY;
        fprintf(stderr, "gradcheck %s d%s rel %.2e (max|grad| %.2e, all %.2e)\n", label,
                pi->name, rel, maxan, an_all);
        cr_expect_leq(rel, GC_TOL, "%s: d%s fd vs analytic rel %.3e (max|an| %.3e, all %.3e)",
                      label, pi->name, rel, maxan, an_all);
        worst = fmax(worst, rel);
    }
    free(an);
    free(fd);
    return worst;
}

/* Check the reported loss terms against direct computations. */
static void gc_check_terms(const char *label, gc_net *g, const sl_loss_spec *ls)
{
    sl_loss_terms t;
    const int B = g->batch.B, T = g->batch.T, no = g->batch.n_out;
    const int N = sl_model_get_spec(g->m)->n_hidden;
    size_t nz = (size_t)B * T * no, nr = (size_t)B * T * N;
    sl_real *z = malloc(nz * sizeof(sl_real)), *r = malloc(nr * sizeof(sl_real));
    cr_assert(z && r);
    sl_rng noise;
    sl_rng_seed(&noise, g->noise_seed);
    cr_assert_eq(sl_model_loss(g->m, g->ws, &g->batch, ls, g->noisy ? &noise : NULL, 0, &t, z),
                 SL_OK);
    sl_model_states(g->ws, NULL, r);

    double se = 0, ms = 0;
    for (size_t i = 0; i < nz; i++) {
        double w = g->batch.mask ? g->batch.mask[i] : 1.0, d = z[i] - g->y[i];
        se += w * d * d;
        ms += w;
    }
    double mse = se / ms;
    double wl2 = 0;
    const char *names[3] = {"J", "B", "W"};
    const unsigned bits[3] = {SL_L2_J, SL_L2_B, SL_L2_W};
    for (int k = 0; k < 3; k++) {
        if (!(ls->l2_on & bits[k]))
            continue;
        const sl_param_info *pi = sl_model_find(g->m, names[k]);
        cr_assert_not_null(pi);
        for (size_t i = 0; i < pi->numel; i++) {
            double v = sl_model_params(g->m)[pi->offset + i];
            wl2 += v * v;
        }
    }
    wl2 *= ls->l2_weight;
    double rr = 0;
    for (size_t i = 0; i < nr; i++)
        rr += (double)r[i] * r[i];
    double rate = ls->l2_rate * rr / (double)nr;
    double tol = 1e-12;
    cr_expect(fabs(t.mse - mse) <= tol * fmax(1, fabs(mse)), "%s: mse %.17g vs %.17g", label,
              t.mse, mse);
    cr_expect(fabs(t.weight_l2 - wl2) <= tol * fmax(1, fabs(wl2)),
              "%s: weight_l2 %.17g vs %.17g", label, t.weight_l2, wl2);
    cr_expect(fabs(t.rate - rate) <= tol * fmax(1, fabs(rate)), "%s: rate %.17g vs %.17g",
              label, t.rate, rate);
    cr_expect(fabs(t.total - (t.mse + t.weight_l2 + t.rate)) <= tol * fmax(1, fabs(t.total)),
              "%s: total %.17g != sum of terms", label, t.total);
    free(z);
    free(r);
}

static const sl_loss_spec GC_ALL = {.l2_weight = 0.05,
                                    .l2_on = SL_L2_J | SL_L2_B | SL_L2_W,
                                    .l2_rate = 0.1};

static gc_case gc_small(const char *label, sl_activation act, uint64_t seed)
{
    gc_case c = {.label = label, .N = 6, .n_in = 3, .n_out = 2, .B = 3, .T = 8, .act = act,
                 .tau = 50, .dt = 10, .learn_x0 = 1, .masked = 1, .b_mean = 0.1,
                 .seed = seed};
    return c;
}

static void gc_run_all_terms(const gc_case *c)
{
    gc_net g;
    gc_build(c, &g);
    gc_check_terms(c->label, &g, &GC_ALL);
    gc_check(c->label, &g, &GC_ALL, NULL);
    gc_free(&g);
}

/* ------------------------------------------------------------------ tests */

Test(gradcheck, n1_rect_tanh)
{
    gc_case c = {.label = "n1", .N = 1, .n_in = 1, .n_out = 1, .B = 2, .T = 5,
                 .act = SL_ACT_RECT_TANH, .tau = 50, .dt = 10, .learn_x0 = 0, .masked = 0,
                 .b_mean = 0.6, .seed = 11};
    gc_run_all_terms(&c);
    c.label = "n1_x0";
    c.learn_x0 = 1;
    c.seed = 12;
    gc_run_all_terms(&c);
}

Test(gradcheck, rect_tanh)
{
    gc_case c = gc_small("rect_tanh", SL_ACT_RECT_TANH, 21);
    c.b_mean = 0.3;
    gc_run_all_terms(&c);
}
Test(gradcheck, tanh)
{
    gc_case c = gc_small("tanh", SL_ACT_TANH, 22);
    gc_run_all_terms(&c);
}
Test(gradcheck, relu)
{
    gc_case c = gc_small("relu", SL_ACT_RELU, 23);
    c.b_mean = 0.2;
    gc_run_all_terms(&c);
}
Test(gradcheck, softplus)
{
    gc_case c = gc_small("softplus", SL_ACT_SOFTPLUS, 24);
    gc_run_all_terms(&c);
}
Test(gradcheck, sigmoid)
{
    gc_case c = gc_small("sigmoid", SL_ACT_SIGMOID, 25);
    gc_run_all_terms(&c);
}

Test(gradcheck, tau30_dt7_no_x0)
{
    gc_case c = gc_small("tau30_dt7", SL_ACT_TANH, 26);
    c.tau = 30;
    c.dt = 7;
    c.learn_x0 = 0;
    gc_run_all_terms(&c);
}

Test(gradcheck, null_mask_and_full_mask)
{
    gc_case c = gc_small("null_mask", SL_ACT_TANH, 27);
    c.masked = 0;
    c.null_mask = 1;
    gc_run_all_terms(&c);
    c.label = "full_mask";
    c.null_mask = 0;
    gc_run_all_terms(&c);
}

Test(gradcheck, single_step_T1)
{
    gc_case c = gc_small("T1", SL_ACT_SOFTPLUS, 28);
    c.T = 1;
    c.masked = 0;
    gc_run_all_terms(&c);
}

Test(gradcheck, recurrent_noise_fixed_draws)
{
    gc_case c = gc_small("noise", SL_ACT_TANH, 29);
    c.sigma_rec = 0.1;
    gc_run_all_terms(&c);
}

/* Each loss term alone: the term's gradient = grad L(term on) − grad L(off). */
Test(gradcheck, loss_terms_alone)
{
    const sl_activation acts[2] = {SL_ACT_TANH, SL_ACT_RECT_TANH};
    for (int a = 0; a < 2; a++) {
        gc_case c = gc_small(a ? "terms_rect_tanh" : "terms_tanh", acts[a], 31 + (uint64_t)a);
        c.b_mean = 0.3;
        gc_net g;
        gc_build(&c, &g);
        char label[96];
        const sl_loss_spec none = {0};
        snprintf(label, sizeof label, "%s_mse_only", c.label);
        gc_check_terms(label, &g, &none);
        gc_check(label, &g, &none, NULL);

        const char *mn[3] = {"J", "B", "W"};
        const unsigned bits[3] = {SL_L2_J, SL_L2_B, SL_L2_W};
        for (int k = 0; k < 3; k++) {
            sl_loss_spec on = {.l2_weight = 0.05, .l2_on = bits[k], .l2_rate = 0};
            snprintf(label, sizeof label, "%s_l2_%s_only", c.label, mn[k]);
            gc_check_terms(label, &g, &on);
            gc_check(label, &g, &on, &none);
            /* closed form: 2 λ_w M on that matrix, zero elsewhere */
            sl_model_zero_grad(g.m);
            gc_loss(&g, &on, 1, NULL);
            sl_real *g_on = malloc(sl_model_num_params(g.m) * sizeof(sl_real));
            cr_assert_not_null(g_on);
            memcpy(g_on, sl_model_grads(g.m), sl_model_num_params(g.m) * sizeof(sl_real));
            sl_model_zero_grad(g.m);
            gc_loss(&g, &none, 1, NULL);
            for (int t = 0; t < sl_model_num_tensors(g.m); t++) {
                const sl_param_info *pi = sl_model_tensor(g.m, t);
                int pen = !strcmp(pi->name, mn[k]);
                for (size_t i = 0; i < pi->numel; i++) {
                    size_t j = pi->offset + i;
                    double want = pen ? 2 * on.l2_weight * sl_model_params(g.m)[j] : 0;
                    double got = g_on[j] - sl_model_grads(g.m)[j];
                    cr_expect(fabs(got - want) <= 1e-12, "%s: d%s[%zu] %.17g, want %.17g",
                              label, pi->name, i, got, want);
                }
            }
            free(g_on);
        }

        sl_loss_spec rate = {.l2_weight = 0, .l2_on = 0, .l2_rate = 0.1};
        snprintf(label, sizeof label, "%s_rate_only", c.label);
        gc_check_terms(label, &g, &rate);
        gc_check(label, &g, &rate, &none);

        /* λ_w set but no matrix selected: no penalty at all */
        sl_loss_spec nomat = {.l2_weight = 0.05, .l2_on = 0, .l2_rate = 0};
        sl_loss_terms t;
        gc_loss(&g, &nomat, 0, &t);
        cr_expect_eq(t.weight_l2, 0.0, "%s: l2_on = 0 must give weight_l2 = 0", c.label);

        snprintf(label, sizeof label, "%s_all_terms", c.label);
        gc_check_terms(label, &g, &GC_ALL);
        gc_check(label, &g, &GC_ALL, NULL);
        gc_free(&g);
    }
}

/* sl_model_backward accumulates: calling loss twice doubles the gradient. */
Test(gradcheck, gradients_accumulate)
{
    gc_case c = gc_small("accumulate", SL_ACT_TANH, 41);
    gc_net g;
    gc_build(&c, &g);
    size_t P = sl_model_num_params(g.m);
    sl_model_zero_grad(g.m);
    gc_loss(&g, &GC_ALL, 1, NULL);
    sl_real *once = malloc(P * sizeof(sl_real));
    cr_assert_not_null(once);
    memcpy(once, sl_model_grads(g.m), P * sizeof(sl_real));
    gc_loss(&g, &GC_ALL, 1, NULL);
    for (size_t i = 0; i < P; i++)
        cr_expect(fabs(sl_model_grads(g.m)[i] - 2 * once[i]) <= 1e-12 * fmax(1, fabs(once[i])),
                  "grad[%zu] %.17g after two calls, once %.17g", i, sl_model_grads(g.m)[i],
                  once[i]);
    free(once);
    gc_free(&g);
}

/* ------------------------------------------------------ sl_mse_loss's dz */

static void gc_mse_dz(const char *label, int use_mask)
{
    enum { n = 37 };
    sl_real z[n], y[n], mask[n], dz[n];
    sl_rng r;
    sl_rng_seed(&r, 51);
    for (int i = 0; i < n; i++) {
        z[i] = (sl_real)sl_rng_normal(&r);
        y[i] = (sl_real)sl_rng_normal(&r);
        mask[i] = sl_rng_uniform(&r) < 0.4 ? 0 : (sl_real)(0.5 + sl_rng_uniform(&r));
    }
    const sl_real *mk = use_mask ? mask : NULL;
    double L = sl_mse_loss(z, y, mk, n, dz);
    double se = 0, ms = 0;
    for (int i = 0; i < n; i++) {
        double w = mk ? mk[i] : 1;
        se += w * (z[i] - y[i]) * (z[i] - y[i]);
        ms += w;
    }
    cr_expect(fabs(L - se / ms) <= 1e-14 * fmax(1, L), "%s: loss %.17g vs %.17g", label, L,
              se / ms);
    cr_expect_eq(sl_mse_loss(z, y, mk, n, NULL), L, "%s: dz = NULL changes the loss", label);
    double maxan = 0, maxd = 0;
    for (int i = 0; i < n; i++) {
        sl_real keep = z[i];
        z[i] = keep + GC_H;
        double lp = sl_mse_loss(z, y, mk, n, NULL);
        z[i] = keep - GC_H;
        double lm = sl_mse_loss(z, y, mk, n, NULL);
        z[i] = keep;
        double fd = (lp - lm) / (2 * GC_H);
        maxan = fmax(maxan, fabs(dz[i]));
        maxd = fmax(maxd, fabs(fd - dz[i]));
        if (mk && mk[i] == 0)
            cr_expect_eq(dz[i], 0.0, "%s: dz[%d] nonzero where mask is 0", label, i);
    }
    double rel = maxd / fmax(maxan, 1e-8);
    fprintf(stderr, "gradcheck %s dz rel %.2e\n", label, rel);
    cr_expect_leq(rel, GC_TOL, "%s: dz vs fd rel %.3e", label, rel);
}

Test(gradcheck, mse_loss_dz)
{
    gc_mse_dz("mse_masked", 1);
    gc_mse_dz("mse_unmasked", 0);
}

/* --------------------------------------------------- sl_clip_grad_norm */

Test(gradcheck, clip_grad_norm)
{
    enum { n = 50 };
    sl_real g[n], g0[n];
    sl_rng r;
    sl_rng_seed(&r, 61);
    double ss = 0;
    for (int i = 0; i < n; i++) {
        g0[i] = (sl_real)sl_rng_normal(&r);
        ss += (double)g0[i] * g0[i];
    }
    const double norm = sqrt(ss);

    /* active: scaled by max_norm / (norm + 1e-6), as torch's clip_grad_norm_ */
    memcpy(g, g0, sizeof g);
    double max_norm = 0.25 * norm;
    double ret = sl_clip_grad_norm(g, n, max_norm);
    cr_expect(fabs(ret - norm) <= 1e-13 * norm, "returned %.17g, norm %.17g", ret, norm);
    double coef = max_norm / (norm + 1e-6), ss2 = 0;
    for (int i = 0; i < n; i++) {
        cr_expect(fabs(g[i] - g0[i] * coef) <= 1e-14 * fabs(g0[i]) + 1e-300,
                  "g[%d] %.17g, want %.17g", i, g[i], g0[i] * coef);
        ss2 += (double)g[i] * g[i];
    }
    cr_expect(sqrt(ss2) <= max_norm, "clipped norm %.17g > max_norm %.17g", sqrt(ss2),
              max_norm);

    /* inactive: norm below max_norm, untouched */
    memcpy(g, g0, sizeof g);
    ret = sl_clip_grad_norm(g, n, 2 * norm);
    cr_expect(fabs(ret - norm) <= 1e-13 * norm);
    cr_expect(memcmp(g, g0, sizeof g) == 0, "gradient changed though norm < max_norm");

    /* max_norm = 0: no clipping, only the norm */
    memcpy(g, g0, sizeof g);
    ret = sl_clip_grad_norm(g, n, 0);
    cr_expect(fabs(ret - norm) <= 1e-13 * norm);
    cr_expect(memcmp(g, g0, sizeof g) == 0, "max_norm 0 must not clip");

    /* zero gradient: norm 0, stays 0 */
    sl_real zg[4] = {0, 0, 0, 0};
    cr_expect_eq(sl_clip_grad_norm(zg, 4, 1.0), 0.0);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(zg[i], 0.0);
}
