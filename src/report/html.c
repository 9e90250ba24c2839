/* html.c — RUN/report.html: one self-contained page per run (or a pair of
 * runs compared side by side).
 *
 * Contents: the runs' summary numbers (summary.json) in one table, each
 * run's config.ini, the analyses present and, for those missing, the exact
 * command that writes them; then every figure (figures.c) the runs' files
 * support, rendered into RUN/figures/ and embedded as PNG data: URIs
 * (base64, RFC 4648), each analysis's summary numbers beside its figures.
 * With two runs, curves and perturb draw both runs in one chart; the other
 * figures stand in two columns. No JavaScript, no network: the page is one
 * file that opens anywhere. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/figure.h"

/* RFC 4648 base64 of n bytes to o. */
static void base64(FILE *o, const unsigned char *s, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        fputc(A[v >> 18 & 63], o);
        fputc(A[v >> 12 & 63], o);
        fputc(i + 1 < n ? A[v >> 6 & 63] : '=', o);
        fputc(i + 2 < n ? A[v & 63] : '=', o);
    }
}

static void esc(FILE *o, const char *s)
{
    for (; *s; s++) switch (*s) {
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '&': fputs("&amp;", o); break;
        case '"': fputs("&quot;", o); break;
        default: fputc(*s, o);
        }
}

/* A command with RUN replaced by the run's path. */
static void command(FILE *o, const char *cmd, const char *run)
{
    fputs("<code>", o);
    for (const char *s = cmd; *s;) {
        if (!strncmp(s, "RUN", 3) && (s[3] == 0 || s[3] == ' ')) {
            esc(o, run);
            s += 3;
        } else {
            char c[2] = {*s++, 0};
            esc(o, c);
        }
    }
    fputs("</code>", o);
}

static void fmt_number(FILE *o, double v)
{
    if (isnan(v))
        fputs("—", o);
    else if (v == floor(v) && fabs(v) < 1e9)
        fprintf(o, "%.0f", v);
    else
        fprintf(o, "%.4g", v);
}

/* One value of a JSON object (numbers, strings, booleans; arrays as their length). */
static int scalar(FILE *o, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        fmt_number(o, v->valuedouble);
    else if (cJSON_IsString(v))
        esc(o, v->valuestring);
    else if (cJSON_IsBool(v))
        fputs(cJSON_IsTrue(v) ? "true" : "false", o);
    else if (cJSON_IsNull(v))
        fputs("—", o);
    else
        return 0;
    return 1;
}

static const cJSON *dotted(const cJSON *j, const char *key)
{
    const char *dot = strchr(key, '.');
    if (!dot) return cJSON_GetObjectItemCaseSensitive(j, key);
    char head[128];
    snprintf(head, sizeof head, "%.*s", (int)(dot - key), key);
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, head), dot + 1);
}

/* The header row of a table with one column per run: the corner, then
 * each run's label. */
static void run_header(FILE *o, const char *corner, const char *const *runs, int nr)
{
    fprintf(o, "<tr><th>%s</th>", corner);
    for (int k = 0; k < nr; k++) {
        char lab[128];
        fputs("<th>", o);
        esc(o, rd_label(runs[k], lab, sizeof lab));
        fputs("</th>", o);
    }
    fputs("</tr>\n", o);
}

/* A table of the scalar entries (one level of nesting as a.b) of each run's
 * JSON file rel, one column per run. */
