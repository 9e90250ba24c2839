/* geometry_activity.c — the condition-averaged rates the geometry analyses
 * (pca, tangling, jpca, compare) read from a trained recurrent network, and
 * their file helpers.
 *
 *   r̄_c(t) = (1/|K_c|) Σ_{k ∈ K_c} r_k(g_k + t),   t ∈ [−min_k g_k, min_k (T−1−g_k)]
 *
 * over the validation trials K_c of condition c, run without noise, each
 * aligned on its go step g_k (reach-family tasks; the same conventions as
 * activity/: time zero = the go cue). The go-to-movement lag is read from
 * the targets ȳ(t) (mean over trials and outputs, aligned the same way):
 * the first t ≥ 0 where ȳ(t) ≥ ȳ(0) + 0.05 (max_{t≥0} ȳ − ȳ(0)) — for the
 * reach EMG at dt = 10 ms and task.emg_go_ms = 400 this is 210 ms (the
 * normalised, binned targets; data/reach/README.md puts the raw population
 * EMG's 5% crossing at sample 651, 251 ms after the go sample 400).
 * Other tasks: trials grouped by the batch's condition index (one condition
 * per trial when the task gives none), time from the trial start. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/geometry.h"
#include "tasks/reach.h"

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

sl_status geo_write_json(const char *dir, const char *name, const cJSON *obj)
{
    char *path = join(dir, name), *text = cJSON_Print(obj);
    sl_status st = SL_OK;
    FILE *f = (path && text) ? fopen(path, "w") : NULL;
    if (!f)
        st = sl_fail(SL_EIO, "cannot write %s", path ? path : name);
    else {
        fputs(text, f);
        fputc('\n', f);
        if (fclose(f) != 0) st = sl_fail(SL_EIO, "cannot write %s", path);
    }
    free(text);
    free(path);
    return st;
}

sl_status geo_write_f64(const char *dir, const char *name, const double *x, int ndim,
                        const int64_t *shape)
{
    sl_array a = {.dtype = SL_F64, .ndim = ndim, .data = (void *)x};
    for (int i = 0; i < ndim; i++) a.shape[i] = shape[i];
    char *path = join(dir, name);
    if (!path) return sl_fail(SL_ENOMEM, "out of memory");
    sl_status st = sl_npy_write(path, &a);
    free(path);
    return st;
}

void geo_json_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

sl_status geo_parse_window(const char *s, const char *opt, double *lo, double *hi)
{
    char *end;
    double a = strtod(s, &end);
    if (end == s || *end != ':')
        return sl_fail(SL_EINVAL, "%s '%s': expected START:END in ms, e.g. -50:550", opt, s);
    const char *t = end + 1;
    double b = strtod(t, &end);
    if (end == t || *end || !isfinite(a) || !isfinite(b) || !(b > a))
        return sl_fail(SL_EINVAL, "%s '%s': expected START:END in ms with START < END", opt, s);
    *lo = a;
    *hi = b;
    return SL_OK;
}

sl_status geo_window(const double *time_s, int T, double lo, double hi, int min_T, int *first,
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

double *geo_slab(const double *X, int C, int T, int N, int first, int Tk)
{
    double *o = malloc((size_t)C * Tk * N * sizeof *o);
    if (!o) {
        sl_fail(SL_ENOMEM, "out of memory");
        return NULL;
    }
    for (int c = 0; c < C; c++)
        memcpy(o + (size_t)c * Tk * N, X + ((size_t)c * T + first) * N,
               (size_t)Tk * N * sizeof *o);
    return o;
}

typedef struct {
    int cond, go;
} trial_tag;

sl_status sl_condition_rates(sl_model *m, sl_task *t, double delay_ms, double **rates,
                             double **time_s, int *C, int *T, int *N, double *movement_onset_s)
{
    *rates = *time_s = NULL;
    const sl_model_spec *sp = sl_model_get_spec(m);
    if (t->n_in != sp->n_in || t->n_out != sp->n_out)
        return sl_fail(SL_EINVAL, "the task has %d inputs and %d outputs but the network %d and %d",
                       t->n_in, t->n_out, sp->n_in, sp->n_out);
    const int Tt = t->T, Nn = sp->n_hidden, O = t->n_out, reach = sl_reach_is(t);
    const sl_split splits[2] = {SL_SPLIT_VAL, SL_SPLIT_HOLDOUT};
    /* count trials */
    long n_tr = 0;
    for (int s = 0; s < 2; s++) {
        int nb = t->ops->num_batches(t, splits[s]);
        sl_batch b = {0};
        sl_rng order;
        sl_rng_seed(&order, 0);
        sl_status st = nb > 0 ? t->ops->start_epoch(t, splits[s], &order) : SL_OK;
        if (st) return st;
        for (int i = 0; i < nb; i++) {
            st = t->ops->batch(t, splits[s], i, NULL, &b);
            if (st) return st;
            n_tr += b.B;
        }
        if (!reach) break; /* generic tasks: the validation split only */
    }
    if (n_tr == 0) return sl_fail(SL_EINVAL, "the task has no validation trials to run");
    sl_workspace *ws = NULL;
    sl_real *r = malloc((size_t)t->max_batch * Tt * Nn * sizeof *r);
    double *acc = calloc((size_t)n_tr * Tt * Nn, sizeof *acc); /* per-trial rates */
    double *ybar = calloc((size_t)n_tr * Tt, sizeof *ybar);
    trial_tag *tag = malloc((size_t)n_tr * sizeof *tag);
    sl_status st = sl_workspace_create(m, t->max_batch, Tt, &ws);
    if (!st && (!r || !acc || !ybar || !tag)) st = sl_fail(SL_ENOMEM, "activity: out of memory");
    long k = 0;
    int n_cond = 0; /* set below */
    for (int s = 0; s < 2 && !st; s++) {
        sl_rng order;
        sl_rng_seed(&order, 0);
        if ((st = t->ops->start_epoch(t, splits[s], &order))) break;
        int nb = t->ops->num_batches(t, splits[s]);
        for (int i = 0; i < nb && !st; i++) {
            sl_batch b = {0};
            if ((st = t->ops->batch(t, splits[s], i, NULL, &b))) break;
            if ((st = sl_model_forward(m, ws, b.u, b.B, b.T, NULL, NULL))) break;
            sl_model_states(ws, NULL, r);
            for (int row = 0; row < b.B; row++) {
                int cond = b.cond ? b.cond[row] : (int)k, go = 0;
                if (reach) {
                    sl_reach_item it;
                    if ((st = sl_reach_batch_item(t, splits[s], i, row, &it))) break;
                    if (delay_ms > 0 && fabs(it.delay_ms - delay_ms) > 1e-6) continue;
                    cond = it.cond;
                    go = it.go_step;
                }
                tag[k] = (trial_tag){cond, go};
                /* a batch shorter than the task's T (padded tasks) leaves zeros */
                const int bt = b.T < Tt ? b.T : Tt;
                for (size_t q = 0; q < (size_t)bt * Nn; q++)
                    acc[(size_t)k * Tt * Nn + q] = r[(size_t)row * b.T * Nn + q];
                if (b.y)
                    for (int tt = 0; tt < bt; tt++) {
                        double sy = 0;
                        for (int o = 0; o < O; o++) sy += b.y[((size_t)row * b.T + tt) * O + o];
                        ybar[(size_t)k * Tt + tt] = sy / O;
                    }
                k++;
            }
        }
        if (!reach) break;
    }
    if (!st && k == 0)
        st = sl_fail(SL_EINVAL, "no validation trial has a delay of %g ms", delay_ms);
    if (!st && !reach) {
        /* dense condition indices: the distinct labels in ascending order */
        int lo = tag[0].cond, hi = tag[0].cond;
        for (long i = 1; i < k; i++) {
            lo = tag[i].cond < lo ? tag[i].cond : lo;
            hi = tag[i].cond > hi ? tag[i].cond : hi;
        }
        int *rank = calloc((size_t)(hi - lo + 1), sizeof *rank);
        if (!rank) st = sl_fail(SL_ENOMEM, "activity: out of memory");
        for (long i = 0; !st && i < k; i++) rank[tag[i].cond - lo] = 1;
        n_cond = 0;
        for (int c = 0; !st && c <= hi - lo; c++) rank[c] = rank[c] ? n_cond++ : -1;
        for (long i = 0; !st && i < k; i++) tag[i].cond = rank[tag[i].cond - lo];
        free(rank);
    }
    int pre = 0, post = Tt - 1;
    if (!st && reach) {
        n_cond = sl_reach_num_conditions(t);
        pre = Tt;
        post = Tt;
        for (long i = 0; i < k; i++) {
            pre = tag[i].go < pre ? tag[i].go : pre;
            post = Tt - 1 - tag[i].go < post ? Tt - 1 - tag[i].go : post;
        }
    }
    const int L = pre + post + 1;
    double *out = NULL, *tim = NULL, *yb = NULL;
    int *cnt = NULL;
    if (!st) {
        out = calloc((size_t)n_cond * L * Nn, sizeof *out);
        tim = malloc((size_t)L * sizeof *tim);
        yb = calloc((size_t)L, sizeof *yb);
        cnt = calloc((size_t)n_cond, sizeof *cnt);
        if (!out || !tim || !yb || !cnt) st = sl_fail(SL_ENOMEM, "activity: out of memory");
    }
    for (long i = 0; i < k && !st; i++) {
        int c = tag[i].cond, g0 = tag[i].go - pre;
        cnt[c]++;
        for (int l = 0; l < L; l++) {
            const double *src = acc + ((size_t)i * Tt + g0 + l) * Nn;
            double *dst = out + ((size_t)c * L + l) * Nn;
            for (int u = 0; u < Nn; u++) dst[u] += src[u];
            yb[l] += ybar[(size_t)i * Tt + g0 + l] / k;
        }
    }
    for (int c = 0; c < n_cond && !st; c++) {
        if (!cnt[c]) {
            st = sl_fail(SL_EINVAL, "condition %d has no validation trial%s", c,
                         delay_ms > 0 ? " with that delay" : "");
            break;
        }
        for (size_t q = 0; q < (size_t)L * Nn; q++) out[(size_t)c * L * Nn + q] /= cnt[c];
    }
    if (!st) {
        for (int l = 0; l < L; l++) tim[l] = (l - pre) * t->dt_ms * 1e-3;
        *movement_onset_s = 0;
        if (reach) {
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
        *C = n_cond;
        *T = L;
        *N = Nn;
        out = tim = NULL;
    }
    free(out);
    free(tim);
    free(yb);
    free(cnt);
    free(r);
    free(acc);
    free(ybar);
    free(tag);
    sl_workspace_free(ws);
    return st;
}

