/* test_trials.c — the reach trials every analysis runs (src/analysis/trials.c)
 * are the trials the network was trained on: at a training delay the inputs
 * equal the TRAIN split's (noise-free) inputs of the same condition bit for
 * bit, and at a delay the network never saw the plan and hold channels still
 * carry the training normalisation (task.norm_delays pinned). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "analysis/analysis.h"
#include "tasks/reach.h"
#include "silico.h"

static sl_config *tiny_reach(void)
{
    /* val_delays widen the normalisation union beyond the analysed delay */
    static const char *kv[] = {"task.name=reach_synthetic", "task.trial_ms=1200", "task.conditions=4",
                               "task.delays=300,500", "task.val_delays=400,800",
                               "task.input_noise=0.3", "train.batch=3", NULL};
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK, "%s", sl_last_error());
    for (int i = 0; kv[i]; i++) cr_assert_eq(sl_config_override(c, kv[i]), SL_OK, "%s: %s", kv[i], sl_last_error());
    return c;
}

/* The stored TRAIN-split input of (condition, delay): the batches with no rng
 * (no shuffle, no input noise). Returns a malloc'd T×n_in copy. */
static sl_real *train_input(sl_task *t, int cond, double delay)
{
    const size_t su = (size_t)t->T * t->n_in;
    cr_assert_eq(t->ops->start_epoch(t, SL_SPLIT_TRAIN, NULL), SL_OK);
    const int nb = t->ops->num_batches(t, SL_SPLIT_TRAIN);
    for (int i = 0; i < nb; i++) {
        sl_batch b;
        cr_assert_eq(t->ops->batch(t, SL_SPLIT_TRAIN, i, NULL, &b), SL_OK, "%s", sl_last_error());
        for (int r = 0; r < b.B; r++) {
            sl_reach_item it;
            cr_assert_eq(sl_reach_batch_item(t, SL_SPLIT_TRAIN, i, r, &it), SL_OK);
            if (it.cond != cond || it.delay_ms != delay) continue;
            sl_real *u = malloc(su * sizeof *u);
            cr_assert_not_null(u);
            memcpy(u, b.u + r * su, su * sizeof *u);
            return u;
        }
    }
    cr_assert_fail("no TRAIN trial of condition %d at %g ms", cond, delay);
    return NULL;
}

Test(trials, reach_inputs_are_the_training_inputs)
{
    sl_config *c = tiny_reach();
    sl_task *t = NULL;
    cr_assert_eq(sl_task_create(c, &t), SL_OK, "%s", sl_last_error());
    sl_trialset s;
    cr_assert_eq(sl_trialset_from_task(c, 0, 0, &s), SL_OK, "%s", sl_last_error());
    cr_assert_eq(s.C, 4);
    cr_assert_eq(s.T, t->T);
    const int dv = sl_trialset_var(&s, "delay_ms");
    cr_assert_geq(dv, 0);
    const size_t su = (size_t)s.T * s.n_in;
    for (int k = 0; k < s.C; k++) {
        cr_assert_eq(s.vars[(size_t)k * SL_TRIALSET_MAX_VARS + dv], 300.0);
        sl_real *u = train_input(t, s.cond[k], 300.0);
        cr_expect_eq(memcmp(u, s.u + k * su, su * sizeof *u), 0,
                     "condition %d: the analysed inputs differ from the training inputs", s.cond[k]);
        free(u);
    }
    sl_trialset_free(&s);

    /* 600 ms: no split has it; the plan and hold channels (identical raw values
     * before the earliest go step) must still be normalised as in training */
    cr_assert_eq(sl_trialset_from_task(c, 0, 600, &s), SL_OK, "%s", sl_last_error());
    const int g300 = (int)((100 + 300) / 10); /* plan_onset_ms 100, dt 10 ms */
    for (int k = 0; k < s.C; k++) {
        cr_assert_eq(s.vars[(size_t)k * SL_TRIALSET_MAX_VARS + dv], 600.0);
        sl_real *u = train_input(t, s.cond[k], 300.0);
        int differ = 0;
        for (int j = 0; j < g300; j++)
            for (int i = 0; i < s.n_in - 1; i++)
                differ += u[(size_t)j * s.n_in + i] != s.u[k * su + (size_t)j * s.n_in + i];
        cr_expect_eq(differ, 0, "condition %d: %d plan/hold inputs differ from training", s.cond[k],
                     differ);
        free(u);
    }
    sl_trialset_free(&s);
    sl_task_free(t);
    sl_config_free(c);
}

