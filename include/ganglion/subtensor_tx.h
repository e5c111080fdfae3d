/* Bittensor writes on top of the Substrate client: signed extrinsics that
 * answer once through their gn_chain_cb with the receipt
 * (include/ganglion/chain.h) or the decoded error. Each reads the chain
 * first, so nothing is paid for a call the chain would refuse or that
 * changes nothing. */
#ifndef GANGLION_SUBTENSOR_TX_H
#define GANGLION_SUBTENSOR_TX_H

#include "ganglion/chain.h"

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
