/* The Substrate client against the real subtensor runtime (local chain):
 * runtime and metadata cache, constants, reads equal to polkadot-js,
 * paged maps, runtime API calls, signed transfers with receipts, pool
 * rejections, 500 concurrent queries, head subscriptions, and a chain
 * killed and restarted under a running client. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/chain.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/ss58.h"
#include "support/chain.h"
#include "support/chain_client.h"
#include "support/json_loose.h"
#include "support/pjs.h"

#define ALICE    "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
#define BOB      "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
#define CHARLIE  "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y"
#define DAVE     "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy"
#define EVE      "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw"
#define FERDIE   "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL"
#define GANGLION "5FsRGVpExKrtWffA4ADnF2ToeHdtjctAu3gqHCCdrCNcnALa"

static const char *const funded[] = {ALICE, BOB, CHARLIE, DAVE, EVE, FERDIE, GANGLION};
#define N_FUNDED 7

static json_t *query(gn_test_client_t *f, const char *pallet, const char *item, json_t *keys)
{
    gn_test_res_t r = {0};
    int rc = gn_chain_query(f->c, pallet, item, keys, NULL, gn_test_res_cb, &r);
    json_decref(keys);
    return gn_test_res_ok(&f->loop, &r, rc);
}

static json_t *pjs_req(const char *op, const char *section, const char *method, json_t *args)
{
    return json_pack("{s:s,s:s,s:s,s:o}", "op", op, "section", section, "method", method, "args",
                     args ? args : json_array());
}

static long long free_of(const json_t *account)
{
    return json_integer_value(json_object_get(json_object_get(account, "data"), "free"));
}

typedef struct {
    bool done;
    int status;
    gn_runtime_t *rt;
} rt_wait_t;

static void rt_cb(int st, gn_runtime_t *x, const char *e, void *arg)
{
    (void)e;
    rt_wait_t *w = arg;
    w->done = true;
    w->status = st;
    w->rt = x;
}

Test(chain, runtime_constants_and_disk_cache, .timeout = 300)
{
    gn_test_client_t f;
    char dir[] = "/tmp/gn-chain-cache-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    gn_test_client_start(&f, dir);
    gn_runtime_t *rt = NULL;
    gn_test_res_t r = {0};
    /* the runtime: V15 through Metadata_metadata_at_version */
    rt_wait_t w = {0};
    cr_assert_eq(gn_chain_runtime(f.c, NULL, rt_cb, &w), 0);
    while (!w.done)
        uv_run(&f.loop, UV_RUN_ONCE);
    cr_assert_eq(w.status, 0);
    rt = w.rt;
    cr_assert_eq(rt->spec_version, 293);
    cr_assert_eq(rt->md.version, 15, "V15 metadata through the runtime call");
    cr_assert_eq(rt->ss58_prefix, 42);
    cr_assert_not(rt->from_disk);
    /* every constant of every pallet, decoded by the client concurrently */
    size_t total = 0;
    for (uint32_t p = 0; p < rt->md.n_pallets; p++)
        total += rt->md.pallets[p].n_constants;
    gn_test_res_t *all = calloc(total, sizeof(*all));
    size_t k = 0;
    for (uint32_t p = 0; p < rt->md.n_pallets; p++)
        for (uint32_t i = 0; i < rt->md.pallets[p].n_constants; i++, k++)
            cr_assert_eq(gn_chain_constant(f.c, rt->md.pallets[p].name,
                                           rt->md.pallets[p].constants[i].name, gn_test_res_cb,
                                           &all[k]),
                         0);
    size_t decoded = 0;
    for (k = 0; k < total; k++) {
        gn_test_res_any(&f.loop, &all[k], 0);
        cr_expect_eq(all[k].status, 0, "constant %zu: %s", k, all[k].err);
        decoded += all[k].status == 0 && all[k].result;
        json_decref(all[k].result);
    }
    free(all);
    cr_assert_gt(total, 100);
    cr_assert_eq(decoded, total);
    fprintf(stderr, "chain: %zu constants decoded from runtime %u (V%u)\n", total, rt->spec_version,
            rt->md.version);
    json_t *v = gn_test_res_ok(&f.loop, &r,
                               gn_chain_constant(f.c, "System", "SS58Prefix", gn_test_res_cb, &r));
    cr_assert_eq(json_integer_value(v), 42);
    json_decref(v);
    /* an unknown item is a clear error, not a crash */
    memset(&r, 0, sizeof(r));
    cr_assert_eq(gn_chain_constant(f.c, "System", "NoSuchThing", gn_test_res_cb, &r), 0);
    gn_test_res_any(&f.loop, &r, 0);
    cr_assert_eq(r.status, GN_ENOENT);
    cr_assert(strstr(r.err, "NoSuchThing"), "%s", r.err);
    gn_runtime_unref(rt);
    gn_chain_stats_t st;
    gn_chain_stats(f.c, &st);
    cr_assert_eq(st.runtimes_fetched, 1, "metadata fetched once for %zu concurrent users", total);
    gn_test_client_close(&f, false);

    /* a second client finds the runtime on disk */
    uv_loop_init(&f.loop);
    gn_chain_opts_t o = {.url = f.url, .cache_dir = dir};
    cr_assert_eq(gn_chain_open(&f.loop, &o, &f.c), 0);
    memset(&w, 0, sizeof(w));
    cr_assert_eq(gn_chain_runtime(f.c, NULL, rt_cb, &w), 0);
    while (!w.done)
        uv_run(&f.loop, UV_RUN_ONCE);
    cr_assert_eq(w.status, 0);
    cr_assert(w.rt->from_disk, "the runtime came from %s", dir);
    cr_assert_eq(w.rt->md.version, 15);
    gn_runtime_unref(w.rt);
    gn_chain_stats(f.c, &st);
    cr_assert_eq(st.runtimes_fetched, 0);
    cr_assert_eq(st.runtimes_from_disk, 1);
    gn_test_client_close(&f, true);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(chain, reads_equal_polkadot_js, .timeout = 300)
{
    gn_test_client_t f;
    gn_test_client_start(&f, NULL);
    json_t *reqs = json_array();
    for (int i = 0; i < N_FUNDED; i++)
        json_array_append_new(reqs,
                              pjs_req("query", "system", "account", json_pack("[s]", funded[i])));
    json_array_append_new(reqs, pjs_req("entries", "system", "account", NULL));
    json_t *theirs = gn_test_pjs(f.url, reqs);
    json_decref(reqs);
    for (int i = 0; i < N_FUNDED; i++) {
        json_t *ours = query(&f, "System", "Account", json_pack("[s]", funded[i]));
        cr_assert_gt(free_of(ours), 0, "%s is funded", funded[i]);
        cr_assert(gn_test_json_loose_equal(ours, json_array_get(theirs, i)),
                  "System.Account(%s) differs from polkadot-js", funded[i]);
        json_decref(ours);
    }
    /* the whole map, two keys a page, equal to polkadot-js' entries() */
    gn_test_res_t r = {0};
    gn_query_map_opts_t mo = {.page_size = 2};
    json_t *m = gn_test_res_ok(
        &f.loop, &r,
        gn_chain_query_map(f.c, "System", "Account", NULL, &mo, NULL, gn_test_res_cb, &r));
    json_t *entries = json_object_get(m, "entries"), *pe = json_array_get(theirs, N_FUNDED);
    cr_assert_geq(json_array_size(entries), N_FUNDED);
    cr_assert_eq(json_array_size(entries), json_array_size(pe));
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *e = json_array_get(entries, i);
        json_t *match = NULL;
        for (size_t k = 0; k < json_array_size(pe) && !match; k++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(pe, k), "key")),
                        json_string_value(json_object_get(e, "key"))))
                match = json_array_get(pe, k);
        cr_assert_not_null(match, "entry %zu is not in polkadot-js' entries", i);
        cr_assert(
            gn_test_json_loose_equal(json_object_get(e, "keys"), json_object_get(match, "keys")));
        cr_assert(
            gn_test_json_loose_equal(json_object_get(e, "value"), json_object_get(match, "value")));
    }
    fprintf(stderr, "chain: System.Account: %zu entries in pages of 2 equal polkadot-js\n",
            json_array_size(entries));
    /* max_results and continuing from last_key */
    memset(&r, 0, sizeof(r));
    gn_query_map_opts_t m3 = {.page_size = 2, .max_results = 3};
    json_t *first = gn_test_res_ok(&f.loop, &r,
                                   gn_chain_query_map(f.c, "System", "Account", NULL, &m3,
                                                      json_string_value(json_object_get(m, "at")),
                                                      gn_test_res_cb, &r));
    cr_assert_eq(json_array_size(json_object_get(first, "entries")), 3);
    memset(&r, 0, sizeof(r));
    gn_query_map_opts_t rest = {.page_size = 4,
                                .start_key = json_string_value(json_object_get(first, "last_key"))};
    json_t *second = gn_test_res_ok(&f.loop, &r,
                                    gn_chain_query_map(f.c, "System", "Account", NULL, &rest,
                                                       json_string_value(json_object_get(m, "at")),
                                                       gn_test_res_cb, &r));
    cr_assert_eq(json_array_size(json_object_get(second, "entries")), json_array_size(entries) - 3);
    cr_assert(json_equal(json_array_get(json_object_get(second, "entries"), 0),
                         json_array_get(entries, 3)),
              "the next page starts after last_key");
    json_decref(first);
    json_decref(second);
    json_decref(m);
    /* query_multi: several items in one state_queryStorageAt */
    memset(&r, 0, sizeof(r));
    json_t *qs = json_pack("[[s,s,[s]],[s,s,[s]],[s,s]]", "System", "Account", ALICE, "System",
                           "Account", GANGLION, "SubtensorModule", "TotalNetworks");
    json_t *multi =
        gn_test_res_ok(&f.loop, &r, gn_chain_query_multi(f.c, qs, NULL, gn_test_res_cb, &r));
    json_decref(qs);
    cr_assert_eq(json_array_size(multi), 3);
    cr_assert(gn_test_json_loose_equal(json_array_get(multi, 0), json_array_get(theirs, 0)));
    cr_assert(gn_test_json_loose_equal(json_array_get(multi, 1), json_array_get(theirs, 6)));
    cr_assert(json_is_integer(json_array_get(multi, 2)));
    json_decref(multi);
    json_decref(theirs);
    gn_test_client_close(&f, true);
}

