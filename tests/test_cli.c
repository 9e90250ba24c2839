/* test_cli.c — the silico command line, driven as a user drives it: the real
 * binary (env SILICO_BIN, default build/silico) run from the repository root
 * with small, fast experiments (reach_synthetic, N = 16..32, 30..40 epochs).
 *
 * Covered: --help / train --help list every schema key with its default;
 * --version; the run directory a training run writes (config.ini, run.json,
 * metrics.jsonl, checkpoint.safetensors, state.safetensors, summary.json);
 * config.ini re-runs to identical metrics; one-thread determinism per seed;
 * bad input (non-zero exit, informative stderr, nothing written or
 * overwritten); NaN/Inf during training; truncated state and checkpoints;
 * Ctrl-C then --resume; the checkpoint read by a ten-line numpy reader. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "silico.h"
#include "testutil.h"


#define EXPERIMENT "examples/reach.ini"
/* the fast experiment most tests train: ~0.2 s */
#define FAST "task.name=reach_synthetic", "model.hidden=16", "train.epochs=30"

/* ---------------------------------------------------------------- helpers */

/* CL_RUN(dir, "train", EXPERIMENT, ...): run silico, captures under dir. */
#define CL_RUN(dir, ...) tu_run_v(dir, (const char *const[]){__VA_ARGS__, NULL})

/* Assert that text contains each NULL-terminated fragment. */
static void cl_expect_in(const char *text, const char *what, const char *const *frags)
{
    for (int i = 0; frags[i]; i++)
        cr_expect(strstr(text, frags[i]) != NULL, "%s lacks \"%s\":\n%s", what, frags[i], text);
}
#define CL_EXPECT_IN(text, ...) cl_expect_in(text, #text, (const char *const[]){__VA_ARGS__, NULL})

static int cl_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static cJSON *cl_read_json(const char *path)
{
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text, "cannot read %s", path);
    cJSON *o = cJSON_Parse(text);
    cr_assert_not_null(o, "%s is not JSON:\n%s", path, text);
    free(text);
    return o;
}

static double cl_num(const cJSON *o, const char *key, const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsNumber(v), "%s: \"%s\" missing or not a number", where, key);
    return v->valuedouble;
}

static const char *cl_str(const cJSON *o, const char *key, const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsString(v), "%s: \"%s\" missing or not a string", where, key);
    return v->valuestring;
}

/* The lines of metrics.jsonl parsed (caller frees with cl_free_lines). */
static cJSON **cl_metrics(const char *run, int *n)
{
    char *path = tu_path(run, "metrics.jsonl");
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text, "cannot read %s", path);
    int cap = 16;
    cJSON **v = malloc((size_t)cap * sizeof *v);
    *n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (*n == cap) v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
        v[*n] = cJSON_Parse(line);
        cr_assert_not_null(v[*n], "%s line %d is not JSON: %s", path, *n + 1, line);
        (*n)++;
    }
    free(text);
    free(path);
    return v;
}

static void cl_free_lines(cJSON **v, int n)
{
    for (int i = 0; i < n; i++) cJSON_Delete(v[i]);
    free(v);
}

/* metrics.jsonl, byte for byte, with every "seconds" field cut out (wall
 * time is the only thing allowed to differ between identical runs). */
static char *cl_metrics_sans_seconds(const char *run)
{
    int n;
    cJSON **lines = cl_metrics(run, &n); /* every line is JSON */
    cl_free_lines(lines, n);
    cr_assert_gt(n, 0);
    char *path = tu_path(run, "metrics.jsonl");
    char *text = tu_read_file(path, NULL);
    free(path);
    int cut = 0;
    for (char *p; (p = strstr(text, ",\"seconds\":")) != NULL; cut++) {
        char *end = p + 11 + strcspn(p + 11, ",}\n");
        memmove(p, end, strlen(end) + 1);
    }
    cr_assert_eq(cut, n, "%d of %d metrics lines have a \"seconds\" field", cut, n);
    return text;
}

static char *cl_slurp(const char *dir, const char *name, size_t *len)
{
    char *p = tu_path(dir, name);
    char *t = tu_read_file(p, len);
    cr_assert_not_null(t, "cannot read %s", p);
    free(p);
    return t;
}

/* ------------------------------------------------------------- help, version */

/* Every schema key appears at the start of a help line as "name = default". */
static void check_lists_every_key(const char *help, const char *what)
{
    int n;
    const sl_keydef *k = sl_config_keys(&n);
    cr_assert_gt(n, 20);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(k[i].name);
        const char *want = k[i].def[0] ? k[i].def : "\"\"";
        int found = 0;
        for (const char *line = help; line && *line && !found;) {
            const char *p = line;
            while (*p == ' ') p++;
            if (!strncmp(p, k[i].name, len) && p[len] == ' ') {
                p += len;
                while (*p == ' ') p++;
                if (*p == '=') {
                    p++;
                    while (*p == ' ') p++;
                    size_t vl = strcspn(p, " \n");
                    cr_expect(vl == strlen(want) && !strncmp(p, want, vl),
                              "%s: %s is listed with default '%.*s', the schema says '%s'", what,
                              k[i].name, (int)vl, p, want);
                    found = 1;
                }
            }
            line = strchr(line, '\n');
            if (line) line++;
        }
        cr_expect(found, "%s does not list key %s", what, k[i].name);
    }
}

