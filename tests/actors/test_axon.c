/* The axon over raw HTTP: the SDK's worked examples replayed (fresh nonces,
 * real signatures), every error path of the pipeline, streaming, priority
 * by stake, deadlines, /healthz and /metrics. */
#include <criterion/criterion.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "ganglion/axon.h"
#include "ganglion/error.h"
#include "ganglion/metagraph.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
#include "ganglion/synapse.h"
#include "support/axon_fixture.h"
#include "support/chain_client.h"
#include "support/rawhttp.h"
#include "support/vectors.h"

#define ALICE "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
#define BOB   "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"

/* ---- the classes of the worked examples ---- */

static const gn_syn_field_t DUMMY_F[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_class_t DUMMY = {"Dummy", DUMMY_F, 2};
static const gn_syn_field_t TQ_F[] = {
    {.name = "prompt", .type = GN_SYN_STR, .required = true, .hashed = true},
    {.name = "temperature", .type = GN_SYN_FLOAT, .hashed = true, .default_json = "0.7"},
    {.name = "tags", .type = GN_SYN_LIST, .hashed = true, .default_json = "[]"},
    {.name = "completion", .type = GN_SYN_STR, .nullable = true},
};
static const gn_syn_class_t TEXTQUERY = {"TextQuery", TQ_F, 4};

static void dummy(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    json_object_set_new(syn, "dummy_output",
                        json_integer(2 * json_integer_value(json_object_get(syn, "dummy_input"))));
    gn_axon_reply(call, syn);
}

static void textquery(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    json_object_set_new(syn, "completion", json_string("τ is 2π."));
    gn_axon_reply(call, syn);
}

/* ---- an axon on a loop thread (support/axon_fixture.h) ---- */

typedef gn_test_axon_t fx_t;

static gn_sr25519_keypair_t alice, bob, charlie;

static void keys(void)
{
    gn_test_keypair("//Alice", &alice);
    gn_test_keypair("//Bob", &bob);
    gn_test_keypair("//Charlie", &charlie);
}

typedef struct {
    json_t *neurons;
    bool builtins;
    const gn_axon_handler_t *extra;
} setup_t;

/* The examples' classes (or the built-ins), an extra handler, neurons. */
static void setup(gn_axon_t *ax, void *arg)
{
    const setup_t *s = arg;
    gn_axon_handler_t d = {.cls = &DUMMY, .fn = dummy}, t = {.cls = &TEXTQUERY, .fn = textquery};
    if (s->builtins) {
        cr_assert_eq(gn_axon_attach_builtins(ax), 0);
    } else {
        cr_assert_eq(gn_axon_attach(ax, &d), 0);
        cr_assert_eq(gn_axon_attach(ax, &t), 0);
    }
    if (s->extra)
        cr_assert_eq(gn_axon_attach(ax, s->extra), 0);
    if (s->neurons)
        gn_axon_set_neurons(ax, s->neurons);
}

/* Start an axon with Bob's hotkey; the examples' classes attached. */
static void fx_start_with(fx_t *f, gn_axon_opts_t *o, json_t *neurons, bool builtins,
                          const gn_axon_handler_t *extra)
{
    keys();
    o->hotkey = &bob;
    o->ip = "127.0.0.1";
    setup_t s = {neurons, builtins, extra};
    gn_test_axon_start(f, o, setup, &s);
}

static void fx_start(fx_t *f, gn_axon_opts_t *o, json_t *neurons)
{
    fx_start_with(f, o, neurons, false, NULL);
}

#define fx_stop gn_test_axon_stop

/* ---- requests as a Python dendrite makes them ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static json_t *examples(void)
{
    return gn_test_load_shared_json("spec/wire-examples.json");
}

typedef struct {
    uint64_t nonce;                     /* 0: now */
    const gn_sr25519_keypair_t *signer; /* NULL: Alice */
    const char *sign_for;               /* the axon hotkey in the message; NULL: Bob */
    bool no_signature, garble_signature;
    const char *body_override; /* raw body bytes */
    const char *path;          /* NULL: "/<name>" */
    const char *drop_header;   /* a header left out */
    const char *hotkey;        /* the dendrite hotkey (SS58) matching signer; NULL: Alice */
    const char *timeout;       /* the timeout header; NULL: the example's */
    const char *nonce_text;    /* the nonce header as sent, garbled */
} req_opts_t;

/* The example's request with a fresh nonce and a real signature; *nonce
 * gets the nonce used. Returns malloc'd bytes. */
