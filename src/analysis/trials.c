/* trials.c — the fixed set of trials every analysis of a run uses
 * (sl_trialset, analysis.h):
 *
 *   reach, reach_synthetic   a copy of the run's config with task.val_delays =
 *                            the first of task.delays (or delay_ms when > 0)
 *                            and task.input_noise = 0,
 *                            whose validation split is then the training
 *                            conditions at that delay, one trial each, in
 *                            condition order. Variables: condition, angle_deg,
 *                            delay_ms, go_step; t_zero = the go step.
 *   generated tasks          the validation split (task.val_trials from the task
 *                            seed; max_trials > 0 replaces task.val_trials), with
 *                            each trial's variables and decision_step (the
 *                            decision period's first step); t_zero = that step
 *                            when every trial shares it.
 *   other tasks (dataset)    the validation split; variable condition when the
 *                            batches carry conditions.
 * Rows are copied out of the batches, so the task can be freed at once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "tasks/gen_task.h"
#include "tasks/reach_common.h"

void sl_trialset_free(sl_trialset *s)
{
    if (!s) return;
    free(s->u);
    free(s->y);
    free(s->mask);
    free(s->labels);
    free(s->decision);
    free(s->vars);
    memset(s, 0, sizeof *s);
}

int sl_trialset_var(const sl_trialset *s, const char *name)
{
    for (int i = 0; i < s->n_vars; i++)
        if (!strcmp(s->var_names[i], name)) return i;
    return -1;
}

static int add_var(sl_trialset *s, const char *name)
{
    int i = sl_trialset_var(s, name);
    if (i >= 0 || s->n_vars >= SL_TRIALSET_MAX_VARS) return i;
    snprintf(s->var_names[s->n_vars], sizeof s->var_names[0], "%s", name);
    return s->n_vars++;
}

static int is_reach(const sl_task *t)
{
    return !strcmp(t->ops->name, "reach") || !strcmp(t->ops->name, "reach_synthetic");
}

/* The config the trials come from (a copy; see the top of the file). */
static sl_status trial_config(const sl_config *c, int max_trials, double delay_ms, sl_config **out)
{
    sl_status st = sl_config_copy(c, out);
    if (st) return st;
    const char *name = sl_config_str(c, "task.name");
    char buf[64];
    if (!strcmp(name, "reach") || !strcmp(name, "reach_synthetic")) {
        double d[64];
        int n = sl_config_list(c, "task.delays", d, 64);
        if (n < 1) return sl_fail(SL_EINVAL, "task.delays is empty: no training delay to analyse");
        snprintf(buf, sizeof buf, "%.17g", delay_ms > 0 ? delay_ms : d[0]);
        if ((st = sl_config_set(*out, "task.val_delays", buf, "analysis")) ||
            (st = sl_config_set(*out, "task.input_noise", "0", "analysis")))
            return st;
    } else if (max_trials > 0) {
        snprintf(buf, sizeof buf, "%d", max_trials);
        if ((st = sl_config_set(*out, "task.val_trials", buf, "analysis"))) return st;
    }
    return SL_OK;
}

sl_status sl_trialset_from_task(const sl_config *c, int max_trials, double delay_ms, sl_trialset *s)
{
    memset(s, 0, sizeof *s);
    sl_config *tc = NULL;
    sl_task *t = NULL;
    sl_status st = trial_config(c, max_trials, delay_ms, &tc);
    if (!st) st = sl_task_create(tc, &t);
    if (st) {
        sl_config_free(tc);
        return sl_fail_context(st, "building the task's trials for analysis");
    }
    const int nb = t->ops->num_batches(t, SL_SPLIT_VAL);
    sl_rng order;
    sl_rng_seed(&order, 0);
    if (nb <= 0) st = sl_fail(SL_EINVAL, "task %s has no validation trials to analyse", t->ops->name);
    if (!st) st = t->ops->start_epoch(t, SL_SPLIT_VAL, &order);
    /* pass 1: count */
    int C = 0;
    sl_batch b;
    memset(&b, 0, sizeof b);
    for (int i = 0; !st && i < nb; i++) {
        if ((st = t->ops->batch(t, SL_SPLIT_VAL, i, NULL, &b))) break;
        if (b.T > t->T) st = sl_fail(SL_EINVAL, "task %s: batch of %d steps > T = %d", t->ops->name, b.T, t->T);
        C += b.B;
    }
    if (!st && max_trials > 0 && C > max_trials) C = max_trials;
    const int T = t->T, NI = t->n_in, NO = t->n_out, cls = t->classification;
    s->C = C, s->T = T, s->n_in = NI, s->n_out = NO, s->classification = cls, s->dt_ms = t->dt_ms;
    s->time_zero = "trial start";
    if (!st) {
        s->u = calloc((size_t)C * T * NI, sizeof *s->u);
        s->mask = calloc((size_t)C * T * (cls ? 1 : NO), sizeof *s->mask);
        if (cls) {
            s->labels = calloc((size_t)C * T, sizeof *s->labels);
            s->decision = calloc((size_t)C * T, 1);
        } else
            s->y = calloc((size_t)C * T * NO, sizeof *s->y);
        s->vars = malloc((size_t)C * SL_TRIALSET_MAX_VARS * sizeof *s->vars);
        if (!s->u || !s->mask || (cls ? !s->labels || !s->decision : !s->y) || !s->vars)
            st = sl_fail(SL_ENOMEM, "analysis: out of memory for %d trials of %d steps", C, T);
    }
    for (size_t i = 0; !st && i < (size_t)C * SL_TRIALSET_MAX_VARS; i++) s->vars[i] = NAN;
    const rc_core *rc = (!st && is_reach(t)) ? t->impl : NULL;
    int row = 0, common_zero = -2;
    for (int i = 0; !st && i < nb && row < C; i++) {
        if ((st = t->ops->batch(t, SL_SPLIT_VAL, i, NULL, &b))) break;
        for (int r = 0; r < b.B && row < C; r++, row++) {
            const size_t mw = cls ? 1 : (size_t)NO;
            for (int k = 0; k < b.T; k++) {
                const size_t src = (size_t)r * b.T + k, dst = (size_t)row * T + k;
                memcpy(s->u + dst * NI, b.u + src * NI, NI * sizeof *s->u);
                if (cls) {
                    s->labels[dst] = b.labels[src];
                    s->decision[dst] = b.decision ? b.decision[src] : 0;
                } else
                    memcpy(s->y + dst * NO, b.y + src * NO, NO * sizeof *s->y);
                for (size_t o = 0; o < mw; o++) s->mask[dst * mw + o] = b.mask ? b.mask[src * mw + o] : 1;
            }
            double *v = s->vars + (size_t)row * SL_TRIALSET_MAX_VARS;
            int zero = -1;
            if (rc) {
                const int k = row; /* the VAL split is stored contiguously, in batch order */
                v[add_var(s, "condition")] = rc->cond[SL_SPLIT_VAL][k];
                v[add_var(s, "angle_deg")] = 360.0 * rc->cond[SL_SPLIT_VAL][k] / rc->n_cond;
                v[add_var(s, "delay_ms")] = rc->delay[SL_SPLIT_VAL][k];
                v[add_var(s, "go_step")] = zero = rc->go[SL_SPLIT_VAL][k];
            } else if (sl_gen_task_is(t)) {
                const sl_trial_var *tv;
                int n = sl_gen_task_row_vars(t, r, &tv);
                for (int q = 0; q < n; q++) {
                    int j = add_var(s, tv[q].name);
                    if (j >= 0) v[j] = tv[q].value;
                }
                const sl_trial *tr = sl_gen_task_row_trial(t, r);
                const sl_period *p = tr ? sl_trial_find(tr, "decision") : NULL;
                if (p) v[add_var(s, "decision_step")] = zero = p->start;
            } else if (b.cond) {
                v[add_var(s, "condition")] = b.cond[r];
            }
            common_zero = common_zero == -2 ? zero : (common_zero == zero ? zero : -1);
        }
    }
    if (!st && common_zero >= 0) {
        s->t_zero = common_zero;
        s->time_zero = rc ? "go cue" : "decision onset";
    }
    sl_task_free(t);
    sl_config_free(tc);
    if (st) sl_trialset_free(s);
    return st;
}

