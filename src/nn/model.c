/* model.c — a recurrent cell read out linearly, as a trainable model behind
 * the public sl_model_* API (model.type = rnn | gru | lightgru | lstm; the
 * CT-RNN keeps its own specialised path in ctrnn.c, which dispatches here):
 *
 *   H   = cell(U)           U (T×B×n_in) → H (T×B×N), h_0 = 0   (src/nn/cell.h)
 *   z_t = W h_t + c         W (n_out×N), c (n_out)
 *   L   = task loss(z) + λ_w Σ_{M ∈ l2_on} Σ M² + λ_r mean(h²)
 *
 * l2_on maps J to the cell's recurrent matrices (weight_hh; U_z, U_h for the
 * light GRU), B to its input matrices (weight_ih; W_z, W_h) and W to the
 * readout; biases and batch-norm γ/β are never penalised.
 *
 * Backward, with DZ = ∂L/∂Z (T·B×n_out, time-major):
 *   dH = DZ·W + 2·rate_coef·H      ∂W += DZᵀ·H      ∂c += Σ_rows DZ
 * (one GEMM each over the T·B rows), then the cell's backward turns dH into
 * its parameter gradients.
 *
 * Batch norm (lightgru): sl_model_loss runs the cell in training mode (batch
 * statistics, running estimates updated), sl_model_forward in evaluation
 * mode (running estimates, unchanged); sl_model_backward follows the mode of
 * the forward it comes after.
 *
 * Denormals: the light GRU's h decays geometrically through z ⊙ h while
 * h̃ = ReLU(·) = 0, reaching float32 denormals within a few dozen steps, and
 * denormal operands make OpenBLAS's GEMM kernels ~30× slower (a whole
 * DualDelayMatchSample run 3×). The float32 build therefore runs the cells
 * with flush-to-zero and denormals-are-zero set in MXCSR (x86; restored
 * after each call), as PyTorch's torch.set_flush_denormal(True) does.
 *
 * Layout: parameters in one flat buffer, the cell's tensors first (named as
 * the cell names them), then "W", "c"; the cell's buffers in a separate flat
 * buffer (m->bufs). The workspace keeps the inputs time-major (built once per
 * call from the batch-major u), H, dH, Z, DZ and the cell's scratch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "nn/act.h"
#include "nn/cell.h"
#include "nn/ctrnn.h"
#include "nn/loss.h"
#include "silico.h"

#if defined(__SSE__)
#include <xmmintrin.h>
/* FTZ | DAZ for the float32 build; returns the previous MXCSR */
static unsigned ftz_on(void)
{
    unsigned old = _mm_getcsr();
    if (SL_REAL_IS_FLOAT) _mm_setcsr(old | 0x8040u);
    return old;
}
static void ftz_restore(unsigned old)
{
    if (SL_REAL_IS_FLOAT) _mm_setcsr(old);
}
#else
static unsigned ftz_on(void) { return 0; }
static void ftz_restore(unsigned old) { (void)old; }
#endif

static const char *const KIND_NAMES[] = {"ctrnn", "rnn", "gru", "lightgru", "lstm"};

const char *sl_cell_kind_name(sl_cell_kind k)
{
    return (k >= SL_CELL_CTRNN && k <= SL_CELL_LSTM) ? KIND_NAMES[k] : "?";
}

sl_status sl_cell_kind_parse(const char *name, sl_cell_kind *out)
{
    for (int i = 0; i <= SL_CELL_LSTM; i++)
        if (name && strcmp(name, KIND_NAMES[i]) == 0) {
            *out = (sl_cell_kind)i;
            return SL_OK;
        }
    return sl_fail(SL_EINVAL, "unknown model type '%s' (ctrnn, rnn, gru, lightgru, lstm)",
                   name ? name : "(null)");
}