Test(cli, help_lists_every_key_with_its_default)
{
    char *d = tu_tmpdir();
    tu_result r = CL_RUN(d, "--help");
    cr_assert_eq(r.rc, 0, "silico --help exited %d: %s", r.rc, r.err);
    CL_EXPECT_IN(r.out, "usage: silico", "train", "--resume", SILICO_VERSION);
    check_lists_every_key(r.out, "silico --help");
    tu_result_free(&r);

    r = CL_RUN(d, "train", "--help");
    cr_assert_eq(r.rc, 0, "silico train --help exited %d: %s", r.rc, r.err);
    CL_EXPECT_IN(r.out, "usage: silico train", "--out", "--resume", "metrics.jsonl",
                 "checkpoint.safetensors");
    check_lists_every_key(r.out, "silico train --help");
    tu_result_free(&r);

    /* no command at all: usage on stderr, exit 2 */
    r = CL_RUN(d, "--threads", "1");
    cr_expect_eq(r.rc, 2);
    CL_EXPECT_IN(r.err, "usage: silico");
    tu_result_free(&r);
    tu_rmtree(d);
}

Test(cli, version_prints_version_and_blas)
{
    char *d = tu_tmpdir();
    tu_result r = CL_RUN(d, "--version");
    cr_assert_eq(r.rc, 0, "silico --version exited %d: %s", r.rc, r.err);
    CL_EXPECT_IN(r.out, "silico " SILICO_VERSION, "BLAS: OpenBLAS", "CPU: ");
    tu_result_free(&r);
    tu_rmtree(d);
}

/* ------------------------------------------------------------ the run dir */

Test(cli, training_run_writes_a_complete_run_directory)
{
    char *d = tu_tmpdir(), *run = tu_path(d, "run");
    tu_result r = CL_RUN(d, "train", EXPERIMENT, FAST, "train.val_every=10", "run.seed=7", "--out",
                         run);
    cr_assert_eq(r.rc, 0, "training exited %d:\n%s", r.rc, r.err);
    CL_EXPECT_IN(r.out, "train error", "validation error", "% of null", run);
    tu_result_free(&r);

    const char *files[] = {"config.ini", "run.json", "metrics.jsonl", "checkpoint.safetensors",
                           "state.safetensors", "summary.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char *p = tu_path(run, files[i]);
        cr_expect(cl_exists(p), "run directory lacks %s", files[i]);
        free(p);
    }

    /* run.json: provenance */
    char *p = tu_path(run, "run.json");
    cJSON *o = cl_read_json(p);
    cr_expect_str_eq(cl_str(o, "silico_version", p), SILICO_VERSION);
    /* the CLI may re-execute itself with better OpenBLAS kernels, so its core
     * name can differ from this process's; the library name cannot */
    cr_expect(strncmp(cl_str(o, "blas", p), "OpenBLAS", 8) == 0, "blas: %s", cl_str(o, "blas", p));
    cr_expect_eq(cl_num(o, "threads", p), 1);
    cr_expect_str_eq(cl_str(o, "cpu", p), sl_cpu_info());
    cJSON_Delete(o);
    free(p);

    /* metrics.jsonl: one line per epoch, validation every 10 epochs */
    int n;
    cJSON **m = cl_metrics(run, &n);
    cr_assert_eq(n, 30, "metrics.jsonl has %d lines, want 30", n);
    const char *keys[] = {"loss", "loss_mse", "loss_weight_l2", "loss_rate", "grad_norm", "lr", "seconds"};
    for (int i = 0; i < n; i++) {
        char where[64];
        snprintf(where, sizeof where, "metrics.jsonl line %d", i + 1);
        cr_expect_eq(cl_num(m[i], "epoch", where), i + 1);
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            double v = cl_num(m[i], keys[k], where);
            cr_expect(isfinite(v) && v >= 0, "%s: %s = %g", where, keys[k], v);
        }
        int val = (i + 1) % 10 == 0;
        const cJSON *ve = cJSON_GetObjectItemCaseSensitive(m[i], "val_error_pct");
        if (val)
            cr_expect(cJSON_IsNumber(ve) && isfinite(ve->valuedouble) && ve->valuedouble > 0,
                      "%s: val_error_pct missing on a validation epoch", where);
        else
            cr_expect_null(ve, "%s: val_error_pct on a non-validation epoch", where);
    }
    /* the loss falls and the schedule decays the lr */
    cr_expect_lt(cl_num(m[n - 1], "loss", "last"), cl_num(m[0], "loss", "first"));
    cr_expect_lt(cl_num(m[n - 1], "lr", "last"), cl_num(m[0], "lr", "first"));
    cl_free_lines(m, n);

    /* summary.json */
    p = tu_path(run, "summary.json");
    o = cl_read_json(p);
    double tr = cl_num(o, "train_error_pct", p), va = cl_num(o, "val_error_pct", p);
    cr_expect(isfinite(tr) && tr > 0 && isfinite(va) && va > 0, "errors %g %g", tr, va);
    cr_expect_eq(cl_num(o, "epochs", p), 30);
    cr_expect_gt(cl_num(o, "seconds", p), 0);
    cr_expect_eq(cl_num(o, "seed", p), 7);
    cJSON_Delete(o);
    free(p);

    /* config.ini records the overrides; the checkpoint carries the same text */
    char *ini = cl_slurp(run, "config.ini", NULL);
    CL_EXPECT_IN(ini, "[run]", "seed = 7", "[model]", "hidden = 16", "name = reach_synthetic",
                 "epochs = 30", "val_every = 10");
    p = tu_path(run, "checkpoint.safetensors");
    sl_model *model = NULL;
    sl_tensorfile *f = NULL;
    cr_assert_eq(sl_model_load(p, &model, &f), SL_OK, "%s", sl_last_error());
    cr_expect_eq(sl_model_get_spec(model)->n_hidden, 16);
    const char *meta = sl_tensorfile_meta(f, "config");
    cr_assert_not_null(meta);
    cr_expect_str_eq(meta, ini);
    sl_tensorfile_free(f);
    sl_model_free(model);
    free(p);
    free(ini);
    free(run);
    tu_rmtree(d);
}

