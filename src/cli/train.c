/* train.c — `silico train FILE [key=value ...] [--out DIR]` and
 * `silico train --resume RUN`: builds the run directory, trains with a
 * progress bar, saves on Ctrl-C, and ends with a one-screen summary. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "silico.h"
#include "train/train.h"

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig)
{
    interrupted = 1;
    signal(sig, SIG_DFL); /* a second Ctrl-C kills at once */
}

static void train_usage(FILE *f)
{
    fprintf(f,
            "usage: silico train FILE.ini [section.key=value ...] [--out DIR] [--threads N] [--quiet]\n"
            "       silico train --resume RUN_DIR [--threads N] [--quiet]\n"
            "\n"
            "Trains the network described by an experiment file with exact BPTT and Adam.\n"
            "Writes a new run directory (never overwrites one):\n"
            "  runs/<run.name>-<YYYYmmdd-HHMMSS>/   (or DIR with --out)\n"
            "    config.ini              the fully resolved experiment (rerun it as is)\n"
            "    run.json                silico version, BLAS, threads, CPU\n"
            "    metrics.jsonl           one JSON object per epoch\n"
            "    checkpoint.safetensors  best weights by validation error (numpy/PyTorch readable)\n"
            "    state.safetensors       weights + optimiser state for --resume\n"
            "    summary.json            train_error_pct, val_error_pct (%% of the null model), ...\n"
            "Ctrl-C stops after the current epoch and saves the state; --resume continues.\n"
            "\n"
            "options:\n"
            "  --out DIR      write the run here instead of runs/<name>-<stamp>/ (must not exist)\n"
            "  --threads N    OpenBLAS threads (default: run.threads, 1 = deterministic)\n"
            "  --quiet        no progress bar\n"
            "\n"
            "experiment keys (defaults and meaning):\n");
    cli_print_keys(f);
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return 0;
}

/* Make a fresh run directory; never reuse an existing one. */
static int make_run_dir(const char *out, const char *name, char *dir, size_t n)
{
    if (out) {
        snprintf(dir, n, "%s", out);
        size_t len = strlen(dir);
        while (len > 1 && dir[len - 1] == '/') dir[--len] = 0;
        if (mkdir_p(dir) != 0 || mkdir(dir, 0777) != 0) {
            if (errno == EEXIST)
                fprintf(stderr, "silico: %s already exists; refusing to overwrite a run directory "
                                "(choose another --out, or resume it with --resume)\n", dir);
            else
                fprintf(stderr, "silico: cannot create %s: %s\n", dir, strerror(errno));
            return -1;
        }
        return 0;
    }
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    if (mkdir("runs", 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "silico: cannot create runs/: %s\n", strerror(errno));
        return -1;
    }
    for (int k = 1; k < 1000; k++) {
        if (k == 1)
            snprintf(dir, n, "runs/%s-%s", name, stamp);
        else
            snprintf(dir, n, "runs/%s-%s-%d", name, stamp, k);
        if (mkdir(dir, 0777) == 0) return 0;
        if (errno != EEXIST) {
            fprintf(stderr, "silico: cannot create %s: %s\n", dir, strerror(errno));
            return -1;
        }
    }
    fprintf(stderr, "silico: cannot find a free run directory name under runs/\n");
    return -1;
}

typedef struct {
    sl_progress *bar;
    long total;
    double last_val;
} progress_ctx;

static int on_epoch(const sl_epoch_stats *s, void *user)
{
    progress_ctx *p = user;
    if (s->validated) p->last_val = s->val_error_pct;
    if (p->bar) {
        char status[128];
        if (isnan(p->last_val))
            snprintf(status, sizeof status, "loss %.3g", s->loss);
        else
            snprintf(status, sizeof status, "loss %.3g  val %.2f%%", s->loss, p->last_val);
        sl_progress_update(p->bar, s->epoch, status);
    }
    return interrupted;
}

