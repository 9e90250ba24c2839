/* cnn_run.h — what the CNN analyses (cnn_activity.c, tuning.c, gratings.c,
 * rsa_it.c) share: the trained CNN of a run directory and its input
 * normalisation. They write their folders with analysis.h's sl_an_write_*. */
#ifndef SL_ANALYSIS_CNN_RUN_H
#define SL_ANALYSIS_CNN_RUN_H

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

#endif
