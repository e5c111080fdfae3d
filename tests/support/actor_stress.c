#include "support/actor_stress.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ganglion/actor.h"
#include "ganglion/error.h"

#define MAX_PRODUCERS 16

static const gn_msg_type_t T_SEQ = {100, "seq", NULL};

/* ---- FIFO ---- */

typedef struct {
    uint64_t next[MAX_PRODUCERS];
    uint64_t total, want;
    bool bad;
} fifo_state_t;

static int fifo_handle(gn_actor_t *a, gn_msg_t *m)
{
    fifo_state_t *s = gn_actor_state(a);
    uintptr_t v = (uintptr_t)m->payload;
    unsigned who = (unsigned)(v >> 32);
    uint64_t seq = v & 0xffffffffu;
    if (who >= MAX_PRODUCERS || seq != s->next[who])
        s->bad = true; /* lost, duplicated or out of order */
    else
        s->next[who]++;
    if (++s->total == s->want)
        gn_loop_stop(gn_actor_loop(a), 1000);
    return 0;
}

typedef struct {
    gn_actor_t *to;
    unsigned id;
    uint64_t per;
} producer_t;

static void *produce(void *arg)
{
    producer_t *p = arg;
    for (uint64_t i = 0; i < p->per; i++) {
        /* a full mailbox is backpressure: retry the same sequence number */
        while (gn_post(p->to, gn_msg_new(&T_SEQ, (void *)((uintptr_t)p->id << 32 | i))) == GN_EFULL)
            sched_yield();
    }
    return NULL;
}

int gn_test_stress_fifo(unsigned producers, uint64_t per, uint64_t *handled, char *why, size_t cap)
{
    gn_loop_t *l;
    gn_actor_t *a;
    fifo_state_t *st = calloc(1, sizeof(*st));
    gn_actor_spec_t spec = {.name = "sink", .handle = fifo_handle, .mailbox_cap = 1 << 16};
    if (producers > MAX_PRODUCERS || !st)
        return -1;
    st->want = producers * per;
    gn_loop_new(&l);
    gn_actor_spawn(l, &spec, st, &a);
    pthread_t th[MAX_PRODUCERS];
    producer_t ps[MAX_PRODUCERS];
    for (unsigned i = 0; i < producers; i++) {
        ps[i] = (producer_t){a, i, per};
        pthread_create(&th[i], NULL, produce, &ps[i]);
    }
    int code = gn_loop_run(l);
    for (unsigned i = 0; i < producers; i++)
        pthread_join(th[i], NULL);
    int rc = 0;
    if (code != 0 || st->bad) {
        snprintf(why, cap, "a message was lost, duplicated or reordered (exit %d)", code);
        rc = -1;
    }
    for (unsigned i = 0; rc == 0 && i < producers; i++) {
        if (st->next[i] != per) {
            snprintf(why, cap, "producer %u: %llu of %llu arrived", i,
                     (unsigned long long)st->next[i], (unsigned long long)per);
            rc = -1;
        }
    }
    *handled = st->total;
    gn_loop_free(l);
    free(st);
    return rc;
}

/* ---- topics ---- */

typedef struct {
    gn_shared_t hdr;
    unsigned value;
} payload_t;

static atomic_uint freed;
static void payload_free(gn_shared_t *s)
{
    atomic_fetch_add(&freed, 1);
    free(s);
}

static const gn_msg_type_t T_EVENT = {101, "event", gn_msg_shared_destroy};

typedef struct {
    atomic_uint *received;
    unsigned want;
    gn_loop_t *stop_also;
} sub_state_t;

static int sub_handle(gn_actor_t *a, gn_msg_t *m)
{
    sub_state_t *s = gn_actor_state(a);
    if (atomic_fetch_add(s->received, 1) + 1 == s->want) {
        gn_loop_stop(s->stop_also, 1000);
        gn_loop_stop(gn_actor_loop(a), 1000);
    }
    (void)m;
    return 0;
}

typedef struct {
    gn_topic_t *t;
    unsigned per;
} publisher_t;

static void *publish(void *arg)
{
    publisher_t *p = arg;
    for (unsigned i = 0; i < p->per; i++) {
        payload_t *x = malloc(sizeof(*x));
        gn_shared_init(&x->hdr, payload_free);
        x->value = i;
        gn_publish(p->t, &T_EVENT, &x->hdr);
    }
    return NULL;
}

