/* test_layers_fd.c — float64 finite-difference checks of the feed-forward
 * layers (src/nn/conv2d.c, pool.c, linear.c, relu.c, xent.c).
 *
 * Single layers: L = Σ G ⊙ Y with a fixed random G; cross-entropy: L itself;
 * and a small composed network (conv → ReLU → max-pool → flatten → linear →
 * cross-entropy). For every element of the input and of every parameter the
 * central difference (h = 1e-6) is compared with the analytic gradient:
 *     rel = max|fd − an| / max(max|an|, 1e-8) ≤ 1e-6   (per tensor).
 * Max-pool inputs are distinct values 0.05 apart (no ties, no argmax flip
 * under the step); the composed network is redrawn until no ReLU input is
 * within 1e-4 of 0 and every pool window's maximum leads by 1e-4 (or is 0). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"
#include "silico.h"
#include "testutil.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "layers FD needs -DSL_REAL=double");

#define FD_H 1e-6
#define FD_TOL 1e-6

static sl_real *fd_alloc(size_t n)
{
    sl_real *p = calloc(n ? n : 1, sizeof(sl_real));
    cr_assert_not_null(p);
    return p;
}

static void fd_fill_normal(sl_real *p, size_t n, sl_rng *rng, double scale)
{
    for (size_t i = 0; i < n; i++) p[i] = (sl_real)(scale * sl_rng_normal(rng));
}

static double dot(const sl_real *a, const sl_real *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* ------------------------------------------------------------------ conv2d */

typedef struct {
    sl_conv2d_shape s;
    size_t nx, nw, ny;
    sl_real *X, *W, *b, *G, *Y, *scratch;
} conv_ctx;

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    sl_conv2d_forward(&c->s, c->X, c->W, c->b, c->Y, c->scratch);
    return dot(c->G, c->Y, c->ny);
}

static void conv_case(const char *label, sl_conv2d_shape s, uint64_t seed)
{
    cr_assert_eq(sl_conv2d_check(&s), SL_OK, "%s: %s", label, sl_last_error());
    conv_ctx c = {.s = s};
    c.nx = (size_t)s.N * s.C_in * s.H * s.W;
    c.nw = (size_t)s.C_out * s.C_in * s.kH * s.kW;
    c.ny = (size_t)s.N * s.C_out * sl_conv2d_out_h(&s) * sl_conv2d_out_w(&s);
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    c.X = fd_alloc(c.nx), c.W = fd_alloc(c.nw), c.b = fd_alloc(s.C_out), c.G = fd_alloc(c.ny);
    c.Y = fd_alloc(c.ny), c.scratch = fd_alloc(sl_conv2d_scratch_size(&s));
    fd_fill_normal(c.X, c.nx, &rng, 1);
    sl_conv2d_init(&s, c.W, c.b, &rng);
    fd_fill_normal(c.G, c.ny, &rng, 1);
    sl_real *dX = fd_alloc(c.nx), *dW = fd_alloc(c.nw), *db = fd_alloc(s.C_out);
    conv_loss(&c);
    sl_conv2d_backward(&s, c.X, c.W, c.G, dX, dW, db, c.scratch);
    tu_fd_check(label, "dX", conv_loss, &c, c.X, c.nx, dX, FD_H, FD_TOL);
    tu_fd_check(label, "dW", conv_loss, &c, c.W, c.nw, dW, FD_H, FD_TOL);
    tu_fd_check(label, "db", conv_loss, &c, c.b, s.C_out, db, FD_H, FD_TOL);

    /* parameter gradients accumulate; dX is overwritten; NULL skips */
    sl_real *dX2 = fd_alloc(c.nx);
    sl_conv2d_backward(&s, c.X, c.W, c.G, dX2, dW, db, c.scratch);
    sl_real *dW1 = fd_alloc(c.nw), *db1 = fd_alloc(s.C_out);
    sl_conv2d_backward(&s, c.X, c.W, c.G, NULL, dW1, db1, c.scratch);
    for (size_t i = 0; i < c.nx; i++) cr_assert_eq(dX2[i], dX[i]);
    for (size_t i = 0; i < c.nw; i++) cr_assert(fabs(dW[i] - 2 * dW1[i]) <= 1e-12 * (1 + fabs(dW[i])));
    for (int i = 0; i < s.C_out; i++) cr_assert(fabs(db[i] - 2 * db1[i]) <= 1e-12 * (1 + fabs(db[i])));
    free(c.X), free(c.W), free(c.b), free(c.G), free(c.Y), free(c.scratch);
    free(dX), free(dW), free(db), free(dX2), free(dW1), free(db1);
}

