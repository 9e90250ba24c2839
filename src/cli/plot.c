/* plot.c — `silico plot RUN FIGURE [options]`: one figure as PNG + SVG with
 * its gnuplot script and data (src/report/). `silico plot RUN` lists which
 * figures the run can draw and what is missing for the others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "silico.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: silico plot RUN FIGURE [--with RUN2] [--out DIR] [--size WxH]\n"
            "                   [--conditions 0,2,...] [--units 3,7,...] [--layer L] [--image K]\n"
            "       silico plot RUN            which figures RUN can draw, and what the others need\n"
            "\n"
            "Writes RUN/figures/FIGURE.png and FIGURE.svg, the gnuplot script FIGURE.gp that draws\n"
            "both (edit it and run 'gnuplot FIGURE.gp' in that folder to restyle) and the data it\n"
            "plots, FIGURE_*.dat. Needs gnuplot (Debian's gnuplot-nox; 'make deps').\n"
            "\n"
            "options:\n"
            "  --with RUN2        draw a second run in the same axes (curves, perturb)\n"
            "  --out DIR          write into DIR instead of RUN/figures\n"
            "  --size WxH         pixels (default: the figure's size below)\n"
            "  --conditions LIST  conditions to show (task: up to 4; gates: the first)\n"
            "  --units LIST       units to show (psth, gates) or output channels (task)\n"
            "  --layer L          CNN layer index for feature-maps (default: the first conv layer)\n"
            "  --image K          image index for feature-maps (default 0)\n"
            "\n"
            "figures (default size; what each reads under RUN; the command that writes it):\n");
    int n;
    const sl_figure_def *d = sl_figure_list(&n);
    for (int i = 0; i < n; i++)
        fprintf(f, "  %-13s %s (%d×%d)\n      reads: %s\n      from:  %s\n", d[i].name, d[i].what, d[i].width,
                d[i].height, d[i].needs, d[i].command);
    fprintf(f, "\nExample:  silico plot runs/reach-20260101-120000 perturb --with runs/reach-unregularized-20260101-121500\n");
}

/* A figure's producing command with RUN replaced by the run's path. */
static void print_command(FILE *f, const char *cmd, const char *run)
{
    for (const char *s = cmd; *s;) {
        if (!strncmp(s, "RUN", 3) && (s[3] == 0 || s[3] == ' ')) {
            fputs(run, f);
            s += 3;
        } else
            fputc(*s++, f);
    }
}

/* "0,2,5" into a malloc'd array. */
static int parse_list(const char *opt, const char *s, int **out, int *n)
{
    int cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    int *v = malloc((size_t)cap * sizeof(int));
    if (!v) return 1;
    *n = 0;
    for (const char *p = s; *p;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x > 1000000 || (*end && *end != ',')) {
            fprintf(stderr, "silico plot: %s must be a comma-separated list of indices ≥ 0, got '%s'\n", opt, s);
            free(v);
            return 1;
        }
        v[(*n)++] = (int)x;
        p = *end ? end + 1 : end;
    }
    free(*out);
    *out = v;
    return 0;
}

static int parse_int(const char *opt, const char *s, int *out)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || *end || x < 0 || x > 1000000) {
        fprintf(stderr, "silico plot: %s must be an integer ≥ 0, got '%s'\n", opt, s);
        return 1;
    }
    *out = (int)x;
    return 0;
}

static int list_figures(const char *run)
{
    int n;
    const sl_figure_def *d = sl_figure_list(&n);
    printf("figures of %s:\n", run);
    for (int i = 0; i < n; i++) {
        const char *missing;
        if (sl_figure_ready(run, &d[i], &missing))
            printf("  %-13s ready\n", d[i].name);
        else if (sl_figure_applies(run, &d[i]))
        {
            printf("  %-13s missing %s — run: ", d[i].name, missing);
            print_command(stdout, d[i].command, run);
            printf("\n");
        }
    }
    return 0;
}

int cli_plot(int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL};
    int npos = 0, rc = 2;
    sl_figure_opts o;
    sl_figure_opts_init(&o);
    int *conds = NULL, *units = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (a[0] == '-' && a[1] == '-' && !v) {
            fprintf(stderr, "silico plot: %s needs a value (see silico plot --help)\n", a);
            goto out;
        } else if (!strcmp(a, "--with")) {
            o.other_run = argv[++i];
        } else if (!strcmp(a, "--out")) {
            o.out_dir = argv[++i];
        } else if (!strcmp(a, "--size")) {
            if (sscanf(argv[++i], "%dx%d", &o.width, &o.height) != 2 || o.width <= 0 || o.height <= 0) {
                fprintf(stderr, "silico plot: --size must be WxH in pixels, e.g. 1200x800, got '%s'\n", argv[i]);
                goto out;
            }
        } else if (!strcmp(a, "--conditions")) {
            if (parse_list(a, argv[++i], &conds, &o.n_conditions)) goto out;
            o.conditions = conds;
        } else if (!strcmp(a, "--units")) {
            if (parse_list(a, argv[++i], &units, &o.n_units)) goto out;
            o.units = units;
        } else if (!strcmp(a, "--layer")) {
            if (parse_int(a, argv[++i], &o.layer)) goto out;
        } else if (!strcmp(a, "--image")) {
            if (parse_int(a, argv[++i], &o.image)) goto out;
        } else if (a[0] == '-') {
            fprintf(stderr, "silico plot: unknown option '%s' (see silico plot --help)\n", a);
            goto out;
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "silico plot: too many arguments ('%s'); usage: silico plot RUN FIGURE\n", a);
            goto out;
        }
    }
    if (npos == 0) {
        usage(stderr);
        goto out;
    }
    if (npos == 1) {
        rc = list_figures(pos[0]);
        goto out;
    }
    if (!sl_figure_find(pos[1])) {
        fprintf(stderr, "silico plot: unknown figure '%s'; figures:", pos[1]);
        int n;
        const sl_figure_def *d = sl_figure_list(&n);
        for (int i = 0; i < n; i++) fprintf(stderr, " %s", d[i].name);
        fprintf(stderr, "\n");
        goto out;
    }
    char *warn = NULL;
    if (sl_figure_render(pos[0], pos[1], &o, &warn)) {
        fprintf(stderr, "silico plot: %s\n", sl_last_error());
        const sl_figure_def *d = sl_figure_find(pos[1]);
        const char *missing;
        if (!sl_figure_ready(pos[0], d, &missing) && sl_figure_applies(pos[0], d))
        {
            fprintf(stderr, "  it reads %s; to write it: ", d->needs);
            print_command(stderr, d->command, pos[0]);
            fprintf(stderr, "\n");
        }
        rc = 1;
        goto out;
    }
    if (warn) fprintf(stderr, "silico plot: gnuplot warned:\n%s", warn);
    free(warn);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", o.out_dir ? o.out_dir : pos[0]);
    printf("wrote %s%s/%s.png, %s.svg, %s.gp and its data\n", dir, o.out_dir ? "" : "/figures", pos[1], pos[1], pos[1]);
    rc = 0;
out:
    free(conds);
    free(units);
    return rc;
}
