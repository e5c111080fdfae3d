/* Internal to node/: what `ganglion miner` and `ganglion validator` share.
 *
 * One libuv loop (gn_loop_t) with:
 *   chain actor      the Substrate client; heads on `blocks`
 *   metagraph actor  the subnet's neurons, snapshots on `snapshots`
 *                    (persisted in state_dir, so a restart serves at once)
 *   the role's own actors (axon, dendrite, miner/validator), spawned by
 *   the role between gn_node_open and gn_node_run.
 * plus logging (human on a terminal, JSON lines otherwise or with
 * --logging.format json; --logging.debug/trace), the metrics registry the
 * axon or the metrics server serves, and the signals.
 *
 * Shutdown: the first SIGTERM/SIGINT calls the role's `on_shutdown` (it
 * finishes what is in flight, then calls gn_node_stop); if it has not
 * within node.grace_period seconds, the node stops anyway. A second signal
 * stops at once. gn_node_run returns 0 after a clean stop. */
#ifndef GN_NODE_NODE_H
#define GN_NODE_NODE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "ganglion/actor.h"
#include "ganglion/chain_actor.h"
#include "ganglion/metagraph.h"
#include "ganglion/metrics.h"
#include "ganglion/sr25519.h"

typedef struct gn_node gn_node_t;
struct gn_node {
    const gn_config_t *cfg; /* borrowed, outlives the node */
    const char *role;       /* "miner" | "validator" */
    uint16_t netuid;
    char endpoint[512];       /* gn_config_endpoint */
    char state_dir[PATH_MAX]; /* created 0700; default
                                 ~/.ganglion/<wallet.name>/<wallet.hotkey>/netuid<N>/<role> */

    gn_sr25519_keypair_t hotkey; /* wiped by gn_node_close */
    char hotkey_ss58[49];
    char coldkey_ss58[49]; /* from coldkeypub.txt ("" when absent) */

    gn_loop_t *loop;
    gn_topic_t *blocks;    /* GN_MSG_CHAIN_BLOCK */
    gn_topic_t *snapshots; /* GN_MSG_METAGRAPH */
    gn_chain_actor_t *chain_state;
    gn_actor_t *chain;
    gn_metagraph_actor_t *mg_state;
    gn_actor_t *metagraph;
    gn_metrics_t *metrics; /* the loop's actors are exported (gn_loop_metrics_collector) */

    /* set by the role before gn_node_run */
    void (*on_shutdown)(gn_node_t *n, void *arg);
    void *shutdown_arg;

    /* internal */
    void *priv;
};

/* Load the hotkey (wallet.path/name/hotkey; the coldkey's public file
 * only), resolve the endpoint and state dir, start logging, make the loop,
 * topics, metrics, chain actor and metagraph actor (not yet running).
 * Errors are printed for people ("ganglion: miner: ...") and returned. */
int gn_node_open(gn_node_t *n, const char *role, const gn_config_t *cfg);
/* The state dir of `role`: state_dir when set, else
 * ~/.ganglion/<wallet.name>/<wallet.hotkey>/netuid<N>/<role>. GN_EINVAL: no
 * HOME; GN_ERANGE: too long. Nothing is created. */
int gn_node_state_dir(const gn_config_t *c, const char *role, char *out, size_t cap);
/* Serve /metrics and /healthz on metrics.ip:metrics.port (when the role
 * has no axon to serve them); healthy = the role's health callback. */
int gn_node_serve_metrics(gn_node_t *n, bool (*healthy)(void *arg, char *why, size_t cap),
                          void *arg);
/* Run the loop until stopped; 0 after a clean stop. */
int gn_node_run(gn_node_t *n);
/* Stop the loop (from the loop thread or any other): the ordered stop of
 * the actor runtime with a short drain. */
void gn_node_stop(gn_node_t *n);
/* After gn_node_run returned (or instead of it, after a failed open). */
void gn_node_close(gn_node_t *n);

/* A progress line for long waits (first metagraph sync, waiting for a
 * block): on a terminal one line rewritten in place on stderr, else an
 * info log line at most every 5 s. done ends the line. */
void gn_node_progress(gn_node_t *n, const char *what, bool done);

/* Role entry points (node/miner.c, node/validator.c): argv after the role. */
int gn_cmd_miner(int argc, char **argv);
int gn_cmd_validator(int argc, char **argv);

#endif
