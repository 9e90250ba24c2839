/* bench_common.h — what the C benches share: one silico training step on a
 * pool of batches, the timing rule of /work/shared/bench/README.md, and the
 * common fields of the JSON record.
 *
 * One step = sl_model_zero_grad + sl_model_loss (forward over T, loss, BPTT)
 * + sl_adam_step (bench_time); other benches time their own step function
 * (bench_time_fn). Timing: `warmup` untimed steps, then at least `min_steps`
 * timed steps and until `min_time` seconds have passed (at most
 * `max_steps`), each step timed alone; the record's ms_per_step is the
 * median. */
#ifndef SILICO_BENCH_COMMON_H
#define SILICO_BENCH_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "silico.h"

typedef struct {
    int warmup, min_steps, max_steps;
    double min_time; /* seconds */
} bench_rule;

typedef struct {
    sl_model *m;
    sl_workspace *ws;
    sl_adam *adam;
    const sl_batch *pool; /* used round-robin */
    int n_pool;
    sl_loss_spec loss;
    long k;
} bench_trainer;

typedef struct {
    int steps;
    double median, min, mean, p10, p90; /* seconds */
    double loss_first, loss_last;
    double maxrss_mb;
} bench_stats;

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One training step; returns the loss (NaN after printing the error). */
static inline double bench_step(bench_trainer *b, const char *prog)
{
    sl_loss_terms terms;
    sl_model_zero_grad(b->m);
    sl_status st = sl_model_loss(b->m, b->ws, &b->pool[b->k++ % b->n_pool], &b->loss, NULL, 1,
                                 &terms, NULL);
    if (st) {
        fprintf(stderr, "%s: sl_model_loss: %s (%s)\n", prog, sl_last_error(), sl_status_str(st));
        return NAN;
    }
    sl_adam_step(b->adam, sl_model_params(b->m), sl_model_grads(b->m));
    return terms.total;
}

/* Time step(ctx, prog) (returns the loss, NaN on error) by the rule; 0 on
 * success, 1 after printing the error. */
static int bench_time_fn(double (*step)(void *ctx, const char *prog), void *ctx,
                         const bench_rule *r, const char *prog, bench_stats *s)
{
    s->loss_first = s->loss_last = NAN;
    for (int i = 0; i < r->warmup; i++) {
        s->loss_last = step(ctx, prog);
        if (isnan(s->loss_first)) s->loss_first = s->loss_last;
    }
    double *times = malloc(sizeof(double) * (size_t)(r->max_steps > 0 ? r->max_steps : 1));
    if (!times) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    int steps = 0;
    const double t_begin = bench_now();
    while (steps < r->max_steps &&
           (steps < r->min_steps || bench_now() - t_begin < r->min_time)) {
        const double t0 = bench_now();
        s->loss_last = step(ctx, prog);
        times[steps++] = bench_now() - t0;
        if (isnan(s->loss_first)) s->loss_first = s->loss_last;
    }
    if (!isfinite(s->loss_first) || !isfinite(s->loss_last) || steps == 0) {
        fprintf(stderr, "%s: non-finite loss (first %g, last %g)\n", prog, s->loss_first,
                s->loss_last);
        free(times);
        return 1;
    }
    double mean = 0;
    for (int i = 0; i < steps; i++) mean += times[i];
    qsort(times, (size_t)steps, sizeof *times, bench_cmp_double);
    s->steps = steps;
    s->mean = mean / steps;
    s->min = times[0];
    s->median = steps % 2 ? times[steps / 2] : 0.5 * (times[steps / 2 - 1] + times[steps / 2]);
    s->p10 = times[(int)lround(0.1 * (steps - 1))];
    s->p90 = times[(int)lround(0.9 * (steps - 1))];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    s->maxrss_mb = (double)ru.ru_maxrss / 1024.0;
    free(times);
    return 0;
}

static inline double bench_step_thunk(void *b, const char *prog) { return bench_step(b, prog); }

/* The recurrent models' training step (bench_step) by the rule. */
static inline int bench_time(bench_trainer *b, const bench_rule *r, const char *prog, bench_stats *s)
{
    return bench_time_fn(bench_step_thunk, b, r, prog, s);
}

/* The options every C bench takes: --workload NAME (repeatable; none = all),
 * --threads, --warmup, --steps (min_steps), --min-time, --max-steps, --seed.
 * names[i] is workload i's name; want[i] is set for each one asked for.
 * Returns -1 to go on, else the exit code (0 after --help, 2 on bad usage). */
typedef struct {
    int threads;
    bench_rule rule;
    unsigned long long seed;
    int any; /* some --workload was given */
} bench_opts;

static inline int bench_parse_args(int argc, char **argv, const char *const *names, int n, int *want,
                                   bench_opts *o, void (*usage)(FILE *f))
{
    *o = (bench_opts){.threads = 1, .rule = {.warmup = 5, .min_steps = 20, .max_steps = 500, .min_time = 2.0}};
    for (int j = 0; j < n; j++) want[j] = 0;
    for (int i = 1; i < argc; i += 2) { /* --option value pairs */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (!v) { usage(stderr); return 2; }
        if (!strcmp(a, "--workload")) {
            int found = 0;
            for (int j = 0; j < n; j++)
                if (!strcmp(v, names[j])) want[j] = found = o->any = 1;
            if (!found) { usage(stderr); return 2; }
        } else if (!strcmp(a, "--threads")) o->threads = atoi(v);
        else if (!strcmp(a, "--warmup")) o->rule.warmup = atoi(v);
        else if (!strcmp(a, "--steps")) o->rule.min_steps = atoi(v);
        else if (!strcmp(a, "--min-time")) o->rule.min_time = atof(v);
        else if (!strcmp(a, "--max-steps")) o->rule.max_steps = atoi(v);
        else if (!strcmp(a, "--seed")) o->seed = strtoull(v, NULL, 10);
        else { usage(stderr); return 2; }
    }
    if (o->threads < 1 || o->rule.warmup < 0 || o->rule.min_steps < 1 || o->rule.max_steps < o->rule.min_steps) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* ", "key": "value"" without the characters that would need escaping. */
static void bench_json_str(const char *key, const char *v)
{
    printf(", \"%s\": \"", key);
    for (; *v; v++)
        if (*v != '"' && *v != '\\' && (unsigned char)*v >= 0x20) putchar(*v);
    putchar('"');
}

/* The fields every record has, after its workload-specific opening. */
static void bench_print_stats(const bench_stats *s, const bench_rule *r, int threads)
{
    printf(", \"ms_per_step\": %.4f, \"steps\": %d, \"min_ms\": %.4f, \"mean_ms\": %.4f"
           ", \"p10_ms\": %.4f, \"p90_ms\": %.4f, \"warmup\": %d",
           1e3 * s->median, s->steps, 1e3 * s->min, 1e3 * s->mean, 1e3 * s->p10, 1e3 * s->p90,
           r->warmup);
    printf(", \"loss_first\": %.9g, \"loss_last\": %.9g", s->loss_first, s->loss_last);
    printf(", \"threads\": %d, \"blas_threads\": %d, \"mode\": \"silico%d\"", threads,
           sl_get_threads(), threads);
    printf(", \"maxrss_mb\": %.1f", s->maxrss_mb);
}

/* The closing fields: machine and version. */
static void bench_print_machine(void)
{
    bench_json_str("blas", sl_blas_info());
    bench_json_str("cpu", sl_cpu_info());
    bench_json_str("silico", SILICO_VERSION);
    printf("}\n");
    fflush(stdout);
}

#endif
