/* Caller-supplied allocation for pure code.
 *
 * protocol/ never calls malloc directly: anything that grows takes a
 * gn_allocator_t, so a caller can hand it an arena, a counting allocator in
 * tests, or the libc default. */
#ifndef GANGLION_ALLOC_H
#define GANGLION_ALLOC_H

#include <stddef.h>

typedef struct gn_allocator {
    /* realloc semantics: ptr NULL allocates, size 0 frees and returns NULL. */
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void *ctx;
} gn_allocator_t;

/* The libc allocator (a constant object, not mutable state). */
const gn_allocator_t *gn_allocator_libc(void);

static inline void *gn_alloc_resize(const gn_allocator_t *a, void *p, size_t n)
{
    return a->realloc(a->ctx, p, n);
}

static inline void gn_alloc_free(const gn_allocator_t *a, void *p)
{
    if (p)
        (void)a->realloc(a->ctx, p, 0);
}

#endif
