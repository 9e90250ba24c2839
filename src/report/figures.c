/* figures.c — the figures silico draws, what each reads and which command
 * writes its inputs, and sl_figure_render: make the output folder, draw the
 * figure (one file per family: curves.c, timeseries.c, psth.c, perturb.c,
 * selectivity.c, pca.c, eigen.c, tangling.c, rdm.c, cnn.c, gates.c) and
 * render it with gnuplot (figure.c). */
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/figure.h"

typedef struct {
    sl_figure_def def;
    /* files that must exist, relative to RUN; "a|b" = either; "*" = a glob */
    const char *files[4];
    sl_status (*draw)(fig_job *j);
} figure;

#define ACT "analysis/activity/"
#define ANALYZE(x) "silico analyze RUN --only " x

static const figure FIGURES[] = {
    {{"curves", "training and validation loss, error or accuracy per epoch", "metrics.jsonl", NULL,
      "silico train EXPERIMENT.ini", 1000, 420, SL_FIG_ANY},
     {"metrics.jsonl"}, fig_draw_curves},
    {{"task", "task inputs, targets and network outputs over time per condition, go cue at t = 0",
      ACT "u.npy, y.npy|labels.npy, z.npy, time.npy (or checkpoint.safetensors + config.ini)", "activity",
      ANALYZE("activity"), 1200, 640, SL_FIG_RECURRENT},
     {ACT "u.npy|checkpoint.safetensors"}, fig_draw_task},
    {{"psth", "condition-averaged rates of 8 model units over time (colour = condition); after compare, 4 model units above the 4 most variable recorded neurons from movement onset",
      ACT "r.npy, time.npy (or checkpoint.safetensors + config.ini)", "activity", ANALYZE("activity"), 1200, 620,
      SL_FIG_RECURRENT},
     {ACT "r.npy|checkpoint.safetensors"}, fig_draw_psth},
    {{"perturb",
      "error under input noise, recurrent-weight noise, synapse deletion and unit ablation, mean ± sd (both runs "
      "with --with RUN2)",
      "analysis/perturb/summary.json", "perturb", ANALYZE("perturb"), 1100, 720, SL_FIG_RECURRENT},
     {"analysis/perturb/summary.json"}, fig_draw_perturb},
    {{"selectivity", "histogram of unit selectivity d′ and the most selective units' rates",
      "analysis/selectivity/dprime.npy (+ activity rates)", "selectivity", ANALYZE("selectivity"), 1200, 640,
      SL_FIG_RECURRENT},
     {"analysis/selectivity/dprime.npy"}, fig_draw_selectivity},
    {{"pca", "trajectories on PC1–PC2 (colour = condition) with fixed points: stable filled, unstable hollow, "
             "unstable modes as lines",
      "analysis/pca/proj.npy, explained_variance_ratio.npy (+ fixedpoints/points.npy, pca/components.npy)", "pca",
      ANALYZE("pca"), 900, 700, SL_FIG_RECURRENT},
     {"analysis/pca/proj.npy"}, fig_draw_pca},
    {{"pca3d", "trajectories on PC1–PC3 in 3-D with fixed points", "analysis/pca/proj.npy (3+ components)", "pca",
      ANALYZE("pca"), 900, 700, SL_FIG_RECURRENT},
     {"analysis/pca/proj.npy"}, fig_draw_pca3d},
    {{"jpca", "trajectories in the first two jPCA planes with the rotational strength", "analysis/jpca/proj.npy",
      "jpca", ANALYZE("jpca"), 1100, 540, SL_FIG_RECURRENT},
     {"analysis/jpca/proj.npy"}, fig_draw_jpca},
    {{"eigen", "Jacobian eigenvalues of the fixed points in the complex plane with the stability boundary",
      "analysis/fixedpoints/eigenvalues.npy, eigenvalues_discrete.npy, stable.npy", "fixedpoints",
      ANALYZE("fixedpoints"), 1100, 540, SL_FIG_RECURRENT},
     {"analysis/fixedpoints/eigenvalues.npy|analysis/fixedpoints/eigenvalues_discrete.npy"}, fig_draw_eigen},
    {{"tangling", "trajectory tangling Q(t) per condition and its median", "analysis/tangling/q.npy", "tangling",
      ANALYZE("tangling"), 900, 480, SL_FIG_RECURRENT},
     {"analysis/tangling/q.npy"}, fig_draw_tangling},
    {{"tangling-muscles", "the population's tangling against its outputs' and targets' per condition and time "
                          "(Russo 2018: below the diagonal = less tangled than the muscles it drives)",
      "analysis/tangling/q.npy, q_output.npy (+ q_target.npy)", "tangling", ANALYZE("tangling"), 700, 640,
      SL_FIG_RECURRENT},
     {"analysis/tangling/q.npy", "analysis/tangling/q_output.npy"}, fig_draw_tangling_muscles},
    {{"compare-pcs", "model and recorded neurons' aligned principal components on one time axis",
      "analysis/compare/model_pcs.npy, data_pcs.npy, time.npy", "compare",
      "silico compare RUN DATA.mat:variable --dims time,neuron,condition", 1200, 760, SL_FIG_RECURRENT},
     {"analysis/compare/model_pcs.npy", "analysis/compare/data_pcs.npy", "analysis/compare/time.npy"},
     fig_draw_compare_pcs},
    {{"rdm", "model and data RDMs as heat maps with RSA, CKA, CCA and Procrustes numbers",
      "analysis/compare/model_rdm.npy, data_rdm.npy, compare.json", "compare",
      "silico compare RUN DATA.mat:variable --dims time,neuron,condition", 1100, 520, SL_FIG_RECURRENT},
     {"analysis/compare/model_rdm.npy", "analysis/compare/data_rdm.npy"}, fig_draw_rdm},
    {{"gates", "gate activity of LSTM/GRU units over time", ACT "gate_*.npy, cell.npy", "activity",
      ANALYZE("activity"), 1200, 620, SL_FIG_GATED},
     {ACT "gate_*.npy"}, fig_draw_gates},
    {{"feature-maps", "one input image and a conv layer's feature map per channel (--layer, --image)",
      ACT "layer_<i>_<name>.npy, images.npy", "activity", ANALYZE("activity"), 1100, 560, SL_FIG_CNN},
     {ACT "layer_*.npy", ACT "images.npy"}, fig_draw_feature_maps},
    {{"preferred", "a unit's preferred stimuli: random images before and after gradient ascent",
      "analysis/tuning/images_before.npy, images_after.npy, activity_before.npy, activity_after.npy", "tuning",
      ANALYZE("tuning"), 1200, 420, SL_FIG_CNN},
     {"analysis/tuning/images_before.npy", "analysis/tuning/images_after.npy"}, fig_draw_preferred},
    {{"psychometric", "grating orientation discrimination: accuracy against tilt",
      "analysis/gratings/psychometric.npy", "gratings", ANALYZE("gratings"), 800, 480, SL_FIG_CNN},
     {"analysis/gratings/psychometric.npy"}, fig_draw_psychometric},
    {{"rdm-layers", "per-layer RDMs of a CNN (gratings by orientation; the 92 IT images)",
      "analysis/gratings/rdm_layer_*.npy or analysis/rsa_it/*rdm*.npy", "gratings", ANALYZE("gratings"), 1200, 640,
      SL_FIG_CNN},
     {"analysis/gratings/rdm_layer_*.npy|analysis/rsa_it/*rdm*.npy"}, fig_draw_rdm_layers},
};
enum { NFIG = sizeof FIGURES / sizeof FIGURES[0] };

