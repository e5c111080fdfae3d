/* Synapses on the wire (../shared/spec/wire-protocol.md §1–§4): pure code
 * that turns request headers and bodies into synapse objects, computes the
 * body hash and the signed messages, verifies a request's signature and
 * nonce, and builds the headers and bodies of responses, exactly as the
 * Python SDK v10 does. No I/O, no clocks (times are arguments).
 *
 * A synapse object is a jansson object holding the 7 base fields in order
 * (name, timeout, total_size, header_size, dendrite, axon,
 * computed_body_hash; dendrite and axon complete TerminalInfo objects of 10
 * keys, null where absent), then the class's own fields in declaration
 * order. */
#ifndef GANGLION_SYNAPSE_H
#define GANGLION_SYNAPSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/http.h" /* gn_header_t (the type only) */

/* A field's JSON type as pydantic validates it (§1.3). */
typedef enum {
    GN_SYN_ANY, /* passed through as JSON (nested objects, Tensor...) */
    GN_SYN_STR,
    GN_SYN_INT,
    GN_SYN_FLOAT, /* an int given is coerced to float (it hashes as "1.0") */
    GN_SYN_BOOL,
    GN_SYN_LIST,
    GN_SYN_DICT,
} gn_syn_type_t;

typedef struct gn_syn_field {
    const char *name;
    gn_syn_type_t type;
    bool required;            /* no default: must be in every body, request and response */
    bool nullable;            /* null is a valid value */
    bool frozen;              /* a dendrite keeps its own value when merging a response */
    bool hashed;              /* in required_hash_fields (in field order here) */
    const char *default_json; /* JSON text of the default when not required; NULL: null */
} gn_syn_field_t;

typedef struct gn_syn_class {
    const char *name; /* the class name = the route */
    const gn_syn_field_t *fields;
    size_t n_fields;
} gn_syn_class_t;

/* The plain `Synapse` class (no fields): the ping route. */
extern const gn_syn_class_t GN_SYN_SYNAPSE;

/* H("") = sha3_256 of nothing: the body hash of classes that hash nothing. */
#define GN_SYN_EMPTY_HASH "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"

/* Python str() of a JSON value as it appears after pydantic validation for
 * a field of type t (Appendix A: floats in shortest repr "12.0", "1e-05";
 * True/False/None; lists and dicts in repr with single quotes). *out is
 * malloc'd. */
int gn_py_str(const json_t *v, gn_syn_type_t t, char **out);
/* Python repr of a float into out ("12.0", "0.1", "1e+16", "inf"). */
int gn_py_float(double v, char *out, size_t cap);

/* A fresh object of class c as Python's `Synapse()` builds it: timeout
 * 12.0, sizes 0, all-null terminal infos, computed_body_hash "", defaults
 * of the class's fields and null for its required fields (to be set
 * before use). The 404/400 answers' plain Synapse (§4.6) is
 * gn_synapse_new(&GN_SYN_SYNAPSE, ...). */
int gn_synapse_new(const gn_syn_class_t *c, json_t **out);

/* The header object (§4.2 step 2): a synapse of class c built from the
 * request headers (names lower-case): bt_header_axon_* -> axon,
 * bt_header_dendrite_* -> dendrite, bt_header_input_obj_<f> (base64 of
 * JSON) -> field f, timeout, header_size, total_size, computed_body_hash.
 * GN_EINVAL when it cannot be built (a bad int, a missing required field,
 * bad base64...): the caller answers 400 with gn_syn_msg_400. Absent
 * headers give null (a missing `timeout` is null, not 12.0, as in the
 * SDK); an input_obj header that does not decode is skipped. */
int gn_synapse_from_headers(const gn_syn_class_t *c, const gn_header_t *h, size_t n, json_t **out);
/* The body object (§4.2 step 6): GN_EJSON when the bytes are not JSON
 * (the caller answers 422), GN_EINVAL when they are not a valid synapse of
 * class c (not an object, a required field missing, a value of the wrong
 * type: 500). Values are coerced as pydantic does, unknown keys dropped,
 * base fields completed. */
int gn_synapse_from_body(const gn_syn_class_t *c, const uint8_t *body, size_t len, json_t **out);
/* gn_synapse_from_body for a body already parsed (in: any JSON value, not
 * taken): GN_EINVAL when it is not a valid synapse of class c. The
 * caller's parse decides what is JSON (gn_synapse_from_body refuses an
 * empty body, a BOM and NUL bytes before parsing). */
