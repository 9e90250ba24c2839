/* dataset.c — the "dataset" task: a network trained on the user's own arrays
 * (recorded behaviour, EMG, ...) instead of a generated task.
 *
 * Files. Each of task.inputs, task.targets, task.mask, task.conditions_file
 * names an array as
 *   FILE.npy            a NumPy array (float32/64, int32/64, uint8; C order)
 *   FILE.mat:variable   a numeric variable of a MATLAB file (v4, v5, v7.3;
 *                       any real numeric class or logical)
 *   FILE.mat            the file's only variable
 * Relative paths are relative to the working directory. MATLAB stores arrays
 * column-major: a MATLAB array of size [trials T n_in] is read as the C
 * array (trials, T, n_in) with element (i, t, k) = A(i+1, t+1, k+1) — the
 * same shape a Python user gets from scipy.io.loadmat. MATLAB drops trailing
 * singleton dimensions ([trials T 1] is saved as [trials T]); the rules
 * below accept both forms.
 *
 * Arrays (N trials, T steps; indices in messages are 0-based):
 *   inputs   (N, T, n_in), or (N, T) = one input channel
 *   targets  values: (N, T, n_out), or (N, T) = one output → masked MSE;
 *            labels: (N, T) (or (N, T, 1)) class indices → cross-entropy over
 *            n_out = max label + 1 classes (sl_task.classification = 1).
 *            task.target_kind decides: "labels", "values", or "auto" (the
 *            default) = labels iff the array is 2-D with an integer dtype
 *            (.npy int32/int64/uint8; MATLAB int*, uint*, logical). A 2-D
 *            float array (MATLAB's default double) is read as values unless
 *            task.target_kind = labels — whole-number values are not guessed
 *            to be labels, because 0/1 or ±1 regression targets are whole
 *            numbers too. Labels must be whole numbers ≥ 0 (and < 1e6).
 *   mask     optional; (N, T) = one weight per step (for values: the same
 *            weight on every output), or (N, T, n_out) for values (also
 *            (N, T, 1) for labels); finite and ≥ 0. Absent = all ones.
 *   conditions_file  optional; N whole numbers ≥ 0, one condition per trial
 *            ((N), (N, 1) or (1, N)); batches carry them in sl_batch.cond.
 * Every value of inputs, targets and mask must be finite (the error names
 * the file, variable, trial, step and channel); N ≥ 2; the N and T of every
 * array must agree.
 *
 * Labels: every step with mask > 0 (every step without a mask) is also a
 * scored decision (sl_batch.decision), so accuracy = the fraction of
 * labelled steps classified correctly.
 *
 * Split: n_val = round(N · task.val_fraction) clamped to [1, N − 1] when
 * task.val_fraction > 0 (so each split has at least one trial), 0 when it is
 * 0. The validation trials are the first n_val of a shuffle of 0..N−1 drawn
 * from the split seed (task.seed, or run.seed when task.seed = 0, stream
 * "dsplit"); both splits are stored in ascending trial order. HOLDOUT is
 * empty. A TRAIN epoch is a shuffle (the rng given to start_epoch) cut into
 * batches of train.batch trials, the last possibly smaller; VAL batches are
 * the validation trials in order. dt = task.dt (ms); no input noise is
 * added (task.input_noise applies to the reach task only).
 */
#include "tasks/dataset.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <matio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DS_SPLIT_STREAM 0x6473706c6974ULL /* "dsplit" */
#define DS_MAX_LABEL 1000000

/* ------------------------------------------------------------ one array */

typedef struct {
    double *v;          /* row-major values */
    int ndim;
    int64_t shape[SL_MAX_DIMS];
    int integer;        /* integer dtype */
    char what[600];     /* "task.inputs 'FILE.mat:variable'" for messages */
} ds_arr;

static void arr_free(ds_arr *a)
{
    free(a->v);
    a->v = NULL;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    if (n < k) return 0;
    for (size_t i = 0; i < k; i++) {
        char c = s[n - k + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != suffix[i]) return 0;
    }
    return 1;
}

static void shape_str(const ds_arr *a, char *buf, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < a->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)a->shape[i]);
    if (k < n) snprintf(buf + k, n - k, ")");
}

