/* step_impl.h — the batched one-step map and its vector–Jacobian product for
 * one precision; src/nn/step.c includes it twice (REAL = double, SFX = _d;
 * REAL = float, SFX = _f). The equations are in step.c's first comment.
 *
 * Work (per row): P = the recurrent product (G·N), the traces (5N), then the
 * VJP's gate errors (G·N). */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

static inline REAL FN(sigm_)(REAL x) { return (REAL)0.5 + (REAL)0.5 * FN(tanh_)((REAL)0.5 * x); }

static inline REAL FN(act_)(sl_activation a, REAL x)
{
    switch (a) {
    case SL_ACT_RECT_TANH: return x > 0 ? FN(tanh_)(x) : 0;
    case SL_ACT_TANH: return FN(tanh_)(x);
    case SL_ACT_RELU: return x > 0 ? x : 0;
    case SL_ACT_SOFTPLUS: return x > 20 ? x : (REAL)log1p(exp((double)x));
    case SL_ACT_SIGMOID: return FN(sigm_)(x);
    }
    return 0;
}

/* f'(x) from x and y = f(x) */
static inline REAL FN(dact_)(sl_activation a, REAL x, REAL y)
{
    switch (a) {
    case SL_ACT_RECT_TANH: return x > 0 ? 1 - y * y : 0;
    case SL_ACT_TANH: return 1 - y * y;
    case SL_ACT_RELU: return x > 0 ? 1 : 0;
    case SL_ACT_SOFTPLUS: return x > 20 ? 1 : FN(sigm_)(x);
    case SL_ACT_SIGMOID: return y * (1 - y);
    }
    return 0;
}

void FN(sl_stepmap_forward)(const sl_stepmap *s, int B, const REAL *X, const REAL *A, REAL *F,
                            REAL *work)
{
    const int N = s->N, D = s->D, GN = s->G * N;
    const REAL *Wh = FN(wh_of)(s), *bh = FN(bh_of)(s), *WhT = FN(wht_of)(s);
    REAL *P = work, *Tr = work + (size_t)B * GN; /* B×GN, B×5N */
    const REAL al = (REAL)s->alpha;
    if (s->kind == SL_CELL_CTRNN) { /* r = φ(x) into Tr's second N, P = r Jᵀ */
        for (int k = 0; k < B; k++) {
            const REAL *x = X + (size_t)k * D;
            REAL *tr = Tr + (size_t)k * 5 * N;
            FN(act_row)(s->act, x, tr + N, tr, N);
        }
        if (WhT)
            FN(gemm)(0, 0, B, N, N, 1, Tr + N, 5 * N, WhT, GN, 0, P, GN);
        else
            FN(gemm)(0, 1, B, N, N, 1, Tr + N, 5 * N, Wh, N, 0, P, GN);
    } else if (WhT) {
        FN(gemm)(0, 0, B, GN, N, 1, X, D, WhT, GN, 0, P, GN);
    } else {
        FN(gemm)(0, 1, B, GN, N, 1, X, D, Wh, N, 0, P, GN);
    }
    for (int k = 0; k < B; k++) {
        const REAL *x = X + (size_t)k * D, *a = A + (size_t)k * GN;
        REAL *p = P + (size_t)k * GN, *tr = Tr + (size_t)k * 5 * N, *f = F + (size_t)k * D;
        switch (s->kind) {
        case SL_CELL_CTRNN:
            for (int i = 0; i < N; i++) f[i] = (1 - al) * x[i] + al * (p[i] + a[i]);
            break;
        case SL_CELL_RNN:
            for (int i = 0; i < N; i++) p[i] += a[i];
            FN(act_row)(s->act, p, f, tr, N);
            break;
        case SL_CELL_GRU: /* tr = r, z, n, gh_n */
            for (int i = 0; i < N; i++) {
                REAL r = FN(sigm_)(a[i] + p[i] + bh[i]);
                REAL z = FN(sigm_)(a[N + i] + p[N + i] + bh[N + i]);
                REAL ghn = p[2 * N + i] + bh[2 * N + i];
                REAL n = FN(tanh_)(a[2 * N + i] + r * ghn);
                f[i] = (1 - z) * n + z * x[i];
                tr[i] = r, tr[N + i] = z, tr[2 * N + i] = n, tr[3 * N + i] = ghn;
            }
            break;
        case SL_CELL_LIGHTGRU: /* tr = z, h̃ */
            for (int i = 0; i < N; i++) {
                REAL z = FN(sigm_)(a[i] + p[i]), v = a[N + i] + p[N + i], hc = v > 0 ? v : 0;
                f[i] = z * x[i] + (1 - z) * hc;
                tr[i] = z, tr[N + i] = hc;
            }
            break;
        case SL_CELL_LSTM: /* tr = i, f, g, o, tanh(c') */
            for (int j = 0; j < N; j++) {
                REAL ig = FN(sigm_)(a[j] + p[j]), fg = FN(sigm_)(a[N + j] + p[N + j]);
                REAL gg = FN(tanh_)(a[2 * N + j] + p[2 * N + j]);
                REAL og = FN(sigm_)(a[3 * N + j] + p[3 * N + j]);
                REAL c = fg * x[N + j] + ig * gg, tc = FN(tanh_)(c);
                f[j] = og * tc;
                f[N + j] = c;
                tr[j] = ig, tr[N + j] = fg, tr[2 * N + j] = gg, tr[3 * N + j] = og, tr[4 * N + j] = tc;
            }
            break;
        }
    }
}

