/* reach.h — what the CLI and analyses may need to know about a reach-family
 * task ("reach", "reach_synthetic") beyond the sl_task interface.
 * Output channels (muscles) are t->n_out; steps t->T; dt t->dt_ms. */
#ifndef SL_TASKS_REACH_H
#define SL_TASKS_REACH_H

#include "silico.h"

/* One trial: condition (reach direction), delay plan-onset → go, go step. */
typedef struct {
    int cond;
    double delay_ms;
    int go_step;
} sl_reach_item;

/* Nonzero if t is a reach-family task (the calls below need one). */
int sl_reach_is(const sl_task *t);
/* Number of conditions; condition c is the reach angle 2πc/n (radians). */
int sl_reach_num_conditions(const sl_task *t);
double sl_reach_angle(const sl_task *t, int cond);
/* The step at which the plan input turns on. */
int sl_reach_plan_onset_step(const sl_task *t);
/* Trials in a split (its batches hold these, train.batch at a time). */
int sl_reach_num_items(const sl_task *t, sl_split split);
/* Trial i of a split in its fixed order: the order of VAL and HOLDOUT
 * batches (batch k holds trials k·train.batch, ...). */
sl_status sl_reach_item_info(const sl_task *t, sl_split split, int i, sl_reach_item *out);
/* Row b of batch `index` of a split as batch() returns it now (for TRAIN,
 * in the order of the current epoch's shuffle). */
sl_status sl_reach_batch_item(const sl_task *t, sl_split split, int index, int b,
                              sl_reach_item *out);

#endif
