/* train.c — the trainer: exact BPTT with Adam on a batch source, writing a
 * run directory.
 *
 *   loss  = masked MSE + λ_w Σ_{M ∈ l2_on} Σ M² + λ_r mean(r²)     (sl_model_loss)
 *           + λ₁ Σ_{M ∈ l1_on} Σ|M| + λ_r1 mean|r|
 *           [+ β mean ‖h‖₂, cells, train.l2_activation]
 *   step  = zero grads → forward + BPTT (or feedback alignment: fixed random
 *           feedback for W [and J], train.feedback_alignment) → zero the
 *           gradients of tensors outside train.train_only → clip by value →
 *           clip global norm → Adam (scheduled lr; step and plateau schedules
 *           set Adam's lr after each epoch / validation)
 *           → sl_model_constrain (Dale project) [→ sl_model_check_invariants
 *           when built with -DSL_CHECK_INVARIANTS]
 *   (masked gradients — ENU blocks, no autapses, Dale reparam — are exact
 *   inside sl_model_loss: the forward uses the effective matrices)
 *   epoch = one pass over the training split (conditions × delays), shuffled
 *
 * Run directory (must exist; the CLI makes it):
 *   config.ini               fully resolved experiment
 *   run.json                 silico version, BLAS, threads, CPU, start time
 *   metrics.jsonl            one line per epoch (loss terms, grad norm, lr, val, seconds)
 *   checkpoint.safetensors   best weights so far (by validation error)
 *   state.safetensors        weights + Adam moments + rng state, for --resume
 *   summary.json             final errors of the best checkpoint
 *
 * Random streams (all from run.seed): 0 weights, 1 batch order and input
 * noise, 2 recurrent noise in training, 3 validation noise. With one BLAS
 * thread two runs with one seed write identical metrics apart from seconds.
 * A NaN/Inf loss stops training with SL_ENUMERIC and leaves the best
 * checkpoint as it was. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/files.h"
#include "nn/act.h"
#include "nn/cnn.h"
#include "nn/constraints.h"
#include "nn/ctrnn.h"
#include "nn/spatial.h"
#include "silico.h"
#include "train/checkpoint.h"
#include "train/train.h"

enum { STREAM_INIT = 0, STREAM_BATCH = 1, STREAM_NOISE = 2, STREAM_VAL = 3, STREAM_FA = 4,
       STREAM_MASK = 5, STREAM_AREAS = 6 };
enum { SCHED_OWN = 0, SCHED_STEP, SCHED_PLATEAU }; /* OWN: Adam's own (constant, cosine, exp.) */

struct sl_trainer {
    sl_config *cfg;
    char *dir;
    sl_model *model;       /* the recurrent network, or NULL for model.type = cnn */
    sl_cnn *cnn;           /* model.type = cnn (then model is NULL) */
    sl_cnn_ws *cnn_ws;
    sl_task *task;
    sl_workspace *ws;
    sl_adam *opt;
    sl_metrics *metrics;
    sl_loss_spec loss;
    double clip, clip_value;
    int sched;             /* SCHED_*: step and plateau set Adam's lr after each epoch */
    sl_step_lr steplr;
    sl_plateau plateau;
    int fa;                /* feedback alignment: 0 off, 1 readout, 2 readout + recurrent */
    int train_only;        /* 1: only tensors with train_mask[i] get gradients */
    unsigned char train_mask[SL_MODEL_MAX_TENSORS];
    double wiring;         /* λ of the spatial wiring cost (0 = off) */
    int wiring_comm;       /* 1: communicability-weighted (SE1_sWc), 0: distance (SE1) */
    int wiring_t;          /* index of the recurrent tensor it applies to */
    double *wiring_D;      /* N×N unit distances on model.grid */
    long epoch, total_epochs;
    int val_every;
    double best_val;
    long best_epoch;
    double train_seconds;
    double null_train; /* null-model MSE of the training split */
    double *class_w;   /* classification: cross-entropy class weights, or NULL */
    uint64_t seed;
    sl_rng rng_batch, rng_noise;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* the flat parameter and gradient buffers of whichever network is trained */
static size_t n_params(const sl_trainer *t)
{
    return t->cnn ? sl_cnn_num_params(t->cnn) : sl_model_num_params(t->model);
}
static sl_real *params(sl_trainer *t) { return t->cnn ? sl_cnn_params(t->cnn) : sl_model_params(t->model); }
static sl_real *grads(sl_trainer *t) { return t->cnn ? sl_cnn_grads(t->cnn) : sl_model_grads(t->model); }
/* a model trained with recurrent or input noise is also evaluated with (fixed-seed) noise */
static int is_noisy(const sl_model *m) { return m && (m->spec.sigma_rec > 0 || m->spec.sigma_in > 0); }

/* ------------------------------------------------------------ set-up */

static sl_status parse_l2_on(const char *key, const char *s, unsigned *bits)
{
    *bits = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        size_t n = strcspn(p, ", ");
        if (n == 1 && *p == 'J') *bits |= SL_L2_J;
        else if (n == 1 && *p == 'B') *bits |= SL_L2_B;
        else if (n == 1 && *p == 'W') *bits |= SL_L2_W;
        else
            return sl_fail(SL_EINVAL, "%s: unknown matrix '%.*s' (use J, B, W)", key, (int)n, p);
        p += n;
    }
    return SL_OK;
}

static sl_status spec_from_config(const sl_config *c, const sl_task *t, sl_model_spec *s)
{
    memset(s, 0, sizeof *s);
    s->n_in = t->n_in;
    s->n_out = t->n_out;
    s->n_hidden = (int)sl_config_int(c, "model.hidden");
    s->tau_ms = sl_config_real(c, "model.tau");
    s->dt_ms = t->dt_ms;
    s->g = sl_config_real(c, "model.g");
    s->h = sl_config_real(c, "model.h");
    s->learn_x0 = sl_config_bool(c, "model.learn_x0");
    s->sigma_rec = sl_config_real(c, "model.sigma_rec");
    s->sigma_in = sl_config_real(c, "model.sigma_in");
    s->bn_momentum = sl_config_real(c, "model.bn_momentum");
    s->bn_eps = sl_config_real(c, "model.bn_eps");
    s->enu_k = (int)sl_config_int(c, "model.enu_k");
    s->exc_fraction = sl_config_real(c, "model.exc_fraction");
    s->no_autapses = !sl_config_bool(c, "model.autapses");
    sl_status st = sl_cell_kind_parse(sl_config_str(c, "model.type"), &s->cell);
    if (st) return sl_fail_context(st, "model.type");
    if ((st = sl_dale_mode_parse(sl_config_str(c, "model.dale"), &s->dale)))
        return sl_fail_context(st, "model.dale");
    if ((st = sl_ctrnn_form_parse(sl_config_str(c, "model.ctrnn_form"), &s->form)))
        return sl_fail_context(st, "model.ctrnn_form");
    if (s->cell == SL_CELL_CTRNN && s->enu_k)
        return sl_fail(SL_EINVAL, "model.enu_k is available for the cells (model.type = rnn, gru, "
                                  "lightgru, lstm)");
    if (s->cell != SL_CELL_CTRNN && s->form != SL_CTRNN_CURRENT)
        return sl_fail(SL_EINVAL, "model.ctrnn_form = rate is an option of model.type = ctrnn");
    if (s->cell == SL_CELL_CTRNN && sl_config_real(c, "train.l2_activation") > 0)
        return sl_fail(SL_EINVAL, "train.l2_activation is available for the cells (model.type = "
                                  "rnn, gru, lightgru, lstm); for the ctrnn use train.l2_rate");
    if (s->cell != SL_CELL_CTRNN) { /* the CT-RNN's own keys do not apply */
        if (s->learn_x0)
            return sl_fail(SL_EINVAL, "model.learn_x0 = true is only available for model.type = "
                                      "ctrnn (the cells start from h_0 = 0)");
        s->tau_ms = s->g = s->h = 0;
    }
    return sl_activation_parse(sl_config_str(c, "model.activation"), &s->act);
}

