/* test_ref_geometry.c — population geometry (src/analysis/{pca,tangling,
 * jpca,rsa,cka,cca}.c) against numpy/scipy references written by
 * tests/ref/gen_geometry.py into tests/golden/geometry/ (or
 * $SILICO_GOLDEN_DIR/geometry): RDMs and their comparisons (rsatoolbox
 * conventions, ties), crossnobis, condensed RDMs, linear/debiased/RBF CKA
 * (feature = Gram form; invariance to orthogonal transforms and isotropic
 * scaling), CCA, SVCCA, Procrustes, PCA, tangling on a circle and a
 * figure-eight, jPCA on a rotation with known planes; bad input. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "testutil.h"

static double *gold(const char *name, size_t *n)
{
    const char *root = getenv("SILICO_GOLDEN_DIR");
    if (!root || !*root) root = "tests/golden";
    char path[1024];
    snprintf(path, sizeof path, "%s/geometry/%s", root, name);
    size_t k;
    double *d = tu_npy_doubles(path, &k, TU_DT(SL_F64));
    cr_assert_not_null(d, "%s (run from the repository root): %s", path, sl_last_error());
    if (n) *n = k;
    return d;
}

/* max |got − ref| / max(max|ref|, 1e-12) ≤ tol */
static void near(const char *what, const double *got, const double *ref, size_t n, double tol)
{
    double md = 0, mr = 1e-12;
    for (size_t i = 0; i < n; i++) {
        cr_assert(isfinite(got[i]), "%s[%zu] = %g is not finite", what, i, got[i]);
        md = fmax(md, fabs(got[i] - ref[i]));
        mr = fmax(mr, fabs(ref[i]));
    }
    cr_expect(md / mr <= tol, "%s: rel diff %.3e > %.1e (max diff %.3e)", what, md / mr, tol, md);
}

static void near1(const char *what, double got, double ref, double tol)
{
    near(what, &got, &ref, 1, tol);
}

Test(ref_geometry, rdms_and_comparisons)
{
    double *x = gold("rsa_x.npy", NULL), *y = gold("rsa_y.npy", NULL);
    double ex[64], ey[64], cx[64], cy[64];
    cr_assert_eq(sl_rdm(x, 8, 20, SL_RDM_EUCLIDEAN, ex), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_rdm(y, 8, 15, SL_RDM_EUCLIDEAN, ey), SL_OK);
    cr_assert_eq(sl_rdm(x, 8, 20, SL_RDM_CORRELATION, cx), SL_OK);
    cr_assert_eq(sl_rdm(y, 8, 15, SL_RDM_CORRELATION, cy), SL_OK);
    const char *names[4] = {"rdm_x_euclidean.npy", "rdm_y_euclidean.npy", "rdm_x_correlation.npy",
                            "rdm_y_correlation.npy"};
    double *got[4] = {ex, ey, cx, cy};
    for (int i = 0; i < 4; i++) {
        double *r = gold(names[i], NULL);
        near(names[i], got[i], r, 64, 1e-12);
        free(r);
    }
    double *cmp = gold("rsa_compare.npy", NULL);
    for (int h = 0; h < 4; h++)
        near1("rsa_compare", sl_rdm_compare(ex, ey, 8, (sl_rdm_comparison)h), cmp[h], 1e-12);
    double *ta = gold("rsa_ties_a.npy", NULL), *tb = gold("rsa_ties_b.npy", NULL);
    double *tc = gold("rsa_ties_compare.npy", NULL);
    for (int h = 0; h < 4; h++)
        near1("rsa_ties_compare", sl_rdm_compare(ta, tb, 8, (sl_rdm_comparison)h), tc[h], 1e-12);
    /* condensed vectors (scipy squareform order) round-trip */
    size_t m;
    double *cond = gold("condensed.npy", &m), *full = NULL;
    int n = 0;
    cr_assert_eq(sl_rdm_from_condensed(cond, (long)m, &full, &n), SL_OK);
    cr_assert_eq(n, 8);
    near("condensed", full, ex, 64, 0);
    free(full);
    cr_assert_eq(sl_rdm_from_condensed(cond, 5, &full, &n), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "n(n−1)/2") != NULL, "%s", sl_last_error());
    free(cond);
    free(x);
    free(y);
    free(cmp);
    free(ta);
    free(tb);
    free(tc);
}

Test(ref_geometry, crossnobis)
{
    double *x = gold("cn_x.npy", NULL), *r = gold("cn_rdm.npy", NULL), d[36];
    cr_assert_eq(sl_rdm_crossnobis(x, 3, 6, 10, d), SL_OK, "%s", sl_last_error());
    near("crossnobis", d, r, 36, 1e-12);
    cr_expect_eq(sl_rdm_crossnobis(x, 1, 6, 10, d), SL_EINVAL);
    free(x);
    free(r);
}

