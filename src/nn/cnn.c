/* cnn.c — a sequential feed-forward network of layers.h's layers
 * (torch.nn.Sequential of Conv2d, MaxPool2d, AvgPool2d, Flatten, Linear and
 * elementwise activations), trained with softmax cross-entropy:
 *
 *   A_0 = X,   A_{i+1} = f_i(A_i; θ_i),   Z = A_n,
 *   L = (1/B) Σ_b [logsumexp(Z_b) − Z_{b,y_b}]
 *   backward:  dA_n = ∂L/∂Z,  dA_i = f_i'ᵀ dA_{i+1},  dθ_i += ∂L/∂θ_i
 *
 * Every layer's forward/backward is layers.h's (conv2d.c, pool.c, linear.c,
 * relu.c) or act.h's scalar activations (y = f(x), dx = dy · f'(x, y)).
 * Flatten is the identity on NCHW memory; a linear layer on a C×H×W input
 * reads it flattened. Each layer's output is kept in the workspace (the
 * backward and the layer readouts need them), and each conv layer's im2col
 * matrix too (its backward reuses it when the batch is one chunk); the
 * backward ping-pongs between two gradient buffers of the largest activation.
 *
 * Parameters: one flat buffer, tensors in layer order (convK.weight,
 * convK.bias, fcK.weight, fcK.bias), 64-byte aligned starts not needed (the
 * GEMMs take any pointer). Init is PyTorch's (layers.h), drawn in layer order. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tensors.h"
#include "nn/act.h"
#include "nn/cnn.h"

struct sl_cnn_ws {
    int max_batch;
    int B;                /* batch of the last forward */
    sl_real *act[SL_CNN_MAX_LAYERS + 1]; /* act[i+1] = layer i's output (B × size) */
    sl_real *g0, *g1;     /* backward ping-pong (max_batch × largest size) */
    sl_real *scratch[SL_CNN_MAX_LAYERS]; /* conv layer i's im2col (kept for its backward) */
    int32_t *argmax;      /* maxpool indices, every maxpool layer (B × n_argmax) */
    void *block;
};

/* ------------------------------------------------------------- parsing */

static const char *skip_ws(const char *p)
{
    while (*p && isspace((unsigned char)*p)) p++;
    return p;
}

/* One layer "name" or "name(a, b, s=.., p=..)": name into kind/act, up to 2
 * positional ints, named s and p (−1 when absent). */
typedef struct {
    char name[24];
    int pos[2], n_pos, s, p;
} layer_tok;

static sl_status parse_tok(const char *text, size_t len, int idx, layer_tok *t)
{
    char buf[128];
    if (len >= sizeof buf) return sl_fail(SL_EINVAL, "model.layers: layer %d is too long", idx + 1);
    memcpy(buf, text, len);
    buf[len] = 0;
    memset(t, 0, sizeof *t);
    t->s = t->p = -1;
    const char *p = skip_ws(buf);
    size_t n = 0;
    while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '_')) n++;
    if (n == 0 || n >= sizeof t->name)
        return sl_fail(SL_EINVAL, "model.layers: layer %d '%s' has no name", idx + 1, buf);
    memcpy(t->name, p, n);
    p = skip_ws(p + n);
    if (!*p) return SL_OK;
    if (*p != '(') goto bad;
    p++;
    for (;;) {
        p = skip_ws(p);
        if (*p == ')') break;
        int *dst = NULL;
        if ((p[0] == 's' || p[0] == 'p') && skip_ws(p + 1)[0] == '=') {
            dst = p[0] == 's' ? &t->s : &t->p;
            p = skip_ws(p + 1) + 1;
        } else {
            if (t->n_pos >= 2) goto bad;
            dst = &t->pos[t->n_pos++];
        }
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 1000000) goto bad;
        *dst = (int)v;
        p = skip_ws(end);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != ')') goto bad;
    }
    p = skip_ws(p + 1);
    if (*p) goto bad;
    return SL_OK;
bad:
    return sl_fail(SL_EINVAL,
                   "model.layers: cannot read layer %d '%s' (want e.g. conv(6,3,p=1), "
                   "maxpool(2), linear(120), relu)",
                   idx + 1, buf);
}

