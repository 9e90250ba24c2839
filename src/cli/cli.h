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

void cli_print_keys(FILE *f);
int cli_parse_threads(const char *s, int *out);

#endif
