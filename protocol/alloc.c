#include "ganglion/alloc.h"

#include <stdlib.h>

static void *libc_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

static const gn_allocator_t libc_allocator = {libc_realloc, NULL};

const gn_allocator_t *gn_allocator_libc(void)
{
    return &libc_allocator;
}
