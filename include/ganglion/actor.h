/* The actor runtime: independent actors on libuv loops that share nothing and
 * talk only by messages.
 *
 * - An actor's state is touched only by its handler, which runs on the
 *   actor's loop, one message at a time.
 * - gn_post() is safe from any thread: the message goes into the actor's
 *   mailbox (a locked queue plus a uv_async_t) and the owner's loop wakes.
 *   Messages are handled in the order they were posted (so FIFO per sender).
 * - A mailbox is bounded; when full it either rejects (GN_EFULL to the
 *   sender) or drops its oldest message (for telemetry), counted either way.
 * - A message's payload belongs to whoever holds the message; every type
 *   names a destructor, so dropped, rejected and undelivered messages never
 *   leak. A handler may keep a payload by setting m->payload = NULL.
 * - Everything that touches libuv (spawn, requests, timers, work) happens on
 *   the actor's own loop thread; only gn_post/gn_publish/gn_loop_stop are
 *   for any thread. */
#ifndef GANGLION_ACTOR_H
#define GANGLION_ACTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct gn_loop gn_loop_t;
typedef struct gn_actor gn_actor_t;

/* A message type: an id for switch statements, a name for logs and the
 * payload's destructor (NULL when the payload needs no freeing). */
typedef struct gn_msg_type {
    uint32_t id;
    const char *name;
    void (*destroy)(void *payload);
} gn_msg_type_t;

typedef struct gn_msg {
    const gn_msg_type_t *type;
    gn_actor_t *sender;   /* may be NULL */
    gn_actor_t *reply_to; /* set by gn_request */
    uint64_t corr;        /* correlation id of a request and its reply */
    int status;           /* replies: 0 or GN_E* (GN_ETIMEDOUT for timeouts) */
    bool is_reply;
    void *payload;
    struct gn_msg *next; /* mailbox link (internal) */
} gn_msg_t;

/* Built-in types: the reply synthesised when a request times out
 * (status GN_ETIMEDOUT, corr of the request, no payload). */
extern const gn_msg_type_t GN_MSG_TIMEOUT;

/* A new message owning `payload` (NULL when out of memory, after the
 * payload was destroyed). */
gn_msg_t *gn_msg_new(const gn_msg_type_t *type, void *payload);
/* Destroy a message and its payload. */
void gn_msg_free(gn_msg_t *m);

typedef enum { GN_OVERFLOW_REJECT = 0, GN_OVERFLOW_DROP_OLDEST = 1 } gn_overflow_t;

typedef struct gn_actor_spec {
    const char *name;
    /* Handle one message; a negative return is a fatal error: the actor is
     * stopped and restarted by its supervisor. */
    int (*handle)(gn_actor_t *a, gn_msg_t *m);
    int (*start)(gn_actor_t *a); /* optional; negative fails the start */
    void (*stop)(gn_actor_t *a); /* optional; before a restart and at shutdown */
    size_t mailbox_cap;          /* 0: 65536 */
    gn_overflow_t overflow;
    /* supervision: at most max_restarts within window_ms, with exponential
     * backoff from backoff_ms to backoff_max_ms; 0s take 5 / 60 s / 100 ms / 5 s */
    unsigned max_restarts;
    uint64_t window_ms, backoff_ms, backoff_max_ms;
} gn_actor_spec_t;

typedef struct gn_actor_stats {
    uint64_t posted, handled, rejected, dropped, late_replies, restarts;
    size_t queued;
} gn_actor_stats_t;

/* ---- loops ---- */

int gn_loop_new(gn_loop_t **out);
uv_loop_t *gn_loop_uv(gn_loop_t *l);
/* Run until stopped; returns the exit code (0 after a clean shutdown,
 * non-zero when a supervisor gave up). Runs on the calling thread. */
int gn_loop_run(gn_loop_t *l);
/* Ordered stop, from any thread: drain mailboxes for up to deadline_ms,
 * then call stop hooks in reverse spawn order and close every handle. */
