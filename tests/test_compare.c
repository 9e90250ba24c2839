/* test_compare.c — `silico compare` and the pca/tangling/jpca runners on a
 * small trained run (reach_synthetic, 16 units, 30 epochs, ~0.2 s):
 * sl_read_array on a .mat written here with matio (struct fields, struct
 * array elements, cells, condensed RDM vectors, int16 times) and on .npy;
 * the runners called directly (the analyze CLI lives elsewhere); the compare
 * CLI on that .mat and, when ../shared/data is present, on the Churchland
 * 2012 M1 PSTHs; bad input (unknown variable and field, dims that do not fit,
 * NaN, a --time of the wrong length) exits 2 naming the variable and shape. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/analysis.h"
#include "silico.h"
#include "testutil.h"

/* the shared data folder beside the checkout (override: SILICO_SHARED_DATA) */
static const char *churchland(void)
{
    static char path[1024];
    const char *root = getenv("SILICO_SHARED_DATA");
    snprintf(path, sizeof path, "%s/churchland2012_m1_reach_tme/exampleData.mat",
             root && *root ? root : "../shared/data");
    return path;
}

/* Run silico with a shell-quoted argument string; stdout+stderr into dir/log. */
static int run(const char *dir, const char *args, char **log)
{
    char *lp = tu_path(dir, "log");
    int rc = tu_silico(args, lp, NULL);
    *log = tu_read_file(lp, NULL);
    if (!*log) *log = strdup("");
    free(lp);
    return rc;
}

static void put(mat_t *m, matvar_t *v)
{
    cr_assert_not_null(v);
    cr_assert_eq(Mat_VarWrite(m, v, MAT_COMPRESSION_ZLIB), 0);
    Mat_VarFree(v);
}

/* data.mat: X (T×N×C = 31×6×8 doubles, times -50..250 ms), t (int16 31×1),
 * Xnan (X with one NaN), S (1×2 struct, field RDM = 1×28 condensed), K (cell
 * 1×2 with a 2×3 matrix in {2}). Returns X (row-major in MATLAB's order). */
static double *write_mat(const char *path)
{
    mat_t *m = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    cr_assert_not_null(m, "cannot create %s", path);
    enum { T = 31, N = 6, C = 8 };
    static double col[T * N * C], rowm[T * N * C];
    for (int c = 0; c < C; c++)
        for (int n = 0; n < N; n++)
            for (int t = 0; t < T; t++) {
                double v = sin(0.1 * t * (n + 1) + 0.7 * c) + 0.05 * n * c;
                col[t + T * (n + N * c)] = v;      /* MATLAB column-major */
                rowm[(t * N + n) * C + c] = v;     /* row-major, same dims order */
            }
    size_t d3[3] = {T, N, C};
    put(m, Mat_VarCreate("X", MAT_C_DOUBLE, MAT_T_DOUBLE, 3, d3, col, 0));
    col[17] = NAN;
    put(m, Mat_VarCreate("Xnan", MAT_C_DOUBLE, MAT_T_DOUBLE, 3, d3, col, 0));
    int16_t tv[T];
    for (int i = 0; i < T; i++) tv[i] = (int16_t)(-50 + 10 * i);
    size_t dt[2] = {T, 1};
    put(m, Mat_VarCreate("t", MAT_C_INT16, MAT_T_INT16, 2, dt, tv, 0));
    size_t ds[2] = {1, 2}, dr[2] = {1, 28};
    const char *fields[1] = {"RDM"};
    matvar_t *s = Mat_VarCreateStruct("S", 2, ds, fields, 1);
    for (int k = 0; k < 2; k++) {
        double r[28];
        for (int i = 0; i < 28; i++) r[i] = 10 * k + i;
        Mat_VarSetStructFieldByName(s, "RDM", (size_t)k,
                                    Mat_VarCreate("RDM", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dr, r, 0));
    }
    put(m, s);
    size_t dc[2] = {1, 2}, dm[2] = {2, 3};
    matvar_t *cell = Mat_VarCreate("K", MAT_C_CELL, MAT_T_CELL, 2, dc, NULL, 0);
    double a[6] = {1, 2, 3, 4, 5, 6}; /* column-major 2×3: [[1,3,5],[2,4,6]] */
    double z[1] = {0};
    size_t d1[2] = {1, 1};
    Mat_VarSetCell(cell, 0, Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, d1, z, 0));
    Mat_VarSetCell(cell, 1, Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dm, a, 0));
    put(m, cell);
    Mat_Close(m);
    double *out = malloc(sizeof rowm);
    memcpy(out, rowm, sizeof rowm);
    return out;
}

