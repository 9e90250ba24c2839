/* test_gen_task.c — trial generators as batch sources (src/tasks/gen_task.c),
 * the registry, and sample files (src/tasks/sample.c), with small fake
 * generators defined here: batch shapes; padding has mask 0; identical seeds
 * give bit-identical batches (in any batch order), another task.seed
 * different ones; validation identical across epochs; stream mode
 * concatenates trials and carries a cut trial into the next batch;
 * regression targets and masks; scores; sample files read back with
 * sl_npy_read; every registered generator builds batches of its shape. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "silico.h"
#include "tasks/gen_task.h"
#include "testutil.h"

/* ------------------------------------------------------ fake generators */

/* "fake": dt 10 ms; period a (20, 30 or 40 ms: 2-4 steps, or 20 ms when
 * fixed) then b (10 ms); T_max 5. ob channel 0 = step within the trial,
 * channel 1 = a per-trial uniform id over the whole trial; label 1 + choice
 * in b, decided at b's last step; variables ground_truth, len, id. */
typedef struct {
    int fixed, continuous;
} fake_state;

static const char *const FAKE_OBS[] = {"step", "id"};
static const char *const FAKE_OUT[] = {"fixate", "left", "right"};

static sl_status fake_create_with(void **state, sl_taskgen_shape *sh, int fixed, int continuous)
{
    fake_state *s = calloc(1, sizeof *s);
    if (!s) return SL_ENOMEM;
    s->fixed = fixed;
    s->continuous = continuous;
    *state = s;
    sh->n_obs = 2;
    sh->n_out = continuous ? 2 : 3;
    sh->classification = !continuous;
    sh->T_max = 5;
    sh->obs_names = FAKE_OBS;
    sh->out_names = FAKE_OUT;
    sh->dt = 10;
    return SL_OK;
}

static sl_status fake_create(const sl_config *c, void **st, sl_taskgen_shape *sh)
{
    (void)c;
    return fake_create_with(st, sh, 0, 0);
}
static sl_status fixed_create(const sl_config *c, void **st, sl_taskgen_shape *sh)
{
    (void)c;
    return fake_create_with(st, sh, 1, 0);
}
static sl_status cont_create(const sl_config *c, void **st, sl_taskgen_shape *sh)
{
    (void)c;
    return fake_create_with(st, sh, 0, 1);
}

static sl_status fake_new_trial(void *state, sl_trial *t)
{
    fake_state *s = state;
    static const double ch[] = {20, 30, 40};
    sl_duration a = {.kind = SL_DUR_CHOICE, .choices = ch, .n_choices = 3};
    sl_duration fa = {.kind = SL_DUR_FIXED, .a = 20};
    sl_trial_add_period(t, "a", sl_trial_sample(t, s->fixed ? &fa : &a), NULL);
    sl_trial_add_period(t, "b", 10, NULL);
    int choice = (int)sl_rng_below(t->rng, 2);
    double id = sl_rng_uniform(t->rng);
    for (int k = 0; k < t->T; k++) t->ob[k * t->n_obs] = (float)k;
    sl_trial_add_ob(t, (float)id, NULL, 1);
    if (s->continuous) {
        sl_trial_set_y(t, choice ? 1.0f : -1.0f, "b", choice);
        sl_trial_set_mask(t, 0.5f, "a");
    } else {
        sl_trial_set_gt(t, 1 + choice, "b");
        sl_trial_decision(t, "b", -1);
    }
    sl_trial_set_var(t, "ground_truth", 1 + choice);
    sl_trial_set_var(t, "len", t->T);
    sl_trial_set_var(t, "id", id);
    return SL_OK;
}

/* score: count trials, sum z[last step][0] */
static void fake_score(void *state, const sl_trial *t, const sl_real *z, double *sum, double *count)
{
    (void)state;
    *sum += (double)z[(size_t)(t->T - 1) * t->n_out];
    *count += 1;
}

static void fake_destroy(void *state) { free(state); }

static const sl_taskgen FAKE = {"fake", "a fake task", fake_create, fake_new_trial, fake_score,
                                "fake_score", fake_destroy};
static const sl_taskgen FIXED = {"fixed", "fixed-length fake", fixed_create, fake_new_trial,
                                 fake_score, "fake_score", fake_destroy};
