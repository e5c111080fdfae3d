/* The dendrite (include/ganglion/dendrite.h): an HTTP/1.1 client on libuv
 * TCP with llhttp parsing responses, sending synapses as the Python SDK's
 * dendrite does (../shared/spec/wire-protocol.md §2, §3, §5, §6).
 *
 * Objects: a query (one gn_dendrite_query call, one deadline timer) holds
 * one request per target; a request takes a slot (global and per host)
 * and a connection (pooled per host or new), writes its bytes, parses the
 * response and finishes with a result. Requests without a slot wait in
 * one FIFO. A connection (uv_tcp_t) lives until its close callback, so a
 * request may fail at any point (deadline, cancel) by detaching from and
 * closing it. */
#include "ganglion/dendrite.h"

#include "ganglion/error.h"
#include "ganglion/ss58.h"

#include <ctype.h>
#include <llhttp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef GN_VERSION
#define GN_VERSION "0"
#endif

const double GN_DENDRITE_LAT_BOUNDS[GN_DENDRITE_LAT_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 1e300};

typedef struct host host_t;
typedef struct conn conn_t;
typedef struct req req_t;
typedef struct query query_t;

struct conn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    gn_dendrite_t *d;
    host_t *h;
    req_t *req; /* the request it serves; NULL when idle or closing */
    llhttp_t p;
    char *wbuf;
    bool reading, closing, idle;
    uint64_t idle_since; /* uv_now ms */
    conn_t *prev, *next; /* the host's idle list */
};

struct host {
    char key[80]; /* "ip:port" of the target */
    unsigned active;
    conn_t *idle;
    host_t *next;
};

enum { R_NEW, R_WAIT, R_CONN, R_SENT, R_DONE };

struct req {
    query_t *q;
    size_t idx;
    char ip[64], hotkey[64];
    uint16_t port;
    json_t *syn;
    char *wire;
    size_t wire_len;
    host_t *h; /* while holding a slot */
    conn_t *c;
    int state;
    bool reused, retried, got_bytes, headers_done, complete, too_big, head_too_big, stream_body;
    uint64_t start_ns;
    int status;
    char *hbuf; /* "name\0value\0"..., names lower-cased */
    size_t hlen, hcap, nh;
    char *body;
    size_t blen, bcap;
    req_t *wnext;
};

struct query {
    gn_dendrite_t *d;
    uint64_t id;
    const gn_syn_class_t *cls;
    size_t n, remaining;
    req_t *reqs;
    json_t *results;
    double timeout;
    char hash[65]; /* the body hash, the same for every target (§3.1) */
    bool has_hash;
    uv_timer_t timer;
    bool timer_on, done_called;
    gn_dendrite_result_fn on_result;
    gn_dendrite_done_fn on_done;
    gn_dendrite_chunk_fn on_chunk;
    void *arg;
    query_t *next;
};

struct gn_dendrite {
    uv_loop_t *loop;
    gn_sr25519_keypair_t kp;
    char hotkey[64], uuid[64], ext_ip[64];
    bool has_ext;
    uint32_t version;
    unsigned max_conc, max_per;
    size_t max_body, max_header;
    uint64_t idle_ms;
    gn_dendrite_route_fn route;
    void *route_arg;
    uint64_t last_nonce, next_id;
    host_t *hosts;
    query_t *queries;
    req_t *wait_head, *wait_tail;
    unsigned active;
    uv_timer_t sweeper;
    unsigned handles; /* open handles: sweeper, connections, query timers */
    bool closing, pumping, pump_again;
    void (*close_done)(void *);
    void *close_arg;
    gn_dendrite_stats_t st;
};

static void req_fail(req_t *r, int status, const char *msg);
static void req_start(req_t *r);
static void pump(gn_dendrite_t *d);

/* ---- small helpers ---- */

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static json_t *term_new(void)
{
    static const char *const K[10] = {"status_code", "status_message", "process_time", "ip",
                                      "port",        "version",        "nonce",        "uuid",
                                      "hotkey",      "signature"};
    json_t *t = json_object();
    for (int i = 0; t && i < 10; i++)
        json_object_set_new(t, K[i], json_null());
    return t;
}

static json_t *term_of(json_t *syn, const char *side)
{
    json_t *t = json_object_get(syn, side);
    if (!json_is_object(t)) {
        t = term_new();
        json_object_set_new(syn, side, t);
    }
    return t;
}

static void maybe_free(gn_dendrite_t *d)
{
    if (!d->closing || d->handles)
        return;
    void (*done)(void *) = d->close_done;
    void *arg = d->close_arg;
    while (d->hosts) {
        host_t *h = d->hosts;
        d->hosts = h->next;
        free(h);
    }
    sodium_memzero(&d->kp, sizeof(d->kp));
    free(d);
    if (done)
        done(arg);
}

/* ---- hosts and connections ---- */

static host_t *host_get(gn_dendrite_t *d, const char *key)
{
    for (host_t *h = d->hosts; h; h = h->next)
        if (!strcmp(h->key, key))
            return h;
    host_t *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    snprintf(h->key, sizeof(h->key), "%s", key);
    h->next = d->hosts;
    d->hosts = h;
    return h;
}

