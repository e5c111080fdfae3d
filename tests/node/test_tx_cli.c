/* ganglion transfer | stake | weights commit/reveal | subnet create
 * against the real local chain, run as a user would; effects read back
 * with the CLI and with @polkadot/api. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/ss58.h"
#include "ganglion/subtensor.h"
#include "support/chain.h"
#include "support/chain_client.h"
#include "support/json_loose.h"
#include "support/pjs.h"
#include "support/run.h"

#define ALICE   "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
#define DAVE    "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy"
#define CHARLIE "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y"

static gn_run_t r;
/* each test's metadata cache: one fetch per test instead of one per command */
static char env[128];

static void cache_dir(char *dir)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(env, sizeof(env), "GANGLION_CHAIN_CACHE_DIR=%s", dir);
}

static void rm_rf(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static void ss58_of(const char *uri, char out[64])
{
    gn_sr25519_keypair_t kp;
    gn_test_keypair(uri, &kp);
    cr_assert_eq(gn_ss58_encode(kp.pub, 32, 42, out, 64), 0);
    gn_sr25519_wipe(&kp);
}

static json_t *out_json(void)
{
    json_t *j = json_loads(r.out, JSON_DECODE_ANY, NULL);
    cr_assert_not_null(j, "not JSON: '%s' (stderr: %s)", r.out, r.err);
    return j;
}

static uint64_t u64_of(const json_t *j)
{
    gn_u128_t v = 0;
    cr_assert_eq(gn_subtensor_u128(j, &v), 0);
    return (uint64_t)v;
}

/* `ganglion balance WHO`: its free rao */
static uint64_t balance(const char *url, const char *who)
{
    gn_test_run(&r, env, "balance %s --subtensor.chain_endpoint %s", who, url);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *b = out_json();
    uint64_t v = u64_of(json_object_get(b, who));
    json_decref(b);
    return v;
}

static void receipt_ok(void)
{
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    json_t *j = out_json();
    cr_assert(json_is_true(json_object_get(j, "success")), "%s", r.out);
    json_decref(j);
}

Test(tx_cli, transfer_and_subnet_create, .timeout = 180)
{
    char url[128], dir[] = "/tmp/gn-tx-cli-XXXXXX", dest[64], hk[64];
    int port;
    cache_dir(dir);
    gn_test_chain_start(url, sizeof(url), &port);
    ss58_of("//Alice//cli-dest", dest);
    ss58_of("//Alice//hk0", hk);

    /* TAO on the command line, rao on chain, to the last digit */
    gn_test_run(&r, env,
                "transfer --dest %s --amount 1.5 --suri //Alice --subtensor.chain_endpoint %s",
                dest, url);
    receipt_ok();
    cr_assert_eq(balance(url, dest), 1500000000ull);
    gn_test_run(&r, env,
                "transfer --dest %s --amount 0.000000007 --allow-death --suri //Alice "
                "--subtensor.chain_endpoint %s",
                dest, url);
    receipt_ok();
    cr_assert_eq(balance(url, dest), 1500000007ull);
    json_t *acct = gn_test_pjs1(url, "query", "system", "account", json_pack("[s]", dest));
    cr_assert_eq(u64_of(json_object_get(json_object_get(acct, "data"), "free")), 1500000007ull,
                 "polkadot-js reads it");
    json_decref(acct);

    /* a wallet: its coldkey pays, even with --wallet.hotkey named */
    gn_test_run(
        &r, "",
        "wallet regen-coldkey --uri //Charlie --no-password --wallet.path %s --wallet.name w", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    gn_test_run(&r, env,
                "wallet regen-hotkey --uri //Charlie//hot --wallet.path %s --wallet.name w "
                "--wallet.hotkey h",
                dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    uint64_t charlie = balance(url, CHARLIE);
    gn_test_run(&r, env,
                "transfer --dest %s --amount 2 --wallet.path %s --wallet.name w --wallet.hotkey h "
                "--subtensor.chain_endpoint %s",
                dest, dir, url);
    receipt_ok();
    json_t *rc = out_json();
    uint64_t fee = u64_of(json_object_get(rc, "fee"));
    json_decref(rc);
    cr_assert_eq(balance(url, CHARLIE), charlie - 2000000000ull - fee);

    /* refusals: exit 1 with the reason, nothing moved */
    uint64_t dave = balance(url, DAVE);
    gn_test_run(&r, env,
                "transfer --dest %s --amount 5000 --suri //Dave --subtensor.chain_endpoint %s",
                dest, url);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "not enough balance") && strstr(r.err, "5000 TAO"), "%s", r.err);
    cr_assert_eq(r.out[0], '\0');
    cr_assert_eq(balance(url, DAVE), dave);
    /* usage: exit 2 */
    gn_test_run(&r, env,
                "transfer --dest %s --amount 1.0000000001 --suri //Dave "
                "--subtensor.chain_endpoint %s",
                dest, url);
    cr_assert_eq(r.status, 2, "finer than a rao");
    gn_test_run(&r, env, "transfer --amount 1 --suri //Dave --subtensor.chain_endpoint %s", url);
    cr_assert_eq(r.status, 2, "no --dest");
    gn_test_run(&r, env,
                "transfer --dest nope --amount 1 --suri //Dave --subtensor.chain_endpoint %s", url);
    cr_assert_eq(r.status, 2);
    gn_test_run(&r, env, "subnet create --suri //Alice --subtensor.chain_endpoint %s", url);
    cr_assert_eq(r.status, 2, "--suri needs --hotkey");
    gn_test_run(&r, env, "stake move --subtensor.chain_endpoint %s", url);
    cr_assert_eq(r.status, 2);
    cr_assert_eq(balance(url, DAVE), dave);

    /* subnet create: the genesis rate limit first, then a subnet */
    gn_test_run(&r, env, "subnet create --hotkey %s --suri //Alice --subtensor.chain_endpoint %s",
                hk, url);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "network registration rate limit"), "%s", r.err);
    gn_test_run(
        &r, "",
        "chain submit Sudo sudo "
        "'{\"call\":{\"AdminUtils\":{\"sudo_set_network_rate_limit\":{\"rate_limit\":0}}}}' "
        "--suri //Alice --subtensor.chain_endpoint %s",
        url);
    receipt_ok();
    gn_test_run(&r, env, "subnet create --hotkey %s --suri //Alice --subtensor.chain_endpoint %s",
                hk, url);
    receipt_ok();
    rc = out_json();
    json_int_t net = json_integer_value(json_object_get(rc, "netuid"));
    json_decref(rc);
    cr_assert_eq(net, 2, "after the genesis subnets 0 and 1");
    gn_test_run(&r, env,
                "chain query SubtensorModule SubnetOwnerHotkey 2 --subtensor.chain_endpoint %s",
                url);
    cr_assert_eq(r.status, 0);
    json_t *owner = out_json();
    cr_assert_str_eq(json_string_value(owner), hk);
    json_t *powner =
        gn_test_pjs1(url, "query", "subtensorModule", "subnetOwnerHotkey", json_pack("[i]", 2));
    cr_assert(gn_test_json_loose_equal(owner, powner));
    json_decref(owner);
    json_decref(powner);
    gn_test_run(&r, env,
                "stake add --netuid 2 --hotkey %s --amount 1 --suri //Alice "
                "--subtensor.chain_endpoint %s",
                hk, url);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "has not started"), "%s", r.err);

    gn_test_chain_stop(port);
    rm_rf(dir);
}

