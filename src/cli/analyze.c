/* analyze.c — placeholder until the subcommand lands (being written now). */
#include <stdio.h>
#include "cli/cli.h"
int cli_analyze(int argc, char **argv, int threads)
{
    fprintf(stderr, "silico: 'analyze' is not built yet\n");
    return 2;
}
