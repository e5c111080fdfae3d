/* Test support: polkadot-js type strings ("Vec<(u16, u16)>",
 * '{"_enum":[...]}', '{"field":"u64"}') interpreted over ganglion's SCALE
 * primitives, so that every case of ../shared/vectors/scale.json can be
 * decoded to polkadot-js JSON and encoded back from it.
 *
 * This is a test harness, not the runtime type system: the chain's types come
 * from metadata (protocol/value), never from these strings. */
#ifndef GN_TEST_TYPED_SCALE_H
#define GN_TEST_TYPED_SCALE_H

#include <jansson.h>

#include "ganglion/scale.h"

typedef struct ts_type ts_type_t;

/* Parse a type string; NULL with a message in err (cap bytes) on failure. */
ts_type_t *ts_parse(const char *s, char *err, size_t cap);
void ts_free(ts_type_t *t);

/* Decode one value at the reader into polkadot-js JSON (*out); returns 0 or
 * the GN_E* code of the first failing primitive. */
int ts_decode(const ts_type_t *t, gn_scale_reader_t *r, json_t **out);

/* Encode polkadot-js JSON input; GN_EINVAL when the JSON does not fit. */
int ts_encode(const ts_type_t *t, const json_t *v, gn_scale_writer_t *w);

#endif
