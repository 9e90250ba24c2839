/* lstm.c — the long short-term memory cell in PyTorch's nn.LSTM convention:
 *
 *   [î, f̂, ĝ, ô]_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh     (4N, that order)
 *   i = σ(î)   f = σ(f̂)   g = tanh(ĝ)   o = σ(ô)
 *   c_t = f ⊙ c_{t−1} + i ⊙ g        h_t = o ⊙ tanh(c_t)       c_{−1} = h_{−1} = 0
 *
 * Backward (row vectors; dh_t = ∂L/∂h_t including what flows back from t+1,
 * dc_t likewise, dc_T = 0):
 *   dô = dh ⊙ tanh(c_t) ⊙ o(1 − o)
 *   dc = dc_{t+1}·f_{t+1} + dh ⊙ o ⊙ (1 − tanh²(c_t))   (f_{t+1} folded in below)
 *   dî = dc ⊙ g ⊙ i(1 − i)    dĝ = dc ⊙ i ⊙ (1 − g²)    df̂ = dc ⊙ c_{t−1} ⊙ f(1 − f)
 *   δ_t = [dî, df̂, dĝ, dô];   dh_{t−1} += δ_t W_hh;       dc_{t−1} = dc ⊙ f
 *   ∂W_ih = Σ_t δ_tᵀ x_t    ∂W_hh = Σ_{t≥1} δ_tᵀ h_{t−1}
 *   ∂b_ih = ∂b_hh = Σ_t δ_t                 ∂x_t = δ_t W_ih
 *
 * Forward: G = U W_ihᵀ (one GEMM over T·B rows); per step one GEMM
 * h_{t−1} W_hhᵀ accumulated into G[t], then one fused pass that overwrites
 * G[t] with [i, f, g, o] and writes c_t, tanh(c_t), h_t. Backward: per step
 * one fused pass that overwrites G[t] with δ_t (step t's traces are spent)
 * and one GEMM δ_t W_hh accumulated into dH[t−1]; the weight gradients and
 * dU are one GEMM each over T·B rows.
 *
 * Layout: U (T×B×n_in), H (T×B×N) time-major; weight_ih (4N×n_in, rows in
 * gate order i, f, g, o), weight_hh (4N×N), bias_ih (4N), bias_hh (4N) —
 * PyTorch's names, shapes and order. Workspace: G (T×B×4N), C (T×B×N),
 * TC = tanh(C) (T×B×N), dc (B×N), W_hhᵀ (N×4N).
 *
 * float32 (the library): b_ih + b_hh are folded into G before the input
 * GEMM; the per-step products are libxsmm kernels (act.h's sl_mm) on W_hhᵀ
 * (so forward is NN) and W_hh; the gate passes run on 16-lane vectors with
 * the bias gradients summed inside them; ∂W_hh and ∂W_ih are summed step by
 * step (δ_tᵀ h_{t−1}, δ_tᵀ x_t) while δ_t is in L1. The float64 build keeps
 * the scalar passes and the whole-sequence GEMMs. Records (after forward, before backward):
 * "input_gate", "forget_gate", "cell_candidate", "output_gate",
 * "cell_state" c, "output" h. */
#include <string.h>

#include "core/blas.h"
#include "nn/act.h"
#include "nn/cell.h"

static void lstm_tensor(const sl_cell_dims *d, int i, const char **name, int *ndim,
                        int64_t shape[2])
{
    sl_torch_rnn_tensor(4, d, i, name, ndim, shape);
}

static void lstm_init(const sl_cell_dims *d, sl_real *const *p, sl_rng *rng)
{
    sl_torch_rnn_init(4, d, p, rng);
}

static size_t lstm_ws_size(const sl_cell_dims *d, int B, int T)
{
    const size_t N = (size_t)d->n_hidden;
    return 6 * (size_t)T * B * N + (size_t)B * N + 4 * N * N; /* G 4, C, TC; dc; W_hhᵀ */
}

/* One forward step's gate pass, float32, B rows: g (the sums, biases and
 * h_{t−1} W_hhᵀ included) becomes [i, f, g, o]; c, tc, h ← c_t, tanh c_t, h_t;
 * cp = c_{t−1} (NULL at t = 0). */
