/* sample.c — writing sample trials of a generated task to a directory, so a
 * user can inspect and plot a task without training (`silico task sample`).
 *
 * For N trials, trial k built from validation stream 2k + 1 of the task seed
 * (gen_task.c), T = the longest of the N trials:
 *   ob.npy        N×T×n_obs float32  observations (0 after a trial's end)
 *   gt.npy        N×T int32          labels (classification tasks), or
 *   y.npy         N×T×n_out float32  targets (continuous tasks)
 *   mask.npy      N×T float32        loss mask (0 after a trial's end)
 *   decision.npy  N×T uint8          1 where a decision is scored
 *   periods.json  [{period: {"steps": [start, end), "ms": [start, end]}, ...}, ...]
 *   trials.json   [{variable: value, ...}, ...]
 *   info.json     task, description, dt_ms, n_trials, T, T_max, task_seed
 *                 (a decimal string: it may need 64 bits), classification,
 *                 obs_names, out_names, score_name, config (every task.* key
 *                 and run.seed as resolved).
 * Nothing is written unless every trial was built; dir must not exist. */
#include "core/files.h"
#include "tasks/gen_task.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir dir (its parents too); SL_EEXIST if it exists. */
static sl_status make_dir(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return sl_fail(SL_EINVAL, "%s: path too long", dir);
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/') buf[--len] = 0;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return sl_fail(SL_EIO, "cannot create %s: %s", buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0777) != 0) {
        if (errno == EEXIST)
            return sl_fail(SL_EEXIST, "%s already exists; refusing to overwrite it (choose another "
                                      "output directory)",
                           buf);
        return sl_fail(SL_EIO, "cannot create %s: %s", buf, strerror(errno));
    }
    return SL_OK;
}

static cJSON *names_json(const char *const *names, int n, const char *prefix)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        char buf[48];
        const char *s = names && names[i] ? names[i] : (snprintf(buf, sizeof buf, "%s%d", prefix, i), buf);
        cJSON_AddItemToArray(a, cJSON_CreateString(s));
    }
    return a;
}

static cJSON *pair(double a, double b)
{
    cJSON *p = cJSON_CreateArray();
    cJSON_AddItemToArray(p, cJSON_CreateNumber(a));
    cJSON_AddItemToArray(p, cJSON_CreateNumber(b));
    return p;
}

static sl_status one_trial(const sl_taskgen *g, void *state, uint64_t seed, int k, sl_trial *t)
{
    sl_rng r;
    sl_rng_seed_stream(&r, seed, 2 * (uint64_t)k + 1);
    sl_trial_begin(t, &r);
    sl_status st = g->new_trial(state, t);
    t->rng = NULL;
    if (!st) st = sl_trial_check(t);
    if (st) return sl_fail_context(st, "task %s, trial %d", g->name, k);
    if (t->T < 1) return sl_fail(SL_EINVAL, "task %s, trial %d: empty trial", g->name, k);
    return SL_OK;
}