static void json_table(FILE *o, const char *const *runs, int nr, const char *rel, const char *caption)
{
    cJSON *js[2] = {NULL, NULL};
    int any = 0;
    for (int k = 0; k < nr; k++) {
        js[k] = rd_json_opt(runs[k], rel);
        any |= js[k] != NULL;
    }
    if (!any) return;
    fprintf(o, "<table class=\"nums\"><caption>%s</caption>", caption);
    run_header(o, "", runs, nr);
    /* keys in the order of the first file that has them */
    for (int k = 0; k < nr; k++) {
        for (const cJSON *c = js[k] ? js[k]->child : NULL; c; c = c->next) {
            int nested = cJSON_IsObject(c);
            for (const cJSON *d = nested ? c->child : c; d; d = nested ? d->next : NULL) {
                char key[256];
                if (nested)
                    snprintf(key, sizeof key, "%s.%s", c->string, d->string);
                else
                    snprintf(key, sizeof key, "%s", c->string);
                /* "files" describes the arrays (outputs.md); not numbers to read */
                if (cJSON_IsArray(d) || cJSON_IsObject(d) || !strncmp(key, "files.", 6)) continue;
                int seen = 0;
                for (int q = 0; q < k; q++) seen |= dotted(js[q], key) != NULL;
                if (seen) continue;
                fputs("<tr><th>", o);
                esc(o, key);
                fputs("</th>", o);
                for (int q = 0; q < nr; q++) {
                    fputs("<td>", o);
                    const cJSON *v = js[q] ? dotted(js[q], key) : NULL;
                    if (!v || !scalar(o, v)) fputs("—", o);
                    fputs("</td>", o);
                }
                fputs("</tr>\n", o);
            }
        }
    }
    fputs("</table>\n", o);
    cJSON_Delete(js[0]);
    cJSON_Delete(js[1]);
}

/* decode's per-variable scores (summary.json "variables": {variable, metric,
 * score, chance_mean, chance_sd, p_value} or {variable, same_as}), one row
 * per variable of the first run that has them, one column per run. */
static void decode_table(FILE *o, const char *const *runs, int nr)
{
    cJSON *js[2] = {NULL, NULL};
    const cJSON *vars[2] = {NULL, NULL};
    for (int k = 0; k < nr; k++) {
        js[k] = rd_json_opt(runs[k], "analysis/decode/summary.json");
        vars[k] = cJSON_GetObjectItemCaseSensitive(js[k], "variables");
    }
    const cJSON *first = cJSON_IsArray(vars[0]) ? vars[0] : nr > 1 && cJSON_IsArray(vars[1]) ? vars[1] : NULL;
    if (first) {
        fputs("<table class=\"nums\"><caption>decoding: cross-validated score (chance: mean ± sd over label "
              "permutations; p)</caption>",
              o);
        run_header(o, "", runs, nr);
        const cJSON *v;
        cJSON_ArrayForEach(v, first)
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "variable");
            if (!cJSON_IsString(name)) continue;
            fputs("<tr><th>", o);
            esc(o, name->valuestring);
            fputs("</th>", o);
            for (int k = 0; k < nr; k++) {
                const cJSON *e = NULL, *w;
                cJSON_ArrayForEach(w, vars[k])
                {
                    const cJSON *n2 = cJSON_GetObjectItemCaseSensitive(w, "variable");
                    if (cJSON_IsString(n2) && !strcmp(n2->valuestring, name->valuestring)) e = w;
                }
                const cJSON *same = cJSON_GetObjectItemCaseSensitive(e, "same_as");
                const cJSON *score = cJSON_GetObjectItemCaseSensitive(e, "score");
                const cJSON *metric = cJSON_GetObjectItemCaseSensitive(e, "metric");
                fputs("<td>", o);
                if (cJSON_IsString(same)) {
                    fputs("same as ", o);
                    esc(o, same->valuestring);
                } else if (cJSON_IsNumber(score)) {
                    if (cJSON_IsString(metric)) {
                        esc(o, metric->valuestring);
                        fputs(" ", o);
                    }
                    fmt_number(o, score->valuedouble);
                    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(e, "chance_mean"),
                                *cs = cJSON_GetObjectItemCaseSensitive(e, "chance_sd"),
                                *pv = cJSON_GetObjectItemCaseSensitive(e, "p_value");
                    if (cJSON_IsNumber(cm)) {
                        fputs(" (chance ", o);
                        fmt_number(o, cm->valuedouble);
                        if (cJSON_IsNumber(cs)) {
                            fputs(" ± ", o);
                            fmt_number(o, cs->valuedouble);
                        }
                        if (cJSON_IsNumber(pv)) {
                            fputs("; p ", o);
                            fmt_number(o, pv->valuedouble);
                        }
                        fputs(")", o);
                    }
                } else
                    fputs("—", o);
                fputs("</td>", o);
            }
            fputs("</tr>\n", o);
        }
        fputs("</table>\n", o);
    }
    cJSON_Delete(js[0]);
    cJSON_Delete(js[1]);
}

