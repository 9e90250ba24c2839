/* test_ref_cells.c — the cells of src/nn/cell.h against PyTorch golden tensors.
 *
 * tests/ref/gen_cells.py writes, per case, tests/golden/cells/<case>/ with
 * the inputs U, the parameters under PyTorch's names, the loss weights w, and
 * torch.nn.RNN / GRU / LSTM's (float64) outputs H, gradients of
 * L = Σ w·H (+ ½ Σ H² when quad) and dL/dU, plus every gate trace. Here each
 * case found under tests/golden/cells (or $SILICO_GOLDEN_DIR/cells, set by
 * `make test-ref` to freshly generated files) is run through the cell in
 * sl_real (float32) and every tensor compared:
 *     rel = max|c − ref| / max(max|ref|, 1e-6)  ≤ 1e-4,
 * one line per tensor on stderr ("gru_small grad_weight_hh rel 3.2e-07"). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellcheck.h"
#include "silico.h"
#include "testutil.h"

#define CREF_TOL 1e-4
#define CREF_MAX_CASES 64

typedef struct {
    const char *dir;  /* …/cells */
    const char *name; /* "gru_small" */
    int failures;
} cref_ctx;

/* <dir>/<case>/<file> (malloc'd) */
static char *cref_path(const cref_ctx *c, const char *file, const char *ext)
{
    size_t n = strlen(c->dir) + strlen(c->name) + strlen(file) + strlen(ext) + 3;
    char *p = malloc(n);
    cr_assert_not_null(p);
    snprintf(p, n, "%s/%s/%s%s", c->dir, c->name, file, ext);
    return p;
}

/* <dir>/<case>/<stem>.npy as doubles (NULL when absent and !must) */
static double *cref_load(const cref_ctx *c, const char *stem, size_t *n_out, int must)
{
    char *path = cref_path(c, stem, ".npy");
    double *out = tu_npy_doubles(path, n_out, TU_DT(SL_F64));
    if (!out && must) cr_assert_fail("%s: %s", c->name, sl_last_error());
    free(path);
    return out;
}

static void cref_check(cref_ctx *c, const char *what, const sl_real *got, const double *ref,
                       size_t n)
{
    double rel = tu_golden_rel(c->name, what, got, ref, n, CREF_TOL);
    int ok = rel <= CREF_TOL;
    if (!ok) c->failures++;
    cr_expect(ok, "%s %s: max rel diff %.3e > %.0e", c->name, what, rel, CREF_TOL);
}

static cJSON *cref_config(const cref_ctx *c)
{
    char *path = cref_path(c, "config.json", "");
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: cannot open %s", c->name, path);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *j = cJSON_Parse(buf);
    cr_assert_not_null(j, "%s: %s is not valid JSON", c->name, path);
    free(path);
    return j;
}

static int cref_int(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    cr_assert(cJSON_IsNumber(v), "config.json: missing number %s", key);
    return v->valueint;
}