static const sl_taskgen CONT = {"cont", "continuous fake", cont_create, fake_new_trial, NULL, NULL,
                                fake_destroy};

/* ----------------------------------------------------------- helpers */

static sl_config *config(const char *extra[])
{
    sl_config *c;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    cr_assert_eq(sl_config_set(c, "train.batch", "4", "test"), SL_OK);
    cr_assert_eq(sl_config_set(c, "task.batches_per_epoch", "3", "test"), SL_OK);
    cr_assert_eq(sl_config_set(c, "task.val_trials", "10", "test"), SL_OK);
    cr_assert_eq(sl_config_set(c, "task.seed", "17", "test"), SL_OK);
    for (int i = 0; extra && extra[i]; i++)
        cr_assert_eq(sl_config_override(c, extra[i]), SL_OK, "%s", sl_last_error());
    return c;
}

static sl_task *make(const sl_taskgen *g, const char *extra[])
{
    sl_config *c = config(extra);
    sl_task *t;
    cr_assert_eq(sl_gen_task_create(g, c, &t), SL_OK, "%s", sl_last_error());
    sl_config_free(c);
    return t;
}

/* A copy of a batch's arrays, to compare batches. */
typedef struct {
    int B, T;
    sl_real u[4 * 64 * 2], mask[4 * 64 * 2], y[4 * 64 * 2];
    int labels[4 * 64], cond[4];
    unsigned char dec[4 * 64];
} snap;

static void take(sl_task *t, sl_split split, int i, snap *s)
{
    sl_batch b;
    cr_assert_eq(t->ops->batch(t, split, i, NULL, &b), SL_OK, "%s", sl_last_error());
    memset(s, 0, sizeof *s);
    s->B = b.B;
    s->T = b.T;
    size_t n = (size_t)b.B * b.T;
    cr_assert(n <= 4 * 64);
    memcpy(s->u, b.u, n * b.n_in * sizeof(sl_real));
    memcpy(s->cond, b.cond, (size_t)b.B * sizeof(int));
    if (b.labels) {
        memcpy(s->mask, b.mask, n * sizeof(sl_real));
        memcpy(s->labels, b.labels, n * sizeof(int));
        memcpy(s->dec, b.decision, n);
    } else {
        memcpy(s->mask, b.mask, n * b.n_out * sizeof(sl_real));
        memcpy(s->y, b.y, n * b.n_out * sizeof(sl_real));
    }
}

static int same(const snap *a, const snap *b) { return memcmp(a, b, sizeof *a) == 0; }

/* ------------------------------------------------------------- tests */

Test(gen_task, trial_batches_have_shapes_and_padding)
{
    sl_task *t = make(&FAKE, NULL);
    cr_assert_eq(t->T, 5);
    cr_assert_eq(t->n_in, 2);
    cr_assert_eq(t->n_out, 3);
    cr_assert_eq(t->max_batch, 4);
    cr_assert_float_eq(t->dt_ms, 10, 0);
    cr_assert_str_eq(t->ops->name, "fake");
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_TRAIN), 3);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_VAL), 3, "10 trials in batches of 4");
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_HOLDOUT), 0);
    sl_rng r;
    sl_rng_seed(&r, 1);
    cr_assert_eq(t->ops->start_epoch(t, SL_SPLIT_TRAIN, &r), SL_OK);
    int lens[6] = {0};
    for (int split = 0; split < 2; split++)
        for (int i = 0; i < 3; i++) {
            sl_batch b;
            cr_assert_eq(t->ops->batch(t, (sl_split)split, i, &r, &b), SL_OK);
            cr_assert_eq(b.B, split == 1 && i == 2 ? 2 : 4);
            cr_assert_eq(b.T, 5);
            cr_assert_null(b.y);
            cr_assert(b.labels && b.mask && b.decision && b.cond && b.u);
            for (int row = 0; row < b.B; row++) {
                const sl_trial_var *v;
                int nv = sl_gen_task_row_vars(t, row, &v);
                cr_assert_eq(nv, 3);
                int len = (int)v[1].value, gt = (int)v[0].value;
                cr_assert(len >= 3 && len <= 5);
                lens[len]++;
                cr_assert_eq(b.cond[row], gt);
                const sl_trial *tr = sl_gen_task_row_trial(t, row);
                cr_assert(tr && tr->T == len);
                for (int s = 0; s < 5; s++) {
                    size_t k = (size_t)row * 5 + s;
                    if (s < len) {
                        cr_assert_eq(b.mask[k], 1);
                        cr_assert_eq(b.u[k * 2], (sl_real)s);
                        cr_assert_eq(b.labels[k], s == len - 1 ? gt : 0);
                        cr_assert_eq(b.decision[k], s == len - 1);
                    } else {
                        cr_assert_eq(b.mask[k], 0, "padding has mask 0");
                        cr_assert_eq(b.labels[k], 0);
                        cr_assert_eq(b.decision[k], 0);
                        cr_assert_eq(b.u[k * 2], 0);
                        cr_assert_eq(b.u[k * 2 + 1], 0);
                    }
                }
            }
        }
    cr_assert(lens[3] && lens[4] && lens[5], "variable lengths");
    sl_batch b;
    cr_assert_neq(t->ops->batch(t, SL_SPLIT_TRAIN, 3, NULL, &b), SL_OK, "out of range");
    cr_assert_neq(t->ops->batch(t, SL_SPLIT_HOLDOUT, 0, NULL, &b), SL_OK);
    sl_task_free(t);
}

