/* Synapses on the wire against the SDK's own bytes: every example of
 * ../shared/spec/wire-examples.json (headers, bodies, hashes, messages,
 * signatures, response headers, status texts) and the Python formatting
 * rules of wire-protocol.md Appendix A. Expected texts that the spec does
 * not spell out were produced with CPython 3.11.7 (repr, json.dumps,
 * Starlette's Headers.__repr__) and are pasted here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/sha3.h"
#include "ganglion/sr25519.h"
#include "ganglion/suri.h"
#include "ganglion/synapse.h"
#include "support/vectors.h"

/* The examples' protocols (wire-examples.json "protocol"). */
static const gn_syn_field_t DUMMY_FIELDS[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_class_t DUMMY = {"Dummy", DUMMY_FIELDS, 2};

static const gn_syn_field_t TEXTQUERY_FIELDS[] = {
    {.name = "prompt", .type = GN_SYN_STR, .required = true, .hashed = true},
    {.name = "temperature", .type = GN_SYN_FLOAT, .default_json = "0.7", .hashed = true},
    {.name = "tags", .type = GN_SYN_LIST, .default_json = "[]", .hashed = true},
    {.name = "completion", .type = GN_SYN_STR, .nullable = true},
};
static const gn_syn_class_t TEXTQUERY = {"TextQuery", TEXTQUERY_FIELDS, 4};

/* One field of every type, for the coercions. */
static const gn_syn_field_t ALL_FIELDS[] = {
    {.name = "i", .type = GN_SYN_INT, .default_json = "0"},
    {.name = "f", .type = GN_SYN_FLOAT, .default_json = "0.5"},
    {.name = "b", .type = GN_SYN_BOOL, .default_json = "false"},
    {.name = "s", .type = GN_SYN_STR, .nullable = true},
    {.name = "l", .type = GN_SYN_LIST, .default_json = "[]"},
    {.name = "d", .type = GN_SYN_DICT, .default_json = "{}"},
    {.name = "a", .type = GN_SYN_ANY, .nullable = true},
};
static const gn_syn_class_t ALL = {"All", ALL_FIELDS, 7};

static json_t *examples(void)
{
    return gn_test_load_shared_json("spec/wire-examples.json");
}

/* Header views over a JSON object of name -> value strings (in order). */
static gn_header_t *headers_of(const json_t *obj, size_t *n)
{
    gn_header_t *h = calloc(json_object_size(obj) + 1, sizeof(*h));
    cr_assert_not_null(h);
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach ((json_t *)obj, k, v) {
        h[i].name = k;
        h[i].name_len = strlen(k);
        h[i].value = json_string_value(v);
        h[i].value_len = json_string_length(v);
        i++;
    }
    *n = i;
    return h;
}

static json_t *from_headers_ok(const gn_syn_class_t *c, const json_t *hdrs)
{
    size_t n;
    gn_header_t *h = headers_of(hdrs, &n);
    json_t *o = NULL;
    int rc = gn_synapse_from_headers(c, h, n, &o);
    free(h);
    cr_assert_eq(rc, 0, "from_headers: %s", gn_strerror(rc));
    return o;
}

static json_t *from_body_ok(const gn_syn_class_t *c, const char *body)
{
    json_t *o = NULL;
    int rc = gn_synapse_from_body(c, (const uint8_t *)body, strlen(body), &o);
    cr_assert_eq(rc, 0, "from_body: %s", gn_strerror(rc));
    return o;
}

static void assert_json_eq(const json_t *a, const json_t *b, const char *what)
{
    if (!json_equal((json_t *)a, (json_t *)b)) {
        char *sa = json_dumps(a, JSON_ENCODE_ANY), *sb = json_dumps(b, JSON_ENCODE_ANY);
        cr_assert_fail("%s: %s != %s", what, sa, sb);
    }
}

static const char *str_at(const json_t *o, const char *path1, const char *path2)
{
    const json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    return json_string_value(v);
}

/* ---- the header object (§4.2 step 2) ---- */

Test(synapse, header_object_of_the_examples)
{
    json_t *ex = examples();
    struct {
        const char *key;
        const gn_syn_class_t *cls;
    } cases[] = {{"example1_dummy", &DUMMY}, {"example2_textquery", &TEXTQUERY}};
    for (size_t i = 0; i < 2; i++) {
        json_t *e = json_object_get(ex, cases[i].key);
        json_t *hdr = from_headers_ok(cases[i].cls, json_object_get(e, "headers"));
        json_t *body = from_body_ok(cases[i].cls, json_string_value(json_object_get(e, "body")));
        /* the headers were made from the same object as the body: the
         * terminal infos and the timeout agree */
        assert_json_eq(json_object_get(hdr, "dendrite"), json_object_get(body, "dendrite"),
                       "dendrite");
        assert_json_eq(json_object_get(hdr, "axon"), json_object_get(body, "axon"), "axon");
        assert_json_eq(json_object_get(hdr, "timeout"), json_object_get(body, "timeout"),
                       "timeout");
        cr_assert(json_is_real(json_object_get(hdr, "timeout")));
        cr_assert_str_eq(str_at(hdr, "name", NULL), cases[i].cls->name);
        cr_assert_str_eq(str_at(hdr, "computed_body_hash", NULL),
                         json_string_value(json_object_get(e, "body_hash")));
        json_t *hs = json_object_get(e, "headers");
        cr_assert_eq(json_integer_value(json_object_get(hdr, "total_size")),
                     atoll(str_at(hs, "total_size", NULL)));
        cr_assert_eq(json_integer_value(json_object_get(hdr, "header_size")),
                     atoll(str_at(hs, "header_size", NULL)));
        /* keys in the SDK's field order */
        const char *order[] = {"name",     "timeout", "total_size",        "header_size",
                               "dendrite", "axon",    "computed_body_hash"};
        void *it = json_object_iter(hdr);
        for (size_t k = 0; k < 7; k++, it = json_object_iter_next(hdr, it))
            cr_assert_str_eq(json_object_iter_key(it), order[k]);
        for (size_t k = 0; k < cases[i].cls->n_fields; k++, it = json_object_iter_next(hdr, it))
            cr_assert_str_eq(json_object_iter_key(it), cases[i].cls->fields[k].name);
        cr_assert_null(it);
        json_decref(hdr);
        json_decref(body);
    }
    /* what 1c says: dummy_input = 0 (from MA==, an empty int), not 5 */
    json_t *hdr =
        from_headers_ok(&DUMMY, json_object_get(json_object_get(ex, "example1_dummy"), "headers"));
    cr_assert(json_is_integer(json_object_get(hdr, "dummy_input")));
    cr_assert_eq(json_integer_value(json_object_get(hdr, "dummy_input")), 0);
    cr_assert(json_is_null(json_object_get(hdr, "dummy_output")));
    cr_assert(json_is_null(json_object_get(json_object_get(hdr, "dendrite"), "port")));
    json_decref(hdr);
    /* 2: prompt "" (IiI=), the other fields their defaults */
    hdr = from_headers_ok(&TEXTQUERY,
                          json_object_get(json_object_get(ex, "example2_textquery"), "headers"));
    cr_assert_str_eq(str_at(hdr, "prompt", NULL), "");
    cr_assert_float_eq(json_real_value(json_object_get(hdr, "temperature")), 0.7, 0);
    cr_assert_eq(json_array_size(json_object_get(hdr, "tags")), 0);
    cr_assert(json_is_null(json_object_get(hdr, "completion")));
    json_decref(hdr);
    json_decref(ex);
}

/* Python's int()/float() on header texts (§1.1), Starlette's first/last
 * rules, the SDK's lenient base64 and skipped input objects. */
Test(synapse, header_object_parsing_rules)
{
    json_t *o = NULL;
#define H(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}
    gn_header_t bad_nonce[] = {H("bt_header_dendrite_nonce", "1.7e18"),
                               H("bt_header_input_obj_dummy_input", "MA==")};
    cr_assert_eq(gn_synapse_from_headers(&DUMMY, bad_nonce, 2, &o), GN_EINVAL);
    gn_header_t bad_time[] = {H("timeout", "12s"), H("bt_header_input_obj_dummy_input", "MA==")};
    cr_assert_eq(gn_synapse_from_headers(&DUMMY, bad_time, 2, &o), GN_EINVAL);
    /* not finite: Python takes it, jansson cannot hold it (documented) */
    gn_header_t inf_time[] = {H("timeout", "inf"), H("bt_header_input_obj_dummy_input", "MA==")};
    cr_assert_eq(gn_synapse_from_headers(&DUMMY, inf_time, 2, &o), GN_EINVAL);
    /* a required field without its header */
    gn_header_t none[] = {H("timeout", "12.0")};
    cr_assert_eq(gn_synapse_from_headers(&DUMMY, none, 1, &o), GN_EINVAL);
    /* bad base64, bad JSON: skipped, so the field is missing */
    gn_header_t b64[] = {H("bt_header_input_obj_dummy_input", "MA")};
    cr_assert_eq(gn_synapse_from_headers(&DUMMY, b64, 1, &o), GN_EINVAL);
    gn_header_t notjson[] = {H("bt_header_input_obj_dummy_input", "e3t7")};
    cr_assert_eq(gn_synapse_from_headers(&DUMMY, notjson, 1, &o), GN_EINVAL);
    gn_header_t nul[] = {H("bt_header_input_obj_dummy_input", "MA=A==")}; /* "0\0" */
    cr_assert_eq(gn_synapse_from_headers(&DUMMY, nul, 1, &o), GN_EINVAL);
    /* a value of the wrong type for the field */
    gn_header_t wrong[] = {H("bt_header_input_obj_dummy_input", "IiI=")};
    cr_assert_eq(gn_synapse_from_headers(&DUMMY, wrong, 1, &o), GN_EINVAL);

    gn_header_t ok[] = {
        H("timeout", " 1_2.5 "),                         /* float(): blanks, underscores */
        H("timeout", "99"),                              /* Headers.get: the first */
        H("bt_header_dendrite_nonce", "+1_767_225_600"), /* int(): sign, underscores */
        H("bt_header_dendrite_version", "1"),
        H("bt_header_dendrite_version", "10002000"),       /* a dict: the last */
        H("bt_header_dendrite_uuid", "caf\xe9"),           /* latin-1 */
        H("bt_header_dendrite_color", "red"),              /* not a TerminalInfo field */
        H("bt_header_axon_port", "0008091"),               /* leading zeros are fine */
        H("bt_header_input_obj_dummy_input", "M A=\n=xx"), /* junk skipped, '==' ends */
        H("bt_header_input_obj_dummy_input", "Nw=="),      /* the first one that decoded */
        H("bt_header_input_obj_dendrite", "e30="),         /* never a base field */
        H("x-bt_header_axon_ip", "1.2.3.4"),               /* "in", not "startswith" */
        H("total_size", "-3"),
    };
    cr_assert_eq(gn_synapse_from_headers(&DUMMY, ok, sizeof(ok) / sizeof(ok[0]), &o), 0);
    cr_assert_float_eq(json_real_value(json_object_get(o, "timeout")), 12.5, 0);
    json_t *d = json_object_get(o, "dendrite"), *a = json_object_get(o, "axon");
    cr_assert_eq(json_integer_value(json_object_get(d, "nonce")), 1767225600);
    cr_assert_eq(json_integer_value(json_object_get(d, "version")), 10002000);
    cr_assert_str_eq(str_at(d, "uuid", NULL), "caf\xc3\xa9");
    cr_assert_null(json_object_get(d, "color"));
    cr_assert_eq(json_object_size(d), 10);
    cr_assert_eq(json_integer_value(json_object_get(a, "port")), 8091);
    cr_assert_str_eq(str_at(a, "ip", NULL), "1.2.3.4");
    cr_assert_eq(json_integer_value(json_object_get(o, "dummy_input")), 0);
    cr_assert_eq(json_integer_value(json_object_get(o, "total_size")), -3);
    cr_assert(json_is_null(json_object_get(o, "header_size")));
    /* absent: null, as the SDK's from_headers leaves it */
    cr_assert(json_is_null(json_object_get(o, "computed_body_hash")));
    json_decref(o);

    /* no headers at all: the plain Synapse, timeout None */
    cr_assert_eq(gn_synapse_from_headers(&GN_SYN_SYNAPSE, NULL, 0, &o), 0);
    cr_assert(json_is_null(json_object_get(o, "timeout")));
    cr_assert_str_eq(str_at(o, "name", NULL), "Synapse");
    json_decref(o);
    /* ... and Synapse(), with the defaults */
    cr_assert_eq(gn_synapse_new(&GN_SYN_SYNAPSE, &o), 0);
    char *t = gn_synapse_json_compact(o);
    cr_assert_str_eq(
        t, "{\"name\":\"Synapse\",\"timeout\":12.0,\"total_size\":0,\"header_size\":0,\"dendrite\":"
           "{\"status_code\":null,\"status_message\":null,\"process_time\":null,\"ip\":null,"
           "\"port\":null,\"version\":null,\"nonce\":null,\"uuid\":null,\"hotkey\":null,"
           "\"signature\":null},\"axon\":{\"status_code\":null,\"status_message\":null,"
           "\"process_time\":null,\"ip\":null,\"port\":null,\"version\":null,\"nonce\":null,"
           "\"uuid\":null,\"hotkey\":null,\"signature\":null},\"computed_body_hash\":\"\"}");
    free(t);
    json_decref(o);
    cr_assert_eq(gn_synapse_new(&TEXTQUERY, &o), 0);
    cr_assert(json_is_null(json_object_get(o, "prompt")));
    cr_assert_float_eq(json_real_value(json_object_get(o, "temperature")), 0.7, 0);
    json_decref(o);
#undef H
}

/* ---- bodies and their hashes (§3.1, §4.2 step 6) ---- */

Test(synapse, body_hash_of_the_examples)
{
    json_t *ex = examples();
    const char *keys[] = {"example1_dummy", "example2_textquery"};
    const gn_syn_class_t *cls[] = {&DUMMY, &TEXTQUERY};
    for (size_t i = 0; i < 2; i++) {
        json_t *e = json_object_get(ex, keys[i]);
        const char *want = json_string_value(json_object_get(e, "body_hash"));
        char h[65];
        json_t *b = from_body_ok(cls[i], json_string_value(json_object_get(e, "body")));
        cr_assert_eq(gn_synapse_body_hash(cls[i], b, h), 0);
        cr_assert_str_eq(h, want);
        /* the dendrite's body, byte for byte, in the Python json.dumps form */
        char *py = gn_synapse_json_python(b);
        cr_assert_str_eq(py, json_string_value(json_object_get(e, "body")));
        cr_assert_eq(strlen(py), (size_t)json_integer_value(json_object_get(e, "body_len")));
        free(py);
        json_decref(b);
        /* the response: its hash is the computed_body_hash header, its
         * compact form the axon's body byte for byte */
        json_t *r = from_body_ok(cls[i], json_string_value(json_object_get(e, "resp_body")));
        cr_assert_eq(gn_synapse_body_hash(cls[i], r, h), 0);
        cr_assert_str_eq(h, str_at(e, "resp_headers", "computed_body_hash"));
        char *c = gn_synapse_json_compact(r);
        cr_assert_str_eq(c, json_string_value(json_object_get(e, "resp_body")));
        cr_assert_eq(strlen(c), (size_t)json_integer_value(json_object_get(e, "resp_len")));
        free(c);
        json_decref(r);
    }
    cr_assert_str_eq(json_string_value(json_object_get(ex, "empty_body_hash")), GN_SYN_EMPTY_HASH);
    /* 2a step by step: str() of each hashed field and its SHA3-256 */
    json_t *e = json_object_get(ex, "example2_textquery");
    json_t *b = from_body_ok(&TEXTQUERY, json_string_value(json_object_get(e, "body")));
    json_t *parts = json_object_get(e, "hash_parts");
    for (size_t i = 0; i < json_array_size(parts); i++) {
        json_t *p = json_array_get(parts, i);
        char *s = NULL;
        cr_assert_eq(
            gn_py_str(json_object_get(b, TEXTQUERY_FIELDS[i].name), TEXTQUERY_FIELDS[i].type, &s),
            0);
        cr_assert_str_eq(s, json_string_value(json_array_get(p, 0)));
        uint8_t d[32];
        gn_sha3_256((const uint8_t *)s, strlen(s), d);
        char *hx = gn_test_hex(d, 32);
        cr_assert_str_eq(hx + 2, json_string_value(json_array_get(p, 1)));
        free(hx);
        free(s);
    }
    json_decref(b);
    /* "had the client sent "temperature": 1 the axon would hash 1.0" */
    b = from_body_ok(&TEXTQUERY, "{\"prompt\": \"Define \\u03c4 (tau) in one line.\", "
                                 "\"temperature\": 1, \"tags\": [\"math\", \"greek\"]}");
    char *s = NULL;
    cr_assert_eq(gn_py_str(json_object_get(b, "temperature"), GN_SYN_FLOAT, &s), 0);
    cr_assert_str_eq(s, "1.0");
    free(s);
    char h1[65], h2[65];
    json_object_set_new(b, "temperature", json_real(1.0));
    cr_assert_eq(gn_synapse_body_hash(&TEXTQUERY, b, h1), 0);
    json_object_set_new(b, "temperature", json_integer(1));
    cr_assert_eq(gn_synapse_body_hash(&TEXTQUERY, b, h2), 0);
    cr_assert_str_eq(h1, h2);
    /* hashed fields are hashed even when null ("None") */
    json_object_set_new(b, "tags", json_null());
    cr_assert_eq(gn_synapse_body_hash(&TEXTQUERY, b, h2), 0);
    cr_assert_str_neq(h1, h2);
    json_decref(b);
    json_decref(ex);
}

Test(synapse, body_coercions_and_refusals)
{
    json_t *o = NULL;
#define BODY(c, s) gn_synapse_from_body(c, (const uint8_t *)(s), strlen(s), &o)
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": 5"), GN_EJSON);
    cr_assert_eq(BODY(&DUMMY, "   "), GN_EJSON);
    cr_assert_eq(gn_synapse_from_body(&DUMMY, (const uint8_t *)"", 0, &o), GN_EINVAL);
    cr_assert_eq(BODY(&DUMMY, "[1]"), GN_EINVAL);
    /* a NUL after the value: not JSON for Python (jansson would stop there) */
    cr_assert_eq(gn_synapse_from_body(&DUMMY, (const uint8_t *)"{\"dummy_input\": 5}\0x", 20, &o),
                 GN_EJSON);
    /* FastAPI reads a BOM, the SDK's json.loads(body.decode()) then fails: 500 */
    cr_assert_eq(BODY(&DUMMY, "\xef\xbb\xbf{\"dummy_input\": 5}"), GN_EINVAL);
    cr_assert_eq(BODY(&DUMMY, "{}"), GN_EINVAL); /* dummy_input is required */
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": 5.5}"), GN_EINVAL);
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": null}"), GN_EINVAL);
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": [5]}"), GN_EINVAL);
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": 5, \"axon\": \"x\"}"), GN_EINVAL);
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": 5, \"axon\": {\"port\": \"80x\"}}"), GN_EINVAL);
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": 5, \"axon\": {\"ip\": 7}}"), GN_EINVAL);
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": 5, \"timeout\": \"soon\"}"), GN_EINVAL);
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": 5, \"computed_body_hash\": 1}"), GN_EINVAL);
    cr_assert_eq(BODY(&TEXTQUERY, "{\"prompt\": 5}"), GN_EINVAL); /* no int -> str */
    cr_assert_eq(BODY(&TEXTQUERY, "{\"prompt\": \"p\", \"tags\": {}}"), GN_EINVAL);

    /* the SDK's cast_int / cast_float on the base fields; defaults */
    cr_assert_eq(BODY(&DUMMY, "{\"dummy_input\": \"7\", \"total_size\": 5.9, \"header_size\": "
                              "true, \"timeout\": \" 3 \", \"name\": \"Other\", \"x\": 1, "
                              "\"dendrite\": null, \"axon\": {\"port\": \"8_091\", "
                              "\"process_time\": 1}}"),
                 0);
    cr_assert_str_eq(str_at(o, "name", NULL), "Dummy");
    cr_assert_eq(json_integer_value(json_object_get(o, "dummy_input")), 7);
    cr_assert_eq(json_integer_value(json_object_get(o, "total_size")), 5);
    cr_assert_eq(json_integer_value(json_object_get(o, "header_size")), 1);
    cr_assert_float_eq(json_real_value(json_object_get(o, "timeout")), 3.0, 0);
    cr_assert_null(json_object_get(o, "x"));
    cr_assert_eq(json_object_size(json_object_get(o, "dendrite")), 10);
    json_t *a = json_object_get(o, "axon");
    cr_assert_eq(json_integer_value(json_object_get(a, "port")), 8091);
    cr_assert(json_is_real(json_object_get(a, "process_time")));
    cr_assert_str_eq(str_at(o, "computed_body_hash", NULL), "");
    cr_assert(json_is_null(json_object_get(o, "dummy_output")));
    json_decref(o);

    /* pydantic's lax Python mode per field type */
    cr_assert_eq(BODY(&ALL, "{\"i\": \" 1_000 \", \"f\": \"2.5\", \"b\": \"YES\", \"s\": null, "
                            "\"l\": [1, \"x\"], \"d\": {\"k\": []}, \"a\": {\"z\": 1}}"),
                 0);
    cr_assert_eq(json_integer_value(json_object_get(o, "i")), 1000);
    cr_assert_float_eq(json_real_value(json_object_get(o, "f")), 2.5, 0);
    cr_assert(json_is_true(json_object_get(o, "b")));
    json_decref(o);
    cr_assert_eq(BODY(&ALL, "{\"i\": \"12.000\", \"f\": true, \"b\": 0}"), 0);
    cr_assert_eq(json_integer_value(json_object_get(o, "i")), 12);
    cr_assert(json_is_real(json_object_get(o, "f")));
    cr_assert(json_is_false(json_object_get(o, "b")));
    cr_assert(json_is_null(json_object_get(o, "s")));
    json_decref(o);
    cr_assert_eq(BODY(&ALL, "{\"i\": true, \"f\": 3, \"b\": 1.0}"), 0);
    cr_assert_eq(json_integer_value(json_object_get(o, "i")), 1);
    cr_assert(json_is_real(json_object_get(o, "f")));
    cr_assert(json_is_true(json_object_get(o, "b")));
    json_decref(o);
    const char *refused[] = {
        "{\"i\": \"1e3\"}",   "{\"i\": \"__1\"}",  "{\"i\": 1e300}",     "{\"b\": 2}",
        "{\"b\": \"maybe\"}", "{\"f\": \"inf\"}",  "{\"f\": \"1e999\"}", "{\"s\": 1}",
        "{\"l\": \"abc\"}",   "{\"d\": [1]}",      "{\"f\": []}",        "{\"i\": null}",
        "{\"f\": \"0x10\"}",  "{\"i\": \"1__0\"}", "{\"b\": 0.5}",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        cr_assert_eq(BODY(&ALL, refused[i]), GN_EINVAL, "%s", refused[i]);
    /* Python json takes these, jansson does not (documented) */
    cr_assert_eq(BODY(&ALL, "{\"f\": NaN}"), GN_EJSON);
    cr_assert_eq(BODY(&ALL, "{\"i\": 99999999999999999999}"), GN_EJSON);
#undef BODY
}