Test(cli, config_ini_reruns_to_identical_metrics)
{
    char *d = tu_tmpdir(), *a = tu_path(d, "a"), *b = tu_path(d, "b");
    tu_result r = CL_RUN(d, "train", EXPERIMENT, FAST, "run.seed=11", "model.activation=tanh",
                         "train.l2_rate=0.01", "train.val_every=5", "--quiet", "--out", a);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    tu_result_free(&r);
    char *cfg = tu_path(a, "config.ini");
    r = CL_RUN(d, "train", cfg, "--quiet", "--out", b);
    cr_assert_eq(r.rc, 0, "training from %s exited %d:\n%s", cfg, r.rc, r.err);
    tu_result_free(&r);

    char *ia = cl_slurp(a, "config.ini", NULL), *ib = cl_slurp(b, "config.ini", NULL);
    cr_expect_str_eq(ib, ia, "the re-run's config.ini differs from the original's");
    char *ma = cl_metrics_sans_seconds(a), *mb = cl_metrics_sans_seconds(b);
    cr_expect_str_eq(mb, ma, "re-running config.ini gave different metrics");
    size_t la, lb;
    char *ca = cl_slurp(a, "checkpoint.safetensors", &la), *cb = cl_slurp(b, "checkpoint.safetensors", &lb);
    cr_expect(la == lb && !memcmp(ca, cb, la), "the checkpoints differ");
    free(ca), free(cb), free(ma), free(mb), free(ia), free(ib), free(cfg), free(a), free(b);
    tu_rmtree(d);
}

Test(cli, one_thread_runs_are_deterministic_per_seed)
{
    char *d = tu_tmpdir(), *a = tu_path(d, "a"), *b = tu_path(d, "b"), *c = tu_path(d, "c");
    /* recurrent and input noise on, so every random stream is exercised */
    const char *dirs[] = {a, b, c}, *seeds[] = {"run.seed=3", "run.seed=3", "run.seed=4"};
    for (int i = 0; i < 3; i++) {
        tu_result r = CL_RUN(d, "train", EXPERIMENT, FAST, "run.threads=1", "model.sigma_rec=0.05",
                             "task.input_noise=0.1", "train.val_every=3", seeds[i], "--quiet",
                             "--out", dirs[i]);
        cr_assert_eq(r.rc, 0, "%s", r.err);
        tu_result_free(&r);
    }
    char *ma = cl_metrics_sans_seconds(a), *mb = cl_metrics_sans_seconds(b),
         *mc = cl_metrics_sans_seconds(c);
    cr_expect_str_eq(mb, ma, "two runs with seed 3 differ");
    cr_expect_str_neq(mc, ma, "seeds 3 and 4 gave identical metrics");
    free(ma), free(mb), free(mc), free(a), free(b), free(c);
    tu_rmtree(d);
}

/* ------------------------------------------------------------- bad input */