Test(gen_task, same_seeds_same_batches_in_any_order)
{
    sl_task *a = make(&FAKE, NULL), *b = make(&FAKE, NULL);
    static snap x, y;
    for (int epoch = 0; epoch < 2; epoch++) {
        sl_rng ra, rb;
        sl_rng_seed(&ra, 100 + epoch);
        sl_rng_seed(&rb, 100 + epoch);
        a->ops->start_epoch(a, SL_SPLIT_TRAIN, &ra);
        b->ops->start_epoch(b, SL_SPLIT_TRAIN, &rb);
        /* a in order, b backwards with a validation batch in between */
        for (int i = 0; i < 3; i++) {
            take(a, SL_SPLIT_TRAIN, i, &x);
            take(b, SL_SPLIT_VAL, 1, &y);
            take(b, SL_SPLIT_TRAIN, 2 - i, &y);
            take(b, SL_SPLIT_TRAIN, i, &y);
            cr_assert(same(&x, &y), "epoch %d batch %d", epoch, i);
        }
    }
    sl_task_free(a);
    sl_task_free(b);
}

Test(gen_task, seeds_change_trials_validation_is_fixed)
{
    const char *other[] = {"task.seed=18", NULL};
    sl_task *a = make(&FAKE, NULL), *b = make(&FAKE, other);
    static snap x, y, v0, v1;
    take(a, SL_SPLIT_TRAIN, 0, &x);
    take(b, SL_SPLIT_TRAIN, 0, &y);
    cr_assert(!same(&x, &y), "another task.seed, other trials");
    take(a, SL_SPLIT_VAL, 0, &v0);
    take(b, SL_SPLIT_VAL, 0, &y);
    cr_assert(!same(&v0, &y));
    /* epochs: fresh training trials, the same validation trials */
    sl_rng r;
    sl_rng_seed(&r, 3);
    a->ops->start_epoch(a, SL_SPLIT_TRAIN, &r);
    take(a, SL_SPLIT_TRAIN, 0, &x);
    a->ops->start_epoch(a, SL_SPLIT_TRAIN, &r);
    take(a, SL_SPLIT_TRAIN, 0, &y);
    cr_assert(!same(&x, &y), "a new epoch has new trials");
    a->ops->start_epoch(a, SL_SPLIT_VAL, &r);
    take(a, SL_SPLIT_VAL, 0, &v1);
    cr_assert(same(&v0, &v1), "validation identical across epochs");
    /* without an rng, epoch e holds training trials e*B*bpe.. (stream 2k) */
    sl_task *c = make(&FAKE, NULL);
    c->ops->start_epoch(c, SL_SPLIT_TRAIN, NULL);
    take(c, SL_SPLIT_TRAIN, 1, &x);
    take(a, SL_SPLIT_TRAIN, 1, &y);
    cr_assert(!same(&x, &y));
    const sl_trial *tr = sl_gen_task_row_trial(c, 0);
    sl_trial ref;
    cr_assert_eq(sl_trial_init(&ref, 10, 2, 3, 1, 5), SL_OK);
    sl_rng rr;
    sl_rng_seed_stream(&rr, 17, 2 * 4); /* trial k = 1*4 + 0 */
    sl_trial_begin(&ref, &rr);
    void *st = NULL;
    sl_taskgen_shape sh;
    cr_assert_eq(FAKE.create(NULL, &st, &sh), SL_OK);
    FAKE.new_trial(st, &ref);
    cr_assert_eq(ref.T, tr->T);
    cr_assert_eq(memcmp(ref.ob, tr->ob, (size_t)ref.T * 2 * sizeof(float)), 0);
    fake_destroy(st);
    sl_trial_free(&ref);
    sl_task_free(a);
    sl_task_free(b);
    sl_task_free(c);
}

