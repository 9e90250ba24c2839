/* metrics.c — training metrics as JSON lines: one object per line, keys in
 * the order added, numbers at full (shortest round-trip) precision, NaN and
 * Inf as null. Each line is written and flushed whole, so a crashed run
 * leaves only complete lines; append mode continues a resumed run. */
#include "core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_metrics {
    FILE *f;
    char *path;
    char *buf; /* the line being built */
    size_t len, cap;
    int nkeys;
    int oom; /* an append failed; sl_metrics_end reports it */
};

void slc_format_double(char *buf, size_t n, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

static void put(sl_metrics *m, const char *s, size_t n)
{
    if (m->oom) return;
    if (m->len + n + 1 > m->cap) {
        size_t cap = (m->cap ? m->cap : 256);
        while (cap < m->len + n + 1) cap *= 2;
        char *b = realloc(m->buf, cap);
        if (!b) {
            m->oom = 1;
            return;
        }
        m->buf = b;
        m->cap = cap;
    }
    memcpy(m->buf + m->len, s, n);
    m->len += n;
    m->buf[m->len] = '\0';
}

static void put_str(sl_metrics *m, const char *s) { put(m, s, strlen(s)); }

/* A JSON string literal with the escapes RFC 8259 requires. */
static void put_json_string(sl_metrics *m, const char *s)
{
    put(m, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(m, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            put_str(m, esc);
        } else {
            put(m, (const char *)p, 1);
        }
    }
    put(m, "\"", 1);
}

static void put_key(sl_metrics *m, const char *key)
{
    if (m->nkeys++) put(m, ",", 1);
    put_json_string(m, key);
    put(m, ":", 1);
}

sl_status sl_metrics_open(const char *path, int append, sl_metrics **out)
{
    *out = NULL;
    sl_metrics *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return sl_fail(SL_ENOMEM, "%s: out of memory", path);
    }
    m->f = fopen(path, append ? "a" : "w");
    if (!m->f) {
        free(m->path);
        free(m);
        return sl_fail(SL_EIO, "%s: cannot open for writing", path);
    }
    *out = m;
    return SL_OK;
}

void sl_metrics_begin(sl_metrics *m)
{
    m->len = 0;
    m->nkeys = 0;
    m->oom = 0;
    put(m, "{", 1);
}

void sl_metrics_int(sl_metrics *m, const char *key, long v)
{
    char num[32];
    put_key(m, key);
    snprintf(num, sizeof num, "%ld", v);
    put_str(m, num);
}

void sl_metrics_real(sl_metrics *m, const char *key, double v)
{
    char num[32];
    put_key(m, key);
    if (!isfinite(v)) {
        put_str(m, "null");
        return;
    }
    slc_format_double(num, sizeof num, v);
    put_str(m, num);
}

void sl_metrics_str(sl_metrics *m, const char *key, const char *v)
{
    put_key(m, key);
    put_json_string(m, v ? v : "");
}

sl_status sl_metrics_end(sl_metrics *m)
{
    put(m, "}\n", 2);
    if (m->oom) return sl_fail(SL_ENOMEM, "%s: out of memory building a metrics line", m->path);
    if (fwrite(m->buf, 1, m->len, m->f) != m->len || fflush(m->f) != 0)
        return sl_fail(SL_EIO, "%s: write failed (disk full?)", m->path);
    return SL_OK;
}

void sl_metrics_close(sl_metrics *m)
{
    if (!m) return;
    fclose(m->f);
    free(m->buf);
    free(m->path);
    free(m);
}
