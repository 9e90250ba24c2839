/* test_fa.c — feedback alignment, train.train_only, train.clip_value and the
 * step / plateau lr schedules in the trainer (float32 build).
 *
 * The FA test: reach_synthetic, N = 32, 300 epochs, constant lr 1e-2
 * and a small weight decay on the readout (train.l2_weight = 1e-3 on W, the
 * decay Lillicrap et al. 2016 use; it lets W lose its random initial part
 * and align): with readout FA the logged angle between the error FA delivers
 * to the hidden units and BPTT's falls below 60°, and FA's final training
 * loss is at most half that of training the readout alone (train.train_only
 * = W,c) from the same initialisation. */
#include <criterion/criterion.h>
#include <math.h>

#include "fa_check.h"
#include "testutil.h"

Test(fa, readout_fa_fused_f32_path)
{
    /* the CT-RNN's float32 fast path (rect_tanh, no noise) fuses dz·W into
     * its backward step: FA must reach it */
    const fa_case c[] = {{SL_CELL_CTRNN, SL_ACT_RECT_TANH, 37, 3, 2, 5, 12},
                         {SL_CELL_CTRNN, SL_ACT_TANH, 16, 2, 3, 4, 9},
                         {SL_CELL_RNN, SL_ACT_TANH, 16, 2, 3, 4, 9}};
    for (int i = 0; i < 3; i++) {
        double e = fa_check_readout(&c[i], 5 + i);
        cr_assert(e >= 0 && e < 1e-5, "case %d: readout FA gradient rel. error %g", i, e);
        double same = -1, diff = -1, wd = -1;
        cr_assert_eq(fa_check_recurrent(&c[i], 9 + i, &same, &diff, &wd), 0, "%s", sl_last_error());
        cr_assert(same < 1e-6 && diff > 1e-3 && wd < 1e-6, "case %d: recurrent FA %g %g %g", i,
                  same, diff, wd);
    }
}

typedef struct {
    double min_angle, last_loss, first_lr, last_lr;
    long epochs;
} fa_log;

static int on_epoch(const sl_epoch_stats *s, void *user)
{
    fa_log *l = user;
    if (!isnan(s->fa_angle_deg) && s->fa_angle_deg < l->min_angle) l->min_angle = s->fa_angle_deg;
    if (l->epochs++ == 0) l->first_lr = s->lr;
    l->last_loss = s->loss_mse;
    l->last_lr = s->lr;
    return 0;
}

static fa_log train_with(const char *const (*extra)[2], int n_extra)
{
    static const char *const SETUP[][2] = {
        {"task.name", "reach_synthetic"}, {"model.hidden", "32"},    {"train.epochs", "300"},
        {"train.lr", "1e-2"},             {"train.val_every", "50"}, {"run.seed", "1"},
        {"train.lr_schedule", "constant"}, {"train.l2_weight", "1e-3"}, {"train.l2_on", "W"},
    };
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK, "%s", sl_last_error());
    for (size_t i = 0; i < sizeof SETUP / sizeof SETUP[0]; i++)
        cr_assert_eq(sl_config_set(c, SETUP[i][0], SETUP[i][1], "test"), SL_OK, "%s", sl_last_error());
    for (int i = 0; i < n_extra; i++)
        cr_assert_eq(sl_config_set(c, extra[i][0], extra[i][1], "test"), SL_OK, "%s", sl_last_error());
    char *dir = tu_tmpdir();
    sl_trainer *t = NULL;
    cr_assert_eq(sl_trainer_create(c, dir, &t), SL_OK, "%s", sl_last_error());
    fa_log l = {INFINITY, NAN, NAN, NAN, 0};
    cr_assert_eq(sl_trainer_run(t, on_epoch, &l), SL_OK, "%s", sl_last_error());
    sl_trainer_free(t);
    sl_config_free(c);
    tu_rmtree(dir);
    return l;
}

