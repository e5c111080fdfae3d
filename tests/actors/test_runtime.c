#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/actor.h"
#include "ganglion/error.h"
#include "ganglion/metrics.h"
#include "support/actor_stress.h"

static atomic_int destroyed;
static void count_destroy(void *p)
{
    atomic_fetch_add(&destroyed, 1);
    free(p);
}

static const gn_msg_type_t T_NUM = {1, "num", NULL};          /* payload: an integer cast */
static const gn_msg_type_t T_BOX = {2, "box", count_destroy}; /* payload: malloc'd int */
static const gn_msg_type_t T_STOP = {3, "stop", NULL};
static const gn_msg_type_t T_REP = {5, "rep", NULL};
static const gn_msg_type_t T_TICK = {6, "tick", NULL};

static gn_msg_t *num(uintptr_t v)
{
    return gn_msg_new(&T_NUM, (void *)v);
}

/* ---- ordering ---- */

typedef struct {
    uintptr_t seen[2000];
    size_t n;
} order_state_t;

static int order_handle(gn_actor_t *a, gn_msg_t *m)
{
    order_state_t *s = gn_actor_state(a);
    if (m->type == &T_STOP)
        gn_loop_stop(gn_actor_loop(a), 1000);
    else
        s->seen[s->n++] = (uintptr_t)m->payload;
    return 0;
}

Test(actors, fifo_order)
{
    gn_loop_t *l;
    gn_actor_t *a;
    static order_state_t st;
    gn_actor_spec_t spec = {.name = "order", .handle = order_handle};
    cr_assert_eq(gn_loop_new(&l), 0);
    cr_assert_eq(gn_actor_spawn(l, &spec, &st, &a), 0);
    for (uintptr_t i = 0; i < 1000; i++)
        cr_assert_eq(gn_post(a, num(i)), 0);
    gn_post(a, gn_msg_new(&T_STOP, NULL));
    cr_assert_eq(gn_loop_run(l), 0);
    cr_assert_eq(st.n, 1000);
    for (size_t i = 0; i < 1000; i++)
        cr_assert_eq(st.seen[i], i);
    gn_actor_stats_t stats;
    gn_actor_stats(a, &stats);
    cr_assert_eq(stats.posted, 1001);
    cr_assert_eq(stats.handled, 1001);
    gn_loop_free(l);
}

/* ---- request / reply / timeout ---- */

typedef struct {
    gn_actor_t *server;
    uint64_t corr, timeout_corr;
    int replies, timeouts;
    bool server_replies;
    uint64_t reply_after_ms;
} rr_state_t;

static int client_start(gn_actor_t *a)
{
    rr_state_t *s = gn_actor_state(a);
    return gn_request(a, s->server, num(41), 200, &s->corr);
}

static int client_handle(gn_actor_t *a, gn_msg_t *m)
{
    rr_state_t *s = gn_actor_state(a);
    if (m->type == &GN_MSG_TIMEOUT) {
        cr_assert(m->is_reply);
        cr_assert_eq(m->status, GN_ETIMEDOUT);
        cr_assert_eq(m->corr, s->corr);
        s->timeouts++;
        /* wait long enough for the late reply, then stop */
        gn_actor_timer(a, 300, 0, &T_STOP, NULL);
        return 0;
    }
    if (m->type == &T_STOP) {
        gn_loop_stop(gn_actor_loop(a), 1000);
        return 0;
    }
    cr_assert(m->is_reply);
    cr_assert_eq(m->corr, s->corr);
    cr_assert_eq((uintptr_t)m->payload, 42);
    s->replies++;
    gn_loop_stop(gn_actor_loop(a), 1000);
    return 0;
}

typedef struct {
    rr_state_t *client;
    gn_msg_t *held; /* a request answered later */
} server_state_t;

