/* ganglion chain ...: one-shot reads and writes through the Substrate
 * client (actors/chain) on a private loop. JSON on stdout, errors on
 * stderr, exit 1 on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "chain_cli.h"
#include "cli.h"
#include "ganglion/chain.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/rpc.h"
#include "ganglion/ss58.h"
#include "ganglion/subtensor.h"
#include "ganglion/subtensor_tx.h"

#define USAGE                                                                                      \
    "usage: ganglion chain <command> [--subtensor.network NAME | --subtensor.chain_endpoint URL] " \
    "[--at HASH] [--timeout S] [--chain.cache_dir DIR]\n"                                          \
    "  head [--finalized]                  the best (or finalized) block\n"                        \
    "  block [N|HASH]                      a block with its decoded extrinsics\n"                  \
    "  events [N|HASH]                     a block's events\n"                                     \
    "  query Pallet Item [key-json...]     a storage value\n"                                      \
    "  map Pallet Item [key-json...] [--max N] [--page-size N] [--start-key HEX]\n"                \
    "  constant Pallet Name\n"                                                                     \
    "  runtime-call Api method [args-json] a runtime API call (V15 types)\n"                       \
    "  version                             the runtime version and metadata in use\n"              \
    "  nonce SS58\n"                                                                               \
    "  rpc METHOD [params-json]            a raw JSON-RPC call (params: an array)\n"               \
    "  (also as ganglion subnets [--netuid N] | neurons --netuid N|--all [--full] | metagraph "    \
    "--netuid N [--json] | balance "                                                               \
    "SS58... | weights set --netuid N uid=score... [--version-key K], signed by the hotkey |\n"    \
    "   register --netuid N [--hotkey SS58] | serve --netuid N --axon.external_ip|--ip IP "        \
    "--axon.external_port|--port P)\n"                                                             \
    "  submit|fee Pallet call args-json|@file --wallet.name N [--wallet.hotkey H | --coldkey] "    \
    "[--suri URI] [--wait none|inblock|finalized] [--immortal] [--period N] [--nonce N] [--tip "   \
    "RAO]"

static void sync_cb(int status, json_t *result, const char *error, void *arg)
{
    sync_t *s = arg;
    s->done = true;
    s->status = status;
    s->result = result;
    s->error = error ? strdup(error) : NULL;
}

static void sync_rt(int status, gn_runtime_t *rt, const char *error, void *arg)
{
    sync_t *s = arg;
    s->done = true;
    s->status = status;
    s->rt = rt;
    s->error = error ? strdup(error) : NULL;
}

static int wait_for(uv_loop_t *loop, sync_t *s, int rc)
{
    if (rc < 0) {
        fprintf(stderr, "ganglion: chain: %s\n", gn_strerror(rc));
        return rc;
    }
    while (!s->done)
        uv_run(loop, UV_RUN_ONCE);
    if (s->status < 0)
        fprintf(stderr, "ganglion: %s\n", s->error ? s->error : gn_strerror(s->status));
    return s->status;
}

static void print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
}

/* JSON from an argument, or from a file named after '@' (large calls:
 * a runtime's code does not fit on a command line). */
static json_t *load_json(const char *a, size_t flags)
{
    if (a[0] == '@')
        return json_load_file(a + 1, flags, NULL);
    return json_loads(a, flags, NULL);
}

static json_t *arg_json(const char *a)
{
    json_t *k = json_loads(a, JSON_DECODE_ANY, NULL);
    return k ? k : json_string(a);
}

