/* test_models.c — every network kind (model.type = ctrnn, rnn, gru,
 * lightgru, lstm) as a model behind the one public API: tensors and their
 * names, buffers, states, batch-norm modes, save → load round trips
 * (identical outputs, running statistics included), clear errors, and a
 * short training run per cell kind on a generated task reaching a loose
 * criterion. The gradients are checked in float64 (tests/f64/test_model_fd.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "testutil.h"

static const sl_cell_kind KINDS[] = {SL_CELL_CTRNN, SL_CELL_RNN, SL_CELL_GRU, SL_CELL_LIGHTGRU,
                                     SL_CELL_LSTM};
#define N_KINDS (int)(sizeof KINDS / sizeof KINDS[0])

static sl_model *make(sl_cell_kind k, int n_in, int N, int n_out, uint64_t seed)
{
    sl_model_spec s = {0};
    s.n_in = n_in, s.n_hidden = N, s.n_out = n_out, s.cell = k;
    s.act = SL_ACT_TANH, s.tau_ms = 50, s.dt_ms = 10, s.g = 1.5, s.h = 1;
    sl_rng r;
    sl_rng_seed(&r, seed);
    sl_model *m = NULL;
    cr_assert_eq(sl_model_create(&s, &r, &m), SL_OK, "%s: %s", sl_cell_kind_name(k), sl_last_error());
    return m;
}

/* A regression batch of random inputs and targets (buffers malloc'd). */
typedef struct {
    sl_batch b;
    sl_real *u, *y;
} rbatch;

static rbatch random_batch(int B, int T, int n_in, int n_out, uint64_t seed)
{
    rbatch r;
    memset(&r, 0, sizeof r);
    sl_rng g;
    sl_rng_seed(&g, seed);
    r.u = malloc((size_t)B * T * n_in * sizeof(sl_real));
    r.y = malloc((size_t)B * T * n_out * sizeof(sl_real));
    cr_assert(r.u && r.y);
    for (size_t i = 0; i < (size_t)B * T * n_in; i++) r.u[i] = (sl_real)sl_rng_normal(&g);
    for (size_t i = 0; i < (size_t)B * T * n_out; i++) r.y[i] = (sl_real)(0.5 * sl_rng_normal(&g));
    r.b.B = B, r.b.T = T, r.b.n_in = n_in, r.b.n_out = n_out, r.b.u = r.u, r.b.y = r.y;
    return r;
}

/* ------------------------------------------------------------- names */

Test(models, kind_names_parse_and_round_trip)
{
    for (int i = 0; i < N_KINDS; i++) {
        sl_cell_kind k;
        cr_expect_eq(sl_cell_kind_parse(sl_cell_kind_name(KINDS[i]), &k), SL_OK);
        cr_expect_eq(k, KINDS[i]);
    }
    sl_cell_kind k;
    cr_expect_eq(sl_cell_kind_parse("transformer", &k), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "transformer") != NULL, "%s", sl_last_error());
}