const sl_cell_ops *sl_cell_ops_of(sl_cell_kind k)
{
    switch (k) {
    case SL_CELL_RNN: return &sl_cell_rnn;
    case SL_CELL_GRU: return &sl_cell_gru;
    case SL_CELL_LIGHTGRU: return &sl_cell_lightgru;
    case SL_CELL_LSTM: return &sl_cell_lstm;
    default: return NULL;
    }
}

int sl_model_num_buffers(const sl_model *m) { return m->n_buffers; }
sl_real *sl_model_buffers(sl_model *m) { return m->bufs; }
const sl_param_info *sl_model_buffer(const sl_model *m, int i)
{
    return (i >= 0 && i < m->n_buffers) ? &m->binfo[i] : NULL;
}

/* ------------------------------------------------------------------ model */

static void *zalloc64(size_t bytes)
{
    size_t sz = (bytes + 63) / 64 * 64;
    if (sz == 0) sz = 64;
    void *p = aligned_alloc(64, sz);
    if (p) memset(p, 0, sz);
    return p;
}

static void set_info(sl_param_info *p, const char *name, size_t offset, int ndim,
                     const int64_t shape[2])
{
    p->name = name;
    p->offset = offset;
    p->ndim = ndim;
    p->shape[0] = shape[0];
    p->shape[1] = ndim > 1 ? shape[1] : 0;
    p->numel = (size_t)shape[0] * (size_t)(ndim > 1 ? shape[1] : 1);
}

/* the l2_on group of a cell tensor, by name */
static unsigned l2_group(const char *name)
{
    if (!strcmp(name, "weight_hh") || !strcmp(name, "U_z") || !strcmp(name, "U_h")) return SL_L2_J;
    if (!strcmp(name, "weight_ih") || !strcmp(name, "W_z") || !strcmp(name, "W_h")) return SL_L2_B;
    return 0;
}

