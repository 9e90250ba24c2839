/* perturb.c — robustness of a trained network to perturbation (the seed
 * tutorial's Section 4, Sussillo et al. 2015), plus unit ablation and
 * synapse deletion.
 *
 *   input     u'_{b,t,c} = u_{b,t,c} + ξ_{b,c} · s · ‖u_{b,t,:}‖₂,  ξ_{b,c} ~ U[0,1)
 *             (one draw per trial and channel, held over time: the tutorial's
 *             torch.rand(B, 1, C) · strength · torch.norm(inputs, dim=-1))
 *   weight    M' = M + N(0, (f · mean|M|)²) for each recurrent matrix M
 *   synapse   a random fraction f of M's entries set to 0
 *   ablation  a random fraction f of the units silenced (outgoing recurrent
 *             columns and readout columns zeroed: their rate, as seen by the
 *             rest of the network and the output, is 0)
 *   error     100 · MSE / null MSE (regression; null = each output's mean over
 *             the trials, the tutorial's max_error), or the % of scored decisions
 *             (sl_batch.decision; without any, of masked steps) whose argmax
 *             output is not the label (classification)
 * Each level is repeated `repeats` times with fresh draws; the runner reports
 * mean ± sd (numpy's std, ddof 0, as the tutorial) over the repeats.
 *
 * Speed: the input perturbation runs all repeats of a strength as one batch
 * (repeats × trials rows, chunked to at most 4096 rows); the others need one
 * forward of the trials per draw (the weights differ). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

#define MAX_ROWS 4096

static int is_recurrent(const char *name)
{
    return !strcmp(name, "J") || !strcmp(name, "weight_hh") || !strcmp(name, "U_z") ||
           !strcmp(name, "U_h");
}

/* error of trials [0, nb) whose outputs are z, against data rows b0.. */
static void accumulate(const sl_batch *d, const sl_real *z, int b0, int nb, double *se, double *w)
{
    const int T = d->T, O = d->n_out;
    for (int b = 0; b < nb; b++)
        for (int t = 0; t < T; t++) {
            const size_t dr = (size_t)(b0 + b) * T + t;
            const sl_real *zr = z + ((size_t)b * T + t) * O;
            if (d->labels) {
                double m = d->decision ? d->decision[dr] : d->mask ? d->mask[dr] : 1.0;
                if (m <= 0) continue;
                int best = 0;
                for (int o = 1; o < O; o++)
                    if (zr[o] > zr[best]) best = o;
                *se += best != d->labels[dr];
                *w += 1;
            } else {
                for (int o = 0; o < O; o++) {
                    double m = d->mask ? d->mask[dr * O + o] : 1.0, e = zr[o] - d->y[dr * O + o];
                    *se += m * e * e;
                    *w += m;
                }
            }
        }
}

static double to_pct(const sl_batch *d, double se, double w, double null_mse)
{
    if (!(w > 0)) return NAN;
    return d->labels ? 100.0 * se / w : 100.0 * (se / w) / null_mse;
}

static sl_status check(const sl_model *m, const sl_batch *d, double null_mse)
{
    const sl_model_spec *sp = sl_model_get_spec(m);
    if (!d || !d->u || d->B < 1 || d->T < 1)
        return sl_fail(SL_EINVAL, "perturb: no trials (need at least one trial of one step)");
    if (d->n_in != sp->n_in || d->n_out != sp->n_out)
        return sl_fail(SL_EINVAL, "perturb: the trials have %d inputs / %d outputs, the network %d / %d",
                       d->n_in, d->n_out, sp->n_in, sp->n_out);
    if (!d->y && !d->labels) return sl_fail(SL_EINVAL, "perturb: the trials have neither targets nor labels");
    if (!d->labels && !(null_mse > 0 && isfinite(null_mse)))
        return sl_fail(SL_EINVAL, "perturb: the null model's MSE must be positive and finite, got %g "
                                  "(constant targets?)", null_mse);
    const size_t n = (size_t)d->B * d->T * d->n_in;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(d->u[i])) return sl_fail(SL_ENUMERIC, "perturb: input u[%zu] is not finite", i);
    return SL_OK;
}