Test(fa, readout_fa_aligns_and_beats_readout_only, .timeout = 120)
{
    static const char *const FA[][2] = {{"train.feedback_alignment", "readout"}};
    static const char *const RO[][2] = {{"train.train_only", "W,c"}};
    static const char *const FR[][2] = {{"train.feedback_alignment", "readout+recurrent"}};
    static const char *const BP[][2] = {{"train.feedback_alignment", "off"}};
    fa_log fa = train_with(FA, 1), ro = train_with(RO, 1), fr = train_with(FR, 1),
           bp = train_with(BP, 1);
    fprintf(stderr,
            "fa: reach_synthetic N=32, 300 epochs: final loss BPTT %.3g, readout FA %.3g (min "
            "angle %.1f deg), readout+recurrent FA %.3g (min angle %.1f deg), readout only %.3g\n",
            bp.last_loss, fa.last_loss, fa.min_angle, fr.last_loss, fr.min_angle, ro.last_loss);
    cr_expect_lt(fa.min_angle, 60.0, "FA angle never fell below 60 deg (min %.1f)", fa.min_angle);
    cr_expect_leq(fa.last_loss, 0.5 * ro.last_loss, "FA loss %g vs readout-only %g", fa.last_loss,
                  ro.last_loss);
    cr_expect(isinf(bp.min_angle), "no fa_angle_deg with FA off");
}

Test(fa, bad_keys_are_clear)
{
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    const char *const S[][2] = {{"task.name", "reach_synthetic"}, {"model.hidden", "8"},
                                {"model.type", "gru"}, {"train.feedback_alignment", "readout+recurrent"}};
    for (int i = 0; i < 4; i++) cr_assert_eq(sl_config_set(c, S[i][0], S[i][1], "test"), SL_OK);
    char *dir = tu_tmpdir();
    sl_trainer *t = NULL;
    cr_assert_eq(sl_trainer_create(c, dir, &t), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "ctrnn and rnn only"), "%s", sl_last_error());
    cr_assert_eq(sl_config_set(c, "train.feedback_alignment", "readout", "test"), SL_OK);
    cr_assert_eq(sl_config_set(c, "train.train_only", "W,nope", "test"), SL_OK);
    cr_assert_eq(sl_trainer_create(c, dir, &t), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "'nope'") && strstr(sl_last_error(), "weight_hh"), "%s",
              sl_last_error());
    sl_config_free(c);
    tu_rmtree(dir);
}

Test(fa, step_and_plateau_schedules, .timeout = 60)
{
    static const char *const ST[][2] = {{"train.epochs", "25"}, {"train.lr_schedule", "step"},
                                        {"train.lr_step_every", "10"}, {"train.lr_gamma", "0.5"},
                                        {"train.clip_value", "0.01"}};
    fa_log s = train_with(ST, 5);
    cr_expect_float_eq(s.first_lr, 1e-2, 1e-12);
    cr_expect_float_eq(s.last_lr, 1e-2 * 0.25, 1e-12, "epoch 25 lr %g", s.last_lr); /* 2 steps */
    /* plateau: patience 0, threshold huge: every validation after the
     * first is "bad", so the lr drops by the factor each time, down to min_lr */
    static const char *const PL[][2] = {{"train.epochs", "40"},          {"train.lr_schedule", "plateau"},
                                        {"train.val_every", "5"},        {"train.plateau_patience", "0"},
                                        {"train.plateau_threshold", "0.99"}, {"train.plateau_factor", "0.5"},
                                        {"train.plateau_min_lr", "1e-3"}};
    fa_log p = train_with(PL, 7);
    cr_expect_float_eq(p.first_lr, 1e-2, 1e-12);
    cr_expect_float_eq(p.last_lr, 1e-3, 1e-12, "plateau lr at the end %g", p.last_lr);
}

/* The CT-RNN's fused float32 backward carries the L1 rate term
 * (l1_rate · sgn r): its gradient against a central difference of the
 * logged rate_l1 term along a random direction. */
