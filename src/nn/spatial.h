/* spatial.h — spatially embedded RNNs (Achterberg, Akarca et al. 2023):
 * unit coordinates, distances, the wiring costs λΣ|W|⊙D and λΣ|W|⊙C⊙D with
 * weighted communicability C, and the float64 matrix exponential with its
 * Fréchet derivative they need. Equations and definitions in spatial.c. */
#ifndef SL_NN_SPATIAL_H
#define SL_NN_SPATIAL_H

#include "silico.h"

/* Units on an nx × ny × nz grid (integer coordinates), in seRNN's order
 * (np.meshgrid(arange(nx), arange(ny), arange(nz)) raveled): unit
 * k = (iy·nx + ix)·nz + iz sits at (ix, iy, iz). SL_EINVAL unless nx·ny·nz = n.
 * xyz is n × 3. */
sl_status sl_grid_coords(int nx, int ny, int nz, int n, double *xyz);

/* D_ij = ‖x_i − x_j‖₂^power (power 1 = Euclidean; seRNN's distance_power). */
void sl_distance_matrix(const double *xyz, int n, double power, double *D);

/* λ Σ_ij |W_ij| D_ij over rows × cols; grad += λ sgn(W) ⊙ D (sgn(0) = 0). */
double sl_wiring_cost(const sl_real *W, const double *D, size_t n, double lambda, sl_real *grad);

/* How node strengths are taken from |W| (n × n, row-major). */
typedef enum {
    SL_STRENGTH_ROWS = 0, /* s_i = Σ_j |W_ij|: seRNN's formula on the matrix as stored */
    SL_STRENGTH_COLS = 1  /* s_j = Σ_i |W_ij|: seRNN's result for a row = post matrix (J) */
} sl_strength;

typedef struct {
    double lambda;          /* λ (seRNN's se1) */
    double comms_power;     /* C ← C^k elementwise (seRNN's comms_factor); 0 means 1 */
    sl_strength strength;
    int c_constant;         /* 1: gradient treats C as a constant (λ sgn(W) ⊙ C ⊙ D) */
} sl_comm_spec;

/* Weighted communicability with zero diagonal: C = expm(S^−½ |W| S^−½),
 * C_ii = 0; s_i = 0 gives s_i^−½ := 0. C is n × n (float64). */
sl_status sl_communicability(const sl_real *W, int n, sl_strength strength, double *C);

/* L = λ Σ_ij |W_ij| · C_ij^k · D_ij. *loss gets L; grad (n × n, may be NULL)
 * += ∂L/∂W, exact unless spec->c_constant; C_out (may be NULL) gets C^k with
 * zero diagonal. Allocates its float64 scratch (O(n²)) per call. */
sl_status sl_comm_wiring_cost(const sl_comm_spec *spec, const sl_real *W, const double *D, int n,
                              double *loss, sl_real *grad, double *C_out);

/* E = e^A (n × n, row-major, float64): scaling and squaring with Padé
 * degree 3/5/7/9/13 (Higham 2005; Padé 13 beyond ‖A‖₁ > 2.1), LAPACKE_dgesv
 * for the rational solve. SL_ENUMERIC for non-finite A or a singular solve. */
sl_status sl_expm(const double *A, int n, double *E);

/* The Fréchet derivative L(A, H) = d/dt e^{A+tH} at t = 0, from
 * expm([[A, H], [0, A]]) = [[e^A, L(A, H)], [0, e^A]]. E (may be NULL) gets
 * e^A. Adjoint: ∂⟨G, e^A⟩/∂A = L(Aᵀ, G). */
sl_status sl_expm_frechet(const double *A, const double *H, int n, double *E, double *L);

#endif
