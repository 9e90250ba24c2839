/* test_ref_constraints.c — Dale's law (reparam) and the fixed connectivity
 * mask on a cell's or the CT-RNN's recurrent matrix (and the CT-RNN's rate
 * form), through the whole model, against PyTorch golden tensors.
 *
 * tests/ref/gen_constraints.py writes, per case, tests/golden/constraints/
 * <case>/ with the inputs u, the free parameters as silico stores them (the
 * raw recurrent matrix R, not its effective form), the loss targets (y or
 * labels, and the loss mask), the connectivity mask where used, and torch's
 * (float64) outputs z, loss and the gradient of every free parameter, the
 * effective matrix built as src/nn/model.c documents it
 * (|R ⊙ M|·diag(sign) under Dale reparam, R ⊙ M otherwise). Here each case
 * found under tests/golden/constraints (or $SILICO_GOLDEN_DIR/constraints,
 * set by scripts/test-ref.sh to freshly generated files) is built with
 * sl_model_create from config.json, its parameters placed by
 * sl_model_find's offsets, and sl_model_loss run with backward in sl_real
 * (float32); z, the loss and every gradient are compared with
 *     rel = max|c − ref| / max(max|ref|, 1e-6)  ≤ 1e-4,
 * one line per tensor on stderr ("constraints/rnn_mask grad_weight_hh rel …"). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "testutil.h"

#define RC_TOL 1e-4
#define RC_MAX_CASES 64

typedef struct {
    char dir[1400];
    char label[256];
    int failures;
} rc_ctx;

/* <dir>/<stem>.npy as doubles */
static double *rc_load(const rc_ctx *c, const char *stem, size_t *n_out)
{
    char path[1600];
    snprintf(path, sizeof path, "%s/%s.npy", c->dir, stem);
    double *out = tu_npy_doubles(path, n_out, TU_DT(SL_F64));
    cr_assert_not_null(out, "%s: %s", c->label, sl_last_error());
    return out;
}

static sl_real *rc_load_real(const rc_ctx *c, const char *stem, size_t n_expect)
{
    size_t n;
    double *d = rc_load(c, stem, &n);
    cr_assert_eq(n, n_expect, "%s: %s has %zu values, expected %zu", c->label, stem, n, n_expect);
    sl_real *r = malloc((n ? n : 1) * sizeof(sl_real));
    cr_assert_not_null(r);
    for (size_t i = 0; i < n; i++) r[i] = (sl_real)d[i];
    free(d);
    return r;
}

static void rc_check(rc_ctx *c, const char *what, const sl_real *got, const char *stem, size_t n)
{
    size_t nr;
    double *ref = rc_load(c, stem, &nr);
    cr_assert_eq(nr, n, "%s: %s has %zu values, expected %zu", c->label, stem, nr, n);
    double rel = tu_golden_rel(c->label, what, got, ref, n, RC_TOL);
    if (!(rel <= RC_TOL)) c->failures++;
    cr_expect(rel <= RC_TOL, "%s %s: max rel diff %.3e > %.0e", c->label, what, rel, RC_TOL);
    free(ref);
}

static const cJSON *rc_item(const rc_ctx *c, const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    cr_assert_not_null(v, "%s: config.json lacks %s", c->label, key);
    return v;
}

