/* The dendrite: the validator's fan-out querier. It sends one synapse to
 * many axons over HTTP/1.1 (libuv TCP, llhttp parsing the responses) as
 * the Python SDK v10 does (../shared/spec/wire-protocol.md §2, §3, §5, §6):
 * same headers, body, nonce, uuid and sr25519 signature, the same status
 * codes and messages for every failure, the response merged back into the
 * caller's synapse.
 *
 * Connections are pooled per target (ip:port, keep-alive, closed after an
 * idle timeout; a pooled connection the server closed is retried once on a
 * fresh one), bounded globally and per target. A query's deadline is its
 * synapse timeout and covers everything: waiting for a connection slot,
 * connecting, sending, waiting and reading the whole body. Bodies are
 * bounded (max_body): a larger response fails, it is never buffered whole.
 *
 * A query's requests are built from one template (its header block and
 * JSON body, only the per-target fields filled in) and signed on the libuv
 * thread pool, each sent as soon as it is signed, in target order. The
 * costly half of each sr25519 signature (the witness R = r·B) is made
 * ahead of time on the thread pool while the dendrite is idle, each used
 * for exactly one signature (gn_sr25519_sign_witness).
 *
 * Everything runs on the loop given to gn_dendrite_new; every call and
 * every callback is on that loop's thread. */
#ifndef GANGLION_DENDRITE_H
#define GANGLION_DENDRITE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/sr25519.h"
#include "ganglion/synapse.h"

#define GN_DENDRITE_VERSION 10002000u /* version_as_int sent (SDK 10.2.0) */

typedef struct gn_dendrite gn_dendrite_t;

/* Where to connect for a target: fill *addr (an IPv4 or IPv6 sockaddr,
 * port included) and return 0, or return < 0 for the default (the
 * target's ip and port, 127.0.0.1 for our own external ip). For proxies,
 * tunnels and tests; the headers keep the target's ip and port. */
typedef int (*gn_dendrite_route_fn)(void *arg, const char *ip, uint16_t port,
                                    struct sockaddr_storage *addr);

typedef struct gn_dendrite_opts {
    const gn_sr25519_keypair_t *hotkey; /* required: copied, wiped at free */
    const char *external_ip;            /* sent as dendrite.ip; NULL: none sent */
    uint32_t version;                   /* 0: GN_DENDRITE_VERSION */
    const char *uuid;                   /* instance id; NULL: a fresh uuid4 */
    unsigned max_concurrency;           /* requests on the wire at once; 0: 256 */
    unsigned max_per_axon;              /* ... per target ip:port; 0: 8 */
    size_t max_body;                    /* response body bytes; 0: 16 MiB */
    size_t max_header;                  /* response head bytes; 0: 64 KiB */
    double idle_timeout_s;              /* pooled connection lifetime unused; 0: 15 */
    gn_dendrite_route_fn route;         /* NULL: none */
    void *route_arg;
    int sign_threads; /* thread-pool jobs signing a query's requests at once; 0: 2; < 0: none,
                         sign on the loop thread (queries of up to 16 targets always are) */
    int witness_pool; /* sr25519 witnesses kept made ahead; 0: 1024; < 0: none (every
                         signature made whole, as gn_sr25519_sign) */
} gn_dendrite_opts_t;

typedef struct gn_dendrite_target {
    const char *ip; /* IPv4 or IPv6 text (no brackets), or "localhost" */
    uint16_t port;
    const char *hotkey; /* the axon's SS58 hotkey (signed over) */
} gn_dendrite_target_t;

/* One result: the caller's synapse as the SDK leaves it after the call,
 * borrowed (incref to keep): dendrite.status_code/status_message always
 * set (200 on success), dendrite.process_time when a response came. */
typedef void (*gn_dendrite_result_fn)(size_t idx, json_t *result, void *arg);
/* All results in target order (a borrowed array: incref to keep). Called
 * once per query, also after gn_dendrite_cancel and gn_dendrite_close. */
