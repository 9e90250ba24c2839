/* bench_fixedpoints.c — silico's fixed-point pipeline (sl_fixed_points) on the
 * W5 network of /work/shared/bench/README.md, the workload
 * fixedpoints-N150-K1024 of issue 5 (peer: bench/peer_fixedpoints.py):
 *
 *   F(x) = J tanh(x) + b   (a CT-RNN with τ = dt, tanh, B = 0, u = 0),  N = 150,
 *   J ~ N(0, 1.5²/N), b ~ N(0, 0.1²); X0 (1024×N): Y ~ N(0, 1), 300 Euler steps
 *   Y += 0.1 (−Y + J tanh Y + b), X0 = Y + N(0, 0.1²)   (seeded sl_rng; not timed)
 *
 * One timed run = the whole pipeline from X0: FPF's joint Adam (lr 1.0, plateau
 * decay) until every point has q < --tol-q (1e-10) or |Δq| < tol_dq·lr
 * (1e-20) or 5000 iterations; deduplication (1e-3) and distance outliers;
 * Jacobians and eigenvalues (float64, dgeev's path: dgebal, dgehrd, dlahqr; no
 * eigenvectors, as the peer) of the unique points only. The record's ms_per_step is the median over --repeat
 * runs; n_unique, n_fixed (unique with q < tol_q), n_stable, iterations, and
 * cpu_s (the last run's CPU time: steadier than wall time on a loaded machine).
 *
 *   bench_fixedpoints --write-net DIR   writes J.npy, b.npy, x0.npy (float32) for the peer
 *   bench_fixedpoints --net DIR         reads them (the same problem on both sides) */
#include <string.h>

/* the training-step timer of bench_common.h is not used: one run is the whole pipeline */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "bench_common.h"

#define N_HID 150
#define K_INIT 1024

static int fail(const char *what)
{
    fprintf(stderr, "bench_fixedpoints: %s: %s (%s)\n", what, sl_last_error(),
            sl_status_str(SL_EINVAL));
    return 1;
}

static void generate(float *J, float *b, float *X0, uint64_t seed)
{
    sl_rng r;
    sl_rng_seed(&r, seed);
    const int N = N_HID, K = K_INIT;
    for (int i = 0; i < N * N; i++) J[i] = (float)(1.5 / sqrt((double)N) * sl_rng_normal(&r));
    for (int i = 0; i < N; i++) b[i] = (float)(0.1 * sl_rng_normal(&r));
    double *Y = malloc(sizeof(double) * K * N), *T = malloc(sizeof(double) * N);
    for (int i = 0; i < K * N; i++) Y[i] = sl_rng_normal(&r);
    for (int k = 0; k < K; k++) {
        double *y = Y + (size_t)k * N;
        for (int s = 0; s < 300; s++) {
            for (int j = 0; j < N; j++) T[j] = tanh(y[j]);
            for (int i = 0; i < N; i++) {
                double v = b[i];
                for (int j = 0; j < N; j++) v += (double)J[i * N + j] * T[j];
                y[i] += 0.1 * (v - y[i]);
            }
        }
    }
    for (int i = 0; i < K * N; i++) X0[i] = (float)(Y[i] + 0.1 * sl_rng_normal(&r));
    free(Y), free(T);
}

static int io(const char *dir, const char *name, float *data, int ndim, int64_t d0, int64_t d1,
              int write)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    sl_array a = {SL_F32, ndim, {d0, d1}, data};
    if (write) return sl_npy_write(path, &a) ? fail(path) : 0;
    sl_array r;
    if (sl_npy_read(path, &r)) return fail(path);
    if (r.dtype != SL_F32 || sl_array_numel(&r) != (size_t)d0 * (ndim > 1 ? d1 : 1)) {
        fprintf(stderr, "bench_fixedpoints: %s: expected float32 with %lld values\n", path,
                (long long)(d0 * (ndim > 1 ? d1 : 1)));
        sl_array_free(&r);
        return 1;
    }
    memcpy(data, r.data, sl_array_numel(&r) * sizeof(float));
    sl_array_free(&r);
    return 0;
}

