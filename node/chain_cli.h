/* Internal to node/: what the commands that talk to a chain share (their
 * code is in cmd_chain.c; cmd_tx.c uses it): the flags, waiting for one
 * answer, the signer, and a client on a private loop. */
#ifndef GN_NODE_CHAIN_CLI_H
#define GN_NODE_CHAIN_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/chain.h"

/* One answer of a chain operation. */
typedef struct {
    bool done;
    int status;
    json_t *result;
    char *error;
    gn_runtime_t *rt;
} sync_t;

/* The flags of the chain commands (and the environment's defaults). */
typedef struct {
    const char *network, *endpoint, *at, *cache_dir, *wait, *suri;
    const char *wallet_path, *wallet_name, *wallet_hotkey, *password_env, *start_key;
    const char *hotkey_ss58, *axon_ip, *axon_port;
    const char *dest, *amount, *salt; /* transfer, stake, commit-reveal */
    uint64_t timeout_ms, max, page_size, netuid, version_key;
    bool has_netuid, full, json, all, allow_death;
    long long nonce, period;
    const char *tip;
    bool finalized, immortal, coldkey;
    gn_wait_t wait_mode; /* from --wait */
    const char *pos[16];
    int npos;
} copts_t;

/* A gn_chain_cb filling the sync_t at arg. */
void gn_chain_cli_sync_cb(int status, json_t *result, const char *error, void *arg);
/* Run the loop until s is answered; rc is the operation's own return.
 * A failure is printed on stderr; the status. */
int gn_chain_cli_wait(uv_loop_t *loop, sync_t *s, int rc);
/* The signing key: --suri's, else the wallet's coldkey, or its hotkey when
 * `hot` (or when --wallet.hotkey is given without --coldkey). */
int gn_chain_cli_signer(const copts_t *o, bool hot, gn_sr25519_keypair_t *kp);
/* Print s's result as JSON when rc is 0 (a receipt of a failed dispatch
 * turns rc into GN_EREJECTED), release s; rc. */
int gn_chain_cli_finish(sync_t *s, int rc);

typedef int (*gn_chain_cli_fn)(uv_loop_t *loop, gn_chain_t *c, const copts_t *o);
/* Parse the flags, open a client for their node, run fn, close: the exit
 * code (usage: printed when no command word is given). */
int gn_chain_cli_main(int argc, char **argv, const char *usage, gn_chain_cli_fn fn);

#endif
