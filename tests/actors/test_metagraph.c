/* The metagraph syncer on the local chain: a sync equals the runtime API's
 * answer at the same block; the persisted snapshot is served at the next
 * start, before (and without) any sync. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "ganglion/chain_actor.h"
#include "ganglion/error.h"
#include "ganglion/metagraph.h"
#include "support/chain.h"
#include "support/json_loose.h"
#include "support/pjs.h"

static const gn_msg_type_t GIVE_UP = {0x7801, "test.give_up", NULL};

typedef struct {
    gn_loop_t *loop;
    int live, disk;
    json_t *neurons; /* the first snapshot's */
    uint64_t block;
    char hash[67];
} probe_t;

static int probe_start(gn_actor_t *a)
{
    uint64_t t;
    return gn_actor_timer(a, 90000, 0, &GIVE_UP, &t);
}

static int probe_handle(gn_actor_t *a, gn_msg_t *m)
{
    probe_t *p = gn_actor_state(a);
    if (m->type == &GIVE_UP) {
        gn_loop_stop(p->loop, 1000);
    } else if (m->type == &GN_MSG_METAGRAPH) {
        gn_metagraph_t *g = m->payload;
        g->from_disk ? p->disk++ : p->live++;
        if (!p->neurons) {
            p->neurons = json_incref(g->neurons);
            p->block = g->block;
            snprintf(p->hash, sizeof(p->hash), "%s", g->block_hash);
        }
        gn_loop_stop(p->loop, 1000);
    }
    return 0;
}

/* One loop: chain actor (url), metagraph actor, probe; until the first
 * snapshot or 90 s. */
static void run(const char *url, const char *path, probe_t *p)
{
    gn_loop_t *l;
    cr_assert_eq(gn_loop_new(&l), 0);
    gn_topic_t *blocks, *mg;
    cr_assert_eq(gn_topic_new("blocks", &blocks), 0);
    cr_assert_eq(gn_topic_new("metagraph", &mg), 0);
    gn_chain_opts_t co = {.url = url, .timeout_ms = 5000};
    gn_chain_actor_t *ca;
    gn_actor_t *chain, *meta, *probe;
    cr_assert_eq(gn_chain_actor_spawn(l, &co, blocks, &ca, &chain), 0);
    gn_metagraph_opts_t mo = {
        .netuid = 2, .every_blocks = 5, .persist_path = path, .chain = chain, .out = mg};
    gn_metagraph_actor_t *ma;
    cr_assert_eq(gn_metagraph_spawn(l, &mo, &ma, &meta), 0);
    cr_assert_eq(gn_topic_subscribe(blocks, meta), 0);
    memset(p, 0, sizeof(*p));
    p->loop = l;
    gn_actor_spec_t spec = {.name = "probe", .handle = probe_handle, .start = probe_start};
    cr_assert_eq(gn_actor_spawn(l, &spec, p, &probe), 0);
    cr_assert_eq(gn_topic_subscribe(mg, probe), 0);
    cr_assert_eq(gn_loop_run(l), 0);
    gn_loop_free(l);
    gn_metagraph_actor_free(ma);
    gn_chain_actor_free(ca);
    gn_topic_free(blocks);
    gn_topic_free(mg);
}

Test(metagraph, sync_equals_the_runtime_api_and_restart_serves_the_snapshot, .timeout = 300)
{
    char url[128], path[] = "/tmp/gn-metagraph-XXXXXX";
    int port, fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path); /* no snapshot yet */
    gn_test_chain_start(url, sizeof(url), &port);
    gn_test_chain_seed(url, 3, false);

    static probe_t p;
    run(url, path, &p);
    cr_assert_eq(p.live, 1, "a live sync");
    cr_assert_eq(p.disk, 0, "nothing on disk the first time");
    cr_assert_geq(json_array_size(p.neurons), 4);
    cr_assert_gt(p.block, 0, "a snapshot names its block");
    cr_assert_eq(strlen(p.hash), 66);
    /* polkadot-js' runtime call (nothing changed since: no new blocks) */
    json_t *reqs = json_pack("[{s:s,s:s,s:s,s:[i]}]", "op", "call", "section",
                             "neuronInfoRuntimeApi", "method", "getNeuronsLite", "args", 2);
    json_t *theirs = gn_test_pjs(url, reqs);
    json_decref(reqs);
    for (size_t i = 0; i < json_array_size(p.neurons); i++) {
        json_t *n = json_deep_copy(json_array_get(p.neurons, i));
        cr_assert_str_eq(
            json_string_value(json_object_get(json_object_get(n, "axon_info"), "ip_text")),
            "127.0.0.2");
        json_object_del(json_object_get(n, "axon_info"), "ip_text");
        cr_assert(gn_test_json_loose_equal(n, json_array_get(json_array_get(theirs, 0), i)),
                  "neuron %zu field by field", i);
        json_decref(n);
    }
    json_decref(theirs);
    json_t *first = p.neurons;
    uint64_t block = p.block;
    gn_test_chain_stop(port);
    /* give the thread pool's write a moment: it finished before the loop
     * stopped only if the loop ran it; wait for the file */
    for (int i = 0; i < 50 && access(path, F_OK) != 0; i++)
        usleep(100000);
    cr_assert_eq(access(path, F_OK), 0, "the snapshot was persisted");

    /* restart with no chain at all: the persisted snapshot is served */
    static probe_t q;
    run("ws://127.0.0.1:1", path, &q);
    cr_assert_eq(q.disk, 1, "served from disk");
    cr_assert_eq(q.live, 0);
    cr_assert_eq(q.block, block);
    cr_assert(json_equal(q.neurons, first), "the same neurons");
    fprintf(stderr, "metagraph: %zu neurons synced at block %llu, served again from %s\n",
            json_array_size(first), (unsigned long long)block, path);
    json_decref(first);
    json_decref(q.neurons);
    unlink(path);
}