static char *example_request(const json_t *ex, const req_opts_t *ro, size_t *len, uint64_t *nonce)
{
    json_t *h = json_deep_copy(json_object_get(ex, "headers"));
    json_t *body = json_loads(json_string_value(json_object_get(ex, "body")), 0, NULL);
    cr_assert_not_null(body);
    uint64_t n = ro->nonce ? ro->nonce : now_ns();
    if (nonce)
        *nonce = n;
    char ns[32], msg[512];
    snprintf(ns, sizeof(ns), "%llu", (unsigned long long)n);
    const char *uuid = json_string_value(json_object_get(h, "bt_header_dendrite_uuid"));
    const char *hash = json_string_value(json_object_get(h, "computed_body_hash"));
    const char *me = ro->hotkey ? ro->hotkey : ALICE;
    json_object_set_new(h, "bt_header_dendrite_hotkey", json_string(me));
    if (ro->timeout)
        json_object_set_new(h, "timeout", json_string(ro->timeout));
    cr_assert_gt(
        gn_synapse_message(n, me, ro->sign_for ? ro->sign_for : BOB, uuid, hash, msg, sizeof(msg)),
        0);
    uint8_t rnd[32], sig[64];
    randombytes_buf(rnd, sizeof(rnd));
    cr_assert_eq(gn_sr25519_sign(ro->signer ? ro->signer : &alice, (const uint8_t *)msg,
                                 strlen(msg), rnd, sig),
                 0);
    if (ro->garble_signature)
        sig[5] ^= 0x40;
    char sighex[131] = "0x";
    for (int i = 0; i < 64; i++)
        snprintf(sighex + 2 + 2 * i, 3, "%02x", sig[i]);
    json_object_set_new(h, "bt_header_dendrite_nonce", json_string(ns));
    json_object_set_new(h, "bt_header_dendrite_signature", json_string(sighex));
    if (ro->no_signature)
        json_object_del(h, "bt_header_dendrite_signature");
    if (ro->nonce_text)
        json_object_set_new(h, "bt_header_dendrite_nonce", json_string(ro->nonce_text));
    if (ro->drop_header)
        json_object_del(h, ro->drop_header);
    json_t *bd = json_object_get(body, "dendrite");
    json_object_set_new(bd, "nonce", json_integer((json_int_t)n));
    json_object_set_new(bd, "hotkey", json_string(me));
    json_object_set_new(bd, "signature", json_string(sighex));
    char *b = ro->body_override ? strdup(ro->body_override) : json_dumps(body, JSON_PRESERVE_ORDER);
    size_t cap = 8192 + strlen(b);
    char *out = malloc(cap);
    const char *name = json_string_value(json_object_get(h, "name"));
    char path[128];
    snprintf(path, sizeof(path), "/%s", name);
    int k = snprintf(out, cap,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n",
                     ro->path ? ro->path : path, strlen(b));
    const char *key;
    json_t *v;
    json_object_foreach (h, key, v)
        k += snprintf(out + k, cap - (size_t)k, "%s: %s\r\n", key, json_string_value(v));
    k += snprintf(out + k, cap - (size_t)k, "\r\n%s", b);
    *len = (size_t)k;
    free(b);
    json_decref(h);
    json_decref(body);
    return out;
}

static void send_example(int port, const json_t *ex, const req_opts_t *ro, gn_raw_resp_t *r)
{
    size_t len;
    char *req = example_request(ex, ro, &len, NULL);
    cr_assert_eq(gn_raw_request(port, req, len, r), 0, "a response");
    free(req);
}

static const char *hdr(const gn_raw_resp_t *r, const char *name)
{
    static char v[4][8192];
    static int i;
    i = (i + 1) % 4;
    return gn_raw_header(r, name, v[i], sizeof(v[i]));
}

/* The example's response headers are all there with the same values,
 * except what depends on time, sizes, or the fresh nonce/signature. */
static void same_headers(const gn_raw_resp_t *r, const json_t *want, const char *const *skip)
{
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)want, k, v) {
        bool s = false;
        for (size_t i = 0; skip[i]; i++)
            s |= !strcmp(skip[i], k);
        const char *got = hdr(r, k);
        cr_assert_not_null(got, "response header %s missing\n%s", k, r->head);
        if (!s)
            cr_assert_str_eq(got, json_string_value(v), "header %s", k);
    }
}

static const char *const TIME_DEPENDENT[] = {"bt_header_axon_process_time",
                                             "header_size",
                                             "total_size",
                                             "bt_header_dendrite_nonce",
                                             "bt_header_dendrite_signature",
                                             "bt_header_axon_nonce",
                                             "bt_header_axon_signature",
                                             "bt_header_axon_uuid",
                                             "bt_header_dendrite_ip",
                                             "bt_header_dendrite_port",
                                             NULL};

