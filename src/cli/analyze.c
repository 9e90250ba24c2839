/* analyze.c — `silico analyze RUN [RUN ...] [--only NAME,...] [--pool DIR]
 * [analysis options]`: runs the analyses of src/analysis/registry.c on each
 * trained run and writes RUN/analysis/<name>/ (arrays as .npy, numbers in
 * summary.json). With --pool DIR the runs' summaries are also pooled into
 * DIR/analysis/<name>/summary.json: every number becomes {mean, sd, values}
 * across runs (sd as numpy's std, ddof 0) and every list of perturbation
 * levels [{strength, mean_error_pct, sd_error_pct}] keeps that shape with
 * mean_error_pct = the mean over runs of each run's mean, sd_error_pct = their
 * sd across runs, and per_run = the runs' means; lists of decoded variables
 * [{variable, score, ...}] are pooled per variable name. Pooling is explicit (no
 * --pool, no pooled file) so nothing is written outside the runs unasked. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "cli/cli.h"
#include "silico.h"

/* options every analysis may read (each analysis's own are in its help) */
static const char *const COMMON_OPTS[] = {"seed", "noise", "max-trials", "window", "trials", "delay", NULL};

static void usage(FILE *f)
{
    int n;
    const sl_analysis_def *a = sl_analysis_list(&n);
    fprintf(f,
            "usage: silico analyze RUN [RUN ...] [--only NAME,...] [--pool DIR] [--OPTION VALUE ...]\n"
            "\n"
            "Opens the trained network of each run directory (RUN/config.ini and\n"
            "RUN/checkpoint.safetensors, as silico train wrote them) and runs analyses on it.\n"
            "Each analysis writes RUN/analysis/<name>/: arrays as .npy (float32 activity,\n"
            "float64 statistics; numpy.load reads them), and summary.json with its numbers,\n"
            "the options used and \"files\" (each file with a one-line description).\n"
            "Existing results of the same analysis are overwritten.\n"
            "\n"
            "The trials analysed: for reach tasks the training conditions at the first training\n"
            "delay (or --delay) without input noise (the seed tutorial's perturbation set); for\n"
            "generated tasks the validation trials (task.val_trials, fixed by the task seed).\n"
            "\n"
            "options:\n"
            "  --only A,B,...   run only these analyses (default: all that apply to the run)\n"
            "  --pool DIR       also pool the runs' summaries into DIR/analysis/<name>/summary.json:\n"
            "                   numbers as {mean, sd, values} across runs; perturbation levels as\n"
            "                   {strength, mean_error_pct, sd_error_pct (across runs), per_run}\n"
            "  --threads N      OpenBLAS threads (default: run.threads of the run)\n"
            "  --quiet          no progress lines\n"
            "  --delay MS       reach tasks: analyse the conditions at this delay instead of\n"
            "                   the first training delay (e.g. to compare networks trained on\n"
            "                   different delays on the same trials)\n"
            "  --max-trials N   generated tasks: at most N validation trials (all)\n"
            "  --seed N, --noise S, --window A:B, --trials K\n"
            "                   shared by the analyses that read them (see below)\n"
            "Every analysis option takes a value (--name VALUE or --name=VALUE); put the run\n"
            "directories first.\n"
            "\n"
            "analyses (in the order they run):\n");
    for (int i = 0; i < n; i++) {
        const char *h = a[i].help, *nl = strchr(h, '\n');
        fprintf(f, "\n  %-12s %.*s%s\n", a[i].name, (int)(nl ? nl - h : (long)strlen(h)), h,
                a[i].by_default ? "" : " (only with --only)");
        while (nl) {
            const char *next = strchr(nl + 1, '\n');
            fprintf(f, "    %.*s\n", (int)(next ? next - nl - 1 : (long)strlen(nl + 1)), nl + 1);
            nl = next;
        }
    }
    fprintf(f,
            "\nExamples:\n"
            "  silico analyze runs/reach-s1\n"
            "  silico analyze runs/reach-s1 --only perturb --repeats 10\n"
            "  silico analyze runs/reach-s1 runs/reach-s2 runs/reach-s3 --only perturb --pool runs/reach-pooled\n"
            "  python3 -c \"import json; print(json.load(open('runs/reach-s1/analysis/perturb/summary.json'))['input'])\"\n");
}

