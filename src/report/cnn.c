/* cnn.c — what a convolutional network sees.
 *
 * feature-maps: one input image (analysis/activity/images.npy, images×1×H×W
 * or images×H×W; opts.image, default 0) and, beside it, the feature map of
 * each channel (up to 15) of one conv layer (analysis/activity/
 * layer_<i>_<name>.npy, images×C×H×W; opts.layer = i, default the first
 * 4-D layer), as heat maps with row 0 at the top.
 *
 * preferred: the preferred stimuli of one unit (analysis/tuning/): 8 of the
 * random starting images (images_before.npy) above the same 8 after
 * gradient ascent on the unit's squared activity (images_after.npy), grey
 * scale, each titled with the unit's activity (activity_before/after.npy).
 *
 * psychometric: accuracy against tilt from vertical for the grating
 * orientation-discrimination task (analysis/gratings/psychometric.npy:
 * rows (tilt in degrees, accuracy 0–1)), chance at 0.5. */
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
        char name[160];
        snprintf(name, sizeof name, "Feature maps of %.*s for image %d", (int)(strlen(chosen) - 4 - 18), chosen + 18, k);
        fig_cmd(f, "set multiplot layout %d,%d title %s font \",13\"\n"
                   "set size ratio -1\nunset xtics\nunset ytics\nset colorbox\nset cbtics font \",7\"\n"
                   "set palette gray\n",
                rows, cols, fig_quote(name));
        image_panel(f, files[0], H, W, "input image");
        fig_cmd(f, "set palette defined (0 '#440154', 1 '#3b518b', 2 '#21908d', 3 '#5cc863', 4 '#fde725')\n");
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
    const int n = st ? 0 : (int)(sb[0] < 8 ? sb[0] : 8);
    char *files[16] = {0};
    if (!st) {
        fig_cmd(f, "set multiplot layout 2,%d title \"Preferred stimuli: random images (top) after gradient ascent on the "
                   "unit's activity (bottom)\" font \",12\"\n"
                   "set size ratio -1\nunset xtics\nunset ytics\nunset colorbox\nset palette gray\nset cbrange [0:1]\n",
                n);
        for (int pass = 0; pass < 2 && !st; pass++)
            for (int k = 0; k < n && !st; k++) {
                char part[16], t[48];
                int H, W;
                snprintf(part, sizeof part, "%s%d", pass ? "after" : "before", k);
                if ((st = image_file(f, part, pass ? ia : ib, nb, pass ? sa : sb, k, 0, &files[pass * 8 + k], &H, &W)))
                    break;
                const double *act = pass ? aa : ab;
                if (act)
                    snprintf(t, sizeof t, "%s: a = %.3g", pass ? "after" : "before", act[k]);
                else
                    snprintf(t, sizeof t, "%s %d", pass ? "after" : "before", k);
                image_panel(f, files[pass * 8 + k], H, W, t);
            }
        fig_cmd(f, "unset multiplot\n");
    }
    for (int i = 0; i < 16; i++) free(files[i]);
    free(ib);
    free(ia);
    free(ab);
    free(aa);
    return st;
}

sl_status fig_draw_psychometric(fig_job *j)
{
    fig *f = &j->f;
    double *p;
    int64_t sh[8];
    sl_status st = rd_npy_dims(j->run, "analysis/gratings/psychometric.npy", 2, &p, sh);
    if (st) return st;
    if (sh[1] != 2) {
        free(p);
        return sl_fail(SL_EFORMAT, "%s/analysis/gratings/psychometric.npy: expected rows of (tilt, accuracy), found %lld columns",
                       j->run, (long long)sh[1]);
    }
    char *file = NULL;
    FILE *o;
    if (!(st = fig_data(f, "curve", "tilt_deg accuracy_pct", &o, &file))) {
        for (int64_t i = 0; i < sh[0]; i++) fprintf(o, "%.6g %.6g\n", p[i * 2], 100 * p[i * 2 + 1]);
        st = fig_data_close(o, file);
    }
    if (!st)
        fig_cmd(f, "set title \"Orientation discrimination: psychometric curve\" font \",13\"\n"
                   "set xlabel \"tilt from vertical (°)\"\nset ylabel \"accuracy (%%)\"\n"
                   "set yrange [0:100]\nset grid lc rgb \"#eeeeee\"\nset key bottom right\n"
                   "plot 50 with lines dt 2 lc rgb \"#555555\" title \"chance\", \\\n"
                   "     \"%s\" using 1:2 with linespoints lt 1 pt 7 title \"network\"\n",
                file);
    free(file);
    free(p);
    return st;
}
