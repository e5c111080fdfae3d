/* JSON-RPC over one WebSocket (include/ganglion/rpc.h). */
#include "ganglion/rpc.h"
#include "ganglion/error.h"
#include "ganglion/ws.h"

#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct call {
    uv_timer_t timer; /* first: the handle's data is the call */
    gn_rpc_t *owner;
    uint64_t id;
    gn_rpc_cb cb;
    void *arg;
    struct call *next;
} call_t;

typedef struct sub {
    struct gn_rpc *owner;
    uint64_t handle;
    char id[128]; /* the node's subscription id, once confirmed */
    bool confirmed;
    char unsub[64];
    gn_rpc_sub_cb cb;
    void *arg;
    struct sub *next;
} sub_t;

/* Notifications that came before their subscription's confirmation (the
 * local chain may answer out of order), replayed on confirmation. */
#define EARLY_MAX 64
typedef struct early {
    char id[128];
    json_t *result;
    struct early *next;
} early_t;

struct gn_rpc {
    uv_loop_t *loop;
    gn_ws_t *ws;
    uint64_t next_id, next_handle;
    call_t *calls;
    sub_t *subs;
    early_t *early;
    unsigned n_early;
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

static sub_t *sub_by_id(gn_rpc_t *c, const char *id)
{
    for (sub_t *s = c->subs; s; s = s->next)
        if (s->confirmed && !strcmp(s->id, id))
            return s;
    return NULL;
}

static void end_sub(gn_rpc_t *c, sub_t *s, int status)
{
    for (sub_t **p = &c->subs; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    s->cb(status, NULL, s->arg);
    free(s);
}

static void keep_early(gn_rpc_t *c, const gn_rpc_msg_t *m)
{
    if (c->n_early >= EARLY_MAX) /* nobody claims them: drop the oldest */ {
        early_t **p = &c->early;
        while ((*p)->next)
            p = &(*p)->next;
        json_decref((*p)->result);
        free(*p);
        *p = NULL;
        c->n_early--;
    }
    early_t *e = calloc(1, sizeof(*e));
    if (!e)
        return;
    snprintf(e->id, sizeof(e->id), "%s", m->subscription);
    e->result = json_deep_copy(m->result);
    e->next = c->early;
    c->early = e;
    c->n_early++;
}

static void on_msg(const gn_rpc_msg_t *m, void *arg)
{
    gn_rpc_t *c = arg;
    if (m->kind == GN_RPC_NOTIFICATION) {
        sub_t *s = sub_by_id(c, m->subscription);
        if (s)
            s->cb(0, m->result, s->arg);
        else
            keep_early(c, m);
        return;
    }
    call_t *k = take(c, m->id);
    if (k) /* unknown ids (answers after a timeout) are dropped */
        finish(k, m->kind == GN_RPC_RESULT ? 0 : GN_EIO, m);
}

static void ws_message(gn_ws_t *ws, const char *text, size_t len, void *arg)
{
    (void)ws;
    (void)gn_jsonrpc_parse(text, len, on_msg, arg);
}

static void end_all_subs(gn_rpc_t *c)
{
    while (c->subs)
        end_sub(c, c->subs, GN_ECLOSED);
    while (c->early) {
        early_t *e = c->early;
        c->early = e->next;
        json_decref(e->result);
        free(e);
    }
    c->n_early = 0;
}

static void ws_close(gn_ws_t *ws, int err, void *arg)
{
    (void)ws, (void)err;
    gn_rpc_t *c = arg;
    c->closed = true;
    fail_all(c, GN_ECLOSED);
    end_all_subs(c);
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

/* The subscribe call's answer: the node's subscription id. */
static void subscribed(int status, const gn_rpc_msg_t *m, void *arg)
{
    sub_t *s = arg;
    gn_rpc_t *c = s->owner;
    if (status < 0 || (!json_is_string(m->result) && !json_is_integer(m->result))) {
        s->cb(status < 0 ? status : GN_EINVAL, NULL, s->arg);
        free(s);
        return;
    }
    if (json_is_string(m->result))
        snprintf(s->id, sizeof(s->id), "%s", json_string_value(m->result));
    else
        snprintf(s->id, sizeof(s->id), "%lld", (long long)json_integer_value(m->result));
    s->confirmed = true;
    s->next = c->subs;
    c->subs = s;
    /* replay what came early, oldest first */
    early_t *mine = NULL;
    for (early_t **p = &c->early; *p;) {
        if (!strcmp((*p)->id, s->id)) {
            early_t *e = *p;
            *p = e->next;
            e->next = mine;
            mine = e;
            c->n_early--;
        } else {
            p = &(*p)->next;
        }
    }
    while (mine) {
        early_t *e = mine;
        mine = e->next;
        s->cb(0, e->result, s->arg);
        json_decref(e->result);
        free(e);
    }
}

int gn_rpc_subscribe(gn_rpc_t *c, const char *method, const json_t *params,
                     const char *unsubscribe_method, uint64_t timeout_ms, gn_rpc_sub_cb cb,
                     void *arg, uint64_t *handle)
{
    sub_t *s = calloc(1, sizeof(*s));
    if (!s)
        return GN_ENOMEM;
    s->handle = ++c->next_handle;
    snprintf(s->unsub, sizeof(s->unsub), "%s", unsubscribe_method ? unsubscribe_method : "");
    s->cb = cb;
    s->arg = arg;
    s->owner = c;
    int rc = gn_rpc_call(c, method, params, timeout_ms, subscribed, s);
    if (rc < 0) {
        free(s);
        return rc;
    }
    if (handle)
        *handle = s->handle;
    return 0;
}

static void unsubscribed(int status, const gn_rpc_msg_t *m, void *arg)
{
    (void)status, (void)m, (void)arg;
}

int gn_rpc_unsubscribe(gn_rpc_t *c, uint64_t handle)
{
    for (sub_t *s = c->subs; s; s = s->next) {
        if (s->handle != handle)
            continue;
        if (s->unsub[0] && !c->closed) {
            json_t *p = json_pack("[s]", s->id);
            gn_rpc_call(c, s->unsub, p, 10000, unsubscribed, NULL);
            json_decref(p);
        }
        end_sub(c, s, GN_ECLOSED);
        return 0;
    }
    return GN_ENOENT;
}

void gn_rpc_close(gn_rpc_t *c)
{
    fail_all(c, GN_ECLOSED);
    end_all_subs(c);
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
