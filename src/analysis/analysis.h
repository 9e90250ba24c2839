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
    /* `silico analyze --help`: its first line is the one-line summary; the
     * following lines (indented two spaces) say what it writes and list its
     * options as "  --name VALUE  meaning (default)", which is also how the CLI
     * knows which options an analysis takes */
    const char *help;
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


/* ------------------------------------------------ the trials an analysis runs */

#define SL_TRIALSET_MAX_VARS 16

/* A fixed set of trials of a run's task, each row one trial, copied out of
 * the task's batches (src/analysis/trials.c). sl_trialset_from_task gives
 * one row per condition ("conditions"):
 *   reach tasks  the training conditions (all but task.holdout_conditions) at
 *                the first training delay (or delay_ms > 0), no input noise: one trial each,
 *                in condition order (the seed tutorial's "train dataset
 *                without delay augmentation"), normalised with the run's
 *                training constants (task.norm_delays pinned; trials.c)
 *   other tasks  the validation split (fixed by the task seed), at most
 *                max_trials of it (0 = all)
 * sl_trialset_validation gives every validation trial of a built task
 * (reach: the VAL split at every task.val_delays, then the HOLDOUT split).
 * Rows shorter than T are padded with zero input and mask 0. */
typedef struct {
    int C, T, n_in, n_out;
    int classification;
    double dt_ms;
    sl_real *u;    /* C×T×n_in */
    sl_real *y;    /* C×T×n_out targets (regression), else NULL */
    sl_real *mask; /* regression C×T×n_out, classification C×T (never NULL) */
    int *labels;   /* C×T labels (classification), else NULL */
    unsigned char *decision; /* C×T: 1 where a decision is scored (classification), else NULL */
    int n_vars;
    char var_names[SL_TRIALSET_MAX_VARS][32];
    double *vars;  /* C×n_vars trial variables (NaN where a trial lacks one) */
    int t_zero;    /* the alignment step (reach: go cue; generated tasks: the decision
                      period's start when every trial has the same), or 0 */
    const char *time_zero; /* what t_zero is: "go cue", "decision onset", "trial start" */
    int reach;     /* 1: a reach-family task */
    int n_conditions; /* reach: the task's directions (every one must have a row); else 0 */
    int *cond;     /* C: each row's condition (reach: its direction; else the batch's
                      condition index, or the row index when batches carry none) */
    int *zero;     /* C: each row's alignment step (reach: its go step; else t_zero) */
    int batch, n_first; /* rows run per forward pass (the task's max_batch), and the
                           rows of the first split (passes restart there) */
} sl_trialset;

sl_status sl_trialset_from_task(const sl_config *c, int max_trials, double delay_ms,
                                sl_trialset *out);
sl_status sl_trialset_validation(sl_task *t, sl_trialset *out);
/* The same from the options --max-trials N and --delay MS (reach: the delay
 * of every trial instead of the first training delay), checked against the
 * channels of ctx->model when there is one. */
sl_status sl_an_trialset(const sl_analysis_ctx *ctx, sl_trialset *out);
void sl_trialset_free(sl_trialset *s);
/* The index of a trial variable, or -1. */
int sl_trialset_var(const sl_trialset *s, const char *name);

/* Condition averages of a trial set run through m without noise (the
 * equation is at the top of trials.c): rows with the same cond (dense, in
 * ascending order; reach: only those whose delay is delay_ms when > 0)
 * aligned on their zero step and averaged over the steps all of them share.
 * *rates malloc'd C×T×N; *outputs (the network's z) and *targets (the task's
 * y; NULL when the set has none) C×T×n_out, averaged the same way, each
 * skipped when its pointer is NULL; *time_s malloc'd T (seconds from the
 * rows' zero step), *movement_onset_s the reach go-to-movement lag (else 0). */
sl_status sl_trialset_condition_mean(sl_model *m, const sl_trialset *s, double delay_ms,
                                     double **rates, double **outputs, double **targets,
                                     double **time_s, int *C, int *T, int *N,
                                     double *movement_onset_s);

/* The condition-averaged rates, outputs and targets of ctx's run (sl_condition_rates on its task,
 * option --delay MS), time shifted to movement onset on reach tasks (go cue +
 * the targets' onset lag; other tasks keep the trial set's time_zero),
 * restricted to option --window A:B ms or, without it, to def_lo..def_hi ms
 * (both NAN = every step; non-reach tasks use every step by default). */
