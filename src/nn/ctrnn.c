/* ctrnn.c — the continuous-time rate RNN of Sussillo et al. 2015, Euler-discretised:
 *
 *   x_{t+1} = x_t + α(−x_t + J φ(x_t) + B u_t + b) + √(2α)·σ_rec·ξ_t,   α = dt/τ
 *   z_t     = W φ(x_{t+1}) + c                                   (t = 0..T−1)
 *
 * x₀ = 0, or a learned vector tiled over the batch. The output reads the rates
 * after the update, as the seed tutorial's forward() does.
 *
 * Rate form (spec.form = SL_CTRNN_RATE; Yang et al. 2019's LeakyRNN, r integrated):
 *   a_t     = J r_t + B u_t + b + √(2/α)·σ_rec·ξ_t     (kept in X[t+1])
 *   r_{t+1} = (1−α) r_t + α φ(a_t),   z_t = W r_{t+1} + c,   r₀ = x₀ (or 0)
 * (the noise is in the pre-activation, √(2α)σ_rec on r's update to first order).
 * Backward, d_k = ∂L/∂r_k (total), g_k = φ'(a_{k−1}) ⊙ d_k (k = T..1):
 *   d_k  = ∂L/∂r_k|direct + (1−α) d_{k+1} + α g_{k+1} J     (d_{T+1} = g_{T+1} = 0)
 *   ∂J   = α Σ g_kᵀ r_{k−1}   ∂B = α Σ g_kᵀ u_{k−1}   ∂b = α Σ g_k   ∂r₀ = Σ_batch d_0
 * — the weight gradients have the current form's shape, so both share that code.
 *
 * Input noise (σ_in, both forms): u_t + σ_in·ξ'_t, drawn when a noise rng is
 * given (training), on the workspace's copy of the inputs (∂B then sees it).
 *
 * Dale's law on J (spec.dale; sign_j = +1 for the first ⌊f·N⌋ presynaptic
 * units, −1 after; M = the connectivity mask with a zero diagonal when
 * no_autapses):
 *   reparam  the forward uses J_eff = |J ⊙ M|·diag(sign) (PsychRNN); the
 *            backward's ∂J_eff becomes ∂J = sgn(J) ⊙ M ⊙ (∂J_eff·diag(sign))
 *   project  the forward uses J (J ⊙ M = J is kept, ∂J masked);
 *            sl_model_constrain clamps wrong signs to 0 after each step (nn4n)
 * Init: magnitudes |N(0, g²/N)|, inhibitory columns × n_E/n_I (E/I balance:
 * every row sums to 0 in expectation), times sign_j in project mode, times M.
 *   dann     (Cornford et al. 2021, recurrent) every unit excitatory, n_i
 *            interneurons: J_eff = J − J_EI·J_IE, J (J_EE), J_IE, J_EI ≥ 0
 *            (clamped by sl_model_constrain); ∂J = ∂J_eff,
 *            ∂J_EI = −∂J_eff·J_IEᵀ, ∂J_IE = −J_EIᵀ·∂J_eff; init as
 *            sl_dann_init (balanced: every row of J_eff has mean 0). Their
 *            corrected SGD (sl_dann_csgd_scale) rescales whole tensors'
 *            gradients, which Adam (the trainer's optimiser) is invariant to.
 * A plasticity mask (spec.plastic_mask) zeroes ∂J at the frozen synapses.
 *
 * Backward (g_k = ∂L/∂x_k, row vectors, g_{T+1} = 0, for k = T..0):
 *   g_k  = (1−α) g_{k+1} + φ'(x_k) ⊙ ( α g_{k+1} J  +  dz_{k−1} W  +  ∂L/∂r_k )
 *   ∂J   = α Σ_{k=1..T} g_kᵀ r_{k−1}     ∂B = α Σ g_kᵀ u_{k−1}     ∂b = α Σ g_k
 *   ∂W   = Σ_t dz_tᵀ r_{t+1}             ∂c = Σ dz_t               ∂x₀ = Σ_batch g_0
 * (the terms with dz, r at k = 0 are absent: z starts from x_1.)
 *
 * Performance: only the recurrence is sequential, and at the sizes these
 * models have (N ~ 100-1000, batch ~ 10-100) a time step is a few µs, so the
 * work is organised around the step, with all of a step's data in L1/L2:
 *  - each step costs one B×N·N×N product forward (r_t Jᵀ) and one backward
 *    (g_{k+1} J), by a libxsmm JIT kernel (OpenBLAS when libxsmm is not used,
 *    and in the float64 build); forward adds u_t Bᵀ from the batch-major
 *    inputs the same way;
 *  - float32 fast path (φ = rect_tanh, no noise): one pass per step does the
 *    Euler update, the rates and the readout z_t (n_out is small: dot
 *    products, not a GEMM); backward, one pass per step gives g_k together
 *    with dz W, ∂b, ∂W, ∂c, and ∂J, ∂B are summed step by step (g_kᵀ r_{k−1},
 *    g_kᵀ u_{k−1}, libxsmm) while g_k is in L1;
 *  - the generic path (other activations, noise, float64) keeps the layout of
 *    DESIGN.md: readout, dz W and the weight gradients as GEMMs over the
 *    whole time×batch block.
 *
 * Layouts: public arrays batch-major (B×T×C); the workspace keeps the inputs
 * U so (one memcpy) and everything else time-major (T×B×C), so each step's
 * block is contiguous. Parameters live
 * in one buffer in the order J (N×N), B (N×n_in), b (N), W (n_out×N),
 * c (n_out), x0 (N, when learned); gradients in a parallel buffer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libxsmm.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "core/blas.h"
#include "nn/act.h"
#include "nn/constraints.h"
#include "nn/ctrnn.h"
#include "nn/loss.h"
#include "silico.h"

/* ------------------------------------------------------------ activations */

static const char *ACT_NAMES[] = {"rect_tanh", "tanh", "relu", "softplus", "sigmoid"};

const char *sl_activation_name(sl_activation a)
{
    return (a >= 0 && a <= SL_ACT_SIGMOID) ? ACT_NAMES[a] : "?";
}

sl_status sl_activation_parse(const char *name, sl_activation *out)
{
    for (int i = 0; i <= SL_ACT_SIGMOID; i++)
        if (name && strcmp(name, ACT_NAMES[i]) == 0) {
            *out = (sl_activation)i;
            return SL_OK;
        }
    return sl_fail(SL_EINVAL, "unknown activation '%s' (rect_tanh, tanh, relu, softplus, sigmoid)",
                   name ? name : "(null)");
}

/* r = φ(x) over n values. */
static void act_forward(sl_activation a, const sl_real *x, sl_real *r, size_t n)
{
    switch (a) {
    case SL_ACT_RECT_TANH:
        for (size_t i = 0; i < n; i++) r[i] = x[i] > 0 ? (sl_real)tanh(x[i]) : 0;
        break;
    case SL_ACT_TANH:
        for (size_t i = 0; i < n; i++) r[i] = (sl_real)tanh(x[i]);
        break;
    case SL_ACT_RELU:
        for (size_t i = 0; i < n; i++) r[i] = x[i] > 0 ? x[i] : 0;
        break;
    case SL_ACT_SOFTPLUS: /* log(1+e^x), stable; PyTorch switches to x above 20 */
        for (size_t i = 0; i < n; i++)
            r[i] = x[i] > 20 ? x[i] : (sl_real)log1p(exp(x[i]));
        break;
    case SL_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) r[i] = (sl_real)(1.0 / (1.0 + exp(-(double)x[i])));
        break;
    }
}

