/* constraints.c — connectivity masks, Dale's law (three modes), plasticity
 * masks, invariant checks, weight/rate/activation penalties, clipping by
 * value and two learning-rate schedules. W is rows × cols, row = post, column
 * = pre (PsychRNN's W_rec, the CT-RNN's J); M a mask, P a plasticity mask.
 *
 * Masks
 *   random      M_ij ~ Bernoulli(p), M_ii = 0 with no autapses
 *   areas       M[post, pre] = 1 iff area(post) = area(pre) or adj[area(post), area(pre)]
 *   file        0/1 (or weights ≥ 0) from .npy
 *
 * Dale's law, sign_j = +1 for j < ⌊f·N⌋ (excitatory), −1 after (PsychRNN):
 *   (a) reparameterisation (PsychRNN, Song et al. 2016; coursework eq. 7/18):
 *         W_eff = |W ⊙ M| · diag(sign)
 *         ∂L/∂W = sgn(W) ⊙ M ⊙ (∂L/∂W_eff · diag(sign))
 *       sgn(0) := 0, the subgradient TensorFlow (PsychRNN) and PyTorch both
 *       use for |·|: an entry exactly 0 gets no gradient and stays 0.
 *   (b) projection (nn4n): after each step W_ij ← max(W_ij,0) (sign_j > 0),
 *       min(W_ij,0) (sign_j < 0), then W ← 0 where M = 0.
 *   (c) DANN (Cornford et al. 2021) dense layer, non-negative W_EE, W_IE, W_EI:
 *         z_I = W_IE x,   h = W_EE x − W_EI z_I + b
 *         ∂W_EE = δᵀx,  ∂W_EI = −δᵀz_I,  δ_I = −δ W_EI,  ∂W_IE = δ_Iᵀx,
 *         ∂x = δ W_EE + δ_I W_IE,  ∂b = Σ δ            (δ = ∂L/∂h, rows = batch)
 *       init (code: EiDenseWeightInit_WexMean): W_EE ~ Exp(σ), σ² = 2 n_e/(d(n_e−1)),
 *       W_EI ~ Exp(σ) with rows summing to 1, W_IE rows = mean row of W_EE, b = 0;
 *       cSGD: ∇W_IE /= √n_e, ∇W_EI /= d, then θ −= lr ∇θ and clamp W's at 0
 *       (code: cSGD_Mixin + EiDense SGD update policy). The recurrent DANN cell
 *       (EiRNNCell: the same E/I split for the U and W of an RNN) is not here
 *       yet: it composes two of these layers per step and is left to the cell
 *       files. The optional divisive "shunting" normalisation is not here.
 *
 * Plasticity masks: g ← g ⊙ P. Under SGD a frozen entry never moves. Under
 * Adam (m, v zero-initialised) it never moves either as long as it has been
 * frozen from the first step: m = v = 0 throughout, so the step is
 * 0/(0 + ε) = 0. But an entry trained for a while and then frozen has m ≠ 0,
 * and Adam keeps moving it (m decays as β₁ᵗ, never to 0): then zero its
 * moments once, at the moment of freezing (sl_adam_freeze). A non-binary P
 * (nn4n's learning-rate groups) scales the step under SGD but barely under
 * Adam, which divides the scale out (up to ε).
 *
 * Penalties (λ, β ≥ 0; "mean" = divided by the number of entries):
 *   L1 λΣ|W| (or λ mean|W|)    ∂ = λ sgn(W)       L2 λΣW² (or λ mean W²)   ∂ = 2λW
 *   rates: λ mean|r|, λ mean r² over all T·B·N entries
 *   activation norm (coursework eq. 9, L = L_task + β₂‖a‖₂):
 *         β · 1/(T·B) Σ_{t,b} ‖h_{t,b}‖₂,  ‖·‖ over the N hidden units,
 *         ∂/∂h_{t,b} = β/(T·B) · h_{t,b}/‖h_{t,b}‖  (0 at h = 0)
 *   Eq. 9 defines a as "the activation value of each neuron", so the norm runs
 *   over units; the coursework's code, mean(vector_norm(h, 2, dim=1)), applies
 *   it to the (T, B, N) output of its GRU, where dim 1 is the batch axis with
 *   PyTorch's default layout: we follow the equation, not that axis. For the
 *   PsychRNN variants of L1/L2 on weights, apply them to W_eff and send the
 *   gradient through sl_dale_reparam_backward.
 *
 * Clipping by value: g ← clamp(g, −c, c) (torch.nn.utils.clip_grad_value_).
 * Schedules (torch.optim.lr_scheduler):
 *   StepLR             lr_k = lr₀ γ^⌊k/step⌋ after k epochs
 *   ReduceLROnPlateau  better(a) = a < best(1 − thr) ('min','rel'), a < best − thr
 *                      ('abs'), mirrored for 'max'; per epoch: better → best = a,
 *                      bad = 0, else bad++; in cooldown: cooldown−−, bad = 0;
 *                      bad > patience → lr = max(lr·factor, min_lr) if that
 *                      lowers lr by more than eps, cooldown = cooldown₀, bad = 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "nn/constraints.h"
#include "silico.h"

static inline double sgn(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }

/* ------------------------------------------------------------------ masks */

