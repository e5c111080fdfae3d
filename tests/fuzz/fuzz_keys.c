/* libFuzzer target: the key parsers — keyfile JSON, $NACL framing, BIP39
 * mnemonics, secret URIs (parse only: no key derivation per input), and
 * sr25519 verification of arbitrary signature and public key bytes.
 * Properties beyond "no crash": a parsed keyfile serialises and parses back
 * to the same fields; a decoded mnemonic encodes back to the same words
 * (up to whitespace); arbitrary bytes never verify as a signature. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "ganglion/keyfile.h"
#include "ganglion/mnemonic.h"
#include "ganglion/sr25519.h"
#include "ganglion/suri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gn_keyfile_t kf, back;
    if (gn_keyfile_parse(data, size, &kf) == 0) {
        char *json;
        size_t n;
        uint8_t pub[32];
        if (gn_keyfile_public(&kf, pub) == 0 && gn_keyfile_to_json(&kf, false, &json, &n) == 0) {
            CHECK(gn_keyfile_parse((const uint8_t *)json, n, &back) == 0);
            CHECK(memcmp(back.public_key, pub, 32) == 0);
            CHECK((back.has & GN_KF_PHRASE) == (kf.has & GN_KF_PHRASE));
            gn_keyfile_free_text(json, n);
        }
    }
    uint8_t key[32] = {0}, out[256];
    size_t n;
    if (size <= sizeof(out))
        CHECK(gn_keyfile_open(data, size, key, out, sizeof(out), &n) != 0);

    uint8_t ent[32];
    if (gn_mnemonic_to_entropy((const char *)data, size, ent, &n) == 0) {
        char words[GN_MNEMONIC_MAX];
        CHECK(gn_mnemonic_from_entropy(ent, n, words, sizeof(words)) == 0);
        uint8_t ent2[32];
        size_t n2;
        CHECK(gn_mnemonic_to_entropy(words, strlen(words), ent2, &n2) == 0);
        CHECK(n2 == n && memcmp(ent, ent2, n) == 0);
    }

    gn_suri_t s;
    if (gn_suri_parse((const char *)data, size, &s) == 0)
        CHECK(s.n_junctions <= GN_SURI_MAX_JUNCTIONS && s.phrase_len > 0);

    if (size >= 96)
        CHECK(gn_sr25519_verify(data, data + 96, size - 96, data + 32) != 0);
    return 0;
}
