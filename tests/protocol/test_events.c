#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/events.h"
#include "ganglion/hex.h"
#include "support/blobs.h"
#include "support/oracle.h"
#include "support/vectors.h"

#define M "vectors/metadata/subtensor-mainnet-spec219-v14.hex"

static const char *events_json =
    "[{\"phase\": {\"ApplyExtrinsic\": 1},"
    "  \"event\": {\"System\": {\"ExtrinsicSuccess\": {\"dispatch_info\":"
    "     {\"weight\": {\"ref_time\": 1000, \"proof_size\": 2}, \"class\": \"Normal\","
    "      \"pays_fee\": \"Yes\"}}}}, \"topics\": []},"
    " {\"phase\": {\"ApplyExtrinsic\": 2},"
    "  \"event\": {\"Balances\": {\"Transfer\": {"
    "     \"from\": \"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\","
    "     \"to\": \"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty\", \"amount\": 5000000000}}},"
    "  \"topics\": [\"0x0101010101010101010101010101010101010101010101010101010101010101\"]},"
    " {\"phase\": {\"ApplyExtrinsic\": 3},"
    "  \"event\": {\"System\": {\"ExtrinsicFailed\": {"
    "     \"dispatch_error\": {\"Module\": {\"index\": 7, \"error\": \"0x0b000000\"}},"
    "     \"dispatch_info\": {\"weight\": {\"ref_time\": 7, \"proof_size\": 0},"
    "       \"class\": \"Normal\", \"pays_fee\": \"Yes\"}}}}, \"topics\": []},"
    " {\"phase\": \"Finalization\","
    "  \"event\": {\"System\": {\"ExtrinsicFailed\": {\"dispatch_error\": \"BadOrigin\","
    "     \"dispatch_info\": {\"weight\": {\"ref_time\": 1, \"proof_size\": 0},"
    "       \"class\": \"Mandatory\", \"pays_fee\": \"No\"}}}}, \"topics\": []}]";

static void load(gn_metadata_t *md)
{
    gn_test_load_blob(md, "subtensor-mainnet-spec219-v14");
}

static void encode_events(const gn_metadata_t *md, gn_scale_writer_t *w)
{
    json_t *j = json_loads(events_json, 0, NULL);
    cr_assert_not_null(j);
    char err[256];
    const gn_storage_entry_t *e = gn_metadata_storage(md, "System", "Events");
    cr_assert_eq(gn_value_encode_json(md, e->value_type, j, w, err, sizeof(err)), 0, "%s", err);
    json_decref(j);
}

Test(events, records_and_dispatch_errors)
{
    gn_metadata_t md;
    load(&md);
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    encode_events(&md, &w);
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 0);
    gn_event_t *ev;
    size_t n;
    cr_assert_eq(gn_events_decode(&md, w.buf, w.len, &ar, &ev, &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_eq(ev[0].phase, GN_PHASE_APPLY_EXTRINSIC);
    cr_assert_eq(ev[0].extrinsic_index, 1);
    cr_assert_str_eq(ev[0].pallet->name, "System");
    cr_assert_str_eq(ev[0].event->name, "ExtrinsicSuccess");
    cr_assert_str_eq(ev[1].pallet->name, "Balances");
    cr_assert_str_eq(ev[1].event->name, "Transfer");
    cr_assert_eq(ev[1].topics->u.seq.n, 1);
    const gn_value_t *amount = gn_value_field(&md, ev[1].fields, "amount");
    cr_assert(amount && amount->kind == GN_VALUE_UINT);
    cr_assert_eq(ev[3].phase, GN_PHASE_FINALIZATION);

    /* Module error 11 of pallet 7 (SubtensorModule) resolves through its error enum */
    gn_dispatch_error_t de;
    const gn_value_t *err = gn_value_field(&md, ev[2].fields, "dispatch_error");
    cr_assert_not_null(err);
    cr_assert_eq(gn_dispatch_error(&md, err, &de), 0);
    cr_assert_str_eq(de.kind, "Module");
    cr_assert_str_eq(de.pallet, "SubtensorModule");
    const gn_pallet_t *p = gn_metadata_pallet(&md, "SubtensorModule");
    const gn_variant_t *want = gn_type_variant_by_index(gn_metadata_type(&md, p->error_type), 11);
    cr_assert_not_null(want);
    cr_assert_str_eq(de.name, want->name);
    cr_assert_gt(de.docs.n, 0, "module errors carry their docs");
    cr_assert_eq(gn_dispatch_error(&md, gn_value_field(&md, ev[3].fields, "dispatch_error"), &de),
                 0);
    cr_assert_str_eq(de.kind, "BadOrigin");
    cr_assert_null(de.pallet);

    /* truncated events are an error */
    cr_assert_neq(gn_events_decode(&md, w.buf, w.len - 1, &ar, &ev, &n), 0);
    gn_arena_free(&ar);
    gn_scale_writer_free(&w);
    gn_metadata_free(&md);
}

/* polkadot-js decodes ganglion's encoding to the same events and the same bytes. */
Test(events, polkadot_js_reads_ganglion_events, .timeout = 120)
{
    gn_metadata_t md;
    load(&md);
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    encode_events(&md, &w);
    char *hex = gn_test_hex(w.buf, w.len);
    char path[4096];
    snprintf(path, sizeof(path), "%s/" M, gn_test_shared_dir());
    json_t *batch = json_array();
    json_array_append_new(
        batch, gn_test_oracle_req("metadata-decode-storage", path, "System", "Events", hex, NULL));
    json_t *res = gn_test_oracle(batch);
    json_t *r = json_array_get(res, 0);
    cr_assert_null(json_object_get(r, "error"), "%s",
                   json_string_value(json_object_get(r, "error")));
    cr_assert_str_eq(json_string_value(json_object_get(r, "hex")), hex,
                     "polkadot-js re-encodes the same bytes");
    json_t *value = json_object_get(r, "value");
    cr_assert_eq(json_array_size(value), 4);
    const char *idx[] = {"0x0000", "0x0502", "0x0001", "0x0001"};
    for (size_t i = 0; i < 4; i++) {
        json_t *ev = json_object_get(json_array_get(value, i), "event");
        /* pallet index ‖ event index, as ganglion's metadata has them */
        cr_assert_str_eq(json_string_value(json_object_get(ev, "index")), idx[i], "event %zu", i);
    }
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 0);
    gn_event_t *ev;
    size_t n;
    cr_assert_eq(gn_events_decode(&md, w.buf, w.len, &ar, &ev, &n), 0);
    for (size_t i = 0; i < n; i++) {
        char want[8];
        snprintf(want, sizeof(want), "0x%02x%02x", ev[i].pallet->index, ev[i].event->index);
        cr_assert_str_eq(want, idx[i]);
    }
    gn_arena_free(&ar);
    free(hex);
    json_decref(res);
    json_decref(batch);
    gn_scale_writer_free(&w);
    gn_metadata_free(&md);
}
