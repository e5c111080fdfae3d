/* The actor runtime (see include/ganglion/actor.h). */
#include "ganglion/actor.h"
#include "ganglion/error.h"
#include "ganglion/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const gn_msg_type_t GN_MSG_TIMEOUT = {0xffffff01u, "timeout", NULL};

typedef struct pending {
    uv_timer_t timer; /* first: the handle's data points back */
    gn_actor_t *owner;
    uint64_t corr;
    struct pending *next;
} pending_t;

typedef struct atimer {
    uv_timer_t timer;
    gn_actor_t *owner;
    const gn_msg_type_t *type;
    uint64_t id;
    struct atimer *next;
} atimer_t;

typedef struct work {
    uv_work_t req;
    gn_actor_t *owner;
    void *(*fn)(void *);
    void *arg, *result;
    const gn_msg_type_t *done;
} work_t;

struct gn_actor {
    gn_loop_t *loop;
    gn_actor_spec_t spec;
    void *state;
    /* mailbox: any thread */
    pthread_mutex_t mu;
    gn_msg_t *head, *tail;
    size_t count;
    bool closed;
    uv_async_t async;
    atomic_uint_fast64_t posted, handled, rejected, dropped, late;
    /* loop thread only */
    bool started, running, failed;
    int fail_err;
    pending_t *pending;
    uint64_t next_corr;
    atimer_t *timers;
    uint64_t next_timer;
    unsigned restarts_in_window;
    uint64_t window_start, restarts_total;
    uv_timer_t restart_timer;
    gn_actor_t *next; /* the loop's list, in spawn order */
};

struct gn_loop {
    uv_loop_t uv;
    gn_actor_t *actors, *last;
    uv_async_t stop_async;
    uv_timer_t drain_timer;
    uv_signal_t sigint, sigterm;
    bool signals, running, stopping, closed;
    bool stop_async_closed; /* under stop_mu */
    pthread_mutex_t stop_mu;
    uint64_t stop_deadline_ms, drain_until;
    unsigned outstanding_work;
    int exit_code;
};

/* ---- messages ---- */

gn_msg_t *gn_msg_new(const gn_msg_type_t *type, void *payload)
{
    gn_msg_t *m = calloc(1, sizeof(*m));
    if (!m) {
        if (type && type->destroy && payload)
            type->destroy(payload);
        return NULL;
    }
    m->type = type;
    m->payload = payload;
    return m;
}

void gn_msg_free(gn_msg_t *m)
{
    if (!m)
        return;
    if (m->payload && m->type && m->type->destroy)
        m->type->destroy(m->payload);
    free(m);
}

static void free_list(gn_msg_t *m)
{
    while (m) {
        gn_msg_t *next = m->next;
        gn_msg_free(m);
        m = next;
    }
}

/* ---- mailbox ---- */

int gn_post(gn_actor_t *to, gn_msg_t *m)
{
    if (!to || !m) {
        gn_msg_free(m);
        return GN_EINVAL;
    }
    gn_msg_t *dropped = NULL;
    m->next = NULL;
    pthread_mutex_lock(&to->mu);
    if (to->closed) {
        pthread_mutex_unlock(&to->mu);
        gn_msg_free(m);
        atomic_fetch_add(&to->rejected, 1);
        return GN_ECLOSED;
    }
    if (to->count >= to->spec.mailbox_cap) {
        if (to->spec.overflow == GN_OVERFLOW_REJECT) {
            pthread_mutex_unlock(&to->mu);
            gn_msg_free(m);
            atomic_fetch_add(&to->rejected, 1);
            return GN_EFULL;
        }
        dropped = to->head; /* drop-oldest: destroyed outside the lock */
        to->head = dropped->next;
        if (!to->head)
            to->tail = NULL;
        to->count--;
        atomic_fetch_add(&to->dropped, 1);
    }
    if (to->tail)
        to->tail->next = m;
    else
        to->head = m;
    to->tail = m;
    to->count++;
    /* under the lock: the loop closes the handle only after setting closed */
    uv_async_send(&to->async);
    pthread_mutex_unlock(&to->mu);
    atomic_fetch_add(&to->posted, 1);
    if (dropped) {
        dropped->next = NULL;
        gn_msg_free(dropped);
    }
    return 0;
}

