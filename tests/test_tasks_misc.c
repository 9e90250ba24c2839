/* test_tasks_misc.c — the flip-flop and memorize/report generators
 * (src/tasks/flipflop.c, memory.c), driven directly through trial.h, and the
 * dataset task (src/tasks/dataset.c) on .npy and .mat files.
 *
 * flip-flop: shapes and defaults (FixedPointFinder's 3 bits, 64 steps,
 * p = 0.5, a pulse on every bit at step 0); targets equal an independent
 * running-sign reimplementation over many trials; pulse rate ≈ p and signs
 * balanced; start_pulse = false gives 0 before the first pulse; seeding.
 * memory: one memorize pulse in {0..⌊L/2⌋−1} and one report pulse in
 * {⌊L/2⌋..L−2} per sequence (both ranges fully covered), target nonzero only
 * at the report step and equal to the stream at the memorize step, stream in
 * [−1, 1), L uniform over [min_len, max_len], n_repeat concatenation and
 * periods, L = 300 and 1000, bad parameters.
 * dataset: .npy round trip (values, labels, mask broadcast, conditions),
 * splits and batches, .mat via scipy (column-major mapping, dropped
 * singleton dims, single-variable files), and every error.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "tasks/dataset.h"
#include "tasks/trial.h"
#include "testutil.h"

extern const sl_taskgen sl_task_flipflop;
extern const sl_taskgen sl_task_memory;

/* A config at its defaults plus "key=value" overrides (NULL-terminated). */
static sl_config *mc_config(const char *first, ...)
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

/* ------------------------------------------------------------- generators */

typedef struct {
    const sl_taskgen *g;
    void *state;
    sl_taskgen_shape shape;
    sl_trial t;
    sl_rng rng;
} mc_gen;

static void gen_open(mc_gen *m, const sl_taskgen *g, sl_config *c, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->g = g;
    cr_assert_eq(g->create(c, &m->state, &m->shape), SL_OK, "create %s: %s", g->name,
                 sl_last_error());
    cr_assert_eq(sl_trial_init(&m->t, m->shape.dt, m->shape.n_obs, m->shape.n_out,
                               m->shape.classification, m->shape.T_max),
                 SL_OK, "sl_trial_init: %s", sl_last_error());
    sl_rng_seed(&m->rng, seed);
}

static void gen_next(mc_gen *m)
{
    sl_trial_begin(&m->t, &m->rng);
    cr_assert_eq(m->g->new_trial(m->state, &m->t), SL_OK, "new_trial: %s", sl_last_error());
    cr_assert_eq(sl_trial_check(&m->t), SL_OK, "sl_trial_check: %s", sl_last_error());
}

static void gen_close(mc_gen *m)
{
    sl_trial_free(&m->t);
    m->g->destroy(m->state);
}

/* ---------------------------------------------------------------- flipflop */

/* The running sign of the last pulse, computed independently. */
static void ff_check_trial(const sl_trial *t, int K, int start_pulse)
{
    for (int k = 0; k < K; k++) {
        float held = 0;
        int count = 0;
        for (int s = 0; s < t->T; s++) {
            float u = t->ob[(size_t)s * K + k];
            cr_assert(u == 0.0f || u == 1.0f || u == -1.0f, "input %g", (double)u);
            if (s == 0 && start_pulse) cr_assert(u != 0.0f, "bit %d has no start pulse", k);
            if (u != 0.0f) {
                held = u;
                count++;
            }
            cr_assert_eq(t->y[(size_t)s * K + k], held, "target bit %d step %d: %g, want %g", k, s,
                         (double)t->y[(size_t)s * K + k], (double)held);
            cr_assert_eq(t->mask[s], 1.0f);
        }
        if (k < SL_TRIAL_MAX_VARS) {
            char name[32];
            snprintf(name, sizeof name, "pulses_bit%d", k);
            cr_assert_eq(sl_trial_get_var(t, name), (double)count, "%s", name);
        }
    }
}

Test(misc_flipflop, defaults_follow_fixed_point_finder)
{
    sl_config *c = mc_config("task.name=flipflop", NULL);
    mc_gen m;
    gen_open(&m, &sl_task_flipflop, c, 11);
    cr_assert_eq(m.shape.n_obs, 3);
    cr_assert_eq(m.shape.n_out, 3);
    cr_assert_eq(m.shape.classification, 0);
    cr_assert_eq(m.shape.T_max, 64);
    cr_assert_str_eq(m.shape.obs_names[2], "bit2");
    cr_assert_str_eq(m.shape.out_names[0], "bit0");
    long pulses = 0, plus = 0, slots = 0;
    for (int n = 0; n < 2000; n++) {
        gen_next(&m);
        cr_assert_eq(m.t.T, 64);
        cr_assert_eq(m.t.n_periods, 1);
        cr_assert_str_eq(m.t.period[0].name, "trial");
        ff_check_trial(&m.t, 3, 1);
        for (int s = 1; s < 64; s++)
            for (int k = 0; k < 3; k++) {
                float u = m.t.ob[s * 3 + k];
                slots++;
                pulses += u != 0.0f;
                plus += u > 0.0f;
            }
    }
    double rate = (double)pulses / slots, sign = (double)plus / pulses;
    /* 378,000 Bernoulli(0.5) draws: sd 0.0008 */
    cr_assert(fabs(rate - 0.5) < 0.005, "pulse rate %g, want 0.5", rate);
    cr_assert(fabs(sign - 0.5) < 0.007, "fraction of + pulses %g", sign);
    gen_close(&m);
    sl_config_free(c);
}

