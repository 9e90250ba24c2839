/* test_ngym_tasks.c — the NeuroGym-style trial generators (src/tasks/pdm.c,
 * dms.c, ddms.c, ctxdm.c, ctxdm_mante.c, gonogo.c, rsg.c), driven directly
 * through sl_trial_init + sl_trial_begin + gen->new_trial.
 *
 * Per task, for fixed seeds:
 *   - period boundaries at the default dt (PDM 22 steps, DMS 32, DDMS 40,
 *     GoNogo 15, RSG 32..56, CDM 14..40) and the trial-length distribution
 *     over 2000 trials (min/max/mean);
 *   - every observation channel at every step against an independent
 *     re-statement of the task (σ = 0), in NeuroGym v1 and v2 semantics;
 *   - noise: ob(σ) − ob(σ = 0) for the same seed (noise draws are taken even at
 *     σ = 0, so the two runs see the same trials) is exactly 0 off the noisy
 *     (period, channel) pairs and has mean ≈ 0, std ≈ σ/√dt on them;
 *   - labels and decision steps; class balance over 10,000 trials (±3 points);
 *   - bad parameters (negative durations, unknown period names, malformed
 *     task.timing, dt larger than a period, a zero-length labelled period);
 *   - the score callbacks (ReadySetGo interval error, Mante sign accuracy);
 *   - golden .npy files (tests/golden/tasks/<variant>/) of 3 trials for seeds
 *     1 and 2, compared bit for bit. Regenerate them (only when a task is
 *     meant to change) with SILICO_GOLDEN_WRITE=1 build/tests/run
 *     --filter 'ngym_golden/ob_and_labels_bit_exact' (from the repository root). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "silico.h"
#include "tasks/ngym.h"
#include "testutil.h"

/* ------------------------------------------------------------- helpers */

typedef struct {
    const sl_taskgen *gen;
    void *state;
    sl_taskgen_shape shape;
    sl_trial t;
    sl_rng rng;
} ng_env;

static sl_config *ng_vconfig(const char *first, va_list ap)
{
    sl_config *c = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK, "sl_config_new: %s", sl_last_error());
    for (const char *o = first; o; o = va_arg(ap, const char *))
        cr_assert_eq(sl_config_override(c, o), SL_OK, "override %s: %s", o, sl_last_error());
    return c;
}

/* Create generator g with "key=value" overrides (NULL-terminated). */
static void ng_open(ng_env *e, const sl_taskgen *g, uint64_t seed, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    sl_config *c = ng_vconfig(first, ap);
    va_end(ap);
    memset(e, 0, sizeof *e);
    e->gen = g;
    sl_status st = g->create(c, &e->state, &e->shape);
    cr_assert_eq(st, SL_OK, "%s create: %s", g->name, sl_last_error());
    sl_config_free(c);
    cr_assert_eq(sl_trial_init(&e->t, e->shape.dt, e->shape.n_obs, e->shape.n_out,
                               e->shape.classification, e->shape.T_max),
                 SL_OK, "sl_trial_init: %s", sl_last_error());
    sl_rng_seed(&e->rng, seed);
}

static const sl_trial *ng_next(ng_env *e)
{
    sl_trial_begin(&e->t, &e->rng);
    sl_status st = e->gen->new_trial(e->state, &e->t);
    cr_assert_eq(st, SL_OK, "%s new_trial: %s", e->gen->name, sl_last_error());
    cr_assert_leq(e->t.T, e->shape.T_max);
    return &e->t;
}

static void ng_close(ng_env *e)
{
    sl_trial_free(&e->t);
    e->gen->destroy(e->state);
}

/* Creating g with the overrides fails with SL_EINVAL and a message holding frag. */
static void ng_expect_fail(const sl_taskgen *g, const char *frag, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    sl_config *c = ng_vconfig(first, ap);
    va_end(ap);
    void *state = NULL;
    sl_taskgen_shape shape;
    sl_clear_error();
    sl_status st = g->create(c, &state, &shape);
    sl_config_free(c);
    if (st == SL_OK) g->destroy(state);
    cr_assert_eq(st, SL_EINVAL, "%s: expected failure containing '%s', got %s", g->name, frag,
                 sl_status_str(st));
    cr_assert(strstr(sl_last_error(), frag), "%s: message '%s' lacks '%s'", g->name,
              sl_last_error(), frag);
}

static const sl_period *P(const sl_trial *t, const char *name)
{
    const sl_period *p = sl_trial_find(t, name);
    cr_assert_not_null(p, "no period %s", name);
    return p;
}

static int in_p(const sl_trial *t, const char *name, int s)
{
    const sl_period *p = sl_trial_find(t, name);
    return p && s >= p->start && s < p->end;
}

static void expect_period(const sl_trial *t, const char *name, int start, int end)
{
    const sl_period *p = P(t, name);
    cr_assert(p->start == start && p->end == end, "period %s: [%d, %d), expected [%d, %d)", name,
              p->start, p->end, start, end);
}

static float OB(const sl_trial *t, int s, int c)
{
    return t->ob[(size_t)s * t->n_obs + c];
}

static double V(const sl_trial *t, const char *name)
{
    double v = sl_trial_get_var(t, name);
    cr_assert(!isnan(v), "trial variable %s missing", name);
    return v;
}

#define NEAR(a, b, what, s, c)                                                                  \
    cr_assert(fabs((double)(a) - (double)(b)) < 1e-6, "%s at step %d ch %d: %g, expected %g", \
              what, s, c, (double)(a), (double)(b))

static const double TWO_PI = 6.283185307179586476925286766559;

/* gt == label over period `lab` (NULL: none) and 0 elsewhere, except where a
 * second period lab2 holds label2; decisions exactly at the given steps. */
