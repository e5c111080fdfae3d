/* A JSON-RPC client over one WebSocket on a libuv loop: any number of
 * requests in flight, matched by id; every request has a deadline and its
 * callback runs exactly once (result, error, timeout, closed or fate
 * unknown). The transport core of the chain client (issue 6).
 *
 * Reconnects (default): when the connection drops or cannot be made, it is
 * retried after min(max, min * 2^attempt) ms with +-50% jitter, forever,
 * until gn_rpc_close. Meanwhile calls queue (each still bound by its own
 * deadline) and go out when a connection opens. Calls in flight at the drop
 * are sent again, except GN_RPC_UNSAFE ones (not idempotent: submitting an
 * extrinsic), which fail GN_EFATE. Subscriptions are made again on the new
 * connection and told GN_EGAP first; GN_RPC_UNSAFE ones end GN_EFATE.
 * Loop thread only. */
#ifndef GANGLION_RPC_H
#define GANGLION_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/jsonrpc.h"

typedef struct gn_rpc gn_rpc_t;

/* status: 0 with m->result; GN_EIO with m (an error response: code and
 * message); GN_ETIMEDOUT, GN_ECLOSED or GN_EFATE (sent, then the connection
 * was lost: it may or may not have taken effect) with m NULL. m lives during
 * the call. */
typedef void (*gn_rpc_cb)(int status, const gn_rpc_msg_t *m, void *arg);

/* The SDK's network names (finney, test, archive, local, latent-lite) to
 * URLs; other text is taken as a URL. "local" honours
 * BT_SUBTENSOR_CHAIN_ENDPOINT. */
const char *gn_rpc_network_url(const char *network);

typedef struct gn_rpc_opts {
    bool no_reconnect;       /* a drop fails everything GN_ECLOSED, for good */
    uint64_t backoff_min_ms; /* 0: 100 */
    uint64_t backoff_max_ms; /* 0: 5000 */
    /* optional: true when a connection opens (the first one too), false
     * when an open connection is lost (not for each failed attempt) */
    void (*on_state)(bool connected, void *arg);
    void *arg;
} gn_rpc_opts_t;

/* o NULL: defaults. Fails only for a bad URL or no memory; an unreachable
 * node is retried (or, with no_reconnect, fails the calls GN_ECLOSED). */
int gn_rpc_open_opts(uv_loop_t *loop, const char *url, const gn_rpc_opts_t *o, gn_rpc_t **out);
int gn_rpc_open(uv_loop_t *loop, const char *url, gn_rpc_t **out);

/* Not idempotent: never sent twice; GN_EFATE if the connection drops after
 * it was sent and before its answer. */
#define GN_RPC_UNSAFE 1u

/* params borrowed (NULL: []). */
int gn_rpc_call_flags(gn_rpc_t *c, const char *method, const json_t *params, uint64_t timeout_ms,
                      unsigned flags, gn_rpc_cb cb, void *arg);
int gn_rpc_call(gn_rpc_t *c, const char *method, const json_t *params, uint64_t timeout_ms,
                gn_rpc_cb cb, void *arg);

/* n requests in one frame (a JSON array), each with its own id, deadline
 * and callback: cb(status, m, args[i]) once per item. params may be NULL
 * (all []) or hold NULLs. A node that refuses batches (an error with id
 * null) gets the items again one by one, and no batch after that. */
int gn_rpc_batch(gn_rpc_t *c, size_t n, const char *const *methods, const json_t *const *params,
                 uint64_t timeout_ms, gn_rpc_cb cb, void *const *args);

/* Subscriptions (chain_subscribeNewHeads, ...): cb gets status 0 and each
 * notification's result; GN_EGAP (result NULL, not an end) when it was made
 * again after a reconnect; at the end (unsubscribed, closed, a failed
 * re-subscribe, GN_EFATE for an unsafe one) one last call with that
 * status. A failed subscribe reports its error the same way (and ends);
 * when the node refused it (GN_EIO), result is {"code","message","data"}.
 * timeout_ms bounds each subscribe request. *handle names it for
 * gn_rpc_unsubscribe and stays the same across reconnects. */
typedef void (*gn_rpc_sub_cb)(int status, const json_t *result, void *arg);
int gn_rpc_subscribe_flags(gn_rpc_t *c, const char *method, const json_t *params,
                           const char *unsubscribe_method, uint64_t timeout_ms, unsigned flags,
                           gn_rpc_sub_cb cb, void *arg, uint64_t *handle);
int gn_rpc_subscribe(gn_rpc_t *c, const char *method, const json_t *params,
                     const char *unsubscribe_method, uint64_t timeout_ms, gn_rpc_sub_cb cb,
                     void *arg, uint64_t *handle);
int gn_rpc_unsubscribe(gn_rpc_t *c, uint64_t handle);

bool gn_rpc_connected(const gn_rpc_t *c);
/* Connections opened after the first one. */
uint64_t gn_rpc_reconnects(const gn_rpc_t *c);

/* Close: no more reconnects; outstanding calls get GN_ECLOSED and
 * subscriptions end GN_ECLOSED. Then run the loop and gn_rpc_release (the
 * WebSocket's two-step teardown). */
void gn_rpc_close(gn_rpc_t *c);
void gn_rpc_release(gn_rpc_t *c);

#endif
