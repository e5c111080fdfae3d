/* The Substrate client (include/ganglion/chain.h).
 *
 * Every operation is an op_t: a small state machine whose steps are RPC
 * answers, a resolved runtime, or decode work on the thread pool. An op
 * answers exactly once (op_finish), and is then freed. Runtimes live in
 * slots keyed by spec version; ops that need a runtime still loading wait
 * on its slot, so 500 concurrent first queries fetch metadata once. */
#include "ganglion/chain.h"
#include "ganglion/error.h"
#include "ganglion/events.h"
#include "ganglion/extrinsic.h"
#include "ganglion/fs.h"
#include "ganglion/hashing.h"
#include "ganglion/hex.h"
#include "ganglion/rpc.h"
#include "ganglion/ss58.h"
#include "ganglion/storage_key.h"
#include "ganglion/value.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Results larger than this are decoded on the thread pool. */
#define OFFLOAD_BYTES 8192
#define HASH_CACHE    64
#define NONCE_CACHE   32

typedef struct op op_t;
typedef void (*step_fn)(op_t *op);

typedef struct waiter {
    op_t *op;
    step_fn fn;
    struct waiter *next;
} waiter_t;

typedef struct slot {
    uint32_t spec, tx;
    char name[64];
    char at[67]; /* a block of this version, to fetch metadata at ("" = best) */
    gn_runtime_t *rt;
    bool loading;
    waiter_t *waiters;
    gn_chain_t *owner;
    /* loading */
    uv_work_t work;
    uint8_t *bytes;
    size_t len;
    bool from_disk;
    int status;
    char err[256];
    struct slot *next;
} slot_t;

typedef struct page {
    json_t *keys;    /* hex strings */
    json_t *changes; /* [[key, value|null], ...] */
} page_t;

struct op {
    gn_chain_t *c;
    op_t *prev, *next;
    gn_chain_cb cb;
    gn_chain_runtime_cb rcb;
    void *arg;
    bool has_at;
    char at[67];
    gn_runtime_t *rt;
    step_fn after_rt;
    /* request */
    char *pallet, *item, *name;
    json_t *args; /* owned */
    const gn_storage_entry_t *entry;
    bool finalized;
    uint64_t number;
    /* decode work */
    uv_work_t work;
    void (*work_fn)(op_t *op);
    step_fn after_work;
    uint8_t *in;
    size_t in_len;
    json_t *in_json;
    json_t *out;
    int status;
    char err[512];
    /* query_map */
    gn_query_map_opts_t qm;
    char *prefix_hex;
    page_t *pages;
    size_t n_pages, cap_pages, pending, total_keys;
    bool keys_done, keys_inflight;
    /* submit */
    gn_submit_opts_t so;
    gn_sr25519_keypair_t kp;
    bool sign_only, fee_only;
    char *xt_hex;
    char xt_hash[67];
    uint64_t nonce;
    uint64_t sub_handle;
    bool watching;
    char in_block[67];
};

struct gn_chain {
    uv_loop_t *loop;
    gn_rpc_t *rpc;
    char *cache_dir;
    uint64_t timeout;
    bool closed;
    uint8_t genesis[32];
    bool have_genesis;
    slot_t *slots;
    /* the best block's runtime version, from state_subscribeRuntimeVersion */
    bool have_current;
    uint32_t cur_spec, cur_tx;
    char cur_name[64];
    waiter_t *head_waiters; /* ops waiting for the first version answer */
    bool head_query;
    struct {
        char hash[67];
        uint32_t spec, tx;
        char name[64];
    } hv[HASH_CACHE];
    unsigned hv_next;
    struct {
        uint8_t pub[32];
        uint64_t next;
        bool used;
    } nonces[NONCE_CACHE];
    unsigned nonce_next;
    op_t *ops;
    void *storage_subs; /* storage_sub_t list (defined with them, below) */
    uint64_t next_storage_sub;
    gn_chain_stats_t stats;
};

/* ---- small helpers ---- */

gn_runtime_t *gn_runtime_ref(gn_runtime_t *rt)
{
    if (rt)
        atomic_fetch_add(&rt->refs, 1);
    return rt;
}

void gn_runtime_unref(gn_runtime_t *rt)
{
    if (!rt || atomic_fetch_sub(&rt->refs, 1) != 1)
        return;
    gn_metadata_free(&rt->md);
    free(rt->raw);
    free(rt);
}

static char *hex_dup(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    if (s)
        gn_hex_encode(p, n, 1, s, 2 * n + 3);
    return s;
}

