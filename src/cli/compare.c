/* compare.c — `silico compare RUN DATA --dims ...`: a trained network's
 * condition-averaged rates against recorded neurons (src/analysis/compare.c).
 *
 *   model  = RUN/checkpoint.safetensors on the validation trials of RUN's task,
 *            no noise, averaged per condition aligned on the go cue: the
 *            rates `silico analyze` gives pca, tangling and jpca
 *            (sl_an_condition_rates, every step); time 0 = movement onset =
 *            go cue + the lag at which the mean target has risen 5% of its
 *            range (reach: the EMG onset, 210 ms after the go cue at the
 *            default emg_go_ms)
 *   data   = the recording as (condition, time, neuron), its times (ms from
 *            its own alignment event — movement onset for Churchland 2012)
 *            from --time, restricted to --window
 *   align  = the model's rates linearly interpolated at the data's times
 *   pairs  = model condition i with data condition --conditions[i] (default i)
 * then sl_compare_activity and RUN/analysis/compare/. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/analysis.h"
#include "cli/cli.h"
#include "silico.h"

/* row c of a C×Tm×n array linearly interpolated between steps j and j + 1 */
static void interp(const double *a, int n, int c, int Tm, int j, double w, double *out)
{
    const double *p = a + ((size_t)c * Tm + j) * n;
    for (int u = 0; u < n; u++) out[u] = (1 - w) * p[u] + w * p[n + u];
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: silico compare RUN DATA --dims AXES [--time TIME] [--window A:B] [--conditions I,J,...]\n"
"                      [--pcs K] [--delay MS]\n"
"\n"
"Compares a trained network's condition-averaged hidden rates with recorded\n"
"neurons on the same conditions and time bins, and writes\n"
"RUN/analysis/compare/:\n"
"  compare.json    cca_mean_r2 (mean squared canonical correlation on K PCs),\n"
"                  svcca_mean (mean canonical correlation after keeping 99%% of\n"
"                  each side's variance), cka_linear, cka_linear_gram,\n"
"                  cka_linear_debiased, cka_rbf (threshold 0.5 × median distance),\n"
"                  procrustes (orthogonal, centred, unit Frobenius norm; 0..2),\n"
"                  rsa_spearman, rsa_pearson, rsa_kendall_tau_a, rsa_cosine (euclidean\n"
"                  RDMs over conditions; \"rsa\" has correlation RDMs and permutation\n"
"                  p-values too), and \"model\" / \"data\" objects with rotation_strength\n"
"                  (jPCA R² skew ÷ R² linear), tangling_median (Russo 2018) and\n"
"                  dimensionality (participation ratio); \"model\" also has\n"
"                  tangling_output_median and tangling_target_median: the network's\n"
"                  outputs and the task's targets (the muscles, for reach) on the same\n"
"                  bins — Russo's finding is a population less tangled than its muscles\n"
"  model_rdm.npy, data_rdm.npy   C×C euclidean RDMs;  model_pcs.npy, data_pcs.npy\n"
"                  C×T×K aligned PC trajectories;  time.npy  T times (s from movement onset)\n"
"  model_rates.npy, data_rates.npy   C×T×N aligned, condition-paired rates before PCA\n"
"                  (the data's in its own units; `silico plot RUN psth` draws a few)\n"
"\n"
"arguments:\n"
"  RUN              a run directory written by `silico train` (recurrent network)\n"
"  DATA             FILE.npy, or FILE.mat:VARIABLE with struct fields and 1-based\n"
"                   indices: S(1).RDM, C{2}, S.field\n"
"  --dims AXES      the data's axes in order (MATLAB's order for .mat files), each\n"
"                   one of time, neuron, condition; time and condition may be left\n"
"                   out (one bin / one condition). E.g. time,neuron,condition\n"
"  --time TIME      the data's bin times in ms from its alignment event (movement\n"
"                   onset), as FILE.mat:VARIABLE or FILE.npy; default 0, dt, 2dt, ...\n"
"                   at the model's dt\n"
"  --window A:B     keep data bins with A ≤ t ≤ B ms (default: all)\n"
"  --conditions L   data condition (0-based) for model condition 0, 1, ...;\n"
"                   default: paired in order, as many as both have\n"
"  --pcs K          principal components per side (default 10)\n"
"  --delay MS       only the validation trials with this delay (default: all,\n"
"                   averaged aligned on the go cue)\n"
"\n"
"Model time 0 is movement onset: the go cue plus the lag at which the mean\n"
"target first rises 5%% of the way to its peak (reach EMG: 210 ms).\n"
"\n"
"Example (Churchland et al. 2012 M1, 61 bins × 50 neurons × 10 conditions):\n"
"  D=../shared/data/churchland2012_m1_reach_tme/exampleData.mat\n"
"  silico compare runs/reach-2025... $D:dataTensor --dims time,neuron,condition \\\n"
"      --time $D:t --window -50:550\n");
}

