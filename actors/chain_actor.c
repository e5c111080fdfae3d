/* The chain actor (include/ganglion/chain_actor.h). */
#include "ganglion/chain_actor.h"
#include "ganglion/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_QUERY = 0x6301, T_MAP, T_CALL, T_SUBMIT, T_RESULT, T_BLOCK, T_EXEC };

static void req_destroy(void *p)
{
    gn_chain_req_t *r = p;
    json_decref(r->args);
    sodium_memzero(&r->kp, sizeof(r->kp));
    free(r);
}

static void result_destroy(void *p)
{
    gn_chain_result_t *r = p;
    json_decref(r->result);
    free(r);
}

const gn_msg_type_t GN_MSG_CHAIN_QUERY = {T_QUERY, "chain.Query", req_destroy};
const gn_msg_type_t GN_MSG_CHAIN_QUERY_MAP = {T_MAP, "chain.QueryMap", req_destroy};
const gn_msg_type_t GN_MSG_CHAIN_RUNTIME_CALL = {T_CALL, "chain.RuntimeCall", req_destroy};
const gn_msg_type_t GN_MSG_CHAIN_SUBMIT = {T_SUBMIT, "chain.Submit", req_destroy};
const gn_msg_type_t GN_MSG_CHAIN_RESULT = {T_RESULT, "chain.Result", result_destroy};
const gn_msg_type_t GN_MSG_CHAIN_BLOCK = {T_BLOCK, "chain.Block", gn_msg_shared_destroy};

static void exec_destroy(void *p)
{
    gn_chain_exec_t *e = p;
    if (e->destroy)
        e->destroy(e->arg);
    free(e);
}
const gn_msg_type_t GN_MSG_CHAIN_EXEC = {T_EXEC, "chain.Exec", exec_destroy};

gn_chain_exec_t *gn_chain_exec_new(gn_chain_exec_fn fn, void *arg, void (*destroy)(void *arg))
{
    gn_chain_exec_t *e = calloc(1, sizeof(*e));
    if (!e) {
        if (destroy)
            destroy(arg);
        return NULL;
    }
    e->fn = fn;
    e->arg = arg;
    e->destroy = destroy;
    return e;
}

gn_chain_req_t *gn_chain_req_new(const char *a, const char *b, json_t *args)
{
    gn_chain_req_t *r = calloc(1, sizeof(*r));
    if (!r) {
        json_decref(args);
        return NULL;
    }
    snprintf(r->a, sizeof(r->a), "%s", a ? a : "");
    snprintf(r->b, sizeof(r->b), "%s", b ? b : "");
    r->args = args;
    r->submit.nonce = -1;
    return r;
}

typedef struct retired {
    gn_chain_t *c;
    struct retired *next;
} retired_t;

struct gn_chain_actor {
    gn_chain_opts_t opts;
    char *url, *cache_dir;
    gn_topic_t *blocks;
    gn_chain_t *c;
    retired_t *retired; /* closed clients, released once the loop ran */
    gn_actor_t *self;
};

/* One request in flight: what the reply needs. */
typedef struct pending {
    gn_actor_t *self;
    gn_msg_t req;          /* a copy of the header (reply_to, corr); no payload */
    gn_chain_exec_t *exec; /* an Exec's payload, kept until it answers */
} pending_t;

static void answered(int status, json_t *result, const char *error, void *arg)
{
    pending_t *p = arg;
    gn_chain_result_t *r = calloc(1, sizeof(*r));
    if (r) {
        r->status = status;
        r->result = result;
        snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
        gn_msg_t *m = gn_msg_new(&GN_MSG_CHAIN_RESULT, r);
        if (m) {
            m->status = status;
            gn_reply(p->self, &p->req, m);
        }
    } else {
        json_decref(result);
    }
    if (p->exec)
        exec_destroy(p->exec);
    free(p);
}

static void block_free(gn_shared_t *s)
{
    free(s); /* the header is the block's first member */
}

static void publish_head(gn_chain_actor_t *ca, bool finalized, const json_t *head)
{
    gn_chain_block_t *b = calloc(1, sizeof(*b));
    if (!b)
        return;
    gn_shared_init(&b->hdr, block_free);
    b->finalized = finalized;
    b->number = (uint64_t)json_integer_value(json_object_get(head, "number"));
    snprintf(b->hash, sizeof(b->hash), "%s", json_string_value(json_object_get(head, "hash")));
    gn_publish(ca->blocks, &GN_MSG_CHAIN_BLOCK, &b->hdr);
}

