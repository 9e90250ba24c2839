/* train.h — internal helpers of the trainer shared within src/train/ and
 * with the CLI. */
#ifndef SL_TRAIN_TRAIN_H
#define SL_TRAIN_TRAIN_H

#include "silico.h"

/* sl_evaluate_split with a caller-owned workspace (sized for the task). */
sl_status sl_evaluate_full(sl_model *m, sl_workspace *ws, sl_task *t, sl_split split, sl_rng *noise,
                           sl_eval *e);
/* The null model's MSE on a split's targets (a constant output per channel:
 * its masked mean over the split); NaN for an empty split. */
sl_status sl_split_null_mse(sl_task *t, sl_split split, double *out);
/* A CNN's loss and accuracy on every batch of an image task's split (ws
 * sized for the task's max_batch); fields that do not apply are NaN. */
sl_status sl_cnn_evaluate(sl_cnn *m, sl_cnn_ws *ws, sl_task *t, sl_split split, sl_eval *e);
sl_task *sl_trainer_task(sl_trainer *t);
double sl_trainer_train_seconds(const sl_trainer *t);

#endif
