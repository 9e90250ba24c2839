/* ctxdm.c — ContextDecisionMaking (Mante et al. 2013), NeuroGym semantics
 * (REFERENCE.md §2.5). task.name = ctxdm. Two modes (task.context):
 *   explicit — NeuroGym v1.0.8's ContextDecisionMaking-v0: the relevant
 *              modality changes per trial and two context inputs say which
 *              (7 channels at dim_ring 2);
 *   implicit — v1.0.8's SingleContextDecisionMaking-v0 / v2's default: the
 *              relevant modality is fixed (task.impl_context_modality) and not
 *              signalled (5 channels).
 *
 * Trial: fixation 300 | stimulus 750 | delay TruncExp(mean 600, min 300,
 * max 3000) | decision 100 (ms), each floored to dt; default dt 100 ms →
 * 3 + 7 (750 floored to 700) + 3..29 + 1 = 14..40 steps, mean ≈ 19.
 * Observations: 0 fixation; 1..R modality-1 ring (stim{i}_mod1); R+1..2R
 * modality-2 ring (stim{i}_mod2), R = dim_ring, θ_i = 2πi/R; explicit mode
 * adds context1, context2 (1 + 2R + 2 channels).
 *   - stimulus period only: mod_m channel i = 0.5 + (coh_m/200)·cos(θ_i −
 *     θ_{choice_m}). For R = 2 this equals v1.0.8's (1 ± signed_coh/100)/2.
 *   - task.ngym_compat = v1 (default, v1.0.8): fixation = 1 in fixation,
 *     stimulus and delay, 0 in decision (the go cue; cf. NeuroGym issue #279);
 *     noise N(0, (σ/√dt)²) per step on ALL channels during the stimulus
 *     (fixation and context channels included — v1.0.8 calls add_randn
 *     without `where`; the context input is then added on top).
 *   - v2 (NeuroGym ≥ 2.1): fixation = 1 in the fixation period only (no go
 *     cue: the network must time the decision from the delay, which is random);
 *     noise on the stimulus channels only.
 *   - both: every channel is zeroed in the decision period, then (explicit)
 *     the active context channel is set to 1 over the whole trial, decision
 *     included.
 * Trial variables (drawn in this order): ground_truth ∈ {1..R}, other_choice ∈
 * {1..R} (independent, may equal ground_truth), context ∈ {0, 1} (explicit;
 * implicit: task.impl_context_modality), coh_1, coh_2 ∈ task.cohs (default 5,
 * 15, 50 %). Context 0: modality 1 points to ground_truth and modality 2 to
 * other_choice; context 1 swaps them. Also recorded: signed_coh_1/2 (+coh if
 * the modality points to choice 1, else −coh: v1.0.8's signed coherence) and
 * delay (ms).
 * Labels (n_out 1 + R: fixate, choice1..): gt = ground_truth in the decision
 * period, 0 elsewhere; one decision scored at the last decision step. */
#include "tasks/ngym.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CTXDM_MAX_COHS 64

typedef struct {
    sl_ngym_period per[4];
    int dim_ring, explicit_ctx, impl_modality, v2;
    double sigma_dt;
    int n_cohs;
    double cohs[CTXDM_MAX_COHS];
    sl_ngym_names obs, out;
} ctxdm_state;

static const char *const ctxdm_periods[] = {"fixation", "stimulus", "delay", "decision"};

