/* testutil.h — small helpers shared by the Criterion tests: temporary
 * directories and files, a Python/numpy probe, and relative-error
 * comparison of sl_real arrays (tests are also built with -DSL_REAL=double),
 * the check of a task constructor's expected failure, running the
 * silico binary, and the float64 builds' finite-difference gradient check.
 * Everything is static so each test file can include it. */
#ifndef SILICO_TESTUTIL_H
#define SILICO_TESTUTIL_H

#include "silico.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#define TU_PYTHON "/usr/bin/python3"

/* A fresh directory /tmp/silico-test-XXXXXX (malloc'd path; NULL on failure). */
static inline char *tu_tmpdir(void)
{
    char *dir = strdup("/tmp/silico-test-XXXXXX");
    if (dir && !mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* dir + "/" + name (malloc'd). */
static inline char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static inline int tu_rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Remove a directory tree (a tu_tmpdir) and free its path. */
static inline void tu_rmtree(char *dir)
{
    if (!dir) return;
    nftw(dir, tu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Write n bytes to path; 0 on success. */
static inline int tu_write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Write text to path; 0 on success. */
static inline int tu_write_file(const char *path, const char *text)
{
    return tu_write_bytes(path, text, strlen(text));
}

/* The whole file (malloc'd, NUL-terminated); *len gets its size if len. */
static inline char *tu_read_file(const char *path, size_t *len)
{
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *b = realloc(buf, cap *= 2);
        if (!b) free(buf);
        buf = b;
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* Keep the first n bytes of a file. */
static inline int tu_truncate(const char *path, size_t n)
{
    size_t len;
    char *data = tu_read_file(path, &len);
    if (!data || n > len) {
        free(data);
        return -1;
    }
    int rc = tu_write_bytes(path, data, n);
    free(data);
    return rc;
}

/* Whether /usr/bin/python3 can import the given module (e.g. "numpy"). */
static inline int tu_have_python_module(const char *module)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, TU_PYTHON " -c 'import %s' >/dev/null 2>&1", module);
    return system(cmd) == 0;
}

/* Run a Python script (text) with /usr/bin/python3; its exit status. */
static inline int tu_python(const char *dir, const char *script)
{
    char *path = tu_path(dir, "script.py");
    if (!path || tu_write_file(path, script) != 0) {
        free(path);
        return -1;
    }
    size_t n = strlen(path) + 64;
    char *cmd = malloc(n);
    snprintf(cmd, n, TU_PYTHON " %s", path);
    int rc = system(cmd);
    free(cmd);
    free(path);
    return rc;
}

/* Finite-difference gradient check (the float64 builds, tests/f64): central
 * differences (f(p_i + h) − f(p_i − h))/2h of the loss f(ctx) over the n
 * values of p against the analytic gradient an; expects
 * rel = max|fd − an| / max(max|an|, 1e-8) ≤ tol, prints rel to stderr under
 * label and what, and returns it. */
typedef double (*tu_fd_loss_fn)(void *ctx);
static inline double tu_fd_check(const char *label, const char *what, tu_fd_loss_fn f, void *ctx,
                                 sl_real *p, size_t n, const sl_real *an, double h, double tol)
{
    double maxan = 1e-8, err = 0;
    for (size_t i = 0; i < n; i++) maxan = fmax(maxan, fabs(an[i]));
    for (size_t i = 0; i < n; i++) {
        const sl_real save = p[i];
        p[i] = save + h;
        const double lp = f(ctx);
        p[i] = save - h;
        const double lm = f(ctx);
        p[i] = save;
        err = fmax(err, fabs((lp - lm) / (2 * h) - an[i]));
    }
    const double rel = err / maxan;
    fprintf(stderr, "fd %s %s rel %.2e (n %zu, max|grad| %.2e)%s\n", label, what, rel, n, maxan,
            rel <= tol ? "" : "  NOT OK");
    cr_expect(rel <= tol, "%s %s: rel %.3e > %.0e", label, what, rel, tol);
    return rel;
}

/* max|a − b| / max(max|b|, 1e-12): a computed, b the reference. */
static inline double tu_rel_diff(const sl_real *a, const double *b, size_t n)
{
    double diff = 0, scale = 1e-12;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > diff || isnan(d)) diff = d;
        if (fabs(b[i]) > scale) scale = fabs(b[i]);
    }
    return diff / scale;
}

/* A golden .npy as doubles: NULL (with sl_last_error() saying why) when it
 * cannot be read or its dtype is not in `accepted`, a mask of
 * TU_DT(SL_F64) | TU_DT(SL_F32) | ...; *n receives the element count. */
#define TU_DT(t) (1u << (t))
static inline double *tu_npy_doubles(const char *path, size_t *n, unsigned accepted)
{
    sl_array a;
    *n = 0;
    if (sl_npy_read(path, &a) != SL_OK) return NULL;
    if (!(accepted & TU_DT(a.dtype))) {
        sl_fail(SL_EFORMAT, "%s has dtype %s, which this test does not expect", path,
                sl_dtype_name(a.dtype));
        sl_array_free(&a);
        return NULL;
    }
    size_t k = sl_array_numel(&a);
    double *out = malloc((k ? k : 1) * sizeof(double));
    for (size_t i = 0; out && i < k; i++) switch (a.dtype) {
        case SL_F64: out[i] = ((const double *)a.data)[i]; break;
        case SL_F32: out[i] = ((const float *)a.data)[i]; break;
        case SL_I32: out[i] = ((const int32_t *)a.data)[i]; break;
        case SL_I64: out[i] = (double)((const int64_t *)a.data)[i]; break;
        case SL_U8: out[i] = ((const uint8_t *)a.data)[i]; break;
        }
    sl_array_free(&a);
    if (!out) sl_fail(SL_ENOMEM, "%s: out of memory", path);
    *n = k;
    return out;
}

/* A golden-tensor check: rel = max|got − ref| / max(max|ref|, 1e-6), infinite
 * when got holds a non-finite value. Prints "<label> <what> rel R (max diff
 * D)" to stderr, marked "  NOT OK" past tol (as llm.c's test does), and
 * returns rel. */
static inline double tu_golden_rel(const char *label, const char *what, const sl_real *got,
                                   const double *ref, size_t n, double tol)
{
    double maxref = 0, maxdiff = 0;
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite((double)got[i])) finite = 0;
        maxdiff = fmax(maxdiff, fabs((double)got[i] - ref[i]));
        maxref = fmax(maxref, fabs(ref[i]));
    }
    double rel = finite ? maxdiff / fmax(maxref, 1e-6) : INFINITY;
    fprintf(stderr, "%s %s rel %.2e (max diff %.2e)%s\n", label, what, rel, maxdiff,
            rel <= tol ? "" : "  NOT OK");
    return rel;
}

