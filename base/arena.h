/*
 * base/arena.h - a bump allocator for data that lives and dies together.
 *
 * A scenario's strings and arrays are allocated from one arena and freed at once when the
 * scenario is destroyed, so the loader needs no per-field cleanup. Blocks are chained; an
 * allocation never moves earlier ones. Memory is zeroed. Not thread-safe.
 */
#ifndef BASE_ARENA_H
#define BASE_ARENA_H

#include <stddef.h>

typedef struct base_arena_block base_arena_block_t;

typedef struct base_arena {
    base_arena_block_t *head;
    size_t bytes; /* total bytes handed out, for memory reports */
} base_arena_t;

/* Initialises an empty arena. Never fails. */
void base_arena_init(base_arena_t *arena);

/* Frees every block. The arena may be reused after base_arena_init(). */
void base_arena_fini(base_arena_t *arena);

/* Forgets every allocation but keeps one block for the next ones (for an arena refilled
 * over and over, such as one per message); the others are freed. */
void base_arena_reset(base_arena_t *arena);

/* Returns size zeroed bytes aligned for any type, or NULL when out of memory.
 * The arena owns the memory. */
void *base_arena_alloc(base_arena_t *arena, size_t size);

/* Returns an arena-owned array of n zeroed elements of size each, or NULL on overflow or
 * when out of memory. */
void *base_arena_calloc(base_arena_t *arena, size_t n, size_t size);

/* Returns an arena-owned copy of s, or NULL when out of memory. */
char *base_arena_strdup(base_arena_t *arena, const char *s);

#endif