Test(chain, subtensor_double_map_and_runtime_api, .timeout = 300)
{
    gn_test_client_t f;
    gn_test_chain_start(f.url, sizeof(f.url), &f.port);
    /* a subnet with neurons, made by the chain's own seeding script */
    gn_test_chain_seed(f.url, 3, false);
    gn_test_client_open(&f, NULL);
    json_t *reqs = json_array();
    json_array_append_new(reqs, pjs_req("entries", "subtensorModule", "keys", NULL));
    json_array_append_new(reqs, pjs_req("entries", "subtensorModule", "uids", NULL));
    json_t *theirs = gn_test_pjs(f.url, reqs);
    json_decref(reqs);
    const char *items[] = {"Keys", "Uids"};
    for (int it = 0; it < 2; it++) {
        gn_test_res_t r = {0};
        gn_query_map_opts_t mo = {.page_size = 2};
        json_t *m = gn_test_res_ok(&f.loop, &r,
                                   gn_chain_query_map(f.c, "SubtensorModule", items[it], NULL, &mo,
                                                      NULL, gn_test_res_cb, &r));
        json_t *entries = json_object_get(m, "entries"), *pe = json_array_get(theirs, it);
        cr_assert_geq(json_array_size(entries), 3, "%s has the seeded neurons", items[it]);
        cr_assert_eq(json_array_size(entries), json_array_size(pe));
        for (size_t i = 0; i < json_array_size(entries); i++) {
            json_t *e = json_array_get(entries, i), *match = NULL;
            cr_assert_eq(json_array_size(json_object_get(e, "keys")), 2, "a double map");
            for (size_t k = 0; k < json_array_size(pe) && !match; k++)
                if (!strcmp(json_string_value(json_object_get(json_array_get(pe, k), "key")),
                            json_string_value(json_object_get(e, "key"))))
                    match = json_array_get(pe, k);
            cr_assert_not_null(match);
            cr_assert(gn_test_json_loose_equal(json_object_get(e, "keys"),
                                               json_object_get(match, "keys")),
                      "%s keys", items[it]);
            cr_assert(gn_test_json_loose_equal(json_object_get(e, "value"),
                                               json_object_get(match, "value")),
                      "%s value", items[it]);
        }
        /* the same map under one netuid: a prefix */
        json_t *netuid = json_array_get(json_object_get(json_array_get(entries, 0), "keys"), 0);
        json_t *prefix = json_pack("[O]", netuid);
        memset(&r, 0, sizeof(r));
        json_t *sub = gn_test_res_ok(&f.loop, &r,
                                     gn_chain_query_map(f.c, "SubtensorModule", items[it], prefix,
                                                        &mo, NULL, gn_test_res_cb, &r));
        json_decref(prefix);
        size_t want = 0;
        for (size_t i = 0; i < json_array_size(entries); i++)
            want += json_equal(
                json_array_get(json_object_get(json_array_get(entries, i), "keys"), 0), netuid);
        cr_assert_eq(json_array_size(json_object_get(sub, "entries")), want);
        json_decref(sub);
        json_decref(m);
    }
    json_decref(theirs);
    /* subnet and neuron data through the runtime API, decoded by V15 types */
    gn_test_res_t r = {0};
    json_t *subnets =
        gn_test_res_ok(&f.loop, &r,
                       gn_chain_runtime_call(f.c, "SubnetInfoRuntimeApi", "get_subnets_info", NULL,
                                             NULL, gn_test_res_cb, &r));
    cr_assert(json_is_array(subnets) && json_array_size(subnets) >= 2, "root and the new subnet");
    json_decref(subnets);
    memset(&r, 0, sizeof(r));
    json_t *args = json_pack("[i]", 2);
    json_t *neurons =
        gn_test_res_ok(&f.loop, &r,
                       gn_chain_runtime_call(f.c, "NeuronInfoRuntimeApi", "get_neurons_lite", args,
                                             NULL, gn_test_res_cb, &r));
    json_decref(args);
    cr_assert(json_is_array(neurons));
    fprintf(stderr, "chain: get_neurons_lite(2): %zu neurons\n", json_array_size(neurons));
    json_decref(neurons);
    /* wrong arguments: a clear error */
    memset(&r, 0, sizeof(r));
    args = json_pack("[s]", "x");
    cr_assert_eq(gn_chain_runtime_call(f.c, "NeuronInfoRuntimeApi", "get_neurons_lite", args, NULL,
                                       gn_test_res_cb, &r),
                 0);
    json_decref(args);
    gn_test_res_any(&f.loop, &r, 0);
    cr_assert_lt(r.status, 0);
    cr_assert(strstr(r.err, "netuid"), "%s", r.err);
    gn_test_client_close(&f, true);
}

