/* test_core.c — errors, rng, arena, .npy, .safetensors, metrics, progress
 * and threads. Files that numpy writes are read back, and files we write are
 * checked by numpy (tests skip when /usr/bin/python3 lacks numpy). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silico.h"
#include "testutil.h"

/* ------------------------------------------------------------------ errors */

Test(error, fail_sets_message_and_returns_status)
{
    sl_clear_error();
    cr_assert_str_eq(sl_last_error(), "");
    cr_assert_eq(sl_fail(SL_EFORMAT, "bad %s at %d", "thing", 3), SL_EFORMAT);
    cr_assert_str_eq(sl_last_error(), "bad thing at 3");
    cr_assert_eq(sl_fail_context(SL_EFORMAT, "%s", "x.npy"), SL_EFORMAT);
    cr_assert_str_eq(sl_last_error(), "x.npy: bad thing at 3");
    sl_fail(SL_EIO, "inner");
    sl_fail_context(SL_EIO, "%s: ", "run/ckpt");
    cr_assert_str_eq(sl_last_error(), "run/ckpt: inner", "no doubled separator");
    sl_clear_error();
    cr_assert_str_eq(sl_last_error(), "");
    cr_assert_str_eq(sl_status_str(SL_ENOMEM), "out of memory");
    cr_assert_str_eq(sl_status_str(SL_OK), "ok");
}

/* --------------------------------------------------------------------- rng */

Test(rng, same_seed_same_draws)
{
    sl_rng a, b, c;
    sl_rng_seed(&a, 42);
    sl_rng_seed(&b, 42);
    sl_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sl_rng_u64(&a);
        cr_assert_eq(x, sl_rng_u64(&b));
        differ += x != sl_rng_u64(&c);
    }
    cr_assert_gt(differ, 990);
    sl_rng_seed(&a, 7);
    sl_rng_seed(&b, 7);
    for (int i = 0; i < 101; i++) cr_assert_eq(sl_rng_normal(&a), sl_rng_normal(&b));
}

Test(rng, uniform_and_normal_moments)
{
    sl_rng r;
    sl_rng_seed(&r, 2024);
    const int n = 100000;
    double su = 0, s1 = 0, s2 = 0, s4 = 0;
    for (int i = 0; i < n; i++) {
        double u = sl_rng_uniform(&r);
        cr_assert(u >= 0 && u < 1);
        su += u;
        double z = sl_rng_normal(&r);
        s1 += z;
        s2 += z * z;
        s4 += z * z * z * z;
    }
    cr_assert_lt(fabs(su / n - 0.5), 0.005);
    double mean = s1 / n, var = s2 / n - mean * mean;
    cr_assert_lt(fabs(mean), 0.02, "mean %g", mean);        /* se 0.003 */
    cr_assert_lt(fabs(var - 1), 0.03, "variance %g", var);  /* se 0.0045 */
    cr_assert_lt(fabs(s4 / n - 3), 0.15, "kurtosis %g", s4 / n);
}

Test(rng, streams_are_reproducible_and_independent)
{
    sl_rng a, b;
    sl_rng_seed_stream(&a, 5, 3);
    sl_rng_seed_stream(&b, 5, 3);
    for (int i = 0; i < 100; i++) cr_assert_eq(sl_rng_u64(&a), sl_rng_u64(&b));

    /* neighbouring streams (and the plain seed) share no first draw and
     * their uniforms are uncorrelated */
    uint64_t first[9];
    for (int s = 0; s < 8; s++) {
        sl_rng_seed_stream(&a, 5, (uint64_t)s);
        first[s] = sl_rng_u64(&a);
    }
    sl_rng_seed(&a, 5);
    first[8] = sl_rng_u64(&a);
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < i; j++) cr_assert_neq(first[i], first[j]);

    sl_rng_seed_stream(&a, 5, 0);
    sl_rng_seed_stream(&b, 5, 1);
    const int n = 100000;
    double sab = 0, sa = 0, sb = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        double x = sl_rng_uniform(&a), y = sl_rng_uniform(&b);
        sab += x * y;
        sa += x;
        sb += y;
        saa += x * x;
        sbb += y * y;
    }
    double cov = sab / n - (sa / n) * (sb / n);
    double corr = cov / sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n));
    cr_assert_lt(fabs(corr), 0.02, "correlation between streams %g", corr);
}

