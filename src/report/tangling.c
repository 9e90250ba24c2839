/* tangling.c — trajectory tangling over time (Russo et al. 2018):
 *   Q(t) = max_t′ ‖ẋ_t − ẋ_t′‖² / (‖x_t − x_t′‖² + ε),  ε = 0.1 × total variance
 * analysis/tangling/q.npy (C×T), one line per condition (colour =
 * condition) and the median over conditions in black, on the analysis's own
 * time axis (analysis/tangling/time.npy, s from movement onset) or else the
 * activity's when it has T steps; the median over everything
 * (summary.json tangling_median) in the title. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/geometry.h"
#include "report/figure.h"

sl_status fig_draw_tangling(fig_job *j)
{
    fig *f = &j->f;
    double *q, *time = NULL;
    int64_t sh[8];
    sl_status st = rd_npy_dims(j->run, "analysis/tangling/q.npy", 2, &q, sh);
    if (st) return st;
    const int C = (int)sh[0], T = (int)sh[1];
    char xlabel[96];
    int64_t ts[8];
    int own = 0; /* the analysis's own time axis */
    if (rd_exists(j->run, "analysis/tangling/time.npy")) {
        own = rd_npy_dims(j->run, "analysis/tangling/time.npy", 1, &time, ts) == SL_OK && ts[0] == T;
        if (!own) {
            free(time);
            time = NULL;
            sl_clear_error();
        }
    }
    if (own) {
        snprintf(xlabel, sizeof xlabel, "time from movement onset (s)");
    } else if ((st = rd_time_axis(j->run, T, &time, xlabel, sizeof xlabel))) {
        /* an activity time axis of another length: plot against steps */
        sl_clear_error();
        st = SL_OK;
        time = malloc((size_t)T * sizeof(double));
        if (!time) st = sl_fail(SL_ENOMEM, "out of memory");
        for (int t = 0; !st && t < T; t++) time[t] = t;
        snprintf(xlabel, sizeof xlabel, "time step");
    }
    char *file = NULL;
    double *col = malloc((size_t)C * sizeof(double));
    FILE *o;
    if (!col && !st) st = sl_fail(SL_ENOMEM, "out of memory");
    if (!st && !(st = fig_data(f, "q", "index c (< C): time Q for condition c; last index: time median-over-conditions", &o, &file))) {
        for (int c = 0; c < C; c++) {
            for (int t = 0; t < T; t++) fprintf(o, "%.6g %.6g\n", time[t], q[(size_t)c * T + t]);
            fprintf(o, "\n\n");
        }
        for (int t = 0; t < T; t++) {
            for (int c = 0; c < C; c++) col[c] = q[(size_t)c * T + t];
            fprintf(o, "%.6g %.6g\n", time[t], geo_median(col, (size_t)C));
        }
        st = fig_data_close(o, file);
    }
    if (!st) {
        cJSON *s = rd_json_opt(j->run, "analysis/tangling/summary.json");
        const double m = rd_json_num(s, "tangling_median");
        cJSON_Delete(s);
        char title[128] = "Trajectory tangling Q(t)";
        if (!isnan(m)) snprintf(title, sizeof title, "Trajectory tangling Q(t) (median %.3g)", m);
        fig_cmd(f, "set title %s font \",13\"\nset xlabel %s\nset ylabel \"tangling Q (a.u.)\"\n"
                   "set grid lc rgb \"#eeeeee\"\nset key top right font \",9\"\nset yrange [0:*]\n",
                fig_quote(title), fig_quote(xlabel));
        fig_zero_marker(f, xlabel);
        rd_activity a;
        if (rd_activity_load(j->run, 0, &a) == SL_OK && a.C == C) {
            fig_cmd(f, "set tmargin 5\n");
            fig_colour_legend(f, C, a.cond_label, 1 - 22.0 / f->height);
        }
        rd_activity_free(&a);
        sl_clear_error();
        fig_cmd(f, "plot for [c=0:%d] \"%s\" index c using 1:2 with lines lt (c %% 8 + 1) lw 1 notitle, \\\n"
                   "     \"%s\" index %d using 1:2 with lines lc rgb \"#000000\" lw 3 title \"median over conditions\"\n",
                C - 1, file, file, C);
    }
    free(file);
    free(col);
    free(time);
    free(q);
    return st;
}

