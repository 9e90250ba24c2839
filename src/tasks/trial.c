/* trial.c — the period algebra of trial-based tasks (trial.h): durations
 * floored to dt, periods chained in ms and cut into steps, observations
 * written per period and channel, labels, targets, masks, decisions and
 * trial variables, with every misuse recorded for sl_trial_check.
 *
 * Semantics (NeuroGym's TrialEnv, REFERENCE.md §2.1):
 *   sampled duration  d ← ⌊d/dt⌋·dt
 *   period            start = end of `after` (or of the last period), end = start + d,
 *                     steps [⌊start/dt⌋, ⌊end/dt⌋), T = max end step
 *   add_ob / set_ob   ob[slice, channels] += v / = v
 *   add_randn         ob[s, c] += μ + σ·ξ, ξ ~ N(0,1) drawn step-major, channel-minor
 *   TruncExp(μ, a, b) X ~ Exp(mean μ) conditioned on a ≤ X < b, drawn by the
 *                     inverse CDF: X = a − μ·log(1 − u·(1 − e^{−(b−a)/μ})), u ~ U[0,1)
 *                     (NeuroGym redraws Exp(μ) until it lands in [a, b): the same
 *                     distribution); b ≤ a gives b.
 * Layouts: ob[t·n_obs + c], y[t·n_out + j], gt[t], mask[t], decision[t]. */
#include "tasks/trial.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Record the first misuse since sl_trial_begin. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static sl_status misuse(sl_trial *t, sl_status s, const char *fmt, ...)
{
    if (t->err == SL_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->err_msg, sizeof t->err_msg, fmt, ap);
        va_end(ap);
        t->err = s;
    }
    return s;
}

/* ⌊x/dt⌋, counting a quotient within 1e-9 below a whole number as that
 * number (so representation error in dt cannot lose a step). */
static double floor_steps(double x, double dt)
{
    double q = x / dt, k = floor(q);
    if (q - k > 1.0 - 1e-9) k += 1.0;
    return k;
}

sl_status sl_trial_init(sl_trial *t, double dt, int n_obs, int n_out, int classification,
                        int T_cap)
{
    if (!t) return sl_fail(SL_EINVAL, "sl_trial_init: trial is NULL");
    memset(t, 0, sizeof *t);
    if (!(dt > 0) || !isfinite(dt))
        return sl_fail(SL_EINVAL, "trial: dt must be a positive number of ms, got %g", dt);
    if (n_obs < 1 || n_out < 1 || T_cap < 1)
        return sl_fail(SL_EINVAL,
                       "trial: need at least one observation channel, one output and one step "
                       "(n_obs %d, n_out %d, T_max %d)",
                       n_obs, n_out, T_cap);
    t->dt = dt;
    t->n_obs = n_obs;
    t->n_out = n_out;
    t->classification = classification ? 1 : 0;
    t->T_cap = T_cap;
    size_t T = (size_t)T_cap;
    t->ob = calloc(T * (size_t)n_obs, sizeof *t->ob);
    t->gt = calloc(T, sizeof *t->gt);
    t->y = calloc(T * (size_t)n_out, sizeof *t->y);
    t->mask = calloc(T, sizeof *t->mask);
    t->decision = calloc(T, sizeof *t->decision);
    if (!t->ob || !t->gt || !t->y || !t->mask || !t->decision) {
        sl_trial_free(t);
        return sl_fail(SL_ENOMEM, "trial: out of memory (%d steps x %d channels)", T_cap, n_obs);
    }
    sl_trial_begin(t, NULL);
    return SL_OK;
}

void sl_trial_free(sl_trial *t)
{
    if (!t) return;
    free(t->ob);
    free(t->gt);
    free(t->y);
    free(t->mask);
    free(t->decision);
    t->ob = NULL;
    t->y = t->mask = NULL;
    t->gt = NULL;
    t->decision = NULL;
}

void sl_trial_begin(sl_trial *t, sl_rng *rng)
{
    size_t T = (size_t)t->T_cap;
    t->rng = rng;
    t->T = 0;
    t->n_periods = 0;
    t->n_vars = 0;
    t->err = SL_OK;
    t->err_msg[0] = 0;
    memset(t->ob, 0, T * (size_t)t->n_obs * sizeof *t->ob);
    memset(t->gt, 0, T * sizeof *t->gt);
    memset(t->y, 0, T * (size_t)t->n_out * sizeof *t->y);
    memset(t->decision, 0, T * sizeof *t->decision);
    for (size_t i = 0; i < T; i++) t->mask[i] = 1.0f;
}

/* ------------------------------------------------------------ durations */

