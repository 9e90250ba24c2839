/* registry.c — the analyses `silico analyze` knows, in the order it runs them.
 * Each runner lives beside its analysis (src/analysis/<name>.c); add a line
 * here and a declaration below when an analysis lands. */
#include <string.h>

#include "analysis/analysis.h"

/* runners (src/analysis/<name>.c) — one declaration per analysis */
sl_status sl_analysis_pca_run(sl_analysis_ctx *ctx);
sl_status sl_analysis_tangling_run(sl_analysis_ctx *ctx);
sl_status sl_analysis_jpca_run(sl_analysis_ctx *ctx);
static int has_model(const sl_analysis_ctx *ctx) { return ctx->model != NULL; }

sl_status sl_run_cnn_activity(sl_analysis_ctx *ctx); /* cnn_activity.c */
sl_status sl_run_tuning(sl_analysis_ctx *ctx);       /* tuning.c */
sl_status sl_run_gratings(sl_analysis_ctx *ctx);     /* gratings.c */
int sl_cnn_run_applies(const sl_analysis_ctx *ctx);  /* cnn_run.c: CNN runs */
int sl_gratings_applies(const sl_analysis_ctx *ctx); /* gratings.c: CNNs on task gratings */
sl_status sl_run_rsa_it(sl_analysis_ctx *ctx);       /* rsa_it.c */

static const sl_analysis_def ANALYSES[] = {
    /* {"name", "one-line help", by_default, applies, run}, */
    {"pca", "PCA of the condition-averaged rates: variance explained, participation ratio "
            "(--pcs K, --window A:B ms, --delay MS)", 1, has_model, sl_analysis_pca_run},
    {"tangling", "trajectory tangling Q(t) (Russo 2018) on the top --pcs K PCs; median",
     1, has_model, sl_analysis_tangling_run},
    {"jpca", "jPCA rotations (Churchland 2012), --window -50:150 ms from movement onset; "
             "rotation strength", 1, has_model, sl_analysis_jpca_run},
    {"cnn_activity", "CNN: every layer's activations for test images (--images N, --start S)", 1,
     sl_cnn_run_applies, sl_run_cnn_activity},
    {"tuning", "CNN: preferred stimuli by gradient ascent (--layer L, --unit K, --at Y,X, --steps, --l2)",
     1, sl_cnn_run_applies, sl_run_tuning},
    {"gratings", "CNN on gratings: psychometric curve (accuracy vs tilt) and each layer's RDM over "
                 "orientations (--trials N)", 1, sl_gratings_applies, sl_run_gratings},
    {"rsa_it", "CNN: each layer's RDM of the 92 images vs monkey/human IT (Kriegeskorte 2008), "
               "Spearman + permutation p (--data FILE.mat, --perms N)", 0, sl_cnn_run_applies,
     sl_run_rsa_it},
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
