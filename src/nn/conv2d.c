/* conv2d.c — 2-D convolution (cross-correlation, as torch.nn.Conv2d) with
 * stride, zero padding and bias; no dilation, no groups:
 *
 *   Y[n,o,y,x] = b[o] + Σ_{c,i,j} W[o,c,i,j] · X[n, c, y·sH − pH + i, x·sW − pW + j]
 *
 * (X read as 0 outside the image). With K = C_in·kH·kW and P = OH·OW, im2col
 * lays the receptive fields of a chunk of m images out as the K×(m·P) matrix
 *   col[(c·kH + i)·kW + j, n·P + y·OW + x] = X[n, c, y·sH − pH + i, x·sW − pW + j]
 * and then
 *   forward    Yc  = W col            (C_out×K · K×mP, one GEMM per chunk)
 *              Y[n,o,:] = Yc[o, n·P:(n+1)·P] + b[o]
 *   backward   dW += dYc colᵀ          (C_out×mP · mP×K)
 *              db += Σ_{n,p} dY[n,o,p]
 *              dcol = Wᵀ dYc, dX = col2im(dcol)   (the adjoint of im2col:
 *                     every entry of dcol is added back where it was read)
 * where dYc is dY rearranged as C_out×mP. One GEMM over a chunk of the batch
 * (rather than one per image) keeps the GEMMs large for the 28×28 images of
 * the seed network; chunks bound the scratch (~4M reals) for big batches.
 *
 * When the batch fits one chunk the forward leaves im2col(X) in scratch, and
 * sl_conv2d_backward_cached uses it instead of recomputing it.
 *
 * Layouts: X N×C_in×H×W, W C_out×C_in×kH×kW (PyTorch's), b C_out,
 * Y N×C_out×OH×OW, all row-major. Scratch (sl_conv2d_scratch_size):
 * col (K×mP) then Yc / dYc (C_out×mP); backward recomputes col from X, and
 * reuses col's memory for dcol once dW is done. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/blas.h"
#include "nn/act.h"
#include "nn/layers.h"

#define CONV_CHUNK_REALS ((size_t)1 << 22)

int sl_conv2d_out_h(const sl_conv2d_shape *s) { return (s->H + 2 * s->pH - s->kH) / s->sH + 1; }
int sl_conv2d_out_w(const sl_conv2d_shape *s) { return (s->W + 2 * s->pW - s->kW) / s->sW + 1; }

sl_status sl_conv2d_check(const sl_conv2d_shape *s)
{
    if (!s) return sl_fail(SL_EINVAL, "conv2d: no shape");
    if (s->N < 1 || s->C_in < 1 || s->H < 1 || s->W < 1 || s->C_out < 1 || s->kH < 1 || s->kW < 1)
        return sl_fail(SL_EINVAL,
                       "conv2d: sizes must be positive (N %d, C_in %d, H %d, W %d, C_out %d, "
                       "kernel %d×%d)",
                       s->N, s->C_in, s->H, s->W, s->C_out, s->kH, s->kW);
    if (s->sH < 1 || s->sW < 1)
        return sl_fail(SL_EINVAL, "conv2d: stride must be ≥ 1 (got %d×%d)", s->sH, s->sW);
    if (s->pH < 0 || s->pW < 0)
        return sl_fail(SL_EINVAL, "conv2d: padding must be ≥ 0 (got %d×%d)", s->pH, s->pW);
    if ((int64_t)s->H + 2 * (int64_t)s->pH < s->kH || (int64_t)s->W + 2 * (int64_t)s->pW < s->kW)
        return sl_fail(SL_EINVAL,
                       "conv2d: kernel %d×%d larger than the padded input %d×%d (padding %d×%d)",
                       s->kH, s->kW, s->H, s->W, s->pH, s->pW);
    int64_t K = (int64_t)s->C_in * s->kH * s->kW;
    int64_t P = (int64_t)sl_conv2d_out_h(s) * sl_conv2d_out_w(s);
    int64_t in = (int64_t)s->C_in * s->H * s->W, out = (int64_t)s->C_out * P;
    if (K > INT_MAX || P > INT_MAX / K || in > INT_MAX || out > INT_MAX ||
        (int64_t)s->C_out * K > INT_MAX || (double)s->N * (double)(in > out ? in : out) > 1e18)
        return sl_fail(SL_EINVAL, "conv2d: sizes too large");
    return SL_OK;
}

/* images per chunk: as many as fit CONV_CHUNK_REALS of scratch, at least 1 */
static int conv_chunk(const sl_conv2d_shape *s)
{
    size_t P = (size_t)sl_conv2d_out_h(s) * sl_conv2d_out_w(s);
    size_t K = (size_t)s->C_in * s->kH * s->kW;
    size_t per = P * (K + (size_t)s->C_out);
    size_t nb = CONV_CHUNK_REALS / per;
    if (nb < 1) nb = 1;
    /* the GEMM's leading dimension m·P must fit an int */
    if (nb > (size_t)INT_MAX / P) nb = (size_t)INT_MAX / P;
    if (nb > (size_t)s->N) nb = (size_t)s->N;
    return (int)nb;
}

