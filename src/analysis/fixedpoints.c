/* fixedpoints.c — fixed and slow points of a trained recurrent network, the
 * FixedPointFinder pipeline (Golub & Sussillo 2018; REFERENCE.md §3) on the
 * model's one-step map F (src/nn/step.c):
 *
 *   q(x) = ½‖x − F(x, u)‖²,   ∇q = d − d ∂F/∂x,   d = x − F(x, u)   (row vectors)
 *
 * (CT-RNN: F is the Euler step x + α(−x + J φ(x) + B u + b), so q = ½α²‖ẋ‖²
 * and its zeros are the ODE's fixed points.)
 *  1. Joint search (FPF's `method='joint'`, Torch): Adam (β 0.9/0.999, ε 1e-8,
 *     lr_init 1.0) on all K states at once with loss mean_k q_k, float32 (FPF's
 *     dtype); ReduceLROnPlateau on that mean (factor 0.95, patience 2, relative
 *     threshold 1e-4, cooldown 0: FPF's hard-coded Torch scheduler). From the
 *     second iteration stop when every point has q < tol_q or
 *     |q − q_prev| < tol_dq · lr, or after max_iters. A point with
 *     q < tol_q / 10 (float32's q is ~20% uncertain near 1e-10) is done and
 *     leaves the batch (FPF keeps moving it by steps far below
 *     tol_unique), so late iterations cost only the points still moving.
 *     Each iteration runs over tiles of 64 points (q and ∇q fused in
 *     sl_stepmap_qgrad_f, then Adam), which stay in cache.
 *  2. Optional Newton steps in float64 per point (x ← x − (I − ∂F/∂x)⁻¹ d,
 *     LAPACK dgesv), each kept only when it lowers q.
 *  3. Deduplicate (FPF get_unique): for each point not yet grouped, every point
 *     within tol_unique (2-norm of [x, u]) joins its group; keep the member with
 *     the smallest q. Then distance outliers: c = the initial states' centroid,
 *     d̄ = mean ‖x0 − c‖; drop points with ‖x* − c‖ / d̄ ≥ outlier_distance_scale.
 *  4. Jacobians ∂F/∂x of the unique points only (analytic, step.c) and their
 *     eigenvalues, dgeev's path without eigenvectors (LAPACK dgebal 'B',
 *     dgehrd, then dlahqr up to order 160, else dhseqr): discrete λ_d,
 *     continuous λ_c = (λ_d − 1)/α (α = dt/τ; 1 for the discrete cells),
 *     modes sorted by real part, descending.
 *     Stable: CT-RNN max Re λ_c < 0 (the ODE), cells max |λ_d| < 1 (FPF's
 *     criterion); unstable modes counted the same way. With eigenvectors
 *     (unstable_modes.npy): only the top-3 modes' vectors, by inverse
 *     iteration on the same Hessenberg form (dhsein, then dormhr and dgebak),
 *     normalised as dgeev's (unit 2-norm, a complex vector's largest
 *     component real) — not all D as dgeev would (a third more time).
 *
 * The runner (`silico analyze RUN --only fixedpoints`) samples initial states
 * along the network's own trajectories on the task's validation trials (FPF
 * sample_states: random (trial, step) pairs with replacement, plus N(0, σ²)
 * noise), one group per constant input: zero input by default; with context
 * channels (inputs constant over each trial — 0 in padded steps — 0/1 valued
 * and varying across trials, e.g. ctxdm_mante's context_motion/context_colour) one group per
 * context, u = that channel's one-hot and every other input 0 (zero
 * coherence), sampled from that context's trials; or --input v1,v2,... */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <lapacke.h>

#include "analysis/analysis.h"
#include "nn/act.h"
#include "nn/step.h"

void sl_fp_defaults(sl_fp_spec *s)
{
    memset(s, 0, sizeof *s);
    s->tol_q = 1e-12;
    s->tol_dq = 1e-20;
    s->max_iters = 5000;
    s->lr_init = 1.0;
    s->newton_iters = 0;
    s->tol_unique = 1e-3;
    s->outlier_distance_scale = 10;
    s->fixed_q = 1e-10;
    s->eigenvectors = 1;
}

