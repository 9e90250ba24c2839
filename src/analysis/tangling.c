/* tangling.c — trajectory tangling (Russo et al. 2018, Neuron 97:953).
 *
 *   Q(t) = max_{t'} ‖ẋ_t − ẋ_{t'}‖² / (‖x_t − x_{t'}‖² + ε)
 *
 * over every (condition, time) pair of the C×T×D trajectories, with
 * ε = eps_frac × Σ_d Var(x_d) (the total variance over all C·T samples,
 * unbiased as MATLAB's var; Russo's 0.1) and ẋ by finite differences
 * within each condition: central (x_{t+1} − x_{t−1}) / 2dt inside, one-sided at the two ends (as
 * numpy.gradient). High Q: similar states with different derivatives (the
 * flow is tangled); a smooth dynamical system keeps Q low. The summary is
 * the median of Q over all C·T samples. Q is invariant to an isotropic
 * rescaling of x; it scales as 1/dt², so compare at the same time step. */
#include <math.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "analysis/geometry.h"

sl_status sl_tangling(const double *X, int C, int T, int D, double dt, double eps_frac,
                      double *q, double *median)
{
    if (C < 1 || T < 2 || D < 1)
        return sl_fail(SL_EINVAL, "tangling: need C ≥ 1 conditions, T ≥ 2 times and D ≥ 1 "
                       "dims, got %d×%d×%d", C, T, D);
    if (!(dt > 0) || !(eps_frac > 0))
        return sl_fail(SL_EINVAL, "tangling: dt (%g) and eps_frac (%g) must be positive", dt,
                       eps_frac);
    const size_t n = (size_t)C * T;
    sl_status st = geo_check_finite(X, n * D, "tangling input");
    if (st) return st;
    double *dx = malloc(n * D * sizeof *dx), *qq = malloc(n * sizeof *qq);
    if (!dx || !qq) {
        free(dx);
        free(qq);
        return sl_fail(SL_ENOMEM, "tangling: out of memory");
    }
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T; t++) {
            int a = t > 0 ? t - 1 : 0, b = t < T - 1 ? t + 1 : T - 1;
            const double *xa = X + ((size_t)c * T + a) * D, *xb = X + ((size_t)c * T + b) * D;
            double *d = dx + ((size_t)c * T + t) * D;
            for (int k = 0; k < D; k++) d[k] = (xb[k] - xa[k]) / ((b - a) * dt);
        }
    double tv = 0;
    for (int k = 0; k < D; k++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < n; i++) m += X[i * D + k];
        m /= n;
        for (size_t i = 0; i < n; i++) v += (X[i * D + k] - m) * (X[i * D + k] - m);
        tv += n > 1 ? v / (n - 1) : 0;
    }
    double eps = eps_frac * tv;
    if (!(eps > 0)) eps = eps_frac; /* a constant trajectory: avoid 0/0 */
    for (size_t i = 0; i < n; i++) {
        double best = 0;
        const double *xi = X + i * D, *di = dx + i * D;
        for (size_t j = 0; j < n; j++) {
            const double *xj = X + j * D, *dj = dx + j * D;
            double nd = 0, ns = 0;
            for (int k = 0; k < D; k++) {
                double e = di[k] - dj[k], f = xi[k] - xj[k];
                nd += e * e;
                ns += f * f;
            }
            double v = nd / (ns + eps);
            if (v > best) best = v;
        }
        qq[i] = best;
        if (q) q[i] = best;
    }
    *median = geo_median(qq, n);
    free(dx);
    free(qq);
    return SL_OK;
}

/* ------------------------------------------------------------ runner */

/* Q and its median of a C×T×D trajectory set; q malloc'd C×T. */
static sl_status tangle(const double *X, const sl_an_rates *r, int D, double **q, double *med)
{
    *q = malloc((size_t)r->C * r->T * sizeof **q);
    if (!*q) return sl_fail(SL_ENOMEM, "tangling: out of memory");
    return sl_tangling(X, r->C, r->T, D, r->dt_s, 0.1, *q, med);
}

/* RUN/analysis/tangling/: Q of the condition-averaged rates reduced to
 * pcs=K PCs (10; 0 = every unit), and — Russo 2018's comparison of a
 * population with the muscles it drives — Q of the network's outputs and of
 * the task's targets on the same bins (every output channel, no PCA: they
 * are the "muscles"); options window=A:B ms from time_zero, delay=MS. */
sl_status sl_analysis_tangling_run(sl_analysis_ctx *ctx)
{
    sl_an_rates r;
    long kd;
    sl_status st = sl_an_opt_int(ctx, "pcs", 10, 0, 100000, &kd);
    if (!st) st = sl_an_condition_rates(ctx, NAN, NAN, &r);
    if (st) return st;
    double *z = NULL, *q = NULL, *qz = NULL, *qy = NULL, med = NAN, medz = NAN, medy = NAN;
    int k = r.N;
    st = geo_reduce(r.x, r.C, r.T, r.N, (int)kd, &z, &k);
    if (!st) st = tangle(z, &r, k, &q, &med);
    if (!st) st = tangle(r.z, &r, r.O, &qz, &medz);
    if (!st && r.y) st = tangle(r.y, &r, r.O, &qy, &medy);
    int64_t s2[2] = {r.C, r.T};
    if (!st) st = sl_an_write_f64(ctx->out_dir, "q.npy", 2, s2, q);
    if (!st) st = sl_an_write_f64(ctx->out_dir, "q_output.npy", 2, s2, qz);
    if (!st && qy) st = sl_an_write_f64(ctx->out_dir, "q_target.npy", 2, s2, qy);
    if (!st) {
        cJSON *o = cJSON_CreateObject();
        sl_an_json_num(o, "tangling_median", med);
        double mx = 0;
        for (int i = 0; i < r.C * r.T; i++) mx = q[i] > mx ? q[i] : mx;
        sl_an_json_num(o, "tangling_max", mx);
        sl_an_json_num(o, "tangling_output_median", medz);
        sl_an_json_num(o, "tangling_target_median", medy);
        sl_an_json_num(o, "state_over_output", med / medz);
        cJSON_AddNumberToObject(o, "pcs", k);
        cJSON_AddNumberToObject(o, "eps_frac", 0.1);
        cJSON_AddStringToObject(o, "derivative", "central differences (numpy.gradient), per second");
        st = sl_an_rates_write(ctx, &r, o);
        cJSON *f = cJSON_AddObjectToObject(o, "files");
        cJSON_AddStringToObject(f, "q.npy", "C×T tangling Q(t) of the rates' PCs per condition and time, float64");
        cJSON_AddStringToObject(f, "q_output.npy", "C×T tangling of the network's outputs (every channel)");
        if (qy) cJSON_AddStringToObject(f, "q_target.npy", "C×T tangling of the task's targets (every channel)");
        cJSON_AddStringToObject(f, "time.npy", "T times, seconds from time_zero");
        if (!st) st = sl_an_write_json(ctx->out_dir, "summary.json", o);
        cJSON_Delete(o);
    }
    free(z);
    free(q);
    free(qz);
    free(qy);
    sl_an_rates_free(&r);
    return st;
}