static int parse(int argc, char **argv, copts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->network = getenv("BT_SUBTENSOR_NETWORK");
    o->endpoint = getenv("BT_SUBTENSOR_CHAIN_ENDPOINT");
    o->cache_dir = getenv("GANGLION_CHAIN_CACHE_DIR");
    o->timeout_ms = 60000;
    o->nonce = -1;
    static const struct {
        const char *flag;
        size_t off;
    } valued[] = {
        {"--subtensor.network", offsetof(copts_t, network)},
        {"--subtensor.chain_endpoint", offsetof(copts_t, endpoint)},
        {"--at", offsetof(copts_t, at)},
        {"--chain.cache_dir", offsetof(copts_t, cache_dir)},
        {"--wait", offsetof(copts_t, wait)},
        {"--suri", offsetof(copts_t, suri)},
        {"--wallet.path", offsetof(copts_t, wallet_path)},
        {"--wallet.name", offsetof(copts_t, wallet_name)},
        {"--wallet.hotkey", offsetof(copts_t, wallet_hotkey)},
        {"--password-env", offsetof(copts_t, password_env)},
        {"--start-key", offsetof(copts_t, start_key)},
        {"--tip", offsetof(copts_t, tip)},
        {"--hotkey", offsetof(copts_t, hotkey_ss58)},
        {"--axon.external_ip", offsetof(copts_t, axon_ip)},
        {"--axon.ip", offsetof(copts_t, axon_ip)},
        {"--axon.external_port", offsetof(copts_t, axon_port)},
        {"--axon.port", offsetof(copts_t, axon_port)},
        {"--ip", offsetof(copts_t, axon_ip)}, /* serve's short forms */
        {"--port", offsetof(copts_t, axon_port)},
        {"--dest", offsetof(copts_t, dest)},
        {"--amount", offsetof(copts_t, amount)},
        {"--salt", offsetof(copts_t, salt)},
    };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool done = false;
        for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]) && !done; k++) {
            if (!strcmp(a, valued[k].flag)) {
                if (i + 1 >= argc)
                    return gn_cli_usage("a flag is missing its value");
                *(const char **)((char *)o + valued[k].off) = argv[++i];
                done = true;
            }
        }
        if (done)
            continue;
        if (!strcmp(a, "--netuid") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v > 65535)
                return gn_cli_usage("--netuid is a subnet number (0..65535)");
            o->netuid = v;
            o->has_netuid = true;
            continue;
        }
        if (!strcmp(a, "--version-key") && i + 1 < argc) {
            o->version_key = strtoull(argv[++i], NULL, 10);
            continue;
        }
        if (!strcmp(a, "--allow-death")) {
            o->allow_death = true;
            continue;
        }
        if (!strcmp(a, "--full") || !strcmp(a, "--json") || !strcmp(a, "--all")) {
            *(a[2] == 'f' ? &o->full : a[2] == 'j' ? &o->json : &o->all) = true;
            continue;
        }
        if ((!strcmp(a, "--timeout") || !strcmp(a, "--max") || !strcmp(a, "--page-size") ||
             !strcmp(a, "--nonce") || !strcmp(a, "--period")) &&
            i + 1 < argc) {
            char *end;
            double v = strtod(argv[++i], &end);
            if (*end || v < 0)
                return gn_cli_usage("a numeric flag needs a non-negative number");
            if (!strcmp(a, "--timeout"))
                o->timeout_ms = (uint64_t)(v * 1000);
            else if (!strcmp(a, "--max"))
                o->max = (uint64_t)v;
            else if (!strcmp(a, "--page-size"))
                o->page_size = (uint64_t)v;
            else if (!strcmp(a, "--nonce"))
                o->nonce = (long long)v;
            else
                o->period = (long long)v;
        } else if (!strcmp(a, "--finalized")) {
            o->finalized = true;
        } else if (!strcmp(a, "--immortal")) {
            o->immortal = true;
        } else if (!strcmp(a, "--coldkey")) {
            o->coldkey = true;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "ganglion: chain: unknown flag '%s'\n", a);
            return GN_EXIT_USAGE;
        } else if (o->npos < 16) {
            o->pos[o->npos++] = a;
        } else {
            return gn_cli_usage("chain: too many arguments");
        }
    }
    o->wait_mode = GN_WAIT_IN_BLOCK;
    if (o->wait && !strcmp(o->wait, "none"))
        o->wait_mode = GN_WAIT_NONE;
    else if (o->wait && !strcmp(o->wait, "finalized"))
        o->wait_mode = GN_WAIT_FINALIZED;
    else if (o->wait && strcmp(o->wait, "inblock") && strcmp(o->wait, "in_block"))
        return gn_cli_usage("--wait is none, inblock or finalized");
    return 0;
}

