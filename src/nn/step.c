/* step.c — one step of any model kind from an arbitrary state (step.h):
 *
 *   drive  a(u): e = u, or e = ReLU(W_e u + b_e) with an ENU stage, then
 *     ctrnn     a = B u + b
 *     rnn, lstm a = W_ih e + b_ih + b_hh        gru  a = W_ih e + b_ih
 *     lightgru  a = [BN_z(W_z e), BN_h(W_h e)]   (running statistics)
 *   map F(x, a), P = the recurrent product:
 *     ctrnn     F = (1−α) x + α (J φ(x) + a)
 *     rnn       F = f(W_hh h + a)
 *     gru       r = σ(a_r + W_hr h + b_hr), z = σ(a_z + W_hz h + b_hz),
 *               n = tanh(a_n + r ⊙ (W_hn h + b_hn)),  F = (1−z) ⊙ n + z ⊙ h
 *     lightgru  z = σ(a_z + U_z h), h̃ = ReLU(a_h + U_h h),  F = z ⊙ h + (1−z) ⊙ h̃
 *     lstm      [i, f, g, o] = [σ, σ, tanh, σ](W_hh h + a),  c' = f ⊙ c + i ⊙ g,
 *               F = (h' = o ⊙ tanh c', c')
 *   Jacobians (row-vector VJPs, R = ∂L/∂F, out = R ∂F/∂x):
 *     ctrnn     ∂F/∂x = (1−α) I + α J diag φ'(x)           out = (1−α) R + α (R J) ⊙ φ'(x)
 *     rnn       ∂F/∂h = diag f'(p) W_hh                    out = (R ⊙ f'(p)) W_hh
 *     gru       out = R ⊙ z + [ê_r, ê_z, ê_n ⊙ r] W_hh with ê_n = R(1−z)(1−n²),
 *               ê_z = R (h − n) z(1−z), ê_r = ê_n (W_hn h + b_hn) r(1−r)
 *     lightgru  out = R ⊙ z + [R (h − h̃) z(1−z), R (1−z) [h̃ > 0]] [U_z; U_h]
 *     lstm      dc = R_c + R_h o (1 − tanh² c'),  out_c = dc ⊙ f,
 *               out_h = [dc g i(1−i), dc c f(1−f), dc i (1−g²), R_h tanh c' o(1−o)] W_hh
 * The D×D Jacobian: CT-RNN and RNN from the formulas above, the gated cells
 * as the VJPs of the D unit vectors (one GEMM). The search's q and ∇q
 * (sl_stepmap_qgrad_f) are fused for the CT-RNN. The batched
 * map is written once (step_impl.h) and built for float32 (the search) and
 * float64 (Newton steps, Jacobians). Weights are the model's effective ones
 * (sl_model_effective: Dale, masks), copied at create. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "nn/act.h"
#include "nn/step.h"

struct sl_stepmap {
    sl_cell_kind kind;
    sl_activation act;
    int N, D, G, n_in, n_e; /* n_e: the cell's input width (N·k with ENU) */
    double alpha;
    double *Wh, *bh;  /* G·N×N recurrent (ctrnn: J), G·N (gru's b_hh, else 0) */
    float *Wh_f, *bh_f, *WhT_f; /* WhT_f: N×G·N, Wh_fᵀ (the forward's GEMM untransposed) */
    double *Wi, *bi;  /* G·N×n_e input matrix, G·N bias folded into the drive */
    double *We, *be;  /* ENU: n_e×n_in, n_e (NULL without) */
    double *bn;       /* lightgru: per 2N: scale γ/√(var+ε), shift β − γμ/√(var+ε) */
};

static inline double tanh__d(double x) { return tanh(x); }
static inline float tanh__f(float x) { return sl_tanh_f32(x); }
static const double *wh_of_d(const sl_stepmap *s) { return s->Wh; }
static const float *wh_of_f(const sl_stepmap *s) { return s->Wh_f; }
static const double *wht_of_d(const sl_stepmap *s) { (void)s; return NULL; }
static const float *wht_of_f(const sl_stepmap *s) { return s->WhT_f; }
static const double *bh_of_d(const sl_stepmap *s) { return s->bh; }
static const float *bh_of_f(const sl_stepmap *s) { return s->bh_f; }

