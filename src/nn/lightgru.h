/* lightgru.h — the light-GRU cell (sl_cell_lightgru, see cell.h) and the
 * initialisers a model building one needs beyond the cell's own init. */
#ifndef SL_NN_LIGHTGRU_H
#define SL_NN_LIGHTGRU_H

#include "nn/cell.h"

/* Tensor indices of sl_cell_lightgru (p[i], g[i]): parameters, then buffers. */
enum {
    SL_LGRU_W_Z = 0,   /* "W_z"             N×n_in */
    SL_LGRU_W_H,       /* "W_h"             N×n_in */
    SL_LGRU_U_Z,       /* "U_z"             N×N    */
    SL_LGRU_U_H,       /* "U_h"             N×N    */
    SL_LGRU_BNZ_W,     /* "bn_z.weight"     N (γ_z) */
    SL_LGRU_BNZ_B,     /* "bn_z.bias"       N (β_z) */
    SL_LGRU_BNH_W,     /* "bn_h.weight"     N (γ_h) */
    SL_LGRU_BNH_B,     /* "bn_h.bias"       N (β_h) */
    SL_LGRU_BNZ_MEAN,  /* "bn_z.running_mean" N (buffer) */
    SL_LGRU_BNZ_VAR,   /* "bn_z.running_var"  N (buffer) */
    SL_LGRU_BNH_MEAN,  /* "bn_h.running_mean" N (buffer) */
    SL_LGRU_BNH_VAR,   /* "bn_h.running_var"  N (buffer) */
    SL_LGRU_N_PARAMS = SL_LGRU_BNZ_MEAN,
    SL_LGRU_N_TENSORS = SL_LGRU_BNH_VAR + 1
};

/* The E/I-light-GRU's U_h (bench W2, the coursework's eq. 18): magnitudes
 * U(0, 1/√N), the excitatory columns j < n_exc scaled by (N − n_exc)/n_exc so
 * the mean excitatory and inhibitory drive onto each unit cancel. The model
 * then uses |U_h| ⊙ M (M: +1 excitatory columns, −1 inhibitory, 0 diagonal),
 * which is the Dale reparameterisation's business, not the cell's. */
void sl_lightgru_init_uh_ei(int N, int n_exc, sl_real *U_h, sl_rng *rng);

/* Q (n×n, row-major) = a random orthogonal matrix as torch.nn.init.orthogonal_
 * draws it: the QR factors of a N(0,1) matrix (LAPACKE ?geqrf/?orgqr), Q's
 * columns multiplied by the signs of R's diagonal. tau, sgn: n reals of
 * scratch each. Falls back to modified Gram–Schmidt if LAPACK fails. */
void sl_init_orthogonal(int n, sl_real *Q, sl_real *tau, sl_real *sgn, sl_rng *rng);

#endif
