/* The axon (include/ganglion/axon.h): the SDK's request pipeline on top of
 * actors/http, with ganglion's stricter verification and a real priority
 * queue. */
#include "ganglion/axon.h"

#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/metagraph.h"
#include "ganglion/ss58.h"

#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define NS               1000000000ull
#define ALLOWED_DELTA_NS (4 * NS)  /* the SDK's freshness slack */
#define FUTURE_SKEW_NS   (60 * NS) /* nonces from the future: a clock ahead, not a replay */
#define REPLAY_RING      64        /* nonces remembered per hotkey:uuid */
#define MAX_KEYS         65536     /* hotkey:uuid entries before the oldest are dropped */

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* ---- a small table keyed by text (hotkey:uuid, hotkey) ---- */

typedef struct slot {
    uint64_t h;
    char *key;
    /* nonce memory */
    uint64_t newest, ring[REPLAY_RING];
    unsigned n_ring, pos;
    /* rate */
    double tokens;
    uint64_t last_ns;
} slot_t;

typedef struct table {
    slot_t *s;
    size_t cap, n;
} table_t;

static slot_t *table_find(table_t *t, const char *key, bool create)
{
    uint64_t h = XXH3_64bits(key, strlen(key)) | 1; /* 0 marks a free slot */
    if (create && (t->n + 1) * 10 > t->cap * 7) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        slot_t *s = calloc(cap, sizeof(*s));
        if (!s)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->s[i].h)
                continue;
            size_t j = t->s[i].h & (cap - 1);
            while (s[j].h)
                j = (j + 1) & (cap - 1);
            s[j] = t->s[i];
        }
        free(t->s);
        t->s = s;
        t->cap = cap;
    }
    if (!t->cap)
        return NULL;
    for (size_t j = h & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        slot_t *s = &t->s[j];
        if (!s->h) {
            if (!create || !(s->key = strdup(key)))
                return NULL;
            s->h = h;
            t->n++;
            return s;
        }
        if (s->h == h && !strcmp(s->key, key))
            return s;
    }
}

static void table_free(table_t *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->s[i].key);
    free(t->s);
    memset(t, 0, sizeof(*t));
}

/* Drop entries whose newest nonce left the window (a rebuild: keeps the
 * table bounded without per-entry timers). */
static void table_prune(table_t *t, uint64_t oldest_ok)
{
    table_t n = {0};
    for (size_t i = 0; i < t->cap; i++) {
        slot_t *s = &t->s[i];
        if (!s->h)
            continue;
        if (s->newest >= oldest_ok && n.n < MAX_KEYS / 2) {
            slot_t *d = table_find(&n, s->key, true);
            if (d) {
                char *k = d->key;
                *d = *s;
                d->key = k;
            }
        }
    }
    table_free(t);
    *t = n;
}

/* ---- the axon ---- */

enum { ST_VERIFY, ST_QUEUED, ST_RUNNING, ST_DONE };

typedef struct handler {
    gn_axon_handler_t h;
} handler_t;

struct gn_axon_call {
    gn_axon_t *ax;
    gn_http_req_t *req; /* NULL once the client is gone */
    const handler_t *h;
    json_t *hdr; /* the header object */
    int state;
    bool answered, timed_out;
    uint64_t arrival_ns, queued_ns, started_ns;
    double timeout_s;
    uint64_t stake;
    char key[160], hotkey[64];
    /* verification, on the thread pool */
    uv_work_t work;
    uint64_t nonce;
    int vstatus;
    char verr[512];
    uv_timer_t deadline;
    bool deadline_armed;
};

struct gn_axon {
    uv_loop_t *loop;
    gn_http_server_t *http;
    gn_sr25519_keypair_t kp;
    char hotkey[64], uuid[37], external_ip[64];
    uint16_t external_port;
    uint32_t version;
    unsigned max_workers, queue_max, running;
    double max_timeout_s, rate, burst;
    uint64_t start_ns;
    handler_t *handlers;
    size_t n_handlers, cap_handlers;
    gn_axon_policy_t policy;
    json_t *neurons; /* NeuronInfoLite array, or NULL */
    table_t nonces, rates;
    /* the priority queue: a binary heap on (stake desc, arrival asc) */
    gn_axon_call_t **heap;
    size_t n_heap;
    uv_timer_t sweep; /* expires queued requests past their timeout */
    size_t inflight;  /* calls alive (freed at 0 after stop) */
    bool stopping, http_closed;
    void (*done)(void *);
    void *done_arg;
    /* gn_axon_drain: the server drains; the stop follows once it is empty
     * and no call is left, or at the deadline */
    bool draining, http_drained, drain_timer_live;
    uv_timer_t drain_timer;
    void (*drain_done)(void *);
    void *drain_arg;
    gn_metrics_t *metrics;
    bool own_metrics;
    gn_histogram_t *latency, *verify_time;
    gn_gauge_t *queue_depth, *open_conns;
};

