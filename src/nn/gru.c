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
 * Q (T×B×N), W_hhᵀ (N×3N).
 *
 * float32 (the library): b_ih and b_hr, b_hz are folded into GI before the
 * input GEMM; the per-step products are libxsmm kernels (act.h's sl_mm) on
 * W_hhᵀ (forward, NN) and W_hh (backward); the gate passes run on 16-lane
 * vectors, with the bias gradients summed inside the backward pass; ∂W_hh,
 * ∂W_ih are summed step by step while gh_t, gi_t are in L1. The float64
 * build keeps the scalar passes and the whole-sequence GEMMs. Records (after forward, before backward): "reset_gate" r,
 * "update_gate" z, "candidate" n. */
#include <string.h>

#include "core/blas.h"
#include "nn/act.h"
#include "nn/cell.h"

static void gru_tensor(const sl_cell_dims *d, int i, const char **name, int *ndim,
                       int64_t shape[2])
{
    sl_torch_rnn_tensor(3, d, i, name, ndim, shape);
}

static void gru_init(const sl_cell_dims *d, sl_real *const *p, sl_rng *rng)
{
    sl_torch_rnn_init(3, d, p, rng);
}

static size_t gru_ws_size(const sl_cell_dims *d, int B, int T)
{
    const size_t N = (size_t)d->n_hidden;
    return 7 * (size_t)T * B * N + 3 * N * N; /* GI 3, GH 3, Q 1; W_hhᵀ */
}

/* One forward step's gate pass, float32, B rows: gi = [î_r, î_z, î_n] (the
 * input sums with b_ih and b_hr, b_hz folded in) becomes [r, z, n]; gh the
 * step's h_{t−1} W_hhᵀ (NULL at t = 0: zero), bn = b_hn. */
static void gru_gates_f32(float *gi, const float *gh, float *q, float *h, const float *hp,
                          const float *bn, size_t B, size_t N)
{
    for (size_t b = 0; b < B; b++) {
        float *ir = gi + b * 3 * N, *iz = ir + N, *in = iz + N;
        const float *hr = gh ? gh + b * 3 * N : NULL, *hz = hr ? hr + N : NULL,
                    *hn = hr ? hz + N : NULL, *hpb = hp ? hp + b * N : NULL;
        float *qb = q + b * N, *hb = h + b * N;
        for (size_t i = 0; i < N; i += 16) {
            const size_t w = N - i < 16 ? N - i : 16;
            vf16 ar = vld(ir + i, w), az = vld(iz + i, w), qq = vld(bn + i, w);
            if (hr) {
                ar += vld(hr + i, w);
                az += vld(hz + i, w);
                qq += vld(hn + i, w);
            }
            const vf16 r = vsigmoid(ar), z = vsigmoid(az), n = vtanh(vfma(r, qq, vld(in + i, w)));
            vst(ir + i, r, w);
            vst(iz + i, z, w);
            vst(in + i, n, w);
            vst(qb + i, qq, w);
            vst(hb + i, hpb ? vfma(z, vld(hpb + i, w) - n, n) : n - z * n, w);
        }
    }
}

static void gru_forward(const sl_cell_dims *d, sl_real *const *p, const sl_real *U, int B, int T,
                        sl_real *H, sl_real *ws)
{
    const int N = d->n_hidden, NI = d->n_in, N3 = 3 * N;
    const size_t BN = (size_t)B * N, BN3 = 3 * BN;
    const sl_real *Wih = p[0], *Whh = p[1], *bih = p[2], *bhh = p[3];
    sl_real *GI = ws, *GH = ws + (size_t)T * BN3, *Q = GH + (size_t)T * BN3;

    if (SL_REAL_IS_FLOAT) {
        /* GI = U W_ihᵀ + [b_ir + b_hr, b_iz + b_hz, b_in]; per step one NN
         * product h_{t−1} W_hhᵀ (W_hhᵀ kept after Q) and the vector gate pass */
        sl_real *WhhT = Q + (size_t)T * BN;
        sl_transpose(Whh, N3, N, WhhT);
        for (int j = 0; j < N3; j++) GH[j] = bih[j] + (j < 2 * N ? bhh[j] : 0); /* scratch */
        for (size_t r = 0; r < (size_t)T * B; r++) memcpy(GI + r * N3, GH, N3 * sizeof(sl_real));
        sl_gemm(0, 1, T * B, N3, NI, 1.0, U, NI, Wih, NI, 1.0, GI, N3);
        sl_cell_noise(d, GI, (size_t)T * BN3);
        const sl_mm step = sl_mm_make(0, 0, B, N3, N, N, N3, N3, 0);
        for (int t = 0; t < T; t++) {
            const sl_real *hp = t > 0 ? H + (size_t)(t - 1) * BN : NULL;
            if (hp) sl_mm_run(&step, hp, WhhT, GH);
            gru_gates_f32(F32W(GI + (size_t)t * BN3), hp ? F32(GH) : NULL,
                          F32W(Q + (size_t)t * BN), F32W(H + (size_t)t * BN), hp ? F32(hp) : NULL,
                          F32(bhh + 2 * N), (size_t)B, (size_t)N);
        }
        return;
    }

    sl_gemm(0, 1, T * B, N3, NI, 1.0, U, NI, Wih, NI, 0.0, GI, N3);
    sl_cell_noise(d, GI, (size_t)T * BN3);
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

/* One backward step's pass, float32, B rows: gi ([r, z, n] on entry) becomes
 * gi_t, gh receives gh_t, dhp (NULL at t = 0) += dh ⊙ z, and the bias
 * gradients gbi += gi_t, gbh += gh_t (summed over the rows). */
static void gru_back_f32(float *gi, float *gh, const float *q, const float *dh, const float *hp,
                         float *dhp, float *gbi, float *gbh, size_t B, size_t N)
{
    for (size_t b = 0; b < B; b++) {
        float *ir = gi + b * 3 * N, *iz = ir + N, *in = iz + N;
        float *hr = gh + b * 3 * N, *hz = hr + N, *hn = hz + N;
        const float *qb = q + b * N, *dhb = dh + b * N, *hpb = hp ? hp + b * N : NULL;
        float *dhpb = dhp ? dhp + b * N : NULL;
        for (size_t i = 0; i < N; i += 16) {
            const size_t w = N - i < 16 ? N - i : 16;
            const vf16 r = vld(ir + i, w), z = vld(iz + i, w), n = vld(in + i, w),
                       dhi = vld(dhb + i, w), hprev = hpb ? vld(hpb + i, w) : VF(0);
            const vf16 dn = dhi * (1 - z) * (1 - n * n);
            const vf16 dz = dhi * (hprev - n) * z * (1 - z);
            const vf16 dr = dn * vld(qb + i, w) * r * (1 - r);
            const vf16 dnr = dn * r;
            vst(ir + i, dr, w);
            vst(hr + i, dr, w);
            vst(iz + i, dz, w);
            vst(hz + i, dz, w);
            vst(in + i, dn, w);
            vst(hn + i, dnr, w);
            if (dhpb) vst(dhpb + i, vfma(dhi, z, vld(dhpb + i, w)), w);
            vst(gbi + i, vld(gbi + i, w) + dr, w);
            vst(gbi + N + i, vld(gbi + N + i, w) + dz, w);
            vst(gbi + 2 * N + i, vld(gbi + 2 * N + i, w) + dn, w);
            vst(gbh + i, vld(gbh + i, w) + dr, w);
            vst(gbh + N + i, vld(gbh + N + i, w) + dz, w);
            vst(gbh + 2 * N + i, vld(gbh + 2 * N + i, w) + dnr, w);
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
    const int TB = T * B;

    if (SL_REAL_IS_FLOAT) {
        /* per step: the gate pass, dh_{t−1} += gh_t W_hh, and the weight
         * gradients ∂W_hh += gh_tᵀ h_{t−1}, ∂W_ih += gi_tᵀ x_t while gi_t,
         * gh_t are in L1 */
        const sl_mm back = sl_mm_make(0, 0, B, N, N3, N3, N, N, 1);
        const sl_mm dwh = sl_mm_make(1, 0, N3, N, B, N3, N, N, 1);
        const sl_mm dwi = sl_mm_make(1, 0, N3, NI, B, N3, NI, NI, 1);
        for (int t = T - 1; t >= 0; t--) {
            sl_real *gi = GI + (size_t)t * BN3, *gh = GH + (size_t)t * BN3;
            const sl_real *hp = t > 0 ? H + (size_t)(t - 1) * BN : NULL;
            sl_real *dhp = t > 0 ? dH + (size_t)(t - 1) * BN : NULL;
            gru_back_f32(F32W(gi), F32W(gh), F32(Q + (size_t)t * BN), F32(dH + (size_t)t * BN),
                         hp ? F32(hp) : NULL, dhp ? F32W(dhp) : NULL, F32W(g[2]), F32W(g[3]),
                         (size_t)B, (size_t)N);
            if (dhp) {
                sl_mm_run(&back, gh, Whh, dhp);
                sl_mm_run(&dwh, gh, hp, g[1]);
            }
            sl_mm_run(&dwi, gi, U + (size_t)t * B * NI, g[0]);
        }
        if (dU) sl_gemm(0, 0, TB, NI, N3, 1.0, GI, N3, Wih, NI, 0.0, dU, NI);
        return;
    }

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
