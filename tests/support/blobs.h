/* Test support: the real metadata blobs of ../shared/vectors/metadata. */
#ifndef GN_TEST_BLOBS_H
#define GN_TEST_BLOBS_H

#include <jansson.h>

#include "ganglion/metadata.h"

#define GN_TEST_N_BLOBS 3
/* Names of the blobs (without .hex): two subtensor V14, one V15 sample. */
extern const char *const gn_test_blobs[GN_TEST_N_BLOBS];

/* Parse vectors/metadata/<name>.hex (name with or without ".hex"); skips
 * the test when ../shared is missing, fails it when parsing fails. */
void gn_test_load_blob(gn_metadata_t *md, const char *name);
/* vectors/metadata_<name>.json */
json_t *gn_test_blob_vectors(const char *name);

#endif
