/* activity.c — the trained network run on each condition of its task and on
 * single noisy trials, with everything it computes along the way.
 *
 * Library (silico.h): sl_activity_run runs a model on inputs u (B×T×n_in)
 * and returns outputs z, states x and rates r (cells: x = r = h) and, for the
 * gated cells, each gate's trace (B×T×N), named as outputs.md names them:
 *   lstm      gate_i, gate_f, gate_g, gate_o, cell   (i, f, g, o as PyTorch; c_t)
 *   gru       gate_r, gate_z, gate_n                  (reset, update, candidate)
 *   lightgru  gate_z, gate_n                          (update, candidate h̃)
 *   rnn       preactivation                           (W_ih u + b_ih + W_hh h + b_hh)
 * sl_noisy_trials builds K single trials from C conditions: trial k is
 * condition k mod C with N(0, σ²) added to every input channel and step.
 * sl_psth averages rates over the trials of each group (condition).
 *
 * Runner (RUN/analysis/activity/): the run's trials (sl_trialset: reach = the
 * training conditions at the first training delay, no input noise) run
 * deterministically, then --trials K noisy single trials (input noise
 * --noise σ, and the CT-RNN's own σ_rec when it has one, from --seed). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "nn/cell.h"
#include "nn/ctrnn.h"

static const struct {
    const char *cell_name, *name;
} GATE_NAMES[] = {
    {"input_gate", "gate_i"},  {"forget_gate", "gate_f"}, {"cell_candidate", "gate_g"},
    {"output_gate", "gate_o"}, {"cell_state", "cell"},    {"reset_gate", "gate_r"},
    {"update_gate", "gate_z"}, {"candidate", "gate_n"},   {"preactivation", "preactivation"},
};

/* the record's outputs.md name, or NULL for records that repeat h */
static const char *gate_name(const char *rec)
{
    for (size_t i = 0; i < sizeof GATE_NAMES / sizeof GATE_NAMES[0]; i++)
        if (!strcmp(rec, GATE_NAMES[i].cell_name)) return GATE_NAMES[i].name;
    return NULL;
}

void sl_activity_free(sl_activity *a)
{
    if (!a) return;
    free(a->z);
    free(a->x);
    free(a->r);
    for (int i = 0; i < a->n_gates; i++) free(a->gates[i]);
    memset(a, 0, sizeof *a);
}

sl_status sl_activity_run(sl_model *m, const sl_real *u, int B, int T, sl_rng *noise,
                          sl_activity *a)
{
    memset(a, 0, sizeof *a);
    if (!m || !u || B < 1 || T < 1)
        return sl_fail(SL_EINVAL, "activity: need a model and inputs of at least 1 trial and step "
                                  "(got B = %d, T = %d)", B, T);
    const sl_model_spec *sp = sl_model_get_spec(m);
    const size_t rows = (size_t)B * T, N = (size_t)sp->n_hidden;
    for (size_t i = 0; i < rows * sp->n_in; i++)
        if (!isfinite(u[i]))
            return sl_fail(SL_ENUMERIC, "activity: input u is not finite at trial %zu, step %zu, "
                                        "channel %zu", i / ((size_t)T * sp->n_in),
                           (i / sp->n_in) % T, i % sp->n_in);
    sl_workspace *ws = NULL;
    sl_status st = sl_workspace_create(m, B, T, &ws);
    if (st) return st;
    a->B = B, a->T = T, a->N = (int)N, a->n_out = sp->n_out;
    a->z = malloc(rows * sp->n_out * sizeof *a->z);
    a->x = malloc(rows * N * sizeof *a->x);
    a->r = malloc(rows * N * sizeof *a->r);
    if (!a->z || !a->x || !a->r) st = sl_fail(SL_ENOMEM, "activity: out of memory (%zu rows)", rows);
    if (!st) st = sl_model_forward(m, ws, u, B, T, noise, a->z);
    if (!st) sl_model_states(ws, a->x, a->r);
    const sl_cell_ops *cell = ws->cell;
    sl_real *tm = NULL;
    for (int i = 0; !st && cell && i < cell->n_records; i++) {
        const char *name = gate_name(cell->record_names[i]);
        if (!name || a->n_gates >= SL_ACTIVITY_MAX_GATES) continue;
        if (!tm && !(tm = malloc(rows * N * sizeof *tm))) {
            st = sl_fail(SL_ENOMEM, "activity: out of memory");
            break;
        }
        cell->record(&m->dims, ws->cws, B, T, i, tm); /* T×B×N */
        sl_real *g = malloc(rows * N * sizeof *g);
        if (!g) {
            st = sl_fail(SL_ENOMEM, "activity: out of memory");
            break;
        }
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                memcpy(g + ((size_t)b * T + t) * N, tm + ((size_t)t * B + b) * N, N * sizeof *g);
        snprintf(a->gate_names[a->n_gates], sizeof a->gate_names[0], "%s", name);
        a->gates[a->n_gates++] = g;
    }
    free(tm);
    sl_workspace_free(ws);
    if (!st)
        for (size_t i = 0; i < rows * sp->n_out; i++)
            if (!isfinite(a->z[i])) {
                st = sl_fail(SL_ENUMERIC, "activity: the network's output is not finite (trial %zu, "
                                          "step %zu)", i / ((size_t)T * sp->n_out), (i / sp->n_out) % T);
                break;
            }
    if (st) sl_activity_free(a);
    return st;
}

