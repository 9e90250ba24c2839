/* cnn_run.h — what the CNN analyses (cnn_activity.c, tuning.c) share: the
 * trained CNN of a run directory, its input normalisation and its held-out
 * test images, plus .npy/JSON writing helpers for their output folders. */
#ifndef SL_ANALYSIS_CNN_RUN_H
#define SL_ANALYSIS_CNN_RUN_H

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "silico.h"

typedef struct {
    sl_cnn *cnn;        /* from RUN/checkpoint.safetensors */
    double mean, std;   /* the training normalisation x <- (x - mean)/std */
    int in[3];          /* C, H, W */
} sl_cnn_run;

/* Whether the run's checkpoint is a CNN's (model.type = cnn in config.ini). */
int sl_cnn_run_applies(const sl_analysis_ctx *ctx);
sl_status sl_cnn_run_load(const sl_analysis_ctx *ctx, sl_cnn_run *r);
void sl_cnn_run_free(sl_cnn_run *r);

/* dir/name as a float32 .npy of the given shape from sl_real or double
 * values (exactly one of r, d non-NULL); int32 from i */
sl_status sl_cnn_run_npy(const char *dir, const char *name, int ndim, const int64_t *shape,
                         const sl_real *r, const double *d, const int32_t *i);
/* dir/summary.json (takes o) */
sl_status sl_cnn_run_summary(const char *dir, cJSON *o);

#endif
