/* trials.c — the fixed set of trials every analysis of a run uses
 * (sl_trialset, analysis.h), and their condition averages.
 *
 * sl_trialset_from_task (one row per condition):
 *   reach, reach_synthetic   a copy of the run's config with task.val_delays =
 *                            the first of task.delays (or delay_ms when > 0),
 *                            task.input_noise = 0 and task.norm_delays = the
 *                            run's own task.norm_delays, or when that is empty
 *                            task.delays followed by task.val_delays,
 *                            whose validation split is then the training
 *                            conditions at that delay, one trial each, in
 *                            condition order. Variables: condition, angle_deg,
 *                            delay_ms, go_step; t_zero = the go step.
 *                            Pinning task.norm_delays keeps the input
 *                            normalisation (reach_common.c: constants over
 *                            every condition × distinct delay, in list order)
 *                            the one the network was trained with, bit for bit,
 *                            even for a delay it never saw; replacing
 *                            task.val_delays alone would recompute it over
 *                            task.delays ∪ {d} and scale the inputs slightly
 *                            differently from training. The inputs at a
 *                            training delay are so exactly the TRAIN split's
 *                            (noise-free) inputs (test_dissect.c checks it).
 *   generated tasks          the validation split (task.val_trials from the task
 *                            seed; max_trials > 0 replaces task.val_trials), with
 *                            each trial's variables and decision_step (the
 *                            decision period's first step); t_zero = that step
 *                            when every trial shares it.
 *   other tasks (dataset)    the validation split; variable condition when the
 *                            batches carry conditions.
 * sl_trialset_validation: every validation trial of the run's own task
 * (reach: the VAL split, every task.val_delays, then the HOLDOUT split).
 * Rows are copied out of the batches, so the task can be freed at once.
 *
 * Condition averages (sl_trialset_condition_mean), the rates the geometry
 * analyses (pca, tangling, jpca, compare) read:
 *
 *   r̄_c(t) = (1/|K_c|) Σ_{k ∈ K_c} r_k(z_k + t),   t ∈ [−min_k z_k, min_k (T−1−z_k)]
 *
 * over the rows K_c of condition c, run without noise, each aligned on its
 * zero step z_k (reach: its go step; other tasks: the set's t_zero). The
 * go-to-movement lag of reach tasks is read from the targets ȳ(t) (mean over
 * rows and outputs, aligned the same way): the first t ≥ 0 where
 * ȳ(t) ≥ ȳ(0) + 0.05 (max_{t≥0} ȳ − ȳ(0)) — for the reach EMG at dt = 10 ms
 * and task.emg_go_ms = 400 this is 210 ms (the normalised, binned targets;
 * data/reach/README.md puts the raw population EMG's 5% crossing at sample
 * 651, 251 ms after the go sample 400). */
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
    free(s->cond);
    free(s->zero);
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

/* The delays a reach run's input normalisation was computed over, as a list
 * value (malloc'd): its task.norm_delays, else task.delays then
 * task.val_delays (rc_create keeps the first of repeated delays, so the
 * order and hence the constants are the run's own). */
static sl_status norm_delays(const sl_config *c, char **out)
{
    static const char *keys[3] = {"task.norm_delays", "task.delays", "task.val_delays"};
    double *v[3] = {NULL, NULL, NULL};
    int n[3] = {0, 0, 0};
    sl_status st = SL_OK;
    *out = NULL;
    for (int k = 0; !st && k < 3; k++) st = rc_read_list(c, keys[k], &v[k], &n[k]);
    const int k0 = n[0] > 0 ? 0 : 1, k1 = n[0] > 0 ? 0 : 2;
    size_t len = 1;
    for (int k = k0; k <= k1; k++) len += (size_t)n[k] * 26;
    char *s = st ? NULL : malloc(len);
    if (!st && !s) st = sl_fail(SL_ENOMEM, "analysis: out of memory");
    if (!st) {
        size_t o = 0;
        s[0] = 0;
        for (int k = k0; k <= k1; k++)
            for (int i = 0; i < n[k]; i++)
                o += (size_t)snprintf(s + o, len - o, "%s%.17g", o ? "," : "", v[k][i]);
        *out = s;
    }
    for (int k = 0; k < 3; k++) free(v[k]);
    return st;
}

