/* pdm.c — PerceptualDecisionMaking-v0 (Britten et al. 1992), NeuroGym
 * semantics (REFERENCE.md §2.2). task.name = pdm.
 *
 * Trial: fixation 100 | stimulus 2000 | delay 0 | decision 100 (ms), each
 * floored to dt; default dt 100 ms (unless task.dt is set) → 1+20+0+1 = 22
 * steps. task.timing overrides any of the four.
 * Observations (1 + dim_ring): 0 fixation; 1..dim_ring stimulus ring with
 * θ_i = 2πi/dim_ring.
 *   - fixation: v1 (default, NeuroGym v1.0.8) = 1 in fixation, stimulus and
 *     delay, 0 in decision (fixation offset is the go cue);
 *     task.ngym_compat = v2 (NeuroGym ≥ 2.1) = 1 in the fixation period only.
 *   - stimulus period only: s_i = 0.5 + (coh/200)·cos(θ_i − θ_choice), plus
 *     N(0, (σ/√dt)²) per step on every ring channel (never on fixation). coh 0
 *     gives 0.5 on every ring channel. Zero elsewhere.
 * Trial variables: choice ∈ {0..dim_ring−1} and coh ∈ task.cohs (default
 * 0, 6.4, 12.8, 25.6, 51.2 %), both uniform; ground_truth = choice + 1.
 * Labels (n_out = 1 + dim_ring): 0 fixate everywhere except the decision
 * period, where gt = ground_truth (NeuroGym's "choice" action choice+1);
 * one decision is scored at the last decision step.
 * Quirks reproduced: durations floored to dt (a 2000 ms stimulus at dt 300
 * is 1800 ms); the zero-length delay; noise only on the ring channels and only
 * during the stimulus; NeuroGym's trial['ground_truth'] is our choice (0-based)
 * — silico's ground_truth is the label, as in every silico task. */
#include "tasks/ngym.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PDM_MAX_COHS 64

typedef struct {
    sl_ngym_period per[4];
    int dim_ring, v2;
    double sigma_dt;
    int n_cohs;
    double cohs[PDM_MAX_COHS];
    sl_ngym_names obs, out;
} pdm_state;

static sl_status pdm_create(const sl_config *c, void **state, sl_taskgen_shape *shape)
{
    pdm_state *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ENOMEM, "pdm: out of memory");
    double dt = sl_ngym_dt(c, 100.0);
    s->per[0] = (sl_ngym_period){"fixation", {.kind = SL_DUR_FIXED, .a = 100}, 0};
    s->per[1] = (sl_ngym_period){"stimulus", {.kind = SL_DUR_FIXED, .a = 2000}, 0};
    s->per[2] = (sl_ngym_period){"delay", {.kind = SL_DUR_FIXED, .a = 0}, 0};
    s->per[3] = (sl_ngym_period){"decision", {.kind = SL_DUR_FIXED, .a = 100}, 1};
    sl_status st = sl_ngym_timing(c, "pdm", s->per, 4, dt);
    if (st != SL_OK) goto fail;
    static const double def_cohs[] = {0, 6.4, 12.8, 25.6, 51.2};
    s->n_cohs = sl_ngym_cohs(c, "pdm", def_cohs, 5, s->cohs, PDM_MAX_COHS);
    if (s->n_cohs < 0) {
        st = SL_EINVAL;
        goto fail;
    }
    s->dim_ring = (int)sl_config_int(c, "task.dim_ring");
    if (s->dim_ring + 1 > SL_NGYM_MAX_NAMES) {
        st = sl_fail(SL_EINVAL, "pdm: task.dim_ring %d is too large (at most %d)", s->dim_ring,
                     SL_NGYM_MAX_NAMES - 1);
        goto fail;
    }
    s->v2 = strcmp(sl_config_str(c, "task.ngym_compat"), "v2") == 0;
    s->sigma_dt = sl_config_real(c, "task.sigma") / sqrt(dt);

    sl_ngym_name(&s->obs, "fixation");
    sl_ngym_name(&s->out, "fixate");
    for (int i = 0; i < s->dim_ring; i++) {
        sl_ngym_name(&s->obs, "stimulus%d", i + 1);
        sl_ngym_name(&s->out, "choice%d", i + 1);
    }
    *shape = (sl_taskgen_shape){.n_obs = 1 + s->dim_ring,
                                .n_out = 1 + s->dim_ring,
                                .classification = 1,
                                .T_max = sl_ngym_max_steps(s->per, 4, dt),
                                .obs_names = s->obs.ptr,
                                .out_names = s->out.ptr,
                                .dt = dt};
    *state = s;
    return SL_OK;
fail:
    free(s);
    return st;
}

static sl_status pdm_new_trial(void *state, sl_trial *t)
{
    pdm_state *s = state;
    int choice = (int)sl_rng_below(t->rng, (uint64_t)s->dim_ring);
    double coh = s->cohs[sl_rng_below(t->rng, (uint64_t)s->n_cohs)];
    sl_trial_set_var(t, "ground_truth", choice + 1);
    sl_trial_set_var(t, "coh", coh);

    static const char *const names[] = {"fixation", "stimulus", "delay", "decision"};
    for (int i = 0; i < 4; i++) {
        sl_status st = sl_ngym_add(t, s->per, 4, names[i], NULL);
        if (st != SL_OK) return st;
    }

    sl_trial_add_ob(t, 1.0f, "fixation", 0);
    if (!s->v2) {
        sl_trial_add_ob(t, 1.0f, "stimulus", 0);
        sl_trial_add_ob(t, 1.0f, "delay", 0);
    }
    const double two_pi = 6.283185307179586476925286766559;
    double th_c = two_pi * choice / s->dim_ring;
    for (int i = 0; i < s->dim_ring; i++) {
        double th = two_pi * i / s->dim_ring;
        sl_trial_add_ob(t, (float)(cos(th - th_c) * (coh / 200.0) + 0.5), "stimulus", 1 + i);
    }
    for (int i = 0; i < s->dim_ring; i++)
        sl_trial_add_randn(t, 0.0f, (float)s->sigma_dt, "stimulus", 1 + i);

    sl_trial_set_gt(t, choice + 1, "decision");
    sl_trial_decision(t, "decision", -1);
    return sl_trial_check(t);
}

const sl_taskgen sl_task_pdm = {
    .name = "pdm",
    .description = "PerceptualDecisionMaking-v0 (NeuroGym): report the direction of a noisy "
                   "stimulus after fixation offset",
    .create = pdm_create,
    .new_trial = pdm_new_trial,
    .score = NULL,
    .score_name = NULL,
    .destroy = free, /* the state is one allocation */
};
