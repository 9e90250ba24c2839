/* test_ref_layers.c — the feed-forward layers (src/nn/conv2d.c, pool.c,
 * linear.c, relu.c, xent.c) against PyTorch golden tensors
 * (tests/ref/gen_layers.py: torch.nn.functional in float64).
 *
 * Every case directory under tests/golden/layers (or $SILICO_GOLDEN_DIR/
 * layers, set by `make test-ref` to freshly generated files) is run through
 * the C layers in sl_real (float32) and each tensor compared with
 *     rel = max|c − ref| / max(max|ref|, 1e-6)  ≤ 1e-4
 * (tu_golden_rel; one line per tensor on stderr). Single layers use the loss
 * L = Σ G ⊙ Y, so dY = G; the max-pool argmax indices must match exactly;
 * seed_cnn is the whole seed network (conv–ReLU–pool ×2, three linear layers,
 * mean cross-entropy) forward and backward for a batch of 28×28 images. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"
#include "silico.h"
#include "testutil.h"

#define LR_TOL 1e-4
#define LR_MAX_CASES 64

typedef struct {
    char dir[1024];
    const char *name;
    int failures;
    cJSON *cfg;
} lr_ctx;

/* <stem>.npy as doubles (F64 or I64); checks the element count when n_expect */
static double *lr_load(const lr_ctx *c, const char *stem, size_t n_expect)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.npy", c->dir, stem);
    size_t n;
    double *out = tu_npy_doubles(path, &n, TU_DT(SL_F64) | TU_DT(SL_I64));
    cr_assert_not_null(out, "%s: %s", c->name, sl_last_error());
    if (n_expect) cr_assert_eq(n, n_expect, "%s: %s has %zu values, expected %zu", c->name, path, n, n_expect);
    return out;
}

static sl_real *lr_real(const lr_ctx *c, const char *stem, size_t n)
{
    double *d = lr_load(c, stem, n);
    sl_real *r = malloc(n * sizeof(sl_real));
    cr_assert_not_null(r);
    for (size_t i = 0; i < n; i++) r[i] = (sl_real)d[i];
    free(d);
    return r;
}

static sl_real *lr_zeros(size_t n)
{
    sl_real *r = calloc(n ? n : 1, sizeof(sl_real));
    cr_assert_not_null(r);
    return r;
}

static void lr_check(lr_ctx *c, const char *stem, const sl_real *got, size_t n)
{
    double *ref = lr_load(c, stem, n);
    char label[256];
    snprintf(label, sizeof label, "layers/%s", c->name);
    if (tu_golden_rel(label, stem, got, ref, n, LR_TOL) > LR_TOL) c->failures++;
    free(ref);
}

static int lr_int(const lr_ctx *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->cfg, key);
    cr_assert(cJSON_IsNumber(v), "%s: config.json lacks '%s'", c->name, key);
    return v->valueint;
}

static void run_conv(lr_ctx *c)
{
    sl_conv2d_shape s = {lr_int(c, "N"), lr_int(c, "C_in"), lr_int(c, "H"), lr_int(c, "W"),
                         lr_int(c, "C_out"), lr_int(c, "kH"), lr_int(c, "kW"), lr_int(c, "sH"),
                         lr_int(c, "sW"), lr_int(c, "pH"), lr_int(c, "pW")};
    cr_assert_eq(sl_conv2d_check(&s), SL_OK, "%s: %s", c->name, sl_last_error());
    const size_t nx = (size_t)s.N * s.C_in * s.H * s.W, nw = (size_t)s.C_out * s.C_in * s.kH * s.kW;
    const size_t ny = (size_t)s.N * s.C_out * sl_conv2d_out_h(&s) * sl_conv2d_out_w(&s);
    sl_real *X = lr_real(c, "X", nx), *W = lr_real(c, "W", nw), *b = lr_real(c, "b", s.C_out);
    sl_real *G = lr_real(c, "G", ny), *Y = lr_zeros(ny), *dX = lr_zeros(nx);
    sl_real *dW = lr_zeros(nw), *db = lr_zeros(s.C_out);
    sl_real *scratch = lr_zeros(sl_conv2d_scratch_size(&s));
    sl_conv2d_forward(&s, X, W, b, Y, scratch);
    sl_conv2d_backward(&s, X, W, G, dX, dW, db, scratch);
    lr_check(c, "Y", Y, ny);
    lr_check(c, "dX", dX, nx);
    lr_check(c, "dW", dW, nw);
    lr_check(c, "db", db, s.C_out);
    free(X), free(W), free(b), free(G), free(Y), free(dX), free(dW), free(db), free(scratch);
}