Test(rng, below_is_in_range_and_uniform)
{
    sl_rng r;
    sl_rng_seed(&r, 9);
    int counts[7] = {0};
    const int n = 70000;
    for (int i = 0; i < n; i++) {
        uint64_t k = sl_rng_below(&r, 7);
        cr_assert_lt(k, 7);
        counts[k]++;
    }
    double chi2 = 0;
    for (int k = 0; k < 7; k++) chi2 += (counts[k] - 10000.0) * (counts[k] - 10000.0) / 10000.0;
    cr_assert_lt(chi2, 30, "chi-square %g with 6 dof", chi2); /* p ≈ 4e-5 */
    cr_assert_eq(sl_rng_below(&r, 1), 0);
    cr_assert_eq(sl_rng_below(&r, 0), 0);
    uint64_t big = (UINT64_C(1) << 63) + 12345;
    for (int i = 0; i < 100; i++) cr_assert_lt(sl_rng_below(&r, big), big);
}

Test(rng, shuffle_is_a_reproducible_permutation)
{
    int a[50], b[50], seen[50] = {0};
    for (int i = 0; i < 50; i++) a[i] = b[i] = i;
    sl_rng r1, r2;
    sl_rng_seed(&r1, 3);
    sl_rng_seed(&r2, 3);
    sl_rng_shuffle(&r1, a, 50);
    sl_rng_shuffle(&r2, b, 50);
    int moved = 0;
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(a[i], b[i]);
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < 50; i++) cr_assert_eq(seen[i], 1);
    cr_assert_gt(moved, 40);
    sl_rng_shuffle(&r1, a, 0); /* empty and single-element arrays are fine */
    sl_rng_shuffle(&r1, a, 1);
}

/* ------------------------------------------------------------------- arena */

Test(arena, aligned_bump_allocation_and_exhaustion)
{
    sl_arena *a;
    cr_assert_eq(sl_arena_create(1000, &a), SL_OK);
    cr_assert_geq(sl_arena_capacity(a), 1000);
    char *p = sl_arena_alloc(a, 10), *q = sl_arena_alloc(a, 100);
    cr_assert_not_null(p);
    cr_assert_not_null(q);
    cr_assert_eq((uintptr_t)p % 64, 0);
    cr_assert_eq((uintptr_t)q % 64, 0);
    cr_assert_eq(q - p, 64);
    cr_assert_eq(sl_arena_used(a), 64 + 128);
    memset(q, 1, 100);

    sl_clear_error();
    cr_assert_null(sl_arena_alloc(a, sl_arena_capacity(a)));
    cr_assert_not_null(strstr(sl_last_error(), "arena exhausted"), "%s", sl_last_error());
    cr_assert_null(sl_arena_alloc(a, SIZE_MAX));
    cr_assert_eq(sl_arena_used(a), 64 + 128);

    sl_arena_reset(a);
    cr_assert_eq(sl_arena_used(a), 0);
    cr_assert_eq(sl_arena_alloc(a, sl_arena_capacity(a)), p);
    cr_assert_null(sl_arena_alloc(a, 1));
    sl_arena_destroy(a);
}

/* --------------------------------------------------------------------- npy */

static void fill_pattern(sl_array *a)
{
    size_t n = sl_array_numel(a);
    for (size_t i = 0; i < n; i++) {
        switch (a->dtype) {
        case SL_F32: ((float *)a->data)[i] = 0.5f * (float)i - 3.25f; break;
        case SL_F64: ((double *)a->data)[i] = 0.1 * (double)i - 1e-300; break;
        case SL_I32: ((int32_t *)a->data)[i] = (int32_t)i * -7 + 1000000; break;
        case SL_I64: ((int64_t *)a->data)[i] = (int64_t)i * INT64_C(3000000000); break;
        case SL_U8: ((uint8_t *)a->data)[i] = (uint8_t)(i * 37); break;
        }
    }
}

static void assert_same_array(const sl_array *a, const sl_array *b)
{
    cr_assert_eq(a->dtype, b->dtype);
    cr_assert_eq(a->ndim, b->ndim);
    for (int d = 0; d < a->ndim; d++) cr_assert_eq(a->shape[d], b->shape[d]);
    cr_assert_eq(memcmp(a->data, b->data, sl_array_numel(a) * sl_dtype_size(a->dtype)), 0);
}

