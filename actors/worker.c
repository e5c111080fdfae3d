/* External synapse workers over Unix sockets, and the axon adapter
 * (include/ganglion/worker.h, docs/workers.md). */
#include "ganglion/worker.h"
#include "ganglion/axon.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/log.h"
#include "ganglion/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define TAG "worker"

#define READ_CHUNK      (64 * 1024)
#define MAX_SYNAPSES    256 /* per hello */
#define MAX_FIELDS      256 /* per synapse */
#define MAX_NAME        128
#define BACKOFF_FLOOR   10 /* ms */
#define DEFAULT_TIMEOUT 12.0

typedef struct worker worker_t;

/* One connection (or attempt) to a worker; freed when its pipe is closed. */
typedef struct conn {
    uv_pipe_t pipe; /* first: the handle's data is the conn */
    uv_connect_t creq;
    worker_t *w; /* NULL once dropped */
    gn_worker_pool_t *pool;
    uint8_t *rbuf;
    size_t rlen, rcap;
} conn_t;

typedef struct req {
    uv_timer_t timer; /* the deadline; first */
    gn_worker_pool_t *pool;
    worker_t *w;
    uint64_t id;
    double timeout_s;
    char *synapse;
    gn_worker_cb cb; /* NULL: cancelled */
    gn_worker_chunk_cb chunk;
    void *arg;
    struct req *prev, *next; /* in flight on w */
    struct req *hnext;       /* the pool's id table */
} req_t;

struct worker {
    gn_worker_pool_t *pool;
    size_t index;
    char *path;
    conn_t *conn; /* NULL: not connected */
    bool ready;   /* hello read */
    bool broken;  /* a write failed: dropped from the timer */
    char **serves;
    size_t n_serves;
    uv_timer_t timer; /* backoff, hello deadline, deferred drop */
    unsigned attempt;
    req_t *reqs;
    gn_worker_stats_t st;
};

/* A class the workers announced, at a fixed address (the axon keeps it). */
typedef struct cls_entry {
    gn_worker_class_t pub;
    gn_worker_pool_t *pool;
    json_t *def; /* canonical definition, to compare later announcements */
    gn_syn_field_t *fields;
    bool attached;
} cls_entry_t;

struct gn_worker_pool {
    uv_loop_t *loop;
    gn_worker_opts_t o;
    worker_t *w;
    size_t n, rr;
    uint64_t next_id;
    req_t **tab;
    size_t tab_mask;
    cls_entry_t **cls;
    size_t n_cls, cap_cls;
    gn_axon_t *axon;
    unsigned handles; /* open libuv handles: the pool is freed at 0 once closing */
    bool closing;
    void (*done)(void *arg);
    void *done_arg;
    uint64_t rng;
};

/* ---- small helpers ---- */

static uint64_t rnd(gn_worker_pool_t *p)
{
    uint64_t x = p->rng; /* xorshift64: jitter only */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return p->rng = x;
}

static const char *wname(const worker_t *w)
{
    return w->st.name[0] ? w->st.name : w->path;
}

static req_t **slot(gn_worker_pool_t *p, uint64_t id)
{
    return &p->tab[(id * 0x9E3779B97F4A7C15ull >> 32) & p->tab_mask];
}

static req_t *find(gn_worker_pool_t *p, uint64_t id)
{
    for (req_t *r = *slot(p, id); r; r = r->hnext)
        if (r->id == id)
            return r;
    return NULL;
}

/* Out of the id table and the worker's list (idempotent). */
static void unlink_req(req_t *r)
{
    if (!r->w)
        return;
    for (req_t **pp = slot(r->pool, r->id); *pp; pp = &(*pp)->hnext)
        if (*pp == r) {
            *pp = r->hnext;
            break;
        }
    if (r->prev)
        r->prev->next = r->next;
    else
        r->w->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->w->st.inflight--;
    r->w = NULL;
}

static void maybe_free_pool(gn_worker_pool_t *p);
static void timeout_cb(uv_timer_t *t);

static void handle_closed(gn_worker_pool_t *p)
{
    p->handles--;
    maybe_free_pool(p);
}

static void req_closed(uv_handle_t *h)
{
    req_t *r = h->data;
    gn_worker_pool_t *p = r->pool;
    free(r->synapse);
    free(r);
    handle_closed(p);
}

/* Answer a call once: out of the tables, its callback, its timer closed. */
static void finish(req_t *r, int status, json_t *result, const char *error)
{
    unlink_req(r);
    uv_timer_stop(&r->timer);
    gn_worker_cb cb = r->cb;
    r->cb = NULL;
    uv_close((uv_handle_t *)&r->timer, req_closed);
    if (cb)
        cb(status, result, error, r->arg);
}

