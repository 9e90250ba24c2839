/* gen_task.c — any trial generator (sl_taskgen, trial.h) as an sl_task: the
 * batches the trainer pulls, in NeuroGym-faithful trials, reproducible bit
 * for bit from the seeds.
 *
 * Seeds. Every trial is generated from its own random stream
 *   sl_rng_seed_stream(&r, S, stream),   S = task.seed (0: derived from run.seed)
 * and the generator draws from nothing else, so a trial does not depend on
 * which batches were built before it, or in what order:
 *   validation trial k                 stream 2k + 1  (k < task.val_trials)
 *   training trial j of an epoch       stream 2(K + j)
 * K, the epoch's base, is drawn by start_epoch(TRAIN, rng) from the rng it is
 * given (the trainer's run-seeded batch stream, saved in its state, so a
 * resumed run gets the trials an uninterrupted one would): K = u64 >> 2.
 * With rng NULL, K = e·(trials per epoch) for the e-th such epoch (0, 1, ...),
 * i.e. training trial k counted from the start uses stream 2k; batches
 * asked for before any start_epoch use K = 0. So the task seed fixes what a
 * trial looks like, the batch stream which trials an epoch holds, and the
 * validation set depends on the task seed alone.
 *
 * Trial batching (task.batching = trial, default): batch i of an epoch holds
 * trials j = i·B + b, b < B = train.batch, one per row, each from step 0 and
 * padded to T = the generator's T_max with u = 0, label 0, decision 0, y = 0
 * and mask 0. VAL: trials k = i·B + b < task.val_trials (the last batch may
 * have fewer rows). An epoch of TRAIN is task.batches_per_epoch batches.
 *
 * Stream batching (task.batching = stream; NeuroGym's Dataset): each row is
 * an endless sequence of trials back to back, cut into windows of
 * T = task.stream_len steps; batch i of an epoch is window i of every row and
 * a trial cut by a window's end continues at the start of the next batch
 * (also across epochs). The n-th trial row r starts in an epoch is training
 * trial j = n·B + r of the epoch. VAL: validation trial k goes to row k mod B,
 * the row's trials back to back from step 0, cut into windows until the
 * longest row ends (the tail padded with mask 0); identical every epoch.
 *
 * Batch layout (batch-major, row-major): u[(b·T + t)·n_obs + c]; classification:
 * labels[b·T + t], mask[b·T + t], decision[b·T + t]; continuous: y and mask
 * [(b·T + t)·n_out + j] (the step's mask on every output). cond[b] = the
 * trial's variable "condition", else "ground_truth", else 0 (stream mode: of
 * the trial at the window's first step). All buffers are allocated at
 * creation; building a batch allocates nothing. */
#include "tasks/gen_task.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int n;
    sl_trial_var var[SL_TRIAL_MAX_VARS];
} gt_vars;

/* A piece of one trial in a window: trial steps [off, off + len) at window
 * steps [pos, pos + len); T = the trial's length. */
typedef struct {
    uint64_t stream;
    int pos, off, len, T;
} gt_seg;

/* A stream row's position in its current trial (TRAIN, stream mode). */
typedef struct {
    int have;      /* rows[r] holds a trial */
    uint64_t stream;
    int off;       /* next step of it to emit */
    uint64_t n;    /* trials this row started in this epoch */
} gt_row;

typedef struct {
    sl_task task;
    sl_task_ops ops;
    const sl_taskgen *gen;
    void *state;
    sl_taskgen_shape shape;
    uint64_t seed;
    int B, T, stream;
    int bpe, n_val, n_val_batches;
    /* batch buffers, B rows */
    sl_real *u, *y, *mask;
    int *labels, *cond;
    unsigned char *decision;
    gt_vars *vars;
    sl_trial *rows;  /* trial mode: row b's trial; stream mode: row b's current training trial */
    sl_trial scratch;
    gt_seg *seg;     /* B × T */
    int *n_seg;      /* B */
    /* training epoch */
    uint64_t key, n_counted, per_epoch;
    gt_row *rs, *rs0; /* stream rows now, and at the start of the epoch */
    int next_index;   /* stream TRAIN: the window the rows are positioned at */
    /* stream VAL layout: trial k starts at step val_start[k] of row k mod B */
    int64_t *val_start;
    int *val_len;
    /* the batch in the buffers */
    int have_last, last_index, last_B;
    sl_split last_split;
    uint64_t last_key;
} gen_task;