void FN(sl_stepmap_vjp)(const sl_stepmap *s, int B, const REAL *X, const REAL *R, REAL *out,
                        REAL *work)
{
    const int N = s->N, D = s->D, GN = s->G * N;
    const REAL *Wh = FN(wh_of)(s);
    REAL *Tr = work + (size_t)B * GN, *E = Tr + (size_t)B * 5 * N; /* E: B×GN gate errors */
    const REAL al = (REAL)s->alpha;
    for (int k = 0; k < B; k++) {
        const REAL *x = X + (size_t)k * D, *r = R + (size_t)k * D, *tr = Tr + (size_t)k * 5 * N;
        REAL *e = E + (size_t)k * GN;
        switch (s->kind) {
        case SL_CELL_CTRNN: break; /* the GEMM reads R itself */
        case SL_CELL_RNN:
            for (int i = 0; i < N; i++) e[i] = r[i] * tr[i];
            break;
        case SL_CELL_GRU:
            for (int i = 0; i < N; i++) {
                REAL rg = tr[i], z = tr[N + i], n = tr[2 * N + i], ghn = tr[3 * N + i];
                REAL dn = r[i] * (1 - z) * (1 - n * n);
                e[i] = dn * ghn * rg * (1 - rg);
                e[N + i] = r[i] * (x[i] - n) * z * (1 - z);
                e[2 * N + i] = dn * rg;
            }
            break;
        case SL_CELL_LIGHTGRU:
            for (int i = 0; i < N; i++) {
                REAL z = tr[i], hc = tr[N + i];
                e[i] = r[i] * (x[i] - hc) * z * (1 - z);
                e[N + i] = hc > 0 ? r[i] * (1 - z) : 0;
            }
            break;
        case SL_CELL_LSTM:
            for (int j = 0; j < N; j++) {
                REAL ig = tr[j], fg = tr[N + j], gg = tr[2 * N + j], og = tr[3 * N + j],
                     tc = tr[4 * N + j];
                REAL dc = r[N + j] + r[j] * og * (1 - tc * tc);
                e[j] = dc * gg * ig * (1 - ig);
                e[N + j] = dc * x[N + j] * fg * (1 - fg);
                e[2 * N + j] = dc * ig * (1 - gg * gg);
                e[3 * N + j] = r[j] * tc * og * (1 - og);
            }
            break;
        }
    }
    /* out_h = E Wh (CT-RNN: (R J) ⊙ φ'(x), scaled by α, plus (1 − α) R) */
    if (s->kind == SL_CELL_CTRNN)
        FN(gemm)(0, 0, B, N, N, 1, R, D, Wh, N, 0, out, D);
    else
        FN(gemm)(0, 0, B, N, GN, 1, E, GN, Wh, N, 0, out, D);
    for (int k = 0; k < B; k++) {
        const REAL *r = R + (size_t)k * D, *tr = Tr + (size_t)k * 5 * N;
        REAL *o = out + (size_t)k * D;
        switch (s->kind) {
        case SL_CELL_CTRNN:
            for (int i = 0; i < N; i++) o[i] = (1 - al) * r[i] + al * o[i] * tr[i];
            break;
        case SL_CELL_RNN: break;
        case SL_CELL_GRU:
            for (int i = 0; i < N; i++) o[i] += r[i] * tr[N + i];
            break;
        case SL_CELL_LIGHTGRU:
            for (int i = 0; i < N; i++) o[i] += r[i] * tr[i];
            break;
        case SL_CELL_LSTM:
            for (int j = 0; j < N; j++) {
                REAL og = tr[3 * N + j], tc = tr[4 * N + j];
                o[N + j] = (r[N + j] + r[j] * og * (1 - tc * tc)) * tr[N + j];
            }
            break;
        }
    }
}

#undef FN
#undef CAT
#undef CAT_