static void host_maybe_free(gn_dendrite_t *d, host_t *h)
{
    if (h->active || h->idle || d->closing)
        return;
    for (host_t **pp = &d->hosts; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            free(h);
            return;
        }
}

static void idle_unlink(conn_t *c)
{
    if (!c->idle)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->h->idle = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->idle = false;
    c->d->st.idle_conns--;
}

static void conn_closed(uv_handle_t *hd)
{
    conn_t *c = hd->data;
    gn_dendrite_t *d = c->d;
    free(c->wbuf);
    free(c);
    d->handles--;
    maybe_free(d);
}

static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    host_t *h = c->h;
    idle_unlink(c);
    if (c->req) {
        c->req->c = NULL;
        c->req = NULL;
    }
    c->h = NULL;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    if (h)
        host_maybe_free(c->d, h);
}

/* ---- finishing ---- */

static void query_timer_closed(uv_handle_t *hd)
{
    query_t *q = hd->data;
    gn_dendrite_t *d = q->d;
    for (size_t i = 0; i < q->n; i++) {
        json_decref(q->reqs[i].syn);
        free(q->reqs[i].wire);
    }
    free(q->reqs);
    json_decref(q->results);
    free(q);
    d->handles--;
    maybe_free(d);
}

static void query_finish(query_t *q)
{
    gn_dendrite_t *d = q->d;
    q->done_called = true;
    for (query_t **pp = &d->queries; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    uv_timer_stop(&q->timer);
    if (q->on_done)
        q->on_done(q->results, q->arg);
    uv_close((uv_handle_t *)&q->timer, query_timer_closed);
}

static void wait_unlink(gn_dendrite_t *d, req_t *r)
{
    req_t *prev = NULL;
    for (req_t *w = d->wait_head; w; prev = w, w = w->wnext)
        if (w == r) {
            if (prev)
                prev->wnext = r->wnext;
            else
                d->wait_head = r->wnext;
            if (d->wait_tail == r)
                d->wait_tail = prev;
            r->wnext = NULL;
            d->st.waiting--;
            return;
        }
}

static void release_slot(req_t *r)
{
    if (!r->h)
        return;
    gn_dendrite_t *d = r->q->d;
    host_t *h = r->h;
    r->h = NULL;
    d->active--;
    d->st.in_flight--;
    h->active--;
    host_maybe_free(d, h);
}

/* The request's result is final: release everything, report. */
static void req_finish(req_t *r)
{
    query_t *q = r->q;
    gn_dendrite_t *d = q->d;
    if (r->state == R_WAIT)
        wait_unlink(d, r);
    r->state = R_DONE;
    if (r->c)
        conn_close(r->c);
    release_slot(r);
    free(r->hbuf);
    free(r->body);
    r->hbuf = r->body = NULL;
    r->hlen = r->hcap = r->blen = r->bcap = r->nh = 0;
    json_t *den = term_of(r->syn, "dendrite");
    json_int_t code = json_integer_value(json_object_get(den, "status_code"));
    d->st.requests++;
    if (code >= 0 && code < 600)
        d->st.by_status[code]++;
    double el = (double)(uv_hrtime() - r->start_ns) / 1e9;
    d->st.latency_sum += el;
    for (int i = 0; i < GN_DENDRITE_LAT_BUCKETS; i++)
        if (el <= GN_DENDRITE_LAT_BOUNDS[i]) {
            d->st.latency[i]++;
            break;
        }
    json_array_set(q->results, r->idx, r->syn);
    q->remaining--;
    if (q->on_result)
        q->on_result(r->idx, r->syn, q->arg);
    if (q->remaining == 0 && !q->done_called)
        query_finish(q);
    pump(d);
}

/* A client-side failure (§5.3): the dendrite's status only. */
static void req_fail(req_t *r, int status, const char *msg)
{
    if (r->state == R_DONE)
        return;
    json_t *den = term_of(r->syn, "dendrite");
    json_object_set_new(den, "status_code", json_integer(status));
    json_object_set_new(den, "status_message", json_string(msg));
    req_finish(r);
}

static void fail_unavailable(req_t *r)
{
    char m[256];
    snprintf(m, sizeof(m), "Service unavailable at %s:%u/%s", r->ip, r->port, r->q->cls->name);
    req_fail(r, 503, m);
}

/* ---- the response ---- */

static bool ct_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    if (!ct || strncasecmp(ct, want, n))
        return false;
    return ct[n] == 0 || ct[n] == ';' || ct[n] == ' ';
}

static const char *resp_header(const req_t *r, const char *name)
{
    const char *p = r->hbuf;
    for (size_t i = 0; i < r->nh; i++) {
        const char *v = p + strlen(p) + 1;
        if (!strcmp(p, name))
            return v;
        p = v + strlen(v) + 1;
    }
    return NULL;
}