static void gemm_d(int ta, int tb, int M, int N, int K, double al, const double *A, int lda,
                   const double *B, int ldb, double be, double *C, int ldc)
{
    if (M > 0 && N > 0)
        cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    M, N, K, al, A, lda, B, ldb, be, C, ldc);
}
/* float32: a libxsmm JIT kernel when neither operand is transposed (no packing:
 * faster than OpenBLAS' sgemm at a few dozen rows, the other kinds' search
 * tiles), else OpenBLAS. libxsmm is column-major: C = A·B row-major is
 * Cᵀ = Bᵀ·Aᵀ. */
static void gemm_f(int ta, int tb, int M, int N, int K, double al, const float *A, int lda,
                   const float *B, int ldb, double be, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (!ta && !tb && K > 0 && al == 1 && (be == 0 || be == 1)) {
        const float one = 1, beta = (float)be;
        const int flags = be == 0 ? LIBXSMM_GEMM_FLAG_BETA_0 : 0, pf = LIBXSMM_GEMM_PREFETCH_NONE;
        const libxsmm_blasint la = lda, lb = ldb, lc = ldc;
        const libxsmm_smmfunction f = libxsmm_smmdispatch(N, M, K, &lb, &la, &lc, &one, &beta, &flags, &pf);
        if (f) {
            f(B, A, C);
            return;
        }
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    M, N, K, (float)al, A, lda, B, ldb, (float)be, C, ldc);
}

/* r = f(x), dr = f'(x) over a row (defined below the kernels) */
static void act_row_d(sl_activation a, const double *x, double *r, double *dr, int n);
static void act_row_f(sl_activation a, const float *x, float *r, float *dr, int n);

#define REAL double
#define SFX _d
#include "nn/step_impl.h"
#undef REAL
#undef SFX
#define REAL float
#define SFX _f
#include "nn/step_impl.h"
#undef REAL
#undef SFX

