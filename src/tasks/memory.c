/* memory.c — the lab's memorize/report task (task.name memory), exactly as
 * memory_task(seq_len, batch_size, n_repeat) of the lab's notebook
 * (shared/seeds/002_d374b47bfe8be98d.txt, "Training an LSTM to perform a
 * simple memory task").
 *
 * Channels: inputs "stream", "memorize", "report"; one continuous output
 * "value" (classification 0, n_out = 1).
 *
 * A trial is n_repeat = task.n_repeat sequences of the same length L, back
 * to back (sequence r covers steps [r·L, (r+1)·L)); T = n_repeat·L. In each
 * sequence, with h = floor(L/2):
 *   - stream (channel 0): every step of the sequence an independent
 *     uniform(−1, 1) number — including the memorize and report steps (the
 *     lab never zeroes it);
 *   - memorize (channel 1): 1 at one step m, uniform in {0, …, h−1}
 *     (np.random.randint(int(seq_len)/2): numpy truncates the float bound
 *     L/2, so m < floor(L/2)), 0 elsewhere;
 *   - report (channel 2): 1 at one step q, uniform in {h, …, L−2}
 *     (np.random.randint(int(seq_len)/2, seq_len-1): low floor(L/2), the
 *     exclusive high L−1, so the last step of a sequence never reports),
 *     0 elsewhere;
 *   - target: the stream value at the memorize step, stream[m], at the
 *     report step q, and 0 at every other step;
 *   - loss mask 1 at every step (the lab's nn.MSELoss over all steps).
 * L needs ≥ 3 (for L = 2 the report range {1, …, 0} is empty).
 *
 * Length: L uniform in {task.min_len, …, task.max_len} (inclusive). The lab
 * draws seq_len = np.random.randint(5, 20), i.e. 5…19 — hence the defaults
 * 5 and 19 — once per batch, shared by the batch's trials and by the
 * n_repeat sequences (the lab trains with n_repeat = 3). Here L is drawn
 * once per trial (shared by its n_repeat sequences); with one trial per
 * row, padded with mask 0, each row's loss is the same as in a batch of its
 * own length, so per-trial sampling trains on the same distribution of
 * sequences (the only difference: a batch's MSE weights rows by length).
 * task.min_len = task.max_len = L fixes the length (any L ≥ 3, e.g. 300 for
 * the generalisation curve).
 *
 * Random draws from the trial's rng, per trial: L (one sl_rng_below), then
 * per sequence: L stream values (−1 + 2u), m, q.
 *
 * Periods: "seq0", "seq1", … (one per sequence) when n_repeat ≤ 16, else one
 * period "sequences" spanning the trial. Trial variables: "length" (L) and,
 * for the first 5 sequences r, "memorize_step", "report_step", "value"
 * (r = 0) and "memorize_step_r", "report_step_r", "value_r" (r ≥ 1), the
 * steps counted from the start of the trial.
 */
#include "tasks/trial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define MEM_VAR_SEQS 5 /* 1 + 3·5 = 16 = SL_TRIAL_MAX_VARS */

typedef struct {
    int min_len, max_len, n_repeat;
    double dt;
} mem_state;

static const char *const MEM_OBS[] = {"stream", "memorize", "report"};
static const char *const MEM_OUT[] = {"value"};

