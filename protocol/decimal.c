#include "ganglion/decimal.h"
#include "ganglion/error.h"

#include <string.h>

#define DEC_MAX_BYTES 64

/* Divide the little-endian magnitude in place by 10; returns the remainder. */
static unsigned divmod10(uint8_t *mag, size_t n)
{
    unsigned rem = 0;
    for (size_t i = n; i > 0; i--) {
        unsigned cur = rem << 8 | mag[i - 1];
        mag[i - 1] = (uint8_t)(cur / 10);
        rem = cur % 10;
    }
    return rem;
}

static bool is_zero(const uint8_t *mag, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (mag[i])
            return false;
    return true;
}

/* Two's complement negation in place. */
static void negate(uint8_t *v, size_t n)
{
    unsigned carry = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned x = (uint8_t)~v[i] + carry;
        v[i] = (uint8_t)x;
        carry = x >> 8;
    }
}

int gn_dec_from_le(const uint8_t *le, size_t n, bool is_signed, char *out, size_t cap)
{
    if (n == 0 || n > DEC_MAX_BYTES || cap == 0)
        return GN_EINVAL;
    uint8_t mag[DEC_MAX_BYTES];
    memcpy(mag, le, n);
    bool neg = is_signed && (le[n - 1] & 0x80);
    if (neg)
        negate(mag, n);
    char tmp[GN_DEC_MAX(DEC_MAX_BYTES)];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + divmod10(mag, n));
    } while (!is_zero(mag, n));
    if (k + neg + 1 > cap)
        return GN_ENOSPC;
    char *o = out;
    if (neg)
        *o++ = '-';
    while (k > 0)
        *o++ = tmp[--k];
    *o = '\0';
    return 0;
}

int gn_dec_to_le(const char *s, size_t len, bool is_signed, uint8_t *le, size_t n)
{
    if (n == 0 || n > DEC_MAX_BYTES || (s == NULL && len != 0))
        return GN_EINVAL;
    bool neg = false;
    size_t i = 0;
    if (len > 0 && s[0] == '-') {
        if (!is_signed)
            return GN_ERANGE;
        neg = true;
        i = 1;
    }
    if (i == len)
        return GN_EDECIMAL;
    uint8_t mag[DEC_MAX_BYTES + 1] = {0}; /* one spare byte catches overflow */
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return GN_EDECIMAL;
        unsigned carry = (unsigned)(s[i] - '0');
        for (size_t b = 0; b <= n; b++) {
            unsigned x = mag[b] * 10u + carry;
            mag[b] = (uint8_t)x;
            carry = x >> 8;
        }
        if (mag[n] != 0 || carry != 0)
            return GN_ERANGE;
    }
    if (is_signed) {
        /* magnitude limit: 2^(8n-1) for negatives, 2^(8n-1)-1 otherwise */
        bool top = mag[n - 1] & 0x80;
        if (top) {
            bool exact_min = mag[n - 1] == 0x80 && is_zero(mag, n - 1);
            if (!(neg && exact_min))
                return GN_ERANGE;
        }
        if (neg)
            negate(mag, n);
    }
    memcpy(le, mag, n);
    return 0;
}

int gn_dec_from_u128(gn_u128_t v, char *out, size_t cap)
{
    uint8_t le[16];
    for (int i = 0; i < 16; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    return gn_dec_from_le(le, 16, false, out, cap);
}

int gn_dec_to_u128(const char *s, size_t len, gn_u128_t *v)
{
    uint8_t le[16];
    int rc = gn_dec_to_le(s, len, false, le, 16);
    if (rc < 0)
        return rc;
    gn_u128_t x = 0;
    for (int i = 15; i >= 0; i--)
        x = x << 8 | le[i];
    *v = x;
    return 0;
}
