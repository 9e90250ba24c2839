/* test_model_constraints.c — the ENU stage, Dale's law and the activation-
 * norm penalty as model options (model.enu_k, model.dale, model.exc_fraction,
 * model.autapses, train.l2_activation; src/nn/model.c), in float32:
 *
 *  - 100 Adam steps (lr 2e-2, large enough to push weights across 0) with
 *    Dale project, Dale reparam and ENU (and combinations, light GRU and GRU):
 *    after every step the effective recurrent matrix has the sign of its
 *    column's unit (the first ⌊f·N⌋ excitatory), its diagonal is exactly 0
 *    without autapses, every ENU-masked entry of the input matrices is
 *    exactly 0 in the parameters, and sl_model_check_invariants agrees. The
 *    test checks the structure itself, not through the library's masks.
 *  - save → load keeps the effective-weight settings (metadata) and gives
 *    bit-identical outputs and effective matrices.
 *  - the trainer with model.dale = project and ENU keeps the invariants, and
 *    logs loss_activation with train.l2_activation.
 *  - the CT-RNN's Dale's law on J (reparam and project, with and without
 *    autapses) under the same 100 steps and save → load.
 *  - clear errors: the CT-RNN with ENU/l2_activation, bad Dale modes. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "testutil.h"

typedef struct {
    const char *label;
    sl_cell_kind kind;
    int enu_k;
    sl_dale_mode dale;
    int no_autapses;
    double exc_fraction;
    double beta;
} mc_case;

static sl_model *mc_make(const mc_case *c, int n_in, int N, int n_out, uint64_t seed)
{
    sl_model_spec s = {0};
    s.n_in = n_in, s.n_hidden = N, s.n_out = n_out, s.cell = c->kind, s.act = SL_ACT_TANH;
    s.enu_k = c->enu_k, s.dale = c->dale, s.no_autapses = c->no_autapses;
    s.exc_fraction = c->exc_fraction;
    s.tau_ms = 50, s.dt_ms = 25, s.g = 1.5, s.h = 1; /* the CT-RNN's (ignored by the cells) */
    sl_rng r;
    sl_rng_seed(&r, seed);
    sl_model *m = NULL;
    cr_assert_eq(sl_model_create(&s, &r, &m), SL_OK, "%s: %s", c->label, sl_last_error());
    return m;
}

static const char *rec_name(sl_cell_kind k)
{
    return k == SL_CELL_CTRNN ? "J" : k == SL_CELL_LIGHTGRU ? "U_h" : "weight_hh";
}

/* Checks the structure directly; returns the number of effective entries
 * that are exactly 0 off the diagonal (projection at work). */
static size_t mc_check(const mc_case *c, sl_model *m, int N, long step)
{
    cr_assert_eq(sl_model_check_invariants(m), SL_OK, "%s step %ld: %s", c->label, step,
                 sl_last_error());
    const sl_real *p = sl_model_params(m);
    size_t offdiag_zero = 0;
    if (c->dale || c->no_autapses) {
        const sl_param_info *R = sl_model_find(m, rec_name(c->kind));
        cr_assert_not_null(R);
        sl_real *e = malloc(R->numel * sizeof(sl_real));
        cr_assert_not_null(e);
        cr_assert_eq(sl_model_effective(m, R->name, e), SL_OK);
        const int n_exc = (int)floor(c->exc_fraction * N);
        for (int row = 0; row < R->shape[0]; row++)
            for (int j = 0; j < N; j++) {
                sl_real v = e[(size_t)row * N + j];
                if (c->no_autapses && row % N == j) {
                    cr_assert(v == 0 && p[R->offset + (size_t)row * N + j] == 0,
                              "%s step %ld: autapse (%d,%d) = %g", c->label, step, row, j, (double)v);
                    continue;
                }
                if (c->dale && c->dale != SL_DALE_DANN)
                    cr_assert(j < n_exc ? v >= 0 : v <= 0, "%s step %ld: %s_eff(%d,%d) = %g in %s column",
                              c->label, step, R->name, row, j, (double)v, j < n_exc ? "an E" : "an I");
                if (v == 0) offdiag_zero++;
            }
        free(e);
    }
    if (c->dale == SL_DALE_DANN) /* J (J_EE), J_IE, J_EI all ≥ 0 */
        for (int t = 0; t < 3; t++) {
            const sl_param_info *q = sl_model_find(m, (const char *[]){"J", "J_IE", "J_EI"}[t]);
            cr_assert_not_null(q);
            for (size_t e = 0; e < q->numel; e++)
                cr_assert(p[q->offset + e] >= 0, "%s step %ld: %s[%zu] = %g < 0", c->label, step,
                          q->name, e, (double)p[q->offset + e]);
        }
    if (c->enu_k) {
        const char *names[2] = {c->kind == SL_CELL_LIGHTGRU ? "W_z" : "weight_ih",
                                c->kind == SL_CELL_LIGHTGRU ? "W_h" : NULL};
        for (int w = 0; w < 2 && names[w]; w++) {
            const sl_param_info *W = sl_model_find(m, names[w]);
            cr_assert_not_null(W);
            cr_assert_eq(W->shape[1], (int64_t)N * c->enu_k);
            for (int row = 0; row < W->shape[0]; row++)
                for (int col = 0; col < W->shape[1]; col++)
                    if (col / c->enu_k != row % N)
                        cr_assert(p[W->offset + (size_t)row * W->shape[1] + col] == 0,
                                  "%s step %ld: %s(%d,%d) off its unit's block is %g", c->label,
                                  step, names[w], row, col,
                                  (double)p[W->offset + (size_t)row * W->shape[1] + col]);
        }
    }
    return offdiag_zero;
}

