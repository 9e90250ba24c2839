/* test_report.c — figures and the HTML report (src/report/) from small
 * fixture run directories written here with sl_npy_write: every figure
 * renders to a PNG of its stated size with non-trivial content (libpng:
 * pixel variance) and to well-formed SVG (libxml2); the output is
 * byte-identical on a second render; a run missing analyses still gets a
 * report that names the commands; and the report opens in headless
 * Chromium with every image loaded and no console errors (a screenshot is
 * kept at build/tests/report-screenshot.png). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "silico.h"
#include "testutil.h"

/* ---- fixtures ---- */

static void npy(const char *dir, const char *rel, sl_dtype t, int nd, const int64_t *shape, double (*fn)(const int64_t *idx))
{
    sl_array a;
    cr_assert_eq(sl_array_alloc(&a, t, nd, shape), SL_OK);
    size_t n = sl_array_numel(&a);
    for (size_t i = 0; i < n; i++) {
        int64_t idx[SL_MAX_DIMS], r = (int64_t)i;
        for (int k = nd - 1; k >= 0; k--) {
            idx[k] = r % shape[k];
            r /= shape[k];
        }
        double v = fn(idx);
        switch (t) {
        case SL_F32: ((float *)a.data)[i] = (float)v; break;
        case SL_F64: ((double *)a.data)[i] = v; break;
        case SL_I32: ((int32_t *)a.data)[i] = (int32_t)v; break;
        case SL_U8: ((uint8_t *)a.data)[i] = (uint8_t)v; break;
        default: break;
        }
    }
    char *p = tu_path(dir, rel);
    cr_assert_eq(sl_npy_write(p, &a), SL_OK, "%s: %s", rel, sl_last_error());
    free(p);
    sl_array_free(&a);
}

static void text(const char *dir, const char *rel, const char *s)
{
    char *p = tu_path(dir, rel);
    cr_assert_eq(tu_write_file(p, s), 0, "%s", p);
    free(p);
}

static void mkdirs(const char *dir, const char *rel)
{
    char *p = tu_path(dir, rel);
    for (char *s = p + strlen(dir) + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0777);
            *s = '/';
        }
    mkdir(p, 0777);
    free(p);
}

enum { C = 4, T = 30, N = 12, NI = 3, NO = 2, P = 3 };

/* smooth, condition-dependent trajectories: a rotation in the first units */
static double ang(const int64_t *i) { return 2 * M_PI * i[0] / C; }
static double f_u(const int64_t *i) { return i[2] == 0 ? cos(ang(i)) * (i[1] < 10) : i[2] == 1 ? sin(ang(i)) * (i[1] < 10) : (i[1] == 10); }
static double f_y(const int64_t *i) { return i[1] > 10 ? sin(0.3 * (i[1] - 10) + ang(i) + i[2]) : 0; }
static double f_z(const int64_t *i) { return 0.9 * f_y(i) + 0.02 * cos(i[1]); }
static double f_x(const int64_t *i) { return sin(0.2 * i[1] + ang(i) + 0.7 * i[2]) * (1 + 0.1 * i[2]); }
static double f_r(const int64_t *i) { return tanh(f_x(i) > 0 ? f_x(i) : 0); }
static double f_time(const int64_t *i) { return (i[0] - 10) * 0.02; }
/* components: the first 3 unit axes mixed */
static double f_comp(const int64_t *i) { return i[1] == i[0] ? 0.8 : i[1] == (i[0] + 1) % N ? 0.6 : 0; }
static double comp(int k, int n) { int64_t i[2] = {k, n}; return f_comp(i); }
/* proj = components · (x − mean over c,t of x) */
static double xmean(int n)
{
    double s = 0;
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T; t++) {
            int64_t i[3] = {c, t, n};
            s += f_x(i);
        }
    return s / (C * T);
}
static double f_proj(const int64_t *i)
{
    double s = 0;
    for (int n = 0; n < N; n++) {
        int64_t j[3] = {i[0], i[1], n};
        s += comp((int)i[2], n) * (f_x(j) - xmean(n));
    }
    return s;
}
static double f_evr(const int64_t *i) { return 0.5 / (1 + i[0]); }
static double f_points(const int64_t *i) { return 0.3 * (i[0] - 1) * (i[1] < 3) + 0.05 * i[1] * (i[0] == 2); }
static double f_stable(const int64_t *i) { return i[0] != 1; }
static double f_nun(const int64_t *i) { return i[0] == 1 ? 2 : 0; }
static double f_modes(const int64_t *i) { return i[2] == i[1] ? 1 : 0.1; }
static double f_eig(const int64_t *i)
{
    double mag = (i[0] == 1 && i[1] < 2) ? 1.1 : 0.9 * exp(-0.1 * i[1]);
    double th = 0.4 * i[1];
    return i[2] == 0 ? mag * cos(th) : mag * sin(th);
}
static double f_eigc(const int64_t *i)
{
    double re = (i[0] == 1 && i[1] < 2) ? 0.2 : -0.1 - 0.05 * i[1];
    return i[2] == 0 ? re : 0.3 * sin(i[1]);
}
static double f_q(const int64_t *i) { return 1 + sin(0.3 * i[1] + i[0]) + 0.1 * i[0]; }
static double f_qz(const int64_t *i) { return 2 + cos(0.2 * i[1] - i[0]); }
static double f_qy(const int64_t *i) { return 1.5 + 0.5 * sin(0.1 * i[1] * (i[0] + 1)); }
static double f_jpca(const int64_t *i) { return (i[2] % 2 ? sin : cos)(0.2 * i[1] + ang(i)) * (1 - 0.02 * i[1]) / (1 + i[2] / 2); }
static double f_dprime(const int64_t *i) { return 3 * sin(1.7 * i[0]) + 0.2 * i[0]; }
static double f_maxact(const int64_t *i) { return 0.5 + 0.03 * i[0]; }
static double f_rdm(const int64_t *i) { return i[0] == i[1] ? 0 : fabs(sin(i[0] - i[1])) + 0.1 * (i[0] + i[1]); }
static double f_rdm2(const int64_t *i) { return i[0] == i[1] ? 0 : fabs(cos(i[0] * i[1])) + 0.05 * (i[0] + i[1]); }
static double f_gate(const int64_t *i) { return 1 / (1 + exp(-sin(0.2 * i[1] + i[2] + i[0]))); }
static double f_img(const int64_t *i) { return 0.5 + 0.5 * sin(0.5 * i[2] + 0.3 * i[3] + i[0]); }
static double f_img3(const int64_t *i) { return 0.5 + 0.5 * sin(0.5 * i[1] + 0.3 * i[2] + i[0]); }
static double f_fmap(const int64_t *i) { return fmax(0, sin(0.4 * i[2] * (1 + i[1]) + 0.2 * i[3])); }
static double f_act(const int64_t *i) { return 0.1 + 0.2 * i[0]; }
static double f_psy(const int64_t *i) { return i[1] == 0 ? 1 + 5 * i[0] : 0.5 + 0.48 * (1 - exp(-(1 + 5 * i[0]) / 8.0)); }