static void add_tensor(sl_cnn *m, const char *layer, const char *what, int ndim,
                       const int64_t *shape)
{
    char ln[24]; /* a copy: GCC's -Wrestrict cannot tell layer (in m->L) from t->name (in m->T) */
    snprintf(ln, sizeof ln, "%s", layer);
    sl_cnn_tensor *t = &m->T[m->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s.%s", ln, what);
    t->ndim = ndim;
    t->numel = 1;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d], t->numel *= (size_t)shape[d];
    t->offset = m->n_params;
    m->n_params += t->numel;
}

/* Builds the layer table from the text (shapes checked) */
static sl_status build_layers(sl_cnn *m, const char *text)
{
    int cur[3] = {m->in[0], m->in[1], m->in[2]};
    int dense = 0, n_conv = 0, n_fc = 0, n_pool = 0, n_act = 0;
    const char *p = text;
    int idx = 0;
    while (*skip_ws(p)) {
        int depth = 0;
        size_t len = 0;
        while (p[len] && !(p[len] == ',' && depth == 0)) {
            depth += p[len] == '(' ? 1 : p[len] == ')' ? -1 : 0;
            len++;
        }
        if (m->n_layers >= SL_CNN_MAX_LAYERS)
            return sl_fail(SL_EINVAL, "model.layers: more than %d layers", SL_CNN_MAX_LAYERS);
        layer_tok t;
        sl_status st = parse_tok(p, len, idx, &t);
        if (st) return st;
        sl_cnn_layer *l = &m->L[m->n_layers];
        memset(l, 0, sizeof *l);
        l->w_tensor = -1;
        l->in[0] = cur[0], l->in[1] = cur[1], l->in[2] = cur[2];
        l->dense_in = dense;
        const char *nm = t.name;
        int want_pos = 0, allow_sp = 0;
        if (!strcmp(nm, "conv")) {
            if (dense)
                return sl_fail(SL_EINVAL, "model.layers: layer %d (conv) after a dense layer", idx + 1);
            l->kind = SL_LAYER_CONV, want_pos = 2, allow_sp = 1;
            snprintf(l->name, sizeof l->name, "conv%d", ++n_conv);
        } else if (!strcmp(nm, "maxpool") || !strcmp(nm, "avgpool")) {
            if (dense)
                return sl_fail(SL_EINVAL, "model.layers: layer %d (%s) after a dense layer", idx + 1, nm);
            l->kind = nm[0] == 'm' ? SL_LAYER_MAXPOOL : SL_LAYER_AVGPOOL, want_pos = 1, allow_sp = 1;
            snprintf(l->name, sizeof l->name, "pool%d", ++n_pool);
        } else if (!strcmp(nm, "flatten")) {
            l->kind = SL_LAYER_FLATTEN;
            snprintf(l->name, sizeof l->name, "flatten");
        } else if (!strcmp(nm, "linear") || !strcmp(nm, "fc")) {
            l->kind = SL_LAYER_LINEAR, want_pos = 1;
            snprintf(l->name, sizeof l->name, "fc%d", ++n_fc);
        } else if (!strcmp(nm, "relu")) {
            l->kind = SL_LAYER_RELU;
            snprintf(l->name, sizeof l->name, "relu%d", ++n_act);
        } else if (!strcmp(nm, "tanh") || !strcmp(nm, "sigmoid") || !strcmp(nm, "softplus") ||
                   !strcmp(nm, "rect_tanh")) {
            l->kind = SL_LAYER_ACT;
            sl_activation_parse(nm, &l->act);
            snprintf(l->name, sizeof l->name, "%.12s%d", nm, ++n_act);
        } else
            return sl_fail(SL_EINVAL,
                           "model.layers: layer %d: unknown layer '%s' (conv, maxpool, avgpool, "
                           "flatten, linear, relu, tanh, sigmoid, softplus, rect_tanh)",
                           idx + 1, nm);
        if (t.n_pos != want_pos)
            return sl_fail(SL_EINVAL, "model.layers: layer %d (%s) wants %d number%s, got %d", idx + 1,
                           nm, want_pos, want_pos == 1 ? "" : "s", t.n_pos);
        if (!allow_sp && (t.s >= 0 || t.p >= 0))
            return sl_fail(SL_EINVAL, "model.layers: layer %d (%s) takes no s= or p=", idx + 1, nm);
        for (int k = 0; k < t.n_pos; k++)
            if (t.pos[k] < 1)
                return sl_fail(SL_EINVAL, "model.layers: layer %d (%s): sizes must be ≥ 1", idx + 1, nm);
        switch (l->kind) {
        case SL_LAYER_CONV: {
            sl_conv2d_shape s = {1, cur[0], cur[1], cur[2], t.pos[0], t.pos[1], t.pos[1],
                                 t.s < 0 ? 1 : t.s, t.s < 0 ? 1 : t.s, t.p < 0 ? 0 : t.p,
                                 t.p < 0 ? 0 : t.p};
            if ((st = sl_conv2d_check(&s)))
                return sl_fail_context(st, "model.layers: layer %d (%s)", idx + 1, l->name);
            l->conv = s;
            cur[0] = s.C_out, cur[1] = sl_conv2d_out_h(&s), cur[2] = sl_conv2d_out_w(&s);
            l->w_tensor = m->n_tensors;
            int64_t ws[4] = {s.C_out, s.C_in, s.kH, s.kW}, bs[1] = {s.C_out};
            add_tensor(m, l->name, "weight", 4, ws);
            add_tensor(m, l->name, "bias", 1, bs);
            break;
        }
        case SL_LAYER_MAXPOOL:
        case SL_LAYER_AVGPOOL: {
            const int k = t.pos[0], s = t.s < 0 ? k : t.s, pd = t.p < 0 ? 0 : t.p;
            sl_pool2d_shape ps = {1, cur[0], cur[1], cur[2], k, k, s, s, pd, pd};
            if ((st = sl_pool2d_check(&ps)))
                return sl_fail_context(st, "model.layers: layer %d (%s)", idx + 1, l->name);
            l->pool = ps;
            if (l->kind == SL_LAYER_MAXPOOL) {
                l->argmax_off = m->n_argmax;
                m->n_argmax += (size_t)cur[0] * sl_pool2d_out_h(&ps) * sl_pool2d_out_w(&ps);
            }
            cur[1] = sl_pool2d_out_h(&ps), cur[2] = sl_pool2d_out_w(&ps);
            break;
        }
        case SL_LAYER_FLATTEN:
        case SL_LAYER_LINEAR: {
            const long F = (long)cur[0] * cur[1] * cur[2];
            cur[0] = (int)F, cur[1] = cur[2] = 1;
            dense = 1;
            if (l->kind == SL_LAYER_FLATTEN) break;
            l->dense_in = 1;
            l->w_tensor = m->n_tensors;
            int64_t ws[2] = {t.pos[0], F}, bs[1] = {t.pos[0]};
            add_tensor(m, l->name, "weight", 2, ws);
            add_tensor(m, l->name, "bias", 1, bs);
            cur[0] = t.pos[0];
            break;
        }
        default:
            break;
        }
        l->out[0] = cur[0], l->out[1] = cur[1], l->out[2] = cur[2];
        m->n_layers++;
        idx++;
        p += len;
        if (*p == ',') p++;
    }
    if (m->n_layers == 0) return sl_fail(SL_EINVAL, "model.layers: no layers");
    if (m->L[m->n_layers - 1].kind != SL_LAYER_LINEAR)
        return sl_fail(SL_EINVAL, "model.layers: the last layer must be linear(n_classes), not %s",
                       m->L[m->n_layers - 1].name);
    return SL_OK;
}