/* §5.1 step 4: the response headers' terminal values over ours. */
static int header_merge(req_t *r)
{
    gn_header_t *hs = calloc(r->nh ? r->nh : 1, sizeof(*hs));
    if (!hs)
        return GN_ENOMEM;
    const char *p = r->hbuf;
    for (size_t i = 0; i < r->nh; i++) {
        hs[i].name = p;
        hs[i].name_len = strlen(p);
        p += hs[i].name_len + 1;
        hs[i].value = p;
        hs[i].value_len = strlen(p);
        p += hs[i].value_len + 1;
    }
    json_t *tmp = NULL;
    int rc = gn_synapse_from_headers(&GN_SYN_SYNAPSE, hs, r->nh, &tmp);
    free(hs);
    if (rc < 0)
        return rc;
    static const char *const SIDES[2] = {"dendrite", "axon"};
    for (int s = 0; s < 2; s++) {
        json_t *src = json_object_get(tmp, SIDES[s]), *dst = term_of(r->syn, SIDES[s]);
        const char *k;
        json_t *v;
        json_object_foreach (src, k, v)
            if (!json_is_null(v))
                json_object_set(dst, k, v);
    }
    json_decref(tmp);
    return 0;
}

static bool field_frozen(const gn_syn_class_t *c, const char *k)
{
    if (!strcmp(k, "computed_body_hash"))
        return true;
    for (size_t i = 0; i < c->n_fields; i++)
        if (!strcmp(c->fields[i].name, k))
            return c->fields[i].frozen;
    return false;
}

static void req_response(req_t *r)
{
    query_t *q = r->q;
    char m[600];
    if (!r->stream_body) {
        const char *ct = resp_header(r, "content-type");
        if (!ct_is(ct, "application/json")) {
            snprintf(m, sizeof(m),
                     "Failed to parse response: 0, message='Attempt to decode JSON with "
                     "unexpected mimetype: %s'",
                     ct ? ct : "");
            req_fail(r, 422, m);
            return;
        }
        json_error_t je;
        json_t *body = json_loadb(r->body ? r->body : "", r->blen, JSON_DECODE_ANY, &je);
        if (!body) {
            snprintf(m, sizeof(m), "Failed to parse response: %s", je.text);
            req_fail(r, 422, m);
            return;
        }
        if (r->status == 200) {
            /* gn_synapse_from_body's checks on the bytes, on the parse above */
            json_t *srv = NULL;
            int rc = r->blen >= 3 && !memcmp(r->body, "\xef\xbb\xbf", 3) ? GN_EINVAL
                     : memchr(r->body, 0, r->blen)                       ? GN_EJSON
                                                   : gn_synapse_from_json(q->cls, body, &srv);
            json_decref(body);
            if (rc < 0) {
                snprintf(m, sizeof(m), "Failed to parse response: not a valid %s: %s", q->cls->name,
                         gn_strerror(rc));
                req_fail(r, 422, m);
                return;
            }
            const char *k;
            json_t *v;
            json_object_foreach (srv, k, v)
                if (json_object_get(r->syn, k) && !field_frozen(q->cls, k))
                    json_object_set(r->syn, k, v);
            json_decref(srv);
        } else {
            json_t *ax = term_of(r->syn, "axon");
            json_object_set_new(ax, "status_code", json_integer(r->status));
            json_t *msg = json_is_object(body) ? json_object_get(body, "message") : NULL;
            json_object_set(ax, "status_message", msg ? msg : json_null());
            json_decref(body);
        }
    } else {
        json_t *ax = term_of(r->syn, "axon");
        json_object_set_new(ax, "status_code", json_integer(r->status));
    }
    int rc = header_merge(r);
    if (rc < 0) {
        snprintf(m, sizeof(m), "Failed to parse response: bad response headers: %s",
                 gn_strerror(rc));
        req_fail(r, 422, m);
        return;
    }
    json_t *ax = term_of(r->syn, "axon"), *den = term_of(r->syn, "dendrite");
    json_object_set(den, "status_code", json_object_get(ax, "status_code"));
    json_object_set(den, "status_message", json_object_get(ax, "status_message"));
    json_object_set_new(den, "process_time", json_real((double)(uv_hrtime() - r->start_ns) / 1e9));
    req_finish(r);
}

/* ---- llhttp callbacks (they only record; decisions after execute) ---- */

static req_t *p_req(llhttp_t *p)
{
    conn_t *c = p->data;
    return c->req;
}

static int hb_put(req_t *r, const char *at, size_t len, bool lower)
{
    size_t max = r->q->d->max_header;
    if (r->hlen + len + 1 > max) {
        r->head_too_big = true;
        return -1;
    }
    if (r->hlen + len + 1 > r->hcap) {
        size_t cap = r->hcap ? r->hcap * 2 : 1024;
        while (cap < r->hlen + len + 1)
            cap *= 2;
        char *n = realloc(r->hbuf, cap);
        if (!n)
            return -1;
        r->hbuf = n;
        r->hcap = cap;
    }
    for (size_t i = 0; i < len; i++)
        r->hbuf[r->hlen++] = lower ? (char)tolower((unsigned char)at[i]) : at[i];
    return 0;
}

static int cb_field(llhttp_t *p, const char *at, size_t len)
{
    req_t *r = p_req(p);
    return r ? hb_put(r, at, len, true) : -1;
}

static int cb_value(llhttp_t *p, const char *at, size_t len)
{
    req_t *r = p_req(p);
    return r ? hb_put(r, at, len, false) : -1;
}

static int cb_field_done(llhttp_t *p)
{
    req_t *r = p_req(p);
    return r ? hb_put(r, "", 1, false) : -1;
}