double sl_trial_sample(sl_trial *t, const sl_duration *d)
{
    if (!d) {
        misuse(t, SL_EINVAL, "sl_trial_sample: duration is NULL");
        return 0;
    }
    double v = 0;
    switch (d->kind) {
    case SL_DUR_FIXED:
        v = d->a;
        break;
    case SL_DUR_CHOICE:
        if (!d->choices || d->n_choices < 1) {
            misuse(t, SL_EINVAL, "duration: a choice needs at least one value");
            return 0;
        }
        if (!t->rng) {
            misuse(t, SL_EINVAL, "duration: no random stream (sl_trial_begin with rng NULL)");
            return 0;
        }
        v = d->choices[sl_rng_below(t->rng, (uint64_t)d->n_choices)];
        break;
    case SL_DUR_UNIFORM:
        if (!t->rng) {
            misuse(t, SL_EINVAL, "duration: no random stream (sl_trial_begin with rng NULL)");
            return 0;
        }
        v = d->a + (d->b - d->a) * sl_rng_uniform(t->rng);
        break;
    case SL_DUR_TRUNCEXP: {
        double mu = d->a, lo = d->b, hi = d->c;
        if (!(mu > 0) || !isfinite(mu) || isnan(lo) || !isfinite(lo) || isnan(hi)) {
            misuse(t, SL_EINVAL,
                   "duration: TruncExp needs a positive finite mean and a finite minimum "
                   "(mean %g, min %g, max %g)",
                   mu, lo, hi);
            return 0;
        }
        if (lo >= hi) {
            v = hi;
            break;
        }
        if (!t->rng) {
            misuse(t, SL_EINVAL, "duration: no random stream (sl_trial_begin with rng NULL)");
            return 0;
        }
        double u = sl_rng_uniform(t->rng);
        double span = isinf(hi) ? 1.0 : -expm1(-(hi - lo) / mu); /* P(X < hi | X ≥ lo) */
        v = lo - mu * log1p(-u * span);
        if (v >= hi) v = nextafter(hi, lo); /* rounding: keep v < hi */
        break;
    }
    default:
        misuse(t, SL_EINVAL, "duration: unknown kind %d", (int)d->kind);
        return 0;
    }
    if (!isfinite(v)) {
        misuse(t, SL_EINVAL, "duration: sampled a non-finite duration (%g ms)", v);
        return 0;
    }
    return floor_steps(v, t->dt) * t->dt;
}

/* -------------------------------------------------------------- periods */

const sl_period *sl_trial_find(const sl_trial *t, const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < t->n_periods; i++)
        if (strcmp(t->period[i].name, name) == 0) return &t->period[i];
    return NULL;
}