static void lstm_gates_f32(float *G, const float *cp, float *c, float *tc, float *h, size_t B,
                           size_t N)
{
    for (size_t b = 0; b < B; b++) {
        float *gi = G + b * 4 * N, *gf = gi + N, *gg = gf + N, *go = gg + N;
        const float *cpb = cp ? cp + b * N : NULL;
        float *cb = c + b * N, *tcb = tc + b * N, *hb = h + b * N;
        for (size_t k = 0; k < N; k += 16) {
            const size_t w = N - k < 16 ? N - k : 16;
            const vf16 i = vsigmoid(vld(gi + k, w)), f = vsigmoid(vld(gf + k, w)),
                       g = vtanh(vld(gg + k, w)), o = vsigmoid(vld(go + k, w));
            const vf16 cc = cpb ? vfma(f, vld(cpb + k, w), i * g) : i * g, t = vtanh(cc);
            vst(gi + k, i, w);
            vst(gf + k, f, w);
            vst(gg + k, g, w);
            vst(go + k, o, w);
            vst(cb + k, cc, w);
            vst(tcb + k, t, w);
            vst(hb + k, o * t, w);
        }
    }
}

static void lstm_forward(const sl_cell_dims *d, sl_real *const *p, const sl_real *U, int B, int T,
                         sl_real *H, sl_real *ws)
{
    const int N = d->n_hidden, NI = d->n_in, N4 = 4 * N;
    const size_t BN = (size_t)B * N, BN4 = 4 * BN;
    const sl_real *Wih = p[0], *Whh = p[1], *bih = p[2], *bhh = p[3];
    sl_real *G = ws, *C = G + (size_t)T * BN4, *TC = C + (size_t)T * BN;

    if (SL_REAL_IS_FLOAT) {
        /* G = U W_ihᵀ + b_ih + b_hh; per step G[t] += h_{t−1} W_hhᵀ (NN,
         * libxsmm; W_hhᵀ kept after dc) and the vector gate pass */
        sl_real *WhhT = TC + (size_t)T * BN + BN;
        sl_transpose(Whh, N4, N, WhhT);
        for (size_t r = 0; r < (size_t)T * B; r++) {
            sl_real *g = G + r * N4;
            if (r == 0)
                for (int j = 0; j < N4; j++) g[j] = bih[j] + bhh[j];
            else
                memcpy(g, G, N4 * sizeof(sl_real));
        }
        sl_gemm(0, 1, T * B, N4, NI, 1.0, U, NI, Wih, NI, 1.0, G, N4);
        sl_cell_noise(d, G, (size_t)T * BN4);
        const sl_mm step = sl_mm_make(0, 0, B, N4, N, N, N4, N4, 1);
        for (int t = 0; t < T; t++) {
            sl_real *gt = G + (size_t)t * BN4;
            if (t > 0) sl_mm_run(&step, H + (size_t)(t - 1) * BN, WhhT, gt);
            const size_t row = (size_t)t * BN;
            lstm_gates_f32(F32W(gt), t > 0 ? F32(C + row - BN) : NULL, F32W(C + row),
                           F32W(TC + row), F32W(H + row), (size_t)B, (size_t)N);
        }
        return;
    }

    sl_gemm(0, 1, T * B, N4, NI, 1.0, U, NI, Wih, NI, 0.0, G, N4);
    sl_cell_noise(d, G, (size_t)T * BN4);
    for (int t = 0; t < T; t++) {
        sl_real *gt = G + (size_t)t * BN4;
        if (t > 0) sl_gemm(0, 1, B, N4, N, 1.0, H + (size_t)(t - 1) * BN, N, Whh, N, 1.0, gt, N4);
        for (int b = 0; b < B; b++) {
            sl_real *gi = gt + (size_t)b * N4, *gf = gi + N, *gg = gf + N, *go = gg + N;
            const size_t row = (size_t)t * BN + (size_t)b * N;
            const sl_real *cp = t > 0 ? C + row - BN : NULL;
            sl_real *c = C + row, *tc = TC + row, *h = H + row;
            for (int k = 0; k < N; k++) {
                const sl_real i = sl_sigmoid_r(gi[k] + bih[k] + bhh[k]);
                const sl_real f = sl_sigmoid_r(gf[k] + bih[N + k] + bhh[N + k]);
                const sl_real gg_ = sl_tanh_r(gg[k] + bih[2 * N + k] + bhh[2 * N + k]);
                const sl_real o = sl_sigmoid_r(go[k] + bih[3 * N + k] + bhh[3 * N + k]);
                const sl_real cc = (cp ? f * cp[k] : 0) + i * gg_;
                const sl_real tcc = sl_tanh_r(cc);
                gi[k] = i;
                gf[k] = f;
                gg[k] = gg_;
                go[k] = o;
                c[k] = cc;
                tc[k] = tcc;
                h[k] = o * tcc;
            }
        }
    }
}