/* Put a batch back at the front of the queue (after a failure). */
static void requeue_front(gn_actor_t *a, gn_msg_t *batch)
{
    if (!batch)
        return;
    gn_msg_t *last = batch;
    size_t n = 1;
    while (last->next)
        last = last->next, n++;
    pthread_mutex_lock(&a->mu);
    last->next = a->head;
    a->head = batch;
    if (!a->tail)
        a->tail = last;
    a->count += n;
    pthread_mutex_unlock(&a->mu);
}

/* ---- supervision ---- */

static uint64_t now_ms(gn_loop_t *l)
{
    return uv_now(&l->uv);
}

static void begin_stop(gn_loop_t *l);
static void schedule_restart(gn_actor_t *a);

static void stop_actor(gn_actor_t *a)
{
    if (a->running && a->spec.stop)
        a->spec.stop(a);
    a->running = false;
}

static int start_actor(gn_actor_t *a)
{
    int rc = a->spec.start ? a->spec.start(a) : 0;
    a->started = true;
    a->running = rc == 0;
    a->failed = false;
    if (rc == 0)
        uv_async_send(&a->async); /* handle what queued while it was down */
    return rc;
}

static void restart_cb(uv_timer_t *t)
{
    gn_actor_t *a = t->data;
    if (a->loop->stopping)
        return;
    if (start_actor(a) < 0)
        schedule_restart(a);
}

static void schedule_restart(gn_actor_t *a)
{
    gn_loop_t *l = a->loop;
    uint64_t now = now_ms(l);
    if (now - a->window_start > a->spec.window_ms) {
        a->window_start = now;
        a->restarts_in_window = 0;
    }
    if (a->restarts_in_window >= a->spec.max_restarts) {
        /* the budget is spent: the node stops with a non-zero exit */
        l->exit_code = 1;
        begin_stop(l);
        return;
    }
    uint64_t delay = a->spec.backoff_ms;
    for (unsigned i = 0; i < a->restarts_in_window && delay < a->spec.backoff_max_ms; i++)
        delay *= 2;
    if (delay > a->spec.backoff_max_ms)
        delay = a->spec.backoff_max_ms;
    a->restarts_in_window++;
    a->restarts_total++;
    uv_timer_start(&a->restart_timer, restart_cb, delay, 0);
}

void gn_actor_fail(gn_actor_t *a, int err)
{
    a->failed = true;
    a->fail_err = err ? err : GN_EFATAL;
}

/* ---- delivery ---- */

static pending_t *take_pending(gn_actor_t *a, uint64_t corr)
{
    for (pending_t **p = &a->pending; *p; p = &(*p)->next) {
        if ((*p)->corr == corr) {
            pending_t *hit = *p;
            *p = hit->next;
            return hit;
        }
    }
    return NULL;
}

static void free_owner_cb(uv_handle_t *h)
{
    free(h->data);
}

/* At most this many messages, or this much time, per wake-up: timers, I/O,
 * other actors and a shutdown deadline get their turn between slices. */
#define BATCH_MAX 256
#define SLICE_NS  (5u * 1000 * 1000)

static void async_cb(uv_async_t *h)
{
    gn_actor_t *a = h->data;
    gn_loop_t *l = a->loop;
    if (!a->running)
        return;
    pthread_mutex_lock(&a->mu);
    gn_msg_t *batch = a->head, *cut = batch;
    size_t n = 1;
    while (cut && cut->next && n < BATCH_MAX)
        cut = cut->next, n++;
    if (cut) {
        a->head = cut->next;
        if (!a->head)
            a->tail = NULL;
        cut->next = NULL;
        a->count -= n;
    }
    if (a->head) /* more to do: come back after the loop's other work */
        uv_async_send(&a->async);
    pthread_mutex_unlock(&a->mu);
    uint64_t t0 = uv_hrtime();
    while (batch) {
        if (uv_hrtime() - t0 > SLICE_NS) { /* the slice is used up: yield */
            requeue_front(a, batch);
            uv_async_send(&a->async);
            return;
        }
        if (l->stopping) { /* past the drain deadline, leave the rest */
            uv_update_time(&l->uv);
            if (now_ms(l) >= l->drain_until) {
                requeue_front(a, batch);
                return;
            }
        }
        gn_msg_t *m = batch;
        batch = m->next;
        m->next = NULL;
        if (m->is_reply && m->type != &GN_MSG_TIMEOUT) {
            pending_t *p = take_pending(a, m->corr);
            if (!p) { /* its request timed out already */
                atomic_fetch_add(&a->late, 1);
                gn_msg_free(m);
                continue;
            }
            uv_timer_stop(&p->timer);
            uv_close((uv_handle_t *)&p->timer, free_owner_cb);
        }
        int rc = a->spec.handle(a, m);
        atomic_fetch_add(&a->handled, 1);
        gn_msg_free(m);
        if (rc < 0 || a->failed) {
            a->fail_err = rc < 0 ? rc : a->fail_err;
            requeue_front(a, batch);
            stop_actor(a);
            if (!l->stopping)
                schedule_restart(a);
            return;
        }
    }
}

