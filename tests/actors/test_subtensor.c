/* Bittensor reads on the local chain (a subnet made by seed.mjs), equal to
 * what @polkadot/api reads on the same chain. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/ss58.h"
#include "ganglion/subtensor.h"
#include "ganglion/subtensor_tx.h"
#include "ganglion/weights.h"
#include "support/chain.h"
#include "support/chain_client.h"
#include "support/json_loose.h"
#include "support/pjs.h"
#include "support/run.h"

Test(subtensor, reads_equal_polkadot_js, .timeout = 300)
{
    gn_test_client_t f;
    gn_test_chain_start(f.url, sizeof(f.url), &f.port);
    gn_test_chain_seed(f.url, 3, false);
    json_t *reqs = json_pack(
        "[{s:s,s:s,s:s,s:[i]},{s:s,s:s,s:s,s:[i]},{s:s,s:s,s:s,s:[s]},{s:s,s:s,s:s,s:[]}]", "op",
        "call", "section", "neuronInfoRuntimeApi", "method", "getNeuronsLite", "args", 2, "op",
        "call", "section", "subnetInfoRuntimeApi", "method", "getMetagraph", "args", 2, "op",
        "query", "section", "system", "method", "account", "args",
        "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "op", "entries", "section",
        "subtensorModule", "method", "networksAdded", "args");
    json_t *theirs = gn_test_pjs(f.url, reqs);
    json_decref(reqs);

    gn_test_client_open(&f, NULL);
    uv_loop_t *loop = &f.loop;
    gn_chain_t *c = f.c;
    gn_test_res_t r[4] = {0};
    /* all four at once, on one socket */
    cr_assert_eq(gn_subtensor_neurons(c, 2, true, NULL, gn_test_res_cb, &r[0]), 0);
    cr_assert_eq(gn_subtensor_metagraph(c, 2, NULL, gn_test_res_cb, &r[1]), 0);
    json_t *who = json_pack("[s]", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    cr_assert_eq(gn_subtensor_balances(c, who, NULL, gn_test_res_cb, &r[2]), 0);
    json_decref(who);
    cr_assert_eq(gn_subtensor_subnets(c, NULL, gn_test_res_cb, &r[3]), 0);
    json_t *neurons = gn_test_res_ok(loop, &r[0], 0), *mg = gn_test_res_ok(loop, &r[1], 0);
    json_t *bal = gn_test_res_ok(loop, &r[2], 0), *subnets = gn_test_res_ok(loop, &r[3], 0);

    /* neurons_lite: field by field, plus our ip_text */
    json_t *pn = json_array_get(theirs, 0);
    cr_assert_geq(json_array_size(neurons), 3, "the seeded neurons");
    cr_assert_eq(json_array_size(neurons), json_array_size(pn));
    for (size_t i = 0; i < json_array_size(neurons); i++) {
        json_t *n = json_deep_copy(json_array_get(neurons, i));
        json_t *ax = json_object_get(n, "axon_info");
        cr_assert_str_eq(json_string_value(json_object_get(ax, "ip_text")), "127.0.0.2",
                         "seed.mjs serves on 127.0.0.2");
        json_object_del(ax, "ip_text");
        cr_assert(gn_test_json_loose_equal(n, json_array_get(pn, i)), "neuron %zu", i);
        json_decref(n);
    }
    cr_assert(gn_test_json_loose_equal(mg, json_array_get(theirs, 1)), "get_metagraph(2)");
    cr_assert(gn_test_json_loose_equal(
        json_object_get(bal, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"),
        json_object_get(json_object_get(json_array_get(theirs, 2), "data"), "free")));
    size_t exists = 0;
    json_t *e;
    size_t i;
    json_array_foreach (json_array_get(theirs, 3), i, e)
        exists += json_is_true(json_object_get(e, "value"));
    cr_assert_eq(json_array_size(json_object_get(subnets, "netuids")), exists);
    fprintf(stderr, "subtensor: %zu subnets, %zu neurons on subnet 2 equal polkadot-js\n", exists,
            json_array_size(neurons));
    json_decref(neurons);
    json_decref(mg);
    json_decref(bal);
    json_decref(subnets);
    json_decref(theirs);
    /* a subnet that does not exist: an empty list, not an error */
    gn_test_res_t none = {0};
    json_t *empty =
        gn_test_res_ok(loop, &none, gn_subtensor_neurons(c, 99, true, NULL, gn_test_res_cb, &none));
    cr_assert_eq(json_array_size(empty), 0);
    json_decref(empty);
    gn_test_client_close(&f, true);
}

Test(subtensor, set_weights_and_the_limits_that_refuse, .timeout = 300)
{
    gn_test_client_t f;
    gn_test_chain_start(f.url, sizeof(f.url), &f.port);
    /* a subnet whose hk1 is a permitted validator (stake, one epoch) */
    gn_test_chain_seed(f.url, 3, true);
    gn_test_client_open(&f, NULL);
    uv_loop_t *loop = &f.loop;
    gn_chain_t *c = f.c;
    gn_sr25519_keypair_t hk1, hk2, bob, alice;
    gn_test_keypair("//Alice//hk1", &hk1);
    gn_test_keypair("//Alice//hk2", &hk2);
    gn_test_keypair("//Bob", &bob);
    gn_test_keypair("//Alice", &alice);
    uint64_t uids[] = {0, 1, 2, 3};
    double scores[] = {1, 0.5, 0.25, 0};

    gn_test_res_t r = {0};
    json_t *rc = gn_test_res_ok(loop, &r,
                                gn_subtensor_set_weights(c, &hk1, 2, uids, scores, 4,
                                                         GN_SUBTENSOR_VERSION_KEY, GN_WAIT_IN_BLOCK,
                                                         gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(rc, "success")));
    json_decref(rc);
    /* on chain exactly what the SDK would emit: zeros dropped, max-upscaled */
    uint16_t eu[4], ev[4];
    size_t en;
    cr_assert_eq(gn_weights_for_emit(uids, scores, 4, eu, ev, &en), 0);
    memset(&r, 0, sizeof(r));
    json_t *k = json_pack("[i,i]", 2, 1);
    json_t *w = gn_test_res_ok(
        loop, &r, gn_chain_query(c, "SubtensorModule", "Weights", k, NULL, gn_test_res_cb, &r));
    json_decref(k);
    cr_assert_eq(json_array_size(w), en);
    for (size_t i = 0; i < en; i++) {
        cr_assert_eq(json_integer_value(json_array_get(json_array_get(w, i), 0)), eu[i]);
        cr_assert_eq(json_integer_value(json_array_get(json_array_get(w, i), 1)), ev[i]);
    }
    json_t *reqs = json_pack("[{s:s,s:s,s:s,s:[i,i]}]", "op", "query", "section", "subtensorModule",
                             "method", "weights", "args", 2, 1);
    json_t *theirs = gn_test_pjs(f.url, reqs);
    json_decref(reqs);
    cr_assert(gn_test_json_loose_equal(w, json_array_get(theirs, 0)), "polkadot-js reads them");
    json_decref(theirs);
    json_decref(w);

    /* refusals that name their reason */
    memset(&r, 0, sizeof(r));
    json_t *np = gn_test_res_ok(loop, &r,
                                gn_subtensor_set_weights(c, &hk2, 2, uids, scores, 4,
                                                         GN_SUBTENSOR_VERSION_KEY, GN_WAIT_IN_BLOCK,
                                                         gn_test_res_cb, &r));
    cr_assert(json_is_false(json_object_get(np, "success")));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(np, "error"), "name")),
                     "NeuronNoValidatorPermit");
    json_decref(np);
    memset(&r, 0, sizeof(r));
    gn_test_res_any(loop, &r,
                    gn_subtensor_set_weights(c, &bob, 2, uids, scores, 4, GN_SUBTENSOR_VERSION_KEY,
                                             GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ENOENT);
    cr_assert(strstr(r.err, "not registered on subnet 2"), "%s", r.err);
    /* the subnet's rate limit raised by sudo: the next set is refused before
     * any extrinsic, with the numbers */
    memset(&r, 0, sizeof(r));
    json_t *sa =
        json_pack("{s:{s:{s:{s:i,s:i}}}}", "call", "AdminUtils", "sudo_set_weights_set_rate_limit",
                  "netuid", 2, "weights_set_rate_limit", 100);
    gn_submit_opts_t so = {.nonce = -1, .wait = GN_WAIT_IN_BLOCK};
    json_t *sr = gn_test_res_ok(
        loop, &r, gn_chain_submit(c, "Sudo", "sudo", sa, &alice, &so, gn_test_res_cb, &r));
    json_decref(sa);
    cr_assert(json_is_true(json_object_get(sr, "success")));
    json_decref(sr);
    memset(&r, 0, sizeof(r));
    gn_test_res_any(loop, &r,
                    gn_subtensor_set_weights(c, &hk1, 2, uids, scores, 4, GN_SUBTENSOR_VERSION_KEY,
                                             GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ERANGE);
    cr_assert(strstr(r.err, "weights rate limit") && strstr(r.err, "every 100 blocks"), "%s",
              r.err);
    fprintf(stderr, "subtensor: %s\n", r.err);
    double zeros[] = {0, 0, 0, 0};
    cr_assert_eq(gn_subtensor_set_weights(c, &hk1, 2, uids, zeros, 4, GN_SUBTENSOR_VERSION_KEY,
                                          GN_WAIT_IN_BLOCK, gn_test_res_cb, &r),
                 GN_EINVAL, "all zero: nothing to set");
    gn_sr25519_wipe(&hk1);
    gn_sr25519_wipe(&hk2);
    gn_sr25519_wipe(&bob);
    gn_sr25519_wipe(&alice);
    gn_test_client_close(&f, true);
}

Test(subtensor, register_and_serve_write_only_what_changes, .timeout = 300)
{
    gn_test_client_t f;
    gn_test_chain_start(f.url, sizeof(f.url), &f.port);
    gn_test_chain_seed(f.url, 1, false);
    gn_test_client_open(&f, NULL);
    uv_loop_t *loop = &f.loop;
    gn_chain_t *c = f.c;
    gn_sr25519_keypair_t alice, hk;
    gn_test_keypair("//Alice", &alice);
    gn_test_keypair("//Alice//hk9", &hk);
    char hk_ss58[64];
    cr_assert_eq(gn_ss58_encode(hk.pub, 32, 42, hk_ss58, sizeof(hk_ss58)), 0);

    gn_test_res_t r = {0};
    json_t *reg = gn_test_res_ok(
        loop, &r,
        gn_subtensor_register(c, &alice, 2, hk_ss58, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(reg, "success")), "burned_register landed");
    json_decref(reg);
    memset(&r, 0, sizeof(r));
    json_t *again = gn_test_res_ok(
        loop, &r,
        gn_subtensor_register(c, &alice, 2, hk_ss58, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(again, "already")));
    cr_assert(json_is_integer(json_object_get(again, "uid")));
    json_decref(again);

    /* ServingRateLimit counts from block 0 for a hotkey that never served:
     * on this young chain lift it, as an operator of a test subnet would */
    memset(&r, 0, sizeof(r));
    json_t *sa = json_pack("{s:{s:{s:{s:i,s:i}}}}", "call", "AdminUtils",
                           "sudo_set_serving_rate_limit", "netuid", 2, "serving_rate_limit", 0);
    gn_submit_opts_t so = {.nonce = -1, .wait = GN_WAIT_IN_BLOCK};
    json_t *sr = gn_test_res_ok(
        loop, &r, gn_chain_submit(c, "Sudo", "sudo", sa, &alice, &so, gn_test_res_cb, &r));
    json_decref(sa);
    cr_assert(json_is_true(json_object_get(sr, "success")));
    json_decref(sr);
    memset(&r, 0, sizeof(r));
    json_t *sv = gn_test_res_ok(loop, &r,
                                gn_subtensor_serve_axon(c, &hk, 2, "127.0.0.3", 9001, 10002000,
                                                        GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(sv, "success")), "serve_axon landed");
    json_decref(sv);
    /* read back by ganglion and by polkadot-js */
    memset(&r, 0, sizeof(r));
    json_t *k = json_pack("[i,s]", 2, hk_ss58);
    json_t *ax = gn_test_res_ok(
        loop, &r, gn_chain_query(c, "SubtensorModule", "Axons", k, NULL, gn_test_res_cb, &r));
    json_decref(k);
    cr_assert_eq(json_integer_value(json_object_get(ax, "ip")), 0x7f000003);
    cr_assert_eq(json_integer_value(json_object_get(ax, "port")), 9001);
    cr_assert_eq(json_integer_value(json_object_get(ax, "version")), 10002000);
    cr_assert_eq(json_integer_value(json_object_get(ax, "protocol")), 4);
    json_t *reqs = json_pack("[{s:s,s:s,s:s,s:[i,s]}]", "op", "query", "section", "subtensorModule",
                             "method", "axons", "args", 2, hk_ss58);
    json_t *theirs = gn_test_pjs(f.url, reqs);
    json_decref(reqs);
    cr_assert(gn_test_json_loose_equal(ax, json_array_get(theirs, 0)));
    json_decref(theirs);
    json_decref(ax);
    /* the same axon again: nothing submitted */
    memset(&r, 0, sizeof(r));
    json_t *same = gn_test_res_ok(loop, &r,
                                  gn_subtensor_serve_axon(c, &hk, 2, "127.0.0.3", 9001, 10002000,
                                                          GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(same, "unchanged")));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(same, "axon"), "ip_text")),
                     "127.0.0.3");
    json_decref(same);
    /* a changed port is served */
    memset(&r, 0, sizeof(r));
    json_t *moved = gn_test_res_ok(loop, &r,
                                   gn_subtensor_serve_axon(c, &hk, 2, "127.0.0.3", 9002, 10002000,
                                                           GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(moved, "success")));
    json_decref(moved);
    memset(&r, 0, sizeof(r));
    k = json_pack("[i,s]", 2, hk_ss58);
    ax = gn_test_res_ok(loop, &r,
                        gn_chain_query(c, "SubtensorModule", "Axons", k, NULL, gn_test_res_cb, &r));
    json_decref(k);
    cr_assert_eq(json_integer_value(json_object_get(ax, "port")), 9002);
    json_decref(ax);
    cr_assert_eq(
        gn_subtensor_serve_axon(c, &hk, 2, "not an ip", 1, 1, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r),
        GN_EINVAL);
    gn_sr25519_wipe(&alice);
    gn_sr25519_wipe(&hk);
    gn_test_client_close(&f, true);
}

