/* pca.c — population trajectories in low dimensions.
 *
 * pca / pca3d: analysis/pca/proj.npy (C×T×K projections on the principal
 * components), one line per condition (colour = condition), start □ and end
 * ▲ marked; axes "PCk (v% variance)" from explained_variance_ratio.npy. Fixed
 * points (analysis/fixedpoints/points.npy, P×N) are drawn in the same space,
 *   p = components · x* − o,
 * stable ones filled, unstable ones hollow, each unstable mode (the real
 * part v of one of the top-3 eigenvectors in unstable_modes.npy, n_unstable
 * of them) as a short line p ± L·(components·v)/‖v‖ with L = 8% of the
 * plot's span. The offset o is components·mean: pca/mean.npy when written
 * (the PCA of condition-averaged rates), else recovered from the activity
 * the PCA was fitted on (activity x.npy or r.npy: o = mean over c,t of
 * components·a(c,t) − proj(c,t), accepted only when that reproduces proj to
 * 1e-3 of its range; otherwise the fixed points are left out and the figure
 * says so). A CT-RNN's fixed points are states x*; in a space of rates they
 * are drawn at r* = φ(x*) with modes φ′(x*)⊙v (φ = model.activation). An
 * LSTM's points are (h, c): the h half is drawn.
 *
 * jpca: analysis/jpca/proj.npy (C×T×6): the first two jPC planes with the
 * rotational strength of analysis/jpca/summary.json. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/act.h"
#include "report/figure.h"

typedef struct {
    double *proj; /* C×T×K */
    int C, T, K;
    double *evr;  /* K, or NULL */
    char **label; /* C, or NULL */
} traj;

static void traj_free(traj *t)
{
    free(t->proj);
    free(t->evr);
    if (t->label)
        for (int c = 0; c < t->C; c++) free(t->label[c]);
    free(t->label);
}

/* Condition labels from activity/conditions.json when its C matches. */
static void load_labels(const char *run, traj *t)
{
    rd_activity a = {0};
    if (!rd_exists(run, "analysis/activity/u.npy") || rd_activity_load(run, 0, &a) != SL_OK || a.C != t->C) {
        rd_activity_free(&a);
        sl_clear_error();
        return;
    }
    t->label = a.cond_label;
    a.cond_label = NULL;
    rd_activity_free(&a);
}

static sl_status load_traj(const char *run, const char *rel, const char *evr_rel, int kmin, traj *t)
{
    memset(t, 0, sizeof *t);
    int64_t sh[8];
    sl_status st = rd_npy_dims(run, rel, 3, &t->proj, sh);
    if (st) return st;
    t->C = (int)sh[0];
    t->T = (int)sh[1];
    t->K = (int)sh[2];
    if (t->K < kmin) {
        traj_free(t);
        return sl_fail(SL_EFORMAT, "%s/%s: %d components, the figure needs %d", run, rel, t->K, kmin);
    }
    if (evr_rel && rd_exists(run, evr_rel)) {
        int nd;
        if (rd_npy(run, evr_rel, &t->evr, &nd, sh) == SL_OK && (nd != 1 || sh[0] < kmin)) {
            free(t->evr);
            t->evr = NULL;
        }
        sl_clear_error();
    }
    load_labels(run, t);
    return SL_OK;
}

typedef struct {
    int P;
    double *p;       /* P×K projected points */
    double *seg;     /* segments: (P·3)×2 endpoints × K, NaN when absent */
    unsigned char *stable;
    const char *why; /* reason they are not shown, or NULL */
    char note[96];   /* "the 20 slowest of 1009 points", or "" */
} fpts;

/* At most this many points are drawn: those of smallest q (q.npy). A search
 * leaves hundreds of slow points that would hide the trajectories. */
enum { MAX_FP = 20 };

/* Offset o (K) of the PCA space and whether it is a space of rates
 * (*rates), or why it cannot be found. */
