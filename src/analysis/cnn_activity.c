/* cnn_activity.c — every layer's activations of a trained CNN for chosen
 * held-out test images (the seed's layer readout, issue 6):
 *
 *   A_i(x) = layer i's output for the normalised image x = (p − mean)/std
 *
 * It is the `activity` analysis of a CNN run: the registry's "activity"
 * line calls sl_run_activity_any below, which runs this on CNN runs and the
 * rate network's activity (activity.c) on the others, so every run has one
 * RUN/analysis/activity/ folder. Test images --start S (default 0) to
 * S + --images N (default 16) of the run's image task, written to
 * RUN/analysis/activity/:
 *   images.npy              N×C×H×W float32 pixels in [0, 1] (before normalisation)
 *   labels.npy              N int32 true classes
 *   predictions.npy         N int32 argmax of the output layer
 *   layer_<i>_<name>.npy    N×C×H×W (conv/pool/activation maps, per channel) or
 *                           N×units (dense layers), float32
 *   summary.json            layers (index, name, shape), options, files */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cnn_run.h"

sl_status sl_run_cnn_activity(sl_analysis_ctx *ctx)
{
    long n_img, start;
    sl_status st = sl_an_opt_int(ctx, "images", 16, 1, 100000, &n_img);
    if (!st) st = sl_an_opt_int(ctx, "start", 0, 0, 100000000, &start);
    if (st) return st;
    sl_cnn_run r;
    if ((st = sl_cnn_run_load(ctx, &r))) return st;
    /* the run's task, with a one-image training set (only test images are read) */
    sl_config *c = NULL;
    sl_task *task = NULL;
    sl_cnn_ws *ws = NULL;
    sl_real *x = NULL;
    int32_t *labels = NULL, *pred = NULL;
    st = sl_config_copy(ctx->config, &c);
    if (!st) st = sl_config_set(c, "task.n_train", "1", "activity");
    if (!st) st = sl_task_create(c, &task);
    const int P = r.in[0] * r.in[1] * r.in[2];
    int n_test = 0;
    if (!st) {
        for (int b = 0; b < task->ops->num_batches(task, SL_SPLIT_VAL); b++) {
            sl_batch bt;
            if ((st = task->ops->batch(task, SL_SPLIT_VAL, b, NULL, &bt))) break;
            n_test += bt.B;
        }
    }
    if (!st && start + n_img > n_test)
        st = sl_fail(SL_EINVAL, "activity: --start %ld --images %ld asks for test images %ld..%ld, the test set has %d", start,
                     n_img, start, start + n_img - 1, n_test);
    if (!st) {
        x = malloc((size_t)n_img * P * sizeof(sl_real));
        labels = malloc((size_t)n_img * sizeof(int32_t));
        pred = malloc((size_t)n_img * sizeof(int32_t));
        if (!x || !labels || !pred) st = sl_fail(SL_ENOMEM, "out of memory");
    }
    /* gather images start .. start + n − 1 of the test split, in order */
    for (int b = 0, seen = 0; !st && seen < start + n_img; b++) {
        sl_batch bt;
        if ((st = task->ops->batch(task, SL_SPLIT_VAL, b, NULL, &bt))) break;
        for (int k = 0; k < bt.B; k++, seen++)
            if (seen >= start && seen < start + n_img) {
                memcpy(x + (size_t)(seen - start) * P, bt.u + (size_t)k * P, P * sizeof(sl_real));
                labels[seen - start] = bt.labels[k];
            }
    }
    if (!st) st = sl_cnn_ws_create(r.cnn, (int)n_img, &ws);
    if (!st) st = sl_cnn_forward(r.cnn, ws, x, (int)n_img, NULL);
    cJSON *sum = cJSON_CreateObject(), *layers = cJSON_AddArrayToObject(sum, "layers");
    cJSON *files = cJSON_CreateObject();
    const int L = sl_cnn_num_layers(r.cnn), K = sl_cnn_num_outputs(r.cnn);
    for (int i = 0; !st && i < L; i++) {
        int shp[3];
        const int nd = sl_cnn_layer_shape(r.cnn, i, shp);
        int64_t shape[4] = {n_img, shp[0], shp[1], shp[2]};
        char name[96];
        snprintf(name, sizeof name, "layer_%d_%s.npy", i, sl_cnn_layer_name(r.cnn, i));
        st = sl_an_write_f32(ctx->out_dir, name, nd + 1, shape, sl_cnn_activation(ws, i));
        cJSON *l = cJSON_CreateObject();
        cJSON_AddNumberToObject(l, "index", i);
        cJSON_AddStringToObject(l, "name", sl_cnn_layer_name(r.cnn, i));
        cJSON_AddItemToObject(l, "shape", cJSON_CreateIntArray(shp, nd));
        cJSON_AddStringToObject(l, "file", name);
        cJSON_AddItemToArray(layers, l);
        cJSON_AddStringToObject(files, name, nd == 3 ? "images x channels x H x W activations, float32"
                                                     : "images x units activations, float32");
    }
    if (!st) {
        const sl_real *z = sl_cnn_activation(ws, L - 1);
        int correct = 0;
        for (long b = 0; b < n_img; b++) {
            int best = 0;
            for (int k = 1; k < K; k++)
                if (z[b * K + k] > z[b * K + best]) best = k;
            pred[b] = best;
            correct += best == labels[b];
        }
        for (size_t k = 0; k < (size_t)n_img * P; k++) x[k] = (sl_real)(x[k] * r.std + r.mean);
        int64_t sx[4] = {n_img, r.in[0], r.in[1], r.in[2]}, sl[1] = {n_img};
        st = sl_an_write_f32(ctx->out_dir, "images.npy", 4, sx, x);
        if (!st) st = sl_an_write_i32(ctx->out_dir, "labels.npy", 1, sl, labels);
        if (!st) st = sl_an_write_i32(ctx->out_dir, "predictions.npy", 1, sl, pred);
        cJSON_AddStringToObject(files, "images.npy", "images x C x H x W test pixels in [0,1], float32");
        cJSON_AddStringToObject(files, "labels.npy", "images true classes, int32");
        cJSON_AddStringToObject(files, "predictions.npy", "images argmax of the output layer, int32");
        cJSON_AddNumberToObject(sum, "n_images", (double)n_img);
        cJSON_AddNumberToObject(sum, "start", (double)start);
        cJSON_AddNumberToObject(sum, "accuracy", (double)correct / n_img);
        cJSON_AddStringToObject(sum, "split", "test");
        cJSON_AddNumberToObject(sum, "norm_mean", r.mean);
        cJSON_AddNumberToObject(sum, "norm_std", r.std);
    }
    cJSON_AddItemToObject(sum, "files", files);
    if (!st) st = sl_an_write_json(ctx->out_dir, "summary.json", sum);
    cJSON_Delete(sum);
    free(x), free(labels), free(pred);
    sl_cnn_ws_free(ws);
    sl_task_free(task);
    sl_config_free(c);
    sl_cnn_run_free(&r);
    return st;
}

/* ------------------------------------- `activity`: one analysis for every run */

sl_status sl_run_activity(sl_analysis_ctx *ctx); /* activity.c: a rate network's */

int sl_activity_applies(const sl_analysis_ctx *ctx)
{
    return ctx->model != NULL || sl_cnn_run_applies(ctx);
}

sl_status sl_run_activity_any(sl_analysis_ctx *ctx)
{
    return sl_cnn_run_applies(ctx) ? sl_run_cnn_activity(ctx) : sl_run_activity(ctx);
}