static const char *METRICS_REG =
    "{\"epoch\":1,\"loss\":0.5,\"train_error_pct\":90}\n"
    "{\"epoch\":2,\"loss\":0.2,\"train_error_pct\":40,\"val_loss\":0.25,\"val_error_pct\":45}\n"
    "{\"epoch\":3,\"loss\":0.1,\"train_error_pct\":20}\n"
    "{\"epoch\":4,\"loss\":0.05,\"train_error_pct\":10,\"val_loss\":0.06,\"val_error_pct\":12}\n"
    "{\"epoch\":5,\"loss\":0.03,\"train_error_pct\":6,\"val_loss\":0.04,\"val_error_pct\":8}\n";

static const char *PERTURB_REG =
    "{\"input\":[{\"strength\":0.05,\"mean_error_pct\":5,\"sd_error_pct\":1},"
    "{\"strength\":0.1,\"mean_error_pct\":12,\"sd_error_pct\":2},{\"strength\":0.2,\"mean_error_pct\":30,\"sd_error_pct\":4}],"
    "\"weight\":[{\"strength\":0.1,\"mean_error_pct\":20,\"sd_error_pct\":3},"
    "{\"strength\":0.4,\"mean_error_pct\":60,\"sd_error_pct\":9}],\"repeats\":30}";
static const char *PERTURB_UNREG =
    "{\"input\":[{\"strength\":0.05,\"mean_error_pct\":9,\"sd_error_pct\":2},"
    "{\"strength\":0.1,\"mean_error_pct\":25,\"sd_error_pct\":5},{\"strength\":0.2,\"mean_error_pct\":70,\"sd_error_pct\":12}],"
    "\"weight\":[{\"strength\":0.1,\"mean_error_pct\":90,\"sd_error_pct\":15},"
    "{\"strength\":0.4,\"mean_error_pct\":200,\"sd_error_pct\":40}],\"repeats\":30}";