static void run_pool(lr_ctx *c, int is_max)
{
    sl_pool2d_shape s = {lr_int(c, "N"), lr_int(c, "C"), lr_int(c, "H"), lr_int(c, "W"),
                         lr_int(c, "kH"), lr_int(c, "kW"), lr_int(c, "sH"), lr_int(c, "sW"),
                         lr_int(c, "pH"), lr_int(c, "pW")};
    cr_assert_eq(sl_pool2d_check(&s), SL_OK, "%s: %s", c->name, sl_last_error());
    const size_t nx = (size_t)s.N * s.C * s.H * s.W;
    const size_t ny = (size_t)s.N * s.C * sl_pool2d_out_h(&s) * sl_pool2d_out_w(&s);
    sl_real *X = lr_real(c, "X", nx), *G = lr_real(c, "G", ny), *Y = lr_zeros(ny), *dX = lr_zeros(nx);
    if (is_max) {
        int32_t *am = malloc(ny * sizeof(int32_t));
        cr_assert_not_null(am);
        sl_maxpool2d_forward(&s, X, Y, am);
        sl_maxpool2d_backward(&s, G, am, dX);
        double *ref = lr_load(c, "argmax", ny);
        size_t bad = 0;
        for (size_t i = 0; i < ny; i++) bad += am[i] != (int32_t)ref[i];
        fprintf(stderr, "layers/%s argmax %zu of %zu differ%s\n", c->name, bad, ny, bad ? "  NOT OK" : "");
        c->failures += bad != 0;
        free(ref);
        free(am);
    } else {
        sl_avgpool2d_forward(&s, X, Y);
        sl_avgpool2d_backward(&s, G, dX);
    }
    lr_check(c, "Y", Y, ny);
    lr_check(c, "dX", dX, nx);
    free(X), free(G), free(Y), free(dX);
}

static void run_linear(lr_ctx *c)
{
    const int B = lr_int(c, "B"), in = lr_int(c, "n_in"), out = lr_int(c, "n_out");
    const size_t nx = (size_t)B * in, nw = (size_t)out * in, ny = (size_t)B * out;
    sl_real *X = lr_real(c, "X", nx), *W = lr_real(c, "W", nw), *b = lr_real(c, "b", out);
    sl_real *G = lr_real(c, "G", ny), *Y = lr_zeros(ny), *dX = lr_zeros(nx);
    sl_real *dW = lr_zeros(nw), *db = lr_zeros(out);
    sl_linear_forward(B, in, out, X, W, b, Y);
    sl_linear_backward(B, in, out, X, W, G, dX, dW, db);
    lr_check(c, "Y", Y, ny);
    lr_check(c, "dX", dX, nx);
    lr_check(c, "dW", dW, nw);
    lr_check(c, "db", db, out);
    free(X), free(W), free(b), free(G), free(Y), free(dX), free(dW), free(db);
}

static void run_xent(lr_ctx *c)
{
    const int B = lr_int(c, "B"), C = lr_int(c, "C");
    sl_real *Z = lr_real(c, "Z", (size_t)B * C), *dZ = lr_zeros((size_t)B * C);
    double *lab = lr_load(c, "labels", B);
    int *y = malloc((size_t)B * sizeof(int));
    cr_assert_not_null(y);
    for (int i = 0; i < B; i++) y[i] = (int)lab[i];
    double loss;
    int correct;
    cr_assert_eq(sl_softmax_xent(B, C, Z, y, &loss, dZ, &correct), SL_OK, "%s: %s", c->name,
                 sl_last_error());
    sl_real lr = (sl_real)loss;
    lr_check(c, "loss", &lr, 1);
    lr_check(c, "dZ", dZ, (size_t)B * C);
    free(Z), free(dZ), free(lab), free(y);
}

