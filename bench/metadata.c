/* bench/metadata: metadata parse and value decode, ops/s.
 *
 *   metadata --inputs FILE    (needs ../shared/vectors/metadata)
 *
 * metadata_parse_*: parse a real blob into the registry and lookup maps.
 * events_decode_100: a System.Events value of 100 mixed events.
 * weights_decode_4096: a Vec<(u16, u16)> of 4096 pairs (a full weights row).
 * Writes the inputs (hex) so the peer decodes the same bytes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "ganglion/hex.h"
#include "ganglion/metadata.h"
#include "ganglion/value.h"

static uint8_t *read_hex(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    uint8_t *b = malloc(len / 2 + 1);
    if (gn_hex_decode(text, len, b, len / 2 + 1, n) < 0) {
        free(b);
        return NULL;
    }
    return b;
}

static char *hex_of(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    gn_hex_encode(p, n, 1, s, 2 * n + 3);
    return s;
}

int main(int argc, char **argv)
{
    const char *inputs = argc == 3 && strcmp(argv[1], "--inputs") == 0 ? argv[2] : NULL;
    const char *shared = getenv("GANGLION_SHARED") ? getenv("GANGLION_SHARED") : "../shared";
    static const char *blobs[] = {"subtensor-mainnet-spec219-v14", "subtensor-testnet-spec224-v14",
                                  "polkadot-spec2000000-v15"};
    char path[4096];
    gn_metadata_t md;
    json_t *in = json_object();
    for (int b = 0; b < 3; b++) {
        size_t n;
        snprintf(path, sizeof(path), "%s/vectors/metadata/%s.hex", shared, blobs[b]);
        uint8_t *bytes = read_hex(path, &n);
        if (!bytes) {
            fprintf(stderr, "bench/metadata: %s is missing\n", path);
            return 1;
        }
        json_object_set_new(in, blobs[b], json_string(path));
        double ops = GN_MEASURE(1.0, 1, {
            gn_metadata_parse(&md, bytes, n, NULL, NULL);
            gn_metadata_free(&md);
        });
        printf("metadata_parse_%s %.1f\n",
               strstr(blobs[b], "polkadot")  ? "polkadot_v15"
               : strstr(blobs[b], "testnet") ? "testnet_v14"
                                             : "mainnet_v14",
               ops);
        free(bytes);
    }

    size_t n;
    snprintf(path, sizeof(path), "%s/vectors/metadata/%s.hex", shared, blobs[0]);
    uint8_t *bytes = read_hex(path, &n);
    gn_metadata_parse(&md, bytes, n, NULL, NULL);
    free(bytes);

    /* 100 events: successes, transfers, failures with module errors */
    json_t *evs = json_array();
    for (int i = 0; i < 100; i++) {
        json_t *ev;
        if (i % 3 == 0)
            ev = json_pack("{s:{s:{s:{s:{s:i,s:i},s:s,s:s}}}}", "System", "ExtrinsicSuccess",
                           "dispatch_info", "weight", "ref_time", 1000 + i, "proof_size", i,
                           "class", "Normal", "pays_fee", "Yes");
        else if (i % 3 == 1)
            ev = json_pack("{s:{s:{s:s,s:s,s:I}}}", "Balances", "Transfer", "from",
                           "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "to",
                           "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "amount",
                           (json_int_t)1000000000 * i);
        else
            ev = json_pack("{s:{s:{s:{s:{s:i,s:s}},s:{s:{s:i,s:i},s:s,s:s}}}}", "System",
                           "ExtrinsicFailed", "dispatch_error", "Module", "index", 7, "error",
                           "0x0b000000", "dispatch_info", "weight", "ref_time", 7, "proof_size", 0,
                           "class", "Normal", "pays_fee", "Yes");
        json_array_append_new(evs, json_pack("{s:{s:i},s:o,s:[]}", "phase", "ApplyExtrinsic", i,
                                             "event", ev, "topics"));
    }
    gn_scale_writer_t ew, ww;
    gn_scale_writer_init(&ew, NULL);
    gn_scale_writer_init(&ww, NULL);
    char err[256];
    const gn_storage_entry_t *events = gn_metadata_storage(&md, "System", "Events");
    if (gn_value_encode_json(&md, events->value_type, evs, &ew, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench/metadata: events: %s\n", err);
        return 1;
    }
    json_decref(evs);
    const gn_storage_entry_t *weights = gn_metadata_storage(&md, "SubtensorModule", "Weights");
    gn_scale_write_compact(&ww, 4096);
    for (int i = 0; i < 4096; i++) {
        gn_scale_write_u16(&ww, (uint16_t)i);
        gn_scale_write_u16(&ww, (uint16_t)(i * 7919));
    }
    char *eh = hex_of(ew.buf, ew.len), *wh = hex_of(ww.buf, ww.len);
    json_object_set_new(in, "events", json_string(eh));
    json_object_set_new(in, "weights", json_string(wh));
    free(eh), free(wh);
    if (inputs)
        json_dump_file(in, inputs, 0);
    json_decref(in);

    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 1 << 20);
    gn_value_t v;
    double e_ops = GN_MEASURE(1.0, 1, {
        gn_value_decode_all(&md, events->value_type, ew.buf, ew.len, &ar, &v);
        gn_arena_free(&ar);
    });
    double w_ops = GN_MEASURE(1.0, 1, {
        gn_value_decode_all(&md, weights->value_type, ww.buf, ww.len, &ar, &v);
        gn_arena_free(&ar);
    });
    double ej_ops = GN_MEASURE(1.0, 1, {
        gn_value_decode_all(&md, events->value_type, ew.buf, ew.len, &ar, &v);
        json_decref(gn_value_to_json(&md, &v, NULL));
        gn_arena_free(&ar);
    });
    printf("events_decode_100 %.1f\n", e_ops);
    printf("events_decode_json_100 %.1f\n", ej_ops);
    printf("weights_decode_4096 %.1f\n", w_ops);
    gn_scale_writer_free(&ew);
    gn_scale_writer_free(&ww);
    gn_metadata_free(&md);
    return 0;
}
