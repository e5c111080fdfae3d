/* The axon: serves synapses to validators over HTTP (actors/http) with the
 * Python SDK's pipeline, status codes and messages
 * (../shared/spec/wire-protocol.md §4):
 *
 *   route (404) -> headers into a synapse (400) -> blacklist (403)
 *   -> verification on the thread pool (401) -> per-hotkey rate (429)
 *   -> priority queue, highest stake first, bounded (503; 408 when a
 *      request waited past its timeout) -> body into a synapse and its
 *      hash (422 not JSON, 500 bad body or hash mismatch) -> handler
 *   -> response with the axon's terminal info and headers.
 *
 * Unlike SDK v10: a request with no signature is refused; the freshness
 * window ignores the unsigned `version` and caps the unsigned `timeout`;
 * nonces may arrive out of order inside the window (a bounded replay set
 * per hotkey:uuid refuses repeats) and nonces older than the axon's start
 * are refused (no replay across a restart); the handler's `dendrite`
 * info is the verified header values; handlers have a deadline.
 *
 * GET /healthz and GET /metrics are served beside the synapse routes.
 * Everything runs on the loop thread given to gn_axon_start. */
#ifndef GANGLION_AXON_H
#define GANGLION_AXON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/actor.h"
#include "ganglion/http.h"
#include "ganglion/metrics.h"
#include "ganglion/sr25519.h"
#include "ganglion/synapse.h"

typedef struct gn_axon gn_axon_t;
/* One request in a handler's hands, until it is answered. */
typedef struct gn_axon_call gn_axon_call_t;

/* A handler gets the body object (a synapse of its class, the caller's
 * `dendrite` info replaced by the verified header values) and answers
 * once, now or later, on the loop thread: gn_axon_reply, gn_axon_fail, or
 * for a streaming class gn_axon_stream_*. It owns `synapse`. */
typedef void (*gn_axon_handler_fn)(gn_axon_call_t *call, json_t *synapse, void *arg);

typedef struct gn_axon_handler {
    const gn_syn_class_t *cls; /* lives as long as the axon */
    gn_axon_handler_fn fn;
    void *arg;
    bool streaming; /* answers with gn_axon_stream_* (text/event-stream) */
} gn_axon_handler_t;

/* Who may call (all off: anyone who signs). */
typedef struct gn_axon_policy {
    const char *const *allow; /* SS58 hotkeys; n_allow 0: any */
    size_t n_allow;
    const char *const *deny;
    size_t n_deny;
    bool registered_only; /* the hotkey must be in the metagraph given */
    bool require_permit;  /* ... with a validator permit */
    uint64_t min_stake;   /* ... with at least this stake (rao of the subnet's token) */
} gn_axon_policy_t;

typedef struct gn_axon_opts {
    const char *ip; /* bind address; NULL: "0.0.0.0" ("::" for both families) */
    uint16_t port;  /* 0: any (gn_axon_port) */
    gn_http_limits_t limits;
    const gn_sr25519_keypair_t *hotkey; /* the axon's own (copied; wiped at stop) */
    const char *external_ip;            /* reported as axon.ip; NULL: none */
    uint16_t external_port;             /* reported as axon.port; 0: the bound port */
    uint32_t version;                   /* version_as_int; 0: GN_AXON_VERSION */
    unsigned max_workers;               /* handlers running at once; 0: 10 (the SDK's default) */
    unsigned queue_max;                 /* requests waiting for a handler; 0: 256; past it 503 */
    double max_timeout_s;   /* cap on the request's timeout for the freshness window and the
                               handler's deadline; 0: 60 */
    double per_hotkey_rate; /* verified requests per second per hotkey; 0: off; past it 429 */
    unsigned per_hotkey_burst;
    gn_axon_policy_t policy;
    gn_metrics_t *metrics; /* NULL: the axon makes its own (served on /metrics) */
} gn_axon_opts_t;

#define GN_AXON_VERSION 10002000u /* the SDK version ganglion speaks (10.2.0) */

int gn_axon_start(uv_loop_t *loop, const gn_axon_opts_t *o, gn_axon_t **out);
/* Attach a synapse class and its handler (before or while serving). The
 * plain `Synapse` ping route is always attached. GN_EEXIST: name taken. */