/* train.class_weights: "" (none), "auto" (w_k = N / (K·N_k) over the labels
 * of the scored steps of the validation trials — a fixed set from the same
 * distribution as training, so counting them does not disturb the training
 * stream; classes that never occur get 1), or K comma-separated weights. */
static sl_status class_weights(sl_trainer *t, const char *spec)
{
    const int K = t->task->n_out;
    if (!*spec) return SL_OK;
    t->class_w = calloc((size_t)K, sizeof(double));
    if (!t->class_w) return sl_fail(SL_ENOMEM, "out of memory");
    t->loss.class_weights = t->class_w;
    if (!strcmp(spec, "auto")) {
        sl_task *task = t->task;
        sl_split split = task->ops->num_batches(task, SL_SPLIT_VAL) > 0 ? SL_SPLIT_VAL : SL_SPLIT_TRAIN;
        int nb = task->ops->num_batches(task, split);
        double total = 0;
        sl_rng order;
        sl_rng_seed(&order, 0);
        sl_status st = task->ops->start_epoch(task, split, &order);
        for (int i = 0; !st && i < nb; i++) {
            sl_batch b = {0};
            if ((st = task->ops->batch(task, split, i, NULL, &b))) break;
            for (size_t r = 0; r < (size_t)b.B * b.T; r++)
                if (b.labels[r] >= 0 && b.labels[r] < K && (!b.mask || b.mask[r] > 0)) {
                    t->class_w[b.labels[r]] += 1;
                    total += 1;
                }
        }
        if (st) return st;
        for (int k = 0; k < K; k++)
            t->class_w[k] = t->class_w[k] > 0 ? total / (K * t->class_w[k]) : 1.0;
        return SL_OK;
    }
    const char *p = spec;
    for (int k = 0; k < K; k++) {
        char *end;
        double w = strtod(p, &end);
        if (end == p || !isfinite(w) || w < 0)
            return sl_fail(SL_EINVAL, "train.class_weights: want 'auto' or %d non-negative weights, got '%s'",
                           K, spec);
        t->class_w[k] = w;
        p = end;
        while (*p == ' ' || *p == ',') p++;
    }
    if (*p)
        return sl_fail(SL_EINVAL, "train.class_weights: more than %d weights in '%s' (the task has %d classes)",
                       K, spec, K);
    return SL_OK;
}

static sl_status write_run_json(const sl_trainer *t)
{
    cJSON *o = cJSON_CreateObject();
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(o, "silico_version", SILICO_VERSION);
    cJSON_AddStringToObject(o, "blas", sl_blas_info());
    cJSON_AddNumberToObject(o, "threads", sl_get_threads());
    cJSON_AddStringToObject(o, "cpu", sl_cpu_info());
    cJSON_AddStringToObject(o, "started_utc", when);
    cJSON_AddNumberToObject(o, "seed", (double)t->seed);
    cJSON_AddNumberToObject(o, "n_params", (double)n_params(t));
    sl_status st = slc_write_json(t->dir, "run.json", o);
    cJSON_Delete(o);
    return st;
}

/* train.train_only: the tensors that keep their gradients (by name) */
static sl_status setup_train_only(sl_trainer *t, const char *list)
{
    sl_model *m = t->model;
    const char *p = list;
    t->train_only = 0;
    memset(t->train_mask, 0, sizeof t->train_mask);
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        size_t n = strcspn(p, ", ");
        int found = 0;
        for (int i = 0; i < m->n_tensors; i++)
            if (strlen(m->info[i].name) == n && !strncmp(m->info[i].name, p, n))
                t->train_mask[i] = 1, found = 1;
        if (!found) {
            char names[512] = "";
            for (int i = 0; i < m->n_tensors; i++) {
                size_t len = strlen(names);
                snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", m->info[i].name);
            }
            return sl_fail(SL_EINVAL, "train.train_only: the %s has no tensor '%.*s' (it has %s)",
                           sl_cell_kind_name(m->spec.cell), (int)n, p, names);
        }
        t->train_only = 1;
        p += n;
    }
    return SL_OK;
}

/* train.feedback_alignment: fixed random feedback matrices drawn once from
 * the run seed (stream STREAM_FA): fa.readout ~ U(−1/√N, 1/√N) as W's init;
 * fa.recurrent as the recurrent matrix's init (ctrnn: N(0, g²/N); rnn:
 * U(−1/√N, 1/√N), PyTorch's). Regenerated identically on resume. */
static sl_status setup_feedback(sl_trainer *t, const char *mode)
{
    sl_model *m = t->model;
    t->fa = !strcmp(mode, "readout") ? 1 : !strcmp(mode, "readout+recurrent") ? 2 : 0;
    if (!t->fa) return SL_OK;
    const int N = m->spec.n_hidden, NO = m->spec.n_out;
    if (t->fa == 2 && m->cell && m->spec.cell != SL_CELL_RNN)
        return sl_fail(SL_EINVAL,
                       "train.feedback_alignment = readout+recurrent is implemented for model.type "
                       "= ctrnn and rnn only (the %s supports readout)",
                       sl_cell_kind_name(m->spec.cell));
    sl_real *Bf = malloc((size_t)NO * N * sizeof(sl_real));
    sl_real *Rf = t->fa == 2 ? malloc((size_t)N * N * sizeof(sl_real)) : NULL;
    if (!Bf || (t->fa == 2 && !Rf)) {
        free(Bf);
        free(Rf);
        return sl_fail(SL_ENOMEM, "out of memory");
    }
    sl_rng r;
    sl_rng_seed_stream(&r, t->seed, STREAM_FA);
    const double k = 1.0 / sqrt((double)N);
    for (size_t i = 0; i < (size_t)NO * N; i++) Bf[i] = (sl_real)(k * (2 * sl_rng_uniform(&r) - 1));
    if (Rf) {
        const double sj = m->spec.g / sqrt((double)N);
        for (size_t i = 0; i < (size_t)N * N; i++)
            Rf[i] = m->cell ? (sl_real)(k * (2 * sl_rng_uniform(&r) - 1))
                            : (sl_real)(sj * sl_rng_normal(&r));
    }
    sl_status st = sl_model_set_feedback(m, Bf, Rf);
    free(Bf);
    free(Rf);
    return st;
}

/* train.wiring_cost (Achterberg et al. 2023): units on the model.grid
 * lattice; the cost applies to the recurrent matrix as stored (ctrnn: J;
 * rnn, gru, lstm: weight_hh, each N×N gate block; lightgru: U_h). */