Test(models, tensors_are_named_as_pytorch_names_them)
{
    static const struct {
        sl_cell_kind k;
        const char *names[12];
        int n_buffers;
    } WANT[] = {
        {SL_CELL_CTRNN, {"J", "B", "b", "W", "c"}, 0},
        {SL_CELL_RNN, {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "W", "c"}, 0},
        {SL_CELL_GRU, {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "W", "c"}, 0},
        {SL_CELL_LSTM, {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "W", "c"}, 0},
        {SL_CELL_LIGHTGRU,
         {"W_z", "W_h", "U_z", "U_h", "bn_z.weight", "bn_z.bias", "bn_h.weight", "bn_h.bias", "W",
          "c"},
         4},
    };
    const int gates[] = {0, 1, 3, 4, 1};
    for (size_t w = 0; w < sizeof WANT / sizeof WANT[0]; w++) {
        sl_model *m = make(WANT[w].k, 3, 5, 2, 1);
        int n = 0;
        size_t total = 0;
        while (WANT[w].names[n]) n++;
        cr_expect_eq(sl_model_num_tensors(m), n, "%s", sl_cell_kind_name(WANT[w].k));
        for (int i = 0; i < n && i < sl_model_num_tensors(m); i++) {
            const sl_param_info *p = sl_model_tensor(m, i);
            cr_expect_str_eq(p->name, WANT[w].names[i]);
            cr_expect_eq(p->offset, total, "%s: the tensors tile the buffer", p->name);
            cr_expect_eq(sl_model_find(m, p->name), p);
            total += p->numel;
        }
        cr_expect_eq(total, sl_model_num_params(m));
        cr_expect_eq(sl_model_num_buffers(m), WANT[w].n_buffers);
        const sl_param_info *W = sl_model_find(m, "W");
        cr_assert_not_null(W);
        cr_expect(W->shape[0] == 2 && W->shape[1] == 5);
        const sl_param_info *ih = sl_model_find(m, "weight_ih");
        if (WANT[w].k == SL_CELL_RNN || WANT[w].k == SL_CELL_GRU || WANT[w].k == SL_CELL_LSTM) {
            cr_assert_not_null(ih);
            cr_expect_eq(ih->shape[0], gates[w] * 5, "%s weight_ih rows", sl_cell_kind_name(WANT[w].k));
            cr_expect_eq(ih->shape[1], 3);
        }
        if (WANT[w].k == SL_CELL_LIGHTGRU) {
            static const char *BUF[] = {"bn_z.running_mean", "bn_z.running_var", "bn_h.running_mean",
                                        "bn_h.running_var"};
            for (int i = 0; i < 4; i++) {
                const sl_param_info *b = sl_model_buffer(m, i);
                cr_assert_not_null(b);
                cr_expect_str_eq(b->name, BUF[i]);
                cr_expect_eq(b->numel, 5u);
                /* running mean 0, running var 1 at init */
                cr_expect_eq(sl_model_buffers(m)[b->offset], (sl_real)(i % 2));
            }
        } else
            cr_expect_null(sl_model_buffers(m));
        sl_model_free(m);
    }
}

Test(models, cells_refuse_a_learned_initial_state)
{
    sl_model_spec s = {0};
    s.n_in = 2, s.n_hidden = 3, s.n_out = 1, s.cell = SL_CELL_GRU, s.learn_x0 = 1;
    sl_rng r;
    sl_rng_seed(&r, 1);
    sl_model *m = NULL;
    cr_expect_eq(sl_model_create(&s, &r, &m), SL_EINVAL);
    cr_expect_null(m);
    cr_expect(strstr(sl_last_error(), "learn_x0") != NULL, "%s", sl_last_error());
}

Test(models, spec_defaults_and_states)
{
    sl_model *m = make(SL_CELL_LIGHTGRU, 2, 4, 3, 2);
    const sl_model_spec *s = sl_model_get_spec(m);
    cr_expect_eq(s->cell, SL_CELL_LIGHTGRU);
    cr_expect_eq(s->bn_momentum, 0.1);
    cr_expect_eq(s->bn_eps, 1e-5);
    sl_workspace *ws = NULL;
    cr_assert_eq(sl_workspace_create(m, 3, 6, &ws), SL_OK, "%s", sl_last_error());
    rbatch rb = random_batch(3, 6, 2, 3, 3);
    sl_real z[3 * 6 * 3], x[3 * 6 * 4], r[3 * 6 * 4];
    cr_assert_eq(sl_model_forward(m, ws, rb.u, 3, 6, NULL, z), SL_OK, "%s", sl_last_error());
    sl_model_states(ws, x, r);
    /* cells: x and r are both h; z = W h + c */
    const sl_real *W = sl_model_params(m) + sl_model_find(m, "W")->offset;
    const sl_real *c = sl_model_params(m) + sl_model_find(m, "c")->offset;
    for (int i = 0; i < 3 * 6; i++) {
        for (int j = 0; j < 4; j++) cr_expect_eq(x[i * 4 + j], r[i * 4 + j]);
        for (int o = 0; o < 3; o++) {
            double acc = c[o];
            for (int j = 0; j < 4; j++) acc += (double)W[o * 4 + j] * r[i * 4 + j];
            cr_expect(fabs(acc - z[i * 3 + o]) < 1e-5, "z[%d,%d] %g vs %g", i, o, z[i * 3 + o], acc);
        }
    }
    /* a workspace of another kind is refused */
    sl_model *g = make(SL_CELL_GRU, 2, 4, 3, 2);
    cr_expect_eq(sl_model_forward(g, ws, rb.u, 3, 6, NULL, z), SL_EINVAL);
    sl_model_free(g);
    free(rb.u), free(rb.y);
    sl_workspace_free(ws);
    sl_model_free(m);
}

