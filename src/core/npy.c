/* npy.c — sl_array helpers and NumPy .npy files.
 *
 * Format (numpy.lib.format): the magic "\x93NUMPY", a major and minor
 * version byte, the header length (2 bytes little-endian for version 1.0,
 * 4 bytes for 2.0 and 3.0), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ended by '\n', then the raw data in C order.
 * We write version 1.0 (header padded to a multiple of 64 bytes, as numpy
 * does) and read 1.0, 2.0 and 3.0; dtypes <f4 <f8 <i4 <i8 |u1. */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char NPY_MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
#define NPY_MAX_HEADER (1u << 20)

size_t sl_dtype_size(sl_dtype t)
{
    switch (t) {
    case SL_F32: return 4;
    case SL_F64: return 8;
    case SL_I32: return 4;
    case SL_I64: return 8;
    case SL_U8: return 1;
    }
    return 0;
}

const char *sl_dtype_name(sl_dtype t)
{
    switch (t) {
    case SL_F32: return "F32";
    case SL_F64: return "F64";
    case SL_I32: return "I32";
    case SL_I64: return "I64";
    case SL_U8: return "U8";
    }
    return "?";
}

static const char *npy_descr(sl_dtype t)
{
    switch (t) {
    case SL_F32: return "<f4";
    case SL_F64: return "<f8";
    case SL_I32: return "<i4";
    case SL_I64: return "<i8";
    case SL_U8: return "|u1";
    }
    return "?";
}

size_t sl_array_numel(const sl_array *a)
{
    size_t n = 1;
    for (int i = 0; i < a->ndim; i++) n *= (size_t)a->shape[i];
    return n;
}

int slc_shape_bytes(sl_dtype t, int ndim, const int64_t *shape, size_t *bytes)
{
    size_t n = sl_dtype_size(t);
    if (n == 0 || ndim < 0 || ndim > SL_MAX_DIMS) return 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return 0;
        size_t d = (size_t)shape[i];
        if (d != 0 && n > SIZE_MAX / d) return 0;
        n *= d;
    }
    *bytes = n;
    return 1;
}

sl_status sl_array_alloc(sl_array *a, sl_dtype t, int ndim, const int64_t *shape)
{
    size_t bytes;
    a->data = NULL;
    if (ndim < 0 || ndim > SL_MAX_DIMS)
        return sl_fail(SL_EINVAL, "array: %d dimensions (at most %d)", ndim, SL_MAX_DIMS);
    if (!slc_shape_bytes(t, ndim, shape, &bytes))
        return sl_fail(SL_EINVAL, "array: invalid dtype or shape (negative or too large)");
    a->data = calloc(bytes ? bytes : 1, 1);
    if (!a->data) return sl_fail(SL_ENOMEM, "array: cannot allocate %zu bytes", bytes);
    a->dtype = t;
    a->ndim = ndim;
    memset(a->shape, 0, sizeof a->shape);
    if (ndim > 0) memcpy(a->shape, shape, (size_t)ndim * sizeof *shape);
    return SL_OK;
}

void sl_array_free(sl_array *a)
{
    if (!a) return;
    free(a->data);
    a->data = NULL;
}

/* ------------------------------------------------------------------ write */

sl_status sl_npy_write(const char *path, const sl_array *a)
{
    size_t bytes;
    if (!slc_shape_bytes(a->dtype, a->ndim, a->shape, &bytes))
        return sl_fail(SL_EINVAL, "%s: invalid dtype or shape", path);
    if (bytes && !a->data) return sl_fail(SL_EINVAL, "%s: array has no data", path);

    char shape[SL_MAX_DIMS * 24 + 4];
    size_t k = 0;
    shape[k++] = '(';
    for (int i = 0; i < a->ndim; i++)
        k += (size_t)snprintf(shape + k, sizeof shape - k, i ? ", %lld" : "%lld",
                              (long long)a->shape[i]);
    if (a->ndim == 1) shape[k++] = ',';
    shape[k++] = ')';
    shape[k] = '\0';

    char header[512];
    int len = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                       npy_descr(a->dtype), shape);
    size_t total = 10 + (size_t)len + 1; /* preamble + dict + '\n' */
    size_t padded = (total + 63) / 64 * 64;
    memset(header + len, ' ', padded - total);
    header[padded - 10 - 1] = '\n';
    size_t hlen = padded - 10;

    unsigned char pre[10];
    memcpy(pre, NPY_MAGIC, 6);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);

    FILE *f = fopen(path, "wb");
    if (!f) return sl_fail(SL_EIO, "%s: cannot open for writing", path);
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, hlen, f) == hlen &&
             (bytes == 0 || fwrite(a->data, 1, bytes, f) == bytes);
    if (fclose(f) != 0) ok = 0;
    if (!ok) return sl_fail(SL_EIO, "%s: write failed (disk full?)", path);
    return SL_OK;
}

/* ------------------------------------------------------------------- read */

/* A cursor over the header dict text. */
typedef struct {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int accept(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string ('...' or "...") without escapes into out. */
static int parse_string(cursor *c, char *out, size_t cap)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (n + 1 >= cap) return 0;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return 0;
    c->p++;
    out[n] = '\0';
    return 1;
}

static int parse_word(cursor *c, const char *word)
{
    skip_ws(c);
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, word, n) == 0) {
        c->p += n;
        return 1;
    }
    return 0;
}