static sl_status setup_wiring(sl_trainer *t)
{
    const sl_config *c = t->cfg;
    sl_model *m = t->model;
    t->wiring = sl_config_real(c, "train.wiring_cost");
    t->wiring_comm = !strcmp(sl_config_str(c, "train.wiring"), "communicability");
    if (!(t->wiring > 0)) return SL_OK;
    const int N = m->spec.n_hidden;
    double g[4];
    int ng = sl_config_list(c, "model.grid", g, 4);
    if (ng != 3 || g[0] != floor(g[0]) || g[1] != floor(g[1]) || g[2] != floor(g[2]) ||
        g[0] * g[1] * g[2] != N)
        return sl_fail(SL_EINVAL,
                       "train.wiring_cost > 0 needs model.grid = X,Y,Z (three whole numbers with "
                       "X*Y*Z = model.hidden = %d)",
                       N);
    const char *name = !m->cell ? "J" : m->spec.cell == SL_CELL_LIGHTGRU ? "U_h" : "weight_hh";
    t->wiring_t = -1;
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->info[i].name, name)) t->wiring_t = i;
    if (t->wiring_t < 0) return sl_fail(SL_EINVAL, "train.wiring_cost: no tensor '%s'", name);
    double *xyz = malloc((size_t)N * 3 * sizeof(double));
    t->wiring_D = malloc((size_t)N * N * sizeof(double));
    if (!xyz || !t->wiring_D) {
        free(xyz);
        return sl_fail(SL_ENOMEM, "out of memory");
    }
    sl_status st = sl_grid_coords((int)g[0], (int)g[1], (int)g[2], N, xyz);
    if (!st) sl_distance_matrix(xyz, N, 1.0, t->wiring_D);
    free(xyz);
    return st;
}

/* The wiring cost of the current weights; its gradient added into the
 * model's gradients when grad is nonzero. */
static sl_status wiring_cost(sl_trainer *t, int grad, double *out)
{
    sl_model *m = t->model;
    const int N = m->spec.n_hidden;
    const sl_param_info *p = &m->info[t->wiring_t];
    const int G = (int)(p->numel / ((size_t)N * N));
    *out = 0;
    for (int b = 0; b < G; b++) {
        const sl_real *W = m->params + p->offset + (size_t)b * N * N;
        sl_real *gw = grad ? m->grads + p->offset + (size_t)b * N * N : NULL;
        if (!t->wiring_comm) {
            *out += sl_wiring_cost(W, t->wiring_D, (size_t)N * N, t->wiring, gw);
            continue;
        }
        sl_comm_spec cs = {t->wiring, 1.0, SL_STRENGTH_COLS, 0};
        double l = 0;
        sl_status st = sl_comm_wiring_cost(&cs, W, t->wiring_D, N, &l, gw, NULL);
        if (st) return sl_fail_context(st, "train.wiring = communicability");
        *out += l;
    }
    return SL_OK;
}

/* model.areas = K ≥ 2: K areas of consecutive units (⌊N/K⌋ each, the last
 * takes the remainder). model.area_links: all = every pair of areas may
 * connect, feedforward = only area a → a+1 (nn4n's chain), feedforward+feedback
 * = a → a+1 and a+1 → a. Each within-area synapse is kept with probability
 * model.area_p_within, each allowed between-area one with model.area_p_between
 * (drawn from the rng, row by row). */
static sl_status area_mask(const sl_config *c, int N, int K, sl_rng *r, sl_real *M)
{
    if (K > N) return sl_fail(SL_EINVAL, "model.areas = %d is more than model.hidden = %d", K, N);
    const char *links = sl_config_str(c, "model.area_links");
    const double pw = sl_config_real(c, "model.area_p_within");
    const double pb = sl_config_real(c, "model.area_p_between");
    int *sizes = malloc((size_t)K * sizeof(int));
    unsigned char *adj = malloc((size_t)K * K);
    sl_status st = sizes && adj ? SL_OK : sl_fail(SL_ENOMEM, "out of memory");
    for (int a = 0; !st && a < K; a++) sizes[a] = N / K + (a == K - 1 ? N % K : 0);
    if (!st && !strcmp(links, "all"))
        memset(adj, 1, (size_t)K * K);
    else if (!st)
        st = sl_area_chain(K, !strcmp(links, "feedforward+feedback"), adj);
    if (!st) st = sl_mask_areas(M, K, sizes, adj, 0, NULL);
    if (!st) { /* thin: within-area entries by p_within, allowed between-area by p_between */
        int *area = malloc((size_t)N * sizeof(int));
        if (!area) st = sl_fail(SL_ENOMEM, "out of memory");
        for (int a = 0, k = 0; !st && a < K; a++)
            for (int i = 0; i < sizes[a]; i++) area[k++] = a;
        for (size_t i = 0; !st && i < (size_t)N * N; i++) {
            const double p = area[i / (size_t)N] == area[i % (size_t)N] ? pw : pb;
            const double u = sl_rng_uniform(r);
            if (M[i] != 0 && !(u < p)) M[i] = 0;
        }
        free(area);
    }
    free(sizes);
    free(adj);
    return st;
}

/* model.plastic_mask: the N×N plasticity mask of the recurrent matrix (NULL
 * when every synapse is plastic) */
static sl_status plasticity_mask(sl_trainer *t, int N, sl_real **out)
{
    *out = NULL;
    const char *path = sl_config_str(t->cfg, "model.plastic_mask");
    if (!*path) return SL_OK;
    sl_real *P = malloc((size_t)N * N * sizeof(sl_real));
    if (!P) return sl_fail(SL_ENOMEM, "out of memory");
    sl_status st = sl_mask_load_npy(path, N, N, 0, P);
    if (st) {
        free(P);
        return sl_fail_context(st, "model.plastic_mask");
    }
    *out = P;
    return SL_OK;
}

/* model.sparsity / model.mask / model.areas: the fixed N×N connectivity mask of the
 * recurrent matrix (NULL when dense). The random one is drawn from its own
 * stream of run.seed (the weights' draws do not change), the same on resume. */
static sl_status connectivity_mask(sl_trainer *t, int N, sl_real **out)
{
    *out = NULL;
    const double sp = sl_config_real(t->cfg, "model.sparsity");
    const char *path = sl_config_str(t->cfg, "model.mask");
    const int areas = (int)sl_config_int(t->cfg, "model.areas");
    if (!(sp > 0) && !*path && areas < 2) return SL_OK;
    sl_real *M = malloc((size_t)N * N * sizeof(sl_real));
    if (!M) return sl_fail(SL_ENOMEM, "out of memory");
    sl_status st = SL_OK;
    if (*path)
        st = sl_mask_load_npy(path, N, N, 0, M);
    else
        for (size_t i = 0; i < (size_t)N * N; i++) M[i] = 1;
    if (!st && areas >= 2) {
        sl_real *A = malloc((size_t)N * N * sizeof(sl_real));
        sl_rng r;
        sl_rng_seed_stream(&r, t->seed, STREAM_AREAS);
        st = A ? area_mask(t->cfg, N, areas, &r, A) : sl_fail(SL_ENOMEM, "out of memory");
        for (size_t i = 0; !st && i < (size_t)N * N; i++) M[i] *= A[i];
        free(A);
    }
    if (!st && sp > 0) {
        sl_real *R = malloc((size_t)N * N * sizeof(sl_real));
        sl_rng r;
        sl_rng_seed_stream(&r, t->seed, STREAM_MASK);
        st = R ? sl_mask_random(R, N, N, 1.0 - sp, 0, &r) : sl_fail(SL_ENOMEM, "out of memory");
        for (size_t i = 0; !st && i < (size_t)N * N; i++) M[i] *= R[i];
        free(R);
    }
    if (st) {
        free(M);
        return sl_fail_context(st, "model.mask / model.sparsity / model.areas");
    }
    *out = M;
    return SL_OK;
}

