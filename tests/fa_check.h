/* fa_check.h — feedback-alignment gradient checks shared by the float32
 * suite (tests/test_fa.c: the CT-RNN's fused float32 path) and the float64
 * suite (tests/f64/test_fa_fd.c: the generic paths, tight tolerance).
 *
 * With readout FA the backward sends dz through B_fa instead of W, so for
 * a FIXED dz the gradients of every tensor but W, c equal the exact backward
 * of the same model with W replaced by B_fa (fed the same dz); W and c keep
 * their exact gradients. Recurrent FA with B_rec = J (weight_hh) is exact
 * BPTT; with another B_rec the recurrent gradients change. */
#ifndef SILICO_FA_CHECK_H
#define SILICO_FA_CHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"

typedef struct {
    sl_cell_kind kind;
    sl_activation act;
    int N, n_in, n_out, B, T;
} fa_case;

/* grads after forward + backward(dz) on u (dz computed by the caller) */
static sl_real *fa_grads(sl_model *m, const sl_real *u, const sl_real *dz, int B, int T)
{
    sl_workspace *ws = NULL;
    if (sl_workspace_create(m, B, T, &ws)) return NULL;
    sl_model_zero_grad(m);
    sl_real *g = NULL;
    if (!sl_model_forward(m, ws, u, B, T, NULL, NULL) && !sl_model_backward(m, ws, dz, 0)) {
        size_t np = sl_model_num_params(m);
        g = malloc(np * sizeof(sl_real));
        if (g) memcpy(g, sl_model_grads(m), np * sizeof(sl_real));
    }
    sl_workspace_free(ws);
    return g;
}

/* max |a − b| / max(|b|) over tensor p */
static double fa_rel(const sl_param_info *p, const sl_real *a, const sl_real *b)
{
    double d = 0, s = 1e-300;
    for (size_t i = 0; i < p->numel; i++) {
        d = fmax(d, fabs((double)a[p->offset + i] - b[p->offset + i]));
        s = fmax(s, fabs((double)b[p->offset + i]));
    }
    return d / s;
}

/* Returns the worst relative error of the readout-FA identity (non-readout
 * tensors against the W := B_fa model, W and c against exact), or a
 * negative value on a setup failure. */
static double fa_check_readout(const fa_case *c, uint64_t seed)
{
    sl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_in = c->n_in, s.n_hidden = c->N, s.n_out = c->n_out, s.act = c->act, s.cell = c->kind;
    s.tau_ms = 50, s.dt_ms = 10, s.g = 1.5, s.h = 1;
    sl_rng r;
    sl_rng_seed(&r, seed);
    sl_model *m = NULL, *m2 = NULL;
    if (sl_model_create(&s, &r, &m) || sl_model_create(&s, &r, &m2)) return -1;
    const size_t np = sl_model_num_params(m), nu = (size_t)c->B * c->T * c->n_in,
                 nz = (size_t)c->B * c->T * c->n_out;
    sl_real *u = malloc(nu * sizeof(sl_real)), *dz = malloc(nz * sizeof(sl_real));
    sl_real *Bfa = malloc((size_t)c->n_out * c->N * sizeof(sl_real));
    for (size_t i = 0; i < nu; i++) u[i] = (sl_real)sl_rng_normal(&r);
    for (size_t i = 0; i < nz; i++) dz[i] = (sl_real)(0.3 * sl_rng_normal(&r));
    for (int i = 0; i < c->n_out * c->N; i++) Bfa[i] = (sl_real)(0.5 * sl_rng_normal(&r));
    memcpy(sl_model_params(m2), sl_model_params(m), np * sizeof(sl_real));
    const sl_param_info *pW = sl_model_find(m, "W"), *pc = sl_model_find(m, "c");
    memcpy(sl_model_params(m2) + pW->offset, Bfa, pW->numel * sizeof(sl_real));

    sl_real *g_exact = fa_grads(m, u, dz, c->B, c->T);
    sl_real *g_sub = fa_grads(m2, u, dz, c->B, c->T);
    double worst = -1;
    if (g_exact && g_sub && !sl_model_set_feedback(m, Bfa, NULL)) {
        sl_real *g_fa = fa_grads(m, u, dz, c->B, c->T);
        if (g_fa) {
            worst = 0;
            for (int k = 0; k < sl_model_num_tensors(m); k++) {
                const sl_param_info *p = sl_model_tensor(m, k);
                const int readout = p->offset == pW->offset || p->offset == pc->offset;
                worst = fmax(worst, fa_rel(p, g_fa, readout ? g_exact : g_sub));
            }
            /* and the non-readout gradients really changed */
            const sl_param_info *p0 = sl_model_tensor(m, 0);
            if (fa_rel(p0, g_fa, g_exact) < 1e-3) worst = 1;
        }
        free(g_fa);
    }
    free(g_exact);
    free(g_sub);
    free(u);
    free(dz);
    free(Bfa);
    sl_model_free(m);
    sl_model_free(m2);
    return worst;
}

/* Recurrent FA: B_rec = the recurrent matrix itself gives exact gradients
 * (*same, relative error); a different B_rec changes the recurrent
 * matrix's gradient (*diff) but not W's. Returns 0, or −1 on failure. */
static int fa_check_recurrent(const fa_case *c, uint64_t seed, double *same, double *diff,
                              double *w_diff)
{
    sl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_in = c->n_in, s.n_hidden = c->N, s.n_out = c->n_out, s.act = c->act, s.cell = c->kind;
    s.tau_ms = 50, s.dt_ms = 10, s.g = 1.5, s.h = 1;
    sl_rng r;
    sl_rng_seed(&r, seed);
    sl_model *m = NULL;
    if (sl_model_create(&s, &r, &m)) return -1;
    const char *rec = c->kind == SL_CELL_CTRNN ? "J" : "weight_hh";
    const sl_param_info *pJ = sl_model_find(m, rec), *pW = sl_model_find(m, "W");
    const size_t nu = (size_t)c->B * c->T * c->n_in, nz = (size_t)c->B * c->T * c->n_out;
    sl_real *u = malloc(nu * sizeof(sl_real)), *dz = malloc(nz * sizeof(sl_real));
    sl_real *R = malloc(pJ->numel * sizeof(sl_real));
    for (size_t i = 0; i < nu; i++) u[i] = (sl_real)sl_rng_normal(&r);
    for (size_t i = 0; i < nz; i++) dz[i] = (sl_real)(0.3 * sl_rng_normal(&r));
    int rc = -1;
    sl_real *g0 = fa_grads(m, u, dz, c->B, c->T), *g1 = NULL, *g2 = NULL;
    memcpy(R, sl_model_params(m) + pJ->offset, pJ->numel * sizeof(sl_real));
    if (g0 && !sl_model_set_feedback(m, NULL, R)) g1 = fa_grads(m, u, dz, c->B, c->T);
    for (size_t i = 0; i < pJ->numel; i++) R[i] = (sl_real)(0.3 * sl_rng_normal(&r));
    if (g1 && !sl_model_set_feedback(m, NULL, R)) g2 = fa_grads(m, u, dz, c->B, c->T);
    if (g2) {
        *same = 0;
        for (int k = 0; k < sl_model_num_tensors(m); k++)
            *same = fmax(*same, fa_rel(sl_model_tensor(m, k), g1, g0));
        *diff = fa_rel(pJ, g2, g0);
        *w_diff = fa_rel(pW, g2, g0);
        rc = 0;
    }
    free(g0);
    free(g1);
    free(g2);
    free(u);
    free(dz);
    free(R);
    sl_model_free(m);
    return rc;
}

#endif
