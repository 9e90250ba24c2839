/* progress.c — a progress bar on a stream (normally stderr), for the CLI.
 * On a terminal it redraws one line with '\r' at most ~10 times a second:
 *   label [#########---------]  45% 900/2000 0:42<0:51 status
 * Elsewhere (a log file, a pipe) it prints a plain line at each 10% step,
 * so logs stay readable. Times are elapsed<remaining. */
#include "silico.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define REDRAW_SECONDS 0.1

struct sl_progress {
    FILE *f;
    char label[64];
    long total;
    int tty;
    double t0, last_draw;
    int last_decile; /* non-TTY: the last 10% step printed */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* m:ss, or h:mm:ss past an hour; "?" when unknown. */
static void format_time(char *buf, size_t n, double seconds)
{
    if (!(seconds >= 0 && seconds < 1e8)) {
        snprintf(buf, n, "?");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(buf, n, "%ld:%02ld", s / 60, s % 60);
}

sl_status sl_progress_start(void *stream, const char *label, long total, sl_progress **out)
{
    *out = NULL;
    sl_progress *p = calloc(1, sizeof *p);
    if (!p) return sl_fail(SL_ENOMEM, "progress: out of memory");
    p->f = stream;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total > 0 ? total : 1;
    p->tty = isatty(fileno(p->f));
    p->t0 = now();
    p->last_draw = -1;
    *out = p;
    return SL_OK;
}

static void draw(sl_progress *p, long done, const char *status, double t)
{
    double frac = (double)done / (double)p->total;
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    double elapsed = t - p->t0;
    double left = done > 0 ? elapsed * (double)(p->total - done) / (double)done : -1;
    char el[32], eta[32];
    format_time(el, sizeof el, elapsed);
    format_time(eta, sizeof eta, left);
    const char *sep = status && *status ? " " : "";

    if (p->tty) {
        char bar[BAR_WIDTH + 1];
        int filled = (int)(frac * BAR_WIDTH);
        memset(bar, '#', (size_t)filled);
        memset(bar + filled, '-', (size_t)(BAR_WIDTH - filled));
        bar[BAR_WIDTH] = '\0';
        fprintf(p->f, "\r%s [%s] %3d%% %ld/%ld %s<%s%s%s\033[K", p->label, bar, (int)(frac * 100),
                done, p->total, el, eta, sep, status ? status : "");
    } else {
        fprintf(p->f, "%s %3d%% %ld/%ld %s<%s%s%s\n", p->label, (int)(frac * 100), done, p->total,
                el, eta, sep, status ? status : "");
    }
    fflush(p->f);
    p->last_draw = t;
}

void sl_progress_update(sl_progress *p, long done, const char *status)
{
    double t = now();
    if (p->tty) {
        if (p->last_draw < 0 || t - p->last_draw >= REDRAW_SECONDS || done >= p->total)
            draw(p, done, status, t);
        return;
    }
    int decile = (int)(10 * done / p->total);
    if (decile > 10) decile = 10;
    if (decile > p->last_decile) {
        p->last_decile = decile;
        draw(p, done, status, t);
    }
}

void sl_progress_finish(sl_progress *p, const char *status)
{
    if (!p) return;
    if (p->tty) {
        draw(p, p->total, status, now());
        fputc('\n', p->f);
        fflush(p->f);
    } else if (p->last_decile < 10) {
        draw(p, p->total, status, now());
    }
    free(p);
}
