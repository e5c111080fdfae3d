/* bench/actors: the actor runtime's message rates and latency, beside the
 * floor of a bare uv_async_send ping-pong between two threads (the cheapest
 * cross-thread wake-up libuv offers), measured in the same run.
 *
 * Lines: "<bench> <ops/s>" for ganglion, "peer <bench> <floor> <ops/s>" for
 * the floor (bench/run.sh pairs them). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ganglion/actor.h"

#define N_SAME     2000000
#define N_CROSS    2000000
#define N_PINGPONG 200000

static double secs(uint64_t t0)
{
    return (double)(uv_hrtime() - t0) / 1e9;
}

static const gn_msg_type_t T = {1, "m", NULL};

/* ---- same loop: an actor posting to itself ---- */

static int self_handle(gn_actor_t *a, gn_msg_t *m)
{
    uintptr_t left = (uintptr_t)m->payload;
    if (left == 0)
        gn_loop_stop(gn_actor_loop(a), 1000);
    else
        gn_post(a, gn_msg_new(&T, (void *)(left - 1)));
    return 0;
}

/* keep 64 messages in flight so the mailbox, not one round, is measured */
static int self_start(gn_actor_t *a)
{
    for (int i = 0; i < 64; i++)
        gn_post(a, gn_msg_new(&T, (void *)(uintptr_t)(N_SAME / 64)));
    return 0;
}

static atomic_int stopped;
static int self_handle_many(gn_actor_t *a, gn_msg_t *m)
{
    uintptr_t left = (uintptr_t)m->payload;
    if (left == 0) {
        if (atomic_fetch_add(&stopped, 1) == 63)
            gn_loop_stop(gn_actor_loop(a), 1000);
    } else {
        gn_post(a, gn_msg_new(&T, (void *)(left - 1)));
    }
    return 0;
}

static double same_loop(void)
{
    gn_loop_t *l;
    gn_actor_t *a;
    gn_actor_spec_t spec = {.name = "self", .handle = self_handle_many, .start = self_start};
    (void)self_handle;
    gn_loop_new(&l);
    gn_actor_spawn(l, &spec, NULL, &a);
    uint64_t t0 = uv_hrtime();
    gn_loop_run(l);
    double s = secs(t0);
    gn_loop_free(l);
    return N_SAME / s;
}

/* ---- cross thread: one producer thread, latency sampled ---- */

static uint64_t *lat;
static size_t nlat;

static int sink_handle(gn_actor_t *a, gn_msg_t *m)
{
    static size_t seen;
    uint64_t sent = (uint64_t)(uintptr_t)m->payload;
    if ((seen & 63) == 0 && nlat < N_CROSS / 64 + 1)
        lat[nlat++] = uv_hrtime() - sent;
    if (++seen == N_CROSS)
        gn_loop_stop(gn_actor_loop(a), 1000);
    return 0;
}

