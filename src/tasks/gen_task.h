/* gen_task.h — any trial generator (trial.h) as an sl_task, the batch source
 * the trainer pulls from; per-row trial variables and task-specific scores
 * for evaluation; and writing sample trials for `silico task sample`.
 * Internal to silico (src/). See gen_task.c for batching and seeding. */
#ifndef SL_TASKS_GEN_TASK_H
#define SL_TASKS_GEN_TASK_H

#include "tasks/trial.h"

/* The sl_task of generator g configured by c (task.batching, task.stream_len,
 * task.batches_per_epoch, task.val_trials, task.seed, run.seed, train.batch
 * and whatever task.* keys g reads). */
sl_status sl_gen_task_create(const sl_taskgen *g, const sl_config *c, sl_task **out);

/* Whether t was made by sl_gen_task_create (the functions below need one). */
int sl_gen_task_is(const sl_task *t);
const sl_taskgen *sl_gen_task_gen(const sl_task *t);
const sl_taskgen_shape *sl_gen_task_shape(const sl_task *t);
/* The task seed in use (task.seed, or derived from run.seed when 0). */
uint64_t sl_gen_task_seed(const sl_task *t);

/* The trial variables of row `row` of the batch last returned by batch():
 * in trial mode the row's trial, in stream mode the trial at the window's
 * first step. Returns their number (0 if row is out of range) and points
 * *vars at them (valid until the next batch() call). */
int sl_gen_task_row_vars(sl_task *t, int row, const sl_trial_var **vars);
/* Trial mode: the whole trial of row `row` of the last batch (periods, gt,
 * variables...); NULL in stream mode or out of range. */
const sl_trial *sl_gen_task_row_trial(sl_task *t, int row);

/* Apply the generator's score callback (if it has one; else nothing is
 * added) to network outputs z (B×T×n_out, the batch's layout) of batch
 * `index` of `split`: every trial of the batch in trial mode, every trial
 * wholly inside the window in stream mode. Rebuilds the batch's trials if
 * another batch was built since (its buffers are then overwritten). */
sl_status sl_gen_task_score(sl_task *t, sl_split split, int index, const sl_real *z,
                            double *sum, double *count);

/* The task seed a config gives: task.seed, or (task.seed = 0) one derived
 * from run.seed. */
uint64_t sl_gen_task_seed_of(const sl_config *c);

/* Write n_trials trials of generator g (configured by c) into dir, which
 * must not exist (SL_EEXIST) and is created: ob.npy (N×T×n_obs f32),
 * gt.npy (N×T i32; classification) or y.npy (N×T×n_out f32; continuous),
 * mask.npy (N×T f32), decision.npy (N×T u8), periods.json, trials.json and
 * info.json. T = the longest of the N trials; shorter trials are padded with
 * zeros and mask 0. Trial k is validation trial k of a run with this task
 * seed (sl_gen_task_seed_of(c)). */
sl_status sl_taskgen_sample(const sl_taskgen *g, const sl_config *c, int n_trials, const char *dir);

#endif