/* A block given as a number or a hash → its hash in `out`. */
static int block_arg(uv_loop_t *loop, gn_chain_t *c, const char *arg, char out[67])
{
    if (!arg) {
        out[0] = '\0';
        return 0;
    }
    if (arg[0] == '0' && arg[1] == 'x') {
        snprintf(out, 67, "%s", arg);
        return 0;
    }
    char *end;
    unsigned long long n = strtoull(arg, &end, 10);
    if (*end || !*arg) {
        fprintf(stderr, "ganglion: '%s' is neither a block number nor a hash\n", arg);
        return GN_EINVAL;
    }
    sync_t s = {0};
    int rc = wait_for(loop, &s, gn_chain_block_hash(c, n, sync_cb, &s));
    if (rc == 0)
        snprintf(out, 67, "%s", json_string_value(s.result));
    json_decref(s.result);
    free(s.error);
    return rc;
}

static int signer(const copts_t *o, bool hot, gn_sr25519_keypair_t *kp)
{
    if (o->suri)
        return gn_cli_suri_keypair(o->suri, kp);
    /* the SDK signs transfers and registrations with the coldkey; a hotkey
     * given explicitly (and no --coldkey) signs instead */
    bool cold = !hot && (o->coldkey || !o->wallet_hotkey);
    return gn_cli_wallet_keypair(o->wallet_path, o->wallet_name, o->wallet_hotkey, cold,
                                 o->password_env, kp);
}

/* The block to read at, {"number", "hash"}, into s->result: --at's, or
 * the best block's (so reads that belong together see one state). */
static int pin(uv_loop_t *loop, gn_chain_t *c, const copts_t *o, sync_t *s)
{
    return wait_for(loop, s,
                    o->at ? gn_chain_block(c, o->at, sync_cb, s)
                          : gn_chain_head(c, false, sync_cb, s));
}