/* whether analysis a documents option key in its help ("  --key ") */
static int documents(const sl_analysis_def *a, const char *key)
{
    char pat[80];
    snprintf(pat, sizeof pat, "  --%s ", key);
    return strstr(a->help, pat) != NULL;
}

static int mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return (mkdir(buf, 0777) != 0 && errno != EEXIST) ? -1 : 0;
}

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    cJSON *j = NULL;
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = 0;
        j = cJSON_Parse(buf);
    }
    free(buf);
    fclose(f);
    return j;
}

static cJSON *pool_numbers(const double *x, int n)
{
    cJSON *o = cJSON_CreateObject(), *v = cJSON_CreateArray();
    double m, sd;
    sl_an_mean_sd(x, n, &m, &sd);
    cJSON_AddNumberToObject(o, "mean", m);
    cJSON_AddNumberToObject(o, "sd", sd);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(v, cJSON_CreateNumber(x[i]));
    cJSON_AddItemToObject(o, "values", v);
    return o;
}

/* Pool the runs' summaries (js[0..n)) as the file comment says. */
static cJSON *pool(cJSON **js, int n, char **runs)
{
    cJSON *out = cJSON_CreateObject(), *ra = cJSON_CreateArray();
    for (int r = 0; r < n; r++) cJSON_AddItemToArray(ra, cJSON_CreateString(runs[r]));
    cJSON_AddItemToObject(out, "runs", ra);
    double *x = malloc((size_t)n * sizeof *x);
    if (!x) return out;
    cJSON *item;
    cJSON_ArrayForEach(item, js[0])
    {
        const char *key = item->string;
        if (!key || !strcmp(key, "files") || !strcmp(key, "runs")) continue;
        if (cJSON_IsNumber(item)) {
            int ok = 1;
            for (int r = 0; r < n && ok; r++) {
                cJSON *o = cJSON_GetObjectItemCaseSensitive(js[r], key);
                ok = cJSON_IsNumber(o);
                if (ok) x[r] = o->valuedouble;
            }
            if (ok) cJSON_AddItemToObject(out, key, pool_numbers(x, n));
        } else if (cJSON_IsString(item)) {
            cJSON_AddStringToObject(out, key, item->valuestring);
        } else if (cJSON_IsArray(item) && cJSON_GetArraySize(item) > 0 &&
                   cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(item, 0), "strength") &&
                   cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(item, 0), "mean_error_pct")) {
            const int L = cJSON_GetArraySize(item);
            cJSON *arr = cJSON_CreateArray();
            for (int l = 0; l < L; l++) {
                double s = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(item, l), "strength")->valuedouble;
                int ok = 1;
                for (int r = 0; r < n && ok; r++) {
                    cJSON *lv = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(js[r], key), l);
                    cJSON *st = cJSON_GetObjectItemCaseSensitive(lv, "strength");
                    cJSON *me = cJSON_GetObjectItemCaseSensitive(lv, "mean_error_pct");
                    ok = cJSON_IsNumber(st) && cJSON_IsNumber(me) && st->valuedouble == s;
                    if (ok) x[r] = me->valuedouble;
                }
                if (!ok) continue;
                double m, sd;
                sl_an_mean_sd(x, n, &m, &sd);
                cJSON *o = cJSON_CreateObject(), *pr = cJSON_CreateArray();
                cJSON_AddNumberToObject(o, "strength", s);
                cJSON_AddNumberToObject(o, "mean_error_pct", m);
                cJSON_AddNumberToObject(o, "sd_error_pct", sd);
                for (int r = 0; r < n; r++) cJSON_AddItemToArray(pr, cJSON_CreateNumber(x[r]));
                cJSON_AddItemToObject(o, "per_run", pr);
                cJSON_AddItemToArray(arr, o);
            }
            cJSON_AddItemToObject(out, key, arr);
        } else if (cJSON_IsArray(item) && cJSON_GetArraySize(item) > 0 &&
                   cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(item, 0), "variable")) {
            /* decoders: per variable, its numbers pooled by variable name */
            cJSON *arr = cJSON_CreateArray(), *v0;
            cJSON_ArrayForEach(v0, item)
            {
                cJSON *name = cJSON_GetObjectItemCaseSensitive(v0, "variable");
                if (!cJSON_IsString(name)) continue;
                cJSON *o = cJSON_CreateObject(), *f;
                cJSON_AddStringToObject(o, "variable", name->valuestring);
                cJSON_ArrayForEach(f, v0)
                {
                    if (cJSON_IsString(f)) {
                        if (strcmp(f->string, "variable")) cJSON_AddStringToObject(o, f->string, f->valuestring);
                        continue;
                    }
                    if (!cJSON_IsNumber(f)) continue;
                    int ok = 1;
                    for (int r = 0; r < n && ok; r++) {
                        cJSON *lst = cJSON_GetObjectItemCaseSensitive(js[r], key), *e, *hit = NULL;
                        cJSON_ArrayForEach(e, lst)
                        {
                            cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "variable");
                            if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name->valuestring)) hit = e;
                        }
                        cJSON *num = cJSON_GetObjectItemCaseSensitive(hit, f->string);
                        ok = cJSON_IsNumber(num);
                        if (ok) x[r] = num->valuedouble;
                    }
                    if (ok) cJSON_AddItemToObject(o, f->string, pool_numbers(x, n));
                }
                cJSON_AddItemToArray(arr, o);
            }
            cJSON_AddItemToObject(out, key, arr);
        }
    }
    free(x);
    return out;
}