static sl_status ctxdm_create(const sl_config *c, void **state, sl_taskgen_shape *shape)
{
    ctxdm_state *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ENOMEM, "ctxdm: out of memory");
    double dt = sl_ngym_dt(c, 100.0);
    s->per[0] = (sl_ngym_period){"fixation", {.kind = SL_DUR_FIXED, .a = 300}, 0};
    s->per[1] = (sl_ngym_period){"stimulus", {.kind = SL_DUR_FIXED, .a = 750}, 0};
    s->per[2] = (sl_ngym_period){"delay", {.kind = SL_DUR_TRUNCEXP, .a = 600, .b = 300, .c = 3000},
                                 0};
    s->per[3] = (sl_ngym_period){"decision", {.kind = SL_DUR_FIXED, .a = 100}, 1};
    sl_status st = sl_ngym_timing(c, "ctxdm", s->per, 4, dt);
    if (st != SL_OK) goto fail;
    static const double def_cohs[] = {5, 15, 50};
    s->n_cohs = sl_ngym_cohs(c, "ctxdm", def_cohs, 3, s->cohs, CTXDM_MAX_COHS);
    if (s->n_cohs < 0) {
        st = SL_EINVAL;
        goto fail;
    }
    s->dim_ring = (int)sl_config_int(c, "task.dim_ring");
    if (2 * s->dim_ring + 3 > SL_NGYM_MAX_NAMES) {
        st = sl_fail(SL_EINVAL, "ctxdm: task.dim_ring %d is too large (at most %d)", s->dim_ring,
                     (SL_NGYM_MAX_NAMES - 3) / 2);
        goto fail;
    }
    s->explicit_ctx = strcmp(sl_config_str(c, "task.context"), "explicit") == 0;
    s->impl_modality = (int)sl_config_int(c, "task.impl_context_modality");
    s->v2 = strcmp(sl_config_str(c, "task.ngym_compat"), "v2") == 0;
    s->sigma_dt = sl_config_real(c, "task.sigma") / sqrt(dt);

    sl_ngym_name(&s->obs, "fixation");
    for (int m = 1; m <= 2; m++)
        for (int i = 0; i < s->dim_ring; i++) sl_ngym_name(&s->obs, "stim%d_mod%d", i + 1, m);
    if (s->explicit_ctx) {
        sl_ngym_name(&s->obs, "context1");
        sl_ngym_name(&s->obs, "context2");
    }
    sl_ngym_name(&s->out, "fixate");
    for (int i = 0; i < s->dim_ring; i++) sl_ngym_name(&s->out, "choice%d", i + 1);

    *shape = (sl_taskgen_shape){.n_obs = s->obs.n,
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

static sl_status ctxdm_new_trial(void *state, sl_trial *t)
{
    ctxdm_state *s = state;
    const int R = s->dim_ring;
    int gt = 1 + (int)sl_rng_below(t->rng, (uint64_t)R);
    int other = 1 + (int)sl_rng_below(t->rng, (uint64_t)R);
    int context = s->explicit_ctx ? (int)sl_rng_below(t->rng, 2) : s->impl_modality;
    double coh1 = s->cohs[sl_rng_below(t->rng, (uint64_t)s->n_cohs)];
    double coh2 = s->cohs[sl_rng_below(t->rng, (uint64_t)s->n_cohs)];
    int choice1 = context == 0 ? gt : other, choice2 = context == 0 ? other : gt;

    for (int i = 0; i < 4; i++) {
        sl_status st = sl_ngym_add(t, s->per, 4, ctxdm_periods[i], NULL);
        if (st != SL_OK) return st;
    }
    const sl_period *dp = sl_trial_find(t, "delay");
    sl_trial_set_var(t, "ground_truth", gt);
    sl_trial_set_var(t, "other_choice", other);
    sl_trial_set_var(t, "context", context);
    sl_trial_set_var(t, "coh_1", coh1);
    sl_trial_set_var(t, "coh_2", coh2);
    sl_trial_set_var(t, "signed_coh_1", choice1 == 1 ? coh1 : -coh1);
    sl_trial_set_var(t, "signed_coh_2", choice2 == 1 ? coh2 : -coh2);
    sl_trial_set_var(t, "delay", dp ? dp->end_ms - dp->start_ms : NAN);

    if (s->v2) {
        sl_trial_add_ob(t, 1.0f, "fixation", 0);
    } else {
        sl_trial_add_ob(t, 1.0f, NULL, 0);
    }
    const double two_pi = 6.283185307179586476925286766559;
    double th1 = two_pi * (choice1 - 1) / R, th2 = two_pi * (choice2 - 1) / R;
    for (int i = 0; i < R; i++) {
        double th = two_pi * i / R;
        sl_trial_add_ob(t, (float)(cos(th - th1) * (coh1 / 200.0) + 0.5), "stimulus", 1 + i);
        sl_trial_add_ob(t, (float)(cos(th - th2) * (coh2 / 200.0) + 0.5), "stimulus", 1 + R + i);
    }
    if (s->v2) {
        for (int i = 0; i < 2 * R; i++)
            sl_trial_add_randn(t, 0.0f, (float)s->sigma_dt, "stimulus", 1 + i);
    } else {
        sl_trial_add_randn(t, 0.0f, (float)s->sigma_dt, "stimulus", -1);
    }
    sl_trial_set_ob(t, 0.0f, "decision", -1);
    if (s->explicit_ctx) sl_trial_add_ob(t, 1.0f, NULL, 1 + 2 * R + context);

    sl_trial_set_gt(t, gt, "decision");
    sl_trial_decision(t, "decision", -1);
    return sl_trial_check(t);
}

const sl_taskgen sl_task_ctxdm = {
    .name = "ctxdm",
    .description = "ContextDecisionMaking (NeuroGym): report the direction of the modality the "
                   "context names, ignoring the other",
    .create = ctxdm_create,
    .new_trial = ctxdm_new_trial,
    .score = NULL,
    .score_name = NULL,
    .destroy = free, /* the state is one allocation */
};