static const char *pca_offset(const char *run, const traj *t, const double *comp, int N, double *o, int *rates)
{
    *rates = 1;
    double *mean = NULL;
    int64_t sh[8];
    int nd;
    if (rd_exists(run, "analysis/pca/mean.npy") && rd_npy(run, "analysis/pca/mean.npy", &mean, &nd, sh) == SL_OK &&
        nd == 1 && sh[0] == N) {
        for (int k = 0; k < t->K; k++) {
            o[k] = 0;
            for (int i = 0; i < N; i++) o[k] += comp[(size_t)k * N + i] * mean[i];
        }
        free(mean);
        return NULL;
    }
    free(mean);
    sl_clear_error();
    static const char *cands[] = {"analysis/activity/x.npy", "analysis/activity/r.npy"};
    double range = 0;
    for (size_t i = 0; i < (size_t)t->C * t->T * t->K; i++) range = fmax(range, fabs(t->proj[i]));
    for (int q = 0; q < 2; q++) {
        double *a = NULL;
        if (!rd_exists(run, cands[q]) || rd_npy_dims(run, cands[q], 3, &a, sh) != SL_OK || sh[0] != t->C ||
            sh[1] != t->T || sh[2] != N) {
            free(a);
            sl_clear_error();
            continue;
        }
        const size_t M = (size_t)t->C * t->T;
        double *pa = malloc(M * t->K * sizeof(double));
        if (!pa) {
            free(a);
            return "out of memory";
        }
        for (size_t m = 0; m < M; m++)
            for (int k = 0; k < t->K; k++) {
                double s = 0;
                for (int i = 0; i < N; i++) s += comp[(size_t)k * N + i] * a[m * N + i];
                pa[m * t->K + k] = s;
            }
        *rates = q == 1;
        double worst = 0;
        for (int k = 0; k < t->K; k++) {
            double s = 0;
            for (size_t m = 0; m < M; m++) s += pa[m * t->K + k] - t->proj[m * t->K + k];
            o[k] = s / M;
        }
        for (size_t m = 0; m < M; m++)
            for (int k = 0; k < t->K; k++) worst = fmax(worst, fabs(pa[m * t->K + k] - o[k] - t->proj[m * t->K + k]));
        free(pa);
        free(a);
        if (worst <= 1e-3 * fmax(range, 1e-12)) return NULL;
    }
    return "fixed points not shown: no analysis/pca/mean.npy, and the activity does not reproduce the PCA";
}

