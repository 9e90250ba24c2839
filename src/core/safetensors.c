/* safetensors.c — weights in the .safetensors format (Hugging Face).
 *
 * Layout: an 8-byte little-endian u64 N, then N bytes of JSON header
 *   {"J": {"dtype": "F32", "shape": [150, 150], "data_offsets": [0, 90000]},
 *    ..., "__metadata__": {"key": "value"}}
 * (padded with spaces so N is a multiple of 8), then the raw little-endian
 * data; data_offsets are [begin, end) byte offsets into that data. We write
 * tensors contiguously in the order given, to path.tmp then rename(), and
 * validate every field when reading: corrupt or truncated files are
 * SL_EFORMAT naming the file. A reader owns copies of names, metadata and
 * data (each tensor in its own allocation, so the data is aligned). */
#include "core.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADER (100u << 20) /* as the reference implementation */
#define META_KEY "__metadata__"

struct sl_tensorfile {
    int n, n_meta;
    sl_tensor *tensors; /* names and data owned */
    sl_kv *meta;        /* keys and values owned */
};

static const sl_dtype DTYPES[] = {SL_F32, SL_F64, SL_I32, SL_I64, SL_U8};

/* ------------------------------------------------------------------ write */

/* The JSON header, unpadded (malloc'd), with data offsets laid end to end. */
static sl_status build_header(const char *path, const sl_tensor *tensors, int n, const sl_kv *meta,
                              int n_meta, char **out, size_t *data_bytes)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return sl_fail(SL_ENOMEM, "%s: out of memory", path);
    sl_status st = SL_OK;
    size_t offset = 0;

    if (n_meta > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, META_KEY);
        for (int i = 0; m && i < n_meta; i++)
            if (!cJSON_AddStringToObject(m, meta[i].key, meta[i].value)) m = NULL;
        if (!m) st = sl_fail(SL_ENOMEM, "%s: out of memory", path);
    }
    for (int i = 0; st == SL_OK && i < n; i++) {
        const sl_array *a = &tensors[i].array;
        size_t bytes;
        if (!tensors[i].name || strcmp(tensors[i].name, META_KEY) == 0 ||
            cJSON_GetObjectItemCaseSensitive(root, tensors[i].name)) {
            st = sl_fail(SL_EINVAL, "%s: tensor name '%s' is missing, reserved or repeated", path,
                         tensors[i].name ? tensors[i].name : "(null)");
            break;
        }
        if (!slc_shape_bytes(a->dtype, a->ndim, a->shape, &bytes) || (bytes && !a->data)) {
            st = sl_fail(SL_EINVAL, "%s: tensor '%s' has an invalid dtype, shape or no data", path,
                         tensors[i].name);
            break;
        }
        double shape[SL_MAX_DIMS], range[2] = {(double)offset, (double)(offset + bytes)};
        for (int d = 0; d < a->ndim; d++) shape[d] = (double)a->shape[d];
        cJSON *t = cJSON_AddObjectToObject(root, tensors[i].name);
        if (!t || !cJSON_AddStringToObject(t, "dtype", sl_dtype_name(a->dtype)) ||
            !cJSON_AddItemToObject(t, "shape", cJSON_CreateDoubleArray(shape, a->ndim)) ||
            !cJSON_AddItemToObject(t, "data_offsets", cJSON_CreateDoubleArray(range, 2)))
            st = sl_fail(SL_ENOMEM, "%s: out of memory", path);
        offset += bytes;
    }
    if (st == SL_OK) {
        *out = cJSON_PrintUnformatted(root);
        if (!*out) st = sl_fail(SL_ENOMEM, "%s: out of memory", path);
        *data_bytes = offset;
    }
    cJSON_Delete(root);
    return st;
}

sl_status sl_safetensors_write(const char *path, const sl_tensor *tensors, int n,
                               const sl_kv *meta, int n_meta)
{
    char *json = NULL;
    size_t data_bytes = 0;
    sl_status st = build_header(path, tensors, n, meta, n_meta, &json, &data_bytes);
    if (st != SL_OK) return st;

    size_t len = strlen(json), padded = (len + 7) / 8 * 8;
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)((uint64_t)padded >> (8 * i));

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        cJSON_free(json);
        return sl_fail(SL_ENOMEM, "%s: out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);

    FILE *f = fopen(tmp, "wb");
    if (!f) {
        st = sl_fail(SL_EIO, "%s: cannot open for writing", tmp);
    } else {
        static const char spaces[8] = "        ";
        int ok = fwrite(prefix, 1, 8, f) == 8 && fwrite(json, 1, len, f) == len &&
                 fwrite(spaces, 1, padded - len, f) == padded - len;
        for (int i = 0; ok && i < n; i++) {
            size_t bytes;
            slc_shape_bytes(tensors[i].array.dtype, tensors[i].array.ndim,
                            tensors[i].array.shape, &bytes);
            ok = bytes == 0 || fwrite(tensors[i].array.data, 1, bytes, f) == bytes;
        }
        if (fclose(f) != 0) ok = 0;
        if (!ok) st = sl_fail(SL_EIO, "%s: write failed (disk full?)", tmp);
        else if (rename(tmp, path) != 0)
            st = sl_fail(SL_EIO, "%s: cannot rename %s into place", path, tmp);
        if (st != SL_OK) remove(tmp);
    }
    free(tmp);
    cJSON_free(json);
    return st;
}