/* forward of rows trials of u; error against data rows b0.. added to se, w */
static sl_status run_rows(sl_model *m, sl_workspace *ws, const sl_batch *d, const sl_real *u, int rows,
                          int b0, sl_real *z, double *se, double *w)
{
    sl_status st = sl_model_forward(m, ws, u, rows, d->T, NULL, z);
    if (!st) accumulate(d, z, b0, rows, se, w);
    return st;
}

double sl_perturb_error(sl_model *m, const sl_batch *d, double null_mse)
{
    double e = NAN;
    sl_perturb(m, d, null_mse, SL_PERTURB_INPUT, (const double[]){0}, 1, 1, 0, &e);
    return e;
}

/* the unperturbed trials' error with the model as it is now */
static sl_status plain_error(sl_model *m, sl_workspace *ws, const sl_batch *d, double null_mse,
                             sl_real *z, double *err)
{
    double se = 0, w = 0;
    sl_status st = SL_OK;
    for (int b0 = 0; !st && b0 < d->B; b0 += MAX_ROWS) {
        int rows = d->B - b0 < MAX_ROWS ? d->B - b0 : MAX_ROWS;
        st = run_rows(m, ws, d, d->u + (size_t)b0 * d->T * d->n_in, rows, b0, z, &se, &w);
    }
    *err = to_pct(d, se, w, null_mse);
    return st;
}

/* zero unit j's outgoing weights in every recurrent matrix and the readout */
static void silence(sl_model *m, int j)
{
    const int N = sl_model_get_spec(m)->n_hidden;
    sl_real *p = sl_model_params(m);
    for (int i = 0; i < sl_model_num_tensors(m); i++) {
        const sl_param_info *t = sl_model_tensor(m, i);
        if (t->ndim != 2 || t->shape[1] != N || !(is_recurrent(t->name) || !strcmp(t->name, "W"))) continue;
        for (int64_t r = 0; r < t->shape[0]; r++) p[t->offset + (size_t)r * N + j] = 0;
    }
}

