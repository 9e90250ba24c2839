/* reach_common.c — the trial structure shared by the reach-family tasks.
 *
 * A trial (dt = task.dt ms, T = round(trial_ms/dt) steps) has a condition c
 * (reach direction θ_c = 2πc/n_cond) and a delay d (ms). The plan input turns
 * on at step p = round(plan_onset_ms/dt); the go cue is at step
 * g = round((plan_onset_ms + d)/dt), which must be < T.
 *
 * Inputs u (T × n_in per trial), channels in this order:
 *   plan  on for p ≤ t < g, else 0:
 *           cossin: (cos θ_c, sin θ_c)           2 channels
 *           onehot: e_c                          n_cond channels
 *           random: v_c ~ N(0, I), drawn once    task.plan_dim channels
 *                   from run.seed (stream RC_PLAN_STREAM)
 *   hold  1 for p ≤ t < g, else 0                only when task.hold_cue
 *   go    exp(−(t−g)² dt² / (2 w²)), w = task.go_width_ms (every step)
 * normalised as the tutorial's normalize_and_standardize, with constants
 * computed once over every condition × every distinct delay of
 * task.delays ∪ task.val_delays (in that order; task.norm_delays instead when
 * it is set, which pins them whatever the splits' delays) × time × channels,
 * so all splits share them:
 *   P ← (P − min P)/(max P − min P);  P ← (P − mean P)/std P     plan(+hold) block
 *   X = [P, go];  X ← (X − min X)/(max X − min X);  X ← (X − mean X)/std X
 * (std unbiased, as torch.std; a constant block is left at 0, not NaN).
 * Targets y (T × n_out) are written by the task (reach.c, reach_synthetic.c);
 * the mask is all ones (NULL).
 *
 * Splits: TRAIN = training conditions (all but task.holdout_conditions) ×
 * task.delays; VAL = training conditions × task.val_delays; HOLDOUT = held-out
 * conditions × (delays ∪ val_delays). Trials are stored condition-major, each
 * split contiguous, all in one arena built at creation. A TRAIN epoch is a
 * shuffle (the rng given to start_epoch) cut into batches of train.batch (the
 * last may be smaller), gathered into batch buffers, with N(0, input_noise²)
 * added to the inputs (the rng given to batch()). VAL and HOLDOUT batches
 * point straight into the stored trials, in fixed order.
 *
 * Layouts, batch-major and row-major: u[(b·T + t)·n_in + i],
 * y[(b·T + t)·n_out + j].
 */
#include "tasks/reach_common.h"
#include "tasks/reach.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The rng stream of the random plan vectors ("plan"), independent of the
 * streams the trainer draws weights and batches from. */
#define RC_PLAN_STREAM 0x706c616eULL

static const double RC_PI = 3.14159265358979323846;

sl_status rc_read_list(const sl_config *c, const char *key, double **out, int *n)
{
    double dummy[1];
    *out = NULL;
    *n = 0;
    int k = sl_config_list(c, key, dummy, 0);
    if (k <= 0) return SL_OK;
    double *v = malloc((size_t)k * sizeof *v);
    if (!v) return sl_fail(SL_ENOMEM, "%s: out of memory", key);
    sl_config_list(c, key, v, k);
    *out = v;
    *n = k;
    return SL_OK;
}

sl_status rc_read_dt(const sl_config *c, int whole_ms, double *dt)
{
    double d = sl_config_real(c, "task.dt");
    if (!(d > 0) || !isfinite(d))
        return sl_fail(SL_EINVAL, "task.dt must be a positive number of ms, got %g", d);
    if (whole_ms && (d < 1 || fabs(d - nearbyint(d)) > 1e-9 * d))
        return sl_fail(SL_EINVAL,
                       "task.dt = %g ms: the reach EMG is sampled every 1 ms, so task.dt must "
                       "be a whole number of ms (1, 2, 5, 10, ...)",
                       d);
    *dt = d;
    return SL_OK;
}

static int is_index(double v, int n)
{
    return isfinite(v) && v == floor(v) && v >= 0 && v < n;
}

/* ---------------------------------------------------------------- inputs */