static void finish_err(req_t *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish_err(req_t *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    finish(r, status, NULL, msg);
}

/* ---- writing ---- */

typedef struct wreq {
    uv_write_t req;
    uint8_t *buf;
} wreq_t;

static void timer_cb(uv_timer_t *t);
static void drop(worker_t *w, int status, const char *why);

static void write_cb(uv_write_t *req, int status)
{
    wreq_t *wr = (wreq_t *)req;
    conn_t *c = req->handle->data;
    free(wr->buf);
    free(wr);
    if (status < 0 && c->w) { /* not a cancel at our own close: the worker is gone */
        char why[160];
        snprintf(why, sizeof(why), "write failed: %s", uv_strerror(status));
        drop(c->w, GN_ECLOSED, why);
    }
}

static int send_frame(worker_t *w, const json_t *frame)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = gn_wire_frame(frame, &buf, &len, &cap);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    if (len - GN_WIRE_FRAME_HEADER > w->pool->o.max_frame) {
        free(buf);
        return GN_ERANGE;
    }
    wreq_t *wr = malloc(sizeof(*wr));
    if (!wr) {
        free(buf);
        return GN_ENOMEM;
    }
    wr->buf = buf;
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    if (uv_write(&wr->req, (uv_stream_t *)&w->conn->pipe, &b, 1, write_cb) < 0) {
        free(buf);
        free(wr);
        if (!w->broken) { /* dropped from the timer: never inside the caller's call */
            w->broken = true;
            uv_timer_start(&w->timer, timer_cb, 0, 0);
        }
        return GN_ECLOSED;
    }
    return 0;
}

static void send_cancel(worker_t *w, uint64_t id)
{
    if (!w || !w->conn || !w->ready || w->broken)
        return;
    json_t *f =
        json_pack("{s:i,s:I,s:s}", "v", GN_WORKER_PROTOCOL, "id", (json_int_t)id, "type", "cancel");
    if (f)
        send_frame(w, f);
    json_decref(f);
}

/* ---- connections ---- */

static void schedule(worker_t *w)
{
    gn_worker_pool_t *p = w->pool;
    uint64_t d = p->o.backoff_min_ms;
    for (unsigned i = 0; i < w->attempt && d < p->o.backoff_max_ms; i++)
        d *= 2;
    if (d > p->o.backoff_max_ms)
        d = p->o.backoff_max_ms;
    d = d / 2 + rnd(p) % (d + 1);
    if (d < BACKOFF_FLOOR)
        d = BACKOFF_FLOOR;
    if (w->attempt < 64)
        w->attempt++;
    uv_timer_start(&w->timer, timer_cb, d, 0);
}

static void conn_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    gn_worker_pool_t *p = c->pool;
    free(c->rbuf);
    free(c);
    handle_closed(p);
}

static void free_serves(worker_t *w)
{
    for (size_t i = 0; i < w->n_serves; i++)
        free(w->serves[i]);
    free(w->serves);
    w->serves = NULL;
    w->n_serves = 0;
}

/* The worker's connection is gone: its calls fail at once with status and
 * the reason, and (unless the pool is closing) it is dialled again. */
static void drop(worker_t *w, int status, const char *why)
{
    gn_worker_pool_t *p = w->pool;
    conn_t *c = w->conn;
    if (!c)
        return;
    w->conn = NULL;
    c->w = NULL;
    uv_close((uv_handle_t *)&c->pipe, conn_closed);
    bool was_ready = w->ready;
    w->ready = false;
    w->broken = false;
    free_serves(w);
    uv_timer_stop(&w->timer);
    gn_log_level_t level = GN_LOG_DEBUG; /* a failed dial, or our own close */
    if (!p->closing && (was_ready || status == GN_EIO))
        level = GN_LOG_WARNING;
    gn_log(level, TAG, "worker %s%s%s%s: %s", w->st.name, w->st.name[0] ? " at " : "", w->path,
           was_ready ? " lost" : "", why);
    if (status == GN_EIO)
        w->st.protocol_errors++;

    /* out of the tables first, so that a callback cancelling another of
     * them finds nothing; then the callbacks */
    req_t *list = w->reqs;
    for (req_t *r = list; r; r = r->next) {
        for (req_t **pp = slot(p, r->id); *pp; pp = &(*pp)->hnext)
            if (*pp == r) {
                *pp = r->hnext;
                break;
            }
        r->w = NULL;
    }
    w->reqs = NULL;
    w->st.inflight = 0;
    while (list) {
        req_t *r = list;
        list = r->next;
        if (r->cb)
            w->st.lost++;
        finish_err(r, status, "worker %s went away with the %s call in flight: %s", wname(w),
                   r->synapse, why);
    }
    if (was_ready && p->o.on_state && !p->closing)
        p->o.on_state(p, w->index, false, p->o.arg);
    if (!p->closing)
        schedule(w);
}

