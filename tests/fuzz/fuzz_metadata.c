/* libFuzzer target: runtime metadata and dynamic values.
 *
 * Input = one selector byte, then data. Selector even: the data is parsed
 * as metadata ("meta" ‖ 14 ‖ data, so the fuzzer starts past the magic).
 * Selector odd: the data is decoded as one of the real subtensor registry's
 * types (chosen by the next two bytes); a decoded value must encode back to
 * exactly the bytes it consumed, and its JSON must encode to them too. The
 * registry comes from $GANGLION_FUZZ_METADATA (a 0x-hex blob file). */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "ganglion/hex.h"
#include "ganglion/metadata.h"
#include "ganglion/value.h"

static gn_metadata_t md;
static int have_md;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    have_md = fuzz_load_metadata(&md, "fuzz_metadata") == 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!(data[0] & 1) || !have_md) {
        uint8_t *buf = malloc(size + 4);
        memcpy(buf, "meta", 4);
        buf[4] = data[0] & 2 ? 15 : 14;
        memcpy(buf + 5, data + 1, size - 1);
        gn_metadata_t m;
        if (gn_metadata_parse(&m, buf, size + 4, NULL, NULL) == 0)
            gn_metadata_free(&m);
        free(buf);
        return 0;
    }
    if (size < 3)
        return 0;
    uint32_t type = (uint32_t)(data[1] | data[2] << 8) % md.n_types;
    const uint8_t *p = data + 3;
    size_t n = size - 3;
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 0);
    gn_value_t v;
    gn_scale_reader_t r;
    gn_scale_reader_init(&r, p, n);
    if (gn_value_decode(&md, type, &r, &ar, &v) == 0) {
        gn_scale_writer_t w;
        gn_scale_writer_init(&w, NULL);
        CHECK(gn_value_encode(&md, &v, &w) == 0);
        CHECK(w.len == r.pos && (r.pos == 0 || memcmp(w.buf, p, r.pos) == 0));
        json_t *j = gn_value_to_json(&md, &v, NULL);
        CHECK(j != NULL);
        gn_scale_writer_t w2;
        gn_scale_writer_init(&w2, NULL);
        CHECK(gn_value_encode_json(&md, type, j, &w2, NULL, 0) == 0);
        CHECK(w2.len == w.len && (w.len == 0 || memcmp(w2.buf, w.buf, w.len) == 0));
        json_decref(j);
        gn_scale_writer_free(&w2);
        gn_scale_writer_free(&w);
    } else {
        CHECK(r.pos == 0);
    }
    gn_arena_free(&ar);
    return 0;
}