static void cref_run(cref_ctx *c)
{
    cJSON *cfg = cref_config(c);
    const cJSON *cell = cJSON_GetObjectItemCaseSensitive(cfg, "cell");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(cfg, "act");
    const cJSON *quadj = cJSON_GetObjectItemCaseSensitive(cfg, "quad");
    cr_assert(cJSON_IsString(cell) && cJSON_IsString(act) && cJSON_IsNumber(quadj));
    const sl_cell_ops *ops = !strcmp(cell->valuestring, "rnn")   ? &sl_cell_rnn
                             : !strcmp(cell->valuestring, "gru") ? &sl_cell_gru
                             : !strcmp(cell->valuestring, "lstm") ? &sl_cell_lstm
                                                                 : NULL;
    cr_assert_not_null(ops, "%s: unknown cell %s", c->name, cell->valuestring);
    sl_cell_dims d = {.n_in = cref_int(cfg, "n_in"), .n_hidden = cref_int(cfg, "N"),
                      .bn_momentum = 0.1, .bn_eps = 1e-5};
    cr_assert_eq(sl_activation_parse(act->valuestring, &d.act), SL_OK);
    const int B = cref_int(cfg, "B"), T = cref_int(cfg, "T");
    const double quad = quadj->valuedouble;

    sl_rng rng;
    sl_rng_seed(&rng, 1);
    cc_cell cc;
    cr_assert_eq(cc_create(&cc, ops, &d, B, T, &rng), 0);

    /* the parameters, by PyTorch's names */
    size_t n;
    const cJSON *plist = cJSON_GetObjectItemCaseSensitive(cfg, "params");
    cr_assert(cJSON_IsArray(plist));
    cr_assert_eq(cJSON_GetArraySize(plist), cc.n_tensors, "%s: %d tensors in golden, %d in cell",
                 c->name, cJSON_GetArraySize(plist), cc.n_tensors);
    for (int k = 0; k < cc.n_tensors; k++) {
        const cJSON *e = cJSON_GetArrayItem(plist, k);
        cr_assert(cJSON_IsString(e));
        int i = cc_find(&cc, e->valuestring);
        cr_assert_geq(i, 0, "%s: the cell has no tensor %s", c->name, e->valuestring);
        double *v = cref_load(c, e->valuestring, &n, 1);
        cr_assert_eq(n, cc.numel[i], "%s: %s has %zu values, cell %zu", c->name, e->valuestring,
                     n, cc.numel[i]);
        for (size_t j = 0; j < n; j++) cc.p[i][j] = (sl_real)v[j];
        free(v);
    }

    double *Ud = cref_load(c, "U", &n, 1);
    cr_assert_eq(n, cc.nU);
    double *wd = cref_load(c, "w", &n, 1);
    cr_assert_eq(n, cc.nH);
    sl_real *U = malloc(cc.nU * sizeof(sl_real)), *w = malloc(cc.nH * sizeof(sl_real));
    sl_real *dU = malloc(cc.nU * sizeof(sl_real)), *rec = malloc(cc.nH * sizeof(sl_real));
    cr_assert(U && w && dU && rec);
    for (size_t i = 0; i < cc.nU; i++) U[i] = (sl_real)Ud[i];
    for (size_t i = 0; i < cc.nH; i++) w[i] = (sl_real)wd[i];

    /* forward: H and every record (records before backward) */
    cc_forward(&cc, U);
    double *ref = cref_load(c, "H", &n, 1);
    cr_assert_eq(n, cc.nH);
    cref_check(c, "H", cc.H, ref, n);
    free(ref);
    for (int r = 0; r < ops->n_records; r++) {
        const char *rn = ops->record_names[r];
        ref = cref_load(c, rn, &n, 1); /* every record has a reference */
        cr_assert_eq(n, cc.nH);
        ops->record(&cc.dims, cc.ws, B, T, r, rec);
        cref_check(c, rn, rec, ref, n);
        free(ref);
    }

    /* backward: parameter gradients and dU */
    cc_grad(&cc, U, w, quad, dU);
    for (int k = 0; k < cc.n_tensors; k++) {
        char stem[96];
        snprintf(stem, sizeof stem, "grad_%s", cc.name[k]);
        ref = cref_load(c, stem, &n, 1);
        cr_assert_eq(n, cc.numel[k]);
        cref_check(c, stem, cc.g[k], ref, n);
        free(ref);
    }
    ref = cref_load(c, "dU", &n, 1);
    cr_assert_eq(n, cc.nU);
    cref_check(c, "dU", dU, ref, n);
    free(ref);

    free(U), free(w), free(dU), free(rec), free(Ud), free(wd);
    cc_free(&cc);
    cJSON_Delete(cfg);
}

static int cref_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(ref_cells, golden_cases, .timeout = 120)
{
    const char *root = getenv("SILICO_GOLDEN_DIR");
    if (!root || !*root) root = "tests/golden";
    char *dir = malloc(strlen(root) + 7);
    cr_assert_not_null(dir);
    sprintf(dir, "%s/cells", root);
    DIR *dp = opendir(dir);
    cr_assert_not_null(dp, "cannot open %s (run from the repository root, or set "
                           "SILICO_GOLDEN_DIR)", dir);
    char *names[CREF_MAX_CASES];
    int n = 0;
    int have[3] = {0, 0, 0};
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.') continue;
        cr_assert(n < CREF_MAX_CASES);
        names[n++] = strdup(e->d_name);
        have[0] |= !strncmp(e->d_name, "rnn", 3);
        have[1] |= !strncmp(e->d_name, "gru", 3);
        have[2] |= !strncmp(e->d_name, "lstm", 4);
    }
    closedir(dp);
    cr_assert(have[0] && have[1] && have[2], "%s: expected rnn*, gru* and lstm* cases", dir);
    qsort(names, (size_t)n, sizeof *names, cref_cmp);
    int failures = 0;
    for (int i = 0; i < n; i++) {
        cref_ctx c = {.dir = dir, .name = names[i], .failures = 0};
        cref_run(&c);
        failures += c.failures;
        free(names[i]);
    }
    fprintf(stderr, "ref_cells: %d cases, %d tensors NOT OK (tolerance %.0e)\n", n, failures,
            CREF_TOL);
    free(dir);
    cr_assert_eq(failures, 0);
}
