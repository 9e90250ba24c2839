/* test_idx.c — the IDX reader (src/core/idx.c): round trips of files written
 * here byte by byte (raw and gzip'd, every IDX data type), the errors for
 * truncation, bad magic, bad dimensions and trailing data, and, when Debian's
 * dataset-fashion-mnist is installed, the real Fashion-MNIST files. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/idx.h"
#include "silico.h"
#include "testutil.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* an IDX file image: magic 0 0 type nd, the sizes big-endian, then payload
 * (already big-endian); malloc'd, *len its size */
static unsigned char *idx_bytes(int type, int nd, const uint32_t *dims, const void *payload,
                                size_t plen, size_t *len)
{
    *len = 4 + 4 * (size_t)nd + plen;
    unsigned char *b = malloc(*len);
    cr_assert_not_null(b);
    b[0] = 0, b[1] = 0, b[2] = (unsigned char)type, b[3] = (unsigned char)nd;
    for (int i = 0; i < nd; i++) {
        b[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        b[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        b[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        b[7 + 4 * i] = (unsigned char)dims[i];
    }
    if (plen) memcpy(b + 4 + 4 * nd, payload, plen);
    return b;
}

static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile f = gzopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(gzwrite(f, data, (unsigned)n), (int)n);
    cr_assert_eq(gzclose(f), Z_OK);
}

/* 5 images of 4×3 bytes, value = 7·i + 3 mod 256 */
#define NI 5
#define NR 4
#define NC 3
static void image_payload(unsigned char *p)
{
    for (int i = 0; i < NI * NR * NC; i++) p[i] = (unsigned char)(7 * i + 3);
}

static void expect_images(const sl_array *a)
{
    cr_assert_eq(a->dtype, SL_U8);
    cr_assert_eq(a->ndim, 3);
    cr_assert(a->shape[0] == NI && a->shape[1] == NR && a->shape[2] == NC);
    const unsigned char *d = a->data;
    for (int i = 0; i < NI * NR * NC; i++) cr_assert_eq(d[i], (unsigned char)(7 * i + 3));
}

Test(idx, round_trip_raw_and_gzip)
{
    char *dir = tu_tmpdir();
    cr_assert_not_null(dir);
    unsigned char pay[NI * NR * NC];
    image_payload(pay);
    const uint32_t dims[3] = {NI, NR, NC};
    size_t len;
    unsigned char *b = idx_bytes(0x08, 3, dims, pay, sizeof pay, &len);
    cr_assert_eq(b[2], 0x08);
    cr_assert_eq(b[3], 0x03); /* magic 0x00000803 */

    char *raw = tu_path(dir, "imgs-idx3-ubyte"), *gz = tu_path(dir, "imgs-idx3-ubyte.gz");
    cr_assert_eq(tu_write_bytes(raw, b, len), 0);
    write_gz(gz, b, len);
    sl_array a;
    cr_assert_eq(sl_idx_read(raw, &a), SL_OK, "%s", sl_last_error());
    expect_images(&a);
    sl_array_free(&a);
    cr_assert_eq(sl_idx_read(gz, &a), SL_OK, "%s", sl_last_error());
    expect_images(&a);
    sl_array_free(&a);

    /* labels, magic 0x00000801 */
    const unsigned char lab[6] = {0, 9, 3, 3, 1, 7};
    const uint32_t ld[1] = {6};
    free(b);
    b = idx_bytes(0x08, 1, ld, lab, sizeof lab, &len);
    char *lp = tu_path(dir, "labels-idx1-ubyte.gz");
    write_gz(lp, b, len);
    cr_assert_eq(sl_idx_read(lp, &a), SL_OK, "%s", sl_last_error());
    cr_assert(a.dtype == SL_U8 && a.ndim == 1 && a.shape[0] == 6);
    cr_assert_eq(memcmp(a.data, lab, 6), 0);
    sl_array_free(&a);

    /* u8 → normalised reals, as ToTensor + Normalize */
    sl_real out[3];
    const unsigned char px[3] = {0, 255, 51};
    sl_idx_u8_to_real(px, 3, 0.5, 0.25, out);
    cr_assert(fabs(out[0] + 2) < 1e-6 && fabs(out[1] - 2) < 1e-6 && fabs(out[2] + 1.2) < 1e-6);

    free(b), free(raw), free(gz), free(lp);
    tu_rmtree(dir);
}

Test(idx, other_dtypes)
{
    char *dir = tu_tmpdir();
    cr_assert_not_null(dir);
    char *p = tu_path(dir, "t.idx");
    const uint32_t d2[2] = {2, 3};
    size_t len;
    sl_array a;

    /* 0x09 signed byte → I32 */
    const unsigned char sb[6] = {0x80, 0xff, 0, 1, 0x7f, 0x10};
    unsigned char *b = idx_bytes(0x09, 2, d2, sb, 6, &len);
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    cr_assert_eq(sl_idx_read(p, &a), SL_OK, "%s", sl_last_error());
    cr_assert(a.dtype == SL_I32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3);
    const int32_t esb[6] = {-128, -1, 0, 1, 127, 16};
    cr_assert_eq(memcmp(a.data, esb, sizeof esb), 0);
    sl_array_free(&a), free(b);

    /* 0x0B short (big-endian) → I32 */
    const unsigned char sh[12] = {0x80, 0x00, 0xff, 0xfe, 0x01, 0x02, 0, 0, 0x7f, 0xff, 0, 5};
    b = idx_bytes(0x0B, 2, d2, sh, 12, &len);
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    cr_assert_eq(sl_idx_read(p, &a), SL_OK, "%s", sl_last_error());
    const int32_t esh[6] = {-32768, -2, 258, 0, 32767, 5};
    cr_assert(a.dtype == SL_I32);
    cr_assert_eq(memcmp(a.data, esh, sizeof esh), 0);
    sl_array_free(&a), free(b);

    /* 0x0C int, 0x0D float, 0x0E double */
    const int32_t iv[6] = {-7, 0, 1, 123456789, -2147483647, 42};
    const float fv[6] = {1.5f, -2.25f, 0, 3.0e-8f, 1e30f, -0.0f};
    const double dv[6] = {1.0 / 3, -2e-300, 0, 7, 1e300, -5.5};
    unsigned char be[48];
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 4; k++) be[4 * i + k] = (unsigned char)((uint32_t)iv[i] >> (24 - 8 * k));
    b = idx_bytes(0x0C, 2, d2, be, 24, &len);
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    cr_assert_eq(sl_idx_read(p, &a), SL_OK, "%s", sl_last_error());
    cr_assert(a.dtype == SL_I32);
    cr_assert_eq(memcmp(a.data, iv, sizeof iv), 0);
    sl_array_free(&a), free(b);

    for (int i = 0; i < 6; i++) {
        uint32_t u;
        memcpy(&u, &fv[i], 4);
        for (int k = 0; k < 4; k++) be[4 * i + k] = (unsigned char)(u >> (24 - 8 * k));
    }
    b = idx_bytes(0x0D, 2, d2, be, 24, &len);
    write_gz(p, b, len);
    cr_assert_eq(sl_idx_read(p, &a), SL_OK, "%s", sl_last_error());
    cr_assert(a.dtype == SL_F32);
    cr_assert_eq(memcmp(a.data, fv, sizeof fv), 0);
    sl_array_free(&a), free(b);

    for (int i = 0; i < 6; i++) {
        uint64_t u;
        memcpy(&u, &dv[i], 8);
        for (int k = 0; k < 8; k++) be[8 * i + k] = (unsigned char)(u >> (56 - 8 * k));
    }
    b = idx_bytes(0x0E, 2, d2, be, 48, &len);
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    cr_assert_eq(sl_idx_read(p, &a), SL_OK, "%s", sl_last_error());
    cr_assert(a.dtype == SL_F64);
    cr_assert_eq(memcmp(a.data, dv, sizeof dv), 0);
    sl_array_free(&a), free(b);

    free(p);
    tu_rmtree(dir);
}

/* sl_idx_read(path) fails with status st and a message containing want */
static void expect_error(const char *path, sl_status st, const char *want)
{
    sl_array a = {.data = (void *)&a};
    sl_status s = sl_idx_read(path, &a);
    cr_assert_eq(s, st, "%s: status %d (%s), expected %d", path, s, sl_last_error(), st);
    cr_assert_null(a.data);
    cr_assert(strstr(sl_last_error(), want) != NULL, "message '%s' lacks '%s'", sl_last_error(), want);
    cr_assert(strstr(sl_last_error(), path) != NULL, "message '%s' does not name %s", sl_last_error(), path);
}

Test(idx, truncated)
{
    char *dir = tu_tmpdir();
    cr_assert_not_null(dir);
    unsigned char pay[NI * NR * NC];
    image_payload(pay);
    const uint32_t dims[3] = {NI, NR, NC};
    size_t len;
    unsigned char *b = idx_bytes(0x08, 3, dims, pay, sizeof pay, &len);
    char *raw = tu_path(dir, "train-images-idx3-ubyte"), *gz = tu_path(dir, "train-images-idx3-ubyte.gz");

    /* one image short */
    cr_assert_eq(tu_write_bytes(raw, b, len - NR * NC), 0);
    expect_error(raw, SL_EFORMAT, "truncated: header says 5×4×3 images, file holds 4");
    /* part of the last image */
    cr_assert_eq(tu_write_bytes(raw, b, len - 2), 0);
    expect_error(raw, SL_EFORMAT, "header says 5×4×3 images, file holds 4 and part of one more");
    /* a complete gzip stream of a short file */
    write_gz(gz, b, len - NR * NC);
    expect_error(gz, SL_EFORMAT, "truncated: header says 5×4×3 images, file holds 4");
    /* the gzip file itself cut short */
    write_gz(gz, b, len);
    size_t glen;
    char *g = tu_read_file(gz, &glen);
    cr_assert_not_null(g);
    cr_assert_eq(tu_write_bytes(gz, g, glen - 12), 0);
    expect_error(gz, SL_EFORMAT, "truncated");
    /* inside the header */
    cr_assert_eq(tu_write_bytes(raw, b, 9), 0);
    expect_error(raw, SL_EFORMAT, "truncated header");
    cr_assert_eq(tu_write_bytes(raw, b, 2), 0);
    expect_error(raw, SL_EFORMAT, "truncated");
    cr_assert_eq(tu_write_bytes(raw, b, 0), 0);
    expect_error(raw, SL_EFORMAT, "truncated");
    /* labels */
    const uint32_t ld[1] = {10};
    free(b);
    b = idx_bytes(0x08, 1, ld, pay, 10, &len);
    cr_assert_eq(tu_write_bytes(raw, b, len - 3), 0);
    expect_error(raw, SL_EFORMAT, "header says 10 labels, file holds 7");
    /* trailing data */
    cr_assert_eq(tu_write_bytes(raw, b, len), 0);
    FILE *f = fopen(raw, "ab");
    fputc(0, f);
    fclose(f);
    expect_error(raw, SL_EFORMAT, "trailing data");
    free(g), free(b), free(raw), free(gz);
    tu_rmtree(dir);
}

Test(idx, bad_magic_and_dims)
{
    char *dir = tu_tmpdir();
    cr_assert_not_null(dir);
    char *p = tu_path(dir, "bad.idx");
    const unsigned char pay[8] = {0};
    const uint32_t d1[1] = {8};
    size_t len;
    unsigned char *b = idx_bytes(0x08, 1, d1, pay, 8, &len);

    b[0] = 0x1f; /* not zero */
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    expect_error(p, SL_EFORMAT, "not an IDX file");
    b[0] = 0, b[2] = 0x07; /* unknown type */
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    expect_error(p, SL_EFORMAT, "magic 0x00000701");
    cr_assert_eq(tu_write_file(p, "P5\n28 28\n255\n"), 0); /* some other format */
    expect_error(p, SL_EFORMAT, "not an IDX file");
    free(b);

    b = idx_bytes(0x08, 0, NULL, NULL, 0, &len); /* no dimensions */
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    expect_error(p, SL_EFORMAT, "0 dimensions");
    free(b);
    const uint32_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    b = idx_bytes(0x08, 9, d9, pay, 1, &len);
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    expect_error(p, SL_EFORMAT, "9 dimensions");
    free(b);
    const uint32_t dz[3] = {4, 0, 2};
    b = idx_bytes(0x08, 3, dz, NULL, 0, &len);
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    expect_error(p, SL_EFORMAT, "dimension 2 of 3 is 0");
    free(b);
    /* a header claiming ~2^64 bytes fails cleanly, without a huge allocation */
    const uint32_t dh[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    b = idx_bytes(0x0E, 3, dh, pay, 8, &len);
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    expect_error(p, SL_EFORMAT, "too large");
    free(b);
    /* large but representable: a truncation error, not an allocation of 4 GB */
    const uint32_t dl[3] = {1000000, 64, 64};
    b = idx_bytes(0x08, 3, dl, pay, 8, &len);
    cr_assert_eq(tu_write_bytes(p, b, len), 0);
    expect_error(p, SL_EFORMAT, "header says 1000000×64×64 images, file holds 0");
    free(b);

    /* gzip magic, then garbage where the deflate stream should be */
    static const unsigned char bad_gz[24] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 'g', 'a',
                                             'r',  'b',  'a', 'g', 'e', 'g', 'a', 'r', 'b', 'a', 'g', 'e'};
    cr_assert_eq(tu_write_bytes(p, bad_gz, sizeof bad_gz), 0);
    expect_error(p, SL_EFORMAT, "corrupt gzip data");

    char *missing = tu_path(dir, "no-such-file.gz");
    expect_error(missing, SL_EIO, "cannot open");
    free(missing), free(p);
    tu_rmtree(dir);
}

static void class_counts(const sl_array *lab, int64_t n, int per_class_lo, int per_class_hi)
{
    cr_assert(lab->dtype == SL_U8 && lab->ndim == 1 && lab->shape[0] == n);
    long count[256] = {0};
    const unsigned char *l = lab->data;
    for (int64_t i = 0; i < n; i++) count[l[i]]++;
    for (int k = 10; k < 256; k++) cr_assert_eq(count[k], 0, "label %d occurs", k);
    for (int k = 0; k < 10; k++)
        cr_assert(count[k] >= per_class_lo && count[k] <= per_class_hi, "class %d: %ld labels", k,
                  count[k]);
}

Test(idx, fashion_mnist, .timeout = 60)
{
    const char *img = FMNIST_DIR "/t10k-images-idx3-ubyte.gz";
    const char *lab = FMNIST_DIR "/t10k-labels-idx1-ubyte.gz";
    if (access(img, R_OK) != 0 || access(lab, R_OK) != 0)
        cr_skip_test("Fashion-MNIST not installed (" FMNIST_DIR "/t10k-*-idx?-ubyte.gz: "
                     "apt-get install dataset-fashion-mnist, or make deps)");
    sl_array a, l;
    cr_assert_eq(sl_idx_read(img, &a), SL_OK, "%s", sl_last_error());
    cr_assert(a.dtype == SL_U8 && a.ndim == 3 && a.shape[0] == 10000 && a.shape[1] == 28 &&
              a.shape[2] == 28);
    double mean = 0;
    const unsigned char *px = a.data;
    for (size_t i = 0; i < sl_array_numel(&a); i++) mean += px[i];
    mean /= 255.0 * (double)sl_array_numel(&a);
    cr_assert(mean > 0.25 && mean < 0.32, "mean pixel %g (Fashion-MNIST's is ~0.286)", mean);
    cr_assert_eq(sl_idx_read(lab, &l), SL_OK, "%s", sl_last_error());
    class_counts(&l, 10000, 900, 1100);
    sl_array_free(&a), sl_array_free(&l);

    const char *trl = FMNIST_DIR "/train-labels-idx1-ubyte.gz";
    if (access(trl, R_OK) == 0) {
        cr_assert_eq(sl_idx_read(trl, &l), SL_OK, "%s", sl_last_error());
        class_counts(&l, 60000, 5400, 6600);
        sl_array_free(&l);
    }
}
