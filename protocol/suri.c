#include "ganglion/suri.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/mnemonic.h"

#include <sodium.h>
#include <string.h>

static int phrase_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ';
}

int gn_suri_parse(const char *uri, size_t len, gn_suri_t *out)
{
    memset(out, 0, sizeof(*out));
    if (uri == NULL && len)
        return GN_EINVAL;
    /* the first "///" starts the password, which may contain anything */
    size_t end = len;
    for (size_t i = 0; i + 3 <= len; i++) {
        if (memcmp(uri + i, "///", 3) == 0) {
            out->password = uri + i + 3;
            out->password_len = len - i - 3;
            end = i;
            break;
        }
    }
    size_t p = 0;
    while (p < end && phrase_char(uri[p]))
        p++;
    if (p == 0) {
        out->phrase = GN_SURI_DEV_PHRASE;
        out->phrase_len = strlen(GN_SURI_DEV_PHRASE);
    } else {
        out->phrase = uri;
        out->phrase_len = p;
    }
    while (p < end) {
        if (uri[p] != '/')
            return GN_ESURI;
        bool hard = p + 1 < end && uri[p + 1] == '/';
        p += hard ? 2 : 1;
        size_t start = p;
        while (p < end && uri[p] != '/')
            p++;
        if (p == start || out->n_junctions == GN_SURI_MAX_JUNCTIONS)
            return GN_ESURI;
        gn_suri_junction_t *j = &out->junctions[out->n_junctions++];
        j->hard = hard;
        int rc = gn_sr25519_chain_code(uri + start, p - start, j->chain_code);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int gn_suri_keypair(const char *uri, size_t len, const uint8_t random[32], gn_sr25519_keypair_t *kp,
                    uint8_t mini[32], bool *has_mini)
{
    gn_suri_t s;
    uint8_t seed[32], cc[32];
    gn_sr25519_keypair_t cur, next;
    int rc = gn_suri_parse(uri, len, &s);
    if (rc < 0)
        goto done;
    if (s.phrase_len >= 2 && s.phrase[0] == '0' && (s.phrase[1] == 'x' || s.phrase[1] == 'X')) {
        rc = gn_hex_decode_exact(s.phrase, s.phrase_len, seed, 32);
        if (rc < 0)
            goto done;
    } else {
        rc = gn_mnemonic_to_mini_secret(s.phrase, s.phrase_len, s.password, s.password_len, seed);
        if (rc < 0)
            goto done;
    }
    gn_sr25519_from_mini(&cur, seed);
    bool all_hard = true;
    for (size_t i = 0; i < s.n_junctions; i++) {
        const gn_suri_junction_t *j = &s.junctions[i];
        if (j->hard) {
            /* Substrate discards the child chain code: junctions are fixed */
            gn_sr25519_derive_hard(&cur, j->chain_code, seed, cc);
            gn_sr25519_from_mini(&next, seed);
        } else {
            all_hard = false;
            gn_sr25519_derive_soft(&cur, j->chain_code, random, &next, cc);
        }
        cur = next;
    }
    *kp = cur;
    if (mini && all_hard)
        memcpy(mini, seed, 32);
    if (has_mini)
        *has_mini = all_hard;
done:
    sodium_memzero(&s, sizeof(s));
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(&cur, sizeof(cur));
    sodium_memzero(&next, sizeof(next));
    return rc;
}