typedef void (*gn_dendrite_done_fn)(json_t *results, void *arg);
/* A piece of a streaming response body, as it arrives. */
typedef void (*gn_dendrite_chunk_fn)(size_t idx, const void *data, size_t len, void *arg);

/* Statuses the dendrite gives for its own failures (spec §5.3); the
 * others come from the axon. */
enum {
    GN_DENDRITE_CANCELLED = 499, /* gn_dendrite_cancel / close: "Request cancelled" */
};

#define GN_DENDRITE_LAT_BUCKETS 12
/* Upper bounds (s) of the latency buckets; the last is +inf. */
extern const double GN_DENDRITE_LAT_BOUNDS[GN_DENDRITE_LAT_BUCKETS];

typedef struct gn_dendrite_stats {
    uint64_t requests;       /* finished */
    uint64_t by_status[600]; /* finished requests by dendrite.status_code (0..599) */
    uint64_t latency[GN_DENDRITE_LAT_BUCKETS]; /* seconds from start to result */
    double latency_sum;                        /* seconds, over every finished request */
    uint64_t conns_opened, conns_reused, conns_closed_idle, retries_stale;
    unsigned in_flight, waiting, idle_conns;
    uint64_t signed_witness, signed_whole; /* requests signed with a witness made ahead, or not */
    unsigned witnesses;                    /* witnesses ready */
} gn_dendrite_stats_t;

int gn_dendrite_new(uv_loop_t *loop, const gn_dendrite_opts_t *o, gn_dendrite_t **out);

/* Send `synapse` (an object of class cls: its fields, at least the
 * required ones; base fields are set by the dendrite) to every target
 * with the deadline timeout_s (> 0, also the synapse's `timeout`).
 * on_result (may be NULL) per target as it finishes, then on_done (may
 * be NULL) with all of them. GN_EINVAL: not a valid synapse of cls (no
 * callback then); n = 0 calls on_done with [] at once. *query_id (may be
 * NULL) names the query for gn_dendrite_cancel. */
int gn_dendrite_query(gn_dendrite_t *d, const gn_dendrite_target_t *targets, size_t n,
                      const gn_syn_class_t *cls, const json_t *synapse, double timeout_s,
                      gn_dendrite_result_fn on_result, gn_dendrite_done_fn on_done, void *arg,
                      uint64_t *query_id);

/* A streaming synapse to one target: each body piece to on_chunk as it
 * arrives, then on_done with [the final synapse] (the caller's synapse
 * with the response headers merged, §6). An error before streaming
 * (401, 403...) gives no chunks and that status. */
int gn_dendrite_stream(gn_dendrite_t *d, const gn_dendrite_target_t *target,
                       const gn_syn_class_t *cls, const json_t *synapse, double timeout_s,
                       gn_dendrite_chunk_fn on_chunk, gn_dendrite_done_fn on_done, void *arg,
                       uint64_t *query_id);

/* Finish a query now: its unfinished requests get 499 "Request
 * cancelled"; on_done is called before this returns. GN_ENOENT: no such
 * query (already done). */
int gn_dendrite_cancel(gn_dendrite_t *d, uint64_t query_id);

void gn_dendrite_stats(const gn_dendrite_t *d, gn_dendrite_stats_t *out);

/* The dendrite's JSON reader for response bodies (exposed for its tests):
 * the value of text, equal to json_loadb(text, len, JSON_DECODE_ANY); NULL
 * when it is not JSON, and also for inputs it leaves to json_loadb
 * (numbers out of range or not simple, \u0000, deep nesting). */
json_t *gn_dendrite_json_parse(const char *text, size_t len);

/* Cancel every query (as gn_dendrite_cancel), close every connection;
 * done(arg) once every handle is closed, then the dendrite is freed. */
void gn_dendrite_close(gn_dendrite_t *d, void (*done)(void *arg), void *arg);

#endif
