/* test_config.c — experiment files: defaults, loading, overrides, every
 * kind of error (each naming file and line), value parsing per type, the
 * to_ini round trip and duplicate keys. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "testutil.h"

static sl_config *fresh(void)
{
    sl_config *c;
    cr_assert_eq(sl_config_new(&c), SL_OK, "%s", sl_last_error());
    return c;
}

/* Load text that must fail; the message must contain each needle. */
static void expect_error(const char *text, const char *needle1, const char *needle2)
{
    sl_config *c = fresh();
    cr_assert_eq(sl_config_load_string(c, text, "t.ini"), SL_EINVAL, "accepted:\n%s", text);
    const char *msg = sl_last_error();
    cr_assert_not_null(strstr(msg, needle1), "want '%s' in: %s", needle1, msg);
    if (needle2) cr_assert_not_null(strstr(msg, needle2), "want '%s' in: %s", needle2, msg);
    sl_config_free(c);
}

Test(config, defaults_match_the_schema)
{
    sl_config *c = fresh();
    cr_assert_eq(sl_config_int(c, "model.hidden"), 150);
    cr_assert_eq(sl_config_real(c, "train.lr"), 1e-3);
    cr_assert_eq(sl_config_bool(c, "model.learn_x0"), 0);
    cr_assert_eq(sl_config_bool(c, "task.hold_cue"), 1);
    cr_assert_str_eq(sl_config_str(c, "task.name"), "reach");
    cr_assert_str_eq(sl_config_str(c, "train.l2_on"), "W,B");
    cr_assert_eq(sl_config_int(c, "run.seed"), 1);
    double d[8];
    cr_assert_eq(sl_config_list(c, "task.delays", d, 8), 5);
    cr_assert(d[0] == 300 && d[4] == 1100);
    cr_assert_eq(sl_config_list(c, "task.muscles", d, 8), 0);

    int n;
    const sl_keydef *keys = sl_config_keys(&n);
    cr_assert_gt(n, 30);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(sl_config_is_set(c, keys[i].name), 0);
        cr_assert_not_null(strchr(keys[i].name, '.'));
        cr_assert_gt(strlen(keys[i].help), 0);
    }
    /* unknown keys read as zero/empty */
    cr_assert_eq(sl_config_int(c, "model.nope"), 0);
    cr_assert_str_eq(sl_config_str(c, "model.nope"), "");
    cr_assert_eq(sl_config_is_set(c, "model.nope"), 0);
    sl_config_free(c);
}

Test(config, load_file_with_comments_and_indentation)
{
    char *dir = tu_tmpdir();
    char *path = tu_path(dir, "reach.ini");
    cr_assert_eq(tu_write_file(path,
                               "; a reach experiment\n"
                               "# hash comments too\n"
                               "run.name = early   ; a full key before any section\n"
                               "\n"
                               "[model]\n"
                               "  hidden = 64      ; indented keys are fine\n"
                               "  tau=20 # hash inline comment\n"
                               "activation = TANH\n"
                               "learn_x0 = Yes\r\n"
                               "[train]\n"
                               "lr = 3e-4\n"
                               "[task]\n"
                               "delays = 100, 200 ,300.5\n"
                               "muscles =\n"),
                 0);
    sl_config *c = fresh();
    cr_assert_eq(sl_config_load(c, path), SL_OK, "%s", sl_last_error());
    cr_assert_str_eq(sl_config_str(c, "run.name"), "early");
    cr_assert_eq(sl_config_int(c, "model.hidden"), 64);
    cr_assert_eq(sl_config_real(c, "model.tau"), 20);
    cr_assert_str_eq(sl_config_str(c, "model.activation"), "tanh");
    cr_assert_eq(sl_config_bool(c, "model.learn_x0"), 1);
    cr_assert_eq(sl_config_real(c, "train.lr"), 3e-4);
    double d[2];
    cr_assert_eq(sl_config_list(c, "task.delays", d, 2), 3, "count beyond max");
    cr_assert(d[0] == 100 && d[1] == 200);
    cr_assert_str_eq(sl_config_str(c, "task.delays"), "100,200,300.5");
    cr_assert_eq(sl_config_list(c, "task.muscles", d, 2), 0);
    cr_assert(sl_config_is_set(c, "model.hidden") && sl_config_is_set(c, "task.muscles"));
    cr_assert_eq(sl_config_is_set(c, "model.g"), 0);
    cr_assert_eq(sl_config_real(c, "model.g"), 1.5);
    sl_config_free(c);

    c = fresh();
    char *missing = tu_path(dir, "missing.ini");
    cr_assert_eq(sl_config_load(c, missing), SL_EIO);
    cr_assert_not_null(strstr(sl_last_error(), missing));
    free(missing);
    sl_config_free(c);

    /* file errors name the file path and line */
    cr_assert_eq(tu_write_file(path, "[model]\n\nhidden = abc\n"), 0);
    c = fresh();
    cr_assert_eq(sl_config_load(c, path), SL_EINVAL);
    char want[512];
    snprintf(want, sizeof want, "config %s line 3: model.hidden must be an integer in [1, 1000000], got 'abc'",
             path);
    cr_assert_str_eq(sl_last_error(), want);
    sl_config_free(c);
    free(path);
    tu_rmtree(dir);
}