Test(ref_geometry, permutation_p)
{
    double *x = gold("rsa_x.npy", NULL), e[64], r, p;
    sl_rdm(x, 8, 20, SL_RDM_EUCLIDEAN, e);
    cr_assert_eq(sl_rdm_permutation_p(e, e, 8, SL_RDM_SPEARMAN, 2000, 1, &r, &p), SL_OK);
    cr_expect(fabs(r - 1) < 1e-12 && p < 0.01, "identical RDMs: r %g p %g", r, p);
    /* a relabelled copy is no better than chance on average: p well above 0.01 for
     * the RDM against an unrelated one */
    double *y = gold("cn_x.npy", NULL), u[64];
    sl_rdm(y, 8, 7, SL_RDM_EUCLIDEAN, u); /* first 56 numbers as 8×7: unrelated patterns */
    cr_assert_eq(sl_rdm_permutation_p(e, u, 8, SL_RDM_SPEARMAN, 2000, 1, &r, &p), SL_OK);
    cr_expect(p > 0.01 && p <= 1, "unrelated RDMs: r %g p %g", r, p);
    double again;
    sl_rdm_permutation_p(e, u, 8, SL_RDM_SPEARMAN, 2000, 1, &r, &again);
    cr_expect_eq(p, again, "same seed, same p");
    free(x);
    free(y);
}

/* A random orthogonal p×p matrix (Gram-Schmidt of Gaussian columns). */
static void orthogonal(int p, uint64_t seed, double *Q)
{
    sl_rng g;
    sl_rng_seed(&g, seed);
    for (int i = 0; i < p * p; i++) Q[i] = sl_rng_normal(&g);
    for (int a = 0; a < p; a++) {
        for (int b = 0; b < a; b++) {
            double d = 0;
            for (int i = 0; i < p; i++) d += Q[i * p + a] * Q[i * p + b];
            for (int i = 0; i < p; i++) Q[i * p + a] -= d * Q[i * p + b];
        }
        double nn = 0;
        for (int i = 0; i < p; i++) nn += Q[i * p + a] * Q[i * p + a];
        for (int i = 0; i < p; i++) Q[i * p + a] /= sqrt(nn);
    }
}

static void matmul(const double *A, const double *B, int n, int k, int m, double s, double *C)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            double a = 0;
            for (int q = 0; q < k; q++) a += A[i * k + q] * B[q * m + j];
            C[i * m + j] = s * a;
        }
}

Test(ref_geometry, cka)
{
    double *x = gold("cka_x.npy", NULL), *y = gold("cka_y.npy", NULL), *r = gold("cka.npy", NULL);
    const int n = 40, p = 10, q = 6;
    static double Kx[1600], Ky[1600], xc[400], Q[100], xq[400];
    double got[5];
    got[0] = sl_cka_linear(x, y, n, p, q, 0);
    got[1] = sl_cka_linear(x, y, n, p, q, 1);
    sl_gram_linear(x, n, p, Kx);
    sl_gram_linear(y, n, q, Ky);
    got[2] = sl_cka_gram(Kx, Ky, n, 0);
    got[3] = sl_cka_gram(Kx, Ky, n, 1);
    cr_assert_eq(sl_gram_rbf(x, n, p, 0.5, Kx), SL_OK);
    cr_assert_eq(sl_gram_rbf(y, n, q, 0.5, Ky), SL_OK);
    got[4] = sl_cka_gram(Kx, Ky, n, 0);
    near("cka [linear, debiased, gram, gram debiased, rbf]", got, r, 5, 1e-10);
    /* feature form = Gram form, plain and debiased */
    near1("feature vs gram", got[0], got[2], 1e-12);
    near1("feature vs gram (debiased)", got[1], got[3], 1e-12);
    /* invariance: X → 3.7 X Q (orthogonal Q) changes nothing */
    orthogonal(p, 5, Q);
    memcpy(xc, x, sizeof(double) * n * p);
    matmul(xc, Q, n, p, p, 3.7, xq);
    near1("linear CKA under 3.7·XQ", sl_cka_linear(xq, y, n, p, q, 0), got[0], 1e-12);
    near1("debiased CKA under 3.7·XQ", sl_cka_linear(xq, y, n, p, q, 1), got[1], 1e-12);
    sl_gram_rbf(xq, n, p, 0.5, Kx);
    near1("rbf CKA under 3.7·XQ", sl_cka_gram(Kx, Ky, n, 0), got[4], 1e-10);
    near1("CKA(X, X)", sl_cka_linear(x, xq, n, p, p, 0), 1.0, 1e-12);
    free(x);
    free(y);
    free(r);
}

