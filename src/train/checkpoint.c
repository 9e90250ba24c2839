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
 * CT-RNN metadata also: dale, exc_fraction, autapses, form (current | rate),
 * sigma_in; cells also sigma_rec, sigma_in. Absent keys (older files) mean
 * the defaults (Dale off, current form, no noise).
 *
 * Besides the weights, everything else that makes the model what it is, as
 * float32 tensors (each only when the model has it; R = the recurrent matrix's
 * name: J, weight_hh or U_h):
 *   mask.R             N×N fixed connectivity mask (1 = synapse; the CT-RNN's
 *                      includes the zero diagonal of autapses = false)
 *   plastic.R          N×N plasticity mask (0 = frozen synapse)
 *   dale.sign          N Dale signs (+1 excitatory, −1 inhibitory; rebuilt
 *                      from exc_fraction on load, saved for readers)
 *   feedback.readout   n_out×N feedback-alignment matrix replacing W
 *   feedback.recurrent N×N feedback-alignment matrix replacing R
 * so sl_model_load rebuilds the same model (forward and backward).
 *
 * Both: plus whatever the caller adds (the trainer adds the resolved config). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tensors.h"
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
    for (int i = 0; i < nt; i++)
        slc_tensor_f32_view(&t[i], names[i], prefix, info[i].name, info[i].ndim, info[i].shape,
                            f + info[i].offset);
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
        PUT("sigma_rec", "%.17g", s->sigma_rec);
        PUT("sigma_in", "%.17g", s->sigma_in);
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
    PUT("sigma_in", "%.17g", s->sigma_in);
    PUT("form", "%s", sl_ctrnn_form_name(s->form));
    PUT("dale", "%s", sl_dale_mode_name(s->dale));
    PUT("exc_fraction", "%.17g", s->exc_fraction);
    PUT("autapses", "%s", s->no_autapses ? "false" : "true");
#undef PUT
    return n;
}

/* the recurrent matrix's name (masks, Dale, recurrent feedback act on it) */
static const char *rec_name(const sl_model_spec *s)
{
    return s->cell == SL_CELL_CTRNN ? "J" : s->cell == SL_CELL_LIGHTGRU ? "U_h" : "weight_hh";
}

#define N_EXTRA 5

/* The non-weight tensors (mask.R, plastic.R, dale.sign, feedback.*) as float32
 * copies in one allocation *scratch; returns how many were added to t. */
static int extra_tensors(const sl_model *m, sl_tensor *t, char names[][64], float **scratch)
{
    const int N = m->spec.n_hidden, NO = m->spec.n_out;
    struct {
        const char *prefix;
        const sl_real *src;
        int64_t rows, cols;
    } x[N_EXTRA] = {{"mask.", m->rec_mask, N, N},
                    {"plastic.", m->plastic, N, N},
                    {"dale.sign", m->sign, N, 0},
                    {"feedback.readout", m->fa_W, NO, N},
                    {"feedback.recurrent", m->fa_R, N, N}};
    size_t total = 0;
    for (int i = 0; i < N_EXTRA; i++)
        if (x[i].src) total += (size_t)x[i].rows * (x[i].cols ? (size_t)x[i].cols : 1);
    *scratch = NULL;
    if (!total || !(*scratch = malloc(total * sizeof(float)))) return 0;
    float *f = *scratch;
    int n = 0;
    for (int i = 0; i < N_EXTRA; i++) {
        if (!x[i].src) continue;
        const size_t cnt = (size_t)x[i].rows * (x[i].cols ? (size_t)x[i].cols : 1);
        const int64_t shape[2] = {x[i].rows, x[i].cols};
        for (size_t k = 0; k < cnt; k++) f[k] = (float)x[i].src[k];
        slc_tensor_f32_view(&t[n], names[n], x[i].prefix, i < 2 ? rec_name(&m->spec) : "",
                            x[i].cols ? 2 : 1, shape, f);
        f += cnt;
        n++;
    }
    return n;
}

sl_status sl_model_save(const sl_model *m, const char *path, const sl_kv *meta, int n_meta)
{
    sl_tensor t[SL_MODEL_MAX_TENSORS + SL_MODEL_MAX_BUFFERS + N_EXTRA];
    char names[SL_MODEL_MAX_TENSORS + SL_MODEL_MAX_BUFFERS + N_EXTRA][64];
    float *scratch = NULL, *bscratch = NULL, *xscratch = NULL;
    sl_status st = sl_params_to_tensors(m, m->params, "", t, names, &scratch);
    if (!st && m->n_buffers)
        st = sl_buffers_to_tensors(m, "", t + m->n_tensors, names + m->n_tensors, &bscratch);
    if (st) {
        free(scratch);
        return st;
    }
    int nt = m->n_tensors + m->n_buffers;
    int nx = extra_tensors(m, t + nt, names + nt, &xscratch);
    if ((m->rec_mask || m->plastic || m->sign || m->fa_W || m->fa_R) && !xscratch) {
        free(scratch);
        free(bscratch);
        return sl_fail(SL_ENOMEM, "checkpoint: out of memory");
    }
    sl_kv kv[MAX_META];
    char vals[24][48];
    int n = sl_spec_meta(&m->spec, kv, vals);
    for (int i = 0; i < n_meta && n < MAX_META; i++) kv[n++] = meta[i];
    st = sl_safetensors_write(path, t, nt + nx, kv, n);
    free(scratch);
    free(bscratch);
    free(xscratch);
    return st;
}

