/* Synapses on the wire (../shared/spec/wire-protocol.md §1–§4, Appendix A),
 * as the Python SDK v10.2.0 (bittensor/core/synapse.py, axon.py) and the
 * libraries under it (pydantic v2 in lax Python mode, Starlette, btwallet)
 * behave. Pure: no I/O, no clocks, no globals but const tables.
 *
 * Where the SDK would accept something jansson cannot hold, this module
 * refuses it (GN_EINVAL from the header path, GN_EJSON from the body
 * path) and says so here:
 *   - non-finite floats ("inf", "nan", "1e400") for float values: jansson
 *     reals cannot be NaN or infinite;
 *   - integers outside int64 (json_int_t);
 *   - JSON that Python's json module takes and jansson does not (NaN and
 *     Infinity literals, lone surrogate escapes, integers past int64,
 *     "\u0000" in object keys).
 * Also different, on purpose or by necessity:
 *   - a body that is not UTF-8 is GN_EJSON (FastAPI answers 400 "There was
 *     an error parsing the body");
 *   - a body's null dendrite/axon becomes an all-null TerminalInfo
 *     (pydantic keeps None), so objects always carry both;
 *   - list and ANY values are taken as they come: no element coercion
 *     (a list[float] given ints hashes them as ints) and nested objects
 *     keep the sender's key order (a nested model dumps in field order);
 *   - verification: a signature is required, the hotkey must be SS58
 *     format 42, a negative nonce (legal for a pre-7.2 caller) is refused;
 *   - repr's printable test is CPython 3.11's (Unicode 14.0.0);
 *   - response header values: control characters become spaces (h11
 *     raises), characters past U+00FF are sent as UTF-8 (Starlette raises).
 * Other details are noted where they happen. */
#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ganglion/base58.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/sha3.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
#include "ganglion/synapse.h"
#include "ganglion/utf8.h"

const gn_syn_class_t GN_SYN_SYNAPSE = {"Synapse", NULL, 0};

/* ---- a growing text buffer ---- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf_t;

static void sb_reserve(sbuf_t *b, size_t more)
{
    if (b->oom || b->n + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_puts(sbuf_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_putc(sbuf_t *b, char c)
{
    sb_put(b, &c, 1);
}

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)k < sizeof(tmp)) {
        sb_put(b, tmp, (size_t)k);
        return;
    }
    sb_reserve(b, (size_t)k);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* Append one code point as UTF-8. */
static void sb_put_cp(sbuf_t *b, uint32_t c)
{
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    sb_put(b, u, n);
}

/* Copy a finished text into out[cap], cut at a UTF-8 boundary. */
static void copy_out(const sbuf_t *b, char *out, size_t cap)
{
    if (!cap)
        return;
    if (b->oom || !b->p) {
        out[0] = 0;
        return;
    }
    size_t n = b->n < cap - 1 ? b->n : cap - 1;
    if (n < b->n)
        while (n > 0 && ((unsigned char)b->p[n] & 0xC0) == 0x80)
            n--;
    memcpy(out, b->p, n);
    out[n] = 0;
}

/* ---- UTF-8 and latin-1 ---- */

/* The code point at s[*i] of valid UTF-8 (jansson strings are), advancing
 * *i. Stray bytes read as themselves. */
static uint32_t utf8_next(const char *s, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = *i;
    uint32_t c = u[k];
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c < 0xC0 || k + len > n) {
        *i = k + 1;
        return c;
    }
    c &= len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07;
    for (size_t j = 1; j < len; j++)
        c = (c << 6) | (u[k + j] & 0x3F);
    *i = k + len;
    return c;
}

