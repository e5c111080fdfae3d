/* The dendrite actor (include/ganglion/dendrite_actor.h): a dendrite on the
 * actor's loop, queries and streams by message, partial results, chunks
 * and cancels, and a metrics collector over a snapshot of its stats that any thread may
 * read. */
#include "ganglion/dendrite_actor.h"
#include "ganglion/error.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_QUERY = 0x6401, T_RESULT, T_PARTIAL, T_CANCEL, T_REFRESH, T_STREAM, T_CHUNK };

#define REFRESH_MS 1000 /* the stats snapshot's age at most (and after every query) */

/* ---- messages ---- */

static void query_destroy(void *p)
{
    gn_dendrite_query_msg_t *q = p;
    json_decref(q->synapse);
    free(q->targets); /* one block with the strings */
    free(q);
}

static void result_destroy(void *p)
{
    gn_dendrite_result_msg_t *r = p;
    json_decref(r->results);
    free(r);
}

static void partial_destroy(void *p)
{
    gn_dendrite_partial_t *pt = p;
    json_decref(pt->result);
    free(pt);
}

const gn_msg_type_t GN_MSG_DENDRITE_QUERY = {T_QUERY, "dendrite.Query", query_destroy};
const gn_msg_type_t GN_MSG_DENDRITE_RESULT = {T_RESULT, "dendrite.Result", result_destroy};
const gn_msg_type_t GN_MSG_DENDRITE_PARTIAL = {T_PARTIAL, "dendrite.Partial", partial_destroy};
const gn_msg_type_t GN_MSG_DENDRITE_CANCEL = {T_CANCEL, "dendrite.Cancel", free};
const gn_msg_type_t GN_MSG_DENDRITE_STREAM = {T_STREAM, "dendrite.Stream", query_destroy};
const gn_msg_type_t GN_MSG_DENDRITE_CHUNK = {T_CHUNK, "dendrite.Chunk", free};
static const gn_msg_type_t REFRESH = {T_REFRESH, "dendrite.refresh", NULL};

gn_dendrite_query_msg_t *gn_dendrite_query_msg_new(const gn_dendrite_target_t *targets, size_t n,
                                                   const gn_syn_class_t *cls, json_t *synapse,
                                                   double timeout_s, bool partials)
{
    size_t size = n * sizeof(gn_dendrite_target_t);
    bool ok = n == 0 || (targets && n < SIZE_MAX / 2 / sizeof(gn_dendrite_target_t));
    for (size_t i = 0; ok && i < n; i++) {
        ok = targets[i].ip && targets[i].hotkey;
        if (ok)
            size += strlen(targets[i].ip) + strlen(targets[i].hotkey) + 2;
    }
    gn_dendrite_query_msg_t *q = ok ? calloc(1, sizeof(*q)) : NULL;
    char *block = q && n ? malloc(size) : NULL;
    if (!q || (n && !block)) {
        free(q);
        json_decref(synapse);
        return NULL;
    }
    gn_dendrite_target_t *t = (gn_dendrite_target_t *)(void *)block;
    char *s = block + n * sizeof(*t);
    for (size_t i = 0; i < n; i++) {
        size_t li = strlen(targets[i].ip) + 1, lh = strlen(targets[i].hotkey) + 1;
        t[i].port = targets[i].port;
        t[i].ip = memcpy(s, targets[i].ip, li);
        s += li;
        t[i].hotkey = memcpy(s, targets[i].hotkey, lh);
        s += lh;
    }
    q->targets = t;
    q->n = n;
    q->cls = cls;
    q->synapse = synapse;
    q->timeout_s = timeout_s;
    q->partials = partials;
    return q;
}

gn_dendrite_query_msg_t *gn_dendrite_stream_msg_new(const gn_dendrite_target_t *target,
                                                    const gn_syn_class_t *cls, json_t *synapse,
                                                    double timeout_s)
{
    if (!target) {
        json_decref(synapse);
        return NULL;
    }
    return gn_dendrite_query_msg_new(target, 1, cls, synapse, timeout_s, false);
}

gn_msg_t *gn_dendrite_cancel_msg(gn_actor_t *requester, uint64_t corr)
{
    gn_dendrite_cancel_msg_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->requester = requester;
    c->corr = corr;
    gn_msg_t *m = gn_msg_new(&GN_MSG_DENDRITE_CANCEL, c);
    if (m)
        m->sender = requester;
    return m;
}