Test(misc_flipflop, rate_length_bits_and_no_start_pulse)
{
    sl_config *c = mc_config("task.name=flipflop", "task.bits=5", "task.p_pulse=0.05",
                             "task.start_pulse=false", "task.trial_ms=1000", "task.dt=10", NULL);
    mc_gen m;
    gen_open(&m, &sl_task_flipflop, c, 3);
    cr_assert_eq(m.shape.n_obs, 5);
    cr_assert_eq(m.shape.T_max, 100);
    long pulses = 0, slots = 0, zero_before_first = 0;
    for (int n = 0; n < 2000; n++) {
        gen_next(&m);
        cr_assert_eq(m.t.T, 100);
        ff_check_trial(&m.t, 5, 0);
        for (int k = 0; k < 5; k++) {
            int seen = 0;
            for (int s = 0; s < 100; s++) {
                float u = m.t.ob[s * 5 + k];
                slots++;
                pulses += u != 0.0f;
                seen |= u != 0.0f;
                if (!seen) zero_before_first += m.t.y[s * 5 + k] == 0.0f;
            }
        }
    }
    double rate = (double)pulses / slots;
    cr_assert(fabs(rate - 0.05) < 0.002, "pulse rate %g, want 0.05", rate);
    cr_assert(zero_before_first > 1000, "outputs before the first pulse are 0");
    gen_close(&m);
    sl_config_free(c);
}

Test(misc_flipflop, seeded_and_bad_length)
{
    sl_config *c = mc_config("task.name=flipflop", NULL);
    mc_gen a, b;
    gen_open(&a, &sl_task_flipflop, c, 42);
    gen_open(&b, &sl_task_flipflop, c, 42);
    for (int n = 0; n < 5; n++) {
        gen_next(&a);
        gen_next(&b);
        cr_assert(memcmp(a.t.ob, b.t.ob, 64 * 3 * sizeof(float)) == 0);
        cr_assert(memcmp(a.t.y, b.t.y, 64 * 3 * sizeof(float)) == 0);
    }
    gen_close(&a);
    gen_close(&b);
    sl_config_free(c);

    c = mc_config("task.name=flipflop", "task.trial_ms=5", "task.dt=10", NULL);
    void *st = NULL;
    sl_taskgen_shape sh;
    cr_assert_eq(sl_task_flipflop.create(c, &st, &sh), SL_EINVAL);
    cr_assert_null(st);
    cr_assert(strstr(sl_last_error(), "task.trial_ms") != NULL, "%s", sl_last_error());
    sl_config_free(c);
}

/* ------------------------------------------------------------------ memory */

/* Check one trial's structure; returns L. Counts memorize/report positions
 * into stim[m], test[q] (relative to the sequence start) when given. */
static int mem_check_trial(const sl_trial *t, int R, long *stim, long *test)
{
    int L = (int)sl_trial_get_var(t, "length");
    cr_assert_eq(t->T, L * R, "T %d, L %d, n_repeat %d", t->T, L, R);
    int h = L / 2;
    for (int r = 0; r < R; r++) {
        int t0 = r * L, nm = 0, nq = 0, m = -1, q = -1;
        for (int i = 0; i < L; i++) {
            const float *o = t->ob + (size_t)(t0 + i) * 3;
            cr_assert(o[0] >= -1.0f && o[0] < 1.0f, "stream %g", (double)o[0]);
            cr_assert(o[1] == 0.0f || o[1] == 1.0f);
            cr_assert(o[2] == 0.0f || o[2] == 1.0f);
            if (o[1] == 1.0f) {
                nm++;
                m = i;
            }
            if (o[2] == 1.0f) {
                nq++;
                q = i;
            }
            cr_assert_eq(t->mask[t0 + i], 1.0f);
        }
        cr_assert_eq(nm, 1, "sequence %d: %d memorize pulses", r, nm);
        cr_assert_eq(nq, 1, "sequence %d: %d report pulses", r, nq);
        cr_assert(m >= 0 && m < h, "memorize step %d outside [0, %d)", m, h);
        cr_assert(q >= h && q <= L - 2, "report step %d outside [%d, %d]", q, h, L - 2);
        for (int i = 0; i < L; i++) {
            float y = t->y[t0 + i];
            if (i == q)
                cr_assert_eq(y, t->ob[(size_t)(t0 + m) * 3], "target at the report step");
            else
                cr_assert_eq(y, 0.0f, "target %g at step %d (report at %d)", (double)y, i, q);
        }
        if (r < 5) {
            char a[32], b[32], v[32];
            snprintf(a, sizeof a, r ? "memorize_step_%d" : "memorize_step", r);
            snprintf(b, sizeof b, r ? "report_step_%d" : "report_step", r);
            snprintf(v, sizeof v, r ? "value_%d" : "value", r);
            cr_assert_eq(sl_trial_get_var(t, a), t0 + m);
            cr_assert_eq(sl_trial_get_var(t, b), t0 + q);
            cr_assert_eq(sl_trial_get_var(t, v), (double)t->ob[(size_t)(t0 + m) * 3]);
        }
        if (stim) stim[m]++;
        if (test) test[q]++;
    }
    return L;
}

Test(misc_memory, structure_and_length_distribution)
{
    sl_config *c = mc_config("task.name=memory", NULL);
    mc_gen m;
    gen_open(&m, &sl_task_memory, c, 5);
    cr_assert_eq(m.shape.n_obs, 3);
    cr_assert_eq(m.shape.n_out, 1);
    cr_assert_eq(m.shape.T_max, 19);
    cr_assert_str_eq(m.shape.obs_names[1], "memorize");
    long count[20] = {0};
    const int n = 15000;
    double s1 = 0, s2 = 0;
    for (int k = 0; k < n; k++) {
        gen_next(&m);
        int L = mem_check_trial(&m.t, 1, NULL, NULL);
        cr_assert(L >= 5 && L <= 19, "length %d", L);
        count[L]++;
        for (int i = 0; i < L; i++) {
            s1 += m.t.ob[i * 3];
            s2 += (double)m.t.ob[i * 3] * m.t.ob[i * 3];
        }
        cr_assert_eq(m.t.n_periods, 1);
        cr_assert_str_eq(m.t.period[0].name, "seq0");
    }
    /* uniform over 5..19: 1000 each, sd ≈ 31 */
    for (int L = 5; L <= 19; L++)
        cr_assert(labs(count[L] - n / 15) < 160, "length %d drawn %ld times", L, count[L]);
    long tot = 0;
    for (int L = 5; L <= 19; L++) tot += count[L] * L;
    double mean = s1 / tot, var = s2 / tot - mean * mean;
    cr_assert(fabs(mean) < 0.01, "stream mean %g", mean);
    cr_assert(fabs(var - 1.0 / 3.0) < 0.01, "stream variance %g, want 1/3", var);
    gen_close(&m);
    sl_config_free(c);
}

