/* test_cnn.c — the CNN model, image tasks, CNN training through the
 * trainer, and the CNN analyses (src/nn/cnn.c, src/tasks/images.c,
 * src/train/train.c, src/analysis/cnn_activity.c, tuning.c).
 *
 * - model.layers parsing: bad layers are SL_EINVAL naming the layer;
 * - save/load round trip: same tensors, names, outputs; a non-CNN file fails;
 * - IDX task errors: missing files (SL_EIO naming the path), label/image
 *   count mismatch (SL_EFORMAT);
 * - training on a synthetic IDX data set (class = the bright quadrant of an
 *   8×8 image) through sl_trainer: the run directory is complete, test
 *   accuracy ends far above chance, and an interrupted run resumes;
 * - the runners activity (the registry's entry: on a CNN run the layer
 *   readout of cnn_activity.c) and tuning on that run: files and shapes, and
 *   the tuned unit's activity increases; bad option values are SL_EINVAL
 *   naming the option;
 * - a tiny Fashion-MNIST run (a few hundred images) improves on chance
 *   (skipped when /usr/share/datasets/fashion-mnist is absent). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/analysis.h"
#include "nn/cnn.h"
#include "silico.h"
#include "testutil.h"

#define SEED_LAYERS                                                                            \
    "conv(6,3,p=1), relu, maxpool(2), conv(16,3,p=1), relu, maxpool(2), flatten, linear(120), " \
    "relu, linear(84), relu, linear(10)"

sl_status sl_run_tuning(sl_analysis_ctx *ctx);

Test(cnn, parse_and_shapes)
{
    sl_cnn *m;
    sl_rng rng;
    sl_rng_seed(&rng, 1);
    cr_assert_eq(sl_cnn_create(SEED_LAYERS, 1, 28, 28, &rng, &m), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_cnn_num_layers(m), 12);
    cr_assert_eq(sl_cnn_num_params(m), 6 * 9 + 6 + 16 * 54 + 16 + 784 * 120 + 120 + 120 * 84 + 84 + 840 + 10);
    int s[3];
    cr_assert_eq(sl_cnn_layer_shape(m, 2, s), 3);
    cr_assert(s[0] == 6 && s[1] == 14 && s[2] == 14);
    cr_assert_eq(sl_cnn_layer_shape(m, 6, s), 1);
    cr_assert_eq(s[0], 784);
    cr_assert_str_eq(sl_cnn_layer_name(m, 7), "fc1");
    cr_assert_str_eq(m->T[0].name, "conv1.weight");
    cr_assert_str_eq(m->T[9].name, "fc3.bias");
    sl_cnn_free(m);
    const char *bad[] = {"conv(6)", "conv(6,3), relu", "pool(2), linear(3)", "linear(4), conv(2,3), linear(2)",
                         "conv(6,30), linear(2)", "linear(3", "maxpool(2,p=2), linear(2)", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(sl_cnn_create(bad[i], 1, 8, 8, NULL, &m), SL_EINVAL, "'%s' accepted", bad[i]);
        cr_assert(strstr(sl_last_error(), "model.layers") || strstr(sl_last_error(), "conv2d"),
                  "'%s': %s", bad[i], sl_last_error());
    }
}

Test(cnn, save_load_round_trip)
{
    char *dir = tu_tmpdir();
    char *path = tu_path(dir, "net.safetensors");
    sl_rng rng;
    sl_rng_seed(&rng, 3);
    sl_cnn *m, *m2;
    cr_assert_eq(sl_cnn_create("conv(3,3,s=2,p=1), tanh, avgpool(2), linear(5), sigmoid, linear(4)",
                               2, 9, 9, &rng, &m), SL_OK);
    sl_kv kv[] = {{"norm_mean", "0.5"}};
    cr_assert_eq(sl_cnn_save(m, path, kv, 1), SL_OK, "%s", sl_last_error());
    sl_tensorfile *f;
    cr_assert_eq(sl_cnn_load(path, &m2, &f), SL_OK, "%s", sl_last_error());
    cr_assert_str_eq(sl_tensorfile_meta(f, "norm_mean"), "0.5");
    cr_assert(sl_cnn_is_checkpoint(f));
    cr_assert_eq(sl_cnn_num_params(m2), sl_cnn_num_params(m));
    for (size_t i = 0; i < sl_cnn_num_params(m); i++)
        cr_assert_eq(sl_cnn_params(m)[i], sl_cnn_params(m2)[i]);
    sl_real x[2 * 162], z1[2 * 4], z2[2 * 4];
    for (int i = 0; i < 2 * 162; i++) x[i] = (sl_real)sl_rng_normal(&rng);
    sl_cnn_ws *w1, *w2;
    cr_assert_eq(sl_cnn_ws_create(m, 2, &w1), SL_OK);
    cr_assert_eq(sl_cnn_ws_create(m2, 2, &w2), SL_OK);
    sl_cnn_forward(m, w1, x, 2, z1);
    sl_cnn_forward(m2, w2, x, 2, z2);
    for (int i = 0; i < 8; i++) cr_assert_eq(z1[i], z2[i]);
    cr_assert_eq(sl_cnn_forward(m, w1, x, 3, NULL), SL_EINVAL); /* batch > workspace */
    /* a file that is not a CNN checkpoint */
    sl_tensor t = {"w", {SL_F32, 1, {2}, (float[]){1, 2}}};
    cr_assert_eq(sl_safetensors_write(path, &t, 1, NULL, 0), SL_OK);
    sl_cnn *m3 = NULL;
    cr_assert_eq(sl_cnn_load(path, &m3, NULL), SL_EFORMAT);
    cr_assert(strstr(sl_last_error(), "not a silico CNN checkpoint"), "%s", sl_last_error());
    sl_tensorfile_free(f);
    sl_cnn_ws_free(w1), sl_cnn_ws_free(w2);
    sl_cnn_free(m), sl_cnn_free(m2);
    free(path);
    tu_rmtree(dir);
}

