/* rsa_it.c — RSA between each layer of a trained CNN and the monkey IT RDM
 * of Kriegeskorte et al. 2008 (the "92 images"; 674 IT neurons of Kiani et
 * al. 2007), with human IT (fMRI) beside it:
 *
 *   image → grey g = 0.299 R + 0.587 G + 0.114 B (ITU-R 601, PIL's "L"), /255
 *         → area-resized to the network's H×W: out(y, x) = mean of g over
 *           the input square [y·s, (y+1)·s) × [x·s, (x+1)·s), s = 175/H,
 *           partial pixels weighted by their overlap (OpenCV's INTER_AREA)
 *         → normalised as in training, (g − mean)/std
 *   per layer: RDM_ij = 1 − Pearson(a_i, a_j) over the layer's units
 *   r = Spearman(RDM, IT RDM) on the upper triangles (sl_rdm_compare), and a
 *   permutation p = (1 + #{perm: r_perm ≥ r})/(1 + n_perm), relabelling
 *   the images (sl_rdm_permutation_p).
 *
 * A 28×28 grey network trained on clothing is a weak model of IT: this is a
 * demonstration of the RSA tools on real data; the numbers are what they are.
 * The images may not be redistributed: they are read from the data folder
 * at run time and never written out.
 *
 * Runner `rsa_it` (CNN runs with one input channel): --data FILE (default
 * ../shared/data/kriegeskorte2008_92images_rsa/Kriegeskorte_Neuron2008_
 * supplementalData.mat relative to the working directory), --perms N (1000).
 * RUN/analysis/rsa_it/: rdm_layer_<i>.npy (92×92 float64), it_rdm.npy
 * (monkey IT), hit_rdm.npy (human IT), categories.json, summary.json. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cnn_run.h"

#define N_IMG 92
#define DATA_NAME "kriegeskorte2008_92images_rsa/Kriegeskorte_Neuron2008_supplementalData.mat"

/* overlap weights of an area resize from n to m samples: w (m×n), rows sum 1 */
static void area_weights(int n, int m, double *w)
{
    const double s = (double)n / m;
    for (int o = 0; o < m; o++)
        for (int i = 0; i < n; i++) {
            const double lo = fmax(o * s, i), hi = fmin((o + 1) * s, i + 1.0);
            w[o * n + i] = hi > lo ? (hi - lo) / s : 0;
        }
}

static sl_status load_image(const char *file, int idx, int H, int W, double mean, double std,
                            sl_real *out)
{
    char spec[4200];
    snprintf(spec, sizeof spec, "%s:stimuli_92objs(%d).image", file, idx + 1);
    double *d = NULL;
    int nd;
    int64_t sh[8];
    sl_status st = sl_read_array(spec, &d, &nd, sh);
    if (st) return st;
    if (nd != 3 || sh[2] != 3) {
        free(d);
        return sl_fail(SL_EFORMAT, "%s: image %d is not rows×columns×3", file, idx + 1);
    }
    const int R = (int)sh[0], C = (int)sh[1];
    double *g = malloc((size_t)R * C * sizeof(double)), *wy = malloc((size_t)H * R * sizeof(double));
    double *wx = malloc((size_t)W * C * sizeof(double)), *tmp = malloc((size_t)H * C * sizeof(double));
    if (!g || !wy || !wx || !tmp) st = sl_fail(SL_ENOMEM, "out of memory");
    if (!st) {
        for (size_t p = 0; p < (size_t)R * C; p++)
            g[p] = (0.299 * d[p * 3] + 0.587 * d[p * 3 + 1] + 0.114 * d[p * 3 + 2]) / 255.0;
        area_weights(R, H, wy);
        area_weights(C, W, wx);
        for (int y = 0; y < H; y++)
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int r = 0; r < R; r++) s += wy[y * R + r] * g[(size_t)r * C + c];
                tmp[y * C + c] = s;
            }
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double s = 0;
                for (int c = 0; c < C; c++) s += wx[x * C + c] * tmp[y * C + c];
                out[y * W + x] = (sl_real)((s - mean) / std);
            }
    }
    free(d), free(g), free(wy), free(wx), free(tmp);
    return st;
}

static sl_status load_rdm(const char *file, int which, double **rdm)
{
    char spec[4200];
    snprintf(spec, sizeof spec, "%s:RDMs_mIT_hIT_fig1(%d).RDM", file, which);
    double *v = NULL;
    int nd, n;
    int64_t sh[8];
    sl_status st = sl_read_array(spec, &v, &nd, sh);
    if (st) return st;
    long m = 1;
    for (int k = 0; k < nd; k++) m *= (long)sh[k];
    st = sl_rdm_from_condensed(v, m, rdm, &n);
    free(v);
    if (!st && n != N_IMG) {
        free(*rdm);
        *rdm = NULL;
        st = sl_fail(SL_EFORMAT, "%s: RDM %d is %d×%d, expected %d×%d", file, which, n, n, N_IMG, N_IMG);
    }
    return st;
}

static sl_status write_rdm(const char *dir, const char *name, const double *a)
{
    const int64_t shape[2] = {N_IMG, N_IMG};
    return sl_an_write_f64(dir, name, 2, shape, a);
}