Test(ref_geometry, cca_svcca_procrustes)
{
    double *x = gold("cca_x.npy", NULL), *y = gold("cca_y.npy", NULL), *r = gold("cca.npy", NULL);
    double *rho_ref = gold("cca_rho.npy", NULL), *sy = gold("svcca_y.npy", NULL);
    double *sv = gold("svcca.npy", NULL);
    double rho[5], r2, mr, d, ang;
    cr_assert_eq(sl_cca(x, y, 50, 8, 5, rho, &r2), SL_OK, "%s", sl_last_error());
    near("canonical correlations", rho, rho_ref, 5, 1e-10);
    near1("cca mean R²", r2, r[0], 1e-10);
    cr_assert_eq(sl_svcca(x, y, 50, 8, 5, 0.99, &mr), SL_OK);
    near1("svcca", mr, r[1], 1e-10);
    cr_assert_eq(sl_svcca(x, sy, 50, 8, 12, 0.99, &mr), SL_OK);
    near1("svcca (low-rank Y)", mr, sv[0], 1e-10);
    cr_assert_eq(sl_procrustes(x, y, 50, 8, 5, &d, &ang), SL_OK);
    near1("procrustes", d, r[2], 1e-10);
    near1("procrustes angular", ang, r[3], 1e-10);
    /* invariance of CCA and Procrustes to 2.5·YQ */
    double Q[25], yq[250], r2b, db;
    orthogonal(5, 9, Q);
    matmul(y, Q, 50, 5, 5, 2.5, yq);
    sl_cca(x, yq, 50, 8, 5, NULL, &r2b);
    sl_procrustes(x, yq, 50, 8, 5, &db, NULL);
    near1("cca under 2.5·YQ", r2b, r2, 1e-10);
    near1("procrustes under 2.5·YQ", db, d, 1e-10);
    sl_procrustes(y, yq, 50, 5, 5, &db, NULL);
    cr_expect(db < 1e-7, "procrustes(Y, 2.5·YQ) = %g", db);
    free(x);
    free(y);
    free(r);
    free(rho_ref);
    free(sy);
    free(sv);
}

Test(ref_geometry, pca)
{
    double *x = gold("pca_x.npy", NULL), *var = gold("pca_var.npy", NULL);
    double *comp = gold("pca_comp.npy", NULL), *pr = gold("pca_pr.npy", NULL);
    sl_pca pca;
    cr_assert_eq(sl_pca_fit(x, 30, 6, 0, &pca), SL_OK, "%s", sl_last_error());
    cr_assert_eq(pca.k, 6);
    near("pca variances", pca.variance, var, 6, 1e-10);
    near("pca components", pca.components, comp, 36, 1e-8);
    near1("participation ratio", sl_participation_ratio(pca.variance, pca.n_var), pr[0], 1e-10);
    double d;
    cr_assert_eq(sl_dimensionality(x, 30, 6, &d), SL_OK);
    near1("sl_dimensionality", d, pr[0], 1e-10);
    /* projections: column variances = the eigenvalues */
    double proj[180];
    cr_assert_eq(sl_pca_project(&pca, x, 30, proj), SL_OK);
    for (int c = 0; c < 6; c++) {
        double s = 0;
        for (int i = 0; i < 30; i++) s += proj[i * 6 + c] * proj[i * 6 + c];
        near1("projected variance", s / 29, var[c], 1e-10);
    }
    sl_pca_free(&pca);
    cr_expect_eq(sl_pca_fit(x, 30, 6, 7, &pca), SL_EINVAL);
    free(x);
    free(var);
    free(comp);
    free(pr);
}

Test(ref_geometry, tangling)
{
    double *x = gold("tg_x.npy", NULL), *q = gold("tg_q.npy", NULL), *med = gold("tg_median.npy", NULL);
    double got[80], m;
    cr_assert_eq(sl_tangling(x, 2, 40, 2, 0.01, 0.1, got, &m), SL_OK, "%s", sl_last_error());
    near("tangling Q", got, q, 80, 1e-10);
    near1("tangling median", m, med[0], 1e-10);
    /* the figure-eight crosses itself: its worst Q is above the circle's */
    double mc = 0, me = 0;
    for (int t = 0; t < 40; t++) {
        mc = fmax(mc, got[t]);
        me = fmax(me, got[40 + t]);
    }
    cr_expect(me > mc, "figure-eight max Q %g should exceed the circle's %g", me, mc);
    /* alone, a circle is untangled: Q = max |ẋ−ẋ'|²/(|x−x'|²+ε) ≤ ω² = (2π/0.4 s)² */
    double qc[40], mcirc, w = 2 * M_PI / 0.4;
    sl_tangling(x, 1, 40, 2, 0.01, 0.1, qc, &mcirc);
    /* (5% slack: the one-sided derivatives at the two ends turn by half a step) */
    for (int t = 0; t < 40; t++) cr_expect(qc[t] <= w * w * 1.05, "circle Q %g > ω² %g", qc[t], w * w);
    /* isotropic scaling does not change Q */
    double xs[160], qs[80], ms;
    for (int i = 0; i < 160; i++) xs[i] = 4.2 * x[i];
    sl_tangling(xs, 2, 40, 2, 0.01, 0.1, qs, &ms);
    near("tangling under scaling", qs, got, 80, 1e-10);
    free(x);
    free(q);
    free(med);
}

