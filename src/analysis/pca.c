/* pca.c — principal components and participation-ratio dimensionality.
 *
 *   X̃ = X − 1 μᵀ (column means μ),  X̃ = U S Vᵀ (LAPACK dgesdd),
 *   components = rows of Vᵀ,  λ_i = s_i² / (n − 1)  (covariance eigenvalues),
 *   explained variance ratio_i = λ_i / Σλ,  projection = (X − 1 μᵀ) V_k,
 *   participation ratio PR = (Σλ)² / Σλ²  (Gao & Ganguli 2015; 1 ≤ PR ≤ rank).
 * Signs: each component's largest-|·| entry is made positive. Fitting on long
 * runs and projecting single trials = sl_pca_fit once, sl_pca_project many. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "analysis/geometry.h"

sl_status geo_check_finite(const double *x, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return sl_fail(SL_ENUMERIC, "%s: element %zu is %s (need finite numbers)", what, i,
                           isnan(x[i]) ? "NaN" : "infinite");
    return SL_OK;
}

void geo_center(const double *X, int n, int p, double *out)
{
    for (int j = 0; j < p; j++) {
        double m = 0;
        for (int i = 0; i < n; i++) m += X[(size_t)i * p + j];
        m /= n > 0 ? n : 1;
        for (int i = 0; i < n; i++) out[(size_t)i * p + j] = X[(size_t)i * p + j] - m;
    }
}

sl_status geo_svd(double *A, int m, int n, double *s, double *U, double *Vt)
{
    int k = m < n ? m : n;
    double *ss = s ? s : malloc((size_t)k * sizeof *ss);
    double *uu = U ? U : malloc((size_t)m * k * sizeof *uu);
    double *vv = Vt ? Vt : malloc((size_t)k * n * sizeof *vv);
    sl_status st = SL_OK;
    if (!ss || !uu || !vv) st = sl_fail(SL_ENOMEM, "svd: out of memory (%d×%d)", m, n);
    if (!st) {
        lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', m, n, A, n, ss, uu, k, vv, n);
        if (info) st = sl_fail(SL_ENUMERIC, "svd of a %d×%d matrix did not converge (info %d)", m,
                               n, (int)info);
    }
    if (!s) free(ss);
    if (!U) free(uu);
    if (!Vt) free(vv);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double geo_median(double *x, size_t n)
{
    if (!n) return NAN;
    qsort(x, n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

void sl_pca_free(sl_pca *pca)
{
    if (!pca) return;
    free(pca->mean);
    free(pca->components);
    free(pca->variance);
    memset(pca, 0, sizeof *pca);
}

sl_status sl_pca_fit(const double *X, int n, int p, int k, sl_pca *out)
{
    memset(out, 0, sizeof *out);
    int r = n < p ? n : p;
    if (n < 2 || p < 1)
        return sl_fail(SL_EINVAL, "pca: need at least 2 observations and 1 channel, got %d×%d", n,
                       p);
    if (k <= 0) k = r;
    if (k > r)
        return sl_fail(SL_EINVAL, "pca: %d components asked of %d×%d data (at most %d)", k, n, p,
                       r);
    sl_status st = geo_check_finite(X, (size_t)n * p, "pca input");
    if (st) return st;
    double *A = malloc((size_t)n * p * sizeof *A), *s = malloc((size_t)r * sizeof *s);
    double *Vt = malloc((size_t)r * p * sizeof *Vt);
    out->mean = malloc((size_t)p * sizeof *out->mean);
    out->components = malloc((size_t)k * p * sizeof *out->components);
    out->variance = malloc((size_t)r * sizeof *out->variance);
    if (!A || !s || !Vt || !out->mean || !out->components || !out->variance) {
        st = sl_fail(SL_ENOMEM, "pca: out of memory (%d×%d)", n, p);
        goto done;
    }
    geo_center(X, n, p, A);
    for (int j = 0; j < p; j++) out->mean[j] = X[j] - A[j];
    if ((st = geo_svd(A, n, p, s, NULL, Vt))) goto done;
    out->p = p;
    out->k = k;
    out->n_var = r;
    out->total_variance = 0;
    for (int i = 0; i < r; i++) {
        out->variance[i] = s[i] * s[i] / (n - 1);
        out->total_variance += out->variance[i];
    }
    for (int i = 0; i < k; i++) {
        double *v = Vt + (size_t)i * p;
        int big = 0;
        for (int j = 1; j < p; j++)
            if (fabs(v[j]) > fabs(v[big])) big = j;
        double sg = v[big] < 0 ? -1.0 : 1.0;
        for (int j = 0; j < p; j++) out->components[(size_t)i * p + j] = sg * v[j];
    }
done:
    free(A);
    free(s);
    free(Vt);
    if (st) sl_pca_free(out);
    return st;
}

sl_status sl_pca_project(const sl_pca *pca, const double *X, int n, double *out)
{
    const int p = pca->p, k = pca->k;
    sl_status st = geo_check_finite(X, (size_t)n * p, "pca projection input");
    if (st) return st;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < k; c++) {
            double acc = 0;
            const double *v = pca->components + (size_t)c * p, *x = X + (size_t)i * p;
            for (int j = 0; j < p; j++) acc += (x[j] - pca->mean[j]) * v[j];
            out[(size_t)i * k + c] = acc;
        }
    return SL_OK;
}

double sl_participation_ratio(const double *lambda, int n)
{
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        s += lambda[i];
        s2 += lambda[i] * lambda[i];
    }
    return s2 > 0 ? s * s / s2 : NAN;
}

sl_status sl_dimensionality(const double *X, int n, int p, double *pr)
{
    sl_pca pca;
    sl_status st = sl_pca_fit(X, n, p, 1, &pca);
    if (st) return st;
    *pr = sl_participation_ratio(pca.variance, pca.n_var);
    sl_pca_free(&pca);
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

/* ------------------------------------------------------------ runner */