/* Project the fixed points into the trajectories' space (fp->why when not). */
static void load_fixed_points(const char *run, const traj *t, fpts *fp)
{
    memset(fp, 0, sizeof *fp);
    if (!rd_exists(run, "analysis/fixedpoints/points.npy")) return;
    double *pts = NULL, *comp = NULL, *stab = NULL, *modes = NULL, *nun = NULL, *qv = NULL;
    int *ord = NULL;
    int64_t sp[8], sc[8], sh[8];
    int nd;
    fp->why = "fixed points not shown: analysis/pca/components.npy is missing or does not fit points.npy";
    if (rd_npy_dims(run, "analysis/fixedpoints/points.npy", 2, &pts, sp) ||
        rd_npy(run, "analysis/pca/components.npy", &comp, &nd, sc) || nd != 2)
        goto done;
    const int P = (int)sp[0], D = (int)sp[1];
    char kind[32];
    int cnn;
    rd_model_kind(run, kind, sizeof kind, &cnn);
    /* an LSTM's points are (h, c): keep h */
    const int N = (!strcmp(kind, "lstm") && (sc[1] * 2 == D || sc[0] * 2 == D)) ? D / 2 : D;
    if (sc[0] < t->K || sc[1] != N) {
        if (sc[1] >= t->K && sc[0] == N) { /* stored N×K: transpose */
            double *tr = malloc((size_t)N * t->K * sizeof(double));
            if (!tr) goto done;
            for (int k = 0; k < t->K; k++)
                for (int i = 0; i < N; i++) tr[(size_t)k * N + i] = comp[(size_t)i * sc[1] + k];
            free(comp);
            comp = tr;
        } else
            goto done;
    }
    double o[64];
    int rates = 0;
    if (t->K > 64) goto done;
    if ((fp->why = pca_offset(run, t, comp, N, o, &rates))) goto done;
    /* a CT-RNN in a space of rates: r* = φ(x*) */
    sl_activation act = SL_ACT_RECT_TANH;
    const int phi = rates && !strcmp(kind, "ctrnn");
    if (phi) {
        char *cp = rd_path(run, "config.ini");
        sl_config *c = NULL;
        if (cp && !sl_config_new(&c) && !sl_config_load(c, cp))
            sl_activation_parse(sl_config_str(c, "model.activation"), &act);
        sl_config_free(c);
        free(cp);
        sl_clear_error();
    }
    /* the points drawn, smallest q first */
    const int have_q = rd_exists(run, "analysis/fixedpoints/q.npy") &&
                       rd_npy_dims(run, "analysis/fixedpoints/q.npy", 1, &qv, sh) == SL_OK && sh[0] == P;
    if (!(ord = fig_argsort(have_q ? qv : NULL, P))) {
        fp->why = "out of memory";
        goto done;
    }
    int shown = P;
    if (have_q && P > MAX_FP) {
        shown = MAX_FP;
        snprintf(fp->note, sizeof fp->note, "fixed points: the %d slowest (smallest q) of %d", shown, P);
    }
    fp->P = shown;
    fp->p = malloc((size_t)shown * t->K * sizeof(double));
    fp->seg = malloc((size_t)shown * 3 * 2 * t->K * sizeof(double));
    fp->stable = calloc((size_t)shown, 1);
    if (!fp->p || !fp->seg || !fp->stable) {
        fp->why = "out of memory";
        goto done;
    }
    if (rd_exists(run, "analysis/fixedpoints/stable.npy") &&
        rd_npy_dims(run, "analysis/fixedpoints/stable.npy", 1, &stab, sh) == SL_OK && sh[0] == P)
        for (int p = 0; p < shown; p++) fp->stable[p] = stab[ord[p]] != 0;
    if (rd_exists(run, "analysis/fixedpoints/unstable_modes.npy") &&
        (rd_npy_dims(run, "analysis/fixedpoints/unstable_modes.npy", 3, &modes, sh) || sh[0] != P || sh[2] != D)) {
        free(modes);
        modes = NULL;
    }
    const int nm = modes ? (int)(sh[1] < 3 ? sh[1] : 3) : 0;
    if (rd_exists(run, "analysis/fixedpoints/n_unstable.npy") &&
        (rd_npy_dims(run, "analysis/fixedpoints/n_unstable.npy", 1, &nun, sh) || sh[0] != P)) {
        free(nun);
        nun = NULL;
    }
    double lo[64], hi[64], span = 0;
    for (int k = 0; k < t->K; k++) lo[k] = INFINITY, hi[k] = -INFINITY;
    for (size_t m = 0; m < (size_t)t->C * t->T; m++)
        for (int k = 0; k < t->K; k++)
            lo[k] = fmin(lo[k], t->proj[m * t->K + k]), hi[k] = fmax(hi[k], t->proj[m * t->K + k]);
    for (int k = 0; k < t->K && k < 3; k++) span = fmax(span, hi[k] - lo[k]);
    const double L = 0.08 * span;
    double *pt = malloc((size_t)N * 2 * sizeof(double)), *gain = pt ? pt + N : NULL;
    if (!pt) {
        fp->why = "out of memory";
        goto done;
    }
    for (int p = 0; p < shown; p++) {
        const int src = ord[p];
        for (int i = 0; i < N; i++) {
            double x = pts[(size_t)src * D + i];
            pt[i] = phi ? sl_act_value(act, (sl_real)x) : x;
            gain[i] = phi ? sl_act_deriv(act, (sl_real)x, (sl_real)pt[i]) : 1;
        }
        for (int k = 0; k < t->K; k++) {
            double s = 0;
            for (int i = 0; i < N; i++) s += comp[(size_t)k * N + i] * pt[i];
            fp->p[(size_t)p * t->K + k] = s - o[k];
        }
        int nu = nun ? (int)nun[src] : (fp->stable[p] ? 0 : nm);
        for (int q = 0; q < 3; q++) {
            double *s0 = fp->seg + ((size_t)(p * 3 + q) * 2) * t->K, *s1 = s0 + t->K;
            if (q >= nu || q >= nm) {
                for (int k = 0; k < t->K; k++) s0[k] = s1[k] = NAN;
                continue;
            }
            const double *v = modes + ((size_t)src * sh[1] + q) * D;
            double nv = 0;
            for (int i = 0; i < N; i++) nv += v[i] * v[i] * gain[i] * gain[i];
            nv = sqrt(nv) > 0 ? sqrt(nv) : 1;
            for (int k = 0; k < t->K; k++) {
                double d = 0;
                for (int i = 0; i < N; i++) d += comp[(size_t)k * N + i] * gain[i] * v[i];
                d *= L / nv;
                s0[k] = fp->p[(size_t)p * t->K + k] - d;
                s1[k] = fp->p[(size_t)p * t->K + k] + d;
            }
        }
    }
    free(pt);
    fp->why = NULL;
done:
    if (fp->why) {
        free(fp->p);
        free(fp->seg);
        free(fp->stable);
        fp->p = fp->seg = NULL;
        fp->stable = NULL;
        fp->P = 0;
    }
    free(pts);
    free(comp);
    free(stab);
    free(modes);
    free(nun);
    free(qv);
    free(ord);
    sl_clear_error();
}