static sl_status read_npy(const char *path, ds_arr *out)
{
    sl_array a;
    memset(&a, 0, sizeof a);
    sl_status st = sl_npy_read(path, &a);
    if (st) return sl_fail_context(st, "%s", out->what);
    size_t n = sl_array_numel(&a);
    out->ndim = a.ndim;
    for (int i = 0; i < a.ndim; i++) out->shape[i] = a.shape[i];
    out->integer = a.dtype == SL_I32 || a.dtype == SL_I64 || a.dtype == SL_U8;
    out->v = malloc((n ? n : 1) * sizeof *out->v);
    if (!out->v) {
        sl_array_free(&a);
        return sl_fail(SL_ENOMEM, "%s: out of memory", out->what);
    }
    for (size_t i = 0; i < n; i++) {
        switch (a.dtype) {
        case SL_F32: out->v[i] = ((const float *)a.data)[i]; break;
        case SL_F64: out->v[i] = ((const double *)a.data)[i]; break;
        case SL_I32: out->v[i] = ((const int32_t *)a.data)[i]; break;
        case SL_I64: out->v[i] = (double)((const int64_t *)a.data)[i]; break;
        case SL_U8: out->v[i] = ((const uint8_t *)a.data)[i]; break;
        default:
            sl_array_free(&a);
            return sl_fail(SL_EFORMAT, "%s: unsupported dtype %s", out->what,
                           sl_dtype_name(a.dtype));
        }
    }
    sl_array_free(&a);
    return SL_OK;
}

static const char *mat_class_name(enum matio_classes c)
{
    switch (c) {
    case MAT_C_CELL: return "a cell array";
    case MAT_C_STRUCT: return "a struct";
    case MAT_C_OBJECT: return "an object";
    case MAT_C_CHAR: return "a char array";
    case MAT_C_SPARSE: return "a sparse matrix";
    case MAT_C_FUNCTION: return "a function handle";
    case MAT_C_EMPTY: return "empty";
    default: return "not numeric";
    }
}

/* The variable names of a MAT file, comma-separated, into buf. */
static void mat_names(mat_t *mat, char *buf, size_t n)
{
    buf[0] = '\0';
    size_t k = 0, count = 0;
    Mat_Rewind(mat);
    matvar_t *v;
    while ((v = Mat_VarReadNextInfo(mat)) != NULL) {
        if (v->name && k < n)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", count++ ? ", " : "", v->name);
        Mat_VarFree(v);
    }
    if (count == 0) snprintf(buf, n, "none");
}

