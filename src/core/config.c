/* config.c — experiment files: INI text parsed by inih, checked against the
 * schema (schema.c), stored as canonical text per key.
 *
 *   [model]
 *   hidden = 150        ; inline comments after ';' or '#'
 *
 * Section [s] with key k is the key "s.k"; keys before any section may be
 * written in full ("model.hidden = 150"). Every key must be in the schema,
 * every value is validated by its type, and each key may appear once per
 * file; errors name the file and line. A failed load leaves the config as
 * it was. Command-line overrides are "section.key=value".
 *
 * inih does the lexing; lines reach it through our reader, which counts
 * them (Debian's inih passes no line number to handlers), strips
 * indentation (so an indented key is never taken as a continuation line)
 * and rejects unknown [sections] on their own line. */
#include "core.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WHERE_MAX 512

typedef struct {
    char *value;  /* canonical text */
    char *origin; /* file, "command line", ...; NULL for the default */
    int line;     /* line in origin (0 = none) */
    int set;      /* set by a file or override */
} entry;

struct sl_config {
    int n;
    const sl_keydef *keys;
    entry *e; /* parallel to keys */
};

static int find_key(const sl_config *c, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->keys[i].name, key) == 0) return i;
    return -1;
}

/* ------------------------------------------------------------ validation */

static char *trimmed_copy(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    return strndup(s, n);
}

static int in_range(const sl_keydef *k, double v) { return v >= k->min && v <= k->max; }

/* "an integer in [1, 1000000]", "a finite number >= 0", ... */
static void describe(const sl_keydef *k, char *buf, size_t n)
{
    char lo[32], hi[32], range[80];
    slc_format_double(lo, sizeof lo, k->min);
    slc_format_double(hi, sizeof hi, k->max);
    if (k->max >= 1e300) snprintf(range, sizeof range, ">= %s", lo);
    else snprintf(range, sizeof range, "in [%s, %s]", lo, hi);
    switch (k->type) {
    case SL_KEY_INT: snprintf(buf, n, "an integer %s", range); break;
    case SL_KEY_REAL: snprintf(buf, n, "a finite number %s", range); break;
    case SL_KEY_BOOL: snprintf(buf, n, "true or false (yes/no, on/off, 1/0)"); break;
    case SL_KEY_STRING: snprintf(buf, n, "one line of text"); break;
    case SL_KEY_CHOICE: snprintf(buf, n, "one of %s", k->choices); break;
    case SL_KEY_LIST: snprintf(buf, n, "a comma-separated list of numbers %s (or empty)", range); break;
    }
}

static int parse_real(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end != '\0' || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

static int parse_bool(const char *s, int *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = 1, 1;
        if (strcasecmp(s, no[i]) == 0) return *out = 0, 1;
    }
    return 0;
}

/* The choice word equal (ignoring case) to s, copied; NULL if none. */
static char *match_choice(const char *choices, const char *s)
{
    size_t len = strlen(s);
    for (const char *w = choices; *w;) {
        size_t wl = strcspn(w, "|");
        if (wl == len && len > 0 && strncasecmp(w, s, len) == 0) return strndup(w, wl);
        w += wl;
        if (*w == '|') w++;
    }
    return NULL;
}

/* Canonical text of a list of reals: elements trimmed, shortest form. */
static char *canonical_list(const sl_keydef *k, const char *s)
{
    size_t cap = strlen(s) * 4 + 32;
    char *out = malloc(cap), *elem = strdup(s);
    if (!out || !elem) {
        free(out);
        free(elem);
        return NULL;
    }
    size_t len = 0;
    out[0] = '\0';
    int ok = 1;
    if (strspn(s, " \t") != strlen(s)) {
        for (char *p = elem, *next; ok && p; p = next) {
            next = strchr(p, ',');
            if (next) *next++ = '\0';
            double v;
            char num[32];
            ok = parse_real(p, &v) && in_range(k, v);
            if (ok) {
                slc_format_double(num, sizeof num, v);
                len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "", num);
            }
        }
    }
    free(elem);
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

/* The canonical text of a valid value (malloc'd), or NULL if invalid. */
static char *canonical(const sl_keydef *k, const char *s)
{
    char num[32];
    double v;
    int b;
    switch (k->type) {
    case SL_KEY_INT: {
        char *end;
        errno = 0;
        long x = strtol(s, &end, 10);
        if (end == s || *end != '\0' || errno == ERANGE || !in_range(k, (double)x)) return NULL;
        snprintf(num, sizeof num, "%ld", x);
        return strdup(num);
    }
    case SL_KEY_REAL:
        if (!parse_real(s, &v) || !in_range(k, v)) return NULL;
        slc_format_double(num, sizeof num, v);
        return strdup(num);
    case SL_KEY_BOOL: return parse_bool(s, &b) ? strdup(b ? "true" : "false") : NULL;
    case SL_KEY_STRING:
        for (const char *p = s; *p; p++)
            if (*p == '\n' || *p == '\r') return NULL;
        return strdup(s);
    case SL_KEY_CHOICE: return match_choice(k->choices, s);
    case SL_KEY_LIST: return canonical_list(k, s);
    }
    return NULL;
}