sl_status sl_cellnet_alloc(const sl_model_spec *spec, sl_model **out)
{
    *out = NULL;
    const sl_cell_ops *ops = sl_cell_ops_of(spec->cell);
    if (!ops) return sl_fail(SL_EINVAL, "model: unknown model type %d", (int)spec->cell);
    const char *kind = ops->name;
    if (spec->n_in < 1 || spec->n_hidden < 1 || spec->n_out < 1)
        return sl_fail(SL_EINVAL, "%s: sizes must be positive (n_in %d, hidden %d, n_out %d)", kind,
                       spec->n_in, spec->n_hidden, spec->n_out);
    if (spec->learn_x0)
        return sl_fail(SL_EINVAL,
                       "%s: a learned initial state (model.learn_x0) is only available for the "
                       "ctrnn; the cells start from h_0 = 0",
                       kind);
    if (spec->act < 0 || spec->act > SL_ACT_SIGMOID)
        return sl_fail(SL_EINVAL, "%s: unknown activation %d", kind, (int)spec->act);
    if (!(spec->bn_momentum >= 0 && spec->bn_momentum <= 1) || !(spec->bn_eps >= 0) ||
        !isfinite(spec->bn_eps))
        return sl_fail(SL_EINVAL, "%s: batch-norm momentum (%g) must be in [0, 1] and eps (%g) >= 0",
                       kind, spec->bn_momentum, spec->bn_eps);
    if (ops->n_tensors + 2 > SL_MODEL_MAX_TENSORS || ops->n_buffers > SL_MODEL_MAX_BUFFERS)
        return sl_fail(SL_EINVAL, "%s: too many tensors", kind);

    sl_model *m = calloc(1, sizeof *m);
    if (!m) return sl_fail(SL_ENOMEM, "%s: out of memory", kind);
    m->spec = *spec;
    if (m->spec.bn_momentum == 0) m->spec.bn_momentum = 0.1;
    if (m->spec.bn_eps == 0) m->spec.bn_eps = 1e-5;
    m->cell = ops;
    m->dims.n_in = spec->n_in;
    m->dims.n_hidden = spec->n_hidden;
    m->dims.act = spec->act;
    m->dims.training = 0;
    m->dims.bn_momentum = m->spec.bn_momentum;
    m->dims.bn_eps = m->spec.bn_eps;

    for (int i = 0; i < ops->n_tensors + ops->n_buffers; i++) {
        const char *name;
        int ndim = 1;
        int64_t shape[2] = {1, 1};
        ops->tensor(&m->dims, i, &name, &ndim, shape);
        if (i < ops->n_tensors) {
            sl_param_info *p = &m->info[m->n_tensors];
            set_info(p, name, m->n_params, ndim, shape);
            m->l2bit[m->n_tensors++] = l2_group(name);
            m->n_params += p->numel;
        } else {
            sl_param_info *p = &m->binfo[m->n_buffers++];
            set_info(p, name, m->n_bufvals, ndim, shape);
            m->n_bufvals += p->numel;
        }
    }
    const int64_t wshape[2] = {spec->n_out, spec->n_hidden}, cshape[2] = {spec->n_out, 0};
    set_info(&m->info[m->n_tensors], "W", m->n_params, 2, wshape);
    m->l2bit[m->n_tensors] = SL_L2_W;
    m->n_params += m->info[m->n_tensors++].numel;
    set_info(&m->info[m->n_tensors], "c", m->n_params, 1, cshape);
    m->n_params += m->info[m->n_tensors++].numel;

    m->params = zalloc64(m->n_params * sizeof(sl_real));
    m->grads = zalloc64(m->n_params * sizeof(sl_real));
    m->bufs = m->n_bufvals ? zalloc64(m->n_bufvals * sizeof(sl_real)) : NULL;
    if (!m->params || !m->grads || (m->n_bufvals && !m->bufs)) {
        size_t n = m->n_params;
        sl_model_free(m);
        return sl_fail(SL_ENOMEM, "%s: cannot allocate %zu parameters", kind, n);
    }
    for (int i = 0; i < ops->n_tensors; i++) {
        m->p[i] = m->params + m->info[i].offset;
        m->g[i] = m->grads + m->info[i].offset;
    }
    for (int j = 0; j < ops->n_buffers; j++) m->p[ops->n_tensors + j] = m->bufs + m->binfo[j].offset;
    m->W = m->params + m->info[ops->n_tensors].offset;
    m->c = m->params + m->info[ops->n_tensors + 1].offset;
    *out = m;
    return SL_OK;
}

void sl_cellnet_init(sl_model *m, sl_rng *rng)
{
    m->cell->init(&m->dims, m->p, rng);
    /* W, c ~ U(−1/√N, 1/√N) as PyTorch's nn.Linear(N, n_out) */
    const int N = m->spec.n_hidden, NO = m->spec.n_out;
    double k = 1.0 / sqrt((double)N);
    for (size_t i = 0; i < (size_t)NO * N; i++) m->W[i] = (sl_real)(k * (2 * sl_rng_uniform(rng) - 1));
    for (int i = 0; i < NO; i++) m->c[i] = (sl_real)(k * (2 * sl_rng_uniform(rng) - 1));
}

/* -------------------------------------------------------------- workspace */

sl_status sl_cellnet_workspace(const sl_model *m, int batch, int T, sl_workspace **out)
{
    *out = NULL;
    sl_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) return sl_fail(SL_ENOMEM, "workspace: out of memory");
    const size_t N = (size_t)m->spec.n_hidden, NI = (size_t)m->spec.n_in, NO = (size_t)m->spec.n_out;
    const size_t R = (size_t)batch * T, nc = m->cell->ws_size(&m->dims, batch, T);
    ws->Bmax = batch;
    ws->Tmax = T;
    ws->N = (int)N;
    ws->cell = m->cell;
    size_t bytes = sizeof(sl_real) * (R * NI + 2 * R * N + 2 * R * NO + nc) + 6 * 64;
    sl_status st = sl_arena_create(bytes, &ws->arena);
    if (st) {
        free(ws);
        return st;
    }