Test(axon, worked_examples_replayed_over_raw_http, .timeout = 60)
{
    json_t *ex = examples();
    fx_t f;
    gn_axon_opts_t o = {0};
    fx_start(&f, &o, NULL);
    gn_raw_resp_t r;
    /* example 1: Dummy */
    json_t *e1 = json_object_get(ex, "example1_dummy");
    send_example(f.port, e1, &(req_opts_t){0}, &r);
    cr_assert_eq(r.status, 200, "%s\n%s", r.head, r.body);
    same_headers(&r, json_object_get(e1, "resp_headers"), TIME_DEPENDENT);
    json_t *b = json_loads(r.body, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(b, "dummy_output")), 10, "2 x 5");
    cr_assert_str_eq(hdr(&r, "content-type"), "application/json");
    json_t *want = json_loads(json_string_value(json_object_get(e1, "resp_body")), 0, NULL);
    if (want) { /* the body's fields, time and signatures aside */
        const char *k;
        json_t *v;
        json_object_foreach (want, k, v) {
            cr_assert(json_object_get(b, k), "body field %s", k);
            if (!json_is_object(v) && strcmp(k, "total_size") && strcmp(k, "header_size"))
                cr_assert(json_equal(v, json_object_get(b, k)), "body field %s", k);
        }
    }
    json_decref(want);
    json_decref(b);
    gn_raw_free(&r);
    /* example 2: hashed fields, a float, a list, non-ASCII */
    json_t *e2 = json_object_get(ex, "example2_textquery");
    send_example(f.port, e2, &(req_opts_t){0}, &r);
    cr_assert_eq(r.status, 200, "%s\n%s", r.head, r.body);
    b = json_loads(r.body, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(b, "completion")), "τ is 2π.");
    cr_assert_str_eq(json_string_value(json_object_get(b, "prompt")),
                     "Define τ (tau) in one line.");
    json_decref(b);
    gn_raw_free(&r);
    /* the body changed after signing: its hash no longer matches (500) */
    json_t *e2x = json_deep_copy(e2);
    char *bt = strdup(json_string_value(json_object_get(e2x, "body")));
    char *at = strstr(bt, "in one line");
    memcpy(at, "in two line", 11);
    json_object_set_new(e2x, "body", json_string(bt));
    free(bt);
    send_example(f.port, e2x, &(req_opts_t){0}, &r);
    cr_assert_eq(r.status, 500, "%s", r.body);
    cr_assert(!strncmp(hdr(&r, "bt_header_axon_status_message"), "Internal Server Error #", 23));
    gn_raw_free(&r);
    json_decref(e2x);
    /* example 4: an unknown synapse */
    json_t *e4 = json_object_get(ex, "example4_unknown_synapse");
    send_example(f.port, e1, &(req_opts_t){.path = "/Foo"}, &r);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(hdr(&r, "bt_header_axon_status_message"),
                     "Synapse name 'Foo' not found. Available synapses ['Synapse', 'Dummy', "
                     "'TextQuery']");
    cr_assert_str_eq(hdr(&r, "name"), "Synapse");
    cr_assert_str_eq(hdr(&r, "computed_body_hash"),
                     json_string_value(json_object_get(json_object_get(e4, "resp_headers"),
                                                       "computed_body_hash")));
    cr_assert(strstr(r.body, "\"message\":\"Synapse name 'Foo' not found."), "%s", r.body);
    gn_raw_free(&r);
    fx_stop(&f);
    json_decref(ex);
}

Test(axon, blacklisted_by_permit_as_example_3, .timeout = 60)
{
    json_t *ex = examples();
    json_t *neurons = json_pack("[{s:s,s:b,s:[[s,i]]}]", "hotkey", ALICE, "validator_permit", 0,
                                "stake", ALICE, 1000);
    fx_t f;
    gn_axon_opts_t o = {.policy = {.require_permit = true}};
    fx_start(&f, &o, neurons);
    json_decref(neurons);
    gn_raw_resp_t r;
    json_t *e3 = json_object_get(ex, "example3_blacklisted");
    send_example(f.port, json_object_get(ex, "example1_dummy"), &(req_opts_t){0}, &r);
    cr_assert_eq(r.status, 403);
    same_headers(&r, json_object_get(e3, "resp_headers"), TIME_DEPENDENT);
    cr_assert_str_eq(r.body, json_string_value(json_object_get(e3, "resp_body")));
    /* the axon's own signature (§3.6) verifies */
    char m[512];
    snprintf(m, sizeof(m), "%s.%s.%s.%s", hdr(&r, "bt_header_axon_nonce"), ALICE, BOB,
             hdr(&r, "bt_header_axon_uuid"));
    uint8_t sig[64];
    const char *sh = hdr(&r, "bt_header_axon_signature");
    for (int i = 0; i < 64; i++)
        sscanf(sh + 2 + 2 * i, "%2hhx", &sig[i]);
    cr_assert_eq(gn_sr25519_verify(bob.pub, (const uint8_t *)m, strlen(m), sig), 0);
    gn_raw_free(&r);
    fx_stop(&f);
    json_decref(ex);
}

