#include "ganglion/hex.h"
#include "ganglion/error.h"

static int nibble(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t skip_prefix(const char *hex, size_t hexlen)
{
    if (hexlen >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        return 2;
    return 0;
}

int gn_hex_decoded_len(const char *hex, size_t hexlen, size_t *out_len)
{
    if (hex == NULL && hexlen != 0)
        return GN_EINVAL;
    size_t digits = hexlen - skip_prefix(hex, hexlen);
    if (digits % 2 != 0)
        return GN_EHEXLEN;
    *out_len = digits / 2;
    return 0;
}

int gn_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n;
    int rc = gn_hex_decoded_len(hex, hexlen, &n);
    if (rc < 0)
        return rc;
    if (n > cap)
        return GN_ENOSPC;
    const char *p = hex + skip_prefix(hex, hexlen);
    for (size_t i = 0; i < n; i++) {
        int hi = nibble((unsigned char)p[2 * i]);
        int lo = nibble((unsigned char)p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return GN_EHEXCHAR;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (out_len)
        *out_len = n;
    return 0;
}

int gn_hex_decode_exact(const char *hex, size_t hexlen, uint8_t *out, size_t n)
{
    size_t got;
    int rc = gn_hex_decoded_len(hex, hexlen, &got);
    if (rc < 0)
        return rc;
    if (got != n)
        return GN_EINVAL;
    return gn_hex_decode(hex, hexlen, out, n, &got);
}

int gn_hex_encode(const uint8_t *in, size_t len, int prefix, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    if (in == NULL && len != 0)
        return GN_EINVAL;
    if (len > (SIZE_MAX - 3) / 2 || cap < gn_hex_encoded_len(len, prefix) + 1)
        return GN_ENOSPC;
    char *o = out;
    if (prefix) {
        *o++ = '0';
        *o++ = 'x';
    }
    for (size_t i = 0; i < len; i++) {
        *o++ = digits[in[i] >> 4];
        *o++ = digits[in[i] & 15];
    }
    *o = '\0';
    return 0;
}
