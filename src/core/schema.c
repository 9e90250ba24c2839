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

    /* ---- model: the network (a CT-RNN, or a cell read out linearly) */
    {"model.type", SL_KEY_CHOICE, "ctrnn", 0, 0, "ctrnn|rnn|gru|lightgru|lstm|cnn",
     "network kind: ctrnn = continuous-time rate RNN (Sussillo et al. 2015); rnn = vanilla "
     "discrete RNN; gru, lstm = PyTorch's cells; lightgru = light GRU with batch norm "
     "(Ravanelli 2018); the cells start from h0 = 0 and are read out by z = W h + c; cnn = a "
     "feed-forward convolutional network (model.layers) on an image task"},
    {"model.layers", SL_KEY_STRING, "", 0, 0, NULL,
     "cnn: the layers, comma-separated: conv(C_out,k[,s=stride][,p=pad]), maxpool(k[,s=][,p=]), "
     "avgpool(k[,s=][,p=]), flatten, linear(out), relu, tanh, sigmoid, softplus, rect_tanh; "
     "e.g. conv(6,3,p=1), relu, maxpool(2), conv(16,3,p=1), relu, maxpool(2), flatten, "
     "linear(120), relu, linear(84), relu, linear(10)"},
    {"model.hidden", SL_KEY_INT, "150", 1, 1e6, NULL, "number of recurrent units N"},
    {"model.activation", SL_KEY_CHOICE, "rect_tanh", 0, 0, "rect_tanh|tanh|relu|softplus|sigmoid",
     "ctrnn: rate nonlinearity phi; rnn: the cell's nonlinearity (ignored by the other cells); "
     "rect_tanh = tanh(x) for x>0 else 0"},
    {"model.tau", SL_KEY_REAL, "50", 1e-6, INF, NULL,
     "ctrnn only: membrane time constant tau (ms)"},
    {"model.g", SL_KEY_REAL, "1.5", 0, INF, NULL,
     "ctrnn only: recurrent gain: J ~ N(0, g^2/N) (g > 1: chaotic at init)"},
    {"model.h", SL_KEY_REAL, "1.0", 0, INF, NULL, "ctrnn only: input scale: B ~ N(0, h^2/n_in)"},
    {"model.learn_x0", SL_KEY_BOOL, "false", 0, 0, NULL,
     "ctrnn only: learn the initial state x0 (else x0 = 0); an error with the cells"},
    {"model.sigma_rec", SL_KEY_REAL, "0", 0, INF, NULL,
     "recurrent noise std sigma_rec (training and validation, seeded; off in silico eval unless "
     "set): ctrnn current form: sqrt(2*alpha)*sigma_rec on x per step; ctrnn rate form: "
     "sqrt(2/alpha)*sigma_rec in the pre-activation; cells: sqrt(2)*sigma_rec added to every "
     "gate's pre-activation per step (alpha = 1)"},
    {"model.sigma_in", SL_KEY_REAL, "0", 0, INF, NULL,
     "input noise std: u + sigma_in*N(0,1) per step and input channel, every model kind "
     "(training and validation, like sigma_rec)"},
    {"model.ctrnn_form", SL_KEY_CHOICE, "current", 0, 0, "current|rate",
     "ctrnn: current = x integrated, r = phi(x) (Sussillo 2015); rate = r integrated, "
     "r <- (1-alpha) r + alpha phi(J r + B u + b) (Yang et al. 2019's LeakyRNN; x0 is r0)"},
    {"model.bn_momentum", SL_KEY_REAL, "0.1", 1e-9, 1, NULL,
     "lightgru: batch-norm running-statistics momentum (PyTorch's; running = (1-m)*running + "
     "m*batch); batch statistics in training, running ones in validation"},
    {"model.bn_eps", SL_KEY_REAL, "1e-5", 1e-12, 1, NULL, "lightgru: batch-norm epsilon"},
    {"model.enu_k", SL_KEY_INT, "0", 0, 1e4, NULL,
     "cells: k > 0 adds the ENU input stage (embedded neural units, the coursework's eqs. "
     "15-17): each unit gets its own k-dim ReLU embedding of the input, read through "
     "block-diagonal input matrices (lightgru + enu_k = ENU-light-GRU); 0 = none"},
    {"model.dale", SL_KEY_CHOICE, "off", 0, 0, "off|reparam|project|dann",
     "Dale's law on the recurrent matrix (ctrnn: J; lightgru: U_h; rnn, gru, lstm: weight_hh): "
     "reparam = the forward uses |W*M|*diag(sign) (PsychRNN), project = wrong signs clamped "
     "to 0 after each step (nn4n); columns = presynaptic units; dann (ctrnn only) = Cornford "
     "2021's DANN: all N units excitatory, J_eff = J - J_EI*J_IE through n_i = N(1-f)/f "
     "interneurons, all three >= 0"},
    {"model.exc_fraction", SL_KEY_REAL, "0.8", 1e-9, 1, NULL,
     "Dale: fraction of excitatory units (the first floor(f*N); 0.8 at N = 64: 51 E + 13 I)"},
    {"model.sparsity", SL_KEY_REAL, "0", 0, 0.999999, NULL,
     "fixed random connectivity: the fraction of recurrent synapses absent (each kept with "
     "probability 1 - sparsity, drawn from run.seed); applied as W*M to the recurrent matrix "
     "(ctrnn: J; cells: weight_hh every gate block, lightgru: U_h); 0 = dense"},
    {"model.mask", SL_KEY_STRING, "", 0, 0, NULL,
     "fixed connectivity mask of the recurrent matrix from an N x N .npy of 0/1 (row = "
     "postsynaptic unit); combined with model.sparsity; empty = none"},
    {"model.grid", SL_KEY_LIST, "", 1, 1e6, NULL,
     "X,Y,Z: the units' places on a 3-D grid for the wiring cost (X*Y*Z = model.hidden; unit "
     "k = (iy*X + ix)*Z + iz as seRNN); empty = no spatial embedding"},
    {"model.autapses", SL_KEY_BOOL, "true", 0, 0, NULL,
     "false = no self-connections (zero diagonal mask on the recurrent matrix, each gate "
     "block's; kept at 0 through training)"},
    {"model.areas", SL_KEY_INT, "0", 0, 1e6, NULL,
     "K >= 2: multi-area connectivity mask on the recurrent matrix, K areas of consecutive "
     "units (N/K each, the last takes the remainder); combined with model.mask/sparsity; "
     "0 or 1 = one area"},
    {"model.area_links", SL_KEY_CHOICE, "all", 0, 0, "all|feedforward|feedforward+feedback",
     "which areas may connect: all pairs, feedforward = only area a -> a+1 (nn4n's chain), or "
     "a -> a+1 and a+1 -> a"},
    {"model.area_p_within", SL_KEY_REAL, "1", 0, 1, NULL,
     "probability a within-area synapse exists (drawn from run.seed)"},
    {"model.area_p_between", SL_KEY_REAL, "1", 0, 1, NULL,
     "probability an allowed between-area synapse exists (drawn from run.seed)"},
    {"model.plastic_mask", SL_KEY_STRING, "", 0, 0, NULL,
     "per-synapse plasticity mask of the recurrent matrix: N x N .npy of 0/1, 0 = frozen (its "
     "gradient is zeroed, so it keeps its initial value); empty = all plastic"},

    /* ---- task: what the network is trained on */
    {"task.name", SL_KEY_CHOICE, "reach", 0, 0,
     "reach|reach_synthetic|pdm|dms|ddms|ctxdm|ctxdm_mante|gonogo|rsg|flipflop|memory|dataset|"
     "fashion_mnist|mnist|idx|gratings",
     "task (silico task list describes each): reach = real center-out EMG; pdm, dms, ddms, "
     "ctxdm, gonogo, rsg = the NeuroGym tasks; ctxdm_mante = Mante 2013's form; flipflop; "
     "memory = memorize/report; dataset = your own arrays; fashion_mnist, mnist, idx = image "
     "classification, gratings = orientation discrimination (model.type = cnn)"},
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
    {"task.norm_delays", SL_KEY_LIST, "", 0, INF, NULL,
     "delays (ms) the input normalisation constants are computed over; empty = task.delays "
     "and task.val_delays (silico analyze sets it to a run's training delays so trials at "
     "other delays are scaled as in training)"},
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

    /* ---- task: trial-based tasks (NeuroGym semantics; src/tasks/trial.h) */
    {"task.seed", SL_KEY_INT, "0", 0, 4294967295.0, NULL,
     "seed of the trials (variables, durations, observation noise); 0 = derive from run.seed"},
    {"task.sigma", SL_KEY_REAL, "1.0", 0, INF, NULL,
     "observation noise sigma; per-step std sigma/sqrt(dt) as NeuroGym (dt in ms)"},
    {"task.cohs", SL_KEY_LIST, "", 0, 1000, NULL,
     "coherences (%) to sample from; empty = the task's NeuroGym default"},
    {"task.dim_ring", SL_KEY_INT, "2", 2, 1000, NULL, "number of stimulus/choice ring channels"},
    {"task.timing", SL_KEY_STRING, "", 0, 0, NULL,
     "override period durations: 'period=ms,period=ms' (fixed durations, floored to dt)"},
    {"task.context", SL_KEY_CHOICE, "explicit", 0, 0, "explicit|implicit",
     "ctxdm: explicit = 7 channels with 2 context inputs; implicit = 5 channels, one context"},
    {"task.impl_context_modality", SL_KEY_INT, "0", 0, 1, NULL,
     "ctxdm implicit: the modality that is relevant (0 or 1)"},
    {"task.coh_gain", SL_KEY_REAL, "20", 0, INF, NULL,
     "ctxdm_mante: input mean = coh_gain x signed coherence / 100 (task.cohs in %)"},
    {"task.ngym_compat", SL_KEY_CHOICE, "v1", 0, 0, "v1|v2",
     "NeuroGym semantics: v1 = v1.0.8 (fixation on until the decision = go cue); v2 = v2.x"},
    {"task.bits", SL_KEY_INT, "3", 1, 64, NULL, "flipflop: number of bits (input/output channels)"},
    {"task.p_pulse", SL_KEY_REAL, "0.5", 0, 1, NULL,
     "flipflop: probability of a pulse per step and bit (0.5 as FixedPointFinder's FlipFlopData)"},
    {"task.start_pulse", SL_KEY_BOOL, "true", 0, 0, NULL,
     "flipflop: every bit gets a pulse at step 0 as FlipFlopData (false: output 0 until a "
     "bit's first pulse); trial length is 64 steps unless task.trial_ms is set"},
    {"task.min_len", SL_KEY_INT, "5", 3, 1e6, NULL, "memory: shortest sequence (steps, >= 3)"},
    {"task.max_len", SL_KEY_INT, "19", 3, 1e6, NULL,
     "memory: longest sequence (steps, inclusive; the lab's np.random.randint(5, 20) gives 5..19)"},
    {"task.n_repeat", SL_KEY_INT, "1", 1, 1e6, NULL, "memory: trials concatenated per sequence"},
    {"task.inputs", SL_KEY_STRING, "", 0, 0, NULL,
     "dataset: inputs (trials x T x n_in) as FILE.npy or FILE.mat:variable"},
    {"task.targets", SL_KEY_STRING, "", 0, 0, NULL,
     "dataset: targets (trials x T x n_out) or integer labels (trials x T)"},
    {"task.target_kind", SL_KEY_CHOICE, "auto", 0, 0, "auto|values|labels",
     "dataset: auto = labels if task.targets is 2-D with an integer dtype, else values; "
     "labels = class indices (whole numbers >= 0, any dtype); values = MSE targets"},
    {"task.mask", SL_KEY_STRING, "", 0, 0, NULL, "dataset: optional loss mask (weights >= 0): trials x T, or the shape of task.targets"},
    {"task.conditions_file", SL_KEY_STRING, "", 0, 0, NULL,
     "dataset: optional condition label per trial (trials)"},
    {"task.val_fraction", SL_KEY_REAL, "0.2", 0, 0.9, NULL,
     "dataset: fraction of trials held out for validation"},
    {"task.batching", SL_KEY_CHOICE, "trial", 0, 0, "trial|stream",
     "trial = one trial per row, padded with mask 0; stream = NeuroGym's trials back to back"},
    {"task.stream_len", SL_KEY_INT, "100", 1, 1e7, NULL, "stream batching: window length (steps)"},
    {"task.batches_per_epoch", SL_KEY_INT, "20", 1, 1e9, NULL,
     "generated tasks: training batches per epoch (fresh trials each batch)"},
    {"task.val_trials", SL_KEY_INT, "500", 1, 1e9, NULL,
     "generated tasks: validation trials (a fixed set from their own seed)"},
    {"task.image_dir", SL_KEY_STRING, "", 0, 0, NULL,
     "fashion_mnist, mnist: folder of train-images-idx3-ubyte, train-labels-idx1-ubyte, "
     "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz); fashion_mnist's "
     "default is /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)"},
    {"task.images", SL_KEY_STRING, "", 0, 0, NULL,
     "idx (or to override task.image_dir): training images, IDX unsigned bytes n x H x W"},
    {"task.labels", SL_KEY_STRING, "", 0, 0, NULL, "idx: training labels, IDX 1-D"},
    {"task.test_images", SL_KEY_STRING, "", 0, 0, NULL,
     "idx: held-out test images (validation and summary accuracy)"},
    {"task.test_labels", SL_KEY_STRING, "", 0, 0, NULL, "idx: held-out test labels"},
    {"task.n_train", SL_KEY_INT, "0", 0, 1e9, NULL,
     "image tasks: use only the first n training images (0 = all; gratings: how many, 0 = 10000)"},
    {"task.n_test", SL_KEY_INT, "0", 0, 1e9, NULL,
     "image tasks: use only the first n test images (0 = all; gratings: how many, 0 = 2000)"},
    {"task.tilt_min", SL_KEY_REAL, "1", 1e-6, 90, NULL,
     "gratings: smallest |tilt| from vertical (degrees) of training and test gratings"},
    {"task.tilt_max", SL_KEY_REAL, "45", 1e-6, 90, NULL, "gratings: largest |tilt| (degrees)"},
    {"task.grating_size", SL_KEY_INT, "28", 4, 1024, NULL, "gratings: image side S (pixels)"},
    {"task.grating_sf", SL_KEY_REAL, "4", 0, 1e4, NULL,
     "gratings: spatial frequency (cycles per image width)"},
    {"task.grating_contrast", SL_KEY_REAL, "1", 0, 1, NULL, "gratings: Michelson contrast"},
    {"task.grating_sigma", SL_KEY_REAL, "0", 0, 1e6, NULL,
     "gratings: Gaussian aperture std (pixels); 0 = full-field"},
    {"task.grating_noise", SL_KEY_REAL, "0.1", 0, 10, NULL, "gratings: pixel noise std"},
    {"task.normalize", SL_KEY_LIST, "", -INF, INF, NULL,
     "image tasks: mean,std of x <- (x - mean)/std on pixels in [0,1]; empty = the dataset's "
     "(mnist 0.1307,0.3081 as the seed; fashion_mnist 0.2860,0.3530; idx: the training set's)"},

    /* ---- train: optimisation */
    {"train.epochs", SL_KEY_INT, "2000", 1, 1e9, NULL,
     "epochs; an epoch is one pass over training conditions x delays"},
    {"train.batch", SL_KEY_INT, "20", 1, 1e6, NULL, "trials per batch"},
    {"train.lr", SL_KEY_REAL, "1e-3", 0, INF, NULL, "Adam learning rate (start of the schedule)"},
    {"train.lr_schedule", SL_KEY_CHOICE, "cosine", 0, 0, "constant|cosine|exponential|step|plateau",
     "learning-rate schedule: cosine, exponential = over the whole run from train.lr to "
     "train.lr_final; step = times train.lr_gamma every train.lr_step_every epochs (StepLR); "
     "plateau = times train.plateau_factor when the validation criterion stops improving "
     "(ReduceLROnPlateau, mode 'min', stepped at each validation)"},
    {"train.lr_step_every", SL_KEY_INT, "100", 1, 1e9, NULL,
     "lr_schedule = step: epochs between two lr reductions"},
    {"train.lr_gamma", SL_KEY_REAL, "0.1", 1e-12, 1, NULL,
     "lr_schedule = step: factor the lr is multiplied by every train.lr_step_every epochs"},
    {"train.plateau_factor", SL_KEY_REAL, "0.1", 1e-12, 0.999999, NULL,
     "lr_schedule = plateau: lr <- max(lr * factor, train.plateau_min_lr) on a plateau"},
    {"train.plateau_patience", SL_KEY_INT, "10", 0, 1e9, NULL,
     "lr_schedule = plateau: validations without improvement tolerated before a reduction"},
    {"train.plateau_threshold", SL_KEY_REAL, "1e-4", 0, INF, NULL,
     "lr_schedule = plateau: relative improvement of the validation criterion needed to count "
     "as better (PyTorch's threshold_mode 'rel')"},
    {"train.plateau_min_lr", SL_KEY_REAL, "0", 0, INF, NULL,
     "lr_schedule = plateau: the lr never goes below this"},
    {"train.lr_final", SL_KEY_REAL, "1e-5", 0, INF, NULL,
     "learning rate at the last step (cosine, exponential)"},
    {"train.beta1", SL_KEY_REAL, "0.9", 0, 0.999999, NULL, "Adam beta1"},
    {"train.beta2", SL_KEY_REAL, "0.999", 0, 0.99999999, NULL, "Adam beta2"},
    {"train.eps", SL_KEY_REAL, "1e-8", 0, INF, NULL, "Adam epsilon"},
    {"train.clip", SL_KEY_REAL, "0", 0, INF, NULL,
     "clip the global gradient norm to this value (0 = no clipping)"},
    {"train.clip_value", SL_KEY_REAL, "0", 0, INF, NULL,
     "clip each gradient element to [-c, c] (0 = off); applied before the global-norm clip "
     "train.clip"},
    {"train.feedback_alignment", SL_KEY_CHOICE, "off", 0, 0, "off|readout|readout+recurrent",
     "learning rule: off = exact BPTT; readout = feedback alignment (Lillicrap 2016): the "
     "output error reaches the hidden units through a fixed random matrix (fa.readout, "
     "W's init scale, from run.seed) instead of W; readout+recurrent also replaces the "
     "recurrent matrix in the backward recurrence (ctrnn: J; rnn: weight_hh). The angle to "
     "BPTT's error signal is logged as fa_angle_deg"},
    {"train.train_only", SL_KEY_STRING, "", 0, 0, NULL,
     "comma-separated tensor names to train (e.g. 'W,c' = the readout alone); the gradients "
     "of all other tensors are zeroed (frozen). Empty = train everything"},
    {"train.l2_weight", SL_KEY_REAL, "0", 0, INF, NULL,
     "lambda_w: adds lambda_w * sum(w^2) over the matrices in train.l2_on"},
    {"train.l2_on", SL_KEY_STRING, "W,B", 0, 0, NULL,
     "comma-separated matrices the weight penalty applies to: J recurrent (cells: weight_hh, or "
     "U_z, U_h), B input (weight_ih, or W_z, W_h), W readout"},
    {"train.l2_rate", SL_KEY_REAL, "0", 0, INF, NULL,
     "lambda_r: adds lambda_r * mean(r^2) over batch, units and time (cells: r = h)"},
    {"train.l1_weight", SL_KEY_REAL, "0", 0, INF, NULL,
     "lambda_1: adds lambda_1 * sum(|w|) over the matrices in train.l1_on (sparsifying)"},
    {"train.l1_on", SL_KEY_STRING, "J", 0, 0, NULL,
     "comma-separated matrices the L1 weight penalty applies to (J, B, W as train.l2_on)"},
    {"train.l1_rate", SL_KEY_REAL, "0", 0, INF, NULL,
     "adds l1_rate * mean(|r|) over batch, units and time (cells: r = h); logged as "
     "loss_rate_l1"},
    {"train.wiring_cost", SL_KEY_REAL, "0", 0, INF, NULL,
     "lambda of the spatial wiring cost on the recurrent matrix (ctrnn: J; rnn, gru, lstm: "
     "weight_hh; lightgru: U_h), Achterberg 2023; needs model.grid; logged as loss_wiring"},
    {"train.wiring", SL_KEY_CHOICE, "distance", 0, 0, "distance|communicability",
     "wiring cost: distance = lambda*sum(|W|*D); communicability = lambda*sum(|W|*C*D), C = "
     "expm(S^-1/2 |W| S^-1/2) with zero diagonal (seRNN's SE1_sWc, exact gradient)"},
    {"train.l2_activation", SL_KEY_REAL, "0", 0, INF, NULL,
     "cells: beta: adds beta * mean over batch and steps of the L2 norm of h over units (the "
     "coursework's activation-norm penalty, its eq. 9)"},
    {"train.class_weights", SL_KEY_STRING, "", 0, 0, NULL,
     "classification: cross-entropy class weights: empty = none, 'auto' = inverse label "
     "frequency in the training trials (the coursework's fix for 'fixate'), or w0,w1,..."},
    {"train.val_every", SL_KEY_INT, "10", 1, 1e9, NULL,
     "validate every K epochs (and at the last epoch); the best checkpoint is kept"},
};

const sl_keydef *sl_config_keys(int *n)
{
    if (n) *n = (int)(sizeof KEYS / sizeof KEYS[0]);
    return KEYS;
}