sl_status sl_mask_random(sl_real *M, int rows, int cols, double p, int no_autapses, sl_rng *rng)
{
    if (rows <= 0 || cols <= 0)
        return sl_fail(SL_EINVAL, "random mask: need positive shape, got %d x %d", rows, cols);
    if (!(p >= 0 && p <= 1))
        return sl_fail(SL_EINVAL, "random mask: connection probability must be in [0, 1], got %g", p);
    if (no_autapses && rows != cols)
        return sl_fail(SL_EINVAL, "random mask: no_autapses needs a square mask, got %d x %d", rows,
                       cols);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            M[(size_t)i * cols + j] = sl_rng_uniform(rng) < p ? 1 : 0;
    if (no_autapses) sl_mask_no_autapses(M, rows);
    return SL_OK;
}

void sl_mask_no_autapses(sl_real *M, int n)
{
    for (int i = 0; i < n; i++) M[(size_t)i * n + i] = 0;
}

sl_status sl_mask_areas(sl_real *M, int n_areas, const int *sizes, const unsigned char *adj,
                        int no_autapses, int *n_out)
{
    if (n_areas <= 0) return sl_fail(SL_EINVAL, "area mask: need at least one area, got %d", n_areas);
    long N = 0;
    for (int a = 0; a < n_areas; a++) {
        if (sizes[a] <= 0)
            return sl_fail(SL_EINVAL, "area mask: area %d has size %d (must be positive)", a, sizes[a]);
        N += sizes[a];
        if (N > 1 << 20) return sl_fail(SL_EINVAL, "area mask: %ld units is too many", N);
    }
    int *area = malloc((size_t)N * sizeof *area);
    if (!area) return sl_fail(SL_ENOMEM, "area mask: out of memory");
    for (int a = 0, k = 0; a < n_areas; a++)
        for (int i = 0; i < sizes[a]; i++) area[k++] = a;
    for (long i = 0; i < N; i++)
        for (long j = 0; j < N; j++) {
            int to = area[i], from = area[j];
            int on = to == from || (adj && adj[(size_t)to * n_areas + from]);
            M[(size_t)i * N + j] = on ? 1 : 0;
        }
    free(area);
    if (no_autapses) sl_mask_no_autapses(M, (int)N);
    if (n_out) *n_out = (int)N;
    return SL_OK;
}

sl_status sl_area_chain(int n_areas, int feedback, unsigned char *adj)
{
    if (n_areas <= 0) return sl_fail(SL_EINVAL, "area chain: need at least one area, got %d", n_areas);
    memset(adj, 0, (size_t)n_areas * n_areas);
    for (int a = 0; a + 1 < n_areas; a++) {
        adj[(size_t)(a + 1) * n_areas + a] = 1; /* a → a+1 */
        if (feedback) adj[(size_t)a * n_areas + a + 1] = 1;
    }
    return SL_OK;
}

