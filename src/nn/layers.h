/* layers.h — the feed-forward layers of the vision pathway (issue 6): 2-D
 * convolution, max- and average-pooling, linear (fully connected), ReLU,
 * flatten and softmax cross-entropy. Plain functions on caller-owned
 * buffers, with explicit shapes; nothing here allocates or reads files.
 *
 * Layouts: images NCHW (batch, channel, row, column), row-major, batch-major;
 * dense activations B×F (batch, feature). Weights as PyTorch keeps them:
 * conv (C_out, C_in, kH, kW), linear (out, in), so a state dict maps 1:1.
 *
 * Flatten is a no-op: an NCHW tensor in row-major memory *is* the B×(C·H·W)
 * matrix torch.flatten(x, start_dim=1) gives (feature index c·H·W + h·W + w),
 * so a pooled feature map is passed to sl_linear_* as it is, and the linear
 * layer's dX is the pooled map's gradient in NCHW.
 *
 * Conventions shared by every backward here: dX is OVERWRITTEN (and may be
 * NULL when not needed, e.g. the first layer); parameter gradients (dW, db)
 * are ADDED to (zero them once per step, as the cells' backward does; NULL
 * skips them). A shape is checked once by its sl_*_check (SL_EINVAL with a
 * message); the forward/backward kernels then assume a checked shape.
 *
 * Init: PyTorch's defaults (nn.Conv2d / nn.Linear reset_parameters:
 * kaiming_uniform_ with a = √5, i.e. W ~ U(±1/√fan_in), and b ~ U(±1/√fan_in),
 * fan_in = C_in·kH·kW or in), W drawn first, then b, from the given rng. */
#ifndef SL_NN_LAYERS_H
#define SL_NN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "silico.h"

/* ------------------------------------------------------------------ conv2d */

/* Input N×C_in×H×W, weight C_out×C_in×kH×kW, bias C_out, output N×C_out×OH×OW
 * with OH = ⌊(H + 2pH − kH)/sH⌋ + 1, OW likewise (zero padding). */
typedef struct {
    int N, C_in, H, W;
    int C_out, kH, kW;
    int sH, sW; /* stride (≥ 1) */
    int pH, pW; /* zero padding on each side (≥ 0) */
} sl_conv2d_shape;

/* Validates the shape (positive sizes, kernel fits the padded input, sizes
 * that fit an int); SL_EINVAL otherwise. */
sl_status sl_conv2d_check(const sl_conv2d_shape *s);
int sl_conv2d_out_h(const sl_conv2d_shape *s);
int sl_conv2d_out_w(const sl_conv2d_shape *s);
/* Reals of scratch that forward and backward need (the im2col matrix and a
 * GEMM output for a chunk of the batch; at most ~4M reals for any N).
 * Forward and backward need not share it: backward recomputes im2col. */
size_t sl_conv2d_scratch_size(const sl_conv2d_shape *s);
/* W ~ U(±1/√fan_in), b ~ U(±1/√fan_in), fan_in = C_in·kH·kW (b may be NULL) */
void sl_conv2d_init(const sl_conv2d_shape *s, sl_real *W, sl_real *b, sl_rng *rng);
/* Y = W ⋆ X + b (b may be NULL: no bias) */
void sl_conv2d_forward(const sl_conv2d_shape *s, const sl_real *X, const sl_real *W,
                       const sl_real *b, sl_real *Y, sl_real *scratch);
/* From dY (N×C_out×OH×OW): dX = (overwritten; NULL skips it), dW += , db +=
 * (NULL skips either). */
void sl_conv2d_backward(const sl_conv2d_shape *s, const sl_real *X, const sl_real *W,
                        const sl_real *dY, sl_real *dX, sl_real *dW, sl_real *db,
                        sl_real *scratch);

/* Whether the whole batch is one im2col chunk (then the forward leaves
 * im2col(X) in its scratch), and the backward that reuses it: call it after
 * sl_conv2d_forward with the same shape and untouched scratch, only when
 * sl_conv2d_one_chunk; same results as sl_conv2d_backward without
 * recomputing im2col. */