/* A recurrent run with every analysis of outputs.md (kind "ctrnn" or "lstm"). */
static char *fixture_rnn(const char *kind, const char *perturb)
{
    char *d = tu_tmpdir();
    cr_assert_not_null(d);
    char cfg[128];
    snprintf(cfg, sizeof cfg, "[run]\nname = fixture\n[model]\ntype = %s\nhidden = %d\n", kind, N);
    text(d, "config.ini", cfg);
    text(d, "metrics.jsonl", METRICS_REG);
    text(d, "summary.json", "{\"train_error_pct\": 6, \"val_error_pct\": 8, \"epochs\": 5}");
    mkdirs(d, "analysis/activity");
    const int64_t ctin[3] = {C, T, NI}, ctout[3] = {C, T, NO}, ctn[3] = {C, T, N}, t1[1] = {T};
    npy(d, "analysis/activity/u.npy", SL_F32, 3, ctin, f_u);
    npy(d, "analysis/activity/y.npy", SL_F32, 3, ctout, f_y);
    npy(d, "analysis/activity/z.npy", SL_F32, 3, ctout, f_z);
    npy(d, "analysis/activity/x.npy", SL_F32, 3, ctn, f_x);
    npy(d, "analysis/activity/r.npy", SL_F32, 3, ctn, f_r);
    npy(d, "analysis/activity/time.npy", SL_F64, 1, t1, f_time);
    text(d, "analysis/activity/summary.json", "{\"time_zero\": \"go cue\"}");
    /* as the activity analysis writes them: every trial variable and a long label */
    char conds[1024] = "[";
    for (int c = 0; c < C; c++)
        snprintf(conds + strlen(conds), sizeof conds - strlen(conds),
                 "%s{\"condition\":%d,\"angle_deg\":%d,\"delay_ms\":700,\"go_step\":10,"
                 "\"label\":\"condition=%d angle_deg=%d delay_ms=700 go_step=10\"}",
                 c ? "," : "", c, 90 * c, c, 90 * c);
    strcat(conds, "]");
    text(d, "analysis/activity/conditions.json", conds);
    if (!strcmp(kind, "lstm")) {
        const char *g[] = {"gate_i", "gate_f", "gate_g", "gate_o", "cell"};
        for (int k = 0; k < 5; k++) {
            char rel[64];
            snprintf(rel, sizeof rel, "analysis/activity/%s.npy", g[k]);
            npy(d, rel, SL_F32, 3, ctn, f_gate);
        }
    }
    mkdirs(d, "analysis/perturb");
    text(d, "analysis/perturb/summary.json", perturb);
    mkdirs(d, "analysis/selectivity");
    const int64_t n1[1] = {N};
    npy(d, "analysis/selectivity/dprime.npy", SL_F64, 1, n1, f_dprime);
    npy(d, "analysis/selectivity/max_activation.npy", SL_F64, 1, n1, f_maxact);
    mkdirs(d, "analysis/decode");
    text(d, "analysis/decode/summary.json", "{\"trials\": 160, \"folds\": 5}");
    mkdirs(d, "analysis/encode");
    text(d, "analysis/encode/summary.json", "{\"median_r2\": 0.4}");
    mkdirs(d, "analysis/pca");
    const int64_t ct3[3] = {C, T, 3}, k1[1] = {3}, kn[2] = {3, N};
    npy(d, "analysis/pca/proj.npy", SL_F64, 3, ct3, f_proj);
    npy(d, "analysis/pca/explained_variance_ratio.npy", SL_F64, 1, k1, f_evr);
    npy(d, "analysis/pca/components.npy", SL_F64, 2, kn, f_comp);
    text(d, "analysis/pca/summary.json", "{\"participation_ratio\": 2.4}");
    mkdirs(d, "analysis/fixedpoints");
    const int64_t pn[2] = {P, N}, p1[1] = {P}, p3n[3] = {P, 3, N}, pn2[3] = {P, N, 2};
    npy(d, "analysis/fixedpoints/points.npy", SL_F64, 2, pn, f_points);
    npy(d, "analysis/fixedpoints/stable.npy", SL_U8, 1, p1, f_stable);
    npy(d, "analysis/fixedpoints/n_unstable.npy", SL_I32, 1, p1, f_nun);
    npy(d, "analysis/fixedpoints/unstable_modes.npy", SL_F64, 3, p3n, f_modes);
    npy(d, "analysis/fixedpoints/eigenvalues_discrete.npy", SL_F64, 3, pn2, f_eig);
    npy(d, "analysis/fixedpoints/eigenvalues.npy", SL_F64, 3, pn2, f_eigc);
    text(d, "analysis/fixedpoints/summary.json", "{\"n_unique\": 3, \"n_stable\": 2}");
    mkdirs(d, "analysis/tangling");
    const int64_t ct[2] = {C, T};
    npy(d, "analysis/tangling/q.npy", SL_F64, 2, ct, f_q);
    npy(d, "analysis/tangling/q_output.npy", SL_F64, 2, ct, f_qz);
    npy(d, "analysis/tangling/q_target.npy", SL_F64, 2, ct, f_qy);
    text(d, "analysis/tangling/summary.json", "{\"tangling_median\": 1.3}");
    mkdirs(d, "analysis/jpca");
    const int64_t ct6[3] = {C, T, 6};
    npy(d, "analysis/jpca/proj.npy", SL_F64, 3, ct6, f_jpca);
    text(d, "analysis/jpca/summary.json", "{\"rotation_strength\": 0.81}");
    mkdirs(d, "analysis/compare");
    const int64_t cc[2] = {8, 8};
    npy(d, "analysis/compare/model_rdm.npy", SL_F64, 2, cc, f_rdm);
    npy(d, "analysis/compare/data_rdm.npy", SL_F64, 2, cc, f_rdm2);
    npy(d, "analysis/compare/model_pcs.npy", SL_F64, 3, ct3, f_proj);
    npy(d, "analysis/compare/data_pcs.npy", SL_F64, 3, ct3, f_jpca);
    npy(d, "analysis/compare/time.npy", SL_F64, 1, t1, f_time);
    text(d, "analysis/compare/compare.json",
         "{\"cca_mean_r2\":0.61,\"cka_linear\":0.72,\"rsa_spearman\":0.43,\"procrustes\":0.5,"
         "\"model\":{\"rotation_strength\":0.8,\"tangling_median\":1.3,\"dimensionality\":3.1},"
         "\"data\":{\"rotation_strength\":0.7,\"tangling_median\":0.9,\"dimensionality\":5.2}}");
    return d;
}