static double array_get(const sl_array *a, size_t i)
{
    switch (a->dtype) {
    case SL_F32: return ((const float *)a->data)[i];
    case SL_F64: return ((const double *)a->data)[i];
    case SL_I32: return ((const int32_t *)a->data)[i];
    case SL_I64: return (double)((const int64_t *)a->data)[i];
    case SL_U8: return ((const uint8_t *)a->data)[i];
    }
    return NAN;
}

sl_status sl_mask_load_npy(const char *path, int rows, int cols, int allow_weights, sl_real *M)
{
    sl_array a = {0};
    sl_status st = sl_npy_read(path, &a);
    if (st != SL_OK) return st; /* the error already names the file */
    if (a.ndim != 2 || a.shape[0] != rows || a.shape[1] != cols) {
        char got[96] = "(";
        for (int d = 0; d < a.ndim; d++) {
            size_t len = strlen(got);
            snprintf(got + len, sizeof got - len, "%s%lld", d ? ", " : "", (long long)a.shape[d]);
        }
        strncat(got, ")", sizeof got - strlen(got) - 1);
        sl_array_free(&a);
        return sl_fail(SL_EINVAL, "mask %s: shape %s, expected (%d, %d)", path, got, rows, cols);
    }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double v = array_get(&a, (size_t)i * cols + j);
            int ok = allow_weights ? (isfinite(v) && v >= 0) : (v == 0 || v == 1);
            if (!ok) {
                sl_array_free(&a);
                return sl_fail(SL_EINVAL, "mask %s: entry [%d, %d] = %g, expected %s", path, i, j, v,
                               allow_weights ? "a finite weight >= 0" : "0 or 1");
            }
            M[(size_t)i * cols + j] = (sl_real)v;
        }
    sl_array_free(&a);
    return SL_OK;
}

void sl_mask_project(sl_real *W, const sl_real *M, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (M[i] == 0) W[i] = 0;
}

/* ------------------------------------------------------------ Dale's law */

sl_status sl_dale_signs(sl_real *sign, int n, double frac_exc, int *n_exc)
{
    if (n <= 0) return sl_fail(SL_EINVAL, "dale: need n > 0, got %d", n);
    if (!(frac_exc >= 0 && frac_exc <= 1))
        return sl_fail(SL_EINVAL, "dale: the excitatory fraction must be in [0, 1], got %g", frac_exc);
    int ne = (int)floor(frac_exc * n);
    for (int j = 0; j < n; j++) sign[j] = j < ne ? 1 : -1;
    if (n_exc) *n_exc = ne;
    return SL_OK;
}

void sl_dale_reparam(const sl_real *W, const sl_real *M, const sl_real *sign, int rows, int cols,
                     sl_real *W_eff)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            size_t k = (size_t)i * cols + j;
            sl_real w = M ? W[k] * M[k] : W[k];
            W_eff[k] = (sl_real)fabs((double)w) * (sign ? sign[j] : 1);
        }
}

void sl_dale_reparam_backward(const sl_real *W, const sl_real *M, const sl_real *sign, int rows,
                              int cols, const sl_real *dW_eff, sl_real *dW)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            size_t k = (size_t)i * cols + j;
            sl_real g = dW_eff[k] * (sign ? sign[j] : 1) * (M ? M[k] : 1);
            dW[k] += (sl_real)sgn((double)W[k]) * g;
        }
}

void sl_dale_project(sl_real *W, const sl_real *M, const sl_real *sign, int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            size_t k = (size_t)i * cols + j;
            if (sign[j] > 0 ? W[k] < 0 : sign[j] < 0 ? W[k] > 0 : 1) W[k] = 0;
            if (M && M[k] == 0) W[k] = 0;
        }
}

/* ------------------------------------------------------------------ DANN */

