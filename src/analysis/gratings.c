/* gratings.c — a CNN trained on orientation discrimination (task gratings)
 * probed with gratings, as in the deep-learning day's tutorial 3 (seeds/003):
 *
 * Psychometric curve: for each signed tilt θ in
 *   ±{1, 2, 4, 8, 16, 32, 45}° (−45 … 45),
 * --trials (default 200) gratings with the training's frequency, contrast,
 * aperture and noise and random phase; p_cw(θ) = fraction classified
 * clockwise (class 1), accuracy(θ) = p_cw for θ > 0, 1 − p_cw for θ < 0.
 *
 * Representational geometry: 18 orientations θ_k = −90° + 10°k (k = 0..17;
 * orientation is 180°-periodic), each shown as noiseless gratings at 8
 * phases; a_k = the layer's activations to the 8 phases one after the other
 * (8 × units; an average over phases would cancel in a linear layer such as
 * the first convolution, leaving every orientation the same pattern). Per
 * layer the RDM
 *   D_kl = 1 − Pearson(a_k, a_l)            (rsa.c's sl_rdm, correlation)
 * and its ring-likeness (sl_rdm_compare, Pearson): the Pearson r between the
 * RDM's upper triangle and the circular orientation distance
 * min(|θ_k − θ_l|, 180° − |θ_k − θ_l|)
 * (ring_r), beside the r with the linear distance |θ_k − θ_l| (line_r) and
 * with the tilt-sign split [sign θ_k ≠ sign θ_l] (category_r: the task's two
 * classes).
 *
 * Runner `gratings` (CNN runs on task gratings): RUN/analysis/gratings/
 *   psychometric.npy   tilts × 3 (tilt°, p_cw, accuracy), float64
 *   psychometric.json  the same as JSON
 *   rdm_layer_<i>.npy  18 × 18 RDM of layer i, float64
 *   orientations.npy   the 18 orientations (degrees)
 *   summary.json       per layer ring_r, line_r, category_r; mean accuracy */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cnn_run.h"

enum { N_ORI = 18, N_PHASE = 8 };
static const double TILTS[] = {-45, -32, -16, -8, -4, -2, -1, 1, 2, 4, 8, 16, 32, 45};
#define N_TILTS (int)(sizeof TILTS / sizeof TILTS[0])

int sl_gratings_applies(const sl_analysis_ctx *ctx)
{
    return sl_cnn_run_applies(ctx) && !strcmp(sl_config_str(ctx->config, "task.name"), "gratings");
}

/* images (pixels) → normalised inputs in x */
static void normalise(const float *img, size_t n, double mean, double std, sl_real *x)
{
    for (size_t i = 0; i < n; i++) x[i] = (sl_real)((img[i] - mean) / std);
}