Test(compare, read_mat_and_npy)
{
    char *dir = tu_tmpdir(), *mat = tu_path(dir, "data.mat"), spec[1200];
    double *X = write_mat(mat), *d;
    int nd;
    int64_t sh[SL_MAX_DIMS];
    snprintf(spec, sizeof spec, "%s:X", mat);
    cr_assert_eq(sl_read_array(spec, &d, &nd, sh), SL_OK, "%s", sl_last_error());
    cr_assert(nd == 3 && sh[0] == 31 && sh[1] == 6 && sh[2] == 8);
    for (int i = 0; i < 31 * 6 * 8; i++) cr_assert_eq(d[i], X[i], "element %d", i);
    free(d);
    snprintf(spec, sizeof spec, "%s:S(2).RDM", mat);
    cr_assert_eq(sl_read_array(spec, &d, &nd, sh), SL_OK, "%s", sl_last_error());
    cr_assert(nd == 2 && sh[0] == 1 && sh[1] == 28 && d[0] == 10 && d[27] == 37);
    double *full;
    int n;
    cr_assert_eq(sl_rdm_from_condensed(d, 28, &full, &n), SL_OK);
    cr_expect(n == 8 && full[0 * 8 + 1] == 10 && full[1 * 8 + 0] == 10 && full[6 * 8 + 7] == 37);
    free(full);
    free(d);
    snprintf(spec, sizeof spec, "%s:K{2}", mat);
    cr_assert_eq(sl_read_array(spec, &d, &nd, sh), SL_OK, "%s", sl_last_error());
    cr_expect(nd == 2 && sh[0] == 2 && sh[1] == 3 && d[0] == 1 && d[1] == 3 && d[3] == 2 && d[5] == 6);
    free(d);
    snprintf(spec, sizeof spec, "%s:t", mat);
    cr_assert_eq(sl_read_array(spec, &d, &nd, sh), SL_OK);
    cr_expect(d[0] == -50 && d[30] == 250);
    free(d);
    /* errors name what exists */
    snprintf(spec, sizeof spec, "%s:nosuch", mat);
    cr_expect_eq(sl_read_array(spec, &d, &nd, sh), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "no variable 'nosuch'") && strstr(sl_last_error(), "X (31×6×8"),
              "%s", sl_last_error());
    snprintf(spec, sizeof spec, "%s:S(1).nofield", mat);
    cr_expect_eq(sl_read_array(spec, &d, &nd, sh), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "no field 'nofield'") && strstr(sl_last_error(), "RDM"), "%s",
              sl_last_error());
    snprintf(spec, sizeof spec, "%s:S(3).RDM", mat);
    cr_expect_eq(sl_read_array(spec, &d, &nd, sh), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "out of range"), "%s", sl_last_error());
    snprintf(spec, sizeof spec, "%s:S.RDM", mat);
    cr_expect_eq(sl_read_array(spec, &d, &nd, sh), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "S(1).RDM"), "%s", sl_last_error());
    cr_expect_eq(sl_read_array(mat, &d, &nd, sh), SL_EINVAL);
    /* .npy */
    char *np = tu_path(dir, "a.npy");
    float v[6] = {1, 2, 3, 4, 5, 6};
    sl_array a = {.dtype = SL_F32, .ndim = 2, .shape = {2, 3}, .data = v};
    cr_assert_eq(sl_npy_write(np, &a), SL_OK);
    cr_assert_eq(sl_read_array(np, &d, &nd, sh), SL_OK);
    cr_expect(nd == 2 && sh[1] == 3 && d[4] == 5);
    free(d);
    free(np);
    free(X);
    free(mat);
    tu_rmtree(dir);
}

static cJSON *read_json(const char *path)
{
    char *t = tu_read_file(path, NULL);
    cr_assert_not_null(t, "cannot read %s", path);
    cJSON *o = cJSON_Parse(t);
    free(t);
    cr_assert_not_null(o, "%s is not JSON", path);
    return o;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    cr_assert(cJSON_IsNumber(v), "\"%s\" missing or not a number", k);
    return v->valuedouble;
}

/* A fast trained reach_synthetic run in dir/run. */
static char *train_run(const char *dir)
{
    char *rd = tu_path(dir, "run"), args[2048], *log;
    snprintf(args, sizeof args,
             "train examples/reach.ini task.name=reach_synthetic model.hidden=16 train.epochs=30 "
             "--out '%s' --quiet", rd);
    int rc = run(dir, args, &log);
    cr_assert_eq(rc, 0, "training failed:\n%s", log);
    free(log);
    return rd;
}

