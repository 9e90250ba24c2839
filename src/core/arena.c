/* arena.c — one block allocated up front, handed out by 64-byte aligned
 * bump allocation; reset frees everything at once. Exhaustion returns NULL
 * with an SL_ENOMEM message rather than growing. */
#include "silico.h"

#include <stdlib.h>

#define ARENA_ALIGN 64

struct sl_arena {
    unsigned char *base;
    size_t capacity, used;
};

static size_t round_up(size_t n) { return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

sl_status sl_arena_create(size_t capacity, sl_arena **out)
{
    *out = NULL;
    if (capacity > SIZE_MAX - ARENA_ALIGN)
        return sl_fail(SL_ENOMEM, "arena: capacity of %zu bytes is too large", capacity);
    size_t cap = round_up(capacity ? capacity : 1);
    sl_arena *a = malloc(sizeof *a);
    if (!a) return sl_fail(SL_ENOMEM, "arena: out of memory");
    a->base = aligned_alloc(ARENA_ALIGN, cap);
    if (!a->base) {
        free(a);
        return sl_fail(SL_ENOMEM, "arena: cannot allocate %zu bytes", cap);
    }
    a->capacity = cap;
    a->used = 0;
    *out = a;
    return SL_OK;
}

void *sl_arena_alloc(sl_arena *a, size_t bytes)
{
    size_t free_bytes = a->capacity - a->used;
    if (bytes > free_bytes || round_up(bytes) > free_bytes) {
        sl_fail(SL_ENOMEM, "arena exhausted: asked for %zu bytes, %zu of %zu free", bytes,
                free_bytes, a->capacity);
        return NULL;
    }
    void *p = a->base + a->used;
    a->used += round_up(bytes);
    return p;
}

size_t sl_arena_used(const sl_arena *a) { return a->used; }
size_t sl_arena_capacity(const sl_arena *a) { return a->capacity; }
void sl_arena_reset(sl_arena *a) { a->used = 0; }

void sl_arena_destroy(sl_arena *a)
{
    if (!a) return;
    free(a->base);
    free(a);
}