/* A shape tuple: (), (3,), (2, 3) — Python 2's "3L" also accepted. */
static int parse_shape(cursor *c, int *ndim, int64_t *shape)
{
    if (!accept(c, '(')) return 0;
    *ndim = 0;
    for (;;) {
        if (accept(c, ')')) return 1;
        skip_ws(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') return 0;
        int64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > (INT64_MAX - 9) / 10) return 0;
            v = v * 10 + (*c->p++ - '0');
        }
        if (c->p < c->end && *c->p == 'L') c->p++;
        if (*ndim == SL_MAX_DIMS) return 0;
        shape[(*ndim)++] = v;
        if (!accept(c, ',')) return accept(c, ')');
    }
}

static sl_status parse_header(const char *path, const char *text, size_t len, sl_dtype *dtype,
                              int *ndim, int64_t *shape)
{
    cursor c = {text, text + len};
    char key[32], descr[32] = "";
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;

    if (!accept(&c, '{')) return sl_fail(SL_EFORMAT, "%s: header is not a dict", path);
    while (!accept(&c, '}')) {
        if (!parse_string(&c, key, sizeof key) || !accept(&c, ':'))
            return sl_fail(SL_EFORMAT, "%s: cannot parse header dict", path);
        if (strcmp(key, "descr") == 0) {
            if (!parse_string(&c, descr, sizeof descr))
                return sl_fail(SL_EFORMAT, "%s: header 'descr' is not a dtype string", path);
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (parse_word(&c, "True")) fortran = 1;
            else if (!parse_word(&c, "False"))
                return sl_fail(SL_EFORMAT, "%s: header 'fortran_order' is not True/False", path);
            have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (!parse_shape(&c, ndim, shape))
                return sl_fail(SL_EFORMAT,
                               "%s: header 'shape' is not a tuple of at most %d sizes", path,
                               SL_MAX_DIMS);
            have_shape = 1;
        } else {
            return sl_fail(SL_EFORMAT, "%s: unexpected header key '%s'", path, key);
        }
        if (!accept(&c, ',')) {
            if (accept(&c, '}')) break;
            return sl_fail(SL_EFORMAT, "%s: cannot parse header dict", path);
        }
    }
    if (!have_descr || !have_order || !have_shape)
        return sl_fail(SL_EFORMAT, "%s: header lacks '%s'", path,
                       !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    if (fortran)
        return sl_fail(SL_EFORMAT,
                       "%s: Fortran-order arrays are not supported (save np.ascontiguousarray(x))",
                       path);

    static const struct {
        const char *descr;
        sl_dtype t;
    } known[] = {{"<f4", SL_F32}, {"<f8", SL_F64}, {"<i4", SL_I32},
                 {"<i8", SL_I64}, {"|u1", SL_U8},  {"<u1", SL_U8}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(descr, known[i].descr) == 0) {
            *dtype = known[i].t;
            return SL_OK;
        }
    return sl_fail(SL_EFORMAT,
                   "%s: unsupported dtype '%s' (supported: <f4 <f8 <i4 <i8 |u1, little-endian)",
                   path, descr);
}

sl_status sl_npy_read(const char *path, sl_array *a)
{
    a->data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return sl_fail(SL_EIO, "%s: cannot open", path);

    sl_status st = SL_OK;
    char *header = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = sl_fail(SL_EIO, "%s: cannot determine the file size", path);
        goto done;
    }

    unsigned char pre[12];
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, NPY_MAGIC, 6) != 0) {
        st = sl_fail(SL_EFORMAT, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    int major = pre[6];
    size_t hlen, offset;
    if (major == 1) {
        if (fread(pre + 8, 1, 2, f) != 2) goto truncated_header;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        offset = 10;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 8, 1, 4, f) != 4) goto truncated_header;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        offset = 12;
    } else {
        st = sl_fail(SL_EFORMAT, "%s: unsupported .npy format version %d.%d", path, major, pre[7]);
        goto done;
    }
    if (hlen > NPY_MAX_HEADER) {
        st = sl_fail(SL_EFORMAT, "%s: header length %zu is implausible", path, hlen);
        goto done;
    }
    if ((size_t)size < offset + hlen) goto truncated_header;
    header = malloc(hlen + 1);
    if (!header) {
        st = sl_fail(SL_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(header, 1, hlen, f) != hlen) goto truncated_header;
    header[hlen] = '\0';

    sl_dtype dtype = SL_F32;
    int ndim = 0;
    int64_t shape[SL_MAX_DIMS] = {0};
    st = parse_header(path, header, hlen, &dtype, &ndim, shape);
    if (st != SL_OK) goto done;

    size_t bytes, found = (size_t)size - offset - hlen;
    if (!slc_shape_bytes(dtype, ndim, shape, &bytes)) {
        st = sl_fail(SL_EFORMAT, "%s: shape is too large", path);
        goto done;
    }
    if (found != bytes) {
        st = sl_fail(SL_EFORMAT, "%s: %s: expected %zu bytes of data, found %zu", path,
                     found < bytes ? "truncated" : "trailing bytes", bytes, found);
        goto done;
    }
    st = sl_array_alloc(a, dtype, ndim, shape);
    if (st != SL_OK) {
        sl_fail_context(st, "%s", path);
        goto done;
    }
    if (bytes && fread(a->data, 1, bytes, f) != bytes) {
        sl_array_free(a);
        st = sl_fail(SL_EIO, "%s: read failed", path);
    }
    goto done;

truncated_header:
    st = sl_fail(SL_EFORMAT, "%s: truncated: the file ends inside the header", path);
done:
    free(header);
    fclose(f);
    return st;
}