/* φ'(x) from x and r = φ(x). */
static inline sl_real act_deriv(sl_activation a, sl_real x, sl_real r)
{
    switch (a) {
    case SL_ACT_RECT_TANH: return x > 0 ? 1 - r * r : 0;
    case SL_ACT_TANH: return 1 - r * r;
    case SL_ACT_RELU: return x > 0 ? 1 : 0;
    case SL_ACT_SOFTPLUS: return x > 20 ? 1 : (sl_real)(1.0 / (1.0 + exp(-(double)x)));
    case SL_ACT_SIGMOID: return r * (1 - r);
    }
    return 0;
}

/* float32 builds use tanhf/expf in the hot loop; the generic path above is
 * kept for the float64 build and for the rarely used activations. */
static void act_forward_fast(sl_activation a, const sl_real *x, sl_real *r, size_t n)
{
    if (sizeof(sl_real) == sizeof(float) && a == SL_ACT_RECT_TANH) {
        for (size_t i = 0; i < n; i++) r[i] = x[i] > 0 ? tanhf((float)x[i]) : 0;
        return;
    }
    if (sizeof(sl_real) == sizeof(float) && a == SL_ACT_TANH) {
        for (size_t i = 0; i < n; i++) r[i] = tanhf((float)x[i]);
        return;
    }
    act_forward(a, x, r, n);
}


/* ------------------------------------------------ float32 vector kernels */
/* GCC -O2 (very-cheap vectorizer cost model) leaves loops of unknown length
 * scalar, and libm's tanhf is ~10 ns a call: the hot elementwise passes are
 * written on the 16-lane vector-extension types of nn/act.h (GCC and clang;
 * lowered to AVX-512, AVX2 or SSE by -march). Used only when sl_real is float. */
/* xn = keep·xt + α(xn + b);  rn = φ(xn), φ = rect_tanh (rect) or tanh
 * (B rows of N; b: N) */
static void euler_tanh_f32(float *xn, float *rn, const float *xt, const float *b, float keep,
                           float alpha, size_t B, size_t N, int rect)
{
    for (size_t row = 0; row < B * N; row += N)
        for (size_t i = 0; i < N; i += 16) {
            const size_t w = N - i < 16 ? N - i : 16, j = row + i;
            vf16 x = w == 16 ? vload(xn + j) : vload_n(xn + j, w);
            vf16 xo = w == 16 ? vload(xt + j) : vload_n(xt + j, w);
            vf16 bb = w == 16 ? vload(b + i) : vload_n(b + i, w);
            x = xo * keep + (x + bb) * alpha;
            vf16 r = rect ? (vf16)((vi16)vtanh(x) & (x > VF(0))) : vtanh(x);
            if (w == 16) { vstore(xn + j, x); vstore(rn + j, r); }
            else { vstore_n(xn + j, x, w); vstore_n(rn + j, r, w); }
        }
}
/* Σ a[i]·b[i] over n */
static float dot_f32(const float *a, const float *b, size_t n)
{
    vf16 s = VF(0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) s += vload(a + i) * vload(b + i);
    float t = 0;
    for (; i < n; i++) t += a[i] * b[i];
    for (int l = 0; l < 16; l++) t += s[l];
    return t;
}
/* The readout of one step, z = W r + c for each of the B rows of r (B×N):
 * n_out is small (2 in the reach task), so these are dot products on rates
 * still in L1 rather than a GEMM with a 2-wide output. */
static void readout_f32(float *z, const float *r, const float *W, const float *c, size_t B,
                        size_t N, size_t NO)
{
    for (size_t b = 0; b < B; b++)
        for (size_t o = 0; o < NO; o++) z[b * NO + o] = c[o] + dot_f32(W + o * N, r + b * N, N);
}
/* One backward step for φ = rect_tanh (rect) or tanh, fused with everything else that needs
 * g_k or this step's readout error dz (B×NO), row by row (r, g, gn, tmp: B×N):
 *   g   = keep·gn + φ'(x) ⊙ (α·tmp + dz W + rc2·r + l1c·sgn r)   (tmp = gn J; gn, tmp NULL at k = T)
 *   gb += α Σ_rows g     gW += dzᵀ r     gc += Σ_rows dz
 * so ∂L/∂r from the readout, ∂W, ∂c and ∂b need no GEMM or pass of their own.
 * φ'(x) is read off r alone, so x is not re-read: tanh: 1 − r²; rect_tanh:
 * 1 − r² where x > 0, else 0 (r > 0 exactly when x > 0: vtanh keeps the sign
 * and r = 0 for x ≤ 0). */
static void backward_step_tanh_f32(float *g, const float *gn, const float *tmp, const float *r,
                                   const float *dz, const float *W, float *gb, float *gW, float *gc,
                                   size_t B, size_t N, size_t NO, float keep, float alpha,
                                   float rc2, float l1c, int rect)
{
    for (size_t b = 0; b < B; b++) {
        const size_t row = b * N;
        const float *dzb = dz + b * NO;
        size_t i = 0;
        for (; i + 16 <= N; i += 16) {
            const size_t j = row + i;
            vf16 rv = vload(r + j), acc = rc2 * rv;
            if (tmp) acc += alpha * vload(tmp + j);
            if (l1c != 0) /* + l1c·sgn(r) */
                acc += vsel(rv > VF(0), VF(l1c), VF(0)) - vsel(rv < VF(0), VF(l1c), VF(0));
            for (size_t o = 0; o < NO; o++) {
                acc += dzb[o] * vload(W + o * N + i);
                vstore(gW + o * N + i, vload(gW + o * N + i) + dzb[o] * rv);
            }
            vf16 dphi = 1.0f - rv * rv;
            if (rect) dphi = (vf16)((vi16)dphi & (rv > VF(0)));
            vf16 out = dphi * acc;
            if (gn) out += keep * vload(gn + j);
            vstore(g + j, out);
            vstore(gb + i, vload(gb + i) + alpha * out);
        }
        for (; i < N; i++) { /* the same for the last N mod 16 columns */
            const size_t j = row + i;
            float rv = r[j], acc = rc2 * rv + (tmp ? alpha * tmp[j] : 0) +
                                   (rv > 0 ? l1c : rv < 0 ? -l1c : 0);
            for (size_t o = 0; o < NO; o++) {
                acc += dzb[o] * W[o * N + i];
                gW[o * N + i] += dzb[o] * rv;
            }
            float out = (!rect || rv > 0 ? 1 - rv * rv : 0) * acc + (gn ? keep * gn[j] : 0);
            g[j] = out;
            gb[i] += alpha * out;
        }
        for (size_t o = 0; o < NO; o++) gc[o] += dzb[o];
    }
}
#define SL_F32_FAST (sizeof(sl_real) == sizeof(float))

