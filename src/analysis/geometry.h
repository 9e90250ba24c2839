/* geometry.h — helpers shared by the population-geometry analyses
 * (pca, tangling, jpca, rsa, cka, cca, compare). Internal to src/analysis/. */
#ifndef SL_ANALYSIS_GEOMETRY_H
#define SL_ANALYSIS_GEOMETRY_H

#include <stddef.h>

#include "silico.h"

/* SL_ENUMERIC naming `what` and the first bad index when x[0..n) has NaN/Inf. */
sl_status geo_check_finite(const double *x, size_t n, const char *what);
/* out (n×p) = X minus its column means (out may be X). */
void geo_center(const double *X, int n, int p, double *out);
/* Thin SVD of A (m×n, row-major, overwritten): s (min(m,n)), U (m×min) and
 * Vt (min×n) — either may be NULL. */
sl_status geo_svd(double *A, int m, int n, double *s, double *U, double *Vt);
/* Median of x[0..n) (sorts x in place). */
double geo_median(double *x, size_t n);

/* X (C×T×N) reduced to its top k PCs (fit over all C·T rows; k clipped to the
 * rank bound min(C·T, N)): malloc'd C×T×k into *out, k used into *k_used. */
sl_status geo_reduce(const double *X, int C, int T, int N, int k, double **out, int *k_used);

#endif