sl_status sl_cnn_create(const char *layers, int C, int H, int W, sl_rng *rng, sl_cnn **out)
{
    *out = NULL;
    if (!layers) return sl_fail(SL_EINVAL, "model.layers: none given");
    if (C < 1 || H < 1 || W < 1)
        return sl_fail(SL_EINVAL, "cnn: input shape %d×%d×%d must be positive", C, H, W);
    sl_cnn *m = calloc(1, sizeof *m);
    if (!m) return sl_fail(SL_ENOMEM, "out of memory");
    m->in[0] = C, m->in[1] = H, m->in[2] = W;
    sl_status st = build_layers(m, layers);
    if (!st) {
        m->layers_text = strdup(layers);
        m->params = calloc(m->n_params ? m->n_params : 1, sizeof(sl_real));
        m->grads = calloc(m->n_params ? m->n_params : 1, sizeof(sl_real));
        if (!m->layers_text || !m->params || !m->grads) st = sl_fail(SL_ENOMEM, "out of memory");
    }
    if (st) {
        sl_cnn_free(m);
        return st;
    }
    for (int i = 0; rng && i < m->n_layers; i++) {
        const sl_cnn_layer *l = &m->L[i];
        if (l->w_tensor < 0) continue;
        sl_real *Wp = m->params + m->T[l->w_tensor].offset;
        sl_real *bp = m->params + m->T[l->w_tensor + 1].offset;
        if (l->kind == SL_LAYER_CONV)
            sl_conv2d_init(&l->conv, Wp, bp, rng);
        else
            sl_linear_init(l->in[0] * l->in[1] * l->in[2], l->out[0], Wp, bp, rng);
    }
    *out = m;
    return SL_OK;
}

