/* tuning.c — preferred stimuli of a CNN unit by gradient ascent on the
 * input (the seed's tuning analysis, seeds/002 get_syn_image):
 *
 *   p ~ U(0,1)^(B×C×H×W),  x = (p − mean)/std
 *   a_b = A_layer(x_b)[unit]   (conv: the channel's mean over H×W, or one location)
 *   L(p) = −(1/B) Σ_b a_b² + λ · (1/(B·C·H·W)) Σ x²
 *   ∂L/∂x = backward of dA (dA_b = −2 a_b / B on the unit) + 2λ x/(B·C·H·W)
 *   ∂L/∂p = ∂L/∂x / std;  Adam(lr) on p, then p ← clamp(p, 0, 1)
 * for `steps` steps (defaults B = 64, 1000 steps, lr 0.01, λ = 100 as the
 * seed). The unit defaults to the one with the largest mean activity over
 * the initial batch. After the ascent: the unit's activity and the network's
 * class probabilities (softmax of the output layer) for the final images.
 *
 * Runner `tuning` (CNN runs): --layer L (index or name; default the last
 * hidden layer), --unit K, --at Y,X (conv location; default spatial mean),
 * --steps, --batch, --seed, --l2 (λ), --lr. Without --layer/--unit it also does the output
 * layer, as the seed does. RUN/analysis/tuning/: images_before.npy,
 * images_after.npy (64×C×H×W), activity_before.npy, activity_after.npy (64),
 * class_probs.npy (64×n_classes) for the chosen layer, the same with prefix
 * output_ for the output layer, and summary.json. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cnn_run.h"

/* a_b for each image from the layer's output A (B × size) */
static void unit_activity(const sl_real *A, int B, const int shp[3], int nd, int unit, int ay,
                          int ax, double *a)
{
    const size_t size = (size_t)shp[0] * shp[1] * shp[2], HW = (size_t)shp[1] * shp[2];
    for (int b = 0; b < B; b++) {
        const sl_real *r = A + (size_t)b * size;
        if (nd == 1)
            a[b] = r[unit];
        else if (ay >= 0)
            a[b] = r[(size_t)unit * HW + (size_t)ay * shp[2] + ax];
        else {
            double s = 0;
            for (size_t k = 0; k < HW; k++) s += r[(size_t)unit * HW + k];
            a[b] = s / (double)HW;
        }
    }
}