static void expect_labels(const sl_trial *t, const char *lab, int label, const char *lab2,
                          int label2)
{
    for (int s = 0; s < t->T; s++) {
        int want = 0;
        if (lab && in_p(t, lab, s)) want = label;
        if (lab2 && in_p(t, lab2, s)) want = label2;
        cr_assert_eq(t->gt[s], want, "gt at step %d: %d, expected %d", s, t->gt[s], want);
        int dec = (lab && s == P(t, lab)->end - 1) || (lab2 && s == P(t, lab2)->end - 1);
        cr_assert_eq(t->decision[s], dec, "decision at step %d", s);
    }
}

/* ------------------------------------------------------- per-task truth */

static void check_pdm(const sl_trial *t, int v2)
{
    int R = t->n_obs - 1, gt = (int)V(t, "ground_truth");
    double coh = V(t, "coh");
    cr_assert(gt >= 1 && gt <= R);
    for (int s = 0; s < t->T; s++) {
        float fix = v2 ? in_p(t, "fixation", s) : !in_p(t, "decision", s);
        cr_assert_eq(OB(t, s, 0), fix, "pdm fixation step %d", s);
        for (int i = 0; i < R; i++) {
            double want = in_p(t, "stimulus", s)
                              ? 0.5 + coh / 200 * cos(TWO_PI * i / R - TWO_PI * (gt - 1) / R)
                              : 0.0;
            NEAR(OB(t, s, 1 + i), want, "pdm ring", s, 1 + i);
        }
    }
    expect_labels(t, "decision", gt, NULL, 0);
}

static void check_dms(const sl_trial *t)
{
    int R = t->n_obs - 1, gt = (int)V(t, "ground_truth"), smp = (int)V(t, "sample");
    cr_assert(gt == 1 || gt == 2);
    double ths = TWO_PI * smp / R, tht = gt == 1 ? ths : ths + TWO_PI / 2;
    cr_assert(fabs(V(t, "test") * TWO_PI / R - fmod(tht, TWO_PI)) < 1e-9);
    for (int s = 0; s < t->T; s++) {
        cr_assert_eq(OB(t, s, 0), in_p(t, "decision", s) ? 0.0f : 1.0f, "dms fixation %d", s);
        for (int i = 0; i < R; i++) {
            double th = TWO_PI * i / R, want = 0;
            if (in_p(t, "sample", s)) want = 0.5 + 0.5 * cos(th - ths);
            if (in_p(t, "test", s)) want = 0.5 + 0.5 * cos(th - tht);
            NEAR(OB(t, s, 1 + i), want, "dms ring", s, 1 + i);
        }
    }
    expect_labels(t, "decision", gt, NULL, 0);
}

static void check_ddms(const sl_trial *t)
{
    int g1 = (int)V(t, "ground_truth1"), g2 = (int)V(t, "ground_truth2");
    int order = (int)V(t, "test_order");
    double s1 = V(t, "sample1"), s2 = V(t, "sample2");
    double t1 = g1 == 1 ? s1 : 0.5 - s1, t2 = g2 == 1 ? s2 : 0.5 - s2;
    cr_assert(V(t, "test1") == t1 && V(t, "test2") == t2);
    const char *tp1 = order ? "test2" : "test1", *tp2 = order ? "test1" : "test2";
    const char *cp1 = order ? "cue2" : "cue1", *cp2 = order ? "cue1" : "cue2";
    const double pi = TWO_PI / 2;
    for (int s = 0; s < t->T; s++) {
        double w[7] = {1, 0, 0, 0, 0, 0, 0};
        if (in_p(t, "sample", s)) {
            w[1] = cos(s1 * pi), w[2] = sin(s1 * pi), w[3] = cos(s2 * pi), w[4] = sin(s2 * pi);
        }
        if (in_p(t, tp1, s)) w[1] = cos(t1 * pi), w[2] = sin(t1 * pi);
        if (in_p(t, tp2, s)) w[3] = cos(t2 * pi), w[4] = sin(t2 * pi);
        if (in_p(t, cp1, s)) w[5] = 1;
        if (in_p(t, cp2, s)) w[6] = 1;
        for (int c = 0; c < 7; c++) NEAR(OB(t, s, c), w[c], "ddms", s, c);
    }
    expect_labels(t, tp1, g1, tp2, g2);
}

static void check_ctxdm(const sl_trial *t, int v2, int expl)
{
    int R = (t->n_obs - 1 - 2 * expl) / 2;
    int gt = (int)V(t, "ground_truth"), other = (int)V(t, "other_choice");
    int ctx = (int)V(t, "context");
    double c1 = V(t, "coh_1"), c2 = V(t, "coh_2");
    int ch1 = ctx == 0 ? gt : other, ch2 = ctx == 0 ? other : gt;
    cr_assert_eq(t->n_obs, 1 + 2 * R + 2 * expl);
    cr_assert(V(t, "signed_coh_1") == (ch1 == 1 ? c1 : -c1));
    for (int s = 0; s < t->T; s++) {
        int dec = in_p(t, "decision", s);
        float fix = v2 ? in_p(t, "fixation", s) : !dec;
        cr_assert_eq(OB(t, s, 0), fix, "ctxdm fixation step %d", s);
        for (int i = 0; i < R; i++) {
            double th = TWO_PI * i / R, w1 = 0, w2 = 0;
            if (in_p(t, "stimulus", s)) {
                w1 = 0.5 + c1 / 200 * cos(th - TWO_PI * (ch1 - 1) / R);
                w2 = 0.5 + c2 / 200 * cos(th - TWO_PI * (ch2 - 1) / R);
            }
            NEAR(OB(t, s, 1 + i), w1, "ctxdm mod1", s, 1 + i);
            NEAR(OB(t, s, 1 + R + i), w2, "ctxdm mod2", s, 1 + R + i);
        }
        if (expl) {
            cr_assert_eq(OB(t, s, 1 + 2 * R), ctx == 0 ? 1.0f : 0.0f, "context1 step %d", s);
            cr_assert_eq(OB(t, s, 2 + 2 * R), ctx == 1 ? 1.0f : 0.0f, "context2 step %d", s);
        }
    }
    expect_labels(t, "decision", gt, NULL, 0);
}