/* A CNN run: no config.ini the current schema knows, activity images. */
static char *fixture_cnn(void)
{
    char *d = tu_tmpdir();
    text(d, "metrics.jsonl",
         "{\"epoch\":1,\"loss\":1.2,\"val_loss\":0.9,\"val_accuracy\":0.7}\n"
         "{\"epoch\":2,\"loss\":0.6,\"val_loss\":0.5,\"val_accuracy\":0.85}\n"
         "{\"epoch\":3,\"loss\":0.4,\"val_loss\":0.45,\"val_accuracy\":0.88}\n");
    text(d, "summary.json", "{\"accuracy\": 0.88}");
    mkdirs(d, "analysis/activity");
    const int64_t im[4] = {2, 1, 12, 12}, l1[4] = {2, 6, 12, 12}, l2[2] = {2, 10};
    npy(d, "analysis/activity/images.npy", SL_F32, 4, im, f_img);
    npy(d, "analysis/activity/layer_1_conv1.npy", SL_F32, 4, l1, f_fmap);
    npy(d, "analysis/activity/layer_5_fc1.npy", SL_F32, 2, l2, f_act);
    mkdirs(d, "analysis/tuning");
    const int64_t tb[3] = {8, 12, 12}, a8[1] = {8};
    npy(d, "analysis/tuning/images_before.npy", SL_F32, 3, tb, f_img3);
    npy(d, "analysis/tuning/images_after.npy", SL_F32, 3, tb, f_img3);
    npy(d, "analysis/tuning/activity_before.npy", SL_F32, 1, a8, f_act);
    npy(d, "analysis/tuning/activity_after.npy", SL_F32, 1, a8, f_act);
    mkdirs(d, "analysis/gratings");
    const int64_t ps[2] = {9, 2}, r6[2] = {6, 6};
    npy(d, "analysis/gratings/psychometric.npy", SL_F64, 2, ps, f_psy);
    npy(d, "analysis/gratings/rdm_layer_1.npy", SL_F64, 2, r6, f_rdm);
    npy(d, "analysis/gratings/rdm_layer_2.npy", SL_F64, 2, r6, f_rdm2);
    return d;
}

/* Remove a fixture run, or keep it and say where when SILICO_TEST_KEEP is
 * set (to look at the figures). */
static void done(char *dir)
{
    if (getenv("SILICO_TEST_KEEP")) {
        fprintf(stderr, "kept %s\n", dir);
        free(dir);
    } else
        tu_rmtree(dir);
}

/* ---- checks ---- */

/* Decode a PNG: width, height and the variance of its grey levels. */
static void png_stats(const char *path, int *w, int *h, double *var)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, path), "%s: not a PNG: %s", path, img.message);
    img.format = PNG_FORMAT_GRAY;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, buf, 0, NULL), "%s: %s", path, img.message);
    double s = 0, s2 = 0;
    size_t n = (size_t)img.width * img.height;
    for (size_t i = 0; i < n; i++) s += buf[i], s2 += (double)buf[i] * buf[i];
    *w = (int)img.width;
    *h = (int)img.height;
    *var = s2 / n - (s / n) * (s / n);
    free(buf);
}

static int count_elements(xmlNodePtr n)
{
    int k = 0;
    for (; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE) k += 1 + count_elements(n->children);
    return k;
}

static void check_svg(const char *path)
{
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    cr_assert_not_null(doc, "%s: not well-formed XML", path);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    cr_assert(root && !strcmp((const char *)root->name, "svg"), "%s: root element is not <svg>", path);
    cr_assert_gt(count_elements(root), 50, "%s: an almost empty SVG", path);
    xmlFreeDoc(doc);
}

/* Render figure name of run; check PNG size and content, SVG, script. */
static void render_and_check(const char *run, const char *name, const sl_figure_opts *o)
{
    char *warn = NULL;
    sl_status st = sl_figure_render(run, name, o, &warn);
    cr_assert_eq(st, SL_OK, "figure %s: %s", name, sl_last_error());
    cr_expect_null(warn, "figure %s: gnuplot warned: %s", name, warn ? warn : "");
    free(warn);
    const sl_figure_def *d = sl_figure_find(name);
    char rel[128];
    snprintf(rel, sizeof rel, "figures/%s.png", name);
    char *png = tu_path(run, rel);
    int w, h;
    double var;
    png_stats(png, &w, &h, &var);
    cr_expect_eq(w, o && o->width ? o->width : d->width, "%s: width %d", name, w);
    cr_expect_eq(h, o && o->height ? o->height : d->height, "%s: height %d", name, h);
    cr_expect_gt(var, 100.0, "%s: grey-level variance %.1f: a blank canvas?", name, var);
    snprintf(rel, sizeof rel, "figures/%s.svg", name);
    char *svg = tu_path(run, rel);
    check_svg(svg);
    snprintf(rel, sizeof rel, "figures/%s.gp", name);
    char *gp = tu_path(run, rel);
    size_t n;
    char *script = tu_read_file(gp, &n);
    cr_assert_not_null(script, "%s missing", gp);
    cr_expect(strstr(script, "pngcairo") && strstr(script, "set terminal svg"), "%s: both terminals", gp);
    free(script);
    free(png);
    free(svg);
    free(gp);
}

static void opts(sl_figure_opts *o) { sl_figure_opts_init(o); }

Test(report, every_recurrent_figure_renders)
{
    char *run = fixture_rnn("lstm", PERTURB_REG);
    const char *names[] = {"curves", "task", "psth", "perturb", "selectivity", "pca", "pca3d", "jpca",
                           "eigen", "tangling", "tangling-muscles", "compare-pcs", "rdm", "gates"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const sl_figure_def *d = sl_figure_find(names[i]);
        cr_assert_not_null(d, "%s", names[i]);
        const char *missing;
        cr_assert(sl_figure_ready(run, d, &missing), "%s not ready: %s", names[i], missing);
        render_and_check(run, names[i], NULL);
    }
    /* legends name conditions by what differs between them */
    char *gp = tu_path(run, "figures/psth.gp");
    size_t ng;
    char *g = tu_read_file(gp, &ng);
    cr_expect(g && strstr(g, "\"— 270°\""), "psth.gp: no short condition label");
    cr_expect(g && !strstr(g, "delay\\_ms"), "psth.gp: a variable common to every condition in a label");
    cr_expect(g && !strstr(g, "recorded neuron"), "psth.gp: recorded neurons without compare's rates");
    free(g);
    free(gp);
    /* the fixed points were placed in the PCA space (offset recovered from x.npy) */
    char *fp = tu_path(run, "figures/pca_fixedpoints.dat");
    size_t n;
    char *s = tu_read_file(fp, &n);
    cr_assert_not_null(s, "pca: fixed points not drawn");
    free(s);
    free(fp);
    done(run);
}

