#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/jsonrpc.h"

Test(jsonrpc, requests)
{
    char *s;
    size_t n;
    cr_assert_eq(gn_jsonrpc_request(7, "chain_getHeader", NULL, &s, &n), 0);
    cr_assert_str_eq(s,
                     "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"chain_getHeader\",\"params\":[]}");
    cr_assert_eq(n, strlen(s));
    free(s);
    json_t *p = json_pack("[s,s]", "Metadata_metadata_at_version", "0x0f000000");
    cr_assert_eq(gn_jsonrpc_request(8, "state_call", p, &s, &n), 0);
    cr_assert(strstr(s, "\"params\":[\"Metadata_metadata_at_version\",\"0x0f000000\"]"), "%s", s);
    cr_assert_eq(p->refcount, 1, "params are borrowed");
    free(s);
    json_decref(p);
    json_t *bad = json_string("x");
    cr_assert_eq(gn_jsonrpc_request(1, "m", bad, &s, &n), GN_EINVAL);
    json_decref(bad);
    cr_assert_eq(gn_jsonrpc_request(1, NULL, NULL, &s, &n), GN_EINVAL);
}

typedef struct {
    gn_rpc_msg_t msgs[8];
    json_t *results[8];
    char methods[8][64], messages[8][128];
    int n;
} seen_t;

static void collect(const gn_rpc_msg_t *m, void *arg)
{
    seen_t *s = arg;
    s->msgs[s->n] = *m;
    /* the message's JSON lives only during the callback: keep copies */
    s->results[s->n] = m->result ? json_deep_copy(m->result) : NULL;
    snprintf(s->methods[s->n], 64, "%s", m->method ? m->method : "");
    snprintf(s->messages[s->n], 128, "%s", m->error_message ? m->error_message : "");
    s->n++;
}

static int parse(const char *text, seen_t *s)
{
    memset(s, 0, sizeof(*s));
    return gn_jsonrpc_parse(text, strlen(text), collect, s);
}

static void release(seen_t *s)
{
    for (int i = 0; i < s->n; i++)
        json_decref(s->results[i]);
}

Test(jsonrpc, responses_errors_and_notifications)
{
    seen_t s;
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"0x1234\"}", &s), 1);
    cr_assert_eq(s.msgs[0].kind, GN_RPC_RESULT);
    cr_assert_eq(s.msgs[0].id, 3);
    cr_assert_str_eq(json_string_value(s.results[0]), "0x1234");
    release(&s);

    /* absent storage answers null: still a result */
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":null}", &s), 1);
    cr_assert(s.msgs[0].kind == GN_RPC_RESULT && json_is_null(s.results[0]));
    release(&s);

    /* a rejected transaction, as the local chain answers it */
    cr_assert_eq(
        parse("{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":1010,\"message\":"
              "\"Invalid Transaction\",\"data\":\"{\\\"invalid\\\":{\\\"badProof\\\":null}}"
              "\"}}",
              &s),
        1);
    cr_assert_eq(s.msgs[0].kind, GN_RPC_ERROR);
    cr_assert_eq(s.msgs[0].error_code, 1010);
    cr_assert_str_eq(s.messages[0], "Invalid Transaction");
    release(&s);

    /* notifications with string and numeric subscription ids */
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"method\":\"chain_newHead\",\"params\":{"
                       "\"subscription\":\"mgmalmgkfhm\",\"result\":{\"number\":\"0x00000002\"}}}",
                       &s),
                 1);
    cr_assert_eq(s.msgs[0].kind, GN_RPC_NOTIFICATION);
    cr_assert_str_eq(s.methods[0], "chain_newHead");
    cr_assert_str_eq(s.msgs[0].subscription, "mgmalmgkfhm");
    cr_assert_str_eq(json_string_value(json_object_get(s.results[0], "number")), "0x00000002");
    release(&s);
    cr_assert_eq(parse("{\"method\":\"author_extrinsicUpdate\",\"params\":{\"subscription\":42,"
                       "\"result\":{\"inBlock\":\"0xab\"}}}",
                       &s),
                 1);
    cr_assert_str_eq(s.msgs[0].subscription, "42");
    release(&s);

    /* a batch, in order */
    cr_assert_eq(parse("[{\"id\":1,\"result\":1},{\"id\":2,\"result\":2}]", &s), 2);
    cr_assert(s.msgs[0].id == 1 && s.msgs[1].id == 2);
    release(&s);
}

Test(jsonrpc, malformed_input)
{
    seen_t s;
    const char *bad[] = {
        "",
        "{",
        "null",
        "42",
        "{\"id\":1}",                  /* neither result nor error */
        "{\"id\":\"1\",\"result\":1}", /* not our id */
        "{\"id\":-1,\"result\":1}",
        "{\"id\":1,\"error\":\"boom\"}",    /* error must be an object */
        "{\"method\":\"x\",\"params\":{}}", /* notification without subscription */
        "{\"method\":\"x\",\"params\":{\"subscription\":[],\"result\":1}}",
        "{\"id\":1,\"result\":1,\"id\":2}", /* duplicate keys */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(parse(bad[i], &s), GN_EINVAL, "%s", bad[i]);
        cr_assert_eq(s.n, 0);
    }
    /* a batch stops at its first bad element, after delivering the good ones */
    cr_assert_eq(parse("[{\"id\":1,\"result\":1},{\"id\":\"x\"},{\"id\":3,\"result\":3}]", &s),
                 GN_EINVAL);
    cr_assert_eq(s.n, 1);
    release(&s);
}