/* Header bytes as Starlette reads them (latin-1), as UTF-8 text. */
static char *latin1_to_utf8(const char *s, size_t n, size_t *out_len)
{
    char *o = malloc(2 * n + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            o[k++] = (char)c;
        } else {
            o[k++] = (char)(0xC0 | (c >> 6));
            o[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    o[k] = 0;
    if (out_len)
        *out_len = k;
    return o;
}

/* ---- Python's str.isprintable() ----
 *
 * Code points >= 0x80 that CPython 3.11 (Unicode 14.0.0, the SDK examples'
 * interpreter) does not print in repr(): categories Cc, Cf, Cs, Co, Cn, Zl,
 * Zp and Zs. Generated, not hand-written:
 *   python3.11 -c 'import sys; r=[]; s=None
 *   for c in range(0x80, 0x110000):
 *       np = not chr(c).isprintable()
 *       if np and s is None: s = c
 *       if not np and s is not None: r.append((s, c - 1)); s = None
 *   print(r + [(s, 0x10FFFF)] if s is not None else r)' */
static const uint32_t NONPRINTABLE[][2] = {
    {0x80, 0xA0},       {0xAD, 0xAD},       {0x378, 0x379},     {0x380, 0x383},
    {0x38B, 0x38B},     {0x38D, 0x38D},     {0x3A2, 0x3A2},     {0x530, 0x530},
    {0x557, 0x558},     {0x58B, 0x58C},     {0x590, 0x590},     {0x5C8, 0x5CF},
    {0x5EB, 0x5EE},     {0x5F5, 0x605},     {0x61C, 0x61C},     {0x6DD, 0x6DD},
    {0x70E, 0x70F},     {0x74B, 0x74C},     {0x7B2, 0x7BF},     {0x7FB, 0x7FC},
    {0x82E, 0x82F},     {0x83F, 0x83F},     {0x85C, 0x85D},     {0x85F, 0x85F},
    {0x86B, 0x86F},     {0x88F, 0x897},     {0x8E2, 0x8E2},     {0x984, 0x984},
    {0x98D, 0x98E},     {0x991, 0x992},     {0x9A9, 0x9A9},     {0x9B1, 0x9B1},
    {0x9B3, 0x9B5},     {0x9BA, 0x9BB},     {0x9C5, 0x9C6},     {0x9C9, 0x9CA},
    {0x9CF, 0x9D6},     {0x9D8, 0x9DB},     {0x9DE, 0x9DE},     {0x9E4, 0x9E5},
    {0x9FF, 0xA00},     {0xA04, 0xA04},     {0xA0B, 0xA0E},     {0xA11, 0xA12},
    {0xA29, 0xA29},     {0xA31, 0xA31},     {0xA34, 0xA34},     {0xA37, 0xA37},
    {0xA3A, 0xA3B},     {0xA3D, 0xA3D},     {0xA43, 0xA46},     {0xA49, 0xA4A},
    {0xA4E, 0xA50},     {0xA52, 0xA58},     {0xA5D, 0xA5D},     {0xA5F, 0xA65},
    {0xA77, 0xA80},     {0xA84, 0xA84},     {0xA8E, 0xA8E},     {0xA92, 0xA92},
    {0xAA9, 0xAA9},     {0xAB1, 0xAB1},     {0xAB4, 0xAB4},     {0xABA, 0xABB},
    {0xAC6, 0xAC6},     {0xACA, 0xACA},     {0xACE, 0xACF},     {0xAD1, 0xADF},
    {0xAE4, 0xAE5},     {0xAF2, 0xAF8},     {0xB00, 0xB00},     {0xB04, 0xB04},
    {0xB0D, 0xB0E},     {0xB11, 0xB12},     {0xB29, 0xB29},     {0xB31, 0xB31},
    {0xB34, 0xB34},     {0xB3A, 0xB3B},     {0xB45, 0xB46},     {0xB49, 0xB4A},
    {0xB4E, 0xB54},     {0xB58, 0xB5B},     {0xB5E, 0xB5E},     {0xB64, 0xB65},
    {0xB78, 0xB81},     {0xB84, 0xB84},     {0xB8B, 0xB8D},     {0xB91, 0xB91},
    {0xB96, 0xB98},     {0xB9B, 0xB9B},     {0xB9D, 0xB9D},     {0xBA0, 0xBA2},
    {0xBA5, 0xBA7},     {0xBAB, 0xBAD},     {0xBBA, 0xBBD},     {0xBC3, 0xBC5},
    {0xBC9, 0xBC9},     {0xBCE, 0xBCF},     {0xBD1, 0xBD6},     {0xBD8, 0xBE5},
    {0xBFB, 0xBFF},     {0xC0D, 0xC0D},     {0xC11, 0xC11},     {0xC29, 0xC29},
    {0xC3A, 0xC3B},     {0xC45, 0xC45},     {0xC49, 0xC49},     {0xC4E, 0xC54},
    {0xC57, 0xC57},     {0xC5B, 0xC5C},     {0xC5E, 0xC5F},     {0xC64, 0xC65},
    {0xC70, 0xC76},     {0xC8D, 0xC8D},     {0xC91, 0xC91},     {0xCA9, 0xCA9},
    {0xCB4, 0xCB4},     {0xCBA, 0xCBB},     {0xCC5, 0xCC5},     {0xCC9, 0xCC9},
    {0xCCE, 0xCD4},     {0xCD7, 0xCDC},     {0xCDF, 0xCDF},     {0xCE4, 0xCE5},
    {0xCF0, 0xCF0},     {0xCF3, 0xCFF},     {0xD0D, 0xD0D},     {0xD11, 0xD11},
    {0xD45, 0xD45},     {0xD49, 0xD49},     {0xD50, 0xD53},     {0xD64, 0xD65},
    {0xD80, 0xD80},     {0xD84, 0xD84},     {0xD97, 0xD99},     {0xDB2, 0xDB2},
    {0xDBC, 0xDBC},     {0xDBE, 0xDBF},     {0xDC7, 0xDC9},     {0xDCB, 0xDCE},
    {0xDD5, 0xDD5},     {0xDD7, 0xDD7},     {0xDE0, 0xDE5},     {0xDF0, 0xDF1},
    {0xDF5, 0xE00},     {0xE3B, 0xE3E},     {0xE5C, 0xE80},     {0xE83, 0xE83},
    {0xE85, 0xE85},     {0xE8B, 0xE8B},     {0xEA4, 0xEA4},     {0xEA6, 0xEA6},
    {0xEBE, 0xEBF},     {0xEC5, 0xEC5},     {0xEC7, 0xEC7},     {0xECE, 0xECF},
    {0xEDA, 0xEDB},     {0xEE0, 0xEFF},     {0xF48, 0xF48},     {0xF6D, 0xF70},
    {0xF98, 0xF98},     {0xFBD, 0xFBD},     {0xFCD, 0xFCD},     {0xFDB, 0xFFF},
    {0x10C6, 0x10C6},   {0x10C8, 0x10CC},   {0x10CE, 0x10CF},   {0x1249, 0x1249},
    {0x124E, 0x124F},   {0x1257, 0x1257},   {0x1259, 0x1259},   {0x125E, 0x125F},
    {0x1289, 0x1289},   {0x128E, 0x128F},   {0x12B1, 0x12B1},   {0x12B6, 0x12B7},
    {0x12BF, 0x12BF},   {0x12C1, 0x12C1},   {0x12C6, 0x12C7},   {0x12D7, 0x12D7},
    {0x1311, 0x1311},   {0x1316, 0x1317},   {0x135B, 0x135C},   {0x137D, 0x137F},
    {0x139A, 0x139F},   {0x13F6, 0x13F7},   {0x13FE, 0x13FF},   {0x1680, 0x1680},
    {0x169D, 0x169F},   {0x16F9, 0x16FF},   {0x1716, 0x171E},   {0x1737, 0x173F},
    {0x1754, 0x175F},   {0x176D, 0x176D},   {0x1771, 0x1771},   {0x1774, 0x177F},
    {0x17DE, 0x17DF},   {0x17EA, 0x17EF},   {0x17FA, 0x17FF},   {0x180E, 0x180E},
    {0x181A, 0x181F},   {0x1879, 0x187F},   {0x18AB, 0x18AF},   {0x18F6, 0x18FF},
    {0x191F, 0x191F},   {0x192C, 0x192F},   {0x193C, 0x193F},   {0x1941, 0x1943},
    {0x196E, 0x196F},   {0x1975, 0x197F},   {0x19AC, 0x19AF},   {0x19CA, 0x19CF},
    {0x19DB, 0x19DD},   {0x1A1C, 0x1A1D},   {0x1A5F, 0x1A5F},   {0x1A7D, 0x1A7E},
    {0x1A8A, 0x1A8F},   {0x1A9A, 0x1A9F},   {0x1AAE, 0x1AAF},   {0x1ACF, 0x1AFF},
    {0x1B4D, 0x1B4F},   {0x1B7F, 0x1B7F},   {0x1BF4, 0x1BFB},   {0x1C38, 0x1C3A},
    {0x1C4A, 0x1C4C},   {0x1C89, 0x1C8F},   {0x1CBB, 0x1CBC},   {0x1CC8, 0x1CCF},
    {0x1CFB, 0x1CFF},   {0x1F16, 0x1F17},   {0x1F1E, 0x1F1F},   {0x1F46, 0x1F47},
    {0x1F4E, 0x1F4F},   {0x1F58, 0x1F58},   {0x1F5A, 0x1F5A},   {0x1F5C, 0x1F5C},
    {0x1F5E, 0x1F5E},   {0x1F7E, 0x1F7F},   {0x1FB5, 0x1FB5},   {0x1FC5, 0x1FC5},
    {0x1FD4, 0x1FD5},   {0x1FDC, 0x1FDC},   {0x1FF0, 0x1FF1},   {0x1FF5, 0x1FF5},
    {0x1FFF, 0x200F},   {0x2028, 0x202F},   {0x205F, 0x206F},   {0x2072, 0x2073},
    {0x208F, 0x208F},   {0x209D, 0x209F},   {0x20C1, 0x20CF},   {0x20F1, 0x20FF},
    {0x218C, 0x218F},   {0x2427, 0x243F},   {0x244B, 0x245F},   {0x2B74, 0x2B75},
    {0x2B96, 0x2B96},   {0x2CF4, 0x2CF8},   {0x2D26, 0x2D26},   {0x2D28, 0x2D2C},
    {0x2D2E, 0x2D2F},   {0x2D68, 0x2D6E},   {0x2D71, 0x2D7E},   {0x2D97, 0x2D9F},
    {0x2DA7, 0x2DA7},   {0x2DAF, 0x2DAF},   {0x2DB7, 0x2DB7},   {0x2DBF, 0x2DBF},
    {0x2DC7, 0x2DC7},   {0x2DCF, 0x2DCF},   {0x2DD7, 0x2DD7},   {0x2DDF, 0x2DDF},
    {0x2E5E, 0x2E7F},   {0x2E9A, 0x2E9A},   {0x2EF4, 0x2EFF},   {0x2FD6, 0x2FEF},
    {0x2FFC, 0x3000},   {0x3040, 0x3040},   {0x3097, 0x3098},   {0x3100, 0x3104},
    {0x3130, 0x3130},   {0x318F, 0x318F},   {0x31E4, 0x31EF},   {0x321F, 0x321F},
    {0xA48D, 0xA48F},   {0xA4C7, 0xA4CF},   {0xA62C, 0xA63F},   {0xA6F8, 0xA6FF},
    {0xA7CB, 0xA7CF},   {0xA7D2, 0xA7D2},   {0xA7D4, 0xA7D4},   {0xA7DA, 0xA7F1},
    {0xA82D, 0xA82F},   {0xA83A, 0xA83F},   {0xA878, 0xA87F},   {0xA8C6, 0xA8CD},
    {0xA8DA, 0xA8DF},   {0xA954, 0xA95E},   {0xA97D, 0xA97F},   {0xA9CE, 0xA9CE},
    {0xA9DA, 0xA9DD},   {0xA9FF, 0xA9FF},   {0xAA37, 0xAA3F},   {0xAA4E, 0xAA4F},
    {0xAA5A, 0xAA5B},   {0xAAC3, 0xAADA},   {0xAAF7, 0xAB00},   {0xAB07, 0xAB08},
    {0xAB0F, 0xAB10},   {0xAB17, 0xAB1F},   {0xAB27, 0xAB27},   {0xAB2F, 0xAB2F},
    {0xAB6C, 0xAB6F},   {0xABEE, 0xABEF},   {0xABFA, 0xABFF},   {0xD7A4, 0xD7AF},
    {0xD7C7, 0xD7CA},   {0xD7FC, 0xF8FF},   {0xFA6E, 0xFA6F},   {0xFADA, 0xFAFF},
    {0xFB07, 0xFB12},   {0xFB18, 0xFB1C},   {0xFB37, 0xFB37},   {0xFB3D, 0xFB3D},
    {0xFB3F, 0xFB3F},   {0xFB42, 0xFB42},   {0xFB45, 0xFB45},   {0xFBC3, 0xFBD2},
    {0xFD90, 0xFD91},   {0xFDC8, 0xFDCE},   {0xFDD0, 0xFDEF},   {0xFE1A, 0xFE1F},
    {0xFE53, 0xFE53},   {0xFE67, 0xFE67},   {0xFE6C, 0xFE6F},   {0xFE75, 0xFE75},
    {0xFEFD, 0xFF00},   {0xFFBF, 0xFFC1},   {0xFFC8, 0xFFC9},   {0xFFD0, 0xFFD1},
    {0xFFD8, 0xFFD9},   {0xFFDD, 0xFFDF},   {0xFFE7, 0xFFE7},   {0xFFEF, 0xFFFB},
    {0xFFFE, 0xFFFF},   {0x1000C, 0x1000C}, {0x10027, 0x10027}, {0x1003B, 0x1003B},
    {0x1003E, 0x1003E}, {0x1004E, 0x1004F}, {0x1005E, 0x1007F}, {0x100FB, 0x100FF},
    {0x10103, 0x10106}, {0x10134, 0x10136}, {0x1018F, 0x1018F}, {0x1019D, 0x1019F},
    {0x101A1, 0x101CF}, {0x101FE, 0x1027F}, {0x1029D, 0x1029F}, {0x102D1, 0x102DF},
    {0x102FC, 0x102FF}, {0x10324, 0x1032C}, {0x1034B, 0x1034F}, {0x1037B, 0x1037F},
    {0x1039E, 0x1039E}, {0x103C4, 0x103C7}, {0x103D6, 0x103FF}, {0x1049E, 0x1049F},
    {0x104AA, 0x104AF}, {0x104D4, 0x104D7}, {0x104FC, 0x104FF}, {0x10528, 0x1052F},
    {0x10564, 0x1056E}, {0x1057B, 0x1057B}, {0x1058B, 0x1058B}, {0x10593, 0x10593},
    {0x10596, 0x10596}, {0x105A2, 0x105A2}, {0x105B2, 0x105B2}, {0x105BA, 0x105BA},
    {0x105BD, 0x105FF}, {0x10737, 0x1073F}, {0x10756, 0x1075F}, {0x10768, 0x1077F},
    {0x10786, 0x10786}, {0x107B1, 0x107B1}, {0x107BB, 0x107FF}, {0x10806, 0x10807},
    {0x10809, 0x10809}, {0x10836, 0x10836}, {0x10839, 0x1083B}, {0x1083D, 0x1083E},
    {0x10856, 0x10856}, {0x1089F, 0x108A6}, {0x108B0, 0x108DF}, {0x108F3, 0x108F3},
    {0x108F6, 0x108FA}, {0x1091C, 0x1091E}, {0x1093A, 0x1093E}, {0x10940, 0x1097F},
    {0x109B8, 0x109BB}, {0x109D0, 0x109D1}, {0x10A04, 0x10A04}, {0x10A07, 0x10A0B},
    {0x10A14, 0x10A14}, {0x10A18, 0x10A18}, {0x10A36, 0x10A37}, {0x10A3B, 0x10A3E},
    {0x10A49, 0x10A4F}, {0x10A59, 0x10A5F}, {0x10AA0, 0x10ABF}, {0x10AE7, 0x10AEA},
    {0x10AF7, 0x10AFF}, {0x10B36, 0x10B38}, {0x10B56, 0x10B57}, {0x10B73, 0x10B77},
    {0x10B92, 0x10B98}, {0x10B9D, 0x10BA8}, {0x10BB0, 0x10BFF}, {0x10C49, 0x10C7F},
    {0x10CB3, 0x10CBF}, {0x10CF3, 0x10CF9}, {0x10D28, 0x10D2F}, {0x10D3A, 0x10E5F},
    {0x10E7F, 0x10E7F}, {0x10EAA, 0x10EAA}, {0x10EAE, 0x10EAF}, {0x10EB2, 0x10EFF},
    {0x10F28, 0x10F2F}, {0x10F5A, 0x10F6F}, {0x10F8A, 0x10FAF}, {0x10FCC, 0x10FDF},
    {0x10FF7, 0x10FFF}, {0x1104E, 0x11051}, {0x11076, 0x1107E}, {0x110BD, 0x110BD},
    {0x110C3, 0x110CF}, {0x110E9, 0x110EF}, {0x110FA, 0x110FF}, {0x11135, 0x11135},
    {0x11148, 0x1114F}, {0x11177, 0x1117F}, {0x111E0, 0x111E0}, {0x111F5, 0x111FF},
    {0x11212, 0x11212}, {0x1123F, 0x1127F}, {0x11287, 0x11287}, {0x11289, 0x11289},
    {0x1128E, 0x1128E}, {0x1129E, 0x1129E}, {0x112AA, 0x112AF}, {0x112EB, 0x112EF},
    {0x112FA, 0x112FF}, {0x11304, 0x11304}, {0x1130D, 0x1130E}, {0x11311, 0x11312},
    {0x11329, 0x11329}, {0x11331, 0x11331}, {0x11334, 0x11334}, {0x1133A, 0x1133A},
    {0x11345, 0x11346}, {0x11349, 0x1134A}, {0x1134E, 0x1134F}, {0x11351, 0x11356},
    {0x11358, 0x1135C}, {0x11364, 0x11365}, {0x1136D, 0x1136F}, {0x11375, 0x113FF},
    {0x1145C, 0x1145C}, {0x11462, 0x1147F}, {0x114C8, 0x114CF}, {0x114DA, 0x1157F},
    {0x115B6, 0x115B7}, {0x115DE, 0x115FF}, {0x11645, 0x1164F}, {0x1165A, 0x1165F},
    {0x1166D, 0x1167F}, {0x116BA, 0x116BF}, {0x116CA, 0x116FF}, {0x1171B, 0x1171C},
    {0x1172C, 0x1172F}, {0x11747, 0x117FF}, {0x1183C, 0x1189F}, {0x118F3, 0x118FE},
    {0x11907, 0x11908}, {0x1190A, 0x1190B}, {0x11914, 0x11914}, {0x11917, 0x11917},
    {0x11936, 0x11936}, {0x11939, 0x1193A}, {0x11947, 0x1194F}, {0x1195A, 0x1199F},
    {0x119A8, 0x119A9}, {0x119D8, 0x119D9}, {0x119E5, 0x119FF}, {0x11A48, 0x11A4F},
    {0x11AA3, 0x11AAF}, {0x11AF9, 0x11BFF}, {0x11C09, 0x11C09}, {0x11C37, 0x11C37},
    {0x11C46, 0x11C4F}, {0x11C6D, 0x11C6F}, {0x11C90, 0x11C91}, {0x11CA8, 0x11CA8},
    {0x11CB7, 0x11CFF}, {0x11D07, 0x11D07}, {0x11D0A, 0x11D0A}, {0x11D37, 0x11D39},
    {0x11D3B, 0x11D3B}, {0x11D3E, 0x11D3E}, {0x11D48, 0x11D4F}, {0x11D5A, 0x11D5F},
    {0x11D66, 0x11D66}, {0x11D69, 0x11D69}, {0x11D8F, 0x11D8F}, {0x11D92, 0x11D92},
    {0x11D99, 0x11D9F}, {0x11DAA, 0x11EDF}, {0x11EF9, 0x11FAF}, {0x11FB1, 0x11FBF},
    {0x11FF2, 0x11FFE}, {0x1239A, 0x123FF}, {0x1246F, 0x1246F}, {0x12475, 0x1247F},
    {0x12544, 0x12F8F}, {0x12FF3, 0x12FFF}, {0x1342F, 0x143FF}, {0x14647, 0x167FF},
    {0x16A39, 0x16A3F}, {0x16A5F, 0x16A5F}, {0x16A6A, 0x16A6D}, {0x16ABF, 0x16ABF},
    {0x16ACA, 0x16ACF}, {0x16AEE, 0x16AEF}, {0x16AF6, 0x16AFF}, {0x16B46, 0x16B4F},
    {0x16B5A, 0x16B5A}, {0x16B62, 0x16B62}, {0x16B78, 0x16B7C}, {0x16B90, 0x16E3F},
    {0x16E9B, 0x16EFF}, {0x16F4B, 0x16F4E}, {0x16F88, 0x16F8E}, {0x16FA0, 0x16FDF},
    {0x16FE5, 0x16FEF}, {0x16FF2, 0x16FFF}, {0x187F8, 0x187FF}, {0x18CD6, 0x18CFF},
    {0x18D09, 0x1AFEF}, {0x1AFF4, 0x1AFF4}, {0x1AFFC, 0x1AFFC}, {0x1AFFF, 0x1AFFF},
    {0x1B123, 0x1B14F}, {0x1B153, 0x1B163}, {0x1B168, 0x1B16F}, {0x1B2FC, 0x1BBFF},
    {0x1BC6B, 0x1BC6F}, {0x1BC7D, 0x1BC7F}, {0x1BC89, 0x1BC8F}, {0x1BC9A, 0x1BC9B},
    {0x1BCA0, 0x1CEFF}, {0x1CF2E, 0x1CF2F}, {0x1CF47, 0x1CF4F}, {0x1CFC4, 0x1CFFF},
    {0x1D0F6, 0x1D0FF}, {0x1D127, 0x1D128}, {0x1D173, 0x1D17A}, {0x1D1EB, 0x1D1FF},
    {0x1D246, 0x1D2DF}, {0x1D2F4, 0x1D2FF}, {0x1D357, 0x1D35F}, {0x1D379, 0x1D3FF},
    {0x1D455, 0x1D455}, {0x1D49D, 0x1D49D}, {0x1D4A0, 0x1D4A1}, {0x1D4A3, 0x1D4A4},
    {0x1D4A7, 0x1D4A8}, {0x1D4AD, 0x1D4AD}, {0x1D4BA, 0x1D4BA}, {0x1D4BC, 0x1D4BC},
    {0x1D4C4, 0x1D4C4}, {0x1D506, 0x1D506}, {0x1D50B, 0x1D50C}, {0x1D515, 0x1D515},
    {0x1D51D, 0x1D51D}, {0x1D53A, 0x1D53A}, {0x1D53F, 0x1D53F}, {0x1D545, 0x1D545},
    {0x1D547, 0x1D549}, {0x1D551, 0x1D551}, {0x1D6A6, 0x1D6A7}, {0x1D7CC, 0x1D7CD},
    {0x1DA8C, 0x1DA9A}, {0x1DAA0, 0x1DAA0}, {0x1DAB0, 0x1DEFF}, {0x1DF1F, 0x1DFFF},
    {0x1E007, 0x1E007}, {0x1E019, 0x1E01A}, {0x1E022, 0x1E022}, {0x1E025, 0x1E025},
    {0x1E02B, 0x1E0FF}, {0x1E12D, 0x1E12F}, {0x1E13E, 0x1E13F}, {0x1E14A, 0x1E14D},
    {0x1E150, 0x1E28F}, {0x1E2AF, 0x1E2BF}, {0x1E2FA, 0x1E2FE}, {0x1E300, 0x1E7DF},
    {0x1E7E7, 0x1E7E7}, {0x1E7EC, 0x1E7EC}, {0x1E7EF, 0x1E7EF}, {0x1E7FF, 0x1E7FF},
    {0x1E8C5, 0x1E8C6}, {0x1E8D7, 0x1E8FF}, {0x1E94C, 0x1E94F}, {0x1E95A, 0x1E95D},
    {0x1E960, 0x1EC70}, {0x1ECB5, 0x1ED00}, {0x1ED3E, 0x1EDFF}, {0x1EE04, 0x1EE04},
    {0x1EE20, 0x1EE20}, {0x1EE23, 0x1EE23}, {0x1EE25, 0x1EE26}, {0x1EE28, 0x1EE28},
    {0x1EE33, 0x1EE33}, {0x1EE38, 0x1EE38}, {0x1EE3A, 0x1EE3A}, {0x1EE3C, 0x1EE41},
    {0x1EE43, 0x1EE46}, {0x1EE48, 0x1EE48}, {0x1EE4A, 0x1EE4A}, {0x1EE4C, 0x1EE4C},
    {0x1EE50, 0x1EE50}, {0x1EE53, 0x1EE53}, {0x1EE55, 0x1EE56}, {0x1EE58, 0x1EE58},
    {0x1EE5A, 0x1EE5A}, {0x1EE5C, 0x1EE5C}, {0x1EE5E, 0x1EE5E}, {0x1EE60, 0x1EE60},
    {0x1EE63, 0x1EE63}, {0x1EE65, 0x1EE66}, {0x1EE6B, 0x1EE6B}, {0x1EE73, 0x1EE73},
    {0x1EE78, 0x1EE78}, {0x1EE7D, 0x1EE7D}, {0x1EE7F, 0x1EE7F}, {0x1EE8A, 0x1EE8A},
    {0x1EE9C, 0x1EEA0}, {0x1EEA4, 0x1EEA4}, {0x1EEAA, 0x1EEAA}, {0x1EEBC, 0x1EEEF},
    {0x1EEF2, 0x1EFFF}, {0x1F02C, 0x1F02F}, {0x1F094, 0x1F09F}, {0x1F0AF, 0x1F0B0},
    {0x1F0C0, 0x1F0C0}, {0x1F0D0, 0x1F0D0}, {0x1F0F6, 0x1F0FF}, {0x1F1AE, 0x1F1E5},
    {0x1F203, 0x1F20F}, {0x1F23C, 0x1F23F}, {0x1F249, 0x1F24F}, {0x1F252, 0x1F25F},
    {0x1F266, 0x1F2FF}, {0x1F6D8, 0x1F6DC}, {0x1F6ED, 0x1F6EF}, {0x1F6FD, 0x1F6FF},
    {0x1F774, 0x1F77F}, {0x1F7D9, 0x1F7DF}, {0x1F7EC, 0x1F7EF}, {0x1F7F1, 0x1F7FF},
    {0x1F80C, 0x1F80F}, {0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F}, {0x1F888, 0x1F88F},
    {0x1F8AE, 0x1F8AF}, {0x1F8B2, 0x1F8FF}, {0x1FA54, 0x1FA5F}, {0x1FA6E, 0x1FA6F},
    {0x1FA75, 0x1FA77}, {0x1FA7D, 0x1FA7F}, {0x1FA87, 0x1FA8F}, {0x1FAAD, 0x1FAAF},
    {0x1FABB, 0x1FABF}, {0x1FAC6, 0x1FACF}, {0x1FADA, 0x1FADF}, {0x1FAE8, 0x1FAEF},
    {0x1FAF7, 0x1FAFF}, {0x1FB93, 0x1FB93}, {0x1FBCB, 0x1FBEF}, {0x1FBFA, 0x1FFFF},
    {0x2A6E0, 0x2A6FF}, {0x2B739, 0x2B73F}, {0x2B81E, 0x2B81F}, {0x2CEA2, 0x2CEAF},
    {0x2EBE1, 0x2F7FF}, {0x2FA1E, 0x2FFFF}, {0x3134B, 0xE00FF}, {0xE01F0, 0x10FFFF},
};

static bool py_printable(uint32_t c)
{
    if (c < 0x80)
        return c >= 0x20 && c < 0x7F;
    size_t lo = 0, hi = sizeof(NONPRINTABLE) / sizeof(NONPRINTABLE[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < NONPRINTABLE[mid][0])
            hi = mid;
        else if (c > NONPRINTABLE[mid][1])
            lo = mid + 1;
        else
            return false;
    }
    return true;
}

/* The blanks int() and float() strip around their text: ASCII " \t\n\v\f\r"
 * (Py_ISSPACE; ASCII U+001C..U+001F stay) and non-ASCII Unicode whitespace
 * (turned into spaces first). The same set as Rust's str::trim. */
static bool py_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* Trim Python whitespace from UTF-8 text. */
static void py_strip(const char *s, size_t n, size_t *b, size_t *e)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        if (!py_space(utf8_next(s, n, &j)))
            break;
        i = j;
    }
    size_t end = n;
    while (end > i) {
        size_t k = end - 1;
        while (k > i && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        size_t j = k;
        if (!py_space(utf8_next(s, n, &j)) || j != end)
            break;
        end = k;
    }
    *b = i;
    *e = end;
}

/* ---- Python repr ---- */

/* repr(str): quotes, escapes, non-printables as \xhh, \uhhhh, \Uhhhhhhhh. */
static void repr_str(sbuf_t *b, const char *s, size_t n)
{
    bool sq = memchr(s, '\'', n) != NULL, dq = memchr(s, '"', n) != NULL;
    char quote = sq && !dq ? '"' : '\'';
    sb_putc(b, quote);
    for (size_t i = 0; i < n;) {
        uint32_t c = utf8_next(s, n, &i);
        if (c == (uint32_t)quote || c == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
        } else if (c == '\t') {
            sb_puts(b, "\\t");
        } else if (c == '\n') {
            sb_puts(b, "\\n");
        } else if (c == '\r') {
            sb_puts(b, "\\r");
        } else if (c < 0x20 || c == 0x7F) {
            sb_printf(b, "\\x%02x", (unsigned)c);
        } else if (c < 0x7F) {
            sb_putc(b, (char)c);
        } else if (py_printable(c)) {
            sb_put_cp(b, c);
        } else if (c <= 0xFF) {
            sb_printf(b, "\\x%02x", (unsigned)c);
        } else if (c <= 0xFFFF) {
            sb_printf(b, "\\u%04x", (unsigned)c);
        } else {
            sb_printf(b, "\\U%08x", (unsigned)c);
        }
    }
    sb_putc(b, quote);
}

/* repr(bytes) of latin-1 bytes: b'...' with ASCII-only escaping. */
static void repr_bytes(sbuf_t *b, const char *s, size_t n)
{
    bool sq = memchr(s, '\'', n) != NULL, dq = memchr(s, '"', n) != NULL;
    char quote = sq && !dq ? '"' : '\'';
    sb_putc(b, 'b');
    sb_putc(b, quote);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)quote || c == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
        } else if (c == '\t') {
            sb_puts(b, "\\t");
        } else if (c == '\n') {
            sb_puts(b, "\\n");
        } else if (c == '\r') {
            sb_puts(b, "\\r");
        } else if (c < 0x20 || c >= 0x7F) {
            sb_printf(b, "\\x%02x", c);
        } else {
            sb_putc(b, (char)c);
        }
    }
    sb_putc(b, quote);
}

