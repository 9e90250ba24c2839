/* test_trial.c — the period algebra of src/tasks/trial.c (NeuroGym's
 * TrialEnv semantics): flooring to dt, period chaining and `after`, step
 * slices, set vs add order, noise moments and draw order, TruncExp bounds
 * and mean, uniform choice, zero-length periods, labels/targets/masks/
 * decisions/variables, and misuse reported by sl_trial_check. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "silico.h"
#include "tasks/trial.h"

static sl_trial tr;
static sl_rng rng;

static void setup_cls(double dt, int T_cap)
{
    cr_assert_eq(sl_trial_init(&tr, dt, 3, 3, 1, T_cap), SL_OK, "%s", sl_last_error());
    sl_rng_seed(&rng, 7);
    sl_trial_begin(&tr, &rng);
}

static void teardown(void) { sl_trial_free(&tr); }

Test(trial, floors_sampled_durations_to_dt, .fini = teardown)
{
    setup_cls(100, 100);
    sl_duration d = {.kind = SL_DUR_FIXED, .a = 750};
    cr_assert_float_eq(sl_trial_sample(&tr, &d), 700, 1e-12);
    d.a = 300;
    cr_assert_float_eq(sl_trial_sample(&tr, &d), 300, 1e-12, "an exact multiple stays");
    d.a = 99;
    cr_assert_float_eq(sl_trial_sample(&tr, &d), 0, 1e-12);
    sl_trial_free(&tr);
    setup_cls(80, 100);
    d.a = 83;
    cr_assert_float_eq(sl_trial_sample(&tr, &d), 80, 1e-12);
    sl_trial_free(&tr);
    setup_cls(0.1, 100);
    d.a = 0.3; /* 0.3/0.1 = 2.9999999999999996 in floating point */
    cr_assert_float_eq(sl_trial_sample(&tr, &d), 0.3, 1e-12);
    cr_assert_eq(sl_trial_check(&tr), SL_OK);
}

Test(trial, periods_chain_and_after, .fini = teardown)
{
    setup_cls(100, 100);
    cr_assert_eq(sl_trial_add_period(&tr, "fixation", 100, NULL), SL_OK);
    cr_assert_eq(sl_trial_add_period(&tr, "stimulus", 2000, NULL), SL_OK);
    cr_assert_eq(sl_trial_add_period(&tr, "delay", 0, NULL), SL_OK);
    cr_assert_eq(sl_trial_add_period(&tr, "decision", 100, NULL), SL_OK);
    cr_assert_eq(tr.T, 22);
    const sl_period *p = sl_trial_find(&tr, "stimulus");
    cr_assert(p);
    cr_assert_eq(p->start, 1);
    cr_assert_eq(p->end, 21);
    cr_assert_float_eq(p->start_ms, 100, 1e-12);
    cr_assert_float_eq(p->end_ms, 2100, 1e-12);
    p = sl_trial_find(&tr, "delay");
    cr_assert_eq(p->start, 21);
    cr_assert_eq(p->end, 21, "zero-length period is an empty slice");
    /* `after` starts at the end of the named period, overlapping later ones */
    cr_assert_eq(sl_trial_add_period(&tr, "cue", 300, "fixation"), SL_OK);
    p = sl_trial_find(&tr, "cue");
    cr_assert_eq(p->start, 1);
    cr_assert_eq(p->end, 4);
    cr_assert_eq(tr.T, 22, "T is the largest end");
    /* NULL chains from the last period added, which is now "cue" */
    cr_assert_eq(sl_trial_add_period(&tr, "post", 50, NULL), SL_OK);
    p = sl_trial_find(&tr, "post");
    cr_assert_float_eq(p->start_ms, 400, 1e-12);
    cr_assert_eq(p->start, 4);
    cr_assert_eq(p->end, 4, "450 ms -> step 4: unfloored durations are cut at step boundaries");
    cr_assert_null(sl_trial_find(&tr, "nope"));
    cr_assert_eq(sl_trial_check(&tr), SL_OK);
}

Test(trial, step_boundaries_floor_start_and_end, .fini = teardown)
{
    setup_cls(80, 100);
    /* an unfloored duration (NeuroGym's explicit duration=): 83 ms at dt 80 */
    cr_assert_eq(sl_trial_add_period(&tr, "a", 83, NULL), SL_OK);
    cr_assert_eq(sl_trial_add_period(&tr, "b", 83, NULL), SL_OK);
    const sl_period *a = sl_trial_find(&tr, "a"), *b = sl_trial_find(&tr, "b");
    cr_assert_eq(a->start, 0);
    cr_assert_eq(a->end, 1);
    cr_assert_eq(b->start, 1);
    cr_assert_eq(b->end, 2, "166 ms / 80 -> 2");
    cr_assert_eq(tr.T, 2);
}