/* ---- the actor ---- */

/* What one registry's latency histogram has been given so far. */
typedef struct mirror {
    gn_histogram_t *h;
    uint64_t seen[GN_DENDRITE_LAT_BUCKETS];
    double seen_sum;
    struct mirror *next;
} mirror_t;

typedef struct pending pending_t;

struct gn_dendrite_actor {
    gn_dendrite_opts_t opts; /* its strings and hotkey point below */
    gn_sr25519_keypair_t kp;
    char ext_ip[64], uuid[64];
    gn_actor_t *self;
    gn_dendrite_t *d; /* between start and stop */
    pending_t *pending;
    uint64_t timer;
    bool timer_on;
    gn_dendrite_stats_t base; /* the counters of dendrites closed by earlier stops */
    pthread_mutex_t mu;       /* guards snap and mirrors (any thread) */
    gn_dendrite_stats_t snap;
    mirror_t *mirrors;
};

/* One query running: what its answers need. */
struct pending {
    gn_dendrite_actor_t *da;
    gn_msg_t req; /* a copy of the request's header (reply_to, corr); no payload */
    uint64_t qid, t0_ns;
    size_t chunks, dropped; /* streams */
    pending_t *next;
};

static void stats_add(gn_dendrite_stats_t *dst, const gn_dendrite_stats_t *src)
{
    dst->requests += src->requests;
    for (size_t i = 0; i < sizeof(dst->by_status) / sizeof(dst->by_status[0]); i++)
        dst->by_status[i] += src->by_status[i];
    for (size_t i = 0; i < GN_DENDRITE_LAT_BUCKETS; i++)
        dst->latency[i] += src->latency[i];
    dst->latency_sum += src->latency_sum;
    dst->conns_opened += src->conns_opened;
    dst->conns_reused += src->conns_reused;
    dst->conns_closed_idle += src->conns_closed_idle;
    dst->retries_stale += src->retries_stale;
    dst->signed_witness += src->signed_witness;
    dst->signed_whole += src->signed_whole;
}

/* The snapshot = earlier dendrites' counters + the live one's stats. */
static void refresh(gn_dendrite_actor_t *da)
{
    gn_dendrite_stats_t cur;
    if (da->d) {
        gn_dendrite_stats(da->d, &cur);
        stats_add(&cur, &da->base);
    } else {
        cur = da->base;
    }
    pthread_mutex_lock(&da->mu);
    da->snap = cur;
    pthread_mutex_unlock(&da->mu);
}

static void unlink_pending(gn_dendrite_actor_t *da, pending_t *p)
{
    for (pending_t **pp = &da->pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            return;
        }
}

static json_int_t status_of(const json_t *r)
{
    return json_integer_value(json_object_get(json_object_get(r, "dendrite"), "status_code"));
}

static void reply(gn_dendrite_actor_t *da, const gn_msg_t *req, int status, json_t *results,
                  const gn_dendrite_query_stats_t *st)
{
    gn_dendrite_result_msg_t *r = calloc(1, sizeof(*r));
    if (!r) {
        json_decref(results);
        return; /* the requester's deadline answers for us */
    }
    r->status = status;
    r->results = results;
    if (st)
        r->stats = *st;
    gn_msg_t *m = gn_msg_new(&GN_MSG_DENDRITE_RESULT, r);
    if (m) {
        m->status = status;
        gn_reply(da->self, req, m); /* a requester gone or full: m is destroyed */
    }
}

static void on_result(size_t idx, json_t *result, void *arg)
{
    pending_t *p = arg;
    gn_dendrite_partial_t *pt = calloc(1, sizeof(*pt));
    if (!pt)
        return;
    pt->corr = p->req.corr;
    pt->idx = idx;
    /* a copy: the final reply hands the dendrite's own objects over */
    pt->result = json_deep_copy(result);
    if (!pt->result) {
        free(pt);
        return;
    }
    gn_msg_t *m = gn_msg_new(&GN_MSG_DENDRITE_PARTIAL, pt);
    if (!m)
        return;
    m->sender = p->da->self;
    m->corr = p->req.corr;
    gn_post(p->req.reply_to, m);
}