static void fpts_free(fpts *fp)
{
    free(fp->p);
    free(fp->seg);
    free(fp->stable);
}

static sl_status write_traj(fig *f, const char *part, const traj *t, int nd, int k0, char **file)
{
    FILE *o;
    sl_status st = fig_data(f, part, "one block (index) per condition; columns: the projections", &o, file);
    if (st) return st;
    for (int c = 0; c < t->C; c++) {
        for (int s = 0; s < t->T; s++) {
            for (int k = 0; k < nd; k++) fprintf(o, k ? " %.6g" : "%.6g", t->proj[((size_t)c * t->T + s) * t->K + k0 + k]);
            fputc('\n', o);
        }
        fprintf(o, "\n\n");
    }
    return fig_data_close(o, *file);
}

static sl_status write_fp(fig *f, const fpts *fp, int K, int nd, char **fpf)
{
    FILE *o;
    sl_status st = fig_data(f, "fixedpoints",
                            "index 0: stable points, index 1: unstable points, index 2: unstable modes "
                            "(one segment a row: start, then start-to-end vector)",
                            &o, fpf);
    if (st) return st;
    for (int pass = 0; pass < 2; pass++) {
        int any = 0;
        for (int p = 0; p < fp->P; p++)
            if (fp->stable[p] == (pass == 0)) {
                for (int k = 0; k < nd; k++) fprintf(o, k ? " %.6g" : "%.6g", fp->p[(size_t)p * K + k]);
                fputc('\n', o);
                any = 1;
            }
        if (!any) {
            for (int k = 0; k < nd; k++) fprintf(o, k ? " NaN" : "NaN");
            fputc('\n', o);
        }
        fprintf(o, "\n\n");
    }
    int any = 0;
    for (int p = 0; p < fp->P; p++)
        for (int q = 0; q < 3; q++) {
            const double *s0 = fp->seg + ((size_t)(p * 3 + q) * 2) * K, *s1 = s0 + K;
            if (isnan(s0[0])) continue;
            /* as vectors: in splot, blank-line-separated pairs would be
             * joined into a mesh */
            for (int k = 0; k < nd; k++) fprintf(o, k ? " %.6g" : "%.6g", s0[k]);
            for (int k = 0; k < nd; k++) fprintf(o, " %.6g", s1[k] - s0[k]);
            fputc('\n', o);
            any = 1;
        }
    if (!any) {
        for (int k = 0; k < 2 * nd; k++) fprintf(o, k ? " NaN" : "NaN");
        fputc('\n', o);
    }
    return fig_data_close(o, *fpf);
}

