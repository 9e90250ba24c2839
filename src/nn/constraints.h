/* constraints.h — brain-like constraints and regularisers as standalone
 * building blocks on flat, row-major weight matrices (see constraints.c for
 * the equations, sources and the definitions chosen).
 *
 * Layout convention: a weight matrix W is rows × cols with row = postsynaptic
 * unit and column = presynaptic unit (PsychRNN's W_rec[N_rec, N_rec], the
 * CT-RNN's J), so a Dale sign belongs to a column. Gradients are ACCUMULATED
 * (+=) into the caller's buffers unless a function says otherwise; a NULL
 * gradient pointer means "value only". Masks are sl_real arrays of the
 * weight's shape (0 = absent synapse). */
#ifndef SL_NN_CONSTRAINTS_H
#define SL_NN_CONSTRAINTS_H

#include "silico.h"

/* ------------------------------------------------------------------ masks */

/* M_ij ~ Bernoulli(p) (1 kept, 0 absent), drawn row by row from rng; with
 * no_autapses (needs rows == cols) the diagonal is 0. */
sl_status sl_mask_random(sl_real *M, int rows, int cols, double p, int no_autapses, sl_rng *rng);

/* M_ii = 0 (n × n). */
void sl_mask_no_autapses(sl_real *M, int n);

/* Multi-area mask over N = Σ sizes units (areas are consecutive blocks of
 * units, area a first). M[post, pre] = 1 when post and pre are in the same
 * area, or when adj[to·n_areas + from] != 0 for post ∈ to, pre ∈ from; else 0.
 * adj may be NULL (areas disconnected: block-diagonal). The diagonal of adj
 * is ignored (within-area is always dense). Writes N to *n_out if non-NULL. */
sl_status sl_mask_areas(sl_real *M, int n_areas, const int *sizes, const unsigned char *adj,
                        int no_autapses, int *n_out);

/* A feedforward chain adjacency for sl_mask_areas: a → a+1, and with
 * feedback also a+1 → a. adj is n_areas × n_areas (to, from). */
sl_status sl_area_chain(int n_areas, int feedback, unsigned char *adj);

/* Load a rows × cols mask from a .npy file (any numeric dtype sl_npy_read
 * reads: f4, f8, i4, i8, u1 — numpy bool arrays must be saved as u1/f4).
 * Entries must be finite and 0/1, or, with allow_weights, any value ≥ 0.
 * Errors (SL_EINVAL / SL_EFORMAT / SL_EIO) name the file, the shape expected
 * and the first offending entry. */
sl_status sl_mask_load_npy(const char *path, int rows, int cols, int allow_weights, sl_real *M);

/* W_i = 0 wherever M_i == 0 (re-applying a mask; weights kept as they are
 * where M != 0, so a weighted mask is not compounded). */
void sl_mask_project(sl_real *W, const sl_real *M, size_t n);

/* ------------------------------------------------------------ Dale's law */

/* sign_j = +1 for the first ⌊frac_exc·n⌋ units (excitatory), −1 after
 * (PsychRNN's dale_ratio). *n_exc (if non-NULL) gets the count. */
sl_status sl_dale_signs(sl_real *sign, int n, double frac_exc, int *n_exc);

/* (a) reparameterisation (PsychRNN): W_eff = |W ⊙ M| · diag(sign).
 * M NULL = all ones, sign NULL = all +1 (PsychRNN's W_in^eff = |W_in ⊙ M|);
 * sign may hold 0 (PsychRNN's Dale_out: inhibitory units do not project). */
void sl_dale_reparam(const sl_real *W, const sl_real *M, const sl_real *sign, int rows, int cols,
                     sl_real *W_eff);
/* dW += sgn(W) ⊙ M ⊙ (dW_eff · diag(sign)), sgn(0) = 0. */
void sl_dale_reparam_backward(const sl_real *W, const sl_real *M, const sl_real *sign, int rows,
                              int cols, const sl_real *dW_eff, sl_real *dW);