/* ---- requests ---- */

static void request_timeout_cb(uv_timer_t *t)
{
    pending_t *p = t->data;
    gn_actor_t *a = p->owner;
    take_pending(a, p->corr);
    gn_msg_t *m = gn_msg_new(&GN_MSG_TIMEOUT, NULL);
    if (m) {
        m->is_reply = true;
        m->corr = p->corr;
        m->status = GN_ETIMEDOUT;
        gn_post(a, m);
    }
    uv_close((uv_handle_t *)&p->timer, free_owner_cb);
}

int gn_request(gn_actor_t *from, gn_actor_t *to, gn_msg_t *m, uint64_t timeout_ms, uint64_t *corr)
{
    pending_t *p = calloc(1, sizeof(*p));
    if (!p) {
        gn_msg_free(m);
        return GN_ENOMEM;
    }
    p->owner = from;
    p->corr = ++from->next_corr;
    uv_timer_init(&from->loop->uv, &p->timer);
    p->timer.data = p;
    m->sender = m->reply_to = from;
    m->corr = p->corr;
    m->is_reply = false;
    if (corr)
        *corr = p->corr;
    int rc = gn_post(to, m);
    if (rc < 0) {
        uv_close((uv_handle_t *)&p->timer, free_owner_cb);
        return rc;
    }
    p->next = from->pending;
    from->pending = p;
    uv_timer_start(&p->timer, request_timeout_cb, timeout_ms, 0);
    return 0;
}

int gn_reply(gn_actor_t *self, const gn_msg_t *req, gn_msg_t *reply)
{
    if (!req->reply_to) {
        gn_msg_free(reply);
        return GN_EINVAL;
    }
    reply->sender = self;
    reply->corr = req->corr;
    reply->is_reply = true;
    return gn_post(req->reply_to, reply);
}

/* ---- timers and work ---- */

static void atimer_cb(uv_timer_t *t)
{
    atimer_t *at = t->data;
    gn_msg_t *m = gn_msg_new(at->type, NULL);
    if (m)
        gn_post(at->owner, m);
}

int gn_actor_timer(gn_actor_t *a, uint64_t ms, uint64_t repeat_ms, const gn_msg_type_t *type,
                   uint64_t *timer_id)
{
    atimer_t *at = calloc(1, sizeof(*at));
    if (!at)
        return GN_ENOMEM;
    at->owner = a;
    at->type = type;
    at->id = ++a->next_timer;
    uv_timer_init(&a->loop->uv, &at->timer);
    at->timer.data = at;
    at->next = a->timers;
    a->timers = at;
    uv_timer_start(&at->timer, atimer_cb, ms, repeat_ms);
    if (timer_id)
        *timer_id = at->id;
    return 0;
}

void gn_actor_timer_stop(gn_actor_t *a, uint64_t timer_id)
{
    for (atimer_t **p = &a->timers; *p; p = &(*p)->next) {
        if ((*p)->id == timer_id) {
            atimer_t *at = *p;
            *p = at->next;
            uv_timer_stop(&at->timer);
            uv_close((uv_handle_t *)&at->timer, free_owner_cb);
            return;
        }
    }
}

static void work_cb(uv_work_t *req)
{
    work_t *w = req->data;
    w->result = w->fn(w->arg);
}

static void after_work_cb(uv_work_t *req, int status)
{
    work_t *w = req->data;
    w->owner->loop->outstanding_work--;
    gn_msg_t *m = gn_msg_new(w->done, w->result);
    if (m) {
        m->status = status == 0 ? 0 : GN_ECLOSED;
        gn_post(w->owner, m);
    }
    free(w);
}