/* The unnormalised inputs of one trial (T × n_in doubles). */
static void raw_trial(const rc_core *rc, const double *planv, int c, int g, double *row)
{
    const int np = rc->n_plan, ni = rc->n_in;
    const double w = rc->go_width_ms, dt = rc->dt;
    for (int t = 0; t < rc->T; t++) {
        double *r = row + (size_t)t * ni;
        int on = t >= rc->plan_on && t < g;
        for (int i = 0; i < np; i++) r[i] = on ? planv[(size_t)c * np + i] : 0.0;
        if (rc->hold) r[np] = on ? 1.0 : 0.0;
        double s = (double)(t - g) * dt;
        r[ni - 1] = exp(-s * s / (2.0 * w * w));
    }
}

/* Apply the normalisation up to a level, in place:
 * 1 block min-max, 2 block z-score, 3 whole min-max, 4 whole z-score. */
static void normalise(const rc_core *rc, double *row, int level)
{
    const int nb = rc->n_plan + rc->hold, ni = rc->n_in;
    const double r1 = rc->max1 - rc->min1, r2 = rc->max2 - rc->min2;
    for (int t = 0; t < rc->T; t++) {
        double *r = row + (size_t)t * ni;
        for (int i = 0; i < ni; i++) {
            double x = r[i];
            if (i < nb && level >= 1) x = r1 > 0 ? (x - rc->min1) / r1 : 0.0;
            if (i < nb && level >= 2) {
                x -= rc->mean1;
                if (rc->std1 > 0) x /= rc->std1;
            }
            if (level >= 3) x = r2 > 0 ? (x - rc->min2) / r2 : 0.0;
            if (level >= 4) {
                x -= rc->mean2;
                if (rc->std2 > 0) x /= rc->std2;
            }
            r[i] = x;
        }
    }
}

enum { ST_MINMAX, ST_SUM, ST_SQDEV };

/* One pass over every condition × distinct delay: min/max, sum, or sum of
 * squared deviations from mean, of the block (whole = 0) or the whole input
 * (whole = 1) at normalisation level `level`. */
static void norm_pass(const rc_core *rc, const double *planv, const int *goD, int nD,
                      double *row, int level, int whole, int what, double mean, double *a,
                      double *b)
{
    const int ni = rc->n_in, nch = whole ? ni : rc->n_plan + rc->hold;
    double lo = INFINITY, hi = -INFINITY, acc = 0;
    for (int c = 0; c < rc->n_cond; c++)
        for (int k = 0; k < nD; k++) {
            raw_trial(rc, planv, c, goD[k], row);
            normalise(rc, row, level);
            for (int t = 0; t < rc->T; t++)
                for (int i = 0; i < nch; i++) {
                    double x = row[(size_t)t * ni + i];
                    if (what == ST_MINMAX) {
                        if (x < lo) lo = x;
                        if (x > hi) hi = x;
                    } else if (what == ST_SUM) {
                        acc += x;
                    } else {
                        acc += (x - mean) * (x - mean);
                    }
                }
        }
    if (what == ST_MINMAX) {
        *a = lo;
        *b = hi;
    } else {
        *a = acc;
    }
}

static void compute_norm(rc_core *rc, const double *planv, const int *goD, int nD,
                         double *row)
{
    double N1 = (double)rc->n_cond * nD * rc->T * (rc->n_plan + rc->hold);
    double N2 = (double)rc->n_cond * nD * rc->T * rc->n_in;
    double s;
    norm_pass(rc, planv, goD, nD, row, 0, 0, ST_MINMAX, 0, &rc->min1, &rc->max1);
    norm_pass(rc, planv, goD, nD, row, 1, 0, ST_SUM, 0, &s, NULL);
    rc->mean1 = s / N1;
    norm_pass(rc, planv, goD, nD, row, 1, 0, ST_SQDEV, rc->mean1, &s, NULL);
    rc->std1 = N1 > 1 ? sqrt(s / (N1 - 1)) : 0.0;
    norm_pass(rc, planv, goD, nD, row, 2, 1, ST_MINMAX, 0, &rc->min2, &rc->max2);
    norm_pass(rc, planv, goD, nD, row, 3, 1, ST_SUM, 0, &s, NULL);
    rc->mean2 = s / N2;
    norm_pass(rc, planv, goD, nD, row, 3, 1, ST_SQDEV, rc->mean2, &s, NULL);
    rc->std2 = N2 > 1 ? sqrt(s / (N2 - 1)) : 0.0;
}