/* ------------------------------------------------- a synthetic IDX data set */

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
    p[3] = (unsigned char)v;
}

/* n 8×8 images, class k ∈ 0..3 = the quadrant that is bright, plus noise */
static void write_quadrants(const char *dir, const char *stem, int n, uint64_t seed)
{
    sl_rng rng;
    sl_rng_seed(&rng, seed);
    unsigned char *im = malloc(16 + (size_t)n * 64), *lb = malloc(8 + (size_t)n);
    be32(im, 0x00000803), be32(im + 4, (uint32_t)n), be32(im + 8, 8), be32(im + 12, 8);
    be32(lb, 0x00000801), be32(lb + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        const int k = (int)sl_rng_below(&rng, 4);
        lb[8 + i] = (unsigned char)k;
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) {
                const int q = (y >= 4) * 2 + (x >= 4);
                double v = (q == k ? 150 : 40) + 60 * sl_rng_uniform(&rng);
                im[16 + i * 64 + y * 8 + x] = (unsigned char)v;
            }
    }
    char name[256];
    snprintf(name, sizeof name, "%s/%s-images", dir, stem);
    cr_assert_eq(tu_write_bytes(name, im, 16 + (size_t)n * 64), 0);
    snprintf(name, sizeof name, "%s/%s-labels", dir, stem);
    cr_assert_eq(tu_write_bytes(name, lb, 8 + (size_t)n), 0);
    free(im), free(lb);
}

static sl_config *quadrant_config(const char *dir, int epochs)
{
    sl_config *c;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    char text[2048];
    snprintf(text, sizeof text,
             "[model]\ntype = cnn\nlayers = conv(4,3,p=1), relu, maxpool(2), linear(16), relu, linear(4)\n"
             "[task]\nname = idx\nimages = %s/train-images\nlabels = %s/train-labels\n"
             "test_images = %s/test-images\ntest_labels = %s/test-labels\n"
             "[train]\nepochs = %d\nbatch = 16\nlr = 3e-3\nval_every = 1\n",
             dir, dir, dir, dir, epochs);
    cr_assert_eq(sl_config_load_string(c, text, "test"), SL_OK, "%s", sl_last_error());
    return c;
}

static int stop_after_first(const sl_epoch_stats *s, void *user)
{
    (void)user;
    return s->epoch == 1;
}