void sl_fp_result_free(sl_fp_result *r)
{
    if (!r) return;
    free(r->x), free(r->u), free(r->q), free(r->group), free(r->eig), free(r->eig_discrete);
    free(r->stable), free(r->n_unstable), free(r->modes), free(r->q_all);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------- 1. search */

/* FPF's joint Adam in float32 on K points held in tiles of FP_TILE points,
 * feature-major (unit i of the point in slot k at X[((k/T)·D + i)·T + k%T],
 * T = FP_TILE; M, V the Adam moments alike; A: the drives alike with GN rows,
 * or with shared_a one drive of GN values), updated in place; q, qprev
 * scratch of K; perm: the point in each slot. Points are independent within
 * an iteration (the loss is a sum over points, lr changes only between
 * iterations), so each iteration runs tile by tile: q and ∇q
 * (sl_stepmap_qgrad_f, whose GEMMs put a tile's points on the vector lanes)
 * and the Adam update of a tile stay in cache. A point whose q is below
 * tol_q / 10 (it meets the stopping rule with a margin) is done and leaves:
 * its slot is swapped behind the active ones, so later iterations cost only
 * the points still moving, while the plateau schedule still sees mean q over
 * all K (FPF updates converged points too; their moves are far below
 * tol_unique). G: D×T, w: sl_stepmap_qgrad_work(s, T) floats. Returns the
 * iterations run. */
#define FP_TILE 64
#define SLOT(P, k, i, W) (P)[((size_t)((k) / FP_TILE) * (W) + (i)) * FP_TILE + (k) % FP_TILE]
static int joint_adam(const sl_stepmap *s, float *X, float *M, float *V, float *A, int shared_a,
                      int K, const sl_fp_spec *sp, double *q, double *qprev, int *perm, float *G,
                      float *w)
{
    const int D = sl_stepmap_dim(s), GN = sl_stepmap_drive_dim(s), T = FP_TILE;
    for (int k = 0; k < K; k++) perm[k] = k;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double q_leave = 0.1 * sp->tol_q; /* a float32 q near tol_q is ~20% uncertain */
    double lr = sp->lr_init, best = INFINITY, q_done = 0;
    int bad = 0, it = 1, Ka = K;
    for (;; it++) {
        double qsum = q_done;
        /* ∇ mean q = (d − d ∂F/∂x) / K; torch.optim.Adam on the active lanes */
        const float inv = 1.0f / (float)K;
        const double bc1 = 1 - pow(b1, it), bc2 = 1 - pow(b2, it);
        const float step = (float)(lr / bc1), rb2 = (float)(1 / sqrt(bc2));
        for (int k0 = 0; k0 < Ka; k0 += T) {
            const int tb = Ka - k0 < T ? Ka - k0 : T;
            const size_t t = (size_t)(k0 / T);
            float *x = X + t * D * T, *m = M + t * D * T, *v = V + t * D * T;
            sl_stepmap_qgrad_f(s, tb, T, x, shared_a ? A : A + t * GN * T, shared_a, q + k0, G, w);
            vi16 act[FP_TILE / 16]; /* lanes still moving */
            for (int l = 0; l < T; l++) {
                const int on = l < tb && !(q[k0 + l] < q_leave);
                act[l / 16][l % 16] = on ? -1 : 0;
                if (l < tb) qsum += q[k0 + l];
            }
            for (size_t e = 0; e < (size_t)D * T; e += 16) {
                const vi16 on = act[(e % T) / 16];
                const vf16 g = vload(G + e) * inv, m0 = vload(m + e), v0 = vload(v + e);
                const vf16 mm = VF(b1) * m0 + VF(1 - b1) * g, vv = VF(b2) * v0 + VF(1 - b2) * g * g;
#ifdef __AVX512F__
                const vf16 sq = (vf16)_mm512_sqrt_ps((__m512)vv);
#else
                vf16 sq;
                for (int l = 0; l < 16; l++) sq[l] = sqrtf(vv[l]);
#endif
                const vf16 x0 = vload(x + e);
                vstore(m + e, vsel(on, mm, m0));
                vstore(v + e, vsel(on, vv, v0));
                vstore(x + e, vsel(on, x0 - VF(step) * mm / (sq * rb2 + VF(eps)), x0));
            }
        }
        const double qmean = qsum / K;
        /* ReduceLROnPlateau(min, factor 0.95, patience 2, threshold 1e-4 rel, eps 1e-8) */
        if (qmean < best * (1 - 1e-4)) {
            best = qmean;
            bad = 0;
        } else if (++bad > 2) {
            if (lr - 0.95 * lr > 1e-8) lr *= 0.95;
            bad = 0;
        }
        int done = 1;
        for (int k = 0; k < Ka && done; k++)
            done = q[k] < sp->tol_q || (it > 1 && fabs(q[k] - qprev[k]) < sp->tol_dq * lr);
        /* the converged points leave (swap with the last active slot) */
        for (int k = 0; k < Ka;) {
            if (!(q[k] < q_leave)) {
                k++;
                continue;
            }
            const int l = --Ka;
            q_done += q[k];
            if (k != l) {
#define SWAP(T_, a, b)                                                                             \
    do {                                                                                           \
        T_ t_ = (a);                                                                               \
        (a) = (b), (b) = t_;                                                                       \
    } while (0)
                for (int i = 0; i < D; i++) {
                    SWAP(float, SLOT(X, k, i, D), SLOT(X, l, i, D));
                    SWAP(float, SLOT(M, k, i, D), SLOT(M, l, i, D));
                    SWAP(float, SLOT(V, k, i, D), SLOT(V, l, i, D));
                }
                for (int i = 0; !shared_a && i < GN; i++) SWAP(float, SLOT(A, k, i, GN), SLOT(A, l, i, GN));
                SWAP(double, q[k], q[l]);
                SWAP(double, qprev[k], qprev[l]);
                SWAP(int, perm[k], perm[l]);
#undef SWAP
            }
        }
        if (done || Ka == 0 || it + 1 > sp->max_iters) break;
        memcpy(qprev, q, (size_t)Ka * sizeof(double));
    }
    return it;
}

static double q_of(const double *x, const double *f, int D)
{
    double s = 0;
    for (int i = 0; i < D; i++) s += (x[i] - f[i]) * (x[i] - f[i]);
    return 0.5 * s;
}

/* Newton steps at one point (float64); x and *q updated in place */
static sl_status newton(const sl_stepmap *s, double *x, const double *a, int iters, double tol_q,
                        double *q)
{
    const int D = sl_stepmap_dim(s);
    double *Jm = malloc((size_t)D * D * sizeof(double)), *F = malloc((size_t)D * sizeof(double));
    double *d = malloc((size_t)D * sizeof(double)), *xn = malloc((size_t)D * sizeof(double));
    double *Fn = malloc((size_t)D * sizeof(double));
    lapack_int *piv = malloc((size_t)D * sizeof(lapack_int));
    sl_status st = SL_OK;
    if (!Jm || !F || !d || !xn || !Fn || !piv) {
        st = sl_fail(SL_ENOMEM, "fixed points: out of memory (Newton, D = %d)", D);
        goto done;
    }
    if ((st = sl_stepmap_jacobian(s, x, a, F, NULL))) goto done;
    *q = q_of(x, F, D);
    for (int it = 0; it < iters && *q > tol_q; it++) {
        if ((st = sl_stepmap_jacobian(s, x, a, F, Jm))) goto done;
        for (int i = 0; i < D; i++) { /* (I − ∂F/∂x) δ = −(x − F) */
            for (int j = 0; j < D; j++) Jm[(size_t)i * D + j] = (i == j) - Jm[(size_t)i * D + j];
            d[i] = F[i] - x[i];
        }
        if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, D, 1, Jm, D, piv, d, 1) != 0) break;
        for (int i = 0; i < D; i++) xn[i] = x[i] + d[i];
        if ((st = sl_stepmap_jacobian(s, xn, a, Fn, NULL))) goto done;
        double qn = q_of(xn, Fn, D);
        if (!(qn < *q)) break;
        memcpy(x, xn, (size_t)D * sizeof(double));
        *q = qn;
    }
done:
    free(Jm), free(F), free(d), free(xn), free(Fn), free(piv);
    return st;
}

/* ----------------------------------------------------- 3. unique points */

/* FPF get_unique on rows [x, u]; writes kept indices (ascending) into keep,
 * returns their count */
static int unique_points(const double *X, const double *U, int K, int D, int NI, const double *q,
                         double tol, int *keep, unsigned char *taken)
{
    int P = 0;
    memset(taken, 0, (size_t)K);
    int *grp = malloc((size_t)K * sizeof(int));
    if (!grp) return -1;
    for (int i = 0; i < K; i++) {
        if (taken[i]) continue;
        int ng = 0, best = i;
        for (int j = i; j < K; j++) {
            if (taken[j]) continue;
            double s = 0;
            for (int c = 0; c < D && s <= tol * tol; c++) {
                double e = X[(size_t)i * D + c] - X[(size_t)j * D + c];
                s += e * e;
            }
            for (int c = 0; c < NI && s <= tol * tol; c++) {
                double e = U[(size_t)i * NI + c] - U[(size_t)j * NI + c];
                s += e * e;
            }
            if (j == i || s <= tol * tol) {
                grp[ng++] = j;
                if (q[j] < q[best]) best = j;
            }
        }
        for (int g = 0; g < ng; g++) taken[grp[g]] = 1;
        keep[P++] = best;
    }
    free(grp);
    /* ascending order of the kept initial states */
    for (int a = 1; a < P; a++)
        for (int b = a; b > 0 && keep[b - 1] > keep[b]; b--) {
            int t = keep[b];
            keep[b] = keep[b - 1], keep[b - 1] = t;
        }
    return P;
}

/* --------------------------------------------------------- 4. spectra */