const sl_figure_def *sl_figure_list(int *n)
{
    static sl_figure_def defs[NFIG];
    for (int i = 0; i < NFIG; i++) defs[i] = FIGURES[i].def;
    *n = NFIG;
    return defs;
}

static const figure *find(const char *name)
{
    for (int i = 0; i < NFIG; i++)
        if (!strcmp(FIGURES[i].def.name, name)) return &FIGURES[i];
    return NULL;
}

const sl_figure_def *sl_figure_find(const char *name)
{
    int n;
    const sl_figure_def *d = sl_figure_list(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(d[i].name, name)) return &d[i];
    return NULL;
}

void sl_figure_opts_init(sl_figure_opts *o)
{
    memset(o, 0, sizeof *o);
    o->layer = o->image = -1;
}

int sl_figure_applies(const char *run, const sl_figure_def *def)
{
    char kind[32];
    int cnn;
    rd_model_kind(run, kind, sizeof kind, &cnn);
    switch (def->scope) {
    case SL_FIG_ANY: return 1;
    case SL_FIG_RECURRENT: return !cnn;
    case SL_FIG_GATED: return !cnn && (!strcmp(kind, "lstm") || !strcmp(kind, "gru"));
    case SL_FIG_CNN: return cnn;
    }
    return 0;
}

/* One alternative: a plain path or a glob. */
static int present(const char *run, const char *rel)
{
    if (!strchr(rel, '*')) return rd_exists(run, rel);
    char *pat = rd_path(run, rel);
    glob_t g;
    int ok = pat && glob(pat, 0, NULL, &g) == 0;
    if (ok) globfree(&g);
    free(pat);
    return ok;
}

int sl_figure_ready(const char *run, const sl_figure_def *def, const char **missing)
{
    const figure *fg = find(def->name);
    if (missing) *missing = NULL;
    if (!fg) return 0;
    if (!sl_figure_applies(run, def)) {
        if (missing) *missing = "not for this kind of network";
        return 0;
    }
    for (int i = 0; i < 4 && fg->files[i]; i++) {
        char alt[256];
        snprintf(alt, sizeof alt, "%s", fg->files[i]);
        int ok = 0;
        for (char *save = NULL, *a = strtok_r(alt, "|", &save); a && !ok; a = strtok_r(NULL, "|", &save))
            ok = present(run, a);
        if (!ok) {
            if (missing) *missing = fg->files[i];
            return 0;
        }
    }
    return 1;
}

static sl_status make_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return sl_fail(SL_EIO, "cannot create %s: %s", dir, strerror(errno));
    return SL_OK;
}

sl_status sl_figure_render(const char *run, const char *name, const sl_figure_opts *o, char **warnings)
{
    if (warnings) *warnings = NULL;
    const figure *fg = find(name);
    if (!fg) return sl_fail(SL_EINVAL, "unknown figure '%s' (see silico plot --help)", name);
    sl_figure_opts defaults;
    if (!o) {
        sl_figure_opts_init(&defaults);
        o = &defaults;
    }
    char *dir = o->out_dir ? NULL : rd_path(run, "figures");
    const char *out = o->out_dir ? o->out_dir : dir;
    if (!out) return sl_fail(SL_ENOMEM, "out of memory");
    fig_job j = {run, o, {0}};
    sl_status st = make_dir(out);
    if (!st) st = fig_begin(&j.f, out, name, o->width > 0 ? o->width : fg->def.width,
                            o->height > 0 ? o->height : fg->def.height);
    if (!st) st = fg->draw(&j);
    if (!st) st = fig_render(&j.f, warnings);
    if (st && !sl_last_error()[0]) sl_fail(st, "figure %s of %s failed", name, run);
    fig_free(&j.f);
    free(dir);
    return st;
}