static cJSON *read_json(const char *dir, const char *name)
{
    char *p = tu_path(dir, name);
    char *text = tu_read_file(p, NULL);
    cr_assert_not_null(text, "%s missing", p);
    cJSON *o = cJSON_Parse(text);
    cr_assert_not_null(o, "%s is not JSON", p);
    free(text), free(p);
    return o;
}

Test(cnn, idx_task_errors)
{
    char *dir = tu_tmpdir();
    write_quadrants(dir, "train", 40, 1);
    write_quadrants(dir, "test", 30, 2);
    sl_config *c = quadrant_config(dir, 1);
    sl_task *t = NULL;
    cr_assert_eq(sl_task_create(c, &t), SL_OK, "%s", sl_last_error());
    int shape[3];
    double mean, std;
    cr_assert_eq(sl_task_image_shape(t, shape, &mean, &std), SL_OK);
    cr_assert(shape[0] == 1 && shape[1] == 8 && shape[2] == 8);
    cr_assert(mean > 0.1 && mean < 0.7 && std > 0, "mean %g std %g (training set's own)", mean, std);
    cr_assert_eq(t->ops->num_batches(t, SL_SPLIT_TRAIN), 3);
    cr_assert_eq(t->n_out, 4); /* idx: the largest label + 1 */
    sl_task_free(t);
    /* the test labels of another file: counts differ */
    char v[512];
    snprintf(v, sizeof v, "%s/train-labels", dir);
    cr_assert_eq(sl_config_set(c, "task.test_labels", v, "test"), SL_OK);
    cr_assert_eq(sl_task_create(c, &t), SL_EFORMAT);
    cr_assert(strstr(sl_last_error(), "40 labels") && strstr(sl_last_error(), "30 images"), "%s",
              sl_last_error());
    snprintf(v, sizeof v, "%s/nothing-here", dir);
    cr_assert_eq(sl_config_set(c, "task.images", v, "test"), SL_OK);
    cr_assert_eq(sl_task_create(c, &t), SL_EIO);
    cr_assert(strstr(sl_last_error(), "nothing-here"), "%s", sl_last_error());
    /* the last layer must give one output per class */
    sl_config_free(c);
    c = quadrant_config(dir, 1);
    cr_assert_eq(sl_config_set(c, "model.layers", "conv(4,3), linear(3)", "test"), SL_OK);
    char *run = tu_path(dir, "run");
    mkdir(run, 0755);
    sl_trainer *tr = NULL;
    cr_assert_eq(sl_trainer_create(c, run, &tr), SL_EINVAL);
    cr_assert(strstr(sl_last_error(), "3 outputs") && strstr(sl_last_error(), "4 classes"), "%s",
              sl_last_error());
    free(run);
    sl_config_free(c);
    tu_rmtree(dir);
}

