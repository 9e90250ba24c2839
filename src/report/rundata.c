/* rundata.c — what the figures read from a run directory: .npy arrays as
 * doubles, JSON files, the model kind, and the network's inputs, targets,
 * outputs and rates per condition.
 *
 * Activity: RUN/analysis/activity/{u,y|labels,z,r,time}.npy and
 * conditions.json (written by `silico analyze RUN --only activity`) when
 * present. Otherwise it is computed here from the run itself: the network
 * in checkpoint.safetensors on the first validation batch of the task in
 * config.ini, noise off, one trial per condition (the first of each). Time
 * is then t_s = (s − g)·dt for reach tasks (g the trial's go-cue step, so
 * t = 0 at the go cue) and s·dt from the trial start for other tasks. */
#include "report/figure.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/reach.h"

char *rd_path(const char *run, const char *rel)
{
    size_t n = strlen(run) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", run, rel);
    return p;
}

int rd_exists(const char *run, const char *rel)
{
    char *p = rd_path(run, rel);
    FILE *f = p ? fopen(p, "rb") : NULL;
    free(p);
    if (!f) return 0;
    fclose(f);
    return 1;
}

sl_status rd_npy(const char *run, const char *rel, double **data, int *ndim, int64_t shape[8])
{
    *data = NULL;
    char *p = rd_path(run, rel);
    if (!p) return sl_fail(SL_ENOMEM, "out of memory");
    sl_array a = {0};
    sl_status st = sl_npy_read(p, &a);
    if (st) {
        free(p);
        return st;
    }
    size_t n = sl_array_numel(&a);
    double *d = malloc((n ? n : 1) * sizeof(double));
    if (!d) {
        sl_array_free(&a);
        free(p);
        return sl_fail(SL_ENOMEM, "%s: out of memory", rel);
    }
    for (size_t i = 0; i < n; i++) {
        switch (a.dtype) {
        case SL_F32: d[i] = ((const float *)a.data)[i]; break;
        case SL_F64: d[i] = ((const double *)a.data)[i]; break;
        case SL_I32: d[i] = ((const int32_t *)a.data)[i]; break;
        case SL_I64: d[i] = (double)((const int64_t *)a.data)[i]; break;
        case SL_U8: d[i] = ((const uint8_t *)a.data)[i]; break;
        }
    }
    *ndim = a.ndim;
    for (int k = 0; k < a.ndim && k < 8; k++) shape[k] = a.shape[k];
    sl_array_free(&a);
    free(p);
    *data = d;
    return SL_OK;
}

sl_status rd_npy_dims(const char *run, const char *rel, int ndim, double **data, int64_t shape[8])
{
    int nd;
    sl_status st = rd_npy(run, rel, data, &nd, shape);
    if (st) return st;
    if (nd != ndim) {
        free(*data);
        *data = NULL;
        return sl_fail(SL_EFORMAT, "%s/%s: expected %d dimensions, found %d", run, rel, ndim, nd);
    }
    for (int k = 0; k < nd; k++)
        if (shape[k] <= 0) {
            free(*data);
            *data = NULL;
            return sl_fail(SL_EFORMAT, "%s/%s: empty axis %d", run, rel, k);
        }
    return SL_OK;
}