static void axis_labels(fig *f, const traj *t, const char *stem, int k0, int nd)
{
    static const char *ax[3] = {"x", "y", "z"};
    for (int k = 0; k < nd; k++) {
        if (t->evr && nd == 3)
            fig_cmd(f, "set %slabel \"%s%d (%.1f%%)\"%s\n", ax[k], stem, k0 + k + 1, 100 * t->evr[k0 + k],
                    k == 2 ? " rotate parallel" : "");
        else if (t->evr)
            fig_cmd(f, "set %slabel \"%s%d (%.1f%% variance)\"\n", ax[k], stem, k0 + k + 1, 100 * t->evr[k0 + k]);
        else
            fig_cmd(f, "set %slabel \"%s%d\"\n", ax[k], stem, k0 + k + 1);
    }
}

static void cond_key(fig *f, const traj *t)
{
    fig_cmd(f, "CONDS = \"");
    for (int c = 0; c < t->C; c++) {
        char w[64];
        size_t n = 0;
        const char *s = t->label ? t->label[c] : NULL;
        if (!s) {
            snprintf(w, sizeof w, "condition_%d", c);
            s = w;
        }
        char clean[64];
        for (; *s && n < sizeof clean - 1; s++) clean[n++] = (*s == ' ' || *s == '"' || *s == '\\') ? '_' : *s;
        clean[n] = 0;
        fig_cmd(f, "%s%s", c ? " " : "", clean);
    }
    fig_cmd(f, "\"\n");
}

/* plot (2-D) or splot (3-D) of trajectories with start/end markers and the
 * fixed points. */
static void plot_traj(fig *f, const traj *t, const char *file, int nd, const char *fpf, int show_key)
{
    const char *cmd = nd == 3 ? "splot" : "plot";
    const char *u = nd == 3 ? "1:2:3" : "1:2";
    fig_cmd(f, "%s for [c=0:%d] \"%s\" index c using %s with lines lt (c %% 8 + 1) lw 1.8 %s, \\\n"
               "     for [c=0:%d] \"%s\" index c every ::0::0 using %s with points lt (c %% 8 + 1) pt 4 ps 1.2 notitle, \\\n"
               "     for [c=0:%d] \"%s\" index c every ::%d::%d using %s with points lt (c %% 8 + 1) pt 9 ps 1.4 notitle",
            cmd, t->C - 1, file, u, show_key ? "title word(CONDS, c + 1)" : "notitle", t->C - 1, file, u, t->C - 1,
            file, t->T - 1, t->T - 1, u);
    if (fpf)
        fig_cmd(f, ", \\\n     \"%s\" index 2 using %s with vectors nohead lc rgb \"#000000\" lw 2.5 title \"unstable mode\", \\\n"
                   "     \"%s\" index 0 using %s with points pt 7 ps 1.8 lc rgb \"#000000\" title \"stable fixed point\", \\\n"
                   "     \"%s\" index 1 using %s with points pt 6 ps 1.8 lc rgb \"#000000\" lw 2 title \"unstable fixed point\"",
                fpf, nd == 3 ? "1:2:3:4:5:6" : "1:2:3:4", fpf, u, fpf, u);
    fig_cmd(f, "\n");
}

