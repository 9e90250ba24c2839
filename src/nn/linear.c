/* linear.c — the fully connected layer (torch.nn.Linear) over a batch:
 *
 *   Y = X Wᵀ + b                     X B×in, W out×in, b out, Y B×out
 *   dX = dY W      dW += dYᵀ X      db += Σ_rows dY
 *
 * Each is one GEMM over the whole batch. A flattened NCHW feature map is a
 * valid X as it lies in memory (see layers.h). Init as nn.Linear's
 * reset_parameters: kaiming_uniform_(W, a=√5) = U(±1/√in), b ~ U(±1/√in). */
#include <math.h>

#include "core/blas.h"
#include "nn/layers.h"

void sl_linear_init(int in, int out, sl_real *W, sl_real *b, sl_rng *rng)
{
    const double bound = 1.0 / sqrt((double)in);
    for (size_t i = 0; i < (size_t)out * in; i++)
        W[i] = (sl_real)((2 * sl_rng_uniform(rng) - 1) * bound);
    if (b)
        for (int o = 0; o < out; o++) b[o] = (sl_real)((2 * sl_rng_uniform(rng) - 1) * bound);
}

void sl_linear_forward(int B, int in, int out, const sl_real *X, const sl_real *W,
                       const sl_real *b, sl_real *Y)
{
    for (int r = 0; r < B; r++)
        for (int o = 0; o < out; o++) Y[(size_t)r * out + o] = b ? b[o] : 0;
    sl_gemm(0, 1, B, out, in, 1.0, X, in, W, in, 1.0, Y, out);
}

void sl_linear_backward(int B, int in, int out, const sl_real *X, const sl_real *W,
                        const sl_real *dY, sl_real *dX, sl_real *dW, sl_real *db)
{
    if (dX) sl_gemm(0, 0, B, in, out, 1.0, dY, out, W, in, 0.0, dX, in);
    if (dW) sl_gemm(1, 0, out, in, B, 1.0, dY, out, X, in, 1.0, dW, in);
    if (db)
        for (int r = 0; r < B; r++)
            for (int o = 0; o < out; o++) db[o] += dY[(size_t)r * out + o];
}
