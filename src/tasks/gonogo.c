/* gonogo.c — GoNogo-v0, NeuroGym semantics (REFERENCE.md §2.6).
 * task.name = gonogo.
 *
 * Trial: fixation 0 | stimulus 500 | delay 500 | decision 500 (ms), floored
 * to dt; default dt 100 ms → 0+5+5+5 = 15 steps.
 * Observations (3): 0 fixation, 1 no-go cue, 2 go cue.
 *   - fixation = 1 over the whole trial, then every channel is zeroed in the
 *     decision period (fixation offset = go cue); the same in NeuroGym v1.0.8
 *     and v2 (task.ngym_compat ignored).
 *   - stimulus period: channel ground_truth + 1 = 1 (no-go → 1, go → 2).
 *   - no observation noise (task.sigma is ignored), as in NeuroGym.
 * Trial variable: ground_truth ∈ {0 no-go, 1 go}, uniform.
 * Labels (n_out 2: fixate, go): gt = ground_truth over the decision period,
 * 0 elsewhere. One decision is scored at the last decision step on EVERY
 * trial: on a no-go trial the correct answer is label 0 (keep fixating), so
 * accuracy counts correct withholding — NeuroGym likewise scores a no-go
 * trial as correct (performance 1) unless the agent responds.
 * Quirk reproduced: the zero-length fixation period (the trial starts with
 * the stimulus; the fixation input is on from the first step). */
#include "tasks/ngym.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    sl_ngym_period per[4];
} gonogo_state;

static const char *const gng_periods[] = {"fixation", "stimulus", "delay", "decision"};
static const char *const gng_obs[] = {"fixation", "nogo", "go"};
static const char *const gng_out[] = {"fixate", "go"};

static sl_status gonogo_create(const sl_config *c, void **state, sl_taskgen_shape *shape)
{
    gonogo_state *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ENOMEM, "gonogo: out of memory");
    double dt = sl_ngym_dt(c, 100.0);
    static const double ms[] = {0, 500, 500, 500};
    for (int i = 0; i < 4; i++)
        s->per[i] = (sl_ngym_period){gng_periods[i], {.kind = SL_DUR_FIXED, .a = ms[i]}, i == 3};
    sl_status st = sl_ngym_timing(c, "gonogo", s->per, 4, dt);
    if (st != SL_OK) {
        free(s);
        return st;
    }
    *shape = (sl_taskgen_shape){.n_obs = 3,
                                .n_out = 2,
                                .classification = 1,
                                .T_max = sl_ngym_max_steps(s->per, 4, dt),
                                .obs_names = gng_obs,
                                .out_names = gng_out,
                                .dt = dt};
    *state = s;
    return SL_OK;
}

static sl_status gonogo_new_trial(void *state, sl_trial *t)
{
    gonogo_state *s = state;
    int gt = (int)sl_rng_below(t->rng, 2);
    sl_trial_set_var(t, "ground_truth", gt);
    for (int i = 0; i < 4; i++) {
        sl_status st = sl_ngym_add(t, s->per, 4, gng_periods[i], NULL);
        if (st != SL_OK) return st;
    }
    sl_trial_add_ob(t, 1.0f, NULL, 0);
    sl_trial_add_ob(t, 1.0f, "stimulus", gt + 1);
    sl_trial_set_ob(t, 0.0f, "decision", -1);
    sl_trial_set_gt(t, gt, "decision");
    sl_trial_decision(t, "decision", -1);
    return sl_trial_check(t);
}

const sl_taskgen sl_task_gonogo = {
    .name = "gonogo",
    .description = "GoNogo-v0 (NeuroGym): respond after the delay on go trials, keep fixating "
                   "on no-go trials",
    .create = gonogo_create,
    .new_trial = gonogo_new_trial,
    .score = NULL,
    .score_name = NULL,
    .destroy = free, /* the state is one allocation */
};