void gn_loop_stop(gn_loop_t *l, uint64_t deadline_ms);
/* SIGINT and SIGTERM stop the loop (deadline_ms to drain). */
int gn_loop_handle_signals(gn_loop_t *l, uint64_t deadline_ms);
/* Free a loop that has returned from gn_loop_run (or never ran). Every
 * thread that posts to its actors must have stopped posting first. */
void gn_loop_free(gn_loop_t *l);

/* ---- actors ---- */

/* Create an actor on `l` (from l's thread, or before l runs); its start
 * hook runs when the loop starts (or at once if it is running). */
int gn_actor_spawn(gn_loop_t *l, const gn_actor_spec_t *spec, void *state, gn_actor_t **out);
void *gn_actor_state(gn_actor_t *a);
const char *gn_actor_name(const gn_actor_t *a);
gn_loop_t *gn_actor_loop(gn_actor_t *a);
void gn_actor_stats(gn_actor_t *a, gn_actor_stats_t *out);

struct gn_metrics;
/* Export every actor of the loop into `m` (a gn_metrics collector: pass
 * the loop as its argument): ganglion_mailbox_queued, _posted_total,
 * _handled_total, _rejected_total, _dropped_total, ganglion_late_replies_total
 * and ganglion_actor_restarts_total, labelled actor="name". */
void gn_loop_metrics_collector(struct gn_metrics *m, void *loop);

/* Post from any thread. Ownership of m passes to the runtime whatever the
 * result: on GN_EFULL / GN_ECLOSED the message is destroyed. */
int gn_post(gn_actor_t *to, gn_msg_t *m);

/* Send request m from `from` to `to` (on from's loop thread). A reply
 * arrives in from's mailbox with is_reply set and m's corr; if none comes
 * within timeout_ms, a GN_MSG_TIMEOUT reply arrives instead and a late
 * reply is dropped. *corr receives the correlation id. */
int gn_request(gn_actor_t *from, gn_actor_t *to, gn_msg_t *m, uint64_t timeout_ms, uint64_t *corr);
/* Reply to request `req` with `reply` (any thread). */
int gn_reply(gn_actor_t *self, const gn_msg_t *req, gn_msg_t *reply);

/* Report a fatal error from inside a handler (as returning it would). */
void gn_actor_fail(gn_actor_t *a, int err);

/* ---- timers and off-loop work (on the actor's loop thread) ---- */

/* Deliver a `type` message (no payload) after `ms`, then every repeat_ms
 * (0: once). The timer lives until stopped or the loop shuts down. */
int gn_actor_timer(gn_actor_t *a, uint64_t ms, uint64_t repeat_ms, const gn_msg_type_t *type,
                   uint64_t *timer_id);
void gn_actor_timer_stop(gn_actor_t *a, uint64_t timer_id);

/* Run fn(arg) on the libuv thread pool; its result arrives as a message of
 * type `done` (the type's destructor frees results nobody handles). */
int gn_actor_work(gn_actor_t *a, void *(*fn)(void *arg), void *arg, const gn_msg_type_t *done);

/* ---- topics: publish/subscribe with shared, immutable payloads ---- */

/* A reference-counted payload header: embed it first in the payload. */
typedef struct gn_shared {
    atomic_uint refs;
    void (*destroy)(struct gn_shared *s);
} gn_shared_t;

void gn_shared_init(gn_shared_t *s, void (*destroy)(gn_shared_t *s));
gn_shared_t *gn_shared_ref(gn_shared_t *s);
void gn_shared_unref(gn_shared_t *s);

typedef struct gn_topic gn_topic_t;

int gn_topic_new(const char *name, gn_topic_t **out);
void gn_topic_free(gn_topic_t *t);
int gn_topic_subscribe(gn_topic_t *t, gn_actor_t *a);
void gn_topic_unsubscribe(gn_topic_t *t, gn_actor_t *a);
/* Post a message of `type` to every subscriber, each holding a reference to
 * `s` (the type's destroy must be gn_msg_shared_destroy). Consumes the
 * caller's reference. Returns the number of subscribers reached. */
int gn_publish(gn_topic_t *t, const gn_msg_type_t *type, gn_shared_t *s);
void gn_msg_shared_destroy(void *payload);

#endif
