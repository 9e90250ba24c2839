/* spatial.c — spatially embedded RNNs (Achterberg, Akarca et al. 2023, Nat
 * Mach Intell; code 8erberg/spatially-embedded-RNN, regularisers SE1 and
 * SE1_sWc of seRNN_demo.ipynb):
 *
 *   units on a 3-D grid, D_ij = ‖x_i − x_j‖₂ (^power)
 *   SE1      L = λ Σ_ij |W_ij| D_ij                      ∂L/∂W = λ sgn(W) ⊙ D
 *   SE1_sWc  a = |W|,  s = strengths of a,  A = S^−½ a S^−½  (S = diag s),
 *            E = e^A,  C_ij = E_ij^k (i ≠ j), C_ii = 0,
 *            L = λ Σ_ij a_ij C_ij D_ij
 *
 * Strength. seRNN computes s = reduce_sum(|x|, axis=1), the ROW sums of the
 * Keras recurrent kernel x, which is stored (pre, post): h_t = f(W_in u +
 * h_{t−1}·x). So seRNN's strength of unit i is its total OUTGOING weight.
 * silico stores J row = post (J = xᵀ); since e^{(S a S)ᵀ} = (e^{S a S})ᵀ and D is
 * symmetric, seRNN's loss on x equals this file's loss on J with
 * SL_STRENGTH_COLS (column sums of |J|). SL_STRENGTH_ROWS applies the formula
 * literally to the matrix given (row sums = in-strength for a row = post
 * matrix, Crofts & Higham's s_i = Σ_j a_ij for a symmetric network). For
 * symmetric |W| the two agree. s_i = 0 (isolated unit) would give ∞ in
 * seRNN; here s_i^−½ := 0 (the unit drops out of A) and no gradient flows
 * through s_i.
 *
 * Zero diagonal: as seRNN's tf.linalg.set_diag(·, 0), C_ii = 0, so the
 * diagonal of E carries no loss and no gradient (D_ii = 0 anyway for a grid).
 *
 * Gradient (exact; spec.c_constant = 0):
 *   ∂L/∂a_ij  = λ C_ij D_ij                                   (direct)
 *   G_E       = ∂L/∂E = λ a ⊙ D ⊙ k E^{k−1}, zero diagonal
 *   G_A       = L(Aᵀ, G_E)           (adjoint of the Fréchet derivative of expm)
 *   ∂L/∂a_ij += G_A,ij d_i d_j                                (d = s^−½)
 *   ∂L/∂s_m   = −½ d_m² (Σ_j G_A,mj A_mj + Σ_i G_A,im A_im)
 *   ∂L/∂a_ij += ∂L/∂s_i (ROWS) or ∂L/∂s_j (COLS)
 *   ∂L/∂W     = sgn(W) ⊙ ∂L/∂a,  sgn(0) := 0
 * seRNN does not hold C constant: TensorFlow differentiates through
 * tf.linalg.expm (built from matmul and matrix_solve ops) and the strengths,
 * so its training gradient is this exact one. c_constant = 1 gives the cheaper
 * λ sgn(W) ⊙ C ⊙ D (C frozen at its current value) for comparison.
 *
 * expm (Higham 2005, "The scaling and squaring method for the matrix
 * exponential revisited"; as scipy.linalg.expm up to its refinements): with
 * θ₃..θ₁₃ the backward-error bounds, use Padé r_m(A) = (V − U)⁻¹(V + U)
 * for the smallest m ∈ {3,5,7,9} with ‖A‖₁ ≤ θ_m, else m = 13 on A/2^s,
 * s = ⌈log₂(‖A‖₁/θ₁₃)⌉, followed by s squarings. The solve is LAPACKE_dgesv.
 * The Fréchet derivative uses the block identity
 *   expm([[A, H], [0, A]]) = [[e^A, L(A, H)], [0, e^A]],
 * with H scaled to ‖H‖₁ = ‖A‖₁ first (L is linear in H) so that it does not
 * add squarings. All of this runs in float64 whatever sl_real is. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/spatial.h"
#include "silico.h"

/* ------------------------------------------------------------- geometry */

