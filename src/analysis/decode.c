/* decode.c — cross-validated linear read-outs of trial variables from
 * activity (decode) and of each unit's activity from the inputs (encode).
 *
 *   folds     trial k is tested in fold[k]; every fold's model is fitted on the
 *             other folds, features standardised by that training set's mean
 *             and sd (constant features left at 0)
 *   ridge     β = (XᵀX + λI)⁻¹ Xᵀ(Y − Ȳ) (LAPACK dposv, Cholesky);
 *             r2_j = 1 − Σ_k (y_kj − ŷ_kj)² / Σ_k (y_kj − ȳ_j)², over the pooled
 *             held-out predictions (sklearn's r2_score of cross_val_predict)
 *   logistic  one-vs-rest: for each class c, w_c minimises
 *             Σ_k log(1 + exp(−s_k x̃_kᵀw_c)) + ½λ‖w_c‖² (bias unpenalised),
 *             s_k = ±1, by Newton's method (IRLS, ≤ 50 steps, dposv); the
 *             prediction is argmax_c x̃ᵀw_c; accuracy over held-out trials
 *   chance    decoders refitted on randomly permuted labels (runner)
 *
 * Runners: decode — rates of --trials K noisy single trials (default 20 per
 * condition) averaged over the --window (default: whole trial) and, per time
 * bin of --bin ms, decoded into every trial variable that varies: variables
 * with at most 16 distinct integer values by logistic regression (accuracy),
 * others by ridge (R²). encode — each unit's rate at step t predicted from
 * the inputs at steps t, t−1, ..., t−L+1 (--lags L) by ridge, folds by trial. */
#include <cjson/cJSON.h>
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/geometry.h"

void sl_cv_folds(int n, int n_folds, sl_rng *rng, int *fold)
{
    int *p = malloc((size_t)n * sizeof *p);
    if (!p) { /* no memory: deterministic stripes, still balanced */
        for (int k = 0; k < n; k++) fold[k] = k % n_folds;
        return;
    }
    for (int k = 0; k < n; k++) p[k] = k;
    sl_rng_shuffle(rng, p, n);
    for (int k = 0; k < n; k++) fold[p[k]] = k % n_folds;
    free(p);
}

static sl_status check_folds(int n, const int *fold, int n_folds)
{
    if (n_folds < 2) return sl_fail(SL_EINVAL, "decode: need at least 2 folds, got %d", n_folds);
    for (int k = 0; k < n; k++)
        if (fold[k] < 0 || fold[k] >= n_folds)
            return sl_fail(SL_EINVAL, "decode: trial %d is in fold %d, outside [0, %d)", k, fold[k], n_folds);
    for (int f = 0; f < n_folds; f++) {
        int nt = 0;
        for (int k = 0; k < n; k++) nt += fold[k] == f;
        if (nt == 0 || nt == n)
            return sl_fail(SL_EINVAL, "decode: fold %d has %d of %d trials; each fold needs test and "
                                      "training trials (fewer folds?)", f, nt, n);
    }
    return SL_OK;
}

/* standardised training rows (fold != f) into Xt (ntr×p), and mu, sd */
static int standardise(const double *X, int n, int p, const int *fold, int f, double *Xt, double *mu,
                       double *sd)
{
    int ntr = 0;
    for (int j = 0; j < p; j++) mu[j] = sd[j] = 0;
    for (int k = 0; k < n; k++)
        if (fold[k] != f) {
            for (int j = 0; j < p; j++) mu[j] += X[(size_t)k * p + j];
            ntr++;
        }
    for (int j = 0; j < p; j++) mu[j] /= ntr;
    for (int k = 0; k < n; k++)
        if (fold[k] != f)
            for (int j = 0; j < p; j++) {
                double e = X[(size_t)k * p + j] - mu[j];
                sd[j] += e * e;
            }
    for (int j = 0; j < p; j++) {
        sd[j] = sqrt(sd[j] / ntr);
        if (!(sd[j] > 1e-12)) sd[j] = 0;
    }
    int r = 0;
    for (int k = 0; k < n; k++)
        if (fold[k] != f) {
            for (int j = 0; j < p; j++)
                Xt[(size_t)r * p + j] = sd[j] > 0 ? (X[(size_t)k * p + j] - mu[j]) / sd[j] : 0;
            r++;
        }
    return ntr;
}

