/* dms.c — DelayMatchSample-v0 (Miller/Funahashi-style visual working
 * memory), NeuroGym semantics (REFERENCE.md §2.3). task.name = dms.
 *
 * Trial: fixation 300 | sample 500 | delay 1000 | test 500 | decision 900
 * (ms), floored to dt; default dt 100 ms → 3+5+10+5+9 = 32 steps.
 * Observations (1 + dim_ring): 0 fixation; 1..dim_ring stimulus ring,
 * θ_i = 2πi/dim_ring.
 *   - fixation = 1 in every period except decision (fixation offset = go
 *     cue); the same in NeuroGym v1.0.8 and v2 (task.ngym_compat ignored).
 *   - sample period: s_i = 0.5 + 0.5·cos(θ_i − θ_sample); test period: the same
 *     with θ_test; N(0, (σ/√dt)²) per step on every ring channel during sample
 *     and test only (fixation never noisy). With dim_ring 2: [1,0] or [0,1].
 * Trial variables: ground_truth ∈ {1 match, 2 non-match} uniform; sample =
 * index of θ_sample, uniform over the dim_ring angles; θ_test = θ_sample on
 * match, θ_sample + π on non-match (for odd dim_ring that angle is off the
 * ring, as in NeuroGym); test = θ_test/(2π/dim_ring).
 * Labels (n_out 3: fixate, match, non-match): gt = ground_truth over the 9
 * decision steps, 0 elsewhere; one decision scored at the last decision step.
 * Quirks reproduced: the 900 ms decision period (label held for 9 steps);
 * noise only on ring channels in sample and test. */
#include "tasks/ngym.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    sl_ngym_period per[5];
    int dim_ring;
    double sigma_dt;
    sl_ngym_names obs;
} dms_state;

static const char *const dms_periods[] = {"fixation", "sample", "delay", "test", "decision"};
static const char *const dms_out[] = {"fixate", "match", "non-match"};

static sl_status dms_create(const sl_config *c, void **state, sl_taskgen_shape *shape)
{
    dms_state *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ENOMEM, "dms: out of memory");
    double dt = sl_ngym_dt(c, 100.0);
    static const double ms[] = {300, 500, 1000, 500, 900};
    for (int i = 0; i < 5; i++)
        s->per[i] = (sl_ngym_period){dms_periods[i], {.kind = SL_DUR_FIXED, .a = ms[i]}, i == 4};
    sl_status st = sl_ngym_timing(c, "dms", s->per, 5, dt);
    if (st != SL_OK) goto fail;
    s->dim_ring = (int)sl_config_int(c, "task.dim_ring");
    if (s->dim_ring + 1 > SL_NGYM_MAX_NAMES) {
        st = sl_fail(SL_EINVAL, "dms: task.dim_ring %d is too large (at most %d)", s->dim_ring,
                     SL_NGYM_MAX_NAMES - 1);
        goto fail;
    }
    s->sigma_dt = sl_config_real(c, "task.sigma") / sqrt(dt);
    sl_ngym_name(&s->obs, "fixation");
    for (int i = 0; i < s->dim_ring; i++) sl_ngym_name(&s->obs, "stimulus%d", i + 1);
    *shape = (sl_taskgen_shape){.n_obs = 1 + s->dim_ring,
                                .n_out = 3,
                                .classification = 1,
                                .T_max = sl_ngym_max_steps(s->per, 5, dt),
                                .obs_names = s->obs.ptr,
                                .out_names = dms_out,
                                .dt = dt};
    *state = s;
    return SL_OK;
fail:
    free(s);
    return st;
}

static sl_status dms_new_trial(void *state, sl_trial *t)
{
    dms_state *s = state;
    int gt = 1 + (int)sl_rng_below(t->rng, 2);
    int sample = (int)sl_rng_below(t->rng, (uint64_t)s->dim_ring);
    const double two_pi = 6.283185307179586476925286766559;
    double step = two_pi / s->dim_ring;
    double th_s = step * sample;
    double th_t = gt == 1 ? th_s : fmod(th_s + two_pi / 2, two_pi);
    sl_trial_set_var(t, "ground_truth", gt);
    sl_trial_set_var(t, "sample", sample);
    sl_trial_set_var(t, "test", th_t / step);

    for (int i = 0; i < 5; i++) {
        sl_status st = sl_ngym_add(t, s->per, 5, dms_periods[i], NULL);
        if (st != SL_OK) return st;
    }
    for (int i = 0; i < 4; i++) sl_trial_add_ob(t, 1.0f, dms_periods[i], 0);
    for (int i = 0; i < s->dim_ring; i++) {
        double th = step * i;
        sl_trial_add_ob(t, (float)(cos(th - th_s) * 0.5 + 0.5), "sample", 1 + i);
        sl_trial_add_ob(t, (float)(cos(th - th_t) * 0.5 + 0.5), "test", 1 + i);
    }
    for (int i = 0; i < s->dim_ring; i++) {
        sl_trial_add_randn(t, 0.0f, (float)s->sigma_dt, "sample", 1 + i);
        sl_trial_add_randn(t, 0.0f, (float)s->sigma_dt, "test", 1 + i);
    }
    sl_trial_set_gt(t, gt, "decision");
    sl_trial_decision(t, "decision", -1);
    return sl_trial_check(t);
}

const sl_taskgen sl_task_dms = {
    .name = "dms",
    .description = "DelayMatchSample-v0 (NeuroGym): after a delay, report whether the test "
                   "stimulus matches the sample",
    .create = dms_create,
    .new_trial = dms_new_trial,
    .score = NULL,
    .score_name = NULL,
    .destroy = free, /* the state is one allocation */
};