static void check_gonogo(const sl_trial *t)
{
    int gt = (int)V(t, "ground_truth");
    cr_assert(gt == 0 || gt == 1);
    for (int s = 0; s < t->T; s++) {
        int dec = in_p(t, "decision", s), stim = in_p(t, "stimulus", s);
        cr_assert_eq(OB(t, s, 0), dec ? 0.0f : 1.0f);
        cr_assert_eq(OB(t, s, 1), stim && gt == 0 ? 1.0f : 0.0f);
        cr_assert_eq(OB(t, s, 2), stim && gt == 1 ? 1.0f : 0.0f);
    }
    expect_labels(t, "decision", gt, NULL, 0);
    cr_assert_eq(t->decision[t->T - 1], 1, "a decision on every trial, no-go included");
}

/* RSG at dt 80: periods from the measure alone. */
static void check_rsg(const sl_trial *t)
{
    double measure = V(t, "measure");
    cr_assert_eq(V(t, "production"), measure);
    int m = (int)lround(measure / t->dt);
    cr_assert(fabs(m * t->dt - measure) < 1e-9, "measure %g not a multiple of dt", measure);
    expect_period(t, "fixation", 0, 1);
    expect_period(t, "ready", 1, 2);
    expect_period(t, "measure", 1, 1 + m);
    expect_period(t, "set", 1 + m, 2 + m);
    expect_period(t, "production", 2 + m, 2 + 3 * m);
    cr_assert_eq(t->T, 2 + 3 * m);
    for (int s = 0; s < t->T; s++) {
        cr_assert_eq(OB(t, s, 0), s < 2 + m ? 1.0f : 0.0f, "rsg fixation %d", s);
        cr_assert_eq(OB(t, s, 1), s == 1 ? 1.0f : 0.0f, "rsg ready %d", s);
        cr_assert_eq(OB(t, s, 2), s == 1 + m ? 1.0f : 0.0f, "rsg set %d", s);
        cr_assert_eq(t->gt[s], s == 2 + 2 * m ? 1 : 0, "rsg gt %d", s);
        cr_assert_eq(t->decision[s], 0);
    }
}

static void check_mante(const sl_trial *t, double gain)
{
    int ctx = (int)V(t, "context"), gt = (int)V(t, "ground_truth");
    double cm = V(t, "coh_motion"), cc = V(t, "coh_colour");
    double rel = ctx == 0 ? cm : cc;
    cr_assert_eq(gt, signbit(rel) ? 0 : 1);
    for (int s = 0; s < t->T; s++) {
        int stim = in_p(t, "stimulus", s), resp = in_p(t, "response", s);
        NEAR(OB(t, s, 0), stim ? gain * cm / 100 : 0.0, "mante motion", s, 0);
        NEAR(OB(t, s, 1), stim ? gain * cc / 100 : 0.0, "mante colour", s, 1);
        cr_assert_eq(OB(t, s, 2), ctx == 0 ? 1.0f : 0.0f);
        cr_assert_eq(OB(t, s, 3), ctx == 1 ? 1.0f : 0.0f);
        cr_assert_eq(t->y[s], resp ? (gt ? 1.0f : -1.0f) : 0.0f, "mante y %d", s);
        cr_assert_eq(t->mask[s], resp ? 1.0f : 0.0f, "mante mask %d", s);
        cr_assert_eq(t->decision[s], 0);
    }
}

/* ------------------------------------------------- structure (σ = 0) */

Test(ngym_pdm, structure_v1_v2)
{
    for (int v2 = 0; v2 <= 1; v2++) {
        ng_env e;
        ng_open(&e, &sl_task_pdm, 11, "task.sigma=0", v2 ? "task.ngym_compat=v2" : NULL, NULL);
        cr_assert_eq(e.shape.dt, 100.0);
        cr_assert_eq(e.shape.T_max, 22);
        cr_assert(e.shape.n_obs == 3 && e.shape.n_out == 3 && e.shape.classification == 1);
        cr_assert_str_eq(e.shape.out_names[1], "choice1");
        for (int k = 0; k < 200; k++) {
            const sl_trial *t = ng_next(&e);
            cr_assert_eq(t->T, 22);
            expect_period(t, "fixation", 0, 1);
            expect_period(t, "stimulus", 1, 21);
            expect_period(t, "delay", 21, 21);
            expect_period(t, "decision", 21, 22);
            check_pdm(t, v2);
        }
        ng_close(&e);
    }
    /* dim_ring 4, coherence 0 on every ring channel = 0.5 */
    ng_env e;
    ng_open(&e, &sl_task_pdm, 3, "task.sigma=0", "task.dim_ring=4", "task.cohs=0", NULL);
    cr_assert_eq(e.shape.n_obs, 5);
    for (int k = 0; k < 50; k++) {
        const sl_trial *t = ng_next(&e);
        check_pdm(t, 0);
        for (int c = 1; c < 5; c++) cr_assert_eq(OB(t, 5, c), 0.5f);
    }
    ng_close(&e);
}

Test(ngym_pdm, dt_override_and_flooring)
{
    /* task.dt set → used; 2000 ms at dt 300 floors to 1800 (6 steps), 100 ms
     * fixation is shorter than dt → error (checked in ngym_common) so lengthen it */
    ng_env e;
    ng_open(&e, &sl_task_pdm, 1, "task.dt=300", "task.timing=fixation=300,decision=300", NULL);
    cr_assert_eq(e.shape.dt, 300.0);
    const sl_trial *t = ng_next(&e);
    expect_period(t, "stimulus", 1, 7);
    cr_assert_eq(t->T, 8);
    ng_close(&e);
}

