/* ctrnn.h — internal view of the model and its workspace, shared by src/nn/
 * and src/train/ (the public API keeps both opaque). One struct for every
 * kind: the CT-RNN (cell == NULL, src/nn/ctrnn.c, its own fast path) and the
 * cell models (cell != NULL, src/nn/model.c). */
#ifndef SL_NN_CTRNN_H
#define SL_NN_CTRNN_H

#include "nn/cell.h"
#include "nn/constraints.h"
#include "silico.h"

#define SL_MODEL_MAX_TENSORS 16
#define SL_MODEL_MAX_BUFFERS 8

struct sl_model {
    sl_model_spec spec;
    size_t n_params;
    sl_real *params, *grads; /* one buffer each, parallel layouts */
    int n_tensors;
    sl_param_info info[SL_MODEL_MAX_TENSORS]; /* CT-RNN: J, B, b, W, c, [x0]; cells: cell's, W, c */
    sl_real *J, *Bm, *b, *W, *c, *x0; /* views into params (x0 NULL unless learned; cells: W, c only) */
    /* cell models only (cell NULL for the CT-RNN) */
    const sl_cell_ops *cell;
    sl_cell_dims dims;
    int n_buffers;
    size_t n_bufvals;
    sl_param_info binfo[SL_MODEL_MAX_BUFFERS];
    sl_real *bufs;                       /* non-trainable buffers (batch-norm running stats) */
    sl_real *p[SL_MODEL_MAX_TENSORS + SL_MODEL_MAX_BUFFERS]; /* cell tensors, then buffers */
    sl_real *g[SL_MODEL_MAX_TENSORS];    /* gradients of the cell tensors */
    unsigned l2bit[SL_MODEL_MAX_TENSORS]; /* SL_L2_J/B/W group of tensor i (0: never penalised) */
    /* cell models: the ENU stage and the effective weights (src/nn/model.c) */
    int n_pre;                           /* tensors before the cell's (2 with ENU, else 0) */
    sl_real *enu_W, *enu_b;              /* views (NULL without ENU) */
    sl_real *pc[SL_MODEL_MAX_TENSORS + SL_MODEL_MAX_BUFFERS]; /* what the cell reads: p or eff */
    sl_real *gc[SL_MODEL_MAX_TENSORS];   /* where the cell's backward adds: g or gs */
    int effk[SL_MODEL_MAX_TENSORS];      /* cell tensor i: 0 as is, 1 W ⊙ M, 2 |W ⊙ M|·sign */
    sl_real *mask[SL_MODEL_MAX_TENSORS]; /* M of cell tensor i, or NULL */
    sl_real *eff[SL_MODEL_MAX_TENSORS], *gs[SL_MODEL_MAX_TENSORS]; /* effective W, ∂L/∂W_eff */
    int dale_t;                          /* the cell tensor under Dale's law, or −1 */
    sl_real *sign;                       /* N Dale signs (NULL when off) */
    int n_exc;
    sl_real *cblob;                      /* one allocation for masks, eff, gs, sign */
    /* feedback alignment (sl_model_set_feedback): fixed matrices the backward
     * uses in place of W (n_out×N) and of the recurrent matrix (J; rnn:
     * weight_hh); NULL = exact BPTT */
    sl_real *fa_W, *fa_R;
    /* the fixed connectivity mask of the recurrent matrix (spec.rec_mask's copy,
     * N×N), or NULL; the CT-RNN keeps J ⊙ M = J and masks ∂J */
    sl_real *rec_mask;
    /* ctrnn Dale reparam: J_eff = |J ⊙ M|·diag(sign), rebuilt before each forward, and
     * ∂L/∂J_eff before it is mapped onto ∂J (N×N each, in cblob; NULL otherwise) */
    sl_real *Jeff, *gJeff;
    /* the plasticity mask of the recurrent matrix (spec.plastic_mask's copy, N×N: 0 =
     * frozen), or NULL; sl_model_mask_frozen zeroes the frozen entries' gradients */
    sl_real *plastic;
};