static void fmt_duration(double s, char *buf, size_t n)
{
    if (s < 60)
        snprintf(buf, n, "%.1f s", s);
    else
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static void print_pct(const char *label, double v, const char *what)
{
    if (isnan(v))
        printf("  %-18s   —\n", label);
    else
        printf("  %-18s %7.2f %% of null   %s\n", label, v, what);
}

static void summary(sl_trainer *t, const char *dir, const sl_epoch_stats *s)
{
    const sl_config *c = sl_trainer_config(t);
    const sl_model *model = sl_trainer_model(t);
    const sl_model_spec *sp = model ? sl_model_get_spec(model) : NULL;
    char dur[32];
    fmt_duration(s->seconds, dur, sizeof dur);
    if (!sp) {
        const sl_cnn *cnn = sl_trainer_cnn(t);
        int in[3];
        sl_cnn_input_shape(cnn, in);
        printf("\nsilico: trained %s — %s, CNN of %d layers (%zu parameters), %d×%d×%d images → "
               "%d classes\n",
               sl_config_str(c, "run.name"), sl_config_str(c, "task.name"),
               sl_cnn_num_layers(cnn), sl_cnn_num_params(cnn), in[0], in[1], in[2],
               sl_cnn_num_outputs(cnn));
    } else if (sp->cell == SL_CELL_CTRNN)
        printf("\nsilico: trained %s — %s, CT-RNN N=%d (%s), %d inputs → %d outputs\n",
               sl_config_str(c, "run.name"), sl_config_str(c, "task.name"), sp->n_hidden,
               sl_activation_name(sp->act), sp->n_in, sp->n_out);
    else
        printf("\nsilico: trained %s — %s, %s N=%d, %d inputs → %d outputs\n",
               sl_config_str(c, "run.name"), sl_config_str(c, "task.name"),
               sl_cell_kind_name(sp->cell), sp->n_hidden, sp->n_in, sp->n_out);
    printf("  %ld epochs, %ld Adam steps, %s wall time (%d BLAS thread%s)\n", s->epoch, s->step, dur,
           sl_get_threads(), sl_get_threads() == 1 ? "" : "s");
    const sl_task *task = sl_trainer_task(t);
    if (task->classification && isnan(s->val_accuracy)) {
        printf("  %-18s %9.4g   validation cross-entropy\n", "loss", s->val_loss);
    } else if (task->classification && !sp) {
        printf("  %-18s %7.2f %%   of the held-out test images correct (loss %.4g)\n", "accuracy",
               100 * s->val_accuracy, s->val_loss);
    } else if (task->classification) {
        printf("  %-18s %7.2f %%   decisions correct on fresh validation trials (loss %.4g)\n",
               "accuracy", 100 * s->val_accuracy, s->val_loss);
    } else if (!strncmp(task->ops->name, "reach", 5)) {
        print_pct("train error", s->train_error_pct, "training conditions × delays, no noise");
        print_pct("validation error", s->val_error_pct, "held-out delays (task.val_delays)");
        if (!isnan(s->holdout_error_pct))
            print_pct("held-out conditions", s->holdout_error_pct, "never trained on (generalisation)");
    } else {
        printf("  %-18s %9.3g   validation MSE (%.2f %% of the null model)\n", "mse", s->val_mse,
               s->val_error_pct);
    }
    if (task->score_name && !isnan(s->val_score))
        printf("  %-18s %9.4g   on validation trials\n", task->score_name, s->val_score);
    printf("  run directory: %s/\n", dir);
    printf("  weights: %s/checkpoint.safetensors   metrics: %s/metrics.jsonl\n", dir, dir);
}

int cli_train(int argc, char **argv, int threads)
{
    const char *file = NULL, *out = NULL, *resume = NULL;
    int quiet = 0;
    sl_config *cfg = NULL;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    int n_over = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            train_usage(stdout);
            free(overrides);
            return 0;
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strncmp(a, "--out=", 6)) {
            out = a + 6;
        } else if (!strcmp(a, "--resume") && i + 1 < argc) {
            resume = argv[++i];
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            if (cli_parse_threads(argv[++i], &threads)) goto usage_error;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "silico train: unknown option '%s' (see silico train --help)\n", a);
            goto usage_error;
        } else if (strchr(a, '=')) {
            overrides[n_over++] = argv[i];
        } else if (!file) {
            file = a;
        } else {
            fprintf(stderr, "silico train: unexpected argument '%s' (one experiment file)\n", a);
            goto usage_error;
        }
    }
    if (!file && !resume) {
        fprintf(stderr, "silico train: missing experiment file (see silico train --help)\n");
        goto usage_error;
    }
    if (resume && (file || n_over || out)) {
        fprintf(stderr, "silico train: --resume takes only the run directory\n");
        goto usage_error;
    }

    sl_trainer *t = NULL;
    char dir[4096];
    sl_status st;
    if (resume) {
        snprintf(dir, sizeof dir, "%s", resume);
        size_t len = strlen(dir);
        while (len > 1 && dir[len - 1] == '/') dir[--len] = 0;
        sl_set_threads(threads ? threads : 1);
        st = sl_trainer_resume(dir, &t);
        if (!st && !threads) sl_set_threads((int)sl_config_int(sl_trainer_config(t), "run.threads"));
    } else {
        st = sl_config_new(&cfg);
        if (!st) st = sl_config_load(cfg, file);
        for (int i = 0; !st && i < n_over; i++) st = sl_config_override(cfg, overrides[i]);
        if (st) {
            fprintf(stderr, "silico: %s\n", sl_last_error());
            sl_config_free(cfg);
            free(overrides);
            return 1;
        }
        sl_set_threads(threads ? threads : (int)sl_config_int(cfg, "run.threads"));
        if (make_run_dir(out, sl_config_str(cfg, "run.name"), dir, sizeof dir) != 0) {
            sl_config_free(cfg);
            free(overrides);
            return 1;
        }
        st = sl_trainer_create(cfg, dir, &t);
    }
    free(overrides);
    if (st) {
        fprintf(stderr, "silico: %s\n", sl_last_error());
        /* a run directory this command just made and left empty (the task or
         * model could not be built) is removed, so the same --out can be
         * used again once the input is fixed */
        if (!resume && rmdir(dir) != 0)
            fprintf(stderr, "silico: (the run directory %s/ holds what was written before the error)\n",
                    dir);
        sl_config_free(cfg);
        return 1;
    }

    long start = sl_trainer_epoch(t), total = sl_trainer_total_epochs(t);
    fprintf(stderr, "silico: %s %s → %s/ (%ld epochs%s)\n", resume ? "resuming" : "training",
            resume ? dir : file, dir, total, resume ? ", from where it stopped" : "");
    progress_ctx pc = {NULL, total, NAN};
    if (!quiet) {
        sl_progress_start(stderr, "train", total, &pc.bar);
        if (pc.bar && start > 0) sl_progress_update(pc.bar, start, "resumed");
    }
    signal(SIGINT, on_sigint);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = sl_trainer_run(t, on_epoch, &pc);
    signal(SIGINT, SIG_DFL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    if (pc.bar) sl_progress_finish(pc.bar, st == SL_OK ? "done" : "stopped");

    int rc = 0;
    if (st == SL_EINTERRUPTED) {
        fprintf(stderr, "silico: %s\n", sl_last_error());
        rc = 130;
    } else if (st) {
        fprintf(stderr, "silico: %s\n", sl_last_error());
        rc = 1;
    } else {
        sl_epoch_stats s;
        st = sl_trainer_finish(t, secs, &s);
        if (st) {
            fprintf(stderr, "silico: %s\n", sl_last_error());
            rc = 1;
        } else {
            summary(t, dir, &s);
        }
    }
    sl_trainer_free(t);
    sl_config_free(cfg);
    return rc;

usage_error:
    free(overrides);
    return 2;
}