Test(cnn, train_resume_and_analyses, .timeout = 120)
{
    char *dir = tu_tmpdir();
    write_quadrants(dir, "train", 320, 1);
    write_quadrants(dir, "test", 200, 2);
    sl_config *c = quadrant_config(dir, 3);
    char *run = tu_path(dir, "run");
    cr_assert_eq(mkdir(run, 0755), 0);
    sl_trainer *t;
    cr_assert_eq(sl_trainer_create(c, run, &t), SL_OK, "%s", sl_last_error());
    cr_assert_null(sl_trainer_model(t));
    cr_assert_not_null(sl_trainer_cnn(t));
    cr_assert_eq(sl_trainer_run(t, stop_after_first, NULL), SL_EINTERRUPTED);
    sl_trainer_free(t);
    cr_assert_eq(sl_trainer_resume(run, &t), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_trainer_epoch(t), 1);
    cr_assert_eq(sl_trainer_run(t, NULL, NULL), SL_OK, "%s", sl_last_error());
    sl_epoch_stats s;
    cr_assert_eq(sl_trainer_finish(t, 1.0, &s), SL_OK, "%s", sl_last_error());
    sl_trainer_free(t);
    cJSON *sum = read_json(run, "summary.json");
    const double acc = cJSON_GetObjectItem(sum, "accuracy")->valuedouble;
    cr_assert_gt(acc, 0.9, "test accuracy %g on the quadrant task (chance 0.25)", acc);
    cJSON_Delete(sum);
    char *mp = tu_path(run, "metrics.jsonl");
    char *metrics = tu_read_file(mp, NULL);
    int lines = 0;
    for (char *p = metrics; p && *p; p++) lines += *p == '\n';
    cr_assert_eq(lines, 3, "metrics.jsonl has %d lines after resume", lines);
    cr_assert(strstr(metrics, "\"val_accuracy\"") && strstr(metrics, "\"loss_ce\""));
    free(metrics), free(mp);

    /* the analyses, called as `silico analyze` would */
    sl_analysis_ctx ctx = {0};
    ctx.run_dir = run;
    ctx.config = c;
    /* the seed's λ = 100 swamps this small network's activities: λ = 1 here */
    const char *keys[] = {"images", "steps", "batch", "l2"}, *vals[] = {"5", "200", "8", "1"};
    ctx.n_opts = 4, ctx.opt_keys = keys, ctx.opt_vals = vals;
    char *out = tu_path(run, "act");
    mkdir(out, 0755);
    ctx.out_dir = out;
    /* one `activity` for every run: it applies to a CNN run (no rate model) and runs the CNN readout */
    const sl_analysis_def *act = sl_analysis_find("activity");
    cr_assert_not_null(act);
    cr_assert_null(sl_analysis_find("cnn_activity"), "the CNN readout is the activity analysis");
    cr_assert(act->applies(&ctx));
    cr_assert(!sl_analysis_find("fixedpoints")->applies(&ctx));
    cr_assert_eq(act->run(&ctx), SL_OK, "%s", sl_last_error());
    char *f = tu_path(out, "layer_2_pool1.npy");
    size_t n;
    double *a = tu_npy_doubles(f, &n, TU_DT(SL_F32));
    cr_assert_not_null(a, "%s", sl_last_error());
    cr_assert_eq(n, 5 * 4 * 4 * 4);
    free(a), free(f);
    f = tu_path(out, "images.npy");
    a = tu_npy_doubles(f, &n, TU_DT(SL_F32));
    cr_assert_eq(n, 5 * 64);
    for (size_t i = 0; i < n; i++) cr_assert(a[i] >= -1e-5 && a[i] <= 1 + 1e-5, "pixel %g", a[i]);
    free(a), free(f), free(out);

    out = tu_path(run, "tuning");
    mkdir(out, 0755);
    ctx.out_dir = out;
    cr_assert_eq(sl_run_tuning(&ctx), SL_OK, "%s", sl_last_error());
    cJSON *ts = read_json(out, "summary.json");
    cJSON *units = cJSON_GetObjectItem(ts, "units");
    cr_assert_eq(cJSON_GetArraySize(units), 2, "hidden and output layer without --layer/--unit");
    for (int i = 0; i < 2; i++) {
        cJSON *u = cJSON_GetArrayItem(units, i);
        const double b = cJSON_GetObjectItem(u, "mean_activity_before")->valuedouble;
        const double e = cJSON_GetObjectItem(u, "mean_activity_after")->valuedouble;
        cr_assert_gt(fabs(e), fabs(b) + 0.1, "unit %d: activity %g -> %g", i, b, e);
    }
    cJSON_Delete(ts);
    f = tu_path(out, "images_after.npy");
    a = tu_npy_doubles(f, &n, TU_DT(SL_F32));
    cr_assert_eq(n, 8 * 64);
    for (size_t i = 0; i < n; i++) cr_assert(a[i] >= 0 && a[i] <= 1, "clamped to [0,1]");
    free(a), free(f);

    /* a bad option value is SL_EINVAL naming the option, before any work */
    static const struct {
        const char *analysis, *key, *val;
    } bad[] = {{"tuning", "steps", "abc"}, {"tuning", "batch", "0"},  {"tuning", "lr", "-1"},
               {"tuning", "l2", "x"},      {"tuning", "unit", "2.5"}, {"tuning", "at", "3"},
               {"tuning", "seed", "-4"},   {"activity", "images", "0"}, {"activity", "start", "1e3"},
               {"tuning", "layer", "fc9"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *k[1] = {bad[i].key}, *v[1] = {bad[i].val};
        ctx.n_opts = 1, ctx.opt_keys = k, ctx.opt_vals = v;
        cr_assert_eq(sl_analysis_find(bad[i].analysis)->run(&ctx), SL_EINVAL, "%s --%s %s accepted",
                     bad[i].analysis, bad[i].key, bad[i].val);
        char opt[32];
        snprintf(opt, sizeof opt, "--%s", bad[i].key);
        cr_assert(strstr(sl_last_error(), opt), "%s --%s %s: %s", bad[i].analysis, bad[i].key, bad[i].val,
                  sl_last_error());
    }
    free(out);
    free(run);
    sl_config_free(c);
    tu_rmtree(dir);
}

Test(cnn, preferred_stimuli_conv_location)
{
    sl_cnn *m;
    sl_rng rng;
    sl_rng_seed(&rng, 5);
    cr_assert_eq(sl_cnn_create("conv(3,3,p=1), relu, maxpool(2), linear(5), relu, linear(3)", 1, 6, 6,
                               &rng, &m), SL_OK);
    enum { B = 4 };
    sl_real ib[B * 36], ia[B * 36];
    double ab[B], aa[B], cp[B * 3];
    sl_tuning_result r = {0, ib, ia, ab, aa, cp, 0, 0};
    sl_tuning_spec sp = {.layer = 1, .unit = 2, .at_y = 3, .at_x = 2, .batch = B, .steps = 100,
                         .lr = 0.01, .l2 = 0.1, .mean = 0.5, .std = 0.25, .seed = 9};
    cr_assert_eq(sl_cnn_preferred_stimuli(m, &sp, &r), SL_OK, "%s", sl_last_error());
    cr_assert_eq(r.unit, 2);
    cr_assert_lt(r.loss_last, r.loss_first);
    double sb = 0, sa = 0;
    for (int b = 0; b < B; b++) sb += ab[b] * ab[b], sa += aa[b] * aa[b];
    cr_assert_gt(sa, sb, "Σa² %g -> %g", sb, sa);
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int k = 0; k < 3; k++) s += cp[b * 3 + k];
        cr_assert_float_eq(s, 1.0, 1e-9);
    }
    sp.at_y = 9;
    cr_assert_eq(sl_cnn_preferred_stimuli(m, &sp, &r), SL_EINVAL);
    sl_cnn_free(m);
}