int gn_py_float(double v, char *out, size_t cap)
{
    char res[40];
    if (isnan(v)) {
        strcpy(res, "nan");
    } else if (isinf(v)) {
        strcpy(res, v < 0 ? "-inf" : "inf");
    } else if (v == 0) {
        strcpy(res, signbit(v) ? "-0.0" : "0.0");
    } else {
        /* The shortest digit string that reads back as v (what repr's
         * David Gay "mode 0" produces): the correctly rounded p-digit
         * decimal for the smallest p that round-trips. At a power of two
         * the rounding interval is lopsided, so the p-digit neighbours of
         * that decimal are tried too, nearest to v first. */
        char e[40], digits[24];
        int nd = 0, exp10 = 0;
        bool neg = v < 0;
        for (int p = 1; p <= 17; p++) {
            snprintf(e, sizeof(e), "%.*e", p - 1, fabs(v));
            /* parse d[.ddd]e±xx */
            nd = 0;
            const char *q = e;
            for (; *q && *q != 'e'; q++)
                if (*q != '.')
                    digits[nd++] = *q;
            exp10 = atoi(q + 1);
            if (strtod(e, NULL) == fabs(v))
                break;
            if (p == 17)
                break;
            /* neighbours: the p-digit decimals just above and below */
            bool found = false;
            for (int dir = -1; dir <= 1 && !found; dir += 2) {
                char d2[24];
                memcpy(d2, digits, (size_t)nd);
                int ex = exp10, k = nd - 1;
                if (dir > 0) {
                    while (k >= 0 && d2[k] == '9')
                        d2[k--] = '0';
                    if (k < 0) {
                        d2[0] = '1';
                        ex++;
                    } else {
                        d2[k]++;
                    }
                } else {
                    while (k >= 0 && d2[k] == '0')
                        d2[k--] = '9';
                    if (k < 0)
                        continue;
                    d2[k]--;
                    if (d2[0] == '0') { /* 1000 -> 0999 -> 9999 one exponent lower */
                        memmove(d2, d2 + 1, (size_t)nd - 1);
                        d2[nd - 1] = '9';
                        ex--;
                    }
                }
                char t[48];
                int tl = snprintf(t, sizeof(t), "%c%s%.*se%d", d2[0], nd > 1 ? "." : "", nd - 1,
                                  d2 + 1, ex);
                if (tl > 0 && strtod(t, NULL) == fabs(v)) {
                    memcpy(digits, d2, (size_t)nd);
                    exp10 = ex;
                    found = true;
                }
            }
            if (found)
                break;
        }
        while (nd > 1 && digits[nd - 1] == '0')
            nd--;
        size_t k = 0;
        if (neg)
            res[k++] = '-';
        int decpt = exp10 + 1;
        if (exp10 < -4 || exp10 >= 16) {
            res[k++] = digits[0];
            if (nd > 1) {
                res[k++] = '.';
                memcpy(res + k, digits + 1, (size_t)nd - 1);
                k += (size_t)nd - 1;
            }
            k += (size_t)snprintf(res + k, sizeof(res) - k, "e%c%02d", exp10 < 0 ? '-' : '+',
                                  exp10 < 0 ? -exp10 : exp10);
        } else if (decpt <= 0) {
            res[k++] = '0';
            res[k++] = '.';
            for (int z = 0; z < -decpt; z++)
                res[k++] = '0';
            memcpy(res + k, digits, (size_t)nd);
            k += (size_t)nd;
        } else if (decpt < nd) {
            memcpy(res + k, digits, (size_t)decpt);
            k += (size_t)decpt;
            res[k++] = '.';
            memcpy(res + k, digits + decpt, (size_t)(nd - decpt));
            k += (size_t)(nd - decpt);
        } else {
            memcpy(res + k, digits, (size_t)nd);
            k += (size_t)nd;
            for (int z = nd; z < decpt; z++)
                res[k++] = '0';
            res[k++] = '.';
            res[k++] = '0';
        }
        res[k] = 0;
    }
    size_t len = strlen(res);
    if (!out || len + 1 > cap)
        return GN_ENOSPC;
    memcpy(out, res, len + 1);
    return 0;
}