Test(model_constraints, invariants_hold_over_100_adam_steps)
{
    static const mc_case CASES[] = {
        {"lightgru dale project", SL_CELL_LIGHTGRU, 0, SL_DALE_PROJECT, 1, 0.8, 0},
        {"lightgru dale reparam", SL_CELL_LIGHTGRU, 0, SL_DALE_REPARAM, 1, 0.8, 0.05},
        {"lightgru enu k3", SL_CELL_LIGHTGRU, 3, SL_DALE_OFF, 0, 0.8, 0},
        {"lightgru enu k2 + reparam, autapses", SL_CELL_LIGHTGRU, 2, SL_DALE_REPARAM, 0, 0.75, 0.05},
        {"gru enu k2 + project", SL_CELL_GRU, 2, SL_DALE_PROJECT, 1, 0.5, 0},
        {"lightgru no autapses alone", SL_CELL_LIGHTGRU, 0, SL_DALE_OFF, 1, 0.8, 0},
        {"ctrnn dale project", SL_CELL_CTRNN, 0, SL_DALE_PROJECT, 1, 0.8, 0},
        {"ctrnn dale reparam", SL_CELL_CTRNN, 0, SL_DALE_REPARAM, 0, 0.7, 0},
        {"ctrnn dale reparam, no autapses", SL_CELL_CTRNN, 0, SL_DALE_REPARAM, 1, 0.5, 0},
        {"ctrnn dale project, autapses", SL_CELL_CTRNN, 0, SL_DALE_PROJECT, 0, 0.6, 0},
        {"ctrnn dale dann", SL_CELL_CTRNN, 0, SL_DALE_DANN, 0, 0.8, 0},
    };
    const int N = 10, n_in = 4, n_out = 3, B = 8, T = 12;
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++) {
        const mc_case *c = &CASES[ci];
        sl_model *m = mc_make(c, n_in, N, n_out, 11 + ci);
        sl_workspace *ws = NULL;
        cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK, "%s", sl_last_error());
        sl_adam *opt = NULL;
        sl_adam_spec as = {.lr = 2e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
        cr_assert_eq(sl_adam_create(&as, sl_model_num_params(m), &opt), SL_OK);
        /* a fixed classification batch the network can fit: the label is the
         * sign pattern of the first input channel */
        sl_rng r;
        sl_rng_seed(&r, 5);
        sl_real *u = malloc((size_t)B * T * n_in * sizeof(sl_real));
        int *lab = malloc((size_t)B * T * sizeof(int));
        cr_assert(u && lab);
        for (size_t i = 0; i < (size_t)B * T * n_in; i++) u[i] = (sl_real)sl_rng_normal(&r);
        for (size_t i = 0; i < (size_t)B * T; i++)
            lab[i] = u[i * n_in] > 0.5 ? 2 : u[i * n_in] < -0.5 ? 1 : 0;
        sl_batch b = {.B = B, .T = T, .n_in = n_in, .n_out = n_out, .u = u, .labels = lab};
        sl_loss_spec ls = {.l2_activation = c->beta};
        mc_check(c, m, N, 0);
        double first = 0, last = 0;
        size_t zeros = 0;
        for (long step = 1; step <= 100; step++) {
            sl_model_zero_grad(m);
            sl_loss_terms lt;
            cr_assert_eq(sl_model_loss(m, ws, &b, &ls, NULL, 1, &lt, NULL), SL_OK, "%s", sl_last_error());
            if (step == 1) first = lt.total;
            last = lt.total;
            if (c->beta > 0) cr_assert_gt(lt.activation, 0);
            sl_adam_step(opt, sl_model_params(m), sl_model_grads(m));
            sl_model_constrain(m);
            zeros = mc_check(c, m, N, step);
        }
        fprintf(stderr, "model_constraints %-36s loss %.4f -> %.4f, %zu effective off-diagonal zeros\n",
                c->label, first, last, zeros);
        cr_expect_lt(last, 0.8 * first, "%s: training works under the constraint (%g -> %g)", c->label,
                     first, last);
        if (c->dale == SL_DALE_PROJECT)
            cr_expect_gt(zeros, 0, "%s: the projection clamped some weights", c->label);
        free(u), free(lab);
        sl_adam_free(opt);
        sl_workspace_free(ws);
        sl_model_free(m);
    }
}

