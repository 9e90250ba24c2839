/* registry.c — the analyses `silico analyze` knows, in the order it runs them.
 * Each runner lives beside its analysis (src/analysis/<name>.c); add a line
 * here and a declaration below when an analysis lands. */
#include <string.h>

#include "analysis/analysis.h"

/* runners (src/analysis/<name>.c) — one declaration per analysis */
sl_status sl_run_activity(sl_analysis_ctx *ctx);
sl_status sl_run_perturb(sl_analysis_ctx *ctx);
sl_status sl_run_selectivity(sl_analysis_ctx *ctx);
sl_status sl_run_decode(sl_analysis_ctx *ctx);
sl_status sl_run_encode(sl_analysis_ctx *ctx);

sl_status sl_analysis_pca_run(sl_analysis_ctx *ctx);
sl_status sl_analysis_tangling_run(sl_analysis_ctx *ctx);
sl_status sl_analysis_jpca_run(sl_analysis_ctx *ctx);
sl_status sl_analysis_fixedpoints_run(sl_analysis_ctx *ctx);
/* the analyses of the trained rate network need it loaded (ctx->model) */
static int needs_model(const sl_analysis_ctx *ctx) { return ctx->model != NULL; }

/* cnn_activity.c: `activity` = the CNN layer readout on CNN runs, activity.c's otherwise */
int sl_activity_applies(const sl_analysis_ctx *ctx);
sl_status sl_run_activity_any(sl_analysis_ctx *ctx);
sl_status sl_run_tuning(sl_analysis_ctx *ctx);       /* tuning.c */
sl_status sl_run_gratings(sl_analysis_ctx *ctx);     /* gratings.c */
int sl_cnn_run_applies(const sl_analysis_ctx *ctx);  /* cnn_run.c: CNN runs */
int sl_gratings_applies(const sl_analysis_ctx *ctx); /* gratings.c: CNNs on task gratings */
sl_status sl_run_rsa_it(sl_analysis_ctx *ctx);       /* rsa_it.c */