/* Trains the run of the INI text into run (create, run, finish: each must
 * succeed) and returns its config (free it) */
static sl_config *train_ini(const char *ini, const char *run, sl_epoch_stats *s)
{
    sl_config *c;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    cr_assert_eq(sl_config_load_string(c, ini, "test"), SL_OK, "%s", sl_last_error());
    sl_trainer *t;
    cr_assert_eq(sl_trainer_create(c, run, &t), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_trainer_run(t, NULL, NULL), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_trainer_finish(t, 1.0, s), SL_OK, "%s", sl_last_error());
    sl_trainer_free(t);
    return c;
}

Test(cnn, fashion_mnist_tiny_run, .timeout = 120)
{
    FILE *probe = fopen("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz", "rb");
    if (!probe) cr_skip_test("Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)");
    fclose(probe);
    char *dir = tu_tmpdir();
    char *run = tu_path(dir, "run");
    mkdir(run, 0755);
    sl_epoch_stats s;
    sl_config *c = train_ini("[model]\ntype = cnn\nlayers = " SEED_LAYERS "\n"
                             "[task]\nname = fashion_mnist\nn_train = 480\nn_test = 300\n"
                             "[train]\nepochs = 3\nbatch = 16\nlr = 2e-3\nval_every = 1\n",
                             run, &s);
    cr_assert_gt(s.val_accuracy, 0.5, "test accuracy %g after 90 steps (chance 0.1)", s.val_accuracy);
    sl_config_free(c);
    free(run);
    tu_rmtree(dir);
}

/* ------------------------------------------------------------- gratings */

