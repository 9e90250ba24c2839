/* images.h — image classification tasks (issue 6): a training set and a
 * held-out test set of C×H×W images with class labels, served as batches
 * with T = 1, n_in = C·H·W (NCHW memory), labels B×1. Internal to
 * src/tasks/ (task.c dispatches fashion_mnist, mnist, idx and gratings here);
 * sl_task_image_shape (silico.h) reads the shape back. */
#ifndef SL_TASKS_IMAGES_H
#define SL_TASKS_IMAGES_H

#include "silico.h"

/* The images of one split: bytes (pixel/255) or floats in [0, 1]. */
typedef struct {
    int n;
    unsigned char *u8; /* n·C·H·W, or NULL */
    float *f;          /* n·C·H·W, or NULL */
    int *labels;       /* n */
} sl_image_split;

/* Wraps the two splits (ownership passes to the task, also on failure) as
 * task `name`: TRAIN = train (reshuffled every epoch with the run's batch
 * stream), VAL = test (fixed order; the held-out test set), HOLDOUT empty;
 * pixels normalised as (x − mean)/std. */
sl_status sl_image_task_wrap(const char *name, int C, int H, int W, int n_classes,
                             sl_image_split train, sl_image_split test, double mean, double std,
                             int batch, sl_task **out);

/* task.name = fashion_mnist | mnist | idx: IDX files (core/idx.h) */
sl_status sl_idx_task_create(const sl_config *c, sl_task **out);

/* task.name = gratings (gratings.c) */
sl_status sl_gratings_task_create(const sl_config *c, sl_task **out);

#endif
