/* selectivity.c — how selective each unit is for a binary split of the
 * trials (the coursework's eq. 19):
 *   d′_i = 2(μ_a,i − μ_b,i) / √(σ²_a,i + σ²_b,i)
 * over a unit's activity X_{k,i} in the trials k of groups a and b (σ² with
 * ddof 0, numpy's var). Significance: a Monte-Carlo null of max_i |d′_i| over
 * random relabellings of the trials (group sizes kept).
 *
 * Runner: X = each trial's rate averaged over a window (--window A:B in ms
 * relative to the alignment event; default the whole trial), on the
 * conditions or on --trials K noisy single trials (input noise --noise); the
 * split --split VAR (≤ median vs > median), VAR=V (== V vs the rest),
 * VAR>V, or label=K (the target label at the trial's last masked step is K).
 * Default: condition (else the first trial variable) by its median. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

sl_status sl_dprime(const double *X, int n, int N, const int *group, double *d)
{
    int na = 0, nb = 0;
    for (int k = 0; k < n; k++) {
        if (group[k] == 1) na++;
        else if (group[k] == 0) nb++;
    }
    if (na < 1 || nb < 1)
        return sl_fail(SL_EINVAL, "selectivity: the split leaves %d trial(s) in group a and %d in "
                                  "group b; each needs at least one", na, nb);
    for (int i = 0; i < N; i++) {
        double sa = 0, sb = 0;
        for (int k = 0; k < n; k++) {
            double x = X[(size_t)k * N + i];
            if (!isfinite(x))
                return sl_fail(SL_ENUMERIC, "selectivity: activity of trial %d, unit %d is not finite", k, i);
            if (group[k] == 1) sa += x;
            else if (group[k] == 0) sb += x;
        }
        const double ma = sa / na, mb = sb / nb;
        double va = 0, vb = 0;
        for (int k = 0; k < n; k++) {
            double x = X[(size_t)k * N + i];
            if (group[k] == 1) va += (x - ma) * (x - ma);
            else if (group[k] == 0) vb += (x - mb) * (x - mb);
        }
        const double den = sqrt(va / na + vb / nb);
        d[i] = den > 0 ? 2 * (ma - mb) / den : (ma == mb ? 0.0 : NAN);
    }
    return SL_OK;
}

sl_status sl_dprime_null(const double *X, int n, int N, const int *group, int n_shuffles,
                         uint64_t seed, double *max_abs)
{
    int *g = malloc((size_t)n * sizeof *g);
    double *d = malloc((size_t)N * sizeof *d);
    sl_status st = (!g || !d) ? sl_fail(SL_ENOMEM, "selectivity: out of memory") : SL_OK;
    sl_rng rng;
    sl_rng_seed_stream(&rng, seed, 0x73656cULL);
    if (!st) memcpy(g, group, (size_t)n * sizeof *g);
    for (int s = 0; !st && s < n_shuffles; s++) {
        sl_rng_shuffle(&rng, g, n);
        if ((st = sl_dprime(X, n, N, g, d))) break;
        double m = 0;
        for (int i = 0; i < N; i++)
            if (isfinite(d[i]) && fabs(d[i]) > m) m = fabs(d[i]);
        max_abs[s] = m;
    }
    free(g);
    free(d);
    return st;
}

/* ------------------------------------------------------------------ runner */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the trial's label at its last masked step (classification), or -1 */
static int last_label(const sl_trialset *s, int c)
{
    for (int t = s->T - 1; t >= 0; t--)
        if (s->mask[(size_t)c * s->T + t] > 0) return s->labels[(size_t)c * s->T + t];
    return -1;
}

