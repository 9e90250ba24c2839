/* ddms.c — DualDelayMatchSample-v0 (Rose et al. 2016: two items held in
 * working memory, tested one after the other after a retro-cue), NeuroGym
 * semantics (REFERENCE.md §2.4). task.name = ddms.
 *
 * Trial: fixation | sample | delay1 | cue1 | test1 | delay2 | cue2 | test2,
 * 500 ms each, floored to dt; default dt 100 ms → 8×5 = 40 steps.
 * Observations (7): 0 fixation; 1–2 stimulus1 (cos, sin); 3–4 stimulus2
 * (cos, sin); 5 cue1; 6 cue2.
 *   - fixation = 1 over the whole trial (no go cue: responses are expected in
 *     the test periods); the same in NeuroGym v1.0.8 and v2.
 *   - sample period: both items at once, item k on its stimulus channels as
 *     (cos(π·sample_k), sin(π·sample_k)), sample_k ∈ {0, 0.5} → (1,0) or
 *     (6.1e−17, 1): cos(π/2) is kept as computed, as NeuroGym does.
 *   - test_order 0: cue1 channel (5) on during cue1, item 1's test on
 *     channels 1–2 during test1; cue2 channel (6) on during cue2, item 2's test
 *     on channels 3–4 during test2. test_order 1 swaps the periods: channel 6
 *     during cue1 and item 2's test during test1; channel 5 during cue2 and
 *     item 1's test during test2.
 *   - noise N(0, (σ/√dt)²) per step on ALL 7 channels (fixation and cue
 *     channels included) during sample, test1 and test2 — NeuroGym's quirk.
 * Trial variables: ground_truth1, ground_truth2 ∈ {1 match, 2 non-match},
 * sample1, sample2 ∈ {0, 0.5}, test_order ∈ {0, 1}, all uniform and drawn in
 * that order; test_k = sample_k on match, 0.5 − sample_k on non-match;
 * condition = (gt1−1) + 2(gt2−1) + 4·2·sample1 + 8·2·sample2 + 16·test_order
 * (32 conditions).
 * Labels (n_out 3: fixate, match, non-match): over the whole test1 period gt
 * = the ground truth of the item tested there, likewise test2; 0 elsewhere.
 * Two decisions per trial: the last step of test1 and of test2. */
#include "tasks/ngym.h"

#include <math.h>
#include <stdlib.h>

#define DDMS_NP 8

typedef struct {
    sl_ngym_period per[DDMS_NP];
    double sigma_dt;
} ddms_state;

static const char *const ddms_periods[DDMS_NP] = {"fixation", "sample", "delay1", "cue1",
                                                  "test1",    "delay2", "cue2",   "test2"};
static const char *const ddms_obs[] = {"fixation",    "stimulus1_cos", "stimulus1_sin",
                                       "stimulus2_cos", "stimulus2_sin", "cue1", "cue2"};
static const char *const ddms_out[] = {"fixate", "match", "non-match"};

static sl_status ddms_create(const sl_config *c, void **state, sl_taskgen_shape *shape)
{
    ddms_state *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ENOMEM, "ddms: out of memory");
    double dt = sl_ngym_dt(c, 100.0);
    for (int i = 0; i < DDMS_NP; i++)
        s->per[i] = (sl_ngym_period){ddms_periods[i], {.kind = SL_DUR_FIXED, .a = 500},
                                     i == 4 || i == 7};
    sl_status st = sl_ngym_timing(c, "ddms", s->per, DDMS_NP, dt);
    if (st != SL_OK) {
        free(s);
        return st;
    }
    s->sigma_dt = sl_config_real(c, "task.sigma") / sqrt(dt);
    double total = 0;
    for (int i = 0; i < DDMS_NP; i++) total += sl_ngym_max_ms(&s->per[i].dur, dt);
    *shape = (sl_taskgen_shape){.n_obs = 7,
                                .n_out = 3,
                                .classification = 1,
                                .T_max = (int)lround(total / dt),
                                .obs_names = ddms_obs,
                                .out_names = ddms_out,
                                .dt = dt};
    *state = s;
    return SL_OK;
}