typedef struct {
    double re, im;
    int idx;
} eigpair;

static int by_real_desc(const void *a, const void *b)
{
    const eigpair *x = a, *y = b;
    if (x->re != y->re) return x->re < y->re ? 1 : -1;
    if (x->im != y->im) return x->im < y->im ? 1 : -1;
    return 0;
}

/* LAPACK scratch of one spectrum (D×D and D-vectors; vectors: VR of D×6) */
typedef struct {
    double *Jm, *A, *H, *tau, *scale, *wr, *wi, *wr2, *vr;
    lapack_logical *sel;
    lapack_int *ifl, *ifr;
    eigpair *ev;
} spec_ws;

static void spec_ws_free(spec_ws *w)
{
    free(w->Jm), free(w->A), free(w->H), free(w->tau), free(w->scale), free(w->wr), free(w->wi);
    free(w->wr2), free(w->vr), free(w->sel), free(w->ifl), free(w->ifr), free(w->ev);
}

static int spec_ws_alloc(spec_ws *w, int D, int vectors)
{
    const size_t dd = (size_t)D * D, d = (size_t)D;
    memset(w, 0, sizeof *w);
    w->Jm = malloc(dd * sizeof(double)), w->A = malloc(dd * sizeof(double));
    w->tau = malloc(d * sizeof(double)), w->scale = malloc(d * sizeof(double));
    w->wr = malloc(d * sizeof(double)), w->wi = malloc(d * sizeof(double));
    w->ev = malloc(d * sizeof(eigpair)), w->H = malloc(2 * dd * sizeof(double));
    int ok = w->Jm && w->A && w->tau && w->scale && w->wr && w->wi && w->ev && w->H;
    if (vectors) {
        w->wr2 = malloc(d * sizeof(double));
        w->vr = malloc(6 * d * sizeof(double)), w->sel = malloc(d * sizeof(lapack_logical));
        w->ifl = malloc(6 * sizeof(lapack_int)), w->ifr = malloc(6 * sizeof(lapack_int));
        ok = ok && w->wr2 && w->vr && w->sel && w->ifl && w->ifr;
    }
    if (!ok) spec_ws_free(w);
    return ok;
}

/* The top-3 modes' right eigenvectors (real parts) of the balanced Hessenberg
 * form in w->H (D×D column-major, zero below the subdiagonal; dgehrd's
 * reflectors and tau in w->A, balancing ilo/ihi/scale): LAPACK dhsein
 * (inverse iteration on H for the selected eigenvalues only), dormhr (× Q),
 * dgebak, then dgeev's normalisation (unit 2-norm, a complex vector rotated
 * so its largest component is real). Into out (3×D). 0 on success. */
static int top_modes(spec_ws *w, int D, lapack_int ilo, lapack_int ihi, double *out)
{
    const int nm = D < 3 ? D : 3;
    int start[3]; /* first column (dhseqr order) of each mode's real / conjugate pair */
    memset(w->sel, 0, (size_t)D * sizeof(lapack_logical));
    for (int m = 0; m < nm; m++) {
        int c = w->ev[m].idx;
        if (w->wi[c] < 0 && c > 0) c--; /* (wr, +wi) first: the pair's vector */
        start[m] = c;
        w->sel[c] = 1;
    }
    memcpy(w->wr2, w->wr, (size_t)D * sizeof(double)); /* dhsein may perturb wr */
    lapack_int mcol = 0;
    if (LAPACKE_dhsein(LAPACK_COL_MAJOR, 'R', 'Q', 'N', w->sel, D, w->H, D, w->wr2, w->wi, NULL, 1,
                       w->vr, D, 6, &mcol, w->ifl, w->ifr) != 0)
        return -1;
    if (LAPACKE_dormhr(LAPACK_COL_MAJOR, 'L', 'N', D, mcol, ilo, ihi, w->A, D, w->tau, w->vr, D) != 0 ||
        LAPACKE_dgebak(LAPACK_COL_MAJOR, 'B', 'R', D, ilo, ihi, w->scale, mcol, w->vr, D) != 0)
        return -1;
    for (int m = 0; m < nm; m++) {
        int col = 0; /* the vector's column: selected eigenvalues in dhseqr order, 2 per pair */
        for (int j = 0; j < start[m]; j++)
            if (w->sel[j]) col += w->wi[j] != 0 ? 2 : 1;
        const double *re = w->vr + (size_t)col * D, *im = w->wi[start[m]] != 0 ? re + D : NULL;
        double nrm = 0, big = -1, cr = 1, ci = 0;
        for (int i = 0; i < D; i++) {
            const double a2 = re[i] * re[i] + (im ? im[i] * im[i] : 0);
            nrm += a2;
            if (im && a2 > big) big = a2, cr = re[i], ci = im[i];
        }
        nrm = sqrt(nrm);
        /* × conj(v_k)/|v_k| (k: the largest component) makes v_k real and positive */
        const double ab = im ? hypot(cr, ci) : 1;
        for (int i = 0; i < D; i++)
            out[(size_t)m * D + i] = nrm > 0 ? (im ? (re[i] * cr + im[i] * ci) / ab : re[i]) / nrm : 0;
    }
    for (int m = nm; m < 3; m++) memset(out + (size_t)m * D, 0, (size_t)D * sizeof(double));
    return 0;
}

/* LAPACK's double-shift QR for the eigenvalues of a Hessenberg matrix (an
 * auxiliary routine: LAPACKE has no wrapper). dhseqr calls it below order
 * NMIN = 75 and its multishift QR above. Timed against each other on one
 * machine, dlahqr took ~0.8× dhseqr's time on order-150 Jacobians (random and
 * the W5 network's) and ~1.15× at order 200, so it is used up to
 * FP_DLAHQR_MAX, with dhseqr as the fallback if it does not converge. */
void dlahqr_(const lapack_logical *wantt, const lapack_logical *wantz, const lapack_int *n,
             const lapack_int *ilo, const lapack_int *ihi, double *h, const lapack_int *ldh,
             double *wr, double *wi, const lapack_int *iloz, const lapack_int *ihiz, double *z,
             const lapack_int *ldz, lapack_int *info);
#define FP_DLAHQR_MAX 160

/* eigenvalues (LAPACK dgebal + dgehrd + dlahqr or dhseqr: dgeev's eigenvalue
 * path) of the Jacobian at point p and, with vectors, its top-3 modes (top_modes) */