/* tangling-muscles — Russo 2018's comparison: Q of the population (the rates'
 * PCs, analysis/tangling/q.npy) against Q of what it drives (the network's
 * outputs, q_output.npy, and the task's targets, q_target.npy), one dot per
 * condition and time, log–log, with the unity line: dots below it are times
 * where the population is less tangled than its muscles. */
sl_status fig_draw_tangling_muscles(fig_job *j)
{
    fig *f = &j->f;
    double *q = NULL, *qz = NULL, *qy = NULL;
    int64_t s[8], sz[8], sy[8];
    sl_status st = rd_npy_dims(j->run, "analysis/tangling/q.npy", 2, &q, s);
    if (!st) st = rd_npy_dims(j->run, "analysis/tangling/q_output.npy", 2, &qz, sz);
    if (!st && rd_exists(j->run, "analysis/tangling/q_target.npy"))
        st = rd_npy_dims(j->run, "analysis/tangling/q_target.npy", 2, &qy, sy);
    if (!st && (sz[0] != s[0] || sz[1] != s[1] || (qy && (sy[0] != s[0] || sy[1] != s[1]))))
        st = sl_fail(SL_EFORMAT, "%s/analysis/tangling: q.npy, q_output.npy and q_target.npy have "
                     "different shapes", j->run);
    const size_t n = st ? 0 : (size_t)s[0] * s[1];
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < n; i++) {
        const double v[3] = {q[i], qz[i], qy ? qy[i] : q[i]};
        for (int k = 0; k < 3; k++)
            if (v[k] > 0) {
                lo = v[k] < lo ? v[k] : lo;
                hi = v[k] > hi ? v[k] : hi;
            }
    }
    if (!st && !(hi > 0)) st = sl_fail(SL_EFORMAT, "%s/analysis/tangling: every Q is zero", j->run);
    char *file = NULL;
    FILE *o;
    if (!st && !(st = fig_data(f, "q", "index 0: output-Q state-Q; index 1: target-Q state-Q", &o, &file))) {
        for (size_t i = 0; i < n; i++) fprintf(o, "%.6g %.6g\n", qz[i], q[i]);
        if (qy) {
            fprintf(o, "\n\n");
            for (size_t i = 0; i < n; i++) fprintf(o, "%.6g %.6g\n", qy[i], q[i]);
        }
        st = fig_data_close(o, file);
    }
    if (!st) {
        cJSON *sum = rd_json_opt(j->run, "analysis/tangling/summary.json");
        const double r = rd_json_num(sum, "state_over_output");
        cJSON_Delete(sum);
        char title[160] = "Population vs output tangling";
        if (!isnan(r)) snprintf(title, sizeof title, "Population vs output tangling (median ratio %.2f)", r);
        lo *= 0.7;
        hi *= 1.4;
        fig_cmd(f, "set title %s font \",13\"\nset xlabel \"tangling of the outputs / targets\"\n"
                   "set ylabel \"tangling of the population (rates' PCs)\"\nset logscale xy\n"
                   "set xrange [%g:%g]\nset yrange [%g:%g]\nset size ratio -1\n"
                   "set grid lc rgb \"#eeeeee\"\nset key bottom right font \",9\" opaque box\n",
                fig_quote(title), lo, hi, lo, hi);
        fig_cmd(f, "plot x with lines lc rgb \"#999999\" dt 2 title \"equal tangling\", \\\n"
                   "     \"%s\" index 0 using 1:2 with points pt 7 ps 0.5 lc rgb \"#0072B2\" title \"vs network outputs\"%s",
                file, qy ? ", \\\n" : "\n");
        if (qy)
            fig_cmd(f, "     \"%s\" index 1 using 1:2 with points pt 6 ps 0.5 lc rgb \"#D55E00\" title \"vs task targets\"\n",
                    file);
    }
    free(file);
    free(q);
    free(qz);
    free(qy);
    return st;
}