/* ---------------------------------------------------------------- create */

static size_t round64(size_t b)
{
    if (b < 8) b = 8;
    return (b + 63) & ~(size_t)63;
}

static void *take(sl_arena *a, size_t bytes)
{
    return sl_arena_alloc(a, bytes < 8 ? 8 : bytes);
}

/* The go step of a delay, checked against the trial length. */
static sl_status go_step(const rc_core *rc, const char *key, double d, int *g)
{
    double x = (rc->plan_onset_ms + d) / rc->dt;
    if (!isfinite(x) || x >= rc->T - 0.5)
        return sl_fail(SL_EINVAL,
                       "%s: a delay of %g ms puts the go cue at %g ms (task.plan_onset_ms %g + "
                       "delay), step %.0f, at or past the trial end (T = %d steps of %g ms, "
                       "task.trial_ms = %g); shorten the delay or lengthen task.trial_ms",
                       key, d, rc->plan_onset_ms + d, rc->plan_onset_ms, nearbyint(x), rc->T, rc->dt,
                       rc->T * rc->dt);
    *g = (int)lround(x);
    return SL_OK;
}

sl_status rc_create(const sl_config *c, const sl_task_ops *ops, const rc_spec *spec,
                    sl_task **out)
{
    sl_status st = SL_OK;
    double *dtr = NULL, *dva = NULL, *hol = NULL, *D = NULL, *planv = NULL, *row = NULL;
    double *dno = NULL;
    int *goD = NULL, *gtr = NULL, *gva = NULL, *gno = NULL;
    unsigned char *held = NULL;
    int n_tr = 0, n_va = 0, n_ho = 0, nD = 0, n_no = 0, nN = 0;
    *out = NULL;

    if (spec->n_cond < 1 || spec->n_out < 1)
        return sl_fail(SL_EINVAL, "reach task: need at least one condition and one output");
    rc_core *rc = calloc(1, sizeof *rc);
    if (!rc) return sl_fail(SL_ENOMEM, "reach task: out of memory");
    rc->n_cond = spec->n_cond;
    rc->n_out = spec->n_out;

    /* timing */
    if ((st = rc_read_dt(c, 0, &rc->dt))) goto fail;
    double trial_ms = sl_config_real(c, "task.trial_ms");
    double Tx = trial_ms / rc->dt;
    if (!(Tx >= 0.5) || Tx > 1e8) {
        st = sl_fail(SL_EINVAL, "task.trial_ms = %g ms gives %.0f steps of task.dt = %g ms; "
                     "need between 1 and 1e8", trial_ms, nearbyint(Tx), rc->dt);
        goto fail;
    }
    rc->T = (int)lround(Tx);
    rc->plan_onset_ms = sl_config_real(c, "task.plan_onset_ms");
    double px = rc->plan_onset_ms / rc->dt;
    if (!(px < rc->T - 0.5)) {
        st = sl_fail(SL_EINVAL, "task.plan_onset_ms = %g ms is at or past the trial end "
                     "(task.trial_ms = %g ms)", rc->plan_onset_ms, trial_ms);
        goto fail;
    }
    rc->plan_on = (int)lround(px);

    /* input channels */
    const char *enc = sl_config_str(c, "task.encoding");
    int e = 0;
    if (strcmp(enc, "cossin") == 0) {
        rc->n_plan = 2;
    } else if (strcmp(enc, "onehot") == 0) {
        rc->n_plan = rc->n_cond;
        e = 1;
    } else if (strcmp(enc, "random") == 0) {
        long pd = sl_config_int(c, "task.plan_dim");
        if (pd < 1 || pd > 100000) {
            st = sl_fail(SL_EINVAL, "task.plan_dim must be in [1, 100000], got %ld", pd);
            goto fail;
        }
        rc->n_plan = (int)pd;
        e = 2;
    } else {
        st = sl_fail(SL_EINVAL, "task.encoding must be cossin, onehot or random, got '%s'", enc);
        goto fail;
    }
    rc->hold = sl_config_bool(c, "task.hold_cue") ? 1 : 0;
    rc->n_in = rc->n_plan + rc->hold + 1;
    rc->go_width_ms = sl_config_real(c, "task.go_width_ms");
    if (!(rc->go_width_ms > 0)) {
        st = sl_fail(SL_EINVAL, "task.go_width_ms must be > 0, got %g", rc->go_width_ms);
        goto fail;
    }
    rc->input_noise = sl_config_real(c, "task.input_noise");
    if (!(rc->input_noise >= 0) || !isfinite(rc->input_noise)) {
        st = sl_fail(SL_EINVAL, "task.input_noise must be >= 0, got %g", rc->input_noise);
        goto fail;
    }
    long bs = sl_config_int(c, "train.batch");
    if (bs < 1 || bs > 1000000) {
        st = sl_fail(SL_EINVAL, "train.batch must be in [1, 1000000], got %ld", bs);
        goto fail;
    }
    rc->batch = (int)bs;

    /* delays: the training and validation lists and their distinct union */
    if ((st = rc_read_list(c, "task.delays", &dtr, &n_tr))) goto fail;
    if ((st = rc_read_list(c, "task.val_delays", &dva, &n_va))) goto fail;
    if (n_tr == 0) {
        st = sl_fail(SL_EINVAL, "task.delays is empty: training needs at least one delay");
        goto fail;
    }
    D = malloc((size_t)(n_tr + n_va) * sizeof *D);
    goD = malloc((size_t)(n_tr + n_va) * sizeof *goD);
    gtr = malloc((size_t)n_tr * sizeof *gtr);
    gva = malloc((size_t)(n_va > 0 ? n_va : 1) * sizeof *gva);
    if (!D || !goD || !gtr || !gva) {
        st = sl_fail(SL_ENOMEM, "reach task: out of memory");
        goto fail;
    }
    for (int k = 0; k < n_tr + n_va; k++) {
        int istr = k < n_tr;
        double d = istr ? dtr[k] : dva[k - n_tr];
        const char *key = istr ? "task.delays" : "task.val_delays";
        if (!(d >= 0) || !isfinite(d)) {
            st = sl_fail(SL_EINVAL, "%s: delays must be finite and >= 0 ms, got %g", key, d);
            goto fail;
        }
        int g = 0;
        if ((st = go_step(rc, key, d, &g))) goto fail;
        if (istr)
            gtr[k] = g;
        else
            gva[k - n_tr] = g;
        int seen = 0;
        for (int j = 0; j < nD; j++) seen |= D[j] == d;
        if (!seen) {
            D[nD] = d;
            goD[nD++] = g;
        }
    }

    /* the normalisation delays: task.norm_delays when set (distinct, in order) */
    if ((st = rc_read_list(c, "task.norm_delays", &dno, &n_no))) goto fail;
    gno = malloc((size_t)(n_no > 0 ? n_no : 1) * sizeof *gno);
    if (!gno) {
        st = sl_fail(SL_ENOMEM, "reach task: out of memory");
        goto fail;
    }
    for (int k = 0; k < n_no; k++) {
        if (!(dno[k] >= 0) || !isfinite(dno[k])) {
            st = sl_fail(SL_EINVAL, "task.norm_delays: delays must be finite and >= 0 ms, got %g",
                         dno[k]);
            goto fail;
        }
        int seen = 0;
        for (int j = 0; j < nN; j++) seen |= dno[j] == dno[k];
        if (seen) continue;
        if ((st = go_step(rc, "task.norm_delays", dno[k], &gno[nN]))) goto fail;
        dno[nN++] = dno[k];
    }

    /* held-out conditions */
    if ((st = rc_read_list(c, "task.holdout_conditions", &hol, &n_ho))) goto fail;
    held = calloc((size_t)rc->n_cond, 1);
    if (!held) {
        st = sl_fail(SL_ENOMEM, "reach task: out of memory");
        goto fail;
    }
    int n_held = 0;
    for (int k = 0; k < n_ho; k++) {
        if (!is_index(hol[k], rc->n_cond)) {
            st = sl_fail(SL_EINVAL, "task.holdout_conditions: condition %g is out of range (the "
                         "task has %d conditions, 0..%d)", hol[k], rc->n_cond, rc->n_cond - 1);
            goto fail;
        }
        int ci = (int)hol[k];
        if (!held[ci]) n_held++;
        held[ci] = 1;
    }
    if (n_held == rc->n_cond) {
        st = sl_fail(SL_EINVAL, "task.holdout_conditions holds out every condition (%d of %d): "
                     "nothing is left to train on", n_held, rc->n_cond);
        goto fail;
    }
    int n_trc = rc->n_cond - n_held;
    rc->n[SL_SPLIT_TRAIN] = n_trc * n_tr;
    rc->n[SL_SPLIT_VAL] = n_trc * n_va;
    rc->n[SL_SPLIT_HOLDOUT] = n_held * nD;
    int nmax = 0;
    for (int s = 0; s < 3; s++)
        if (rc->n[s] > nmax) nmax = rc->n[s];
    int mb = rc->batch < nmax ? rc->batch : nmax;

    /* plan vectors (n_cond × n_plan) */
    planv = calloc((size_t)rc->n_cond * rc->n_plan, sizeof *planv);
    row = malloc((size_t)rc->T * rc->n_in * sizeof *row);
    if (!planv || !row) {
        st = sl_fail(SL_ENOMEM, "reach task: out of memory");
        goto fail;
    }
    if (e == 2) {
        sl_rng r;
        sl_rng_seed_stream(&r, (uint64_t)sl_config_int(c, "run.seed"), RC_PLAN_STREAM);
        for (size_t i = 0; i < (size_t)rc->n_cond * rc->n_plan; i++) planv[i] = sl_rng_normal(&r);
    }
    for (int ci = 0; ci < rc->n_cond; ci++) {
        double th = 2.0 * RC_PI * ci / rc->n_cond;
        if (e == 0) {
            planv[2 * ci] = cos(th);
            planv[2 * ci + 1] = sin(th);
        } else if (e == 1) {
            planv[(size_t)ci * rc->n_plan + ci] = 1.0;
        }
    }
    if (nN > 0)
        compute_norm(rc, planv, gno, nN, row);
    else
        compute_norm(rc, planv, goD, nD, row);

    /* one arena for every trial and the batch buffers */
    double cells = 0;
    for (int s = 0; s < 3; s++) cells += (double)rc->n[s] * rc->T * (rc->n_in + rc->n_out);
    cells += (double)mb * rc->T * (rc->n_in + rc->n_out);
    if (cells * sizeof(sl_real) > 1e14) {
        st = sl_fail(SL_ENOMEM, "reach task: %.3g trial values is too many", cells);
        goto fail;
    }
    size_t cap = 64;
    for (int s = 0; s < 3; s++) {
        size_t n = (size_t)rc->n[s];
        cap += round64(n * rc->T * rc->n_in * sizeof(sl_real)) + 64;
        cap += round64(n * rc->T * rc->n_out * sizeof(sl_real)) + 64;
        cap += 2 * (round64(n * sizeof(int)) + 64) + round64(n * sizeof(double)) + 64;
    }
    cap += round64((size_t)rc->n[SL_SPLIT_TRAIN] * sizeof(int)) + 64;
    cap += round64((size_t)mb * rc->T * rc->n_in * sizeof(sl_real)) + 64;
    cap += round64((size_t)mb * rc->T * rc->n_out * sizeof(sl_real)) + 64;
    cap += round64((size_t)mb * sizeof(int)) + 64;
    if ((st = sl_arena_create(cap, &rc->arena))) goto fail;
    for (int s = 0; s < 3; s++) {
        size_t n = (size_t)rc->n[s];
        rc->u[s] = take(rc->arena, n * rc->T * rc->n_in * sizeof(sl_real));
        rc->y[s] = take(rc->arena, n * rc->T * rc->n_out * sizeof(sl_real));
        rc->cond[s] = take(rc->arena, n * sizeof(int));
        rc->go[s] = take(rc->arena, n * sizeof(int));
        rc->delay[s] = take(rc->arena, n * sizeof(double));
        if (!rc->u[s] || !rc->y[s] || !rc->cond[s] || !rc->go[s] || !rc->delay[s]) {
            st = sl_fail(SL_ENOMEM, "reach task: arena too small");
            goto fail;
        }
    }
    rc->order = take(rc->arena, (size_t)rc->n[SL_SPLIT_TRAIN] * sizeof(int));
    rc->bu = take(rc->arena, (size_t)mb * rc->T * rc->n_in * sizeof(sl_real));
    rc->by = take(rc->arena, (size_t)mb * rc->T * rc->n_out * sizeof(sl_real));
    rc->bcond = take(rc->arena, (size_t)mb * sizeof(int));
    if (!rc->order || !rc->bu || !rc->by || !rc->bcond) {
        st = sl_fail(SL_ENOMEM, "reach task: arena too small");
        goto fail;
    }

    /* every trial of every split */
    for (int s = 0; s < 3; s++) {
        int i = 0;
        for (int ci = 0; ci < rc->n_cond; ci++) {
            int is_held = held[ci];
            if ((s == SL_SPLIT_HOLDOUT) != is_held) continue;
            int nk = s == SL_SPLIT_TRAIN ? n_tr : s == SL_SPLIT_VAL ? n_va : nD;
            for (int k = 0; k < nk; k++, i++) {
                double d = s == SL_SPLIT_TRAIN ? dtr[k] : s == SL_SPLIT_VAL ? dva[k] : D[k];
                int g = s == SL_SPLIT_TRAIN ? gtr[k] : s == SL_SPLIT_VAL ? gva[k] : goD[k];
                rc->cond[s][i] = ci;
                rc->delay[s][i] = d;
                rc->go[s][i] = g;
                raw_trial(rc, planv, ci, g, row);
                normalise(rc, row, 4);
                sl_real *u = rc->u[s] + (size_t)i * rc->T * rc->n_in;
                for (size_t j = 0; j < (size_t)rc->T * rc->n_in; j++) u[j] = (sl_real)row[j];
                spec->target(rc, spec->ctx, ci, g, rc->y[s] + (size_t)i * rc->T * rc->n_out);
            }
        }
    }
    for (int i = 0; i < rc->n[SL_SPLIT_TRAIN]; i++) rc->order[i] = i;

    rc->task.ops = ops;
    rc->task.n_in = rc->n_in;
    rc->task.n_out = rc->n_out;
    rc->task.T = rc->T;
    rc->task.dt_ms = rc->dt;
    rc->task.max_batch = mb;
    rc->task.impl = rc;
    *out = &rc->task;
    goto done;

fail:
    if (rc->arena) sl_arena_destroy(rc->arena);
    free(rc);
done:
    free(dtr);
    free(dva);
    free(hol);
    free(D);
    free(goD);
    free(gtr);
    free(gva);
    free(dno);
    free(gno);
    free(held);
    free(planv);
    free(row);
    return st;
}

