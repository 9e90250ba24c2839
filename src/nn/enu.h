/* enu.h — the embedded-neural-unit (ENU) input stage (the coursework's
 * eqs. 3–6 and 15–17; Poirazi et al. 2003's "pyramidal neuron as a two-layer
 * network").
 *
 * Each of the N recurrent units gets its own k-dimensional ReLU embedding of
 * the input:
 *     e_t = ReLU(W_e x_t + b_e),   W_e: (N·k)×n_in,  b_e: N·k       (eq. 15)
 * with block i of e (entries i·k … i·k+k−1) belonging to unit i. The cell
 * then reads e_t instead of x_t through input matrices that are block-
 * diagonal (eqs. 6, 16, 17): W = Ŵ ⊙ M with M the 0/1 mask
 *     M[g·N + i][i·k + c] = 1   (gate g < G, unit i < N, c < k), else 0,
 * so unit i's gates read only its own embedding.
 *
 * How a model builds an ENU-cell (e.g. the coursework's ENU-light-GRU):
 *   parameters  "enu.weight" (N·k×n_in), "enu.bias" (N·k) — nn.Linear names
 *               under an `enu` module — then the cell's own, created with
 *               n_in = N·k (light-GRU: W_z, W_h both N×N·k);
 *   mask        sl_enu_block_mask(1, N, k, M) once per N×N·k matrix (W_z and
 *               W_h separately; G = 3 for a GRU's stacked weight_ih, 4 for an
 *               LSTM's). Multiply the masked matrices by M after init
 *               (sl_enu_mask_apply), and multiply their gradients by M after
 *               every backward: the zeros then stay exactly zero under SGD
 *               and Adam (zero gradient ⇒ zero moments ⇒ zero step), which
 *               is the forward with W = Ŵ ⊙ M and the exact gradient M ⊙ ∂W.
 *   forward     E = sl_enu_forward(U) over all T·B rows (one GEMM), then the
 *               cell's forward on E (T×B×N·k).
 *   backward    the cell's backward with dU = dE (T×B×N·k), then
 *               sl_enu_backward(dE) for ∂W_e, ∂b_e (and ∂U if wanted).
 *   workspace   E and dE: 2·T·B·N·k reals beside the cell's.
 * Init: W_e, b_e as nn.Linear's default, U(±1/√n_in) (sl_enu_init). The
 * masked cell matrices keep the cell's own init (for the light-GRU
 * U(±1/√(N·k)), nn.Linear's default for the full fan-in, as the coursework's
 * Ŵ ⊙ W_rec has it).
 *
 * Layout: rows are the T·B time-major rows, each a contiguous vector. */
#ifndef SL_NN_ENU_H
#define SL_NN_ENU_H

#include <stddef.h>

#include "silico.h"

typedef struct {
    int n_in;    /* input size */
    int n_units; /* N, the recurrent units */
    int k;       /* embedding size per unit */
} sl_enu_dims;

/* N·k: the embedding's width (the cell's n_in). */
static inline int sl_enu_width(const sl_enu_dims *e) { return e->n_units * e->k; }

/* W_e, b_e ~ U(±1/√n_in) (nn.Linear's default), W_e drawn first. */
void sl_enu_init(const sl_enu_dims *e, sl_real *W_e, sl_real *b_e, sl_rng *rng);

/* E (rows×N·k) = ReLU(U W_eᵀ + b_e) for U (rows×n_in). */
void sl_enu_forward(const sl_enu_dims *e, const sl_real *W_e, const sl_real *b_e,
                    const sl_real *U, int rows, sl_real *E);

/* With E from the forward and dE = ∂L/∂E (overwritten: becomes ∂L/∂(pre-ReLU)):
 * ADDS ∂L/∂W_e into gW_e and ∂L/∂b_e into gb_e; writes ∂L/∂U into dU
 * (rows×n_in) when dU is not NULL. */
void sl_enu_backward(const sl_enu_dims *e, const sl_real *W_e, const sl_real *U, int rows,
                     const sl_real *E, sl_real *dE, sl_real *gW_e, sl_real *gb_e, sl_real *dU);

/* M ((G·N)×(N·k), row-major) = the block-diagonal 0/1 mask above. */
void sl_enu_block_mask(int G, int N, int k, sl_real *M);

/* W[i] *= M[i] for n entries (a weight after init, or its gradient). */
void sl_enu_mask_apply(size_t n, sl_real *W, const sl_real *M);

#endif
