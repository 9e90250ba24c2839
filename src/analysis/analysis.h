/* analysis.h — what `silico analyze` hands each analysis, and the table of
 * analyses it knows (src/analysis/registry.c).
 *
 * An analysis is a library function taking a model and arrays and returning
 * arrays (declared in include/silico.h, one file per analysis under
 * src/analysis/); its *runner* below adapts it to a trained run directory:
 * it reads what it needs from the context, calls the library function and
 * writes RUN/analysis/<name>/ (arrays as .npy, numbers as summary.json).
 * Runners never print for humans: progress goes through ctx->progress (NULL
 * = silent) and errors through sl_fail. */
#ifndef SL_ANALYSIS_H
#define SL_ANALYSIS_H

#include <stdio.h>

#include "silico.h"

typedef struct {
    const char *run_dir;   /* the trained run (config.ini, checkpoint.safetensors, ...) */
    const char *out_dir;   /* RUN/analysis/<name>, created before the runner is called */
    const sl_config *config; /* the run's config.ini */
    /* the run's network from checkpoint.safetensors, or NULL when the checkpoint is
     * not an sl_model (e.g. a CNN run: its runners load their own model from run_dir) */
    sl_model *model;
    /* command-line options the CLI did not consume: "--layer 3" arrives as
     * opt_keys[i] = "layer", opt_vals[i] = "3" (flags without value: "") */
    int n_opts;
    const char *const *opt_keys;
    const char *const *opt_vals;
    FILE *progress; /* a TTY-aware progress stream, or NULL */
    int threads;
} sl_analysis_ctx;

/* The value of option `key`, or NULL when not given. */
const char *sl_analysis_opt(const sl_analysis_ctx *ctx, const char *key);

typedef struct {
    const char *name; /* "activity", "perturb", ... = the folder under analysis/ */
    const char *help; /* one line for `silico analyze --help` */
    /* 1: runs when --only is not given and the run's model kind supports it */
    int by_default;
    /* does this analysis apply to this run? (NULL = always). E.g. fixed points need
     * a recurrent model, tuning a CNN. */
    int (*applies)(const sl_analysis_ctx *ctx);
    sl_status (*run)(sl_analysis_ctx *ctx);
} sl_analysis_def;

/* The analyses this build knows, in the order `silico analyze` runs them. */
const sl_analysis_def *sl_analysis_list(int *n);
const sl_analysis_def *sl_analysis_find(const char *name);

#endif