static int server_handle(gn_actor_t *a, gn_msg_t *m)
{
    server_state_t *s = gn_actor_state(a);
    if (m->type == &T_TICK) { /* reply late, from a timer */
        gn_reply(a, s->held, gn_msg_new(&T_REP, (void *)(uintptr_t)42));
        free(s->held);
        s->held = NULL;
        return 0;
    }
    if (s->client->server_replies) {
        gn_reply(a, m, gn_msg_new(&T_REP, (void *)((uintptr_t)m->payload + 1)));
    } else {
        s->held = malloc(sizeof(gn_msg_t));
        memcpy(s->held, m, sizeof(*m));
        gn_actor_timer(a, s->client->reply_after_ms, 0, &T_TICK, NULL);
    }
    return 0;
}

static void run_rr(rr_state_t *cs)
{
    gn_loop_t *l;
    gn_actor_t *client, *server;
    static server_state_t ss;
    ss.client = cs;
    gn_actor_spec_t sspec = {.name = "server", .handle = server_handle};
    gn_actor_spec_t cspec = {.name = "client", .handle = client_handle, .start = client_start};
    gn_loop_new(&l);
    gn_actor_spawn(l, &sspec, &ss, &server);
    cs->server = server;
    gn_actor_spawn(l, &cspec, cs, &client);
    cr_assert_eq(gn_loop_run(l), 0);
    gn_actor_stats_t st;
    gn_actor_stats(client, &st);
    if (!cs->server_replies)
        cr_assert_eq(st.late_replies, 1, "the late reply is dropped and counted");
    gn_loop_free(l);
}

Test(actors, request_reply)
{
    static rr_state_t cs = {.server_replies = true};
    run_rr(&cs);
    cr_assert_eq(cs.replies, 1);
    cr_assert_eq(cs.timeouts, 0);
}

Test(actors, request_timeout_then_late_reply)
{
    static rr_state_t cs = {.server_replies = false, .reply_after_ms = 350};
    run_rr(&cs);
    cr_assert_eq(cs.replies, 0, "a reply after the timeout is not delivered");
    cr_assert_eq(cs.timeouts, 1);
}

/* ---- topics ---- */

typedef struct {
    gn_shared_t hdr;
    int value;
} shared_int_t;

static atomic_int shared_freed;
static void shared_free(gn_shared_t *s)
{
    atomic_fetch_add(&shared_freed, 1);
    free(s);
}

static const gn_msg_type_t T_BLOCK = {7, "block", gn_msg_shared_destroy};
static atomic_int topic_seen;

static int sub_handle(gn_actor_t *a, gn_msg_t *m)
{
    (void)a;
    if (m->type == &T_BLOCK) {
        shared_int_t *p = m->payload;
        cr_assert_eq(p->value, 7);
        if (atomic_fetch_add(&topic_seen, 1) == 2)
            gn_loop_stop(gn_actor_loop(a), 1000);
    }
    return 0;
}

Test(actors, topic_fan_out_shares_one_payload)
{
    gn_loop_t *l;
    gn_topic_t *t;
    gn_actor_t *subs[3];
    gn_actor_spec_t spec = {.name = "sub", .handle = sub_handle};
    gn_loop_new(&l);
    gn_topic_new("block", &t);
    for (int i = 0; i < 3; i++) {
        gn_actor_spawn(l, &spec, NULL, &subs[i]);
        gn_topic_subscribe(t, subs[i]);
    }
    shared_int_t *p = malloc(sizeof(*p));
    gn_shared_init(&p->hdr, shared_free);
    p->value = 7;
    cr_assert_eq(gn_publish(t, &T_BLOCK, &p->hdr), 3);
    cr_assert_eq(atomic_load(&shared_freed), 0, "subscribers still hold it");
    cr_assert_eq(gn_loop_run(l), 0);
    cr_assert_eq(atomic_load(&topic_seen), 3);
    cr_assert_eq(atomic_load(&shared_freed), 1, "freed once, after the last subscriber");
    gn_topic_unsubscribe(t, subs[1]);
    gn_loop_free(l);
    gn_topic_free(t);
}

/* ---- overflow ---- */

static int noop_handle(gn_actor_t *a, gn_msg_t *m)
{
    (void)a, (void)m;
    return 0;
}

static gn_msg_t *box(int v)
{
    int *p = malloc(sizeof(int));
    *p = v;
    return gn_msg_new(&T_BOX, p);
}

