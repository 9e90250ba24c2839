/* task.c — building tasks by name, freeing them, and the null-model error.
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
#include "tasks/reach_common.h"

#include <string.h>

sl_status sl_task_create(const sl_config *c, sl_task **out)
{
    if (!out) return sl_fail(SL_EINVAL, "sl_task_create: out is NULL");
    *out = NULL;
    if (!c) return sl_fail(SL_EINVAL, "sl_task_create: config is NULL");
    const char *name = sl_config_str(c, "task.name");
    if (strcmp(name, "reach") == 0) return sl_reach_create(c, out);
    if (strcmp(name, "reach_synthetic") == 0) return sl_reach_synthetic_create(c, out);
    return sl_fail(SL_EINVAL, "task.name: unknown task '%s' (known: reach, reach_synthetic)", name);
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
