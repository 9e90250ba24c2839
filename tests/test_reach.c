/* test_reach.c — the reach-family tasks (src/tasks/) and sl_null_mse.
 *
 * Run from the repository root (data/reach/hatsopoulos_emg.npy is read).
 * Checks: shapes per encoding; plan/hold channels on exactly in [onset, go)
 * and encoding cos/sin; go bump peaks at the go step; targets equal an
 * independent binning of the .npy, baseline before go, shifted exactly by
 * the delay difference; the normalisation against a direct (torch-like)
 * computation and global mean 0 / std 1; split sizes and batch counts;
 * shuffle determinism; input noise; the synthetic task; the null model;
 * and errors (missing file, bad muscle, NaN, shapes, dtypes, delays, ...).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "silico.h"
#include "tasks/reach.h"
#include "testutil.h"

#define EMG_PATH "data/reach/hatsopoulos_emg.npy"

/* A config at its defaults plus "key=value" overrides (NULL-terminated). */
static sl_config *rt_config(const char *first, ...)
{
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK, "sl_config_new: %s", sl_last_error());
    va_list ap;
    va_start(ap, first);
    for (const char *o = first; o; o = va_arg(ap, const char *))
        cr_assert_eq(sl_config_override(c, o), SL_OK, "override %s: %s", o, sl_last_error());
    va_end(ap);
    return c;
}

static sl_task *rt_task(sl_config *c)
{
    sl_task *t = NULL;
    sl_status s = sl_task_create(c, &t);
    cr_assert_eq(s, SL_OK, "sl_task_create: %s", sl_last_error());
    cr_assert_not_null(t);
    return t;
}

/* Creating the task fails with status want and a message containing each
 * of the (NULL-terminated) fragments. */
static void rt_expect_fail(sl_config *c, sl_status want, const char *frag, ...)
{
    va_list ap;
    va_start(ap, frag);
    tu_task_expect_fail_v(sl_task_create, "reach", c, want, frag, ap);
    va_end(ap);
}

/* The trials of a split: u, y, items (malloc'd, fixed order). */
typedef struct {
    int n, T, n_in, n_out;
    sl_real *u, *y;
    sl_reach_item *it;
} rt_split;

static rt_split rt_collect(sl_task *t, sl_split s)
{
    rt_split r = {0, t->T, t->n_in, t->n_out, NULL, NULL, NULL};
    r.n = sl_reach_num_items(t, s);
    r.u = malloc(((size_t)r.n * r.T * r.n_in + 1) * sizeof(sl_real));
    r.y = malloc(((size_t)r.n * r.T * r.n_out + 1) * sizeof(sl_real));
    r.it = malloc(((size_t)r.n + 1) * sizeof *r.it);
    cr_assert(r.u && r.y && r.it);
    cr_assert_eq(t->ops->start_epoch(t, s, NULL), SL_OK);
    int row = 0, nb = t->ops->num_batches(t, s);
    for (int k = 0; k < nb; k++) {
        sl_batch b;
        cr_assert_eq(t->ops->batch(t, s, k, NULL, &b), SL_OK, "%s", sl_last_error());
        cr_assert_eq(b.T, r.T);
        cr_assert_eq(b.n_in, r.n_in);
        cr_assert_eq(b.n_out, r.n_out);
        cr_assert(b.B >= 1 && b.B <= t->max_batch);
        cr_assert_null(b.mask);
        for (int i = 0; i < b.B; i++, row++) {
            cr_assert(row < r.n);
            memcpy(r.u + (size_t)row * r.T * r.n_in, b.u + (size_t)i * r.T * r.n_in,
                   (size_t)r.T * r.n_in * sizeof(sl_real));
            memcpy(r.y + (size_t)row * r.T * r.n_out, b.y + (size_t)i * r.T * r.n_out,
                   (size_t)r.T * r.n_out * sizeof(sl_real));
            cr_assert_eq(sl_reach_batch_item(t, s, k, i, &r.it[row]), SL_OK);
            sl_reach_item fixed;
            cr_assert_eq(sl_reach_item_info(t, s, row, &fixed), SL_OK);
            cr_assert_eq(fixed.cond, r.it[row].cond);
            cr_assert_eq(fixed.go_step, r.it[row].go_step);
            cr_assert_not_null(b.cond);
            cr_assert_eq(b.cond[i], r.it[row].cond);
        }
    }
    cr_assert_eq(row, r.n);
    return r;
}