int main(int argc, char **argv)
{
    const char *net = NULL, *write_net = NULL;
    int threads = 1, repeat = 1;
    double tol_q = 1e-10;
    int max_iters = 5000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--net") && v) net = v, i++;
        else if (!strcmp(a, "--write-net") && v) write_net = v, i++;
        else if (!strcmp(a, "--threads") && v) threads = atoi(v), i++;
        else if (!strcmp(a, "--repeat") && v) repeat = atoi(v), i++;
        else if (!strcmp(a, "--tol-q") && v) tol_q = atof(v), i++;
        else if (!strcmp(a, "--max-iters") && v) max_iters = atoi(v), i++;
        else {
            fprintf(stderr, "usage: bench_fixedpoints [--write-net DIR | --net DIR] [--threads 1] "
                            "[--repeat 1] [--tol-q 1e-10] [--max-iters 5000]\n");
            return 2;
        }
    }
    const int N = N_HID, K = K_INIT;
    float *J = malloc(sizeof(float) * N * N), *b = malloc(sizeof(float) * N);
    float *X0f = malloc(sizeof(float) * K * N);
    if (net) {
        if (io(net, "J.npy", J, 2, N, N, 0) || io(net, "b.npy", b, 1, N, 0, 0) ||
            io(net, "x0.npy", X0f, 2, K, N, 0))
            return 1;
    } else
        generate(J, b, X0f, 5);
    if (write_net)
        return io(write_net, "J.npy", J, 2, N, N, 1) || io(write_net, "b.npy", b, 1, N, 0, 1) ||
               io(write_net, "x0.npy", X0f, 2, K, N, 1);
    sl_set_threads(threads);

    sl_model_spec spec = {0};
    spec.n_in = 1, spec.n_hidden = N, spec.n_out = 1, spec.act = SL_ACT_TANH;
    spec.tau_ms = spec.dt_ms = 1, spec.g = 1.5, spec.h = 1;
    sl_rng r;
    sl_rng_seed(&r, 1);
    sl_model *m;
    if (sl_model_create(&spec, &r, &m)) return fail("sl_model_create");
    sl_real *p = sl_model_params(m);
    memcpy(p + sl_model_find(m, "J")->offset, J, sizeof(float) * N * N);
    memcpy(p + sl_model_find(m, "b")->offset, b, sizeof(float) * N);
    memset(p + sl_model_find(m, "B")->offset, 0, sizeof(float) * N);
    double *X0 = malloc(sizeof(double) * K * N), u0 = 0;
    for (int i = 0; i < K * N; i++) X0[i] = X0f[i];

    sl_fp_spec fs;
    sl_fp_defaults(&fs);
    fs.tol_q = tol_q;
    fs.eigenvectors = 0;
    fs.max_iters = max_iters;
    double *times = malloc(sizeof(double) * (repeat > 0 ? repeat : 1));
    sl_fp_result res = {0};
    double cpu_s = 0;
    for (int k = 0; k < repeat; k++) {
        sl_fp_result_free(&res);
        struct rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        const double t0 = bench_now();
        if (sl_fixed_points(m, X0, K, &u0, 1, NULL, &fs, &res)) return fail("sl_fixed_points");
        times[k] = bench_now() - t0;
        getrusage(RUSAGE_SELF, &r1);
        cpu_s = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                1e-6 * (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
    }
    qsort(times, (size_t)repeat, sizeof *times, bench_cmp_double);
    int n_fixed = 0, n_stable = 0;
    double qmax = 0;
    for (int i = 0; i < res.P; i++) {
        n_fixed += res.q[i] < tol_q;
        n_stable += res.stable[i];
        qmax = fmax(qmax, res.q[i]);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mean = 0;
    for (int k = 0; k < repeat; k++) mean += times[k] / repeat;
    const bench_stats st = {repeat, times[repeat / 2], times[0], mean, times[0], times[repeat - 1],
                            qmax, qmax, (double)ru.ru_maxrss / 1024.0};
    const bench_rule rule = {0, repeat, repeat, 0};
    printf("{\"workload\": \"fixedpoints-N150-K1024\", \"config\": \"N150-K1024\", \"impl\": \"c\", "
           "\"variant\": \"silico\"");
    bench_print_stats(&st, &rule, threads);
    int n_below = 0;
    for (int k = 0; k < K; k++) n_below += res.q_all[k] < tol_q;
    qsort(res.q_all, (size_t)K, sizeof(double), bench_cmp_double);
    printf(", \"cpu_s\": %.3f", cpu_s);
    printf(", \"q_median\": %.4g, \"n_q_below_tol\": %d", res.q_all[K / 2], n_below);
    printf(", \"iterations\": %d, \"n_unique\": %d, \"n_fixed\": %d, \"n_stable\": %d",
           res.iterations, res.P, n_fixed, n_stable);
    bench_print_machine();
    sl_fp_result_free(&res);
    sl_model_free(m);
    free(J), free(b), free(X0f), free(X0), free(times);
    return 0;
}
