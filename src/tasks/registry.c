/* registry.c — every trial generator silico knows (trial.h), by task.name.
 * One line per task file: add a generator here when its file exists. */
#include "tasks/trial.h"

#include <string.h>

extern const sl_taskgen sl_task_pdm, sl_task_dms, sl_task_ddms, sl_task_ctxdm,
    sl_task_ctxdm_mante, sl_task_gonogo, sl_task_rsg, sl_task_flipflop, sl_task_memory;

static const sl_taskgen *const GENERATORS[] = {
    &sl_task_pdm,    &sl_task_dms, &sl_task_ddms,     &sl_task_ctxdm,  &sl_task_ctxdm_mante,
    &sl_task_gonogo, &sl_task_rsg, &sl_task_flipflop, &sl_task_memory, NULL,
};

const sl_taskgen *const *sl_taskgens(void) { return GENERATORS; }

const sl_taskgen *sl_taskgen_find(const char *name)
{
    if (!name) return NULL;
    for (const sl_taskgen *const *g = GENERATORS; *g; g++)
        if (strcmp((*g)->name, name) == 0) return *g;
    return NULL;
}