sl_status sl_run_rsa_it(sl_analysis_ctx *ctx)
{
    const char *file = sl_analysis_opt(ctx, "data");
    if (!file) {
        FILE *f = fopen("../shared/data/" DATA_NAME, "rb");
        if (f) fclose(f), file = "../shared/data/" DATA_NAME;
    }
    if (!file)
        return sl_fail(SL_EIO, "rsa_it: the Kriegeskorte 2008 data is not at ../shared/data/%s "
                               "(give --data FILE.mat)", DATA_NAME);
    long perms;
    sl_status st = sl_an_opt_int(ctx, "perms", 1000, 1, 100000000, &perms);
    if (st) return st;
    sl_cnn_run r;
    if ((st = sl_cnn_run_load(ctx, &r))) return st;
    if (r.in[0] != 1) {
        sl_cnn_run_free(&r);
        return sl_fail(SL_EINVAL, "rsa_it: the network takes %d channels; the images are made grey (1)",
                       r.in[0]);
    }
    const int H = r.in[1], W = r.in[2], L = sl_cnn_num_layers(r.cnn);
    sl_real *x = malloc((size_t)N_IMG * H * W * sizeof(sl_real));
    double *mit = NULL, *hit = NULL, *X = NULL, *rdm = malloc(N_IMG * N_IMG * sizeof(double));
    sl_cnn_ws *ws = NULL;
    if (!x || !rdm) st = sl_fail(SL_ENOMEM, "out of memory");
    for (int i = 0; !st && i < N_IMG; i++)
        st = load_image(file, i, H, W, r.mean, r.std, x + (size_t)i * H * W);
    if (!st) st = load_rdm(file, 1, &mit);
    if (!st) st = load_rdm(file, 2, &hit);
    if (!st) st = sl_cnn_ws_create(r.cnn, N_IMG, &ws);
    if (!st) st = sl_cnn_forward(r.cnn, ws, x, N_IMG, NULL);
    if (!st) st = write_rdm(ctx->out_dir, "it_rdm.npy", mit);
    if (!st) st = write_rdm(ctx->out_dir, "hit_rdm.npy", hit);
    cJSON *sum = cJSON_CreateObject(), *layers = cJSON_AddArrayToObject(sum, "layers");
    cJSON *files = cJSON_CreateObject();
    cJSON_AddStringToObject(files, "it_rdm.npy", "92 x 92 monkey IT RDM (674 neurons), float64");
    cJSON_AddStringToObject(files, "hit_rdm.npy", "92 x 92 human IT RDM (fMRI, 316 voxels), float64");
    for (int i = 0; !st && i < L; i++) {
        int shp[3];
        sl_cnn_layer_shape(r.cnn, i, shp);
        const int F = shp[0] * shp[1] * shp[2];
        double *Xi = realloc(X, (size_t)N_IMG * F * sizeof(double));
        if (!Xi) {
            st = sl_fail(SL_ENOMEM, "out of memory");
            break;
        }
        X = Xi;
        const sl_real *A = sl_cnn_activation(ws, i);
        for (size_t k = 0; k < (size_t)N_IMG * F; k++) X[k] = A[k];
        if ((st = sl_rdm(X, N_IMG, F, SL_RDM_CORRELATION, rdm))) break;
        char name[64];
        snprintf(name, sizeof name, "rdm_layer_%d.npy", i);
        if ((st = write_rdm(ctx->out_dir, name, rdm))) break;
        cJSON_AddStringToObject(files, name, "92 x 92 RDM (1 - Pearson) of this layer, float64");
        double rm, pm, rh, ph;
        if ((st = sl_rdm_permutation_p(rdm, mit, N_IMG, SL_RDM_SPEARMAN, (int)perms, 1, &rm, &pm))) break;
        if ((st = sl_rdm_permutation_p(rdm, hit, N_IMG, SL_RDM_SPEARMAN, (int)perms, 2, &rh, &ph))) break;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", i);
        cJSON_AddStringToObject(o, "name", sl_cnn_layer_name(r.cnn, i));
        if (isfinite(rm)) cJSON_AddNumberToObject(o, "spearman_monkey_it", rm);
        if (isfinite(pm)) cJSON_AddNumberToObject(o, "p_monkey_it", pm);
        if (isfinite(rh)) cJSON_AddNumberToObject(o, "spearman_human_it", rh);
        if (isfinite(ph)) cJSON_AddNumberToObject(o, "p_human_it", ph);
        cJSON_AddItemToArray(layers, o);
    }
    if (!st) {
        const double r_mh = sl_rdm_compare(mit, hit, N_IMG, SL_RDM_SPEARMAN);
        cJSON_AddNumberToObject(sum, "spearman_monkey_vs_human_it", r_mh);
        cJSON_AddNumberToObject(sum, "permutations", perms);
        cJSON_AddStringToObject(sum, "data", file);
        cJSON_AddStringToObject(sum, "preprocessing",
                                "grey 0.299R+0.587G+0.114B, area resize to the input size, the "
                                "training normalisation");
        cJSON_AddStringToObject(sum, "note",
                                "a small grey-image CNN is a weak model of IT: a demonstration of "
                                "the RSA tools on real data");
    }
    cJSON_AddItemToObject(sum, "files", files);
    if (!st) st = sl_an_write_json(ctx->out_dir, "summary.json", sum);
    cJSON_Delete(sum);
    free(x), free(mit), free(hit), free(X), free(rdm);
    sl_cnn_ws_free(ws);
    sl_cnn_run_free(&r);
    return st;
}
