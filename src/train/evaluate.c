/* evaluate.c — a model's performance on a split of a task.
 *
 * Regression tasks:
 *   mse       = Σ m·(z − y)² / Σ m                      over every batch of the split
 *   null mse  = Σ m·(y − ȳ_o)² / Σ m,  ȳ_o = the masked mean of output o over the split
 *   error %   = 100 · mse / null mse
 * The null model is the seed tutorial's max_error: a constant output per
 * channel. Two passes over the split: channel means, then errors.
 *
 * Classification tasks:
 *   loss      = mean cross-entropy over masked steps (unweighted)
 *   accuracy  = fraction of scored decisions (sl_batch.decision) where the
 *               argmax of the output equals the label
 *
 * Any task may add its own score (sl_task_ops.score), e.g. ReadySetGo's
 * interval error or the Mante task's sign accuracy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "train/train.h"

static void clear_eval(sl_eval *e)
{
    e->loss = e->mse = e->error_pct = e->accuracy = e->score = NAN;
    e->n_decisions = 0;
}

/* Masked channel means of the split's targets (regression). */
static sl_status channel_means(sl_task *t, sl_split split, int nb, double *mean)
{
    const int O = t->n_out;
    double *acc = calloc((size_t)O * 2, sizeof(double));
    if (!acc) return sl_fail(SL_ENOMEM, "evaluate: out of memory");
    sl_status st = SL_OK;
    sl_batch b = {0};
    for (int i = 0; i < nb && !st; i++) {
        if ((st = t->ops->batch(t, split, i, NULL, &b))) break;
        for (size_t r = 0; r < (size_t)b.B * b.T; r++)
            for (int o = 0; o < O; o++) {
                double w = b.mask ? b.mask[r * O + o] : 1.0;
                acc[o] += w * b.y[r * O + o];
                acc[O + o] += w;
            }
    }
    for (int o = 0; o < O; o++) mean[o] = acc[O + o] > 0 ? acc[o] / acc[O + o] : 0;
    free(acc);
    return st;
}

sl_status sl_split_null_mse(sl_task *t, sl_split split, double *out)
{
    *out = NAN;
    int nb = t->ops->num_batches(t, split);
    if (nb <= 0) return SL_OK;
    const int O = t->n_out;
    double *mean = calloc((size_t)O, sizeof(double));
    if (!mean) return sl_fail(SL_ENOMEM, "evaluate: out of memory");
    sl_rng order;
    sl_rng_seed(&order, 0);
    sl_status st = t->ops->start_epoch(t, split, &order);
    if (!st) st = channel_means(t, split, nb, mean);
    double se = 0, wsum = 0;
    sl_batch b = {0};
    for (int i = 0; i < nb && !st; i++) {
        if ((st = t->ops->batch(t, split, i, NULL, &b))) break;
        for (size_t r = 0; r < (size_t)b.B * b.T; r++)
            for (int o = 0; o < O; o++) {
                double w = b.mask ? b.mask[r * O + o] : 1.0, d = b.y[r * O + o] - mean[o];
                se += w * d * d;
                wsum += w;
            }
    }
    free(mean);
    if (!st && wsum > 0) *out = se / wsum;
    return st;
}

