/* test_penalties_fd.c — float64 finite-difference checks of the L1 penalties
 * in sl_model_loss (train.l1_weight on J, B, W; train.l1_rate on the rates /
 * hidden outputs) for the CT-RNN (generic path) and the cells, with the
 * task loss and L2 terms on as well. Smooth activations keep |r| and |W|
 * away from kinks at these seeds (a kink would show as a large error). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "FD checks need -DSL_REAL=double");

static double loss_of(sl_model *m, sl_workspace *ws, const sl_batch *b, const sl_loss_spec *ls,
                      sl_loss_terms *lt)
{
    cr_assert_eq(sl_model_loss(m, ws, b, ls, NULL, 0, lt, NULL), SL_OK, "%s", sl_last_error());
    return lt->total;
}

Test(penalties_fd, l1_weight_and_rate)
{
    const struct {
        sl_cell_kind kind;
        sl_activation act;
    } K[] = {{SL_CELL_CTRNN, SL_ACT_TANH}, {SL_CELL_CTRNN, SL_ACT_SOFTPLUS}, {SL_CELL_RNN, SL_ACT_TANH},
             {SL_CELL_GRU, SL_ACT_TANH},   {SL_CELL_LSTM, SL_ACT_TANH}};
    const int N = 4, NI = 3, NO = 2, B = 3, T = 5;
    for (size_t c = 0; c < sizeof K / sizeof K[0]; c++) {
        sl_model_spec s;
        memset(&s, 0, sizeof s);
        s.n_in = NI, s.n_hidden = N, s.n_out = NO, s.act = K[c].act, s.cell = K[c].kind;
        s.tau_ms = 50, s.dt_ms = 20, s.g = 1.5, s.h = 1;
        sl_rng r;
        sl_rng_seed(&r, 100 + c);
        sl_model *m = NULL;
        sl_workspace *ws = NULL;
        cr_assert_eq(sl_model_create(&s, &r, &m), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK);
        sl_real u[B * T * NI], y[B * T * NO];
        for (int i = 0; i < B * T * NI; i++) u[i] = (sl_real)sl_rng_normal(&r);
        for (int i = 0; i < B * T * NO; i++) y[i] = (sl_real)sl_rng_normal(&r);
        sl_batch b = {.B = B, .T = T, .n_in = NI, .n_out = NO, .u = u, .y = y};
        sl_loss_spec ls = {.l2_weight = 0.01, .l2_on = SL_L2_J, .l1_weight = 0.07,
                           .l1_on = SL_L2_J | SL_L2_B | SL_L2_W, .l1_rate = 0.3};
        sl_loss_terms lt;
        sl_model_zero_grad(m);
        cr_assert_eq(sl_model_loss(m, ws, &b, &ls, NULL, 1, &lt, NULL), SL_OK, "%s", sl_last_error());
        cr_assert(lt.weight_l1 > 0 && lt.rate_l1 > 0);
        const size_t np = sl_model_num_params(m);
        sl_real *an = malloc(np * sizeof(sl_real)), *p = sl_model_params(m);
        memcpy(an, sl_model_grads(m), np * sizeof(sl_real));
        for (int k = 0; k < sl_model_num_tensors(m); k++) {
            const sl_param_info *ti = sl_model_tensor(m, k);
            double err = 0, scale = 1e-12;
            for (size_t i = ti->offset; i < ti->offset + ti->numel; i++) {
                const sl_real keep = p[i];
                p[i] = keep + 1e-6;
                double lp = loss_of(m, ws, &b, &ls, &lt);
                p[i] = keep - 1e-6;
                double lm = loss_of(m, ws, &b, &ls, &lt);
                p[i] = keep;
                err = fmax(err, fabs((lp - lm) / 2e-6 - an[i]));
                scale = fmax(scale, fabs(an[i]));
            }
            cr_expect(err / scale < 1e-6, "%s/%s: %s rel. error %g",
                      sl_cell_kind_name(K[c].kind), sl_activation_name(K[c].act), ti->name,
                      err / scale);
        }
        free(an);
        sl_workspace_free(ws);
        sl_model_free(m);
    }
}

/* A fixed connectivity mask on the recurrent matrix (spec.rec_mask): the
 * masked entries start at 0 and get a zero gradient; the others match
 * central differences of the loss. */
Test(penalties_fd, connectivity_mask)
{
    const sl_cell_kind K[] = {SL_CELL_CTRNN, SL_CELL_RNN, SL_CELL_GRU, SL_CELL_LSTM};
    const int N = 4, NI = 2, NO = 2, B = 2, T = 4;
    sl_real M[16];
    for (int i = 0; i < 16; i++) M[i] = (i % 3) != 1;
    for (int c = 0; c < 4; c++) {
        sl_model_spec s;
        memset(&s, 0, sizeof s);
        s.n_in = NI, s.n_hidden = N, s.n_out = NO, s.act = SL_ACT_TANH, s.cell = K[c];
        s.tau_ms = 50, s.dt_ms = 20, s.g = 1.5, s.h = 1, s.rec_mask = M;
        sl_rng r;
        sl_rng_seed(&r, 7 + c);
        sl_model *m = NULL;
        sl_workspace *ws = NULL;
        cr_assert_eq(sl_model_create(&s, &r, &m), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK);
        sl_real u[B * T * NI], y[B * T * NO];
        for (int i = 0; i < B * T * NI; i++) u[i] = (sl_real)sl_rng_normal(&r);
        for (int i = 0; i < B * T * NO; i++) y[i] = (sl_real)sl_rng_normal(&r);
        sl_batch b = {.B = B, .T = T, .n_in = NI, .n_out = NO, .u = u, .y = y};
        sl_loss_spec ls = {.l2_weight = 0.01, .l2_on = SL_L2_J};
        sl_loss_terms lt;
        sl_model_zero_grad(m);
        cr_assert_eq(sl_model_loss(m, ws, &b, &ls, NULL, 1, &lt, NULL), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_model_check_invariants(m), SL_OK, "%s", sl_last_error());
        const sl_param_info *p = sl_model_find(m, c == 0 ? "J" : "weight_hh");
        sl_real *W = sl_model_params(m) + p->offset;
        const sl_real *g = sl_model_grads(m) + p->offset;
        double err = 0, scale = 1e-12;
        for (size_t e = 0; e < p->numel; e++) {
            if (M[e % 16] == 0) {
                cr_assert_eq(W[e], 0, "kind %d: masked entry %zu is %g", c, e, (double)W[e]);
                cr_assert_eq(g[e], 0, "kind %d: masked entry %zu has gradient %g", c, e, (double)g[e]);
                continue;
            }
            const sl_real keep = W[e];
            W[e] = keep + 1e-6;
            double lp = loss_of(m, ws, &b, &ls, &lt);
            W[e] = keep - 1e-6;
            double lm = loss_of(m, ws, &b, &ls, &lt);
            W[e] = keep;
            err = fmax(err, fabs((lp - lm) / 2e-6 - g[e]));
            scale = fmax(scale, fabs(g[e]));
        }
        cr_expect(err / scale < 1e-6, "kind %d: rel. error %g", c, err / scale);
        sl_workspace_free(ws);
        sl_model_free(m);
    }
}