sl_status sl_dann_init(sl_dann *p, double numerator, sl_rng *rng)
{
    const int d = p->n_in, ne = p->n_e, ni = p->n_i;
    if (d <= 0 || ne <= 0 || ni <= 0)
        return sl_fail(SL_EINVAL, "dann: need n_in, n_e, n_i > 0, got %d, %d, %d", d, ne, ni);
    if (numerator <= 0) numerator = 2;
    const double sd = ne > 1 ? sqrt(numerator * ne / ((double)d * (ne - 1))) : sqrt(numerator / d);
    for (size_t k = 0; k < (size_t)ne * d; k++)
        p->W_EE[k] = (sl_real)(-sd * log(1 - sl_rng_uniform(rng)));
    for (int i = 0; i < ne; i++) { /* rows of W_EI: Exp(σ) draws normalised to sum 1 (in double) */
        sl_real *row = p->W_EI + (size_t)i * ni;
        double s = 0;
        for (int k = 0; k < ni; k++) s += row[k] = (sl_real)(-sd * log(1 - sl_rng_uniform(rng)));
        for (int k = 0; k < ni; k++) row[k] = (sl_real)(s > 0 ? row[k] / s : 1.0 / ni);
    }
    for (int j = 0; j < d; j++) {
        double m = 0;
        for (int i = 0; i < ne; i++) m += p->W_EE[(size_t)i * d + j];
        m /= ne;
        for (int k = 0; k < ni; k++) p->W_IE[(size_t)k * d + j] = (sl_real)m;
    }
    for (int i = 0; i < ne; i++) p->b[i] = 0;
    return SL_OK;
}

void sl_dann_forward(const sl_dann *p, const sl_real *x, int B, sl_real *z_I, sl_real *h)
{
    const int d = p->n_in, ne = p->n_e, ni = p->n_i;
    sl_gemm(0, 1, B, ni, d, 1.0, x, d, p->W_IE, d, 0.0, z_I, ni);      /* z_I = x W_IEᵀ */
    for (int r = 0; r < B; r++) memcpy(h + (size_t)r * ne, p->b, (size_t)ne * sizeof(sl_real));
    sl_gemm(0, 1, B, ne, d, 1.0, x, d, p->W_EE, d, 1.0, h, ne);        /* + x W_EEᵀ */
    sl_gemm(0, 1, B, ne, ni, -1.0, z_I, ni, p->W_EI, ni, 1.0, h, ne);  /* − z_I W_EIᵀ */
}

void sl_dann_backward(const sl_dann *p, const sl_real *x, const sl_real *z_I, const sl_real *dh,
                      int B, sl_dann *g, sl_real *dx, sl_real *scratch)
{
    const int d = p->n_in, ne = p->n_e, ni = p->n_i;
    sl_real *dz = scratch;                                               /* B × n_i */
    sl_gemm(1, 0, ne, d, B, 1.0, dh, ne, x, d, 1.0, g->W_EE, d);         /* += dhᵀ x */
    sl_gemm(1, 0, ne, ni, B, -1.0, dh, ne, z_I, ni, 1.0, g->W_EI, ni);   /* −= dhᵀ z_I */
    sl_gemm(0, 0, B, ni, ne, -1.0, dh, ne, p->W_EI, ni, 0.0, dz, ni);    /* dz_I = −dh W_EI */
    sl_gemm(1, 0, ni, d, B, 1.0, dz, ni, x, d, 1.0, g->W_IE, d);         /* += dz_Iᵀ x */
    for (int r = 0; r < B; r++)
        for (int i = 0; i < ne; i++) g->b[i] += dh[(size_t)r * ne + i];
    if (dx) {
        sl_gemm(0, 0, B, d, ne, 1.0, dh, ne, p->W_EE, d, 0.0, dx, d);
        sl_gemm(0, 0, B, d, ni, 1.0, dz, ni, p->W_IE, d, 1.0, dx, d);
    }
}

void sl_dann_csgd_scale(sl_dann *g)
{
    const double s_ie = 1 / sqrt((double)g->n_e), s_ei = 1 / (double)g->n_in;
    for (size_t k = 0; k < (size_t)g->n_i * g->n_in; k++) g->W_IE[k] = (sl_real)(g->W_IE[k] * s_ie);
    for (size_t k = 0; k < (size_t)g->n_e * g->n_i; k++) g->W_EI[k] = (sl_real)(g->W_EI[k] * s_ei);
}

static void clamp0(sl_real *w, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (w[k] < 0) w[k] = 0;
}

void sl_dann_clamp(sl_dann *p)
{
    clamp0(p->W_EE, (size_t)p->n_e * p->n_in);
    clamp0(p->W_IE, (size_t)p->n_i * p->n_in);
    clamp0(p->W_EI, (size_t)p->n_e * p->n_i);
}

