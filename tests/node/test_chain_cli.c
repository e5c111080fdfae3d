/* ganglion chain ... against the real local chain. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/chain.h"
#include "support/run.h"

static gn_run_t r;

Test(chain_cli, head_constant_query, .timeout = 180)
{
    char url[128];
    int port;
    gn_test_chain_start(url, sizeof(url), &port);
    gn_test_run(&r, "", "chain head --subtensor.chain_endpoint %s", url);
    int head_status = r.status;
    json_t *head = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "", "chain constant System SS58Prefix --subtensor.chain_endpoint %s", url);
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%.31s", r.out);
    gn_test_run(&r, "",
                "chain query System Account '\"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\"' "
                "--subtensor.chain_endpoint %s",
                url);
    json_t *alice = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "", "chain query System Nope --subtensor.chain_endpoint %s", url);
    int nope = r.status;
    char nope_err[256];
    snprintf(nope_err, sizeof(nope_err), "%.255s", r.err);
    gn_test_chain_stop(port);

    cr_assert_eq(head_status, 0);
    cr_assert(head && json_is_integer(json_object_get(head, "number")));
    cr_assert_eq(json_string_length(json_object_get(head, "hash")), 66);
    cr_assert_str_eq(prefix, "42\n");
    cr_assert_not_null(alice);
    /* the chain's README: //Alice holds 1,000,000 TAO = 10^15 rao */
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(alice, "data"), "free")),
                 1000000000000000LL);
    cr_assert_eq(nope, 1);
    cr_assert(strstr(nope_err, "no storage item System.Nope"), "%s", nope_err);
    json_decref(head);
    json_decref(alice);

    gn_test_run(&r, "", "chain head --subtensor.chain_endpoint ws://127.0.0.1:1 --timeout 5");
    cr_assert_eq(r.status, 1, "no node: a clear failure, not a hang");
}

Test(chain_cli, blocks_maps_calls_and_submit_from_a_wallet, .timeout = 240)
{
    char url[128], dir[] = "/tmp/gn-chain-cli-XXXXXX";
    int port;
    cr_assert_not_null(mkdtemp(dir));
    gn_test_chain_start(url, sizeof(url), &port);
    /* a coldkey file on disk, from a dev URI, unencrypted */
    gn_test_run(&r, "",
                "wallet regen-coldkey --uri //Charlie --no-password --wallet.path %s "
                "--wallet.name w",
                dir);
    int regen = r.status;
    gn_test_run(&r, "",
                "chain submit Balances transfer_keep_alive "
                "'{\"dest\":\"5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy\",\"value\":5}' "
                "--wallet.path %s --wallet.name w --subtensor.chain_endpoint %s",
                dir, url);
    int submit = r.status;
    json_t *receipt = json_loads(r.out, 0, NULL);
    char block[80] = "";
    snprintf(block, sizeof(block), "%s",
             receipt ? json_string_value(json_object_get(receipt, "block_hash")) : "");
    gn_test_run(&r, "", "chain block %s --subtensor.chain_endpoint %s", block, url);
    json_t *blk = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "", "chain events %s --subtensor.chain_endpoint %s", block, url);
    json_t *evs = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "",
                "chain map System Account --max 4 --page-size 3 --subtensor.chain_endpoint %s",
                url);
    json_t *map = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "",
                "chain runtime-call SubnetInfoRuntimeApi get_subnets_info "
                "--subtensor.chain_endpoint %s",
                url);
    json_t *subnets = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "", "chain version --subtensor.chain_endpoint %s", url);
    json_t *ver = json_loads(r.out, 0, NULL);
    /* a failed dispatch: the receipt is printed and the exit is 1 */
    gn_test_run(&r, "",
                "chain submit SubtensorModule burned_register "
                "'{\"netuid\":77,\"hotkey\":\"5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy\"}' "
                "--suri //Charlie --subtensor.chain_endpoint %s",
                url);
    int failed = r.status;
    json_t *fr = json_loads(r.out, 0, NULL);
    gn_test_chain_stop(port);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);

    cr_assert_eq(regen, 0);
    cr_assert_eq(submit, 0, "%s", r.err);
    cr_assert(json_is_true(json_object_get(receipt, "success")));
    json_t *x =
        json_array_get(json_object_get(blk, "extrinsics"),
                       (size_t)json_integer_value(json_object_get(receipt, "extrinsic_index")));
    cr_assert_str_eq(json_string_value(json_object_get(x, "signer")),
                     "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y", "signed by //Charlie");
    cr_assert_gt(json_array_size(evs), 2);
    cr_assert_eq(json_array_size(json_object_get(map, "entries")), 4);
    cr_assert(json_is_array(subnets) && json_array_size(subnets) >= 1);
    cr_assert_eq(json_integer_value(json_object_get(ver, "spec_version")), 293);
    cr_assert_eq(json_integer_value(json_object_get(ver, "metadata_version")), 15);
    cr_assert_eq(failed, 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(fr, "error"), "name")),
                     "SubNetworkDoesNotExist");
    json_decref(receipt);
    json_decref(blk);
    json_decref(evs);
    json_decref(map);
    json_decref(subnets);
    json_decref(ver);
    json_decref(fr);
}