static void drop_protocol(worker_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void drop_protocol(worker_t *w, const char *fmt, ...)
{
    char msg[400], why[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(why, sizeof(why), "protocol error: %s", msg);
    drop(w, GN_EIO, why);
}

static void on_frame(worker_t *w, const uint8_t *p, size_t n);

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    conn_t *c = h->data;
    if (c->rcap - c->rlen < READ_CHUNK) {
        size_t cap = c->rlen + READ_CHUNK;
        uint8_t *nb = realloc(c->rbuf, cap);
        if (!nb) {
            *buf = uv_buf_init(NULL, 0); /* UV_ENOBUFS in read_cb */
            return;
        }
        c->rbuf = nb;
        c->rcap = cap;
    }
    *buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    conn_t *c = s->data;
    if (!c->w)
        return;
    if (nread < 0) {
        char why[160];
        if (nread == UV_EOF)
            snprintf(why, sizeof(why), "the worker closed the connection");
        else
            snprintf(why, sizeof(why), "read failed: %s", uv_strerror((int)nread));
        drop(c->w, GN_ECLOSED, why);
        return;
    }
    c->rlen += (size_t)nread;
    size_t off = 0;
    while (c->w) { /* a frame's callbacks may drop the worker or close the pool */
        const uint8_t *payload;
        size_t plen, flen;
        int rc = gn_wire_frame_peek(c->rbuf + off, c->rlen - off, c->pool->o.max_frame, &payload,
                                    &plen, &flen);
        if (rc == GN_ETRUNC)
            break;
        if (rc < 0) {
            const uint8_t *q = c->rbuf + off;
            drop_protocol(c->w, "a frame of %lu bytes, more than max_frame (%zu)",
                          (unsigned long)q[0] << 24 | (unsigned long)q[1] << 16 |
                              (unsigned long)q[2] << 8 | q[3],
                          c->pool->o.max_frame);
            return;
        }
        off += flen;
        on_frame(c->w, payload, plen);
    }
    if (c->w && off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
        if (!c->rlen && c->rcap > 4 * READ_CHUNK) { /* after a big frame */
            free(c->rbuf);
            c->rbuf = NULL;
            c->rcap = 0;
        }
    }
}

static void connect_cb(uv_connect_t *req, int status)
{
    conn_t *c = req->handle->data;
    worker_t *w = c->w;
    if (!w) /* dropped or the pool closed meanwhile */
        return;
    if (status < 0) {
        char why[200];
        snprintf(why, sizeof(why), "cannot connect: %s", uv_strerror(status));
        drop(w, GN_ECLOSED, why);
        return;
    }
    int rc = uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
    if (rc < 0) {
        drop(w, GN_ECLOSED, uv_strerror(rc));
        return;
    }
    uv_timer_start(&w->timer, timer_cb, w->pool->o.hello_timeout_ms, 0);
}

static void dial(worker_t *w)
{
    gn_worker_pool_t *p = w->pool;
    conn_t *c = calloc(1, sizeof(*c));
    if (!c) {
        schedule(w);
        return;
    }
    c->pool = p;
    c->w = w;
    uv_pipe_init(p->loop, &c->pipe, 0);
    c->pipe.data = c;
    p->handles++;
    w->conn = c;
    uv_pipe_connect(&c->creq, &c->pipe, w->path, connect_cb);
}

static void timer_cb(uv_timer_t *t)
{
    worker_t *w = t->data;
    if (w->pool->closing)
        return;
    if (!w->conn)
        dial(w);
    else if (w->broken)
        drop(w, GN_ECLOSED, "writing to the worker failed");
    else if (!w->ready)
        drop_protocol(w, "no hello within %llu ms",
                      (unsigned long long)w->pool->o.hello_timeout_ms);
}

/* ---- the hello: classes ---- */

static const char *const TYPE_NAMES[] = {
    [GN_SYN_ANY] = "any",     [GN_SYN_STR] = "str",   [GN_SYN_INT] = "int",
    [GN_SYN_FLOAT] = "float", [GN_SYN_BOOL] = "bool", [GN_SYN_LIST] = "list",
    [GN_SYN_DICT] = "dict",
};

static const char *const BASE_FIELDS[] = {"name",     "timeout", "total_size",        "header_size",
                                          "dendrite", "axon",    "computed_body_hash"};

/* A Python identifier in ASCII: class and field names. */
static bool good_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
              (i && ch >= '0' && ch <= '9')))
            return false;
    }
    return true;
}