/* One backward step's pass, float32, B rows: G ([i, f, g, o] on entry)
 * becomes δ_t; dcar carries dc_{t+1} ⊙ f_{t+1} in and dc_t ⊙ f_t out; the
 * bias gradients gb, gb2 += δ_t (summed over the rows). */
static void lstm_back_f32(float *G, const float *cp, const float *tc, const float *dh, float *dcar,
                          float *gb, float *gb2, size_t B, size_t N)
{
    for (size_t b = 0; b < B; b++) {
        float *gi = G + b * 4 * N, *gf = gi + N, *gg = gf + N, *go = gg + N;
        const float *cpb = cp ? cp + b * N : NULL, *tcb = tc + b * N, *dhb = dh + b * N;
        float *dcb = dcar + b * N;
        for (size_t k = 0; k < N; k += 16) {
            const size_t w = N - k < 16 ? N - k : 16;
            const vf16 i = vld(gi + k, w), f = vld(gf + k, w), g = vld(gg + k, w),
                       o = vld(go + k, w), t = vld(tcb + k, w), dhk = vld(dhb + k, w);
            const vf16 dc = vfma(dhk * o, 1 - t * t, vld(dcb + k, w));
            const vf16 d_o = dhk * t * o * (1 - o), d_i = dc * g * i * (1 - i),
                       d_g = dc * i * (1 - g * g),
                       d_f = cpb ? dc * vld(cpb + k, w) * f * (1 - f) : VF(0);
            vst(go + k, d_o, w);
            vst(gi + k, d_i, w);
            vst(gg + k, d_g, w);
            vst(gf + k, d_f, w);
            vst(dcb + k, dc * f, w);
            vst(gb + k, vld(gb + k, w) + d_i, w);
            vst(gb + N + k, vld(gb + N + k, w) + d_f, w);
            vst(gb + 2 * N + k, vld(gb + 2 * N + k, w) + d_g, w);
            vst(gb + 3 * N + k, vld(gb + 3 * N + k, w) + d_o, w);
            vst(gb2 + k, vld(gb2 + k, w) + d_i, w);
            vst(gb2 + N + k, vld(gb2 + N + k, w) + d_f, w);
            vst(gb2 + 2 * N + k, vld(gb2 + 2 * N + k, w) + d_g, w);
            vst(gb2 + 3 * N + k, vld(gb2 + 3 * N + k, w) + d_o, w);
        }
    }
}

