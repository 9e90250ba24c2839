/* tensors.h — one float32 safetensors tensor in and out of a flat sl_real
 * buffer, for every module that checkpoints a parameter layout (the
 * recurrent models' train/checkpoint.c, the CNN's nn/cnn.c). Not public API. */
#ifndef SILICO_CORE_TENSORS_H
#define SILICO_CORE_TENSORS_H

#include "silico.h"

/* t becomes a float32 view named prefix + name (written into name_buf, 64
 * bytes) of ndim ≤ 4 dims over data. */
void slc_tensor_f32_view(sl_tensor *t, char *name_buf, const char *prefix, const char *name,
                         int ndim, const int64_t *shape, float *data);

/* The tensor prefix + name of f, checked to be float32 of the given shape
 * with finite values, into dst (the shape's product of values); SL_EFORMAT
 * naming path and the tensor when it is missing or does not fit. */
sl_status slc_tensor_f32_read(const sl_tensorfile *f, const char *path, const char *prefix,
                              const char *name, int ndim, const int64_t *shape, sl_real *dst);

#endif
