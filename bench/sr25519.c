/* bench/sr25519: sr25519 sign/s and verify/s.
 *
 *   sr25519 [--inputs FILE]
 *
 * The message is a Bittensor request's signed text (wire spec §3.2), 177
 * bytes. With --inputs it writes the seed, message and one signature, so the
 * peer (bench/peer/sr25519.mjs) signs and verifies the same bytes. It also
 * prints the rate of the Keccak-f[1600] permutation under them (no peer): a
 * signature runs several through its Merlin transcript. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "ganglion/hex.h"
#include "ganglion/keccak.h"
#include "ganglion/sr25519.h"

int main(int argc, char **argv)
{
    const char *inputs = argc == 3 && strcmp(argv[1], "--inputs") == 0 ? argv[2] : NULL;
    if (sodium_init() < 0)
        return 1;
    static const char msg[] =
        "1763000000000000000.5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY."
        "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty.6c7c9e1a-2b5e-11ef-9a3c-0242ac120002."
        "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";
    size_t mlen = strlen(msg);
    uint8_t mini[32], rnd[32], sig[64];
    for (int i = 0; i < 32; i++)
        mini[i] = (uint8_t)(i * 37 + 1);
    gn_sr25519_keypair_t kp;
    gn_sr25519_from_mini(&kp, mini);
    randombytes_buf(rnd, sizeof(rnd));
    gn_sr25519_sign(&kp, (const uint8_t *)msg, mlen, rnd, sig);
    if (gn_sr25519_verify(kp.pub, (const uint8_t *)msg, mlen, sig) != 0)
        return 1;
    if (inputs) {
        FILE *f = fopen(inputs, "w");
        char seed_hex[70], sig_hex[140];
        gn_hex_encode(mini, 32, 1, seed_hex, sizeof(seed_hex));
        gn_hex_encode(sig, 64, 1, sig_hex, sizeof(sig_hex));
        fprintf(f, "{\"seed\":\"%s\",\"message\":\"%s\",\"signature\":\"%s\"}\n", seed_hex, msg,
                sig_hex);
        fclose(f);
    }
    volatile int sink = 0;
    double sign = GN_MEASURE(1.0, 1, {
        randombytes_buf(rnd, sizeof(rnd));
        gn_sr25519_sign(&kp, (const uint8_t *)msg, mlen, rnd, sig);
        sink += sig[0];
    });
    double verify =
        GN_MEASURE(1.0, 1, { sink += gn_sr25519_verify(kp.pub, (const uint8_t *)msg, mlen, sig); });
    uint8_t state[200];
    memcpy(state, mini, sizeof(mini));
    memset(state + sizeof(mini), 0x5a, sizeof(state) - sizeof(mini));
    double keccak = GN_MEASURE(1.0, 100, {
        for (int i = 0; i < 100; i++)
            gn_keccak_f1600(state);
        sink += state[0];
    });
    printf("sr25519_sign %.0f\n", sign);
    printf("sr25519_verify %.0f\n", verify);
    printf("keccak_f1600 %.0f\n", keccak);
    fprintf(stderr, "keccak_f1600: %.1f ns a permutation\n", 1e9 / keccak);
    return sink == 12345;
}