/* Each refusal: status, SDK message and headers. */
Test(axon, every_refusal_of_the_pipeline, .timeout = 60)
{
    json_t *ex = examples();
    json_t *e1 = json_object_get(ex, "example1_dummy");
    fx_t f;
    gn_axon_opts_t o = {.limits = {.max_header_bytes = 8192, .max_body_bytes = 65536}};
    fx_start(&f, &o, NULL);
    gn_raw_resp_t r;
    struct {
        req_opts_t ro;
        int status;
        const char *msg;
    } cases[] = {
        {{.no_signature = true}, 401, "Not Verified with error: Missing signature"},
        {{.garble_signature = true}, 401, "Not Verified with error: Signature mismatch with "},
        {{.sign_for = ALICE}, 401, "Not Verified with error: Signature mismatch with "},
        {{.signer = &charlie}, 401, "Not Verified with error: Signature mismatch with "},
        {{.nonce = 1767225600123456789ull}, 401, "Not Verified with error: Nonce is too old: "},
        {{.drop_header = "bt_header_input_obj_dummy_input"},
         400,
         "Improperly formatted request. Could not parse headers "},
        {{.drop_header = "bt_header_dendrite_nonce"}, 401, "Not Verified with error: "},
        {{.body_override = "{\"name\": \"Dummy\", \"dummy_input\": 5, \"computed_body_hash\": "
                           "\"\", \"required_hash_fields\": [], \"extra\": 1}"},
         200,
         NULL},
        {{.body_override = "{\"name\": \"Dummy\"}"}, 500, "Internal Server Error #"},
        {{.body_override = "not json"}, 422, NULL},
        {{.nonce_text = "1.7e18"}, 400, "Improperly formatted request. Could not parse headers "},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        send_example(f.port, e1, &cases[i].ro, &r);
        cr_assert_eq(r.status, cases[i].status, "case %zu: %d %s", i, r.status, r.body);
        if (cases[i].msg) {
            const char *m = hdr(&r, "bt_header_axon_status_message");
            cr_assert(m && !strncmp(m, cases[i].msg, strlen(cases[i].msg)), "case %zu: %s", i,
                      m ? m : r.head);
            cr_assert(strstr(r.body, "\"message\":"), "case %zu: %s", i, r.body);
        }
        if (cases[i].status == 422)
            cr_assert(!hdr(&r, "bt_header_axon_status_code"), "422 carries no bt headers");
        gn_raw_free(&r);
    }
    /* a replayed request: the same nonce twice */
    size_t len;
    uint64_t n;
    char *req = example_request(e1, &(req_opts_t){0}, &len, &n);
    cr_assert_eq(gn_raw_request(f.port, req, len, &r), 0);
    cr_assert_eq(r.status, 200);
    gn_raw_free(&r);
    cr_assert_eq(gn_raw_request(f.port, req, len, &r), 0);
    cr_assert_eq(r.status, 401);
    cr_assert_str_eq(hdr(&r, "bt_header_axon_status_message"),
                     "Not Verified with error: Nonce is too old, a newer one was last processed");
    gn_raw_free(&r);
    free(req);
    /* out of order inside the window is fine (the SDK would refuse it) */
    uint64_t t = now_ns();
    req = example_request(e1, &(req_opts_t){.nonce = t}, &len, NULL);
    char *older = example_request(e1, &(req_opts_t){.nonce = t - 1000000}, &len, NULL);
    cr_assert_eq(gn_raw_request(f.port, req, strlen(req), &r), 0);
    cr_assert_eq(r.status, 200);
    gn_raw_free(&r);
    cr_assert_eq(gn_raw_request(f.port, older, strlen(older), &r), 0);
    cr_assert_eq(r.status, 200, "an older nonce not seen before, inside the window");
    gn_raw_free(&r);
    free(req);
    free(older);
    /* oversize head and body */
    char big[20000];
    int k = snprintf(big, sizeof(big), "POST /Dummy HTTP/1.1\r\nx-big: ");
    memset(big + k, 'a', 10000);
    snprintf(big + k + 10000, sizeof(big) - (size_t)k - 10000, "\r\n\r\n");
    cr_assert_eq(gn_raw_request(f.port, big, strlen(big), &r), 0);
    cr_assert_eq(r.status, 431);
    gn_raw_free(&r);
    const char *huge = "POST /Dummy HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n";
    cr_assert_eq(gn_raw_request(f.port, huge, strlen(huge), &r), 0);
    cr_assert_eq(r.status, 413);
    gn_raw_free(&r);
    /* health and metrics */
    const char *hz = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(gn_raw_request(f.port, hz, strlen(hz), &r), 0);
    cr_assert_eq(r.status, 200);
    json_t *h = json_loads(r.body, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(h, "status")), "ok");
    cr_assert_str_eq(json_string_value(json_object_get(h, "hotkey")), BOB);
    json_decref(h);
    gn_raw_free(&r);
    const char *mt = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(gn_raw_request(f.port, mt, strlen(mt), &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "ganglion_axon_requests_total{synapse=\"Dummy\",status=\"401\"}"),
              "%s", r.body);
    cr_assert(strstr(r.body, "ganglion_axon_rejects_total{reason=\"verify\"}"), "%s", r.body);
    cr_assert(strstr(r.body, "ganglion_axon_verify_seconds_bucket"), "%s", r.body);
    gn_raw_free(&r);
    fx_stop(&f);
    json_decref(ex);
}

/* A request of another class made from example 1's: its name, its
 * input_obj header and its body fields. */
static json_t *as_class(const json_t *e1, const char *name, const char *field, json_t *value,
                        const char *empty_b64)
{
    json_t *ex = json_deep_copy(e1);
    json_t *h = json_object_get(ex, "headers");
    json_object_set_new(h, "name", json_string(name));
    json_object_del(h, "bt_header_input_obj_dummy_input");
    char k[128];
    snprintf(k, sizeof(k), "bt_header_input_obj_%s", field);
    json_object_set_new(h, k, json_string(empty_b64));
    json_t *b = json_loads(json_string_value(json_object_get(ex, "body")), 0, NULL);
    json_object_del(b, "dummy_input");
    json_object_del(b, "dummy_output");
    json_object_set_new(b, "name", json_string(name));
    json_object_set_new(b, field, value);
    char *t = json_dumps(b, JSON_PRESERVE_ORDER);
    json_object_set_new(ex, "body", json_string(t));
    free(t);
    json_decref(b);
    return ex;
}