sl_status sl_an_trialset(const sl_analysis_ctx *ctx, sl_trialset *s)
{
    long max_trials;
    double delay;
    sl_status st;
    memset(s, 0, sizeof *s);
    if ((st = sl_an_opt_int(ctx, "max-trials", 0, 0, 1000000, &max_trials)) ||
        (st = sl_an_opt_real(ctx, "delay", 0, &delay)))
        return st;
    if (delay < 0) return sl_fail(SL_EINVAL, "--delay must be a positive number of ms, got %g", delay);
    if (delay > 0) {
        const char *name = sl_config_str(ctx->config, "task.name");
        if (strcmp(name, "reach") && strcmp(name, "reach_synthetic"))
            return sl_fail(SL_EINVAL, "--delay applies to the reach tasks only (this run's task is %s)", name);
    }
    if ((st = sl_trialset_from_task(ctx->config, (int)max_trials, delay, s))) return st;
    const sl_model_spec *sp = ctx->model ? sl_model_get_spec(ctx->model) : NULL;
    if (sp && (sp->n_in != s->n_in || sp->n_out != s->n_out)) {
        st = sl_fail(SL_EINVAL, "the task of %s/config.ini has %d inputs and %d outputs but its "
                                "checkpoint's network takes %d inputs and gives %d outputs",
                     ctx->run_dir, s->n_in, s->n_out, sp->n_in, sp->n_out);
        sl_trialset_free(s);
    }
    return st;
}

/* the window [a, b) in steps from "A:B" ms relative to t_zero */
sl_status sl_an_window(const sl_analysis_ctx *ctx, const sl_trialset *s, int *a, int *b)
{
    const char *w = sl_analysis_opt(ctx, "window");
    *a = 0, *b = s->T;
    if (!w) return SL_OK;
    char *end;
    double x = strtod(w, &end), y;
    if (end == w || *end != ':') return sl_fail(SL_EINVAL, "--window: expected A:B in ms, got '%s'", w);
    const char *q = end + 1;
    y = strtod(q, &end);
    if (end == q || *end || !(y > x)) return sl_fail(SL_EINVAL, "--window: expected A:B in ms with A < B, got '%s'", w);
    *a = s->t_zero + (int)ceil(x / s->dt_ms - 1e-9);
    *b = s->t_zero + (int)ceil(y / s->dt_ms - 1e-9);
    if (*a < 0) *a = 0;
    if (*b > s->T) *b = s->T;
    if (*a >= *b)
        return sl_fail(SL_EINVAL, "--window %s: no step of the trial (%d steps of %g ms, time zero at "
                                  "step %d, the %s) falls inside", w, s->T, s->dt_ms, s->t_zero, s->time_zero);
    return SL_OK;
}

/* X (K×N): each trial's rates averaged over steps [a, b) */
void sl_an_window_mean(const sl_real *r, int K, int T, int N, int a, int b, double *X)
{
    for (int k = 0; k < K; k++)
        for (int i = 0; i < N; i++) {
            double s = 0;
            for (int t = a; t < b; t++) s += r[((size_t)k * T + t) * N + i];
            X[(size_t)k * N + i] = s / (b - a);
        }
}