/* Validate and store raw (trimmed) as key i. where: "config x.ini line 4". */
static sl_status set_entry(sl_config *c, int i, const char *raw, const char *where,
                           const char *origin, int line)
{
    const sl_keydef *k = &c->keys[i];
    char *value = trimmed_copy(raw);
    if (!value) return sl_fail(SL_ENOMEM, "%s: out of memory", where);
    char *canon = canonical(k, value);
    if (!canon) {
        char want[160];
        describe(k, want, sizeof want);
        sl_status st = sl_fail(SL_EINVAL, "%s: %s must be %s, got '%s'", where, k->name, want, value);
        free(value);
        return st;
    }
    char *org = origin ? strdup(origin) : NULL;
    if (origin && !org) {
        free(value);
        free(canon);
        return sl_fail(SL_ENOMEM, "%s: out of memory", where);
    }
    free(value);
    entry *e = &c->e[i];
    free(e->value);
    free(e->origin);
    e->value = canon;
    e->origin = org;
    e->line = line;
    e->set = origin != NULL;
    return SL_OK;
}

/* Levenshtein distance, for "did you mean". */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The schema key closest to an unknown one: the same key name in another
 * section, else one within two edits. NULL if nothing is close. */
static const char *suggest(const sl_config *c, const char *key)
{
    const char *best = NULL;
    int best_score = 5; /* twice the edit distance; a moved key scores 1 */
    const char *dot = strchr(key, '.'), *short_key = dot ? dot + 1 : key;
    for (int i = 0; i < c->n; i++) {
        const char *name = c->keys[i].name;
        int score = 2 * edit_distance(key, name);
        if (strcmp(strchr(name, '.') + 1, short_key) == 0 && score > 1) score = 1;
        if (score < best_score) {
            best_score = score;
            best = name;
        }
    }
    return best;
}

static sl_status unknown_key(const sl_config *c, const char *key, const char *where)
{
    const char *s = suggest(c, key);
    if (s) return sl_fail(SL_EINVAL, "%s: unknown key '%s' (did you mean '%s'?)", where, key, s);
    return sl_fail(SL_EINVAL, "%s: unknown key '%s' (silico --help lists every key)", where, key);
}

static int known_section(const sl_config *c, const char *section, size_t len)
{
    for (int i = 0; i < c->n; i++)
        if (strncmp(c->keys[i].name, section, len) == 0 && c->keys[i].name[len] == '.') return 1;
    return 0;
}

/* ------------------------------------------------------------- lifecycle */

static void free_entries(entry *e, int n)
{
    for (int i = 0; e && i < n; i++) {
        free(e[i].value);
        free(e[i].origin);
    }
    free(e);
}

sl_status sl_config_new(sl_config **out)
{
    *out = NULL;
    sl_config *c = calloc(1, sizeof *c);
    if (!c) return sl_fail(SL_ENOMEM, "config: out of memory");
    c->keys = sl_config_keys(&c->n);
    c->e = calloc((size_t)c->n, sizeof *c->e);
    if (!c->e) {
        free(c);
        return sl_fail(SL_ENOMEM, "config: out of memory");
    }
    for (int i = 0; i < c->n; i++) {
        sl_status st = set_entry(c, i, c->keys[i].def, "schema default", NULL, 0);
        if (st != SL_OK) {
            sl_config_free(c);
            return st;
        }
    }
    *out = c;
    return SL_OK;
}

sl_status sl_config_copy(const sl_config *src, sl_config **out)
{
    sl_status st = sl_config_new(out);
    for (int i = 0; !st && i < src->n; i++) {
        const entry *e = &src->e[i];
        if (e->set) st = set_entry(*out, i, e->value, e->origin, e->origin, e->line);
    }
    if (st) {
        sl_config_free(*out);
        *out = NULL;
    }
    return st;
}

void sl_config_free(sl_config *c)
{
    if (!c) return;
    free_entries(c->e, c->n);
    free(c);
}

/* ---------------------------------------------------------------- loading */

typedef struct {
    sl_config *c;
    const char *origin; /* file path or the caller's name for the text */
    FILE *f;            /* source: a file ... */
    const char *text;   /* ... or text in memory */
    int line;           /* the line inih is working on */
    int *first_line;    /* per key: line it was set on in this load (0 = not) */
    sl_status st;       /* first error */
    int err_line;
} load_ctx;

