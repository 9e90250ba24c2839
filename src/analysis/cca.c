/* cca.c — canonical correlations, SVCCA and Procrustes distance.
 *
 * CCA of column-centred X (n×p), Y (n×q): with orthonormal bases of their
 * column spaces Q_x = U_x (thin SVD X̃ = U_x S_x V_xᵀ, directions with
 * s < 1e-10 s_max dropped) and Q_y, the canonical correlations ρ_i are the
 * singular values of Q_xᵀQ_y, and
 *   mean R² = Σ ρ_i² / min(p, q) = ‖Q_xᵀQ_y‖²_F / min(p, q)
 * (Kornblith et al. 2019's cca(); the "mean R²" convention; a rank-deficient
 * side still divides by min(p, q) as that function does).
 * SVCCA (Raghu et al. 2017): each side projected on its top singular
 * directions holding ≥ keep (0.99) of its variance (Σ s² over the kept ≥
 * keep Σ s²), then CCA; reported as the mean canonical correlation ρ̄
 * (Raghu's convention, not squared), over min(kept_x, kept_y) correlations.
 * Procrustes (orthogonal): X̃ = X_c/‖X_c‖_F, Ỹ = Y_c/‖Y_c‖_F (centred),
 *   min_{QᵀQ = I} ‖X̃ − ỸQ‖²_F = 2 − 2‖X̃ᵀỸ‖_*   (‖·‖_* = sum of singular values;
 *   unequal widths padded with zero columns), distance = its square root,
 *   angular distance = arccos ‖X̃ᵀỸ‖_* (Williams et al. 2021). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/geometry.h"

/* Orthonormal basis of the column space of centred X (n×p): U (n×r, r ≤
 * min(n, p) the numerical rank) into *Q (malloc'd); singular values into s
 * when not NULL (min(n,p) entries). */
static sl_status col_basis(const double *X, int n, int p, double **Q, int *rank, double *s_out,
                           double *Vt_out)
{
    int m = n < p ? n : p;
    double *A = malloc((size_t)n * p * sizeof *A), *s = malloc((size_t)m * sizeof *s);
    double *U = malloc((size_t)n * m * sizeof *U);
    if (!A || !s || !U) {
        free(A);
        free(s);
        free(U);
        return sl_fail(SL_ENOMEM, "cca: out of memory");
    }
    geo_center(X, n, p, A);
    sl_status st = geo_svd(A, n, p, s, U, Vt_out);
    int r = 0;
    if (!st)
        while (r < m && s[r] > 1e-10 * s[0]) r++;
    if (!st && r == 0) st = sl_fail(SL_ENUMERIC, "cca: a side is constant (zero variance)");
    if (!st) {
        /* keep the first r columns of U, packed n×r */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < r; j++) U[(size_t)i * r + j] = U[(size_t)i * m + j];
        if (s_out) memcpy(s_out, s, (size_t)m * sizeof *s);
        *Q = U;
        *rank = r;
    } else {
        free(U);
    }
    free(A);
    free(s);
    return st;
}

/* Singular values of Q_xᵀ Q_y (rx×ry) into rho (min(rx, ry)). */
static sl_status cross_sv(const double *Qx, int rx, const double *Qy, int ry, int n, double *rho)
{
    double *M = malloc((size_t)rx * ry * sizeof *M);
    if (!M) return sl_fail(SL_ENOMEM, "cca: out of memory");
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rx, ry, n, 1.0, Qx, rx, Qy, ry, 0.0, M,
                ry);
    sl_status st = geo_svd(M, rx, ry, rho, NULL, NULL);
    free(M);
    return st;
}

static sl_status check_pair(const double *X, const double *Y, int n, int p, int q, const char *who)
{
    if (n < 2 || p < 1 || q < 1)
        return sl_fail(SL_EINVAL, "%s: need ≥ 2 rows and ≥ 1 column on each side, got X %d×%d, "
                       "Y %d×%d", who, n, p, n, q);
    sl_status st = geo_check_finite(X, (size_t)n * p, who);
    if (!st) st = geo_check_finite(Y, (size_t)n * q, who);
    return st;
}

