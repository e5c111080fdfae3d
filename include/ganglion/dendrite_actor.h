/* The dendrite actor: owns a dendrite (include/ganglion/dendrite.h) on its
 * loop and serves other actors by message.
 *
 * - GN_MSG_DENDRITE_QUERY (payload gn_dendrite_query_msg_t), sent with
 *   gn_request: one synapse to many targets. Its one reply is
 *   GN_MSG_DENDRITE_RESULT (gn_dendrite_result_msg_t): the results in
 *   target order and the query's counts; m->status is 0, or GN_E* when
 *   the query could not start (then results is NULL). Give the request a
 *   timeout_ms above the query's timeout_s (the dendrite answers every
 *   target by then; a later reply is dropped by the runtime).
 * - With `partials` set, each result is also posted to the requester as
 *   GN_MSG_DENDRITE_PARTIAL (gn_dendrite_partial_t) as it arrives; all of
 *   them arrive before the final reply (one sender, FIFO).
 * - GN_MSG_DENDRITE_CANCEL (gn_dendrite_cancel_msg_t), posted: finishes a
 *   requester's query now; its unfinished targets get 499 "Request
 *   cancelled" and the reply comes as usual. Unknown or finished queries
 *   are ignored.
 * - GN_MSG_DENDRITE_STREAM (payload gn_dendrite_query_msg_t with one
 *   target, from gn_dendrite_stream_msg_new), sent with gn_request: a
 *   streaming synapse (gn_dendrite_stream). Each piece of the response body
 *   is posted to the requester as GN_MSG_DENDRITE_CHUNK
 *   (gn_dendrite_chunk_t) as it arrives, seq 0, 1, 2... in body order;
 *   then the one reply GN_MSG_DENDRITE_RESULT with results = [the final
 *   synapse] (the caller's, response headers merged; dendrite.status_code
 *   200 for a whole stream) and stats.chunks. Every chunk comes before
 *   the reply (one sender, FIFO). An error before the body (401, 403,
 *   503...) gives no chunk and that status. GN_MSG_DENDRITE_CANCEL ends a
 *   stream as it ends a query (499). A chunk the requester's mailbox
 *   refuses (full, or the requester gone) cancels the stream: the
 *   requester never sees a stream with a hole; the reply's stats say
 *   chunks_dropped = 1 and the status is 499.
 *
 * Every payload is owned by its message (the type's destructor frees it);
 * a handler keeps one by setting m->payload = NULL. The dendrite is
 * created when the actor starts (on the actor loop's uv loop) and closed
 * when it stops: queries then running are answered with 499s. */
#ifndef GANGLION_DENDRITE_ACTOR_H
#define GANGLION_DENDRITE_ACTOR_H

#include "ganglion/actor.h"
#include "ganglion/dendrite.h"
#include "ganglion/metrics.h"

extern const gn_msg_type_t GN_MSG_DENDRITE_QUERY;
extern const gn_msg_type_t GN_MSG_DENDRITE_RESULT;
extern const gn_msg_type_t GN_MSG_DENDRITE_PARTIAL;
extern const gn_msg_type_t GN_MSG_DENDRITE_CANCEL;
extern const gn_msg_type_t GN_MSG_DENDRITE_STREAM;
extern const gn_msg_type_t GN_MSG_DENDRITE_CHUNK;

typedef struct gn_dendrite_query_msg {
    gn_dendrite_target_t *targets; /* n of them, owned with their strings */
    size_t n;
    const gn_syn_class_t *cls; /* borrowed: must outlive the query (a static class) */
    json_t *synapse;           /* owned */
    double timeout_s;          /* > 0 */
    bool partials;             /* post GN_MSG_DENDRITE_PARTIAL per result */
} gn_dendrite_query_msg_t;

/* A query payload: the targets are copied (strings included), synapse is
 * taken over (also on failure). NULL when out of memory or a target has
 * a NULL ip or hotkey. */
gn_dendrite_query_msg_t *gn_dendrite_query_msg_new(const gn_dendrite_target_t *targets, size_t n,
                                                   const gn_syn_class_t *cls, json_t *synapse,
                                                   double timeout_s, bool partials);

