/* cellcheck.h — a test harness for any recurrent cell behind src/nn/cell.h
 * (sl_cell_ops), built in float32 (tests/) and float64 (tests/f64/).
 *
 *   cc_cell c;
 *   cc_create(&c, &sl_cell_gru, &dims, B, T, &rng);  // tensors from ops->tensor, ops->init
 *   cc_forward(&c, U);                               // c.H (T×B×N)
 *   cc_grad(&c, U, w, quad, dU);                     // zero grads, forward, backward
 *   cc_fd_check(&c, U, w, quad, 1e-6, "gru", rel);   // central differences (float64)
 *
 * The loss is L = Σ_{t,b,i} w_{tbi} H_{tbi} + quad·½ Σ H², so dL/dH = w + quad·H.
 * Tensors 0..n_tensors−1 are parameters (flat buffer `params`, gradients in
 * `grads`), then n_buffers non-trainable buffers (their own flat buffer);
 * buffers are restored to their values at cc_create (or cc_snapshot_buffers)
 * before every forward, so a training-mode batch norm sees the same running
 * statistics in every finite-difference evaluation. The workspace is filled
 * with NaN before every forward (c.poison, on by default) so a cell that reads
 * scratch it did not write fails loudly. Everything is static inline; no
 * Criterion dependency: functions return values and the tests assert. */
#ifndef SILICO_CELLCHECK_H
#define SILICO_CELLCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cell.h"
#include "silico.h"

#define CC_MAX_TENSORS 32

typedef struct {
    const sl_cell_ops *ops;
    sl_cell_dims dims;
    int B, T, n_tensors, n_buffers;
    const char *name[CC_MAX_TENSORS];
    int ndim[CC_MAX_TENSORS];
    int64_t shape[CC_MAX_TENSORS][2];
    size_t numel[CC_MAX_TENSORS];
    sl_real *p[CC_MAX_TENSORS]; /* views: params (i < n_tensors) or bufs */
    sl_real *g[CC_MAX_TENSORS]; /* views into grads (NULL for buffers) */
    sl_real *params, *grads, *bufs, *bufs0;
    size_t n_params, n_bufs;
    sl_real *ws, *H, *dH;
    size_t ws_n, nU, nH;
    int poison;
} cc_cell;

static inline void *cc_alloc_(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "cellcheck: out of memory\n");
        abort();
    }
    return p;
}

/* Allocate every tensor of ops for dims, initialise with ops->init. 0 on success. */
static inline int cc_create(cc_cell *c, const sl_cell_ops *ops, const sl_cell_dims *d, int B,
                            int T, sl_rng *rng)
{
    memset(c, 0, sizeof *c);
    c->ops = ops;
    c->dims = *d;
    c->B = B;
    c->T = T;
    c->n_tensors = ops->n_tensors;
    c->n_buffers = ops->n_buffers;
    c->poison = 1;
    int nt = ops->n_tensors + ops->n_buffers;
    if (nt > CC_MAX_TENSORS) return -1;
    for (int i = 0; i < nt; i++) {
        c->shape[i][0] = c->shape[i][1] = 1;
        ops->tensor(d, i, &c->name[i], &c->ndim[i], c->shape[i]);
        size_t n = 1;
        for (int k = 0; k < c->ndim[i]; k++) n *= (size_t)c->shape[i][k];
        c->numel[i] = n;
        if (i < ops->n_tensors)
            c->n_params += n;
        else
            c->n_bufs += n;
    }
    c->params = cc_alloc_(c->n_params, sizeof(sl_real));
    c->grads = cc_alloc_(c->n_params, sizeof(sl_real));
    c->bufs = cc_alloc_(c->n_bufs, sizeof(sl_real));
    c->bufs0 = cc_alloc_(c->n_bufs, sizeof(sl_real));
    size_t op = 0, ob = 0;
    for (int i = 0; i < nt; i++) {
        if (i < ops->n_tensors) {
            c->p[i] = c->params + op;
            c->g[i] = c->grads + op;
            op += c->numel[i];
        } else {
            c->p[i] = c->bufs + ob;
            ob += c->numel[i];
        }
    }
    ops->init(d, c->p, rng);
    memcpy(c->bufs0, c->bufs, c->n_bufs * sizeof(sl_real));
    c->ws_n = ops->ws_size(d, B, T);
    c->ws = cc_alloc_(c->ws_n, sizeof(sl_real));
    c->nU = (size_t)T * B * d->n_in;
    c->nH = (size_t)T * B * d->n_hidden;
    c->H = cc_alloc_(c->nH, sizeof(sl_real));
    c->dH = cc_alloc_(c->nH, sizeof(sl_real));
    return 0;
}

static inline void cc_free(cc_cell *c)
{
    free(c->params), free(c->grads), free(c->bufs), free(c->bufs0);
    free(c->ws), free(c->H), free(c->dH);
    memset(c, 0, sizeof *c);
}

/* Index of the tensor named `name`, or −1. */
static inline int cc_find(const cc_cell *c, const char *name)
{
    for (int i = 0; i < c->n_tensors + c->n_buffers; i++)
        if (!strcmp(c->name[i], name)) return i;
    return -1;
}

/* Index of the record named `name`, or −1. */
static inline int cc_find_record(const cc_cell *c, const char *name)
{
    for (int i = 0; i < c->ops->n_records; i++)
        if (!strcmp(c->ops->record_names[i], name)) return i;
    return -1;
}

