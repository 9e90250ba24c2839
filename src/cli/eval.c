/* eval.c — `silico eval RUN [task.key=value ...] [--split val|train] [--json]`:
 * the trained network of a run directory evaluated again, on its own task or
 * on the task changed through task.* overrides (longer sequences, other
 * coherences, more trials), without retraining and without writing anything.
 *
 *   config  = RUN/config.ini, then the overrides (task.* and run.threads only)
 *   model   = RUN/checkpoint.safetensors (the best weights by validation)
 *   figures = sl_evaluate_split on the chosen split; no recurrent noise unless
 *             the model has σ_rec > 0, and then the trainer's validation
 *             noise stream (run.seed, stream 3), so with no overrides the
 *             validation figures are those of RUN/summary.json. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "silico.h"

/* the trainer's validation-noise stream of run.seed (src/train/train.c) */
#define EVAL_NOISE_STREAM 3

static void eval_usage(FILE *f)
{
    fprintf(f,
            "usage: silico eval RUN_DIR [task.key=value ...] [--split val|train] [--json]\n"
            "\n"
            "Evaluates the trained network of a run directory (RUN_DIR/checkpoint.safetensors,\n"
            "the best weights by validation) on the task of RUN_DIR/config.ini, optionally\n"
            "changed by task.* overrides, and prints what applies, one figure per line:\n"
            "  loss                the task loss (MSE, or cross-entropy for decision tasks)\n"
            "  mse                 regression tasks: masked MSE, and as %% of the null model\n"
            "                      (a constant output per channel)\n"
            "  accuracy            decision tasks: fraction of scored decisions correct\n"
            "  <score>             the task's own score, e.g. interval_error_pct (ReadySetGo)\n"
            "Nothing is written: RUN_DIR is only read. The evaluation is deterministic: no\n"
            "recurrent or input noise, unless the network was trained with model.sigma_rec > 0\n"
            "or model.sigma_in > 0; then the run's fixed validation noise seed. With no overrides the validation figures\n"
            "are those of RUN_DIR/summary.json.\n"
            "\n"
            "overrides (the network cannot change, so only these are accepted):\n"
            "  task.KEY=VALUE      any task key: the trials evaluated on (task.val_trials,\n"
            "                      task.seed, task.min_len/max_len, coherences, ...). The task\n"
            "                      must keep the network's inputs and outputs, and a CT-RNN\n"
            "                      its dt (α = dt/τ is part of the trained network).\n"
            "  run.threads=N       OpenBLAS threads\n"
            "  model.* and train.* are refused: they describe how the network was built and\n"
            "  trained, and overriding them cannot change the checkpoint's weights.\n"
            "\n"
            "options:\n"
            "  --split val|train   val (default): the fixed validation trials (generated tasks:\n"
            "                      task.val_trials from the task seed; reach: the held-out\n"
            "                      delays); train: one epoch of training trials (the same\n"
            "                      ones every time)\n"
            "  --json              one JSON object on stdout instead: run, task, split,\n"
            "                      overrides, loss, mse, error_pct, accuracy, n_decisions,\n"
            "                      score_name, score (null where a figure does not apply)\n"
            "  --threads N         OpenBLAS threads (default: run.threads of the run)\n"
            "\n"
            "Example: how a memory network trained on sequences of 5..19 steps copes with 300:\n"
            "  silico eval runs/memory-lstm-20250101-120000 task.min_len=300 task.max_len=300\n"
            "  scripts/memory-length.sh RUN_DIR   tabulates that over lengths up to 300\n");
}

/* Whether an override key may change at evaluation; else prints why not. */
static int override_allowed(const char *arg)
{
    size_t klen = strcspn(arg, "=");
    if (!strncmp(arg, "task.", 5) || (klen == 11 && !strncmp(arg, "run.threads", 11))) return 1;
    if (!strncmp(arg, "model.", 6) || !strncmp(arg, "train.", 6))
        fprintf(stderr,
                "silico eval: %.*s cannot be overridden: it describes how the network was built "
                "or trained, and the checkpoint's weights stay what they are (only task.* keys "
                "and run.threads change at evaluation; to change the network, train again)\n",
                (int)klen, arg);
    else
        fprintf(stderr,
                "silico eval: %.*s cannot be overridden at evaluation (only task.* keys and "
                "run.threads; use task.seed for other trials; see silico eval --help)\n",
                (int)klen, arg);
    return 0;
}

