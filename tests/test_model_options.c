/* test_model_options.c — model options beyond the weights, for every kind:
 *
 *  - noise (spec.sigma_rec, spec.sigma_in): off when the forward gets no rng
 *    (evaluation: bit-identical to the same weights without noise), seeded
 *    (same rng state, same output; another seed, another output), and of the
 *    stated variance: cells N(0, 2σ_rec²) on each gate's pre-activation
 *    (α = 1), the CT-RNN's √(2α)σ_rec per Euler step on x (stationary
 *    Var x = σ²/(1 − α/2) with J = B = 0) or √(2/α)σ_rec on the rate form's
 *    pre-activation, and σ_in on the inputs;
 *  - the plasticity mask (spec.plastic_mask): over 100 Adam steps with
 *    weight decay the frozen entries of the recurrent matrix stay
 *    bit-identical and the plastic ones move, for every kind;
 *  - checkpoints: connectivity and plasticity masks, Dale signs and the
 *    feedback-alignment matrices are saved under clear names (mask.R,
 *    plastic.R, dale.sign, feedback.readout, feedback.recurrent) and the
 *    loaded model is the same model: same parameters, outputs and gradients
 *    (the feedback matrices act in backward), for every kind;
 *  - the experiment-file keys model.areas / area_links / area_p_* and
 *    model.plastic_mask through the trainer. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "silico.h"
#include "testutil.h"

static const sl_cell_kind KINDS[] = {SL_CELL_CTRNN, SL_CELL_RNN, SL_CELL_GRU, SL_CELL_LIGHTGRU,
                                     SL_CELL_LSTM};
#define N_KINDS (int)(sizeof KINDS / sizeof KINDS[0])

static const char *rec_of(sl_cell_kind k)
{
    return k == SL_CELL_CTRNN ? "J" : k == SL_CELL_LIGHTGRU ? "U_h" : "weight_hh";
}

static sl_model_spec spec_of(sl_cell_kind k, int n_in, int N, int n_out)
{
    sl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_in = n_in, s.n_hidden = N, s.n_out = n_out, s.cell = k, s.act = SL_ACT_TANH;
    s.tau_ms = 50, s.dt_ms = 10, s.g = 1.5, s.h = 1;
    return s;
}

static sl_model *make(const sl_model_spec *s, uint64_t seed)
{
    sl_rng r;
    sl_rng_seed(&r, seed);
    sl_model *m = NULL;
    cr_assert_eq(sl_model_create(s, &r, &m), SL_OK, "%s: %s", sl_cell_kind_name(s->cell),
                 sl_last_error());
    return m;
}

static void fill_normal(sl_real *x, size_t n, uint64_t seed)
{
    sl_rng r;
    sl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = (sl_real)sl_rng_normal(&r);
}

Test(model_options, noise_off_in_evaluation_and_seeded)
{
    const int NI = 3, N = 8, NO = 2, B = 4, T = 10;
    const size_t nu = (size_t)B * T * NI, nz = (size_t)B * T * NO;
    sl_real *u = malloc(nu * sizeof(sl_real)), *z0 = malloc(nz * sizeof(sl_real)),
            *z1 = malloc(nz * sizeof(sl_real)), *z2 = malloc(nz * sizeof(sl_real)),
            *z3 = malloc(nz * sizeof(sl_real));
    cr_assert(u && z0 && z1 && z2 && z3);
    fill_normal(u, nu, 3);
    for (int form = 0; form < 2; form++)
        for (int k = 0; k < N_KINDS; k++) {
            if (form && KINDS[k] != SL_CELL_CTRNN) continue;
            for (int which = 0; which < 2; which++) { /* recurrent, then input noise */
                sl_model_spec s = spec_of(KINDS[k], NI, N, NO);
                s.form = (sl_ctrnn_form)form;
                sl_model *quiet = make(&s, 21);
                if (which) s.sigma_in = 0.3; else s.sigma_rec = 0.3;
                sl_model *noisy = make(&s, 21);
                const char *what = which ? "sigma_in" : "sigma_rec";
                sl_workspace *ws = NULL;
                cr_assert_eq(sl_workspace_create(noisy, B, T, &ws), SL_OK);
                cr_assert_eq(sl_model_forward(quiet, ws, u, B, T, NULL, z0), SL_OK, "%s", sl_last_error());
                cr_assert_eq(sl_model_forward(noisy, ws, u, B, T, NULL, z1), SL_OK);
                cr_expect_eq(memcmp(z0, z1, nz * sizeof(sl_real)), 0,
                             "%s/%s %s: no rng must mean no noise", sl_cell_kind_name(s.cell),
                             sl_ctrnn_form_name(s.form), what);
                sl_rng r;
                sl_rng_seed(&r, 7);
                cr_assert_eq(sl_model_forward(noisy, ws, u, B, T, &r, z1), SL_OK);
                sl_rng_seed(&r, 7);
                cr_assert_eq(sl_model_forward(noisy, ws, u, B, T, &r, z2), SL_OK);
                sl_rng_seed(&r, 8);
                cr_assert_eq(sl_model_forward(noisy, ws, u, B, T, &r, z3), SL_OK);
                cr_expect_eq(memcmp(z1, z2, nz * sizeof(sl_real)), 0, "%s %s: seeded",
                             sl_cell_kind_name(s.cell), what);
                cr_expect_neq(memcmp(z1, z3, nz * sizeof(sl_real)), 0, "%s %s: another seed",
                              sl_cell_kind_name(s.cell), what);
                cr_expect_neq(memcmp(z0, z1, nz * sizeof(sl_real)), 0, "%s %s: noise on",
                              sl_cell_kind_name(s.cell), what);
                sl_workspace_free(ws);
                sl_model_free(quiet);
                sl_model_free(noisy);
            }
        }
    free(u), free(z0), free(z1), free(z2), free(z3);
}

