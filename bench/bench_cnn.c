/* bench_cnn.c — time silico's CNN (issue 6's benchmark; the PyTorch peer is
 * bench/peer_cnn.py) on the seed network of examples/fmnist-cnn.ini:
 *   conv(1→6, 3×3, pad 1)–ReLU–maxpool 2–conv(6→16, 3×3, pad 1)–ReLU–
 *   maxpool 2–fc 784→120–ReLU–fc 120→84–ReLU–fc 84→10
 * on 28×28 single-channel images.
 *
 *   cnn-B16, cnn-B256   one training step at batch 16 / 256:
 *                       sl_cnn_zero_grad + sl_cnn_loss (forward, mean
 *                       cross-entropy, backward) + sl_adam_step (lr 1e-3,
 *                       betas 0.9/0.999, eps 1e-8)
 *   cnn-infer-B256      inference: sl_cnn_forward of a batch of 256 (the
 *                       record adds images_per_s = 256 / median seconds)
 *
 * Weights: PyTorch's default init (the peer's: nn.Conv2d/nn.Linear) from
 * --seed. Inputs: a pool of 8 batches (x ~ N(0,1), labels uniform in 0..9),
 * used round-robin (not timed). Subnormals are flushed (FTZ/DAZ) as the
 * trainer does. Timing as the peer: `--warmup` untimed steps, then at least
 * `--steps` timed steps and until `--min-time` seconds (at most
 * `--max-steps`); each step timed alone; ms_per_step is the median.
 *
 *   build/bench_cnn --workload cnn-B16 --threads 1
 *
 * One JSON line per workload (impl "c", variant "silico"); exit status 1 on
 * a library error or a non-finite loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "bench_common.h"
#include "silico.h"

enum { POOL = 8 };

#define SEED_LAYERS                                                                            \
    "conv(6,3,p=1), relu, maxpool(2), conv(16,3,p=1), relu, maxpool(2), flatten, linear(120), " \
    "relu, linear(84), relu, linear(10)"

typedef struct {
    const char *name;
    int B, infer;
} workload;

static const workload WORKLOADS[] = {{"cnn-B16", 16, 0}, {"cnn-B256", 256, 0}, {"cnn-infer-B256", 256, 1}};
enum { N_WORKLOADS = sizeof WORKLOADS / sizeof WORKLOADS[0] };

typedef struct {
    sl_cnn *m;
    sl_cnn_ws *ws;
    sl_adam *adam;
    const sl_real *x; /* POOL batches */
    const int *y;
    int B, infer;
    long k;
} cnn_bench;

static double cnn_step(void *p, const char *prog)
{
    cnn_bench *b = p;
    const int i = (int)(b->k++ % POOL);
    const sl_real *x = b->x + (size_t)i * b->B * 784;
    sl_status st;
    double loss = 0;
    if (b->infer) {
        st = sl_cnn_forward(b->m, b->ws, x, b->B, NULL);
        loss = st ? NAN : sl_cnn_activation(b->ws, sl_cnn_num_layers(b->m) - 1)[0];
    } else {
        sl_cnn_zero_grad(b->m);
        st = sl_cnn_loss(b->m, b->ws, x, b->y + (size_t)i * b->B, b->B, 1, &loss, NULL);
        if (!st) sl_adam_step(b->adam, sl_cnn_params(b->m), sl_cnn_grads(b->m));
    }
    if (st) {
        fprintf(stderr, "%s: %s (%s)\n", prog, sl_last_error(), sl_status_str(st));
        return NAN;
    }
    return loss;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_cnn [--workload NAME]... [--threads N] [--warmup 5] [--steps 20]\n"
               "                 [--min-time 2] [--max-steps 500] [--seed 0]\n"
               "workloads:");
    for (int i = 0; i < N_WORKLOADS; i++) fprintf(f, " %s", WORKLOADS[i].name);
    fprintf(f, "\n");
}

static int run(const workload *w, int threads, const bench_rule *rule, unsigned long long seed)
{
    int rc = 1;
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    cnn_bench b = {.B = w->B, .infer = w->infer};
    sl_real *x = malloc(sizeof(sl_real) * POOL * (size_t)w->B * 784);
    int *y = malloc(sizeof(int) * POOL * (size_t)w->B);
    sl_adam_spec as = {.lr = 1e-3, .schedule = SL_LR_CONSTANT, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    if (!x || !y || sl_cnn_create(SEED_LAYERS, 1, 28, 28, &rng, &b.m) ||
        sl_cnn_ws_create(b.m, w->B, &b.ws) || sl_adam_create(&as, sl_cnn_num_params(b.m), &b.adam)) {
        fprintf(stderr, "bench_cnn: %s\n", x && y ? sl_last_error() : "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < POOL * (size_t)w->B * 784; i++) x[i] = (sl_real)sl_rng_normal(&rng);
    for (size_t i = 0; i < POOL * (size_t)w->B; i++) y[i] = (int)sl_rng_below(&rng, 10);
    b.x = x, b.y = y;
    bench_stats st;
    if (bench_time_fn(cnn_step, &b, rule, "bench_cnn", &st)) goto fail;
    printf("{\"workload\": \"%s\", \"config\": \"%s\", \"impl\": \"c\", \"variant\": \"silico\"",
           w->name, w->name);
    bench_print_stats(&st, rule, threads);
    printf(", \"batch\": %d, \"n_params\": %zu", w->B, sl_cnn_num_params(b.m));
    if (w->infer) printf(", \"images_per_s\": %.1f", w->B / st.median);
    bench_json_str("layers", SEED_LAYERS);
    bench_print_machine();
    rc = 0;
fail:
    free(x);
    free(y);
    sl_adam_free(b.adam);
    sl_cnn_ws_free(b.ws);
    sl_cnn_free(b.m);
    return rc;
}

int main(int argc, char **argv)
{
    const char *names[N_WORKLOADS];
    for (int j = 0; j < N_WORKLOADS; j++) names[j] = WORKLOADS[j].name;
    int want[N_WORKLOADS];
    bench_opts o;
    int rc = bench_parse_args(argc, argv, names, N_WORKLOADS, want, &o, usage);
    if (rc >= 0) return rc;
    const int threads = o.threads, any = o.any;
    const unsigned long long seed = o.seed;
    sl_set_threads(threads);
#if defined(__SSE__) || defined(__x86_64__)
    _mm_setcsr(_mm_getcsr() | 0x8040); /* FTZ | DAZ, as sl_trainer_run for CNNs */
#endif
    const bench_rule rule = o.rule;
    for (int j = 0; j < N_WORKLOADS; j++)
        if ((!any || want[j]) && run(&WORKLOADS[j], threads, &rule, seed)) return 1;
    return 0;
}
