/* compare.c — placeholder until the subcommand lands (being written now). */
#include <stdio.h>
#include "cli/cli.h"
int cli_compare(int argc, char **argv, int threads)
{
    fprintf(stderr, "silico: 'compare' is not built yet\n");
    return 2;
}