sl_status sl_cca(const double *X, const double *Y, int n, int p, int q, double *rho,
                 double *mean_r2)
{
    sl_status st = check_pair(X, Y, n, p, q, "cca");
    if (st) return st;
    double *Qx = NULL, *Qy = NULL;
    int rx = 0, ry = 0;
    if ((st = col_basis(X, n, p, &Qx, &rx, NULL, NULL))) return st;
    if ((st = col_basis(Y, n, q, &Qy, &ry, NULL, NULL))) {
        free(Qx);
        return st;
    }
    int r = rx < ry ? rx : ry, mn = p < q ? p : q;
    double *s = malloc((size_t)r * sizeof *s);
    if (!s) st = sl_fail(SL_ENOMEM, "cca: out of memory");
    if (!st) st = cross_sv(Qx, rx, Qy, ry, n, s);
    if (!st) {
        double acc = 0;
        for (int i = 0; i < r; i++) {
            if (s[i] > 1) s[i] = 1; /* rounding */
            acc += s[i] * s[i];
        }
        *mean_r2 = acc / mn;
        if (rho)
            for (int i = 0; i < mn; i++) rho[i] = i < r ? s[i] : 0.0;
    }
    free(s);
    free(Qx);
    free(Qy);
    return st;
}

/* The top directions holding ≥ keep of the variance: projections n×k. */
static sl_status svd_reduce(const double *X, int n, int p, double keep, double **out, int *k)
{
    int m = n < p ? n : p;
    double *A = malloc((size_t)n * p * sizeof *A), *s = malloc((size_t)m * sizeof *s);
    double *U = malloc((size_t)n * m * sizeof *U);
    sl_status st = SL_OK;
    if (!A || !s || !U) st = sl_fail(SL_ENOMEM, "svcca: out of memory");
    if (!st) {
        geo_center(X, n, p, A);
        st = geo_svd(A, n, p, s, U, NULL);
    }
    if (!st) {
        double tot = 0, acc = 0;
        for (int i = 0; i < m; i++) tot += s[i] * s[i];
        int r = 0;
        while (r < m && acc < keep * tot * (1 - 1e-12)) {
            acc += s[r] * s[r];
            r++;
        }
        if (r == 0) r = 1;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < r; j++) U[(size_t)i * r + j] = U[(size_t)i * m + j] * s[j];
        *out = U;
        *k = r;
        U = NULL;
    }
    free(A);
    free(s);
    free(U);
    return st;
}

sl_status sl_svcca(const double *X, const double *Y, int n, int p, int q, double keep,
                   double *mean_rho)
{
    sl_status st = check_pair(X, Y, n, p, q, "svcca");
    if (st) return st;
    if (!(keep > 0 && keep <= 1)) return sl_fail(SL_EINVAL, "svcca: keep = %g must be in (0, 1]", keep);
    double *A = NULL, *B = NULL;
    int ka = 0, kb = 0;
    if ((st = svd_reduce(X, n, p, keep, &A, &ka))) return st;
    if ((st = svd_reduce(Y, n, q, keep, &B, &kb))) {
        free(A);
        return st;
    }
    int mn = ka < kb ? ka : kb;
    double *rho = malloc((size_t)mn * sizeof *rho), r2;
    if (!rho) st = sl_fail(SL_ENOMEM, "svcca: out of memory");
    if (!st) st = sl_cca(A, B, n, ka, kb, rho, &r2);
    if (!st) {
        double acc = 0;
        for (int i = 0; i < mn; i++) acc += rho[i];
        *mean_rho = acc / mn;
    }
    free(rho);
    free(A);
    free(B);
    return st;
}

sl_status sl_procrustes(const double *X, const double *Y, int n, int p, int q, double *dist,
                        double *angular)
{
    sl_status st = check_pair(X, Y, n, p, q, "procrustes");
    if (st) return st;
    double *a = malloc((size_t)n * p * sizeof *a), *b = malloc((size_t)n * q * sizeof *b);
    double *M = malloc((size_t)p * q * sizeof *M), *s = malloc((size_t)(p < q ? p : q) * sizeof *s);
    if (!a || !b || !M || !s) st = sl_fail(SL_ENOMEM, "procrustes: out of memory");
    if (!st) {
        geo_center(X, n, p, a);
        geo_center(Y, n, q, b);
        double na = cblas_dnrm2(n * p, a, 1), nb = cblas_dnrm2(n * q, b, 1);
        if (!(na > 0) || !(nb > 0)) st = sl_fail(SL_ENUMERIC, "procrustes: a side is constant");
        if (!st) {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0 / (na * nb), a, p, b,
                        q, 0.0, M, q);
            st = geo_svd(M, p, q, s, NULL, NULL);
        }
    }
    if (!st) {
        double nuc = 0;
        for (int i = 0; i < (p < q ? p : q); i++) nuc += s[i];
        if (nuc > 1) nuc = 1;
        if (dist) *dist = sqrt(fmax(0.0, 2.0 - 2.0 * nuc));
        if (angular) *angular = acos(nuc);
    }
    free(a);
    free(b);
    free(M);
    free(s);
    return st;
}
