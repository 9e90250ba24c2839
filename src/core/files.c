/* files.c — one file into a folder: .npy (sl_npy_write) and pretty-printed
 * JSON (cJSON_Print + "\n"), with errors naming the path (files.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/files.h"

static sl_status join(const char *dir, const char *name, char *path, size_t n)
{
    if (snprintf(path, n, "%s/%s", dir, name) >= (int)n)
        return sl_fail(SL_EINVAL, "%s/%s: path too long", dir, name);
    return SL_OK;
}

sl_status slc_write_npy(const char *dir, const char *name, sl_dtype type, int ndim,
                        const int64_t *shape, const void *data)
{
    char path[4200];
    sl_status st = join(dir, name, path, sizeof path);
    if (st) return st;
    sl_array a;
    memset(&a, 0, sizeof a);
    a.dtype = type;
    a.ndim = ndim;
    for (int i = 0; i < ndim; i++) a.shape[i] = shape[i];
    a.data = (void *)data;
    return sl_npy_write(path, &a);
}

sl_status slc_write_json(const char *dir, const char *name, const void *json)
{
    char path[4200];
    sl_status st = join(dir, name, path, sizeof path);
    if (st) return st;
    char *text = cJSON_Print((const cJSON *)json);
    if (!text) return sl_fail(SL_ENOMEM, "%s: out of memory", path);
    FILE *f = fopen(path, "w");
    if (!f) {
        st = sl_fail(SL_EIO, "cannot write %s: %s", path, strerror(errno));
    } else {
        int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
        if (fclose(f) != 0 || !ok) st = sl_fail(SL_EIO, "cannot write %s", path);
    }
    cJSON_free(text);
    return st;
}

void slc_json_num(void *json, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject((cJSON *)json, key, v);
    else
        cJSON_AddNullToObject((cJSON *)json, key);
}