void sl_cnn_free(sl_cnn *m)
{
    if (!m) return;
    free(m->layers_text);
    free(m->params);
    free(m->grads);
    free(m);
}

size_t sl_cnn_num_params(const sl_cnn *m) { return m->n_params; }
sl_real *sl_cnn_params(sl_cnn *m) { return m->params; }
sl_real *sl_cnn_grads(sl_cnn *m) { return m->grads; }
void sl_cnn_zero_grad(sl_cnn *m) { memset(m->grads, 0, m->n_params * sizeof(sl_real)); }
int sl_cnn_num_layers(const sl_cnn *m) { return m->n_layers; }
const char *sl_cnn_layers(const sl_cnn *m) { return m->layers_text; }
int sl_cnn_num_outputs(const sl_cnn *m) { return m->L[m->n_layers - 1].out[0]; }

const char *sl_cnn_layer_name(const sl_cnn *m, int i)
{
    return i >= 0 && i < m->n_layers ? m->L[i].name : NULL;
}

int sl_cnn_layer_shape(const sl_cnn *m, int i, int shape[3])
{
    if (i < 0 || i >= m->n_layers) return 0;
    const sl_cnn_layer *l = &m->L[i];
    shape[0] = l->out[0], shape[1] = l->out[1], shape[2] = l->out[2];
    const int dense = l->kind == SL_LAYER_FLATTEN || l->kind == SL_LAYER_LINEAR ||
                      (l->dense_in && (l->kind == SL_LAYER_RELU || l->kind == SL_LAYER_ACT));
    return dense ? 1 : 3;
}

void sl_cnn_input_shape(const sl_cnn *m, int shape[3])
{
    shape[0] = m->in[0], shape[1] = m->in[1], shape[2] = m->in[2];
}

/* ----------------------------------------------------------- workspace */

