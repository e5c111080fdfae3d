#include "ganglion/keyfile.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

static const uint8_t nacl_salt[16] = {0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc,
                                      0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1};

static int has_prefix(const uint8_t *d, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && memcmp(d, p, n) == 0;
}

gn_keyfile_format_t gn_keyfile_detect(const uint8_t *data, size_t len)
{
    if (has_prefix(data, len, "$NACL"))
        return GN_KEYFILE_NACL;
    if (has_prefix(data, len, "$ANSIBLE_VAULT"))
        return GN_KEYFILE_ANSIBLE;
    if (has_prefix(data, len, "gAAAAA"))
        return GN_KEYFILE_FERNET;
    return GN_KEYFILE_PLAIN;
}

const char *gn_keyfile_format_name(gn_keyfile_format_t f)
{
    switch (f) {
    case GN_KEYFILE_PLAIN: return "plain JSON";
    case GN_KEYFILE_NACL: return "$NACL";
    case GN_KEYFILE_ANSIBLE: return "Ansible Vault (legacy bittensor encryption)";
    case GN_KEYFILE_FERNET: return "Fernet (oldest legacy bittensor encryption)";
    }
    return "?";
}

/* A 0x-hex string field of exactly n bytes. 1 when present and valid, 0
 * when absent or null, GN_EKEYFILE when malformed. */
static int hex_field(json_t *o, const char *key, uint8_t *out, size_t n)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return GN_EKEYFILE;
    const char *s = json_string_value(v);
    if (gn_hex_decode_exact(s, json_string_length(v), out, n) < 0)
        return GN_EKEYFILE;
    return 1;
}

int gn_keyfile_parse(const uint8_t *data, size_t len, gn_keyfile_t *kf)
{
    memset(kf, 0, sizeof(*kf));
    json_error_t err;
    json_t *o = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &err);
    int rc = GN_EKEYFILE, r;
    uint8_t acc[32];
    if (!o || !json_is_object(o))
        goto done;
    if ((r = hex_field(o, "publicKey", kf->public_key, 32)) < 0)
        goto done;
    if (r)
        kf->has |= GN_KF_PUBLIC;
    if ((r = hex_field(o, "accountId", acc, 32)) < 0)
        goto done;
    if (r) {
        if ((kf->has & GN_KF_PUBLIC) && memcmp(acc, kf->public_key, 32) != 0)
            goto done;
        memcpy(kf->public_key, acc, 32);
        kf->has |= GN_KF_PUBLIC;
    }
    if ((r = hex_field(o, "privateKey", kf->private_key, 64)) < 0)
        goto done;
    if (r)
        kf->has |= GN_KF_PRIVATE;
    json_t *seed = json_object_get(o, "secretSeed");
    if (seed && json_is_string(seed) &&
        gn_hex_decode_exact(json_string_value(seed), json_string_length(seed), kf->seed, 32) == 0)
        kf->has |= GN_KF_SEED; /* non-hex seeds are absent, as btwallet writes them */
    json_t *ph = json_object_get(o, "secretPhrase");
    if (ph && !json_is_null(ph)) {
        if (!json_is_string(ph) || json_string_length(ph) >= sizeof(kf->phrase))
            goto done;
        memcpy(kf->phrase, json_string_value(ph), json_string_length(ph) + 1);
        kf->has |= GN_KF_PHRASE;
    }
    json_t *a = json_object_get(o, "ss58Address");
    if (a && !json_is_null(a)) {
        uint8_t pk[32];
        if (!json_is_string(a) ||
            gn_ss58_decode_account(json_string_value(a), json_string_length(a), pk, NULL) < 0)
            goto done;
        if ((kf->has & GN_KF_PUBLIC) && memcmp(pk, kf->public_key, 32) != 0)
            goto done;
        memcpy(kf->ss58, json_string_value(a), json_string_length(a) + 1);
        kf->has |= GN_KF_SS58;
    }
    if (!(kf->has & (GN_KF_PUBLIC | GN_KF_SS58 | GN_KF_PRIVATE | GN_KF_SEED | GN_KF_PHRASE)))
        goto done;
    rc = 0;
done:
    if (rc < 0)
        gn_keyfile_wipe(kf);
    json_decref(o);
    return rc;
}

int gn_keyfile_public(const gn_keyfile_t *kf, uint8_t pub[32])
{
    if (kf->has & GN_KF_PUBLIC) {
        memcpy(pub, kf->public_key, 32);
        return 0;
    }
    if (kf->has & GN_KF_SS58)
        return gn_ss58_decode_account(kf->ss58, strlen(kf->ss58), pub, NULL);
    return GN_ENOENT;
}

int gn_keyfile_keypair(const gn_keyfile_t *kf, gn_sr25519_keypair_t *kp)
{
    uint8_t mini[32], pub[32];
    int rc;
    if (kf->has & GN_KF_PHRASE) {
        rc = gn_mnemonic_to_mini_secret(kf->phrase, strlen(kf->phrase), "", 0, mini);
        if (rc == 0)
            rc = gn_sr25519_from_mini(kp, mini);
    } else if (kf->has & GN_KF_SEED) {
        rc = gn_sr25519_from_mini(kp, kf->seed);
    } else if (kf->has & GN_KF_PRIVATE) {
        rc = gn_sr25519_from_private(kp, kf->private_key);
    } else {
        return GN_ENOENT;
    }
    sodium_memzero(mini, sizeof(mini));
    if (rc < 0)
        return rc == GN_EMNEMONIC ? rc : GN_EKEYFILE;
    if (gn_keyfile_public(kf, pub) == 0 && memcmp(pub, kp->pub, 32) != 0) {
        gn_sr25519_wipe(kp);
        return GN_EKEYFILE;
    }
    return 0;
}

