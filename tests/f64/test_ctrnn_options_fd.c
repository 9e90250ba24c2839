/* test_ctrnn_options_fd.c — float64 finite-difference checks of the CT-RNN's
 * options through sl_model_loss: Dale's law on J (reparam |J ⊙ M|·diag(sign),
 * project; DANN J_eff = J − J_EI·J_IE, gradients of J, J_IE and J_EI), no
 * autapses, the rate form (Yang et al. 2019: r integrated) with
 * and without a learned r₀, and a plasticity mask (frozen entries get exactly
 * 0). The loss carries the task MSE, λ_w Σ J², λ₁ Σ|J|, λ_r mean r² and
 * λ_r1 mean|r|, so every backward term is exercised. Central differences
 * (h = 1e-6) against the analytic gradient, per tensor:
 *     rel = max|fd − an| / max|an| ≤ 1e-6.
 * Smooth activations only (tanh, softplus, sigmoid): no kink meets a
 * difference; Dale's |·| kink is away at these seeds (J's magnitudes from
 * |N(0, g²/N)| are not within 1e-6 of 0). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "FD checks need -DSL_REAL=double");

typedef struct {
    const char *label;
    sl_ctrnn_form form;
    sl_activation act;
    sl_dale_mode dale;
    int no_autapses, learn_x0, plastic;
} opt_case;

static double loss_of(sl_model *m, sl_workspace *ws, const sl_batch *b, const sl_loss_spec *ls)
{
    sl_loss_terms lt;
    cr_assert_eq(sl_model_loss(m, ws, b, ls, NULL, 0, &lt, NULL), SL_OK, "%s", sl_last_error());
    return lt.total;
}

Test(ctrnn_options_fd, dale_rate_form_plasticity)
{
    static const opt_case CASES[] = {
        {"current dale reparam, no autapses", SL_CTRNN_CURRENT, SL_ACT_TANH, SL_DALE_REPARAM, 1, 0, 0},
        {"current dale reparam softplus x0", SL_CTRNN_CURRENT, SL_ACT_SOFTPLUS, SL_DALE_REPARAM, 0, 1, 0},
        {"current dale project", SL_CTRNN_CURRENT, SL_ACT_TANH, SL_DALE_PROJECT, 1, 0, 0},
        {"rate tanh", SL_CTRNN_RATE, SL_ACT_TANH, SL_DALE_OFF, 0, 0, 0},
        {"rate softplus r0", SL_CTRNN_RATE, SL_ACT_SOFTPLUS, SL_DALE_OFF, 0, 1, 0},
        {"rate sigmoid + dale reparam", SL_CTRNN_RATE, SL_ACT_SIGMOID, SL_DALE_REPARAM, 1, 0, 0},
        {"rate tanh + plasticity mask", SL_CTRNN_RATE, SL_ACT_TANH, SL_DALE_OFF, 0, 1, 1},
        {"current tanh + plasticity mask", SL_CTRNN_CURRENT, SL_ACT_TANH, SL_DALE_OFF, 0, 0, 1},
        {"current dann", SL_CTRNN_CURRENT, SL_ACT_TANH, SL_DALE_DANN, 0, 0, 0},
        {"rate dann softplus r0 + plasticity", SL_CTRNN_RATE, SL_ACT_SOFTPLUS, SL_DALE_DANN, 0, 1, 1},
    };
    const int N = 5, NI = 3, NO = 2, B = 3, T = 6;
    sl_real P[25];
    for (int i = 0; i < 25; i++) P[i] = (i % 4) != 2; /* a quarter frozen */
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const opt_case *k = &CASES[c];
        sl_model_spec s;
        memset(&s, 0, sizeof s);
        s.n_in = NI, s.n_hidden = N, s.n_out = NO, s.act = k->act, s.form = k->form;
        s.tau_ms = 50, s.dt_ms = 20, s.g = 1.5, s.h = 1, s.learn_x0 = k->learn_x0;
        s.dale = k->dale, s.no_autapses = k->no_autapses, s.exc_fraction = 0.6;
        s.plastic_mask = k->plastic ? P : NULL;
        sl_rng r;
        sl_rng_seed(&r, 300 + c);
        sl_model *m = NULL;
        sl_workspace *ws = NULL;
        cr_assert_eq(sl_model_create(&s, &r, &m), SL_OK, "%s: %s", k->label, sl_last_error());
        cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK);
        sl_real *p = sl_model_params(m);
        if (k->learn_x0) {
            const sl_param_info *x0 = sl_model_find(m, "x0");
            for (size_t i = 0; i < x0->numel; i++) p[x0->offset + i] = (sl_real)(0.3 * sl_rng_normal(&r));
        }
        const sl_param_info *bi = sl_model_find(m, "b");
        for (size_t i = 0; i < bi->numel; i++) p[bi->offset + i] = (sl_real)(0.2 * sl_rng_normal(&r));
        sl_real u[B * T * NI], y[B * T * NO];
        for (int i = 0; i < B * T * NI; i++) u[i] = (sl_real)sl_rng_normal(&r);
        for (int i = 0; i < B * T * NO; i++) y[i] = (sl_real)sl_rng_normal(&r);
        sl_batch b = {.B = B, .T = T, .n_in = NI, .n_out = NO, .u = u, .y = y};
        sl_loss_spec ls = {.l2_weight = 0.02, .l2_on = SL_L2_J | SL_L2_W, .l2_rate = 0.2,
                           .l1_weight = 0.01, .l1_on = SL_L2_J, .l1_rate = 0.05};
        sl_loss_terms lt;
        sl_model_zero_grad(m);
        cr_assert_eq(sl_model_loss(m, ws, &b, &ls, NULL, 1, &lt, NULL), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_model_check_invariants(m), SL_OK, "%s: %s", k->label, sl_last_error());
        const size_t np = sl_model_num_params(m);
        sl_real *an = malloc(np * sizeof(sl_real));
        cr_assert_not_null(an);
        memcpy(an, sl_model_grads(m), np * sizeof(sl_real));
        const sl_param_info *J = sl_model_find(m, "J");
        for (int t = 0; t < sl_model_num_tensors(m); t++) {
            const sl_param_info *ti = sl_model_tensor(m, t);
            double err = 0, scale = 1e-12;
            for (size_t i = ti->offset; i < ti->offset + ti->numel; i++) {
                if (k->plastic && ti == J && P[i - J->offset] == 0) {
                    cr_assert_eq(an[i], 0, "%s: frozen J[%zu] has gradient %g", k->label,
                                 i - J->offset, (double)an[i]);
                    continue;
                }
                if (ti == J && k->no_autapses && (i - J->offset) % (N + 1) == 0) {
                    cr_assert_eq(an[i], 0, "%s: autapse has gradient %g", k->label, (double)an[i]);
                    continue;
                }
                const sl_real keep = p[i];
                p[i] = keep + 1e-6;
                double lp = loss_of(m, ws, &b, &ls);
                p[i] = keep - 1e-6;
                double lm = loss_of(m, ws, &b, &ls);
                p[i] = keep;
                err = fmax(err, fabs((lp - lm) / 2e-6 - an[i]));
                scale = fmax(scale, fabs(an[i]));
            }
            cr_expect(err / scale < 1e-6, "%s: %s rel. error %g", k->label, ti->name, err / scale);
        }
        free(an);
        sl_workspace_free(ws);
        sl_model_free(m);
    }
}