Test(misc_memory, pulse_ranges_match_numpy_randint)
{
    /* L = 10: memorize in {0..4}, report in {5..8}; L = 7: {0..2}, {3..5} */
    const int Ls[2] = {10, 7};
    for (int a = 0; a < 2; a++) {
        char lo[32], hi[32];
        snprintf(lo, sizeof lo, "task.min_len=%d", Ls[a]);
        snprintf(hi, sizeof hi, "task.max_len=%d", Ls[a]);
        sl_config *c = mc_config("task.name=memory", lo, hi, NULL);
        mc_gen m;
        gen_open(&m, &sl_task_memory, c, 9);
        long stim[32] = {0}, test[32] = {0};
        for (int k = 0; k < 4000; k++) {
            gen_next(&m);
            cr_assert_eq(mem_check_trial(&m.t, 1, stim, test), Ls[a]);
        }
        int L = Ls[a], h = L / 2;
        for (int i = 0; i < L; i++) {
            if (i < h)
                cr_assert(stim[i] > 4000 / h / 2, "L %d: memorize step %d drawn %ld times", L, i,
                          stim[i]);
            else
                cr_assert_eq(stim[i], 0);
            if (i >= h && i <= L - 2)
                cr_assert(test[i] > 4000 / (L - 1 - h) / 2, "L %d: report step %d drawn %ld", L,
                          i, test[i]);
            else
                cr_assert_eq(test[i], 0, "L %d: report at %d", L, i);
        }
        gen_close(&m);
        sl_config_free(c);
    }
}

Test(misc_memory, n_repeat_concatenation)
{
    sl_config *c = mc_config("task.name=memory", "task.n_repeat=3", "task.min_len=5",
                             "task.max_len=20", "task.dt=10", NULL);
    mc_gen m;
    gen_open(&m, &sl_task_memory, c, 77);
    cr_assert_eq(m.shape.T_max, 60);
    for (int k = 0; k < 2000; k++) {
        gen_next(&m);
        int L = mem_check_trial(&m.t, 3, NULL, NULL);
        cr_assert(L >= 5 && L <= 20);
        cr_assert_eq(m.t.n_periods, 3);
        for (int r = 0; r < 3; r++) {
            char name[8];
            snprintf(name, sizeof name, "seq%d", r);
            const sl_period *p = sl_trial_find(&m.t, name);
            cr_assert_not_null(p, "%s", name);
            cr_assert_eq(p->start, r * L);
            cr_assert_eq(p->end, (r + 1) * L);
        }
    }
    gen_close(&m);
    sl_config_free(c);

    /* more sequences than periods: one period */
    c = mc_config("task.name=memory", "task.n_repeat=20", NULL);
    gen_open(&m, &sl_task_memory, c, 1);
    for (int k = 0; k < 50; k++) {
        gen_next(&m);
        mem_check_trial(&m.t, 20, NULL, NULL);
        cr_assert_eq(m.t.n_periods, 1);
        cr_assert_str_eq(m.t.period[0].name, "sequences");
    }
    gen_close(&m);
    sl_config_free(c);
}

Test(misc_memory, long_fixed_lengths)
{
    const char *lens[2] = {"300", "1000"};
    for (int a = 0; a < 2; a++) {
        char lo[32], hi[32];
        snprintf(lo, sizeof lo, "task.min_len=%s", lens[a]);
        snprintf(hi, sizeof hi, "task.max_len=%s", lens[a]);
        sl_config *c = mc_config("task.name=memory", lo, hi, "task.n_repeat=2", NULL);
        mc_gen m;
        gen_open(&m, &sl_task_memory, c, 4);
        int L = atoi(lens[a]);
        cr_assert_eq(m.shape.T_max, 2 * L);
        for (int k = 0; k < 200; k++) {
            gen_next(&m);
            cr_assert_eq(mem_check_trial(&m.t, 2, NULL, NULL), L);
        }
        gen_close(&m);
        sl_config_free(c);
    }
}

Test(misc_memory, bad_parameters)
{
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    cr_assert_neq(sl_config_override(c, "task.min_len=2"), SL_OK, "a 2-step sequence is refused");
    sl_config_free(c);
    c = mc_config("task.name=memory", "task.min_len=10", "task.max_len=8", NULL);
    void *st = NULL;
    sl_taskgen_shape sh;
    cr_assert_eq(sl_task_memory.create(c, &st, &sh), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "task.max_len") != NULL, "%s", sl_last_error());
    sl_config_free(c);
}

/* ----------------------------------------------------------------- dataset */

static void write_npy(const char *dir, const char *name, sl_dtype dt, int ndim,
                      const int64_t *shape, const double *v)
{
    sl_array a;
    cr_assert_eq(sl_array_alloc(&a, dt, ndim, shape), SL_OK);
    size_t n = sl_array_numel(&a);
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case SL_F32: ((float *)a.data)[i] = (float)v[i]; break;
        case SL_F64: ((double *)a.data)[i] = v[i]; break;
        case SL_I32: ((int32_t *)a.data)[i] = (int32_t)v[i]; break;
        case SL_I64: ((int64_t *)a.data)[i] = (int64_t)v[i]; break;
        case SL_U8: ((uint8_t *)a.data)[i] = (uint8_t)v[i]; break;
        }
    }
    char *p = tu_path(dir, name);
    cr_assert_eq(sl_npy_write(p, &a), SL_OK, "%s", sl_last_error());
    free(p);
    sl_array_free(&a);
}

