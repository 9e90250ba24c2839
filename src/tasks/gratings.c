/* gratings.c — oriented sine-wave gratings and the orientation-discrimination
 * task (the deep-learning day's tutorial 3, seeds/003: is the grating tilted
 * clockwise or counter-clockwise of vertical?).
 *
 * A grating on an S×S image, pixel centres (x, y) relative to the centre,
 * y pointing down, tilt θ (degrees clockwise from vertical), spatial
 * frequency f (cycles per image width), phase φ, contrast c, Gaussian
 * aperture σ (pixels; 0 = none) and pixel noise σ_n:
 *   u = x cos θ + y sin θ
 *   p(x, y) = clamp(0.5 + 0.5 c cos(2π f u / S + φ) · e^{−(x²+y²)/(2σ²)} + σ_n ξ, 0, 1)
 * (θ = 0: vertical stripes; θ > 0 turns them clockwise on screen.)
 *
 * Task gratings: label 1 = clockwise (θ > 0), 0 = counter-clockwise; tilts
 * |θ| ~ U(task.tilt_min, task.tilt_max) with a random sign, phase ~ U(0, 2π);
 * task.n_train (default 10000) training and task.n_test (default 2000)
 * held-out test gratings, drawn from two streams of the task seed (task.seed,
 * or run.seed when 0). Normalised with the training images' mean and std
 * (or task.normalize). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/images.h"

void sl_grating(float *img, int S, const sl_grating_spec *g, sl_rng *noise)
{
    const double th = g->tilt_deg * M_PI / 180.0, ct = cos(th), st = sin(th);
    const double c0 = 0.5 * (S - 1);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            const double dx = x - c0, dy = y - c0, u = dx * ct + dy * st;
            double env = 1;
            if (g->sigma > 0) env = exp(-(dx * dx + dy * dy) / (2 * g->sigma * g->sigma));
            double v = 0.5 + 0.5 * g->contrast * cos(2 * M_PI * g->sf * u / S + g->phase) * env;
            if (noise && g->noise > 0) v += g->noise * sl_rng_normal(noise);
            img[y * S + x] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
        }
}

static sl_status make_split(const sl_config *c, int n, uint64_t seed, uint64_t stream,
                            sl_image_split *s)
{
    const int S = (int)sl_config_int(c, "task.grating_size");
    const double lo = sl_config_real(c, "task.tilt_min"), hi = sl_config_real(c, "task.tilt_max");
    memset(s, 0, sizeof *s);
    s->n = n;
    s->f = malloc((size_t)n * S * S * sizeof(float));
    s->labels = malloc((size_t)n * sizeof(int));
    if (!s->f || !s->labels) return sl_fail(SL_ENOMEM, "gratings: out of memory");
    sl_rng r;
    sl_rng_seed_stream(&r, seed, stream);
    sl_grating_spec g = {0, sl_config_real(c, "task.grating_sf"), 0,
                         sl_config_real(c, "task.grating_contrast"),
                         sl_config_real(c, "task.grating_sigma"),
                         sl_config_real(c, "task.grating_noise")};
    for (int i = 0; i < n; i++) {
        const int cw = sl_rng_uniform(&r) < 0.5;
        const double tilt = lo + (hi - lo) * sl_rng_uniform(&r);
        g.tilt_deg = cw ? tilt : -tilt;
        g.phase = 2 * M_PI * sl_rng_uniform(&r);
        sl_grating(s->f + (size_t)i * S * S, S, &g, &r);
        s->labels[i] = cw;
    }
    return SL_OK;
}

sl_status sl_gratings_task_create(const sl_config *c, sl_task **out)
{
    *out = NULL;
    const double lo = sl_config_real(c, "task.tilt_min"), hi = sl_config_real(c, "task.tilt_max");
    if (!(lo > 0) || !(hi >= lo) || hi > 90)
        return sl_fail(SL_EINVAL, "gratings: want 0 < task.tilt_min (%g) <= task.tilt_max (%g) <= 90",
                       lo, hi);
    uint64_t seed = (uint64_t)sl_config_int(c, "task.seed");
    if (!seed) seed = (uint64_t)sl_config_int(c, "run.seed");
    int ntr = (int)sl_config_int(c, "task.n_train"), nte = (int)sl_config_int(c, "task.n_test");
    if (!ntr) ntr = 10000;
    if (!nte) nte = 2000;
    const int S = (int)sl_config_int(c, "task.grating_size");
    sl_image_split tr = {0}, te = {0};
    sl_status st = make_split(c, ntr, seed, 0x67726174 /* "grat" */, &tr);
    if (!st) st = make_split(c, nte, seed, 0x67726175, &te);
    if (st) {
        free(tr.f), free(tr.labels), free(te.f), free(te.labels);
        return st;
    }
    double norm[2], mean, std;
    if (sl_config_list(c, "task.normalize", norm, 2) == 2)
        mean = norm[0], std = norm[1];
    else {
        double s1 = 0, s2 = 0;
        const size_t n = (size_t)ntr * S * S;
        for (size_t i = 0; i < n; i++) s1 += tr.f[i], s2 += (double)tr.f[i] * tr.f[i];
        mean = s1 / n;
        std = sqrt(fmax(s2 / n - mean * mean, 1e-12));
    }
    return sl_image_task_wrap("gratings", 1, S, S, 2, tr, te, mean, std,
                              (int)sl_config_int(c, "train.batch"), out);
}
