/* report.c — `silico report RUN [RUN2]`: RUN/report.html, one self-contained
 * page with the run's numbers, config and every figure its analyses support
 * (src/report/html.c); with RUN2 the two runs side by side. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "silico.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: silico report RUN [RUN2] [--out FILE.html]\n"
            "\n"
            "Writes RUN/report.html (or FILE.html): one self-contained page — figures embedded as\n"
            "PNG, no JavaScript, no network — with the run's summary numbers, its config, the\n"
            "analyses present, every figure they support (also written to RUN/figures/ as PNG,\n"
            "SVG, gnuplot script and data; see 'silico plot --help') and, for each analysis not\n"
            "run yet, the command that produces it. With RUN2 (e.g. the regularised and the\n"
            "unregularised reach network) the runs are compared side by side: training curves\n"
            "and perturbation bars of both runs in one chart, the other figures in two columns.\n"
            "Needs gnuplot (Debian's gnuplot-nox; 'make deps').\n"
            "\n"
            "Example:\n"
            "  silico analyze runs/reach-A && silico analyze runs/reach-unregularized-B\n"
            "  silico report runs/reach-A runs/reach-unregularized-B\n");
}

int cli_report(int argc, char **argv)
{
    const char *runs[2] = {NULL, NULL}, *out = NULL;
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "silico report: unknown option '%s' (see silico report --help)\n", argv[i]);
            return 2;
        } else if (n < 2) {
            runs[n++] = argv[i];
        } else {
            fprintf(stderr, "silico report: at most two runs (RUN and RUN2 to compare), got '%s' too\n", argv[i]);
            return 2;
        }
    }
    if (n == 0) {
        usage(stderr);
        return 2;
    }
    int nf = 0, nm = 0;
    if (sl_report_write(runs, n, out, &nf, &nm)) {
        fprintf(stderr, "silico report: %s\n", sl_last_error());
        return 1;
    }
    if (out)
        printf("%s\n", out);
    else
        printf("%s/report.html\n", runs[0]);
    fprintf(stderr, "silico report: %d figure%s, %d not available yet (the page says which command makes each)\n", nf,
            nf == 1 ? "" : "s", nm);
    return 0;
}
