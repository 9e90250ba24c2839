/* test_ref_cnn.c — the CNN model (src/nn/cnn.c) against PyTorch golden
 * tensors (tests/ref/gen_cnn.py: whole networks in float64).
 *
 * Each case under tests/golden/cnn (or $SILICO_GOLDEN_DIR/cnn) gives a
 * model.layers text, the parameters (PyTorch's default init), a batch and
 * its labels. The C model is built from the same text, loaded with those
 * parameters and run in sl_real (float32): every layer's output, the mean
 * cross-entropy, every parameter's gradient and dL/dx must match with
 *     rel = max|c − ref| / max(max|ref|, 1e-6) ≤ 1e-4.
 * Cases: the seed network (conv–ReLU–maxpool ×2, three linear layers); a
 * strided conv with tanh, avg-pool, sigmoid and softplus; overlapping padded
 * max-pool, padded avg-pool and an implicit flatten. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cnn.h"
#include "silico.h"
#include "testutil.h"

#define RC_TOL 1e-4

static double *rc_load(const char *dir, const char *stem, size_t n_expect)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.npy", dir, stem);
    size_t n;
    double *out = tu_npy_doubles(path, &n, TU_DT(SL_F64) | TU_DT(SL_I64));
    cr_assert_not_null(out, "%s", sl_last_error());
    if (n_expect) cr_assert_eq(n, n_expect, "%s has %zu values, expected %zu", path, n, n_expect);
    return out;
}

static int rc_check(const char *label, const char *dir, const char *stem, const sl_real *got, size_t n)
{
    double *ref = rc_load(dir, stem, n);
    int bad = tu_golden_rel(label, stem, got, ref, n, RC_TOL) > RC_TOL;
    free(ref);
    return bad;
}

static int run_case(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text, "cannot read %s", path);
    cJSON *cfg = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(cfg);
    const char *layers = cJSON_GetObjectItem(cfg, "layers")->valuestring;
    const int C = cJSON_GetObjectItem(cfg, "C")->valueint, H = cJSON_GetObjectItem(cfg, "H")->valueint;
    const int W = cJSON_GetObjectItem(cfg, "W")->valueint, B = cJSON_GetObjectItem(cfg, "B")->valueint;
    sl_cnn *m;
    cr_assert_eq(sl_cnn_create(layers, C, H, W, NULL, &m), SL_OK, "%s: %s", name, sl_last_error());
    char label[300];
    snprintf(label, sizeof label, "cnn/%s", name);
    for (int i = 0; i < m->n_tensors; i++) {
        char stem[64];
        snprintf(stem, sizeof stem, "%s", m->T[i].name);
        *strchr(stem, '.') = '_';
        double *p = rc_load(dir, stem, m->T[i].numel);
        for (size_t k = 0; k < m->T[i].numel; k++) m->params[m->T[i].offset + k] = (sl_real)p[k];
        free(p);
    }
    const size_t nx = (size_t)B * C * H * W;
    double *xd = rc_load(dir, "x", nx), *ld = rc_load(dir, "labels", (size_t)B);
    sl_real *x = malloc(nx * sizeof(sl_real)), *dx = malloc(nx * sizeof(sl_real));
    int *labels = malloc((size_t)B * sizeof(int));
    for (size_t i = 0; i < nx; i++) x[i] = (sl_real)xd[i];
    for (int b = 0; b < B; b++) labels[b] = (int)ld[b];
    sl_cnn_ws *ws;
    cr_assert_eq(sl_cnn_ws_create(m, B, &ws), SL_OK);
    sl_cnn_zero_grad(m);
    double loss;
    cr_assert_eq(sl_cnn_loss(m, ws, x, labels, B, 1, &loss, NULL), SL_OK, "%s", sl_last_error());
    int bad = 0;
    for (int i = 0; i < m->n_layers; i++) {
        char stem[32];
        snprintf(stem, sizeof stem, "act_%d", i);
        bad += rc_check(label, dir, stem, sl_cnn_activation(ws, i), sl_cnn_layer_size(&m->L[i]) * B);
    }
    sl_real lr = (sl_real)loss;
    bad += rc_check(label, dir, "loss", &lr, 1);
    for (int i = 0; i < m->n_tensors; i++) {
        char stem[64];
        snprintf(stem, sizeof stem, "grad_%s", m->T[i].name);
        *strchr(stem, '.') = '_';
        bad += rc_check(label, dir, stem, m->grads + m->T[i].offset, m->T[i].numel);
    }
    /* dL/dx: the same backward from the logits' gradient, into dX */
    const int K = sl_cnn_num_outputs(m);
    sl_real *dz = malloc((size_t)B * K * sizeof(sl_real));
    cr_assert_eq(sl_softmax_xent(B, K, sl_cnn_activation(ws, m->n_layers - 1), labels, &loss, dz, NULL),
                 SL_OK);
    cr_assert_eq(sl_cnn_backward(m, ws, m->n_layers - 1, dz, dx, 0), SL_OK);
    bad += rc_check(label, dir, "dx", dx, nx);
    free(dz), free(xd), free(ld), free(x), free(dx), free(labels);
    sl_cnn_ws_free(ws);
    sl_cnn_free(m);
    cJSON_Delete(cfg);
    return bad;
}

Test(ref_cnn, golden_cases, .timeout = 120)
{
    const char *root = getenv("SILICO_GOLDEN_DIR");
    if (!root || !*root) root = "tests/golden";
    char dir[512];
    snprintf(dir, sizeof dir, "%.500s/cnn", root);
    DIR *dp = opendir(dir);
    cr_assert_not_null(dp, "cannot open %s (run from the repository root, or set SILICO_GOLDEN_DIR)", dir);
    struct dirent *e;
    int n = 0, bad = 0;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        char sub[1100];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        bad += run_case(sub, e->d_name);
        n++;
    }
    closedir(dp);
    cr_assert_geq(n, 3, "expected at least 3 cases in %s", dir);
    cr_assert_eq(bad, 0, "%d tensors differ from PyTorch (see stderr)", bad);
}