sl_status sl_cnn_preferred_stimuli(sl_cnn *m, const sl_tuning_spec *sp, sl_tuning_result *out)
{
    const int L = sl_cnn_num_layers(m);
    if (sp->layer < 0 || sp->layer >= L)
        return sl_fail(SL_EINVAL, "tuning: layer %d not in 0..%d", sp->layer, L - 1);
    int shp[3], in[3];
    const int nd = sl_cnn_layer_shape(m, sp->layer, shp);
    sl_cnn_input_shape(m, in);
    const int n_units = shp[0]; /* dense: units; conv: channels */
    if (sp->unit >= n_units)
        return sl_fail(SL_EINVAL, "tuning: unit %d but layer %s has %d %s", sp->unit,
                       sl_cnn_layer_name(m, sp->layer), n_units, nd == 1 ? "units" : "channels");
    if (nd == 3 && sp->at_y >= 0 && (sp->at_y >= shp[1] || sp->at_x < 0 || sp->at_x >= shp[2]))
        return sl_fail(SL_EINVAL, "tuning: location %d,%d outside the %d×%d maps of %s", sp->at_y,
                       sp->at_x, shp[1], shp[2], sl_cnn_layer_name(m, sp->layer));
    if (!(sp->std > 0)) return sl_fail(SL_EINVAL, "tuning: normalisation std must be > 0");
    const int B = sp->batch > 0 ? sp->batch : 64, steps = sp->steps > 0 ? sp->steps : 1000;
    const double lr = sp->lr > 0 ? sp->lr : 0.01, l2 = sp->l2 >= 0 ? sp->l2 : 100;
    const int ay = nd == 3 ? sp->at_y : -1, ax = sp->at_x;
    const size_t P = (size_t)in[0] * in[1] * in[2], n = (size_t)B * P;
    const size_t size = (size_t)shp[0] * shp[1] * shp[2], HW = (size_t)shp[1] * shp[2];
    const int K = sl_cnn_num_outputs(m);
    sl_cnn_ws *ws = NULL;
    sl_adam *adam = NULL;
    sl_real *p = malloc(n * sizeof(sl_real)), *x = malloc(n * sizeof(sl_real));
    sl_real *g = malloc(n * sizeof(sl_real)), *dA = malloc((size_t)B * size * sizeof(sl_real));
    double *a = malloc((size_t)B * sizeof(double));
    sl_adam_spec as = {.lr = lr, .schedule = SL_LR_CONSTANT, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    sl_status st = p && x && g && dA && a ? SL_OK : sl_fail(SL_ENOMEM, "out of memory");
    if (!st) st = sl_cnn_ws_create(m, B, &ws);
    if (!st) st = sl_adam_create(&as, n, &adam);
    if (st) goto done;
    sl_rng rng;
    sl_rng_seed(&rng, sp->seed);
    for (size_t i = 0; i < n; i++) p[i] = (sl_real)sl_rng_uniform(&rng);
    memcpy(out->images_before, p, n * sizeof(sl_real));
    int unit = sp->unit;
    const double inv_std = 1.0 / sp->std;
    for (int it = 0; it <= steps; it++) {
        for (size_t i = 0; i < n; i++) x[i] = (sl_real)((p[i] - sp->mean) * inv_std);
        if ((st = sl_cnn_forward(m, ws, x, B, NULL))) goto done;
        const sl_real *A = sl_cnn_activation(ws, sp->layer);
        if (unit < 0) { /* the largest mean activity over the initial batch */
            double best = -INFINITY;
            for (int u = 0; u < n_units; u++) {
                unit_activity(A, B, shp, nd, u, ay, ax, a);
                double s = 0;
                for (int b = 0; b < B; b++) s += a[b];
                if (s > best) best = s, unit = u;
            }
        }
        unit_activity(A, B, shp, nd, unit, ay, ax, a);
        double loss = 0, reg = 0;
        for (int b = 0; b < B; b++) loss -= a[b] * a[b] / B;
        for (size_t i = 0; i < n; i++) reg += (double)x[i] * x[i];
        loss += l2 * reg / (double)n;
        if (!isfinite(loss)) {
            st = sl_fail(SL_ENUMERIC, "tuning: the objective is not finite at step %d", it);
            goto done;
        }
        if (it == 0) {
            out->loss_first = loss;
            memcpy(out->act_before, a, (size_t)B * sizeof(double));
        }
        if (it == steps) { /* the final images: activity and class outputs */
            out->loss_last = loss;
            memcpy(out->act_after, a, (size_t)B * sizeof(double));
            const sl_real *z = sl_cnn_activation(ws, L - 1);
            for (int b = 0; b < B; b++) {
                double mx = z[(size_t)b * K], se = 0;
                for (int k = 1; k < K; k++) mx = fmax(mx, z[(size_t)b * K + k]);
                for (int k = 0; k < K; k++) se += exp(z[(size_t)b * K + k] - mx);
                for (int k = 0; k < K; k++)
                    out->class_probs[(size_t)b * K + k] = exp(z[(size_t)b * K + k] - mx) / se;
            }
            break;
        }
        memset(dA, 0, (size_t)B * size * sizeof(sl_real));
        for (int b = 0; b < B; b++) {
            const double d = -2.0 * a[b] / B;
            sl_real *r = dA + (size_t)b * size;
            if (nd == 1)
                r[unit] = (sl_real)d;
            else if (ay >= 0)
                r[(size_t)unit * HW + (size_t)ay * shp[2] + ax] = (sl_real)d;
            else
                for (size_t k = 0; k < HW; k++) r[(size_t)unit * HW + k] = (sl_real)(d / (double)HW);
        }
        if ((st = sl_cnn_backward(m, ws, sp->layer, dA, g, 0))) goto done;
        for (size_t i = 0; i < n; i++)
            g[i] = (sl_real)((g[i] + 2.0 * l2 * x[i] / (double)n) * inv_std);
        sl_adam_step(adam, p, g);
        for (size_t i = 0; i < n; i++) p[i] = p[i] < 0 ? 0 : p[i] > 1 ? 1 : p[i];
    }
    memcpy(out->images_after, p, n * sizeof(sl_real));
    out->unit = unit;
done:
    free(p), free(x), free(g), free(dA), free(a);
    sl_adam_free(adam);
    sl_cnn_ws_free(ws);
    return st;
}

/* ----------------------------------------------------------------- runner */

static sl_status parse_layer(const sl_cnn *m, const char *v, int *layer)
{
    const int L = sl_cnn_num_layers(m);
    for (int i = 0; i < L; i++)
        if (!strcmp(v, sl_cnn_layer_name(m, i))) return *layer = i, SL_OK;
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < 0 || x >= L)
        return sl_fail(SL_EINVAL, "tuning: --layer '%s' is neither a layer name nor an index 0..%d",
                       v, L - 1);
    *layer = (int)x;
    return SL_OK;
}

