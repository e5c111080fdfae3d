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
 * closing it.
 *
 * Building (§2, §3): a query makes one template, the request text of a
 * synapse whose per-target fields (axon ip, port, hotkey, nonce,
 * signature) hold sentinels, cut into literal pieces and holes; a request
 * is the pieces with its values, header_size, total_size and
 * Content-Length adjusted by the values' lengths. Targets whose values
 * would need escaping, and classes whose body hash is per target, are
 * built whole (prepare). Signing runs in jobs on the libuv thread pool
 * (a few at once) that write only their requests' wire, sig and sign_rc;
 * the loop thread reads those only after the job's after-work callback,
 * then starts the signed requests in target order. Results are built when
 * a request finishes (req_syn).
 *
 * Witnesses (gn_sr25519_witness): a pool refilled on the thread pool when
 * no signing job runs, taken one at a time under a mutex, each wiped as it
 * is used; a fork empties it (parent and child must not share one). */
#define _GNU_SOURCE /* memmem */
#include "ganglion/dendrite.h"
#include "ganglion/buf.h"

#include "ganglion/error.h"
#include "ganglion/ss58.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <locale.h>
#include <llhttp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef GN_VERSION
#define GN_VERSION "0"
#endif

const double GN_DENDRITE_LAT_BOUNDS[GN_DENDRITE_LAT_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 1e300};

typedef struct host host_t;
typedef struct conn conn_t;
typedef struct req req_t;
typedef struct query query_t;
typedef struct tmpl tmpl_t;
typedef struct job job_t;

#define INLINE_MAX   16 /* queries this small are signed on the loop thread */
#define JOB_REQS     16 /* requests per signing job */
#define REFILL_CHUNK 64 /* witnesses per refill job */
#define REFILL_JOBS  1  /* refill jobs at once: background work, the loop needs a core */
#define READ_BUF     65536
#define BLOCK        4096 /* a response's head or body starts in one of these */
#define BLOCKS_KEPT  256  /* ... kept for reuse: no large malloc per response */

struct conn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    gn_dendrite_t *d;
    host_t *h;
    req_t *req; /* the request it serves; NULL when idle or closing */
    llhttp_t p;
    char *wbuf; /* what uv_write still holds */
    bool reading, closing, idle, writing;
    uint64_t idle_since; /* uv_now ms */
    conn_t *prev, *next; /* the host's idle list */
};

struct host {
    char key[80]; /* "ip:port" of the target */
    uint32_t hash;
    unsigned active;
    conn_t *idle;
    host_t *next; /* in its bucket */
};

enum { R_NEW, R_READY, R_WAIT, R_CONN, R_SENT, R_DONE };

