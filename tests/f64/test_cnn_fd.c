/* test_cnn_fd.c — float64 finite-difference checks of the CNN model
 * (src/nn/cnn.c): the mean cross-entropy of a batch through a whole network,
 * differentiated by central differences (h = 1e-6) in every parameter and
 * every input pixel, against sl_cnn_loss's gradients and sl_cnn_backward's
 * dL/dX:   rel = max|fd − an| / max(max|an|, 1e-8) ≤ 1e-6 per tensor.
 * Networks: strided conv + tanh + avg-pool + sigmoid + softplus (smooth), and
 * conv + ReLU + 2×2 max-pool + linear + ReLU, redrawn until no ReLU input is
 * within 1e-4 of 0 and every pool window's maximum leads by 1e-4. Also the
 * backward from a hidden layer (what the tuning analysis ascends): the
 * gradient of Σ A_i² with respect to the input. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/cnn.h"
#include "silico.h"
#include "testutil.h"

_Static_assert(sizeof(sl_real) == sizeof(double), "CNN FD needs -DSL_REAL=double");

#define FD_H 1e-6
#define FD_TOL 1e-6

typedef struct {
    sl_cnn *m;
    sl_cnn_ws *ws;
    sl_real *x;
    int *y, B;
    int layer; /* −1: cross-entropy; else Σ A_layer² */
} fd_net;

static double net_loss(void *ctx)
{
    fd_net *n = ctx;
    double L = 0;
    if (n->layer < 0) {
        cr_assert_eq(sl_cnn_loss(n->m, n->ws, n->x, n->y, n->B, 0, &L, NULL), SL_OK);
        return L;
    }
    cr_assert_eq(sl_cnn_forward(n->m, n->ws, n->x, n->B, NULL), SL_OK);
    const sl_real *a = sl_cnn_activation(n->ws, n->layer);
    for (size_t i = 0; i < sl_cnn_layer_size(&n->m->L[n->layer]) * n->B; i++) L += a[i] * a[i];
    return L;
}

/* no ReLU input within 1e-4 of 0, every 2×2 max-pool window led by 1e-4 */
static int draw_safe(fd_net *n)
{
    cr_assert_eq(sl_cnn_forward(n->m, n->ws, n->x, n->B, NULL), SL_OK);
    for (int i = 0; i < n->m->n_layers; i++) {
        const sl_cnn_layer *l = &n->m->L[i];
        const sl_real *in = i ? sl_cnn_activation(n->ws, i - 1) : n->x;
        const size_t cnt = (size_t)l->in[0] * l->in[1] * l->in[2] * n->B;
        if (l->kind == SL_LAYER_RELU)
            for (size_t k = 0; k < cnt; k++)
                if (fabs(in[k]) < 1e-4) return 0;
        if (l->kind == SL_LAYER_MAXPOOL)
            for (size_t pl = 0; pl < (size_t)l->in[0] * n->B; pl++)
                for (int y = 0; y + 1 < l->in[1]; y += 2)
                    for (int x = 0; x + 1 < l->in[2]; x += 2) {
                        const sl_real *r = in + pl * l->in[1] * l->in[2] + (size_t)y * l->in[2] + x;
                        double v[4] = {r[0], r[1], r[l->in[2]], r[l->in[2] + 1]}, a = -1e300, b = -1e300;
                        for (int k = 0; k < 4; k++) {
                            if (v[k] > a) b = a, a = v[k];
                            else if (v[k] > b) b = v[k];
                        }
                        if (a - b < 1e-4 && a != b) return 0;
                        if (a == b && a != 0) return 0;
                    }
    }
    return 1;
}

static void run_net(const char *label, const char *layers, int C, int H, int W, int B, uint64_t seed,
                    int hidden_layer)
{
    fd_net n = {0};
    n.B = B;
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    cr_assert_eq(sl_cnn_create(layers, C, H, W, &rng, &n.m), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_cnn_ws_create(n.m, B, &n.ws), SL_OK);
    const size_t nx = (size_t)B * C * H * W;
    n.x = malloc(nx * sizeof(sl_real));
    n.y = malloc((size_t)B * sizeof(int));
    int tries = 0;
    do {
        for (size_t i = 0; i < nx; i++) n.x[i] = sl_rng_normal(&rng);
        for (int b = 0; b < B; b++) n.y[b] = (int)sl_rng_below(&rng, (uint64_t)sl_cnn_num_outputs(n.m));
        cr_assert_lt(++tries, 1000, "%s: no safe draw", label);
    } while (!draw_safe(&n));
    const size_t np = sl_cnn_num_params(n.m);
    sl_real *g = malloc(np * sizeof(sl_real)), *dx = malloc(nx * sizeof(sl_real));
    for (n.layer = -1; n.layer <= hidden_layer; n.layer += hidden_layer + 1) {
        sl_cnn_zero_grad(n.m);
        double L;
        if (n.layer < 0) {
            cr_assert_eq(sl_cnn_loss(n.m, n.ws, n.x, n.y, B, 1, &L, NULL), SL_OK);
            const int K = sl_cnn_num_outputs(n.m);
            sl_real *dz = malloc((size_t)B * K * sizeof(sl_real));
            sl_softmax_xent(B, K, sl_cnn_activation(n.ws, n.m->n_layers - 1), n.y, &L, dz, NULL);
            for (size_t i = 0; i < np; i++) g[i] = n.m->grads[i];
            cr_assert_eq(sl_cnn_backward(n.m, n.ws, n.m->n_layers - 1, dz, dx, 0), SL_OK);
            free(dz);
        } else {
            net_loss(&n);
            const size_t na = sl_cnn_layer_size(&n.m->L[n.layer]) * B;
            sl_real *da = malloc(na * sizeof(sl_real));
            const sl_real *a = sl_cnn_activation(n.ws, n.layer);
            for (size_t i = 0; i < na; i++) da[i] = 2 * a[i];
            cr_assert_eq(sl_cnn_backward(n.m, n.ws, n.layer, da, dx, 1), SL_OK);
            for (size_t i = 0; i < np; i++) g[i] = n.m->grads[i];
            free(da);
        }
        char lab[96];
        snprintf(lab, sizeof lab, "%s%s", label, n.layer < 0 ? "" : " (hidden layer Σa²)");
        for (int t = 0; t < n.m->n_tensors; t++) {
            const sl_cnn_tensor *T = &n.m->T[t];
            /* tensors after the hidden layer get no gradient from Σa² */
            tu_fd_check(lab, T->name, net_loss, &n, n.m->params + T->offset, T->numel, g + T->offset,
                        FD_H, FD_TOL);
        }
        tu_fd_check(lab, "input", net_loss, &n, n.x, nx, dx, FD_H, FD_TOL);
        if (hidden_layer < 0) break;
    }
    free(g), free(dx), free(n.x), free(n.y);
    sl_cnn_ws_free(n.ws);
    sl_cnn_free(n.m);
}

Test(cnn_fd, smooth_net)
{
    run_net("smooth", "conv(3,3,s=2,p=1), tanh, avgpool(2), conv(4,2), sigmoid, flatten, linear(5), "
                      "softplus, linear(3)",
            2, 9, 9, 2, 11, 4);
}

Test(cnn_fd, relu_maxpool_net)
{
    run_net("relu", "conv(3,3,p=1), relu, maxpool(2), linear(6), relu, linear(4)", 1, 6, 6, 3, 12, 1);
}