Test(ngym_dms, structure)
{
    ng_env e;
    ng_open(&e, &sl_task_dms, 12, "task.sigma=0", NULL);
    cr_assert_eq(e.shape.T_max, 32);
    for (int k = 0; k < 200; k++) {
        const sl_trial *t = ng_next(&e);
        cr_assert_eq(t->T, 32);
        expect_period(t, "fixation", 0, 3);
        expect_period(t, "sample", 3, 8);
        expect_period(t, "delay", 8, 18);
        expect_period(t, "test", 18, 23);
        expect_period(t, "decision", 23, 32);
        check_dms(t);
    }
    ng_close(&e);
    ng_open(&e, &sl_task_dms, 13, "task.sigma=0", "task.dim_ring=4", NULL);
    for (int k = 0; k < 100; k++) check_dms(ng_next(&e));
    ng_close(&e);
}

Test(ngym_ddms, structure)
{
    ng_env e;
    ng_open(&e, &sl_task_ddms, 14, "task.sigma=0", NULL);
    cr_assert_eq(e.shape.T_max, 40);
    cr_assert_eq(e.shape.n_obs, 7);
    static const char *const names[] = {"fixation", "sample", "delay1", "cue1",
                                        "test1",    "delay2", "cue2",   "test2"};
    int orders[2] = {0, 0};
    for (int k = 0; k < 300; k++) {
        const sl_trial *t = ng_next(&e);
        cr_assert_eq(t->T, 40);
        for (int i = 0; i < 8; i++) expect_period(t, names[i], 5 * i, 5 * i + 5);
        check_ddms(t);
        orders[(int)V(t, "test_order")]++;
        int n_dec = 0;
        for (int s = 0; s < t->T; s++) n_dec += t->decision[s];
        cr_assert_eq(n_dec, 2);
        cr_assert(t->decision[24] && t->decision[39]);
    }
    cr_assert(orders[0] > 0 && orders[1] > 0);
    ng_close(&e);
}

Test(ngym_ctxdm, structure_modes)
{
    for (int v2 = 0; v2 <= 1; v2++)
        for (int expl = 0; expl <= 1; expl++) {
            ng_env e;
            ng_open(&e, &sl_task_ctxdm, 15 + v2 * 2 + expl, "task.sigma=0",
                    v2 ? "task.ngym_compat=v2" : "task.ngym_compat=v1",
                    expl ? "task.context=explicit" : "task.context=implicit", NULL);
            cr_assert_eq(e.shape.n_obs, expl ? 7 : 5);
            cr_assert_eq(e.shape.n_out, 3);
            cr_assert_eq(e.shape.dt, 100.0);
            for (int k = 0; k < 200; k++) {
                const sl_trial *t = ng_next(&e);
                expect_period(t, "fixation", 0, 3);
                expect_period(t, "stimulus", 3, 10);
                int d = (int)lround(V(t, "delay") / 100);
                cr_assert(d >= 3 && d <= 29, "delay %d steps", d);
                expect_period(t, "delay", 10, 10 + d);
                expect_period(t, "decision", 10 + d, 11 + d);
                check_ctxdm(t, v2, expl);
                if (!expl) cr_assert_eq(V(t, "context"), 0);
            }
            ng_close(&e);
        }
    ng_env e;
    ng_open(&e, &sl_task_ctxdm, 19, "task.sigma=0", "task.context=implicit",
            "task.impl_context_modality=1", "task.dim_ring=3", NULL);
    cr_assert_eq(e.shape.n_obs, 7);
    cr_assert_eq(e.shape.n_out, 4);
    for (int k = 0; k < 100; k++) {
        const sl_trial *t = ng_next(&e);
        cr_assert_eq(V(t, "context"), 1);
        check_ctxdm(t, 0, 0);
    }
    ng_close(&e);
}

Test(ngym_gonogo, structure)
{
    ng_env e;
    ng_open(&e, &sl_task_gonogo, 20, NULL);
    cr_assert_eq(e.shape.T_max, 15);
    for (int k = 0; k < 200; k++) {
        const sl_trial *t = ng_next(&e);
        cr_assert_eq(t->T, 15);
        expect_period(t, "fixation", 0, 0);
        expect_period(t, "stimulus", 0, 5);
        expect_period(t, "delay", 5, 10);
        expect_period(t, "decision", 10, 15);
        check_gonogo(t);
    }
    ng_close(&e);
}

Test(ngym_rsg, structure)
{
    ng_env e;
    ng_open(&e, &sl_task_rsg, 21, NULL);
    cr_assert_eq(e.shape.dt, 80.0);
    cr_assert_eq(e.shape.T_max, 56);
    for (int k = 0; k < 300; k++) check_rsg(ng_next(&e));
    ng_close(&e);
}

Test(ngym_mante, structure)
{
    ng_env e;
    ng_open(&e, &sl_task_ctxdm_mante, 22, "task.sigma=0", NULL);
    cr_assert_eq(e.shape.dt, 10.0);
    cr_assert(e.shape.n_obs == 4 && e.shape.n_out == 1 && e.shape.classification == 0);
    cr_assert_eq(e.shape.T_max, 165);
    for (int k = 0; k < 300; k++) {
        const sl_trial *t = ng_next(&e);
        int f = (int)lround(V(t, "fixation") / 10);
        cr_assert(f >= 10 && f <= 29);
        expect_period(t, "fixation", 0, f);
        expect_period(t, "stimulus", f, f + 75);
        expect_period(t, "delay", f + 75, f + 105);
        expect_period(t, "response", f + 105, f + 135);
        double cm = fabs(V(t, "coh_motion"));
        cr_assert(cm == 0.9 || cm == 3.6 || cm == 15);
        check_mante(t, 20);
    }
    ng_close(&e);
    ng_open(&e, &sl_task_ctxdm_mante, 23, "task.sigma=0", "task.coh_gain=5", "task.cohs=0,50",
            NULL);
    for (int k = 0; k < 100; k++) check_mante(ng_next(&e), 5);
    ng_close(&e);
}