static sl_status spectrum(const sl_stepmap *s, const sl_fp_result *r, int p, const double *a,
                          int vectors, spec_ws *w)
{
    const int D = r->D;
    sl_status st = sl_stepmap_jacobian(s, r->x + (size_t)p * D, a, NULL, w->Jm);
    if (st) return st;
    int finite = 1;
    for (size_t i = 0; i < (size_t)D * D; i++) finite &= isfinite(w->Jm[i]) != 0;
    for (int i = 0; i < D; i++) /* column-major copy */
        for (int j = 0; j < D; j++) w->A[(size_t)j * D + i] = w->Jm[(size_t)i * D + j];
    lapack_int ilo = 1, ihi = D, info = -1;
    if (finite && !(info = LAPACKE_dgebal(LAPACK_COL_MAJOR, 'B', D, w->A, D, &ilo, &ihi, w->scale)) &&
        !(info = LAPACKE_dgehrd(LAPACK_COL_MAJOR, D, ilo, ihi, w->A, D, w->tau))) {
        /* A keeps dgehrd's reflectors; H: the Hessenberg matrix (dhsein's input), Hq
         * a copy the QR iteration overwrites */
        double *Hq = w->H + (size_t)D * D;
        for (int j = 0; j < D; j++)
            for (int i = 0; i < D; i++) w->H[(size_t)j * D + i] = i <= j + 1 ? w->A[(size_t)j * D + i] : 0;
        memcpy(Hq, w->H, (size_t)D * D * sizeof(double));
        info = -1;
        if (D <= FP_DLAHQR_MAX) {
            const lapack_int wz = 0, one = 1, n = D;
            double z = 0;
            dlahqr_(&wz, &wz, &n, &ilo, &ihi, Hq, &n, w->wr, w->wi, &one, &n, &z, &one, &info);
            for (int i = 0; i < D; i++) /* those dgebal isolated (dhseqr fills them too) */
                if (i < ilo - 1 || i > ihi - 1) w->wr[i] = w->H[(size_t)i * D + i], w->wi[i] = 0;
            if (info != 0) memcpy(Hq, w->H, (size_t)D * D * sizeof(double));
        }
        if (info != 0)
            info = LAPACKE_dhseqr(LAPACK_COL_MAJOR, 'E', 'N', D, ilo, ihi, Hq, D, w->wr, w->wi, NULL, 1);
    }
    double *ec = r->eig + (size_t)p * D * 2, *ed = r->eig_discrete + (size_t)p * D * 2;
    if (info != 0) { /* FPF: NaN eigen-data for points whose Jacobian is not finite */
        for (int i = 0; i < 2 * D; i++) ec[i] = ed[i] = NAN;
        if (r->modes)
            for (int i = 0; i < 3 * D; i++) r->modes[(size_t)p * 3 * D + i] = NAN;
        r->stable[p] = 0;
        r->n_unstable[p] = -1;
        return SL_OK;
    }
    eigpair *ev = w->ev;
    for (int i = 0; i < D; i++) ev[i] = (eigpair){w->wr[i], w->wi[i], i};
    qsort(ev, (size_t)D, sizeof *ev, by_real_desc);
    const int ct = sl_stepmap_alpha(s) > 0;
    int nu = 0;
    for (int i = 0; i < D; i++) {
        ed[2 * i] = ev[i].re, ed[2 * i + 1] = ev[i].im;
        ec[2 * i] = (ev[i].re - 1) / r->alpha, ec[2 * i + 1] = ev[i].im / r->alpha;
        nu += ct ? ec[2 * i] > 0 : hypot(ev[i].re, ev[i].im) > 1;
    }
    r->n_unstable[p] = nu;
    double mx = 0;
    for (int i = 0; i < D; i++) mx = fmax(mx, hypot(ev[i].re, ev[i].im));
    r->stable[p] = ct ? ec[0] < 0 : mx < 1;
    if (r->modes && top_modes(w, D, ilo, ihi, r->modes + (size_t)p * 3 * D))
        for (int i = 0; i < 3 * D; i++) r->modes[(size_t)p * 3 * D + i] = NAN;
    return SL_OK;
}

/* ---------------------------------------------------------------- library */

