/* trial.h — the period algebra every trial-based task is written in
 * (NeuroGym's TrialEnv semantics, REFERENCE.md §2.1), and the interface of
 * a trial generator.
 *
 * A task builds one trial at a time into an sl_trial:
 *   - periods in ms, chained back to back (or after a named period); every
 *     sampled duration is floored to a multiple of dt (750 ms at dt 100 →
 *     700); a period spans steps [floor(start/dt), floor(end/dt));
 *   - observations ob (T × n_obs, float, zero by default) written per period
 *     and channel: add, set (zero then add), Gaussian noise;
 *   - classification tasks: integer labels gt (T; 0 = "fixate" by default)
 *     and the steps at which a decision is scored (see below);
 *     continuous tasks: targets y (T × n_out);
 *   - a per-step loss mask (1 by default);
 *   - trial variables (coherence, ground truth, context, delay, …) by name.
 * Noise convention (NeuroGym): a task's σ is divided by √dt (dt in ms).
 *
 * Decisions (for accuracy): a task marks the step(s) where a decision is
 * scored with sl_trial_decision(); by default none. The accuracy of a batch is
 * the fraction of scored decisions where argmax of the network's output at
 * that step equals gt there.
 *
 * The generator interface (sl_taskgen) is what one task file implements: a
 * name, a one-line description, its channel names and sizes, and new_trial().
 * src/tasks/gen_task.c turns any generator into an sl_task (batches for the
 * trainer), in two batching modes: one trial per row padded to the longest
 * trial with mask 0 on the padding (default), or NeuroGym's stream mode
 * (trials back to back, cut into windows of task.stream_len steps). */
#ifndef SL_TASKS_TRIAL_H
#define SL_TASKS_TRIAL_H

#include "silico.h"

#define SL_TRIAL_MAX_PERIODS 16
#define SL_TRIAL_MAX_VARS 16
#define SL_TRIAL_NAME 32

/* ------------------------------------------------------------- durations */

typedef enum {
    SL_DUR_FIXED,    /* a ms */
    SL_DUR_CHOICE,   /* one of choices[0..n_choices) uniformly */
    SL_DUR_UNIFORM,  /* U(a, b) */
    SL_DUR_TRUNCEXP  /* exponential with mean a, truncated to [b, c] (NeuroGym TruncExp) */
} sl_dur_kind;

typedef struct {
    sl_dur_kind kind;
    double a, b, c;
    const double *choices;
    int n_choices;
} sl_duration;

/* ----------------------------------------------------------------- trial */

typedef struct {
    char name[SL_TRIAL_NAME];
    double start_ms, end_ms;
    int start, end; /* steps: [start, end) */
} sl_period;

typedef struct {
    char name[SL_TRIAL_NAME];
    double value;
} sl_trial_var;

typedef struct sl_trial {
    /* fixed for a generator (set by sl_trial_init) */
    double dt;         /* ms */
    int n_obs, n_out;  /* observation channels; outputs (classes or continuous channels) */
    int classification;/* 1: labels gt over n_out classes; 0: continuous targets y */
    int T_cap;         /* longest possible trial, in steps */
    sl_rng *rng;       /* the trial's random stream (noise, trial variables, durations) */

    /* the trial being built (reset by sl_trial_begin) */
    int T;             /* steps: end of the last period */
    int n_periods;
    sl_period period[SL_TRIAL_MAX_PERIODS];
    float *ob;         /* T_cap × n_obs */
    int *gt;           /* T_cap (classification) */
    float *y;          /* T_cap × n_out (continuous) */
    float *mask;       /* T_cap: loss weight per step */
    unsigned char *decision; /* T_cap: 1 where a decision is scored */
    int n_vars;
    sl_trial_var var[SL_TRIAL_MAX_VARS];

    /* the first misuse since sl_trial_begin (SL_OK if none); sl_trial_check
     * reports it */
    sl_status err;
    char err_msg[192];
} sl_trial;

/* Allocate buffers for trials of at most T_cap steps. */
sl_status sl_trial_init(sl_trial *t, double dt, int n_obs, int n_out, int classification,
                        int T_cap);
void sl_trial_free(sl_trial *t);
/* Start a new trial: no periods, ob/gt/y zero, mask 1, no decisions, no vars. */
void sl_trial_begin(sl_trial *t, sl_rng *rng);