/* Batch norm: sl_model_forward (evaluation) leaves the running statistics
 * alone and does not depend on the batch; sl_model_loss (training) updates
 * them. */
Test(models, lightgru_batch_norm_modes)
{
    sl_model *m = make(SL_CELL_LIGHTGRU, 3, 6, 2, 4);
    sl_workspace *ws = NULL;
    cr_assert_eq(sl_workspace_create(m, 4, 5, &ws), SL_OK, "%s", sl_last_error());
    rbatch rb = random_batch(4, 5, 3, 2, 5);
    const size_t nb = 4 * 6;
    sl_real before[24], z4[4 * 5 * 2], z1[5 * 2];
    memcpy(before, sl_model_buffers(m), nb * sizeof(sl_real));
    cr_assert_eq(sl_model_forward(m, ws, rb.u, 4, 5, NULL, z4), SL_OK);
    cr_expect_eq(memcmp(before, sl_model_buffers(m), nb * sizeof(sl_real)), 0,
                 "evaluation mode changed the running statistics");
    /* row 0 alone gives row 0's outputs (running statistics, not the batch's) */
    sl_real u0[5 * 3];
    memcpy(u0, rb.u, sizeof u0);
    cr_assert_eq(sl_model_forward(m, ws, u0, 1, 5, NULL, z1), SL_OK);
    for (int i = 0; i < 10; i++) cr_expect(fabs(z1[i] - z4[i]) < 1e-6, "%d: %g vs %g", i, z1[i], z4[i]);
    sl_loss_terms lt;
    cr_assert_eq(sl_model_loss(m, ws, &rb.b, NULL, NULL, 0, &lt, NULL), SL_OK, "%s", sl_last_error());
    cr_expect_neq(memcmp(before, sl_model_buffers(m), nb * sizeof(sl_real)), 0,
                  "training mode left the running statistics unchanged");
    free(rb.u), free(rb.y);
    sl_workspace_free(ws);
    sl_model_free(m);
}

/* ------------------------------------------------------------ save/load */

