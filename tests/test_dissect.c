/* test_dissect.c — the dissection analyses (src/analysis/): d′ in closed
 * form, decoders at chance on shuffled labels and perfect on separable data,
 * perturbation statistics on a tiny CT-RNN and GRU (zero strength = the
 * unperturbed error, error grows with strength, same seed = same numbers,
 * weights restored), bad input, and `silico analyze` end to end on a tiny
 * run trained here (build/silico, or $SILICO_BIN). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "silico.h"
#include "testutil.h"

/* ------------------------------------------------------------ selectivity */

Test(dissect, dprime_closed_form)
{
    /* unit 0: a = {1, 3}, b = {0, 0}: 2·(2 − 0)/√(1 + 0) = 4; unit 1 equal constants: 0;
     * unit 2 constant but different: NaN */
    const double X[] = {1, 5, 2, 3, 5, 2, 0, 5, 1, 0, 5, 1};
    const int g[] = {1, 1, 0, 0};
    double d[3];
    cr_assert_eq(sl_dprime(X, 4, 3, g, d), SL_OK);
    cr_expect_float_eq(d[0], 4.0, 1e-12);
    cr_expect_float_eq(d[1], 0.0, 1e-12);
    cr_expect(isnan(d[2]));
    const int bad[] = {1, 1, -1, -1};
    cr_expect_eq(sl_dprime(X, 4, 3, bad, d), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "group b") != NULL, "%s", sl_last_error());
    double Xn[12];
    memcpy(Xn, X, sizeof Xn);
    Xn[4] = NAN;
    cr_expect_eq(sl_dprime(Xn, 4, 3, g, d), SL_ENUMERIC);
}

Test(dissect, dprime_null_below_a_real_effect)
{
    /* 40 trials × 20 units; unit 7 separates the groups by 3 sd */
    enum { n = 40, N = 20 };
    double X[n * N], d[N], null[200];
    int g[n];
    sl_rng r;
    sl_rng_seed(&r, 5);
    for (int k = 0; k < n; k++) {
        g[k] = k % 2;
        for (int i = 0; i < N; i++) X[k * N + i] = sl_rng_normal(&r) + (i == 7 && g[k] ? 3.0 : 0.0);
    }
    cr_assert_eq(sl_dprime(X, n, N, g, d), SL_OK);
    cr_assert_eq(sl_dprime_null(X, n, N, g, 200, 1, null), SL_OK);
    int above = 0;
    for (int s = 0; s < 200; s++) above += null[s] >= fabs(d[7]);
    cr_expect_eq(above, 0, "unit 7's d' %g should beat every shuffle", d[7]);
    double again[200];
    sl_dprime_null(X, n, N, g, 200, 1, again);
    cr_expect_eq(memcmp(null, again, sizeof null), 0, "same seed, same null");
}

/* ------------------------------------------------------------- decoders */

Test(dissect, logistic_chance_and_perfect)
{
    enum { n = 120, p = 10 };
    double X[n * p], acc;
    int y[n], fold[n], sh[n];
    sl_rng r;
    sl_rng_seed(&r, 3);
    for (int k = 0; k < n; k++) {
        y[k] = k % 3;
        for (int j = 0; j < p; j++) X[k * p + j] = sl_rng_normal(&r) + (j == y[k] ? 6.0 : 0.0);
    }
    sl_cv_folds(n, 5, &r, fold);
    cr_assert_eq(sl_logistic_cv(X, n, p, y, 1.0, fold, 5, &acc), SL_OK, "%s", sl_last_error());
    cr_expect_geq(acc, 0.99, "separable: %g", acc);
    /* shuffled labels: chance (1/3) within a few standard errors, averaged over shuffles */
    double m = 0;
    for (int s = 0; s < 10; s++) {
        memcpy(sh, y, sizeof sh);
        sl_rng_shuffle(&r, sh, n);
        cr_assert_eq(sl_logistic_cv(X, n, p, sh, 1.0, fold, 5, &acc), SL_OK);
        m += acc / 10;
    }
    cr_expect(fabs(m - 1.0 / 3) < 0.1, "shuffled accuracy %g should be near 1/3", m);
}