/* Load RUN's model; *model NULL (and 0 returned) when the checkpoint is not an
 * sl_model (e.g. a CNN run); nonzero after printing the error. */
static int load_run(const char *dir, sl_config **cfg, sl_model **model)
{
    char cfg_path[4200], ck[4200];
    struct stat sb;
    *cfg = NULL;
    *model = NULL;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "silico analyze: %s: no such run directory\n", dir);
        return 1;
    }
    snprintf(cfg_path, sizeof cfg_path, "%s/config.ini", dir);
    snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", dir);
    if (access(cfg_path, R_OK) != 0) {
        fprintf(stderr, "silico analyze: %s: no config.ini — not a run directory written by silico train\n", dir);
        return 1;
    }
    if (access(ck, R_OK) != 0) {
        fprintf(stderr, "silico analyze: %s: no checkpoint.safetensors — the run saved no weights yet "
                        "(still training, or stopped before its first validation)\n", dir);
        return 1;
    }
    if (sl_config_new(cfg) || sl_config_load(*cfg, cfg_path)) {
        fprintf(stderr, "silico analyze: %s\n", sl_last_error());
        return 1;
    }
    sl_tensorfile *tf = NULL;
    if (sl_safetensors_read(ck, &tf)) {
        fprintf(stderr, "silico analyze: cannot read the checkpoint: %s\n", sl_last_error());
        return 1;
    }
    const char *fmt = sl_tensorfile_meta(tf, "format");
    const int is_model = fmt && (!strcmp(fmt, "silico.ctrnn.v1") || !strcmp(fmt, "silico.model.v1"));
    sl_tensorfile_free(tf);
    if (!is_model) return 0;
    if (sl_model_load(ck, model, NULL)) {
        fprintf(stderr, "silico analyze: cannot load the trained network: %s\n", sl_last_error());
        return 1;
    }
    const sl_model_spec *sp = sl_model_get_spec(*model);
    sl_cell_kind kind;
    if (sl_cell_kind_parse(sl_config_str(*cfg, "model.type"), &kind) || kind != sp->cell ||
        sl_config_int(*cfg, "model.hidden") != sp->n_hidden) {
        fprintf(stderr, "silico analyze: %s holds a %s network of %d units but %s describes model.type = "
                        "%s, model.hidden = %ld: the files are not from the same run\n",
                ck, sl_cell_kind_name(sp->cell), sp->n_hidden, cfg_path, sl_config_str(*cfg, "model.type"),
                sl_config_int(*cfg, "model.hidden"));
        return 1;
    }
    return 0;
}

