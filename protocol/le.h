/* Little-endian loads and stores (internal to protocol/). */
#ifndef GN_PROTOCOL_LE_H
#define GN_PROTOCOL_LE_H

#include <stdint.h>

static inline uint64_t gn_le_load(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void gn_le_store(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif
