/* test_install.c — `make install` into a temporary prefix, as a user would
 * install silico, and use of the installed tree:
 *   - the layout: bin/silico, lib/libsilico.{a,so}, include/silico.h,
 *     lib/pkgconfig/silico.pc, share/silico/{data,examples};
 *   - examples/api/train_api.c built with its Makefile through pkg-config
 *     against the installed library, shared and static, trains to finite
 *     errors;
 *   - the installed bin/silico trains examples/reach.ini's task (real EMG)
 *     from an unrelated working directory, finding the data under
 *     PREFIX/share/silico (compiled in from PREFIX at build time).
 * The install is built apart from build/ (BUILD=<tmp>/build), from the
 * repository root (the test's working directory). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "silico.h"
#include "testutil.h"

/* Run a shell command (printf-style); its exit status. The command's output
 * goes to log (appended), which is printed when a check fails. */
static int in_sh(const char *log, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[8800];
    snprintf(full, sizeof full, "{ %s ; } >>'%s' 2>&1", cmd, log);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static char *in_log_tail(const char *log)
{
    size_t n;
    char *t = tu_read_file(log, &n);
    if (!t) return strdup("(no log)");
    if (n > 6000) memmove(t, t + n - 6000, 6001);
    return t;
}

/* A finite number printed after label ("train error 12.3 %"). */
static double in_number_after(const char *text, const char *label)
{
    const char *p = strstr(text, label);
    cr_assert_not_null(p, "no \"%s\" in:\n%s", label, text);
    return strtod(p + strlen(label), NULL);
}

Test(install, make_install_then_build_and_train_against_it, .timeout = 240)
{
    char *tmp = tu_tmpdir();
    cr_assert_not_null(tmp);
    char prefix[512], build[512], log[512], api[512], work[512], path[1024];
    snprintf(prefix, sizeof prefix, "%s/prefix", tmp);
    snprintf(build, sizeof build, "%s/build", tmp);
    snprintf(log, sizeof log, "%s/log.txt", tmp);
    snprintf(api, sizeof api, "%s/api", tmp);
    snprintf(work, sizeof work, "%s/elsewhere", tmp);

    /* 1. install (a parent make's MAKEFLAGS must not leak into this one) */
    int rc = in_sh(log, "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j2 install PREFIX='%s' BUILD='%s'",
                   prefix, build);
    if (rc) cr_assert_fail("make install exited %d:\n%s", rc, in_log_tail(log));

    const char *files[] = {"bin/silico",      "lib/libsilico.a",         "lib/libsilico.so",
                           "include/silico.h", "lib/pkgconfig/silico.pc",
                           "share/silico/data/reach/hatsopoulos_emg.npy",
                           "share/silico/examples/reach.ini"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", prefix, files[i]);
        struct stat sb;
        cr_expect(stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0,
                  "the install lacks %s", files[i]);
    }
    snprintf(path, sizeof path, "%s/bin/silico", prefix);
    cr_expect(access(path, X_OK) == 0, "bin/silico is not executable");

    /* the .pc file: version, flags, and the libraries a static link needs */
    snprintf(path, sizeof path, "%s/lib/pkgconfig/silico.pc", prefix);
    char *pc = tu_read_file(path, NULL);
    cr_assert_not_null(pc);
    char want[700];
    snprintf(want, sizeof want, "prefix=%s\n", prefix);
    cr_expect(strstr(pc, want) != NULL, "silico.pc lacks %s", want);
    cr_expect(strstr(pc, "Version: " SILICO_VERSION "\n") != NULL, "silico.pc:\n%s", pc);
    cr_expect(strstr(pc, "@") == NULL, "silico.pc has an unsubstituted @VAR@:\n%s", pc);
    const char *priv[] = {"-lopenblas", "-linih", "-lcjson", "-lm", "-lpthread"};
    const char *lp = strstr(pc, "Libs.private:");
    cr_assert_not_null(lp, "silico.pc has no Libs.private:\n%s", pc);
    for (size_t i = 0; i < sizeof priv / sizeof *priv; i++)
        cr_expect(strstr(lp, priv[i]) != NULL, "Libs.private lacks %s", priv[i]);
    free(pc);

    if (in_sh(log, "command -v pkg-config") != 0) {
        tu_rmtree(tmp);
        cr_skip_test("pkg-config is not installed: the install itself was checked");
    }
    rc = in_sh(log, "test \"$(PKG_CONFIG_PATH='%s/lib/pkgconfig' pkg-config --modversion silico)\" = %s",
               prefix, SILICO_VERSION);
    cr_expect_eq(rc, 0, "pkg-config --modversion silico:\n%s", in_log_tail(log));

    /* 2. the API example, built by its own Makefile (a copy, so the source
     *    tree stays clean), shared then static */
    rc = in_sh(log, "mkdir -p '%s' && cp examples/api/train_api.c examples/api/Makefile '%s/'", api, api);
    cr_assert_eq(rc, 0, "%s", in_log_tail(log));
    const char *modes[] = {"", "STATIC=1"};
    for (int m = 0; m < 2; m++) {
        rc = in_sh(log, "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PKG_CONFIG_PATH='%s/lib/pkgconfig' "
                        "make -C '%s' %s",
                   prefix, api, modes[m]);
        if (rc) cr_assert_fail("building train_api %s exited %d:\n%s", modes[m], rc, in_log_tail(log));
        /* shared: the rpath finds the installed .so; LD_LIBRARY_PATH too, as a user might */
        char out[600];
        snprintf(out, sizeof out, "%s/train_api%d.out", tmp, m);
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && TMPDIR='%s' LD_LIBRARY_PATH='%s/lib' '%s/train_api' 30 >'%s' 2>&1", tmp,
                 tmp, prefix, api, out);
        int st = system(cmd);
        char *text = tu_read_file(out, NULL);
        cr_assert_not_null(text);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "train_api (%s) failed:\n%s",
                  m ? "static" : "shared", text);
        double tr = in_number_after(text, "train error "), va = in_number_after(text, "validation error ");
        cr_expect(isfinite(tr) && tr > 0 && tr < 200, "train error %g\n%s", tr, text);
        cr_expect(isfinite(va) && va > 0 && va < 200, "validation error %g\n%s", va, text);
        free(text);
        if (m == 0) {
            /* the shared build really links the installed libsilico.so */
            rc = in_sh(log, "ldd '%s/train_api' | grep -q '%s/lib/libsilico.so'", api, prefix);
            cr_expect_eq(rc, 0, "train_api does not load %s/lib/libsilico.so", prefix);
        } else {
            rc = in_sh(log, "! ldd '%s/train_api' | grep -q libsilico", api);
            cr_expect_eq(rc, 0, "the STATIC=1 build still loads libsilico.so");
        }
    }

    /* 3. the installed CLI, from a directory with no data/ in it and no
     *    SILICO_DATA_DIR: the reach EMG must come from PREFIX/share/silico */
    char *run = tu_path(work, "run");
    rc = in_sh(log,
               "mkdir -p '%s' && cd '%s' && env -u SILICO_DATA_DIR '%s/bin/silico' train "
               "'%s/share/silico/examples/reach.ini' model.hidden=16 train.epochs=3 "
               "train.val_every=1 --quiet --out run",
               work, work, prefix, prefix);
    cr_assert_eq(rc, 0, "the installed silico could not train reach.ini from %s:\n%s", work,
                 in_log_tail(log));
    char *sp = tu_path(run, "summary.json"), *cp = tu_path(run, "config.ini");
    char *sum = tu_read_file(sp, NULL), *cfg = tu_read_file(cp, NULL);
    cr_assert_not_null(sum);
    cr_assert_not_null(cfg);
    cr_expect(strstr(cfg, "name = reach\n") != NULL, "the run did not use the reach task");
    cJSON *o = cJSON_Parse(sum);
    cr_assert_not_null(o);
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(o, "train_error_pct");
    cr_expect(cJSON_IsNumber(tr) && isfinite(tr->valuedouble), "summary.json:\n%s", sum);
    cJSON_Delete(o);
    free(sum), free(cfg), free(sp), free(cp), free(run);
    tu_rmtree(tmp);
}