int cli_analyze(int argc, char **argv, int threads)
{
    int n_def;
    const sl_analysis_def *defs = sl_analysis_list(&n_def);
    char **runs = calloc((size_t)argc, sizeof *runs);
    const char **keys = calloc((size_t)argc, sizeof *keys), **vals = calloc((size_t)argc, sizeof *vals);
    char **owned = calloc((size_t)argc, sizeof *owned);
    int *sel = calloc((size_t)n_def + 1, sizeof *sel);
    int n_runs = 0, n_opts = 0, quiet = 0, explicit = 0, rc = 0;
    const char *only = NULL, *pool_dir = NULL;
    if (!runs || !keys || !vals || !owned || !sel) {
        fprintf(stderr, "silico analyze: out of memory\n");
        rc = 1;
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            goto out;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(a, "--only") || !strcmp(a, "--pool") || !strcmp(a, "--threads")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "silico analyze: %s needs a value (see silico analyze --help)\n", a);
                rc = 2;
                goto out;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--only")) only = v;
            else if (!strcmp(a, "--pool")) pool_dir = v;
            else if (cli_parse_threads(v, &threads)) {
                rc = 2;
                goto out;
            }
        } else if (!strncmp(a, "--", 2) && a[2]) {
            const char *eq = strchr(a, '=');
            char *k = eq ? strndup(a + 2, (size_t)(eq - a - 2)) : strdup(a + 2);
            owned[n_opts] = k;
            if (!eq && i + 1 >= argc) {
                fprintf(stderr, "silico analyze: --%s needs a value (every analysis option takes one)\n", k);
                rc = 2;
                goto out;
            }
            keys[n_opts] = k;
            vals[n_opts++] = eq ? eq + 1 : argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "silico analyze: unknown option '%s' (see silico analyze --help)\n", a);
            rc = 2;
            goto out;
        } else {
            runs[n_runs++] = argv[i];
        }
    }
    if (n_runs == 0) {
        fprintf(stderr, "silico analyze: no run directory given (usage: silico analyze RUN [RUN ...] "
                        "[--only NAME,...]; see silico analyze --help)\n");
        rc = 2;
        goto out;
    }
    /* the analyses to run */
    if (only) {
        explicit = 1;
        const char *p = only;
        while (*p) {
            size_t len = strcspn(p, ",");
            int found = 0;
            for (int i = 0; i < n_def; i++)
                if (strlen(defs[i].name) == len && !strncmp(defs[i].name, p, len)) sel[i] = found = 1;
            if (!found) {
                fprintf(stderr, "silico analyze: unknown analysis '%.*s' (known:", (int)len, p);
                for (int i = 0; i < n_def; i++) fprintf(stderr, "%s %s", i ? "," : "", defs[i].name);
                fprintf(stderr, ")\n");
                rc = 2;
                goto out;
            }
            p += len;
            if (*p == ',') p++;
        }
    } else {
        for (int i = 0; i < n_def; i++) sel[i] = defs[i].by_default;
    }
    /* every option must be one a selected analysis reads */
    for (int o = 0; o < n_opts; o++) {
        int ok = 0;
        for (int c = 0; COMMON_OPTS[c] && !ok; c++) ok = !strcmp(keys[o], COMMON_OPTS[c]);
        for (int i = 0; i < n_def && !ok; i++) ok = sel[i] && documents(&defs[i], keys[o]);
        /* an analysis whose help lists no options cannot be checked: pass the option on */
        int unchecked = 0;
        for (int i = 0; i < n_def && !ok; i++) unchecked |= sel[i] && !strstr(defs[i].help, "\n  --");
        if (!ok && unchecked) {
            fprintf(stderr, "silico analyze: warning: option --%s is not documented by any selected "
                            "analysis; passed on as given\n", keys[o]);
        } else if (!ok) {
            fprintf(stderr, "silico analyze: unknown option --%s for the analyses selected (see silico "
                            "analyze --help for each analysis's options)\n", keys[o]);
            rc = 2;
            goto out;
        }
    }
    FILE *prog = quiet ? NULL : stderr;
    int n_sel = 0;
    for (int i = 0; i < n_def; i++) n_sel += sel[i];
    for (int r = 0; r < n_runs; r++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", runs[r]);
        size_t len = strlen(dir);
        while (len > 1 && dir[len - 1] == '/') dir[--len] = 0;
        sl_config *cfg = NULL;
        sl_model *model = NULL;
        if (load_run(dir, &cfg, &model)) {
            sl_config_free(cfg);
            rc = 1;
            continue;
        }
        sl_set_threads(threads ? threads : (int)sl_config_int(cfg, "run.threads"));
        int k = 0;
        for (int i = 0; i < n_def; i++) {
            if (!sel[i]) continue;
            k++;
            char out_dir[4300];
            snprintf(out_dir, sizeof out_dir, "%s/analysis/%s", dir, defs[i].name);
            sl_analysis_ctx ctx = {dir, out_dir, cfg, model, n_opts, keys, vals, prog, threads};
            if (defs[i].applies && !defs[i].applies(&ctx)) {
                if (explicit) {
                    fprintf(stderr, "silico analyze: %s: %s does not apply to this run (%s)\n", dir,
                            defs[i].name, model ? "wrong kind of model" : "its checkpoint is not a recurrent silico model");
                    rc = 1;
                } else if (prog) {
                    fprintf(prog, "analyze %s [%d/%d] %s: skipped (does not apply to this run)\n", dir, k, n_sel,
                            defs[i].name);
                }
                continue;
            }
            if (mkdirs(out_dir)) {
                fprintf(stderr, "silico analyze: cannot create %s: %s\n", out_dir, strerror(errno));
                rc = 1;
                continue;
            }
            if (prog) fprintf(prog, "analyze %s [%d/%d] %s ...\n", dir, k, n_sel, defs[i].name);
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            sl_status st = defs[i].run(&ctx);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (st) {
                fprintf(stderr, "silico analyze: %s: %s: %s\n", dir, defs[i].name, sl_last_error());
                rc = 1;
            } else if (prog) {
                fprintf(prog, "analyze %s [%d/%d] %s: done in %.1f s -> %s/\n", dir, k, n_sel, defs[i].name,
                        (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), out_dir);
            }
        }
        sl_model_free(model);
        sl_config_free(cfg);
    }
    if (pool_dir && rc == 0) {
        for (int i = 0; i < n_def; i++) {
            if (!sel[i]) continue;
            cJSON **js = calloc((size_t)n_runs, sizeof *js);
            int have = js != NULL;
            for (int r = 0; have && r < n_runs; r++) {
                char p[4400];
                snprintf(p, sizeof p, "%s/analysis/%s/summary.json", runs[r], defs[i].name);
                have = (js[r] = read_json(p)) != NULL;
            }
            if (have) {
                cJSON *pooled = pool(js, n_runs, runs);
                char d[4300];
                snprintf(d, sizeof d, "%s/analysis/%s", pool_dir, defs[i].name);
                if (mkdirs(d) || sl_an_write_json(d, "summary.json", pooled)) {
                    fprintf(stderr, "silico analyze: cannot write the pooled summary in %s: %s\n", d,
                            sl_last_error()[0] ? sl_last_error() : strerror(errno));
                    rc = 1;
                } else if (prog) {
                    fprintf(prog, "analyze: %s pooled over %d runs -> %s/summary.json\n", defs[i].name, n_runs, d);
                }
                cJSON_Delete(pooled);
            }
            for (int r = 0; js && r < n_runs; r++) cJSON_Delete(js[r]);
            free(js);
        }
    } else if (pool_dir) {
        fprintf(stderr, "silico analyze: not pooling into %s: an analysis failed above\n", pool_dir);
    } else if (n_runs > 1 && prog) {
        fprintf(prog, "analyze: %d runs analysed separately; add --pool DIR for their pooled summary\n", n_runs);
    }
out:
    for (int o = 0; owned && o < argc; o++) free(owned[o]);
    free(owned);
    free(runs);
    free(keys);
    free(vals);
    free(sel);
    return rc;
}