/* ------------------------------------------------------- lengths */

static void length_stats(const sl_taskgen *g, const char *o1, int n, int *mn, int *mx, double *mean)
{
    ng_env e;
    ng_open(&e, g, 99, o1, NULL);
    *mn = 1 << 30, *mx = 0;
    double sum = 0;
    for (int k = 0; k < n; k++) {
        int T = ng_next(&e)->T;
        if (T < *mn) *mn = T;
        if (T > *mx) *mx = T;
        sum += T;
    }
    *mean = sum / n;
    ng_close(&e);
}

Test(ngym_lengths, distributions)
{
    int mn, mx;
    double mean;
    /* CDM: 11 + ⌊TruncExp(600; 300, 3000)/100⌋ steps: E = 19.21, sd 5.26 */
    length_stats(&sl_task_ctxdm, NULL, 2000, &mn, &mx, &mean);
    cr_assert_eq(mn, 14);
    cr_assert(mx >= 30 && mx <= 40, "ctxdm max %d", mx);
    cr_assert(fabs(mean - 19.21) < 0.45, "ctxdm mean %g", mean);
    /* RSG: 2 + 3m, m = ⌊U(800,1500)/80⌋ ∈ 10..18: E = 43.66 */
    length_stats(&sl_task_rsg, NULL, 2000, &mn, &mx, &mean);
    cr_assert(mn == 32 && mx == 56, "rsg [%d, %d]", mn, mx);
    cr_assert(fabs(mean - 43.66) < 0.6, "rsg mean %g", mean);
    /* Mante: ⌊U(100,300)/10⌋ + 135 ∈ 145..164: E = 154.5 */
    length_stats(&sl_task_ctxdm_mante, NULL, 2000, &mn, &mx, &mean);
    cr_assert(mn == 145 && mx == 164, "mante [%d, %d]", mn, mx);
    cr_assert(fabs(mean - 154.5) < 0.5, "mante mean %g", mean);
    /* fixed-length tasks */
    length_stats(&sl_task_pdm, NULL, 100, &mn, &mx, &mean);
    cr_assert(mn == 22 && mx == 22);
    length_stats(&sl_task_dms, NULL, 100, &mn, &mx, &mean);
    cr_assert(mn == 32 && mx == 32);
    length_stats(&sl_task_ddms, NULL, 100, &mn, &mx, &mean);
    cr_assert(mn == 40 && mx == 40);
    length_stats(&sl_task_gonogo, NULL, 100, &mn, &mx, &mean);
    cr_assert(mn == 15 && mx == 15);
}

/* ------------------------------------------------------- noise */

typedef int (*noisy_fn)(const sl_trial *t, int s, int c);

static int noisy_pdm(const sl_trial *t, int s, int c) { return c >= 1 && in_p(t, "stimulus", s); }
static int noisy_dms(const sl_trial *t, int s, int c)
{
    return c >= 1 && (in_p(t, "sample", s) || in_p(t, "test", s));
}
static int noisy_ddms(const sl_trial *t, int s, int c)
{
    (void)c;
    return in_p(t, "sample", s) || in_p(t, "test1", s) || in_p(t, "test2", s);
}
static int noisy_ctxdm_v1(const sl_trial *t, int s, int c)
{
    (void)c;
    return in_p(t, "stimulus", s);
}
static int noisy_ctxdm_v2(const sl_trial *t, int s, int c)
{
    return c >= 1 && c <= t->n_obs - 1 - (t->n_obs == 7 ? 2 : 0) && in_p(t, "stimulus", s);
}
static int noisy_none(const sl_trial *t, int s, int c)
{
    (void)t, (void)s, (void)c;
    return 0;
}
static int noisy_mante(const sl_trial *t, int s, int c) { return c <= 1 && in_p(t, "stimulus", s); }

/* Residual ob(noisy config) − ob(σ = 0) over n trials of the same seed: exact
 * 0 where fn says no noise; per-channel mean ≈ 0 and std ≈ want_std elsewhere. */
static void check_noise(const sl_taskgen *g, const char *o1, const char *o2, noisy_fn fn,
                        double want_std, int n)
{
    ng_env a, b;
    ng_open(&a, g, 77, o1, o2, NULL);
    /* the last override wins: σ = 0 after o1, o2 (a NULL o1 ends the list) */
    ng_open(&b, g, 77, o1 ? o1 : "task.sigma=0", o1 && o2 ? o2 : "task.sigma=0", "task.sigma=0",
            NULL);
    int C = a.shape.n_obs;
    double sum[SL_NGYM_MAX_NAMES] = {0}, sq[SL_NGYM_MAX_NAMES] = {0}, cnt[SL_NGYM_MAX_NAMES] = {0};
    for (int k = 0; k < n; k++) {
        const sl_trial *ta = ng_next(&a), *tb = ng_next(&b);
        cr_assert_eq(ta->T, tb->T);
        for (int s = 0; s < ta->T; s++)
            for (int c = 0; c < C; c++) {
                double r = (double)OB(ta, s, c) - (double)OB(tb, s, c);
                if (!fn(ta, s, c)) {
                    cr_assert(r == 0.0, "%s: noise %g at step %d ch %d where there is none",
                              g->name, r, s, c);
                    continue;
                }
                sum[c] += r, sq[c] += r * r, cnt[c] += 1;
            }
    }
    for (int c = 0; c < C; c++) {
        if (cnt[c] == 0) continue;
        double mean = sum[c] / cnt[c], sd = sqrt(sq[c] / cnt[c] - mean * mean);
        cr_assert(fabs(mean) < 4 * want_std / sqrt(cnt[c]) + 1e-7, "%s ch %d noise mean %g",
                  g->name, c, mean);
        cr_assert(fabs(sd / want_std - 1) < 0.03, "%s ch %d noise std %g, expected %g", g->name,
                  c, sd, want_std);
    }
    ng_close(&a);
    ng_close(&b);
}

