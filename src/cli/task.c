/* task.c — `silico task list` (every task with a one-line description) and
 * `silico task sample NAME [key=value ...] --trials N --seed S --out DIR`
 * (N trials of a generated task written as .npy + JSON for inspection). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "silico.h"

static void task_usage(FILE *f)
{
    fprintf(f,
            "usage: silico task list\n"
            "       silico task sample NAME|FILE.ini [section.key=value ...] [--trials N] [--seed S]\n"
            "                          --out DIR\n"
            "\n"
            "list    every task this silico knows, with a one-line description\n"
            "sample  build N trials of a trial-based task (NAME, or the task of an experiment\n"
            "        file, with any task.* overrides) and write them to DIR (must not exist):\n"
            "          ob.npy        trials x T x channels   observations (float32)\n"
            "          gt.npy        trials x T              labels (int32; classification tasks)\n"
            "          y.npy         trials x T x outputs    targets (float32; continuous tasks)\n"
            "          mask.npy      trials x T              loss mask (float32; 0 = padding)\n"
            "          decision.npy  trials x T              1 where a decision is scored (uint8)\n"
            "          periods.json  each trial's periods: name -> steps [start, end) and ms\n"
            "          trials.json   each trial's variables (coherence, ground truth, ...)\n"
            "          info.json     task, dt, channel and output names, the task.* config\n"
            "        T is the longest of the N trials; shorter trials are padded with mask 0.\n"
            "        The trials are the validation trials of a run with the same task seed.\n"
            "\n"
            "options (sample):\n"
            "  --trials N   number of trials (default 10)\n"
            "  --seed S     task seed (sets task.seed; default: task.seed, or from run.seed)\n"
            "  --out DIR    output directory (required; never overwritten)\n");
}

static int task_list(void)
{
    const char *name, *desc;
    for (int i = 0; sl_task_info(i, &name, &desc); i++) printf("  %-16s %s\n", name, desc);
    return 0;
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "silico task sample: %s must be an integer in [%ld, %ld], got '%s'\n", opt,
                lo, hi, s);
        return 1;
    }
    *out = v;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int task_sample(int argc, char **argv)
{
    const char *name = NULL, *out = NULL, *seed = NULL;
    long trials = 10;
    sl_config *c = NULL;
    if (sl_config_new(&c)) {
        fprintf(stderr, "silico: %s\n", sl_last_error());
        return 1;
    }
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            task_usage(stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "--trials") || !strcmp(a, "--seed") || !strcmp(a, "--out")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "silico task sample: %s needs a value\n", a);
                goto done;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--trials")) {
                if (parse_long("--trials", v, 1, 10000000, &trials)) goto done;
            } else if (!strcmp(a, "--seed")) {
                seed = v;
            } else {
                out = v;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "silico task sample: unknown option '%s' (see silico task --help)\n", a);
            goto done;
        } else if (!name) {
            name = a;
            sl_status st = ends_with(a, ".ini") ? sl_config_load(c, a)
                                                : sl_config_set(c, "task.name", a, "command line");
            if (st) {
                const char *known;
                fprintf(stderr, "silico task sample: %s\n", sl_last_error());
                if (!ends_with(a, ".ini")) {
                    fprintf(stderr, "known tasks:");
                    for (int k = 0; sl_task_info(k, &known, NULL); k++) fprintf(stderr, " %s", known);
                    fprintf(stderr, "\n");
                }
                goto done;
            }
        } else if (strchr(a, '=')) {
            if (sl_config_override(c, a)) {
                fprintf(stderr, "silico task sample: %s\n", sl_last_error());
                goto done;
            }
        } else {
            fprintf(stderr, "silico task sample: unexpected argument '%s' (overrides are "
                            "section.key=value)\n", a);
            goto done;
        }
    }
    if (!name) {
        fprintf(stderr, "silico task sample: name a task (silico task list shows them)\n");
        goto done;
    }
    if (!out) {
        fprintf(stderr, "silico task sample: --out DIR is required\n");
        goto done;
    }
    if (seed && sl_config_set(c, "task.seed", seed, "--seed")) {
        fprintf(stderr, "silico task sample: %s\n", sl_last_error());
        goto done;
    }
    sl_status st = sl_task_sample(c, (int)trials, out);
    if (st) {
        fprintf(stderr, "silico task sample: %s\n", sl_last_error());
        rc = 1;
        goto done;
    }
    fprintf(stderr, "wrote %ld trials of %s to %s/\n", trials, sl_config_str(c, "task.name"), out);
    rc = 0;
done:
    sl_config_free(c);
    return rc;
}

int cli_task(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        task_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "list")) {
        if (argc > 2 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
            task_usage(stdout);
            return 0;
        }
        return task_list();
    }
    if (!strcmp(argv[1], "sample")) return task_sample(argc - 1, argv + 1);
    fprintf(stderr, "silico task: unknown subcommand '%s' (list, sample; see silico task --help)\n",
            argv[1]);
    return 2;
}