/* The config the trials come from (a copy; see the top of the file). */
static sl_status trial_config(const sl_config *c, int max_trials, double delay_ms, sl_config **out)
{
    sl_status st = sl_config_copy(c, out);
    if (st) return st;
    const char *name = sl_config_str(c, "task.name");
    char buf[64];
    if (!strcmp(name, "reach") || !strcmp(name, "reach_synthetic")) {
        double d[1];
        if (sl_config_list(c, "task.delays", d, 1) < 1)
            return sl_fail(SL_EINVAL, "task.delays is empty: no training delay to analyse");
        snprintf(buf, sizeof buf, "%.17g", delay_ms > 0 ? delay_ms : d[0]);
        char *norm = NULL;
        if ((st = norm_delays(c, &norm))) return st;
        if (!(st = sl_config_set(*out, "task.norm_delays", norm, "analysis")) &&
            !(st = sl_config_set(*out, "task.val_delays", buf, "analysis")))
            st = sl_config_set(*out, "task.input_noise", "0", "analysis");
        free(norm);
        if (st) return st;
    } else if (max_trials > 0) {
        snprintf(buf, sizeof buf, "%d", max_trials);
        if ((st = sl_config_set(*out, "task.val_trials", buf, "analysis"))) return st;
    }
    return SL_OK;
}