/* Time-major buffers (but U), all carved from one arena sized for (Bmax, Tmax). */
struct sl_workspace {
    int Bmax, Tmax, B, T, N;
    sl_arena *arena;
    sl_real *X, *R; /* (T+1)×B×N states and rates, x_0 first */
    sl_real *D;     /* T×B×N: ∂L/∂r_{t+1} from the readout (generic backward only) */
    sl_real *G;     /* T×B×N: ∂L/∂x_k, k = 1..T */
    sl_real *U;     /* B×T×n_in inputs, batch-major as the caller's */
    sl_real *Z;     /* T×B×n_out outputs */
    sl_real *DZ;    /* T×B×n_out ∂L/∂z */
    sl_real *tmp;   /* B×N */
    sl_real *Jt;    /* N×N: Jᵀ, refreshed by each forward (the per-step GEMM is then NN) */
    sl_real *Bt;    /* n_in×N: Bᵀ, likewise */
    sl_real *accJ, *accB; /* N×N, N×n_in: Σ_k g_kᵀ r_{k−1}, Σ_k g_kᵀ u_{k−1} when summed per step */
    /* cell models (X, R, D, G, Jt, Bt, acc*, tmp unused; U is then time-major T×B×n_in) */
    const sl_cell_ops *cell;
    int training;   /* the mode of the last forward (batch norm), for backward */
    sl_real *H, *dH; /* T×B×N hidden outputs and ∂L/∂H */
    sl_real *cws;   /* the cell's scratch (cell->ws_size) */
    sl_real *E, *dE; /* ENU: T×B×N·k embeddings and ∂L/∂E (NULL without ENU) */
};

/* A model with zeroed parameters (for loading). */
sl_status sl_model_alloc(const sl_model_spec *spec, sl_model **out);

/* model.c: the cell models behind the public sl_model_* calls (ctrnn.c
 * dispatches to these when spec.cell != SL_CELL_CTRNN / m->cell != NULL). */
const sl_cell_ops *sl_cell_ops_of(sl_cell_kind k); /* NULL for the CT-RNN */
sl_status sl_cellnet_alloc(const sl_model_spec *spec, sl_model **out);
void sl_cellnet_init(sl_model *m, sl_rng *rng);
sl_status sl_cellnet_workspace(const sl_model *m, int batch, int T, sl_workspace **out);
sl_status sl_cellnet_forward(sl_model *m, sl_workspace *ws, const sl_real *u, int B, int T,
                             sl_rng *noise, sl_real *z);
void sl_cellnet_states(const sl_workspace *ws, sl_real *x, sl_real *r);
sl_status sl_cellnet_backward(sl_model *m, sl_workspace *ws, const sl_real *dz, double rate_coef);
sl_status sl_cellnet_loss(sl_model *m, sl_workspace *ws, const sl_batch *batch,
                          const sl_loss_spec *spec, sl_rng *noise, int backward,
                          sl_loss_terms *out, sl_real *z_out);
/* Feedback alignment's error signals over rows of DZ (rows×NO): adds
 * Σ⟨dz·Bfa, dz·W⟩, Σ‖dz·Bfa‖², Σ‖dz·W‖² into acc[0..2] (Gram matrices of
 * the n_out rows: O(rows·NO²)). */
void sl_fa_accumulate(const sl_real *DZ, size_t rows, int NO, int N, const sl_real *W,
                      const sl_real *Bfa, double acc[3]);
/* Zero the gradient of every entry the plasticity mask freezes (ctrnn: J;
 * cells: the recurrent matrix, each gate block). Called at the end of every
 * backward, and by the trainer after gradients added outside the model (the
 * wiring cost). */
void sl_model_mask_frozen(sl_model *m);
/* ctrnn Dale mode dann: J, J_IE, J_EI of buf (params or grads) as an sl_dann
 * view (n_in = n_e = N; b unused, NULL) */
sl_dann sl_ctrnn_dann_view(const sl_model *m, sl_real *buf);
/* the J the ctrnn's forward uses (N×N into out): |J ⊙ M|·diag(sign) (reparam),
 * J − J_EI·J_IE (dann), else J */
void sl_ctrnn_effective_J(const sl_model *m, sl_real *out);

/* batch-major (B×T×C) ⇄ time-major (T×B×C) copies (src/nn/ctrnn.c). */
void sl_to_time_major(const sl_real *src, sl_real *dst, int B, int T, int C);
void sl_to_batch_major(const sl_real *src, sl_real *dst, int B, int T, int C);
/* The weight penalty λ Σ M² of tensor k of m, its gradient 2λM added to
 * m's grads when backward (both sl_model_loss paths). */
double sl_model_weight_l2(sl_model *m, int k, double lambda, int backward);
/* Copy an N×N mask given in a spec (NULL stays NULL); SL_ENOMEM. */
sl_status sl_mask_copy(const sl_real *src, int N, sl_real **out);
/* Forward/backward on the buffers already in ws (U in, DZ in). */
sl_status sl_ctrnn_forward_tm(sl_model *m, sl_workspace *ws, int B, int T, sl_rng *noise);
/* rate_coef: + rate_coef Σ r² (∂ 2·rate_coef·r); l1_coef: + l1_coef Σ |r| (∂ l1_coef·sgn r) */
sl_status sl_ctrnn_backward_tm(sl_model *m, sl_workspace *ws, double rate_coef, double l1_coef);

#endif
