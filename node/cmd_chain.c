/* ganglion chain head|constant|query: one-shot reads from a node, over the
 * JSON-RPC client (actors/rpc) on a private loop. JSON out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/metadata.h"
#include "ganglion/rpc.h"
#include "ganglion/storage_key.h"
#include "ganglion/value.h"

typedef struct {
    bool done;
    int status;
    json_t *result; /* a copy */
    char error[256];
} sync_t;

static void sync_cb(int status, const gn_rpc_msg_t *m, void *arg)
{
    sync_t *s = arg;
    s->done = true;
    s->status = status;
    if (status == 0)
        s->result = json_deep_copy(m->result);
    else if (m)
        snprintf(s->error, sizeof(s->error), "%lld: %s", (long long)m->error_code,
                 m->error_message);
}

/* One call, waited for on the loop. */
static int call_sync(uv_loop_t *loop, gn_rpc_t *c, const char *method, json_t *params,
                     uint64_t timeout_ms, json_t **result)
{
    sync_t s = {0};
    int rc = gn_rpc_call(c, method, params, timeout_ms, sync_cb, &s);
    json_decref(params);
    if (rc < 0)
        return rc;
    while (!s.done)
        uv_run(loop, UV_RUN_ONCE);
    if (s.status == GN_EIO)
        fprintf(stderr, "ganglion: %s: the node answered %s\n", method, s.error);
    else if (s.status < 0)
        fprintf(stderr, "ganglion: %s: %s\n", method, gn_strerror(s.status));
    *result = s.result;
    return s.status;
}

static int fetch_metadata(uv_loop_t *loop, gn_rpc_t *c, uint64_t t, gn_metadata_t *md)
{
    json_t *r;
    int rc = call_sync(loop, c, "state_getMetadata", NULL, t, &r);
    if (rc < 0)
        return rc;
    rc =
        gn_cli_metadata_hex("the node's metadata", json_string_value(r), json_string_length(r), md);
    json_decref(r);
    return rc;
}

static void print_value(const gn_metadata_t *md, uint32_t type, const uint8_t *p, size_t n)
{
    gn_arena_t ar;
    gn_value_t v;
    gn_arena_init(&ar, NULL, 0);
    int rc = gn_value_decode_all(md, type, p, n, &ar, &v);
    if (rc < 0) {
        fprintf(stderr, "ganglion: decode: %s\n", gn_strerror(rc));
    } else {
        gn_json_opts_t o = {GN_JSON_SS58_PREFIX, gn_metadata_ss58_prefix(md)};
        json_t *j = gn_value_to_json(md, &v, &o);
        char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        if (s)
            puts(s);
        free(s);
        json_decref(j);
    }
    gn_arena_free(&ar);
}

int gn_cmd_chain(int argc, char **argv)
{
    const char *network = getenv("BT_SUBTENSOR_NETWORK"), *endpoint = NULL, *at = NULL;
    uint64_t timeout_ms = 60000;
    char *pos[8];
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--subtensor.network") && i + 1 < argc)
            network = argv[++i];
        else if (!strcmp(argv[i], "--subtensor.chain_endpoint") && i + 1 < argc)
            endpoint = argv[++i];
        else if (!strcmp(argv[i], "--at") && i + 1 < argc)
            at = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_ms = (uint64_t)(atof(argv[++i]) * 1000);
        else if (argv[i][0] == '-' && argv[i][1] == '-')
            return gn_cli_usage("chain: unknown flag");
        else if (npos < 8)
            pos[npos++] = argv[i];
    }
    if (npos < 1)
        return gn_cli_usage("usage: ganglion chain head | constant Pallet Name | query Pallet "
                            "Item [key-json...] [--at HASH] [--subtensor.network NAME | "
                            "--subtensor.chain_endpoint URL] [--timeout S]");
    const char *url = endpoint ? endpoint : gn_rpc_network_url(network);
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_rpc_t *c;
    int ret = GN_EXIT_FAIL, rc = gn_rpc_open(&loop, url, &c);
    if (rc < 0) {
        uv_loop_close(&loop);
        return gn_cli_fail(url, rc);
    }
    json_t *r = NULL;
    gn_metadata_t md;
    memset(&md, 0, sizeof(md));
    if (!strcmp(pos[0], "head") && npos == 1) {
        if (call_sync(&loop, c, "chain_getHeader", NULL, timeout_ms, &r) == 0) {
            char *s = json_dumps(r, JSON_COMPACT);
            puts(s);
            free(s);
            ret = GN_EXIT_OK;
        }
    } else if (!strcmp(pos[0], "constant") && npos == 3) {
        if (fetch_metadata(&loop, c, timeout_ms, &md) == 0) {
            const gn_constant_t *k = gn_metadata_constant(&md, pos[1], pos[2]);
            if (!k) {
                fprintf(stderr, "ganglion: no constant %s.%s\n", pos[1], pos[2]);
            } else {
                print_value(&md, k->type, k->value, k->value_len);
                ret = GN_EXIT_OK;
            }
        }
    } else if (!strcmp(pos[0], "query") && npos >= 3) {
        const gn_storage_entry_t *e;
        if (fetch_metadata(&loop, c, timeout_ms, &md) == 0 &&
            (e = gn_metadata_storage(&md, pos[1], pos[2])) != NULL) {
            json_t *keys = json_array();
            char err[256] = "";
            for (int i = 3; i < npos; i++) {
                json_t *k = json_loads(pos[i], JSON_DECODE_ANY, NULL);
                json_array_append_new(keys, k ? k : json_string(pos[i]));
            }
            gn_scale_writer_t w;
            gn_scale_writer_init(&w, NULL);
            rc = gn_storage_key_json(&md, e, keys, &w, err, sizeof(err));
            json_decref(keys);
            if (rc < 0) {
                fprintf(stderr, "ganglion: %s.%s: %s\n", pos[1], pos[2], err);
            } else {
                char *hex = malloc(2 * w.len + 3);
                gn_hex_encode(w.buf, w.len, 1, hex, 2 * w.len + 3);
                json_t *params = at ? json_pack("[s,s]", hex, at) : json_pack("[s]", hex);
                free(hex);
                if (call_sync(&loop, c, "state_getStorage", params, timeout_ms, &r) == 0) {
                    const char *vh = json_string_value(r);
                    if (!vh) { /* absent: the default, or null for Optional entries */
                        if (e->modifier == GN_STORAGE_DEFAULT)
                            print_value(&md, e->value_type, e->default_value, e->default_len);
                        else
                            puts("null");
                        ret = GN_EXIT_OK;
                    } else {
                        size_t n = strlen(vh), len;
                        uint8_t *b = malloc(n / 2 + 1);
                        if (gn_hex_decode(vh, n, b, n / 2 + 1, &len) == 0) {
                            print_value(&md, e->value_type, b, len);
                            ret = GN_EXIT_OK;
                        }
                        free(b);
                    }
                }
            }
            gn_scale_writer_free(&w);
        } else if (md.n_types) {
            fprintf(stderr, "ganglion: no storage item %s.%s\n", pos[1], pos[2]);
        }
    } else {
        ret = gn_cli_usage("chain: head | constant Pallet Name | query Pallet Item [keys...]");
    }
    json_decref(r);
    gn_metadata_free(&md);
    gn_rpc_close(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    gn_rpc_release(c);
    uv_loop_close(&loop);
    return ret;
}
