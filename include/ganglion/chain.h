/* The Substrate client: ganglion's own AsyncSubstrateInterface on a libuv
 * loop (loop thread only). One JSON-RPC connection (actors/rpc: reconnects,
 * deadlines) carries every request; runtimes (metadata per spec version)
 * are fetched once, cached in memory and on disk, and chosen per block so
 * a runtime upgrade changes decoding at the right block.
 *
 * Every operation answers once through a gn_chain_cb: status 0 with a JSON
 * result (the callback owns it: json_decref), or a negative GN_E* status
 * with a human-readable error text (the node's message, a decode error...).
 * `at` is a block hash ("0x..."), or NULL for the best block. Large
 * results are decoded on the libuv thread pool, never on the loop. */
#ifndef GANGLION_CHAIN_H
#define GANGLION_CHAIN_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/metadata.h"
#include "ganglion/scale.h"
#include "ganglion/sr25519.h"

typedef struct gn_chain gn_chain_t;

typedef struct gn_chain_opts {
    const char *url;       /* ws:// or wss:// */
    const char *cache_dir; /* metadata cache on disk (created); NULL: memory only */
    uint64_t timeout_ms;   /* per request; 0: 60000 */
    bool no_reconnect;
} gn_chain_opts_t;

/* One runtime version: immutable once loaded, shared by reference count so
 * work decoding with it survives an upgrade. */
typedef struct gn_runtime {
    atomic_uint refs;
    uint32_t spec_version, tx_version;
    char spec_name[64];
    uint16_t ss58_prefix;
    gn_metadata_t md; /* V15 when the runtime offers it, else V14 */
    uint8_t *raw;     /* the metadata bytes it was parsed from */
    size_t raw_len;
    bool from_disk; /* loaded from cache_dir, not fetched */
} gn_runtime_t;

gn_runtime_t *gn_runtime_ref(gn_runtime_t *rt);
void gn_runtime_unref(gn_runtime_t *rt);

typedef void (*gn_chain_cb)(int status, json_t *result, const char *error, void *arg);
/* rt: a reference the callback must gn_runtime_unref (NULL on error). */
typedef void (*gn_chain_runtime_cb)(int status, gn_runtime_t *rt, const char *error, void *arg);

int gn_chain_open(uv_loop_t *loop, const gn_chain_opts_t *o, gn_chain_t **out);
/* Outstanding operations answer GN_ECLOSED; then run the loop and release. */
void gn_chain_close(gn_chain_t *c);
void gn_chain_release(gn_chain_t *c);

/* The runtime of block `at` (NULL: the current one). */
int gn_chain_runtime(gn_chain_t *c, const char *at, gn_chain_runtime_cb cb, void *arg);
/* 32 bytes; valid once any runtime answered (0), else GN_ENOENT. */
int gn_chain_genesis(const gn_chain_t *c, uint8_t out[32]);

/* ---- reads (JSON results) ---- */

/* {"number": N, "hash": "0x..", "parent_hash": "0x.."}: the best block, or
 * the finalized one. */
int gn_chain_head(gn_chain_t *c, bool finalized, gn_chain_cb cb, void *arg);
/* "0x.." for a block number (GN_ENOENT: no such block). */
int gn_chain_block_hash(gn_chain_t *c, uint64_t number, gn_chain_cb cb, void *arg);
/* {"number","hash","parent_hash","extrinsics":[{"index","signed","signer"?,
 * "nonce"?,"tip"?,"pallet","call","args","hash"}]} */
int gn_chain_block(gn_chain_t *c, const char *at, gn_chain_cb cb, void *arg);
/* [{"phase","extrinsic_index"?,"pallet","event","fields"}] */
int gn_chain_events(gn_chain_t *c, const char *at, gn_chain_cb cb, void *arg);
/* The decoded value (the default when absent, null for absent Optional
 * entries). keys: a JSON array (NULL or [] for plain values). */
int gn_chain_query(gn_chain_t *c, const char *pallet, const char *item, const json_t *keys,
                   const char *at, gn_chain_cb cb, void *arg);
/* queries: [[pallet, item, [keys...]], ...] read in one state_queryStorageAt;
 * result: the values in the same order. */
int gn_chain_query_multi(gn_chain_t *c, const json_t *queries, const char *at, gn_chain_cb cb,
                         void *arg);

typedef struct gn_query_map_opts {
    uint32_t page_size;    /* keys per state_getKeysPaged; 0: 100, at most 1000 */
    uint64_t max_results;  /* 0: all */
    const char *start_key; /* hex storage key to start after; NULL: the first */
    bool keys_only;        /* no values read: entries have no "value" (one round trip less) */
} gn_query_map_opts_t;