/* ------------------------------------------------------------------- read */

/* A JSON number that is a non-negative integer below 2^53. */
static int json_uint(const cJSON *x, uint64_t *out)
{
    if (!cJSON_IsNumber(x)) return 0;
    double v = x->valuedouble;
    if (!(v >= 0 && v <= 9007199254740992.0) || v != (double)(uint64_t)v) return 0;
    *out = (uint64_t)v;
    return 1;
}

typedef struct {
    uint64_t begin, end;
    int index;
} span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

/* Fill f's tensor descriptions (names, dtypes, shapes; no data yet) and
 * metadata from the parsed header; spans get each tensor's byte range. */
static sl_status read_entries(const char *path, const cJSON *root, uint64_t data_len,
                              sl_tensorfile *f, span *spans)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        const char *name = item->string;
        if (strcmp(name, META_KEY) == 0) {
            if (!cJSON_IsObject(item))
                return sl_fail(SL_EFORMAT, "%s: header: " META_KEY " is not an object", path);
            const cJSON *kv;
            cJSON_ArrayForEach(kv, item)
            {
                if (!cJSON_IsString(kv))
                    return sl_fail(SL_EFORMAT, "%s: header: metadata '%s' is not a string", path,
                                   kv->string);
                sl_kv *m = &f->meta[f->n_meta++];
                m->key = strdup(kv->string);
                m->value = strdup(kv->valuestring);
                if (!m->key || !m->value) return sl_fail(SL_ENOMEM, "%s: out of memory", path);
            }
            continue;
        }

        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
        if (!cJSON_IsObject(item) || !cJSON_IsString(dt) || !cJSON_IsArray(shape) ||
            !cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
            return sl_fail(SL_EFORMAT,
                           "%s: header: tensor '%s' needs dtype, shape and data_offsets [begin, end]",
                           path, name);
        sl_tensor *t = &f->tensors[f->n];
        sl_array *a = &t->array;
        int known = 0;
        for (size_t k = 0; k < sizeof DTYPES / sizeof DTYPES[0]; k++)
            if (strcmp(dt->valuestring, sl_dtype_name(DTYPES[k])) == 0) {
                a->dtype = DTYPES[k];
                known = 1;
            }
        if (!known)
            return sl_fail(SL_EFORMAT,
                           "%s: header: tensor '%s' has unsupported dtype '%s' (F32 F64 I32 I64 U8)",
                           path, name, dt->valuestring);
        a->ndim = cJSON_GetArraySize(shape);
        if (a->ndim > SL_MAX_DIMS)
            return sl_fail(SL_EFORMAT, "%s: header: tensor '%s' has %d dimensions (at most %d)",
                           path, name, a->ndim, SL_MAX_DIMS);
        const cJSON *d;
        int k = 0;
        cJSON_ArrayForEach(d, shape)
        {
            uint64_t v;
            if (!json_uint(d, &v))
                return sl_fail(SL_EFORMAT, "%s: header: tensor '%s' has a bad shape", path, name);
            a->shape[k++] = (int64_t)v;
        }
        uint64_t begin, end;
        size_t bytes;
        if (!json_uint(cJSON_GetArrayItem(offs, 0), &begin) ||
            !json_uint(cJSON_GetArrayItem(offs, 1), &end) || end < begin)
            return sl_fail(SL_EFORMAT, "%s: header: tensor '%s' has bad data_offsets", path, name);
        if (!slc_shape_bytes(a->dtype, a->ndim, a->shape, &bytes) || bytes != end - begin)
            return sl_fail(SL_EFORMAT,
                           "%s: header: tensor '%s' (%s, %d dims) has data_offsets [%llu, %llu] "
                           "that do not match its shape",
                           path, name, dt->valuestring, a->ndim, (unsigned long long)begin,
                           (unsigned long long)end);
        if (end > data_len)
            return sl_fail(SL_EFORMAT,
                           "%s: truncated: tensor '%s' ends at byte %llu of the data, file has "
                           "%llu bytes of data",
                           path, name, (unsigned long long)end, (unsigned long long)data_len);
        for (int j = 0; j < f->n; j++)
            if (strcmp(f->tensors[j].name, name) == 0)
                return sl_fail(SL_EFORMAT, "%s: header: tensor '%s' appears twice", path, name);
        t->name = strdup(name);
        if (!t->name) return sl_fail(SL_ENOMEM, "%s: out of memory", path);
        spans[f->n] = (span){begin, end, f->n};
        f->n++;
    }

    qsort(spans, (size_t)f->n, sizeof *spans, span_cmp);
    for (int i = 1; i < f->n; i++)
        if (spans[i].begin < spans[i - 1].end)
            return sl_fail(SL_EFORMAT, "%s: header: tensors '%s' and '%s' overlap", path,
                           f->tensors[spans[i - 1].index].name, f->tensors[spans[i].index].name);
    return SL_OK;
}

