/* bench_cells.c — time silico's cell-model training steps on issue 3's
 * benchmark workloads (shapes of /work/shared/bench W2 ddms-lightgru and W3
 * memory-lstm; the PyTorch peers are bench/peer_cells.py):
 *
 *   lightgru-ei-H64-B32  model.type lightgru, input 7, hidden 64, 3 classes,
 *                        T 100, batch 32, cross-entropy over T·B (batch norm
 *                        in training mode), U_h E/I-signed as the peer's:
 *                        Dale reparameterisation |U_h ⊙ M|·diag(sign), 51
 *                        excitatory + 13 inhibitory units, no autapses
 *   gru-H64-B32          model.type gru, same shapes and loss (nn.GRU's peer)
 *   lstm-H32-B16-loop    model.type lstm, input 3, hidden 32, 1 output, T 45,
 *   lstm-H32-B16         batch 16, MSE over T·B (one silico run serves both
 *                        comparisons: the per-gate loop and nn.LSTM peers)
 *
 * One step = sl_model_zero_grad + sl_model_loss (forward over T, loss,
 * backward through time) + sl_adam_step (lr 1e-3 constant, betas
 * 0.9/0.999, eps 1e-8). Inputs: a pool of 8 batches (u ~ N(0,1); labels
 * uniform in {0,1,2}, or targets y ~ N(0,1)), used round-robin (not timed).
 *
 * Timing as the peer: `--warmup` untimed steps, then at least `--steps` timed
 * steps and until `--min-time` seconds have passed (at most `--max-steps`);
 * each step is timed alone (CLOCK_MONOTONIC); ms_per_step is the median.
 *
 *   build/bench_cells --workload gru-H64-B32 --threads 1
 *
 * Prints one JSON line per workload (keys as the peer's records, impl "c",
 * variant "silico"); exit status 1 on any library error or a non-finite loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "silico.h"

enum { POOL = 8 };

typedef struct {
    const char *name;
    sl_cell_kind cell;
    int n_in, n_hidden, n_out, T, B, classify;
    sl_dale_mode dale;
    const char *note;
} workload;

static const workload WORKLOADS[] = {
    {"lightgru-ei-H64-B32", SL_CELL_LIGHTGRU, 7, 64, 3, 100, 32, 1, SL_DALE_REPARAM,
     "Dale reparam on U_h: 51 E + 13 I, no autapses"},
    {"gru-H64-B32", SL_CELL_GRU, 7, 64, 3, 100, 32, 1, SL_DALE_OFF, ""},
    {"lstm-H32-B16-loop", SL_CELL_LSTM, 3, 32, 1, 45, 16, 0, SL_DALE_OFF,
     "same silico work as lstm-H32-B16 (the peers differ)"},
    {"lstm-H32-B16", SL_CELL_LSTM, 3, 32, 1, 45, 16, 0, SL_DALE_OFF, ""},
};
enum { N_WORKLOADS = sizeof WORKLOADS / sizeof WORKLOADS[0] };

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_cells [--workload NAME]... [--threads N] [--warmup 5] [--steps 20]\n"
               "                   [--min-time 2] [--max-steps 500] [--seed 0]\n"
               "workloads:");
    for (int i = 0; i < N_WORKLOADS; i++) fprintf(f, " %s", WORKLOADS[i].name);
    fprintf(f, " (default: all)\n");
}

#define CHECK(call)                                                                       \
    do {                                                                                  \
        sl_status st_ = (call);                                                           \
        if (st_ != SL_OK) {                                                               \
            fprintf(stderr, "bench_cells: %s: %s (%s)\n", #call, sl_last_error(),         \
                    sl_status_str(st_));                                                  \
            goto fail;                                                                    \
        }                                                                                 \
    } while (0)

static int run(const workload *w, int threads, const bench_rule *rule, unsigned long long seed)
{
    int rc = 1;
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    const sl_model_spec spec = {.n_in = w->n_in, .n_hidden = w->n_hidden, .n_out = w->n_out,
                                .cell = w->cell, .dale = w->dale, .exc_fraction = 0.8,
                                .no_autapses = w->dale != SL_DALE_OFF};
    sl_model *m = NULL;
    sl_workspace *ws = NULL;
    sl_adam *adam = NULL;
    sl_real *data = NULL;
    int *labels = NULL;
    CHECK(sl_model_create(&spec, &rng, &m));
    CHECK(sl_workspace_create(m, w->B, w->T, &ws));
    const size_t np = sl_model_num_params(m);
    const sl_adam_spec aspec = {.lr = 1e-3, .lr_final = 1e-3, .schedule = SL_LR_CONSTANT,
                                .total_steps = 0, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    CHECK(sl_adam_create(&aspec, np, &adam));

    /* The data pool (not timed), batch-major as sl_batch wants it. */
    const size_t R = (size_t)w->B * w->T, nu = R * w->n_in, ny = w->classify ? 0 : R * w->n_out;
    data = malloc(sizeof(sl_real) * POOL * (nu + ny));
    labels = w->classify ? malloc(sizeof(int) * POOL * R) : NULL;
    if (!data || (w->classify && !labels)) {
        fprintf(stderr, "bench_cells: out of memory\n");
        goto fail;
    }
    sl_batch pool[POOL];
    for (int p = 0; p < POOL; p++) {
        sl_real *u = data + (size_t)p * (nu + ny), *y = u + nu;
        int *lab = w->classify ? labels + (size_t)p * R : NULL;
        for (size_t i = 0; i < nu; i++) u[i] = (sl_real)sl_rng_normal(&rng);
        for (size_t i = 0; i < ny; i++) y[i] = (sl_real)sl_rng_normal(&rng);
        for (size_t i = 0; lab && i < R; i++) {
            int c = (int)(sl_rng_uniform(&rng) * w->n_out);
            lab[i] = c < w->n_out ? c : w->n_out - 1;
        }
        pool[p] = (sl_batch){.B = w->B, .T = w->T, .n_in = w->n_in, .n_out = w->n_out, .u = u,
                             .y = w->classify ? NULL : y, .labels = lab};
    }
    const sl_loss_spec lspec = {0};

    bench_trainer bt = {.m = m, .ws = ws, .adam = adam, .pool = pool, .n_pool = POOL, .loss = lspec};
    bench_stats st;
    if (bench_time(&bt, rule, "bench_cells", &st)) goto fail;

    printf("{\"workload\": \"%s\", \"config\": \"%s\", \"impl\": \"c\", \"variant\": \"silico\"",
           w->name, w->name);
    bench_json_str("cell", sl_cell_kind_name(w->cell));
    bench_print_stats(&st, rule, threads);
    printf(", \"shape\": {\"hidden\": %d, \"batch\": %d, \"T\": %d, \"n_in\": %d, \"n_out\": %d}",
           w->n_hidden, w->B, w->T, w->n_in, w->n_out);
    printf(", \"n_params\": %zu", np);
    bench_json_str("note", w->note);
    bench_print_machine();
    rc = 0;
fail:
    free(labels);
    free(data);
    sl_adam_free(adam);
    sl_workspace_free(ws);
    sl_model_free(m);
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
    for (int j = 0; j < N_WORKLOADS; j++)
        if ((!any || want[j]) && run(&WORKLOADS[j], threads, &o.rule, seed)) return 1;
    return 0;
}