sl_status sl_perturb(sl_model *m, const sl_batch *d, double null_mse, sl_perturb_kind kind,
                     const double *levels, int n_levels, int repeats, uint64_t seed, double *err)
{
    sl_status st = check(m, d, null_mse);
    if (st) return st;
    if (n_levels < 1 || repeats < 1)
        return sl_fail(SL_EINVAL, "perturb: need at least one level and one repeat (got %d, %d)",
                       n_levels, repeats);
    for (int i = 0; i < n_levels; i++)
        if (!(levels[i] >= 0 && isfinite(levels[i])) ||
            (kind != SL_PERTURB_INPUT && kind != SL_PERTURB_WEIGHT && levels[i] > 1))
            return sl_fail(SL_EINVAL, "perturb: level %g must be %s", levels[i],
                           kind == SL_PERTURB_INPUT || kind == SL_PERTURB_WEIGHT ? ">= 0 and finite"
                                                                                 : "a fraction in [0, 1]");
    const int T = d->T, NI = d->n_in, NO = d->n_out, B = d->B;
    const int N = sl_model_get_spec(m)->n_hidden;
    const size_t np = sl_model_num_params(m);
    sl_real *params = sl_model_params(m);
    const int rows_max = kind == SL_PERTURB_INPUT ? (repeats * B < MAX_ROWS ? repeats * B : MAX_ROWS)
                                                  : (B < MAX_ROWS ? B : MAX_ROWS);
    sl_workspace *ws = NULL;
    sl_real *saved = malloc(np * sizeof *saved);
    sl_real *z = malloc((size_t)rows_max * T * NO * sizeof *z);
    sl_real *up = kind == SL_PERTURB_INPUT ? malloc((size_t)rows_max * T * NI * sizeof *up) : NULL;
    double *xi = kind == SL_PERTURB_INPUT ? malloc((size_t)NI * sizeof *xi) : NULL;
    double *norm = kind == SL_PERTURB_INPUT ? malloc((size_t)B * T * sizeof *norm) : NULL;
    int *perm = malloc((size_t)(N > 1 ? N : 1) * sizeof *perm);
    if (!saved || !z || !perm || (kind == SL_PERTURB_INPUT && (!up || !xi || !norm)))
        st = sl_fail(SL_ENOMEM, "perturb: out of memory");
    if (!st) st = sl_workspace_create(m, rows_max, T, &ws);
    if (st) goto done;
    memcpy(saved, params, np * sizeof *saved);
    if (kind == SL_PERTURB_INPUT)
        for (size_t r = 0; r < (size_t)B * T; r++) {
            double s = 0;
            for (int c = 0; c < NI; c++) s += (double)d->u[r * NI + c] * d->u[r * NI + c];
            norm[r] = sqrt(s);
        }
    for (int li = 0; !st && li < n_levels; li++) {
        const double lv = levels[li];
        if (kind == SL_PERTURB_INPUT) {
            /* repeats × trials rows, in chunks of whole trials */
            const long total = (long)repeats * B;
            double *se = calloc((size_t)repeats, sizeof *se), *w = calloc((size_t)repeats, sizeof *w);
            if (!se || !w) st = sl_fail(SL_ENOMEM, "perturb: out of memory");
            sl_rng rng;
            for (long r0 = 0; !st && r0 < total; r0 += rows_max) {
                const int rows = (int)(total - r0 < rows_max ? total - r0 : rows_max);
                for (int k = 0; k < rows; k++) {
                    const long g = r0 + k;
                    const int rep = (int)(g / B), b = (int)(g % B);
                    if (b == 0 || k == 0) sl_rng_seed_stream(&rng, seed, ((uint64_t)li << 32) | (uint64_t)rep);
                    if (k == 0 && b > 0) /* resume the repeat's stream at trial b */
                        for (long q = 0; q < (long)b * NI; q++) sl_rng_uniform(&rng);
                    for (int c = 0; c < NI; c++) xi[c] = sl_rng_uniform(&rng);
                    for (int t = 0; t < T; t++) {
                        const size_t src = (size_t)b * T + t;
                        sl_real *o = up + ((size_t)k * T + t) * NI;
                        for (int c = 0; c < NI; c++)
                            o[c] = (sl_real)(d->u[src * NI + c] + xi[c] * lv * norm[src]);
                    }
                }
                if ((st = sl_model_forward(m, ws, up, rows, T, NULL, z))) break;
                /* split the chunk's errors by repeat */
                for (int k = 0; k < rows;) {
                    const long g = r0 + k;
                    const int rep = (int)(g / B), b = (int)(g % B);
                    int n = B - b;
                    if (n > rows - k) n = rows - k;
                    accumulate(d, z + (size_t)k * T * NO, b, n, &se[rep], &w[rep]);
                    k += n;
                }
            }
            for (int rep = 0; !st && rep < repeats; rep++)
                err[(size_t)li * repeats + rep] = to_pct(d, se[rep], w[rep], null_mse);
            free(se);
            free(w);
            continue;
        }
        for (int rep = 0; !st && rep < repeats; rep++) {
            sl_rng rng;
            sl_rng_seed_stream(&rng, seed, ((uint64_t)(li + 1) << 40) | ((uint64_t)kind << 32) | (uint64_t)rep);
            if (kind == SL_PERTURB_ABLATE) {
                const int k = (int)floor(lv * N + 0.5);
                for (int i = 0; i < N; i++) perm[i] = i;
                sl_rng_shuffle(&rng, perm, N);
                for (int i = 0; i < k; i++) silence(m, perm[i]);
            } else {
                for (int i = 0; i < sl_model_num_tensors(m); i++) {
                    const sl_param_info *t = sl_model_tensor(m, i);
                    if (!is_recurrent(t->name)) continue;
                    sl_real *M = params + t->offset;
                    if (kind == SL_PERTURB_WEIGHT) {
                        double ma = 0;
                        for (size_t e = 0; e < t->numel; e++) ma += fabs((double)M[e]);
                        const double sd = lv * ma / (double)t->numel;
                        for (size_t e = 0; e < t->numel; e++) M[e] += (sl_real)(sd * sl_rng_normal(&rng));
                    } else {
                        for (size_t e = 0; e < t->numel; e++)
                            if (sl_rng_uniform(&rng) < lv) M[e] = 0;
                    }
                }
            }
            st = plain_error(m, ws, d, null_mse, z, &err[(size_t)li * repeats + rep]);
            memcpy(params, saved, np * sizeof *saved);
        }
    }
done:
    if (saved && ws) memcpy(params, saved, np * sizeof *saved);
    sl_workspace_free(ws);
    free(saved);
    free(z);
    free(up);
    free(xi);
    free(norm);
    free(perm);
    return st;
}

