/* cnn_run.c — loading a CNN run for its analyses (see cnn_run.h). The
 * checkpoint holds the network (sl_cnn_load) and, as metadata written by the
 * trainer, the input normalisation (norm_mean, norm_std). */
#include "analysis/cnn_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sl_cnn_run_applies(const sl_analysis_ctx *ctx)
{
    return ctx->config && !strcmp(sl_config_str(ctx->config, "model.type"), "cnn");
}

sl_status sl_cnn_run_load(const sl_analysis_ctx *ctx, sl_cnn_run *r)
{
    memset(r, 0, sizeof *r);
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", ctx->run_dir);
    sl_tensorfile *f = NULL;
    sl_status st = sl_cnn_load(path, &r->cnn, &f);
    if (st) return st;
    const char *m = sl_tensorfile_meta(f, "norm_mean"), *s = sl_tensorfile_meta(f, "norm_std");
    r->mean = m ? strtod(m, NULL) : NAN;
    r->std = s ? strtod(s, NULL) : NAN;
    sl_tensorfile_free(f);
    if (!(r->std > 0) || !isfinite(r->mean)) {
        sl_cnn_run_free(r);
        return sl_fail(SL_EFORMAT, "%s: no input normalisation (metadata norm_mean, norm_std)", path);
    }
    sl_cnn_input_shape(r->cnn, r->in);
    return SL_OK;
}

void sl_cnn_run_free(sl_cnn_run *r)
{
    sl_cnn_free(r->cnn);
    memset(r, 0, sizeof *r);
}