/* "key=dir/name" into buf */
static const char *kv(char *buf, size_t n, const char *key, const char *dir, const char *name)
{
    snprintf(buf, n, "%s=%s/%s", key, dir, name);
    return buf;
}

#define DN 10
#define DT 7
#define DI 3
#define DO 2

static double in_val(int i, int t, int k) { return i * 100 + t * 10 + k + 0.5; }
static double out_val(int i, int t, int k) { return -(i * 100 + t * 10 + k) - 0.25; }
static double mask_val(int i, int t) { return (i + t) % 3 == 0 ? 0.0 : 1.0 + 0.5 * (t % 2); }

/* inputs (N,T,I) f32, targets (N,T,O) f64, mask (N,T) f32, labels (N,T)
 * i32, conditions (N) i64, float labels (N,T) f64 */
static void write_dataset(const char *dir)
{
    static double u[DN * DT * DI], y[DN * DT * DO], m[DN * DT], lab[DN * DT], cond[DN];
    for (int i = 0; i < DN; i++) {
        cond[i] = i % 4;
        for (int t = 0; t < DT; t++) {
            for (int k = 0; k < DI; k++) u[(i * DT + t) * DI + k] = in_val(i, t, k);
            for (int k = 0; k < DO; k++) y[(i * DT + t) * DO + k] = out_val(i, t, k);
            m[i * DT + t] = mask_val(i, t);
            lab[i * DT + t] = (i + 2 * t) % 3;
        }
    }
    int64_t s3i[3] = {DN, DT, DI}, s3o[3] = {DN, DT, DO}, s2[2] = {DN, DT}, s1[1] = {DN};
    write_npy(dir, "in.npy", SL_F32, 3, s3i, u);
    write_npy(dir, "y.npy", SL_F64, 3, s3o, y);
    write_npy(dir, "mask.npy", SL_F32, 2, s2, m);
    write_npy(dir, "lab.npy", SL_I32, 2, s2, lab);
    write_npy(dir, "labf.npy", SL_F64, 2, s2, lab);
    write_npy(dir, "cond.npy", SL_I64, 1, s1, cond);
}

static sl_task *ds_create_ok(sl_config *c)
{
    sl_task *t = NULL;
    cr_assert_eq(sl_dataset_task_create(c, &t), SL_OK, "dataset: %s", sl_last_error());
    cr_assert_not_null(t);
    return t;
}

static void ds_expect_fail(sl_config *c, sl_status want, const char *frag, ...)
{
    va_list ap;
    va_start(ap, frag);
    tu_task_expect_fail_v(sl_dataset_task_create, "dataset", c, want, frag, ap);
    va_end(ap);
    sl_config_free(c);
}

/* Every row of every batch of a split equals the original trial. */
static int ds_check_split(sl_task *t, sl_split s, int labels, int *seen)
{
    int nb = t->ops->num_batches(t, s), rows = 0;
    for (int b = 0; b < nb; b++) {
        sl_batch bt;
        cr_assert_eq(t->ops->batch(t, s, b, NULL, &bt), SL_OK, "%s", sl_last_error());
        cr_assert_eq(bt.T, DT);
        cr_assert_eq(bt.n_in, DI);
        cr_assert(bt.B >= 1 && bt.B <= t->max_batch);
        for (int r = 0; r < bt.B; r++, rows++) {
            int i = sl_dataset_batch_trial(t, s, b, r);
            cr_assert(i >= 0 && i < DN);
            cr_assert_eq(seen[i], 0, "trial %d in two places", i);
            seen[i] = 1 + (int)s;
            cr_assert_not_null(bt.cond);
            cr_assert_eq(bt.cond[r], i % 4);
            for (int tt = 0; tt < DT; tt++) {
                for (int k = 0; k < DI; k++)
                    cr_assert_eq(bt.u[((size_t)r * DT + tt) * DI + k], (sl_real)in_val(i, tt, k));
                if (labels) {
                    cr_assert_null(bt.y);
                    cr_assert_eq(bt.labels[r * DT + tt], (i + 2 * tt) % 3);
                    cr_assert_eq(bt.mask[r * DT + tt], (sl_real)mask_val(i, tt));
                    cr_assert_eq(bt.decision[r * DT + tt], mask_val(i, tt) > 0);
                } else {
                    cr_assert_null(bt.labels);
                    for (int k = 0; k < DO; k++) {
                        cr_assert_eq(bt.y[((size_t)r * DT + tt) * DO + k], (sl_real)out_val(i, tt, k));
                        /* (N, T) mask broadcast over the outputs */
                        cr_assert_eq(bt.mask[((size_t)r * DT + tt) * DO + k],
                                     (sl_real)mask_val(i, tt));
                    }
                }
            }
        }
    }
    return rows;
}