Test(array, helpers)
{
    cr_assert_eq(sl_dtype_size(SL_F32), 4);
    cr_assert_eq(sl_dtype_size(SL_I64), 8);
    cr_assert_eq(sl_dtype_size(SL_U8), 1);
    cr_assert_str_eq(sl_dtype_name(SL_F64), "F64");
    cr_assert_str_eq(sl_dtype_name(SL_U8), "U8");
    sl_array a;
    int64_t shape[3] = {2, 3, 4};
    cr_assert_eq(sl_array_alloc(&a, SL_F32, 3, shape), SL_OK);
    cr_assert_eq(sl_array_numel(&a), 24);
    for (int i = 0; i < 24; i++) cr_assert_eq(((float *)a.data)[i], 0.0f);
    sl_array_free(&a);
    cr_assert_null(a.data);
    int64_t bad[1] = {-1};
    cr_assert_eq(sl_array_alloc(&a, SL_F32, 1, bad), SL_EINVAL);
    cr_assert_eq(sl_array_alloc(&a, SL_F32, SL_MAX_DIMS + 1, shape), SL_EINVAL);
}

Test(npy, round_trip_every_dtype_and_rank)
{
    char *dir = tu_tmpdir();
    cr_assert_not_null(dir);
    char *path = tu_path(dir, "a.npy");
    const sl_dtype dtypes[] = {SL_F32, SL_F64, SL_I32, SL_I64, SL_U8};
    const int64_t shapes[][3] = {{0, 0, 0}, {7, 0, 0}, {2, 3, 4}, {3, 0, 2}};
    const int ndims[] = {0, 1, 3, 3};
    for (int t = 0; t < 5; t++)
        for (int s = 0; s < 4; s++) {
            sl_array a, b;
            cr_assert_eq(sl_array_alloc(&a, dtypes[t], ndims[s], shapes[s]), SL_OK);
            fill_pattern(&a);
            cr_assert_eq(sl_npy_write(path, &a), SL_OK, "%s", sl_last_error());
            size_t len;
            char *raw = tu_read_file(path, &len);
            cr_assert_eq((len - sl_array_numel(&a) * sl_dtype_size(a.dtype)) % 64, 0,
                         "header padded to 64 bytes");
            free(raw);
            cr_assert_eq(sl_npy_read(path, &b), SL_OK, "%s", sl_last_error());
            assert_same_array(&a, &b);
            sl_array_free(&a);
            sl_array_free(&b);
        }
    free(path);
    tu_rmtree(dir);
}