static const gn_syn_field_t DUMMY_FIELDS[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_class_t DUMMY = {"Dummy", DUMMY_FIELDS, 2};
static const gn_syn_field_t STREAM_FIELDS[] = {
    {.name = "text", .type = GN_SYN_STR, .required = true},
};
static const gn_syn_class_t STREAMING_DUMMY = {"StreamingDummy", STREAM_FIELDS, 1};

/* ---- metrics ---- */

static void count_request(gn_axon_t *ax, const char *synapse, int status)
{
    char st[8];
    snprintf(st, sizeof(st), "%d", status);
    gn_counter_t *c = gn_metrics_counter(ax->metrics, "ganglion_axon_requests_total",
                                         "Requests answered by the axon, by synapse and status",
                                         "synapse", synapse, "status", st, NULL);
    if (c)
        gn_counter_add(c, 1);
}

static void count_reject(gn_axon_t *ax, const char *reason)
{
    gn_counter_t *c =
        gn_metrics_counter(ax->metrics, "ganglion_axon_rejects_total",
                           "Requests refused before a handler, by reason", "reason", reason, NULL);
    if (c)
        gn_counter_add(c, 1);
}

/* ---- answers ---- */

static void call_free(gn_axon_call_t *c);

static double since_s(uint64_t t0)
{
    return (double)(uv_hrtime() - t0) / 1e9;
}

static const char *route_name(const gn_axon_call_t *c)
{
    return c->h ? c->h->h.cls->name : "Synapse";
}

/* The axon's own fields of a response's terminal info (§4.5, §4.6). */
static void fill_axon_info(gn_axon_t *ax, json_t *syn, int status, const char *msg, double pt)
{
    json_t *a = json_object_get(syn, "axon");
    if (!json_is_object(a)) {
        a = json_object();
        json_object_set_new(syn, "axon", a);
    }
    json_object_set_new(a, "status_code", json_integer(status));
    json_object_set_new(a, "status_message", json_string(msg));
    json_object_set_new(a, "process_time", json_real(pt));
    (void)ax;
}

/* Answer the call's request; the request is the server's again after. */
static int respond(gn_axon_call_t *c, int status, const gn_header_t *h, size_t n, const void *body,
                   size_t len)
{
    gn_http_req_t *req = c->req;
    req->user = NULL;
    c->req = NULL;
    return gn_http_respond(req, status, h, n, body, len);
}

/* Send bytes with the synapse's header set. */
static int send_synapse(gn_axon_call_t *c, const gn_syn_class_t *cls, json_t *syn, int status,
                        const char *body_override)
{
    gn_header_t *hs = NULL;
    size_t n = 0;
    int rc = gn_synapse_headers(cls, syn, &hs, &n);
    if (rc < 0)
        return rc;
    char *body = body_override ? NULL : gn_synapse_json_compact(syn);
    const char *b = body_override ? body_override : body;
    gn_header_t *all = malloc((n + 1) * sizeof(*all));
    if (!all || !b) {
        free(all);
        free(body);
        free(hs);
        return GN_ENOMEM;
    }
    all[0] = (gn_header_t){"Content-Type", 12, "application/json", 16};
    memcpy(all + 1, hs, n * sizeof(*hs));
    rc = respond(c, status, all, n + 1, b, strlen(b));
    free(all);
    free(body);
    free(hs);
    return rc;
}

/* An error answer (§4.6): {"message"} with the header object's headers,
 * the axon's own signature (§3.6) made only now, when it is sent. */
static void answer_error(gn_axon_call_t *c, int status, const char *msg)
{
    gn_axon_t *ax = c->ax;
    if (c->answered)
        return;
    c->answered = true;
    count_request(ax, route_name(c), status);
    if (!c->req)
        return;
    const gn_syn_class_t *cls = c->h ? c->h->h.cls : &GN_SYN_SYNAPSE;
    json_t *syn = c->hdr ? json_incref(c->hdr) : NULL;
    if (!syn && gn_synapse_new(&GN_SYN_SYNAPSE, &syn) < 0) {
        respond(c, status, NULL, 0, "", 0);
        return;
    }
    fill_axon_info(ax, syn, status, msg, since_s(c->arrival_ns));
    json_t *a = json_object_get(syn, "axon");
    if (c->hdr) { /* the header object carries the axon's own identity */
        uint64_t nonce = wall_ns();
        json_object_set_new(a, "version", json_integer(ax->version));
        json_object_set_new(a, "uuid", json_string(ax->uuid));
        json_object_set_new(a, "nonce", json_integer((json_int_t)nonce));
        const char *dk =
            json_string_value(json_object_get(json_object_get(syn, "dendrite"), "hotkey"));
        const char *ak = json_string_value(json_object_get(a, "hotkey"));
        char m[512];
        int k = snprintf(m, sizeof(m), "%llu.%s.%s.%s", (unsigned long long)nonce, dk ? dk : "None",
                         ak ? ak : "None", ax->uuid);
        uint8_t rnd[32], sig[64];
        char hex[2 * 64 + 3];
        randombytes_buf(rnd, sizeof(rnd));
        if (k > 0 && (size_t)k < sizeof(m) &&
            gn_sr25519_sign(&ax->kp, (const uint8_t *)m, (size_t)k, rnd, sig) == 0 &&
            gn_hex_encode(sig, 64, 1, hex, sizeof(hex)) >= 0)
            json_object_set_new(a, "signature", json_string(hex));
    }
    json_t *body = json_pack("{s:s}", "message", msg);
    char *b = gn_synapse_json_compact(body);
    json_decref(body);
    if (send_synapse(c, c->hdr ? cls : &GN_SYN_SYNAPSE, syn, status, b ? b : "{}") < 0)
        if (c->req)
            respond(c, status, NULL, 0, "", 0);
    free(b);
    json_decref(syn);
}

/* A refusal before any handler: answered and freed. */
static void refuse(gn_axon_call_t *c, int status, const char *reason, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    count_reject(c->ax, reason);
    answer_error(c, status, msg);
    call_free(c);
}

/* ---- the queue ---- */

static bool before(const gn_axon_call_t *a, const gn_axon_call_t *b)
{
    return a->stake != b->stake ? a->stake > b->stake : a->arrival_ns < b->arrival_ns;
}

static void heap_swap(gn_axon_t *ax, size_t i, size_t j)
{
    gn_axon_call_t *t = ax->heap[i];
    ax->heap[i] = ax->heap[j];
    ax->heap[j] = t;
}

static void heap_push(gn_axon_t *ax, gn_axon_call_t *c)
{
    size_t i = ax->n_heap++;
    ax->heap[i] = c;
    while (i && before(ax->heap[i], ax->heap[(i - 1) / 2])) {
        heap_swap(ax, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_remove_at(gn_axon_t *ax, size_t i)
{
    ax->heap[i] = ax->heap[--ax->n_heap];
    for (;;) { /* down */
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < ax->n_heap && before(ax->heap[l], ax->heap[m]))
            m = l;
        if (r < ax->n_heap && before(ax->heap[r], ax->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(ax, i, m);
        i = m;
    }
    while (i && i < ax->n_heap && before(ax->heap[i], ax->heap[(i - 1) / 2])) { /* up */
        heap_swap(ax, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_remove(gn_axon_t *ax, gn_axon_call_t *c)
{
    for (size_t i = 0; i < ax->n_heap; i++) {
        if (ax->heap[i] == c) {
            heap_remove_at(ax, i);
            return;
        }
    }
}

static void run_handler(gn_axon_call_t *c);

static void pump(gn_axon_t *ax)
{
    while (!ax->stopping && ax->n_heap && ax->running < ax->max_workers) {
        gn_axon_call_t *c = ax->heap[0];
        heap_remove_at(ax, 0);
        run_handler(c);
    }
    if (ax->queue_depth)
        gn_gauge_set(ax->queue_depth, (double)ax->n_heap);
}

/* Queued requests that waited past their timeout (§4.2 step 5's 408). */
static void sweep_cb(uv_timer_t *t)
{
    gn_axon_t *ax = t->data;
    uint64_t now = uv_hrtime();
    for (size_t i = 0; i < ax->n_heap;) {
        gn_axon_call_t *c = ax->heap[i];
        if ((double)(now - c->queued_ns) / 1e9 > c->timeout_s) {
            heap_remove_at(ax, i);
            char msg[96];
            char tt[32];
            gn_py_float(c->timeout_s, tt, sizeof(tt));
            snprintf(msg, sizeof(msg), "Response timeout after: %ss", tt);
            count_reject(ax, "queue_timeout");
            answer_error(c, 408, msg);
            call_free(c);
        } else {
            i++;
        }
    }
    if (ax->queue_depth)
        gn_gauge_set(ax->queue_depth, (double)ax->n_heap);
    if (ax->open_conns && ax->http) {
        gn_http_stats_t st;
        gn_http_server_stats(ax->http, &st);
        gn_gauge_set(ax->open_conns, (double)st.open_connections);
        /* the server's own refusals, beside the pipeline's */
        static const char *const reasons[GN_HTTP_REJECT_N] = {"header_too_large", "body_too_large",
                                                              "read_timeout",     "connections",
                                                              "ip_rate",          "malformed"};
        for (int i = 0; i < GN_HTTP_REJECT_N; i++) {
            gn_counter_t *c = gn_metrics_counter(ax->metrics, "ganglion_axon_rejects_total",
                                                 "Requests refused before a handler, by reason",
                                                 "reason", reasons[i], NULL);
            if (c)
                gn_counter_set(c, st.rejects[i]);
        }
    }
}

/* ---- handlers ---- */

static void deadline_closed(uv_handle_t *h)
{
    gn_axon_call_t *c = h->data;
    c->deadline_armed = false;
    call_free(c);
}

/* The end of a handler's work: the slot is free, the call goes. */
static void finish(gn_axon_call_t *c)
{
    gn_axon_t *ax = c->ax;
    if (c->state == ST_RUNNING) {
        ax->running--;
        if (ax->latency)
            gn_histogram_observe(ax->latency, since_s(c->arrival_ns));
    }
    c->state = ST_DONE;
    pump(ax);
    if (c->deadline_armed) {
        uv_timer_stop(&c->deadline);
        uv_close((uv_handle_t *)&c->deadline, deadline_closed);
    } else {
        call_free(c);
    }
}

static void deadline_cb(uv_timer_t *t)
{
    gn_axon_call_t *c = t->data;
    if (c->answered)
        return;
    char msg[96], tt[32];
    gn_py_float(c->timeout_s, tt, sizeof(tt));
    snprintf(msg, sizeof(msg), "Response timeout after: %ss", tt);
    c->timed_out = true;
    count_reject(c->ax, "handler_timeout");
    answer_error(c, 408, msg);
    /* the call lives on until the handler answers (its answer is dropped) */
}

static void run_handler(gn_axon_call_t *c)
{
    gn_axon_t *ax = c->ax;
    if (!c->req) { /* the client left while queued */
        call_free(c);
        return;
    }
    c->state = ST_RUNNING;
    ax->running++;
    /* §4.2 step 6: the body into a synapse, and its hash */
    json_t *body = NULL;
    int rc = gn_synapse_from_body(c->h->h.cls, c->req->body, c->req->body_len, &body);
    if (rc == GN_EJSON) {
        /* FastAPI's answer: 422 with its detail and no bt headers */
        static const char detail[] =
            "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",0],\"msg\":\"JSON decode "
            "error\",\"input\":{},\"ctx\":{\"error\":\"Expecting value\"}}]}";
        gn_header_t ct = {"Content-Type", 12, "application/json", 16};
        c->answered = true;
        count_request(ax, route_name(c), 422);
        respond(c, 422, &ct, 1, detail, sizeof(detail) - 1);
        finish(c);
        return;
    }
    char hash[65];
    const char *want = json_string_value(json_object_get(c->hdr, "computed_body_hash"));
    if (rc == 0)
        rc = gn_synapse_body_hash(c->h->h.cls, body, hash);
    if (rc < 0 || !want || strcmp(hash, want) != 0) {
        uint8_t rnd[16];
        char msg[96];
        randombytes_buf(rnd, sizeof(rnd));
        gn_syn_msg_500(rnd, msg, sizeof(msg));
        json_decref(body);
        count_reject(ax, rc < 0 ? "bad_body" : "body_hash");
        answer_error(c, 500, msg);
        finish(c);
        return;
    }
    /* the handler sees the verified caller, not the body's claim (§10 2d) */
    json_t *bd = json_object_get(body, "dendrite"), *hd = json_object_get(c->hdr, "dendrite");
    static const char *const verified[] = {"hotkey", "nonce", "uuid", "signature"};
    for (size_t i = 0; json_is_object(bd) && i < 4; i++)
        json_object_set(bd, verified[i], json_object_get(hd, verified[i]));
    c->started_ns = uv_hrtime();
    double limit = c->timeout_s > 0 ? c->timeout_s : 12.0;
    if (uv_timer_init(ax->loop, &c->deadline) == 0) {
        c->deadline.data = c;
        c->deadline_armed = true;
        uv_timer_start(&c->deadline, deadline_cb, (uint64_t)(limit * 1000.0), 0);
    }
    c->h->h.fn(c, body, c->h->h.arg);
}

/* ---- verification (thread pool) ---- */

static void verify_work(uv_work_t *w)
{
    gn_axon_call_t *c = w->data;
    uint64_t t0 = uv_hrtime();
    c->vstatus = gn_synapse_verify(c->hdr, c->ax->hotkey, wall_ns(), NULL, &c->nonce, c->verr,
                                   sizeof(c->verr));
    c->started_ns = uv_hrtime() - t0; /* reused: the verify time */
}

/* ganglion's nonce rule: inside the window (capped timeout, version
 * ignored), not older than the axon's start, not seen before for this
 * hotkey:uuid; out of order is fine. Returns an error text or NULL. */
static const char *nonce_check(gn_axon_t *ax, gn_axon_call_t *c, bool record, char *buf, size_t cap)
{
    uint64_t now = wall_ns(), n = c->nonce;
    double t = c->timeout_s < ax->max_timeout_s ? c->timeout_s : ax->max_timeout_s;
    if (t < 0 || isnan(t))
        t = 0;
    uint64_t window = ALLOWED_DELTA_NS + (uint64_t)(t * 1e9);
    uint64_t oldest = now > window ? now - window : 0;
    if (oldest < ax->start_ns)
        oldest = ax->start_ns; /* no replay across a restart */
    slot_t *s = table_find(&ax->nonces, c->key, false);
    if (s && n == s->newest)
        return "Nonce is too old, a newer one was last processed";
    if (s) {
        for (unsigned i = 0; i < s->n_ring; i++)
            if (s->ring[i] == n)
                return "Nonce is too old, a newer one was last processed";
    }
    if (n <= oldest) {
        snprintf(buf, cap,
                 "Nonce is too old: acceptable delta is %.2f seconds but request was %.2f seconds "
                 "old",
                 (double)window / 1e9, now > n ? (double)(now - n) / 1e9 : 0.0);
        return buf;
    }
    if (n > now + FUTURE_SKEW_NS) {
        snprintf(buf, cap, "Nonce is %.2f seconds in the future: check the caller's clock",
                 (double)(n - now) / 1e9);
        return buf;
    }
    if (s && s->n_ring == REPLAY_RING && n < s->newest) {
        /* older than everything remembered: cannot tell a replay apart */
        uint64_t min = s->ring[0];
        for (unsigned i = 1; i < s->n_ring; i++)
            min = s->ring[i] < min ? s->ring[i] : min;
        if (n < min)
            return "Nonce is too old, a newer one was last processed";
    }
    if (!record)
        return NULL;
    if (ax->nonces.n >= MAX_KEYS)
        table_prune(&ax->nonces, oldest);
    s = table_find(&ax->nonces, c->key, true);
    if (!s)
        return "out of memory";
    s->ring[s->pos] = n;
    s->pos = (s->pos + 1) % REPLAY_RING;
    if (s->n_ring < REPLAY_RING)
        s->n_ring++;
    if (n > s->newest)
        s->newest = n;
    return NULL;
}

static bool rate_ok(gn_axon_t *ax, const char *hotkey)
{
    if (ax->rate <= 0)
        return true;
    if (ax->rates.n >= MAX_KEYS)
        table_prune(&ax->rates, UINT64_MAX); /* all idle enough to forget */
    slot_t *s = table_find(&ax->rates, hotkey, true);
    if (!s)
        return false;
    uint64_t now = uv_hrtime();
    if (!s->last_ns)
        s->tokens = ax->burst;
    else
        s->tokens += (double)(now - s->last_ns) / 1e9 * ax->rate;
    if (s->tokens > ax->burst)
        s->tokens = ax->burst;
    s->last_ns = now;
    s->newest = UINT64_MAX; /* kept by a prune with a finite bound */
    if (s->tokens < 1)
        return false;
    s->tokens -= 1;
    return true;
}

static void verify_done(uv_work_t *w, int status)
{
    gn_axon_call_t *c = w->data;
    gn_axon_t *ax = c->ax;
    if (ax->verify_time)
        gn_histogram_observe(ax->verify_time, (double)c->started_ns / 1e9);
    if (status < 0 || !c->req || ax->stopping) {
        call_free(c);
        return;
    }
    char buf[256];
    /* checked again now: another request of this key may have landed */
    const char *why = c->vstatus < 0 ? c->verr : nonce_check(ax, c, true, buf, sizeof(buf));
    if (why) {
        refuse(c, 401, "verify", "Not Verified with error: %s", why);
        return;
    }
    if (!rate_ok(ax, c->hotkey)) {
        refuse(c, 429, "hotkey_rate", "Too many requests from hotkey %s", c->hotkey);
        return;
    }
    if (ax->running < ax->max_workers && !ax->n_heap) {
        run_handler(c);
        return;
    }
    if (ax->n_heap >= ax->queue_max) {
        refuse(c, 503, "queue_full", "Service unavailable: %u requests are waiting", ax->queue_max);
        return;
    }
    c->state = ST_QUEUED;
    c->queued_ns = uv_hrtime();
    heap_push(ax, c);
    pump(ax);
}

/* ---- policy ---- */

static bool in_list(const char *const *l, size_t n, const char *k)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i], k))
            return true;
    return false;
}

/* The neuron of a hotkey in the metagraph given, or NULL. */
static const json_t *neuron_of(const gn_axon_t *ax, const char *hotkey)
{
    size_t i;
    json_t *n;
    json_array_foreach (ax->neurons, i, n) {
        const char *h = json_string_value(json_object_get(n, "hotkey"));
        if (h && !strcmp(h, hotkey))
            return n;
    }
    return NULL;
}

static uint64_t stake_of(const json_t *n)
{
    uint64_t sum = 0;
    size_t i;
    json_t *p;
    json_array_foreach (json_object_get(n, "stake"), i, p) {
        json_t *v = json_array_get(p, 1);
        if (json_is_integer(v) && json_integer_value(v) > 0)
            sum += (uint64_t)json_integer_value(v);
    }
    return sum;
}

/* The reason a hotkey is refused (NULL: allowed); sets c->stake. */
static const char *blacklisted(gn_axon_t *ax, gn_axon_call_t *c, char *buf, size_t cap)
{
    const gn_axon_policy_t *p = &ax->policy;
    const char *k = c->hotkey;
    if (in_list(p->deny, p->n_deny, k))
        return "hotkey is on the deny list";
    if (p->n_allow && !in_list(p->allow, p->n_allow, k))
        return "hotkey is not on the allow list";
    const json_t *n = ax->neurons ? neuron_of(ax, k) : NULL;
    c->stake = n ? stake_of(n) : 0;
    if ((p->registered_only || p->require_permit || p->min_stake) && !n)
        return "Unrecognized hotkey";
    if (p->require_permit && !json_is_true(json_object_get(n, "validator_permit")))
        return "Hotkey has no validator permit";
    if (p->min_stake && c->stake < p->min_stake) {
        snprintf(buf, cap, "stake %llu is below the minimum %llu", (unsigned long long)c->stake,
                 (unsigned long long)p->min_stake);
        return buf;
    }
    return NULL;
}

/* ---- requests ---- */

static void free_axon(gn_axon_t *ax);

/* After a stop: freed once the server is closed and no call is left (a
 * handler still working on one answers it into the void first). */
static void maybe_free(gn_axon_t *ax)
{
    if (!ax->stopping || !ax->http_closed || ax->inflight || ax->drain_timer_live)
        return;
    void (*done)(void *) = ax->done, (*drain_done)(void *) = ax->drain_done;
    void *arg = ax->done_arg, *drain_arg = ax->drain_arg;
    free_axon(ax);
    if (drain_done)
        drain_done(drain_arg);
    if (done)
        done(arg);
}

/* Draining: every connection is closed (all answers written) and no call
 * is left: the rest is a stop with nothing to abandon. */
static void drain_maybe_finish(gn_axon_t *ax)
{
    if (ax->draining && !ax->stopping && ax->http_drained && !ax->inflight)
        gn_axon_stop(ax, NULL, NULL);
}

static void call_free(gn_axon_call_t *c)
{
    if (!c)
        return;
    gn_axon_t *ax = c->ax;
    if (c->req)
        c->req->user = NULL;
    json_decref(c->hdr);
    free(c);
    ax->inflight--;
    if (ax->stopping)
        maybe_free(ax); /* may free ax */
    else
        drain_maybe_finish(ax);
}

static const handler_t *find_handler(const gn_axon_t *ax, const char *name, size_t len)
{
    for (size_t i = 0; i < ax->n_handlers; i++) {
        const char *n = ax->handlers[i].h.cls->name;
        if (strlen(n) == len && !memcmp(n, name, len))
            return &ax->handlers[i];
    }
    return NULL;
}

static void serve_health(gn_axon_t *ax, gn_http_req_t *req)
{
    gn_http_stats_t st;
    gn_http_server_stats(ax->http, &st);
    json_t *names = json_array();
    for (size_t i = 0; i < ax->n_handlers; i++)
        json_array_append_new(names, json_string(ax->handlers[i].h.cls->name));
    /* draining: not ready for more work (503), still alive and answering */
    json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:f,s:I,s:I,s:I,s:I}", "status",
                          ax->draining ? "draining" : "ok", "hotkey", ax->hotkey, "uuid", ax->uuid,
                          "synapses", names, "uptime_s", (double)(wall_ns() - ax->start_ns) / 1e9,
                          "open_connections", (json_int_t)st.open_connections, "running",
                          (json_int_t)ax->running, "queued", (json_int_t)ax->n_heap, "requests",
                          (json_int_t)st.requests);
    char *b = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    gn_header_t ct = {"Content-Type", 12, "application/json", 16};
    gn_http_respond(req, ax->draining ? 503 : 200, &ct, 1, b ? b : "{}", b ? strlen(b) : 2);
    free(b);
}

static void serve_metrics(gn_axon_t *ax, gn_http_req_t *req)
{
    sweep_cb(&ax->sweep); /* fresh gauges */
    char *text = NULL;
    size_t len = 0;
    gn_header_t ct = {"Content-Type", 12, "text/plain; version=0.0.4", 25};
    if (gn_metrics_render(ax->metrics, &text, &len) == 0)
        gn_http_respond(req, 200, &ct, 1, text, len);
    else
        gn_http_respond(req, 500, &ct, 1, "", 0);
    free(text);
}

static void on_request(gn_http_req_t *req, void *arg)
{
    gn_axon_t *ax = arg;
    if (!strcmp(req->method, "GET") && !strcmp(req->path, "/healthz")) {
        serve_health(ax, req);
        return;
    }
    if (!strcmp(req->method, "GET") && !strcmp(req->path, "/metrics")) {
        serve_metrics(ax, req);
        return;
    }
    gn_axon_call_t *c = calloc(1, sizeof(*c));
    if (!c) {
        gn_http_respond(req, 503, NULL, 0, "", 0);
        return;
    }
    c->ax = ax;
    c->req = req;
    c->arrival_ns = req->arrival_ns ? req->arrival_ns : uv_hrtime();
    c->state = ST_VERIFY;
    req->user = c;
    ax->inflight++;
    /* 1. the route: between the first and the second '/' */
    const char *p = req->path[0] == '/' ? req->path + 1 : req->path;
    size_t len = strcspn(p, "/?");
    c->h = find_handler(ax, p, len);
    if (ax->draining && req->draining) {
        /* new work on a kept-alive connection while draining: the SDK's
         * 503, with the synapse's headers when they parse; the server
         * closes the connection after it */
        if (c->h && gn_synapse_from_headers(c->h->h.cls, req->headers, req->n_headers, &c->hdr) < 0)
            c->h = NULL;
        refuse(c, 503, "draining", "Service unavailable: the axon is stopping");
        return;
    }
    if (!c->h) {
        char name[256], msg[1024];
        snprintf(name, sizeof(name), "%.*s", (int)(len < 200 ? len : 200), p);
        const char *names[64];
        size_t n = 0;
        for (size_t i = 0; i < ax->n_handlers && n < 64; i++)
            names[n++] = ax->handlers[i].h.cls->name;
        gn_syn_msg_404(name, names, n, msg, sizeof(msg));
        refuse(c, 404, "not_found", "%s", msg);
        return;
    }
    /* 2. the header object */
    if (gn_synapse_from_headers(c->h->h.cls, req->headers, req->n_headers, &c->hdr) < 0) {
        char msg[4096];
        gn_syn_msg_400(req->headers, req->n_headers, c->h->h.cls->name, msg, sizeof(msg));
        c->h = NULL; /* answered as a plain Synapse (§4.6) */
        refuse(c, 400, "bad_headers", "%s", msg);
        return;
    }
    json_t *d = json_object_get(c->hdr, "dendrite"), *a = json_object_get(c->hdr, "axon");
    json_object_set_new(d, "ip", json_string(req->peer_ip));
    json_object_set_new(d, "port", json_integer(req->peer_port));
    json_object_set_new(a, "status_code", json_integer(100));
    json_t *tj = json_object_get(c->hdr, "timeout");
    c->timeout_s = json_is_number(tj) ? json_number_value(tj) : 12.0;
    if (!(c->timeout_s > 0) || c->timeout_s > ax->max_timeout_s)
        c->timeout_s = c->timeout_s > 0 ? ax->max_timeout_s : 12.0;
    const char *hk = json_string_value(json_object_get(d, "hotkey"));
    const char *uuid = json_string_value(json_object_get(d, "uuid"));
    snprintf(c->hotkey, sizeof(c->hotkey), "%s", hk ? hk : "");
    snprintf(c->key, sizeof(c->key), "%s:%s", hk ? hk : "", uuid ? uuid : "");
    /* 3. blacklist (before verification, as the SDK: it only refuses) */
    char buf[256];
    const char *why = blacklisted(ax, c, buf, sizeof(buf));
    if (why) {
        char msg[512];
        gn_syn_msg_403(why, msg, sizeof(msg));
        refuse(c, 403, "blacklist", "%s", msg);
        return;
    }
    /* 4. verification off the loop; a stale or replayed nonce is refused
     * first, so a replay costs no sr25519 verify (the nonce is recorded
     * only once the signature holds) */
    json_t *nj = json_object_get(d, "nonce");
    if (json_is_integer(nj) && json_integer_value(nj) > 0) {
        c->nonce = (uint64_t)json_integer_value(nj);
        why = nonce_check(ax, c, false, buf, sizeof(buf));
        if (why) {
            refuse(c, 401, "verify", "Not Verified with error: %s", why);
            return;
        }
    }
    c->work.data = c;
    if (uv_queue_work(ax->loop, &c->work, verify_work, verify_done) < 0)
        refuse(c, 503, "internal", "Service unavailable");
}

static void on_abort(gn_http_req_t *req, void *arg)
{
    gn_axon_t *ax = arg;
    gn_axon_call_t *c = req->user;
    if (!c)
        return;
    c->req = NULL;
    if (c->state == ST_QUEUED) {
        heap_remove(ax, c);
        call_free(c);
    }
    /* verifying: freed when the work returns; running: when the handler answers */
}

/* ---- answering ---- */

int gn_axon_reply(gn_axon_call_t *call, json_t *syn)
{
    gn_axon_call_t *c = call;
    int rc = GN_ECLOSED;
    if (!c->answered && c->req && json_is_object(syn)) {
        c->answered = true;
        json_t *a = json_object_get(syn, "axon");
        json_t *sc = json_object_get(a, "status_code");
        int status = json_is_integer(sc) && json_integer_value(sc) >= 200 &&
                             json_integer_value(sc) < 600 && json_integer_value(sc) != 100
                         ? (int)json_integer_value(sc)
                         : 200;
        const char *m = json_string_value(json_object_get(a, "status_message"));
        fill_axon_info(c->ax, syn, status,
                       m               ? m
                       : status == 200 ? "Success"
                                       : "",
                       since_s(c->started_ns));
        rc = send_synapse(c, c->h->h.cls, syn, status, NULL);
        count_request(c->ax, route_name(c), status);
    }
    json_decref(syn);
    finish(c);
    return rc;
}

int gn_axon_fail(gn_axon_call_t *c, int status, const char *message)
{
    int rc = c->answered || !c->req ? GN_ECLOSED : 0;
    if (status < 400 || status > 599)
        status = 500;
    answer_error(c, status, message ? message : "");
    finish(c);
    return rc;
}

int gn_axon_stream_start(gn_axon_call_t *c, const json_t *synapse)
{
    if (c->answered || !c->req)
        return GN_ECLOSED;
    c->answered = true;
    json_t *syn = json_deep_copy(synapse);
    fill_axon_info(c->ax, syn, 200, "Success", since_s(c->started_ns));
    gn_header_t *hs = NULL;
    size_t n = 0;
    int rc = gn_synapse_headers(c->h->h.cls, syn, &hs, &n);
    json_decref(syn);
    if (rc < 0)
        return rc;
    gn_header_t *all = malloc((n + 1) * sizeof(*all));
    if (!all) {
        free(hs);
        return GN_ENOMEM;
    }
    all[0] = (gn_header_t){"Content-Type", 12, "text/event-stream", 17};
    memcpy(all + 1, hs, n * sizeof(*hs));
    rc = gn_http_stream_start(c->req, 200, all, n + 1);
    free(all);
    free(hs);
    count_request(c->ax, route_name(c), 200);
    return rc;
}

int gn_axon_stream_write(gn_axon_call_t *c, const void *data, size_t len)
{
    if (!c->req || c->timed_out)
        return GN_ECLOSED;
    return gn_http_stream_write(c->req, data, len);
}

int gn_axon_stream_end(gn_axon_call_t *c)
{
    int rc = GN_ECLOSED;
    if (c->req && !c->timed_out) {
        gn_http_req_t *req = c->req;
        req->user = NULL;
        c->req = NULL;
        rc = gn_http_stream_end(req);
    }
    finish(c);
    return rc;
}

const char *gn_axon_call_hotkey(const gn_axon_call_t *c)
{
    return c->hotkey;
}

bool gn_axon_call_alive(const gn_axon_call_t *c)
{
    return c->req && !c->timed_out;
}

uv_loop_t *gn_axon_call_loop(const gn_axon_call_t *c)
{
    return c->ax->loop;
}

/* ---- built-in synapses ---- */

static void dummy(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    json_t *in = json_object_get(syn, "dummy_input");
    json_object_set_new(syn, "dummy_output", json_integer(2 * json_integer_value(in)));
    gn_axon_reply(call, syn);
}

static void ping(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    gn_axon_reply(call, syn);
}

/* StreamingDummy: each word of `text` as its own chunk. */
static void streaming_dummy(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    const char *t = json_string_value(json_object_get(syn, "text"));
    if (gn_axon_stream_start(call, syn) == 0 && t) {
        while (*t) {
            size_t n = strcspn(t, " ");
            size_t k = n + (t[n] == ' ');
            if (gn_axon_stream_write(call, t, k) < 0)
                break;
            t += k;
        }
    }
    json_decref(syn);
    gn_axon_stream_end(call);
}

int gn_axon_attach_builtins(gn_axon_t *ax)
{
    gn_axon_handler_t d = {.cls = &DUMMY, .fn = dummy};
    gn_axon_handler_t s = {.cls = &STREAMING_DUMMY, .fn = streaming_dummy, .streaming = true};
    int rc = gn_axon_attach(ax, &d);
    return rc < 0 ? rc : gn_axon_attach(ax, &s);
}

const gn_syn_class_t *gn_axon_dummy_class(void)
{
    return &DUMMY;
}

/* ---- life ---- */

int gn_axon_attach(gn_axon_t *ax, const gn_axon_handler_t *h)
{
    if (!h || !h->cls || !h->cls->name || !h->fn)
        return GN_EINVAL;
    if (find_handler(ax, h->cls->name, strlen(h->cls->name)))
        return GN_EEXIST;
    if (ax->n_handlers == ax->cap_handlers) {
        size_t cap = ax->cap_handlers ? 2 * ax->cap_handlers : 8;
        handler_t *n = realloc(ax->handlers, cap * sizeof(*n));
        if (!n)
            return GN_ENOMEM;
        ax->handlers = n;
        ax->cap_handlers = cap;
    }
    ax->handlers[ax->n_handlers++].h = *h;
    return 0;
}

void gn_axon_set_neurons(gn_axon_t *ax, json_t *neurons)
{
    json_decref(ax->neurons);
    ax->neurons = json_is_array(neurons) ? json_incref(neurons) : NULL;
}

uint16_t gn_axon_port(const gn_axon_t *ax)
{
    return gn_http_server_port(ax->http);
}

static void free_axon(gn_axon_t *ax)
{
    sodium_memzero(&ax->kp, sizeof(ax->kp));
    table_free(&ax->nonces);
    table_free(&ax->rates);
    json_decref(ax->neurons);
    free(ax->heap);
    free(ax->handlers);
    if (ax->own_metrics)
        gn_metrics_free(ax->metrics);
    free(ax);
}

int gn_axon_start(uv_loop_t *loop, const gn_axon_opts_t *o, gn_axon_t **out)
{
    if (!loop || !o || !o->hotkey || !out)
        return GN_EINVAL;
    gn_axon_t *ax = calloc(1, sizeof(*ax));
    if (!ax)
        return GN_ENOMEM;
    int rc = GN_ENOMEM;
    ax->loop = loop;
    ax->kp = *o->hotkey;
    gn_ss58_encode(ax->kp.pub, 32, 42, ax->hotkey, sizeof(ax->hotkey));
    uint8_t rnd[16];
    randombytes_buf(rnd, sizeof(rnd));
    gn_uuid4_text(rnd, ax->uuid);
    ax->version = o->version ? o->version : GN_AXON_VERSION;
    ax->max_workers = o->max_workers ? o->max_workers : 10;
    ax->queue_max = o->queue_max ? o->queue_max : 256;
    ax->max_timeout_s = o->max_timeout_s > 0 ? o->max_timeout_s : 60.0;
    ax->rate = o->per_hotkey_rate;
    ax->burst = o->per_hotkey_burst ? o->per_hotkey_burst : (ax->rate > 1 ? ax->rate : 1);
    ax->policy = o->policy;
    ax->start_ns = wall_ns();
    snprintf(ax->external_ip, sizeof(ax->external_ip), "%s", o->external_ip ? o->external_ip : "");
    ax->external_port = o->external_port;
    ax->heap = calloc(ax->queue_max, sizeof(*ax->heap));
    if (!ax->heap)
        goto fail;
    ax->metrics = o->metrics;
    if (!ax->metrics) {
        if ((rc = gn_metrics_new(&ax->metrics)) < 0)
            goto fail;
        ax->own_metrics = true;
    }
    static const double lat[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10,   30};
    static const double ver[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01};
    ax->latency = gn_metrics_histogram(ax->metrics, "ganglion_axon_latency_seconds",
                                       "Arrival to answer of requests that reached a handler", lat,
                                       sizeof(lat) / sizeof(lat[0]), NULL);
    ax->verify_time =
        gn_metrics_histogram(ax->metrics, "ganglion_axon_verify_seconds",
                             "sr25519 verification time", ver, sizeof(ver) / sizeof(ver[0]), NULL);
    ax->queue_depth = gn_metrics_gauge(ax->metrics, "ganglion_axon_queue_depth",
                                       "Requests waiting for a handler", NULL);
    ax->open_conns = gn_metrics_gauge(ax->metrics, "ganglion_axon_open_connections",
                                      "Open client connections", NULL);
    gn_axon_handler_t p = {.cls = &GN_SYN_SYNAPSE, .fn = ping};
    if ((rc = gn_axon_attach(ax, &p)) < 0)
        goto fail;
    gn_http_opts_t ho = {.ip = o->ip,
                         .port = o->port,
                         .limits = o->limits,
                         .on_request = on_request,
                         .on_abort = on_abort,
                         .arg = ax,
                         .server_name = "ganglion"};
    if ((rc = gn_http_server_start(loop, &ho, &ax->http)) < 0)
        goto fail;
    uv_timer_init(loop, &ax->sweep);
    ax->sweep.data = ax;
    uv_timer_start(&ax->sweep, sweep_cb, 250, 250);
    *out = ax;
    return 0;
fail:
    free_axon(ax);
    return rc;
}

static void http_stopped(void *arg)
{
    gn_axon_t *ax = arg;
    ax->http = NULL;
    ax->http_closed = true;
    maybe_free(ax);
}

static void sweep_closed(uv_handle_t *h)
{
    gn_axon_t *ax = h->data;
    while (ax->n_heap) { /* queued calls: abandoned */
        gn_axon_call_t *c = ax->heap[--ax->n_heap];
        answer_error(c, 503, "Service unavailable: the axon is stopping");
        call_free(c);
    }
    gn_http_server_stop(ax->http, http_stopped, ax);
}

static void drain_timer_closed(uv_handle_t *h)
{
    gn_axon_t *ax = h->data;
    ax->drain_timer_live = false;
    maybe_free(ax);
}

void gn_axon_stop(gn_axon_t *ax, void (*done)(void *), void *arg)
{
    if (!ax || ax->stopping)
        return;
    ax->stopping = true;
    ax->done = done;
    ax->done_arg = arg;
    if (ax->drain_timer_live) {
        uv_timer_stop(&ax->drain_timer);
        uv_close((uv_handle_t *)&ax->drain_timer, drain_timer_closed);
    }
    uv_timer_stop(&ax->sweep);
    uv_close((uv_handle_t *)&ax->sweep, sweep_closed);
}

static void http_drained(void *arg)
{
    gn_axon_t *ax = arg;
    ax->http_drained = true;
    drain_maybe_finish(ax);
}

static void drain_deadline(uv_timer_t *t)
{
    gn_axon_t *ax = t->data;
    gn_axon_stop(ax, NULL, NULL); /* what is left is abandoned */
}

void gn_axon_drain(gn_axon_t *ax, double deadline_s, void (*done)(void *arg), void *arg)
{
    if (!ax || ax->stopping || ax->draining)
        return;
    ax->draining = true;
    ax->drain_done = done;
    ax->drain_arg = arg;
    if (!(deadline_s > 0))
        deadline_s = 0;
    if (deadline_s > 86400)
        deadline_s = 86400;
    if (uv_timer_init(ax->loop, &ax->drain_timer) == 0) {
        ax->drain_timer.data = ax;
        ax->drain_timer_live = true;
        uv_timer_start(&ax->drain_timer, drain_deadline, (uint64_t)(deadline_s * 1000.0), 0);
    }
    gn_http_server_drain(ax->http, http_drained, ax);
}

/* ---- the axon as an actor: served on its loop, fed by the metagraph ---- */

struct gn_axon_actor {
    gn_axon_actor_opts_t o;
    gn_sr25519_keypair_t kp;
    gn_axon_t *ax;
    json_t *neurons; /* the last snapshot's, for a restarted axon */
};

static int axon_actor_start(gn_actor_t *a)
{
    gn_axon_actor_t *s = gn_actor_state(a);
    gn_axon_opts_t o = s->o.axon;
    o.hotkey = &s->kp;
    int rc = gn_axon_start(gn_loop_uv(gn_actor_loop(a)), &o, &s->ax);
    if (rc == 0 && s->o.attach)
        rc = s->o.attach(s->ax, s->o.attach_arg);
    if (rc < 0 && s->ax) {
        gn_axon_stop(s->ax, NULL, NULL);
        s->ax = NULL;
    }
    if (rc == 0 && s->neurons)
        gn_axon_set_neurons(s->ax, s->neurons);
    return rc;
}

static void axon_actor_stop(gn_actor_t *a)
{
    gn_axon_actor_t *s = gn_actor_state(a);
    if (s->ax)
        gn_axon_stop(s->ax, NULL, NULL);
    s->ax = NULL;
}

static int axon_actor_handle(gn_actor_t *a, gn_msg_t *m)
{
    gn_axon_actor_t *s = gn_actor_state(a);
    if (m->type == &GN_MSG_METAGRAPH) {
        const gn_metagraph_t *g = m->payload;
        if (s->o.netuid >= 0 && g->netuid != (uint16_t)s->o.netuid)
            return 0;
        json_decref(s->neurons);
        s->neurons = json_incref(g->neurons);
        if (s->ax)
            gn_axon_set_neurons(s->ax, s->neurons);
    }
    return 0;
}

int gn_axon_actor_spawn(gn_loop_t *l, const gn_axon_actor_opts_t *o, gn_axon_actor_t **out,
                        gn_actor_t **actor)
{
    if (!l || !o || !o->axon.hotkey || !out || !actor)
        return GN_EINVAL;
    gn_axon_actor_t *s = calloc(1, sizeof(*s));
    if (!s)
        return GN_ENOMEM;
    s->o = *o;
    s->kp = *o->axon.hotkey;
    s->o.axon.hotkey = NULL; /* the copy above is the one used */
    static const gn_actor_spec_t spec = {.name = "axon",
                                         .handle = axon_actor_handle,
                                         .start = axon_actor_start,
                                         .stop = axon_actor_stop};
    int rc = gn_actor_spawn(l, &spec, s, actor);
    if (rc < 0) {
        sodium_memzero(&s->kp, sizeof(s->kp));
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

gn_axon_t *gn_axon_actor_axon(gn_axon_actor_t *s)
{
    return s->ax;
}

void gn_axon_actor_free(gn_axon_actor_t *s)
{
    if (!s)
        return;
    sodium_memzero(&s->kp, sizeof(s->kp));
    json_decref(s->neurons);
    free(s);
}