/* "0x.." → malloc'd bytes */
static int unhex(const char *s, uint8_t **out, size_t *n)
{
    if (!s)
        return GN_EINVAL;
    size_t len = strlen(s);
    uint8_t *b = malloc(len / 2 + 1);
    if (!b)
        return GN_ENOMEM;
    int rc = gn_hex_decode(s, len, b, len / 2 + 1, n);
    if (rc < 0) {
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

static bool is_hash(const char *s)
{
    uint8_t b[32];
    return s && strlen(s) == 66 && gn_hex_decode_exact(s, 66, b, 32) == 0;
}

static int check_at(gn_chain_t *c, const char *at)
{
    if (c->closed)
        return GN_ECLOSED;
    return at && !is_hash(at) ? GN_EINVAL : 0;
}

static uint64_t hex_number(const json_t *j)
{
    if (json_is_integer(j))
        return (uint64_t)json_integer_value(j);
    const char *s = json_string_value(j);
    if (!s)
        return 0;
    return strtoull(s + (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 2 : 0), NULL, 16);
}

static json_t *decode_json(const gn_runtime_t *rt, uint32_t type, const uint8_t *p, size_t n,
                           char *err, size_t cap, int *status)
{
    gn_arena_t ar;
    gn_value_t v;
    gn_arena_init(&ar, NULL, 0);
    json_t *j = NULL;
    int rc = gn_value_decode_all(&rt->md, type, p, n, &ar, &v);
    if (rc == 0) {
        gn_json_opts_t o = {GN_JSON_SS58_PREFIX, rt->ss58_prefix};
        j = gn_value_to_json(&rt->md, &v, &o);
        if (!j)
            rc = GN_ENOMEM;
    }
    if (rc < 0) {
        char tn[128];
        gn_type_describe(&rt->md, type, tn, sizeof(tn));
        snprintf(err, cap, "decoding %s: %s", tn, gn_strerror(rc));
    }
    *status = rc;
    gn_arena_free(&ar);
    return j;
}

/* {"name": fields} → fields: the inside of a variant's JSON. */
static json_t *unwrap_variant(json_t *j)
{
    if (json_is_object(j) && json_object_size(j) == 1) {
        json_t *in = json_incref(json_object_iter_value(json_object_iter(j)));
        json_decref(j);
        return in;
    }
    if (json_is_string(j)) { /* a unit variant */
        json_decref(j);
        return json_null();
    }
    return j;
}

/* ---- ops ---- */

static op_t *op_new(gn_chain_t *c, gn_chain_cb cb, void *arg, const char *at)
{
    op_t *op = calloc(1, sizeof(*op));
    if (!op)
        return NULL;
    op->c = c;
    op->cb = cb;
    op->arg = arg;
    if (at) {
        op->has_at = true;
        snprintf(op->at, sizeof(op->at), "%s", at);
    }
    op->next = c->ops;
    if (c->ops)
        c->ops->prev = op;
    c->ops = op;
    c->stats.requests++;
    return op;
}

static void op_free(op_t *op)
{
    gn_chain_t *c = op->c;
    if (op->prev)
        op->prev->next = op->next;
    else
        c->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    gn_runtime_unref(op->rt);
    free(op->pallet);
    free(op->item);
    free(op->name);
    json_decref(op->args);
    free(op->in);
    json_decref(op->in_json);
    json_decref(op->out);
    free(op->prefix_hex);
    for (size_t i = 0; i < op->n_pages; i++) {
        json_decref(op->pages[i].keys);
        json_decref(op->pages[i].changes);
    }
    free(op->pages);
    free(op->xt_hex);
    sodium_memzero(&op->kp, sizeof(op->kp));
    free(op);
}

/* Answer once and free. `result` is handed to the callback. */
static void op_finish(op_t *op, int status, json_t *result, const char *fmt, ...)
{
    char err[768] = "";
    if (status < 0 && fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, sizeof(err), fmt, ap);
        va_end(ap);
    } else if (status < 0) {
        snprintf(err, sizeof(err), "%s", gn_strerror(status));
    }
    if (op->rcb) {
        op->rcb(status, status == 0 ? gn_runtime_ref(op->rt) : NULL, status < 0 ? err : NULL,
                op->arg);
        json_decref(result);
    } else {
        op->cb(status, status == 0 ? result : NULL, status < 0 ? err : NULL, op->arg);
        if (status < 0)
            json_decref(result);
    }
    op_free(op);
}

static void op_fail_rpc(op_t *op, const char *what, int status, const gn_rpc_msg_t *m)
{
    if (status == GN_EIO && m) {
        char *data =
            m->error_data ? json_dumps(m->error_data, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        op_finish(op, GN_EIO, NULL, "%s: the node answered %lld: %s%s%s", what,
                  (long long)m->error_code, m->error_message ? m->error_message : "",
                  data ? ": " : "", data ? data : "");
        free(data);
    } else {
        op_finish(op, status, NULL, "%s: %s", what, gn_strerror(status));
    }
}

/* RPC with a continuation: one heap hop carries (target, fn). */
typedef void (*rpc_fn)(void *self, int status, const gn_rpc_msg_t *m);
typedef struct hop {
    void *self;
    rpc_fn fn;
} hop_t;

static void hop_cb(int status, const gn_rpc_msg_t *m, void *arg)
{
    hop_t h = *(hop_t *)arg;
    free(arg);
    h.fn(h.self, status, m);
}

/* params are consumed. */
static int rpc(gn_chain_t *c, const char *method, json_t *params, unsigned flags, rpc_fn fn,
               void *self)
{
    hop_t *h = malloc(sizeof(*h));
    if (!h) {
        json_decref(params);
        return GN_ENOMEM;
    }
    h->self = self;
    h->fn = fn;
    int rc = gn_rpc_call_flags(c->rpc, method, params, c->timeout, flags, hop_cb, h);
    json_decref(params);
    if (rc < 0)
        free(h);
    return rc;
}

static void op_rpc(op_t *op, const char *method, json_t *params, rpc_fn fn)
{
    int rc = rpc(op->c, method, params, 0, fn, op);
    if (rc < 0)
        op_finish(op, rc, NULL, "%s: %s", method, gn_strerror(rc));
}

/* params with an optional trailing block hash */
static json_t *with_at(op_t *op, json_t *params)
{
    if (op->has_at)
        json_array_append_new(params, json_string(op->at));
    return params;
}

/* ---- decode work: inline for small inputs, else on the thread pool ---- */

static void work_cb(uv_work_t *w)
{
    op_t *op = w->data;
    op->work_fn(op);
}

static void after_work_cb(uv_work_t *w, int status)
{
    op_t *op = w->data;
    op->c->stats.offloaded++;
    if (status < 0 || op->c->closed) {
        op_finish(op, GN_ECLOSED, NULL, "the chain client closed");
        return;
    }
    op->after_work(op);
}

static void decode(op_t *op, size_t size, void (*fn)(op_t *op), step_fn after)
{
    op->work_fn = fn;
    op->after_work = after;
    if (size < OFFLOAD_BYTES) {
        fn(op);
        after(op);
        return;
    }
    op->work.data = op;
    int rc = uv_queue_work(op->c->loop, &op->work, work_cb, after_work_cb);
    if (rc < 0)
        op_finish(op, GN_EIO, NULL, "thread pool: %s", uv_strerror(rc));
}

/* The usual end of a decode step: the result or the error it recorded. */
static void finish_decoded(op_t *op)
{
    json_t *out = op->out;
    op->out = NULL;
    if (op->status < 0)
        op_finish(op, op->status, out, "%s", op->err);
    else
        op_finish(op, 0, out, NULL);
}

/* ---- runtimes ---- */

static void cache_path(const gn_chain_t *c, const slot_t *s, char *out, size_t cap)
{
    char g[17];
    gn_hex_encode(c->genesis, 8, 0, g, sizeof(g));
    snprintf(out, cap, "%s/%s-%s-%u.metadata", c->cache_dir, g, s->name, s->spec);
}

static void slot_parse_work(uv_work_t *w)
{
    slot_t *s = w->data;
    gn_chain_t *c = s->owner;
    if (s->from_disk && !s->bytes) { /* the cache file, read here off the loop */
        char path[1200];
        cache_path(c, s, path, sizeof(path));
        int rc = gn_fs_read(path, 64u << 20, &s->bytes, &s->len);
        if (rc < 0) {
            s->status = rc; /* slot_parsed fetches instead */
            return;
        }
    }
    gn_runtime_t *rt = calloc(1, sizeof(*rt));
    if (!rt) {
        s->status = GN_ENOMEM;
        return;
    }
    uint8_t version = 0;
    int rc = gn_metadata_parse(&rt->md, s->bytes, s->len, NULL, &version);
    if (rc < 0) {
        snprintf(s->err, sizeof(s->err), "runtime %u metadata (V%u): %s", s->spec, version,
                 gn_strerror(rc));
        free(rt);
        s->status = rc;
        return;
    }
    atomic_init(&rt->refs, 1);
    rt->spec_version = s->spec;
    rt->tx_version = s->tx;
    snprintf(rt->spec_name, sizeof(rt->spec_name), "%s", s->name);
    rt->ss58_prefix = gn_metadata_ss58_prefix(&rt->md);
    rt->raw = s->bytes;
    rt->raw_len = s->len;
    rt->from_disk = s->from_disk;
    s->bytes = NULL;
    /* fetched from the node: keep it on disk for the next start (a
     * failed write only costs a fetch then) */
    if (!s->from_disk && c->cache_dir && c->have_genesis) {
        char path[1200];
        cache_path(c, s, path, sizeof(path));
        (void)gn_fs_write_atomic(path, rt->raw, rt->raw_len, true);
    }
    s->rt = rt;
    s->status = 0;
}

static void slot_fail(slot_t *s, int status, const char *err);
static void slot_fetch(slot_t *s);

static void slot_parsed(uv_work_t *w, int status)
{
    slot_t *s = w->data;
    gn_chain_t *c = s->owner;
    if (status < 0 || c->closed) {
        slot_fail(s, GN_ECLOSED, "the chain client closed");
        return;
    }
    if (s->status < 0) {
        if (s->from_disk) { /* no or a bad cache file: fetch instead */
            free(s->bytes);
            s->bytes = NULL;
            s->from_disk = false;
            s->status = 0;
            slot_fetch(s);
            return;
        }
        slot_fail(s, s->status, s->err);
        return;
    }
    if (s->rt->from_disk)
        c->stats.runtimes_from_disk++;
    else
        c->stats.runtimes_fetched++;
    s->loading = false;
    waiter_t *w0 = s->waiters;
    s->waiters = NULL;
    while (w0) {
        waiter_t *x = w0;
        w0 = x->next;
        x->op->rt = gn_runtime_ref(s->rt);
        x->fn(x->op);
        free(x);
    }
}

static void slot_parse(slot_t *s)
{
    s->work.data = s;
    int rc = uv_queue_work(s->owner->loop, &s->work, slot_parse_work, slot_parsed);
    if (rc < 0)
        slot_fail(s, GN_EIO, "thread pool");
}

static void slot_fail(slot_t *s, int status, const char *err)
{
    gn_chain_t *c = s->owner;
    for (slot_t **p = &c->slots; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    waiter_t *w0 = s->waiters;
    while (w0) {
        waiter_t *x = w0;
        w0 = x->next;
        op_finish(x->op, status, NULL, "runtime %u: %s", s->spec, err ? err : gn_strerror(status));
        free(x);
    }
    free(s->bytes);
    if (s->rt)
        gn_runtime_unref(s->rt);
    free(s);
}

static void got_v14(void *self, int status, const gn_rpc_msg_t *m)
{
    slot_t *s = self;
    const char *hex = status == 0 ? json_string_value(m->result) : NULL;
    if (!hex) {
        slot_fail(s, status < 0 ? status : GN_EINVAL,
                  status == GN_EIO && m ? m->error_message : "state_getMetadata failed");
        return;
    }
    if (unhex(hex, &s->bytes, &s->len) < 0) {
        slot_fail(s, GN_EINVAL, "state_getMetadata: not hex");
        return;
    }
    slot_parse(s);
}

static void fetch_v14(slot_t *s)
{
    json_t *p = json_array();
    if (s->at[0])
        json_array_append_new(p, json_string(s->at));
    int rc = rpc(s->owner, "state_getMetadata", p, 0, got_v14, s);
    if (rc < 0)
        slot_fail(s, rc, "state_getMetadata");
}

/* Metadata_metadata_at_version answers Option<OpaqueMetadata>. */
static void got_v15(void *self, int status, const gn_rpc_msg_t *m)
{
    slot_t *s = self;
    uint8_t *b = NULL;
    size_t n = 0;
    if (status == GN_ECLOSED || status == GN_ETIMEDOUT) {
        slot_fail(s, status, "Metadata_metadata_at_version");
        return;
    }
    if (status == 0 && unhex(json_string_value(m->result), &b, &n) == 0) {
        gn_scale_reader_t r;
        bool some = false;
        const uint8_t *p;
        size_t len;
        gn_scale_reader_init(&r, b, n);
        if (gn_scale_read_option(&r, &some) == 0 && some &&
            gn_scale_read_vec_u8(&r, &p, &len) == 0 && gn_scale_reader_finish(&r) == 0) {
            s->bytes = malloc(len ? len : 1);
            if (s->bytes) {
                memcpy(s->bytes, p, len);
                s->len = len;
                free(b);
                slot_parse(s);
                return;
            }
        }
        free(b);
    }
    fetch_v14(s); /* no V15 here: the runtime's default metadata */
}

static void slot_fetch(slot_t *s)
{
    json_t *p = json_pack("[s,s]", "Metadata_metadata_at_version", "0x0f000000");
    if (s->at[0])
        json_array_append_new(p, json_string(s->at));
    int rc = rpc(s->owner, "state_call", p, 0, got_v15, s);
    if (rc < 0)
        slot_fail(s, rc, "state_call");
}

static void slot_load(slot_t *s)
{
    gn_chain_t *c = s->owner;
    if (c->cache_dir && c->have_genesis) {
        s->from_disk = true; /* try the cache first (slot_parse_work reads it) */
        slot_parse(s);
        return;
    }
    slot_fetch(s);
}

/* chain_getBlockHash(0)'s answer, kept for cache names and signing. */
static void take_genesis(gn_chain_t *c, int status, const gn_rpc_msg_t *m)
{
    const char *h = status == 0 ? json_string_value(m->result) : NULL;
    if (h && strlen(h) == 66 && gn_hex_decode_exact(h, 66, c->genesis, 32) == 0)
        c->have_genesis = true;
}

static void got_genesis(void *self, int status, const gn_rpc_msg_t *m)
{
    slot_t *s = self;
    gn_chain_t *c = s->owner;
    take_genesis(c, status, m);
    if (status == GN_ECLOSED) {
        slot_fail(s, status, "chain_getBlockHash(0)");
        return;
    }
    slot_load(s);
}

/* The op needs runtime `spec` (a block of it: at, or "" for best). */
static void need_spec(op_t *op, uint32_t spec, uint32_t tx, const char *name, const char *at)
{
    gn_chain_t *c = op->c;
    slot_t *s = c->slots;
    while (s && s->spec != spec)
        s = s->next;
    if (s && s->rt && !s->loading) {
        op->rt = gn_runtime_ref(s->rt);
        op->after_rt(op);
        return;
    }
    waiter_t *w = malloc(sizeof(*w));
    bool fresh = !s;
    if (fresh)
        s = calloc(1, sizeof(*s));
    if (!w || !s) {
        free(w);
        if (fresh)
            free(s);
        op_finish(op, GN_ENOMEM, NULL, NULL);
        return;
    }
    w->op = op;
    w->fn = op->after_rt;
    w->next = s->waiters;
    s->waiters = w;
    if (!fresh)
        return;
    s->owner = c;
    s->spec = spec;
    s->tx = tx;
    s->loading = true;
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->at, sizeof(s->at), "%s", at ? at : "");
    s->next = c->slots;
    c->slots = s;
    if (c->have_genesis || !c->cache_dir) {
        slot_load(s);
    } else {
        int rc = rpc(c, "chain_getBlockHash", json_pack("[i]", 0), 0, got_genesis, s);
        if (rc < 0)
            slot_fail(s, rc, "chain_getBlockHash");
    }
}

static int parse_version(const json_t *v, uint32_t *spec, uint32_t *tx, char *name, size_t cap)
{
    json_t *sv = json_object_get(v, "specVersion"), *tv = json_object_get(v, "transactionVersion");
    if (!json_is_integer(sv))
        return GN_EINVAL;
    *spec = (uint32_t)json_integer_value(sv);
    *tx = (uint32_t)json_integer_value(tv);
    const char *n = json_string_value(json_object_get(v, "specName"));
    snprintf(name, cap, "%s", n ? n : "runtime");
    /* only safe characters go into a cache file name */
    for (char *p = name; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
            *p != '-' && *p != '_')
            *p = '_';
    return 0;
}

static void set_current(gn_chain_t *c, uint32_t spec, uint32_t tx, const char *name)
{
    if (c->have_current && c->cur_spec != spec)
        c->stats.runtime_upgrades++;
    c->have_current = true;
    c->cur_spec = spec;
    c->cur_tx = tx;
    snprintf(c->cur_name, sizeof(c->cur_name), "%s", name);
}

static void got_head_version(void *self, int status, const gn_rpc_msg_t *m)
{
    gn_chain_t *c = self;
    uint32_t spec = 0, tx = 0;
    char name[64];
    c->head_query = false;
    if (status == 0 && parse_version(m->result, &spec, &tx, name, sizeof(name)) < 0)
        status = GN_EINVAL;
    if (status == 0 && !c->have_current)
        set_current(c, spec, tx, name);
    waiter_t *w0 = c->head_waiters;
    c->head_waiters = NULL;
    while (w0) {
        waiter_t *x = w0;
        w0 = x->next;
        if (status < 0)
            op_fail_rpc(x->op, "state_getRuntimeVersion", status, m);
        else
            need_spec(x->op, c->cur_spec, c->cur_tx, c->cur_name, NULL);
        free(x);
    }
}

static void got_at_version(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    gn_chain_t *c = op->c;
    uint32_t spec, tx;
    char name[64];
    if (status < 0) {
        op_fail_rpc(op, "state_getRuntimeVersion", status, m);
        return;
    }
    if (parse_version(m->result, &spec, &tx, name, sizeof(name)) < 0) {
        op_finish(op, GN_EINVAL, NULL, "state_getRuntimeVersion: no specVersion");
        return;
    }
    unsigned i = c->hv_next++ % HASH_CACHE;
    snprintf(c->hv[i].hash, sizeof(c->hv[i].hash), "%s", op->at);
    c->hv[i].spec = spec;
    c->hv[i].tx = tx;
    snprintf(c->hv[i].name, sizeof(c->hv[i].name), "%s", name);
    need_spec(op, spec, tx, name, op->at);
}

/* Resolve op->rt for op->at (or the best block), then call fn. */
static void with_runtime(op_t *op, step_fn fn)
{
    gn_chain_t *c = op->c;
    op->after_rt = fn;
    if (op->rt) {
        fn(op);
        return;
    }
    if (op->has_at) {
        for (unsigned i = 0; i < HASH_CACHE; i++) {
            if (!strcmp(c->hv[i].hash, op->at)) {
                need_spec(op, c->hv[i].spec, c->hv[i].tx, c->hv[i].name, op->at);
                return;
            }
        }
        op_rpc(op, "state_getRuntimeVersion", json_pack("[s]", op->at), got_at_version);
        return;
    }
    if (c->have_current) {
        need_spec(op, c->cur_spec, c->cur_tx, c->cur_name, NULL);
        return;
    }
    waiter_t *w = malloc(sizeof(*w));
    if (!w) {
        op_finish(op, GN_ENOMEM, NULL, NULL);
        return;
    }
    w->op = op;
    w->fn = fn;
    w->next = c->head_waiters;
    c->head_waiters = w;
    if (!c->head_query) {
        int rc = rpc(c, "state_getRuntimeVersion", json_array(), 0, got_head_version, c);
        if (rc < 0) {
            c->head_waiters = w->next;
            free(w);
            op_finish(op, rc, NULL, "state_getRuntimeVersion: %s", gn_strerror(rc));
            return;
        }
        c->head_query = true;
    }
}

static void version_notice(int status, const json_t *result, void *arg)
{
    gn_chain_t *c = arg;
    uint32_t spec, tx;
    char name[64];
    if (status == 0 && parse_version(result, &spec, &tx, name, sizeof(name)) == 0)
        set_current(c, spec, tx, name);
}

static void runtime_done(op_t *op)
{
    op_finish(op, 0, NULL, NULL);
}

int gn_chain_runtime(gn_chain_t *c, const char *at, gn_chain_runtime_cb cb, void *arg)
{
    int rc = check_at(c, at);
    if (rc < 0)
        return rc;
    op_t *op = op_new(c, NULL, arg, at);
    if (!op)
        return GN_ENOMEM;
    op->rcb = cb;
    with_runtime(op, runtime_done);
    return 0;
}

int gn_chain_genesis(const gn_chain_t *c, uint8_t out[32])
{
    if (!c->have_genesis)
        return GN_ENOENT;
    memcpy(out, c->genesis, 32);
    return 0;
}

/* ---- open / close ---- */

static void opened_genesis(void *self, int status, const gn_rpc_msg_t *m)
{
    gn_chain_t *c = self;
    take_genesis(c, status, m);
}

int gn_chain_open(uv_loop_t *loop, const gn_chain_opts_t *o, gn_chain_t **out)
{
    if (!o || !o->url)
        return GN_EINVAL;
    gn_chain_t *c = calloc(1, sizeof(*c));
    if (!c)
        return GN_ENOMEM;
    c->loop = loop;
    c->timeout = o->timeout_ms ? o->timeout_ms : 60000;
    if (o->cache_dir && !(c->cache_dir = strdup(o->cache_dir))) {
        free(c);
        return GN_ENOMEM;
    }
    gn_rpc_opts_t ro = {.no_reconnect = o->no_reconnect};
    int rc = gn_rpc_open_opts(loop, o->url, &ro, &c->rpc);
    if (rc < 0) {
        free(c->cache_dir);
        free(c);
        return rc;
    }
    /* the genesis (cache file names, signing) and the runtime version,
     * kept current by the subscription (upgrades) */
    rpc(c, "chain_getBlockHash", json_pack("[i]", 0), 0, opened_genesis, c);
    gn_rpc_subscribe(c->rpc, "state_subscribeRuntimeVersion", NULL,
                     "state_unsubscribeRuntimeVersion", c->timeout, version_notice, c, NULL);
    *out = c;
    return 0;
}

void gn_chain_close(gn_chain_t *c)
{
    if (!c || c->closed)
        return;
    c->closed = true;
    gn_rpc_close(c->rpc); /* every call and subscription answers GN_ECLOSED */
}

void gn_chain_release(gn_chain_t *c)
{
    if (!c)
        return;
    gn_rpc_release(c->rpc);
    while (c->slots) {
        slot_t *s = c->slots;
        c->slots = s->next;
        free(s->bytes);
        gn_runtime_unref(s->rt);
        while (s->waiters) {
            waiter_t *w = s->waiters;
            s->waiters = w->next;
            free(w);
        }
        free(s);
    }
    free(c->cache_dir);
    sodium_memzero(c->nonces, sizeof(c->nonces));
    free(c);
}

void gn_chain_stats(const gn_chain_t *c, gn_chain_stats_t *out)
{
    *out = c->stats;
    out->reconnects = gn_rpc_reconnects(c->rpc);
}

/* ---- heads and blocks ---- */

/* A JSON header (as chain_getHeader gives it) to {"number","hash",
 * "parent_hash"}: the hash is blake2b-256 of the SCALE header, whose
 * digest logs come already encoded. */
static json_t *head_json(const json_t *h)
{
    uint8_t b[32];
    gn_scale_writer_t w;
    const char *fields[] = {"parentHash", "stateRoot", "extrinsicsRoot"};
    const json_t *logs = json_object_get(json_object_get(h, "digest"), "logs");
    uint64_t number = hex_number(json_object_get(h, "number"));
    json_t *out = NULL;
    gn_scale_writer_init(&w, NULL);
    for (int i = 0; i < 3; i++) {
        const char *x = json_string_value(json_object_get(h, fields[i]));
        if (!x || strlen(x) != 66 || gn_hex_decode_exact(x, 66, b, 32) < 0)
            goto fail;
        gn_scale_write_bytes(&w, b, 32);
        if (i == 0)
            gn_scale_write_compact(&w, number);
    }
    gn_scale_write_compact(&w, json_array_size(logs));
    for (size_t i = 0; i < json_array_size(logs); i++) {
        uint8_t *lb;
        size_t ln;
        if (unhex(json_string_value(json_array_get(logs, i)), &lb, &ln) < 0)
            goto fail;
        gn_scale_write_bytes(&w, lb, ln);
        free(lb);
    }
    if (gn_scale_writer_error(&w) < 0)
        goto fail;
    gn_blake2b_256(w.buf, w.len, b);
    char hash[67];
    gn_hex_encode(b, 32, 1, hash, sizeof(hash));
    out = json_pack("{s:I,s:s,s:O}", "number", (json_int_t)number, "hash", hash, "parent_hash",
                    json_object_get(h, "parentHash"));
fail:
    gn_scale_writer_free(&w);
    return out;
}

static void got_header(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0) {
        op_fail_rpc(op, "chain_getHeader", status, m);
        return;
    }
    json_t *j = json_is_object(m->result) ? head_json(m->result) : NULL;
    if (!j)
        op_finish(op, json_is_null(m->result) ? GN_ENOENT : GN_EINVAL, NULL, "chain_getHeader: %s",
                  json_is_null(m->result) ? "no such block" : "malformed");
    else
        op_finish(op, 0, j, NULL);
}

static void got_finalized(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0 || !json_is_string(m->result)) {
        op_fail_rpc(op, "chain_getFinalizedHead", status < 0 ? status : GN_EINVAL, m);
        return;
    }
    op_rpc(op, "chain_getHeader", json_pack("[O]", m->result), got_header);
}