/* A float32 .npy of shape (2, 500, 3) holding smooth EMG-like values, one NaN. */
static void write_nan_npy(const char *path)
{
    const int D = 2, S = 500, M = 3;
    char header[128];
    int hl = snprintf(header, sizeof header,
                      "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d), }", D, S, M);
    while ((10 + hl + 1) % 64) header[hl++] = ' ';
    header[hl++] = '\n';
    size_t n = (size_t)D * S * M, total = 10 + (size_t)hl + 4 * n;
    unsigned char *buf = malloc(total);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hl & 0xff);
    buf[9] = (unsigned char)(hl >> 8);
    memcpy(buf + 10, header, (size_t)hl);
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = 0.5f + 0.4f * (float)sin(0.01 * (double)i);
    v[((size_t)1 * S + 120) * M + 2] = NAN;
    memcpy(buf + 10 + hl, v, 4 * n); /* x86/arm little-endian */
    cr_assert_eq(tu_write_bytes(path, buf, total), 0);
    free(v);
    free(buf);
}

typedef struct {
    const char *label;
    const char *args[12]; /* after "train"; "@" is replaced by a file in the test dir */
    const char *file_name, *file_text;
    int want_rc;          /* 0: any non-zero */
    const char *frags[6]; /* stderr must contain each (at most 5) */
} bad_case;

Test(cli, bad_input_fails_clearly_and_writes_nothing)
{
    static const bad_case cases[] = {
        {"malformed line", {"@"}, "malformed.ini",
         "[model]\nhidden = 16\nthis line has no equals sign\n", 1,
         {"malformed.ini", "line 3", "key = value"}},
        {"unknown section", {"@"}, "section.ini", "; a comment\n[modle]\nhidden = 16\n", 1,
         {"section.ini", "line 2", "[modle]", "model"}},
        {"unknown key", {"@"}, "key.ini", "[model]\nhiden = 16\n", 1,
         {"key.ini", "line 2", "model.hiden", "model.hidden"}},
        {"wrong type in a file", {"@"}, "type.ini", "[run]\nseed = 1\n[model]\nhidden = many\n", 1,
         {"type.ini", "line 4", "model.hidden", "many", "integer"}},
        {"wrong type", {EXPERIMENT, "model.hidden=abc"}, NULL, NULL, 1,
         {"model.hidden", "abc", "integer"}},
        {"negative size", {EXPERIMENT, "model.hidden=-3"}, NULL, NULL, 1, {"model.hidden", "-3"}},
        {"bad choice", {EXPERIMENT, "model.activation=foo"}, NULL, NULL, 1,
         {"model.activation", "foo", "rect_tanh", "sigmoid"}},
        {"out-of-range real", {EXPERIMENT, "train.beta1=1.5"}, NULL, NULL, 1, {"train.beta1", "1.5"}},
        {"override without '='", {EXPERIMENT, "model.hidden"}, NULL, NULL, 2, {"model.hidden"}},
        {"override without section", {EXPERIMENT, "hidden=16"}, NULL, NULL, 1,
         {"unknown key", "hidden"}},
        {"override of an unknown key", {EXPERIMENT, "model.hiden=16"}, NULL, NULL, 1,
         {"model.hiden", "model.hidden"}},
        {"unknown option", {EXPERIMENT, "--bogus"}, NULL, NULL, 2, {"--bogus"}},
        {"bad --threads", {EXPERIMENT, "--threads", "0"}, NULL, NULL, 2, {"--threads", "0"}},
        {"missing experiment file", {"no-such-experiment.ini"}, NULL, NULL, 1,
         {"no-such-experiment.ini", "cannot open"}},
        {"missing data file", {EXPERIMENT, "task.name=reach", "task.data=/nonexistent.npy"}, NULL,
         NULL, 1, {"task.data", "/nonexistent.npy", "cannot open"}},
        {"NaN in the data",
         {EXPERIMENT, "task.name=reach", "task.data=@", "task.emg_go_ms=100", "task.emg_end_ms=400",
          "task.trial_ms=1000", "task.delays=300", "task.val_delays=", "model.hidden=8"},
         "nan.npy", NULL, 1, {"nan.npy", "NaN"}},
    };
    char *d = tu_tmpdir();
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const bad_case *k = &cases[c];
        char *file = k->file_name ? tu_path(d, k->file_name) : NULL;
        if (file && k->file_text) cr_assert_eq(tu_write_file(file, k->file_text), 0);
        if (file && !k->file_text) write_nan_npy(file);
        char outname[32], *args[20], subst[12][512];
        snprintf(outname, sizeof outname, "out%zu", c);
        char *out = tu_path(d, outname);
        int n = 0;
        args[n++] = "train";
        for (int i = 0; i < 12 && k->args[i]; i++) {
            const char *at = strchr(k->args[i], '@');
            if (at) {
                snprintf(subst[i], sizeof subst[i], "%.*s%s%s", (int)(at - k->args[i]), k->args[i],
                         file, at + 1);
                args[n++] = subst[i];
            } else
                args[n++] = (char *)k->args[i];
        }
        args[n++] = "--quiet";
        args[n++] = "--out";
        args[n++] = out;
        args[n] = NULL;
        tu_result r = tu_run_v(d, (const char *const *)args);
        if (k->want_rc)
            cr_expect_eq(r.rc, k->want_rc, "%s: exit %d, want %d; stderr:\n%s", k->label, r.rc,
                         k->want_rc, r.err);
        else
            cr_expect_neq(r.rc, 0, "%s: exit 0", k->label);
        cr_expect(r.rc != 0 && r.rc < 128, "%s: exit %d (crashed?)", k->label, r.rc);
        for (int i = 0; k->frags[i]; i++)
            cr_expect(strstr(r.err, k->frags[i]) != NULL, "%s: stderr lacks \"%s\":\n%s", k->label,
                      k->frags[i], r.err);
        cr_expect(!cl_exists(out), "%s: %s was created", k->label, out);
        tu_result_free(&r);
        free(out);
        free(file);
    }
    tu_rmtree(d);
}

