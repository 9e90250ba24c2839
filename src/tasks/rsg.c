/* rsg.c — ReadySetGo-v0 (Jazayeri & Shadlen 2010; Remington et al. 2018):
 * measure the ready→set interval and reproduce it after set, NeuroGym
 * semantics (REFERENCE.md §2.7). task.name = rsg.
 *
 * Trial (default dt 80 ms): fixation 100 → 80 ms; ready 83 → 80 ms; measure
 * ~ U(800, 1500) floored to dt (800, 880, …, 1440 ms); set 83 → 80 ms;
 * production = 2·measure·gain ms (gain 1; an explicit duration, not floored,
 * as NeuroGym's add_period(duration=)). Placement, as NeuroGym: fixation
 * [0, 80); ready starts after fixation; measure ALSO starts after fixation
 * (ready overlaps the first measure step); set starts at the end of measure;
 * production at the end of set. Length 160 + 3·measure ms → 32..56 steps.
 * Observations (3): 0 fixation = 1 in every step except the production
 * period; 1 ready pulse (ready period); 2 set pulse (set period). No noise
 * (task.sigma ignored). task.ngym_compat has no effect.
 * Labels (n_out 2: fixate, go): 0 everywhere except a single 1 at
 * production-relative index ⌊production/dt⌋ = set offset + measure·gain —
 * NeuroGym's gt pulse. (NeuroGym's reward measures t_prod from the END OF
 * MEASURE, i.e. set onset, one set duration earlier than this pulse; silico
 * scores against the pulse.) No decision step is marked (argmax accuracy is
 * not this task's metric).
 * Score (score_name "interval_error_pct"): the produced time is the first
 * production step where output[go] > output[fixate], counted in steps from
 * the start of production; the target is the pulse index ⌊production/dt⌋;
 * error = 100·|produced − target| / target %; a trial with no such step is a
 * 100% error. Each trial adds its error to *sum and 1 to *count.
 * Trial variables: measure (ms), production (= measure·gain, ms), gain. */
#include "tasks/ngym.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    sl_ngym_period per[4];
    double gain;
} rsg_state;

static const char *const rsg_obs[] = {"fixation", "ready", "set"};
static const char *const rsg_out[] = {"fixate", "go"};

static sl_status rsg_create(const sl_config *c, void **state, sl_taskgen_shape *shape)
{
    rsg_state *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ENOMEM, "rsg: out of memory");
    double dt = sl_ngym_dt(c, 80.0);
    s->gain = 1.0;
    s->per[0] = (sl_ngym_period){"fixation", {.kind = SL_DUR_FIXED, .a = 100}, 0};
    s->per[1] = (sl_ngym_period){"ready", {.kind = SL_DUR_FIXED, .a = 83}, 0};
    s->per[2] = (sl_ngym_period){"measure", {.kind = SL_DUR_UNIFORM, .a = 800, .b = 1500}, 1};
    s->per[3] = (sl_ngym_period){"set", {.kind = SL_DUR_FIXED, .a = 83}, 0};
    sl_status st = sl_ngym_timing(c, "rsg", s->per, 4, dt);
    if (st != SL_OK) {
        free(s);
        return st;
    }
    double fix = sl_ngym_max_ms(&s->per[0].dur, dt), ready = sl_ngym_max_ms(&s->per[1].dur, dt);
    double meas = sl_ngym_max_ms(&s->per[2].dur, dt), set = sl_ngym_max_ms(&s->per[3].dur, dt);
    double total = fix + meas + set + 2 * meas * s->gain;
    if (fix + ready > total) total = fix + ready;
    *shape = (sl_taskgen_shape){.n_obs = 3,
                                .n_out = 2,
                                .classification = 1,
                                .T_max = (int)floor(total / dt + 1e-9),
                                .obs_names = rsg_obs,
                                .out_names = rsg_out,
                                .dt = dt};
    *state = s;
    return SL_OK;
}

static sl_status rsg_new_trial(void *state, sl_trial *t)
{
    rsg_state *s = state;
    sl_status st;
    if ((st = sl_ngym_add(t, s->per, 4, "fixation", NULL)) != SL_OK) return st;
    if ((st = sl_ngym_add(t, s->per, 4, "ready", "fixation")) != SL_OK) return st;
    double measure = sl_trial_sample(t, &s->per[2].dur);
    if ((st = sl_trial_add_period(t, "measure", measure, "fixation")) != SL_OK) return st;
    if ((st = sl_ngym_add(t, s->per, 4, "set", "measure")) != SL_OK) return st;
    double production = measure * s->gain;
    if ((st = sl_trial_add_period(t, "production", 2 * production, "set")) != SL_OK) return st;
    sl_trial_set_var(t, "measure", measure);
    sl_trial_set_var(t, "production", production);
    sl_trial_set_var(t, "gain", s->gain);

    sl_trial_add_ob(t, 1.0f, NULL, 0);
    sl_trial_set_ob(t, 0.0f, "production", 0);
    sl_trial_add_ob(t, 1.0f, "ready", 1);
    sl_trial_add_ob(t, 1.0f, "set", 2);

    const sl_period *p = sl_trial_find(t, "production");
    int k = (int)(production / t->dt);
    if (!p || p->start + k >= p->end)
        return sl_fail(SL_EINVAL, "rsg: the production period is too short for its gt pulse");
    t->gt[p->start + k] = 1;
    return sl_trial_check(t);
}

static void rsg_score(void *state, const sl_trial *t, const sl_real *z, double *sum,
                      double *count)
{
    (void)state;
    const sl_period *p = sl_trial_find(t, "production");
    if (!p) return;
    int target = (int)(sl_trial_get_var(t, "production") / t->dt);
    if (target <= 0) return;
    double err = 100.0;
    for (int s = p->start; s < p->end && s < t->T; s++) {
        const sl_real *zs = z + (size_t)s * (size_t)t->n_out;
        if (zs[1] > zs[0]) {
            err = 100.0 * fabs((double)(s - p->start) - target) / target;
            break;
        }
    }
    *sum += err;
    *count += 1.0;
}

const sl_taskgen sl_task_rsg = {
    .name = "rsg",
    .description = "ReadySetGo-v0 (NeuroGym): measure the ready-set interval and produce it "
                   "again after set",
    .create = rsg_create,
    .new_trial = rsg_new_trial,
    .score = rsg_score,
    .score_name = "interval_error_pct",
    .destroy = free, /* the state is one allocation */
};