static sl_status gt_destroy_status(gen_task *g, sl_status st);

/* ------------------------------------------------------------- helpers */

uint64_t sl_gen_task_seed_of(const sl_config *c)
{
    long s = sl_config_int(c, "task.seed");
    if (s > 0) return (uint64_t)s;
    sl_rng r;
    sl_rng_seed_stream(&r, (uint64_t)sl_config_int(c, "run.seed"), 0x7461736bULL /* "task" */);
    return sl_rng_u64(&r);
}

/* Build the trial of `stream` into t. */
static sl_status gen_trial(gen_task *g, sl_trial *t, uint64_t stream)
{
    sl_rng r;
    sl_rng_seed_stream(&r, g->seed, stream);
    sl_trial_begin(t, &r);
    sl_status st = g->gen->new_trial(g->state, t);
    t->rng = NULL;
    if (!st) st = sl_trial_check(t);
    if (st) return sl_fail_context(st, "task %s", g->gen->name);
    if (t->T < 1)
        return sl_fail(SL_EINVAL, "task %s: the generator made an empty trial (no steps)",
                       g->gen->name);
    return SL_OK;
}

static int trial_cond(const sl_trial *t)
{
    double v = sl_trial_get_var(t, "condition");
    if (isnan(v)) v = sl_trial_get_var(t, "ground_truth");
    return isfinite(v) && fabs(v) < 2e9 ? (int)lround(v) : 0;
}

static void keep_vars(gen_task *g, int b, const sl_trial *t)
{
    g->vars[b].n = t->n_vars;
    memcpy(g->vars[b].var, t->var, (size_t)t->n_vars * sizeof t->var[0]);
    g->cond[b] = trial_cond(t);
}

/* Copy trial steps [off, off + len) into row b at window steps [pos, pos + len). */
static void put(gen_task *g, int b, const sl_trial *t, int pos, int off, int len)
{
    const int T = g->T, ni = g->shape.n_obs, no = g->shape.n_out;
    for (int k = 0; k < len; k++) {
        size_t r = (size_t)b * T + pos + k;
        int s = off + k;
        const float *ob = t->ob + (size_t)s * ni;
        sl_real *u = g->u + r * ni;
        for (int c = 0; c < ni; c++) u[c] = (sl_real)ob[c];
        if (g->shape.classification) {
            g->labels[r] = t->gt[s];
            g->mask[r] = (sl_real)t->mask[s];
            g->decision[r] = t->decision[s];
        } else {
            const float *y = t->y + (size_t)s * no;
            for (int j = 0; j < no; j++) {
                g->y[r * no + j] = (sl_real)y[j];
                g->mask[r * no + j] = (sl_real)t->mask[s];
            }
        }
    }
}

/* Row b, window steps [pos, T): zero input, label 0, mask 0. */
static void pad(gen_task *g, int b, int pos)
{
    const int T = g->T, ni = g->shape.n_obs, no = g->shape.n_out;
    if (pos >= T) return;
    size_t r0 = (size_t)b * T + pos, n = (size_t)(T - pos);
    memset(g->u + r0 * ni, 0, n * ni * sizeof *g->u);
    if (g->shape.classification) {
        memset(g->labels + r0, 0, n * sizeof *g->labels);
        memset(g->mask + r0, 0, n * sizeof *g->mask);
        memset(g->decision + r0, 0, n);
    } else {
        memset(g->y + r0 * no, 0, n * no * sizeof *g->y);
        memset(g->mask + r0 * no, 0, n * no * sizeof *g->mask);
    }
}

static void add_seg(gen_task *g, int b, uint64_t stream, int pos, int off, int len, int T)
{
    gt_seg *s = &g->seg[(size_t)b * g->T + g->n_seg[b]++];
    s->stream = stream;
    s->pos = pos;
    s->off = off;
    s->len = len;
    s->T = T;
}