static sl_status read_mat(const char *path, const char *var, ds_arr *out)
{
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat) return sl_fail(SL_EFORMAT, "%s: '%s' is not a readable MATLAB .mat file", out->what, path);
    sl_status st = SL_OK;
    matvar_t *mv = NULL;
    char names[400];
    if (var) {
        mv = Mat_VarRead(mat, var);
        if (!mv) {
            mat_names(mat, names, sizeof names);
            st = sl_fail(SL_EINVAL, "%s: '%s' has no variable '%s' (its variables: %s)", out->what,
                         path, var, names);
            goto done;
        }
    } else {
        /* the file's only variable */
        int count = 0;
        matvar_t *info;
        char first[256] = "";
        Mat_Rewind(mat);
        while ((info = Mat_VarReadNextInfo(mat)) != NULL) {
            if (count++ == 0 && info->name) snprintf(first, sizeof first, "%s", info->name);
            Mat_VarFree(info);
        }
        if (count != 1) {
            mat_names(mat, names, sizeof names);
            st = sl_fail(SL_EINVAL, "%s: '%s' holds %d variables (%s); name one as FILE.mat:variable",
                         out->what, path, count, names);
            goto done;
        }
        mv = Mat_VarRead(mat, first);
        if (!mv) {
            st = sl_fail(SL_EFORMAT, "%s: cannot read variable '%s' of '%s'", out->what, first, path);
            goto done;
        }
    }
    if (mv->isComplex) {
        st = sl_fail(SL_EINVAL, "%s: the variable is complex; a real numeric array is needed",
                     out->what);
        goto done;
    }
    size_t esize = 0;
    switch (mv->class_type) {
    case MAT_C_DOUBLE: esize = sizeof(double); break;
    case MAT_C_SINGLE: esize = sizeof(float); break;
    case MAT_C_INT8: case MAT_C_UINT8: esize = 1; break;
    case MAT_C_INT16: case MAT_C_UINT16: esize = 2; break;
    case MAT_C_INT32: case MAT_C_UINT32: esize = 4; break;
    case MAT_C_INT64: case MAT_C_UINT64: esize = 8; break;
    default:
        st = sl_fail(SL_EINVAL, "%s: the variable is %s; a real numeric array is needed",
                     out->what, mat_class_name(mv->class_type));
        goto done;
    }
    if (mv->rank < 1 || mv->rank > SL_MAX_DIMS) {
        st = sl_fail(SL_EINVAL, "%s: the variable has %d dimensions", out->what, mv->rank);
        goto done;
    }
    size_t n = 1;
    for (int i = 0; i < mv->rank; i++) {
        if (mv->dims[i] > (size_t)INT_MAX) {
            st = sl_fail(SL_EINVAL, "%s: dimension %d is too large (%zu)", out->what, i, mv->dims[i]);
            goto done;
        }
        n *= mv->dims[i];
    }
    if (n > 0 && (!mv->data || (size_t)mv->data_size != esize || mv->nbytes < n * esize)) {
        st = sl_fail(SL_EFORMAT, "%s: the variable's data could not be read", out->what);
        goto done;
    }
    out->ndim = mv->rank;
    for (int i = 0; i < mv->rank; i++) out->shape[i] = (int64_t)mv->dims[i];
    out->integer = mv->class_type != MAT_C_DOUBLE && mv->class_type != MAT_C_SINGLE;
    out->v = malloc((n ? n : 1) * sizeof *out->v);
    if (!out->v) {
        st = sl_fail(SL_ENOMEM, "%s: out of memory", out->what);
        goto done;
    }
    /* column-major (MATLAB) → row-major (C): walk the C index, carrying the
     * column-major offset along */
    int64_t idx[SL_MAX_DIMS] = {0};
    size_t stride[SL_MAX_DIMS];
    stride[0] = 1;
    for (int i = 1; i < mv->rank; i++) stride[i] = stride[i - 1] * mv->dims[i - 1];
    size_t f = 0;
    const unsigned char *d = mv->data;
    for (size_t c = 0; c < n; c++) {
        double x = 0;
        switch (mv->class_type) {
        case MAT_C_DOUBLE: x = ((const double *)mv->data)[f]; break;
        case MAT_C_SINGLE: x = ((const float *)mv->data)[f]; break;
        case MAT_C_INT8: x = ((const int8_t *)mv->data)[f]; break;
        case MAT_C_UINT8: x = d[f]; break;
        case MAT_C_INT16: x = ((const int16_t *)mv->data)[f]; break;
        case MAT_C_UINT16: x = ((const uint16_t *)mv->data)[f]; break;
        case MAT_C_INT32: x = ((const int32_t *)mv->data)[f]; break;
        case MAT_C_UINT32: x = ((const uint32_t *)mv->data)[f]; break;
        case MAT_C_INT64: x = (double)((const int64_t *)mv->data)[f]; break;
        case MAT_C_UINT64: x = (double)((const uint64_t *)mv->data)[f]; break;
        default: break;
        }
        out->v[c] = x;
        for (int i = mv->rank - 1; i >= 0; i--) {
            if (++idx[i] < (int64_t)mv->dims[i]) {
                f += stride[i];
                break;
            }
            f -= (size_t)(idx[i] - 1) * stride[i];
            idx[i] = 0;
        }
    }
done:
    if (mv) Mat_VarFree(mv);
    Mat_Close(mat);
    return st;
}

/* Load the array a key names ("" = absent: *present = 0). */
static sl_status load_key(const sl_config *c, const char *key, ds_arr *out, int *present)
{
    memset(out, 0, sizeof *out);
    *present = 0;
    const char *spec = sl_config_str(c, key);
    if (!spec || !spec[0]) return SL_OK;
    snprintf(out->what, sizeof out->what, "%s '%s'", key, spec);
    size_t len = strlen(spec);
    char *path = malloc(len + 1);
    if (!path) return sl_fail(SL_ENOMEM, "%s: out of memory", key);
    memcpy(path, spec, len + 1);
    const char *var = NULL;
    int is_mat = 0;
    char *colon = strrchr(path, ':');
    if (colon && ends_with(path, (size_t)(colon - path), ".mat")) {
        *colon = '\0';
        var = colon + 1;
        is_mat = 1;
        if (!var[0]) var = NULL;
    } else if (ends_with(path, len, ".mat")) {
        is_mat = 1;
    } else if (!ends_with(path, len, ".npy")) {
        free(path);
        return sl_fail(SL_EINVAL, "%s: expected FILE.npy or FILE.mat:variable", out->what);
    }
    sl_status st;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        st = sl_fail(SL_EIO, "%s: cannot open '%s': %s (relative paths are relative to the working "
                     "directory)", out->what, path, strerror(e));
        free(path);
        return st;
    }
    fclose(fp);
    st = is_mat ? read_mat(path, var, out) : read_npy(path, out);
    free(path);
    if (st) {
        arr_free(out);
        return st;
    }
    *present = 1;
    return SL_OK;
}