Test(dissect, ridge_perfect_and_shuffled)
{
    enum { n = 100, p = 5 };
    double X[n * p], Y[n], Ys[n], r2;
    int fold[n], idx[n];
    sl_rng r;
    sl_rng_seed(&r, 4);
    for (int k = 0; k < n; k++) {
        Y[k] = 0;
        for (int j = 0; j < p; j++) {
            X[k * p + j] = sl_rng_normal(&r);
            Y[k] += (j + 1) * X[k * p + j];
        }
        idx[k] = k;
    }
    sl_cv_folds(n, 5, &r, fold);
    cr_assert_eq(sl_ridge_cv(X, n, p, Y, 1, 1e-3, fold, 5, &r2), SL_OK);
    cr_expect_geq(r2, 0.999, "noise-free linear target: R2 %g", r2);
    sl_rng_shuffle(&r, idx, n);
    for (int k = 0; k < n; k++) Ys[k] = Y[idx[k]];
    cr_assert_eq(sl_ridge_cv(X, n, p, Ys, 1, 1e-3, fold, 5, &r2), SL_OK);
    cr_expect_lt(r2, 0.1, "shuffled target: R2 %g should be near or below 0", r2);
    int badf[n];
    for (int k = 0; k < n; k++) badf[k] = 0;
    cr_expect_eq(sl_ridge_cv(X, n, p, Y, 1, 1.0, badf, 5, &r2), SL_EINVAL);
    X[3] = NAN;
    cr_expect_eq(sl_ridge_cv(X, n, p, Y, 1, 1.0, fold, 5, &r2), SL_ENUMERIC);
}

/* ----------------------------------------------------------- perturbation */

typedef struct {
    sl_model *m;
    sl_real *u, *y;
    sl_batch d;
    double null_mse;
} tiny_t;

static void tiny(tiny_t *t, sl_cell_kind kind)
{
    enum { B = 6, T = 30, NI = 3, NO = 2, N = 16 };
    sl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_in = NI, s.n_hidden = N, s.n_out = NO, s.act = SL_ACT_TANH, s.cell = kind;
    s.tau_ms = 50, s.dt_ms = 10, s.g = 1.2, s.h = 1.0;
    sl_rng r;
    sl_rng_seed(&r, 11);
    cr_assert_eq(sl_model_create(&s, &r, &t->m), SL_OK, "%s", sl_last_error());
    t->u = malloc(sizeof(sl_real) * B * T * NI);
    t->y = malloc(sizeof(sl_real) * B * T * NO);
    for (int i = 0; i < B * T * NI; i++) t->u[i] = (sl_real)(sl_rng_uniform(&r) + 0.2);
    /* targets: the network's own outputs plus a small offset, so it is "trained"
     * (low error) and every perturbation can only make it worse */
    sl_workspace *ws;
    cr_assert_eq(sl_workspace_create(t->m, B, T, &ws), SL_OK);
    cr_assert_eq(sl_model_forward(t->m, ws, t->u, B, T, NULL, t->y), SL_OK);
    sl_workspace_free(ws);
    for (int i = 0; i < B * T * NO; i++) t->y[i] += (sl_real)(0.02 * sin(0.1 * i));
    memset(&t->d, 0, sizeof t->d);
    t->d.B = B, t->d.T = T, t->d.n_in = NI, t->d.n_out = NO, t->d.u = t->u, t->d.y = t->y;
    t->null_mse = sl_null_mse(t->y, NULL, (size_t)B * T, NO);
}

static void tiny_free(tiny_t *t)
{
    sl_model_free(t->m);
    free(t->u);
    free(t->y);
}