static void add_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void print_json(const char *run, const sl_task *t, const char *split, char **over, int n_over,
                       const sl_eval *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "run", run);
    cJSON_AddStringToObject(o, "task", t->ops->name);
    cJSON_AddStringToObject(o, "split", split);
    cJSON *ov = cJSON_AddObjectToObject(o, "overrides");
    for (int i = 0; i < n_over; i++) {
        size_t k = strcspn(over[i], "=");
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(k < sizeof key ? k : sizeof key - 1), over[i]);
        cJSON_DeleteItemFromObjectCaseSensitive(ov, key); /* the last one wins, as in the config */
        cJSON_AddStringToObject(ov, key, over[i] + k + (over[i][k] == '='));
    }
    add_num(o, "loss", e->loss);
    add_num(o, "mse", e->mse);
    add_num(o, "error_pct", e->error_pct);
    add_num(o, "accuracy", e->accuracy);
    if (t->classification)
        cJSON_AddNumberToObject(o, "n_decisions", (double)e->n_decisions);
    else
        cJSON_AddNullToObject(o, "n_decisions");
    if (t->score_name)
        cJSON_AddStringToObject(o, "score_name", t->score_name);
    else
        cJSON_AddNullToObject(o, "score_name");
    add_num(o, "score", e->score);
    char *s = cJSON_PrintUnformatted(o);
    if (s) printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

static void print_text(const char *run, const sl_task *t, const sl_model_spec *sp, const char *split,
                       int n_over, const sl_eval *e)
{
    char net[96];
    if (sp->cell == SL_CELL_CTRNN)
        snprintf(net, sizeof net, "CT-RNN N=%d (%s)", sp->n_hidden, sl_activation_name(sp->act));
    else
        snprintf(net, sizeof net, "%s N=%d", sl_cell_kind_name(sp->cell), sp->n_hidden);
    printf("silico eval: %s — %s, %s, %s split%s%s\n", run, t->ops->name, net, split,
           n_over ? ", with overrides" : "", sp->sigma_rec > 0 || sp->sigma_in > 0 ? ", fixed-seed noise" : "");
    if (isfinite(e->loss))
        printf("  %-18s %11.5g   %s\n", "loss", e->loss,
               t->classification ? "cross-entropy over the masked steps" : "masked MSE");
    if (isfinite(e->mse)) {
        if (isfinite(e->error_pct))
            printf("  %-18s %11.5g   %.3g %% of the null model's MSE\n", "mse", e->mse, e->error_pct);
        else
            printf("  %-18s %11.5g\n", "mse", e->mse);
    }
    if (isfinite(e->accuracy))
        printf("  %-18s %9.2f %%   of %ld scored decisions correct\n", "accuracy", 100 * e->accuracy,
               e->n_decisions);
    if (t->score_name && isfinite(e->score))
        printf("  %-18s %11.5g   the task's own score\n", t->score_name, e->score);
}