static void put_float(sbuf_t *b, double v)
{
    char f[40];
    gn_py_float(v, f, sizeof(f));
    sb_puts(b, f);
}

/* str() (top) or repr() (inside containers) of a validated value. */
static void py_value(sbuf_t *b, const json_t *v, gn_syn_type_t t, bool top)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        if (top)
            sb_put(b, json_string_value(v), json_string_length(v));
        else
            repr_str(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        if (t == GN_SYN_FLOAT)
            put_float(b, (double)json_integer_value(v));
        else
            sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: put_float(b, json_real_value(v)); break;
    case JSON_TRUE: sb_puts(b, "True"); break;
    case JSON_FALSE: sb_puts(b, "False"); break;
    case JSON_NULL: sb_puts(b, "None"); break;
    case JSON_ARRAY: {
        sb_putc(b, '[');
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
            if (i)
                sb_puts(b, ", ");
            py_value(b, e, GN_SYN_ANY, false);
        }
        sb_putc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        sb_putc(b, '{');
        const char *k;
        size_t kl;
        json_t *e;
        bool first = true;
        json_object_keylen_foreach((json_t *)v, k, kl, e)
        {
            if (!first)
                sb_puts(b, ", ");
            first = false;
            repr_str(b, k, kl);
            sb_puts(b, ": ");
            py_value(b, e, GN_SYN_ANY, false);
        }
        sb_putc(b, '}');
        break;
    }
    }
}

int gn_py_str(const json_t *v, gn_syn_type_t t, char **out)
{
    sbuf_t b = {0};
    py_value(&b, v, t, true);
    sb_reserve(&b, 0);
    if (b.oom) {
        free(b.p);
        *out = NULL;
        return GN_ENOMEM;
    }
    *out = b.p;
    return 0;
}

/* ---- Python int() / float() and pydantic's lax coercions ---- */

/* digit (_? digit)* of ASCII decimals from s[i]; false when none or a
 * misplaced underscore. Appends the digits (no underscores) to d. */
static bool py_digitpart(const char *s, size_t n, size_t *i, sbuf_t *d)
{
    size_t k = *i;
    if (k >= n || !isdigit((unsigned char)s[k]))
        return false;
    while (k < n) {
        if (isdigit((unsigned char)s[k])) {
            sb_putc(d, s[k++]);
        } else if (s[k] == '_' && k + 1 < n && isdigit((unsigned char)s[k + 1])) {
            k++;
        } else {
            break;
        }
    }
    *i = k;
    return true;
}

/* Decimal digits with an optional sign into int64; GN_EINVAL when not
 * that, GN_ERANGE past int64. */
static int digits_to_int(const char *d, size_t n, json_int_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (d[i] == '+' || d[i] == '-'))
        neg = d[i++] == '-';
    if (i == n)
        return GN_EINVAL;
    uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (!isdigit((unsigned char)d[i]))
            return GN_EINVAL;
        unsigned dg = (unsigned)(d[i] - '0');
        if (acc > (lim - dg) / 10)
            return GN_ERANGE;
        acc = acc * 10 + dg;
    }
    *out = neg ? (json_int_t)(0 - acc) : (json_int_t)acc;
    return 0;
}

/* Python int(text), base 10: whitespace around, a sign, digits with single
 * underscores between them. */
static int py_int_text(const char *s, size_t n, json_int_t *out)
{
    size_t b, e;
    py_strip(s, n, &b, &e);
    sbuf_t d = {0};
    size_t i = b;
    if (i < e && (s[i] == '+' || s[i] == '-'))
        sb_putc(&d, s[i++]);
    int rc = GN_EINVAL;
    if (py_digitpart(s, e, &i, &d) && i == e && !d.oom)
        rc = digits_to_int(d.p, d.n, out);
    else if (d.oom)
        rc = GN_ENOMEM;
    free(d.p);
    return rc;
}

/* Python float(text): whitespace around; [sign] inf|infinity|nan, or a
 * decimal with underscores between digits and an optional exponent.
 * GN_ERANGE for a value that is not finite (refused here, see the top). */
static int py_float_text(const char *s, size_t n, double *out)
{
    size_t b, e;
    py_strip(s, n, &b, &e);
    size_t i = b;
    sbuf_t d = {0};
    if (i < e && (s[i] == '+' || s[i] == '-'))
        sb_putc(&d, s[i++]);
    size_t rest = e - i;
    if ((rest == 3 && !strncasecmp(s + i, "inf", 3)) ||
        (rest == 8 && !strncasecmp(s + i, "infinity", 8)) ||
        (rest == 3 && !strncasecmp(s + i, "nan", 3))) {
        free(d.p);
        return GN_ERANGE;
    }
    bool ok = false;
    if (py_digitpart(s, e, &i, &d)) {
        ok = true;
        if (i < e && s[i] == '.') {
            sb_putc(&d, s[i++]);
            if (i < e && isdigit((unsigned char)s[i]))
                ok = py_digitpart(s, e, &i, &d);
        }
    } else if (i < e && s[i] == '.') {
        sb_putc(&d, s[i++]);
        ok = py_digitpart(s, e, &i, &d);
    }
    if (ok && i < e && (s[i] == 'e' || s[i] == 'E')) {
        sb_putc(&d, s[i++]);
        if (i < e && (s[i] == '+' || s[i] == '-'))
            sb_putc(&d, s[i++]);
        ok = py_digitpart(s, e, &i, &d);
    }
    int rc = GN_EINVAL;
    if (d.oom) {
        rc = GN_ENOMEM;
    } else if (ok && i == e) {
        double v = strtod(d.p, NULL);
        rc = isfinite(v) ? 0 : GN_ERANGE;
        if (rc == 0)
            *out = v;
    }
    free(d.p);
    return rc;
}

/* Rust's str::trim: pydantic strips str inputs before reading numbers. */
static void rust_trim(const char *s, size_t n, size_t *b, size_t *e)
{
    py_strip(s, n, b, e);
}

/* pydantic-core str_as_int: i64 text, else with ".0+" removed, else with
 * well-placed underscores removed. */
static int pyd_int_text(const char *s, size_t n, json_int_t *out)
{
    size_t b, e;
    rust_trim(s, n, &b, &e);
    s += b;
    n = e - b;
    if (n > 4300)
        return GN_EINVAL;
    if (digits_to_int(s, n, out) == 0)
        return 0;
    const char *dot = memchr(s, '.', n);
    if (dot) {
        size_t k = (size_t)(dot - s) + 1;
        while (k < n && s[k] == '0')
            k++;
        if (k == n)
            return digits_to_int(s, (size_t)(dot - s), out) == 0 ? 0 : GN_EINVAL;
    }
    if (n && s[0] != '_' && s[n - 1] != '_' && memchr(s, '_', n)) {
        char *t = malloc(n);
        if (!t)
            return GN_ENOMEM;
        size_t k = 0;
        bool dbl = false;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '_' && i + 1 < n && s[i + 1] == '_')
                dbl = true;
            if (s[i] != '_')
                t[k++] = s[i];
        }
        int rc = dbl ? GN_EINVAL : digits_to_int(t, k, out);
        free(t);
        return rc == 0 ? 0 : GN_EINVAL;
    }
    return GN_EINVAL;
}