Test(report, every_cnn_figure_renders)
{
    char *run = fixture_cnn();
    const char *names[] = {"curves", "feature-maps", "preferred", "psychometric", "rdm-layers"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) render_and_check(run, names[i], NULL);
    /* recurrent-only figures do not apply to a CNN */
    cr_expect_not(sl_figure_applies(run, sl_figure_find("pca")));
    sl_figure_opts o;
    opts(&o);
    o.layer = 5; /* a dense layer has no feature maps */
    cr_expect_neq(sl_figure_render(run, "feature-maps", &o, NULL), SL_OK);
    cr_expect(strstr(sl_last_error(), "not a convolutional layer"), "%s", sl_last_error());
    done(run);
}

Test(report, options_size_and_second_run)
{
    char *a = fixture_rnn("ctrnn", PERTURB_REG), *b = fixture_rnn("ctrnn", PERTURB_UNREG);
    sl_figure_opts o;
    opts(&o);
    o.other_run = b;
    o.width = 640;
    o.height = 400;
    render_and_check(a, "perturb", &o);
    render_and_check(a, "curves", &o);
    /* both runs' bars: the data file has two (mean, sd) pairs per level */
    char *dat = tu_path(a, "figures/perturb_weight.dat");
    size_t n;
    char *s = tu_read_file(dat, &n);
    cr_assert_not_null(s);
    cr_expect(strstr(s, "0.1 20 3 90 15"), "perturb_weight.dat:\n%s", s);
    free(s);
    free(dat);
    int units[2] = {1, 5}, conds[1] = {3};
    opts(&o);
    o.units = units;
    o.n_units = 2;
    o.conditions = conds;
    o.n_conditions = 1;
    render_and_check(a, "psth", &o);
    o.n_units = 1; /* output channel 1 of 2 */
    render_and_check(a, "task", &o);
    o.n_units = 2;
    units[1] = N;
    cr_expect_neq(sl_figure_render(a, "psth", &o, NULL), SL_OK, "unit out of range accepted");
    cr_expect(strstr(sl_last_error(), "out of range"), "%s", sl_last_error());
    cr_expect_eq(sl_figure_render(a, "nonsense", NULL, NULL), SL_EINVAL);
    done(a);
    done(b);
}

/* recorded neuron n of 7: neuron 5 varies most, then 2, 6, 0 */
static double f_drate(const int64_t *i)
{
    static const double amp[7] = {2, 0.1, 4, 0.2, 0.3, 9, 3};
    return 10 + amp[i[2]] * sin(0.2 * i[1] + ang(i));
}

Test(report, psth_with_recorded_neurons)
{
    char *run = fixture_rnn("ctrnn", PERTURB_REG);
    const int64_t ctn[3] = {C, T, N}, ct7[3] = {C, T, 7};
    npy(run, "analysis/compare/model_rates.npy", SL_F64, 3, ctn, f_r);
    npy(run, "analysis/compare/data_rates.npy", SL_F64, 3, ct7, f_drate);
    render_and_check(run, "psth", NULL);
    char *gp = tu_path(run, "figures/psth.gp");
    size_t n;
    char *g = tu_read_file(gp, &n);
    cr_assert_not_null(g);
    cr_expect(strstr(g, "\"recorded neuron 5 (data)\"") && strstr(g, "\"recorded neuron 2 (data)\"") &&
                  strstr(g, "\"recorded neuron 6 (data)\"") && strstr(g, "\"recorded neuron 0 (data)\"") &&
                  !strstr(g, "recorded neuron 1 "),
              "psth.gp: not the 4 most variable neurons");
    cr_expect(strstr(g, "rate (data units)") && strstr(g, "\"unit ") && strstr(g, "time from movement onset (s)"),
              "psth.gp: labels");
    cr_expect(strstr(g, "\"— 270°\""), "psth.gp: no condition legend");
    free(g);
    free(gp);
    /* the recorded neurons' values, in their units, in the data file */
    char *dat = tu_path(run, "figures/psth_data_rates.dat");
    char *s = tu_read_file(dat, &n);
    cr_assert_not_null(s, "psth_data_rates.dat missing");
    free(s);
    free(dat);
    /* a compare without the model's rates is named */
    char *mr = tu_path(run, "analysis/compare/model_rates.npy");
    remove(mr);
    free(mr);
    cr_expect_neq(sl_figure_render(run, "psth", NULL, NULL), SL_OK);
    cr_expect(strstr(sl_last_error(), "model_rates.npy"), "%s", sl_last_error());
    done(run);
}