/* model.type = cnn: the network of model.layers on the task's images (an
 * image task: fashion_mnist, mnist, idx), weights from stream STREAM_INIT.
 * The recurrent models' regularisers and learning rules do not apply. */
static sl_status build_cnn(sl_trainer *t)
{
    const sl_config *c = t->cfg;
    static const char *const unsupported[] = {"train.l2_weight", "train.l2_rate", "train.l1_weight",
                                              "train.l1_rate", "train.l2_activation",
                                              "train.wiring_cost", "train.class_weights",
                                              "train.train_only", "train.feedback_alignment"};
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++)
        if (sl_config_is_set(c, unsupported[i]) &&
            strcmp(sl_config_str(c, unsupported[i]), "0") &&
            strcmp(sl_config_str(c, unsupported[i]), "off") && *sl_config_str(c, unsupported[i]))
            return sl_fail(SL_EINVAL, "%s is not available for model.type = cnn", unsupported[i]);
    int shape[3];
    sl_status st = sl_task_image_shape(t->task, shape, NULL, NULL);
    if (st) return sl_fail_context(st, "model.type = cnn");
    sl_rng init;
    sl_rng_seed_stream(&init, t->seed, STREAM_INIT);
    if ((st = sl_cnn_create(sl_config_str(c, "model.layers"), shape[0], shape[1], shape[2], &init,
                            &t->cnn)))
        return st;
    if (sl_cnn_num_outputs(t->cnn) != t->task->n_out)
        return sl_fail(SL_EINVAL, "model.layers: the last layer has %d outputs but task '%s' has %d classes",
                       sl_cnn_num_outputs(t->cnn), t->task->ops->name, t->task->n_out);
    return sl_cnn_ws_create(t->cnn, t->task->max_batch, &t->cnn_ws);
}

/* The recurrent network (model.type = ctrnn or a cell) and its workspace,
 * weights from stream STREAM_INIT */
static sl_status build_rnn(sl_trainer *t)
{
    sl_model_spec spec;
    sl_status st = spec_from_config(t->cfg, t->task, &spec);
    if (st) return st;
    sl_real *mask = NULL, *plastic = NULL;
    if ((st = connectivity_mask(t, spec.n_hidden, &mask))) return st;
    if ((st = plasticity_mask(t, spec.n_hidden, &plastic))) {
        free(mask);
        return st;
    }
    spec.rec_mask = mask;
    spec.plastic_mask = plastic;
    sl_rng init;
    sl_rng_seed_stream(&init, t->seed, STREAM_INIT);
    st = sl_model_create(&spec, &init, &t->model);
    free(mask);
    free(plastic);
    if (st) return st;
    return sl_workspace_create(t->model, t->task->max_batch, t->task->T, &t->ws);
}

/* Build everything but the weights' values (shared by create and resume). */
static sl_status build(sl_trainer *t)
{
    const sl_config *c = t->cfg;
    sl_status st;
    t->seed = (uint64_t)sl_config_int(c, "run.seed");
    t->total_epochs = sl_config_int(c, "train.epochs");
    t->val_every = (int)sl_config_int(c, "train.val_every");
    t->clip = sl_config_real(c, "train.clip");
    t->loss.l2_weight = sl_config_real(c, "train.l2_weight");
    t->loss.l2_rate = sl_config_real(c, "train.l2_rate");
    t->loss.l2_activation = sl_config_real(c, "train.l2_activation");
    if ((st = parse_l2_on("train.l2_on", sl_config_str(c, "train.l2_on"), &t->loss.l2_on))) return st;
    t->loss.l1_weight = sl_config_real(c, "train.l1_weight");
    t->loss.l1_rate = sl_config_real(c, "train.l1_rate");
    if ((st = parse_l2_on("train.l1_on", sl_config_str(c, "train.l1_on"), &t->loss.l1_on))) return st;
    if ((st = sl_task_create(c, &t->task))) return st;
    if (t->task->ops->num_batches(t->task, SL_SPLIT_TRAIN) <= 0)
        return sl_fail(SL_EINVAL, "task '%s' has no training trials", t->task->ops->name);
    /* the resolved config records the dt the task really uses (a NeuroGym
     * task's own default when task.dt was not set), so config.ini reruns it */
    if (sl_config_real(c, "task.dt") != t->task->dt_ms) {
        char dt[40];
        snprintf(dt, sizeof dt, "%.17g", t->task->dt_ms);
        if ((st = sl_config_set(t->cfg, "task.dt", dt, "the task's default"))) return st;
    }

    st = !strcmp(sl_config_str(c, "model.type"), "cnn") ? build_cnn(t) : build_rnn(t);
    if (st) return st;

    sl_adam_spec as = {0};
    as.lr = sl_config_real(c, "train.lr");
    as.lr_final = sl_config_real(c, "train.lr_final");
    const char *sched = sl_config_str(c, "train.lr_schedule");
    as.schedule = strcmp(sched, "cosine") == 0        ? SL_LR_COSINE
                  : strcmp(sched, "exponential") == 0 ? SL_LR_EXPONENTIAL
                                                      : SL_LR_CONSTANT;
    as.total_steps = t->total_epochs * t->task->ops->num_batches(t->task, SL_SPLIT_TRAIN);
    as.beta1 = sl_config_real(c, "train.beta1");
    as.beta2 = sl_config_real(c, "train.beta2");
    as.eps = sl_config_real(c, "train.eps");
    if ((st = sl_adam_create(&as, n_params(t), &t->opt))) return st;

    t->clip_value = sl_config_real(c, "train.clip_value");
    if (!strcmp(sched, "step")) {
        t->sched = SCHED_STEP;
        if ((st = sl_step_lr_init(&t->steplr, as.lr, sl_config_int(c, "train.lr_step_every"),
                                  sl_config_real(c, "train.lr_gamma"))))
            return sl_fail_context(st, "train.lr_schedule = step");
    } else if (!strcmp(sched, "plateau")) {
        t->sched = SCHED_PLATEAU;
        if ((st = sl_plateau_init(&t->plateau, as.lr, sl_config_real(c, "train.plateau_factor"),
                                  (int)sl_config_int(c, "train.plateau_patience"),
                                  sl_config_real(c, "train.plateau_threshold"),
                                  sl_config_real(c, "train.plateau_min_lr"))))
            return sl_fail_context(st, "train.lr_schedule = plateau");
    }
    if (t->model) {
        if ((st = setup_train_only(t, sl_config_str(c, "train.train_only")))) return st;
        if ((st = setup_feedback(t, sl_config_str(c, "train.feedback_alignment")))) return st;
        if ((st = setup_wiring(t))) return st;
    }

    sl_rng_seed_stream(&t->rng_batch, t->seed, STREAM_BATCH);
    sl_rng_seed_stream(&t->rng_noise, t->seed, STREAM_NOISE);
    t->best_val = INFINITY;
    t->best_epoch = 0;
    if (t->task->classification) return class_weights(t, sl_config_str(c, "train.class_weights"));
    return sl_split_null_mse(t->task, SL_SPLIT_TRAIN, &t->null_train);
}

