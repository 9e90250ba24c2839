/* cka.c — centred kernel alignment (Kornblith, Norouzi, Lee & Hinton 2019).
 *
 * Gram form:     CKA(K, L) = ⟨K̃, L̃⟩_F / (‖K̃‖_F ‖L̃‖_F),  K̃ = HKH, H = I − 11ᵀ/n.
 * Feature form:  linear CKA(X, Y) = ‖X̃ᵀỸ‖²_F / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F), X̃, Ỹ
 *                column-centred; equals the Gram form with K = XXᵀ, L = YYᵀ.
 * Debiased (Song et al. 2007 unbiased HSIC; Nguyen et al. 2021):
 *   Gram form: the unbiased centring of Kornblith's center_gram — zero the
 *     diagonal, μ_j = Σ_i K_ij/(n−2) − Σ_ij K_ij/(2(n−1)(n−2)),
 *     K̃_ij = K_ij − μ_i − μ_j off the diagonal, 0 on it.
 *   Feature form: for Gram K = X̃X̃ᵀ and L = ỸỸᵀ,
 *     HSIC_u ∝ ⟨K, L⟩ − n/(n−2) Σ_i k_i l_i + (tr K tr L)/((n−1)(n−2)),
 *     k_i = K_ii = ‖x̃_i‖², the three terms from X̃ᵀỸ and the row norms only.
 *   (Both equal; n ≥ 4.)
 * RBF kernel: K_ij = exp(−‖x_i − x_j‖² / (2 σ²)), σ² = threshold² × median of
 *   all n² squared distances (Kornblith's gram_rbf; the median includes the
 *   zero diagonal). CKA is invariant to orthogonal transforms and isotropic
 *   scaling of either side (linear; RBF too, the bandwidth being relative). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/geometry.h"

void sl_gram_linear(const double *X, int n, int p, double *out)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, p, 1.0, X, p, X, p, 0.0, out, n);
}

sl_status sl_gram_rbf(const double *X, int n, int p, double threshold, double *out)
{
    if (!(threshold > 0)) return sl_fail(SL_EINVAL, "rbf gram: threshold %g must be > 0", threshold);
    sl_status st = geo_check_finite(X, (size_t)n * p, "rbf gram input");
    if (st) return st;
    double *d2 = malloc((size_t)n * n * sizeof *d2);
    if (!d2) return sl_fail(SL_ENOMEM, "rbf gram: out of memory");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < p; k++) {
                double e = X[(size_t)i * p + k] - X[(size_t)j * p + k];
                s += e * e;
            }
            out[(size_t)i * n + j] = s;
        }
    memcpy(d2, out, (size_t)n * n * sizeof *d2);
    double med = geo_median(d2, (size_t)n * n);
    free(d2);
    double s2 = threshold * threshold * med;
    for (size_t i = 0; i < (size_t)n * n; i++) out[i] = s2 > 0 ? exp(-out[i] / (2.0 * s2)) : 1.0;
    return SL_OK;
}

static void center_gram(const double *K, int n, int unbiased, double *out)
{
    memcpy(out, K, (size_t)n * n * sizeof *out);
    double *mu = malloc((size_t)n * sizeof *mu);
    if (!mu) return;
    if (unbiased) {
        for (int i = 0; i < n; i++) out[(size_t)i * n + i] = 0;
        double tot = 0;
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += out[(size_t)i * n + j];
            mu[j] = s / (n - 2);
            tot += mu[j];
        }
        for (int j = 0; j < n; j++) mu[j] -= tot / (2.0 * (n - 1));
    } else {
        double tot = 0;
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += out[(size_t)i * n + j];
            mu[j] = s / n;
            tot += mu[j];
        }
        for (int j = 0; j < n; j++) mu[j] -= tot / (2.0 * n);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) out[(size_t)i * n + j] -= mu[i] + mu[j];
    if (unbiased)
        for (int i = 0; i < n; i++) out[(size_t)i * n + i] = 0;
    free(mu);
}

double sl_cka_gram(const double *K, const double *L, int n, int debiased)
{
    if (n < (debiased ? 4 : 2)) return NAN;
    double *a = malloc((size_t)n * n * sizeof *a), *b = malloc((size_t)n * n * sizeof *b);
    double r = NAN;
    if (a && b) {
        center_gram(K, n, debiased, a);
        center_gram(L, n, debiased, b);
        double ab = 0, aa = 0, bb = 0;
        for (size_t i = 0; i < (size_t)n * n; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        r = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : NAN;
    }
    free(a);
    free(b);
    return r;
}

/* ‖AᵀB‖²_F for column-centred A (n×p), B (n×q). */
static double cross_sq(const double *A, const double *B, int n, int p, int q, double *tmp)
{
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, A, p, B, q, 0.0, tmp, q);
    double s = 0;
    for (size_t i = 0; i < (size_t)p * q; i++) s += tmp[i] * tmp[i];
    return s;
}

double sl_cka_linear(const double *X, const double *Y, int n, int p, int q, int debiased)
{
    if (n < (debiased ? 4 : 2) || p < 1 || q < 1) return NAN;
    int m = p > q ? p : q;
    double *a = malloc((size_t)n * p * sizeof *a), *b = malloc((size_t)n * q * sizeof *b);
    double *tmp = malloc((size_t)m * m * sizeof *tmp);
    double r = NAN;
    if (a && b && tmp) {
        geo_center(X, n, p, a);
        geo_center(Y, n, q, b);
        double xy = cross_sq(a, b, n, p, q, tmp);
        double xx = cross_sq(a, a, n, p, p, tmp);
        double yy = cross_sq(b, b, n, q, q, tmp);
        if (debiased) {
            double ta = 0, tb = 0, ab = 0, aa = 0, bb = 0;
            for (int i = 0; i < n; i++) {
                double s = 0, t = 0;
                for (int j = 0; j < p; j++) s += a[(size_t)i * p + j] * a[(size_t)i * p + j];
                for (int j = 0; j < q; j++) t += b[(size_t)i * q + j] * b[(size_t)i * q + j];
                ta += s;
                tb += t;
                ab += s * t;
                aa += s * s;
                bb += t * t;
            }
            double c1 = (double)n / (n - 2.0), c2 = 1.0 / ((n - 1.0) * (n - 2.0));
            xy = xy - c1 * ab + ta * tb * c2;
            xx = xx - c1 * aa + ta * ta * c2;
            yy = yy - c1 * bb + tb * tb * c2;
        }
        r = xx > 0 && yy > 0 ? xy / sqrt(xx * yy) : NAN;
    }
    free(a);
    free(b);
    free(tmp);
    return r;
}
