/* test_cells_fd.c — float64 finite-difference checks of the cells behind
 * src/nn/cell.h (vanilla RNN with every activation, GRU, LSTM).
 *
 * Built with -DSL_REAL=double. For each case, L = Σ w·H (+ ½ Σ H² when quad)
 * with a fixed random w is differentiated by central differences (h = 1e-6)
 * with respect to every parameter element and every input element, and
 * compared with the cell's backward (tests/cellcheck.h):
 *     rel = max|fd − an| / max|an over the whole buffer| ≤ 1e-6
 * per tensor (dU normalised by max|dU|). Shapes include N = 1 and T = 1. For
 * relu / rect_tanh the draw is redone while a pre-activation lies within 1e-4
 * of the kink. Also: backward accumulates (twice = double), dU = NULL gives
 * the same parameter gradients, tensor names and shapes are PyTorch's, and
 * the records agree with H. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellcheck.h"
#include "silico.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "cell FD checks need -DSL_REAL=double");

#define FD_H 1e-6
#define FD_TOL 1e-6
#define FD_KINK 1e-4

typedef struct {
    int N, n_in, B, T;
    double quad;
} fd_shape;

static const fd_shape SHAPES[] = {
    {4, 3, 2, 5, 1.0}, {1, 1, 1, 1, 0.0}, {1, 2, 3, 4, 1.0}, {3, 2, 2, 1, 0.0}, {5, 1, 1, 3, 0.0},
};
#define N_SHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

/* min |pre-activation| of an RNN after cc_forward (relu/rect_tanh kinks),
 * and *max its largest value (> 0: some unit is active) */
static double fd_min_preact(cc_cell *c, double *max)
{
    int r = cc_find_record(c, "preactivation");
    cr_assert_geq(r, 0);
    sl_real *a = malloc(c->nH * sizeof(sl_real));
    cr_assert_not_null(a);
    c->ops->record(&c->dims, c->ws, c->B, c->T, r, a);
    double mn = INFINITY;
    *max = -INFINITY;
    for (size_t i = 0; i < c->nH; i++) mn = fmin(mn, fabs(a[i])), *max = fmax(*max, a[i]);
    free(a);
    return mn;
}

/* One case: build (redrawing near kinks), FD-check, and the extra checks. */
static void fd_case(const sl_cell_ops *ops, sl_activation act, const fd_shape *s, uint64_t seed)
{
    sl_cell_dims d = {.n_in = s->n_in, .n_hidden = s->N, .act = act, .training = 1,
                      .bn_momentum = 0.1, .bn_eps = 1e-5};
    const int kinked = ops == &sl_cell_rnn && (act == SL_ACT_RELU || act == SL_ACT_RECT_TANH);
    char label[96];
    snprintf(label, sizeof label, "%s%s%s N%d in%d B%d T%d%s", ops->name, ops == &sl_cell_rnn ? "/" : "",
             ops == &sl_cell_rnn ? sl_activation_name(act) : "", s->N, s->n_in, s->B, s->T,
             s->quad ? " quad" : "");
    cc_cell c;
    sl_real *U = NULL, *w = NULL;
    int ok = 0;
    for (int attempt = 0; attempt < 200 && !ok; attempt++) {
        sl_rng rng;
        sl_rng_seed_stream(&rng, seed, (uint64_t)attempt);
        if (attempt) cc_free(&c), free(U), free(w);
        cr_assert_eq(cc_create(&c, ops, &d, s->B, s->T, &rng), 0);
        U = malloc(c.nU * sizeof(sl_real));
        w = malloc(c.nH * sizeof(sl_real));
        cr_assert(U && w);
        cc_fill_normal(U, c.nU, 1.0, &rng);
        cc_fill_normal(w, c.nH, 1.0, &rng);
        /* biases and weights a little larger than PyTorch's init, so gates saturate somewhat */
        for (size_t i = 0; i < c.n_params; i++) c.params[i] *= 1.5;
        cc_forward(&c, U);
        double amax = 0;
        ok = !kinked || (fd_min_preact(&c, &amax) >= FD_KINK && amax > 0.1);
    }
    cr_assert(ok, "%s: every draw has a pre-activation near the kink", label);

    double rel[CC_MAX_TENSORS + 1];
    double worst = cc_fd_check(&c, U, w, s->quad, FD_H, label, rel);
    for (int k = 0; k <= c.n_tensors; k++)
        cr_expect_leq(rel[k], FD_TOL, "%s %s: rel %.3e > %.0e", label,
                      k < c.n_tensors ? c.name[k] : "dU", rel[k], FD_TOL);
    cr_expect_leq(worst, FD_TOL);

    /* backward ADDS: a second forward/backward without zeroing doubles the
     * gradients; dU = NULL leaves them unchanged */
    size_t P = c.n_params;
    sl_real *g1 = malloc(P * sizeof(sl_real));
    cr_assert_not_null(g1);
    cc_grad(&c, U, w, s->quad, NULL);
    memcpy(g1, c.grads, P * sizeof(sl_real));
    cc_forward(&c, U);
    cc_backward(&c, U, w, s->quad, NULL);
    double e = 0, m = 1e-300;
    for (size_t i = 0; i < P; i++) {
        e = fmax(e, fabs(c.grads[i] - 2 * g1[i]));
        m = fmax(m, fabs(g1[i]));
    }
    cr_expect_gt(m, 1e-6, "%s: the gradient is identically zero", label);
    cr_expect_leq(e / m, 1e-12, "%s: backward does not accumulate (rel %.3e)", label, e / m);

    /* records after forward */
    cc_forward(&c, U);
    size_t n = c.nH;
    sl_real *rec[6] = {0};
    cr_assert_leq(ops->n_records, 6);
    for (int r = 0; r < ops->n_records; r++) {
        rec[r] = malloc(n * sizeof(sl_real));
        cr_assert_not_null(rec[r]);
        ops->record(&c.dims, c.ws, c.B, c.T, r, rec[r]);
        for (size_t i = 0; i < n; i++)
            cr_assert(isfinite(rec[r][i]), "%s: record %s not finite", label, ops->record_names[r]);
    }
    const size_t BN = (size_t)s->B * s->N;
    double err = 0;
    if (ops == &sl_cell_rnn) { /* H = f(a) */
        for (size_t i = 0; i < n; i++) {
            double a = rec[0][i], f = 0;
            switch (act) {
            case SL_ACT_RECT_TANH: f = a > 0 ? tanh(a) : 0; break;
            case SL_ACT_TANH: f = tanh(a); break;
            case SL_ACT_RELU: f = a > 0 ? a : 0; break;
            case SL_ACT_SOFTPLUS: f = a > 20 ? a : log1p(exp(a)); break;
            case SL_ACT_SIGMOID: f = 1 / (1 + exp(-a)); break;
            }
            err = fmax(err, fabs(f - c.H[i]));
        }
    } else if (ops == &sl_cell_gru) { /* h = (1 − z) n + z h_{t−1} */
        for (size_t i = 0; i < n; i++) {
            double hp = i >= BN ? c.H[i - BN] : 0, z = rec[1][i], nn = rec[2][i];
            err = fmax(err, fabs((1 - z) * nn + z * hp - c.H[i]));
            cr_expect(rec[0][i] > 0 && rec[0][i] < 1 && z > 0 && z < 1 && fabs(nn) < 1);
        }
    } else if (ops == &sl_cell_lstm) { /* c = f c_{t−1} + i g, h = o tanh(c), output = H */
        for (size_t i = 0; i < n; i++) {
            double cp = i >= BN ? rec[4][i - BN] : 0;
            err = fmax(err, fabs(rec[1][i] * cp + rec[0][i] * rec[2][i] - rec[4][i]));
            err = fmax(err, fabs(rec[3][i] * tanh(rec[4][i]) - c.H[i]));
            err = fmax(err, fabs(rec[5][i] - c.H[i]));
        }
    }
    cr_expect_leq(err, 1e-14, "%s: records disagree with H by %.3e", label, err);
    for (int r = 0; r < ops->n_records; r++) free(rec[r]);

    free(g1), free(U), free(w);
    cc_free(&c);
}