/* group (per condition) from the --split text; *desc describes it */
static sl_status make_split(const sl_trialset *s, const char *spec, int *group, char *desc, size_t dn)
{
    char var[64];
    size_t k = strcspn(spec, "=>");
    if (k >= sizeof var) return sl_fail(SL_EINVAL, "--split: variable name too long");
    memcpy(var, spec, k);
    var[k] = 0;
    const char op = spec[k];
    double v = 0;
    if (op) {
        char *end;
        v = strtod(spec + k + 1, &end);
        if (end == spec + k + 1 || *end) return sl_fail(SL_EINVAL, "--split %s: '%s' is not a number", spec, spec + k + 1);
    }
    if (!strcmp(var, "label")) {
        if (!s->classification) return sl_fail(SL_EINVAL, "--split label=K: the task has no labels (it is a regression task)");
        if (op != '=') return sl_fail(SL_EINVAL, "--split label needs a class: label=K");
        for (int c = 0; c < s->C; c++) group[c] = last_label(s, c) == (int)v;
        snprintf(desc, dn, "final label == %g vs the rest", v);
        return SL_OK;
    }
    int j = sl_trialset_var(s, var);
    if (j < 0) {
        char known[512] = "";
        size_t u = 0;
        for (int i = 0; i < s->n_vars && u < sizeof known - 40; i++)
            u += (size_t)snprintf(known + u, sizeof known - u, "%s%s", i ? ", " : "", s->var_names[i]);
        return sl_fail(SL_EINVAL, "--split: the trials have no variable '%s' (they have: %s%s)", var,
                       known[0] ? known : "none", s->classification ? "; or label=K" : "");
    }
    if (!op) { /* ≤ median vs > median */
        double *x = malloc((size_t)s->C * sizeof *x);
        if (!x) return sl_fail(SL_ENOMEM, "selectivity: out of memory");
        for (int c = 0; c < s->C; c++) x[c] = s->vars[(size_t)c * SL_TRIALSET_MAX_VARS + j];
        qsort(x, (size_t)s->C, sizeof *x, cmp_double);
        v = x[(s->C - 1) / 2];
        free(x);
        snprintf(desc, dn, "%s > %g (median) vs <= %g", var, v, v);
    } else {
        snprintf(desc, dn, "%s %s %g vs the rest", var, op == '=' ? "==" : ">", v);
    }
    for (int c = 0; c < s->C; c++) {
        double x = s->vars[(size_t)c * SL_TRIALSET_MAX_VARS + j];
        group[c] = isnan(x) ? -1 : op == '=' ? x == v : x > v;
    }
    return SL_OK;
}