/* The current buffers become the ones every forward starts from. */
static inline void cc_snapshot_buffers(cc_cell *c)
{
    memcpy(c->bufs0, c->bufs, c->n_bufs * sizeof(sl_real));
}

static inline void cc_fill_normal(sl_real *x, size_t n, double sd, sl_rng *rng)
{
    for (size_t i = 0; i < n; i++) x[i] = (sl_real)(sd * sl_rng_normal(rng));
}

/* H = cell(U) */
static inline void cc_forward(cc_cell *c, const sl_real *U)
{
    memcpy(c->bufs, c->bufs0, c->n_bufs * sizeof(sl_real));
    if (c->poison)
        for (size_t i = 0; i < c->ws_n; i++) c->ws[i] = (sl_real)NAN;
    c->ops->forward(&c->dims, c->p, U, c->B, c->T, c->H, c->ws);
}

/* L of the current H, accumulated in double */
static inline double cc_loss(const cc_cell *c, const sl_real *w, double quad)
{
    double L = 0;
    for (size_t i = 0; i < c->nH; i++) {
        double h = c->H[i];
        L += (double)w[i] * h + 0.5 * quad * h * h;
    }
    return L;
}

/* forward, then L */
static inline double cc_eval(cc_cell *c, const sl_real *U, const sl_real *w, double quad)
{
    cc_forward(c, U);
    return cc_loss(c, w, quad);
}

/* backward after cc_forward: dH = w + quad·H; ADDS into grads; dU (may be NULL) */
static inline void cc_backward(cc_cell *c, const sl_real *U, const sl_real *w, double quad,
                               sl_real *dU)
{
    for (size_t i = 0; i < c->nH; i++) c->dH[i] = (sl_real)(w[i] + quad * c->H[i]);
    c->ops->backward(&c->dims, c->p, c->g, U, c->B, c->T, c->H, c->dH, dU, c->ws);
}

/* zero grads, forward, backward; returns L */
static inline double cc_grad(cc_cell *c, const sl_real *U, const sl_real *w, double quad,
                             sl_real *dU)
{
    memset(c->grads, 0, c->n_params * sizeof(sl_real));
    double L = cc_eval(c, U, w, quad);
    cc_backward(c, U, w, quad, dU);
    return L;
}

/* Central differences of L w.r.t. every parameter element and every element
 * of U, against the analytic gradients. Per tensor (and "dU"), prints
 *     <label> <tensor> rel <max|fd − an| / max|an over the whole buffer|>
 * and stores it in rel[i] (rel[n_tensors] for dU) when rel is not NULL.
 * Returns the worst. Meaningful in float64 (h ~ 1e-6). */
static inline double cc_fd_check(cc_cell *c, sl_real *U, const sl_real *w, double quad, double h,
                                 const char *label, double *rel)
{
    const size_t P = c->n_params, NU = c->nU;
    double *an = cc_alloc_(P, sizeof(double)), *fd = cc_alloc_(P, sizeof(double));
    double *anU = cc_alloc_(NU, sizeof(double)), *fdU = cc_alloc_(NU, sizeof(double));
    sl_real *dU = cc_alloc_(NU, sizeof(sl_real));
    for (size_t i = 0; i < NU; i++) dU[i] = (sl_real)NAN; /* backward must write every element */
    cc_grad(c, U, w, quad, dU);
    for (size_t i = 0; i < P; i++) an[i] = c->grads[i];
    for (size_t i = 0; i < NU; i++) anU[i] = dU[i];

    for (size_t i = 0; i < P; i++) {
        const sl_real keep = c->params[i];
        c->params[i] = (sl_real)(keep + h);
        double lp = cc_eval(c, U, w, quad);
        c->params[i] = (sl_real)(keep - h);
        double lm = cc_eval(c, U, w, quad);
        c->params[i] = keep;
        fd[i] = (lp - lm) / (2 * h);
    }
    for (size_t i = 0; i < NU; i++) {
        const sl_real keep = U[i];
        U[i] = (sl_real)(keep + h);
        double lp = cc_eval(c, U, w, quad);
        U[i] = (sl_real)(keep - h);
        double lm = cc_eval(c, U, w, quad);
        U[i] = keep;
        fdU[i] = (lp - lm) / (2 * h);
    }

    double scale = 0, scaleU = 0, worst = 0;
    for (size_t i = 0; i < P; i++) scale = fmax(scale, fabs(an[i]));
    for (size_t i = 0; i < NU; i++) scaleU = fmax(scaleU, fabs(anU[i]));
    size_t off = 0;
    for (int k = 0; k <= c->n_tensors; k++) {
        const int isU = k == c->n_tensors;
        const size_t n = isU ? NU : c->numel[k];
        const double *a = isU ? anU : an + off, *f = isU ? fdU : fd + off;
        double diff = 0;
        for (size_t i = 0; i < n; i++) {
            double e = fabs(f[i] - a[i]);
            if (!(e <= diff)) diff = e; /* NaN propagates */
        }
        double r = diff / fmax(isU ? scaleU : scale, 1e-12);
        fprintf(stderr, "%s %s rel %.2e (max|an| %.3g)\n", label, isU ? "dU" : c->name[k], r,
                isU ? scaleU : scale);
        if (rel) rel[k] = r;
        if (!(r <= worst)) worst = r;
        if (!isU) off += n;
    }
    free(an), free(fd), free(anU), free(fdU), free(dU);
    return worst;
}

#endif