Test(report, output_is_deterministic)
{
    char *run = fixture_rnn("ctrnn", PERTURB_REG);
    const char *files[] = {"figures/pca.png", "figures/pca.svg", "figures/pca.gp", "figures/pca_traj.dat"};
    char *first[4];
    size_t n1[4];
    cr_assert_eq(sl_figure_render(run, "pca", NULL, NULL), SL_OK, "%s", sl_last_error());
    for (int i = 0; i < 4; i++) {
        char *p = tu_path(run, files[i]);
        first[i] = tu_read_file(p, &n1[i]);
        cr_assert_not_null(first[i], "%s", p);
        free(p);
    }
    cr_assert_eq(sl_figure_render(run, "pca", NULL, NULL), SL_OK, "%s", sl_last_error());
    for (int i = 0; i < 4; i++) {
        char *p = tu_path(run, files[i]);
        size_t n;
        char *again = tu_read_file(p, &n);
        cr_expect(n == n1[i] && !memcmp(again, first[i], n), "%s differs between two renders", files[i]);
        free(again);
        free(first[i]);
        free(p);
    }
    done(run);
}

Test(report, bad_inputs_are_named)
{
    char *run = fixture_rnn("ctrnn", PERTURB_REG);
    /* a z.npy whose conditions do not match u.npy */
    const int64_t bad[3] = {C + 1, T, NO};
    npy(run, "analysis/activity/z.npy", SL_F32, 3, bad, f_z);
    cr_expect_neq(sl_figure_render(run, "task", NULL, NULL), SL_OK);
    cr_expect(strstr(sl_last_error(), "z.npy"), "%s", sl_last_error());
    /* a truncated eigenvalue file */
    text(run, "analysis/fixedpoints/eigenvalues.npy", "\x93NUMPY\x01");
    cr_expect_neq(sl_figure_render(run, "eigen", NULL, NULL), SL_OK);
    cr_expect(strstr(sl_last_error(), "eigenvalues"), "%s", sl_last_error());
    done(run);
}

static char *report_text(const char *run)
{
    char *p = tu_path(run, "report.html");
    size_t n;
    char *s = tu_read_file(p, &n);
    free(p);
    cr_assert_not_null(s, "no report.html in %s", run);
    return s;
}

Test(report, missing_analyses_get_a_note)
{
    char *run = tu_tmpdir();
    text(run, "config.ini", "[model]\ntype = ctrnn\n");
    text(run, "metrics.jsonl", METRICS_REG);
    text(run, "summary.json", "{\"val_error_pct\": 8}");
    const char *runs[1] = {run};
    int nf = -1, nm = -1;
    cr_assert_eq(sl_report_write(runs, 1, NULL, &nf, &nm), SL_OK, "%s", sl_last_error());
    cr_expect_eq(nf, 1, "only the training curves can be drawn (got %d)", nf);
    cr_expect_gt(nm, 5);
    char *s = report_text(run);
    char cmd[512];
    const char *needed[] = {"perturb", "pca", "fixedpoints", "tangling", "selectivity", "jpca"};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
        snprintf(cmd, sizeof cmd, "silico analyze %s --only %s", run, needed[i]);
        cr_expect(strstr(s, cmd), "report lacks '%s'", cmd);
    }
    cr_expect(strstr(s, "silico compare "), "report lacks the compare command");
    cr_expect(strstr(s, "data:image/png;base64,iVBORw0KGgo"), "the curves PNG is not embedded");
    cr_expect_null(strstr(s, "<script"), "the report must need no JavaScript");
    cr_expect_null(strstr(s, "http://"), "the report must need no network");
    free(s);
    done(run);
}

/* Run a command; 0 when it exits 0. */
static int sh(const char *cmd) { return system(cmd); }

Test(report, opens_in_headless_chromium, .timeout = 120)
{
    cr_assert_eq(sh("command -v chromium >/dev/null 2>&1"), 0,
                 "chromium is not installed (scripts/deps.sh installs it: make deps)");
    char *a = fixture_rnn("lstm", PERTURB_REG), *b = fixture_rnn("ctrnn", PERTURB_UNREG);
    const char *runs[2] = {a, b};
    int nf = 0, nm = 0;
    cr_assert_eq(sl_report_write(runs, 2, NULL, &nf, &nm), SL_OK, "%s", sl_last_error());
    cr_expect_gt(nf, 20, "figures embedded: %d", nf);
    char *html = report_text(a);
    cr_expect_null(strstr(html, "class=\"missing\""), "a fixture with every analysis has nothing missing");
    /* a test-only copy of the page with a check that every image decoded;
     * the report itself carries no script */
    char *probe = tu_path(a, "probe.html");
    FILE *f = fopen(probe, "w");
    char *end = strstr(html, "</body>");
    cr_assert_not_null(end);
    fwrite(html, 1, (size_t)(end - html), f);
    fputs("<script>window.addEventListener('load',function(){var im=document.images,ok=0;"
          "for(var i=0;i<im.length;i++)if(im[i].complete&&im[i].naturalWidth>0)ok++;"
          "var p=document.createElement('p');p.id='probe';p.textContent='IMAGES '+ok+' OF '+im.length;"
          "document.body.appendChild(p);});</script></body></html>\n",
          f);
    fclose(f);
    char *udd = tu_tmpdir(), *dom = tu_path(a, "dom.txt"), *log = tu_path(a, "chromium.log"), cmd[4096];
    snprintf(cmd, sizeof cmd,
             "timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir=%s "
             "--virtual-time-budget=5000 --dump-dom 'file://%s' > %s 2>/dev/null",
             udd, probe, dom);
    cr_assert_eq(sh(cmd), 0, "chromium --dump-dom failed: %s", cmd);
    size_t n;
    char *d = tu_read_file(dom, &n);
    char *p = d ? strstr(d, "id=\"probe\">") : NULL;
    int ok = -1, total = -2;
    cr_assert_not_null(p, "the probe did not run");
    sscanf(p, "id=\"probe\">IMAGES %d OF %d", &ok, &total);
    cr_expect_eq(ok, total, "%d of %d images loaded", ok, total);
    cr_expect_eq(total, nf, "%d <img> in the page, %d figures", total, nf);
    /* the report itself: console messages logged, and a screenshot */
    const char *shot = "build/tests/report-screenshot.png";
    struct stat sb;
    char *tmpshot = tu_path(udd, "shot.png");
    if (stat("build/tests", &sb) != 0) shot = tmpshot;
    char *report = tu_path(a, "report.html");
    snprintf(cmd, sizeof cmd,
             "timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir=%s "
             "--enable-logging=stderr --v=0 --hide-scrollbars --window-size=1400,3000 --screenshot=%s "
             "'file://%s' > /dev/null 2> %s",
             udd, shot, report, log);
    cr_assert_eq(sh(cmd), 0, "chromium --screenshot failed: %s", cmd);
    char *l = tu_read_file(log, &n);
    cr_assert_not_null(l);
    cr_expect_null(strstr(l, ":CONSOLE("), "console messages:\n%s", l);
    cr_expect_null(strstr(l, "Failed to load"), "a resource failed to load:\n%s", l);
    int w, h;
    double var;
    png_stats(shot, &w, &h, &var);
    cr_expect_eq(w, 1400);
    cr_expect_gt(var, 100.0, "the screenshot is blank");
    free(l);
    free(d);
    free(html);
    free(probe);
    free(dom);
    free(log);
    free(tmpshot);
    free(report);
    tu_rmtree(udd);
    done(a);
    done(b);
}

