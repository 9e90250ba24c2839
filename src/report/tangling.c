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

#include "report/figure.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

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
            qsort(col, C, sizeof(double), cmp_double);
            fprintf(o, "%.6g %.6g\n", time[t], C % 2 ? col[C / 2] : 0.5 * (col[C / 2 - 1] + col[C / 2]));
        }
        st = fig_data_close(o, file);
    }
    if (!st) {
        cJSON *s = rd_exists(j->run, "analysis/tangling/summary.json") ? rd_json(j->run, "analysis/tangling/summary.json", &st) : NULL;
        st = SL_OK;
        sl_clear_error();
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "tangling_median");
        char title[128] = "Trajectory tangling Q(t)";
        if (cJSON_IsNumber(m)) snprintf(title, sizeof title, "Trajectory tangling Q(t) (median %.3g)", m->valuedouble);
        cJSON_Delete(s);
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