sl_status sl_trainer_create(const sl_config *c, const char *run_dir, sl_trainer **out)
{
    *out = NULL;
    sl_trainer *t = calloc(1, sizeof *t);
    if (!t) return sl_fail(SL_ENOMEM, "out of memory");
    sl_status st = sl_config_copy(c, &t->cfg);
    if (!st) st = (t->dir = strdup(run_dir)) ? SL_OK : sl_fail(SL_ENOMEM, "out of memory");
    if (!st) st = build(t);
    char *p = st ? NULL : path_in(run_dir, "config.ini");
    if (!st) st = sl_config_write(t->cfg, p);
    free(p);
    if (!st) st = write_run_json(t);
    p = st ? NULL : path_in(run_dir, "metrics.jsonl");
    if (!st) st = sl_metrics_open(p, 0, &t->metrics);
    free(p);
    if (st) {
        sl_trainer_free(t);
        return st;
    }
    *out = t;
    return SL_OK;
}

/* ---------------------------------------------------- resumable state */

static void rng_to_text(const sl_rng *r, char *buf, size_t n)
{
    snprintf(buf, n, "%016llx %016llx %016llx %016llx %d %.17g", (unsigned long long)r->s[0],
             (unsigned long long)r->s[1], (unsigned long long)r->s[2], (unsigned long long)r->s[3],
             r->has_spare, r->spare);
}

static int rng_from_text(const char *s, sl_rng *r)
{
    unsigned long long a, b, c, d;
    if (!s || sscanf(s, "%llx %llx %llx %llx %d %lg", &a, &b, &c, &d, &r->has_spare, &r->spare) != 6)
        return 0;
    r->s[0] = a, r->s[1] = b, r->s[2] = c, r->s[3] = d;
    return 1;
}

/* state.safetensors of a CNN: param., adam_m., adam_v. tensors */
static sl_status save_state_cnn(sl_trainer *t, const sl_kv *kv, int n_kv)
{
    const sl_cnn *m = t->cnn;
    const int nt = m->n_tensors;
    sl_tensor *tens = calloc((size_t)3 * nt, sizeof *tens);
    char(*names)[64] = calloc((size_t)3 * nt, sizeof *names);
    float *s1 = NULL, *s2 = NULL, *s3 = NULL;
    sl_status st = tens && names ? SL_OK : sl_fail(SL_ENOMEM, "out of memory");
    if (!st) st = sl_cnn_to_tensors(m, m->params, "param.", tens, names, &s1);
    if (!st) st = sl_cnn_to_tensors(m, sl_adam_m(t->opt), "adam_m.", tens + nt, names + nt, &s2);
    if (!st) st = sl_cnn_to_tensors(m, sl_adam_v(t->opt), "adam_v.", tens + 2 * nt, names + 2 * nt, &s3);
    char *path = path_in(t->dir, "state.safetensors");
    if (!st) st = sl_safetensors_write(path, tens, 3 * nt, kv, n_kv);
    free(path);
    free(s1), free(s2), free(s3);
    free(tens);
    free(names);
    return st;
}

static sl_status save_state(sl_trainer *t)
{
    sl_model *m = t->model;
    int nt = m ? m->n_tensors : 0, nb = m ? m->n_buffers : 0;
    sl_tensor tens[3 * SL_MODEL_MAX_TENSORS + SL_MODEL_MAX_BUFFERS + 2];
    char names[3 * SL_MODEL_MAX_TENSORS + SL_MODEL_MAX_BUFFERS][64];
    float *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;
    sl_status st = m ? sl_params_to_tensors(m, m->params, "param.", tens, names, &s1) : SL_OK;
    if (!st && m) st = sl_params_to_tensors(m, sl_adam_m(t->opt), "adam_m.", tens + nt, names + nt, &s2);
    if (!st && m)
        st = sl_params_to_tensors(m, sl_adam_v(t->opt), "adam_v.", tens + 2 * nt, names + 2 * nt, &s3);
    if (!st && nb)
        st = sl_buffers_to_tensors(m, "buffer.", tens + 3 * nt, names + 3 * nt, &s4);
    char epoch[32], steps[32], best[40], best_ep[32], secs[40], rb[160], rn[160];
    snprintf(epoch, sizeof epoch, "%ld", t->epoch);
    snprintf(steps, sizeof steps, "%ld", sl_adam_steps(t->opt));
    snprintf(best, sizeof best, "%.17g", t->best_val);
    snprintf(best_ep, sizeof best_ep, "%ld", t->best_epoch);
    snprintf(secs, sizeof secs, "%.17g", t->train_seconds);
    rng_to_text(&t->rng_batch, rb, sizeof rb);
    rng_to_text(&t->rng_noise, rn, sizeof rn);
    /* the reduce-on-plateau state (empty for the other schedules) */
    char lrs[200] = "";
    if (t->sched == SCHED_PLATEAU)
        snprintf(lrs, sizeof lrs, "%.17g %.17g %d %d %d %ld", t->plateau.lr, t->plateau.best,
                 t->plateau.num_bad_epochs, t->plateau.cooldown_counter, t->plateau.n_reductions,
                 t->plateau.epoch);
    sl_kv kv[] = {{"format", "silico.state.v1"}, {"epoch", epoch},     {"adam_steps", steps},
                  {"best_val", best},  {"best_epoch", best_ep}, {"train_seconds", secs},
                  {"rng_batch", rb},             {"rng_noise", rn}, {"plateau", lrs}};
    if (t->cnn) return st ? st : save_state_cnn(t, kv, (int)(sizeof kv / sizeof kv[0]));
    /* feedback alignment's fixed matrices (non-trainable; regenerated from
     * run.seed on resume, saved so the run's learning rule is inspectable) */
    int n_all = 3 * nt + nb;
    float *fw = NULL, *fr = NULL;
    const int N = m->spec.n_hidden, NO = m->spec.n_out;
    if (!st && m->fa_W) {
        fw = malloc((size_t)NO * N * sizeof(float));
        if (!fw) st = sl_fail(SL_ENOMEM, "out of memory");
        for (size_t i = 0; fw && i < (size_t)NO * N; i++) fw[i] = (float)m->fa_W[i];
        sl_tensor *x = &tens[n_all++];
        x->name = "fa.readout";
        x->array.dtype = SL_F32, x->array.ndim = 2, x->array.shape[0] = NO, x->array.shape[1] = N;
        x->array.data = fw;
    }
    if (!st && m->fa_R) {
        fr = malloc((size_t)N * N * sizeof(float));
        if (!fr) st = sl_fail(SL_ENOMEM, "out of memory");
        for (size_t i = 0; fr && i < (size_t)N * N; i++) fr[i] = (float)m->fa_R[i];
        sl_tensor *x = &tens[n_all++];
        x->name = "fa.recurrent";
        x->array.dtype = SL_F32, x->array.ndim = 2, x->array.shape[0] = N, x->array.shape[1] = N;
        x->array.data = fr;
    }
    char *path = path_in(t->dir, "state.safetensors");
    if (!st) st = sl_safetensors_write(path, tens, n_all, kv, (int)(sizeof kv / sizeof kv[0]));
    free(path);
    free(fw);
    free(fr);
    free(s1);
    free(s2);
    free(s3);
    free(s4);
    return st;
}