Test(compare, runners, .timeout = 60)
{
    char *dir = tu_tmpdir(), *rd = train_run(dir);
    sl_config *cfg;
    sl_model *m;
    char *cp = tu_path(rd, "config.ini"), *ck = tu_path(rd, "checkpoint.safetensors");
    cr_assert_eq(sl_config_new(&cfg), SL_OK);
    cr_assert_eq(sl_config_load(cfg, cp), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_model_load(ck, &m, NULL), SL_OK, "%s", sl_last_error());
    const char *names[3] = {"pca", "tangling", "jpca"};
    const char *keys[3] = {"participation_ratio", "tangling_median", "rotation_strength"};
    for (int i = 0; i < 3; i++) {
        const sl_analysis_def *a = sl_analysis_find(names[i]);
        cr_assert_not_null(a, "%s is not registered", names[i]);
        char *out = tu_path(dir, names[i]);
        mkdir(out, 0777);
        sl_analysis_ctx ctx = {.run_dir = rd, .out_dir = out, .config = cfg, .model = m};
        cr_assert(a->applies(&ctx));
        cr_assert_eq(a->run(&ctx), SL_OK, "%s: %s", names[i], sl_last_error());
        char *sp = tu_path(out, "summary.json");
        cJSON *o = read_json(sp);
        double v = num(o, keys[i]);
        cr_expect(isfinite(v) && v > 0, "%s %s = %g", names[i], keys[i], v);
        if (i == 1) { /* the network's outputs and the task's targets on the same bins */
            double qz = num(o, "tangling_output_median"), qy = num(o, "tangling_target_median");
            cr_expect(isfinite(qz) && qz > 0 && isfinite(qy) && qy > 0, "output Q %g, target Q %g", qz, qy);
            cr_expect(fabs(num(o, "state_over_output") - v / qz) < 1e-12 * v / qz);
        }
        cr_expect(cJSON_GetObjectItem(o, "files") != NULL);
        cJSON_Delete(o);
        free(sp);
        free(out);
    }
    /* array shapes: pca proj C×T×K, tangling q C×T, jpca planes 6×N */
    char *p = tu_path(dir, "pca/proj.npy");
    sl_array arr;
    cr_assert_eq(sl_npy_read(p, &arr), SL_OK);
    cr_expect(arr.ndim == 3 && arr.shape[0] == 8 && arr.shape[2] == 10);
    const int64_t T = arr.shape[1];
    sl_array_free(&arr);
    free(p);
    for (int i = 0; i < 3; i++) {
        static const char *qf[3] = {"tangling/q.npy", "tangling/q_output.npy", "tangling/q_target.npy"};
        p = tu_path(dir, qf[i]);
        cr_assert_eq(sl_npy_read(p, &arr), SL_OK, "%s", sl_last_error());
        cr_expect(arr.ndim == 2 && arr.shape[0] == 8 && arr.shape[1] == T, "%s: not C×T", qf[i]);
        sl_array_free(&arr);
        free(p);
    }
    /* pca/mean.npy: the N-vector subtracted before projecting (the report places fixed points with it) */
    p = tu_path(dir, "pca/mean.npy");
    cr_assert_eq(sl_npy_read(p, &arr), SL_OK, "%s", sl_last_error());
    cr_expect(arr.ndim == 1 && arr.shape[0] == 16 && arr.dtype == SL_F64);
    sl_array_free(&arr);
    free(p);
    p = tu_path(dir, "pca/summary.json");
    cJSON *ps = read_json(p);
    const cJSON *tz = cJSON_GetObjectItem(ps, "time_zero");
    cr_expect(cJSON_IsString(tz) && !strcmp(tz->valuestring, "movement onset"));
    cJSON_Delete(ps);
    free(p);
    p = tu_path(dir, "jpca/planes.npy");
    cr_assert_eq(sl_npy_read(p, &arr), SL_OK);
    cr_expect(arr.ndim == 2 && arr.shape[0] == 6 && arr.shape[1] == 16);
    sl_array_free(&arr);
    free(p);
    /* a bad option is an error naming it */
    const char *k[1] = {"window"}, *v[1] = {"150:-50"};
    char *out = tu_path(dir, "jpca");
    sl_analysis_ctx ctx = {.run_dir = rd, .out_dir = out, .config = cfg, .model = m,
                           .n_opts = 1, .opt_keys = k, .opt_vals = v};
    cr_expect_eq(sl_analysis_find("jpca")->run(&ctx), SL_EINVAL);
    cr_expect(strstr(sl_last_error(), "--window"), "%s", sl_last_error());
    free(out);
    sl_model_free(m);
    sl_config_free(cfg);
    free(cp);
    free(ck);
    free(rd);
    tu_rmtree(dir);
}