Test(train_extras, l1_rate_fused_f32_directional)
{
    sl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_in = 3, s.n_hidden = 40, s.n_out = 2, s.act = SL_ACT_RECT_TANH;
    s.tau_ms = 50, s.dt_ms = 10, s.g = 1.5, s.h = 1;
    const int B = 4, T = 20;
    sl_rng r;
    sl_rng_seed(&r, 3);
    sl_model *m = NULL;
    sl_workspace *ws = NULL;
    cr_assert_eq(sl_model_create(&s, &r, &m), SL_OK);
    cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK);
    sl_real u[4 * 20 * 3], y[4 * 20 * 2];
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) u[i] = (sl_real)sl_rng_normal(&r);
    for (size_t i = 0; i < sizeof y / sizeof y[0]; i++) y[i] = (sl_real)sl_rng_normal(&r);
    sl_batch b = {.B = B, .T = T, .n_in = 3, .n_out = 2, .u = u, .y = y};
    const size_t np = sl_model_num_params(m);
    sl_real *g0 = malloc(np * sizeof(sl_real)), *v = malloc(np * sizeof(sl_real));
    sl_loss_spec none = {0}, l1 = {.l1_rate = 0.5};
    sl_loss_terms lt;
    sl_model_zero_grad(m);
    cr_assert_eq(sl_model_loss(m, ws, &b, &none, NULL, 1, &lt, NULL), SL_OK);
    memcpy(g0, sl_model_grads(m), np * sizeof(sl_real));
    sl_model_zero_grad(m);
    cr_assert_eq(sl_model_loss(m, ws, &b, &l1, NULL, 1, &lt, NULL), SL_OK);
    double an = 0;
    for (size_t i = 0; i < np; i++) {
        v[i] = (sl_real)sl_rng_normal(&r);
        an += ((double)sl_model_grads(m)[i] - g0[i]) * v[i];
    }
    const double eps = 1e-3;
    sl_real *p = sl_model_params(m);
    double lv[2];
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < np; i++) p[i] += (sl_real)((k ? -2 : 1) * eps * v[i]);
        cr_assert_eq(sl_model_loss(m, ws, &b, &l1, NULL, 0, &lt, NULL), SL_OK);
        lv[k] = lt.rate_l1;
    }
    for (size_t i = 0; i < np; i++) p[i] += (sl_real)(eps * v[i]);
    double fd = (lv[0] - lv[1]) / (2 * eps);
    cr_expect(fabs(fd - an) <= 2e-2 * fabs(an), "L1 rate: directional fd %g, analytic %g", fd, an);
    free(g0);
    free(v);
    sl_workspace_free(ws);
    sl_model_free(m);
}

static sl_trainer *make_trainer(const char *const (*kv)[2], int n, char **dir)
{
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    for (int i = 0; i < n; i++)
        cr_assert_eq(sl_config_set(c, kv[i][0], kv[i][1], "test"), SL_OK, "%s", sl_last_error());
    *dir = tu_tmpdir();
    sl_trainer *t = NULL;
    cr_assert_eq(sl_trainer_create(c, *dir, &t), SL_OK, "%s", sl_last_error());
    sl_config_free(c);
    return t;
}

Test(train_extras, train_only_freezes_the_rest, .timeout = 60)
{
    static const char *const S[][2] = {{"task.name", "reach_synthetic"}, {"model.hidden", "16"},
                                       {"train.epochs", "5"}, {"train.train_only", "W, c"},
                                       {"train.l2_weight", "1e-2"}, {"train.l2_on", "J,B,W"}};
    char *dir;
    sl_trainer *t = make_trainer(S, 6, &dir);
    sl_model *m = sl_trainer_model(t);
    const size_t np = sl_model_num_params(m);
    sl_real *before = malloc(np * sizeof(sl_real));
    memcpy(before, sl_model_params(m), np * sizeof(sl_real));
    cr_assert_eq(sl_trainer_run(t, NULL, NULL), SL_OK, "%s", sl_last_error());
    for (int k = 0; k < sl_model_num_tensors(m); k++) {
        const sl_param_info *p = sl_model_tensor(m, k);
        int same = !memcmp(before + p->offset, sl_model_params(m) + p->offset,
                           p->numel * sizeof(sl_real));
        int trained = !strcmp(p->name, "W") || !strcmp(p->name, "c");
        cr_expect(same != trained, "%s: %s", p->name, trained ? "not trained" : "changed");
    }
    free(before);
    sl_trainer_free(t);
    tu_rmtree(dir);
}

