/* The metagraph syncer actor (include/ganglion/metagraph.h). */
#include "ganglion/metagraph.h"
#include "ganglion/chain_actor.h"
#include "ganglion/error.h"
#include "ganglion/fs.h"
#include "ganglion/subtensor.h"
#include "ganglion/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_SNAPSHOT = 0x6d01, T_RETRY, T_PERSISTED, T_LOADED, T_SYNC };

const gn_msg_type_t GN_MSG_METAGRAPH = {T_SNAPSHOT, "metagraph.Snapshot", gn_msg_shared_destroy};
const gn_msg_type_t GN_MSG_METAGRAPH_SYNC = {T_SYNC, "metagraph.Sync", NULL};
static const gn_msg_type_t RETRY = {T_RETRY, "metagraph.retry", NULL};
static void free_persist(void *p);
static const gn_msg_type_t PERSISTED = {T_PERSISTED, "metagraph.persisted", free_persist};
static void free_loaded(void *p);
static const gn_msg_type_t LOADED = {T_LOADED, "metagraph.loaded", free_loaded};

struct gn_metagraph_actor {
    gn_metagraph_opts_t o;
    char *path;
    gn_actor_t *self;
    uint64_t last_sync, tempo, backoff_ms, pending_corr, tempo_corr;
    bool syncing, retry_armed, have_live;
    char sync_hash[67], head_hash[67];
    uint64_t sync_block, head;
    uint32_t failures; /* failed syncs since the last snapshot */
};

static void snapshot_free(gn_shared_t *s)
{
    gn_metagraph_t *m = (gn_metagraph_t *)s;
    json_decref(m->neurons);
    free(m);
}

static void publish(gn_metagraph_actor_t *ma, json_t *neurons, uint64_t block, const char *hash,
                    bool from_disk)
{
    gn_metagraph_t *m = calloc(1, sizeof(*m));
    if (!m) {
        json_decref(neurons);
        return;
    }
    gn_shared_init(&m->hdr, snapshot_free);
    m->netuid = ma->o.netuid;
    m->block = block;
    snprintf(m->block_hash, sizeof(m->block_hash), "%s", hash ? hash : "");
    m->from_disk = from_disk;
    m->failed_syncs = from_disk ? 0 : ma->failures;
    m->neurons = neurons;
    gn_publish(ma->o.out, &GN_MSG_METAGRAPH, &m->hdr);
}

/* ---- persistence, on the thread pool ---- */

typedef struct persist {
    char *path;
    uint8_t *buf;
    size_t len;
    int status;
} persist_t;

static void free_persist(void *p)
{
    persist_t *x = p;
    free(x->path);
    free(x->buf);
    free(x);
}

static void *write_snapshot(void *arg)
{
    persist_t *x = arg;
    x->status = gn_fs_write_atomic(x->path, x->buf, x->len, true);
    return x;
}

static void persist(gn_metagraph_actor_t *ma, const json_t *neurons, uint64_t block,
                    const char *hash)
{
    if (!ma->path)
        return;
    json_t *doc = json_pack("{s:i,s:I,s:s,s:O}", "netuid", ma->o.netuid, "block", (json_int_t)block,
                            "block_hash", hash, "neurons", neurons);
    persist_t *x = calloc(1, sizeof(*x));
    size_t cap = 0;
    if (!doc || !x || gn_wire_from_json(doc, &x->buf, &x->len, &cap) < 0 ||
        !(x->path = strdup(ma->path))) {
        if (x)
            free_persist(x);
        json_decref(doc);
        return;
    }
    json_decref(doc);
    if (gn_actor_work(ma->self, write_snapshot, x, &PERSISTED) < 0)
        free_persist(x);
}

typedef struct loaded {
    char *path;
    json_t *doc;
} loaded_t;

static void free_loaded(void *p)
{
    loaded_t *l = p;
    free(l->path);
    json_decref(l->doc);
    free(l);
}

static void *read_snapshot(void *arg)
{
    loaded_t *l = arg;
    uint8_t *b;
    size_t n;
    if (gn_fs_read(l->path, 256u << 20, &b, &n) == 0) {
        gn_wire_to_json(b, n, &l->doc);
        free(b);
    }
    return l;
}

/* ---- syncing ---- */

static void request(gn_metagraph_actor_t *ma, const char *api, const char *method, json_t *args,
                    const char *hash, bool query, uint64_t *corr)
{
    gn_chain_req_t *r = gn_chain_req_new(api, method, args);
    if (!r)
        return;
    snprintf(r->at, sizeof(r->at), "%s", hash ? hash : "");
    gn_msg_t *m = gn_msg_new(query ? &GN_MSG_CHAIN_QUERY : &GN_MSG_CHAIN_RUNTIME_CALL, r);
    if (m && gn_request(ma->self, ma->o.chain, m, 60000, corr) < 0)
        *corr = 0;
}

static void sync_now(gn_metagraph_actor_t *ma, uint64_t block, const char *hash)
{
    if (ma->syncing)
        return;
    ma->syncing = true;
    ma->sync_block = block;
    snprintf(ma->sync_hash, sizeof(ma->sync_hash), "%s", hash ? hash : "");
    request(ma, "NeuronInfoRuntimeApi", "get_neurons_lite", json_pack("[i]", ma->o.netuid), hash,
            false, &ma->pending_corr);
    request(ma, "SubtensorModule", "Tempo", json_pack("[i]", ma->o.netuid), hash, true,
            &ma->tempo_corr);
}