Test(model_constraints, save_load_keeps_enu_and_dale)
{
    static const mc_case CASES[] = {
        {"lightgru enu k2 + reparam", SL_CELL_LIGHTGRU, 2, SL_DALE_REPARAM, 1, 0.75, 0},
        {"lightgru project, autapses", SL_CELL_LIGHTGRU, 0, SL_DALE_PROJECT, 0, 0.5, 0},
        {"lstm enu k3", SL_CELL_LSTM, 3, SL_DALE_OFF, 0, 0.8, 0},
        {"ctrnn reparam, no autapses", SL_CELL_CTRNN, 0, SL_DALE_REPARAM, 1, 0.75, 0},
        {"ctrnn project", SL_CELL_CTRNN, 0, SL_DALE_PROJECT, 0, 0.5, 0},
        {"ctrnn dann", SL_CELL_CTRNN, 0, SL_DALE_DANN, 0, 0.75, 0},
    };
    char *d = tu_tmpdir();
    const int N = 6, n_in = 3, n_out = 2, B = 3, T = 7;
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++) {
        const mc_case *c = &CASES[ci];
        sl_model *m = mc_make(c, n_in, N, n_out, 40 + ci);
        /* move the parameters (keeping the constraints) so the check is not of the init */
        sl_rng r;
        sl_rng_seed(&r, 41);
        sl_real *p = sl_model_params(m);
        for (size_t i = 0; i < sl_model_num_params(m); i++)
            if (p[i] != 0) p[i] += (sl_real)(0.1 * sl_rng_normal(&r));
        sl_model_constrain(m);
        cr_assert_eq(sl_model_check_invariants(m), SL_OK, "%s", sl_last_error());
        char *path = tu_path(d, "m.safetensors");
        cr_assert_eq(sl_model_save(m, path, NULL, 0), SL_OK, "%s", sl_last_error());
        sl_model *l = NULL;
        sl_tensorfile *f = NULL;
        cr_assert_eq(sl_model_load(path, &l, &f), SL_OK, "%s", sl_last_error());
        const sl_model_spec *a = sl_model_get_spec(m), *b = sl_model_get_spec(l);
        cr_expect_eq(b->enu_k, c->enu_k, "%s", c->label);
        cr_expect_eq(b->dale, c->dale, "%s", c->label);
        cr_expect_eq(b->no_autapses, c->no_autapses, "%s", c->label);
        cr_expect_eq(b->exc_fraction, a->exc_fraction, "%s", c->label);
        cr_expect_str_eq(sl_tensorfile_meta(f, "dale"), sl_dale_mode_name(c->dale));
        cr_expect_str_eq(sl_tensorfile_meta(f, "autapses"), c->no_autapses ? "false" : "true");
        if (c->enu_k) {
            const sl_tensor *t = sl_tensorfile_find(f, "enu.weight");
            cr_assert_not_null(t, "%s: enu.weight saved", c->label);
            cr_expect(t->array.shape[0] == N * c->enu_k && t->array.shape[1] == n_in);
        }
        cr_assert_eq(sl_model_num_params(l), sl_model_num_params(m));
        cr_expect_eq(memcmp(sl_model_params(l), p, sl_model_num_params(m) * sizeof(sl_real)), 0);
        cr_expect_eq(sl_model_check_invariants(l), SL_OK, "%s: %s", c->label, sl_last_error());
        /* same effective matrices, same outputs */
        const sl_param_info *R = sl_model_find(m, rec_name(c->kind));
        sl_real *e1 = malloc(R->numel * sizeof(sl_real)), *e2 = malloc(R->numel * sizeof(sl_real));
        cr_assert(e1 && e2);
        cr_assert_eq(sl_model_effective(m, R->name, e1), SL_OK);
        cr_assert_eq(sl_model_effective(l, R->name, e2), SL_OK);
        cr_expect_eq(memcmp(e1, e2, R->numel * sizeof(sl_real)), 0, "%s: effective %s", c->label, R->name);
        sl_workspace *w1 = NULL, *w2 = NULL;
        cr_assert_eq(sl_workspace_create(m, B, T, &w1), SL_OK);
        cr_assert_eq(sl_workspace_create(l, B, T, &w2), SL_OK);
        const size_t nu = (size_t)B * T * n_in, nz = (size_t)B * T * n_out;
        sl_real *u = malloc(nu * sizeof(sl_real)), *z1 = malloc(nz * sizeof(sl_real)),
                *z2 = malloc(nz * sizeof(sl_real));
        cr_assert(u && z1 && z2);
        for (size_t i = 0; i < nu; i++) u[i] = (sl_real)sl_rng_normal(&r);
        cr_assert_eq(sl_model_forward(m, w1, u, B, T, NULL, z1), SL_OK);
        cr_assert_eq(sl_model_forward(l, w2, u, B, T, NULL, z2), SL_OK);
        cr_expect_eq(memcmp(z1, z2, nz * sizeof(sl_real)), 0, "%s: identical outputs", c->label);
        free(u), free(z1), free(z2), free(e1), free(e2);
        sl_workspace_free(w1), sl_workspace_free(w2);
        sl_tensorfile_free(f);
        sl_model_free(l);
        sl_model_free(m);
        free(path);
    }
    tu_rmtree(d);
}

