/* External synapse workers (docs/workers.md): processes in any language
 * that serve synapses over Unix stream sockets, one frame at a time
 * (actors/wire: a 4-byte big-endian length, then msgpack).
 *
 * The pool is a client on a libuv loop: it connects to every socket path
 * given, reads each worker's `hello` (the synapse classes it serves), and
 * sends each call to the next ready worker serving that synapse, round
 * robin, with at most max_inflight calls in flight per worker. A worker
 * that goes away (or breaks the protocol) fails its calls in flight at once
 * (GN_ECLOSED, GN_EIO) and is dialled again after min(max, min * 2^attempt)
 * ms with +-50% jitter, forever, until gn_worker_pool_close. Every call has
 * a deadline: GN_ETIMEDOUT, the worker is sent a `cancel`, and its late
 * answer is dropped (counted in `late`).
 *
 * The axon adapter (gn_worker_attach) serves every announced synapse
 * through the pool. Everything here runs on the loop thread. */
#ifndef GANGLION_WORKER_H
#define GANGLION_WORKER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/synapse.h"

#define GN_WORKER_PROTOCOL 1 /* the frames' "v" */

typedef struct gn_worker_pool gn_worker_pool_t;

typedef struct gn_worker_opts {
    unsigned max_inflight;     /* calls in flight per worker; 0: 64 */
    size_t max_frame;          /* bytes of msgpack per frame, both ways; 0: 16 MiB */
    uint64_t backoff_min_ms;   /* 0: 100 */
    uint64_t backoff_max_ms;   /* 0: 5000 */
    uint64_t hello_timeout_ms; /* a worker silent this long after connecting is dropped; 0: 5000 */
    double max_timeout_s;      /* the axon adapter's cap on a call's deadline; 0: 60 */
    /* optional: a worker became ready (its hello read: ready true) or was
     * lost after having been ready (false); index into the paths given */
    void (*on_state)(gn_worker_pool_t *pool, size_t worker, bool ready, void *arg);
    void *arg;
} gn_worker_opts_t;

/* Connects to n socket paths (copied), o NULL: defaults. Fails only for
 * bad arguments or no memory: an absent worker is dialled again. */
int gn_worker_pool_open(uv_loop_t *loop, const char *const *paths, size_t n,
                        const gn_worker_opts_t *o, gn_worker_pool_t **out);

/* The answer, exactly once (never from inside gn_worker_pool_call):
 *   0             result: the worker's `body` (an object; NULL for a
 *                 stream's `end` without one)
 *   GN_EREJECTED  the worker answered an error: result {"status", "message"}
 *                 (status 400..599, default 500), error the message
 *   GN_ETIMEDOUT  the deadline passed
 *   GN_ECLOSED    the worker went away with the call in flight, or the pool closed
 *   GN_EIO        the worker broke the protocol (it is dropped and dialled again)
 * result and error are borrowed for the callback (json_incref to keep);
 * error is a message for people whenever status is not 0. */
typedef void (*gn_worker_cb)(int status, json_t *result, const char *error, void *arg);
/* Streams: each `chunk` the worker sends before its final frame, in order. */
typedef void (*gn_worker_chunk_cb)(const uint8_t *data, size_t len, void *arg);

/* Send `synapse` (borrowed, a JSON object) to a worker serving
 * synapse_name, with a deadline of timeout_s seconds (> 0). On success cb
 * will be called once; else nothing is called and the return says why:
 * GN_ENOENT no worker announced that synapse, GN_ECLOSED none serving it is
 * ready now (or the pool is closing), GN_EFULL all of those are at
 * max_inflight, GN_ERANGE the request frame is larger than max_frame,
 * GN_EINVAL, GN_ENOMEM. */
int gn_worker_pool_call(gn_worker_pool_t *pool, const char *synapse_name, const json_t *synapse,
                        double timeout_s, gn_worker_cb cb, void *arg);
/* The same, with chunk (NULL: the worker must not stream) called for each
 * `chunk` before cb, and *id (optional) naming the call for
 * gn_worker_pool_cancel. */
int gn_worker_pool_call_ex(gn_worker_pool_t *pool, const char *synapse_name, const json_t *synapse,
                           double timeout_s, gn_worker_chunk_cb chunk, gn_worker_cb cb, void *arg,
                           uint64_t *id);
/* Give up a call (its client went away): the worker is sent a `cancel`,
 * cb is not called, a late answer is dropped. GN_ENOENT: not in flight. */
int gn_worker_pool_cancel(gn_worker_pool_t *pool, uint64_t id);

/* The synapse classes announced so far, in order of first announcement
 * (the first announcement of a name wins: a worker announcing another
 * definition under a taken name is not sent that synapse). Each stays at
 * the same address until the pool is freed. */
typedef struct gn_worker_class {
    gn_syn_class_t cls;
    bool streaming;
} gn_worker_class_t;
size_t gn_worker_pool_n_classes(const gn_worker_pool_t *pool);
const gn_worker_class_t *gn_worker_pool_class(const gn_worker_pool_t *pool, size_t i);

typedef struct gn_worker_stats {
    bool connected, ready; /* per worker; in totals: any */
    unsigned inflight;
    uint64_t sent;            /* requests written */
    uint64_t answered;        /* `response` or `end` */
    uint64_t errors;          /* `error` answers (GN_EREJECTED) */
    uint64_t timeouts;        /* GN_ETIMEDOUT */
    uint64_t lost;            /* failed GN_ECLOSED / GN_EIO when the worker went away */
    uint64_t late;            /* answers to calls no longer waiting, dropped */
    uint64_t chunks;          /* `chunk` frames passed on */
    uint64_t protocol_errors; /* bad frames: the worker was dropped */
    uint64_t connects;        /* hellos accepted */
    uint64_t reconnects;      /* hellos accepted after the first */
    char name[64];            /* the hello's "worker", per worker */
} gn_worker_stats_t;
/* worker < n: that worker's; worker == SIZE_MAX: the sum over all. */
int gn_worker_pool_stats(const gn_worker_pool_t *pool, size_t worker, gn_worker_stats_t *out);
size_t gn_worker_pool_size(const gn_worker_pool_t *pool);

/* Close: no more dialling; calls in flight fail GN_ECLOSED (their
 * callbacks run inside this call); done(arg) once every handle is closed,
 * and the pool is freed then. With an axon attached, close the pool from
 * gn_axon_stop's done: the axon's handlers point into the pool, and its
 * stop waits for the calls in flight, which the pool answers (or times
 * out) meanwhile. */
void gn_worker_pool_close(gn_worker_pool_t *pool, void (*done)(void *arg), void *arg);

/* ---- the axon adapter ---- */

typedef struct gn_axon gn_axon_t;

/* Attach every synapse the workers announced (and, from now on, every one
 * announced later) as an axon handler that forwards the call to the pool
 * with the synapse's timeout (at most max_timeout_s) and answers with its
 * result: the worker's body sets the class's own fields of the synapse
 * (base fields are the axon's), an `error` answer becomes gn_axon_fail
 * with its status, a timeout 408 ("Response timeout after: {timeout}s"), a
 * lost worker or none ready or all busy 503, a request over max_frame 413,
 * a protocol error 500; streaming classes stream their chunks (an error
 * after the first chunk ends the stream; a caller gone mid-stream cancels
 * the worker's call). One axon per pool. A name the axon already has is
 * skipped (GN_EEXIST from the axon is not an error here). */
int gn_worker_attach(gn_axon_t *ax, gn_worker_pool_t *pool);

#endif
