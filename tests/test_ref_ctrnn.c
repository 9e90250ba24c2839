/* test_ref_ctrnn.c — the CT-RNN against PyTorch golden tensors (llm.c style).
 *
 * tests/ref/gen_ctrnn.py writes, per case, a directory ctrnn_<case>/ with the
 * batch, the weights, and PyTorch's (float64) outputs, loss terms, gradients,
 * 10 Adam losses and the weights after those 10 steps. Here every case found
 * under tests/golden (or $SILICO_GOLDEN_DIR, set by `make test-ref` to freshly
 * generated files) is run through sl_model_loss / sl_adam_step in sl_real
 * (float32) and each tensor compared with
 *     rel = max|c − ref| / max(max|ref|, 1e-6)  ≤ 1e-4,
 * printing one line per tensor to stderr ("ctrnn_n1 grad_J rel 3.2e-07").
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "testutil.h"

#define REF_TOL 1e-4
#define REF_MAX_CASES 64
#define REF_MAX_PARAMS 6

typedef struct {
    const char *dir;  /* golden root */
    const char *name; /* "ctrnn_n1" */
    int failures;
} ref_ctx;

static char *ref_path(const ref_ctx *c, const char *file)
{
    size_t n = strlen(c->dir) + strlen(c->name) + strlen(file) + 3;
    char *p = malloc(n);
    cr_assert_not_null(p);
    snprintf(p, n, "%s/%s/%s", c->dir, c->name, file);
    return p;
}

/* Load <file>.npy as doubles; *n_out gets the element count. */
static double *ref_load(const ref_ctx *c, const char *stem, size_t *n_out)
{
    char file[128];
    snprintf(file, sizeof file, "%s.npy", stem);
    char *path = ref_path(c, file);
    double *out = tu_npy_doubles(path, n_out, TU_DT(SL_F64) | TU_DT(SL_F32));
    cr_assert_not_null(out, "%s: %s", c->name, sl_last_error());
    free(path);
    return out;
}

static sl_real *ref_to_real(const double *d, size_t n)
{
    sl_real *r = malloc((n ? n : 1) * sizeof(sl_real));
    cr_assert_not_null(r);
    for (size_t i = 0; i < n; i++)
        r[i] = (sl_real)d[i];
    return r;
}

/* Compare n values of sl_real against double references; print the max rel. */
static void ref_check(ref_ctx *c, const char *what, const sl_real *got, const double *ref,
                      size_t n)
{
    double rel = tu_golden_rel(c->name, what, got, ref, n, REF_TOL);
    int ok = rel <= REF_TOL;
    if (!ok)
        c->failures++;
    cr_expect(ok, "%s %s: max rel diff %.3e > %.0e", c->name, what, rel, REF_TOL);
}

static void ref_check_scalar(ref_ctx *c, const char *what, double got, double ref)
{
    double maxdiff = fabs(got - ref);
    double rel = isfinite(got) ? maxdiff / fmax(fabs(ref), 1e-6) : INFINITY;
    int ok = rel <= REF_TOL;
    fprintf(stderr, "%s %s rel %.2e%s\n", c->name, what, rel, ok ? "" : "  NOT OK");
    if (!ok)
        c->failures++;
    cr_expect(ok, "%s %s: %.9g vs ref %.9g (rel %.3e)", c->name, what, got, ref, rel);
}

static cJSON *ref_config(const ref_ctx *c)
{
    char *path = ref_path(c, "config.json");
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: cannot open %s", c->name, path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len + 1);
    cr_assert_not_null(text);
    cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = 0;
    fclose(f);
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "%s: %s is not valid JSON", c->name, path);
    free(text);
    free(path);
    return j;
}

static double cfg_num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    cr_assert(cJSON_IsNumber(v) || cJSON_IsBool(v), "config.json: missing number %s", key);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? 1.0 : 0.0;
    return v->valuedouble;
}

