/* cli.h — the subcommands of the silico command line. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stdio.h>

/* silico train ... ; argv[0] is "train". threads: --threads given before the
 * command (0 = not given). Returns the process exit code. */
int cli_train(int argc, char **argv, int threads);

/* silico task list | sample ... ; argv[0] is "task". Returns the exit code. */
int cli_task(int argc, char **argv);

/* silico eval RUN [task.key=value ...] [--split val|train] [--json]; argv[0] is
 * "eval". threads as for cli_train. Reads RUN, writes nothing. Returns the exit code. */
int cli_eval(int argc, char **argv, int threads);

/* silico analyze RUN [RUN ...] [--only NAME,...] [options]; argv[0] is "analyze"
 * (src/cli/analyze.c). Writes RUN/analysis/<name>/. Returns the exit code. */
int cli_analyze(int argc, char **argv, int threads);

/* silico compare RUN DATA.mat:variable --dims ... ; argv[0] is "compare"
 * (src/cli/compare.c). Writes RUN/analysis/compare/compare.json. */
int cli_compare(int argc, char **argv, int threads);

/* silico plot RUN FIGURE [options] (src/cli/plot.c): one figure as PNG + SVG
 * with its data and gnuplot script. */
int cli_plot(int argc, char **argv);

/* silico report RUN [RUN2 ...] (src/cli/report.c): RUN/report.html. */
int cli_report(int argc, char **argv);

void cli_print_keys(FILE *f);
int cli_parse_threads(const char *s, int *out);

#endif