Test(cnn, grating_generator)
{
    enum { S = 16 };
    float a[S * S], b[S * S];
    sl_grating_spec g = {0, 3, 0, 1, 0, 0};
    sl_grating(a, S, &g, NULL); /* vertical: every row the same */
    for (int y = 1; y < S; y++)
        for (int x = 0; x < S; x++) cr_assert_float_eq(a[y * S + x], a[x], 1e-6);
    double lo = 1, hi = 0;
    for (int i = 0; i < S * S; i++) lo = fmin(lo, a[i]), hi = fmax(hi, a[i]);
    cr_assert(lo >= 0 && hi <= 1 && hi - lo > 0.9, "full contrast spans [0,1]: %g..%g", lo, hi);
    g.tilt_deg = 90; /* horizontal: every column the same */
    sl_grating(a, S, &g, NULL);
    for (int y = 0; y < S; y++)
        for (int x = 1; x < S; x++) cr_assert_float_eq(a[y * S + x], a[y * S], 1e-6);
    g.tilt_deg = 20; /* clockwise and counter-clockwise tilts are mirror images */
    sl_grating(a, S, &g, NULL);
    g.tilt_deg = -20;
    sl_grating(b, S, &g, NULL);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) cr_assert_float_eq(a[y * S + x], b[y * S + (S - 1 - x)], 1e-5);
    g.contrast = 0, g.noise = 0.2;
    sl_rng rng;
    sl_rng_seed(&rng, 1);
    sl_grating(a, S, &g, &rng); /* zero contrast: noise around 0.5 */
    double m = 0;
    for (int i = 0; i < S * S; i++) m += a[i] / (S * S);
    cr_assert_float_eq(m, 0.5, 0.05);
    g.contrast = 1, g.noise = 0, g.sigma = 2; /* aperture: the corners are grey */
    sl_grating(a, S, &g, NULL);
    cr_assert_float_eq(a[0], 0.5, 1e-3);
}

sl_status sl_run_gratings(sl_analysis_ctx *ctx);

Test(cnn, gratings_task_and_analysis, .timeout = 120)
{
    char *dir = tu_tmpdir();
    char *run = tu_path(dir, "run");
    mkdir(run, 0755);
    sl_epoch_stats s;
    sl_config *c = train_ini("[model]\ntype = cnn\nlayers = conv(4,5,p=2), relu, maxpool(2), "
                             "linear(16), relu, linear(2)\n"
                             "[task]\nname = gratings\ngrating_size = 16\ngrating_sf = 3\n"
                             "tilt_min = 5\nn_train = 1200\nn_test = 300\n"
                             "[train]\nepochs = 3\nbatch = 16\nlr = 3e-3\nval_every = 3\n",
                             run, &s);
    cr_assert_gt(s.val_accuracy, 0.9, "held-out gratings accuracy %g", s.val_accuracy);
    sl_analysis_ctx ctx = {0};
    ctx.run_dir = run;
    ctx.config = c;
    const char *keys[] = {"trials"}, *vals[] = {"50x"};
    ctx.n_opts = 1, ctx.opt_keys = keys, ctx.opt_vals = vals;
    char *an = tu_path(run, "analysis"), *out = tu_path(run, "analysis/gratings");
    mkdir(an, 0755);
    mkdir(out, 0755);
    ctx.out_dir = out;
    cr_assert_eq(sl_run_gratings(&ctx), SL_EINVAL, "--trials 50x accepted");
    cr_assert(strstr(sl_last_error(), "--trials"), "%s", sl_last_error());
    vals[0] = "50";
    cr_assert_eq(sl_run_gratings(&ctx), SL_OK, "%s", sl_last_error());
    char *f = tu_path(out, "psychometric.npy");
    size_t n;
    double *p = tu_npy_doubles(f, &n, TU_DT(SL_F64));
    cr_assert_not_null(p);
    cr_assert_eq(n, 14 * 3);
    cr_assert_float_eq(p[0], -45, 1e-12);
    cr_assert_gt(p[2], 0.9, "accuracy at -45 deg %g", p[2]);
    cr_assert_gt(p[13 * 3 + 2], 0.9, "accuracy at +45 deg %g", p[13 * 3 + 2]);
    free(p), free(f);
    f = tu_path(out, "rdm_layer_0.npy");
    p = tu_npy_doubles(f, &n, TU_DT(SL_F64));
    cr_assert_eq(n, 18 * 18);
    for (int k = 0; k < 18; k++) {
        cr_assert_eq(p[k * 18 + k], 0);
        for (int l = 0; l < 18; l++) cr_assert_float_eq(p[k * 18 + l], p[l * 18 + k], 1e-12);
    }
    /* the first convolution is linear: its RDM must still tell orientations apart */
    double mx = 0;
    for (int k = 0; k < 18 * 18; k++) mx = fmax(mx, p[k]);
    cr_assert_gt(mx, 0.1, "layer 0 RDM max %g", mx);
    free(p), free(f);
    /* the report draws the psychometric curve from what the analysis wrote */
    char *cfg = tu_path(run, "config.ini");
    FILE *cf = fopen(cfg, "w");
    cr_assert_not_null(cf);
    fputs("[model]\ntype = cnn\n", cf);
    fclose(cf);
    sl_figure_opts fo;
    sl_figure_opts_init(&fo);
    cr_assert_eq(sl_figure_render(run, "psychometric", &fo, NULL), SL_OK, "%s", sl_last_error());
    free(cfg), free(an), free(out), free(run);
    sl_config_free(c);
    tu_rmtree(dir);
}