/* Subnet state, hyperparameters (runtime API and the storage fallback),
 * uid, stake and every subnet's neurons, against polkadot-js; and the CLI
 * table of the same metagraph. */
Test(subtensor, subnet_hyperparameters_stake_and_all_subnets, .timeout = 300)
{
    static const char *alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    gn_test_client_t f;
    gn_test_chain_start(f.url, sizeof(f.url), &f.port);
    gn_test_chain_seed(f.url, 3, false);
    json_t *reqs = json_pack(
        "[{s:s,s:s,s:s,s:[i]},{s:s,s:s,s:s,s:[i]},{s:s,s:s,s:s,s:[s]},{s:s,s:s,s:s,s:[i]}]", "op",
        "call", "section", "subnetInfoRuntimeApi", "method", "getSubnetHyperparamsV2", "args", 2,
        "op", "query", "section", "subtensorModule", "method", "tempo", "args", 2, "op", "call",
        "section", "stakeInfoRuntimeApi", "method", "getStakeInfoForColdkey", "args", alice, "op",
        "query", "section", "subtensorModule", "method", "subnetworkN", "args", 2);
    json_t *theirs = gn_test_pjs(f.url, reqs);
    json_decref(reqs);

    gn_test_client_open(&f, NULL);
    uv_loop_t *loop = &f.loop;
    gn_chain_t *c = f.c;
    gn_test_res_t r[8] = {0};
    cr_assert_eq(gn_subtensor_hyperparams(c, 2, NULL, gn_test_res_cb, &r[0]), 0);
    cr_assert_eq(gn_subtensor_hyperparams_storage(c, 2, NULL, gn_test_res_cb, &r[1]), 0);
    cr_assert_eq(gn_subtensor_subnet(c, 2, NULL, gn_test_res_cb, &r[2]), 0);
    cr_assert_eq(gn_subtensor_stake(c, alice, NULL, 0, NULL, gn_test_res_cb, &r[3]), 0);
    cr_assert_eq(gn_subtensor_all_neurons(c, true, 16, NULL, gn_test_res_cb, &r[4]), 0);
    cr_assert_eq(gn_subtensor_all_neurons(c, true, 1, NULL, gn_test_res_cb, &r[5]), 0);
    cr_assert_eq(gn_subtensor_subnet(c, 99, NULL, gn_test_res_cb, &r[6]), 0);
    cr_assert_eq(gn_subtensor_hyperparams_storage(c, 99, NULL, gn_test_res_cb, &r[7]), 0);
    json_t *hp = gn_test_res_ok(loop, &r[0], 0), *hps = gn_test_res_ok(loop, &r[1], 0);
    json_t *sub = gn_test_res_ok(loop, &r[2], 0), *stake = gn_test_res_ok(loop, &r[3], 0);
    json_t *all = gn_test_res_ok(loop, &r[4], 0), *all1 = gn_test_res_ok(loop, &r[5], 0);
    json_t *nosub = gn_test_res_ok(loop, &r[6], 0), *nohp = gn_test_res_ok(loop, &r[7], 0);

    /* the runtime API answer equals polkadot-js', and the storage fallback
     * gives every one of its fields the same value */
    cr_assert_str_eq(json_string_value(json_object_get(hp, "source")), "runtime_api_v2");
    cr_assert_str_eq(json_string_value(json_object_get(hps, "source")), "storage");
    json_t *hp_bare = json_deep_copy(hp);
    json_object_del(hp_bare, "source");
    cr_assert(gn_test_json_loose_equal(hp_bare, json_array_get(theirs, 0)), "hyperparameters");
    json_decref(hp_bare);
    const char *k;
    json_t *v;
    size_t fields = 0;
    json_object_foreach (hp, k, v) {
        if (!strcmp(k, "source"))
            continue;
        cr_assert(json_equal(v, json_object_get(hps, k)), "%s: api %s, storage %s", k,
                  json_dumps(v, JSON_ENCODE_ANY),
                  json_dumps(json_object_get(hps, k), JSON_ENCODE_ANY));
        fields++;
    }
    cr_assert_eq(fields + 1, json_object_size(hps), "the fallback reads the same fields");
    cr_assert_geq(fields, 33);

    cr_assert(json_is_true(json_object_get(sub, "exists")));
    cr_assert(gn_test_json_loose_equal(json_object_get(sub, "tempo"), json_array_get(theirs, 1)));
    cr_assert(gn_test_json_loose_equal(json_object_get(sub, "neurons"), json_array_get(theirs, 3)));
    cr_assert_eq(json_integer_value(json_object_get(sub, "neurons")), 4, "3 seeded + the owner");
    cr_assert_str_eq(json_string_value(json_object_get(sub, "owner")), alice);
    cr_assert(json_is_false(json_object_get(nosub, "exists")));
    cr_assert(json_is_null(nohp), "no subnet 99: null, as the runtime API answers");

    cr_assert(gn_test_json_loose_equal(stake, json_array_get(theirs, 2)), "stake info");

    /* every subnet at one block, concurrent or one by one: the same */
    cr_assert(json_equal(all, all1));
    json_t *subs = json_object_get(all, "subnets");
    cr_assert_eq(json_object_size(subs), 3, "netuids 0, 1 and the seeded 2");
    json_t *two = json_object_get(subs, "2");
    cr_assert_eq(json_array_size(two), 4);
    gn_test_res_t one = {0};
    json_t *direct = gn_test_res_ok(
        loop, &one,
        gn_subtensor_neurons(c, 2, true, json_string_value(json_object_get(all, "at")),
                             gn_test_res_cb, &one));
    cr_assert(json_equal(direct, two));
    json_decref(direct);
    /* one hotkey's stake: the StakeInfo API agrees with the neuron's own list */
    json_t *n0 = json_array_get(two, 0);
    const char *hk0 = json_string_value(json_object_get(n0, "hotkey"));
    gn_test_res_t st = {0};
    json_t *s0 = gn_test_res_ok(loop, &st,
                                gn_subtensor_stake(c, alice, hk0, 2,
                                                   json_string_value(json_object_get(all, "at")),
                                                   gn_test_res_cb, &st));
    json_t *pair = json_array_get(json_object_get(n0, "stake"), 0);
    cr_assert_str_eq(json_string_value(json_array_get(pair, 0)), alice);
    cr_assert(json_equal(json_object_get(s0, "stake"), json_array_get(pair, 1)), "%s",
              json_dumps(s0, 0));
    cr_assert(json_is_true(json_object_get(s0, "is_registered")));
    json_decref(s0);
    gn_test_res_t u[2] = {0};
    json_t *uid0 =
        gn_test_res_ok(loop, &u[0], gn_subtensor_uid(c, 2, hk0, NULL, gn_test_res_cb, &u[0]));
    json_t *uidx =
        gn_test_res_ok(loop, &u[1], gn_subtensor_uid(c, 2, alice, NULL, gn_test_res_cb, &u[1]));
    cr_assert(json_equal(json_object_get(uid0, "uid"), json_object_get(n0, "uid")));
    cr_assert(json_is_true(json_object_get(uid0, "registered")));
    cr_assert(json_is_null(json_object_get(uidx, "uid")) ||
              json_is_integer(json_object_get(uidx, "uid")));
    json_decref(uid0), json_decref(uidx);
    /* a block hash that is not one is refused before anything is sent
     * (chopsticks answers reads at unknown hashes from its genesis, so an
     * unknown block cannot be the failure here) */
    cr_assert_eq(gn_subtensor_all_neurons(
                     c, true, 4,
                     "0x0000000000000000000000000000000000000000000000000000000000000000ff",
                     gn_test_res_cb, NULL),
                 GN_EINVAL);

    /* the CLI: the table shows each neuron with its axon and stake */
    gn_run_t *run = malloc(sizeof(*run));
    gn_test_run(run, "", "metagraph --netuid 2 --subtensor.chain_endpoint %s", f.url);
    cr_assert_eq(run->status, 0, "%s", run->err);
    cr_assert(strstr(run->out, "Metagraph: netuid 2, block "), "%s", run->out);
    cr_assert(strstr(run->out, "4 neurons"), "%s", run->out);
    for (int i = 0; i < 3; i++) {
        char axon[32];
        snprintf(axon, sizeof(axon), "127.0.0.2:%d", 8090 + i);
        cr_assert(strstr(run->out, axon), "%s in\n%s", axon, run->out);
    }
    gn_test_run(run, "", "neurons --all --subtensor.chain_endpoint %s", f.url);
    json_t *cli_all = json_loads(run->out, 0, NULL);
    cr_assert_eq(json_object_size(json_object_get(cli_all, "subnets")), 3, "%s", run->err);
    json_decref(cli_all);
    gn_test_run(run, "", "subnets --netuid 2 --subtensor.chain_endpoint %s", f.url);
    json_t *cli_sub = json_loads(run->out, 0, NULL);
    cr_assert(json_equal(json_object_get(cli_sub, "hyperparameters"), hp), "%s", run->out);
    json_decref(cli_sub);
    free(run);

    fprintf(stderr, "subtensor: %zu hyperparameters equal from the API and storage\n", fields);
    json_decref(hp), json_decref(hps), json_decref(sub), json_decref(stake);
    json_decref(all), json_decref(all1), json_decref(nosub), json_decref(nohp);
    json_decref(theirs);
    gn_test_client_close(&f, true);
}
