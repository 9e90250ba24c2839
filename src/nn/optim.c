/* optim.c — Adam with a learning-rate schedule, and global-norm clipping.
 *
 *   m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,
 *   θ ← θ − lr_t · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)        (torch.optim.Adam)
 *
 * Schedules over total_steps (s = steps taken so far, clamped to total):
 *   constant     lr_t = lr
 *   cosine       lr_t = lr_final + ½(lr − lr_final)(1 + cos(π s/total))
 *   exponential  lr_t = lr · (lr_final/lr)^(s/total)
 * sl_adam_set_lr switches to a constant lr set from outside (the trainer's
 * step and reduce-on-plateau schedules, src/nn/constraints.c).
 * The moments live in two buffers parallel to the parameter buffer, so one
 * update is one loop over the flat arrays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"

#define SQRT_R(x) (sizeof(sl_real) == sizeof(float) ? (sl_real)sqrtf((float)(x)) : (sl_real)sqrt((double)(x)))

struct sl_adam {
    sl_adam_spec spec;
    size_t n;
    long t; /* steps taken */
    sl_real *m, *v;
};

sl_status sl_adam_create(const sl_adam_spec *spec, size_t n, sl_adam **out)
{
    *out = NULL;
    if (!(spec->lr >= 0) || !(spec->beta1 >= 0 && spec->beta1 < 1) ||
        !(spec->beta2 >= 0 && spec->beta2 < 1) || !(spec->eps > 0))
        return sl_fail(SL_EINVAL, "adam: need lr >= 0, 0 <= beta < 1, eps > 0 (lr %g, betas %g %g, eps %g)",
                       spec->lr, spec->beta1, spec->beta2, spec->eps);
    if (spec->schedule == SL_LR_EXPONENTIAL && !(spec->lr > 0 && spec->lr_final > 0))
        return sl_fail(SL_EINVAL, "adam: the exponential schedule needs lr and lr_final > 0");
    sl_adam *a = calloc(1, sizeof *a);
    if (!a) return sl_fail(SL_ENOMEM, "adam: out of memory");
    a->spec = *spec;
    a->n = n;
    a->m = calloc(n ? n : 1, sizeof(sl_real));
    a->v = calloc(n ? n : 1, sizeof(sl_real));
    if (!a->m || !a->v) {
        sl_adam_free(a);
        return sl_fail(SL_ENOMEM, "adam: cannot allocate moments for %zu parameters", n);
    }
    *out = a;
    return SL_OK;
}

void sl_adam_free(sl_adam *a)
{
    if (!a) return;
    free(a->m);
    free(a->v);
    free(a);
}

double sl_adam_lr(const sl_adam *a)
{
    const sl_adam_spec *s = &a->spec;
    if (s->schedule == SL_LR_CONSTANT || s->total_steps <= 0) return s->lr;
    double f = (double)a->t / (double)s->total_steps;
    if (f > 1) f = 1;
    if (s->schedule == SL_LR_COSINE)
        return s->lr_final + 0.5 * (s->lr - s->lr_final) * (1 + cos(M_PI * f));
    return s->lr * pow(s->lr_final / s->lr, f);
}

void sl_adam_set_lr(sl_adam *a, double lr)
{
    a->spec.lr = lr;
    a->spec.schedule = SL_LR_CONSTANT;
}

long sl_adam_steps(const sl_adam *a) { return a->t; }
sl_real *sl_adam_m(sl_adam *a) { return a->m; }
sl_real *sl_adam_v(sl_adam *a) { return a->v; }
void sl_adam_set_steps(sl_adam *a, long t) { a->t = t; }

/* The update loop vectorises (16 lanes of sl_real-precision √) because this
 * file is compiled with -fno-math-errno (Makefile): v ≥ 0 never sets errno. */
void sl_adam_step(sl_adam *a, sl_real *p, const sl_real *g)
{
    const double lr = sl_adam_lr(a);
    a->t++;
    const double b1 = a->spec.beta1, b2 = a->spec.beta2;
    const double bc1 = 1 - pow(b1, (double)a->t), bc2 = 1 - pow(b2, (double)a->t);
    const sl_real step = (sl_real)(lr / bc1), rbc2 = (sl_real)(1 / sqrt(bc2)),
                  eps = (sl_real)a->spec.eps;
    const sl_real fb1 = (sl_real)b1, fb2 = (sl_real)b2, gb1 = (sl_real)(1 - b1),
                  gb2 = (sl_real)(1 - b2);
    sl_real *m = a->m, *v = a->v;
    size_t i = 0;
    /* blocks of 16 through local arrays: no aliasing and a fixed trip count,
     * which GCC's -O2 vectoriser needs (as relu.c) */
    for (; i + 16 <= a->n; i += 16) {
        sl_real mb[16], vb[16], gb[16], pb[16];
        memcpy(mb, m + i, sizeof mb);
        memcpy(vb, v + i, sizeof vb);
        memcpy(gb, g + i, sizeof gb);
        memcpy(pb, p + i, sizeof pb);
        for (int j = 0; j < 16; j++) {
            mb[j] = fb1 * mb[j] + gb1 * gb[j];
            vb[j] = fb2 * vb[j] + gb2 * gb[j] * gb[j];
            pb[j] -= step * mb[j] / (SQRT_R(vb[j]) * rbc2 + eps);
        }
        memcpy(m + i, mb, sizeof mb);
        memcpy(v + i, vb, sizeof vb);
        memcpy(p + i, pb, sizeof pb);
    }
    for (; i < a->n; i++) {
        m[i] = fb1 * m[i] + gb1 * g[i];
        v[i] = fb2 * v[i] + gb2 * g[i] * g[i];
        p[i] -= step * m[i] / (SQRT_R(v[i]) * rbc2 + eps);
    }
}

double sl_clip_grad_norm(sl_real *g, size_t n, double max_norm)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
    double norm = sqrt(ss);
    if (max_norm > 0 && isfinite(norm)) {
        double coef = max_norm / (norm + 1e-6); /* as torch.nn.utils.clip_grad_norm_ */
        if (coef < 1)
            for (size_t i = 0; i < n; i++) g[i] = (sl_real)(g[i] * coef);
    }
    return norm;
}
