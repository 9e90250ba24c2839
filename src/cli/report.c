/* report.c — placeholder until the subcommand lands (being written now). */
#include <stdio.h>
#include "cli/cli.h"
int cli_report(int argc, char **argv)
{
    fprintf(stderr, "silico: 'report' is not built yet\n");
    return 2;
}