sl_status sl_taskgen_sample(const sl_taskgen *g, const sl_config *c, int n_trials, const char *dir)
{
    if (!g || !c || !dir) return sl_fail(SL_EINVAL, "sl_taskgen_sample: NULL argument");
    if (n_trials < 1 || n_trials > 10000000)
        return sl_fail(SL_EINVAL, "trials must be in [1, 10000000], got %d", n_trials);
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return sl_fail(SL_EEXIST, "%s already exists; refusing to overwrite it (choose another "
                                  "output directory)",
                       dir);
    void *state = NULL;
    sl_taskgen_shape sh;
    memset(&sh, 0, sizeof sh);
    sl_status st = g->create(c, &state, &sh);
    if (st) return sl_fail_context(st, "task %s", g->name);
    const uint64_t seed = sl_gen_task_seed_of(c);
    sl_trial t;
    memset(&t, 0, sizeof t);
    float *ob = NULL, *y = NULL, *mask = NULL;
    int32_t *gt = NULL;
    unsigned char *dec = NULL;
    cJSON *periods = NULL, *trials = NULL, *info = NULL;
    int T = 0;
    st = sl_trial_init(&t, sh.dt, sh.n_obs, sh.n_out, sh.classification, sh.T_max);
    if (st) st = sl_fail_context(st, "task %s", g->name);
    /* pass 1: the longest trial */
    for (int k = 0; !st && k < n_trials; k++) {
        st = one_trial(g, state, seed, k, &t);
        if (!st && t.T > T) T = t.T;
    }
    const size_t N = (size_t)n_trials, ni = (size_t)sh.n_obs, no = (size_t)sh.n_out;
    if (!st) {
        ob = calloc(N * T * ni, sizeof *ob);
        mask = calloc(N * T, sizeof *mask);
        dec = calloc(N * T, 1);
        if (sh.classification)
            gt = calloc(N * T, sizeof *gt);
        else
            y = calloc(N * T * no, sizeof *y);
        periods = cJSON_CreateArray();
        trials = cJSON_CreateArray();
        info = cJSON_CreateObject();
        if (!ob || !mask || !dec || (sh.classification ? !gt : !y) || !periods || !trials || !info)
            st = sl_fail(SL_ENOMEM, "task sample: out of memory for %d trials of %d steps",
                         n_trials, T);
    }
    /* pass 2: the arrays and JSON */
    for (int k = 0; !st && k < n_trials; k++) {
        if ((st = one_trial(g, state, seed, k, &t))) break;
        size_t r0 = (size_t)k * T;
        memcpy(ob + r0 * ni, t.ob, (size_t)t.T * ni * sizeof *ob);
        memcpy(mask + r0, t.mask, (size_t)t.T * sizeof *mask);
        memcpy(dec + r0, t.decision, (size_t)t.T);
        if (sh.classification)
            for (int s = 0; s < t.T; s++) gt[r0 + s] = t.gt[s];
        else
            memcpy(y + r0 * no, t.y, (size_t)t.T * no * sizeof *y);
        cJSON *p = cJSON_CreateObject(), *v = cJSON_CreateObject();
        for (int i = 0; p && i < t.n_periods; i++) {
            const sl_period *q = &t.period[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "steps", pair(q->start, q->end));
            cJSON_AddItemToObject(o, "ms", pair(q->start_ms, q->end_ms));
            cJSON_AddItemToObject(p, q->name, o);
        }
        for (int i = 0; v && i < t.n_vars; i++) cJSON_AddNumberToObject(v, t.var[i].name, t.var[i].value);
        cJSON_AddItemToArray(periods, p);
        cJSON_AddItemToArray(trials, v);
    }
    if (!st) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIu64, seed);
        cJSON_AddStringToObject(info, "task", g->name);
        cJSON_AddStringToObject(info, "description", g->description ? g->description : "");
        cJSON_AddNumberToObject(info, "dt_ms", sh.dt);
        cJSON_AddNumberToObject(info, "n_trials", n_trials);
        cJSON_AddNumberToObject(info, "T", T);
        cJSON_AddNumberToObject(info, "T_max", sh.T_max);
        cJSON_AddStringToObject(info, "task_seed", buf);
        cJSON_AddBoolToObject(info, "classification", sh.classification);
        cJSON_AddItemToObject(info, "obs_names", names_json(sh.obs_names, sh.n_obs, "ob"));
        cJSON_AddItemToObject(info, "out_names", names_json(sh.out_names, sh.n_out, "out"));
        if (g->score_name)
            cJSON_AddStringToObject(info, "score_name", g->score_name);
        else
            cJSON_AddNullToObject(info, "score_name");
        cJSON *cfg = cJSON_CreateObject();
        int nk;
        const sl_keydef *keys = sl_config_keys(&nk);
        for (int i = 0; cfg && i < nk; i++)
            if (!strncmp(keys[i].name, "task.", 5) || !strcmp(keys[i].name, "run.seed"))
                cJSON_AddStringToObject(cfg, keys[i].name, sl_config_str(c, keys[i].name));
        cJSON_AddItemToObject(info, "config", cfg);
        st = make_dir(dir);
    }
    int64_t s3[3] = {(int64_t)N, T, (int64_t)ni};
    if (!st) st = slc_write_npy(dir, "ob.npy", SL_F32, 3, s3, ob);
    if (!st && sh.classification) st = slc_write_npy(dir, "gt.npy", SL_I32, 2, s3, gt);
    s3[2] = (int64_t)no;
    if (!st && !sh.classification) st = slc_write_npy(dir, "y.npy", SL_F32, 3, s3, y);
    if (!st) st = slc_write_npy(dir, "mask.npy", SL_F32, 2, s3, mask);
    if (!st) st = slc_write_npy(dir, "decision.npy", SL_U8, 2, s3, dec);
    if (!st) st = slc_write_json(dir, "periods.json", periods);
    if (!st) st = slc_write_json(dir, "trials.json", trials);
    if (!st) st = slc_write_json(dir, "info.json", info);
    cJSON_Delete(periods);
    cJSON_Delete(trials);
    cJSON_Delete(info);
    free(ob);
    free(y);
    free(mask);
    free(gt);
    free(dec);
    sl_trial_free(&t);
    if (g->destroy) g->destroy(state);
    return st;
}
