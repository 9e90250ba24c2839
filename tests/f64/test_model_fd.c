/* test_model_fd.c — float64 finite-difference checks of sl_model_loss for
 * every model kind (model.type = ctrnn, rnn, gru, lightgru, lstm): the cell,
 * the readout z = W h + c, the task loss, the weight penalty mapped onto the
 * cell's matrices and the rate penalty on h, all through the public API.
 *
 * Built with -DSL_REAL=double. For each kind and each loss, the loss
 *   L = task + λ_w Σ_{J,B,W} Σ M² + λ_r mean(h²)        (λ_w = 0.03, λ_r = 0.2)
 * with task = masked MSE (random targets, mask in [0, 1]) or the class-weighted
 * cross-entropy (random labels, per-step mask with zeros, weights ≠ 1) is
 * differentiated by central differences (h = 1e-6) with respect to every
 * parameter element and compared with sl_model_loss(backward = 1):
 *     rel = max|fd − an| / max|an over the tensor| ≤ 1e-6   per tensor.
 * The light GRU runs in training mode there (batch statistics: its running
 * statistics change between evaluations but do not enter the loss). Its
 * evaluation mode is checked through sl_model_forward + sl_model_backward
 * (L = Σ v·z + rate_coef Σ h²). Smooth activations only for the vanilla RNN
 * (tanh, softplus, sigmoid), so no ReLU kink meets a difference; the light
 * GRU's ReLU candidate is checked at seeds where no pre-activation lies near
 * 0 (a kink shows as a large error, which this test would report). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "model FD checks need -DSL_REAL=double");

#define FD_H 1e-6
#define FD_TOL 1e-6

typedef struct {
    sl_cell_kind kind;
    sl_activation act;
    int N, n_in, n_out, B, T;
} fd_case;

static const fd_case CASES[] = {
    {SL_CELL_CTRNN, SL_ACT_TANH, 4, 3, 3, 3, 5},
    {SL_CELL_RNN, SL_ACT_TANH, 4, 3, 3, 3, 5},
    {SL_CELL_RNN, SL_ACT_SOFTPLUS, 3, 2, 3, 2, 4},
    {SL_CELL_RNN, SL_ACT_SIGMOID, 1, 1, 2, 2, 3},
    {SL_CELL_GRU, SL_ACT_TANH, 4, 3, 3, 3, 5},
    {SL_CELL_GRU, SL_ACT_TANH, 1, 2, 2, 1, 1},
    {SL_CELL_LIGHTGRU, SL_ACT_TANH, 4, 3, 3, 3, 5},
    {SL_CELL_LIGHTGRU, SL_ACT_TANH, 2, 1, 2, 4, 2},
    {SL_CELL_LSTM, SL_ACT_TANH, 4, 3, 3, 3, 5},
    {SL_CELL_LSTM, SL_ACT_TANH, 1, 3, 2, 2, 6},
};
#define N_CASES (int)(sizeof CASES / sizeof CASES[0])

typedef struct {
    sl_model *m;
    sl_workspace *ws;
    sl_batch b;
    sl_real *u, *y, *mask;
    int *labels;
    double cw[8];
    sl_loss_spec ls;
} fd_setup;

static void setup(fd_setup *s, const fd_case *c, int ce, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    sl_model_spec spec = {0};
    spec.n_in = c->n_in, spec.n_hidden = c->N, spec.n_out = c->n_out;
    spec.act = c->act, spec.cell = c->kind;
    spec.tau_ms = 50, spec.dt_ms = 20, spec.g = 1.5, spec.h = 1;
    sl_rng r;
    sl_rng_seed(&r, seed);
    cr_assert_eq(sl_model_create(&spec, &r, &s->m), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_workspace_create(s->m, c->B, c->T, &s->ws), SL_OK, "%s", sl_last_error());
    /* move every parameter off its initial value (γ = 1, β = 0, b = 0 ...) */
    sl_real *p = sl_model_params(s->m);
    for (size_t i = 0; i < sl_model_num_params(s->m); i++) p[i] += (sl_real)(0.3 * sl_rng_normal(&r));
    const size_t steps = (size_t)c->B * c->T;
    s->u = malloc(steps * c->n_in * sizeof(sl_real));
    cr_assert_not_null(s->u);
    for (size_t i = 0; i < steps * c->n_in; i++) s->u[i] = (sl_real)sl_rng_normal(&r);
    s->b.B = c->B, s->b.T = c->T, s->b.n_in = c->n_in, s->b.n_out = c->n_out, s->b.u = s->u;
    if (ce) {
        s->labels = malloc(steps * sizeof(int));
        s->mask = malloc(steps * sizeof(sl_real));
        cr_assert(s->labels && s->mask);
        for (size_t i = 0; i < steps; i++) {
            s->labels[i] = (int)sl_rng_below(&r, (uint64_t)c->n_out);
            s->mask[i] = i % 4 == 1 ? 0 : (sl_real)(0.5 + sl_rng_uniform(&r));
        }
        for (int k = 0; k < c->n_out; k++) s->cw[k] = 0.5 + k;
        s->b.labels = s->labels, s->b.mask = s->mask;
        s->ls.class_weights = s->cw;
    } else {
        s->y = malloc(steps * c->n_out * sizeof(sl_real));
        s->mask = malloc(steps * c->n_out * sizeof(sl_real));
        cr_assert(s->y && s->mask);
        for (size_t i = 0; i < steps * c->n_out; i++) {
            s->y[i] = (sl_real)sl_rng_normal(&r);
            s->mask[i] = (sl_real)sl_rng_uniform(&r);
        }
        s->b.y = s->y, s->b.mask = s->mask;
    }
    s->ls.l2_weight = 0.03;
    s->ls.l2_on = SL_L2_J | SL_L2_B | SL_L2_W;
    s->ls.l2_rate = 0.2;
}