Test(trial, set_and_add_order, .fini = teardown)
{
    setup_cls(100, 10);
    sl_trial_add_period(&tr, "a", 200, NULL);
    sl_trial_add_period(&tr, "b", 300, NULL);
    sl_trial_add_ob(&tr, 1.0f, NULL, 0);  /* whole trial, channel 0 */
    sl_trial_add_ob(&tr, 2.0f, "b", -1);  /* all channels in b */
    sl_trial_set_ob(&tr, 5.0f, "a", 1);   /* set wipes what was there */
    sl_trial_add_ob(&tr, 0.5f, "a", 1);   /* add after set sits on top */
    sl_trial_set_ob(&tr, 0.0f, "b", 2);
    float expect[5][3] = {{1, 5.5f, 0}, {1, 5.5f, 0}, {3, 2, 0}, {3, 2, 0}, {3, 2, 0}};
    cr_assert_eq(tr.T, 5);
    for (int t = 0; t < 5; t++)
        for (int c = 0; c < 3; c++)
            cr_assert_float_eq(tr.ob[t * 3 + c], expect[t][c], 1e-7, "ob[%d][%d]", t, c);
    for (int t = 5; t < 10; t++)
        for (int c = 0; c < 3; c++) cr_assert_eq(tr.ob[t * 3 + c], 0.0f);
    /* labels, mask, decisions */
    sl_trial_set_gt(&tr, 2, "b");
    sl_trial_set_mask(&tr, 0.0f, "a");
    sl_trial_decision(&tr, "b", -1);
    sl_trial_decision(&tr, NULL, 0);
    int gt[5] = {0, 0, 2, 2, 2};
    for (int t = 0; t < 5; t++) {
        cr_assert_eq(tr.gt[t], gt[t]);
        cr_assert_float_eq(tr.mask[t], t < 2 ? 0.0f : 1.0f, 0);
        cr_assert_eq(tr.decision[t], (t == 4 || t == 0) ? 1 : 0);
    }
    cr_assert_eq(sl_trial_check(&tr), SL_OK);
    /* begin resets everything */
    sl_trial_begin(&tr, &rng);
    cr_assert_eq(tr.T, 0);
    cr_assert_eq(tr.n_periods, 0);
    for (int t = 0; t < 10; t++) {
        cr_assert_eq(tr.gt[t], 0);
        cr_assert_eq(tr.mask[t], 1.0f);
        cr_assert_eq(tr.decision[t], 0);
        for (int c = 0; c < 3; c++) cr_assert_eq(tr.ob[t * 3 + c], 0.0f);
    }
}

Test(trial, noise_moments_and_draw_order, .fini = teardown)
{
    const int T = 20000;
    cr_assert_eq(sl_trial_init(&tr, 10, 3, 2, 1, T), SL_OK);
    sl_rng_seed(&rng, 11);
    sl_trial_begin(&tr, &rng);
    sl_trial_add_period(&tr, "all", 10.0 * T, NULL);
    const double sigma = 1.0 / sqrt(10.0); /* NeuroGym: σ/√dt with σ = 1, dt = 10 */
    sl_trial_add_randn(&tr, 0.5f, (float)sigma, "all", 1);
    double s = 0, ss = 0;
    for (int t = 0; t < T; t++) {
        double x = tr.ob[t * 3 + 1];
        s += x;
        ss += x * x;
        cr_assert_eq(tr.ob[t * 3 + 0], 0.0f, "other channels untouched");
        cr_assert_eq(tr.ob[t * 3 + 2], 0.0f);
    }
    double mean = s / T, sd = sqrt(ss / T - mean * mean);
    cr_assert(fabs(mean - 0.5) < 4 * sigma / sqrt(T), "mean %g", mean);
    cr_assert(fabs(sd - sigma) < 0.02 * sigma, "sd %g vs %g", sd, sigma);
    /* all channels: step-major, channel-minor from the trial's rng */
    sl_trial_free(&tr);
    cr_assert_eq(sl_trial_init(&tr, 100, 3, 2, 1, 4), SL_OK);
    sl_rng_seed(&rng, 5);
    sl_trial_begin(&tr, &rng);
    sl_trial_add_period(&tr, "a", 100, NULL);
    sl_trial_add_period(&tr, "b", 200, NULL);
    sl_trial_add_randn(&tr, 0, 2.0f, "b", -1);
    sl_rng ref;
    sl_rng_seed(&ref, 5);
    for (int t = 1; t < 3; t++)
        for (int c = 0; c < 3; c++)
            cr_assert_eq(tr.ob[t * 3 + c], (float)(2.0 * sl_rng_normal(&ref)), "t %d c %d", t, c);
    for (int c = 0; c < 3; c++) cr_assert_eq(tr.ob[c], 0.0f);
}