/* Rust's f64::from_str grammar. */
static bool rust_float_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    size_t r = n - i;
    if ((r == 3 && (!strncasecmp(s + i, "inf", 3) || !strncasecmp(s + i, "nan", 3))) ||
        (r == 8 && !strncasecmp(s + i, "infinity", 8)))
        return true;
    size_t d0 = i;
    while (i < n && isdigit((unsigned char)s[i]))
        i++;
    size_t nd = i - d0;
    if (i < n && s[i] == '.') {
        i++;
        size_t f0 = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        nd += i - f0;
    }
    if (!nd)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e0 = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == e0)
            return false;
    }
    return i == n;
}

/* pydantic-core str_as_float (then finite: see the top). */
static int pyd_float_text(const char *s, size_t n, double *out)
{
    size_t b, e;
    rust_trim(s, n, &b, &e);
    s += b;
    n = e - b;
    char *t = malloc(n + 1);
    if (!t)
        return GN_ENOMEM;
    size_t k = 0;
    if (rust_float_ok(s, n)) {
        memcpy(t, s, n);
        k = n;
    } else if (n && s[0] != '_' && s[n - 1] != '_' && memchr(s, '_', n)) {
        bool dbl = false;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '_' && i + 1 < n && s[i + 1] == '_')
                dbl = true;
            if (s[i] != '_')
                t[k++] = s[i];
        }
        if (dbl || !rust_float_ok(t, k)) {
            free(t);
            return GN_EINVAL;
        }
    } else {
        free(t);
        return GN_EINVAL;
    }
    t[k] = 0;
    int rc = 0;
    const char *p = t + (t[0] == '+' || t[0] == '-');
    if (!strncasecmp(p, "inf", 3) || !strncasecmp(p, "nan", 3)) {
        rc = GN_ERANGE;
    } else {
        double v = strtod(t, NULL);
        if (!isfinite(v))
            rc = GN_ERANGE;
        else
            *out = v;
    }
    free(t);
    return rc;
}

/* A new value or NULL (GN_ENOMEM); a nice shorthand for the coercions. */
static int put_new(json_t **out, json_t *v)
{
    *out = v;
    return v ? 0 : GN_ENOMEM;
}

/* The SDK's cast_int (a "before" validator: Python int(raw)), then
 * Optional[int]. */
static int cast_int(const json_t *v, json_t **out)
{
    json_int_t i;
    switch (json_typeof(v)) {
    case JSON_NULL: return put_new(out, json_null());
    case JSON_INTEGER: return put_new(out, json_integer(json_integer_value(v)));
    case JSON_TRUE: return put_new(out, json_integer(1));
    case JSON_FALSE: return put_new(out, json_integer(0));
    case JSON_REAL: {
        double d = trunc(json_real_value(v));
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            return GN_EINVAL;
        return put_new(out, json_integer((json_int_t)d));
    }
    case JSON_STRING: {
        int rc = py_int_text(json_string_value(v), json_string_length(v), &i);
        return rc < 0 ? (rc == GN_ENOMEM ? rc : GN_EINVAL) : put_new(out, json_integer(i));
    }
    default: return GN_EINVAL;
    }
}

/* The SDK's cast_float (Python float(raw)), then Optional[float]. */
static int cast_float(const json_t *v, json_t **out)
{
    double d;
    switch (json_typeof(v)) {
    case JSON_NULL: return put_new(out, json_null());
    case JSON_INTEGER: return put_new(out, json_real((double)json_integer_value(v)));
    case JSON_REAL: return put_new(out, json_real(json_real_value(v)));
    case JSON_TRUE: return put_new(out, json_real(1.0));
    case JSON_FALSE: return put_new(out, json_real(0.0));
    case JSON_STRING: {
        int rc = py_float_text(json_string_value(v), json_string_length(v), &d);
        return rc < 0 ? (rc == GN_ENOMEM ? rc : GN_EINVAL) : put_new(out, json_real(d));
    }
    default: return GN_EINVAL;
    }
}

/* Optional[str]. */
static int opt_str(const json_t *v, json_t **out)
{
    if (json_is_null(v) || json_is_string(v))
        return put_new(out, json_incref((json_t *)v));
    return GN_EINVAL;
}

/* A subclass field's value, validated as pydantic's lax Python mode does
 * for values that came from JSON. */
static int coerce_field(const gn_syn_field_t *f, const json_t *v, json_t **out)
{
    if (json_is_null(v))
        return f->nullable ? put_new(out, json_null()) : GN_EINVAL;
    json_int_t i;
    double d;
    int rc;
    switch (f->type) {
    case GN_SYN_ANY: return put_new(out, json_incref((json_t *)v));
    case GN_SYN_STR: return json_is_string(v) ? put_new(out, json_incref((json_t *)v)) : GN_EINVAL;
    case GN_SYN_INT:
        switch (json_typeof(v)) {
        case JSON_INTEGER: return put_new(out, json_incref((json_t *)v));
        case JSON_TRUE: return put_new(out, json_integer(1));
        case JSON_FALSE: return put_new(out, json_integer(0));
        case JSON_REAL:
            d = json_real_value(v);
            if (d != trunc(d) || !(d > -9223372036854775808.0 && d < 9223372036854775808.0))
                return GN_EINVAL;
            return put_new(out, json_integer((json_int_t)d));
        case JSON_STRING:
            rc = pyd_int_text(json_string_value(v), json_string_length(v), &i);
            return rc < 0 ? rc : put_new(out, json_integer(i));
        default: return GN_EINVAL;
        }
    case GN_SYN_FLOAT:
        switch (json_typeof(v)) {
        case JSON_REAL: return put_new(out, json_incref((json_t *)v));
        case JSON_INTEGER: return put_new(out, json_real((double)json_integer_value(v)));
        case JSON_TRUE: return put_new(out, json_real(1.0));
        case JSON_FALSE: return put_new(out, json_real(0.0));
        case JSON_STRING:
            rc = pyd_float_text(json_string_value(v), json_string_length(v), &d);
            return rc < 0 ? (rc == GN_ENOMEM ? rc : GN_EINVAL) : put_new(out, json_real(d));
        default: return GN_EINVAL;
        }
    case GN_SYN_BOOL:
        switch (json_typeof(v)) {
        case JSON_TRUE:
        case JSON_FALSE: return put_new(out, json_incref((json_t *)v));
        case JSON_INTEGER:
            i = json_integer_value(v);
            return i == 0 || i == 1 ? put_new(out, json_boolean(i)) : GN_EINVAL;
        case JSON_REAL:
            d = json_real_value(v);
            return d == 0.0 || d == 1.0 ? put_new(out, json_boolean(d == 1.0)) : GN_EINVAL;
        case JSON_STRING: {
            size_t b, e;
            const char *s = json_string_value(v);
            rust_trim(s, json_string_length(v), &b, &e);
            static const char *const F[] = {"f", "n", "no", "off", "false"};
            static const char *const T[] = {"t", "y", "on", "yes", "true"};
            size_t n = e - b;
            s += b;
            if (n == 1 && (s[0] == '0' || s[0] == '1'))
                return put_new(out, json_boolean(s[0] == '1'));
            for (size_t k = 0; k < 5; k++) {
                if (strlen(F[k]) == n && !strncasecmp(s, F[k], n))
                    return put_new(out, json_false());
                if (strlen(T[k]) == n && !strncasecmp(s, T[k], n))
                    return put_new(out, json_true());
            }
            return GN_EINVAL;
        }
        default: return GN_EINVAL;
        }
    case GN_SYN_LIST: return json_is_array(v) ? put_new(out, json_incref((json_t *)v)) : GN_EINVAL;
    case GN_SYN_DICT: return json_is_object(v) ? put_new(out, json_incref((json_t *)v)) : GN_EINVAL;
    }
    return GN_EINVAL;
}

/* ---- TerminalInfo ---- */

typedef enum { TK_STR, TK_INT, TK_FLOAT } term_kind_t;

static const struct {
    const char *name;
    term_kind_t kind;
} TERM[10] = {
    {"status_code", TK_INT}, {"status_message", TK_STR}, {"process_time", TK_FLOAT},
    {"ip", TK_STR},          {"port", TK_INT},           {"version", TK_INT},
    {"nonce", TK_INT},       {"uuid", TK_STR},           {"hotkey", TK_STR},
    {"signature", TK_STR},
};

/* A TerminalInfo from a dict of raw values (unknown keys ignored; NULL or
 * JSON null: all fields null). */
static int terminal_build(const json_t *raw, json_t **out)
{
    if (raw && !json_is_null(raw) && !json_is_object(raw))
        return GN_EINVAL;
    json_t *t = json_object();
    if (!t)
        return GN_ENOMEM;
    for (size_t i = 0; i < 10; i++) {
        const json_t *v = raw ? json_object_get(raw, TERM[i].name) : NULL;
        json_t *c = NULL;
        int rc = !v                         ? put_new(&c, json_null())
                 : TERM[i].kind == TK_INT   ? cast_int(v, &c)
                 : TERM[i].kind == TK_FLOAT ? cast_float(v, &c)
                                            : opt_str(v, &c);
        if (rc < 0 || json_object_set_new(t, TERM[i].name, c) < 0) {
            json_decref(t);
            return rc < 0 ? rc : GN_ENOMEM;
        }
    }
    *out = t;
    return 0;
}

/* ---- building synapse objects ---- */

static int set_new(json_t *o, const char *k, json_t *v)
{
    if (!v)
        return GN_ENOMEM;
    return json_object_set_new(o, k, v) < 0 ? GN_ENOMEM : 0;
}

static int field_default(const gn_syn_field_t *f, json_t **out)
{
    if (!f->default_json)
        return put_new(out, json_null());
    json_error_t err;
    json_t *v = json_loads(f->default_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    return v ? put_new(out, v) : GN_EINVAL;
}

/* The subclass fields from `src` (key -> raw value; NULL: none given). */
static int class_fields(const gn_syn_class_t *c, const json_t *src, json_t *syn)
{
    for (size_t i = 0; i < c->n_fields; i++) {
        const gn_syn_field_t *f = &c->fields[i];
        const json_t *v = src ? json_object_get(src, f->name) : NULL;
        json_t *val = NULL;
        int rc;
        if (v)
            rc = coerce_field(f, v, &val);
        else if (f->required)
            rc = GN_EINVAL;
        else
            rc = field_default(f, &val);
        if (rc < 0)
            return rc;
        if ((rc = set_new(syn, f->name, val)) < 0)
            return rc;
    }
    return 0;
}

int gn_synapse_new(const gn_syn_class_t *c, json_t **out)
{
    *out = NULL;
    json_t *syn = json_object(), *d = NULL, *a = NULL;
    if (!syn)
        return GN_ENOMEM;
    int rc = set_new(syn, "name", json_string(c->name));
    if (!rc)
        rc = set_new(syn, "timeout", json_real(12.0));
    if (!rc)
        rc = set_new(syn, "total_size", json_integer(0));
    if (!rc)
        rc = set_new(syn, "header_size", json_integer(0));
    if (!rc && !(rc = terminal_build(NULL, &d)))
        rc = set_new(syn, "dendrite", d);
    if (!rc && !(rc = terminal_build(NULL, &a)))
        rc = set_new(syn, "axon", a);
    if (!rc)
        rc = set_new(syn, "computed_body_hash", json_string(""));
    for (size_t i = 0; !rc && i < c->n_fields; i++) {
        json_t *v = NULL;
        rc = c->fields[i].required ? put_new(&v, json_null()) : field_default(&c->fields[i], &v);
        if (!rc)
            rc = set_new(syn, c->fields[i].name, v);
    }
    if (rc < 0) {
        json_decref(syn);
        return rc;
    }
    *out = syn;
    return 0;
}

/* Python's lenient base64 (binascii.a2b_base64, strict_mode=False, as
 * base64.b64decode(validate=False) calls it): characters outside the
 * alphabet are skipped, enough '=' ends the input, and a final partial
 * quad is an error. libsodium's decoder is strict, hence this. */
static int py_b64decode(const char *s, size_t n, uint8_t *out, size_t *out_len)
{
    size_t k = 0;
    unsigned quad = 0, pads = 0, left = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '=') {
            if (quad >= 2 && quad + ++pads >= 4) {
                *out_len = k;
                return 0;
            }
            continue;
        }
        unsigned v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '+')
            v = 62;
        else if (ch == '/')
            v = 63;
        else
            continue;
        pads = 0;
        switch (quad) {
        case 0:
            quad = 1;
            left = v;
            break;
        case 1:
            quad = 2;
            out[k++] = (uint8_t)((left << 2) | (v >> 4));
            left = v & 0x0f;
            break;
        case 2:
            quad = 3;
            out[k++] = (uint8_t)((left << 4) | (v >> 2));
            left = v & 0x03;
            break;
        default:
            quad = 0;
            out[k++] = (uint8_t)((left << 6) | v);
            left = 0;
            break;
        }
    }
    if (quad != 0)
        return GN_EINVAL;
    *out_len = k;
    return 0;
}