/* ---------------------------------------------------------------- batches */

static rc_core *core(sl_task *t)
{
    return (rc_core *)t->impl;
}

static int valid_split(sl_split s)
{
    return (int)s >= 0 && (int)s < 3;
}

int rc_num_batches(sl_task *t, sl_split split)
{
    if (!t || !valid_split(split)) return 0;
    rc_core *rc = core(t);
    return (rc->n[split] + rc->batch - 1) / rc->batch;
}

sl_status rc_start_epoch(sl_task *t, sl_split split, sl_rng *rng)
{
    if (!t || !valid_split(split)) return sl_fail(SL_EINVAL, "reach task: bad split %d", split);
    rc_core *rc = core(t);
    if (split != SL_SPLIT_TRAIN) return SL_OK;
    int n = rc->n[SL_SPLIT_TRAIN];
    for (int i = 0; i < n; i++) rc->order[i] = i;
    if (rng && n > 1) sl_rng_shuffle(rng, rc->order, n);
    return SL_OK;
}

sl_status rc_batch(sl_task *t, sl_split split, int index, sl_rng *rng, sl_batch *out)
{
    if (!t || !out || !valid_split(split))
        return sl_fail(SL_EINVAL, "reach task: bad batch request (split %d)", split);
    rc_core *rc = core(t);
    int nb = rc_num_batches(t, split);
    if (index < 0 || index >= nb)
        return sl_fail(SL_EINVAL, "reach task: batch %d of split %d is out of range (%d batches)",
                       index, split, nb);
    const size_t su = (size_t)rc->T * rc->n_in, sy = (size_t)rc->T * rc->n_out;
    int start = index * rc->batch;
    int B = rc->n[split] - start < rc->batch ? rc->n[split] - start : rc->batch;
    memset(out, 0, sizeof *out); /* no mask, labels or decisions: a regression task */
    out->B = B;
    out->T = rc->T;
    out->n_in = rc->n_in;
    out->n_out = rc->n_out;
    if (split == SL_SPLIT_TRAIN) {
        for (int b = 0; b < B; b++) {
            int i = rc->order[start + b];
            memcpy(rc->bu + b * su, rc->u[split] + i * su, su * sizeof(sl_real));
            memcpy(rc->by + b * sy, rc->y[split] + i * sy, sy * sizeof(sl_real));
            rc->bcond[b] = rc->cond[split][i];
        }
        if (rc->input_noise > 0 && rng) {
            const double sd = rc->input_noise;
            for (size_t j = 0; j < (size_t)B * su; j++) rc->bu[j] += (sl_real)(sd * sl_rng_normal(rng));
        }
        out->u = rc->bu;
        out->y = rc->by;
        out->cond = rc->bcond;
    } else {
        out->u = rc->u[split] + (size_t)start * su;
        out->y = rc->y[split] + (size_t)start * sy;
        out->cond = rc->cond[split] + start;
    }
    return SL_OK;
}