static sl_status read_file(const char *path, FILE *fp, sl_tensorfile *f)
{
    long size = -1;
    if (fseek(fp, 0, SEEK_END) == 0) size = ftell(fp);
    if (size < 0 || fseek(fp, 0, SEEK_SET) != 0)
        return sl_fail(SL_EIO, "%s: cannot determine the file size", path);

    unsigned char prefix[8];
    if (fread(prefix, 1, 8, fp) != 8)
        return sl_fail(SL_EFORMAT, "%s: truncated: %ld bytes, not even a header length", path,
                       size);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)prefix[i] << (8 * i);
    uint64_t rest = (uint64_t)size - 8;
    if (hlen > rest)
        return sl_fail(SL_EFORMAT,
                       "%s: truncated: header length is %llu bytes, file has %llu after it", path,
                       (unsigned long long)hlen, (unsigned long long)rest);
    if (hlen > MAX_HEADER)
        return sl_fail(SL_EFORMAT, "%s: header length %llu is implausible", path,
                       (unsigned long long)hlen);
    uint64_t data_len = rest - hlen;

    char *text = malloc((size_t)hlen + 1);
    if (!text) return sl_fail(SL_ENOMEM, "%s: out of memory", path);
    if (fread(text, 1, (size_t)hlen, fp) != hlen) {
        free(text);
        return sl_fail(SL_EIO, "%s: read failed", path);
    }
    text[hlen] = '\0';
    cJSON *root = cJSON_ParseWithLength(text, (size_t)hlen);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sl_fail(SL_EFORMAT, "%s: header is not a valid JSON object", path);
    }

    int entries = cJSON_GetArraySize(root);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, META_KEY);
    int n_meta = cJSON_IsObject(meta) ? cJSON_GetArraySize(meta) : 0;
    span *spans = calloc((size_t)entries + 1, sizeof *spans);
    f->tensors = calloc((size_t)entries + 1, sizeof *f->tensors);
    f->meta = calloc((size_t)n_meta + 1, sizeof *f->meta);
    sl_status st = spans && f->tensors && f->meta ? read_entries(path, root, data_len, f, spans)
                                                  : sl_fail(SL_ENOMEM, "%s: out of memory", path);
    cJSON_Delete(root);

    /* spans are sorted by offset, so the file is read front to back */
    for (int i = 0; st == SL_OK && i < f->n; i++) {
        sl_array *a = &f->tensors[spans[i].index].array;
        sl_array shape_only = *a;
        size_t bytes = (size_t)(spans[i].end - spans[i].begin);
        st = sl_array_alloc(a, shape_only.dtype, shape_only.ndim, shape_only.shape);
        if (st != SL_OK) sl_fail_context(st, "%s", path);
        else if (bytes && (fseek(fp, (long)(8 + hlen + spans[i].begin), SEEK_SET) != 0 ||
                           fread(a->data, 1, bytes, fp) != bytes))
            st = sl_fail(SL_EIO, "%s: read failed", path);
    }
    free(spans);
    return st;
}

sl_status sl_safetensors_read(const char *path, sl_tensorfile **out)
{
    *out = NULL;
    sl_tensorfile *f = calloc(1, sizeof *f);
    if (!f) return sl_fail(SL_ENOMEM, "%s: out of memory", path);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        free(f);
        return sl_fail(SL_EIO, "%s: cannot open", path);
    }
    sl_status st = read_file(path, fp, f);
    fclose(fp);
    if (st != SL_OK) {
        sl_tensorfile_free(f);
        return st;
    }
    *out = f;
    return SL_OK;
}

int sl_tensorfile_count(const sl_tensorfile *f) { return f->n; }

const sl_tensor *sl_tensorfile_at(const sl_tensorfile *f, int i)
{
    return i >= 0 && i < f->n ? &f->tensors[i] : NULL;
}

const sl_tensor *sl_tensorfile_find(const sl_tensorfile *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *sl_tensorfile_meta(const sl_tensorfile *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}

void sl_tensorfile_free(sl_tensorfile *f)
{
    if (!f) return;
    for (int i = 0; f->tensors && i < f->n; i++) {
        free((char *)f->tensors[i].name);
        free(f->tensors[i].array.data);
    }
    for (int i = 0; f->meta && i < f->n_meta; i++) {
        free((char *)f->meta[i].key);
        free((char *)f->meta[i].value);
    }
    free(f->tensors);
    free(f->meta);
    free(f);
}
