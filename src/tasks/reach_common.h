/* reach_common.h — the trial structure shared by the reach-family tasks
 * ("reach", "reach_synthetic"): timing, plan/hold/go inputs and their
 * normalisation, delays, splits, epochs and batches. A task supplies only
 * its number of conditions and outputs and a function that writes the
 * target of one trial (see reach_common.c for the trial structure).
 * Internal to src/tasks/. */
#ifndef SL_TASKS_REACH_COMMON_H
#define SL_TASKS_REACH_COMMON_H

#include "silico.h"

typedef struct rc_core rc_core;

/* Write the target y (T × n_out, row-major) of condition c with the go cue
 * at step g. Called once per trial at creation. */
typedef void (*rc_target_fn)(const rc_core *rc, const void *ctx, int c, int g, sl_real *y);

typedef struct {
    int n_cond;          /* conditions; condition c is the angle 2πc/n_cond */
    int n_out;           /* output channels */
    rc_target_fn target; /* fills one trial's target */
    const void *ctx;     /* passed to target; only used during rc_create */
} rc_spec;

struct rc_core {
    sl_task task; /* task.impl points back here */
    int n_cond, n_out, n_in, T;
    int n_plan, hold;   /* plan channels; 1 if the hold channel is present */
    int plan_on;        /* plan onset step */
    double dt, plan_onset_ms, go_width_ms, input_noise;
    int batch;
    /* Each split's trials, in fixed order, each array contiguous: */
    int n[3];
    int *cond[3], *go[3];
    double *delay[3];
    sl_real *u[3], *y[3]; /* n × T × n_in, n × T × n_out */
    int *order;           /* TRAIN epoch order (indices into the TRAIN arrays) */
    sl_real *bu, *by;     /* gather buffers, max_batch rows */
    int *bcond;
    /* normalisation constants: stage 1 (plan block), stage 2 ([plan, go]) */
    double min1, max1, mean1, std1, min2, max2, mean2, std2;
    sl_arena *arena;
};

/* Read the shared task.* keys, build every trial of every split and the
 * batch buffers in one arena, and return the task (ops supplies the name;
 * its functions should be the rc_* below). */
sl_status rc_create(const sl_config *c, const sl_task_ops *ops, const rc_spec *spec,
                    sl_task **out);

int rc_num_batches(sl_task *t, sl_split split);
sl_status rc_start_epoch(sl_task *t, sl_split split, sl_rng *rng);
sl_status rc_batch(sl_task *t, sl_split split, int index, sl_rng *rng, sl_batch *out);
void rc_destroy(sl_task *t);

/* task.dt, validated as a whole number of ms when whole_ms (reach). */
sl_status rc_read_dt(const sl_config *c, int whole_ms, double *dt);

/* A list key into a malloc'd array (*out = NULL when empty). */
sl_status rc_read_list(const sl_config *c, const char *key, double **out, int *n);

/* The task constructors (task.c dispatches on task.name). */
sl_status sl_reach_create(const sl_config *c, sl_task **out);
sl_status sl_reach_synthetic_create(const sl_config *c, sl_task **out);

#endif