/* RUN/analysis/pca/: PCA of the condition-averaged rates (C·T samples × N
 * units; options pcs=K (10), window=A:B ms from time_zero, delay=MS), with
 * the mean μ it subtracts: proj = (x − μ) · componentsᵀ. */
sl_status sl_analysis_pca_run(sl_analysis_ctx *ctx)
{
    sl_an_rates r;
    long kd;
    sl_status st = sl_an_opt_int(ctx, "pcs", 10, 0, 100000, &kd);
    if (!st) st = sl_an_condition_rates(ctx, NAN, NAN, &r);
    if (st) return st;
    const int n = r.C * r.T, lim = n < r.N ? n : r.N;
    int k = (int)kd <= 0 || (int)kd > lim ? lim : (int)kd;
    sl_pca pca;
    double *proj = NULL, *evr = NULL;
    if ((st = sl_pca_fit(r.x, n, r.N, k, &pca))) goto out;
    proj = malloc((size_t)n * k * sizeof *proj);
    evr = malloc((size_t)pca.n_var * sizeof *evr);
    if (!proj || !evr) st = sl_fail(SL_ENOMEM, "pca: out of memory");
    if (!st) st = sl_pca_project(&pca, r.x, n, proj);
    for (int i = 0; !st && i < pca.n_var; i++) evr[i] = pca.variance[i] / pca.total_variance;
    int64_t s3[3] = {r.C, r.T, k}, s2[2] = {k, r.N}, s1[1] = {pca.n_var}, sN[1] = {r.N};
    if (!st) st = sl_an_write_f64(ctx->out_dir, "proj.npy", 3, s3, proj);
    if (!st) st = sl_an_write_f64(ctx->out_dir, "components.npy", 2, s2, pca.components);
    if (!st) st = sl_an_write_f64(ctx->out_dir, "mean.npy", 1, sN, pca.mean);
    if (!st) st = sl_an_write_f64(ctx->out_dir, "explained_variance_ratio.npy", 1, s1, evr);
    if (!st) {
        cJSON *o = cJSON_CreateObject();
        sl_an_json_num(o, "participation_ratio", sl_participation_ratio(pca.variance, pca.n_var));
        cJSON_AddNumberToObject(o, "n_components", k);
        sl_an_json_num(o, "total_variance", pca.total_variance);
        double cum = 0;
        for (int i = 0; i < k; i++) cum += evr[i];
        sl_an_json_num(o, "explained_variance_top_k", cum);
        cJSON *e = cJSON_AddArrayToObject(o, "explained_variance_ratio");
        for (int i = 0; i < k; i++) cJSON_AddItemToArray(e, cJSON_CreateNumber(evr[i]));
        st = sl_an_rates_write(ctx, &r, o);
        cJSON *f = cJSON_AddObjectToObject(o, "files");
        cJSON_AddStringToObject(f, "components.npy", "K×N principal axes (rows, unit space), float64");
        cJSON_AddStringToObject(f, "explained_variance_ratio.npy", "every component's share of the variance");
        cJSON_AddStringToObject(f, "proj.npy", "C×T×K condition-averaged rates projected on the axes");
        cJSON_AddStringToObject(f, "mean.npy", "N mean rate subtracted before projecting: proj = (r - mean) components^T");
        cJSON_AddStringToObject(f, "time.npy", "T times, seconds from time_zero");
        if (!st) st = sl_an_write_json(ctx->out_dir, "summary.json", o);
        cJSON_Delete(o);
    }
    sl_pca_free(&pca);
out:
    free(proj);
    free(evr);
    sl_an_rates_free(&r);
    return st;
}
