/* perturb.c — robustness to perturbation (the seed tutorial's Section 4):
 * error as % of the null model, mean ± sd over repeats, one panel per
 * perturbation kind in analysis/perturb/summary.json ("input": noise
 * strength; "weight": noise std as a fraction of mean|J|; any further list
 * of {<level>, mean_error_pct, sd_error_pct} objects, e.g. "ablation"), one
 * bar per level and run: with a second run (opts.other_run; the regularised
 * and unregularised reach networks) both runs' bars stand side by side with
 * their error bars. A level missing from one run is left empty. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"

/* The level of an entry: "strength", "fraction", else the first number
 * that is not an error statistic. */
static double level(const cJSON *e, const char **name)
{
    static const char *keys[] = {"strength", "fraction", "level", "n_units", "count"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        double v = rd_json_num(e, keys[i]);
        if (!isnan(v)) {
            *name = keys[i];
            return v;
        }
    }
    for (const cJSON *c = e ? e->child : NULL; c; c = c->next)
        if (cJSON_IsNumber(c) && strcmp(c->string, "mean_error_pct") && strcmp(c->string, "sd_error_pct")) {
            *name = c->string;
            return c->valuedouble;
        }
    *name = "level";
    return NAN;
}

static int is_kind(const cJSON *item)
{
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) == 0) return 0;
    const cJSON *e = cJSON_GetArrayItem(item, 0);
    return cJSON_IsObject(e) && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "mean_error_pct"));
}

static const char *xlabel_of(const char *kind)
{
    if (!strcmp(kind, "input")) return "input noise (× input norm)";
    if (!strcmp(kind, "weight")) return "weight noise sd (× mean|J|)";
    if (!strcmp(kind, "synapse")) return "fraction of synapses deleted";
    if (!strcmp(kind, "ablation")) return "fraction of units silenced";
    return kind;
}

sl_status fig_draw_perturb(fig_job *j)
{
    fig *f = &j->f;
    const char *runs[2] = {j->run, j->o->other_run};
    int nr = runs[1] ? 2 : 1;
    cJSON *js[2] = {NULL, NULL};
    sl_status st = SL_OK;
    for (int k = 0; k < nr && !st; k++) js[k] = rd_json(runs[k], "analysis/perturb/summary.json", &st);
    /* the kinds, in the order of the first run's file */
    const cJSON *kinds[8];
    int nk = 0;
    for (const cJSON *c = st ? NULL : js[0]->child; c && nk < 8; c = c->next)
        if (is_kind(c)) kinds[nk++] = c;
    if (!st && nk == 0)
        st = sl_fail(SL_EFORMAT, "%s/analysis/perturb/summary.json: no list of {strength, mean_error_pct, "
                                 "sd_error_pct} entries",
                     j->run);
    char *files[8] = {0};
    for (int q = 0; q < nk && !st; q++) {
        FILE *o;
        char cols[128];
        snprintf(cols, sizeof cols, "level, then mean_error_pct sd_error_pct per run (%d run%s)", nr,
                 nr > 1 ? "s" : "");
        if ((st = fig_data(f, kinds[q]->string, cols, &o, &files[q]))) break;
        const cJSON *other = nr > 1 ? cJSON_GetObjectItemCaseSensitive(js[1], kinds[q]->string) : NULL;
        const cJSON *e;
        cJSON_ArrayForEach(e, kinds[q])
        {
            const char *lname;
            double lv = level(e, &lname);
            fprintf(o, "%g %.6g %.6g", lv, rd_json_num(e, "mean_error_pct"), rd_json_num(e, "sd_error_pct"));
            if (nr > 1) {
                double m = NAN, s = NAN;
                const cJSON *e2;
                cJSON_ArrayForEach(e2, other)
                {
                    const char *l2;
                    double v2 = level(e2, &l2);
                    if (fabs(v2 - lv) <= 1e-9 * fmax(1, fabs(lv))) {
                        m = rd_json_num(e2, "mean_error_pct");
                        s = rd_json_num(e2, "sd_error_pct");
                    }
                }
                fprintf(o, " %.6g %.6g", m, s);
            }
            fputc('\n', o);
        }
        st = fig_data_close(o, files[q]);
    }
    if (!st) {
        char lab[2][128];
        for (int k = 0; k < nr; k++) rd_label(runs[k], lab[k], sizeof lab[k]);
        /* up to 3 panels in a row, else two rows; one legend for all panels
         * above them */
        const int cols = nk <= 3 ? nk : (nk + 1) / 2, rows = (nk + cols - 1) / cols;
        fig_cmd(f, "set multiplot layout %d,%d title \"Robustness to perturbation (mean ± sd over repeats)\" font "
                   "\",13\" %s\n"
                   "set style data histograms\n"
                   "set style histogram errorbars gap 1.5 lw 1.2\n"
                   "set style fill solid 0.85 border -1\n"
                   "set boxwidth 0.9\n"
                   "set grid ytics lc rgb \"#dddddd\"\n"
                   "set ylabel \"error (%% of null model)\"\n"
                   "set yrange [0:*]\n"
                   "set xtics font \",9\"\n"
                   "set key at screen 0.5, screen %.4f center top horizontal font \",10\"\n",
                rows, cols, fig_margins(f, 80, 15, 62, 100, 100, 115), 1 - 40.0 / f->height);
        for (int q = 0; q < nk; q++) {
            fig_cmd(f, "set title %s\nset xlabel %s\n", fig_quote(kinds[q]->string),
                    fig_quote(xlabel_of(kinds[q]->string)));
            if (q == 1) fig_cmd(f, "unset key\n");
            fig_cmd(f, "plot \"%s\" using 2:3:xtic(sprintf(\"%%g\", $1)) lt 1 title %s", files[q],
                    fig_quote(lab[0]));
            if (nr > 1) fig_cmd(f, ", \\\n     \"%s\" using 4:5 lt 2 title %s", files[q], fig_quote(lab[1]));
            fig_cmd(f, "\n");
        }
        fig_cmd(f, "unset multiplot\n");
    }
    for (int q = 0; q < 8; q++) free(files[q]);
    cJSON_Delete(js[0]);
    cJSON_Delete(js[1]);
    return st;
}