Test(axon, streaming_synapse_arrives_in_chunks, .timeout = 60)
{
    json_t *ex = examples();
    fx_t f;
    gn_axon_opts_t o = {0};
    fx_start_with(&f, &o, NULL, true, NULL);
    json_t *sx = as_class(json_object_get(ex, "example1_dummy"), "StreamingDummy", "text",
                          json_string("one two three four"), "IiI=");
    gn_raw_resp_t r;
    send_example(f.port, sx, &(req_opts_t){0}, &r);
    cr_assert_eq(r.status, 200, "%s %s", r.head, r.body);
    cr_assert_str_eq(hdr(&r, "content-type"), "text/event-stream");
    cr_assert_str_eq(hdr(&r, "bt_header_axon_status_code"), "200");
    cr_assert_str_eq(hdr(&r, "bt_header_axon_status_message"), "Success");
    cr_assert_str_eq(r.body, "one two three four");
    cr_assert_eq(r.chunks, 4, "one chunk per word");
    gn_raw_free(&r);
    json_decref(sx);
    fx_stop(&f);
    json_decref(ex);
}

/* ---- priority by stake, and the handler's deadline ---- */

static const gn_syn_field_t SLOW_F[] = {{.name = "ms", .type = GN_SYN_INT, .required = true}};
static const gn_syn_class_t SLOW = {"Slow", SLOW_F, 1};
static char order[8][64];
static int n_order;

typedef struct {
    uv_timer_t t;
    gn_axon_call_t *call;
    json_t *syn;
} slow_t;

static void slow_closed(uv_handle_t *h)
{
    free(h->data);
}

static void slow_fire(uv_timer_t *t)
{
    slow_t *s = t->data;
    gn_axon_reply(s->call, s->syn);
    uv_close((uv_handle_t *)&s->t, slow_closed);
}

static void slow(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    if (n_order < 8)
        snprintf(order[n_order++], 64, "%s", gn_axon_call_hotkey(call));
    slow_t *s = calloc(1, sizeof(*s));
    s->call = call;
    s->syn = syn;
    uv_timer_init(gn_axon_call_loop(call), &s->t);
    s->t.data = s;
    uv_timer_start(&s->t, slow_fire, (uint64_t)json_integer_value(json_object_get(syn, "ms")), 0);
}

Test(axon, queue_serves_the_highest_stake_first_and_handlers_have_a_deadline, .timeout = 60)
{
    json_t *ex = examples();
    gn_sr25519_keypair_t dave;
    gn_test_keypair("//Dave", &dave);
    char charlie_ss58[64], dave_ss58[64];
    keys();
    gn_ss58_encode(charlie.pub, 32, 42, charlie_ss58, sizeof(charlie_ss58));
    gn_ss58_encode(dave.pub, 32, 42, dave_ss58, sizeof(dave_ss58));
    json_t *neurons = json_pack("[{s:s,s:[[s,i]]},{s:s,s:[[s,i]]},{s:s,s:[[s,i]]}]", "hotkey",
                                ALICE, "stake", ALICE, 500, "hotkey", charlie_ss58, "stake",
                                charlie_ss58, 10, "hotkey", dave_ss58, "stake", dave_ss58, 9000);
    fx_t f;
    gn_axon_opts_t o = {.max_workers = 1};
    gn_axon_handler_t sh = {.cls = &SLOW, .fn = slow};
    n_order = 0;
    fx_start_with(&f, &o, neurons, false, &sh);
    json_decref(neurons);
    json_t *sx =
        as_class(json_object_get(ex, "example1_dummy"), "Slow", "ms", json_integer(400), "MA==");
    /* Alice takes the only worker; then Charlie (stake 10) and Dave (9000) wait */
    size_t len[3];
    char *req[3] = {
        example_request(sx, &(req_opts_t){0}, &len[0], NULL),
        example_request(sx, &(req_opts_t){.signer = &charlie, .hotkey = charlie_ss58}, &len[1],
                        NULL),
        example_request(sx, &(req_opts_t){.signer = &dave, .hotkey = dave_ss58}, &len[2], NULL)};
    int fd[3];
    for (int i = 0; i < 3; i++) {
        fd[i] = gn_raw_connect(f.port);
        cr_assert_geq(fd[i], 0);
        cr_assert_eq(gn_raw_send(fd[i], req[i], len[i]), 0);
        usleep(100000); /* arrive in this order */
    }
    for (int i = 0; i < 3; i++) {
        gn_raw_resp_t r;
        cr_assert_eq(gn_raw_read(fd[i], &r), 0);
        cr_assert_eq(r.status, 200, "%d: %s", i, r.body);
        gn_raw_free(&r);
        close(fd[i]);
        free(req[i]);
    }
    cr_assert_eq(n_order, 3);
    cr_assert_str_eq(order[0], ALICE);
    cr_assert_str_eq(order[1], dave_ss58, "the higher stake first");
    cr_assert_str_eq(order[2], charlie_ss58);
    json_decref(sx);
    /* a handler slower than the request's timeout: 408 at the deadline */
    sx = as_class(json_object_get(ex, "example1_dummy"), "Slow", "ms", json_integer(3000), "MA==");
    gn_raw_resp_t r;
    uint64_t t0 = now_ns();
    send_example(f.port, sx, &(req_opts_t){.timeout = "1.0"}, &r);
    double took = (double)(now_ns() - t0) / 1e9;
    cr_assert_eq(r.status, 408, "%s", r.body);
    cr_assert_str_eq(hdr(&r, "bt_header_axon_status_message"), "Response timeout after: 1.0s");
    cr_assert(took > 0.9 && took < 2.5, "answered at the deadline, %.2f s", took);
    gn_raw_free(&r);
    json_decref(sx);
    fx_stop(&f);
    json_decref(ex);
}