static void rt_free(rt_split *r)
{
    free(r->u);
    free(r->y);
    free(r->it);
}

static double rt_u(const rt_split *r, int i, int t, int ch)
{
    return (double)r->u[((size_t)i * r->T + t) * r->n_in + ch];
}

static double rt_y(const rt_split *r, int i, int t, int j)
{
    return (double)r->y[((size_t)i * r->T + t) * r->n_out + j];
}

/* ------------------------------------------------------------- shapes */

Test(reach, shapes_per_encoding)
{
    struct {
        const char *enc, *hold;
        int n_in;
    } cases[] = {
        {"task.encoding=cossin", "task.hold_cue=true", 4},
        {"task.encoding=cossin", "task.hold_cue=false", 3},
        {"task.encoding=onehot", "task.hold_cue=true", 10},
        {"task.encoding=random", "task.hold_cue=true", 17},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sl_config *c = rt_config(cases[k].enc, cases[k].hold, NULL);
        sl_task *t = rt_task(c);
        cr_assert_str_eq(t->ops->name, "reach");
        cr_assert_eq(t->T, 250, "T = %d", t->T);
        cr_assert_eq(t->n_in, cases[k].n_in, "%s: n_in = %d", cases[k].enc, t->n_in);
        cr_assert_eq(t->n_out, 13);
        cr_assert_float_eq(t->dt_ms, 10.0, 1e-12);
        cr_assert_eq(t->max_batch, 20);
        cr_assert(sl_reach_is(t));
        cr_assert_eq(sl_reach_num_conditions(t), 8);
        cr_assert_eq(sl_reach_plan_onset_step(t), 10);
        sl_task_free(t);
        sl_config_free(c);
    }
    sl_config *c = rt_config("task.muscles=1,3", "task.dt=5", "task.encoding=random",
                             "task.plan_dim=3", NULL);
    sl_task *t = rt_task(c);
    cr_assert_eq(t->T, 500);
    cr_assert_eq(t->n_in, 5);
    cr_assert_eq(t->n_out, 2);
    sl_task_free(t);
    sl_config_free(c);
}

/* ------------------------------------------------------- plan and go */

static void check_plan_go(const char *enc, int n_plan)
{
    sl_config *c = rt_config(enc, "task.holdout_conditions=3", NULL);
    sl_task *t = rt_task(c);
    const int p = sl_reach_plan_onset_step(t), hold = n_plan, go = n_plan + 1;
    cr_assert_eq(t->n_in, n_plan + 2);
    for (int s = 0; s < 3; s++) {
        rt_split r = rt_collect(t, (sl_split)s);
        double v0 = rt_u(&r, 0, 0, 0); /* the image of a raw 0 */
        double v1 = NAN;               /* the image of a raw 1 (hold on) */
        for (int i = 0; i < r.n; i++) {
            int g = r.it[i].go_step;
            cr_assert_eq(g, (int)lround((100.0 + r.it[i].delay_ms) / 10.0));
            /* go bump peaks at the go step */
            int am = 0;
            for (int tt = 1; tt < r.T; tt++)
                if (rt_u(&r, i, tt, go) > rt_u(&r, i, am, go)) am = tt;
            cr_assert_eq(am, g, "go bump peaks at %d, go step %d", am, g);
            for (int tt = 0; tt < r.T; tt++) {
                int on = tt >= p && tt < g;
                if (!on) {
                    for (int ch = 0; ch <= hold; ch++)
                        cr_assert_float_eq(rt_u(&r, i, tt, ch), v0, 1e-6,
                                           "plan channel %d on at step %d (onset %d, go %d)", ch,
                                           tt, p, g);
                } else {
                    double h = rt_u(&r, i, tt, hold);
                    if (isnan(v1)) v1 = h;
                    cr_assert_float_eq(h, v1, 1e-6);
                    cr_assert(fabs(v1 - v0) > 0.1);
                    /* decode the raw plan value: raw = (u − v0)/(v1 − v0) */
                    double th = 2.0 * M_PI * r.it[i].cond / 8.0;
                    if (n_plan == 2) {
                        cr_assert_float_eq((rt_u(&r, i, tt, 0) - v0) / (v1 - v0), cos(th), 1e-5);
                        cr_assert_float_eq((rt_u(&r, i, tt, 1) - v0) / (v1 - v0), sin(th), 1e-5);
                    } else if (n_plan == 8) {
                        for (int ch = 0; ch < 8; ch++)
                            cr_assert_float_eq((rt_u(&r, i, tt, ch) - v0) / (v1 - v0),
                                               ch == r.it[i].cond ? 1.0 : 0.0, 1e-5);
                    }
                }
            }
        }
        rt_free(&r);
    }
    sl_task_free(t);
    sl_config_free(c);
}