static void where_line(const load_ctx *x, int line, char *buf, size_t n)
{
    snprintf(buf, n, "config %s line %d", x->origin, line);
}

static int next_char(load_ctx *x)
{
    if (x->f) return fgetc(x->f);
    return *x->text ? (unsigned char)*x->text++ : EOF;
}

/* inih's fgets-style reader: one line into buf, indentation removed. */
static char *reader(char *buf, int num, void *stream)
{
    load_ctx *x = stream;
    if (x->st != SL_OK) return NULL; /* stop at the first error */
    int ch = next_char(x);
    if (ch == EOF) return NULL;
    x->line++;
    while (ch == ' ' || ch == '\t') ch = next_char(x);
    int len = 0, too_long = 0;
    for (; ch != EOF; ch = next_char(x)) {
        if (len < num - 2) buf[len++] = (char)ch;
        else too_long = 1;
        if (ch == '\n') break;
    }
    buf[len] = '\0';
    char where[WHERE_MAX];
    if (too_long) {
        where_line(x, x->line, where, sizeof where);
        x->st = sl_fail(SL_EINVAL, "%s: line is longer than %d characters", where, num - 3);
        x->err_line = x->line;
    } else if (buf[0] == '[') {
        size_t n = strcspn(buf + 1, "]");
        if (buf[1 + n] == ']' && !known_section(x->c, buf + 1, n)) {
            where_line(x, x->line, where, sizeof where);
            x->st = sl_fail(SL_EINVAL, "%s: unknown section [%.*s] (sections: run, model, task, train)",
                            where, (int)n, buf + 1);
            x->err_line = x->line;
        }
    }
    return buf;
}

/* Cut an inline '#' comment (inih handles ';'): a '#' after whitespace. */
static void strip_hash_comment(char *v)
{
    for (char *p = v; *p; p++)
        if (*p == '#' && p > v && isspace((unsigned char)p[-1])) {
            *p = '\0';
            break;
        }
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *x = user;
    if (x->st != SL_OK) return 1;
    char where[WHERE_MAX], key[256], val[1024];
    where_line(x, x->line, where, sizeof where);
    if (*section) snprintf(key, sizeof key, "%s.%s", section, name);
    else snprintf(key, sizeof key, "%s", name);
    snprintf(val, sizeof val, "%s", value);
    strip_hash_comment(val);

    int i = find_key(x->c, key);
    if (i < 0) x->st = unknown_key(x->c, key, where);
    else if (x->first_line[i])
        x->st = sl_fail(SL_EINVAL, "%s: %s is set twice (lines %d and %d)", where, key,
                        x->first_line[i], x->line);
    else {
        x->first_line[i] = x->line;
        x->st = set_entry(x->c, i, val, where, x->origin, x->line);
    }
    if (x->st != SL_OK) x->err_line = x->line;
    return 1;
}

/* Parse into a copy of c's entries; commit only if the whole source is valid. */
static sl_status load(sl_config *c, load_ctx *x)
{
    sl_config work = *c;
    work.e = calloc((size_t)c->n, sizeof *work.e);
    x->first_line = calloc((size_t)c->n, sizeof *x->first_line);
    sl_status st = work.e && x->first_line ? SL_OK : sl_fail(SL_ENOMEM, "config: out of memory");
    for (int i = 0; st == SL_OK && i < c->n; i++) {
        work.e[i] = c->e[i];
        work.e[i].value = strdup(c->e[i].value);
        work.e[i].origin = c->e[i].origin ? strdup(c->e[i].origin) : NULL;
        if (!work.e[i].value || (c->e[i].origin && !work.e[i].origin))
            st = sl_fail(SL_ENOMEM, "config: out of memory");
    }
    if (st == SL_OK) {
        x->c = &work;
        int bad = ini_parse_stream(reader, x, handler, x);
        st = x->st;
        if (bad > 0 && (st == SL_OK || bad < x->err_line)) {
            char where[WHERE_MAX];
            where_line(x, bad, where, sizeof where);
            st = sl_fail(SL_EINVAL, "%s: expected 'key = value', '[section]' or a comment", where);
        } else if (bad < 0 && st == SL_OK) {
            st = sl_fail(SL_ENOMEM, "config %s: out of memory", x->origin);
        }
    }
    free(x->first_line);
    if (st != SL_OK) {
        free_entries(work.e, c->n);
        return st;
    }
    free_entries(c->e, c->n);
    c->e = work.e;
    return SL_OK;
}

sl_status sl_config_load(sl_config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return sl_fail(SL_EIO, "config %s: cannot open", path);
    load_ctx x = {.origin = path, .f = f};
    sl_status st = load(c, &x);
    if (st == SL_OK && ferror(f)) st = sl_fail(SL_EIO, "config %s: read failed", path);
    fclose(f);
    return st;
}

