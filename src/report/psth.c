/* psth.c — peri-stimulus time histograms.
 *
 * psth: the condition-averaged rate r_i(t) of 8 model units (4 on a canvas
 * narrower than 900 px; default: the
 * units whose rates vary most over conditions and time; opts.units to
 * choose), one panel per unit, one line per condition, on the task's time
 * axis (0 = go cue). Reads analysis/activity/r.npy (or runs the checkpoint).
 * After `silico compare` (analysis/compare/model_rates.npy, data_rates.npy,
 * C×T×N on time.npy, s from movement onset) both rows share the data's axis:
 * 4 model units on top (2 narrow), below them the 4 (2) recorded neurons whose
 * rates vary most over conditions and time (ties: the lower index), each in
 * its own units, condition-paired as compare paired them.
 *
 * compare-pcs: the model's and the recorded neurons' population activity on
 * the same time axis after `silico compare`: the first 3 aligned principal
 * components of each (analysis/compare/model_pcs.npy, data_pcs.npy, C×T×K;
 * time.npy, s from movement onset), model on the top row, data below. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"

/* One data file per condition set: index c holds condition c's rows
 * "time v_0 .. v_{n-1}" for the n chosen columns of x (C×T×N). */
static sl_status write_blocks(fig *f, const char *part, const double *x, const double *time, int tstride,
                              int C, int T, int N, const int *cols, int n, char **file)
{
    FILE *o;
    sl_status st = fig_data(f, part, "one block (index) per condition: time, then one column per unit", &o, file);
    if (st) return st;
    for (int c = 0; c < C; c++) {
        for (int t = 0; t < T; t++) {
            fprintf(o, "%.6g", time[(size_t)c * tstride + t]);
            for (int q = 0; q < n; q++) fprintf(o, " %.6g", x[((size_t)c * T + t) * N + cols[q]]);
            fputc('\n', o);
        }
        fprintf(o, "\n\n");
    }
    return fig_data_close(o, *file);
}

/* A rows×cols grid of panels, panel q plotting column 2+q of every block;
 * the first panel carries the condition legend. */
static void grid(fig *f, const char *file, int rows, int cols, int n, int C, char **cond_label,
                 const char *const *titles, const char *ylabel, const char *xlabel, int row_offset)
{
    for (int q = 0; q < n; q++) {
        int r = (q + row_offset) / cols, c = (q + row_offset) % cols;
        fig_cmd(f, "set title %s\n", fig_quote(titles[q]));
        fig_cmd(f, "set ylabel %s\n", c == 0 ? fig_quote(ylabel) : "\"\"");
        fig_cmd(f, "set xlabel %s\n", r == rows - 1 ? fig_quote(xlabel) : "\"\"");
        if (q == 0 && cond_label) fig_colour_legend(f, C, cond_label, 1 - 50.0 / f->height);
        fig_cmd(f, "plot for [c=0:%d] \"%s\" index c using 1:%d with lines lt (c %% 8 + 1) lw 1.5 notitle\n", C - 1,
                file, 2 + q);
        if (q == 0 && cond_label)
            for (int c = 0; c < C && c < 16; c++) fig_cmd(f, "unset label %d\n", 100 + c);
    }
}

/* About four time ticks per small panel. */
static void time_tics(fig *f, const double *t, int T)
{
    static const double steps[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10};
    double span = T > 1 ? t[T - 1] - t[0] : 0;
    for (size_t i = 0; span > 0 && i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] >= span / 4 || i + 1 == sizeof steps / sizeof steps[0]) {
            fig_cmd(f, "set xtics %g\n", steps[i]);
            break;
        }
}

/* analysis/compare/<model>.npy and <data>.npy (C×T×·) on compare's
 * time.npy (T, at least min_T steps), checked to align; on failure the
 * arrays read so far are left for the caller to free. */
