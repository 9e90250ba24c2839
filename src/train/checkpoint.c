/* checkpoint.c — model weights in .safetensors, readable by numpy/PyTorch.
 *
 * CT-RNN: tensors J (N×N), B (N×n_in), b (N), W (n_out×N), c (n_out)
 * [, x0 (N)], float32. Metadata (strings): format = "silico.ctrnn.v1",
 * silico_version, the model spec (n_in, n_hidden, n_out, activation, tau_ms,
 * dt_ms, g, h, learn_x0, sigma_rec) so a checkpoint alone rebuilds its model.
 *
 * Cells: the cell's tensors under PyTorch's names (weight_ih, weight_hh,
 * bias_ih, bias_hh; or W_z, ..., bn_h.bias for lightgru), W, c, and the
 * buffers (bn_z.running_mean, ...), float32. Metadata: format =
 * "silico.model.v1", cell = rnn | gru | lightgru | lstm, silico_version,
 * n_in, n_hidden, n_out, activation, bn_momentum, bn_eps, and the effective-
 * weight settings enu_k, dale (off | reparam | project), exc_fraction,
 * autapses (true | false) — the stored tensors are the free parameters (with
 * ENU, enu.weight and enu.bias first), so a reader needs these to rebuild the
 * matrices the forward uses; absent (older files) means no ENU, Dale off.
 *
 * Both: plus whatever the caller adds (the trainer adds the resolved config). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ctrnn.h"
#include "silico.h"
#include "train/checkpoint.h"

#define MAX_META 48

static sl_status to_tensors(const sl_param_info *info, int nt, size_t n, const sl_real *buf,
                            const char *prefix, sl_tensor *t, char names[][64], float **scratch)
{
    float *f = malloc((n ? n : 1) * sizeof(float));
    if (!f) return sl_fail(SL_ENOMEM, "checkpoint: out of memory");
    for (size_t i = 0; i < n; i++) f[i] = (float)buf[i];
    for (int i = 0; i < nt; i++) {
        const sl_param_info *p = &info[i];
        snprintf(names[i], 64, "%s%s", prefix, p->name);
        t[i].name = names[i];
        t[i].array.dtype = SL_F32;
        t[i].array.ndim = p->ndim;
        t[i].array.shape[0] = p->shape[0];
        t[i].array.shape[1] = p->shape[1];
        t[i].array.data = f + p->offset;
    }
    *scratch = f;
    return SL_OK;
}

sl_status sl_params_to_tensors(const sl_model *m, const sl_real *buf, const char *prefix,
                               sl_tensor *t, char names[][64], float **scratch)
{
    return to_tensors(m->info, m->n_tensors, m->n_params, buf, prefix, t, names, scratch);
}

sl_status sl_buffers_to_tensors(const sl_model *m, const char *prefix, sl_tensor *t,
                                char names[][64], float **scratch)
{
    return to_tensors(m->binfo, m->n_buffers, m->n_bufvals, m->bufs, prefix, t, names, scratch);
}

int sl_spec_meta(const sl_model_spec *s, sl_kv *kv, char vals[][48])
{
    int n = 0;
#define PUT(k_, fmt, val)                                                                          \
    do {                                                                                            \
        snprintf(vals[n], 48, fmt, val);                                                            \
        kv[n].key = k_;                                                                              \
        kv[n].value = vals[n];                                                                      \
        n++;                                                                                        \
    } while (0)
    if (s->cell != SL_CELL_CTRNN) {
        PUT("format", "%s", "silico.model.v1");
        PUT("cell", "%s", sl_cell_kind_name(s->cell));
        PUT("silico_version", "%s", SILICO_VERSION);
        PUT("n_in", "%d", s->n_in);
        PUT("n_hidden", "%d", s->n_hidden);
        PUT("n_out", "%d", s->n_out);
        PUT("activation", "%s", sl_activation_name(s->act));
        PUT("bn_momentum", "%.17g", s->bn_momentum);
        PUT("bn_eps", "%.17g", s->bn_eps);
        /* the effective-weight settings (absent in older checkpoints: off) */
        PUT("enu_k", "%d", s->enu_k);
        PUT("dale", "%s", sl_dale_mode_name(s->dale));
        PUT("exc_fraction", "%.17g", s->exc_fraction);
        PUT("autapses", "%s", s->no_autapses ? "false" : "true");
        return n;
    }
    PUT("format", "%s", "silico.ctrnn.v1");
    PUT("silico_version", "%s", SILICO_VERSION);
    PUT("n_in", "%d", s->n_in);
    PUT("n_hidden", "%d", s->n_hidden);
    PUT("n_out", "%d", s->n_out);
    PUT("activation", "%s", sl_activation_name(s->act));
    PUT("tau_ms", "%.17g", s->tau_ms);
    PUT("dt_ms", "%.17g", s->dt_ms);
    PUT("g", "%.17g", s->g);
    PUT("h", "%.17g", s->h);
    PUT("learn_x0", "%d", s->learn_x0);
    PUT("sigma_rec", "%.17g", s->sigma_rec);