/* The analyses a run may have, with the folder's summary file and the command. */
static const struct {
    const char *name, *summary, *cmd;
    sl_figure_scope scope;
} ANALYSES[] = {
    {"activity", "analysis/activity/summary.json", "silico analyze RUN --only activity", SL_FIG_ANY},
    {"perturb", "analysis/perturb/summary.json", "silico analyze RUN --only perturb", SL_FIG_RECURRENT},
    {"selectivity", "analysis/selectivity/summary.json", "silico analyze RUN --only selectivity", SL_FIG_RECURRENT},
    {"decode", "analysis/decode/summary.json", "silico analyze RUN --only decode", SL_FIG_RECURRENT},
    {"encode", "analysis/encode/summary.json", "silico analyze RUN --only encode", SL_FIG_RECURRENT},
    {"pca", "analysis/pca/summary.json", "silico analyze RUN --only pca", SL_FIG_RECURRENT},
    {"tangling", "analysis/tangling/summary.json", "silico analyze RUN --only tangling", SL_FIG_RECURRENT},
    {"jpca", "analysis/jpca/summary.json", "silico analyze RUN --only jpca", SL_FIG_RECURRENT},
    {"fixedpoints", "analysis/fixedpoints/summary.json", "silico analyze RUN --only fixedpoints", SL_FIG_RECURRENT},
    {"compare", "analysis/compare/compare.json",
     "silico compare RUN DATA.mat:variable --dims time,neuron,condition", SL_FIG_RECURRENT},
    {"tuning", "analysis/tuning/summary.json", "silico analyze RUN --only tuning", SL_FIG_CNN},
    {"gratings", "analysis/gratings/psychometric.json", "silico analyze RUN --only gratings", SL_FIG_CNN},
    {"rsa_it", "analysis/rsa_it/summary.json", "silico analyze RUN --only rsa_it", SL_FIG_CNN},
};
enum { NA = sizeof ANALYSES / sizeof ANALYSES[0] };

static int analysis_applies(const char *run, sl_figure_scope scope)
{
    sl_figure_def d = {0};
    d.scope = scope;
    return sl_figure_applies(run, &d);
}

static int analysis_present(const char *run, const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "analysis/%s", name);
    char *p = rd_path(run, rel);
    struct stat sb;
    int ok = p && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
    free(p);
    return ok;
}

static void embed(FILE *o, const char *png, const char *alt, int *n_fig)
{
    size_t n = 0;
    unsigned char *b = (unsigned char *)rd_slurp(png, &n);
    if (!b) {
        fputs("<p class=\"missing\">figure file missing: ", o);
        esc(o, png);
        fputs("</p>\n", o);
        return;
    }
    fputs("<img alt=\"", o);
    esc(o, alt);
    fputs("\" src=\"data:image/png;base64,", o);
    base64(o, b, n);
    fputs("\">\n", o);
    free(b);
    (*n_fig)++;
}

/* Figure width in pixels in a two-run page's columns (the page is at most
 * 1600 px wide). */
enum { PAIR_WIDTH = 760 };

/* Render figure def for runs (both in one chart when combined) and embed it
 * or the note saying what is missing. */
