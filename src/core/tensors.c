/* tensors.c — float32 safetensors tensors to and from sl_real buffers
 * (tensors.h): names prefix + name, dtype/shape/finiteness checked on read. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/tensors.h"

void slc_tensor_f32_view(sl_tensor *t, char *name_buf, const char *prefix, const char *name,
                         int ndim, const int64_t *shape, float *data)
{
    snprintf(name_buf, 64, "%s%s", prefix, name);
    memset(t, 0, sizeof *t);
    t->name = name_buf;
    t->array.dtype = SL_F32;
    t->array.ndim = ndim;
    for (int d = 0; d < ndim; d++) t->array.shape[d] = shape[d];
    t->array.data = data;
}

sl_status slc_tensor_f32_read(const sl_tensorfile *f, const char *path, const char *prefix,
                              const char *name, int ndim, const int64_t *shape, sl_real *dst)
{
    char full[64];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const sl_tensor *t = sl_tensorfile_find(f, full);
    if (!t) return sl_fail(SL_EFORMAT, "%s: tensor '%s' missing", path, full);
    const sl_array *a = &t->array;
    int ok = a->dtype == SL_F32 && a->ndim == ndim;
    size_t n = 1;
    char want[96] = "";
    for (int d = 0; d < ndim; d++) {
        ok = ok && a->shape[d] == shape[d];
        n *= (size_t)shape[d];
        size_t len = strlen(want);
        snprintf(want + len, sizeof want - len, "%s%lld", d ? "×" : "", (long long)shape[d]);
    }
    if (!ok)
        return sl_fail(SL_EFORMAT, "%s: tensor '%s' has the wrong dtype or shape (want F32 %s)",
                       path, full, ndim ? want : "scalar");
    const float *src = a->data;
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(src[k]))
            return sl_fail(SL_EFORMAT, "%s: tensor '%s' holds a non-finite value at index %zu",
                           path, full, k);
        dst[k] = (sl_real)src[k];
    }
    return SL_OK;
}