/* The rows of splits[0..ns) of task t (at most max_trials when > 0). */
static sl_status collect(sl_task *t, const sl_split *splits, int ns, int max_trials, sl_trialset *s)
{
    memset(s, 0, sizeof *s);
    sl_status st = SL_OK;
    sl_batch b;
    memset(&b, 0, sizeof b);
    /* pass 1: count */
    int C = 0, n_first = 0;
    for (int q = 0; !st && q < ns; q++) {
        const int nb = t->ops->num_batches(t, splits[q]);
        sl_rng order;
        sl_rng_seed(&order, 0);
        if (nb > 0) st = t->ops->start_epoch(t, splits[q], &order);
        for (int i = 0; !st && i < nb; i++) {
            if ((st = t->ops->batch(t, splits[q], i, NULL, &b))) break;
            if (b.T > t->T) st = sl_fail(SL_EINVAL, "task %s: batch of %d steps > T = %d", t->ops->name, b.T, t->T);
            C += b.B;
        }
        if (q == 0) n_first = C;
    }
    if (!st && C == 0) st = sl_fail(SL_EINVAL, "task %s has no validation trials to analyse", t->ops->name);
    if (!st && max_trials > 0 && C > max_trials) C = max_trials;
    const int T = t->T, NI = t->n_in, NO = t->n_out, cls = t->classification;
    s->C = C, s->T = T, s->n_in = NI, s->n_out = NO, s->classification = cls, s->dt_ms = t->dt_ms;
    s->time_zero = "trial start";
    s->batch = t->max_batch;
    s->n_first = n_first < C ? n_first : C;
    if (!st) {
        s->u = calloc((size_t)C * T * NI, sizeof *s->u);
        s->mask = calloc((size_t)C * T * (cls ? 1 : NO), sizeof *s->mask);
        if (cls) {
            s->labels = calloc((size_t)C * T, sizeof *s->labels);
            s->decision = calloc((size_t)C * T, 1);
        } else
            s->y = calloc((size_t)C * T * NO, sizeof *s->y);
        s->vars = malloc((size_t)C * SL_TRIALSET_MAX_VARS * sizeof *s->vars);
        s->cond = malloc((size_t)C * sizeof *s->cond);
        s->zero = malloc((size_t)C * sizeof *s->zero);
        if (!s->u || !s->mask || (cls ? !s->labels || !s->decision : !s->y) || !s->vars || !s->cond ||
            !s->zero)
            st = sl_fail(SL_ENOMEM, "analysis: out of memory for %d trials of %d steps", C, T);
    }
    for (size_t i = 0; !st && i < (size_t)C * SL_TRIALSET_MAX_VARS; i++) s->vars[i] = NAN;
    const rc_core *rc = (!st && is_reach(t)) ? t->impl : NULL;
    s->reach = rc != NULL;
    int row = 0, common_zero = -2;
    for (int q = 0; !st && q < ns; q++) {
        const int nb = t->ops->num_batches(t, splits[q]);
        int k = 0; /* the row's index in its split (stored contiguously, in batch order) */
        for (int i = 0; !st && i < nb && row < C; i++) {
            if ((st = t->ops->batch(t, splits[q], i, NULL, &b))) break;
            for (int r = 0; r < b.B && row < C; r++, row++, k++) {
                const size_t mw = cls ? 1 : (size_t)NO;
                for (int j = 0; j < b.T; j++) {
                    const size_t src = (size_t)r * b.T + j, dst = (size_t)row * T + j;
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
                s->cond[row] = b.cond ? b.cond[r] : row;
                if (rc) {
                    const sl_split sp = splits[q];
                    v[add_var(s, "condition")] = s->cond[row] = rc->cond[sp][k];
                    v[add_var(s, "angle_deg")] = 360.0 * rc->cond[sp][k] / rc->n_cond;
                    v[add_var(s, "delay_ms")] = rc->delay[sp][k];
                    v[add_var(s, "go_step")] = zero = s->zero[row] = rc->go[sp][k];
                } else if (sl_gen_task_is(t)) {
                    const sl_trial_var *tv;
                    int n = sl_gen_task_row_vars(t, r, &tv);
                    for (int j = 0; j < n; j++) {
                        int x = add_var(s, tv[j].name);
                        if (x >= 0) v[x] = tv[j].value;
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
    }
    if (!st && common_zero >= 0) {
        s->t_zero = common_zero;
        s->time_zero = rc ? "go cue" : "decision onset";
    }
    for (int i = 0; !st && !rc && i < C; i++) s->zero[i] = s->t_zero;
    if (!st && rc) s->n_conditions = rc->n_cond;
    if (st) sl_trialset_free(s);
    return st;
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
    const sl_split val = SL_SPLIT_VAL;
    st = collect(t, &val, 1, max_trials, s);
    sl_task_free(t);
    sl_config_free(tc);
    return st;
}

sl_status sl_trialset_validation(sl_task *t, sl_trialset *s)
{
    const sl_split splits[2] = {SL_SPLIT_VAL, SL_SPLIT_HOLDOUT};
    return collect(t, splits, is_reach(t) ? 2 : 1, 0, s);
}

sl_status sl_an_trialset(const sl_analysis_ctx *ctx, sl_trialset *s)
{
    long max_trials;
    double delay;
    sl_status st;
    memset(s, 0, sizeof *s);
    if ((st = sl_an_opt_int(ctx, "max-trials", 0, 0, 1000000, &max_trials)) ||
        (st = sl_an_opt_delay(ctx, &delay)))
        return st;
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

/* ------------------------------------------------------ condition averages */

static void add_rows(double *dst, const sl_real *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] += (double)src[i];
}

static void scale(double *a, size_t n, double f)
{
    for (size_t i = 0; i < n; i++) a[i] *= f;
}

sl_status sl_trialset_condition_mean(sl_model *m, const sl_trialset *s, double delay_ms,
                                     double **rates, double **outputs, double **targets,
                                     double **time_s, int *C, int *T, int *N,
                                     double *movement_onset_s)
{
    *rates = *time_s = NULL;
    if (outputs) *outputs = NULL;
    if (targets) *targets = NULL;
    const sl_model_spec *sp = sl_model_get_spec(m);
    if (s->n_in != sp->n_in || s->n_out != sp->n_out)
        return sl_fail(SL_EINVAL, "the task has %d inputs and %d outputs but the network %d and %d",
                       s->n_in, s->n_out, sp->n_in, sp->n_out);
    const int Tt = s->T, Nn = sp->n_hidden, O = s->n_out, K = s->C;
    const int dv = s->reach && delay_ms > 0 ? sl_trialset_var(s, "delay_ms") : -1;
    /* the rows kept, their conditions made dense (ascending), the shared window */
    int *keep = malloc((size_t)(K ? K : 1) * sizeof *keep), n_kept = 0, lo = 0, hi = 0;
    if (!keep) return sl_fail(SL_ENOMEM, "activity: out of memory");
    for (int k = 0; k < K; k++) {
        keep[k] = dv < 0 || fabs(s->vars[(size_t)k * SL_TRIALSET_MAX_VARS + dv] - delay_ms) <= 1e-6;
        if (!keep[k]) continue;
        lo = !n_kept || s->cond[k] < lo ? s->cond[k] : lo;
        hi = !n_kept || s->cond[k] > hi ? s->cond[k] : hi;
        n_kept++;
    }
    if (n_kept == 0) {
        free(keep);
        return dv >= 0 ? sl_fail(SL_EINVAL, "no validation trial has a delay of %g ms", delay_ms)
                       : sl_fail(SL_EINVAL, "the task has no validation trials to run");
    }
    int *rank = calloc((size_t)(hi - lo + 1), sizeof *rank), n_cond = 0;
    int pre = Tt, post = Tt;
    sl_status st = rank ? SL_OK : sl_fail(SL_ENOMEM, "activity: out of memory");
    for (int k = 0; !st && k < K; k++)
        if (keep[k]) {
            rank[s->cond[k] - lo] = 1;
            pre = s->zero[k] < pre ? s->zero[k] : pre;
            post = Tt - 1 - s->zero[k] < post ? Tt - 1 - s->zero[k] : post;
        }
    for (int c = 0; !st && c <= hi - lo; c++) rank[c] = rank[c] ? n_cond++ : -1;
    /* reach: every direction must be there */
    for (int c = 0; !st && c < s->n_conditions; c++)
        if (c < lo || c > hi || rank[c - lo] < 0)
            st = sl_fail(SL_EINVAL, "condition %d has no validation trial%s", c,
                         dv >= 0 ? " with that delay" : "");
    const int L = pre + post + 1;
    const size_t nc = n_cond ? n_cond : 1;
    sl_workspace *ws = NULL;
    sl_real *r = malloc((size_t)s->batch * Tt * Nn * sizeof *r);
    sl_real *zb = outputs ? malloc((size_t)s->batch * Tt * O * sizeof *zb) : NULL;
    double *out = calloc(nc * L * Nn, sizeof *out);
    double *zo = outputs ? calloc(nc * L * O, sizeof *zo) : NULL;
    /* the targets' sums are kept whenever there are targets: the reach onset reads them */
    double *yo = s->y ? calloc(nc * L * O, sizeof *yo) : NULL;
    double *tim = malloc((size_t)L * sizeof *tim);
    int *cnt = calloc(nc, sizeof *cnt);
    if (!st && (!r || !out || !tim || !cnt || (outputs && (!zb || !zo)) || (s->y && !yo)))
        st = sl_fail(SL_ENOMEM, "activity: out of memory");
    if (!st) st = sl_workspace_create(m, s->batch, Tt, &ws);
    /* forward passes of at most s->batch rows, restarting at the second split */
    for (int k0 = 0; !st && k0 < K;) {
        const int end = k0 < s->n_first ? s->n_first : K;
        const int B = end - k0 < s->batch ? end - k0 : s->batch;
        if ((st = sl_model_forward(m, ws, s->u + (size_t)k0 * Tt * s->n_in, B, Tt, NULL, zb))) break;
        sl_model_states(ws, NULL, r);
        for (int row = 0; row < B; row++) {
            const int k = k0 + row;
            if (!keep[k]) continue;
            const int c = rank[s->cond[k] - lo], g0 = s->zero[k] - pre;
            cnt[c]++;
            add_rows(out + (size_t)c * L * Nn, r + ((size_t)row * Tt + g0) * Nn, (size_t)L * Nn);
            if (zo) add_rows(zo + (size_t)c * L * O, zb + ((size_t)row * Tt + g0) * O, (size_t)L * O);
            if (yo) add_rows(yo + (size_t)c * L * O, s->y + ((size_t)k * Tt + g0) * O, (size_t)L * O);
        }
        k0 += B;
    }
    /* reach onset: the mean target over every kept row and output, from the sums */
    double *yb = !st && s->reach && yo ? calloc((size_t)L, sizeof *yb) : NULL;
    if (!st && s->reach && yo && !yb) st = sl_fail(SL_ENOMEM, "activity: out of memory");
    for (size_t i = 0; yb && i < nc * L * O; i++) yb[i / O % L] += yo[i] / O / n_kept;
    for (int c = 0; c < n_cond && !st; c++) {
        scale(out + (size_t)c * L * Nn, (size_t)L * Nn, 1.0 / cnt[c]);
        if (zo) scale(zo + (size_t)c * L * O, (size_t)L * O, 1.0 / cnt[c]);
        if (yo) scale(yo + (size_t)c * L * O, (size_t)L * O, 1.0 / cnt[c]);
    }
    if (!st) {
        for (int l = 0; l < L; l++) tim[l] = (l - pre) * s->dt_ms * 1e-3;
        *movement_onset_s = 0;
        if (yb) {
            double base = yb[pre], mx = base;
            for (int l = pre; l < L; l++) mx = yb[l] > mx ? yb[l] : mx;
            for (int l = pre; l < L; l++)
                if (yb[l] >= base + 0.05 * (mx - base)) {
                    *movement_onset_s = tim[l];
                    break;
                }
        }
        *rates = out;
        *time_s = tim;
        if (outputs) *outputs = zo, zo = NULL;
        if (targets) *targets = yo, yo = NULL;
        *C = n_cond;
        *T = L;
        *N = Nn;
        out = tim = NULL;
    }
    free(out);
    free(zo);
    free(yo);
    free(zb);
    free(tim);
    free(yb);
    free(cnt);
    free(r);
    free(keep);
    free(rank);
    sl_workspace_free(ws);
    return st;
}

sl_status sl_condition_rates(sl_model *m, sl_task *t, double delay_ms, double **rates,
                             double **time_s, int *C, int *T, int *N, double *movement_onset_s)
{
    sl_trialset s;
    *rates = *time_s = NULL;
    sl_status st = sl_trialset_validation(t, &s);
    if (!st)
        st = sl_trialset_condition_mean(m, &s, delay_ms, rates, NULL, NULL, time_s, C, T, N,
                                        movement_onset_s);
    sl_trialset_free(&s);
    return st;
}

/* Keep times in [lo, hi] (seconds): the first kept index and *Tk. */
static sl_status time_window(const double *time_s, int T, double lo, double hi, int min_T, int *first,
                             int *Tk)
{
    int a = -1, n = 0;
    for (int t = 0; t < T; t++)
        if (time_s[t] >= lo - 1e-9 && time_s[t] <= hi + 1e-9) {
            if (a < 0) a = t;
            n++;
        }
    if (n < min_T)
        return sl_fail(SL_EINVAL, "the window %g..%g ms holds %d time bins (need ≥ %d; the "
                       "times run %g..%g ms)", lo * 1e3, hi * 1e3, n, min_T, time_s[0] * 1e3,
                       time_s[T - 1] * 1e3);
    *first = a;
    *Tk = n;
    return SL_OK;
}

void sl_an_rates_free(sl_an_rates *r)
{
    free(r->x);
    free(r->z);
    free(r->y);
    free(r->time_s);
    memset(r, 0, sizeof *r);
}

sl_status sl_an_condition_rates(const sl_analysis_ctx *ctx, double def_lo, double def_hi,
                                sl_an_rates *out)
{
    memset(out, 0, sizeof *out);
    if (!ctx->model)
        return sl_fail(SL_EINVAL, "%s: the run's checkpoint is not a recurrent network",
                       ctx->run_dir);
    double delay = 0, lo = def_lo, hi = def_hi;
    sl_status st = sl_an_opt_delay(ctx, &delay);
    const char *w = sl_analysis_opt(ctx, "window");
    if (!st && w) st = sl_an_parse_window(w, "--window", &lo, &hi);
    if (st) return st;
    sl_task *task = NULL;
    if ((st = sl_task_create(ctx->config, &task))) return st;
    sl_trialset s;
    double *x = NULL, *z = NULL, *y = NULL, *tim = NULL, onset = 0;
    int C, T, N;
    st = sl_trialset_validation(task, &s);
    sl_task_free(task);
    if (st) return st;
    if (delay > 0 && !s.reach)
        st = sl_fail(SL_EINVAL, "--delay applies to the reach tasks only (this run's task is %s)",
                     sl_config_str(ctx->config, "task.name"));
    if (!st) st = sl_trialset_condition_mean(ctx->model, &s, delay, &x, &z, &y, &tim, &C, &T, &N, &onset);
    out->dt_s = s.dt_ms * 1e-3;
    const int O = s.n_out;
    out->time_zero = s.reach ? "movement onset" : s.time_zero;
    const int reach = s.reach;
    sl_trialset_free(&s);
    if (st) return st;
    if (!w && !reach) lo = hi = NAN; /* no movement onset: the whole trial */
    for (int t = 0; t < T; t++) tim[t] -= onset;
    int first = 0, Tk = T;
    if (!isnan(lo)) st = time_window(tim, T, lo * 1e-3, hi * 1e-3, 3, &first, &Tk);
    out->x = st ? NULL : malloc((size_t)C * Tk * N * sizeof *out->x);
    out->z = st ? NULL : malloc((size_t)C * Tk * O * sizeof *out->z);
    out->y = st || !y ? NULL : malloc((size_t)C * Tk * O * sizeof *out->y);
    out->time_s = st ? NULL : malloc((size_t)Tk * sizeof *out->time_s);
    if (!st && (!out->x || !out->z || (y && !out->y) || !out->time_s))
        st = sl_fail(SL_ENOMEM, "out of memory");
    for (int c = 0; !st && c < C; c++) {
        memcpy(out->x + (size_t)c * Tk * N, x + ((size_t)c * T + first) * N, (size_t)Tk * N * sizeof *x);
        memcpy(out->z + (size_t)c * Tk * O, z + ((size_t)c * T + first) * O, (size_t)Tk * O * sizeof *z);
        if (y) memcpy(out->y + (size_t)c * Tk * O, y + ((size_t)c * T + first) * O, (size_t)Tk * O * sizeof *y);
    }
    if (!st) memcpy(out->time_s, tim + first, (size_t)Tk * sizeof *tim);
    free(x);
    free(z);
    free(y);
    free(tim);
    if (st) {
        sl_an_rates_free(out);
        return st;
    }
    out->C = C;
    out->T = Tk;
    out->N = N;
    out->O = O;
    out->onset_s = onset;
    out->lo_ms = nearbyint(out->time_s[0] * 1e9) * 1e-6; /* ms, without rounding noise */
    out->hi_ms = nearbyint(out->time_s[Tk - 1] * 1e9) * 1e-6;
    return SL_OK;
}

/* the window [a, b) in steps from "A:B" ms relative to t_zero */
sl_status sl_an_window(const sl_analysis_ctx *ctx, const sl_trialset *s, int *a, int *b)
{
    const char *w = sl_analysis_opt(ctx, "window");
    *a = 0, *b = s->T;
    if (!w) return SL_OK;
    double x, y;
    sl_status st = sl_an_parse_window(w, "--window", &x, &y);
    if (st) return st;
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