Test(cli, existing_out_directory_is_never_overwritten)
{
    char *d = tu_tmpdir(), *run = tu_path(d, "taken"), *marker = tu_path(run, "marker.txt");
    cr_assert_eq(mkdir(run, 0755), 0);
    cr_assert_eq(tu_write_file(marker, "precious\n"), 0);
    char *slash = malloc(strlen(run) + 2);
    sprintf(slash, "%s/", run); /* a trailing slash names the same directory */
    const char *outs[] = {run, slash};
    for (int i = 0; i < 2; i++) {
        tu_result r = CL_RUN(d, "train", EXPERIMENT, FAST, "--quiet", "--out", outs[i]);
        cr_expect_eq(r.rc, 1, "exit %d:\n%s", r.rc, r.err);
        CL_EXPECT_IN(r.err, run, "already exists", "--resume");
        tu_result_free(&r);
    }
    char *text = tu_read_file(marker, NULL);
    cr_expect_str_eq(text, "precious\n");
    char *cfg = tu_path(run, "config.ini"), *met = tu_path(run, "metrics.jsonl");
    cr_expect(!cl_exists(cfg) && !cl_exists(met), "files were written into the existing directory");
    free(text), free(cfg), free(met), free(slash), free(marker), free(run);
    tu_rmtree(d);
}

/* ------------------------------------------------------------ NaN / Inf */

/* The lr climbs exponentially from 1e-3 to 1e30: epoch 1 validates and
 * saves a best checkpoint, then the weights blow up. */
Test(cli, divergence_stops_with_nan_message_and_keeps_best_checkpoint)
{
    char *d = tu_tmpdir(), *run = tu_path(d, "run");
    tu_result r = CL_RUN(d, "train", EXPERIMENT, FAST, "train.lr_schedule=exponential",
                         "train.lr_final=1e30", "train.clip=0", "train.val_every=1", "--quiet",
                         "--out", run);
    cr_assert_eq(r.rc, 1, "exit %d, want 1:\n%s", r.rc, r.err);
    CL_EXPECT_IN(r.err, "NaN or Inf", "training stopped", "best checkpoint", "checkpoint.safetensors");
    long bad_epoch = 0, best_epoch = 0;
    const char *e = strstr(r.err, "silico: epoch ");
    cr_assert_not_null(e, "the message does not start with the epoch:\n%s", r.err);
    bad_epoch = strtol(e + 14, NULL, 10);
    const char *b = strstr(r.err, "(epoch ");
    cr_assert_not_null(b);
    best_epoch = strtol(b + 7, NULL, 10);
    cr_assert(best_epoch >= 1 && best_epoch < bad_epoch, "best %ld, failed at %ld", best_epoch,
              bad_epoch);
    tu_result_free(&r);

    /* every epoch before the failing one is logged; no summary */
    int n;
    cJSON **m = cl_metrics(run, &n);
    cr_expect_eq(n, bad_epoch - 1);
    char *sum = tu_path(run, "summary.json");
    cr_expect(!cl_exists(sum));
    free(sum);

    /* the checkpoint holds the best epoch's weights: re-evaluating them gives
     * the validation error logged for that epoch */
    char *ck = tu_path(run, "checkpoint.safetensors"), *cfgp = tu_path(run, "config.ini");
    sl_model *model = NULL;
    sl_tensorfile *f = NULL;
    cr_assert_eq(sl_model_load(ck, &model, &f), SL_OK, "%s", sl_last_error());
    cr_expect_eq(strtol(sl_tensorfile_meta(f, "epoch"), NULL, 10), best_epoch);
    double logged = cl_num(m[best_epoch - 1], "val_error_pct", "best epoch's metrics");
    cr_expect_eq(cl_num(m[best_epoch - 1], "best", "best epoch's metrics"), 1);
    cr_expect_float_eq(strtod(sl_tensorfile_meta(f, "val_error_pct"), NULL), logged, 1e-9 * logged);
    sl_config *cfg = NULL;
    sl_task *task = NULL;
    cr_assert_eq(sl_config_new(&cfg), SL_OK);
    cr_assert_eq(sl_config_load(cfg, cfgp), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_task_create(cfg, &task), SL_OK, "%s", sl_last_error());
    double mse, pct;
    cr_assert_eq(sl_evaluate(model, task, SL_SPLIT_VAL, NULL, &mse, &pct), SL_OK, "%s", sl_last_error());
    cr_expect_float_eq(pct, logged, 1e-4 * logged, "re-evaluated %g%%, logged %g%%", pct, logged);
    sl_task_free(task);
    sl_config_free(cfg);
    sl_tensorfile_free(f);
    sl_model_free(model);
    cl_free_lines(m, n);
    free(ck), free(cfgp), free(run);
    tu_rmtree(d);
}