Test(config, overrides)
{
    sl_config *c = fresh();
    cr_assert_eq(sl_config_override(c, "model.hidden=256"), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_config_override(c, " train.lr = 1e-2 "), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_config_override(c, "run.name=a=b"), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_config_int(c, "model.hidden"), 256);
    cr_assert_eq(sl_config_real(c, "train.lr"), 1e-2);
    cr_assert_str_eq(sl_config_str(c, "run.name"), "a=b");
    cr_assert(sl_config_is_set(c, "model.hidden"));

    cr_assert_eq(sl_config_override(c, "model.hidden=abc"), SL_EINVAL);
    cr_assert_not_null(strstr(sl_last_error(), "command line"), "%s", sl_last_error());
    cr_assert_not_null(strstr(sl_last_error(), "'abc'"), "%s", sl_last_error());
    cr_assert_eq(sl_config_int(c, "model.hidden"), 256, "a failed override changes nothing");

    cr_assert_eq(sl_config_override(c, "model.hidden"), SL_EINVAL);
    cr_assert_not_null(strstr(sl_last_error(), "section.key=value"), "%s", sl_last_error());
    cr_assert_eq(sl_config_override(c, "model.hiden=3"), SL_EINVAL);
    cr_assert_not_null(strstr(sl_last_error(), "did you mean 'model.hidden'"), "%s",
                       sl_last_error());
    cr_assert_eq(sl_config_set(c, "train.epochs", "5", "sweep"), SL_OK);
    cr_assert_eq(sl_config_int(c, "train.epochs"), 5);
    cr_assert_eq(sl_config_set(c, "train.epochs", "0", "sweep"), SL_EINVAL);
    cr_assert_not_null(strstr(sl_last_error(), "sweep: train.epochs"), "%s", sl_last_error());
    sl_config_free(c);
}

Test(config, unknown_keys_and_sections_name_file_and_line)
{
    expect_error("[model]\nhidden = 3\n\nhiden = 4\n", "config t.ini line 4: unknown key 'model.hiden'",
                 "did you mean 'model.hidden'");
    expect_error("[model]\nlr = 1\n", "line 2: unknown key 'model.lr'", "'train.lr'");
    expect_error("hidden = 1\n", "line 1: unknown key 'hidden'", "'model.hidden'");
    expect_error("[run]\nseed = 1\n[modle]\nhidden = 3\n", "config t.ini line 3: unknown section [modle]",
                 NULL);
    expect_error("[model]\nhidden = 3\nthis line is not ini\n", "config t.ini line 3:", "key = value");
    expect_error("[model\nhidden = 3\n", "line 1", NULL);
}

