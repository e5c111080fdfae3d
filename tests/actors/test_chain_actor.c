/* The chain actor: another actor's Query, QueryMap, RuntimeCall and Submit
 * requests answered by message, heads published on the blocks topic; all
 * on the real local chain. */
#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/chain_actor.h"
#include "ganglion/error.h"
#include "support/chain.h"
#include "support/chain_client.h"

static const gn_msg_type_t GO = {0x7701, "test.go", NULL};
static const gn_msg_type_t GIVE_UP = {0x7702, "test.give_up", NULL};

typedef struct {
    gn_actor_t *chain;
    gn_loop_t *loop;
    int replies, ok;
    long long alice_free;
    size_t map_entries;
    bool call_ok, submit_ok;
    int blocks, finalized;
    char err[512];
} probe_t;

static void send_req(gn_actor_t *a, gn_actor_t *to, const gn_msg_type_t *t, gn_chain_req_t *r)
{
    gn_msg_t *m = gn_msg_new(t, r);
    cr_assert_not_null(m);
    uint64_t corr;
    cr_assert_eq(gn_request(a, to, m, 120000, &corr), 0);
}

static int probe_start(gn_actor_t *a)
{
    uint64_t t;
    gn_msg_t *m = gn_msg_new(&GO, NULL);
    /* a bound, so a missing answer fails the test instead of hanging it */
    gn_actor_timer(a, 90000, 0, &GIVE_UP, &t);
    return gn_post(a, m);
}

static int probe_handle(gn_actor_t *a, gn_msg_t *m)
{
    probe_t *p = gn_actor_state(a);
    if (m->type == &GO) {
        send_req(
            a, p->chain, &GN_MSG_CHAIN_QUERY,
            gn_chain_req_new("System", "Account",
                             json_pack("[s]", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY")));
        gn_chain_req_t *mr = gn_chain_req_new("System", "Account", NULL);
        mr->map.page_size = 3;
        send_req(a, p->chain, &GN_MSG_CHAIN_QUERY_MAP, mr);
        send_req(a, p->chain, &GN_MSG_CHAIN_RUNTIME_CALL,
                 gn_chain_req_new("SubnetInfoRuntimeApi", "get_subnets_info", NULL));
        gn_chain_req_t *s = gn_chain_req_new(
            "Balances", "transfer_keep_alive",
            json_pack("{s:s,s:i}", "dest", "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy",
                      "value", 1000));
        gn_test_keypair("//Charlie", &s->kp);
        s->submit.wait = GN_WAIT_IN_BLOCK;
        send_req(a, p->chain, &GN_MSG_CHAIN_SUBMIT, s);
        return 0;
    }
    if (m->type == &GIVE_UP) {
        gn_loop_stop(p->loop, 1000);
        return 0;
    }
    if (m->type == &GN_MSG_CHAIN_BLOCK) {
        gn_chain_block_t *b = m->payload;
        b->finalized ? p->finalized++ : p->blocks++;
    } else if (m->type == &GN_MSG_CHAIN_RESULT) {
        gn_chain_result_t *r = m->payload;
        p->replies++;
        if (r->status == 0) {
            p->ok++;
            json_t *j = r->result;
            if (json_object_get(j, "data"))
                p->alice_free =
                    json_integer_value(json_object_get(json_object_get(j, "data"), "free"));
            else if (json_object_get(j, "entries"))
                p->map_entries = json_array_size(json_object_get(j, "entries"));
            else if (json_is_array(j))
                p->call_ok = json_array_size(j) > 0;
            else if (json_object_get(j, "success"))
                p->submit_ok = json_is_true(json_object_get(j, "success"));
        } else {
            snprintf(p->err, sizeof(p->err), "%s", r->error);
        }
    } else if (m->type == &GN_MSG_TIMEOUT) {
        p->replies++;
        snprintf(p->err, sizeof(p->err), "a request timed out");
    }
    if (p->replies == 4 && p->blocks >= 1 && p->finalized >= 1)
        gn_loop_stop(p->loop, 1000);
    return 0;
}

Test(chain_actor, requests_by_message_and_blocks_topic, .timeout = 240)
{
    char url[128];
    int port;
    gn_test_chain_start(url, sizeof(url), &port);
    gn_loop_t *l;
    cr_assert_eq(gn_loop_new(&l), 0);
    gn_topic_t *blocks;
    cr_assert_eq(gn_topic_new("blocks", &blocks), 0);
    gn_chain_opts_t o = {.url = url};
    gn_chain_actor_t *ca;
    gn_actor_t *chain, *probe;
    cr_assert_eq(gn_chain_actor_spawn(l, &o, blocks, &ca, &chain), 0);
    static probe_t p;
    memset(&p, 0, sizeof(p));
    p.chain = chain;
    p.loop = l;
    gn_actor_spec_t spec = {.name = "probe", .handle = probe_handle, .start = probe_start};
    cr_assert_eq(gn_actor_spawn(l, &spec, &p, &probe), 0);
    cr_assert_eq(gn_topic_subscribe(blocks, probe), 0);
    cr_assert_eq(gn_loop_run(l), 0);
    gn_loop_free(l);
    gn_chain_actor_free(ca);
    gn_topic_free(blocks);
    gn_test_chain_stop(port);
    cr_assert_eq(p.replies, 4, "every request answered (%s)", p.err);
    cr_assert_eq(p.ok, 4, "all succeeded: %s", p.err);
    cr_assert_gt(p.alice_free, 0);
    cr_assert_geq(p.map_entries, 7);
    cr_assert(p.call_ok);
    cr_assert(p.submit_ok);
    cr_assert_geq(p.blocks, 1);
    cr_assert_geq(p.finalized, 1);
}