int gn_synapse_from_json(const gn_syn_class_t *c, const json_t *in, json_t **out);
/* §3.1: the body hash of a synapse object of class c, 64 lowercase hex. */
int gn_synapse_body_hash(const gn_syn_class_t *c, const json_t *syn, char out[65]);

/* §3.2: "{nonce}.{dendrite hotkey}.{axon hotkey}.{uuid}.{body hash}"
 * (NULL strings print as "None"); returns its length or GN_ENOSPC. */
int gn_synapse_message(uint64_t nonce, const char *dendrite_hotkey, const char *axon_hotkey,
                       const char *uuid, const char *body_hash, char *out, size_t cap);

/* §4.3 default verification of a header object by an axon whose hotkey
 * is own_hotkey (SS58), at time now_ns (ns since the epoch). last_nonce:
 * the nonce last accepted for "{dendrite hotkey}:{uuid}" (NULL: none).
 * Unlike SDK v10, a missing signature fails, and the hotkey must be SS58
 * format 42 (§8.5). The freshness window (4 s + timeout) applies, as in
 * the SDK, only with no last_nonce and a version >= 7002000. The
 * signature ("0x" + 128 hex digits, either case) verifies over
 * the raw message or its <Bytes>...</Bytes> form. On failure err gets the
 * SDK's text (e.g. "Nonce is too old, a newer one was last processed")
 * and the return is GN_EBADSIG; on success *nonce is the nonce to store. */
int gn_synapse_verify(const json_t *hdr_obj, const char *own_hotkey, uint64_t now_ns,
                      const uint64_t *last_nonce, uint64_t *nonce, char *err, size_t cap);

/* The header set of a synapse object (§2.3, §4.5, §4.6): name, timeout,
 * bt_header_axon_* and bt_header_dendrite_* of the non-null terminal
 * fields, bt_header_input_obj_* of the required fields (base64 of the
 * empty value of the value's type), header_size, total_size,
 * computed_body_hash (of syn, class c). header_size and total_size (CPython
 * object sizes in the SDK, §2.5) are the bytes of the header lines before
 * them and of the compact body. Values are latin-1 bytes when they fit
 * (as Starlette writes them), control characters become spaces. One
 * malloc'd block holds the array and its NUL-terminated strings:
 * free(*out). */
int gn_synapse_headers(const gn_syn_class_t *c, const json_t *syn, gn_header_t **out, size_t *n);
/* gn_synapse_headers with what the caller already has: body_hash (64 hex
 * digits; NULL: computed from syn) and total_size (the compact body's
 * bytes; NULL: serialized from syn). The same headers when both are what
 * gn_synapse_headers would compute. */
int gn_synapse_headers_ex(const gn_syn_class_t *c, const json_t *syn, const char *body_hash,
                          const size_t *total_size, gn_header_t **out, size_t *n);
/* JSON texts, malloc'd: the axon's compact form (separators "," ":", UTF-8
 * raw) and the Python dendrite's (", " ": ", non-ASCII as \uXXXX). */
char *gn_synapse_json_compact(const json_t *v);
char *gn_synapse_json_python(const json_t *v);
/* gn_synapse_json_python in one pass that also gives (each NULL: not
 * wanted) the text's length, the length gn_synapse_json_compact(v) would
 * have, and the span of the top-level object's "total_size" value in the
 * text (*ts_len 0: no such key). */
char *gn_synapse_json_python_ex(const json_t *v, size_t *len, size_t *compact_len, size_t *ts_off,
                                size_t *ts_len);

/* The SDK's status messages (§4.4), into out (cut at a UTF-8 boundary).
 * 400 prints the request headers as Starlette's Headers repr does:
 * "Headers({'host': '...', ...})", or "Headers(raw=[(b'a', b'1'), ...])"
 * when a name repeats. */
void gn_syn_msg_400(const gn_header_t *h, size_t n, const char *cls, char *out, size_t cap);
void gn_syn_msg_404(const char *name, const char *const *available, size_t n, char *out,
                    size_t cap);
void gn_syn_msg_403(const char *reason, char *out, size_t cap);
void gn_syn_msg_401(const char *why, char *out, size_t cap);
/* "Internal Server Error #<uuid4 text>" from 16 random bytes. */
void gn_syn_msg_500(const uint8_t rnd[16], char *out, size_t cap);
/* RFC 4122 version-4 uuid text (36 chars) from 16 random bytes: the
 * axon's and the dendrite's instance ids. */
void gn_uuid4_text(const uint8_t rnd[16], char out[37]);

#endif