static int cb_value_done(llhttp_t *p)
{
    req_t *r = p_req(p);
    if (!r || hb_put(r, "", 1, false) < 0)
        return -1;
    r->nh++;
    return 0;
}

static int cb_headers_complete(llhttp_t *p)
{
    req_t *r = p_req(p);
    if (!r)
        return -1;
    r->status = llhttp_get_status_code(p);
    r->headers_done = true;
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > r->q->d->max_body) {
        r->too_big = true;
        return -1;
    }
    r->stream_body = r->q->on_chunk && r->status == 200 &&
                     ct_is(resp_header(r, "content-type"), "text/event-stream");
    return 0;
}

static int cb_body(llhttp_t *p, const char *at, size_t len)
{
    req_t *r = p_req(p);
    if (!r)
        return -1;
    if (r->stream_body) {
        r->q->on_chunk(r->idx, at, len, r->q->arg);
        return p_req(p) == r && r->state != R_DONE ? 0 : -1;
    }
    size_t max = r->q->d->max_body;
    if (len > max - r->blen) {
        r->too_big = true;
        return -1;
    }
    if (r->blen + len + 1 > r->bcap) {
        size_t cap = r->bcap ? r->bcap : 4096;
        while (cap < r->blen + len + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        char *n = realloc(r->body, cap);
        if (!n) {
            r->too_big = true;
            return -1;
        }
        r->body = n;
        r->bcap = cap;
    }
    memcpy(r->body + r->blen, at, len);
    r->blen += len;
    r->body[r->blen] = 0;
    return 0;
}

static int cb_message_complete(llhttp_t *p)
{
    req_t *r = p_req(p);
    if (!r)
        return -1;
    if (r->status >= 100 && r->status < 200) { /* 1xx: the real answer follows */
        r->hlen = r->nh = 0;
        r->headers_done = false;
        return 0;
    }
    r->complete = true;
    return HPE_PAUSED;
}

static const llhttp_settings_t SETTINGS = {
    .on_header_field = cb_field,
    .on_header_value = cb_value,
    .on_header_field_complete = cb_field_done,
    .on_header_value_complete = cb_value_done,
    .on_headers_complete = cb_headers_complete,
    .on_body = cb_body,
    .on_message_complete = cb_message_complete,
};

/* ---- reading and writing ---- */

static void to_idle(conn_t *c)
{
    gn_dendrite_t *d = c->d;
    c->req = NULL;
    c->idle = true;
    c->idle_since = uv_now(d->loop);
    c->prev = NULL;
    c->next = c->h->idle;
    if (c->next)
        c->next->prev = c;
    c->h->idle = c;
    d->st.idle_conns++;
    uv_unref((uv_handle_t *)&c->tcp);
}

/* A response was parsed whole on c. */
static void on_complete(conn_t *c, bool leftover)
{
    req_t *r = c->req;
    bool keep = !leftover && llhttp_should_keep_alive(&c->p) && !c->d->closing;
    r->c = NULL;
    if (keep) {
        to_idle(c);
    } else {
        c->req = NULL;
        conn_close(c);
    }
    req_response(r);
}

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)h;
    (void)sz;
    b->base = malloc(65536);
    b->len = b->base ? 65536 : 0;
}

static void retry_fresh(req_t *r);

static void on_eof(conn_t *c, ssize_t err)
{
    req_t *r = c->req;
    if (!r) { /* an idle connection closed by the server */
        conn_close(c);
        return;
    }
    if (err == UV_EOF && r->got_bytes && r->headers_done) {
        /* a body delimited by the close */
        if (llhttp_finish(&c->p) == HPE_OK && r->complete) {
            on_complete(c, false);
            return;
        }
        if (r->complete || r->state == R_DONE)
            return;
    }
    if (!r->got_bytes && r->reused && !r->retried) {
        /* the server closed the pooled connection under us: once more on a
         * fresh one (nothing of ours was processed) */
        r->q->d->st.retries_stale++;
        conn_close(c);
        retry_fresh(r);
        return;
    }
    char m[256];
    if (r->headers_done) {
        req_fail(r, 400,
                 "Payload error: Response payload is not completed: <ContentLengthError: 400, "
                 "message='Not enough data for satisfy content length header.'>");
    } else if (err == UV_EOF) {
        req_fail(r, 503, "Service disconnected: Server disconnected");
    } else {
        snprintf(m, sizeof(m), "Failed to parse response: %s", uv_strerror((int)err));
        req_fail(r, 422, m);
    }
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn_t *c = s->data;
    if (n == 0 || c->closing) {
        free(b->base);
        return;
    }
    if (n < 0) {
        free(b->base);
        on_eof(c, n);
        return;
    }
    req_t *r = c->req;
    if (!r) { /* bytes nobody asked for on an idle connection */
        free(b->base);
        conn_close(c);
        return;
    }
    r->got_bytes = true;
    llhttp_errno_t e = llhttp_execute(&c->p, b->base, (size_t)n);
    if (c->req != r || r->state == R_DONE) { /* failed from a callback */
        free(b->base);
        return;
    }
    if (e == HPE_PAUSED && r->complete) {
        const char *ep = llhttp_get_error_pos(&c->p);
        bool leftover = ep && ep < b->base + n;
        free(b->base);
        on_complete(c, leftover);
        return;
    }
    char m[512];
    if (e != HPE_OK) {
        const char *reason = llhttp_get_error_reason(&c->p);
        snprintf(m, sizeof(m), "%s", reason ? reason : llhttp_errno_name(e));
        free(b->base);
        if (r->too_big) {
            snprintf(m, sizeof(m), "Failed to parse response: response body larger than %zu bytes",
                     r->q->d->max_body);
            req_fail(r, 422, m);
        } else {
            char url[160], msg[700];
            snprintf(url, sizeof(url), "http://%s:%u/%s", r->ip, r->port, r->q->cls->name);
            if (r->head_too_big)
                snprintf(m, sizeof(m), "Got more than %zu bytes when reading response head",
                         r->q->d->max_header);
            snprintf(msg, sizeof(msg), "Client response error: 400, message='%.400s', url='%s'", m,
                     url);
            req_fail(r, 400, msg);
        }
        return;
    }
    free(b->base);
}

