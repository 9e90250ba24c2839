/* test_fixedpoints.c — the one-step map of every model kind (src/nn/step.c)
 * and the fixed-point pipeline (src/analysis/fixedpoints.c):
 *  - the step map iterated from the initial state reproduces sl_model_forward's
 *    states for ctrnn, rnn, gru, lightgru, lstm;
 *  - its analytic Jacobians (and the float32 VJP) against central differences;
 *  - a linear system (ReLU CT-RNN kept in the positive orthant): one fixed
 *    point x* = (I − J)⁻¹ b with continuous-time eigenvalues −1 + eig(J);
 *  - two uncoupled tanh units x = w tanh x (w = 2): 9 fixed points
 *    {0, ±x*}², 4 stable, 4 saddles with one unstable mode, the origin with
 *    two, x* = w tanh x* found here by bisection;
 *  - deduplication (many searches, one point; input groups kept apart);
 *  - the runner on a small flip-flop network writes the contract's files;
 *  - bad input: no model, NaN states, bad groups, bad options. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "nn/step.h"
#include "silico.h"
#include "testutil.h"

static sl_model *make(sl_cell_kind k, sl_activation act, int n_in, int N, uint64_t seed)
{
    sl_model_spec s = {0};
    s.n_in = n_in, s.n_hidden = N, s.n_out = 2, s.cell = k, s.act = act;
    s.tau_ms = 50, s.dt_ms = 10, s.g = 1.5, s.h = 1;
    sl_rng r;
    sl_rng_seed(&r, seed);
    sl_model *m = NULL;
    cr_assert_eq(sl_model_create(&s, &r, &m), SL_OK, "%s: %s", sl_cell_kind_name(k), sl_last_error());
    /* non-trivial biases / batch-norm statistics */
    sl_real *p = sl_model_params(m);
    for (int i = 0; i < sl_model_num_tensors(m); i++) {
        const sl_param_info *t = sl_model_tensor(m, i);
        if (t->ndim == 1)
            for (size_t e = 0; e < t->numel; e++) p[t->offset + e] += (sl_real)(0.3 * sl_rng_normal(&r));
    }
    for (int i = 0; i < sl_model_num_buffers(m); i++) {
        const sl_param_info *t = sl_model_buffer(m, i);
        for (size_t e = 0; e < t->numel; e++)
            sl_model_buffers(m)[t->offset + e] = (sl_real)(strstr(t->name, "var") ? 0.5 + sl_rng_uniform(&r)
                                                                                   : 0.2 * sl_rng_normal(&r));
    }
    return m;
}

static const sl_cell_kind KINDS[] = {SL_CELL_CTRNN, SL_CELL_RNN, SL_CELL_GRU, SL_CELL_LIGHTGRU,
                                     SL_CELL_LSTM};

Test(fixedpoints_step, trajectories_match_forward)
{
    const int NI = 3, N = 6, B = 2, T = 7;
    for (int ki = 0; ki < 5; ki++) {
        sl_model *m = make(KINDS[ki], SL_ACT_TANH, NI, N, 11 + ki);
        sl_rng r;
        sl_rng_seed(&r, 3);
        sl_real u[B * T * NI], x[B * T * N];
        for (int i = 0; i < B * T * NI; i++) u[i] = (sl_real)sl_rng_normal(&r);
        sl_workspace *ws;
        cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK);
        cr_assert_eq(sl_model_forward(m, ws, u, B, T, NULL, NULL), SL_OK, "%s", sl_last_error());
        sl_model_states(ws, x, NULL);
        const int D = KINDS[ki] == SL_CELL_LSTM ? 2 * N : N;
        double *X = malloc(sizeof(double) * B * T * D);
        cr_assert_eq(sl_model_state_trajectories(m, u, B, T, X), SL_OK, "%s", sl_last_error());
        double err = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int i = 0; i < N; i++)
                    err = fmax(err, fabs(X[((size_t)b * T + t) * D + i] - x[((size_t)b * T + t) * N + i]));
        cr_assert_lt(err, 2e-5, "%s: step map vs forward differ by %g", sl_cell_kind_name(KINDS[ki]), err);
        free(X);
        sl_workspace_free(ws);
        sl_model_free(m);
    }
}