/* The first non-finite value, as a message about trial, step, channel. */
static sl_status check_finite(const ds_arr *a, int N, int T, int C)
{
    size_t n = (size_t)N * T * C;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a->v[i])) {
            size_t tr = i / ((size_t)T * C), s = (i / C) % T, ch = i % C;
            return sl_fail(SL_ENUMERIC, "%s: %s at trial %zu, step %zu, channel %zu (0-based); "
                           "every value must be finite", a->what, isnan(a->v[i]) ? "NaN" : "Inf",
                           tr, s, ch);
        }
    return SL_OK;
}

/* ------------------------------------------------------------------ task */

typedef struct {
    sl_task task;
    int N, T, n_in, n_out, labels, has_mask, has_cond, batch;
    int n[2];           /* TRAIN, VAL trials */
    int *index[2];      /* original trial index of each stored trial */
    sl_real *u[2];      /* n × T × n_in */
    sl_real *y[2];      /* values: n × T × n_out */
    int *lab[2];        /* labels: n × T */
    sl_real *mask[2];   /* values: n × T × n_out; labels: n × T (NULL without mask) */
    unsigned char *dec[2]; /* labels: n × T */
    int *cond[2];       /* n (NULL without conditions) */
    int *order;         /* TRAIN epoch order */
    /* TRAIN gather buffers (max_batch rows) */
    sl_real *bu, *by, *bmask;
    int *blab, *bcond;
    unsigned char *bdec;
} ds_task;

static void ds_free(ds_task *d)
{
    if (!d) return;
    for (int s = 0; s < 2; s++) {
        free(d->index[s]);
        free(d->u[s]);
        free(d->y[s]);
        free(d->lab[s]);
        free(d->mask[s]);
        free(d->dec[s]);
        free(d->cond[s]);
    }
    free(d->order);
    free(d->bu);
    free(d->by);
    free(d->bmask);
    free(d->blab);
    free(d->bcond);
    free(d->bdec);
    free(d);
}

static void ds_destroy(sl_task *t)
{
    if (t) ds_free((ds_task *)t->impl);
}

static int ds_split_ok(sl_split s)
{
    return s == SL_SPLIT_TRAIN || s == SL_SPLIT_VAL;
}

static int ds_num_batches(sl_task *t, sl_split split)
{
    if (!t || !ds_split_ok(split)) return 0;
    ds_task *d = t->impl;
    return (d->n[split] + d->batch - 1) / d->batch;
}

static sl_status ds_start_epoch(sl_task *t, sl_split split, sl_rng *rng)
{
    if (!t || (int)split < 0 || (int)split > 2)
        return sl_fail(SL_EINVAL, "dataset task: bad split %d", (int)split);
    ds_task *d = t->impl;
    if (split != SL_SPLIT_TRAIN) return SL_OK;
    int n = d->n[SL_SPLIT_TRAIN];
    for (int i = 0; i < n; i++) d->order[i] = i;
    if (rng && n > 1) sl_rng_shuffle(rng, d->order, n);
    return SL_OK;
}

