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

/* ------------------------------------------------ ENU, Dale, activation norm */

/* The light GRU with its constraints and the activation-norm penalty, through
 * sl_model_loss (training mode), every parameter element checked as above:
 *   ENU k = 2       enu.weight, enu.bias and W_z, W_h used as Ŵ ⊙ M (the
 *                   masked entries have zero analytic and FD gradients);
 *   Dale reparam    U_h_eff = |U_h ⊙ M|·diag(sign), no autapses, f = 0.5;
 *   Dale project    U_h ⊙ M (the projection itself is not in the loss);
 *   β > 0           the activation norm β·mean ‖h‖₂;
 * and all of them at once. U_h's entries are moved off 0 (|·| has a kink
 * there) except the masked diagonal, which must stay exactly 0. */
typedef struct {
    const char *label;
    int enu_k;
    sl_dale_mode dale;
    int no_autapses;
    double beta;
    sl_cell_kind kind;
} fd_constrained;

static void check_constrained(const fd_constrained *cc, int ce, uint64_t seed)
{
    const fd_case c = {cc->kind, SL_ACT_TANH, 4, 3, 3, 3, 5};
    fd_setup s;
    memset(&s, 0, sizeof s);
    sl_model_spec spec = {0};
    spec.n_in = c.n_in, spec.n_hidden = c.N, spec.n_out = c.n_out, spec.act = c.act;
    spec.cell = c.kind;
    spec.enu_k = cc->enu_k, spec.dale = cc->dale, spec.no_autapses = cc->no_autapses;
    spec.exc_fraction = 0.5;
    sl_rng r;
    sl_rng_seed(&r, seed);
    cr_assert_eq(sl_model_create(&spec, &r, &s.m), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_workspace_create(s.m, c.B, c.T, &s.ws), SL_OK, "%s", sl_last_error());
    /* move every free parameter off its initial value, keeping masked zeros
     * at 0 and the Dale matrix away from |·|'s kink */
    sl_real *p = sl_model_params(s.m);
    const size_t np = sl_model_num_params(s.m);
    sl_real *keep0 = malloc(np * sizeof(sl_real));
    cr_assert_not_null(keep0);
    for (size_t i = 0; i < np; i++) keep0[i] = p[i];
    for (size_t i = 0; i < np; i++)
        if (keep0[i] != 0 || i >= np - (size_t)c.n_out * (c.N + 1)) {
            double d = 0.3 * sl_rng_normal(&r);
            p[i] += (sl_real)d;
        }
    const char *dn = c.kind == SL_CELL_LIGHTGRU ? "U_h" : "weight_hh";
    const sl_param_info *rec = sl_model_find(s.m, dn);
    cr_assert_not_null(rec);
    for (size_t i = rec->offset; i < rec->offset + rec->numel; i++)
        if (keep0[i] != 0 && fabs(p[i]) < 0.05) p[i] = p[i] < 0 ? -0.05 : 0.05;
    free(keep0);
    const size_t steps = (size_t)c.B * c.T;
    s.u = malloc(steps * c.n_in * sizeof(sl_real));
    cr_assert_not_null(s.u);
    for (size_t i = 0; i < steps * c.n_in; i++) s.u[i] = (sl_real)sl_rng_normal(&r);
    s.b.B = c.B, s.b.T = c.T, s.b.n_in = c.n_in, s.b.n_out = c.n_out, s.b.u = s.u;
    if (ce) {
        s.labels = malloc(steps * sizeof(int));
        s.mask = malloc(steps * sizeof(sl_real));
        cr_assert(s.labels && s.mask);
        for (size_t i = 0; i < steps; i++) {
            s.labels[i] = (int)sl_rng_below(&r, (uint64_t)c.n_out);
            s.mask[i] = i % 4 == 1 ? 0 : (sl_real)(0.5 + sl_rng_uniform(&r));
        }
        for (int k = 0; k < c.n_out; k++) s.cw[k] = 0.5 + k;
        s.b.labels = s.labels, s.b.mask = s.mask;
        s.ls.class_weights = s.cw;
    } else {
        s.y = malloc(steps * c.n_out * sizeof(sl_real));
        s.mask = malloc(steps * c.n_out * sizeof(sl_real));
        cr_assert(s.y && s.mask);
        for (size_t i = 0; i < steps * c.n_out; i++) {
            s.y[i] = (sl_real)sl_rng_normal(&r);
            s.mask[i] = (sl_real)sl_rng_uniform(&r);
        }
        s.b.y = s.y, s.b.mask = s.mask;
    }
    s.ls.l2_weight = 0.03;
    s.ls.l2_on = SL_L2_J | SL_L2_B | SL_L2_W;
    s.ls.l2_rate = 0.2;
    s.ls.l2_activation = cc->beta;
    char label[128];
    snprintf(label, sizeof label, "%s %s", cc->label, ce ? "ce" : "mse");
    check_all(&s, label);
    sl_loss_terms lt;
    cr_assert_eq(sl_model_loss(s.m, s.ws, &s.b, &s.ls, NULL, 0, &lt, NULL), SL_OK);
    if (cc->beta > 0)
        cr_expect(lt.activation > 0 && fabs(lt.total - (lt.mse + lt.weight_l2 + lt.rate + lt.activation)) <
                      1e-12,
                  "%s: the activation term is in the total", label);
    else
        cr_expect_eq(lt.activation, 0);
    /* the masked entries are 0 and their gradient exactly 0; project mode's
     * signs hold once projected (the perturbation above broke them) */
    if (cc->dale == SL_DALE_PROJECT) {
        cr_expect_neq(sl_model_check_invariants(s.m), SL_OK, "%s: the check sees wrong signs", label);
        sl_model_constrain(s.m);
    }
    sl_model_zero_grad(s.m);
    cr_assert_eq(sl_model_loss(s.m, s.ws, &s.b, &s.ls, NULL, 1, &lt, NULL), SL_OK);
    cr_expect_eq(sl_model_check_invariants(s.m), SL_OK, "%s: %s", label, sl_last_error());
    if (cc->no_autapses)
        for (int i = 0; i < c.N; i++) {
            cr_expect_eq(p[rec->offset + (size_t)i * c.N + i], 0, "%s: diagonal %d", label, i);
            cr_expect_eq(sl_model_grads(s.m)[rec->offset + (size_t)i * c.N + i], 0);
        }
    if (cc->enu_k) {
        const sl_param_info *wz = sl_model_find(s.m, c.kind == SL_CELL_LIGHTGRU ? "W_z" : "weight_ih");
        cr_assert_not_null(wz);
        cr_expect_eq(wz->shape[1], c.N * cc->enu_k);
        size_t zeros = 0;
        for (int row = 0; row < wz->shape[0]; row++)
            for (int col = 0; col < wz->shape[1]; col++) {
                size_t e = wz->offset + (size_t)row * wz->shape[1] + col;
                if (col / cc->enu_k != row % c.N) {
                    cr_expect_eq(p[e], 0, "%s: W(%d,%d) masked", label, row, col);
                    cr_expect_eq(sl_model_grads(s.m)[e], 0, "%s: ∂W(%d,%d) masked", label, row, col);
                    zeros++;
                }
            }
        cr_expect_gt(zeros, 0);
    }
    teardown(&s);
}