static uint64_t train_stream(const gen_task *g, uint64_t j) { return 2 * (g->key + j); }
static uint64_t val_stream(uint64_t k) { return 2 * k + 1; }

/* ------------------------------------------------------- building batches */

static sl_status build_trial_mode(gen_task *g, sl_split split, int index)
{
    int nb = split == SL_SPLIT_VAL ? g->n_val - index * g->B : g->B;
    if (nb > g->B) nb = g->B;
    for (int b = 0; b < nb; b++) {
        uint64_t j = (uint64_t)index * g->B + b;
        uint64_t stream = split == SL_SPLIT_VAL ? val_stream(j) : train_stream(g, j);
        sl_trial *t = &g->rows[b];
        sl_status st = gen_trial(g, t, stream);
        if (st) return st;
        keep_vars(g, b, t);
        g->n_seg[b] = 0;
        add_seg(g, b, stream, 0, 0, t->T, t->T);
        put(g, b, t, 0, 0, t->T);
        pad(g, b, t->T);
    }
    g->last_B = nb;
    return SL_OK;
}

/* The next TRAIN window of every stream row. */
static sl_status build_train_window(gen_task *g)
{
    for (int r = 0; r < g->B; r++) {
        gt_row *rs = &g->rs[r];
        sl_trial *t = &g->rows[r];
        g->n_seg[r] = 0;
        int pos = 0;
        while (pos < g->T) {
            if (!rs->have || rs->off >= t->T) {
                rs->stream = train_stream(g, rs->n * (uint64_t)g->B + r);
                rs->n++;
                rs->off = 0;
                rs->have = 0;
                sl_status st = gen_trial(g, t, rs->stream);
                if (st) return st;
                rs->have = 1;
            }
            int len = t->T - rs->off;
            if (len > g->T - pos) len = g->T - pos;
            if (pos == 0) keep_vars(g, r, t);
            add_seg(g, r, rs->stream, pos, rs->off, len, t->T);
            put(g, r, t, pos, rs->off, len);
            pos += len;
            rs->off += len;
        }
    }
    g->last_B = g->B;
    return SL_OK;
}

/* Rows back to the start of the epoch (regenerating their current trials). */
static sl_status rewind_rows(gen_task *g)
{
    memcpy(g->rs, g->rs0, (size_t)g->B * sizeof *g->rs);
    for (int r = 0; r < g->B; r++)
        if (g->rs[r].have) {
            sl_status st = gen_trial(g, &g->rows[r], g->rs[r].stream);
            if (st) return st;
        }
    g->next_index = 0;
    return SL_OK;
}

static sl_status build_val_window(gen_task *g, int index)
{
    const int64_t w0 = (int64_t)index * g->T, w1 = w0 + g->T;
    int nb = g->n_val < g->B ? g->n_val : g->B;
    for (int r = 0; r < nb; r++) {
        g->n_seg[r] = 0;
        g->vars[r].n = 0;
        g->cond[r] = 0;
        int64_t end = w0;
        for (int k = r; k < g->n_val; k += g->B) {
            int64_t s = g->val_start[k], e = s + g->val_len[k];
            if (e <= w0) continue;
            if (s >= w1) break;
            sl_status st = gen_trial(g, &g->scratch, val_stream((uint64_t)k));
            if (st) return st;
            int64_t a = s > w0 ? s : w0, z = e < w1 ? e : w1;
            if (a == w0) keep_vars(g, r, &g->scratch);
            add_seg(g, r, val_stream((uint64_t)k), (int)(a - w0), (int)(a - s), (int)(z - a),
                    g->val_len[k]);
            put(g, r, &g->scratch, (int)(a - w0), (int)(a - s), (int)(z - a));
            end = z;
        }
        pad(g, r, (int)(end - w0));
    }
    g->last_B = nb;
    return SL_OK;
}

static int gt_num_batches(sl_task *t, sl_split split)
{
    gen_task *g = t->impl;
    if (split == SL_SPLIT_TRAIN) return g->bpe;
    if (split == SL_SPLIT_VAL) return g->n_val_batches;
    return 0;
}