sl_status sl_grid_coords(int nx, int ny, int nz, int n, double *xyz)
{
    if (nx <= 0 || ny <= 0 || nz <= 0)
        return sl_fail(SL_EINVAL, "spatial grid: dimensions must be positive, got %d x %d x %d", nx, ny,
                       nz);
    if ((long long)nx * ny * nz != n)
        return sl_fail(SL_EINVAL, "spatial grid: %d x %d x %d = %lld positions for %d units", nx, ny,
                       nz, (long long)nx * ny * nz, n);
    for (int k = 0; k < n; k++) {
        int iz = k % nz, ix = (k / nz) % nx, iy = k / (nz * nx);
        xyz[3 * k] = ix;
        xyz[3 * k + 1] = iy;
        xyz[3 * k + 2] = iz;
    }
    return SL_OK;
}

void sl_distance_matrix(const double *xyz, int n, double power, double *D)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double dx = xyz[3 * i] - xyz[3 * j], dy = xyz[3 * i + 1] - xyz[3 * j + 1],
                   dz = xyz[3 * i + 2] - xyz[3 * j + 2];
            double d = sqrt(dx * dx + dy * dy + dz * dz);
            D[(size_t)i * n + j] = power == 1 ? d : pow(d, power);
        }
}

static inline double sgn(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }

double sl_wiring_cost(const sl_real *W, const double *D, size_t n, double lambda, sl_real *grad)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)W[i]) * D[i];
    if (grad)
        for (size_t i = 0; i < n; i++) grad[i] += (sl_real)(lambda * sgn((double)W[i]) * D[i]);
    return lambda * s;
}

/* ----------------------------------------------------------------- expm */

static double norm1(const double *A, int n)
{
    double best = 0;
    for (int j = 0; j < n; j++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += fabs(A[(size_t)i * n + j]);
        if (s > best || isnan(s)) best = s;
    }
    return best;
}

static void mm(int n, const double *A, const double *B, double *C)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
}

/* Padé numerator coefficients b_0..b_m (Higham 2005, Table 10.4 / scipy). */
static const double PADE3[] = {120., 60., 12., 1.};
static const double PADE5[] = {30240., 15120., 3360., 420., 30., 1.};
static const double PADE7[] = {17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.};
static const double PADE9[] = {17643225600., 8821612800., 2075673600., 302702400., 30270240.,
                               2162160.,     110880.,     3960.,       90.,        1.};
static const double PADE13[] = {64764752532480000., 32382376266240000., 7771770303897600.,
                                1187353796428800.,  129060195264000.,   10559470521600.,
                                670442572800.,      33522128640.,       1323241920.,
                                40840800.,          960960.,            16380.,
                                182.,               1.};
static const double THETA[] = {1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1,
                               2.097847961257068e0, 5.371920351148152e0};