static void teardown(fd_setup *s)
{
    sl_workspace_free(s->ws);
    sl_model_free(s->m);
    free(s->u), free(s->y), free(s->mask), free(s->labels);
}

static double loss_of(fd_setup *s)
{
    sl_loss_terms lt;
    cr_assert_eq(sl_model_loss(s->m, s->ws, &s->b, &s->ls, NULL, 0, &lt, NULL), SL_OK, "%s",
                 sl_last_error());
    return lt.total;
}

/* FD-check every tensor; returns the worst rel */
static double check_all(fd_setup *s, const char *label)
{
    sl_model *m = s->m;
    const size_t n = sl_model_num_params(m);
    sl_real *p = sl_model_params(m), *g = sl_model_grads(m);
    sl_model_zero_grad(m);
    sl_loss_terms lt;
    cr_assert_eq(sl_model_loss(m, s->ws, &s->b, &s->ls, NULL, 1, &lt, NULL), SL_OK, "%s",
                 sl_last_error());
    cr_assert(lt.weight_l2 > 0 && lt.rate > 0, "%s: the penalties are on", label);
    double *an = malloc(n * sizeof(double));
    cr_assert_not_null(an);
    for (size_t i = 0; i < n; i++) an[i] = g[i];
    double worst = 0;
    for (int k = 0; k < sl_model_num_tensors(m); k++) {
        const sl_param_info *t = sl_model_tensor(m, k);
        double maxan = 0, maxerr = 0;
        for (size_t i = t->offset; i < t->offset + t->numel; i++) {
            const sl_real keep = p[i];
            p[i] = keep + FD_H;
            double lp = loss_of(s);
            p[i] = keep - FD_H;
            double lm = loss_of(s);
            p[i] = keep;
            double fd = (lp - lm) / (2 * FD_H);
            maxan = fmax(maxan, fabs(an[i]));
            maxerr = fmax(maxerr, fabs(fd - an[i]));
        }
        double rel = maxerr / fmax(maxan, 1e-12);
        fprintf(stderr, "model_fd %-28s %-12s rel %.2e (max |grad| %.3g)%s\n", label, t->name, rel,
                maxan, rel <= FD_TOL ? "" : "  NOT OK");
        cr_expect_leq(rel, FD_TOL, "%s: %s rel %.3g", label, t->name, rel);
        cr_expect_gt(maxan, 0, "%s: %s gradient is all zero", label, t->name);
        worst = fmax(worst, rel);
    }
    free(an);
    return worst;
}

