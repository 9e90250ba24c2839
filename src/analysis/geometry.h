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

/* Files under dir: JSON (cJSON *, printed) and float64 / float32 .npy. */
struct cJSON;
sl_status geo_write_json(const char *dir, const char *name, const struct cJSON *obj);
sl_status geo_write_f64(const char *dir, const char *name, const double *x, int ndim,
                        const int64_t *shape);
/* A number or null (NaN/Inf) in a JSON object. */
void geo_json_num(struct cJSON *o, const char *key, double v);
/* Parse "a:b" (ms) into lo, hi; SL_EINVAL naming opt when malformed. */
sl_status geo_parse_window(const char *s, const char *opt, double *lo, double *hi);
/* Keep times in [lo, hi] (seconds) of X (C×T×N, time_s[T]): returns the
 * first kept index and *Tk (SL_EINVAL when fewer than min_T remain). */
sl_status geo_window(const double *time_s, int T, double lo, double hi, int min_T, int *first,
                     int *Tk);
/* Copy the C×Tk×N slab starting at time index first out of C×T×N X. */
double *geo_slab(const double *X, int C, int T, int N, int first, int Tk);

/* The condition-averaged rates of ctx's run (sl_condition_rates on the
 * run's task; option delay=MS), restricted to option window=A:B (ms from
 * movement onset: the go cue + the targets' onset lag) or, without it, to
 * def_lo..def_hi ms from movement onset (both NAN = every step; tasks other
 * than reach, which have no movement onset, use every step). time_s is
 * then seconds from movement onset. Malloc'd outputs. */
typedef struct geo_rates {
    double *x;      /* C×T×N */
    double *time_s; /* T, seconds from movement onset */
    int C, T, N;
    double dt_s, onset_s; /* step; go-to-movement lag */
    double lo_ms, hi_ms;  /* the window used */
    int reach;            /* 1: a reach-family task (time zero = movement onset) */
} geo_rates;
#include "analysis/analysis.h"
sl_status geo_ctx_rates(const sl_analysis_ctx *ctx, double def_lo, double def_hi, geo_rates *out);
void geo_rates_free(geo_rates *r);
/* Write time.npy (T) and the common summary fields ("time_zero", window, delay). */
void geo_summary_common(struct cJSON *o, const sl_analysis_ctx *ctx, const geo_rates *r);
/* Option key as a number (def when absent); SL_EINVAL naming it when malformed. */
sl_status geo_opt_num(const sl_analysis_ctx *ctx, const char *key, double def, double *out);
/* X (C×T×N) reduced to its top k PCs (fit over all C·T rows; k clipped to the
 * rank bound min(C·T, N)): malloc'd C×T×k into *out, k used into *k_used. */
sl_status geo_reduce(const double *X, int C, int T, int N, int k, double **out, int *k_used);

#endif
