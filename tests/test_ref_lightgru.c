/* test_ref_lightgru.c — the light-GRU cell and the ENU stage against PyTorch
 * golden tensors (tests/ref/gen_lightgru.py, torch.nn.BatchNorm1d and a
 * hand-written light-GRU loop, float64).
 *
 * Every case directory under tests/golden/lightgru (or $SILICO_GOLDEN_DIR/
 * lightgru, set by `make test-ref` to freshly generated files) is run through
 * sl_cell_lightgru (and sl_enu_* with the block mask for the ENU cases) in
 * sl_real (float32), and each tensor — H, the records update_gate and
 * candidate, the running statistics after the forward, every gradient and
 * dL/dU — compared with
 *     rel = max|c − ref| / max(max|ref|, 1e-6)  ≤ 1e-4,
 * printing one line per tensor to stderr ("lightgru/small_train grad_U_z rel 3.2e-07 (max diff …)").
 * Also: sl_cell_lightgru's init (U_z orthogonal, BN γ = 1, β = 0, running
 * mean 0, var 1) and its tensor names and shapes. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cell.h"
#include "nn/enu.h"
#include "nn/lightgru.h"
#include "silico.h"
#include "testutil.h"

#define LG_TOL 1e-4
#define LG_MAX_CASES 64

typedef struct {
    char dir[1024];
    const char *name;
    int failures;
} lg_ctx;

static double *lg_load(const lg_ctx *c, const char *stem, size_t *n_out)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.npy", c->dir, stem);
    double *out = tu_npy_doubles(path, n_out, TU_DT(SL_F64));
    cr_assert_not_null(out, "%s: %s", c->name, sl_last_error());
    return out;
}

/* load into a fresh sl_real array, checking the element count */
static sl_real *lg_load_real(const lg_ctx *c, const char *stem, size_t n_expect)
{
    size_t n;
    double *d = lg_load(c, stem, &n);
    cr_assert_eq(n, n_expect, "%s: %s has %zu values, expected %zu", c->name, stem, n, n_expect);
    sl_real *r = calloc(n ? n : 1, sizeof(sl_real));
    cr_assert_not_null(r);
    for (size_t i = 0; i < n; i++) r[i] = (sl_real)d[i];
    free(d);
    return r;
}

static void lg_check(lg_ctx *c, const char *what, const sl_real *got, size_t n)
{
    size_t nr;
    double *ref = lg_load(c, what, &nr);
    cr_assert_eq(nr, n, "%s: %s has %zu values, expected %zu", c->name, what, nr, n);
    char label[96];
    snprintf(label, sizeof label, "lightgru/%s", c->name);
    double rel = tu_golden_rel(label, what, got, ref, n, LG_TOL);
    int ok = rel <= LG_TOL;
    if (!ok) c->failures++;
    cr_expect(ok, "%s %s: max rel diff %.3e > %.0e", c->name, what, rel, LG_TOL);
    free(ref);
}

static double lg_cfg(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    cr_assert(cJSON_IsNumber(v), "config.json: missing number %s", key);
    return v->valuedouble;
}

static cJSON *lg_config(const lg_ctx *c)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/config.json", c->dir);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: cannot open %s", c->name, path);
    char text[4096];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "%s: %s is not valid JSON", c->name, path);
    return j;
}