Test(gen_task, stream_mode_concatenates_trials)
{
    const char *kv[] = {"task.batching=stream", "task.stream_len=7", NULL};
    sl_task *t = make(&FIXED, kv); /* trials of 3 steps */
    cr_assert_eq(t->T, 7);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_TRAIN), 3);
    /* validation: 10 trials over 4 rows, 3 per row at most = 9 steps -> 2 windows */
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_VAL), 2);
    sl_rng r;
    sl_rng_seed(&r, 9);
    /* row 0 over two epochs (6 windows of 7 = 42 steps = 14 trials of 3) */
    double ids[14] = {0};
    static snap w[6];
    for (int e = 0; e < 2; e++) {
        t->ops->start_epoch(t, SL_SPLIT_TRAIN, &r);
        for (int i = 0; i < 3; i++) take(t, SL_SPLIT_TRAIN, i, &w[e * 3 + i]);
    }
    for (int g = 0; g < 42; g++) {
        const snap *s = &w[g / 7];
        int k = g % 7;
        cr_assert_eq(s->B, 4);
        cr_assert_eq(s->u[k * 2], (sl_real)(g % 3), "step within the trial at stream step %d", g);
        cr_assert_eq(s->mask[k], 1);
        cr_assert_eq(s->dec[k], g % 3 == 2);
        double id = s->u[k * 2 + 1];
        if (g % 3 == 0)
            ids[g / 3] = id;
        else
            cr_assert_eq(id, ids[g / 3], "one trial, one id, across window edges (step %d)", g);
    }
    for (int k = 1; k < 14; k++) cr_assert_neq(ids[k], ids[k - 1], "a new trial every 3 steps");
    /* rows are different streams */
    cr_assert_neq(w[0].u[1], w[0].u[7 * 2 + 1]);
    sl_task_free(t);
    /* random access: one task in order, one backwards with a validation
     * batch in between, give the same windows */
    static snap a0, a2, b0, b2;
    sl_task *p = make(&FIXED, kv), *q = make(&FIXED, kv);
    sl_rng rp, rq;
    sl_rng_seed(&rp, 4);
    sl_rng_seed(&rq, 4);
    p->ops->start_epoch(p, SL_SPLIT_TRAIN, &rp);
    q->ops->start_epoch(q, SL_SPLIT_TRAIN, &rq);
    take(p, SL_SPLIT_TRAIN, 0, &a0);
    take(p, SL_SPLIT_TRAIN, 1, &a2);
    take(p, SL_SPLIT_TRAIN, 2, &a2);
    take(q, SL_SPLIT_TRAIN, 2, &b2);
    take(q, SL_SPLIT_VAL, 1, &b0);
    take(q, SL_SPLIT_TRAIN, 0, &b0);
    cr_assert(same(&a0, &b0));
    cr_assert(same(&a2, &b2));
    /* validation windows: identical each time; the tail is padding */
    static snap v1, v2;
    take(p, SL_SPLIT_VAL, 1, &v1);
    p->ops->start_epoch(p, SL_SPLIT_TRAIN, &rp);
    take(p, SL_SPLIT_TRAIN, 0, &a0);
    take(p, SL_SPLIT_VAL, 1, &v2);
    cr_assert(same(&v1, &v2));
    /* rows 0, 1 hold 3 trials (9 steps): window 1 = steps 7, 8 then padding */
    for (int k = 0; k < 7; k++) cr_assert_eq(v1.mask[k], k < 2 ? 1 : 0, "k %d", k);
    /* rows 2, 3 hold 2 trials (6 steps): nothing in window 1 */
    for (int k = 0; k < 7; k++) cr_assert_eq(v1.mask[2 * 7 + k], 0);
    /* score: whole trials inside window 0 of validation (two per row) */
    sl_real z[4 * 7 * 3] = {0};
    double sum = 0, count = 0;
    cr_assert_eq(sl_gen_task_score(p, SL_SPLIT_VAL, 0, z, &sum, &count), SL_OK);
    cr_assert_float_eq(count, 8, 0);
    sl_task_free(p);
    sl_task_free(q);
}

