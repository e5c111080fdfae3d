/* The JSON-RPC client: many calls on one socket against the real chain;
 * deadlines against a server that never answers; a refused connection. */
#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/rpc.h"
#include "support/chain.h"

#define N 60

typedef struct {
    int done, ok, timeouts, closed;
    int kind[N]; /* which method each call was */
    bool right[N];
} calls_t;

typedef struct {
    calls_t *all;
    int i;
} one_t;

static void on_result(int status, const gn_rpc_msg_t *m, void *arg)
{
    one_t *o = arg;
    calls_t *c = o->all;
    c->done++;
    if (status == GN_ETIMEDOUT)
        c->timeouts++;
    if (status == GN_ECLOSED)
        c->closed++;
    if (status != 0)
        return;
    c->ok++;
    /* each answer is the one for its own request */
    switch (c->kind[o->i]) {
    case 0: c->right[o->i] = json_object_get(m->result, "number") != NULL; break;
    case 1: c->right[o->i] = json_object_get(m->result, "specVersion") != NULL; break;
    default:
        c->right[o->i] = json_is_string(m->result) &&
                         strncmp(json_string_value(m->result), "0x6d657461", 10) == 0;
    }
}

static void run_until(uv_loop_t *loop, calls_t *c, int want)
{
    uint64_t t0 = uv_hrtime();
    while (c->done < want && uv_hrtime() - t0 < 60ull * 1000000000)
        uv_run(loop, UV_RUN_ONCE);
}

static void shut(uv_loop_t *loop, gn_rpc_t *rpc)
{
    gn_rpc_close(rpc);
    uv_run(loop, UV_RUN_DEFAULT);
    gn_rpc_release(rpc);
    cr_assert_eq(uv_loop_close(loop), 0, "no handles left");
}

/* A client on a fresh loop, connected to the local chain started for the test. */
static gn_rpc_t *open_on_chain(uv_loop_t *loop, int *port)
{
    char url[128];
    gn_rpc_t *rpc;
    gn_test_chain_start(url, sizeof(url), port);
    uv_loop_init(loop);
    cr_assert_eq(gn_rpc_open(loop, url, &rpc), 0);
    return rpc;
}

Test(rpc, many_calls_on_one_socket, .timeout = 180)
{
    int port;
    uv_loop_t loop;
    gn_rpc_t *rpc = open_on_chain(&loop, &port);
    static calls_t c;
    static one_t ones[N];
    static const char *methods[] = {"chain_getHeader", "state_getRuntimeVersion",
                                    "state_getMetadata"};
    for (int i = 0; i < N; i++) {
        c.kind[i] = i % 3;
        ones[i] = (one_t){&c, i};
        cr_assert_eq(gn_rpc_call(rpc, methods[i % 3], NULL, 30000, on_result, &ones[i]), 0);
    }
    run_until(&loop, &c, N);
    shut(&loop, rpc);
    gn_test_chain_stop(port);
    cr_assert_eq(c.ok, N, "%d of %d answered (%d timeouts, %d closed)", c.ok, N, c.timeouts,
                 c.closed);
    for (int i = 0; i < N; i++)
        cr_assert(c.right[i], "call %d got another call's answer", i);
}

/* accepts TCP connections and never says a word */
static void on_conn(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    uv_tcp_t *client = malloc(sizeof(*client));
    uv_tcp_init(server->loop, client);
    uv_accept(server, (uv_stream_t *)client);
    server->data = client;
}

static void free_close(uv_handle_t *h)
{
    free(h);
}