static void figure_cell(FILE *o, const sl_figure_def *def, const char *run, const char *other, int narrow,
                        int *n_fig, int *n_missing)
{
    const char *missing;
    char lab[128];
    rd_label(run, lab, sizeof lab);
    if (!sl_figure_ready(run, def, &missing) || (other && !sl_figure_ready(other, def, &missing))) {
        const char *who = other && sl_figure_ready(run, def, &missing) ? other : run;
        sl_figure_ready(who, def, &missing);
        /* the analysis ran (its folder exists) but left the file out: say so
         * rather than suggest running it again as if it never had */
        const int ran = def->analysis && analysis_present(who, def->analysis) && missing &&
                        strcmp(missing, "not for this kind of network");
        fputs(ran ? "<p class=\"missing\">Not drawn for <b>" : "<p class=\"missing\">Not available yet for <b>", o);
        esc(o, rd_label(who, lab, sizeof lab));
        fputs("</b>: needs <code>", o);
        esc(o, missing ? missing : def->needs);
        if (ran) {
            fprintf(o, "</code>, which the %s analysis did not write (its messages say why: ", def->analysis);
            command(o, def->command, who);
            fputs(")</p>\n", o);
        } else {
            fputs("</code>. Produce it with ", o);
            command(o, def->command, who);
            fputs("</p>\n", o);
        }
        (*n_missing)++;
        return;
    }
    sl_figure_opts opts;
    sl_figure_opts_init(&opts);
    opts.other_run = other;
    if (narrow && def->width > PAIR_WIDTH) { /* drawn for its column at 1:1, so the text stays readable */
        opts.width = PAIR_WIDTH;
        opts.height = (int)(def->height * 1.2 * PAIR_WIDTH / def->width);
    }
    char *warn = NULL;
    if (sl_figure_render(run, def->name, &opts, &warn)) {
        fputs("<p class=\"missing\">This figure could not be drawn for <b>", o);
        esc(o, lab);
        fputs("</b>: ", o);
        esc(o, sl_last_error());
        fputs("</p>\n", o);
        sl_clear_error();
        (*n_missing)++;
        return;
    }
    free(warn);
    char rel[160];
    snprintf(rel, sizeof rel, "figures/%s.png", def->name);
    char *png = rd_path(run, rel), alt[256];
    snprintf(alt, sizeof alt, "%s: %s", def->name, def->what);
    if (png) embed(o, png, alt, n_fig);
    fputs("<p class=\"cap\">", o);
    esc(o, lab);
    fputs(": <code>", o);
    esc(o, run);
    fprintf(o, "/figures/%s.gp</code> (edit and run gnuplot to restyle)</p>\n", def->name);
    free(png);
}

static const char *CSS =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:24px auto;padding:0 24px;max-width:1600px;color:#222;line-height:1.4}"
    "h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:2px solid #0072B2;padding-bottom:4px;margin-top:2em}"
    "h3{margin-bottom:0.3em}img{max-width:100%;height:auto;border:1px solid #ddd}"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:16px}.one{display:block}"
    ".missing{background:#fff4e0;border-left:4px solid #E69F00;padding:8px 12px}"
    ".cap{color:#666;font-size:0.85em;margin-top:2px}code{background:#f3f3f3;padding:1px 4px}"
    "table.nums{border-collapse:collapse;margin:8px 16px 8px 0;display:inline-table;vertical-align:top}"
    "table.nums td,table.nums th{border:1px solid #ddd;padding:3px 8px;text-align:right;font-size:0.9em;"
    "max-width:36em;overflow-wrap:anywhere}"
    "table.nums th{text-align:left;background:#f7f7f7}caption{text-align:left;font-weight:bold;padding:4px 0}"
    "pre{background:#f7f7f7;padding:8px;font-size:0.8em;overflow-x:auto}";