void sl_noisy_trials(const sl_real *u, int C, int T, int n_in, int K, double sigma, sl_rng *rng,
                     sl_real *out, int *cond)
{
    const size_t row = (size_t)T * n_in;
    for (int k = 0; k < K; k++) {
        const int c = k % C;
        if (cond) cond[k] = c;
        for (size_t i = 0; i < row; i++)
            out[(size_t)k * row + i] = u[(size_t)c * row + i] + (sl_real)(sigma * sl_rng_normal(rng));
    }
}

sl_status sl_an_noisy_activity(sl_model *m, const sl_trialset *s, int K, double sigma,
                               uint64_t seed, int *cond, sl_real *u, sl_activity *act)
{
    memset(act, 0, sizeof *act);
    sl_real *own = u ? NULL : malloc((size_t)K * s->T * s->n_in * sizeof *own);
    if (!u && !(u = own)) return sl_fail(SL_ENOMEM, "activity: out of memory for %d noisy trials", K);
    sl_rng rng, noise;
    sl_rng_seed_stream(&rng, seed, 0x61637476ULL);
    sl_rng_seed_stream(&noise, seed, 0x6e6f6973ULL);
    sl_noisy_trials(s->u, s->C, s->T, s->n_in, K, sigma, &rng, u, cond);
    sl_status st = sl_activity_run(m, u, K, s->T, &noise, act);
    free(own);
    return st;
}

sl_status sl_psth(const sl_real *r, int K, int T, int N, const int *group, int n_groups,
                  double *out, int *count)
{
    for (int k = 0; k < K; k++)
        if (group[k] < 0 || group[k] >= n_groups)
            return sl_fail(SL_EINVAL, "psth: trial %d has group %d, outside [0, %d)", k, group[k],
                           n_groups);
    const size_t TN = (size_t)T * N;
    memset(out, 0, (size_t)n_groups * TN * sizeof *out);
    memset(count, 0, (size_t)n_groups * sizeof *count);
    for (int k = 0; k < K; k++) {
        double *o = out + (size_t)group[k] * TN;
        const sl_real *x = r + (size_t)k * TN;
        for (size_t i = 0; i < TN; i++) o[i] += x[i];
        count[group[k]]++;
    }
    for (int g = 0; g < n_groups; g++)
        for (size_t i = 0; i < TN; i++) out[(size_t)g * TN + i] = count[g] ? out[(size_t)g * TN + i] / count[g] : NAN;
    return SL_OK;
}

/* ------------------------------------------------------------------ runner */

/* conditions.json / trials.json: each trial's variables */
static cJSON *trial_json(const sl_trialset *s, int c, int index_name)
{
    cJSON *o = cJSON_CreateObject();
    char label[256] = "";
    size_t used = 0;
    if (index_name) cJSON_AddNumberToObject(o, "condition_index", c);
    for (int v = 0; v < s->n_vars; v++) {
        double x = s->vars[(size_t)c * SL_TRIALSET_MAX_VARS + v];
        if (isnan(x)) continue;
        cJSON_AddNumberToObject(o, s->var_names[v], x);
        if (used < sizeof label - 40)
            used += (size_t)snprintf(label + used, sizeof label - used, "%s%s=%g", used ? " " : "",
                                     s->var_names[v], x);
    }
    cJSON_AddStringToObject(o, "label", label);
    return o;
}