Test(actors, overflow_reject_and_drop_oldest)
{
    gn_loop_t *l;
    gn_actor_t *rej, *drop;
    gn_actor_spec_t r = {.name = "rej", .handle = noop_handle, .mailbox_cap = 4};
    gn_actor_spec_t d = {.name = "drop",
                         .handle = noop_handle,
                         .mailbox_cap = 4,
                         .overflow = GN_OVERFLOW_DROP_OLDEST};
    gn_loop_new(&l);
    gn_actor_spawn(l, &r, NULL, &rej);
    gn_actor_spawn(l, &d, NULL, &drop);
    atomic_store(&destroyed, 0);
    int full = 0;
    for (int i = 0; i < 10; i++)
        full += gn_post(rej, box(i)) == GN_EFULL;
    cr_assert_eq(full, 6);
    cr_assert_eq(atomic_load(&destroyed), 6, "rejected messages are destroyed");
    for (int i = 0; i < 10; i++)
        cr_assert_eq(gn_post(drop, box(i)), 0);
    cr_assert_eq(atomic_load(&destroyed), 12, "the six oldest were dropped and destroyed");
    gn_actor_stats_t st;
    gn_actor_stats(rej, &st);
    cr_assert(st.rejected == 6 && st.queued == 4);
    gn_actor_stats(drop, &st);
    cr_assert(st.dropped == 6 && st.queued == 4);
    /* and the same counts as metrics */
    gn_metrics_t *mx;
    gn_metrics_new(&mx);
    gn_metrics_add_collector(mx, gn_loop_metrics_collector, l);
    char *text;
    size_t tlen;
    cr_assert_eq(gn_metrics_render(mx, &text, &tlen), 0);
    cr_assert(strstr(text, "ganglion_mailbox_rejected_total{actor=\"rej\"} 6\n"), "%s", text);
    cr_assert(strstr(text, "ganglion_mailbox_dropped_total{actor=\"drop\"} 6\n"), "%s", text);
    cr_assert(strstr(text, "ganglion_mailbox_queued{actor=\"drop\"} 4\n"), "%s", text);
    free(text);
    gn_metrics_free(mx);
    gn_loop_stop(l, 1000);
    cr_assert_eq(gn_loop_run(l), 0);
    cr_assert_eq(atomic_load(&destroyed), 20, "every message destroyed exactly once");
    gn_loop_free(l);
}

/* ---- stress: 4 threads x 1,000,000 messages, and other concurrency ---- */