/* (b) projection (nn4n): after an optimiser step, W_ij ← max(W_ij, 0) in
 * columns with sign_j > 0, min(W_ij, 0) where sign_j < 0, 0 where sign_j == 0;
 * then W_ij ← 0 where M_ij == 0 (M may be NULL). */
void sl_dale_project(sl_real *W, const sl_real *M, const sl_real *sign, int rows, int cols);

/* (c) DANN dense layer (Cornford et al. 2021):
 *     z_I = W_IE x,   h = W_EE x − W_EI z_I + b = (W_EE − W_EI W_IE) x + b,
 * W_EE, W_IE, W_EI ≥ 0. The struct holds views (parameters, or gradients in a
 * parallel layout). Batch-major: x is B × n_in, z_I is B × n_i, h is B × n_e. */
typedef struct {
    int n_in, n_e, n_i;
    sl_real *W_EE; /* n_e × n_in   (DANN code: Wex) */
    sl_real *W_IE; /* n_i × n_in   (Wix) */
    sl_real *W_EI; /* n_e × n_i    (Wei) */
    sl_real *b;    /* n_e */
} sl_dann;

/* EiDenseWeightInit_WexMean: W_EE ~ Exp(scale σ), σ = √(2·n_e / (n_in·(n_e−1)))
 * (√(2/n_in) when n_e = 1; numerator 2 = He, pass 0 for the default);
 * W_EI ~ Exp(σ) with rows normalised to sum 1; every row of W_IE = the mean
 * row of W_EE; b = 0. Then E[h] = 0 per input: the layer starts balanced. */
sl_status sl_dann_init(sl_dann *p, double numerator, sl_rng *rng);
/* z_I (B × n_i, kept for backward) and h (B × n_e). */
void sl_dann_forward(const sl_dann *p, const sl_real *x, int B, sl_real *z_I, sl_real *h);
/* Given dh (B × n_e): g->W_EE += dhᵀx, g->W_EI −= dhᵀz_I, g->W_IE += dz_Iᵀx
 * with dz_I = −dh·W_EI, g->b += Σ_b dh; dx (B × n_in, may be NULL) is SET to
 * dh·W_EE + dz_I·W_IE. scratch: B × n_i reals. g's dims must equal p's. */
void sl_dann_backward(const sl_dann *p, const sl_real *x, const sl_real *z_I, const sl_real *dh,
                      int B, sl_dann *g, sl_real *dx, sl_real *scratch);
/* cSGD gradient corrections (in place): ∇W_IE /= √n_e, ∇W_EI /= n_in. */
void sl_dann_csgd_scale(sl_dann *g);
/* Clamp W_EE, W_IE, W_EI at 0 (b is free). */
void sl_dann_clamp(sl_dann *p);
/* One corrected SGD step: scale g (cSGD, g is modified), p −= lr·g, clamp. */
void sl_dann_csgd_step(sl_dann *p, sl_dann *g, double lr);

/* -------------------------------------------- plasticity (freeze) masks */

/* g_i ← g_i · P_i (P_i = 0 freezes entry i; nn4n also allows other scales). */
void sl_grad_mask(sl_real *g, const sl_real *P, size_t n);
/* Zero Adam's first and second moments at the frozen entries (P_i == 0) of
 * the parameter range [offset, offset + n). Needed once when an entry that
 * was trained is frozen later (see constraints.c). */
void sl_adam_freeze(sl_adam *a, size_t offset, const sl_real *P, size_t n);

/* ------------------------------------------------------------ invariants */
/* Each returns SL_OK, or SL_EINVAL with a message naming the matrix, the
 * first violating (row, col), the value and the rule broken. */