static void write_cb(uv_write_t *w, int status)
{
    conn_t *c = w->data;
    free(c->wbuf);
    c->wbuf = NULL;
    if (status < 0 && c->req && !c->closing) {
        req_t *r = c->req;
        if (!r->got_bytes && r->reused && !r->retried) {
            r->q->d->st.retries_stale++;
            conn_close(c);
            retry_fresh(r);
            return;
        }
        char m[256];
        snprintf(m, sizeof(m), "Failed to parse response: %s", uv_strerror(status));
        req_fail(r, 422, m);
    }
}

static void conn_send(conn_t *c, req_t *r)
{
    c->req = r;
    r->c = c;
    r->state = R_SENT;
    r->got_bytes = r->headers_done = r->complete = false;
    r->hlen = r->nh = r->blen = 0;
    llhttp_init(&c->p, HTTP_RESPONSE, &SETTINGS);
    c->p.data = c;
    c->wbuf = malloc(r->wire_len);
    if (!c->wbuf) {
        req_fail(r, 422, "Failed to parse response: out of memory");
        return;
    }
    memcpy(c->wbuf, r->wire, r->wire_len);
    uv_buf_t b = uv_buf_init(c->wbuf, (unsigned)r->wire_len);
    c->wreq.data = c;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, write_cb);
    if (rc < 0) {
        free(c->wbuf);
        c->wbuf = NULL;
        char m[256];
        snprintf(m, sizeof(m), "Failed to parse response: %s", uv_strerror(rc));
        req_fail(r, 422, m);
        return;
    }
    if (!c->reading) {
        c->reading = true;
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    }
}

static void connect_cb(uv_connect_t *cr, int status)
{
    conn_t *c = cr->data;
    if (c->closing)
        return;
    req_t *r = c->req;
    if (status < 0) {
        conn_close(c);
        if (r)
            fail_unavailable(r);
        return;
    }
    if (r)
        conn_send(c, r);
}

/* The connect address: the route hook, our own external ip as loopback
 * (§2.1), "localhost", or the target's ip. */