static void sgd(sl_real *w, const sl_real *g, size_t n, double lr)
{
    for (size_t k = 0; k < n; k++) w[k] = (sl_real)(w[k] - lr * g[k]);
}

void sl_dann_csgd_step(sl_dann *p, sl_dann *g, double lr)
{
    sl_dann_csgd_scale(g);
    sgd(p->W_EE, g->W_EE, (size_t)p->n_e * p->n_in, lr);
    sgd(p->W_IE, g->W_IE, (size_t)p->n_i * p->n_in, lr);
    sgd(p->W_EI, g->W_EI, (size_t)p->n_e * p->n_i, lr);
    sgd(p->b, g->b, (size_t)p->n_e, lr);
    sl_dann_clamp(p);
}

/* -------------------------------------------- plasticity (freeze) masks */

void sl_grad_mask(sl_real *g, const sl_real *P, size_t n)
{
    for (size_t i = 0; i < n; i++) g[i] *= P[i];
}

void sl_adam_freeze(sl_adam *a, size_t offset, const sl_real *P, size_t n)
{
    sl_real *m = sl_adam_m(a) + offset, *v = sl_adam_v(a) + offset;
    for (size_t i = 0; i < n; i++)
        if (P[i] == 0) m[i] = v[i] = 0;
}

/* ------------------------------------------------------------ invariants */

sl_status sl_check_mask(const char *name, const sl_real *W, const sl_real *M, int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            size_t k = (size_t)i * cols + j;
            if (M[k] == 0 && W[k] != 0)
                return sl_fail(SL_EINVAL, "invariant: %s[%d, %d] = %.9g where the mask is 0 (must stay 0)",
                               name, i, j, (double)W[k]);
        }
    return SL_OK;
}

sl_status sl_check_dale(const char *name, const sl_real *W, const sl_real *sign, int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double w = W[(size_t)i * cols + j];
            const char *rule = NULL;
            if (sign[j] > 0 && !(w >= 0)) rule = "excitatory column: must be >= 0";
            else if (sign[j] < 0 && !(w <= 0)) rule = "inhibitory column: must be <= 0";
            else if (sign[j] == 0 && w != 0) rule = "column of sign 0: must be 0";
            if (rule)
                return sl_fail(SL_EINVAL, "invariant: Dale's law broken: %s[%d, %d] = %.9g (%s)", name,
                               i, j, w, rule);
        }
    return SL_OK;
}

sl_status sl_check_nonneg(const char *name, const sl_real *W, int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double w = W[(size_t)i * cols + j];
            if (!(w >= 0))
                return sl_fail(SL_EINVAL, "invariant: %s[%d, %d] = %.9g (must be >= 0)", name, i, j, w);
        }
    return SL_OK;
}

sl_status sl_check_frozen(const char *name, const sl_real *W, const sl_real *ref, const sl_real *P,
                          int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            size_t k = (size_t)i * cols + j;
            if (P[k] == 0 && memcmp(&W[k], &ref[k], sizeof(sl_real)) != 0)
                return sl_fail(SL_EINVAL, "invariant: frozen entry %s[%d, %d] changed from %.9g to %.9g",
                               name, i, j, (double)ref[k], (double)W[k]);
        }
    return SL_OK;
}

/* -------------------------------------------------------------- penalties */

double sl_penalty_l1(const sl_real *W, size_t n, double lambda, int mean, sl_real *grad)
{
    if (n == 0) return 0;
    const double c = mean ? lambda / (double)n : lambda;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)W[i]);
    if (grad)
        for (size_t i = 0; i < n; i++) grad[i] += (sl_real)(c * sgn((double)W[i]));
    return c * s;
}

double sl_penalty_l2(const sl_real *W, size_t n, double lambda, int mean, sl_real *grad)
{
    if (n == 0) return 0;
    const double c = mean ? lambda / (double)n : lambda;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)W[i] * W[i];
    if (grad)
        for (size_t i = 0; i < n; i++) grad[i] += (sl_real)(2 * c * W[i]);
    return c * s;
}