Test(rpc, deadlines_fire_when_the_server_is_silent, .timeout = 60)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_tcp_init(&loop, &server);
    server.data = NULL;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    cr_assert_eq(uv_tcp_bind(&server, (struct sockaddr *)&addr, 0), 0);
    cr_assert_eq(uv_listen((uv_stream_t *)&server, 8, on_conn), 0);
    struct sockaddr_in bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", ntohs(bound.sin_port));
    gn_rpc_t *rpc;
    cr_assert_eq(gn_rpc_open(&loop, url, &rpc), 0);
    static calls_t c;
    static one_t ones[3];
    for (int i = 0; i < 3; i++) {
        ones[i] = (one_t){&c, i};
        cr_assert_eq(gn_rpc_call(rpc, "chain_getHeader", NULL, 300, on_result, &ones[i]), 0);
    }
    uint64_t t0 = uv_hrtime();
    run_until(&loop, &c, 3);
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    cr_assert_eq(c.timeouts, 3, "every call ends by its deadline");
    cr_assert_lt(secs, 5.0, "and promptly (%.2f s)", secs);
    if (server.data)
        uv_close((uv_handle_t *)server.data, free_close);
    uv_close((uv_handle_t *)&server, NULL);
    shut(&loop, rpc);
}

Test(rpc, a_refused_connection_fails_its_calls, .timeout = 60)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_rpc_t *rpc;
    cr_assert_eq(gn_rpc_open(&loop, "ws://127.0.0.1:1", &rpc), 0);
    static calls_t c;
    static one_t one = {&c, 0};
    int rc = gn_rpc_call(rpc, "chain_getHeader", NULL, 30000, on_result, &one);
    if (rc == 0)
        run_until(&loop, &c, 1);
    cr_assert(rc == GN_ECLOSED || (c.done == 1 && c.closed == 1),
              "the call fails as closed, at once or when the connection does");
    shut(&loop, rpc);
    cr_assert_str_eq(gn_rpc_network_url("local"), "ws://127.0.0.1:9944");
    cr_assert_str_eq(gn_rpc_network_url("finney"), "wss://entrypoint-finney.opentensor.ai:443");
    cr_assert_str_eq(gn_rpc_network_url("ws://x:1"), "ws://x:1");
}

/* ---- subscriptions ---- */

typedef struct {
    int heads, ended;
    long last_number;
    bool increasing;
} heads_t;

static void on_head(int status, const json_t *result, void *arg)
{
    heads_t *h = arg;
    if (status != 0) {
        h->ended++;
        return;
    }
    const char *num = json_string_value(json_object_get(result, "number"));
    long n = num ? strtol(num, NULL, 16) : -1;
    if (h->heads > 0 && n <= h->last_number)
        h->increasing = false;
    h->last_number = n;
    h->heads++;
}

static void ignore(int status, const gn_rpc_msg_t *m, void *arg)
{
    (void)m;
    int *done = arg;
    *done = status == 0 ? 1 : -1;
}

Test(rpc, new_heads_subscription, .timeout = 180)
{
    int port;
    uv_loop_t loop;
    gn_rpc_t *rpc = open_on_chain(&loop, &port);
    static heads_t h = {.increasing = true};
    uint64_t handle;
    cr_assert_eq(gn_rpc_subscribe(rpc, "chain_subscribeNewHeads", NULL, "chain_unsubscribeNewHeads",
                                  30000, on_head, &h, &handle),
                 0);
    /* chopsticks makes blocks on request: three of them */
    int made = 0;
    json_t *p = json_pack("[{s:i}]", "count", 3);
    cr_assert_eq(gn_rpc_call(rpc, "dev_newBlock", p, 60000, ignore, &made), 0);
    json_decref(p);
    uint64_t t0 = uv_hrtime();
    while ((h.heads < 4 || made == 0) && uv_hrtime() - t0 < 60ull * 1000000000)
        uv_run(&loop, UV_RUN_ONCE);
    cr_assert_eq(gn_rpc_unsubscribe(rpc, handle), 0);
    cr_assert_eq(gn_rpc_unsubscribe(rpc, handle), GN_ENOENT);
    shut(&loop, rpc);
    gn_test_chain_stop(port);
    cr_assert_eq(made, 1, "dev_newBlock answered");
    cr_assert_geq(h.heads, 4, "the current head and three new ones (%d)", h.heads);
    cr_assert(h.increasing, "heads arrive in order");
    cr_assert_eq(h.ended, 1, "one final call when it ends");
}