static int target_addr(gn_dendrite_t *d, const req_t *r, struct sockaddr_storage *ss)
{
    if (d->route && d->route(d->route_arg, r->ip, r->port, ss) == 0)
        return 0;
    const char *ip = r->ip;
    if ((d->has_ext && !strcmp(ip, d->ext_ip)) || !strcmp(ip, "localhost"))
        ip = "127.0.0.1";
    if (uv_ip4_addr(ip, r->port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(ip, r->port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    return GN_EINVAL;
}

static void conn_open(req_t *r)
{
    gn_dendrite_t *d = r->q->d;
    struct sockaddr_storage ss;
    if (target_addr(d, r, &ss) < 0) {
        char m[256];
        snprintf(m, sizeof(m), "Failed to parse response: Invalid URL http://%s:%u/%s", r->ip,
                 r->port, r->q->cls->name);
        req_fail(r, 422, m);
        return;
    }
    conn_t *c = calloc(1, sizeof(*c));
    if (!c || uv_tcp_init(d->loop, &c->tcp) < 0) {
        free(c);
        req_fail(r, 422, "Failed to parse response: out of memory");
        return;
    }
    d->handles++;
    d->st.conns_opened++;
    c->d = d;
    c->h = r->h;
    c->tcp.data = c;
    c->creq.data = c;
    c->req = r;
    r->c = c;
    r->state = R_CONN;
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&ss, connect_cb);
    if (rc < 0) {
        conn_close(c);
        fail_unavailable(r);
    }
}

static void retry_fresh(req_t *r)
{
    r->retried = true;
    r->reused = false;
    conn_open(r);
}

/* Take a slot and a connection now, or wait. */
static void req_start(req_t *r)
{
    gn_dendrite_t *d = r->q->d;
    char key[80];
    snprintf(key, sizeof(key), "%s:%u", r->ip, r->port);
    host_t *h = host_get(d, key);
    if (!h) {
        req_fail(r, 422, "Failed to parse response: out of memory");
        return;
    }
    if (d->active >= d->max_conc || h->active >= d->max_per) {
        if (r->state != R_WAIT) {
            r->state = R_WAIT;
            r->wnext = NULL;
            if (d->wait_tail)
                d->wait_tail->wnext = r;
            else
                d->wait_head = r;
            d->wait_tail = r;
            d->st.waiting++;
        }
        return;
    }
    if (r->state == R_WAIT)
        wait_unlink(d, r);
    d->active++;
    d->st.in_flight++;
    h->active++;
    r->h = h;
    conn_t *c = h->idle;
    if (c) {
        idle_unlink(c);
        uv_ref((uv_handle_t *)&c->tcp);
        d->st.conns_reused++;
        r->reused = true;
        conn_send(c, r);
    } else {
        conn_open(r);
    }
}

/* Start what waits and may start now. A request that finishes while
 * pumping (a connect failing at once) asks for another round. */
static void pump(gn_dendrite_t *d)
{
    if (d->closing)
        return;
    if (d->pumping) {
        d->pump_again = true;
        return;
    }
    d->pumping = true;
    do {
        d->pump_again = false;
        req_t *w = d->wait_head;
        while (w && d->active < d->max_conc) {
            req_t *next = w->wnext;
            req_start(w);
            if (next && next->state != R_WAIT)
                next = d->wait_head;
            w = next;
        }
    } while (d->pump_again && d->wait_head && d->active < d->max_conc);
    d->pumping = false;
}

static void sweep(uv_timer_t *t)
{
    gn_dendrite_t *d = t->data;
    uint64_t now = uv_now(d->loop);
    for (host_t *h = d->hosts, *hn; h; h = hn) {
        hn = h->next;
        for (conn_t *c = h->idle, *cn; c; c = cn) {
            cn = c->next;
            if (now - c->idle_since >= d->idle_ms) {
                d->st.conns_closed_idle++;
                conn_close(c); /* may free h: the last use of h is cn */
            }
        }
    }
}

/* ---- preparing a request (§2.2–§2.5, §3) ---- */

static int prepare(gn_dendrite_t *d, query_t *q, req_t *r, const json_t *base)
{
    json_t *s = json_deep_copy(base);
    if (!s)
        return GN_ENOMEM;
    r->syn = s;
    json_object_set_new(s, "timeout", json_real(q->timeout));
    json_object_set_new(s, "total_size", json_integer(0));
    json_object_set_new(s, "header_size", json_integer(0));
    json_object_set_new(s, "computed_body_hash", json_string(""));
    json_t *den = term_new(), *ax = term_new();
    if (!den || !ax) {
        json_decref(den);
        json_decref(ax);
        return GN_ENOMEM;
    }
    uint64_t nonce = wall_ns();
    if (nonce <= d->last_nonce)
        nonce = d->last_nonce + 1;
    d->last_nonce = nonce;
    if (d->has_ext)
        json_object_set_new(den, "ip", json_string(d->ext_ip));
    json_object_set_new(den, "version", json_integer(d->version));
    json_object_set_new(den, "nonce", json_integer((json_int_t)nonce));
    json_object_set_new(den, "uuid", json_string(d->uuid));
    json_object_set_new(den, "hotkey", json_string(d->hotkey));
    json_object_set_new(ax, "ip", json_string(r->ip));
    json_object_set_new(ax, "port", json_integer(r->port));
    json_object_set_new(ax, "hotkey", json_string(r->hotkey));
    json_object_set_new(s, "dendrite", den);
    json_object_set_new(s, "axon", ax);
    char hash[65], msg[512];
    int rc = 0;
    if (q->has_hash)
        memcpy(hash, q->hash, sizeof(hash));
    else
        rc = gn_synapse_body_hash(q->cls, s, hash);
    if (rc < 0)
        return rc;
    rc = gn_synapse_message(nonce, d->hotkey, r->hotkey, d->uuid, hash, msg, sizeof(msg));
    if (rc < 0)
        return rc;
    uint8_t rnd[32], sig[64];
    randombytes_buf(rnd, sizeof(rnd));
    rc = gn_sr25519_sign(&d->kp, (const uint8_t *)msg, (size_t)rc, rnd, sig);
    sodium_memzero(rnd, sizeof(rnd));
    if (rc < 0)
        return rc;
    char sighex[131] = "0x";
    sodium_bin2hex(sighex + 2, 129, sig, 64);
    json_object_set_new(den, "signature", json_string(sighex));
    /* one serialization: the Python text with total_size 0 gives the
     * compact length (total_size, §2.5), which then replaces the 0 */
    size_t blen, tsize, ts_off, ts_len;
    char *body = gn_synapse_json_python_ex(s, &blen, &tsize, &ts_off, &ts_len);
    if (!body)
        return GN_ENOMEM;
    gn_header_t *hs;
    size_t nh;
    rc = gn_synapse_headers_ex(q->cls, s, hash, &tsize, &hs, &nh);
    if (rc < 0) {
        free(body);
        return rc;
    }
    json_object_set_new(s, "total_size", json_integer((json_int_t)tsize));
    char num[24];
    int numl = snprintf(num, sizeof(num), "%zu", tsize);
    if (!ts_len) { /* cannot happen: prepare sets total_size */
        free(hs);
        free(body);
        return GN_EINVAL;
    }
    size_t blen2 = blen - ts_len + (size_t)numl;
    size_t cap = blen2 + 512 + strlen(q->cls->name) + strlen(r->ip);
    for (size_t i = 0; i < nh; i++)
        cap += hs[i].name_len + hs[i].value_len + 4;
    char *w = malloc(cap);
    if (!w) {
        free(hs);
        free(body);
        return GN_ENOMEM;
    }
    bool v6 = strchr(r->ip, ':') != NULL;
    size_t k = (size_t)snprintf(w, cap, "POST /%s HTTP/1.1\r\nHost: %s%s%s:%u\r\n", q->cls->name,
                                v6 ? "[" : "", r->ip, v6 ? "]" : "", r->port);
    for (size_t i = 0; i < nh; i++) {
        memcpy(w + k, hs[i].name, hs[i].name_len);
        k += hs[i].name_len;
        memcpy(w + k, ": ", 2);
        k += 2;
        memcpy(w + k, hs[i].value, hs[i].value_len);
        k += hs[i].value_len;
        memcpy(w + k, "\r\n", 2);
        k += 2;
    }
    k += (size_t)snprintf(w + k, cap - k,
                          "Accept: */*\r\nUser-Agent: ganglion/%s\r\nContent-Type: "
                          "application/json\r\nContent-Length: %zu\r\n\r\n",
                          GN_VERSION, blen2);
    memcpy(w + k, body, ts_off);
    k += ts_off;
    memcpy(w + k, num, (size_t)numl);
    k += (size_t)numl;
    memcpy(w + k, body + ts_off + ts_len, blen - ts_off - ts_len);
    k += blen - ts_off - ts_len;
    free(hs);
    free(body);
    r->wire = w;
    r->wire_len = k;
    return 0;
}

/* ---- public ---- */

static void query_timeout(uv_timer_t *t)
{
    query_t *q = t->data;
    char tt[40], m[96];
    gn_py_float(q->timeout, tt, sizeof(tt));
    snprintf(m, sizeof(m), "Request timeout after %s seconds", tt);
    for (size_t i = 0; i < q->n && !q->done_called; i++)
        req_fail(&q->reqs[i], 408, m);
}

static int query_new(gn_dendrite_t *d, const gn_dendrite_target_t *targets, size_t n,
                     const gn_syn_class_t *cls, const json_t *synapse, double timeout_s,
                     gn_dendrite_result_fn on_result, gn_dendrite_chunk_fn on_chunk,
                     gn_dendrite_done_fn on_done, void *arg, uint64_t *query_id)
{
    if (!d || d->closing || !cls || !json_is_object(synapse) || !(timeout_s > 0) ||
        timeout_s > 1e7 || (n && !targets))
        return GN_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!targets[i].ip || !targets[i].hotkey || strlen(targets[i].ip) >= 64 ||
            strlen(targets[i].hotkey) >= 64)
            return GN_EINVAL;
    /* the caller's synapse as pydantic would validate it */
    char *txt = json_dumps(synapse, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!txt)
        return GN_ENOMEM;
    json_t *base = NULL;
    int rc = gn_synapse_from_body(cls, (const uint8_t *)txt, strlen(txt), &base);
    free(txt);
    if (rc < 0)
        return GN_EINVAL;
    query_t *q = calloc(1, sizeof(*q));
    json_t *results = json_array();
    req_t *reqs = calloc(n ? n : 1, sizeof(*reqs));
    if (!q || !results || !reqs) {
        free(q);
        free(reqs);
        json_decref(results);
        json_decref(base);
        return GN_ENOMEM;
    }
    q->d = d;
    q->id = ++d->next_id;
    q->cls = cls;
    q->n = q->remaining = n;
    q->reqs = reqs;
    q->results = results;
    q->timeout = timeout_s;
    /* the hash reads only the class's hashed fields, which prepare leaves
     * as they are in base: once per query, unless a field is named like a
     * base field prepare sets */
    q->has_hash = true;
    for (size_t i = 0; i < cls->n_fields; i++) {
        static const char *const SET[] = {"name",     "timeout", "total_size",        "header_size",
                                          "dendrite", "axon",    "computed_body_hash"};
        for (size_t j = 0; j < sizeof(SET) / sizeof(SET[0]); j++)
            if (cls->fields[i].hashed && !strcmp(cls->fields[i].name, SET[j]))
                q->has_hash = false;
    }
    if (q->has_hash && gn_synapse_body_hash(cls, base, q->hash) < 0)
        q->has_hash = false;
    q->on_result = on_result;
    q->on_chunk = on_chunk;
    q->on_done = on_done;
    q->arg = arg;
    uint64_t t0 = uv_hrtime();
    for (size_t i = 0; i < n && rc == 0; i++) {
        req_t *r = &reqs[i];
        r->q = q;
        r->idx = i;
        snprintf(r->ip, sizeof(r->ip), "%s", targets[i].ip);
        snprintf(r->hotkey, sizeof(r->hotkey), "%s", targets[i].hotkey);
        r->port = targets[i].port;
        r->start_ns = t0;
        rc = prepare(d, q, r, base);
        if (rc == 0 && json_array_append(results, r->syn) < 0)
            rc = GN_ENOMEM;
    }
    json_decref(base);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            json_decref(reqs[i].syn);
            free(reqs[i].wire);
        }
        free(reqs);
        json_decref(results);
        free(q);
        return rc;
    }
    uv_timer_init(d->loop, &q->timer);
    q->timer.data = q;
    d->handles++;
    q->next = d->queries;
    d->queries = q;
    if (query_id)
        *query_id = q->id;
    if (n == 0) {
        query_finish(q);
        return 0;
    }
    double ms = timeout_s * 1000.0;
    uv_timer_start(&q->timer, query_timeout, (uint64_t)(ms < 1 ? 1 : ms), 0);
    for (size_t i = 0; i < n && !q->done_called; i++)
        if (reqs[i].state == R_NEW)
            req_start(&reqs[i]);
    return 0;
}