Test(npy, reads_what_numpy_writes)
{
    if (!tu_have_python_module("numpy")) cr_skip_test("python3-numpy is not installed");
    char *dir = tu_tmpdir();
    char script[2048];
    snprintf(script, sizeof script,
             "import numpy as np, numpy.lib.format as fmt\n"
             "d = '%s/'\n"
             "np.save(d + 'f4.npy', (np.arange(24, dtype='<f4') * 0.5).reshape(2, 3, 4))\n"
             "np.save(d + 'f8.npy', np.float64(2.5))\n"
             "np.save(d + 'i4.npy', np.array([-1, 2, 2147483647], dtype='<i4'))\n"
             "np.save(d + 'i8.npy', np.array([[-5], [2**40]], dtype='<i8'))\n"
             "np.save(d + 'u1.npy', np.array([0, 255, 7], dtype=np.uint8))\n"
             "np.save(d + 'fortran.npy', np.asfortranarray(np.ones((2, 3))))\n"
             "np.save(d + 'big.npy', np.ones(3, dtype='>f4'))\n"
             "np.save(d + 'c8.npy', np.ones(3, dtype=np.complex64))\n"
             "for v in [(2, 0), (3, 0)]:\n"
             "    with open(d + 'v%%d.npy' %% v[0], 'wb') as f:\n"
             "        fmt.write_array(f, np.arange(6, dtype='<f8').reshape(3, 2), version=v)\n",
             dir);
    cr_assert_eq(tu_python(dir, script), 0);

    sl_array a;
    char *p = tu_path(dir, "f4.npy");
    cr_assert_eq(sl_npy_read(p, &a), SL_OK, "%s", sl_last_error());
    cr_assert_eq(a.dtype, SL_F32);
    cr_assert_eq(a.ndim, 3);
    cr_assert(a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 4);
    for (int i = 0; i < 24; i++) cr_assert_eq(((float *)a.data)[i], 0.5f * (float)i);
    sl_array_free(&a);
    free(p);

    p = tu_path(dir, "f8.npy");
    cr_assert_eq(sl_npy_read(p, &a), SL_OK, "%s", sl_last_error());
    cr_assert_eq(a.ndim, 0);
    cr_assert_eq(a.dtype, SL_F64);
    cr_assert_eq(*(double *)a.data, 2.5);
    sl_array_free(&a);
    free(p);

    p = tu_path(dir, "i4.npy");
    cr_assert_eq(sl_npy_read(p, &a), SL_OK, "%s", sl_last_error());
    cr_assert(a.dtype == SL_I32 && a.ndim == 1 && a.shape[0] == 3);
    cr_assert_eq(((int32_t *)a.data)[2], 2147483647);
    sl_array_free(&a);
    free(p);

    p = tu_path(dir, "i8.npy");
    cr_assert_eq(sl_npy_read(p, &a), SL_OK, "%s", sl_last_error());
    cr_assert(a.dtype == SL_I64 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 1);
    cr_assert_eq(((int64_t *)a.data)[1], INT64_C(1) << 40);
    sl_array_free(&a);
    free(p);

    p = tu_path(dir, "u1.npy");
    cr_assert_eq(sl_npy_read(p, &a), SL_OK, "%s", sl_last_error());
    cr_assert(a.dtype == SL_U8 && ((uint8_t *)a.data)[1] == 255);
    sl_array_free(&a);
    free(p);

    for (int v = 2; v <= 3; v++) {
        char name[16];
        snprintf(name, sizeof name, "v%d.npy", v);
        p = tu_path(dir, name);
        cr_assert_eq(sl_npy_read(p, &a), SL_OK, "version %d: %s", v, sl_last_error());
        cr_assert(a.dtype == SL_F64 && a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 2);
        cr_assert_eq(((double *)a.data)[5], 5.0);
        sl_array_free(&a);
        free(p);
    }

    const char *rejected[][2] = {{"fortran.npy", "Fortran"}, {"big.npy", ">f4"}, {"c8.npy", "<c8"}};
    for (int i = 0; i < 3; i++) {
        p = tu_path(dir, rejected[i][0]);
        cr_assert_eq(sl_npy_read(p, &a), SL_EFORMAT);
        cr_assert_null(a.data);
        cr_assert_not_null(strstr(sl_last_error(), p), "%s", sl_last_error());
        cr_assert_not_null(strstr(sl_last_error(), rejected[i][1]), "%s", sl_last_error());
        free(p);
    }
    tu_rmtree(dir);
}

Test(npy, numpy_reads_what_we_write)
{
    if (!tu_have_python_module("numpy")) cr_skip_test("python3-numpy is not installed");
    char *dir = tu_tmpdir();
    const sl_dtype dtypes[] = {SL_F32, SL_F64, SL_I32, SL_I64, SL_U8};
    const char *names[] = {"F32", "F64", "I32", "I64", "U8"};
    int64_t shape[3] = {2, 3, 4};
    for (int t = 0; t < 5; t++) {
        sl_array a;
        cr_assert_eq(sl_array_alloc(&a, dtypes[t], t == 4 ? 0 : 3, shape), SL_OK);
        fill_pattern(&a);
        char name[16];
        snprintf(name, sizeof name, "%s.npy", names[t]);
        char *p = tu_path(dir, name);
        cr_assert_eq(sl_npy_write(p, &a), SL_OK);
        sl_array_free(&a);
        free(p);
    }
    char script[2048];
    snprintf(script, sizeof script,
             "import numpy as np\n"
             "d = '%s/'\n"
             "i = np.arange(24)\n"
             "want = {'F32': (0.5 * i - 3.25).astype('<f4'), 'F64': 0.1 * i - 1e-300,\n"
             "        'I32': (i * -7 + 1000000).astype('<i4'), 'I64': i * 3000000000}\n"
             "for k, v in want.items():\n"
             "    a = np.load(d + k + '.npy')\n"
             "    assert a.shape == (2, 3, 4) and a.dtype == v.dtype, (k, a.shape, a.dtype)\n"
             "    assert (a.ravel() == v).all(), k\n"
             "u = np.load(d + 'U8.npy')\n"
             "assert u.shape == () and u.dtype == np.uint8 and u == 0\n",
             dir);
    cr_assert_eq(tu_python(dir, script), 0);
    tu_rmtree(dir);
}