static sl_status gt_start_epoch(sl_task *t, sl_split split, sl_rng *rng)
{
    gen_task *g = t->impl;
    if (split != SL_SPLIT_TRAIN) return SL_OK;
    g->key = rng ? sl_rng_u64(rng) >> 2 : g->n_counted++ * g->per_epoch;
    g->have_last = 0;
    if (g->stream) {
        for (int r = 0; r < g->B; r++) g->rs[r].n = 0;
        memcpy(g->rs0, g->rs, (size_t)g->B * sizeof *g->rs);
        g->next_index = 0;
    }
    return SL_OK;
}

/* Make the buffers hold batch `index` of `split`. */
static sl_status ensure(gen_task *g, sl_split split, int index)
{
    if (split != SL_SPLIT_TRAIN && split != SL_SPLIT_VAL)
        return sl_fail(SL_EINVAL, "task %s: no batches in this split (generated tasks have "
                                  "training and validation trials only)", g->gen->name);
    int nb = split == SL_SPLIT_TRAIN ? g->bpe : g->n_val_batches;
    if (index < 0 || index >= nb)
        return sl_fail(SL_EINVAL, "task %s: batch %d out of range [0, %d)", g->gen->name, index, nb);
    if (g->have_last && g->last_split == split && g->last_index == index &&
        (split != SL_SPLIT_TRAIN || g->last_key == g->key))
        return SL_OK;
    g->have_last = 0;
    sl_status st;
    if (!g->stream) {
        st = build_trial_mode(g, split, index);
    } else if (split == SL_SPLIT_VAL) {
        st = build_val_window(g, index);
    } else {
        st = SL_OK;
        if (index != g->next_index) st = rewind_rows(g);
        while (!st && g->next_index < index) {
            st = build_train_window(g);
            if (!st) g->next_index++;
        }
        if (!st) st = build_train_window(g);
        if (!st) g->next_index = index + 1;
        else g->next_index = -1; /* rows unknown: rewind next time */
    }
    if (st) return st;
    g->have_last = 1;
    g->last_split = split;
    g->last_index = index;
    g->last_key = g->key;
    return SL_OK;
}

static sl_status gt_batch(sl_task *t, sl_split split, int index, sl_rng *rng, sl_batch *out)
{
    (void)rng; /* trials come from their own streams */
    gen_task *g = t->impl;
    sl_status st = ensure(g, split, index);
    if (st) return st;
    memset(out, 0, sizeof *out);
    out->B = g->last_B;
    out->T = g->T;
    out->n_in = g->shape.n_obs;
    out->n_out = g->shape.n_out;
    out->u = g->u;
    out->mask = g->mask;
    out->cond = g->cond;
    if (g->shape.classification) {
        out->labels = g->labels;
        out->decision = g->decision;
    } else {
        out->y = g->y;
    }
    return SL_OK;
}

/* ------------------------------------------------------------ lifecycle */

static void gt_free(gen_task *g)
{
    if (!g) return;
    if (g->state && g->gen->destroy) g->gen->destroy(g->state);
    if (g->rows)
        for (int b = 0; b < g->B; b++) sl_trial_free(&g->rows[b]);
    sl_trial_free(&g->scratch);
    free(g->rows);
    free(g->u);
    free(g->y);
    free(g->mask);
    free(g->labels);
    free(g->cond);
    free(g->decision);
    free(g->vars);
    free(g->seg);
    free(g->n_seg);
    free(g->rs);
    free(g->rs0);
    free(g->val_start);
    free(g->val_len);
    free(g);
}

static void gt_destroy(sl_task *t)
{
    if (t) gt_free(t->impl);
}

static sl_status gt_destroy_status(gen_task *g, sl_status st)
{
    gt_free(g);
    return st;
}

static void gt_score(sl_task *t, sl_split split, int index, const sl_real *z, double *sum,
                     double *count);