int gn_actor_work(gn_actor_t *a, void *(*fn)(void *arg), void *arg, const gn_msg_type_t *done)
{
    work_t *w = calloc(1, sizeof(*w));
    if (!w)
        return GN_ENOMEM;
    w->owner = a;
    w->fn = fn;
    w->arg = arg;
    w->done = done;
    w->req.data = w;
    if (uv_queue_work(&a->loop->uv, &w->req, work_cb, after_work_cb) != 0) {
        free(w);
        return GN_EINVAL;
    }
    a->loop->outstanding_work++;
    return 0;
}

/* ---- actors ---- */

int gn_actor_spawn(gn_loop_t *l, const gn_actor_spec_t *spec, void *state, gn_actor_t **out)
{
    if (!spec || !spec->handle)
        return GN_EINVAL;
    if (l->stopping)
        return GN_ECLOSED;
    gn_actor_t *a = calloc(1, sizeof(*a));
    if (!a)
        return GN_ENOMEM;
    a->loop = l;
    a->spec = *spec;
    a->spec.name = spec->name ? spec->name : "actor";
    if (!a->spec.mailbox_cap)
        a->spec.mailbox_cap = 65536;
    if (!a->spec.max_restarts)
        a->spec.max_restarts = 5;
    if (!a->spec.window_ms)
        a->spec.window_ms = 60000;
    if (!a->spec.backoff_ms)
        a->spec.backoff_ms = 100;
    if (!a->spec.backoff_max_ms)
        a->spec.backoff_max_ms = 5000;
    a->state = state;
    pthread_mutex_init(&a->mu, NULL);
    uv_async_init(&l->uv, &a->async, async_cb);
    a->async.data = a;
    uv_timer_init(&l->uv, &a->restart_timer);
    a->restart_timer.data = a;
    if (l->last)
        l->last->next = a;
    else
        l->actors = a;
    l->last = a;
    if (l->running && start_actor(a) < 0)
        schedule_restart(a);
    *out = a;
    return 0;
}

void *gn_actor_state(gn_actor_t *a)
{
    return a->state;
}
const char *gn_actor_name(const gn_actor_t *a)
{
    return a->spec.name;
}
gn_loop_t *gn_actor_loop(gn_actor_t *a)
{
    return a->loop;
}

void gn_actor_stats(gn_actor_t *a, gn_actor_stats_t *out)
{
    out->posted = atomic_load(&a->posted);
    out->handled = atomic_load(&a->handled);
    out->rejected = atomic_load(&a->rejected);
    out->dropped = atomic_load(&a->dropped);
    out->late_replies = atomic_load(&a->late);
    out->restarts = a->restarts_total;
    pthread_mutex_lock(&a->mu);
    out->queued = a->count;
    pthread_mutex_unlock(&a->mu);
}

void gn_loop_metrics_collector(struct gn_metrics *m, void *loop)
{
    gn_loop_t *l = loop;
    for (gn_actor_t *a = l->actors; a; a = a->next) {
        gn_actor_stats_t st;
        const char *n = a->spec.name;
        gn_actor_stats(a, &st);
        gn_gauge_set(gn_metrics_gauge(m, "ganglion_mailbox_queued",
                                      "Messages waiting in a mailbox.", "actor", n, NULL),
                     (double)st.queued);
        gn_counter_set(gn_metrics_counter(m, "ganglion_mailbox_posted_total",
                                          "Messages accepted into a mailbox.", "actor", n, NULL),
                       st.posted);
        gn_counter_set(gn_metrics_counter(m, "ganglion_mailbox_handled_total",
                                          "Messages handled by an actor.", "actor", n, NULL),
                       st.handled);
        gn_counter_set(gn_metrics_counter(m, "ganglion_mailbox_rejected_total",
                                          "Posts refused (mailbox full or closed).", "actor", n,
                                          NULL),
                       st.rejected);
        gn_counter_set(gn_metrics_counter(m, "ganglion_mailbox_dropped_total",
                                          "Oldest messages dropped on overflow.", "actor", n, NULL),
                       st.dropped);
        gn_counter_set(gn_metrics_counter(m, "ganglion_late_replies_total",
                                          "Replies that came after their request timed out.",
                                          "actor", n, NULL),
                       st.late_replies);
        gn_counter_set(gn_metrics_counter(m, "ganglion_actor_restarts_total",
                                          "Restarts by the supervisor.", "actor", n, NULL),
                       st.restarts);
    }
}