static sl_status save_best(sl_trainer *t, double val)
{
    char *ini = sl_config_to_ini(t->cfg);
    char epoch[32], v[40], ms[40], ss[40];
    snprintf(epoch, sizeof epoch, "%ld", t->epoch);
    snprintf(v, sizeof v, "%.17g", val);
    const char *what = t->task->classification ? "val_loss" : "val_error_pct";
    sl_kv kv[5] = {{"config", ini ? ini : ""}, {"epoch", epoch}, {what, v}};
    int n = 3;
    sl_status st = SL_OK;
    if (t->cnn) { /* the CNN checkpoint also records the input normalisation (analyses need it) */
        int shape[3];
        double mean = 0, std = 0;
        st = sl_task_image_shape(t->task, shape, &mean, &std);
        snprintf(ms, sizeof ms, "%.17g", mean);
        snprintf(ss, sizeof ss, "%.17g", std);
        kv[n++] = (sl_kv){"norm_mean", ms};
        kv[n++] = (sl_kv){"norm_std", ss};
    }
    char *path = path_in(t->dir, "checkpoint.safetensors");
    if (!st) st = t->cnn ? sl_cnn_save(t->cnn, path, kv, n) : sl_model_save(t->model, path, kv, n);
    free(path);
    free(ini);
    return st;
}

/* Drop metrics lines past the saved epoch (a run killed between saves). */
static sl_status trim_metrics(const char *path, long max_epoch)
{
    FILE *f = fopen(path, "r");
    if (!f) return SL_OK;
    char *kept = NULL, *line = NULL;
    size_t kept_len = 0, cap = 0;
    FILE *mem = open_memstream(&kept, &kept_len);
    while (mem && getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        cJSON *e = o ? cJSON_GetObjectItem(o, "epoch") : NULL;
        if (e && cJSON_IsNumber(e) && e->valuedouble <= max_epoch) fputs(line, mem);
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    if (!mem) return sl_fail(SL_ENOMEM, "out of memory");
    fclose(mem);
    f = fopen(path, "w");
    sl_status st = f ? SL_OK : sl_fail(SL_EIO, "cannot rewrite %s", path);
    if (f) {
        fwrite(kept, 1, kept_len, f);
        fclose(f);
    }
    free(kept);
    return st;
}

sl_status sl_trainer_resume(const char *run_dir, sl_trainer **out)
{
    *out = NULL;
    sl_trainer *t = calloc(1, sizeof *t);
    if (!t) return sl_fail(SL_ENOMEM, "out of memory");
    char *cfg_path = path_in(run_dir, "config.ini"), *state_path = path_in(run_dir, "state.safetensors");
    sl_tensorfile *f = NULL;
    sl_status st = sl_config_new(&t->cfg);
    if (!st) st = sl_config_load(t->cfg, cfg_path);
    if (!st) st = (t->dir = strdup(run_dir)) ? SL_OK : sl_fail(SL_ENOMEM, "out of memory");
    if (!st) st = build(t);
    if (!st) {
        st = sl_safetensors_read(state_path, &f);
        if (st == SL_EIO) {
            /* copy the reason first: sl_fail formats into the buffer it came from */
            char why[512];
            snprintf(why, sizeof why, "%s", sl_last_error());
            st = sl_fail(SL_EIO, "%s: no saved training state to resume from (%s)", run_dir, why);
        }
    }
    if (!st) {
        const char *fmt = sl_tensorfile_meta(f, "format");
        const char *e = sl_tensorfile_meta(f, "epoch"), *s = sl_tensorfile_meta(f, "adam_steps");
        const char *b = sl_tensorfile_meta(f, "best_val");
        const char *be = sl_tensorfile_meta(f, "best_epoch"), *sec = sl_tensorfile_meta(f, "train_seconds");
        if (!fmt || strcmp(fmt, "silico.state.v1") || !e || !s || !b || !be || !sec ||
            !rng_from_text(sl_tensorfile_meta(f, "rng_batch"), &t->rng_batch) ||
            !rng_from_text(sl_tensorfile_meta(f, "rng_noise"), &t->rng_noise))
            st = sl_fail(SL_EFORMAT, "%s: not a silico training state (metadata missing)", state_path);
        else {
            t->epoch = atol(e);
            sl_adam_set_steps(t->opt, atol(s));
            t->best_val = strtod(b, NULL);
            t->best_epoch = atol(be);
            t->train_seconds = strtod(sec, NULL);
            if (t->sched == SCHED_STEP) { /* lr0·γ^⌊epoch/step⌋ */
                for (long k = 0; k < t->epoch; k++) sl_step_lr_step(&t->steplr);
                sl_adam_set_lr(t->opt, t->steplr.lr);
            }
            const char *pl = sl_tensorfile_meta(f, "plateau");
            if (t->sched == SCHED_PLATEAU && pl && *pl) {
                sl_plateau *q = &t->plateau;
                if (sscanf(pl, "%lg %lg %d %d %d %ld", &q->lr, &q->best, &q->num_bad_epochs,
                           &q->cooldown_counter, &q->n_reductions, &q->epoch) != 6)
                    st = sl_fail(SL_EFORMAT, "%s: bad reduce-on-plateau state '%s'", state_path, pl);
                else
                    sl_adam_set_lr(t->opt, q->lr);
            }
        }
    }
    if (!st && t->cnn) {
        st = sl_cnn_from_tensors(t->cnn, f, state_path, "param.", sl_cnn_params(t->cnn));
        if (!st) st = sl_cnn_from_tensors(t->cnn, f, state_path, "adam_m.", sl_adam_m(t->opt));
        if (!st) st = sl_cnn_from_tensors(t->cnn, f, state_path, "adam_v.", sl_adam_v(t->opt));
    } else if (!st) {
        st = sl_tensors_to_params(t->model, f, state_path, "param.", t->model->params);
        if (!st) st = sl_tensors_to_params(t->model, f, state_path, "adam_m.", sl_adam_m(t->opt));
        if (!st) st = sl_tensors_to_params(t->model, f, state_path, "adam_v.", sl_adam_v(t->opt));
        if (!st) st = sl_tensors_to_buffers(t->model, f, state_path, "buffer.");
    }
    char *mpath = st ? NULL : path_in(run_dir, "metrics.jsonl");
    if (!st) st = trim_metrics(mpath, t->epoch);
    if (!st) st = sl_metrics_open(mpath, 1, &t->metrics);
    free(mpath);
    sl_tensorfile_free(f);
    free(cfg_path);
    free(state_path);
    if (st) {
        sl_trainer_free(t);
        return st;
    }
    *out = t;
    return SL_OK;
}

/* ----------------------------------------------------------- training */

static void log_epoch(sl_trainer *t, const sl_epoch_stats *s)
{
    sl_metrics *m = t->metrics;
    sl_metrics_begin(m);
    sl_metrics_int(m, "epoch", s->epoch);
    sl_metrics_int(m, "step", s->step);
    sl_metrics_real(m, "loss", s->loss);
    sl_metrics_real(m, t->task->classification ? "loss_ce" : "loss_mse", s->loss_mse);
    sl_metrics_real(m, "loss_weight_l2", s->loss_weight_l2);
    sl_metrics_real(m, "loss_rate", s->loss_rate);
    if (t->loss.l2_activation > 0) sl_metrics_real(m, "loss_activation", s->loss_activation);
    if (t->loss.l1_weight > 0) sl_metrics_real(m, "loss_weight_l1", s->loss_weight_l1);
    if (t->loss.l1_rate > 0) sl_metrics_real(m, "loss_rate_l1", s->loss_rate_l1);
    if (t->wiring > 0) sl_metrics_real(m, "loss_wiring", s->loss_wiring);
    if (t->fa) sl_metrics_real(m, "fa_angle_deg", s->fa_angle_deg);
    sl_metrics_real(m, "grad_norm", s->grad_norm);
    sl_metrics_real(m, "lr", s->lr);
    if (!t->task->classification) sl_metrics_real(m, "train_error_pct", s->train_error_pct);
    if (s->validated) {
        sl_metrics_real(m, "val_loss", s->val_loss);
        if (t->task->classification) {
            sl_metrics_real(m, "val_accuracy", s->val_accuracy);
        } else {
            sl_metrics_real(m, "val_mse", s->val_mse);
            sl_metrics_real(m, "val_error_pct", s->val_error_pct);
        }
        if (t->task->score_name) {
            char key[64];
            snprintf(key, sizeof key, "val_%s", t->task->score_name);
            sl_metrics_real(m, key, s->val_score);
        }
        if (!isnan(s->holdout_error_pct)) sl_metrics_real(m, "holdout_error_pct", s->holdout_error_pct);
        sl_metrics_int(m, "best", s->is_best);
    }
    sl_metrics_real(m, "seconds", s->seconds);
    sl_metrics_end(m);
}

/* What "best" means: the lowest validation error % of null (regression) or
 * the lowest validation cross-entropy (classification). */
static double best_criterion(const sl_trainer *t, const sl_eval *v)
{
    return t->task->classification ? v->loss : v->error_pct;
}

static const char *criterion_name(const sl_trainer *t)
{
    return t->task->classification ? "validation loss" : "validation error %";
}

/* a split's evaluation of the recurrent network m or the CNN cnn */
static sl_status eval_split(sl_trainer *t, sl_model *m, sl_cnn *cnn, sl_split split, sl_rng *noise,
                            sl_eval *e)
{
    if (cnn) return sl_cnn_evaluate(cnn, t->cnn_ws, t->task, split, e);
    return sl_evaluate_full(m, t->ws, t->task, split, noise, e);
}

static sl_status validate(sl_trainer *t, sl_epoch_stats *s)
{
    sl_rng vn;
    sl_rng_seed_stream(&vn, t->seed, STREAM_VAL);
    sl_rng *noise = is_noisy(t->model) ? &vn : NULL;
    sl_split split = t->task->ops->num_batches(t->task, SL_SPLIT_VAL) > 0 ? SL_SPLIT_VAL : SL_SPLIT_TRAIN;
    sl_eval v, h;
    sl_status st = eval_split(t, t->model, t->cnn, split, noise, &v);
    if (!st) st = eval_split(t, t->model, t->cnn, SL_SPLIT_HOLDOUT, noise, &h);
    if (st) return st;
    s->validated = 1;
    s->val_loss = v.loss;
    s->val_mse = v.mse;
    s->val_error_pct = v.error_pct;
    s->val_accuracy = v.accuracy;
    s->val_score = v.score;
    s->holdout_error_pct = h.error_pct;
    double crit = best_criterion(t, &v);
    if (crit < t->best_val) {
        t->best_val = crit;
        t->best_epoch = t->epoch;
        s->is_best = 1;
        if ((st = save_best(t, crit))) return st;
    }
    return save_state(t);
}

/* where: "batch 3" or "validation" */
static sl_status nan_error(sl_trainer *t, long epoch, const char *where, const char *what)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sl_last_error());
    if (t->best_epoch > 0)
        return sl_fail(SL_ENUMERIC,
                       "epoch %ld, %s: %s (%s); training stopped. The best checkpoint "
                       "(epoch %ld, %s %.3g) is intact in %s/checkpoint.safetensors",
                       epoch, where, what, msg, t->best_epoch, criterion_name(t), t->best_val, t->dir);
    return sl_fail(SL_ENUMERIC,
                   "epoch %ld, %s: %s (%s); training stopped before any checkpoint was "
                   "saved. Try a smaller train.lr or train.clip > 0",
                   epoch, where, what, msg);
}