typedef struct {
    int values, ended;
    long long last_free;
} watch_t;

static void on_value(int status, const json_t *v, void *arg)
{
    watch_t *w = arg;
    if (status == 0) {
        w->values++;
        w->last_free = free_of(json_object_get(v, "value"));
    } else if (status != GN_EGAP) {
        w->ended++;
    }
}

Test(chain, transfer_receipts_and_rejections, .timeout = 300)
{
    gn_test_client_t f;
    gn_test_client_start(&f, NULL);
    gn_sr25519_keypair_t bob;
    gn_test_keypair("//Bob", &bob);
    json_t *b0 = query(&f, "System", "Account", json_pack("[s]", BOB));
    json_t *d0 = query(&f, "System", "Account", json_pack("[s]", DAVE));
    /* Dave's account watched through a storage subscription */
    watch_t dw = {0};
    uint64_t dh;
    json_t *dk = json_pack("[s]", DAVE);
    cr_assert_eq(gn_chain_subscribe_storage(f.c, "System", "Account", dk, on_value, &dw, &dh), 0);
    json_decref(dk);
    const long long amount = 1234567890;
    gn_test_res_t r = {0};
    json_t *args = json_pack("{s:s,s:I}", "dest", DAVE, "value", (json_int_t)amount);
    json_t *fee = gn_test_res_ok(
        &f.loop, &r,
        gn_chain_fee(f.c, "Balances", "transfer_keep_alive", args, &bob, gn_test_res_cb, &r));
    cr_assert(json_is_integer(json_object_get(fee, "partial_fee")));
    memset(&r, 0, sizeof(r));
    gn_submit_opts_t so = {.nonce = -1, .wait = GN_WAIT_IN_BLOCK};
    json_t *rc = gn_test_res_ok(&f.loop, &r,
                                gn_chain_submit(f.c, "Balances", "transfer_keep_alive", args, &bob,
                                                &so, gn_test_res_cb, &r));
    json_decref(args);
    cr_assert(json_is_true(json_object_get(rc, "success")));
    cr_assert(json_is_string(json_object_get(rc, "block_hash")));
    cr_assert(json_is_integer(json_object_get(rc, "extrinsic_index")));
    bool transfer = false;
    json_t *e;
    size_t i;
    json_array_foreach (json_object_get(rc, "events"), i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "event")), "Transfer")) {
            json_t *fl = json_object_get(e, "fields");
            transfer = !strcmp(json_string_value(json_object_get(fl, "from")), BOB) &&
                       !strcmp(json_string_value(json_object_get(fl, "to")), DAVE) &&
                       json_integer_value(json_object_get(fl, "amount")) == amount;
        }
    }
    cr_assert(transfer, "a Transfer event from Bob to Dave of the amount");
    long long paid = json_integer_value(json_object_get(rc, "fee"));
    cr_assert_gt(paid, 0);
    cr_assert_eq(paid, json_integer_value(json_object_get(fee, "partial_fee")),
                 "the estimate is what was paid");
    /* the balances moved as expected, at the receipt's block */
    json_t *b1 = query(&f, "System", "Account", json_pack("[s]", BOB));
    json_t *d1 = query(&f, "System", "Account", json_pack("[s]", DAVE));
    cr_assert_eq(free_of(b0) - free_of(b1), amount + paid);
    cr_assert_eq(free_of(d1) - free_of(d0), amount);
    uint64_t t0 = uv_hrtime();
    while (dw.last_free != free_of(d1) && uv_hrtime() - t0 < 30ull * 1000000000)
        uv_run(&f.loop, UV_RUN_ONCE);
    cr_assert_eq(dw.last_free, free_of(d1), "the subscription saw Dave's new balance");
    cr_assert_geq(dw.values, 2, "the value at subscribing, then the change");
    cr_assert_eq(gn_chain_unsubscribe(f.c, dh), 0);
    cr_assert_eq(dw.ended, 1);
    /* the receipt's block holds the extrinsic, signed by Bob */
    memset(&r, 0, sizeof(r));
    json_t *blk =
        gn_test_res_ok(&f.loop, &r,
                       gn_chain_block(f.c, json_string_value(json_object_get(rc, "block_hash")),
                                      gn_test_res_cb, &r));
    json_t *x = json_array_get(json_object_get(blk, "extrinsics"),
                               (size_t)json_integer_value(json_object_get(rc, "extrinsic_index")));
    cr_assert_str_eq(json_string_value(json_object_get(x, "signer")), BOB);
    cr_assert_str_eq(json_string_value(json_object_get(x, "call")), "transfer_keep_alive");
    cr_assert_str_eq(json_string_value(json_object_get(x, "hash")),
                     json_string_value(json_object_get(rc, "hash")));
    json_decref(blk);

    /* beyond the balance: dispatched, failed, the error decoded */
    memset(&r, 0, sizeof(r));
    args = json_pack("{s:s,s:I}", "dest", DAVE, "value", (json_int_t)1000000000000000000LL);
    json_t *poor = gn_test_res_ok(&f.loop, &r,
                                  gn_chain_submit(f.c, "Balances", "transfer_allow_death", args,
                                                  &bob, &so, gn_test_res_cb, &r));
    json_decref(args);
    cr_assert(json_is_false(json_object_get(poor, "success")));
    json_t *err = json_object_get(poor, "error");
    cr_assert_not_null(err);
    fprintf(stderr, "chain: transfer beyond the balance: %s.%s\n",
            json_string_value(json_object_get(err, "kind")),
            json_string_value(json_object_get(err, "name")));
    cr_assert(json_string_value(json_object_get(err, "name")));
    json_decref(poor);
    /* a module error, named through the pallet's error enum */
    memset(&r, 0, sizeof(r));
    args = json_pack("{s:i,s:s}", "netuid", 77, "hotkey", DAVE);
    json_t *mod = gn_test_res_ok(&f.loop, &r,
                                 gn_chain_submit(f.c, "SubtensorModule", "burned_register", args,
                                                 &bob, &so, gn_test_res_cb, &r));
    json_decref(args);
    err = json_object_get(mod, "error");
    cr_assert(json_is_false(json_object_get(mod, "success")));
    cr_assert_str_eq(json_string_value(json_object_get(err, "kind")), "Module");
    cr_assert_str_eq(json_string_value(json_object_get(err, "pallet")), "SubtensorModule");
    cr_assert_str_eq(json_string_value(json_object_get(err, "name")), "SubNetworkDoesNotExist");
    cr_assert_gt(json_array_size(json_object_get(err, "docs")), 0);
    json_decref(mod);

    /* a bad signature: the pool refuses it */
    memset(&r, 0, sizeof(r));
    args = json_pack("{s:s,s:i}", "dest", DAVE, "value", 1);
    json_t *signed_ = gn_test_res_ok(
        &f.loop, &r,
        gn_chain_sign(f.c, "Balances", "transfer_keep_alive", args, &bob, &so, gn_test_res_cb, &r));
    char *hex = strdup(json_string_value(json_object_get(signed_, "hex")));
    /* the signature follows the length prefix, version byte and address
     * (MultiAddress::Id: 1 + 32 bytes): flip a bit in it */
    size_t at = 2 + 2 * (2 + 1 + 1 + 32) + 2 + 10;
    hex[at] = hex[at] == '0' ? '1' : '0';
    memset(&r, 0, sizeof(r));
    cr_assert_eq(gn_chain_submit_raw(f.c, hex, GN_WAIT_IN_BLOCK, gn_test_res_cb, &r), 0);
    gn_test_res_any(&f.loop, &r, 0);
    cr_assert_eq(r.status, GN_EREJECTED, "%s", r.err);
    cr_assert(strstr(r.err, "badProof") || strstr(r.err, "BadProof"), "%s", r.err);
    fprintf(stderr, "chain: bad signature: %s\n", r.err);
    free(hex);
    json_decref(signed_);
    /* a stale nonce: the pool refuses it */
    memset(&r, 0, sizeof(r));
    gn_submit_opts_t stale = {.nonce = 0, .wait = GN_WAIT_IN_BLOCK};
    cr_assert_eq(gn_chain_submit(f.c, "Balances", "transfer_keep_alive", args, &bob, &stale,
                                 gn_test_res_cb, &r),
                 0);
    gn_test_res_any(&f.loop, &r, 0);
    cr_assert_eq(r.status, GN_EREJECTED, "%s", r.err);
    cr_assert(strstr(r.err, "stale") || strstr(r.err, "Stale"), "%s", r.err);
    fprintf(stderr, "chain: stale nonce: %s\n", r.err);
    /* and the client's own nonce count recovers: the next one lands */
    memset(&r, 0, sizeof(r));
    json_t *again = gn_test_res_ok(&f.loop, &r,
                                   gn_chain_submit(f.c, "Balances", "transfer_keep_alive", args,
                                                   &bob, &so, gn_test_res_cb, &r));
    cr_assert(json_is_true(json_object_get(again, "success")));
    json_decref(again);
    json_decref(args);
    gn_sr25519_wipe(&bob);
    json_decref(fee);
    json_decref(rc);
    json_decref(b0);
    json_decref(b1);
    json_decref(d0);
    json_decref(d1);
    gn_test_client_close(&f, true);
}