int gn_dendrite_query(gn_dendrite_t *d, const gn_dendrite_target_t *targets, size_t n,
                      const gn_syn_class_t *cls, const json_t *synapse, double timeout_s,
                      gn_dendrite_result_fn on_result, gn_dendrite_done_fn on_done, void *arg,
                      uint64_t *query_id)
{
    return query_new(d, targets, n, cls, synapse, timeout_s, on_result, NULL, on_done, arg,
                     query_id);
}

int gn_dendrite_stream(gn_dendrite_t *d, const gn_dendrite_target_t *target,
                       const gn_syn_class_t *cls, const json_t *synapse, double timeout_s,
                       gn_dendrite_chunk_fn on_chunk, gn_dendrite_done_fn on_done, void *arg,
                       uint64_t *query_id)
{
    if (!target || !on_chunk)
        return GN_EINVAL;
    return query_new(d, target, 1, cls, synapse, timeout_s, NULL, on_chunk, on_done, arg, query_id);
}

static void query_cancel(query_t *q)
{
    for (size_t i = 0; i < q->n && !q->done_called; i++)
        req_fail(&q->reqs[i], GN_DENDRITE_CANCELLED, "Request cancelled");
}

int gn_dendrite_cancel(gn_dendrite_t *d, uint64_t query_id)
{
    for (query_t *q = d->queries; q; q = q->next)
        if (q->id == query_id) {
            query_cancel(q);
            return 0;
        }
    return GN_ENOENT;
}

