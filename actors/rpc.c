/* JSON-RPC over one WebSocket, reconnecting (include/ganglion/rpc.h). */
#include "ganglion/rpc.h"
#include "ganglion/error.h"
#include "ganglion/ws.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct call {
    uv_timer_t timer; /* the deadline; first: the handle's data is the call */
    gn_rpc_t *owner;
    uint64_t id;
    uint64_t batch; /* nonzero: goes out in one frame with the rest of its batch */
    unsigned flags;
    bool sent;  /* handed to an open connection */
    char *text; /* the request, kept to send it again after a reconnect */
    size_t len;
    gn_rpc_cb cb;
    void *arg;
    struct call *prev, *next; /* in the order made: the order sent */
} call_t;

typedef enum {
    SUB_PENDING, /* its subscribe request is out (or queued) */
    SUB_LIVE,    /* confirmed: id names it on this connection */
    SUB_WAIT,    /* its connection was lost: subscribed again when one opens */
} sub_state_t;

typedef struct sub {
    struct gn_rpc *owner;
    uint64_t handle;
    sub_state_t state;
    bool again;     /* the pending subscribe is a re-subscribe: GN_EGAP first */
    bool cancelled; /* unsubscribed while pending: the subscribe's answer frees it */
    unsigned flags;
    char *method, *unsub; /* unsub may be NULL */
    json_t *params;       /* a copy, for re-subscribing; may be NULL */
    uint64_t timeout_ms;
    int err;      /* a re-subscribe that could not be made */
    char id[128]; /* the node's subscription id, once confirmed */
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

/* Not faster than this, whatever the jitter says. */
#define BACKOFF_FLOOR_MS 10

struct gn_rpc {
    uv_loop_t *loop;
    char *url;
    gn_rpc_opts_t opts;
    gn_ws_t *ws;
    uv_timer_t timer;  /* reconnect backoff; after a close inside a callback, the ws free */
    bool timer_ready;  /* initialised (gn_ws_connect may report a close before) */
    bool retry_wanted; /* a close came before the timer was ready */
    unsigned attempt;
    int depth; /* > 0 inside a WebSocket callback: lws must not be destroyed there */
    uint64_t next_id, next_handle, next_batch, reconnects;
    call_t *head, *tail;
    sub_t *subs;
    early_t *early;
    unsigned n_early;
    bool connected, ever_connected;
    bool dead;     /* no_reconnect and the connection is gone */
    bool closed;   /* gn_rpc_close */
    bool no_batch; /* the node refused a batch: one frame per request from now on */
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

/* ---- calls ---- */

static void call_close_cb(uv_handle_t *h)
{
    call_t *k = h->data;
    free(k->text);
    free(k);
}

static void link_call(gn_rpc_t *c, call_t *k)
{
    k->prev = c->tail;
    k->next = NULL;
    if (c->tail)
        c->tail->next = k;
    else
        c->head = k;
    c->tail = k;
}

static void unlink_call(gn_rpc_t *c, call_t *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        c->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    else
        c->tail = k->prev;
    k->prev = k->next = NULL;
}

static call_t *take(gn_rpc_t *c, uint64_t id)
{
    for (call_t *k = c->head; k; k = k->next) {
        if (k->id == id) {
            unlink_call(c, k);
            return k;
        }
    }
    return NULL;
}

/* k is already unlinked. */
static void finish(call_t *k, int status, const gn_rpc_msg_t *m)
{
    uv_timer_stop(&k->timer);
    uv_close((uv_handle_t *)&k->timer, call_close_cb);
    k->cb(status, m, k->arg);
}

/* A call that could not be made: gone without its callback. */
static void drop_call(gn_rpc_t *c, call_t *k)
{
    unlink_call(c, k);
    uv_timer_stop(&k->timer);
    uv_close((uv_handle_t *)&k->timer, call_close_cb);
}

static void fail_all(gn_rpc_t *c, int status)
{
    while (c->head) {
        call_t *k = c->head;
        unlink_call(c, k);
        finish(k, status, NULL);
    }
}

static void timeout_cb(uv_timer_t *t)
{
    call_t *k = t->data;
    unlink_call(k->owner, k);
    finish(k, GN_ETIMEDOUT, NULL);
}

static int new_call(gn_rpc_t *c, const char *method, const json_t *params, uint64_t timeout_ms,
                    unsigned flags, uint64_t batch, gn_rpc_cb cb, void *arg, call_t **out)
{
    call_t *k = calloc(1, sizeof(*k));
    if (!k)
        return GN_ENOMEM;
    k->owner = c;
    k->id = ++c->next_id;
    int rc = gn_jsonrpc_request(k->id, method, params, &k->text, &k->len);
    if (rc < 0) {
        free(k);
        return rc;
    }
    k->batch = batch;
    k->flags = flags;
    k->cb = cb;
    k->arg = arg;
    uv_timer_init(c->loop, &k->timer);
    k->timer.data = k;
    uv_timer_start(&k->timer, timeout_cb, timeout_ms, 0);
    link_call(c, k);
    *out = k;
    return 0;
}

/* Send k (unsent, connected), with the unsent rest of its batch in one
 * array frame unless the node refused batches. */
static int send_group(gn_rpc_t *c, call_t *k)
{
    if (!k->batch || c->no_batch) {
        int rc = gn_ws_send(c->ws, k->text, k->len);
        if (rc == 0)
            k->sent = true;
        return rc;
    }
    size_t len = 1;
    call_t *e = k;
    for (; e && e->batch == k->batch && !e->sent; e = e->next)
        len += e->len + 1;
    char *frame = malloc(len + 1);
    if (!frame)
        return GN_ENOMEM;
    size_t at = 0;
    frame[at++] = '[';
    for (call_t *i = k; i != e; i = i->next) {
        if (i != k)
            frame[at++] = ',';
        memcpy(frame + at, i->text, i->len);
        at += i->len;
    }
    frame[at++] = ']';
    int rc = gn_ws_send(c->ws, frame, at);
    free(frame);
    for (call_t *i = k; rc == 0 && i != e; i = i->next)
        i->sent = true;
    return rc;
}

/* Everything queued, in order (a failure leaves the rest to their deadlines
 * or the next connection). */
static void flush(gn_rpc_t *c)
{
    for (call_t *k = c->head; k && c->connected; k = k->next)
        if (!k->sent && send_group(c, k) < 0)
            return;
}

/* ---- subscriptions ---- */

static void free_sub(sub_t *s)
{
    free(s->method);
    free(s->unsub);
    json_decref(s->params);
    free(s);
}

static void unlink_sub(gn_rpc_t *c, sub_t *s)
{
    for (sub_t **p = &c->subs; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            s->next = NULL;
            return;
        }
    }
}

static sub_t *sub_by_id(gn_rpc_t *c, const char *id)
{
    for (sub_t *s = c->subs; s; s = s->next)
        if (s->state == SUB_LIVE && !strcmp(s->id, id))
            return s;
    return NULL;
}

static sub_t *sub_by_handle(gn_rpc_t *c, uint64_t handle)
{
    for (sub_t *s = c->subs; s; s = s->next)
        if (s->handle == handle)
            return s;
    return NULL;
}

static void end_sub(gn_rpc_t *c, sub_t *s, int status)
{
    unlink_sub(c, s);
    s->cb(status, NULL, s->arg);
    free_sub(s);
}

/* Subscriptions still pending have calls: fail_all ends those first. */
static void end_all_subs(gn_rpc_t *c, int status)
{
    while (c->subs) {
        sub_t *s = c->subs;
        if (s->state != SUB_PENDING) {
            end_sub(c, s, status);
            continue;
        }
        unlink_sub(c, s);
        s->cancelled = true;
        s->cb(status, NULL, s->arg);
    }
}

static void drop_early(gn_rpc_t *c)
{
    while (c->early) {
        early_t *e = c->early;
        c->early = e->next;
        json_decref(e->result);
        free(e);
    }
    c->n_early = 0;
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

static int sub_id(const json_t *r, char *id, size_t cap)
{
    if (json_is_string(r))
        snprintf(id, cap, "%s", json_string_value(r));
    else if (json_is_integer(r))
        snprintf(id, cap, "%lld", (long long)json_integer_value(r));
    else
        return GN_EINVAL;
    return 0;
}

static void ignored(int status, const gn_rpc_msg_t *m, void *arg)
{
    (void)status, (void)m, (void)arg;
}

static void send_unsubscribe(gn_rpc_t *c, const char *method, const char *id)
{
    json_t *p = json_pack("[s]", id);
    if (p)
        gn_rpc_call(c, method, p, 10000, ignored, NULL);
    json_decref(p);
}

/* The subscribe call's answer: the node's subscription id. */
static void subscribed(int status, const gn_rpc_msg_t *m, void *arg)
{
    sub_t *s = arg;
    gn_rpc_t *c = s->owner;
    char id[128];
    if (status == 0 && sub_id(m->result, id, sizeof(id)) < 0)
        status = GN_EINVAL;
    if (s->cancelled) {
        if (status == 0 && s->unsub && c->connected)
            send_unsubscribe(c, s->unsub, id);
        free_sub(s);
        return;
    }
    if (status == GN_EIO && m) { /* the node's refusal, for the subscriber to read */
        json_t *e = json_pack("{s:I,s:s,s:O?}", "code", (json_int_t)m->error_code, "message",
                              m->error_message ? m->error_message : "", "data", m->error_data);
        unlink_sub(c, s);
        s->cb(status, e, s->arg);
        json_decref(e);
        free_sub(s);
        return;
    }
    if (status < 0) {
        end_sub(c, s, status);
        return;
    }
    memcpy(s->id, id, sizeof(id));
    s->state = SUB_LIVE;
    /* what came early, oldest first */
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
    /* a callback may end the subscription: look it up again after each */
    uint64_t handle = s->handle;
    if (s->again) {
        s->again = false;
        s->cb(GN_EGAP, NULL, s->arg);
    }
    while (mine) {
        early_t *e = mine;
        mine = e->next;
        if ((s = sub_by_handle(c, handle)) != NULL)
            s->cb(0, e->result, s->arg);
        json_decref(e->result);
        free(e);
    }
}

/* ---- the connection ---- */

static void reconnect_cb(uv_timer_t *t);

/* min(max, min * 2^attempt), then +-50% so that clients do not come back in step. */
static void schedule(gn_rpc_t *c)
{
    if (!c->timer_ready) {
        c->retry_wanted = true;
        return;
    }
    uint64_t d = c->opts.backoff_min_ms;
    for (unsigned i = 0; i < c->attempt && d < c->opts.backoff_max_ms; i++)
        d *= 2;
    if (d > c->opts.backoff_max_ms)
        d = c->opts.backoff_max_ms;
    uint32_t span = d < UINT32_MAX ? (uint32_t)d + 1 : UINT32_MAX;
    d = d / 2 + randombytes_uniform(span);
    if (d < BACKOFF_FLOOR_MS)
        d = BACKOFF_FLOOR_MS;
    if (c->attempt < 64)
        c->attempt++;
    uv_timer_start(&c->timer, reconnect_cb, d, 0);
}

static void ws_open(gn_ws_t *ws, void *arg);
static void ws_message(gn_ws_t *ws, const char *text, size_t len, void *arg);
static void ws_close(gn_ws_t *ws, int err, void *arg);

static int connect_ws(gn_rpc_t *c, gn_ws_t **out)
{
    gn_ws_callbacks_t cb = {ws_open, ws_message, ws_close, c};
    return gn_ws_connect(c->loop, c->url, &cb, out);
}

static void reconnect_cb(uv_timer_t *t)
{
    gn_rpc_t *c = t->data;
    /* the same lws context dials again: destroying it and making another
     * would let its late fd closes hit the new connection's reused fds */
    int rc = c->ws ? gn_ws_redial(c->ws) : connect_ws(c, &c->ws);
    if (rc < 0) {
        schedule(c);
        return;
    }
    if (c->closed) /* closed by a callback of a close reported at once */
        gn_ws_close(c->ws);
}

static void ws_open(gn_ws_t *ws, void *arg)
{
    (void)ws;
    gn_rpc_t *c = arg;
    if (c->closed)
        return;
    c->depth++;
    c->connected = true;
    if (c->ever_connected)
        c->reconnects++;
    c->ever_connected = true;
    c->attempt = 0;
    /* subscriptions first: they are older than anything queued */
    sub_t *failed = NULL;
    for (sub_t **p = &c->subs; *p;) {
        sub_t *s = *p;
        call_t *k;
        if (s->state == SUB_WAIT) {
            int rc =
                new_call(c, s->method, s->params, s->timeout_ms, s->flags, 0, subscribed, s, &k);
            if (rc < 0) {
                *p = s->next;
                s->next = failed;
                s->err = rc;
                failed = s;
                continue;
            }
            s->state = SUB_PENDING;
            s->again = true;
        }
        p = &s->next;
    }
    flush(c);
    if (c->opts.on_state)
        c->opts.on_state(true, c->opts.arg);
    while (failed) {
        sub_t *s = failed;
        failed = s->next;
        s->cb(s->err, NULL, s->arg);
        free_sub(s);
    }
    c->depth--;
}

/* An error with no id answers a frame as a whole: a node that takes no
 * batches says so. The oldest batch out goes again one request per frame. */
static void maybe_batch_refused(gn_rpc_t *c, const char *text, size_t len)
{
    json_t *v = json_loadb(text, len, 0, NULL);
    json_t *id = json_object_get(v, "id");
    bool refused = json_is_object(json_object_get(v, "error")) && (!id || json_is_null(id));
    json_decref(v);
    if (!refused)
        return;
    uint64_t batch = 0;
    for (call_t *k = c->head; k && !batch; k = k->next)
        if (k->sent && k->batch)
            batch = k->batch;
    if (!batch)
        return;
    c->no_batch = true;
    for (call_t *k = c->head; k; k = k->next) {
        if (k->batch == batch && k->sent) {
            k->sent = false;
            k->batch = 0;
        }
    }
    flush(c);
}

static void on_msg(const gn_rpc_msg_t *m, void *arg)
{
    gn_rpc_t *c = arg;
    if (m->kind == GN_RPC_NOTIFICATION) {
        sub_t *s = sub_by_id(c, m->subscription);
        if (s)
            s->cb(0, m->result, s->arg);
        else if (!c->closed)
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
    gn_rpc_t *c = arg;
    c->depth++;
    if (gn_jsonrpc_parse(text, len, on_msg, c) == GN_EINVAL && !c->closed)
        maybe_batch_refused(c, text, len);
    c->depth--;
}

static void deferred_free_cb(uv_timer_t *t);

static void ws_close(gn_ws_t *ws, int err, void *arg)
{
    (void)ws, (void)err;
    gn_rpc_t *c = arg;
    if (c->closed) { /* the close gn_rpc_close waits for: free from the loop now */
        if (uv_is_active((uv_handle_t *)&c->timer))
            uv_timer_start(&c->timer, deferred_free_cb, 0, 0);
        return;
    }
    c->depth++;
    bool was = c->connected;
    c->connected = false;
    drop_early(c); /* their ids meant something on that connection only */
    if (c->opts.no_reconnect) {
        c->dead = true;
        if (was && c->opts.on_state)
            c->opts.on_state(false, c->opts.arg);
        fail_all(c, GN_ECLOSED);
        end_all_subs(c, GN_ECLOSED);
        c->depth--;
        return;
    }
    /* unsafe calls that went out have an unknown fate; the rest go again */
    call_t *fate = NULL, *fate_tail = NULL;
    for (call_t *k = c->head, *next; k; k = next) {
        next = k->next;
        if (!k->sent)
            continue;
        k->sent = false;
        if (!(k->flags & GN_RPC_UNSAFE))
            continue;
        unlink_call(c, k);
        if (fate_tail)
            fate_tail->next = k;
        else
            fate = k;
        fate_tail = k;
    }
    sub_t *gone = NULL;
    for (sub_t **p = &c->subs; *p;) {
        sub_t *s = *p;
        if (s->state == SUB_LIVE && (s->flags & GN_RPC_UNSAFE)) {
            *p = s->next;
            s->next = gone;
            gone = s;
            continue;
        }
        if (s->state == SUB_LIVE) {
            s->state = SUB_WAIT;
            s->id[0] = '\0';
        }
        p = &s->next;
    }
    schedule(c); /* before the callbacks, which may close */
    if (was && c->opts.on_state)
        c->opts.on_state(false, c->opts.arg);
    while (fate) {
        call_t *k = fate;
        fate = k->next;
        k->next = NULL;
        finish(k, GN_EFATE, NULL);
    }
    while (gone) {
        sub_t *s = gone;
        gone = s->next;
        s->cb(GN_EFATE, NULL, s->arg);
        free_sub(s);
    }
    c->depth--;
}

int gn_rpc_open_opts(uv_loop_t *loop, const char *url, const gn_rpc_opts_t *o, gn_rpc_t **out)
{
    if (sodium_init() < 0) /* the jitter's randomness */
        return GN_EUNSUPPORTED;
    gn_rpc_t *c = calloc(1, sizeof(*c));
    if (!c)
        return GN_ENOMEM;
    c->url = strdup(url);
    if (!c->url) {
        free(c);
        return GN_ENOMEM;
    }
    c->loop = loop;
    if (o)
        c->opts = *o;
    if (!c->opts.backoff_min_ms)
        c->opts.backoff_min_ms = 100;
    if (!c->opts.backoff_max_ms)
        c->opts.backoff_max_ms = 5000;
    if (c->opts.backoff_max_ms < c->opts.backoff_min_ms)
        c->opts.backoff_max_ms = c->opts.backoff_min_ms;
    int rc = connect_ws(c, &c->ws);
    if (rc < 0) {
        free(c->url);
        free(c);
        return rc;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->timer_ready = true;
    if (c->retry_wanted)
        schedule(c);
    *out = c;
    return 0;
}

int gn_rpc_open(uv_loop_t *loop, const char *url, gn_rpc_t **out)
{
    return gn_rpc_open_opts(loop, url, NULL, out);
}

int gn_rpc_call_flags(gn_rpc_t *c, const char *method, const json_t *params, uint64_t timeout_ms,
                      unsigned flags, gn_rpc_cb cb, void *arg)
{
    if (c->closed || c->dead)
        return GN_ECLOSED;
    call_t *k;
    int rc = new_call(c, method, params, timeout_ms, flags, 0, cb, arg, &k);
    if (rc < 0)
        return rc;
    if (c->connected && (rc = send_group(c, k)) < 0) {
        drop_call(c, k);
        return rc;
    }
    return 0;
}

int gn_rpc_call(gn_rpc_t *c, const char *method, const json_t *params, uint64_t timeout_ms,
                gn_rpc_cb cb, void *arg)
{
    return gn_rpc_call_flags(c, method, params, timeout_ms, 0, cb, arg);
}

int gn_rpc_batch(gn_rpc_t *c, size_t n, const char *const *methods, const json_t *const *params,
                 uint64_t timeout_ms, gn_rpc_cb cb, void *const *args)
{
    if (!n || !methods || !cb)
        return GN_EINVAL;
    if (c->closed || c->dead)
        return GN_ECLOSED;
    uint64_t batch = ++c->next_batch;
    call_t *first = NULL, *k;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = new_call(c, methods[i], params ? params[i] : NULL, timeout_ms, 0, batch, cb,
                      args ? args[i] : NULL, &k);
        if (rc == 0 && !first)
            first = k;
    }
    for (k = first; rc == 0 && c->connected && k && k->batch == batch; k = k->next)
        if (!k->sent)
            rc = send_group(c, k);
    if (rc < 0) {
        while (first && first->batch == batch) {
            call_t *next = first->next;
            drop_call(c, first);
            first = next;
        }
        return rc;
    }
    return 0;
}

int gn_rpc_subscribe_flags(gn_rpc_t *c, const char *method, const json_t *params,
                           const char *unsubscribe_method, uint64_t timeout_ms, unsigned flags,
                           gn_rpc_sub_cb cb, void *arg, uint64_t *handle)
{
    if (c->closed || c->dead)
        return GN_ECLOSED;
    sub_t *s = calloc(1, sizeof(*s));
    if (!s)
        return GN_ENOMEM;
    s->owner = c;
    s->method = strdup(method);
    s->unsub = unsubscribe_method && *unsubscribe_method ? strdup(unsubscribe_method) : NULL;
    s->params = params ? json_deep_copy(params) : NULL;
    if (!s->method || (unsubscribe_method && *unsubscribe_method && !s->unsub) ||
        (params && !s->params)) {
        free_sub(s);
        return GN_ENOMEM;
    }
    s->flags = flags;
    s->timeout_ms = timeout_ms;
    s->cb = cb;
    s->arg = arg;
    s->state = SUB_PENDING;
    int rc = gn_rpc_call_flags(c, method, params, timeout_ms, flags, subscribed, s);
    if (rc < 0) {
        free_sub(s);
        return rc;
    }
    s->handle = ++c->next_handle;
    s->next = c->subs;
    c->subs = s;
    if (handle)
        *handle = s->handle;
    return 0;
}

int gn_rpc_subscribe(gn_rpc_t *c, const char *method, const json_t *params,
                     const char *unsubscribe_method, uint64_t timeout_ms, gn_rpc_sub_cb cb,
                     void *arg, uint64_t *handle)
{
    return gn_rpc_subscribe_flags(c, method, params, unsubscribe_method, timeout_ms, 0, cb, arg,
                                  handle);
}

int gn_rpc_unsubscribe(gn_rpc_t *c, uint64_t handle)
{
    sub_t *s = sub_by_handle(c, handle);
    if (!s)
        return GN_ENOENT;
    unlink_sub(c, s);
    if (s->state == SUB_PENDING) { /* its subscribe call still points at it */
        s->cancelled = true;
        s->cb(GN_ECLOSED, NULL, s->arg);
        return 0;
    }
    if (s->state == SUB_LIVE && s->unsub && c->connected)
        send_unsubscribe(c, s->unsub, s->id);
    s->cb(GN_ECLOSED, NULL, s->arg);
    free_sub(s);
    return 0;
}

bool gn_rpc_connected(const gn_rpc_t *c)
{
    return c->connected;
}

uint64_t gn_rpc_reconnects(const gn_rpc_t *c)
{
    return c->reconnects;
}

static void deferred_free_cb(uv_timer_t *t)
{
    gn_rpc_t *c = t->data;
    gn_ws_free(c->ws);
    uv_close((uv_handle_t *)&c->timer, NULL);
}

void gn_rpc_close(gn_rpc_t *c)
{
    if (c->closed)
        return;
    c->closed = true;
    c->connected = false;
    uv_timer_stop(&c->timer);
    fail_all(c, GN_ECLOSED);
    end_all_subs(c, GN_ECLOSED);
    drop_early(c);
    if (c->ws)
        gn_ws_close(c->ws);
    /* Destroy the lws context only once the connection's close has been
     * reported (ws_close below restarts this timer at 0): destroying it
     * while the wsi is still closing makes lws close the socket twice,
     * and the second close could hit an fd another thread just opened.
     * Inside an lws callback it must not be destroyed at all. */
    if (c->depth > 0 || (c->ws && !gn_ws_done(c->ws))) {
        uv_timer_start(&c->timer, deferred_free_cb, c->ws && !gn_ws_done(c->ws) ? 2000 : 0, 0);
        return;
    }
    gn_ws_free(c->ws);
    uv_close((uv_handle_t *)&c->timer, NULL);
}

void gn_rpc_release(gn_rpc_t *c)
{
    if (!c)
        return;
    gn_ws_release(c->ws);
    drop_early(c);
    while (c->subs) {
        sub_t *s = c->subs;
        c->subs = s->next;
        free_sub(s);
    }
    free(c->url);
    free(c);
}