Test(reach, plan_and_go_cossin) { check_plan_go("task.encoding=cossin", 2); }
Test(reach, plan_and_go_onehot) { check_plan_go("task.encoding=onehot", 8); }
Test(reach, plan_and_go_random) { check_plan_go("task.encoding=random", 15); }

Test(reach, random_encoding_follows_seed)
{
    sl_config *c1 = rt_config("task.encoding=random", "run.seed=7", NULL);
    sl_config *c2 = rt_config("task.encoding=random", "run.seed=7", NULL);
    sl_config *c3 = rt_config("task.encoding=random", "run.seed=8", NULL);
    sl_task *t1 = rt_task(c1), *t2 = rt_task(c2), *t3 = rt_task(c3);
    rt_split a = rt_collect(t1, SL_SPLIT_VAL), b = rt_collect(t2, SL_SPLIT_VAL),
             d = rt_collect(t3, SL_SPLIT_VAL);
    size_t n = (size_t)a.n * a.T * a.n_in;
    cr_assert(memcmp(a.u, b.u, n * sizeof(sl_real)) == 0);
    cr_assert(memcmp(a.u, d.u, n * sizeof(sl_real)) != 0);
    rt_free(&a);
    rt_free(&b);
    rt_free(&d);
    sl_task_free(t1);
    sl_task_free(t2);
    sl_task_free(t3);
    sl_config_free(c1);
    sl_config_free(c2);
    sl_config_free(c3);
}

/* ------------------------------------------------------ normalisation */

/* The tutorial's normalize_and_standardize on a flat array (double). */
static void rt_norm_std(double *x, size_t n)
{
    double lo = x[0], hi = x[0], s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = (x[i] - lo) / (hi - lo);
        s += x[i];
    }
    double mean = s / n;
    for (size_t i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    double sd = sqrt(ss / (n - 1));
    for (size_t i = 0; i < n; i++) x[i] = (x[i] - mean) / sd;
}

Test(reach, normalisation_matches_tutorial)
{
    /* default delays 300..1100 (train) and 400, 1000 (val): no overlap, so
     * TRAIN ∪ VAL is every condition × every delay, the normalisation set */
    sl_config *c = rt_config("task.encoding=cossin", NULL);
    sl_task *t = rt_task(c);
    rt_split tr = rt_collect(t, SL_SPLIT_TRAIN), va = rt_collect(t, SL_SPLIT_VAL);
    cr_assert_eq(tr.n, 40);
    cr_assert_eq(va.n, 16);
    const int T = t->T, n = tr.n + va.n;
    /* raw inputs, built here independently: plan block (3 ch) and go (1 ch) */
    double *P = malloc((size_t)n * T * 3 * sizeof *P), *X = malloc((size_t)n * T * 4 * sizeof *X);
    for (int i = 0; i < n; i++) {
        const sl_reach_item *it = i < tr.n ? &tr.it[i] : &va.it[i - tr.n];
        double th = 2.0 * M_PI * it->cond / 8.0;
        for (int tt = 0; tt < T; tt++) {
            int on = tt >= 10 && tt < it->go_step;
            double *p = P + ((size_t)i * T + tt) * 3;
            p[0] = on ? cos(th) : 0;
            p[1] = on ? sin(th) : 0;
            p[2] = on ? 1 : 0;
        }
    }
    rt_norm_std(P, (size_t)n * T * 3);
    double sum = 0, sumsq = 0;
    for (int i = 0; i < n; i++) {
        const sl_reach_item *it = i < tr.n ? &tr.it[i] : &va.it[i - tr.n];
        for (int tt = 0; tt < T; tt++) {
            double *x = X + ((size_t)i * T + tt) * 4;
            memcpy(x, P + ((size_t)i * T + tt) * 3, 3 * sizeof *x);
            double s = (tt - it->go_step) * 10.0;
            x[3] = exp(-s * s / (2 * 20.0 * 20.0));
        }
    }
    rt_norm_std(X, (size_t)n * T * 4);
    for (int i = 0; i < n; i++) {
        const rt_split *r = i < tr.n ? &tr : &va;
        int ii = i < tr.n ? i : i - tr.n;
        for (int tt = 0; tt < T; tt++)
            for (int ch = 0; ch < 4; ch++) {
                double got = rt_u(r, ii, tt, ch), want = X[((size_t)i * T + tt) * 4 + ch];
                cr_assert_float_eq(got, want, 1e-5, "trial %d step %d ch %d: %g vs %g", i, tt,
                                   ch, got, want);
                sum += got;
                sumsq += got * got;
            }
    }
    double N = (double)n * T * 4, mean = sum / N, sd = sqrt((sumsq - N * mean * mean) / (N - 1));
    cr_assert(fabs(mean) < 1e-5, "mean %g", mean);
    cr_assert(fabs(sd - 1) < 1e-4, "std %g", sd);
    free(P);
    free(X);
    rt_free(&tr);
    rt_free(&va);
    sl_task_free(t);
    sl_config_free(c);
}