void geo_rates_free(geo_rates *r)
{
    free(r->x);
    free(r->time_s);
    memset(r, 0, sizeof *r);
}

sl_status geo_ctx_rates(const sl_analysis_ctx *ctx, double def_lo, double def_hi, geo_rates *out)
{
    memset(out, 0, sizeof *out);
    if (!ctx->model)
        return sl_fail(SL_EINVAL, "%s: the run's checkpoint is not a recurrent network",
                       ctx->run_dir);
    double delay = 0, lo = def_lo, hi = def_hi;
    const char *s = sl_analysis_opt(ctx, "delay");
    if (s) {
        char *end;
        delay = strtod(s, &end);
        if (end == s || *end || !(delay > 0))
            return sl_fail(SL_EINVAL, "--delay '%s': expected a delay in ms (> 0)", s);
    }
    s = sl_analysis_opt(ctx, "window");
    sl_status st = s ? geo_parse_window(s, "--window", &lo, &hi) : SL_OK;
    if (st) return st;
    sl_task *task = NULL;
    if ((st = sl_task_create(ctx->config, &task))) return st;
    double *x = NULL, *tim = NULL, onset = 0;
    int C, T, N;
    const int reach_task = sl_reach_is(task);
    if (!s && !reach_task) lo = hi = NAN; /* no movement onset: the whole trial */
    st = sl_condition_rates(ctx->model, task, delay, &x, &tim, &C, &T, &N, &onset);
    out->dt_s = task->dt_ms * 1e-3;
    sl_task_free(task);
    if (st) return st;
    for (int t = 0; t < T; t++) tim[t] -= onset;
    int first = 0, Tk = T;
    if (!isnan(lo) && (st = geo_window(tim, T, lo * 1e-3, hi * 1e-3, 3, &first, &Tk))) {
        free(x);
        free(tim);
        return st;
    }
    out->x = geo_slab(x, C, T, N, first, Tk);
    out->time_s = malloc((size_t)Tk * sizeof *out->time_s);
    free(x);
    if (!out->x || !out->time_s) {
        free(tim);
        geo_rates_free(out);
        return sl_fail(SL_ENOMEM, "out of memory");
    }
    memcpy(out->time_s, tim + first, (size_t)Tk * sizeof *tim);
    free(tim);
    out->C = C;
    out->T = Tk;
    out->N = N;
    out->onset_s = onset;
    out->reach = reach_task;
    out->lo_ms = nearbyint(out->time_s[0] * 1e9) * 1e-6; /* ms, without rounding noise */
    out->hi_ms = nearbyint(out->time_s[Tk - 1] * 1e9) * 1e-6;
    int64_t sh[1] = {Tk};
    return geo_write_f64(ctx->out_dir, "time.npy", out->time_s, 1, sh);
}