/* ---- loop and shutdown ---- */

static void stop_async_cb(uv_async_t *h)
{
    begin_stop(h->data);
}

int gn_loop_new(gn_loop_t **out)
{
    gn_loop_t *l = calloc(1, sizeof(*l));
    if (!l)
        return GN_ENOMEM;
    if (uv_loop_init(&l->uv) != 0) {
        free(l);
        return GN_EINVAL;
    }
    l->uv.data = l;
    pthread_mutex_init(&l->stop_mu, NULL);
    uv_async_init(&l->uv, &l->stop_async, stop_async_cb);
    l->stop_async.data = l;
    uv_timer_init(&l->uv, &l->drain_timer);
    l->drain_timer.data = l;
    l->stop_deadline_ms = 5000;
    *out = l;
    return 0;
}

uv_loop_t *gn_loop_uv(gn_loop_t *l)
{
    return &l->uv;
}

static bool all_drained(gn_loop_t *l)
{
    if (l->outstanding_work)
        return false;
    for (gn_actor_t *a = l->actors; a; a = a->next) {
        pthread_mutex_lock(&a->mu);
        size_t n = a->running ? a->count : 0;
        pthread_mutex_unlock(&a->mu);
        if (n)
            return false;
    }
    return true;
}

static void close_cb(uv_handle_t *h)
{
    (void)h;
}

/* Phase two: refuse new messages, destroy what is left, stop hooks in
 * reverse spawn order, close every handle. */
static void finish_stop(gn_loop_t *l)
{
    if (l->closed)
        return;
    l->closed = true;
    uv_timer_stop(&l->drain_timer);
    /* reverse order: a later actor may depend on an earlier one */
    size_t n = 0;
    for (gn_actor_t *a = l->actors; a; a = a->next)
        n++;
    gn_actor_t **order = calloc(n ? n : 1, sizeof(*order));
    size_t i = 0;
    for (gn_actor_t *a = l->actors; a && order; a = a->next)
        order[i++] = a;
    for (size_t k = n; order && k > 0; k--) {
        gn_actor_t *a = order[k - 1];
        pthread_mutex_lock(&a->mu);
        a->closed = true;
        gn_msg_t *left = a->head;
        a->head = a->tail = NULL;
        a->count = 0;
        pthread_mutex_unlock(&a->mu);
        free_list(left);
        stop_actor(a);
        uv_timer_stop(&a->restart_timer);
        uv_close((uv_handle_t *)&a->restart_timer, close_cb);
        uv_close((uv_handle_t *)&a->async, close_cb);
        while (a->timers) {
            atimer_t *t = a->timers;
            a->timers = t->next;
            uv_timer_stop(&t->timer);
            uv_close((uv_handle_t *)&t->timer, free_owner_cb);
        }
        while (a->pending) {
            pending_t *p = a->pending;
            a->pending = p->next;
            uv_timer_stop(&p->timer);
            uv_close((uv_handle_t *)&p->timer, free_owner_cb);
        }
    }
    free(order);
    if (l->signals) {
        uv_close((uv_handle_t *)&l->sigint, close_cb);
        uv_close((uv_handle_t *)&l->sigterm, close_cb);
    }
    uv_close((uv_handle_t *)&l->drain_timer, close_cb);
    pthread_mutex_lock(&l->stop_mu);
    l->stop_async_closed = true;
    uv_close((uv_handle_t *)&l->stop_async, close_cb);
    pthread_mutex_unlock(&l->stop_mu);
}

static void drain_cb(uv_timer_t *t)
{
    gn_loop_t *l = t->data;
    if (all_drained(l) || now_ms(l) >= l->drain_until)
        finish_stop(l);
}

/* Phase one: keep handling what is queued until the mailboxes and the
 * thread pool are empty or the deadline passes. */
static void begin_stop(gn_loop_t *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    pthread_mutex_lock(&l->stop_mu);
    uint64_t deadline = l->stop_deadline_ms;
    pthread_mutex_unlock(&l->stop_mu);
    l->drain_until = now_ms(l) + deadline;
    for (gn_actor_t *a = l->actors; a; a = a->next)
        uv_timer_stop(&a->restart_timer);
    if (all_drained(l))
        finish_stop(l);
    else
        uv_timer_start(&l->drain_timer, drain_cb, 1, 5);
}