sl_status sl_gen_task_create(const sl_taskgen *gen, const sl_config *c, sl_task **out)
{
    if (!out) return sl_fail(SL_EINVAL, "sl_gen_task_create: out is NULL");
    *out = NULL;
    if (!gen || !c || !gen->create || !gen->new_trial)
        return sl_fail(SL_EINVAL, "sl_gen_task_create: incomplete generator or NULL config");
    gen_task *g = calloc(1, sizeof *g);
    if (!g) return sl_fail(SL_ENOMEM, "task %s: out of memory", gen->name);
    g->gen = gen;
    sl_status st = gen->create(c, &g->state, &g->shape);
    if (st) {
        g->state = NULL; /* a failed create owns nothing */
        return gt_destroy_status(g, sl_fail_context(st, "task %s", gen->name));
    }
    const sl_taskgen_shape *sh = &g->shape;
    if (sh->n_obs < 1 || sh->n_out < 1 || sh->T_max < 1 || !(sh->dt > 0) || !isfinite(sh->dt))
        return gt_destroy_status(
            g, sl_fail(SL_EINVAL, "task %s: bad shape (n_obs %d, n_out %d, T_max %d, dt %g)",
                       gen->name, sh->n_obs, sh->n_out, sh->T_max, sh->dt));
    g->seed = sl_gen_task_seed_of(c);
    g->B = (int)sl_config_int(c, "train.batch");
    g->bpe = (int)sl_config_int(c, "task.batches_per_epoch");
    g->n_val = (int)sl_config_int(c, "task.val_trials");
    g->stream = strcmp(sl_config_str(c, "task.batching"), "stream") == 0;
    g->T = g->stream ? (int)sl_config_int(c, "task.stream_len") : sh->T_max;
    if (g->B < 1 || g->bpe < 1 || g->n_val < 1 || g->T < 1)
        return gt_destroy_status(g, sl_fail(SL_EINVAL, "task %s: train.batch, "
                                                       "task.batches_per_epoch, task.val_trials "
                                                       "and task.stream_len must be >= 1",
                                            gen->name));
    const size_t B = (size_t)g->B, T = (size_t)g->T, ni = (size_t)sh->n_obs,
                 no = (size_t)sh->n_out;
    size_t per_row = sh->classification ? 1 : no;
    g->u = calloc(B * T * ni, sizeof *g->u);
    g->mask = calloc(B * T * per_row, sizeof *g->mask);
    if (sh->classification) {
        g->labels = calloc(B * T, sizeof *g->labels);
        g->decision = calloc(B * T, 1);
    } else {
        g->y = calloc(B * T * no, sizeof *g->y);
    }
    g->cond = calloc(B, sizeof *g->cond);
    g->vars = calloc(B, sizeof *g->vars);
    g->seg = calloc(B * T, sizeof *g->seg);
    g->n_seg = calloc(B, sizeof *g->n_seg);
    g->rows = calloc(B, sizeof *g->rows);
    if (!g->u || !g->mask || (sh->classification ? !g->labels || !g->decision : !g->y) ||
        !g->cond || !g->vars || !g->seg || !g->n_seg || !g->rows)
        return gt_destroy_status(g, sl_fail(SL_ENOMEM, "task %s: out of memory for batches of "
                                                       "%d x %d steps",
                                            gen->name, g->B, g->T));
    for (int b = 0; b < g->B; b++)
        if ((st = sl_trial_init(&g->rows[b], sh->dt, sh->n_obs, sh->n_out, sh->classification,
                                sh->T_max)))
            return gt_destroy_status(g, sl_fail_context(st, "task %s", gen->name));
    if ((st = sl_trial_init(&g->scratch, sh->dt, sh->n_obs, sh->n_out, sh->classification,
                            sh->T_max)))
        return gt_destroy_status(g, sl_fail_context(st, "task %s", gen->name));
    g->per_epoch = (uint64_t)g->bpe * B * (g->stream ? T : 1);
    if (g->stream) {
        g->rs = calloc(B, sizeof *g->rs);
        g->rs0 = calloc(B, sizeof *g->rs0);
        g->val_start = calloc((size_t)g->n_val, sizeof *g->val_start);
        g->val_len = calloc((size_t)g->n_val, sizeof *g->val_len);
        if (!g->rs || !g->rs0 || !g->val_start || !g->val_len)
            return gt_destroy_status(g, sl_fail(SL_ENOMEM, "task %s: out of memory", gen->name));
        /* lay out the validation trials: their lengths, back to back per row */
        int64_t longest = 0;
        for (int r = 0; r < g->B && r < g->n_val; r++) {
            int64_t pos = 0;
            for (int k = r; k < g->n_val; k += g->B) {
                if ((st = gen_trial(g, &g->scratch, val_stream((uint64_t)k))))
                    return gt_destroy_status(g, st);
                g->val_start[k] = pos;
                g->val_len[k] = g->scratch.T;
                pos += g->scratch.T;
            }
            if (pos > longest) longest = pos;
        }
        int64_t nvb = (longest + g->T - 1) / g->T;
        if (nvb > 1000000000)
            return gt_destroy_status(g, sl_fail(SL_EINVAL, "task %s: too many validation windows",
                                                gen->name));
        g->n_val_batches = (int)nvb;
    } else {
        g->n_val_batches = (g->n_val + g->B - 1) / g->B;
    }
    g->ops.name = gen->name;
    g->ops.num_batches = gt_num_batches;
    g->ops.start_epoch = gt_start_epoch;
    g->ops.batch = gt_batch;
    g->ops.destroy = gt_destroy;
    g->ops.score = gen->score ? gt_score : NULL;
    g->task.ops = &g->ops;
    g->task.classification = sh->classification;
    g->task.score_name = gen->score ? gen->score_name : NULL;
    g->task.n_in = sh->n_obs;
    g->task.n_out = sh->n_out;
    g->task.T = g->T;
    g->task.dt_ms = sh->dt;
    g->task.max_batch = g->B;
    g->task.impl = g;
    *out = &g->task;
    return SL_OK;
}