Test(misc_dataset, npy_round_trip_values_and_split)
{
    char *dir = tu_tmpdir();
    write_dataset(dir);
    char a[512], b[512], m[512], cd[512];
    sl_config *c = mc_config("task.name=dataset", kv(a, sizeof a, "task.inputs", dir, "in.npy"),
                             kv(b, sizeof b, "task.targets", dir, "y.npy"),
                             kv(m, sizeof m, "task.mask", dir, "mask.npy"),
                             kv(cd, sizeof cd, "task.conditions_file", dir, "cond.npy"),
                             "task.val_fraction=0.3", "train.batch=4", "task.dt=5", NULL);
    sl_task *t = ds_create_ok(c);
    cr_assert(sl_dataset_is(t));
    cr_assert_eq(t->n_in, DI);
    cr_assert_eq(t->n_out, DO);
    cr_assert_eq(t->T, DT);
    cr_assert_eq(t->dt_ms, 5.0);
    cr_assert_eq(t->classification, 0);
    cr_assert_eq(t->max_batch, 4);
    cr_assert_eq(sl_dataset_num_trials(t, SL_SPLIT_TRAIN), 7);
    cr_assert_eq(sl_dataset_num_trials(t, SL_SPLIT_VAL), 3);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_TRAIN), 2);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_VAL), 1);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_HOLDOUT), 0);
    for (int s = 0; s < 2; s++)
        for (int i = 1; i < sl_dataset_num_trials(t, (sl_split)s); i++)
            cr_assert(sl_dataset_trial_index(t, (sl_split)s, i) >
                      sl_dataset_trial_index(t, (sl_split)s, i - 1), "stored in ascending order");
    int val_ids[3];
    for (int i = 0; i < 3; i++) val_ids[i] = sl_dataset_trial_index(t, SL_SPLIT_VAL, i);

    sl_rng r;
    sl_rng_seed(&r, 123);
    int order_changed = 0, first[DN];
    for (int e = 0; e < 3; e++) {
        int seen[DN] = {0};
        cr_assert_eq(t->ops->start_epoch(t, SL_SPLIT_TRAIN, &r), SL_OK);
        cr_assert_eq(t->ops->start_epoch(t, SL_SPLIT_VAL, &r), SL_OK);
        cr_assert_eq(ds_check_split(t, SL_SPLIT_TRAIN, 0, seen), 7);
        cr_assert_eq(ds_check_split(t, SL_SPLIT_VAL, 0, seen), 3);
        for (int i = 0; i < DN; i++) cr_assert(seen[i], "trial %d in no split", i);
        for (int i = 0; i < 7; i++) {
            int id = sl_dataset_batch_trial(t, SL_SPLIT_TRAIN, i / 4, i % 4);
            if (e == 0) first[i] = id;
            else order_changed |= id != first[i];
        }
        sl_batch bt;
        cr_assert_eq(t->ops->batch(t, SL_SPLIT_TRAIN, 1, NULL, &bt), SL_OK);
        cr_assert_eq(bt.B, 3, "last batch smaller");
    }
    cr_assert(order_changed, "TRAIN is reshuffled every epoch");
    sl_batch bt;
    cr_assert_eq(t->ops->batch(t, SL_SPLIT_TRAIN, 2, NULL, &bt), SL_EINVAL);
    sl_task_free(t);

    /* the same seed gives the same split; another run.seed another one */
    t = ds_create_ok(c);
    for (int i = 0; i < 3; i++) cr_assert_eq(sl_dataset_trial_index(t, SL_SPLIT_VAL, i), val_ids[i]);
    sl_task_free(t);
    int differs = 0;
    for (int seed = 2; seed < 12 && !differs; seed++) {
        char sv[32];
        snprintf(sv, sizeof sv, "run.seed=%d", seed);
        cr_assert_eq(sl_config_override(c, sv), SL_OK);
        t = ds_create_ok(c);
        for (int i = 0; i < 3; i++) differs |= sl_dataset_trial_index(t, SL_SPLIT_VAL, i) != val_ids[i];
        sl_task_free(t);
    }
    cr_assert(differs, "the split follows the seed");
    sl_config_free(c);
    tu_rmtree(dir);
}

Test(misc_dataset, labels_split_sizes_and_kinds)
{
    char *dir = tu_tmpdir();
    write_dataset(dir);
    char a[512], b[512], m[512], cd[512];
    sl_config *c = mc_config("task.name=dataset", kv(a, sizeof a, "task.inputs", dir, "in.npy"),
                             kv(b, sizeof b, "task.targets", dir, "lab.npy"),
                             kv(m, sizeof m, "task.mask", dir, "mask.npy"),
                             kv(cd, sizeof cd, "task.conditions_file", dir, "cond.npy"),
                             "train.batch=3", NULL);
    sl_task *t = ds_create_ok(c);
    cr_assert_eq(t->classification, 1);
    cr_assert_eq(t->n_out, 3);
    cr_assert_eq(sl_dataset_num_trials(t, SL_SPLIT_VAL), 2); /* round(0.2 · 10) */
    int seen[DN] = {0};
    cr_assert_eq(ds_check_split(t, SL_SPLIT_TRAIN, 1, seen), 8);
    cr_assert_eq(ds_check_split(t, SL_SPLIT_VAL, 1, seen), 2);
    sl_task_free(t);

    /* float labels: values under auto, labels when asked */
    cr_assert_eq(sl_config_override(c, kv(b, sizeof b, "task.targets", dir, "labf.npy")), SL_OK);
    t = ds_create_ok(c);
    cr_assert_eq(t->classification, 0);
    cr_assert_eq(t->n_out, 1);
    sl_task_free(t);
    cr_assert_eq(sl_config_override(c, "task.target_kind=labels"), SL_OK);
    t = ds_create_ok(c);
    cr_assert_eq(t->classification, 1);
    cr_assert_eq(t->n_out, 3);
    sl_task_free(t);
    cr_assert_eq(sl_config_override(c, "task.target_kind=auto"), SL_OK);

    /* split sizes */
    const char *fr[4] = {"0", "0.01", "0.5", "0.9"};
    const int want[4] = {0, 1, 5, 9};
    for (int k = 0; k < 4; k++) {
        char s[64];
        snprintf(s, sizeof s, "task.val_fraction=%s", fr[k]);
        cr_assert_eq(sl_config_override(c, s), SL_OK);
        t = ds_create_ok(c);
        cr_assert_eq(sl_dataset_num_trials(t, SL_SPLIT_VAL), want[k], "%s", s);
        cr_assert_eq(sl_dataset_num_trials(t, SL_SPLIT_TRAIN), DN - want[k]);
        cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_VAL), (want[k] + 2) / 3);
        sl_task_free(t);
    }
    /* two trials: one each */
    double u2[2 * 3] = {1, 2, 3, 4, 5, 6}, y2[2 * 3] = {0, 1, 0, 1, 1, 0};
    int64_t s2[2] = {2, 3};
    write_npy(dir, "in2.npy", SL_F64, 2, s2, u2);
    write_npy(dir, "y2.npy", SL_F32, 2, s2, y2);
    sl_config *c2 = mc_config(kv(a, sizeof a, "task.inputs", dir, "in2.npy"),
                              kv(b, sizeof b, "task.targets", dir, "y2.npy"),
                              "task.val_fraction=0.9", NULL);
    t = ds_create_ok(c2);
    cr_assert_eq(t->n_in, 1, "(trials, T) inputs are one channel");
    cr_assert_eq(sl_dataset_num_trials(t, SL_SPLIT_VAL), 1);
    cr_assert_eq(sl_dataset_num_trials(t, SL_SPLIT_TRAIN), 1);
    sl_batch bt;
    cr_assert_eq(t->ops->batch(t, SL_SPLIT_TRAIN, 0, NULL, &bt), SL_OK);
    cr_assert_null(bt.mask);
    cr_assert_null(bt.cond);
    sl_task_free(t);
    sl_config_free(c2);
    sl_config_free(c);
    tu_rmtree(dir);
}

