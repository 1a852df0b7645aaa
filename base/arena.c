/*
 * base/arena.c - chained blocks of at least 64 KiB; an allocation larger than a block gets a
 * block of its own. Alignment is that of max_align_t. Memory is zeroed as it is handed out,
 * not a block at a time: an arena that holds one small message costs no 64 KiB memset.
 */
#include "base/arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MIN ((size_t)64 * 1024)

struct base_arena_block {
    base_arena_block_t *next;
    size_t used;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

void base_arena_init(base_arena_t *arena) {
    arena->head = NULL;
    arena->bytes = 0;
}

void base_arena_fini(base_arena_t *arena) {
    base_arena_block_t *b = arena->head;
    while (b != NULL) {
        base_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    arena->head = NULL;
    arena->bytes = 0;
}

void *base_arena_alloc(base_arena_t *arena, size_t size) {
    const size_t align = alignof(max_align_t);
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - align)
        return NULL;
    size = (size + align - 1) & ~(align - 1);
    base_arena_block_t *b = arena->head;
    if (b == NULL || b->cap - b->used < size) {
        size_t cap = size > BLOCK_MIN ? size : BLOCK_MIN;
        base_arena_block_t *nb = malloc(sizeof *nb + cap);
        if (nb == NULL)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        if (b != NULL && size > BLOCK_MIN) {
            /* Keep the current block in front: it still has room for small allocations. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            arena->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    arena->bytes += size;
    return memset(p, 0, size);
}

void base_arena_reset(base_arena_t *arena) {
    base_arena_block_t *b = arena->head;
    if (b == NULL)
        return;
    /* Keep the first block (the one allocations go to); free the others. */
    base_arena_block_t *rest = b->next;
    b->next = NULL;
    b->used = 0;
    arena->bytes = 0;
    while (rest != NULL) {
        base_arena_block_t *next = rest->next;
        free(rest);
        rest = next;
    }
}

void *base_arena_calloc(base_arena_t *arena, size_t n, size_t size) {
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return base_arena_alloc(arena, n * size);
}

char *base_arena_strdup(base_arena_t *arena, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = base_arena_alloc(arena, n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}