Test(trials, norm_delays_checked)
{
    sl_config *c = tiny_reach();
    cr_assert_eq(sl_config_override(c, "task.norm_delays=300,5000"), SL_OK, "%s", sl_last_error());
    sl_task *t = NULL;
    cr_expect_eq(sl_task_create(c, &t), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "task.norm_delays") != NULL, "%s", sl_last_error());
    sl_config_free(c);
}

/* The condition means the geometry analyses read: with one trial per
 * condition, rates, outputs and targets are that trial's own, cut to the
 * steps every condition shares around its go step. */
Test(trials, condition_mean_outputs_and_targets)
{
    sl_config *c = tiny_reach();
    sl_trialset s;
    cr_assert_eq(sl_trialset_from_task(c, 0, 0, &s), SL_OK, "%s", sl_last_error());
    sl_model_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.n_in = s.n_in, sp.n_hidden = 12, sp.n_out = s.n_out, sp.act = SL_ACT_TANH;
    sp.cell = SL_CELL_CTRNN, sp.tau_ms = 50, sp.dt_ms = s.dt_ms, sp.g = 1.2, sp.h = 1.0;
    sl_rng r;
    sl_rng_seed(&r, 5);
    sl_model *m = NULL;
    cr_assert_eq(sl_model_create(&sp, &r, &m), SL_OK, "%s", sl_last_error());
    double *rates, *z, *y, *tim, onset;
    int C, T, N;
    cr_assert_eq(sl_trialset_condition_mean(m, &s, 0, &rates, &z, &y, &tim, &C, &T, &N, &onset), SL_OK,
                 "%s", sl_last_error());
    cr_assert_eq(C, s.C);
    cr_assert_not_null(y);
    /* the direct run */
    const int O = s.n_out, Tt = s.T;
    sl_workspace *ws = NULL;
    cr_assert_eq(sl_workspace_create(m, s.C, Tt, &ws), SL_OK);
    sl_real *zd = malloc((size_t)s.C * Tt * O * sizeof *zd), *rd = malloc((size_t)s.C * Tt * N * sizeof *rd);
    cr_assert_eq(sl_model_forward(m, ws, s.u, s.C, Tt, NULL, zd), SL_OK);
    sl_model_states(ws, NULL, rd);
    int pre = Tt;
    for (int k = 0; k < s.C; k++) pre = s.zero[k] < pre ? s.zero[k] : pre;
    cr_assert_eq(tim[pre], 0.0, "time 0 is the go step");
    /* the condition mean runs s.batch rows at a time, the direct run all of
     * them: BLAS may round differently, so within float32 rounding */
#define DIFF(a, b) (fabs((a) - (b)) > 1e-5 * (1 + fabs(b)))
    int bad = 0, bady = 0;
    for (int k = 0; k < s.C; k++) {
        const int c = s.cond[k], g0 = s.zero[k] - pre;
        for (int t = 0; t < T; t++) {
            for (int o = 0; o < O; o++) {
                const size_t i = ((size_t)k * Tt + g0 + t) * O + o, j = ((size_t)c * T + t) * O + o;
                bad += DIFF(z[j], (double)zd[i]);
                bady += y[j] != (double)s.y[i];
            }
            for (int u = 0; u < N; u++)
                bad += DIFF(rates[((size_t)c * T + t) * N + u], (double)rd[((size_t)k * Tt + g0 + t) * N + u]);
        }
    }
    cr_expect_eq(bad, 0, "%d rates or outputs differ from the direct run", bad);
    cr_expect_eq(bady, 0, "%d targets differ from the trial set's", bady);
#undef DIFF
    /* the outputs and targets may be skipped */
    free(rates);
    free(tim);
    cr_assert_eq(sl_trialset_condition_mean(m, &s, 0, &rates, NULL, NULL, &tim, &C, &T, &N, &onset), SL_OK);
    free(rates);
    free(tim);
    free(z);
    free(y);
    free(zd);
    free(rd);
    sl_workspace_free(ws);
    sl_model_free(m);
    sl_trialset_free(&s);
    sl_config_free(c);
}