/* sl_task_ops.score: the generator's own score of every trial of a batch */
static void gt_score(sl_task *t, sl_split split, int index, const sl_real *z, double *sum,
                     double *count)
{
    sl_gen_task_score(t, split, index, z, sum, count);
}

/* ------------------------------------------------------------- accessors */

int sl_gen_task_is(const sl_task *t) { return t && t->ops && t->ops->batch == gt_batch; }

const sl_taskgen *sl_gen_task_gen(const sl_task *t)
{
    return sl_gen_task_is(t) ? ((const gen_task *)t->impl)->gen : NULL;
}

const sl_taskgen_shape *sl_gen_task_shape(const sl_task *t)
{
    return sl_gen_task_is(t) ? &((const gen_task *)t->impl)->shape : NULL;
}

uint64_t sl_gen_task_seed(const sl_task *t)
{
    return sl_gen_task_is(t) ? ((const gen_task *)t->impl)->seed : 0;
}

int sl_gen_task_row_vars(sl_task *t, int row, const sl_trial_var **vars)
{
    *vars = NULL;
    if (!sl_gen_task_is(t)) return 0;
    gen_task *g = t->impl;
    if (!g->have_last || row < 0 || row >= g->last_B) return 0;
    *vars = g->vars[row].var;
    return g->vars[row].n;
}

const sl_trial *sl_gen_task_row_trial(sl_task *t, int row)
{
    if (!sl_gen_task_is(t)) return NULL;
    gen_task *g = t->impl;
    if (g->stream || !g->have_last || row < 0 || row >= g->last_B) return NULL;
    return &g->rows[row];
}

sl_status sl_gen_task_score(sl_task *t, sl_split split, int index, const sl_real *z,
                            double *sum, double *count)
{
    if (!sl_gen_task_is(t)) return sl_fail(SL_EINVAL, "sl_gen_task_score: not a generated task");
    gen_task *g = t->impl;
    if (!g->gen->score) return SL_OK;
    sl_status st = ensure(g, split, index);
    if (st) return st;
    const size_t no = (size_t)g->shape.n_out;
    for (int b = 0; b < g->last_B; b++) {
        const sl_real *zb = z + (size_t)b * g->T * no;
        if (!g->stream) {
            g->gen->score(g->state, &g->rows[b], zb, sum, count);
            continue;
        }
        for (int i = 0; i < g->n_seg[b]; i++) {
            const gt_seg *s = &g->seg[(size_t)b * g->T + i];
            if (s->off != 0 || s->len != s->T) continue; /* cut by the window: not scored */
            if ((st = gen_trial(g, &g->scratch, s->stream))) return st;
            g->gen->score(g->state, &g->scratch, zb + (size_t)s->pos * no, sum, count);
        }
    }
    return SL_OK;
}
