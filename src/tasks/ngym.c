/* ngym.c — shared helpers of the NeuroGym-style generators (see ngym.h):
 * default dt, the task.timing override parser and period validation,
 * coherence lists and channel-name storage. */
#include "tasks/ngym.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double sl_ngym_dt(const sl_config *c, double default_dt)
{
    return sl_config_is_set(c, "task.dt") ? sl_config_real(c, "task.dt") : default_dt;
}

/* floor(ms/dt)·dt with a tolerance for ms that are multiples of dt up to
 * rounding (the durations are in whole ms in practice). */
static double floor_dt(double ms, double dt)
{
    return floor(ms / dt + 1e-9) * dt;
}

static double raw_min(const sl_duration *d)
{
    switch (d->kind) {
    case SL_DUR_FIXED: return d->a;
    case SL_DUR_UNIFORM: return d->a < d->b ? d->a : d->b;
    case SL_DUR_TRUNCEXP: return d->b;
    case SL_DUR_CHOICE: {
        double m = INFINITY;
        for (int i = 0; i < d->n_choices; i++)
            if (d->choices[i] < m) m = d->choices[i];
        return d->n_choices > 0 ? m : 0.0;
    }
    }
    return 0.0;
}

static double raw_max(const sl_duration *d)
{
    switch (d->kind) {
    case SL_DUR_FIXED: return d->a;
    case SL_DUR_UNIFORM: return d->a > d->b ? d->a : d->b;
    case SL_DUR_TRUNCEXP: return d->c;
    case SL_DUR_CHOICE: {
        double m = 0.0;
        for (int i = 0; i < d->n_choices; i++)
            if (d->choices[i] > m) m = d->choices[i];
        return m;
    }
    }
    return 0.0;
}

double sl_ngym_min_ms(const sl_duration *d, double dt)
{
    return floor_dt(raw_min(d), dt);
}

double sl_ngym_max_ms(const sl_duration *d, double dt)
{
    return floor_dt(raw_max(d), dt);
}

const sl_ngym_period *sl_ngym_find(const sl_ngym_period *p, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(p[i].name, name) == 0) return &p[i];
    return NULL;
}

/* "fixation, stimulus, delay, decision" for messages. */
static void period_list(const sl_ngym_period *p, int n, char *buf, size_t cap)
{
    buf[0] = '\0';
    size_t len = 0;
    for (int i = 0; i < n && len + 1 < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", p[i].name);
        if (w < 0) break;
        len += (size_t)w;
    }
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

sl_status sl_ngym_timing(const sl_config *c, const char *task, sl_ngym_period *p, int n, double dt)
{
    char names[512];
    period_list(p, n, names, sizeof names);
    if (!(dt > 0) || !isfinite(dt))
        return sl_fail(SL_EINVAL, "%s: task.dt must be a positive number of ms (got %g)", task, dt);

    const char *spec = c ? sl_config_str(c, "task.timing") : "";
    if (spec && *spec) {
        char *buf = strdup(spec);
        if (!buf) return sl_fail(SL_ENOMEM, "%s: out of memory parsing task.timing", task);
        sl_status st = SL_OK;
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *item = trim(tok);
            if (!*item) continue;
            char *eq = strchr(item, '=');
            if (!eq) {
                st = sl_fail(SL_EINVAL,
                             "%s: task.timing: '%s' is not 'period=ms' (periods: %s)", task,
                             item, names);
                break;
            }
            *eq = '\0';
            char *name = trim(item), *val = trim(eq + 1);
            sl_ngym_period *per = NULL;
            for (int i = 0; i < n; i++)
                if (strcmp(p[i].name, name) == 0) per = &p[i];
            if (!per) {
                st = sl_fail(SL_EINVAL, "%s: task.timing: unknown period '%s' (periods: %s)", task,
                             name, names);
                break;
            }
            char *end = NULL;
            errno = 0;
            double ms = strtod(val, &end);
            if (!*val || end == val || *trim(end) != '\0' || errno == ERANGE || !isfinite(ms)) {
                st = sl_fail(SL_EINVAL, "%s: task.timing: period '%s': '%s' is not a duration in ms",
                             task, name, val);
                break;
            }
            if (ms < 0) {
                st = sl_fail(SL_EINVAL,
                             "%s: task.timing: period '%s' has a negative duration (%g ms)", task,
                             name, ms);
                break;
            }
            per->dur = (sl_duration){.kind = SL_DUR_FIXED, .a = ms};
        }
        free(buf);
        if (st != SL_OK) return st;
    }

    for (int i = 0; i < n; i++) {
        double lo = raw_min(&p[i].dur);
        if (lo < 0)
            return sl_fail(SL_EINVAL, "%s: period '%s' has a negative duration (%g ms)", task,
                           p[i].name, lo);
        double lo_f = sl_ngym_min_ms(&p[i].dur, dt);
        if (lo > 0 && lo_f <= 0)
            return sl_fail(SL_EINVAL,
                           "%s: dt (%g ms) is larger than period '%s' (%g ms): it would last 0 "
                           "steps; lower task.dt or lengthen the period in task.timing",
                           task, dt, p[i].name, lo);
        if (p[i].required && lo_f <= 0)
            return sl_fail(SL_EINVAL,
                           "%s: period '%s' is labelled and must last at least one step "
                           "(dt %g ms), but it is %g ms",
                           task, p[i].name, dt, lo);
    }
    return SL_OK;
}

int sl_ngym_cohs(const sl_config *c, const char *task, const double *def, int n_def, double *out,
                 int max)
{
    int n = c ? sl_config_list(c, "task.cohs", out, max) : 0;
    if (n > max) {
        sl_fail(SL_EINVAL, "%s: task.cohs has %d values (at most %d)", task, n, max);
        return -1;
    }
    if (n > 0) return n;
    if (n_def > max) n_def = max;
    for (int i = 0; i < n_def; i++) out[i] = def[i];
    return n_def;
}

sl_status sl_ngym_name(sl_ngym_names *nm, const char *fmt, ...)
{
    if (nm->n >= SL_NGYM_MAX_NAMES)
        return sl_fail(SL_EINVAL, "too many channels (at most %d)", SL_NGYM_MAX_NAMES);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nm->buf[nm->n], SL_TRIAL_NAME, fmt, ap);
    va_end(ap);
    nm->ptr[nm->n] = nm->buf[nm->n];
    nm->n++;
    return SL_OK;
}

sl_status sl_ngym_add(sl_trial *t, const sl_ngym_period *p, int n, const char *name,
                      const char *after)
{
    const sl_ngym_period *per = sl_ngym_find(p, n, name);
    if (!per) return sl_fail(SL_EINVAL, "internal: no period '%s' in the timing table", name);
    double ms = sl_trial_sample(t, &per->dur);
    return sl_trial_add_period(t, name, ms, after);
}

int sl_ngym_max_steps(const sl_ngym_period *p, int n, double dt)
{
    double total = 0;
    for (int i = 0; i < n; i++) total += sl_ngym_max_ms(&p[i].dur, dt);
    return (int)lround(total / dt);
}