Test(models, save_load_round_trip_every_kind)
{
    char *d = tu_tmpdir();
    for (int i = 0; i < N_KINDS; i++) {
        const sl_cell_kind k = KINDS[i];
        sl_model *m = make(k, 3, 7, 2, 10 + i);
        sl_workspace *ws = NULL;
        cr_assert_eq(sl_workspace_create(m, 4, 9, &ws), SL_OK, "%s", sl_last_error());
        /* a few Adam steps, so nothing is at its initial value (and the
         * light GRU's running statistics moved) */
        rbatch rb = random_batch(4, 9, 3, 2, 20 + i);
        sl_adam_spec as = {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .total_steps = 5};
        sl_adam *opt = NULL;
        cr_assert_eq(sl_adam_create(&as, sl_model_num_params(m), &opt), SL_OK);
        sl_loss_spec ls = {.l2_weight = 1e-3, .l2_on = SL_L2_J | SL_L2_B | SL_L2_W, .l2_rate = 1e-2};
        for (int s = 0; s < 5; s++) {
            sl_model_zero_grad(m);
            cr_assert_eq(sl_model_loss(m, ws, &rb.b, &ls, NULL, 1, NULL, NULL), SL_OK, "%s",
                         sl_last_error());
            sl_adam_step(opt, sl_model_params(m), sl_model_grads(m));
        }
        sl_adam_free(opt);
        char name[64];
        snprintf(name, sizeof name, "%s.safetensors", sl_cell_kind_name(k));
        char *path = tu_path(d, name);
        sl_kv meta[] = {{"note", "round trip"}};
        cr_assert_eq(sl_model_save(m, path, meta, 1), SL_OK, "%s", sl_last_error());

        sl_model *l = NULL;
        sl_tensorfile *f = NULL;
        cr_assert_eq(sl_model_load(path, &l, &f), SL_OK, "%s: %s", name, sl_last_error());
        cr_expect_str_eq(sl_tensorfile_meta(f, "format"),
                         k == SL_CELL_CTRNN ? "silico.ctrnn.v1" : "silico.model.v1");
        if (k != SL_CELL_CTRNN) cr_expect_str_eq(sl_tensorfile_meta(f, "cell"), sl_cell_kind_name(k));
        cr_expect_str_eq(sl_tensorfile_meta(f, "note"), "round trip");
        cr_expect_eq(sl_tensorfile_count(f), sl_model_num_tensors(m) + sl_model_num_buffers(m));
        const sl_model_spec *a = sl_model_get_spec(m), *b = sl_model_get_spec(l);
        cr_expect(a->cell == b->cell && a->n_in == b->n_in && a->n_hidden == b->n_hidden &&
                  a->n_out == b->n_out && a->act == b->act);
        cr_assert_eq(sl_model_num_params(l), sl_model_num_params(m));
        cr_expect_eq(memcmp(sl_model_params(l), sl_model_params(m),
                            sl_model_num_params(m) * sizeof(sl_real)), 0, "%s params", name);
        cr_assert_eq(sl_model_num_buffers(l), sl_model_num_buffers(m));
        if (sl_model_num_buffers(m)) {
            size_t nb = 0;
            for (int j = 0; j < sl_model_num_buffers(m); j++) nb += sl_model_buffer(m, j)->numel;
            sl_real *bm = sl_model_buffers(m);
            int moved = 0;
            for (int j = 0; j < sl_model_num_buffers(m); j++) {
                const sl_param_info *bi = sl_model_buffer(m, j);
                const double init = strstr(bi->name, "var") ? 1.0 : 0.0;
                for (size_t q = 0; q < bi->numel; q++) moved |= bm[bi->offset + q] != init;
            }
            cr_expect(moved, "%s: the running statistics never moved", name);
            cr_expect_eq(memcmp(sl_model_buffers(l), bm, nb * sizeof(sl_real)), 0, "%s buffers", name);
        }
        /* identical forward outputs */
        sl_workspace *wl = NULL;
        cr_assert_eq(sl_workspace_create(l, 4, 9, &wl), SL_OK);
        sl_real za[4 * 9 * 2], zb[4 * 9 * 2];
        cr_assert_eq(sl_model_forward(m, ws, rb.u, 4, 9, NULL, za), SL_OK);
        cr_assert_eq(sl_model_forward(l, wl, rb.u, 4, 9, NULL, zb), SL_OK);
        cr_expect_eq(memcmp(za, zb, sizeof za), 0, "%s: loaded model's outputs differ", name);
        sl_workspace_free(wl);
        sl_model_free(l);
        sl_tensorfile_free(f);
        free(path);
        free(rb.u), free(rb.y);
        sl_workspace_free(ws);
        sl_model_free(m);
    }
    tu_rmtree(d);
}