/* float32 tanh / rect_tanh on 16 lanes */
static void act_row_f(sl_activation a, const float *x, float *r, float *dr, int n)
{
    if (a == SL_ACT_TANH || a == SL_ACT_RECT_TANH) {
        for (int i = 0; i < n; i += 16) {
            const size_t w = n - i < 16 ? (size_t)(n - i) : 16;
            vf16 v = vld(x + i, w), t = vtanh(v), d = VF(1) - t * t;
            if (a == SL_ACT_RECT_TANH) {
                t = vsel(v > VF(0), t, VF(0));
                d = vsel(v > VF(0), d, VF(0));
            }
            vst(r + i, t, w);
            vst(dr + i, d, w);
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        float v = x[i], y = act__f(a, v);
        r[i] = y, dr[i] = dact__f(a, v, y);
    }
}


static void act_row_d(sl_activation a, const double *x, double *r, double *dr, int n)
{
    for (int i = 0; i < n; i++) {
        double v = x[i], y = act__d(a, v);
        r[i] = y, dr[i] = dact__d(a, v, y);
    }
}

void sl_stepmap_free(sl_stepmap *s)
{
    if (!s) return;
    free(s->Wh), free(s->bh), free(s->Wh_f), free(s->bh_f), free(s->WhT_f);
    free(s->Wi), free(s->bi), free(s->We), free(s->be), free(s->bn);
    free(s);
}

/* the effective tensor `name` as doubles (n values expected), or NULL */
static double *eff(const sl_model *m, const char *name, size_t n)
{
    const sl_param_info *p = sl_model_find(m, name);
    if (!p || p->numel != n) return NULL;
    sl_real *tmp = malloc(n * sizeof(sl_real));
    double *d = malloc(n * sizeof(double));
    if (!tmp || !d || sl_model_effective(m, name, tmp)) {
        free(tmp), free(d);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) d[i] = tmp[i];
    free(tmp);
    return d;
}

static const sl_real *buffer(sl_model *m, const char *name)
{
    for (int i = 0; i < sl_model_num_buffers(m); i++)
        if (!strcmp(sl_model_buffer(m, i)->name, name))
            return sl_model_buffers(m) + sl_model_buffer(m, i)->offset;
    return NULL;
}

sl_status sl_stepmap_create(const sl_model *m, sl_stepmap **out)
{
    *out = NULL;
    if (!m) return sl_fail(SL_EINVAL, "step map: no model");
    const sl_model_spec *sp = sl_model_get_spec(m);
    sl_stepmap *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ENOMEM, "step map: out of memory");
    const int N = sp->n_hidden, NI = sp->n_in;
    s->kind = sp->cell, s->act = sp->act, s->N = N, s->n_in = NI;
    s->D = sp->cell == SL_CELL_LSTM ? 2 * N : N;
    s->G = sp->cell == SL_CELL_GRU ? 3 : sp->cell == SL_CELL_LSTM ? 4 : sp->cell == SL_CELL_LIGHTGRU ? 2 : 1;
    s->n_e = sp->enu_k > 0 ? N * sp->enu_k : NI;
    const size_t GN = (size_t)s->G * N, NE = (size_t)s->n_e;
    int ok = 1;
    s->bh = calloc(GN, sizeof(double));
    s->bi = calloc(GN, sizeof(double));
    if (sp->enu_k > 0) {
        ok = (s->We = eff(m, "enu.weight", NE * NI)) && (s->be = eff(m, "enu.bias", NE));
    }
    switch (s->kind) {
    case SL_CELL_CTRNN: {
        s->alpha = sp->dt_ms / sp->tau_ms;
        double *b = eff(m, "b", N);
        ok = ok && (s->Wh = eff(m, "J", (size_t)N * N)) && (s->Wi = eff(m, "B", (size_t)N * NI)) && b;
        if (b && s->bi) memcpy(s->bi, b, N * sizeof(double));
        free(b);
        break;
    }
    case SL_CELL_RNN:
    case SL_CELL_GRU:
    case SL_CELL_LSTM: {
        double *bi = eff(m, "bias_ih", GN), *bh = eff(m, "bias_hh", GN);
        ok = ok && (s->Wh = eff(m, "weight_hh", GN * N)) && (s->Wi = eff(m, "weight_ih", GN * NE)) &&
             bi && bh && s->bi && s->bh;
        if (ok) {
            for (size_t i = 0; i < GN; i++) s->bi[i] = bi[i];
            if (s->kind == SL_CELL_GRU)
                memcpy(s->bh, bh, GN * sizeof(double));
            else
                for (size_t i = 0; i < GN; i++) s->bi[i] += bh[i];
        }
        free(bi), free(bh);
        break;
    }
    case SL_CELL_LIGHTGRU: {
        double *uz = eff(m, "U_z", (size_t)N * N), *uh = eff(m, "U_h", (size_t)N * N);
        double *wz = eff(m, "W_z", (size_t)N * NE), *wh = eff(m, "W_h", (size_t)N * NE);
        double *gz = eff(m, "bn_z.weight", N), *bz = eff(m, "bn_z.bias", N);
        double *gh = eff(m, "bn_h.weight", N), *bhh = eff(m, "bn_h.bias", N);
        sl_model *mm = (sl_model *)m; /* buffers are read only */
        const sl_real *mz = buffer(mm, "bn_z.running_mean"), *vz = buffer(mm, "bn_z.running_var");
        const sl_real *mh = buffer(mm, "bn_h.running_mean"), *vh = buffer(mm, "bn_h.running_var");
        s->Wh = malloc(GN * N * sizeof(double));
        s->Wi = malloc(GN * NE * sizeof(double));
        s->bn = malloc(4 * (size_t)N * sizeof(double));
        ok = ok && uz && uh && wz && wh && gz && bz && gh && bhh && mz && vz && mh && vh && s->Wh &&
             s->Wi && s->bn;
        if (ok) {
            memcpy(s->Wh, uz, (size_t)N * N * sizeof(double));
            memcpy(s->Wh + (size_t)N * N, uh, (size_t)N * N * sizeof(double));
            memcpy(s->Wi, wz, (size_t)N * NE * sizeof(double));
            memcpy(s->Wi + (size_t)N * NE, wh, (size_t)N * NE * sizeof(double));
            const double eps = sp->bn_eps > 0 ? sp->bn_eps : 1e-5;
            for (int i = 0; i < N; i++) {
                double kz = gz[i] / sqrt((double)vz[i] + eps), kh = gh[i] / sqrt((double)vh[i] + eps);
                s->bn[i] = kz, s->bn[N + i] = kh;
                s->bn[2 * N + i] = bz[i] - kz * mz[i], s->bn[3 * N + i] = bhh[i] - kh * mh[i];
            }
        }
        free(uz), free(uh), free(wz), free(wh), free(gz), free(bz), free(gh), free(bhh);
        break;
    }
    }
    if (ok) {
        s->Wh_f = malloc(GN * N * sizeof(float));
        s->bh_f = malloc(GN * sizeof(float));
        s->WhT_f = malloc(GN * N * sizeof(float));
        ok = s->Wh_f && s->bh_f && s->WhT_f;
    }
    if (!ok) {
        sl_stepmap_free(s);
        return sl_fail(SL_ENOMEM, "step map (%s): out of memory or missing tensor",
                       sl_cell_kind_name(sp->cell));
    }
    for (size_t i = 0; i < GN * N; i++) s->Wh_f[i] = (float)s->Wh[i];
    for (size_t i = 0; i < GN; i++)
        for (size_t j = 0; j < (size_t)N; j++) s->WhT_f[j * GN + i] = s->Wh_f[i * N + j];
    for (size_t i = 0; i < GN; i++) s->bh_f[i] = (float)s->bh[i];
    *out = s;
    return SL_OK;
}