static sl_status mem_create(const sl_config *c, void **state, sl_taskgen_shape *shape)
{
    *state = NULL;
    long lo = sl_config_int(c, "task.min_len"), hi = sl_config_int(c, "task.max_len");
    long nr = sl_config_int(c, "task.n_repeat");
    double dt = sl_config_real(c, "task.dt");
    if (lo < 3)
        return sl_fail(SL_EINVAL,
                       "memory: task.min_len = %ld: a sequence needs at least 3 steps (memorize "
                       "in the first half, report in the second half before the last step)",
                       lo);
    if (hi < lo)
        return sl_fail(SL_EINVAL, "memory: task.max_len = %ld is shorter than task.min_len = %ld",
                       hi, lo);
    if (nr < 1) return sl_fail(SL_EINVAL, "memory: task.n_repeat must be >= 1, got %ld", nr);
    if ((double)hi * (double)nr > 1e8)
        return sl_fail(SL_EINVAL,
                       "memory: task.max_len x task.n_repeat = %ld x %ld steps is too long "
                       "(at most 1e8)",
                       hi, nr);
    if (!(dt > 0) || !isfinite(dt))
        return sl_fail(SL_EINVAL, "memory: task.dt must be a positive number of ms, got %g", dt);
    mem_state *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ENOMEM, "memory: out of memory");
    s->min_len = (int)lo;
    s->max_len = (int)hi;
    s->n_repeat = (int)nr;
    s->dt = dt;
    shape->n_obs = 3;
    shape->n_out = 1;
    shape->classification = 0;
    shape->T_max = s->max_len * s->n_repeat;
    shape->obs_names = MEM_OBS;
    shape->out_names = MEM_OUT;
    shape->dt = dt;
    *state = s;
    return SL_OK;
}

static sl_status mem_new_trial(void *state, sl_trial *t)
{
    const mem_state *s = state;
    const int L = s->min_len + (int)sl_rng_below(t->rng, (uint64_t)(s->max_len - s->min_len + 1));
    const int R = s->n_repeat, T = L * R;
    if (t->n_obs != 3 || t->n_out != 1 || t->classification || t->T_cap < T)
        return sl_fail(SL_EINVAL, "memory: trial buffers do not match the task's shape");
    sl_status st = SL_OK;
    if (R <= SL_TRIAL_MAX_PERIODS) {
        for (int r = 0; r < R && !st; r++) {
            char name[SL_TRIAL_NAME];
            snprintf(name, sizeof name, "seq%d", r);
            st = sl_trial_add_period(t, name, L * s->dt, NULL);
        }
    } else {
        st = sl_trial_add_period(t, "sequences", T * s->dt, NULL);
    }
    if (st) return st;
    if (t->T != T)
        return sl_fail(SL_EINVAL, "memory: a trial of %d steps of %g ms came out as %d steps", T,
                       s->dt, t->T);
    sl_trial_set_var(t, "length", L);
    const int h = L / 2;
    for (int r = 0; r < R; r++) {
        const int t0 = r * L;
        for (int i = 0; i < L; i++) {
            float *o = t->ob + (size_t)(t0 + i) * 3;
            o[0] = (float)(-1.0 + 2.0 * sl_rng_uniform(t->rng));
            o[1] = 0.0f;
            o[2] = 0.0f;
            t->y[t0 + i] = 0.0f;
        }
        const int m = (int)sl_rng_below(t->rng, (uint64_t)h);
        const int q = h + (int)sl_rng_below(t->rng, (uint64_t)(L - 1 - h));
        const float v = t->ob[(size_t)(t0 + m) * 3];
        t->ob[(size_t)(t0 + m) * 3 + 1] = 1.0f;
        t->ob[(size_t)(t0 + q) * 3 + 2] = 1.0f;
        t->y[t0 + q] = v;
        if (r < MEM_VAR_SEQS) {
            char a[SL_TRIAL_NAME], b[SL_TRIAL_NAME], cname[SL_TRIAL_NAME];
            if (r == 0) {
                snprintf(a, sizeof a, "memorize_step");
                snprintf(b, sizeof b, "report_step");
                snprintf(cname, sizeof cname, "value");
            } else {
                snprintf(a, sizeof a, "memorize_step_%d", r);
                snprintf(b, sizeof b, "report_step_%d", r);
                snprintf(cname, sizeof cname, "value_%d", r);
            }
            sl_trial_set_var(t, a, t0 + m);
            sl_trial_set_var(t, b, t0 + q);
            sl_trial_set_var(t, cname, v);
        }
    }
    return SL_OK;
}

const sl_taskgen sl_task_memory = {
    .name = "memory",
    .description = "memorize/report (the lab's LSTM exercise): report the stream value seen at "
                   "the memorize pulse when the report pulse comes",
    .create = mem_create,
    .new_trial = mem_new_trial,
    .score = NULL,
    .score_name = NULL,
    .destroy = free, /* the state is one allocation */
};
