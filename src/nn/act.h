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
 * sl_act_deriv(a, x, y) is f'(x) given x and y = f(x). */
#ifndef SL_NN_ACT_H
#define SL_NN_ACT_H

#include <math.h>

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

/* U(−k, k) for n values (PyTorch's RNN/GRU/LSTM init with k = 1/√N) */
static inline void sl_fill_uniform(sl_real *p, size_t n, double k, sl_rng *rng)
{
    for (size_t i = 0; i < n; i++) p[i] = (sl_real)((2 * sl_rng_uniform(rng) - 1) * k);
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

#endif
