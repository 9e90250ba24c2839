/* io.c — what every analysis runner (and `silico compare`) shares: writing
 * .npy and JSON into its folder RUN/analysis/<name>/, parsing its
 * command-line options (numbers, lists, --delay, --window), and the summary
 * fields of the condition-averaged rates. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "core/files.h"

sl_status sl_an_write_f32(const char *dir, const char *name, int ndim, const int64_t *shape,
                          const sl_real *data)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    float *f = malloc((n ? n : 1) * sizeof *f);
    if (!f) return sl_fail(SL_ENOMEM, "%s/%s: out of memory", dir, name);
    for (size_t i = 0; i < n; i++) f[i] = (float)data[i];
    sl_status st = slc_write_npy(dir, name, SL_F32, ndim, shape, f);
    free(f);
    return st;
}

sl_status sl_an_write_f64(const char *dir, const char *name, int ndim, const int64_t *shape,
                          const double *data)
{
    return slc_write_npy(dir, name, SL_F64, ndim, shape, data);
}

sl_status sl_an_write_i32(const char *dir, const char *name, int ndim, const int64_t *shape,
                          const int32_t *data)
{
    return slc_write_npy(dir, name, SL_I32, ndim, shape, data);
}

sl_status sl_an_write_json(const char *dir, const char *name, const void *json)
{
    return slc_write_json(dir, name, json);
}

sl_status sl_an_opt_real(const sl_analysis_ctx *ctx, const char *key, double def, double *out)
{
    const char *v = sl_analysis_opt(ctx, key);
    *out = def;
    if (!v) return SL_OK;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x))
        return sl_fail(SL_EINVAL, "--%s: expected a finite number, got '%s'", key, v);
    *out = x;
    return SL_OK;
}

sl_status sl_an_opt_int(const sl_analysis_ctx *ctx, const char *key, long def, long lo, long hi,
                        long *out)
{
    const char *v = sl_analysis_opt(ctx, key);
    *out = def;
    if (!v) return SL_OK;
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi)
        return sl_fail(SL_EINVAL, "--%s: expected an integer in [%ld, %ld], got '%s'", key, lo, hi,
                       v);
    *out = x;
    return SL_OK;
}

sl_status sl_an_opt_list(const sl_analysis_ctx *ctx, const char *key, const char *def,
                         double *out, int max, int *n)
{
    const char *v = sl_analysis_opt(ctx, key);
    if (!v) v = def;
    *n = 0;
    const char *p = v;
    while (*p) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !isfinite(x) || (*end && *end != ','))
            return sl_fail(SL_EINVAL, "--%s: expected comma-separated numbers, got '%s'", key, v);
        if (*n >= max) return sl_fail(SL_EINVAL, "--%s: at most %d values", key, max);
        out[(*n)++] = x;
        p = *end ? end + 1 : end;
    }
    if (*n == 0) return sl_fail(SL_EINVAL, "--%s: no values given", key);
    return SL_OK;
}

void sl_an_json_num(void *json, const char *key, double v) { slc_json_num(json, key, v); }

void sl_an_mean_sd(const double *x, int n, double *mean, double *sd)
{
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    *mean = m;
    *sd = sqrt(v / n);
}

sl_status sl_an_opt_noise(const sl_analysis_ctx *ctx, double *sigma)
{
    sl_status st = sl_an_opt_real(ctx, "noise", 0.1, sigma);
    if (!st && !(*sigma >= 0)) st = sl_fail(SL_EINVAL, "--noise must be >= 0, got %g", *sigma);
    return st;
}

sl_status sl_an_opt_delay(const sl_analysis_ctx *ctx, double *delay_ms)
{
    sl_status st = sl_an_opt_real(ctx, "delay", 0, delay_ms);
    if (!st && sl_analysis_opt(ctx, "delay") && !(*delay_ms > 0))
        st = sl_fail(SL_EINVAL, "--delay must be a positive number of ms, got %g", *delay_ms);
    return st;
}

sl_status sl_an_parse_window(const char *s, const char *opt, double *lo, double *hi)
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

sl_status sl_an_rates_write(const sl_analysis_ctx *ctx, const sl_an_rates *r, void *summary_json)
{
    cJSON *o = summary_json;
    cJSON_AddStringToObject(o, "time_zero", r->time_zero);
    const int reach = !strcmp(r->time_zero, "movement onset");
    if (reach) sl_an_json_num(o, "movement_onset_after_go_ms", r->onset_s * 1e3);
    cJSON *w = cJSON_AddArrayToObject(o, "window_ms");
    cJSON_AddItemToArray(w, cJSON_CreateNumber(r->lo_ms));
    cJSON_AddItemToArray(w, cJSON_CreateNumber(r->hi_ms));
    if (reach) {
        const char *d = sl_analysis_opt(ctx, "delay");
        cJSON_AddStringToObject(o, "delay_ms", d ? d : "all validation delays, go-aligned average");
    }
    cJSON_AddNumberToObject(o, "conditions", r->C);
    cJSON_AddNumberToObject(o, "units", r->N);
    cJSON_AddNumberToObject(o, "dt_ms", r->dt_s * 1e3);
    int64_t sh[1] = {r->T};
    return sl_an_write_f64(ctx->out_dir, "time.npy", 1, sh, r->time_s);
}
