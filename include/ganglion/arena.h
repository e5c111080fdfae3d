/* A bump allocator in chunks taken from a gn_allocator_t: many small
 * allocations that live and die together (a parsed metadata, a decoded
 * value tree), freed at once. */
#ifndef GANGLION_ARENA_H
#define GANGLION_ARENA_H

#include <stddef.h>

#include "ganglion/alloc.h"

typedef struct gn_arena_chunk gn_arena_chunk_t;

typedef struct gn_arena {
    const gn_allocator_t *alloc;
    gn_arena_chunk_t *head;
    size_t chunk_size;
    size_t used_total; /* bytes handed out, for stats */
} gn_arena_t;

/* `a` NULL means libc; chunk_size 0 means 64 KiB. */
void gn_arena_init(gn_arena_t *ar, const gn_allocator_t *a, size_t chunk_size);
/* 16-byte aligned memory, or NULL when out of memory. */
void *gn_arena_alloc(gn_arena_t *ar, size_t n);
/* Zeroed memory for n elements of size sz (overflow checked). */
void *gn_arena_calloc(gn_arena_t *ar, size_t n, size_t sz);
/* A copy of p[0..n) (plus a NUL), or NULL. */
char *gn_arena_strndup(gn_arena_t *ar, const char *p, size_t n);
void gn_arena_free(gn_arena_t *ar);

#endif