#define CONCURRENT 500

Test(chain, five_hundred_concurrent_queries, .timeout = 300)
{
    gn_test_client_t f;
    gn_test_client_start(&f, NULL);
    json_t *base[N_FUNDED];
    for (int i = 0; i < N_FUNDED; i++)
        base[i] = query(&f, "System", "Account", json_pack("[s]", funded[i]));
    static gn_test_res_t rs[CONCURRENT];
    static char who[CONCURRENT][64];
    memset(rs, 0, sizeof(rs));
    for (int i = 0; i < CONCURRENT; i++) {
        if (i % 3 == 0) {
            snprintf(who[i], sizeof(who[i]), "%s", funded[i % N_FUNDED]);
        } else { /* an account nobody funded */
            uint8_t acc[32];
            randombytes_buf(acc, sizeof(acc));
            cr_assert_eq(gn_ss58_encode(acc, 32, 42, who[i], sizeof(who[i])), 0);
        }
        json_t *k = json_pack("[s]", who[i]);
        cr_assert_eq(gn_chain_query(f.c, "System", "Account", k, NULL, gn_test_res_cb, &rs[i]), 0);
        json_decref(k);
    }
    uint64_t t0 = uv_hrtime();
    for (int i = 0; i < CONCURRENT; i++)
        gn_test_res_any(&f.loop, &rs[i], 0);
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    int right = 0;
    for (int i = 0; i < CONCURRENT; i++) {
        cr_assert_eq(rs[i].status, 0, "query %d: %s", i, rs[i].err);
        if (i % 3 == 0)
            right += json_equal(rs[i].result, base[i % N_FUNDED]);
        else
            right += free_of(rs[i].result) == 0 &&
                     json_integer_value(json_object_get(rs[i].result, "providers")) == 0;
        json_decref(rs[i].result);
    }
    cr_assert_eq(right, CONCURRENT, "every answer is its own account's");
    fprintf(stderr, "chain: %d concurrent queries on one socket in %.0f ms\n", CONCURRENT, ms);
    for (int i = 0; i < N_FUNDED; i++)
        json_decref(base[i]);
    gn_test_client_close(&f, true);
}