/* ------------------------------------------------------------------ model */

static void *aligned_zalloc(size_t bytes)
{
    size_t sz = (bytes + 63) / 64 * 64;
    if (sz == 0) sz = 64;
    void *p = aligned_alloc(64, sz);
    if (p) memset(p, 0, sz);
    return p;
}

static sl_status check_spec(const sl_model_spec *s)
{
    if (s->n_in < 1 || s->n_hidden < 1 || s->n_out < 1)
        return sl_fail(SL_EINVAL, "ctrnn: sizes must be positive (n_in %d, hidden %d, n_out %d)",
                       s->n_in, s->n_hidden, s->n_out);
    if (!(s->tau_ms > 0) || !(s->dt_ms > 0) || !isfinite(s->tau_ms) || !isfinite(s->dt_ms))
        return sl_fail(SL_EINVAL, "ctrnn: tau (%g ms) and dt (%g ms) must be positive", s->tau_ms,
                       s->dt_ms);
    if (s->dt_ms > s->tau_ms)
        return sl_fail(SL_EINVAL,
                       "ctrnn: dt (%g ms) larger than tau (%g ms) makes the Euler step unstable",
                       s->dt_ms, s->tau_ms);
    if (s->act < 0 || s->act > SL_ACT_SIGMOID)
        return sl_fail(SL_EINVAL, "ctrnn: unknown activation %d", (int)s->act);
    if (!(s->sigma_rec >= 0) || !(s->g >= 0) || !(s->h >= 0))
        return sl_fail(SL_EINVAL, "ctrnn: g, h and sigma_rec must be non-negative");
    if (s->enu_k)
        return sl_fail(SL_EINVAL, "ctrnn: the ENU stage (model.enu_k) is available for the cells "
                                  "(rnn, gru, lightgru, lstm) only");
    if (s->dale < SL_DALE_OFF || s->dale > SL_DALE_DANN)
        return sl_fail(SL_EINVAL, "ctrnn: unknown Dale mode %d", (int)s->dale);
    if (s->dale == SL_DALE_DANN && (s->rec_mask || s->no_autapses))
        return sl_fail(SL_EINVAL, "ctrnn: Dale mode dann takes no connectivity mask and no "
                                  "autapses = false (its J_eff = J − J_EI·J_IE is dense)");
    if (!(s->exc_fraction >= 0 && s->exc_fraction <= 1))
        return sl_fail(SL_EINVAL, "ctrnn: exc_fraction (%g) must be in [0, 1] (0 = 0.8)",
                       s->exc_fraction);
    if (s->form != SL_CTRNN_CURRENT && s->form != SL_CTRNN_RATE)
        return sl_fail(SL_EINVAL, "ctrnn: unknown form %d (current, rate)", (int)s->form);
    if (!(s->sigma_in >= 0) || !isfinite(s->sigma_in))
        return sl_fail(SL_EINVAL, "ctrnn: sigma_in (%g) must be >= 0", s->sigma_in);
    return SL_OK;
}

static void add_tensor(sl_model *m, const char *name, int ndim, int64_t d0, int64_t d1)
{
    sl_param_info *p = &m->info[m->n_tensors++];
    p->name = name;
    p->offset = m->n_params;
    p->ndim = ndim;
    p->shape[0] = d0;
    p->shape[1] = ndim > 1 ? d1 : 0;
    p->numel = (size_t)d0 * (size_t)(ndim > 1 ? d1 : 1);
    m->n_params += p->numel;
}

static void bind_views(sl_model *m)
{
    m->J = m->params + m->info[0].offset;
    m->Bm = m->params + m->info[1].offset;
    m->b = m->params + m->info[2].offset;
    m->W = m->params + m->info[3].offset;
    m->c = m->params + m->info[4].offset;
    m->x0 = m->spec.learn_x0 ? m->params + m->info[5].offset : NULL;
}

sl_status sl_model_alloc(const sl_model_spec *spec, sl_model **out)
{
    *out = NULL;
    if (spec->cell != SL_CELL_CTRNN) return sl_cellnet_alloc(spec, out); /* src/nn/model.c */
    sl_status st = check_spec(spec);
    if (st) return st;
    sl_model *m = calloc(1, sizeof *m);
    if (!m) return sl_fail(SL_ENOMEM, "ctrnn: out of memory");
    m->spec = *spec;
    int N = spec->n_hidden;
    add_tensor(m, "J", 2, N, N);
    add_tensor(m, "B", 2, N, spec->n_in);
    add_tensor(m, "b", 1, N, 0);
    add_tensor(m, "W", 2, spec->n_out, N);
    add_tensor(m, "c", 1, spec->n_out, 0);
    if (spec->learn_x0) add_tensor(m, "x0", 1, N, 0);
    if (spec->dale == SL_DALE_DANN) { /* n_i = max(1, round(N(1 − f)/f)) interneurons */
        const double f = spec->exc_fraction > 0 ? spec->exc_fraction : 0.8;
        const int ni = (int)fmax(1.0, floor(N * (1 - f) / f + 0.5));
        add_tensor(m, "J_IE", 2, ni, N);
        add_tensor(m, "J_EI", 2, N, ni);
    }
    m->params = aligned_zalloc(m->n_params * sizeof(sl_real));
    m->grads = aligned_zalloc(m->n_params * sizeof(sl_real));
    m->spec.rec_mask = m->spec.plastic_mask = NULL;
    if (m->spec.exc_fraction == 0) m->spec.exc_fraction = 0.8;
    const size_t NN = (size_t)N * N;
    int ok = m->params && m->grads && !sl_mask_copy(spec->rec_mask, N, &m->rec_mask) &&
             !sl_mask_copy(spec->plastic_mask, N, &m->plastic);
    if (ok && spec->no_autapses) { /* folded into the connectivity mask */
        if (!m->rec_mask && (m->rec_mask = malloc(NN * sizeof(sl_real))))
            for (size_t i = 0; i < NN; i++) m->rec_mask[i] = 1;
        if (m->rec_mask) sl_mask_no_autapses(m->rec_mask, N);
        ok = m->rec_mask != NULL;
    }
    if (ok && spec->dale) { /* J_eff, ∂J_eff (reparam, dann), then the N signs (not dann) */
        const int re = spec->dale == SL_DALE_REPARAM || spec->dale == SL_DALE_DANN;
        ok = (m->cblob = aligned_zalloc(((re ? 2 * NN : 0) + (size_t)N) * sizeof(sl_real))) != NULL;
        if (ok && re) m->Jeff = m->cblob, m->gJeff = m->cblob + NN;
        if (ok && spec->dale != SL_DALE_DANN) m->sign = m->cblob + (re ? 2 * NN : 0);
    }
    if (!ok) {
        size_t n = m->n_params;
        sl_model_free(m);
        return sl_fail(SL_ENOMEM, "ctrnn: cannot allocate %zu parameters", n);
    }
    if (m->sign && (st = sl_dale_signs(m->sign, N, m->spec.exc_fraction, &m->n_exc))) {
        sl_model_free(m);
        return st;
    }
    bind_views(m);
    *out = m;
    return SL_OK;
}