sl_status sl_expm(const double *A0, int n, double *E)
{
    if (n <= 0) return sl_fail(SL_EINVAL, "expm: need n > 0, got %d", n);
    const size_t nn = (size_t)n * n;
    for (size_t k = 0; k < nn; k++)
        if (!isfinite(A0[k])) return sl_fail(SL_ENUMERIC, "expm: entry %zu of A is not finite", k);
    double *w = malloc(7 * nn * sizeof *w);
    lapack_int *ipiv = malloc((size_t)n * sizeof *ipiv);
    if (!w || !ipiv) {
        free(w);
        free(ipiv);
        return sl_fail(SL_ENOMEM, "expm: out of memory (n = %d)", n);
    }
    double *A = w, *A2 = w + nn, *A4 = w + 2 * nn, *A6 = w + 3 * nn, *U = w + 4 * nn,
           *V = w + 5 * nn, *T = w + 6 * nn;
    memcpy(A, A0, nn * sizeof *A);
    const double nrm = norm1(A, n);
    int m = 13, s = 0;
    const double *b = PADE13;
    static const int DEG[] = {3, 5, 7, 9};
    static const double *const COEF[] = {PADE3, PADE5, PADE7, PADE9};
    for (int q = 0; q < 4; q++)
        if (nrm <= THETA[q]) {
            m = DEG[q];
            b = COEF[q];
            break;
        }
    if (m == 13 && nrm > THETA[4]) {
        s = (int)ceil(log2(nrm / THETA[4]));
        if (s < 0) s = 0;
        const double sc = ldexp(1.0, -s);
        for (size_t k = 0; k < nn; k++) A[k] *= sc;
    }
    mm(n, A, A, A2);
    if (m == 13) {
        mm(n, A2, A2, A4);
        mm(n, A4, A2, A6);
        /* U = A [A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I]
         * V =    A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I */
        for (size_t k = 0; k < nn; k++) T[k] = b[13] * A6[k] + b[11] * A4[k] + b[9] * A2[k];
        mm(n, A6, T, V); /* V as scratch */
        for (size_t k = 0; k < nn; k++) V[k] += b[7] * A6[k] + b[5] * A4[k] + b[3] * A2[k];
        for (int i = 0; i < n; i++) V[(size_t)i * n + i] += b[1];
        mm(n, A, V, U);
        for (size_t k = 0; k < nn; k++) T[k] = b[12] * A6[k] + b[10] * A4[k] + b[8] * A2[k];
        mm(n, A6, T, V);
        for (size_t k = 0; k < nn; k++) V[k] += b[6] * A6[k] + b[4] * A4[k] + b[2] * A2[k];
        for (int i = 0; i < n; i++) V[(size_t)i * n + i] += b[0];
    } else {
        /* powers P = I, A², A⁴, … built in A4 (current) with A6 as swap */
        double *P = A4, *Pn = A6;
        memset(P, 0, nn * sizeof *P);
        for (int i = 0; i < n; i++) P[(size_t)i * n + i] = 1;
        memset(T, 0, nn * sizeof *T);
        memset(V, 0, nn * sizeof *V);
        for (int k = 0; 2 * k <= m; k++) {
            for (size_t q = 0; q < nn; q++) {
                T[q] += b[2 * k + 1] * P[q];
                V[q] += b[2 * k] * P[q];
            }
            if (2 * k + 2 <= m) {
                mm(n, P, A2, Pn);
                double *t = P;
                P = Pn;
                Pn = t;
            }
        }
        mm(n, A, T, U);
    }
    /* (V − U) X = (V + U) */
    for (size_t k = 0; k < nn; k++) {
        double u = U[k], v = V[k];
        T[k] = v - u;
        E[k] = v + u;
    }
    lapack_int info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, n, T, n, ipiv, E, n);
    sl_status st = SL_OK;
    if (info != 0) {
        st = sl_fail(SL_ENUMERIC, "expm: the Padé denominator is singular (dgesv info %d)", (int)info);
    } else {
        for (int q = 0; q < s; q++) {
            mm(n, E, E, T);
            memcpy(E, T, nn * sizeof *E);
        }
        for (size_t k = 0; k < nn; k++)
            if (!isfinite(E[k])) {
                st = sl_fail(SL_ENUMERIC, "expm: the result overflows (‖A‖₁ = %g)", nrm);
                break;
            }
    }
    free(w);
    free(ipiv);
    return st;
}

sl_status sl_expm_frechet(const double *A, const double *H, int n, double *E, double *L)
{
    if (n <= 0) return sl_fail(SL_EINVAL, "expm_frechet: need n > 0, got %d", n);
    const size_t nn = (size_t)n * n, n2 = 2 * (size_t)n;
    const double an = norm1(A, n), hn = norm1(H, n);
    if (!isfinite(hn)) return sl_fail(SL_ENUMERIC, "expm_frechet: the direction H is not finite");
    if (hn == 0) {
        memset(L, 0, nn * sizeof *L);
        return E ? sl_expm(A, n, E) : SL_OK;
    }
    const double scale = (an > 0 ? an : 1.0) / hn;
    double *M = calloc(2 * n2 * n2, sizeof *M);
    if (!M) return sl_fail(SL_ENOMEM, "expm_frechet: out of memory (n = %d)", n);
    double *R = M + n2 * n2;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double a = A[(size_t)i * n + j];
            M[i * n2 + j] = a;
            M[(i + n) * n2 + (j + n)] = a;
            M[i * n2 + (j + n)] = H[(size_t)i * n + j] * scale;
        }
    sl_status st = sl_expm(M, 2 * n, R);
    if (st == SL_OK)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                L[(size_t)i * n + j] = R[i * n2 + (j + n)] / scale;
                if (E) E[(size_t)i * n + j] = R[i * n2 + j];
            }
    free(M);
    return st;
}

/* ------------------------------------------------------ communicability */