Test(model_fd, lightgru_enu_dale_activation_norm)
{
    static const fd_constrained CC[] = {
        {"lightgru enu k2", 2, SL_DALE_OFF, 0, 0, SL_CELL_LIGHTGRU},
        {"lightgru dale reparam", 0, SL_DALE_REPARAM, 1, 0, SL_CELL_LIGHTGRU},
        {"lightgru dale project", 0, SL_DALE_PROJECT, 1, 0, SL_CELL_LIGHTGRU},
        {"lightgru act-norm", 0, SL_DALE_OFF, 0, 0.7, SL_CELL_LIGHTGRU},
        {"lightgru enu+reparam+act", 2, SL_DALE_REPARAM, 1, 0.7, SL_CELL_LIGHTGRU},
        {"gru enu k2 + reparam", 2, SL_DALE_REPARAM, 1, 0.3, SL_CELL_GRU},
        {"lstm enu k3 + reparam", 3, SL_DALE_REPARAM, 0, 0.3, SL_CELL_LSTM},
        {"rnn enu k2 + project", 2, SL_DALE_PROJECT, 1, 0.3, SL_CELL_RNN},
    };
    for (size_t i = 0; i < sizeof CC / sizeof CC[0]; i++)
        for (int ce = 0; ce < 2; ce++) check_constrained(&CC[i], ce, 300 + i);
}