static int get_flag(const json_t *o, const char *k, bool *out)
{
    json_t *v = json_object_get(o, k);
    if (!v) {
        *out = false;
        return 0;
    }
    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

/* A synapse of a hello into its canonical definition (every key present),
 * or NULL with err set. */
static json_t *canon_synapse(const json_t *s, char *err, size_t cap)
{
    const char *name = json_string_value(json_object_get(s, "name"));
    if (!json_is_object(s) || !name || !good_name(name)) {
        snprintf(err, cap, "a synapse without a valid name");
        return NULL;
    }
    bool streaming;
    if (get_flag(s, "streaming", &streaming) < 0) {
        snprintf(err, cap, "synapse %s: streaming is not a bool", name);
        return NULL;
    }
    json_t *fields = json_object_get(s, "fields");
    if (fields && !json_is_array(fields)) {
        snprintf(err, cap, "synapse %s: fields is not a list", name);
        return NULL;
    }
    if (json_array_size(fields) > MAX_FIELDS) {
        snprintf(err, cap, "synapse %s: more than %d fields", name, MAX_FIELDS);
        return NULL;
    }
    json_t *out = json_pack("{s:s,s:b,s:[]}", "name", name, "streaming", streaming, "fields");
    if (!out) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    json_t *of = json_object_get(out, "fields");
    size_t i;
    json_t *f;
    json_array_foreach (fields, i, f) {
        const char *fn = json_string_value(json_object_get(f, "name"));
        const char *ty = json_string_value(json_object_get(f, "type"));
        if (!json_is_object(f) || !fn || !good_name(fn)) {
            snprintf(err, cap, "synapse %s: field %zu has no valid name", name, i);
            goto fail;
        }
        for (size_t b = 0; b < sizeof(BASE_FIELDS) / sizeof(*BASE_FIELDS); b++)
            if (!strcmp(fn, BASE_FIELDS[b])) {
                snprintf(err, cap, "synapse %s: field %s is a base field", name, fn);
                goto fail;
            }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(fn, json_string_value(json_object_get(json_array_get(of, j), "name")))) {
                snprintf(err, cap, "synapse %s: field %s twice", name, fn);
                goto fail;
            }
        int type = -1;
        for (size_t t = 0; ty && t < sizeof(TYPE_NAMES) / sizeof(*TYPE_NAMES); t++)
            if (!strcmp(ty, TYPE_NAMES[t]))
                type = (int)t;
        if (type < 0) {
            snprintf(err, cap, "synapse %s: field %s: type %s is not one of %s", name, fn,
                     ty ? ty : "(none)", "str int float bool list dict any");
            goto fail;
        }
        bool flags[4];
        static const char *const FLAGS[] = {"required", "nullable", "frozen", "hashed"};
        for (int k = 0; k < 4; k++)
            if (get_flag(f, FLAGS[k], &flags[k]) < 0) {
                snprintf(err, cap, "synapse %s: field %s: %s is not a bool", name, fn, FLAGS[k]);
                goto fail;
            }
        json_t *dflt = json_object_get(f, "default");
        json_t *cf =
            json_pack("{s:s,s:s,s:b,s:b,s:b,s:b}", "name", fn, "type", TYPE_NAMES[type], "required",
                      flags[0], "nullable", flags[1], "frozen", flags[2], "hashed", flags[3]);
        if (!cf || (dflt && !flags[0] && json_object_set(cf, "default", dflt)) ||
            json_array_append_new(of, cf)) {
            snprintf(err, cap, "out of memory");
            goto fail;
        }
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

static void free_entry(cls_entry_t *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->pub.cls.n_fields; i++)
        free((char *)e->fields[i].default_json);
    free(e->fields);
    json_decref(e->def); /* holds the strings the class points into */
    free(e);
}

static cls_entry_t *new_entry(gn_worker_pool_t *p, json_t *def)
{
    cls_entry_t *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->pool = p;
    e->def = json_incref(def);
    json_t *fields = json_object_get(def, "fields");
    size_t n = json_array_size(fields);
    e->fields = calloc(n ? n : 1, sizeof(*e->fields));
    if (!e->fields) {
        free_entry(e);
        return NULL;
    }
    e->pub.cls.name = json_string_value(json_object_get(def, "name"));
    e->pub.cls.fields = e->fields;
    e->pub.streaming = json_is_true(json_object_get(def, "streaming"));
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(fields, i);
        gn_syn_field_t *x = &e->fields[i];
        x->name = json_string_value(json_object_get(f, "name"));
        const char *ty = json_string_value(json_object_get(f, "type"));
        for (size_t t = 0; t < sizeof(TYPE_NAMES) / sizeof(*TYPE_NAMES); t++)
            if (!strcmp(ty, TYPE_NAMES[t]))
                x->type = (gn_syn_type_t)t;
        x->required = json_is_true(json_object_get(f, "required"));
        x->nullable = json_is_true(json_object_get(f, "nullable"));
        x->frozen = json_is_true(json_object_get(f, "frozen"));
        x->hashed = json_is_true(json_object_get(f, "hashed"));
        json_t *d = json_object_get(f, "default");
        e->pub.cls.n_fields = i + 1;
        if (d && !(x->default_json = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY))) {
            free_entry(e);
            return NULL;
        }
    }
    e->pub.cls.n_fields = n;
    return e;
}

static cls_entry_t *find_class(const gn_worker_pool_t *p, const char *name)
{
    for (size_t i = 0; i < p->n_cls; i++)
        if (!strcmp(p->cls[i]->pub.cls.name, name))
            return p->cls[i];
    return NULL;
}

static void attach_one(gn_worker_pool_t *p, cls_entry_t *e);