int gn_chain_head(gn_chain_t *c, bool finalized, gn_chain_cb cb, void *arg)
{
    if (c->closed)
        return GN_ECLOSED;
    op_t *op = op_new(c, cb, arg, NULL);
    if (!op)
        return GN_ENOMEM;
    if (finalized)
        op_rpc(op, "chain_getFinalizedHead", json_array(), got_finalized);
    else
        op_rpc(op, "chain_getHeader", json_array(), got_header);
    return 0;
}

static void got_block_hash(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0)
        op_fail_rpc(op, "chain_getBlockHash", status, m);
    else if (!json_is_string(m->result))
        op_finish(op, GN_ENOENT, NULL, "block %llu: no such block", (unsigned long long)op->number);
    else
        op_finish(op, 0, json_incref(m->result), NULL);
}

int gn_chain_block_hash(gn_chain_t *c, uint64_t number, gn_chain_cb cb, void *arg)
{
    if (c->closed)
        return GN_ECLOSED;
    op_t *op = op_new(c, cb, arg, NULL);
    if (!op)
        return GN_ENOMEM;
    op->number = number;
    op_rpc(op, "chain_getBlockHash", json_pack("[I]", (json_int_t)number), got_block_hash);
    return 0;
}

/* Pin an op without `at` to the best block's hash first (for reads that
 * take several requests and must see one state). */
static void got_pin(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    const char *h = status == 0 ? json_string_value(m->result) : NULL;
    if (!h || !is_hash(h)) {
        op_fail_rpc(op, "chain_getBlockHash", status < 0 ? status : GN_EINVAL, m);
        return;
    }
    op->has_at = true;
    snprintf(op->at, sizeof(op->at), "%s", h);
    with_runtime(op, op->after_rt);
}

