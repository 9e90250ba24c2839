/* pool.c — 2-D max- and average-pooling (F.max_pool2d, F.avg_pool2d with
 * ceil_mode=False, count_include_pad=True, no dilation):
 *
 *   window(y, x) = rows y·sH − pH … + kH − 1, columns x·sW − pW … + kW − 1
 *   max:  Y[n,c,y,x] = max_{(h,w) ∈ window ∩ image} X[n,c,h,w],  a = argmax
 *         dX[n,c,h,w] = Σ_{(y,x): a(y,x) = (h,w)} dY[n,c,y,x]
 *   avg:  Y[n,c,y,x] = (1/(kH·kW)) Σ_{(h,w) ∈ window ∩ image} X[n,c,h,w]
 *         dX[n,c,h,w] = Σ_{(y,x): (h,w) ∈ window(y,x)} dY[n,c,y,x] / (kH·kW)
 *
 * Padding is −∞ for max (never chosen: a window always holds an image
 * pixel, since pad ≤ k/2) and 0 for avg, counted in the divisor. The argmax
 * is the flat index h·W + w inside the (n, c) plane, scanned in row-major
 * order, keeping the first maximum (strict >) unless a NaN appears, which
 * wins and propagates — PyTorch's CPU kernel exactly, so ties (ReLU zeros)
 * route the gradient to the same pixel as PyTorch does.
 *
 * The seed network's 2×2/stride-2 window has a branch-free path, vectorised
 * over 16 output columns in float32 (maxpool_2x2_vec).
 *
 * Layouts: X N×C×H×W, Y and argmax N×C×OH×OW, row-major. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nn/act.h"
#include "nn/layers.h"

int sl_pool2d_out_h(const sl_pool2d_shape *s) { return (s->H + 2 * s->pH - s->kH) / s->sH + 1; }
int sl_pool2d_out_w(const sl_pool2d_shape *s) { return (s->W + 2 * s->pW - s->kW) / s->sW + 1; }

sl_pool2d_shape sl_pool2d_square(int N, int C, int H, int W, int k)
{
    sl_pool2d_shape s = {N, C, H, W, k, k, k, k, 0, 0};
    return s;
}

sl_status sl_pool2d_check(const sl_pool2d_shape *s)
{
    if (!s) return sl_fail(SL_EINVAL, "pool2d: no shape");
    if (s->N < 1 || s->C < 1 || s->H < 1 || s->W < 1 || s->kH < 1 || s->kW < 1)
        return sl_fail(SL_EINVAL,
                       "pool2d: sizes must be positive (N %d, C %d, H %d, W %d, kernel %d×%d)",
                       s->N, s->C, s->H, s->W, s->kH, s->kW);
    if (s->sH < 1 || s->sW < 1)
        return sl_fail(SL_EINVAL, "pool2d: stride must be ≥ 1 (got %d×%d)", s->sH, s->sW);
    if (s->pH < 0 || s->pW < 0 || 2 * s->pH > s->kH || 2 * s->pW > s->kW)
        return sl_fail(SL_EINVAL,
                       "pool2d: padding %d×%d must be between 0 and half the kernel %d×%d",
                       s->pH, s->pW, s->kH, s->kW);
    if ((int64_t)s->H + 2 * (int64_t)s->pH < s->kH || (int64_t)s->W + 2 * (int64_t)s->pW < s->kW)
        return sl_fail(SL_EINVAL, "pool2d: window %d×%d larger than the padded input %d×%d",
                       s->kH, s->kW, s->H, s->W);
    if ((int64_t)s->H * s->W > INT32_MAX || (double)s->N * s->C * s->H * s->W > 1e18)
        return sl_fail(SL_EINVAL, "pool2d: sizes too large");
    return SL_OK;
}

/* the seed network's 2×2 window, stride 2, no padding: branch-free selects
 * in the same scan order (row-major, first maximum, NaN wins) */
