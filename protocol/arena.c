#include "ganglion/arena.h"

#include <stdint.h>
#include <string.h>

struct gn_arena_chunk {
    gn_arena_chunk_t *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void gn_arena_init(gn_arena_t *ar, const gn_allocator_t *a, size_t chunk_size)
{
    ar->alloc = a ? a : gn_allocator_libc();
    ar->head = NULL;
    ar->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    ar->used_total = 0;
}

void *gn_arena_alloc(gn_arena_t *ar, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    gn_arena_chunk_t *c = ar->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > ar->chunk_size ? n : ar->chunk_size;
        if (size > SIZE_MAX - sizeof(*c))
            return NULL;
        gn_arena_chunk_t *nc = gn_alloc_resize(ar->alloc, NULL, sizeof(*nc) + size);
        if (!nc)
            return NULL;
        nc->size = size;
        nc->used = 0;
        /* a big one-off block goes behind the head so the head keeps its room */
        if (c && n > ar->chunk_size) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            ar->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    ar->used_total += n;
    return p;
}

void *gn_arena_calloc(gn_arena_t *ar, size_t n, size_t sz)
{
    if (sz && n > SIZE_MAX / sz)
        return NULL;
    void *p = gn_arena_alloc(ar, n * sz);
    if (p)
        memset(p, 0, n * sz);
    return p;
}

char *gn_arena_strndup(gn_arena_t *ar, const char *p, size_t n)
{
    char *s = n < SIZE_MAX ? gn_arena_alloc(ar, n + 1) : NULL;
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

void gn_arena_free(gn_arena_t *ar)
{
    gn_arena_chunk_t *c = ar->head;
    while (c) {
        gn_arena_chunk_t *next = c->next;
        gn_alloc_free(ar->alloc, c);
        c = next;
    }
    ar->head = NULL;
    ar->used_total = 0;
}
