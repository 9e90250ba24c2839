/* curves.c — training curves from RUN/metrics.jsonl (one JSON object per
 * epoch). Left: the task loss per epoch (training: "loss"; validation
 * epochs: "val_loss"), log scale. Right: accuracy (%) = 100·val_accuracy for
 * classification runs, else the error as % of the null model
 * (train_error_pct, val_error_pct), log scale. With a second run
 * (opts.other_run) both runs share the axes: colour = run, solid = training,
 * dashed = validation. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"

/* Writes index 0 (training epochs) and index 1 (validation epochs) of
 * curves_<k>.dat; *has_acc is set when the run reports val_accuracy. */
static sl_status write_run(fig *f, const char *run, int k, char **file, int *has_acc, int *has_err)
{
    char *path = rd_path(run, "metrics.jsonl");
    FILE *in = path ? fopen(path, "r") : NULL;
    if (!in) {
        sl_status st = sl_fail(SL_EIO, "cannot open %s/metrics.jsonl (written by 'silico train')", run);
        free(path);
        return st;
    }
    char part[16];
    snprintf(part, sizeof part, "run%d", k + 1);
    FILE *o;
    sl_status st = fig_data(f, part,
                            "index 0: epoch loss train_error_pct; index 1: epoch val_loss "
                            "val_error_pct val_accuracy_pct",
                            &o, file);
    if (st) {
        fclose(in);
        free(path);
        return st;
    }
    size_t cap = 1 << 16;
    char *line = malloc(cap);
    int lineno = 0, rows = 0;
    double *val = NULL;
    size_t nval = 0, capval = 0;
    while (line && !st && fgets(line, (int)cap, in)) {
        lineno++;
        if (line[0] == '\n' || line[0] == 0) continue;
        cJSON *j = cJSON_Parse(line);
        if (!j) {
            st = sl_fail(SL_EFORMAT, "%s line %d: not a JSON object", path, lineno);
            break;
        }
        double ep = rd_json_num(j, "epoch"), loss = rd_json_num(j, "loss"), err = rd_json_num(j, "train_error_pct");
        double vl = rd_json_num(j, "val_loss"), ve = rd_json_num(j, "val_error_pct"), va = rd_json_num(j, "val_accuracy");
        cJSON_Delete(j);
        if (isnan(ep)) continue;
        fprintf(o, "%g %.8g %.8g\n", ep, loss, err);
        rows++;
        if (!isnan(err)) *has_err = 1;
        if (!isnan(vl) || !isnan(ve) || !isnan(va)) {
            if (nval + 4 > capval) {
                capval = capval ? 2 * capval : 256;
                double *v = realloc(val, capval * sizeof(double));
                if (!v) {
                    st = sl_fail(SL_ENOMEM, "out of memory");
                    break;
                }
                val = v;
            }
            val[nval++] = ep;
            val[nval++] = vl;
            val[nval++] = ve;
            val[nval++] = isnan(va) ? NAN : 100 * va;
            if (!isnan(va)) *has_acc = 1;
            if (!isnan(ve)) *has_err = 1;
        }
    }
    if (!line) st = sl_fail(SL_ENOMEM, "out of memory");
    if (!st && rows == 0) st = sl_fail(SL_EFORMAT, "%s: no epochs", path);
    fprintf(o, "\n\n");
    for (size_t i = 0; i + 3 < nval; i += 4)
        fprintf(o, "%g %.8g %.8g %.8g\n", val[i], val[i + 1], val[i + 2], val[i + 3]);
    if (nval == 0) fprintf(o, "NaN NaN NaN NaN\n");
    sl_status cst = fig_data_close(o, *file);
    if (!st) st = cst;
    free(val);
    free(line);
    free(path);
    fclose(in);
    return st;
}

/* The terms of one panel's plot command: column col of each run's training
 * epochs (index 0, solid) and validation epochs (index 1, dashed). */
static void plot_train_val(fig *f, const char *const *runs, char *const *files, int nr, int col)
{
    for (int k = 0; k < nr; k++) {
        char lab[128];
        rd_label(runs[k], lab, sizeof lab);
        char t1[160], t2[160];
        snprintf(t1, sizeof t1, "%s%strain", nr > 1 ? lab : "", nr > 1 ? ": " : "");
        snprintf(t2, sizeof t2, "%s%svalidation", nr > 1 ? lab : "", nr > 1 ? ": " : "");
        fig_cmd(f, "%s\"%s\" index 0 using 1:%d with lines lt %d lw 1.5 title %s, \\\n"
                   "     \"%s\" index 1 using 1:%d with linespoints lt %d dt 2 pt 6 ps 0.5 title %s",
                k ? ", \\\n     " : "", files[k], col, nr > 1 ? k + 1 : 1, fig_quote(t1), files[k], col,
                nr > 1 ? k + 1 : 2, fig_quote(t2));
    }
}

sl_status fig_draw_curves(fig_job *j)
{
    fig *f = &j->f;
    const char *runs[2] = {j->run, j->o->other_run};
    int nr = runs[1] ? 2 : 1, has_acc = 0, has_err = 0;
    char *files[2] = {NULL, NULL};
    sl_status st = SL_OK;
    for (int k = 0; k < nr && !st; k++) st = write_run(f, runs[k], k, &files[k], &has_acc, &has_err);
    if (!st) {
        fig_cmd(f, "set multiplot layout 1,%d title \"Training\" font \",13\"\n"
                   "set xlabel \"epoch\"\n"
                   "set grid lc rgb \"#dddddd\"\n"
                   "set key top right font \",9\"\n"
                   "set logscale y\n"
                   "set ylabel \"loss\"\n"
                   "set title \"task loss\"\n"
                   "plot ",
                has_acc || has_err ? 2 : 1);
        plot_train_val(f, runs, files, nr, 2);
        fig_cmd(f, "\n");
        if (has_acc) {
            fig_cmd(f, "unset logscale y\nset yrange [0:100]\nset ylabel \"accuracy (%%)\"\n"
                       "set title \"validation accuracy\"\nset key bottom right\nplot ");
            for (int k = 0; k < nr; k++) {
                char lab[128];
                rd_label(runs[k], lab, sizeof lab);
                fig_cmd(f, "%s\"%s\" index 1 using 1:4 with linespoints lt %d pt 7 ps 0.5 title %s",
                        k ? ", \\\n     " : "", files[k], nr > 1 ? k + 1 : 2,
                        fig_quote(nr > 1 ? lab : "validation"));
            }
        } else if (has_err) {
            fig_cmd(f, "set ylabel \"error (%% of null model)\"\nset title \"error\"\nplot ");
            plot_train_val(f, runs, files, nr, 3);
        }
        fig_cmd(f, "\nunset multiplot\n");
    }
    free(files[0]);
    free(files[1]);
    return st;
}