/* --at Y,X: two non-negative integers (checked against the layer's maps later) */
static sl_status parse_at(const char *v, int *y, int *x)
{
    char *e1, *e2 = NULL;
    const long a = strtol(v, &e1, 10), b = *e1 == ',' ? strtol(e1 + 1, &e2, 10) : -1;
    if (e1 == v || !e2 || e2 == e1 + 1 || *e2 || a < 0 || b < 0 || a > 100000 || b > 100000)
        return sl_fail(SL_EINVAL, "--at: expected Y,X (a location in the layer's maps), got '%s'", v);
    *y = (int)a, *x = (int)b;
    return SL_OK;
}

static sl_status one(sl_analysis_ctx *ctx, sl_cnn_run *r, sl_tuning_spec *sp, const char *prefix,
                     cJSON *arr, cJSON *files)
{
    const int B = sp->batch, K = sl_cnn_num_outputs(r->cnn);
    const size_t n = (size_t)B * r->in[0] * r->in[1] * r->in[2];
    sl_tuning_result res = {0};
    res.images_before = malloc(n * sizeof(sl_real));
    res.images_after = malloc(n * sizeof(sl_real));
    res.act_before = malloc((size_t)B * sizeof(double));
    res.act_after = malloc((size_t)B * sizeof(double));
    res.class_probs = malloc((size_t)B * K * sizeof(double));
    sl_status st = res.images_before && res.images_after && res.act_before && res.act_after &&
                           res.class_probs
                       ? SL_OK
                       : sl_fail(SL_ENOMEM, "out of memory");
    if (!st) st = sl_cnn_preferred_stimuli(r->cnn, sp, &res);
    int64_t si[4] = {B, r->in[0], r->in[1], r->in[2]}, sa[1] = {B}, sc[2] = {B, K};
    struct {
        const char *name, *what;
        int nd;
        const int64_t *shape;
        const sl_real *rv; /* float32 images, or */
        const double *dv;  /* float64 statistics */
    } outs[] = {
        {"images_before.npy", "batch x C x H x W initial images (pixels in [0,1]), float32", 4, si,
         res.images_before, NULL},
        {"images_after.npy", "batch x C x H x W optimised images (preferred stimuli), float32", 4,
         si, res.images_after, NULL},
        {"activity_before.npy", "batch: the unit's activity for the initial images, float64", 1, sa,
         NULL, res.act_before},
        {"activity_after.npy", "batch: the unit's activity for the optimised images, float64", 1, sa,
         NULL, res.act_after},
        {"class_probs.npy", "batch x classes: softmax of the network's output for the optimised "
                            "images, float64", 2, sc, NULL, res.class_probs},
    };
    for (size_t k = 0; !st && k < sizeof outs / sizeof *outs; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s%s", prefix, outs[k].name);
        st = outs[k].rv ? sl_an_write_f32(ctx->out_dir, name, outs[k].nd, outs[k].shape, outs[k].rv)
                        : sl_an_write_f64(ctx->out_dir, name, outs[k].nd, outs[k].shape, outs[k].dv);
        cJSON_AddStringToObject(files, name, outs[k].what);
    }
    if (!st) {
        double mb = 0, ma = 0, cls[64] = {0};
        for (int b = 0; b < B; b++) {
            mb += res.act_before[b] / B, ma += res.act_after[b] / B;
            int best = 0;
            for (int k = 1; k < K; k++)
                if (res.class_probs[(size_t)b * K + k] > res.class_probs[(size_t)b * K + best]) best = k;
            if (best < 64) cls[best] += 1;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "layer", sp->layer);
        cJSON_AddStringToObject(o, "layer_name", sl_cnn_layer_name(r->cnn, sp->layer));
        cJSON_AddNumberToObject(o, "unit", res.unit);
        if (sp->at_y >= 0) {
            int at[2] = {sp->at_y, sp->at_x};
            cJSON_AddItemToObject(o, "at", cJSON_CreateIntArray(at, 2));
        }
        cJSON_AddStringToObject(o, "files_prefix", prefix);
        cJSON_AddNumberToObject(o, "mean_activity_before", mb);
        cJSON_AddNumberToObject(o, "mean_activity_after", ma);
        cJSON_AddNumberToObject(o, "loss_first", res.loss_first);
        cJSON_AddNumberToObject(o, "loss_last", res.loss_last);
        cJSON_AddItemToObject(o, "predicted_class_counts", cJSON_CreateDoubleArray(cls, K < 64 ? K : 64));
        cJSON_AddItemToArray(arr, o);
    }
    free(res.images_before), free(res.images_after), free(res.act_before), free(res.act_after);
    free(res.class_probs);
    return st;
}