Test(layers_fd, conv2d_stride1_pad0)
{
    conv_case("conv_s1_p0", (sl_conv2d_shape){2, 3, 6, 5, 4, 3, 3, 1, 1, 0, 0}, 1);
}
Test(layers_fd, conv2d_stride1_pad1) { conv_case("conv_s1_p1", (sl_conv2d_shape){2, 3, 5, 6, 2, 3, 3, 1, 1, 1, 1}, 2); }
Test(layers_fd, conv2d_stride2_pad0) { conv_case("conv_s2_p0", (sl_conv2d_shape){2, 2, 7, 8, 3, 3, 3, 2, 2, 0, 0}, 3); }
Test(layers_fd, conv2d_stride2_pad1) { conv_case("conv_s2_p1", (sl_conv2d_shape){3, 2, 6, 7, 3, 3, 3, 2, 2, 1, 1}, 4); }
Test(layers_fd, conv2d_rect)
{
    /* non-square kernel, mixed strides, padding wider than stride */
    conv_case("conv_rect", (sl_conv2d_shape){2, 3, 5, 8, 2, 2, 4, 1, 3, 1, 2}, 5);
}
Test(layers_fd, conv2d_kernel_in_padding)
{
    /* 1×3 image, pad 2: some kernel taps only ever see padding */
    conv_case("conv_pad2", (sl_conv2d_shape){2, 2, 1, 3, 2, 3, 3, 1, 2, 2, 2}, 6);
}

/* ----------------------------------------------------------------- pooling */

typedef struct {
    sl_pool2d_shape s;
    int is_max;
    size_t nx, ny;
    sl_real *X, *G, *Y;
    int32_t *am;
} pool_ctx;

static double pool_loss(void *p)
{
    pool_ctx *c = p;
    if (c->is_max)
        sl_maxpool2d_forward(&c->s, c->X, c->Y, c->am);
    else
        sl_avgpool2d_forward(&c->s, c->X, c->Y);
    return dot(c->G, c->Y, c->ny);
}

static void pool_case(const char *label, sl_pool2d_shape s, int is_max, uint64_t seed)
{
    cr_assert_eq(sl_pool2d_check(&s), SL_OK, "%s: %s", label, sl_last_error());
    pool_ctx c = {.s = s, .is_max = is_max};
    c.nx = (size_t)s.N * s.C * s.H * s.W;
    c.ny = (size_t)s.N * s.C * sl_pool2d_out_h(&s) * sl_pool2d_out_w(&s);
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    c.X = fd_alloc(c.nx), c.G = fd_alloc(c.ny), c.Y = fd_alloc(c.ny);
    c.am = malloc(c.ny * sizeof(int32_t));
    cr_assert_not_null(c.am);
    /* distinct values 0.05 apart in random order (max-pool away from ties) */
    int *perm = malloc(c.nx * sizeof(int));
    cr_assert_not_null(perm);
    for (size_t i = 0; i < c.nx; i++) perm[i] = (int)i;
    sl_rng_shuffle(&rng, perm, (int)c.nx);
    for (size_t i = 0; i < c.nx; i++) c.X[i] = 0.05 * (perm[i] - (double)c.nx / 2);
    free(perm);
    fd_fill_normal(c.G, c.ny, &rng, 1);
    sl_real *dX = fd_alloc(c.nx);
    pool_loss(&c);
    if (is_max)
        sl_maxpool2d_backward(&s, c.G, c.am, dX);
    else
        sl_avgpool2d_backward(&s, c.G, dX);
    tu_fd_check(label, "dX", pool_loss, &c, c.X, c.nx, dX, FD_H, FD_TOL);
    free(c.X), free(c.G), free(c.Y), free(c.am), free(dX);
}

Test(layers_fd, maxpool_k2) { pool_case("maxpool_k2", sl_pool2d_square(2, 3, 6, 8, 2), 1, 11); }
Test(layers_fd, maxpool_k3_s2_p1)
{
    pool_case("maxpool_k3_s2_p1", (sl_pool2d_shape){2, 2, 7, 6, 3, 3, 2, 2, 1, 1}, 1, 12);
}
Test(layers_fd, maxpool_overlap)
{
    pool_case("maxpool_overlap", (sl_pool2d_shape){1, 2, 5, 6, 3, 2, 1, 1, 1, 0}, 1, 13);
}
Test(layers_fd, avgpool_k2) { pool_case("avgpool_k2", sl_pool2d_square(2, 3, 6, 8, 2), 0, 14); }
Test(layers_fd, avgpool_k3_s2_p1)
{
    pool_case("avgpool_k3_s2_p1", (sl_pool2d_shape){2, 2, 7, 6, 3, 3, 2, 2, 1, 1}, 0, 15);
}