Test(ngym_noise, placement_and_std)
{
    check_noise(&sl_task_pdm, NULL, NULL, noisy_pdm, 0.1, 500);
    check_noise(&sl_task_pdm, "task.ngym_compat=v2", "task.sigma=2", noisy_pdm, 0.2, 500);
    check_noise(&sl_task_dms, NULL, NULL, noisy_dms, 0.1, 1000);
    check_noise(&sl_task_ddms, NULL, NULL, noisy_ddms, 0.1, 1000);
    check_noise(&sl_task_ctxdm, NULL, NULL, noisy_ctxdm_v1, 0.1, 1000);
    check_noise(&sl_task_ctxdm, "task.context=implicit", NULL, noisy_ctxdm_v1, 0.1, 1000);
    check_noise(&sl_task_ctxdm, "task.ngym_compat=v2", NULL, noisy_ctxdm_v2, 0.1, 1000);
    check_noise(&sl_task_ctxdm, "task.ngym_compat=v2", "task.context=implicit", noisy_ctxdm_v2,
                0.1, 1000);
    check_noise(&sl_task_gonogo, "task.sigma=5", NULL, noisy_none, 1, 100);
    check_noise(&sl_task_rsg, "task.sigma=5", NULL, noisy_none, 1, 100);
    /* Mante default σ = √10 → std 1 per step at dt 10; task.dt = 40 → 0.5 */
    check_noise(&sl_task_ctxdm_mante, NULL, NULL, noisy_mante, 1.0, 200);
    check_noise(&sl_task_ctxdm_mante, "task.dt=40", NULL, noisy_mante, 0.5, 500);
}

/* ------------------------------------------------------- class balance */

/* Over 10,000 trials, variable `var` takes only the k values vals[] and each
 * in a fraction within 0.03 of 1/k. */
static void balance(const sl_taskgen *g, const char *o1, const char *var, const double *vals,
                    int k)
{
    ng_env e;
    ng_open(&e, g, 4242, o1, NULL);
    const int n = 10000;
    int hist[64] = {0};
    for (int i = 0; i < n; i++) {
        double v = V(ng_next(&e), var);
        int b = 0;
        while (b < k && fabs(vals[b] - v) > 1e-9) b++;
        cr_assert(b < k, "%s: %s = %g is not one of its values", g->name, var, v);
        hist[b]++;
    }
    for (int b = 0; b < k; b++)
        cr_assert(fabs((double)hist[b] / n - 1.0 / k) < 0.03, "%s %s = %g: %d of %d trials",
                  g->name, var, vals[b], hist[b], n);
    ng_close(&e);
}

#define VALS(...) (const double[]){__VA_ARGS__}, (int)(sizeof((const double[]){__VA_ARGS__}) / sizeof(double))

Test(ngym_balance, pdm_dms)
{
    balance(&sl_task_pdm, NULL, "ground_truth", VALS(1, 2));
    balance(&sl_task_pdm, "task.dim_ring=4", "ground_truth", VALS(1, 2, 3, 4));
    balance(&sl_task_pdm, NULL, "coh", VALS(0, 6.4, 12.8, 25.6, 51.2));
    balance(&sl_task_pdm, "task.cohs=10,20", "coh", VALS(10, 20));
    balance(&sl_task_dms, NULL, "ground_truth", VALS(1, 2));
    balance(&sl_task_dms, NULL, "sample", VALS(0, 1));
}

Test(ngym_balance, ddms)
{
    balance(&sl_task_ddms, NULL, "ground_truth1", VALS(1, 2));
    balance(&sl_task_ddms, NULL, "ground_truth2", VALS(1, 2));
    balance(&sl_task_ddms, NULL, "test_order", VALS(0, 1));
    balance(&sl_task_ddms, NULL, "sample1", VALS(0, 0.5));
    balance(&sl_task_ddms, NULL, "sample2", VALS(0, 0.5));
    double cond[32];
    for (int i = 0; i < 32; i++) cond[i] = i;
    balance(&sl_task_ddms, NULL, "condition", cond, 32);
}

Test(ngym_balance, ctxdm_gonogo_rsg_mante)
{
    balance(&sl_task_ctxdm, NULL, "ground_truth", VALS(1, 2));
    balance(&sl_task_ctxdm, NULL, "other_choice", VALS(1, 2));
    balance(&sl_task_ctxdm, NULL, "context", VALS(0, 1));
    balance(&sl_task_ctxdm, NULL, "coh_1", VALS(5, 15, 50));
    balance(&sl_task_ctxdm, "task.context=implicit", "ground_truth", VALS(1, 2));
    balance(&sl_task_gonogo, NULL, "ground_truth", VALS(0, 1));
    /* RSG: measure = 80·⌊U(800,1500)/80⌋: 800..1360 each 80/700 of trials, 1440 60/700 */
    balance(&sl_task_rsg, "task.timing=measure=1000", "measure", VALS(960));
    balance(&sl_task_ctxdm_mante, NULL, "ground_truth", VALS(0, 1));
    balance(&sl_task_ctxdm_mante, NULL, "context", VALS(0, 1));
    balance(&sl_task_ctxdm_mante, NULL, "coh_colour", VALS(-15, -3.6, -0.9, 0.9, 3.6, 15));
}

Test(ngym_balance, rsg_measure)
{
    ng_env e;
    ng_open(&e, &sl_task_rsg, 5, NULL);
    const int n = 10000;
    int hist[9] = {0};
    for (int i = 0; i < n; i++) {
        int m = (int)lround(V(ng_next(&e), "measure") / 80) - 10;
        cr_assert(m >= 0 && m <= 8);
        hist[m]++;
    }
    for (int m = 0; m < 9; m++) {
        double want = (m < 8 ? 80.0 : 60.0) / 700;
        cr_assert(fabs((double)hist[m] / n - want) < 0.015, "measure %d: %d", 800 + 80 * m,
                  hist[m]);
    }
    ng_close(&e);
}