/* n empty blocks (chopsticks' dev_newBlock), through a client */
static void new_blocks(const char *url, long long n)
{
    if (n <= 0)
        return;
    gn_test_client_t f;
    snprintf(f.url, sizeof(f.url), "%s", url);
    gn_test_client_open(&f, NULL);
    gn_test_res_t res = {0};
    json_t *p = json_pack("[{s:I}]", "count", (json_int_t)n);
    json_decref(
        gn_test_res_ok(&f.loop, &res, gn_chain_rpc(f.c, "dev_newBlock", p, gn_test_res_cb, &res)));
    json_decref(p);
    gn_test_client_close(&f, false);
}

static uint64_t stake_of(const char *url, const char *hk)
{
    gn_test_run(&r, env,
                "chain runtime-call StakeInfoRuntimeApi get_stake_info_for_hotkey_coldkey_netuid "
                "'[\"%s\",\"%s\",2]' --subtensor.chain_endpoint %s",
                hk, ALICE, url);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *s = out_json();
    uint64_t v = json_is_null(s) ? 0 : u64_of(json_object_get(s, "stake"));
    json_decref(s);
    return v;
}

Test(tx_cli, stake_and_commit_reveal, .timeout = 180)
{
    char url[128], hk0[64], hk1[64], dir[] = "/tmp/gn-tx-cli-XXXXXX";
    int port;
    cache_dir(dir);
    gn_test_chain_start(url, sizeof(url), &port);
    ss58_of("//Alice//hk0", hk0);
    ss58_of("//Alice//hk1", hk1);
    const char *sub = "--subtensor.chain_endpoint";
    /* subnet 2 owned by //Alice: hk0 uid 0, hk1 uid 1 (burned_register) */
    gn_test_run(
        &r, "",
        "chain submit Sudo sudo "
        "'{\"call\":{\"AdminUtils\":{\"sudo_set_network_rate_limit\":{\"rate_limit\":0}}}}' "
        "--suri //Alice %s %s",
        sub, url);
    receipt_ok();
    gn_test_run(&r, env, "subnet create --hotkey %s --suri //Alice %s %s", hk0, sub, url);
    receipt_ok();
    gn_test_run(&r, env, "register --netuid 2 --hotkey %s --suri //Alice %s %s", hk1, sub, url);
    receipt_ok();

    /* staking opens with start_call, DurationOfStartCall blocks after */
    new_blocks(url, 10);
    gn_test_run(&r, env,
                "chain submit SubtensorModule start_call '{\"netuid\":2}' --suri //Alice %s %s",
                sub, url);
    receipt_ok();
    uint64_t s0 = stake_of(url, hk1);
    gn_test_run(&r, env, "stake add --netuid 2 --hotkey %s --amount 10 --suri //Alice %s %s", hk1,
                sub, url);
    receipt_ok();
    uint64_t s1 = stake_of(url, hk1);
    cr_assert_gt(s1, s0 + 5000000000ull, "%llu -> %llu", (unsigned long long)s0,
                 (unsigned long long)s1);
    json_t *ps =
        gn_test_pjs1(url, "call", "stakeInfoRuntimeApi", "getStakeInfoForHotkeyColdkeyNetuid",
                     json_pack("[s,s,i]", hk1, ALICE, 2));
    cr_assert_eq(u64_of(json_object_get(ps, "stake")), s1, "polkadot-js reads the stake");
    json_decref(ps);
    /* more than staked (in the subnet's alpha): exit 1 naming the stake */
    gn_test_run(&r, env,
                "stake remove --netuid 2 --hotkey %s --amount %llu.%09llu --suri //Alice %s %s",
                hk1, (unsigned long long)((s1 + 1) / 1000000000ull),
                (unsigned long long)((s1 + 1) % 1000000000ull), sub, url);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "alpha staked on hotkey"), "%s", r.err);
    cr_assert_eq(stake_of(url, hk1), s1);
    gn_test_run(&r, env, "stake remove --netuid 2 --hotkey %s --amount 3 --suri //Alice %s %s", hk1,
                sub, url);
    receipt_ok();
    uint64_t s2 = stake_of(url, hk1);
    cr_assert(s2 < s1 && s2 >= s1 - 3000000000ull, "%llu -> %llu", (unsigned long long)s1,
              (unsigned long long)s2);

    /* commit-reveal on, reveals two epochs after the commit's */
    gn_test_run(&r, env,
                "chain submit Sudo sudo '{\"call\":{\"AdminUtils\":{\"sudo_set_commit_reveal_"
                "weights_enabled\":{\"netuid\":2,\"enabled\":true}}}}' --suri //Alice %s %s",
                sub, url);
    receipt_ok();
    gn_test_run(&r, env,
                "chain submit Sudo sudo '{\"call\":{\"AdminUtils\":{\"sudo_set_commit_reveal_"
                "weights_interval\":{\"netuid\":2,\"interval\":2}}}}' --suri //Alice %s %s",
                sub, url);
    receipt_ok();
    /* registration counts as the uid's last update: lift the rate limit */
    gn_test_run(&r, env,
                "chain submit Sudo sudo '{\"call\":{\"AdminUtils\":{\"sudo_set_weights_set_"
                "rate_limit\":{\"netuid\":2,\"weights_set_rate_limit\":0}}}}' --suri //Alice %s %s",
                sub, url);
    receipt_ok();
    /* a self-weight needs no validator permit */
    gn_test_run(&r, env, "weights commit --netuid 2 1=1 --suri //Alice//hk1 %s %s", sub, url);
    receipt_ok();
    json_t *c = out_json();
    json_t *salt = json_object_get(c, "salt");
    cr_assert_eq(json_array_size(salt), 8, "a random salt, printed for the reveal");
    char salt_arg[128] = "";
    size_t i;
    json_t *v;
    json_array_foreach (salt, i, v)
        snprintf(salt_arg + strlen(salt_arg), sizeof(salt_arg) - strlen(salt_arg), "%s%lld",
                 i ? "," : "", (long long)json_integer_value(v));
    char hash[80];
    snprintf(hash, sizeof(hash), "%s", json_string_value(json_object_get(c, "commit_hash")));
    long long commit_block = json_integer_value(json_object_get(c, "block_number"));
    long long first = json_integer_value(json_object_get(c, "reveal_from_block"));
    json_decref(c);
    gn_test_run(&r, env, "chain query SubtensorModule WeightCommits 2 %s %s %s", hk1, sub, url);
    cr_assert_eq(r.status, 0);
    json_t *wc = out_json();
    cr_assert_str_eq(json_string_value(json_array_get(json_array_get(wc, 0), 0)), hash);
    json_t *pwc =
        gn_test_pjs1(url, "query", "subtensorModule", "weightCommits", json_pack("[i,s]", 2, hk1));
    cr_assert(gn_test_json_loose_equal(wc, pwc));
    json_decref(wc);
    json_decref(pwc);

    gn_test_run(&r, env, "weights reveal --netuid 2 1=1 --suri //Alice//hk1 %s %s", sub, url);
    cr_assert_eq(r.status, 2, "a reveal needs the salt");
    gn_test_run(&r, env, "weights reveal --netuid 2 1=1 --salt %s --suri //Alice//hk1 %s %s",
                salt_arg, sub, url);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "too early to reveal"), "%s", r.err);
    /* into the reveal epoch: the commit block and the blocks of the
     * refusals above are behind; the next block is the first to reveal in */
    gn_test_run(&r, env, "chain head %s %s", sub, url);
    json_t *head = out_json();
    long long now = json_integer_value(json_object_get(head, "number"));
    json_decref(head);
    cr_assert_geq(now, commit_block);
    new_blocks(url, first - 1 - now);
    gn_test_run(&r, env, "weights reveal --netuid 2 1=1 --salt %s --suri //Alice//hk1 %s %s",
                salt_arg, sub, url);
    receipt_ok();
    gn_test_run(&r, env, "chain query SubtensorModule Weights 2 1 %s %s", sub, url);
    json_t *w = out_json();
    json_t *want = json_pack("[[i,i]]", 1, 65535);
    cr_assert(json_equal(w, want), "%s", r.out);
    json_t *pw = gn_test_pjs1(url, "query", "subtensorModule", "weights", json_pack("[i,i]", 2, 1));
    cr_assert(gn_test_json_loose_equal(w, pw));
    json_decref(w);
    json_decref(want);
    json_decref(pw);
    gn_test_chain_stop(port);
    rm_rf(dir);
}