/* Iterate a map (or a prefix of it: `prefix` holds the first keys, NULL for
 * all), paged, pinned to one block (the best block when at is NULL):
 * {"at": hash, "entries": [{"key": hex, "keys": [...], "value": ...}],
 *  "last_key": hex}
 * ("last_key" lets a caller continue with start_key). */
int gn_chain_query_map(gn_chain_t *c, const char *pallet, const char *item, const json_t *prefix,
                       const gn_query_map_opts_t *o, const char *at, gn_chain_cb cb, void *arg);
int gn_chain_constant(gn_chain_t *c, const char *pallet, const char *name, gn_chain_cb cb,
                      void *arg);
/* Runtime API call by name (V15 metadata types): args is a JSON array in
 * the method's input order or an object by input name (NULL: none). */
int gn_chain_runtime_call(gn_chain_t *c, const char *api, const char *method, const json_t *args,
                          const char *at, gn_chain_cb cb, void *arg);
/* The next nonce of an account (SS58), from system_accountNextIndex. */
int gn_chain_nonce(gn_chain_t *c, const char *ss58, gn_chain_cb cb, void *arg);

/* Any other JSON-RPC method (params: an array or NULL), answered raw. */
int gn_chain_rpc(gn_chain_t *c, const char *method, const json_t *params, gn_chain_cb cb,
                 void *arg);

/* ---- writes ---- */

typedef enum { GN_WAIT_NONE = 0, GN_WAIT_IN_BLOCK = 1, GN_WAIT_FINALIZED = 2 } gn_wait_t;

typedef struct gn_submit_opts {
    bool immortal;   /* else mortal for `period` blocks */
    uint64_t period; /* 0: 64 */
    int64_t nonce;   /* < 0: from the chain (and the client's own count) */
    gn_u128_t tip;
    gn_wait_t wait;
} gn_submit_opts_t;

/* Fee estimate of pallet.call(args) signed by kp, from
 * TransactionPaymentApi_query_info: {"weight", "class", "partial_fee"}. */
int gn_chain_fee(gn_chain_t *c, const char *pallet, const char *call, const json_t *args,
                 const gn_sr25519_keypair_t *kp, gn_chain_cb cb, void *arg);
/* Compose, sign, submit and watch. The receipt:
 * {"hash": extrinsic hash, "nonce", "block_hash"?, "block_number"?,
 *  "extrinsic_index"?, "success"?, "events"?, "error"?: {"kind","pallet"?,
 *  "name","docs"}, "fee"?, "finalized"?}
 * (block fields absent with GN_WAIT_NONE). A pool rejection (bad proof,
 * stale nonce...) is GN_EREJECTED with the node's text; a connection lost
 * after sending is GN_EFATE (never re-sent). kp is copied and wiped. */
int gn_chain_submit(gn_chain_t *c, const char *pallet, const char *call, const json_t *args,
                    const gn_sr25519_keypair_t *kp, const gn_submit_opts_t *o, gn_chain_cb cb,
                    void *arg);
/* Submit ready extrinsic bytes (hex, length-prefixed) and watch as above
 * (for tests of the pool's checks). */
int gn_chain_submit_raw(gn_chain_t *c, const char *hex, gn_wait_t wait, gn_chain_cb cb, void *arg);
/* Sign without submitting: {"hex": extrinsic, "hash", "nonce"}. */
int gn_chain_sign(gn_chain_t *c, const char *pallet, const char *call, const json_t *args,
                  const gn_sr25519_keypair_t *kp, const gn_submit_opts_t *o, gn_chain_cb cb,
                  void *arg);

/* ---- subscriptions ---- */

/* Heads: cb gets status 0 with {"number","hash","parent_hash"} for each
 * head, GN_EGAP after a reconnect (heads may be missing), and a final
 * negative status (GN_ECLOSED...) at the end. */
typedef void (*gn_chain_head_cb)(int status, const json_t *head, void *arg);
int gn_chain_subscribe_heads(gn_chain_t *c, bool finalized, gn_chain_head_cb cb, void *arg,
                             uint64_t *handle);
/* A storage value's changes: cb gets {"block", "value"} (decoded as the
 * item's value, with the runtime current when subscribing), GN_EGAP after a
 * reconnect, and a final negative status. */
int gn_chain_subscribe_storage(gn_chain_t *c, const char *pallet, const char *item,
                               const json_t *keys, gn_chain_head_cb cb, void *arg,
                               uint64_t *handle);
/* Ends a head or storage subscription (its callback's last call comes at once). */
int gn_chain_unsubscribe(gn_chain_t *c, uint64_t handle);

/* Counters for metrics and tests. */
typedef struct gn_chain_stats {
    uint64_t requests, runtimes_fetched, runtimes_from_disk, runtime_upgrades, offloaded,
        reconnects;
} gn_chain_stats_t;
void gn_chain_stats(const gn_chain_t *c, gn_chain_stats_t *out);

#endif