Test(misc_dataset, mat_column_major_via_scipy)
{
    if (!tu_have_python_module("scipy.io") || !tu_have_python_module("numpy")) {
        cr_skip_test("scipy is not available to /usr/bin/python3");
        return;
    }
    char *dir = tu_tmpdir();
    char script[2048];
    snprintf(script, sizeof script,
             "import numpy as np, scipy.io as sio\n"
             "N, T, I, O = 6, 5, 3, 2\n"
             "i, t, k = np.meshgrid(np.arange(N), np.arange(T), np.arange(I), indexing='ij')\n"
             "u = i * 100.0 + t * 10 + k + 0.5\n"
             "i, t, k = np.meshgrid(np.arange(N), np.arange(T), np.arange(O), indexing='ij')\n"
             "y = (-(i * 100 + t * 10 + k) - 0.25).astype(np.float32)\n"
             "lab = ((np.arange(N)[:, None] + 2 * np.arange(T)[None, :]) %% 3).astype(np.int32)\n"
             "u1 = u[:, :, 0]\n"
             "cond = (np.arange(N) %% 4).reshape(N, 1).astype(float)\n"
             "sio.savemat('%s/d.mat', {'u': u, 'y': y, 'lab': lab, 'u1': u1, 'cond': cond})\n"
             "sio.savemat('%s/only.mat', {'inputs': u})\n"
             "sio.savemat('%s/cell.mat', {'c': np.array([[1, 2]], dtype=object)})\n",
             dir, dir, dir);
    cr_assert_eq(tu_python(dir, script), 0, "scipy.io.savemat failed");
    char a[512], b[512], cd[512];
    snprintf(a, sizeof a, "task.inputs=%s/d.mat:u", dir);
    snprintf(b, sizeof b, "task.targets=%s/d.mat:y", dir);
    snprintf(cd, sizeof cd, "task.conditions_file=%s/d.mat:cond", dir);
    sl_config *c = mc_config(a, b, cd, "task.val_fraction=0.5", "train.batch=10", NULL);
    sl_task *t = ds_create_ok(c);
    cr_assert_eq(t->n_in, 3);
    cr_assert_eq(t->n_out, 2);
    cr_assert_eq(t->T, 5);
    cr_assert_eq(t->classification, 0);
    for (int s = 0; s < 2; s++) {
        sl_batch bt;
        cr_assert_eq(t->ops->batch(t, (sl_split)s, 0, NULL, &bt), SL_OK);
        cr_assert_eq(bt.B, 3);
        for (int r = 0; r < 3; r++) {
            int i = sl_dataset_batch_trial(t, (sl_split)s, 0, r);
            cr_assert_eq(bt.cond[r], i % 4);
            for (int tt = 0; tt < 5; tt++) {
                for (int k = 0; k < 3; k++)
                    cr_assert_eq(bt.u[((size_t)r * 5 + tt) * 3 + k], (sl_real)(i * 100.0 + tt * 10 + k + 0.5),
                                 "u(%d,%d,%d) = %g", i, tt, k, (double)bt.u[((size_t)r * 5 + tt) * 3 + k]);
                for (int k = 0; k < 2; k++)
                    cr_assert_eq(bt.y[((size_t)r * 5 + tt) * 2 + k],
                                 (sl_real)(-(i * 100 + tt * 10 + k) - 0.25));
            }
        }
    }
    sl_task_free(t);

    /* int32 labels (classification), a 2-D input, a single-variable file */
    snprintf(a, sizeof a, "task.inputs=%s/d.mat:u1", dir);
    snprintf(b, sizeof b, "task.targets=%s/d.mat:lab", dir);
    cr_assert_eq(sl_config_override(c, a), SL_OK);
    cr_assert_eq(sl_config_override(c, b), SL_OK);
    t = ds_create_ok(c);
    cr_assert_eq(t->n_in, 1);
    cr_assert_eq(t->classification, 1);
    cr_assert_eq(t->n_out, 3);
    sl_batch bt;
    cr_assert_eq(t->ops->batch(t, SL_SPLIT_VAL, 0, NULL, &bt), SL_OK);
    for (int r = 0; r < bt.B; r++) {
        int i = sl_dataset_batch_trial(t, SL_SPLIT_VAL, 0, r);
        for (int tt = 0; tt < 5; tt++) {
            cr_assert_eq(bt.labels[r * 5 + tt], (i + 2 * tt) % 3);
            cr_assert_eq(bt.u[r * 5 + tt], (sl_real)(i * 100.0 + tt * 10 + 0.5));
        }
    }
    sl_task_free(t);
    snprintf(a, sizeof a, "task.inputs=%s/only.mat", dir);
    cr_assert_eq(sl_config_override(c, a), SL_OK);
    t = ds_create_ok(c);
    cr_assert_eq(t->n_in, 3);
    sl_task_free(t);

    /* errors: unknown variable, no variable named in a many-variable file, a cell */
    snprintf(a, sizeof a, "task.inputs=%s/d.mat:nope", dir);
    ds_expect_fail(mc_config(a, b, NULL), SL_EINVAL, "d.mat:nope", "no variable 'nope'", "u1", NULL);
    snprintf(a, sizeof a, "task.inputs=%s/d.mat", dir);
    ds_expect_fail(mc_config(a, b, NULL), SL_EINVAL, "name one as FILE.mat:variable", NULL);
    snprintf(a, sizeof a, "task.inputs=%s/cell.mat:c", dir);
    ds_expect_fail(mc_config(a, b, NULL), SL_EINVAL, "cell.mat:c", "cell array", NULL);
    snprintf(a, sizeof a, "task.inputs=%s/absent.mat:u", dir);
    ds_expect_fail(mc_config(a, b, NULL), SL_EIO, "cannot open", NULL);
    sl_config_free(c);
    tu_rmtree(dir);
}