/* ---- the command line on a real (tiny) trained run ---- */

/* Run `silico ARGS` with stdout/stderr into dir/out.txt, dir/err.txt; exit status. */
static int silico(const char *dir, const char *args)
{
    char *o = tu_path(dir, "out.txt"), *e = tu_path(dir, "err.txt");
    int rc = tu_silico(args, o, e);
    free(o);
    free(e);
    return rc;
}

static char *captured(const char *dir, const char *name)
{
    char *p = tu_path(dir, name);
    size_t n;
    char *s = tu_read_file(p, &n);
    free(p);
    return s ? s : strdup("");
}

Test(report, cli_plot_and_report_on_a_trained_run, .timeout = 120)
{
    char *dir = tu_tmpdir(), args[1024];
    snprintf(args, sizeof args,
             "train examples/reach.ini task.name=reach_synthetic model.hidden=16 train.epochs=20 --out %s/run --quiet", dir);
    cr_assert_eq(silico(dir, args), 0, "training failed: %s", captured(dir, "err.txt"));
    char *run = tu_path(dir, "run");
    /* no activity analysis yet: task and psth come from the checkpoint */
    const char *figs[] = {"curves", "task", "psth"};
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "plot %s %s", run, figs[i]);
        cr_expect_eq(silico(dir, args), 0, "silico %s: %s", args, captured(dir, "err.txt"));
        char rel[64];
        snprintf(rel, sizeof rel, "figures/%s.png", figs[i]);
        char *png = tu_path(run, rel);
        int w, h;
        double var;
        png_stats(png, &w, &h, &var);
        cr_expect_eq(w, sl_figure_find(figs[i])->width);
        cr_expect_gt(var, 100.0, "%s is blank", png);
        free(png);
    }
    char *gp = tu_path(run, "figures/task.gp"), *dat = tu_path(run, "figures/task_c0.dat");
    size_t n;
    char *s = tu_read_file(gp, &n), *d = tu_read_file(dat, &n);
    cr_expect(s && strstr(s, "time from go cue (s)"), "task.gp: no go-cue time axis");
    cr_expect(d != NULL, "task_c0.dat missing");
    free(s);
    free(d);
    free(gp);
    free(dat);
    /* a figure whose analysis is missing names the command */
    snprintf(args, sizeof args, "plot %s pca", run);
    cr_expect_eq(silico(dir, args), 1);
    char *err = captured(dir, "err.txt"), cmd[1024];
    snprintf(cmd, sizeof cmd, "silico analyze %s --only pca", run);
    cr_expect(strstr(err, cmd), "%s", err);
    free(err);
    /* --help lists every figure with what it reads */
    cr_expect_eq(silico(dir, "plot --help"), 0);
    char *help = captured(dir, "out.txt");
    int nf;
    const sl_figure_def *defs = sl_figure_list(&nf);
    for (int i = 0; i < nf; i++) cr_expect(strstr(help, defs[i].name), "plot --help lacks %s", defs[i].name);
    free(help);
    /* the report: its path on stdout */
    snprintf(args, sizeof args, "report %s", run);
    cr_expect_eq(silico(dir, args), 0, "%s", captured(dir, "err.txt"));
    char *out = captured(dir, "out.txt"), want[1024];
    snprintf(want, sizeof want, "%s/report.html\n", run);
    cr_expect_str_eq(out, want);
    free(out);
    free(run);
    done(dir);
}

static double f_xmean(const int64_t *i) { return xmean((int)i[0]); }