sl_status sl_cnn_ws_create(const sl_cnn *m, int max_batch, sl_cnn_ws **out)
{
    *out = NULL;
    if (max_batch < 1) return sl_fail(SL_EINVAL, "cnn: batch %d must be ≥ 1", max_batch);
    sl_cnn_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return sl_fail(SL_ENOMEM, "out of memory");
    ws->max_batch = max_batch;
    size_t total = 0, gmax = (size_t)m->in[0] * m->in[1] * m->in[2], scratch = 0, am = m->n_argmax;
    size_t sc_of[SL_CNN_MAX_LAYERS] = {0};
    for (int i = 0; i < m->n_layers; i++) {
        const sl_cnn_layer *l = &m->L[i];
        const size_t n = sl_cnn_layer_size(l);
        if (l->kind != SL_LAYER_FLATTEN) total += n * (size_t)max_batch;
        if (n > gmax) gmax = n;
        if (l->kind == SL_LAYER_CONV) {
            sl_conv2d_shape s = l->conv;
            s.N = max_batch;
            sc_of[i] = sl_conv2d_scratch_size(&s);
            scratch += sc_of[i];
        }
    }
    const size_t reals = total + 2 * gmax * (size_t)max_batch + scratch;
    ws->block = malloc(reals * sizeof(sl_real) + am * (size_t)max_batch * sizeof(int32_t) + 64);
    if (!ws->block) {
        free(ws);
        return sl_fail(SL_ENOMEM, "cnn: out of memory for a batch of %d", max_batch);
    }
    sl_real *p = ws->block;
    for (int i = 0; i < m->n_layers; i++) {
        const sl_cnn_layer *l = &m->L[i];
        if (l->kind == SL_LAYER_FLATTEN) continue;
        ws->act[i + 1] = p;
        p += sl_cnn_layer_size(l) * (size_t)max_batch;
    }
    ws->g0 = p, p += gmax * (size_t)max_batch;
    ws->g1 = p, p += gmax * (size_t)max_batch;
    for (int i = 0; i < m->n_layers; i++)
        if (sc_of[i]) ws->scratch[i] = p, p += sc_of[i];
    ws->argmax = (int32_t *)p;
    *out = ws;
    return SL_OK;
}

void sl_cnn_ws_free(sl_cnn_ws *ws)
{
    if (!ws) return;
    free(ws->block);
    free(ws);
}

const sl_real *sl_cnn_activation(const sl_cnn_ws *ws, int i)
{
    return i >= 0 && i < SL_CNN_MAX_LAYERS && ws->B > 0 ? ws->act[i + 1] : NULL;
}

/* ------------------------------------------------------ forward/backward */

static void act_forward(sl_activation a, const sl_real *x, sl_real *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = sl_act_value(a, x[i]);
}

static void act_backward(sl_activation a, const sl_real *x, const sl_real *y, const sl_real *dy,
                         sl_real *dx, size_t n)
{
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * sl_act_deriv(a, x[i], y[i]);
}

sl_status sl_cnn_forward(sl_cnn *m, sl_cnn_ws *ws, const sl_real *X, int B, sl_real *Z)
{
    if (B < 1 || B > ws->max_batch)
        return sl_fail(SL_EINVAL, "cnn: batch %d outside the workspace's 1..%d", B, ws->max_batch);
    ws->B = B;
    ws->act[0] = (sl_real *)X;
    for (int i = 0; i < m->n_layers; i++) {
        sl_cnn_layer *l = &m->L[i];
        const sl_real *in = ws->act[i];
        const size_t n = sl_cnn_layer_size(l) * (size_t)B;
        const sl_real *Wp = l->w_tensor >= 0 ? m->params + m->T[l->w_tensor].offset : NULL;
        const sl_real *bp = l->w_tensor >= 0 ? m->params + m->T[l->w_tensor + 1].offset : NULL;
        switch (l->kind) {
        case SL_LAYER_CONV: {
            sl_conv2d_shape s = l->conv;
            s.N = B;
            sl_conv2d_forward(&s, in, Wp, bp, ws->act[i + 1], ws->scratch[i]);
            break;
        }
        case SL_LAYER_MAXPOOL: {
            sl_pool2d_shape s = l->pool;
            s.N = B;
            sl_maxpool2d_forward(&s, in, ws->act[i + 1], ws->argmax + l->argmax_off * (size_t)B);
            break;
        }
        case SL_LAYER_AVGPOOL: {
            sl_pool2d_shape s = l->pool;
            s.N = B;
            sl_avgpool2d_forward(&s, in, ws->act[i + 1]);
            break;
        }
        case SL_LAYER_FLATTEN:
            ws->act[i + 1] = (sl_real *)in;
            break;
        case SL_LAYER_LINEAR:
            sl_linear_forward(B, l->in[0] * l->in[1] * l->in[2], l->out[0], in, Wp, bp,
                              ws->act[i + 1]);
            break;
        case SL_LAYER_RELU:
            sl_relu_forward(in, ws->act[i + 1], n);
            break;
        case SL_LAYER_ACT:
            act_forward(l->act, in, ws->act[i + 1], n);
            break;
        }
    }
    if (Z) memcpy(Z, ws->act[m->n_layers], (size_t)B * sl_cnn_num_outputs(m) * sizeof(sl_real));
    return SL_OK;
}