sl_dann sl_ctrnn_dann_view(const sl_model *m, sl_real *buf)
{
    const sl_param_info *ie = sl_model_find(m, "J_IE"), *ei = sl_model_find(m, "J_EI");
    sl_dann v = {m->spec.n_hidden, m->spec.n_hidden, (int)ie->shape[0], buf + m->info[0].offset,
                 buf + ie->offset, buf + ei->offset, NULL};
    return v;
}

void sl_ctrnn_effective_J(const sl_model *m, sl_real *out)
{
    const int N = m->spec.n_hidden;
    if (m->spec.dale == SL_DALE_DANN) { /* J − J_EI·J_IE */
        const sl_dann v = sl_ctrnn_dann_view(m, m->params);
        memcpy(out, v.W_EE, (size_t)N * N * sizeof(sl_real));
        sl_gemm(0, 0, N, N, v.n_i, -1.0, v.W_EI, v.n_i, v.W_IE, N, 1.0, out, N);
    } else if (m->spec.dale == SL_DALE_REPARAM)
        sl_dale_reparam(m->J, m->rec_mask, m->sign, N, N, out);
    else
        memcpy(out, m->J, (size_t)N * N * sizeof(sl_real));
}

sl_status sl_model_create(const sl_model_spec *spec, sl_rng *rng, sl_model **out)
{
    sl_status st = sl_model_alloc(spec, out);
    if (st) return st;
    sl_model *m = *out;
    if (m->cell) {
        sl_cellnet_init(m, rng);
        return SL_OK;
    }
    int N = spec->n_hidden, NI = spec->n_in, NO = spec->n_out;
    double sj = spec->g / sqrt((double)N), sb = spec->h / sqrt((double)NI);
    for (size_t i = 0; i < (size_t)N * N; i++) m->J[i] = (sl_real)(sj * sl_rng_normal(rng));
    if (m->sign) { /* Dale: E/I-balanced magnitudes, signed in project mode */
        const int ne = m->n_exc, ni = N - ne;
        const double inh = (ne > 0 && ni > 0) ? (double)ne / ni : 1.0;
        for (size_t i = 0; i < (size_t)N * N; i++) {
            const int j = (int)(i % (size_t)N);
            double v = fabs((double)m->J[i]) * (j < ne ? 1.0 : inh);
            m->J[i] = (sl_real)(spec->dale == SL_DALE_PROJECT ? v * m->sign[j] : v);
        }
    }
    if (m->rec_mask) sl_mask_project(m->J, m->rec_mask, (size_t)N * N);
    if (spec->dale == SL_DALE_DANN) { /* balanced DANN init (b stays 0) */
        sl_dann v = sl_ctrnn_dann_view(m, m->params);
        v.b = m->b; /* set to 0, as it is anyway */
        sl_status st2 = sl_dann_init(&v, 0, rng);
        if (st2) {
            sl_model_free(m);
            *out = NULL;
            return st2;
        }
    }
    for (size_t i = 0; i < (size_t)N * NI; i++) m->Bm[i] = (sl_real)(sb * sl_rng_normal(rng));
    /* b = 0; W, c ~ U(−1/√N, 1/√N) as PyTorch's nn.Linear(N, n_out) */
    double k = 1.0 / sqrt((double)N);
    for (size_t i = 0; i < (size_t)NO * N; i++)
        m->W[i] = (sl_real)(k * (2 * sl_rng_uniform(rng) - 1));
    for (int i = 0; i < NO; i++) m->c[i] = (sl_real)(k * (2 * sl_rng_uniform(rng) - 1));
    return SL_OK;
}

void sl_model_free(sl_model *m)
{
    if (!m) return;
    free(m->params);
    free(m->grads);
    free(m->bufs);
    free(m->cblob);
    free(m->fa_W);
    free(m->fa_R);
    free(m->rec_mask);
    free(m->plastic);
    free(m);
}

const sl_model_spec *sl_model_get_spec(const sl_model *m) { return &m->spec; }
size_t sl_model_num_params(const sl_model *m) { return m->n_params; }
sl_real *sl_model_params(sl_model *m) { return m->params; }
sl_real *sl_model_grads(sl_model *m) { return m->grads; }
int sl_model_num_tensors(const sl_model *m) { return m->n_tensors; }

const sl_param_info *sl_model_tensor(const sl_model *m, int i)
{
    return (i >= 0 && i < m->n_tensors) ? &m->info[i] : NULL;
}

const sl_param_info *sl_model_find(const sl_model *m, const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->info[i].name, name) == 0) return &m->info[i];
    return NULL;
}

void sl_model_zero_grad(sl_model *m) { memset(m->grads, 0, m->n_params * sizeof(sl_real)); }

/* -------------------------------------------------------------- workspace */

sl_status sl_workspace_create(const sl_model *m, int batch, int T, sl_workspace **out)
{
    *out = NULL;
    if (batch < 1 || T < 1)
        return sl_fail(SL_EINVAL, "workspace: batch (%d) and T (%d) must be positive", batch, T);
    if (m->cell) return sl_cellnet_workspace(m, batch, T, out); /* src/nn/model.c */
    sl_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) return sl_fail(SL_ENOMEM, "workspace: out of memory");
    size_t N = (size_t)m->spec.n_hidden, NI = (size_t)m->spec.n_in, NO = (size_t)m->spec.n_out;
    size_t B = (size_t)batch, Ts = (size_t)T;
    ws->Bmax = batch;
    ws->Tmax = T;
    ws->N = (int)N;
    size_t bytes = sizeof(sl_real) * (2 * (Ts + 1) * B * N /* X, R */ + 2 * Ts * B * N /* D, G */
                                      + Ts * B * NI + 2 * Ts * B * NO + B * N + 2 * N * N + 2 * N * NI) +
                   11 * 64;
    sl_status st = sl_arena_create(bytes, &ws->arena);
    if (st) {
        free(ws);
        return st;
    }
#define TAKE(ptr, count) ptr = sl_arena_alloc(ws->arena, (count) * sizeof(sl_real))
    TAKE(ws->X, (Ts + 1) * B * N);
    TAKE(ws->R, (Ts + 1) * B * N);
    TAKE(ws->D, Ts * B * N);
    TAKE(ws->G, Ts * B * N);
    TAKE(ws->U, Ts * B * NI);
    TAKE(ws->Z, Ts * B * NO);
    TAKE(ws->DZ, Ts * B * NO);
    TAKE(ws->tmp, B * N);
    TAKE(ws->Jt, N * N);
    TAKE(ws->Bt, N * NI);
    TAKE(ws->accJ, N * N);
    TAKE(ws->accB, N * NI);
#undef TAKE
    *out = ws;
    return SL_OK;
}

void sl_workspace_free(sl_workspace *ws)
{
    if (!ws) return;
    sl_arena_destroy(ws->arena);
    free(ws);
}

/* batch-major (B×T×C) ⇄ time-major (T×B×C) */
void sl_to_time_major(const sl_real *src, sl_real *dst, int B, int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(dst + ((size_t)t * B + b) * C, src + ((size_t)b * T + t) * C, C * sizeof(sl_real));
}

