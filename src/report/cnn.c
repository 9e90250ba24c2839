/* cnn.c — what a convolutional network sees.
 *
 * feature-maps: one input image (analysis/activity/images.npy, images×1×H×W
 * or images×H×W, pixels in [0, 1]; opts.image, default 0; its class and the
 * network's prediction from labels.npy and predictions.npy when present)
 * and, beside it, the feature map of each channel (up to 15) of one conv
 * layer (analysis/activity/layer_<i>_<name>.npy, images×C×H×W; opts.layer
 * = i, default the first 4-D layer), as heat maps with row 0 at the top.
 *
 * preferred: the preferred stimuli of one unit (analysis/tuning/): 8 of the
 * random starting images (images_before.npy) above the same 8 after
 * gradient ascent on the unit's squared activity (images_after.npy), grey
 * scale, each titled with the unit's activity (activity_before/after.npy)
 * and, after, the class the network gives it (class_probs.npy); the unit
 * and layer from summary.json "units"[0].
 *
 * psychometric: the grating orientation-discrimination task
 * (analysis/gratings/psychometric.npy): rows (tilt in degrees, p(clockwise),
 * accuracy) as the gratings analysis writes them — both curves against the
 * signed tilt from vertical — or rows (tilt, accuracy); in %, chance 50. */
#include <cjson/cJSON.h>
#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"

/* Image k of an images×[1×]H×W array as a matrix file. */
static sl_status image_file(fig *f, const char *part, const double *x, int nd, const int64_t *sh, int k, int ch,
                            char **file, int *H, int *W)
{
    *H = (int)sh[nd - 2];
    *W = (int)sh[nd - 1];
    size_t C = nd == 4 ? (size_t)sh[1] : 1;
    return fig_matrix(f, part, x + ((size_t)k * C + ch) * (*H) * (*W), *H, *W, file);
}

static void image_panel(fig *f, const char *file, int H, int W, const char *title)
{
    fig_cmd(f, "set title %s font \",9\"\nset xrange [-0.5:%g]\nset yrange [%g:-0.5]\n"
               "plot \"%s\" matrix with image notitle\n",
            fig_quote(title), W - 0.5, H - 0.5, file);
}

static int layer_of(const char *path)
{
    const char *s = strstr(path, "layer_");
    return s ? atoi(s + 6) : -1;
}

/* ", class C, predicted P" for test image k from analysis/activity/labels.npy
 * and predictions.npy, as far as they exist ("" otherwise) */
static void image_class(const char *run, int k, char *out, size_t n)
{
    static const char *const file[2] = {"analysis/activity/labels.npy", "analysis/activity/predictions.npy"};
    static const char *const what[2] = {"class", "predicted"};
    size_t len = 0;
    for (int i = 0; i < 2; i++) {
        double *v = NULL;
        int nd;
        int64_t sh[8];
        if (rd_exists(run, file[i]) && !rd_npy(run, file[i], &v, &nd, sh) && nd == 1 && k < sh[0] && len < n)
            len += (size_t)snprintf(out + len, n - len, ", %s %.0f", what[i], v[k]);
        free(v);
    }
    sl_clear_error();
}