/* The hello: who the worker is and what it serves. */
static void on_hello(worker_t *w, const json_t *f)
{
    gn_worker_pool_t *p = w->pool;
    char err[300];
    json_t *name = json_object_get(f, "worker");
    json_t *syns = json_object_get(f, "synapses");
    if (name && !json_is_string(name)) {
        drop_protocol(w, "hello: worker is not a string");
        return;
    }
    if (!json_is_array(syns) || json_array_size(syns) > MAX_SYNAPSES) {
        drop_protocol(w, "hello: synapses is not a list of at most %d", MAX_SYNAPSES);
        return;
    }
    size_t n = json_array_size(syns);
    json_t *defs = json_array();
    for (size_t i = 0; defs && i < n; i++) {
        json_t *d = canon_synapse(json_array_get(syns, i), err, sizeof(err));
        if (!d) {
            json_decref(defs);
            drop_protocol(w, "hello: %s", err);
            return;
        }
        json_array_append_new(defs, d);
    }
    char **serves = calloc(n ? n : 1, sizeof(*serves));
    if (!defs || !serves) {
        json_decref(defs);
        free(serves);
        drop(w, GN_ENOMEM, "out of memory");
        return;
    }
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_array_get(defs, i);
        const char *sn = json_string_value(json_object_get(d, "name"));
        cls_entry_t *e = find_class(p, sn);
        if (e && !json_equal(e->def, d)) {
            GN_WARN(TAG, "worker %s announces %s unlike the first announcement: not sent %s",
                    w->path, sn, sn);
            continue;
        }
        if (!e) {
            if (p->n_cls == p->cap_cls) {
                size_t cap = p->cap_cls ? 2 * p->cap_cls : 8;
                cls_entry_t **nc = realloc(p->cls, cap * sizeof(*nc));
                if (!nc)
                    continue;
                p->cls = nc;
                p->cap_cls = cap;
            }
            if (!(e = new_entry(p, d)))
                continue;
            p->cls[p->n_cls++] = e;
        }
        bool dup = false;
        for (size_t j = 0; j < ns; j++)
            dup |= !strcmp(serves[j], sn);
        if (!dup && (serves[ns] = strdup(sn)))
            ns++;
    }
    json_decref(defs);
    free_serves(w);
    w->serves = serves;
    w->n_serves = ns;
    snprintf(w->st.name, sizeof(w->st.name), "%s", name ? json_string_value(name) : "");
    w->ready = true;
    w->attempt = 0;
    uv_timer_stop(&w->timer);
    if (w->st.connects++)
        w->st.reconnects++;
    GN_INFO(TAG, "worker %s (%s) ready: %zu synapses", wname(w), w->path, ns);
    if (p->axon)
        for (size_t i = 0; i < p->n_cls; i++)
            attach_one(p, p->cls[i]);
    if (p->o.on_state)
        p->o.on_state(p, w->index, true, p->o.arg);
}

/* ---- answers ---- */

static void on_chunk(worker_t *w, req_t *r, const json_t *f)
{
    json_t *data = json_object_get(f, "data"), *bin = json_object_get(f, "bin");
    if (!r->chunk) {
        finish_err(r, GN_EIO, "worker %s streamed a chunk to the %s call, which is no stream",
                   wname(w), r->synapse);
        return;
    }
    if (json_is_string(data) && !bin) {
        w->st.chunks++;
        r->chunk((const uint8_t *)json_string_value(data), json_string_length(data), r->arg);
        return;
    }
    const char *hex = json_string_value(bin);
    size_t hl = json_string_length(bin), len = 0;
    uint8_t *b = hex && !data ? malloc(hl / 2 + 1) : NULL;
    if (!b || gn_hex_decode(hex, hl, b, hl / 2 + 1, &len) < 0) {
        free(b);
        finish_err(r, GN_EIO, "worker %s sent a chunk without text data or binary bin", wname(w));
        return;
    }
    w->st.chunks++;
    r->chunk(b, len, r->arg);
    free(b);
}

static void on_frame(worker_t *w, const uint8_t *payload, size_t n)
{
    json_t *f = NULL;
    int rc = gn_wire_to_json(payload, n, &f);
    if (rc < 0) {
        drop_protocol(w, "a frame that is not msgpack (%s)", gn_strerror(rc));
        return;
    }
    json_t *v = json_object_get(f, "v");
    const char *type = json_string_value(json_object_get(f, "type"));
    json_t *id = json_object_get(f, "id");
    if (!json_is_object(f))
        drop_protocol(w, "a frame that is not a map");
    else if (!json_is_integer(v))
        drop_protocol(w, "a frame without a protocol version v");
    else if (json_integer_value(v) != GN_WORKER_PROTOCOL)
        drop_protocol(w, "a frame of protocol version %lld (ganglion speaks %d)",
                      (long long)json_integer_value(v), GN_WORKER_PROTOCOL);
    else if (!type)
        drop_protocol(w, "a frame without a type");
    else if (!strcmp(type, "hello")) {
        if (w->ready)
            drop_protocol(w, "a second hello");
        else
            on_hello(w, f);
    } else if (!w->ready)
        drop_protocol(w, "a %s frame before the hello", type);
    else if (strcmp(type, "response") && strcmp(type, "error") && strcmp(type, "chunk") &&
             strcmp(type, "end"))
        drop_protocol(w, "a frame of unknown type %.40s", type);
    else if (!json_is_integer(id))
        drop_protocol(w, "a %s frame without an integer id", type);
    else {
        req_t *r = find(w->pool, (uint64_t)json_integer_value(id));
        json_t *body = json_object_get(f, "body");
        if (!r || r->w != w) {
            w->st.late++; /* timed out, cancelled, or never ours: dropped */
        } else if (!strcmp(type, "chunk")) {
            on_chunk(w, r, f);
        } else if (!strcmp(type, "error")) {
            json_t *st = json_object_get(f, "status");
            json_int_t code = json_is_integer(st) ? json_integer_value(st) : 500;
            if (code < 400 || code > 599)
                code = 500;
            const char *msg = json_string_value(json_object_get(f, "message"));
            json_t *res =
                json_pack("{s:I,s:s}", "status", code, "message", msg ? msg : "worker error");
            w->st.errors++;
            finish(r, GN_EREJECTED, res, msg ? msg : "worker error");
            json_decref(res);
        } else if (body ? !json_is_object(body) : !strcmp(type, "response")) {
            finish_err(r, GN_EIO, "worker %s answered %s without an object body", wname(w),
                       r->synapse);
        } else { /* response, or end (a stream may also end with a response) */
            w->st.answered++;
            finish(r, 0, body, NULL);
        }
    }
    json_decref(f);
}