/* the seed network: forward and backward through the C layers */
static void run_seed_cnn(lr_ctx *c)
{
    const int B = lr_int(c, "B");
    const sl_conv2d_shape c1 = {B, 1, 28, 28, 6, 3, 3, 1, 1, 1, 1};
    const sl_conv2d_shape c2 = {B, 6, 14, 14, 16, 3, 3, 1, 1, 1, 1};
    const sl_pool2d_shape p1 = sl_pool2d_square(B, 6, 28, 28, 2);
    const sl_pool2d_shape p2 = sl_pool2d_square(B, 16, 14, 14, 2);
    cr_assert_eq(sl_conv2d_check(&c1), SL_OK);
    cr_assert_eq(sl_conv2d_check(&c2), SL_OK);
    cr_assert_eq(sl_pool2d_check(&p1), SL_OK);
    cr_assert_eq(sl_pool2d_check(&p2), SL_OK);
    const size_t nx = (size_t)B * 784, na1 = (size_t)B * 6 * 784, nl1 = (size_t)B * 6 * 196;
    const size_t na2 = (size_t)B * 16 * 196, nl2 = (size_t)B * 784;
    static const char *pn[10] = {"conv1_weight", "conv1_bias", "conv2_weight", "conv2_bias",
                                 "fc1_weight",   "fc1_bias",   "fc2_weight",   "fc2_bias",
                                 "fc3_weight",   "fc3_bias"};
    static const size_t pc[10] = {54, 6, 864, 16, 94080, 120, 10080, 84, 840, 10};
    sl_real *P[10], *Gr[10];
    for (int i = 0; i < 10; i++) {
        P[i] = lr_real(c, pn[i], pc[i]);
        Gr[i] = lr_zeros(pc[i]);
    }
    sl_real *x = lr_real(c, "x", nx);
    double *lab = lr_load(c, "labels", B);
    int y[64];
    cr_assert(B <= 64);
    for (int i = 0; i < B; i++) y[i] = (int)lab[i];
    free(lab);
    size_t ns = sl_conv2d_scratch_size(&c1);
    if (sl_conv2d_scratch_size(&c2) > ns) ns = sl_conv2d_scratch_size(&c2);
    sl_real *scratch = lr_zeros(ns);
    sl_real *a1 = lr_zeros(na1), *l1 = lr_zeros(nl1), *a2 = lr_zeros(na2), *l2 = lr_zeros(nl2);
    sl_real *l3 = lr_zeros((size_t)B * 120), *l4 = lr_zeros((size_t)B * 84);
    sl_real *z = lr_zeros((size_t)B * 10), *dz = lr_zeros((size_t)B * 10);
    int32_t *am1 = malloc(nl1 * sizeof(int32_t)), *am2 = malloc((size_t)B * 16 * 49 * sizeof(int32_t));
    cr_assert(am1 && am2);

    /* forward */
    sl_conv2d_forward(&c1, x, P[0], P[1], a1, scratch);
    sl_relu_forward(a1, a1, na1);
    sl_maxpool2d_forward(&p1, a1, l1, am1);
    sl_conv2d_forward(&c2, l1, P[2], P[3], a2, scratch);
    sl_relu_forward(a2, a2, na2);
    sl_maxpool2d_forward(&p2, a2, l2, am2);
    sl_linear_forward(B, 784, 120, l2, P[4], P[5], l3); /* flatten: l2 as it lies */
    sl_relu_forward(l3, l3, (size_t)B * 120);
    sl_linear_forward(B, 120, 84, l3, P[6], P[7], l4);
    sl_relu_forward(l4, l4, (size_t)B * 84);
    sl_linear_forward(B, 84, 10, l4, P[8], P[9], z);
    double loss;
    cr_assert_eq(sl_softmax_xent(B, 10, z, y, &loss, dz, NULL), SL_OK, "%s", sl_last_error());

    /* backward */
    sl_real *dl4 = lr_zeros((size_t)B * 84), *dl3 = lr_zeros((size_t)B * 120);
    sl_real *dl2 = lr_zeros(nl2), *da2 = lr_zeros(na2), *dl1 = lr_zeros(nl1), *da1 = lr_zeros(na1);
    sl_real *dx = lr_zeros(nx);
    sl_linear_backward(B, 84, 10, l4, P[8], dz, dl4, Gr[8], Gr[9]);
    sl_relu_backward(l4, dl4, dl4, (size_t)B * 84);
    sl_linear_backward(B, 120, 84, l3, P[6], dl4, dl3, Gr[6], Gr[7]);
    sl_relu_backward(l3, dl3, dl3, (size_t)B * 120);
    sl_linear_backward(B, 784, 120, l2, P[4], dl3, dl2, Gr[4], Gr[5]);
    sl_maxpool2d_backward(&p2, dl2, am2, da2);
    sl_relu_backward(a2, da2, da2, na2);
    sl_conv2d_backward(&c2, l1, P[2], da2, dl1, Gr[2], Gr[3], scratch);
    sl_maxpool2d_backward(&p1, dl1, am1, da1);
    sl_relu_backward(a1, da1, da1, na1);
    sl_conv2d_backward(&c1, x, P[0], da1, dx, Gr[0], Gr[1], scratch);

    lr_check(c, "l1", l1, nl1);
    lr_check(c, "l2", l2, nl2);
    lr_check(c, "l3", l3, (size_t)B * 120);
    lr_check(c, "l4", l4, (size_t)B * 84);
    lr_check(c, "y", z, (size_t)B * 10);
    sl_real lr = (sl_real)loss;
    lr_check(c, "loss", &lr, 1);
    for (int i = 0; i < 10; i++) {
        char stem[64];
        snprintf(stem, sizeof stem, "grad_%s", pn[i]);
        lr_check(c, stem, Gr[i], pc[i]);
    }
    lr_check(c, "dx", dx, nx);
    for (int i = 0; i < 10; i++) free(P[i]), free(Gr[i]);
    free(x), free(scratch), free(a1), free(l1), free(a2), free(l2), free(l3), free(l4), free(z);
    free(dz), free(am1), free(am2), free(dl4), free(dl3), free(dl2), free(da2), free(dl1);
    free(da1), free(dx);
}