static void lg_run_case(lg_ctx *c)
{
    cJSON *cfg = lg_config(c);
    const int N = (int)lg_cfg(cfg, "N"), n_in = (int)lg_cfg(cfg, "n_in");
    const int B = (int)lg_cfg(cfg, "B"), T = (int)lg_cfg(cfg, "T"), k = (int)lg_cfg(cfg, "k");
    const int cin = k > 0 ? N * k : n_in;
    sl_cell_dims d = {.n_in = cin, .n_hidden = N, .training = (int)lg_cfg(cfg, "training"),
                      .bn_momentum = lg_cfg(cfg, "momentum"), .bn_eps = lg_cfg(cfg, "eps")};
    cJSON_Delete(cfg);
    const sl_cell_ops *ops = &sl_cell_lightgru;
    size_t R = (size_t)T * B, nH = R * N;

    sl_real *p[SL_LGRU_N_TENSORS], *g[SL_LGRU_N_TENSORS], *peff[SL_LGRU_N_TENSORS];
    size_t numel[SL_LGRU_N_TENSORS];
    const char *names[SL_LGRU_N_TENSORS];
    for (int i = 0; i < ops->n_tensors + ops->n_buffers; i++) {
        int ndim;
        int64_t shape[2] = {1, 1};
        ops->tensor(&d, i, &names[i], &ndim, shape);
        numel[i] = (size_t)shape[0] * (ndim == 2 ? (size_t)shape[1] : 1);
        p[i] = lg_load_real(c, names[i], numel[i]);
        g[i] = calloc(numel[i], sizeof(sl_real));
        cr_assert_not_null(g[i]);
        peff[i] = p[i];
    }
    sl_real *U = lg_load_real(c, "U", R * n_in), *w = lg_load_real(c, "w", nH);
    sl_real *H = calloc(nH, sizeof(sl_real)), *rec = calloc(nH, sizeof(sl_real));
    sl_real *dU = calloc(R * n_in, sizeof(sl_real));
    sl_real *ws = calloc(ops->ws_size(&d, B, T), sizeof(sl_real));
    cr_assert(H && rec && dU && ws);

    /* ENU stage: E = ReLU(U W_eᵀ + b_e), the cell reads E through W ⊙ M */
    sl_enu_dims ed = {.n_in = n_in, .n_units = N, .k = k};
    sl_real *We = NULL, *be = NULL, *gWe = NULL, *gbe = NULL, *M = NULL, *E = NULL, *dE = NULL;
    if (k > 0) {
        size_t K = (size_t)N * k;
        We = lg_load_real(c, "enu.weight", K * n_in);
        be = lg_load_real(c, "enu.bias", K);
        gWe = calloc(K * n_in, sizeof(sl_real));
        gbe = calloc(K, sizeof(sl_real));
        M = calloc((size_t)N * K, sizeof(sl_real));
        E = calloc(R * K, sizeof(sl_real));
        dE = calloc(R * K, sizeof(sl_real));
        cr_assert(gWe && gbe && M && E && dE);
        sl_enu_block_mask(1, N, k, M);
        sl_real *Mref = lg_load_real(c, "mask", (size_t)N * K);
        cr_assert_eq(memcmp(M, Mref, (size_t)N * K * sizeof(sl_real)), 0,
                     "%s: sl_enu_block_mask differs from the reference mask", c->name);
        free(Mref);
        for (int m = 0; m < 2; m++) {
            int t = m ? SL_LGRU_W_H : SL_LGRU_W_Z;
            peff[t] = malloc(numel[t] * sizeof(sl_real));
            cr_assert_not_null(peff[t]);
            memcpy(peff[t], p[t], numel[t] * sizeof(sl_real));
            sl_enu_mask_apply(numel[t], peff[t], M);
        }
        sl_enu_forward(&ed, We, be, U, (int)R, E);
    }
    const sl_real *cu = k > 0 ? E : U;

    /* forward: H, records, running statistics */
    ops->forward(&d, peff, cu, B, T, H, ws);
    lg_check(c, "H", H, nH);
    for (int r = 0; r < ops->n_records; r++) {
        ops->record(&d, ws, B, T, r, rec);
        lg_check(c, ops->record_names[r], rec, nH);
    }
    for (int i = ops->n_tensors; i < ops->n_tensors + ops->n_buffers; i++) {
        char stem[96];
        snprintf(stem, sizeof stem, "%s_after", names[i]);
        lg_check(c, stem, p[i], numel[i]);
    }
    double L = 0;
    for (size_t i = 0; i < nH; i++) L += (double)w[i] * H[i];
    lg_check(c, "loss", &(sl_real){(sl_real)L}, 1);

    /* backward with dL/dH = w */
    ops->backward(&d, peff, g, cu, B, T, H, w, k > 0 ? dE : dU, ws);
    if (k > 0) {
        sl_enu_mask_apply(numel[SL_LGRU_W_Z], g[SL_LGRU_W_Z], M);
        sl_enu_mask_apply(numel[SL_LGRU_W_H], g[SL_LGRU_W_H], M);
        sl_enu_backward(&ed, We, U, (int)R, E, dE, gWe, gbe, dU);
    }
    for (int i = 0; i < ops->n_tensors; i++) {
        char stem[96];
        snprintf(stem, sizeof stem, "grad_%s", names[i]);
        lg_check(c, stem, g[i], numel[i]);
    }
    if (k > 0) {
        lg_check(c, "grad_enu.weight", gWe, (size_t)N * k * n_in);
        lg_check(c, "grad_enu.bias", gbe, (size_t)N * k);
    }
    lg_check(c, "dU", dU, R * n_in);
    if (k == 0) { /* again without dU: the float32 build then fuses batch norm's backward and
                     the input weights' gradients into the recurrence (lgru_bn_fused) */
        sl_real *w2 = lg_load_real(c, "w", nH);
        for (int i = 0; i < ops->n_tensors; i++) memset(g[i], 0, numel[i] * sizeof(sl_real));
        ops->backward(&d, peff, g, cu, B, T, H, w2, NULL, ws);
        for (int i = 0; i < ops->n_tensors; i++) {
            char stem[96];
            snprintf(stem, sizeof stem, "grad_%s", names[i]);
            lg_check(c, stem, g[i], numel[i]);
        }
        free(w2);
    }

    for (int i = 0; i < ops->n_tensors + ops->n_buffers; i++) {
        if (peff[i] != p[i]) free(peff[i]);
        free(p[i]), free(g[i]);
    }
    free(U), free(w), free(H), free(rec), free(dU), free(ws);
    free(We), free(be), free(gWe), free(gbe), free(M), free(E), free(dE);
}