/* An optional float32 tensor `name` of rows×cols (cols 0: a vector) from f
 * as sl_real into a new buffer (*out NULL when the file lacks it). */
static sl_status optional_tensor(const sl_tensorfile *f, const char *path, const char *name,
                                 int64_t rows, int64_t cols, sl_real **out)
{
    *out = NULL;
    if (!sl_tensorfile_find(f, name)) return SL_OK;
    const int64_t shape[2] = {rows, cols};
    sl_real *v = malloc((size_t)rows * (size_t)(cols ? cols : 1) * sizeof(sl_real));
    if (!v) return sl_fail(SL_ENOMEM, "checkpoint: out of memory");
    sl_status st = slc_tensor_f32_read(f, path, "", name, cols ? 2 : 1, shape, v);
    if (st) {
        free(v);
        return st;
    }
    *out = v;
    return SL_OK;
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

/* The keys both formats may carry, each optional (older files: the defaults,
 * Dale off, autapses on, no noise): dale, exc_fraction, autapses, sigma_rec
 * (the CT-RNN's is also required, read before), sigma_in. */
static sl_status common_meta(const sl_tensorfile *f, const char *path, sl_model_spec *s)
{
    const char *dale = sl_tensorfile_meta(f, "dale"), *aut = sl_tensorfile_meta(f, "autapses");
    if (dale && sl_dale_mode_parse(dale, &s->dale))
        return sl_fail_context(SL_EFORMAT, "%s: metadata 'dale': ", path);
    if (aut && strcmp(aut, "true") && strcmp(aut, "false"))
        return sl_fail(SL_EFORMAT, "%s: metadata 'autapses' = '%s' is not true/false", path, aut);
    s->no_autapses = aut && !strcmp(aut, "false");
    static const char *keys[3] = {"exc_fraction", "sigma_rec", "sigma_in"};
    static const double hi[3] = {1, 1e300, 1e300};
    double *dst[3] = {&s->exc_fraction, &s->sigma_rec, &s->sigma_in};
    for (int i = 0; i < 3; i++)
        if (sl_tensorfile_meta(f, keys[i])) {
            sl_status st = meta_real(f, path, keys[i], 0, hi[i], dst[i]);
            if (st) return st;
        }
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
        return common_meta(f, path, s);
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
    const char *form = sl_tensorfile_meta(f, "form");
    if (form && sl_ctrnn_form_parse(form, &s->form))
        return sl_fail_context(SL_EFORMAT, "%s: metadata 'form': ", path);
    return common_meta(f, path, s);
}

static sl_status from_tensors(const sl_param_info *info, int nt, const sl_tensorfile *f,
                              const char *path, const char *prefix, sl_real *buf)
{
    for (int i = 0; i < nt; i++) {
        const sl_param_info *p = &info[i];
        sl_status st = slc_tensor_f32_read(f, path, prefix, p->name, p->ndim, p->shape,
                                           buf + p->offset);
        if (st) return st;
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
    sl_real *mask = NULL, *plastic = NULL, *fw = NULL, *fr = NULL;
    st = sl_spec_from_meta(f, path, &spec);
    if (!st) {
        const int N = spec.n_hidden;
        char name[64];
        snprintf(name, sizeof name, "mask.%s", rec_name(&spec));
        st = optional_tensor(f, path, name, N, N, &mask);
        snprintf(name, sizeof name, "plastic.%s", rec_name(&spec));
        if (!st) st = optional_tensor(f, path, name, N, N, &plastic);
        if (!st) st = optional_tensor(f, path, "feedback.readout", spec.n_out, N, &fw);
        if (!st) st = optional_tensor(f, path, "feedback.recurrent", N, N, &fr);
        spec.rec_mask = mask;
        spec.plastic_mask = plastic;
    }
    if (!st) st = sl_model_alloc(&spec, &m);
    if (!st) st = sl_tensors_to_params(m, f, path, "", m->params);
    if (!st) st = sl_tensors_to_buffers(m, f, path, "");
    if (!st && (fw || fr)) st = sl_model_set_feedback(m, fw, fr);
    free(mask);
    free(plastic);
    free(fw);
    free(fr);
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