Test(reach, holdout_shares_normalisation)
{
    /* holding conditions out changes the splits, not the inputs */
    sl_config *c1 = rt_config(NULL), *c2 = rt_config("task.holdout_conditions=2,6", NULL);
    sl_task *t1 = rt_task(c1), *t2 = rt_task(c2);
    rt_split a = rt_collect(t1, SL_SPLIT_VAL), h = rt_collect(t2, SL_SPLIT_HOLDOUT);
    for (int i = 0; i < h.n; i++)
        for (int j = 0; j < a.n; j++)
            if (a.it[j].cond == h.it[i].cond && a.it[j].delay_ms == h.it[i].delay_ms)
                cr_assert(memcmp(a.u + (size_t)j * a.T * a.n_in, h.u + (size_t)i * h.T * h.n_in,
                                 (size_t)a.T * a.n_in * sizeof(sl_real)) == 0);
    rt_free(&a);
    rt_free(&h);
    sl_task_free(t1);
    sl_task_free(t2);
    sl_config_free(c1);
    sl_config_free(c2);
}

/* ------------------------------------------------------------ targets */

Test(reach, targets_are_binned_emg_aligned_to_go)
{
    sl_array a;
    cr_assert_eq(sl_npy_read(EMG_PATH, &a), SL_OK, "%s", sl_last_error());
    cr_assert_eq(a.dtype, SL_F32);
    cr_assert_eq(a.ndim, 3);
    cr_assert_eq(a.shape[0], 8);
    cr_assert_eq(a.shape[1], 3341);
    cr_assert_eq(a.shape[2], 13);
    const float *e = a.data;
    /* dt 10: bins of 10 samples; window bins 0..200; go at bin 40 */
    enum { NB = 201, NM = 13 };
    static double E[8][NB][NM];
    double mx[NM];
    for (int m = 0; m < NM; m++) mx[m] = -1e300;
    for (int d = 0; d < 8; d++)
        for (int k = 0; k < NB; k++)
            for (int m = 0; m < NM; m++) {
                double s = 0;
                for (int q = 0; q < 10; q++) s += e[((size_t)d * 3341 + k * 10 + q) * NM + m];
                E[d][k][m] = s / 10;
                if (E[d][k][m] > mx[m]) mx[m] = E[d][k][m];
            }
    sl_config *c = rt_config(NULL);
    sl_task *t = rt_task(c);
    rt_split r = rt_collect(t, SL_SPLIT_TRAIN);
    double ymax = 0;
    for (int i = 0; i < r.n; i++) {
        int g = r.it[i].go_step, cnd = r.it[i].cond;
        for (int tt = 0; tt < r.T; tt++) {
            int k = tt - g + 40;
            k = k < 0 ? 0 : k > 200 ? 200 : k;
            for (int m = 0; m < NM; m++) {
                double want = E[cnd][k][m] / mx[m], got = rt_y(&r, i, tt, m);
                cr_assert_float_eq(got, want, 1e-5, "trial %d step %d muscle %d", i, tt, m);
                if (got > ymax) ymax = got;
                /* long before go: the recording's first bin (baseline) */
                if (tt <= g - 40) cr_assert_float_eq(got, E[cnd][0][m] / mx[m], 1e-6);
            }
        }
    }
    cr_assert(ymax <= 1.0 + 1e-6 && ymax > 0.9, "targets max %g", ymax);
    rt_free(&r);
    sl_task_free(t);
    sl_config_free(c);
    sl_array_free(&a);
}