/* E[X | a ≤ X < b] for X ~ Exp(mean μ). */
static double truncexp_mean(double mu, double a, double b)
{
    double ea = exp(-a / mu), eb = isinf(b) ? 0 : exp(-b / mu);
    double bb = isinf(b) ? 0 : b * eb;
    return mu + (a * ea - bb) / (ea - eb);
}

Test(trial, truncexp_bounds_and_mean, .fini = teardown)
{
    setup_cls(1e-6, 10); /* a tiny dt, so flooring does not move the mean */
    const struct {
        double mu, lo, hi;
    } cases[] = {{600, 300, 3000}, {100, 0, INFINITY}, {200, 500, 800}, {1000, 0, 100}};
    const int n = 40000;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sl_duration d = {.kind = SL_DUR_TRUNCEXP, .a = cases[k].mu, .b = cases[k].lo, .c = cases[k].hi};
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) {
            double v = sl_trial_sample(&tr, &d);
            cr_assert(v >= cases[k].lo - 1e-6 && v < cases[k].hi, "case %zu: %g", k, v);
            s += v;
            ss += v * v;
        }
        double mean = s / n, sd = sqrt(ss / n - mean * mean);
        double want = truncexp_mean(cases[k].mu, cases[k].lo, cases[k].hi);
        cr_assert(fabs(mean - want) < 5 * sd / sqrt(n), "case %zu: mean %g, expected %g", k, mean,
                  want);
    }
    /* min >= max gives max, as NeuroGym */
    sl_duration d = {.kind = SL_DUR_TRUNCEXP, .a = 100, .b = 500, .c = 400};
    cr_assert_float_eq(sl_trial_sample(&tr, &d), 400, 1e-3);
    cr_assert_eq(sl_trial_check(&tr), SL_OK);
    /* floored at dt 100 */
    sl_trial_free(&tr);
    setup_cls(100, 10);
    sl_duration e = {.kind = SL_DUR_TRUNCEXP, .a = 600, .b = 300, .c = 3000};
    for (int i = 0; i < 1000; i++) {
        double v = sl_trial_sample(&tr, &e);
        cr_assert_float_eq(v, 100 * floor(v / 100 + 0.5), 1e-9);
        cr_assert(v >= 300 && v < 3000);
    }
}

Test(trial, uniform_choice_and_uniform, .fini = teardown)
{
    setup_cls(100, 10);
    const double ch[] = {300, 500, 700, 950};
    sl_duration d = {.kind = SL_DUR_CHOICE, .choices = ch, .n_choices = 4};
    int count[4] = {0};
    const int n = 8000;
    for (int i = 0; i < n; i++) {
        double v = sl_trial_sample(&tr, &d);
        int hit = -1;
        for (int k = 0; k < 4; k++)
            if (fabs(v - 100 * floor(ch[k] / 100)) < 1e-9) hit = k;
        cr_assert(hit >= 0, "value %g", v);
        count[hit]++;
    }
    for (int k = 0; k < 4; k++) cr_assert(fabs(count[k] - n / 4.0) < 5 * sqrt(n * 0.1875));
    sl_duration u = {.kind = SL_DUR_UNIFORM, .a = 400, .b = 800};
    double s = 0;
    for (int i = 0; i < n; i++) {
        double v = sl_trial_sample(&tr, &u);
        cr_assert(v >= 400 && v < 800);
        s += v;
    }
    /* floor(U(400,800)/100)*100 has mean 550 */
    cr_assert(fabs(s / n - 550) < 5, "mean %g", s / n);
    cr_assert_eq(sl_trial_check(&tr), SL_OK);
}

Test(trial, continuous_targets_and_vars, .fini = teardown)
{
    cr_assert_eq(sl_trial_init(&tr, 10, 2, 2, 0, 20), SL_OK);
    sl_rng_seed(&rng, 1);
    sl_trial_begin(&tr, &rng);
    sl_trial_add_period(&tr, "x", 50, NULL);
    sl_trial_add_period(&tr, "resp", 50, NULL);
    sl_trial_set_y(&tr, -1.0f, "resp", 1);
    for (int t = 0; t < 10; t++) {
        cr_assert_eq(tr.y[t * 2], 0.0f);
        cr_assert_eq(tr.y[t * 2 + 1], t >= 5 ? -1.0f : 0.0f);
    }
    sl_trial_set_var(&tr, "coh", 6.4);
    sl_trial_set_var(&tr, "context", 1);
    sl_trial_set_var(&tr, "coh", 12.8);
    cr_assert_eq(tr.n_vars, 2);
    cr_assert_float_eq(sl_trial_get_var(&tr, "coh"), 12.8, 0);
    cr_assert(isnan(sl_trial_get_var(&tr, "nope")));
    cr_assert_eq(sl_trial_check(&tr), SL_OK);
    sl_trial_set_gt(&tr, 1, "resp"); /* a continuous task has no labels */
    cr_assert_eq(sl_trial_check(&tr), SL_EINVAL);
}