static void rc_run(rc_ctx *c)
{
    char path[1600];
    snprintf(path, sizeof path, "%s/config.json", c->dir);
    size_t len;
    char *text = tu_read_file(path, &len);
    cr_assert_not_null(text, "%s: cannot read %s", c->label, path);
    cJSON *cfg = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(cfg, "%s: %s is not valid JSON", c->label, path);

    sl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_in = rc_item(c, cfg, "n_in")->valueint;
    s.n_hidden = rc_item(c, cfg, "N")->valueint;
    s.n_out = rc_item(c, cfg, "n_out")->valueint;
    const int B = rc_item(c, cfg, "B")->valueint, T = rc_item(c, cfg, "T")->valueint;
    const int N = s.n_hidden;
    cr_assert_eq(sl_cell_kind_parse(rc_item(c, cfg, "cell")->valuestring, &s.cell), SL_OK);
    cr_assert_eq(sl_activation_parse(rc_item(c, cfg, "act")->valuestring, &s.act), SL_OK);
    cr_assert_eq(sl_dale_mode_parse(rc_item(c, cfg, "dale")->valuestring, &s.dale), SL_OK);
    s.exc_fraction = rc_item(c, cfg, "exc_fraction")->valuedouble;
    s.no_autapses = rc_item(c, cfg, "no_autapses")->valueint;
    sl_real *rec_mask = NULL;
    if (rc_item(c, cfg, "rec_mask")->valueint)
        rec_mask = rc_load_real(c, "mask", (size_t)N * N);
    s.rec_mask = rec_mask;
    if (s.cell == SL_CELL_CTRNN) { /* tau, dt, form; J, B are given, g and h unused */
        s.tau_ms = rc_item(c, cfg, "tau")->valuedouble;
        s.dt_ms = rc_item(c, cfg, "dt")->valuedouble;
        s.g = s.h = 1;
        cr_assert_eq(sl_ctrnn_form_parse(rc_item(c, cfg, "form")->valuestring, &s.form), SL_OK);
    }
    const int ce = !strcmp(rc_item(c, cfg, "loss")->valuestring, "ce");

    sl_rng rng;
    sl_rng_seed(&rng, 1);
    sl_model *m = NULL;
    cr_assert_eq(sl_model_create(&s, &rng, &m), SL_OK, "%s: %s", c->label, sl_last_error());

    /* the free parameters, by name, at sl_model_find's offsets */
    const cJSON *plist = rc_item(c, cfg, "params");
    cr_assert(cJSON_IsArray(plist));
    cr_assert_eq(cJSON_GetArraySize(plist), sl_model_num_tensors(m),
                 "%s: %d tensors in golden, %d in the model", c->label,
                 cJSON_GetArraySize(plist), sl_model_num_tensors(m));
    sl_real *P = sl_model_params(m);
    for (int k = 0; k < cJSON_GetArraySize(plist); k++) {
        const char *name = cJSON_GetArrayItem(plist, k)->valuestring;
        const sl_param_info *pi = sl_model_find(m, name);
        cr_assert_not_null(pi, "%s: the model has no tensor %s", c->label, name);
        sl_real *v = rc_load_real(c, name, pi->numel);
        memcpy(P + pi->offset, v, pi->numel * sizeof(sl_real));
        free(v);
    }

    const size_t nu = (size_t)B * T * s.n_in, nz = (size_t)B * T * s.n_out;
    sl_real *u = rc_load_real(c, "u", nu);
    sl_real *y = NULL, *lmask;
    int *labels = NULL;
    if (ce) {
        size_t n;
        double *ld = rc_load(c, "labels", &n);
        cr_assert_eq(n, (size_t)B * T);
        labels = malloc(n * sizeof(int));
        cr_assert_not_null(labels);
        for (size_t i = 0; i < n; i++) labels[i] = (int)ld[i];
        free(ld);
        lmask = rc_load_real(c, "loss_mask", (size_t)B * T);
    } else {
        y = rc_load_real(c, "y", nz);
        lmask = rc_load_real(c, "loss_mask", nz);
    }
    sl_batch b = {.B = B, .T = T, .n_in = s.n_in, .n_out = s.n_out, .u = u, .y = y,
                  .mask = lmask, .labels = labels};

    sl_workspace *ws = NULL;
    cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK, "%s", sl_last_error());
    sl_loss_spec ls;
    memset(&ls, 0, sizeof ls);
    sl_loss_terms lt;
    sl_real *z = malloc(nz * sizeof(sl_real));
    cr_assert_not_null(z);
    sl_model_zero_grad(m);
    cr_assert_eq(sl_model_loss(m, ws, &b, &ls, NULL, 1, &lt, z), SL_OK, "%s: %s", c->label,
                 sl_last_error());

    rc_check(c, "z", z, "z", nz);
    sl_real L = (sl_real)lt.total;
    rc_check(c, "loss", &L, "loss", 1);
    const sl_real *G = sl_model_grads(m);
    for (int k = 0; k < cJSON_GetArraySize(plist); k++) {
        const char *name = cJSON_GetArrayItem(plist, k)->valuestring;
        const sl_param_info *pi = sl_model_find(m, name);
        char stem[128];
        snprintf(stem, sizeof stem, "grad_%s", name);
        rc_check(c, stem, G + pi->offset, stem, pi->numel);
    }

    free(z), free(u), free(y), free(lmask), free(labels), free(rec_mask);
    sl_workspace_free(ws);
    sl_model_free(m);
    cJSON_Delete(cfg);
}

static int rc_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(ref_constraints, golden_cases, .timeout = 120)
{
    const char *root = getenv("SILICO_GOLDEN_DIR");
    if (!root || !*root) root = "tests/golden";
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/constraints", root);
    DIR *dp = opendir(dir);
    cr_assert_not_null(dp, "cannot open %s (run from the repository root, or set "
                           "SILICO_GOLDEN_DIR)", dir);
    char *names[RC_MAX_CASES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.') continue;
        cr_assert(n < RC_MAX_CASES);
        names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    cr_assert_geq(n, 3, "%s: expected at least 3 cases, found %d", dir, n);
    qsort(names, (size_t)n, sizeof *names, rc_cmp);
    int failures = 0;
    for (int i = 0; i < n; i++) {
        rc_ctx c = {.failures = 0};
        snprintf(c.dir, sizeof c.dir, "%s/%.300s", dir, names[i]);
        snprintf(c.label, sizeof c.label, "constraints/%.200s", names[i]);
        rc_run(&c);
        failures += c.failures;
        free(names[i]);
    }
    fprintf(stderr, "ref_constraints: %d cases, %d tensors NOT OK (tolerance %.0e)\n", n,
            failures, RC_TOL);
    cr_assert_eq(failures, 0);
}