Test(report, pca_fixed_points_with_the_pca_mean)
{
    char *run = fixture_rnn("ctrnn", PERTURB_REG);
    const int64_t n1[1] = {N};
    npy(run, "analysis/pca/mean.npy", SL_F64, 1, n1, f_xmean);
    char *x = tu_path(run, "analysis/activity/x.npy");
    remove(x); /* the mean alone places them */
    free(x);
    render_and_check(run, "pca", NULL);
    char *gp = tu_path(run, "figures/pca.gp"), *dat = tu_path(run, "figures/pca_fixedpoints.dat");
    size_t n;
    char *g = tu_read_file(gp, &n), *d = tu_read_file(dat, &n);
    cr_expect(g && !strstr(g, "not shown"), "pca.gp says the fixed points are not shown");
    cr_expect(d && strstr(d, "index 0: stable"), "pca_fixedpoints.dat missing");
    /* the stable points (0 and 2, in that order) at components · (φ(x*) − mean):
     * mean.npy is the mean rate the PCA subtracted; a CT-RNN's rates are
     * rect_tanh(x) */
    const char *row = d ? strchr(d, '\n') : NULL;
    for (int p = 0; p < 3 && row; p += 2, row = strchr(row + 1, '\n')) {
        double got[2] = {NAN, NAN};
        cr_assert_eq(sscanf(row + 1, "%lf %lf", &got[0], &got[1]), 2, "bad row in pca_fixedpoints.dat: %.40s", row + 1);
        for (int k = 0; k < 2; k++) {
            double want = 0;
            for (int i = 0; i < N; i++) {
                int64_t idx[2] = {p, i};
                double xi = f_points(idx);
                want += comp(k, i) * ((xi > 0 ? tanh(xi) : 0) - xmean(i));
            }
            cr_expect_float_eq(got[k], want, 1e-4, "fixed point %d, PC%d: %g, want %g", p, k + 1, got[k], want);
        }
    }
    free(g);
    free(d);
    free(gp);
    free(dat);
    done(run);
}

/* The report on a real (tiny) trained run after `silico analyze`: every
 * figure whose analysis ran finds the files it reads (so the report and the
 * analyses' real outputs cannot drift apart), every file an analysis's
 * summary.json lists exists, and only compare (which needs recorded data)
 * is missing. */
Test(report, report_on_a_trained_and_analyzed_run, .timeout = 120)
{
    char *dir = tu_tmpdir(), args[1024];
    snprintf(args, sizeof args,
             "train examples/reach.ini task.name=reach_synthetic model.hidden=16 train.epochs=20 --out %s/run --quiet", dir);
    cr_assert_eq(silico(dir, args), 0, "training failed: %s", captured(dir, "err.txt"));
    char *run = tu_path(dir, "run");
    snprintf(args, sizeof args, "analyze %s", run);
    cr_assert_eq(silico(dir, args), 0, "analyze failed: %s", captured(dir, "err.txt"));
    /* the analyses' own contract: each listed file exists */
    static const char *const analyses[] = {"activity", "perturb", "selectivity", "decode", "encode",
                                           "pca", "tangling", "jpca", "fixedpoints"};
    for (size_t i = 0; i < sizeof analyses / sizeof analyses[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "analysis/%s/summary.json", analyses[i]);
        char *p = tu_path(run, rel);
        size_t n;
        char *s = tu_read_file(p, &n);
        cr_expect_not_null(s, "%s missing", p);
        cJSON *js = s ? cJSON_Parse(s) : NULL, *file;
        cJSON_ArrayForEach(file, cJSON_GetObjectItemCaseSensitive(js, "files"))
        {
            snprintf(rel, sizeof rel, "analysis/%s/%s", analyses[i], file->string);
            char *fp = tu_path(run, rel);
            cr_expect_eq(access(fp, F_OK), 0, "%s lists %s, which does not exist", p, fp);
            free(fp);
        }
        cJSON_Delete(js);
        free(s);
        free(p);
    }
    /* every figure of an analysis that ran can be drawn */
    int nf, expected = 0;
    const sl_figure_def *defs = sl_figure_list(&nf);
    for (int i = 0; i < nf; i++) {
        if (!sl_figure_applies(run, &defs[i]) || (defs[i].analysis && !strcmp(defs[i].analysis, "compare"))) continue;
        const char *missing = NULL;
        cr_expect(sl_figure_ready(run, &defs[i], &missing), "figure %s: the analyses did not write %s", defs[i].name,
                  missing ? missing : "?");
        expected++;
    }
    snprintf(args, sizeof args, "report %s", run);
    cr_assert_eq(silico(dir, args), 0, "%s", captured(dir, "err.txt"));
    char *html = report_text(run);
    cr_assert_not_null(html);
    int embedded = 0;
    for (const char *p = html; (p = strstr(p, "<img ")); p++) embedded++;
    cr_expect_eq(embedded, expected, "%d figures embedded, %d expected", embedded, expected);
    cr_expect_null(strstr(html, "could not be drawn"), "a figure failed on real analysis outputs");
    const char *m = strstr(html, "<td>missing</td>");
    cr_expect(!m || !strstr(m + 1, "<td>missing</td>"), "an analysis besides compare is missing");
    cr_expect(strstr(html, "decode numbers"), "decode's numbers are not shown");
    cr_expect(strstr(html, "<th>condition</th><td>accuracy "), "decode's per-variable scores are not shown");
    /* with the PCA's mean on disk the fixed points are placed */
    char *mean = tu_path(run, "analysis/pca/mean.npy"), *gp = tu_path(run, "figures/pca.gp");
    size_t n;
    char *g = tu_read_file(gp, &n);
    cr_expect(access(mean, F_OK) != 0 || (g && !strstr(g, "not shown")),
              "analysis/pca/mean.npy exists but pca.gp says the fixed points are not shown");
    free(g);
    free(gp);
    free(mean);
    free(html);
    free(run);
    done(dir);
}