static void lr_run(lr_ctx *c, const char *root, unsigned *kinds)
{
    snprintf(c->dir, sizeof c->dir, "%s/%s", root, c->name);
    char path[1200];
    snprintf(path, sizeof path, "%s/config.json", c->dir);
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text, "cannot read %s", path);
    c->cfg = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(c->cfg, "%s: bad JSON", path);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(c->cfg, "kind");
    cr_assert(cJSON_IsString(k), "%s: no 'kind'", path);
    const char *kind = k->valuestring;
    if (!strcmp(kind, "conv2d")) run_conv(c), *kinds |= 1;
    else if (!strcmp(kind, "maxpool2d")) run_pool(c, 1), *kinds |= 2;
    else if (!strcmp(kind, "avgpool2d")) run_pool(c, 0), *kinds |= 4;
    else if (!strcmp(kind, "linear")) run_linear(c), *kinds |= 8;
    else if (!strcmp(kind, "xent")) run_xent(c), *kinds |= 16;
    else if (!strcmp(kind, "seed_cnn")) run_seed_cnn(c), *kinds |= 32;
    else cr_assert_fail("%s: unknown kind '%s'", path, kind);
    cJSON_Delete(c->cfg);
}

static int lr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(ref_layers, golden_cases, .timeout = 120)
{
    const char *root = getenv("SILICO_GOLDEN_DIR");
    if (!root || !*root) root = "tests/golden";
    char dir[512];
    snprintf(dir, sizeof dir, "%.500s/layers", root);
    DIR *dp = opendir(dir);
    cr_assert_not_null(dp, "cannot open %s (run from the repository root, or set "
                           "SILICO_GOLDEN_DIR)", dir);
    char *names[LR_MAX_CASES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.') continue;
        cr_assert(n < LR_MAX_CASES);
        names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, lr_cmp);
    int failures = 0;
    unsigned kinds = 0;
    for (int i = 0; i < n; i++) {
        lr_ctx c = {.name = names[i]};
        lr_run(&c, dir, &kinds);
        failures += c.failures;
        free(names[i]);
    }
    fprintf(stderr, "ref_layers: %d cases, %d tensors NOT OK (tolerance %.0e)\n", n, failures,
            LR_TOL);
    cr_assert_eq(kinds, 63u, "%s: expected conv2d, maxpool2d, avgpool2d, linear, xent and "
                             "seed_cnn cases (found kinds mask %u)", dir, kinds);
    cr_assert_eq(failures, 0);
}