/* A stream's piece: posted as it came. One the requester cannot take ends
 * the stream, since a stream with a hole in it is worth nothing. */
static void on_chunk(size_t idx, const void *data, size_t len, void *arg)
{
    pending_t *p = arg;
    (void)idx;
    if (p->dropped)
        return;
    gn_dendrite_chunk_t *c = malloc(sizeof(*c) + len);
    gn_msg_t *m = NULL;
    if (c) {
        c->corr = p->req.corr;
        c->seq = p->chunks;
        c->len = len;
        memcpy(c->data, data, len);
        m = gn_msg_new(&GN_MSG_DENDRITE_CHUNK, c); /* frees c when it fails */
    }
    if (m) {
        m->sender = p->da->self;
        m->corr = p->req.corr;
        if (gn_post(p->req.reply_to, m) == 0) {
            p->chunks++;
            return;
        }
    }
    p->dropped = 1;
    /* on_done runs inside and frees p: nothing of p after this */
    gn_dendrite_cancel(p->da->d, p->qid);
}

static void on_done(json_t *results, void *arg)
{
    pending_t *p = arg;
    gn_dendrite_actor_t *da = p->da;
    unlink_pending(da, p);
    gn_dendrite_query_stats_t st = {
        .n = json_array_size(results), .chunks = p->chunks, .chunks_dropped = p->dropped};
    for (size_t i = 0; i < st.n; i++) {
        json_int_t code = status_of(json_array_get(results, i));
        if (code == 200)
            st.ok++;
        else if (code == 408)
            st.timeouts++;
        else if (code == GN_DENDRITE_CANCELLED)
            st.cancelled++;
        else
            st.failed++;
    }
    st.elapsed_s = (double)(uv_hrtime() - p->t0_ns) / 1e9;
    /* The dendrite only drops its references after this (atomic counts):
     * the array and its synapses become the requester's. */
    reply(da, &p->req, 0, json_incref(results), &st);
    free(p);
    refresh(da);
}

static void start_query(gn_dendrite_actor_t *da, gn_msg_t *m, bool stream)
{
    const gn_dendrite_query_msg_t *q = m->payload;
    if (!m->reply_to)
        return; /* not sent with gn_request: nobody to answer */
    int rc = GN_EINVAL;
    if (!da->d)
        rc = GN_ECLOSED;
    else if (q && q->cls && q->synapse && (q->targets || q->n == 0) && (!stream || q->n == 1)) {
        pending_t *p = calloc(1, sizeof(*p));
        rc = GN_ENOMEM;
        if (p) {
            p->da = da;
            p->req = *m;
            p->req.payload = NULL;
            p->req.next = NULL;
            p->t0_ns = uv_hrtime();
            p->next = da->pending; /* before the call: callbacks may come inside it */
            da->pending = p;
            /* the dendrite copies targets and synapse: the payload stays the message's */
            rc = stream
                     ? gn_dendrite_stream(da->d, q->targets, q->cls, q->synapse, q->timeout_s,
                                          on_chunk, on_done, p, &p->qid)
                     : gn_dendrite_query(da->d, q->targets, q->n, q->cls, q->synapse, q->timeout_s,
                                         q->partials ? on_result : NULL, on_done, p, &p->qid);
            if (rc < 0) { /* no callback was called */
                unlink_pending(da, p);
                free(p);
            }
        }
    }
    if (rc < 0) {
        gn_dendrite_query_stats_t st = {.n = q ? q->n : 0};
        reply(da, m, rc, NULL, &st);
    }
}

static void cancel(gn_dendrite_actor_t *da, const gn_dendrite_cancel_msg_t *c)
{
    if (!c || !da->d)
        return;
    for (;;) {
        pending_t *p = da->pending;
        while (p && !(p->req.reply_to == c->requester && (!c->corr || p->req.corr == c->corr)))
            p = p->next;
        /* gn_dendrite_cancel calls on_done, which unlinks and frees p */
        if (!p || gn_dendrite_cancel(da->d, p->qid) < 0)
            return;
    }
}

static int handle(gn_actor_t *a, gn_msg_t *m)
{
    gn_dendrite_actor_t *da = gn_actor_state(a);
    if (m->is_reply)
        return 0;
    if (m->type == &GN_MSG_DENDRITE_QUERY || m->type == &GN_MSG_DENDRITE_STREAM)
        start_query(da, m, m->type == &GN_MSG_DENDRITE_STREAM);
    else if (m->type == &GN_MSG_DENDRITE_CANCEL)
        cancel(da, m->payload);
    else if (m->type == &REFRESH)
        refresh(da);
    return 0;
}