Test(reach, targets_shift_with_delay)
{
    sl_config *c = rt_config("task.muscles=0,4,11", NULL);
    sl_task *t = rt_task(c);
    cr_assert_eq(t->n_out, 3);
    rt_split r = rt_collect(t, SL_SPLIT_TRAIN);
    int checked = 0;
    for (int i = 0; i < r.n; i++)
        for (int j = 0; j < r.n; j++) {
            if (r.it[i].cond != r.it[j].cond || r.it[j].go_step <= r.it[i].go_step) continue;
            int D = r.it[j].go_step - r.it[i].go_step;
            cr_assert_eq(D * 10.0, r.it[j].delay_ms - r.it[i].delay_ms);
            for (int tt = 0; tt + D < r.T; tt++)
                for (int m = 0; m < 3; m++)
                    cr_assert_eq(rt_y(&r, i, tt, m), rt_y(&r, j, tt + D, m),
                                 "cond %d: delay %g step %d vs delay %g step %d", r.it[i].cond,
                                 r.it[i].delay_ms, tt, r.it[j].delay_ms, tt + D);
            /* before the longer trial's go the target is not the same as at
             * the same step of the shorter one once the EMG moves */
            checked++;
        }
    cr_assert_eq(checked, 8 * 10);
    rt_free(&r);
    sl_task_free(t);
    sl_config_free(c);
}

/* -------------------------------------------------- splits and batches */

Test(reach, split_sizes_and_batches)
{
    sl_config *c = rt_config(NULL);
    sl_task *t = rt_task(c);
    cr_assert_eq(sl_reach_num_items(t, SL_SPLIT_TRAIN), 40);
    cr_assert_eq(sl_reach_num_items(t, SL_SPLIT_VAL), 16);
    cr_assert_eq(sl_reach_num_items(t, SL_SPLIT_HOLDOUT), 0);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_TRAIN), 2);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_VAL), 1);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_HOLDOUT), 0);
    sl_batch b;
    cr_assert_neq(t->ops->batch(t, SL_SPLIT_HOLDOUT, 0, NULL, &b), SL_OK);
    cr_assert_neq(t->ops->batch(t, SL_SPLIT_TRAIN, 2, NULL, &b), SL_OK);
    sl_task_free(t);
    sl_config_free(c);

    c = rt_config("task.holdout_conditions=1,5", "train.batch=7", "task.val_delays=400,700",
                  NULL);
    t = rt_task(c);
    /* val 700 is also a training delay: HOLDOUT uses the union (6 delays) */
    cr_assert_eq(sl_reach_num_items(t, SL_SPLIT_TRAIN), 30);
    cr_assert_eq(sl_reach_num_items(t, SL_SPLIT_VAL), 12);
    cr_assert_eq(sl_reach_num_items(t, SL_SPLIT_HOLDOUT), 12);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_TRAIN), 5);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_VAL), 2);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_HOLDOUT), 2);
    cr_assert_eq(t->max_batch, 7);
    rt_split r = rt_collect(t, SL_SPLIT_HOLDOUT);
    for (int i = 0; i < r.n; i++) cr_assert(r.it[i].cond == 1 || r.it[i].cond == 5);
    rt_free(&r);
    r = rt_collect(t, SL_SPLIT_TRAIN);
    for (int i = 0; i < r.n; i++) cr_assert(r.it[i].cond != 1 && r.it[i].cond != 5);
    rt_free(&r);
    cr_assert_eq(t->ops->start_epoch(t, SL_SPLIT_TRAIN, NULL), SL_OK);
    cr_assert_eq(t->ops->batch(t, SL_SPLIT_TRAIN, 4, NULL, &b), SL_OK);
    cr_assert_eq(b.B, 2);
    sl_task_free(t);
    sl_config_free(c);
}

