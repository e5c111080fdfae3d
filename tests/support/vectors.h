/* Test support: locating ../shared, loading vector files, hex helpers. */
#ifndef GN_TEST_VECTORS_H
#define GN_TEST_VECTORS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ../shared next to the repository, or $GANGLION_SHARED. */
const char *gn_test_shared_dir(void);

/* Load ../shared/<rel> as JSON. When ../shared or the file is missing the
 * calling test is skipped with a message naming the path (never passed);
 * a file that exists but does not parse fails the test. */
json_t *gn_test_load_shared_json(const char *rel);

/* Read ../shared/<rel>, a file of 0x-hex text (the metadata blobs), as
 * bytes; skips like gn_test_load_shared_json when it is missing. */
uint8_t *gn_test_load_shared_hex(const char *rel, size_t *n);

/* Decode 0x-hex that the test data guarantees valid (fails the test if
 * not). Returns malloc'd bytes (never NULL); *n gets the length. */
uint8_t *gn_test_unhex(const char *hex, size_t *n);

/* Assert that bytes print as the 0x-hex `want`; `what` names them. */
void gn_test_assert_hex(const uint8_t *p, size_t n, const char *want, const char *what);

/* Lowercase 0x-hex of bytes, malloc'd. */
char *gn_test_hex(const uint8_t *p, size_t n);

/* A small deterministic PRNG (splitmix64) for property tests; the seed comes
 * from $GANGLION_TEST_SEED when set, and is printed on failure by callers. */
uint64_t gn_test_seed(void);
uint64_t gn_test_rand(uint64_t *state);

#endif