sl_status sl_evaluate_full(sl_model *m, sl_workspace *ws, sl_task *t, sl_split split, sl_rng *noise,
                           sl_eval *e)
{
    clear_eval(e);
    int nb = t->ops->num_batches(t, split);
    if (nb <= 0) return SL_OK;
    const int O = t->n_out;
    sl_rng order;
    sl_rng_seed(&order, 0);
    sl_status st = t->ops->start_epoch(t, split, &order);
    if (st) return st;
    double *mean = calloc((size_t)O, sizeof(double));
    sl_real *z = malloc((size_t)t->max_batch * t->T * O * sizeof(sl_real));
    if (!mean || !z) st = sl_fail(SL_ENOMEM, "evaluate: out of memory");
    if (!st && !t->classification) st = channel_means(t, split, nb, mean);

    double se = 0, se_null = 0, wsum = 0, ce = 0, correct = 0, decisions = 0;
    double score_sum = 0, score_count = 0;
    sl_batch b = {0};
    for (int i = 0; !st && i < nb; i++) {
        if ((st = t->ops->batch(t, split, i, NULL, &b))) break;
        if ((st = sl_model_forward(m, ws, b.u, b.B, b.T, noise, z))) break;
        size_t steps = (size_t)b.B * b.T;
        if (!t->classification) {
            for (size_t r = 0; r < steps; r++)
                for (int o = 0; o < O; o++) {
                    double w = b.mask ? b.mask[r * O + o] : 1.0, y = b.y[r * O + o];
                    double d = z[r * O + o] - y, dn = y - mean[o];
                    se += w * d * d;
                    se_null += w * dn * dn;
                    wsum += w;
                }
        } else {
            for (size_t r = 0; r < steps; r++) {
                const sl_real *zr = z + r * O;
                int y = b.labels[r], best = 0;
                for (int o = 1; o < O; o++)
                    if (zr[o] > zr[best]) best = o;
                if (b.decision && b.decision[r]) {
                    decisions++;
                    correct += (best == y);
                }
                double w = b.mask ? b.mask[r] : 1.0;
                if (y < 0 || y >= O || w == 0) continue;
                double lse = 0;
                for (int o = 0; o < O; o++) lse += exp((double)zr[o] - zr[best]);
                ce += w * (zr[best] + log(lse) - zr[y]);
                wsum += w;
            }
        }
        if (t->ops->score) t->ops->score(t, split, i, z, &score_sum, &score_count);
    }
    free(z);
    free(mean);
    if (st) return st;
    if (!t->classification && wsum > 0) {
        e->mse = e->loss = se / wsum;
        e->error_pct = se_null > 0 ? 100.0 * se / se_null : NAN;
    }
    if (t->classification) {
        if (wsum > 0) e->loss = ce / wsum;
        if (decisions > 0) e->accuracy = correct / decisions;
        e->n_decisions = (long)decisions;
    }
    if (score_count > 0) e->score = score_sum / score_count;
    if (wsum > 0 && !isfinite(e->loss))
        return sl_fail(SL_ENUMERIC, "evaluation: the model's output is not finite");
    return SL_OK;
}

sl_status sl_evaluate_split(sl_model *m, sl_task *t, sl_split split, sl_rng *noise, sl_eval *out)
{
    sl_workspace *ws = NULL;
    sl_status st = sl_workspace_create(m, t->max_batch, t->T, &ws);
    if (st) return st;
    st = sl_evaluate_full(m, ws, t, split, noise, out);
    sl_workspace_free(ws);
    return st;
}

sl_status sl_evaluate(sl_model *m, sl_task *t, sl_split split, sl_rng *noise, double *mse,
                      double *error_pct)
{
    sl_eval e;
    sl_status st = sl_evaluate_split(m, t, split, noise, &e);
    *mse = e.mse;
    *error_pct = e.error_pct;
    return st;
}

/* A CNN on an image task's split: loss = mean cross-entropy over the
 * split's images, accuracy = fraction whose first-maximum logit is the
 * label (every image is one scored decision). */
sl_status sl_cnn_evaluate(sl_cnn *m, sl_cnn_ws *ws, sl_task *t, sl_split split, sl_eval *e)
{
    clear_eval(e);
    int nb = t->ops->num_batches(t, split);
    if (nb <= 0) return SL_OK;
    sl_rng order;
    sl_rng_seed(&order, 0);
    sl_status st = t->ops->start_epoch(t, split, &order);
    double ce = 0;
    long n = 0, correct = 0;
    for (int i = 0; !st && i < nb; i++) {
        sl_batch b = {0};
        if ((st = t->ops->batch(t, split, i, NULL, &b))) break;
        double loss;
        int nc;
        if ((st = sl_cnn_loss(m, ws, b.u, b.labels, b.B, 0, &loss, &nc))) break;
        ce += loss * b.B;
        n += b.B;
        correct += nc;
    }
    if (st) return st;
    e->loss = ce / n;
    e->accuracy = (double)correct / n;
    e->n_decisions = n;
    return SL_OK;
}