/* The condition/delay sequence of one shuffled TRAIN epoch. */
static void rt_epoch(sl_task *t, uint64_t seed, int *seq, sl_real *u0)
{
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    cr_assert_eq(t->ops->start_epoch(t, SL_SPLIT_TRAIN, &rng), SL_OK);
    int row = 0;
    for (int k = 0; k < t->ops->num_batches(t, SL_SPLIT_TRAIN); k++) {
        sl_batch b;
        cr_assert_eq(t->ops->batch(t, SL_SPLIT_TRAIN, k, &rng, &b), SL_OK);
        for (int i = 0; i < b.B; i++, row++) {
            sl_reach_item it;
            cr_assert_eq(sl_reach_batch_item(t, SL_SPLIT_TRAIN, k, i, &it), SL_OK);
            cr_assert_eq(it.cond, b.cond[i]);
            seq[row] = it.cond * 10000 + (int)it.delay_ms;
        }
        if (k == 0) memcpy(u0, b.u, (size_t)b.B * b.T * b.n_in * sizeof(sl_real));
    }
}

static int rt_cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

Test(reach, shuffle_is_deterministic)
{
    sl_config *c = rt_config(NULL);
    sl_task *t = rt_task(c);
    int n = sl_reach_num_items(t, SL_SPLIT_TRAIN);
    int *s1 = malloc(n * sizeof *s1), *s2 = malloc(n * sizeof *s2), *s3 = malloc(n * sizeof *s3);
    size_t nu = (size_t)t->max_batch * t->T * t->n_in;
    sl_real *u1 = malloc(nu * sizeof *u1), *u2 = malloc(nu * sizeof *u2),
            *u3 = malloc(nu * sizeof *u3);
    rt_epoch(t, 42, s1, u1);
    rt_epoch(t, 99, s3, u3);
    rt_epoch(t, 42, s2, u2);
    cr_assert(memcmp(s1, s2, n * sizeof *s1) == 0, "same seed, same order");
    cr_assert(memcmp(u1, u2, nu * sizeof *u1) == 0);
    cr_assert(memcmp(s1, s3, n * sizeof *s1) != 0, "another seed, another order");
    /* each epoch is a permutation of the training trials */
    qsort(s1, n, sizeof *s1, rt_cmp_int);
    qsort(s3, n, sizeof *s3, rt_cmp_int);
    cr_assert(memcmp(s1, s3, n * sizeof *s1) == 0);
    for (int i = 1; i < n; i++) cr_assert_neq(s1[i], s1[i - 1]);
    free(s1);
    free(s2);
    free(s3);
    free(u1);
    free(u2);
    free(u3);
    sl_task_free(t);
    sl_config_free(c);
}

Test(reach, input_noise_on_training_batches_only)
{
    sl_config *c0 = rt_config(NULL), *c1 = rt_config("task.input_noise=0.5", NULL);
    sl_task *t0 = rt_task(c0), *t1 = rt_task(c1);
    sl_rng r0, r1;
    sl_rng_seed(&r0, 3);
    sl_rng_seed(&r1, 3);
    cr_assert_eq(t0->ops->start_epoch(t0, SL_SPLIT_TRAIN, &r0), SL_OK);
    cr_assert_eq(t1->ops->start_epoch(t1, SL_SPLIT_TRAIN, &r1), SL_OK);
    sl_batch b0, b1;
    cr_assert_eq(t0->ops->batch(t0, SL_SPLIT_TRAIN, 0, &r0, &b0), SL_OK);
    cr_assert_eq(t1->ops->batch(t1, SL_SPLIT_TRAIN, 0, &r1, &b1), SL_OK);
    size_t n = (size_t)b0.B * b0.T * b0.n_in;
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)b1.u[i] - (double)b0.u[i];
        s += d;
        ss += d * d;
    }
    double sd = sqrt(ss / n);
    cr_assert(fabs(s / n) < 0.02 && fabs(sd - 0.5) < 0.02, "noise mean %g sd %g", s / n, sd);
    cr_assert(memcmp(b0.y, b1.y, (size_t)b0.B * b0.T * b0.n_out * sizeof(sl_real)) == 0);
    cr_assert_eq(t0->ops->batch(t0, SL_SPLIT_VAL, 0, &r0, &b0), SL_OK);
    cr_assert_eq(t1->ops->batch(t1, SL_SPLIT_VAL, 0, &r1, &b1), SL_OK);
    cr_assert(memcmp(b0.u, b1.u, (size_t)b0.B * b0.T * b0.n_in * sizeof(sl_real)) == 0);
    sl_task_free(t0);
    sl_task_free(t1);
    sl_config_free(c0);
    sl_config_free(c1);
}

/* ------------------------------------------------------------ synthetic */