void sl_to_batch_major(const sl_real *src, sl_real *dst, int B, int T, int C)
{
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++)
            memcpy(dst + ((size_t)b * T + t) * C, src + ((size_t)t * B + b) * C, C * sizeof(sl_real));
}

/* λ Σ M² of tensor k; with backward, 2λM added to its gradient (float products, as the
 * fused loss kernels; sl_penalty_l2 rounds 2λM in double) */
double sl_model_weight_l2(sl_model *m, int k, double lambda, int backward)
{
    const sl_param_info *p = &m->info[k];
    const sl_real *w = m->params + p->offset;
    double ss = 0;
    for (size_t i = 0; i < p->numel; i++) ss += (double)w[i] * w[i];
    if (backward) {
        sl_real *g = m->grads + p->offset, f = (sl_real)(2 * lambda);
        for (size_t i = 0; i < p->numel; i++) g[i] += f * w[i];
    }
    return lambda * ss;
}

/* ------------------------------------------------- the per-step product */
/* Each time step needs C(B×N) = A(B×N)·M(N×N), row-major: r_t·Jᵀ forward
 * (M = Jᵀ, kept in ws->Jt) and g_{k+1}·J backward (M = J), and forward also
 * C += u_t·Bᵀ, read straight from the batch-major inputs (rows T·n_in apart;
 * Bᵀ kept in ws->Bt), so no T·B×N block of inputs is ever formed. At these sizes
 * (B ≤ ~64 rows) a libxsmm JIT kernel beats OpenBLAS' small-matrix path
 * (~6.4 vs 6.9 µs at 20×150×150, 195 vs 254 µs at 64×512×512) and needs no
 * packing. libxsmm is column-major: there C(B×N) row-major is the N×B matrix
 * Cᵀ = Mᵀ·Aᵀ, i.e. m = N, n = B, k = N with the operands in the order (M, A)
 * and every leading dimension N. One kernel serves both directions; the
 * float64 build, or a CPU libxsmm cannot JIT for, uses OpenBLAS. */
typedef struct {
    libxsmm_smmfunction xsmm, xin; /* NULL: use sl_gemm */
    int B, N, NI, T;
} step_gemm;

static step_gemm step_gemm_make(int B, int N, int NI, int T)
{
    step_gemm k = {NULL, NULL, B, N, NI, T};
    if (SL_F32_FAST) {
        const float one = 1, zero = 0;
        const int beta0 = LIBXSMM_GEMM_FLAG_BETA_0, beta1 = 0, prefetch = LIBXSMM_GEMM_PREFETCH_NONE;
        const libxsmm_blasint ld = N, ldu = (libxsmm_blasint)T * NI;
        k.xsmm = libxsmm_smmdispatch(N, B, N, &ld, &ld, &ld, &one, &zero, &beta0, &prefetch);
        k.xin = libxsmm_smmdispatch(N, B, NI, &ld, &ldu, &ld, &one, &one, &beta1, &prefetch);
    }
    return k;
}

/* C += u_t·Bᵀ: u_t = U + t·n_in (rows T·n_in apart), Bt = Bᵀ (n_in×N) */
static void step_input_run(const step_gemm *k, const sl_real *ut, const sl_real *Bt, sl_real *C)
{
    if (k->xin)
        k->xin(F32(Bt), F32(ut), F32W(C));
    else
        sl_gemm(0, 0, k->B, k->N, k->NI, 1.0, ut, k->T * k->NI, Bt, k->N, 1.0, C, k->N);
}

/* The weight gradients ∂J ∝ Σ_k g_kᵀ r_{k−1} and ∂B ∝ Σ_k g_kᵀ u_{k−1} summed
 * step by step inside the backward loop, while g_k is in L1 (as one GEMM over
 * T·B rows afterwards, OpenBLAS re-reads and packs G and R from L3: ~2.5-3 ms
 * at N = 150, B = 20 against ~1.7 ms this way). Row-major C(P×N) += Pᵀ-side
 * products are, column-major, Cᵀ(P'×N) += A(P'×B)·g(N×B)ᵀ: m = width of the
 * right operand (N for r, n_in for u), n = N, k = B, transposed B operand,
 * β = 1 and α = 1 (libxsmm's JIT takes no other α: the sums go to ws->accJ,
 * ws->accB and are scaled once at the end). NULL when libxsmm is not used. */
typedef struct {
    libxsmm_smmfunction dJ, dB;
} wgrad_kernels;

static wgrad_kernels wgrad_make(int B, int N, int NI, int T)
{
    wgrad_kernels k = {NULL, NULL};
    if (SL_F32_FAST) {
        const float one = 1;
        const int flags = LIBXSMM_GEMM_FLAG_TRANS_B, prefetch = LIBXSMM_GEMM_PREFETCH_NONE;
        const libxsmm_blasint n = N, ni = NI, ldu = (libxsmm_blasint)T * NI;
        k.dJ = libxsmm_smmdispatch(N, N, B, &n, &n, &n, &one, &one, &flags, &prefetch);
        k.dB = libxsmm_smmdispatch(NI, N, B, &ldu, &n, &ni, &one, &one, &flags, &prefetch);
        if (!k.dJ || !k.dB) k.dJ = k.dB = NULL;
    }
    return k;
}

/* C = A·M (B×N · N×N) */
static void step_gemm_run(const step_gemm *k, const sl_real *A, const sl_real *M, sl_real *C)
{
    if (k->xsmm)
        k->xsmm(F32(M), F32(A), F32W(C));
    else
        sl_gemm(0, 0, k->B, k->N, k->N, 1.0, A, k->N, M, k->N, 0.0, C, k->N);
}

/* ---------------------------------------------------------------- forward */