static void lstm_backward(const sl_cell_dims *d, sl_real *const *p, sl_real *const *g,
                          const sl_real *U, int B, int T, const sl_real *H, sl_real *dH,
                          sl_real *dU, sl_real *ws)
{
    const int N = d->n_hidden, NI = d->n_in, N4 = 4 * N;
    const size_t BN = (size_t)B * N, BN4 = 4 * BN;
    const sl_real *Wih = p[0], *Whh = p[1];
    sl_real *G = ws;
    const sl_real *C = G + (size_t)T * BN4, *TC = C + (size_t)T * BN;
    sl_real *dcar = G + (size_t)T * BN4 + 2 * (size_t)T * BN; /* dc_{t+1} ⊙ f_{t+1}, carried */
    const int TB = T * B;

    memset(dcar, 0, BN * sizeof(sl_real));
    if (SL_REAL_IS_FLOAT) {
        /* per step: the pass (bias gradients in it), dh_{t−1} += δ_t W_hh, and
         * ∂W_hh += δ_tᵀ h_{t−1}, ∂W_ih += δ_tᵀ x_t while δ_t is in L1 */
        const sl_mm back = sl_mm_make(0, 0, B, N, N4, N4, N, N, 1);
        const sl_mm dwh = sl_mm_make(1, 0, N4, N, B, N4, N, N, 1);
        const sl_mm dwi = sl_mm_make(1, 0, N4, NI, B, N4, NI, NI, 1);
        for (int t = T - 1; t >= 0; t--) {
            sl_real *gt = G + (size_t)t * BN4;
            const size_t row = (size_t)t * BN;
            lstm_back_f32(F32W(gt), t > 0 ? F32(C + row - BN) : NULL, F32(TC + row),
                          F32(dH + row), F32W(dcar), F32W(g[2]), F32W(g[3]), (size_t)B,
                          (size_t)N);
            if (t > 0) {
                sl_mm_run(&back, gt, Whh, dH + row - BN);
                sl_mm_run(&dwh, gt, H + row - BN, g[1]);
            }
            sl_mm_run(&dwi, gt, U + (size_t)t * B * NI, g[0]);
        }
    } else {
        for (int t = T - 1; t >= 0; t--) {
            sl_real *gt = G + (size_t)t * BN4;
            for (int b = 0; b < B; b++) {
                sl_real *gi = gt + (size_t)b * N4, *gf = gi + N, *gg = gf + N, *go = gg + N;
                const size_t row = (size_t)t * BN + (size_t)b * N;
                const sl_real *cp = t > 0 ? C + row - BN : NULL;
                const sl_real *tc = TC + row, *dh = dH + row;
                sl_real *dcb = dcar + (size_t)b * N;
                for (int k = 0; k < N; k++) {
                    const sl_real i = gi[k], f = gf[k], gv = gg[k], o = go[k];
                    const sl_real tcc = tc[k], dhk = dh[k];
                    const sl_real dc = dcb[k] + dhk * o * (1 - tcc * tcc);
                    go[k] = dhk * tcc * o * (1 - o);
                    gi[k] = dc * gv * i * (1 - i);
                    gg[k] = dc * i * (1 - gv * gv);
                    gf[k] = cp ? dc * cp[k] * f * (1 - f) : 0;
                    dcb[k] = dc * f;
                }
            }
            if (t > 0)
                sl_gemm(0, 0, B, N, N4, 1.0, gt, N4, Whh, N, 1.0, dH + (size_t)(t - 1) * BN, N);
        }
        sl_gemm(1, 0, N4, NI, TB, 1.0, G, N4, U, NI, 1.0, g[0], NI);
        if (T > 1) sl_gemm(1, 0, N4, N, TB - B, 1.0, G + BN4, N4, H, N, 1.0, g[1], N);
        sl_colsum_add(G, (size_t)TB, N4, N4, g[2], g[3]);
    }
    if (dU) sl_gemm(0, 0, TB, NI, N4, 1.0, G, N4, Wih, NI, 0.0, dU, NI);
}

static const char *const LSTM_RECORDS[6] = {"input_gate",  "forget_gate", "cell_candidate",
                                            "output_gate", "cell_state",  "output"};

static void lstm_record(const sl_cell_dims *d, const sl_real *ws, int B, int T, int which,
                        sl_real *out)
{
    const size_t N = (size_t)d->n_hidden, rows = (size_t)T * B, n = rows * N;
    const sl_real *G = ws, *C = G + 4 * n, *TC = C + n;
    if (which < 4) {
        for (size_t r = 0; r < rows; r++)
            memcpy(out + r * N, G + r * 4 * N + (size_t)which * N, N * sizeof(sl_real));
    } else if (which == 4) {
        memcpy(out, C, n * sizeof(sl_real));
    } else { /* h = o ⊙ tanh(c), as the forward computed it */
        for (size_t r = 0; r < rows; r++)
            for (size_t k = 0; k < N; k++) out[r * N + k] = G[r * 4 * N + 3 * N + k] * TC[r * N + k];
    }
}

const sl_cell_ops sl_cell_lstm = {
    .name = "lstm",
    .n_tensors = 4,
    .n_buffers = 0,
    .tensor = lstm_tensor,
    .init = lstm_init,
    .ws_size = lstm_ws_size,
    .forward = lstm_forward,
    .backward = lstm_backward,
    .n_records = 6,
    .record_names = LSTM_RECORDS,
    .record = lstm_record,
};