static sl_status ddms_new_trial(void *state, sl_trial *t)
{
    ddms_state *s = state;
    int gt1 = 1 + (int)sl_rng_below(t->rng, 2);
    int gt2 = 1 + (int)sl_rng_below(t->rng, 2);
    int s1 = (int)sl_rng_below(t->rng, 2), s2 = (int)sl_rng_below(t->rng, 2);
    int order = (int)sl_rng_below(t->rng, 2);
    double sample1 = 0.5 * s1, sample2 = 0.5 * s2;
    double test1 = gt1 == 1 ? sample1 : 0.5 - sample1;
    double test2 = gt2 == 1 ? sample2 : 0.5 - sample2;
    sl_trial_set_var(t, "ground_truth1", gt1);
    sl_trial_set_var(t, "ground_truth2", gt2);
    sl_trial_set_var(t, "sample1", sample1);
    sl_trial_set_var(t, "sample2", sample2);
    sl_trial_set_var(t, "test1", test1);
    sl_trial_set_var(t, "test2", test2);
    sl_trial_set_var(t, "test_order", order);
    sl_trial_set_var(t, "condition", (gt1 - 1) + 2 * (gt2 - 1) + 4 * s1 + 8 * s2 + 16 * order);

    for (int i = 0; i < DDMS_NP; i++) {
        sl_status st = sl_ngym_add(t, s->per, DDMS_NP, ddms_periods[i], NULL);
        if (st != SL_OK) return st;
    }
    /* where item 1 / item 2 are cued and tested */
    const char *cue_p1 = order == 0 ? "cue1" : "cue2", *cue_p2 = order == 0 ? "cue2" : "cue1";
    const char *test_p1 = order == 0 ? "test1" : "test2", *test_p2 = order == 0 ? "test2" : "test1";
    const double pi = 3.141592653589793238462643383280;

    sl_trial_add_ob(t, 1.0f, NULL, 0);
    sl_trial_add_ob(t, (float)cos(sample1 * pi), "sample", 1);
    sl_trial_add_ob(t, (float)sin(sample1 * pi), "sample", 2);
    sl_trial_add_ob(t, (float)cos(sample2 * pi), "sample", 3);
    sl_trial_add_ob(t, (float)sin(sample2 * pi), "sample", 4);
    sl_trial_add_ob(t, 1.0f, cue_p1, 5);
    sl_trial_add_ob(t, 1.0f, cue_p2, 6);
    sl_trial_add_ob(t, (float)cos(test1 * pi), test_p1, 1);
    sl_trial_add_ob(t, (float)sin(test1 * pi), test_p1, 2);
    sl_trial_add_ob(t, (float)cos(test2 * pi), test_p2, 3);
    sl_trial_add_ob(t, (float)sin(test2 * pi), test_p2, 4);
    sl_trial_add_randn(t, 0.0f, (float)s->sigma_dt, "sample", -1);
    sl_trial_add_randn(t, 0.0f, (float)s->sigma_dt, "test1", -1);
    sl_trial_add_randn(t, 0.0f, (float)s->sigma_dt, "test2", -1);

    sl_trial_set_gt(t, gt1, test_p1);
    sl_trial_set_gt(t, gt2, test_p2);
    sl_trial_decision(t, "test1", -1);
    sl_trial_decision(t, "test2", -1);
    return sl_trial_check(t);
}

const sl_taskgen sl_task_ddms = {
    .name = "ddms",
    .description = "DualDelayMatchSample-v0 (NeuroGym): hold two items, then match each cued "
                   "test against its sample",
    .create = ddms_create,
    .new_trial = ddms_new_trial,
    .score = NULL,
    .score_name = NULL,
    .destroy = free, /* the state is one allocation */
};