Test(ref_geometry, jpca)
{
    double *x = gold("jp_x.npy", NULL), *ref = gold("jp.npy", NULL), *Q = gold("jp_q.npy", NULL);
    double *ft = gold("jp_freq_true.npy", NULL);
    const int C = 5, T = 30, N = 12;
    sl_jpca_result j;
    cr_assert_eq(sl_jpca_fit(x, C, T, N, 0.01, -1, 6, &j), SL_OK, "%s", sl_last_error());
    double got[10] = {j.r2_skew, j.r2_linear, j.rotation_strength, j.soft_used,
                      j.var_captured[0], j.var_captured[1], j.var_captured[2],
                      j.freq_hz[0], j.freq_hz[1], j.freq_hz[2]};
    near("jpca [r2 skew, r2 lin, strength, soft, var×3, freq×3]", got, ref, 10, 1e-8);
    sl_jpca_free(&j);
    /* the known planes: with a soft constant far above every range the
     * normalisation is isotropic, and the skew fit finds the rotation */
    cr_assert_eq(sl_jpca_fit(x, C, T, N, 0.01, 1e6, 6, &j), SL_OK);
    /* (not 1: the slow decay is not a rotation, and forward differences of a
     * 4 Hz rotation sampled at 100 Hz are not exactly skew) */
    cr_expect(j.rotation_strength > 0.97, "rotation strength %g", j.rotation_strength);
    for (int p = 0; p < 3; p++) {
        double f_true = ft[2 - p]; /* planes sorted by frequency, descending */
        cr_expect(fabs(j.freq_hz[p] - f_true) < 0.05 * f_true, "plane %d: %g Hz, true %g", p,
                  j.freq_hz[p], f_true);
        /* projector onto the fitted plane vs the true plane (columns 2k, 2k+1 of Q) */
        int k = 2 - p;
        double err = 0;
        for (int a = 0; a < N; a++)
            for (int b = 0; b < N; b++) {
                double pf = 0, pt = 0;
                for (int h = 0; h < 2; h++) {
                    pf += j.planes[(2 * p + h) * N + a] * j.planes[(2 * p + h) * N + b];
                    pt += Q[a * 6 + 2 * k + h] * Q[b * 6 + 2 * k + h];
                }
                err = fmax(err, fabs(pf - pt));
            }
        cr_expect(err < 0.05, "plane %d differs from the true plane by %g", p, err);
    }
    sl_jpca_free(&j);
    free(x);
    free(ref);
    free(Q);
    free(ft);
}

Test(ref_geometry, bad_input)
{
    double x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out[16], q[12], m;
    x[5] = NAN;
    cr_expect_eq(sl_rdm(x, 4, 3, SL_RDM_EUCLIDEAN, out), SL_ENUMERIC);
    cr_expect(strstr(sl_last_error(), "NaN") && strstr(sl_last_error(), "element 5"), "%s",
              sl_last_error());
    double r2;
    cr_expect_eq(sl_cca(x, x, 4, 3, 3, NULL, &r2), SL_ENUMERIC);
    cr_expect_eq(sl_tangling(x, 1, 6, 2, 0.01, 0.1, q, &m), SL_ENUMERIC);
    x[5] = 6;
    sl_jpca_result j;
    cr_expect_eq(sl_jpca_fit(x, 2, 3, 2, 0.01, -1, 3, &j), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "even") != NULL, "%s", sl_last_error());
    cr_expect_eq(sl_tangling(x, 1, 1, 12, 0.01, 0.1, q, &m), SL_EINVAL);
    cr_expect_eq(sl_cca(x, x, 1, 12, 12, NULL, &r2), SL_EINVAL);
    cr_expect(isnan(sl_rdm_compare(out, out, 1, SL_RDM_SPEARMAN)));
}
