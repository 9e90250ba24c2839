/* main.c — the silico command line: dispatches subcommands and prints help.
 * The CLI is the only part of silico that prints for humans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "silico.h"

static const char *TYPE_NAMES[] = {"int", "real", "bool", "text", "choice", "list"};

void cli_print_keys(FILE *f)
{
    int n;
    const sl_keydef *k = sl_config_keys(&n);
    const char *section = "";
    for (int i = 0; i < n; i++) {
        size_t len = strcspn(k[i].name, ".");
        if (strncmp(section, k[i].name, len) != 0 || section[len] != '.') {
            fprintf(f, "\n  [%.*s]\n", (int)len, k[i].name);
            section = k[i].name;
        }
        char type[96];
        if (k[i].type == SL_KEY_CHOICE)
            snprintf(type, sizeof type, "%s", k[i].choices);
        else
            snprintf(type, sizeof type, "%s", TYPE_NAMES[k[i].type]);
        fprintf(f, "  %-24s = %-18s (%s)\n      %s\n", k[i].name, k[i].def[0] ? k[i].def : "\"\"", type,
                k[i].help);
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "silico %s — train, constrain, perturb and dissect task-driven neural networks\n"
            "\n"
            "usage: silico [--threads N] COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  train FILE.ini [section.key=value ...] [--out DIR]\n"
            "                      train the network an experiment file describes; writes\n"
            "                      runs/<name>-<timestamp>/ (config.ini, metrics.jsonl,\n"
            "                      checkpoint.safetensors, summary.json)\n"
            "  train --resume RUN  continue a stopped run (Ctrl-C saves its state)\n"
            "  eval RUN [task.key=value ...] [--split val|train] [--json]\n"
            "                      evaluate a run's trained network again, e.g. on longer\n"
            "                      sequences; writes nothing ('silico eval --help')\n"
            "  analyze RUN [RUN ...] [--only NAME,...] [--pool DIR]\n"
            "                      dissect trained networks: activity, perturbation, selectivity,\n"
            "                      decoding; writes RUN/analysis/<name>/ ('silico analyze --help')\n"
            "  task list           every task with a one-line description\n"
            "  task sample NAME [section.key=value ...] --trials N --seed S --out DIR\n"
            "                      write N trials of a task (observations, labels, masks,\n"
            "                      periods, trial variables) as .npy + JSON to inspect\n"
            "  plot RUN [FIGURE]   one figure as PNG + SVG + gnuplot script in RUN/figures/; without\n"
            "                      FIGURE, which figures RUN can draw ('silico plot --help')\n"
            "  report RUN [RUN2]   RUN/report.html: numbers, config and every figure, self-contained;\n"
            "                      with RUN2, the two runs side by side\n"
            "\n"
            "options:\n"
            "  --threads N         OpenBLAS threads (default 1: deterministic)\n"
            "  --version           version, BLAS library and CPU\n"
            "  -h, --help          this help; 'silico train --help' for training options\n"
            "\n"
            "Experiment files are INI: [section] headers and key = value lines. Every key can be\n"
            "overridden on the command line as section.key=value. The keys, their defaults and\n"
            "meanings:\n",
            SILICO_VERSION);
    cli_print_keys(f);
    fprintf(f, "\nExample:  silico train examples/reach.ini train.epochs=200 model.hidden=64\n");
}

/* OpenBLAS chooses its kernels when it loads; if it chose its slow generic
 * ones on a CPU it does not recognise, run again with the right ones. */
static void use_fast_blas_kernels(char **argv)
{
    const char *core = sl_blas_better_coretype();
    if (!core || getenv("SILICO_BLAS_REEXEC")) return;
    setenv("OPENBLAS_CORETYPE", core, 1);
    setenv("SILICO_BLAS_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); /* exec failed: go on with the slow kernels */
}

int main(int argc, char **argv)
{
    use_fast_blas_kernels(argv);
    int i = 1;
    int threads = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("silico %s\nBLAS: %s\nCPU: %s\n", SILICO_VERSION, sl_blas_info(), sl_cpu_info());
            return 0;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (cli_parse_threads(argv[++i], &threads)) return 2;
        } else if (!strncmp(argv[i], "--threads=", 10)) {
            if (cli_parse_threads(argv[i] + 10, &threads)) return 2;
        } else {
            fprintf(stderr, "silico: unknown option '%s' (see silico --help)\n", argv[i]);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[i];
    if (!strcmp(cmd, "train")) return cli_train(argc - i, argv + i, threads);
    if (!strcmp(cmd, "task")) return cli_task(argc - i, argv + i);
    if (!strcmp(cmd, "eval")) return cli_eval(argc - i, argv + i, threads);
    if (!strcmp(cmd, "analyze")) return cli_analyze(argc - i, argv + i, threads);
    if (!strcmp(cmd, "compare")) return cli_compare(argc - i, argv + i, threads);
    if (!strcmp(cmd, "plot")) return cli_plot(argc - i, argv + i);
    if (!strcmp(cmd, "report")) return cli_report(argc - i, argv + i);
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "silico: unknown command '%s' (commands: train, eval, task, analyze, compare, plot, report; see silico --help)\n", cmd);
    return 2;
}

int cli_parse_threads(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > 256) {
        fprintf(stderr, "silico: --threads must be an integer in [1, 256], got '%s'\n", s);
        return 1;
    }
    *out = (int)v;
    return 0;
}