sl_status sl_cnn_backward(sl_cnn *m, sl_cnn_ws *ws, int layer, const sl_real *dA, sl_real *dX,
                          int param_grads)
{
    if (ws->B < 1) return sl_fail(SL_EINVAL, "cnn: backward before forward");
    if (layer < 0 || layer >= m->n_layers)
        return sl_fail(SL_EINVAL, "cnn: backward from layer %d of %d", layer, m->n_layers);
    const int B = ws->B;
    /* dcur: gradient of layer i's output; dnext: where its input's goes */
    sl_real *bufs[2] = {ws->g0, ws->g1};
    int cb = 0;
    memcpy(bufs[0], dA, sl_cnn_layer_size(&m->L[layer]) * (size_t)B * sizeof(sl_real));
    for (int i = layer; i >= 0; i--) {
        sl_cnn_layer *l = &m->L[i];
        const sl_real *in = ws->act[i], *outp = ws->act[i + 1];
        sl_real *dcur = bufs[cb];
        /* the first layer writes dX directly (or nothing) */
        sl_real *dprev = i == 0 ? dX : bufs[1 - cb];
        const size_t n = sl_cnn_layer_size(l) * (size_t)B;
        const size_t n_in = (size_t)l->in[0] * l->in[1] * l->in[2] * (size_t)B;
        const sl_real *Wp = l->w_tensor >= 0 ? m->params + m->T[l->w_tensor].offset : NULL;
        sl_real *dW = l->w_tensor >= 0 && param_grads ? m->grads + m->T[l->w_tensor].offset : NULL;
        sl_real *db = l->w_tensor >= 0 && param_grads ? m->grads + m->T[l->w_tensor + 1].offset : NULL;
        switch (l->kind) {
        case SL_LAYER_CONV: {
            sl_conv2d_shape s = l->conv;
            s.N = B;
            if (sl_conv2d_one_chunk(&s)) /* the forward's im2col is still there */
                sl_conv2d_backward_cached(&s, Wp, dcur, dprev, dW, db, ws->scratch[i]);
            else
                sl_conv2d_backward(&s, in, Wp, dcur, dprev, dW, db, ws->scratch[i]);
            break;
        }
        case SL_LAYER_MAXPOOL: {
            sl_pool2d_shape s = l->pool;
            s.N = B;
            if (dprev) sl_maxpool2d_backward(&s, dcur, ws->argmax + l->argmax_off * (size_t)B, dprev);
            break;
        }
        case SL_LAYER_AVGPOOL: {
            sl_pool2d_shape s = l->pool;
            s.N = B;
            if (dprev) sl_avgpool2d_backward(&s, dcur, dprev);
            break;
        }
        case SL_LAYER_FLATTEN: /* the identity: the next layer reads dcur as it is */
            if (i == 0 && dX) memcpy(dX, dcur, n_in * sizeof(sl_real));
            continue;
        case SL_LAYER_LINEAR:
            sl_linear_backward(B, l->in[0] * l->in[1] * l->in[2], l->out[0], in, Wp, dcur, dprev,
                               dW, db);
            break;
        case SL_LAYER_RELU:
            if (dprev) sl_relu_backward(outp, dcur, dprev, n);
            break;
        case SL_LAYER_ACT:
            if (dprev) act_backward(l->act, in, outp, dcur, dprev, n);
            break;
        }
        cb = 1 - cb;
    }
    return SL_OK;
}

sl_status sl_cnn_loss(sl_cnn *m, sl_cnn_ws *ws, const sl_real *X, const int *labels, int B,
                      int backward, double *loss, int *n_correct)
{
    sl_status st = sl_cnn_forward(m, ws, X, B, NULL);
    if (st) return st;
    const int K = sl_cnn_num_outputs(m);
    /* dZ in the spare gradient buffer g1 (backward copies it into g0 first) */
    sl_real *dZ = backward ? ws->g1 : NULL;
    st = sl_softmax_xent(B, K, ws->act[m->n_layers], labels, loss, dZ, n_correct);
    if (st || !backward) return st;
    return sl_cnn_backward(m, ws, m->n_layers - 1, dZ, NULL, 1);
}

