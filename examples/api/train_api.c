/* train_api.c — train a continuous-time RNN through silico's public C API.
 *
 * What `silico train` does, in about sixty lines of library calls:
 *   1. build an experiment config in code (every key starts at its default,
 *      see `silico --help`; each sl_config_set is validated on the spot),
 *   2. make a fresh run directory,
 *   3. create a trainer, run it to the end, evaluate the best checkpoint,
 *   4. print the final errors and free everything.
 *
 * Build (after `make install`):   make -C examples/api
 * Run:                            examples/api/train_api [epochs]
 *
 * Every fallible call returns an sl_status; on failure sl_last_error() says
 * what went wrong and where. The library itself never prints or exits. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <silico.h>

/* Print the library's message for a failed call and report failure. */
static int failed(sl_status st, const char *what)
{
    if (st == SL_OK) return 0;
    fprintf(stderr, "train_api: %s failed: %s (%s)\n", what, sl_last_error(), sl_status_str(st));
    return 1;
}

/* Called by the trainer after every epoch: print a line now and then.
 * Returning nonzero would stop training (the state is saved first). */
static int on_epoch(const sl_epoch_stats *s, void *user)
{
    long total = *(const long *)user;
    if (s->validated)
        printf("epoch %4ld/%ld  loss %.4g  validation error %.2f %% of null%s\n", s->epoch, total,
               s->loss, s->val_error_pct, s->is_best ? "  (best so far)" : "");
    return 0;
}

int main(int argc, char **argv)
{
    const char *epochs = argc > 1 ? argv[1] : "60";
    sl_config *cfg = NULL;
    sl_trainer *trainer = NULL;
    int rc = 1;

    /* 1. The experiment: the synthetic reach task (no data file needed), a
     *    32-unit CT-RNN and a short cosine-scheduled Adam run. Values are text,
     *    exactly as in an experiment file; "train_api" names the origin in
     *    error messages. */
    const char *settings[][2] = {
        {"run.name", "api-demo"},
        {"run.seed", "1"},
        {"run.threads", "1"}, /* one BLAS thread: bit-reproducible */
        {"task.name", "reach_synthetic"},
        {"model.hidden", "32"},
        {"model.activation", "tanh"},
        {"train.epochs", epochs},
        {"train.lr", "3e-3"},
        {"train.clip", "1.0"},
        {"train.val_every", "10"},
    };
    if (failed(sl_config_new(&cfg), "sl_config_new")) goto out;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (failed(sl_config_set(cfg, settings[i][0], settings[i][1], "train_api"), settings[i][0]))
            goto out;
    sl_set_threads((int)sl_config_int(cfg, "run.threads"));

    /* 2. A fresh run directory ($TMPDIR/silico-api-XXXXXX); the trainer writes config.ini, run.json,
     *    metrics.jsonl, checkpoint.safetensors, state.safetensors and
     *    summary.json into it. */
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/silico-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("train_api: mkdtemp");
        goto out;
    }
    printf("training %s epochs of a %ld-unit CT-RNN on %s into %s/\n", epochs,
           sl_config_int(cfg, "model.hidden"), sl_config_str(cfg, "task.name"), dir);

    /* 3. Train, then evaluate the best checkpoint (writes summary.json). */
    if (failed(sl_trainer_create(cfg, dir, &trainer), "sl_trainer_create")) goto out;
    long total = sl_trainer_total_epochs(trainer);
    if (failed(sl_trainer_run(trainer, on_epoch, &total), "sl_trainer_run")) goto out;
    sl_epoch_stats s;
    if (failed(sl_trainer_finish(trainer, 0.0, &s), "sl_trainer_finish")) goto out;

    /* 4. The results, in % of the null model (a constant output per channel). */
    printf("train error %.3f %%\n", s.train_error_pct);
    printf("validation error %.3f %%\n", s.val_error_pct);
    printf("%ld epochs, %ld Adam steps, %zu parameters; weights in %s/checkpoint.safetensors\n",
           s.epoch, s.step, sl_model_num_params(sl_trainer_model(trainer)), dir);
    rc = isfinite(s.train_error_pct) && isfinite(s.val_error_pct) ? 0 : 1;

out:
    sl_trainer_free(trainer); /* both accept NULL */
    sl_config_free(cfg);
    return rc;
}