int gn_keyfile_from_keypair(gn_keyfile_t *kf, const gn_sr25519_keypair_t *kp, const char *phrase,
                            const uint8_t seed[32])
{
    memset(kf, 0, sizeof(*kf));
    memcpy(kf->public_key, kp->pub, 32);
    gn_sr25519_private_bytes(kp, kf->private_key);
    kf->has = GN_KF_PUBLIC | GN_KF_PRIVATE | GN_KF_SS58;
    if (seed) {
        memcpy(kf->seed, seed, 32);
        kf->has |= GN_KF_SEED;
    }
    if (phrase) {
        size_t n = strlen(phrase);
        if (n >= sizeof(kf->phrase)) {
            gn_keyfile_wipe(kf);
            return GN_EINVAL;
        }
        memcpy(kf->phrase, phrase, n + 1);
        kf->has |= GN_KF_PHRASE;
    }
    return gn_ss58_encode(kp->pub, 32, GN_SS58_BITTENSOR, kf->ss58, sizeof(kf->ss58));
}

static int set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 3];
    gn_hex_encode(p, n, 1, buf, sizeof(buf));
    int rc = json_object_set_new(o, key, json_string(buf));
    sodium_memzero(buf, sizeof(buf));
    return rc;
}

int gn_keyfile_to_json(const gn_keyfile_t *kf, bool public_only, char **out, size_t *len)
{
    uint8_t pub[32];
    char ss58[GN_SS58_ADDR_MAX];
    int rc = gn_keyfile_public(kf, pub);
    if (rc < 0)
        return rc;
    if ((rc = gn_ss58_encode(pub, 32, GN_SS58_BITTENSOR, ss58, sizeof(ss58))) < 0)
        return rc;
    json_t *o = json_object();
    if (!o)
        return GN_ENOMEM;
    int bad = set_hex(o, "accountId", pub, 32) | set_hex(o, "publicKey", pub, 32);
    if (!public_only) {
        if (kf->has & GN_KF_PRIVATE)
            bad |= set_hex(o, "privateKey", kf->private_key, 64);
        if (kf->has & GN_KF_PHRASE)
            bad |= json_object_set_new(o, "secretPhrase", json_string(kf->phrase));
        if (kf->has & GN_KF_SEED)
            bad |= set_hex(o, "secretSeed", kf->seed, 32);
    }
    bad |= json_object_set_new(o, "ss58Address", json_string(ss58));
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        return GN_ENOMEM;
    *out = text;
    *len = strlen(text);
    return 0;
}

void gn_keyfile_free_text(char *text, size_t len)
{
    if (!text)
        return;
    sodium_memzero(text, len);
    free(text);
}

void gn_keyfile_wipe(gn_keyfile_t *kf)
{
    sodium_memzero(kf, sizeof(*kf));
}

int gn_keyfile_derive_key(const char *password, size_t len, uint8_t key[32])
{
    if (password == NULL && len)
        return GN_EINVAL;
    if (crypto_pwhash(key, 32, password ? password : "", len, nacl_salt,
                      crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE,
                      crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE, crypto_pwhash_ALG_ARGON2I13) != 0)
        return GN_ENOMEM;
    return 0;
}

int gn_keyfile_seal(const uint8_t *plain, size_t len, const uint8_t key[32],
                    const uint8_t nonce[24], uint8_t *out, size_t cap, size_t *out_len)
{
    if (len > SIZE_MAX - GN_KEYFILE_NACL_OVERHEAD || cap < len + GN_KEYFILE_NACL_OVERHEAD)
        return GN_ENOSPC;
    memcpy(out, "$NACL", 5);
    memcpy(out + 5, nonce, 24);
    crypto_secretbox_easy(out + 29, plain, len, nonce, key);
    *out_len = len + GN_KEYFILE_NACL_OVERHEAD;
    return 0;
}

int gn_keyfile_open(const uint8_t *data, size_t len, const uint8_t key[32], uint8_t *out,
                    size_t cap, size_t *out_len)
{
    gn_keyfile_format_t f = gn_keyfile_detect(data, len);
    if (f == GN_KEYFILE_ANSIBLE || f == GN_KEYFILE_FERNET)
        return GN_ELEGACY;
    if (f != GN_KEYFILE_NACL || len < GN_KEYFILE_NACL_OVERHEAD)
        return GN_EKEYFILE;
    size_t n = len - GN_KEYFILE_NACL_OVERHEAD;
    if (cap < n)
        return GN_ENOSPC;
    if (crypto_secretbox_open_easy(out, data + 29, len - 29, data + 5, key) != 0)
        return GN_EPASSWORD;
    *out_len = n;
    return 0;
}