/* ---- the axon actor follows the metagraph topic ---- */

static int attach_dummy(gn_axon_t *ax, void *arg)
{
    gn_axon_handler_t d = {.cls = &DUMMY, .fn = dummy};
    *(int *)arg = gn_axon_port(ax);
    return gn_axon_attach(ax, &d);
}

static void snapshot_free(gn_shared_t *s)
{
    gn_metagraph_t *m = (gn_metagraph_t *)s;
    json_decref(m->neurons);
    free(m);
}

static void publish_permit(gn_topic_t *t, bool permit)
{
    gn_metagraph_t *m = calloc(1, sizeof(*m));
    gn_shared_init(&m->hdr, snapshot_free);
    m->netuid = 7;
    m->neurons = json_pack("[{s:s,s:b,s:[[s,i]]}]", "hotkey", ALICE, "validator_permit", permit,
                           "stake", ALICE, 1000);
    cr_assert_eq(gn_publish(t, &GN_MSG_METAGRAPH, &m->hdr), 1);
}

static void loop_thread(void *arg)
{
    gn_loop_run(arg);
}

Test(axon, the_actor_applies_metagraph_snapshots_to_its_policy, .timeout = 60)
{
    json_t *ex = examples();
    keys();
    gn_loop_t *l;
    cr_assert_eq(gn_loop_new(&l), 0);
    gn_topic_t *mg;
    cr_assert_eq(gn_topic_new("metagraph", &mg), 0);
    static int port;
    port = 0;
    gn_axon_actor_opts_t o = {.axon = {.ip = "127.0.0.1",
                                       .hotkey = &bob,
                                       .policy = {.registered_only = true, .require_permit = true}},
                              .attach = attach_dummy,
                              .attach_arg = &port,
                              .netuid = 7};
    gn_axon_actor_t *aa;
    gn_actor_t *actor;
    cr_assert_eq(gn_axon_actor_spawn(l, &o, &aa, &actor), 0);
    cr_assert_eq(gn_topic_subscribe(mg, actor), 0);
    uv_thread_t th;
    cr_assert_eq(uv_thread_create(&th, loop_thread, l), 0);
    for (int i = 0; i < 200 && !__atomic_load_n(&port, __ATOMIC_SEQ_CST); i++)
        usleep(10000);
    cr_assert_gt(port, 0, "the axon started with the loop");
    json_t *e1 = json_object_get(ex, "example1_dummy");
    gn_raw_resp_t r;
    send_example(port, e1, &(req_opts_t){0}, &r);
    cr_assert_eq(r.status, 403, "no metagraph yet: unknown hotkey");
    gn_raw_free(&r);
    publish_permit(mg, true);
    int status = 0;
    for (int i = 0; i < 100 && status != 200; i++) { /* the snapshot lands on the loop */
        send_example(port, e1, &(req_opts_t){0}, &r);
        status = r.status;
        gn_raw_free(&r);
        if (status != 200)
            usleep(20000);
    }
    cr_assert_eq(status, 200, "permitted by the snapshot");
    publish_permit(mg, false);
    for (int i = 0; i < 100 && status != 403; i++) {
        send_example(port, e1, &(req_opts_t){0}, &r);
        status = r.status;
        if (status == 403)
            cr_assert_str_eq(hdr(&r, "bt_header_axon_status_message"),
                             "Forbidden. Key is blacklisted: Hotkey has no validator permit.");
        gn_raw_free(&r);
        if (status != 403)
            usleep(20000);
    }
    cr_assert_eq(status, 403, "the permit withdrawn by the next snapshot");
    gn_loop_stop(l, 1000);
    uv_thread_join(&th);
    gn_loop_free(l);
    gn_axon_actor_free(aa);
    gn_topic_free(mg);
    json_decref(ex);
}

Test(axon, per_hotkey_rate_refuses_with_429_after_verification, .timeout = 60)
{
    json_t *ex = examples();
    fx_t f;
    gn_axon_opts_t o = {.per_hotkey_rate = 0.5, .per_hotkey_burst = 2};
    fx_start(&f, &o, NULL);
    json_t *e1 = json_object_get(ex, "example1_dummy");
    int statuses[4];
    for (int i = 0; i < 4; i++) {
        gn_raw_resp_t r;
        send_example(f.port, e1, &(req_opts_t){0}, &r);
        statuses[i] = r.status;
        if (r.status == 429)
            cr_assert(strstr(hdr(&r, "bt_header_axon_status_message"), ALICE));
        gn_raw_free(&r);
    }
    cr_assert_eq(statuses[0], 200);
    cr_assert_eq(statuses[1], 200, "a burst of 2");
    cr_assert_eq(statuses[2], 429);
    cr_assert_eq(statuses[3], 429);
    /* an unsigned claim to be Alice does not spend her budget: it fails first */
    gn_raw_resp_t r;
    send_example(f.port, e1, &(req_opts_t){.garble_signature = true}, &r);
    cr_assert_eq(r.status, 401);
    gn_raw_free(&r);
    fx_stop(&f);
    json_decref(ex);
}

