/* figure.h — the plumbing every figure shares (src/report/figure.c) and the
 * run-directory readers the figures use (src/report/rundata.c). Internal to
 * src/report/.
 *
 * A figure is a gnuplot script body plus data files. fig_begin opens one;
 * fig_data opens OUT/<name>_<part>.dat for the figure to write columns into
 * (the first line names the columns); fig_cmd appends plot commands;
 * fig_render writes OUT/<name>.gp — a readable script that sets the
 * Okabe–Ito palette and renders the body once to <name>.png (pngcairo) and
 * once to <name>.svg — runs gnuplot in OUT and checks its exit status. */
#ifndef SL_REPORT_FIGURE_H
#define SL_REPORT_FIGURE_H

#include <stdio.h>

#include "silico.h"

typedef struct {
    char *dir;  /* output folder */
    char *name; /* figure name: the files' stem */
    int width, height;
    char *body; /* the plot commands */
    size_t len, cap;
    int oom;
} fig;

/* Okabe–Ito colours in the order linetypes 1..8 use them. */
extern const char *const FIG_COLOURS[8];

sl_status fig_begin(fig *f, const char *dir, const char *name, int width, int height);
/* Append printf-formatted text to the script body (add the newline yourself). */
void fig_cmd(fig *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Open OUT/<name>_<part>.dat for writing and write its header line
 * "# <columns>"; *file receives the name relative to OUT (malloc'd; the
 * script refers to it). Close with fig_data_close. */
sl_status fig_data(fig *f, const char *part, const char *columns, FILE **fp, char **file);
sl_status fig_data_close(FILE *fp, const char *file);
/* Write the script and run gnuplot on it. On success *warnings (if not NULL)
 * receives gnuplot's stderr when it printed anything (malloc'd), else NULL.
 * A nonzero exit is SL_EIO with gnuplot's message. */
sl_status fig_render(fig *f, char **warnings);
void fig_free(fig *f);

/* gnuplot string literal for text: s with quotes and backslashes escaped and
 * enhanced-text markup (_ ^ { } @ & ~) made literal, in a static ring of
 * buffers (valid for a few calls). */
const char *fig_quote(const char *s);

/* ---- helpers the figures share (figure.c) ---- */

/* Which of C items to show: the user's selection (each checked < C), else up
 * to max evenly spaced ones. Returns the count (0 with the error set when a
 * selected index is out of range). */
int fig_pick(const int *sel, int nsel, int C, int max, int *out, const char *what);
/* The k indices (of N) with the largest score, largest first (ties: the
 * lower index), into out; returns min(k, N). */
int fig_top_k(const double *score, int N, int k, int *out);
/* The k rows/units (of N) with the largest variance of x (M×N, M samples),
 * largest first, into out; returns min(k, N). */
int fig_top_variance(const double *x, size_t M, int N, int k, int *out);
/* The indices 0..n-1 ordered by increasing key[i] (malloc'd; the identity
 * when key is NULL), or NULL when out of memory. */
int *fig_argsort(const double *key, int n);
/* A dashed vertical line at x = 0 labelled with the alignment event, when
 * the time axis is relative to one (xlabel "time from <event> (s)", not the
 * trial start). */
void fig_zero_marker(fig *f, const char *xlabel);
/* "margins l,r,b,t spacing x,y" for `set multiplot layout` from distances in
 * pixels (left, right, bottom and top margins; horizontal and vertical gaps),
 * so the layout keeps room for labels at any canvas size. Static buffer. */
const char *fig_margins(const fig *f, int left, int right, int bottom, int top, int xgap, int ygap);
/* A legend of n labels (up to 16), each in the colour of linetype i % 8 + 1,
 * centred at screen height y, wrapping onto rows below when one row does not
 * fit (gnuplot labels 100..115). */
void fig_colour_legend(fig *f, int n, char *const *labels, double y);
/* Write a matrix (rows×cols) as gnuplot `matrix` data into OUT/<name>_<part>.dat. */
sl_status fig_matrix(fig *f, const char *part, const double *m, int rows, int cols, char **file);

/* One figure being drawn: the run, the options, the figure to fill. The
 * drawing functions below (one per figure, in the files named) write their
 * data and commands into f; figures.c renders it. */
typedef struct {
    const char *run;
    const sl_figure_opts *o;
    fig f;
} fig_job;

sl_status fig_draw_curves(fig_job *j);        /* curves.c */
sl_status fig_draw_task(fig_job *j);          /* timeseries.c */
sl_status fig_draw_psth(fig_job *j);          /* psth.c */
sl_status fig_draw_compare_pcs(fig_job *j);   /* psth.c */
sl_status fig_draw_perturb(fig_job *j);       /* perturb.c */
sl_status fig_draw_selectivity(fig_job *j);   /* selectivity.c */
sl_status fig_draw_pca(fig_job *j);           /* pca.c */
sl_status fig_draw_pca3d(fig_job *j);         /* pca.c */
sl_status fig_draw_jpca(fig_job *j);          /* pca.c */
sl_status fig_draw_eigen(fig_job *j);         /* eigen.c */
sl_status fig_draw_tangling(fig_job *j);      /* tangling.c */
sl_status fig_draw_tangling_muscles(fig_job *j); /* tangling.c */
sl_status fig_draw_rdm(fig_job *j);           /* rdm.c */
sl_status fig_draw_rdm_layers(fig_job *j);    /* rdm.c */
sl_status fig_draw_feature_maps(fig_job *j);  /* cnn.c */
sl_status fig_draw_preferred(fig_job *j);     /* cnn.c */
sl_status fig_draw_psychometric(fig_job *j);  /* cnn.c */
sl_status fig_draw_gates(fig_job *j);         /* gates.c */

/* ---- reading a run directory (rundata.c) ---- */

/* RUN + "/" + rel (malloc'd). */
char *rd_path(const char *run, const char *rel);
int rd_exists(const char *run, const char *rel);
/* An .npy of any numeric dtype as doubles (malloc'd *data); shape into
 * shape[0..ndim-1]. SL_EIO/SL_EFORMAT naming the file. */
sl_status rd_npy(const char *run, const char *rel, double **data, int *ndim, int64_t shape[8]);
/* The same, requiring ndim dimensions. */
sl_status rd_npy_dims(const char *run, const char *rel, int ndim, double **data, int64_t shape[8]);
/* The whole file at path (malloc'd, NUL-terminated; its size into *n), or
 * NULL with errno set. */
char *rd_slurp(const char *path, size_t *n);
/* A JSON file parsed (free with cJSON_Delete; the type is cJSON *). */
void *rd_json(const char *run, const char *rel, sl_status *st);
/* An optional JSON file (a summary whose numbers a figure shows when it is
 * there): parsed, or NULL when missing or unreadable; leaves no error set. */
void *rd_json_opt(const char *run, const char *rel);
/* The number at key of a JSON object (a cJSON *, may be NULL), NaN when it
 * is absent or not a number. */
double rd_json_num(const void *obj, const char *key);
/* The short name of a run for legends: the directory's last component. */
const char *rd_label(const char *run, char *buf, size_t n);

/* The network's model.type ("ctrnn", "lstm", ...), from RUN/config.ini, or
 * "" when the config cannot be read; *cnn is 1 for a CNN run. */
void rd_model_kind(const char *run, char *kind, size_t n, int *cnn);

/* Inputs, targets, outputs and rates of a run's network per condition:
 * RUN/analysis/activity/ when it exists, else computed from the checkpoint
 * on the task's validation trials (one trial per condition). */
typedef struct {
    int C, T, n_in, n_out, N;
    double *u, *y, *z, *r; /* C×T×n_in, C×T×n_out (y NULL when only labels), C×T×N */
    int *labels;           /* C×T class labels (classification), or NULL */
    double *time;          /* C×T seconds from the alignment event */
    char xlabel[96];       /* "time from go cue (s)" */
    char **cond_label;     /* C labels */
    int from_activity;     /* 1: read from analysis/activity */
} rd_activity;

sl_status rd_activity_load(const char *run, int need_rates, rd_activity *a);
void rd_activity_free(rd_activity *a);
/* The time axis label and seconds per step of analysis/activity (time.npy,
 * summary.json "time_zero"); T steps written into time (malloc'd). */
sl_status rd_time_axis(const char *run, int T, double **time, char *xlabel, size_t n);

#endif