static void on_new(int status, const json_t *head, void *arg)
{
    if (status == 0)
        publish_head(arg, false, head);
}

static void on_final(int status, const json_t *head, void *arg)
{
    if (status == 0)
        publish_head(arg, true, head);
}

static void release_retired(gn_chain_actor_t *ca)
{
    while (ca->retired) {
        retired_t *r = ca->retired;
        ca->retired = r->next;
        gn_chain_release(r->c);
        free(r);
    }
}

static int start(gn_actor_t *a)
{
    gn_chain_actor_t *ca = gn_actor_state(a);
    ca->self = a;
    release_retired(ca); /* a restart: the loop has run since their close */
    int rc = gn_chain_open(gn_loop_uv(gn_actor_loop(a)), &ca->opts, &ca->c);
    if (rc < 0)
        return rc;
    if (ca->blocks) {
        gn_chain_subscribe_heads(ca->c, false, on_new, ca, NULL);
        gn_chain_subscribe_heads(ca->c, true, on_final, ca, NULL);
    }
    return 0;
}

static void stop(gn_actor_t *a)
{
    gn_chain_actor_t *ca = gn_actor_state(a);
    if (!ca->c)
        return;
    gn_chain_close(ca->c); /* requests in flight are answered GN_ECLOSED */
    retired_t *r = malloc(sizeof(*r));
    if (r) {
        r->c = ca->c;
        r->next = ca->retired;
        ca->retired = r;
    }
    ca->c = NULL;
}

static int handle(gn_actor_t *a, gn_msg_t *m)
{
    gn_chain_actor_t *ca = gn_actor_state(a);
    gn_chain_req_t *r = m->payload;
    int rc;
    if (m->is_reply || !r || !m->reply_to)
        return 0;
    pending_t *p = malloc(sizeof(*p));
    if (!p)
        return 0; /* the requester's deadline answers for us */
    p->self = a;
    p->req = *m;
    p->req.payload = NULL;
    p->exec = NULL;
    if (m->type->id == T_EXEC) {
        gn_chain_exec_t *e = m->payload;
        m->payload = NULL;
        p->exec = e;
        rc = ca->c && e->fn ? e->fn(ca->c, answered, p, e->arg) : GN_ECLOSED;
        if (rc < 0)
            answered(rc, NULL, gn_strerror(rc), p);
        return 0;
    }
    const char *at = r->at[0] ? r->at : NULL;
    switch (m->type->id) {
    case T_QUERY: rc = gn_chain_query(ca->c, r->a, r->b, r->args, at, answered, p); break;
    case T_MAP:
        rc = gn_chain_query_map(ca->c, r->a, r->b, r->args, &r->map, at, answered, p);
        break;
    case T_CALL: rc = gn_chain_runtime_call(ca->c, r->a, r->b, r->args, at, answered, p); break;
    case T_SUBMIT:
        rc = gn_chain_submit(ca->c, r->a, r->b, r->args, &r->kp, &r->submit, answered, p);
        break;
    default: rc = GN_EUNSUPPORTED;
    }
    if (rc < 0)
        answered(rc, NULL, gn_strerror(rc), p);
    return 0;
}

int gn_chain_actor_spawn(gn_loop_t *l, const gn_chain_opts_t *o, gn_topic_t *blocks,
                         gn_chain_actor_t **out, gn_actor_t **actor)
{
    gn_chain_actor_t *ca = calloc(1, sizeof(*ca));
    if (!ca)
        return GN_ENOMEM;
    ca->opts = *o;
    ca->url = strdup(o->url);
    ca->cache_dir = o->cache_dir ? strdup(o->cache_dir) : NULL;
    ca->opts.url = ca->url;
    ca->opts.cache_dir = ca->cache_dir;
    ca->blocks = blocks;
    static const gn_actor_spec_t spec = {
        .name = "chain", .handle = handle, .start = start, .stop = stop, .mailbox_cap = 4096};
    int rc = ca->url ? gn_actor_spawn(l, &spec, ca, actor) : GN_ENOMEM;
    if (rc < 0) {
        free(ca->url);
        free(ca->cache_dir);
        free(ca);
        return rc;
    }
    *out = ca;
    return 0;
}

void gn_chain_actor_free(gn_chain_actor_t *ca)
{
    if (!ca)
        return;
    if (ca->c) { /* never stopped: close now; its handles are gone with the loop */
        gn_chain_close(ca->c);
        gn_chain_release(ca->c);
    }
    release_retired(ca);
    free(ca->url);
    free(ca->cache_dir);
    free(ca);
}