static void perturb_stats(sl_cell_kind kind)
{
    tiny_t t;
    tiny(&t, kind);
    const double base = sl_perturb_error(t.m, &t.d, t.null_mse);
    cr_assert(isfinite(base) && base > 0, "unperturbed error %g", base);
    /* the unperturbed error from the model's own forward */
    sl_real z[6 * 30 * 2];
    sl_workspace *ws;
    cr_assert_eq(sl_workspace_create(t.m, 6, 30, &ws), SL_OK);
    sl_model_forward(t.m, ws, t.u, 6, 30, NULL, z);
    sl_workspace_free(ws);
    double direct = 100 * sl_mse_loss(z, t.y, NULL, 6 * 30 * 2, NULL) / t.null_mse;
    cr_expect_float_eq(base, direct, 1e-6 * direct);
    const size_t np = sl_model_num_params(t.m);
    sl_real *before = malloc(np * sizeof *before);
    memcpy(before, sl_model_params(t.m), np * sizeof *before);
    const sl_perturb_kind kinds[] = {SL_PERTURB_INPUT, SL_PERTURB_WEIGHT, SL_PERTURB_SYNAPSE, SL_PERTURB_ABLATE};
    const double lv[] = {0.0, 0.01, 0.9};
    for (int k = 0; k < 4; k++) {
        double e[3 * 8], e2[3 * 8];
        cr_assert_eq(sl_perturb(t.m, &t.d, t.null_mse, kinds[k], lv, 3, 8, 42, e), SL_OK, "%s", sl_last_error());
        for (int r = 0; r < 8; r++) /* the input kind batches the repeats: float32 GEMM blocking may differ */
            cr_expect_float_eq(e[r], base, 1e-4 * base, "kind %d: level 0 = unperturbed (%g vs %g)", k, e[r], base);
        double m1 = 0, m2 = 0;
        for (int r = 0; r < 8; r++) m1 += e[8 + r] / 8, m2 += e[16 + r] / 8;
        cr_expect_gt(m2, base, "kind %d: strong perturbation raises the error (%g vs %g)", k, m2, base);
        cr_expect_gt(m2, m1, "kind %d: error grows with strength (%g then %g)", k, m1, m2);
        cr_assert_eq(sl_perturb(t.m, &t.d, t.null_mse, kinds[k], lv, 3, 8, 42, e2), SL_OK);
        cr_expect_eq(memcmp(e, e2, sizeof e), 0, "kind %d: same seed, same numbers", k);
        cr_expect_eq(memcmp(before, sl_model_params(t.m), np * sizeof *before), 0, "weights restored");
    }
    /* silencing every unit leaves only the readout bias */
    int all[16];
    for (int i = 0; i < 16; i++) all[i] = i;
    double ea;
    cr_assert_eq(sl_perturb_ablate_units(t.m, &t.d, t.null_mse, all, 16, &ea), SL_OK);
    cr_expect_gt(ea, base);
    cr_expect_eq(memcmp(before, sl_model_params(t.m), np * sizeof *before), 0);
    /* bad input */
    const double neg[] = {-1};
    cr_expect_eq(sl_perturb(t.m, &t.d, t.null_mse, SL_PERTURB_INPUT, neg, 1, 2, 1, &ea), SL_EINVAL);
    const double big[] = {1.5};
    cr_expect_eq(sl_perturb(t.m, &t.d, t.null_mse, SL_PERTURB_SYNAPSE, big, 1, 2, 1, &ea), SL_EINVAL);
    int out[1] = {16};
    cr_expect_eq(sl_perturb_ablate_units(t.m, &t.d, t.null_mse, out, 1, &ea), SL_EINVAL);
    sl_batch wrong = t.d;
    wrong.n_in = 4;
    cr_expect_eq(sl_perturb(t.m, &wrong, t.null_mse, SL_PERTURB_INPUT, lv, 1, 1, 1, &ea), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "inputs") != NULL, "%s", sl_last_error());
    t.u[5] = NAN;
    cr_expect_eq(sl_perturb(t.m, &t.d, t.null_mse, SL_PERTURB_INPUT, lv, 1, 1, 1, &ea), SL_ENUMERIC);
    free(before);
    tiny_free(&t);
}

Test(dissect, perturb_ctrnn) { perturb_stats(SL_CELL_CTRNN); }
Test(dissect, perturb_gru) { perturb_stats(SL_CELL_GRU); }