/* mean and variance of the B×T×N states from step t0 on */
static void stats(const sl_real *x, int B, int T, int N, int t0, double *mean, double *var,
                  double *msq)
{
    double s = 0, ss = 0;
    size_t n = 0;
    for (int b = 0; b < B; b++)
        for (int t = t0; t < T; t++)
            for (int i = 0; i < N; i++) {
                double v = x[((size_t)b * T + t) * N + i];
                s += v, ss += v * v, n++;
            }
    *mean = s / n;
    *msq = ss / n;
    *var = ss / n - (s / n) * (s / n);
}

/* x (B×T×N) = the states of m driven by u with noise from seed */
static void forward_states(sl_model *m, const sl_real *u, int B, int T, unsigned long long seed,
                           sl_real *x)
{
    sl_workspace *ws = NULL;
    cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK);
    sl_rng r;
    sl_rng_seed(&r, seed);
    cr_assert_eq(sl_model_forward(m, ws, u, B, T, &r, NULL), SL_OK);
    sl_model_states(ws, x, NULL);
    sl_workspace_free(ws);
}

Test(model_options, noise_has_the_stated_variance)
{
    const int N = 16, B = 32, T = 60, NO = 1;
    const double sigma = 0.3;
    sl_real *x = malloc((size_t)B * T * N * sizeof(sl_real));
    sl_real *u = calloc((size_t)B * T * N, sizeof(sl_real));
    cr_assert(x && u);
    double mean, var, msq;
    /* vanilla RNN, relu, every weight 0: h = relu(ξ), ξ ~ N(0, 2σ²), E h² = σ² */
    {
        sl_model_spec s = spec_of(SL_CELL_RNN, 1, N, NO);
        s.act = SL_ACT_RELU, s.sigma_rec = sigma;
        sl_model *m = make(&s, 1);
        memset(sl_model_params(m), 0, sl_model_num_params(m) * sizeof(sl_real));
        forward_states(m, u, B, T, 5, x);
        stats(x, B, T, N, 0, &mean, &var, &msq);
        cr_expect(fabs(msq / (sigma * sigma) - 1) < 0.05, "rnn: E h² = %g, want %g", msq, sigma * sigma);
        sl_model_free(m);
    }
    /* input noise: W_ih = I, all else 0, u = 0: h = relu(σ_in ξ), E h² = σ_in²/2 */
    {
        sl_model_spec s = spec_of(SL_CELL_RNN, N, N, NO);
        s.act = SL_ACT_RELU, s.sigma_in = sigma;
        sl_model *m = make(&s, 1);
        memset(sl_model_params(m), 0, sl_model_num_params(m) * sizeof(sl_real));
        const sl_param_info *wi = sl_model_find(m, "weight_ih");
        for (int i = 0; i < N; i++) sl_model_params(m)[wi->offset + (size_t)i * N + i] = 1;
        forward_states(m, u, B, T, 6, x);
        stats(x, B, T, N, 0, &mean, &var, &msq);
        cr_expect(fabs(msq / (sigma * sigma / 2) - 1) < 0.05, "rnn input: E h² = %g, want %g", msq,
                  sigma * sigma / 2);
        sl_model_free(m);
    }
    /* CT-RNN, J = B = b = 0: current form x_{t+1} = (1−α)x_t + √(2α)σξ, stationary
     * Var x = σ²/(1 − α/2); rate form: x holds the pre-activation, Var = 2σ²/α */
    for (int form = 0; form < 2; form++) {
        sl_model_spec s = spec_of(SL_CELL_CTRNN, 1, N, NO);
        s.sigma_rec = sigma, s.dt_ms = 10, s.tau_ms = 50, s.form = (sl_ctrnn_form)form;
        const double alpha = 0.2;
        sl_model *m = make(&s, 1);
        memset(sl_model_params(m), 0, sl_model_num_params(m) * sizeof(sl_real));
        forward_states(m, u, B, T, 9, x);
        stats(x, B, T, N, 30, &mean, &var, &msq);
        const double want = form ? 2 * sigma * sigma / alpha : sigma * sigma / (1 - alpha / 2);
        cr_expect(fabs(var / want - 1) < 0.06 && fabs(mean) < 0.05, "ctrnn %s: Var x = %g, want %g",
                  sl_ctrnn_form_name(s.form), var, want);
        sl_model_free(m);
    }
    free(x);
    free(u);
}

