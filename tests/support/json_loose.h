/* Test support: compare ganglion's JSON with polkadot-js' toJSON output.
 *
 * The two differ only in naming and a few renderings, which this compare
 * forgives: object keys match ignoring case and '_' (ref_time ~ refTime,
 * size ~ size_); "" equals "0x"; 0x-hex equals the text whose UTF-8 bytes it
 * holds (polkadot-js prints some byte arrays as text); empty {} / [] / null
 * are equal; a map printed as an object equals a list of [key, value]; an
 * integer equals its decimal string, and a decimal equals 0x-hex of the same
 * number (polkadot-js prints integers above 2^53 as hex). */
#ifndef GN_TEST_JSON_LOOSE_H
#define GN_TEST_JSON_LOOSE_H

#include <jansson.h>
#include <stdbool.h>

bool gn_test_json_loose_equal(const json_t *ours, const json_t *theirs);

#endif