struct req {
    query_t *q;
    size_t idx;
    char ip[64], hotkey[64];
    char key[80]; /* "ip:port" */
    uint32_t key_hash;
    uint16_t port;
    uint64_t nonce;
    size_t tsize; /* total_size (§2.5), known before signing */
    json_t *syn;  /* the result: built when needed (req_syn) */
    char *wire;   /* the request's bytes, once signed */
    size_t wire_len;
    uint8_t sig[64];
    int sign_rc;
    bool is_signed, templated, used_witness;
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

/* The per-target values of a templated request, by hole. */
enum { H_IP, H_PORT, H_HOTKEY, H_NONCE, H_SIG, H_HSIZE, H_TSIZE, H_HOST, H_CLEN, H_N };
#define H_SENT 5 /* the holes with sentinels: IP..SIG */

typedef struct seg {
    uint32_t off, len; /* literal: text[off, off + len) */
    int hole;          /* -1: literal */
} seg_t;

struct tmpl {
    char *text;
    seg_t *segs;
    size_t nsegs, cap_segs, text_len, text_cap;
    bool oom;
    unsigned cnt_hdr[H_SENT];  /* occurrences in headers before header_size */
    unsigned cnt_body[H_SENT]; /* ... in the body */
    unsigned cnt_all[H_N];
    size_t hs_fixed, ts_fixed, body_fixed; /* header_size, total_size, body bytes less the holes */
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
    tmpl_t *tmpl;      /* NULL: every request built whole */
    json_t *rbase;     /* the templated results' common part */
    bool srv_result;   /* a 200's server synapse may become the result (req_response) */
    size_t next_start; /* requests start in target order: the first not started */
    unsigned jobs_out; /* signing jobs holding the query */
    uv_timer_t timer;
    bool timer_on, done_called, timer_closed;
    gn_dendrite_result_fn on_result;
    gn_dendrite_done_fn on_done;
    gn_dendrite_chunk_fn on_chunk;
    void *arg;
    query_t *next;
};

struct job {
    uv_work_t w;
    query_t *q;
    size_t first, n;
    job_t *next;
};

struct gn_dendrite {
    uv_loop_t *loop;
    gn_sr25519_keypair_t kp;
    gn_merlin_t sctx; /* the signing transcript's start, the same for every signature */
    char hotkey[64], uuid[64], ext_ip[64];
    bool has_ext;
    uint32_t version;
    unsigned max_conc, max_per;
    size_t max_body, max_header;
    uint64_t idle_ms;
    gn_dendrite_route_fn route;
    void *route_arg;
    uint64_t last_nonce, next_id;
    host_t **buckets; /* hosts by key */
    size_t nbuckets, nhosts;
    query_t *queries;
    req_t *wait_head, *wait_tail;
    unsigned active;
    uv_timer_t sweeper;
    unsigned handles; /* open handles and thread-pool jobs: sweeper, connections, query timers */
    bool closing, pumping, pump_again;
    void (*close_done)(void *);
    void *close_arg;
    gn_dendrite_stats_t st;
    char *rbuf; /* the read buffer: every read is handled before the next */
    char *blocks[BLOCKS_KEPT];
    size_t nblocks;
    /* signing */
    unsigned sign_jobs; /* at once; 0: sign on the loop thread */
    job_t *job_head, *job_tail;
    unsigned jobs_running;
    /* witnesses made ahead: wit[0, wn) under wmu */
    uv_mutex_t wmu;
    gn_sr25519_witness_t *wit;
    size_t wn, wcap;
    pid_t wpid;
    atomic_uint_fast64_t wctr; /* witnesses made (wit_random) */
    size_t wpending;           /* being made by refill jobs */
    unsigned refilling;        /* refill jobs running */
    uv_work_t *refill_w[REFILL_JOBS];
};

static void req_fail(req_t *r, int status, const char *msg);
static void req_start(req_t *r);
static void pump(gn_dendrite_t *d);
static void job_pump(gn_dendrite_t *d);
static void refill_maybe(gn_dendrite_t *d);

/* ---- small helpers ---- */

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* v in decimal into out (at least 21 bytes), NUL-terminated; its length.
 * Per request, where snprintf's cost shows. */
static size_t dec(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}

/* a, b, c concatenated into out (cap bytes, cut to fit); the length */
static size_t cat3(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    if (la + lb + lc >= cap) { /* never for the sizes used here */
        snprintf(out, cap, "%s%s%s", a, b, c);
        return strlen(out);
    }
    memcpy(out, a, la);
    memcpy(out + la, b, lb);
    memcpy(out + la + lb, c, lc + 1);
    return la + lb + lc;
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

/* syn's terminal info `side`, made when missing; NULL when syn is no
 * object (a result that could not be built): the setters then do nothing. */
static json_t *term_of(json_t *syn, const char *side)
{
    json_t *t = json_object_get(syn, side);
    if (!json_is_object(t) && json_is_object(syn)) {
        t = term_new();
        if (json_object_set_new(syn, side, t) < 0)
            t = NULL;
    }
    return json_is_object(t) ? t : NULL;
}

static void wit_wipe_all(gn_dendrite_t *d)
{
    if (d->wit)
        sodium_memzero(d->wit, d->wcap * sizeof(*d->wit));
    d->wn = 0;
}

static void maybe_free(gn_dendrite_t *d)
{
    if (!d->closing || d->handles)
        return;
    void (*done)(void *) = d->close_done;
    void *arg = d->close_arg;
    for (size_t b = 0; b < d->nbuckets; b++)
        while (d->buckets[b]) {
            host_t *h = d->buckets[b];
            d->buckets[b] = h->next;
            free(h);
        }
    free(d->buckets);
    free(d->rbuf);
    while (d->nblocks)
        free(d->blocks[--d->nblocks]);
    if (d->wit) {
        wit_wipe_all(d);
        sodium_free(d->wit);
    }
    uv_mutex_destroy(&d->wmu);
    sodium_memzero(&d->kp, sizeof(d->kp));
    free(d);
    if (done)
        done(arg);
}

/* ---- hosts and connections ---- */

static uint32_t key_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Twice the buckets when the hosts outnumber them twice (a query to
 * thousands of axons finds each in O(1)). */
static void hosts_grow(gn_dendrite_t *d)
{
    size_t nb = d->nbuckets ? d->nbuckets * 2 : 64;
    host_t **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < d->nbuckets; i++)
        while (d->buckets[i]) {
            host_t *h = d->buckets[i];
            d->buckets[i] = h->next;
            h->next = b[h->hash & (nb - 1)];
            b[h->hash & (nb - 1)] = h;
        }
    free(d->buckets);
    d->buckets = b;
    d->nbuckets = nb;
}

static host_t *host_get(gn_dendrite_t *d, const char *key, uint32_t hash)
{
    if (d->nbuckets)
        for (host_t *h = d->buckets[hash & (d->nbuckets - 1)]; h; h = h->next)
            if (h->hash == hash && !strcmp(h->key, key))
                return h;
    if (d->nhosts >= 2 * d->nbuckets)
        hosts_grow(d);
    if (!d->nbuckets)
        return NULL;
    host_t *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    snprintf(h->key, sizeof(h->key), "%s", key);
    h->hash = hash;
    host_t **bk = &d->buckets[hash & (d->nbuckets - 1)];
    h->next = *bk;
    *bk = h;
    d->nhosts++;
    return h;
}

static void host_maybe_free(gn_dendrite_t *d, host_t *h)
{
    if (h->active || h->idle || d->closing)
        return;
    for (host_t **pp = &d->buckets[h->hash & (d->nbuckets - 1)]; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            free(h);
            d->nhosts--;
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

static void tmpl_free(tmpl_t *t)
{
    if (!t)
        return;
    free(t->text);
    free(t->segs);
    free(t);
}

static char *block_get(gn_dendrite_t *d)
{
    return d->nblocks ? d->blocks[--d->nblocks] : malloc(BLOCK);
}

static void block_put(gn_dendrite_t *d, char *p, size_t cap)
{
    if (p && cap == BLOCK && d->nblocks < BLOCKS_KEPT)
        d->blocks[d->nblocks++] = p;
    else
        free(p);
}

static void query_free(query_t *q)
{
    for (size_t i = 0; i < q->n; i++) {
        json_decref(q->reqs[i].syn);
        free(q->reqs[i].wire);
    }
    free(q->reqs);
    json_decref(q->results);
    json_decref(q->rbase);
    tmpl_free(q->tmpl);
    free(q);
}

/* A finished query goes once its timer has closed and no signing job
 * still writes into its requests. */
static void query_maybe_free(query_t *q)
{
    if (!q->timer_closed || q->jobs_out)
        return;
    gn_dendrite_t *d = q->d;
    query_free(q);
    d->handles--;
    maybe_free(d);
}

static void query_timer_closed(uv_handle_t *hd)
{
    query_t *q = hd->data;
    q->timer_closed = true;
    query_maybe_free(q);
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

static void req_syn_terms(const req_t *r, json_t *s)
{
    json_t *den = term_of(s, "dendrite"), *ax = term_of(s, "axon");
    json_object_set_new(s, "total_size", json_integer((json_int_t)r->tsize));
    json_object_set_new(den, "nonce", json_integer((json_int_t)r->nonce));
    if (r->is_signed) {
        char sighex[131] = "0x";
        sodium_bin2hex(sighex + 2, 129, r->sig, 64);
        json_object_set_new(den, "signature", json_string(sighex));
    }
    json_object_set_new(ax, "ip", json_string(r->ip));
    json_object_set_new(ax, "port", json_integer(r->port));
    json_object_set_new(ax, "hotkey", json_string(r->hotkey));
}

/* The request's synapse as the SDK leaves it before the response: the
 * query's common part and this target's values (the signature once
 * signed). json_null() when out of memory: setters then do nothing. */
static json_t *req_syn(req_t *r)
{
    if (r->syn)
        return r->syn;
    json_t *s = json_deep_copy(r->q->rbase);
    if (s)
        req_syn_terms(r, s);
    r->syn = s ? s : json_null();
    return r->syn;
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
    block_put(d, r->hbuf, r->hcap);
    block_put(d, r->body, r->bcap);
    r->hbuf = r->body = NULL;
    r->hlen = r->hcap = r->blen = r->bcap = r->nh = 0;
    json_t *den = term_of(req_syn(r), "dendrite");
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
    json_t *den = term_of(req_syn(r), "dendrite");
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

/* ---- JSON bodies, fast ---- */

/* jansson's json_loadb reads a byte at a time through callbacks (a 1 kB
 * response took most of the loop thread's time per answer). This parser
 * reads the plain cases and gives up (NULL) on anything it is not sure
 * jansson reads the same way: errors (the caller then asks jansson, for
 * its verdict and its message), numbers out of range, depth, \u0000. */

typedef struct {
    const char *p, *end;
    int depth;
} jp_t;

static void jp_ws(jp_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static int jp_hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The length of the well-formed UTF-8 sequence at p (no overlongs, no
 * surrogates, at most U+10FFFF), 0 when it is not one. */
static size_t jp_utf8(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (!n || (size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return n;
}

static size_t jp_put_cp(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at j->p (after its opening quote) into *out (malloc'd when it
 * does not fit buf): its length, or -1. */
static ptrdiff_t jp_str(jp_t *j, char *buf, size_t cap, char **out)
{
    const unsigned char *p = (const unsigned char *)j->p, *end = (const unsigned char *)j->end;
    const unsigned char *q = p;
    while (q < end && *q != '"' && *q != '\\' && *q >= 0x20 && *q < 0x80)
        q++;
    /* the closing quote (escapes skipped): the decoded text is never
     * longer than the encoded */
    const unsigned char *close = q;
    while (close < end && *close != '"') {
        if (*close == '\\' && end - close < 2)
            return -1;
        close += *close == '\\' ? 2 : 1;
    }
    if (close >= end)
        return -1;
    size_t most = (size_t)(close - p);
    char *o = buf;
    if (most + 4 > cap && !(o = malloc(most + 4)))
        return -1;
    size_t k = (size_t)(q - p);
    memcpy(o, p, k);
    for (;;) {
        if (q >= end)
            goto fail;
        unsigned c = *q;
        if (c == '"')
            break;
        if (c < 0x20)
            goto fail;
        if (c < 0x80) {
            if (c != '\\') {
                o[k++] = (char)c;
                q++;
                continue;
            }
            if (end - q < 2)
                goto fail;
            unsigned e = q[1];
            q += 2;
            static const char ESC[] = "\"\\/bfnrt", MAP[] = "\"\\/\b\f\n\r\t";
            const char *simple = e ? strchr(ESC, (int)e) : NULL;
            if (simple) {
                o[k++] = MAP[simple - ESC];
                continue;
            }
            if (e != 'u' || end - q < 4)
                goto fail;
            int cp = jp_hex4((const char *)q);
            q += 4;
            if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                goto fail; /* \u0000, a lone low surrogate, bad hex: jansson's to judge */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - q < 6 || q[0] != '\\' || q[1] != 'u')
                    goto fail;
                int lo = jp_hex4((const char *)q + 2);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    goto fail;
                q += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            k += jp_put_cp(o + k, (unsigned)cp);
            continue;
        }
        size_t n = jp_utf8(q, end);
        if (!n)
            goto fail;
        memcpy(o + k, q, n);
        k += n;
        q += n;
    }
    j->p = (const char *)q + 1;
    *out = o;
    return (ptrdiff_t)k;
fail:
    if (o != buf)
        free(o);
    return -1;
}

static json_t *jp_value(jp_t *j);

static json_t *jp_number(jp_t *j)
{
    const char *s = j->p, *p = s;
    bool neg = false, real = false;
    if (p < j->end && *p == '-') {
        neg = true;
        p++;
    }
    const char *digits = p;
    while (p < j->end && *p >= '0' && *p <= '9')
        p++;
    size_t nd = (size_t)(p - digits);
    if (!nd || (nd > 1 && *digits == '0'))
        return NULL;
    if (p < j->end && *p == '.') {
        real = true;
        const char *f = ++p;
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
        if (p == f)
            return NULL;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        const char *e = p;
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
        if (p == e)
            return NULL;
    }
    j->p = p;
    if (!real) {
        if (nd > 19) /* does not fit: jansson says how */
            return NULL;
        uint64_t v = 0; /* 19 digits fit 64 bits */
        for (size_t i = 0; i < nd; i++)
            v = v * 10 + (uint64_t)(digits[i] - '0');
        if (v > (uint64_t)INT64_MAX + neg)
            return NULL;
        return json_integer(neg ? (json_int_t)(0 - v) : (json_int_t)v);
    }
    char tmp[64];
    size_t len = (size_t)(p - s);
    if (len >= sizeof(tmp) || localeconv()->decimal_point[0] != '.')
        return NULL;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    errno = 0;
    char *endp;
    double v = strtod(tmp, &endp);
    if (errno || endp != tmp + len) /* over- or underflow: jansson's rules */
        return NULL;
    return json_real(v);
}

static json_t *jp_object(jp_t *j)
{
    json_t *o = json_object();
    char kbuf[128];
    if (!o)
        return NULL;
    j->p++; /* { */
    jp_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return o;
    }
    for (;;) {
        if (j->p >= j->end || *j->p != '"')
            goto fail;
        j->p++;
        char *key;
        ptrdiff_t kl = jp_str(j, kbuf, sizeof(kbuf), &key);
        if (kl < 0)
            goto fail;
        jp_ws(j);
        json_t *v = NULL;
        if (j->p < j->end && *j->p == ':') {
            j->p++;
            jp_ws(j);
            v = jp_value(j);
        }
        int rc = v ? json_object_setn_new_nocheck(o, key, (size_t)kl, v) : -1;
        if (key != kbuf)
            free(key);
        if (rc < 0)
            goto fail;
        jp_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            jp_ws(j);
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return o;
        }
        goto fail;
    }
fail:
    json_decref(o);
    return NULL;
}

static json_t *jp_array(jp_t *j)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    j->p++; /* [ */
    jp_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return a;
    }
    for (;;) {
        json_t *v = jp_value(j);
        if (!v || json_array_append_new(a, v) < 0)
            goto fail;
        jp_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            jp_ws(j);
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return a;
        }
        goto fail;
    }
fail:
    json_decref(a);
    return NULL;
}

static bool jp_word(jp_t *j, const char *w, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
        return false;
    j->p += n;
    return true;
}

static json_t *jp_value(jp_t *j)
{
    if (j->p >= j->end || ++j->depth > 64)
        return NULL;
    json_t *v = NULL;
    char c = *j->p, sbuf[256];
    if (c == '{') {
        v = jp_object(j);
    } else if (c == '[') {
        v = jp_array(j);
    } else if (c == '"') {
        j->p++;
        char *str;
        ptrdiff_t n = jp_str(j, sbuf, sizeof(sbuf), &str);
        if (n >= 0) {
            v = json_stringn_nocheck(str, (size_t)n);
            if (str != sbuf)
                free(str);
        }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        v = jp_number(j);
    } else if (jp_word(j, "true", 4)) {
        v = json_true();
    } else if (jp_word(j, "false", 5)) {
        v = json_false();
    } else if (jp_word(j, "null", 4)) {
        v = json_null();
    }
    j->depth--;
    return v;
}

json_t *gn_dendrite_json_parse(const char *text, size_t len)
{
    jp_t j = {text, text + len, 0};
    jp_ws(&j);
    json_t *v = jp_value(&j);
    jp_ws(&j);
    if (v && j.p != j.end) { /* something after the value: jansson's error */
        json_decref(v);
        return NULL;
    }
    return v;
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

/* The terminal fields as gn_synapse_from_headers reads them (its TERM). */
static const struct {
    const char *name;
    char kind; /* 's' str, 'i' int, 'f' float */
} TERMF[10] = {
    {"status_code", 'i'}, {"status_message", 's'}, {"process_time", 'f'}, {"ip", 's'},
    {"port", 'i'},        {"version", 'i'},        {"nonce", 'i'},        {"uuid", 's'},
    {"hotkey", 's'},      {"signature", 's'},
};

static bool printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

/* A header value of a terminal field as pydantic reads it, when that is
 * plain: ASCII text, a decimal int, a simple decimal float. NULL: leave
 * it to gn_synapse_from_headers. */
static json_t *term_value(char kind, const char *v)
{
    if (!printable(v))
        return NULL;
    if (kind == 's')
        return json_string(v);
    const char *p = v + (*v == '-');
    size_t d = strspn(p, "0123456789");
    if (kind == 'i') {
        if (!d || d > 19 || p[d]) /* 19 digits: nonces */
            return NULL;
        errno = 0;
        long long x = strtoll(v, NULL, 10);
        return errno ? NULL : json_integer((json_int_t)x);
    }
    size_t k = d;
    if (p[k] == '.') {
        size_t f = strspn(p + k + 1, "0123456789");
        if (!f)
            return NULL;
        k += 1 + f;
    }
    if (p[k] == 'e' || p[k] == 'E') {
        size_t e = k + 1 + (p[k + 1] == '-' || p[k + 1] == '+');
        size_t x = strspn(p + e, "0123456789");
        if (!x || x > 3)
            return NULL;
        k = e + x;
    }
    if (!d || p[k] || k > 40)
        return NULL;
    errno = 0;
    double f = strtod(v, NULL);
    return errno ? NULL : json_real(f);
}

/* header_merge for responses whose terminal headers are all plain (each
 * "bt_header_{axon,dendrite}_<field>" once in its name, values as
 * term_value reads them; timeout, header_size and total_size plain
 * numbers): the same values, without building a synapse from the headers.
 * false: nothing was changed, use the general way. */
static bool header_merge_fast(req_t *r)
{
    static const char *const PAT[2] = {"bt_header_dendrite_", "bt_header_axon_"};
    static const char *const SIDES[2] = {"dendrite", "axon"};
    json_t *vals[2][10] = {{0}};
    bool ok = true;
    const char *p = r->hbuf;
    for (size_t i = 0; ok && i < r->nh; i++) {
        const char *name = p, *value = p + strlen(p) + 1;
        p = value + strlen(value) + 1;
        bool in[2] = {strstr(name, PAT[0]) != NULL, strstr(name, PAT[1]) != NULL};
        if (in[0] || in[1]) {
            int s = in[1] ? 1 : 0; /* the axon's pattern is looked for first */
            size_t pl = strlen(PAT[s]);
            const char *field = name + pl;
            if (strncmp(name, PAT[s], pl) || strstr(field, PAT[0]) || strstr(field, PAT[1]) ||
                !printable(name)) {
                ok = false;
                break;
            }
            for (int f = 0; f < 10; f++)
                if (!strcmp(field, TERMF[f].name)) {
                    json_t *v = term_value(TERMF[f].kind, value);
                    json_decref(vals[s][f]); /* a repeated header: the last one counts */
                    vals[s][f] = v;
                    ok = v != NULL;
                    break;
                }
            continue;
        }
        bool timeout = !strcmp(name, "timeout");
        if (timeout || !strcmp(name, "header_size") || !strcmp(name, "total_size")) {
            size_t d = strspn(value, "0123456789"), f = 0;
            if (value[d] == '.' && timeout) /* a float */
                f = 1 + strspn(value + d + 1, "0123456789");
            ok = d && d <= 15 && f != 1 && f <= 16 && !value[d + f];
        }
    }
    for (int s = 0; s < 2; s++) {
        json_t *dst = ok ? term_of(r->syn, SIDES[s]) : NULL;
        for (int f = 0; f < 10; f++)
            if (vals[s][f]) {
                if (dst)
                    json_object_set(dst, TERMF[f].name, vals[s][f]);
                json_decref(vals[s][f]);
            }
    }
    return ok;
}

/* §5.1 step 4: the response headers' terminal values over ours. */
static int header_merge(req_t *r)
{
    if (header_merge_fast(r))
        return 0;
    gn_header_t *hs = calloc(r->nh ? r->nh : 1, sizeof(*hs));
    if (!hs)
        return GN_ENOMEM;
    /* only what gn_synapse_from_headers reads for a plain Synapse: the
     * terminal infos, and timeout, header_size and total_size when they
     * might fail it (as they fail the SDK's from_headers); plain numbers
     * cannot, the rest it skips or drops anyway */
    const char *p = r->hbuf;
    size_t n = 0;
    for (size_t i = 0; i < r->nh; i++) {
        const char *name = p, *value = p + strlen(p) + 1;
        p = value + strlen(value) + 1;
        bool keep = strstr(name, "bt_header_axon_") || strstr(name, "bt_header_dendrite_");
        bool timeout = !strcmp(name, "timeout");
        if (!keep && (timeout || !strcmp(name, "header_size") || !strcmp(name, "total_size"))) {
            size_t d = strspn(value, "0123456789"), f = 0;
            if (value[d] == '.' && timeout) /* a float */
                f = 1 + strspn(value + d + 1, "0123456789");
            keep = !d || d > 15 || f == 1 || f > 16 || value[d + f];
        }
        if (!keep)
            continue;
        hs[n] = (gn_header_t){name, strlen(name), value, strlen(value)};
        n++;
    }
    json_t *tmp = NULL;
    int rc = gn_synapse_from_headers(&GN_SYN_SYNAPSE, hs, n, &tmp);
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
        json_t *body = gn_dendrite_json_parse(r->body ? r->body : "", r->blen);
        if (!body)
            body = json_loadb(r->body ? r->body : "", r->blen, JSON_DECODE_ANY, &je);
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
            if (!r->syn && r->templated && q->srv_result) {
                /* The merge below leaves the caller's synapse with the
                 * server's value of every key (both have the same keys)
                 * but the frozen ones: the server's synapse with those
                 * put back is that result, without building ours first. */
                for (size_t i = 0; i < q->cls->n_fields; i++)
                    if (q->cls->fields[i].frozen)
                        json_object_set(srv, q->cls->fields[i].name,
                                        json_object_get(q->rbase, q->cls->fields[i].name));
                json_object_set(srv, "computed_body_hash",
                                json_object_get(q->rbase, "computed_body_hash"));
                r->syn = srv;
            } else {
                json_t *syn = req_syn(r);
                const char *k;
                json_t *v;
                json_object_foreach (srv, k, v)
                    if (json_object_get(syn, k) && !field_frozen(q->cls, k))
                        json_object_set(syn, k, v);
                json_decref(srv);
            }
        } else {
            json_t *ax = term_of(req_syn(r), "axon");
            json_object_set_new(ax, "status_code", json_integer(r->status));
            json_t *msg = json_is_object(body) ? json_object_get(body, "message") : NULL;
            json_object_set(ax, "status_message", msg ? msg : json_null());
            json_decref(body);
        }
    } else {
        json_t *ax = term_of(req_syn(r), "axon");
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
    if (!r->hcap && r->hlen + len + 1 <= BLOCK && (r->hbuf = block_get(r->q->d)))
        r->hcap = BLOCK;
    char *n = gn_buf_grow(r->hbuf, &r->hcap, r->hlen + len + 1, BLOCK, 0);
    if (!n)
        return -1;
    r->hbuf = n;
    char *o = r->hbuf + r->hlen;
    if (lower) {
        for (size_t i = 0; i < len; i++)
            o[i] = at[i] >= 'A' && at[i] <= 'Z' ? (char)(at[i] + 32) : at[i];
    } else {
        memcpy(o, at, len);
    }
    r->hlen += len;
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
    if (!r->bcap && r->blen + len + 1 <= BLOCK && max + 1 >= BLOCK &&
        (r->body = block_get(r->q->d)))
        r->bcap = BLOCK;
    char *n = gn_buf_grow(r->body, &r->bcap, r->blen + len + 1, BLOCK, max + 1);
    if (!n) {
        r->too_big = true;
        return -1;
    }
    r->body = n;
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
    /* a server may answer before it has read all of ours: such a
     * connection is not reused while our write is still queued */
    bool keep = !leftover && !c->writing && llhttp_should_keep_alive(&c->p) && !c->d->closing;
    r->c = NULL;
    if (keep) {
        to_idle(c);
    } else {
        c->req = NULL;
        conn_close(c);
    }
    req_response(r);
}

/* One buffer for every read: libuv hands each read to read_cb, which is
 * done with it, before it asks for the next. */
static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    conn_t *c = h->data;
    (void)sz;
    b->base = c->d->rbuf;
    b->len = READ_BUF;
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
        return;
    }
    if (n < 0) {
        on_eof(c, n);
        return;
    }
    req_t *r = c->req;
    if (!r) { /* bytes nobody asked for on an idle connection */
        conn_close(c);
        return;
    }
    r->got_bytes = true;
    llhttp_errno_t e = llhttp_execute(&c->p, b->base, (size_t)n);
    if (c->req != r || r->state == R_DONE) { /* failed from a callback */
        return;
    }
    if (e == HPE_PAUSED && r->complete) {
        const char *ep = llhttp_get_error_pos(&c->p);
        bool leftover = ep && ep < b->base + n;
        on_complete(c, leftover);
        return;
    }
    char m[512];
    if (e != HPE_OK) {
        const char *reason = llhttp_get_error_reason(&c->p);
        snprintf(m, sizeof(m), "%s", reason ? reason : llhttp_errno_name(e));
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
}

/* Our bytes could not go out on c. A pooled connection the server has
 * closed is retried once on a fresh one (nothing of ours was processed). */
static void send_failed(conn_t *c, req_t *r, int status)
{
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

static void write_cb(uv_write_t *w, int status)
{
    conn_t *c = w->data;
    free(c->wbuf);
    c->wbuf = NULL;
    c->writing = false;
    if (status < 0 && c->req && !c->closing)
        send_failed(c, c->req, status);
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
    if (!c->reading) {
        c->reading = true;
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    }
    /* mostly the whole request fits the socket at once: no copy, no queue */
    uv_buf_t b = uv_buf_init(r->wire, (unsigned)r->wire_len);
    int k = c->writing ? UV_EAGAIN : uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (k == (int)r->wire_len)
        return;
    if (k < 0 && k != UV_EAGAIN) {
        send_failed(c, r, k);
        return;
    }
    size_t done = k > 0 ? (size_t)k : 0;
    /* the rest is queued from a copy: r may finish before the write does */
    c->wbuf = malloc(r->wire_len - done);
    if (!c->wbuf) {
        req_fail(r, 422, "Failed to parse response: out of memory");
        return;
    }
    memcpy(c->wbuf, r->wire + done, r->wire_len - done);
    b = uv_buf_init(c->wbuf, (unsigned)(r->wire_len - done));
    c->wreq.data = c;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, write_cb);
    if (rc < 0) {
        free(c->wbuf);
        c->wbuf = NULL;
        send_failed(c, r, rc);
        return;
    }
    c->writing = true;
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
    host_t *h = host_get(d, r->key, r->key_hash);
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
    for (size_t b = 0; b < d->nbuckets; b++)
        for (host_t *h = d->buckets[b], *hn; h; h = hn) {
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

/* A request built whole, on the loop thread: for targets and classes the
 * template cannot serve. */
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
    uint64_t nonce = r->nonce;
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
    d->st.signed_whole++;
    memcpy(r->sig, sig, 64);
    r->is_signed = true;
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
    r->tsize = tsize;
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

/* ---- the query's template (see the top) ---- */

#define SENT_PREFIX "gNhOlE7"
static const char *const SENTINEL[H_SENT] = {"gNhOlE7ip", "gNhOlE7port", "gNhOlE7hotkey",
                                             "gNhOlE7nonce", "gNhOlE7sig"};
static const bool NUMERIC[H_SENT] = {false, true, false, true, false}; /* JSON ints in the body */

static void tm_lit(tmpl_t *t, const char *p, size_t len)
{
    if (!len || t->oom)
        return;
    char *text = gn_buf_grow(t->text, &t->text_cap, t->text_len + len, 4096, 0);
    if (!text) {
        t->oom = true;
        return;
    }
    t->text = text;
    memcpy(t->text + t->text_len, p, len);
    seg_t *last = t->nsegs ? &t->segs[t->nsegs - 1] : NULL;
    if (last && last->hole < 0 && last->off + last->len == t->text_len) {
        last->len += (uint32_t)len; /* one literal piece */
        t->text_len += len;
        return;
    }
    t->text_len += len;
    if (t->nsegs == t->cap_segs) {
        size_t cap = t->cap_segs ? t->cap_segs * 2 : 32;
        seg_t *n = realloc(t->segs, cap * sizeof(*n));
        if (!n) {
            t->oom = true;
            return;
        }
        t->segs = n;
        t->cap_segs = cap;
    }
    t->segs[t->nsegs++] = (seg_t){(uint32_t)(t->text_len - len), (uint32_t)len, -1};
}

static void tm_lits(tmpl_t *t, const char *p)
{
    tm_lit(t, p, strlen(p));
}

static void tm_hole(tmpl_t *t, int hole)
{
    if (t->oom)
        return;
    if (t->nsegs == t->cap_segs) {
        size_t cap = t->cap_segs ? t->cap_segs * 2 : 32;
        seg_t *n = realloc(t->segs, cap * sizeof(*n));
        if (!n) {
            t->oom = true;
            return;
        }
        t->segs = n;
        t->cap_segs = cap;
    }
    t->segs[t->nsegs++] = (seg_t){0, 0, hole};
    t->cnt_all[hole]++;
}

/* s[lo, hi) as literal pieces and sentinel holes; in the body (quoted) a
 * numeric hole takes the quotes around its sentinel along. cnt counts
 * the holes, *removed the template bytes they replace. GN_EINVAL: the
 * prefix where no sentinel is (the synapse itself holds such text). */
static int tm_scan(tmpl_t *t, const char *s, size_t lo, size_t hi, bool quoted,
                   unsigned cnt[H_SENT], size_t *removed)
{
    const size_t PL = sizeof(SENT_PREFIX) - 1;
    size_t i = lo;
    while (i < hi) {
        const char *p = memmem(s + i, hi - i, SENT_PREFIX, PL);
        if (!p) {
            tm_lit(t, s + i, hi - i);
            break;
        }
        size_t at = (size_t)(p - s), len = 0;
        int h = -1;
        for (int k = 0; k < H_SENT && h < 0; k++) {
            len = strlen(SENTINEL[k]);
            if (hi - at >= len && !memcmp(p, SENTINEL[k], len))
                h = k;
        }
        if (h < 0)
            return GN_EINVAL;
        size_t from = at, to = at + len;
        if (quoted && NUMERIC[h]) {
            if (from <= lo || to >= hi || s[from - 1] != '"' || s[to] != '"')
                return GN_EINVAL;
            from--;
            to++;
        }
        tm_lit(t, s + i, from - i);
        tm_hole(t, h);
        cnt[h]++;
        *removed += to - from;
        i = to;
    }
    return 0;
}

/* The synapse every templated request starts from (rbase: the results'
 * common part) and the template of their bytes. GN_EINVAL: this query's
 * synapse cannot be templated (its requests are then built whole). */
static int tmpl_build(gn_dendrite_t *d, query_t *q, const json_t *base, json_t **rbase_out,
                      tmpl_t **out)
{
    json_t *rb = json_deep_copy(base), *s = NULL, *den = term_new(), *ax = term_new();
    tmpl_t *t = calloc(1, sizeof(*t));
    char *body = NULL;
    gn_header_t *hs = NULL;
    size_t nh = 0;
    int rc = GN_ENOMEM;
    if (!rb || !t || !den || !ax) {
        json_decref(den);
        json_decref(ax);
        goto fail;
    }
    json_object_set_new(rb, "timeout", json_real(q->timeout));
    json_object_set_new(rb, "total_size", json_integer(0));
    json_object_set_new(rb, "header_size", json_integer(0));
    json_object_set_new(rb, "computed_body_hash", json_string(""));
    if (d->has_ext)
        json_object_set_new(den, "ip", json_string(d->ext_ip));
    json_object_set_new(den, "version", json_integer(d->version));
    json_object_set_new(den, "uuid", json_string(d->uuid));
    json_object_set_new(den, "hotkey", json_string(d->hotkey));
    json_object_set_new(rb, "dendrite", den);
    json_object_set_new(rb, "axon", ax);
    if (!(s = json_deep_copy(rb)))
        goto fail;
    json_t *sd = json_object_get(s, "dendrite"), *sa = json_object_get(s, "axon");
    json_object_set_new(sd, "nonce", json_string(SENTINEL[H_NONCE]));
    json_object_set_new(sd, "signature", json_string(SENTINEL[H_SIG]));
    json_object_set_new(sa, "ip", json_string(SENTINEL[H_IP]));
    json_object_set_new(sa, "port", json_string(SENTINEL[H_PORT]));
    json_object_set_new(sa, "hotkey", json_string(SENTINEL[H_HOTKEY]));
    size_t blen, tsz, ts_off, ts_len;
    if (!(body = gn_synapse_json_python_ex(s, &blen, &tsz, &ts_off, &ts_len)))
        goto fail;
    if ((rc = gn_synapse_headers_ex(q->cls, s, q->hash, &tsz, &hs, &nh)) < 0)
        goto fail;
    rc = GN_EINVAL;
    tm_lits(t, "POST /");
    tm_lits(t, q->cls->name);
    tm_lits(t, " HTTP/1.1\r\nHost: ");
    tm_hole(t, H_HOST);
    tm_lits(t, "\r\n");
    unsigned after[H_SENT] = {0};
    size_t removed = 0, removed_after = 0, hsize = 0;
    bool before = true;
    for (size_t i = 0; i < nh; i++) {
        tm_lit(t, hs[i].name, hs[i].name_len);
        tm_lits(t, ": ");
        if (!strcmp(hs[i].name, "header_size")) {
            tm_hole(t, H_HSIZE);
            hsize = strtoull(hs[i].value, NULL, 10);
            before = false;
        } else if (!strcmp(hs[i].name, "total_size")) {
            tm_hole(t, H_TSIZE);
        } else if (tm_scan(t, hs[i].value, 0, hs[i].value_len, false, before ? t->cnt_hdr : after,
                           before ? &removed : &removed_after) < 0) {
            goto fail;
        }
        tm_lits(t, "\r\n");
    }
    tm_lits(t, "Accept: */*\r\nUser-Agent: ganglion/" GN_VERSION
               "\r\nContent-Type: application/json\r\nContent-Length: ");
    tm_hole(t, H_CLEN);
    tm_lits(t, "\r\n\r\n");
    if (hsize < removed)
        goto fail;
    t->hs_fixed = hsize - removed;
    removed = 0;
    if (!ts_len || tm_scan(t, body, 0, ts_off, true, t->cnt_body, &removed) < 0)
        goto fail;
    tm_hole(t, H_TSIZE);
    if (tm_scan(t, body, ts_off + ts_len, blen, true, t->cnt_body, &removed) < 0)
        goto fail;
    t->ts_fixed = tsz - removed;
    t->body_fixed = blen - ts_len - removed;
    /* each value once in the headers (before header_size) and once in the body */
    for (int h = 0; h < H_SENT; h++)
        if (t->cnt_hdr[h] != 1 || t->cnt_body[h] != 1 || after[h])
            goto fail;
    if (t->cnt_all[H_HSIZE] != 1 || t->cnt_all[H_TSIZE] != 2)
        goto fail;
    if (t->oom) {
        rc = GN_ENOMEM;
        goto fail;
    }
    *rbase_out = rb;
    *out = t;
    json_decref(s);
    free(body);
    free(hs);
    return 0;
fail:
    json_decref(rb);
    json_decref(s);
    free(body);
    free(hs);
    tmpl_free(t);
    return rc;
}

/* Values a template takes as they are: printable ASCII with nothing JSON
 * or a header would escape (IPs, SS58). */
static bool plain(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    return true;
}

typedef struct {
    const char *v[H_N];
    size_t len[H_N];
    char port[24], nonce[24], hsize[24], tsize[24], clen[24], host[96];
} vals_t;

/* The sentinel holes' values of r (the signature as its hex text). */
static void vals_of(const req_t *r, const char *sighex, vals_t *v)
{
    v->v[H_IP] = r->ip;
    v->len[H_IP] = strlen(r->ip);
    v->len[H_PORT] = dec(v->port, r->port);
    v->v[H_PORT] = v->port;
    v->v[H_HOTKEY] = r->hotkey;
    v->len[H_HOTKEY] = strlen(r->hotkey);
    v->len[H_NONCE] = dec(v->nonce, r->nonce);
    v->v[H_NONCE] = v->nonce;
    v->v[H_SIG] = sighex;
    v->len[H_SIG] = 130; /* "0x" + 128 hex digits */
}

/* total_size (§2.5): the compact body's length with total_size 0. */
static size_t tm_tsize(const tmpl_t *t, const vals_t *v)
{
    size_t n = t->ts_fixed;
    for (int h = 0; h < H_SENT; h++)
        n += t->cnt_body[h] * v->len[h];
    return n;
}

static int fill_wire(const query_t *q, req_t *r, const char *sighex)
{
    const tmpl_t *t = q->tmpl;
    vals_t v;
    vals_of(r, sighex, &v);
    size_t hsize = t->hs_fixed, blen = t->body_fixed;
    for (int h = 0; h < H_SENT; h++) {
        hsize += t->cnt_hdr[h] * v.len[h];
        blen += t->cnt_body[h] * v.len[h];
    }
    v.len[H_HSIZE] = dec(v.hsize, hsize);
    v.v[H_HSIZE] = v.hsize;
    v.len[H_TSIZE] = dec(v.tsize, r->tsize);
    v.v[H_TSIZE] = v.tsize;
    blen += v.len[H_TSIZE];
    v.len[H_CLEN] = dec(v.clen, blen);
    v.v[H_CLEN] = v.clen;
    bool v6 = strchr(r->ip, ':') != NULL;
    size_t hl = cat3(v.host, sizeof(v.host) - 8, v6 ? "[" : "", r->ip, v6 ? "]:" : ":");
    v.len[H_HOST] = hl + dec(v.host + hl, r->port);
    v.v[H_HOST] = v.host;
    size_t total = t->text_len;
    for (int h = 0; h < H_N; h++)
        total += t->cnt_all[h] * v.len[h];
    char *w = malloc(total);
    if (!w)
        return GN_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < t->nsegs; i++) {
        const seg_t *sg = &t->segs[i];
        const char *src = sg->hole < 0 ? t->text + sg->off : v.v[sg->hole];
        size_t len = sg->hole < 0 ? sg->len : v.len[sg->hole];
        memcpy(w + k, src, len);
        k += len;
    }
    r->wire = w;
    r->wire_len = k;
    return 0;
}

/* ---- signing (any thread) ---- */

/* A witness's randomness: fresh random bytes, with a count, the time and
 * the pid mixed in. With a sound RNG that changes nothing; with a broken
 * one (a constant) no two witnesses of a key still share an r, which
 * unlike gn_sr25519_sign's cannot depend on the message. Any thread. */
static void wit_random(gn_dendrite_t *d, uint8_t rnd[32])
{
    randombytes_buf(rnd, 32);
    uint64_t mix[3] = {atomic_fetch_add(&d->wctr, 1), wall_ns(), (uint64_t)getpid()};
    for (size_t i = 0; i < sizeof(mix); i++)
        rnd[i] ^= ((const uint8_t *)mix)[i];
}

/* A witness made ahead, taken out of the pool (moved: its slot is wiped). */
static bool wit_take(gn_dendrite_t *d, gn_sr25519_witness_t *w)
{
    if (!d->wcap)
        return false;
    bool ok = false;
    uv_mutex_lock(&d->wmu);
    if (d->wpid != getpid()) { /* a forked child: the parent holds the same ones */
        wit_wipe_all(d);
    } else if (d->wn) {
        d->wn--;
        *w = d->wit[d->wn];
        sodium_memzero(&d->wit[d->wn], sizeof(*w));
        ok = true;
    }
    uv_mutex_unlock(&d->wmu);
    return ok;
}

/* Sign a templated request and write its bytes: reads only what the loop
 * thread does not change while the request is being signed, writes only
 * r->sig, wire, wire_len, used_witness, sign_rc. */
static void sign_one(gn_dendrite_t *d, req_t *r)
{
    const query_t *q = r->q;
    char msg[512];
    int rc = gn_synapse_message(r->nonce, d->hotkey, r->hotkey, d->uuid, q->hash, msg, sizeof(msg));
    if (rc >= 0) {
        size_t ml = (size_t)rc;
        gn_sr25519_witness_t w;
        r->used_witness = wit_take(d, &w);
        if (!r->used_witness) {
            /* made now: still cheaper than gn_sr25519_sign's transcript RNG */
            uint8_t rnd[32];
            wit_random(d, rnd);
            rc = gn_sr25519_witness(&d->kp, rnd, &w);
            sodium_memzero(rnd, sizeof(rnd));
        }
        if (rc >= 0)
            rc =
                gn_sr25519_sign_witness_ctx(&d->sctx, &d->kp, (const uint8_t *)msg, ml, &w, r->sig);
        sodium_memzero(&w, sizeof(w)); /* when signing failed */
    }
    if (rc >= 0) {
        char sighex[131] = "0x";
        sodium_bin2hex(sighex + 2, 129, r->sig, 64);
        rc = fill_wire(q, r, sighex);
    }
    r->sign_rc = rc < 0 ? rc : 0;
}

/* On the loop thread: a templated request's signing is over. */
static void signed_one(req_t *r)
{
    gn_dendrite_t *d = r->q->d;
    if (r->sign_rc == 0) {
        if (r->used_witness)
            d->st.signed_witness++;
        else
            d->st.signed_whole++;
    }
    if (r->state != R_NEW) /* finished meanwhile (deadline, cancel) */
        return;
    if (r->sign_rc < 0) {
        char m[128];
        snprintf(m, sizeof(m), "Failed to parse response: could not sign the request: %s",
                 gn_strerror(r->sign_rc));
        req_fail(r, 422, m);
        return;
    }
    r->is_signed = true;
    r->state = R_READY;
}

/* Start the signed requests in target order, up to the first unsigned. */
static void start_ready(query_t *q)
{
    while (!q->done_called && q->next_start < q->n) {
        req_t *r = &q->reqs[q->next_start];
        if (r->state == R_NEW)
            break;
        q->next_start++;
        if (r->state == R_READY)
            req_start(r);
    }
}

static void job_work(uv_work_t *w)
{
    job_t *j = w->data;
    for (size_t i = 0; i < j->n; i++) {
        req_t *r = &j->q->reqs[j->first + i];
        if (r->templated)
            sign_one(j->q->d, r);
    }
}

static void job_done(uv_work_t *w, int status)
{
    job_t *j = w->data;
    query_t *q = j->q;
    gn_dendrite_t *d = q->d;
    d->jobs_running--;
    for (size_t i = 0; i < j->n; i++) {
        req_t *r = &q->reqs[j->first + i];
        if (!r->templated)
            continue;
        if (status < 0) /* cancelled before it ran: only when the query is over */
            r->sign_rc = status;
        signed_one(r);
    }
    free(j);
    q->jobs_out--;
    d->handles--;
    start_ready(q);
    query_maybe_free(q); /* nothing of q after this */
    job_pump(d);
    refill_maybe(d);
    maybe_free(d);
}

static void job_drop(gn_dendrite_t *d, job_t *j)
{
    query_t *q = j->q;
    free(j);
    q->jobs_out--;
    d->handles--;
    query_maybe_free(q);
}

/* Submit queued signing jobs, a few at once (the loop thread writes while
 * they sign: more would only crowd the cores). */
static void job_pump(gn_dendrite_t *d)
{
    while (d->job_head && d->jobs_running < d->sign_jobs) {
        job_t *j = d->job_head;
        d->job_head = j->next;
        if (!d->job_head)
            d->job_tail = NULL;
        if (d->closing || j->q->done_called) { /* nothing left to sign for */
            job_drop(d, j);
            continue;
        }
        j->w.data = j;
        d->jobs_running++;
        if (uv_queue_work(d->loop, &j->w, job_work, job_done) < 0) {
            job_work(&j->w); /* cannot happen (uv_queue_work checks its arguments) */
            job_done(&j->w, 0);
        }
    }
}

static int job_add(gn_dendrite_t *d, query_t *q, size_t first, size_t n)
{
    job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return GN_ENOMEM;
    j->q = q;
    j->first = first;
    j->n = n;
    q->jobs_out++;
    d->handles++;
    if (d->job_tail)
        d->job_tail->next = j;
    else
        d->job_head = j;
    d->job_tail = j;
    return 0;
}

/* Sign requests [from, to) on the loop thread, each sent as soon as it
 * is signed. */
static void sign_here(query_t *q, size_t from, size_t to)
{
    for (size_t i = from; i < to && !q->done_called; i++) {
        req_t *r = &q->reqs[i];
        if (r->templated && r->state == R_NEW) {
            sign_one(q->d, r);
            signed_one(r);
        }
        start_ready(q);
    }
}

/* ---- witnesses made ahead (thread pool) ---- */

typedef struct refill {
    uv_work_t w;
    gn_dendrite_t *d;
    size_t want;
    int slot;
} refill_t;

static void refill_work(uv_work_t *w)
{
    refill_t *rf = w->data;
    gn_dendrite_t *d = rf->d;
    gn_sr25519_witness_t made[REFILL_CHUNK];
    uint8_t rnd[REFILL_CHUNK][32];
    for (size_t i = 0; i < rf->want; i++)
        wit_random(d, rnd[i]);
    size_t k = 0;
    while (k < rf->want && gn_sr25519_witness(&d->kp, rnd[k], &made[k]) == 0)
        k++;
    uv_mutex_lock(&d->wmu);
    pid_t pid = getpid();
    if (d->wpid != pid) {
        wit_wipe_all(d);
        d->wpid = pid;
    }
    for (size_t i = 0; i < k && d->wn < d->wcap; i++)
        d->wit[d->wn++] = made[i];
    uv_mutex_unlock(&d->wmu);
    sodium_memzero(made, sizeof(made));
    sodium_memzero(rnd, sizeof(rnd));
}

static void refill_done(uv_work_t *w, int status)
{
    refill_t *rf = w->data;
    gn_dendrite_t *d = rf->d;
    (void)status;
    d->refill_w[rf->slot] = NULL;
    d->wpending -= rf->want;
    d->refilling--;
    free(rf);
    d->handles--;
    refill_maybe(d);
    maybe_free(d);
}

/* Make witnesses while no signing job runs, until the pool is full. */
static void refill_maybe(gn_dendrite_t *d)
{
    while (d->wcap && !d->closing && !d->jobs_running && !d->job_head &&
           d->refilling < REFILL_JOBS) {
        uv_mutex_lock(&d->wmu);
        size_t room = d->wcap - d->wn;
        uv_mutex_unlock(&d->wmu);
        if (room <= d->wpending)
            return;
        room -= d->wpending;
        refill_t *rf = calloc(1, sizeof(*rf));
        if (!rf)
            return;
        rf->d = d;
        rf->want = room < REFILL_CHUNK ? room : REFILL_CHUNK;
        rf->w.data = rf;
        while (d->refill_w[rf->slot])
            rf->slot++;
        if (uv_queue_work(d->loop, &rf->w, refill_work, refill_done) < 0) {
            free(rf);
            return;
        }
        d->refill_w[rf->slot] = &rf->w;
        d->wpending += rf->want;
        d->refilling++;
        d->handles++;
    }
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
    /* one template for the query, unless the hash is per target or the
     * synapse gets in the way of the sentinels: then built whole */
    if (q->has_hash && tmpl_build(d, q, base, &q->rbase, &q->tmpl) < 0)
        q->tmpl = NULL;
    q->srv_result = true; /* unless a frozen field is one the request sets per target */
    for (size_t i = 0; i < cls->n_fields; i++) {
        static const char *const PER[] = {"timeout",  "total_size", "header_size",
                                          "dendrite", "axon",       "computed_body_hash",
                                          "name"};
        for (size_t j = 0; j < sizeof(PER) / sizeof(PER[0]); j++)
            if (cls->fields[i].frozen && !strcmp(cls->fields[i].name, PER[j]))
                q->srv_result = false;
    }
    q->on_result = on_result;
    q->on_chunk = on_chunk;
    q->on_done = on_done;
    q->arg = arg;
    uint64_t t0 = uv_hrtime();
    static const char NO_SIG[131] = "0x";
    for (size_t i = 0; i < n && rc == 0; i++) {
        req_t *r = &reqs[i];
        r->q = q;
        r->idx = i;
        memcpy(r->ip, targets[i].ip, strlen(targets[i].ip) + 1); /* < 64: checked above */
        memcpy(r->hotkey, targets[i].hotkey, strlen(targets[i].hotkey) + 1);
        r->port = targets[i].port;
        size_t kl = cat3(r->key, sizeof(r->key) - 8, r->ip, ":", "");
        dec(r->key + kl, r->port);
        r->key_hash = key_hash(r->key);
        r->start_ns = t0;
        /* wall-clock ns, strictly increasing (§3.4), in target order */
        uint64_t nonce = wall_ns();
        r->nonce = nonce > d->last_nonce ? nonce : d->last_nonce + 1;
        d->last_nonce = r->nonce;
        r->templated = q->tmpl && plain(r->ip) && plain(r->hotkey);
        if (r->templated) {
            vals_t v;
            vals_of(r, NO_SIG, &v);
            r->tsize = tm_tsize(q->tmpl, &v);
        } else if ((rc = prepare(d, q, r, base)) == 0) {
            r->state = R_READY;
        }
        if (rc == 0 && json_array_append_new(results, json_null()) < 0)
            rc = GN_ENOMEM;
    }
    json_decref(base);
    if (rc < 0) {
        query_free(q);
        return rc;
    }
    q->id = ++d->next_id;
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
    if (d->sign_jobs == 0 || n <= INLINE_MAX) {
        sign_here(q, 0, n);
    } else {
        /* the jobs sign all but the first requests, which go out from
         * here meanwhile (the loop thread would only wait for the first
         * job); what no job took (out of memory) is signed here too */
        size_t i = JOB_REQS;
        for (; i < n; i += JOB_REQS)
            if (job_add(d, q, i, n - i < JOB_REQS ? n - i : JOB_REQS) < 0)
                break;
        job_pump(d);
        sign_here(q, 0, JOB_REQS);
        sign_here(q, i, n);
    }
    refill_maybe(d);
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
    if (d->wcap) {
        uv_mutex_lock((uv_mutex_t *)&d->wmu);
        out->witnesses = (unsigned)d->wn;
        uv_mutex_unlock((uv_mutex_t *)&d->wmu);
    }
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
    gn_sr25519_context(&d->sctx);
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
    d->sign_jobs = o->sign_threads < 0 ? 0 : o->sign_threads ? (unsigned)o->sign_threads : 2;
    d->wcap = o->witness_pool < 0 ? 0 : o->witness_pool ? (size_t)o->witness_pool : 1024;
    d->rbuf = malloc(READ_BUF);
    d->wit = d->wcap ? sodium_malloc(d->wcap * sizeof(*d->wit)) : NULL;
    if (!d->rbuf || (d->wcap && !d->wit) || uv_mutex_init(&d->wmu) != 0) {
        free(d->rbuf);
        if (d->wit)
            sodium_free(d->wit);
        sodium_memzero(&d->kp, sizeof(d->kp));
        free(d);
        return GN_ENOMEM;
    }
    d->wpid = getpid();
    uv_timer_init(loop, &d->sweeper);
    d->sweeper.data = d;
    d->handles = 1;
    uint64_t period = d->idle_ms / 4 < 50 ? 50 : d->idle_ms / 4;
    uv_timer_start(&d->sweeper, sweep, period, period);
    uv_unref((uv_handle_t *)&d->sweeper);
    refill_maybe(d); /* the first witnesses while nothing else runs */
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
    while (d->job_head) { /* jobs not yet submitted: their queries are over */
        job_t *j = d->job_head;
        d->job_head = j->next;
        job_drop(d, j);
    }
    d->job_tail = NULL;
    for (int i = 0; i < REFILL_JOBS; i++) /* a refill not started yet: refill_done either way */
        if (d->refill_w[i])
            uv_cancel((uv_req_t *)d->refill_w[i]);
    d->close_done = done;
    d->close_arg = arg;
    for (size_t b = 0; b < d->nbuckets; b++)
        for (host_t *h = d->buckets[b]; h; h = h->next)
            while (h->idle)
                conn_close(h->idle);
    uv_close((uv_handle_t *)&d->sweeper, sweeper_closed);
}