sl_status sl_perturb_ablate_units(sl_model *m, const sl_batch *d, double null_mse, const int *units,
                                  int n_units, double *err)
{
    sl_status st = check(m, d, null_mse);
    if (st) return st;
    const int N = sl_model_get_spec(m)->n_hidden;
    for (int i = 0; i < n_units; i++)
        if (units[i] < 0 || units[i] >= N)
            return sl_fail(SL_EINVAL, "perturb: unit %d to silence is outside [0, %d)", units[i], N);
    const size_t np = sl_model_num_params(m);
    sl_real *params = sl_model_params(m), *saved = malloc(np * sizeof *saved);
    const int rows = d->B < MAX_ROWS ? d->B : MAX_ROWS;
    sl_real *z = malloc((size_t)rows * d->T * d->n_out * sizeof *z);
    sl_workspace *ws = NULL;
    if (!saved || !z) st = sl_fail(SL_ENOMEM, "perturb: out of memory");
    if (!st) st = sl_workspace_create(m, rows, d->T, &ws);
    if (!st) {
        memcpy(saved, params, np * sizeof *saved);
        for (int i = 0; i < n_units; i++) silence(m, units[i]);
        st = plain_error(m, ws, d, null_mse, z, err);
        memcpy(params, saved, np * sizeof *saved);
    }
    sl_workspace_free(ws);
    free(saved);
    free(z);
    return st;
}

/* ------------------------------------------------------------------ runner */

static cJSON *levels_json(const double *lv, int nl, const double *err, int reps)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < nl; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "strength", lv[i]);
        double m, sd;
        sl_an_mean_sd(err + (size_t)i * reps, reps, &m, &sd);
        cJSON_AddNumberToObject(o, "mean_error_pct", m);
        cJSON_AddNumberToObject(o, "sd_error_pct", sd);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