/* chain rpc: a raw call, here chopsticks' dev_newBlock (what deploy/demo.sh
 * makes blocks with), and its refusals. */
Test(chain_cli, rpc_raw_calls, .timeout = 180)
{
    char url[128];
    int port;
    gn_test_chain_start(url, sizeof(url), &port);
    gn_test_run(&r, "", "chain head --subtensor.chain_endpoint %s", url);
    json_t *before = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "", "chain rpc dev_newBlock '[{\"count\": 2}]' --subtensor.chain_endpoint %s",
                url);
    int made = r.status;
    json_t *hash = json_loads(r.out, JSON_DECODE_ANY, NULL);
    gn_test_run(&r, "", "chain head --subtensor.chain_endpoint %s", url);
    json_t *after = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "", "chain rpc chain_getBlockHash '[0]' --subtensor.chain_endpoint %s", url);
    json_t *genesis = json_loads(r.out, JSON_DECODE_ANY, NULL);
    gn_test_run(&r, "", "chain rpc no_suchMethod --subtensor.chain_endpoint %s", url);
    int unknown = r.status;
    char unknown_err[256];
    snprintf(unknown_err, sizeof(unknown_err), "%.255s", r.err);
    gn_test_run(&r, "", "chain rpc dev_newBlock '{\"count\": 1}' --subtensor.chain_endpoint %s",
                url);
    int not_array = r.status;
    gn_test_run(&r, "", "chain head --subtensor.chain_endpoint %s", url);
    json_t *last = json_loads(r.out, 0, NULL);
    gn_test_chain_stop(port);

    cr_assert_not_null(before);
    cr_assert_not_null(after);
    cr_assert_eq(made, 0);
    /* two blocks more, and the answer is the new head's hash */
    cr_assert_eq(json_integer_value(json_object_get(after, "number")),
                 json_integer_value(json_object_get(before, "number")) + 2);
    cr_assert(json_is_string(hash));
    cr_assert_str_eq(json_string_value(hash), json_string_value(json_object_get(after, "hash")));
    /* the chain's README: chopsticks' genesis hash is 0x4545...45 */
    cr_assert(json_is_string(genesis));
    cr_assert_str_eq(json_string_value(genesis),
                     "0x4545454545454545454545454545454545454545454545454545454545454545");
    cr_assert_eq(unknown, 1);
    cr_assert(strstr(unknown_err, "-32601"), "%s", unknown_err);
    cr_assert_eq(not_array, 2, "params that are not an array: a usage error");
    cr_assert_eq(json_integer_value(json_object_get(last, "number")),
                 json_integer_value(json_object_get(after, "number")), "nothing was sent");
    json_decref(before);
    json_decref(after);
    json_decref(hash);
    json_decref(genesis);
    json_decref(last);
}
