/* idx.c — IDX files (MNIST / Fashion-MNIST), raw or gzip'd.
 *
 * Format: a 4-byte magic 0x00 0x00 T D (T the data type, D the number of
 * dimensions), D big-endian uint32 sizes, then the data in C order,
 * big-endian:
 *   T = 0x08 unsigned byte  0x09 signed byte  0x0B short (2 bytes)
 *       0x0C int (4)        0x0D float (4)    0x0E double (8)
 * MNIST's train-images-idx3-ubyte is 0x00000803 with sizes 60000, 28, 28; its
 * labels 0x00000801 with size 60000.
 *
 * zlib's gzread reads both gzip'd and plain files (it passes non-gzip data
 * through), so one path serves both. The payload is read into a buffer that
 * grows as data arrives, so a corrupt header claiming terabytes fails as a
 * truncated file instead of as a huge allocation. */
#include "core/idx.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core.h"

/* Read up to n bytes; returns the count read (< n at end of data). *zerr
 * gets gzerror's code, *zmsg its message, when reading stopped on an error
 * or an incomplete gzip stream. */
static size_t gz_read_full(gzFile f, void *buf, size_t n, int *zerr, const char **zmsg)
{
    size_t got = 0;
    *zerr = Z_OK;
    while (got < n) {
        size_t want = n - got;
        if (want > (1u << 30)) want = 1u << 30;
        int r = gzread(f, (unsigned char *)buf + got, (unsigned)want);
        if (r > 0) got += (size_t)r;
        if (r < (int)want) {
            int e;
            const char *m = gzerror(f, &e);
            if (e != Z_OK) {
                *zerr = e;
                *zmsg = m;
            }
            break;
        }
    }
    return got;
}

/* gzerror's message without the "path: " prefix zlib puts on it */
static const char *zlib_problem(int zerr, const char *zmsg, const char *path)
{
    if (zerr == Z_BUF_ERROR) return "gzip stream cut short";
    if (!zmsg) return "read error";
    size_t n = strlen(path);
    return strncmp(zmsg, path, n) == 0 && zmsg[n] == ':' && zmsg[n + 1] == ' ' ? zmsg + n + 2 : zmsg;
}

