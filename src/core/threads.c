/* threads.c — OpenBLAS's thread pool and a description of the machine
 * (BLAS build and CPU model) for logs, summaries and benchmarks. */
#include "silico.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sl_set_threads(int n) { openblas_set_num_threads(n > 0 ? n : 1); }

int sl_get_threads(void) { return openblas_get_num_threads(); }

/* "OpenBLAS 0.3.21 SkylakeX (pthread)": the first two words of the build
 * configuration, the core in use and the threading model. The text lives in
 * a per-thread buffer, rebuilt on each call. */
const char *sl_blas_info(void)
{
    static _Thread_local char info[160];
    const char *config = openblas_get_config();
    const char *core = openblas_get_corename();
    int words = 0;
    size_t n = 0;
    while (config && config[n] && !(config[n] == ' ' && ++words == 2)) n++;
    int parallel = openblas_get_parallel();
    snprintf(info, sizeof info, "%.*s %s (%s)", (int)n, config ? config : "OpenBLAS",
             core ? core : "unknown core",
             parallel == 0 ? "sequential" : parallel == 1 ? "pthread" : "openmp");
    return info;
}

/* The "model name" line of /proc/cpuinfo, or "unknown CPU". */
const char *sl_cpu_info(void)
{
    static _Thread_local char model[160];
    snprintf(model, sizeof model, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return model;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *v = strchr(line, ':');
        if (!v) continue;
        v++;
        while (*v == ' ' || *v == '\t') v++;
        size_t len = strcspn(v, "\r\n");
        snprintf(model, sizeof model, "%.*s", (int)len, v);
        break;
    }
    fclose(f);
    return model;
}

/* OpenBLAS 0.3.21 (Debian 12) picks its kernels from the CPU model number and
 * does not know some recent Intel CPUs (e.g. family 6 model 207): it falls
 * back to the SSE3 "Prescott" kernels, 5-8x slower than its AVX-512 ones.
 * Returns the OPENBLAS_CORETYPE that would select the right kernels when that
 * happened (the user has not set OPENBLAS_CORETYPE, the core in use is
 * Prescott and the CPU has AVX-512 or AVX2), else NULL. The choice happens when
 * OpenBLAS loads, so only a new process can use it (the CLI re-executes). */
const char *sl_blas_better_coretype(void)
{
    if (getenv("OPENBLAS_CORETYPE")) return NULL;
    const char *core = openblas_get_corename();
    if (!core || strcasecmp(core, "prescott") != 0) return NULL;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}
