/* cell.h — the interface every recurrent cell implements (one cell per file
 * in src/nn/: rnn.c, gru.c, lightgru.c, lstm.c; the CT-RNN in ctrnn.c predates
 * it and will move behind it).
 *
 * A cell maps an input sequence to the sequence of hidden outputs that the
 * readout reads:
 *     U (T×B×n_in, time-major)  →  H (T×B×N),  H[t] = h_{t+1}, h_0 = 0
 * and back-propagates dL/dH into its parameter gradients (and optionally into
 * dL/dU, for stacked input stages such as ENU).
 *
 * Parameters are named tensors (PyTorch's names where PyTorch has the cell,
 * so a state_dict maps one to one: weight_ih, weight_hh, bias_ih, bias_hh …),
 * each a view into the model's one flat parameter buffer; gradients are views
 * into the parallel gradient buffer. Non-trainable state (batch-norm running
 * statistics) lives in "buffers", saved with the checkpoint but never
 * touched by the optimiser.
 *
 * Performance (DESIGN.md): the input projections of all T steps are one GEMM
 * over the T·B rows; each step costs the recurrent GEMM(s) and one fused
 * elementwise pass; the weight gradients are one GEMM each over T·B rows.
 * All scratch memory comes from the caller's workspace (ws_size reals):
 * nothing is allocated in forward or backward.
 *
 * Gate traces (LSTM's input/forget/cell/output gates and cell state, GRU's
 * gates, …) are exposed by name through `record` after a forward, for the
 * activity recorder. */
#ifndef SL_NN_CELL_H
#define SL_NN_CELL_H

#include "silico.h"

typedef struct {
    int n_in, n_hidden;
    sl_activation act; /* vanilla RNN nonlinearity */
    int training;      /* batch norm: 1 = batch statistics (and update running ones), 0 = running */
    double bn_momentum;/* running = (1 − m)·running + m·batch (PyTorch, default 0.1) */
    double bn_eps;     /* default 1e-5 */
    /* recurrent noise: when noise != NULL, N(0, noise_sd²) is added to every gate's
     * pre-activation at every step (on the input projections, before the step's
     * nonlinearity; the backward needs nothing more, the gates being stored) */
    sl_rng *noise;
    double noise_sd;
} sl_cell_dims;

/* x_i += sd·ξ_i over n values when noise is on (d->noise, d->noise_sd > 0) */
static inline void sl_cell_noise(const sl_cell_dims *d, sl_real *x, size_t n)
{
    if (!d->noise || !(d->noise_sd > 0)) return;
    for (size_t i = 0; i < n; i++) x[i] += (sl_real)(d->noise_sd * sl_rng_normal(d->noise));
}

typedef struct sl_cell_ops {
    const char *name;               /* "rnn", "gru", "lightgru", "lstm" */
    int n_tensors;                  /* trainable tensors */
    int n_buffers;                  /* non-trainable tensors (0 if none) */
    /* name and shape of tensor i (i < n_tensors: parameters; then buffers) */
    void (*tensor)(const sl_cell_dims *d, int i, const char **name, int *ndim, int64_t shape[2]);
    /* initialise parameters and buffers (p[i] points at tensor i) */
    void (*init)(const sl_cell_dims *d, sl_real *const *p, sl_rng *rng);
    /* scratch reals needed for batch B and T steps (kept between forward and backward) */
    size_t (*ws_size)(const sl_cell_dims *d, int B, int T);
    /* forward; p[n_tensors + j] are the buffers (updated in training mode) */
    void (*forward)(const sl_cell_dims *d, sl_real *const *p, const sl_real *U, int B, int T,
                    sl_real *H, sl_real *ws);
    /* backward after forward with the same ws: ADDS dL/dθ into g[i]; dH may be
     * overwritten; dU (T×B×n_in) receives dL/dU when not NULL */
    void (*backward)(const sl_cell_dims *d, sl_real *const *p, sl_real *const *g, const sl_real *U,
                     int B, int T, const sl_real *H, sl_real *dH, sl_real *dU, sl_real *ws);
    /* gate traces after forward: record `which` (< n_records) as T×B×N; read
     * them before backward, which may reuse their memory in ws (gru, lstm) */
    int n_records;
    const char *const *record_names;
    void (*record)(const sl_cell_dims *d, const sl_real *ws, int B, int T, int which, sl_real *out);
} sl_cell_ops;

extern const sl_cell_ops sl_cell_rnn, sl_cell_gru, sl_cell_lightgru, sl_cell_lstm;

#endif