sl_status fig_draw_feature_maps(fig_job *j)
{
    fig *f = &j->f;
    glob_t g;
    memset(&g, 0, sizeof g);
    char *pat = rd_path(j->run, "analysis/activity/layer_*.npy");
    if (pat) glob(pat, 0, NULL, &g);
    free(pat);
    double *maps = NULL, *img = NULL;
    int64_t sm[8], si[8];
    int nd = 0, ndi = 0;
    const char *chosen = NULL;
    sl_status st = SL_OK;
    for (size_t i = 0; i < g.gl_pathc && !chosen; i++) {
        const char *rel = g.gl_pathv[i] + strlen(j->run) + 1;
        if (j->o->layer >= 0 && layer_of(rel) != j->o->layer) continue;
        if ((st = rd_npy(j->run, rel, &maps, &nd, sm))) break;
        if (nd == 4) {
            chosen = rel;
            break;
        }
        free(maps);
        maps = NULL;
        if (j->o->layer >= 0) {
            st = sl_fail(SL_EINVAL, "%s/%s: layer %d is not a convolutional layer (images×C×H×W)", j->run, rel,
                         j->o->layer);
            break;
        }
    }
    if (!st && !chosen)
        st = j->o->layer >= 0 ? sl_fail(SL_EINVAL, "%s: no analysis/activity/layer_%d_*.npy", j->run, j->o->layer)
                              : sl_fail(SL_EIO, "%s: no convolutional layer in analysis/activity/layer_*.npy", j->run);
    if (!st) st = rd_npy(j->run, "analysis/activity/images.npy", &img, &ndi, si);
    if (!st && ndi != 3 && ndi != 4)
        st = sl_fail(SL_EFORMAT, "%s/analysis/activity/images.npy: expected images×[1×]H×W", j->run);
    const int k = j->o->image >= 0 ? j->o->image : 0;
    if (!st && (k >= sm[0] || k >= si[0]))
        st = sl_fail(SL_EINVAL, "image %d out of range: %lld images", k, (long long)(sm[0] < si[0] ? sm[0] : si[0]));
    char *files[16] = {0};
    int H, W, nch = st ? 0 : (int)(sm[1] < 15 ? sm[1] : 15);
    if (!st) st = image_file(f, "input", img, ndi, si, k, 0, &files[0], &H, &W);
    if (!st) {
        int cols = nch + 1 <= 4 ? nch + 1 : 4, rows = (nch + 1 + cols - 1) / cols;
        /* "analysis/activity/layer_<i>_<name>.npy" -> layer i, name */
        const char *lname = strchr(chosen + strlen("analysis/activity/layer_"), '_');
        char name[200], cls[64] = "";
        image_class(j->run, k, cls, sizeof cls);
        snprintf(name, sizeof name, "Feature maps of layer %d (%.*s) for test image %d%s", layer_of(chosen),
                 lname ? (int)(strlen(lname + 1) - 4) : 0, lname ? lname + 1 : "", k, cls);
        fig_cmd(f, "set multiplot layout %d,%d title %s font \",13\"\n"
                   "set size ratio -1\nunset xtics\nunset ytics\nset colorbox\nset cbtics font \",7\"\n"
                   "set palette gray\nset cbrange [0:1]\n",
                rows, cols, fig_quote(name));
        image_panel(f, files[0], H, W, "input image (pixels)");
        fig_cmd(f, "set cbrange [*:*]\n"
                   "set palette defined (0 '#440154', 1 '#3b518b', 2 '#21908d', 3 '#5cc863', 4 '#fde725')\n");
        for (int c = 0; c < nch && !st; c++) {
            char part[16], t[32];
            int h, w;
            snprintf(part, sizeof part, "ch%d", c);
            if ((st = image_file(f, part, maps, 4, sm, k, c, &files[c + 1], &h, &w))) break;
            snprintf(t, sizeof t, "channel %d", c);
            image_panel(f, files[c + 1], h, w, t);
        }
        fig_cmd(f, "unset multiplot\n");
    }
    for (int i = 0; i < 16; i++) free(files[i]);
    free(maps);
    free(img);
    globfree(&g);
    return st;
}

/* "unit U of layer L (name)" from analysis/tuning/summary.json "units"[0] */
static void tuned_unit(const char *run, char *out, size_t n)
{
    cJSON *s = rd_json_opt(run, "analysis/tuning/summary.json");
    const cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "units"), 0);
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(u, "unit"), *layer = cJSON_GetObjectItemCaseSensitive(u, "layer");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(u, "layer_name");
    if (cJSON_IsNumber(unit) && cJSON_IsNumber(layer))
        snprintf(out, n, "unit %d of layer %d%s%s%s", unit->valueint, layer->valueint, cJSON_IsString(name) ? " (" : "",
                 cJSON_IsString(name) ? name->valuestring : "", cJSON_IsString(name) ? ")" : "");
    cJSON_Delete(s);
}