int sl_stepmap_dim(const sl_stepmap *s) { return s->D; }
int sl_stepmap_drive_dim(const sl_stepmap *s) { return s->G * s->N; }
int sl_stepmap_n_in(const sl_stepmap *s) { return s->n_in; }
double sl_stepmap_alpha(const sl_stepmap *s) { return s->alpha; }

size_t sl_stepmap_work(const sl_stepmap *s, int B)
{
    return (size_t)B * (2 * (size_t)s->G * s->N + 5 * (size_t)s->N);
}

void sl_stepmap_drive(const sl_stepmap *s, const double *u, double *a)
{
    const int NE = s->n_e, GN = s->G * s->N, N = s->N;
    double *e = NULL;
    const double *in = u;
    if (s->We && (e = malloc((size_t)NE * sizeof(double)))) {
        for (int j = 0; j < NE; j++) {
            double v = s->be[j];
            for (int k = 0; k < s->n_in; k++) v += s->We[(size_t)j * s->n_in + k] * u[k];
            e[j] = v > 0 ? v : 0;
        }
        in = e;
    }
    for (int i = 0; i < GN; i++) {
        double v = s->bi[i];
        for (int k = 0; k < NE; k++) v += s->Wi[(size_t)i * NE + k] * in[k];
        a[i] = v;
    }
    if (s->bn)
        for (int i = 0; i < GN; i++) a[i] = s->bn[i] * a[i] + s->bn[2 * N + i];
    free(e);
}

size_t sl_stepmap_qgrad_work(const sl_stepmap *s, int ld)
{
    return sl_stepmap_work(s, ld) + (size_t)ld * (4 * (size_t)s->D + (size_t)s->G * s->N);
}

