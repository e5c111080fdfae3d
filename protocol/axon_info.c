/* On-chain axon addresses (include/ganglion/axon_info.h). */
#include "ganglion/axon_info.h"
#include "ganglion/error.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

int gn_ip_from_text(const char *text, gn_u128_t *ip, uint8_t *ip_type)
{
    uint8_t b[16];
    if (!text)
        return GN_EINVAL;
    if (inet_pton(AF_INET, text, b) == 1) {
        *ip = (gn_u128_t)b[0] << 24 | (gn_u128_t)b[1] << 16 | (gn_u128_t)b[2] << 8 | b[3];
        *ip_type = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, b) == 1) {
        gn_u128_t v = 0;
        for (int i = 0; i < 16; i++)
            v = v << 8 | b[i];
        *ip = v;
        *ip_type = 6;
        return 0;
    }
    return GN_EINVAL;
}

int gn_ip_to_text(gn_u128_t ip, uint8_t ip_type, char *out, size_t cap)
{
    if (ip_type != 4 && ip_type != 6)
        ip_type = ip <= 0xFFFFFFFFu ? 4 : 6;
    uint8_t b[16];
    if (ip_type == 4) {
        if (ip > 0xFFFFFFFFu)
            return GN_ERANGE;
        for (int i = 0; i < 4; i++)
            b[i] = (uint8_t)(ip >> (24 - 8 * i));
    } else {
        for (int i = 0; i < 16; i++)
            b[i] = (uint8_t)(ip >> (120 - 8 * i));
    }
    char tmp[INET6_ADDRSTRLEN];
    if (!inet_ntop(ip_type == 4 ? AF_INET : AF_INET6, b, tmp, sizeof(tmp)))
        return GN_EINVAL;
    if (strlen(tmp) + 1 > cap)
        return GN_ENOSPC;
    memcpy(out, tmp, strlen(tmp) + 1);
    return 0;
}

int gn_version_as_int(const char *v, uint32_t *out)
{
    unsigned long part[3];
    const char *p = v;
    for (int i = 0; i < 3; i++) {
        if (!p || !isdigit((unsigned char)*p))
            return GN_EINVAL;
        part[i] = 0;
        while (isdigit((unsigned char)*p)) {
            part[i] = part[i] * 10 + (unsigned long)(*p++ - '0');
            if (part[i] >= 1000)
                return GN_EINVAL;
        }
        if (i < 2 && *p++ != '.')
            return GN_EINVAL;
    }
    /* "10.2.0rc1", "10.2.0-beta": the suffix is dropped */
    *out = (uint32_t)(part[0] * 1000000 + part[1] * 1000 + part[2]);
    return 0;
}