void gn_dendrite_stats(const gn_dendrite_t *d, gn_dendrite_stats_t *out)
{
    *out = d->st;
}

static void sweeper_closed(uv_handle_t *h)
{
    gn_dendrite_t *d = h->data;
    d->handles--;
    maybe_free(d);
}

int gn_dendrite_new(uv_loop_t *loop, const gn_dendrite_opts_t *o, gn_dendrite_t **out)
{
    *out = NULL;
    if (!loop || !o || !o->hotkey || (o->external_ip && strlen(o->external_ip) >= 64) ||
        (o->uuid && strlen(o->uuid) >= 64))
        return GN_EINVAL;
    if (sodium_init() < 0)
        return GN_EFATAL;
    gn_dendrite_t *d = calloc(1, sizeof(*d));
    if (!d)
        return GN_ENOMEM;
    d->loop = loop;
    d->kp = *o->hotkey;
    if (gn_ss58_encode(d->kp.pub, 32, 42, d->hotkey, sizeof(d->hotkey)) < 0) {
        sodium_memzero(&d->kp, sizeof(d->kp));
        free(d);
        return GN_EBADKEY;
    }
    if (o->uuid) {
        snprintf(d->uuid, sizeof(d->uuid), "%s", o->uuid);
    } else {
        uint8_t rnd[16];
        randombytes_buf(rnd, sizeof(rnd));
        gn_uuid4_text(rnd, d->uuid);
    }
    if (o->external_ip) {
        d->has_ext = true;
        snprintf(d->ext_ip, sizeof(d->ext_ip), "%s", o->external_ip);
    }
    d->version = o->version ? o->version : GN_DENDRITE_VERSION;
    d->max_conc = o->max_concurrency ? o->max_concurrency : 256;
    d->max_per = o->max_per_axon ? o->max_per_axon : 8;
    d->max_body = o->max_body ? o->max_body : 16u << 20;
    d->max_header = o->max_header ? o->max_header : 64u << 10;
    double idle = o->idle_timeout_s > 0 ? o->idle_timeout_s : 15;
    d->idle_ms = (uint64_t)(idle * 1000);
    d->route = o->route;
    d->route_arg = o->route_arg;
    uv_timer_init(loop, &d->sweeper);
    d->sweeper.data = d;
    d->handles = 1;
    uint64_t period = d->idle_ms / 4 < 50 ? 50 : d->idle_ms / 4;
    uv_timer_start(&d->sweeper, sweep, period, period);
    uv_unref((uv_handle_t *)&d->sweeper);
    *out = d;
    return 0;
}

void gn_dendrite_close(gn_dendrite_t *d, void (*done)(void *arg), void *arg)
{
    if (!d || d->closing)
        return;
    d->closing = true; /* nothing new starts */
    while (d->queries)
        query_cancel(d->queries);
    d->close_done = done;
    d->close_arg = arg;
    for (host_t *h = d->hosts; h; h = h->next)
        while (h->idle)
            conn_close(h->idle);
    uv_close((uv_handle_t *)&d->sweeper, sweeper_closed);
}