static int lg_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(ref_lightgru, golden_cases, .timeout = 120)
{
    const char *env = getenv("SILICO_GOLDEN_DIR");
    char root[900];
    snprintf(root, sizeof root, "%s/lightgru", env && *env ? env : "tests/golden");
    DIR *dd = opendir(root);
    cr_assert_not_null(dd, "cannot open %s (run from the repository root, or set "
                           "SILICO_GOLDEN_DIR)", root);
    char *names[LG_MAX_CASES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)) != NULL) {
        if (e->d_name[0] == '.') continue;
        cr_assert(n < LG_MAX_CASES);
        names[n++] = strdup(e->d_name);
    }
    closedir(dd);
    cr_assert_gt(n, 0, "no cases under %s", root);
    qsort(names, (size_t)n, sizeof *names, lg_cmp);
    int failures = 0;
    for (int i = 0; i < n; i++) {
        lg_ctx c = {.name = names[i]};
        snprintf(c.dir, sizeof c.dir, "%s/%s", root, names[i]);
        lg_run_case(&c);
        failures += c.failures;
        free(names[i]);
    }
    fprintf(stderr, "ref_lightgru: %d cases, %d tensors NOT OK (tolerance %.0e)\n", n, failures,
            LG_TOL);
    cr_assert_eq(failures, 0);
}

/* names, shapes, and the init: U_z orthogonal (UᵀU = I), γ = 1, β = 0,
 * running mean 0, var 1, W_z/W_h within ±1/√n_in, U_h within ±1/√N. */
Test(ref_lightgru, init_and_tensors)
{
    const sl_cell_ops *ops = &sl_cell_lightgru;
    cr_assert_str_eq(ops->name, "lightgru");
    cr_assert_eq(ops->n_tensors, 8);
    cr_assert_eq(ops->n_buffers, 4);
    static const char *want[] = {"W_z", "W_h", "U_z", "U_h", "bn_z.weight", "bn_z.bias",
                                 "bn_h.weight", "bn_h.bias", "bn_z.running_mean",
                                 "bn_z.running_var", "bn_h.running_mean", "bn_h.running_var"};
    int sizes[] = {1, 2, 17, 64};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int N = sizes[s], n_in = 7;
        sl_cell_dims d = {.n_in = n_in, .n_hidden = N, .training = 1, .bn_momentum = 0.1,
                          .bn_eps = 1e-5};
        sl_real *p[12];
        for (int i = 0; i < 12; i++) {
            const char *name;
            int ndim;
            int64_t shape[2] = {0, 0};
            ops->tensor(&d, i, &name, &ndim, shape);
            cr_assert_str_eq(name, want[i]);
            int64_t r = i < 2 ? N : N, cc = i < 2 ? n_in : (i < 4 ? N : 0);
            cr_assert_eq(ndim, i < 4 ? 2 : 1, "%s ndim", name);
            cr_assert_eq(shape[0], r, "%s shape", name);
            if (ndim == 2) cr_assert_eq(shape[1], cc, "%s shape", name);
            p[i] = calloc((size_t)N * (i < 2 ? n_in : N), sizeof(sl_real));
            cr_assert_not_null(p[i]);
        }
        sl_rng rng;
        sl_rng_seed(&rng, 5 + (uint64_t)N);
        ops->init(&d, p, &rng);
        double orth = 0, kx = 1 / sqrt((double)n_in), kh = 1 / sqrt((double)N);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int r = 0; r < N; r++) s += (double)p[2][r * N + i] * p[2][r * N + j];
                orth = fmax(orth, fabs(s - (i == j)));
            }
        cr_assert(orth < 1e-5, "N=%d: U_z^T U_z differs from I by %.3e", N, orth);
        for (int i = 0; i < N * n_in; i++)
            cr_assert(fabs(p[0][i]) <= kx && fabs(p[1][i]) <= kx);
        for (int i = 0; i < N * N; i++) cr_assert(fabs(p[3][i]) <= kh);
        for (int j = 0; j < N; j++) {
            cr_assert(p[4][j] == 1 && p[5][j] == 0 && p[6][j] == 1 && p[7][j] == 0);
            cr_assert(p[8][j] == 0 && p[9][j] == 1 && p[10][j] == 0 && p[11][j] == 1);
        }
        for (int i = 0; i < 12; i++) free(p[i]);
    }
    /* E/I U_h (bench W2): non-negative, E columns scaled by n_I/n_E */
    int N = 64, ne = 51;
    sl_real *Uh = calloc((size_t)N * N, sizeof(sl_real));
    cr_assert_not_null(Uh);
    sl_rng rng;
    sl_rng_seed(&rng, 9);
    sl_lightgru_init_uh_ei(N, ne, Uh, &rng);
    double mx_e = 0, mx_i = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            cr_assert(Uh[i * N + j] >= 0);
            if (j < ne) mx_e = fmax(mx_e, Uh[i * N + j]);
            else mx_i = fmax(mx_i, Uh[i * N + j]);
        }
    cr_assert(mx_i <= 0.125 && mx_i > 0.1, "inhibitory max %.3g", mx_i);
    cr_assert(mx_e <= 0.125 * 13 / 51 + 1e-7, "excitatory max %.3g", mx_e);
    free(Uh);
}