/* shape validation and PyTorch's init bounds */
Test(ref_layers, checks_and_init)
{
    sl_conv2d_shape bad = {1, 1, 2, 2, 1, 5, 5, 1, 1, 0, 0};
    cr_assert_eq(sl_conv2d_check(&bad), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "kernel 5×5 larger") != NULL, "%s", sl_last_error());
    bad.kH = bad.kW = 1, bad.sH = 0;
    cr_assert_eq(sl_conv2d_check(&bad), SL_EINVAL);
    sl_pool2d_shape pb = sl_pool2d_square(1, 1, 4, 4, 2);
    cr_assert_eq(sl_pool2d_check(&pb), SL_OK);
    pb.pH = 2;
    cr_assert_eq(sl_pool2d_check(&pb), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "half the kernel") != NULL, "%s", sl_last_error());

    sl_rng rng;
    sl_rng_seed(&rng, 7);
    sl_conv2d_shape s = {1, 6, 14, 14, 16, 3, 3, 1, 1, 1, 1};
    sl_real W[864], b[16];
    sl_conv2d_init(&s, W, b, &rng);
    const double k = 1 / sqrt(54.0);
    double mx = 0;
    for (int i = 0; i < 864; i++) mx = fmax(mx, fabs((double)W[i]));
    for (int i = 0; i < 16; i++) cr_assert(fabs((double)b[i]) <= k);
    cr_assert(mx <= k && mx > 0.9 * k, "max |W| %g, bound %g", mx, k);
    sl_real Wl[840], bl[10];
    sl_linear_init(84, 10, Wl, bl, &rng);
    mx = 0;
    for (int i = 0; i < 840; i++) mx = fmax(mx, fabs((double)Wl[i]));
    cr_assert(mx <= 1 / sqrt(84.0) && mx > 0.9 / sqrt(84.0));

    /* max-pool NaN rule (PyTorch: a NaN wins, the last NaN of the window
     * in scan order): the 2×2/stride-2 fast path and the generic path agree */
    const sl_real X[8] = {1, (sl_real)NAN, 5, 5, 3, (sl_real)NAN, 5, 7};
    sl_real Y[3];
    int32_t am[3];
    sl_pool2d_shape q = sl_pool2d_square(1, 1, 2, 4, 2); /* fast path */
    sl_maxpool2d_forward(&q, X, Y, am);
    cr_assert(isnan((double)Y[0]) && am[0] == 5, "fast path: %g at %d", (double)Y[0], am[0]);
    cr_assert(Y[1] == 7 && am[1] == 7);
    q.sW = 2, q.sH = 1; /* generic path, same windows */
    sl_maxpool2d_forward(&q, X, Y, am);
    cr_assert(isnan((double)Y[0]) && am[0] == 5, "generic: %g at %d", (double)Y[0], am[0]);
    cr_assert(Y[1] == 7 && am[1] == 7);
    const sl_real T[4] = {2, 2, 2, 2}; /* ties: the first */
    q = sl_pool2d_square(1, 1, 2, 2, 2);
    sl_maxpool2d_forward(&q, T, Y, am);
    cr_assert(Y[0] == 2 && am[0] == 0);

    /* cross-entropy: bad label, ignored rows, accuracy count */
    sl_real Z[6] = {1, 2, 0, 3, -1, 0};
    int yb[2] = {1, 3};
    double loss;
    cr_assert_eq(sl_softmax_xent(2, 3, Z, yb, &loss, NULL, NULL), SL_EINVAL);
    int yi[2] = {-100, 0};
    int corr = -1;
    sl_real dZ[6];
    cr_assert_eq(sl_softmax_xent(2, 3, Z, yi, &loss, dZ, &corr), SL_OK);
    cr_assert_eq(corr, 1);
    cr_assert(dZ[0] == 0 && dZ[1] == 0 && dZ[2] == 0);
    cr_assert(fabs(loss - (log(exp(3.0) + exp(-1.0) + 1.0) - 3.0)) < 1e-6);
}