/* The trainer applies the projection after each step; the invariants hold
 * on its model, and loss_activation is logged. */
Test(model_constraints, trainer_keeps_the_invariants)
{
    static const char *SETUP[][2] = {
        {"model.type", "lightgru"}, {"model.hidden", "16"},        {"model.enu_k", "2"},
        {"model.dale", "project"},  {"model.autapses", "false"},   {"task.name", "ddms"},
        {"task.dt", "100"},         {"task.batches_per_epoch", "5"}, {"task.val_trials", "32"},
        {"train.epochs", "3"},      {"train.batch", "16"},         {"train.lr", "1e-2"},
        {"train.val_every", "1"},   {"train.l2_activation", "0.01"}, {"train.class_weights", "auto"},
    };
    char *d = tu_tmpdir();
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    for (size_t i = 0; i < sizeof SETUP / sizeof SETUP[0]; i++)
        cr_assert_eq(sl_config_set(c, SETUP[i][0], SETUP[i][1], "test"), SL_OK, "%s", sl_last_error());
    sl_trainer *t = NULL;
    cr_assert_eq(sl_trainer_create(c, d, &t), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_trainer_run(t, NULL, NULL), SL_OK, "%s", sl_last_error());
    sl_model *m = sl_trainer_model(t);
    const mc_case mc = {"trainer lightgru enu k2 + project", SL_CELL_LIGHTGRU, 2, SL_DALE_PROJECT, 1, 0.8, 0};
    mc_check(&mc, m, 16, 15);
    char *mp = tu_path(d, "metrics.jsonl");
    char *text = tu_read_file(mp, NULL);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "\"loss_activation\"") != NULL, "metrics log loss_activation:\n%s", text);
    free(text), free(mp);
    /* the checkpoint rebuilds the same constrained model */
    char *ck = tu_path(d, "checkpoint.safetensors");
    sl_model *l = NULL;
    cr_assert_eq(sl_model_load(ck, &l, NULL), SL_OK, "%s", sl_last_error());
    cr_expect_eq(sl_model_get_spec(l)->dale, SL_DALE_PROJECT);
    cr_expect_eq(sl_model_get_spec(l)->enu_k, 2);
    cr_expect(sl_model_get_spec(l)->no_autapses);
    mc_check(&mc, l, 16, -1);
    sl_model_free(l);
    free(ck);
    sl_trainer_free(t);
    sl_config_free(c);
    tu_rmtree(d);
}