/* ---------------------------------------------------------- save / load */

sl_status sl_cnn_to_tensors(const sl_cnn *m, const sl_real *buf, const char *prefix, sl_tensor *t,
                            char names[][64], float **scratch)
{
    *scratch = malloc((m->n_params ? m->n_params : 1) * sizeof(float));
    if (!*scratch) return sl_fail(SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n_params; i++) (*scratch)[i] = (float)buf[i];
    for (int i = 0; i < m->n_tensors; i++)
        slc_tensor_f32_view(&t[i], names[i], prefix, m->T[i].name, m->T[i].ndim, m->T[i].shape,
                            *scratch + m->T[i].offset);
    return SL_OK;
}

sl_status sl_cnn_from_tensors(const sl_cnn *m, const sl_tensorfile *f, const char *path,
                              const char *prefix, sl_real *buf)
{
    for (int i = 0; i < m->n_tensors; i++) {
        const sl_cnn_tensor *ti = &m->T[i];
        sl_status st = slc_tensor_f32_read(f, path, prefix, ti->name, ti->ndim, ti->shape,
                                           buf + ti->offset);
        if (st) return st;
    }
    return SL_OK;
}

sl_status sl_cnn_save(const sl_cnn *m, const char *path, const sl_kv *meta, int n_meta)
{
    sl_tensor t[2 * SL_CNN_MAX_LAYERS];
    char names[2 * SL_CNN_MAX_LAYERS][64];
    float *buf = NULL;
    sl_kv *kv = calloc((size_t)n_meta + 3, sizeof *kv);
    if (!kv) return sl_fail(SL_ENOMEM, "out of memory");
    sl_status st = sl_cnn_to_tensors(m, m->params, "", t, names, &buf);
    char input[64];
    snprintf(input, sizeof input, "%d,%d,%d", m->in[0], m->in[1], m->in[2]);
    kv[0] = (sl_kv){"format", "silico.cnn.v1"};
    kv[1] = (sl_kv){"layers", m->layers_text};
    kv[2] = (sl_kv){"input", input};
    for (int i = 0; i < n_meta; i++) kv[3 + i] = meta[i];
    if (!st) st = sl_safetensors_write(path, t, m->n_tensors, kv, n_meta + 3);
    free(buf);
    free(kv);
    return st;
}

int sl_cnn_is_checkpoint(const sl_tensorfile *f)
{
    const char *fmt = f ? sl_tensorfile_meta(f, "format") : NULL;
    return fmt && !strcmp(fmt, "silico.cnn.v1");
}

sl_status sl_cnn_load(const char *path, sl_cnn **out, sl_tensorfile **file_out)
{
    *out = NULL;
    if (file_out) *file_out = NULL;
    sl_tensorfile *f = NULL;
    sl_status st = sl_safetensors_read(path, &f);
    if (st) return st;
    sl_cnn *m = NULL;
    const char *layers = sl_tensorfile_meta(f, "layers"), *input = sl_tensorfile_meta(f, "input");
    int C, H, W;
    if (!sl_cnn_is_checkpoint(f) || !layers || !input || sscanf(input, "%d,%d,%d", &C, &H, &W) != 3)
        st = sl_fail(SL_EFORMAT,
                     "%s: not a silico CNN checkpoint (metadata format = silico.cnn.v1, layers "
                     "and input missing)",
                     path);
    if (!st && (st = sl_cnn_create(layers, C, H, W, NULL, &m)))
        st = sl_fail_context(st, "%s", path);
    if (!st) st = sl_cnn_from_tensors(m, f, path, "", m->params);
    if (st) {
        sl_cnn_free(m);
        sl_tensorfile_free(f);
        return st;
    }
    *out = m;
    if (file_out)
        *file_out = f;
    else
        sl_tensorfile_free(f);
    return SL_OK;
}
