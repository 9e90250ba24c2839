/* selectivity.c — single-unit selectivity (the coursework's eq. 19):
 * d′_i = 2(μ_a − μ_b)/√(σ_a² + σ_b²) per unit for the binary split in
 * analysis/selectivity/summary.json. Left: the histogram of d′ over units
 * (analysis/selectivity/dprime.npy, N or splits×N: the first split), 25
 * bins. Right: the condition-averaged rates of the 4 units with the largest
 * |d′| over time (activity r, colour = condition). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"

sl_status fig_draw_selectivity(fig_job *j)
{
    fig *f = &j->f;
    double *dp = NULL;
    int nd;
    int64_t sh[8];
    sl_status st = rd_npy(j->run, "analysis/selectivity/dprime.npy", &dp, &nd, sh);
    if (st) return st;
    if (nd != 1 && nd != 2) {
        free(dp);
        return sl_fail(SL_EFORMAT, "%s/analysis/selectivity/dprime.npy: expected N or splits×N, found %d dimensions",
                       j->run, nd);
    }
    const int N = (int)sh[nd - 1];
    double lo = INFINITY, hi = -INFINITY;
    int finite = 0;
    for (int i = 0; i < N; i++)
        if (isfinite(dp[i])) lo = fmin(lo, dp[i]), hi = fmax(hi, dp[i]), finite++;
    if (!finite) {
        free(dp);
        return sl_fail(SL_ENUMERIC, "%s/analysis/selectivity/dprime.npy: no finite d′", j->run);
    }
    if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
    enum { BINS = 25 };
    int count[BINS] = {0};
    const double w = (hi - lo) / BINS;
    for (int i = 0; i < N; i++)
        if (isfinite(dp[i])) {
            int b = (int)((dp[i] - lo) / w);
            count[b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
        }
    int top[4], maxcount = 0;
    for (int b = 0; b < BINS; b++) maxcount = count[b] > maxcount ? count[b] : maxcount;
    /* the units of largest |d′|; a unit without a finite d′ is never one */
    double *score = malloc((size_t)N * sizeof *score);
    if (!score) {
        free(dp);
        return sl_fail(SL_ENOMEM, "out of memory");
    }
    for (int i = 0; i < N; i++) score[i] = isfinite(dp[i]) ? fabs(dp[i]) : -INFINITY;
    const int nt = fig_top_k(score, N, finite < 4 ? finite : 4, top);
    free(score);
    char *fh = NULL, *fr = NULL;
    FILE *o;
    if (!(st = fig_data(f, "hist", "bin_centre count", &o, &fh))) {
        for (int b = 0; b < BINS; b++) fprintf(o, "%.6g %d\n", lo + (b + 0.5) * w, count[b]);
        st = fig_data_close(o, fh);
    }
    rd_activity a = {0};
    int have_rates = 0;
    if (!st && rd_activity_load(j->run, 1, &a) == SL_OK && a.N == N) have_rates = 1;
    sl_clear_error();
    if (!st && have_rates && !(st = fig_data(f, "top", "one block per condition: time, rates of the top units", &o, &fr))) {
        for (int c = 0; c < a.C; c++) {
            for (int t = 0; t < a.T; t++) {
                size_t row = (size_t)c * a.T + t;
                fprintf(o, "%.6g", a.time[row]);
                for (int q = 0; q < nt; q++) fprintf(o, " %.6g", a.r[row * a.N + top[q]]);
                fputc('\n', o);
            }
            fprintf(o, "\n\n");
        }
        st = fig_data_close(o, fr);
    }
    if (!st) {
        /* the split in the title (summary.json "split") */
        char title[256] = "Selectivity (d′ of each unit for the split in summary.json)";
        cJSON *sum = rd_json_opt(j->run, "analysis/selectivity/summary.json");
        const cJSON *split = cJSON_GetObjectItemCaseSensitive(sum, "split");
        if (cJSON_IsString(split)) snprintf(title, sizeof title, "Selectivity d′ of each unit: %s", split->valuestring);
        cJSON_Delete(sum);
        /* rates within ±1.5: ticks every 0.5, so the small panels stay readable */
        double rmax = 0;
        for (size_t i = 0; have_rates && i < (size_t)a.C * a.T * a.N; i++) rmax = fmax(rmax, fabs(a.r[i]));
        fig_cmd(f, "set multiplot title %s font \",13\"\n"
                   "set grid lc rgb \"#eeeeee\"\n"
                   "set style fill solid 0.8 border -1\n"
                   "set size %g,0.84\nset origin 0,0.02\n"
                   "set xlabel \"selectivity d′\"\nset ylabel \"units\"\nset title \"%d units\"\n"
                   "set yrange [0:*]\n%s"
                   "plot \"%s\" using 1:2 with boxes lt 1 notitle\n"
                   "set yrange [*:*]\nset ytics autofreq\nset style fill empty\n",
                fig_quote(title), have_rates ? 0.36 : 1.0, N, maxcount <= 10 ? "set ytics 1\n" : "", fh);
        if (have_rates) {
            if (rmax <= 1.5) fig_cmd(f, "set ytics 0.5\n");
            fig_zero_marker(f, a.xlabel);
            fig_colour_legend(f, a.C, a.cond_label, 0.89);
            for (int q = 0; q < nt; q++) {
                fig_cmd(f, "set size 0.31,0.42\nset origin %g,%g\n", 0.37 + 0.315 * (q % 2), q < 2 ? 0.44 : 0.02);
                fig_cmd(f, "set title \"unit %d (d′ = %.2f)\"\nset xlabel %s\nset ylabel %s\n", top[q], dp[top[q]],
                        q >= 2 ? fig_quote(a.xlabel) : "\"\"", q % 2 == 0 ? "\"rate (a.u.)\"" : "\"\"");
                fig_cmd(f, "plot for [c=0:%d] \"%s\" index c using 1:%d with lines lt (c %% 8 + 1) lw 1.5 notitle\n",
                        a.C - 1, fr, 2 + q);
                if (q == 0)
                    for (int c = 0; c < a.C && c < 16; c++) fig_cmd(f, "unset label %d\n", 100 + c);
            }
        }
        fig_cmd(f, "unset multiplot\n");
    }
    rd_activity_free(&a);
    free(fh);
    free(fr);
    free(dp);
    return st;
}