Test(gen_task, regression_targets_and_broadcast_mask)
{
    sl_task *t = make(&CONT, NULL);
    cr_assert_eq(t->n_out, 2);
    sl_batch b;
    cr_assert_eq(t->ops->batch(t, SL_SPLIT_TRAIN, 0, NULL, &b), SL_OK);
    cr_assert(b.y && b.mask);
    cr_assert_null(b.labels);
    cr_assert_null(b.decision);
    for (int row = 0; row < b.B; row++) {
        const sl_trial_var *v;
        sl_gen_task_row_vars(t, row, &v);
        int gt = (int)v[0].value, len = (int)v[1].value;
        for (int s = 0; s < 5; s++)
            for (int j = 0; j < 2; j++) {
                size_t k = ((size_t)row * 5 + s) * 2 + j;
                float m = s >= len ? 0.0f : s < len - 1 ? 0.5f : 1.0f;
                cr_assert_eq(b.mask[k], m, "row %d step %d out %d", row, s, j);
                float y = (s == len - 1 && j == gt - 1) ? (gt == 2 ? 1.0f : -1.0f) : 0.0f;
                cr_assert_eq(b.y[k], y);
            }
    }
    double sum = 0, count = 0;
    sl_real z[4 * 5 * 2] = {0};
    cr_assert_eq(sl_gen_task_score(t, SL_SPLIT_TRAIN, 0, z, &sum, &count), SL_OK);
    cr_assert_eq(count, 0, "no score callback: nothing added");
    sl_task_free(t);
}

Test(gen_task, score_visits_each_trial)
{
    sl_task *t = make(&FAKE, NULL);
    sl_real z[4 * 5 * 3];
    for (int i = 0; i < 4 * 5 * 3; i++) z[i] = (sl_real)i;
    double sum = 0, count = 0;
    cr_assert_eq(sl_gen_task_score(t, SL_SPLIT_VAL, 2, z, &sum, &count), SL_OK);
    cr_assert_float_eq(count, 2, 0, "the last validation batch holds 2 trials");
    double want = 0;
    for (int row = 0; row < 2; row++) {
        const sl_trial *tr = sl_gen_task_row_trial(t, row);
        want += z[((size_t)row * 5 + tr->T - 1) * 3];
    }
    cr_assert_float_eq(sum, want, 0);
    sl_task_free(t);
}

