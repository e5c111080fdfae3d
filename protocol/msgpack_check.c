/* The msgpack pre-walk (protocol/msgpack_check.h), shared by the scores
 * decoder (protocol/scores.c) and the wire codec (actors/wire.c). */
#include "msgpack_check.h"

#include "ganglion/error.h"

#include <stdbool.h>

/* Markers 0xc0..0xdf: bytes of the length that follows (w), bytes to skip
 * besides that length (skip), elements per unit of the length (mult: 1
 * array, 2 map); bad marks 0xc1, the one never used. */
static const struct {
    uint8_t w, skip, mult, bad;
} MARK[32] = {
    [0x01] = {.bad = 1},
    [0x04] = {.w = 1},            /* bin 8 */
    [0x05] = {.w = 2},            /* bin 16 */
    [0x06] = {.w = 4},            /* bin 32 */
    [0x07] = {.w = 1, .skip = 1}, /* ext 8: the type byte */
    [0x08] = {.w = 2, .skip = 1}, /* ext 16 */
    [0x09] = {.w = 4, .skip = 1}, /* ext 32 */
    [0x0a] = {.skip = 4},         /* float 32 */
    [0x0b] = {.skip = 8},         /* float 64 */
    [0x0c] = {.skip = 1},         /* uint 8 */
    [0x0d] = {.skip = 2},         /* uint 16 */
    [0x0e] = {.skip = 4},         /* uint 32 */
    [0x0f] = {.skip = 8},         /* uint 64 */
    [0x10] = {.skip = 1},         /* int 8 */
    [0x11] = {.skip = 2},         /* int 16 */
    [0x12] = {.skip = 4},         /* int 32 */
    [0x13] = {.skip = 8},         /* int 64 */
    [0x14] = {.skip = 2},         /* fixext 1 */
    [0x15] = {.skip = 3},         /* fixext 2 */
    [0x16] = {.skip = 5},         /* fixext 4 */
    [0x17] = {.skip = 9},         /* fixext 8 */
    [0x18] = {.skip = 17},        /* fixext 16 */
    [0x19] = {.w = 1},            /* str 8 */
    [0x1a] = {.w = 2},            /* str 16 */
    [0x1b] = {.w = 4},            /* str 32 */
    [0x1c] = {.w = 2, .mult = 1}, /* array 16 */
    [0x1d] = {.w = 4, .mult = 1}, /* array 32 */
    [0x1e] = {.w = 2, .mult = 2}, /* map 16 */
    [0x1f] = {.w = 4, .mult = 2}, /* map 32 */
};

int gn_msgpack_check(const uint8_t *p, size_t len, unsigned max_depth)
{
    if (!p && len)
        return GN_EINVAL;
    if (max_depth > GN_MSGPACK_CHECK_MAX_DEPTH)
        max_depth = GN_MSGPACK_CHECK_MAX_DEPTH;
    uint64_t left[GN_MSGPACK_CHECK_MAX_DEPTH + 1]; /* objects still to read at each level */
    size_t pos = 0, todo = 1;                      /* ... and in all */
    unsigned d = 0;
    left[0] = 1;
    for (;;) {
        if (!left[d]) {
            if (d == 0)
                break;
            d--;
            continue;
        }
        if (pos >= len)
            return GN_ETRUNC;
        left[d]--;
        todo--;
        uint8_t b = p[pos++];
        uint64_t skip = 0, elems = 0;
        bool container = false;
        if (b >= 0x80 && b <= 0x8f) { /* fixmap */
            elems = 2u * (b & 0x0f);
            container = true;
        } else if (b >= 0x90 && b <= 0x9f) { /* fixarray */
            elems = b & 0x0f;
            container = true;
        } else if (b >= 0xa0 && b <= 0xbf) { /* fixstr */
            skip = b & 0x1f;
        } else if (b >= 0xc0 && b <= 0xdf) {
            unsigned m = b - 0xc0u;
            if (MARK[m].bad)
                return GN_EINVAL;
            if (len - pos < MARK[m].w)
                return GN_ETRUNC;
            uint64_t n = 0;
            for (unsigned i = 0; i < MARK[m].w; i++)
                n = n << 8 | p[pos++];
            skip = MARK[m].skip;
            if ((container = MARK[m].mult != 0))
                elems = MARK[m].mult * n;
            else
                skip += n;
        } /* else a positive or negative fixint: nothing follows */
        if (skip > len - pos)
            return GN_ETRUNC;
        pos += (size_t)skip;
        /* each element needs a byte: more than are left is a lie (or a cut) */
        if (elems > len - pos || todo + (size_t)elems > len - pos)
            return GN_ETRUNC;
        todo += (size_t)elems;
        if (container && elems) {
            if (d == max_depth)
                return GN_ERANGE;
            left[++d] = elems;
        }
    }
    return pos == len ? 0 : GN_ETRAILING;
}