Test(fixedpoints_jacobian, analytic_vs_finite_differences)
{
    const int NI = 2, N = 5;
    const sl_activation acts[] = {SL_ACT_TANH, SL_ACT_SIGMOID, SL_ACT_SOFTPLUS};
    for (int ki = 0; ki < 5; ki++)
        for (int ai = 0; ai < 3; ai++) {
            if (ai && KINDS[ki] != SL_CELL_CTRNN && KINDS[ki] != SL_CELL_RNN) continue;
            sl_model *m = make(KINDS[ki], acts[ai], NI, N, 40 + ki);
            sl_stepmap *s;
            cr_assert_eq(sl_stepmap_create(m, &s), SL_OK);
            const int D = sl_stepmap_dim(s), GN = sl_stepmap_drive_dim(s);
            sl_rng r;
            sl_rng_seed(&r, 5 + ki);
            double u[2] = {0.4, -0.7}, *a = malloc(sizeof(double) * GN), x[10], J[100], Fp[10], Fm[10];
            for (int i = 0; i < D; i++) x[i] = 0.8 * sl_rng_normal(&r);
            sl_stepmap_drive(s, u, a);
            cr_assert_eq(sl_stepmap_jacobian(s, x, a, NULL, J), SL_OK);
            double err = 0, scale = 0;
            for (int j = 0; j < D; j++) {
                const double h = 1e-6, keep = x[j];
                x[j] = keep + h;
                sl_stepmap_jacobian(s, x, a, Fp, NULL);
                x[j] = keep - h;
                sl_stepmap_jacobian(s, x, a, Fm, NULL);
                x[j] = keep;
                for (int i = 0; i < D; i++) {
                    double fd = (Fp[i] - Fm[i]) / (2 * h);
                    err = fmax(err, fabs(fd - J[i * D + j]));
                    scale = fmax(scale, fabs(J[i * D + j]));
                }
            }
            cr_assert_lt(err, 1e-7 * fmax(1, scale), "%s/%s: Jacobian vs FD %g",
                         sl_cell_kind_name(KINDS[ki]), sl_activation_name(acts[ai]), err);
            if (KINDS[ki] == SL_CELL_CTRNN) { /* (1−α)I + α J diag φ'(x) */
                const double al = sl_stepmap_alpha(s);
                sl_real Jm[25];
                sl_model_effective(m, "J", Jm);
                for (int i = 0; i < N; i++)
                    for (int j = 0; j < N; j++) {
                        double phi = acts[ai] == SL_ACT_TANH      ? 1 - tanh(x[j]) * tanh(x[j])
                                     : acts[ai] == SL_ACT_SIGMOID ? 1 / (1 + exp(-x[j])) * (1 - 1 / (1 + exp(-x[j])))
                                                                  : 1 / (1 + exp(-x[j]));
                        double want = (i == j) * (1 - al) + al * Jm[i * N + j] * phi;
                        cr_assert_lt(fabs(J[i * N + j] - want), 1e-6);
                    }
            }
            /* the float32 VJP (the search's) agrees with the float64 one */
            float xf[10], af[40], Ff[10], wf[200], Rf[10], of[10];
            double R[10], od[10], Fd[10], wd[200];
            for (int i = 0; i < D; i++) xf[i] = (float)x[i], R[i] = Rf[i] = (float)sl_rng_normal(&r);
            for (int i = 0; i < GN; i++) af[i] = (float)a[i];
            cr_assert_leq(sl_stepmap_work(s, 1), 200);
            sl_stepmap_forward_f(s, 1, xf, af, Ff, wf);
            sl_stepmap_vjp_f(s, 1, xf, Rf, of, wf);
            sl_stepmap_forward_d(s, 1, x, a, Fd, wd);
            sl_stepmap_vjp_d(s, 1, x, R, od, wd);
            for (int i = 0; i < D; i++) {
                cr_assert_lt(fabs(of[i] - od[i]), 1e-5 * (1 + fabs(od[i])));
                cr_assert_lt(fabs(Ff[i] - Fd[i]), 1e-5 * (1 + fabs(Fd[i])));
                double jr = 0; /* VJP = Rᵀ J */
                for (int k = 0; k < D; k++) jr += R[k] * J[k * D + i];
                cr_assert_lt(fabs(jr - od[i]), 1e-10 * (1 + fabs(jr)));
            }
            /* the search's fused q and ∇q (float32) on a feature-major tile of 3 points
             * (ld 16, per-point and shared drives): q = ½‖x − F‖², ∇q = d − d ∂F/∂x
             * (d = x − F) from the float64 map and Jacobian */
            const int ld = 16;
            float X3[10 * 16], A3[40 * 16], G3[10 * 16], *wq = malloc(sizeof(float) * sl_stepmap_qgrad_work(s, ld));
            double q3[3];
            cr_assert_not_null(wq);
            memset(X3, 0, sizeof X3), memset(A3, 0, sizeof A3); /* unused lanes: computed, ignored */
            for (int k = 0; k < 3; k++) {
                for (int i = 0; i < D; i++) X3[i * ld + k] = (float)(x[i] + 0.3 * k * sl_rng_normal(&r));
                for (int i = 0; i < GN; i++) A3[i * ld + k] = af[i];
            }
            for (int shared = 0; shared < 2; shared++) {
                memset(G3, 0, sizeof G3);
                sl_stepmap_qgrad_f(s, 3, ld, X3, shared ? af : A3, shared, q3, G3, wq);
                for (int k = 0; k < 3; k++) {
                    double xk[10], Fk[10], Jk[100], dk[10], qk = 0;
                    for (int i = 0; i < D; i++) xk[i] = X3[i * ld + k];
                    cr_assert_eq(sl_stepmap_jacobian(s, xk, a, Fk, Jk), SL_OK);
                    for (int i = 0; i < D; i++) dk[i] = xk[i] - Fk[i], qk += 0.5 * dk[i] * dk[i];
                    cr_assert_lt(fabs(q3[k] - qk), 1e-5 * (qk + 1e-3), "%s row %d: q %g vs %g",
                                 sl_cell_kind_name(KINDS[ki]), k, q3[k], qk);
                    for (int i = 0; i < D; i++) {
                        double g = dk[i];
                        for (int j = 0; j < D; j++) g -= dk[j] * Jk[j * D + i];
                        cr_assert_lt(fabs(G3[i * ld + k] - g), 1e-5 * (1 + fabs(g)),
                                     "%s row %d: dq/dx_%d %g vs %g", sl_cell_kind_name(KINDS[ki]), k, i,
                                     G3[i * ld + k], g);
                    }
                }
            }
            free(wq);
            free(a);
            sl_stepmap_free(s);
            sl_model_free(m);
        }
}

/* a CT-RNN with the given J (N×N), b, B = 0, α = dt/τ */
static sl_model *ctrnn_with(int N, sl_activation act, const double *J, const double *b, double tau)
{
    sl_model_spec sp = {0};
    sp.n_in = 1, sp.n_hidden = N, sp.n_out = 1, sp.act = act, sp.tau_ms = tau, sp.dt_ms = 1;
    sp.g = 1, sp.h = 1;
    sl_rng r;
    sl_rng_seed(&r, 1);
    sl_model *m;
    cr_assert_eq(sl_model_create(&sp, &r, &m), SL_OK);
    sl_real *p = sl_model_params(m);
    for (int i = 0; i < N * N; i++) p[sl_model_find(m, "J")->offset + i] = (sl_real)J[i];
    for (int i = 0; i < N; i++) {
        p[sl_model_find(m, "b")->offset + i] = (sl_real)b[i];
        p[sl_model_find(m, "B")->offset + i] = 0;
    }
    return m;
}

Test(fixedpoints_linear, unique_point_and_spectrum)
{
    /* ReLU network in the positive orthant: ẋ = −x + J x + b, J upper triangular */
    const double J[9] = {0.5, 0.2, -0.1, 0, -0.3, 0.25, 0, 0, 0.2};
    const double xs[3] = {1.0, 2.0, 1.5};
    double b[3];
    for (int i = 0; i < 3; i++) {
        b[i] = xs[i];
        for (int j = 0; j < 3; j++) b[i] -= J[i * 3 + j] * xs[j];
    }
    sl_model *m = ctrnn_with(3, SL_ACT_RELU, J, b, 4);
    const int K = 32;
    double x0[K * 3], u = 0;
    sl_rng r;
    sl_rng_seed(&r, 2);
    for (int i = 0; i < K * 3; i++) x0[i] = xs[i % 3] + 0.3 * sl_rng_normal(&r);
    sl_fp_spec sp;
    sl_fp_defaults(&sp);
    sp.newton_iters = 5;
    sl_fp_result res;
    cr_assert_eq(sl_fixed_points(m, x0, K, &u, 1, NULL, &sp, &res), SL_OK, "%s", sl_last_error());
    cr_assert_eq(res.P, 1, "%d unique points", res.P);
    /* (J, b are stored as float32: x* moves by ~1e-7) */
    for (int i = 0; i < 3; i++) cr_assert_lt(fabs(res.x[i] - xs[i]), 1e-6, "x[%d] = %.12g", i, res.x[i]);
    cr_assert_lt(res.q[0], 1e-20);
    /* continuous-time eigenvalues −1 + diag(J), sorted by real part: −0.5, −0.8, −1.3 */
    const double want[3] = {-0.5, -0.8, -1.3};
    for (int i = 0; i < 3; i++) {
        cr_assert_lt(fabs(res.eig[2 * i] - want[i]), 1e-7, "lambda %d = %g", i, res.eig[2 * i]);
        cr_assert_lt(fabs(res.eig[2 * i + 1]), 1e-12);
        cr_assert_lt(fabs(res.eig_discrete[2 * i] - (1 + want[i] / 4)), 1e-7);
    }
    cr_assert_eq(res.stable[0], 1);
    cr_assert_eq(res.n_unstable[0], 0);
    cr_assert_eq(res.alpha, 0.25);
    sl_fp_result_free(&res);
    sl_model_free(m);
}