static int mkdir_if(const char *p)
{
    return mkdir(p, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

static void shape_str(int nd, const int64_t *sh, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < nd && o + 24 < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? "×" : "", (long long)sh[i]);
    if (nd == 0) snprintf(buf, n, "scalar");
}

int cli_compare(int argc, char **argv, int threads)
{
    const char *run = NULL, *dspec = NULL, *dims = NULL, *tspec = NULL, *win = NULL, *conds = NULL;
    int K = 10;
    double delay = 0;
    const char *delay_opt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        int has = i + 1 < argc;
        if (!strcmp(a, "--dims") && has) dims = argv[++i];
        else if (!strcmp(a, "--time") && has) tspec = argv[++i];
        else if (!strcmp(a, "--window") && has) win = argv[++i];
        else if (!strcmp(a, "--conditions") && has) conds = argv[++i];
        else if (!strcmp(a, "--pcs") && has) {
            char *e;
            long v = strtol(argv[++i], &e, 10);
            if (*e || v < 1 || v > 100000) {
                fprintf(stderr, "silico compare: --pcs '%s': expected a positive integer\n", argv[i]);
                return 2;
            }
            K = (int)v;
        } else if (!strcmp(a, "--delay") && has) delay_opt = argv[++i];
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "silico compare: unknown option or missing value: %s (see --help)\n", a);
            return 2;
        } else if (!run) run = a;
        else if (!dspec) dspec = a;
        else {
            fprintf(stderr, "silico compare: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!run || !dspec || !dims) {
        fprintf(stderr, "silico compare: need RUN, DATA and --dims (see --help)\n");
        usage(stderr);
        return 2;
    }
    /* --dims */
    int ax_t = -1, ax_n = -1, ax_c = -1, n_ax = 0;
    {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", dims);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","), n_ax++) {
            int *slot = !strcmp(tok, "time") ? &ax_t : !strcmp(tok, "neuron") ? &ax_n
                        : !strcmp(tok, "condition") ? &ax_c : NULL;
            if (!slot) {
                fprintf(stderr, "silico compare: --dims: unknown axis '%s' (use time, neuron, "
                        "condition)\n", tok);
                return 2;
            }
            if (*slot >= 0) {
                fprintf(stderr, "silico compare: --dims names '%s' twice\n", tok);
                return 2;
            }
            *slot = n_ax;
        }
        if (ax_n < 0) {
            fprintf(stderr, "silico compare: --dims must name the neuron axis\n");
            return 2;
        }
    }
    /* the model side: the rates `silico analyze` gives pca, tangling and jpca */
    const char *ok[1] = {"delay"}, *ov[1] = {delay_opt};
    sl_analysis_ctx ctx = {.run_dir = run, .n_opts = delay_opt ? 1 : 0, .opt_keys = ok, .opt_vals = ov};
    if (sl_an_opt_delay(&ctx, &delay)) {
        fprintf(stderr, "silico compare: %s\n", sl_last_error());
        return 2;
    }
    int rc = 1;
    sl_config *cfg = NULL;
    sl_model *model = NULL;
    sl_an_rates mr = {0};
    double *data = NULL, *tdat = NULL, *mtime = NULL, *D = NULL, *M = NULL, *Mz = NULL, *My = NULL;
    int *pair = NULL;
    sl_compare_result res = {0};
    int64_t shape[SL_MAX_DIMS];
    int nd = 0;
    char sh[128];
    if (sl_read_array(dspec, &data, &nd, shape)) {
        fprintf(stderr, "silico compare: %s\n", sl_last_error());
        rc = 2;
        goto done;
    }
    /* drop trailing singleton axes beyond the named ones (MATLAB's 2-D minimum) */
    while (nd > n_ax && shape[nd - 1] == 1) nd--;
    shape_str(nd, shape, sh, sizeof sh);
    if (nd != n_ax) {
        fprintf(stderr, "silico compare: %s is %s (%d axes) but --dims %s names %d\n", dspec, sh,
                nd, dims, n_ax);
        rc = 2;
        goto done;
    }
    int64_t Td = ax_t >= 0 ? shape[ax_t] : 1, Nd = shape[ax_n], Cd = ax_c >= 0 ? shape[ax_c] : 1;
    {
        size_t tot = (size_t)Td * Nd * Cd;
        for (size_t i = 0; i < tot; i++)
            if (!isfinite(data[i])) {
                fprintf(stderr, "silico compare: %s (%s) holds %s at element %zu (row-major); "
                        "fill or drop those bins first\n", dspec, sh, isnan(data[i]) ? "NaN" : "Inf", i);
                rc = 2;
                goto done;
            }
    }
    /* the run */
    char cfg_path[4200], ck[4200], out[4200];
    snprintf(cfg_path, sizeof cfg_path, "%s/config.ini", run);
    snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", run);
    sl_status st = sl_config_new(&cfg);
    if (!st) st = sl_config_load(cfg, cfg_path);
    if (st) fprintf(stderr, "silico compare: %s\n", sl_last_error());
    if (!st && (st = sl_model_load(ck, &model, NULL)))
        fprintf(stderr, "silico compare: cannot load the trained network: %s\n", sl_last_error());
    if (st) goto done;
    sl_set_threads(threads ? threads : (int)sl_config_int(cfg, "run.threads"));
    ctx.config = cfg;
    ctx.model = model;
    if (sl_an_condition_rates(&ctx, NAN, NAN, &mr)) {
        fprintf(stderr, "silico compare: running the network: %s\n", sl_last_error());
        goto done;
    }
    const int Cm = mr.C, Tm = mr.T, Nm = mr.N;
    const double onset = mr.onset_s;
    mtime = malloc((size_t)Tm * sizeof *mtime);
    if (!mtime) goto done;
    for (int t = 0; t < Tm; t++) mtime[t] = mr.time_s[t] * 1e3; /* ms from movement onset */
    /* data times */
    tdat = calloc((size_t)Td, sizeof *tdat);
    if (!tdat) goto done;
    if (tspec) {
        double *tv = NULL;
        int tnd;
        int64_t tsh[SL_MAX_DIMS];
        if (sl_read_array(tspec, &tv, &tnd, tsh)) {
            fprintf(stderr, "silico compare: --time: %s\n", sl_last_error());
            rc = 2;
            goto done;
        }
        size_t tn = 1;
        for (int i = 0; i < tnd; i++) tn *= (size_t)tsh[i];
        char ts[128];
        shape_str(tnd, tsh, ts, sizeof ts);
        if ((int64_t)tn != Td) {
            fprintf(stderr, "silico compare: --time %s has %zu values (%s) but the time axis of "
                    "%s (%s) has %lld bins\n", tspec, tn, ts, dspec, sh, (long long)Td);
            free(tv);
            rc = 2;
            goto done;
        }
        memcpy(tdat, tv, (size_t)Td * sizeof *tdat);
        free(tv);
        for (int64_t i = 0; i < Td; i++)
            if (!isfinite(tdat[i]) || (i && !(tdat[i] > tdat[i - 1]))) {
                fprintf(stderr, "silico compare: --time %s must be finite and increasing (value "
                        "%lld: %g)\n", tspec, (long long)i, tdat[i]);
                rc = 2;
                goto done;
            }
    } else {
        for (int64_t i = 0; i < Td; i++) tdat[i] = (double)i * mr.dt_s * 1e3;
    }
    double lo = tdat[0], hi = tdat[Td - 1];
    if (win && sl_an_parse_window(win, "--window", &lo, &hi)) {
        fprintf(stderr, "silico compare: %s\n", sl_last_error());
        rc = 2;
        goto done;
    }
    int t0 = -1, T = 0;
    for (int64_t i = 0; i < Td; i++)
        if (tdat[i] >= lo - 1e-9 && tdat[i] <= hi + 1e-9) {
            if (t0 < 0) t0 = (int)i;
            T++;
        }
    if (T < 3) {
        fprintf(stderr, "silico compare: the window %g..%g ms holds %d of the data's bins "
                "(%g..%g ms); need at least 3\n", lo, hi, T, tdat[0], tdat[Td - 1]);
        rc = 2;
        goto done;
    }
    if (tdat[t0] < mtime[0] - 1e-9 || tdat[t0 + T - 1] > mtime[Tm - 1] + 1e-9) {
        fprintf(stderr, "silico compare: the data's bins %g..%g ms (from movement onset) fall "
                "outside the model's trials, which cover %g..%g ms; narrow --window\n",
                tdat[t0], tdat[t0 + T - 1], mtime[0], mtime[Tm - 1]);
        rc = 2;
        goto done;
    }
    double dt = (tdat[t0 + T - 1] - tdat[t0]) / (T - 1);
    for (int i = 1; i < T; i++)
        if (fabs(tdat[t0 + i] - tdat[t0 + i - 1] - dt) > 1e-6 * fabs(dt) + 1e-9) {
            fprintf(stderr, "silico compare: the data's bins are not evenly spaced in the window "
                    "(%g then %g ms); tangling and jPCA need a fixed step\n",
                    tdat[t0 + 1] - tdat[t0], tdat[t0 + i] - tdat[t0 + i - 1]);
            rc = 2;
            goto done;
        }
    /* pairs */
    int P = Cm < Cd ? Cm : (int)Cd;
    pair = malloc((size_t)(Cm + Cd) * sizeof *pair);
    if (!pair) goto done;
    if (conds) {
        P = 0;
        const char *s = conds;
        while (*s) {
            char *e;
            long v = strtol(s, &e, 10);
            if (e == s || (*e && *e != ',')) {
                fprintf(stderr, "silico compare: --conditions '%s': expected comma-separated "
                        "0-based data condition indices\n", conds);
                rc = 2;
                goto done;
            }
            if (v < 0 || v >= Cd) {
                fprintf(stderr, "silico compare: --conditions: data condition %ld does not exist "
                        "(%s has %lld conditions, 0-based)\n", v, dspec, (long long)Cd);
                rc = 2;
                goto done;
            }
            if (P >= Cm) {
                fprintf(stderr, "silico compare: --conditions lists more than the model's %d "
                        "conditions\n", Cm);
                rc = 2;
                goto done;
            }
            pair[P++] = (int)v;
            s = *e ? e + 1 : e;
        }
    } else {
        for (int i = 0; i < P; i++) pair[i] = i;
    }
    if (P < 1) goto done;
    /* aligned arrays: P × T × N */
    D = malloc((size_t)P * T * Nd * sizeof *D);
    M = malloc((size_t)P * T * Nm * sizeof *M);
    if (!D || !M) goto done;
    int64_t st_[3] = {1, 1, 1};
    /* row-major strides of the data's named axes */
    {
        int64_t stride = 1, strides[SL_MAX_DIMS];
        for (int a = nd - 1; a >= 0; a--) {
            strides[a] = stride;
            stride *= shape[a];
        }
        st_[0] = ax_c >= 0 ? strides[ax_c] : 0;
        st_[1] = ax_t >= 0 ? strides[ax_t] : 0;
        st_[2] = strides[ax_n];
    }
    const int O = mr.O;
    Mz = malloc((size_t)P * T * O * sizeof *Mz);
    My = mr.y ? malloc((size_t)P * T * O * sizeof *My) : NULL;
    if (!Mz || (mr.y && !My)) goto done;
    for (int c = 0; c < P; c++)
        for (int t = 0; t < T; t++) {
            for (int64_t u = 0; u < Nd; u++)
                D[((size_t)c * T + t) * Nd + u] =
                    data[pair[c] * st_[0] + (t0 + t) * st_[1] + u * st_[2]];
            double tm = tdat[t0 + t];
            int j = 0;
            while (j + 2 < Tm && mtime[j + 1] < tm) j++;
            double w = (tm - mtime[j]) / (mtime[j + 1] - mtime[j]);
            w = w < 0 ? 0 : w > 1 ? 1 : w;
            interp(mr.x, Nm, c, Tm, j, w, M + ((size_t)c * T + t) * Nm);
            interp(mr.z, O, c, Tm, j, w, Mz + ((size_t)c * T + t) * O);
            if (My) interp(mr.y, O, c, Tm, j, w, My + ((size_t)c * T + t) * O);
        }
    /* Russo 2018's comparison on the model side: the network's outputs and
     * the task's targets (the "muscles") on the same bins */
    double tz = NAN, ty = NAN;
    if (sl_tangling(Mz, P, T, O, dt * 1e-3, 0.1, NULL, &tz) ||
        (My && sl_tangling(My, P, T, O, dt * 1e-3, 0.1, NULL, &ty))) {
        fprintf(stderr, "silico compare: tangling of the outputs: %s\n", sl_last_error());
        goto done;
    }
    if (sl_compare_activity(M, Nm, D, (int)Nd, P, T, dt * 1e-3, K, &res)) {
        fprintf(stderr, "silico compare: %s\n", sl_last_error());
        goto done;
    }
    /* write */
    snprintf(out, sizeof out, "%s/analysis", run);
    if (mkdir_if(out) || (snprintf(out, sizeof out, "%s/analysis/compare", run), mkdir_if(out))) {
        fprintf(stderr, "silico compare: cannot create %s/analysis/compare: %s\n", run, strerror(errno));
        goto done;
    }
    int k = res.k;
    int64_t s2[2] = {P, P}, s3[3] = {P, T, k}, s1[1] = {T}, sm3[3] = {P, T, Nm}, sd3[3] = {P, T, Nd};
    double *tsec = malloc((size_t)T * sizeof *tsec);
    int bad = !tsec;
    for (int t = 0; !bad && t < T; t++) tsec[t] = tdat[t0 + t] * 1e-3;
    bad = bad || sl_an_write_f64(out, "model_rdm.npy", 2, s2, res.model_rdm) ||
          sl_an_write_f64(out, "data_rdm.npy", 2, s2, res.data_rdm) ||
          sl_an_write_f64(out, "model_pcs.npy", 3, s3, res.model_pcs) ||
          sl_an_write_f64(out, "data_pcs.npy", 3, s3, res.data_pcs) ||
          sl_an_write_f64(out, "model_rates.npy", 3, sm3, M) || sl_an_write_f64(out, "data_rates.npy", 3, sd3, D) ||
          sl_an_write_f64(out, "time.npy", 1, s1, tsec);
    free(tsec);
    cJSON *o = cJSON_CreateObject();
    sl_an_json_num(o, "cca_mean_r2", res.cca_mean_r2);
    sl_an_json_num(o, "svcca_mean", res.svcca_mean);
    sl_an_json_num(o, "cka_linear", res.cka_linear);
    sl_an_json_num(o, "cka_linear_gram", res.cka_linear_gram);
    sl_an_json_num(o, "cka_linear_debiased", res.cka_linear_debiased);
    sl_an_json_num(o, "cka_linear_gram_debiased", res.cka_linear_gram_debiased);
    sl_an_json_num(o, "cka_rbf", res.cka_rbf);
    sl_an_json_num(o, "procrustes", res.procrustes);
    sl_an_json_num(o, "procrustes_angular", res.procrustes_angular);
    static const char *how[4] = {"spearman", "pearson", "kendall_tau_a", "cosine"};
    for (int h = 0; h < 4; h++) {
        char key[64];
        snprintf(key, sizeof key, "rsa_%s", how[h]);
        sl_an_json_num(o, key, res.rsa[0][h]);
    }
    sl_an_json_num(o, "rsa_spearman_p", res.rsa_p_spearman[0]);
    cJSON *rsa = cJSON_AddObjectToObject(o, "rsa");
    static const char *met[2] = {"euclidean", "correlation"};
    for (int m = 0; m < 2; m++) {
        cJSON *e = cJSON_AddObjectToObject(rsa, met[m]);
        for (int h = 0; h < 4; h++) sl_an_json_num(e, how[h], res.rsa[m][h]);
        sl_an_json_num(e, "spearman_permutation_p", res.rsa_p_spearman[m]);
    }
    cJSON_AddStringToObject(rsa, "crossnobis", "not computed: needs independent trial splits; "
                            "the data are trial averages");
    cJSON_AddStringToObject(rsa, "patterns", "each condition's T×K PC trajectory, flattened");
    cJSON *cc = cJSON_AddArrayToObject(o, "canonical_correlations");
    for (int i = 0; i < k; i++) cJSON_AddItemToArray(cc, cJSON_CreateNumber(res.rho[i]));
    static const char *side[2] = {"model", "data"};
    for (int s = 0; s < 2; s++) {
        cJSON *e = cJSON_AddObjectToObject(o, side[s]);
        sl_an_json_num(e, "rotation_strength", res.side[s].rotation_strength);
        sl_an_json_num(e, "jpca_r2_skew", res.side[s].r2_skew);
        sl_an_json_num(e, "jpca_r2_linear", res.side[s].r2_linear);
        sl_an_json_num(e, "tangling_median", res.side[s].tangling_median);
        if (!s) {
            sl_an_json_num(e, "tangling_output_median", tz);
            sl_an_json_num(e, "tangling_target_median", ty);
        }
        sl_an_json_num(e, "dimensionality", res.side[s].dimensionality);
        cJSON_AddNumberToObject(e, "units", s ? (double)Nd : Nm);
    }
    cJSON *opt = cJSON_AddObjectToObject(o, "options");
    cJSON_AddStringToObject(opt, "run", run);
    cJSON_AddStringToObject(opt, "data", dspec);
    cJSON_AddStringToObject(opt, "dims", dims);
    cJSON_AddStringToObject(opt, "data_shape", sh);
    if (tspec) cJSON_AddStringToObject(opt, "time", tspec);
    cJSON *w = cJSON_AddArrayToObject(opt, "window_ms");
    cJSON_AddItemToArray(w, cJSON_CreateNumber(tdat[t0]));
    cJSON_AddItemToArray(w, cJSON_CreateNumber(tdat[t0 + T - 1]));
    cJSON_AddNumberToObject(opt, "bins", T);
    cJSON_AddNumberToObject(opt, "bin_ms", dt);
    cJSON_AddNumberToObject(opt, "pcs", k);
    sl_an_json_num(opt, "delay_ms", delay > 0 ? delay : NAN);
    cJSON_AddStringToObject(opt, "time_zero", mr.time_zero);
    cJSON_AddNumberToObject(opt, "model_movement_onset_after_go_ms", onset * 1e3);
    cJSON *pl = cJSON_AddArrayToObject(opt, "pairs");
    for (int c = 0; c < P; c++) {
        cJSON *pp = cJSON_CreateArray();
        cJSON_AddItemToArray(pp, cJSON_CreateNumber(c));
        cJSON_AddItemToArray(pp, cJSON_CreateNumber(pair[c]));
        cJSON_AddItemToArray(pl, pp);
    }
    cJSON *f = cJSON_AddObjectToObject(o, "files");
    cJSON_AddStringToObject(f, "model_rdm.npy", "C×C euclidean RDM of the model (squared distance ÷ channels)");
    cJSON_AddStringToObject(f, "data_rdm.npy", "C×C euclidean RDM of the data");
    cJSON_AddStringToObject(f, "model_pcs.npy", "C×T×K model PC trajectories at the data's bins");
    cJSON_AddStringToObject(f, "data_pcs.npy", "C×T×K data PC trajectories");
    cJSON_AddStringToObject(f, "model_rates.npy",
                            "C×T×N model rates at the data's bins, condition-paired (the input to PCA)");
    cJSON_AddStringToObject(f, "data_rates.npy",
                            "C×T×N recorded rates in the window, condition-paired, the data's units (the input to PCA)");
    cJSON_AddStringToObject(f, "time.npy", "T bin times, seconds from movement onset");
    bad = bad || sl_an_write_json(out, "compare.json", o);
    cJSON_Delete(o);
    if (bad) {
        fprintf(stderr, "silico compare: cannot write %s: %s\n", out, sl_last_error());
        goto done;
    }
    printf("%s vs %s: %d conditions × %d bins (%g..%g ms), %d PCs\n", run, dspec, P, T, tdat[t0],
           tdat[t0 + T - 1], k);
    printf("  cca_mean_r2 %.4f  svcca_mean %.4f  cka_linear %.4f (debiased %.4f)  cka_rbf %.4f\n",
           res.cca_mean_r2, res.svcca_mean, res.cka_linear, res.cka_linear_debiased, res.cka_rbf);
    printf("  rsa_spearman %.4f (p %.4g)  procrustes %.4f\n", res.rsa[0][0], res.rsa_p_spearman[0],
           res.procrustes);
    printf("  %-6s rotation_strength %.4f  tangling_median %.4g  dimensionality %.2f\n", "model",
           res.side[0].rotation_strength, res.side[0].tangling_median, res.side[0].dimensionality);
    printf("  %-6s rotation_strength %.4f  tangling_median %.4g  dimensionality %.2f\n", "data",
           res.side[1].rotation_strength, res.side[1].tangling_median, res.side[1].dimensionality);
    printf("wrote %s/compare.json\n", out);
    rc = 0;
done:
    sl_compare_free(&res);
    free(data);
    free(tdat);
    sl_an_rates_free(&mr);
    free(mtime);
    free(D);
    free(M);
    free(Mz);
    free(My);
    free(pair);
    sl_model_free(model);
    sl_config_free(cfg);
    return rc;
}