sl_status sl_ridge_cv(const double *X, int n, int p, const double *Y, int q, double lambda,
                      const int *fold, int n_folds, double *r2)
{
    sl_status st = check_folds(n, fold, n_folds);
    if (st) return st;
    if (!(lambda > 0)) return sl_fail(SL_EINVAL, "ridge: lambda must be > 0, got %g", lambda);
    if ((st = geo_check_finite(X, (size_t)n * p, "ridge: X")) ||
        (st = geo_check_finite(Y, (size_t)n * q, "ridge: Y")))
        return st;
    double *Xt = malloc((size_t)n * p * sizeof *Xt), *A = malloc((size_t)p * p * sizeof *A);
    double *Bm = malloc((size_t)p * q * sizeof *Bm), *mu = malloc((size_t)p * sizeof *mu);
    double *sd = malloc((size_t)p * sizeof *sd), *ym = malloc((size_t)q * sizeof *ym);
    double *pred = malloc((size_t)n * q * sizeof *pred), *Yt = malloc((size_t)n * q * sizeof *Yt);
    if (!Xt || !A || !Bm || !mu || !sd || !ym || !pred || !Yt) st = sl_fail(SL_ENOMEM, "ridge: out of memory");
    for (int f = 0; !st && f < n_folds; f++) {
        const int ntr = standardise(X, n, p, fold, f, Xt, mu, sd);
        for (int j = 0; j < q; j++) ym[j] = 0;
        int r = 0;
        for (int k = 0; k < n; k++)
            if (fold[k] != f) {
                for (int j = 0; j < q; j++) ym[j] += Y[(size_t)k * q + j];
                r++;
            }
        for (int j = 0; j < q; j++) ym[j] /= ntr;
        r = 0;
        for (int k = 0; k < n; k++)
            if (fold[k] != f) {
                for (int j = 0; j < q; j++) Yt[(size_t)r * q + j] = Y[(size_t)k * q + j] - ym[j];
                r++;
            }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, p, ntr, 1.0, Xt, p, 0.0, A, p);
        for (int j = 0; j < p; j++) A[(size_t)j * p + j] += lambda;
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, ntr, 1.0, Xt, p, Yt, q, 0.0, Bm, q);
        lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', p, q, A, p, Bm, q);
        if (info != 0) {
            st = sl_fail(SL_ENUMERIC, "ridge: the regularised normal equations are not positive definite "
                                      "(LAPACK dposv info %d)", (int)info);
            break;
        }
        for (int k = 0; k < n; k++) {
            if (fold[k] != f) continue;
            for (int j = 0; j < q; j++) {
                double s = ym[j];
                for (int i = 0; i < p; i++)
                    if (sd[i] > 0) s += (X[(size_t)k * p + i] - mu[i]) / sd[i] * Bm[(size_t)i * q + j];
                pred[(size_t)k * q + j] = s;
            }
        }
    }
    for (int j = 0; !st && j < q; j++) {
        double m = 0, ss = 0, se = 0;
        for (int k = 0; k < n; k++) m += Y[(size_t)k * q + j];
        m /= n;
        for (int k = 0; k < n; k++) {
            double y = Y[(size_t)k * q + j];
            ss += (y - m) * (y - m);
            se += (y - pred[(size_t)k * q + j]) * (y - pred[(size_t)k * q + j]);
        }
        r2[j] = ss > 0 ? 1 - se / ss : NAN;
    }
    free(Xt), free(A), free(Bm), free(mu), free(sd), free(ym), free(pred), free(Yt);
    return st;
}

/* one binary L2 logistic regression by IRLS on Xt (m×p, standardised):
 * w (p+1, bias last); H (P×P), g (P), eta (m), S (m×P) scratch */