Test(models, load_rejects_a_checkpoint_missing_a_buffer)
{
    char *d = tu_tmpdir(), *good = tu_path(d, "g.safetensors"), *bad = tu_path(d, "b.safetensors");
    sl_model *m = make(SL_CELL_LIGHTGRU, 2, 3, 2, 1);
    cr_assert_eq(sl_model_save(m, good, NULL, 0), SL_OK, "%s", sl_last_error());
    /* copy every tensor but bn_h.running_var, with the same metadata */
    sl_tensorfile *f = NULL;
    cr_assert_eq(sl_safetensors_read(good, &f), SL_OK);
    sl_tensor t[32];
    int n = 0;
    for (int i = 0; i < sl_tensorfile_count(f); i++)
        if (strcmp(sl_tensorfile_at(f, i)->name, "bn_h.running_var")) t[n++] = *sl_tensorfile_at(f, i);
    static const char *KEYS[] = {"format", "cell", "silico_version", "n_in", "n_hidden",
                                 "n_out", "activation", "bn_momentum", "bn_eps"};
    sl_kv kv[9];
    for (int i = 0; i < 9; i++) kv[i].key = KEYS[i], kv[i].value = sl_tensorfile_meta(f, KEYS[i]);
    cr_assert_eq(sl_safetensors_write(bad, t, n, kv, 9), SL_OK, "%s", sl_last_error());
    sl_tensorfile_free(f);
    sl_model *l = NULL;
    cr_expect_eq(sl_model_load(bad, &l, NULL), SL_EFORMAT);
    cr_expect(strstr(sl_last_error(), "bn_h.running_var") != NULL, "%s", sl_last_error());
    cr_expect_null(l);
    sl_model_free(m);
    free(good), free(bad);
    tu_rmtree(d);
}

/* -------------------------------------------------------------- training */

typedef struct {
    const char *what;
    const char *keys[16][2];
} train_case;

static sl_epoch_stats train_with(const train_case *tc)
{
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK, "%s", sl_last_error());
    for (int i = 0; tc->keys[i][0]; i++)
        cr_assert_eq(sl_config_set(c, tc->keys[i][0], tc->keys[i][1], "test"), SL_OK, "%s: %s",
                     tc->what, sl_last_error());
    char *dir = tu_tmpdir();
    sl_trainer *t = NULL;
    cr_assert_eq(sl_trainer_create(c, dir, &t), SL_OK, "%s: %s", tc->what, sl_last_error());
    cr_assert_eq(sl_trainer_run(t, NULL, NULL), SL_OK, "%s: %s", tc->what, sl_last_error());
    sl_epoch_stats s;
    cr_assert_eq(sl_trainer_finish(t, 0, &s), SL_OK, "%s: %s", tc->what, sl_last_error());
    sl_trainer_free(t);
    sl_config_free(c);
    tu_rmtree(dir);
    return s;
}

#define SHORT {"train.batch", "32"}, {"train.lr", "1e-2"}, {"train.clip", "1"}, \
              {"task.batches_per_epoch", "10"}, {"task.val_trials", "200"}, {"run.seed", "1"}

Test(models, gru_learns_gonogo)
{
    train_case tc = {"gru gonogo",
                     {{"model.type", "gru"}, {"model.hidden", "32"}, {"task.name", "gonogo"},
                      {"task.dt", "100"}, {"train.epochs", "20"}, {"train.val_every", "20"}, SHORT}};
    sl_epoch_stats s = train_with(&tc);
    fprintf(stderr, "models: gru N=32 on gonogo, 200 steps: accuracy %.4f\n", s.val_accuracy);
    cr_expect_geq(s.val_accuracy, 0.95, "accuracy %g", s.val_accuracy);
}

Test(models, lstm_learns_memory)
{
    train_case tc = {"lstm memory",
                     {{"model.type", "lstm"}, {"model.hidden", "8"}, {"task.name", "memory"},
                      {"train.epochs", "60"}, {"train.val_every", "60"}, SHORT}};
    sl_epoch_stats s = train_with(&tc);
    fprintf(stderr, "models: lstm N=8 on memory, 600 steps: validation MSE %.3g\n", s.val_mse);
    cr_expect_lt(s.val_mse, 0.02, "mse %g", s.val_mse);
}