Test(dissect, perturb_classification_scores_decisions)
{
    /* labels = the network's own argmax: 0 % wrong on the scored steps unperturbed */
    tiny_t t;
    tiny(&t, SL_CELL_GRU);
    int labels[6 * 30];
    unsigned char dec[6 * 30] = {0};
    sl_real z[6 * 30 * 2];
    sl_workspace *ws;
    cr_assert_eq(sl_workspace_create(t.m, 6, 30, &ws), SL_OK);
    sl_model_forward(t.m, ws, t.u, 6, 30, NULL, z);
    sl_workspace_free(ws);
    for (int r = 0; r < 6 * 30; r++) labels[r] = z[2 * r + 1] > z[2 * r];
    for (int b = 0; b < 6; b++) dec[b * 30 + 29] = 1;
    sl_batch d = t.d;
    d.y = NULL, d.labels = labels, d.decision = dec;
    cr_expect_float_eq(sl_perturb_error(t.m, &d, NAN), 0.0, 1e-12);
    labels[29] = !labels[29]; /* one of the six decisions now wrong */
    cr_expect_float_eq(sl_perturb_error(t.m, &d, NAN), 100.0 / 6, 1e-9);
    tiny_free(&t);
}

Test(dissect, activity_gates_and_psth)
{
    tiny_t t;
    tiny(&t, SL_CELL_LSTM);
    sl_activity a;
    cr_assert_eq(sl_activity_run(t.m, t.u, 6, 30, NULL, &a), SL_OK, "%s", sl_last_error());
    cr_expect_eq(a.n_gates, 5);
    cr_expect_str_eq(a.gate_names[0], "gate_i");
    cr_expect_str_eq(a.gate_names[4], "cell");
    /* h = o ⊙ tanh(c) */
    for (size_t i = 0; i < 6 * 30 * 16; i++)
        cr_assert_float_eq(a.r[i], a.gates[3][i] * tanh(a.gates[4][i]), 1e-5);
    int grp[6] = {0, 1, 0, 1, 0, 1}, cnt[2];
    double *ps = malloc(sizeof(double) * 2 * 30 * 16);
    cr_assert_eq(sl_psth(a.r, 6, 30, 16, grp, 2, ps, cnt), SL_OK);
    cr_expect_eq(cnt[0], 3);
    cr_expect_float_eq(ps[5], (a.r[5] + a.r[2 * 30 * 16 + 5] + a.r[4 * 30 * 16 + 5]) / 3, 1e-6);
    grp[0] = 2;
    cr_expect_eq(sl_psth(a.r, 6, 30, 16, grp, 2, ps, cnt), SL_EINVAL);
    free(ps);
    sl_activity_free(&a);
    t.u[0] = INFINITY;
    cr_expect_eq(sl_activity_run(t.m, t.u, 6, 30, NULL, &a), SL_ENUMERIC);
    tiny_free(&t);
}

/* ----------------------------------------------------------- the CLI */

/* run "silico ARGS" with stdout+stderr into dir/log; returns the exit status */
static int sh(const char *dir, const char *args)
{
    char *lp = tu_path(dir, "log");
    int rc = tu_silico(args, lp, NULL);
    free(lp);
    return rc;
}

static char *log_of(const char *dir)
{
    char *p = tu_path(dir, "log"), *s = tu_read_file(p, NULL);
    free(p);
    return s ? s : strdup("");
}