/* A batch too large for one chunk of scratch (here one image per chunk) gives
 * the same Y, dX, dW, db as the images one at a time, and Y matches a direct
 * (naive) convolution. */
Test(ref_layers, conv2d_chunked_batch, .timeout = 60)
{
    const sl_conv2d_shape s = {3, 2, 600, 400, 4, 3, 3, 2, 1, 1, 1};
    cr_assert_eq(sl_conv2d_check(&s), SL_OK);
    const int OH = sl_conv2d_out_h(&s), OW = sl_conv2d_out_w(&s);
    const size_t P = (size_t)OH * OW, K = 18, in_img = (size_t)2 * 600 * 400;
    cr_assert(sl_conv2d_scratch_size(&s) < 3 * P * (K + 4), "expected chunking");
    const size_t nx = 3 * in_img, ny = 3 * 4 * P;
    sl_rng rng;
    sl_rng_seed(&rng, 5);
    sl_real *X = lr_zeros(nx), *W = lr_zeros(4 * K), *b = lr_zeros(4), *G = lr_zeros(ny);
    for (size_t i = 0; i < nx; i++) X[i] = (sl_real)sl_rng_normal(&rng);
    for (size_t i = 0; i < ny; i++) G[i] = (sl_real)sl_rng_normal(&rng);
    sl_conv2d_init(&s, W, b, &rng);
    sl_real *Y = lr_zeros(ny), *dX = lr_zeros(nx), *dW = lr_zeros(4 * K), *db = lr_zeros(4);
    sl_real *scratch = lr_zeros(sl_conv2d_scratch_size(&s));
    sl_conv2d_forward(&s, X, W, b, Y, scratch);
    sl_conv2d_backward(&s, X, W, G, dX, dW, db, scratch);

    sl_conv2d_shape s1 = s;
    s1.N = 1;
    sl_real *Y1 = lr_zeros(ny), *dX1 = lr_zeros(nx), *dW1 = lr_zeros(4 * K), *db1 = lr_zeros(4);
    sl_real *scr1 = lr_zeros(sl_conv2d_scratch_size(&s1));
    for (int n = 0; n < 3; n++) {
        sl_conv2d_forward(&s1, X + n * in_img, W, b, Y1 + n * 4 * P, scr1);
        sl_conv2d_backward(&s1, X + n * in_img, W, G + n * 4 * P, dX1 + n * in_img, dW1, db1, scr1);
    }
    cr_assert_lt(tu_rel_diff_real(Y, Y1, ny), 1e-6);
    cr_assert_lt(tu_rel_diff_real(dX, dX1, nx), 1e-6);
    cr_assert_lt(tu_rel_diff_real(dW, dW1, 4 * K), 1e-5);
    cr_assert_lt(tu_rel_diff_real(db, db1, 4), 1e-5);

    /* direct convolution at a sample of outputs (including the borders) */
    double err = 0, scale = 0;
    for (int n = 0; n < 3; n++)
        for (int o = 0; o < 4; o++)
            for (int y = 0; y < OH; y += (y < 3 || y > OH - 4) ? 1 : 37)
                for (int x = 0; x < OW; x += (x < 3 || x > OW - 4) ? 1 : 41) {
                    double acc = b[o];
                    for (int c = 0; c < 2; c++)
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++) {
                                int h = y * 2 - 1 + i, w = x - 1 + j;
                                if (h < 0 || h >= 600 || w < 0 || w >= 400) continue;
                                acc += (double)W[((o * 2 + c) * 3 + i) * 3 + j] *
                                       (double)X[n * in_img + ((size_t)c * 600 + h) * 400 + w];
                            }
                    double got = Y[((size_t)n * 4 + o) * P + (size_t)y * OW + x];
                    err = fmax(err, fabs(got - acc));
                    scale = fmax(scale, fabs(acc));
                }
    cr_assert_lt(err / scale, 1e-5, "direct convolution: rel %g", err / scale);
    free(X), free(W), free(b), free(G), free(Y), free(dX), free(dW), free(db), free(scratch);
    free(Y1), free(dX1), free(dW1), free(db1), free(scr1);
}
