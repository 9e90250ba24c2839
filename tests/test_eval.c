/* test_eval.c — `silico eval RUN`, driven as a user drives it: the real binary
 * (env SILICO_BIN, default build/silico) on a tiny GoNogo CT-RNN trained
 * through the CLI in each test (~0.05 s).
 *
 * Covered: the text figures (accuracy) and the --json object (its keys, and
 * with no overrides the validation loss and accuracy of summary.json); a
 * task.val_trials override changes the trials counted and nothing else;
 * model.* / train.* / other overrides are refused naming the key; a missing
 * run directory, a missing checkpoint and a truncated one fail clearly; the
 * run directory is never written (listing with sizes and mtimes before and
 * after); --help. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "silico.h"
#include "testutil.h"


#define EV_RUN(cap, ...) tu_run_v(cap, (const char *const[]){__VA_ARGS__, NULL})

/* A fresh tmp dir holding a trained tiny GoNogo run at <tmp>/run; *run gets
 * that path (malloc'd). Returns the tmp dir (caller tu_rmtree's it). */
static char *ev_trained_run(char **run)
{
    char *tmp = tu_tmpdir();
    cr_assert_not_null(tmp);
    char *ini = tu_path(tmp, "tiny.ini");
    cr_assert_eq(tu_write_file(ini, "[run]\nname = tiny\nseed = 3\n"
                                    "[model]\ntype = ctrnn\nhidden = 16\ntau = 100\n"
                                    "[task]\nname = gonogo\ndt = 100\nval_trials = 200\n"
                                    "[train]\nepochs = 3\nval_every = 1\n"),
                 0);
    *run = tu_path(tmp, "run");
    tu_result r = EV_RUN(tmp, "train", ini, "--out", *run, "--quiet");
    cr_assert_eq(r.rc, 0, "training the tiny run failed (%d):\n%s", r.rc, r.err);
    tu_result_free(&r);
    free(ini);
    return tmp;
}

/* The run directory's entries (and "." itself) as "name size mtime_ns\n"
 * lines, sorted (malloc'd): any file written, added or removed changes it. */
static char *ev_listing(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    cr_assert_geq(n, 0, "cannot list %s", dir);
    size_t cap = 256 * (size_t)(n + 1), len = 0;
    char *s = malloc(cap);
    s[0] = 0;
    for (int i = 0; i < n; i++) {
        char *p = tu_path(dir, names[i]->d_name);
        struct stat sb;
        /* ".." is the tmp dir, where the captured output goes */
        if (strcmp(names[i]->d_name, "..") != 0 && stat(p, &sb) == 0)
            len += (size_t)snprintf(s + len, cap - len, "%s %lld %lld.%09ld\n", names[i]->d_name,
                                    (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
                                    sb.st_mtim.tv_nsec);
        free(p);
        free(names[i]);
    }
    free(names);
    return s;
}

static cJSON *ev_parse(const char *text)
{
    cJSON *o = cJSON_Parse(text);
    cr_assert_not_null(o, "silico eval --json printed no JSON object:\n%s", text);
    return o;
}

static double ev_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsNumber(v), "\"%s\" missing or not a number", key);
    return v->valuedouble;
}