sl_status sl_run_gratings(sl_analysis_ctx *ctx)
{
    long trials;
    sl_status st = sl_an_opt_int(ctx, "trials", 200, 1, 100000, &trials);
    if (st) return st;
    sl_cnn_run r;
    if ((st = sl_cnn_run_load(ctx, &r))) return st;
    const sl_config *c = ctx->config;
    const int S = (int)sl_config_int(c, "task.grating_size");
    if (r.in[0] != 1 || r.in[1] != S || r.in[2] != S) {
        sl_cnn_run_free(&r);
        return sl_fail(SL_EINVAL, "gratings: the network takes %d×%d×%d images, the gratings are 1×%d×%d",
                       r.in[0], r.in[1], r.in[2], S, S);
    }
    const int P = S * S, L = sl_cnn_num_layers(r.cnn), K = sl_cnn_num_outputs(r.cnn);
    const int B = trials > N_ORI * N_PHASE ? (int)trials : N_ORI * N_PHASE;
    sl_grating_spec g = {0, sl_config_real(c, "task.grating_sf"), 0,
                         sl_config_real(c, "task.grating_contrast"),
                         sl_config_real(c, "task.grating_sigma"),
                         sl_config_real(c, "task.grating_noise")};
    float *img = malloc((size_t)B * P * sizeof(float));
    sl_real *x = malloc((size_t)B * P * sizeof(sl_real));
    double psy[N_TILTS][3], *pattern = NULL, *rdm = malloc(N_ORI * N_ORI * sizeof(double));
    sl_cnn_ws *ws = NULL;
    if (!img || !x || !rdm) st = sl_fail(SL_ENOMEM, "out of memory");
    if (!st) st = sl_cnn_ws_create(r.cnn, B, &ws);
    sl_rng rng;
    sl_rng_seed(&rng, 1234);
    double acc_mean = 0;
    for (int t = 0; !st && t < N_TILTS; t++) {
        g.tilt_deg = TILTS[t];
        for (int i = 0; i < trials; i++) {
            g.phase = 2 * M_PI * sl_rng_uniform(&rng);
            sl_grating(img + (size_t)i * P, S, &g, &rng);
        }
        normalise(img, (size_t)trials * P, r.mean, r.std, x);
        if ((st = sl_cnn_forward(r.cnn, ws, x, (int)trials, NULL))) break;
        const sl_real *z = sl_cnn_activation(ws, L - 1);
        int cw = 0;
        for (int i = 0; i < trials; i++) {
            int best = 0;
            for (int k = 1; k < K; k++)
                if (z[(size_t)i * K + k] > z[(size_t)i * K + best]) best = k;
            cw += best == 1;
        }
        psy[t][0] = TILTS[t];
        psy[t][1] = (double)cw / trials;
        psy[t][2] = TILTS[t] > 0 ? psy[t][1] : 1 - psy[t][1];
        acc_mean += psy[t][2] / N_TILTS;
    }
    /* the orientation set: noiseless, 8 phases each */
    double ori[N_ORI];
    g.noise = 0;
    for (int k = 0; !st && k < N_ORI; k++) {
        ori[k] = -90 + 10.0 * k;
        g.tilt_deg = ori[k];
        for (int ph = 0; ph < N_PHASE; ph++) {
            g.phase = 2 * M_PI * ph / N_PHASE;
            sl_grating(img + (size_t)(k * N_PHASE + ph) * P, S, &g, NULL);
        }
    }
    if (!st) {
        normalise(img, (size_t)N_ORI * N_PHASE * P, r.mean, r.std, x);
        st = sl_cnn_forward(r.cnn, ws, x, N_ORI * N_PHASE, NULL);
    }
    cJSON *sum = cJSON_CreateObject(), *layers = cJSON_AddArrayToObject(sum, "layers");
    cJSON *files = cJSON_CreateObject();
    /* model RDMs: distances between orientations */
    double circ[N_ORI * N_ORI], lin[N_ORI * N_ORI], cat[N_ORI * N_ORI];
    for (int k = 0; k < N_ORI; k++)
        for (int l = 0; l < N_ORI; l++) {
            const double d = fabs(ori[k] - ori[l]);
            circ[k * N_ORI + l] = fmin(d, 180 - d), lin[k * N_ORI + l] = d;
            cat[k * N_ORI + l] = (ori[k] > 0) != (ori[l] > 0);
        }
    for (int i = 0; !st && i < L; i++) {
        int shp[3];
        sl_cnn_layer_shape(r.cnn, i, shp);
        const size_t F = (size_t)shp[0] * shp[1] * shp[2];
        const sl_real *A = sl_cnn_activation(ws, i);
        /* orientation k's pattern: its 8 phases' activations one after the other */
        const size_t V = (size_t)N_PHASE * F;
        double *m = realloc(pattern, N_ORI * V * sizeof(double));
        if (!m) {
            st = sl_fail(SL_ENOMEM, "out of memory");
            break;
        }
        pattern = m;
        for (size_t e = 0; e < N_ORI * V; e++) pattern[e] = A[e];
        if ((st = sl_rdm(pattern, N_ORI, (int)V, SL_RDM_CORRELATION, rdm))) break;
        char name[96];
        snprintf(name, sizeof name, "rdm_layer_%d.npy", i);
        const int64_t sr[2] = {N_ORI, N_ORI};
        st = sl_an_write_f64(ctx->out_dir, name, 2, sr, rdm);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", i);
        cJSON_AddStringToObject(o, "name", sl_cnn_layer_name(r.cnn, i));
        const double rr = sl_rdm_compare(rdm, circ, N_ORI, SL_RDM_PEARSON),
                     lr = sl_rdm_compare(rdm, lin, N_ORI, SL_RDM_PEARSON),
                     cr = sl_rdm_compare(rdm, cat, N_ORI, SL_RDM_PEARSON);
        if (isfinite(rr)) cJSON_AddNumberToObject(o, "ring_r", rr);
        if (isfinite(lr)) cJSON_AddNumberToObject(o, "line_r", lr);
        if (isfinite(cr)) cJSON_AddNumberToObject(o, "category_r", cr);
        cJSON_AddItemToArray(layers, o);
        cJSON_AddStringToObject(files, name, "18 x 18 RDM (1 - Pearson) over orientations, float64");
    }
    if (!st) {
        const int64_t sp[2] = {N_TILTS, 3}, so[1] = {N_ORI};
        st = sl_an_write_f64(ctx->out_dir, "psychometric.npy", 2, sp, &psy[0][0]);
        if (!st) st = sl_an_write_f64(ctx->out_dir, "orientations.npy", 1, so, ori);
        cJSON *pj = cJSON_CreateArray();
        for (int t = 0; t < N_TILTS; t++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "tilt", psy[t][0]);
            cJSON_AddNumberToObject(e, "p_clockwise", psy[t][1]);
            cJSON_AddNumberToObject(e, "accuracy", psy[t][2]);
            cJSON_AddItemToArray(pj, e);
        }
        if (!st) st = sl_an_write_json(ctx->out_dir, "psychometric.json", pj);
        cJSON_AddItemToObject(sum, "psychometric", pj);
        cJSON_AddStringToObject(files, "psychometric.npy", "tilts x 3: tilt (deg), p_clockwise, accuracy");
        cJSON_AddStringToObject(files, "psychometric.json", "the psychometric curve as JSON");
        cJSON_AddStringToObject(files, "orientations.npy", "the 18 RDM orientations (deg)");
        cJSON_AddNumberToObject(sum, "mean_accuracy", acc_mean);
        cJSON_AddNumberToObject(sum, "trials_per_tilt", trials);
    }
    cJSON_AddItemToObject(sum, "files", files);
    if (!st) st = sl_an_write_json(ctx->out_dir, "summary.json", sum);
    cJSON_Delete(sum);
    free(img), free(x), free(rdm), free(pattern);
    sl_cnn_ws_free(ws);
    sl_cnn_run_free(&r);
    return st;
}