static void run_case(ref_ctx *c)
{
    cJSON *cfg = ref_config(c);
    const int N = (int)cfg_num(cfg, "N"), n_in = (int)cfg_num(cfg, "n_in");
    const int n_out = (int)cfg_num(cfg, "n_out"), B = (int)cfg_num(cfg, "B");
    const int T = (int)cfg_num(cfg, "T");
    const int steps = (int)cfg_num(cfg, "adam_steps");
    const double clip = cfg_num(cfg, "clip");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(cfg, "act");
    cr_assert(cJSON_IsString(act));

    sl_model_spec spec = {0};
    spec.n_in = n_in;
    spec.n_hidden = N;
    spec.n_out = n_out;
    cr_assert_eq(sl_activation_parse(act->valuestring, &spec.act), SL_OK, "%s: activation %s",
                 c->name, act->valuestring);
    spec.tau_ms = cfg_num(cfg, "tau");
    spec.dt_ms = cfg_num(cfg, "dt");
    spec.g = 1.5;
    spec.h = 1.0;
    spec.learn_x0 = (int)cfg_num(cfg, "learn_x0");
    spec.sigma_rec = 0;

    sl_loss_spec lspec = {0};
    lspec.l2_weight = cfg_num(cfg, "l2_weight");
    lspec.l2_rate = cfg_num(cfg, "l2_rate");
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(cfg, "l2_on"), *it;
    cr_assert(cJSON_IsArray(on));
    cJSON_ArrayForEach(it, on)
    {
        cr_assert(cJSON_IsString(it));
        if (!strcmp(it->valuestring, "J"))
            lspec.l2_on |= SL_L2_J;
        else if (!strcmp(it->valuestring, "B"))
            lspec.l2_on |= SL_L2_B;
        else if (!strcmp(it->valuestring, "W"))
            lspec.l2_on |= SL_L2_W;
        else
            cr_assert_fail("%s: unknown l2_on entry %s", c->name, it->valuestring);
    }

    sl_adam_spec aspec = {0};
    aspec.lr = aspec.lr_final = cfg_num(cfg, "lr");
    aspec.schedule = SL_LR_CONSTANT;
    aspec.total_steps = steps;
    aspec.beta1 = cfg_num(cfg, "beta1");
    aspec.beta2 = cfg_num(cfg, "beta2");
    aspec.eps = cfg_num(cfg, "eps");

    sl_rng rng;
    sl_rng_seed(&rng, 1234);
    sl_model *m = NULL;
    cr_assert_eq(sl_model_create(&spec, &rng, &m), SL_OK, "%s: sl_model_create: %s", c->name,
                 sl_last_error());

    /* parameters: J, B, b, W, c, [x0] — place each at its offset */
    const cJSON *plist = cJSON_GetObjectItemCaseSensitive(cfg, "params");
    cr_assert(cJSON_IsArray(plist));
    int np = cJSON_GetArraySize(plist);
    cr_assert_eq(np, sl_model_num_tensors(m), "%s: %d tensors in golden, %d in model", c->name,
                 np, sl_model_num_tensors(m));
    cr_assert(np <= REF_MAX_PARAMS);
    const char *pname[REF_MAX_PARAMS];
    const sl_param_info *pinfo[REF_MAX_PARAMS];
    sl_real *params = sl_model_params(m), *grads = sl_model_grads(m);
    size_t total = 0;
    for (int k = 0; k < np; k++) {
        const cJSON *e = cJSON_GetArrayItem(plist, k);
        cr_assert(cJSON_IsString(e));
        pname[k] = e->valuestring;
        pinfo[k] = sl_model_find(m, pname[k]);
        cr_assert_not_null(pinfo[k], "%s: model has no tensor %s", c->name, pname[k]);
        size_t n;
        double *v = ref_load(c, pname[k], &n);
        cr_assert_eq(n, pinfo[k]->numel, "%s: %s has %zu values, model %zu", c->name, pname[k],
                     n, pinfo[k]->numel);
        for (size_t i = 0; i < n; i++)
            params[pinfo[k]->offset + i] = (sl_real)v[i];
        total += n;
        free(v);
    }
    cr_assert_eq(total, sl_model_num_params(m));

    size_t nu, ny, nmask;
    double *u_d = ref_load(c, "u", &nu), *y_d = ref_load(c, "y", &ny);
    double *mask_d = ref_load(c, "mask", &nmask);
    cr_assert_eq(nu, (size_t)B * T * n_in);
    cr_assert_eq(ny, (size_t)B * T * n_out);
    cr_assert_eq(nmask, ny);
    sl_real *u = ref_to_real(u_d, nu), *y = ref_to_real(y_d, ny);
    sl_real *mask = ref_to_real(mask_d, nmask);
    sl_real *z = calloc(ny, sizeof(sl_real)), *dz = calloc(ny, sizeof(sl_real));
    cr_assert(z && dz);

    sl_workspace *ws = NULL;
    cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK, "%s", sl_last_error());
    sl_batch batch = {.B = B, .T = T, .n_in = n_in, .n_out = n_out,
                      .u = u, .y = y, .mask = mask, .cond = NULL};

    /* ---- forward, loss terms, gradients */
    sl_loss_terms terms;
    sl_model_zero_grad(m);
    cr_assert_eq(sl_model_loss(m, ws, &batch, &lspec, NULL, 1, &terms, z), SL_OK, "%s: %s",
                 c->name, sl_last_error());
    size_t n;
    double *ref = ref_load(c, "z", &n);
    cr_assert_eq(n, ny);
    ref_check(c, "z", z, ref, n);
    free(ref);
    ref = ref_load(c, "loss", &n);
    cr_assert_eq(n, 4);
    ref_check_scalar(c, "loss_total", terms.total, ref[0]);
    ref_check_scalar(c, "loss_mse", terms.mse, ref[1]);
    ref_check_scalar(c, "loss_weight_l2", terms.weight_l2, ref[2]);
    ref_check_scalar(c, "loss_rate", terms.rate, ref[3]);
    free(ref);
    double **gref = calloc((size_t)np, sizeof(double *));
    cr_assert_not_null(gref);
    for (int k = 0; k < np; k++) {
        char stem[64], what[64];
        snprintf(stem, sizeof stem, "grad_%s", pname[k]);
        gref[k] = ref_load(c, stem, &n);
        cr_assert_eq(n, pinfo[k]->numel);
        snprintf(what, sizeof what, "grad_%s", pname[k]);
        ref_check(c, what, grads + pinfo[k]->offset, gref[k], n);
    }

    /* ---- the same gradients through the lower-level path: forward,
     * sl_mse_loss's dz, backward with the rate coefficient, plus the weight
     * penalty's 2·λ_w·M added here */
    sl_model_zero_grad(m);
    cr_assert_eq(sl_model_forward(m, ws, u, B, T, NULL, z), SL_OK, "%s", sl_last_error());
    double mse = sl_mse_loss(z, y, mask, ny, dz);
    ref = ref_load(c, "loss", &n);
    ref_check_scalar(c, "sl_mse_loss", mse, ref[1]);
    free(ref);
    cr_assert_eq(sl_model_backward(m, ws, dz, lspec.l2_rate / ((double)B * T * N)), SL_OK,
                 "%s", sl_last_error());
    for (int k = 0; k < np; k++) {
        unsigned bit = !strcmp(pname[k], "J")   ? SL_L2_J
                       : !strcmp(pname[k], "B") ? SL_L2_B
                       : !strcmp(pname[k], "W") ? SL_L2_W
                                                : 0;
        sl_real *g = grads + pinfo[k]->offset;
        const sl_real *p = params + pinfo[k]->offset;
        if (lspec.l2_on & bit)
            for (size_t i = 0; i < pinfo[k]->numel; i++)
                g[i] += (sl_real)(2.0 * lspec.l2_weight * p[i]);
        char what[64];
        snprintf(what, sizeof what, "backward_grad_%s", pname[k]);
        ref_check(c, what, g, gref[k], pinfo[k]->numel);
        free(gref[k]);
    }
    free(gref);

    /* ---- 10 Adam steps from the same weights (loss recorded before each) */
    sl_adam *opt = NULL;
    size_t P = sl_model_num_params(m);
    cr_assert_eq(sl_adam_create(&aspec, P, &opt), SL_OK, "%s", sl_last_error());
    sl_real *losses = calloc((size_t)steps, sizeof(sl_real));
    cr_assert_not_null(losses);
    for (int s = 0; s < steps; s++) {
        sl_model_zero_grad(m);
        cr_assert_eq(sl_model_loss(m, ws, &batch, &lspec, NULL, 1, &terms, NULL), SL_OK, "%s",
                     sl_last_error());
        losses[s] = (sl_real)terms.total;
        if (clip > 0)
            sl_clip_grad_norm(grads, P, clip);
        sl_adam_step(opt, params, grads);
    }
    cr_expect_eq(sl_adam_steps(opt), steps);
    ref = ref_load(c, "adam_losses", &n);
    cr_assert_eq(n, (size_t)steps);
    ref_check(c, "adam_losses", losses, ref, n);
    free(ref);
    for (int k = 0; k < np; k++) {
        char stem[64];
        snprintf(stem, sizeof stem, "%s_after10", pname[k]);
        ref = ref_load(c, stem, &n);
        cr_assert_eq(n, pinfo[k]->numel);
        ref_check(c, stem, params + pinfo[k]->offset, ref, n);
        free(ref);
    }

    free(losses);
    sl_adam_free(opt);
    sl_workspace_free(ws);
    sl_model_free(m);
    free(u), free(y), free(mask), free(z), free(dz);
    free(u_d), free(y_d), free(mask_d);
    cJSON_Delete(cfg);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(ref_ctrnn, golden_cases, .timeout = 120)
{
    const char *dir = getenv("SILICO_GOLDEN_DIR");
    if (!dir || !*dir)
        dir = "tests/golden";
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open golden directory %s (run from the repository root, "
                          "or set SILICO_GOLDEN_DIR)",
                       dir);
    char *names[REF_MAX_CASES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "ctrnn_", 6) != 0)
            continue;
        cr_assert(n < REF_MAX_CASES);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    cr_assert_gt(n, 0, "no ctrnn_* cases under %s", dir);
    qsort(names, (size_t)n, sizeof *names, cmp_str);

    int failures = 0;
    for (int i = 0; i < n; i++) {
        ref_ctx c = {.dir = dir, .name = names[i], .failures = 0};
        run_case(&c);
        failures += c.failures;
        free(names[i]);
    }
    fprintf(stderr, "ref_ctrnn: %d cases, %d tensors NOT OK (tolerance %.0e)\n", n, failures,
            REF_TOL);
    cr_assert_eq(failures, 0);
}