Test(models, rnn_learns_flipflop)
{
    train_case tc = {"rnn flipflop",
                     {{"model.type", "rnn"}, {"model.activation", "tanh"}, {"model.hidden", "16"},
                      {"task.name", "flipflop"}, {"train.epochs", "60"}, {"train.val_every", "60"},
                      SHORT}};
    sl_epoch_stats s = train_with(&tc);
    fprintf(stderr, "models: rnn N=16 on flipflop, 600 steps: validation MSE %.3g\n", s.val_mse);
    cr_expect_lt(s.val_mse, 0.02, "mse %g", s.val_mse);
}

Test(models, lightgru_learns_ddms)
{
    train_case tc = {"lightgru ddms",
                     {{"model.type", "lightgru"}, {"model.hidden", "32"}, {"task.name", "ddms"},
                      {"task.dt", "100"}, {"train.class_weights", "auto"}, {"train.epochs", "40"},
                      {"train.val_every", "40"}, SHORT}};
    sl_epoch_stats s = train_with(&tc);
    fprintf(stderr, "models: lightgru N=32 on ddms, 400 steps: accuracy %.4f\n", s.val_accuracy);
    cr_expect_geq(s.val_accuracy, 0.85, "accuracy %g", s.val_accuracy);
}

Test(models, trainer_refuses_learn_x0_for_cells)
{
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    cr_assert_eq(sl_config_set(c, "model.type", "lstm", "test"), SL_OK);
    cr_assert_eq(sl_config_set(c, "model.learn_x0", "true", "test"), SL_OK);
    cr_assert_eq(sl_config_set(c, "task.name", "memory", "test"), SL_OK);
    char *dir = tu_tmpdir();
    sl_trainer *t = NULL;
    cr_expect_eq(sl_trainer_create(c, dir, &t), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "learn_x0") != NULL, "%s", sl_last_error());
    sl_trainer_free(t);
    sl_config_free(c);
    tu_rmtree(dir);
}

/* A light-GRU run stopped after epoch 3 and resumed ends with the same
 * weights and batch-norm running statistics as an uninterrupted run (the
 * state file carries the buffers). */
static int stop_at_3(const sl_epoch_stats *s, void *user)
{
    (void)user;
    return s->epoch == 3;
}

Test(models, lightgru_resume_restores_running_statistics)
{
    static const char *KEYS[][2] = {
        {"model.type", "lightgru"}, {"model.hidden", "8"},     {"task.name", "ddms"},
        {"task.dt", "100"},         {"train.epochs", "6"},     {"train.val_every", "2"},
        {"train.batch", "8"},       {"task.batches_per_epoch", "3"}, {"task.val_trials", "16"},
    };
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++)
        cr_assert_eq(sl_config_set(c, KEYS[i][0], KEYS[i][1], "test"), SL_OK, "%s", sl_last_error());
    char *da = tu_tmpdir(), *db = tu_tmpdir();
    sl_trainer *a = NULL, *b = NULL;
    cr_assert_eq(sl_trainer_create(c, da, &a), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_trainer_run(a, NULL, NULL), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_trainer_create(c, db, &b), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_trainer_run(b, stop_at_3, NULL), SL_EINTERRUPTED, "%s", sl_last_error());
    sl_trainer_free(b);
    cr_assert_eq(sl_trainer_resume(db, &b), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_trainer_epoch(b), 3);
    cr_assert_eq(sl_trainer_run(b, NULL, NULL), SL_OK, "%s", sl_last_error());
    sl_model *ma = sl_trainer_model(a), *mb = sl_trainer_model(b);
    cr_expect_eq(memcmp(sl_model_params(ma), sl_model_params(mb),
                        sl_model_num_params(ma) * sizeof(sl_real)), 0, "weights differ after resume");
    cr_expect_eq(memcmp(sl_model_buffers(ma), sl_model_buffers(mb), 4 * 8 * sizeof(sl_real)), 0,
                 "running statistics differ after resume");
    sl_trainer_free(a);
    sl_trainer_free(b);
    sl_config_free(c);
    tu_rmtree(da);
    tu_rmtree(db);
}