/* W_ij == 0 wherever M_ij == 0. */
sl_status sl_check_mask(const char *name, const sl_real *W, const sl_real *M, int rows, int cols);
/* Column signs: W_ij ≥ 0 if sign_j > 0, ≤ 0 if sign_j < 0, == 0 if sign_j == 0. */
sl_status sl_check_dale(const char *name, const sl_real *W, const sl_real *sign, int rows, int cols);
/* W_ij ≥ 0 everywhere (DANN's parameters). */
sl_status sl_check_nonneg(const char *name, const sl_real *W, int rows, int cols);
/* Bit-identical to ref wherever P_ij == 0. */
sl_status sl_check_frozen(const char *name, const sl_real *W, const sl_real *ref, const sl_real *P,
                          int rows, int cols);

/* -------------------------------------------------------------- penalties */
/* Each returns the penalty and (if grad) accumulates its gradient. */

/* λ Σ|W_i| (mean: λ/n Σ|W_i|, PsychRNN's L1_rec); ∂ = λ sgn(W) (/n), sgn(0) = 0. */
double sl_penalty_l1(const sl_real *W, size_t n, double lambda, int mean, sl_real *grad);
/* λ Σ W_i² (mean: λ/n Σ W_i², PsychRNN's L2_rec); ∂ = 2λW (/n). */
double sl_penalty_l2(const sl_real *W, size_t n, double lambda, int mean, sl_real *grad);
/* Rate penalties on a T × B × N array (any layout: the mean is over all):
 * λ·mean|r| and λ·mean r² (PsychRNN's L2_firing_rate). */
double sl_penalty_rate_l1(const sl_real *r, int T, int B, int N, double lambda, sl_real *grad);
double sl_penalty_rate_l2(const sl_real *r, int T, int B, int N, double lambda, sl_real *grad);
/* The coursework's activation norm (its eq. 9): β · (1/(T·B)) Σ_{t,b} ‖h_{t,b,:}‖₂,
 * the Euclidean norm over the N units of each step and batch row, averaged
 * over steps and rows. ∂/∂h_{t,b} = β/(T·B) · h_{t,b}/‖h_{t,b}‖ (0 if ‖h‖ = 0). */
double sl_penalty_act_norm(const sl_real *h, int T, int B, int N, double beta, sl_real *grad);

/* ------------------------------------------------ clipping and schedules */

/* g_i ← clamp(g_i, −c, c) (c > 0; NaN stays NaN, as torch's clamp). Returns
 * the number of entries clipped. */
size_t sl_clip_grad_value(sl_real *g, size_t n, double c);

/* Step decay (torch.optim.lr_scheduler.StepLR): after k calls of
 * sl_step_lr_step, lr = lr0 · γ^⌊k/step_size⌋. */
typedef struct {
    double lr0, gamma, lr;
    long step_size, epoch;
} sl_step_lr;
sl_status sl_step_lr_init(sl_step_lr *s, double lr0, long step_size, double gamma);
double sl_step_lr_step(sl_step_lr *s); /* advance one epoch; the new lr */

/* Reduce-on-plateau (torch.optim.lr_scheduler.ReduceLROnPlateau). Change
 * the optional settings (threshold_abs, mode_max, cooldown, eps) after
 * sl_plateau_init and before the first sl_plateau_step. */
typedef struct {
    /* settings (sl_plateau_init sets torch's defaults for the optional ones) */
    double factor;     /* lr ← max(lr·factor, min_lr); 0 < factor < 1 (0.1) */
    int patience;      /* bad epochs tolerated before a reduction (10) */
    double threshold;  /* improvement needed to count as better (1e-4) */
    int threshold_abs; /* 0: relative ('rel'), 1: absolute ('abs') */
    int mode_max;      /* 0: 'min' (lower is better), 1: 'max' */
    int cooldown;      /* epochs after a reduction during which bad epochs are not counted (0) */
    double min_lr;     /* (0) */
    double eps;        /* reductions smaller than eps are skipped (1e-8) */
    /* state */
    double lr, best;
    int num_bad_epochs, cooldown_counter, n_reductions;
    long epoch;
} sl_plateau;
sl_status sl_plateau_init(sl_plateau *p, double lr, double factor, int patience, double threshold,
                          double min_lr);
double sl_plateau_step(sl_plateau *p, double metric); /* the lr after this epoch */

#endif