Test(cli, divergence_before_any_checkpoint)
{
    char *d = tu_tmpdir(), *run = tu_path(d, "run");
    tu_result r = CL_RUN(d, "train", EXPERIMENT, FAST, "train.lr=1e30", "train.clip=0", "--quiet",
                         "--out", run);
    cr_assert_eq(r.rc, 1, "exit %d, want 1:\n%s", r.rc, r.err);
    CL_EXPECT_IN(r.err, "epoch 1,", "NaN or Inf", "before any checkpoint", "train.lr");
    char *ck = tu_path(run, "checkpoint.safetensors");
    cr_expect(!cl_exists(ck));
    tu_result_free(&r);
    free(ck), free(run);
    tu_rmtree(d);
}

/* ---------------------------------------------------- corrupt checkpoints */

Test(cli, truncated_state_and_checkpoint_are_format_errors)
{
    char *d = tu_tmpdir(), *run = tu_path(d, "run");
    tu_result r = CL_RUN(d, "train", EXPERIMENT, FAST, "--quiet", "--out", run);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    tu_result_free(&r);
    char *state = tu_path(run, "state.safetensors"), *ck = tu_path(run, "checkpoint.safetensors");
    size_t ml, sl;
    char *metrics = cl_slurp(run, "metrics.jsonl", &ml), *summary = cl_slurp(run, "summary.json", &sl);
    size_t state_len;
    free(tu_read_file(state, &state_len));

    /* cut in the data, in the header, before the header length */
    size_t cuts[] = {state_len / 2, 100, 4};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(tu_truncate(state, cuts[i]), 0);
        r = CL_RUN(d, "train", "--resume", run, "--quiet");
        cr_expect_eq(r.rc, 1, "resume from a state cut to %zu bytes: exit %d\n%s", cuts[i], r.rc, r.err);
        CL_EXPECT_IN(r.err, "state.safetensors", "truncated");
        tu_result_free(&r);
        size_t l;
        char *now = cl_slurp(run, "metrics.jsonl", &l);
        cr_expect(l == ml && !memcmp(now, metrics, l), "a failed resume changed metrics.jsonl");
        free(now);
        now = cl_slurp(run, "summary.json", &l);
        cr_expect(l == sl && !memcmp(now, summary, l), "a failed resume changed summary.json");
        free(now);
    }
    /* garbage instead of the JSON header */
    size_t cl;
    char *ckdata = cl_slurp(run, "checkpoint.safetensors", &cl);
    char *bad = malloc(cl);
    memcpy(bad, ckdata, cl);
    memset(bad + 8, '#', 16);
    cr_assert_eq(tu_write_bytes(state, bad, cl), 0);
    r = CL_RUN(d, "train", "--resume", run, "--quiet");
    cr_expect_eq(r.rc, 1);
    CL_EXPECT_IN(r.err, "state.safetensors", "header");
    tu_result_free(&r);
    /* no state at all */
    cr_assert_eq(remove(state), 0);
    r = CL_RUN(d, "train", "--resume", run, "--quiet");
    cr_expect_eq(r.rc, 1);
    CL_EXPECT_IN(r.err, "no saved training state", "state.safetensors", "cannot open");
    tu_result_free(&r);

    /* the library: a truncated checkpoint is SL_EFORMAT naming the file */
    sl_model *m = NULL;
    cr_assert_eq(sl_model_load(ck, &m, NULL), SL_OK, "%s", sl_last_error());
    sl_model_free(m);
    size_t ck_cuts[] = {cl - 1, cl / 2, 20, 7};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tu_write_bytes(ck, ckdata, ck_cuts[i]), 0);
        m = (sl_model *)1;
        cr_expect_eq(sl_model_load(ck, &m, NULL), SL_EFORMAT, "cut to %zu bytes: %s", ck_cuts[i],
                     sl_last_error());
        cr_expect_null(m);
        CL_EXPECT_IN(sl_last_error(), "checkpoint.safetensors", "truncated");
    }
    free(bad), free(ckdata), free(metrics), free(summary), free(state), free(ck), free(run);
    tu_rmtree(d);
}

/* ---------------------------------------------------------- Ctrl-C, resume */

static int count_lines(const char *path)
{
    char *t = tu_read_file(path, NULL);
    int n = 0;
    for (char *p = t; p && *p; p++) n += *p == '\n';
    free(t);
    return n;
}