static sl_status read_compare(const char *run, const char *model, const char *data, int min_T, double **m,
                              int64_t sm[8], double **d, int64_t sd[8], double **t)
{
    char rm[96], rdd[96];
    int64_t stt[8];
    snprintf(rm, sizeof rm, "analysis/compare/%s.npy", model);
    snprintf(rdd, sizeof rdd, "analysis/compare/%s.npy", data);
    sl_status st = rd_npy_dims(run, rm, 3, m, sm);
    if (!st) st = rd_npy_dims(run, rdd, 3, d, sd);
    if (!st) st = rd_npy_dims(run, "analysis/compare/time.npy", 1, t, stt);
    if (!st && (sm[0] != sd[0] || sm[1] != sd[1] || sm[1] != stt[0] || sm[1] < min_T))
        st = sl_fail(SL_EFORMAT, "%s/analysis/compare: %s %lld×%lld, %s %lld×%lld and time %lld do not align", run,
                     model, (long long)sm[0], (long long)sm[1], data, (long long)sd[0], (long long)sd[1],
                     (long long)stt[0]);
    return st;
}

/* The psth after compare: model units above recorded neurons, both on
 * analysis/compare/time.npy. */
static sl_status psth_compared(fig_job *j, const rd_activity *a)
{
    fig *f = &j->f;
    double *m = NULL, *d = NULL, *t = NULL;
    int64_t sm[8], sd[8];
    char *fm = NULL, *fd = NULL;
    sl_status st = read_compare(j->run, "model_rates", "data_rates", 2, &m, sm, &d, sd, &t);
    const int C = st ? 0 : (int)sm[0], T = st ? 0 : (int)sm[1];
    const int cols = f->width < 900 ? 2 : 4;
    int mu[4], du[4], nm = 0, nd = 0;
    if (!st) {
        nm = j->o->units && j->o->n_units > 0 ? fig_pick(j->o->units, j->o->n_units, (int)sm[2], cols, mu, "unit")
                                              : fig_top_variance(m, (size_t)C * T, (int)sm[2], cols, mu);
        nd = fig_top_variance(d, (size_t)C * T, (int)sd[2], cols, du);
        if (nm == 0 || nd == 0) st = sl_last_error()[0] ? SL_EINVAL : sl_fail(SL_EINVAL, "psth: no units");
    }
    if (!st) st = write_blocks(f, "model_rates", m, t, 0, C, T, (int)sm[2], mu, nm, &fm);
    if (!st) st = write_blocks(f, "data_rates", d, t, 0, C, T, (int)sd[2], du, nd, &fd);
    if (!st) {
        char tm[4][32], td[4][40];
        const char *pm[4], *pd[4];
        for (int q = 0; q < nm; q++) snprintf(tm[q], sizeof tm[q], "unit %d", mu[q]), pm[q] = tm[q];
        for (int q = 0; q < nd; q++) snprintf(td[q], sizeof td[q], "recorded neuron %d (data)", du[q]), pd[q] = td[q];
        const int rm = (nm + cols - 1) / cols, rows = rm + (nd + cols - 1) / cols;
        const char *xl = "time from movement onset (s)";
        fig_cmd(f, "set multiplot layout %d,%d %s title \"%s\" font \",13\"\n"
                   "set grid lc rgb \"#eeeeee\"\nset xrange [%g:%g]\n",
                rows, cols, fig_margins(f, 75, 20, 60, 95, 50, 75),
                cols < 4 ? "Model units (top), recorded neurons (bottom)"
                         : "Model units (top) and recorded neurons (bottom): condition-averaged rates (colour = condition)",
                t[0], t[T - 1]);
        time_tics(f, t, T);
        fig_zero_marker(f, xl);
        char **lab = C <= a->C ? a->cond_label : NULL;
        grid(f, fm, rows, cols, nm, C, lab, pm, "rate (a.u.)", xl, 0);
        /* the data row starts on a fresh row */
        for (int q = nm; q < rm * cols; q++) fig_cmd(f, "set multiplot next\n");
        grid(f, fd, rows, cols, nd, C, NULL, pd, "rate (data units)", xl, rm * cols);
        fig_cmd(f, "unset multiplot\n");
    }
    free(fm);
    free(fd);
    free(m);
    free(d);
    free(t);
    return st;
}

