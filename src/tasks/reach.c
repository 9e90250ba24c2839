/* reach.c — the "reach" task: a delayed center-out reach whose targets are
 * real monkey arm EMG (Hatsopoulos lab; data/reach/README.md).
 *
 * Trial (dt = task.dt ms, a whole number of ms; T = round(trial_ms/dt)):
 * condition c = reach direction θ_c = 2πc/8 (direction index k of the data
 * taken as 45°·k), delay d ∈ task.delays (train) or task.val_delays (val).
 *   t < p                 nothing on; the network rests
 *   p ≤ t < g             plan input (encoding of θ_c) and the hold cue on,
 *                         p = round(plan_onset_ms/dt), g = round((plan_onset_ms + d)/dt)
 *   t ≈ g                 go cue: a Gaussian bump centred on step g
 *   all t                 target = the EMG of direction c, aligned so that
 *                         recording sample emg_go_ms falls on the go step:
 *                         y_t = E_c[clamp((t − g) + emg_go_ms/dt, 0, emg_end_ms/dt)]
 *                         (before the recording starts: its first value, the
 *                         baseline; after emg_end_ms: the value at emg_end_ms)
 * Inputs, normalisation, splits and batches: reach_common.c.
 *
 * Data: an .npy of shape (directions, samples at 1 ms, muscles), float32
 * (float64 accepted). E is the data averaged over non-overlapping bins of dt
 * samples, restricted to task.muscles (empty = all), each muscle divided by
 * its maximum over every direction and bin of the used window
 * [0, emg_end_ms], so targets are about [0, 1].
 *
 * task.data: an absolute path is used as is; a relative path is tried in
 * the working directory, then under $SILICO_DATA_DIR, then under the
 * installed data directory SILICO_DATADIR (set by the Makefile).
 */
#include "tasks/reach_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SILICO_DATADIR
#define SILICO_DATADIR "/usr/local/share/silico"
#endif

static const sl_task_ops REACH_OPS = {
    "reach", rc_num_batches, rc_start_epoch, rc_batch, rc_destroy, NULL,
};

typedef struct {
    int n_mus;     /* muscles used (outputs) */
    int go_bin;    /* bin aligned with the go step */
    int end_bin;   /* last bin used */
    double *emg;   /* directions × (end_bin + 1) × n_mus, normalised */
} emg_ctx;

static void emg_target(const rc_core *rc, const void *ctx, int c, int g, sl_real *y)
{
    const emg_ctx *e = ctx;
    const int nk = e->end_bin + 1;
    for (int t = 0; t < rc->T; t++) {
        long k = (long)(t - g) + e->go_bin;
        if (k < 0) k = 0;
        if (k > e->end_bin) k = e->end_bin;
        const double *src = e->emg + ((size_t)c * nk + (size_t)k) * e->n_mus;
        for (int j = 0; j < e->n_mus; j++) y[(size_t)t * e->n_mus + j] = (sl_real)src[j];
    }
}

static char *join(const char *dir, const char *path)
{
    size_t n = strlen(dir) + strlen(path) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", dir, path);
    return s;
}

static int readable(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}

/* Resolve task.data; *found is malloc'd. */
static sl_status find_data(const char *path, char **found)
{
    *found = NULL;
    if (!path || !*path)
        return sl_fail(SL_EINVAL, "task.data is empty: name the reach EMG .npy file");
    char *cand[3] = {NULL, NULL, NULL};
    int nc = 0;
    cand[nc++] = strdup(path);
    if (path[0] != '/') {
        const char *env = getenv("SILICO_DATA_DIR");
        if (env && *env) cand[nc++] = join(env, path);
        cand[nc++] = join(SILICO_DATADIR, path);
    }
    for (int i = 0; i < nc; i++)
        if (!cand[i]) {
            for (int j = 0; j < nc; j++) free(cand[j]);
            return sl_fail(SL_ENOMEM, "task.data: out of memory");
        }
    for (int i = 0; i < nc; i++)
        if (readable(cand[i])) {
            *found = cand[i];
            for (int j = 0; j < nc; j++)
                if (j != i) free(cand[j]);
            return SL_OK;
        }
    sl_status st = sl_fail(SL_EIO,
                           "task.data: cannot open the reach EMG file '%s' (tried: %s%s%s%s%s); "
                           "run from the silico source directory, set SILICO_DATA_DIR, or "
                           "regenerate it with scripts/convert_emg.py",
                           path, cand[0], nc > 1 ? ", " : "", nc > 1 ? cand[1] : "",
                           nc > 2 ? ", " : "", nc > 2 ? cand[2] : "");
    for (int j = 0; j < nc; j++) free(cand[j]);
    return st;
}

static double at(const sl_array *a, size_t i)
{
    return a->dtype == SL_F32 ? (double)((const float *)a->data)[i]
                              : ((const double *)a->data)[i];
}

