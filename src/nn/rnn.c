/* rnn.c — the vanilla discrete RNN (PyTorch's nn.RNN, one layer):
 *
 *   a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh,   h_t = f(a_t),   h_{−1} = 0
 *
 * f is any sl_activation (nn.RNN offers tanh and relu; rect_tanh, softplus
 * and sigmoid as in ctrnn.c / act.h). Outputs H[t] = h_t, t = 0..T−1.
 *
 * Backward (row vectors, δ_t = ∂L/∂a_t, t = T−1..0):
 *   δ_t     = f'(a_t) ⊙ (∂L/∂h_t + δ_{t+1} W_hh)          (δ_T = 0)
 *   ∂W_ih   = Σ_t δ_tᵀ x_t          ∂W_hh = Σ_{t≥1} δ_tᵀ h_{t−1}
 *   ∂b_ih   = ∂b_hh = Σ_t δ_t       ∂x_t  = δ_t W_ih
 * δ is built in place in dH: step t adds δ_{t+1} W_hh to dH[t] (one GEMM
 * with β = 1) and multiplies by f'(a_t); the weight gradients and dU are then
 * one GEMM each over the T·B rows.
 *
 * Layout: U (T×B×n_in), H (T×B×N) time-major; weight_ih (N×n_in), weight_hh
 * (N×N), bias_ih (N), bias_hh (N) — PyTorch's names and shapes (its _l0
 * suffix dropped). Workspace: A (T×B×N), the pre-activations a_t (record
 * "preactivation"). */
#include <string.h>

#include "core/blas.h"
#include "nn/act.h"
#include "nn/cell.h"

static void rnn_tensor(const sl_cell_dims *d, int i, const char **name, int *ndim,
                       int64_t shape[2])
{
    sl_torch_rnn_tensor(1, d, i, name, ndim, shape);
}

static void rnn_init(const sl_cell_dims *d, sl_real *const *p, sl_rng *rng)
{
    sl_torch_rnn_init(1, d, p, rng);
}

static size_t rnn_ws_size(const sl_cell_dims *d, int B, int T)
{
    return (size_t)T * B * d->n_hidden;
}

static void rnn_forward(const sl_cell_dims *d, sl_real *const *p, const sl_real *U, int B, int T,
                        sl_real *H, sl_real *ws)
{
    const int N = d->n_hidden, NI = d->n_in;
    const size_t BN = (size_t)B * N;
    const sl_real *Wih = p[0], *Whh = p[1], *bih = p[2], *bhh = p[3];
    const sl_activation act = d->act;
    sl_real *A = ws;

    /* A = U W_ihᵀ for all T·B rows */
    sl_gemm(0, 1, T * B, N, NI, 1.0, U, NI, Wih, NI, 0.0, A, N);
    sl_cell_noise(d, A, (size_t)T * BN);
    for (int t = 0; t < T; t++) {
        sl_real *a = A + (size_t)t * BN, *h = H + (size_t)t * BN;
        if (t > 0) sl_gemm(0, 1, B, N, N, 1.0, H + (size_t)(t - 1) * BN, N, Whh, N, 1.0, a, N);
        for (int b = 0; b < B; b++) {
            sl_real *ar = a + (size_t)b * N, *hr = h + (size_t)b * N;
            for (int i = 0; i < N; i++) {
                const sl_real x = ar[i] + bih[i] + bhh[i];
                ar[i] = x;
                hr[i] = sl_act_value(act, x);
            }
        }
    }
}

static void rnn_backward(const sl_cell_dims *d, sl_real *const *p, sl_real *const *g,
                         const sl_real *U, int B, int T, const sl_real *H, sl_real *dH,
                         sl_real *dU, sl_real *ws)
{
    const int N = d->n_hidden, NI = d->n_in;
    const size_t BN = (size_t)B * N;
    const sl_real *Wih = p[0], *Whh = p[1];
    const sl_activation act = d->act;
    const sl_real *A = ws;
    sl_real *D = dH; /* becomes δ, in place */

    for (int t = T - 1; t >= 0; t--) {
        sl_real *dt = D + (size_t)t * BN;
        const sl_real *a = A + (size_t)t * BN, *h = H + (size_t)t * BN;
        if (t < T - 1) sl_gemm(0, 0, B, N, N, 1.0, dt + BN, N, Whh, N, 1.0, dt, N);
        for (size_t i = 0; i < BN; i++) dt[i] *= sl_act_deriv(act, a[i], h[i]);
    }
    const int TB = T * B;
    sl_gemm(1, 0, N, NI, TB, 1.0, D, N, U, NI, 1.0, g[0], NI);
    if (T > 1) sl_gemm(1, 0, N, N, TB - B, 1.0, D + BN, N, H, N, 1.0, g[1], N);
    sl_colsum_add(D, (size_t)TB, N, N, g[2], g[3]);
    if (dU) sl_gemm(0, 0, TB, NI, N, 1.0, D, N, Wih, NI, 0.0, dU, NI);
}

static const char *const RNN_RECORDS[1] = {"preactivation"};

static void rnn_record(const sl_cell_dims *d, const sl_real *ws, int B, int T, int which,
                       sl_real *out)
{
    (void)which;
    memcpy(out, ws, (size_t)T * B * d->n_hidden * sizeof(sl_real));
}

const sl_cell_ops sl_cell_rnn = {
    .name = "rnn",
    .n_tensors = 4,
    .n_buffers = 0,
    .tensor = rnn_tensor,
    .init = rnn_init,
    .ws_size = rnn_ws_size,
    .forward = rnn_forward,
    .backward = rnn_backward,
    .n_records = 1,
    .record_names = RNN_RECORDS,
    .record = rnn_record,
};
