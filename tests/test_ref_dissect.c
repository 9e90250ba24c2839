/* test_ref_dissect.c — the dissection statistics against numpy/scipy
 * (tests/ref/gen_dissect.py; tests/golden/dissect, or $SILICO_GOLDEN_DIR/
 * dissect under `make test-ref`): d′ of units with known normal
 * distributions (numpy var, ddof 0) and cross-validated ridge R² (scipy
 * solve on per-fold standardised features). Tolerance 1e-9 relative: both
 * sides are float64. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "silico.h"
#include "testutil.h"

static void golden_path(char *buf, size_t n, const char *cs, const char *file)
{
    const char *root = getenv("SILICO_GOLDEN_DIR");
    snprintf(buf, n, "%s/dissect/%s/%s", root && *root ? root : "tests/golden", cs, file);
}

static double *load(const char *cs, const char *file, size_t *n)
{
    char p[1024];
    golden_path(p, sizeof p, cs, file);
    double *d = tu_npy_doubles(p, n, TU_DT(SL_F64) | TU_DT(SL_I32));
    cr_assert_not_null(d, "%s: %s", p, sl_last_error());
    return d;
}

static double max_rel(const double *a, const double *b, size_t n)
{
    double md = 0, mr = 1e-12;
    for (size_t i = 0; i < n; i++) {
        md = fmax(md, fabs(a[i] - b[i]));
        mr = fmax(mr, fabs(b[i]));
        if (!isfinite(a[i])) return INFINITY;
    }
    return md / mr;
}

static void dprime_case(const char *cs)
{
    size_t nx, ng, nd;
    double *X = load(cs, "X.npy", &nx), *g = load(cs, "group.npy", &ng), *ref = load(cs, "dprime.npy", &nd);
    const int n = (int)ng, N = (int)nd;
    cr_assert_eq(nx, (size_t)n * N);
    int *grp = malloc((size_t)n * sizeof *grp);
    double *d = malloc((size_t)N * sizeof *d);
    for (int k = 0; k < n; k++) grp[k] = (int)g[k];
    cr_assert_eq(sl_dprime(X, n, N, grp, d), SL_OK, "%s", sl_last_error());
    double rel = max_rel(d, ref, (size_t)N);
    fprintf(stderr, "dissect %s dprime rel %.2e\n", cs, rel);
    cr_expect_leq(rel, 1e-9);
    free(X), free(g), free(ref), free(grp), free(d);
}

Test(ref_dissect, dprime_small) { dprime_case("dprime_small"); }
Test(ref_dissect, dprime_wide) { dprime_case("dprime_wide"); }

Test(ref_dissect, ridge_cv)
{
    size_t nx, ny, nf, nl, nr;
    double *X = load("ridge", "X.npy", &nx), *Y = load("ridge", "Y.npy", &ny);
    double *f = load("ridge", "fold.npy", &nf), *lam = load("ridge", "lambda.npy", &nl);
    double *ref = load("ridge", "r2.npy", &nr);
    const int n = (int)nf, q = (int)nr, p = (int)(nx / nf);
    int *fold = malloc((size_t)n * sizeof *fold), nfold = 0;
    for (int k = 0; k < n; k++) {
        fold[k] = (int)f[k];
        if (fold[k] + 1 > nfold) nfold = fold[k] + 1;
    }
    double *r2 = malloc((size_t)q * sizeof *r2);
    cr_assert_eq(sl_ridge_cv(X, n, p, Y, q, lam[0], fold, nfold, r2), SL_OK, "%s", sl_last_error());
    double rel = max_rel(r2, ref, (size_t)q);
    fprintf(stderr, "dissect ridge r2 rel %.2e (r2[0] %.4f vs %.4f)\n", rel, r2[0], ref[0]);
    cr_expect_leq(rel, 1e-9);
    free(X), free(Y), free(f), free(lam), free(ref), free(fold), free(r2);
}