Test(gen_task, sample_files_read_back)
{
    char *dir = tu_tmpdir();
    char *out = tu_path(dir, "s");
    sl_config *c = config(NULL);
    cr_assert_eq(sl_taskgen_sample(&FAKE, c, 6, out), SL_OK, "%s", sl_last_error());
    const char *names[] = {"ob.npy", "gt.npy", "mask.npy", "decision.npy"};
    sl_array a[4];
    for (int i = 0; i < 4; i++) {
        char *p = tu_path(out, names[i]);
        cr_assert_eq(sl_npy_read(p, &a[i]), SL_OK, "%s", sl_last_error());
        free(p);
    }
    int T = (int)a[0].shape[1];
    cr_assert(T >= 3 && T <= 5);
    cr_assert_eq(a[0].ndim, 3);
    cr_assert_eq(a[0].shape[0], 6);
    cr_assert_eq(a[0].shape[2], 2);
    cr_assert_eq(a[0].dtype, SL_F32);
    cr_assert_eq(a[1].dtype, SL_I32);
    cr_assert_eq(a[2].dtype, SL_F32);
    cr_assert_eq(a[3].dtype, SL_U8);
    for (int i = 1; i < 4; i++) {
        cr_assert_eq(a[i].ndim, 2);
        cr_assert_eq(a[i].shape[0], 6);
        cr_assert_eq(a[i].shape[1], T);
    }
    /* trial k is validation trial k: compare with the task's first batch */
    sl_task *t = make(&FAKE, NULL);
    sl_batch b;
    cr_assert_eq(t->ops->batch(t, SL_SPLIT_VAL, 0, NULL, &b), SL_OK);
    const float *ob = a[0].data, *mask = a[2].data;
    const int32_t *gt = a[1].data;
    for (int k = 0; k < 4; k++)
        for (int s = 0; s < T; s++) {
            cr_assert_eq((sl_real)mask[k * T + s], b.mask[k * 5 + s]);
            cr_assert_eq(gt[k * T + s], b.labels[k * 5 + s]);
            cr_assert_eq((sl_real)ob[(k * T + s) * 2 + 1], b.u[(k * 5 + s) * 2 + 1]);
        }
    for (int i = 0; i < 4; i++) sl_array_free(&a[i]);
    char *text = NULL, *p = tu_path(out, "trials.json");
    text = tu_read_file(p, NULL);
    cr_assert(text && strstr(text, "ground_truth") && strstr(text, "\"id\""));
    free(text);
    free(p);
    p = tu_path(out, "periods.json");
    text = tu_read_file(p, NULL);
    cr_assert(text && strstr(text, "\"steps\"") && strstr(text, "\"b\""));
    free(text);
    free(p);
    p = tu_path(out, "info.json");
    text = tu_read_file(p, NULL);
    cr_assert(text && strstr(text, "\"fake\"") && strstr(text, "\"right\"") &&
              strstr(text, "task.batching"));
    free(text);
    free(p);
    /* never overwrite */
    cr_assert_eq(sl_taskgen_sample(&FAKE, c, 2, out), SL_EEXIST);
    /* continuous: y.npy instead of gt.npy */
    char *out2 = tu_path(dir, "c");
    cr_assert_eq(sl_taskgen_sample(&CONT, c, 3, out2), SL_OK, "%s", sl_last_error());
    p = tu_path(out2, "y.npy");
    sl_array y;
    cr_assert_eq(sl_npy_read(p, &y), SL_OK);
    cr_assert_eq(y.ndim, 3);
    cr_assert_eq(y.shape[0], 3);
    cr_assert_eq(y.shape[2], 2);
    sl_array_free(&y);
    free(p);
    p = tu_path(out2, "gt.npy");
    struct stat sb;
    cr_assert_neq(stat(p, &sb), 0);
    free(p);
    sl_task_free(t);
    sl_config_free(c);
    free(out);
    free(out2);
    tu_rmtree(dir);
}

Test(gen_task, every_registered_generator_builds_batches)
{
    int n = 0;
    for (const sl_taskgen *const *g = sl_taskgens(); *g; g++, n++) {
        cr_assert_eq(sl_taskgen_find((*g)->name), *g);
        cr_assert((*g)->description && (*g)->description[0]);
        const char *name;
        int listed = 0;
        for (int i = 0; sl_task_info(i, &name, NULL); i++) listed |= !strcmp(name, (*g)->name);
        cr_assert(listed, "%s in sl_task_info", (*g)->name);
        sl_config *c = config(NULL);
        char kv[64];
        snprintf(kv, sizeof kv, "task.name=%s", (*g)->name);
        cr_assert_eq(sl_config_override(c, kv), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_config_override(c, "task.val_trials=4"), SL_OK);
        sl_task *t;
        cr_assert_eq(sl_task_create(c, &t), SL_OK, "%s: %s", (*g)->name, sl_last_error());
        cr_assert(sl_gen_task_is(t));
        const sl_taskgen_shape *sh = sl_gen_task_shape(t);
        cr_assert_eq(t->T, sh->T_max);
        sl_batch b;
        for (int split = 0; split < 2; split++) {
            cr_assert_eq(t->ops->batch(t, (sl_split)split, 0, NULL, &b), SL_OK, "%s: %s",
                         (*g)->name, sl_last_error());
            cr_assert_eq(b.T, sh->T_max);
            cr_assert_eq(b.n_in, sh->n_obs);
            cr_assert_eq(b.B, 4);
            for (size_t i = 0; i < (size_t)b.B * b.T * b.n_in; i++) cr_assert(isfinite(b.u[i]));
        }
        if ((*g)->score) {
            size_t nz = (size_t)b.B * b.T * b.n_out;
            sl_real *z = calloc(nz, sizeof *z);
            double sum = 0, count = 0;
            cr_assert_eq(sl_gen_task_score(t, SL_SPLIT_TRAIN, 0, z, &sum, &count), SL_OK);
            cr_assert_gt(count, 0, "%s: scored trials", (*g)->name);
            cr_assert(isfinite(sum));
            free(z);
        }
        sl_task_free(t);
        sl_config_free(c);
    }
    cr_assert_null(sl_taskgen_find("no_such_task"));
    (void)n;
}