static void *producer(void *arg)
{
    gn_actor_t *a = arg;
    for (int i = 0; i < N_CROSS; i++) {
        while (gn_post(a, gn_msg_new(&T, (void *)(uintptr_t)uv_hrtime())) != 0) {
        }
    }
    return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static double cross_thread(double *p99_us)
{
    gn_loop_t *l;
    gn_actor_t *a;
    gn_actor_spec_t spec = {.name = "sink", .handle = sink_handle, .mailbox_cap = 1 << 16};
    lat = calloc(N_CROSS / 64 + 2, sizeof(uint64_t));
    gn_loop_new(&l);
    gn_actor_spawn(l, &spec, NULL, &a);
    pthread_t th;
    uint64_t t0 = uv_hrtime();
    pthread_create(&th, NULL, producer, a);
    gn_loop_run(l);
    double s = secs(t0);
    pthread_join(th, NULL);
    gn_loop_free(l);
    qsort(lat, nlat, sizeof(uint64_t), cmp_u64);
    *p99_us = nlat ? (double)lat[nlat * 99 / 100] / 1000.0 : 0;
    free(lat);
    return N_CROSS / s;
}

/* ---- actor ping-pong across threads (request/reply round trips) ---- */

static gn_actor_t *pong_actor;
static gn_loop_t *pong_loop;
static uint64_t rtt_actor[N_PINGPONG + 1], rtt_floor[N_PINGPONG + 1];
static size_t n_rtt_actor, n_rtt_floor;
static uint64_t sent_at;

static int pong_handle(gn_actor_t *a, gn_msg_t *m)
{
    gn_reply(a, m, gn_msg_new(&T, m->payload));
    return 0;
}

static int ping_start(gn_actor_t *a)
{
    sent_at = uv_hrtime();
    return gn_request(a, pong_actor, gn_msg_new(&T, (void *)(uintptr_t)N_PINGPONG), 10000, NULL);
}

static int ping_handle(gn_actor_t *a, gn_msg_t *m)
{
    uintptr_t left = (uintptr_t)m->payload;
    uint64_t now = uv_hrtime();
    rtt_actor[n_rtt_actor++] = now - sent_at;
    sent_at = now;
    if (left == 0 || m->type == &GN_MSG_TIMEOUT) {
        gn_loop_stop(pong_loop, 1000);
        gn_loop_stop(gn_actor_loop(a), 1000);
        return 0;
    }
    return gn_request(a, pong_actor, gn_msg_new(&T, (void *)(left - 1)), 10000, NULL);
}

static void *run_loop(void *l)
{
    gn_loop_run(l);
    return NULL;
}

static double actor_pingpong(void)
{
    gn_loop_t *l;
    gn_actor_t *ping;
    gn_actor_spec_t ps = {.name = "pong", .handle = pong_handle};
    gn_actor_spec_t qs = {.name = "ping", .handle = ping_handle, .start = ping_start};
    gn_loop_new(&l);
    gn_loop_new(&pong_loop);
    gn_actor_spawn(pong_loop, &ps, NULL, &pong_actor);
    gn_actor_spawn(l, &qs, NULL, &ping);
    pthread_t th;
    pthread_create(&th, NULL, run_loop, pong_loop);
    uint64_t t0 = uv_hrtime();
    gn_loop_run(l);
    double s = secs(t0);
    pthread_join(th, NULL);
    gn_loop_free(l);
    gn_loop_free(pong_loop);
    return 2.0 * N_PINGPONG / s; /* messages per second */
}

/* ---- the floor: bare uv_async_send ping-pong ---- */

static uv_async_t a_ping, a_pong;
static atomic_int bounces;
static atomic_bool done;

static void on_pong(uv_async_t *h)
{
    if (atomic_load(&done)) { /* each side closes its own handle */
        uv_close((uv_handle_t *)h, NULL);
        return;
    }
    uv_async_send(&a_ping);
}

static void on_ping(uv_async_t *h)
{
    uint64_t now = uv_hrtime();
    rtt_floor[n_rtt_floor++] = now - sent_at;
    sent_at = now;
    if (atomic_fetch_add(&bounces, 1) + 1 >= N_PINGPONG) {
        atomic_store(&done, true);
        uv_async_send(&a_pong);
        uv_close((uv_handle_t *)h, NULL);
        return;
    }
    uv_async_send(&a_pong);
}

static uv_loop_t pong_uv;
static void *run_uv(void *arg)
{
    (void)arg;
    uv_run(&pong_uv, UV_RUN_DEFAULT);
    return NULL;
}

static double bare_pingpong(void)
{
    uv_loop_t ping_uv;
    uv_loop_init(&ping_uv);
    uv_loop_init(&pong_uv);
    uv_async_init(&ping_uv, &a_ping, on_ping);
    uv_async_init(&pong_uv, &a_pong, on_pong);
    pthread_t th;
    pthread_create(&th, NULL, run_uv, NULL);
    uint64_t t0 = sent_at = uv_hrtime();
    uv_async_send(&a_pong);
    uv_run(&ping_uv, UV_RUN_DEFAULT);
    double s = secs(t0);
    pthread_join(th, NULL);
    uv_loop_close(&ping_uv);
    uv_loop_close(&pong_uv);
    return 2.0 * N_PINGPONG / s;
}

/* p99 of one-way delivery: half the round trip */
static double p99_us(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(uint64_t), cmp_u64);
    return n ? (double)v[n * 99 / 100] / 2000.0 : 0;
}

int main(void)
{
    double floor = bare_pingpong();
    double pp = actor_pingpong();
    double floor_p99 = p99_us(rtt_floor, n_rtt_floor), actor_p99 = p99_us(rtt_actor, n_rtt_actor);
    double p99;
    double cross = cross_thread(&p99);
    double same = same_loop();
    printf("actor_pingpong_msgs %.0f\n", pp);
    printf("peer actor_pingpong_msgs uv_async_floor %.0f\n", floor);
    /* latencies are lower-is-better: printed as 1/latency so ratios read alike */
    printf("pingpong_p99_per_s %.0f\n", 1e6 / actor_p99);
    printf("peer pingpong_p99_per_s uv_async_floor %.0f\n", 1e6 / floor_p99);
    printf("cross_thread_msgs %.0f\n", cross);
    printf("flood_queueing_p99_us %.1f\n", p99);
    fprintf(stderr, "one-way p99: actor %.1f us, uv_async floor %.1f us\n", actor_p99, floor_p99);
    printf("same_loop_msgs %.0f\n", same);
    return 0;
}
