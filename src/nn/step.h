/* step.h — the one-step map x_{t+1} = F(x_t, u) of any model kind from
 * arbitrary states, with its vector–Jacobian product and its Jacobian: what
 * fixed-point analysis (src/analysis/fixedpoints.c) and any other analysis
 * that linearises a trained network need. src/nn/step.c has the equations.
 *
 * The state x is what the recurrence carries: the CT-RNN's x (not φ(x)), a
 * cell's h, the LSTM's (h, c) concatenated (D = 2N). The input u enters only
 * through its drive a = a(u) (G·N values, G = the gate count: ctrnn/rnn 1,
 * lightgru 2, gru 3, lstm 4), computed once per input; F is then a function
 * of (x, a). The map uses the model's effective weights (Dale, masks, ENU
 * masks) copied at create, the light GRU's batch norm in evaluation mode, and
 * no noise. Batched calls work on B rows (row-major B×D states, B×G·N
 * drives), in float32 (the search) or float64 (Newton steps, Jacobians). */
#ifndef SL_NN_STEP_H
#define SL_NN_STEP_H

#include "silico.h"

typedef struct sl_stepmap sl_stepmap;

/* Copy the model's effective weights (float64 and float32). */
sl_status sl_stepmap_create(const sl_model *m, sl_stepmap **out);
void sl_stepmap_free(sl_stepmap *s);

int sl_stepmap_dim(const sl_stepmap *s);       /* D */
int sl_stepmap_drive_dim(const sl_stepmap *s); /* G·N */
int sl_stepmap_n_in(const sl_stepmap *s);
/* CT-RNN: α = dt/τ (F is the Euler step, continuous-time eigenvalues are
 * (λ − 1)/α); 0 for the discrete cells */
double sl_stepmap_alpha(const sl_stepmap *s);
/* scratch reals needed by forward + vjp on B rows (either precision) */
size_t sl_stepmap_work(const sl_stepmap *s, int B);

/* a(u): n_in inputs → G·N drive (float64) */
void sl_stepmap_drive(const sl_stepmap *s, const double *u, double *a);

/* F(X) for B rows; keeps what vjp needs in work (which vjp must get unchanged,
 * with the same X). */
void sl_stepmap_forward_d(const sl_stepmap *s, int B, const double *X, const double *A, double *F,
                          double *work);
void sl_stepmap_forward_f(const sl_stepmap *s, int B, const float *X, const float *A, float *F,
                          float *work);
/* out_k = R_k ∂F/∂x at X_k (row vectors) after forward on the same rows */
void sl_stepmap_vjp_d(const sl_stepmap *s, int B, const double *X, const double *R, double *out,
                      double *work);
void sl_stepmap_vjp_f(const sl_stepmap *s, int B, const float *X, const float *R, float *out,
                      float *work);

/* The fixed-point search's per-iteration quantities for B points (float32):
 * q_k = ½‖d_k‖² (CT-RNN: summed in float32, as torch; the others in
 * float64) with d = x − F(x, a), and its gradient
 * G_k = d_k − d_k ∂F/∂x, on a feature-major tile: X[i·ld + k] is unit i of
 * point k (B ≤ ld), G likewise; A the drives in the same layout (G·N rows),
 * or with a_shared one drive of G·N values for every point. CT-RNN: fused
 * (φ, two column-major GEMMs whose B rows are the vector lanes, q, G); the
 * other kinds through forward + VJP. work: sl_stepmap_qgrad_work(s, ld) floats. */
size_t sl_stepmap_qgrad_work(const sl_stepmap *s, int ld);
void sl_stepmap_qgrad_f(const sl_stepmap *s, int B, int ld, const float *X, const float *A,
                        int a_shared, double *q, float *G, float *work);

/* F(x) and the D×D Jacobian Jac[i][j] = ∂F_i/∂x_j at one state (float64;
 * F or Jac may be NULL). SL_ENOMEM only. */
sl_status sl_stepmap_jacobian(const sl_stepmap *s, const double *x, const double *a, double *F,
                              double *Jac);

#endif
