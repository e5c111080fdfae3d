/* bench/codec: throughput of the byte layer, ops/s.
 *
 *   codec [--inputs FILE]
 *
 * Prints one line per benchmark: "<name> <ops/s>". With --inputs it first
 * writes the exact inputs it measured (JSON), so that a peer
 * (bench/peer/codec.mjs, polkadot-js) measures the same work in the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "ganglion/hashing.h"
#include "ganglion/hex.h"
#include "ganglion/scale.h"
#include "ganglion/ss58.h"

#define N_COMPACTS 4096
#define N_ADDRS    256

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    const char *inputs = argc == 3 && strcmp(argv[1], "--inputs") == 0 ? argv[2] : NULL;

    /* compacts of every mode: 1, 2, 4 byte and big-integer */
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    for (int i = 0; i < N_COMPACTS; i++) {
        static const unsigned shift[] = {58, 50, 34, 0};
        gn_scale_write_compact(&w, next() >> shift[i % 4]);
    }
    /* SS58 addresses of random keys, Bittensor's prefix */
    static char addrs[N_ADDRS][GN_SS58_ADDR_MAX];
    for (int i = 0; i < N_ADDRS; i++) {
        uint8_t pk[32];
        for (int k = 0; k < 32; k++)
            pk[k] = (uint8_t)next();
        gn_ss58_encode(pk, 32, GN_SS58_BITTENSOR, addrs[i], sizeof(addrs[i]));
    }

    if (inputs) {
        FILE *f = fopen(inputs, "w");
        if (!f) {
            perror(inputs);
            return 1;
        }
        char *hex = malloc(2 * w.len + 3);
        gn_hex_encode(w.buf, w.len, 1, hex, 2 * w.len + 3);
        fprintf(f, "{\"compacts\":%d,\"compactHex\":\"%s\",\"addresses\":[", N_COMPACTS, hex);
        for (int i = 0; i < N_ADDRS; i++)
            fprintf(f, "%s\"%s\"", i ? "," : "", addrs[i]);
        fprintf(f, "]}\n");
        fclose(f);
        free(hex);
    }

    volatile uint64_t sink = 0;
    double compact = GN_MEASURE(0.5, N_COMPACTS, {
        gn_scale_reader_t r;
        gn_scale_reader_init(&r, w.buf, w.len);
        gn_u128_t v;
        while (gn_scale_read_compact(&r, 128, &v) == 0)
            sink += (uint64_t)v;
        if (r.pos != w.len)
            abort();
    });
    double ss58 = GN_MEASURE(0.5, N_ADDRS, {
        for (int i = 0; i < N_ADDRS; i++) {
            uint8_t acc[32];
            if (gn_ss58_decode_account(addrs[i], strlen(addrs[i]), acc, NULL) != 0)
                abort();
            sink += acc[0];
        }
    });
    uint8_t key[32] = {1}, out[32];
    double twox = GN_MEASURE(0.5, 1000, {
        for (int i = 0; i < 1000; i++) {
            key[0] = (uint8_t)i;
            gn_twox128(key, 32, out);
            sink += out[0];
        }
    });
    double blake = GN_MEASURE(0.5, 1000, {
        for (int i = 0; i < 1000; i++) {
            key[0] = (uint8_t)i;
            gn_blake2b_256(key, 32, out);
            sink += out[0];
        }
    });
    printf("scale_compact_decode %.0f\n", compact);
    printf("ss58_decode %.0f\n", ss58);
    printf("twox128_32B %.0f\n", twox);
    printf("blake2b256_32B %.0f\n", blake);
    gn_scale_writer_free(&w);
    return sink == 42 ? 2 : 0;
}