/* ------------------------------------------------------------------ linear */

typedef struct {
    int B, in, out;
    sl_real *X, *W, *b, *G, *Y;
} lin_ctx;

static double lin_loss(void *p)
{
    lin_ctx *c = p;
    sl_linear_forward(c->B, c->in, c->out, c->X, c->W, c->b, c->Y);
    return dot(c->G, c->Y, (size_t)c->B * c->out);
}

Test(layers_fd, linear)
{
    lin_ctx c = {.B = 5, .in = 7, .out = 4};
    sl_rng rng;
    sl_rng_seed(&rng, 21);
    const size_t nx = (size_t)c.B * c.in, nw = (size_t)c.out * c.in, ny = (size_t)c.B * c.out;
    c.X = fd_alloc(nx), c.W = fd_alloc(nw), c.b = fd_alloc(c.out), c.G = fd_alloc(ny), c.Y = fd_alloc(ny);
    fd_fill_normal(c.X, nx, &rng, 1);
    sl_linear_init(c.in, c.out, c.W, c.b, &rng);
    fd_fill_normal(c.G, ny, &rng, 1);
    sl_real *dX = fd_alloc(nx), *dW = fd_alloc(nw), *db = fd_alloc(c.out);
    lin_loss(&c);
    sl_linear_backward(c.B, c.in, c.out, c.X, c.W, c.G, dX, dW, db);
    tu_fd_check("linear", "dX", lin_loss, &c, c.X, nx, dX, FD_H, FD_TOL);
    tu_fd_check("linear", "dW", lin_loss, &c, c.W, nw, dW, FD_H, FD_TOL);
    tu_fd_check("linear", "db", lin_loss, &c, c.b, c.out, db, FD_H, FD_TOL);
    free(c.X), free(c.W), free(c.b), free(c.G), free(c.Y), free(dX), free(dW), free(db);
}

/* ----------------------------------------------------------- cross-entropy */

typedef struct {
    int B, C;
    sl_real *Z;
    const int *y;
} xent_ctx;

static double xent_loss(void *p)
{
    xent_ctx *c = p;
    double L;
    cr_assert_eq(sl_softmax_xent(c->B, c->C, c->Z, c->y, &L, NULL, NULL), SL_OK);
    return L;
}

Test(layers_fd, cross_entropy)
{
    static const int y[6] = {3, -1, 0, 9, 5, 3};
    xent_ctx c = {.B = 6, .C = 10, .y = y};
    sl_rng rng;
    sl_rng_seed(&rng, 31);
    c.Z = fd_alloc(60);
    fd_fill_normal(c.Z, 60, &rng, 3);
    sl_real *dZ = fd_alloc(60);
    double L;
    cr_assert_eq(sl_softmax_xent(c.B, c.C, c.Z, y, &L, dZ, NULL), SL_OK);
    tu_fd_check("cross_entropy", "dZ", xent_loss, &c, c.Z, 60, dZ, FD_H, FD_TOL);
    for (int k = 0; k < 10; k++) cr_assert_eq(dZ[10 + k], 0); /* the ignored row */
    free(c.Z), free(dZ);
}

/* ---------------------------------------------- conv → ReLU → pool → fc → CE */

typedef struct {
    sl_conv2d_shape cs;
    sl_pool2d_shape ps;
    int B, F, K; /* batch, flattened features, classes */
    sl_real *x, *Wc, *bc, *Wf, *bf, *a, *l, *z, *scratch;
    int32_t *am;
    int y[4];
} net_ctx;

static double net_loss(void *p)
{
    net_ctx *c = p;
    size_t na = (size_t)c->B * c->cs.C_out * sl_conv2d_out_h(&c->cs) * sl_conv2d_out_w(&c->cs);
    sl_conv2d_forward(&c->cs, c->x, c->Wc, c->bc, c->a, c->scratch);
    sl_relu_forward(c->a, c->a, na);
    sl_maxpool2d_forward(&c->ps, c->a, c->l, c->am);
    sl_linear_forward(c->B, c->F, c->K, c->l, c->Wf, c->bf, c->z);
    double L;
    cr_assert_eq(sl_softmax_xent(c->B, c->K, c->z, c->y, &L, NULL, NULL), SL_OK);
    return L;
}

/* the composed forward's pre-activations are ≥ 1e-4 from 0 and every pool
 * window's max leads by 1e-4 (or is an all-zero window) */
