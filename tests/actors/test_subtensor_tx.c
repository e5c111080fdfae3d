/* Bittensor money and commit-reveal writes on the local chain: each
 * effect read back by ganglion and by @polkadot/api on the same chain,
 * and each refusal clear and without effect. */
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

#define TAO   1000000000ull
#define ALICE "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
#define DAVE  "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy"

static uint64_t u64_of(const json_t *j)
{
    gn_u128_t v = 0;
    cr_assert_eq(gn_subtensor_u128(j, &v), 0, "not an integer: %s",
                 j ? json_dumps(j, JSON_ENCODE_ANY) : "(none)");
    return (uint64_t)v;
}

static void ss58_of(const char *uri, char out[64])
{
    gn_sr25519_keypair_t kp;
    gn_test_keypair(uri, &kp);
    cr_assert_eq(gn_ss58_encode(kp.pub, 32, 42, out, 64), 0);
    gn_sr25519_wipe(&kp);
}

static json_t *query(gn_test_client_t *f, const char *pallet, const char *item, json_t *keys)
{
    gn_test_res_t r = {0};
    json_t *v = gn_test_res_ok(&f->loop, &r,
                               gn_chain_query(f->c, pallet, item, keys, NULL, gn_test_res_cb, &r));
    json_decref(keys);
    return v;
}

/* ganglion's balance read (gn_subtensor_balances) of one account */
static uint64_t free_rao(gn_test_client_t *f, const char *who)
{
    gn_test_res_t r = {0};
    json_t *a = json_pack("[s]", who);
    json_t *b =
        gn_test_res_ok(&f->loop, &r, gn_subtensor_balances(f->c, a, NULL, gn_test_res_cb, &r));
    json_decref(a);
    uint64_t v = u64_of(json_object_get(b, who));
    json_decref(b);
    return v;
}

/* ganglion's stake read (StakeInfoRuntimeApi) */
static uint64_t stake_rao(gn_test_client_t *f, const char *hotkey, const char *coldkey,
                          uint16_t netuid)
{
    gn_test_res_t r = {0};
    json_t *s = gn_test_res_ok(
        &f->loop, &r, gn_subtensor_stake(f->c, coldkey, hotkey, netuid, NULL, gn_test_res_cb, &r));
    uint64_t v = json_is_null(s) ? 0 : u64_of(json_object_get(s, "stake"));
    json_decref(s);
    return v;
}

static uint64_t pjs_free(const char *url, const char *who)
{
    json_t *a = gn_test_pjs1(url, "query", "system", "account", json_pack("[s]", who));
    uint64_t v = u64_of(json_object_get(json_object_get(a, "data"), "free"));
    json_decref(a);
    return v;
}

/* Sudo.sudo(call) signed by //Alice, the genesis sudo key. */
static void sudo(gn_test_client_t *f, json_t *call)
{
    gn_sr25519_keypair_t alice;
    gn_test_keypair("//Alice", &alice);
    gn_test_res_t r = {0};
    json_t *args = json_pack("{s:o}", "call", call);
    gn_submit_opts_t so = {.nonce = -1, .wait = GN_WAIT_IN_BLOCK};
    json_t *rc = gn_test_res_ok(
        &f->loop, &r, gn_chain_submit(f->c, "Sudo", "sudo", args, &alice, &so, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(rc, "success")));
    json_decref(rc);
    json_decref(args);
    gn_sr25519_wipe(&alice);
}

/* n empty blocks (chopsticks' dev_newBlock) */
static void new_blocks(gn_test_client_t *f, uint64_t n)
{
    if (n == 0)
        return;
    gn_test_res_t r = {0};
    json_t *p = json_pack("[{s:I}]", "count", (json_int_t)n);
    json_decref(
        gn_test_res_ok(&f->loop, &r, gn_chain_rpc(f->c, "dev_newBlock", p, gn_test_res_cb, &r)));
    json_decref(p);
}

