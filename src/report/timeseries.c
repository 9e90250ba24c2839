/* timeseries.c — the task figure: inputs u(t), targets y(t) and network
 * outputs z(t) over time, one column per condition (default: up to 4 evenly
 * spaced conditions; opts.conditions to choose), the alignment event (go
 * cue) marked at t = 0. Top row: every input channel. Bottom row: up to 4
 * output channels (default: those whose targets vary most; opts.units to
 * choose), network solid, target dashed in the same colour. Classification
 * runs show p(class) = softmax(z) against the one-hot label. Reads
 * analysis/activity/ or, before that exists, runs the checkpoint
 * (rundata.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"

sl_status fig_draw_task(fig_job *j)
{
    fig *f = &j->f;
    rd_activity a;
    sl_status st = rd_activity_load(j->run, 0, &a);
    if (st) return st;
    int conds[8], chans[8];
    /* 4 conditions, 2 on a narrow canvas */
    int nc = fig_pick(j->o->conditions, j->o->n_conditions, a.C, f->width < 900 ? 2 : 4, conds, "condition");
    int no = 0;
    const double *tgt = a.y;
    double *onehot = NULL, *prob = NULL;
    size_t CT = (size_t)a.C * a.T;
    if (a.labels) {
        onehot = calloc(CT * a.n_out, sizeof(double));
        prob = malloc(CT * a.n_out * sizeof(double));
        if (!onehot || !prob) st = sl_fail(SL_ENOMEM, "out of memory");
        for (size_t i = 0; !st && i < CT; i++) {
            if (a.labels[i] >= 0 && a.labels[i] < a.n_out) onehot[i * a.n_out + a.labels[i]] = 1;
            double mx = -INFINITY, s = 0;
            for (int o = 0; o < a.n_out; o++) mx = fmax(mx, a.z[i * a.n_out + o]);
            for (int o = 0; o < a.n_out; o++) s += prob[i * a.n_out + o] = exp(a.z[i * a.n_out + o] - mx);
            for (int o = 0; o < a.n_out; o++) prob[i * a.n_out + o] /= s;
        }
        tgt = onehot;
    }
    const double *out = prob ? prob : a.z;
    if (!st && nc == 0) st = SL_EINVAL;
    if (!st) {
        if (j->o->units && j->o->n_units > 0)
            no = fig_pick(j->o->units, j->o->n_units, a.n_out, 8, chans, "output channel");
        else
            no = fig_top_variance(tgt ? tgt : out, CT, a.n_out, 4, chans);
        if (no == 0) st = SL_EINVAL;
    }
    char **files = calloc(8, sizeof(char *));
    if (!files && !st) st = sl_fail(SL_ENOMEM, "out of memory");
    for (int k = 0; k < nc && !st; k++) {
        char part[16], cols[160];
        snprintf(part, sizeof part, "c%d", conds[k]);
        snprintf(cols, sizeof cols, "time u_0..u_%d | output z (%d columns) | target (%d columns)",
                 a.n_in - 1, no, no);
        FILE *o;
        if ((st = fig_data(f, part, cols, &o, &files[k]))) break;
        for (int s = 0; s < a.T; s++) {
            size_t row = (size_t)conds[k] * a.T + s;
            fprintf(o, "%.6g", a.time[row]);
            for (int i = 0; i < a.n_in; i++) fprintf(o, " %.6g", a.u[row * a.n_in + i]);
            for (int q = 0; q < no; q++) fprintf(o, " %.6g", out[row * a.n_out + chans[q]]);
            for (int q = 0; q < no; q++) fprintf(o, " %.6g", tgt ? tgt[row * a.n_out + chans[q]] : NAN);
            fputc('\n', o);
        }
        st = fig_data_close(o, files[k]);
    }
    if (!st) {
        double umin = INFINITY, umax = -INFINITY;
        for (size_t i = 0; i < CT * a.n_in; i++) umin = fmin(umin, a.u[i]), umax = fmax(umax, a.u[i]);
        double pad = umax > umin ? 0.08 * (umax - umin) : 0.5;
        fig_cmd(f, "set multiplot layout 2,%d %s title \"Task: inputs, targets and network outputs\" font \",13\"\n"
                   "set grid lc rgb \"#eeeeee\"\n"
                   "set key at screen %.4f,%.4f left top font \",9\" samplen 2 spacing 1.1\n",
                nc, fig_margins(f, 75, 165, 60, 70, 58, 75), 1 - 155.0 / f->width, 1 - 75.0 / f->height);
        fig_zero_marker(f, a.xlabel);
        fig_cmd(f, "set yrange [%g:%g]\nset ylabel \"input (a.u.)\"\nunset xlabel\n", umin - pad, umax + pad);
        for (int k = 0; k < nc; k++) {
            fig_cmd(f, "set title %s\n%s", fig_quote(a.cond_label[conds[k]]), k ? "unset key\n" : "");
            if (k == 1) fig_cmd(f, "unset ylabel\n");
            fig_cmd(f, "plot ");
            for (int i = 0; i < a.n_in; i++) {
                char t[32];
                snprintf(t, sizeof t, "input %d", i + 1);
                fig_cmd(f, "%s\"%s\" using 1:%d with lines lt %d title %s", i ? ", \\\n     " : "",
                        files[k], 2 + i, i + 1, fig_quote(t));
            }
            fig_cmd(f, "\n");
        }
        fig_cmd(f, "set key at screen %.4f,%.4f left top\nset autoscale y\nset xlabel %s\nset ylabel %s\n",
                1 - 155.0 / f->width, 0.5 - 25.0 / f->height, fig_quote(a.xlabel),
                a.labels ? "\"p(class)\"" : "\"output (a.u.)\"");
        if (a.labels) fig_cmd(f, "set yrange [-0.05:1.05]\n");
        for (int k = 0; k < nc; k++) {
            fig_cmd(f, "set title %s\n%s", fig_quote(a.cond_label[conds[k]]), k ? "unset key\n" : "");
            if (k == 1) fig_cmd(f, "unset ylabel\n");
            fig_cmd(f, "plot ");
            for (int q = 0; q < no; q++) {
                char t[48];
                snprintf(t, sizeof t, "%s %d", a.labels ? "class" : "output", chans[q] + 1);
                fig_cmd(f, "%s\"%s\" using 1:%d with lines lt %d title %s", q ? ", \\\n     " : "", files[k],
                        2 + a.n_in + q, q + 1, fig_quote(t));
                if (tgt)
                    fig_cmd(f, ", \\\n     \"%s\" using 1:%d with lines lt %d dt 2 lw 1.5 title %s", files[k],
                            2 + a.n_in + no + q, q + 1, fig_quote(q == 0 ? "dashed: target" : ""));
            }
            fig_cmd(f, "\n");
        }
        fig_cmd(f, "unset multiplot\n");
    }
    for (int k = 0; files && k < 8; k++) free(files[k]);
    free(files);
    free(onehot);
    free(prob);
    rd_activity_free(&a);
    return st;
}