/* The wiring cost (both forms) is logged and, at a large λ, leaves a
 * recurrent matrix with a much smaller Σ|J|⊙D than training without it. */
Test(train_extras, wiring_cost_shrinks_long_connections, .timeout = 60)
{
    const char *forms[] = {"distance", "communicability"};
    double wired[2], plain = 0;
    for (int f = -1; f < 2; f++) {
        const char *const S[][2] = {{"task.name", "reach_synthetic"}, {"model.hidden", "18"},
                                    {"train.epochs", "40"},  {"train.lr", "1e-2"},
                                    {"model.grid", "3,3,2"}, {"train.wiring", f < 0 ? "distance" : forms[f]},
                                    {"train.wiring_cost", f < 0 ? "0" : "3e-3"}};
        char *dir;
        sl_trainer *t = make_trainer(S, 7, &dir);
        cr_assert_eq(sl_trainer_run(t, NULL, NULL), SL_OK, "%s", sl_last_error());
        char *mp = tu_path(dir, "metrics.jsonl");
        char *text = tu_read_file(mp, NULL);
        cr_assert(text);
        cr_expect((strstr(text, "\"loss_wiring\"") != NULL) == (f >= 0), "loss_wiring logged iff on");
        free(text);
        free(mp);
        /* Σ|J|⊙D by hand on the 3×3×2 grid (unit k = (iy·3 + ix)·2 + iz) */
        sl_model *m = sl_trainer_model(t);
        const sl_real *J = sl_model_params(m) + sl_model_find(m, "J")->offset;
        double cost = 0;
        for (int i = 0; i < 18; i++)
            for (int j = 0; j < 18; j++) {
                int xi = (i / 2) % 3, yi = i / 6, zi = i % 2, xj = (j / 2) % 3, yj = j / 6, zj = j % 2;
                cost += fabs(J[i * 18 + j]) *
                        sqrt((xi - xj) * (xi - xj) + (yi - yj) * (yi - yj) + (zi - zj) * (zi - zj));
            }
        if (f < 0)
            plain = cost;
        else
            wired[f] = cost;
        sl_trainer_free(t);
        tu_rmtree(dir);
    }
    fprintf(stderr, "wiring: sum|J|*D after 40 epochs: none %.2f, distance %.2f, communicability %.2f\n",
            plain, wired[0], wired[1]);
    cr_expect_lt(wired[0], 0.7 * plain);
    cr_expect_lt(wired[1], plain);
}

static int check_inv(const sl_epoch_stats *s, void *user)
{
    (void)s;
    sl_trainer *t = user;
    cr_assert_eq(sl_model_check_invariants(sl_trainer_model(t)), SL_OK, "epoch %ld: %s", s->epoch,
                 sl_last_error());
    return 0;
}

/* model.sparsity and model.mask: the recurrent matrix keeps its absent
 * synapses at exactly 0 through training (checked after every epoch and at
 * the end, per entry against the mask file), for the CT-RNN and the cells. */