static uint64_t head_number(gn_test_client_t *f)
{
    gn_test_res_t r = {0};
    json_t *h = gn_test_res_ok(&f->loop, &r, gn_chain_head(f->c, false, gn_test_res_cb, &r));
    uint64_t n = (uint64_t)json_integer_value(json_object_get(h, "number"));
    json_decref(h);
    return n;
}

static bool has_event(const json_t *receipt, const char *pallet, const char *event)
{
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get(receipt, "events"), i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "pallet")), pallet) &&
            !strcmp(json_string_value(json_object_get(e, "event")), event))
            return true;
    }
    return false;
}

Test(subtensor_tx, transfer_and_refusals, .timeout = 180)
{
    gn_test_client_t f;
    gn_test_client_start(&f, NULL);
    gn_sr25519_keypair_t alice, dave, bob;
    gn_test_keypair("//Alice", &alice);
    gn_test_keypair("//Dave", &dave);
    gn_test_keypair("//Bob", &bob);
    char dest[64], dust[64];
    ss58_of("//Alice//transfer-dest", dest);
    ss58_of("//Alice//transfer-dust", dust);

    /* keep-alive transfer to a new account: the sender pays amount + fee */
    uint64_t a0 = free_rao(&f, ALICE), d0 = free_rao(&f, dest);
    cr_assert_eq(d0, 0);
    uint64_t amount = 12 * TAO + 345000000; /* 12.345 TAO */
    gn_test_res_t r = {0};
    json_t *rc = gn_test_res_ok(&f.loop, &r,
                                gn_subtensor_transfer(f.c, &alice, dest, amount, true,
                                                      GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(rc, "success")));
    cr_assert(has_event(rc, "Balances", "Transfer"));
    uint64_t fee = u64_of(json_object_get(rc, "fee"));
    cr_assert_gt(fee, 0, "a transfer pays a fee");
    json_decref(rc);
    uint64_t a1 = free_rao(&f, ALICE), d1 = free_rao(&f, dest);
    cr_assert_eq(a1, a0 - amount - fee, "sender: %llu -> %llu, amount %llu, fee %llu",
                 (unsigned long long)a0, (unsigned long long)a1, (unsigned long long)amount,
                 (unsigned long long)fee);
    cr_assert_eq(d1, amount);
    cr_assert_eq(pjs_free(f.url, ALICE), a1, "polkadot-js reads the sender's balance");
    cr_assert_eq(pjs_free(f.url, dest), d1, "polkadot-js reads the receiver's balance");

    /* allow-death (transfer_allow_death) from Dave */
    uint64_t v0 = free_rao(&f, DAVE);
    memset(&r, 0, sizeof(r));
    rc = gn_test_res_ok(
        &f.loop, &r,
        gn_subtensor_transfer(f.c, &dave, dest, TAO, false, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(rc, "success")));
    uint64_t fee2 = u64_of(json_object_get(rc, "fee"));
    json_decref(rc);
    cr_assert_eq(free_rao(&f, DAVE), v0 - TAO - fee2);
    cr_assert_eq(free_rao(&f, dest), d1 + TAO);

    /* more than the balance: refused before signing, nothing changes */
    uint64_t v1 = free_rao(&f, DAVE), d2 = free_rao(&f, dest);
    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_transfer(f.c, &dave, dest, 5000 * TAO, true, GN_WAIT_IN_BLOCK,
                                          gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ERANGE, "%s", r.err);
    cr_assert(strstr(r.err, "not enough balance") && strstr(r.err, "5000 TAO"), "%s", r.err);
    fprintf(stderr, "subtensor_tx: %s\n", r.err);
    /* below the existential deposit to a new account */
    memset(&r, 0, sizeof(r));
    gn_test_res_any(
        &f.loop, &r,
        gn_subtensor_transfer(f.c, &dave, dust, 100, false, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ERANGE, "%s", r.err);
    cr_assert(strstr(r.err, "existential deposit"), "%s", r.err);
    cr_assert_eq(free_rao(&f, DAVE), v1, "nothing paid");
    cr_assert_eq(free_rao(&f, dest), d2);
    cr_assert_eq(pjs_free(f.url, DAVE), v1);
    cr_assert_eq(pjs_free(f.url, dust), 0);
    cr_assert_eq(gn_subtensor_transfer(f.c, &dave, "not an address", 1, true, GN_WAIT_IN_BLOCK,
                                       gn_test_res_cb, &r),
                 GN_EINVAL);

    /* a pool rejection carries the name of Subtensor's custom code:
     * serve_axon from a hotkey with no uid on subnet 1 */
    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_serve_axon(f.c, &bob, 1, "127.0.0.2", 9000, 1, GN_WAIT_IN_BLOCK,
                                            gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_EREJECTED, "%s", r.err);
    cr_assert(strstr(r.err, "{\"invalid\":{\"custom\":10}}") &&
                  strstr(r.err, "(custom 10: HotKeyNotRegisteredInNetwork: "),
              "%s", r.err);
    fprintf(stderr, "subtensor_tx: %s\n", r.err);
    gn_sr25519_wipe(&alice);
    gn_sr25519_wipe(&dave);
    gn_sr25519_wipe(&bob);
    gn_test_client_close(&f, true);
}

Test(subtensor_tx, register_network_then_stake, .timeout = 180)
{
    gn_test_client_t f;
    gn_test_client_start(&f, NULL);
    gn_sr25519_keypair_t alice, dave;
    gn_test_keypair("//Alice", &alice);
    gn_test_keypair("//Dave", &dave);
    char hk[64];
    ss58_of("//Alice//hk0", hk);

    /* genesis registered subnet 1 at block 0 and limits registrations to
     * one every 7200 blocks: refused with the numbers, nothing made */
    json_t *n0 = query(&f, "SubtensorModule", "TotalNetworks", NULL);
    gn_test_res_t r = {0};
    gn_test_res_any(
        &f.loop, &r,
        gn_subtensor_register_network(f.c, &alice, hk, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ERANGE, "%s", r.err);
    cr_assert(strstr(r.err, "network registration rate limit") && strstr(r.err, "7200"), "%s",
              r.err);
    fprintf(stderr, "subtensor_tx: %s\n", r.err);
    json_t *n1 = query(&f, "SubtensorModule", "TotalNetworks", NULL);
    cr_assert(json_equal(n0, n1));
    json_decref(n1);

    sudo(&f,
         json_pack("{s:{s:{s:i}}}", "AdminUtils", "sudo_set_network_rate_limit", "rate_limit", 0));
    memset(&r, 0, sizeof(r));
    json_t *rc = gn_test_res_ok(
        &f.loop, &r,
        gn_subtensor_register_network(f.c, &alice, hk, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(rc, "success")));
    json_t *netuid = json_object_get(rc, "netuid");
    cr_assert(json_is_integer(netuid), "the new netuid from NetworkAdded");
    uint16_t net = (uint16_t)json_integer_value(netuid);
    json_decref(rc);
    cr_assert_eq(net, json_integer_value(n0), "the next netuid");
    json_decref(n0);
    json_t *exists = query(&f, "SubtensorModule", "NetworksAdded", json_pack("[i]", net));
    json_t *owner_hk = query(&f, "SubtensorModule", "SubnetOwnerHotkey", json_pack("[i]", net));
    json_t *owner = query(&f, "SubtensorModule", "SubnetOwner", json_pack("[i]", net));
    cr_assert(json_is_true(exists));
    cr_assert_str_eq(json_string_value(owner_hk), hk);
    cr_assert_str_eq(json_string_value(owner), ALICE);
    json_t *reqs = json_pack("[{s:s,s:s,s:s,s:[i]},{s:s,s:s,s:s,s:[i]},{s:s,s:s,s:s,s:[i]}]", "op",
                             "query", "section", "subtensorModule", "method", "networksAdded",
                             "args", net, "op", "query", "section", "subtensorModule", "method",
                             "subnetOwnerHotkey", "args", net, "op", "query", "section",
                             "subtensorModule", "method", "subnetOwner", "args", net);
    json_t *theirs = gn_test_pjs(f.url, reqs);
    json_decref(reqs);
    cr_assert(gn_test_json_loose_equal(exists, json_array_get(theirs, 0)));
    cr_assert(gn_test_json_loose_equal(owner_hk, json_array_get(theirs, 1)));
    cr_assert(gn_test_json_loose_equal(owner, json_array_get(theirs, 2)));
    json_decref(theirs);
    json_decref(exists);
    json_decref(owner_hk);
    json_decref(owner);

    /* staking opens with start_call */
    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_add_stake(f.c, &alice, hk, net, 10 * TAO, GN_WAIT_IN_BLOCK,
                                           gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_EUNSUPPORTED, "%s", r.err);
    cr_assert(strstr(r.err, "has not started"), "%s", r.err);
    json_t *dur = NULL;
    memset(&r, 0, sizeof(r));
    dur = gn_test_res_ok(
        &f.loop, &r,
        gn_chain_constant(f.c, "SubtensorModule", "DurationOfStartCall", gn_test_res_cb, &r));
    new_blocks(&f, u64_of(dur));
    json_decref(dur);
    memset(&r, 0, sizeof(r));
    json_t *sc = json_pack("{s:i}", "netuid", net);
    gn_submit_opts_t so = {.nonce = -1, .wait = GN_WAIT_IN_BLOCK};
    rc = gn_test_res_ok(
        &f.loop, &r,
        gn_chain_submit(f.c, "SubtensorModule", "start_call", sc, &alice, &so, gn_test_res_cb, &r));
    json_decref(sc);
    cr_assert(json_is_true(json_object_get(rc, "success")), "start_call");
    json_decref(rc);

    /* add_stake: the stake goes up, the free balance down by amount + fee */
    uint64_t free0 = free_rao(&f, ALICE), stake0 = stake_rao(&f, hk, ALICE, net);
    memset(&r, 0, sizeof(r));
    rc = gn_test_res_ok(&f.loop, &r,
                        gn_subtensor_add_stake(f.c, &alice, hk, net, 10 * TAO, GN_WAIT_IN_BLOCK,
                                               gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(rc, "success")));
    cr_assert(has_event(rc, "SubtensorModule", "StakeAdded"));
    uint64_t fee = u64_of(json_object_get(rc, "fee"));
    json_decref(rc);
    uint64_t free1 = free_rao(&f, ALICE), stake1 = stake_rao(&f, hk, ALICE, net);
    cr_assert_eq(free1, free0 - 10 * TAO - fee);
    cr_assert_gt(stake1, stake0 + 5 * TAO, "alpha bought with 10 TAO: %llu -> %llu",
                 (unsigned long long)stake0, (unsigned long long)stake1);
    json_t *pstake =
        gn_test_pjs1(f.url, "call", "stakeInfoRuntimeApi", "getStakeInfoForHotkeyColdkeyNetuid",
                     json_pack("[s,s,i]", hk, ALICE, net));
    cr_assert_eq(u64_of(json_object_get(pstake, "stake")), stake1, "polkadot-js reads the stake");
    json_decref(pstake);
    cr_assert_eq(pjs_free(f.url, ALICE), free1);

    /* more than staked: refused naming the stake, nothing changes */
    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_remove_stake(f.c, &alice, hk, net, stake1 + 1, GN_WAIT_IN_BLOCK,
                                              gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ERANGE, "%s", r.err);
    cr_assert(strstr(r.err, "alpha staked on hotkey") && strstr(r.err, hk), "%s", r.err);
    fprintf(stderr, "subtensor_tx: %s\n", r.err);
    cr_assert_eq(stake_rao(&f, hk, ALICE, net), stake1);
    cr_assert_eq(free_rao(&f, ALICE), free1);

    /* remove_stake: the stake goes down, the TAO it sells for comes back */
    uint64_t half = (stake1 - stake0) / 2;
    memset(&r, 0, sizeof(r));
    rc = gn_test_res_ok(&f.loop, &r,
                        gn_subtensor_remove_stake(f.c, &alice, hk, net, half, GN_WAIT_IN_BLOCK,
                                                  gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(rc, "success")));
    cr_assert(has_event(rc, "SubtensorModule", "StakeRemoved"));
    json_decref(rc);
    uint64_t free2 = free_rao(&f, ALICE), stake2 = stake_rao(&f, hk, ALICE, net);
    /* (emission may add to the stake in the block, never take) */
    cr_assert(stake2 < stake1 && stake2 >= stake1 - half, "%llu -> %llu, removed %llu",
              (unsigned long long)stake1, (unsigned long long)stake2, (unsigned long long)half);
    cr_assert_gt(free2, free1, "the sale's TAO is free again");
    pstake =
        gn_test_pjs1(f.url, "call", "stakeInfoRuntimeApi", "getStakeInfoForHotkeyColdkeyNetuid",
                     json_pack("[s,s,i]", hk, ALICE, net));
    cr_assert_eq(u64_of(json_object_get(pstake, "stake")), stake2);
    json_decref(pstake);
    cr_assert_eq(pjs_free(f.url, ALICE), free2);

    /* more than the free balance, from Dave (2000 TAO) */
    uint64_t dv = free_rao(&f, DAVE);
    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_add_stake(f.c, &dave, hk, net, 5000 * TAO, GN_WAIT_IN_BLOCK,
                                           gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ERANGE, "%s", r.err);
    cr_assert(strstr(r.err, "not enough free balance to stake 5000 TAO"), "%s", r.err);
    cr_assert_eq(free_rao(&f, DAVE), dv);
    cr_assert_eq(stake_rao(&f, hk, DAVE, net), 0);
    /* below the runtime's minimum: the pool's custom code, named */
    memset(&r, 0, sizeof(r));
    gn_test_res_any(
        &f.loop, &r,
        gn_subtensor_add_stake(f.c, &dave, hk, net, 1000, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_EREJECTED, "%s", r.err);
    cr_assert(strstr(r.err, "(custom 1: StakeAmountTooLow: "), "%s", r.err);
    cr_assert_eq(free_rao(&f, DAVE), dv);
    /* no such subnet; a hotkey nobody registered */
    memset(&r, 0, sizeof(r));
    gn_test_res_any(
        &f.loop, &r,
        gn_subtensor_add_stake(f.c, &alice, hk, 77, TAO, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ENOENT, "%s", r.err);
    cr_assert(strstr(r.err, "subnet 77 does not exist"), "%s", r.err);
    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_remove_stake(f.c, &alice, DAVE, net, TAO, GN_WAIT_IN_BLOCK,
                                              gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ENOENT, "%s", r.err);
    cr_assert(strstr(r.err, "no owner"), "%s", r.err);
    cr_assert_eq(
        gn_subtensor_add_stake(f.c, &alice, hk, net, 0, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r),
        GN_EINVAL);
    gn_sr25519_wipe(&alice);
    gn_sr25519_wipe(&dave);
    gn_test_client_close(&f, true);
}

Test(subtensor_tx, commit_then_reveal, .timeout = 240)
{
    gn_test_client_t f;
    gn_test_chain_start(f.url, sizeof(f.url), &f.port);
    /* subnet 2 with hk1 a permitted validator (stake, one epoch) */
    gn_test_chain_seed(f.url, 3, true);
    gn_test_client_open(&f, NULL);
    gn_sr25519_keypair_t hk1;
    gn_test_keypair("//Alice//hk1", &hk1);
    char hk1_ss58[64];
    ss58_of("//Alice//hk1", hk1_ss58);
    uint64_t uids[] = {0, 1, 2, 3};
    double scores[] = {0.2, 1, 0.6, 0.3};
    uint16_t salt[] = {7, 11, 65535, 0, 42};
    uint64_t vk = GN_SUBTENSOR_VERSION_KEY;

    /* commit-reveal off: commits are refused before signing */
    gn_test_res_t r = {0};
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_commit_weights(f.c, &hk1, 2, uids, scores, 4, salt, 5, vk,
                                                GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_EUNSUPPORTED, "%s", r.err);
    cr_assert(strstr(r.err, "commit-reveal weights off"), "%s", r.err);

    /* on, with reveals two epochs after the commit's */
    sudo(&f, json_pack("{s:{s:{s:i,s:b}}}", "AdminUtils", "sudo_set_commit_reveal_weights_enabled",
                       "netuid", 2, "enabled", 1));
    sudo(&f, json_pack("{s:{s:{s:i,s:i}}}", "AdminUtils", "sudo_set_commit_reveal_weights_interval",
                       "netuid", 2, "interval", 2));

    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_reveal_weights(f.c, &hk1, 2, uids, scores, 4, salt, 5, vk,
                                                GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ENOENT, "%s", r.err);
    cr_assert(strstr(r.err, "no weights commit"), "reveal without a commit: %s", r.err);

    /* commit: the hash is the SDK's, and the chain holds it */
    uint16_t eu[4], ev[4];
    size_t en;
    uint8_t want[32];
    char want_hex[67];
    cr_assert_eq(gn_weights_for_emit(uids, scores, 4, eu, ev, &en), 0);
    cr_assert_eq(gn_weights_commit_hash(hk1.pub, 2, eu, ev, en, salt, 5, vk, want), 0);
    for (size_t i = 0; i < 32; i++)
        snprintf(want_hex + 2 * i + 2, 3, "%02x", want[i]);
    want_hex[0] = '0', want_hex[1] = 'x';
    memset(&r, 0, sizeof(r));
    json_t *rc =
        gn_test_res_ok(&f.loop, &r,
                       gn_subtensor_commit_weights(f.c, &hk1, 2, uids, scores, 4, salt, 5, vk,
                                                   GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(rc, "success")), "%s",
              json_dumps(json_object_get(rc, "error"), 0));
    cr_assert(has_event(rc, "SubtensorModule", "WeightsCommitted"));
    cr_assert_str_eq(json_string_value(json_object_get(rc, "commit_hash")), want_hex);
    uint64_t commit_block = u64_of(json_object_get(rc, "block_number"));
    uint64_t first = u64_of(json_object_get(rc, "reveal_from_block"));
    uint64_t last = u64_of(json_object_get(rc, "reveal_until_block"));
    cr_assert_gt(first, commit_block + 1);
    cr_assert_eq(last, first + 10, "one epoch of tempo 10");
    json_decref(rc);
    json_t *wc = query(&f, "SubtensorModule", "WeightCommits", json_pack("[i,s]", 2, hk1_ss58));
    cr_assert_eq(json_array_size(wc), 1);
    json_t *c0 = json_array_get(wc, 0); /* (hash, commit block, first, last reveal block) */
    cr_assert_str_eq(json_string_value(json_array_get(c0, 0)), want_hex);
    cr_assert_eq(u64_of(json_array_get(c0, 1)), commit_block);
    cr_assert_eq(u64_of(json_array_get(c0, 2)), first, "our reveal range is the runtime's");
    cr_assert_eq(u64_of(json_array_get(c0, 3)), last);
    json_t *pwc = gn_test_pjs1(f.url, "query", "subtensorModule", "weightCommits",
                               json_pack("[i,s]", 2, hk1_ss58));
    cr_assert(gn_test_json_loose_equal(wc, pwc), "polkadot-js reads the commit");
    json_decref(pwc);

    /* too early, and a salt that does not match: refused, the commit stays */
    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_reveal_weights(f.c, &hk1, 2, uids, scores, 4, salt, 5, vk,
                                                GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ERANGE, "%s", r.err);
    cr_assert(strstr(r.err, "too early") && strstr(r.err, "RevealPeriodEpochs 2"), "%s", r.err);
    fprintf(stderr, "subtensor_tx: %s\n", r.err);
    uint16_t bad_salt[] = {7, 11, 65535, 0, 43};
    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_reveal_weights(f.c, &hk1, 2, uids, scores, 4, bad_salt, 5, vk,
                                                GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ENOENT, "%s", r.err);
    cr_assert(strstr(r.err, "matches these weights, salt and version key"), "%s", r.err);
    json_t *wc2 = query(&f, "SubtensorModule", "WeightCommits", json_pack("[i,s]", 2, hk1_ss58));
    cr_assert(json_equal(wc, wc2), "nothing changed");
    json_decref(wc2);
    json_decref(wc);

    /* into the reveal epoch: the next block is its first */
    uint64_t head = head_number(&f);
    cr_assert_lt(head + 1, first);
    new_blocks(&f, first - 1 - head);
    memset(&r, 0, sizeof(r));
    rc = gn_test_res_ok(&f.loop, &r,
                        gn_subtensor_reveal_weights(f.c, &hk1, 2, uids, scores, 4, salt, 5, vk,
                                                    GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(rc, "success")), "%s",
              json_dumps(json_object_get(rc, "error"), 0));
    cr_assert(has_event(rc, "SubtensorModule", "WeightsRevealed"));
    cr_assert_eq(u64_of(json_object_get(rc, "block_number")), first);
    json_decref(rc);

    /* the weights on chain are the revealed ones, the commit is gone */
    json_t *w = query(&f, "SubtensorModule", "Weights", json_pack("[i,i]", 2, 1));
    cr_assert_eq(json_array_size(w), en);
    for (size_t i = 0; i < en; i++) {
        cr_assert_eq(json_integer_value(json_array_get(json_array_get(w, i), 0)), eu[i]);
        cr_assert_eq(json_integer_value(json_array_get(json_array_get(w, i), 1)), ev[i]);
    }
    json_t *gone = query(&f, "SubtensorModule", "WeightCommits", json_pack("[i,s]", 2, hk1_ss58));
    cr_assert(json_is_null(gone) || json_array_size(gone) == 0);
    json_decref(gone);
    json_t *reqs =
        json_pack("[{s:s,s:s,s:s,s:[i,i]},{s:s,s:s,s:s,s:[i,s]}]", "op", "query", "section",
                  "subtensorModule", "method", "weights", "args", 2, 1, "op", "query", "section",
                  "subtensorModule", "method", "weightCommits", "args", 2, hk1_ss58);
    json_t *theirs = gn_test_pjs(f.url, reqs);
    json_decref(reqs);
    cr_assert(gn_test_json_loose_equal(w, json_array_get(theirs, 0)), "polkadot-js reads them");
    cr_assert(json_is_null(json_array_get(theirs, 1)));
    json_decref(theirs);
    json_decref(w);

    /* revealed once: nothing left to reveal */
    memset(&r, 0, sizeof(r));
    gn_test_res_any(&f.loop, &r,
                    gn_subtensor_reveal_weights(f.c, &hk1, 2, uids, scores, 4, salt, 5, vk,
                                                GN_WAIT_IN_BLOCK, gn_test_res_cb, &r));
    cr_assert_eq(r.status, GN_ENOENT, "%s", r.err);
    double zeros[] = {0, 0, 0, 0};
    cr_assert_eq(gn_subtensor_commit_weights(f.c, &hk1, 2, uids, zeros, 4, salt, 5, vk,
                                             GN_WAIT_IN_BLOCK, gn_test_res_cb, &r),
                 GN_EINVAL);
    cr_assert_eq(gn_subtensor_commit_weights(f.c, &hk1, 2, uids, scores, 4, salt, 0, vk,
                                             GN_WAIT_IN_BLOCK, gn_test_res_cb, &r),
                 GN_EINVAL, "a salt is needed");
    gn_sr25519_wipe(&hk1);
    gn_test_client_close(&f, true);
}
