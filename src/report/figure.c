/* figure.c — the gnuplot plumbing every figure shares.
 *
 * A figure is OUT/<name>.gp (a readable script), its data files
 * OUT/<name>_<part>.dat (whitespace-separated columns, the first line
 * "# column names"; blocks separated by two blank lines are gnuplot's
 * `index`), and what gnuplot renders from them: OUT/<name>.png (pngcairo)
 * and OUT/<name>.svg. The script renders its body twice, once per terminal,
 * so editing one place restyles both. Colours are the Okabe–Ito palette
 * (Okabe & Ito 2008), distinguishable with every common colour-vision
 * deficiency; heat maps use viridis. gnuplot's PNG and SVG output carries no
 * date, so the same inputs give the same files byte for byte.
 */
#include "report/figure.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const FIG_COLOURS[8] = {
    "#0072B2", /* blue */
    "#D55E00", /* vermillion */
    "#009E73", /* bluish green */
    "#E69F00", /* orange */
    "#CC79A7", /* reddish purple */
    "#56B4E9", /* sky blue */
    "#000000", /* black */
    "#F0E442", /* yellow */
};

sl_status fig_begin(fig *f, const char *dir, const char *name, int width, int height)
{
    memset(f, 0, sizeof *f);
    if (width < 64 || height < 64 || width > 8192 || height > 8192)
        return sl_fail(SL_EINVAL, "figure %s: size %d×%d pixels out of range [64, 8192]", name,
                       width, height);
    f->dir = strdup(dir);
    f->name = strdup(name);
    f->width = width;
    f->height = height;
    if (!f->dir || !f->name) {
        fig_free(f);
        return sl_fail(SL_ENOMEM, "figure %s: out of memory", name);
    }
    return SL_OK;
}

void fig_cmd(fig *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || f->oom) return;
    if (f->len + (size_t)n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < f->len + (size_t)n + 1) cap *= 2;
        char *b = realloc(f->body, cap);
        if (!b) {
            f->oom = 1;
            return;
        }
        f->body = b;
        f->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(f->body + f->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    f->len += (size_t)n;
}

const char *fig_quote(const char *s)
{
    static _Thread_local char ring[8][512];
    static _Thread_local int next;
    char *o = ring[next++ & 7];
    size_t j = 0;
    o[j++] = '"';
    for (; *s && j < sizeof ring[0] - 4; s++) {
        if (*s == '"' || *s == '\\') o[j++] = '\\';
        if (strchr("_^{}@&~", *s)) { /* literal in enhanced text: \\_ inside "..." */
            o[j++] = '\\';
            o[j++] = '\\';
        }
        o[j++] = *s == '\n' ? ' ' : *s;
    }
    o[j++] = '"';
    o[j] = 0;
    return o;
}

sl_status fig_data(fig *f, const char *part, const char *columns, FILE **fp, char **file)
{
    size_t n = strlen(f->name) + strlen(part) + 8;
    char *rel = malloc(n);
    if (!rel) return sl_fail(SL_ENOMEM, "figure %s: out of memory", f->name);
    snprintf(rel, n, "%s_%s.dat", f->name, part);
    char *path = rd_path(f->dir, rel);
    FILE *o = path ? fopen(path, "w") : NULL;
    if (!o) {
        sl_status st = sl_fail(SL_EIO, "figure %s: cannot write %s: %s", f->name,
                               path ? path : rel, strerror(errno));
        free(path);
        free(rel);
        return st;
    }
    free(path);
    fprintf(o, "# %s\n", columns);
    *fp = o;
    *file = rel;
    return SL_OK;
}

sl_status fig_data_close(FILE *fp, const char *file)
{
    int bad = ferror(fp);
    if (fclose(fp) != 0 || bad) return sl_fail(SL_EIO, "cannot write figure data %s", file);
    return SL_OK;
}

