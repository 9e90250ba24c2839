/* reach_synthetic.c — the "reach_synthetic" task: the reach trial structure
 * (reach_common.c) with smooth made-up targets, no data file.
 *
 * Trial (dt = task.dt ms, T = round(trial_ms/dt)): condition c of
 * k = task.conditions, angle θ_c = 2πc/k; delay d; plan (+hold) input on
 * from the plan onset until the go step g, go cue a Gaussian bump at g.
 * Target of output j (of n = task.outputs), s = (t − g)·dt ms after go:
 *   y_j(t) = 0                                               t < g
 *   y_j(t) = a_j exp(−(s − 150)²/(2·60²)) + b_j exp(−(s − 400)²/(2·100²))   t ≥ g
 *   a_j = 0.5 + 0.5 cos(θ_c − 2πj/n),  b_j = 0.5 + 0.5 sin(θ_c − 2πj/n)
 * Deterministic for a given config (random plan vectors come from run.seed).
 */
#include "tasks/reach_common.h"

#include <math.h>

static const sl_task_ops SYN_OPS = {
    "reach_synthetic", rc_num_batches, rc_start_epoch, rc_batch, rc_destroy, NULL,
};

#define SYN_T1 150.0 /* ms after go: first bump */
#define SYN_W1 60.0
#define SYN_T2 400.0 /* second bump */
#define SYN_W2 100.0

static void syn_target(const rc_core *rc, const void *ctx, int c, int g, sl_real *y)
{
    const double pi = 3.14159265358979323846;
    const int n = rc->n_out;
    const double th = 2.0 * pi * c / rc->n_cond;
    for (int t = 0; t < rc->T; t++) {
        double s = (double)(t - g) * rc->dt;
        double e1 = exp(-(s - SYN_T1) * (s - SYN_T1) / (2.0 * SYN_W1 * SYN_W1));
        double e2 = exp(-(s - SYN_T2) * (s - SYN_T2) / (2.0 * SYN_W2 * SYN_W2));
        for (int j = 0; j < n; j++) {
            double ph = th - 2.0 * pi * j / n;
            double a = 0.5 + 0.5 * cos(ph), b = 0.5 + 0.5 * sin(ph);
            y[(size_t)t * n + j] = t < g ? (sl_real)0 : (sl_real)(a * e1 + b * e2);
        }
    }
}

sl_status sl_reach_synthetic_create(const sl_config *c, sl_task **out)
{
    long k = sl_config_int(c, "task.conditions"), n = sl_config_int(c, "task.outputs");
    *out = NULL;
    if (k < 1 || k > 100000)
        return sl_fail(SL_EINVAL, "task.conditions must be in [1, 100000], got %ld", k);
    if (n < 1 || n > 100000)
        return sl_fail(SL_EINVAL, "task.outputs must be in [1, 100000], got %ld", n);
    rc_spec spec = {(int)k, (int)n, syn_target, NULL};
    return rc_create(c, &SYN_OPS, &spec, out);
}