Test(npy, truncated_and_bad_magic_are_format_errors)
{
    char *dir = tu_tmpdir();
    char *path = tu_path(dir, "t.npy");
    sl_array a, b;
    int64_t shape[2] = {10, 10};
    cr_assert_eq(sl_array_alloc(&a, SL_F64, 2, shape), SL_OK);
    cr_assert_eq(sl_npy_write(path, &a), SL_OK);
    size_t len;
    free(tu_read_file(path, &len));
    cr_assert_eq(tu_truncate(path, len - 8), 0);
    cr_assert_eq(sl_npy_read(path, &b), SL_EFORMAT);
    cr_assert_not_null(strstr(sl_last_error(), path));
    cr_assert_not_null(strstr(sl_last_error(), "truncated: expected 800 bytes of data, found 792"),
                       "%s", sl_last_error());
    cr_assert_eq(tu_truncate(path, 20), 0);
    cr_assert_eq(sl_npy_read(path, &b), SL_EFORMAT);
    cr_assert_not_null(strstr(sl_last_error(), "truncated"), "%s", sl_last_error());

    cr_assert_eq(tu_write_file(path, "PK\x03\x04 this is a zip, not an npy file"), 0);
    cr_assert_eq(sl_npy_read(path, &b), SL_EFORMAT);
    cr_assert_not_null(strstr(sl_last_error(), path));
    cr_assert_not_null(strstr(sl_last_error(), "magic"), "%s", sl_last_error());

    static const char cut[] = "\x93NUMPY\x01\x00\x10\x00{'descr': '<f4' ";
    cr_assert_eq(tu_write_bytes(path, cut, sizeof cut - 1), 0);
    cr_assert_eq(sl_npy_read(path, &b), SL_EFORMAT, "%s", sl_last_error());

    char *missing = tu_path(dir, "missing.npy");
    cr_assert_eq(sl_npy_read(missing, &b), SL_EIO);
    cr_assert_not_null(strstr(sl_last_error(), missing));
    free(missing);
    sl_array_free(&a);
    free(path);
    tu_rmtree(dir);
}

/* ------------------------------------------------------------- safetensors */

/* A safetensors file from a header text and n data bytes (value i). */
static void write_raw_safetensors(const char *path, const char *header, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    uint64_t len = strlen(header);
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)(len >> (8 * i));
    fwrite(prefix, 1, 8, f);
    fwrite(header, 1, len, f);
    for (size_t i = 0; i < n; i++) fputc((int)(i & 0xff), f);
    fclose(f);
}

typedef struct {
    sl_array J, idx, scalar, x64, counts;
} sample_tensors;

static void make_sample(sample_tensors *s, sl_tensor t[5])
{
    int64_t sj[2] = {3, 4}, si[1] = {5}, sx[3] = {2, 1, 2}, sc[1] = {6};
    cr_assert_eq(sl_array_alloc(&s->J, SL_F32, 2, sj), SL_OK);
    cr_assert_eq(sl_array_alloc(&s->idx, SL_I64, 1, si), SL_OK);
    cr_assert_eq(sl_array_alloc(&s->scalar, SL_U8, 0, NULL), SL_OK);
    cr_assert_eq(sl_array_alloc(&s->x64, SL_F64, 3, sx), SL_OK);
    cr_assert_eq(sl_array_alloc(&s->counts, SL_I32, 1, sc), SL_OK);
    fill_pattern(&s->J);
    fill_pattern(&s->idx);
    fill_pattern(&s->x64);
    fill_pattern(&s->counts);
    *(uint8_t *)s->scalar.data = 200;
    t[0] = (sl_tensor){"J", s->J};
    t[1] = (sl_tensor){"idx", s->idx};
    t[2] = (sl_tensor){"scalar", s->scalar};
    t[3] = (sl_tensor){"x64", s->x64};
    t[4] = (sl_tensor){"counts", s->counts};
}

static void free_sample(sample_tensors *s)
{
    sl_array_free(&s->J);
    sl_array_free(&s->idx);
    sl_array_free(&s->scalar);
    sl_array_free(&s->x64);
    sl_array_free(&s->counts);
}

