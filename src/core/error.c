/* error.c — the library's error reporting: every fallible call returns an
 * sl_status and leaves a message saying what and where in a thread-local
 * buffer, read back with sl_last_error(). The library never prints. */
#include "silico.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SL_ERROR_MAX 1024

static _Thread_local char last_error[SL_ERROR_MAX];

const char *sl_last_error(void) { return last_error; }

void sl_clear_error(void) { last_error[0] = '\0'; }

const char *sl_status_str(sl_status s)
{
    switch (s) {
    case SL_OK: return "ok";
    case SL_EINVAL: return "invalid argument";
    case SL_EIO: return "input/output error";
    case SL_EFORMAT: return "malformed file";
    case SL_ENOMEM: return "out of memory";
    case SL_ENUMERIC: return "non-finite number";
    case SL_EINTERRUPTED: return "interrupted";
    case SL_EEXIST: return "already exists";
    }
    return "unknown status";
}

sl_status sl_fail(sl_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

/* "<context>: <previous message>" (just the context if there was none).
 * A context that already ends in ": " or ":" is not given a second one. */
sl_status sl_fail_context(sl_status s, const char *fmt, ...)
{
    char previous[SL_ERROR_MAX];
    memcpy(previous, last_error, sizeof previous);

    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    size_t used = (size_t)n < sizeof last_error ? (size_t)n : sizeof last_error - 1;
    if (previous[0] != '\0') {
        char last = used ? last_error[used - 1] : ' ';
        const char *sep = last == ' ' ? "" : last == ':' ? " " : ": ";
        snprintf(last_error + used, sizeof last_error - used, "%s%s", sep, previous);
    }
    return s;
}