static int ev_has(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

Test(eval, prints_accuracy_and_writes_nothing)
{
    char *run, *tmp = ev_trained_run(&run);
    char *before = ev_listing(run);
    tu_result r = EV_RUN(tmp, "eval", run);
    cr_assert_eq(r.rc, 0, "silico eval failed (%d):\n%s", r.rc, r.err);
    cr_expect(strstr(r.out, "accuracy") != NULL, "no accuracy line:\n%s", r.out);
    cr_expect(strstr(r.out, "gonogo") != NULL, "the task is not named:\n%s", r.out);
    cr_expect(strstr(r.out, "loss") != NULL, "no loss line:\n%s", r.out);
    cr_expect(strstr(r.out, "mse") == NULL, "a decision task has no MSE line:\n%s", r.out);
    tu_result_free(&r);
    r = EV_RUN(tmp, "eval", run, "--split", "train", "--json");
    cr_expect_eq(r.rc, 0, "--split train failed:\n%s", r.err);
    tu_result_free(&r);
    r = EV_RUN(tmp, "eval", run, "task.val_trials=20", "--json");
    cr_expect_eq(r.rc, 0, "an override failed:\n%s", r.err);
    tu_result_free(&r);
    char *after = ev_listing(run);
    cr_expect_str_eq(after, before, "silico eval changed the run directory");
    free(before);
    free(after);
    free(run);
    tu_rmtree(tmp);
}

Test(eval, json_has_the_keys_and_reproduces_summary)
{
    char *run, *tmp = ev_trained_run(&run);
    tu_result r = EV_RUN(tmp, "eval", run, "--json");
    cr_assert_eq(r.rc, 0, "silico eval --json failed (%d):\n%s", r.rc, r.err);
    cJSON *o = ev_parse(r.out);
    const char *keys[] = {"run", "task", "split", "overrides", "loss", "mse", "error_pct",
                          "accuracy", "n_decisions", "score_name", "score"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        cr_expect(ev_has(o, keys[i]), "--json lacks \"%s\":\n%s", keys[i], r.out);
    cr_expect_str_eq(cJSON_GetObjectItem(o, "task")->valuestring, "gonogo");
    cr_expect_str_eq(cJSON_GetObjectItem(o, "split")->valuestring, "val");
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(o, "mse")), "mse should be null for a decision task");
    double acc = ev_num(o, "accuracy"), loss = ev_num(o, "loss");
    cr_expect(acc >= 0 && acc <= 1, "accuracy %g outside [0, 1]", acc);
    cr_expect_eq(ev_num(o, "n_decisions"), 200, "200 validation trials, one decision each");

    /* deterministic: the same figures as the trainer's final evaluation */
    char *sp = tu_path(run, "summary.json");
    char *text = tu_read_file(sp, NULL);
    cr_assert_not_null(text);
    cJSON *s = ev_parse(text);
    cr_expect(fabs(ev_num(s, "val_loss") - loss) <= 1e-6 * fabs(loss) + 1e-12,
              "eval loss %.9g differs from summary.json val_loss %.9g", loss, ev_num(s, "val_loss"));
    cr_expect_eq(ev_num(s, "accuracy"), acc);
    cJSON_Delete(s);
    free(text);
    free(sp);
    cJSON_Delete(o);
    tu_result_free(&r);
    free(run);
    tu_rmtree(tmp);
}

Test(eval, val_trials_override_changes_only_the_trials)
{
    char *run, *tmp = ev_trained_run(&run);
    char *cfg = tu_path(run, "config.ini");
    char *cfg_before = tu_read_file(cfg, NULL);
    tu_result a = EV_RUN(tmp, "eval", run, "--json");
    tu_result b = EV_RUN(tmp, "eval", run, "task.val_trials=37", "--json");
    tu_result c = EV_RUN(tmp, "eval", run, "--json");
    cr_assert_eq(a.rc, 0, "%s", a.err);
    cr_assert_eq(b.rc, 0, "task.val_trials=37 refused:\n%s", b.err);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cJSON *ja = ev_parse(a.out), *jb = ev_parse(b.out), *jc = ev_parse(c.out);
    cr_expect_eq(ev_num(jb, "n_decisions"), 37);
    double accb = ev_num(jb, "accuracy");
    cr_expect(accb >= 0 && accb <= 1);
    const cJSON *ov = cJSON_GetObjectItem(jb, "overrides");
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(ov, "task.val_trials")),
              "the override is not reported:\n%s", b.out);
    /* nothing sticks: evaluating again without it gives the first answer */
    cr_expect_str_eq(c.out, a.out);
    char *cfg_after = tu_read_file(cfg, NULL);
    cr_expect_str_eq(cfg_after, cfg_before, "config.ini was changed");
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    cJSON_Delete(jc);
    tu_result_free(&a);
    tu_result_free(&b);
    tu_result_free(&c);
    free(cfg_after);
    free(cfg_before);
    free(cfg);
    free(run);
    tu_rmtree(tmp);
}

