/* bench_ctrnn.c — time silico's reach CT-RNN training step (workload W1,
 * reach-ctrnn; the PyTorch peer is bench/peer_ctrnn.py).
 *
 * One step = sl_model_zero_grad + sl_model_loss (forward over T, MSE + 1e-3 ·
 * mean r², backward through time) + sl_adam_step (lr 1e-3 constant, betas
 * 0.9/0.999, eps 1e-8). N hidden, 16 inputs, 2 outputs, rect_tanh, τ 50 ms,
 * dt 10 ms (α = 1/5), g 1.5, h 1, x₀ = 0, no recurrent noise. Inputs: a pool
 * of 8 batches, u, y ~ 0.5·N(0,1), used round-robin (not timed).
 *
 * Timing as the peer: `--warmup` untimed steps, then at least `--steps` timed
 * steps and until `--min-time` seconds have passed (at most `--max-steps`);
 * each step is timed alone (CLOCK_MONOTONIC); ms_per_step is the median.
 *
 *   build/bench_ctrnn --config N150-B20 --threads 1
 *   build/bench_ctrnn --n 512 --batch 64 --threads 2 --steps 20
 *
 * Prints one JSON line (keys as the peer's records, impl "c", variant
 * "silico"); exit status 1 on any library error or a non-finite loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "silico.h"
#include <sys/resource.h>
#include <time.h>

enum { N_IN = 16, N_OUT = 2, T_STEPS = 250, POOL = 8 };

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_ctrnn [--config N150-B20|N512-B64] [--n N] [--batch B] [--threads N]\n"
            "                   [--warmup 3] [--steps 20] [--min-time 2] [--max-steps 500] [--seed 0]\n");
}

#define CHECK(call)                                                                       \
    do {                                                                                  \
        sl_status st_ = (call);                                                           \
        if (st_ != SL_OK) {                                                               \
            fprintf(stderr, "bench_ctrnn: %s: %s (%s)\n", #call, sl_last_error(),         \
                    sl_status_str(st_));                                                  \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

int main(int argc, char **argv)
{
    int n = 150, batch = 20, threads = 1, warmup = 3, min_steps = 20, max_steps = 500;
    double min_time = 2.0;
    unsigned long long seed = 0;
    for (int i = 1; i < argc; i += 2) { /* --option value pairs */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (!v) { usage(stderr); return 2; }
        if (!strcmp(a, "--config")) {
            if (sscanf(v, "N%d-B%d", &n, &batch) != 2) { usage(stderr); return 2; }
        } else if (!strcmp(a, "--n")) n = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--steps")) min_steps = atoi(v);
        else if (!strcmp(a, "--min-time")) min_time = atof(v);
        else if (!strcmp(a, "--max-steps")) max_steps = atoi(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else { usage(stderr); return 2; }
    }
    if (n < 1 || batch < 1 || threads < 1 || warmup < 0 || min_steps < 1 || max_steps < min_steps) {
        usage(stderr);
        return 2;
    }
    sl_set_threads(threads);

    sl_rng rng;
    sl_rng_seed(&rng, seed);
    const sl_model_spec spec = {.n_in = N_IN, .n_hidden = n, .n_out = N_OUT,
                                .act = SL_ACT_RECT_TANH, .tau_ms = 50, .dt_ms = 10,
                                .g = 1.5, .h = 1.0, .learn_x0 = 0, .sigma_rec = 0};
    sl_model *m = NULL;
    CHECK(sl_model_create(&spec, &rng, &m));
    sl_workspace *ws = NULL;
    CHECK(sl_workspace_create(m, batch, T_STEPS, &ws));
    const size_t np = sl_model_num_params(m);
    const sl_adam_spec aspec = {.lr = 1e-3, .lr_final = 1e-3, .schedule = SL_LR_CONSTANT,
                                .total_steps = 0, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    sl_adam *adam = NULL;
    CHECK(sl_adam_create(&aspec, np, &adam));

    /* The data pool (not timed). */
    const size_t nu = (size_t)batch * T_STEPS * N_IN, ny = (size_t)batch * T_STEPS * N_OUT;
    sl_real *data = malloc(sizeof(sl_real) * POOL * (nu + ny));
    if (!data) { fprintf(stderr, "bench_ctrnn: out of memory\n"); return 1; }
    sl_batch pool[POOL];
    for (int p = 0; p < POOL; p++) {
        sl_real *u = data + (size_t)p * (nu + ny), *y = u + nu;
        for (size_t i = 0; i < nu; i++) u[i] = (sl_real)(0.5 * sl_rng_normal(&rng));
        for (size_t i = 0; i < ny; i++) y[i] = (sl_real)(0.5 * sl_rng_normal(&rng));
        pool[p] = (sl_batch){.B = batch, .T = T_STEPS, .n_in = N_IN, .n_out = N_OUT,
                             .u = u, .y = y, .mask = NULL, .cond = NULL};
    }
    const sl_loss_spec lspec = {.l2_weight = 0, .l2_on = 0, .l2_rate = 1e-3};

    bench_trainer bt = {.m = m, .ws = ws, .adam = adam, .pool = pool, .n_pool = POOL, .loss = lspec};
    const bench_rule rule = {.warmup = warmup, .min_steps = min_steps, .max_steps = max_steps,
                             .min_time = min_time};
    bench_stats st;
    if (bench_time(&bt, &rule, "bench_ctrnn", &st)) return 1;
    const double fwd = (double)T_STEPS * 2 * batch * ((double)n * n + (double)n * N_IN + (double)N_OUT * n);

    printf("{\"workload\": \"reach-ctrnn\", \"config\": \"N%d-B%d\", \"impl\": \"c\", \"variant\": \"silico\"",
           n, batch);
    bench_print_stats(&st, &rule, threads);
    printf(", \"shape\": {\"N\": %d, \"batch\": %d, \"T\": %d, \"n_in\": %d, \"n_out\": %d}", n,
           batch, T_STEPS, N_IN, N_OUT);
    printf(", \"matmul_gflop_step\": %.6g, \"gflops\": %.2f", 3 * fwd / 1e9,
           3 * fwd / 1e9 / st.median);
    bench_print_machine();

    free(data);
    sl_adam_free(adam);
    sl_workspace_free(ws);
    sl_model_free(m);
    return 0;
}