static void pin_then_runtime(op_t *op, step_fn fn)
{
    if (op->has_at) {
        with_runtime(op, fn);
        return;
    }
    op->after_rt = fn;
    op_rpc(op, "chain_getBlockHash", json_array(), got_pin);
}

/* One extrinsic as JSON: who signed, what it calls. */
static json_t *extrinsic_json(const gn_runtime_t *rt, const uint8_t *p, size_t n, size_t index,
                              char *err, size_t cap, int *status)
{
    gn_arena_t ar;
    gn_extrinsic_t x;
    gn_scale_reader_t r;
    gn_arena_init(&ar, NULL, 0);
    gn_scale_reader_init(&r, p, n);
    json_t *j = NULL;
    int rc = gn_extrinsic_decode(&rt->md, &r, &ar, &x);
    if (rc == 0)
        rc = gn_scale_reader_finish(&r);
    if (rc < 0) {
        snprintf(err, cap, "extrinsic %zu: %s", index, gn_strerror(rc));
        *status = rc;
        gn_arena_free(&ar);
        return NULL;
    }
    gn_json_opts_t o = {GN_JSON_SS58_PREFIX, rt->ss58_prefix};
    uint8_t h[32];
    char hash[67];
    gn_blake2b_256(p, n, h);
    gn_hex_encode(h, 32, 1, hash, sizeof(hash));
    j = json_pack("{s:I,s:b,s:s,s:s,s:s}", "index", (json_int_t)index, "signed", x.is_signed,
                  "hash", hash, "pallet", x.pallet ? x.pallet->name : "?", "call",
                  x.call ? x.call->name : "?");
    /* RuntimeCall → {pallet: {call: args}} → args */
    const gn_value_t *inner = x.call_value.kind == GN_VALUE_VARIANT && x.call_value.u.var.n == 1
                                  ? &x.call_value.u.var.fields[0]
                                  : &x.call_value;
    json_object_set_new(j, "args", unwrap_variant(gn_value_to_json(&rt->md, inner, &o)));
    if (x.is_signed) {
        json_t *a = unwrap_variant(gn_value_to_json(&rt->md, &x.address, &o));
        json_object_set_new(j, "signer", a ? a : json_null());
        for (uint32_t i = 0; i < x.n_extra && i < rt->md.n_signed_exts; i++) {
            const char *id = rt->md.signed_exts[i].identifier;
            if (!strcmp(id, "CheckNonce"))
                json_object_set_new(j, "nonce", gn_value_to_json(&rt->md, &x.extra[i], &o));
            else if (!strcmp(id, "ChargeTransactionPayment"))
                json_object_set_new(j, "tip", gn_value_to_json(&rt->md, &x.extra[i], &o));
        }
    }
    *status = 0;
    gn_arena_free(&ar);
    return j;
}

static void block_work(op_t *op)
{
    const json_t *b = json_object_get(op->in_json, "block");
    const json_t *xs = json_object_get(b, "extrinsics");
    json_t *head = head_json(json_object_get(b, "header"));
    if (!head || !json_is_array(xs)) {
        json_decref(head);
        op->status = GN_EINVAL;
        snprintf(op->err, sizeof(op->err), "chain_getBlock: malformed block");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < json_array_size(xs); i++) {
        uint8_t *p;
        size_t n;
        if (unhex(json_string_value(json_array_get(xs, i)), &p, &n) < 0) {
            op->status = GN_EINVAL;
            snprintf(op->err, sizeof(op->err), "extrinsic %zu: not hex", i);
            break;
        }
        json_t *x = extrinsic_json(op->rt, p, n, i, op->err, sizeof(op->err), &op->status);
        free(p);
        if (!x)
            break;
        json_array_append_new(arr, x);
    }
    json_object_set_new(head, "extrinsics", arr);
    op->out = head;
}

static void got_block(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0) {
        op_fail_rpc(op, "chain_getBlock", status, m);
        return;
    }
    if (json_is_null(m->result)) {
        op_finish(op, GN_ENOENT, NULL, "block %s: no such block", op->at);
        return;
    }
    op->in_json = json_incref(m->result);
    size_t size = 0;
    const json_t *xs = json_object_get(json_object_get(m->result, "block"), "extrinsics");
    for (size_t i = 0; i < json_array_size(xs); i++)
        size += json_string_length(json_array_get(xs, i)) / 2;
    decode(op, size, block_work, finish_decoded);
}

static void block_rt(op_t *op)
{
    op_rpc(op, "chain_getBlock", json_pack("[s]", op->at), got_block);
}

int gn_chain_block(gn_chain_t *c, const char *at, gn_chain_cb cb, void *arg)
{
    int rc = check_at(c, at);
    if (rc < 0)
        return rc;
    op_t *op = op_new(c, cb, arg, at);
    if (!op)
        return GN_ENOMEM;
    pin_then_runtime(op, block_rt);
    return 0;
}

/* ---- events ---- */

static const char *phase_name(gn_phase_t p)
{
    return p == GN_PHASE_APPLY_EXTRINSIC ? "ApplyExtrinsic"
           : p == GN_PHASE_FINALIZATION  ? "Finalization"
                                         : "Initialization";
}

/* Events as JSON; only = -1 for all, else only those of extrinsic `only`. */
static json_t *events_json(const gn_runtime_t *rt, const uint8_t *p, size_t n, long only, char *err,
                           size_t cap, int *status)
{
    gn_arena_t ar;
    gn_event_t *ev;
    size_t count;
    gn_arena_init(&ar, NULL, 0);
    int rc = gn_events_decode(&rt->md, p, n, &ar, &ev, &count);
    if (rc < 0) {
        snprintf(err, cap, "System.Events: %s", gn_strerror(rc));
        *status = rc;
        gn_arena_free(&ar);
        return NULL;
    }
    gn_json_opts_t o = {GN_JSON_SS58_PREFIX, rt->ss58_prefix};
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        const gn_event_t *e = &ev[i];
        if (only >= 0 &&
            (e->phase != GN_PHASE_APPLY_EXTRINSIC || e->extrinsic_index != (uint32_t)only))
            continue;
        json_t *j =
            json_pack("{s:s,s:s,s:s}", "phase", phase_name(e->phase), "pallet",
                      e->pallet ? e->pallet->name : "?", "event", e->event ? e->event->name : "?");
        if (e->phase == GN_PHASE_APPLY_EXTRINSIC)
            json_object_set_new(j, "extrinsic_index", json_integer(e->extrinsic_index));
        json_t *f = e->fields ? unwrap_variant(gn_value_to_json(&rt->md, e->fields, &o)) : NULL;
        json_object_set_new(j, "fields", f ? f : json_null());
        json_array_append_new(arr, j);
    }
    *status = 0;
    gn_arena_free(&ar);
    return arr;
}

static void events_work(op_t *op)
{
    op->out = events_json(op->rt, op->in, op->in_len, -1, op->err, sizeof(op->err), &op->status);
}

static void got_events(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0) {
        op_fail_rpc(op, "state_getStorage", status, m);
        return;
    }
    if (json_is_null(m->result)) {
        op_finish(op, 0, json_array(), NULL);
        return;
    }
    if (unhex(json_string_value(m->result), &op->in, &op->in_len) < 0) {
        op_finish(op, GN_EINVAL, NULL, "System.Events: not hex");
        return;
    }
    decode(op, op->in_len, events_work, finish_decoded);
}

/* The hex storage key of an entry with `keys` (JSON array or NULL); NULL
 * after finishing the op with the error. */
static char *entry_key(op_t *op, const gn_storage_entry_t *e, const json_t *keys)
{
    gn_scale_writer_t w;
    char err[256] = "";
    gn_scale_writer_init(&w, NULL);
    int rc = gn_storage_key_json(&op->rt->md, e, keys, &w, err, sizeof(err));
    char *hex = rc == 0 ? hex_dup(w.buf, w.len) : NULL;
    gn_scale_writer_free(&w);
    if (rc < 0)
        op_finish(op, rc, NULL, "%s.%s: %s", e->pallet ? e->pallet->name : "?", e->name, err);
    else if (!hex)
        op_finish(op, GN_ENOMEM, NULL, NULL);
    return hex;
}

static const gn_storage_entry_t *find_entry(op_t *op, const char *pallet, const char *item)
{
    const gn_storage_entry_t *e = gn_metadata_storage(&op->rt->md, pallet, item);
    if (!e)
        op_finish(op, GN_ENOENT, NULL, "no storage item %s.%s in runtime %u", pallet, item,
                  op->rt->spec_version);
    return e;
}

/* Read System.Events at op->at; fn gets the raw answer. */
static void read_events(op_t *op, rpc_fn fn)
{
    const gn_storage_entry_t *e = find_entry(op, "System", "Events");
    char *key = e ? entry_key(op, e, NULL) : NULL;
    if (!key)
        return;
    op_rpc(op, "state_getStorage", json_pack("[s,s]", key, op->at), fn);
    free(key);
}

static void events_rt(op_t *op)
{
    read_events(op, got_events);
}

int gn_chain_events(gn_chain_t *c, const char *at, gn_chain_cb cb, void *arg)
{
    int rc = check_at(c, at);
    if (rc < 0)
        return rc;
    op_t *op = op_new(c, cb, arg, at);
    if (!op)
        return GN_ENOMEM;
    pin_then_runtime(op, events_rt);
    return 0;
}

/* ---- storage ---- */

/* A storage value (hex or null) decoded as the entry's value. */
static json_t *value_json(const gn_runtime_t *rt, const gn_storage_entry_t *e, const json_t *hex,
                          char *err, size_t cap, int *status)
{
    if (!json_is_string(hex)) { /* absent: the default, or null for Optional entries */
        *status = 0;
        if (e->modifier != GN_STORAGE_DEFAULT)
            return json_null();
        return decode_json(rt, e->value_type, e->default_value, e->default_len, err, cap, status);
    }
    uint8_t *b;
    size_t n;
    if ((*status = unhex(json_string_value(hex), &b, &n)) < 0) {
        snprintf(err, cap, "%s: storage value is not hex", e->name);
        return NULL;
    }
    json_t *j = decode_json(rt, e->value_type, b, n, err, cap, status);
    free(b);
    return j;
}

static void query_work(op_t *op)
{
    op->out = value_json(op->rt, op->entry, op->in_json, op->err, sizeof(op->err), &op->status);
}

static void got_storage(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0) {
        op_fail_rpc(op, "state_getStorage", status, m);
        return;
    }
    op->in_json = json_incref(m->result);
    decode(op, json_string_length(m->result) / 2, query_work, finish_decoded);
}

static void query_rt(op_t *op)
{
    const gn_storage_entry_t *e = find_entry(op, op->pallet, op->item);
    if (!e) /* the op has answered and is gone */
        return;
    op->entry = e;
    char *key = entry_key(op, op->entry, op->args);
    if (!key)
        return;
    op_rpc(op, "state_getStorage", with_at(op, json_pack("[s]", key)), got_storage);
    free(key);
}

