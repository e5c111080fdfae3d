/* The chain actor: owns the Substrate client (include/ganglion/chain.h) on
 * its loop and serves other actors by message. Requests are Query,
 * QueryMap, RuntimeCall and Submit (payload gn_chain_req_t); each gets one
 * GN_MSG_CHAIN_RESULT reply (gn_chain_result_t, status in the payload and
 * in the message). New and finalized heads are published on the `blocks`
 * topic as GN_MSG_CHAIN_BLOCK (gn_chain_block_t, shared). */
#ifndef GANGLION_CHAIN_ACTOR_H
#define GANGLION_CHAIN_ACTOR_H

#include "ganglion/actor.h"
#include "ganglion/chain.h"

extern const gn_msg_type_t GN_MSG_CHAIN_QUERY;
extern const gn_msg_type_t GN_MSG_CHAIN_QUERY_MAP;
extern const gn_msg_type_t GN_MSG_CHAIN_RUNTIME_CALL;
extern const gn_msg_type_t GN_MSG_CHAIN_SUBMIT;
extern const gn_msg_type_t GN_MSG_CHAIN_RESULT;
extern const gn_msg_type_t GN_MSG_CHAIN_BLOCK;

/* Exec: run fn on the chain actor's loop with its client, for any call that
 * answers once through a gn_chain_cb (gn_chain_*, gn_subtensor_* reads and
 * writes). fn must call cb exactly once unless it returns < 0; that answer
 * is the GN_MSG_CHAIN_RESULT reply. arg lives (and destroy(arg) runs) until
 * the answer, so fn may keep pointers into it. */
typedef int (*gn_chain_exec_fn)(gn_chain_t *c, gn_chain_cb cb, void *cb_arg, void *arg);
typedef struct gn_chain_exec {
    gn_chain_exec_fn fn;
    void *arg;
    void (*destroy)(void *arg); /* NULL: arg needs no freeing */
} gn_chain_exec_t;
extern const gn_msg_type_t GN_MSG_CHAIN_EXEC; /* payload: gn_chain_exec_t */
/* An Exec payload (NULL when out of memory, after destroy(arg)). */
gn_chain_exec_t *gn_chain_exec_new(gn_chain_exec_fn fn, void *arg, void (*destroy)(void *arg));

typedef struct gn_chain_req {
    char a[128], b[128]; /* pallet+item, api+method, pallet+call */
    json_t *args;        /* owned: keys, map prefix, call args, runtime args */
    char at[67];         /* "" for the best block */
    gn_query_map_opts_t map;
    gn_submit_opts_t submit;
    gn_sr25519_keypair_t kp; /* Submit: wiped when the request is freed */
} gn_chain_req_t;

typedef struct gn_chain_result {
    int status;
    json_t *result; /* owned */
    char error[512];
} gn_chain_result_t;

typedef struct gn_chain_block {
    gn_shared_t hdr;
    bool finalized;
    uint64_t number;
    char hash[67];
} gn_chain_block_t;

/* A request payload (zeroed; args taken over). */
gn_chain_req_t *gn_chain_req_new(const char *a, const char *b, json_t *args);

typedef struct gn_chain_actor gn_chain_actor_t;

/* Spawn on `l`; `blocks` may be NULL (no head subscriptions). */
int gn_chain_actor_spawn(gn_loop_t *l, const gn_chain_opts_t *o, gn_topic_t *blocks,
                         gn_chain_actor_t **out, gn_actor_t **actor);
/* After gn_loop_run has returned. */
void gn_chain_actor_free(gn_chain_actor_t *ca);

#endif