Test(model_fd, every_kind_mse_and_weighted_ce)
{
    for (int i = 0; i < N_CASES; i++)
        for (int ce = 0; ce < 2; ce++) {
            const fd_case *c = &CASES[i];
            char label[96];
            snprintf(label, sizeof label, "%s/%s N%d %s", sl_cell_kind_name(c->kind),
                     sl_activation_name(c->act), c->N, ce ? "ce" : "mse");
            fd_setup s;
            setup(&s, c, ce, 100 + (uint64_t)i);
            check_all(&s, label);
            teardown(&s);
        }
}

/* The light GRU in evaluation mode (running statistics), through
 * sl_model_forward + sl_model_backward, for L = Σ v·z + rc Σ h². */
Test(model_fd, lightgru_eval_mode_forward_backward)
{
    const fd_case c = {SL_CELL_LIGHTGRU, SL_ACT_TANH, 4, 3, 2, 3, 4};
    fd_setup s;
    setup(&s, &c, 0, 7);
    sl_model *m = s.m;
    /* running statistics away from (0, 1) */
    sl_rng r;
    sl_rng_seed(&r, 8);
    cr_assert_eq(sl_model_num_buffers(m), 4);
    sl_real *bufs = sl_model_buffers(m);
    for (int k = 0; k < 4; k++) {
        const sl_param_info *b = sl_model_buffer(m, k);
        int var = strstr(b->name, "var") != NULL;
        for (size_t i = 0; i < b->numel; i++)
            bufs[b->offset + i] = (sl_real)(var ? 0.5 + sl_rng_uniform(&r) : 0.5 * sl_rng_normal(&r));
    }
    const size_t nz = (size_t)c.B * c.T * c.n_out, nh = (size_t)c.B * c.T * c.N;
    sl_real *v = malloc(nz * sizeof(sl_real)), *z = malloc(nz * sizeof(sl_real));
    sl_real *h = malloc(nh * sizeof(sl_real));
    cr_assert(v && z && h);
    for (size_t i = 0; i < nz; i++) v[i] = (sl_real)sl_rng_normal(&r);
    const double rc = 0.05;
#define EVAL_LOSS(out)                                                                             \
    do {                                                                                            \
        cr_assert_eq(sl_model_forward(m, s.ws, s.u, c.B, c.T, NULL, z), SL_OK, "%s", sl_last_error()); \
        sl_model_states(s.ws, NULL, h);                                                             \
        double acc = 0;                                                                             \
        for (size_t q = 0; q < nz; q++) acc += (double)v[q] * z[q];                                 \
        for (size_t q = 0; q < nh; q++) acc += rc * (double)h[q] * h[q];                            \
        out = acc;                                                                                  \
    } while (0)
    double l0;
    EVAL_LOSS(l0);
    (void)l0;
    sl_model_zero_grad(m);
    cr_assert_eq(sl_model_backward(m, s.ws, v, rc), SL_OK, "%s", sl_last_error());
    const size_t n = sl_model_num_params(m);
    sl_real *p = sl_model_params(m);
    double *an = malloc(n * sizeof(double));
    cr_assert_not_null(an);
    for (size_t i = 0; i < n; i++) an[i] = sl_model_grads(m)[i];
    for (int k = 0; k < sl_model_num_tensors(m); k++) {
        const sl_param_info *t = sl_model_tensor(m, k);
        double maxan = 0, maxerr = 0;
        for (size_t i = t->offset; i < t->offset + t->numel; i++) {
            const sl_real keep = p[i];
            double lp, lm;
            p[i] = keep + FD_H;
            EVAL_LOSS(lp);
            p[i] = keep - FD_H;
            EVAL_LOSS(lm);
            p[i] = keep;
            maxan = fmax(maxan, fabs(an[i]));
            maxerr = fmax(maxerr, fabs((lp - lm) / (2 * FD_H) - an[i]));
        }
        double rel = maxerr / fmax(maxan, 1e-12);
        fprintf(stderr, "model_fd lightgru eval mode          %-12s rel %.2e%s\n", t->name, rel,
                rel <= FD_TOL ? "" : "  NOT OK");
        cr_expect_leq(rel, FD_TOL, "lightgru eval: %s rel %.3g", t->name, rel);
    }
#undef EVAL_LOSS
    free(an), free(v), free(z), free(h);
    teardown(&s);
}