static cJSON *json_at(const char *path)
{
    char *s = tu_read_file(path, NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    free(s);
    return j;
}

Test(dissect_cli, analyze_end_to_end, .timeout = 300)
{
    char *dir = tu_tmpdir(), args[2048], p[1024];
    cr_assert_not_null(dir);
    for (int s = 1; s <= 2; s++) {
        snprintf(args, sizeof args, "train examples/reach.ini task.name=reach_synthetic model.hidden=16 "
                 "train.epochs=20 run.seed=%d --quiet --out %s/run%d", s, dir, s);
        cr_assert_eq(sh(dir, args), 0, "%s", log_of(dir));
    }
    snprintf(args, sizeof args, "analyze %s/run1 %s/run2 --repeats 3 --shuffles 20 --permutations 2 "
             "--trials-per-condition 3 --trials 16 --pool %s/pool", dir, dir, dir);
    int rc = sh(dir, args);
    char *log = log_of(dir);
    cr_assert_eq(rc, 0, "%s", log);
    cr_expect(strstr(log, "[2/") && strstr(log, "] perturb: done") != NULL, "a progress line per analysis: %s", log);
    free(log);
    const char *want[] = {"activity/u.npy", "activity/y.npy", "activity/z.npy", "activity/x.npy",
                          "activity/r.npy", "activity/time.npy", "activity/conditions.json",
                          "activity/trials_r.npy", "activity/psth.npy", "perturb/input.npy",
                          "perturb/weight.npy", "selectivity/dprime.npy",
                          "selectivity/max_activation.npy", "decode/decode_time.npy",
                          "encode/encode_r2.npy", NULL};
    for (int i = 0; want[i]; i++) {
        snprintf(p, sizeof p, "%s/run1/analysis/%s", dir, want[i]);
        struct stat sb;
        cr_expect_eq(stat(p, &sb), 0, "missing %s", p);
    }
    snprintf(p, sizeof p, "%s/run1/analysis/perturb/summary.json", dir);
    cJSON *j = json_at(p);
    cr_assert_not_null(j);
    cJSON *in = cJSON_GetObjectItem(j, "input");
    cr_expect_eq(cJSON_GetArraySize(in), 5);
    cr_expect_float_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(in, 2), "strength")->valuedouble, 0.05, 1e-12);
    cr_expect(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetArrayItem(in, 2), "mean_error_pct")));
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "weight")), 5);
    cJSON_Delete(j);
    snprintf(p, sizeof p, "%s/pool/analysis/perturb/summary.json", dir);
    j = json_at(p);
    cr_assert_not_null(j, "pooled summary %s", p);
    cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "weight"), 1);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(w, "per_run")), 2);
    double a = cJSON_GetArrayItem(cJSON_GetObjectItem(w, "per_run"), 0)->valuedouble;
    double b = cJSON_GetArrayItem(cJSON_GetObjectItem(w, "per_run"), 1)->valuedouble;
    cr_expect_float_eq(cJSON_GetObjectItem(w, "mean_error_pct")->valuedouble, (a + b) / 2, 1e-9);
    cr_expect_float_eq(cJSON_GetObjectItem(w, "sd_error_pct")->valuedouble, fabs(a - b) / 2, 1e-9);
    cJSON_Delete(j);

    /* bad input: unknown analysis, unknown option, missing checkpoint, no run */
    snprintf(args, sizeof args, "analyze %s/run1 --only perturb,nosuch", dir);
    cr_expect_eq(sh(dir, args), 2);
    log = log_of(dir);
    cr_expect(strstr(log, "unknown analysis 'nosuch'") && strstr(log, "activity"), "%s", log);
    free(log);
    snprintf(args, sizeof args, "analyze %s/run1 --only perturb --shuffles 3", dir);
    cr_expect_eq(sh(dir, args), 2);
    log = log_of(dir);
    cr_expect(strstr(log, "--shuffles") != NULL, "%s", log);
    free(log);
    snprintf(p, sizeof p, "%s/run2/checkpoint.safetensors", dir);
    remove(p);
    snprintf(args, sizeof args, "analyze %s/run2 --only perturb", dir);
    cr_expect_eq(sh(dir, args), 1);
    log = log_of(dir);
    cr_expect(strstr(log, "no checkpoint.safetensors") != NULL, "%s", log);
    free(log);
    snprintf(args, sizeof args, "analyze %s/run1 --only perturb --repeats abc", dir);
    cr_expect_eq(sh(dir, args), 1);
    log = log_of(dir);
    cr_expect(strstr(log, "--repeats") != NULL, "%s", log);
    free(log);
    cr_expect_eq(sh(dir, "analyze --help"), 0);
    log = log_of(dir);
    cr_expect(strstr(log, "--weight-fractions") && strstr(log, "selectivity") && strstr(log, "Example"), "%s", log);
    free(log);
    tu_rmtree(dir);
}