sl_status sl_reach_create(const sl_config *c, sl_task **out)
{
    sl_status st;
    double dt;
    char *path = NULL;
    double *mus = NULL;
    int n_mus_list = 0;
    int *mi = NULL;
    emg_ctx e = {0, 0, 0, NULL};
    sl_array a;
    memset(&a, 0, sizeof a);
    *out = NULL;

    if ((st = rc_read_dt(c, 1, &dt))) return st;
    const int dtk = (int)lround(dt);
    const double go_ms = sl_config_real(c, "task.emg_go_ms");
    const double end_ms = sl_config_real(c, "task.emg_end_ms");
    if (!(go_ms >= 0) || !(go_ms < end_ms))
        return sl_fail(SL_EINVAL,
                       "task.emg_go_ms (%g) must be >= 0 and less than task.emg_end_ms (%g)", go_ms,
                       end_ms);

    if ((st = find_data(sl_config_str(c, "task.data"), &path))) return st;
    if ((st = sl_npy_read(path, &a))) goto done;
    if (a.dtype != SL_F32 && a.dtype != SL_F64) {
        st = sl_fail(SL_EFORMAT, "%s: dtype %s, expected float32 (directions x samples x muscles)",
                     path, sl_dtype_name(a.dtype));
        goto done;
    }
    if (a.ndim != 3 || a.shape[0] < 1 || a.shape[1] < 1 || a.shape[2] < 1 ||
        a.shape[0] > 100000 || a.shape[2] > 100000 || a.shape[1] > 1000000000) {
        char shp[160] = "";
        size_t o = 0;
        for (int i = 0; i < a.ndim && o < sizeof shp - 24; i++)
            o += (size_t)snprintf(shp + o, sizeof shp - o, "%s%lld", i ? ", " : "",
                                  (long long)a.shape[i]);
        st = sl_fail(SL_EFORMAT, "%s: shape (%s), expected 3 nonempty axes (directions, samples "
                     "at 1 ms, muscles)", path, shp);
        goto done;
    }
    const int n_dir = (int)a.shape[0], n_smp = (int)a.shape[1], n_mdat = (int)a.shape[2];
    const size_t numel = sl_array_numel(&a);
    for (size_t i = 0; i < numel; i++) {
        double v = at(&a, i);
        if (!isfinite(v)) {
            size_t m = i % (size_t)n_mdat, s = (i / (size_t)n_mdat) % (size_t)n_smp,
                   d = i / ((size_t)n_mdat * n_smp);
            st = sl_fail(SL_EFORMAT, "%s: %s at direction %zu, sample %zu, muscle %zu", path,
                         isnan(v) ? "NaN" : "Inf", d, s, m);
            goto done;
        }
    }

    /* the window, in bins of dt samples */
    const int n_bins = n_smp / dtk;
    e.end_bin = (int)lround(end_ms / dt);
    e.go_bin = (int)lround(go_ms / dt);
    if (e.end_bin >= n_bins) {
        st = sl_fail(SL_EINVAL, "task.emg_end_ms = %g ms is past the end of the recording: %s has "
                     "%d samples (1 ms each), %d bins of %g ms; use at most %g",
                     end_ms, path, n_smp, n_bins, dt, (n_bins - 1) * dt);
        goto done;
    }

    /* muscles */
    if ((st = rc_read_list(c, "task.muscles", &mus, &n_mus_list))) goto done;
    e.n_mus = n_mus_list > 0 ? n_mus_list : n_mdat;
    mi = malloc((size_t)e.n_mus * sizeof *mi);
    if (!mi) {
        st = sl_fail(SL_ENOMEM, "reach task: out of memory");
        goto done;
    }
    for (int j = 0; j < e.n_mus; j++) {
        if (n_mus_list == 0) {
            mi[j] = j;
            continue;
        }
        double v = mus[j];
        if (!(v >= 0 && v < n_mdat && v == floor(v))) {
            st = sl_fail(SL_EINVAL, "task.muscles: muscle index %g is out of range or not an integer "
                         "(%s has %d muscles, 0..%d)", v, path, n_mdat, n_mdat - 1);
            goto done;
        }
        mi[j] = (int)v;
    }

    /* bin, select, normalise each muscle by its max over the window */
    const int nk = e.end_bin + 1;
    e.emg = malloc((size_t)n_dir * nk * e.n_mus * sizeof *e.emg);
    if (!e.emg) {
        st = sl_fail(SL_ENOMEM, "reach task: out of memory");
        goto done;
    }
    for (int j = 0; j < e.n_mus; j++) {
        double mx = -INFINITY;
        for (int d = 0; d < n_dir; d++)
            for (int k = 0; k < nk; k++) {
                double s = 0;
                for (int q = 0; q < dtk; q++)
                    s += at(&a, ((size_t)d * n_smp + (size_t)k * dtk + q) * n_mdat + mi[j]);
                s /= dtk;
                e.emg[((size_t)d * nk + k) * e.n_mus + j] = s;
                if (s > mx) mx = s;
            }
        if (!(mx > 0)) {
            st = sl_fail(SL_EINVAL, "task.muscles: muscle %d of %s is never positive in the used "
                         "window [0, %g ms], so it cannot be normalised by its maximum",
                         mi[j], path, end_ms);
            goto done;
        }
        for (int d = 0; d < n_dir; d++)
            for (int k = 0; k < nk; k++) e.emg[((size_t)d * nk + k) * e.n_mus + j] /= mx;
    }

    rc_spec spec = {n_dir, e.n_mus, emg_target, &e};
    st = rc_create(c, &REACH_OPS, &spec, out);

done:
    sl_array_free(&a);
    free(path);
    free(mus);
    free(mi);
    free(e.emg);
    return st;
}
