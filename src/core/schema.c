/* schema.c — every key an experiment file may set, with its type, default,
 * range and meaning. `silico --help` and `silico train --help` print this
 * table; sl_config validates every value against it (file and line in the
 * message). Keys are "section.key"; sections are run, model, task, train.
 *
 * This file is data only: adding a key means adding a row here. */
#include "silico.h"

#define INF 1e300

static const sl_keydef KEYS[] = {
    /* ---- run: naming and reproducibility */
    {"run.name", SL_KEY_STRING, "run", 0, 0, NULL,
     "run name; the run directory is runs/<name>-<timestamp>/"},
    {"run.seed", SL_KEY_INT, "1", 0, 4294967295.0, NULL,
     "seed of every random draw (weights, batches, noise)"},
    {"run.threads", SL_KEY_INT, "1", 1, 256, NULL,
     "OpenBLAS threads (1 = deterministic); --threads overrides"},

    /* ---- model: the continuous-time rate RNN */
    {"model.type", SL_KEY_CHOICE, "ctrnn", 0, 0, "ctrnn",
     "network kind: ctrnn = continuous-time rate RNN (Sussillo et al. 2015)"},
    {"model.hidden", SL_KEY_INT, "150", 1, 1e6, NULL, "number of recurrent units N"},
    {"model.activation", SL_KEY_CHOICE, "rect_tanh", 0, 0, "rect_tanh|tanh|relu|softplus|sigmoid",
     "rate nonlinearity phi; rect_tanh = tanh(x) for x>0 else 0"},
    {"model.tau", SL_KEY_REAL, "50", 1e-6, INF, NULL, "membrane time constant tau (ms)"},
    {"model.g", SL_KEY_REAL, "1.5", 0, INF, NULL,
     "recurrent gain: J ~ N(0, g^2/N) (g > 1: chaotic at init)"},
    {"model.h", SL_KEY_REAL, "1.0", 0, INF, NULL, "input scale: B ~ N(0, h^2/n_in)"},
    {"model.learn_x0", SL_KEY_BOOL, "false", 0, 0, NULL,
     "learn the initial state x0 (else x0 = 0)"},
    {"model.sigma_rec", SL_KEY_REAL, "0", 0, INF, NULL,
     "recurrent noise std sigma_rec; per step sqrt(2*alpha)*sigma_rec (training and validation)"},

    /* ---- task: what the network is trained on */
    {"task.name", SL_KEY_CHOICE, "reach", 0, 0, "reach|reach_synthetic",
     "task: reach = real center-out EMG (Hatsopoulos lab); reach_synthetic = smooth bumps"},
    {"task.dt", SL_KEY_REAL, "10", 1e-3, INF, NULL, "integration and sampling step dt (ms)"},
    {"task.data", SL_KEY_STRING, "data/reach/hatsopoulos_emg.npy", 0, 0, NULL,
     "reach EMG array (directions x ms x muscles, float32 .npy); relative paths are looked up "
     "in the working directory, then the installed data directory"},
    {"task.muscles", SL_KEY_LIST, "", 0, 1e6, NULL,
     "muscle indices to use as outputs (empty = all 13)"},
    {"task.emg_go_ms", SL_KEY_REAL, "400", 0, INF, NULL,
     "sample (ms into the EMG recording) aligned with the go cue"},
    {"task.emg_end_ms", SL_KEY_REAL, "2000", 0, INF, NULL,
     "last EMG sample (ms into the recording) used; later trial steps hold its value"},
    {"task.trial_ms", SL_KEY_REAL, "2500", 1e-3, INF, NULL, "trial length (ms)"},
    {"task.plan_onset_ms", SL_KEY_REAL, "100", 0, INF, NULL,
     "time the condition (plan) input turns on (ms from trial start)"},
    {"task.delays", SL_KEY_LIST, "300,500,700,900,1100", 0, INF, NULL,
     "training delays plan-onset -> go cue (ms); go cue and EMG shift together"},
    {"task.val_delays", SL_KEY_LIST, "400,1000", 0, INF, NULL,
     "held-out delays used for validation (ms)"},
    {"task.holdout_conditions", SL_KEY_LIST, "", 0, 1e6, NULL,
     "condition indices never trained on, reported separately (generalisation test)"},
    {"task.encoding", SL_KEY_CHOICE, "cossin", 0, 0, "cossin|onehot|random",
     "plan input: cossin of reach angle, onehot of condition, or a fixed random vector"},
    {"task.plan_dim", SL_KEY_INT, "15", 1, 1e5, NULL,
     "dimension of the random plan encoding (encoding = random)"},
    {"task.hold_cue", SL_KEY_BOOL, "true", 0, 0, NULL,
     "add a condition-independent hold input, on from plan onset until the go cue"},
    {"task.go_width_ms", SL_KEY_REAL, "20", 1e-3, INF, NULL,
     "standard deviation of the go-cue bump (ms)"},
    {"task.conditions", SL_KEY_INT, "8", 1, 1e5, NULL,
     "reach_synthetic: number of reach conditions (angles 360/k apart)"},
    {"task.outputs", SL_KEY_INT, "2", 1, 1e5, NULL, "reach_synthetic: number of output channels"},
    {"task.input_noise", SL_KEY_REAL, "0", 0, INF, NULL,
     "std of Gaussian noise added to the inputs of training batches"},

    /* ---- train: optimisation */
    {"train.epochs", SL_KEY_INT, "2000", 1, 1e9, NULL,
     "epochs; an epoch is one pass over training conditions x delays"},
    {"train.batch", SL_KEY_INT, "20", 1, 1e6, NULL, "trials per batch"},
    {"train.lr", SL_KEY_REAL, "1e-3", 0, INF, NULL, "Adam learning rate (start of the schedule)"},
    {"train.lr_schedule", SL_KEY_CHOICE, "cosine", 0, 0, "constant|cosine|exponential",
     "learning-rate schedule over the whole run, from train.lr to train.lr_final"},
    {"train.lr_final", SL_KEY_REAL, "1e-5", 0, INF, NULL,
     "learning rate at the last step (cosine, exponential)"},
    {"train.beta1", SL_KEY_REAL, "0.9", 0, 0.999999, NULL, "Adam beta1"},
    {"train.beta2", SL_KEY_REAL, "0.999", 0, 0.99999999, NULL, "Adam beta2"},
    {"train.eps", SL_KEY_REAL, "1e-8", 0, INF, NULL, "Adam epsilon"},
    {"train.clip", SL_KEY_REAL, "0", 0, INF, NULL,
     "clip the global gradient norm to this value (0 = no clipping)"},
    {"train.l2_weight", SL_KEY_REAL, "0", 0, INF, NULL,
     "lambda_w: adds lambda_w * sum(w^2) over the matrices in train.l2_on"},
    {"train.l2_on", SL_KEY_STRING, "W,B", 0, 0, NULL,
     "comma-separated matrices the weight penalty applies to (J, B, W)"},
    {"train.l2_rate", SL_KEY_REAL, "0", 0, INF, NULL,
     "lambda_r: adds lambda_r * mean(r^2) over batch, units and time"},
    {"train.val_every", SL_KEY_INT, "10", 1, 1e9, NULL,
     "validate every K epochs (and at the last epoch); the best checkpoint is kept"},
};

const sl_keydef *sl_config_keys(int *n)
{
    if (n) *n = (int)(sizeof KEYS / sizeof KEYS[0]);
    return KEYS;
}