/* A stream payload (for GN_MSG_DENDRITE_STREAM): one target, copied;
 * synapse taken over (also on failure). NULL as above. */
gn_dendrite_query_msg_t *gn_dendrite_stream_msg_new(const gn_dendrite_target_t *target,
                                                    const gn_syn_class_t *cls, json_t *synapse,
                                                    double timeout_s);

/* Counts over one query's results, by dendrite.status_code. */
typedef struct gn_dendrite_query_stats {
    size_t n;              /* targets */
    size_t ok;             /* 200 */
    size_t timeouts;       /* 408 */
    size_t cancelled;      /* 499 */
    size_t failed;         /* any other status */
    double elapsed_s;      /* from the actor taking the request to the last result */
    size_t chunks;         /* streams: chunks posted to the requester */
    size_t chunks_dropped; /* streams: 1 when a chunk was refused (then the status is 499) */
} gn_dendrite_query_stats_t;

typedef struct gn_dendrite_result_msg {
    int status;      /* as m->status: 0, or GN_E* (GN_EINVAL: not a valid query) */
    json_t *results; /* owned: n synapses in target order (as gn_dendrite_query's); NULL on error */
    gn_dendrite_query_stats_t stats;
} gn_dendrite_result_msg_t;

typedef struct gn_dendrite_partial {
    uint64_t corr;  /* the query request's correlation id (also m->corr) */
    size_t idx;     /* the target's index */
    json_t *result; /* owned: a copy of the result (the final reply has its own) */
} gn_dendrite_partial_t;

/* One piece of a streaming response body, as read from the socket. */
typedef struct gn_dendrite_chunk {
    uint64_t corr; /* the stream request's correlation id (also m->corr) */
    size_t seq;    /* 0, 1, 2... */
    size_t len;
    unsigned char data[]; /* len bytes (not NUL-terminated) */
} gn_dendrite_chunk_t;

typedef struct gn_dendrite_cancel_msg {
    gn_actor_t *requester; /* who sent the query */
    uint64_t corr;         /* its correlation id (from gn_request); 0: all of its queries */
} gn_dendrite_cancel_msg_t;

/* A cancel message, ready for gn_post (NULL when out of memory). */
gn_msg_t *gn_dendrite_cancel_msg(gn_actor_t *requester, uint64_t corr);

typedef struct gn_dendrite_actor gn_dendrite_actor_t;

/* Spawn on `l`. The options are copied (hotkey, external_ip and uuid
 * included; route_arg is kept as given); the dendrite is made at start.
 * GN_EINVAL: no hotkey, or strings too long for the dendrite. */
int gn_dendrite_actor_spawn(gn_loop_t *l, const gn_dendrite_opts_t *o, gn_dendrite_actor_t **out,
                            gn_actor_t **actor);

/* The dendrite's stats, accumulated over restarts (counters) and
 * refreshed after every query and every second: from any thread. */
void gn_dendrite_actor_stats(gn_dendrite_actor_t *da, gn_dendrite_stats_t *out);

/* A gn_metrics collector (gn_metrics_add_collector(m, this, da)), safe
 * from any thread, exporting the stats above:
 *   ganglion_dendrite_requests_total{status="200"}       finished requests by status
 *   ganglion_dendrite_latency_seconds                    histogram (the dendrite's buckets)
 *   ganglion_dendrite_connections_total{kind="opened|reused|closed_idle"}
 *   ganglion_dendrite_stale_retries_total                pooled connections found closed
 *   ganglion_dendrite_connection_reuse_ratio             reused / (opened + reused)
 *   ganglion_dendrite_in_flight, _waiting, _idle_connections  gauges
 * One dendrite actor per registry (the series carry no actor label). */
void gn_dendrite_metrics_collector(gn_metrics_t *m, void *dendrite_actor);

/* After gn_loop_run has returned, and after the last render of any
 * registry it is a collector of. */
void gn_dendrite_actor_free(gn_dendrite_actor_t *da);

#endif
