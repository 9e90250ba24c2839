/* jpca.c — jPCA (Churchland, Cunningham et al. 2012, Nature 487:51).
 *
 * Rates X (C×T×N):
 *   1. soft-normalise each unit: x ← x / (range(x) + s), the range over all
 *      conditions and times. Churchland used s = 5 spikes/s; for rates in
 *      other units s < 0 picks 5% of the widest unit's range (the same
 *      constant for a population whose widest unit spans 100 spikes/s).
 *   2. remove the cross-condition mean: x_c(t) ← x_c(t) − mean_c x_c(t).
 *   3. PCA (all C·T samples) to k dims (k = 6 in the paper): z = V_kᵀ x.
 *   4. per condition, ż_t = (z_{t+1} − z_t)/dt paired with z_t (t < T−1);
 *      least squares over all pairs (rows = samples):
 *        Ż ≈ Z M_lin  (unconstrained, dgels)
 *        Ż ≈ Z M_skew with M_skewᵀ = −M_skew: k(k−1)/2 free entries, solved as
 *        one linear least-squares problem in vec(Ż) (dgels).
 *      R² = 1 − ‖Ż − Z M‖²_F / ‖Ż − mean Ż‖²_F for each fit;
 *      rotation strength = R²_skew / R²_lin (1: the linear dynamics are all
 *      rotation; the "jPCA rotational strength").
 *   5. eigenvectors of M_skew come in conjugate pairs ±iω; sorted by |ω|
 *      descending, each pair's real and imaginary parts (orthonormalised)
 *      span a rotation plane (jPC1/jPC2 of plane j); planes are reported in
 *      unit space (N-dim) and the data projected onto them (proj, C×T×k);
 *      the variance captured by plane j is the fraction of the normalised,
 *      mean-removed data's total variance in that plane.
 * Sign and in-plane orientation of the jPCs are arbitrary (the paper rotates
 * each plane for display only). */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "analysis/geometry.h"

void sl_jpca_free(sl_jpca_result *j)
{
    if (!j) return;
    free(j->m_skew);
    free(j->freq_hz);
    free(j->planes);
    free(j->var_captured);
    free(j->proj);
    memset(j, 0, sizeof *j);
}

/* Least squares min ‖b − A β‖ (A m×n row-major, overwritten; b has m
 * entries, β returned in b[0..n)). */
static sl_status lstsq(double *A, int m, int n, double *b, int nrhs)
{
    lapack_int info = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', m, n, nrhs, A, n, b, nrhs);
    if (info) return sl_fail(SL_ENUMERIC, "jpca: least squares (%d×%d) failed (info %d): the "
                             "data are rank-deficient", m, n, (int)info);
    return SL_OK;
}

typedef struct {
    double w;
    int col;
} eig_pair;

static int by_freq(const void *a, const void *b)
{
    double x = ((const eig_pair *)a)->w, y = ((const eig_pair *)b)->w;
    return (x < y) - (x > y);
}

