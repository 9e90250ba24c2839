/* loss.h — the output losses on time-major network outputs (as the cells
 * keep them) against a batch-major sl_batch, used by every model's
 * sl_model_loss. */
#ifndef SL_NN_LOSS_H
#define SL_NN_LOSS_H

#include "silico.h"

/* Masked MSE: Σ m·(z−y)² / Σ m. Z, DZ: T×B×n_out (time-major); DZ = ∂L/∂Z. */
double sl_loss_mse_tm(const sl_real *Z, const sl_batch *b, sl_real *DZ);

/* Softmax cross-entropy over n_out classes at every step, PyTorch's weighted
 * mean: L = Σ m_{bt} w_{y} (logsumexp(z) − z_y) / Σ m_{bt} w_{y}, with y the
 * label, m the per-step mask and w the class weights (NULL = 1). Steps with a
 * negative label are skipped. DZ = ∂L/∂Z. */
double sl_loss_ce_tm(const sl_real *Z, const sl_batch *b, const double *class_w, sl_real *DZ);

#endif
