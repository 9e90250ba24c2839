/* checkpoint.h — helpers shared by checkpoint.c (weights) and train.c
 * (resumable training state) to move the flat parameter layout in and out
 * of named safetensors tensors. */
#ifndef SL_TRAIN_CHECKPOINT_H
#define SL_TRAIN_CHECKPOINT_H

#include "silico.h"

/* Views of buf (in the model's layout) as float32 tensors named prefix+name;
 * *scratch receives the float32 copy (free it after writing). */
sl_status sl_params_to_tensors(const sl_model *m, const sl_real *buf, const char *prefix,
                               sl_tensor *t, char names[][64], float **scratch);
/* Copy tensors prefix+name from f into buf (checks dtype, shape, finiteness). */
sl_status sl_tensors_to_params(const sl_model *m, const sl_tensorfile *f, const char *path,
                               const char *prefix, sl_real *buf);
/* The same for the model's buffers (batch-norm running statistics; none for
 * the CT-RNN), from/into m's buffer. */
sl_status sl_buffers_to_tensors(const sl_model *m, const char *prefix, sl_tensor *t,
                                char names[][64], float **scratch);
sl_status sl_tensors_to_buffers(sl_model *m, const sl_tensorfile *f, const char *path,
                                const char *prefix);
/* The model spec as metadata key/values (vals provides storage); returns count. */
int sl_spec_meta(const sl_model_spec *s, sl_kv *kv, char vals[][48]);
sl_status sl_spec_from_meta(const sl_tensorfile *f, const char *path, sl_model_spec *s);

#endif