Test(config, wrong_types_name_file_and_line)
{
    expect_error("\n[model]\nhidden = 1.5\n", "t.ini line 3: model.hidden must be an integer", "'1.5'");
    expect_error("[model]\nhidden = 0\n", "line 2: model.hidden must be an integer in [1, 1000000]", NULL);
    expect_error("[model]\nhidden = 99999999999999999999999\n", "line 2: model.hidden", NULL);
    expect_error("[model]\ntau = nan\n", "line 2: model.tau must be a finite number >= 1e-06", NULL);
    expect_error("[model]\ntau = inf\n", "line 2: model.tau", NULL);
    expect_error("[model]\ntau = 5ms\n", "line 2: model.tau", "'5ms'");
    expect_error("[model]\ntau = -1\n", "line 2: model.tau", NULL);
    expect_error("[train]\nbeta1 = 1\n", "line 2: train.beta1 must be a finite number in [0, 0.999999]", NULL);
    expect_error("[model]\nlearn_x0 = maybe\n", "line 2: model.learn_x0 must be true or false", NULL);
    expect_error("[model]\nactivation = lstm\n", "line 2: model.activation must be one of rect_tanh|tanh",
                 "'lstm'");
    expect_error("[task]\ndelays = 1,,2\n", "line 2: task.delays must be a comma-separated list", NULL);
    expect_error("[task]\ndelays = 1, abc\n", "line 2: task.delays", "'1, abc'");
    expect_error("[task]\ndelays = 1, -2\n", "line 2: task.delays", NULL);
    expect_error("[task]\ndelays = 1,\n", "line 2: task.delays", NULL);
    expect_error("[model]\nhidden = \n", "line 2: model.hidden", NULL);
}

Test(config, failed_load_changes_nothing)
{
    sl_config *c = fresh();
    cr_assert_eq(sl_config_load_string(c, "[model]\nhidden = 7\n", "a.ini"), SL_OK);
    cr_assert_eq(sl_config_load_string(c, "[model]\nhidden = 9\ntau = 3\ng = x\n", "b.ini"),
                 SL_EINVAL);
    cr_assert_not_null(strstr(sl_last_error(), "config b.ini line 4"), "%s", sl_last_error());
    cr_assert_eq(sl_config_int(c, "model.hidden"), 7);
    cr_assert_eq(sl_config_real(c, "model.tau"), 50);
    cr_assert_eq(sl_config_is_set(c, "model.tau"), 0);
    /* a later file may set a key an earlier one set */
    cr_assert_eq(sl_config_load_string(c, "[model]\nhidden = 9\n", "c.ini"), SL_OK);
    cr_assert_eq(sl_config_int(c, "model.hidden"), 9);
    sl_config_free(c);
}

Test(config, value_parsing_per_type)
{
    sl_config *c = fresh();
    const char *truthy[] = {"true", "YES", "On", "1"}, *falsy[] = {"false", "No", "OFF", "0"};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(sl_config_set(c, "model.learn_x0", truthy[i], "t"), SL_OK);
        cr_assert_eq(sl_config_bool(c, "model.learn_x0"), 1);
        cr_assert_str_eq(sl_config_str(c, "model.learn_x0"), "true");
        cr_assert_eq(sl_config_set(c, "model.learn_x0", falsy[i], "t"), SL_OK);
        cr_assert_eq(sl_config_bool(c, "model.learn_x0"), 0);
    }
    cr_assert_eq(sl_config_set(c, "task.name", "Reach_Synthetic", "t"), SL_OK);
    cr_assert_str_eq(sl_config_str(c, "task.name"), "reach_synthetic");
    cr_assert_eq(sl_config_set(c, "task.name", "reach_synth", "t"), SL_EINVAL, "prefix is no match");
    cr_assert_eq(sl_config_set(c, "run.seed", "4294967295", "t"), SL_OK);
    cr_assert_eq(sl_config_int(c, "run.seed"), 4294967295L);
    cr_assert_eq(sl_config_set(c, "run.seed", "4294967296", "t"), SL_EINVAL);
    cr_assert_eq(sl_config_set(c, "train.lr", "0.1", "t"), SL_OK);
    cr_assert_str_eq(sl_config_str(c, "train.lr"), "0.1");
    cr_assert_eq(sl_config_set(c, "train.lr", "1E-3", "t"), SL_OK);
    cr_assert_str_eq(sl_config_str(c, "train.lr"), "0.001");
    cr_assert_eq(sl_config_set(c, "task.delays", " 5 ,  6.25 ", "t"), SL_OK);
    cr_assert_str_eq(sl_config_str(c, "task.delays"), "5,6.25");
    double d[4];
    cr_assert_eq(sl_config_list(c, "task.delays", d, 4), 2);
    cr_assert(d[0] == 5 && d[1] == 6.25);
    cr_assert_eq(sl_config_set(c, "task.delays", "   ", "t"), SL_OK);
    cr_assert_eq(sl_config_list(c, "task.delays", d, 4), 0);
    cr_assert_eq(sl_config_set(c, "run.name", "  my run  ", "t"), SL_OK);
    cr_assert_str_eq(sl_config_str(c, "run.name"), "my run");
    cr_assert_eq(sl_config_set(c, "run.name", "two\nlines", "t"), SL_EINVAL);
    sl_config_free(c);
}

