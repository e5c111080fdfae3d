/* A JSON-RPC client over one WebSocket on a libuv loop: any number of
 * requests in flight, matched by id; every request has a deadline and its
 * callback runs exactly once (result, error, timeout or closed). This is
 * the transport core of the chain client (issue 6); subscriptions and
 * reconnects build on it. Loop thread only. */
#ifndef GANGLION_RPC_H
#define GANGLION_RPC_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/jsonrpc.h"

typedef struct gn_rpc gn_rpc_t;

/* status: 0 with m->result; GN_EIO with m (an error response: code and
 * message); GN_ETIMEDOUT or GN_ECLOSED with m NULL. m lives during the call. */
typedef void (*gn_rpc_cb)(int status, const gn_rpc_msg_t *m, void *arg);

/* The SDK's network names (finney, test, archive, local, latent-lite) to
 * URLs; other text is taken as a URL. "local" honours
 * BT_SUBTENSOR_CHAIN_ENDPOINT. */
const char *gn_rpc_network_url(const char *network);

int gn_rpc_open(uv_loop_t *loop, const char *url, gn_rpc_t **out);
/* params borrowed (NULL: []). */
int gn_rpc_call(gn_rpc_t *c, const char *method, const json_t *params, uint64_t timeout_ms,
                gn_rpc_cb cb, void *arg);
/* Subscriptions (chain_subscribeNewHeads, ...): cb gets status 0 and each
 * notification's result; at the end (unsubscribed or connection closed)
 * one last call with GN_ECLOSED. A failed subscribe reports its error the
 * same way (and ends). *handle names it for gn_rpc_unsubscribe. */
typedef void (*gn_rpc_sub_cb)(int status, const json_t *result, void *arg);
int gn_rpc_subscribe(gn_rpc_t *c, const char *method, const json_t *params,
                     const char *unsubscribe_method, uint64_t timeout_ms, gn_rpc_sub_cb cb,
                     void *arg, uint64_t *handle);
int gn_rpc_unsubscribe(gn_rpc_t *c, uint64_t handle);

/* Close: outstanding calls get GN_ECLOSED. Then run the loop and
 * gn_rpc_release (the WebSocket's two-step teardown). */
void gn_rpc_close(gn_rpc_t *c);
void gn_rpc_release(gn_rpc_t *c);

#endif
