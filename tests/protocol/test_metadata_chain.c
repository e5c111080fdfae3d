/* The metadata of the local subtensor chain (../shared/chain, spec 293),
 * saved by the fixture step (tests/fixtures/chain-metadata.sh): everything
 * in it parses, every constant and storage default decodes, and every
 * signed extension of the runtime can be filled by the extrinsic builder. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ganglion/error.h"
#include "ganglion/extrinsic.h"
#include "ganglion/hex.h"
#include "ganglion/metadata.h"
#include "ganglion/value.h"

static uint8_t *read_fixture(const char *name, size_t *n)
{
    char path[4096];
    snprintf(path, sizeof(path), GN_SOURCE_DIR "/build/chain-metadata/%s", name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr,
                "SKIP %s: %s is missing (make chain-metadata; needs ../shared/chain "
                "and Node.js)\n",
                criterion_current_test->name, path);
        cr_skip_test("%s is missing (make chain-metadata)", path);
    }
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc(size + 1);
    size_t got = fread(text, 1, size, f);
    fclose(f);
    while (got && (text[got - 1] == '\n' || text[got - 1] == '"'))
        got--;
    uint8_t *b = malloc(got / 2 + 1);
    cr_assert_eq(gn_hex_decode(text, got, b, got / 2 + 1, n), 0, "%s is hex", name);
    free(text);
    return b;
}

/* Everything a runtime's metadata offers, decoded once. */
static void check_all(const gn_metadata_t *md, const char *what)
{
    size_t consts = 0, defaults = 0;
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 0);
    for (uint32_t i = 0; i < md->n_pallets; i++) {
        const gn_pallet_t *p = &md->pallets[i];
        cr_assert_eq(gn_metadata_pallet(md, p->name), p);
        for (uint32_t k = 0; k < p->n_constants; k++) {
            const gn_constant_t *c = &p->constants[k];
            gn_value_t v;
            int rc = gn_value_decode_all(md, c->type, c->value, c->value_len, &ar, &v);
            cr_assert_eq(rc, 0, "%s: constant %s.%s: %s", what, p->name, c->name, gn_strerror(rc));
            json_t *j = gn_value_to_json(md, &v, NULL);
            cr_assert_not_null(j);
            json_decref(j);
            consts++;
        }
        for (uint32_t k = 0; k < p->n_storage; k++) {
            const gn_storage_entry_t *e = &p->storage[k];
            cr_assert_eq(gn_metadata_storage(md, p->name, e->name), e);
            if (e->is_map && e->n_hashers > 1) {
                const gn_type_t *kt = gn_metadata_type(md, e->key_type);
                cr_assert(kt->kind == GN_TYPE_TUPLE && kt->def.tuple.n == e->n_hashers,
                          "%s.%s: key tuple", p->name, e->name);
            }
            if (e->modifier != GN_STORAGE_DEFAULT)
                continue;
            gn_value_t v;
            int rc =
                gn_value_decode_all(md, e->value_type, e->default_value, e->default_len, &ar, &v);
            cr_assert_eq(rc, 0, "%s: default of %s.%s: %s", what, p->name, e->name,
                         gn_strerror(rc));
            defaults++;
        }
    }
    gn_arena_free(&ar);
    cr_assert_gt(consts, 50);
    cr_assert_gt(defaults, 100);
    cr_log_info("%s: V%u, %u types, %u pallets, %zu constants and %zu storage defaults decoded",
                what, md->version, md->n_types, md->n_pallets, consts, defaults);

    /* every signed extension of this runtime can be filled */
    gn_tx_params_t tp = {
        .spec_version = 293, .tx_version = 1, .period = 64, .block_number = 10, .nonce = 1};
    gn_scale_writer_t extra, add;
    gn_scale_writer_init(&extra, NULL);
    gn_scale_writer_init(&add, NULL);
    char err[256] = "";
    cr_assert_eq(gn_extrinsic_extensions(md, &tp, &extra, &add, err, sizeof(err)), 0, "%s: %s",
                 what, err);
    gn_scale_writer_free(&extra);
    gn_scale_writer_free(&add);
}

Test(metadata_chain, v14_from_state_getMetadata)
{
    size_t n;
    uint8_t *b = read_fixture("v14.hex", &n);
    gn_metadata_t md;
    cr_assert_eq(gn_metadata_parse(&md, b, n, NULL, NULL), 0);
    cr_assert_eq(md.version, 14);
    check_all(&md, "spec 293 V14");
    cr_assert_not_null(gn_metadata_storage(&md, "SubtensorModule", "Axons"));
    cr_assert_not_null(gn_metadata_call(&md, "SubtensorModule", "set_weights", NULL));
    gn_metadata_free(&md);
    free(b);
}

Test(metadata_chain, v15_from_the_runtime_call)
{
    size_t n;
    uint8_t *b = read_fixture("v15-call.hex", &n);
    /* the answer is SCALE Option<Vec<u8>> (OpaqueMetadata) */
    gn_scale_reader_t r;
    gn_scale_reader_init(&r, b, n);
    bool some;
    const uint8_t *blob;
    size_t len;
    cr_assert_eq(gn_scale_read_option(&r, &some), 0);
    cr_assert(some, "the runtime offers V15");
    cr_assert_eq(gn_scale_read_vec_u8(&r, &blob, &len), 0);
    cr_assert_eq(gn_scale_reader_finish(&r), 0);
    gn_metadata_t md;
    cr_assert_eq(gn_metadata_parse(&md, blob, len, NULL, NULL), 0);
    cr_assert_eq(md.version, 15);
    check_all(&md, "spec 293 V15");
    /* runtime APIs: every method's types exist (checked at parse), the
     * subnet and neuron APIs Bittensor needs are there */
    cr_assert_gt(md.n_apis, 5);
    cr_assert_not_null(gn_metadata_api(&md, "NeuronInfoRuntimeApi"));
    cr_assert_not_null(gn_metadata_api(&md, "SubnetInfoRuntimeApi"));
    cr_assert_not_null(gn_metadata_api_method(&md, "Metadata", "metadata_at_version"));
    size_t methods = 0;
    for (uint32_t i = 0; i < md.n_apis; i++)
        methods += md.apis[i].n_methods;
    cr_log_info("spec 293 V15: %u runtime APIs, %zu methods", md.n_apis, methods);
    gn_metadata_free(&md);
    free(b);
}