int gn_chain_query(gn_chain_t *c, const char *pallet, const char *item, const json_t *keys,
                   const char *at, gn_chain_cb cb, void *arg)
{
    int rc = check_at(c, at);
    if (rc < 0)
        return rc;
    if (!pallet || !item || (keys && !json_is_array(keys)))
        return GN_EINVAL;
    op_t *op = op_new(c, cb, arg, at);
    if (!op)
        return GN_ENOMEM;
    op->pallet = strdup(pallet);
    op->item = strdup(item);
    op->args = keys ? json_deep_copy(keys) : NULL;
    with_runtime(op, query_rt);
    return 0;
}

/* state_queryStorageAt's [{block, changes: [[key, value|null]]}] as
 * {key: value|null}. */
static json_t *changes_by_key(const json_t *sets)
{
    json_t *out = json_object();
    for (size_t i = 0; i < json_array_size(sets); i++) {
        json_t *ch = json_object_get(json_array_get(sets, i), "changes");
        for (size_t k = 0; k < json_array_size(ch); k++) {
            json_t *pair = json_array_get(ch, k);
            const char *key = json_string_value(json_array_get(pair, 0));
            if (key)
                json_object_set(out, key, json_array_get(pair, 1));
        }
    }
    return out;
}

/* query_multi: op->args = [[pallet, item, keys], ...]; op->in_json holds
 * the keys in order; state_queryStorageAt answers [{block, changes}]. */
static void multi_work(op_t *op)
{
    json_t *sets = op->out; /* the node's answer, swapped in by got_multi */
    op->out = NULL;
    json_t *changes = changes_by_key(sets);
    json_decref(sets);
    json_t *arr = json_array();
    op->status = 0;
    for (size_t i = 0; i < json_array_size(op->in_json) && op->status == 0; i++) {
        json_t *q = json_array_get(op->args, i);
        const gn_storage_entry_t *e =
            gn_metadata_storage(&op->rt->md, json_string_value(json_array_get(q, 0)),
                                json_string_value(json_array_get(q, 1)));
        const char *key = json_string_value(json_array_get(op->in_json, i));
        json_t *v = value_json(op->rt, e, json_object_get(changes, key), op->err, sizeof(op->err),
                               &op->status);
        if (v)
            json_array_append_new(arr, v);
    }
    json_decref(changes);
    op->out = arr;
}

static void got_multi(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0) {
        op_fail_rpc(op, "state_queryStorageAt", status, m);
        return;
    }
    op->out = json_incref(m->result);
    size_t size = 0;
    json_t *ch = json_object_get(json_array_get(m->result, 0), "changes");
    for (size_t k = 0; k < json_array_size(ch); k++)
        size += json_string_length(json_array_get(json_array_get(ch, k), 1)) / 2;
    decode(op, size, multi_work, finish_decoded);
}

static void multi_rt(op_t *op)
{
    json_t *keys = json_array();
    op->in_json = keys;
    for (size_t i = 0; i < json_array_size(op->args); i++) {
        json_t *q = json_array_get(op->args, i);
        const char *p = json_string_value(json_array_get(q, 0));
        const char *it = json_string_value(json_array_get(q, 1));
        json_t *k = json_array_get(q, 2);
        if (!p || !it || (k && !json_is_array(k) && !json_is_null(k))) {
            op_finish(op, GN_EINVAL, NULL, "query %zu: want [pallet, item, [keys...]]", i);
            return;
        }
        const gn_storage_entry_t *e = find_entry(op, p, it);
        char *hex = e ? entry_key(op, e, json_is_array(k) ? k : NULL) : NULL;
        if (!hex)
            return;
        json_array_append_new(keys, json_string(hex));
        free(hex);
    }
    op_rpc(op, "state_queryStorageAt", with_at(op, json_pack("[O]", keys)), got_multi);
}

int gn_chain_query_multi(gn_chain_t *c, const json_t *queries, const char *at, gn_chain_cb cb,
                         void *arg)
{
    int rc = check_at(c, at);
    if (rc < 0)
        return rc;
    if (!json_is_array(queries))
        return GN_EINVAL;
    op_t *op = op_new(c, cb, arg, at);
    if (!op)
        return GN_ENOMEM;
    op->args = json_deep_copy(queries);
    with_runtime(op, multi_rt);
    return 0;
}

/* ---- query_map: key pages are serial (each starts after the last key),
 * value reads of a page overlap the next key page ---- */

static void map_next_keys(op_t *op, const char *start);

static void map_work(op_t *op)
{
    json_t *entries = json_array();
    gn_json_opts_t jo = {GN_JSON_SS58_PREFIX, op->rt->ss58_prefix};
    const gn_storage_entry_t *e = op->entry;
    op->status = 0;
    for (size_t p = 0; p < op->n_pages && op->status == 0; p++) {
        json_t *vals = changes_by_key(op->pages[p].changes);
        json_t *keys = op->pages[p].keys;
        for (size_t i = 0; i < json_array_size(keys) && op->status == 0; i++) {
            const char *key = json_string_value(json_array_get(keys, i));
            uint8_t *kb;
            size_t kn;
            if (!key || unhex(key, &kb, &kn) < 0) {
                op->status = GN_EINVAL;
                snprintf(op->err, sizeof(op->err), "state_getKeysPaged: a key is not hex");
                break;
            }
            gn_arena_t ar;
            gn_arena_init(&ar, NULL, 0);
            gn_value_t *kv = gn_arena_calloc(&ar, e->n_hashers ? e->n_hashers : 1, sizeof(*kv));
            json_t *kj = json_array();
            int rc = kv ? gn_storage_key_decode(&op->rt->md, e, kb, kn, &ar, kv) : GN_ENOMEM;
            for (uint32_t h = 0; rc == 0 && h < e->n_hashers; h++) {
                if (kv[h].type == UINT32_MAX) { /* an opaque hash: its bytes */
                    char *x = hex_dup(kv[h].u.bytes.p, kv[h].u.bytes.n);
                    json_array_append_new(kj, json_string(x ? x : ""));
                    free(x);
                } else {
                    json_array_append_new(kj, gn_value_to_json(&op->rt->md, &kv[h], &jo));
                }
            }
            gn_arena_free(&ar);
            free(kb);
            if (rc < 0) {
                json_decref(kj);
                op->status = rc;
                snprintf(op->err, sizeof(op->err), "key %s: %s", key, gn_strerror(rc));
                break;
            }
            if (op->qm.keys_only) {
                json_array_append_new(entries, json_pack("{s:s,s:o}", "key", key, "keys", kj));
                continue;
            }
            json_t *v = value_json(op->rt, e, json_object_get(vals, key), op->err, sizeof(op->err),
                                   &op->status);
            if (!v) {
                json_decref(kj);
                break;
            }
            json_array_append_new(entries,
                                  json_pack("{s:s,s:o,s:o}", "key", key, "keys", kj, "value", v));
        }
        json_decref(vals);
    }
    const char *last = NULL;
    for (size_t p = op->n_pages; p-- > 0 && !last;) {
        size_t n = json_array_size(op->pages[p].keys);
        if (n)
            last = json_string_value(json_array_get(op->pages[p].keys, n - 1));
    }
    op->out = json_pack("{s:s,s:o,s:s?}", "at", op->at, "entries", entries, "last_key", last);
}

/* Finish once nothing is in flight: the error, or decode every page. */
static void map_settle(op_t *op)
{
    if (op->pending || op->keys_inflight)
        return;
    if (op->status < 0) {
        op_finish(op, op->status, NULL, "%s", op->err);
        return;
    }
    if (!op->keys_done)
        return;
    size_t size = 0;
    for (size_t p = 0; p < op->n_pages; p++)
        size += json_array_size(op->pages[p].keys) * 64;
    decode(op, size, map_work, finish_decoded);
}

static void map_error(op_t *op, const char *what, int status, const gn_rpc_msg_t *m)
{
    if (op->status < 0)
        return; /* the first error is the one reported */
    op->status = status;
    if (status == GN_EIO && m)
        snprintf(op->err, sizeof(op->err), "%s: the node answered %lld: %s", what,
                 (long long)m->error_code, m->error_message ? m->error_message : "");
    else
        snprintf(op->err, sizeof(op->err), "%s: %s", what, gn_strerror(status));
}

typedef struct map_hop {
    op_t *op;
    size_t page;
} map_hop_t;

static void got_map_values(int status, const gn_rpc_msg_t *m, void *arg)
{
    map_hop_t h = *(map_hop_t *)arg;
    free(arg);
    op_t *op = h.op;
    op->pending--;
    if (status < 0)
        map_error(op, "state_queryStorageAt", status, m);
    else
        op->pages[h.page].changes = json_incref(m->result);
    map_settle(op);
}

static int map_read_page(op_t *op, json_t *keys)
{
    if (op->n_pages == op->cap_pages) {
        size_t cap = op->cap_pages ? 2 * op->cap_pages : 8;
        page_t *p = realloc(op->pages, cap * sizeof(*p));
        if (!p)
            return GN_ENOMEM;
        op->pages = p;
        op->cap_pages = cap;
    }
    map_hop_t *h = malloc(sizeof(*h));
    if (!h)
        return GN_ENOMEM;
    size_t page = op->n_pages++;
    op->pages[page].keys = json_incref(keys);
    op->pages[page].changes = NULL;
    if (op->qm.keys_only) {
        free(h);
        return 0;
    }
    h->op = op;
    h->page = page;
    json_t *params = json_pack("[O,s]", keys, op->at);
    int rc =
        gn_rpc_call(op->c->rpc, "state_queryStorageAt", params, op->c->timeout, got_map_values, h);
    json_decref(params);
    if (rc < 0) {
        free(h);
        return rc;
    }
    op->pending++;
    return 0;
}

static void got_map_keys(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    op->keys_inflight = false;
    if (status == 0 && !json_is_array(m->result))
        status = GN_EINVAL;
    if (status < 0 || op->status < 0) {
        map_error(op, "state_getKeysPaged", status, m);
        op->keys_done = true;
        map_settle(op);
        return;
    }
    size_t got = json_array_size(m->result);
    json_t *keys = json_deep_copy(m->result);
    if (op->qm.max_results && op->total_keys + got > op->qm.max_results)
        while (json_array_size(keys) > op->qm.max_results - op->total_keys)
            json_array_remove(keys, json_array_size(keys) - 1);
    size_t n = json_array_size(keys);
    op->total_keys += n;
    int rc = n ? map_read_page(op, keys) : 0;
    json_decref(keys);
    if (rc < 0) {
        map_error(op, "state_queryStorageAt", rc, NULL);
        op->keys_done = true;
    } else if (got == op->qm.page_size &&
               (!op->qm.max_results || op->total_keys < op->qm.max_results)) {
        map_next_keys(op, json_string_value(json_array_get(m->result, got - 1)));
    } else {
        op->keys_done = true;
    }
    map_settle(op);
}