int gn_axon_attach(gn_axon_t *ax, const gn_axon_handler_t *h);
/* The built-in synapses: Dummy (dummy_output = 2 x dummy_input, as in the
 * SDK's own tests) and StreamingDummy (streams the words of `text`). */
int gn_axon_attach_builtins(gn_axon_t *ax);
/* The built-in Dummy class (dummy_input int required, dummy_output int
 * nullable): the validator's Dummy task source queries it. */
const gn_syn_class_t *gn_axon_dummy_class(void);
uint16_t gn_axon_port(const gn_axon_t *ax);
/* The registered hotkeys, permits and stakes for the policy and for
 * priority: a JSON array of NeuronInfoLite objects (metagraph snapshot
 * neurons); borrowed and kept (incref). NULL: none. */
void gn_axon_set_neurons(gn_axon_t *ax, json_t *neurons);
/* Stop serving; requests in flight are abandoned; done(arg) once closed. */
void gn_axon_stop(gn_axon_t *ax, void (*done)(void *arg), void *arg);
/* Graceful stop (SIGTERM): the listener closes (new connections are
 * refused); requests already received are verified, queued, handled and
 * their answers written as usual, queued ones included (they were accepted
 * and their callers are waiting; the handler deadlines and the drain
 * deadline bound them); a new request on a kept-alive connection gets the
 * SDK's 503 "Service unavailable: the axon is stopping", and every
 * connection closes once it owes no answer (idle ones at once; /healthz
 * says "draining" with 503). When no connection and no call is left, or
 * after deadline_s, it ends as gn_axon_stop (what is left is abandoned)
 * and done(arg) runs once the axon is freed. A gn_axon_stop during the
 * drain ends it now (both callbacks run). Ignored after either. */
void gn_axon_drain(gn_axon_t *ax, double deadline_s, void (*done)(void *arg), void *arg);

/* ---- answering a call (once) ---- */

/* The response object (stolen; normally the synapse the handler got,
 * with its outputs set). Status: its axon.status_code, else 200 with
 * "Success". GN_ECLOSED: the client is gone or the deadline passed (the
 * call is freed all the same). */
int gn_axon_reply(gn_axon_call_t *call, json_t *synapse);
/* An error answer: status and message (e.g. 500, "model not loaded"). */
int gn_axon_fail(gn_axon_call_t *call, int status, const char *message);
/* Streaming: 200 text/event-stream with the synapse's headers, then each
 * chunk as it is written, then the end (which frees the call). */
int gn_axon_stream_start(gn_axon_call_t *call, const json_t *synapse);
int gn_axon_stream_write(gn_axon_call_t *call, const void *data, size_t len);
int gn_axon_stream_end(gn_axon_call_t *call);
/* The verified caller's hotkey, and whether the client is still there. */
const char *gn_axon_call_hotkey(const gn_axon_call_t *call);
bool gn_axon_call_alive(const gn_axon_call_t *call);
uv_loop_t *gn_axon_call_loop(const gn_axon_call_t *call);

/* ---- the axon as an actor ----
 * Serves on its loop (started with the loop, stopped by the loop's
 * ordered stop) and applies every metagraph snapshot it receives
 * (GN_MSG_METAGRAPH, include/ganglion/metagraph.h: subscribe it to that
 * topic) to its policy and priority, as gn_axon_set_neurons does. */
typedef struct gn_axon_actor gn_axon_actor_t;
typedef struct gn_axon_actor_opts {
    gn_axon_opts_t axon;                     /* the hotkey is copied */
    int (*attach)(gn_axon_t *ax, void *arg); /* attaches the handlers at start */
    void *attach_arg;
    int netuid; /* snapshots of other subnets are ignored; -1: any */
} gn_axon_actor_opts_t;
int gn_axon_actor_spawn(gn_loop_t *l, const gn_axon_actor_opts_t *o, gn_axon_actor_t **out,
                        gn_actor_t **actor);
/* The running axon (NULL before the loop starts it); on the loop thread. */
gn_axon_t *gn_axon_actor_axon(gn_axon_actor_t *s);
/* After gn_loop_run has returned. */
void gn_axon_actor_free(gn_axon_actor_t *s);

#endif