static int net_safe(net_ctx *c, sl_real *pre)
{
    const sl_conv2d_shape *s = &c->cs;
    const int OH = sl_conv2d_out_h(s), OW = sl_conv2d_out_w(s);
    size_t na = (size_t)c->B * s->C_out * OH * OW;
    sl_conv2d_forward(s, c->x, c->Wc, c->bc, pre, c->scratch);
    for (size_t i = 0; i < na; i++)
        if (fabs(pre[i]) < 1e-4) return 0;
    for (size_t pl = 0; pl < (size_t)c->B * s->C_out; pl++)
        for (int y = 0; y + 1 < OH; y += 2)
            for (int x = 0; x + 1 < OW; x += 2) {
                double v[4], top = -1, second = -1;
                for (int k = 0; k < 4; k++) {
                    double t = pre[pl * OH * OW + (size_t)(y + k / 2) * OW + x + k % 2];
                    v[k] = t > 0 ? t : 0;
                    if (v[k] > top) second = top, top = v[k];
                    else if (v[k] > second) second = v[k];
                }
                if (top > 0 && top - second < 1e-4) return 0;
            }
    return 1;
}

Test(layers_fd, small_cnn)
{
    net_ctx c = {.cs = {3, 2, 6, 6, 3, 3, 3, 1, 1, 1, 1}, .B = 3, .K = 4, .y = {2, 0, 3, 0}};
    c.ps = sl_pool2d_square(3, 3, 6, 6, 2);
    cr_assert_eq(sl_conv2d_check(&c.cs), SL_OK);
    cr_assert_eq(sl_pool2d_check(&c.ps), SL_OK);
    c.F = 3 * 3 * 3;
    const size_t nx = 3 * 2 * 36, nwc = 3 * 2 * 9, na = 3 * 3 * 36, nl = (size_t)c.B * c.F;
    const size_t nwf = (size_t)c.K * c.F;
    c.x = fd_alloc(nx), c.Wc = fd_alloc(nwc), c.bc = fd_alloc(3), c.Wf = fd_alloc(nwf);
    c.bf = fd_alloc(c.K), c.a = fd_alloc(na), c.l = fd_alloc(nl), c.z = fd_alloc((size_t)c.B * c.K);
    c.scratch = fd_alloc(sl_conv2d_scratch_size(&c.cs));
    c.am = malloc(nl * sizeof(int32_t));
    cr_assert_not_null(c.am);
    sl_rng rng;
    sl_rng_seed(&rng, 41);
    int tries = 0;
    do {
        cr_assert(++tries < 1000, "no kink-free draw");
        fd_fill_normal(c.x, nx, &rng, 1);
        sl_conv2d_init(&c.cs, c.Wc, c.bc, &rng);
        sl_linear_init(c.F, c.K, c.Wf, c.bf, &rng);
    } while (!net_safe(&c, c.a));

    sl_real *gWc = fd_alloc(nwc), *gbc = fd_alloc(3), *gWf = fd_alloc(nwf), *gbf = fd_alloc(c.K);
    sl_real *dz = fd_alloc((size_t)c.B * c.K), *dl = fd_alloc(nl), *da = fd_alloc(na), *dx = fd_alloc(nx);
    net_loss(&c);
    double L;
    cr_assert_eq(sl_softmax_xent(c.B, c.K, c.z, c.y, &L, dz, NULL), SL_OK);
    sl_linear_backward(c.B, c.F, c.K, c.l, c.Wf, dz, dl, gWf, gbf);
    sl_maxpool2d_backward(&c.ps, dl, c.am, da);
    sl_relu_backward(c.a, da, da, na);
    sl_conv2d_backward(&c.cs, c.x, c.Wc, da, dx, gWc, gbc, c.scratch);
    tu_fd_check("small_cnn", "dx", net_loss, &c, c.x, nx, dx, FD_H, FD_TOL);
    tu_fd_check("small_cnn", "conv_W", net_loss, &c, c.Wc, nwc, gWc, FD_H, FD_TOL);
    tu_fd_check("small_cnn", "conv_b", net_loss, &c, c.bc, 3, gbc, FD_H, FD_TOL);
    tu_fd_check("small_cnn", "fc_W", net_loss, &c, c.Wf, nwf, gWf, FD_H, FD_TOL);
    tu_fd_check("small_cnn", "fc_b", net_loss, &c, c.bf, c.K, gbf, FD_H, FD_TOL);
    free(c.x), free(c.Wc), free(c.bc), free(c.Wf), free(c.bf), free(c.a), free(c.l), free(c.z);
    free(c.scratch), free(c.am), free(gWc), free(gbc), free(gWf), free(gbf), free(dz), free(dl);
    free(da), free(dx);
}
