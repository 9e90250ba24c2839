/* relu.c — the rectifier as a layer (F.relu), elementwise over any layout:
 *
 *   y = max(x, 0)        dx = dy ⊙ [y > 0]
 *
 * The backward reads the forward's output, so the forward may overwrite its
 * input (y = x); the subgradient at 0 is 0, as PyTorch's threshold_backward.
 * (Cells use act.h's scalar sl_act_value/sl_act_deriv inside their fused
 * loops; this is the standalone pass between conv/linear layers.)
 *
 * The loops run in blocks of 16 copied through local arrays: no aliasing
 * for the compiler to fear (dx may be dy), a fixed trip count that GCC's -O2
 * (very-cheap) vectoriser accepts, and branch-free selects (a branch on the
 * sign of activations mispredicts half the time). */
#include <string.h>

#include "nn/layers.h"

void sl_relu_forward(const sl_real *x, sl_real *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        sl_real a[16];
        memcpy(a, x + i, sizeof a);
        for (int j = 0; j < 16; j++) a[j] = a[j] > 0 ? a[j] : 0;
        memcpy(y + i, a, sizeof a);
    }
    for (; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

void sl_relu_backward(const sl_real *y, const sl_real *dy, sl_real *dx, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        sl_real a[16], g[16];
        memcpy(a, y + i, sizeof a);
        memcpy(g, dy + i, sizeof g);
        for (int j = 0; j < 16; j++) g[j] = a[j] > 0 ? g[j] : 0;
        memcpy(dx + i, g, sizeof g);
    }
    for (; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
}