/* A bt_header_input_obj_ value into a JSON value, as Python's
 * json.loads(base64.b64decode(value.encode()).decode("utf-8")); NULL when
 * any step fails (the SDK logs and skips such a header). */
static json_t *input_obj_value(const char *utf8, size_t n)
{
    uint8_t *raw = malloc(n + 1);
    if (!raw)
        return NULL;
    size_t len = 0;
    json_t *v = NULL;
    /* a raw NUL is never JSON, but jansson stops reading at one */
    if (py_b64decode(utf8, n, raw, &len) == 0 && gn_utf8_valid(raw, len) && !memchr(raw, 0, len)) {
        json_error_t err;
        v = json_loadb((const char *)raw, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    }
    free(raw);
    return v;
}

/* The text after the first `pat` in `key`, up to its next occurrence
 * (Python's key.split(pat)[1]); NULL when `pat` does not occur twice-split. */
static const char *split1(const char *key, const char *pat, size_t *len)
{
    const char *p = strstr(key, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    const char *q = strstr(p, pat);
    *len = q ? (size_t)(q - p) : strlen(p);
    return p;
}

int gn_synapse_from_headers(const gn_syn_class_t *c, const gn_header_t *h, size_t n, json_t **out)
{
    *out = NULL;
    int rc = GN_ENOMEM;
    json_t *axon = json_object(), *dend = json_object(), *inputs = json_object();
    json_t *syn = json_object(), *tmp = NULL;
    /* first occurrence of the plain headers (Starlette's Headers.get) */
    static const char *const PLAIN[5] = {"timeout", "name", "header_size", "total_size",
                                         "computed_body_hash"};
    json_t *plain[5] = {0};
    char *key = NULL;
    if (!axon || !dend || !inputs || !syn)
        goto done;
    for (size_t i = 0; i < n; i++) {
        free(key);
        key = latin1_to_utf8(h[i].name, h[i].name_len, NULL);
        if (!key)
            goto done;
        for (char *p = key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        size_t vl;
        char *val = latin1_to_utf8(h[i].value, h[i].value_len, &vl);
        if (!val)
            goto done;
        const char *nk;
        size_t nkl;
        int set = 0;
        if (strstr(key, "bt_header_axon_")) {
            nk = split1(key, "bt_header_axon_", &nkl);
            set = json_object_setn_new(axon, nk, nkl, json_stringn(val, vl));
        } else if (strstr(key, "bt_header_dendrite_")) {
            nk = split1(key, "bt_header_dendrite_", &nkl);
            set = json_object_setn_new(dend, nk, nkl, json_stringn(val, vl));
        } else if (strstr(key, "bt_header_input_obj")) {
            nk = split1(key, "bt_header_input_obj_", &nkl);
            bool taken = !nk || (nkl == 4 && !memcmp(nk, "axon", 4)) ||
                         (nkl == 8 && !memcmp(nk, "dendrite", 8)) ||
                         json_object_getn(inputs, nk, nkl);
            json_t *v = taken ? NULL : input_obj_value(val, vl);
            if (v)
                set = json_object_setn_new(inputs, nk, nkl, v);
        } else {
            for (size_t k = 0; k < 5; k++)
                if (!plain[k] && !strcmp(key, PLAIN[k]))
                    set = (plain[k] = json_stringn(val, vl)) ? 0 : -1;
        }
        free(val);
        if (set < 0)
            goto done;
    }
    rc = set_new(syn, "name", json_string(c->name));
    if (!rc)
        rc = plain[0] ? cast_float(plain[0], &tmp) : put_new(&tmp, json_null());
    if (!rc)
        rc = set_new(syn, "timeout", tmp);
    if (!rc)
        rc = plain[3] ? cast_int(plain[3], &tmp) : put_new(&tmp, json_null());
    if (!rc)
        rc = set_new(syn, "total_size", tmp);
    if (!rc)
        rc = plain[2] ? cast_int(plain[2], &tmp) : put_new(&tmp, json_null());
    if (!rc)
        rc = set_new(syn, "header_size", tmp);
    if (!rc && !(rc = terminal_build(dend, &tmp)))
        rc = set_new(syn, "dendrite", tmp);
    if (!rc && !(rc = terminal_build(axon, &tmp)))
        rc = set_new(syn, "axon", tmp);
    if (!rc)
        rc = set_new(syn, "computed_body_hash", plain[4] ? json_incref(plain[4]) : json_null());
    if (!rc)
        rc = class_fields(c, inputs, syn);
done:
    free(key);
    for (size_t k = 0; k < 5; k++)
        json_decref(plain[k]);
    json_decref(axon);
    json_decref(dend);
    json_decref(inputs);
    if (rc < 0) {
        json_decref(syn);
        return rc == GN_ENOMEM ? rc : GN_EINVAL;
    }
    *out = syn;
    return 0;
}

int gn_synapse_from_body(const gn_syn_class_t *c, const uint8_t *body, size_t len, json_t **out)
{
    *out = NULL;
    if (!len)
        return GN_EINVAL; /* FastAPI skips an empty body; json.loads("") then fails: 500 */
    if (len >= 3 && !memcmp(body, "\xef\xbb\xbf", 3))
        return GN_EINVAL; /* FastAPI takes a BOM, the SDK's json.loads(body.decode()) not */
    json_error_t err;
    json_t *in = memchr(body, 0, len)
                     ? NULL /* never JSON; jansson would stop there */
                     : json_loadb((const char *)body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!in)
        return GN_EJSON;
    int rc = gn_synapse_from_json(c, in, out);
    json_decref(in);
    return rc;
}

int gn_synapse_from_json(const gn_syn_class_t *c, const json_t *in, json_t **out)
{
    *out = NULL;
    if (!json_is_object(in))
        return GN_EINVAL;
    json_t *syn = json_object(), *tmp = NULL, *v;
    int rc = syn ? set_new(syn, "name", json_string(c->name)) : GN_ENOMEM;
    if (!rc)
        rc = (v = json_object_get(in, "timeout")) ? cast_float(v, &tmp)
                                                  : put_new(&tmp, json_real(12.0));
    if (!rc)
        rc = set_new(syn, "timeout", tmp);
    if (!rc)
        rc = (v = json_object_get(in, "total_size")) ? cast_int(v, &tmp)
                                                     : put_new(&tmp, json_integer(0));
    if (!rc)
        rc = set_new(syn, "total_size", tmp);
    if (!rc)
        rc = (v = json_object_get(in, "header_size")) ? cast_int(v, &tmp)
                                                      : put_new(&tmp, json_integer(0));
    if (!rc)
        rc = set_new(syn, "header_size", tmp);
    /* A null dendrite/axon becomes an all-null TerminalInfo (pydantic
     * keeps None), so the object always has both: see the header. */
    if (!rc && !(rc = terminal_build(json_object_get(in, "dendrite"), &tmp)))
        rc = set_new(syn, "dendrite", tmp);
    if (!rc && !(rc = terminal_build(json_object_get(in, "axon"), &tmp)))
        rc = set_new(syn, "axon", tmp);
    if (!rc)
        rc = (v = json_object_get(in, "computed_body_hash")) ? opt_str(v, &tmp)
                                                             : put_new(&tmp, json_string(""));
    if (!rc)
        rc = set_new(syn, "computed_body_hash", tmp);
    if (!rc)
        rc = class_fields(c, in, syn);
    if (rc < 0) {
        json_decref(syn);
        return rc == GN_ENOMEM ? rc : GN_EINVAL;
    }
    *out = syn;
    return 0;
}

/* ---- hashing, the message ---- */

static void sha3_hex(const char *s, size_t n, char out[65])
{
    uint8_t d[32];
    gn_sha3_256((const uint8_t *)s, n, d);
    gn_hex_encode(d, 32, 0, out, 65);
}

int gn_synapse_body_hash(const gn_syn_class_t *c, const json_t *syn, char out[65])
{
    sbuf_t parts = {0};
    for (size_t i = 0; i < c->n_fields; i++) {
        if (!c->fields[i].hashed)
            continue;
        sbuf_t s = {0};
        py_value(&s, json_object_get(syn, c->fields[i].name), c->fields[i].type, true);
        char h[65];
        if (!s.oom)
            sha3_hex(s.p ? s.p : "", s.n, h);
        bool oom = s.oom;
        free(s.p);
        if (oom) {
            free(parts.p);
            return GN_ENOMEM;
        }
        sb_put(&parts, h, 64);
    }
    if (parts.oom) {
        free(parts.p);
        return GN_ENOMEM;
    }
    if (parts.n == 0) /* nothing hashed, the usual case: H("") is a constant */
        memcpy(out, GN_SYN_EMPTY_HASH, 65);
    else
        sha3_hex(parts.p, parts.n, out);
    free(parts.p);
    return 0;
}

int gn_synapse_message(uint64_t nonce, const char *dendrite_hotkey, const char *axon_hotkey,
                       const char *uuid, const char *body_hash, char *out, size_t cap)
{
    int k = snprintf(out, cap, "%llu.%s.%s.%s.%s", (unsigned long long)nonce,
                     dendrite_hotkey ? dendrite_hotkey : "None", axon_hotkey ? axon_hotkey : "None",
                     uuid ? uuid : "None", body_hash ? body_hash : "None");
    if (k < 0)
        return GN_EINVAL;
    if ((size_t)k >= cap)
        return GN_ENOSPC;
    return k;
}

/* ---- verification (§4.3) ---- */

#define V_7_2_0          7002000
#define ALLOWED_DELTA_NS 4000000000LL
#define NS_PER_S         1000000000.0

/* nonce <= w, exactly, as Python compares an int with a float. */
static bool int_le_double(json_int_t n, double w)
{
    if (isnan(w))
        return false;
    if (w >= 9223372036854775808.0)
        return true;
    if (w < -9223372036854775808.0)
        return false;
    return n <= (json_int_t)floor(w);
}

/* The message fields as f-string text: str() of the value, None for null. */
static void msg_part(sbuf_t *b, const json_t *v)
{
    py_value(b, v, GN_SYN_ANY, true);
}

static void fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k >= cap) { /* cut at a UTF-8 boundary */
        size_t m = cap - 1;
        while (m > 0 && ((unsigned char)err[m] & 0xC0) == 0x80)
            m--;
        err[m] = 0;
    }
}

/* Rust's {:?} of a char (hex's InvalidHexCharacter), for the byte the hex
 * crate read: ASCII as itself, escapes as Rust writes them. */
static void rust_char_debug(unsigned char c, char *out, size_t cap)
{
    if (c == '\'')
        snprintf(out, cap, "'\\''");
    else if (c == '\\')
        snprintf(out, cap, "'\\\\'");
    else if (c == '\n')
        snprintf(out, cap, "'\\n'");
    else if (c == '\r')
        snprintf(out, cap, "'\\r'");
    else if (c == '\t')
        snprintf(out, cap, "'\\t'");
    else if (c == 0)
        snprintf(out, cap, "'\\0'");
    else if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0xAD)
        snprintf(out, cap, "'\\u{%x}'", c);
    else if (c < 0x80)
        snprintf(out, cap, "'%c'", c);
    else /* a latin-1 letter, as UTF-8 */
        snprintf(out, cap, "'%c%c'", (char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F)));
}