static sl_status write_script(const fig *f, const char *path)
{
    FILE *o = fopen(path, "w");
    if (!o) return sl_fail(SL_EIO, "cannot write %s: %s", path, strerror(errno));
    fprintf(o,
            "# %s.gp — a silico figure. Edit freely, then run it again in this folder:\n"
            "#     gnuplot %s.gp        (writes %s.png and %s.svg)\n"
            "# The data it plots are the %s_*.dat files beside it (first line: column names).\n"
            "\n"
            "# Okabe–Ito colour-blind-safe palette; linetype k is colour k\n",
            f->name, f->name, f->name, f->name, f->name);
    for (int i = 0; i < 8; i++)
        fprintf(o, "set linetype %d lc rgb \"%s\" lw 2 pt 7 ps 0.8 dt solid\n", i + 1, FIG_COLOURS[i]);
    fprintf(o,
            "set linetype cycle 8\n"
            "\n"
            "do for [fmt in \"png svg\"] {\n"
            "reset\n"
            "# viridis for heat maps\n"
            "set palette defined (0 '#440154', 1 '#472c7a', 2 '#3b518b', 3 '#2c718e', 4 '#21908d', "
            "5 '#27ad81', 6 '#5cc863', 7 '#aadc32', 8 '#fde725')\n"
            "if (fmt eq \"png\") {\n"
            "    set terminal pngcairo size %d,%d enhanced font \"DejaVu Sans,11\" linewidth 1.2\n"
            "    set output \"%s.png\"\n"
            "} else {\n"
            "    set terminal svg size %d,%d enhanced font \"DejaVu Sans,11\" linewidth 1.2 "
            "background \"#ffffff\"\n"
            "    set output \"%s.svg\"\n"
            "}\n"
            "set encoding utf8\n"
            "set border lw 1\n"
            "set tics nomirror out\n"
            "set key noautotitle\n"
            "\n",
            f->width, f->height, f->name, f->width, f->height, f->name);
    fwrite(f->body ? f->body : "", 1, f->len, o);
    fprintf(o, "\nset output\n}\n");
    int bad = ferror(o);
    if (fclose(o) != 0 || bad) return sl_fail(SL_EIO, "cannot write %s", path);
    return SL_OK;
}