static sl_status logistic_fit(const double *Xt, int m, int p, const int *pos, double lambda, double *w,
                              double *H, double *g, double *eta, double *S)
{
    const int P = p + 1;
    memset(w, 0, (size_t)P * sizeof *w);
    for (int it = 0; it < 30; it++) {
        memset(g, 0, (size_t)P * sizeof *g);
        for (int k = 0; k < m; k++) {
            double s = w[p];
            const double *x = Xt + (size_t)k * p;
            for (int j = 0; j < p; j++) s += x[j] * w[j];
            const double pr = 1 / (1 + exp(-s)), r = pr - (pos[k] ? 1.0 : 0.0);
            double v = pr * (1 - pr);
            if (v < 1e-10) v = 1e-10;
            eta[k] = sqrt(v);
            for (int j = 0; j < p; j++) g[j] += r * x[j];
            g[p] += r;
            double *sr = S + (size_t)k * P; /* √v·[x, 1] */
            for (int j = 0; j < p; j++) sr[j] = eta[k] * x[j];
            sr[p] = eta[k];
        }
        for (int j = 0; j < p; j++) g[j] += lambda * w[j];
        /* H = [X 1]ᵀ diag(v) [X 1] + λI (bias unpenalised, jittered) */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, P, m, 1.0, S, P, 0.0, H, P);
        for (int j = 0; j < p; j++) H[(size_t)j * P + j] += lambda;
        H[(size_t)p * P + p] += 1e-8;
        lapack_int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', P, 1, H, P, g, 1);
        if (info != 0)
            return sl_fail(SL_ENUMERIC, "logistic: Newton system not positive definite (dposv info %d)", (int)info);
        double step = 0, norm = 0;
        for (int j = 0; j < P; j++) {
            w[j] -= g[j];
            step += g[j] * g[j];
            norm += w[j] * w[j];
        }
        if (sqrt(step) <= 1e-6 * (1 + sqrt(norm))) break;
    }
    return SL_OK;
}

sl_status sl_logistic_cv(const double *X, int n, int p, const int *y, double lambda, const int *fold,
                         int n_folds, double *accuracy)
{
    sl_status st = check_folds(n, fold, n_folds);
    if (st) return st;
    if (!(lambda > 0)) return sl_fail(SL_EINVAL, "logistic: lambda must be > 0, got %g", lambda);
    if ((st = geo_check_finite(X, (size_t)n * p, "logistic: X"))) return st;
    int ncls = 0;
    for (int k = 0; k < n; k++) {
        if (y[k] < 0 || y[k] > 100000) return sl_fail(SL_EINVAL, "logistic: label %d of trial %d is not a class index", y[k], k);
        if (y[k] + 1 > ncls) ncls = y[k] + 1;
    }
    const int P = p + 1;
    double *Xt = malloc((size_t)n * p * sizeof *Xt), *mu = malloc((size_t)p * sizeof *mu);
    double *sd = malloc((size_t)p * sizeof *sd), *W = malloc((size_t)ncls * P * sizeof *W);
    double *H = malloc((size_t)P * P * sizeof *H), *g = malloc((size_t)P * sizeof *g), *eta = malloc((size_t)n * sizeof *eta);
    double *S = malloc((size_t)n * P * sizeof *S);
    int *pos = malloc((size_t)n * sizeof *pos), *ytr = malloc((size_t)n * sizeof *ytr), *present = malloc((size_t)ncls * sizeof *present);
    if (!Xt || !mu || !sd || !W || !H || !g || !eta || !S || !pos || !ytr || !present) st = sl_fail(SL_ENOMEM, "logistic: out of memory");
    int correct = 0;
    for (int f = 0; !st && f < n_folds; f++) {
        const int ntr = standardise(X, n, p, fold, f, Xt, mu, sd);
        int r = 0;
        for (int k = 0; k < n; k++)
            if (fold[k] != f) ytr[r++] = y[k];
        memset(present, 0, (size_t)ncls * sizeof *present);
        for (int k = 0; k < ntr; k++) present[ytr[k]] = 1;
        for (int c = 0; !st && c < ncls; c++) {
            if (!present[c]) continue;
            for (int k = 0; k < ntr; k++) pos[k] = ytr[k] == c;
            st = logistic_fit(Xt, ntr, p, pos, lambda, W + (size_t)c * P, H, g, eta, S);
        }
        for (int k = 0; !st && k < n; k++) {
            if (fold[k] != f) continue;
            int best = -1;
            double bs = -INFINITY;
            for (int c = 0; c < ncls; c++) {
                if (!present[c]) continue;
                double s = W[(size_t)c * P + p];
                for (int j = 0; j < p; j++)
                    if (sd[j] > 0) s += (X[(size_t)k * p + j] - mu[j]) / sd[j] * W[(size_t)c * P + j];
                if (s > bs) bs = s, best = c;
            }
            correct += best == y[k];
        }
    }
    if (!st) *accuracy = (double)correct / n;
    free(Xt), free(mu), free(sd), free(W), free(H), free(g), free(eta), free(S), free(pos), free(ytr), free(present);
    return st;
}

