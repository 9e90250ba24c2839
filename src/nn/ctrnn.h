/* ctrnn.h — internal view of the CT-RNN model and its workspace, shared by
 * src/nn/ and src/train/ (the public API keeps both opaque). */
#ifndef SL_NN_CTRNN_H
#define SL_NN_CTRNN_H

#include "silico.h"

struct sl_model {
    sl_ctrnn_spec spec;
    size_t n_params;
    sl_real *params, *grads; /* one buffer each, parallel layouts */
    int n_tensors;
    sl_param_info info[6];  /* J, B, b, W, c, [x0] */
    sl_real *J, *Bm, *b, *W, *c, *x0; /* views into params (x0 NULL unless learned) */
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
};

/* A model with zeroed parameters (for loading). */
sl_status sl_model_alloc(const sl_ctrnn_spec *spec, sl_model **out);
/* Forward/backward on the buffers already in ws (U in, DZ in). */
sl_status sl_ctrnn_forward_tm(sl_model *m, sl_workspace *ws, int B, int T, sl_rng *noise);
sl_status sl_ctrnn_backward_tm(sl_model *m, sl_workspace *ws, double rate_coef);

#endif