/* ---- the signed message and verification (§3.2, §4.3) ---- */

Test(synapse, signed_message_of_the_examples)
{
    json_t *ex = examples();
    const char *keys[] = {"example1_dummy", "example2_textquery"};
    for (size_t i = 0; i < 2; i++) {
        json_t *e = json_object_get(ex, keys[i]), *hs = json_object_get(e, "headers");
        char m[512];
        int k = gn_synapse_message(strtoull(str_at(hs, "bt_header_dendrite_nonce", NULL), NULL, 10),
                                   str_at(hs, "bt_header_dendrite_hotkey", NULL),
                                   str_at(ex, "keys", "axon_hotkey"),
                                   str_at(hs, "bt_header_dendrite_uuid", NULL),
                                   str_at(hs, "computed_body_hash", NULL), m, sizeof(m));
        cr_assert_str_eq(m, json_string_value(json_object_get(e, "message")));
        cr_assert_eq(k, (int)strlen(m));
        cr_assert_str_eq(m, json_string_value(json_object_get(e, "axon_verify_message")));
        cr_assert_eq(gn_synapse_message(1, "a", "b", "c", "d", m, 9), GN_ENOSPC);
    }
    json_decref(ex);
}

typedef struct vcase {
    json_t *ex, *hdr;
    uint64_t nonce;
    const char *own, *msg, *sig;
} vcase_t;