Test(eval, network_overrides_are_refused_naming_the_key)
{
    char *run, *tmp = ev_trained_run(&run);
    const char *bad[] = {"model.hidden=32", "train.lr=0.5", "run.seed=9"};
    const char *key[] = {"model.hidden", "train.lr", "run.seed"};
    for (int i = 0; i < 3; i++) {
        tu_result r = EV_RUN(tmp, "eval", run, bad[i]);
        cr_expect_neq(r.rc, 0, "%s was accepted", bad[i]);
        cr_expect(strstr(r.err, key[i]) != NULL, "the message does not name %s:\n%s", key[i], r.err);
        cr_expect_str_eq(r.out, "", "a refused override still printed figures");
        tu_result_free(&r);
    }
    /* a task override the schema rejects, one that changes the network's
     * inputs/outputs, and a CT-RNN dt change */
    tu_result r = EV_RUN(tmp, "eval", run, "task.val_trials=-1");
    cr_expect_neq(r.rc, 0);
    cr_expect(strstr(r.err, "task.val_trials") != NULL, "%s", r.err);
    tu_result_free(&r);
    r = EV_RUN(tmp, "eval", run, "task.name=memory");
    cr_expect_neq(r.rc, 0);
    cr_expect(strstr(r.err, "outputs") != NULL, "%s", r.err);
    tu_result_free(&r);
    r = EV_RUN(tmp, "eval", run, "task.dt=50");
    cr_expect_neq(r.rc, 0);
    cr_expect(strstr(r.err, "dt") != NULL, "%s", r.err);
    tu_result_free(&r);
    free(run);
    tu_rmtree(tmp);
}

Test(eval, missing_and_corrupt_runs_fail_clearly)
{
    char *run, *tmp = ev_trained_run(&run);
    char *nowhere = tu_path(tmp, "no-such-run");
    tu_result r = EV_RUN(tmp, "eval", nowhere);
    cr_expect_neq(r.rc, 0);
    cr_expect(strstr(r.err, "no such run directory") != NULL, "%s", r.err);
    tu_result_free(&r);
    r = EV_RUN(tmp, "eval");
    cr_expect_eq(r.rc, 2);
    cr_expect(strstr(r.err, "missing run directory") != NULL, "%s", r.err);
    tu_result_free(&r);

    /* a copy of the run: config.ini, and the checkpoint absent then truncated */
    char *bad = tu_path(tmp, "bad");
    cr_assert_eq(mkdir(bad, 0777), 0);
    char *src_cfg = tu_path(run, "config.ini"), *dst_cfg = tu_path(bad, "config.ini");
    char *cfg = tu_read_file(src_cfg, NULL);
    cr_assert_not_null(cfg);
    cr_assert_eq(tu_write_file(dst_cfg, cfg), 0);
    r = EV_RUN(tmp, "eval", bad);
    cr_expect_neq(r.rc, 0);
    cr_expect(strstr(r.err, "checkpoint.safetensors") != NULL, "%s", r.err);
    tu_result_free(&r);

    char *src_ck = tu_path(run, "checkpoint.safetensors"), *dst_ck = tu_path(bad, "checkpoint.safetensors");
    size_t n = 0;
    char *ck = tu_read_file(src_ck, &n);
    cr_assert(ck && n > 100);
    cr_assert_eq(tu_write_bytes(dst_ck, ck, n - 40), 0);
    r = EV_RUN(tmp, "eval", bad);
    cr_expect_neq(r.rc, 0);
    cr_expect(strstr(r.err, "cannot load the trained network") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "checkpoint.safetensors") != NULL, "the file is not named:\n%s", r.err);
    cr_expect_str_eq(r.out, "");
    tu_result_free(&r);
    cr_assert_eq(tu_write_bytes(dst_ck, ck, 20), 0);
    r = EV_RUN(tmp, "eval", bad, "--json");
    cr_expect_neq(r.rc, 0);
    cr_expect(strstr(r.err, "checkpoint.safetensors") != NULL, "%s", r.err);
    tu_result_free(&r);

    free(ck);
    free(cfg);
    free(src_ck);
    free(dst_ck);
    free(src_cfg);
    free(dst_cfg);
    free(bad);
    free(nowhere);
    free(run);
    tu_rmtree(tmp);
}

Test(eval, help_explains_with_an_example)
{
    char *tmp = tu_tmpdir();
    tu_result r = EV_RUN(tmp, "eval", "--help");
    cr_expect_eq(r.rc, 0);
    cr_expect(strstr(r.out, "usage: silico eval") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "Example") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "task.min_len=300") != NULL, "%s", r.out);
    tu_result_free(&r);
    r = EV_RUN(tmp, "--help");
    cr_expect(strstr(r.out, "eval RUN") != NULL, "silico --help does not list eval");
    tu_result_free(&r);
    tu_rmtree(tmp);
}
