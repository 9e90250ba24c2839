/* rsa.c — representational dissimilarity matrices and their comparison
 * (rsatoolbox conventions, Nili et al. 2014; Walther et al. 2016).
 *
 * RDMs over the n rows (conditions) of X (n×p channels):
 *   euclidean    d_ij = ‖x_i − x_j‖² / p            (rsatoolbox: squared, ÷ channels)
 *   correlation  d_ij = 1 − r(x_i, x_j)              (Pearson across channels)
 *   crossnobis   d_ij = mean_{a<b} (x_i^a − x_j^a)·(x_i^b − x_j^b) / p
 *                over pairs of independent splits a, b (identity noise
 *                precision; unbiased: 0 in expectation for equal patterns)
 * Comparisons on the upper triangles v = (d_ij)_{i<j}, m = n(n−1)/2 entries:
 *   spearman  Pearson r of the ranks (ties get their average rank)
 *   pearson   Pearson r
 *   tau-a     (concordant − discordant) / (m(m−1)/2)     (ties count 0)
 *   cosine    v_a·v_b / (‖v_a‖ ‖v_b‖)                     (uncentred)
 * Permutation test: relabel B's conditions (rows and columns together)
 * n_perm times; p = (1 + #{r_perm ≥ r}) / (1 + n_perm) (one-sided). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/geometry.h"

sl_status sl_rdm(const double *X, int n, int p, sl_rdm_metric metric, double *out)
{
    if (n < 1 || p < 1) return sl_fail(SL_EINVAL, "rdm: need n ≥ 1 rows and p ≥ 1 channels, got %d×%d", n, p);
    if (metric != SL_RDM_EUCLIDEAN && metric != SL_RDM_CORRELATION)
        return sl_fail(SL_EINVAL, "rdm: unknown metric %d", (int)metric);
    sl_status st = geo_check_finite(X, (size_t)n * p, "rdm input");
    if (st) return st;
    double *Z = NULL;
    if (metric == SL_RDM_CORRELATION) {
        if (p < 2) return sl_fail(SL_EINVAL, "rdm: correlation distance needs ≥ 2 channels");
        Z = malloc((size_t)n * p * sizeof *Z);
        if (!Z) return sl_fail(SL_ENOMEM, "rdm: out of memory");
        for (int i = 0; i < n; i++) {
            const double *x = X + (size_t)i * p;
            double m = 0, s = 0;
            for (int j = 0; j < p; j++) m += x[j];
            m /= p;
            for (int j = 0; j < p; j++) s += (x[j] - m) * (x[j] - m);
            s = sqrt(s);
            for (int j = 0; j < p; j++) Z[(size_t)i * p + j] = s > 0 ? (x[j] - m) / s : NAN;
        }
    }
    for (int i = 0; i < n; i++) {
        out[(size_t)i * n + i] = 0;
        for (int j = i + 1; j < n; j++) {
            double d = 0;
            if (metric == SL_RDM_EUCLIDEAN) {
                const double *a = X + (size_t)i * p, *b = X + (size_t)j * p;
                for (int k = 0; k < p; k++) d += (a[k] - b[k]) * (a[k] - b[k]);
                d /= p;
            } else {
                const double *a = Z + (size_t)i * p, *b = Z + (size_t)j * p;
                for (int k = 0; k < p; k++) d += a[k] * b[k];
                d = 1.0 - d;
            }
            out[(size_t)i * n + j] = out[(size_t)j * n + i] = d;
        }
    }
    free(Z);
    return SL_OK;
}

sl_status sl_rdm_crossnobis(const double *X, int K, int n, int p, double *out)
{
    if (K < 2 || n < 1 || p < 1)
        return sl_fail(SL_EINVAL, "crossnobis: need ≥ 2 independent splits, got %d (×%d×%d)", K,
                       n, p);
    sl_status st = geo_check_finite(X, (size_t)K * n * p, "crossnobis input");
    if (st) return st;
    const double pairs = K * (K - 1) / 2.0;
    for (int i = 0; i < n; i++) {
        out[(size_t)i * n + i] = 0;
        for (int j = i + 1; j < n; j++) {
            double d = 0;
            for (int a = 0; a < K; a++)
                for (int b = a + 1; b < K; b++) {
                    const double *xa = X + ((size_t)a * n) * p, *xb = X + ((size_t)b * n) * p;
                    for (int k = 0; k < p; k++)
                        d += (xa[(size_t)i * p + k] - xa[(size_t)j * p + k]) *
                             (xb[(size_t)i * p + k] - xb[(size_t)j * p + k]);
                }
            out[(size_t)i * n + j] = out[(size_t)j * n + i] = d / (pairs * p);
        }
    }
    return SL_OK;
}

typedef struct {
    double v;
    int i;
} ranked;

static int by_value(const void *a, const void *b)
{
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return (x > y) - (x < y);
}

/* Average ranks (1-based) of v[0..m) into r; tmp holds m entries. */
static void rank_avg(const double *v, int m, ranked *tmp, double *r)
{
    for (int i = 0; i < m; i++) tmp[i] = (ranked){v[i], i};
    qsort(tmp, (size_t)m, sizeof *tmp, by_value);
    for (int a = 0; a < m;) {
        int b = a;
        while (b + 1 < m && tmp[b + 1].v == tmp[a].v) b++;
        double avg = 0.5 * (a + b) + 1.0;
        for (int c = a; c <= b; c++) r[tmp[c].i] = avg;
        a = b + 1;
    }
}