/* a = |W|, d = s^−½ (0 where s = 0), A = diag(d) a diag(d). s (n) optional. */
static void normalised(const sl_real *W, int n, sl_strength strength, double *a, double *s,
                       double *d, double *A)
{
    const size_t nn = (size_t)n * n;
    for (size_t k = 0; k < nn; k++) a[k] = fabs((double)W[k]);
    for (int i = 0; i < n; i++) s[i] = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) s[strength == SL_STRENGTH_COLS ? j : i] += a[(size_t)i * n + j];
    for (int i = 0; i < n; i++) d[i] = s[i] > 0 ? 1 / sqrt(s[i]) : 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) A[(size_t)i * n + j] = d[i] * a[(size_t)i * n + j] * d[j];
}

sl_status sl_communicability(const sl_real *W, int n, sl_strength strength, double *C)
{
    if (n <= 0) return sl_fail(SL_EINVAL, "communicability: need n > 0, got %d", n);
    const size_t nn = (size_t)n * n;
    double *buf = malloc((2 * nn + 2 * (size_t)n) * sizeof *buf);
    if (!buf) return sl_fail(SL_ENOMEM, "communicability: out of memory (n = %d)", n);
    double *a = buf, *A = buf + nn, *s = buf + 2 * nn, *d = s + n;
    normalised(W, n, strength, a, s, d, A);
    sl_status st = sl_expm(A, n, C);
    if (st == SL_OK)
        for (int i = 0; i < n; i++) C[(size_t)i * n + i] = 0;
    free(buf);
    return st;
}

sl_status sl_comm_wiring_cost(const sl_comm_spec *spec, const sl_real *W, const double *D, int n,
                              double *loss, sl_real *grad, double *C_out)
{
    if (n <= 0) return sl_fail(SL_EINVAL, "communicability cost: need n > 0, got %d", n);
    const double lam = spec->lambda, kp = spec->comms_power > 0 ? spec->comms_power : 1.0;
    const size_t nn = (size_t)n * n;
    double *buf = malloc((6 * nn + 3 * (size_t)n) * sizeof *buf);
    if (!buf) return sl_fail(SL_ENOMEM, "communicability cost: out of memory (n = %d)", n);
    double *a = buf, *A = a + nn, *E = A + nn, *C = E + nn, *GE = C + nn, *GA = GE + nn,
           *s = GA + nn, *d = s + n, *ds = d + n;
    normalised(W, n, spec->strength, a, s, d, A);
    sl_status st = sl_expm(A, n, E);
    if (st != SL_OK) goto done;
    double L = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            size_t k = (size_t)i * n + j;
            double e = E[k] > 0 ? E[k] : 0; /* e^A ≥ 0 for A ≥ 0; rounding aside */
            C[k] = i == j ? 0 : kp == 1 ? e : pow(e, kp);
            L += a[k] * C[k] * D[k];
        }
    *loss = lam * L;
    if (C_out) memcpy(C_out, C, nn * sizeof *C);
    if (!grad) goto done;
    double *ga = GE; /* ∂L/∂a is built in GA's neighbour once G_E is consumed */
    if (!spec->c_constant) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                size_t k = (size_t)i * n + j;
                double e = E[k] > 0 ? E[k] : 0;
                double dc = kp == 1 ? 1.0 : (e > 0 ? kp * pow(e, kp - 1) : 0);
                GE[k] = i == j ? 0 : lam * a[k] * D[k] * dc;
            }
        /* G_A = L(Aᵀ, G_E); E's buffer holds Aᵀ (E is no longer needed) */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) E[(size_t)j * n + i] = A[(size_t)i * n + j];
        st = sl_expm_frechet(E, GE, n, NULL, GA);
        if (st != SL_OK) goto done;
        for (int m = 0; m < n; m++) {
            double q = 0;
            for (int j = 0; j < n; j++) q += GA[(size_t)m * n + j] * A[(size_t)m * n + j];
            for (int i = 0; i < n; i++) q += GA[(size_t)i * n + m] * A[(size_t)i * n + m];
            ds[m] = s[m] > 0 ? -0.5 * d[m] * d[m] * q : 0;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                size_t k = (size_t)i * n + j;
                ga[k] = lam * C[k] * D[k] + GA[k] * d[i] * d[j] +
                        ds[spec->strength == SL_STRENGTH_COLS ? j : i];
            }
    } else {
        for (size_t k = 0; k < nn; k++) ga[k] = lam * C[k] * D[k];
    }
    for (size_t k = 0; k < nn; k++) grad[k] += (sl_real)(sgn((double)W[k]) * ga[k]);
done:
    free(buf);
    return st;
}