sl_status sl_run_perturb(sl_analysis_ctx *ctx)
{
    static const struct {
        const char *key, *opt, *def, *file, *what;
        sl_perturb_kind kind;
    } KINDS[] = {
        {"input", "input-strengths", "0.0125,0.025,0.05,0.1,0.2", "input.npy",
         "input noise: strengths x repeats error %", SL_PERTURB_INPUT},
        {"weight", "weight-fractions", "0.01,0.1,0.2,0.4,0.8", "weight.npy",
         "recurrent-weight noise: fractions x repeats error %", SL_PERTURB_WEIGHT},
        {"synapse", "delete-fractions", "0.05,0.1,0.2,0.4", "synapse.npy",
         "recurrent synapses deleted: fractions x repeats error %", SL_PERTURB_SYNAPSE},
        {"ablation", "ablate-fractions", "0.05,0.1,0.2,0.4", "ablation.npy",
         "units silenced: fractions x repeats error %", SL_PERTURB_ABLATE},
    };
    long repeats, seed;
    sl_status st;
    if ((st = sl_an_opt_int(ctx, "repeats", 30, 1, 100000, &repeats)) ||
        (st = sl_an_opt_int(ctx, "seed", 1, 0, 0x7fffffffL, &seed)))
        return st;
    double lv[4][32];
    int nl[4];
    for (int k = 0; k < 4; k++)
        if ((st = sl_an_opt_list(ctx, KINDS[k].opt, KINDS[k].def, lv[k], 32, &nl[k]))) return st;
    int units[4096], n_units = 0;
    const char *ul = sl_analysis_opt(ctx, "ablate-units");
    if (ul) {
        double v[4096];
        if ((st = sl_an_opt_list(ctx, "ablate-units", "", v, 4096, &n_units))) return st;
        for (int i = 0; i < n_units; i++) {
            if (v[i] != floor(v[i])) return sl_fail(SL_EINVAL, "--ablate-units: %g is not a unit index", v[i]);
            units[i] = (int)v[i];
        }
    }
    sl_trialset s;
    if ((st = sl_an_trialset(ctx, &s))) return st;
    sl_batch d;
    memset(&d, 0, sizeof d);
    d.B = s.C, d.T = s.T, d.n_in = s.n_in, d.n_out = s.n_out;
    d.u = s.u, d.y = s.y, d.mask = s.mask, d.labels = s.labels;
    if (s.decision)
        for (size_t i = 0; i < (size_t)s.C * s.T && !d.decision; i++)
            if (s.decision[i]) d.decision = s.decision;
    const double null_mse = s.classification ? NAN : sl_null_mse(s.y, s.mask, (size_t)s.C * s.T, s.n_out);
    cJSON *sum = cJSON_CreateObject(), *files = cJSON_CreateObject();
    double *err = malloc((size_t)32 * repeats * sizeof *err);
    double base = NAN;
    if (!err) st = sl_fail(SL_ENOMEM, "perturb: out of memory");
    if (!st) st = sl_perturb(ctx->model, &d, null_mse, SL_PERTURB_INPUT, (const double[]){0}, 1, 1, 0, &base);
    cJSON_AddStringToObject(sum, "analysis", "perturb");
    cJSON_AddStringToObject(sum, "error", s.classification ? (d.decision ? "% of scored decisions wrong"
                                                                          : "% of masked steps misclassified")
                                                           : "MSE as % of the null model's (each output's mean)");
    cJSON_AddNumberToObject(sum, "trials", s.C);
    cJSON_AddNumberToObject(sum, "repeats", (double)repeats);
    cJSON_AddNumberToObject(sum, "seed", (double)seed);
    if (isfinite(null_mse)) cJSON_AddNumberToObject(sum, "null_mse", null_mse);
    if (isfinite(base)) cJSON_AddNumberToObject(sum, "unperturbed_error_pct", base);
    for (int k = 0; !st && k < 4; k++) {
        if (ctx->progress) fprintf(ctx->progress, "    perturb: %s (%d levels x %ld)\n", KINDS[k].key, nl[k], repeats);
        st = sl_perturb(ctx->model, &d, null_mse, KINDS[k].kind, lv[k], nl[k], (int)repeats, (uint64_t)seed, err);
        if (st) break;
        int64_t sh[2] = {nl[k], repeats};
        if ((st = sl_an_write_f64(ctx->out_dir, KINDS[k].file, 2, sh, err))) break;
        cJSON_AddStringToObject(files, KINDS[k].file, KINDS[k].what);
        cJSON_AddItemToObject(sum, KINDS[k].key, levels_json(lv[k], nl[k], err, (int)repeats));
    }
    if (!st && n_units > 0) {
        double e;
        st = sl_perturb_ablate_units(ctx->model, &d, null_mse, units, n_units, &e);
        if (!st) {
            cJSON *o = cJSON_CreateObject(), *ua = cJSON_CreateArray();
            for (int i = 0; i < n_units; i++) cJSON_AddItemToArray(ua, cJSON_CreateNumber(units[i]));
            cJSON_AddItemToObject(o, "units", ua);
            cJSON_AddNumberToObject(o, "error_pct", e);
            cJSON_AddItemToObject(sum, "ablate_units", o);
        }
    }
    if (!st) {
        cJSON *opt = cJSON_CreateObject();
        for (int k = 0; k < 4; k++) {
            cJSON *a = cJSON_CreateArray();
            for (int i = 0; i < nl[k]; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(lv[k][i]));
            cJSON_AddItemToObject(opt, KINDS[k].opt, a);
        }
        cJSON_AddItemToObject(sum, "options", opt);
        cJSON_AddItemToObject(sum, "files", files);
        files = NULL;
        st = sl_an_write_json(ctx->out_dir, "summary.json", sum);
    }
    cJSON_Delete(sum);
    cJSON_Delete(files);
    free(err);
    sl_trialset_free(&s);
    return st;
}