static int run(uv_loop_t *loop, gn_chain_t *c, const copts_t *o)
{
    const char *cmd = o->pos[0];
    int n = o->npos;
    sync_t s = {0};
    int rc;
    char at[67];
    if (!strcmp(cmd, "head") && n == 1) {
        rc = wait_for(loop, &s, gn_chain_head(c, o->finalized, sync_cb, &s));
    } else if ((!strcmp(cmd, "block") || !strcmp(cmd, "events")) && n <= 2) {
        if ((rc = block_arg(loop, c, n == 2 ? o->pos[1] : o->at, at)) < 0)
            return rc;
        const char *h = at[0] ? at : NULL;
        rc = wait_for(loop, &s,
                      !strcmp(cmd, "block") ? gn_chain_block(c, h, sync_cb, &s)
                                            : gn_chain_events(c, h, sync_cb, &s));
    } else if ((!strcmp(cmd, "query") || !strcmp(cmd, "map")) && n >= 3) {
        json_t *keys = json_array();
        for (int i = 3; i < n; i++)
            json_array_append_new(keys, arg_json(o->pos[i]));
        if (!strcmp(cmd, "query")) {
            rc = gn_chain_query(c, o->pos[1], o->pos[2], keys, o->at, sync_cb, &s);
        } else {
            gn_query_map_opts_t mo = {.page_size = (uint32_t)o->page_size,
                                      .max_results = o->max,
                                      .start_key = o->start_key};
            rc = gn_chain_query_map(c, o->pos[1], o->pos[2], keys, &mo, o->at, sync_cb, &s);
        }
        json_decref(keys);
        rc = wait_for(loop, &s, rc);
    } else if (!strcmp(cmd, "constant") && n == 3) {
        rc = wait_for(loop, &s, gn_chain_constant(c, o->pos[1], o->pos[2], sync_cb, &s));
    } else if (!strcmp(cmd, "runtime-call") && (n == 3 || n == 4)) {
        json_t *args = n == 4 ? load_json(o->pos[3], JSON_DECODE_ANY) : json_array();
        if (!args || (!json_is_array(args) && !json_is_object(args))) {
            json_decref(args);
            return gn_cli_usage("runtime-call: args-json is a JSON array or object");
        }
        rc = gn_chain_runtime_call(c, o->pos[1], o->pos[2], args, o->at, sync_cb, &s);
        json_decref(args);
        rc = wait_for(loop, &s, rc);
    } else if (!strcmp(cmd, "version") && n == 1) {
        rc = wait_for(loop, &s, gn_chain_runtime(c, o->at, sync_rt, &s));
        if (rc == 0) {
            s.result = json_pack(
                "{s:s,s:I,s:I,s:i,s:i,s:I,s:I,s:b}", "spec_name", s.rt->spec_name, "spec_version",
                (json_int_t)s.rt->spec_version, "transaction_version", (json_int_t)s.rt->tx_version,
                "metadata_version", s.rt->md.version, "ss58_prefix", s.rt->ss58_prefix, "pallets",
                (json_int_t)s.rt->md.n_pallets, "types", (json_int_t)s.rt->md.n_types, "from_cache",
                s.rt->from_disk);
            gn_runtime_unref(s.rt);
        }
    } else if (!strcmp(cmd, "subnets") && n == 1 && !o->has_netuid) {
        rc = wait_for(loop, &s, gn_subtensor_subnets(c, o->at, sync_cb, &s));
    } else if (!strcmp(cmd, "subnets") && n == 1) {
        /* one subnet: its state and hyperparameters at one block */
        uint16_t net = (uint16_t)o->netuid;
        sync_t hp = {0};
        if ((rc = pin(loop, c, o, &s)) < 0)
            return rc;
        json_t *blk = s.result;
        const char *h = json_string_value(json_object_get(blk, "hash"));
        s = (sync_t){0};
        int rc1 = gn_subtensor_subnet(c, net, h, sync_cb, &s);
        int rc2 = gn_subtensor_hyperparams(c, net, h, sync_cb, &hp);
        rc1 = wait_for(loop, &s, rc1);
        rc2 = wait_for(loop, &hp, rc2);
        rc = rc1 < 0 ? rc1 : rc2;
        json_decref(blk);
        if (rc == 0)
            json_object_set_new(s.result, "hyperparameters", hp.result);
        else
            json_decref(hp.result);
        free(hp.error);
    } else if (!strcmp(cmd, "neurons") && n == 1 && o->all) {
        rc = wait_for(loop, &s, gn_subtensor_all_neurons(c, !o->full, 0, o->at, sync_cb, &s));
    } else if ((!strcmp(cmd, "neurons") || (!strcmp(cmd, "metagraph") && o->json)) && n == 1) {
        if (!o->has_netuid)
            return gn_cli_usage("--netuid N is needed");
        uint16_t net = (uint16_t)o->netuid;
        rc = wait_for(loop, &s,
                      !strcmp(cmd, "neurons")
                          ? gn_subtensor_neurons(c, net, !o->full, o->at, sync_cb, &s)
                          : gn_subtensor_metagraph(c, net, o->at, sync_cb, &s));
    } else if (!strcmp(cmd, "metagraph") && n == 1) {
        if (!o->has_netuid)
            return gn_cli_usage("--netuid N is needed");
        if ((rc = pin(loop, c, o, &s)) < 0)
            return rc;
        json_t *blk = s.result;
        s = (sync_t){0};
        rc = wait_for(loop, &s,
                      gn_subtensor_neurons(c, (uint16_t)o->netuid, true,
                                           json_string_value(json_object_get(blk, "hash")), sync_cb,
                                           &s));
        if (rc == 0)
            gn_cli_metagraph_table(stdout, (uint16_t)o->netuid,
                                   (uint64_t)json_integer_value(json_object_get(blk, "number")),
                                   s.result);
        json_decref(blk);
        json_decref(s.result);
        free(s.error);
        return rc;
    } else if (!strcmp(cmd, "balance") && n >= 2) {
        json_t *who = json_array();
        for (int i = 1; i < n; i++)
            json_array_append_new(who, json_string(o->pos[i]));
        rc = gn_subtensor_balances(c, who, o->at, sync_cb, &s);
        json_decref(who);
        rc = wait_for(loop, &s, rc);
    } else if (!strcmp(cmd, "weights") && n >= 3 && !strcmp(o->pos[1], "set")) {
        if (!o->has_netuid)
            return gn_cli_usage("weights set: --netuid N is needed");
        uint64_t uids[14];
        double scores[14];
        size_t k = 0;
        for (int i = 2; i < n; i++, k++) {
            char *end;
            unsigned long u = strtoul(o->pos[i], &end, 10);
            if (*end != '=' || end == o->pos[i])
                return gn_cli_usage("weights set: each weight is uid=score (e.g. 0=0.5)");
            uids[k] = u;
            scores[k] = strtod(end + 1, &end);
            if (*end)
                return gn_cli_usage("weights set: a score is a number");
        }
        gn_sr25519_keypair_t kp;
        if ((rc = signer(o, true, &kp)) < 0)
            return rc;
        rc = gn_subtensor_set_weights(c, &kp, (uint16_t)o->netuid, uids, scores, k,
                                      o->version_key ? o->version_key : GN_SUBTENSOR_VERSION_KEY,
                                      o->wait_mode, sync_cb, &s);
        gn_sr25519_wipe(&kp);
        rc = wait_for(loop, &s, rc);
    } else if ((!strcmp(cmd, "register") || !strcmp(cmd, "serve")) && n == 1) {
        if (!o->has_netuid)
            return gn_cli_usage("--netuid N is needed");
        bool reg = !strcmp(cmd, "register");
        if (!reg && (!o->axon_ip || !o->axon_port))
            return gn_cli_usage("serve: --axon.external_ip IP and --axon.external_port PORT");
        gn_sr25519_keypair_t kp, hk;
        char hotkey[64];
        if (reg && o->hotkey_ss58) {
            snprintf(hotkey, sizeof(hotkey), "%s", o->hotkey_ss58);
        } else if (reg) { /* the wallet's hotkey: its public key only */
            if (o->suri)
                return gn_cli_usage("register: with --suri, name the hotkey with --hotkey SS58");
            if ((rc = gn_cli_wallet_keypair(o->wallet_path, o->wallet_name, o->wallet_hotkey, false,
                                            o->password_env, &hk)) < 0)
                return rc;
            gn_ss58_encode(hk.pub, 32, 42, hotkey, sizeof(hotkey));
            gn_sr25519_wipe(&hk);
        }
        /* register: the coldkey pays; serve: the hotkey signs */
        if ((rc = signer(o, !reg, &kp)) < 0)
            return rc;
        if (reg) {
            rc = gn_subtensor_register(c, &kp, (uint16_t)o->netuid, hotkey, o->wait_mode, sync_cb,
                                       &s);
        } else {
            char *end;
            unsigned long p = strtoul(o->axon_port, &end, 10);
            if (*end || p == 0 || p > 65535) {
                gn_sr25519_wipe(&kp);
                return gn_cli_usage("--axon.external_port is 1..65535");
            }
            rc = gn_subtensor_serve_axon(c, &kp, (uint16_t)o->netuid, o->axon_ip, (uint16_t)p,
                                         o->version_key ? (uint32_t)o->version_key
                                                        : GN_SUBTENSOR_VERSION_KEY,
                                         o->wait_mode, sync_cb, &s);
        }
        gn_sr25519_wipe(&kp);
        rc = wait_for(loop, &s, rc);
    } else if (!strcmp(cmd, "rpc") && (n == 2 || n == 3)) {
        /* a raw call: the node's own methods (chopsticks' dev_newBlock) */
        json_t *params = n == 3 ? load_json(o->pos[2], 0) : NULL;
        if (n == 3 && !json_is_array(params)) {
            json_decref(params);
            return gn_cli_usage("rpc: params-json is a JSON array (e.g. '[{\"count\": 2}]')");
        }
        rc = gn_chain_rpc(c, o->pos[1], params, sync_cb, &s);
        json_decref(params);
        rc = wait_for(loop, &s, rc);
    } else if (!strcmp(cmd, "nonce") && n == 2) {
        rc = wait_for(loop, &s, gn_chain_nonce(c, o->pos[1], sync_cb, &s));
    } else if ((!strcmp(cmd, "submit") || !strcmp(cmd, "fee")) && (n == 3 || n == 4)) {
        json_t *args = n == 4 ? load_json(o->pos[3], 0) : json_object();
        if (!args)
            return gn_cli_usage("submit: args-json is a JSON object (or array) of the call's "
                                "fields");
        gn_submit_opts_t so = {.immortal = o->immortal,
                               .period = (uint64_t)o->period,
                               .nonce = o->nonce,
                               .wait = o->wait_mode};
        if (o->tip) {
            char *end;
            unsigned long long t = strtoull(o->tip, &end, 10);
            if (*end) {
                json_decref(args);
                return gn_cli_usage("--tip is an amount in rao");
            }
            so.tip = t;
        }
        gn_sr25519_keypair_t kp;
        if ((rc = signer(o, false, &kp)) < 0) {
            json_decref(args);
            return rc;
        }
        rc = !strcmp(cmd, "fee")
                 ? gn_chain_fee(c, o->pos[1], o->pos[2], args, &kp, sync_cb, &s)
                 : gn_chain_submit(c, o->pos[1], o->pos[2], args, &kp, &so, sync_cb, &s);
        gn_sr25519_wipe(&kp);
        json_decref(args);
        rc = wait_for(loop, &s, rc);
    } else {
        return gn_cli_usage(USAGE);
    }
    return gn_chain_cli_finish(&s, rc);
}

