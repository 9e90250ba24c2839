/* loss.c — masked mean squared error:
 *
 *   L = Σ mask·(z − y)² / Σ mask,     ∂L/∂z = 2·mask·(z − y) / Σ mask
 *
 * over all B×T×n_out entries (mask NULL = all ones; an all-zero mask gives
 * L = 0). With a full mask this is PyTorch's F.mse_loss(z, y). */
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