double sl_penalty_rate_l1(const sl_real *r, int T, int B, int N, double lambda, sl_real *grad)
{
    return sl_penalty_l1(r, (size_t)T * B * N, lambda, 1, grad);
}

double sl_penalty_rate_l2(const sl_real *r, int T, int B, int N, double lambda, sl_real *grad)
{
    return sl_penalty_l2(r, (size_t)T * B * N, lambda, 1, grad);
}

double sl_penalty_act_norm(const sl_real *h, int T, int B, int N, double beta, sl_real *grad)
{
    const size_t rows = (size_t)T * B;
    if (rows == 0 || N <= 0) return 0;
    const double c = beta / (double)rows;
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
        const sl_real *v = h + r * N;
        double ss = 0;
        for (int k = 0; k < N; k++) ss += (double)v[k] * v[k];
        double norm = sqrt(ss);
        total += norm;
        if (grad && norm > 0)
            for (int k = 0; k < N; k++) grad[r * N + k] += (sl_real)(c * v[k] / norm);
    }
    return c * total;
}

/* ------------------------------------------------ clipping and schedules */

size_t sl_clip_grad_value(sl_real *g, size_t n, double c)
{
    size_t clipped = 0;
    const sl_real hi = (sl_real)c, lo = (sl_real)-c;
    for (size_t i = 0; i < n; i++) {
        if (g[i] > hi) g[i] = hi, clipped++;
        else if (g[i] < lo) g[i] = lo, clipped++;
    }
    return clipped;
}

sl_status sl_step_lr_init(sl_step_lr *s, double lr0, long step_size, double gamma)
{
    if (!(lr0 >= 0) || step_size <= 0 || !(gamma > 0))
        return sl_fail(SL_EINVAL, "step schedule: need lr >= 0, step > 0, gamma > 0 (got %g, %ld, %g)",
                       lr0, step_size, gamma);
    *s = (sl_step_lr){.lr0 = lr0, .gamma = gamma, .lr = lr0, .step_size = step_size, .epoch = 0};
    return SL_OK;
}

double sl_step_lr_step(sl_step_lr *s)
{
    s->epoch++;
    s->lr = s->lr0 * pow(s->gamma, (double)(s->epoch / s->step_size));
    return s->lr;
}

sl_status sl_plateau_init(sl_plateau *p, double lr, double factor, int patience, double threshold,
                          double min_lr)
{
    if (!(lr >= 0) || !(factor > 0 && factor < 1) || patience < 0 || !(threshold >= 0) ||
        !(min_lr >= 0))
        return sl_fail(SL_EINVAL,
                       "plateau schedule: need lr >= 0, 0 < factor < 1, patience >= 0, threshold >= 0, "
                       "min_lr >= 0 (got %g, %g, %d, %g, %g)",
                       lr, factor, patience, threshold, min_lr);
    *p = (sl_plateau){.factor = factor, .patience = patience, .threshold = threshold,
                      .min_lr = min_lr, .eps = 1e-8, .lr = lr, .best = INFINITY};
    return SL_OK;
}

static int plateau_better(const sl_plateau *p, double a)
{
    if (!p->mode_max)
        return p->threshold_abs ? a < p->best - p->threshold : a < p->best * (1 - p->threshold);
    return p->threshold_abs ? a > p->best + p->threshold : a > p->best * (1 + p->threshold);
}

double sl_plateau_step(sl_plateau *p, double metric)
{
    if (p->epoch == 0 && p->mode_max && p->best == INFINITY) p->best = -INFINITY;
    p->epoch++;
    if (plateau_better(p, metric)) {
        p->best = metric;
        p->num_bad_epochs = 0;
    } else {
        p->num_bad_epochs++;
    }
    if (p->cooldown_counter > 0) {
        p->cooldown_counter--;
        p->num_bad_epochs = 0;
    }
    if (p->num_bad_epochs > p->patience) {
        double lr = p->lr * p->factor;
        if (lr < p->min_lr) lr = p->min_lr;
        if (p->lr - lr > p->eps) {
            p->lr = lr;
            p->n_reductions++;
        }
        p->cooldown_counter = p->cooldown;
        p->num_bad_epochs = 0;
    }
    return p->lr;
}