sl_status sl_ctrnn_forward_tm(sl_model *m, sl_workspace *ws, int B, int T, sl_rng *noise)
{
    const sl_model_spec *s = &m->spec;
    const int N = s->n_hidden, NI = s->n_in, NO = s->n_out;
    const size_t BN = (size_t)B * N;
    const sl_real alpha = (sl_real)(s->dt_ms / s->tau_ms), keep = 1 - alpha;
    const int rate = s->form == SL_CTRNN_RATE;
    const double noise_sd = (noise && s->sigma_rec > 0) ? sqrt(2.0 * alpha) * s->sigma_rec : 0;
    /* rate form: the noise enters the pre-activation, √(2/α)σ_rec */
    const double pre_sd = rate && noise_sd > 0 ? sqrt(2.0 / alpha) * s->sigma_rec : 0;
    ws->B = B;
    ws->T = T;
    if (noise && s->sigma_in > 0) /* input noise on the workspace's copy of u */
        for (size_t i = 0; i < (size_t)B * T * NI; i++)
            ws->U[i] += (sl_real)(s->sigma_in * sl_rng_normal(noise));

    /* x_0, r_0 (rate form: r_0 = x0) */
    for (int b = 0; b < B; b++) {
        if (m->x0)
            memcpy(ws->X + (size_t)b * N, m->x0, N * sizeof(sl_real));
        else
            memset(ws->X + (size_t)b * N, 0, N * sizeof(sl_real));
    }
    if (rate)
        memcpy(ws->R, ws->X, BN * sizeof(sl_real));
    else
        act_forward_fast(s->act, ws->X, ws->R, BN);

    /* Jᵀ once, so each step's product r_t·Jᵀ is NN (no transposed operand:
     * OpenBLAS' small-matrix NT path is ~2.5x slower at 20×150×150); J_eff
     * under Dale reparam */
    if (m->Jeff) sl_ctrnn_effective_J(m, m->Jeff);
    const sl_real *Jf = m->Jeff ? m->Jeff : m->J;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) ws->Jt[(size_t)j * N + i] = Jf[(size_t)i * N + j];
    for (int i = 0; i < N; i++) /* and Bᵀ */
        for (int j = 0; j < NI; j++) ws->Bt[(size_t)j * N + i] = m->Bm[(size_t)i * NI + j];
    const int tanh_like = s->act == SL_ACT_RECT_TANH || s->act == SL_ACT_TANH;
    const int fast = SL_F32_FAST && tanh_like && noise_sd == 0 && !rate;
    const step_gemm kern = step_gemm_make(B, N, NI, T);

    for (int t = 0; t < T; t++) {
        const sl_real *xt = ws->X + (size_t)t * BN, *rt = ws->R + (size_t)t * BN;
        sl_real *xn = ws->X + (size_t)(t + 1) * BN, *rn = ws->R + (size_t)(t + 1) * BN;
        /* xn = r_t Jᵀ + u_t Bᵀ, then the fused Euler update, noise and rate */
        step_gemm_run(&kern, rt, ws->Jt, xn);
        step_input_run(&kern, ws->U + (size_t)t * NI, ws->Bt, xn);
        if (fast) { /* the Euler update, rates and this step's readout z_t */
            euler_tanh_f32(F32W(xn), F32W(rn), F32(xt), F32(m->b), (float)keep, (float)alpha,
                           (size_t)B, (size_t)N, s->act == SL_ACT_RECT_TANH);
            readout_f32(F32W(ws->Z + (size_t)t * B * NO), F32(rn), F32(m->W), F32(m->c), (size_t)B,
                        (size_t)N, (size_t)NO);
            continue;
        }
        if (rate) { /* a_t = xn + b (+ noise); r_{t+1} = (1−α) r_t + α φ(a_t) */
            for (size_t i = 0; i < BN; i++)
                xn[i] += m->b[i % N] + (pre_sd > 0 ? (sl_real)(pre_sd * sl_rng_normal(noise)) : 0);
            act_forward_fast(s->act, xn, rn, BN);
            for (size_t i = 0; i < BN; i++) rn[i] = keep * rt[i] + alpha * rn[i];
            continue;
        }
        if (noise_sd > 0) {
            for (size_t i = 0; i < BN; i++)
                xn[i] = keep * xt[i] + alpha * (xn[i] + m->b[i % N]) +
                        (sl_real)(noise_sd * sl_rng_normal(noise));
        } else {
            for (size_t i = 0; i < BN; i++) xn[i] = keep * xt[i] + alpha * (xn[i] + m->b[i % N]);
        }
        act_forward_fast(s->act, xn, rn, BN);
    }

    if (fast) return SL_OK;
    /* Z = R[1..T] Wᵀ + c: one GEMM */
    for (size_t row = 0; row < (size_t)T * B; row++) memcpy(ws->Z + row * NO, m->c, NO * sizeof(sl_real));
    sl_gemm(0, 1, T * B, NO, N, 1.0, ws->R + BN, N, m->W, N, 1.0, ws->Z, NO);
    return SL_OK;
}

static sl_status check_batch(const sl_workspace *ws, int B, int T)
{
    if (B < 1 || T < 1 || B > ws->Bmax || T > ws->Tmax)
        return sl_fail(SL_EINVAL, "ctrnn: batch %d × T %d does not fit the workspace (%d × %d)", B, T,
                       ws->Bmax, ws->Tmax);
    return SL_OK;
}

sl_status sl_model_forward(sl_model *m, sl_workspace *ws, const sl_real *u, int B, int T,
                           sl_rng *noise, sl_real *z)
{
    sl_status st = check_batch(ws, B, T);
    if (st) return st;
    if (m->cell) return sl_cellnet_forward(m, ws, u, B, T, noise, z);
    memcpy(ws->U, u, (size_t)B * T * m->spec.n_in * sizeof(sl_real)); /* batch-major, as given */
    sl_ctrnn_forward_tm(m, ws, B, T, noise);
    if (z) sl_to_batch_major(ws->Z, z, B, T, m->spec.n_out);
    return SL_OK;
}

void sl_model_states(const sl_workspace *ws, sl_real *x, sl_real *r)
{
    if (ws->cell) {
        sl_cellnet_states(ws, x, r);
        return;
    }
    size_t BN = (size_t)ws->B * ws->N;
    if (x) sl_to_batch_major(ws->X + BN, x, ws->B, ws->T, ws->N);
    if (r) sl_to_batch_major(ws->R + BN, r, ws->B, ws->T, ws->N);
}

/* --------------------------------------------------------------- backward */

