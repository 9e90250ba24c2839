/* cli.h — the subcommands of the silico command line. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stdio.h>

/* silico train ... ; argv[0] is "train". threads: --threads given before the
 * command (0 = not given). Returns the process exit code. */
int cli_train(int argc, char **argv, int threads);

/* silico task list | sample ... ; argv[0] is "task". Returns the exit code. */
int cli_task(int argc, char **argv);

void cli_print_keys(FILE *f);
int cli_parse_threads(const char *s, int *out);

#endif