sl_status sl_config_load_string(sl_config *c, const char *text, const char *origin)
{
    load_ctx x = {.origin = origin ? origin : "(text)", .text = text};
    return load(c, &x);
}

sl_status sl_config_set(sl_config *c, const char *key, const char *value, const char *origin)
{
    const char *where = origin ? origin : "config";
    int i = find_key(c, key);
    if (i < 0) return unknown_key(c, key, where);
    return set_entry(c, i, value, where, where, 0);
}

sl_status sl_config_override(sl_config *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq) return sl_fail(SL_EINVAL, "command line: expected section.key=value, got '%s'", arg);
    char *key = strndup(arg, (size_t)(eq - arg)), *k = key ? trimmed_copy(key) : NULL;
    sl_status st = k ? sl_config_set(c, k, eq + 1, "command line")
                     : sl_fail(SL_ENOMEM, "command line: out of memory");
    free(key);
    free(k);
    return st;
}

/* ---------------------------------------------------------------- getters */

static const char *value_of(const sl_config *c, const char *key)
{
    int i = find_key(c, key);
    return i < 0 ? NULL : c->e[i].value;
}

const char *sl_config_str(const sl_config *c, const char *key)
{
    const char *v = value_of(c, key);
    return v ? v : "";
}

long sl_config_int(const sl_config *c, const char *key)
{
    const char *v = value_of(c, key);
    return v ? strtol(v, NULL, 10) : 0;
}

double sl_config_real(const sl_config *c, const char *key)
{
    const char *v = value_of(c, key);
    return v ? strtod(v, NULL) : 0;
}

int sl_config_bool(const sl_config *c, const char *key)
{
    const char *v = value_of(c, key);
    int b = 0;
    return v && parse_bool(v, &b) ? b : 0;
}

int sl_config_list(const sl_config *c, const char *key, double *out, int max)
{
    const char *v = value_of(c, key);
    if (!v || !*v) return 0;
    int n = 0;
    const char *p = v;
    char *end;
    for (;;) {
        double x = strtod(p, &end);
        if (n < max) out[n] = x;
        n++;
        p = strchr(end, ',');
        if (!p) return n;
        p++;
    }
}

int sl_config_is_set(const sl_config *c, const char *key)
{
    int i = find_key(c, key);
    return i >= 0 && c->e[i].set;
}

/* ---------------------------------------------------------------- writing */

/* "; text" wrapped at 88 columns (inih reads lines of at most 197 characters). */
static size_t write_comment(char *out, size_t cap, const char *text)
{
    size_t len = 0;
    while (*text) {
        size_t n = strlen(text);
        if (n > 86) {
            n = 86;
            while (n > 20 && text[n] != ' ') n--;
        }
        len += (size_t)snprintf(out + len, cap - len, "; %.*s\n", (int)n, text);
        text += n;
        while (*text == ' ') text++;
    }
    return len;
}

char *sl_config_to_ini(const sl_config *c)
{
    size_t cap = 256;
    for (int i = 0; i < c->n; i++)
        cap += strlen(c->keys[i].name) + 2 * strlen(c->keys[i].help) + strlen(c->e[i].value) + 32;
    char *out = malloc(cap);
    if (!out) {
        sl_fail(SL_ENOMEM, "config: out of memory");
        return NULL;
    }
    size_t len = (size_t)snprintf(out, cap, "; silico %s experiment file (fully resolved)\n",
                                  SILICO_VERSION);
    const char *section = "";
    size_t section_len = 0;
    for (int i = 0; i < c->n; i++) {
        const char *name = c->keys[i].name, *dot = strchr(name, '.');
        size_t sl = (size_t)(dot - name);
        if (sl != section_len || strncmp(name, section, sl) != 0) {
            len += (size_t)snprintf(out + len, cap - len, "\n[%.*s]\n", (int)sl, name);
            section = name;
            section_len = sl;
        }
        len += write_comment(out + len, cap - len, c->keys[i].help);
        const char *v = c->e[i].value;
        len += (size_t)snprintf(out + len, cap - len, "%s =%s%s\n", dot + 1, *v ? " " : "", v);
    }
    return out;
}

sl_status sl_config_write(const sl_config *c, const char *path)
{
    char *text = sl_config_to_ini(c);
    if (!text) return sl_fail_context(SL_ENOMEM, "%s", path);
    FILE *f = fopen(path, "w");
    if (!f) {
        free(text);
        return sl_fail(SL_EIO, "%s: cannot open for writing", path);
    }
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    if (fclose(f) != 0) ok = 0;
    free(text);
    return ok ? SL_OK : sl_fail(SL_EIO, "%s: write failed (disk full?)", path);
}
