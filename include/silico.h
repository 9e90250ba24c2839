/* silico.h — the whole public C API of silico.
 *
 * silico trains, constrains, perturbs and dissects task-driven neural networks
 * as models of the brain. This header is everything a C program needs:
 * errors, random numbers, arenas, arrays (.npy), weights (.safetensors),
 * experiment files (INI), the continuous-time rate RNN, tasks (batch sources)
 * and the trainer.
 *
 * Conventions
 *  - Every fallible call returns sl_status; on failure sl_last_error() says
 *    what and where. The library never prints, never exits, never aborts.
 *  - Every random draw takes an explicit sl_rng *.
 *  - sl_real is float (training tensors, as PyTorch). Building the library
 *    with -DSL_REAL=double gives the float64 path used by gradient checks.
 *  - Public arrays are row-major and batch-major: (batch, time, channel).
 */
#ifndef SILICO_H
#define SILICO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SILICO_VERSION "0.1.0"

#ifndef SL_REAL
#define SL_REAL float
#endif
typedef SL_REAL sl_real;

/* ------------------------------------------------------------------ errors */

typedef enum {
    SL_OK = 0,
    SL_EINVAL,       /* bad argument or bad value in an experiment file */
    SL_EIO,          /* a file could not be opened, read or written */
    SL_EFORMAT,      /* a file is malformed, truncated or corrupt */
    SL_ENOMEM,       /* out of memory (or arena exhausted) */
    SL_ENUMERIC,     /* NaN or Inf where a finite number is needed */
    SL_EINTERRUPTED, /* stopped on request (Ctrl-C) */
    SL_EEXIST        /* refusing to overwrite something that exists */
} sl_status;