Test(safetensors, round_trip_with_metadata)
{
    char *dir = tu_tmpdir();
    char *path = tu_path(dir, "w.safetensors");
    sample_tensors s;
    sl_tensor t[5];
    make_sample(&s, t);
    sl_kv meta[2] = {{"config", "[model]\nhidden = 3\n"}, {"version", SILICO_VERSION}};
    cr_assert_eq(sl_safetensors_write(path, t, 5, meta, 2), SL_OK, "%s", sl_last_error());

    char *tmp = tu_path(dir, "w.safetensors.tmp");
    FILE *leftover = fopen(tmp, "rb");
    cr_assert_null(leftover, "the temporary file was renamed away");
    free(tmp);

    size_t len;
    unsigned char *raw = (unsigned char *)tu_read_file(path, &len);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)raw[i] << (8 * i);
    cr_assert_eq(hlen % 8, 0, "header padded to a multiple of 8");
    cr_assert_eq(raw[8], '{');
    cr_assert_eq(len, 8 + hlen + 48 + 40 + 1 + 32 + 24, "data contiguous");
    free(raw);

    sl_tensorfile *f;
    cr_assert_eq(sl_safetensors_read(path, &f), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_tensorfile_count(f), 5);
    for (int i = 0; i < 5; i++) {
        const sl_tensor *r = sl_tensorfile_at(f, i);
        cr_assert_str_eq(r->name, t[i].name, "written order kept");
        assert_same_array(&r->array, &t[i].array);
        cr_assert_eq(sl_tensorfile_find(f, t[i].name), r);
    }
    cr_assert_null(sl_tensorfile_at(f, 5));
    cr_assert_null(sl_tensorfile_find(f, "nope"));
    cr_assert_str_eq(sl_tensorfile_meta(f, "config"), "[model]\nhidden = 3\n");
    cr_assert_str_eq(sl_tensorfile_meta(f, "version"), SILICO_VERSION);
    cr_assert_null(sl_tensorfile_meta(f, "absent"));
    sl_tensorfile_free(f);

    /* overwriting an existing file works and leaves no metadata when none given */
    cr_assert_eq(sl_safetensors_write(path, t, 1, NULL, 0), SL_OK);
    cr_assert_eq(sl_safetensors_read(path, &f), SL_OK, "%s", sl_last_error());
    cr_assert_eq(sl_tensorfile_count(f), 1);
    cr_assert_null(sl_tensorfile_meta(f, "config"));
    sl_tensorfile_free(f);

    t[1].name = "J";
    cr_assert_eq(sl_safetensors_write(path, t, 2, NULL, 0), SL_EINVAL, "duplicate names");
    cr_assert_not_null(strstr(sl_last_error(), "'J'"), "%s", sl_last_error());
    free_sample(&s);
    free(path);
    tu_rmtree(dir);
}

Test(safetensors, python_numpy_reader_reads_it)
{
    if (!tu_have_python_module("numpy")) cr_skip_test("python3-numpy is not installed");
    char *dir = tu_tmpdir();
    char *path = tu_path(dir, "w.safetensors");
    sample_tensors s;
    sl_tensor t[5];
    make_sample(&s, t);
    sl_kv meta[1] = {{"note", "caf\xc3\xa9 \"quoted\""}};
    cr_assert_eq(sl_safetensors_write(path, t, 5, meta, 1), SL_OK, "%s", sl_last_error());
    free_sample(&s);

    char script[3072];
    snprintf(script, sizeof script,
             "import json, struct, numpy as np\n"
             "def load(path):  # the ten-line reader from the README\n"
             "    raw = open(path, 'rb').read()\n"
             "    n, = struct.unpack('<Q', raw[:8])\n"
             "    header = json.loads(raw[8:8 + n])\n"
             "    meta = header.pop('__metadata__', {})\n"
             "    dt = {'F32': '<f4', 'F64': '<f8', 'I32': '<i4', 'I64': '<i8', 'U8': 'u1'}\n"
             "    out = {k: np.frombuffer(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]],\n"
             "                            dtype=dt[v['dtype']]).reshape(v['shape']) for k, v in header.items()}\n"
             "    return out, meta\n"
             "t, meta = load('%s')\n"
             "assert list(t) == ['J', 'idx', 'scalar', 'x64', 'counts'], list(t)\n"
             "i = np.arange(24)\n"
             "assert (t['J'] == (0.5 * i[:12] - 3.25).reshape(3, 4)).all()\n"
             "assert (t['idx'] == i[:5] * 3000000000).all()\n"
             "assert t['scalar'].shape == () and t['scalar'] == 200\n"
             "assert (t['x64'].ravel() == 0.1 * i[:4] - 1e-300).all() and t['x64'].shape == (2, 1, 2)\n"
             "assert (t['counts'] == i[:6] * -7 + 1000000).all()\n"
             "assert meta == {'note': 'caf\\u00e9 \"quoted\"'}, meta\n",
             path);
    cr_assert_eq(tu_python(dir, script), 0);
    free(path);
    tu_rmtree(dir);
}