sl_status sl_trial_add_period(sl_trial *t, const char *name, double duration_ms, const char *after)
{
    if (!name || !*name) return misuse(t, SL_EINVAL, "add_period: a period needs a name");
    if (strlen(name) >= SL_TRIAL_NAME)
        return misuse(t, SL_EINVAL, "add_period: period name '%s' is longer than %d characters",
                      name, SL_TRIAL_NAME - 1);
    if (sl_trial_find(t, name))
        return misuse(t, SL_EINVAL, "add_period: period '%s' added twice", name);
    if (t->n_periods >= SL_TRIAL_MAX_PERIODS)
        return misuse(t, SL_EINVAL, "add_period '%s': more than %d periods", name,
                      SL_TRIAL_MAX_PERIODS);
    if (!isfinite(duration_ms) || duration_ms < 0)
        return misuse(t, SL_EINVAL, "period '%s': duration must be a finite number >= 0 ms, got %g",
                      name, duration_ms);
    double start = 0;
    if (after) {
        const sl_period *p = sl_trial_find(t, after);
        if (!p)
            return misuse(t, SL_EINVAL, "period '%s': no period '%s' to start after", name, after);
        start = p->end_ms;
    } else if (t->n_periods > 0) {
        start = t->period[t->n_periods - 1].end_ms;
    }
    double end = start + duration_ms;
    double s = floor_steps(start, t->dt), e = floor_steps(end, t->dt);
    if (e > t->T_cap)
        return misuse(t, SL_EINVAL,
                      "period '%s' ends at %g ms = step %.0f, past the longest trial the task "
                      "allows (%d steps of %g ms)",
                      name, end, e, t->T_cap, t->dt);
    sl_period *p = &t->period[t->n_periods++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->start_ms = start;
    p->end_ms = end;
    p->start = (int)s;
    p->end = (int)e;
    if (p->end > t->T) t->T = p->end;
    return SL_OK;
}

/* The step slice of a period (NULL = whole trial); 0 (and a recorded
 * misuse) if the name is unknown. */
static int slice(sl_trial *t, const char *what, const char *period, int *s, int *e)
{
    if (!period) {
        *s = 0;
        *e = t->T;
        return 1;
    }
    const sl_period *p = sl_trial_find(t, period);
    if (!p) {
        misuse(t, SL_EINVAL, "%s: the trial has no period '%s'", what, period);
        return 0;
    }
    *s = p->start;
    *e = p->end;
    return 1;
}

static int channels(sl_trial *t, const char *what, int channel, int n, int *c0, int *c1)
{
    if (channel == -1) {
        *c0 = 0;
        *c1 = n;
        return 1;
    }
    if (channel < 0 || channel >= n) {
        misuse(t, SL_EINVAL, "%s: channel %d out of range [0, %d)", what, channel, n);
        return 0;
    }
    *c0 = channel;
    *c1 = channel + 1;
    return 1;
}

/* --------------------------------------------------------- observations */

static void write_ob(sl_trial *t, const char *what, float value, const char *period, int channel,
                     int set)
{
    int s, e, c0, c1;
    if (!slice(t, what, period, &s, &e) || !channels(t, what, channel, t->n_obs, &c0, &c1)) return;
    for (int k = s; k < e; k++) {
        float *row = t->ob + (size_t)k * t->n_obs;
        for (int c = c0; c < c1; c++) row[c] = set ? value : row[c] + value;
    }
}

void sl_trial_add_ob(sl_trial *t, float value, const char *period, int channel)
{
    write_ob(t, "add_ob", value, period, channel, 0);
}

void sl_trial_set_ob(sl_trial *t, float value, const char *period, int channel)
{
    write_ob(t, "set_ob", value, period, channel, 1);
}

void sl_trial_add_randn(sl_trial *t, float mu, float sigma, const char *period, int channel)
{
    int s, e, c0, c1;
    if (!slice(t, "add_randn", period, &s, &e) ||
        !channels(t, "add_randn", channel, t->n_obs, &c0, &c1))
        return;
    if (!t->rng) {
        misuse(t, SL_EINVAL, "add_randn: no random stream (sl_trial_begin with rng NULL)");
        return;
    }
    for (int k = s; k < e; k++) {
        float *row = t->ob + (size_t)k * t->n_obs;
        for (int c = c0; c < c1; c++)
            row[c] = (float)((double)row[c] + (double)mu + (double)sigma * sl_rng_normal(t->rng));
    }
}

/* -------------------------------------------------- labels and targets */

void sl_trial_set_gt(sl_trial *t, int label, const char *period)
{
    if (!t->classification) {
        misuse(t, SL_EINVAL, "set_gt: the task has continuous targets (use sl_trial_set_y)");
        return;
    }
    if (label < 0 || label >= t->n_out) {
        misuse(t, SL_EINVAL, "set_gt: label %d out of range [0, %d)", label, t->n_out);
        return;
    }
    int s, e;
    if (!slice(t, "set_gt", period, &s, &e)) return;
    for (int k = s; k < e; k++) t->gt[k] = label;
}

void sl_trial_set_y(sl_trial *t, float value, const char *period, int channel)
{
    if (t->classification) {
        misuse(t, SL_EINVAL, "set_y: the task is a classification task (use sl_trial_set_gt)");
        return;
    }
    int s, e, c0, c1;
    if (!slice(t, "set_y", period, &s, &e) || !channels(t, "set_y", channel, t->n_out, &c0, &c1))
        return;
    for (int k = s; k < e; k++)
        for (int c = c0; c < c1; c++) t->y[(size_t)k * t->n_out + c] = value;
}

void sl_trial_set_mask(sl_trial *t, float value, const char *period)
{
    int s, e;
    if (!slice(t, "set_mask", period, &s, &e)) return;
    for (int k = s; k < e; k++) t->mask[k] = value;
}

void sl_trial_decision(sl_trial *t, const char *period, int step)
{
    if (!period) {
        if (step < 0 || step >= t->T) {
            misuse(t, SL_EINVAL, "decision: step %d outside the trial [0, %d)", step, t->T);
            return;
        }
        t->decision[step] = 1;
        return;
    }
    int s, e;
    if (!slice(t, "decision", period, &s, &e)) return;
    if (e > s) t->decision[e - 1] = 1;
}

/* ------------------------------------------------------------ variables */

void sl_trial_set_var(sl_trial *t, const char *name, double value)
{
    if (!name || !*name || strlen(name) >= SL_TRIAL_NAME) {
        misuse(t, SL_EINVAL, "set_var: a variable needs a name of 1 to %d characters",
               SL_TRIAL_NAME - 1);
        return;
    }
    for (int i = 0; i < t->n_vars; i++)
        if (strcmp(t->var[i].name, name) == 0) {
            t->var[i].value = value;
            return;
        }
    if (t->n_vars >= SL_TRIAL_MAX_VARS) {
        misuse(t, SL_EINVAL, "set_var '%s': more than %d trial variables", name, SL_TRIAL_MAX_VARS);
        return;
    }
    sl_trial_var *v = &t->var[t->n_vars++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->value = value;
}

double sl_trial_get_var(const sl_trial *t, const char *name)
{
    if (name)
        for (int i = 0; i < t->n_vars; i++)
            if (strcmp(t->var[i].name, name) == 0) return t->var[i].value;
    return NAN;
}

sl_status sl_trial_check(const sl_trial *t)
{
    if (!t) return sl_fail(SL_EINVAL, "sl_trial_check: trial is NULL");
    if (t->err != SL_OK) return sl_fail(t->err, "%s", t->err_msg);
    return SL_OK;
}
