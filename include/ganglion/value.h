/* Dynamic values: any SCALE value, decoded by type id with a metadata's
 * registry and encoded back; and their JSON mapping.
 *
 * Trees live in a gn_arena_t. Byte strings (Vec<u8>, [u8; N], str, bit
 * sequences) are views into the decoded input, which must outlive the tree;
 * values built from JSON keep their bytes in the arena.
 *
 * JSON mapping (gn_value_to_json / gn_value_from_json):
 *   bool                 true / false
 *   integers             numbers while |n| <= 2^53 - 1, else decimal strings
 *                        (from JSON: numbers or decimal strings)
 *   char, str            strings
 *   Vec<u8>, [u8; N]     "0x…" hex (GN_JSON_BYTES_TEXT: valid UTF-8 as text)
 *   AccountId32          SS58 text (prefix 42 unless set); from JSON: SS58
 *                        or 0x-hex
 *   sequences, arrays,   arrays
 *   tuples
 *   () / empty struct    null
 *   struct               object of its Rust field names; a struct of one
 *                        unnamed field is its field's JSON (newtypes);
 *                        unnamed fields otherwise make an array
 *   Option<T>            null or T's JSON
 *   enums                "Name" when every variant is a unit; otherwise
 *                        {"Name": null | field | [fields] | {fields}}
 *   bit sequences        "0x…" of the stored bytes
 * From JSON, field and variant names also match ignoring case and '_'
 * (so polkadot-js' "refTime" fills "ref_time"). Errors name the path of
 * the offending field ("dests[2]: expected an integer"). */
#ifndef GANGLION_VALUE_H
#define GANGLION_VALUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/arena.h"
#include "ganglion/metadata.h"
#include "ganglion/scale.h"

typedef enum {
    GN_VALUE_BOOL,
    GN_VALUE_CHAR,
    GN_VALUE_STR,
    GN_VALUE_UINT,
    GN_VALUE_INT,
    GN_VALUE_BYTES,     /* Vec<u8> and [u8; N] */
    GN_VALUE_SEQUENCE,  /* sequences, arrays, tuples */
    GN_VALUE_COMPOSITE, /* fields in type order; names from the type */
    GN_VALUE_VARIANT,
    GN_VALUE_BITS,
} gn_value_kind_t;

typedef struct gn_value {
    gn_value_kind_t kind;
    uint32_t type;
    union {
        bool b;
        uint32_t ch;
        struct {
            const uint8_t *p;
            size_t n;
        } bytes; /* also STR */
        struct {
            uint8_t le[64]; /* two's complement for INT; 64 for U512 */
            uint8_t width;  /* bytes: 1..64 */
        } num;
        struct {
            struct gn_value *items;
            uint32_t n;
        } seq; /* also COMPOSITE */
        struct {
            const gn_variant_t *variant;
            struct gn_value *fields;
            uint32_t n;
        } var;
        struct {
            const uint8_t *p;
            size_t nbits;
        } bits;
    } u;
} gn_value_t;

/* Nesting beyond this is refused (GN_ERANGE): recursive types on hostile
 * input must not exhaust the stack. */
#define GN_VALUE_MAX_DEPTH 128

/* Decode one value of `type` at the reader (which advances past it). */
int gn_value_decode(const gn_metadata_t *md, uint32_t type, gn_scale_reader_t *r, gn_arena_t *ar,
                    gn_value_t *out);
/* Decode a whole buffer (GN_ETRAILING when bytes are left over). */
int gn_value_decode_all(const gn_metadata_t *md, uint32_t type, const uint8_t *p, size_t n,
                        gn_arena_t *ar, gn_value_t *out);
/* Skip one value of `type` without building anything. */
int gn_value_skip(const gn_metadata_t *md, uint32_t type, gn_scale_reader_t *r);

int gn_value_encode(const gn_metadata_t *md, const gn_value_t *v, gn_scale_writer_t *w);

#define GN_JSON_BYTES_TEXT  1u /* byte strings that are valid UTF-8 as text */
#define GN_JSON_SS58_PREFIX 2u /* use ss58_prefix (else 42, Bittensor's) */

typedef struct gn_json_opts {
    unsigned flags;
    uint16_t ss58_prefix; /* with GN_JSON_SS58_PREFIX; see gn_metadata_ss58_prefix() */
} gn_json_opts_t;

/* NULL only when out of memory. */
json_t *gn_value_to_json(const gn_metadata_t *md, const gn_value_t *v, const gn_json_opts_t *opts);

/* Build a value of `type` from JSON. On error, `err` (cap bytes) says which
 * field and why. */
int gn_value_from_json(const gn_metadata_t *md, uint32_t type, const json_t *j, gn_arena_t *ar,
                       gn_value_t *out, char *err, size_t cap);

/* The name rule of JSON input: equal, or equal ignoring case and '_'. */
bool gn_value_name_matches(const char *a, const char *b);

/* JSON straight to SCALE bytes (from_json then encode). */
int gn_value_encode_json(const gn_metadata_t *md, uint32_t type, const json_t *j,
                         gn_scale_writer_t *w, char *err, size_t cap);

#endif