static const sl_analysis_def ANALYSES[] = {
    /* {"name", "one-line help", by_default, applies, run}, */
    {"activity",
     "inputs, targets, outputs, states, rates, gates and PSTHs of every condition and of noisy trials\n"
     "  writes u.npy, y.npy or labels.npy, z.npy, x.npy, r.npy, gate_*.npy, time.npy, conditions.json,\n"
     "  trials_r.npy, trials.json, psth.npy (G x T x N, per condition), summary.json\n"
     "  --trials K         noisy single trials, condition k mod C (20)\n"
     "  --noise S          sd of the Gaussian noise added to every input channel and step (0.1)\n"
     "  --seed N           seed of the noisy trials (1)\n"
     "  CNN runs: every layer's activations (feature maps per channel) for test images; writes images.npy,\n"
     "  labels.npy, predictions.npy, layer_<i>_<name>.npy (images x C x H x W or images x units), summary.json\n"
     "  --images N         CNN: test images (16)\n"
     "  --start S          CNN: index of the first test image (0)",
     1, sl_activity_applies, sl_run_activity_any},
    {"perturb",
     "robustness: error (% of null) under input noise, recurrent-weight noise, synapse deletion, ablation\n"
     "  writes input.npy, weight.npy, synapse.npy, ablation.npy (levels x repeats error %), summary.json\n"
     "  {input, weight, synapse, ablation: [{strength, mean_error_pct, sd_error_pct}]}\n"
     "  --input-strengths L   input noise U[0,1) x s x |u_t| per trial and channel (0.0125,0.025,0.05,0.1,0.2)\n"
     "  --weight-fractions L  recurrent weights + N(0, (f mean|J|)^2) (0.01,0.1,0.2,0.4,0.8)\n"
     "  --delete-fractions L  fraction of recurrent synapses set to 0 (0.05,0.1,0.2,0.4)\n"
     "  --ablate-fractions L  fraction of units silenced (0.05,0.1,0.2,0.4)\n"
     "  --ablate-units L      also the error with exactly these units silenced (none)\n"
     "  --repeats N           draws per level (30)\n"
     "  --seed N              seed of the draws (1)",
     1, needs_model, sl_run_perturb},
    {"selectivity",
     "d' = 2(mu_a - mu_b)/sqrt(var_a + var_b) per unit for a binary split, max activation, shuffle null\n"
     "  writes dprime.npy (N), max_activation.npy (N), null_max_abs.npy (shuffles), summary.json\n"
     "  --split S          VAR (> median vs <= median), VAR=V, VAR>V or label=K (condition, by its median)\n"
     "  --window A:B       rates averaged over A..B ms from the alignment event (whole trial)\n"
     "  --trials K         use K noisy single trials instead of the noise-free conditions (0)\n"
     "  --shuffles N       random relabellings for the null of max |d'| (1000)",
     1, needs_model, sl_run_selectivity},
    {"decode",
     "cross-validated decoders of every varying trial variable from the rates, overall and per time bin\n"
     "  writes decode_time.npy (bins x variables), bin_time.npy, summary.json (score and chance per variable)\n"
     "  --trials-per-condition K  noisy single trials per condition (20)\n"
     "  --folds N          cross-validation folds (5)\n"
     "  --lambda X         ridge / logistic L2 penalty on standardised rates (1)\n"
     "  --bin MS           time-bin width (100)\n"
     "  --permutations N   label permutations for the chance level (20)",
     1, needs_model, sl_run_decode},
    {"encode",
     "ridge encoding models: each unit's rate from the inputs at the last L steps, cross-validated R^2\n"
     "  writes encode_r2.npy (N), summary.json (median_r2)\n"
     "  --lags L           input steps used, t-L+1..t (5)\n"
     "  --trials-per-condition K  noisy single trials per condition (5)\n"
     "  --folds N          cross-validation folds, by trial (5)\n"
     "  --lambda X         ridge penalty on standardised inputs (1)",
     1, needs_model, sl_run_encode},
    {"pca",
     "PCA of the condition-averaged rates: variance explained, participation ratio\n"
     "  writes components.npy, explained_variance_ratio.npy, proj.npy (C x T x K),\n"
     "  mean.npy (N, subtracted before projecting), time.npy, summary.json\n"
     "  rates: every validation trial run without noise, averaged per condition aligned on the\n"
     "  go cue; time_zero = movement onset on reach tasks (go cue + the targets' onset lag)\n"
     "  --pcs K            principal components kept (10; 0 = all)\n"
     "  --window A:B       time window in ms from time_zero (whole trial)\n"
     "  --delay MS         reach: only the validation trials with this delay (all)",
     1, needs_model, sl_analysis_pca_run},
    {"tangling",
     "trajectory tangling Q(t) (Russo 2018) on the top principal components; median; and\n"
     "  Q of the network's outputs and the task's targets on the same bins (Russo's\n"
     "  population-vs-muscles comparison)\n"
     "  writes q.npy, q_output.npy, q_target.npy (C x T; targets: regression tasks), time.npy,\n"
     "  summary.json (tangling_median, tangling_output_median, tangling_target_median,\n"
     "  state_over_output)\n"
     "  rates: every validation trial run without noise, averaged per condition aligned on the\n"
     "  go cue; time_zero = movement onset on reach tasks (go cue + the targets' onset lag)\n"
     "  --pcs K            principal components kept (10; 0 = every unit)\n"
     "  --window A:B       time window in ms from time_zero (whole trial)\n"
     "  --delay MS         reach: only the validation trials with this delay (all)",
     1, needs_model, sl_analysis_tangling_run},
    {"jpca",
     "jPCA rotations (Churchland 2012); rotation strength\n"
     "  writes proj.npy (C x T x 6), planes.npy (6 x N), m_skew.npy, time.npy, summary.json\n"
     "  (rotation_strength)\n"
     "  rates: every validation trial run without noise, averaged per condition aligned on the\n"
     "  go cue; time_zero = movement onset on reach tasks (go cue + the targets' onset lag)\n"
     "  --window A:B       time window in ms from time_zero (reach -50:150, else whole trial)\n"
     "  --soft S           soft-normalisation constant added to each unit's range (5% of the widest)\n"
     "  --delay MS         reach: only the validation trials with this delay (all)",
     1, needs_model, sl_analysis_jpca_run},
    {"fixedpoints",
     "fixed and slow points (FixedPointFinder: joint Adam on q = |x - F(x,u)|^2/2), Jacobian spectra, stability\n"
     "  writes points.npy, q.npy, eigenvalues.npy and eigenvalues_discrete.npy (P x N x 2), stable.npy,\n"
     "  n_unstable.npy, unstable_modes.npy, group.npy, initial_states.npy, q_all.npy, summary.json\n"
     "  --n-inits K        initial states sampled along the trajectories, per context (1024)\n"
     "  --noise S          sd of the Gaussian noise added to the initial states (0.5)\n"
     "  --max-iters N      Adam iterations at most (5000)\n"
     "  --tol-q Q          stop a point at q < Q (1e-12)\n"
     "  --lr X             Adam's initial learning rate (1)\n"
     "  --newton N         float64 Newton steps after Adam, each kept only if it lowers q (0)\n"
     "  --tol-unique D     distance under which two points are one (1e-3)\n"
     "  --input U          constant input u1,u2,... (default: zero, or each context's input)\n"
     "  --contexts C       auto (detect 0/1 context channels) or none (auto)\n"
     "  --probe A          amplitude of the input probe moving each context's points (0.1)\n"
     "  --probe-steps N    steps of the probe (100)\n"
     "  --seed N           seed of the initial-state sampling (0)",
     1, needs_model, sl_analysis_fixedpoints_run},
    {"tuning",
     "CNN: preferred stimuli by gradient ascent on a unit's squared activity (clamped to [0,1], L2, Adam)\n"
     "  writes images_before.npy, images_after.npy, activity_before.npy, activity_after.npy, class_probs.npy,\n"
     "  summary.json; with no --layer/--unit also the output layer's most active unit\n"
     "  --layer L          layer index (the last hidden layer)\n"
     "  --unit K           unit or channel (the most active one)\n"
     "  --at Y,X           a conv channel at one location (spatial mean)\n"
     "  --steps N          Adam steps (1000)\n"
     "  --batch B          images optimised together (64)\n"
     "  --lr X             Adam's learning rate (0.01)\n"
     "  --l2 X             L2 penalty on the image (100)\n"
     "  --seed N           seed of the random starting images (0)",
     1, sl_cnn_run_applies, sl_run_tuning},
    {"gratings",
     "CNN on gratings: psychometric curve (accuracy vs tilt) and each layer's RDM over orientations\n"
     "  writes psychometric.npy, psychometric.json, rdm_layer_<i>.npy, summary.json (ring-likeness per layer)\n"
     "  --trials N         gratings per tilt (200)",
     1, sl_gratings_applies, sl_run_gratings},
    {"rsa_it",
     "CNN: each layer's RDM of the 92 images vs monkey/human IT (Kriegeskorte 2008), Spearman + permutation p\n"
     "  writes rdm_layer_<i>.npy, summary.json; not run by default (needs the 92 images' .mat)\n"
     "  --data FILE.mat    the Kriegeskorte 2008 images and RDMs (../shared/data/kriegeskorte2008_92images_rsa)\n"
     "  --perms N          permutations for the p-value (1000)",
     0, sl_cnn_run_applies, sl_run_rsa_it},
    {NULL, NULL, 0, NULL, NULL},
};

const sl_analysis_def *sl_analysis_list(int *n)
{
    *n = (int)(sizeof ANALYSES / sizeof ANALYSES[0]) - 1;
    return ANALYSES;
}

const sl_analysis_def *sl_analysis_find(const char *name)
{
    int n;
    const sl_analysis_def *a = sl_analysis_list(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(a[i].name, name)) return &a[i];
    return NULL;
}

const char *sl_analysis_opt(const sl_analysis_ctx *ctx, const char *key)
{
    for (int i = 0; i < ctx->n_opts; i++)
        if (!strcmp(ctx->opt_keys[i], key)) return ctx->opt_vals[i];
    return NULL;
}