static int start(gn_actor_t *a)
{
    gn_dendrite_actor_t *da = gn_actor_state(a);
    da->self = a;
    int rc = gn_dendrite_new(gn_loop_uv(gn_actor_loop(a)), &da->opts, &da->d);
    if (rc < 0)
        return rc;
    da->timer_on = gn_actor_timer(a, REFRESH_MS, REFRESH_MS, &REFRESH, &da->timer) == 0;
    refresh(da);
    return 0;
}

static void stop(gn_actor_t *a)
{
    gn_dendrite_actor_t *da = gn_actor_state(a);
    if (da->timer_on)
        gn_actor_timer_stop(a, da->timer);
    da->timer_on = false;
    if (!da->d)
        return;
    gn_dendrite_t *d = da->d;
    /* Every query running is cancelled before this returns (its on_done
     * answers with 499s); the dendrite frees itself once its handles
     * have closed, which cannot happen before the loop turns again. */
    gn_dendrite_close(d, NULL, NULL);
    gn_dendrite_stats_t st;
    gn_dendrite_stats(d, &st);
    da->d = NULL;
    stats_add(&da->base, &st);
    refresh(da);
}

int gn_dendrite_actor_spawn(gn_loop_t *l, const gn_dendrite_opts_t *o, gn_dendrite_actor_t **out,
                            gn_actor_t **actor)
{
    if (!l || !o || !o->hotkey || !out || !actor ||
        (o->external_ip && strlen(o->external_ip) >= 64) || (o->uuid && strlen(o->uuid) >= 64))
        return GN_EINVAL;
    gn_dendrite_actor_t *da = calloc(1, sizeof(*da));
    if (!da)
        return GN_ENOMEM;
    da->opts = *o;
    da->kp = *o->hotkey;
    da->opts.hotkey = &da->kp;
    if (o->external_ip) {
        snprintf(da->ext_ip, sizeof(da->ext_ip), "%s", o->external_ip);
        da->opts.external_ip = da->ext_ip;
    }
    if (o->uuid) {
        snprintf(da->uuid, sizeof(da->uuid), "%s", o->uuid);
        da->opts.uuid = da->uuid;
    }
    pthread_mutex_init(&da->mu, NULL);
    static const gn_actor_spec_t spec = {
        .name = "dendrite", .handle = handle, .start = start, .stop = stop, .mailbox_cap = 4096};
    int rc = gn_actor_spawn(l, &spec, da, actor);
    if (rc < 0) {
        sodium_memzero(&da->kp, sizeof(da->kp));
        pthread_mutex_destroy(&da->mu);
        free(da);
        return rc;
    }
    *out = da;
    return 0;
}

void gn_dendrite_actor_stats(gn_dendrite_actor_t *da, gn_dendrite_stats_t *out)
{
    pthread_mutex_lock(&da->mu);
    *out = da->snap;
    pthread_mutex_unlock(&da->mu);
}

void gn_dendrite_actor_free(gn_dendrite_actor_t *da)
{
    if (!da)
        return;
    /* the loop's stop closed the dendrite (and answered every query);
     * an actor that never started has none */
    while (da->pending) {
        pending_t *p = da->pending;
        da->pending = p->next;
        free(p);
    }
    while (da->mirrors) {
        mirror_t *mr = da->mirrors;
        da->mirrors = mr->next;
        free(mr);
    }
    sodium_memzero(&da->kp, sizeof(da->kp));
    pthread_mutex_destroy(&da->mu);
    free(da);
}

/* ---- metrics ---- */

/* gn_metrics histograms only grow by observations: give this registry's
 * histogram what the dendrite's buckets gained since the last render,
 * each observation inside its bucket, their sum the latency sum gained
 * (the true latencies lie in those buckets, so such values exist). */
