/* dataset.h — the "dataset" task: the user's own arrays (inputs, targets or
 * labels, optional mask and conditions) from .npy or .mat files, split into
 * training and validation trials. See dataset.c for the exact rules.
 * Internal to src/tasks/ (task.c dispatches task.name = dataset here). */
#ifndef SL_TASKS_DATASET_H
#define SL_TASKS_DATASET_H

#include "silico.h"

/* Build the task from task.inputs, task.targets, task.mask,
 * task.conditions_file, task.target_kind, task.val_fraction, task.dt,
 * train.batch and the split seed (task.seed, or run.seed when 0). */
sl_status sl_dataset_task_create(const sl_config *c, sl_task **out);

/* Whether t was made by sl_dataset_task_create. */
int sl_dataset_is(const sl_task *t);
/* Trials in a split (TRAIN, VAL; HOLDOUT is always 0). */
int sl_dataset_num_trials(const sl_task *t, sl_split split);
/* The trial's index in the user's arrays (0-based) of trial i of a split,
 * in the split's stored order (ascending); −1 if out of range. */
int sl_dataset_trial_index(const sl_task *t, sl_split split, int i);
/* The same for row b of batch `index` of a split (TRAIN rows follow the
 * current epoch's shuffle); −1 if out of range. */
int sl_dataset_batch_trial(const sl_task *t, sl_split split, int index, int b);

#endif