static void maxpool_2x2(const sl_pool2d_shape *s, const sl_real *X, sl_real *Y, int32_t *argmax)
{
    const int OH = sl_pool2d_out_h(s), OW = sl_pool2d_out_w(s), W = s->W;
    const size_t HW = (size_t)s->H * W, P = (size_t)OH * OW;
    for (size_t pl = 0; pl < (size_t)s->N * s->C; pl++) {
        const sl_real *xp = X + pl * HW;
        sl_real *yp = Y + pl * P;
        int32_t *ap = argmax + pl * P;
        for (int y = 0; y < OH; y++) {
            const sl_real *r0 = xp + (size_t)(2 * y) * W, *r1 = r0 + W;
            for (int x = 0; x < OW; x++) {
                const int32_t i0 = 2 * y * W + 2 * x;
                sl_real m = r0[2 * x];
                int32_t a = i0;
                const sl_real v1 = r0[2 * x + 1], v2 = r1[2 * x], v3 = r1[2 * x + 1];
                int t = (v1 > m) | (v1 != v1); /* | not ||: no branches */
                m = t ? v1 : m, a = t ? i0 + 1 : a;
                t = (v2 > m) | (v2 != v2);
                m = t ? v2 : m, a = t ? i0 + W : a;
                t = (v3 > m) | (v3 != v3);
                m = t ? v3 : m, a = t ? i0 + W + 1 : a;
                /* a NaN first element stays (nothing is > NaN), as in PyTorch */
                yp[(size_t)y * OW + x] = m;
                ap[(size_t)y * OW + x] = a;
            }
        }
    }
}

/* The same 2×2 pooling on 16 output columns at a time (float32): the even
 * and odd input columns of both rows are split by a shuffle, then the same
 * three selects run lane-wise with vector masks. */
#if defined(__clang__)
#define EVEN_LANES(a, b) \
    __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define ODD_LANES(a, b) \
    __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#else
#define EVEN_LANES(a, b) \
    __builtin_shuffle(a, b, (vi16){0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30})
#define ODD_LANES(a, b) \
    __builtin_shuffle(a, b, (vi16){1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31})
#endif

/* w ≤ 16 int32 lanes (the argmax) */
static inline void st_i32(int32_t *p, vi16 a, size_t n)
{
#ifdef __AVX512F__
    _mm512_mask_storeu_epi32(p, (__mmask16)((1u << n) - 1), (__m512i)a);
#else
    memcpy(p, &a, n * sizeof(int32_t));
#endif
}

static void maxpool_2x2_vec(const sl_pool2d_shape *s, const float *X, float *Y, int32_t *argmax)
{
    const int OH = sl_pool2d_out_h(s), OW = sl_pool2d_out_w(s), W = s->W;
    const size_t HW = (size_t)s->H * W, P = (size_t)OH * OW;
    const vi16 lane2 = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    for (size_t pl = 0; pl < (size_t)s->N * s->C; pl++) {
        const float *xp = X + pl * HW;
        float *yp = Y + pl * P;
        int32_t *ap = argmax + pl * P;
        for (int y = 0; y < OH; y++) {
            const float *r0 = xp + (size_t)(2 * y) * W, *r1 = r0 + W;
            for (int x = 0; x < OW; x += 16) {
                const size_t w = OW - x < 16 ? (size_t)(OW - x) : 16, n = 2 * w;
                const size_t na = n < 16 ? n : 16, nb = n - na;
                const vf16 a0 = vld_m(r0 + 2 * x, na), b0 = vld_m(r0 + 2 * x + 16, nb);
                const vf16 a1 = vld_m(r1 + 2 * x, na), b1 = vld_m(r1 + 2 * x + 16, nb);
                const vf16 v1 = ODD_LANES(a0, b0), v2 = EVEN_LANES(a1, b1), v3 = ODD_LANES(a1, b1);
                vf16 m = EVEN_LANES(a0, b0);
                const vi16 i0 = lane2 + (2 * y * W + 2 * x);
                vi16 a = i0;
                vi16 t = (v1 > m) | (v1 != v1);
                m = vsel(t, v1, m), a = (a & ~t) | ((i0 + 1) & t);
                t = (v2 > m) | (v2 != v2);
                m = vsel(t, v2, m), a = (a & ~t) | ((i0 + W) & t);
                t = (v3 > m) | (v3 != v3);
                m = vsel(t, v3, m), a = (a & ~t) | ((i0 + W + 1) & t);
                vst_m(yp + (size_t)y * OW + x, m, w);
                st_i32(ap + (size_t)y * OW + x, a, w);
            }
        }
    }
}

