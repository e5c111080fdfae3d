/* The JSON-RPC client: many calls on one socket against the real chain;
 * deadlines against a server that never answers; a refused connection;
 * batches; reconnects (the chain stopped and started again on its port). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    gn_rpc_opts_t o = {.no_reconnect = true};
    cr_assert_eq(gn_rpc_open_opts(&loop, "ws://127.0.0.1:1", &o, &rpc), 0);
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

/* ---- batches and reconnects ---- */

#define RUN_UNTIL(loop, cond, secs)                                           \
    do {                                                                      \
        uint64_t t0_ = uv_hrtime();                                           \
        while (!(cond) && uv_hrtime() - t0_ < (uint64_t)(secs)*1000000000ull) \
            uv_run((loop), UV_RUN_ONCE);                                      \
    } while (0)

static void tick(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Runs the loop for ms, whatever else is pending. */
static void run_for(uv_loop_t *loop, uint64_t ms)
{
    uv_timer_t t;
    bool done = false;
    uv_timer_init(loop, &t);
    t.data = &done;
    uv_timer_start(&t, tick, ms, 0);
    while (!done)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

typedef struct {
    bool done;
    int status, calls; /* calls: how many times its callback ran */
    int64_t code;      /* an error response's */
    json_t *result;    /* a copy */
} res_t;

static void on_res(int status, const gn_rpc_msg_t *m, void *arg)
{
    res_t *r = arg;
    r->calls++;
    r->done = true;
    r->status = status;
    if (status == 0) {
        json_decref(r->result);
        r->result = json_deep_copy(m->result);
    } else if (status == GN_EIO)
        r->code = m->error_code;
}

static bool all_done(const res_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!r[i].done)
            return false;
    return true;
}

static void free_results(res_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(r[i].result);
}

/* Is r the answer the local chain gives to method? */
static bool answers(const char *method, const res_t *r)
{
    const json_t *v = r->result;
    const char *s = json_string_value(v);
    if (!strcmp(method, "nosuch_method"))
        return r->status == GN_EIO && r->code == -32601;
    if (r->status != 0)
        return false;
    if (!strcmp(method, "chain_getHeader"))
        return json_object_get(v, "number") != NULL;
    if (!strcmp(method, "state_getRuntimeVersion"))
        return json_object_get(v, "specVersion") != NULL;
    if (!strcmp(method, "system_chain"))
        return s && !strcmp(s, "bittensor-local");
    if (!strcmp(method, "chain_getBlockHash"))
        return s && strlen(s) == 66;
    if (!strcmp(method, "rpc_methods"))
        return json_is_array(json_object_get(v, "methods"));
    if (!strcmp(method, "state_getMetadata"))
        return s && !strncmp(s, "0x6d657461", 10);
    return false;
}

typedef struct {
    int heads, gaps, ended, end_status;
    int heads_at_gap;
    long last_number;
    bool increasing_after_gap;
} watch_t;

static void on_watch(int status, const json_t *result, void *arg)
{
    watch_t *w = arg;
    if (status == GN_EGAP) {
        w->gaps++;
        w->heads_at_gap = w->heads;
        w->last_number = -1;
        return;
    }
    if (status != 0) {
        w->ended++;
        w->end_status = status;
        return;
    }
    const char *num = json_string_value(json_object_get(result, "number"));
    long n = num ? strtol(num, NULL, 16) : -1;
    if (w->gaps && n <= w->last_number)
        w->increasing_after_gap = false;
    w->last_number = n;
    w->heads++;
}

typedef struct {
    int up, down;
} state_t;

static void on_state(bool connected, void *arg)
{
    state_t *s = arg;
    if (connected)
        s->up++;
    else
        s->down++;
}

Test(rpc, batch_of_mixed_requests, .timeout = 180)
{
    int port;
    uv_loop_t loop;
    gn_rpc_t *rpc = open_on_chain(&loop, &port);
    static const char *kinds[] = {
        "chain_getHeader", "state_getRuntimeVersion", "system_chain",     "chain_getBlockHash",
        "rpc_methods",     "nosuch_method",           "state_getMetadata"};
    enum { NB = 20 };
    const char *methods[NB];
    const json_t *params[NB];
    void *args[NB];
    static res_t r[NB];
    json_t *zero = json_pack("[i]", 0);
    for (int i = 0; i < NB; i++) {
        methods[i] = kinds[i % 7];
        params[i] = !strcmp(methods[i], "chain_getBlockHash") ? zero : NULL;
        args[i] = &r[i];
    }
    cr_assert_eq(gn_rpc_batch(rpc, NB, methods, params, 30000, on_res, args), 0);
    cr_assert_eq(gn_rpc_batch(rpc, 0, methods, params, 30000, on_res, args), GN_EINVAL);
    /* params NULL: every item without params */
    static res_t r2[3];
    void *args2[3] = {&r2[0], &r2[1], &r2[2]};
    cr_assert_eq(gn_rpc_batch(rpc, 3, kinds, NULL, 30000, on_res, args2), 0);
    RUN_UNTIL(&loop, all_done(r, NB) && all_done(r2, 3), 60);
    json_decref(zero);
    shut(&loop, rpc);

    /* without reconnects, a lost connection ends everything GN_ECLOSED */
    char url[128];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", port);
    uv_loop_init(&loop);
    static state_t st;
    gn_rpc_opts_t o = {.no_reconnect = true, .on_state = on_state, .arg = &st};
    cr_assert_eq(gn_rpc_open_opts(&loop, url, &o, &rpc), 0);
    static watch_t w = {.increasing_after_gap = true};
    uint64_t handle;
    cr_assert_eq(gn_rpc_subscribe(rpc, "chain_subscribeNewHeads", NULL, "chain_unsubscribeNewHeads",
                                  30000, on_watch, &w, &handle),
                 0);
    RUN_UNTIL(&loop, w.heads >= 1, 30);
    cr_assert(gn_rpc_connected(rpc));
    static res_t late;
    cr_assert_eq(gn_rpc_call(rpc, "state_getMetadata", NULL, 30000, on_res, &late), 0);
    gn_test_chain_stop(port);
    RUN_UNTIL(&loop, late.done && w.ended, 30);
    bool connected = gn_rpc_connected(rpc);
    static res_t after;
    int rc = gn_rpc_call(rpc, "chain_getHeader", NULL, 1000, on_res, &after);
    shut(&loop, rpc);

    for (int i = 0; i < NB; i++)
        cr_assert(answers(methods[i], &r[i]), "item %d (%s): status %d", i, methods[i],
                  r[i].status);
    for (int i = 0; i < NB; i++)
        cr_assert_eq(r[i].calls, 1, "one callback per item");
    for (int i = 0; i < 3; i++)
        cr_assert(answers(kinds[i], &r2[i]), "item %d of the second batch", i);
    cr_assert_eq(late.status, GN_ECLOSED, "in flight when the node went: %d", late.status);
    cr_assert_eq(w.ended, 1);
    cr_assert_eq(w.end_status, GN_ECLOSED);
    cr_assert_eq(w.gaps, 0);
    cr_assert(!connected);
    cr_assert_eq(rc, GN_ECLOSED, "no calls after the connection is gone");
    cr_assert_eq(st.up, 1);
    cr_assert_eq(st.down, 1);
    free_results(r, NB);
    free_results(r2, 3);
    free_results(&late, 1);
}

Test(rpc, reconnect_after_the_chain_restarts, .timeout = 240)
{
    int port;
    uv_loop_t loop;
    char url[128];
    gn_test_chain_start(url, sizeof(url), &port);
    uv_loop_init(&loop);
    static state_t st;
    gn_rpc_opts_t o = {
        .backoff_min_ms = 50, .backoff_max_ms = 1000, .on_state = on_state, .arg = &st};
    gn_rpc_t *rpc;
    cr_assert_eq(gn_rpc_open_opts(&loop, url, &o, &rpc), 0);
    static watch_t w = {.increasing_after_gap = true}, unsafe_w;
    uint64_t handle, unsafe_handle;
    cr_assert_eq(gn_rpc_subscribe(rpc, "chain_subscribeNewHeads", NULL, "chain_unsubscribeNewHeads",
                                  30000, on_watch, &w, &handle),
                 0);
    cr_assert_eq(gn_rpc_subscribe_flags(rpc, "chain_subscribeFinalizedHeads", NULL,
                                        "chain_unsubscribeFinalizedHeads", 30000, GN_RPC_UNSAFE,
                                        on_watch, &unsafe_w, &unsafe_handle),
                 0);
    static res_t before[3];
    static const char *reads[] = {"chain_getHeader", "state_getRuntimeVersion", "system_chain"};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(gn_rpc_call(rpc, reads[i], NULL, 30000, on_res, &before[i]), 0);
    RUN_UNTIL(&loop, all_done(before, 3) && w.heads >= 1 && unsafe_w.heads >= 1, 60);
    cr_assert(gn_rpc_connected(rpc));
    cr_assert_eq(gn_rpc_reconnects(rpc), 0);

    /* In flight when the chain dies: handed to the open connection, then the
     * chain is killed before the loop runs again, so no answer can come. */
    static res_t unsafe_sent, safe_sent;
    cr_assert_eq(gn_rpc_call_flags(rpc, "state_getMetadata", NULL, 60000, GN_RPC_UNSAFE, on_res,
                                   &unsafe_sent),
                 0);
    json_t *zero = json_pack("[i]", 0);
    cr_assert_eq(gn_rpc_call(rpc, "chain_getBlockHash", zero, 60000, on_res, &safe_sent), 0);
    int heads_at_stop = w.heads;
    gn_test_chain_stop(port);
    RUN_UNTIL(&loop, unsafe_sent.done && unsafe_w.ended, 10);
    bool down_seen = !gn_rpc_connected(rpc);

    /* while it is down: calls queue; one whose deadline passes meanwhile ends */
    static res_t queued[3], unsafe_queued, short_deadline;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(gn_rpc_call(rpc, reads[i], NULL, 60000, on_res, &queued[i]), 0);
    cr_assert_eq(gn_rpc_call_flags(rpc, "chain_getBlockHash", zero, 60000, GN_RPC_UNSAFE, on_res,
                                   &unsafe_queued),
                 0);
    cr_assert_eq(gn_rpc_call(rpc, "chain_getHeader", NULL, 300, on_res, &short_deadline), 0);
    uint64_t t0 = uv_hrtime();
    RUN_UNTIL(&loop, short_deadline.done, 10);
    double waited = (double)(uv_hrtime() - t0) / 1e9;
    run_for(&loop, 300); /* a few failed attempts */
    bool none_early = !queued[0].done && !queued[1].done && !queued[2].done && !unsafe_queued.done;

    char url2[128];
    gn_test_chain_start_on(port, url2, sizeof(url2));
    RUN_UNTIL(&loop,
              gn_rpc_reconnects(rpc) == 1 && all_done(queued, 3) && unsafe_queued.done &&
                  safe_sent.done && w.gaps == 1 && w.heads > w.heads_at_gap,
              60);
    static res_t made;
    json_t *one = json_pack("[{s:i}]", "count", 1);
    cr_assert_eq(gn_rpc_call(rpc, "dev_newBlock", one, 60000, on_res, &made), 0);
    json_decref(one);
    int heads_before_block = w.heads;
    RUN_UNTIL(&loop, made.done && w.heads > heads_before_block, 60);
    uint64_t reconnects = gn_rpc_reconnects(rpc);

    /* stopped for good: a call ends at its deadline, no hang */
    gn_test_chain_stop(port);
    static res_t orphan;
    cr_assert_eq(gn_rpc_call(rpc, "chain_getHeader", NULL, 500, on_res, &orphan), 0);
    t0 = uv_hrtime();
    RUN_UNTIL(&loop, orphan.done, 20);
    double orphan_secs = (double)(uv_hrtime() - t0) / 1e9;
    int ended_before_close = w.ended;
    shut(&loop, rpc);
    json_decref(zero);

    for (int i = 0; i < 3; i++)
        cr_assert(answers(reads[i], &before[i]), "read %d before the stop", i);
    cr_assert_eq(unsafe_sent.status, GN_EFATE, "unsafe and in flight: %s",
                 gn_errname(unsafe_sent.status));
    cr_assert_eq(unsafe_w.ended, 1);
    cr_assert_eq(unsafe_w.end_status, GN_EFATE, "an unsafe subscription ends: %s",
                 gn_errname(unsafe_w.end_status));
    cr_assert(down_seen, "not connected once the chain is gone");
    cr_assert_eq(short_deadline.status, GN_ETIMEDOUT);
    cr_assert_lt(waited, 3.0, "the deadline holds while disconnected (%.2f s)", waited);
    cr_assert(none_early, "calls wait for the connection");
    cr_assert_eq(reconnects, 1);
    cr_assert(answers("chain_getBlockHash", &safe_sent), "a safe call in flight is sent again: %s",
              gn_errname(safe_sent.status));
    for (int i = 0; i < 3; i++)
        cr_assert(answers(reads[i], &queued[i]), "queued read %d: %s", i,
                  gn_errname(queued[i].status));
    cr_assert(answers("chain_getBlockHash", &unsafe_queued), "an unsafe call not yet sent is sent");
    cr_assert_eq(w.gaps, 1, "one GN_EGAP");
    cr_assert_eq(w.heads_at_gap, heads_at_stop, "no head between the stop and the gap");
    cr_assert_geq(w.heads - w.heads_at_gap, 2, "the new head and the one made (%d)",
                  w.heads - w.heads_at_gap);
    cr_assert(w.increasing_after_gap);
    cr_assert_eq(made.status, 0, "dev_newBlock: %s", gn_errname(made.status));
    cr_assert_eq(ended_before_close, 0, "GN_EGAP is not an end");
    cr_assert_eq(w.ended, 1);
    cr_assert_eq(w.end_status, GN_ECLOSED);
    cr_assert_eq(orphan.status, GN_ETIMEDOUT);
    cr_assert_lt(orphan_secs, 5.0, "%.2f s", orphan_secs);
    cr_assert_eq(st.up, 2, "up, then up again (%d)", st.up);
    cr_assert_eq(st.down, 2, "down twice (%d)", st.down);
    free_results(before, 3);
    free_results(queued, 3);
    free_results(&unsafe_sent, 1);
    free_results(&safe_sent, 1);
    free_results(&unsafe_queued, 1);
    free_results(&made, 1);
}

Test(rpc, close_while_reconnecting, .timeout = 60)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_rpc_t *rpc;
    gn_rpc_opts_t o = {.backoff_min_ms = 10, .backoff_max_ms = 40};
    cr_assert_eq(gn_rpc_open_opts(&loop, "ws://127.0.0.1:1", &o, &rpc), 0);
    static res_t quick, slow, batch[3];
    static watch_t w;
    uint64_t handle;
    cr_assert_eq(gn_rpc_call(rpc, "chain_getHeader", NULL, 300, on_res, &quick), 0);
    cr_assert_eq(gn_rpc_call(rpc, "chain_getHeader", NULL, 30000, on_res, &slow), 0);
    cr_assert_eq(
        gn_rpc_subscribe(rpc, "chain_subscribeNewHeads", NULL, NULL, 30000, on_watch, &w, &handle),
        0);
    static const char *m[] = {"a", "b", "c"};
    void *args[] = {&batch[0], &batch[1], &batch[2]};
    cr_assert_eq(gn_rpc_batch(rpc, 3, m, NULL, 30000, on_res, args), 0);
    RUN_UNTIL(&loop, quick.done, 10);
    run_for(&loop, 200); /* many attempts: retired sockets released as it goes */
    bool connected = gn_rpc_connected(rpc);
    bool waiting = !slow.done && !w.ended && !batch[0].done;
    uint64_t reconnects = gn_rpc_reconnects(rpc);
    gn_rpc_close(rpc);
    cr_assert_eq(gn_rpc_call(rpc, "chain_getHeader", NULL, 300, on_res, &quick), GN_ECLOSED);
    uv_run(&loop, UV_RUN_DEFAULT);
    gn_rpc_release(rpc);
    cr_assert_eq(uv_loop_close(&loop), 0, "no handles left");
    cr_assert_eq(quick.status, GN_ETIMEDOUT);
    cr_assert(!connected);
    cr_assert(waiting, "nothing fails early while it reconnects");
    cr_assert_eq(reconnects, 0);
    cr_assert_eq(slow.status, GN_ECLOSED);
    cr_assert_eq(w.ended, 1);
    cr_assert_eq(w.end_status, GN_ECLOSED);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(batch[i].status, GN_ECLOSED);
}

