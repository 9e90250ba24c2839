/* gates.c — gate activity of gated cells over time, for one condition
 * (opts.conditions[0], default 0): one panel per gate file in
 * analysis/activity/ — LSTM gate_i (input), gate_f (forget), gate_g (cell
 * candidate), gate_o (output) and cell (c_t); GRU gate_r (reset), gate_z
 * (update), gate_n (candidate) — each C×T×N, showing the 4 units whose
 * first gate varies most over time (opts.units to choose), one colour per
 * unit across panels. */
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"

static const struct {
    const char *file, *title, *ylabel;
} GATES[] = {
    {"gate_i", "input gate i", "gate value"},  {"gate_f", "forget gate f", "gate value"},
    {"gate_g", "cell candidate g", "value"},   {"gate_o", "output gate o", "gate value"},
    {"cell", "cell state c", "c (a.u.)"},      {"gate_r", "reset gate r", "gate value"},
    {"gate_z", "update gate z", "gate value"}, {"gate_n", "candidate n", "value"},
};
enum { NG = sizeof GATES / sizeof GATES[0] };

sl_status fig_draw_gates(fig_job *j)
{
    fig *f = &j->f;
    double *g[NG] = {0};
    int present[NG], np = 0, C = 0, T = 0, N = 0;
    sl_status st = SL_OK;
    for (int i = 0; i < NG && !st; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "analysis/activity/%s.npy", GATES[i].file);
        if (!rd_exists(j->run, rel)) continue;
        int64_t sh[8];
        if ((st = rd_npy_dims(j->run, rel, 3, &g[i], sh))) break;
        if (np == 0) C = (int)sh[0], T = (int)sh[1], N = (int)sh[2];
        else if (sh[0] != C || sh[1] != T || sh[2] != N)
            st = sl_fail(SL_EFORMAT, "%s/%s: shape %lld×%lld×%lld differs from the other gates' %d×%d×%d", j->run, rel,
                         (long long)sh[0], (long long)sh[1], (long long)sh[2], C, T, N);
        present[np++] = i;
    }
    if (!st && np == 0) st = sl_fail(SL_EIO, "%s: no analysis/activity/gate_*.npy (gated cells only)", j->run);
    int cond = 0, units[8], nu = 0;
    if (!st && j->o->conditions && j->o->n_conditions > 0) {
        cond = j->o->conditions[0];
        if (cond < 0 || cond >= C) st = sl_fail(SL_EINVAL, "condition %d out of range: there are %d", cond, C);
    }
    if (!st) {
        nu = j->o->units && j->o->n_units > 0 ? fig_pick(j->o->units, j->o->n_units, N, 8, units, "unit")
                                               : fig_top_variance(g[present[0]] + (size_t)cond * T * N, T, N, 4, units);
        if (nu == 0) st = SL_EINVAL;
    }
    double *time = NULL;
    char xlabel[96], *file = NULL;
    if (!st) st = rd_time_axis(j->run, T, &time, xlabel, sizeof xlabel);
    FILE *o;
    if (!st && !(st = fig_data(f, "traces", "index p: panel p's gate; columns: time, then the chosen units", &o, &file))) {
        for (int p = 0; p < np; p++) {
            for (int t = 0; t < T; t++) {
                fprintf(o, "%.6g", time[t]);
                for (int q = 0; q < nu; q++) fprintf(o, " %.6g", g[present[p]][((size_t)cond * T + t) * N + units[q]]);
                fputc('\n', o);
            }
            fprintf(o, "\n\n");
        }
        st = fig_data_close(o, file);
    }
    if (!st) {
        int cols = np <= 4 ? np : (np + 1) / 2, rows = (np + cols - 1) / cols;
        fig_cmd(f, "set multiplot layout %d,%d title \"Gate activity over time (condition %d; colour = unit)\" font \",13\"\n"
                   "set grid lc rgb \"#eeeeee\"\nset key top right font \",8\" samplen 1.5\n",
                rows, cols, cond);
        fig_zero_marker(f, xlabel);
        for (int p = 0; p < np; p++) {
            fig_cmd(f, "set title %s\nset ylabel %s\nset xlabel %s\n%s", fig_quote(GATES[present[p]].title),
                    fig_quote(GATES[present[p]].ylabel), p / cols == rows - 1 ? fig_quote(xlabel) : "\"\"",
                    p ? "unset key\n" : "");
            fig_cmd(f, "plot ");
            for (int q = 0; q < nu; q++) {
                char t[32];
                snprintf(t, sizeof t, "unit %d", units[q]);
                fig_cmd(f, "%s\"%s\" index %d using 1:%d with lines lt %d lw 1.5 title %s", q ? ", \\\n     " : "", file, p,
                        2 + q, q + 1, fig_quote(t));
            }
            fig_cmd(f, "\n");
        }
        fig_cmd(f, "unset multiplot\n");
    }
    for (int i = 0; i < NG; i++) free(g[i]);
    free(time);
    free(file);
    return st;
}