sl_status sl_run_tuning(sl_analysis_ctx *ctx)
{
    sl_cnn_run r;
    sl_status st = sl_cnn_run_load(ctx, &r);
    if (st) return st;
    const int L = sl_cnn_num_layers(r.cnn);
    sl_tuning_spec sp = {.layer = L - 2, .unit = -1, .at_y = -1, .at_x = -1, .batch = 64,
                         .steps = 1000, .lr = 0.01, .l2 = 100, .mean = r.mean, .std = r.std};
    const char *v;
    int given = 0;
    long unit, steps, batch, seed;
    if ((v = sl_analysis_opt(ctx, "layer"))) given = 1, st = parse_layer(r.cnn, v, &sp.layer);
    if (!st) st = sl_an_opt_int(ctx, "unit", -1, 0, 1000000000, &unit);
    if (!st && (v = sl_analysis_opt(ctx, "at"))) st = parse_at(v, &sp.at_y, &sp.at_x);
    if (!st) st = sl_an_opt_int(ctx, "steps", 1000, 1, 100000000, &steps);
    if (!st) st = sl_an_opt_int(ctx, "batch", 64, 1, 100000, &batch);
    if (!st) st = sl_an_opt_int(ctx, "seed", 0, 0, LONG_MAX, &seed);
    if (!st) st = sl_an_opt_real(ctx, "l2", 100, &sp.l2);
    if (!st) st = sl_an_opt_real(ctx, "lr", 0.01, &sp.lr);
    if (!st && !(sp.l2 >= 0)) st = sl_fail(SL_EINVAL, "--l2: must be >= 0, got %g", sp.l2);
    if (!st && !(sp.lr > 0)) st = sl_fail(SL_EINVAL, "--lr: must be > 0, got %g", sp.lr);
    if (!st) {
        if (unit >= 0) given = 1, sp.unit = (int)unit;
        sp.steps = (int)steps, sp.batch = (int)batch, sp.seed = (uint64_t)seed;
    }
    if (L < 2 && !given) sp.layer = 0;
    cJSON *sum = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(sum, "units");
    cJSON *files = cJSON_CreateObject();
    if (!st) st = one(ctx, &r, &sp, "", arr, files);
    if (!st && !given && sp.layer != L - 1) { /* the seed also tunes an output unit */
        sl_tuning_spec o = sp;
        o.layer = L - 1, o.unit = -1;
        st = one(ctx, &r, &o, "output_", arr, files);
    }
    cJSON_AddNumberToObject(sum, "batch", sp.batch);
    cJSON_AddNumberToObject(sum, "steps", sp.steps);
    cJSON_AddNumberToObject(sum, "lr", sp.lr);
    cJSON_AddNumberToObject(sum, "l2", sp.l2);
    cJSON_AddNumberToObject(sum, "seed", (double)sp.seed);
    cJSON_AddNumberToObject(sum, "norm_mean", r.mean);
    cJSON_AddNumberToObject(sum, "norm_std", r.std);
    cJSON_AddItemToObject(sum, "files", files);
    if (!st) st = sl_an_write_json(ctx->out_dir, "summary.json", sum);
    cJSON_Delete(sum);
    sl_cnn_run_free(&r);
    return st;
}