sl_status fig_draw_preferred(fig_job *j)
{
    fig *f = &j->f;
    double *ib = NULL, *ia = NULL, *ab = NULL, *aa = NULL;
    int64_t sb[8], sa[8], s1[8];
    int nb = 0, na = 0, n1;
    sl_status st = rd_npy(j->run, "analysis/tuning/images_before.npy", &ib, &nb, sb);
    if (!st) st = rd_npy(j->run, "analysis/tuning/images_after.npy", &ia, &na, sa);
    if (!st && ((nb != 3 && nb != 4) || nb != na || sb[0] != sa[0]))
        st = sl_fail(SL_EFORMAT, "%s/analysis/tuning: images_before/after.npy must both be images×[1×]H×W", j->run);
    if (!st && rd_exists(j->run, "analysis/tuning/activity_before.npy")) {
        if (!(st = rd_npy(j->run, "analysis/tuning/activity_before.npy", &ab, &n1, s1)) && s1[0] != sb[0]) {
            free(ab);
            ab = NULL;
        }
    }
    if (!st && rd_exists(j->run, "analysis/tuning/activity_after.npy")) {
        if (!(st = rd_npy(j->run, "analysis/tuning/activity_after.npy", &aa, &n1, s1)) && s1[0] != sb[0]) {
            free(aa);
            aa = NULL;
        }
    }
    double *cp = NULL;
    int64_t sc[8];
    int nc = 0;
    if (!st && rd_exists(j->run, "analysis/tuning/class_probs.npy") &&
        (rd_npy(j->run, "analysis/tuning/class_probs.npy", &cp, &nc, sc) || nc != 2 || sc[0] != sb[0])) {
        free(cp);
        cp = NULL;
        sl_clear_error();
    }
    const int n = st ? 0 : (int)(sb[0] < 8 ? sb[0] : 8);
    char *files[16] = {0};
    if (!st) {
        char title[256], unit[128] = "one unit";
        tuned_unit(j->run, unit, sizeof unit);
        snprintf(title, sizeof title, "Preferred stimuli of %s: random images (top), after gradient ascent on its "
                                      "activity a (bottom%s)", unit, cp ? "; the class the network sees" : "");
        fig_cmd(f, "set multiplot layout 2,%d title %s font \",12\"\n"
                   "set size ratio -1\nunset xtics\nunset ytics\nunset colorbox\nset palette gray\nset cbrange [0:1]\n",
                n, fig_quote(title));
        for (int pass = 0; pass < 2 && !st; pass++)
            for (int k = 0; k < n && !st; k++) {
                char part[16], t[48];
                int H, W;
                snprintf(part, sizeof part, "%s%d", pass ? "after" : "before", k);
                if ((st = image_file(f, part, pass ? ia : ib, nb, pass ? sa : sb, k, 0, &files[pass * 8 + k], &H, &W)))
                    break;
                const double *act = pass ? aa : ab;
                int len = act ? snprintf(t, sizeof t, "a = %.3g", act[k])
                              : snprintf(t, sizeof t, "%s %d", pass ? "after" : "before", k);
                if (pass && cp) { /* the class the network sees in the preferred stimulus */
                    const double *p = cp + (size_t)k * sc[1];
                    int best = 0;
                    for (int c = 1; c < sc[1]; c++)
                        if (p[c] > p[best]) best = c;
                    snprintf(t + len, sizeof t - (size_t)len, ", class %d", best);
                }
                image_panel(f, files[pass * 8 + k], H, W, t);
            }
        fig_cmd(f, "unset multiplot\n");
    }
    for (int i = 0; i < 16; i++) free(files[i]);
    free(ib);
    free(ia);
    free(ab);
    free(aa);
    free(cp);
    return st;
}

sl_status fig_draw_psychometric(fig_job *j)
{
    fig *f = &j->f;
    double *p;
    int64_t sh[8];
    sl_status st = rd_npy_dims(j->run, "analysis/gratings/psychometric.npy", 2, &p, sh);
    if (st) return st;
    const int cols = (int)sh[1];
    if (cols != 2 && cols != 3) {
        free(p);
        return sl_fail(SL_EFORMAT, "%s/analysis/gratings/psychometric.npy: expected rows of (tilt, p_clockwise, accuracy) "
                                   "or (tilt, accuracy), found %d columns", j->run, cols);
    }
    char *file = NULL;
    FILE *o;
    if (!(st = fig_data(f, "curve", cols == 3 ? "tilt_deg p_clockwise_pct accuracy_pct" : "tilt_deg accuracy_pct", &o,
                        &file))) {
        for (int64_t i = 0; i < sh[0]; i++) {
            for (int c = 0; c < cols; c++) fprintf(o, c ? " %.6g" : "%.6g", c ? 100 * p[i * cols + c] : p[i * cols]);
            fputc('\n', o);
        }
        st = fig_data_close(o, file);
    }
    if (!st) {
        fig_cmd(f, "set title \"Orientation discrimination: psychometric curve\" font \",13\"\n"
                   "set xlabel \"tilt from vertical (°; > 0 clockwise)\"\nset ylabel \"%% of gratings\"\n"
                   "set yrange [0:100]\nset ytics 10\nset grid lc rgb \"#eeeeee\"\nset key bottom right\n"
                   "plot 50 with lines dt 2 lc rgb \"#555555\" title \"chance\", \\\n");
        if (cols == 3)
            fig_cmd(f, "     \"%s\" using 1:2 with linespoints lt 1 pt 7 title \"answered clockwise\", \\\n"
                       "     \"%s\" using 1:3 with linespoints lt 2 pt 5 title \"correct\"\n",
                    file, file);
        else
            fig_cmd(f, "     \"%s\" using 1:2 with linespoints lt 1 pt 7 title \"correct\"\n", file);
    }
    free(file);
    free(p);
    return st;
}