int gn_chain_cli_finish(sync_t *s, int rc)
{
    if (rc == 0)
        print_json(s->result);
    /* a receipt of a failed dispatch is printed, and the exit says so */
    if (rc == 0 && json_is_false(json_object_get(s->result, "success")))
        rc = GN_EREJECTED;
    json_decref(s->result);
    free(s->error);
    return rc;
}

int gn_cmd_chain(int argc, char **argv)
{
    return gn_chain_cli_main(argc, argv, USAGE, run);
}

int gn_chain_cli_main(int argc, char **argv, const char *usage, gn_chain_cli_fn fn)
{
    copts_t o;
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    if (o.npos < 1)
        return gn_cli_usage(usage);
    gn_chain_opts_t co = {
        .url = o.endpoint ? o.endpoint : gn_rpc_network_url(o.network),
        .cache_dir = o.cache_dir,
        .timeout_ms = o.timeout_ms,
        .no_reconnect = true, /* one-shot: a lost connection is an error, not a wait */
    };
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_chain_t *c;
    if ((rc = gn_chain_open(&loop, &co, &c)) < 0) {
        uv_loop_close(&loop);
        return gn_cli_fail(co.url, rc);
    }
    rc = fn(&loop, c, &o);
    gn_chain_close(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    gn_chain_release(c);
    uv_loop_close(&loop);
    return rc == GN_EXIT_USAGE ? GN_EXIT_USAGE : rc < 0 ? GN_EXIT_FAIL : GN_EXIT_OK;
}

/* What cmd_tx.c shares (chain_cli.h) */
void gn_chain_cli_sync_cb(int status, json_t *result, const char *error, void *arg)
{
    sync_cb(status, result, error, arg);
}

int gn_chain_cli_wait(uv_loop_t *loop, sync_t *s, int rc)
{
    return wait_for(loop, s, rc);
}

int gn_chain_cli_signer(const copts_t *o, bool hot, gn_sr25519_keypair_t *kp)
{
    return signer(o, hot, kp);
}
