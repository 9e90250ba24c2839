/* loss.c — the output losses.
 *
 * Masked mean squared error (regression tasks):
 *   L = Σ m·(z − y)² / Σ m,                    ∂L/∂z = 2·m·(z − y) / Σ m
 * with a full mask this is PyTorch's F.mse_loss(z, y); an all-zero mask gives 0.
 *
 * Softmax cross-entropy (classification tasks), PyTorch's weighted mean:
 *   L = Σ m w_y (logsumexp(z) − z_y) / Σ m w_y,  ∂L/∂z = m w_y (softmax(z) − e_y) / Σ m w_y
 * with y the label, m the per-step mask and w the class weights.
 *
 * sl_mse_loss works on flat arrays; the _tm variants work on the time-major
 * outputs inside a workspace against a batch-major sl_batch. */
#include <math.h>

#include "nn/loss.h"
#include "silico.h"

double sl_mse_loss(const sl_real *z, const sl_real *y, const sl_real *mask, size_t n, sl_real *dz)
{
    double se = 0, msum = 0;
    for (size_t i = 0; i < n; i++) {
        double w = mask ? mask[i] : 1.0, d = (double)z[i] - y[i];
        se += w * d * d;
        msum += w;
    }
    if (dz) {
        double f = msum > 0 ? 2.0 / msum : 0;
        for (size_t i = 0; i < n; i++)
            dz[i] = (sl_real)(f * (mask ? mask[i] : 1.0) * ((double)z[i] - y[i]));
    }
    return msum > 0 ? se / msum : 0;
}

/* ------------------------------------------------ time-major, for sl_model_loss */

double sl_loss_mse_tm(const sl_real *Z, const sl_batch *b, sl_real *DZ)
{
    const int B = b->B, T = b->T, O = b->n_out;
    double se = 0, msum = 0;
    for (int t = 0; t < T; t++)
        for (int r = 0; r < B; r++) {
            size_t src = ((size_t)r * T + t) * O, dst = ((size_t)t * B + r) * O;
            for (int o = 0; o < O; o++) {
                double w = b->mask ? b->mask[src + o] : 1.0, d = (double)Z[dst + o] - b->y[src + o];
                se += w * d * d;
                msum += w;
                DZ[dst + o] = (sl_real)(w * d);
            }
        }
    sl_real f = msum > 0 ? (sl_real)(2.0 / msum) : 0;
    for (size_t i = 0; i < (size_t)T * B * O; i++) DZ[i] *= f;
    return msum > 0 ? se / msum : 0;
}

double sl_loss_ce_tm(const sl_real *Z, const sl_batch *b, const double *class_w, sl_real *DZ)
{
    const int B = b->B, T = b->T, O = b->n_out;
    double loss = 0, wsum = 0;
    for (int t = 0; t < T; t++)
        for (int r = 0; r < B; r++) {
            size_t step = (size_t)r * T + t, dst = ((size_t)t * B + r) * O;
            const sl_real *z = Z + dst;
            sl_real *dz = DZ + dst;
            int y = b->labels[step];
            double m = b->mask ? b->mask[step] : 1.0;
            if (y < 0 || y >= O || m == 0) {
                for (int o = 0; o < O; o++) dz[o] = 0;
                continue;
            }
            double w = m * (class_w ? class_w[y] : 1.0), zmax = z[0], se = 0;
            for (int o = 1; o < O; o++)
                if (z[o] > zmax) zmax = z[o];
            for (int o = 0; o < O; o++) se += exp((double)z[o] - zmax);
            double lse = zmax + log(se);
            loss += w * (lse - z[y]);
            wsum += w;
            for (int o = 0; o < O; o++) /* scaled by 1/wsum below */
                dz[o] = (sl_real)(w * (exp((double)z[o] - lse) - (o == y)));
        }
    sl_real f = wsum > 0 ? (sl_real)(1.0 / wsum) : 0;
    for (size_t i = 0; i < (size_t)T * B * O; i++) DZ[i] *= f;
    return wsum > 0 ? loss / wsum : 0;
}