sl_status sl_ctrnn_backward_tm(sl_model *m, sl_workspace *ws, double rate_coef, double l1_coef)
{
    const sl_model_spec *s = &m->spec;
    const int N = s->n_hidden, NI = s->n_in, NO = s->n_out, B = ws->B, T = ws->T;
    const size_t BN = (size_t)B * N;
    const sl_real alpha = (sl_real)(s->dt_ms / s->tau_ms), keep = 1 - alpha;
    const sl_real rc2 = (sl_real)(2 * rate_coef), l1c = (sl_real)l1_coef;
    const sl_param_info *info = m->info;
    const int rate = s->form == SL_CTRNN_RATE;
    /* Dale reparam: ∂J_eff first (mapped onto ∂J at the end) */
    sl_real *gJ = m->Jeff ? m->gJeff : m->grads + info[0].offset, *gB = m->grads + info[1].offset;
    sl_real *gb = m->grads + info[2].offset, *gW = m->grads + info[3].offset;
    sl_real *gc = m->grads + info[4].offset;
    if (m->Jeff) memset(m->gJeff, 0, (size_t)N * N * sizeof(sl_real));
    /* feedback alignment: the matrices the error travels back through (J_eff as
     * the last forward built it) */
    const sl_real *Wb = m->fa_W ? m->fa_W : m->W;
    const sl_real *Jb = m->fa_R ? m->fa_R : m->Jeff ? m->Jeff : m->J;

    int weights_done = 0; /* ∂J, ∂B already summed step by step */
    if (rate) {
        /* D ← ∂L/∂r_k from the readout and the rate penalties, then d_k in place;
         * G[k−1] = g_k = φ'(a_{k−1}) ⊙ d_k, a_{k−1} in X[k] */
        sl_real *DR = ws->D;
        sl_gemm(0, 0, T * B, N, NO, 1.0, ws->DZ, NO, Wb, N, 0.0, DR, N);
        for (int k = T; k >= 1; k--) {
            const sl_real *ak = ws->X + (size_t)k * BN, *rk = ws->R + (size_t)k * BN;
            sl_real *dk = DR + (size_t)(k - 1) * BN, *gk = ws->G + (size_t)(k - 1) * BN;
            for (size_t i = 0; i < BN; i++)
                dk[i] += rc2 * rk[i] + (rk[i] > 0 ? l1c : rk[i] < 0 ? -l1c : 0);
            if (k < T) { /* + (1−α) d_{k+1} + α g_{k+1} J */
                sl_gemm(0, 0, B, N, N, alpha, ws->G + (size_t)k * BN, N, Jb, N, 0.0, ws->tmp, N);
                const sl_real *dn = DR + (size_t)k * BN;
                for (size_t i = 0; i < BN; i++) dk[i] += keep * dn[i] + ws->tmp[i];
            }
            act_forward(s->act, ak, ws->tmp, BN); /* φ(a_{k−1}) (r_k holds the leaky mix) */
            for (size_t i = 0; i < BN; i++) gk[i] = act_deriv(s->act, ak[i], ws->tmp[i]) * dk[i];
        }
        sl_gemm(1, 0, NO, N, T * B, 1.0, ws->DZ, NO, ws->R + BN, N, 1.0, gW, N); /* Σ dzᵀ r */
        for (size_t row = 0; row < (size_t)T * B; row++) {
            const sl_real *g = ws->G + row * N, *dz = ws->DZ + row * NO;
            for (int i = 0; i < N; i++) gb[i] += alpha * g[i];
            for (int o = 0; o < NO; o++) gc[o] += dz[o];
        }
    } else if (SL_F32_FAST && (s->act == SL_ACT_RECT_TANH || s->act == SL_ACT_TANH)) {
        const step_gemm kern = step_gemm_make(B, N, NI, T);
        const wgrad_kernels wk = wgrad_make(B, N, NI, T);
        if (wk.dJ) {
            memset(ws->accJ, 0, (size_t)N * N * sizeof(sl_real));
            memset(ws->accB, 0, (size_t)N * NI * sizeof(sl_real));
        }
        /* g_k for k = T..1 (G[k−1] = g_k), with ∂b, ∂W, ∂c and the readout's
         * ∂L/∂r fused into the elementwise pass of each step */
        for (int k = T; k >= 1; k--) {
            const size_t at = (size_t)(k - 1) * BN;
            const sl_real *gn = k == T ? NULL : ws->G + at + BN; /* g_{k+1} */
            if (gn) step_gemm_run(&kern, gn, Jb, ws->tmp); /* g_{k+1} J */
            backward_step_tanh_f32(F32W(ws->G + at), gn ? F32(gn) : NULL, gn ? F32(ws->tmp) : NULL,
                                   F32(ws->R + at + BN), F32(ws->DZ + (size_t)(k - 1) * B * NO),
                                   F32(Wb), F32W(gb), F32W(gW), F32W(gc), (size_t)B, (size_t)N,
                                   (size_t)NO, (float)keep, (float)alpha, (float)rc2, (float)l1c,
                                   s->act == SL_ACT_RECT_TANH);
            if (wk.dJ) { /* Σ g_kᵀ r_{k−1}, Σ g_kᵀ u_{k−1} */
                wk.dJ(F32(ws->R + at), F32(ws->G + at), F32W(ws->accJ));
                wk.dB(F32(ws->U + (size_t)(k - 1) * NI), F32(ws->G + at), F32W(ws->accB));
            }
        }
        if (wk.dJ) {
            for (size_t i = 0; i < (size_t)N * N; i++) gJ[i] += alpha * ws->accJ[i];
            for (size_t i = 0; i < (size_t)N * NI; i++) gB[i] += alpha * ws->accB[i];
            weights_done = 1;
        }
    } else {
        /* ∂L/∂r_{t+1} from the readout for all t: D ← DZ·W (D's forward contents are spent) */
        sl_real *DR = ws->D;
        sl_gemm(0, 0, T * B, N, NO, 1.0, ws->DZ, NO, Wb, N, 0.0, DR, N);
        /* g_k for k = T..1, stored time-major in G (G[k−1] = g_k) */
        for (int k = T; k >= 1; k--) {
            const sl_real *xk = ws->X + (size_t)k * BN, *rk = ws->R + (size_t)k * BN;
            sl_real *drk = DR + (size_t)(k - 1) * BN;
            sl_real *gk = ws->G + (size_t)(k - 1) * BN;
            if (l1c != 0) /* ∂ of l1_coef Σ|r| */
                for (size_t i = 0; i < BN; i++) drk[i] += rk[i] > 0 ? l1c : rk[i] < 0 ? -l1c : 0;
            if (k == T) {
                for (size_t i = 0; i < BN; i++)
                    gk[i] = act_deriv(s->act, xk[i], rk[i]) * (drk[i] + rc2 * rk[i]);
            } else {
                const sl_real *gn = ws->G + (size_t)k * BN; /* g_{k+1} */
                sl_real *tmp = ws->tmp;
                sl_gemm(0, 0, B, N, N, alpha, gn, N, Jb, N, 0.0, tmp, N); /* α g_{k+1} J */
                for (size_t i = 0; i < BN; i++)
                    gk[i] = keep * gn[i] +
                            act_deriv(s->act, xk[i], rk[i]) * (tmp[i] + drk[i] + rc2 * rk[i]);
            }
        }
        sl_gemm(1, 0, NO, N, T * B, 1.0, ws->DZ, NO, ws->R + BN, N, 1.0, gW, N); /* Σ dzᵀ r */
        for (size_t row = 0; row < (size_t)T * B; row++) {
            const sl_real *g = ws->G + row * N, *dz = ws->DZ + row * NO;
            for (int i = 0; i < N; i++) gb[i] += alpha * g[i];
            for (int o = 0; o < NO; o++) gc[o] += dz[o];
        }
    }

    if (!weights_done) {
        /* α Σ g_kᵀ r_{k−1}: one GEMM over the T·B rows */
        sl_gemm(1, 0, N, N, T * B, alpha, ws->G, N, ws->R, N, 1.0, gJ, N);
        for (int t = 0; t < T; t++) /* α Σ g_kᵀ u_{k−1}, u batch-major (rows T·n_in apart) */
            sl_gemm(1, 0, N, NI, B, alpha, ws->G + (size_t)t * BN, N, ws->U + (size_t)t * NI,
                    T * NI, 1.0, gB, NI);
    }

    if (m->rec_mask) /* fixed connectivity: absent synapses get no gradient */
        for (size_t i = 0; i < (size_t)N * N; i++) gJ[i] *= m->rec_mask[i];

    if (m->x0) { /* g_0 = (1−α) g_1 + φ'(x_0) ⊙ α g_1 J, summed over the batch;
                    rate form: d_0 = (1−α) d_1 + α g_1 J */
        sl_real *gx0 = m->grads + info[5].offset, *tmp = ws->tmp;
        sl_gemm(0, 0, B, N, N, alpha, ws->G, N, Jb, N, 0.0, tmp, N);
        for (int b = 0; b < B; b++)
            for (int i = 0; i < N; i++) {
                size_t j = (size_t)b * N + i;
                gx0[i] += rate ? keep * ws->D[j] + tmp[j]
                               : keep * ws->G[j] + act_deriv(s->act, ws->X[j], ws->R[j]) * tmp[j];
            }
    }
    if (m->Jeff && s->dale == SL_DALE_DANN) { /* ∂J += ∂J_eff, ∂J_EI −= ∂J_eff·J_IEᵀ, ∂J_IE −= J_EIᵀ·∂J_eff */
        const sl_dann v = sl_ctrnn_dann_view(m, m->params);
        sl_dann g = sl_ctrnn_dann_view(m, m->grads);
        for (size_t i = 0; i < (size_t)N * N; i++) g.W_EE[i] += m->gJeff[i];
        sl_gemm(0, 1, N, v.n_i, N, -1.0, m->gJeff, N, v.W_IE, N, 1.0, g.W_EI, v.n_i);
        sl_gemm(1, 0, v.n_i, N, N, -1.0, v.W_EI, v.n_i, m->gJeff, N, 1.0, g.W_IE, N);
    } else if (m->Jeff) /* ∂J = sgn(J) ⊙ M ⊙ (∂J_eff·diag(sign)) */
        sl_dale_reparam_backward(m->J, m->rec_mask, m->sign, N, N, m->gJeff,
                                 m->grads + info[0].offset);
    if (m->plastic) sl_model_mask_frozen(m);
    return SL_OK;
}