typedef struct {
    double *x;      /* C×T×N rates */
    double *z, *y;  /* C×T×O outputs and targets (y NULL when the task has none) */
    double *time_s; /* T, seconds from time_zero */
    int C, T, N, O;
    double dt_s, onset_s; /* step; go-to-movement lag (reach) */
    double lo_ms, hi_ms;  /* the window used */
    const char *time_zero;
} sl_an_rates;
sl_status sl_an_condition_rates(const sl_analysis_ctx *ctx, double def_lo, double def_hi,
                                sl_an_rates *out);
void sl_an_rates_free(sl_an_rates *r);
/* time.npy (T) into ctx->out_dir and the common summary fields (time_zero,
 * window_ms, delay_ms, conditions, units, dt_ms). */
sl_status sl_an_rates_write(const sl_analysis_ctx *ctx, const sl_an_rates *r, void *summary_json);

/* K noisy single trials of s run through m (activity.c), the same draws for
 * every runner given the same seed: sl_noisy_trials (trial k = condition
 * k mod C plus N(0, sigma²) on every input channel and step) from one stream
 * of seed, the model's own recurrent noise from another. cond (K) receives
 * each trial's condition, u (K×T×n_in) the noisy inputs — NULL when the
 * caller does not keep them; *act the activity (sl_activity_free). */
sl_status sl_an_noisy_activity(sl_model *m, const sl_trialset *s, int K, double sigma,
                               uint64_t seed, int *cond, sl_real *u, sl_activity *act);

/* --------------------------------------------------- writing an analysis folder */

/* dir/name as .npy: sl_real data written as float32, or doubles / ints as given. */
sl_status sl_an_write_f32(const char *dir, const char *name, int ndim, const int64_t *shape,
                          const sl_real *data);
sl_status sl_an_write_f64(const char *dir, const char *name, int ndim, const int64_t *shape,
                          const double *data);
sl_status sl_an_write_i32(const char *dir, const char *name, int ndim, const int64_t *shape,
                          const int32_t *data);
/* dir/name as pretty-printed JSON (a cJSON *; void * keeps cJSON out of this header). */
sl_status sl_an_write_json(const char *dir, const char *name, const void *json);
/* key: v in a cJSON object, or null when v is NaN/Inf. */
void sl_an_json_num(void *json, const char *key, double v);
/* An option parsed as a number / int / comma-separated list of reals, with its default;
 * a bad value is SL_EINVAL naming the option. list: *n = count (at most max). */
sl_status sl_an_opt_real(const sl_analysis_ctx *ctx, const char *key, double def, double *out);
sl_status sl_an_opt_int(const sl_analysis_ctx *ctx, const char *key, long def, long lo, long hi,
                        long *out);
sl_status sl_an_opt_list(const sl_analysis_ctx *ctx, const char *key, const char *def,
                         double *out, int max, int *n);
/* Mean and standard deviation (ddof 0, numpy's std) of x[0..n), n ≥ 1. */
void sl_an_mean_sd(const double *x, int n, double *mean, double *sd);
/* --noise S: sd of the input noise of noisy single trials (0.1 when absent);
 * SL_EINVAL unless a number >= 0. */
sl_status sl_an_opt_noise(const sl_analysis_ctx *ctx, double *sigma);
/* --delay MS: 0 when absent; SL_EINVAL unless a positive number. */
sl_status sl_an_opt_delay(const sl_analysis_ctx *ctx, double *delay_ms);

/* "A:B" (ms, A < B) into lo, hi; SL_EINVAL naming opt when malformed. */
sl_status sl_an_parse_window(const char *s, const char *opt, double *lo, double *hi);
/* The --window A:B option (ms relative to the trials' t_zero) as steps [a, b);
 * the whole trial when absent. */
sl_status sl_an_window(const sl_analysis_ctx *ctx, const sl_trialset *s, int *a, int *b);
/* X (K×N, doubles) = each trial's rates r (K×T×N) averaged over steps [a, b). */
void sl_an_window_mean(const sl_real *r, int K, int T, int N, int a, int b, double *X);

#endif