Test(misc_dataset, errors)
{
    char *dir = tu_tmpdir();
    write_dataset(dir);
    char a[512], b[512], m[512], x[512];
    kv(a, sizeof a, "task.inputs", dir, "in.npy");
    kv(b, sizeof b, "task.targets", dir, "y.npy");

    /* not set, missing file, unknown extension */
    ds_expect_fail(mc_config(b, NULL), SL_EINVAL, "task.inputs is not set", NULL);
    ds_expect_fail(mc_config(a, NULL), SL_EINVAL, "task.targets is not set", NULL);
    ds_expect_fail(mc_config(kv(x, sizeof x, "task.inputs", dir, "missing.npy"), b, NULL), SL_EIO,
                   "task.inputs", "missing.npy", "cannot open", NULL);
    ds_expect_fail(mc_config(a, kv(x, sizeof x, "task.targets", dir, "y.csv"), NULL), SL_EINVAL,
                   "task.targets", "FILE.npy or FILE.mat:variable", NULL);

    /* wrong ndim */
    double v[64] = {0};
    int64_t s1[1] = {DN}, s4[4] = {DN, DT, 1, 1};
    write_npy(dir, "one.npy", SL_F32, 1, s1, v);
    ds_expect_fail(mc_config(kv(x, sizeof x, "task.inputs", dir, "one.npy"), b, NULL), SL_EINVAL,
                   "task.inputs", "one.npy", "shape (10)", NULL);
    double *big = calloc(DN * DT, sizeof *big);
    write_npy(dir, "four.npy", SL_F32, 4, s4, big);
    ds_expect_fail(mc_config(a, kv(x, sizeof x, "task.targets", dir, "four.npy"), NULL), SL_EINVAL,
                   "task.targets", "shape (10, 7, 1, 1)", NULL);

    /* mismatched trials and steps */
    int64_t s_n[3] = {DN - 1, DT, 2}, s_t[3] = {DN, DT + 1, 2};
    double *w = calloc(DN * (DT + 1) * 3, sizeof *w);
    write_npy(dir, "yn.npy", SL_F32, 3, s_n, w);
    write_npy(dir, "yt.npy", SL_F32, 3, s_t, w);
    ds_expect_fail(mc_config(a, kv(x, sizeof x, "task.targets", dir, "yn.npy"), NULL), SL_EINVAL,
                   "yn.npy", "9 trials", "10", NULL);
    ds_expect_fail(mc_config(a, kv(x, sizeof x, "task.targets", dir, "yt.npy"), NULL), SL_EINVAL,
                   "yt.npy", "8 steps", "7", NULL);
    int64_t sm[2] = {DN, DT + 1};
    write_npy(dir, "mt.npy", SL_F32, 2, sm, w);
    ds_expect_fail(mc_config(a, b, kv(m, sizeof m, "task.mask", dir, "mt.npy"), NULL), SL_EINVAL,
                   "task.mask", "8 steps", NULL);
    int64_t sm3[3] = {DN, DT, 3};
    write_npy(dir, "m3.npy", SL_F32, 3, sm3, w);
    ds_expect_fail(mc_config(a, b, kv(m, sizeof m, "task.mask", dir, "m3.npy"), NULL), SL_EINVAL,
                   "task.mask", "(10, 7, 3)", NULL);
    int64_t sc[1] = {DN + 1};
    write_npy(dir, "c11.npy", SL_I32, 1, sc, w);
    ds_expect_fail(mc_config(a, b, kv(m, sizeof m, "task.conditions_file", dir, "c11.npy"), NULL),
                   SL_EINVAL, "task.conditions_file", "one condition per trial", NULL);

    /* NaN / Inf, located */
    double *u = calloc(DN * DT * DI, sizeof *u);
    u[(2 * DT + 3) * DI + 1] = NAN;
    int64_t si[3] = {DN, DT, DI};
    write_npy(dir, "nan.npy", SL_F32, 3, si, u);
    ds_expect_fail(mc_config(kv(x, sizeof x, "task.inputs", dir, "nan.npy"), b, NULL), SL_ENUMERIC,
                   "nan.npy", "NaN at trial 2, step 3, channel 1", NULL);
    double *y = calloc(DN * DT * DO, sizeof *y);
    y[(5 * DT + 6) * DO + 0] = INFINITY;
    int64_t so[3] = {DN, DT, DO};
    write_npy(dir, "inf.npy", SL_F64, 3, so, y);
    ds_expect_fail(mc_config(a, kv(x, sizeof x, "task.targets", dir, "inf.npy"), NULL), SL_ENUMERIC,
                   "task.targets", "Inf at trial 5, step 6, channel 0", NULL);

    /* labels: negative, all zero; mask negative; conditions negative */
    double *l = calloc(DN * DT, sizeof *l);
    int64_t s2[2] = {DN, DT};
    write_npy(dir, "zero.npy", SL_I64, 2, s2, l);
    ds_expect_fail(mc_config(a, kv(x, sizeof x, "task.targets", dir, "zero.npy"), NULL), SL_EINVAL,
                   "every label is 0", NULL);
    l[4 * DT + 2] = -1;
    l[0] = 2;
    write_npy(dir, "neg.npy", SL_I32, 2, s2, l);
    ds_expect_fail(mc_config(a, kv(x, sizeof x, "task.targets", dir, "neg.npy"), NULL), SL_EINVAL,
                   "neg.npy", "label -1 at trial 4, step 2", "negative", NULL);
    write_npy(dir, "negm.npy", SL_F32, 2, s2, l);
    ds_expect_fail(mc_config(a, b, kv(m, sizeof m, "task.mask", dir, "negm.npy"), NULL), SL_EINVAL,
                   "task.mask", "negative weight", NULL);
    double cneg[DN] = {0, 1, 2, -3, 0, 0, 0, 0, 0, 0};
    write_npy(dir, "cneg.npy", SL_I32, 1, s1, cneg);
    ds_expect_fail(mc_config(a, b, kv(m, sizeof m, "task.conditions_file", dir, "cneg.npy"), NULL),
                   SL_EINVAL, "condition -3 of trial 3", NULL);
    l[4 * DT + 2] = 0.5;
    write_npy(dir, "half.npy", SL_F64, 2, s2, l);
    ds_expect_fail(mc_config(a, kv(x, sizeof x, "task.targets", dir, "half.npy"),
                             "task.target_kind=labels", NULL),
                   SL_EINVAL, "not a whole number", NULL);

    /* fewer than 2 trials */
    int64_t one[3] = {1, DT, DI}, oney[3] = {1, DT, DO};
    write_npy(dir, "in1.npy", SL_F32, 3, one, u);
    write_npy(dir, "y1.npy", SL_F32, 3, oney, w);
    ds_expect_fail(mc_config(kv(x, sizeof x, "task.inputs", dir, "in1.npy"),
                             kv(m, sizeof m, "task.targets", dir, "y1.npy"), NULL),
                   SL_EINVAL, "1 trial", "at least 2", NULL);

    /* a corrupt .npy names the file */
    char *p = tu_path(dir, "bad.npy");
    cr_assert_eq(tu_write_file(p, "not an npy file at all"), 0);
    free(p);
    ds_expect_fail(mc_config(kv(x, sizeof x, "task.inputs", dir, "bad.npy"), b, NULL), SL_EFORMAT,
                   "bad.npy", NULL);
    /* a file that is not a .mat */
    p = tu_path(dir, "bad.mat");
    cr_assert_eq(tu_write_file(p, "not a mat file either, just some text bytes here......."), 0);
    free(p);
    ds_expect_fail(mc_config(kv(x, sizeof x, "task.inputs", dir, "bad.mat:u"), b, NULL), SL_EFORMAT,
                   "bad.mat", NULL);
    free(big);
    free(w);
    free(u);
    free(y);
    free(l);
    tu_rmtree(dir);
}

