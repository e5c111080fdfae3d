/* libFuzzer target: SS58 decoding (with base58 and hex underneath).
 *
 * A string that decodes must encode back to exactly the same string (SS58 is
 * canonical); the same holds for base58 and lowercase hex. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "ganglion/base58.h"
#include "ganglion/hex.h"
#include "ganglion/ss58.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    uint8_t payload[33];
    size_t n;
    uint16_t fmt;
    if (gn_ss58_decode(s, size, payload, sizeof(payload), &n, &fmt) == 0) {
        char back[GN_SS58_ADDR_MAX];
        CHECK(gn_ss58_encode(payload, n, fmt, back, sizeof(back)) == 0);
        CHECK(strlen(back) == size && memcmp(back, s, size) == 0);
    }
    if (size <= 200) {
        uint8_t raw[256];
        if (gn_base58_decode(s, size, raw, sizeof(raw), &n, NULL) == 0) {
            char back[512];
            CHECK(gn_base58_encode(raw, n, back, sizeof(back)) == 0);
            CHECK(strlen(back) == size && memcmp(back, s, size) == 0);
        }
    }
    uint8_t *bytes = malloc(size / 2 + 1);
    CHECK(bytes);
    if (gn_hex_decode(s, size, bytes, size / 2 + 1, &n) == 0) {
        char *back = malloc(2 * n + 3);
        CHECK(back);
        CHECK(gn_hex_encode(bytes, n, 1, back, 2 * n + 3) == 0);
        /* equal ignoring case and the optional prefix */
        size_t skip = size >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x' ? 2 : 0;
        CHECK(strlen(back + 2) == size - skip);
        for (size_t i = 0; i < size - skip; i++)
            CHECK(back[2 + i] == (s[skip + i] | (s[skip + i] >= 'A' ? 0x20 : 0)));
        free(back);
    }
    free(bytes);
    return 0;
}