/* ---- the pool ---- */

int gn_worker_pool_open(uv_loop_t *loop, const char *const *paths, size_t n,
                        const gn_worker_opts_t *o, gn_worker_pool_t **out)
{
    if (!loop || !paths || !n || !out)
        return GN_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!paths[i] || !paths[i][0] ||
            strlen(paths[i]) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return GN_EINVAL;
    gn_worker_pool_t *p = calloc(1, sizeof(*p));
    if (!p)
        return GN_ENOMEM;
    p->loop = loop;
    if (o)
        p->o = *o;
    if (!p->o.max_inflight)
        p->o.max_inflight = 64;
    if (!p->o.max_frame)
        p->o.max_frame = 16u << 20;
    if (p->o.max_frame > UINT32_MAX)
        p->o.max_frame = UINT32_MAX;
    if (!p->o.backoff_min_ms)
        p->o.backoff_min_ms = 100;
    if (!p->o.backoff_max_ms)
        p->o.backoff_max_ms = 5000;
    if (p->o.backoff_max_ms < p->o.backoff_min_ms)
        p->o.backoff_max_ms = p->o.backoff_min_ms;
    if (!p->o.hello_timeout_ms)
        p->o.hello_timeout_ms = 5000;
    if (!(p->o.max_timeout_s > 0))
        p->o.max_timeout_s = 60;
    p->rng = uv_hrtime() | 1;
    p->next_id = 1;
    size_t want = n * p->o.max_inflight, tab = 64;
    while (tab < want && tab < (1u << 20))
        tab *= 2;
    p->tab = calloc(tab, sizeof(*p->tab));
    p->tab_mask = tab - 1;
    p->w = calloc(n, sizeof(*p->w));
    if (!p->tab || !p->w) {
        free(p->tab);
        free(p->w);
        free(p);
        return GN_ENOMEM;
    }
    p->n = n;
    for (size_t i = 0; i < n; i++) {
        worker_t *w = &p->w[i];
        w->pool = p;
        w->index = i;
        w->path = strdup(paths[i]);
        if (!w->path) {
            for (size_t j = 0; j < i; j++)
                free(p->w[j].path);
            free(p->tab);
            free(p->w);
            free(p);
            return GN_ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        worker_t *w = &p->w[i];
        uv_timer_init(loop, &w->timer);
        w->timer.data = w;
        p->handles++;
        dial(w);
    }
    *out = p;
    return 0;
}

int gn_worker_pool_call_ex(gn_worker_pool_t *p, const char *name, const json_t *synapse,
                           double timeout_s, gn_worker_chunk_cb chunk, gn_worker_cb cb, void *arg,
                           uint64_t *idp)
{
    if (!p || !name || !json_is_object(synapse) || !cb || !(timeout_s > 0) || timeout_s > 1e6)
        return GN_EINVAL;
    if (p->closing)
        return GN_ECLOSED;
    if (!find_class(p, name))
        return GN_ENOENT;
    worker_t *w = NULL;
    bool any = false;
    for (size_t k = 0; k < p->n && !w; k++) {
        worker_t *x = &p->w[(p->rr + k) % p->n];
        if (!x->ready || x->broken)
            continue;
        bool serves = false;
        for (size_t j = 0; j < x->n_serves && !serves; j++)
            serves = !strcmp(x->serves[j], name);
        if (!serves)
            continue;
        any = true;
        if (x->st.inflight < p->o.max_inflight)
            w = x;
    }
    if (!w)
        return any ? GN_EFULL : GN_ECLOSED;

    uint64_t id = p->next_id++;
    json_t *f = json_pack("{s:i,s:I,s:s,s:s,s:f,s:O}", "v", GN_WORKER_PROTOCOL, "id",
                          (json_int_t)id, "type", "request", "synapse", name, "timeout", timeout_s,
                          "body", (json_t *)synapse);
    req_t *r = calloc(1, sizeof(*r));
    char *sn = strdup(name);
    if (!f || !r || !sn) {
        json_decref(f);
        free(r);
        free(sn);
        return GN_ENOMEM;
    }
    int rc = send_frame(w, f);
    json_decref(f);
    if (rc < 0) {
        free(r);
        free(sn);
        return rc;
    }
    p->rr = (size_t)(w - p->w) + 1;
    r->pool = p;
    r->w = w;
    r->id = id;
    r->timeout_s = timeout_s;
    r->synapse = sn;
    r->cb = cb;
    r->chunk = chunk;
    r->arg = arg;
    r->next = w->reqs;
    if (w->reqs)
        w->reqs->prev = r;
    w->reqs = r;
    r->hnext = *slot(p, id);
    *slot(p, id) = r;
    w->st.inflight++;
    w->st.sent++;
    uv_timer_init(p->loop, &r->timer);
    r->timer.data = r;
    p->handles++;
    uv_update_time(p->loop); /* the deadline counts from now, not the loop's last tick */
    uv_timer_start(&r->timer, timeout_cb, (uint64_t)(timeout_s * 1000.0 + 0.5), 0);
    if (idp)
        *idp = id;
    return 0;
}

static void timeout_cb(uv_timer_t *t)
{
    req_t *r = t->data;
    worker_t *w = r->w;
    if (!w)
        return;
    w->st.timeouts++;
    send_cancel(w, r->id);
    finish_err(r, GN_ETIMEDOUT, "worker %s did not answer %s within %g s", wname(w), r->synapse,
               r->timeout_s);
}

int gn_worker_pool_call(gn_worker_pool_t *p, const char *name, const json_t *synapse,
                        double timeout_s, gn_worker_cb cb, void *arg)
{
    return gn_worker_pool_call_ex(p, name, synapse, timeout_s, NULL, cb, arg, NULL);
}

int gn_worker_pool_cancel(gn_worker_pool_t *p, uint64_t id)
{
    req_t *r = p ? find(p, id) : NULL;
    if (!r || !r->cb)
        return GN_ENOENT;
    send_cancel(r->w, id);
    r->cb = NULL;
    finish(r, GN_ECLOSED, NULL, NULL);
    return 0;
}

size_t gn_worker_pool_n_classes(const gn_worker_pool_t *p)
{
    return p ? p->n_cls : 0;
}

const gn_worker_class_t *gn_worker_pool_class(const gn_worker_pool_t *p, size_t i)
{
    return p && i < p->n_cls ? &p->cls[i]->pub : NULL;
}

size_t gn_worker_pool_size(const gn_worker_pool_t *p)
{
    return p ? p->n : 0;
}

int gn_worker_pool_stats(const gn_worker_pool_t *p, size_t i, gn_worker_stats_t *out)
{
    if (!p || !out || (i >= p->n && i != SIZE_MAX))
        return GN_EINVAL;
    if (i != SIZE_MAX) {
        *out = p->w[i].st;
        out->connected = p->w[i].conn && uv_is_readable((uv_stream_t *)&p->w[i].conn->pipe);
        out->ready = p->w[i].ready;
        return 0;
    }
    memset(out, 0, sizeof(*out));
    for (size_t k = 0; k < p->n; k++) {
        gn_worker_stats_t s;
        gn_worker_pool_stats(p, k, &s);
        out->connected |= s.connected;
        out->ready |= s.ready;
        out->inflight += s.inflight;
        out->sent += s.sent;
        out->answered += s.answered;
        out->errors += s.errors;
        out->timeouts += s.timeouts;
        out->lost += s.lost;
        out->late += s.late;
        out->chunks += s.chunks;
        out->protocol_errors += s.protocol_errors;
        out->connects += s.connects;
        out->reconnects += s.reconnects;
    }
    return 0;
}

static void maybe_free_pool(gn_worker_pool_t *p)
{
    if (!p->closing || p->handles)
        return;
    void (*done)(void *) = p->done;
    void *arg = p->done_arg;
    for (size_t i = 0; i < p->n; i++) {
        free(p->w[i].path);
        free_serves(&p->w[i]);
    }
    for (size_t i = 0; i < p->n_cls; i++)
        free_entry(p->cls[i]);
    free(p->cls);
    free(p->w);
    free(p->tab);
    free(p);
    if (done)
        done(arg);
}

static void timer_closed(uv_handle_t *h)
{
    worker_t *w = h->data;
    handle_closed(w->pool);
}

void gn_worker_pool_close(gn_worker_pool_t *p, void (*done)(void *arg), void *arg)
{
    if (!p || p->closing)
        return;
    p->closing = true;
    p->done = done;
    p->done_arg = arg;
    p->handles++; /* held while the calls below run their callbacks */
    for (size_t i = 0; i < p->n; i++) {
        worker_t *w = &p->w[i];
        uv_close((uv_handle_t *)&w->timer, timer_closed);
        if (w->conn) {
            drop(w, GN_ECLOSED, "the worker pool is closing");
        }
    }
    handle_closed(p);
}

/* ---- the axon adapter ---- */

/* One axon call forwarded to the pool. The axon frees the call at its one
 * answer (gn_axon_reply, gn_axon_fail or gn_axon_stream_end), which every
 * path below makes exactly once. */
typedef struct fwd {
    gn_axon_call_t *call;
    json_t *synapse;
    const cls_entry_t *e;
    double timeout_s;
    uint64_t id;  /* the pool's call */
    bool started; /* gn_axon_stream_start made (failed or not) */
} fwd_t;

static void fwd_free(fwd_t *f)
{
    json_decref(f->synapse);
    free(f);
}

static void fwd_chunk(const uint8_t *data, size_t len, void *arg)
{
    fwd_t *f = arg;
    int rc = 0;
    if (!f->started) {
        f->started = true;
        rc = gn_axon_stream_start(f->call, f->synapse);
    }
    if (rc == 0)
        rc = gn_axon_stream_write(f->call, data, len);
    if (rc < 0) { /* the client is gone or the deadline passed: the worker may stop */
        gn_worker_pool_cancel(f->e->pool, f->id);
        gn_axon_stream_end(f->call);
        fwd_free(f);
    }
}

static int http_status(int status)
{
    switch (status) {
    case GN_ETIMEDOUT: return 408;
    case GN_ERANGE: return 413;
    case GN_ECLOSED:
    case GN_EFULL:
    case GN_ENOENT: return 503;
    default: return 500;
    }
}

/* The caller gets a short message (no socket paths); the log the detail. */
static void fwd_fail(fwd_t *f, int status, const char *error)
{
    char msg[200];
    const char *name = f->e->pub.cls.name;
    if (status == GN_ETIMEDOUT) {
        char t[32];
        gn_py_float(f->timeout_s, t, sizeof(t));
        snprintf(msg, sizeof(msg), "Response timeout after: %ss", t);
    } else if (status == GN_EFULL) {
        snprintf(msg, sizeof(msg), "Service unavailable: every %s worker is busy", name);
    } else if (status == GN_ECLOSED && !error) {
        snprintf(msg, sizeof(msg), "Service unavailable: no %s worker is connected", name);
    } else if (status == GN_ECLOSED) {
        snprintf(msg, sizeof(msg), "Service unavailable: the %s worker went away", name);
    } else if (status == GN_ERANGE) {
        snprintf(msg, sizeof(msg), "Synapse too large for the %s worker", name);
    } else {
        snprintf(msg, sizeof(msg), "Internal Server Error: the %s worker failed", name);
    }
    if (error)
        GN_WARN(TAG, "%s call failed (%s): %s", name, gn_errname(status), error);
    gn_axon_fail(f->call, http_status(status), msg);
}

static void fwd_done(int status, json_t *result, const char *error, void *arg)
{
    fwd_t *f = arg;
    if (f->started || (f->e->pub.streaming && status == 0)) {
        if (status != 0) /* the status line is long gone: the stream just ends */
            GN_WARN(TAG, "stream of %s cut short (%s): %s", f->e->pub.cls.name, gn_errname(status),
                    error);
        else if (!f->started)
            gn_axon_stream_start(f->call, f->synapse); /* a stream of no chunks */
        gn_axon_stream_end(f->call);
    } else if (status == 0) {
        /* the worker sets the class's own fields; base fields stay the axon's */
        for (size_t i = 0; result && i < f->e->pub.cls.n_fields; i++) {
            const char *k = f->e->fields[i].name;
            json_t *v = json_object_get(result, k);
            if (v)
                json_object_set(f->synapse, k, v);
        }
        gn_axon_reply(f->call, f->synapse);
        f->synapse = NULL;
    } else if (status == GN_EREJECTED) {
        json_t *st = json_object_get(result, "status");
        gn_axon_fail(f->call, st ? (int)json_integer_value(st) : 500, error);
    } else {
        fwd_fail(f, status, error);
    }
    fwd_free(f);
}

static void fwd_handler(gn_axon_call_t *call, json_t *synapse, void *arg)
{
    cls_entry_t *e = arg;
    gn_worker_pool_t *p = e->pool;
    json_t *t = json_object_get(synapse, "timeout");
    double timeout_s = json_is_number(t) ? json_number_value(t) : DEFAULT_TIMEOUT;
    if (!(timeout_s > 0))
        timeout_s = DEFAULT_TIMEOUT;
    if (timeout_s > p->o.max_timeout_s)
        timeout_s = p->o.max_timeout_s;
    fwd_t *f = calloc(1, sizeof(*f));
    if (!f) {
        json_decref(synapse);
        gn_axon_fail(call, 500, "out of memory");
        return;
    }
    f->call = call;
    f->synapse = synapse;
    f->e = e;
    f->timeout_s = timeout_s;
    int rc = gn_worker_pool_call_ex(p, e->pub.cls.name, synapse, timeout_s,
                                    e->pub.streaming ? fwd_chunk : NULL, fwd_done, f, &f->id);
    if (rc < 0) {
        fwd_fail(f, rc, NULL);
        fwd_free(f);
    }
}

static void attach_one(gn_worker_pool_t *p, cls_entry_t *e)
{
    if (e->attached)
        return;
    gn_axon_handler_t h = {&e->pub.cls, fwd_handler, e, e->pub.streaming};
    int rc = gn_axon_attach(p->axon, &h);
    if (rc < 0 && rc != GN_EEXIST) {
        GN_WARN(TAG, "cannot attach %s to the axon: %s", e->pub.cls.name, gn_strerror(rc));
        return;
    }
    if (rc == GN_EEXIST)
        GN_WARN(TAG, "the axon already serves %s: the workers' %s is not attached", e->pub.cls.name,
                e->pub.cls.name);
    e->attached = true;
}

int gn_worker_attach(gn_axon_t *ax, gn_worker_pool_t *p)
{
    if (!ax || !p || p->closing || (p->axon && p->axon != ax))
        return GN_EINVAL;
    p->axon = ax;
    for (size_t i = 0; i < p->n_cls; i++)
        attach_one(p, p->cls[i]);
    return 0;
}
