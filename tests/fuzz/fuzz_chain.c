/* libFuzzer target: what the chain client decodes from a node, with a real
 * subtensor registry ($GANGLION_FUZZ_METADATA, a 0x-hex metadata file).
 *
 * Input = one selector byte, then data: even, the data is one
 * length-prefixed extrinsic as blocks hold them; odd, it is a System.Events
 * value. Neither may crash or read out of bounds; a decoded extrinsic must
 * have consumed no more than it was given. */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "ganglion/events.h"
#include "ganglion/extrinsic.h"
#include "ganglion/hex.h"
#include "ganglion/metadata.h"

static gn_metadata_t md;
static int have_md;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    have_md = fuzz_load_metadata(&md, "fuzz_chain") == 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || !have_md)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 0);
    if (!(data[0] & 1)) {
        gn_scale_reader_t r;
        gn_extrinsic_t x;
        gn_scale_reader_init(&r, p, n);
        if (gn_extrinsic_decode(&md, &r, &ar, &x) == 0) {
            CHECK(r.pos <= n);
            CHECK(x.bytes >= p && x.bytes + x.len <= p + n);
        }
    } else {
        gn_event_t *ev;
        size_t count;
        if (gn_events_decode(&md, p, n, &ar, &ev, &count) == 0) {
            for (size_t i = 0; i < count; i++) {
                CHECK(ev[i].pallet != NULL);
                gn_dispatch_error_t d;
                const gn_value_t *e = gn_value_field(&md, ev[i].fields, "dispatch_error");
                if (e)
                    (void)gn_dispatch_error(&md, e, &d);
            }
        }
    }
    gn_arena_free(&ar);
    return 0;
}
