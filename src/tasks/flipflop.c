/* flipflop.c — the K-bit flip-flop memory task (task.name flipflop) of
 * Sussillo & Barak 2013, in the exact form of FixedPointFinder's
 * examples/helper/FlipFlopData.py (Golub & Sussillo 2018; REFERENCE.md §3.2).
 *
 * Channels: K = task.bits inputs "bit0".."bit{K-1}" and K continuous outputs
 * of the same names (classification 0, n_out = K).
 *
 * A trial of T steps:
 *   - input k at step t is a pulse with probability p = task.p_pulse,
 *     independently per step and bit; a pulse is +1 or −1 with equal
 *     probability, otherwise the input is 0;
 *   - task.start_pulse (default true, as FlipFlopData's
 *     `unsigned_inputs[:, 0, :] = 1`): every bit gets a (random-sign) pulse at
 *     step 0, so every output is defined from the first step. With
 *     start_pulse = false, the target of a bit is 0 until its first pulse;
 *   - target k at step t = the sign of the last pulse on input k at a step
 *     ≤ t (the pulse step itself included: FlipFlopData sets
 *     targets[t_flip:] = inputs[t_flip]);
 *   - loss mask 1 at every step (MSE over all steps and bits).
 * Defaults are FlipFlopData's: K = 3, p = 0.5, T = 64 steps (n_time) when
 * task.trial_ms is not set; a set task.trial_ms gives T = floor(trial_ms/dt)
 * steps. (The reach default trial_ms = 2500 ms is not used: it is unset.)
 * One step = task.dt ms; pulses last one step whatever dt is (FlipFlopData is
 * a discrete-time task).
 *
 * Random draws, from the trial's rng, step-major then bit: for each (t, k),
 * one uniform u (pulse iff u < p; skipped at t = 0 when start_pulse), then,
 * for a pulse, one uniform s (sign −1 iff s < 0.5).
 *
 * Periods: one, "trial" = [0, T). Trial variables: "pulses_bit<k>" (number of
 * pulses on bit k, the start pulse included) for k < 16.
 */
#include "tasks/trial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FF_DEFAULT_STEPS 64 /* FlipFlopData n_time */

typedef struct {
    int K, T, start_pulse;
    double p, dt;
    char (*names)[16];
    const char **name_ptr;
} ff_state;

static void ff_destroy(void *state)
{
    ff_state *s = state;
    if (!s) return;
    free(s->names);
    free(s->name_ptr);
    free(s);
}

static sl_status ff_create(const sl_config *c, void **state, sl_taskgen_shape *shape)
{
    *state = NULL;
    long K = sl_config_int(c, "task.bits");
    double p = sl_config_real(c, "task.p_pulse");
    double dt = sl_config_real(c, "task.dt");
    if (K < 1 || K > 64) return sl_fail(SL_EINVAL, "flipflop: task.bits must be in [1, 64], got %ld", K);
    if (!(p >= 0 && p <= 1))
        return sl_fail(SL_EINVAL, "flipflop: task.p_pulse must be a probability in [0, 1], got %g", p);
    if (!(dt > 0) || !isfinite(dt))
        return sl_fail(SL_EINVAL, "flipflop: task.dt must be a positive number of ms, got %g", dt);
    long T = FF_DEFAULT_STEPS;
    if (sl_config_is_set(c, "task.trial_ms")) {
        double ms = sl_config_real(c, "task.trial_ms");
        double x = floor(ms / dt + 1e-9);
        if (!(x >= 1) || x > 1e8)
            return sl_fail(SL_EINVAL,
                           "flipflop: task.trial_ms = %g ms at task.dt = %g ms gives %.0f steps; "
                           "need between 1 and 1e8",
                           ms, dt, isfinite(x) ? x : -1.0);
        T = (long)x;
    }
    ff_state *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ENOMEM, "flipflop: out of memory");
    s->K = (int)K;
    s->T = (int)T;
    s->p = p;
    s->dt = dt;
    s->start_pulse = sl_config_bool(c, "task.start_pulse");
    s->names = calloc((size_t)K, sizeof *s->names);
    s->name_ptr = calloc((size_t)K, sizeof *s->name_ptr);
    if (!s->names || !s->name_ptr) {
        ff_destroy(s);
        return sl_fail(SL_ENOMEM, "flipflop: out of memory");
    }
    for (int k = 0; k < s->K; k++) {
        snprintf(s->names[k], sizeof s->names[k], "bit%d", k);
        s->name_ptr[k] = s->names[k];
    }
    memset(shape, 0, sizeof *shape);
    shape->n_obs = s->K;
    shape->n_out = s->K;
    shape->classification = 0;
    shape->T_max = s->T;
    shape->obs_names = s->name_ptr;
    shape->out_names = s->name_ptr;
    shape->dt = dt;
    *state = s;
    return SL_OK;
}

static sl_status ff_new_trial(void *state, sl_trial *t)
{
    const ff_state *s = state;
    const int K = s->K, T = s->T;
    if (t->n_obs != K || t->n_out != K || t->classification || t->T_cap < T)
        return sl_fail(SL_EINVAL, "flipflop: trial buffers do not match the task's shape");
    sl_status st = sl_trial_add_period(t, "trial", T * s->dt, NULL);
    if (st) return st;
    if (t->T != T)
        return sl_fail(SL_EINVAL, "flipflop: a trial of %d steps of %g ms came out as %d steps",
                       T, s->dt, t->T);
    int counts[64] = {0};
    float held[64] = {0};
    for (int ti = 0; ti < T; ti++) {
        for (int k = 0; k < K; k++) {
            int pulse = (ti == 0 && s->start_pulse) ? 1 : sl_rng_uniform(t->rng) < s->p;
            float v = 0.0f;
            if (pulse) {
                v = sl_rng_uniform(t->rng) < 0.5 ? -1.0f : 1.0f;
                held[k] = v;
                counts[k]++;
            }
            t->ob[(size_t)ti * K + k] = v;
            t->y[(size_t)ti * K + k] = held[k];
        }
    }
    for (int k = 0; k < K && k < SL_TRIAL_MAX_VARS; k++) {
        char name[SL_TRIAL_NAME];
        snprintf(name, sizeof name, "pulses_bit%d", k);
        sl_trial_set_var(t, name, counts[k]);
    }
    return SL_OK;
}

const sl_taskgen sl_task_flipflop = {
    .name = "flipflop",
    .description = "K-bit flip-flop memory (Sussillo & Barak 2013; FixedPointFinder's "
                   "FlipFlopData): hold the sign of each bit's last pulse",
    .create = ff_create,
    .new_trial = ff_new_trial,
    .score = NULL,
    .score_name = NULL,
    .destroy = ff_destroy,
};