/* ------------------------------------------------------- bad parameters */

Test(ngym_common, bad_parameters)
{
    ng_expect_fail(&sl_task_pdm, "negative duration", "task.timing=delay=-100", NULL);
    ng_expect_fail(&sl_task_ddms, "negative duration", "task.timing=cue1=-1", NULL);
    ng_expect_fail(&sl_task_pdm, "unknown period 'foo'", "task.timing=foo=100", NULL);
    ng_expect_fail(&sl_task_pdm, "fixation, stimulus, delay, decision", "task.timing=test=100",
                   NULL);
    ng_expect_fail(&sl_task_dms, "not 'period=ms'", "task.timing=fixation", NULL);
    ng_expect_fail(&sl_task_dms, "not a duration", "task.timing=fixation=abc", NULL);
    ng_expect_fail(&sl_task_dms, "not a duration", "task.timing=fixation=", NULL);
    ng_expect_fail(&sl_task_gonogo, "not a duration", "task.timing=delay=inf", NULL);
    /* dt larger than a period */
    ng_expect_fail(&sl_task_pdm, "dt (200 ms) is larger than period 'fixation'", "task.dt=200",
                   NULL);
    ng_expect_fail(&sl_task_rsg, "larger than period 'ready'", "task.dt=90", NULL);
    ng_expect_fail(&sl_task_ctxdm, "larger than period", "task.dt=400", NULL);
    ng_expect_fail(&sl_task_ctxdm_mante, "larger than period 'fixation'", "task.dt=150", NULL);
    /* a labelled period of zero length */
    ng_expect_fail(&sl_task_pdm, "must last at least one step", "task.timing=decision=0", NULL);
    ng_expect_fail(&sl_task_ddms, "'test2'", "task.timing=test2=0", NULL);
    ng_expect_fail(&sl_task_rsg, "'measure'", "task.timing=measure=0", NULL);
    /* allowed: zero-length unlabelled periods, spaces, trailing commas */
    ng_env e;
    ng_open(&e, &sl_task_pdm, 1, "task.timing= fixation = 0 , stimulus=500,", NULL);
    const sl_trial *t = ng_next(&e);
    expect_period(t, "fixation", 0, 0);
    expect_period(t, "stimulus", 0, 5);
    cr_assert_eq(t->T, 6);
    ng_close(&e);
    ng_open(&e, &sl_task_ctxdm, 1, "task.timing=delay=450", NULL);
    t = ng_next(&e);
    expect_period(t, "delay", 10, 14); /* floored to 400 */
    cr_assert_eq(e.shape.T_max, 15);
    ng_close(&e);
}

/* ------------------------------------------------------- scores */

Test(ngym_rsg, score_interval_error)
{
    ng_env e;
    ng_open(&e, &sl_task_rsg, 8, NULL);
    const sl_trial *t = ng_next(&e);
    int m = (int)lround(V(t, "measure") / 80), p0 = 2 + m, T = t->T;
    sl_real *z = calloc((size_t)T * 2, sizeof *z);
    double sum = 0, cnt = 0;
    /* no response: 100 % */
    for (int s = 0; s < T; s++) z[2 * s] = 1;
    sl_task_rsg.score(e.state, t, z, &sum, &cnt);
    cr_assert(sum == 100 && cnt == 1);
    /* a "go" before production is ignored; go exactly at the pulse: 0 % */
    z[2 * 1 + 1] = 2;
    z[2 * (p0 + m) + 1] = 2;
    z[2 * (T - 1) + 1] = 2;
    sum = cnt = 0;
    sl_task_rsg.score(e.state, t, z, &sum, &cnt);
    cr_assert(sum == 0 && cnt == 1, "sum %g", sum);
    /* 2 steps early: 200/m % */
    z[2 * (p0 + m - 2) + 1] = 2;
    sum = cnt = 0;
    sl_task_rsg.score(e.state, t, z, &sum, &cnt);
    cr_assert(fabs(sum - 200.0 / m) < 1e-9, "sum %g", sum);
    /* ties (go == fixate) are not a response */
    for (int s = 0; s < T; s++) z[2 * s] = z[2 * s + 1] = 0;
    sum = cnt = 0;
    sl_task_rsg.score(e.state, t, z, &sum, &cnt);
    cr_assert(sum == 100);
    cr_assert_str_eq(sl_task_rsg.score_name, "interval_error_pct");
    free(z);
    ng_close(&e);
}

Test(ngym_mante, score_sign_accuracy)
{
    ng_env e;
    ng_open(&e, &sl_task_ctxdm_mante, 9, NULL);
    sl_real *z = calloc((size_t)e.shape.T_max, sizeof *z);
    double sum = 0, cnt = 0;
    for (int k = 0; k < 20; k++) {
        const sl_trial *t = ng_next(&e);
        int gt = (int)V(t, "ground_truth");
        /* huge wrong-signed output outside the response period must not count */
        for (int s = 0; s < t->T; s++) z[s] = t->mask[s] > 0 ? (gt ? 0.1f : -0.1f) : (gt ? -50 : 50);
        sl_task_ctxdm_mante.score(e.state, t, z, &sum, &cnt);
    }
    cr_assert(sum == 20 && cnt == 20);
    const sl_trial *t = ng_next(&e);
    for (int s = 0; s < t->T; s++) z[s] = 0;
    sum = cnt = 0;
    sl_task_ctxdm_mante.score(e.state, t, z, &sum, &cnt);
    cr_assert(sum == 0 && cnt == 1, "an output of exactly 0 is wrong");
    cr_assert_str_eq(sl_task_ctxdm_mante.score_name, "sign_accuracy");
    free(z);
    ng_close(&e);
}