/* ------------------------------------------------------------------ runners */

/* the noisy single trials both runners use, and their rates */
typedef struct {
    sl_trialset s;
    int n;          /* trials */
    int *cond;      /* n: condition of each trial */
    sl_real *u;     /* n×T×n_in */
    sl_activity act;
} trials_t;

static void trials_free(trials_t *t)
{
    sl_trialset_free(&t->s);
    free(t->cond);
    free(t->u);
    sl_activity_free(&t->act);
}

static sl_status trials_make(sl_analysis_ctx *ctx, trials_t *tr, long per_cond, uint64_t seed)
{
    memset(tr, 0, sizeof *tr);
    double sigma;
    sl_status st;
    if ((st = sl_an_opt_noise(ctx, &sigma))) return st;
    if ((st = sl_an_trialset(ctx, &tr->s))) return st;
    const sl_trialset *s = &tr->s;
    tr->n = (int)(per_cond * s->C);
    tr->cond = malloc((size_t)tr->n * sizeof *tr->cond);
    tr->u = malloc((size_t)tr->n * s->T * s->n_in * sizeof *tr->u);
    if (!tr->cond || !tr->u) {
        trials_free(tr);
        return sl_fail(SL_ENOMEM, "decode: out of memory for %d trials", tr->n);
    }
    st = sl_an_noisy_activity(ctx->model, s, tr->n, sigma, seed, tr->cond, tr->u, &tr->act);
    if (st) trials_free(tr);
    return st;
}

/* whether variable v takes at most 16 distinct small integer values (a label) */
static int as_labels(const sl_trialset *s, const int *cond, int n, int v, int *lab, int *n_distinct)
{
    double vals[16];
    int nv = 0;
    for (int k = 0; k < n; k++) {
        double x = s->vars[(size_t)cond[k] * SL_TRIALSET_MAX_VARS + v];
        if (!isfinite(x) || x != floor(x)) return 0;
        int j = 0;
        while (j < nv && vals[j] != x) j++;
        if (j == nv) {
            if (nv == 16) return 0;
            vals[nv++] = x;
        }
        lab[k] = j;
    }
    *n_distinct = nv;
    return 1;
}

