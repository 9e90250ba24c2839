/* registry.c — the analyses `silico analyze` knows, in the order it runs them.
 * Each runner lives beside its analysis (src/analysis/<name>.c); add a line
 * here and a declaration below when an analysis lands. */
#include <string.h>

#include "analysis/analysis.h"

/* runners (src/analysis/<name>.c) — one declaration per analysis */
sl_status sl_analysis_pca_run(sl_analysis_ctx *ctx);
sl_status sl_analysis_tangling_run(sl_analysis_ctx *ctx);
sl_status sl_analysis_jpca_run(sl_analysis_ctx *ctx);
sl_status sl_analysis_fixedpoints_run(sl_analysis_ctx *ctx);
static int has_model(const sl_analysis_ctx *ctx) { return ctx->model != NULL; }

static const sl_analysis_def ANALYSES[] = {
    /* {"name", "one-line help", by_default, applies, run}, */
    {"pca", "PCA of the condition-averaged rates: variance explained, participation ratio "
            "(--pcs K, --window A:B ms, --delay MS)", 1, has_model, sl_analysis_pca_run},
    {"tangling", "trajectory tangling Q(t) (Russo 2018) on the top --pcs K PCs; median",
     1, has_model, sl_analysis_tangling_run},
    {"jpca", "jPCA rotations (Churchland 2012), --window -50:150 ms from movement onset; "
             "rotation strength", 1, has_model, sl_analysis_jpca_run},
    {"fixedpoints",
     "fixed and slow points (FixedPointFinder: joint Adam on q = |x - F(x,u)|^2/2, options "
     "--n-inits 1024 --noise 0.5 --max-iters 5000 --tol-q 1e-12 --lr 1 --newton 0 --tol-unique "
     "1e-3 --input u1,.. --contexts auto|none --probe 0.1 --probe-steps 100 --seed 0), their "
     "Jacobian spectra and stability, per context input",
     1, has_model, sl_analysis_fixedpoints_run},
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