/* The message of the last failure on this thread ("" if none). */
const char *sl_last_error(void);
/* Short name of a status, e.g. "invalid argument". */
const char *sl_status_str(sl_status s);
/* Record a failure (printf-style message) and return s. */
sl_status sl_fail(sl_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prefix the current error message with context, e.g. a file name. */
sl_status sl_fail_context(sl_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void sl_clear_error(void);

/* --------------------------------------------------------------------- rng */

/* xoshiro256** seeded through splitmix64; normals by the polar method. */
typedef struct {
    uint64_t s[4];
    int has_spare;
    double spare;
} sl_rng;

void sl_rng_seed(sl_rng *r, uint64_t seed);
/* An independent stream derived from (seed, stream): same inputs, same draws. */
void sl_rng_seed_stream(sl_rng *r, uint64_t seed, uint64_t stream);
uint64_t sl_rng_u64(sl_rng *r);
double sl_rng_uniform(sl_rng *r);             /* [0, 1) */
double sl_rng_normal(sl_rng *r);              /* N(0, 1) */
uint64_t sl_rng_below(sl_rng *r, uint64_t n); /* uniform in [0, n) */
void sl_rng_shuffle(sl_rng *r, int *idx, int n);

/* ------------------------------------------------------------------- arena */

/* One allocation sized up front; 64-byte aligned bump allocation. */
typedef struct sl_arena sl_arena;
sl_status sl_arena_create(size_t capacity, sl_arena **out);
/* Returns NULL (and sets the error) when the arena is exhausted. */
void *sl_arena_alloc(sl_arena *a, size_t bytes);
size_t sl_arena_used(const sl_arena *a);
size_t sl_arena_capacity(const sl_arena *a);
void sl_arena_reset(sl_arena *a);
void sl_arena_destroy(sl_arena *a);

/* ------------------------------------------------------------ arrays (.npy) */

typedef enum { SL_F32, SL_F64, SL_I32, SL_I64, SL_U8 } sl_dtype;

#define SL_MAX_DIMS 8
typedef struct {
    sl_dtype dtype;
    int ndim;
    int64_t shape[SL_MAX_DIMS];
    void *data; /* row-major (C order), little-endian */
} sl_array;

size_t sl_dtype_size(sl_dtype t);
const char *sl_dtype_name(sl_dtype t); /* "F32", ... as in safetensors */
size_t sl_array_numel(const sl_array *a);
/* Allocate data (zeroed) for the given dtype and shape. */
sl_status sl_array_alloc(sl_array *a, sl_dtype t, int ndim, const int64_t *shape);
void sl_array_free(sl_array *a);

/* NumPy .npy (format 1.0/2.0/3.0, little-endian, C order). Reading allocates
 * a->data; corrupt or truncated files are SL_EFORMAT naming the file. */
sl_status sl_npy_write(const char *path, const sl_array *a);
sl_status sl_npy_read(const char *path, sl_array *a);

/* -------------------------------------------------- weights (.safetensors) */

typedef struct {
    const char *name;
    sl_array array;
} sl_tensor;

typedef struct {
    const char *key;
    const char *value;
} sl_kv;

/* Written to path.tmp and renamed, so an existing file is never left half
 * written. Metadata values are strings (safetensors' __metadata__). */
sl_status sl_safetensors_write(const char *path, const sl_tensor *tensors, int n,
                               const sl_kv *meta, int n_meta);

typedef struct sl_tensorfile sl_tensorfile;
sl_status sl_safetensors_read(const char *path, sl_tensorfile **out);
int sl_tensorfile_count(const sl_tensorfile *f);
const sl_tensor *sl_tensorfile_at(const sl_tensorfile *f, int i);
const sl_tensor *sl_tensorfile_find(const sl_tensorfile *f, const char *name);
const char *sl_tensorfile_meta(const sl_tensorfile *f, const char *key); /* NULL if absent */
void sl_tensorfile_free(sl_tensorfile *f);

/* ------------------------------------------------ experiment files (INI) */

typedef enum {
    SL_KEY_INT,    /* integer within [min, max] */
    SL_KEY_REAL,   /* finite real within [min, max] */
    SL_KEY_BOOL,   /* true/false/yes/no/on/off/1/0 */
    SL_KEY_STRING, /* any text (paths, names) */
    SL_KEY_CHOICE, /* one of the '|'-separated words in choices */
    SL_KEY_LIST    /* comma-separated reals (or empty) */
} sl_keytype;

typedef struct {
    const char *name;    /* "section.key" */
    sl_keytype type;
    const char *def;     /* default, as text */
    double min, max;     /* for INT/REAL (and each LIST element) */
    const char *choices; /* for CHOICE: "a|b|c" */
    const char *help;    /* one line: what it means, with units */
} sl_keydef;

/* The schema: every key an experiment file may set. */
const sl_keydef *sl_config_keys(int *n);

typedef struct sl_config sl_config;
/* A config holding every key at its default. */
sl_status sl_config_new(sl_config **out);
void sl_config_free(sl_config *c);
/* An independent copy: values, and which keys were set and where (keys left
 * at their defaults stay unset, so a task can still apply its own default). */
sl_status sl_config_copy(const sl_config *src, sl_config **out);
/* Read an INI file; unknown sections/keys and bad values are SL_EINVAL
 * naming the file and line. */
sl_status sl_config_load(sl_config *c, const char *path);
/* The same from text already in memory; origin names it in messages. */
sl_status sl_config_load_string(sl_config *c, const char *text, const char *origin);
/* Set one key (validated). origin names where it came from in messages. */
sl_status sl_config_set(sl_config *c, const char *key, const char *value, const char *origin);
/* A command-line override "section.key=value". */
sl_status sl_config_override(sl_config *c, const char *arg);
/* Typed getters. Keys are validated when set, so these cannot fail for a
 * key in the schema; asking for an unknown key returns 0/""/NULL. */
const char *sl_config_str(const sl_config *c, const char *key);
long sl_config_int(const sl_config *c, const char *key);
double sl_config_real(const sl_config *c, const char *key);
int sl_config_bool(const sl_config *c, const char *key);
/* Fills up to max values; returns the number of list elements. */
int sl_config_list(const sl_config *c, const char *key, double *out, int max);
/* Whether the key was set by a file or override (not left at its default). */
int sl_config_is_set(const sl_config *c, const char *key);
/* The fully resolved config as INI text (malloc'd; caller frees). */
char *sl_config_to_ini(const sl_config *c);
sl_status sl_config_write(const sl_config *c, const char *path);

/* -------------------------------------------------------- metrics (.jsonl) */

/* One JSON object per line; values are written with full precision. */
typedef struct sl_metrics sl_metrics;
sl_status sl_metrics_open(const char *path, int append, sl_metrics **out);
void sl_metrics_begin(sl_metrics *m);
void sl_metrics_int(sl_metrics *m, const char *key, long v);
void sl_metrics_real(sl_metrics *m, const char *key, double v); /* NaN/Inf as null */
void sl_metrics_str(sl_metrics *m, const char *key, const char *v);
sl_status sl_metrics_end(sl_metrics *m); /* writes the line and flushes */
void sl_metrics_close(sl_metrics *m);

/* ----------------------------------------------------------- progress bar */

/* A progress bar on a stream (normally stderr). On a TTY it redraws one line;
 * otherwise it prints a plain line every ~10%. Used by the CLI. */
typedef struct sl_progress sl_progress;
sl_status sl_progress_start(void *stream /* FILE* */, const char *label, long total,
                            sl_progress **out);
/* status: short text shown after the bar (e.g. "loss 0.012 val 3.1%"). */
void sl_progress_update(sl_progress *p, long done, const char *status);
void sl_progress_finish(sl_progress *p, const char *status);

/* --------------------------------------------------------------- threads */

/* Sets OpenBLAS's pool size (1 = single-threaded, deterministic). */
void sl_set_threads(int n);
int sl_get_threads(void);
/* e.g. "OpenBLAS 0.3.21 SkylakeX (pthread)" */
const char *sl_blas_info(void);
/* e.g. "Intel(R) Xeon(R) Processor" */
const char *sl_cpu_info(void);
/* When OpenBLAS fell back to its slow generic "Prescott" kernels on a CPU it
 * does not recognise (but that has AVX-512/AVX2), the OPENBLAS_CORETYPE value
 * that selects the right ones ("SkylakeX", "Haswell"); NULL otherwise or when
 * OPENBLAS_CORETYPE is already set. It takes effect only in a new process. */
const char *sl_blas_better_coretype(void);

/* ------------------------------------------------------------------ model */

typedef enum {
    SL_ACT_RECT_TANH = 0, /* tanh(x) for x > 0, else 0 (the default) */
    SL_ACT_TANH,
    SL_ACT_RELU,
    SL_ACT_SOFTPLUS,
    SL_ACT_SIGMOID
} sl_activation;

/* "rect_tanh", "tanh", "relu", "softplus", "sigmoid" */
const char *sl_activation_name(sl_activation a);
sl_status sl_activation_parse(const char *name, sl_activation *out);

/* The network kinds (model.type). SL_CELL_CTRNN is the continuous-time rate
 * RNN of Sussillo et al. 2015 (see src/nn/ctrnn.c):
 *   x_{t+1} = x_t + α(−x_t + J φ(x_t) + B u_t + b) + √(2α) σ_rec ξ_t,  α = dt/τ
 *   z_t     = W φ(x_{t+1}) + c
 * The others are a recurrent cell (src/nn/cell.h; PyTorch's conventions for
 * rnn, gru, lstm; Ravanelli 2018's light GRU) read out linearly:
 *   H = cell(U) (h_0 = 0),   z_t = W h_t + c            (see src/nn/model.c) */
typedef enum {
    SL_CELL_CTRNN = 0, /* "ctrnn" (the default: a zeroed spec is a CT-RNN) */
    SL_CELL_RNN,       /* "rnn":  h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) */
    SL_CELL_GRU,       /* "gru":  torch.nn.GRU */
    SL_CELL_LIGHTGRU,  /* "lightgru": light GRU with batch norm on the input terms */
    SL_CELL_LSTM       /* "lstm": torch.nn.LSTM */
} sl_cell_kind;

/* "ctrnn", "rnn", "gru", "lightgru", "lstm" */
const char *sl_cell_kind_name(sl_cell_kind k);
sl_status sl_cell_kind_parse(const char *name, sl_cell_kind *out);

/* Dale's law on a cell's recurrent matrix W (columns = presynaptic units,
 * sign_j = +1 for the first ⌊f·N⌋ units, −1 after; M the no-autapse mask):
 *   reparam  the forward uses W_eff = |W ⊙ M|·diag(sign) (PsychRNN; the
 *            coursework's eq. 18); W itself stays free
 *   project  the forward uses W ⊙ M, and sl_model_constrain clamps wrong
 *            signs to 0 after each optimiser step (nn4n)
 *   dann     ctrnn only (Cornford et al. 2021's recurrent DANN): the N units are
 *            excitatory, n_i = max(1, round(N·(1−f)/f)) inhibitory interneurons act
 *            through J_eff = J − J_EI·J_IE ("J" = J_EE N×N, "J_IE" n_i×N, "J_EI"
 *            N×n_i, the last two appended to the tensors); sl_model_constrain
 *            clamps all three at 0 after each step */
typedef enum { SL_DALE_OFF = 0, SL_DALE_REPARAM, SL_DALE_PROJECT, SL_DALE_DANN } sl_dale_mode;
/* "off", "reparam", "project", "dann" */
const char *sl_dale_mode_name(sl_dale_mode d);
sl_status sl_dale_mode_parse(const char *name, sl_dale_mode *out);

/* The CT-RNN's state variable (model.ctrnn_form; src/nn/ctrnn.c):
 *   current  x integrated (Sussillo 2015), r = φ(x): the equation above
 *   rate     r integrated (Yang et al. 2019's LeakyRNN):
 *            r_{t+1} = (1−α) r_t + α φ(J r_t + B u_t + b + √(2/α) σ_rec ξ_t),
 *            z_t = W r_{t+1} + c; x0 is then r_0 */
typedef enum { SL_CTRNN_CURRENT = 0, SL_CTRNN_RATE } sl_ctrnn_form;
/* "current", "rate" */
const char *sl_ctrnn_form_name(sl_ctrnn_form f);
sl_status sl_ctrnn_form_parse(const char *name, sl_ctrnn_form *out);

typedef struct {
    int n_in, n_hidden, n_out;
    sl_activation act; /* ctrnn: rate nonlinearity φ; rnn: the cell's f; others: unused */
    /* ctrnn only (ignored by the cells): */
    double tau_ms, dt_ms;
    double g;         /* J ~ N(0, g²/N) */
    double h;         /* B ~ N(0, h²/n_in) */
    int learn_x0;     /* x₀ trainable (else x₀ = 0); cells: must be 0 (h₀ = 0) */
    double sigma_rec; /* recurrent noise when a noise rng is given (0 = none); cells: N(0, 2σ²)
                         added to every gate's pre-activation each step (α = 1) */
    sl_ctrnn_form form; /* ctrnn: current (x integrated, the default) or rate (r integrated) */
    double sigma_in;  /* input noise: u + σ_in ξ each step when a noise rng is given (0 = none) */
    /* the network kind, and the light GRU's batch norm (0 = the default) */
    sl_cell_kind cell;
    double bn_momentum; /* running = (1 − m)·running + m·batch; 0 = 0.1 (PyTorch) */
    double bn_eps;      /* 0 = 1e-5 */
    /* cells only (the CT-RNN rejects it; src/nn/model.c has the equations): */
    int enu_k;          /* > 0: ENU input stage, each unit its own k-dim ReLU embedding
                           e = ReLU(W_e x + b_e) ("enu.weight" N·k×n_in, "enu.bias"), read
                           by block-diagonally masked input matrices; 0 = none */
    /* every kind: */
    sl_dale_mode dale;  /* Dale's law on the recurrent matrix (ctrnn: J; lightgru: U_h; rnn,
                           gru, lstm: weight_hh, every gate block) */
    double exc_fraction;/* Dale: the first ⌊f·N⌋ units excitatory; 0 = 0.8 */
    int no_autapses;    /* Dale: zero the recurrent matrix's diagonal (each gate block's) */
    /* fixed connectivity mask (N×N, 0 = absent synapse, or NULL = dense) on the recurrent
     * matrix (ctrnn: J; cells: the matrix Dale's law acts on, every gate block): the
     * forward uses W ⊙ M, the masked entries start at 0 and stay there (their gradient is
     * 0); copied at create, not kept in sl_model_get_spec (NULL there) */
    const sl_real *rec_mask;
    /* per-synapse plasticity mask of the recurrent matrix (N×N, 0 = frozen, 1 = plastic,
     * or NULL = all plastic; cells: every gate block): the gradient of a frozen entry is
     * zeroed in every backward, so no optimiser moves it; copied like rec_mask */
    const sl_real *plastic_mask;
} sl_model_spec;
/* The old name of sl_model_spec (CT-RNN only before the cells). */
typedef sl_model_spec sl_ctrnn_spec;

typedef struct sl_model sl_model;

/* Allocate and initialise. CT-RNN: J, B from spec; b = 0; W, c as PyTorch's
 * Linear. Cells: the cell's own initialisation (PyTorch's for rnn, gru, lstm;
 * src/nn/lightgru.c for lightgru), then W, c as PyTorch's Linear. */
sl_status sl_model_create(const sl_model_spec *spec, sl_rng *rng, sl_model **out);
void sl_model_free(sl_model *m);
/* The spec the model was built from (defaults filled in). */
const sl_model_spec *sl_model_get_spec(const sl_model *m);

/* All parameters live in one contiguous buffer, gradients in a parallel one.
 * CT-RNN tensors in order: J (N×N), B (N×n_in), b (N), W (n_out×N),
 * c (n_out), and x0 (N) when learn_x0. Cells: the cell's tensors named as
 * PyTorch names them — weight_ih, weight_hh, bias_ih, bias_hh (rnn, gru,
 * lstm; gates stacked in PyTorch's order) or W_z, W_h, U_z, U_h,
 * bn_z.weight, bn_z.bias, bn_h.weight, bn_h.bias (lightgru) — then the
 * readout W (n_out×N) and c (n_out). With an ENU stage (spec.enu_k = k),
 * "enu.weight" (N·k×n_in) and "enu.bias" (N·k) come first and the cell's
 * input matrices have N·k columns. */
size_t sl_model_num_params(const sl_model *m);
sl_real *sl_model_params(sl_model *m);
sl_real *sl_model_grads(sl_model *m);
int sl_model_num_tensors(const sl_model *m);
/* Name ("J", "B", "b", "W", "c", "x0", "weight_ih", ...), offset into the
 * buffer, shape. */
typedef struct {
    const char *name;
    size_t offset;
    int ndim;
    int64_t shape[2];
    size_t numel;
} sl_param_info;
const sl_param_info *sl_model_tensor(const sl_model *m, int i);
const sl_param_info *sl_model_find(const sl_model *m, const char *name);

/* Non-trainable state (the light GRU's batch-norm running statistics
 * "bn_z.running_mean", "bn_z.running_var", "bn_h.running_mean",
 * "bn_h.running_var"): one more flat buffer, never touched by the optimiser,
 * saved in checkpoints. 0 buffers / NULL for the other kinds. */
int sl_model_num_buffers(const sl_model *m);
sl_real *sl_model_buffers(sl_model *m);
const sl_param_info *sl_model_buffer(const sl_model *m, int i); /* offset into sl_model_buffers */

/* Forward/backward workspace sized for (batch, T); reuse across steps. */
typedef struct sl_workspace sl_workspace;
sl_status sl_workspace_create(const sl_model *m, int batch, int T, sl_workspace **out);
void sl_workspace_free(sl_workspace *ws);

/* Run the network on u (B×T×n_in) from x₀. noise: NULL for a deterministic
 * run (evaluation), else the generator for the σ_rec recurrent and σ_in
 * input noise of the spec (every kind; none is drawn when both are 0).
 * z (B×T×n_out) may be NULL. The states are kept in ws for backward and for
 * inspection. Batch norm (lightgru) runs in evaluation mode here: it
 * normalises with the running statistics and leaves them unchanged. */
sl_status sl_model_forward(sl_model *m, sl_workspace *ws, const sl_real *u, int B, int T,
                           sl_rng *noise, sl_real *z);
/* Hidden states x_t and rates r_t for t = 1..T, batch-major (B×T×N).
 * Either output may be NULL. Cells have no separate rate: both receive the
 * hidden output h_t that the readout reads (for the LSTM its h, not c). */
void sl_model_states(const sl_workspace *ws, sl_real *x, sl_real *r);

/* Backward through time after sl_model_forward with the same ws. dz is
 * dLoss/dz (B×T×n_out). rate_coef adds rate_coef · Σ r² over t=1..T to the
 * loss (pass λ_r/(B·T·N) for λ_r·mean r²; cells: r = h). Gradients are ADDED
 * into sl_model_grads (call sl_model_zero_grad first). */
sl_status sl_model_backward(sl_model *m, sl_workspace *ws, const sl_real *dz, double rate_coef);
void sl_model_zero_grad(sl_model *m);

/* The matrix the forward really uses for tensor `name` (numel reals into
 * out): W ⊙ M for ENU-masked input matrices and Dale's matrix in project mode
 * with no autapses, |W ⊙ M|·diag(sign) under Dale reparam, else a copy of the
 * parameter. SL_EINVAL for an unknown name. */
sl_status sl_model_effective(const sl_model *m, const char *name, sl_real *out);
/* After each optimiser step: Dale project (clamp wrong signs and masked
 * entries to 0); nothing for other models. */
void sl_model_constrain(sl_model *m);
/* The structural invariants: ENU mask zeros and no-autapse zeros are exactly
 * 0 in the parameters, and the effective Dale matrix has its column signs.
 * SL_OK, or SL_EINVAL naming the matrix, entry and rule broken. The trainer
 * runs it after every step when built with -DSL_CHECK_INVARIANTS. */
sl_status sl_model_check_invariants(const sl_model *m);

/* Feedback alignment (Lillicrap et al. 2016). readout (n_out×N, or NULL =
 * exact): the backward sends the output error to the hidden units through
 * this fixed matrix instead of the readout W (∂L/∂h += dz·B_fa); W itself
 * still gets its exact gradient. recurrent (N×N, or NULL = exact; ctrnn and
 * rnn only, SL_EINVAL for the other kinds): replaces J (rnn: weight_hh, or its
 * effective matrix) in the backward recurrence. The matrices are copied;
 * NULL, NULL restores exact BPTT. */
sl_status sl_model_set_feedback(sl_model *m, const sl_real *readout, const sl_real *recurrent);

/* Save weights and buffers (+ metadata: config text, version, ...) / rebuild
 * a model of any kind from a checkpoint alone. Metadata "format" is
 * "silico.ctrnn.v1" for the CT-RNN and "silico.model.v1" (with "cell" = the
 * kind's name) for the cells. */
sl_status sl_model_save(const sl_model *m, const char *path, const sl_kv *meta, int n_meta);
sl_status sl_model_load(const char *path, sl_model **out, sl_tensorfile **file_out);

/* ------------------------------------------------------------------ losses */

/* Masked MSE: Σ mask·(z−y)² / Σ mask over B×T×n_out (mask NULL = all ones).
 * If dz is not NULL it receives dLoss/dz. Returns the loss. */
double sl_mse_loss(const sl_real *z, const sl_real *y, const sl_real *mask, size_t n, sl_real *dz);



/* ---------------------------------------------------------- tasks (batches) */

/* One batch, batch-major. Buffers belong to the task that filled it. */
/* Regression tasks fill y (and mask B×T×n_out); classification tasks fill
 * labels (class indices in [0, n_out), the network's n_out outputs being the
 * class logits) and mask B×T (per-step loss weight), and mark in decision the
 * steps where a decision is scored for accuracy. */
typedef struct {
    int B, T, n_in, n_out;
    const sl_real *u;    /* B×T×n_in */
    const sl_real *y;    /* B×T×n_out targets, or NULL (classification) */
    const sl_real *mask; /* regression B×T×n_out, classification B×T; NULL = all 1 */
    const int *cond;     /* B: condition index of each trial, or NULL */
    const int *labels;   /* B×T class labels, or NULL (regression) */
    const unsigned char *decision; /* B×T: 1 where a decision is scored, or NULL */
} sl_batch;

/* ------------------------------------------------------------- batch loss */

/* The training loss of one batch (the trainer's kernel, also used by tests
 * and the bench):
 *   L = task loss + λ_w Σ_{M ∈ l2_on} Σ M² + λ_r mean_{b,t=1..T,i} r²
 *       + λ₁ Σ_{M ∈ l1_on} Σ |M| + λ_r1 mean_{b,t=1..T,i} |r|
 *       + β mean_{b,t} ‖h_{b,t}‖₂                        (cells only)
 * For the cells r is the hidden output h, and l2_on's J means the recurrent
 * matrices (weight_hh; U_z and U_h for lightgru), B the input matrices
 * (weight_ih; W_z and W_h; and enu.weight) and W the readout; the penalty
 * applies to the parameters as stored. Batch norm (lightgru) runs in
 * training mode here: batch statistics, running statistics updated (also
 * when backward is 0).
 * where the task loss is the masked MSE (batches with targets y) or the
 * softmax cross-entropy over n_out classes (batches with labels).
 * Runs forward (noise: NULL = deterministic), computes every term and, when
 * backward is nonzero, ADDS dL/dθ into sl_model_grads. z_out (B×T×n_out)
 * may be NULL. */
enum { SL_L2_J = 1, SL_L2_B = 2, SL_L2_W = 4 };
typedef struct {
    double l2_weight; /* λ_w */
    unsigned l2_on;   /* bitmask of SL_L2_J | SL_L2_B | SL_L2_W */
    double l2_rate;   /* λ_r */
    const double *class_weights; /* classification: n_out weights for the cross-entropy, or NULL */
    double l2_activation; /* β (cells only; the CT-RNN rejects β > 0): the coursework's
                             activation norm β · mean_{t,b} ‖h_{t,b,:}‖₂ (its eq. 9) */
    double l1_weight;     /* λ₁: + λ₁ Σ_{M ∈ l1_on} Σ |M| (∂ = λ₁ sgn(M), sgn(0) = 0) */
    unsigned l1_on;       /* bitmask of SL_L2_J | SL_L2_B | SL_L2_W, as l2_on */
    double l1_rate;       /* λ_r1: + λ_r1 mean_{b,t=1..T,i} |r| (cells: r = h) */
} sl_loss_spec;
typedef struct {
    double total;
    double mse;       /* the task loss: masked MSE, or cross-entropy for labelled batches */
    double weight_l2, rate;
    double activation; /* β · mean ‖h‖₂ */
    double weight_l1, rate_l1; /* λ₁ Σ|M|, λ_r1 mean|r| */
    /* feedback alignment on (backward only; else 0): over this batch's rows,
     * steps and units, with e_fa = dz·B_fa and e_bp = dz·W the readout error
     * the hidden units get under FA and under exact BPTT: Σ⟨e_fa, e_bp⟩,
     * Σ‖e_fa‖², Σ‖e_bp‖² (angle = arccos(dot / √(fa·bp))) */
    double fa_dot, fa_fa, fa_bp;
} sl_loss_terms;

sl_status sl_model_loss(sl_model *m, sl_workspace *ws, const sl_batch *batch,
                        const sl_loss_spec *spec, sl_rng *noise, int backward,
                        sl_loss_terms *out, sl_real *z_out);

typedef enum { SL_SPLIT_TRAIN = 0, SL_SPLIT_VAL, SL_SPLIT_HOLDOUT } sl_split;

/* The batch-source interface that tasks and user datasets implement and the
 * trainer pulls from. An epoch of a split is num_batches(split) batches. */
typedef struct sl_task sl_task;
typedef struct {
    const char *name;
    int (*num_batches)(sl_task *t, sl_split split);
    /* Called before each epoch of a split (shuffle, regenerate noise). */
    sl_status (*start_epoch)(sl_task *t, sl_split split, sl_rng *rng);
    /* Fill every field of *out (unused ones NULL): fields added to sl_batch
     * later must not read as garbage. */
    sl_status (*batch)(sl_task *t, sl_split split, int index, sl_rng *rng, sl_batch *out);
    void (*destroy)(sl_task *t);
    /* Optional (NULL if none): a task-specific score of the network's outputs
     * z (B×T×n_out) on batch `index` of split, added into *sum and *count; the
     * score is Σsum/Σcount, named by sl_task.score_name (e.g. ReadySetGo's
     * "interval_error_pct"). */
    void (*score)(sl_task *t, sl_split split, int index, const sl_real *z, double *sum,
                  double *count);
} sl_task_ops;

struct sl_task {
    const sl_task_ops *ops;
    int n_in, n_out, T;
    double dt_ms;
    int max_batch;    /* largest B any batch() returns */
    int classification; /* 1: batches carry labels over n_out classes (cross-entropy) */
    const char *score_name; /* name of ops->score, or NULL */
    void *impl;
};

/* Build the task named by task.name in the config. */
sl_status sl_task_create(const sl_config *c, sl_task **out);
void sl_task_free(sl_task *t);

/* The tasks this build knows: for i = 0, 1, ... sets the name and one-line
 * description of task i and returns 1; returns 0 past the last. */
int sl_task_info(int i, const char **name, const char **description);

/* Write n_trials trials of the trial-based task c describes (task.name and
 * its task.* keys) into dir, which must not exist (SL_EEXIST) and is
 * created: ob.npy (trials × T × n_obs, float32), gt.npy (trials × T int32
 * labels) or y.npy (trials × T × n_out float32 targets), mask.npy
 * (trials × T float32), decision.npy (trials × T uint8), periods.json,
 * trials.json (each trial's variables) and info.json (task, dt, channel and
 * output names, the task.* config). T is the longest trial; shorter ones are
 * padded with mask 0. Trial k is validation trial k of a run with the same
 * task seed (task.seed, or derived from run.seed when 0). */
sl_status sl_task_sample(const sl_config *c, int n_trials, const char *dir);

/* Null-model error (the tutorial's max_error): MSE of predicting, for each
 * output channel, its mean over the masked steps and trials of the given
 * targets. Used to express errors in % of null. */
double sl_null_mse(const sl_real *y, const sl_real *mask, size_t n_rows, int n_out);

/* --------------------------------------------------------------- optimiser */

typedef enum { SL_LR_CONSTANT = 0, SL_LR_COSINE, SL_LR_EXPONENTIAL } sl_lr_schedule;

typedef struct {
    double lr, lr_final; /* lr_final: end of cosine/exponential schedule */
    sl_lr_schedule schedule;
    long total_steps;
    double beta1, beta2, eps;
} sl_adam_spec;

typedef struct sl_adam sl_adam;
sl_status sl_adam_create(const sl_adam_spec *spec, size_t n, sl_adam **out);
void sl_adam_free(sl_adam *a);
double sl_adam_lr(const sl_adam *a); /* the lr the next step uses */
long sl_adam_steps(const sl_adam *a);
/* Set the lr from outside (step / reduce-on-plateau schedules driven by the
 * caller): the schedule becomes constant at lr from the next step on. */
void sl_adam_set_lr(sl_adam *a, double lr);
/* One update p -= lr · m̂/(√v̂ + eps) over the flat buffers. */
void sl_adam_step(sl_adam *a, sl_real *p, const sl_real *g);
/* State for checkpoints: m, v (n each) and the step count. */
sl_real *sl_adam_m(sl_adam *a);
sl_real *sl_adam_v(sl_adam *a);
void sl_adam_set_steps(sl_adam *a, long t);

/* Scale g so its global L2 norm is ≤ max_norm (if max_norm > 0). Returns
 * the norm before clipping. */
double sl_clip_grad_norm(sl_real *g, size_t n, double max_norm);

/* ----------------------------------------------------------------- trainer */

typedef struct {
    long epoch, step;           /* epoch just finished (1-based), optimiser steps so far */
    double loss, loss_mse, loss_weight_l2, loss_rate; /* means over the epoch */
    double loss_activation;     /* β · mean ‖h‖₂ (train.l2_activation), epoch mean */
    double loss_weight_l1, loss_rate_l1; /* λ₁ Σ|M| and λ_r1 mean|r|, epoch means */
    double loss_wiring;         /* spatial wiring cost (train.wiring_cost), epoch mean */
    double grad_norm;           /* mean pre-clip global norm over the epoch */
    double fa_angle_deg;        /* feedback alignment: angle between the readout error FA sends
                                   to the hidden units and BPTT's, over the epoch (else NaN) */
    double lr;
    double train_error_pct;     /* epoch's MSE as % of null (noisy training batches) */
    int validated;              /* val_* below are set this epoch */
    double val_loss;            /* validation task loss (MSE or cross-entropy) */
    double val_error_pct;       /* regression: validation split, % of null */
    double val_mse;
    double val_accuracy;        /* classification: decision accuracy on validation trials */
    double val_score;           /* the task's own score (sl_task.score_name), or NaN */
    double holdout_error_pct;   /* held-out conditions (NaN if none) */
    int is_best;                /* new best val error; checkpoint saved */
    double seconds;             /* wall time of this epoch */
} sl_epoch_stats;

/* Called after each epoch; return nonzero to stop (e.g. on Ctrl-C). */
typedef int (*sl_epoch_callback)(const sl_epoch_stats *s, void *user);

typedef struct sl_trainer sl_trainer;
/* A trainer for the model and task configured by c, writing into run_dir
 * (which must exist). Weight init draws from the run seed. */
sl_status sl_trainer_create(const sl_config *c, const char *run_dir, sl_trainer **out);
/* Continue a stopped run: rebuild from run_dir/config.ini and its state. */
sl_status sl_trainer_resume(const char *run_dir, sl_trainer **out);
/* Train until train.epochs (or until cb asks to stop: then the state is
 * saved and SL_EINTERRUPTED returned). NaN/Inf loss: SL_ENUMERIC, training
 * stops, the best checkpoint is left intact. */
sl_status sl_trainer_run(sl_trainer *t, sl_epoch_callback cb, void *user);
sl_model *sl_trainer_model(sl_trainer *t);
const sl_config *sl_trainer_config(const sl_trainer *t);
long sl_trainer_epoch(const sl_trainer *t);
long sl_trainer_total_epochs(const sl_trainer *t);
/* Final evaluation of the best checkpoint: fills *stats' error fields and
 * writes run_dir/summary.json. */
sl_status sl_trainer_finish(sl_trainer *t, double seconds, sl_epoch_stats *stats);
void sl_trainer_free(sl_trainer *t);

/* Everything an evaluation reports; fields that do not apply are NaN. */
typedef struct {
    double loss;        /* the task loss: MSE (regression) or cross-entropy (classification) */
    double mse;         /* regression: masked MSE */
    double error_pct;   /* regression: MSE as % of the null model's MSE */
    double accuracy;    /* classification: fraction of scored decisions that are correct */
    long n_decisions;
    double score;       /* the task's own score (sl_task.score_name), e.g. interval error % */
} sl_eval;

/* Evaluate a model on every batch of a split (noise NULL = deterministic). */
sl_status sl_evaluate_split(sl_model *m, sl_task *t, sl_split split, sl_rng *noise, sl_eval *out);

/* Evaluate a model on a split of a task: MSE and % of null (no noise when
 * noise is NULL). */
sl_status sl_evaluate(sl_model *m, sl_task *t, sl_split split, sl_rng *noise, double *mse,
                      double *error_pct);

/* ------------------------------------------- vision: CNNs (src/nn/, issue 6) */

/* A feed-forward network on C×H×W images (NCHW, batch-major), built from
 * model.layers, a comma-separated list of layers:
 *   conv(C_out, k[, s=stride][, p=padding])   nn.Conv2d(C_in, C_out, k, s, p)
 *   maxpool(k[, s=][, p=]) / avgpool(k[, s=][, p=])   stride defaults to k
 *   flatten                                   (implicit before the first linear)
 *   linear(out) (or fc(out))                  nn.Linear
 *   relu, tanh, sigmoid, softplus, rect_tanh  elementwise
 * e.g. the seed network (examples/fmnist-cnn.ini):
 *   conv(6,3,p=1), relu, maxpool(2), conv(16,3,p=1), relu, maxpool(2), flatten,
 *   linear(120), relu, linear(84), relu, linear(10)
 * Parameters are PyTorch's layers' tensors named conv1.weight (C_out×C_in×k×k),
 * conv1.bias, ..., fc1.weight (out×in), fc1.bias, ... in one flat buffer in
 * layer order (gradients in a parallel one); init as PyTorch's defaults. */
typedef struct sl_cnn sl_cnn;
typedef struct sl_cnn_ws sl_cnn_ws;

/* rng NULL: parameters left at 0 (for loading). SL_EINVAL naming the layer
 * for a bad list or a shape that does not fit. */
sl_status sl_cnn_create(const char *layers, int C, int H, int W, sl_rng *rng, sl_cnn **out);
void sl_cnn_free(sl_cnn *m);
size_t sl_cnn_num_params(const sl_cnn *m);
sl_real *sl_cnn_params(sl_cnn *m);
sl_real *sl_cnn_grads(sl_cnn *m);
void sl_cnn_zero_grad(sl_cnn *m);
int sl_cnn_num_layers(const sl_cnn *m);
/* layer i's name ("conv1", "relu1", "pool1", "flatten", "fc1", ...) and output
 * shape (C, H, W; dense layers F, 1, 1): returns its ndim (3 or 1) */
const char *sl_cnn_layer_name(const sl_cnn *m, int i);
int sl_cnn_layer_shape(const sl_cnn *m, int i, int shape[3]);
int sl_cnn_num_outputs(const sl_cnn *m);
/* the input shape C, H, W */
void sl_cnn_input_shape(const sl_cnn *m, int shape[3]);
const char *sl_cnn_layers(const sl_cnn *m); /* model.layers as given */

/* Activations of every layer for up to max_batch images. */
sl_status sl_cnn_ws_create(const sl_cnn *m, int max_batch, sl_cnn_ws **out);
void sl_cnn_ws_free(sl_cnn_ws *ws);
/* X: B×C×H×W (kept by reference until backward). Z (B×n_out) may be NULL. */
sl_status sl_cnn_forward(sl_cnn *m, sl_cnn_ws *ws, const sl_real *X, int B, sl_real *Z);
/* layer i's output after forward (B × its size), or NULL */
const sl_real *sl_cnn_activation(const sl_cnn_ws *ws, int i);
/* Backward after forward from layer `layer`'s output gradient dA (B × its
 * size; the last layer: dL/dZ): parameter gradients ADDED (when param_grads),
 * dX (B×C×H×W, may be NULL) OVERWRITTEN with dL/dX. */
sl_status sl_cnn_backward(sl_cnn *m, sl_cnn_ws *ws, int layer, const sl_real *dA, sl_real *dX,
                          int param_grads);
/* Mean softmax cross-entropy of a batch (labels in [0, n_out)); backward
 * nonzero ADDS dL/dθ into the gradients. n_correct may be NULL. */
sl_status sl_cnn_loss(sl_cnn *m, sl_cnn_ws *ws, const sl_real *X, const int *labels, int B,
                      int backward, double *loss, int *n_correct);
/* .safetensors with the PyTorch names; metadata "format" = "silico.cnn.v1",
 * "layers", "input" ("C,H,W") plus the caller's. Load rebuilds the network
 * from the file alone (file_out, if not NULL, keeps it open for metadata). */
sl_status sl_cnn_save(const sl_cnn *m, const char *path, const sl_kv *meta, int n_meta);
sl_status sl_cnn_load(const char *path, sl_cnn **out, sl_tensorfile **file_out);
/* Whether a checkpoint file is a CNN's (its "format" metadata). */
int sl_cnn_is_checkpoint(const sl_tensorfile *f);

/* Image tasks (task.name = fashion_mnist, mnist, idx, gratings): the image
 * shape C, H, W of a task's inputs (n_in = C·H·W, T = 1, labels B×1), and
 * the normalisation x ← (x − mean)/std applied to pixel values in [0, 1].
 * SL_EINVAL when t is not an image task. */
sl_status sl_task_image_shape(const sl_task *t, int shape[3], double *mean, double *std);
/* An oriented sine-wave grating on an S×S image (src/tasks/gratings.c):
 *   u = x cos θ + y sin θ  (pixel centres relative to the image centre, y down)
 *   p = clamp(0.5 + 0.5 c cos(2π f u / S + φ) e^{−r²/(2σ²)} + σ_n ξ, 0, 1)
 * θ = tilt_deg clockwise from vertical (0 = vertical stripes). noise may be
 * NULL (no pixel noise). */
typedef struct {
    double tilt_deg; /* θ, degrees clockwise from vertical */
    double sf;       /* f, cycles per image width */
    double phase;    /* φ, radians */
    double contrast; /* c in [0, 1] */
    double sigma;    /* Gaussian aperture σ in pixels (0 = none) */
    double noise;    /* σ_n, pixel noise std */
} sl_grating_spec;
void sl_grating(float *img, int S, const sl_grating_spec *g, sl_rng *noise);

/* The trainer's CNN (model.type = cnn; sl_trainer_model is then NULL), or NULL. */
sl_cnn *sl_trainer_cnn(sl_trainer *t);

/* Preferred stimuli (the seed's tuning analysis, src/analysis/tuning.c):
 * gradient ascent on a batch of images p ∈ [0,1]^(C×H×W) drawn U(0,1),
 *   x = (p − mean)/std,  a_b = unit activity of image b at `layer`,
 *   loss = −mean_b a_b² + l2 · mean(x²),
 * Adam on p (lr), p clamped to [0,1] after each step, `steps` steps.
 * A dense layer's unit is one feature; a C×H×W layer's is a channel,
 * spatially averaged (at_y < 0) or at (at_y, at_x). unit < 0: the unit with
 * the largest mean activity over the initial batch. */
typedef struct {
    int layer;          /* index into the CNN's layers */
    int unit;           /* −1 = the most active */
    int at_y, at_x;     /* conv layers: a location, or −1 = spatial mean */
    int batch, steps;   /* 0 = 64, 1000 */
    double lr, l2;      /* 0 = 0.01, 100 (the seed's) */
    double mean, std;   /* the training normalisation */
    uint64_t seed;      /* initial images */
} sl_tuning_spec;
typedef struct {
    int unit;                         /* the unit optimised */
    sl_real *images_before, *images_after; /* batch×C×H×W pixels (caller-allocated) */
    double *act_before, *act_after;   /* batch */
    double *class_probs;              /* batch×n_out softmax of the output layer */
    double loss_first, loss_last;
} sl_tuning_result;
sl_status sl_cnn_preferred_stimuli(sl_cnn *m, const sl_tuning_spec *spec, sl_tuning_result *out);

/* ----------------------------- analysis: activity, perturbation, selectivity,
 * PCA, tangling, jPCA, decoding (src/analysis/, issue 5) */

/* Activity (src/analysis/activity.c): the model run on u (B×T×n_in; noise as
 * sl_model_forward) with its outputs z (B×T×n_out), states x and rates r
 * (B×T×N; cells: x = r = h) and the gated cells' gate traces (B×T×N each,
 * named gate_i, gate_f, gate_g, gate_o, cell for the LSTM; gate_r, gate_z,
 * gate_n for the GRU; gate_z, gate_n for the light GRU; preactivation for
 * the rnn). Non-finite inputs or outputs are SL_ENUMERIC. */
#define SL_ACTIVITY_MAX_GATES 8
typedef struct {
    int B, T, N, n_out;
    sl_real *z, *x, *r;
    int n_gates;
    char gate_names[SL_ACTIVITY_MAX_GATES][24];
    sl_real *gates[SL_ACTIVITY_MAX_GATES];
} sl_activity;
sl_status sl_activity_run(sl_model *m, const sl_real *u, int B, int T, sl_rng *noise,
                          sl_activity *out);
void sl_activity_free(sl_activity *a);
/* K single trials from C conditions' inputs u (C×T×n_in): trial k is condition
 * k mod C (cond[k], may be NULL) plus N(0, sigma²) on every channel and step. */
void sl_noisy_trials(const sl_real *u, int C, int T, int n_in, int K, double sigma, sl_rng *rng,
                     sl_real *out, int *cond);
/* Condition-averaged rates: out (G×T×N) = mean of r (K×T×N) over the trials
 * of each group (group[k] in [0, G)); count (G) trials per group (NaN rows
 * for empty groups). */
sl_status sl_psth(const sl_real *r, int K, int T, int N, const int *group, int n_groups,
                  double *out, int *count);

/* Perturbation (src/analysis/perturb.c; the seed tutorial's Section 4). The
 * trials are a batch (sl_batch: u, and targets y with their mask, or labels
 * with a per-step mask). Error of one run: regression 100·MSE/null_mse (the
 * null model predicts each output's mean); classification the % of scored
 * decisions (data->decision; when NULL, of masked steps) whose argmax output
 * is not the label (null_mse unused). The model is
 * restored before each call returns. Results are n_levels × repeats, row-major.
 *   inputs    u' = u + ξ·s·‖u_{b,t}‖₂, ξ_{b,c} ~ U[0,1) drawn once per trial and
 *             channel and held over time; s = levels[i]
 *   weights   each recurrent matrix M (ctrnn: J; rnn, gru, lstm: weight_hh;
 *             lightgru: U_z, U_h) += N(0, (f·mean|M|)²), f = levels[i]
 *   synapses  a fraction f = levels[i] of each recurrent matrix's entries,
 *             chosen at random, set to 0
 *   ablation  a fraction f = levels[i] of the units, chosen at random, silenced:
 *             their outgoing recurrent weights (columns of the recurrent
 *             matrices) and readout weights set to 0, which for every other
 *             unit and the output is their rate forced to 0
 * Draws come from (seed, level index, repeat): the same seed gives the same
 * numbers. */
typedef enum { SL_PERTURB_INPUT, SL_PERTURB_WEIGHT, SL_PERTURB_SYNAPSE, SL_PERTURB_ABLATE } sl_perturb_kind;
double sl_perturb_error(sl_model *m, const sl_batch *data, double null_mse);
sl_status sl_perturb(sl_model *m, const sl_batch *data, double null_mse, sl_perturb_kind kind,
                     const double *levels, int n_levels, int repeats, uint64_t seed, double *err);
/* The error with the given units silenced (as SL_PERTURB_ABLATE). */
sl_status sl_perturb_ablate_units(sl_model *m, const sl_batch *data, double null_mse,
                                  const int *units, int n_units, double *err);

/* Selectivity (src/analysis/selectivity.c; the coursework's eq. 19). X is
 * n trials × N units; group[k] = 1 (a), 0 (b) or −1 (left out):
 *   d′_i = 2(μ_a − μ_b)/√(σ_a² + σ_b²)   (σ² with ddof 0, as numpy's var)
 * 0 when both groups are constant and equal, NaN when they are constant and
 * differ. Fewer than one trial in a group is SL_EINVAL. */
sl_status sl_dprime(const double *X, int n, int N, const int *group, double *d);
/* Monte-Carlo null of max_i |d′_i|: n_shuffles random permutations of group
 * (sizes kept), max_abs[s] each. */
sl_status sl_dprime_null(const double *X, int n, int N, const int *group, int n_shuffles,
                         uint64_t seed, double *max_abs);

/* Decoding and encoding (src/analysis/decode.c), cross-validated over folds:
 * fold[k] in [0, n_folds) is trial k's test fold (sl_cv_folds: a shuffled
 * balanced assignment). Features are standardised with each training fold's
 * mean and sd. Ridge: β = (XᵀX + λI)⁻¹XᵀY on centred data (LAPACK dposv);
 * r2[j] = 1 − Σ(y − ŷ)²/Σ(y − ȳ)² over the pooled held-out predictions of
 * target j. Logistic: one-vs-rest L2-penalised logistic regressions fitted by
 * Newton's method (IRLS), the predicted class the highest score; accuracy =
 * fraction of held-out trials predicted right. */
void sl_cv_folds(int n, int n_folds, sl_rng *rng, int *fold);
sl_status sl_ridge_cv(const double *X, int n, int p, const double *Y, int q, double lambda,
                      const int *fold, int n_folds, double *r2);
sl_status sl_logistic_cv(const double *X, int n, int p, const int *y, double lambda,
                         const int *fold, int n_folds, double *accuracy);

/* ------------------------------------- analysis: fixed points (issue 5) */

/* FixedPointFinder's pipeline (Golub & Sussillo 2018; src/analysis/fixedpoints.c)
 * on the model's one-step map F(x, u) (CT-RNN: the Euler step, whose fixed
 * points are the ODE's; LSTM: x = (h, c)): minimise q = ½‖x − F(x, u)‖² from
 * K initial states jointly by Adam with plateau decay, optionally polish with
 * Newton steps, deduplicate, drop distance outliers, then eigen-decompose the
 * Jacobians of the unique points. Defaults (sl_fp_defaults) are FPF's. */
typedef struct {
    double tol_q;        /* stop a point at q < tol_q (1e-12) */
    double tol_dq;       /* ... or at |q − q_prev| < tol_dq · lr (1e-20) */
    int max_iters;       /* Adam iterations at most (5000) */
    double lr_init;      /* Adam's initial learning rate (1.0); plateau decay ×0.95, patience 2 */
    int newton_iters;    /* Newton steps per point after Adam (0 = none; a step is kept only
                            when it lowers q) */
    double tol_unique;   /* points within this 2-norm distance of [x, u] are one (1e-3) */
    double outlier_distance_scale; /* drop points ≥ this × the initial states' mean distance
                                      from their centroid (10; 0 = keep all) */
    double fixed_q;      /* unique points with q ≤ fixed_q are fixed points, the others slow
                            points (1e-10) */
    int eigenvectors;    /* 1: also the top-3 modes' eigenvectors (unstable_modes) */
} sl_fp_spec;
void sl_fp_defaults(sl_fp_spec *s);

typedef struct {
    int n_inits, iterations; /* states searched, Adam iterations run */
    int P, D, n_in;          /* unique points, state size, inputs */
    double alpha;            /* CT-RNN dt/τ; 1 for the discrete cells */
    double *x;               /* P×D unique points */
    double *u;               /* P×n_in their inputs */
    double *q;               /* P */
    int *group;              /* P: the input group (row of the inputs given) */
    /* P×D×2 (re, im), modes sorted by real part, descending: continuous time
     * λ_c = (λ_d − 1)/α (CT-RNN: in units of 1/τ), and discrete λ_d */
    double *eig, *eig_discrete;
    unsigned char *stable;   /* CT-RNN: max Re λ_c < 0; cells: max |λ_d| < 1 */
    int *n_unstable;         /* modes with Re λ_c > 0 (CT-RNN) / |λ_d| > 1 (cells) */
    double *modes;           /* P×3×D real parts of the top-3 modes' eigenvectors, or NULL */
    double *q_all;           /* n_inits: every search's final q (before deduplication) */
} sl_fp_result;
void sl_fp_result_free(sl_fp_result *r);

/* Fixed points of m from K initial states x0 (K×D, D = N, or 2N for the
 * LSTM's (h, c)); initial state k is searched under input inputs[group[k]]
 * (n_groups × n_in constant inputs; group NULL = all under input 0). */
sl_status sl_fixed_points(const sl_model *m, const double *x0, int K, const double *inputs,
                          int n_groups, const int *group, const sl_fp_spec *spec,
                          sl_fp_result *out);

/* The state trajectories of m on inputs u (B×T×n_in) from its initial state:
 * X (B×T×D) = the states after each step (LSTM: (h, c)), float64, no noise. */
sl_status sl_model_state_trajectories(const sl_model *m, const sl_real *u, int B, int T, double *X);

/* ------------------- analysis: comparison with recorded data, RSA/CKA/CCA (issue 5) */

/* Population geometry (src/analysis/{pca,tangling,jpca,rsa,cka,cca}.c).
 * Data matrices are row-major double, rows = observations (conditions,
 * time bins, images), columns = channels (units, neurons, PCs); C×T×N arrays
 * are condition-major. Inputs with NaN/Inf are SL_ENUMERIC. */

/* PCA of X (n×p) centred by its column means, by LAPACK SVD. Keeps the first
 * k components (k ≤ min(n, p); 0 = all) and every eigenvalue of the
 * covariance (unbiased, ÷ (n−1)): variance[i], i < min(n, p), descending.
 * Each component's largest-magnitude entry is positive (deterministic sign). */
typedef struct {
    int p, k, n_var;
    double *mean;        /* p */
    double *components;  /* k×p, orthonormal rows */
    double *variance;    /* n_var = min(n, p) eigenvalues, descending */
    double total_variance; /* Σ variance */
} sl_pca;
sl_status sl_pca_fit(const double *X, int n, int p, int k, sl_pca *out);
/* out (n×k) = (X − mean) componentsᵀ; X may be other rows than the fit's
 * (fit on long runs, project single trials). */
sl_status sl_pca_project(const sl_pca *pca, const double *X, int n, double *out);
void sl_pca_free(sl_pca *pca);
/* Participation ratio (Σλ)² / Σλ² of n eigenvalues. */
double sl_participation_ratio(const double *lambda, int n);
/* The participation ratio of X's covariance (n×p rows = observations). */
sl_status sl_dimensionality(const double *X, int n, int p, double *pr);

/* Trajectory tangling (Russo et al. 2018) over every condition and time of
 * X (C×T×D, time step dt): Q(c,t) = max_{c',t'} ‖ẋ − ẋ'‖² / (‖x − x'‖² + ε),
 * ε = eps_frac × total variance of X (Σ over dims of the variance over all
 * C·T samples; eps_frac = 0.1 as Russo). ẋ by central differences (one-sided
 * at the ends, as numpy.gradient). q (C×T) may be NULL; *median = median q. */
sl_status sl_tangling(const double *X, int C, int T, int D, double dt, double eps_frac,
                      double *q, double *median);

/* jPCA (Churchland et al. 2012) of X (C×T×N rates, time step dt seconds).
 * soft: the soft-normalisation constant, x ← x / (range + soft) per unit;
 * soft < 0 chooses 5% of the largest unit range (Churchland's 5 spikes/s for
 * a population whose widest unit spans 100 spikes/s; use soft = 5 for rates
 * in spikes/s, 0 for none). The cross-condition mean is removed, the data
 * reduced to k PCs (k even, 6 as the paper), and ẋ = (x_{t+1} − x_t)/dt fit
 * by least squares as ẋ = M x with M skew-symmetric and with M unconstrained:
 * R² = 1 − SSE / Σ‖ẋ − mean ẋ‖². rotation_strength = R²_skew / R²_linear. */
typedef struct {
    int k, N;
    double r2_skew, r2_linear, rotation_strength;
    double *m_skew;     /* k×k (ẋ = M x, in PC coordinates; 1/s) */
    double *freq_hz;    /* k/2 rotation frequencies |Im λ|/2π of the planes, descending */
    double *planes;     /* k×N: rows 2j, 2j+1 span plane j, orthonormal, in unit space
                         * (of the soft-normalised rates) */
    double *var_captured; /* k/2: fraction of the (normalised, mean-removed) variance in plane j */
    double *proj;       /* C×T×k: the data projected on the planes */
    double soft_used;
} sl_jpca_result;
sl_status sl_jpca_fit(const double *X, int C, int T, int N, double dt, double soft, int k,
                      sl_jpca_result *out);
void sl_jpca_free(sl_jpca_result *j);

/* RDMs over the n rows (conditions) of X (n×p), rsatoolbox conventions:
 * euclidean = ‖x_i − x_j‖² / p (squared, ÷ channels); correlation = 1 −
 * Pearson r across channels. out is the full symmetric n×n matrix. */
typedef enum { SL_RDM_EUCLIDEAN, SL_RDM_CORRELATION } sl_rdm_metric;
sl_status sl_rdm(const double *X, int n, int p, sl_rdm_metric metric, double *out /* n×n */);
/* Crossnobis with identity noise (rsatoolbox calc_rdm crossnobis): X holds K
 * independent splits (K×n×p, K ≥ 2, e.g. per-fold condition means);
 * d_ij = mean over split pairs a < b of (x_i^a − x_j^a)·(x_i^b − x_j^b) / p. */
sl_status sl_rdm_crossnobis(const double *X, int K, int n, int p, double *out /* n×n */);
/* Similarity of two n×n RDMs on their upper triangles (i < j): Spearman
 * (average ranks for ties), Pearson, Kendall τ-a ((concordant − discordant)
 * / pairs, as rsatoolbox) and cosine (uncentred). NaN for n < 2 or a constant
 * RDM where a correlation needs variance. */
typedef enum {
    SL_RDM_SPEARMAN,
    SL_RDM_PEARSON,
    SL_RDM_KENDALL_TAU_A,
    SL_RDM_COSINE
} sl_rdm_comparison;
double sl_rdm_compare(const double *A, const double *B, int n, sl_rdm_comparison how);
/* *r = sl_rdm_compare(A, B); *p = (1 + #{perm: r_perm ≥ r}) / (1 + n_perm), the
 * permutations relabelling B's conditions (rows and columns together). */
sl_status sl_rdm_permutation_p(const double *A, const double *B, int n, sl_rdm_comparison how,
                               int n_perm, uint64_t seed, double *r, double *p);

/* CKA (Kornblith et al. 2019). X (n×p) and Y (n×q), the same n rows.
 * Linear CKA in feature form ‖X̃ᵀỸ‖²_F / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F), X̃, Ỹ column-centred;
 * debiased: the unbiased HSIC of Song et al. 2007 (Nguyen 2021 form). */
double sl_cka_linear(const double *X, const double *Y, int n, int p, int q, int debiased);
/* CKA of two n×n Gram matrices: ⟨HKH, HLH⟩ / (‖HKH‖ ‖HLH‖), H the centring
 * matrix; debiased uses the unbiased centring (Kornblith's center_gram). */
double sl_cka_gram(const double *K, const double *L, int n, int debiased);
/* Gram matrices: linear XXᵀ; RBF exp(−‖x_i − x_j‖² / (2 σ²)) with
 * σ² = threshold² × the median of the n² squared distances (diagonal
 * included, as Kornblith's gram_rbf); threshold 0.5 in Kornblith's demo. */
void sl_gram_linear(const double *X, int n, int p, double *out /* n×n */);
sl_status sl_gram_rbf(const double *X, int n, int p, double threshold, double *out /* n×n */);

/* CCA of column-centred X (n×p) and Y (n×q): the canonical correlations
 * (singular values of Q_xᵀQ_y, min(p, q) of them, descending, into rho when
 * not NULL) and *mean_r2 = Σρ² / min(p, q) (Kornblith's cca: mean squared
 * canonical correlation). Rank-deficient directions (singular value below
 * 1e-10 × the largest) are dropped before the QR-equivalent step. */
sl_status sl_cca(const double *X, const double *Y, int n, int p, int q, double *rho,
                 double *mean_r2);
/* SVCCA (Raghu et al. 2017): each side reduced by SVD to the fewest
 * directions holding ≥ keep (0.99) of its variance, then CCA; *mean_rho =
 * the mean canonical correlation (Raghu's convention, not squared). */
sl_status sl_svcca(const double *X, const double *Y, int n, int p, int q, double keep,
                   double *mean_rho);
/* Orthogonal Procrustes distance after centring and scaling each side to
 * unit Frobenius norm: *dist = min_Q ‖X̃ − ỸQ‖_F = √(2 − 2‖X̃ᵀỸ‖_*) (Q
 * orthogonal; p ≠ q pads the smaller side with zero columns);
 * *angular = arccos ‖X̃ᵀỸ‖_* (Williams et al. 2021), either may be NULL. */
sl_status sl_procrustes(const double *X, const double *Y, int n, int p, int q, double *dist,
                        double *angular);

/* An RDM from its condensed upper triangle (m = n(n−1)/2 entries, row by
 * row as scipy/MATLAB squareform): *out malloc'd n×n with a zero diagonal;
 * SL_EINVAL when m is not a triangular number. */
sl_status sl_rdm_from_condensed(const double *v, long m, double **out, int *n);

/* A numeric array from "FILE.npy" or "FILE.mat:EXPR" (src/analysis/
 * compare.c). EXPR is a variable name followed by any of .FIELD, (i) and
 * {i} with 1-based indices, e.g. RDMs_mIT_hIT_fig1(1).RDM or C{2}. Any real
 * numeric or logical class; *data malloc'd double, row-major, in the shape
 * as listed (for .mat files MATLAB's dimension order: element (i, j, k) of
 * a T×N×C variable is data[(i·N + j)·C + k]). Unknown files, variables and
 * fields are SL_EIO / SL_EINVAL naming what exists. */
sl_status sl_read_array(const char *spec, double **data, int *ndim, int64_t *shape);

/* Model vs recorded activity on the same C conditions × T time bins (step
 * dt_s seconds): model (C×T×Nm) and data (C×T×Nd) rates. Each side reduced
 * to k PCs (fit over the C·T samples; k clipped to min(Nm, Nd, C·T)); on the
 * PCs: CCA mean R², linear CKA (feature and Gram forms, debiased), RBF CKA
 * (threshold 0.5), Procrustes, RDMs over conditions (each condition's
 * pattern = its T×k PC trajectory) by euclidean and correlation with every
 * comparison and a 10000-permutation p for Spearman, tangling; on the raw
 * units: SVCCA (99%), jPCA rotation strength (soft −1, 6 dims),
 * participation-ratio dimensionality. */
typedef struct {
    int k;
    double cca_mean_r2, svcca_mean, cka_linear, cka_linear_gram, cka_linear_debiased,
        cka_linear_gram_debiased, cka_rbf, procrustes, procrustes_angular;
    double rsa[2][4];     /* [euclidean, correlation][spearman, pearson, kendall τ-a, cosine] */
    double rsa_p_spearman[2];
    double *rho;          /* k canonical correlations */
    double *model_rdm, *data_rdm;   /* C×C euclidean */
    double *model_pcs, *data_pcs;   /* C×T×k */
    struct {
        double rotation_strength, r2_skew, r2_linear, tangling_median, dimensionality;
    } side[2];            /* [model, data] */
} sl_compare_result;
sl_status sl_compare_activity(const double *model, int Nm, const double *data, int Nd, int C,
                              int T, double dt_s, int k, sl_compare_result *out);
void sl_compare_free(sl_compare_result *r);

/* Condition-averaged rates of a trained recurrent network (src/analysis/
 * trials.c, the rates of pca, tangling, jpca and silico compare): every
 * condition of the task's validation split run
 * without noise. Reach-family tasks: each condition's trials (one per
 * validation delay, or only those with delay delay_ms when > 0) aligned on
 * their go cue and averaged over the steps all of them share; time_s[t] is
 * seconds from the go cue and *movement_onset_s the go-to-movement lag read
 * from the targets (the first step after the go cue where the mean target
 * over conditions and outputs has risen 5% of the way from its value at the
 * go cue to its maximum). Other tasks: trials grouped by the batch's
 * condition index (or one condition per trial when none), time_s from the
 * decision period's start when every trial shares it, else from the trial
 * start; *movement_onset_s = 0. *rates is malloc'd C×T×N (double),
 * *time_s malloc'd T. */
sl_status sl_condition_rates(sl_model *m, sl_task *t, double delay_ms, double **rates,
                             double **time_s, int *C, int *T, int *N, double *movement_onset_s);

/* ------------------------------------------ figures and report (src/report/) */

/* A figure reads a run directory's files (metrics.jsonl, analysis/<name>/...)
 * and writes OUT/<name>.png, OUT/<name>.svg, the gnuplot script OUT/<name>.gp
 * that draws both, and the data it plots as OUT/<name>_<part>.dat (OUT =
 * RUN/figures by default). gnuplot (Debian's gnuplot-nox) must be on PATH.
 * The same inputs give byte-identical files. */
typedef enum {
    SL_FIG_ANY = 0,   /* every run */
    SL_FIG_RECURRENT, /* recurrent networks (ctrnn, rnn, gru, lightgru, lstm) */
    SL_FIG_GATED,     /* gated cells (gru, lstm) */
    SL_FIG_CNN        /* convolutional networks */
} sl_figure_scope;

typedef struct {
    const char *name;     /* "curves", "task", "pca", ... */
    const char *what;     /* one line: what it shows */
    const char *needs;    /* the files it reads, relative to RUN */
    const char *analysis; /* the analysis folder that holds them, or NULL (training output) */
    const char *command;  /* the command that writes them, RUN standing for the run */
    int width, height;    /* default size in pixels */
    sl_figure_scope scope;
} sl_figure_def;

/* Every figure, in the order the report shows them. */
const sl_figure_def *sl_figure_list(int *n);
const sl_figure_def *sl_figure_find(const char *name);

typedef struct {
    const char *out_dir;   /* NULL: RUN/figures (created) */
    const char *other_run; /* a second run drawn with the first (curves, perturb), or NULL */
    int width, height;     /* pixels; 0: the figure's default */
    const int *conditions; /* conditions to show (NULL: the figure's default choice) */
    int n_conditions;
    const int *units;      /* units / channels to show (NULL: default) */
    int n_units;
    int layer, image;      /* CNN layer and image index; -1: default */
} sl_figure_opts;
/* Defaults: everything NULL/0 and layer = image = -1. */
void sl_figure_opts_init(sl_figure_opts *o);

/* Whether RUN has what figure `name` reads: 1, or 0 with *missing (if not
 * NULL) set to a static description of the first missing file. A figure
 * whose scope excludes the run's network also reads 0 ("not for ..."). */
int sl_figure_ready(const char *run, const sl_figure_def *def, const char **missing);
/* Whether the figure applies to RUN's network kind at all (its scope). */
int sl_figure_applies(const char *run, const sl_figure_def *def);

/* Render figure `name` of RUN. warnings (may be NULL) receives gnuplot's
 * stderr when it succeeded but printed warnings (malloc'd), else NULL.
 * SL_EINVAL for an unknown figure, SL_EIO naming a missing input file or
 * gnuplot's error. */
sl_status sl_figure_render(const char *run, const char *name, const sl_figure_opts *o,
                           char **warnings);

/* RUN/report.html (or html_path when not NULL): one self-contained page (PNG
 * figures embedded as base64 data: URIs, no JavaScript, no network) with
 * runs[0]'s config, summary numbers and every figure its files support,
 * rendered into RUN/figures/; for each analysis that applies but is missing,
 * a note with the command that produces it. With n_runs = 2 the runs are
 * compared side by side (perturbation bars of both runs in one chart).
 * n_figures / n_missing (may be NULL) receive the counts. */
sl_status sl_report_write(const char *const *runs, int n_runs, const char *html_path,
                          int *n_figures, int *n_missing);

#ifdef __cplusplus
}
#endif
#endif /* SILICO_H */