sl_status sl_fixed_points(const sl_model *m, const double *x0, int K, const double *inputs,
                          int n_groups, const int *group, const sl_fp_spec *spec,
                          sl_fp_result *out)
{
    memset(out, 0, sizeof *out);
    if (!m) return sl_fail(SL_EINVAL, "fixed points: no model");
    if (!x0 || K < 1) return sl_fail(SL_EINVAL, "fixed points: no initial states (K = %d)", K);
    if (!inputs || n_groups < 1)
        return sl_fail(SL_EINVAL, "fixed points: no input given (n_groups = %d)", n_groups);
    sl_fp_spec sp;
    if (spec)
        sp = *spec;
    else
        sl_fp_defaults(&sp);
    if (!(sp.lr_init > 0) || sp.max_iters < 1 || !(sp.tol_unique >= 0) || sp.newton_iters < 0)
        return sl_fail(SL_EINVAL,
                       "fixed points: lr_init (%g) and max_iters (%d) must be positive, tol_unique "
                       "(%g) and newton_iters (%d) non-negative",
                       sp.lr_init, sp.max_iters, sp.tol_unique, sp.newton_iters);
    sl_stepmap *s;
    sl_status st = sl_stepmap_create(m, &s);
    if (st) return st;
    const int D = sl_stepmap_dim(s), NI = sl_stepmap_n_in(s), GN = sl_stepmap_drive_dim(s);
    for (size_t i = 0; i < (size_t)K * D; i++)
        if (!isfinite(x0[i])) {
            sl_stepmap_free(s);
            return sl_fail(SL_ENUMERIC, "fixed points: initial state %zu, unit %zu is %g", i / D,
                           i % D, x0[i]);
        }
    for (size_t i = 0; i < (size_t)n_groups * NI; i++)
        if (!isfinite(inputs[i])) {
            sl_stepmap_free(s);
            return sl_fail(SL_ENUMERIC, "fixed points: input %zu, channel %zu is %g", i / NI,
                           i % NI, inputs[i]);
        }
    for (int k = 0; group && k < K; k++)
        if (group[k] < 0 || group[k] >= n_groups) {
            sl_stepmap_free(s);
            return sl_fail(SL_EINVAL, "fixed points: initial state %d has input group %d (of %d)",
                           k, group[k], n_groups);
        }
    const size_t n = (size_t)K * D, wk = sl_stepmap_work(s, K);
    double *ga = malloc((size_t)n_groups * GN * sizeof(double));
    int shared_a = 1; /* one input for all points: one drive, no per-point drives */
    for (int k = 1; group && k < K; k++) shared_a &= group[k] == group[0];
    const size_t nt = ((size_t)K + FP_TILE - 1) / FP_TILE * FP_TILE; /* slots in whole tiles */
    /* the search's tiles: X, M, V (nt×D each), the drives, ∇q of a tile, qgrad's work */
    const size_t na = shared_a ? (size_t)GN : nt * GN, wq = sl_stepmap_qgrad_work(s, FP_TILE);
    float *tiles = calloc(3 * nt * D + na + (size_t)FP_TILE * D + wq, sizeof(float));
    double *X = malloc(n * sizeof(double)), *q = malloc((size_t)K * sizeof(double));
    double *qprev = malloc((size_t)K * sizeof(double));
    int *perm = malloc((size_t)K * sizeof(int));
    double *U = malloc((size_t)K * (NI ? NI : 1) * sizeof(double));
    int *keep = malloc((size_t)K * sizeof(int));
    unsigned char *taken = malloc((size_t)K);
    if (!ga || !tiles || !X || !q || !qprev || !perm || !U || !keep || !taken) {
        st = sl_fail(SL_ENOMEM, "fixed points: out of memory (K %d, D %d)", K, D);
        goto done;
    }
    float *Xt = tiles, *Mt = Xt + nt * D, *Vt = Mt + nt * D, *At = Vt + nt * D, *Gt = At + na;
    for (int g = 0; g < n_groups; g++) sl_stepmap_drive(s, inputs + (size_t)g * NI, ga + (size_t)g * GN);
    for (int k = 0; k < K; k++) {
        const int g = group ? group[k] : 0;
        memcpy(U + (size_t)k * NI, inputs + (size_t)g * NI, NI * sizeof(double));
        for (int i = 0; i < D; i++) SLOT(Xt, k, i, D) = (float)x0[(size_t)k * D + i];
        for (int i = 0; !shared_a && i < GN; i++) SLOT(At, k, i, GN) = (float)ga[(size_t)g * GN + i];
    }
    for (int i = 0; shared_a && i < GN; i++) At[i] = (float)ga[(size_t)(group ? group[0] : 0) * GN + i];

    /* 1. joint Adam (float32), 2. Newton (float64) */
    out->iterations = joint_adam(s, Xt, Mt, Vt, At, shared_a, K, &sp, q, qprev, perm, Gt,
                                 Gt + (size_t)FP_TILE * D);
    for (int k = 0; k < K; k++) /* back to the original order */
        for (int i = 0; i < D; i++) X[(size_t)perm[k] * D + i] = SLOT(Xt, k, i, D);
    { /* q of the end points in float64 (q.npy, deduplication) */
        double *Ad = malloc((size_t)K * GN * sizeof(double)), *Fd = malloc(n * sizeof(double));
        double *wd = malloc(wk * sizeof(double));
        if (!Ad || !Fd || !wd) {
            free(Ad), free(Fd), free(wd);
            st = sl_fail(SL_ENOMEM, "fixed points: out of memory (K %d, D %d)", K, D);
            goto done;
        }
        for (int k = 0; k < K; k++)
            memcpy(Ad + (size_t)k * GN, ga + (size_t)(group ? group[k] : 0) * GN, GN * sizeof(double));
        sl_stepmap_forward_d(s, K, X, Ad, Fd, wd);
        for (int k = 0; k < K; k++) q[k] = q_of(X + (size_t)k * D, Fd + (size_t)k * D, D);
        free(Ad), free(Fd), free(wd);
    }
    if (sp.newton_iters > 0)
        for (int k = 0; k < K && !st; k++) {
            const int g = group ? group[k] : 0;
            if (isfinite(q[k]))
                st = newton(s, X + (size_t)k * D, ga + (size_t)g * GN, sp.newton_iters, 0, q + k);
        }
    if (st) goto done;

    if (!(out->q_all = malloc((size_t)K * sizeof(double)))) {
        st = sl_fail(SL_ENOMEM, "fixed points: out of memory");
        goto done;
    }
    memcpy(out->q_all, q, (size_t)K * sizeof(double));

    /* 3. unique points, distance outliers */
    for (int k = 0; k < K; k++) /* non-finite end points never count */
        if (!isfinite(q[k])) q[k] = INFINITY;
    int P = unique_points(X, U, K, D, NI, q, sp.tol_unique, keep, taken);
    if (P < 0) {
        st = sl_fail(SL_ENOMEM, "fixed points: out of memory (unique)");
        goto done;
    }
    {
        double *c = calloc((size_t)D, sizeof(double));
        if (!c) {
            st = sl_fail(SL_ENOMEM, "fixed points: out of memory");
            goto done;
        }
        for (int k = 0; k < K; k++)
            for (int i = 0; i < D; i++) c[i] += x0[(size_t)k * D + i] / K;
        double dbar = 0;
        for (int k = 0; k < K; k++) {
            double s2 = 0;
            for (int i = 0; i < D; i++) s2 += (x0[(size_t)k * D + i] - c[i]) * (x0[(size_t)k * D + i] - c[i]);
            dbar += sqrt(s2) / K;
        }
        int P2 = 0;
        for (int p = 0; p < P; p++) {
            const int k = keep[p];
            double s2 = 0;
            for (int i = 0; i < D; i++) s2 += (X[(size_t)k * D + i] - c[i]) * (X[(size_t)k * D + i] - c[i]);
            int out_lier = !isfinite(q[k]) ||
                           (sp.outlier_distance_scale > 0 && dbar > 0 &&
                            !(sqrt(s2) / dbar < sp.outlier_distance_scale));
            if (!out_lier) keep[P2++] = k;
        }
        P = P2;
        free(c);
    }

    /* 4. spectra of the unique points */
    out->n_inits = K, out->P = P, out->D = D, out->n_in = NI;
    out->alpha = sl_stepmap_alpha(s) > 0 ? sl_stepmap_alpha(s) : 1;
    const size_t P1 = P ? (size_t)P : 1;
    out->x = malloc(P1 * D * sizeof(double));
    out->u = malloc(P1 * (NI ? NI : 1) * sizeof(double));
    out->q = malloc(P1 * sizeof(double));
    out->group = malloc(P1 * sizeof(int));
    out->eig = malloc(P1 * D * 2 * sizeof(double));
    out->eig_discrete = malloc(P1 * D * 2 * sizeof(double));
    out->stable = malloc(P1);
    out->n_unstable = malloc(P1 * sizeof(int));
    out->modes = sp.eigenvectors ? malloc(P1 * 3 * D * sizeof(double)) : NULL;
    spec_ws sw;
    const int sw_ok = spec_ws_alloc(&sw, D, sp.eigenvectors);
    if (!out->x || !out->u || !out->q || !out->group || !out->eig || !out->eig_discrete ||
        !out->stable || !out->n_unstable || (sp.eigenvectors && !out->modes) || !sw_ok) {
        st = sl_fail(SL_ENOMEM, "fixed points: out of memory (%d points)", P);
    }
    for (int p = 0; p < P && !st; p++) {
        const int k = keep[p], g = group ? group[k] : 0;
        memcpy(out->x + (size_t)p * D, X + (size_t)k * D, D * sizeof(double));
        memcpy(out->u + (size_t)p * NI, U + (size_t)k * NI, NI * sizeof(double));
        out->q[p] = q[k];
        out->group[p] = g;
        st = spectrum(s, out, p, ga + (size_t)g * GN, sp.eigenvectors, &sw);
    }
    if (sw_ok) spec_ws_free(&sw);
done:
    if (st) sl_fp_result_free(out);
    free(ga), free(tiles), free(X), free(q), free(qprev), free(perm), free(U),
        free(keep),
        free(taken);
    sl_stepmap_free(s);
    return st;
}

/* ----------------------------------------------------------------- runner */

#define FP_MAX_TRIALS 512 /* validation trials whose trajectories are sampled */