static void expect_format_error(const char *path, const char *needle)
{
    sl_tensorfile *f = (sl_tensorfile *)1;
    cr_assert_eq(sl_safetensors_read(path, &f), SL_EFORMAT, "%s", sl_last_error());
    cr_assert_null(f);
    cr_assert_not_null(strstr(sl_last_error(), path), "%s", sl_last_error());
    cr_assert_not_null(strstr(sl_last_error(), needle), "want '%s' in: %s", needle,
                       sl_last_error());
}

Test(safetensors, corrupt_files_are_format_errors)
{
    char *dir = tu_tmpdir();
    char *path = tu_path(dir, "bad.safetensors");
    sample_tensors s;
    sl_tensor t[5];
    make_sample(&s, t);

    /* truncated data */
    cr_assert_eq(sl_safetensors_write(path, t, 5, NULL, 0), SL_OK);
    size_t len;
    free(tu_read_file(path, &len));
    cr_assert_eq(tu_truncate(path, len - 10), 0);
    expect_format_error(path, "truncated");

    /* shorter than the length prefix */
    cr_assert_eq(tu_truncate(path, 5), 0);
    expect_format_error(path, "truncated");

    /* header length larger than the file */
    write_raw_safetensors(path, "{}", 0);
    FILE *f = fopen(path, "r+b");
    unsigned char huge[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    fwrite(huge, 1, 8, f);
    fclose(f);
    expect_format_error(path, "header length");

    write_raw_safetensors(path, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offs", 8);
    expect_format_error(path, "JSON");
    write_raw_safetensors(path, "[1, 2]", 0);
    expect_format_error(path, "JSON object");
    write_raw_safetensors(path, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4);
    expect_format_error(path, "truncated");
    write_raw_safetensors(path, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 8);
    expect_format_error(path, "truncated");
    write_raw_safetensors(path, "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8);
    expect_format_error(path, "do not match its shape");
    write_raw_safetensors(path, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8);
    expect_format_error(path, "data_offsets");
    write_raw_safetensors(path, "{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8);
    expect_format_error(path, "shape");
    write_raw_safetensors(path, "{\"a\": {\"dtype\": \"BF16\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4);
    expect_format_error(path, "BF16");
    write_raw_safetensors(path,
                          "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                          " \"b\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [4, 8]}}",
                          8);
    expect_format_error(path, "overlap");
    write_raw_safetensors(path, "{\"__metadata__\": {\"k\": 3}}", 0);
    expect_format_error(path, "metadata");
    write_raw_safetensors(path, "{\"a\": {\"dtype\": \"F32\"}}", 0);
    expect_format_error(path, "data_offsets");

    /* a well-formed hand-written file with an unaligned offset reads fine */
    write_raw_safetensors(path,
                          "{\"b\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]},"
                          " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [1, 5]}}",
                          5);
    sl_tensorfile *tf;
    cr_assert_eq(sl_safetensors_read(path, &tf), SL_OK, "%s", sl_last_error());
    const sl_tensor *a = sl_tensorfile_find(tf, "a");
    uint8_t expect[4] = {1, 2, 3, 4};
    cr_assert_eq(memcmp(a->array.data, expect, 4), 0);
    sl_tensorfile_free(tf);

    char *missing = tu_path(dir, "missing.safetensors");
    cr_assert_eq(sl_safetensors_read(missing, &tf), SL_EIO);
    cr_assert_not_null(strstr(sl_last_error(), missing));
    free(missing);
    free_sample(&s);
    free(path);
    tu_rmtree(dir);
}

/* ----------------------------------------------------------------- metrics */

Test(metrics, json_lines_full_precision_and_append)
{
    char *dir = tu_tmpdir();
    char *path = tu_path(dir, "metrics.jsonl");
    sl_metrics *m;
    cr_assert_eq(sl_metrics_open(path, 0, &m), SL_OK);
    sl_metrics_begin(m);
    sl_metrics_int(m, "epoch", 1);
    sl_metrics_real(m, "loss", 0.1);
    sl_metrics_real(m, "third", 1.0 / 3.0);
    sl_metrics_real(m, "nan", NAN);
    sl_metrics_real(m, "inf", -INFINITY);
    sl_metrics_str(m, "note", "a\"b\\c\nd");
    cr_assert_eq(sl_metrics_end(m), SL_OK);
    /* flushed at the end of the line, before close */
    char *text = tu_read_file(path, NULL);
    cr_assert_str_eq(text, "{\"epoch\":1,\"loss\":0.1,\"third\":0.3333333333333333,\"nan\":null,"
                           "\"inf\":null,\"note\":\"a\\\"b\\\\c\\u000ad\"}\n");
    free(text);
    sl_metrics_begin(m);
    sl_metrics_real(m, "big", 1e300);
    cr_assert_eq(sl_metrics_end(m), SL_OK);
    sl_metrics_close(m);

    cr_assert_eq(sl_metrics_open(path, 1, &m), SL_OK);
    sl_metrics_begin(m);
    sl_metrics_int(m, "epoch", -2);
    cr_assert_eq(sl_metrics_end(m), SL_OK);
    sl_metrics_close(m);
    text = tu_read_file(path, NULL);
    cr_assert(strstr(text, "\n{\"big\":1e+300}\n{\"epoch\":-2}\n") != NULL, "%s", text);
    free(text);

    if (tu_have_python_module("json")) {
        char script[512];
        snprintf(script, sizeof script,
                 "import json\n"
                 "rows = [json.loads(l) for l in open('%s')]\n"
                 "assert rows[0]['third'] == 1/3 and rows[0]['nan'] is None\n"
                 "assert rows[0]['note'] == 'a\"b\\\\c\\nd' and rows[2] == {'epoch': -2}\n",
                 path);
        cr_assert_eq(tu_python(dir, script), 0);
    }
    char *bad = tu_path(dir, "no/such/dir/m.jsonl");
    cr_assert_eq(sl_metrics_open(bad, 0, &m), SL_EIO);
    cr_assert_not_null(strstr(sl_last_error(), bad));
    free(bad);
    free(path);
    tu_rmtree(dir);
}

/* ---------------------------------------------------------------- progress */

Test(progress, plain_lines_every_ten_percent_off_a_tty)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    sl_progress *p;
    cr_assert_eq(sl_progress_start(f, "train", 200, &p), SL_OK);
    for (long i = 0; i <= 200; i++) sl_progress_update(p, i, "loss 0.5");
    sl_progress_finish(p, "done");
    long size = ftell(f);
    rewind(f);
    char *text = calloc((size_t)size + 1, 1);
    cr_assert_eq(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    int lines = 0;
    for (char *c = text; *c; c++) lines += *c == '\n';
    cr_assert_eq(lines, 10, "%s", text);
    cr_assert_not_null(strstr(text, "train  10% 20/200 "), "%s", text);
    cr_assert_not_null(strstr(text, "train 100% 200/200 "), "%s", text);
    cr_assert_not_null(strstr(text, " loss 0.5\n"), "%s", text);
    cr_assert_null(strchr(text, '\r'));
    free(text);

    /* finish before the end prints the final line once */
    f = tmpfile();
    cr_assert_eq(sl_progress_start(f, "x", 10, &p), SL_OK);
    sl_progress_update(p, 3, NULL);
    sl_progress_finish(p, "stopped");
    size = ftell(f);
    rewind(f);
    text = calloc((size_t)size + 1, 1);
    cr_assert_eq(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    cr_assert_not_null(strstr(text, "x  30% 3/10 "), "%s", text);
    cr_assert_not_null(strstr(text, "x 100% 10/10 "), "%s", text);
    cr_assert_not_null(strstr(text, "stopped\n"), "%s", text);
    free(text);
}

/* ----------------------------------------------------------------- threads */

Test(threads, openblas_pool_and_machine_info)
{
    int before = sl_get_threads();
    sl_set_threads(1);
    cr_assert_eq(sl_get_threads(), 1);
    sl_set_threads(before);
    cr_assert_not_null(strstr(sl_blas_info(), "OpenBLAS"), "%s", sl_blas_info());
    cr_assert_not_null(strchr(sl_blas_info(), '('), "%s", sl_blas_info());
    cr_assert_gt(strlen(sl_cpu_info()), 0);
}
