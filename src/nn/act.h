/* act.h — scalar nonlinearities for the cells (rnn.c, gru.c, lstm.c, …),
 * float/double agnostic (sizeof tests fold at compile time): the float64
 * build (gradient checks) calls libm's tanh/exp; the float32 build uses for
 * tanh and σ the branch-free [13/6] rational tanh of ctrnn.c (|err| < 3e-7,
 * σ(x) = ½ + ½·tanh(x/2), |err| < 2e-7) — libm's tanhf/expf calls were
 * a third of a GRU step.
 *
 * The activations are ctrnn.c's, with PyTorch's formulas:
 *   rect_tanh(x) = tanh(x) for x > 0, else 0
 *   tanh, relu = max(x, 0), sigmoid = 1/(1 + e^−x)
 *   softplus(x)  = log1p(e^x), and x itself above 20 (F.softplus's threshold)
 * sl_act_deriv(a, x, y) is f'(x) given x and y = f(x).
 *
 * Also shared by the cells' float32 fast paths: ctrnn.c's 16-lane vector
 * helpers (vtanh, vsigmoid, …) and sl_mm, the per-step small GEMM (libxsmm
 * JIT, OpenBLAS fallback). */
#ifndef SL_NN_ACT_H
#define SL_NN_ACT_H

#include <math.h>
#include <string.h>

#include <libxsmm.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "core/blas.h"
#include "nn/cell.h"
#include "silico.h"

#define SL_REAL_IS_FLOAT (sizeof(sl_real) == sizeof(float))

/* tanh on [-7.905, 7.905] (saturated outside), float32 */
static inline float sl_tanh_f32(float x)
{
    const float c = 7.90531110763549805f;
    x = x > c ? c : x < -c ? -c : x;
    const float x2 = x * x;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return x * p / q;
}

static inline sl_real sl_tanh_r(sl_real x)
{
    return SL_REAL_IS_FLOAT ? (sl_real)sl_tanh_f32((float)x) : (sl_real)tanh((double)x);
}

/* 1/(1 + e^−x) (float64: e^−x overflows to inf for x ≪ 0, giving exactly 0) */
static inline sl_real sl_sigmoid_r(sl_real x)
{
    return SL_REAL_IS_FLOAT ? (sl_real)(0.5f + 0.5f * sl_tanh_f32(0.5f * (float)x))
                            : (sl_real)(1.0 / (1.0 + exp(-(double)x)));
}

static inline sl_real sl_softplus_r(sl_real x)
{
    if (x > 20) return x;
    return SL_REAL_IS_FLOAT ? (sl_real)log1pf(expf((float)x)) : (sl_real)log1p(exp((double)x));
}

static inline sl_real sl_act_value(sl_activation a, sl_real x)
{
    switch (a) {
    case SL_ACT_RECT_TANH: return x > 0 ? sl_tanh_r(x) : 0;
    case SL_ACT_TANH: return sl_tanh_r(x);
    case SL_ACT_RELU: return x > 0 ? x : 0;
    case SL_ACT_SOFTPLUS: return sl_softplus_r(x);
    case SL_ACT_SIGMOID: return sl_sigmoid_r(x);
    }
    return 0;
}

static inline sl_real sl_act_deriv(sl_activation a, sl_real x, sl_real y)
{
    switch (a) {
    case SL_ACT_RECT_TANH: return x > 0 ? 1 - y * y : 0;
    case SL_ACT_TANH: return 1 - y * y;
    case SL_ACT_RELU: return x > 0 ? 1 : 0;
    case SL_ACT_SOFTPLUS: return x > 20 ? 1 : sl_sigmoid_r(x);
    case SL_ACT_SIGMOID: return y * (1 - y);
    }
    return 0;
}

/* Subnormal floats flushed to zero (x86 MXCSR FTZ | DAZ, this thread) for
 * the float32 build; returns the previous MXCSR for sl_ftz_restore. An
 * arithmetic operation on a subnormal costs a microcode assist; values that
 * small change no float32 update (PyTorch's torch.set_flush_denormal). */