/* option `key` as an int in [lo, 1e8], or a real >= 0 (the default: *v as given) */
static sl_status opt_int(const sl_analysis_ctx *ctx, const char *key, int lo, int *v)
{
    long x;
    sl_status st = sl_an_opt_int(ctx, key, *v, lo, 100000000, &x);
    if (!st) *v = (int)x;
    return st;
}

static sl_status opt_nonneg(const sl_analysis_ctx *ctx, const char *key, double *v)
{
    sl_status st = sl_an_opt_real(ctx, key, *v, v);
    if (!st && *v < 0) st = sl_fail(SL_EINVAL, "--%s: must be >= 0, got %g", key, *v);
    return st;
}

/* fraction of the variance of P rows (D columns) on their first principal
 * component, and that component (unit norm) into pc; NaN below 2 rows */
static double pc1_ratio(const double *X, int P, int D, double *pc)
{
    sl_pca pca;
    if (P < 2 || sl_pca_fit(X, P, D, 1, &pca)) return NAN;
    const double r = pca.total_variance > 0 ? pca.variance[0] / pca.total_variance : NAN;
    memcpy(pc, pca.components, (size_t)D * sizeof(double));
    sl_pca_free(&pca);
    return r;
}

/* Simulate T steps from x under input u (float64), result into x. */
static sl_status drift(const sl_stepmap *s, double *x, const double *u, int T)
{
    const int D = sl_stepmap_dim(s);
    double *a = malloc((size_t)sl_stepmap_drive_dim(s) * sizeof(double));
    double *f = malloc((size_t)D * sizeof(double));
    double *w = malloc(sl_stepmap_work(s, 1) * sizeof(double));
    if (!a || !f || !w) {
        free(a), free(f), free(w);
        return sl_fail(SL_ENOMEM, "fixedpoints: out of memory");
    }
    sl_stepmap_drive(s, u, a);
    for (int t = 0; t < T; t++) {
        sl_stepmap_forward_d(s, 1, x, a, f, w);
        memcpy(x, f, (size_t)D * sizeof(double));
    }
    free(a), free(f), free(w);
    return SL_OK;
}