sl_status sl_run_rsa_it(sl_analysis_ctx *ctx);

Test(cnn, rsa_it_kriegeskorte, .timeout = 120)
{
    const char *data = "../shared/data/kriegeskorte2008_92images_rsa/"
                       "Kriegeskorte_Neuron2008_supplementalData.mat";
    FILE *probe = fopen(data, "rb");
    if (!probe) cr_skip_test("the Kriegeskorte 2008 data is not at %s", data);
    fclose(probe);
    /* an untrained 12×12 network is enough to exercise the pipeline */
    char *dir = tu_tmpdir();
    char *ck = tu_path(dir, "checkpoint.safetensors");
    sl_rng rng;
    sl_rng_seed(&rng, 4);
    sl_cnn *m;
    cr_assert_eq(sl_cnn_create("conv(4,3,p=1), relu, maxpool(2), linear(5)", 1, 12, 12, &rng, &m), SL_OK);
    sl_kv kv[] = {{"norm_mean", "0.5"}, {"norm_std", "0.25"}};
    cr_assert_eq(sl_cnn_save(m, ck, kv, 2), SL_OK);
    sl_cnn_free(m);
    sl_config *c;
    cr_assert_eq(sl_config_new(&c), SL_OK);
    cr_assert_eq(sl_config_set(c, "model.type", "cnn", "test"), SL_OK);
    sl_analysis_ctx ctx = {0};
    ctx.run_dir = dir;
    ctx.config = c;
    const char *keys[] = {"perms", "data"}, *vals[] = {"0", data};
    ctx.n_opts = 2, ctx.opt_keys = keys, ctx.opt_vals = vals;
    ctx.out_dir = dir;
    cr_assert_eq(sl_run_rsa_it(&ctx), SL_EINVAL, "--perms 0 accepted");
    cr_assert(strstr(sl_last_error(), "--perms"), "%s", sl_last_error());
    vals[0] = "20";
    cr_assert_eq(sl_run_rsa_it(&ctx), SL_OK, "%s", sl_last_error());
    cJSON *s = read_json(dir, "summary.json");
    const double mh = cJSON_GetObjectItem(s, "spearman_monkey_vs_human_it")->valuedouble;
    cr_assert(mh > 0.2 && mh < 1, "monkey vs human IT Spearman %g", mh);
    cJSON *layers = cJSON_GetObjectItem(s, "layers");
    cr_assert_eq(cJSON_GetArraySize(layers), 4);
    for (int i = 0; i < 4; i++) {
        cJSON *l = cJSON_GetArrayItem(layers, i);
        const double r = cJSON_GetObjectItem(l, "spearman_monkey_it")->valuedouble;
        const double p = cJSON_GetObjectItem(l, "p_monkey_it")->valuedouble;
        cr_assert(r >= -1 && r <= 1 && p > 0 && p <= 1, "layer %d: r %g p %g", i, r, p);
    }
    cJSON_Delete(s);
    char *f = tu_path(dir, "rdm_layer_3.npy");
    size_t n;
    double *rdm = tu_npy_doubles(f, &n, TU_DT(SL_F64));
    cr_assert_eq(n, 92 * 92);
    for (int i = 0; i < 92; i++) cr_assert_float_eq(rdm[i * 92 + i], 0, 1e-12);
    free(rdm), free(f), free(ck);
    sl_config_free(c);
    tu_rmtree(dir);
}