static sl_status run_epochs(sl_trainer *t, sl_epoch_callback cb, void *user)
{
    sl_task *task = t->task;
    sl_model *m = t->model;
    const size_t np = n_params(t);
    sl_rng *noise = is_noisy(m) ? &t->rng_noise : NULL;
    while (t->epoch < t->total_epochs) {
        double t0 = now_s();
        long epoch = t->epoch + 1;
        sl_status st = task->ops->start_epoch(task, SL_SPLIT_TRAIN, &t->rng_batch);
        if (st) return st;
        int nb = task->ops->num_batches(task, SL_SPLIT_TRAIN);
        sl_epoch_stats s;
        memset(&s, 0, sizeof s);
        s.holdout_error_pct = NAN;
        s.lr = sl_adam_lr(t->opt);
        double rows = 0, mse_rows = 0, fa[3] = {0, 0, 0};
        for (int i = 0; i < nb; i++) {
            sl_batch b = {0};
            if ((st = task->ops->batch(task, SL_SPLIT_TRAIN, i, &t->rng_batch, &b))) return st;
            sl_loss_terms lt;
            if (t->cnn) {
                memset(&lt, 0, sizeof lt);
                sl_cnn_zero_grad(t->cnn);
                st = sl_cnn_loss(t->cnn, t->cnn_ws, b.u, b.labels, b.B, 1, &lt.mse, NULL);
                lt.total = lt.mse;
            } else {
                sl_model_zero_grad(m);
                st = sl_model_loss(m, t->ws, &b, &t->loss, noise, 1, &lt, NULL);
            }
            char where[32];
            snprintf(where, sizeof where, "batch %d", i + 1);
            if (st == SL_ENUMERIC) return nan_error(t, epoch, where, "the loss is NaN or Inf");
            if (st) return st;
            if (t->wiring > 0) {
                double wc = 0;
                if ((st = wiring_cost(t, 1, &wc))) return st;
                lt.total += wc;
                s.loss_wiring += wc / nb;
                sl_model_mask_frozen(m); /* the wiring gradient spares frozen synapses too */
            }
            if (t->train_only) /* freeze by name: every other tensor's gradient to 0 */
                for (int k = 0; k < m->n_tensors; k++)
                    if (!t->train_mask[k])
                        memset(m->grads + m->info[k].offset, 0, m->info[k].numel * sizeof(sl_real));
            if (t->clip_value > 0) sl_clip_grad_value(grads(t), np, t->clip_value);
            double norm = sl_clip_grad_norm(grads(t), np, t->clip);
            if (!isfinite(norm)) {
                sl_fail(SL_ENUMERIC, "gradient norm %g", norm);
                return nan_error(t, epoch, where, "the gradient is NaN or Inf");
            }
            sl_adam_step(t->opt, params(t), grads(t));
            if (m) sl_model_constrain(m); /* Dale project: wrong signs to 0 */
#ifdef SL_CHECK_INVARIANTS
            if (m && (st = sl_model_check_invariants(m)))
                return sl_fail_context(st, "epoch %ld, %s, after the optimiser step", epoch, where);
#endif
            s.loss += lt.total / nb;
            s.loss_activation += lt.activation / nb;
            s.loss_mse += lt.mse / nb;
            s.loss_weight_l2 += lt.weight_l2 / nb;
            s.loss_rate += lt.rate / nb;
            s.loss_weight_l1 += lt.weight_l1 / nb;
            s.loss_rate_l1 += lt.rate_l1 / nb;
            s.grad_norm += norm / nb;
            fa[0] += lt.fa_dot, fa[1] += lt.fa_fa, fa[2] += lt.fa_bp;
            rows += b.B;
            mse_rows += lt.mse * b.B;
        }
        t->epoch = epoch;
        s.epoch = epoch;
        s.step = sl_adam_steps(t->opt);
        s.train_error_pct =
            task->classification ? NAN : 100.0 * (mse_rows / rows) / t->null_train;
        if (epoch % t->val_every == 0 || epoch == t->total_epochs) {
            st = validate(t, &s);
            if (st == SL_ENUMERIC)
                return nan_error(t, epoch, "validation", "the network's output is NaN or Inf");
            if (st) return st;
        }
        s.fa_angle_deg = NAN;
        if (t->fa && fa[1] > 0 && fa[2] > 0) {
            double cs = fa[0] / sqrt(fa[1] * fa[2]);
            s.fa_angle_deg = acos(cs > 1 ? 1 : cs < -1 ? -1 : cs) * 180.0 / M_PI;
        }
        if (t->sched == SCHED_STEP)
            sl_adam_set_lr(t->opt, sl_step_lr_step(&t->steplr));
        else if (t->sched == SCHED_PLATEAU && s.validated)
            sl_adam_set_lr(t->opt, sl_plateau_step(&t->plateau, task->classification
                                                                    ? s.val_loss
                                                                    : s.val_error_pct));
        s.seconds = now_s() - t0;
        t->train_seconds += s.seconds;
        log_epoch(t, &s);
        if (cb && cb(&s, user)) {
            if ((st = save_state(t))) return st;
            return sl_fail(SL_EINTERRUPTED,
                           "stopped at epoch %ld of %ld; state saved (resume with: silico train --resume %s)",
                           t->epoch, t->total_epochs, t->dir);
        }
    }
    return SL_OK;
}