static void mirror_latency(gn_dendrite_actor_t *da, gn_metrics_t *m, const gn_dendrite_stats_t *st)
{
    enum { NB = GN_DENDRITE_LAT_BUCKETS };
    gn_histogram_t *h = gn_metrics_histogram(
        m, "ganglion_dendrite_latency_seconds", "Dendrite requests from start to result.",
        GN_DENDRITE_LAT_BOUNDS, NB - 1, NULL); /* the last bound is +Inf, implicit */
    if (!h)
        return;
    mirror_t *mr = da->mirrors;
    while (mr && mr->h != h)
        mr = mr->next;
    if (!mr) {
        if (!(mr = calloc(1, sizeof(*mr))))
            return;
        mr->h = h;
        mr->next = da->mirrors;
        da->mirrors = mr;
    }
    uint64_t c[NB];
    double lo[NB], hi[NB], g[NB], rest = st->latency_sum - mr->seen_sum;
    for (int i = 0; i < NB; i++) {
        c[i] = st->latency[i] > mr->seen[i] ? st->latency[i] - mr->seen[i] : 0;
        lo[i] = i == 0 ? 0 : nextafter(GN_DENDRITE_LAT_BOUNDS[i - 1], INFINITY);
        hi[i] = i < NB - 1 ? GN_DENDRITE_LAT_BOUNDS[i] : INFINITY;
        g[i] = (double)c[i] * lo[i];
        rest -= g[i];
    }
    for (int i = 0; i < NB && rest > 0; i++) {
        if (!c[i])
            continue;
        double room = (double)c[i] * (hi[i] - lo[i]), add = rest < room ? rest : room;
        g[i] += add;
        rest -= add;
    }
    for (int i = 0; i < NB; i++) {
        if (!c[i])
            continue;
        double v = g[i] / (double)c[i];
        v = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
        for (uint64_t k = 0; k < c[i]; k++)
            gn_histogram_observe(h, v);
        mr->seen[i] += c[i];
    }
    mr->seen_sum = st->latency_sum;
}

void gn_dendrite_metrics_collector(gn_metrics_t *m, void *dendrite_actor)
{
    gn_dendrite_actor_t *da = dendrite_actor;
    if (!m || !da)
        return;
    pthread_mutex_lock(&da->mu); /* one render at a time mirrors the histogram */
    const gn_dendrite_stats_t *st = &da->snap;
    for (int s = 0; s < (int)(sizeof(st->by_status) / sizeof(st->by_status[0])); s++) {
        if (!st->by_status[s])
            continue;
        char v[12];
        snprintf(v, sizeof(v), "%d", s);
        gn_counter_set(gn_metrics_counter(m, "ganglion_dendrite_requests_total",
                                          "Finished dendrite requests by dendrite.status_code.",
                                          "status", v, NULL),
                       st->by_status[s]);
    }
    static const char *const KINDS[3] = {"opened", "reused", "closed_idle"};
    const uint64_t conns[3] = {st->conns_opened, st->conns_reused, st->conns_closed_idle};
    for (int k = 0; k < 3; k++)
        gn_counter_set(gn_metrics_counter(m, "ganglion_dendrite_connections_total",
                                          "Dendrite connections opened, reused from the pool and "
                                          "closed after the idle timeout.",
                                          "kind", KINDS[k], NULL),
                       conns[k]);
    gn_counter_set(gn_metrics_counter(m, "ganglion_dendrite_stale_retries_total",
                                      "Requests retried because their pooled connection was "
                                      "closed by the server.",
                                      NULL),
                   st->retries_stale);
    uint64_t uses = st->conns_opened + st->conns_reused;
    gn_gauge_set(gn_metrics_gauge(m, "ganglion_dendrite_connection_reuse_ratio",
                                  "Requests sent on a pooled connection: reused / (opened + "
                                  "reused).",
                                  NULL),
                 uses ? (double)st->conns_reused / (double)uses : 0);
    gn_gauge_set(
        gn_metrics_gauge(m, "ganglion_dendrite_in_flight", "Dendrite requests on the wire.", NULL),
        st->in_flight);
    gn_gauge_set(gn_metrics_gauge(m, "ganglion_dendrite_waiting",
                                  "Dendrite requests waiting for a connection slot.", NULL),
                 st->waiting);
    gn_gauge_set(gn_metrics_gauge(m, "ganglion_dendrite_idle_connections",
                                  "Pooled dendrite connections idle.", NULL),
                 st->idle_conns);
    mirror_latency(da, m, st);
    pthread_mutex_unlock(&da->mu);
}
