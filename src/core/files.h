/* files.h — writing one file into a folder: JSON (pretty-printed cJSON and
 * a trailing newline) and .npy, for every module that writes a run's or an
 * analysis's outputs (src/train, src/tasks, src/analysis). Not public API. */
#ifndef SILICO_CORE_FILES_H
#define SILICO_CORE_FILES_H

#include "silico.h"

/* dir/name (SL_EINVAL when the path is too long). */
sl_status slc_write_npy(const char *dir, const char *name, sl_dtype type, int ndim,
                        const int64_t *shape, const void *data);
/* json is a cJSON * (void * keeps cJSON out of this header). */
sl_status slc_write_json(const char *dir, const char *name, const void *json);
/* key: v in a cJSON object, or null when v is NaN/Inf. */
void slc_json_num(void *json, const char *key, double v);

#endif