sl_status sl_jpca_fit(const double *X, int C, int T, int N, double dt, double soft, int k,
                      sl_jpca_result *out)
{
    memset(out, 0, sizeof *out);
    if (C < 2 || T < 3 || N < 2)
        return sl_fail(SL_EINVAL, "jpca: need ≥ 2 conditions, ≥ 3 times and ≥ 2 units, got "
                       "%d×%d×%d (C×T×N)", C, T, N);
    if (k < 2 || k % 2 || k > N || k > C * (T - 1))
        return sl_fail(SL_EINVAL, "jpca: k = %d dims must be even, ≥ 2 and ≤ min(N = %d, "
                       "C(T−1) = %d)", k, N, C * (T - 1));
    if (!(dt > 0)) return sl_fail(SL_EINVAL, "jpca: dt must be positive, got %g", dt);
    const size_t n = (size_t)C * T;
    sl_status st = geo_check_finite(X, n * N, "jpca input");
    if (st) return st;

    const int npar = k * (k - 1) / 2;
    const size_t nobs = (size_t)C * (T - 1);
    double *Y = malloc(n * N * sizeof *Y), *Z = malloc(n * k * sizeof *Z);
    double *Zp = malloc(nobs * k * sizeof *Zp), *dZ = malloc(nobs * k * sizeof *dZ);
    double *A = malloc(nobs * k * (size_t)npar * sizeof *A), *b = malloc(nobs * k * sizeof *b);
    double *wr = malloc(k * sizeof *wr), *wi = malloc(k * sizeof *wi);
    double *VR = malloc((size_t)k * k * sizeof *VR), *Mc = malloc((size_t)k * k * sizeof *Mc);
    double *basis = malloc((size_t)k * k * sizeof *basis);
    eig_pair *pairs = malloc((size_t)k * sizeof *pairs);
    out->m_skew = calloc((size_t)k * k, sizeof *out->m_skew);
    out->freq_hz = malloc((size_t)(k / 2) * sizeof *out->freq_hz);
    out->planes = malloc((size_t)k * N * sizeof *out->planes);
    out->var_captured = malloc((size_t)(k / 2) * sizeof *out->var_captured);
    out->proj = malloc(n * k * sizeof *out->proj);
    sl_pca pca = {0};
    if (!Y || !Z || !Zp || !dZ || !A || !b || !wr || !wi || !VR || !Mc || !basis || !pairs ||
        !out->m_skew || !out->freq_hz || !out->planes || !out->var_captured || !out->proj) {
        st = sl_fail(SL_ENOMEM, "jpca: out of memory");
        goto done;
    }
    out->k = k;
    out->N = N;

    /* 1. soft normalisation */
    double *range = malloc((size_t)N * sizeof *range);
    if (!range) {
        st = sl_fail(SL_ENOMEM, "jpca: out of memory");
        goto done;
    }
    double widest = 0;
    for (int u = 0; u < N; u++) {
        double lo = X[u], hi = X[u];
        for (size_t i = 1; i < n; i++) {
            double v = X[i * N + u];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        range[u] = hi - lo;
        widest = range[u] > widest ? range[u] : widest;
    }
    out->soft_used = soft < 0 ? 0.05 * widest : soft;
    for (size_t i = 0; i < n; i++)
        for (int u = 0; u < N; u++) {
            double d = range[u] + out->soft_used;
            Y[i * N + u] = d > 0 ? X[i * N + u] / d : 0.0;
        }
    free(range);
    /* 2. cross-condition mean */
    for (int t = 0; t < T; t++)
        for (int u = 0; u < N; u++) {
            double m = 0;
            for (int c = 0; c < C; c++) m += Y[((size_t)c * T + t) * N + u];
            m /= C;
            for (int c = 0; c < C; c++) Y[((size_t)c * T + t) * N + u] -= m;
        }
    /* 3. PCA to k */
    if ((st = sl_pca_fit(Y, (int)n, N, k, &pca))) goto done;
    if ((st = sl_pca_project(&pca, Y, (int)n, Z))) goto done;
    /* 4. derivatives and the two fits */
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T - 1; t++) {
            size_t r = (size_t)c * (T - 1) + t;
            const double *z0 = Z + ((size_t)c * T + t) * k, *z1 = z0 + k;
            for (int j = 0; j < k; j++) {
                Zp[r * k + j] = z0[j];
                dZ[r * k + j] = (z1[j] - z0[j]) / dt;
            }
        }
    double sst = 0;
    for (int j = 0; j < k; j++) {
        double m = 0;
        for (size_t r = 0; r < nobs; r++) m += dZ[r * k + j];
        m /= nobs;
        for (size_t r = 0; r < nobs; r++) sst += (dZ[r * k + j] - m) * (dZ[r * k + j] - m);
    }
    if (!(sst > 0)) {
        st = sl_fail(SL_ENUMERIC, "jpca: the data do not change over time (zero derivative)");
        goto done;
    }
    /* unconstrained: Zp (nobs×k) M = dZ (nobs×k) */
    memcpy(A, Zp, nobs * k * sizeof *A);
    memcpy(b, dZ, nobs * k * sizeof *b);
    if ((st = lstsq(A, (int)nobs, k, b, k))) goto done;
    double sse_lin = 0;
    for (size_t r = 0; r < nobs; r++)
        for (int j = 0; j < k; j++) {
            double f = 0;
            for (int i = 0; i < k; i++) f += Zp[r * k + i] * b[(size_t)i * k + j];
            sse_lin += (dZ[r * k + j] - f) * (dZ[r * k + j] - f);
        }
    /* skew: rows (r, j) of vec(dZ); parameter (i<j) puts +β at M_ij, −β at M_ji */
    memset(A, 0, nobs * k * (size_t)npar * sizeof *A);
    for (size_t r = 0; r < nobs; r++) {
        int q = 0;
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++, q++) {
                A[(r * k + j) * npar + q] += Zp[r * k + i];
                A[(r * k + i) * npar + q] -= Zp[r * k + j];
            }
        for (int j = 0; j < k; j++) b[r * k + j] = dZ[r * k + j];
    }
    if ((st = lstsq(A, (int)(nobs * k), npar, b, 1))) goto done;
    {
        int q = 0;
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++, q++) {
                out->m_skew[i * k + j] = b[q];
                out->m_skew[j * k + i] = -b[q];
            }
    }
    double sse_skew = 0;
    for (size_t r = 0; r < nobs; r++)
        for (int j = 0; j < k; j++) {
            double f = 0;
            for (int i = 0; i < k; i++) f += Zp[r * k + i] * out->m_skew[i * k + j];
            sse_skew += (dZ[r * k + j] - f) * (dZ[r * k + j] - f);
        }
    out->r2_linear = 1.0 - sse_lin / sst;
    out->r2_skew = 1.0 - sse_skew / sst;
    out->rotation_strength = out->r2_skew / out->r2_linear;
    /* 5. planes */
    memcpy(Mc, out->m_skew, (size_t)k * k * sizeof *Mc);
    lapack_int info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'V', k, Mc, k, wr, wi, NULL, k, VR, k);
    if (info) {
        st = sl_fail(SL_ENUMERIC, "jpca: eigen-decomposition of M_skew failed (info %d)",
                     (int)info);
        goto done;
    }
    int np = 0;
    for (int j = 0; j < k; j++)
        if (wi[j] > 0 && j + 1 < k) {
            pairs[np].w = wi[j];
            pairs[np].col = j;
            np++;
            j++;
        }
    qsort(pairs, (size_t)np, sizeof *pairs, by_freq);
    /* basis rows (in PC coords): the pairs, then any remaining directions filled by
     * Gram-Schmidt on the standard basis */
    int nb = 0;
    for (int p = 0; p < np && nb + 1 < k; p++) {
        for (int h = 0; h < 2; h++) {
            double *v = basis + (size_t)nb * k;
            for (int i = 0; i < k; i++) v[i] = VR[(size_t)i * k + pairs[p].col + h];
            nb++;
        }
        out->freq_hz[p] = pairs[p].w / (2.0 * M_PI);
    }
    for (int p = np; p < k / 2; p++) out->freq_hz[p] = 0.0;
    for (int e = 0; nb < k && e < k; e++) {
        double *v = basis + (size_t)nb * k;
        for (int i = 0; i < k; i++) v[i] = i == e;
        nb++;
    }
    /* Gram-Schmidt (drops dependent fill-ins) */
    int good = 0;
    for (int a = 0; a < k; a++) {
        double *v = basis + (size_t)a * k;
        for (int pass = 0; pass < 2; pass++)
            for (int c = 0; c < good; c++) {
                const double *u = basis + (size_t)c * k;
                double d = 0;
                for (int i = 0; i < k; i++) d += u[i] * v[i];
                for (int i = 0; i < k; i++) v[i] -= d * u[i];
            }
        double nv = 0;
        for (int i = 0; i < k; i++) nv += v[i] * v[i];
        nv = sqrt(nv);
        if (nv < 1e-10) continue;
        double *dst = basis + (size_t)good * k;
        for (int i = 0; i < k; i++) dst[i] = v[i] / nv;
        good++;
    }
    if (good < k) {
        st = sl_fail(SL_ENUMERIC, "jpca: could not build %d orthonormal jPC directions", k);
        goto done;
    }
    for (int a = 0; a < k; a++)
        for (int u = 0; u < N; u++) {
            double s = 0;
            for (int i = 0; i < k; i++) s += basis[(size_t)a * k + i] * pca.components[(size_t)i * N + u];
            out->planes[(size_t)a * N + u] = s;
        }
    double total = 0;
    for (size_t i = 0; i < n * N; i++) total += Y[i] * Y[i];
    for (size_t i = 0; i < n; i++)
        for (int a = 0; a < k; a++) {
            double s = 0;
            for (int j = 0; j < k; j++) s += Z[i * k + j] * basis[(size_t)a * k + j];
            out->proj[i * k + a] = s;
        }
    for (int p = 0; p < k / 2; p++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += out->proj[i * k + 2 * p] * out->proj[i * k + 2 * p] +
                 out->proj[i * k + 2 * p + 1] * out->proj[i * k + 2 * p + 1];
        out->var_captured[p] = total > 0 ? s / total : 0.0;
    }