Test(cells_fd, rnn_every_activation, .timeout = 120)
{
    for (int a = 0; a <= SL_ACT_SIGMOID; a++)
        for (int k = 0; k < N_SHAPES; k++)
            fd_case(&sl_cell_rnn, (sl_activation)a, &SHAPES[k], 1000 + 10 * (uint64_t)a + k);
}

Test(cells_fd, gru, .timeout = 120)
{
    for (int k = 0; k < N_SHAPES; k++) fd_case(&sl_cell_gru, SL_ACT_TANH, &SHAPES[k], 2000 + k);
}

Test(cells_fd, lstm, .timeout = 120)
{
    for (int k = 0; k < N_SHAPES; k++) fd_case(&sl_cell_lstm, SL_ACT_TANH, &SHAPES[k], 3000 + k);
}

/* PyTorch's names and shapes, so a state_dict maps one to one */
Test(cells_fd, tensor_names_and_shapes)
{
    const sl_cell_ops *ops[3] = {&sl_cell_rnn, &sl_cell_gru, &sl_cell_lstm};
    const int gates[3] = {1, 3, 4};
    const char *names[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    sl_cell_dims d = {.n_in = 3, .n_hidden = 5, .act = SL_ACT_TANH};
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(ops[k]->n_tensors, 4);
        cr_assert_eq(ops[k]->n_buffers, 0);
        for (int i = 0; i < 4; i++) {
            const char *name;
            int ndim;
            int64_t shape[2] = {0, 0};
            ops[k]->tensor(&d, i, &name, &ndim, shape);
            cr_expect_str_eq(name, names[i]);
            cr_expect_eq(ndim, i < 2 ? 2 : 1);
            cr_expect_eq(shape[0], gates[k] * 5);
            if (i < 2) cr_expect_eq(shape[1], i == 0 ? 3 : 5);
        }
    }
}

/* init: U(−1/√N, 1/√N) for every tensor, as PyTorch */
Test(cells_fd, init_uniform_range)
{
    const sl_cell_ops *ops[3] = {&sl_cell_rnn, &sl_cell_gru, &sl_cell_lstm};
    sl_cell_dims d = {.n_in = 7, .n_hidden = 16, .act = SL_ACT_TANH};
    for (int k = 0; k < 3; k++) {
        sl_rng rng;
        sl_rng_seed(&rng, 77);
        cc_cell c;
        cr_assert_eq(cc_create(&c, ops[k], &d, 1, 1, &rng), 0);
        double mx = 0, sum = 0;
        for (size_t i = 0; i < c.n_params; i++) {
            mx = fmax(mx, fabs(c.params[i]));
            sum += c.params[i];
        }
        cr_expect_leq(mx, 0.25);
        cr_expect_gt(mx, 0.24);
        cr_expect_lt(fabs(sum / (double)c.n_params), 0.02, "%s: mean %g", ops[k]->name,
                     sum / (double)c.n_params);
        cc_free(&c);
    }
}
