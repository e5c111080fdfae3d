#include "ganglion/ss58.h"
#include "ganglion/base58.h"
#include "ganglion/error.h"
#include "ganglion/hashing.h"

#include <sodium.h>
#include <string.h>

/* prefix (2) + payload (33) + checksum (2) */
#define SS58_MAX_RAW 37

static int checksum_len(size_t payload_len)
{
    switch (payload_len) {
    case 32:
    case 33: return 2;
    case 1:
    case 2:
    case 4:
    case 8: return 1;
    default: return -1;
    }
}

static size_t put_prefix(uint16_t format, uint8_t *out)
{
    if (format < 64) {
        out[0] = (uint8_t)format;
        return 1;
    }
    out[0] = (uint8_t)(((format & 0xfc) >> 2) | 0x40);
    out[1] = (uint8_t)((format >> 8) | ((format & 3) << 6));
    return 2;
}

static void ss58_hash(const uint8_t *data, size_t len, uint8_t out[64])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 64);
    crypto_generichash_update(&st, (const uint8_t *)"SS58PRE", 7);
    crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, 64);
}

int gn_ss58_encode(const uint8_t *payload, size_t len, uint16_t format, char *out, size_t cap)
{
    if (format > GN_SS58_MAX_FORMAT)
        return GN_ERANGE;
    if (format == 46 || format == 47)
        return GN_ESS58RESERVED;
    int ck = checksum_len(len);
    if (ck < 0)
        return GN_ESS58LEN;
    uint8_t raw[SS58_MAX_RAW], hash[64];
    size_t n = put_prefix(format, raw);
    memcpy(raw + n, payload, len);
    n += len;
    ss58_hash(raw, n, hash);
    memcpy(raw + n, hash, (size_t)ck);
    n += (size_t)ck;
    return gn_base58_encode(raw, n, out, cap);
}

int gn_ss58_decode(const char *addr, size_t addrlen, uint8_t *payload, size_t cap, size_t *len,
                   uint16_t *format)
{
    if (addr == NULL && addrlen)
        return GN_EINVAL;
    /* bound the work before decoding anything: no valid address is longer */
    if (addrlen == 0 || addrlen > GN_SS58_ADDR_MAX - 1)
        return GN_ESS58LEN;
    uint8_t raw[SS58_MAX_RAW + 16];
    size_t n;
    int rc = gn_base58_decode(addr, addrlen, raw, sizeof(raw), &n, NULL);
    if (rc == GN_ENOSPC)
        return GN_ESS58LEN;
    if (rc < 0)
        return rc;
    if (n < 3)
        return GN_ESS58LEN;
    size_t plen;
    uint16_t fmt;
    if (raw[0] < 64) {
        fmt = raw[0];
        plen = 1;
    } else if (raw[0] < 128) {
        fmt = (uint16_t)(((raw[0] & 0x3f) << 2) | (raw[1] >> 6) | ((raw[1] & 0x3f) << 8));
        plen = 2;
    } else {
        return GN_ESS58PREFIX;
    }
    size_t rest = n - plen, body = 0;
    int ck = -1;
    /* the checksum length depends on the payload length it follows */
    for (int c = 1; c <= 2 && ck < 0; c++) {
        if (rest > (size_t)c && checksum_len(rest - (size_t)c) == c) {
            ck = c;
            body = rest - (size_t)c;
        }
    }
    if (ck < 0)
        return GN_ESS58LEN;
    uint8_t hash[64];
    ss58_hash(raw, plen + body, hash);
    if (sodium_memcmp(hash, raw + plen + body, (size_t)ck) != 0)
        return GN_ESS58CHECKSUM;
    if (fmt == 46 || fmt == 47)
        return GN_ESS58RESERVED;
    if (body > cap)
        return GN_ENOSPC;
    memcpy(payload, raw + plen, body);
    *len = body;
    if (format)
        *format = fmt;
    return 0;
}

int gn_ss58_decode_account(const char *addr, size_t addrlen, uint8_t account[32], uint16_t *format)
{
    uint8_t buf[33];
    size_t n;
    int rc = gn_ss58_decode(addr, addrlen, buf, sizeof(buf), &n, format);
    if (rc < 0)
        return rc;
    if (n != 32)
        return GN_ESS58LEN;
    memcpy(account, buf, 32);
    return 0;
}