sl_status fig_draw_psth(fig_job *j)
{
    fig *f = &j->f;
    rd_activity a;
    sl_status st = rd_activity_load(j->run, 1, &a);
    if (st) return st;
    if (rd_exists(j->run, "analysis/compare/data_rates.npy")) {
        st = psth_compared(j, &a);
        rd_activity_free(&a);
        return st;
    }
    int units[8];
    int n = j->o->units && j->o->n_units > 0
                ? fig_pick(j->o->units, j->o->n_units, a.N, 8, units, "unit")
                : fig_top_variance(a.r, (size_t)a.C * a.T, a.N, f->width < 900 ? 4 : 8, units);
    char *file = NULL;
    if (n == 0) st = sl_last_error()[0] ? SL_EINVAL : sl_fail(SL_EINVAL, "psth: no units");
    if (!st) st = write_blocks(f, "rates", a.r, a.time, a.T, a.C, a.T, a.N, units, n, &file);
    if (!st) {
        char titles[8][32];
        const char *tp[8];
        for (int q = 0; q < n; q++) {
            snprintf(titles[q], sizeof titles[q], "unit %d", units[q]);
            tp[q] = titles[q];
        }
        int cols = n < 4 ? n : f->width < 900 ? 2 : 4, rows = (n + cols - 1) / cols;
        fig_cmd(f, "set multiplot layout %d,%d %s title \"Model units: condition-averaged rates (colour = condition)\" "
                   "font \",13\"\n"
                   "set grid lc rgb \"#eeeeee\"\n",
                rows, cols, fig_margins(f, 75, 20, 60, 95, 50, 75));
        fig_zero_marker(f, a.xlabel);
        grid(f, file, rows, cols, n, a.C, a.cond_label, tp, "rate (a.u.)", a.xlabel, 0);
        fig_cmd(f, "unset multiplot\n");
    }
    free(file);
    rd_activity_free(&a);
    return st;
}

sl_status fig_draw_compare_pcs(fig_job *j)
{
    fig *f = &j->f;
    double *m = NULL, *d = NULL, *t = NULL;
    int64_t sm[8], sd[8];
    sl_status st = read_compare(j->run, "model_pcs", "data_pcs", 1, &m, sm, &d, sd, &t);
    char *fm = NULL, *fd = NULL;
    int C = st ? 0 : (int)sm[0], T = st ? 0 : (int)sm[1];
    int k = st ? 0 : (int)(sm[2] < sd[2] ? sm[2] : sd[2]);
    if (k > 3) k = 3;
    int cols[3] = {0, 1, 2};
    if (!st) st = write_blocks(f, "model", m, t, 0, C, T, (int)sm[2], cols, k, &fm);
    if (!st) st = write_blocks(f, "data", d, t, 0, C, T, (int)sd[2], cols, k, &fd);
    if (!st) {
        const char *tm[3] = {"model PC1", "model PC2", "model PC3"};
        const char *td[3] = {"data PC1", "data PC2", "data PC3"};
        fig_cmd(f, "set multiplot layout 2,%d title \"Model vs recorded neurons: aligned principal components (colour = condition)\" font \",13\"\n"
                   "set grid lc rgb \"#eeeeee\"\nset tics font \",9\"\n",
                k);
        time_tics(f, t, T);
        fig_zero_marker(f, "time from movement onset (s)");
        grid(f, fm, 2, k, k, C, NULL, tm, "projection (a.u.)", "time from movement onset (s)", 0);
        grid(f, fd, 2, k, k, C, NULL, td, "projection (a.u.)", "time from movement onset (s)", k);
        fig_cmd(f, "unset multiplot\n");
    }
    free(fm);
    free(fd);
    free(m);
    free(d);
    free(t);
    return st;
}
