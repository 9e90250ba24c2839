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
 * ENU input stage (model.enu_k = k > 0; the coursework's eqs. 15–17, enu.h):
 *   E = ReLU(U W_eᵀ + b_e)  (T·B × N·k),   H = cell(E)
 * with every input matrix of the cell (weight_ih; W_z, W_h) used as Ŵ ⊙ M,
 * M the block-diagonal mask of sl_enu_block_mask (G = rows/N gate blocks).
 * Backward: the cell's with dU = dE, ∂Ŵ = M ⊙ ∂W, then sl_enu_backward.
 * Ŵ is multiplied by M at init, so its masked entries are 0 and, their
 * gradient being exactly 0, stay 0 under Adam (zero moments, zero step).
 *
 * Dale's law (model.dale) on the recurrent matrix R (lightgru: U_h, as the
 * coursework's EI-light-GRU and bench W2; rnn, gru, lstm: weight_hh, all gate
 * blocks), columns = presynaptic units, sign_j = +1 for j < ⌊f·N⌋, −1 after,
 * M_ii = 0 in every gate block when no_autapses (else M = 1):
 *   reparam  R_eff = |R ⊙ M|·diag(sign),  ∂R = sgn(R) ⊙ M ⊙ (∂R_eff·diag(sign))
 *            (sl_dale_reparam / _backward; PsychRNN)
 *   project  R_eff = R ⊙ M, ∂R = M ⊙ ∂R_eff; sl_model_constrain clamps wrong
 *            signs to 0 after each optimiser step (sl_dale_project; nn4n)
 * Init when Dale is on: each N×N gate block of R from sl_lightgru_init_uh_ei
 * (magnitudes U(0, 1/√N), excitatory columns × n_I/n_E: E/I balance, bench
 * W2), times M; project mode also multiplies column j by sign_j (reparam
 * keeps the non-negative magnitudes as W2 does). no_autapses without Dale is
 * R ⊙ M alone. The effective matrices are rebuilt before every forward
 * (N² work); the gradients of effective tensors go to scratch (gs) and are
 * mapped back onto the parameters, so the cell itself never knows.
 *
 * Activation norm (train.l2_activation = β, the coursework's eq. 9,
 * sl_penalty_act_norm): L += β · 1/(T·B) Σ_{t,b} ‖h_{t,b}‖₂, and its
 * gradient β/(T·B) · h/‖h‖ is added to dH.
 *
 * Layout: parameters in one flat buffer — "enu.weight", "enu.bias" first with
 * ENU — then the cell's tensors (named as the cell names them), then "W",
 * "c"; the cell's buffers in a separate flat buffer (m->bufs). The workspace
 * keeps the inputs time-major (built once per call from the batch-major u),
 * H, dH, Z, DZ, the cell's scratch, and E, dE with ENU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "nn/act.h"
#include "nn/cell.h"
#include "nn/constraints.h"
#include "nn/ctrnn.h"
#include "nn/enu.h"
#include "nn/lightgru.h"
#include "nn/loss.h"
#include "silico.h"

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

static const char *const DALE_NAMES[] = {"off", "reparam", "project", "dann"};

const char *sl_dale_mode_name(sl_dale_mode d)
{
    return (d >= SL_DALE_OFF && d <= SL_DALE_DANN) ? DALE_NAMES[d] : "?";
}

sl_status sl_dale_mode_parse(const char *name, sl_dale_mode *out)
{
    for (int i = 0; i <= SL_DALE_DANN; i++)
        if (name && strcmp(name, DALE_NAMES[i]) == 0) {
            *out = (sl_dale_mode)i;
            return SL_OK;
        }
    return sl_fail(SL_EINVAL, "unknown Dale mode '%s' (off, reparam, project, dann)",
                   name ? name : "(null)");
}

static const char *const FORM_NAMES[] = {"current", "rate"};

const char *sl_ctrnn_form_name(sl_ctrnn_form f)
{
    return (f >= SL_CTRNN_CURRENT && f <= SL_CTRNN_RATE) ? FORM_NAMES[f] : "?";
}