#if defined(__SSE__)
#include <xmmintrin.h>
static inline unsigned sl_ftz_on(void)
{
    const unsigned old = _mm_getcsr();
    if (SL_REAL_IS_FLOAT) _mm_setcsr(old | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
    return old;
}
static inline void sl_ftz_restore(unsigned old)
{
    if (SL_REAL_IS_FLOAT) _mm_setcsr(old);
}
#else
static inline unsigned sl_ftz_on(void) { return 0; }
static inline void sl_ftz_restore(unsigned old) { (void)old; }
#endif

/* U(−k, k) for n values (PyTorch's RNN/GRU/LSTM init with k = 1/√N) */
static inline void sl_fill_uniform(sl_real *p, size_t n, double k, sl_rng *rng)
{
    for (size_t i = 0; i < n; i++) p[i] = (sl_real)((2 * sl_rng_uniform(rng) - 1) * k);
}


/* PyTorch's recurrent-layer tensors for G gate blocks (nn.RNN G = 1, nn.GRU
 * G = 3, nn.LSTM G = 4): weight_ih (G·N × n_in), weight_hh (G·N × N),
 * bias_ih (G·N), bias_hh (G·N), all initialised U(±1/√N) as PyTorch does. */
static inline void sl_torch_rnn_tensor(int G, const sl_cell_dims *d, int i, const char **name,
                                       int *ndim, int64_t shape[2])
{
    static const char *const names[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    *name = names[i];
    *ndim = i < 2 ? 2 : 1;
    shape[0] = (int64_t)G * d->n_hidden;
    shape[1] = i == 0 ? d->n_in : i == 1 ? d->n_hidden : 1;
}

static inline void sl_torch_rnn_init(int G, const sl_cell_dims *d, sl_real *const *p, sl_rng *rng)
{
    const size_t GN = (size_t)G * d->n_hidden;
    const double k = 1.0 / sqrt((double)d->n_hidden);
    sl_fill_uniform(p[0], GN * (size_t)d->n_in, k, rng);
    sl_fill_uniform(p[1], GN * (size_t)d->n_hidden, k, rng);
    sl_fill_uniform(p[2], GN, k, rng);
    sl_fill_uniform(p[3], GN, k, rng);
}
/* g[j] += Σ_rows D[row·ld + j] and g2[j] += the same (g2 may be NULL):
 * the bias gradients, column sums over the T·B rows */
static inline void sl_colsum_add(const sl_real *D, size_t rows, int M, int ld, sl_real *g,
                                 sl_real *g2)
{
    for (size_t r = 0; r < rows; r++) {
        const sl_real *d = D + r * (size_t)ld;
        for (int j = 0; j < M; j++) g[j] += d[j];
        if (g2)
            for (int j = 0; j < M; j++) g2[j] += d[j];
    }
}

/* ------------------------------------------------ float32 vector kernels */
/* ctrnn.c's 16-lane vector-extension helpers (GCC and clang; lowered to
 * AVX-512, AVX2 or SSE by -march), shared by the cells' float32 gate passes:
 * GCC -O2 leaves loops of unknown length scalar. Used only when sl_real is
 * float (SL_REAL_IS_FLOAT; F32/F32W cast sl_real pointers in that case). */
typedef float vf16 __attribute__((vector_size(64)));
typedef int vi16 __attribute__((vector_size(64)));
#define VF(x) ((vf16){0} + (float)(x))
#define F32(p) ((const float *)(const void *)(p))
#define F32W(p) ((float *)(void *)(p))
static inline vf16 vload(const float *p) { vf16 v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf16 v) { memcpy(p, &v, sizeof v); }
static inline vf16 vload_n(const float *p, size_t n) { vf16 v = VF(0); memcpy(&v, p, n * sizeof(float)); return v; }
static inline void vstore_n(float *p, vf16 v, size_t n) { memcpy(p, &v, n * sizeof(float)); }
/* w (≤ 16) lanes: whole-vector access when w == 16 */
static inline vf16 vld(const float *p, size_t w) { return w == 16 ? vload(p) : vload_n(p, w); }
static inline void vst(float *p, vf16 v, size_t w)
{
    if (w == 16) vstore(p, v);
    else vstore_n(p, v, w);
}
/* n (≤ 16) lanes without a libc call for partial vectors: AVX-512 masked
 * loads/stores (masked-off lanes are never touched), else vld/vst */
static inline vf16 vld_m(const float *p, size_t n)
{
#ifdef __AVX512F__
    return (vf16)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
#else
    return n ? vld(p, n) : VF(0);
#endif
}
static inline void vst_m(float *p, vf16 v, size_t n)
{
#ifdef __AVX512F__
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
#else
    if (n) vst(p, v, n);
#endif
}
static inline vf16 vsel(vi16 m, vf16 a, vf16 b) { return (vf16)(((vi16)a & m) | ((vi16)b & ~m)); }
#ifdef __AVX512F__
/* a·b + c as one FMA (GCC does not contract a·b + c under -std=c11) */
static inline vf16 vfma(vf16 a, vf16 b, vf16 c)
{
    return (vf16)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
}
/* 1/q: the 14-bit estimate and one Newton step (rel. error ~2⁻²⁷) */
static inline vf16 vrecip(vf16 q)
{
    vf16 y = (vf16)_mm512_rcp14_ps((__m512)q);
    return vfma(y, vfma(-q, y, VF(1)), y);
}
#else
static inline vf16 vfma(vf16 a, vf16 b, vf16 c) { return a * b + c; }
static inline vf16 vrecip(vf16 q) { return 1.0f / q; }
#endif
/* sl_tanh_f32 on 16 lanes ([13/6] rational on [-7.905, 7.905], |err| < 3e-7) */
static inline vf16 vtanh(vf16 x)
{
    const vf16 c = VF(7.90531110763549805f);
    x = vsel(x > c, c, x);
    x = vsel(x < -c, -c, x);
    vf16 x2 = x * x;
    vf16 p = vfma(x2, VF(-2.76076847742355e-16f), VF(2.00018790482477e-13f));
    p = vfma(p, x2, VF(-8.60467152213735e-11f));
    p = vfma(p, x2, VF(5.12229709037114e-08f));
    p = vfma(p, x2, VF(1.48572235717979e-05f));
    p = vfma(p, x2, VF(6.37261928875436e-04f));
    p = vfma(p, x2, VF(4.89352455891786e-03f));
    vf16 q = vfma(x2, VF(1.19825839466702e-06f), VF(1.18534705686654e-04f));
    q = vfma(q, x2, VF(2.26843463243900e-03f));
    q = vfma(q, x2, VF(4.89352518554385e-03f));
    return x * p * vrecip(q);
}
/* σ(x) = ½ + ½·tanh(x/2), as sl_sigmoid_r */
static inline vf16 vsigmoid(vf16 x) { return vfma(VF(0.5f), vtanh(VF(0.5f) * x), VF(0.5f)); }

/* ------------------------------------------------- per-step small GEMMs */
/* Row-major C(M×N) = op(A)(M×K)·op(B)(K×N) (+ C when accumulate), the shape
 * fixed once per forward/backward and then run every time step. At the
 * cells' sizes (B ≤ ~64 rows, N ≤ a few hundred) a libxsmm JIT kernel beats
 * OpenBLAS' small-matrix path and needs no packing (see ctrnn.c). libxsmm is
 * column-major: row-major C is the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so the
 * kernel is m = N, n = M, k = K with the operands in the order (B, A), and a
 * transposed A is libxsmm's TRANS_B. libxsmm takes only α = 1, β ∈ {0, 1}.
 * The float64 build, a transposed B, or a shape libxsmm cannot JIT use
 * sl_gemm (OpenBLAS). */
typedef struct {
    libxsmm_smmfunction f; /* NULL: sl_gemm */
    int ta, tb, M, N, K, lda, ldb, ldc, acc;
} sl_mm;

static inline sl_mm sl_mm_make(int ta, int tb, int M, int N, int K, int lda, int ldb, int ldc,
                               int accumulate)
{
    sl_mm k = {NULL, ta, tb, M, N, K, lda, ldb, ldc, accumulate};
    if (SL_REAL_IS_FLOAT && !tb && M > 0 && N > 0 && K > 0) {
        const float one = 1, beta = accumulate ? 1.0f : 0.0f;
        const int flags = (ta ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) |
                          (accumulate ? 0 : LIBXSMM_GEMM_FLAG_BETA_0),
                  prefetch = LIBXSMM_GEMM_PREFETCH_NONE;
        const libxsmm_blasint la = lda, lb = ldb, lc = ldc;
        k.f = libxsmm_smmdispatch(N, M, K, &lb, &la, &lc, &one, &beta, &flags, &prefetch);
    }
    return k;
}

static inline void sl_mm_run(const sl_mm *k, const sl_real *A, const sl_real *B, sl_real *C)
{
    if (k->f)
        k->f(F32(B), F32(A), F32W(C));
    else
        sl_gemm(k->ta, k->tb, k->M, k->N, k->K, 1.0, A, k->lda, B, k->ldb, k->acc ? 1.0 : 0.0, C,
                k->ldc);
}

/* Mᵀ (cols×rows) of the row-major rows×cols M */
static inline void sl_transpose(const sl_real *M, int rows, int cols, sl_real *Mt)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) Mt[(size_t)j * rows + i] = M[(size_t)i * cols + j];
}

#endif