Test(gen_task, unknown_names_list_the_known_ones)
{
    sl_config *c;
    sl_config_new(&c);
    char *dir = tu_tmpdir(), *out = tu_path(dir, "x");
    cr_assert_eq(sl_task_sample(c, 2, out), SL_EINVAL, "reach is not generated");
    cr_assert(strstr(sl_last_error(), "cannot be sampled"), "%s", sl_last_error());
    const char *name;
    int n = 0;
    while (sl_task_info(n, &name, NULL)) n++;
    cr_assert_geq(n, 3);
    sl_task_info(0, &name, NULL);
    cr_assert_str_eq(name, "reach");
    sl_config_free(c);
    free(out);
    tu_rmtree(dir);
}

/* the command line: silico task list / sample (SILICO_BIN, default build/silico) */
static int run_cli(const char *args, const char *log) { return tu_silico(args, log, NULL); }

Test(gen_task, cli_task_list_and_sample)
{
    char *dir = tu_tmpdir(), *log = tu_path(dir, "log"), *out = tu_path(dir, "pdm");
    char args[512];
    cr_assert_eq(run_cli("task list", log), 0);
    char *text = tu_read_file(log, NULL);
    cr_assert(text && strstr(text, "reach_synthetic") && strstr(text, "dataset"));
    for (const sl_taskgen *const *g = sl_taskgens(); *g; g++)
        cr_assert(strstr(text, (*g)->name), "%s listed", (*g)->name);
    free(text);
    cr_assert_eq(run_cli("task --help", log), 0);
    cr_assert_eq(run_cli("task sample --help", log), 0);
    if (sl_taskgen_find("pdm")) {
        snprintf(args, sizeof args, "task sample pdm task.dt=100 --trials 3 --seed 2 --out %s", out);
        cr_assert_eq(run_cli(args, log), 0);
        char *p = tu_path(out, "ob.npy");
        sl_array a;
        cr_assert_eq(sl_npy_read(p, &a), SL_OK, "%s", sl_last_error());
        cr_assert_eq(a.ndim, 3);
        cr_assert_eq(a.shape[0], 3);
        cr_assert_eq(a.shape[1], 22, "PerceptualDecisionMaking at dt 100: 22 steps");
        sl_array_free(&a);
        free(p);
        cr_assert_neq(run_cli(args, log), 0, "refuses to overwrite");
        text = tu_read_file(log, NULL);
        cr_assert(text && strstr(text, "exists"), "%s", text);
        free(text);
    }
    snprintf(args, sizeof args, "task sample no_such_task --out %s/x", dir);
    cr_assert_neq(run_cli(args, log), 0);
    text = tu_read_file(log, NULL);
    cr_assert(text && strstr(text, "known tasks") && strstr(text, "reach"), "%s", text);
    free(text);
    snprintf(args, sizeof args, "task sample reach --out %s/x", dir);
    cr_assert_neq(run_cli(args, log), 0);
    snprintf(args, sizeof args, "task sample pdm --trials 0 --out %s/x", dir);
    cr_assert_neq(run_cli(args, log), 0);
    struct stat sb;
    snprintf(args, sizeof args, "%s/x", dir);
    cr_assert_neq(stat(args, &sb), 0, "nothing written on errors");
    free(log);
    free(out);
    tu_rmtree(dir);
}