/* "60000×28×28" */
static void format_dims(char *buf, size_t cap, int nd, const int64_t *dims)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < nd && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "×" : "", (long long)dims[i]);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static sl_status idx_read(gzFile f, const char *path, sl_array *out, unsigned char **bufp)
{
    unsigned char hdr[4 + 4 * 255];
    int zerr;
    const char *zmsg = NULL;
    size_t got = gz_read_full(f, hdr, 4, &zerr, &zmsg);
    if (zerr != Z_OK && zerr != Z_BUF_ERROR)
        return sl_fail(SL_EFORMAT, "%s: corrupt gzip data: %s", path, zlib_problem(zerr, zmsg, path));
    if (got < 4)
        return sl_fail(SL_EFORMAT, "%s: truncated: %zu bytes, shorter than the 4-byte IDX magic",
                       path, got);
    const uint32_t magic = be32(hdr);
    const int type = hdr[2], nd = hdr[3];
    size_t esize;
    sl_dtype dt;
    switch (type) {
    case 0x08: esize = 1, dt = SL_U8; break;
    case 0x09: esize = 1, dt = SL_I32; break;
    case 0x0B: esize = 2, dt = SL_I32; break;
    case 0x0C: esize = 4, dt = SL_I32; break;
    case 0x0D: esize = 4, dt = SL_F32; break;
    case 0x0E: esize = 8, dt = SL_F64; break;
    default: esize = 0, dt = SL_U8; break;
    }
    if (hdr[0] != 0 || hdr[1] != 0 || esize == 0)
        return sl_fail(SL_EFORMAT,
                       "%s: not an IDX file: magic 0x%08x (expected 0x00000803 for images, "
                       "0x00000801 for labels: two zero bytes, a type byte 0x08, 0x09 or "
                       "0x0B-0x0E, and the number of dimensions)",
                       path, (unsigned)magic);
    if (nd < 1 || nd > SL_MAX_DIMS)
        return sl_fail(SL_EFORMAT, "%s: magic 0x%08x: %d dimensions (silico reads 1 to %d)", path,
                       (unsigned)magic, nd, SL_MAX_DIMS);
    got = gz_read_full(f, hdr + 4, 4 * (size_t)nd, &zerr, &zmsg);
    if (zerr != Z_OK && zerr != Z_BUF_ERROR)
        return sl_fail(SL_EFORMAT, "%s: corrupt gzip data: %s", path, zlib_problem(zerr, zmsg, path));
    if (got < 4 * (size_t)nd)
        return sl_fail(SL_EFORMAT,
                       "%s: truncated header: magic 0x%08x announces %d dimensions, file ends after "
                       "%zu of their %d size bytes",
                       path, (unsigned)magic, nd, got, 4 * nd);
    int64_t dims[SL_MAX_DIMS];
    size_t total = esize;
    for (int i = 0; i < nd; i++) {
        dims[i] = be32(hdr + 4 + 4 * i);
        if (dims[i] == 0)
            return sl_fail(SL_EFORMAT, "%s: dimension %d of %d is 0", path, i + 1, nd);
        if (total > SIZE_MAX / 2 / (size_t)dims[i])
            return sl_fail(SL_EFORMAT, "%s: dimensions too large for memory", path);
        total *= (size_t)dims[i];
    }
    char dimtxt[256];
    format_dims(dimtxt, sizeof dimtxt, nd, dims);
    const char *what = nd == 1 ? "labels" : nd == 3 ? "images" : "items";
    const size_t item = total / (size_t)dims[0];

    /* payload: grow the buffer as data arrives (at most doubling) */
    size_t cap = total < ((size_t)1 << 20) ? total : (size_t)1 << 20, have = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) return sl_fail(SL_ENOMEM, "%s: cannot allocate %zu bytes", path, cap);
    *bufp = buf;
    for (;;) {
        size_t r = gz_read_full(f, buf + have, cap - have, &zerr, &zmsg);
        have += r;
        if (zerr != Z_OK && zerr != Z_BUF_ERROR)
            return sl_fail(SL_EFORMAT, "%s: corrupt gzip data: %s", path, zlib_problem(zerr, zmsg, path));
        if (have < cap || cap == total) break;
        size_t ncap = cap > total / 2 ? total : 2 * cap;
        unsigned char *nb = realloc(buf, ncap);
        if (!nb) return sl_fail(SL_ENOMEM, "%s: cannot allocate %zu bytes", path, ncap);
        *bufp = buf = nb;
        cap = ncap;
    }
    if (have < total)
        return sl_fail(SL_EFORMAT, "%s: truncated: header says %s %s, file holds %zu%s%s", path,
                       dimtxt, what, have / item, have % item ? " and part of one more" : "",
                       zerr == Z_BUF_ERROR ? " (gzip stream cut short)" : "");
    unsigned char extra;
    if (gz_read_full(f, &extra, 1, &zerr, &zmsg) != 0)
        return sl_fail(SL_EFORMAT, "%s: trailing data after the %s %s the header announces", path,
                       dimtxt, what);
    if (zerr == Z_BUF_ERROR)
        return sl_fail(SL_EFORMAT, "%s: truncated: gzip stream cut short after the %s %s", path,
                       dimtxt, what);
    if (zerr != Z_OK)
        return sl_fail(SL_EFORMAT, "%s: corrupt gzip data: %s", path, zlib_problem(zerr, zmsg, path));

    /* to native layout, in place where the element size is kept */
    const size_t n = total / esize;
    void *data = buf;
    if (type == 0x09 || type == 0x0B) {
        int32_t *w = malloc(n * sizeof(int32_t)); /* n ≥ 1: every dimension is ≥ 1 */
        if (!w) return sl_fail(SL_ENOMEM, "%s: cannot allocate %zu bytes", path, n * 4);
        for (size_t i = 0; i < n; i++)
            w[i] = type == 0x09 ? (int8_t)buf[i]
                                : (int16_t)(uint16_t)((unsigned)buf[2 * i] << 8 | buf[2 * i + 1]);
        free(buf);
        *bufp = NULL;
        data = w;
    } else if (esize == 4) {
        for (size_t i = 0; i < n; i++) {
            uint32_t v = be32(buf + 4 * i);
            memcpy(buf + 4 * i, &v, 4);
        }
    } else if (esize == 8) {
        for (size_t i = 0; i < n; i++) {
            uint64_t v = (uint64_t)be32(buf + 8 * i) << 32 | be32(buf + 8 * i + 4);
            memcpy(buf + 8 * i, &v, 8);
        }
    }
    *bufp = NULL;
    out->dtype = dt;
    out->ndim = nd;
    memset(out->shape, 0, sizeof out->shape);
    memcpy(out->shape, dims, (size_t)nd * sizeof dims[0]);
    out->data = data;
    return SL_OK;
}

sl_status sl_idx_read(const char *path, sl_array *out)
{
    if (!out) return sl_fail(SL_EINVAL, "sl_idx_read: no output array");
    out->data = NULL;
    if (!path) return sl_fail(SL_EINVAL, "sl_idx_read: no path");
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return sl_fail(SL_EIO, "%s: cannot open (%s)", path,
                       errno ? strerror(errno) : "out of memory");
    gzbuffer(f, 1u << 17);
    unsigned char *buf = NULL;
    sl_status st = idx_read(f, path, out, &buf);
    free(buf);
    gzclose_r(f);
    if (st != SL_OK) out->data = NULL;
    return st;
}

void sl_idx_u8_to_real(const unsigned char *x, size_t n, double mean, double std, sl_real *out)
{
    const double a = 1.0 / (255.0 * std), c = -mean / std;
    for (size_t i = 0; i < n; i++) out[i] = (sl_real)(x[i] * a + c);
}
