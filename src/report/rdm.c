/* rdm.c — representational dissimilarity matrices as heat maps (viridis;
 * entry (i, j) = dissimilarity of conditions/stimuli i and j).
 *
 * rdm: the model's and the recorded neurons' RDMs after `silico compare`
 * (analysis/compare/model_rdm.npy, data_rdm.npy) side by side, with the
 * comparison numbers of compare.json underneath (RSA Spearman, linear CKA,
 * mean CCA R², Procrustes distance).
 *
 * rdm-layers: one RDM per CNN layer: analysis/gratings/rdm_layer_<i>.npy
 * (over grating orientations)  and analysis/rsa_it/ RDM files (names containing "rdm"; over the 92
 * images), up to 8, in layer order. */
#include <cjson/cJSON.h>
#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"

static sl_status read_square(const char *run, const char *rel, double **m, int *n)
{
    int64_t sh[8];
    sl_status st = rd_npy_dims(run, rel, 2, m, sh);
    if (st) return st;
    if (sh[0] != sh[1]) {
        free(*m);
        *m = NULL;
        return sl_fail(SL_EFORMAT, "%s/%s: an RDM must be square, found %lld×%lld", run, rel, (long long)sh[0],
                       (long long)sh[1]);
    }
    *n = (int)sh[0];
    return SL_OK;
}

static void heatmap(fig *f, const char *file, int n, const char *title)
{
    fig_cmd(f, "set title %s\n"
               "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\n"
               "plot \"%s\" matrix with image notitle\n",
            fig_quote(title), n - 0.5, n - 0.5, file);
}

static void heat_style(fig *f)
{
    fig_cmd(f, "set size ratio -1\nset tics out scale 0.5 font \",8\"\n"
               "set xlabel \"condition\"\nset ylabel \"condition\"\n"
               "set cblabel \"dissimilarity (a.u.)\"\nset colorbox\n");
}

sl_status fig_draw_rdm(fig_job *j)
{
    fig *f = &j->f;
    double *m = NULL, *d = NULL;
    int nm = 0, ndd = 0;
    sl_status st = read_square(j->run, "analysis/compare/model_rdm.npy", &m, &nm);
    if (!st) st = read_square(j->run, "analysis/compare/data_rdm.npy", &d, &ndd);
    char *fm = NULL, *fd = NULL;
    if (!st) st = fig_matrix(f, "model", m, nm, nm, &fm);
    if (!st) st = fig_matrix(f, "data", d, ndd, ndd, &fd);
    cJSON *c = NULL;
    if (!st && rd_exists(j->run, "analysis/compare/compare.json")) c = rd_json(j->run, "analysis/compare/compare.json", &st);
    if (!st) {
        char numbers[256];
        snprintf(numbers, sizeof numbers,
                 "RSA Spearman ρ = %.3f    linear CKA = %.3f\\nmean CCA R² = %.3f    Procrustes distance = %.3f",
                 rd_json_num(c, "rsa_spearman"), rd_json_num(c, "cka_linear"), rd_json_num(c, "cca_mean_r2"), rd_json_num(c, "procrustes"));
        fig_cmd(f, "set multiplot layout 1,2 title \"Representational dissimilarity: model vs recorded neurons\\n%s\" "
                   "font \",13\"\n",
                numbers);
        heat_style(f);
        heatmap(f, fm, nm, "model");
        heatmap(f, fd, ndd, "recorded neurons");
        fig_cmd(f, "unset multiplot\n");
    }
    cJSON_Delete(c);
    free(fm);
    free(fd);
    free(m);
    free(d);
    return st;
}

/* The layer number in a file name ("rdm_layer_3.npy" → 3), for ordering. */
static int layer_no(const char *path)
{
    const char *s = strrchr(path, '/');
    s = s ? s + 1 : path;
    while (*s && (*s < '0' || *s > '9')) s++;
    return *s ? atoi(s) : 0;
}

static int by_layer(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int d = layer_no(x) - layer_no(y);
    return d ? d : strcmp(x, y);
}

sl_status fig_draw_rdm_layers(fig_job *j)
{
    fig *f = &j->f;
    static const char *patterns[] = {"analysis/gratings/rdm_layer_*.npy", "analysis/rsa_it/*rdm*.npy"};
    const char *files[8];
    char *data[8] = {0};
    int counts[8], n = 0;
    sl_status st = SL_OK;
    glob_t g[2];
    memset(g, 0, sizeof g);
    for (int p = 0; p < 2; p++) {
        char *pat = rd_path(j->run, patterns[p]);
        if (pat && glob(pat, 0, NULL, &g[p]) == 0) {
            qsort(g[p].gl_pathv, g[p].gl_pathc, sizeof(char *), by_layer);
            for (size_t i = 0; i < g[p].gl_pathc && n < 8; i++) files[n++] = g[p].gl_pathv[i];
        }
        free(pat);
    }
    if (n == 0)
        st = sl_fail(SL_EIO, "%s: no analysis/gratings/rdm_layer_*.npy or analysis/rsa_it/*rdm*.npy", j->run);
    char titles[8][96];
    for (int i = 0; i < n && !st; i++) {
        double *m;
        const char *base = strrchr(files[i], '/') + 1;
        if ((st = read_square(j->run, files[i] + strlen(j->run) + 1, &m, &counts[i]))) break;
        char part[16];
        snprintf(part, sizeof part, "rdm%d", i);
        st = fig_matrix(f, part, m, counts[i], counts[i], &data[i]);
        free(m);
        snprintf(titles[i], sizeof titles[i], "%s%.*s", strstr(files[i], "/rsa_it/") ? "IT stimuli: " : "gratings: ",
                 (int)(strlen(base) - 4), base);
    }
    if (!st) {
        int cols = n < 4 ? n : 4, rows = (n + cols - 1) / cols;
        fig_cmd(f, "set multiplot layout %d,%d title \"Representational dissimilarity per layer\" font \",13\"\n", rows, cols);
        heat_style(f);
        fig_cmd(f, "set xlabel \"stimulus\"\nset ylabel \"stimulus\"\nunset cblabel\n");
        for (int i = 0; i < n; i++) heatmap(f, data[i], counts[i], titles[i]);
        fig_cmd(f, "unset multiplot\n");
    }
    for (int i = 0; i < 8; i++) free(data[i]);
    globfree(&g[0]);
    globfree(&g[1]);
    return st;
}