Test(cli, ctrl_c_saves_state_and_resume_finishes_identically, .timeout = 60)
{
    char *d = tu_tmpdir(), *run = tu_path(d, "run"), *ref = tu_path(d, "ref");
#define RESUME_ARGS "train", EXPERIMENT, "task.name=reach_synthetic", "model.hidden=32", \
                    "train.epochs=40", "train.val_every=4", "model.sigma_rec=0.05", "--out"
    char *o, *e;
    pid_t pid = tu_spawn(d, (const char *const[]){RESUME_ARGS, run, NULL}, &o, &e);
    char *mpath = tu_path(run, "metrics.jsonl");
    struct timespec nap = {0, 500000}; /* 0.5 ms */
    for (int i = 0; i < 60000 && count_lines(mpath) < 5; i++) {
        int status;
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "silico ended before epoch 5:\n%s",
                     tu_read_file(e, NULL));
        nanosleep(&nap, NULL);
    }
    cr_assert_eq(kill(pid, SIGINT), 0);
    tu_result r = tu_wait(pid, o, e);
    cr_assert_eq(r.rc, 130, "exit %d after SIGINT, want 130:\n%s", r.rc, r.err);
    CL_EXPECT_IN(r.err, "stopped at epoch", "of 40", "state saved", "--resume");
    tu_result_free(&r);
    int stopped = count_lines(mpath);
    cr_assert(stopped >= 5 && stopped < 40, "stopped after %d epochs", stopped);
    char *state = tu_path(run, "state.safetensors"), *sum = tu_path(run, "summary.json");
    cr_expect(cl_exists(state));
    cr_expect(!cl_exists(sum), "an interrupted run wrote summary.json");

    r = CL_RUN(d, "train", "--resume", run);
    cr_assert_eq(r.rc, 0, "resume exited %d:\n%s", r.rc, r.err);
    CL_EXPECT_IN(r.err, "resuming");
    tu_result_free(&r);
    int n;
    cJSON **m = cl_metrics(run, &n);
    cr_expect_eq(n, 40, "metrics.jsonl has %d lines after resume, want 40", n);
    for (int i = 0; i < n; i++) cr_expect_eq(cl_num(m[i], "epoch", "metrics"), i + 1);
    cl_free_lines(m, n);
    cJSON *s = cl_read_json(sum);
    cr_expect_eq(cl_num(s, "epochs", sum), 40);
    cJSON_Delete(s);

    /* an uninterrupted run with the same config logs the same numbers */
    r = CL_RUN(d, RESUME_ARGS, ref, "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    tu_result_free(&r);
    char *ma = cl_metrics_sans_seconds(run), *mb = cl_metrics_sans_seconds(ref);
    cr_expect_str_eq(ma, mb, "stop at epoch %d + resume differs from an uninterrupted run", stopped);
    free(ma), free(mb), free(state), free(sum), free(mpath), free(run), free(ref);
    tu_rmtree(d);
#undef RESUME_ARGS
}

/* ------------------------------------------------------ numpy reads it */

Test(cli, checkpoint_reads_in_numpy)
{
    if (access(TU_PYTHON, X_OK) != 0 || !tu_have_python_module("numpy"))
        cr_skip_test("needs " TU_PYTHON " with numpy");
    char *d = tu_tmpdir(), *run = tu_path(d, "run");
    tu_result r = CL_RUN(d, "train", EXPERIMENT, FAST, "--quiet", "--out", run);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    tu_result_free(&r);
    char *ck = tu_path(run, "checkpoint.safetensors"), *jnpy = tu_path(d, "J.npy");
    sl_model *m = NULL;
    cr_assert_eq(sl_model_load(ck, &m, NULL), SL_OK, "%s", sl_last_error());
    const sl_model_spec *sp = sl_model_get_spec(m);
    char script[4096];
    snprintf(script, sizeof script,
             "import json, struct, numpy as np\n"
             "raw = open('%s', 'rb').read()\n"
             "n = struct.unpack('<Q', raw[:8])[0]\n"
             "head = json.loads(raw[8:8 + n]); data = raw[8 + n:]\n"
             "meta = head.pop('__metadata__')\n"
             "t = {k: np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]],\n"
             "                      dtype='<f4').reshape(v['shape']) for k, v in head.items()}\n"
             "N, I, O = %d, %d, %d\n"
             "want = {'J': (N, N), 'B': (N, I), 'b': (N,), 'W': (O, N), 'c': (O,)}\n"
             "assert {k: v.shape for k, v in t.items()} == want, {k: v.shape for k, v in t.items()}\n"
             "assert all(v['dtype'] == 'F32' for v in head.values())\n"
             "assert all(np.isfinite(v).all() for v in t.values())\n"
             "assert meta['format'] == 'silico.ctrnn.v1' and meta['n_hidden'] == str(N)\n"
             "np.save('%s', t['J'])\n",
             ck, sp->n_hidden, sp->n_in, sp->n_out, jnpy);
    cr_assert_eq(tu_python(d, script), 0, "the numpy safetensors reader failed");
    /* numpy saw the same J the library loads */
    sl_array J;
    cr_assert_eq(sl_npy_read(jnpy, &J), SL_OK, "%s", sl_last_error());
    const sl_param_info *pj = sl_model_find(m, "J");
    cr_assert_eq(J.dtype, SL_F32);
    cr_assert_eq(sl_array_numel(&J), pj->numel);
    const sl_real *params = sl_model_params(m) + pj->offset;
    for (size_t i = 0; i < pj->numel; i++)
        cr_assert_eq((float)params[i], ((const float *)J.data)[i], "J[%zu]", i);
    sl_array_free(&J);
    sl_model_free(m);
    free(ck), free(jnpy), free(run);
    tu_rmtree(d);
}