sl_status sl_ctrnn_form_parse(const char *name, sl_ctrnn_form *out)
{
    for (int i = 0; i <= SL_CTRNN_RATE; i++)
        if (name && strcmp(name, FORM_NAMES[i]) == 0) {
            *out = (sl_ctrnn_form)i;
            return SL_OK;
        }
    return sl_fail(SL_EINVAL, "unknown ctrnn form '%s' (current, rate)", name ? name : "(null)");
}

sl_status sl_mask_copy(const sl_real *src, int N, sl_real **out)
{
    *out = NULL;
    if (!src) return SL_OK;
    const size_t nn = (size_t)N * N;
    if (!(*out = malloc(nn * sizeof(sl_real)))) return sl_fail(SL_ENOMEM, "out of memory");
    memcpy(*out, src, nn * sizeof(sl_real));
    return SL_OK;
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

/* the l2_on group of a tensor, by name (enu.weight counts as an input matrix) */
static unsigned l2_group(const char *name)
{
    if (!strcmp(name, "weight_hh") || !strcmp(name, "U_z") || !strcmp(name, "U_h")) return SL_L2_J;
    if (!strcmp(name, "weight_ih") || !strcmp(name, "W_z") || !strcmp(name, "W_h") ||
        !strcmp(name, "enu.weight"))
        return SL_L2_B;
    return 0;
}

/* the recurrent matrix Dale's law and no_autapses act on */
static const char *dale_tensor_name(sl_cell_kind k)
{
    return k == SL_CELL_LIGHTGRU ? "U_h" : "weight_hh";
}

static const sl_param_info *cinfo(const sl_model *m, int i) { return &m->info[m->n_pre + i]; }

/* Masks, effective-weight and gradient scratch, Dale signs (one blob). */
static sl_status setup_constraints(sl_model *m)
{
    const sl_model_spec *s = &m->spec;
    const int N = s->n_hidden, k = s->enu_k, nt = m->cell->n_tensors;
    const char *rec = dale_tensor_name(s->cell);
    size_t need = 0;
    m->dale_t = -1;
    for (int i = 0; i < nt; i++) {
        const sl_param_info *p = cinfo(m, i);
        int enu = k > 0 && p->ndim == 2 && l2_group(p->name) == SL_L2_B;
        int recm = !strcmp(p->name, rec) && (s->dale || s->no_autapses || m->rec_mask);
        if (!enu && !recm) continue;
        if (p->shape[0] % N)
            return sl_fail(SL_EINVAL, "%s: %s has %lld rows, not a multiple of N = %d", m->cell->name,
                           p->name, (long long)p->shape[0], N);
        if (recm && s->dale) m->dale_t = i;
        int masked = enu || s->no_autapses || (recm && m->rec_mask);
        m->effk[i] = (recm && s->dale == SL_DALE_REPARAM) ? 2 : masked ? 1 : 0;
        need += p->numel * ((masked ? 1 : 0) + (m->effk[i] ? 2 : 0));
    }
    if (m->dale_t >= 0) need += (size_t)N;
    if (!need) return SL_OK;
    m->cblob = zalloc64(need * sizeof(sl_real));
    if (!m->cblob) return sl_fail(SL_ENOMEM, "%s: out of memory", m->cell->name);
    sl_real *q = m->cblob;
    for (int i = 0; i < nt; i++) {
        const sl_param_info *p = cinfo(m, i);
        int enu = k > 0 && p->ndim == 2 && l2_group(p->name) == SL_L2_B;
        int recm = !strcmp(p->name, rec) && (s->dale || s->no_autapses || m->rec_mask);
        if (!enu && !recm) continue;
        const int G = (int)(p->shape[0] / N);
        if (enu || s->no_autapses || m->rec_mask) {
            m->mask[i] = q, q += p->numel;
            if (enu)
                sl_enu_block_mask(G, N, k, m->mask[i]);
            else {
                for (int g = 0; g < G; g++) {
                    sl_real *Mg = m->mask[i] + (size_t)g * N * N;
                    for (size_t e = 0; e < (size_t)N * N; e++) Mg[e] = m->rec_mask ? m->rec_mask[e] : 1;
                    if (s->no_autapses) sl_mask_no_autapses(Mg, N);
                }
            }
        }
        if (m->effk[i]) {
            m->eff[i] = q, q += p->numel;
            m->gs[i] = q, q += p->numel;
        }
    }
    if (m->dale_t >= 0) {
        m->sign = q;
        sl_status st = sl_dale_signs(m->sign, N, s->exc_fraction, &m->n_exc);
        if (st) return st;
    }
    return SL_OK;
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
    if (spec->enu_k < 0 || (double)spec->enu_k * spec->n_hidden > 1e8)
        return sl_fail(SL_EINVAL, "%s: ENU embedding size k = %d must be >= 0 (and N·k sane)", kind,
                       spec->enu_k);
    if (spec->dale < SL_DALE_OFF || spec->dale > SL_DALE_PROJECT)
        return sl_fail(SL_EINVAL, "%s: Dale mode %d is not available for the cells (off, reparam, "
                                  "project; dann is a ctrnn option)", kind, (int)spec->dale);
    if (!(spec->exc_fraction >= 0 && spec->exc_fraction <= 1))
        return sl_fail(SL_EINVAL, "%s: exc_fraction (%g) must be in [0, 1] (0 = 0.8)", kind,
                       spec->exc_fraction);
    if (spec->form != SL_CTRNN_CURRENT)
        return sl_fail(SL_EINVAL, "%s: the rate form (model.ctrnn_form = rate) is a ctrnn option",
                       kind);
    if (!(spec->sigma_rec >= 0) || !isfinite(spec->sigma_rec) || !(spec->sigma_in >= 0) ||
        !isfinite(spec->sigma_in))
        return sl_fail(SL_EINVAL, "%s: sigma_rec (%g) and sigma_in (%g) must be >= 0", kind,
                       spec->sigma_rec, spec->sigma_in);
    const int n_pre = spec->enu_k > 0 ? 2 : 0;
    if (n_pre + ops->n_tensors + 2 > SL_MODEL_MAX_TENSORS || ops->n_buffers > SL_MODEL_MAX_BUFFERS)
        return sl_fail(SL_EINVAL, "%s: too many tensors", kind);

    sl_model *m = calloc(1, sizeof *m);
    if (!m) return sl_fail(SL_ENOMEM, "%s: out of memory", kind);
    m->spec = *spec;
    if (m->spec.bn_momentum == 0) m->spec.bn_momentum = 0.1;
    if (m->spec.bn_eps == 0) m->spec.bn_eps = 1e-5;
    if (m->spec.exc_fraction == 0) m->spec.exc_fraction = 0.8;
    m->cell = ops;
    m->n_pre = n_pre;
    m->spec.rec_mask = m->spec.plastic_mask = NULL;
    if (sl_mask_copy(spec->rec_mask, spec->n_hidden, &m->rec_mask) ||
        sl_mask_copy(spec->plastic_mask, spec->n_hidden, &m->plastic)) {
        sl_model_free(m);
        return sl_fail(SL_ENOMEM, "%s: out of memory", kind);
    }
    m->dims.n_in = n_pre ? spec->n_hidden * spec->enu_k : spec->n_in;
    m->dims.n_hidden = spec->n_hidden;
    m->dims.act = spec->act;
    m->dims.training = 0;
    m->dims.bn_momentum = m->spec.bn_momentum;
    m->dims.bn_eps = m->spec.bn_eps;

    if (n_pre) {
        const int64_t K = (int64_t)spec->n_hidden * spec->enu_k;
        const int64_t wshape[2] = {K, spec->n_in}, bshape[2] = {K, 0};
        set_info(&m->info[0], "enu.weight", 0, 2, wshape);
        m->l2bit[0] = SL_L2_B;
        set_info(&m->info[1], "enu.bias", m->info[0].numel, 1, bshape);
        m->n_tensors = 2;
        m->n_params = m->info[0].numel + m->info[1].numel;
    }
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
    if (n_pre) {
        m->enu_W = m->params + m->info[0].offset;
        m->enu_b = m->params + m->info[1].offset;
    }
    for (int i = 0; i < ops->n_tensors; i++) {
        m->p[i] = m->params + cinfo(m, i)->offset;
        m->g[i] = m->grads + cinfo(m, i)->offset;
    }
    for (int j = 0; j < ops->n_buffers; j++) m->p[ops->n_tensors + j] = m->bufs + m->binfo[j].offset;
    m->W = m->params + m->info[n_pre + ops->n_tensors].offset;
    m->c = m->params + m->info[n_pre + ops->n_tensors + 1].offset;
    sl_status st = setup_constraints(m);
    if (st) {
        sl_model_free(m);
        return st;
    }
    for (int i = 0; i < ops->n_tensors + ops->n_buffers; i++)
        m->pc[i] = (i < ops->n_tensors && m->effk[i]) ? m->eff[i] : m->p[i];
    for (int i = 0; i < ops->n_tensors; i++) m->gc[i] = m->effk[i] ? m->gs[i] : m->g[i];
    *out = m;
    return SL_OK;
}

void sl_cellnet_init(sl_model *m, sl_rng *rng)
{
    const int N = m->spec.n_hidden, NO = m->spec.n_out;
    if (m->n_pre) {
        const sl_enu_dims ed = {m->spec.n_in, N, m->spec.enu_k};
        sl_enu_init(&ed, m->enu_W, m->enu_b, rng);
    }
    m->cell->init(&m->dims, m->p, rng);
    if (m->dale_t >= 0) { /* E/I-balanced magnitudes per gate block (bench W2) */
        const sl_param_info *p = cinfo(m, m->dale_t);
        sl_real *R = m->p[m->dale_t];
        const int G = (int)(p->shape[0] / N);
        for (int g = 0; g < G; g++) sl_lightgru_init_uh_ei(N, m->n_exc, R + (size_t)g * N * N, rng);
        if (m->spec.dale == SL_DALE_PROJECT)
            for (size_t r = 0; r < (size_t)p->shape[0]; r++)
                for (int j = 0; j < N; j++) R[r * N + j] *= m->sign[j];
    }
    for (int i = 0; i < m->cell->n_tensors; i++)
        if (m->mask[i]) sl_mask_project(m->p[i], m->mask[i], cinfo(m, i)->numel);
    /* W, c ~ U(−1/√N, 1/√N) as PyTorch's nn.Linear(N, n_out) */
    double k = 1.0 / sqrt((double)N);
    for (size_t i = 0; i < (size_t)NO * N; i++) m->W[i] = (sl_real)(k * (2 * sl_rng_uniform(rng) - 1));
    for (int i = 0; i < NO; i++) m->c[i] = (sl_real)(k * (2 * sl_rng_uniform(rng) - 1));
}

/* ------------------------------------------------------ effective weights */

/* the effective matrix of cell tensor i (effk != 0) from W into out */
static void effective_of(const sl_model *m, int i, const sl_real *W, sl_real *out)
{
    const sl_param_info *p = cinfo(m, i);
    if (m->effk[i] == 2)
        sl_dale_reparam(W, m->mask[i], m->sign, (int)p->shape[0], (int)p->shape[1], out);
    else
        for (size_t e = 0; e < p->numel; e++) out[e] = W[e] * m->mask[i][e];
}

static void refresh_effective(sl_model *m)
{
    for (int i = 0; i < m->cell->n_tensors; i++)
        if (m->effk[i]) effective_of(m, i, m->p[i], m->eff[i]);
}

/* ∂L/∂W_eff (gs) → ∂L/∂W, added into the parameter gradients */
static void effective_backward(sl_model *m)
{
    for (int i = 0; i < m->cell->n_tensors; i++) {
        if (!m->effk[i]) continue;
        const sl_param_info *p = cinfo(m, i);
        if (m->effk[i] == 2)
            sl_dale_reparam_backward(m->p[i], m->mask[i], m->sign, (int)p->shape[0],
                                     (int)p->shape[1], m->gs[i], m->g[i]);
        else
            for (size_t e = 0; e < p->numel; e++) m->g[i][e] += m->mask[i][e] * m->gs[i][e];
    }
}

sl_status sl_model_effective(const sl_model *m, const char *name, sl_real *out)
{
    const sl_param_info *p = sl_model_find(m, name);
    if (!p) return sl_fail(SL_EINVAL, "model: no tensor named '%s'", name ? name : "(null)");
    if (!m->cell && m->Jeff && p == &m->info[0]) { /* ctrnn Dale reparam or DANN */
        sl_ctrnn_effective_J(m, out);
        return SL_OK;
    }
    if (m->cell && p >= &m->info[m->n_pre] && p < &m->info[m->n_pre + m->cell->n_tensors]) {
        int i = (int)(p - &m->info[m->n_pre]);
        if (m->effk[i]) {
            effective_of(m, i, m->p[i], out);
            return SL_OK;
        }
    }
    memcpy(out, m->params + p->offset, p->numel * sizeof(sl_real));
    return SL_OK;
}

void sl_model_constrain(sl_model *m)
{
    if (!m->cell && m->spec.dale == SL_DALE_DANN) { /* J, J_IE, J_EI ≥ 0 */
        sl_dann v = sl_ctrnn_dann_view(m, m->params);
        sl_dann_clamp(&v);
        return;
    }
    if (m->spec.dale != SL_DALE_PROJECT) return;
    if (!m->cell) {
        sl_dale_project(m->J, m->rec_mask, m->sign, m->spec.n_hidden, m->spec.n_hidden);
        return;
    }
    if (m->dale_t < 0) return;
    const sl_param_info *p = cinfo(m, m->dale_t);
    sl_dale_project(m->p[m->dale_t], m->mask[m->dale_t], m->sign, (int)p->shape[0],
                    (int)p->shape[1]);
}

sl_status sl_model_check_invariants(const sl_model *m)
{
    if (!m->cell) {
        const int N = m->spec.n_hidden;
        sl_status st = m->rec_mask ? sl_check_mask("J (connectivity mask)", m->J, m->rec_mask, N, N)
                                   : SL_OK;
        if (!st && m->spec.dale == SL_DALE_DANN) {
            const sl_dann v = sl_ctrnn_dann_view(m, m->params);
            st = sl_check_nonneg("J (DANN J_EE)", v.W_EE, N, N);
            if (!st) st = sl_check_nonneg("J_IE", v.W_IE, v.n_i, N);
            if (!st) st = sl_check_nonneg("J_EI", v.W_EI, N, v.n_i);
        }
        if (st || !m->sign) return st;
        sl_real *e = malloc((size_t)N * N * sizeof(sl_real));
        if (!e) return sl_fail(SL_ENOMEM, "out of memory");
        sl_model_effective(m, "J", e);
        char what[64];
        snprintf(what, sizeof what, "J (effective, Dale %s)", sl_dale_mode_name(m->spec.dale));
        st = sl_check_dale(what, e, m->sign, N, N);
        if (!st && m->rec_mask) st = sl_check_mask(what, e, m->rec_mask, N, N);
        free(e);
        return st;
    }
    for (int i = 0; i < m->cell->n_tensors; i++) {
        const sl_param_info *p = cinfo(m, i);
        const int rows = (int)p->shape[0], cols = (int)p->shape[1];
        sl_status st;
        if (m->mask[i] && (st = sl_check_mask(p->name, m->p[i], m->mask[i], rows, cols))) return st;
        if (i != m->dale_t) continue;
        sl_real *e = malloc(p->numel * sizeof(sl_real));
        if (!e) return sl_fail(SL_ENOMEM, "out of memory");
        if (m->effk[i])
            effective_of(m, i, m->p[i], e);
        else
            memcpy(e, m->p[i], p->numel * sizeof(sl_real));
        char what[80];
        snprintf(what, sizeof what, "%s (effective, Dale %s)", p->name,
                 sl_dale_mode_name(m->spec.dale));
        st = sl_check_dale(what, e, m->sign, rows, cols);
        if (!st && m->mask[i]) st = sl_check_mask(what, e, m->mask[i], rows, cols);
        free(e);
        if (st) return st;
    }
    return SL_OK;
}

void sl_model_mask_frozen(sl_model *m)
{
    if (!m->plastic) return;
    const int N = m->spec.n_hidden;
    const sl_param_info *p = m->cell ? sl_model_find(m, dale_tensor_name(m->spec.cell)) : &m->info[0];
    sl_real *g = m->grads + p->offset;
    for (size_t e = 0; e < p->numel; e++)
        if (m->plastic[e % ((size_t)N * N)] == 0) g[e] = 0;
}

/* ----------------------------------------------------- feedback alignment */

sl_status sl_model_set_feedback(sl_model *m, const sl_real *readout, const sl_real *recurrent)
{
    const int N = m->spec.n_hidden, NO = m->spec.n_out;
    if (recurrent && m->cell && m->spec.cell != SL_CELL_RNN)
        return sl_fail(SL_EINVAL,
                       "%s: recurrent feedback alignment is implemented for the ctrnn and the rnn "
                       "only (use train.feedback_alignment = readout)",
                       m->cell->name);
    free(m->fa_W);
    free(m->fa_R);
    m->fa_W = m->fa_R = NULL;
    if (readout) {
        if (!(m->fa_W = malloc((size_t)NO * N * sizeof(sl_real))))
            return sl_fail(SL_ENOMEM, "out of memory");
        memcpy(m->fa_W, readout, (size_t)NO * N * sizeof(sl_real));
    }
    if (recurrent) {
        if (!(m->fa_R = malloc((size_t)N * N * sizeof(sl_real))))
            return sl_fail(SL_ENOMEM, "out of memory");
        memcpy(m->fa_R, recurrent, (size_t)N * N * sizeof(sl_real));
    }
    return SL_OK;
}

/* ⟨dz·F, dz·W⟩ = dz (F Wᵀ) dzᵀ: the n_out × n_out Gram matrices once, then
 * O(NO²) per row */
void sl_fa_accumulate(const sl_real *DZ, size_t rows, int NO, int N, const sl_real *W,
                      const sl_real *Bfa, double acc[3])
{
    double *G = calloc((size_t)3 * NO * NO, sizeof(double));
    if (!G) return;
    for (int o = 0; o < NO; o++)
        for (int q = 0; q < NO; q++) {
            double fw = 0, ff = 0, ww = 0;
            for (int i = 0; i < N; i++) {
                fw += (double)Bfa[(size_t)o * N + i] * W[(size_t)q * N + i];
                ff += (double)Bfa[(size_t)o * N + i] * Bfa[(size_t)q * N + i];
                ww += (double)W[(size_t)o * N + i] * W[(size_t)q * N + i];
            }
            G[o * NO + q] = fw, G[NO * NO + o * NO + q] = ff, G[2 * NO * NO + o * NO + q] = ww;
        }
    for (size_t r = 0; r < rows; r++) {
        const sl_real *dz = DZ + r * NO;
        for (int o = 0; o < NO; o++) {
            if (dz[o] == 0) continue;
            for (int q = 0; q < NO; q++) {
                double pq = (double)dz[o] * dz[q];
                acc[0] += pq * G[o * NO + q];
                acc[1] += pq * G[NO * NO + o * NO + q];
                acc[2] += pq * G[2 * NO * NO + o * NO + q];
            }
        }
    }
    free(G);
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
    const size_t NK = (size_t)N * (m->n_pre ? (size_t)m->spec.enu_k : 0);
    size_t bytes = sizeof(sl_real) * (R * NI + 2 * R * N + 2 * R * NO + nc + 2 * R * NK) + 8 * 64;
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
    if (NK) {
        TAKE(ws->E, R * NK);
        TAKE(ws->dE, R * NK);
    }
#undef TAKE
    *out = ws;
    return SL_OK;
}

static sl_status check_ws(const sl_model *m, const sl_workspace *ws)
{
    if (ws->cell != m->cell)
        return sl_fail(SL_EINVAL, "%s: the workspace was made for another kind of model",
                       m->cell->name);
    return SL_OK;
}

/* ---------------------------------------------------------------- forward */

/* The cell over ws->U (time-major, already filled), then Z = H Wᵀ + c.
 * noise (or NULL): input noise σ_in on ws->U, and the cell's recurrent noise
 * √2·σ_rec on every gate's pre-activation (the CT-RNN's √(2α)σ_rec, α = 1). */
static void run_forward(sl_model *m, sl_workspace *ws, int B, int T, int training, sl_rng *noise)
{
    const int N = m->spec.n_hidden, NO = m->spec.n_out;
    const size_t R = (size_t)B * T;
    ws->B = B;
    ws->T = T;
    ws->training = training;
    m->dims.training = training;
    if (noise && m->spec.sigma_in > 0)
        for (size_t i = 0; i < R * (size_t)m->spec.n_in; i++)
            ws->U[i] += (sl_real)(m->spec.sigma_in * sl_rng_normal(noise));
    m->dims.noise = noise && m->spec.sigma_rec > 0 ? noise : NULL;
    m->dims.noise_sd = sqrt(2.0) * m->spec.sigma_rec;
    unsigned csr = sl_ftz_on();
    refresh_effective(m);
    const sl_real *cu = ws->U;
    if (m->n_pre) {
        const sl_enu_dims ed = {m->spec.n_in, N, m->spec.enu_k};
        sl_enu_forward(&ed, m->enu_W, m->enu_b, ws->U, (int)R, ws->E);
        cu = ws->E;
    }
    m->cell->forward(&m->dims, m->pc, cu, B, T, ws->H, ws->cws);
    m->dims.noise = NULL;
    for (size_t r = 0; r < R; r++) memcpy(ws->Z + r * NO, m->c, NO * sizeof(sl_real));
    sl_gemm(0, 1, (int)R, NO, N, 1.0, ws->H, N, m->W, N, 1.0, ws->Z, NO);
    sl_ftz_restore(csr);
}

sl_status sl_cellnet_forward(sl_model *m, sl_workspace *ws, const sl_real *u, int B, int T,
                             sl_rng *noise, sl_real *z)
{
    sl_status st = check_ws(m, ws);
    if (st) return st;
    sl_to_time_major(u, ws->U, B, T, m->spec.n_in);
    run_forward(m, ws, B, T, 0, noise);
    if (z) sl_to_batch_major(ws->Z, z, B, T, m->spec.n_out);
    return SL_OK;
}

void sl_cellnet_states(const sl_workspace *ws, sl_real *x, sl_real *r)
{
    if (x) sl_to_batch_major(ws->H, x, ws->B, ws->T, ws->N);
    if (r) sl_to_batch_major(ws->H, r, ws->B, ws->T, ws->N);
}

/* --------------------------------------------------------------- backward */

/* From ws->DZ (time-major): the readout's gradients, dH (+ the rate and
 * activation-norm penalties' terms), then the cell's, the effective weights'
 * and the ENU stage's. */
static void run_backward(sl_model *m, sl_workspace *ws, double rate_coef, double act_beta,
                         double l1_coef)
{
    const int N = m->spec.n_hidden, NO = m->spec.n_out, B = ws->B, T = ws->T;
    const size_t R = (size_t)B * T;
    const int iw = m->n_pre + m->cell->n_tensors;
    unsigned csr = sl_ftz_on();
    sl_real *gW = m->grads + m->info[iw].offset, *gc = m->grads + m->info[iw + 1].offset;
    sl_gemm(1, 0, NO, N, (int)R, 1.0, ws->DZ, NO, ws->H, N, 1.0, gW, N); /* ∂W += DZᵀ H */
    for (size_t r = 0; r < R; r++) {
        const sl_real *dz = ws->DZ + r * NO;
        for (int o = 0; o < NO; o++) gc[o] += dz[o];
    }
    const sl_real *Wb = m->fa_W ? m->fa_W : m->W; /* feedback alignment: B_fa for W */
    if (rate_coef != 0) { /* dH = DZ·W + 2·rate_coef·H */
        memcpy(ws->dH, ws->H, R * N * sizeof(sl_real));
        sl_gemm(0, 0, (int)R, N, NO, 1.0, ws->DZ, NO, Wb, N, 2 * rate_coef, ws->dH, N);
    } else
        sl_gemm(0, 0, (int)R, N, NO, 1.0, ws->DZ, NO, Wb, N, 0.0, ws->dH, N);
    if (act_beta > 0) sl_penalty_act_norm(ws->H, T, B, N, act_beta, ws->dH);
    if (l1_coef != 0) /* ∂ of l1_coef Σ|h| */
        for (size_t i = 0; i < R * N; i++)
            ws->dH[i] += ws->H[i] > 0 ? (sl_real)l1_coef : ws->H[i] < 0 ? -(sl_real)l1_coef : 0;
    m->dims.training = ws->training;
    for (int i = 0; i < m->cell->n_tensors; i++)
        if (m->effk[i]) memset(m->gs[i], 0, cinfo(m, i)->numel * sizeof(sl_real));
    sl_real *pb[SL_MODEL_MAX_TENSORS + SL_MODEL_MAX_BUFFERS];
    memcpy(pb, m->pc, sizeof pb);
    if (m->fa_R) /* recurrent feedback alignment (rnn): weight_hh's slot, used only for dh J */
        for (int i = 0; i < m->cell->n_tensors; i++)
            if (!strcmp(cinfo(m, i)->name, "weight_hh")) pb[i] = m->fa_R;
    m->cell->backward(&m->dims, pb, m->gc, m->n_pre ? ws->E : ws->U, B, T, ws->H, ws->dH,
                      m->n_pre ? ws->dE : NULL, ws->cws);
    effective_backward(m);
    if (m->n_pre) {
        const sl_enu_dims ed = {m->spec.n_in, N, m->spec.enu_k};
        sl_enu_backward(&ed, m->enu_W, ws->U, (int)R, ws->E, ws->dE,
                        m->grads + m->info[0].offset, m->grads + m->info[1].offset, NULL);
    }
    sl_model_mask_frozen(m);
    sl_ftz_restore(csr);
}

sl_status sl_cellnet_backward(sl_model *m, sl_workspace *ws, const sl_real *dz, double rate_coef)
{
    sl_status st = check_ws(m, ws);
    if (st) return st;
    sl_to_time_major(dz, ws->DZ, ws->B, ws->T, m->spec.n_out);
    run_backward(m, ws, rate_coef, 0, 0);
    return SL_OK;
}

/* ------------------------------------------------------------- batch loss */

sl_status sl_cellnet_loss(sl_model *m, sl_workspace *ws, const sl_batch *batch,
                          const sl_loss_spec *spec, sl_rng *noise, int backward,
                          sl_loss_terms *out, sl_real *z_out)
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
    sl_to_time_major(batch->u, ws->U, B, T, s->n_in);
    run_forward(m, ws, B, T, 1, noise);

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
            wl2 += sl_model_weight_l2(m, k, spec->l2_weight, backward);
        }

    /* β mean_{t,b} ‖h_{t,b}‖₂ (the coursework's activation norm) */
    const double beta = spec ? spec->l2_activation : 0;
    if (!(beta >= 0) || !isfinite(beta))
        return sl_fail(SL_EINVAL, "%s: l2_activation (%g) must be >= 0", kind, beta);
    double act = beta > 0 ? sl_penalty_act_norm(ws->H, T, B, N, beta, NULL) : 0;

    /* λ₁ Σ|M| over the tensors in l1_on, λ_r1 mean |h| */
    double wl1 = 0, rl1 = 0;
    if (spec && spec->l1_weight > 0 && spec->l1_on)
        for (int k = 0; k < m->n_tensors; k++)
            if (m->l2bit[k] & spec->l1_on) {
                const sl_param_info *p = &m->info[k];
                wl1 += sl_penalty_l1(m->params + p->offset, p->numel, spec->l1_weight, 0,
                                     backward ? m->grads + p->offset : NULL);
            }
    if (spec && spec->l1_rate > 0) rl1 = sl_penalty_rate_l1(ws->H, T, B, N, spec->l1_rate, NULL);
    if (out) {
        out->mse = task;
        out->rate = rate;
        out->weight_l2 = wl2;
        out->weight_l1 = wl1;
        out->rate_l1 = rl1;
        out->activation = act;
        out->total = task + rate + wl2 + act + wl1 + rl1;
        out->fa_dot = out->fa_fa = out->fa_bp = 0;
        if (backward && m->fa_W) {
            double acc[3] = {0, 0, 0};
            sl_fa_accumulate(ws->DZ, (size_t)T * B, NO, N, m->W, m->fa_W, acc);
            out->fa_dot = acc[0], out->fa_fa = acc[1], out->fa_bp = acc[2];
        }
    }
    if (z_out) sl_to_batch_major(ws->Z, z_out, B, T, NO);
    if (!isfinite(task + rate + wl2 + act + wl1 + rl1))
        return sl_fail(SL_ENUMERIC, "loss is not finite (task %g, rate %g, weight %g, activation %g)",
                       task, rate, wl2, act);
    if (backward)
        run_backward(m, ws, (spec && spec->l2_rate > 0) ? spec->l2_rate / (double)nr : 0, beta,
                     (spec && spec->l1_rate > 0) ? spec->l1_rate / (double)nr : 0);
    return SL_OK;
}