sl_status sl_analysis_fixedpoints_run(sl_analysis_ctx *ctx)
{
    if (!ctx->model)
        return sl_fail(SL_EINVAL, "fixedpoints: %s has no recurrent model (checkpoint.safetensors)",
                       ctx->run_dir ? ctx->run_dir : "the run");
    sl_model *m = ctx->model;
    sl_fp_spec sp;
    sl_fp_defaults(&sp);
    int n_inits = 1024, seed = 0, probe_steps = 100;
    double noise = 0.5, probe = 0.1;
    sl_status st;
    if ((st = opt_int(ctx, "n-inits", 1, &n_inits)) || (st = opt_int(ctx, "max-iters", 1, &sp.max_iters)) ||
        (st = opt_int(ctx, "newton", 0, &sp.newton_iters)) || (st = opt_int(ctx, "seed", 0, &seed)) ||
        (st = opt_int(ctx, "probe-steps", 1, &probe_steps)) || (st = opt_nonneg(ctx, "noise", &noise)) ||
        (st = opt_nonneg(ctx, "tol-q", &sp.tol_q)) || (st = opt_nonneg(ctx, "lr", &sp.lr_init)) ||
        (st = opt_nonneg(ctx, "tol-unique", &sp.tol_unique)) || (st = opt_nonneg(ctx, "probe", &probe)))
        return st;
    const char *cx = sl_analysis_opt(ctx, "contexts");
    if (cx && strcmp(cx, "auto") && strcmp(cx, "none"))
        return sl_fail(SL_EINVAL, "--contexts: expected auto or none, got '%s'", cx);
    const sl_model_spec *ms = sl_model_get_spec(m);
    const int NI = ms->n_in;
    sl_task *task = NULL;
    if ((st = sl_task_create(ctx->config, &task))) return st;
    if (task->n_in != NI) {
        st = sl_fail(SL_EINVAL, "fixedpoints: the task has %d inputs, the model %d", task->n_in, NI);
        sl_task_free(task);
        return st;
    }
    sl_stepmap *s = NULL;
    double *traj = NULL, *x0 = NULL, *inputs = NULL, *pc = NULL;
    sl_real *ucat = NULL;
    int *gk = NULL, *ctx_ch = NULL, n_trials = 0, T = 0, n_groups = 1, n_ctx = 0;
    unsigned char *on = NULL;
    sl_fp_result res = {0};
    cJSON *sum = NULL;
    if ((st = sl_stepmap_create(m, &s))) goto out;
    const int D = sl_stepmap_dim(s);

    /* validation trials: their inputs and the network's state trajectories */
    sl_rng rng;
    sl_rng_seed(&rng, (uint64_t)seed);
    if ((st = task->ops->start_epoch(task, SL_SPLIT_VAL, &rng))) goto out;
    const int nb = task->ops->num_batches(task, SL_SPLIT_VAL);
    T = task->T;
    for (int bi = 0; bi < nb && n_trials < FP_MAX_TRIALS; bi++) {
        sl_batch b = {0};
        if ((st = task->ops->batch(task, SL_SPLIT_VAL, bi, NULL, &b))) goto out;
        if (b.T > T) T = b.T;
        const int take = b.B < FP_MAX_TRIALS - n_trials ? b.B : FP_MAX_TRIALS - n_trials;
        sl_real *nu = realloc(ucat, (size_t)(n_trials + take) * T * NI * sizeof(sl_real));
        double *nt = realloc(traj, (size_t)(n_trials + take) * T * D * sizeof(double));
        if (nu) ucat = nu;
        if (nt) traj = nt;
        if (!nu || !nt) {
            st = sl_fail(SL_ENOMEM, "fixedpoints: out of memory (%d trials)", n_trials + take);
            goto out;
        }
        /* trials of another length are padded with zero input */
        sl_real *ub = ucat + (size_t)n_trials * T * NI;
        memset(ub, 0, (size_t)take * T * NI * sizeof(sl_real));
        for (int k = 0; k < take; k++)
            for (int t = 0; t < b.T; t++)
                memcpy(ub + ((size_t)k * T + t) * NI, b.u + ((size_t)k * b.T + t) * NI,
                       NI * sizeof(sl_real));
        if ((st = sl_model_state_trajectories(m, ub, take, T, traj + (size_t)n_trials * T * D)))
            goto out;
        n_trials += take;
    }
    if (n_trials == 0) {
        st = sl_fail(SL_EINVAL, "fixedpoints: the task has no validation trials to sample states from");
        goto out;
    }
    for (size_t i = 0; i < (size_t)n_trials * T * D; i++)
        if (!isfinite(traj[i])) {
            st = sl_fail(SL_ENUMERIC, "fixedpoints: the network's state is %g on validation trial %zu",
                         traj[i], i / ((size_t)T * D));
            goto out;
        }

    /* input groups: --input, else context channels (constant 0/1 per trial, both values
     * present), else zero input */
    const char *in_opt = sl_analysis_opt(ctx, "input"), *cx_opt = sl_analysis_opt(ctx, "contexts");
    ctx_ch = malloc((size_t)(NI ? NI : 1) * sizeof(int));
    on = calloc((size_t)n_trials * (NI ? NI : 1), 1);
    if (!ctx_ch || !on) {
        st = sl_fail(SL_ENOMEM, "fixedpoints: out of memory");
        goto out;
    }
    if (!in_opt && !(cx_opt && !strcmp(cx_opt, "none")))
        for (int c = 0; c < NI; c++) {
            int ok = 1, n1 = 0;
            for (int k = 0; k < n_trials && ok; k++) {
                const sl_real v0 = ucat[(size_t)k * T * NI + c];
                ok = v0 == 0 || v0 == 1;
                for (int t = 1; t < T && ok; t++) { /* (0 in padded steps) */
                    const sl_real v = ucat[((size_t)k * T + t) * NI + c];
                    ok = v == v0 || v == 0;
                }
                on[(size_t)k * NI + c] = v0 == 1;
                n1 += v0 == 1;
            }
            if (ok && n1 > 0 && n1 < n_trials) ctx_ch[n_ctx++] = c;
        }
    n_groups = n_ctx ? n_ctx : 1;
    inputs = calloc((size_t)n_groups * (NI ? NI : 1), sizeof(double));
    if (!inputs) {
        st = sl_fail(SL_ENOMEM, "fixedpoints: out of memory");
        goto out;
    }
    if (in_opt) {
        int n_given = 0;
        if ((st = sl_an_opt_list(ctx, "input", "", inputs, NI, &n_given)) || n_given != NI) {
            if (!st || NI == 0)
                st = sl_fail(SL_EINVAL, "--input: '%s' must be %d comma-separated numbers (one per "
                                        "input channel)", in_opt, NI);
            goto out;
        }
    }
    for (int g = 0; g < n_ctx; g++) inputs[(size_t)g * NI + ctx_ch[g]] = 1;

    /* FPF sample_states: random (trial, step) pairs with replacement + N(0, noise²) */
    const int K = n_inits * n_groups;
    x0 = malloc((size_t)K * D * sizeof(double));
    gk = malloc((size_t)K * sizeof(int));
    if (!x0 || !gk) {
        st = sl_fail(SL_ENOMEM, "fixedpoints: out of memory (%d initial states)", K);
        goto out;
    }
    for (int g = 0; g < n_groups; g++) {
        int n_in_group = 0;
        for (int k = 0; k < n_trials; k++) n_in_group += !n_ctx || on[(size_t)k * NI + ctx_ch[g]];
        for (int i = 0; i < n_inits; i++) {
            const int kk = g * n_inits + i;
            int pick = (int)(sl_rng_uniform(&rng) * n_in_group), trial = 0;
            for (int k = 0; k < n_trials; k++)
                if (!n_ctx || on[(size_t)k * NI + ctx_ch[g]]) {
                    if (pick-- == 0) {
                        trial = k;
                        break;
                    }
                }
            const int t = (int)(sl_rng_uniform(&rng) * T);
            for (int d = 0; d < D; d++)
                x0[(size_t)kk * D + d] = traj[((size_t)trial * T + t) * D + d] + noise * sl_rng_normal(&rng);
            gk[kk] = g;
        }
    }
    if (ctx->progress) fprintf(ctx->progress, "fixedpoints: searching from %d states\n", K);
    if ((st = sl_fixed_points(m, x0, K, inputs, n_groups, gk, &sp, &res))) goto out;

    /* files */
    const int P = res.P;
    const char *dir = ctx->out_dir;
    unsigned char *stable = res.stable;
    int n_stable = 0, n_fixed = 0;
    for (int p = 0; p < P; p++) n_stable += stable[p], n_fixed += res.q[p] <= sp.fixed_q;
    {
        const int64_t pd[2] = {P, D}, p1[1] = {P}, pi[2] = {P, NI}, pd2[3] = {P, D, 2},
                      p3d[3] = {P, 3, D}, kd[2] = {K, D}, k1[1] = {K};
        if ((st = sl_an_write_f64(dir, "points.npy", 2, pd, res.x)) ||
            (st = sl_an_write_f64(dir, "q.npy", 1, p1, res.q)) ||
            (st = sl_an_write_f64(dir, "inputs.npy", 2, pi, res.u)) ||
            (st = sl_an_write_f64(dir, "eigenvalues.npy", 3, pd2, res.eig)) ||
            (st = sl_an_write_f64(dir, "eigenvalues_discrete.npy", 3, pd2, res.eig_discrete)) ||
            (st = sl_an_write_f64(dir, "unstable_modes.npy", 3, p3d, res.modes)) ||
            (st = sl_an_write_f64(dir, "initial_states.npy", 2, kd, x0)) ||
            (st = sl_an_write_f64(dir, "q_all.npy", 1, k1, res.q_all)) ||
            (st = sl_an_write_i32(dir, "n_unstable.npy", 1, p1, res.n_unstable)) ||
            (st = sl_an_write_i32(dir, "group.npy", 1, p1, res.group)))
            goto out;
        /* uint8: analysis.h has no writer for it */
        char path[4096];
        snprintf(path, sizeof path, "%s/stable.npy", dir);
        sl_array a = {SL_U8, 1, {P}, stable};
        if ((st = sl_npy_write(path, &a))) goto out;
    }

    sum = cJSON_CreateObject();
    cJSON_AddNumberToObject(sum, "n_unique", P);
    cJSON_AddNumberToObject(sum, "n_stable", n_stable);
    cJSON_AddNumberToObject(sum, "n_fixed", n_fixed);
    cJSON_AddNumberToObject(sum, "n_slow", P - n_fixed);
    cJSON_AddNumberToObject(sum, "n_inits", K);
    cJSON_AddNumberToObject(sum, "iterations", res.iterations);
    cJSON_AddNumberToObject(sum, "state_dim", D);
    cJSON_AddStringToObject(sum, "model", sl_cell_kind_name(ms->cell));
    cJSON_AddNumberToObject(sum, "alpha", res.alpha);
    cJSON_AddStringToObject(sum, "stability",
                            ms->cell == SL_CELL_CTRNN
                                ? "continuous time: max Re(lambda) < 0 (eigenvalues in units of 1/tau)"
                                : "discrete map: max |lambda_discrete| < 1; eigenvalues.npy = lambda_discrete - 1 (per step)");
    cJSON *o = cJSON_AddObjectToObject(sum, "options");
    cJSON_AddNumberToObject(o, "n_inits_per_group", n_inits);
    cJSON_AddNumberToObject(o, "noise_scale", noise);
    cJSON_AddNumberToObject(o, "tol_q", sp.tol_q);
    cJSON_AddNumberToObject(o, "tol_dq", sp.tol_dq);
    cJSON_AddNumberToObject(o, "max_iters", sp.max_iters);
    cJSON_AddNumberToObject(o, "lr_init", sp.lr_init);
    cJSON_AddNumberToObject(o, "newton_iters", sp.newton_iters);
    cJSON_AddNumberToObject(o, "tol_unique", sp.tol_unique);
    cJSON_AddNumberToObject(o, "outlier_distance_scale", sp.outlier_distance_scale);
    cJSON_AddNumberToObject(o, "fixed_q", sp.fixed_q);
    cJSON_AddNumberToObject(o, "seed", seed);
    cJSON_AddNumberToObject(o, "trials_sampled", n_trials);

    /* per group: counts, line-attractor figures, and how each input moves the state */
    pc = malloc((size_t)D * 3 * sizeof(double));
    double *gx = malloc(((size_t)(P ? P : 1) * D) * sizeof(double));
    if (!pc || !gx) {
        free(gx);
        st = sl_fail(SL_ENOMEM, "fixedpoints: out of memory");
        goto out;
    }
    cJSON *groups = cJSON_AddArrayToObject(sum, "groups");
    for (int g = 0; g < n_groups && !st; g++) {
        cJSON *jg = cJSON_CreateObject();
        cJSON_AddItemToArray(groups, jg);
        cJSON *ju = cJSON_AddArrayToObject(jg, "input");
        for (int c = 0; c < NI; c++) cJSON_AddItemToArray(ju, cJSON_CreateNumber(inputs[(size_t)g * NI + c]));
        if (n_ctx) cJSON_AddNumberToObject(jg, "context_channel", ctx_ch[g]);
        int gp = 0, gs = 0, gf = 0;
        double slow_max = 0, rest_max = -INFINITY, q_max = 0;
        for (int p = 0; p < P; p++) {
            if (res.group[p] != g) continue;
            memcpy(gx + (size_t)gp * D, res.x + (size_t)p * D, (size_t)D * sizeof(double));
            gp++, gs += stable[p], gf += res.q[p] <= sp.fixed_q;
            q_max = fmax(q_max, res.q[p]);
            /* the mode nearest 0 and the largest real part among the others */
            const double *ev = res.eig + (size_t)p * D * 2;
            int im = 0;
            for (int i = 1; i < D; i++)
                if (hypot(ev[2 * i], ev[2 * i + 1]) < hypot(ev[2 * im], ev[2 * im + 1])) im = i;
            slow_max = fmax(slow_max, hypot(ev[2 * im], ev[2 * im + 1]));
            for (int i = 0; i < D; i++)
                if (i != im) rest_max = fmax(rest_max, ev[2 * i]);
        }
        cJSON_AddNumberToObject(jg, "n_unique", gp);
        cJSON_AddNumberToObject(jg, "n_stable", gs);
        cJSON_AddNumberToObject(jg, "n_fixed", gf);
        if (gp == 0) continue;
        /* the figures below cover every unique point, slow points included:
         * q_max says how far from fixed the least converged of them is */
        cJSON_AddNumberToObject(jg, "q_max", q_max);
        double r1 = pc1_ratio(gx, gp, D, pc);
        if (isfinite(r1)) cJSON_AddNumberToObject(jg, "pc1_variance_ratio", r1);
        cJSON_AddNumberToObject(jg, "slowest_abs_eigenvalue_max", slow_max);
        if (D > 1) cJSON_AddNumberToObject(jg, "other_eigenvalues_real_max", rest_max);
        if (!isfinite(r1) || probe <= 0) continue;
        /* from the group's fixed point nearest its centroid, probe_steps steps under
         * input + probe on one non-context channel: displacement along PC1 and off it */
        double *mu = pc + D, *x = pc + 2 * D, best = INFINITY;
        int pm = 0;
        memset(mu, 0, (size_t)D * sizeof(double));
        for (int p = 0; p < gp; p++)
            for (int i = 0; i < D; i++) mu[i] += gx[(size_t)p * D + i] / gp;
        for (int p = 0; p < gp; p++) {
            double d2 = 0;
            for (int i = 0; i < D; i++) d2 += (gx[(size_t)p * D + i] - mu[i]) * (gx[(size_t)p * D + i] - mu[i]);
            if (d2 < best) best = d2, pm = p;
        }
        cJSON *jp = cJSON_AddArrayToObject(jg, "probes");
        double *u = malloc((size_t)NI * sizeof(double));
        if (!u) {
            st = sl_fail(SL_ENOMEM, "fixedpoints: out of memory");
            break;
        }
        for (int c = 0; c < NI && !st; c++) {
            int is_ctx = 0;
            for (int j = 0; j < n_ctx; j++) is_ctx |= ctx_ch[j] == c;
            if (is_ctx) continue;
            memcpy(u, inputs + (size_t)g * NI, (size_t)NI * sizeof(double));
            u[c] += probe;
            memcpy(x, gx + (size_t)pm * D, (size_t)D * sizeof(double));
            if ((st = drift(s, x, u, probe_steps))) break;
            double along = 0, tot = 0;
            for (int i = 0; i < D; i++) {
                double d = x[i] - gx[(size_t)pm * D + i];
                along += d * pc[i];
                tot += d * d;
            }
            cJSON *pr = cJSON_CreateObject();
            cJSON_AddNumberToObject(pr, "channel", c);
            cJSON_AddNumberToObject(pr, "along_pc1", along);
            cJSON_AddNumberToObject(pr, "off_pc1", sqrt(fmax(tot - along * along, 0)));
            cJSON_AddItemToArray(jp, pr);
        }
        free(u);
    }
    free(gx);
    if (st) goto out;
    cJSON *files = cJSON_AddObjectToObject(sum, "files");
    cJSON_AddStringToObject(files, "points.npy", "P x D unique fixed/slow points (float64; LSTM: h then c)");
    cJSON_AddStringToObject(files, "q.npy", "P: q = 0.5 |x - F(x,u)|^2 at each point");
    cJSON_AddStringToObject(files, "inputs.npy", "P x n_in: the constant input of each point");
    cJSON_AddStringToObject(files, "group.npy", "P int32: the input group (summary groups[]) of each point");
    cJSON_AddStringToObject(files, "eigenvalues.npy", "P x D x 2: continuous-time eigenvalues (re, im), real part descending");
    cJSON_AddStringToObject(files, "eigenvalues_discrete.npy", "P x D x 2: eigenvalues of dF/dx, same order");
    cJSON_AddStringToObject(files, "stable.npy", "P uint8: 1 = stable (criterion in 'stability')");
    cJSON_AddStringToObject(files, "n_unstable.npy", "P int32: number of unstable modes");
    cJSON_AddStringToObject(files, "unstable_modes.npy", "P x 3 x D: real parts of the top-3 modes' eigenvectors");
    cJSON_AddStringToObject(files, "initial_states.npy", "K x D: the initial states searched (for PCA plots)");
    cJSON_AddStringToObject(files, "q_all.npy", "K: final q of every search, before deduplication");
    st = sl_an_write_json(dir, "summary.json", sum);
out:
    cJSON_Delete(sum);
    sl_fp_result_free(&res);
    sl_stepmap_free(s);
    sl_task_free(task);
    free(traj), free(x0), free(inputs), free(pc), free(ucat), free(gk), free(ctx_ch), free(on);
    return st;
}