sl_status fig_render(fig *f, char **warnings)
{
    if (warnings) *warnings = NULL;
    if (f->oom) return sl_fail(SL_ENOMEM, "figure %s: out of memory building its script", f->name);
    size_t n = strlen(f->name) + 4;
    char *script = malloc(n);
    if (!script) return sl_fail(SL_ENOMEM, "figure %s: out of memory", f->name);
    snprintf(script, n, "%s.gp", f->name);
    char *path = rd_path(f->dir, script);
    sl_status st = path ? write_script(f, path) : sl_fail(SL_ENOMEM, "out of memory");
    free(path);
    if (st) {
        free(script);
        return st;
    }
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        free(script);
        return sl_fail(SL_EIO, "figure %s: pipe: %s", f->name, strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        free(script);
        return sl_fail(SL_EIO, "figure %s: fork: %s", f->name, strerror(errno));
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        if (chdir(f->dir) != 0) _exit(126);
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    char *err = NULL;
    size_t elen = 0, ecap = 0;
    for (;;) {
        char buf[4096];
        ssize_t r = read(pipefd[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (elen + (size_t)r + 1 > ecap) {
            size_t cap = ecap ? 2 * ecap : 8192;
            while (cap < elen + (size_t)r + 1) cap *= 2;
            char *e = realloc(err, cap);
            if (!e) break;
            err = e;
            ecap = cap;
        }
        memcpy(err + elen, buf, (size_t)r);
        elen += (size_t)r;
        err[elen] = 0;
    }
    close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    free(script);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        free(err);
        return sl_fail(SL_EIO, "figure %s: gnuplot not found (install gnuplot-nox: make deps)",
                       f->name);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 126) {
        free(err);
        return sl_fail(SL_EIO, "figure %s: cannot enter %s", f->name, f->dir);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        st = sl_fail(SL_EIO, "figure %s: gnuplot failed on %s/%s.gp (%s %d): %s", f->name, f->dir,
                     f->name, WIFEXITED(status) ? "exit status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                     err ? err : "(no message)");
        free(err);
        return st;
    }
    if (warnings && elen)
        *warnings = err;
    else
        free(err);
    return SL_OK;
}

void fig_free(fig *f)
{
    free(f->dir);
    free(f->name);
    free(f->body);
    memset(f, 0, sizeof *f);
}

int fig_pick(const int *sel, int nsel, int C, int max, int *out, const char *what)
{
    if (sel && nsel > 0) {
        int n = 0;
        for (int i = 0; i < nsel && n < max; i++) {
            if (sel[i] < 0 || sel[i] >= C) {
                sl_fail(SL_EINVAL, "%s %d out of range: there are %d (0..%d)", what, sel[i], C, C - 1);
                return 0;
            }
            out[n++] = sel[i];
        }
        return n;
    }
    int n = C < max ? C : max;
    for (int i = 0; i < n; i++) out[i] = (int)((long)i * C / n);
    return n;
}

int fig_top_k(const double *score, int N, int k, int *out)
{
    if (k > N) k = N;
    for (int n = 0; n < k; n++) {
        int best = -1;
        for (int i = 0; i < N; i++) {
            int used = 0;
            for (int q = 0; q < n; q++) used |= out[q] == i;
            if (!used && (best < 0 || score[i] > score[best])) best = i;
        }
        out[n] = best;
    }
    return k;
}

int fig_top_variance(const double *x, size_t M, int N, int k, int *out)
{
    double *var = calloc((size_t)N, sizeof(double));
    if (!var) return 0;
    for (int i = 0; i < N; i++) {
        double s = 0, s2 = 0;
        for (size_t m = 0; m < M; m++) {
            double v = x[m * N + i];
            s += v;
            s2 += v * v;
        }
        var[i] = s2 / M - (s / M) * (s / M);
    }
    k = fig_top_k(var, N, k, out);
    free(var);
    return k;
}

static int by_key(const void *a, const void *b, void *key)
{
    const double x = ((const double *)key)[*(const int *)a], y = ((const double *)key)[*(const int *)b];
    return (x > y) - (x < y);
}

int *fig_argsort(const double *key, int n)
{
    int *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    if (!idx) return NULL;
    for (int i = 0; i < n; i++) idx[i] = i;
    if (key) qsort_r(idx, (size_t)n, sizeof *idx, by_key, (void *)key);
    return idx;
}

void fig_zero_marker(fig *f, const char *xlabel)
{
    if (strncmp(xlabel, "time from ", 10) != 0 || !strncmp(xlabel, "time from trial start", 21)) return;
    char what[64];
    snprintf(what, sizeof what, "%s", xlabel + 10);
    char *paren = strstr(what, " (s)");
    if (paren) *paren = 0;
    fig_cmd(f, "set arrow 99 from 0, graph 0 to 0, graph 1 nohead dt 2 lw 1 lc rgb \"#555555\" back\n"
               "set label 90 %s at 0, graph 1 offset 0.3,-0.7 left font \",9\" tc rgb \"#555555\"\n",
            fig_quote(what));
}

sl_status fig_matrix(fig *f, const char *part, const double *m, int rows, int cols, char **file)
{
    FILE *o;
    sl_status st = fig_data(f, part, "matrix: one row per line", &o, file);
    if (st) return st;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) fprintf(o, c ? " %.6g" : "%.6g", m[(size_t)r * cols + c]);
        fputc('\n', o);
    }
    st = fig_data_close(o, *file);
    if (st) {
        free(*file);
        *file = NULL;
    }
    return st;
}

const char *fig_margins(const fig *f, int left, int right, int bottom, int top, int xgap, int ygap)
{
    static _Thread_local char buf[128];
    snprintf(buf, sizeof buf, "margins %.4f,%.4f,%.4f,%.4f spacing %.4f,%.4f", (double)left / f->width,
             1 - (double)right / f->width, (double)bottom / f->height, 1 - (double)top / f->height,
             (double)xgap / f->width, (double)ygap / f->height);
    return buf;
}

void fig_colour_legend(fig *f, int n, char *const *labels, double y)
{
    const int shown = n < 16 ? n : 16;
    size_t longest = 0;
    for (int i = 0; i < shown; i++) longest = strlen(labels[i]) > longest ? strlen(labels[i]) : longest;
    /* ~7 px per character at 10 pt; wrap onto a second row when one does not fit */
    const double step = (40.0 + 7.0 * longest) / f->width;
    int per_row = (int)(0.95 / step);
    if (per_row < 1) per_row = 1;
    if (per_row > shown) per_row = shown;
    for (int i = 0; i < shown; i++) {
        int row = i / per_row, col = i % per_row;
        int in_row = shown - row * per_row < per_row ? shown - row * per_row : per_row;
        char text[96];
        snprintf(text, sizeof text, "— %s", labels[i]);
        fig_cmd(f, "set label %d %s at screen %.4f,%.4f center font \",10\" tc lt %d\n", 100 + i,
                fig_quote(text), 0.5 + step * (col + 0.5 - 0.5 * in_row), y - row * 16.0 / f->height, i % 8 + 1);
    }
}
