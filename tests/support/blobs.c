#include "support/blobs.h"

#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "support/vectors.h"

const char *const gn_test_blobs[GN_TEST_N_BLOBS] = {
    "subtensor-mainnet-spec219-v14", "subtensor-testnet-spec224-v14", "polkadot-spec2000000-v15"};

void gn_test_load_blob(gn_metadata_t *md, const char *name)
{
    char rel[256];
    size_t n, len = strlen(name);
    int has_ext = len > 4 && strcmp(name + len - 4, ".hex") == 0;
    snprintf(rel, sizeof(rel), "vectors/metadata/%s%s", name, has_ext ? "" : ".hex");
    uint8_t *bytes = gn_test_load_shared_hex(rel, &n);
    uint8_t version = 0;
    int rc = gn_metadata_parse(md, bytes, n, NULL, &version);
    cr_assert_eq(rc, 0, "%s: %s (version %u)", name, gn_strerror(rc), version);
    free(bytes);
}

json_t *gn_test_blob_vectors(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "vectors/metadata_%s.json", name);
    return gn_test_load_shared_json(rel);
}
