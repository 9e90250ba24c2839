/* xent.c — softmax cross-entropy over classes for a batch of logits
 * (F.cross_entropy(Z, y), reduction='mean', ignore_index for y < 0):
 *
 *   p_b = softmax(Z_b),   L = (1/n) Σ_{b: y_b ≥ 0} [logsumexp(Z_b) − Z_{b,y_b}]
 *   ∂L/∂Z_b = (p_b − onehot(y_b)) / n   (0 on ignored rows)
 *
 * with n the number of kept rows; logsumexp is taken around the row maximum
 * (in double), so large logits neither overflow nor lose the small terms.
 * Layout: Z, dZ B×C row-major; y B. */
#include <math.h>

#include "nn/layers.h"

sl_status sl_softmax_xent(int B, int C, const sl_real *Z, const int *y, double *loss,
                          sl_real *dZ, int *n_correct)
{
    if (B < 0 || C < 1) return sl_fail(SL_EINVAL, "cross-entropy: B %d, C %d", B, C);
    int n = 0, correct = 0;
    for (int r = 0; r < B; r++) {
        if (y[r] >= C)
            return sl_fail(SL_EINVAL, "cross-entropy: label %d of row %d is not below %d classes",
                           y[r], r, C);
        if (y[r] >= 0) n++;
    }
    double sum = 0;
    for (int r = 0; r < B; r++) {
        const sl_real *z = Z + (size_t)r * C;
        sl_real *d = dZ ? dZ + (size_t)r * C : NULL;
        if (y[r] < 0) {
            if (d)
                for (int k = 0; k < C; k++) d[k] = 0;
            continue;
        }
        int am = 0;
        double m = z[0];
        for (int k = 0; k < C; k++) {
            if (!isfinite((double)z[k]))
                return sl_fail(SL_ENUMERIC, "cross-entropy: logit %d of row %d is not finite", k, r);
            if (z[k] > m) m = z[k], am = k;
        }
        double se = 0;
        for (int k = 0; k < C; k++) se += exp((double)z[k] - m);
        const double lse = m + log(se);
        sum += lse - (double)z[y[r]];
        correct += am == y[r];
        if (d) {
            const double inv = 1.0 / n;
            for (int k = 0; k < C; k++)
                d[k] = (sl_real)((exp((double)z[k] - lse) - (k == y[r])) * inv);
        }
    }
    if (loss) *loss = n ? sum / n : 0;
    if (n_correct) *n_correct = correct;
    return SL_OK;
}