Test(reach, synthetic_task)
{
    sl_config *c = rt_config("task.name=reach_synthetic", "task.conditions=6", "task.outputs=3",
                             "task.data=/nonexistent/never_read.npy", NULL);
    sl_task *t = rt_task(c);
    cr_assert_str_eq(t->ops->name, "reach_synthetic");
    cr_assert_eq(t->n_out, 3);
    cr_assert_eq(t->n_in, 4);
    cr_assert_eq(sl_reach_num_conditions(t), 6);
    rt_split r = rt_collect(t, SL_SPLIT_TRAIN);
    cr_assert_eq(r.n, 30);
    for (int i = 0; i < r.n; i++) {
        int g = r.it[i].go_step;
        double th = 2 * M_PI * r.it[i].cond / 6;
        for (int tt = 0; tt < r.T; tt++)
            for (int j = 0; j < 3; j++) {
                double y = rt_y(&r, i, tt, j);
                if (tt < g) cr_assert_eq(y, 0.0);
                double s = (tt - g) * 10.0, ph = th - 2 * M_PI * j / 3;
                double want = tt < g ? 0
                                     : (0.5 + 0.5 * cos(ph)) * exp(-(s - 150) * (s - 150) / 7200.0) +
                                           (0.5 + 0.5 * sin(ph)) *
                                               exp(-(s - 400) * (s - 400) / 20000.0);
                cr_assert_float_eq(y, want, 1e-6);
            }
    }
    /* deterministic */
    sl_task *t2 = rt_task(c);
    rt_split r2 = rt_collect(t2, SL_SPLIT_TRAIN);
    cr_assert(memcmp(r.u, r2.u, (size_t)r.n * r.T * r.n_in * sizeof(sl_real)) == 0);
    cr_assert(memcmp(r.y, r2.y, (size_t)r.n * r.T * r.n_out * sizeof(sl_real)) == 0);
    rt_free(&r);
    rt_free(&r2);
    sl_task_free(t);
    sl_task_free(t2);
    sl_config_free(c);
}

/* ------------------------------------------------------------ null MSE */

Test(reach, null_mse_hand_example)
{
    /* 3 rows × 2 channels: means 3 and 40/3 */
    sl_real y[] = {1, 10, 3, 10, 5, 20};
    double want = (8.0 + (100.0 / 9 * 2 + 400.0 / 9)) / 6.0;
    cr_assert_float_eq(sl_null_mse(y, NULL, 3, 2), want, 1e-5);
    /* masking row 2 of channel 1: channel 1 becomes constant 10 */
    sl_real m[] = {1, 1, 1, 1, 1, 0};
    cr_assert_float_eq(sl_null_mse(y, m, 3, 2), 8.0 / 5.0, 1e-6);
    sl_real ones[] = {1, 1, 1, 1, 1, 1};
    cr_assert_float_eq(sl_null_mse(y, ones, 3, 2), want, 1e-5);
    sl_real c3[] = {2, 2, 2};
    cr_assert_float_eq(sl_null_mse(c3, NULL, 3, 1), 0.0, 1e-12);
}

/* -------------------------------------------------------------- errors */

static char *rt_tmpdir(void)
{
    char *d = tu_tmpdir();
    cr_assert_not_null(d);
    return d;
}

/* Write a (2, 500, 3) array; NaN at (1, 120, 2) when nan. */
static void rt_write_emg(const char *path, sl_dtype dt, int ndim, int nan)
{
    int64_t shape[3] = {2, 500, 3};
    sl_array a;
    cr_assert_eq(sl_array_alloc(&a, dt, ndim, ndim == 3 ? shape : shape + 1), SL_OK);
    size_t n = sl_array_numel(&a);
    if (dt == SL_F32) {
        float *f = a.data;
        for (size_t i = 0; i < n; i++) f[i] = (float)(i % 7) * 0.5f;
        if (nan) f[((size_t)1 * 500 + 120) * 3 + 2] = NAN;
    }
    cr_assert_eq(sl_npy_write(path, &a), SL_OK, "%s", sl_last_error());
    sl_array_free(&a);
}

Test(reach_errors, missing_file)
{
    sl_config *c = rt_config("task.data=/nonexistent/dir/emg.npy", NULL);
    rt_expect_fail(c, SL_EIO, "/nonexistent/dir/emg.npy", NULL);
    sl_config_free(c);
    c = rt_config("task.data=no/such/emg.npy", NULL);
    rt_expect_fail(c, SL_EIO, "no/such/emg.npy", "tried", NULL);
    sl_config_free(c);
}