#define TAKE(ptr, count) ptr = sl_arena_alloc(ws->arena, (count) * sizeof(sl_real))
    TAKE(ws->U, R * NI);
    TAKE(ws->H, R * N);
    TAKE(ws->dH, R * N);
    TAKE(ws->Z, R * NO);
    TAKE(ws->DZ, R * NO);
    TAKE(ws->cws, nc ? nc : 1);
#undef TAKE
    *out = ws;
    return SL_OK;
}

/* batch-major (B×T×C) ⇄ time-major (T×B×C) */
static void to_tm(const sl_real *src, sl_real *dst, int B, int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(dst + ((size_t)t * B + b) * C, src + ((size_t)b * T + t) * C, C * sizeof(sl_real));
}

static void to_bm(const sl_real *src, sl_real *dst, int B, int T, int C)
{
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++)
            memcpy(dst + ((size_t)b * T + t) * C, src + ((size_t)t * B + b) * C, C * sizeof(sl_real));
}

static sl_status check_ws(const sl_model *m, const sl_workspace *ws)
{
    if (ws->cell != m->cell)
        return sl_fail(SL_EINVAL, "%s: the workspace was made for another kind of model",
                       m->cell->name);
    return SL_OK;
}

/* ---------------------------------------------------------------- forward */

/* The cell over ws->U (time-major, already filled), then Z = H Wᵀ + c. */
static void run_forward(sl_model *m, sl_workspace *ws, int B, int T, int training)
{
    const int N = m->spec.n_hidden, NO = m->spec.n_out;
    const size_t R = (size_t)B * T;
    ws->B = B;
    ws->T = T;
    ws->training = training;
    m->dims.training = training;
    unsigned csr = ftz_on();
    m->cell->forward(&m->dims, m->p, ws->U, B, T, ws->H, ws->cws);
    for (size_t r = 0; r < R; r++) memcpy(ws->Z + r * NO, m->c, NO * sizeof(sl_real));
    sl_gemm(0, 1, (int)R, NO, N, 1.0, ws->H, N, m->W, N, 1.0, ws->Z, NO);
    ftz_restore(csr);
}

sl_status sl_cellnet_forward(sl_model *m, sl_workspace *ws, const sl_real *u, int B, int T,
                             sl_real *z)
{
    sl_status st = check_ws(m, ws);
    if (st) return st;
    to_tm(u, ws->U, B, T, m->spec.n_in);
    run_forward(m, ws, B, T, 0);
    if (z) to_bm(ws->Z, z, B, T, m->spec.n_out);
    return SL_OK;
}

void sl_cellnet_states(const sl_workspace *ws, sl_real *x, sl_real *r)
{
    if (x) to_bm(ws->H, x, ws->B, ws->T, ws->N);
    if (r) to_bm(ws->H, r, ws->B, ws->T, ws->N);
}

/* --------------------------------------------------------------- backward */

/* From ws->DZ (time-major): the readout's gradients, dH, then the cell's. */
static void run_backward(sl_model *m, sl_workspace *ws, double rate_coef)
{
    const int N = m->spec.n_hidden, NO = m->spec.n_out, B = ws->B, T = ws->T;
    const size_t R = (size_t)B * T;
    const int iw = m->cell->n_tensors;
    unsigned csr = ftz_on();
    sl_real *gW = m->grads + m->info[iw].offset, *gc = m->grads + m->info[iw + 1].offset;
    sl_gemm(1, 0, NO, N, (int)R, 1.0, ws->DZ, NO, ws->H, N, 1.0, gW, N); /* ∂W += DZᵀ H */
    for (size_t r = 0; r < R; r++) {
        const sl_real *dz = ws->DZ + r * NO;
        for (int o = 0; o < NO; o++) gc[o] += dz[o];
    }
    if (rate_coef != 0) { /* dH = DZ·W + 2·rate_coef·H */
        memcpy(ws->dH, ws->H, R * N * sizeof(sl_real));
        sl_gemm(0, 0, (int)R, N, NO, 1.0, ws->DZ, NO, m->W, N, 2 * rate_coef, ws->dH, N);
    } else
        sl_gemm(0, 0, (int)R, N, NO, 1.0, ws->DZ, NO, m->W, N, 0.0, ws->dH, N);
    m->dims.training = ws->training;
    m->cell->backward(&m->dims, m->p, m->g, ws->U, B, T, ws->H, ws->dH, NULL, ws->cws);
    ftz_restore(csr);
}

