/* eigen.c — the eigenvalue spectra of the fixed points' Jacobians in the
 * complex plane with the stability boundary:
 *   discrete map x_{t+1} = F(x_t):  stable when every |λ| < 1 (unit circle)
 *   continuous time ẋ = f(x):       stable when every Re λ < 0 (the line Re = 0)
 * analysis/fixedpoints/eigenvalues_discrete.npy and eigenvalues.npy (P×N×2:
 * real, imaginary), coloured by the point's stability (stable.npy): blue =
 * eigenvalues of stable points, vermillion = of unstable points. A panel is
 * drawn for each file present. Only the MAX_POINTS points with the smallest
 * q (q.npy; the best-converged fixed points) are drawn: a search leaves
 * hundreds of slow points whose N eigenvalues each would fill the plane. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/figure.h"

enum { MAX_POINTS = 10 };

static sl_status write_spectrum(fig *f, const char *run, const char *rel, const char *part,
                                const double *stable, int64_t P, const int *keep, int nkeep, char **file)
{
    double *e;
    int64_t sh[8];
    sl_status st = rd_npy_dims(run, rel, 3, &e, sh);
    if (st) return st;
    if (sh[2] != 2 || (stable && sh[0] != P)) {
        free(e);
        return sl_fail(SL_EFORMAT, "%s/%s: expected P×N×2 (real, imaginary) with P = %lld, found %lld×%lld×%lld",
                       run, rel, (long long)P, (long long)sh[0], (long long)sh[1], (long long)sh[2]);
    }
    FILE *o;
    if ((st = fig_data(f, part, "index 0: eigenvalues of stable points, index 1: of unstable points (re im)", &o, file))) {
        free(e);
        return st;
    }
    if (nkeep > sh[0]) nkeep = (int)sh[0];
    for (int pass = 0; pass < 2; pass++) {
        int any = 0;
        for (int k = 0; k < (keep ? nkeep : (int)sh[0]); k++) {
            int64_t p = keep ? keep[k] : k;
            int s = stable ? stable[p] != 0 : 1;
            if (s != (pass == 0)) continue;
            for (int64_t i = 0; i < sh[1]; i++) {
                const double *z = e + ((size_t)p * sh[1] + i) * 2;
                fprintf(o, "%.8g %.8g\n", z[0], z[1]);
            }
            any = 1;
        }
        if (!any) fprintf(o, "NaN NaN\n");
        fprintf(o, "\n\n");
    }
    free(e);
    return fig_data_close(o, *file);
}

sl_status fig_draw_eigen(fig_job *j)
{
    fig *f = &j->f;
    double *stable = NULL;
    int64_t sh[8], P = 0;
    sl_status st = SL_OK;
    if (rd_exists(j->run, "analysis/fixedpoints/stable.npy")) {
        if ((st = rd_npy_dims(j->run, "analysis/fixedpoints/stable.npy", 1, &stable, sh))) return st;
        P = sh[0];
    }
    /* the MAX_POINTS points of smallest q, in order of q */
    int *keep = NULL, nkeep = 0;
    double *q = NULL;
    if (!st && P > 0 && rd_exists(j->run, "analysis/fixedpoints/q.npy")) {
        if ((st = rd_npy_dims(j->run, "analysis/fixedpoints/q.npy", 1, &q, sh))) {
            free(stable);
            return st;
        }
        if (sh[0] == P && (keep = fig_argsort(q, (int)P))) nkeep = P < MAX_POINTS ? (int)P : MAX_POINTS;
    }
    const int hd = rd_exists(j->run, "analysis/fixedpoints/eigenvalues_discrete.npy");
    const int hc = rd_exists(j->run, "analysis/fixedpoints/eigenvalues.npy");
    char *fd = NULL, *fc = NULL;
    if (!hd && !hc)
        st = sl_fail(SL_EIO, "%s/analysis/fixedpoints: no eigenvalues.npy or eigenvalues_discrete.npy", j->run);
    if (!st && hd)
        st = write_spectrum(f, j->run, "analysis/fixedpoints/eigenvalues_discrete.npy", "discrete", stable, P, keep, nkeep, &fd);
    if (!st && hc) st = write_spectrum(f, j->run, "analysis/fixedpoints/eigenvalues.npy", "continuous", stable, P, keep, nkeep, &fc);
    if (!st) {
        char title[160] = "Fixed points: Jacobian eigenvalues";
        if (keep && nkeep < P)
            snprintf(title, sizeof title, "Fixed points: Jacobian eigenvalues of the %d slowest of %lld points", nkeep,
                     (long long)P);
        fig_cmd(f, "set multiplot layout 1,%d title %s font \",13\"\n"
                   "set grid lc rgb \"#eeeeee\"\n"
                   "set xlabel \"Re λ\"\nset ylabel \"Im λ\"\n"
                   "set key bottom left font \",9\" opaque box lc rgb \"#cccccc\"\n",
                hd + hc, fig_quote(title));
        if (hd)
            fig_cmd(f, "set title \"discrete-time map (stable inside |λ| = 1)\"\n"
                       "set size ratio -1\n"
                       "set parametric\nset trange [0:2*pi]\n"
                       "plot cos(t), sin(t) with lines dt 2 lw 1.5 lc rgb \"#555555\" title \"|λ| = 1\", \\\n"
                       "     \"%s\" index 1 using 1:2 with points pt 6 ps 0.8 lt 2 title \"unstable points\", \\\n"
                       "     \"%s\" index 0 using 1:2 with points pt 7 ps 0.6 lt 1 title \"stable points\"\n"
                       "unset parametric\nset size noratio\n",
                    fd, fd);
        if (hc)
            fig_cmd(f, "set title \"continuous time (stable left of Re λ = 0)\"\n"
                       "set arrow 1 from 0, graph 0 to 0, graph 1 nohead dt 2 lw 1.5 lc rgb \"#555555\"\n"
                       "set xrange [*:*]\nset offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n"
                       "set xlabel \"Re λ (1/τ)\"\nset ylabel \"Im λ (1/τ)\"\n"
                       "plot \"%s\" index 1 using 1:2 with points pt 6 ps 0.8 lt 2 title \"unstable points\", \\\n"
                       "     \"%s\" index 0 using 1:2 with points pt 7 ps 0.6 lt 1 title \"stable points\"\n",
                    fc, fc);
        fig_cmd(f, "unset multiplot\n");
    }
    free(fd);
    free(fc);
    free(stable);
    free(keep);
    free(q);
    return st;
}