/* column-major C(m×n) = A(m×k)·B(k×n), float32: libxsmm, else OpenBLAS */
static void gemm_cm_f(int m, int n, int k, const float *A, int lda, const float *B, int ldb,
                      float *C, int ldc)
{
    const float one = 1, zero = 0;
    const int flags = LIBXSMM_GEMM_FLAG_BETA_0, pf = LIBXSMM_GEMM_PREFETCH_NONE;
    const libxsmm_blasint la = lda, lb = ldb, lc = ldc;
    const libxsmm_smmfunction f = libxsmm_smmdispatch(m, n, k, &la, &lb, &lc, &one, &zero, &flags, &pf);
    if (f)
        f(A, B, C);
    else
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, A, lda, B, ldb, 0, C, ldc);
}

void sl_stepmap_qgrad_f(const sl_stepmap *s, int B, int ld, const float *X, const float *A,
                        int a_shared, double *q, float *G, float *work)
{
    const int N = s->N, D = s->D, GN = s->G * N;
    const size_t L = (size_t)ld;
    if (s->kind == SL_CELL_CTRNN) {
        /* d = x − F = α (x − J φ(x) − a),  G = α (d − (d J) ⊙ φ'(x)); a unit's B
         * values are one row of the tile, so the GEMMs are column-major
         * (B×N) = (B×N)(N×N): P = Φ Jᵀ reads J row-major, (d J) reads Jᵀ */
        float *Phi = work, *dPhi = Phi + L * N, *P = dPhi + L * N, *R = P + L * N;
        const size_t n = L * N; /* the tile as one row: lanes ≥ B are computed, not used */
        const vf16 al = VF(s->alpha);
        act_row_f(s->act, X, Phi, dPhi, (int)n);
        gemm_cm_f(B, N, N, Phi, ld, s->Wh_f, N, P, ld);
        for (int k = 0; k < B; k += 16) { /* 16 points: Σ_i d_i² in float32, as torch's sum */
            const size_t w = B - k < 16 ? (size_t)(B - k) : 16;
            vf16 acc = VF(0);
            for (int i = 0; i < N; i++) {
                const size_t o = (size_t)i * L + k;
                const vf16 a = a_shared ? VF(A[i]) : vld_m(A + o, w);
                const vf16 d = al * (vld_m(X + o, w) - (vld_m(P + o, w) + a));
                vst_m(R + o, d, w);
                acc = vfma(d, d, acc);
            }
            for (size_t l = 0; l < w; l++) q[k + l] = 0.5 * (double)acc[l];
        }
        gemm_cm_f(B, N, N, R, ld, s->WhT_f, N, P, ld); /* P ← d J */
        for (size_t e = 0; e < n; e += 16) {
            const size_t w = n - e < 16 ? n - e : 16;
            vst_m(G + e, al * (vld_m(R + e, w) - vld_m(P + e, w) * vld_m(dPhi + e, w)), w);
        }
        return;
    }
    /* the other kinds, point-major through forward + VJP: d = x − F, G = d − d ∂F/∂x */
    float *Xp = work + sl_stepmap_work(s, B), *F = Xp + (size_t)B * D, *R = F + (size_t)B * D;
    float *O = R + (size_t)B * D, *Ap = O + (size_t)B * D;
    for (int k = 0; k < B; k++) {
        for (int i = 0; i < D; i++) Xp[(size_t)k * D + i] = X[(size_t)i * L + k];
        for (int i = 0; i < GN; i++) Ap[(size_t)k * GN + i] = a_shared ? A[i] : A[(size_t)i * L + k];
    }
    sl_stepmap_forward_f(s, B, Xp, Ap, F, work);
    for (int k = 0; k < B; k++) {
        double qk = 0;
        for (int i = 0; i < D; i++) {
            const float d = Xp[(size_t)k * D + i] - F[(size_t)k * D + i];
            R[(size_t)k * D + i] = d;
            qk += (double)d * d;
        }
        q[k] = 0.5 * qk;
    }
    sl_stepmap_vjp_f(s, B, Xp, R, O, work);
    for (int k = 0; k < B; k++)
        for (int i = 0; i < D; i++) G[(size_t)i * L + k] = R[(size_t)k * D + i] - O[(size_t)k * D + i];
}