/* The same with both arrays sl_real. */
static inline double tu_rel_diff_real(const sl_real *a, const sl_real *b, size_t n)
{
    double diff = 0, scale = 1e-12;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > diff || isnan(d)) diff = d;
        if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    }
    return diff / scale;
}

/* create(c, &t) fails with status want, gives no task, and its message holds
 * each of the NULL-terminated fragments (printed as "LABEL error (expected)"). */
static inline void tu_task_expect_fail_v(sl_status (*create)(const sl_config *, sl_task **),
                                         const char *label, sl_config *c, sl_status want,
                                         const char *frag, va_list ap)
{
    sl_task *t = NULL;
    sl_status s = create(c, &t);
    cr_assert_eq(s, want, "expected %s, got %s (%s)", sl_status_str(want), sl_status_str(s),
                 sl_last_error());
    cr_assert_null(t);
    const char *msg = sl_last_error();
    for (const char *f = frag; f; f = va_arg(ap, const char *))
        cr_assert(strstr(msg, f) != NULL, "message '%s' lacks '%s'", msg, f);
    fprintf(stderr, "%s error (expected): %s\n", label, msg);
}

/* The silico binary under test: $SILICO_BIN, else build/silico. */
static inline const char *tu_silico_bin(void)
{
    const char *b = getenv("SILICO_BIN");
    return b && *b ? b : "build/silico";
}

/* Run `silico ARGS` (a shell-quoted string) with stdout into out_path and
 * stderr into err_path (NULL: into out_path too); the exit status, 128 when
 * it did not exit. */
static inline int tu_silico(const char *args, const char *out_path, const char *err_path)
{
    char cmd[8192];
    if (err_path)
        snprintf(cmd, sizeof cmd, "%s %s > '%s' 2> '%s'", tu_silico_bin(), args, out_path, err_path);
    else
        snprintf(cmd, sizeof cmd, "%s %s > '%s' 2>&1", tu_silico_bin(), args, out_path);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* Run the silico binary with args (NULL-terminated, no argv[0]) without a
 * shell, stdin from /dev/null, stdout and stderr captured in files under dir
 * (a directory that is not a run directory). tu_spawn starts it (the caller
 * may signal the pid) and tu_wait collects it; tu_run_v does both. */
typedef struct {
    int rc;    /* exit status, or 128 + signal */
    char *out; /* stdout text (malloc'd) */
    char *err; /* stderr text (malloc'd) */
} tu_result;

static inline void tu_result_free(tu_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static inline pid_t tu_spawn(const char *dir, const char *const *args, char **out_path, char **err_path)
{
    static int counter;
    char name[64];
    snprintf(name, sizeof name, "cap-%d.out", ++counter);
    *out_path = tu_path(dir, name);
    snprintf(name, sizeof name, "cap-%d.err", counter);
    *err_path = tu_path(dir, name);
    int n = 0;
    while (args[n]) n++;
    char **argv = calloc((size_t)n + 2, sizeof *argv);
    cr_assert_not_null(argv);
    argv[0] = (char *)tu_silico_bin();
    for (int i = 0; i < n; i++) argv[i + 1] = (char *)args[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, *out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, *err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    cr_assert_eq(e, 0, "cannot run %s: %s (build it, or set SILICO_BIN)", tu_silico_bin(), strerror(e));
    return pid;
}

static inline tu_result tu_wait(pid_t pid, char *out_path, char *err_path)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    tu_result r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = tu_read_file(out_path, NULL);
    r.err = tu_read_file(err_path, NULL);
    if (!r.out) r.out = strdup("");
    if (!r.err) r.err = strdup("");
    free(out_path);
    free(err_path);
    return r;
}

static inline tu_result tu_run_v(const char *dir, const char *const *args)
{
    char *o, *e;
    pid_t pid = tu_spawn(dir, args, &o, &e);
    return tu_wait(pid, o, e);
}

#endif