static double pearson(const double *a, const double *b, int m)
{
    double ma = 0, mb = 0;
    for (int i = 0; i < m; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= m;
    mb /= m;
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < m; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

/* The comparison of two upper-triangle vectors of m entries; work holds
 * 2m doubles and m ranked entries (NULL when not needed). */
static double compare_vec(const double *a, const double *b, int m, sl_rdm_comparison how,
                          double *work, ranked *tmp)
{
    if (m < 1) return NAN;
    switch (how) {
    case SL_RDM_PEARSON:
        return m < 2 ? NAN : pearson(a, b, m);
    case SL_RDM_SPEARMAN:
        if (m < 2) return NAN;
        rank_avg(a, m, tmp, work);
        rank_avg(b, m, tmp, work + m);
        return pearson(work, work + m, m);
    case SL_RDM_KENDALL_TAU_A: {
        if (m < 2) return NAN;
        double s = 0;
        for (int i = 0; i < m; i++)
            for (int j = i + 1; j < m; j++) {
                double da = a[i] - a[j], db = b[i] - b[j];
                s += (double)((da > 0) - (da < 0)) * (double)((db > 0) - (db < 0));
            }
        return s / (0.5 * m * (m - 1.0));
    }
    case SL_RDM_COSINE: {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < m; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : NAN;
    }
    }
    return NAN;
}

/* Upper triangle (i < j, row by row: scipy squareform order) of B with its
 * conditions relabelled by perm (NULL = identity). */
static void upper(const double *D, int n, const int *perm, double *v)
{
    int q = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            int a = perm ? perm[i] : i, b = perm ? perm[j] : j;
            v[q++] = D[(size_t)a * n + b];
        }
}

double sl_rdm_compare(const double *A, const double *B, int n, sl_rdm_comparison how)
{
    int m = n * (n - 1) / 2;
    if (n < 2) return NAN;
    double *buf = malloc((size_t)4 * m * sizeof *buf);
    ranked *tmp = malloc((size_t)m * sizeof *tmp);
    double r = NAN;
    if (buf && tmp) {
        upper(A, n, NULL, buf);
        upper(B, n, NULL, buf + m);
        r = compare_vec(buf, buf + m, m, how, buf + 2 * m, tmp);
    }
    free(buf);
    free(tmp);
    return r;
}

sl_status sl_rdm_permutation_p(const double *A, const double *B, int n, sl_rdm_comparison how,
                               int n_perm, uint64_t seed, double *r, double *p)
{
    if (n < 3) return sl_fail(SL_EINVAL, "rdm permutation test: need ≥ 3 conditions, got %d", n);
    if (n_perm < 1) return sl_fail(SL_EINVAL, "rdm permutation test: n_perm = %d must be ≥ 1", n_perm);
    sl_status st = geo_check_finite(A, (size_t)n * n, "rdm A");
    if (!st) st = geo_check_finite(B, (size_t)n * n, "rdm B");
    if (st) return st;
    int m = n * (n - 1) / 2;
    double *buf = malloc((size_t)4 * m * sizeof *buf);
    ranked *tmp = malloc((size_t)m * sizeof *tmp);
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!buf || !tmp || !perm) {
        free(buf);
        free(tmp);
        free(perm);
        return sl_fail(SL_ENOMEM, "rdm permutation test: out of memory");
    }
    upper(A, n, NULL, buf);
    upper(B, n, NULL, buf + m);
    double r0 = compare_vec(buf, buf + m, m, how, buf + 2 * m, tmp);
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    long ge = 0;
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int k = 0; k < n_perm; k++) {
        sl_rng_shuffle(&rng, perm, n);
        upper(B, n, perm, buf + m);
        double rk = compare_vec(buf, buf + m, m, how, buf + 2 * m, tmp);
        if (rk >= r0 - 1e-12 * fabs(r0)) ge++;
    }
    *r = r0;
    *p = (1.0 + ge) / (1.0 + n_perm);
    free(buf);
    free(tmp);
    free(perm);
    return isnan(r0) ? sl_fail(SL_ENUMERIC, "rdm permutation test: the comparison is undefined "
                                            "(a constant RDM)")
                     : SL_OK;
}

sl_status sl_rdm_from_condensed(const double *v, long m, double **out, int *n)
{
    long k = (long)floor((1.0 + sqrt(1.0 + 8.0 * (double)m)) / 2.0 + 0.5);
    if (m < 1 || k * (k - 1) / 2 != m)
        return sl_fail(SL_EINVAL, "a condensed RDM needs n(n−1)/2 entries; %ld is not such a "
                       "number", m);
    sl_status st = geo_check_finite(v, (size_t)m, "condensed RDM");
    if (st) return st;
    double *D = calloc((size_t)k * k, sizeof *D);
    if (!D) return sl_fail(SL_ENOMEM, "rdm: out of memory");
    long q = 0;
    for (long i = 0; i < k; i++)
        for (long j = i + 1; j < k; j++, q++) D[i * k + j] = D[j * k + i] = v[q];
    *out = D;
    *n = (int)k;
    return SL_OK;
}