typedef struct {
    int heads, gaps, ended;
    uint64_t last;
} heads_t;

static void on_head(int status, const json_t *head, void *arg)
{
    heads_t *h = arg;
    if (status == 0) {
        h->heads++;
        h->last = (uint64_t)json_integer_value(json_object_get(head, "number"));
    } else if (status == GN_EGAP) {
        h->gaps++;
    } else {
        h->ended++;
    }
}

static void new_block(gn_test_client_t *f)
{
    gn_test_res_t r = {0};
    json_t *p = json_pack("[{s:i}]", "count", 1);
    int rc = gn_chain_rpc(f->c, "dev_newBlock", p, gn_test_res_cb, &r);
    json_decref(p);
    json_decref(gn_test_res_ok(&f->loop, &r, rc));
}

static void run_for(uv_loop_t *loop, uint64_t ms)
{
    uint64_t t0 = uv_hrtime();
    while (uv_hrtime() - t0 < ms * 1000000)
        uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
}

Test(chain, heads_and_chain_restart, .timeout = 300)
{
    gn_test_client_t f;
    gn_test_client_start(&f, NULL);
    heads_t h = {0};
    uint64_t handle;
    cr_assert_eq(gn_chain_subscribe_heads(f.c, false, on_head, &h, &handle), 0);
    new_block(&f);
    new_block(&f);
    uint64_t t0 = uv_hrtime();
    while (h.heads < 3 && uv_hrtime() - t0 < 30ull * 1000000000)
        uv_run(&f.loop, UV_RUN_ONCE);
    cr_assert_geq(h.heads, 3, "the first head and two new blocks");
    /* each head's hash is the node's own hash for that number */
    gn_test_res_t r = {0};
    json_t *hd = gn_test_res_ok(&f.loop, &r, gn_chain_head(f.c, false, gn_test_res_cb, &r));
    memset(&r, 0, sizeof(r));
    json_t *bh = gn_test_res_ok(
        &f.loop, &r,
        gn_chain_block_hash(f.c, (uint64_t)json_integer_value(json_object_get(hd, "number")),
                            gn_test_res_cb, &r));
    cr_assert_str_eq(json_string_value(bh), json_string_value(json_object_get(hd, "hash")));
    json_decref(hd);
    json_decref(bh);

    /* queries in flight when the chain dies */
    enum { INFLIGHT = 40 };
    static gn_test_res_t q[INFLIGHT];
    memset(q, 0, sizeof(q));
    for (int i = 0; i < INFLIGHT; i++) {
        json_t *k = json_pack("[s]", funded[i % N_FUNDED]);
        cr_assert_eq(gn_chain_query(f.c, "System", "Account", k, NULL, gn_test_res_cb, &q[i]), 0);
        json_decref(k);
    }
    gn_test_chain_stop(f.port);
    run_for(&f.loop, 500);
    char url[128];
    gn_test_chain_start_on(f.port, url, sizeof(url));
    for (int i = 0; i < INFLIGHT; i++)
        gn_test_res_any(&f.loop, &q[i], 0);
    int done = 0, failed = 0;
    for (int i = 0; i < INFLIGHT; i++) {
        if (q[i].status == 0) {
            done++;
            cr_assert_gt(free_of(q[i].result), 0);
        } else {
            failed++;
            cr_assert(q[i].err[0], "a failure says why");
        }
        json_decref(q[i].result);
    }
    cr_assert_eq(done + failed, INFLIGHT, "none hangs");
    fprintf(stderr, "chain: restart: %d queries in flight completed, %d failed clearly\n", done,
            failed);
    /* the client is back: reads work, the subscription resumed after a gap */
    json_t *a = query(&f, "System", "Account", json_pack("[s]", ALICE));
    cr_assert_gt(free_of(a), 0);
    json_decref(a);
    int before = h.heads;
    new_block(&f);
    t0 = uv_hrtime();
    while (h.heads <= before && uv_hrtime() - t0 < 30ull * 1000000000)
        uv_run(&f.loop, UV_RUN_ONCE);
    cr_assert_gt(h.heads, before, "heads flow again after the restart");
    cr_assert_eq(h.gaps, 1, "subscribers heard of the gap");
    cr_assert_eq(h.ended, 0);
    gn_chain_stats_t st;
    gn_chain_stats(f.c, &st);
    cr_assert_geq(st.reconnects, 1);
    cr_assert_eq(gn_chain_unsubscribe(f.c, handle), 0);
    cr_assert_eq(h.ended, 1);
    gn_test_client_close(&f, true);
}