void geo_summary_common(cJSON *o, const sl_analysis_ctx *ctx, const geo_rates *r)
{
    cJSON_AddStringToObject(o, "time_zero", r->reach ? "movement onset (go cue + the targets' onset lag)"
                                                     : "trial start");
    geo_json_num(o, "movement_onset_after_go_ms", r->onset_s * 1e3);
    cJSON *w = cJSON_AddArrayToObject(o, "window_ms");
    cJSON_AddItemToArray(w, cJSON_CreateNumber(r->lo_ms));
    cJSON_AddItemToArray(w, cJSON_CreateNumber(r->hi_ms));
    const char *d = sl_analysis_opt(ctx, "delay");
    if (d)
        cJSON_AddStringToObject(o, "delay_ms", d);
    else
        cJSON_AddStringToObject(o, "delay_ms", "all validation delays, go-aligned average");
    cJSON_AddNumberToObject(o, "conditions", r->C);
    cJSON_AddNumberToObject(o, "units", r->N);
    cJSON_AddNumberToObject(o, "dt_ms", r->dt_s * 1e3);
}

sl_status geo_opt_num(const sl_analysis_ctx *ctx, const char *key, double def, double *out)
{
    const char *s = sl_analysis_opt(ctx, key);
    *out = def;
    if (!s) return SL_OK;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return sl_fail(SL_EINVAL, "--%s '%s': expected a number", key, s);
    *out = v;
    return SL_OK;
}

sl_status geo_reduce(const double *X, int C, int T, int N, int k, double **out, int *k_used)
{
    int n = C * T, r = n < N ? n : N;
    if (k <= 0 || k > r) k = r;
    sl_pca pca;
    sl_status st = sl_pca_fit(X, n, N, k, &pca);
    if (st) return st;
    *out = malloc((size_t)n * k * sizeof **out);
    if (!*out) st = sl_fail(SL_ENOMEM, "out of memory");
    if (!st) st = sl_pca_project(&pca, X, n, *out);
    sl_pca_free(&pca);
    if (st) {
        free(*out);
        *out = NULL;
    }
    *k_used = k;
    return st;
}