static vcase_t vsetup(const char *key, const gn_syn_class_t *c)
{
    vcase_t v = {0};
    v.ex = examples();
    json_t *e = json_object_get(v.ex, key);
    v.hdr = from_headers_ok(c, json_object_get(e, "headers"));
    v.nonce = strtoull(str_at(e, "headers", "bt_header_dendrite_nonce"), NULL, 10);
    v.own = str_at(v.ex, "keys", "axon_hotkey");
    v.msg = json_string_value(json_object_get(e, "message"));
    v.sig = str_at(e, "headers", "bt_header_dendrite_signature");
    return v;
}

static int verify(const vcase_t *v, uint64_t now, const uint64_t *last, char *err, size_t cap)
{
    uint64_t n = 0;
    int rc = gn_synapse_verify(v->hdr, v->own, now, last, &n, err, cap);
    if (rc == 0)
        cr_assert_eq(n, v->nonce);
    return rc;
}

static void set_dendrite(vcase_t *v, const char *k, json_t *val)
{
    json_object_set_new(json_object_get(v->hdr, "dendrite"), k, val);
}

Test(synapse, verify_the_examples)
{
    const char *keys[] = {"example1_dummy", "example2_textquery"};
    const gn_syn_class_t *cls[] = {&DUMMY, &TEXTQUERY};
    for (size_t i = 0; i < 2; i++) {
        vcase_t v = vsetup(keys[i], cls[i]);
        char err[1024];
        /* 64 ms after signing (1c), first contact */
        cr_assert_eq(verify(&v, v.nonce + 64000000, NULL, err, sizeof(err)), 0, "%s", err);
        cr_assert_str_eq(err, "");
        /* a stored older nonce: fine, and the window is not checked */
        uint64_t older = v.nonce - 1;
        cr_assert_eq(verify(&v, v.nonce + 3600000000000ull, &older, err, sizeof(err)), 0);
        /* replayed */
        cr_assert_eq(verify(&v, v.nonce + 64000000, &v.nonce, err, sizeof(err)), GN_EBADSIG);
        cr_assert_str_eq(err, "Nonce is too old, a newer one was last processed");
        uint64_t newer = v.nonce + 1;
        cr_assert_eq(verify(&v, v.nonce, &newer, err, sizeof(err)), GN_EBADSIG);
        cr_assert_str_eq(err, "Nonce is too old, a newer one was last processed");
        /* stale: 4 s + timeout (12 s, 20 s) */
        cr_assert_eq(verify(&v, v.nonce + 60000000000ull, NULL, err, sizeof(err)), GN_EBADSIG);
        cr_assert_str_eq(err, i == 0 ? "Nonce is too old: acceptable delta is 16.00 seconds but "
                                       "request was 60.00 seconds old"
                                     : "Nonce is too old: acceptable delta is 24.00 seconds but "
                                       "request was 60.00 seconds old");
        /* addressed to another hotkey (Alice's own) */
        const char *alice = str_at(v.ex, "keys", "dendrite_hotkey");
        uint64_t n = 0;
        cr_assert_eq(gn_synapse_verify(v.hdr, alice, v.nonce + 1, NULL, &n, err, sizeof(err)),
                     GN_EBADSIG);
        char want[1024], m2[512];
        gn_synapse_message(v.nonce, alice, alice, str_at(v.hdr, "dendrite", "uuid"),
                           str_at(v.hdr, "computed_body_hash", NULL), m2, sizeof(m2));
        snprintf(want, sizeof(want), "Signature mismatch with %s and %s", m2, v.sig);
        cr_assert_str_eq(err, want);
        json_decref(v.hdr);
        json_decref(v.ex);
    }
}