static void map_next_keys(op_t *op, const char *start)
{
    json_t *p =
        json_pack("[s,I,s?,s]", op->prefix_hex, (json_int_t)op->qm.page_size, start, op->at);
    int rc = rpc(op->c, "state_getKeysPaged", p, 0, got_map_keys, op);
    if (rc < 0) {
        map_error(op, "state_getKeysPaged", rc, NULL);
        op->keys_done = true;
    } else {
        op->keys_inflight = true;
    }
}

static void map_rt(op_t *op)
{
    const gn_storage_entry_t *e = find_entry(op, op->pallet, op->item);
    if (!e) /* the op has answered and is gone */
        return;
    op->entry = e;
    if (!op->entry->is_map) {
        op_finish(op, GN_EINVAL, NULL, "%s.%s is not a map", op->pallet, op->item);
        return;
    }
    char *prefix = entry_key(op, op->entry, op->args);
    if (!prefix) /* answered and gone */
        return;
    op->prefix_hex = prefix;
    map_next_keys(op, op->name); /* name: the start key, if any */
    map_settle(op);
}

int gn_chain_query_map(gn_chain_t *c, const char *pallet, const char *item, const json_t *prefix,
                       const gn_query_map_opts_t *o, const char *at, gn_chain_cb cb, void *arg)
{
    int rc = check_at(c, at);
    if (rc < 0)
        return rc;
    if (!pallet || !item || (prefix && !json_is_array(prefix)))
        return GN_EINVAL;
    op_t *op = op_new(c, cb, arg, at);
    if (!op)
        return GN_ENOMEM;
    op->pallet = strdup(pallet);
    op->item = strdup(item);
    op->args = prefix ? json_deep_copy(prefix) : NULL;
    if (o)
        op->qm = *o;
    if (!op->qm.page_size)
        op->qm.page_size = 100;
    if (op->qm.page_size > 1000)
        op->qm.page_size = 1000;
    op->name = o && o->start_key ? strdup(o->start_key) : NULL;
    op->qm.start_key = NULL;
    pin_then_runtime(op, map_rt);
    return 0;
}

/* ---- constants, runtime calls, nonces ---- */

static void constant_rt(op_t *op)
{
    const gn_constant_t *k = gn_metadata_constant(&op->rt->md, op->pallet, op->name);
    if (!k) {
        op_finish(op, GN_ENOENT, NULL, "no constant %s.%s in runtime %u", op->pallet, op->name,
                  op->rt->spec_version);
        return;
    }
    int st;
    json_t *j = decode_json(op->rt, k->type, k->value, k->value_len, op->err, sizeof(op->err), &st);
    if (st < 0)
        op_finish(op, st, j, "%s.%s: %s", op->pallet, op->name, op->err);
    else
        op_finish(op, 0, j, NULL);
}

int gn_chain_constant(gn_chain_t *c, const char *pallet, const char *name, gn_chain_cb cb,
                      void *arg)
{
    if (c->closed)
        return GN_ECLOSED;
    if (!pallet || !name)
        return GN_EINVAL;
    op_t *op = op_new(c, cb, arg, NULL);
    if (!op)
        return GN_ENOMEM;
    op->pallet = strdup(pallet);
    op->name = strdup(name);
    with_runtime(op, constant_rt);
    return 0;
}

/* runtime calls: op->pallet = api, op->name = method, op->entry unused;
 * op->number = the output type. */
static void call_work(op_t *op)
{
    op->out = decode_json(op->rt, (uint32_t)op->number, op->in, op->in_len, op->err,
                          sizeof(op->err), &op->status);
}

static void got_call(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0) {
        op_fail_rpc(op, "state_call", status, m);
        return;
    }
    if (unhex(json_string_value(m->result), &op->in, &op->in_len) < 0) {
        op_finish(op, GN_EINVAL, NULL, "state_call: the answer is not hex");
        return;
    }
    decode(op, op->in_len, call_work, finish_decoded);
}

static void call_rt(op_t *op)
{
    const gn_api_method_t *mt = gn_metadata_api_method(&op->rt->md, op->pallet, op->name);
    if (!mt) {
        op_finish(op, op->rt->md.version < 15 ? GN_EUNSUPPORTED : GN_ENOENT, NULL,
                  op->rt->md.version < 15
                      ? "runtime API %s.%s: the runtime offers no V15 metadata (no API types)"
                      : "no runtime API method %s.%s in runtime %u",
                  op->pallet, op->name, op->rt->spec_version);
        return;
    }
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    size_t given = json_is_array(op->args)    ? json_array_size(op->args)
                   : json_is_object(op->args) ? json_object_size(op->args)
                                              : 0;
    if (given != mt->n_inputs) {
        op_finish(op, GN_EINVAL, NULL, "%s.%s takes %u argument(s), %zu given", op->pallet,
                  op->name, mt->n_inputs, given);
        gn_scale_writer_free(&w);
        return;
    }
    for (uint32_t i = 0; i < mt->n_inputs; i++) {
        const json_t *a = json_is_array(op->args) ? json_array_get(op->args, i)
                                                  : json_object_get(op->args, mt->inputs[i].name);
        char err[256] = "";
        int rc = a ? gn_value_encode_json(&op->rt->md, mt->inputs[i].type, a, &w, err, sizeof(err))
                   : GN_EINVAL;
        if (rc < 0) {
            op_finish(op, rc, NULL, "%s.%s argument %s: %s", op->pallet, op->name,
                      mt->inputs[i].name, a ? err : "missing");
            gn_scale_writer_free(&w);
            return;
        }
    }
    char fn[256];
    snprintf(fn, sizeof(fn), "%s_%s", op->pallet, op->name);
    char *hex = hex_dup(w.buf, w.len);
    gn_scale_writer_free(&w);
    op->number = mt->output;
    op_rpc(op, "state_call", with_at(op, json_pack("[s,s]", fn, hex ? hex : "0x")), got_call);
    free(hex);
}

int gn_chain_runtime_call(gn_chain_t *c, const char *api, const char *method, const json_t *args,
                          const char *at, gn_chain_cb cb, void *arg)
{
    int rc = check_at(c, at);
    if (rc < 0)
        return rc;
    if (!api || !method)
        return GN_EINVAL;
    op_t *op = op_new(c, cb, arg, at);
    if (!op)
        return GN_ENOMEM;
    op->pallet = strdup(api);
    op->name = strdup(method);
    op->args = args ? json_deep_copy(args) : json_array();
    with_runtime(op, call_rt);
    return 0;
}

static void got_nonce(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0)
        op_fail_rpc(op, "system_accountNextIndex", status, m);
    else if (!json_is_integer(m->result))
        op_finish(op, GN_EINVAL, NULL, "system_accountNextIndex: not a number");
    else
        op_finish(op, 0, json_incref(m->result), NULL);
}

int gn_chain_nonce(gn_chain_t *c, const char *ss58, gn_chain_cb cb, void *arg)
{
    if (c->closed)
        return GN_ECLOSED;
    uint8_t acc[32];
    if (!ss58 || gn_ss58_decode_account(ss58, strlen(ss58), acc, NULL) < 0)
        return GN_EINVAL;
    op_t *op = op_new(c, cb, arg, NULL);
    if (!op)
        return GN_ENOMEM;
    op_rpc(op, "system_accountNextIndex", json_pack("[s]", ss58), got_nonce);
    return 0;
}

/* ---- signing and submission ---- */

static void nonce_remember(gn_chain_t *c, const uint8_t pub[32], uint64_t next, bool forget)
{
    unsigned free_i = c->nonce_next % NONCE_CACHE;
    for (unsigned i = 0; i < NONCE_CACHE; i++) {
        if (c->nonces[i].used && !memcmp(c->nonces[i].pub, pub, 32)) {
            c->nonces[i].used = !forget;
            c->nonces[i].next = next;
            return;
        }
    }
    if (forget)
        return;
    c->nonce_next++;
    memcpy(c->nonces[free_i].pub, pub, 32);
    c->nonces[free_i].next = next;
    c->nonces[free_i].used = true;
}

/* The chain's count can lag our own in a block being built: take the larger. */
static uint64_t nonce_next(const gn_chain_t *c, const uint8_t pub[32], uint64_t chain)
{
    for (unsigned i = 0; i < NONCE_CACHE; i++)
        if (c->nonces[i].used && !memcmp(c->nonces[i].pub, pub, 32))
            return c->nonces[i].next > chain ? c->nonces[i].next : chain;
    return chain;
}

static void receipt_start(op_t *op, const char *block);

/* The pool refused the extrinsic: the node's code, message and data; the
 * client's own nonce count for the signer starts again from the chain's. */
static void reject(op_t *op, json_int_t code, const char *message, const json_t *data)
{
    char *d = data && !json_is_null(data) ? json_dumps(data, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    nonce_remember(op->c, op->kp.pub, 0, true);
    op_finish(op, GN_EREJECTED, NULL, "rejected by the node: %lld: %s%s%s", (long long)code,
              message ? message : "", d ? ": " : "", d ? d : "");
    free(d);
}

static void watch_cb(int status, const json_t *result, void *arg);

static void got_submitted(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status == GN_EIO) {
        reject(op, m->error_code, m->error_message, m->error_data);
        return;
    }
    if (status < 0) {
        op_finish(op, status, NULL, "author_submitExtrinsic: %s", gn_strerror(status));
        return;
    }
    op_finish(op, 0, json_pack("{s:s,s:I}", "hash", op->xt_hash, "nonce", (json_int_t)op->nonce),
              NULL);
}

static void send_extrinsic(op_t *op)
{
    gn_chain_t *c = op->c;
    if (op->so.wait == GN_WAIT_NONE) {
        int rc = rpc(c, "author_submitExtrinsic", json_pack("[s]", op->xt_hex), GN_RPC_UNSAFE,
                     got_submitted, op);
        if (rc < 0)
            op_finish(op, rc, NULL, "author_submitExtrinsic: %s", gn_strerror(rc));
        return;
    }
    json_t *p = json_pack("[s]", op->xt_hex);
    op->watching = true;
    int rc = gn_rpc_subscribe_flags(c->rpc, "author_submitAndWatchExtrinsic", p,
                                    "author_unwatchExtrinsic", c->timeout, GN_RPC_UNSAFE, watch_cb,
                                    op, &op->sub_handle);
    json_decref(p);
    if (rc < 0) {
        op->watching = false;
        op_finish(op, rc, NULL, "author_submitAndWatchExtrinsic: %s", gn_strerror(rc));
    }
}

/* Stop watching (its last callback comes at once and is ignored), then
 * build the receipt or fail. */
static void stop_watching(op_t *op)
{
    op->watching = false;
    gn_rpc_unsubscribe(op->c->rpc, op->sub_handle);
}