Test(fixedpoints_closed_form, two_uncoupled_tanh_units)
{
    const double w = 2, J[4] = {w, 0, 0, w}, b[2] = {0, 0};
    double lo = 0.5, hi = 3; /* x* = w tanh x* */
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (mid - w * tanh(mid) < 0) lo = mid;
        else hi = mid;
    }
    const double xs = 0.5 * (lo + hi);
    sl_model *m = ctrnn_with(2, SL_ACT_TANH, J, b, 1); /* α = 1: F(x) = J tanh x */
    /* initial states near each of the 9 points */
    const double v[3] = {-xs, 0, xs};
    const int K = 9 * 8;
    double x0[K * 2], u = 0;
    sl_rng r;
    sl_rng_seed(&r, 9);
    for (int k = 0; k < K; k++)
        for (int i = 0; i < 2; i++) x0[k * 2 + i] = v[i ? (k % 9) / 3 : (k % 9) % 3] + 0.05 * sl_rng_normal(&r);
    sl_fp_spec sp;
    sl_fp_defaults(&sp);
    sp.newton_iters = 10;
    sl_fp_result res;
    cr_assert_eq(sl_fixed_points(m, x0, K, &u, 1, NULL, &sp, &res), SL_OK, "%s", sl_last_error());
    cr_assert_eq(res.P, 9, "%d unique points", res.P);
    int stable = 0, n1 = 0, n2 = 0;
    for (int p = 0; p < 9; p++) {
        cr_assert_lt(res.q[p], 1e-20);
        int zeros = 0;
        for (int i = 0; i < 2; i++) {
            double a = fabs(res.x[p * 2 + i]);
            cr_assert(a < 1e-9 || fabs(a - xs) < 1e-9, "point %d: %g", p, res.x[p * 2 + i]);
            zeros += a < 1e-9;
        }
        cr_assert_eq(res.n_unstable[p], zeros);
        stable += res.stable[p];
        n1 += zeros == 1, n2 += zeros == 2;
        /* eigenvalues: −1 + w at 0, −1 + w(1 − tanh² x*) at ±x* */
        if (zeros == 2) cr_assert_lt(fabs(res.eig[0] - (w - 1)), 1e-9);
    }
    cr_assert_eq(stable, 4);
    cr_assert_eq(n1, 4);
    cr_assert_eq(n2, 1);
    sl_fp_result_free(&res);
    sl_model_free(m);
}