Test(train_extras, connectivity_masks_hold, .timeout = 60)
{
    const char *kinds[] = {"ctrnn", "rnn", "gru", "lightgru"};
    const int N = 12;
    char *mdir = tu_tmpdir();
    char *mpath = tu_path(mdir, "mask.npy");
    sl_array a;
    const int64_t shape[2] = {N, N};
    cr_assert_eq(sl_array_alloc(&a, SL_F32, 2, shape), SL_OK);
    float *M = a.data;
    for (int i = 0; i < N * N; i++) M[i] = (i * 7 % 5) != 0; /* a fixed pattern, ~20% absent */
    cr_assert_eq(sl_npy_write(mpath, &a), SL_OK, "%s", sl_last_error());
    for (int k = 0; k < 4; k++) {
        const char *const S[][2] = {{"task.name", "reach_synthetic"}, {"model.hidden", "12"},
                                    {"train.epochs", "8"},  {"train.lr", "1e-2"},
                                    {"model.type", kinds[k]}, {"model.sparsity", "0.5"},
                                    {"model.mask", mpath},  {"train.l2_weight", "1e-3"},
                                    {"train.l2_on", "J,B,W"}};
        char *dir;
        sl_trainer *t = make_trainer(S, 9, &dir);
        cr_assert_eq(sl_trainer_run(t, check_inv, t), SL_OK, "%s: %s", kinds[k], sl_last_error());
        sl_model *m = sl_trainer_model(t);
        const char *rec = k == 0 ? "J" : k == 3 ? "U_h" : "weight_hh";
        const sl_param_info *p = sl_model_find(m, rec);
        const sl_real *W = sl_model_params(m) + p->offset;
        long zeros = 0, absent = 0;
        for (size_t e = 0; e < p->numel; e++) {
            size_t ij = e % ((size_t)N * N);
            if (M[ij] == 0) cr_assert_eq(W[e], 0, "%s: %s[%zu] = %g under a mask 0", kinds[k], rec, e, (double)W[e]);
            absent += M[ij] == 0;
            zeros += W[e] == 0;
        }
        /* sparsity 0.5 on top of the file: about 60% zeros */
        cr_expect(zeros > absent + (long)p->numel / 4, "%s: %ld zeros, %ld from the file", kinds[k],
                  zeros, absent);
        sl_trainer_free(t);
        tu_rmtree(dir);
    }
    sl_array_free(&a);
    free(mpath);
    tu_rmtree(mdir);
}

static int stop_at_12(const sl_epoch_stats *s, void *user)
{
    (void)user;
    return s->epoch == 12;
}

static int last_lr(const sl_epoch_stats *s, void *user)
{
    *(double *)user = s->lr;
    return 0;
}

/* The step and plateau schedules continue where they were after --resume,
 * and feedback alignment's matrices come back the same (same final loss). */
Test(train_extras, schedules_survive_resume, .timeout = 60)
{
    const char *sched[] = {"step", "plateau"};
    for (int k = 0; k < 2; k++) {
        const char *const S[][2] = {{"task.name", "reach_synthetic"}, {"model.hidden", "12"},
                                    {"train.epochs", "25"},  {"train.lr_schedule", sched[k]},
                                    {"train.lr_step_every", "5"}, {"train.lr_gamma", "0.5"},
                                    {"train.val_every", "2"}, {"train.plateau_patience", "1"},
                                    {"train.plateau_threshold", "0.5"},
                                    {"train.feedback_alignment", "readout+recurrent"}};
        double lr_a = NAN, lr_b = NAN;
        char *da, *db;
        sl_trainer *a = make_trainer(S, 10, &da);
        cr_assert_eq(sl_trainer_run(a, last_lr, &lr_a), SL_OK, "%s", sl_last_error());
        sl_trainer *b = make_trainer(S, 10, &db);
        cr_assert_eq(sl_trainer_run(b, stop_at_12, NULL), SL_EINTERRUPTED);
        sl_trainer_free(b);
        cr_assert_eq(sl_trainer_resume(db, &b), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_trainer_run(b, last_lr, &lr_b), SL_OK, "%s", sl_last_error());
        cr_expect_float_eq(lr_a, lr_b, 1e-15, "%s: lr %g uninterrupted, %g resumed", sched[k], lr_a, lr_b);
        cr_expect(lr_a < 1e-3, "%s: the lr never dropped (%g)", sched[k], lr_a);
        const size_t np = sl_model_num_params(sl_trainer_model(a));
        cr_expect(!memcmp(sl_model_params(sl_trainer_model(a)), sl_model_params(sl_trainer_model(b)),
                          np * sizeof(sl_real)),
                  "%s: resumed weights differ", sched[k]);
        sl_trainer_free(a);
        sl_trainer_free(b);
        tu_rmtree(da);
        tu_rmtree(db);
    }
}