Test(config, to_ini_round_trips)
{
    sl_config *c = fresh();
    const char *overrides[] = {"model.hidden=33",        "train.lr=0.1",          "model.g=1e-7",
                               "model.learn_x0=on",      "task.delays=7,8.125",   "task.muscles=",
                               "run.name=my run",        "task.encoding=onehot",  "train.l2_on=J"};
    for (size_t i = 0; i < sizeof overrides / sizeof overrides[0]; i++)
        cr_assert_eq(sl_config_override(c, overrides[i]), SL_OK, "%s", sl_last_error());
    char *text = sl_config_to_ini(c);
    cr_assert_not_null(text);
    cr_assert_not_null(strstr(text, "\n; number of recurrent units N\nhidden = 33\n"), "%s",
                       text);
    cr_assert_not_null(strstr(text, "\n[train]\n"));
    cr_assert_not_null(strstr(text, "\nmuscles =\n"), "empty list: no trailing space");
    cr_assert_lt(strstr(text, "[run]") - text, strstr(text, "[model]") - text, "schema order");
    cr_assert_lt(strstr(text, "[task]") - text, strstr(text, "[train]") - text, "schema order");

    sl_config *d = fresh();
    cr_assert_eq(sl_config_load_string(d, text, "resolved.ini"), SL_OK, "%s\n%s", sl_last_error(),
                 text);
    int n;
    const sl_keydef *keys = sl_config_keys(&n);
    for (int i = 0; i < n; i++) {
        cr_assert_str_eq(sl_config_str(d, keys[i].name), sl_config_str(c, keys[i].name), "%s",
                         keys[i].name);
        cr_assert(sl_config_is_set(d, keys[i].name));
    }
    char *again = sl_config_to_ini(d);
    cr_assert_str_eq(again, text);

    char *dir = tu_tmpdir();
    char *path = tu_path(dir, "config.ini");
    cr_assert_eq(sl_config_write(d, path), SL_OK);
    char *written = tu_read_file(path, NULL);
    cr_assert_str_eq(written, text);
    sl_config *e = fresh();
    cr_assert_eq(sl_config_load(e, path), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_config_int(e, "model.hidden"), 33);
    free(written);
    free(again);
    free(text);
    free(path);
    tu_rmtree(dir);
    sl_config_free(c);
    sl_config_free(d);
    sl_config_free(e);
}

Test(config, duplicate_key_is_an_error_naming_both_lines)
{
    expect_error("[model]\nhidden = 3\ntau = 5\nhidden = 4\n",
                 "config t.ini line 4: model.hidden is set twice (lines 2 and 4)", NULL);
    expect_error("model.hidden = 3\n[model]\nhidden = 4\n", "lines 1 and 3", NULL);
}

Test(config, overlong_line_is_an_error)
{
    char text[600];
    snprintf(text, sizeof text, "[run]\nname = %0400d\n", 7);
    expect_error(text, "config t.ini line 2: line is longer than", NULL);
}

/* A copy keeps the values, which keys were set, and is independent. */
Test(config, copy_keeps_set_keys_and_is_independent)
{
    sl_config *c = NULL, *d = NULL;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    cr_assert_eq(sl_config_override(c, "model.hidden=32"), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_config_copy(c, &d), SL_OK, "%s", sl_last_error());
    cr_expect_eq(sl_config_int(d, "model.hidden"), 32);
    cr_expect(sl_config_is_set(d, "model.hidden"));
    cr_expect(!sl_config_is_set(d, "task.dt"), "a default must stay unset in the copy");
    cr_assert_eq(sl_config_override(d, "model.hidden=64"), SL_OK);
    cr_expect_eq(sl_config_int(c, "model.hidden"), 32, "changing the copy changed the original");
    char *a = sl_config_to_ini(c), *b = NULL;
    sl_config_free(d);
    cr_assert_eq(sl_config_copy(c, &d), SL_OK);
    b = sl_config_to_ini(d);
    cr_expect_str_eq(a, b);
    free(a);
    free(b);
    sl_config_free(c);
    sl_config_free(d);
}