sl_status sl_model_backward(sl_model *m, sl_workspace *ws, const sl_real *dz, double rate_coef)
{
    if (m->cell) return sl_cellnet_backward(m, ws, dz, rate_coef);
    sl_to_time_major(dz, ws->DZ, ws->B, ws->T, m->spec.n_out);
    return sl_ctrnn_backward_tm(m, ws, rate_coef, 0);
}

/* ------------------------------------------------------------- batch loss */

sl_status sl_model_loss(sl_model *m, sl_workspace *ws, const sl_batch *batch,
                        const sl_loss_spec *spec, sl_rng *noise, int backward,
                        sl_loss_terms *out, sl_real *z_out)
{
    const sl_model_spec *s = &m->spec;
    const int B = batch->B, T = batch->T, NO = s->n_out, N = s->n_hidden;
    sl_status st = check_batch(ws, B, T);
    if (st) return st;
    if (m->cell) return sl_cellnet_loss(m, ws, batch, spec, noise, backward, out, z_out);
    if (spec && spec->l2_activation != 0)
        return sl_fail(SL_EINVAL, "ctrnn: the activation-norm penalty (train.l2_activation) is "
                                  "available for the cells only");
    if (batch->n_in != s->n_in || batch->n_out != NO)
        return sl_fail(SL_EINVAL, "ctrnn: batch has %d inputs / %d outputs, the model %d / %d",
                       batch->n_in, batch->n_out, s->n_in, NO);
    memcpy(ws->U, batch->u, (size_t)B * T * s->n_in * sizeof(sl_real)); /* batch-major, as given */
    sl_ctrnn_forward_tm(m, ws, B, T, noise);

    /* the task loss and its gradient dL/dz (time-major, against batch-major
     * targets): cross-entropy when the batch carries labels, else masked MSE */
    if (!batch->labels && !batch->y)
        return sl_fail(SL_EINVAL, "ctrnn: the batch has neither targets nor labels");
    double mse = batch->labels ? sl_loss_ce_tm(ws->Z, batch, spec ? spec->class_weights : NULL, ws->DZ)
                               : sl_loss_mse_tm(ws->Z, batch, ws->DZ);

    /* rate penalty λ_r mean r² over b, t = 1..T, i */
    double rate = 0;
    size_t nr = (size_t)T * B * N;
    if (spec && spec->l2_rate > 0) {
        const sl_real *r = ws->R + (size_t)B * N;
        double ss = 0;
        if (SL_F32_FAST) { /* float lanes per block of ≤ 4096, summed in double */
            const float *rf = (const float *)(const void *)r;
            for (size_t i0 = 0; i0 < nr; i0 += 4096) {
                size_t e = nr - i0 < 4096 ? nr - i0 : 4096;
                vf16 acc = VF(0);
                for (size_t i = 0; i < e; i += 16) {
                    size_t w = e - i < 16 ? e - i : 16;
                    vf16 v = w == 16 ? vload(rf + i0 + i) : vload_n(rf + i0 + i, w);
                    acc += v * v;
                }
                for (int l = 0; l < 16; l++) ss += acc[l];
            }
        } else
            for (size_t i = 0; i < nr; i++) ss += (double)r[i] * r[i];
        rate = spec->l2_rate * ss / (double)nr;
    }

    /* weight penalty λ_w Σ M² on the chosen matrices */
    double wl2 = 0;
    static const unsigned bits[3] = {SL_L2_J, SL_L2_B, SL_L2_W};
    static const int which[3] = {0, 1, 3};
    if (spec && spec->l2_weight > 0)
        for (int k = 0; k < 3; k++) {
            if (!(spec->l2_on & bits[k])) continue;
            wl2 += sl_model_weight_l2(m, which[k], spec->l2_weight, backward);
        }

    /* L1: λ₁ Σ|M| on the chosen matrices, λ_r1 mean |r| */
    double wl1 = 0, rl1 = 0;
    if (spec && spec->l1_weight > 0)
        for (int k = 0; k < 3; k++)
            if (spec->l1_on & bits[k]) {
                const sl_param_info *p = &m->info[which[k]];
                wl1 += sl_penalty_l1(m->params + p->offset, p->numel, spec->l1_weight, 0,
                                     backward ? m->grads + p->offset : NULL);
            }
    if (spec && spec->l1_rate > 0)
        rl1 = sl_penalty_rate_l1(ws->R + (size_t)B * N, T, B, N, spec->l1_rate, NULL);
    if (out) {
        out->mse = mse;
        out->rate = rate;
        out->weight_l2 = wl2;
        out->weight_l1 = wl1;
        out->rate_l1 = rl1;
        out->activation = 0;
        out->total = mse + rate + wl2 + wl1 + rl1;
        out->fa_dot = out->fa_fa = out->fa_bp = 0;
        if (backward && m->fa_W) {
            double acc[3] = {0, 0, 0};
            sl_fa_accumulate(ws->DZ, (size_t)T * B, NO, N, m->W, m->fa_W, acc);
            out->fa_dot = acc[0], out->fa_fa = acc[1], out->fa_bp = acc[2];
        }
    }
    if (z_out) sl_to_batch_major(ws->Z, z_out, B, T, NO);
    if (!isfinite(mse + rate + wl2 + wl1 + rl1))
        return sl_fail(SL_ENUMERIC, "loss is not finite (mse %g, rate %g, weight %g, L1 %g, %g)",
                       mse, rate, wl2, wl1, rl1);
    if (backward) {
        double rate_coef = (spec && spec->l2_rate > 0) ? spec->l2_rate / (double)nr : 0;
        double l1_coef = (spec && spec->l1_rate > 0) ? spec->l1_rate / (double)nr : 0;
        return sl_ctrnn_backward_tm(m, ws, rate_coef, l1_coef);
    }
    return SL_OK;
}