/* ---- graceful drain (gn_axon_drain) ---- */

enum { OP_DRAIN = 1, OP_RELEASE = 2 };

/* An axon on a loop thread that the test drains, and a handler that holds
 * its calls until the test releases them. */
typedef struct {
    uv_loop_t loop;
    uv_thread_t th;
    uv_async_t cmd;
    uv_mutex_t mu;
    gn_axon_t *ax;
    int port;
    int ops;
    double deadline_s;
    int done_n;
    uint64_t done_ns;
    gn_axon_call_t *held[8];
    json_t *held_syn[8];
    int n_held, release_rc[8], n_released;
} dr_t;

static dr_t *the_dr; /* for the handler */

static void dr_done(void *arg)
{
    dr_t *d = arg;
    uv_mutex_lock(&d->mu);
    d->done_n++;
    d->done_ns = now_ns();
    uv_mutex_unlock(&d->mu);
    uv_close((uv_handle_t *)&d->cmd, NULL);
}

static void dr_cmd(uv_async_t *a)
{
    dr_t *d = a->data;
    uv_mutex_lock(&d->mu);
    int ops = d->ops;
    d->ops = 0;
    uv_mutex_unlock(&d->mu);
    if (ops & OP_DRAIN)
        gn_axon_drain(d->ax, d->deadline_s, dr_done, d);
    if (ops & OP_RELEASE) {
        uv_mutex_lock(&d->mu);
        int n = d->n_held;
        uv_mutex_unlock(&d->mu);
        for (int i = 0; i < n; i++)
            d->release_rc[i] = gn_axon_reply(d->held[i], d->held_syn[i]);
        uv_mutex_lock(&d->mu);
        d->n_released = n;
        uv_mutex_unlock(&d->mu);
    }
}

static void dr_run(void *arg)
{
    dr_t *d = arg;
    uv_run(&d->loop, UV_RUN_DEFAULT);
}

static void dr_op(dr_t *d, int op)
{
    uv_mutex_lock(&d->mu);
    d->ops |= op;
    uv_mutex_unlock(&d->mu);
    uv_async_send(&d->cmd);
}

static int dr_get(dr_t *d, int *field)
{
    uv_mutex_lock(&d->mu);
    int v = *field;
    uv_mutex_unlock(&d->mu);
    return v;
}

static void hold(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    dr_t *d = the_dr;
    uv_mutex_lock(&d->mu);
    cr_assert_lt(d->n_held, 8);
    d->held[d->n_held] = call;
    d->held_syn[d->n_held++] = syn;
    uv_mutex_unlock(&d->mu);
}

static const gn_syn_class_t HOLD = {"Hold", SLOW_F, 1};

static void dr_start(dr_t *d, gn_axon_opts_t *o)
{
    memset(d, 0, sizeof(*d));
    the_dr = d;
    keys();
    o->hotkey = &bob;
    o->ip = "127.0.0.1";
    cr_assert_eq(uv_loop_init(&d->loop), 0);
    uv_mutex_init(&d->mu);
    cr_assert_eq(gn_axon_start(&d->loop, o, &d->ax), 0);
    gn_axon_handler_t sh = {.cls = &SLOW, .fn = slow}, hh = {.cls = &HOLD, .fn = hold};
    setup_t s = {NULL, false, &sh};
    setup(d->ax, &s);
    cr_assert_eq(gn_axon_attach(d->ax, &hh), 0);
    d->port = gn_axon_port(d->ax);
    uv_async_init(&d->loop, &d->cmd, dr_cmd);
    d->cmd.data = d;
    cr_assert_eq(uv_thread_create(&d->th, dr_run, d), 0);
}

/* The loop ends by itself once the axon is freed (done closes cmd). */
static void dr_join(dr_t *d)
{
    uv_thread_join(&d->th);
    cr_assert_eq(uv_loop_close(&d->loop), 0, "every axon handle closed");
    uv_mutex_destroy(&d->mu);
}

/* Everything the server sends until it closes (or 5 s pass). */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap + 1);
    cr_assert_not_null(b);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ssize_t k;
    while (n < cap && (k = recv(fd, b + n, cap - n, 0)) > 0)
        n += (size_t)k;
    b[n] = 0;
    *len = n;
    return b;
}

static bool closed_within(int fd, int ms)
{
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, ms) <= 0)
        return false;
    char c;
    return recv(fd, &c, 1, 0) == 0;
}

