#include "ganglion/base58.h"
#include "ganglion/error.h"

#include <string.h>

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static int digit_of(unsigned char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

int gn_base58_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    if (in == NULL && len)
        return GN_EINVAL;
    size_t zeros = 0;
    while (zeros < len && in[zeros] == 0)
        zeros++;
    /* base58 digits, least significant first; log(256)/log(58) < 1.38 */
    size_t max = (len - zeros) * 138 / 100 + 1;
    unsigned char digits[512];
    if (max > sizeof(digits))
        return GN_EINVAL;
    size_t nd = 0;
    for (size_t i = zeros; i < len; i++) {
        unsigned carry = in[i];
        for (size_t k = 0; k < nd; k++) {
            carry += (unsigned)digits[k] << 8;
            digits[k] = (unsigned char)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            digits[nd++] = (unsigned char)(carry % 58);
            carry /= 58;
        }
    }
    if (zeros + nd + 1 > cap)
        return GN_ENOSPC;
    char *o = out;
    for (size_t i = 0; i < zeros; i++)
        *o++ = '1';
    while (nd > 0)
        *o++ = alphabet[digits[--nd]];
    *o = '\0';
    return 0;
}

int gn_base58_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                     size_t *bad_at)
{
    if (in == NULL && len)
        return GN_EINVAL;
    size_t zeros = 0;
    while (zeros < len && in[zeros] == '1')
        zeros++;
    /* bytes, least significant first */
    uint8_t bytes[512];
    size_t nb = 0;
    for (size_t i = zeros; i < len; i++) {
        int d = digit_of((unsigned char)in[i]);
        if (d < 0) {
            if (bad_at)
                *bad_at = i;
            return GN_EBASE58;
        }
        unsigned carry = (unsigned)d;
        for (size_t k = 0; k < nb; k++) {
            carry += bytes[k] * 58u;
            bytes[k] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry) {
            if (nb == sizeof(bytes))
                return GN_ENOSPC;
            bytes[nb++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    if (zeros + nb > cap)
        return GN_ENOSPC;
    memset(out, 0, zeros);
    for (size_t i = 0; i < nb; i++)
        out[zeros + i] = bytes[nb - 1 - i];
    *out_len = zeros + nb;
    return 0;
}