sl_status sl_run_selectivity(sl_analysis_ctx *ctx)
{
    long K, seed, shuffles;
    double sigma;
    sl_status st;
    if ((st = sl_an_opt_int(ctx, "trials", 0, 0, 100000, &K)) ||
        (st = sl_an_opt_noise(ctx, &sigma)) ||
        (st = sl_an_opt_int(ctx, "seed", 1, 0, 0x7fffffffL, &seed)) ||
        (st = sl_an_opt_int(ctx, "shuffles", 1000, 0, 10000000, &shuffles)))
        return st;
    sl_trialset s;
    if ((st = sl_an_trialset(ctx, &s))) return st;
    const int C = s.C, T = s.T, N = sl_model_get_spec(ctx->model)->n_hidden;
    const int n = K > 0 ? (int)K : C;
    int a0, a1;
    int *gc = malloc((size_t)C * sizeof *gc), *g = malloc((size_t)n * sizeof *g), *cond = malloc((size_t)n * sizeof *cond);
    double *X = malloc((size_t)n * N * sizeof *X), *d = malloc((size_t)N * sizeof *d);
    double *mx = malloc((size_t)N * sizeof *mx), *null = malloc((size_t)(shuffles ? shuffles : 1) * sizeof *null);
    sl_activity act;
    memset(&act, 0, sizeof act);
    cJSON *sum = cJSON_CreateObject(), *files = cJSON_CreateObject();
    char desc[200];
    const char *split = sl_analysis_opt(ctx, "split");
    char defsplit[40];
    if (!split) {
        int j = sl_trialset_var(&s, "condition");
        if (j < 0 && s.n_vars > 0) j = 0;
        if (j < 0) {
            st = sl_fail(SL_EINVAL, "selectivity: the trials have no variables to split by; give --split label=K");
            goto done;
        }
        snprintf(defsplit, sizeof defsplit, "%s", s.var_names[j]);
        split = defsplit;
    }
    if (!gc || !g || !cond || !X || !d || !mx || !null) {
        st = sl_fail(SL_ENOMEM, "selectivity: out of memory");
        goto done;
    }
    if ((st = make_split(&s, split, gc, desc, sizeof desc)) || (st = sl_an_window(ctx, &s, &a0, &a1))) goto done;
    if (K > 0) {
        st = sl_an_noisy_activity(ctx->model, &s, n, sigma, (uint64_t)seed, cond, NULL, &act);
    } else {
        for (int k = 0; k < n; k++) cond[k] = k;
        st = sl_activity_run(ctx->model, s.u, n, T, NULL, &act);
    }
    if (st) goto done;
    for (int k = 0; k < n; k++) g[k] = gc[cond[k]];
    sl_an_window_mean(act.r, n, T, N, a0, a1, X);
    if ((st = sl_dprime(X, n, N, g, d))) goto done;
    for (int i = 0; i < N; i++) {
        mx[i] = -INFINITY;
        for (int k = 0; k < n; k++)
            for (int t = 0; t < T; t++) {
                double v = act.r[((size_t)k * T + t) * N + i];
                if (v > mx[i]) mx[i] = v;
            }
    }
    double obs = 0;
    int n_sel = 0;
    for (int i = 0; i < N; i++)
        if (isfinite(d[i]) && fabs(d[i]) > obs) obs = fabs(d[i]);
    if (shuffles > 0 && (st = sl_dprime_null(X, n, N, g, (int)shuffles, (uint64_t)seed, null))) goto done;
    int64_t shN[1] = {N}, shS[1] = {shuffles};
    if ((st = sl_an_write_f64(ctx->out_dir, "dprime.npy", 1, shN, d)) ||
        (st = sl_an_write_f64(ctx->out_dir, "max_activation.npy", 1, shN, mx)))
        goto done;
    cJSON_AddStringToObject(files, "dprime.npy", "N d' per unit (group a minus group b), float64");
    cJSON_AddStringToObject(files, "max_activation.npy", "N maximum rate per unit over trials and steps, float64");
    cJSON_AddStringToObject(sum, "analysis", "selectivity");
    cJSON_AddStringToObject(sum, "split", desc);
    {
        int na = 0, nb = 0;
        for (int k = 0; k < n; k++) na += g[k] == 1, nb += g[k] == 0;
        cJSON_AddNumberToObject(sum, "trials_a", na);
        cJSON_AddNumberToObject(sum, "trials_b", nb);
    }
    cJSON_AddStringToObject(sum, "trials", K > 0 ? "noisy single trials" : "conditions (noise-free)");
    cJSON_AddNumberToObject(sum, "window_steps_start", a0);
    cJSON_AddNumberToObject(sum, "window_steps_end", a1);
    cJSON_AddStringToObject(sum, "time_zero", s.time_zero);
    cJSON_AddNumberToObject(sum, "max_abs_dprime", obs);
    if (shuffles > 0) {
        if ((st = sl_an_write_f64(ctx->out_dir, "null_max_abs.npy", 1, shS, null))) goto done;
        cJSON_AddStringToObject(files, "null_max_abs.npy", "shuffles: max |d'| over units for each random relabelling");
        int ge = 0;
        double lo = INFINITY, hi = 0;
        for (int k = 0; k < shuffles; k++) {
            ge += null[k] >= obs;
            if (null[k] < lo) lo = null[k];
            if (null[k] > hi) hi = null[k];
        }
        qsort(null, (size_t)shuffles, sizeof *null, cmp_double);
        const double q95 = null[(size_t)floor(0.95 * (double)(shuffles - 1))];
        for (int i = 0; i < N; i++) n_sel += isfinite(d[i]) && fabs(d[i]) > q95;
        cJSON_AddNumberToObject(sum, "shuffles", (double)shuffles);
        cJSON_AddNumberToObject(sum, "p_value", (ge + 1.0) / (shuffles + 1.0));
        cJSON_AddNumberToObject(sum, "null_max_abs_95", q95);
        cJSON_AddNumberToObject(sum, "units_above_null_95", n_sel);
        cJSON *h = cJSON_CreateObject(), *edges = cJSON_CreateArray(), *counts = cJSON_CreateArray();
        const int nbins = 20;
        if (!(hi > lo)) hi = lo + 1;
        int cnt[20] = {0};
        for (int k = 0; k < shuffles; k++) {
            int b = (int)((null[k] - lo) / (hi - lo) * nbins);
            cnt[b >= nbins ? nbins - 1 : b]++;
        }
        for (int b = 0; b <= nbins; b++) cJSON_AddItemToArray(edges, cJSON_CreateNumber(lo + (hi - lo) * b / nbins));
        for (int b = 0; b < nbins; b++) cJSON_AddItemToArray(counts, cJSON_CreateNumber(cnt[b]));
        cJSON_AddItemToObject(h, "edges", edges);
        cJSON_AddItemToObject(h, "counts", counts);
        cJSON_AddItemToObject(sum, "null_histogram", h);
    }
    {
        /* the 10 most selective units */
        cJSON *top = cJSON_CreateArray();
        int *used = calloc((size_t)N, sizeof *used);
        for (int r = 0; used && r < 10 && r < N; r++) {
            int best = -1;
            for (int i = 0; i < N; i++)
                if (!used[i] && isfinite(d[i]) && (best < 0 || fabs(d[i]) > fabs(d[best]))) best = i;
            if (best < 0) break;
            used[best] = 1;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "unit", best);
            cJSON_AddNumberToObject(o, "dprime", d[best]);
            cJSON_AddItemToArray(top, o);
        }
        free(used);
        cJSON_AddItemToObject(sum, "top_units", top);
    }
    cJSON_AddItemToObject(sum, "files", files);
    files = NULL;
    st = sl_an_write_json(ctx->out_dir, "summary.json", sum);
done:
    cJSON_Delete(sum);
    cJSON_Delete(files);
    sl_activity_free(&act);
    free(gc), free(g), free(cond), free(X), free(d), free(mx), free(null);
    sl_trialset_free(&s);
    return st;
}