sl_status sl_stepmap_jacobian(const sl_stepmap *s, const double *x, const double *a, double *F,
                              double *Jac)
{
    const int N = s->N, D = s->D, GN = s->G * N;
    const int rows = Jac && s->kind != SL_CELL_CTRNN && s->kind != SL_CELL_RNN ? D : 1;
    double *X = malloc((size_t)rows * D * sizeof(double)), *R = calloc((size_t)rows * D, sizeof(double));
    double *F1 = malloc((size_t)D * sizeof(double)), *w = malloc(sl_stepmap_work(s, rows) * sizeof(double));
    if (!X || !R || !F1 || !w) {
        free(X), free(R), free(F1), free(w);
        return sl_fail(SL_ENOMEM, "step map: out of memory for a %d×%d Jacobian", D, D);
    }
    sl_stepmap_forward_d(s, 1, x, a, F1, w); /* traces of the one row at w + GN (5N) */
    if (F) memcpy(F, F1, D * sizeof(double));
    const double *tr = w + GN;
    if (Jac && s->kind == SL_CELL_CTRNN) { /* (1−α) I + α J diag φ'(x) */
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                Jac[(size_t)i * N + j] = (i == j) * (1 - s->alpha) + s->alpha * s->Wh[(size_t)i * N + j] * tr[j];
    } else if (Jac && s->kind == SL_CELL_RNN) { /* diag f'(p) W_hh */
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) Jac[(size_t)i * N + j] = tr[i] * s->Wh[(size_t)i * N + j];
    } else if (Jac) { /* the VJPs of the D unit vectors at D copies of the row */
        double *Tr = w + (size_t)D * GN;
        memmove(Tr, tr, 5 * (size_t)N * sizeof(double));
        for (int k = 0; k < D; k++) {
            memcpy(X + (size_t)k * D, x, D * sizeof(double));
            if (k) memcpy(Tr + (size_t)k * 5 * N, Tr, 5 * (size_t)N * sizeof(double));
            R[(size_t)k * D + k] = 1;
        }
        sl_stepmap_vjp_d(s, D, X, R, Jac, w); /* row i = e_i ∂F/∂x = ∂F_i/∂x */
    }
    free(X), free(R), free(F1), free(w);
    return SL_OK;
}

sl_status sl_model_state_trajectories(const sl_model *m, const sl_real *u, int B, int T, double *X)
{
    sl_stepmap *s;
    sl_status st = sl_stepmap_create(m, &s);
    if (st) return st;
    const int D = s->D, GN = s->G * s->N, NI = s->n_in;
    double *x = calloc((size_t)B * D, sizeof(double)), *A = malloc((size_t)B * GN * sizeof(double));
    double *F = malloc((size_t)B * D * sizeof(double)), *ub = malloc((size_t)NI * sizeof(double));
    double *w = malloc(sl_stepmap_work(s, B) * sizeof(double));
    if (!x || !A || !F || !ub || !w) {
        st = sl_fail(SL_ENOMEM, "state trajectories: out of memory (B %d, T %d)", B, T);
        goto done;
    }
    const sl_param_info *px0 = sl_model_find(m, "x0"); /* the CT-RNN's learned x₀ */
    if (px0 && s->kind == SL_CELL_CTRNN) {
        const sl_real *x0 = sl_model_params((sl_model *)m) + px0->offset;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < D; i++) x[(size_t)b * D + i] = x0[i];
    }
    for (int t = 0; t < T; t++) {
        for (int b = 0; b < B; b++) {
            const sl_real *ut = u + ((size_t)b * T + t) * NI;
            for (int k = 0; k < NI; k++) ub[k] = ut[k];
            sl_stepmap_drive(s, ub, A + (size_t)b * GN);
        }
        sl_stepmap_forward_d(s, B, x, A, F, w);
        for (int b = 0; b < B; b++) {
            memcpy(X + ((size_t)b * T + t) * D, F + (size_t)b * D, D * sizeof(double));
            memcpy(x + (size_t)b * D, F + (size_t)b * D, D * sizeof(double));
        }
    }
done:
    free(x), free(A), free(F), free(ub), free(w);
    sl_stepmap_free(s);
    return st;
}