char *rd_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 8192, len = 0;
    char *text = malloc(cap);
    for (size_t r; text && (r = fread(text + len, 1, cap - len - 1, f)) > 0;) {
        len += r;
        if (len + 1 == cap) {
            char *t = realloc(text, cap *= 2);
            if (!t) {
                free(text);
                text = NULL;
            } else
                text = t;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (text && bad) {
        free(text);
        errno = EIO;
        return NULL;
    }
    if (!text) {
        errno = ENOMEM;
        return NULL;
    }
    text[len] = 0;
    *n = len;
    return text;
}

void *rd_json(const char *run, const char *rel, sl_status *st)
{
    char *p = rd_path(run, rel);
    size_t len;
    char *text = p ? rd_slurp(p, &len) : NULL;
    free(p);
    if (!text) {
        *st = errno == ENOMEM ? sl_fail(SL_ENOMEM, "%s/%s: out of memory", run, rel)
                              : sl_fail(SL_EIO, "cannot open %s/%s: %s", run, rel, strerror(errno));
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) {
        *st = sl_fail(SL_EFORMAT, "%s/%s: not valid JSON", run, rel);
        return NULL;
    }
    *st = SL_OK;
    return j;
}

void *rd_json_opt(const char *run, const char *rel)
{
    sl_status st;
    void *j = rd_exists(run, rel) ? rd_json(run, rel, &st) : NULL;
    sl_clear_error();
    return j;
}

double rd_json_num(const void *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *rd_label(const char *run, char *buf, size_t n)
{
    size_t len = strlen(run);
    while (len > 1 && run[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && run[start - 1] != '/') start--;
    snprintf(buf, n, "%.*s", (int)(len - start), run + start);
    return buf;
}

void rd_model_kind(const char *run, char *kind, size_t n, int *cnn)
{
    kind[0] = 0;
    *cnn = 0;
    sl_config *c = NULL;
    char *p = rd_path(run, "config.ini");
    if (p && !sl_config_new(&c) && !sl_config_load(c, p)) snprintf(kind, n, "%s", sl_config_str(c, "model.type"));
    sl_config_free(c);
    free(p);
    sl_clear_error();
    sl_cell_kind k;
    if (kind[0] && sl_cell_kind_parse(kind, &k) != SL_OK) *cnn = 1;
    if (!kind[0] && rd_exists(run, "analysis/activity/images.npy")) *cnn = 1;
    sl_clear_error();
}

sl_status rd_time_axis(const char *run, int T, double **time, char *xlabel, size_t n)
{
    *time = NULL;
    double *t = NULL;
    int64_t shape[8];
    sl_status st = SL_OK;
    if (rd_exists(run, "analysis/activity/time.npy")) {
        if ((st = rd_npy_dims(run, "analysis/activity/time.npy", 1, &t, shape))) return st;
        if (shape[0] != T) {
            free(t);
            return sl_fail(SL_EFORMAT, "%s/analysis/activity/time.npy: %lld steps, the arrays have %d",
                           run, (long long)shape[0], T);
        }
    } else {
        t = malloc((size_t)T * sizeof(double));
        if (!t) return sl_fail(SL_ENOMEM, "out of memory");
        for (int i = 0; i < T; i++) t[i] = i;
    }
    snprintf(xlabel, n, "time (s)");
    cJSON *s = rd_json_opt(run, "analysis/activity/summary.json");
    const cJSON *tz = s ? cJSON_GetObjectItemCaseSensitive(s, "time_zero") : NULL;
    if (cJSON_IsString(tz) && tz->valuestring[0])
        snprintf(xlabel, n, "time from %s (s)", tz->valuestring);
    else if (!rd_exists(run, "analysis/activity/time.npy"))
        snprintf(xlabel, n, "time step");
    cJSON_Delete(s);
    *time = t;
    return SL_OK;
}

void rd_activity_free(rd_activity *a)
{
    free(a->u);
    free(a->y);
    free(a->z);
    free(a->r);
    free(a->labels);
    free(a->time);
    if (a->cond_label)
        for (int c = 0; c < a->C; c++) free(a->cond_label[c]);
    free(a->cond_label);
    memset(a, 0, sizeof *a);
}

static sl_status alloc_labels(rd_activity *a)
{
    a->cond_label = calloc((size_t)a->C, sizeof(char *));
    if (!a->cond_label) return sl_fail(SL_ENOMEM, "out of memory");
    for (int c = 0; c < a->C; c++)
        if (!(a->cond_label[c] = calloc(64, 1))) return sl_fail(SL_ENOMEM, "out of memory");
    return SL_OK;
}

static sl_status check_shape(const char *run, const char *rel, const int64_t *shape, int C, int T)
{
    if (shape[0] != C || shape[1] != T)
        return sl_fail(SL_EFORMAT, "%s/%s: shape %lld×%lld×… does not match u.npy's %d×%d", run, rel,
                       (long long)shape[0], (long long)shape[1], C, T);
    return SL_OK;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

/* A short legend label per condition from conditions.json: the numeric
 * trial variables whose values differ between conditions, angle_deg as
 * "45°", delay_ms as "400 ms", others as name=value (3 digits); step
 * indices (any name with "_step") and condition indices left out; about 20
 * characters at most, so a label fits a panel title. When none differ: the
 * entry's "label", else "condition c". */
static void short_labels(const cJSON *list, rd_activity *a)
{
    const cJSON *first = cJSON_GetArrayItem(list, 0);
    int has_angle = cJSON_GetObjectItemCaseSensitive(first, "angle_deg") != NULL;
    for (int c = 0; c < a->C; c++) {
        const cJSON *e = cJSON_GetArrayItem(list, c);
        char *out = a->cond_label[c];
        size_t used = 0;
        out[0] = 0;
        for (const cJSON *v = e ? e->child : NULL; v && used < 20; v = v->next) {
            if (!cJSON_IsNumber(v) || strstr(v->string, "_step") || !strcmp(v->string, "condition_index") ||
                (has_angle && !strcmp(v->string, "condition")))
                continue;
            int differs = 0;
            for (int q = 0; q < a->C && !differs; q++) {
                const cJSON *w = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, q), v->string);
                differs = !cJSON_IsNumber(w) || w->valuedouble != v->valuedouble;
            }
            if (!differs) continue;
            const char *sep = used ? " " : "";
            if (!strcmp(v->string, "angle_deg"))
                used += (size_t)snprintf(out + used, 64 - used, "%s%g°", sep, v->valuedouble);
            else if (ends_with(v->string, "_ms"))
                used += (size_t)snprintf(out + used, 64 - used, "%s%g ms", sep, v->valuedouble);
            else
                used += (size_t)snprintf(out + used, 64 - used, "%s%s=%.3g", sep, v->string, v->valuedouble);
        }
        if (!out[0]) {
            const cJSON *l = cJSON_GetObjectItemCaseSensitive(e, "label");
            if (cJSON_IsString(l) && l->valuestring[0])
                snprintf(out, 64, "%s", l->valuestring);
            else
                snprintf(out, 64, "condition %d", c);
        }
    }
}

static sl_status activity_from_analysis(const char *run, int need_rates, rd_activity *a)
{
    int64_t sh[8];
    sl_status st = rd_npy_dims(run, "analysis/activity/u.npy", 3, &a->u, sh);
    if (st) return st;
    a->C = (int)sh[0];
    a->T = (int)sh[1];
    a->n_in = (int)sh[2];
    if ((st = rd_npy_dims(run, "analysis/activity/z.npy", 3, &a->z, sh))) return st;
    if ((st = check_shape(run, "analysis/activity/z.npy", sh, a->C, a->T))) return st;
    a->n_out = (int)sh[2];
    if (rd_exists(run, "analysis/activity/y.npy")) {
        if ((st = rd_npy_dims(run, "analysis/activity/y.npy", 3, &a->y, sh))) return st;
        if ((st = check_shape(run, "analysis/activity/y.npy", sh, a->C, a->T))) return st;
        if (sh[2] != a->n_out)
            return sl_fail(SL_EFORMAT, "%s/analysis/activity/y.npy: %lld outputs, z.npy has %d", run,
                           (long long)sh[2], a->n_out);
    } else if (rd_exists(run, "analysis/activity/labels.npy")) {
        double *l;
        if ((st = rd_npy_dims(run, "analysis/activity/labels.npy", 2, &l, sh))) return st;
        if ((st = check_shape(run, "analysis/activity/labels.npy", sh, a->C, a->T))) {
            free(l);
            return st;
        }
        a->labels = malloc((size_t)a->C * a->T * sizeof(int));
        if (!a->labels) {
            free(l);
            return sl_fail(SL_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < (size_t)a->C * a->T; i++) a->labels[i] = (int)l[i];
        free(l);
    }
    if (need_rates) {
        if ((st = rd_npy_dims(run, "analysis/activity/r.npy", 3, &a->r, sh))) return st;
        if ((st = check_shape(run, "analysis/activity/r.npy", sh, a->C, a->T))) return st;
        a->N = (int)sh[2];
    }
    double *t1;
    if ((st = rd_time_axis(run, a->T, &t1, a->xlabel, sizeof a->xlabel))) return st;
    a->time = malloc((size_t)a->C * a->T * sizeof(double));
    if (!a->time) {
        free(t1);
        return sl_fail(SL_ENOMEM, "out of memory");
    }
    for (int c = 0; c < a->C; c++) memcpy(a->time + (size_t)c * a->T, t1, (size_t)a->T * sizeof(double));
    free(t1);
    if ((st = alloc_labels(a))) return st;
    cJSON *cj = rd_json_opt(run, "analysis/activity/conditions.json");
    const cJSON *list = cJSON_IsArray(cj) ? cj : cJSON_GetObjectItemCaseSensitive(cj, "conditions");
    short_labels(cJSON_IsArray(list) ? list : NULL, a);
    cJSON_Delete(cj);
    a->from_activity = 1;
    return SL_OK;
}

static sl_status activity_from_checkpoint(const char *run, rd_activity *a)
{
    sl_config *cfg = NULL;
    sl_model *m = NULL;
    sl_task *t = NULL;
    sl_workspace *ws = NULL;
    sl_real *z = NULL, *r = NULL;
    char *cp = rd_path(run, "config.ini"), *mp = rd_path(run, "checkpoint.safetensors");
    sl_status st = (!cp || !mp) ? sl_fail(SL_ENOMEM, "out of memory") : sl_config_new(&cfg);
    if (!st) st = sl_config_load(cfg, cp);
    if (!st) st = sl_model_load(mp, &m, NULL);
    if (!st) st = sl_task_create(cfg, &t);
    sl_rng rng;
    sl_rng_seed(&rng, 0);
    sl_batch b = {0};
    if (!st && t->ops->num_batches(t, SL_SPLIT_VAL) < 1)
        st = sl_fail(SL_EINVAL, "%s: the task has no validation trials to show", run);
    if (!st) st = t->ops->start_epoch(t, SL_SPLIT_VAL, &rng);
    if (!st) st = t->ops->batch(t, SL_SPLIT_VAL, 0, NULL, &b);
    const sl_model_spec *spec = m ? sl_model_get_spec(m) : NULL;
    if (!st && (spec->n_in != b.n_in || spec->n_out != b.n_out))
        st = sl_fail(SL_EINVAL, "%s: the checkpoint's network (%d inputs, %d outputs) does not fit its task (%d, %d)",
                     run, spec->n_in, spec->n_out, b.n_in, b.n_out);
    if (!st) st = sl_workspace_create(m, b.B, b.T, &ws);
    const int N = spec ? spec->n_hidden : 0;
    if (!st) {
        z = malloc((size_t)b.B * b.T * b.n_out * sizeof(sl_real));
        r = malloc((size_t)b.B * b.T * N * sizeof(sl_real));
        if (!z || !r) st = sl_fail(SL_ENOMEM, "out of memory");
    }
    if (!st) st = sl_model_forward(m, ws, b.u, b.B, b.T, NULL, z);
    int rows[64], nrows = 0;
    if (!st) {
        sl_model_states(ws, NULL, r);
        for (int i = 0; i < b.B && nrows < 64; i++) {
            int seen = 0;
            for (int k = 0; k < nrows && b.cond; k++) seen |= b.cond[rows[k]] == b.cond[i];
            if (!seen) rows[nrows++] = i;
            if (!b.cond && nrows == 8) break;
        }
        /* conditions in increasing order */
        for (int i = 1; i < nrows && b.cond; i++)
            for (int k = i; k > 0 && b.cond[rows[k]] < b.cond[rows[k - 1]]; k--) {
                int tmp = rows[k];
                rows[k] = rows[k - 1];
                rows[k - 1] = tmp;
            }
        a->C = nrows;
        a->T = b.T;
        a->n_in = b.n_in;
        a->n_out = b.n_out;
        a->N = N;
        size_t CT = (size_t)nrows * b.T;
        a->u = malloc(CT * b.n_in * sizeof(double));
        a->z = malloc(CT * b.n_out * sizeof(double));
        a->r = malloc(CT * N * sizeof(double));
        a->time = malloc(CT * sizeof(double));
        if (b.y) a->y = malloc(CT * b.n_out * sizeof(double));
        if (b.labels) a->labels = malloc(CT * sizeof(int));
        if (!a->u || !a->z || !a->r || !a->time || (b.y && !a->y) || (b.labels && !a->labels))
            st = sl_fail(SL_ENOMEM, "out of memory");
        if (!st) st = alloc_labels(a);
    }
    const int reach = t && sl_reach_is(t);
    for (int c = 0; !st && c < a->C; c++) {
        const size_t src = (size_t)rows[c] * b.T, dst = (size_t)c * b.T;
        for (size_t i = 0; i < (size_t)b.T * b.n_in; i++) a->u[dst * b.n_in + i] = b.u[src * b.n_in + i];
        for (size_t i = 0; i < (size_t)b.T * b.n_out; i++) {
            a->z[dst * b.n_out + i] = z[src * b.n_out + i];
            if (a->y) a->y[dst * b.n_out + i] = b.y[src * b.n_out + i];
        }
        for (size_t i = 0; i < (size_t)b.T * N; i++) a->r[dst * N + i] = r[src * N + i];
        if (a->labels)
            for (int s = 0; s < b.T; s++) a->labels[dst + s] = b.labels[src + s];
        int go = 0;
        if (reach) {
            sl_reach_item it;
            if ((st = sl_reach_batch_item(t, SL_SPLIT_VAL, 0, rows[c], &it))) break;
            go = it.go_step;
            snprintf(a->cond_label[c], 64, "%.0f°", sl_reach_angle(t, it.cond) * 180.0 / M_PI);
        } else
            snprintf(a->cond_label[c], 64, "condition %d", b.cond ? b.cond[rows[c]] : c);
        for (int s = 0; s < b.T; s++) a->time[dst + s] = (s - go) * t->dt_ms / 1000.0;
    }
    if (!st)
        snprintf(a->xlabel, sizeof a->xlabel, "%s", reach ? "time from go cue (s)" : "time from trial start (s)");
    free(z);
    free(r);
    sl_workspace_free(ws);
    sl_task_free(t);
    sl_model_free(m);
    sl_config_free(cfg);
    free(cp);
    free(mp);
    return st;
}

sl_status rd_activity_load(const char *run, int need_rates, rd_activity *a)
{
    memset(a, 0, sizeof *a);
    sl_status st;
    if (rd_exists(run, "analysis/activity/u.npy") &&
        (!need_rates || rd_exists(run, "analysis/activity/r.npy")))
        st = activity_from_analysis(run, need_rates, a);
    else if (rd_exists(run, "checkpoint.safetensors") && rd_exists(run, "config.ini"))
        st = activity_from_checkpoint(run, a);
    else
        st = sl_fail(SL_EIO, "%s: no analysis/activity/u.npy and no checkpoint.safetensors + config.ini "
                             "(run 'silico analyze %s --only activity')", run, run);
    if (st) rd_activity_free(a);
    return st;
}