#undef PUT
    return n;
}

sl_status sl_model_save(const sl_model *m, const char *path, const sl_kv *meta, int n_meta)
{
    sl_tensor t[SL_MODEL_MAX_TENSORS + SL_MODEL_MAX_BUFFERS];
    char names[SL_MODEL_MAX_TENSORS + SL_MODEL_MAX_BUFFERS][64];
    float *scratch = NULL, *bscratch = NULL;
    sl_status st = sl_params_to_tensors(m, m->params, "", t, names, &scratch);
    if (!st && m->n_buffers)
        st = sl_buffers_to_tensors(m, "", t + m->n_tensors, names + m->n_tensors, &bscratch);
    if (st) {
        free(scratch);
        return st;
    }
    sl_kv kv[MAX_META];
    char vals[16][48];
    int n = sl_spec_meta(&m->spec, kv, vals);
    for (int i = 0; i < n_meta && n < MAX_META; i++) kv[n++] = meta[i];
    st = sl_safetensors_write(path, t, m->n_tensors + m->n_buffers, kv, n);
    free(scratch);
    free(bscratch);
    return st;
}

static sl_status meta_real(const sl_tensorfile *f, const char *path, const char *key, double lo,
                           double hi, double *out)
{
    const char *v = sl_tensorfile_meta(f, key);
    if (!v) return sl_fail(SL_EFORMAT, "%s: not a silico checkpoint: metadata '%s' missing", path, key);
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || x < lo || x > hi)
        return sl_fail(SL_EFORMAT, "%s: metadata '%s' = '%s' is not a number in [%g, %g]", path,
                       key, v, lo, hi);
    *out = x;
    return SL_OK;
}

sl_status sl_spec_from_meta(const sl_tensorfile *f, const char *path, sl_model_spec *s)
{
    const char *fmt = sl_tensorfile_meta(f, "format");
    if (fmt && strcmp(fmt, "silico.model.v1") == 0) {
        double v[5];
        static const char *keys[] = {"n_in", "n_hidden", "n_out", "bn_momentum", "bn_eps"};
        static const double lo[] = {1, 1, 1, 0, 0};
        static const double hi[] = {1e7, 1e7, 1e7, 1, 1e300};
        for (int i = 0; i < 5; i++) {
            sl_status st = meta_real(f, path, keys[i], lo[i], hi[i], &v[i]);
            if (st) return st;
        }
        memset(s, 0, sizeof *s);
        const char *cell = sl_tensorfile_meta(f, "cell");
        sl_status st = sl_cell_kind_parse(cell, &s->cell);
        if (!st && s->cell == SL_CELL_CTRNN)
            st = sl_fail(SL_EFORMAT, "format silico.model.v1 names no cell");
        if (!st) st = sl_activation_parse(sl_tensorfile_meta(f, "activation"), &s->act);
        if (st) return sl_fail_context(SL_EFORMAT, "%s: ", path);
        s->n_in = (int)v[0];
        s->n_hidden = (int)v[1];
        s->n_out = (int)v[2];
        s->bn_momentum = v[3];
        s->bn_eps = v[4];
        double x;
        if (sl_tensorfile_meta(f, "enu_k")) {
            if ((st = meta_real(f, path, "enu_k", 0, 1e7, &x))) return st;
            s->enu_k = (int)x;
        }
        if (sl_tensorfile_meta(f, "exc_fraction")) {
            if ((st = meta_real(f, path, "exc_fraction", 0, 1, &x))) return st;
            s->exc_fraction = x;
        }
        const char *dale = sl_tensorfile_meta(f, "dale"), *aut = sl_tensorfile_meta(f, "autapses");
        if (dale && sl_dale_mode_parse(dale, &s->dale))
            return sl_fail_context(SL_EFORMAT, "%s: metadata 'dale': ", path);
        if (aut && strcmp(aut, "true") && strcmp(aut, "false"))
            return sl_fail(SL_EFORMAT, "%s: metadata 'autapses' = '%s' is not true/false", path, aut);
        s->no_autapses = aut && !strcmp(aut, "false");
        return SL_OK;
    }
    if (!fmt || strcmp(fmt, "silico.ctrnn.v1") != 0)
        return sl_fail(SL_EFORMAT, "%s: not a silico model checkpoint (format '%s')", path,
                       fmt ? fmt : "missing");
    double v[10];
    static const char *keys[] = {"n_in", "n_hidden", "n_out", "tau_ms", "dt_ms",
                                 "g",    "h",        "learn_x0", "sigma_rec"};
    static const double lo[] = {1, 1, 1, 1e-9, 1e-9, 0, 0, 0, 0};
    static const double hi[] = {1e7, 1e7, 1e7, 1e300, 1e300, 1e300, 1e300, 1, 1e300};
    for (int i = 0; i < 9; i++) {
        sl_status st = meta_real(f, path, keys[i], lo[i], hi[i], &v[i]);
        if (st) return st;
    }
    memset(s, 0, sizeof *s);
    s->n_in = (int)v[0];
    s->n_hidden = (int)v[1];
    s->n_out = (int)v[2];
    s->tau_ms = v[3];
    s->dt_ms = v[4];
    s->g = v[5];
    s->h = v[6];
    s->learn_x0 = (int)v[7];
    s->sigma_rec = v[8];
    const char *act = sl_tensorfile_meta(f, "activation");
    sl_status st = sl_activation_parse(act, &s->act);
    if (st) return sl_fail_context(st, "%s: ", path);
    return SL_OK;
}