done:
    sl_pca_free(&pca);
    free(Y);
    free(Z);
    free(Zp);
    free(dZ);
    free(A);
    free(b);
    free(wr);
    free(wi);
    free(VR);
    free(Mc);
    free(basis);
    free(pairs);
    if (st) sl_jpca_free(out);
    return st;
}

/* ------------------------------------------------------------ runner */

/* RUN/analysis/jpca/: jPCA of the condition-averaged rates in window=A:B ms
 * from time_zero (reach: movement onset, default −50:150, Churchland 2012's
 * window; other tasks: the whole trial); options
 * soft=S (default −1: 5% of the widest unit's range), delay=MS. */
sl_status sl_analysis_jpca_run(sl_analysis_ctx *ctx)
{
    sl_an_rates r;
    double soft;
    sl_status st = sl_an_opt_real(ctx, "soft", -1, &soft);
    if (!st) st = sl_an_condition_rates(ctx, -50, 150, &r);
    if (st) return st;
    sl_jpca_result j;
    if ((st = sl_jpca_fit(r.x, r.C, r.T, r.N, r.dt_s, soft, 6, &j))) goto out;
    int64_t s3[3] = {r.C, r.T, 6}, s2[2] = {6, r.N}, sm[2] = {6, 6};
    st = sl_an_write_f64(ctx->out_dir, "proj.npy", 3, s3, j.proj);
    if (!st) st = sl_an_write_f64(ctx->out_dir, "planes.npy", 2, s2, j.planes);
    if (!st) st = sl_an_write_f64(ctx->out_dir, "m_skew.npy", 2, sm, j.m_skew);
    if (!st) {
        cJSON *o = cJSON_CreateObject();
        sl_an_json_num(o, "rotation_strength", j.rotation_strength);
        sl_an_json_num(o, "r2_skew", j.r2_skew);
        sl_an_json_num(o, "r2_linear", j.r2_linear);
        sl_an_json_num(o, "soft_normalisation", j.soft_used);
        cJSON *fq = cJSON_AddArrayToObject(o, "plane_frequency_hz");
        cJSON *vc = cJSON_AddArrayToObject(o, "plane_variance_captured");
        for (int p = 0; p < 3; p++) {
            cJSON_AddItemToArray(fq, cJSON_CreateNumber(j.freq_hz[p]));
            cJSON_AddItemToArray(vc, cJSON_CreateNumber(j.var_captured[p]));
        }
        st = sl_an_rates_write(ctx, &r, o);
        cJSON *f = cJSON_AddObjectToObject(o, "files");
        cJSON_AddStringToObject(f, "proj.npy", "C×T×6 projections on the jPC planes (plane j: columns 2j, 2j+1)");
        cJSON_AddStringToObject(f, "planes.npy", "6×N jPC axes in the soft-normalised unit space");
        cJSON_AddStringToObject(f, "m_skew.npy", "6×6 skew-symmetric dynamics in PC coordinates (1/s)");
        cJSON_AddStringToObject(f, "time.npy", "T times, seconds from time_zero");
        if (!st) st = sl_an_write_json(ctx->out_dir, "summary.json", o);
        cJSON_Delete(o);
    }
    sl_jpca_free(&j);
out:
    sl_an_rates_free(&r);
    return st;
}