Test(reach_errors, env_data_dir)
{
    char *d = rt_tmpdir();
    char p[128];
    snprintf(p, sizeof p, "%s/mini.npy", d);
    rt_write_emg(p, SL_F32, 3, 0);
    setenv("SILICO_DATA_DIR", d, 1);
    sl_config *c = rt_config("task.data=mini.npy", "task.emg_go_ms=100", "task.emg_end_ms=400",
                             "task.trial_ms=1000", "task.delays=300", "task.val_delays=", NULL);
    sl_task *t = rt_task(c);
    cr_assert_eq(t->n_out, 3);
    cr_assert_eq(sl_reach_num_conditions(t), 2);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_VAL), 0);
    sl_task_free(t);
    sl_config_free(c);
    unsetenv("SILICO_DATA_DIR");
    tu_rmtree(d);
}

Test(reach_errors, nan_in_data)
{
    char *d = rt_tmpdir();
    char p[128], o[160];
    snprintf(p, sizeof p, "%s/nan.npy", d);
    rt_write_emg(p, SL_F32, 3, 1);
    snprintf(o, sizeof o, "task.data=%s", p);
    sl_config *c = rt_config(o, "task.emg_go_ms=100", "task.emg_end_ms=400", NULL);
    rt_expect_fail(c, SL_EFORMAT, "nan.npy", "NaN at direction 1, sample 120, muscle 2", NULL);
    sl_config_free(c);
    tu_rmtree(d);
}

Test(reach_errors, wrong_shape_and_dtype)
{
    char *d = rt_tmpdir();
    char p[128], o[160];
    snprintf(p, sizeof p, "%s/bad.npy", d);
    snprintf(o, sizeof o, "task.data=%s", p);
    rt_write_emg(p, SL_F32, 2, 0);
    sl_config *c = rt_config(o, NULL);
    rt_expect_fail(c, SL_EFORMAT, "bad.npy", "shape (500, 3)", NULL);
    rt_write_emg(p, SL_I32, 3, 0);
    rt_expect_fail(c, SL_EFORMAT, "bad.npy", "dtype", NULL);
    /* past the end of a 500-sample recording */
    rt_write_emg(p, SL_F32, 3, 0);
    rt_expect_fail(c, SL_EINVAL, "task.emg_end_ms", NULL);
    sl_config_free(c);
    tu_rmtree(d);
}

Test(reach_errors, bad_values)
{
    struct {
        const char *a, *b;
        const char *frag;
    } cases[] = {
        {"task.muscles=0,13", NULL, "task.muscles"},
        {"task.muscles=2.5", NULL, "task.muscles"},
        {"task.delays=300,2500", NULL, "task.delays"},
        {"task.val_delays=2400", NULL, "task.val_delays"},
        {"task.emg_go_ms=2000", "task.emg_end_ms=1000", "task.emg_go_ms"},
        {"task.holdout_conditions=8", NULL, "task.holdout_conditions"},
        {"task.holdout_conditions=0,1,2,3,4,5,6,7", NULL, "every condition"},
        {"task.dt=2.5", NULL, "task.dt"},
        {"task.delays=", NULL, "task.delays"},
        {"task.plan_onset_ms=3000", NULL, "task.plan_onset_ms"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sl_config *c = rt_config(cases[k].a, cases[k].b, NULL);
        rt_expect_fail(c, SL_EINVAL, cases[k].frag, NULL);
        sl_config_free(c);
    }
    /* a delay whose go cue lands on the last step is fine; one step more is not */
    sl_config *c = rt_config("task.delays=2390", "task.val_delays=", NULL);
    sl_task *t = rt_task(c);
    sl_reach_item it;
    cr_assert_eq(sl_reach_item_info(t, SL_SPLIT_TRAIN, 0, &it), SL_OK);
    cr_assert_eq(it.go_step, 249);
    sl_task_free(t);
    sl_config_free(c);
    c = rt_config("task.delays=2400", "task.val_delays=", NULL);
    rt_expect_fail(c, SL_EINVAL, "task.delays", "2400", NULL);
    sl_config_free(c);
    c = rt_config("task.name=reach_synthetic", "task.delays=5000", NULL);
    rt_expect_fail(c, SL_EINVAL, "task.delays", NULL);
    sl_config_free(c);
}
