/* libFuzzer target: synapses from request headers and bodies.
 *
 * The first byte picks a class; the rest is read as header lines
 * ("name: value", split at the first ':', blanks around the value trimmed,
 * names lower-cased as the HTTP layer hands them over) up to an empty line,
 * then everything after it, and the whole input too, as a body.
 *
 * Besides "no crash, no leak": errors are the documented ones; an object
 * built has every field; its header set builds; verification refuses
 * with a text unless the signature is good; both JSON forms read back to the
 * same value; gn_py_str works on every field. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "ganglion/error.h"
#include "ganglion/synapse.h"

static const gn_syn_field_t DUMMY_FIELDS[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_field_t TEXTQUERY_FIELDS[] = {
    {.name = "prompt", .type = GN_SYN_STR, .required = true, .hashed = true},
    {.name = "temperature", .type = GN_SYN_FLOAT, .default_json = "0.7", .hashed = true},
    {.name = "tags", .type = GN_SYN_LIST, .default_json = "[]", .hashed = true},
    {.name = "completion", .type = GN_SYN_STR, .nullable = true},
};
static const gn_syn_field_t ALL_FIELDS[] = {
    {.name = "i", .type = GN_SYN_INT, .required = true, .hashed = true},
    {.name = "f", .type = GN_SYN_FLOAT, .default_json = "0.5", .hashed = true},
    {.name = "b", .type = GN_SYN_BOOL, .default_json = "false", .hashed = true},
    {.name = "s", .type = GN_SYN_STR, .nullable = true, .hashed = true},
    {.name = "l", .type = GN_SYN_LIST, .default_json = "[]", .hashed = true},
    {.name = "d", .type = GN_SYN_DICT, .required = true, .hashed = true},
    {.name = "a", .type = GN_SYN_ANY, .nullable = true, .hashed = true},
};
static const gn_syn_class_t CLASSES[] = {
    {"Synapse", NULL, 0},
    {"Dummy", DUMMY_FIELDS, 2},
    {"TextQuery", TEXTQUERY_FIELDS, 4},
    {"All", ALL_FIELDS, 7},
};

#define OWN "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"

static void check_object(const gn_syn_class_t *c, json_t *o)
{
    CHECK(json_is_object(o) && json_object_size(o) == 7 + c->n_fields);
    CHECK(json_is_object(json_object_get(o, "dendrite")));
    CHECK(json_object_size(json_object_get(o, "axon")) == 10);
    char hash[65];
    CHECK(gn_synapse_body_hash(c, o, hash) == 0 && strlen(hash) == 64);
    gn_header_t *hs;
    size_t n;
    CHECK(gn_synapse_headers(c, o, &hs, &n) == 0 && n >= 5);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < hs[i].value_len; k++)
            CHECK(hs[i].value[k] != '\r' && hs[i].value[k] != '\n' && hs[i].value[k] != 0);
    free(hs);
    uint64_t nonce;
    char err[512];
    /* the seeds carry the examples' real signatures */
    int rc = gn_synapse_verify(o, OWN, 1767225600000000000ull, NULL, &nonce, err, sizeof(err));
    CHECK(rc == 0 || (rc == GN_EBADSIG && err[0]));
    char *texts[2] = {gn_synapse_json_compact(o), gn_synapse_json_python(o)};
    for (int k = 0; k < 2; k++) {
        CHECK(texts[k]);
        json_error_t e;
        json_t *back = json_loads(texts[k], JSON_ALLOW_NUL, &e);
        CHECK(back && json_equal(back, o));
        json_decref(back);
        free(texts[k]);
    }
    for (size_t i = 0; i < c->n_fields; i++) {
        char *s = NULL;
        CHECK(gn_py_str(json_object_get(o, c->fields[i].name), c->fields[i].type, &s) == 0);
        free(s);
    }
}

static void body(const gn_syn_class_t *c, const uint8_t *p, size_t n)
{
    json_t *o = NULL;
    int rc = gn_synapse_from_body(c, p, n, &o);
    CHECK(rc == 0 || rc == GN_EINVAL || rc == GN_EJSON);
    if (rc == 0)
        check_object(c, o);
    else
        CHECK(o == NULL);
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const gn_syn_class_t *c = &CLASSES[data[0] % 4];
    const char *s = (const char *)data + 1;
    size_t len = size - 1;

    /* header lines up to an empty line */
    gn_header_t hs[64];
    char *names = malloc(len + 1);
    CHECK(names);
    memcpy(names, s, len);
    size_t n = 0, pos = 0;
    while (pos < len && n < 64) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - s) : len;
        if (end == pos) {
            pos++;
            break;
        }
        const char *colon = memchr(s + pos, ':', end - pos);
        size_t ne = colon ? (size_t)(colon - s) : end;
        size_t vb = colon ? ne + 1 : end, ve = end;
        while (vb < ve && (s[vb] == ' ' || s[vb] == '\t'))
            vb++;
        while (ve > vb && (s[ve - 1] == ' ' || s[ve - 1] == '\t' || s[ve - 1] == '\r'))
            ve--;
        for (size_t k = pos; k < ne; k++)
            names[k] = (char)tolower((unsigned char)names[k]);
        hs[n++] = (gn_header_t){names + pos, ne - pos, s + vb, ve - vb};
        pos = end + 1;
    }
    json_t *o = NULL;
    int rc = gn_synapse_from_headers(c, hs, n, &o);
    CHECK(rc == 0 || rc == GN_EINVAL);
    if (rc == 0) {
        check_object(c, o);
    } else {
        CHECK(o == NULL);
        char msg[4096];
        gn_syn_msg_400(hs, n, c->name, msg, sizeof(msg));
        CHECK(!strncmp(msg, "Improperly formatted request.", 29));
    }
    json_decref(o);
    free(names);

    /* bodies: what follows the headers, and the whole input */
    if (pos < len)
        body(c, (const uint8_t *)s + pos, len - pos);
    body(c, (const uint8_t *)s, len);

    char out[40];
    if (len >= 8) {
        double d;
        memcpy(&d, s, 8);
        CHECK(gn_py_float(d, out, sizeof(out)) == 0);
        if (isfinite(d))
            CHECK(strtod(out, NULL) == d);
    }
    return 0;
}