/* A runtime upgrade mid-run (sudo set_code to the spec-300 runtime): the
 * client decodes each block with its own runtime. */
Test(chain, runtime_upgrade_swaps_metadata_at_its_block, .timeout = 300)
{
    gn_test_client_t f;
    gn_test_client_start(&f, NULL);
    FILE *w = fopen(GN_SOURCE_DIR "/build/chain/subtensor-spec300-babe-npos.wasm", "rb");
    if (!w) {
        gn_test_client_close(&f, true);
        cr_skip_test("no spec-300 runtime in build/chain");
    }
    static uint8_t code[4 << 20];
    size_t n = fread(code, 1, sizeof(code), w);
    fclose(w);
    cr_assert(n > 1000 && n < sizeof(code));
    char *hex = malloc(2 * n + 3);
    cr_assert_eq(gn_hex_encode(code, n, 1, hex, 2 * n + 3), 0);
    gn_test_res_t r = {0};
    json_t *before = gn_test_res_ok(&f.loop, &r, gn_chain_head(f.c, false, gn_test_res_cb, &r));
    rt_wait_t w0 = {0};
    cr_assert_eq(gn_chain_runtime(f.c, NULL, rt_cb, &w0), 0);
    while (!w0.done)
        uv_run(&f.loop, UV_RUN_ONCE);
    cr_assert_eq(w0.rt->spec_version, 293);
    uint32_t old_pallets = w0.rt->md.n_pallets;
    gn_runtime_unref(w0.rt);

    gn_sr25519_keypair_t alice;
    gn_test_keypair("//Alice", &alice);
    json_t *args =
        json_pack("{s:{s:{s:{s:s}}}}", "call", "System", "set_code_without_checks", "code", hex);
    free(hex);
    gn_submit_opts_t so = {.nonce = -1, .wait = GN_WAIT_IN_BLOCK};
    memset(&r, 0, sizeof(r));
    json_t *rc = gn_test_res_ok(
        &f.loop, &r, gn_chain_submit(f.c, "Sudo", "sudo", args, &alice, &so, gn_test_res_cb, &r));
    json_decref(args);
    gn_sr25519_wipe(&alice);
    cr_assert(json_is_true(json_object_get(rc, "success")));
    bool updated = false;
    json_t *e;
    size_t i;
    json_array_foreach (json_object_get(rc, "events"), i, e)
        updated |= !strcmp(json_string_value(json_object_get(e, "event")), "CodeUpdated");
    cr_assert(updated, "System.CodeUpdated in the receipt");
    const char *old_hash = json_string_value(json_object_get(before, "hash"));
    const char *new_hash = json_string_value(json_object_get(rc, "block_hash"));

    /* each block's own runtime */
    rt_wait_t a = {0}, b = {0};
    cr_assert_eq(gn_chain_runtime(f.c, old_hash, rt_cb, &a), 0);
    cr_assert_eq(gn_chain_runtime(f.c, new_hash, rt_cb, &b), 0);
    while (!a.done || !b.done)
        uv_run(&f.loop, UV_RUN_ONCE);
    cr_assert_eq(a.status, 0);
    cr_assert_eq(b.status, 0);
    cr_assert_eq(a.rt->spec_version, 293);
    cr_assert_eq(b.rt->spec_version, 300);
    cr_assert_eq(a.rt->md.n_pallets, old_pallets);
    cr_assert_neq(b.rt->md.n_pallets, old_pallets, "the new runtime's metadata");
    fprintf(stderr, "chain: upgrade at block %lld: %u pallets (spec 293) -> %u (spec 300)\n",
            (long long)json_integer_value(json_object_get(rc, "block_number")), a.rt->md.n_pallets,
            b.rt->md.n_pallets);
    gn_runtime_unref(a.rt);
    gn_runtime_unref(b.rt);
    /* the best block's runtime follows (the version subscription) */
    gn_chain_stats_t st;
    uint64_t t0 = uv_hrtime();
    do {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        gn_chain_stats(f.c, &st);
    } while (st.runtime_upgrades < 1 && uv_hrtime() - t0 < 30ull * 1000000000);
    cr_assert_eq(st.runtime_upgrades, 1);
    memset(&r, 0, sizeof(r));
    json_t *ver = gn_test_res_ok(&f.loop, &r,
                                 gn_chain_constant(f.c, "System", "Version", gn_test_res_cb, &r));
    cr_assert_eq(json_integer_value(json_object_get(ver, "spec_version")), 300);
    /* events of both blocks decode, each with its runtime */
    memset(&r, 0, sizeof(r));
    json_decref(gn_test_res_ok(&f.loop, &r, gn_chain_events(f.c, old_hash, gn_test_res_cb, &r)));
    memset(&r, 0, sizeof(r));
    json_decref(gn_test_res_ok(&f.loop, &r, gn_chain_events(f.c, new_hash, gn_test_res_cb, &r)));
    json_decref(ver);
    json_decref(rc);
    json_decref(before);
    gn_test_client_close(&f, true);
}