static void watch_cb(int status, const json_t *result, void *arg)
{
    op_t *op = arg;
    if (!op->watching)
        return;
    if (status == GN_EGAP)
        return;
    if (status < 0) { /* the subscription ended: the submission failed */
        op->watching = false;
        if (status == GN_EIO) {
            reject(op, json_integer_value(json_object_get(result, "code")),
                   json_string_value(json_object_get(result, "message")),
                   json_object_get(result, "data"));
        } else {
            op_finish(op, status, NULL, "watching extrinsic %s: %s", op->xt_hash,
                      status == GN_EFATE ? "the connection was lost after sending: it may or "
                                           "may not be on chain (not re-sent)"
                                         : gn_strerror(status));
        }
        return;
    }
    const char *s = json_string_value(result);
    if (json_is_object(result) && json_object_size(result) == 1 &&
        json_is_null(json_object_iter_value(json_object_iter((json_t *)result))))
        s = json_object_iter_key(json_object_iter((json_t *)result)); /* {"ready": null} */
    if (s && (!strcmp(s, "future") || !strcmp(s, "ready")))
        return;
    if (json_is_object(result)) {
        const char *h;
        if ((h = json_string_value(json_object_get(result, "inBlock")))) {
            snprintf(op->in_block, sizeof(op->in_block), "%s", h);
            if (op->so.wait == GN_WAIT_IN_BLOCK) {
                stop_watching(op);
                receipt_start(op, op->in_block);
            }
            return;
        }
        if ((h = json_string_value(json_object_get(result, "finalized")))) {
            stop_watching(op);
            json_object_set_new(op->out ? op->out : (op->out = json_object()), "finalized",
                                json_true());
            receipt_start(op, h);
            return;
        }
        if (json_object_get(result, "retracted")) {
            op->in_block[0] = '\0';
            return;
        }
        if (json_object_get(result, "broadcast"))
            return;
    }
    /* dropped, invalid, usurped, finalityTimeout, or the local chain's
     * error object (author_extrinsicUpdate with an error as result) */
    char *txt = json_dumps(result, JSON_ENCODE_ANY | JSON_COMPACT);
    stop_watching(op);
    nonce_remember(op->c, op->kp.pub, 0, true);
    op_finish(op, GN_EREJECTED, NULL, "extrinsic %s: %s", op->xt_hash, txt ? txt : "?");
    free(txt);
}

static void got_fee(void *self, int status, const gn_rpc_msg_t *m)
{
    got_call(self, status, m);
}

static void sign_and_go(op_t *op, uint64_t chain_nonce)
{
    gn_chain_t *c = op->c;
    gn_runtime_t *rt = op->rt;
    gn_scale_writer_t call, xt;
    gn_tx_params_t tp;
    char err[256] = "";
    memset(&tp, 0, sizeof(tp));
    gn_scale_writer_init(&call, NULL);
    gn_scale_writer_init(&xt, NULL);
    int rc =
        gn_extrinsic_call_json(&rt->md, op->pallet, op->item, op->args, &call, err, sizeof(err));
    if (rc < 0) {
        op_finish(op, rc, NULL, "%s.%s: %s", op->pallet, op->item, err);
        goto done;
    }
    op->nonce = op->so.nonce >= 0 ? (uint64_t)op->so.nonce : nonce_next(c, op->kp.pub, chain_nonce);
    tp.spec_version = rt->spec_version;
    tp.tx_version = rt->tx_version;
    memcpy(tp.genesis_hash, c->genesis, 32);
    tp.period = op->so.immortal ? 0 : op->so.period ? op->so.period : 64;
    tp.block_number = op->number;
    gn_hex_decode_exact(op->at, 66, tp.block_hash, 32);
    tp.nonce = op->nonce;
    tp.tip = op->so.tip;
    uint8_t random[32];
    randombytes_buf(random, sizeof(random));
    rc = gn_extrinsic_sign(&rt->md, &op->kp, call.buf, call.len, &tp, random, &xt, NULL, err,
                           sizeof(err));
    sodium_memzero(random, sizeof(random));
    if (rc < 0) {
        op_finish(op, rc, NULL, "signing %s.%s: %s", op->pallet, op->item, err);
        goto done;
    }
    uint8_t h[32];
    gn_blake2b_256(xt.buf, xt.len, h);
    gn_hex_encode(h, 32, 1, op->xt_hash, sizeof(op->xt_hash));
    if (!(op->xt_hex = hex_dup(xt.buf, xt.len))) {
        op_finish(op, GN_ENOMEM, NULL, NULL);
        goto done;
    }
    if (op->sign_only) {
        op_finish(op, 0,
                  json_pack("{s:s,s:s,s:I}", "hex", op->xt_hex, "hash", op->xt_hash, "nonce",
                            (json_int_t)op->nonce),
                  NULL);
        goto done;
    }
    if (op->fee_only) {
        const gn_api_method_t *mt =
            gn_metadata_api_method(&rt->md, "TransactionPaymentApi", "query_info");
        if (!mt) {
            op_finish(op, GN_EUNSUPPORTED, NULL,
                      "TransactionPaymentApi.query_info: not in this runtime's metadata");
            goto done;
        }
        /* (uxt, len): the extrinsic as encoded, then its length as u32 */
        gn_scale_write_u32(&xt, (uint32_t)xt.len);
        char *args = hex_dup(xt.buf, xt.len);
        op->number = mt->output;
        op_rpc(op, "state_call",
               json_pack("[s,s,s]", "TransactionPaymentApi_query_info", args ? args : "0x", op->at),
               got_fee);
        free(args);
        goto done;
    }
    nonce_remember(c, op->kp.pub, op->nonce + 1, false);
    send_extrinsic(op);
done:
    gn_scale_writer_free(&call);
    gn_scale_writer_free(&xt);
}

static void got_submit_nonce(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0 || !json_is_integer(m->result)) {
        op_fail_rpc(op, "system_accountNextIndex", status < 0 ? status : GN_EINVAL, m);
        return;
    }
    sign_and_go(op, (uint64_t)json_integer_value(m->result));
}

static void submit_rt(op_t *op)
{
    if (!op->c->have_genesis) {
        op_finish(op, GN_ENOENT, NULL, "the genesis hash is not known yet");
        return;
    }
    if (op->so.nonce >= 0) {
        sign_and_go(op, 0);
        return;
    }
    char who[64];
    gn_ss58_encode(op->kp.pub, 32, op->rt->ss58_prefix, who, sizeof(who));
    op_rpc(op, "system_accountNextIndex", json_pack("[s]", who), got_submit_nonce);
}

/* The era starts at the best block: its header gives both the number and
 * (hashed here) the hash, in one request. */
static void got_submit_header(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    json_t *head = status == 0 && json_is_object(m->result) ? head_json(m->result) : NULL;
    if (!head) {
        op_fail_rpc(op, "chain_getHeader", status < 0 ? status : GN_EINVAL, m);
        return;
    }
    op->number = (uint64_t)json_integer_value(json_object_get(head, "number"));
    op->has_at = true;
    snprintf(op->at, sizeof(op->at), "%s", json_string_value(json_object_get(head, "hash")));
    json_decref(head);
    with_runtime(op, submit_rt);
}

static int submit_common(gn_chain_t *c, const char *pallet, const char *call, const json_t *args,
                         const gn_sr25519_keypair_t *kp, const gn_submit_opts_t *o, gn_chain_cb cb,
                         void *arg, bool sign_only, bool fee_only)
{
    if (c->closed)
        return GN_ECLOSED;
    if (!pallet || !call || !kp)
        return GN_EINVAL;
    op_t *op = op_new(c, cb, arg, NULL);
    if (!op)
        return GN_ENOMEM;
    op->pallet = strdup(pallet);
    op->item = strdup(call);
    op->args = args ? json_deep_copy(args) : json_object();
    op->kp = *kp;
    if (o)
        op->so = *o;
    else
        op->so.nonce = -1;
    op->sign_only = sign_only;
    op->fee_only = fee_only;
    if (!op->pallet || !op->item || !op->args) {
        op_finish(op, GN_ENOMEM, NULL, NULL);
        return 0;
    }
    op_rpc(op, "chain_getHeader", json_array(), got_submit_header);
    return 0;
}

int gn_chain_submit(gn_chain_t *c, const char *pallet, const char *call, const json_t *args,
                    const gn_sr25519_keypair_t *kp, const gn_submit_opts_t *o, gn_chain_cb cb,
                    void *arg)
{
    return submit_common(c, pallet, call, args, kp, o, cb, arg, false, false);
}

int gn_chain_sign(gn_chain_t *c, const char *pallet, const char *call, const json_t *args,
                  const gn_sr25519_keypair_t *kp, const gn_submit_opts_t *o, gn_chain_cb cb,
                  void *arg)
{
    return submit_common(c, pallet, call, args, kp, o, cb, arg, true, false);
}

int gn_chain_fee(gn_chain_t *c, const char *pallet, const char *call, const json_t *args,
                 const gn_sr25519_keypair_t *kp, gn_chain_cb cb, void *arg)
{
    gn_submit_opts_t o = {.nonce = -1};
    return submit_common(c, pallet, call, args, kp, &o, cb, arg, false, true);
}

int gn_chain_submit_raw(gn_chain_t *c, const char *hex, gn_wait_t wait, gn_chain_cb cb, void *arg)
{
    if (c->closed)
        return GN_ECLOSED;
    uint8_t *b;
    size_t n;
    if (unhex(hex, &b, &n) < 0)
        return GN_EINVAL;
    op_t *op = op_new(c, cb, arg, NULL);
    if (!op) {
        free(b);
        return GN_ENOMEM;
    }
    uint8_t h[32];
    gn_blake2b_256(b, n, h);
    free(b);
    gn_hex_encode(h, 32, 1, op->xt_hash, sizeof(op->xt_hash));
    op->xt_hex = strdup(hex);
    op->so.wait = wait;
    op->so.nonce = -1;
    send_extrinsic(op);
    return 0;
}

/* ---- receipts: find the extrinsic in its block, then its events ---- */