Test(ngym_common, descriptions_and_names)
{
    const sl_taskgen *gens[] = {&sl_task_pdm,    &sl_task_dms, &sl_task_ddms,
                                &sl_task_ctxdm,  &sl_task_ctxdm_mante, &sl_task_gonogo,
                                &sl_task_rsg};
    const char *names[] = {"pdm", "dms", "ddms", "ctxdm", "ctxdm_mante", "gonogo", "rsg"};
    for (int i = 0; i < 7; i++) {
        cr_assert_str_eq(gens[i]->name, names[i]);
        cr_assert(gens[i]->description && strlen(gens[i]->description) > 10);
        cr_assert(!strchr(gens[i]->description, '\n'));
        ng_env e;
        ng_open(&e, gens[i], 1, NULL);
        for (int c = 0; c < e.shape.n_obs; c++) cr_assert_not_null(e.shape.obs_names[c]);
        for (int c = 0; c < e.shape.n_out; c++) cr_assert_not_null(e.shape.out_names[c]);
        ng_close(&e);
    }
}

/* ------------------------------------------------------- golden files */

typedef struct {
    const char *dir;
    const sl_taskgen *gen;
    const char *o1, *o2;
} ng_variant;

static const ng_variant VARIANTS[] = {
    {"pdm", &sl_task_pdm, NULL, NULL},
    {"pdm_v2", &sl_task_pdm, "task.ngym_compat=v2", NULL},
    {"dms", &sl_task_dms, NULL, NULL},
    {"ddms", &sl_task_ddms, NULL, NULL},
    {"ctxdm", &sl_task_ctxdm, NULL, NULL},
    {"ctxdm_implicit", &sl_task_ctxdm, "task.context=implicit", NULL},
    {"ctxdm_v2", &sl_task_ctxdm, "task.ngym_compat=v2", "task.context=implicit"},
    {"gonogo", &sl_task_gonogo, NULL, NULL},
    {"rsg", &sl_task_rsg, NULL, NULL},
    {"ctxdm_mante", &sl_task_ctxdm_mante, NULL, NULL},
};

#define GOLDEN_DIR "tests/golden/tasks"
#define GOLDEN_TRIALS 3

/* Compare a (freshly built) with the stored file, or write it. */
static void golden_array(const char *path, const sl_array *a, int write)
{
    if (write) {
        cr_assert_eq(sl_npy_write(path, a), SL_OK, "write %s: %s", path, sl_last_error());
        return;
    }
    sl_array g;
    cr_assert_eq(sl_npy_read(path, &g), SL_OK, "read %s: %s (regenerate with "
                 "SILICO_GOLDEN_WRITE=1)", path, sl_last_error());
    cr_assert_eq(g.dtype, a->dtype, "%s: dtype", path);
    cr_assert_eq(g.ndim, a->ndim, "%s: ndim", path);
    for (int d = 0; d < a->ndim; d++) cr_assert_eq(g.shape[d], a->shape[d], "%s: shape", path);
    size_t bytes = sl_array_numel(a) * sl_dtype_size(a->dtype);
    cr_assert(memcmp(g.data, a->data, bytes) == 0, "%s: the task's output changed", path);
    sl_array_free(&g);
}

Test(ngym_golden, ob_and_labels_bit_exact)
{
    const char *w = getenv("SILICO_GOLDEN_WRITE");
    int write = w && *w && strcmp(w, "0") != 0;
    for (size_t v = 0; v < sizeof VARIANTS / sizeof VARIANTS[0]; v++) {
        const ng_variant *var = &VARIANTS[v];
        char dir[256], path[320];
        snprintf(dir, sizeof dir, GOLDEN_DIR "/%s", var->dir);
        if (write) {
            mkdir(GOLDEN_DIR, 0755);
            mkdir(dir, 0755);
        }
        for (uint64_t seed = 1; seed <= 2; seed++) {
            ng_env e;
            ng_open(&e, var->gen, seed, var->o1, var->o2, NULL);
            int Tm = e.shape.T_max, no = e.shape.n_obs, nu = e.shape.n_out;
            int cls = e.shape.classification;
            sl_array ob, lab, len;
            int64_t sh_ob[3] = {GOLDEN_TRIALS, Tm, no}, sh_lab[3] = {GOLDEN_TRIALS, Tm, nu},
                    sh_len[1] = {GOLDEN_TRIALS};
            cr_assert_eq(sl_array_alloc(&ob, SL_F32, 3, sh_ob), SL_OK);
            cr_assert_eq(sl_array_alloc(&lab, cls ? SL_I32 : SL_F32, cls ? 2 : 3, sh_lab), SL_OK);
            cr_assert_eq(sl_array_alloc(&len, SL_I32, 1, sh_len), SL_OK);
            for (int k = 0; k < GOLDEN_TRIALS; k++) {
                const sl_trial *t = ng_next(&e);
                memcpy((float *)ob.data + (size_t)k * Tm * no, t->ob,
                       (size_t)t->T * no * sizeof(float));
                if (cls)
                    for (int s = 0; s < t->T; s++) ((int32_t *)lab.data)[(size_t)k * Tm + s] = t->gt[s];
                else
                    memcpy((float *)lab.data + (size_t)k * Tm * nu, t->y,
                           (size_t)t->T * nu * sizeof(float));
                ((int32_t *)len.data)[k] = t->T;
            }
            snprintf(path, sizeof path, "%s/seed%d_ob.npy", dir, (int)seed);
            golden_array(path, &ob, write);
            snprintf(path, sizeof path, "%s/seed%d_%s.npy", dir, (int)seed, cls ? "gt" : "y");
            golden_array(path, &lab, write);
            snprintf(path, sizeof path, "%s/seed%d_len.npy", dir, (int)seed);
            golden_array(path, &len, write);
            sl_array_free(&ob);
            sl_array_free(&lab);
            sl_array_free(&len);
            ng_close(&e);
        }
    }
}