sl_status sl_report_write(const char *const *runs, int n_runs, const char *html_path, int *n_figures,
                          int *n_missing)
{
    if (n_runs < 1 || n_runs > 2) return sl_fail(SL_EINVAL, "report: one run, or two to compare (got %d)", n_runs);
    for (int k = 0; k < n_runs; k++)
        if (!rd_exists(runs[k], "config.ini") && !rd_exists(runs[k], "metrics.jsonl"))
            return sl_fail(SL_EIO, "report: %s is not a run directory (no config.ini or metrics.jsonl)", runs[k]);
    char *def_path = html_path ? NULL : rd_path(runs[0], "report.html");
    const char *path = html_path ? html_path : def_path;
    if (!path) return sl_fail(SL_ENOMEM, "out of memory");
    char *tmp = malloc(strlen(path) + 8);
    if (!tmp) {
        free(def_path);
        return sl_fail(SL_ENOMEM, "out of memory");
    }
    sprintf(tmp, "%s.tmp", path);
    FILE *o = fopen(tmp, "w");
    if (!o) {
        sl_status st = sl_fail(SL_EIO, "report: cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        free(def_path);
        return st;
    }
    int nf = 0, nm = 0;
    char lab[2][128];
    for (int k = 0; k < n_runs; k++) rd_label(runs[k], lab[k], sizeof lab[k]);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>silico report: ", o);
    esc(o, lab[0]);
    fprintf(o, "</title>\n<style>%s</style>\n</head><body>\n<h1>silico report: ", CSS);
    esc(o, lab[0]);
    if (n_runs == 2) {
        fputs(" compared with ", o);
        esc(o, lab[1]);
    }
    fputs("</h1>\n<p>", o);
    for (int k = 0; k < n_runs; k++) {
        fputs(k ? "<br>" : "", o);
        fputs("Run directory: <code>", o);
        esc(o, runs[k]);
        fputs("</code>", o);
    }
    fputs("</p>\n<h2>Summary</h2>\n", o);
    json_table(o, runs, n_runs, "summary.json", "final numbers (summary.json)");
    json_table(o, runs, n_runs, "run.json", "run (run.json)");

    /* analyses present / missing */
    fputs("<h2>Analyses</h2>\n<table class=\"nums\">", o);
    run_header(o, "analysis", runs, n_runs);
    int any_missing = 0, analyze_missing = 0;
    for (int a = 0; a < NA; a++) {
        int applies = 0;
        for (int k = 0; k < n_runs; k++) applies |= analysis_applies(runs[k], ANALYSES[a].scope);
        if (!applies) continue;
        fprintf(o, "<tr><th>%s</th>", ANALYSES[a].name);
        for (int k = 0; k < n_runs; k++) {
            int have = analysis_present(runs[k], ANALYSES[a].name);
            int lacks = !have && analysis_applies(runs[k], ANALYSES[a].scope);
            any_missing |= lacks;
            analyze_missing |= lacks && !strncmp(ANALYSES[a].cmd, "silico analyze ", 15);
            fputs(have ? "<td>done</td>" : "<td>missing</td>", o);
        }
        fputs("</tr>\n", o);
    }
    fputs("</table>\n", o);
    if (any_missing) {
        fputs("<div class=\"missing\"><b>Missing analyses.</b> These commands would produce them:<ul>\n", o);
        for (int k = 0; k < n_runs; k++)
            for (int a = 0; a < NA; a++)
                if (analysis_applies(runs[k], ANALYSES[a].scope) && !analysis_present(runs[k], ANALYSES[a].name)) {
                    fputs("<li>", o);
                    command(o, ANALYSES[a].cmd, runs[k]);
                    fputs("</li>\n", o);
                }
        fputs("</ul>", o);
        if (analyze_missing) {
            fputs("Or all default analyses at once: ", o);
            for (int k = 0; k < n_runs; k++) {
                fputs(k ? ", " : "", o);
                command(o, "silico analyze RUN", runs[k]);
            }
            fputs(".", o);
        }
        fputs("</div>\n", o);
    }

    /* figures */
    fputs("<h2>Figures</h2>\n", o);
    int n;
    const sl_figure_def *defs = sl_figure_list(&n);
    const char *last_analysis = "";
    for (int i = 0; i < n; i++) {
        const sl_figure_def *d = &defs[i];
        int applies = 0;
        for (int k = 0; k < n_runs; k++) applies |= sl_figure_applies(runs[k], d);
        if (!applies) continue;
        fprintf(o, "<h3 id=\"fig-%s\">%s</h3>\n<p>", d->name, d->name);
        esc(o, d->what);
        fputs("</p>\n", o);
        const int combined = n_runs == 2 && (!strcmp(d->name, "curves") || !strcmp(d->name, "perturb"));
        if (combined) {
            fputs("<div class=\"one\">\n", o);
            figure_cell(o, d, runs[0], runs[1], 0, &nf, &nm);
            fputs("</div>\n", o);
        } else {
            fprintf(o, "<div class=\"%s\">\n", n_runs == 2 ? "pair" : "one");
            for (int k = 0; k < n_runs; k++) {
                fputs("<div>\n", o);
                if (sl_figure_applies(runs[k], d))
                    figure_cell(o, d, runs[k], NULL, n_runs == 2, &nf, &nm);
                else
                    fputs("<p class=\"cap\">(not for this kind of network)</p>\n", o);
                fputs("</div>\n", o);
            }
            fputs("</div>\n", o);
        }
        /* the analysis's numbers after its last figure */
        const char *an = d->analysis ? d->analysis : "";
        int last = i + 1 >= n || !defs[i + 1].analysis || strcmp(defs[i + 1].analysis, an);
        if (last && strcmp(an, last_analysis) && d->analysis) {
            for (int a = 0; a < NA; a++)
                if (!strcmp(ANALYSES[a].name, an) && strcmp(an, "activity")) {
                    char cap[96];
                    snprintf(cap, sizeof cap, "%s numbers (%s)", an, strrchr(ANALYSES[a].summary, '/') + 1);
                    json_table(o, runs, n_runs, ANALYSES[a].summary, cap);
                }
            last_analysis = an;
        }
    }

    /* analyses without a figure: their numbers */
    static const char *const NUMBERS_ONLY[] = {"decode", "encode"};
    for (size_t i = 0; i < sizeof NUMBERS_ONLY / sizeof NUMBERS_ONLY[0]; i++) {
        char rel[96], cap[96];
        snprintf(rel, sizeof rel, "analysis/%s/summary.json", NUMBERS_ONLY[i]);
        snprintf(cap, sizeof cap, "%s numbers (summary.json)", NUMBERS_ONLY[i]);
        json_table(o, runs, n_runs, rel, cap);
        if (!strcmp(NUMBERS_ONLY[i], "decode")) decode_table(o, runs, n_runs);
    }

    fputs("<h2>Configuration</h2>\n", o);
    for (int k = 0; k < n_runs; k++) {
        size_t len = 0;
        char *p = rd_path(runs[k], "config.ini");
        char *text = p ? rd_slurp(p, &len) : NULL;
        free(p);
        fputs("<details><summary>", o);
        esc(o, lab[k]);
        fputs(": config.ini</summary><pre>", o);
        if (text) esc(o, text);
        fputs("</pre></details>\n", o);
        free(text);
    }
    fputs("<p class=\"cap\">Written by silico " SILICO_VERSION ". Figures: gnuplot; palette: Okabe–Ito.</p>\n"
          "</body></html>\n",
          o);
    int bad = ferror(o);
    sl_status st = SL_OK;
    if (fclose(o) != 0 || bad)
        st = sl_fail(SL_EIO, "report: cannot write %s", tmp);
    else if (rename(tmp, path) != 0)
        st = sl_fail(SL_EIO, "report: cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (st) remove(tmp);
    free(tmp);
    free(def_path);
    if (n_figures) *n_figures = nf;
    if (n_missing) *n_missing = nm;
    return st;
}