Test(fixedpoints_dedup, one_point_per_input_group)
{
    const double J[4] = {0.5, 0, 0, 0.5}, b[2] = {0.3, -0.2};
    sl_model *m = ctrnn_with(2, SL_ACT_TANH, J, b, 2);
    const int K = 40;
    double x0[K * 2], u[2] = {0, 1};
    int group[K];
    sl_rng r;
    sl_rng_seed(&r, 4);
    for (int k = 0; k < K; k++) {
        x0[2 * k] = sl_rng_normal(&r), x0[2 * k + 1] = sl_rng_normal(&r);
        group[k] = k % 2;
    }
    sl_fp_spec sp;
    sl_fp_defaults(&sp);
    sp.newton_iters = 5;
    sl_fp_result res;
    /* B = 0: both groups share the fixed point, but [x, u] differ: two points */
    cr_assert_eq(sl_fixed_points(m, x0, K, u, 2, group, &sp, &res), SL_OK, "%s", sl_last_error());
    cr_assert_eq(res.P, 2, "%d unique", res.P);
    cr_assert_neq(res.group[0], res.group[1]);
    cr_assert_lt(fabs(res.x[0] - res.x[2]) + fabs(res.x[1] - res.x[3]), 1e-9);
    sl_fp_result_free(&res);
    /* Adam alone (no Newton): each point's q is the q of its returned state */
    sp.newton_iters = 0;
    cr_assert_eq(sl_fixed_points(m, x0, K, u, 1, NULL, &sp, &res), SL_OK);
    sl_stepmap *s;
    cr_assert_eq(sl_stepmap_create(m, &s), SL_OK);
    double a[2], f[2];
    sl_stepmap_drive(s, u, a);
    for (int p = 0; p < res.P; p++) {
        sl_stepmap_jacobian(s, res.x + 2 * p, a, f, NULL);
        double qq = 0.5 * ((res.x[2 * p] - f[0]) * (res.x[2 * p] - f[0]) +
                           (res.x[2 * p + 1] - f[1]) * (res.x[2 * p + 1] - f[1]));
        cr_assert_lt(fabs(qq - res.q[p]), 1e-6 * qq + 1e-15, "q %g vs %g", res.q[p], qq);
    }
    for (int k = 0; k < K; k++) cr_assert_lt(res.q_all[k], 1e-6, "search %d: q %g", k, res.q_all[k]);
    sl_stepmap_free(s);
    sl_fp_result_free(&res);
    sp.newton_iters = 5;
    /* one group: one point */
    cr_assert_eq(sl_fixed_points(m, x0, K, u, 1, NULL, &sp, &res), SL_OK);
    cr_assert_eq(res.P, 1);
    sl_fp_result_free(&res);
    sl_model_free(m);
}

/* eigenvalues and the top-3 modes (dlahqr or, above order 160, dhseqr; then
 * dhsein) against LAPACK dgeev with eigenvectors on the same Jacobians: g = 1.5
 * CT-RNNs of 12 and 170 units and a GRU, points from a short search (saddles
 * with real and complex unstable modes) */
static int by_re_desc(const void *a, const void *b)
{
    const double *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? 1 : -1;
    if (x[1] != y[1]) return x[1] < y[1] ? 1 : -1;
    return 0;
}