static void receipt_work(op_t *op)
{
    gn_arena_t ar;
    gn_event_t *ev;
    size_t count;
    gn_runtime_t *rt = op->rt;
    json_t *r = op->out;
    op->out = NULL;
    long index = (long)op->number;
    gn_arena_init(&ar, NULL, 0);
    int rc = op->in ? gn_events_decode(&rt->md, op->in, op->in_len, &ar, &ev, &count) : 0;
    if (!op->in)
        count = 0;
    if (rc < 0) {
        op->status = rc;
        snprintf(op->err, sizeof(op->err), "the receipt's events: %s", gn_strerror(rc));
        json_decref(r);
        gn_arena_free(&ar);
        return;
    }
    gn_json_opts_t o = {GN_JSON_SS58_PREFIX, rt->ss58_prefix};
    bool success = false;
    for (size_t i = 0; i < count; i++) {
        const gn_event_t *e = &ev[i];
        if (e->phase != GN_PHASE_APPLY_EXTRINSIC || e->extrinsic_index != (uint32_t)index ||
            !e->pallet || !e->event)
            continue;
        if (!strcmp(e->pallet->name, "System") && !strcmp(e->event->name, "ExtrinsicSuccess"))
            success = true;
        if (!strcmp(e->pallet->name, "System") && !strcmp(e->event->name, "ExtrinsicFailed")) {
            const gn_value_t *de = gn_value_field(&rt->md, e->fields, "dispatch_error");
            gn_dispatch_error_t d;
            if (de && gn_dispatch_error(&rt->md, de, &d) == 0) {
                json_t *docs = json_array();
                for (uint32_t k = 0; k < d.docs.n; k++)
                    json_array_append_new(docs, json_stringn(d.docs.lines[k].p, d.docs.lines[k].n));
                json_t *ej = json_pack("{s:s,s:s,s:o}", "kind", d.kind ? d.kind : "?", "name",
                                       d.name ? d.name : "?", "docs", docs);
                if (d.pallet)
                    json_object_set_new(ej, "pallet", json_string(d.pallet));
                json_object_set_new(r, "error", ej);
            }
        }
        if (!strcmp(e->pallet->name, "TransactionPayment") &&
            !strcmp(e->event->name, "TransactionFeePaid")) {
            const gn_value_t *fee = gn_value_field(&rt->md, e->fields, "actual_fee");
            if (fee)
                json_object_set_new(r, "fee", gn_value_to_json(&rt->md, fee, &o));
        }
    }
    gn_arena_free(&ar);
    json_object_set_new(r, "success", json_boolean(success));
    json_t *evs =
        op->in ? events_json(rt, op->in, op->in_len, index, op->err, sizeof(op->err), &op->status)
               : json_array();
    json_object_set_new(r, "events", evs ? evs : json_array());
    op->out = r;
}

static void got_receipt_events(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0) {
        op_fail_rpc(op, "state_getStorage(System.Events)", status, m);
        return;
    }
    if (json_is_string(m->result) &&
        unhex(json_string_value(m->result), &op->in, &op->in_len) < 0) {
        op_finish(op, GN_EINVAL, NULL, "System.Events: not hex");
        return;
    }
    decode(op, op->in_len, receipt_work, finish_decoded);
}

static void got_receipt_block(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0) {
        op_fail_rpc(op, "chain_getBlock", status, m);
        return;
    }
    const json_t *b = json_object_get(m->result, "block");
    const json_t *xs = json_object_get(b, "extrinsics");
    long index = -1;
    for (size_t i = 0; i < json_array_size(xs) && index < 0; i++) {
        const char *x = json_string_value(json_array_get(xs, i));
        if (x && !strcasecmp(x, op->xt_hex))
            index = (long)i;
    }
    if (index < 0) {
        op_finish(op, GN_ENOENT, NULL, "extrinsic %s is not in block %s", op->xt_hash, op->at);
        return;
    }
    json_t *r = op->out ? op->out : json_object();
    op->out = r;
    json_object_set_new(r, "hash", json_string(op->xt_hash));
    json_object_set_new(r, "nonce", json_integer((json_int_t)op->nonce));
    json_object_set_new(r, "block_hash", json_string(op->at));
    json_object_set_new(r, "block_number",
                        json_integer((json_int_t)hex_number(
                            json_object_get(json_object_get(b, "header"), "number"))));
    json_object_set_new(r, "extrinsic_index", json_integer(index));
    op->number = (uint64_t)index;
    read_events(op, got_receipt_events);
}

static void receipt_rt(op_t *op)
{
    op_rpc(op, "chain_getBlock", json_pack("[s]", op->at), got_receipt_block);
}

static void receipt_start(op_t *op, const char *block)
{
    op->has_at = true;
    snprintf(op->at, sizeof(op->at), "%s", block);
    gn_runtime_unref(op->rt); /* the block's own runtime decodes its events */
    op->rt = NULL;
    with_runtime(op, receipt_rt);
}

/* ---- head subscriptions ---- */

typedef struct head_sub {
    gn_chain_head_cb cb;
    void *arg;
} head_sub_t;

static void head_notice(int status, const json_t *result, void *arg)
{
    head_sub_t *h = arg;
    if (status == GN_EGAP) {
        h->cb(GN_EGAP, NULL, h->arg);
        return;
    }
    if (status < 0) {
        h->cb(status, NULL, h->arg);
        free(h);
        return;
    }
    json_t *j = head_json(result);
    if (j)
        h->cb(0, j, h->arg);
    json_decref(j);
}

int gn_chain_subscribe_heads(gn_chain_t *c, bool finalized, gn_chain_head_cb cb, void *arg,
                             uint64_t *handle)
{
    if (c->closed)
        return GN_ECLOSED;
    head_sub_t *h = malloc(sizeof(*h));
    if (!h)
        return GN_ENOMEM;
    h->cb = cb;
    h->arg = arg;
    int rc = gn_rpc_subscribe(
        c->rpc, finalized ? "chain_subscribeFinalizedHeads" : "chain_subscribeNewHeads", NULL,
        finalized ? "chain_unsubscribeFinalizedHeads" : "chain_unsubscribeNewHeads", c->timeout,
        head_notice, h, handle);
    if (rc < 0)
        free(h);
    return rc;
}

static int unsubscribe_storage(gn_chain_t *c, uint64_t handle);

int gn_chain_unsubscribe(gn_chain_t *c, uint64_t handle)
{
    if (handle & (1ull << 63))
        return unsubscribe_storage(c, handle);
    return gn_rpc_unsubscribe(c->rpc, handle);
}

/* ---- raw calls ---- */

static void got_raw(void *self, int status, const gn_rpc_msg_t *m)
{
    op_t *op = self;
    if (status < 0)
        op_fail_rpc(op, op->name, status, m);
    else
        op_finish(op, 0, json_incref(m->result), NULL);
}

int gn_chain_rpc(gn_chain_t *c, const char *method, const json_t *params, gn_chain_cb cb, void *arg)
{
    if (c->closed)
        return GN_ECLOSED;
    if (!method || (params && !json_is_array(params)))
        return GN_EINVAL;
    op_t *op = op_new(c, cb, arg, NULL);
    if (!op)
        return GN_ENOMEM;
    op->name = strdup(method);
    op_rpc(op, method, params ? json_deep_copy(params) : json_array(), got_raw);
    return 0;
}

/* ---- storage subscriptions: the key needs the runtime first, so the
 * handle is ours (high bit set) and maps to the RPC one once made ---- */

#define STORAGE_HANDLE (1ull << 63)

typedef struct storage_sub {
    uint64_t id, rpc_handle;
    gn_chain_t *c;
    gn_runtime_t *rt;
    const gn_storage_entry_t *entry;
    gn_chain_head_cb cb;
    void *arg;
    bool cancelled, subscribed;
    struct storage_sub *next;
} storage_sub_t;

static void ssub_unlink_free(storage_sub_t *s)
{
    gn_chain_t *c = s->c;
    for (storage_sub_t **p = (storage_sub_t **)&c->storage_subs; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    gn_runtime_unref(s->rt);
    free(s);
}

static void storage_notice(int status, const json_t *result, void *arg)
{
    storage_sub_t *s = arg;
    if (status == GN_EGAP) {
        s->cb(GN_EGAP, NULL, s->arg);
        return;
    }
    if (status < 0) {
        s->cb(status, NULL, s->arg);
        ssub_unlink_free(s);
        return;
    }
    json_t *changes = json_object_get(result, "changes");
    for (size_t i = 0; i < json_array_size(changes); i++) {
        char err[256];
        int st;
        json_t *v = value_json(s->rt, s->entry, json_array_get(json_array_get(changes, i), 1), err,
                               sizeof(err), &st);
        if (!v)
            continue;
        json_t *j = json_pack("{s:O,s:o}", "block", json_object_get(result, "block"), "value", v);
        s->cb(0, j, s->arg);
        json_decref(j);
    }
}

static void ssub_done(int status, json_t *result, const char *error, void *arg)
{
    (void)error;
    storage_sub_t *s = arg;
    json_decref(result);
    if (status < 0 && !s->subscribed) { /* never made: the end */
        if (!s->cancelled)
            s->cb(status, NULL, s->arg);
        ssub_unlink_free(s);
    }
}

static void ssub_rt(op_t *op)
{
    storage_sub_t *s = op->arg;
    if (s->cancelled) {
        op_finish(op, GN_ECLOSED, NULL, "unsubscribed");
        return;
    }
    const gn_storage_entry_t *e = find_entry(op, op->pallet, op->item);
    if (!e)
        return;
    char *key = entry_key(op, e, op->args);
    if (!key)
        return;
    s->rt = gn_runtime_ref(op->rt);
    s->entry = e;
    json_t *p = json_pack("[[s]]", key);
    free(key);
    int rc = gn_rpc_subscribe(op->c->rpc, "state_subscribeStorage", p, "state_unsubscribeStorage",
                              op->c->timeout, storage_notice, s, &s->rpc_handle);
    json_decref(p);
    if (rc == 0)
        s->subscribed = true;
    op_finish(op, rc, NULL, "state_subscribeStorage: %s", gn_strerror(rc));
}

int gn_chain_subscribe_storage(gn_chain_t *c, const char *pallet, const char *item,
                               const json_t *keys, gn_chain_head_cb cb, void *arg, uint64_t *handle)
{
    if (c->closed)
        return GN_ECLOSED;
    if (!pallet || !item || (keys && !json_is_array(keys)))
        return GN_EINVAL;
    storage_sub_t *s = calloc(1, sizeof(*s));
    op_t *op = s ? op_new(c, ssub_done, s, NULL) : NULL;
    if (!op) {
        free(s);
        return GN_ENOMEM;
    }
    s->c = c;
    s->cb = cb;
    s->arg = arg;
    s->id = STORAGE_HANDLE | ++c->next_storage_sub;
    s->next = c->storage_subs;
    c->storage_subs = s;
    op->pallet = strdup(pallet);
    op->item = strdup(item);
    op->args = keys ? json_deep_copy(keys) : NULL;
    if (handle)
        *handle = s->id;
    with_runtime(op, ssub_rt);
    return 0;
}

static int unsubscribe_storage(gn_chain_t *c, uint64_t handle)
{
    for (storage_sub_t *s = c->storage_subs; s; s = s->next) {
        if (s->id != handle)
            continue;
        if (s->subscribed)
            return gn_rpc_unsubscribe(c->rpc, s->rpc_handle); /* its last callback frees it */
        s->cancelled = true; /* still resolving: ends when it does */
        s->cb(GN_ECLOSED, NULL, s->arg);
        return 0;
    }
    return GN_ENOENT;
}