/* ------------------------------------------------------------- examples */

/* Every examples/NAME.ini trains end to end, shortened through overrides (the
 * full-size runs are `make examples`), and its summary.json holds the figure
 * the example is judged by. */
Test(cli, every_example_trains_shortened)
{
    static const struct {
        const char *file, *key;
    } EX[] = {
        {"reach", "val_error_pct"},       {"reach-unregularized", "val_error_pct"},
        {"pdm", "accuracy"},              {"dms", "accuracy"},
        {"gonogo", "accuracy"},           {"ctxdm-ctrnn", "accuracy"},
        {"ctxdm-mante", "accuracy"},      {"rsg", "interval_error_pct"},
        {"flipflop", "mse"},              {"memory-lstm", "mse"},
        {"ddms-lightgru", "accuracy"},    {"ddms-enu-lightgru", "accuracy"},
        {"ddms-ei-lightgru", "accuracy"},
    };
    char *d = tu_tmpdir(), cwd[1024];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    for (size_t i = 0; i < sizeof EX / sizeof EX[0]; i++) {
        char ini[1300], out[512], path[600];
        snprintf(ini, sizeof ini, "%s/examples/%s.ini", cwd, EX[i].file);
        snprintf(out, sizeof out, "%s/%s", d, EX[i].file);
        tu_result r = CL_RUN(d, "train", ini, "train.epochs=2", "train.val_every=1",
                             "task.batches_per_epoch=2", "task.val_trials=64", "--quiet", "--out", out);
        cr_expect_eq(r.rc, 0, "%s: exit %d:\n%s", EX[i].file, r.rc, r.err);
        tu_result_free(&r);
        snprintf(path, sizeof path, "%s/summary.json", out);
        cJSON *o = cl_read_json(path);
        if (!o) continue;
        const cJSON *v = cJSON_GetObjectItem(o, EX[i].key);
        cr_expect(v && cJSON_IsNumber(v), "%s: summary.json lacks a number '%s'", EX[i].file, EX[i].key);
        cJSON_Delete(o);
    }
    tu_rmtree(d);
}

/* ------------------------------------------------------------ cell models */

/* model.type = lstm on the memory task, end to end through the CLI: the
 * summary names the cell, the checkpoint is a silico.model.v1 LSTM with
 * PyTorch's tensor names, and it loads back as a model of the same kind. */
Test(cli, lstm_trains_on_memory_end_to_end)
{
    char *d = tu_tmpdir(), *run = tu_path(d, "run"), *ini = tu_path(d, "lstm.ini");
    cr_assert_eq(tu_write_file(ini, "[run]\nname = lstm-memory\n"), 0);
    tu_result r = CL_RUN(d, "train", ini, "model.type=lstm", "task.name=memory", "model.hidden=8",
                         "train.epochs=30", "train.lr=1e-2", "train.val_every=10", "--out", run);
    cr_assert_eq(r.rc, 0, "exit %d:\n%s", r.rc, r.err);
    CL_EXPECT_IN(r.out, "lstm N=8", "mse");
    tu_result_free(&r);
    char *sum = tu_path(run, "summary.json");
    cJSON *o = cl_read_json(sum);
    double mse = cl_num(o, "mse", sum);
    cr_expect(isfinite(mse) && mse < 0.03, "mse %g", mse);
    cJSON_Delete(o);
    char *ck = tu_path(run, "checkpoint.safetensors");
    sl_model *m = NULL;
    sl_tensorfile *f = NULL;
    cr_assert_eq(sl_model_load(ck, &m, &f), SL_OK, "%s", sl_last_error());
    cr_expect_str_eq(sl_tensorfile_meta(f, "format"), "silico.model.v1");
    cr_expect_str_eq(sl_tensorfile_meta(f, "cell"), "lstm");
    cr_expect_eq(sl_model_get_spec(m)->cell, SL_CELL_LSTM);
    const sl_param_info *w = sl_model_find(m, "weight_hh");
    cr_assert_not_null(w);
    cr_expect(w->shape[0] == 32 && w->shape[1] == 8);
    sl_tensorfile_free(f);
    sl_model_free(m);
    free(ck), free(sum), free(run), free(ini);
    tu_rmtree(d);
}
