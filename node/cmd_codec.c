/* Codec subcommands: ss58, hash, scale. Each prints one line on success and
 * a clear message with a non-zero exit on bad input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ganglion/decimal.h"
#include "ganglion/error.h"
#include "ganglion/hashing.h"
#include "ganglion/hex.h"
#include "ganglion/scale.h"
#include "ganglion/ss58.h"

static int print_hex(const uint8_t *p, size_t n)
{
    char *s = malloc(gn_hex_encoded_len(n, 1) + 1);
    if (!s)
        return gn_cli_fail("hex", GN_ENOMEM);
    gn_hex_encode(p, n, 1, s, gn_hex_encoded_len(n, 1) + 1);
    puts(s);
    free(s);
    return GN_EXIT_OK;
}

/* Parse a whole-string unsigned decimal up to max (for --prefix). */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return GN_EDECIMAL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != '\0')
        return GN_EDECIMAL;
    if (errno == ERANGE || v > max)
        return GN_ERANGE;
    *out = v;
    return 0;
}

int gn_cmd_ss58(int argc, char **argv)
{
    if (argc < 2)
        return gn_cli_usage("usage: ganglion ss58 encode <hex> [--prefix N] | "
                            "ganglion ss58 decode <address>");
    if (strcmp(argv[0], "encode") == 0) {
        unsigned long prefix = GN_SS58_BITTENSOR;
        const char *hex = NULL;
        for (int i = 1; i < argc; i++) {
            if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
                int rc = parse_uint(argv[++i], GN_SS58_MAX_FORMAT, &prefix);
                if (rc < 0)
                    return gn_cli_fail("--prefix (0..16383)", rc);
            } else if (hex == NULL && argv[i][0] != '-') {
                hex = argv[i];
            } else {
                return gn_cli_usage("ss58 encode: unexpected argument");
            }
        }
        if (!hex)
            return gn_cli_usage("ss58 encode: missing <hex>");
        uint8_t key[33];
        size_t n;
        int rc = gn_hex_decode(hex, strlen(hex), key, sizeof(key), &n);
        if (rc == GN_ENOSPC)
            rc = GN_ESS58LEN;
        if (rc < 0)
            return gn_cli_fail("ss58 encode: <hex>", rc);
        char addr[GN_SS58_ADDR_MAX];
        rc = gn_ss58_encode(key, n, (uint16_t)prefix, addr, sizeof(addr));
        if (rc < 0)
            return gn_cli_fail("ss58 encode", rc);
        puts(addr);
        return GN_EXIT_OK;
    }
    if (strcmp(argv[0], "decode") == 0) {
        if (argc != 2)
            return gn_cli_usage("ss58 decode: exactly one <address>");
        uint8_t key[33];
        size_t n;
        uint16_t fmt;
        int rc = gn_ss58_decode(argv[1], strlen(argv[1]), key, sizeof(key), &n, &fmt);
        if (rc < 0)
            return gn_cli_fail("ss58 decode", rc);
        char hex[2 * 33 + 3];
        gn_hex_encode(key, n, 1, hex, sizeof(hex));
        printf("{\"prefix\":%u,\"payload\":\"%s\"}\n", fmt, hex);
        return GN_EXIT_OK;
    }
    return gn_cli_usage("ss58: expected 'encode' or 'decode'");
}

