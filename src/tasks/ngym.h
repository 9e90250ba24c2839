/* ngym.h — what the NeuroGym-style generators (pdm, dms, ddms, ctxdm,
 * ctxdm_mante, gonogo, rsg) share: their default dt, timing tables with the
 * task.timing overrides, coherence lists, and channel-name storage.
 *
 * Timing rules (checked once, at create):
 *   - task.timing = "period=ms,period=ms,..." replaces the named periods'
 *     durations by fixed values (floored to dt when a trial is built, as
 *     NeuroGym floors every sampled duration). A name the task does not have,
 *     a negative or non-finite value, or text that is not "name=number" is
 *     SL_EINVAL naming the task and its periods.
 *   - a period whose shortest possible duration is positive but shorter than
 *     dt (so it would vanish when floored) is SL_EINVAL ("dt larger than a
 *     period"); a labelled period (decision, test, ...) must last at least
 *     one step in every trial. Periods that are 0 by definition (PDM's
 *     delay, GoNogo's fixation) are allowed. */
#ifndef SL_TASKS_NGYM_H
#define SL_TASKS_NGYM_H

#include "tasks/trial.h"

typedef struct {
    const char *name;
    sl_duration dur;
    int required; /* must last >= 1 step (a labelled period) */
} sl_ngym_period;

/* The task's NeuroGym default dt unless the user set task.dt. */
double sl_ngym_dt(const sl_config *c, double default_dt);

/* Apply task.timing to p[0..n) and validate every period against dt.
 * task names the task in messages. */
sl_status sl_ngym_timing(const sl_config *c, const char *task, sl_ngym_period *p, int n,
                         double dt);

/* Shortest / longest duration of a period after flooring to dt (ms). */
double sl_ngym_min_ms(const sl_duration *d, double dt);
double sl_ngym_max_ms(const sl_duration *d, double dt);
/* The longest trial, in steps, of the n periods p back to back at dt. */
int sl_ngym_max_steps(const sl_ngym_period *p, int n, double dt);

/* Find a period in a table (NULL if absent). */
const sl_ngym_period *sl_ngym_find(const sl_ngym_period *p, int n, const char *name);

/* task.cohs, or def[0..n_def) when empty; returns the count (≤ max) or −1
 * with the error set when the list is longer than max. */
int sl_ngym_cohs(const sl_config *c, const char *task, const double *def, int n_def, double *out,
                 int max);

/* Channel / class names built at create time (dim_ring dependent). */
#define SL_NGYM_MAX_NAMES 64
typedef struct {
    int n;
    char buf[SL_NGYM_MAX_NAMES][SL_TRIAL_NAME];
    const char *ptr[SL_NGYM_MAX_NAMES];
} sl_ngym_names;

/* Append a name (printf-style); SL_EINVAL when full. */
sl_status sl_ngym_name(sl_ngym_names *nm, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Sample a period's duration and append it (after NULL: after the last). */
sl_status sl_ngym_add(sl_trial *t, const sl_ngym_period *p, int n, const char *name,
                      const char *after);

/* The generators of this family. */
extern const sl_taskgen sl_task_pdm;
extern const sl_taskgen sl_task_dms;
extern const sl_taskgen sl_task_ddms;
extern const sl_taskgen sl_task_ctxdm;
extern const sl_taskgen sl_task_ctxdm_mante;
extern const sl_taskgen sl_task_gonogo;
extern const sl_taskgen sl_task_rsg;

#endif