static sl_status ds_batch(sl_task *t, sl_split split, int index, sl_rng *rng, sl_batch *out)
{
    (void)rng;
    if (!t || !out || !ds_split_ok(split))
        return sl_fail(SL_EINVAL, "dataset task: bad batch request (split %d)", (int)split);
    ds_task *d = t->impl;
    int nb = ds_num_batches(t, split);
    if (index < 0 || index >= nb)
        return sl_fail(SL_EINVAL, "dataset task: batch %d of split %d is out of range (%d batches)",
                       index, (int)split, nb);
    const size_t T = (size_t)d->T, su = T * d->n_in, sy = T * d->n_out;
    const size_t sm = d->labels ? T : sy;
    int start = index * d->batch;
    int B = d->n[split] - start < d->batch ? d->n[split] - start : d->batch;
    memset(out, 0, sizeof *out);
    out->B = B;
    out->T = d->T;
    out->n_in = d->n_in;
    out->n_out = d->n_out;
    if (split == SL_SPLIT_TRAIN) {
        for (int b = 0; b < B; b++) {
            size_t i = (size_t)d->order[start + b];
            memcpy(d->bu + b * su, d->u[split] + i * su, su * sizeof(sl_real));
            if (d->labels) {
                memcpy(d->blab + b * T, d->lab[split] + i * T, T * sizeof(int));
                memcpy(d->bdec + b * T, d->dec[split] + i * T, T);
            } else {
                memcpy(d->by + b * sy, d->y[split] + i * sy, sy * sizeof(sl_real));
            }
            if (d->has_mask) memcpy(d->bmask + b * sm, d->mask[split] + i * sm, sm * sizeof(sl_real));
            if (d->has_cond) d->bcond[b] = d->cond[split][i];
        }
        out->u = d->bu;
        out->y = d->labels ? NULL : d->by;
        out->labels = d->labels ? d->blab : NULL;
        out->decision = d->labels ? d->bdec : NULL;
        out->mask = d->has_mask ? d->bmask : NULL;
        out->cond = d->has_cond ? d->bcond : NULL;
    } else {
        size_t s0 = (size_t)start;
        out->u = d->u[split] + s0 * su;
        out->y = d->labels ? NULL : d->y[split] + s0 * sy;
        out->labels = d->labels ? d->lab[split] + s0 * T : NULL;
        out->decision = d->labels ? d->dec[split] + s0 * T : NULL;
        out->mask = d->has_mask ? d->mask[split] + s0 * sm : NULL;
        out->cond = d->has_cond ? d->cond[split] + s0 : NULL;
    }
    return SL_OK;
}

static const sl_task_ops DS_OPS = {
    .name = "dataset",
    .num_batches = ds_num_batches,
    .start_epoch = ds_start_epoch,
    .batch = ds_batch,
    .destroy = ds_destroy,
};

int sl_dataset_is(const sl_task *t)
{
    return t && t->ops == &DS_OPS && t->impl;
}

int sl_dataset_num_trials(const sl_task *t, sl_split split)
{
    if (!sl_dataset_is(t) || !ds_split_ok(split)) return 0;
    return ((const ds_task *)t->impl)->n[split];
}

int sl_dataset_trial_index(const sl_task *t, sl_split split, int i)
{
    if (!sl_dataset_is(t) || !ds_split_ok(split)) return -1;
    const ds_task *d = t->impl;
    if (i < 0 || i >= d->n[split]) return -1;
    return d->index[split][i];
}

int sl_dataset_batch_trial(const sl_task *t, sl_split split, int index, int b)
{
    if (!sl_dataset_is(t) || !ds_split_ok(split)) return -1;
    const ds_task *d = t->impl;
    long pos = (long)index * d->batch + b;
    if (index < 0 || b < 0 || b >= d->batch || pos >= d->n[split]) return -1;
    int i = split == SL_SPLIT_TRAIN ? d->order[pos] : (int)pos;
    return d->index[split][i];
}

/* ---------------------------------------------------------------- create */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static sl_status bad_shape(const ds_arr *a, const char *expected)
{
    char s[160];
    shape_str(a, s, sizeof s);
    return sl_fail(SL_EINVAL, "%s: shape %s, expected %s", a->what, s, expected);
}

static sl_status check_nt(const ds_arr *a, const ds_arr *in, int N, int T)
{
    if (a->shape[0] != N)
        return sl_fail(SL_EINVAL, "%s has %lld trials but %s has %d", a->what,
                       (long long)a->shape[0], in->what, N);
    if (a->shape[1] != T)
        return sl_fail(SL_EINVAL, "%s has %lld steps per trial but %s has %d", a->what,
                       (long long)a->shape[1], in->what, T);
    return SL_OK;
}