/* ---- a sync while the chain restarts ---- */

typedef struct {
    gn_loop_t *loop;
    gn_actor_t *meta;
    int port, phase; /* 0: first sync; 1: chain down, sync asked; 2: recovered */
    char url[128];
    size_t first_n, last_n, between;
    uint32_t failed;
    uint64_t first_block, last_block;
    pthread_t restarter;
    bool restarted, restarter_started;
} restart_probe_t;

/* Off the loop, so the loop keeps running (and the client keeps redialling)
 * while the chain is down and while it is seeded anew. */
static void *restart_chain(void *arg)
{
    restart_probe_t *p = arg;
    sleep(4); /* longer than the client's 2 s request timeout: the asked sync fails */
    char url[128];
    gn_test_chain_start_on(p->port, url, sizeof(url));
    gn_test_chain_seed(url, 1, false); /* a fresh chain: subnet 2 with 2 neurons */
    __atomic_store_n(&p->restarted, true, __ATOMIC_SEQ_CST);
    /* the seeded blocks are behind nothing and not due: ask */
    gn_post(p->meta, gn_msg_new(&GN_MSG_METAGRAPH_SYNC, NULL));
    return NULL;
}

static int rprobe_handle(gn_actor_t *a, gn_msg_t *m)
{
    restart_probe_t *p = gn_actor_state(a);
    if (m->type == &GIVE_UP) {
        gn_loop_stop(p->loop, 1000);
        return 0;
    }
    if (m->type != &GN_MSG_METAGRAPH)
        return 0;
    gn_metagraph_t *g = m->payload;
    if (p->phase == 0 && !g->from_disk) {
        p->first_n = json_array_size(g->neurons);
        p->first_block = g->block;
        p->phase = 1;
        gn_test_chain_stop(p->port);
        /* ask for a sync with no chain there */
        cr_assert_eq(gn_post(p->meta, gn_msg_new(&GN_MSG_METAGRAPH_SYNC, NULL)), 0);
        p->restarter_started = pthread_create(&p->restarter, NULL, restart_chain, p) == 0;
    } else if (p->phase == 1 && __atomic_load_n(&p->restarted, __ATOMIC_SEQ_CST) &&
               json_array_size(g->neurons) == 2) {
        p->phase = 2;
        p->last_n = json_array_size(g->neurons);
        p->last_block = g->block;
        p->failed += g->failed_syncs;
        gn_loop_stop(p->loop, 1000);
    } else if (p->phase == 1) {
        /* the fresh chain before the seed lands (its head went back) */
        p->failed += g->failed_syncs;
        p->between++;
    }
    return 0;
}

static int rprobe_start(gn_actor_t *a)
{
    uint64_t t;
    return gn_actor_timer(a, 150000, 0, &GIVE_UP, &t);
}

Test(metagraph, a_sync_during_a_chain_restart_recovers, .timeout = 300)
{
    static restart_probe_t p;
    memset(&p, 0, sizeof(p));
    gn_test_chain_start(p.url, sizeof(p.url), &p.port);
    gn_test_chain_seed(p.url, 3, false);

    gn_loop_t *l;
    cr_assert_eq(gn_loop_new(&l), 0);
    gn_topic_t *blocks, *mg;
    cr_assert_eq(gn_topic_new("blocks", &blocks), 0);
    cr_assert_eq(gn_topic_new("metagraph", &mg), 0);
    gn_chain_opts_t co = {.url = p.url, .timeout_ms = 2000};
    gn_chain_actor_t *ca;
    gn_actor_t *chain, *probe;
    cr_assert_eq(gn_chain_actor_spawn(l, &co, blocks, &ca, &chain), 0);
    /* every_blocks large: only the first sync, the asked one and the
     * chain going back start a sync */
    gn_metagraph_opts_t mo = {.netuid = 2, .every_blocks = 100000, .chain = chain, .out = mg};
    gn_metagraph_actor_t *ma;
    cr_assert_eq(gn_metagraph_spawn(l, &mo, &ma, &p.meta), 0);
    cr_assert_eq(gn_topic_subscribe(blocks, p.meta), 0);
    p.loop = l;
    gn_actor_spec_t spec = {.name = "probe", .handle = rprobe_handle, .start = rprobe_start};
    cr_assert_eq(gn_actor_spawn(l, &spec, &p, &probe), 0);
    cr_assert_eq(gn_topic_subscribe(mg, probe), 0);
    cr_assert_eq(gn_loop_run(l), 0);
    gn_loop_free(l);
    gn_metagraph_actor_free(ma);
    gn_chain_actor_free(ca);
    gn_topic_free(blocks);
    gn_topic_free(mg);
    if (p.restarter_started)
        pthread_join(p.restarter, NULL);
    gn_test_chain_stop(p.port);

    cr_assert_eq(p.first_n, 4, "the first chain: 3 seeded + the owner");
    cr_assert_eq(p.phase, 2, "a snapshot of the restarted chain arrived");
    cr_assert_eq(p.last_n, 2, "the restarted chain's subnet: 1 seeded + the owner");
    cr_assert_geq(p.failed, 1, "the sync asked while the chain was down failed first");
    fprintf(stderr,
            "metagraph: %zu neurons at block %llu; chain restarted; %u failed sync(s), %zu "
            "snapshot(s) of the fresh chain; %zu neurons at block %llu\n",
            p.first_n, (unsigned long long)p.first_block, p.failed, p.between, p.last_n,
            (unsigned long long)p.last_block);
}