/* Python's window arithmetic is float arithmetic once a timeout is set:
 * with timeout 12.0 the nonce counts as old only from 16 s + 107 ns
 * (CPython 3.11: n <= (now - 4_000_000_000) - 12.0 * 1_000_000_000). */
Test(synapse, verify_window_edges)
{
    vcase_t v = vsetup("example1_dummy", &DUMMY);
    char err[512];
    cr_assert_eq(verify(&v, v.nonce + 16000000106ull, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(verify(&v, v.nonce + 16000000107ull, NULL, err, sizeof(err)), GN_EBADSIG);
    cr_assert_str_eq(err, "Nonce is too old: acceptable delta is 16.00 seconds but request was "
                          "16.00 seconds old");
    /* no timeout header: 4 s exactly, int arithmetic */
    json_object_set_new(v.hdr, "timeout", json_null());
    cr_assert_eq(verify(&v, v.nonce + 3999999999ull, NULL, err, sizeof(err)), 0);
    cr_assert_eq(verify(&v, v.nonce + 4000000000ull, NULL, err, sizeof(err)), GN_EBADSIG);
    cr_assert_str_eq(
        err, "Nonce is too old: acceptable delta is 4.00 seconds but request was 4.00 seconds old");
    /* a pre-7.2 caller: no window at all (§4.3 step 5) */
    set_dendrite(&v, "version", json_integer(7001000));
    cr_assert_eq(verify(&v, v.nonce + 3600000000000ull, NULL, err, sizeof(err)), 0);
    set_dendrite(&v, "version", json_null());
    cr_assert_eq(verify(&v, v.nonce + 3600000000000ull, NULL, err, sizeof(err)), 0);
    json_decref(v.hdr);
    json_decref(v.ex);
}

Test(synapse, verify_refusals)
{
    vcase_t v = vsetup("example1_dummy", &DUMMY);
    char err[1024];
    uint64_t now = v.nonce + 1000;
    struct {
        const char *key;
        json_t *val;
        const char *want;
    } cases[] = {
        {"signature", json_null(), "Missing signature"},
        {"signature", json_string(""), "Missing signature"},
        {"signature", json_string(v.sig + 2), "Invalid signature format. Expected hex string."},
        {"signature", json_string("0X00"), "Invalid signature format. Expected hex string."},
        {"signature", json_string("0x123"), "Invalid hex string: OddLength"},
        {"signature", json_string("0x00g0"),
         "Invalid hex string: InvalidHexCharacter { c: 'g', index: 2 }"},
        {"signature", json_string("0xabcd"), "Invalid signature"},
        {"nonce", json_null(), "Missing Nonce"},
        {"hotkey", json_null(), "No SS58 formatted address or public key provided."},
        {"hotkey", json_string("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"),
         "Invalid SS58 address: Invalid checksum"},
        {"hotkey", json_string("hello"), "Invalid SS58 address: Base 58 requirement is violated"},
        {"hotkey", json_string("5GrwvaEF"), "Invalid SS58 address: Length is bad"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *d = json_object_get(v.hdr, "dendrite");
        json_t *keep = json_incref(json_object_get(d, cases[i].key));
        set_dendrite(&v, cases[i].key, cases[i].val);
        cr_assert_eq(verify(&v, now, NULL, err, sizeof(err)), GN_EBADSIG, "%zu", i);
        cr_assert_str_eq(err, cases[i].want);
        set_dendrite(&v, cases[i].key, keep);
    }
    /* garbled: one bit of the signature, then the uppercase form (accepted) */
    char sig[131];
    strcpy(sig, v.sig);
    sig[10] = sig[10] == '0' ? '1' : '0';
    set_dendrite(&v, "signature", json_string(sig));
    cr_assert_eq(verify(&v, now, NULL, err, sizeof(err)), GN_EBADSIG);
    char want[1024];
    snprintf(want, sizeof(want), "Signature mismatch with %s and %s", v.msg, sig);
    cr_assert_str_eq(err, want);
    strcpy(sig, v.sig);
    for (char *p = sig + 2; *p; p++)
        *p = (char)(*p >= 'a' ? *p - 32 : *p);
    set_dendrite(&v, "signature", json_string(sig));
    cr_assert_eq(verify(&v, now, NULL, err, sizeof(err)), 0, "%s", err);
    /* a body hash that is not the signed one */
    json_object_set_new(v.hdr, "computed_body_hash", json_string(GN_SYN_EMPTY_HASH "0"));
    cr_assert_eq(verify(&v, now, NULL, err, sizeof(err)), GN_EBADSIG);
    cr_assert(strncmp(err, "Signature mismatch with ", 24) == 0);
    /* a small err buffer is cut, never overrun */
    char small[8];
    cr_assert_eq(verify(&v, now, NULL, small, sizeof(small)), GN_EBADSIG);
    cr_assert_str_eq(small, "Signatu");
    json_decref(v.hdr);

    /* the signature header missing from the request itself */
    json_t *hs =
        json_deep_copy(json_object_get(json_object_get(v.ex, "example1_dummy"), "headers"));
    json_object_del(hs, "bt_header_dendrite_signature");
    v.hdr = from_headers_ok(&DUMMY, hs);
    cr_assert_eq(verify(&v, now, NULL, err, sizeof(err)), GN_EBADSIG);
    cr_assert_str_eq(err, "Missing signature");
    json_decref(v.hdr);
    json_decref(hs);
    json_decref(v.ex);
}

/* polkadot-js signRaw signs "<Bytes>" + message + "</Bytes>": btwallet
 * accepts it, so do we; the raw form is what our dendrite signs. */
Test(synapse, verify_bytes_wrapped_signature)
{
    vcase_t v = vsetup("example2_textquery", &TEXTQUERY);
    gn_sr25519_keypair_t alice;
    uint8_t rnd[32] = {7};
    cr_assert_eq(gn_suri_keypair(str_at(v.ex, "keys", "dendrite_suri"), 7, rnd, &alice, NULL, NULL),
                 0);
    char wrapped[512];
    snprintf(wrapped, sizeof(wrapped), "<Bytes>%s</Bytes>", v.msg);
    const char *forms[] = {wrapped, v.msg};
    for (size_t i = 0; i < 2; i++) {
        uint8_t sig[64];
        char hex[131];
        cr_assert_eq(gn_sr25519_sign(&alice, (const uint8_t *)forms[i], strlen(forms[i]), rnd, sig),
                     0);
        gn_hex_encode(sig, 64, 1, hex, sizeof(hex));
        set_dendrite(&v, "signature", json_string(hex));
        char err[512];
        cr_assert_eq(verify(&v, v.nonce + 1, NULL, err, sizeof(err)), 0, "%s", err);
    }
    gn_sr25519_wipe(&alice);
    json_decref(v.hdr);
    json_decref(v.ex);
}

/* ---- response headers (§2.3, §4.5, §4.6) ---- */

/* Our header set equals the SDK's, name for name and in order, but for the
 * CPython object sizes (§2.5), which are any integers. */
static void assert_headers(const gn_header_t *h, size_t n, const json_t *want)
{
    cr_assert_eq(n, json_object_size(want));
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach ((json_t *)want, k, v) {
        cr_assert_eq(h[i].name_len, strlen(k));
        cr_assert(!memcmp(h[i].name, k, h[i].name_len), "header %zu: %.*s != %s", i,
                  (int)h[i].name_len, h[i].name, k);
        if (strcmp(k, "header_size") && strcmp(k, "total_size")) {
            cr_assert_eq(h[i].value_len, json_string_length(v), "%s", k);
            cr_assert(!memcmp(h[i].value, json_string_value(v), h[i].value_len), "%s: %.*s != %s",
                      k, (int)h[i].value_len, h[i].value, json_string_value(v));
        } else {
            char num[32];
            snprintf(num, sizeof(num), "%.*s", (int)h[i].value_len, h[i].value);
            char *end;
            strtoll(num, &end, 10);
            cr_assert(*num && !*end, "%s: %s", k, num);
        }
        cr_assert_eq(h[i].name[h[i].name_len], 0);
        cr_assert_eq(h[i].value[h[i].value_len], 0);
        i++;
    }
}

static void check_headers(const gn_syn_class_t *c, const json_t *syn, const json_t *want)
{
    gn_header_t *h = NULL;
    size_t n = 0;
    cr_assert_eq(gn_synapse_headers(c, syn, &h, &n), 0);
    assert_headers(h, n, want);
    free(h);
}

Test(synapse, response_headers_of_the_examples)
{
    json_t *ex = examples();
    const char *keys[] = {"example1_dummy", "example2_textquery"};
    const gn_syn_class_t *cls[] = {&DUMMY, &TEXTQUERY};
    for (size_t i = 0; i < 2; i++) {
        json_t *e = json_object_get(ex, keys[i]);
        /* 200: the handler's object as the body shows it */
        json_t *r = from_body_ok(cls[i], json_string_value(json_object_get(e, "resp_body")));
        check_headers(cls[i], r, json_object_get(e, "resp_headers"));
        json_decref(r);
        /* the request's header set, from the dendrite's object */
        json_t *b = from_body_ok(cls[i], json_string_value(json_object_get(e, "body")));
        check_headers(cls[i], b, json_object_get(e, "headers"));
        json_decref(b);
    }

    /* 403 (example 3): the request's header object after the blacklist,
     * with the axon's own identity (§4.2 step 2) and status */
    json_t *e3 = json_object_get(ex, "example3_blacklisted");
    json_t *rh = json_object_get(e3, "resp_headers");
    json_t *hdr =
        from_headers_ok(&DUMMY, json_object_get(json_object_get(ex, "example1_dummy"), "headers"));
    json_t *d = json_object_get(hdr, "dendrite"), *a = json_object_get(hdr, "axon");
    json_object_set_new(d, "ip", json_string(str_at(ex, "fixed", "dendrite_ip")));
    json_object_set(d, "port", json_object_get(json_object_get(ex, "fixed"), "dendrite_src_port"));
    json_object_set(a, "version", json_object_get(json_object_get(ex, "fixed"), "version"));
    json_object_set_new(a, "uuid", json_string(str_at(ex, "fixed", "axon_uuid")));
    json_object_set_new(a, "nonce",
                        json_integer(strtoll(str_at(rh, "bt_header_axon_nonce", NULL), NULL, 10)));
    char msg[512];
    gn_syn_msg_403("Hotkey has no validator permit", msg, sizeof(msg));
    cr_assert_str_eq(msg, str_at(rh, "bt_header_axon_status_message", NULL));
    json_object_set_new(a, "status_code", json_integer(403));
    json_object_set_new(a, "status_message", json_string(msg));
    json_object_set_new(a, "process_time", json_real(0.0021970272064208984));
    json_object_set_new(a, "signature", json_string(str_at(rh, "bt_header_axon_signature", NULL)));
    check_headers(&DUMMY, hdr, rh);
    json_decref(hdr);
    json_t *body = json_pack("{s:s}", "message", msg);
    char *bt = gn_synapse_json_compact(body);
    cr_assert_str_eq(bt, json_string_value(json_object_get(e3, "resp_body")));
    free(bt);
    json_decref(body);

    /* 404 (example 4): a plain Synapse() with the axon's status */
    json_t *e4 = json_object_get(ex, "example4_unknown_synapse");
    const char *avail[] = {"Synapse", "Dummy"};
    gn_syn_msg_404("Foo", avail, 2, msg, sizeof(msg));
    rh = json_object_get(e4, "resp_headers");
    cr_assert_str_eq(msg, str_at(rh, "bt_header_axon_status_message", NULL));
    json_t *syn = NULL;
    cr_assert_eq(gn_synapse_new(&GN_SYN_SYNAPSE, &syn), 0);
    a = json_object_get(syn, "axon");
    json_object_set_new(a, "status_code", json_integer(404));
    json_object_set_new(a, "status_message", json_string(msg));
    json_object_set_new(a, "process_time", json_real(0.0001678466796875));
    check_headers(&GN_SYN_SYNAPSE, syn, rh);
    json_decref(syn);
    body = json_pack("{s:s}", "message", msg);
    bt = gn_synapse_json_compact(body);
    cr_assert_str_eq(bt, json_string_value(json_object_get(e4, "resp_body")));
    free(bt);
    json_decref(body);
    json_decref(ex);
}

Test(synapse, header_values_and_input_objects)
{
    json_t *ex = examples();
    /* §2.3's table: json.dumps of the empty value of the value's type */
    json_t *tbl = json_object_get(ex, "input_obj_empty_values");
    const struct {
        const char *key, *body;
    } cases[] = {
        {"''", "{\"s\": \"x\"}"},   {"0", "{\"i\": 5}"},       {"0.0", "{\"f\": 5}"},
        {"False", "{\"b\": true}"}, {"[]", "{\"l\": [1, 2]}"}, {"{}", "{\"d\": {\"k\": 1}}"},
        {"()", "{\"l\": []}"},
    };
    static const gn_syn_field_t REQ[] = {
        {.name = "i", .type = GN_SYN_INT, .required = true},
        {.name = "f", .type = GN_SYN_FLOAT, .required = true},
        {.name = "b", .type = GN_SYN_BOOL, .required = true},
        {.name = "s", .type = GN_SYN_STR, .required = true},
        {.name = "l", .type = GN_SYN_LIST, .required = true},
        {.name = "d", .type = GN_SYN_DICT, .required = true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const gn_syn_field_t *f = NULL;
        for (size_t k = 0; k < 6; k++)
            if (cases[i].body[2] == REQ[k].name[0])
                f = &REQ[k];
        gn_syn_class_t one = {"One", f, 1};
        json_t *o = from_body_ok(&one, cases[i].body);
        gn_header_t *h;
        size_t n;
        cr_assert_eq(gn_synapse_headers(&one, o, &h, &n), 0);
        char name[64];
        snprintf(name, sizeof(name), "bt_header_input_obj_%s", f->name);
        bool found = false;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(h[k].name, name)) {
                cr_assert_str_eq(h[k].value,
                                 str_at(json_object_get(tbl, cases[i].key), "base64", NULL));
                found = true;
            }
        cr_assert(found, "%s", name);
        /* and the header object reads the empty value back into the field */
        json_t *back = NULL;
        cr_assert_eq(gn_synapse_from_headers(&one, h, n, &back), 0);
        char *txt = gn_synapse_json_compact(json_object_get(back, f->name));
        cr_assert_str_eq(txt, str_at(json_object_get(tbl, cases[i].key), "json", NULL));
        free(txt);
        json_decref(back);
        free(h);
        json_decref(o);
    }
    /* a required field that is null has no header (§2.3) */
    gn_syn_field_t nreq = {.name = "s", .type = GN_SYN_STR, .required = true, .nullable = true};
    gn_syn_class_t cn = {"N", &nreq, 1};
    json_t *o = from_body_ok(&cn, "{\"s\": null, \"timeout\": null}");
    gn_header_t *h;
    size_t n;
    cr_assert_eq(gn_synapse_headers(&cn, o, &h, &n), 0);
    cr_assert_eq(n, 5); /* name, timeout, sizes, hash */
    cr_assert_str_eq(h[1].value, "None");
    free(h);
    json_decref(o);
    /* values: latin-1 when they fit, control characters blanked */
    o = from_body_ok(&DUMMY, "{\"dummy_input\": 1, \"axon\": {\"status_message\": "
                             "\"caf\\u00e9\\r\\nX: y\", \"ip\": \"\\u03c4\"}}");
    cr_assert_eq(gn_synapse_headers(&DUMMY, o, &h, &n), 0);
    cr_assert_str_eq(h[2].name, "bt_header_axon_status_message");
    cr_assert_str_eq(h[2].value, "caf\xe9  X: y");
    cr_assert_str_eq(h[3].name, "bt_header_axon_ip");
    cr_assert_str_eq(h[3].value, "\xcf\x84");
    free(h);
    json_decref(o);
    json_decref(ex);
}

/* ---- status messages (§4.4) ---- */

Test(synapse, status_messages)
{
    char m[4096];
    gn_syn_msg_401("Nonce is too old, a newer one was last processed", m, sizeof(m));
    cr_assert_str_eq(m,
                     "Not Verified with error: Nonce is too old, a newer one was last processed");
    const char *avail[] = {"Synapse", "it's"};
    gn_syn_msg_404("", avail, 2, m, sizeof(m));
    cr_assert_str_eq(m, "Synapse name '' not found. Available synapses ['Synapse', \"it's\"]");
    gn_syn_msg_404("docs", avail, 0, m, sizeof(m));
    cr_assert_str_eq(m, "Synapse name 'docs' not found. Available synapses []");
    /* uuid4 text with the version and variant bits (Python's uuid.UUID) */
    uint8_t z[16] = {0}, f[16];
    memset(f, 0xff, sizeof(f));
    gn_syn_msg_500(z, m, sizeof(m));
    cr_assert_str_eq(m, "Internal Server Error #00000000-0000-4000-8000-000000000000");
    gn_syn_msg_500(f, m, sizeof(m));
    cr_assert_str_eq(m, "Internal Server Error #ffffffff-ffff-4fff-bfff-ffffffffffff");
    uint8_t r[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                     0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
    gn_syn_msg_500(r, m, sizeof(m));
    cr_assert_str_eq(m, "Internal Server Error #12345678-9abc-4ef0-9234-56789abcdef0");
    gn_syn_msg_500(r, m, 10);
    cr_assert_str_eq(m, "Internal ");
}

/* 400: every request header, as Starlette's Headers prints itself (a dict
 * of latin-1 texts; the raw byte pairs when a name repeats). Expected texts
 * from CPython 3.11: "Headers(%r)" % dict(items) / "Headers(raw=%r)". */
Test(synapse, status_message_400)
{
    json_t *ex = examples();
    json_t *hs = json_object();
    json_object_set_new(hs, "host", json_string("203.0.113.7:8091"));
    json_object_update(hs, json_object_get(json_object_get(ex, "example1_dummy"), "headers"));
    json_object_set_new(hs, "accept", json_string("*/*"));
    json_object_set_new(hs, "accept-encoding", json_string("gzip, deflate"));
    json_object_set_new(hs, "user-agent", json_string("Python/3.11 aiohttp/3.11.18"));
    json_object_set_new(hs, "content-length", json_string("803"));
    json_object_set_new(hs, "content-type", json_string("application/json"));
    size_t n;
    gn_header_t *h = headers_of(hs, &n);
    char m[8192];
    gn_syn_msg_400(h, n, "Dummy", m, sizeof(m));
    cr_assert_str_eq(
        m,
        "Improperly formatted request. Could not parse headers Headers({'host': "
        "'203.0.113.7:8091', 'name': 'Dummy', 'timeout': '12.0', 'bt_header_axon_ip': "
        "'203.0.113.7', 'bt_header_axon_port': '8091', 'bt_header_axon_hotkey': "
        "'5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty', 'bt_header_dendrite_ip': "
        "'198.51.100.23', 'bt_header_dendrite_version': '10002000', 'bt_header_dendrite_nonce': "
        "'1767225600123456789', 'bt_header_dendrite_uuid': '3b241101-e2bb-11f0-9c3a-0242ac110002', "
        "'bt_header_dendrite_hotkey': '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY', "
        "'bt_header_dendrite_signature': "
        "'0x843a0f2b9e335ae5d3e457cfcc7cd7c8ee77fa6a60f738348fac8a671cd0a771180d3879c923b1a1e42a0"
        "57ac7c16d2d2311244afea0064f390692008da85080', 'bt_header_input_obj_dummy_input': 'MA==', "
        "'header_size': '464', 'total_size': '3045', 'computed_body_hash': "
        "'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a', 'accept': '*/*', "
        "'accept-encoding': 'gzip, deflate', 'user-agent': 'Python/3.11 aiohttp/3.11.18', "
        "'content-length': '803', 'content-type': 'application/json'}) into synapse of type "
        "Dummy.");
    free(h);
    json_decref(hs);
    json_decref(ex);
#define H(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}
    gn_header_t tricky[] = {H("x-q", "it's"), H("x-d", "say \"hi\""), H("x-b", "both'\""),
                            H("x-l", "caf\xe9 \xa0\x85\xad\xff"), H("x-c", "a\x01\tb\\")};
    gn_syn_msg_400(tricky, 5, "TextQuery", m, sizeof(m));
    cr_assert_str_eq(m, "Improperly formatted request. Could not parse headers Headers({'x-q': "
                        "\"it's\", 'x-d': 'say \"hi\"', 'x-b': 'both\\'\"', 'x-l': "
                        "'caf\xc3\xa9 \\xa0\\x85\\xad\xc3\xbf', 'x-c': 'a\\x01\\tb\\\\'}) into "
                        "synapse of type TextQuery.");
    gn_header_t dup[] = {H("a", "1"), H("a", "2"), H("b", "it's"), H("c", "\xe9\\")};
    gn_syn_msg_400(dup, 4, "Dummy", m, sizeof(m));
    cr_assert_str_eq(m, "Improperly formatted request. Could not parse headers Headers(raw=[(b'a', "
                        "b'1'), (b'a', b'2'), (b'b', b\"it's\"), (b'c', b'\\xe9\\\\')]) into "
                        "synapse of type Dummy.");
    gn_syn_msg_400(NULL, 0, "Dummy", m, sizeof(m));
    cr_assert_str_eq(m, "Improperly formatted request. Could not parse headers Headers({}) into "
                        "synapse of type Dummy.");
    /* cut to the buffer at a UTF-8 boundary */
    gn_header_t u[] = {H("x", "\xe9\xe9\xe9")};
    char small[71];
    gn_syn_msg_400(u, 1, "D", small, sizeof(small));
    cr_assert_str_eq(small, "Improperly formatted request. Could not parse headers Headers({'x': "
                            "'");
#undef H
}

/* ---- Python formatting (Appendix A) ---- */

Test(synapse, py_float_appendix_a)
{
    const struct {
        double v;
        const char *s;
    } cases[] = {
        {12.0, "12.0"},
        {0.25, "0.25"},
        {0.0001, "0.0001"},
        {1234567890123456.0, "1234567890123456.0"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1e-05, "1e-05"},
        {1.5e-05, "1.5e-05"},
        {1e16, "1e+16"},
        {1e22, "1e+22"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {NAN, "nan"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {0.1, "0.1"},
        {0.7, "0.7"},
        {20.0, "20.0"},
        {1.25, "1.25"},
        {0.00081634521484375, "0.00081634521484375"},
        {0.0021970272064208984, "0.0021970272064208984"},
        {9999999999999998.0, "9999999999999998.0"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {-123.456, "-123.456"},
        {1e100, "1e+100"},
        {2.5e-07, "2.5e-07"},
        {9007199254740993.0, "9007199254740992.0"},
    };
    char out[40];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(gn_py_float(cases[i].v, out, sizeof(out)), 0);
        cr_assert_str_eq(out, cases[i].s);
    }
    cr_assert_eq(gn_py_float(0.1, out, 3), GN_ENOSPC);
    cr_assert_eq(gn_py_float(0.1, out, 4), 0);
}

Test(synapse, py_str_appendix_a)
{
    /* JSON value -> str() of it after json.loads, from CPython 3.11 */
    const struct {
        const char *json, *str;
    } cases[] = {
        {"\"Define \\u03c4 (tau) in one line.\"", "Define τ (tau) in one line."},
        {"0.25", "0.25"},
        {"12.0", "12.0"},
        {"1e-05", "1e-05"},
        {"1e16", "1e+16"},
        {"-0.0", "-0.0"},
        {"-7", "-7"},
        {"true", "True"},
        {"false", "False"},
        {"null", "None"},
        {"[\"a\", \"it's\", \"x\\\"y\"]", "['a', \"it's\", 'x\"y']"},
        {"[\"both'\\\"\"]", "['both\\'\"']"},
        {"[\"\\u0000\"]", "['\\x00']"},
        {"[\"\\u00e9\"]", "['é']"},
        {"{\"k\": 1}", "{'k': 1}"},
        {"[true, false, null, 1, 1.0, -5, 2.5e-07]", "[True, False, None, 1, 1.0, -5, 2.5e-07]"},
        {"{\"a\": [1, {\"b\": \"c\\n\\r\\t\\\\\"}], \"it's\": {}}",
         "{'a': [1, {'b': 'c\\n\\r\\t\\\\'}], \"it's\": {}}"},
        {"[\"\\u200b\\u00a0\\u0085\\u00ad\\u0378\\ud83d\\ude00\\udb40\\udc01 "
         "\\u007f\\u001f\\u3000\\u2028\"]",
         "['\\u200b\\xa0\\x85\\xad\\u0378😀\\U000e0001 \\x7f\\x1f\\u3000\\u2028']"},
        {"\"it's \\\"x\\\"\"", "it's \"x\""},
        {"[\"math\", \"greek\"]", "['math', 'greek']"},
        {"[]", "[]"},
        {"{}", "{}"},
        {"\"a\\u0000b\"", "a\0b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_error_t e;
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        cr_assert_not_null(v, "%s", cases[i].json);
        char *s = NULL;
        cr_assert_eq(gn_py_str(v, GN_SYN_ANY, &s), 0);
        size_t want_len = i == sizeof(cases) / sizeof(cases[0]) - 1 ? 3 : strlen(cases[i].str);
        cr_assert(!memcmp(s, cases[i].str, want_len) && s[want_len] == 0, "%s: %s != %s",
                  cases[i].json, s, cases[i].str);
        free(s);
        json_decref(v);
    }
    /* an int in a float field is a float (pydantic's coercion) */
    json_t *one = json_integer(1), *big = json_integer(12345678901234567);
    char *s;
    cr_assert_eq(gn_py_str(one, GN_SYN_FLOAT, &s), 0);
    cr_assert_str_eq(s, "1.0");
    free(s);
    cr_assert_eq(gn_py_str(big, GN_SYN_FLOAT, &s), 0);
    cr_assert_str_eq(s, "1.2345678901234568e+16");
    free(s);
    cr_assert_eq(gn_py_str(one, GN_SYN_INT, &s), 0);
    cr_assert_str_eq(s, "1");
    free(s);
    cr_assert_eq(gn_py_str(NULL, GN_SYN_ANY, &s), 0);
    cr_assert_str_eq(s, "None");
    free(s);
    json_decref(one);
    json_decref(big);
}

/* The two JSON forms (§1.4), against json.dumps(v) and Starlette's
 * json.dumps(v, ensure_ascii=False, separators=(",", ":")). */
Test(synapse, json_forms)
{
    json_error_t e;
    json_t *v = json_loads("{\"a\": \"\\u00e9\\ud83d\\ude00\\u007f\\u0001\\n\", \"b\": [1.5, "
                           "-0.0, 1e22, true, null], \"c\": {}, \"d\": [], \"e\": -12}",
                           0, &e);
    cr_assert_not_null(v);
    char *py = gn_synapse_json_python(v), *c = gn_synapse_json_compact(v);
    cr_assert_str_eq(py, "{\"a\": \"\\u00e9\\ud83d\\ude00\\u007f\\u0001\\n\", \"b\": [1.5, -0.0, "
                         "1e+22, true, null], \"c\": {}, \"d\": [], \"e\": -12}");
    cr_assert_str_eq(c, "{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\x7f\\u0001\\n\",\"b\":[1.5,-0.0,1e+22,"
                        "true,null],\"c\":{},\"d\":[],\"e\":-12}");
    free(py);
    free(c);
    json_decref(v);
    v = json_string("x\"\\/\b\f");
    py = gn_synapse_json_python(v);
    cr_assert_str_eq(py, "\"x\\\"\\\\/\\b\\f\"");
    free(py);
    json_decref(v);
    cr_assert_null(gn_synapse_json_compact(NULL));
}

/* gn_synapse_json_python_ex: the same text in one pass, the compact form's
 * length, the top-level total_size span; gn_synapse_headers_ex with the
 * values gn_synapse_headers computes gives the same headers. */
static void check_python_ex(const gn_syn_class_t *c, const json_t *v)
{
    char *py = gn_synapse_json_python(v), *cp = gn_synapse_json_compact(v);
    size_t len = 0, clen = 0, off = 0, tl = 0;
    char *ex = gn_synapse_json_python_ex(v, &len, &clen, &off, &tl);
    cr_assert_not_null(ex);
    cr_assert_str_eq(ex, py);
    cr_assert_eq(len, strlen(py));
    cr_assert_eq(clen, strlen(cp), "%zu %zu %s", clen, strlen(cp), cp);
    const json_t *ts = json_is_object(v) ? json_object_get(v, "total_size") : NULL;
    if (ts) {
        char *t = gn_synapse_json_python(ts);
        cr_assert_eq(tl, strlen(t));
        cr_assert(!memcmp(ex + off, t, tl));
        cr_assert(!strncmp(ex + off - 14, "\"total_size\": ", 14));
        free(t);
    } else {
        cr_assert_eq(tl, 0);
    }
    if (c && json_is_object(v)) {
        gn_header_t *a, *b;
        size_t na, nb;
        char hash[65];
        cr_assert_eq(gn_synapse_body_hash(c, v, hash), 0);
        cr_assert_eq(gn_synapse_headers(c, v, &a, &na), 0);
        cr_assert_eq(gn_synapse_headers_ex(c, v, hash, &clen, &b, &nb), 0);
        cr_assert_eq(na, nb);
        for (size_t i = 0; i < na; i++) {
            cr_assert_str_eq(a[i].name, b[i].name);
            cr_assert_str_eq(a[i].value, b[i].value);
        }
        free(a);
        free(b);
    }
    free(ex);
    free(py);
    free(cp);
}

Test(synapse, json_python_ex)
{
    json_error_t e;
    json_t *v =
        json_loads("{\"a\": \"\\u00e9\\ud83d\\ude00\\u007f\\u0001\\n\\u0800\", \"b\": [1.5, "
                   "-0.0, 1e22, true, null, {\"total_size\": 3}], \"c\": {}, \"d\": [], "
                   "\"\\u00e9\": -12, \"total_size\": 123}",
                   0, &e);
    cr_assert_not_null(v);
    check_python_ex(NULL, v);
    json_decref(v);
    v = json_string("x\"\\/\b\f\xc3\xa9");
    check_python_ex(NULL, v);
    json_decref(v);
    const char *bodies[] = {"{\"dummy_input\": 5, \"dummy_output\": 7}",
                            "{\"dummy_input\": 5, \"axon\": {\"hotkey\": \"\\u00e9\\u4e2d\", "
                            "\"port\": 8091}, \"dendrite\": {\"nonce\": 99, \"signature\": "
                            "\"0xab\"}, \"total_size\": 0}"};
    for (size_t i = 0; i < 2; i++) {
        json_t *o;
        cr_assert_eq(
            gn_synapse_from_body(&DUMMY, (const uint8_t *)bodies[i], strlen(bodies[i]), &o), 0);
        check_python_ex(&DUMMY, o);
        json_t *in = json_loads(bodies[i], 0, &e), *o2;
        cr_assert_eq(gn_synapse_from_json(&DUMMY, in, &o2), 0);
        cr_assert(json_equal(o, o2));
        json_decref(o2);
        json_decref(in);
        json_decref(o);
    }
    json_t *arr = json_array();
    json_t *o = (json_t *)1;
    cr_assert_eq(gn_synapse_from_json(&DUMMY, arr, &o), GN_EINVAL);
    cr_assert_null(o);
    json_decref(arr);
}

/* ---- garbage in: no crash, a clear error ---- */

static const char *const NAMES[] = {
    "name",
    "timeout",
    "total_size",
    "header_size",
    "computed_body_hash",
    "bt_header_axon_ip",
    "bt_header_axon_port",
    "bt_header_axon_process_time",
    "bt_header_axon_status_code",
    "bt_header_dendrite_nonce",
    "bt_header_dendrite_version",
    "bt_header_dendrite_hotkey",
    "bt_header_dendrite_signature",
    "bt_header_dendrite_uuid",
    "bt_header_input_obj_dummy_input",
    "bt_header_input_obj_prompt",
    "bt_header_input_obj_temperature",
    "bt_header_input_obj_",
    "bt_header_input_obj",
    "bt_header_axon_",
    "host",
};

static void fill_random(uint64_t *st, char *p, size_t n, bool text)
{
    static const char alphabet[] = "0123456789+-_.eE xXinfINFaAMQ=/\"{}[]:,'\\";
    for (size_t i = 0; i < n; i++) {
        uint64_t r = gn_test_rand(st);
        p[i] = text && r % 4 ? alphabet[(r >> 8) % (sizeof(alphabet) - 1)] : (char)(r >> 16);
    }
}

Test(synapse, random_headers_and_bodies)
{
    uint64_t st = gn_test_seed();
    json_t *ex = examples();
    const char *bodies[] = {
        json_string_value(json_object_get(json_object_get(ex, "example1_dummy"), "body")),
        json_string_value(json_object_get(json_object_get(ex, "example2_textquery"), "body")),
        json_string_value(json_object_get(json_object_get(ex, "example2_textquery"), "resp_body")),
    };
    const gn_syn_class_t *classes[] = {&DUMMY, &TEXTQUERY, &ALL, &GN_SYN_SYNAPSE};
    char vals[24][48], names[24][40];
    for (int round = 0; round < 3000; round++) {
        const gn_syn_class_t *c = classes[gn_test_rand(&st) % 4];
        gn_header_t h[24];
        size_t n = gn_test_rand(&st) % 24;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = gn_test_rand(&st);
            size_t vl = r % 48;
            fill_random(&st, vals[i], vl, true);
            if (r % 7 == 0) {
                size_t nl = (r >> 8) % 40;
                fill_random(&st, names[i], nl, false);
                h[i] = (gn_header_t){names[i], nl, vals[i], vl};
            } else {
                const char *nm = NAMES[(r >> 8) % (sizeof(NAMES) / sizeof(NAMES[0]))];
                h[i] = (gn_header_t){nm, strlen(nm), vals[i], vl};
            }
        }
        json_t *o = NULL;
        int rc = gn_synapse_from_headers(c, h, n, &o);
        cr_assert(rc == 0 || rc == GN_EINVAL, "seed %llu: %d", (unsigned long long)st, rc);
        char msg[2048];
        if (rc == 0) {
            cr_assert_eq(json_object_size(o), 7 + c->n_fields);
            uint64_t nonce;
            cr_assert_eq(gn_synapse_verify(o, "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
                                           1767225600000000000ull, NULL, &nonce, msg, sizeof(msg)),
                         GN_EBADSIG);
            cr_assert(msg[0]);
            gn_header_t *out;
            size_t k;
            cr_assert_eq(gn_synapse_headers(c, o, &out, &k), 0);
            free(out);
            json_decref(o);
        } else {
            cr_assert_null(o);
            gn_syn_msg_400(h, n, c->name, msg, sizeof(msg));
            cr_assert(!strncmp(msg, "Improperly formatted request.", 29));
        }
        /* a body: random bytes, or an example with bytes changed */
        char body[1024];
        size_t bl;
        if (gn_test_rand(&st) % 2) {
            const char *b = bodies[gn_test_rand(&st) % 3];
            bl = strlen(b);
            memcpy(body, b, bl);
            for (int k = (int)(gn_test_rand(&st) % 4); k >= 0; k--)
                fill_random(&st, body + gn_test_rand(&st) % bl, 1, true);
        } else {
            bl = gn_test_rand(&st) % 64;
            fill_random(&st, body, bl, true);
        }
        rc = gn_synapse_from_body(c, (const uint8_t *)body, bl, &o);
        cr_assert(rc == 0 || rc == GN_EINVAL || rc == GN_EJSON, "%d", rc);
        if (rc == 0) {
            char hash[65];
            cr_assert_eq(gn_synapse_body_hash(c, o, hash), 0);
            cr_assert_eq(strlen(hash), 64);
            char *py = gn_synapse_json_python(o);
            json_error_t e;
            json_t *back = json_loads(py, JSON_ALLOW_NUL, &e);
            cr_assert(json_equal(back, o), "%s", py);
            check_python_ex(c, o);
            json_decref(back);
            free(py);
            json_decref(o);
        } else {
            cr_assert_null(o);
        }
    }
    json_decref(ex);
}