sl_status sl_dataset_task_create(const sl_config *c, sl_task **out)
{
    if (!out) return sl_fail(SL_EINVAL, "sl_dataset_task_create: out is NULL");
    *out = NULL;
    if (!c) return sl_fail(SL_EINVAL, "sl_dataset_task_create: config is NULL");
    ds_arr in, tg, mk, cd;
    int has_in = 0, has_tg = 0, has_mk = 0, has_cd = 0;
    memset(&in, 0, sizeof in);
    memset(&tg, 0, sizeof tg);
    memset(&mk, 0, sizeof mk);
    memset(&cd, 0, sizeof cd);
    ds_task *d = NULL;
    int *perm = NULL;
    sl_status st = SL_OK;

    double dt = sl_config_real(c, "task.dt");
    double vf = sl_config_real(c, "task.val_fraction");
    long bs = sl_config_int(c, "train.batch");
    const char *kind = sl_config_str(c, "task.target_kind");
    if (!(dt > 0) || !isfinite(dt)) {
        st = sl_fail(SL_EINVAL, "dataset: task.dt must be a positive number of ms, got %g", dt);
        goto fail;
    }
    if (!(vf >= 0 && vf < 1)) {
        st = sl_fail(SL_EINVAL, "dataset: task.val_fraction must be in [0, 1), got %g", vf);
        goto fail;
    }
    if (bs < 1 || bs > 1000000) {
        st = sl_fail(SL_EINVAL, "train.batch must be in [1, 1000000], got %ld", bs);
        goto fail;
    }
    int want_labels = -1; /* auto */
    if (kind && strcmp(kind, "labels") == 0) want_labels = 1;
    else if (kind && strcmp(kind, "values") == 0) want_labels = 0;
    else if (kind && kind[0] && strcmp(kind, "auto") != 0) {
        st = sl_fail(SL_EINVAL, "task.target_kind must be auto, values or labels, got '%s'", kind);
        goto fail;
    }

    /* load */
    if ((st = load_key(c, "task.inputs", &in, &has_in))) goto fail;
    if (!has_in) {
        st = sl_fail(SL_EINVAL, "dataset: task.inputs is not set (FILE.npy or FILE.mat:variable, "
                     "trials x T x n_in)");
        goto fail;
    }
    if ((st = load_key(c, "task.targets", &tg, &has_tg))) goto fail;
    if (!has_tg) {
        st = sl_fail(SL_EINVAL, "dataset: task.targets is not set (trials x T x n_out values or "
                     "trials x T integer labels)");
        goto fail;
    }
    if ((st = load_key(c, "task.mask", &mk, &has_mk))) goto fail;
    if ((st = load_key(c, "task.conditions_file", &cd, &has_cd))) goto fail;

    /* inputs */
    if (in.ndim != 2 && in.ndim != 3) {
        st = bad_shape(&in, "(trials, T, n_in) or (trials, T)");
        goto fail;
    }
    int64_t N64 = in.shape[0], T64 = in.shape[1], I64 = in.ndim == 3 ? in.shape[2] : 1;
    if (N64 < 2) {
        st = sl_fail(SL_EINVAL, "%s: %lld trial%s; the dataset task needs at least 2 (training and "
                     "validation)", in.what, (long long)N64, N64 == 1 ? "" : "s");
        goto fail;
    }
    if (T64 < 1 || I64 < 1 || N64 > INT_MAX || T64 > INT_MAX || I64 > INT_MAX) {
        st = bad_shape(&in, "(trials >= 2, T >= 1, n_in >= 1)");
        goto fail;
    }
    const int N = (int)N64, T = (int)T64, n_in = (int)I64;
    if ((st = check_finite(&in, N, T, n_in))) goto fail;

    /* targets */
    if (tg.ndim != 2 && tg.ndim != 3) {
        st = bad_shape(&tg, "(trials, T, n_out) or (trials, T)");
        goto fail;
    }
    if ((st = check_nt(&tg, &in, N, T))) goto fail;
    int labels = want_labels == 1 || (want_labels < 0 && tg.ndim == 2 && tg.integer);
    if (labels && tg.ndim == 3 && tg.shape[2] != 1) {
        st = bad_shape(&tg, "(trials, T) for labels (task.target_kind = labels)");
        goto fail;
    }
    int n_out = 0;
    if (labels) {
        double mx = 0;
        size_t n = (size_t)N * T;
        for (size_t i = 0; i < n; i++) {
            double x = tg.v[i];
            if (!isfinite(x) || x != floor(x) || x < 0 || x >= DS_MAX_LABEL) {
                st = sl_fail(SL_EINVAL, "%s: label %g at trial %zu, step %zu (0-based) is %s; labels "
                             "are class indices 0, 1, 2, ...", tg.what, x, i / T, i % T,
                             !isfinite(x) ? "not finite" : x < 0 ? "negative"
                             : x != floor(x) ? "not a whole number" : "too large (>= 1e6)");
                goto fail;
            }
            if (x > mx) mx = x;
        }
        n_out = (int)mx + 1;
        if (n_out < 2) {
            st = sl_fail(SL_EINVAL, "%s: every label is 0; a classification needs at least 2 "
                         "classes (for regression targets set task.target_kind = values)", tg.what);
            goto fail;
        }
    } else {
        int64_t o = tg.ndim == 3 ? tg.shape[2] : 1;
        if (o < 1 || o > INT_MAX) {
            st = bad_shape(&tg, "(trials, T, n_out >= 1)");
            goto fail;
        }
        n_out = (int)o;
        if ((st = check_finite(&tg, N, T, n_out))) goto fail;
    }

    /* mask */
    int mask_per_out = 0; /* values: mask file has n_out channels */
    if (has_mk) {
        int ok = mk.ndim == 2 || (mk.ndim == 3 && (mk.shape[2] == 1 || (!labels && mk.shape[2] == n_out)));
        if (!ok) {
            char e[120];
            if (labels)
                snprintf(e, sizeof e, "(trials, T) for label targets");
            else
                snprintf(e, sizeof e, "(trials, T) or (trials, T, %d) like task.targets", n_out);
            st = bad_shape(&mk, e);
            goto fail;
        }
        if ((st = check_nt(&mk, &in, N, T))) goto fail;
        int C = mk.ndim == 3 ? (int)mk.shape[2] : 1;
        mask_per_out = !labels && C == n_out && n_out > 1;
        if ((st = check_finite(&mk, N, T, C))) goto fail;
        size_t n = (size_t)N * T * C;
        for (size_t i = 0; i < n; i++)
            if (mk.v[i] < 0) {
                st = sl_fail(SL_EINVAL, "%s: negative weight %g at trial %zu, step %zu, channel %zu "
                             "(0-based); mask weights must be >= 0", mk.what, mk.v[i],
                             i / ((size_t)T * C), (i / C) % T, i % C);
                goto fail;
            }
    }

    /* conditions */
    if (has_cd) {
        int ok = (cd.ndim == 1 && cd.shape[0] == N) ||
                 (cd.ndim == 2 && ((cd.shape[0] == N && cd.shape[1] == 1) ||
                                   (cd.shape[0] == 1 && cd.shape[1] == N)));
        if (!ok) {
            char e[80];
            snprintf(e, sizeof e, "(%d) — one condition per trial of task.inputs", N);
            st = bad_shape(&cd, e);
            goto fail;
        }
        for (int i = 0; i < N; i++) {
            double x = cd.v[i];
            if (!isfinite(x) || x != floor(x) || x < 0 || x > INT_MAX) {
                st = sl_fail(SL_EINVAL, "%s: condition %g of trial %d (0-based) is not a whole "
                             "number >= 0", cd.what, x, i);
                goto fail;
            }
        }
    }

    /* split */
    int n_val = 0;
    if (vf > 0) {
        n_val = (int)lround(vf * N);
        if (n_val < 1) n_val = 1;
        if (n_val > N - 1) n_val = N - 1;
    }
    perm = malloc((size_t)N * sizeof *perm);
    d = calloc(1, sizeof *d);
    if (!perm || !d) {
        st = sl_fail(SL_ENOMEM, "dataset: out of memory");
        goto fail;
    }
    for (int i = 0; i < N; i++) perm[i] = i;
    {
        uint64_t seed = (uint64_t)sl_config_int(c, "task.seed");
        if (seed == 0) seed = (uint64_t)sl_config_int(c, "run.seed");
        sl_rng r;
        sl_rng_seed_stream(&r, seed, DS_SPLIT_STREAM);
        sl_rng_shuffle(&r, perm, N);
    }
    d->N = N;
    d->T = T;
    d->n_in = n_in;
    d->n_out = n_out;
    d->labels = labels;
    d->has_mask = has_mk;
    d->has_cond = has_cd;
    d->batch = (int)bs;
    d->n[SL_SPLIT_VAL] = n_val;
    d->n[SL_SPLIT_TRAIN] = N - n_val;
    qsort(perm, (size_t)n_val, sizeof *perm, cmp_int);
    qsort(perm + n_val, (size_t)(N - n_val), sizeof *perm, cmp_int);

    const size_t Tz = (size_t)T, su = Tz * n_in, sy = Tz * n_out, sm = labels ? Tz : sy;
    for (int s = 0; s < 2; s++) {
        size_t n = (size_t)d->n[s], n1 = n ? n : 1;
        d->index[s] = malloc(n1 * sizeof(int));
        d->u[s] = malloc(n1 * su * sizeof(sl_real));
        if (labels) {
            d->lab[s] = malloc(n1 * Tz * sizeof(int));
            d->dec[s] = malloc(n1 * Tz);
        } else {
            d->y[s] = malloc(n1 * sy * sizeof(sl_real));
        }
        if (has_mk) d->mask[s] = malloc(n1 * sm * sizeof(sl_real));
        if (has_cd) d->cond[s] = malloc(n1 * sizeof(int));
        if (!d->index[s] || !d->u[s] || (labels && (!d->lab[s] || !d->dec[s])) ||
            (!labels && !d->y[s]) || (has_mk && !d->mask[s]) || (has_cd && !d->cond[s])) {
            st = sl_fail(SL_ENOMEM, "dataset: out of memory for %zu trials of %d steps", n, T);
            goto fail;
        }
        const int *ids = s == SL_SPLIT_VAL ? perm : perm + n_val;
        for (size_t i = 0; i < n; i++) {
            size_t o = (size_t)ids[i];
            d->index[s][i] = (int)o;
            for (size_t j = 0; j < su; j++) d->u[s][i * su + j] = (sl_real)in.v[o * su + j];
            if (labels) {
                for (size_t j = 0; j < Tz; j++) d->lab[s][i * Tz + j] = (int)tg.v[o * Tz + j];
            } else {
                for (size_t j = 0; j < sy; j++) d->y[s][i * sy + j] = (sl_real)tg.v[o * sy + j];
            }
            if (has_mk) {
                sl_real *m = d->mask[s] + i * sm;
                if (labels || !mask_per_out) {
                    /* one weight per step (broadcast over the outputs for values) */
                    int rep = labels ? 1 : n_out;
                    for (size_t t = 0; t < Tz; t++)
                        for (int k = 0; k < rep; k++) m[t * rep + k] = (sl_real)mk.v[o * Tz + t];
                } else {
                    for (size_t j = 0; j < sm; j++) m[j] = (sl_real)mk.v[o * sm + j];
                }
            }
            if (labels)
                for (size_t t = 0; t < Tz; t++)
                    d->dec[s][i * Tz + t] = has_mk ? d->mask[s][i * Tz + t] > 0 : 1;
            if (has_cd) d->cond[s][i] = (int)cd.v[o];
        }
    }

    int nmax = d->n[0] > d->n[1] ? d->n[0] : d->n[1];
    int mb = d->batch < nmax ? d->batch : nmax;
    size_t ntr = (size_t)d->n[SL_SPLIT_TRAIN], mbz = (size_t)mb;
    d->order = malloc(ntr * sizeof(int));
    d->bu = malloc(mbz * su * sizeof(sl_real));
    if (labels) {
        d->blab = malloc(mbz * Tz * sizeof(int));
        d->bdec = malloc(mbz * Tz);
    } else {
        d->by = malloc(mbz * sy * sizeof(sl_real));
    }
    if (has_mk) d->bmask = malloc(mbz * sm * sizeof(sl_real));
    if (has_cd) d->bcond = malloc(mbz * sizeof(int));
    if (!d->order || !d->bu || (labels && (!d->blab || !d->bdec)) || (!labels && !d->by) ||
        (has_mk && !d->bmask) || (has_cd && !d->bcond)) {
        st = sl_fail(SL_ENOMEM, "dataset: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < ntr; i++) d->order[i] = (int)i;

    d->task.ops = &DS_OPS;
    d->task.n_in = n_in;
    d->task.n_out = n_out;
    d->task.T = T;
    d->task.dt_ms = dt;
    d->task.max_batch = mb;
    d->task.classification = labels;
    d->task.score_name = NULL;
    d->task.impl = d;
    *out = &d->task;
    d = NULL;

fail:
    ds_free(d);
    free(perm);
    arr_free(&in);
    arr_free(&tg);
    arr_free(&mk);
    arr_free(&cd);
    return st;
}