/* a fixed regression batch */
typedef struct {
    sl_real *u, *y;
    sl_batch b;
} opt_batch;

static opt_batch batch_of(int B, int T, int NI, int NO, uint64_t seed)
{
    opt_batch o;
    o.u = malloc((size_t)B * T * NI * sizeof(sl_real));
    o.y = malloc((size_t)B * T * NO * sizeof(sl_real));
    cr_assert(o.u && o.y);
    fill_normal(o.u, (size_t)B * T * NI, seed);
    fill_normal(o.y, (size_t)B * T * NO, seed + 1);
    sl_batch b = {.B = B, .T = T, .n_in = NI, .n_out = NO, .u = o.u, .y = o.y};
    o.b = b;
    return o;
}

Test(model_options, plastic_mask_freezes_entries_over_100_steps)
{
    const int NI = 3, N = 8, NO = 2, B = 4, T = 9;
    sl_real P[64];
    for (int i = 0; i < 64; i++) P[i] = (i * 7) % 5 != 0;
    opt_batch ob = batch_of(B, T, NI, NO, 30);
    for (int k = 0; k < N_KINDS; k++) {
        sl_model_spec s = spec_of(KINDS[k], NI, N, NO);
        s.plastic_mask = P;
        if (k == 1) s.dale = SL_DALE_PROJECT; /* with Dale too */
        if (k == 2) s.dale = SL_DALE_REPARAM;
        sl_model *m = make(&s, 40 + k);
        const sl_param_info *R = sl_model_find(m, rec_of(s.cell));
        cr_assert_not_null(R);
        sl_real *p = sl_model_params(m);
        sl_real *R0 = malloc(R->numel * sizeof(sl_real));
        cr_assert_not_null(R0);
        memcpy(R0, p + R->offset, R->numel * sizeof(sl_real));
        sl_workspace *ws = NULL;
        cr_assert_eq(sl_workspace_create(m, B, T, &ws), SL_OK);
        sl_adam *opt = NULL;
        sl_adam_spec as = {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
        cr_assert_eq(sl_adam_create(&as, sl_model_num_params(m), &opt), SL_OK);
        sl_loss_spec ls = {.l2_weight = 1e-2, .l2_on = SL_L2_J | SL_L2_B | SL_L2_W, .l1_weight = 1e-3,
                           .l1_on = SL_L2_J, .l2_rate = 0.1};
        for (int step = 1; step <= 100; step++) {
            sl_model_zero_grad(m);
            cr_assert_eq(sl_model_loss(m, ws, &ob.b, &ls, NULL, 1, NULL, NULL), SL_OK, "%s",
                         sl_last_error());
            sl_adam_step(opt, p, sl_model_grads(m));
            sl_model_constrain(m);
            cr_assert_eq(sl_model_check_invariants(m), SL_OK, "%s", sl_last_error());
            for (size_t e = 0; e < R->numel; e++)
                if (P[e % 64] == 0)
                    cr_assert(p[R->offset + e] == R0[e], "%s step %d: frozen %s[%zu] moved %g -> %g",
                              sl_cell_kind_name(s.cell), step, R->name, e, (double)R0[e],
                              (double)p[R->offset + e]);
        }
        size_t moved = 0, plastic = 0;
        for (size_t e = 0; e < R->numel; e++)
            if (P[e % 64] != 0) plastic++, moved += p[R->offset + e] != R0[e];
        cr_expect_gt(moved, plastic / 2, "%s: the plastic entries learn (%zu of %zu moved)",
                     sl_cell_kind_name(s.cell), moved, plastic);
        free(R0);
        sl_adam_free(opt);
        sl_workspace_free(ws);
        sl_model_free(m);
    }
    free(ob.u), free(ob.y);
}

Test(model_options, checkpoint_keeps_masks_signs_and_feedback)
{
    const int NI = 3, N = 6, NO = 2, B = 3, T = 7;
    sl_real M[36], P[36], Fw[NO * N], Fr[36];
    for (int i = 0; i < 36; i++) M[i] = (i % 5) != 3, P[i] = (i % 4) != 1;
    fill_normal(Fw, (size_t)NO * N, 77);
    fill_normal(Fr, 36, 78);
    opt_batch ob = batch_of(B, T, NI, NO, 50);
    char *d = tu_tmpdir();
    for (int k = 0; k < N_KINDS; k++) {
        sl_model_spec s = spec_of(KINDS[k], NI, N, NO);
        s.rec_mask = M, s.plastic_mask = P, s.no_autapses = 1;
        s.dale = k % 2 ? SL_DALE_REPARAM : SL_DALE_PROJECT;
        s.exc_fraction = 0.5;
        s.sigma_rec = 0.1, s.sigma_in = 0.05;
        if (KINDS[k] == SL_CELL_CTRNN) s.form = SL_CTRNN_RATE;
        sl_model *m = make(&s, 60 + k);
        const int rec_fa = KINDS[k] == SL_CELL_CTRNN || KINDS[k] == SL_CELL_RNN;
        cr_assert_eq(sl_model_set_feedback(m, Fw, rec_fa ? Fr : NULL), SL_OK, "%s", sl_last_error());
        char *path = tu_path(d, "m.safetensors");
        cr_assert_eq(sl_model_save(m, path, NULL, 0), SL_OK, "%s", sl_last_error());
        sl_model *l = NULL;
        sl_tensorfile *f = NULL;
        cr_assert_eq(sl_model_load(path, &l, &f), SL_OK, "%s: %s", sl_cell_kind_name(s.cell),
                     sl_last_error());
        const char *kn = sl_cell_kind_name(s.cell);
        char name[64];
        snprintf(name, sizeof name, "mask.%s", rec_of(s.cell));
        const sl_tensor *tm = sl_tensorfile_find(f, name);
        cr_assert_not_null(tm, "%s: %s saved", kn, name);
        cr_expect(tm->array.ndim == 2 && tm->array.shape[0] == N && tm->array.shape[1] == N);
        for (int i = 0; i < 36; i++) { /* the given mask (the ctrnn's with its zero diagonal) */
            const float want = (float)M[i] * (s.cell == SL_CELL_CTRNN && i % 7 == 0 ? 0.f : 1.f);
            cr_expect_eq(((const float *)tm->array.data)[i], want, "%s: %s[%d]", kn, name, i);
        }
        snprintf(name, sizeof name, "plastic.%s", rec_of(s.cell));
        const sl_tensor *tp = sl_tensorfile_find(f, name);
        cr_assert_not_null(tp, "%s: %s saved", kn, name);
        for (int i = 0; i < 36; i++) cr_expect_eq(((const float *)tp->array.data)[i], (float)P[i]);
        const sl_tensor *ts = sl_tensorfile_find(f, "dale.sign");
        cr_assert_not_null(ts, "%s: dale.sign saved", kn);
        for (int j = 0; j < N; j++)
            cr_expect_eq(((const float *)ts->array.data)[j], j < 3 ? 1.f : -1.f, "%s: sign %d", kn, j);
        cr_expect_not_null(sl_tensorfile_find(f, "feedback.readout"), "%s", kn);
        cr_expect((sl_tensorfile_find(f, "feedback.recurrent") != NULL) == rec_fa, "%s", kn);
        const sl_model_spec *a = sl_model_get_spec(m), *b = sl_model_get_spec(l);
        cr_expect(b->dale == a->dale && b->no_autapses && b->exc_fraction == a->exc_fraction &&
                      b->sigma_rec == a->sigma_rec && b->sigma_in == a->sigma_in && b->form == a->form,
                  "%s: the spec survives", kn);
        cr_expect_eq(sl_model_check_invariants(l), SL_OK, "%s: %s", kn, sl_last_error());
        /* same loss and gradients (feedback in backward, plasticity mask on ∂R), with noise */
        const size_t np = sl_model_num_params(m);
        cr_assert_eq(sl_model_num_params(l), np);
        cr_expect_eq(memcmp(sl_model_params(m), sl_model_params(l), np * sizeof(sl_real)), 0, "%s", kn);
        sl_workspace *w1 = NULL, *w2 = NULL;
        cr_assert_eq(sl_workspace_create(m, B, T, &w1), SL_OK);
        cr_assert_eq(sl_workspace_create(l, B, T, &w2), SL_OK);
        sl_loss_spec ls = {.l2_weight = 1e-3, .l2_on = SL_L2_J};
        sl_loss_terms t1, t2;
        sl_rng r1, r2;
        sl_rng_seed(&r1, 4), sl_rng_seed(&r2, 4);
        sl_model_zero_grad(m), sl_model_zero_grad(l);
        cr_assert_eq(sl_model_loss(m, w1, &ob.b, &ls, &r1, 1, &t1, NULL), SL_OK, "%s", sl_last_error());
        cr_assert_eq(sl_model_loss(l, w2, &ob.b, &ls, &r2, 1, &t2, NULL), SL_OK, "%s", sl_last_error());
        cr_expect_eq(t1.total, t2.total, "%s: same loss", kn);
        cr_expect_eq(memcmp(sl_model_grads(m), sl_model_grads(l), np * sizeof(sl_real)), 0,
                     "%s: same gradients", kn);
        /* and the feedback matrices do act: exact BPTT gives other gradients */
        sl_real *g1 = malloc(np * sizeof(sl_real));
        cr_assert_not_null(g1);
        memcpy(g1, sl_model_grads(l), np * sizeof(sl_real));
        cr_assert_eq(sl_model_set_feedback(l, NULL, NULL), SL_OK);
        sl_rng_seed(&r2, 4);
        sl_model_zero_grad(l);
        cr_assert_eq(sl_model_loss(l, w2, &ob.b, &ls, &r2, 1, &t2, NULL), SL_OK);
        cr_expect_neq(memcmp(g1, sl_model_grads(l), np * sizeof(sl_real)), 0, "%s", kn);
        free(g1);
        sl_workspace_free(w1), sl_workspace_free(w2);
        sl_tensorfile_free(f);
        sl_model_free(l);
        sl_model_free(m);
        free(path);
    }
    free(ob.u), free(ob.y);
    tu_rmtree(d);
}

Test(model_options, area_and_plasticity_keys_through_the_trainer)
{
    const int N = 12;
    char *d = tu_tmpdir();
    /* a plasticity mask file: the first 4 columns frozen */
    sl_array a;
    const int64_t shape[2] = {N, N};
    cr_assert_eq(sl_array_alloc(&a, SL_F32, 2, shape), SL_OK);
    for (int i = 0; i < N * N; i++) ((float *)a.data)[i] = (i % N) >= 4;
    char *pm = tu_path(d, "plastic.npy");
    cr_assert_eq(sl_npy_write(pm, &a), SL_OK);
    sl_array_free(&a);
    const char *SETUP[][2] = {
        {"model.type", "ctrnn"},        {"model.hidden", "12"},          {"model.areas", "3"},
        {"model.area_links", "feedforward"}, {"model.area_p_within", "0.5"},
        {"model.area_p_between", "0.8"}, {"model.plastic_mask", pm},     {"model.dale", "reparam"},
        {"model.ctrnn_form", "rate"},   {"model.sigma_rec", "0.05"},      {"task.name", "ddms"},
        {"task.dt", "100"},             {"model.tau", "500"},            {"task.batches_per_epoch", "4"},
        {"task.val_trials", "16"},
        {"train.epochs", "2"},          {"train.batch", "8"},            {"train.lr", "1e-2"},
        {"train.val_every", "1"},
    };
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    for (size_t i = 0; i < sizeof SETUP / sizeof SETUP[0]; i++)
        cr_assert_eq(sl_config_set(c, SETUP[i][0], SETUP[i][1], "test"), SL_OK, "%s", sl_last_error());
    sl_trainer *t = NULL;
    char *rd = tu_path(d, "run");
    cr_assert_eq(mkdir(rd, 0755), 0);
    cr_assert_eq(sl_trainer_create(c, rd, &t), SL_OK, "%s", sl_last_error());
    sl_model *m = sl_trainer_model(t);
    const sl_param_info *J = sl_model_find(m, "J");
    sl_real J0[144];
    memcpy(J0, sl_model_params(m) + J->offset, sizeof J0);
    cr_assert_eq(sl_trainer_run(t, NULL, NULL), SL_OK, "%s", sl_last_error());
    const sl_real *J1 = sl_model_params(m) + J->offset;
    for (int i = 0; i < N * N; i++)
        if (i % N < 4) cr_expect(J1[i] == J0[i], "frozen J[%d] moved", i);
    char *ck = tu_path(rd, "checkpoint.safetensors");
    sl_model *l = NULL;
    sl_tensorfile *f = NULL;
    cr_assert_eq(sl_model_load(ck, &l, &f), SL_OK, "%s", sl_last_error());
    cr_expect_eq(sl_model_get_spec(l)->form, SL_CTRNN_RATE);
    cr_expect_eq(sl_model_get_spec(l)->dale, SL_DALE_REPARAM);
    const sl_tensor *mk = sl_tensorfile_find(f, "mask.J");
    cr_assert_not_null(mk, "mask.J saved");
    cr_assert_not_null(sl_tensorfile_find(f, "plastic.J"), "plastic.J saved");
    /* areas of 4: within-area about half kept, only area a → a+1 between */
    const float *Mk = mk->array.data;
    int within = 0, ff = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            const int to = i / 4, from = j / 4;
            const float v = Mk[i * N + j];
            if (to == from) within += v != 0;
            else if (to == from + 1) ff += v != 0;
            else cr_expect_eq(v, 0.f, "mask.J[%d,%d]: area %d -> %d must be absent", i, j, from, to);
        }
    cr_expect(within > 8 && within < 40, "within-area synapses kept: %d of 48", within);
    cr_expect(ff > 16, "feedforward synapses kept: %d of 32", ff);
    cr_expect_eq(sl_model_check_invariants(l), SL_OK, "%s", sl_last_error());
    sl_tensorfile_free(f);
    sl_model_free(l);
    free(ck), free(rd), free(pm);
    sl_trainer_free(t);
    sl_config_free(c);
    tu_rmtree(d);
}