int sl_conv2d_one_chunk(const sl_conv2d_shape *s);
void sl_conv2d_backward_cached(const sl_conv2d_shape *s, const sl_real *W, const sl_real *dY,
                               sl_real *dX, sl_real *dW, sl_real *db, sl_real *scratch);

/* ---------------------------------------------------------------- pooling */

/* Input N×C×H×W, output N×C×OH×OW, OH = ⌊(H + 2pH − kH)/sH⌋ + 1 (PyTorch's
 * ceil_mode=False); padding at most half the kernel, as PyTorch requires. */
typedef struct {
    int N, C, H, W;
    int kH, kW; /* window */
    int sH, sW; /* stride (PyTorch's default is the window) */
    int pH, pW; /* implicit padding: −∞ for max, 0 for average */
} sl_pool2d_shape;

sl_status sl_pool2d_check(const sl_pool2d_shape *s);
int sl_pool2d_out_h(const sl_pool2d_shape *s);
int sl_pool2d_out_w(const sl_pool2d_shape *s);
/* The k×k window with stride k (F.max_pool2d(x, k)): N, C, H, W from args. */
sl_pool2d_shape sl_pool2d_square(int N, int C, int H, int W, int k);

/* Y = max over each window; argmax (N×C×OH×OW) gets the flat index h·W + w
 * of the maximum in its input plane (as PyTorch's return_indices), the first
 * maximum in row-major window order on ties, NaN winning. */
void sl_maxpool2d_forward(const sl_pool2d_shape *s, const sl_real *X, sl_real *Y,
                          int32_t *argmax);
/* dX = scatter-add of dY to the saved argmax positions (overwritten) */
void sl_maxpool2d_backward(const sl_pool2d_shape *s, const sl_real *dY, const int32_t *argmax,
                           sl_real *dX);
/* Y = mean over each window, padding counted (count_include_pad=True) */
void sl_avgpool2d_forward(const sl_pool2d_shape *s, const sl_real *X, sl_real *Y);
/* dX (overwritten) */
void sl_avgpool2d_backward(const sl_pool2d_shape *s, const sl_real *dY, sl_real *dX);

/* ----------------------------------------------------------------- linear */

/* X B×in, W out×in, b out (may be NULL), Y B×out */
void sl_linear_init(int in, int out, sl_real *W, sl_real *b, sl_rng *rng);
/* Y = X Wᵀ + b */
void sl_linear_forward(int B, int in, int out, const sl_real *X, const sl_real *W,
                       const sl_real *b, sl_real *Y);
/* dX = dY W (overwritten; NULL skips), dW += dYᵀ X, db += Σ_rows dY */
void sl_linear_backward(int B, int in, int out, const sl_real *X, const sl_real *W,
                        const sl_real *dY, sl_real *dX, sl_real *dW, sl_real *db);

/* ------------------------------------------------------------------- ReLU */

/* y = max(x, 0) over n values (y may be x: in place) */
void sl_relu_forward(const sl_real *x, sl_real *y, size_t n);
/* dx = dy ⊙ [y > 0] from the forward's OUTPUT y (so the forward may run in
 * place); dx may be dy. At x = 0 the derivative is 0, as PyTorch's. */
void sl_relu_backward(const sl_real *y, const sl_real *dy, sl_real *dx, size_t n);

/* ---------------------------------------------------- softmax cross-entropy */

/* Z: B×C logits, y: B labels in [0, C), or negative to ignore the row
 * (PyTorch's ignore_index). Mean cross-entropy over the n non-ignored rows
 * (F.cross_entropy, reduction='mean'):
 *     L = (1/n) Σ_b [logsumexp(Z_b) − Z_b,y_b]
 * *loss gets L (0 when n = 0); dZ (may be NULL) gets ∂L/∂Z =
 * (softmax(Z_b) − onehot(y_b))/n on kept rows and 0 on ignored ones;
 * n_correct (may be NULL) the number of kept rows whose first-maximum argmax
 * is y_b. SL_EINVAL when a label is ≥ C, SL_ENUMERIC when a logit is not
 * finite. */
sl_status sl_softmax_xent(int B, int C, const sl_real *Z, const int *y, double *loss,
                          sl_real *dZ, int *n_correct);

#endif