sl_status sl_cellnet_backward(sl_model *m, sl_workspace *ws, const sl_real *dz, double rate_coef)
{
    sl_status st = check_ws(m, ws);
    if (st) return st;
    to_tm(dz, ws->DZ, ws->B, ws->T, m->spec.n_out);
    run_backward(m, ws, rate_coef);
    return SL_OK;
}

/* ------------------------------------------------------------- batch loss */

sl_status sl_cellnet_loss(sl_model *m, sl_workspace *ws, const sl_batch *batch,
                          const sl_loss_spec *spec, int backward, sl_loss_terms *out,
                          sl_real *z_out)
{
    const sl_model_spec *s = &m->spec;
    const char *kind = m->cell->name;
    const int B = batch->B, T = batch->T, NO = s->n_out, N = s->n_hidden;
    sl_status st = check_ws(m, ws);
    if (st) return st;
    if (batch->n_in != s->n_in || batch->n_out != NO)
        return sl_fail(SL_EINVAL, "%s: batch has %d inputs / %d outputs, the model %d / %d", kind,
                       batch->n_in, batch->n_out, s->n_in, NO);
    if (!batch->labels && !batch->y)
        return sl_fail(SL_EINVAL, "%s: the batch has neither targets nor labels", kind);
    to_tm(batch->u, ws->U, B, T, s->n_in);
    run_forward(m, ws, B, T, 1);

    double task = batch->labels
                      ? sl_loss_ce_tm(ws->Z, batch, spec ? spec->class_weights : NULL, ws->DZ)
                      : sl_loss_mse_tm(ws->Z, batch, ws->DZ);

    /* λ_r mean h² over t, b, i */
    double rate = 0;
    const size_t nr = (size_t)T * B * N;
    if (spec && spec->l2_rate > 0) {
        double ss = 0;
        for (size_t i = 0; i < nr; i++) ss += (double)ws->H[i] * ws->H[i];
        rate = spec->l2_rate * ss / (double)nr;
    }

    /* λ_w Σ M² over the tensors in the chosen groups */
    double wl2 = 0;
    if (spec && spec->l2_weight > 0 && spec->l2_on)
        for (int k = 0; k < m->n_tensors; k++) {
            if (!(m->l2bit[k] & spec->l2_on)) continue;
            const sl_param_info *p = &m->info[k];
            const sl_real *w = m->params + p->offset;
            double ss = 0;
            for (size_t i = 0; i < p->numel; i++) ss += (double)w[i] * w[i];
            wl2 += spec->l2_weight * ss;
            if (backward) {
                sl_real *g = m->grads + p->offset, f = (sl_real)(2 * spec->l2_weight);
                for (size_t i = 0; i < p->numel; i++) g[i] += f * w[i];
            }
        }

    if (out) {
        out->mse = task;
        out->rate = rate;
        out->weight_l2 = wl2;
        out->total = task + rate + wl2;
    }
    if (z_out) to_bm(ws->Z, z_out, B, T, NO);
    if (!isfinite(task + rate + wl2))
        return sl_fail(SL_ENUMERIC, "loss is not finite (task %g, rate %g, weight %g)", task, rate,
                       wl2);
    if (backward)
        run_backward(m, ws, (spec && spec->l2_rate > 0) ? spec->l2_rate / (double)nr : 0);
    return SL_OK;
}