/* sp_core's from_ss58check for a 32-byte key, its checks in its order;
 * NULL when the address is good, else sp_core's PublicError text. */
static const char *ss58_check(const char *s, size_t n, uint8_t pub[32], uint16_t *fmt)
{
    static const char BAD58[] = "Base 58 requirement is violated", LEN[] = "Length is bad";
    static const char ALPHABET[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    if (n > 64) { /* > 36 bytes for sure; base58 decoding is quadratic */
        for (size_t i = 0; i < n; i++)
            if (!s[i] || !strchr(ALPHABET, s[i]))
                return BAD58;
        return LEN;
    }
    uint8_t raw[64];
    size_t len = 0;
    int rc = gn_base58_decode(s, n, raw, sizeof(raw), &len, NULL);
    if (rc == GN_EBASE58)
        return BAD58;
    if (rc < 0 || len < 2)
        return LEN;
    if (raw[0] >= 128)
        return "Invalid SS58 prefix byte.";
    if (len != (raw[0] < 64 ? 1u : 2u) + 32 + 2)
        return LEN;
    rc = gn_ss58_decode_account(s, n, pub, fmt);
    switch (rc) {
    case 0: return NULL;
    case GN_EBASE58: return BAD58;
    case GN_ESS58CHECKSUM: return "Invalid checksum";
    case GN_ESS58PREFIX: return "Invalid SS58 prefix byte.";
    case GN_ESS58RESERVED: return "Invalid SS58 format.";
    default: return LEN;
    }
}

int gn_synapse_verify(const json_t *hdr_obj, const char *own_hotkey, uint64_t now_ns,
                      const uint64_t *last_nonce, uint64_t *nonce, char *err, size_t cap)
{
    if (err && cap)
        err[0] = 0;
    const json_t *d = json_object_get(hdr_obj, "dendrite");
    if (!json_is_object(d)) {
        fail(err, cap, "Synapse Dendrite is None");
        return GN_EBADSIG;
    }
    /* 1. the caller's key: Keypair(ss58_address=hotkey) */
    const json_t *hk = json_object_get(d, "hotkey");
    if (!json_is_string(hk)) {
        fail(err, cap, "No SS58 formatted address or public key provided.");
        return GN_EBADSIG;
    }
    uint8_t pub[32];
    uint16_t fmt = 0;
    const char *bad = ss58_check(json_string_value(hk), json_string_length(hk), pub, &fmt);
    if (bad) {
        fail(err, cap, "Invalid SS58 address: %s", bad);
        return GN_EBADSIG;
    }
    if (fmt != GN_SS58_BITTENSOR) { /* Python takes any registered format; §8.5: 42 */
        fail(err, cap, "Invalid SS58 address: Disallowed SS58 Address Format for this datatype.");
        return GN_EBADSIG;
    }
    /* 2. the message, from the headers and our own hotkey */
    sbuf_t m = {0};
    const json_t *jn = json_object_get(d, "nonce");
    msg_part(&m, jn);
    sb_putc(&m, '.');
    msg_part(&m, hk);
    sb_putc(&m, '.');
    sb_puts(&m, own_hotkey ? own_hotkey : "None");
    sb_putc(&m, '.');
    msg_part(&m, json_object_get(d, "uuid"));
    sb_putc(&m, '.');
    msg_part(&m, json_object_get(hdr_obj, "computed_body_hash"));
    if (m.oom) {
        free(m.p);
        fail(err, cap, "out of memory");
        return GN_ENOMEM;
    }
    int rc = GN_EBADSIG;
    /* 3. nonce */
    if (!json_is_integer(jn)) {
        fail(err, cap, "Missing Nonce");
        goto out;
    }
    json_int_t n = json_integer_value(jn);
    const json_t *ver = json_object_get(d, "version");
    if (json_is_integer(ver) && json_integer_value(ver) >= V_7_2_0) {
        /* 4. the window, as Python computes it: int arithmetic when the
         * timeout is None or zero, else int - float in doubles */
        const json_t *tj = json_object_get(hdr_obj, "timeout");
        double t = json_is_number(tj) ? json_number_value(tj) : 0.0;
        json_int_t now = (json_int_t)now_ns;
        bool old;
        if (t == 0.0)
            old = n <= now - ALLOWED_DELTA_NS;
        else
            old = int_le_double(n, (double)(now - ALLOWED_DELTA_NS) - t * NS_PER_S);
        if (!last_nonce && old) {
            double allowed = t == 0.0 ? (double)ALLOWED_DELTA_NS / NS_PER_S
                                      : ((double)ALLOWED_DELTA_NS + t * NS_PER_S) / NS_PER_S;
            long double diff = (long double)now - (long double)n;
            double diff_s = (diff <= 9007199254740992.0L && diff >= -9007199254740992.0L)
                                ? (double)diff / NS_PER_S
                                : (double)(diff / 1000000000.0L);
            fail(err, cap,
                 "Nonce is too old: acceptable delta is %.2f seconds but request was %.2f "
                 "seconds old",
                 allowed, diff_s);
            goto out;
        }
    }
    /* 5. strictly newer than the last accepted one */
    if (last_nonce && (n < 0 || (uint64_t)n <= *last_nonce)) {
        fail(err, cap, "Nonce is too old, a newer one was last processed");
        goto out;
    }
    if (n < 0) { /* legal for a pre-7.2 caller in Python; no uint64 to store */
        fail(err, cap, "Nonce is negative");
        goto out;
    }
    /* 6. the signature: always required (unlike v10.0-10.4) */
    const json_t *sj = json_object_get(d, "signature");
    const char *sig = json_string_value(sj);
    size_t sl = json_string_length(sj);
    if (!sig || !sl) {
        fail(err, cap, "Missing signature");
        goto out;
    }
    if (sl < 2 || sig[0] != '0' || sig[1] != 'x') {
        fail(err, cap, "Invalid signature format. Expected hex string.");
        goto out;
    }
    const char *hx = sig;
    size_t hl = sl;
    while (hl >= 2 && hx[0] == '0' && hx[1] == 'x') { /* Rust's trim_start_matches("0x") */
        hx += 2;
        hl -= 2;
    }
    if (hl % 2) {
        fail(err, cap, "Invalid hex string: OddLength");
        goto out;
    }
    for (size_t i = 0; i < hl; i++) {
        if (!isxdigit((unsigned char)hx[i])) {
            char cd[16];
            rust_char_debug((unsigned char)hx[i], cd, sizeof(cd));
            fail(err, cap, "Invalid hex string: InvalidHexCharacter { c: %s, index: %zu }", cd, i);
            goto out;
        }
    }
    uint8_t sb[64];
    if (hl != 128 || gn_hex_decode_exact(hx, hl, sb, 64) < 0) {
        fail(err, cap, "Invalid signature");
        goto out;
    }
    if (gn_sr25519_verify(pub, (const uint8_t *)m.p, m.n, sb) != 0) {
        sbuf_t w = {0};
        sb_puts(&w, "<Bytes>");
        sb_put(&w, m.p, m.n);
        sb_puts(&w, "</Bytes>");
        bool ok = !w.oom && gn_sr25519_verify(pub, (const uint8_t *)w.p, w.n, sb) == 0;
        free(w.p);
        if (!ok) {
            fail(err, cap, "Signature mismatch with %s and %s", m.p, sig);
            goto out;
        }
    }
    *nonce = (uint64_t)n;
    rc = 0;
out:
    free(m.p);
    return rc;
}

/* ---- JSON texts ---- */

/* What json_emit can also record (NULL: nothing): the compact form's
 * length minus the emitted form's, and where the top-level object's
 * "total_size" value lies in the emitted text. */
typedef struct emit_info {
    ptrdiff_t delta;
    size_t ts_off, ts_len;
} emit_info_t;

static size_t cp_len(uint32_t c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

static void json_str(sbuf_t *b, const char *s, size_t n, bool ascii, emit_info_t *info)
{
    sb_putc(b, '"');
    for (size_t i = 0; i < n;) {
        uint32_t c = utf8_next(s, n, &i);
        switch (c) {
        case '"': sb_puts(b, "\\\""); continue;
        case '\\': sb_puts(b, "\\\\"); continue;
        case '\b': sb_puts(b, "\\b"); continue;
        case '\f': sb_puts(b, "\\f"); continue;
        case '\n': sb_puts(b, "\\n"); continue;
        case '\r': sb_puts(b, "\\r"); continue;
        case '\t': sb_puts(b, "\\t"); continue;
        default: break;
        }
        if (c < 0x20 || (ascii && c >= 0x7F)) {
            if (c >= 0x10000) {
                uint32_t v = c - 0x10000;
                sb_printf(b, "\\u%04x\\u%04x", 0xD800 | (v >> 10), 0xDC00 | (v & 0x3FF));
                if (info)
                    info->delta += (ptrdiff_t)cp_len(c) - 12;
            } else {
                sb_printf(b, "\\u%04x", (unsigned)c);
                if (info && c >= 0x20)
                    info->delta += (ptrdiff_t)cp_len(c) - 6;
            }
        } else {
            sb_put_cp(b, c);
        }
    }
    sb_putc(b, '"');
}

static void json_emit(sbuf_t *b, const json_t *v, bool py, emit_info_t *info, bool top)
{
    switch (json_typeof(v)) {
    case JSON_STRING: json_str(b, json_string_value(v), json_string_length(v), py, info); break;
    case JSON_INTEGER: sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: put_float(b, json_real_value(v)); break;
    case JSON_TRUE: sb_puts(b, "true"); break;
    case JSON_FALSE: sb_puts(b, "false"); break;
    case JSON_NULL: sb_puts(b, "null"); break;
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        sb_putc(b, '[');
        json_array_foreach (v, i, e) {
            if (i) {
                sb_puts(b, py ? ", " : ",");
                if (info && py)
                    info->delta--;
            }
            json_emit(b, e, py, info, false);
        }
        sb_putc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        const char *k;
        size_t kl;
        json_t *e;
        bool first = true;
        sb_putc(b, '{');
        json_object_keylen_foreach((json_t *)v, k, kl, e)
        {
            if (!first) {
                sb_puts(b, py ? ", " : ",");
                if (info && py)
                    info->delta--;
            }
            first = false;
            json_str(b, k, kl, py, info);
            sb_puts(b, py ? ": " : ":");
            if (info && py)
                info->delta--;
            size_t at = b->n;
            json_emit(b, e, py, info, false);
            if (info && top && kl == 10 && !memcmp(k, "total_size", 10)) {
                info->ts_off = at;
                info->ts_len = b->n - at;
            }
        }
        sb_putc(b, '}');
        break;
    }
    }
}

static char *json_text(const json_t *v, bool py)
{
    if (!v)
        return NULL;
    sbuf_t b = {0};
    json_emit(&b, v, py, NULL, true);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

char *gn_synapse_json_compact(const json_t *v)
{
    return json_text(v, false);
}

char *gn_synapse_json_python(const json_t *v)
{
    return json_text(v, true);
}

char *gn_synapse_json_python_ex(const json_t *v, size_t *len, size_t *compact_len, size_t *ts_off,
                                size_t *ts_len)
{
    if (!v)
        return NULL;
    sbuf_t b = {0};
    emit_info_t info = {0, 0, 0};
    json_emit(&b, v, true, &info, true);
    if (b.oom || !b.p) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.n;
    if (compact_len)
        *compact_len = (size_t)((ptrdiff_t)b.n + info.delta);
    if (ts_off)
        *ts_off = info.ts_off;
    if (ts_len)
        *ts_len = info.ts_len;
    return b.p;
}

/* ---- the header set (§2.3, §4.5, §4.6) ---- */

typedef struct hdr_list {
    sbuf_t text;      /* names and values, each NUL-terminated */
    size_t (*off)[2]; /* where each name and value starts */
    size_t n, cap;
    bool oom;
} hdr_list_t;

/* A header value from UTF-8 text as Starlette writes it: latin-1 bytes when
 * every character fits (byte-exact with a Python axon), else the UTF-8 as
 * is (Python would fail to encode it). Control characters, which h11
 * refuses and which would split the header, become spaces. */
static void hdr_add(hdr_list_t *l, const char *name, const char *val, size_t vn)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        size_t(*off)[2] = realloc(l->off, cap * sizeof(*off));
        if (!off) {
            l->oom = true;
            return;
        }
        l->off = off;
        l->cap = cap;
    }
    l->off[l->n][0] = l->text.n;
    sb_put(&l->text, name, strlen(name) + 1);
    l->off[l->n][1] = l->text.n;
    bool latin1 = true;
    for (size_t i = 0; i < vn;)
        if (utf8_next(val, vn, &i) > 0xFF)
            latin1 = false;
    for (size_t i = 0; i < vn;) {
        size_t j = i;
        uint32_t c = utf8_next(val, vn, &i);
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            sb_putc(&l->text, ' ');
        else if (latin1 && c >= 0x80)
            sb_putc(&l->text, (char)c);
        else
            sb_put(&l->text, val + j, i - j);
    }
    sb_putc(&l->text, 0);
    l->n++;
}