Test(actors, stress_four_threads_a_million_each, .timeout = 300)
{
    char why[200] = "";
    uint64_t handled = 0;
    cr_assert_eq(gn_test_stress_fifo(4, 1000000, &handled, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(handled, 4000000);
}

Test(actors, concurrent_publishers_two_loops, .timeout = 120)
{
    char why[200] = "";
    cr_assert_eq(gn_test_stress_topics(4, 5000, why, sizeof(why)), 0, "%s", why);
}

Test(actors, posting_while_the_loop_stops, .timeout = 120)
{
    char why[200] = "";
    cr_assert_eq(gn_test_stress_post_during_stop(4, why, sizeof(why)), 0, "%s", why);
}

/* ---- supervision ---- */

typedef struct {
    int starts, stops, handled;
    bool fail_starts;
} sup_state_t;

static int sup_start(gn_actor_t *a)
{
    sup_state_t *s = gn_actor_state(a);
    s->starts++;
    return s->fail_starts ? GN_EFATAL : 0;
}

static void sup_stop(gn_actor_t *a)
{
    ((sup_state_t *)gn_actor_state(a))->stops++;
}

static int sup_handle(gn_actor_t *a, gn_msg_t *m)
{
    sup_state_t *s = gn_actor_state(a);
    if ((uintptr_t)m->payload == 666)
        return GN_EFATAL;
    if (++s->handled == 2)
        gn_loop_stop(gn_actor_loop(a), 1000);
    return 0;
}

Test(actors, supervisor_restarts_and_keeps_the_queue)
{
    gn_loop_t *l;
    gn_actor_t *a;
    static sup_state_t s;
    gn_actor_spec_t spec = {.name = "flaky",
                            .handle = sup_handle,
                            .start = sup_start,
                            .stop = sup_stop,
                            .backoff_ms = 10};
    gn_loop_new(&l);
    gn_actor_spawn(l, &spec, &s, &a);
    gn_post(a, num(1));
    gn_post(a, num(666)); /* fatal */
    gn_post(a, num(2));   /* kept, handled after the restart */
    cr_assert_eq(gn_loop_run(l), 0);
    cr_assert_eq(s.starts, 2, "restarted once");
    cr_assert_eq(s.handled, 2);
    cr_assert_eq(s.stops, 2, "stopped for the restart and at shutdown");
    gn_actor_stats_t st;
    gn_actor_stats(a, &st);
    cr_assert_eq(st.restarts, 1);
    gn_loop_free(l);
}

Test(actors, restart_budget_overrun_stops_the_loop_non_zero)
{
    gn_loop_t *l;
    gn_actor_t *a;
    static sup_state_t s = {.fail_starts = true};
    gn_actor_spec_t spec = {.name = "doomed",
                            .handle = sup_handle,
                            .start = sup_start,
                            .max_restarts = 3,
                            .backoff_ms = 5,
                            .backoff_max_ms = 20};
    gn_loop_new(&l);
    gn_actor_spawn(l, &spec, &s, &a);
    cr_assert_eq(gn_loop_run(l), 1, "a spent budget ends the loop with a non-zero code");
    cr_assert_eq(s.starts, 4, "the first start and three restarts");
    gn_loop_free(l);
}

/* ---- shutdown with messages in flight ---- */

static int slow_handle(gn_actor_t *a, gn_msg_t *m)
{
    (void)a, (void)m;
    uv_sleep(20);
    return 0;
}

static int trigger_stop(gn_actor_t *a, gn_msg_t *m)
{
    (void)m;
    gn_loop_stop(gn_actor_loop(a), 50); /* far too short to drain 100 x 20 ms */
    return 0;
}

Test(actors, shutdown_with_messages_in_flight_leaks_nothing)
{
    gn_loop_t *l;
    gn_actor_t *slow, *stopper;
    gn_actor_spec_t s = {.name = "slow", .handle = slow_handle};
    gn_actor_spec_t t = {.name = "stopper", .handle = trigger_stop};
    gn_loop_new(&l);
    gn_actor_spawn(l, &s, NULL, &slow);
    gn_actor_spawn(l, &t, NULL, &stopper);
    atomic_store(&destroyed, 0);
    for (int i = 0; i < 100; i++)
        gn_post(slow, box(i));
    gn_post(stopper, num(0));
    cr_assert_eq(gn_loop_run(l), 0);
    cr_assert_eq(atomic_load(&destroyed), 100, "handled or not, every payload is destroyed");
    cr_assert_eq(gn_post(slow, box(1)), GN_ECLOSED, "a stopped mailbox refuses");
    gn_actor_stats_t st;
    gn_actor_stats(slow, &st);
    cr_assert_lt(st.handled, 100, "the deadline cut the drain short");
    cr_assert_eq(uv_loop_alive(gn_loop_uv(l)), 0, "no live handles after the stop");
    cr_assert_eq(uv_loop_close(gn_loop_uv(l)), 0, "the loop closes: nothing left open");
    gn_loop_free(l); /* ASan's leak check covers the rest */
}

/* ---- work, timers, several loops, signals ---- */

static void *square(void *arg)
{
    int *r = malloc(sizeof(int));
    *r = (int)(intptr_t)arg * (int)(intptr_t)arg;
    return r;
}

static const gn_msg_type_t T_DONE = {8, "done", free};

static int work_handle(gn_actor_t *a, gn_msg_t *m)
{
    int *got = gn_actor_state(a);
    if (m->type == &T_NUM)
        return gn_actor_work(a, square, m->payload, &T_DONE);
    *got = *(int *)m->payload;
    gn_loop_stop(gn_actor_loop(a), 1000);
    return 0;
}

Test(actors, work_on_the_thread_pool)
{
    gn_loop_t *l;
    gn_actor_t *a;
    static int got;
    gn_actor_spec_t spec = {.name = "worker", .handle = work_handle};
    gn_loop_new(&l);
    gn_actor_spawn(l, &spec, &got, &a);
    gn_post(a, num(12));
    cr_assert_eq(gn_loop_run(l), 0);
    cr_assert_eq(got, 144);
    gn_loop_free(l);
}

typedef struct {
    int ticks;
    uint64_t id;
} tick_state_t;

static int tick_start(gn_actor_t *a)
{
    tick_state_t *s = gn_actor_state(a);
    return gn_actor_timer(a, 5, 5, &T_TICK, &s->id);
}

static int tick_handle(gn_actor_t *a, gn_msg_t *m)
{
    tick_state_t *s = gn_actor_state(a);
    (void)m;
    if (++s->ticks == 3) {
        gn_actor_timer_stop(a, s->id);
        gn_loop_stop(gn_actor_loop(a), 1000);
    }
    return 0;
}

Test(actors, repeating_timer)
{
    gn_loop_t *l;
    gn_actor_t *a;
    static tick_state_t s;
    gn_actor_spec_t spec = {.name = "ticker", .handle = tick_handle, .start = tick_start};
    gn_loop_new(&l);
    gn_actor_spawn(l, &spec, &s, &a);
    cr_assert_eq(gn_loop_run(l), 0);
    cr_assert_eq(s.ticks, 3);
    gn_loop_free(l);
}

static void *run_loop(void *arg)
{
    gn_loop_run(arg);
    return NULL;
}

static gn_loop_t *other_loop;

static int echo_handle(gn_actor_t *a, gn_msg_t *m)
{
    gn_reply(a, m, num((uintptr_t)m->payload * 2));
    return 0;
}

typedef struct {
    gn_actor_t *echo;
    uintptr_t got;
} x_state_t;

static int x_start(gn_actor_t *a)
{
    x_state_t *s = gn_actor_state(a);
    return gn_request(a, s->echo, num(21), 2000, NULL);
}

static int x_handle(gn_actor_t *a, gn_msg_t *m)
{
    x_state_t *s = gn_actor_state(a);
    s->got = m->type == &GN_MSG_TIMEOUT ? 1 : (uintptr_t)m->payload;
    gn_loop_stop(other_loop, 1000);
    gn_loop_stop(gn_actor_loop(a), 1000);
    return 0;
}

Test(actors, request_across_loops_and_threads)
{
    gn_loop_t *l1;
    gn_actor_t *echo, *asker;
    static x_state_t xs;
    gn_actor_spec_t es = {.name = "echo", .handle = echo_handle};
    gn_actor_spec_t as = {.name = "asker", .handle = x_handle, .start = x_start};
    gn_loop_new(&l1);
    gn_loop_new(&other_loop);
    gn_actor_spawn(other_loop, &es, NULL, &echo);
    xs.echo = echo;
    gn_actor_spawn(l1, &as, &xs, &asker);
    pthread_t th;
    pthread_create(&th, NULL, run_loop, other_loop);
    cr_assert_eq(gn_loop_run(l1), 0);
    pthread_join(th, NULL);
    cr_assert_eq(xs.got, 42);
    gn_loop_free(l1);
    gn_loop_free(other_loop);
}

static int raise_handle(gn_actor_t *a, gn_msg_t *m)
{
    (void)a, (void)m;
    raise(SIGTERM);
    return 0;
}

Test(actors, sigterm_is_an_ordered_stop)
{
    gn_loop_t *l;
    gn_actor_t *a;
    gn_actor_spec_t spec = {.name = "raiser", .handle = raise_handle};
    gn_loop_new(&l);
    gn_loop_handle_signals(l, 1000);
    gn_actor_spawn(l, &spec, NULL, &a);
    gn_post(a, num(0));
    cr_assert_eq(gn_loop_run(l), 0, "SIGTERM ends the loop cleanly");
    gn_loop_free(l);
}
