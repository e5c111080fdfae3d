/* Bittensor reads on top of the Substrate client (include/ganglion/chain.h):
 * what the SDK's AsyncSubtensor answers, as JSON, in rao. Each takes `at`
 * (a block hash, NULL for the best block) and answers once through its
 * gn_chain_cb, like every chain operation. Everything is read through the
 * runtime's metadata and runtime APIs. */
#ifndef GANGLION_SUBTENSOR_H
#define GANGLION_SUBTENSOR_H

#include "ganglion/chain.h"

/* {"netuids": [...]}: the subnets that exist (NetworksAdded). */
int gn_subtensor_subnets(gn_chain_t *c, const char *at, gn_chain_cb cb, void *arg);
/* The neurons of a subnet from NeuronInfoRuntimeApi (lite: without weights
 * and bonds); each axon_info gains "ip_text" (spec §7.3). */
int gn_subtensor_neurons(gn_chain_t *c, uint16_t netuid, bool lite, const char *at, gn_chain_cb cb,
                         void *arg);
/* Add "ip_text" to each neuron's axon_info (a JSON array of neurons). */
void gn_subtensor_add_ip_text(json_t *neurons);
/* SubnetInfoRuntimeApi.get_metagraph(netuid) (null: no such subnet). */
int gn_subtensor_metagraph(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb,
                           void *arg);
/* {"<ss58>": free rao, ...} for many accounts in one read; addresses is
 * a JSON array of SS58 strings. */
int gn_subtensor_balances(gn_chain_t *c, const json_t *addresses, const char *at, gn_chain_cb cb,
                          void *arg);

/* The SDK's default version key: its own version_as_int (10.2.0). */
#define GN_SUBTENSOR_VERSION_KEY 10002000u

/* Set weights from a validator hotkey: scores become u16 weights as the
 * SDK makes them (include/ganglion/weights.h); then the subnet's limits are
 * read at the best block and checked first: the hotkey must be
 * registered, commit-reveal off, at least MinAllowedWeights weights, a
 * version key >= WeightsVersionKey, and WeightsSetRateLimit blocks since
 * the uid's LastUpdate. A refusal names the limit (GN_ENOENT, GN_ERANGE,
 * GN_EUNSUPPORTED with the text); otherwise the receipt of set_weights.
 * All-zero scores are GN_EINVAL (nothing to set). */
int gn_subtensor_set_weights(gn_chain_t *c, const gn_sr25519_keypair_t *hotkey, uint16_t netuid,
                             const uint64_t *uids, const double *scores, size_t n,
                             uint64_t version_key, gn_wait_t wait, gn_chain_cb cb, void *arg);

/* burned_register of `hotkey` (SS58) on a subnet, paid by the coldkey;
 * when the hotkey already has a uid there, {"already": true, "uid"} and
 * nothing is submitted. */
int gn_subtensor_register(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey, uint16_t netuid,
                          const char *hotkey, gn_wait_t wait, gn_chain_cb cb, void *arg);
/* serve_axon signed by the hotkey (spec 7.2: protocol 4, placeholders 0),
 * unless the chain already holds exactly this axon: then
 * {"unchanged": true, "axon"} and nothing is submitted. ip is IPv4 or
 * IPv6 text. */
int gn_subtensor_serve_axon(gn_chain_t *c, const gn_sr25519_keypair_t *hotkey, uint16_t netuid,
                            const char *ip, uint16_t port, uint32_t version, gn_wait_t wait,
                            gn_chain_cb cb, void *arg);

#endif