static void hdr_add_value(hdr_list_t *l, const char *name, const json_t *v, gn_syn_type_t t)
{
    sbuf_t s = {0};
    py_value(&s, v, t, true);
    if (s.oom)
        l->oom = true;
    else
        hdr_add(l, name, s.p ? s.p : "", s.n);
    free(s.p);
}

/* json.dumps of type(value)() (§2.3's table), base64. */
static void hdr_add_input_obj(hdr_list_t *l, const gn_syn_field_t *f, const json_t *v)
{
    char *own = NULL;
    const char *js;
    switch (json_typeof(v)) {
    case JSON_STRING: js = "\"\""; break;
    case JSON_INTEGER: js = f->type == GN_SYN_FLOAT ? "0.0" : "0"; break;
    case JSON_REAL: js = "0.0"; break;
    case JSON_TRUE:
    case JSON_FALSE: js = "false"; break;
    case JSON_ARRAY: js = "[]"; break;
    default:
        /* a dict: {}; a nested object Python cannot send at all (§2.3):
         * the value itself, which validates as its type */
        if (f->type == GN_SYN_DICT) {
            js = "{}";
        } else {
            own = json_text(v, false);
            if (!own) {
                l->oom = true;
                return;
            }
            js = own;
        }
        break;
    }
    size_t jl = strlen(js);
    size_t bl = sodium_base64_encoded_len(jl, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(bl);
    char name[256];
    snprintf(name, sizeof(name), "bt_header_input_obj_%s", f->name);
    if (b64) {
        sodium_bin2base64(b64, bl, (const unsigned char *)js, jl, sodium_base64_VARIANT_ORIGINAL);
        hdr_add(l, name, b64, strlen(b64));
    } else {
        l->oom = true;
    }
    free(b64);
    free(own);
}

int gn_synapse_headers(const gn_syn_class_t *c, const json_t *syn, gn_header_t **out, size_t *n)
{
    return gn_synapse_headers_ex(c, syn, NULL, NULL, out, n);
}

int gn_synapse_headers_ex(const gn_syn_class_t *c, const json_t *syn, const char *body_hash,
                          const size_t *total_size, gn_header_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!json_is_object(syn))
        return GN_EINVAL;
    hdr_list_t l = {0};
    const json_t *nm = json_object_get(syn, "name");
    if (json_is_string(nm))
        hdr_add(&l, "name", json_string_value(nm), json_string_length(nm));
    else
        hdr_add(&l, "name", c->name, strlen(c->name));
    hdr_add_value(&l, "timeout", json_object_get(syn, "timeout"), GN_SYN_FLOAT);
    static const char *const SIDES[2] = {"axon", "dendrite"};
    for (int s = 0; s < 2; s++) {
        const json_t *t = json_object_get(syn, SIDES[s]);
        if (!json_is_object(t))
            continue;
        for (size_t i = 0; i < 10; i++) {
            const json_t *v = json_object_get(t, TERM[i].name);
            if (!v || json_is_null(v))
                continue;
            char name[64];
            snprintf(name, sizeof(name), "bt_header_%s_%s", SIDES[s], TERM[i].name);
            hdr_add_value(&l, name, v, TERM[i].kind == TK_FLOAT ? GN_SYN_FLOAT : GN_SYN_ANY);
        }
    }
    for (size_t i = 0; i < c->n_fields; i++) {
        const json_t *v = json_object_get(syn, c->fields[i].name);
        if (c->fields[i].required && v && !json_is_null(v))
            hdr_add_input_obj(&l, &c->fields[i], v);
    }
    /* CPython object sizes in the SDK (§2.5): here the bytes of the header
     * lines so far and of the compact body */
    size_t hsize = 0;
    for (size_t i = 0; i < l.n && !l.oom && !l.text.oom; i++)
        hsize += strlen(l.text.p + l.off[i][0]) + strlen(l.text.p + l.off[i][1]) + 4;
    char num[32];
    snprintf(num, sizeof(num), "%zu", hsize);
    hdr_add(&l, "header_size", num, strlen(num));
    if (total_size) {
        snprintf(num, sizeof(num), "%zu", *total_size);
    } else {
        char *body = json_text(syn, false);
        if (!body)
            l.oom = true;
        snprintf(num, sizeof(num), "%zu", body ? strlen(body) : 0);
        free(body);
    }
    hdr_add(&l, "total_size", num, strlen(num));
    char hash[65];
    int rc = 0;
    if (body_hash)
        snprintf(hash, sizeof(hash), "%s", body_hash);
    else
        rc = gn_synapse_body_hash(c, syn, hash);
    if (rc < 0)
        l.oom = true;
    else
        hdr_add(&l, "computed_body_hash", hash, strlen(hash));
    if (l.oom || l.text.oom) {
        free(l.text.p);
        free(l.off);
        return GN_ENOMEM;
    }
    size_t arr = l.n * sizeof(gn_header_t);
    gn_header_t *hs = malloc(arr + l.text.n);
    if (!hs) {
        free(l.text.p);
        free(l.off);
        return GN_ENOMEM;
    }
    char *txt = (char *)hs + arr;
    memcpy(txt, l.text.p, l.text.n);
    for (size_t i = 0; i < l.n; i++) {
        hs[i].name = txt + l.off[i][0];
        hs[i].name_len = strlen(hs[i].name);
        hs[i].value = txt + l.off[i][1];
        hs[i].value_len = strlen(hs[i].value);
    }
    free(l.text.p);
    free(l.off);
    *out = hs;
    *n = l.n;
    return 0;
}

/* ---- status messages (§4.4) ---- */

void gn_syn_msg_400(const gn_header_t *h, size_t n, const char *cls, char *out, size_t cap)
{
    /* f"... {request.headers} ...": Starlette's Headers repr, a dict of the
     * latin-1 texts, or the raw byte pairs when a name repeats */
    sbuf_t b = {0};
    sb_puts(&b, "Improperly formatted request. Could not parse headers Headers(");
    /* a repeated name (h11 lower-cases them): a set of the names seen */
    bool dup = false;
    json_t *seen = json_object();
    if (!seen)
        b.oom = true;
    for (size_t i = 0; i < n && seen && !dup; i++) {
        char *k = malloc(h[i].name_len + 1);
        if (!k) {
            b.oom = true;
            break;
        }
        for (size_t j = 0; j < h[i].name_len; j++)
            k[j] = (char)tolower((unsigned char)h[i].name[j]);
        dup = json_object_getn(seen, k, h[i].name_len) != NULL;
        if (!dup && json_object_setn_new_nocheck(seen, k, h[i].name_len, json_true()) < 0)
            b.oom = true;
        free(k);
    }
    json_decref(seen);
    sb_puts(&b, dup ? "raw=[" : "{");
    for (size_t i = 0; i < n; i++) {
        char *name = malloc(h[i].name_len + 1);
        if (!name) {
            b.oom = true;
            break;
        }
        for (size_t k = 0; k < h[i].name_len; k++)
            name[k] = (char)tolower((unsigned char)h[i].name[k]);
        name[h[i].name_len] = 0;
        if (i)
            sb_puts(&b, ", ");
        if (dup) {
            sb_putc(&b, '(');
            repr_bytes(&b, name, h[i].name_len);
            sb_puts(&b, ", ");
            repr_bytes(&b, h[i].value, h[i].value_len);
            sb_putc(&b, ')');
        } else {
            size_t kl, vl;
            char *k8 = latin1_to_utf8(name, h[i].name_len, &kl);
            char *v8 = latin1_to_utf8(h[i].value, h[i].value_len, &vl);
            if (k8 && v8) {
                repr_str(&b, k8, kl);
                sb_puts(&b, ": ");
                repr_str(&b, v8, vl);
            } else {
                b.oom = true;
            }
            free(k8);
            free(v8);
        }
        free(name);
    }
    sb_puts(&b, dup ? "])" : "})");
    sb_printf(&b, " into synapse of type %s.", cls ? cls : "None");
    copy_out(&b, out, cap);
    free(b.p);
}

void gn_syn_msg_404(const char *name, const char *const *available, size_t n, char *out, size_t cap)
{
    sbuf_t b = {0};
    sb_printf(&b, "Synapse name '%s' not found. Available synapses [", name ? name : "");
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_puts(&b, ", ");
        repr_str(&b, available[i], strlen(available[i]));
    }
    sb_putc(&b, ']');
    copy_out(&b, out, cap);
    free(b.p);
}

void gn_syn_msg_403(const char *reason, char *out, size_t cap)
{
    sbuf_t b = {0};
    sb_printf(&b, "Forbidden. Key is blacklisted: %s.", reason ? reason : "None");
    copy_out(&b, out, cap);
    free(b.p);
}

void gn_syn_msg_401(const char *why, char *out, size_t cap)
{
    sbuf_t b = {0};
    sb_printf(&b, "Not Verified with error: %s", why ? why : "");
    copy_out(&b, out, cap);
    free(b.p);
}

void gn_uuid4_text(const uint8_t rnd[16], char out[37])
{
    uint8_t u[16];
    memcpy(u, rnd, 16);
    u[6] = (uint8_t)((u[6] & 0x0F) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    char hex[33];
    gn_hex_encode(u, 16, 0, hex, sizeof(hex));
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

void gn_syn_msg_500(const uint8_t rnd[16], char *out, size_t cap)
{
    char u[37];
    gn_uuid4_text(rnd, u);
    sbuf_t b = {0};
    sb_printf(&b, "Internal Server Error #%s", u);
    copy_out(&b, out, cap);
    free(b.p);
}