void gn_loop_stop(gn_loop_t *l, uint64_t deadline_ms)
{
    pthread_mutex_lock(&l->stop_mu);
    l->stop_deadline_ms = deadline_ms;
    if (!l->stop_async_closed)
        uv_async_send(&l->stop_async);
    pthread_mutex_unlock(&l->stop_mu);
}

static void signal_cb(uv_signal_t *s, int signum)
{
    (void)signum;
    begin_stop(s->data);
}

int gn_loop_handle_signals(gn_loop_t *l, uint64_t deadline_ms)
{
    l->stop_deadline_ms = deadline_ms;
    uv_signal_init(&l->uv, &l->sigint);
    uv_signal_init(&l->uv, &l->sigterm);
    l->sigint.data = l->sigterm.data = l;
    uv_signal_start(&l->sigint, signal_cb, SIGINT);
    uv_signal_start(&l->sigterm, signal_cb, SIGTERM);
    uv_unref((uv_handle_t *)&l->sigint);
    uv_unref((uv_handle_t *)&l->sigterm);
    l->signals = true;
    return 0;
}

int gn_loop_run(gn_loop_t *l)
{
    l->running = true;
    for (gn_actor_t *a = l->actors; a; a = a->next)
        if (!a->started && start_actor(a) < 0)
            schedule_restart(a);
    uv_run(&l->uv, UV_RUN_DEFAULT);
    l->running = false;
    return l->exit_code;
}

void gn_loop_free(gn_loop_t *l)
{
    if (!l)
        return;
    if (!l->closed)
        finish_stop(l);
    uv_run(&l->uv, UV_RUN_DEFAULT); /* close callbacks */
    (void)uv_loop_close(&l->uv);    /* may already be closed by the caller */
    gn_actor_t *a = l->actors;
    while (a) {
        gn_actor_t *next = a->next;
        pthread_mutex_destroy(&a->mu);
        free(a);
        a = next;
    }
    pthread_mutex_destroy(&l->stop_mu);
    free(l);
}

/* ---- topics ---- */

void gn_shared_init(gn_shared_t *s, void (*destroy)(gn_shared_t *s))
{
    atomic_init(&s->refs, 1);
    s->destroy = destroy;
}

gn_shared_t *gn_shared_ref(gn_shared_t *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void gn_shared_unref(gn_shared_t *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1 && s->destroy)
        s->destroy(s);
}

void gn_msg_shared_destroy(void *payload)
{
    gn_shared_unref(payload);
}

struct gn_topic {
    char *name;
    pthread_mutex_t mu;
    gn_actor_t **subs;
    size_t n, cap;
};

int gn_topic_new(const char *name, gn_topic_t **out)
{
    gn_topic_t *t = calloc(1, sizeof(*t));
    if (!t || !(t->name = strdup(name ? name : "topic"))) {
        free(t);
        return GN_ENOMEM;
    }
    pthread_mutex_init(&t->mu, NULL);
    *out = t;
    return 0;
}

void gn_topic_free(gn_topic_t *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->subs);
    free(t->name);
    free(t);
}

int gn_topic_subscribe(gn_topic_t *t, gn_actor_t *a)
{
    pthread_mutex_lock(&t->mu);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        gn_actor_t **s = realloc(t->subs, cap * sizeof(*s));
        if (!s) {
            pthread_mutex_unlock(&t->mu);
            return GN_ENOMEM;
        }
        t->subs = s;
        t->cap = cap;
    }
    t->subs[t->n++] = a;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

void gn_topic_unsubscribe(gn_topic_t *t, gn_actor_t *a)
{
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n; i++) {
        if (t->subs[i] == a) {
            t->subs[i] = t->subs[--t->n];
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

int gn_publish(gn_topic_t *t, const gn_msg_type_t *type, gn_shared_t *s)
{
    int reached = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n; i++) {
        gn_msg_t *m = gn_msg_new(type, gn_shared_ref(s));
        if (m && gn_post(t->subs[i], m) == 0)
            reached++;
    }
    pthread_mutex_unlock(&t->mu);
    gn_shared_unref(s);
    return reached;
}