static sl_status draw_pca(fig_job *j, int nd)
{
    fig *f = &j->f;
    traj t;
    sl_status st = load_traj(j->run, "analysis/pca/proj.npy", "analysis/pca/explained_variance_ratio.npy", nd, &t);
    if (st) return st;
    fpts fp;
    load_fixed_points(j->run, &t, &fp);
    char *file = NULL, *fpf = NULL;
    st = write_traj(f, "traj", &t, nd, 0, &file);
    if (!st && fp.P) st = write_fp(f, &fp, t.K, nd, &fpf);
    if (!st) {
        cJSON *s = rd_json_opt(j->run, "analysis/pca/summary.json");
        const double pr = rd_json_num(s, "participation_ratio");
        cJSON_Delete(s);
        char title[160];
        snprintf(title, sizeof title, "PCA trajectories%s", fp.P ? " and fixed points" : "");
        if (!isnan(pr))
            snprintf(title + strlen(title), sizeof title - strlen(title), " (participation ratio %.1f)", pr);
        cond_key(f, &t);
        fig_cmd(f, "set title %s font \",13\"\n", fig_quote(title));
        fig_cmd(f, "set key outside right top font \",9\" samplen 1.5 spacing 1.1\n");
        if (fp.why || fp.note[0])
            fig_cmd(f, "set label 91 %s at screen 0.01,0.02 left font \",9\" tc rgb \"#555555\"\n",
                    fig_quote(fp.why ? fp.why : fp.note));
        fig_cmd(f, "set label 92 \"□ start  ▲ end\" at screen 0.99,0.02 right font \",9\"\n");
        axis_labels(f, &t, "PC", 0, nd);
        if (nd == 3)
            fig_cmd(f, "set view 60,35\nset ticslevel 0\nset grid x y z lc rgb \"#dddddd\"\n");
        else
            fig_cmd(f, "set grid lc rgb \"#eeeeee\"\nset size ratio -1\n"
                       "set bmargin 5\n"); /* the notes at the bottom stay clear of the xlabel */
        plot_traj(f, &t, file, nd, fpf, 1);
    }
    free(file);
    free(fpf);
    fpts_free(&fp);
    traj_free(&t);
    return st;
}

sl_status fig_draw_pca(fig_job *j) { return draw_pca(j, 2); }
sl_status fig_draw_pca3d(fig_job *j) { return draw_pca(j, 3); }

sl_status fig_draw_jpca(fig_job *j)
{
    fig *f = &j->f;
    traj t;
    sl_status st = load_traj(j->run, "analysis/jpca/proj.npy", NULL, 2, &t);
    if (st) return st;
    const int planes = t.K >= 4 ? 2 : 1;
    char *files[2] = {NULL, NULL};
    for (int p = 0; p < planes && !st; p++) {
        char part[16];
        snprintf(part, sizeof part, "plane%d", p + 1);
        st = write_traj(f, part, &t, 2, 2 * p, &files[p]);
    }
    if (!st) {
        cJSON *s = rd_json_opt(j->run, "analysis/jpca/summary.json");
        const double rs = rd_json_num(s, "rotation_strength");
        cJSON_Delete(s);
        char title[160] = "jPCA: rotational dynamics";
        if (!isnan(rs)) snprintf(title, sizeof title, "jPCA: rotational dynamics (rotation strength %.2f)", rs);
        cond_key(f, &t);
        fig_cmd(f, "set multiplot layout 1,%d title %s font \",13\" %s\nset grid lc rgb \"#eeeeee\"\nset size ratio -1\n",
                planes, fig_quote(title), fig_margins(f, 70, 20, 60, 110, 90, 0));
        /* the conditions' colours in one row above the panels, not over the
         * trajectories */
        if (t.label) fig_colour_legend(f, t.C, t.label, 1 - 50.0 / f->height);
        fig_cmd(f, "set label 92 \"□ start  ▲ end\" at screen 0.99,0.02 right font \",9\"\n");
        for (int p = 0; p < planes; p++) {
            fig_cmd(f, "set title \"plane %d\"\nset xlabel \"jPC%d\"\nset ylabel \"jPC%d\"\n", p + 1, 2 * p + 1, 2 * p + 2);
            fig_cmd(f, "%s", p == 0 && !t.label ? "set key top left font \",8\" samplen 1\n" : "unset key\n");
            plot_traj(f, &t, files[p], 2, NULL, p == 0 && !t.label);
            if (p == 0 && t.label)
                for (int c = 0; c < t.C && c < 16; c++) fig_cmd(f, "unset label %d\n", 100 + c);
        }
        fig_cmd(f, "unset multiplot\n");
    }
    free(files[0]);
    free(files[1]);
    traj_free(&t);
    return st;
}