int cli_eval(int argc, char **argv, int threads)
{
    const char *run = NULL, *split_name = "val";
    int json = 0;
    char **over = calloc((size_t)argc + 1, sizeof *over);
    int n_over = 0;
    if (!over) {
        fprintf(stderr, "silico eval: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            eval_usage(stdout);
            free(over);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--split") && i + 1 < argc) {
            split_name = argv[++i];
        } else if (!strncmp(a, "--split=", 8)) {
            split_name = a + 8;
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            if (cli_parse_threads(argv[++i], &threads)) goto usage_error;
        } else if (a[0] == '-') {
            fprintf(stderr, "silico eval: unknown option '%s' (see silico eval --help)\n", a);
            goto usage_error;
        } else if (strchr(a, '=')) {
            if (!override_allowed(a)) goto usage_error;
            over[n_over++] = argv[i];
        } else if (!run) {
            run = a;
        } else {
            fprintf(stderr, "silico eval: unexpected argument '%s' (one run directory; overrides "
                            "are task.key=value)\n", a);
            goto usage_error;
        }
    }
    if (!run) {
        fprintf(stderr, "silico eval: missing run directory (see silico eval --help)\n");
        goto usage_error;
    }
    sl_split split;
    if (!strcmp(split_name, "val"))
        split = SL_SPLIT_VAL;
    else if (!strcmp(split_name, "train"))
        split = SL_SPLIT_TRAIN;
    else {
        fprintf(stderr, "silico eval: --split must be val or train, got '%s'\n", split_name);
        goto usage_error;
    }

    /* the run directory as given, without trailing slashes */
    char dir[4096], cfg_path[4200], ck_path[4200];
    snprintf(dir, sizeof dir, "%s", run);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') dir[--len] = 0;
    struct stat sb;
    int stat_rc = stat(dir, &sb), stat_errno = errno;
    if (stat_rc != 0 || !S_ISDIR(sb.st_mode)) {
        if (stat_rc != 0 && stat_errno == ENOENT)
            fprintf(stderr, "silico eval: %s: no such run directory\n", dir);
        else
            fprintf(stderr, "silico eval: %s: not a run directory (%s; give the directory "
                            "silico train wrote)\n", dir,
                    stat_rc != 0 ? strerror(stat_errno) : "not a directory");
        free(over);
        return 1;
    }
    snprintf(cfg_path, sizeof cfg_path, "%s/config.ini", dir);
    snprintf(ck_path, sizeof ck_path, "%s/checkpoint.safetensors", dir);
    if (access(cfg_path, R_OK) != 0) {
        fprintf(stderr, "silico eval: %s: no config.ini — not a run directory written by silico train\n",
                dir);
        free(over);
        return 1;
    }
    if (access(ck_path, R_OK) != 0) {
        fprintf(stderr,
                "silico eval: %s: no checkpoint.safetensors — the run saved no weights yet (it "
                "stops before its first validation, or is still training)\n",
                dir);
        free(over);
        return 1;
    }

    int rc = 1;
    sl_config *cfg = NULL;
    sl_model *model = NULL;
    sl_task *task = NULL;
    sl_status st = sl_config_new(&cfg);
    if (!st) st = sl_config_load(cfg, cfg_path);
    if (st) {
        fprintf(stderr, "silico eval: %s\n", sl_last_error());
        goto done;
    }
    for (int i = 0; i < n_over; i++)
        if (sl_config_override(cfg, over[i])) {
            fprintf(stderr, "silico eval: bad override: %s\n", sl_last_error());
            rc = 2;
            goto done;
        }
    sl_set_threads(threads ? threads : (int)sl_config_int(cfg, "run.threads"));

    if (sl_model_load(ck_path, &model, NULL)) {
        fprintf(stderr, "silico eval: cannot load the trained network: %s\n", sl_last_error());
        goto done;
    }
    const sl_model_spec *sp = sl_model_get_spec(model);
    {
        /* the checkpoint must be the network config.ini describes */
        sl_cell_kind kind;
        if (sl_cell_kind_parse(sl_config_str(cfg, "model.type"), &kind) || kind != sp->cell ||
            sl_config_int(cfg, "model.hidden") != sp->n_hidden) {
            fprintf(stderr,
                    "silico eval: %s holds a %s network of %d units but %s describes model.type = "
                    "%s, model.hidden = %ld: the files are not from the same run\n",
                    ck_path, sl_cell_kind_name(sp->cell), sp->n_hidden, cfg_path,
                    sl_config_str(cfg, "model.type"), sl_config_int(cfg, "model.hidden"));
            goto done;
        }
    }
    if (sl_task_create(cfg, &task)) {
        fprintf(stderr, "silico eval: cannot build the task%s: %s\n", n_over ? " with these overrides" : "",
                sl_last_error());
        rc = n_over ? 2 : 1;
        goto done;
    }
    if (task->n_in != sp->n_in || task->n_out != sp->n_out) {
        fprintf(stderr,
                "silico eval: the task %s has %d inputs and %d outputs, but the network takes %d "
                "inputs and gives %d outputs; keep the task's channels as trained\n",
                task->ops->name, task->n_in, task->n_out, sp->n_in, sp->n_out);
        rc = 2;
        goto done;
    }
    if (sp->cell == SL_CELL_CTRNN && fabs(task->dt_ms - sp->dt_ms) > 1e-9 * sp->dt_ms) {
        fprintf(stderr,
                "silico eval: the task's dt is %g ms but the CT-RNN was trained at dt = %g ms "
                "(α = dt/τ is part of the trained network); leave task.dt as trained\n",
                task->dt_ms, sp->dt_ms);
        rc = 2;
        goto done;
    }
    if (task->ops->num_batches(task, split) <= 0) {
        fprintf(stderr, "silico eval: the %s split of task %s holds no trials%s\n", split_name,
                task->ops->name, split == SL_SPLIT_VAL ? " (task.val_trials = 0?)" : "");
        goto done;
    }

    sl_rng noise_rng;
    sl_rng_seed_stream(&noise_rng, (uint64_t)sl_config_int(cfg, "run.seed"), EVAL_NOISE_STREAM);
    sl_eval e;
    if (sl_evaluate_split(model, task, split, sp->sigma_rec > 0 || sp->sigma_in > 0 ? &noise_rng : NULL, &e)) {
        fprintf(stderr, "silico eval: %s\n", sl_last_error());
        goto done;
    }
    if (json)
        print_json(dir, task, split_name, over, n_over, &e);
    else
        print_text(dir, task, sp, split_name, n_over, &e);
    rc = 0;

done:
    sl_task_free(task);
    sl_model_free(model);
    sl_config_free(cfg);
    free(over);
    return rc;

usage_error:
    free(over);
    return 2;
}
