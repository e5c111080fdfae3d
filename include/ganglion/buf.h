/* Growing a malloc'd byte buffer: what the HTTP server and the dendrite do
 * for every head, body and text they collect. */
#ifndef GANGLION_BUF_H
#define GANGLION_BUF_H

#include <stdlib.h>

/* buf (capacity *cap; NULL and 0 when empty), grown to hold at least
 * `want` bytes: the capacity doubles from *cap (from `first` when 0) until
 * it does, then is clamped to `max` (0: no bound; want must not exceed it).
 * Returns the buffer (buf itself when it is already large enough), or NULL
 * when out of memory, with buf and *cap untouched. */
static inline void *gn_buf_grow(void *buf, size_t *cap, size_t want, size_t first, size_t max)
{
    if (want <= *cap)
        return buf;
    size_t c = *cap ? *cap : first;
    while (c < want)
        c *= 2;
    if (max && c > max)
        c = max;
    void *n = realloc(buf, c);
    if (n)
        *cap = c;
    return n;
}

#endif
