/* JSON-RPC over one WebSocket (include/ganglion/rpc.h). */
#include "ganglion/rpc.h"
#include "ganglion/error.h"
#include "ganglion/ws.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct call {
    uv_timer_t timer; /* first: the handle's data is the call */
    gn_rpc_t *owner;
    uint64_t id;
    gn_rpc_cb cb;
    void *arg;
    struct call *next;
} call_t;

struct gn_rpc {
    uv_loop_t *loop;
    gn_ws_t *ws;
    uint64_t next_id;
    call_t *calls;
    bool closed;
};

const char *gn_rpc_network_url(const char *network)
{
    static const struct {
        const char *name, *url;
    } nets[] = {
        {"finney", "wss://entrypoint-finney.opentensor.ai:443"},
        {"test", "wss://test.finney.opentensor.ai:443"},
        {"archive", "wss://archive.chain.opentensor.ai:443"},
        {"latent-lite", "wss://lite.sub.latent.to:443"},
    };
    if (!network || !*network)
        network = "finney";
    if (!strcmp(network, "local")) {
        const char *env = getenv("BT_SUBTENSOR_CHAIN_ENDPOINT");
        return env && *env ? env : "ws://127.0.0.1:9944";
    }
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
        if (!strcmp(network, nets[i].name))
            return nets[i].url;
    return network;
}

static void call_close_cb(uv_handle_t *h)
{
    free(h->data);
}

static call_t *take(gn_rpc_t *c, uint64_t id)
{
    for (call_t **p = &c->calls; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            call_t *hit = *p;
            *p = hit->next;
            return hit;
        }
    }
    return NULL;
}

static void finish(call_t *k, int status, const gn_rpc_msg_t *m)
{
    uv_timer_stop(&k->timer);
    uv_close((uv_handle_t *)&k->timer, call_close_cb);
    k->cb(status, m, k->arg);
}

static void fail_all(gn_rpc_t *c, int status)
{
    while (c->calls) {
        call_t *k = c->calls;
        c->calls = k->next;
        finish(k, status, NULL);
    }
}

static void on_msg(const gn_rpc_msg_t *m, void *arg)
{
    gn_rpc_t *c = arg;
    if (m->kind == GN_RPC_NOTIFICATION)
        return; /* subscriptions: next step of the chain client */
    call_t *k = take(c, m->id);
    if (k) /* unknown ids (answers after a timeout) are dropped */
        finish(k, m->kind == GN_RPC_RESULT ? 0 : GN_EIO, m);
}

static void ws_message(gn_ws_t *ws, const char *text, size_t len, void *arg)
{
    (void)ws;
    (void)gn_jsonrpc_parse(text, len, on_msg, arg);
}

static void ws_close(gn_ws_t *ws, int err, void *arg)
{
    (void)ws, (void)err;
    gn_rpc_t *c = arg;
    c->closed = true;
    fail_all(c, GN_ECLOSED);
}

int gn_rpc_open(uv_loop_t *loop, const char *url, gn_rpc_t **out)
{
    gn_rpc_t *c = calloc(1, sizeof(*c));
    if (!c)
        return GN_ENOMEM;
    c->loop = loop;
    gn_ws_callbacks_t cb = {NULL, ws_message, ws_close, c};
    int rc = gn_ws_connect(loop, url, &cb, &c->ws);
    if (rc < 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void timeout_cb(uv_timer_t *t)
{
    call_t *k = t->data;
    take(k->owner, k->id);
    finish(k, GN_ETIMEDOUT, NULL);
}

int gn_rpc_call(gn_rpc_t *c, const char *method, const json_t *params, uint64_t timeout_ms,
                gn_rpc_cb cb, void *arg)
{
    if (c->closed)
        return GN_ECLOSED;
    char *text;
    size_t len;
    uint64_t id = ++c->next_id;
    int rc = gn_jsonrpc_request(id, method, params, &text, &len);
    if (rc < 0)
        return rc;
    rc = gn_ws_send(c->ws, text, len);
    free(text);
    if (rc < 0)
        return rc;
    call_t *k = calloc(1, sizeof(*k));
    if (!k)
        return GN_ENOMEM;
    k->owner = c;
    k->id = id;
    k->cb = cb;
    k->arg = arg;
    uv_timer_init(c->loop, &k->timer);
    k->timer.data = k;
    uv_timer_start(&k->timer, timeout_cb, timeout_ms, 0);
    k->next = c->calls;
    c->calls = k;
    return 0;
}

void gn_rpc_close(gn_rpc_t *c)
{
    fail_all(c, GN_ECLOSED);
    c->closed = true;
    gn_ws_close(c->ws);
    gn_ws_free(c->ws);
}

void gn_rpc_release(gn_rpc_t *c)
{
    if (!c)
        return;
    gn_ws_release(c->ws);
    free(c);
}