/* CNN training flushes subnormal floats to zero (sl_ftz_on, act.h; this
 * thread, restored after): confident predictions give cross-entropy
 * gradients and Adam moments below FLT_MIN, each operation on which costs a
 * microcode assist. Values that small do not change any update (PyTorch's
 * torch.set_flush_denormal(True)). */
sl_status sl_trainer_run(sl_trainer *t, sl_epoch_callback cb, void *user)
{
    if (!t->cnn) return run_epochs(t, cb, user);
    const unsigned csr = sl_ftz_on();
    sl_status st = run_epochs(t, cb, user);
    sl_ftz_restore(csr);
    return st;
}

/* ------------------------------------------------------------ results */

sl_status sl_trainer_finish(sl_trainer *t, double seconds, sl_epoch_stats *out)
{
    /* evaluate the best checkpoint (the last weights if none was saved) */
    char *ck = path_in(t->dir, "checkpoint.safetensors");
    sl_model *best = NULL;
    sl_cnn *best_cnn = NULL;
    sl_status st = t->cnn ? sl_cnn_load(ck, &best_cnn, NULL) : sl_model_load(ck, &best, NULL);
    free(ck);
    if (st) return st;
    sl_rng vn;
    sl_rng_seed_stream(&vn, t->seed, STREAM_VAL);
    sl_rng *noise = is_noisy(best) ? &vn : NULL;
    memset(out, 0, sizeof *out);
    sl_eval tr, va, ho;
    st = eval_split(t, best, best_cnn, SL_SPLIT_TRAIN, NULL, &tr);
    if (!st) st = eval_split(t, best, best_cnn, SL_SPLIT_VAL, noise, &va);
    if (!st) st = eval_split(t, best, best_cnn, SL_SPLIT_HOLDOUT, noise, &ho);
    sl_model_free(best);
    sl_cnn_free(best_cnn);
    if (st) return st;
    out->train_error_pct = tr.error_pct;
    out->val_loss = va.loss;
    out->val_error_pct = va.error_pct;
    out->val_mse = va.mse;
    out->val_accuracy = va.accuracy;
    out->val_score = va.score;
    out->holdout_error_pct = ho.error_pct;
    out->epoch = t->epoch;
    out->step = sl_adam_steps(t->opt);
    out->seconds = seconds;

    cJSON *o = cJSON_CreateObject();
    const sl_task *task = t->task;
    if (!task->classification) {
        slc_json_num(o, "train_error_pct", tr.error_pct);
        slc_json_num(o, "val_error_pct", va.error_pct);
        slc_json_num(o, "holdout_error_pct", ho.error_pct);
        slc_json_num(o, "train_mse", tr.mse);
        slc_json_num(o, "val_mse", va.mse);
        slc_json_num(o, "mse", va.mse);
    } else {
        slc_json_num(o, "accuracy", va.accuracy);
        slc_json_num(o, "train_accuracy", tr.accuracy);
        slc_json_num(o, "val_loss", va.loss);
        slc_json_num(o, "n_decisions", (double)va.n_decisions);
    }
    if (task->score_name) {
        slc_json_num(o, task->score_name, va.score);
        /* the Mante task's decision accuracy is the sign of its output */
        if (!strcmp(task->score_name, "sign_accuracy")) slc_json_num(o, "accuracy", va.score);
    }
    cJSON_AddStringToObject(o, "task", task->ops->name);
    cJSON_AddNumberToObject(o, "epochs", (double)t->epoch);
    cJSON_AddNumberToObject(o, "best_epoch", (double)t->best_epoch);
    cJSON_AddNumberToObject(o, "steps", (double)sl_adam_steps(t->opt));
    cJSON_AddNumberToObject(o, "seconds", seconds);
    cJSON_AddNumberToObject(o, "train_seconds", t->train_seconds);
    cJSON_AddNumberToObject(o, "seed", (double)t->seed);
    cJSON_AddNumberToObject(o, "n_params", (double)n_params(t));
    cJSON_AddStringToObject(o, "silico_version", SILICO_VERSION);
    st = slc_write_json(t->dir, "summary.json", o);
    cJSON_Delete(o);
    return st;
}

sl_model *sl_trainer_model(sl_trainer *t) { return t->model; }
sl_cnn *sl_trainer_cnn(sl_trainer *t) { return t->cnn; }
const sl_config *sl_trainer_config(const sl_trainer *t) { return t->cfg; }
long sl_trainer_epoch(const sl_trainer *t) { return t->epoch; }
long sl_trainer_total_epochs(const sl_trainer *t) { return t->total_epochs; }
sl_task *sl_trainer_task(sl_trainer *t) { return t->task; }
double sl_trainer_train_seconds(const sl_trainer *t) { return t->train_seconds; }

void sl_trainer_free(sl_trainer *t)
{
    if (!t) return;
    sl_metrics_close(t->metrics);
    sl_adam_free(t->opt);
    sl_workspace_free(t->ws);
    sl_model_free(t->model);
    sl_cnn_ws_free(t->cnn_ws);
    sl_cnn_free(t->cnn);
    sl_task_free(t->task);
    sl_config_free(t->cfg);
    free(t->class_w);
    free(t->wiring_D);
    free(t->dir);
    free(t);
}
