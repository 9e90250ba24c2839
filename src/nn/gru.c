/* gru.c — the gated recurrent unit in PyTorch's nn.GRU convention exactly:
 *
 *   r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)
 *   z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)
 *   n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))
 *   h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1},          h_{−1} = 0
 *
 * Backward (row vectors; dh_t = ∂L/∂h_t including what flows back from t+1;
 * q_t = W_hn h_{t−1} + b_hn):
 *   dn̂ = dh ⊙ (1 − z) ⊙ (1 − n²)                      (∂ pre-tanh)
 *   dẑ = dh ⊙ (h_{t−1} − n) ⊙ z(1 − z)
 *   dr̂ = dn̂ ⊙ q ⊙ r(1 − r)
 *   gi_t = [dr̂, dẑ, dn̂]     (∂ of the input-side sums   W_i· x + b_i·)
 *   gh_t = [dr̂, dẑ, dn̂ ⊙ r] (∂ of the hidden-side sums  W_h· h + b_h·)
 *   dh_{t−1} += dh ⊙ z + gh_t W_hh
 *   ∂W_ih = Σ_t gi_tᵀ x_t    ∂W_hh = Σ_{t≥1} gh_tᵀ h_{t−1}
 *   ∂b_ih = Σ_t gi_t         ∂b_hh = Σ_t gh_t          ∂x_t = gi_t W_ih
 *
 * Forward: GI = U W_ihᵀ (one GEMM over T·B rows); per step one GEMM
 * h_{t−1} W_hhᵀ into a B×3N scratch, then one fused pass that overwrites
 * GI[t] with [r, z, n] and keeps q in Q. Backward: per step one fused pass
 * that overwrites GI[t] with gi_t (the forward traces of step t are spent)
 * and writes gh_t, then one GEMM gh_t W_hh accumulated into dH[t−1]; the
 * weight gradients and dU are one GEMM each over T·B rows.
 *
 * Layout: U (T×B×n_in), H (T×B×N) time-major; weight_ih (3N×n_in, rows in
 * gate order r, z, n), weight_hh (3N×N), bias_ih (3N), bias_hh (3N) —
 * PyTorch's names, shapes and order. Workspace: GI (T×B×3N), GH (T×B×3N:
 * gh in backward; its first B×3N serve as the forward step's scratch),
 * Q (T×B×N). Records (after forward, before backward): "reset_gate" r,
 * "update_gate" z, "candidate" n. */
#include <string.h>

#include "core/blas.h"
#include "nn/act.h"
#include "nn/cell.h"

static const char *const GRU_TENSORS[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};

static void gru_tensor(const sl_cell_dims *d, int i, const char **name, int *ndim,
                       int64_t shape[2])
{
    *name = GRU_TENSORS[i];
    *ndim = i < 2 ? 2 : 1;
    shape[0] = 3 * (int64_t)d->n_hidden;
    shape[1] = i == 0 ? d->n_in : i == 1 ? d->n_hidden : 1;
}

static void gru_init(const sl_cell_dims *d, sl_real *const *p, sl_rng *rng)
{
    const size_t N = (size_t)d->n_hidden;
    const double k = 1.0 / sqrt((double)N);
    sl_fill_uniform(p[0], 3 * N * (size_t)d->n_in, k, rng);
    sl_fill_uniform(p[1], 3 * N * N, k, rng);
    sl_fill_uniform(p[2], 3 * N, k, rng);
    sl_fill_uniform(p[3], 3 * N, k, rng);
}

static size_t gru_ws_size(const sl_cell_dims *d, int B, int T)
{
    return (size_t)7 * T * B * d->n_hidden; /* GI 3, GH 3, Q 1 */
}

static void gru_forward(const sl_cell_dims *d, sl_real *const *p, const sl_real *U, int B, int T,
                        sl_real *H, sl_real *ws)
{
    const int N = d->n_hidden, NI = d->n_in, N3 = 3 * N;
    const size_t BN = (size_t)B * N, BN3 = 3 * BN;
    const sl_real *Wih = p[0], *Whh = p[1], *bih = p[2], *bhh = p[3];
    sl_real *GI = ws, *GH = ws + (size_t)T * BN3, *Q = GH + (size_t)T * BN3;

    sl_gemm(0, 1, T * B, N3, NI, 1.0, U, NI, Wih, NI, 0.0, GI, N3);
    for (int t = 0; t < T; t++) {
        sl_real *gi = GI + (size_t)t * BN3, *q = Q + (size_t)t * BN, *h = H + (size_t)t * BN;
        const sl_real *hp = t > 0 ? H + (size_t)(t - 1) * BN : NULL;
        if (hp)
            sl_gemm(0, 1, B, N3, N, 1.0, hp, N, Whh, N, 0.0, GH, N3);
        else
            memset(GH, 0, BN3 * sizeof(sl_real));
        for (int b = 0; b < B; b++) {
            sl_real *ir = gi + (size_t)b * N3, *iz = ir + N, *in = iz + N;
            const sl_real *hr = GH + (size_t)b * N3, *hz = hr + N, *hn = hz + N;
            sl_real *qb = q + (size_t)b * N, *hb = h + (size_t)b * N;
            const sl_real *hpb = hp ? hp + (size_t)b * N : NULL;
            for (int i = 0; i < N; i++) {
                const sl_real r = sl_sigmoid_r(ir[i] + bih[i] + hr[i] + bhh[i]);
                const sl_real z = sl_sigmoid_r(iz[i] + bih[N + i] + hz[i] + bhh[N + i]);
                const sl_real qq = hn[i] + bhh[2 * N + i];
                const sl_real n = sl_tanh_r(in[i] + bih[2 * N + i] + r * qq);
                ir[i] = r;
                iz[i] = z;
                in[i] = n;
                qb[i] = qq;
                hb[i] = (1 - z) * n + (hpb ? z * hpb[i] : 0);
            }
        }
    }
}

