/* test_fa_fd.c — float64 checks of feedback alignment's gradients (the
 * generic CT-RNN path and the cells; tests/fa_check.h has the identities).
 * With FA off the gradients are exact: tests/f64/test_model_fd.c checks them
 * against finite differences, and FA off is the default there. */
#include <criterion/criterion.h>

#include "fa_check.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "FA checks need -DSL_REAL=double");

static const fa_case FA_CASES[] = {
    {SL_CELL_CTRNN, SL_ACT_TANH, 5, 3, 2, 3, 6},   {SL_CELL_CTRNN, SL_ACT_RECT_TANH, 6, 2, 3, 2, 5},
    {SL_CELL_CTRNN, SL_ACT_SOFTPLUS, 4, 3, 2, 3, 4}, {SL_CELL_RNN, SL_ACT_TANH, 5, 3, 2, 3, 6},
    {SL_CELL_GRU, SL_ACT_TANH, 4, 3, 2, 3, 5},     {SL_CELL_LIGHTGRU, SL_ACT_TANH, 4, 3, 2, 3, 5},
    {SL_CELL_LSTM, SL_ACT_TANH, 4, 3, 2, 3, 5},
};

Test(fa_f64, readout_fa_equals_backward_through_B)
{
    for (size_t i = 0; i < sizeof FA_CASES / sizeof FA_CASES[0]; i++) {
        double e = fa_check_readout(&FA_CASES[i], 11 + i);
        cr_assert(e >= 0 && e < 1e-12, "%s case %zu: readout FA gradient rel. error %g",
                  sl_cell_kind_name(FA_CASES[i].kind), i, e);
    }
}

Test(fa_f64, recurrent_fa_ctrnn_and_rnn)
{
    for (size_t i = 0; i < 4; i++) {
        double same = -1, diff = -1, wd = -1;
        cr_assert_eq(fa_check_recurrent(&FA_CASES[i], 21 + i, &same, &diff, &wd), 0, "%s",
                     sl_last_error());
        cr_assert(same < 1e-12, "case %zu: B_rec = J should be exact BPTT (rel. %g)", i, same);
        cr_assert(diff > 1e-3, "case %zu: another B_rec should change dJ (rel. %g)", i, diff);
        cr_assert(wd < 1e-12, "case %zu: recurrent FA changed dW (rel. %g)", i, wd);
    }
}

Test(fa_f64, recurrent_fa_refused_for_gated_cells)
{
    sl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_in = 2, s.n_hidden = 3, s.n_out = 2, s.cell = SL_CELL_GRU;
    sl_rng r;
    sl_rng_seed(&r, 1);
    sl_model *m = NULL;
    cr_assert_eq(sl_model_create(&s, &r, &m), SL_OK);
    sl_real R[9] = {0};
    cr_assert_eq(sl_model_set_feedback(m, NULL, R), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "ctrnn and the rnn only") != NULL, "%s", sl_last_error());
    sl_model_free(m);
}