Test(fixedpoints_spectrum, modes_match_dgeev)
{
    const sl_cell_kind kinds[3] = {SL_CELL_CTRNN, SL_CELL_GRU, SL_CELL_CTRNN};
    const int sizes[3] = {12, 12, 170}, inits[3] = {16, 16, 2};
    for (int ki = 0; ki < 3; ki++) {
        const int N = sizes[ki], K = inits[ki];
        sl_model *m = make(kinds[ki], SL_ACT_TANH, 1, N, 70 + ki);
        double *x0 = malloc(sizeof(double) * K * N), u = 0;
        sl_rng r;
        sl_rng_seed(&r, 6);
        for (int i = 0; i < K * N; i++) x0[i] = 1.5 * sl_rng_normal(&r);
        sl_fp_spec sp;
        sl_fp_defaults(&sp);
        sp.max_iters = 40;
        sl_fp_result res;
        cr_assert_eq(sl_fixed_points(m, x0, K, &u, 1, NULL, &sp, &res), SL_OK, "%s", sl_last_error());
        sl_stepmap *s;
        cr_assert_eq(sl_stepmap_create(m, &s), SL_OK);
        double *a = malloc(sizeof(double) * 3 * N), *Jm = malloc(sizeof(double) * N * N);
        double *wr = malloc(sizeof(double) * N), *wi = malloc(sizeof(double) * N);
        double *vr = malloc(sizeof(double) * N * N), (*ev)[3] = malloc(sizeof(double[3]) * N);
        sl_stepmap_drive(s, &u, a);
        int n_complex = 0, n_checked = 0;
        for (int p = 0; p < res.P; p++) {
            cr_assert_eq(sl_stepmap_jacobian(s, res.x + (size_t)p * N, a, NULL, Jm), SL_OK);
            cr_assert_eq(LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'V', N, Jm, N, wr, wi, NULL, N, vr, N), 0);
            for (int i = 0; i < N; i++) ev[i][0] = wr[i], ev[i][1] = wi[i], ev[i][2] = i;
            qsort(ev, N, sizeof ev[0], by_re_desc);
            for (int i = 0; i < N; i++) {
                const double *e = res.eig_discrete + ((size_t)p * N + i) * 2;
                cr_assert_lt(fabs(e[0] - ev[i][0]) + fabs(e[1] - ev[i][1]), 1e-9, "point %d eig %d", p, i);
            }
            for (int mo = 0; mo < 3; mo++) {
                int c = (int)ev[mo][2];
                if (ev[mo][1] < 0 && c > 0) c--;
                /* dgeev's vector (unit norm; a complex one with its largest component
                 * real) vs ours, up to sign */
                double dp = 0, dm = 0;
                for (int i = 0; i < N; i++) {
                    const double w = vr[i * N + c], v = res.modes[((size_t)p * 3 + mo) * N + i];
                    dp = fmax(dp, fabs(v - w)), dm = fmax(dm, fabs(v + w));
                }
                cr_assert_lt(fmin(dp, dm), 1e-8, "%s point %d mode %d (lambda %g%+gi): off by %g",
                             sl_cell_kind_name(kinds[ki]), p, mo, ev[mo][0], ev[mo][1], fmin(dp, dm));
                n_complex += ev[mo][1] != 0, n_checked++;
            }
        }
        cr_assert_gt(n_complex, 0, "%s: no complex mode among the top 3 of %d points",
                     sl_cell_kind_name(kinds[ki]), res.P);
        cr_assert_eq(n_checked, 3 * res.P);
        cr_assert_geq(res.P, K > 4 ? 4 : 1);
        free(x0), free(a), free(Jm), free(wr), free(wi), free(vr), free(ev);
        sl_stepmap_free(s);
        sl_fp_result_free(&res);
        sl_model_free(m);
    }
}

Test(fixedpoints_errors, bad_input)
{
    const double J[4] = {0.5, 0, 0, 0.5}, b[2] = {0, 0};
    sl_model *m = ctrnn_with(2, SL_ACT_TANH, J, b, 2);
    double x0[4] = {0.1, 0.2, NAN, 0}, u = 0;
    sl_fp_result res;
    cr_assert_eq(sl_fixed_points(NULL, x0, 2, &u, 1, NULL, NULL, &res), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "no model"), "%s", sl_last_error());
    cr_assert_eq(sl_fixed_points(m, x0, 2, &u, 1, NULL, NULL, &res), SL_ENUMERIC);
    cr_assert(strstr(sl_last_error(), "initial state 1"), "%s", sl_last_error());
    x0[2] = 0.3;
    double un = NAN;
    cr_assert_eq(sl_fixed_points(m, x0, 2, &un, 1, NULL, NULL, &res), SL_ENUMERIC);
    cr_assert(strstr(sl_last_error(), "input 0"), "%s", sl_last_error());
    int g[2] = {0, 3};
    cr_assert_eq(sl_fixed_points(m, x0, 2, &u, 1, g, NULL, &res), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "group 3"), "%s", sl_last_error());
    cr_assert_eq(sl_fixed_points(m, x0, 0, &u, 1, NULL, NULL, &res), SL_EINVAL);
    sl_model_free(m);

    /* the runner: no model; an --input of the wrong size */
    sl_analysis_ctx ctx = {0};
    ctx.run_dir = "/nonexistent-run";
    const sl_analysis_def *a = sl_analysis_find("fixedpoints");
    cr_assert_not_null(a);
    cr_assert_eq(a->applies(&ctx), 0);
    cr_assert_eq(a->run(&ctx), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "no recurrent model"), "%s", sl_last_error());
}