void rc_destroy(sl_task *t)
{
    if (!t) return;
    rc_core *rc = core(t);
    sl_arena_destroy(rc->arena);
    free(rc);
}

/* ------------------------------------------------------------ reach.h */

int sl_reach_is(const sl_task *t)
{
    return t && t->ops && t->ops->destroy == rc_destroy && t->impl;
}

int sl_reach_num_conditions(const sl_task *t)
{
    return sl_reach_is(t) ? ((const rc_core *)t->impl)->n_cond : 0;
}

double sl_reach_angle(const sl_task *t, int cond)
{
    int n = sl_reach_num_conditions(t);
    return n > 0 ? 2.0 * RC_PI * cond / n : 0.0;
}

int sl_reach_plan_onset_step(const sl_task *t)
{
    return sl_reach_is(t) ? ((const rc_core *)t->impl)->plan_on : 0;
}

int sl_reach_num_items(const sl_task *t, sl_split split)
{
    if (!sl_reach_is(t) || !valid_split(split)) return 0;
    return ((const rc_core *)t->impl)->n[split];
}

sl_status sl_reach_item_info(const sl_task *t, sl_split split, int i, sl_reach_item *out)
{
    if (!sl_reach_is(t)) return sl_fail(SL_EINVAL, "not a reach task");
    if (!valid_split(split)) return sl_fail(SL_EINVAL, "reach task: bad split %d", split);
    const rc_core *rc = t->impl;
    if (i < 0 || i >= rc->n[split])
        return sl_fail(SL_EINVAL, "reach task: trial %d of split %d is out of range (%d trials)",
                       i, split, rc->n[split]);
    out->cond = rc->cond[split][i];
    out->delay_ms = rc->delay[split][i];
    out->go_step = rc->go[split][i];
    return SL_OK;
}

sl_status sl_reach_batch_item(const sl_task *t, sl_split split, int index, int b,
                              sl_reach_item *out)
{
    if (!sl_reach_is(t)) return sl_fail(SL_EINVAL, "not a reach task");
    if (!valid_split(split)) return sl_fail(SL_EINVAL, "reach task: bad split %d", split);
    const rc_core *rc = t->impl;
    long pos = (long)index * rc->batch + b;
    if (index < 0 || b < 0 || b >= rc->batch || pos >= rc->n[split])
        return sl_fail(SL_EINVAL, "reach task: row %d of batch %d of split %d is out of range",
                       b, index, split);
    int i = split == SL_SPLIT_TRAIN ? rc->order[pos] : (int)pos;
    return sl_reach_item_info(t, split, i, out);
}