Test(model_constraints, clear_errors)
{
    /* the CT-RNN takes no ENU stage and no activation norm; bad Dale values */
    sl_model_spec s = {0};
    s.n_in = 2, s.n_hidden = 4, s.n_out = 1, s.act = SL_ACT_TANH, s.tau_ms = 50, s.dt_ms = 10;
    s.g = 1.5, s.h = 1, s.dale = (sl_dale_mode)5;
    sl_rng r;
    sl_rng_seed(&r, 1);
    sl_model *m = NULL;
    cr_expect_eq(sl_model_create(&s, &r, &m), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "Dale") != NULL, "%s", sl_last_error());
    s.dale = SL_DALE_REPARAM, s.exc_fraction = -0.5;
    cr_expect_eq(sl_model_create(&s, &r, &m), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "exc_fraction") != NULL, "%s", sl_last_error());
    s.dale = SL_DALE_OFF, s.exc_fraction = 0, s.enu_k = 2;
    cr_expect_eq(sl_model_create(&s, &r, &m), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "ENU") != NULL, "%s", sl_last_error());
    s.enu_k = 0;
    cr_assert_eq(sl_model_create(&s, &r, &m), SL_OK);
    sl_workspace *ws = NULL;
    cr_assert_eq(sl_workspace_create(m, 1, 3, &ws), SL_OK);
    sl_real u[6] = {0}, y[3] = {0};
    sl_batch b = {.B = 1, .T = 3, .n_in = 2, .n_out = 1, .u = u, .y = y};
    sl_loss_spec ls = {.l2_activation = 0.1};
    cr_expect_eq(sl_model_loss(m, ws, &b, &ls, NULL, 0, NULL, NULL), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "l2_activation") != NULL, "%s", sl_last_error());
    sl_workspace_free(ws);
    sl_model_free(m);
    /* cells: bad values */
    s.cell = SL_CELL_LIGHTGRU, s.dale = (sl_dale_mode)7;
    cr_expect_eq(sl_model_create(&s, &r, &m), SL_EINVAL);
    s.dale = SL_DALE_REPARAM, s.exc_fraction = 1.5;
    cr_expect_eq(sl_model_create(&s, &r, &m), SL_EINVAL);
    sl_dale_mode dm;
    cr_expect_eq(sl_dale_mode_parse("sometimes", &dm), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "reparam") != NULL, "%s", sl_last_error());
    cr_expect_eq(sl_dale_mode_parse("project", &dm), SL_OK);
    cr_expect_eq(dm, SL_DALE_PROJECT);
    /* through the config: model.enu_k with the ctrnn is refused by the trainer */
    char *d = tu_tmpdir();
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    cr_assert_eq(sl_config_set(c, "model.enu_k", "2", "test"), SL_OK);
    cr_assert_eq(sl_config_set(c, "task.name", "ddms", "test"), SL_OK);
    sl_trainer *t = NULL;
    cr_expect_eq(sl_trainer_create(c, d, &t), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "model.enu_k") != NULL, "%s", sl_last_error());
    cr_expect_eq(sl_config_set(c, "model.dale", "sometimes", "test"), SL_EINVAL);
    sl_config_free(c);
    tu_rmtree(d);
}
