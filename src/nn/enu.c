/* enu.c — the ENU input stage (coursework eqs. 3–6, 15–17; see enu.h for how
 * a model combines it with a cell):
 *
 *   e_t = ReLU(W_e x_t + b_e),   e ∈ R^{N·k}, block i = unit i's embedding
 *   cell input matrices W = Ŵ ⊙ M,  M[g·N + i][i·k + c] = 1 (block diagonal)
 *
 * Backward (p = W_e x + b_e):  ∂p = ∂e ⊙ [e > 0],  ∂W_e = Σ_rows ∂pᵀ x,
 *   ∂b_e = Σ_rows ∂p,  ∂x = ∂p W_e.
 * All three products are GEMMs over the T·B rows. */
#include <string.h>
#include <math.h>

#include "core/blas.h"
#include "nn/enu.h"
#include "silico.h"

void sl_enu_init(const sl_enu_dims *e, sl_real *W_e, sl_real *b_e, sl_rng *rng)
{
    int K = sl_enu_width(e);
    double a = e->n_in > 0 ? 1.0 / sqrt((double)e->n_in) : 0;
    for (size_t i = 0; i < (size_t)K * e->n_in; i++)
        W_e[i] = (sl_real)(a * (2 * sl_rng_uniform(rng) - 1));
    for (int i = 0; i < K; i++) b_e[i] = (sl_real)(a * (2 * sl_rng_uniform(rng) - 1));
}

void sl_enu_forward(const sl_enu_dims *e, const sl_real *W_e, const sl_real *b_e,
                    const sl_real *U, int rows, sl_real *E)
{
    int K = sl_enu_width(e);
    if (rows <= 0 || K <= 0) return;
    for (int r = 0; r < rows; r++) memcpy(E + (size_t)r * K, b_e, (size_t)K * sizeof(sl_real));
    sl_gemm(0, 1, rows, K, e->n_in, 1, U, e->n_in, W_e, e->n_in, 1, E, K);
    for (size_t i = 0; i < (size_t)rows * K; i++) E[i] = E[i] > 0 ? E[i] : 0;
}

void sl_enu_backward(const sl_enu_dims *e, const sl_real *W_e, const sl_real *U, int rows,
                     const sl_real *E, sl_real *dE, sl_real *gW_e, sl_real *gb_e, sl_real *dU)
{
    int K = sl_enu_width(e), n_in = e->n_in;
    if (rows <= 0 || K <= 0) return;
    for (int r = 0; r < rows; r++) {
        const sl_real *er = E + (size_t)r * K;
        sl_real *dr = dE + (size_t)r * K;
        for (int i = 0; i < K; i++) {
            dr[i] = er[i] > 0 ? dr[i] : 0;
            gb_e[i] += dr[i];
        }
    }
    sl_gemm(1, 0, K, n_in, rows, 1, dE, K, U, n_in, 1, gW_e, n_in);
    if (dU) sl_gemm(0, 0, rows, n_in, K, 1, dE, K, W_e, n_in, 0, dU, n_in);
}

void sl_enu_block_mask(int G, int N, int k, sl_real *M)
{
    size_t K = (size_t)N * k;
    memset(M, 0, (size_t)G * N * K * sizeof(sl_real));
    for (int g = 0; g < G; g++)
        for (int i = 0; i < N; i++)
            for (int c = 0; c < k; c++) M[((size_t)g * N + i) * K + (size_t)i * k + c] = 1;
}

void sl_enu_mask_apply(size_t n, sl_real *W, const sl_real *M)
{
    for (size_t i = 0; i < n; i++) W[i] *= M[i];
}