Test(compare, cli, .timeout = 90)
{
    char *dir = tu_tmpdir(), *rd = train_run(dir), *mat = tu_path(dir, "data.mat");
    const double *X = write_mat(mat); /* static, row-major time × neuron × condition */
    char args[4096], *log;
    snprintf(args, sizeof args, "compare '%s' '%s:X' --dims time,neuron,condition --time '%s:t' "
             "--pcs 4", rd, mat, mat);
    int rc = run(dir, args, &log);
    cr_assert_eq(rc, 0, "%s", log);
    free(log);
    char *cj = tu_path(rd, "analysis/compare/compare.json");
    cJSON *o = read_json(cj);
    const char *keys[] = {"cca_mean_r2", "svcca_mean", "cka_linear", "cka_linear_debiased", "cka_rbf",
                          "rsa_spearman", "rsa_pearson", "rsa_kendall_tau_a", "rsa_cosine", "procrustes"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        double v = num(o, keys[i]);
        cr_expect(isfinite(v), "%s = %g", keys[i], v);
    }
    cr_expect(num(o, "cca_mean_r2") >= 0 && num(o, "cca_mean_r2") <= 1);
    cr_expect(fabs(num(o, "cka_linear") - num(o, "cka_linear_gram")) < 1e-10);
    const cJSON *files = cJSON_GetObjectItem(o, "files");
    cr_expect(cJSON_GetObjectItem(files, "model_rates.npy") && cJSON_GetObjectItem(files, "data_rates.npy"),
              "compare.json files lacks the rates");
    for (int s = 0; s < 2; s++) {
        const cJSON *side = cJSON_GetObjectItem(o, s ? "data" : "model");
        cr_assert_not_null(side);
        cr_expect(num(side, "rotation_strength") > 0 && num(side, "tangling_median") > 0 &&
                  num(side, "dimensionality") >= 1);
        if (!s)
            cr_expect(num(side, "tangling_output_median") > 0 && num(side, "tangling_target_median") > 0,
                      "compare.json model: no tangling of the outputs and targets");
    }
    cJSON_Delete(o);
    char *pcs = tu_path(rd, "analysis/compare/model_pcs.npy");
    sl_array arr;
    cr_assert_eq(sl_npy_read(pcs, &arr), SL_OK);
    cr_expect(arr.ndim == 3 && arr.shape[0] == 8 && arr.shape[1] == 31 && arr.shape[2] == 4);
    sl_array_free(&arr);
    free(pcs);
    /* the aligned rates before PCA: model C×T×hidden, data C×T×neurons = X */
    char *mr = tu_path(rd, "analysis/compare/model_rates.npy"), *dr = tu_path(rd, "analysis/compare/data_rates.npy");
    cr_assert_eq(sl_npy_read(mr, &arr), SL_OK, "%s", sl_last_error());
    cr_expect(arr.ndim == 3 && arr.shape[0] == 8 && arr.shape[1] == 31 && arr.shape[2] == 16);
    sl_array_free(&arr);
    cr_assert_eq(sl_npy_read(dr, &arr), SL_OK, "%s", sl_last_error());
    cr_assert(arr.ndim == 3 && arr.shape[0] == 8 && arr.shape[1] == 31 && arr.shape[2] == 6 && arr.dtype == SL_F64);
    const double *dv = arr.data;
    for (int c = 0; c < 8; c++)
        for (int t = 0; t < 31; t++)
            for (int u = 0; u < 6; u++)
                cr_assert_eq(dv[(c * 31 + t) * 6 + u], X[(t * 6 + u) * 8 + c], "data_rates[%d,%d,%d]", c, t, u);
    sl_array_free(&arr);
    free(mr);
    free(dr);
    /* --conditions and --window */
    snprintf(args, sizeof args, "compare '%s' '%s:X' --dims time,neuron,condition --time '%s:t' "
             "--conditions 7,6,5 --window 0:200", rd, mat, mat);
    rc = run(dir, args, &log);
    cr_expect_eq(rc, 0, "%s", log);
    cr_expect(strstr(log, "3 conditions × 21 bins"), "%s", log);
    free(log);
    /* bad input: exit 2 and a message naming the variable / shapes */
    struct {
        const char *args, *frag;
    } bad[] = {
        {"'%s:nosuch' --dims time,neuron,condition", "no variable 'nosuch'"},
        {"'%s:X' --dims time,neuron", "31×6×8 (3 axes) but --dims time,neuron names 2"},
        {"'%s:X' --dims time,neuron,trial", "unknown axis 'trial'"},
        {"'%s:Xnan' --dims time,neuron,condition", "NaN"},
        {"'%s:X' --dims time,neuron,condition --time '%s:S(1).RDM'", "28 values (1×28)"},
        {"'%s:X' --dims time,neuron,condition --conditions 3,9", "data condition 9 does not exist"},
        {"'%s:X' --dims time,neuron,condition --window 5000:6000", "holds 0 of the data's bins"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char tail[2048];
        snprintf(tail, sizeof tail, bad[i].args, mat, mat);
        snprintf(args, sizeof args, "compare '%s' %s", rd, tail);
        rc = run(dir, args, &log);
        cr_expect_eq(rc, 2, "%s: rc %d\n%s", tail, rc, log);
        cr_expect(strstr(log, bad[i].frag), "%s: expected \"%s\" in:\n%s", tail, bad[i].frag, log);
        free(log);
    }
    rc = run(dir, "compare --help", &log);
    cr_expect(rc == 0 && strstr(log, "compare.json") && strstr(log, "Example"), "%s", log);
    free(log);
    free(cj);
    free(mat);
    free(rd);
    tu_rmtree(dir);
}

Test(compare, churchland_m1, .timeout = 90)
{
    struct stat sb;
    const char *ch = churchland();
    if (stat(ch, &sb) != 0)
        cr_skip_test("skipped: %s is absent (the shared data folder is only on the build "
                     "machine; the project never needs it at run time)", ch);
    char *dir = tu_tmpdir(), *rd = train_run(dir), args[4096], *log;
    snprintf(args, sizeof args, "compare '%s' '%s:dataTensor' --dims time,neuron,condition "
             "--time '%s:t'", rd, ch, ch);
    int rc = run(dir, args, &log);
    cr_assert_eq(rc, 0, "%s", log);
    cr_expect(strstr(log, "8 conditions × 61 bins (-50..550 ms), 10 PCs"), "%s", log);
    free(log);
    char *cj = tu_path(rd, "analysis/compare/compare.json");
    cJSON *o = read_json(cj);
    const cJSON *data = cJSON_GetObjectItem(o, "data");
    cr_assert_not_null(data);
    /* M1 during reaching rotates: most of its linear dynamics are rotational */
    cr_expect(num(data, "rotation_strength") > 0.5 && num(data, "rotation_strength") <= 1.0 + 1e-9,
              "M1 rotation strength %g", num(data, "rotation_strength"));
    cr_expect(num(data, "dimensionality") > 1 && num(data, "dimensionality") < 50);
    cJSON_Delete(o);
    free(cj);
    free(rd);
    tu_rmtree(dir);
}

/* A task without movement onset (ctxdm): conditions are the distinct labels
 * of the validation batches, time runs from the trial start. */
Test(compare, runners_generic_task, .timeout = 60)
{
    char *dir = tu_tmpdir(), *rd = tu_path(dir, "run"), args[2048], *log;
    snprintf(args, sizeof args, "train examples/reach.ini task.name=ctxdm model.hidden=16 "
             "train.epochs=3 --out '%s' --quiet", rd);
    cr_assert_eq(run(dir, args, &log), 0, "%s", log);
    free(log);
    sl_config *cfg;
    sl_model *m;
    char *cp = tu_path(rd, "config.ini"), *ck = tu_path(rd, "checkpoint.safetensors");
    cr_assert_eq(sl_config_new(&cfg), SL_OK);
    cr_assert_eq(sl_config_load(cfg, cp), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_model_load(ck, &m, NULL), SL_OK, "%s", sl_last_error());
    char *out = tu_path(dir, "jpca");
    mkdir(out, 0777);
    sl_analysis_ctx ctx = {.run_dir = rd, .out_dir = out, .config = cfg, .model = m};
    cr_assert_eq(sl_analysis_find("jpca")->run(&ctx), SL_OK, "%s", sl_last_error());
    char *sp = tu_path(out, "summary.json");
    cJSON *o = read_json(sp);
    cr_expect(num(o, "conditions") >= 2);
    const cJSON *tz = cJSON_GetObjectItem(o, "time_zero");
    cr_expect(cJSON_IsString(tz) && !strcmp(tz->valuestring, "trial start"));
    cr_expect(fabs(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "window_ms"), 0)->valuedouble) < 1e-9);
    cJSON_Delete(o);
    free(sp);
    free(out);
    sl_model_free(m);
    sl_config_free(cfg);
    free(cp);
    free(ck);
    free(rd);
    tu_rmtree(dir);
}