size_t sl_conv2d_scratch_size(const sl_conv2d_shape *s)
{
    size_t P = (size_t)sl_conv2d_out_h(s) * sl_conv2d_out_w(s);
    size_t K = (size_t)s->C_in * s->kH * s->kW;
    return (size_t)conv_chunk(s) * P * (K + (size_t)s->C_out);
}

void sl_conv2d_init(const sl_conv2d_shape *s, sl_real *W, sl_real *b, sl_rng *rng)
{
    size_t K = (size_t)s->C_in * s->kH * s->kW;
    double bound = 1.0 / sqrt((double)K);
    for (size_t i = 0; i < (size_t)s->C_out * K; i++)
        W[i] = (sl_real)((2 * sl_rng_uniform(rng) - 1) * bound);
    if (b)
        for (int o = 0; o < s->C_out; o++) b[o] = (sl_real)((2 * sl_rng_uniform(rng) - 1) * bound);
}

/* the output columns x whose input column x·sW − pW + j lies in [0, W):
 * [*lo, *hi) */
static void valid_cols(int j, int stride, int pad, int Win, int OW, int *lo, int *hi)
{
    int a = pad - j; /* x·stride ≥ a */
    int l = a <= 0 ? 0 : (a + stride - 1) / stride;
    int top = Win - 1 + pad - j; /* x·stride ≤ top */
    int h = top < 0 ? 0 : top / stride + 1;
    if (h > OW) h = OW;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* d[0..n) = s[0..n), 16 lanes at a time (float32): im2col's rows are a few
 * dozen values, where a memcpy call costs more than the copy */
static inline void copy_row(float *d, const float *s, size_t n)
{
    for (size_t x = 0; x < n; x += 16) {
        const size_t w = n - x < 16 ? n - x : 16;
        vst_m(d + x, vld_m(s + x, w), w);
    }
}

/* col (K × m·P) from m images starting at X (C_in×H×W each) */
static void im2col(const sl_conv2d_shape *s, int OH, int OW, const sl_real *X, int m, sl_real *col)
{
    const size_t P = (size_t)OH * OW, ld = (size_t)m * P, HW = (size_t)s->H * s->W;
    for (int c = 0; c < s->C_in; c++)
        for (int i = 0; i < s->kH; i++)
            for (int j = 0; j < s->kW; j++) {
                sl_real *row = col + ((size_t)(c * s->kH + i) * s->kW + j) * ld;
                int lo, hi;
                valid_cols(j, s->sW, s->pW, s->W, OW, &lo, &hi);
                for (int n = 0; n < m; n++) {
                    const sl_real *xc = X + ((size_t)n * s->C_in + c) * HW;
                    for (int y = 0; y < OH; y++) {
                        sl_real *dst = row + (size_t)n * P + (size_t)y * OW;
                        int ih = y * s->sH - s->pH + i;
                        if (ih < 0 || ih >= s->H) {
                            memset(dst, 0, (size_t)OW * sizeof(sl_real));
                            continue;
                        }
                        const ptrdiff_t off = (ptrdiff_t)ih * s->W - s->pW + j;
                        for (int x = 0; x < lo; x++) dst[x] = 0;
                        if (s->sW == 1 && SL_REAL_IS_FLOAT)
                            copy_row(F32W(dst + lo), F32(xc + (off + lo)), (size_t)(hi - lo));
                        else if (s->sW == 1)
                            memcpy(dst + lo, xc + (off + lo), (size_t)(hi - lo) * sizeof(sl_real));
                        else
                            for (int x = lo; x < hi; x++) dst[x] = xc[off + (ptrdiff_t)x * s->sW];
                        for (int x = hi; x < OW; x++) dst[x] = 0;
                    }
                }
            }
}

/* d[0..n) += s[0..n), 16 lanes at a time (float32) */
static inline void add_row(float *d, const float *s, size_t n)
{
    for (size_t x = 0; x < n; x += 16) {
        const size_t w = n - x < 16 ? n - x : 16;
        vst_m(d + x, vld_m(d + x, w) + vld_m(s + x, w), w);
    }
}

/* Σ of n values: 16 float lanes (float32), else a double loop */
static double sum_plane(const sl_real *p, size_t n)
{
    if (!SL_REAL_IS_FLOAT) {
        double acc = 0;
        for (size_t i = 0; i < n; i++) acc += p[i];
        return acc;
    }
    vf16 acc = VF(0);
    for (size_t i = 0; i < n; i += 16) acc += vld_m(F32(p) + i, n - i < 16 ? n - i : 16);
    double t = 0;
    for (int k = 0; k < 16; k++) t += acc[k];
    return t;
}

/* dX (m images, already zeroed) += col2im(dcol) */
static void col2im(const sl_conv2d_shape *s, int OH, int OW, const sl_real *dcol, int m,
                   sl_real *dX)
{
    const size_t P = (size_t)OH * OW, ld = (size_t)m * P, HW = (size_t)s->H * s->W;
    for (int c = 0; c < s->C_in; c++)
        for (int i = 0; i < s->kH; i++)
            for (int j = 0; j < s->kW; j++) {
                const sl_real *row = dcol + ((size_t)(c * s->kH + i) * s->kW + j) * ld;
                int lo, hi;
                valid_cols(j, s->sW, s->pW, s->W, OW, &lo, &hi);
                for (int n = 0; n < m; n++) {
                    sl_real *xc = dX + ((size_t)n * s->C_in + c) * HW;
                    for (int y = 0; y < OH; y++) {
                        int ih = y * s->sH - s->pH + i;
                        if (ih < 0 || ih >= s->H) continue;
                        const sl_real *src = row + (size_t)n * P + (size_t)y * OW;
                        const ptrdiff_t off = (ptrdiff_t)ih * s->W - s->pW + j;
                        if (s->sW == 1 && SL_REAL_IS_FLOAT)
                            add_row(F32W(xc + off + lo), F32(src + lo), (size_t)(hi - lo));
                        else if (s->sW == 1)
                            for (int x = lo; x < hi; x++) xc[off + x] += src[x];
                        else
                            for (int x = lo; x < hi; x++) xc[off + (ptrdiff_t)x * s->sW] += src[x];
                    }
                }
            }
}

void sl_conv2d_forward(const sl_conv2d_shape *s, const sl_real *X, const sl_real *W,
                       const sl_real *b, sl_real *Y, sl_real *scratch)
{
    const int OH = sl_conv2d_out_h(s), OW = sl_conv2d_out_w(s), nb = conv_chunk(s);
    const int K = s->C_in * s->kH * s->kW, Co = s->C_out;
    const size_t P = (size_t)OH * OW, in_img = (size_t)s->C_in * s->H * s->W;
    sl_real *col = scratch;
    for (int n0 = 0; n0 < s->N; n0 += nb) {
        const int m = s->N - n0 < nb ? s->N - n0 : nb;
        const int mP = (int)((size_t)m * P);
        sl_real *Yc = scratch + (size_t)K * mP;
        im2col(s, OH, OW, X + (size_t)n0 * in_img, m, col);
        sl_gemm(0, 0, Co, mP, K, 1.0, W, K, col, mP, 0.0, Yc, mP);
        for (int n = 0; n < m; n++)
            for (int o = 0; o < Co; o++) {
                sl_real *dst = Y + ((size_t)(n0 + n) * Co + o) * P;
                const sl_real *src = Yc + (size_t)o * mP + (size_t)n * P;
                const sl_real bo = b ? b[o] : 0;
                for (size_t p = 0; p < P; p++) dst[p] = src[p] + bo;
            }
    }
}

int sl_conv2d_one_chunk(const sl_conv2d_shape *s) { return conv_chunk(s) >= s->N; }

/* have_col: scratch already holds im2col(X) of the whole batch (one chunk) */
static void conv_backward(const sl_conv2d_shape *s, const sl_real *X, const sl_real *W,
                          const sl_real *dY, sl_real *dX, sl_real *dW, sl_real *db,
                          sl_real *scratch, int have_col)
{
    const int OH = sl_conv2d_out_h(s), OW = sl_conv2d_out_w(s), nb = conv_chunk(s);
    const int K = s->C_in * s->kH * s->kW, Co = s->C_out;
    const size_t P = (size_t)OH * OW, in_img = (size_t)s->C_in * s->H * s->W;
    sl_real *col = scratch;
    if (db)
        for (int o = 0; o < Co; o++) {
            double acc = 0;
            for (int n = 0; n < s->N; n++) acc += sum_plane(dY + ((size_t)n * Co + o) * P, P);
            db[o] += (sl_real)acc;
        }
    if (!dW && !dX) return;
    for (int n0 = 0; n0 < s->N; n0 += nb) {
        const int m = s->N - n0 < nb ? s->N - n0 : nb;
        const int mP = (int)((size_t)m * P);
        sl_real *dYc = scratch + (size_t)K * mP;
        for (int n = 0; n < m; n++)
            for (int o = 0; o < Co; o++) {
                sl_real *d = dYc + (size_t)o * mP + (size_t)n * P;
                const sl_real *src = dY + ((size_t)(n0 + n) * Co + o) * P;
                if (SL_REAL_IS_FLOAT)
                    copy_row(F32W(d), F32(src), P);
                else
                    memcpy(d, src, P * sizeof(sl_real));
            }
        if (dW) {
            if (!have_col) im2col(s, OH, OW, X + (size_t)n0 * in_img, m, col);
            sl_gemm(0, 1, Co, K, mP, 1.0, dYc, mP, col, mP, 1.0, dW, K);
        }
        if (dX) {
            sl_real *dXc = dX + (size_t)n0 * in_img;
            sl_gemm(1, 0, K, mP, Co, 1.0, W, K, dYc, mP, 0.0, col, mP);
            memset(dXc, 0, (size_t)m * in_img * sizeof(sl_real));
            col2im(s, OH, OW, col, m, dXc);
        }
    }
}

void sl_conv2d_backward(const sl_conv2d_shape *s, const sl_real *X, const sl_real *W,
                        const sl_real *dY, sl_real *dX, sl_real *dW, sl_real *db,
                        sl_real *scratch)
{
    conv_backward(s, X, W, dY, dX, dW, db, scratch, 0);
}

void sl_conv2d_backward_cached(const sl_conv2d_shape *s, const sl_real *W, const sl_real *dY,
                               sl_real *dX, sl_real *dW, sl_real *db, sl_real *scratch)
{
    conv_backward(s, NULL, W, dY, dX, dW, db, scratch, 1);
}