/* A duration drawn from d (in ms), floored to a multiple of dt:
 * ⌊d/dt⌋·dt (a quotient within 1e-9 below a whole number counts as that
 * number, so 0.3 ms at dt 0.1 stays 0.3). CHOICE: choices[k], k uniform;
 * UNIFORM: a + (b−a)·U[0,1); TRUNCEXP: NeuroGym's TruncExp(mean a, min b,
 * max c) — an exponential of mean a conditioned on b ≤ x < c (NeuroGym
 * redraws until it falls there; silico draws the same distribution by the
 * inverse CDF, one uniform per draw); c ≤ b gives c, as NeuroGym. A bad
 * description (no choices, mean ≤ 0, non-finite bounds) is recorded for
 * sl_trial_check and gives 0. Draws from t->rng. */
double sl_trial_sample(sl_trial *t, const sl_duration *d);
/* Append a period of duration_ms (not floored: pass sl_trial_sample's result
 * for NeuroGym's flooring) starting at the end of period `after` (NULL: at
 * the end of the last period added, 0 for the first). Its steps are
 * [⌊start/dt⌋, ⌊end/dt⌋) and T becomes the largest end. Errors (returned
 * and recorded for sl_trial_check): too many periods, a name used twice or
 * too long, unknown `after`, negative or non-finite duration, trial longer
 * than T_cap. */
sl_status sl_trial_add_period(sl_trial *t, const char *name, double duration_ms, const char *after);
/* Find a period; NULL if absent. */
const sl_period *sl_trial_find(const sl_trial *t, const char *name);

/* Observation algebra. period NULL = the whole trial [0, T); channel −1 = all
 * channels. A period of zero length is an empty slice: the call has no
 * effect. A period name the trial does not have, a channel, label or step out
 * of range are programming errors (assert-free: the call does nothing and
 * sl_trial_check reports the first one). */
void sl_trial_add_ob(sl_trial *t, float value, const char *period, int channel);
void sl_trial_set_ob(sl_trial *t, float value, const char *period, int channel);
/* add N(mu, sigma²) i.i.d. per step and channel, drawn from t->rng in
 * step-major, channel-minor order */
void sl_trial_add_randn(sl_trial *t, float mu, float sigma, const char *period, int channel);
/* Labels (classification): gt = label over the period. */
void sl_trial_set_gt(sl_trial *t, int label, const char *period);
/* Continuous target: y[:, channel] = value over the period (channel −1 = all). */
void sl_trial_set_y(sl_trial *t, float value, const char *period, int channel);
void sl_trial_set_mask(sl_trial *t, float value, const char *period);
/* Score a decision at the last step of the period (or at `step` in [0, T) if
 * period is NULL). A zero-length period scores nothing. */
void sl_trial_decision(sl_trial *t, const char *period, int step);
/* Record a trial variable (overwrites one of the same name). */
void sl_trial_set_var(sl_trial *t, const char *name, double value);
/* NaN if the trial has no such variable. */
double sl_trial_get_var(const sl_trial *t, const char *name);
/* SL_OK, or the first misuse since sl_trial_begin (unknown period name,
 * negative or non-finite duration, trial longer than T_cap, channel / label /
 * step out of range, too many periods or variables, ...) as a failure whose
 * message (sl_last_error) says what. */
sl_status sl_trial_check(const sl_trial *t);

/* ------------------------------------------------------------- generator */

typedef struct {
    int n_obs, n_out, classification;
    int T_max;                 /* longest trial in steps at this dt */
    const char *const *obs_names;   /* n_obs channel names */
    const char *const *out_names;   /* n_out class / output names ("fixate", "choice1", ...) */
    double dt;                 /* ms */
} sl_taskgen_shape;

typedef struct sl_taskgen {
    const char *name;          /* "pdm", "dms", ... (task.name) */
    const char *description;   /* one line for `silico task list` */
    /* Read the task.* keys this task uses from c and fill *shape. */
    sl_status (*create)(const sl_config *c, void **state, sl_taskgen_shape *shape);
    /* Build one trial into t (sl_trial_begin already called). Draw only
     * from t->rng and keep no state between calls: gen_task regenerates a
     * trial from its stream (to score it, to rebuild a batch), so the same
     * stream must give the same trial. */
    sl_status (*new_trial)(void *state, sl_trial *t);
    /* Optional task-specific score of network outputs z (T × n_out) on one
     * trial, accumulated into *sum and *count (e.g. ReadySetGo's interval
     * error); NULL for tasks scored by decision accuracy or MSE. */
    void (*score)(void *state, const sl_trial *t, const sl_real *z, double *sum, double *count);
    const char *score_name;    /* e.g. "interval_error_pct" */
    void (*destroy)(void *state);
} sl_taskgen;

/* Every generator silico knows, NULL-terminated (src/tasks/registry.c). */
const sl_taskgen *const *sl_taskgens(void);
const sl_taskgen *sl_taskgen_find(const char *name);

#endif