/* ------------------------------------------------- through sl_task_create */

Test(misc_tasks, created_by_name)
{
    /* flip-flop: regression, 3 in / 3 out, 64 steps, mask 1 everywhere */
    sl_config *c = mc_config("task.name=flipflop", "train.batch=8", NULL);
    sl_task *t = NULL;
    cr_assert_eq(sl_task_create(c, &t), SL_OK, "%s", sl_last_error());
    cr_assert_eq(t->n_in, 3);
    cr_assert_eq(t->n_out, 3);
    cr_assert_eq(t->T, 64);
    cr_assert_eq(t->classification, 0);
    sl_rng r;
    sl_rng_seed(&r, 1);
    cr_assert_eq(t->ops->start_epoch(t, SL_SPLIT_TRAIN, &r), SL_OK);
    sl_batch b;
    cr_assert_eq(t->ops->batch(t, SL_SPLIT_TRAIN, 0, &r, &b), SL_OK, "%s", sl_last_error());
    cr_assert_eq(b.B, 8);
    cr_assert_not_null(b.y);
    for (int i = 0; i < b.B * b.T; i++) {
        float held[3];
        if (i % b.T == 0) memset(held, 0, sizeof held);
        for (int k = 0; k < 3; k++) {
            if (b.u[i * 3 + k] != 0) held[k] = (float)b.u[i * 3 + k];
            cr_assert_eq(b.y[i * 3 + k], (sl_real)held[k]);
            if (b.mask) cr_assert_eq(b.mask[i * 3 + k], 1);
        }
    }
    sl_task_free(t);
    sl_config_free(c);

    /* memory: padded to max_len·n_repeat, mask 0 on the padding */
    c = mc_config("task.name=memory", "task.n_repeat=3", "train.batch=16", NULL);
    cr_assert_eq(sl_task_create(c, &t), SL_OK, "%s", sl_last_error());
    cr_assert_eq(t->n_in, 3);
    cr_assert_eq(t->n_out, 1);
    cr_assert_eq(t->T, 57);
    cr_assert_eq(t->ops->start_epoch(t, SL_SPLIT_TRAIN, &r), SL_OK);
    cr_assert_eq(t->ops->batch(t, SL_SPLIT_TRAIN, 0, &r, &b), SL_OK, "%s", sl_last_error());
    cr_assert_not_null(b.mask);
    for (int row = 0; row < b.B; row++) {
        int on = 0, reports = 0;
        for (int s = 0; s < b.T; s++) {
            on += b.mask[row * b.T + s] > 0;
            reports += b.u[((size_t)row * b.T + s) * 3 + 2] == 1;
        }
        cr_assert_eq(on % 3, 0, "row %d: %d unmasked steps", row, on);
        cr_assert(on / 3 >= 5 && on / 3 <= 19);
        cr_assert_eq(reports, 3);
    }
    sl_task_free(t);
    sl_config_free(c);
}