static void *run_loop(void *l)
{
    gn_loop_run(l);
    return NULL;
}

int gn_test_stress_topics(unsigned publishers, unsigned per, char *why, size_t cap)
{
    gn_loop_t *l1, *l2;
    gn_topic_t *t;
    gn_actor_t *subs[4];
    static atomic_uint received;
    atomic_store(&received, 0);
    atomic_store(&freed, 0);
    gn_loop_new(&l1);
    gn_loop_new(&l2);
    gn_topic_new("events", &t);
    sub_state_t s1 = {&received, 4 * publishers * per, l2},
                s2 = {&received, 4 * publishers * per, l1};
    gn_actor_spec_t spec = {.name = "sub", .handle = sub_handle, .mailbox_cap = 1 << 20};
    for (int i = 0; i < 4; i++) {
        gn_actor_spawn(i < 2 ? l1 : l2, &spec, i < 2 ? &s1 : &s2, &subs[i]);
        gn_topic_subscribe(t, subs[i]);
    }
    pthread_t loop2, th[MAX_PRODUCERS];
    publisher_t ps = {t, per};
    pthread_create(&loop2, NULL, run_loop, l2);
    for (unsigned i = 0; i < publishers; i++)
        pthread_create(&th[i], NULL, publish, &ps);
    gn_loop_run(l1);
    for (unsigned i = 0; i < publishers; i++)
        pthread_join(th[i], NULL);
    pthread_join(loop2, NULL);
    gn_loop_free(l1);
    gn_loop_free(l2);
    gn_topic_free(t);
    unsigned want = publishers * per;
    if (atomic_load(&received) != 4 * want || atomic_load(&freed) != want) {
        snprintf(why, cap, "received %u of %u, freed %u of %u", atomic_load(&received), 4 * want,
                 atomic_load(&freed), want);
        return -1;
    }
    return 0;
}

/* ---- posting while the loop stops ---- */

static atomic_uint destroyed, accepted;
static void count_free(void *p)
{
    atomic_fetch_add(&destroyed, 1);
    free(p);
}

static const gn_msg_type_t T_BOX = {102, "box", count_free};

static atomic_bool closed_seen[MAX_PRODUCERS];

static void *post_until_closed(void *arg)
{
    producer_t *p = arg;
    for (;;) {
        int rc = gn_post(p->to, gn_msg_new(&T_BOX, malloc(16)));
        if (rc == GN_ECLOSED)
            break;
        if (rc == 0)
            atomic_fetch_add(&accepted, 1);
        else
            sched_yield();
    }
    atomic_store(&closed_seen[p->id], true);
    return NULL;
}

static int count_handle(gn_actor_t *a, gn_msg_t *m)
{
    unsigned *n = gn_actor_state(a);
    (void)m;
    if (++*n == 10000)
        gn_loop_stop(gn_actor_loop(a), 20);
    return 0;
}

int gn_test_stress_post_during_stop(unsigned producers, char *why, size_t cap)
{
    gn_loop_t *l;
    gn_actor_t *a;
    unsigned handled = 0;
    atomic_store(&destroyed, 0);
    atomic_store(&accepted, 0);
    gn_actor_spec_t spec = {.name = "target", .handle = count_handle, .mailbox_cap = 4096};
    gn_loop_new(&l);
    gn_actor_spawn(l, &spec, &handled, &a);
    pthread_t th[MAX_PRODUCERS];
    producer_t ps[MAX_PRODUCERS];
    for (unsigned i = 0; i < producers; i++) {
        ps[i] = (producer_t){a, i, 0};
        atomic_store(&closed_seen[i], false);
        pthread_create(&th[i], NULL, post_until_closed, &ps[i]);
    }
    int code = gn_loop_run(l);
    for (unsigned i = 0; i < producers; i++)
        pthread_join(th[i], NULL); /* each saw GN_ECLOSED */
    gn_loop_free(l);
    /* rejected posts are destroyed at once; accepted ones by the handler or the stop */
    unsigned total_destroyed = atomic_load(&destroyed);
    if (code != 0 || total_destroyed < atomic_load(&accepted)) {
        snprintf(why, cap, "exit %d, %u accepted, %u destroyed", code, atomic_load(&accepted),
                 total_destroyed);
        return -1;
    }
    return 0;
}
