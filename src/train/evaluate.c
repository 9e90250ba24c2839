/* evaluate.c — a model's error on a split of a task, in % of the null model.
 *
 *   mse       = Σ mask·(z − y)² / Σ mask                  over every batch of the split
 *   null mse  = Σ mask·(y − ȳ_o)² / Σ mask,  ȳ_o = the masked mean of output o over the split
 *   error %   = 100 · mse / null mse
 *
 * The null model is the seed tutorial's max_error: a constant output per
 * channel. Two passes over the split's batches: channel means, then errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "train/train.h"

sl_status sl_evaluate_ws(sl_model *m, sl_workspace *ws, sl_task *t, sl_split split, sl_rng *noise,
                         double *mse, double *error_pct)
{
    *mse = NAN;
    *error_pct = NAN;
    int nb = t->ops->num_batches(t, split);
    if (nb <= 0) return SL_OK;
    const int O = t->n_out;
    double *sum = calloc((size_t)O * 3, sizeof(double));
    if (!sum) return sl_fail(SL_ENOMEM, "evaluate: out of memory");
    double *cnt = sum + O, *mean = sum + 2 * O;
    sl_rng order;
    sl_rng_seed(&order, 0);
    sl_status st = t->ops->start_epoch(t, split, &order);
    sl_batch b;
    for (int i = 0; !st && i < nb; i++) {
        if ((st = t->ops->batch(t, split, i, NULL, &b))) break;
        size_t rows = (size_t)b.B * b.T;
        for (size_t r = 0; r < rows; r++)
            for (int o = 0; o < O; o++) {
                double w = b.mask ? b.mask[r * O + o] : 1.0;
                sum[o] += w * b.y[r * O + o];
                cnt[o] += w;
            }
    }
    for (int o = 0; o < O; o++) mean[o] = cnt[o] > 0 ? sum[o] / cnt[o] : 0;
    double se = 0, se_null = 0, wsum = 0;
    sl_real *z = NULL;
    if (!st) {
        z = malloc((size_t)t->max_batch * t->T * O * sizeof(sl_real));
        if (!z) st = sl_fail(SL_ENOMEM, "evaluate: out of memory");
    }
    for (int i = 0; !st && i < nb; i++) {
        if ((st = t->ops->batch(t, split, i, NULL, &b))) break;
        if ((st = sl_model_forward(m, ws, b.u, b.B, b.T, noise, z))) break;
        size_t rows = (size_t)b.B * b.T;
        for (size_t r = 0; r < rows; r++)
            for (int o = 0; o < O; o++) {
                double w = b.mask ? b.mask[r * O + o] : 1.0, y = b.y[r * O + o];
                double d = z[r * O + o] - y, dn = y - mean[o];
                se += w * d * d;
                se_null += w * dn * dn;
                wsum += w;
            }
    }
    free(z);
    free(sum);
    if (st) return st;
    if (wsum > 0) {
        *mse = se / wsum;
        *error_pct = se_null > 0 ? 100.0 * se / se_null : NAN;
    }
    if (!isfinite(*mse))
        return sl_fail(SL_ENUMERIC, "evaluation: the model's output is not finite");
    return SL_OK;
}

sl_status sl_evaluate(sl_model *m, sl_task *t, sl_split split, sl_rng *noise, double *mse,
                      double *error_pct)
{
    sl_workspace *ws = NULL;
    sl_status st = sl_workspace_create(m, t->max_batch, t->T, &ws);
    if (st) return st;
    st = sl_evaluate_ws(m, ws, t, split, noise, mse, error_pct);
    sl_workspace_free(ws);
    return st;
}