/* A node that takes no batches: it answers an array with an error whose id
 * is null, and single requests with their method's name; "batches" tells
 * how many arrays it got. It exits when its client goes. */
static const char fake_node[] =
    "const WebSocket = require(process.argv[2]);\n"
    "const srv = new WebSocket.WebSocketServer({host: '127.0.0.1', port: 0},\n"
    "  () => console.log(srv.address().port));\n"
    "let arrays = 0;\n"
    "srv.on('connection', (ws) => {\n"
    "  ws.on('message', (data) => {\n"
    "    const q = JSON.parse(data.toString());\n"
    "    if (Array.isArray(q)) { arrays++; ws.send(JSON.stringify({jsonrpc: '2.0', id: null,\n"
    "      error: {code: -32600, message: 'batches are not supported'}})); return; }\n"
    "    ws.send(JSON.stringify({jsonrpc: '2.0', id: q.id,\n"
    "      result: q.method === 'batches' ? arrays : q.method}));\n"
    "  });\n"
    "  ws.on('close', () => process.exit(0));\n"
    "});\n"
    "setTimeout(() => process.exit(1), 30000);\n";

#define WS_MODULE GN_SOURCE_DIR "/build/chain/node_modules/ws"

Test(rpc, a_refused_batch_goes_again_one_by_one, .timeout = 60)
{
    if (access(WS_MODULE "/package.json", R_OK) != 0 || system("node --version >/dev/null 2>&1"))
        cr_skip_test("needs Node.js and the local chain's node_modules (ws)");
    char script[] = "/tmp/gn-fake-node-XXXXXX";
    int fd = mkstemp(script);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, fake_node, sizeof(fake_node) - 1), (ssize_t)sizeof(fake_node) - 1);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "node %s %s", script, WS_MODULE);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    int port = 0;
    cr_assert_eq(fscanf(p, "%d", &port), 1);
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", port);
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_rpc_t *rpc;
    cr_assert_eq(gn_rpc_open(&loop, url, &rpc), 0);
    static const char *m[] = {"a", "b", "c", "d", "e"};
    static res_t r[5], r2[2], count;
    void *args[] = {&r[0], &r[1], &r[2], &r[3], &r[4]};
    cr_assert_eq(gn_rpc_batch(rpc, 5, m, NULL, 10000, on_res, args), 0);
    RUN_UNTIL(&loop, all_done(r, 5), 20);
    cr_assert_eq(gn_rpc_batch(rpc, 2, m, NULL, 10000, on_res, args), 0); /* r[0], r[1] again */
    void *args2[] = {&r2[0], &r2[1]};
    cr_assert_eq(gn_rpc_batch(rpc, 2, m + 3, NULL, 10000, on_res, args2), 0);
    RUN_UNTIL(&loop, all_done(r2, 2), 20);
    cr_assert_eq(gn_rpc_call(rpc, "batches", NULL, 10000, on_res, &count), 0);
    RUN_UNTIL(&loop, count.done, 20);
    shut(&loop, rpc);
    int rc = pclose(p);
    unlink(script);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(r[i].status, 0, "item %d: %s", i, gn_errname(r[i].status));
        cr_assert_str_eq(json_string_value(r[i].result), m[i]);
    }
    cr_assert_eq(r[0].calls, 2);
    cr_assert_eq(r[4].calls, 1);
    for (int i = 0; i < 2; i++)
        cr_assert_str_eq(json_string_value(r2[i].result), m[3 + i]);
    cr_assert_eq(json_integer_value(count.result), 1, "one array only: then one frame each");
    cr_assert_eq(rc, 0, "the fake node saw its client go");
    free_results(r, 5);
    free_results(r2, 2);
    free_results(&count, 1);
}