sl_status sl_run_decode(sl_analysis_ctx *ctx)
{
    long per, seed, folds, perms;
    double lambda, bin_ms;
    sl_status st;
    if ((st = sl_an_opt_int(ctx, "trials-per-condition", 20, 1, 100000, &per)) ||
        (st = sl_an_opt_int(ctx, "seed", 1, 0, 0x7fffffffL, &seed)) ||
        (st = sl_an_opt_int(ctx, "folds", 5, 2, 1000, &folds)) ||
        (st = sl_an_opt_int(ctx, "permutations", 20, 0, 100000, &perms)) ||
        (st = sl_an_opt_real(ctx, "lambda", 1.0, &lambda)) ||
        (st = sl_an_opt_real(ctx, "bin", 100.0, &bin_ms)))
        return st;
    if (!(lambda > 0) || !(bin_ms > 0)) return sl_fail(SL_EINVAL, "--lambda and --bin must be > 0");
    trials_t tr;
    if ((st = trials_make(ctx, &tr, per, (uint64_t)seed))) return st;
    const sl_trialset *s = &tr.s;
    const int n = tr.n, T = s->T, N = tr.act.N;
    int a0 = 0, a1 = T;
    const int bin = (int)fmax(1, floor(bin_ms / s->dt_ms + 0.5)), nbins = (T + bin - 1) / bin;
    double *X = malloc((size_t)n * N * sizeof *X), *Y = malloc((size_t)n * sizeof *Y);
    double *Yp = malloc((size_t)n * sizeof *Yp); /* Y permuted, for the chance level */
    int *idx = malloc((size_t)n * sizeof *idx);
    double *timecourse = malloc((size_t)nbins * SL_TRIALSET_MAX_VARS * sizeof *timecourse);
    double *chance = malloc((size_t)(perms ? perms : 1) * sizeof *chance);
    int *fold = malloc((size_t)n * sizeof *fold), *lab = malloc((size_t)n * sizeof *lab), *plab = malloc((size_t)n * sizeof *plab);
    cJSON *sum = cJSON_CreateObject(), *files = cJSON_CreateObject(), *vars = cJSON_CreateArray();
    int nd = 0, used[SL_TRIALSET_MAX_VARS];
    if (!X || !Y || !Yp || !idx || !timecourse || !chance || !fold || !lab || !plab) {
        st = sl_fail(SL_ENOMEM, "decode: out of memory");
        goto done;
    }
    if ((st = sl_an_window(ctx, s, &a0, &a1))) goto done;
    sl_rng rng;
    sl_rng_seed_stream(&rng, (uint64_t)seed, 0x666f6c64ULL);
    sl_cv_folds(n, (int)folds, &rng, fold);
    for (int v = 0; v < s->n_vars; v++) {
        /* skip variables that do not vary over the trials */
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < n; k++) {
            double x = s->vars[(size_t)tr.cond[k] * SL_TRIALSET_MAX_VARS + v];
            if (x < lo) lo = x;
            if (x > hi) hi = x;
        }
        if (!(hi > lo) || !isfinite(lo) || !isfinite(hi)) continue;
        int ncls = 0;
        const int is_lab = as_labels(s, tr.cond, n, v, lab, &ncls);
        /* a relabelling of a variable already decoded (angle of condition) adds nothing */
        int dup = -1;
        for (int j = 0; is_lab && j < nd && dup < 0; j++) {
            int nc2, same = 1;
            if (!as_labels(s, tr.cond, n, used[j], plab, &nc2) || nc2 != ncls) continue;
            for (int k = 0; k < n && same; k++)
                for (int k2 = 0; k2 < k && same; k2++) same = (lab[k] == lab[k2]) == (plab[k] == plab[k2]);
            if (same) dup = used[j];
        }
        if (dup >= 0) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "variable", s->var_names[v]);
            cJSON_AddStringToObject(o, "same_as", s->var_names[dup]);
            cJSON_AddItemToArray(vars, o);
            continue;
        }
        for (int k = 0; k < n; k++) Y[k] = s->vars[(size_t)tr.cond[k] * SL_TRIALSET_MAX_VARS + v];
        double score = 0;
        sl_an_window_mean(tr.act.r, n, T, N, a0, a1, X);
        st = is_lab ? sl_logistic_cv(X, n, N, lab, lambda, fold, (int)folds, &score)
                    : sl_ridge_cv(X, n, N, Y, 1, lambda, fold, (int)folds, &score);
        if (st) goto done;
        for (int q = 0; q < perms; q++) {
            sl_rng pr;
            sl_rng_seed_stream(&pr, (uint64_t)seed, 0x7065726dULL + (uint64_t)q);
            if (is_lab) {
                memcpy(plab, lab, (size_t)n * sizeof *plab);
                sl_rng_shuffle(&pr, plab, n);
                st = sl_logistic_cv(X, n, N, plab, lambda, fold, (int)folds, &chance[q]);
            } else {
                for (int k = 0; k < n; k++) idx[k] = k;
                sl_rng_shuffle(&pr, idx, n);
                for (int k = 0; k < n; k++) Yp[k] = Y[idx[k]];
                st = sl_ridge_cv(X, n, N, Yp, 1, lambda, fold, (int)folds, &chance[q]);
            }
            if (st) goto done;
        }
        for (int b = 0; b < nbins; b++) {
            const int t0 = b * bin, t1 = t0 + bin < T ? t0 + bin : T;
            sl_an_window_mean(tr.act.r, n, T, N, t0, t1, X);
            double sc;
            st = is_lab ? sl_logistic_cv(X, n, N, lab, lambda, fold, (int)folds, &sc)
                        : sl_ridge_cv(X, n, N, Y, 1, lambda, fold, (int)folds, &sc);
            if (st) goto done;
            timecourse[(size_t)b * SL_TRIALSET_MAX_VARS + nd] = sc;
        }
        used[nd++] = v;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "variable", s->var_names[v]);
        cJSON_AddStringToObject(o, "decoder", is_lab ? "logistic" : "ridge");
        cJSON_AddStringToObject(o, "metric", is_lab ? "accuracy" : "r2");
        if (is_lab) cJSON_AddNumberToObject(o, "classes", ncls);
        cJSON_AddNumberToObject(o, "score", score);
        if (perms > 0) {
            double m, sd, mx = -INFINITY;
            sl_an_mean_sd(chance, (int)perms, &m, &sd);
            for (int q = 0; q < perms; q++) mx = fmax(mx, chance[q]);
            cJSON_AddNumberToObject(o, "chance_mean", m);
            cJSON_AddNumberToObject(o, "chance_sd", sd);
            cJSON_AddNumberToObject(o, "chance_max", mx);
            int ge = 0;
            for (int q = 0; q < perms; q++) ge += chance[q] >= score;
            cJSON_AddNumberToObject(o, "p_value", (ge + 1.0) / (perms + 1.0));
        }
        cJSON_AddItemToArray(vars, o);
    }
    if (nd > 0) {
        double *tc = malloc((size_t)nbins * nd * sizeof *tc), *bt = malloc((size_t)nbins * sizeof *bt);
        if (!tc || !bt) {
            free(tc), free(bt);
            st = sl_fail(SL_ENOMEM, "decode: out of memory");
            goto done;
        }
        for (int b = 0; b < nbins; b++) {
            for (int j = 0; j < nd; j++) tc[(size_t)b * nd + j] = timecourse[(size_t)b * SL_TRIALSET_MAX_VARS + j];
            bt[b] = ((b * bin + (b * bin + bin < T ? b * bin + bin : T)) / 2.0 - s->t_zero) * s->dt_ms / 1000.0;
        }
        int64_t sh[2] = {nbins, nd}, sh1[1] = {nbins};
        st = sl_an_write_f64(ctx->out_dir, "decode_time.npy", 2, sh, tc);
        if (!st) st = sl_an_write_f64(ctx->out_dir, "bin_time.npy", 1, sh1, bt);
        free(tc), free(bt);
        if (st) goto done;
        cJSON_AddStringToObject(files, "decode_time.npy", "bins x variables: cross-validated accuracy or R^2 per time bin");
        cJSON_AddStringToObject(files, "bin_time.npy", "bins: centre of each bin, seconds relative to time_zero");
    }
    cJSON_AddStringToObject(sum, "analysis", "decode");
    cJSON_AddNumberToObject(sum, "trials", n);
    cJSON_AddNumberToObject(sum, "folds", (double)folds);
    cJSON_AddNumberToObject(sum, "lambda", lambda);
    cJSON_AddNumberToObject(sum, "bin_ms", bin * s->dt_ms);
    cJSON_AddNumberToObject(sum, "permutations", (double)perms);
    cJSON_AddStringToObject(sum, "time_zero", s->time_zero);
    cJSON_AddItemToObject(sum, "variables", vars);
    vars = NULL;
    cJSON_AddItemToObject(sum, "files", files);
    files = NULL;
    st = sl_an_write_json(ctx->out_dir, "summary.json", sum);