static void failed(gn_metagraph_actor_t *ma)
{
    ma->syncing = false;
    ma->failures++;
    if (ma->retry_armed)
        return;
    ma->backoff_ms = ma->backoff_ms ? ma->backoff_ms * 2 : 1000;
    if (ma->backoff_ms > 60000)
        ma->backoff_ms = 60000;
    uint64_t t;
    if (gn_actor_timer(ma->self, ma->backoff_ms, 0, &RETRY, &t) == 0)
        ma->retry_armed = true;
}

static bool due(const gn_metagraph_actor_t *ma, uint64_t number)
{
    if (!ma->have_live)
        return true;
    /* a head behind the snapshot: a node that restarted from an older
     * state, or another node; what it holds now is the truth to publish */
    if (number < ma->last_sync)
        return true;
    if (number >= ma->last_sync + ma->o.every_blocks)
        return true;
    /* subtensor runs a subnet's epoch when (block + netuid + 1) % (tempo + 1) == 0 */
    return ma->tempo && (number + ma->o.netuid) % (ma->tempo + 1) == 0 && number > ma->last_sync;
}

static int handle(gn_actor_t *a, gn_msg_t *m)
{
    gn_metagraph_actor_t *ma = gn_actor_state(a);
    switch (m->type->id) {
    case T_LOADED: {
        loaded_t *l = m->payload;
        json_t *n = json_object_get(l->doc, "neurons");
        if (!ma->have_live && json_is_array(n) &&
            json_integer_value(json_object_get(l->doc, "netuid")) == ma->o.netuid)
            publish(ma, json_incref(n),
                    (uint64_t)json_integer_value(json_object_get(l->doc, "block")),
                    json_string_value(json_object_get(l->doc, "block_hash")), true);
        return 0;
    }
    case T_PERSISTED: return 0;
    case T_RETRY: /* at the newest head seen */
        ma->retry_armed = false;
        sync_now(ma, ma->head, ma->head_hash[0] ? ma->head_hash : NULL);
        return 0;
    case T_SYNC: /* on demand, unless one is under way or a retry is due */
        if (!ma->retry_armed)
            sync_now(ma, ma->head, ma->head_hash[0] ? ma->head_hash : NULL);
        return 0;
    default: break;
    }
    if (m->type == &GN_MSG_CHAIN_BLOCK) {
        gn_chain_block_t *b = m->payload;
        if (!b->finalized) {
            ma->head = b->number;
            snprintf(ma->head_hash, sizeof(ma->head_hash), "%s", b->hash);
        }
        if (!b->finalized && !ma->retry_armed && due(ma, b->number))
            sync_now(ma, b->number, b->hash);
        return 0;
    }
    if (!m->is_reply)
        return 0;
    if (m->corr == ma->tempo_corr) {
        gn_chain_result_t *r = m->type == &GN_MSG_CHAIN_RESULT ? m->payload : NULL;
        if (r && r->status == 0 && json_is_integer(r->result))
            ma->tempo = (uint64_t)json_integer_value(r->result);
        return 0;
    }
    if (m->corr != ma->pending_corr)
        return 0;
    gn_chain_result_t *r = m->type == &GN_MSG_CHAIN_RESULT ? m->payload : NULL;
    if (!r || r->status < 0 || !json_is_array(r->result)) {
        failed(ma);
        return 0;
    }
    ma->syncing = false;
    ma->backoff_ms = 0;
    ma->have_live = true;
    ma->last_sync = ma->sync_block;
    json_t *neurons = r->result;
    r->result = NULL;
    gn_subtensor_add_ip_text(neurons);
    persist(ma, neurons, ma->sync_block, ma->sync_hash);
    publish(ma, neurons, ma->sync_block, ma->sync_hash, false);
    ma->failures = 0;
    return 0;
}

static int start(gn_actor_t *a)
{
    gn_metagraph_actor_t *ma = gn_actor_state(a);
    ma->self = a;
    ma->syncing = ma->retry_armed = false;
    if (ma->path && !ma->have_live) {
        loaded_t *l = calloc(1, sizeof(*l));
        if (l && (l->path = strdup(ma->path)) && gn_actor_work(a, read_snapshot, l, &LOADED) == 0)
            l = NULL;
        if (l)
            free_loaded(l);
    }
    /* the first sync comes with the first head (the new-heads subscription
     * delivers the current one at once), so every snapshot names its block */
    return 0;
}

int gn_metagraph_spawn(gn_loop_t *l, const gn_metagraph_opts_t *o, gn_metagraph_actor_t **out,
                       gn_actor_t **actor)
{
    if (!o->chain || !o->out)
        return GN_EINVAL;
    gn_metagraph_actor_t *ma = calloc(1, sizeof(*ma));
    if (!ma)
        return GN_ENOMEM;
    ma->o = *o;
    if (!ma->o.every_blocks)
        ma->o.every_blocks = 100;
    if (o->persist_path && !(ma->path = strdup(o->persist_path))) {
        free(ma);
        return GN_ENOMEM;
    }
    static const gn_actor_spec_t spec = {
        .name = "metagraph", .handle = handle, .start = start, .mailbox_cap = 1024};
    int rc = gn_actor_spawn(l, &spec, ma, actor);
    if (rc < 0) {
        free(ma->path);
        free(ma);
        return rc;
    }
    *out = ma;
    return 0;
}

void gn_metagraph_actor_free(gn_metagraph_actor_t *m)
{
    if (!m)
        return;
    free(m->path);
    free(m);
}