void sl_maxpool2d_forward(const sl_pool2d_shape *s, const sl_real *X, sl_real *Y,
                          int32_t *argmax)
{
    if (s->kH == 2 && s->kW == 2 && s->sH == 2 && s->sW == 2 && s->pH == 0 && s->pW == 0) {
        if (SL_REAL_IS_FLOAT)
            maxpool_2x2_vec(s, F32(X), F32W(Y), argmax);
        else
            maxpool_2x2(s, X, Y, argmax);
        return;
    }
    const int OH = sl_pool2d_out_h(s), OW = sl_pool2d_out_w(s);
    const size_t HW = (size_t)s->H * s->W, P = (size_t)OH * OW;
    for (size_t pl = 0; pl < (size_t)s->N * s->C; pl++) {
        const sl_real *xp = X + pl * HW;
        sl_real *yp = Y + pl * P;
        int32_t *ap = argmax + pl * P;
        for (int y = 0; y < OH; y++) {
            int h0 = y * s->sH - s->pH, h1 = h0 + s->kH;
            if (h0 < 0) h0 = 0;
            if (h1 > s->H) h1 = s->H;
            for (int x = 0; x < OW; x++) {
                int w0 = x * s->sW - s->pW, w1 = w0 + s->kW;
                if (w0 < 0) w0 = 0;
                if (w1 > s->W) w1 = s->W;
                int32_t best = h0 * s->W + w0;
                sl_real m = -(sl_real)INFINITY;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) {
                        const int32_t i = h * s->W + w;
                        const sl_real v = xp[i];
                        if (v > m || isnan(v)) {
                            m = v;
                            best = i;
                        }
                    }
                yp[(size_t)y * OW + x] = m;
                ap[(size_t)y * OW + x] = best;
            }
        }
    }
}

void sl_maxpool2d_backward(const sl_pool2d_shape *s, const sl_real *dY, const int32_t *argmax,
                           sl_real *dX)
{
    const size_t HW = (size_t)s->H * s->W;
    const size_t P = (size_t)sl_pool2d_out_h(s) * sl_pool2d_out_w(s);
    memset(dX, 0, (size_t)s->N * s->C * HW * sizeof(sl_real));
    for (size_t pl = 0; pl < (size_t)s->N * s->C; pl++) {
        sl_real *dxp = dX + pl * HW;
        const sl_real *dyp = dY + pl * P;
        const int32_t *ap = argmax + pl * P;
        for (size_t p = 0; p < P; p++) dxp[ap[p]] += dyp[p];
    }
}

void sl_avgpool2d_forward(const sl_pool2d_shape *s, const sl_real *X, sl_real *Y)
{
    const int OH = sl_pool2d_out_h(s), OW = sl_pool2d_out_w(s);
    const size_t HW = (size_t)s->H * s->W, P = (size_t)OH * OW;
    for (size_t pl = 0; pl < (size_t)s->N * s->C; pl++) {
        const sl_real *xp = X + pl * HW;
        sl_real *yp = Y + pl * P;
        for (int y = 0; y < OH; y++) {
            int h0 = y * s->sH - s->pH, h1 = h0 + s->kH;
            const int hp = (h1 < s->H + s->pH ? h1 : s->H + s->pH) - h0;
            if (h0 < 0) h0 = 0;
            if (h1 > s->H) h1 = s->H;
            for (int x = 0; x < OW; x++) {
                int w0 = x * s->sW - s->pW, w1 = w0 + s->kW;
                const int wp = (w1 < s->W + s->pW ? w1 : s->W + s->pW) - w0;
                if (w0 < 0) w0 = 0;
                if (w1 > s->W) w1 = s->W;
                sl_real acc = 0;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) acc += xp[(size_t)h * s->W + w];
                yp[(size_t)y * OW + x] = acc / (sl_real)(hp * wp);
            }
        }
    }
}

void sl_avgpool2d_backward(const sl_pool2d_shape *s, const sl_real *dY, sl_real *dX)
{
    const int OH = sl_pool2d_out_h(s), OW = sl_pool2d_out_w(s);
    const size_t HW = (size_t)s->H * s->W, P = (size_t)OH * OW;
    memset(dX, 0, (size_t)s->N * s->C * HW * sizeof(sl_real));
    for (size_t pl = 0; pl < (size_t)s->N * s->C; pl++) {
        sl_real *dxp = dX + pl * HW;
        const sl_real *dyp = dY + pl * P;
        for (int y = 0; y < OH; y++) {
            int h0 = y * s->sH - s->pH, h1 = h0 + s->kH;
            const int hp = (h1 < s->H + s->pH ? h1 : s->H + s->pH) - h0;
            if (h0 < 0) h0 = 0;
            if (h1 > s->H) h1 = s->H;
            for (int x = 0; x < OW; x++) {
                int w0 = x * s->sW - s->pW, w1 = w0 + s->kW;
                const int wp = (w1 < s->W + s->pW ? w1 : s->W + s->pW) - w0;
                if (w0 < 0) w0 = 0;
                if (w1 > s->W) w1 = s->W;
                const sl_real g = dyp[(size_t)y * OW + x] / (sl_real)(hp * wp);
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) dxp[(size_t)h * s->W + w] += g;
            }
        }
    }
}