done:
    cJSON_Delete(sum);
    cJSON_Delete(files);
    cJSON_Delete(vars);
    free(X), free(Y), free(Yp), free(idx), free(timecourse), free(chance), free(fold), free(lab), free(plab);
    trials_free(&tr);
    return st;
}

sl_status sl_run_encode(sl_analysis_ctx *ctx)
{
    long per, seed, folds, lags;
    double lambda;
    sl_status st;
    if ((st = sl_an_opt_int(ctx, "trials-per-condition", 5, 1, 100000, &per)) ||
        (st = sl_an_opt_int(ctx, "seed", 1, 0, 0x7fffffffL, &seed)) ||
        (st = sl_an_opt_int(ctx, "folds", 5, 2, 1000, &folds)) ||
        (st = sl_an_opt_int(ctx, "lags", 5, 1, 1000, &lags)) ||
        (st = sl_an_opt_real(ctx, "lambda", 1.0, &lambda)))
        return st;
    if (!(lambda > 0)) return sl_fail(SL_EINVAL, "--lambda must be > 0");
    trials_t tr;
    if ((st = trials_make(ctx, &tr, per, (uint64_t)seed))) return st;
    const int n = tr.n, T = tr.s.T, NI = tr.s.n_in, N = tr.act.N, L = (int)lags, p = NI * L;
    const size_t rows = (size_t)n * T;
    double *X = malloc(rows * p * sizeof *X), *Y = malloc(rows * N * sizeof *Y), *r2 = malloc((size_t)N * sizeof *r2);
    int *tf = malloc((size_t)n * sizeof *tf), *fold = malloc(rows * sizeof *fold);
    cJSON *sum = cJSON_CreateObject(), *files = cJSON_CreateObject();
    if (!X || !Y || !r2 || !tf || !fold) {
        st = sl_fail(SL_ENOMEM, "encode: out of memory (%zu rows x %d features)", rows, p);
        goto done;
    }
    sl_rng rng;
    sl_rng_seed_stream(&rng, (uint64_t)seed, 0x666f6c64ULL);
    sl_cv_folds(n, (int)folds, &rng, tf);
    for (int k = 0; k < n; k++)
        for (int t = 0; t < T; t++) {
            const size_t r = (size_t)k * T + t;
            fold[r] = tf[k];
            for (int l = 0; l < L; l++)
                for (int c = 0; c < NI; c++)
                    X[r * p + (size_t)l * NI + c] = t - l >= 0 ? tr.u[(r - l) * NI + c] : 0.0;
            for (int i = 0; i < N; i++) Y[r * N + i] = tr.act.r[r * N + i];
        }
    if ((st = sl_ridge_cv(X, (int)rows, p, Y, N, lambda, fold, (int)folds, r2))) goto done;
    int64_t sh[1] = {N};
    if ((st = sl_an_write_f64(ctx->out_dir, "encode_r2.npy", 1, sh, r2))) goto done;
    cJSON_AddStringToObject(files, "encode_r2.npy", "N cross-validated R^2 of each unit's rate from the lagged inputs (NaN: silent unit)");
    {
        double *v = malloc((size_t)N * sizeof *v);
        int nv = 0;
        for (int i = 0; v && i < N; i++)
            if (isfinite(r2[i])) v[nv++] = r2[i];
        if (v && nv > 0) {
            cJSON_AddNumberToObject(sum, "median_r2", geo_median(v, (size_t)nv));
            double m = 0;
            for (int i = 0; i < nv; i++) m += v[i];
            cJSON_AddNumberToObject(sum, "mean_r2", m / nv);
        }
        cJSON_AddNumberToObject(sum, "units_fitted", nv);
        free(v);
    }
    cJSON_AddStringToObject(sum, "analysis", "encode");
    cJSON_AddNumberToObject(sum, "trials", n);
    cJSON_AddNumberToObject(sum, "lags", L);
    cJSON_AddNumberToObject(sum, "folds", (double)folds);
    cJSON_AddNumberToObject(sum, "lambda", lambda);
    cJSON_AddItemToObject(sum, "files", files);
    files = NULL;
    st = sl_an_write_json(ctx->out_dir, "summary.json", sum);
done:
    cJSON_Delete(sum);
    cJSON_Delete(files);
    free(X), free(Y), free(r2), free(tf), free(fold);
    trials_free(&tr);
    return st;
}