Test(trial, zero_length_periods_have_no_effect, .fini = teardown)
{
    setup_cls(100, 10);
    sl_trial_add_period(&tr, "fix", 100, NULL);
    sl_trial_add_period(&tr, "delay", 0, NULL);
    sl_trial_add_period(&tr, "dec", 100, NULL);
    sl_trial_add_ob(&tr, 1, "delay", -1);
    sl_trial_add_randn(&tr, 0, 1, "delay", -1);
    sl_trial_set_gt(&tr, 1, "delay");
    sl_trial_decision(&tr, "delay", -1);
    sl_trial_set_mask(&tr, 0, "delay");
    for (int t = 0; t < 2; t++) {
        cr_assert_eq(tr.gt[t], 0);
        cr_assert_eq(tr.decision[t], 0);
        cr_assert_eq(tr.mask[t], 1.0f);
        for (int c = 0; c < 3; c++) cr_assert_eq(tr.ob[t * 3 + c], 0.0f);
    }
    cr_assert_eq(sl_trial_check(&tr), SL_OK);
}

static void expect_misuse(const char *needle)
{
    cr_assert_eq(sl_trial_check(&tr), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), needle), "message '%s' lacks '%s'", sl_last_error(), needle);
    sl_trial_begin(&tr, &rng);
    cr_assert_eq(sl_trial_check(&tr), SL_OK, "begin clears the error");
}

Test(trial, misuse_is_reported, .fini = teardown)
{
    setup_cls(100, 10);
    cr_assert_eq(sl_trial_add_period(&tr, "a", -100, NULL), SL_EINVAL);
    expect_misuse("duration");
    cr_assert_eq(sl_trial_add_period(&tr, "a", 1100, NULL), SL_EINVAL);
    cr_assert_eq(tr.n_periods, 0);
    expect_misuse("longest trial");
    cr_assert_eq(sl_trial_add_period(&tr, "a", NAN, NULL), SL_EINVAL);
    expect_misuse("duration");
    cr_assert_eq(sl_trial_add_period(&tr, "a", 100, "ghost"), SL_EINVAL);
    expect_misuse("ghost");
    sl_trial_add_period(&tr, "a", 100, NULL);
    cr_assert_eq(sl_trial_add_period(&tr, "a", 100, NULL), SL_EINVAL);
    expect_misuse("twice");
    sl_trial_add_period(&tr, "a", 300, NULL);
    sl_trial_add_ob(&tr, 1, "stimulus", -1);
    for (int t = 0; t < 3; t++) cr_assert_eq(tr.ob[t * 3], 0.0f, "unknown period: no effect");
    expect_misuse("stimulus");
    sl_trial_add_period(&tr, "a", 300, NULL);
    sl_trial_add_ob(&tr, 1, "a", 3);
    expect_misuse("channel 3");
    sl_trial_add_period(&tr, "a", 300, NULL);
    sl_trial_set_gt(&tr, 3, "a");
    expect_misuse("label 3");
    sl_trial_add_period(&tr, "a", 300, NULL);
    sl_trial_decision(&tr, NULL, 3);
    expect_misuse("step 3");
    sl_trial_set_mask(&tr, 0, "nope");
    expect_misuse("nope");
    /* the first misuse is the one reported */
    sl_trial_set_gt(&tr, 1, "first");
    sl_trial_set_gt(&tr, 1, "second");
    expect_misuse("first");
    for (int i = 0; i < SL_TRIAL_MAX_PERIODS; i++) {
        char name[8];
        snprintf(name, sizeof name, "p%d", i);
        cr_assert_eq(sl_trial_add_period(&tr, name, 0, NULL), SL_OK);
    }
    cr_assert_eq(sl_trial_add_period(&tr, "one_more", 0, NULL), SL_EINVAL);
    expect_misuse("periods");
    sl_duration bad = {.kind = SL_DUR_TRUNCEXP, .a = -5, .b = 0, .c = 100};
    cr_assert_eq(sl_trial_sample(&tr, &bad), 0);
    expect_misuse("TruncExp");
    sl_duration none = {.kind = SL_DUR_CHOICE, .choices = NULL, .n_choices = 0};
    sl_trial_sample(&tr, &none);
    expect_misuse("choice");
    sl_trial_free(&tr);
    cr_assert_neq(sl_trial_init(&tr, 0, 1, 1, 1, 10), SL_OK);
    cr_assert_neq(sl_trial_init(&tr, 10, 1, 1, 1, 0), SL_OK);
}
