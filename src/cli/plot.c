/* plot.c — placeholder until the subcommand lands (being written now). */
#include <stdio.h>
#include "cli/cli.h"
int cli_plot(int argc, char **argv)
{
    fprintf(stderr, "silico: 'plot' is not built yet\n");
    return 2;
}