static void gru_backward(const sl_cell_dims *d, sl_real *const *p, sl_real *const *g,
                         const sl_real *U, int B, int T, const sl_real *H, sl_real *dH,
                         sl_real *dU, sl_real *ws)
{
    const int N = d->n_hidden, NI = d->n_in, N3 = 3 * N;
    const size_t BN = (size_t)B * N, BN3 = 3 * BN;
    const sl_real *Wih = p[0], *Whh = p[1];
    sl_real *GI = ws, *GH = ws + (size_t)T * BN3;
    const sl_real *Q = GH + (size_t)T * BN3;

    for (int t = T - 1; t >= 0; t--) {
        sl_real *gi = GI + (size_t)t * BN3, *gh = GH + (size_t)t * BN3;
        const sl_real *q = Q + (size_t)t * BN, *dh = dH + (size_t)t * BN;
        const sl_real *hp = t > 0 ? H + (size_t)(t - 1) * BN : NULL;
        sl_real *dhp = t > 0 ? dH + (size_t)(t - 1) * BN : NULL;
        for (int b = 0; b < B; b++) {
            sl_real *ir = gi + (size_t)b * N3, *iz = ir + N, *in = iz + N;
            sl_real *hr = gh + (size_t)b * N3, *hz = hr + N, *hn = hz + N;
            const sl_real *qb = q + (size_t)b * N, *dhb = dh + (size_t)b * N;
            const sl_real *hpb = hp ? hp + (size_t)b * N : NULL;
            sl_real *dhpb = dhp ? dhp + (size_t)b * N : NULL;
            for (int i = 0; i < N; i++) {
                const sl_real r = ir[i], z = iz[i], n = in[i], dhi = dhb[i];
                const sl_real hprev = hpb ? hpb[i] : 0;
                const sl_real dn = dhi * (1 - z) * (1 - n * n);
                const sl_real dz = dhi * (hprev - n) * z * (1 - z);
                const sl_real dr = dn * qb[i] * r * (1 - r);
                ir[i] = hr[i] = dr;
                iz[i] = hz[i] = dz;
                in[i] = dn;
                hn[i] = dn * r;
                if (dhpb) dhpb[i] += dhi * z;
            }
        }
        if (dhp) sl_gemm(0, 0, B, N, N3, 1.0, gh, N3, Whh, N, 1.0, dhp, N);
    }
    const int TB = T * B;
    sl_gemm(1, 0, N3, NI, TB, 1.0, GI, N3, U, NI, 1.0, g[0], NI);
    if (T > 1) sl_gemm(1, 0, N3, N, TB - B, 1.0, GH + BN3, N3, H, N, 1.0, g[1], N);
    sl_colsum_add(GI, (size_t)TB, N3, N3, g[2], NULL);
    sl_colsum_add(GH, (size_t)TB, N3, N3, g[3], NULL);
    if (dU) sl_gemm(0, 0, TB, NI, N3, 1.0, GI, N3, Wih, NI, 0.0, dU, NI);
}

static const char *const GRU_RECORDS[3] = {"reset_gate", "update_gate", "candidate"};

/* r, z or n of every step: column block `which` of GI's rows */
static void gru_record(const sl_cell_dims *d, const sl_real *ws, int B, int T, int which,
                       sl_real *out)
{
    const size_t N = (size_t)d->n_hidden, rows = (size_t)T * B;
    for (size_t r = 0; r < rows; r++)
        memcpy(out + r * N, ws + r * 3 * N + (size_t)which * N, N * sizeof(sl_real));
}

const sl_cell_ops sl_cell_gru = {
    .name = "gru",
    .n_tensors = 4,
    .n_buffers = 0,
    .tensor = gru_tensor,
    .init = gru_init,
    .ws_size = gru_ws_size,
    .forward = gru_forward,
    .backward = gru_backward,
    .n_records = 3,
    .record_names = GRU_RECORDS,
    .record = gru_record,
};