Test(axon, drain_answers_everything_in_flight_then_closes, .timeout = 60)
{
    json_t *ex = examples();
    const json_t *e1 = json_object_get(ex, "example1_dummy");
    dr_t d;
    gn_axon_opts_t o = {.max_workers = 2};
    dr_start(&d, &o);
    d.deadline_s = 20;
    /* an idle keep-alive connection, served once */
    size_t len;
    char *req = example_request(e1, &(req_opts_t){0}, &len, NULL);
    int idle = gn_raw_connect(d.port);
    cr_assert_geq(idle, 0);
    cr_assert_eq(gn_raw_send(idle, req, len), 0);
    gn_raw_resp_t r;
    cr_assert_eq(gn_raw_read(idle, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert(!r.closed);
    gn_raw_free(&r);
    free(req);
    /* five 300 ms requests: two in the handlers, three queued */
    json_t *sx = as_class(e1, "Slow", "ms", json_integer(300), "MA==");
    enum { N = 5 };
    int fd[N];
    for (int i = 0; i < N; i++) {
        req = example_request(sx, &(req_opts_t){0}, &len, NULL);
        fd[i] = gn_raw_connect(d.port);
        cr_assert_geq(fd[i], 0);
        cr_assert_eq(gn_raw_send(fd[i], req, len), 0);
        free(req);
    }
    usleep(150000);
    uint64_t t_drain = now_ns();
    dr_op(&d, OP_DRAIN);
    usleep(50000);
    cr_assert_eq(gn_raw_connect(d.port), -1, "a new connection is refused");
    cr_assert(closed_within(idle, 2000), "the idle keep-alive connection is closed");
    close(idle);
    /* a new request on a connection that is still open: the SDK's 503 */
    req = example_request(e1, &(req_opts_t){0}, &len, NULL);
    cr_assert_eq(gn_raw_send(fd[0], req, len), 0);
    free(req);
    /* every request received before gets its 200 */
    uint64_t t_last = 0;
    for (int i = 0; i < N; i++) {
        char *all = read_all(fd[i], &len);
        t_last = now_ns();
        cr_assert(!strncmp(all, "HTTP/1.1 200 OK\r\n", 17), "%d: %s", i, all);
        cr_assert(strstr(all, "bt_header_axon_status_code: 200\r\n"), "%d: %s", i, all);
        char *second = strstr(all + 1, "HTTP/1.1 ");
        if (i == 0) {
            cr_assert_not_null(second, "the new request's answer: %s", all);
            cr_assert(!strncmp(second, "HTTP/1.1 503 Service Unavailable\r\n", 34), "%s", second);
            cr_assert(strstr(second, "Connection: close\r\n"), "%s", second);
            cr_assert(strstr(second, "bt_header_axon_status_message: Service unavailable: the "
                                     "axon is stopping\r\n"),
                      "%s", second);
            cr_assert(strstr(all, "Connection: close") == strstr(second, "Connection: close"),
                      "the first answer keeps the connection: %s", all);
        } else {
            cr_assert_null(second, "%d: %s", i, all);
            cr_assert(strstr(all, "Connection: close\r\n"), "the last answer closes: %s", all);
        }
        free(all); /* read_all returned at the server's close */
    }
    double took = (double)(t_last - t_drain) / 1e9;
    cr_assert(took > 0.3 && took < 5, "the queued requests ran after the drain began (%.2f s)",
              took);
    cr_assert_eq(dr_get(&d, &d.done_n), 0, "not done while clients hold the connections");
    for (int i = 0; i < N; i++)
        close(fd[i]);
    dr_join(&d);
    cr_assert_eq(d.done_n, 1, "done once");
    cr_assert_geq(d.done_ns, t_last, "done after the last answer");
    json_decref(sx);
    json_decref(ex);
}

Test(axon, drain_with_a_handler_that_never_answers_ends_at_the_deadline, .timeout = 60)
{
    json_t *ex = examples();
    dr_t d;
    gn_axon_opts_t o = {0};
    dr_start(&d, &o);
    d.deadline_s = 0.5;
    json_t *hx =
        as_class(json_object_get(ex, "example1_dummy"), "Hold", "ms", json_integer(0), "MA==");
    size_t len;
    char *req = example_request(hx, &(req_opts_t){0}, &len, NULL);
    int fd = gn_raw_connect(d.port);
    cr_assert_geq(fd, 0);
    cr_assert_eq(gn_raw_send(fd, req, len), 0);
    free(req);
    uint64_t end = now_ns() + 5000000000ull;
    while (dr_get(&d, &d.n_held) < 1 && now_ns() < end)
        usleep(10000);
    cr_assert_eq(dr_get(&d, &d.n_held), 1, "the handler has it");
    uint64_t t0 = now_ns();
    dr_op(&d, OP_DRAIN);
    usleep(100000);
    cr_assert_eq(gn_raw_connect(d.port), -1, "a new connection is refused");
    char *all = read_all(fd, &len);
    double took = (double)(now_ns() - t0) / 1e9;
    cr_assert_eq(len, 0, "no answer, the connection is cut: %s", all);
    free(all);
    cr_assert(took > 0.4 && took < 3, "cut at the deadline (%.2f s)", took);
    close(fd);
    /* the axon is freed once the handler lets go of its call */
    usleep(100000);
    cr_assert_eq(dr_get(&d, &d.done_n), 0);
    dr_op(&d, OP_RELEASE);
    dr_join(&d);
    cr_assert_eq(d.n_released, 1);
    cr_assert_eq(d.release_rc[0], GN_ECLOSED, "its answer goes nowhere");
    cr_assert_eq(d.done_n, 1);
    json_decref(hx);
    json_decref(ex);
}