/* The grouping of trials into conditions for PSTHs: the variable "condition"
 * (else "ground_truth") as integers 0..G-1; 0 when there is none. */
static int group_var(const sl_trialset *s)
{
    int v = sl_trialset_var(s, "condition");
    return v >= 0 ? v : sl_trialset_var(s, "ground_truth");
}

sl_status sl_run_activity(sl_analysis_ctx *ctx)
{
    long K, seed;
    double sigma;
    sl_status st;
    if ((st = sl_an_opt_int(ctx, "trials", 20, 0, 100000, &K)) || (st = sl_an_opt_noise(ctx, &sigma)) ||
        (st = sl_an_opt_int(ctx, "seed", 1, 0, 0x7fffffffL, &seed)))
        return st;
    sl_trialset s;
    if ((st = sl_an_trialset(ctx, &s))) return st;
    const sl_model_spec *sp = sl_model_get_spec(ctx->model);
    const int C = s.C, T = s.T, NI = s.n_in, NO = s.n_out, N = sp->n_hidden;
    sl_activity a, na;
    memset(&na, 0, sizeof na);
    int *ncond = NULL;
    double *psth = NULL;
    int *pcount = NULL;
    cJSON *sum = cJSON_CreateObject(), *files = cJSON_CreateObject();
    st = sl_activity_run(ctx->model, s.u, C, T, NULL, &a);
    if (st) goto done;
    const char *dir = ctx->out_dir;
    int64_t sh[3] = {C, T, NI};
    if ((st = sl_an_write_f32(dir, "u.npy", 3, sh, s.u))) goto done;
    cJSON_AddStringToObject(files, "u.npy", "C x T x n_in inputs, float32");
    if (s.classification) {
        int32_t *l = malloc((size_t)C * T * sizeof *l);
        if (!l) {
            st = sl_fail(SL_ENOMEM, "activity: out of memory");
            goto done;
        }
        for (size_t i = 0; i < (size_t)C * T; i++) l[i] = s.labels[i];
        st = sl_an_write_i32(dir, "labels.npy", 2, sh, l);
        free(l);
        if (st) goto done;
        cJSON_AddStringToObject(files, "labels.npy", "C x T target class labels, int32");
    } else {
        sh[2] = NO;
        if ((st = sl_an_write_f32(dir, "y.npy", 3, sh, s.y))) goto done;
        cJSON_AddStringToObject(files, "y.npy", "C x T x n_out targets, float32");
    }
    sh[2] = NO;
    if ((st = sl_an_write_f32(dir, "z.npy", 3, sh, a.z))) goto done;
    cJSON_AddStringToObject(files, "z.npy", "C x T x n_out network outputs, float32");
    sh[2] = N;
    if ((st = sl_an_write_f32(dir, "x.npy", 3, sh, a.x)) || (st = sl_an_write_f32(dir, "r.npy", 3, sh, a.r)))
        goto done;
    cJSON_AddStringToObject(files, "x.npy", sp->cell == SL_CELL_CTRNN ? "C x T x N states x_t, float32"
                                                                       : "C x T x N hidden outputs h_t, float32");
    cJSON_AddStringToObject(files, "r.npy", sp->cell == SL_CELL_CTRNN ? "C x T x N rates phi(x_t), float32"
                                                                       : "C x T x N hidden outputs h_t (r = h), float32");
    for (int g = 0; g < a.n_gates; g++) {
        char name[48];
        snprintf(name, sizeof name, "%s.npy", a.gate_names[g]);
        if ((st = sl_an_write_f32(dir, name, 3, sh, a.gates[g]))) goto done;
        cJSON_AddStringToObject(files, name, "C x T x N gate trace, float32");
    }
    double *time = malloc((size_t)T * sizeof *time);
    if (!time) {
        st = sl_fail(SL_ENOMEM, "activity: out of memory");
        goto done;
    }
    /* step t of every array (u_t, y_t, z_t, and x, r after u_t) at (t − t_zero)·dt */
    for (int t = 0; t < T; t++) time[t] = (t - s.t_zero) * s.dt_ms / 1000.0;
    int64_t tsh[1] = {T};
    st = sl_an_write_f64(dir, "time.npy", 1, tsh, time);
    free(time);
    if (st) goto done;
    cJSON_AddStringToObject(files, "time.npy", "T seconds relative to time_zero, float64");
    cJSON *conds = cJSON_CreateArray();
    for (int c = 0; c < C; c++) cJSON_AddItemToArray(conds, trial_json(&s, c, 1));
    st = sl_an_write_json(dir, "conditions.json", conds);
    cJSON_Delete(conds);
    if (st) goto done;
    cJSON_AddStringToObject(files, "conditions.json", "per condition its trial variables and a label");

    /* single noisy trials */
    if (K > 0) {
        if (!(ncond = malloc((size_t)K * sizeof *ncond))) {
            st = sl_fail(SL_ENOMEM, "activity: out of memory for %ld noisy trials", K);
            goto done;
        }
        if ((st = sl_an_noisy_activity(ctx->model, &s, (int)K, sigma, (uint64_t)seed, ncond, NULL, &na)))
            goto done;
        int64_t ksh[3] = {K, T, N};
        if ((st = sl_an_write_f32(dir, "trials_r.npy", 3, ksh, na.r))) goto done;
        cJSON_AddStringToObject(files, "trials_r.npy", "K x T x N rates of single noisy trials, float32");
        cJSON *tr = cJSON_CreateArray();
        for (int k = 0; k < K; k++) cJSON_AddItemToArray(tr, trial_json(&s, ncond[k], 1));
        st = sl_an_write_json(dir, "trials.json", tr);
        cJSON_Delete(tr);
        if (st) goto done;
        cJSON_AddStringToObject(files, "trials.json", "per noisy trial its condition and variables");
    }

    /* condition-averaged PSTHs over the noisy trials (or the conditions) */
    const int gv = group_var(&s);
    if (gv >= 0) {
        const int n = K > 0 ? (int)K : C;
        int G = 0, *grp = malloc((size_t)n * sizeof *grp);
        if (!grp) {
            st = sl_fail(SL_ENOMEM, "activity: out of memory");
            goto done;
        }
        for (int k = 0; k < n; k++) {
            double v = s.vars[(size_t)(K > 0 ? ncond[k] : k) * SL_TRIALSET_MAX_VARS + gv];
            grp[k] = (isfinite(v) && v >= 0 && v < 100000) ? (int)v : 0;
            if (grp[k] + 1 > G) G = grp[k] + 1;
        }
        psth = malloc((size_t)G * T * N * sizeof *psth);
        pcount = malloc((size_t)G * sizeof *pcount);
        if (!psth || !pcount) st = sl_fail(SL_ENOMEM, "activity: out of memory");
        if (!st) st = sl_psth(K > 0 ? na.r : a.r, n, T, N, grp, G, psth, pcount);
        free(grp);
        int64_t psh[3] = {G, T, N};
        if (!st) st = sl_an_write_f64(dir, "psth.npy", 3, psh, psth);
        if (st) goto done;
        char what[160];
        snprintf(what, sizeof what, "G x T x N mean rate per %s over the %s, float64",
                 s.var_names[gv], K > 0 ? "noisy trials" : "conditions");
        cJSON_AddStringToObject(files, "psth.npy", what);
    }

    cJSON_AddStringToObject(sum, "analysis", "activity");
    cJSON_AddNumberToObject(sum, "conditions", C);
    cJSON_AddNumberToObject(sum, "steps", T);
    cJSON_AddNumberToObject(sum, "dt_ms", s.dt_ms);
    cJSON_AddStringToObject(sum, "time_zero", s.time_zero);
    cJSON_AddNumberToObject(sum, "time_zero_step", s.t_zero);
    cJSON_AddNumberToObject(sum, "noisy_trials", (double)K);
    cJSON_AddNumberToObject(sum, "noise", sigma);
    cJSON_AddNumberToObject(sum, "seed", (double)seed);
    cJSON_AddNumberToObject(sum, "sigma_rec", sp->sigma_rec);
    {
        double mr = 0, mx = 0;
        for (size_t i = 0; i < (size_t)C * T * N; i++) {
            mr += a.r[i];
            if (a.r[i] > mx) mx = a.r[i];
        }
        cJSON_AddNumberToObject(sum, "mean_rate", mr / ((double)C * T * N));
        cJSON_AddNumberToObject(sum, "max_rate", mx);
    }
    cJSON_AddItemToObject(sum, "files", files);
    files = NULL;
    st = sl_an_write_json(dir, "summary.json", sum);
done:
    cJSON_Delete(sum);
    cJSON_Delete(files);
    sl_activity_free(&a);
    sl_activity_free(&na);
    free(ncond);
    free(psth);
    free(pcount);
    sl_trialset_free(&s);
    return st;
}