int gn_cli_bytes(const char *arg, int text, uint8_t **out, size_t *n)
{
    size_t len = strlen(arg);
    if (text || strncmp(arg, "0x", 2) != 0) {
        *out = malloc(len ? len : 1);
        if (!*out)
            return GN_ENOMEM;
        memcpy(*out, arg, len);
        *n = len;
        return 0;
    }
    *out = malloc(len / 2 + 1);
    if (!*out)
        return GN_ENOMEM;
    int rc = gn_hex_decode(arg, len, *out, len / 2 + 1, n);
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static const struct {
    const char *name;
    size_t bytes;
} plain_hashes[] = {
    {"twox64", 8},      {"twox128", 16},    {"twox256", 32},
    {"blake2_128", 16}, {"blake2_256", 32}, {"blake2_512", 64},
};

int gn_cmd_hash(int argc, char **argv)
{
    int text = 0;
    const char *algo = NULL, *input = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--text") == 0)
            text = 1;
        else if (!algo)
            algo = argv[i];
        else if (!input)
            input = argv[i];
        else
            return gn_cli_usage("hash: too many arguments");
    }
    if (!algo || !input)
        return gn_cli_usage("usage: ganglion hash <hasher> <input> [--text]");

    uint8_t *in = NULL, *out = NULL;
    size_t n, outn = 0;
    int rc = gn_cli_bytes(input, text, &in, &n), ret = GN_EXIT_FAIL;
    if (rc < 0) {
        ret = gn_cli_fail("hash: <input>", rc);
        goto done;
    }
    for (size_t i = 0; i < sizeof(plain_hashes) / sizeof(plain_hashes[0]); i++) {
        if (strcmp(algo, plain_hashes[i].name) != 0)
            continue;
        outn = plain_hashes[i].bytes;
        out = malloc(outn);
        if (!out) {
            ret = gn_cli_fail("hash", GN_ENOMEM);
            goto done;
        }
        if (strncmp(algo, "twox", 4) == 0)
            outn == 8    ? gn_twox64(in, n, out)
            : outn == 16 ? gn_twox128(in, n, out)
                         : gn_twox256(in, n, out);
        else
            gn_blake2b(out, outn, in, n, NULL, 0);
        ret = print_hex(out, outn);
        goto done;
    }
    gn_hasher_t h;
    if (gn_hasher_from_name(algo, &h) < 0) {
        fprintf(stderr, "ganglion: hash: unknown hasher '%s'\n", algo);
        ret = gn_cli_usage("hashers: twox64 twox128 twox256 blake2_128 blake2_256 "
                           "blake2_512 blake2_128_concat twox64_concat identity");
        goto done;
    }
    outn = gn_hasher_out_len(h, n);
    out = malloc(outn ? outn : 1);
    if (!out) {
        ret = gn_cli_fail("hash", GN_ENOMEM);
        goto done;
    }
    gn_hasher_apply(h, in, n, out, outn, &outn);
    ret = print_hex(out, outn);
done:
    free(in);
    free(out);
    return ret;
}

int gn_cmd_scale(int argc, char **argv)
{
    if (argc != 2)
        return gn_cli_usage("usage: ganglion scale compact <n> | "
                            "ganglion scale decode-compact <hex>");
    if (strcmp(argv[0], "compact") == 0) {
        gn_u128_t v;
        int rc = gn_dec_to_u128(argv[1], strlen(argv[1]), &v);
        if (rc < 0)
            return gn_cli_fail("scale compact: <n> must be a decimal below 2^128", rc);
        uint8_t buf[17];
        gn_scale_writer_t w;
        gn_scale_writer_init_fixed(&w, buf, sizeof(buf));
        gn_scale_write_compact(&w, v);
        return print_hex(buf, w.len);
    }
    if (strcmp(argv[0], "decode-compact") == 0) {
        uint8_t buf[32];
        size_t n;
        int rc = gn_hex_decode(argv[1], strlen(argv[1]), buf, sizeof(buf), &n);
        if (rc < 0)
            return gn_cli_fail("scale decode-compact: <hex>", rc);
        gn_scale_reader_t r;
        gn_u128_t v;
        gn_scale_reader_init(&r, buf, n);
        if ((rc = gn_scale_read_compact(&r, 128, &v)) < 0 || (rc = gn_scale_reader_finish(&r)) < 0)
            return gn_cli_fail("scale decode-compact", rc);
        char dec[48];
        gn_dec_from_u128(v, dec, sizeof(dec));
        puts(dec);
        return GN_EXIT_OK;
    }
    return gn_cli_usage("scale: expected 'compact' or 'decode-compact'");
}
