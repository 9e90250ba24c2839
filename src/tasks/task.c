/* task.c — building tasks by name (reach, reach_synthetic, dataset, and every
 * trial generator in registry.c through gen_task.c), listing and sampling
 * them, freeing them, and the null-model error.
 *
 * Tasks implement sl_task_ops (silico.h); ops->destroy releases everything
 * the task owns, the sl_task itself included, so sl_task_free is just a
 * call through it.
 *
 * Null model (the tutorial's max_error): for targets y (n_rows × n_out,
 * n_rows = B·T) and mask m (same shape, NULL = all ones),
 *   μ_j  = Σ_r m_rj y_rj / Σ_r m_rj
 *   null = Σ_rj m_rj (y_rj − μ_j)² / Σ_rj m_rj
 */
#include "tasks/dataset.h"
#include "tasks/images.h"
#include "tasks/gen_task.h"
#include "tasks/reach_common.h"

#include <stdio.h>
#include <string.h>

/* The tasks that are not trial generators (those are in registry.c). */
static const struct {
    const char *name, *description;
} OTHER_TASKS[] = {
    {"reach", "center-out reaching: reproduce recorded monkey EMG after a delayed go cue "
              "(Sussillo et al. 2015)"},
    {"reach_synthetic", "center-out reaching with synthetic smooth targets (a fast test task)"},
    {"dataset", "your own arrays: inputs, targets or labels, mask and conditions from .npy/.mat"},
    {"fashion_mnist", "Fashion-MNIST clothing images, 10 classes (Debian's dataset-fashion-mnist; "
                      "for model.type = cnn)"},
    {"mnist", "MNIST handwritten digits from IDX files in task.image_dir (for model.type = cnn)"},
    {"gratings", "orientation discrimination: is a grating tilted clockwise of vertical? "
                 "(for model.type = cnn)"},
    {"idx", "any MNIST-format IDX image/label files (task.images, task.labels, task.test_images, "
            "task.test_labels)"},
};
#define N_OTHER (int)(sizeof OTHER_TASKS / sizeof OTHER_TASKS[0])

int sl_task_info(int i, const char **name, const char **description)
{
    if (i < 0) return 0;
    const sl_taskgen *const *g = sl_taskgens();
    int n_gen = 0;
    while (g[n_gen]) n_gen++;
    const char *nm, *ds;
    if (i < N_OTHER) {
        nm = OTHER_TASKS[i].name;
        ds = OTHER_TASKS[i].description;
    } else if (i < N_OTHER + n_gen) {
        nm = g[i - N_OTHER]->name;
        ds = g[i - N_OTHER]->description;
    } else {
        return 0;
    }
    if (name) *name = nm;
    if (description) *description = ds;
    return 1;
}

/* "reach, reach_synthetic, dataset, pdm, ..." (from = 0), or only the
 * generated tasks (from = N_OTHER). */
static void known_names(char *buf, size_t n, int from)
{
    buf[0] = 0;
    const char *nm;
    size_t used = 0;
    for (int i = from; sl_task_info(i, &nm, NULL) && used < n; i++) {
        int k = snprintf(buf + used, n - used, "%s%s", i > from ? ", " : "", nm);
        if (k < 0) break;
        used += (size_t)k;
    }
}

sl_status sl_task_create(const sl_config *c, sl_task **out)
{
    if (!out) return sl_fail(SL_EINVAL, "sl_task_create: out is NULL");
    *out = NULL;
    if (!c) return sl_fail(SL_EINVAL, "sl_task_create: config is NULL");
    const char *name = sl_config_str(c, "task.name");
    if (strcmp(name, "reach") == 0) return sl_reach_create(c, out);
    if (strcmp(name, "reach_synthetic") == 0) return sl_reach_synthetic_create(c, out);
    if (strcmp(name, "dataset") == 0) return sl_dataset_task_create(c, out);
    if (!strcmp(name, "fashion_mnist") || !strcmp(name, "mnist") || !strcmp(name, "idx"))
        return sl_idx_task_create(c, out);
    if (!strcmp(name, "gratings")) return sl_gratings_task_create(c, out);
    const sl_taskgen *g = sl_taskgen_find(name);
    if (g) return sl_gen_task_create(g, c, out);
    char known[512];
    known_names(known, sizeof known, 0);
    return sl_fail(SL_EINVAL, "task.name: unknown task '%s' (known: %s)", name, known);
}

sl_status sl_task_sample(const sl_config *c, int n_trials, const char *dir)
{
    if (!c || !dir) return sl_fail(SL_EINVAL, "sl_task_sample: config or directory is NULL");
    const char *name = sl_config_str(c, "task.name");
    const sl_taskgen *g = sl_taskgen_find(name);
    if (g) return sl_taskgen_sample(g, c, n_trials, dir);
    char known[512];
    for (int i = 0; i < N_OTHER; i++)
        if (strcmp(name, OTHER_TASKS[i].name) == 0) {
            known_names(known, sizeof known, N_OTHER);
            return sl_fail(SL_EINVAL,
                           "task '%s' is not made of generated trials, so it cannot be sampled "
                           "(tasks that can: %s)",
                           name, known);
        }
    known_names(known, sizeof known, 0);
    return sl_fail(SL_EINVAL, "unknown task '%s' (known: %s)", name, known);
}

void sl_task_free(sl_task *t)
{
    if (t && t->ops && t->ops->destroy) t->ops->destroy(t);
}

double sl_null_mse(const sl_real *y, const sl_real *mask, size_t n_rows, int n_out)
{
    if (!y || n_rows == 0 || n_out < 1) return 0.0;
    double total_w = 0, total = 0;
    for (int j = 0; j < n_out; j++) {
        double sw = 0, sy = 0;
        for (size_t r = 0; r < n_rows; r++) {
            double m = mask ? (double)mask[r * n_out + j] : 1.0;
            sw += m;
            sy += m * (double)y[r * n_out + j];
        }
        if (sw <= 0) continue;
        double mu = sy / sw, ss = 0;
        for (size_t r = 0; r < n_rows; r++) {
            double m = mask ? (double)mask[r * n_out + j] : 1.0;
            double d = (double)y[r * n_out + j] - mu;
            ss += m * d * d;
        }
        total += ss;
        total_w += sw;
    }
    return total_w > 0 ? total / total_w : 0.0;
}