static sl_status from_tensors(const sl_param_info *info, int nt, const sl_tensorfile *f,
                              const char *path, const char *prefix, sl_real *buf)
{
    for (int i = 0; i < nt; i++) {
        const sl_param_info *p = &info[i];
        char name[64];
        snprintf(name, sizeof name, "%s%s", prefix, p->name);
        const sl_tensor *t = sl_tensorfile_find(f, name);
        if (!t) return sl_fail(SL_EFORMAT, "%s: tensor '%s' missing", path, name);
        const sl_array *a = &t->array;
        int ok = a->dtype == SL_F32 && a->ndim == p->ndim && a->shape[0] == p->shape[0] &&
                 (p->ndim < 2 || a->shape[1] == p->shape[1]);
        if (!ok)
            return sl_fail(SL_EFORMAT, "%s: tensor '%s' has the wrong dtype or shape (want F32 %lld×%lld)",
                           path, name, (long long)p->shape[0], (long long)(p->ndim > 1 ? p->shape[1] : 1));
        const float *src = a->data;
        for (size_t k = 0; k < p->numel; k++) {
            if (!isfinite(src[k]))
                return sl_fail(SL_EFORMAT, "%s: tensor '%s' holds a non-finite value at index %zu",
                               path, name, k);
            buf[p->offset + k] = (sl_real)src[k];
        }
    }
    return SL_OK;
}

sl_status sl_tensors_to_params(const sl_model *m, const sl_tensorfile *f, const char *path,
                               const char *prefix, sl_real *buf)
{
    return from_tensors(m->info, m->n_tensors, f, path, prefix, buf);
}

sl_status sl_tensors_to_buffers(sl_model *m, const sl_tensorfile *f, const char *path,
                                const char *prefix)
{
    return from_tensors(m->binfo, m->n_buffers, f, path, prefix, m->bufs);
}

sl_status sl_model_load(const char *path, sl_model **out, sl_tensorfile **file_out)
{
    *out = NULL;
    if (file_out) *file_out = NULL;
    sl_tensorfile *f = NULL;
    sl_status st = sl_safetensors_read(path, &f);
    if (st) return st;
    sl_model_spec spec;
    sl_model *m = NULL;
    st = sl_spec_from_meta(f, path, &spec);
    if (!st) st = sl_model_alloc(&spec, &m);
    if (!st) st = sl_tensors_to_params(m, f, path, "", m->params);
    if (!st) st = sl_tensors_to_buffers(m, f, path, "");
    if (st) {
        sl_model_free(m);
        sl_tensorfile_free(f);
        return st;
    }
    *out = m;
    if (file_out)
        *file_out = f;
    else
        sl_tensorfile_free(f);
    return SL_OK;
}