Test(fixedpoints_runner, flipflop_writes_contract_files)
{
    sl_config *c;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    cr_assert_eq(sl_config_load_string(c, "[task]\nname = flipflop\nval_trials = 16\n", "t.ini"), SL_OK,
                 "%s", sl_last_error());
    sl_task *t;
    cr_assert_eq(sl_task_create(c, &t), SL_OK, "%s", sl_last_error());
    sl_model *m = make(SL_CELL_RNN, SL_ACT_TANH, t->n_in, 6, 8);
    sl_task_free(t);
    char *dir = tu_tmpdir();
    const char *keys[] = {"n-inits", "max-iters", "input"}, *vals[] = {"64", "300", "0,0"};
    sl_analysis_ctx ctx = {.run_dir = "run", .out_dir = dir, .config = c, .model = m,
                           .n_opts = 3, .opt_keys = keys, .opt_vals = vals};
    const sl_analysis_def *a = sl_analysis_find("fixedpoints");
    cr_assert_eq(a->run(&ctx), SL_EINVAL, "a 2-value --input for 3 inputs was accepted");
    cr_assert(strstr(sl_last_error(), "3 comma-separated"), "%s", sl_last_error());
    /* bad values: SL_EINVAL naming the option */
    static const char *const bad[][2] = {{"n-inits", "abc"}, {"max-iters", "0"}, {"noise", "-0.1"},
                                         {"tol-q", "1e-3x"}, {"seed", "1.5"},   {"input", "0,a,0"},
                                         {"contexts", "off"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *k[1] = {bad[i][0]}, *v[1] = {bad[i][1]};
        sl_analysis_ctx b = ctx;
        b.n_opts = 1, b.opt_keys = k, b.opt_vals = v;
        cr_assert_eq(a->run(&b), SL_EINVAL, "--%s %s accepted", bad[i][0], bad[i][1]);
        char opt[32];
        snprintf(opt, sizeof opt, "--%s", bad[i][0]);
        cr_assert(strstr(sl_last_error(), opt), "--%s %s: %s", bad[i][0], bad[i][1], sl_last_error());
    }
    ctx.n_opts = 2;
    cr_assert_eq(a->run(&ctx), SL_OK, "%s", sl_last_error());
    const char *files[] = {"points.npy", "q.npy", "eigenvalues.npy", "eigenvalues_discrete.npy",
                           "stable.npy", "n_unstable.npy", "unstable_modes.npy", "inputs.npy",
                           "summary.json"};
    for (int i = 0; i < 9; i++) {
        char *p = tu_path(dir, files[i]);
        FILE *f = fopen(p, "rb");
        cr_assert_not_null(f, "%s missing", files[i]);
        fclose(f);
        free(p);
    }
    char *p = tu_path(dir, "summary.json");
    char *text = tu_read_file(p, NULL);
    cr_assert(strstr(text, "\"n_unique\"") && strstr(text, "\"n_stable\""), "%s", text);
    sl_array ev;
    char *pe = tu_path(dir, "eigenvalues.npy");
    cr_assert_eq(sl_npy_read(pe, &ev), SL_OK);
    cr_assert_eq(ev.ndim, 3);
    cr_assert_eq(ev.shape[1], 6);
    cr_assert_eq(ev.shape[2], 2);
    sl_array_free(&ev);
    free(pe), free(text), free(p);
    tu_rmtree(dir);
    sl_model_free(m);
    sl_config_free(c);
}

/* The per-context figures of the runner on a network whose answer is known:
 * a ReLU CT-RNN (positive orthant) with J = diag(1, 0, 0) — unit 0 a perfect
 * integrator of the motion input (B₀ = (0.05, 0, 0, 0)), units 1 and 2 set by
 * the two context inputs (x₁ = 0.5 + u₂, x₂ = 0.5 + u₃). Per context the
 * fixed points fill the line x₀ > 0 (PC1 holds all their variance), every
 * point has continuous-time eigenvalues {0, −1, −1} (units of 1/τ), and a
 * 0.1 motion probe held for 100 steps moves the state by 0.05·0.1·α·100 =
 * 0.1 along the line while the colour probe does not move it. */
Test(fixedpoints_runner, context_groups_of_a_line_attractor, .timeout = 60)
{
    sl_config *c;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    cr_assert_eq(sl_config_load_string(c, "[task]\nname = ctxdm_mante\ndt = 10\nval_trials = 16\n", "t.ini"),
                 SL_OK, "%s", sl_last_error());
    sl_model_spec sp = {0};
    sp.n_in = 4, sp.n_hidden = 3, sp.n_out = 1, sp.act = SL_ACT_RELU, sp.tau_ms = 50, sp.dt_ms = 10;
    sp.g = 1, sp.h = 1, sp.learn_x0 = 1;
    sl_rng r;
    sl_rng_seed(&r, 1);
    sl_model *m;
    cr_assert_eq(sl_model_create(&sp, &r, &m), SL_OK, "%s", sl_last_error());
    sl_real *p = sl_model_params(m);
    const size_t oJ = sl_model_find(m, "J")->offset, ob = sl_model_find(m, "b")->offset,
                 oB = sl_model_find(m, "B")->offset, ox = sl_model_find(m, "x0")->offset;
    for (int i = 0; i < 9; i++) p[oJ + i] = i == 0 ? 1 : 0;
    for (int i = 0; i < 12; i++) p[oB + i] = 0;
    p[oB + 0] = 0.05f;     /* motion → unit 0 */
    p[oB + 4 + 2] = 1;     /* context_motion → unit 1 */
    p[oB + 8 + 3] = 1;     /* context_colour → unit 2 */
    const sl_real b[3] = {0, 0.5f, 0.5f}, x0[3] = {5, 0.5f, 0.5f};
    for (int i = 0; i < 3; i++) p[ob + i] = b[i], p[ox + i] = x0[i];
    char *dir = tu_tmpdir();
    const char *keys[] = {"n-inits", "noise"}, *vals[] = {"64", "0.2"};
    sl_analysis_ctx ctx = {.run_dir = "run", .out_dir = dir, .config = c, .model = m,
                           .n_opts = 2, .opt_keys = keys, .opt_vals = vals};
    cr_assert_eq(sl_analysis_find("fixedpoints")->run(&ctx), SL_OK, "%s", sl_last_error());
    char *path = tu_path(dir, "summary.json");
    char *text = tu_read_file(path, NULL);
    cJSON *sum = cJSON_Parse(text);
    cr_assert_not_null(sum);
    const cJSON *groups = cJSON_GetObjectItem(sum, "groups");
    cr_assert_eq(cJSON_GetArraySize(groups), 2, "one group per context: %s", text);
    for (int g = 0; g < 2; g++) {
        const cJSON *jg = cJSON_GetArrayItem(groups, g);
#define NUM(o, k) (cJSON_GetObjectItem(o, k) ? cJSON_GetObjectItem(o, k)->valuedouble : NAN)
        cr_expect_eq(NUM(jg, "context_channel"), 2 + g);
        cr_expect_geq(NUM(jg, "n_unique"), 3, "group %d: the line should give many points", g);
        cr_expect_gt(NUM(jg, "pc1_variance_ratio"), 0.9999, "group %d", g);
        cr_expect_lt(NUM(jg, "slowest_abs_eigenvalue_max"), 1e-5, "group %d", g);
        cr_expect_lt(fabs(NUM(jg, "other_eigenvalues_real_max") + 1), 1e-5, "group %d", g);
        cr_expect_lt(NUM(jg, "q_max"), 1e-8, "group %d", g);
        const cJSON *pr = cJSON_GetObjectItem(jg, "probes");
        cr_assert_eq(cJSON_GetArraySize(pr), 2, "probes on the two coherence channels");
        const cJSON *mo = cJSON_GetArrayItem(pr, 0), *co = cJSON_GetArrayItem(pr, 1);
        cr_expect_eq(NUM(mo, "channel"), 0);
        cr_expect_lt(fabs(fabs(NUM(mo, "along_pc1")) - 0.1), 1e-4, "motion probe along %g",
                     NUM(mo, "along_pc1"));
        cr_expect_lt(NUM(mo, "off_pc1"), 1e-3);
        cr_expect_lt(fabs(NUM(co, "along_pc1")) + NUM(co, "off_pc1"), 1e-5, "the colour probe moved the state");
#undef NUM
    }
    cJSON_Delete(sum);
    free(text), free(path);
    tu_rmtree(dir);
    sl_model_free(m);
    sl_config_free(c);
}
