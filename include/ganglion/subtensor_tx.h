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

/* A pool rejection (GN_EREJECTED) of any write here names Subtensor's
 * custom code when it carries one: the node's text, then
 * " (custom N: Name: what it means)" (include/ganglion/subtensor_errors.h).
 * Amounts are rao (1 TAO = 1e9 rao). */

/* Transfer `amount` rao from the coldkey to `dest` (SS58), as the SDK's
 * transfer does: Balances.transfer_keep_alive when keep_alive (the sender
 * keeps at least the existential deposit), else transfer_allow_death.
 * Read first: the sender's free balance must cover amount + the fee
 * estimate (TransactionPaymentApi) + the existential deposit when kept
 * alive, and the destination must end with at least the existential
 * deposit; else GN_ERANGE naming the numbers. GN_EINVAL: dest is no
 * address. The receipt carries "fee" (what was paid). */
int gn_subtensor_transfer(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey, const char *dest,
                          uint64_t amount, bool keep_alive, gn_wait_t wait, gn_chain_cb cb,
                          void *arg);

/* SubtensorModule.add_stake: stake `amount` rao of the coldkey's free TAO
 * on `hotkey` (SS58) in subnet netuid (it buys the subnet's alpha at the
 * pool price). Read first: the subnet exists (GN_ENOENT), the hotkey has an
 * owner (GN_ENOENT), the subnet has started (GN_EUNSUPPORTED), and free
 * balance >= amount + fee (GN_ERANGE with both). GN_EINVAL: amount 0 or a
 * bad address. Amounts below the runtime's minimum (0.002 TAO plus the
 * swap fee) are refused by the pool (custom 1, StakeAmountTooLow). */
int gn_subtensor_add_stake(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey, const char *hotkey,
                           uint16_t netuid, uint64_t amount, gn_wait_t wait, gn_chain_cb cb,
                           void *arg);
/* SubtensorModule.remove_stake: unstake `amount` of the subnet's alpha (in
 * its rao units, the stake as StakeInfoRuntimeApi reports it) from
 * `hotkey`; the TAO it sells for returns to the coldkey's free balance.
 * Read first: the subnet and the hotkey exist (GN_ENOENT), and the stake
 * of this coldkey on this hotkey and subnet
 * (StakeInfoRuntimeApi.get_stake_info_for_hotkey_coldkey_netuid) is at
 * least amount, else GN_ERANGE naming the stake. */
int gn_subtensor_remove_stake(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey,
                              const char *hotkey, uint16_t netuid, uint64_t amount, gn_wait_t wait,
                              gn_chain_cb cb, void *arg);

/* Commit-reveal weights, the hash kind (commit_weights, then
 * reveal_weights with the same weights, salt and version key once the
 * reveal epoch comes). Scores become u16 weights as in set_weights; the
 * hash is the SDK's (include/ganglion/weights.h); salt: at least one u16
 * (GN_EINVAL otherwise, or for all-zero scores).
 *
 * commit: read first at the best block: commit-reveal must be on for the
 * subnet (GN_EUNSUPPORTED: use set_weights), the hotkey registered
 * (GN_ENOENT), MinAllowedWeights and WeightsVersionKey met (GN_ERANGE: the
 * reveal would be refused), WeightsSetRateLimit blocks since the uid's
 * LastUpdate, fewer than 10 unexpired commits (GN_ERANGE). The receipt
 * gains "commit_hash", "uids", "values", "salt", "version_key" and, once
 * in a block, "reveal_from_block" / "reveal_until_block": the epoch
 * RevealPeriodEpochs after the commit's, when the reveal must land. */
int gn_subtensor_commit_weights(gn_chain_t *c, const gn_sr25519_keypair_t *hotkey, uint16_t netuid,
                                const uint64_t *uids, const double *scores, size_t n,
                                const uint16_t *salt, size_t n_salt, uint64_t version_key,
                                gn_wait_t wait, gn_chain_cb cb, void *arg);
/* reveal: commit-reveal on (GN_EUNSUPPORTED), hotkey registered, a commit
 * of the hotkey whose hash equals these weights' (GN_ENOENT: none, or none
 * matching), and the next block inside that commit's reveal epoch
 * (GN_ERANGE: too early, with the blocks to wait, or expired). The chain
 * then sets the weights as set_weights would (validator permit...). */
int gn_subtensor_reveal_weights(gn_chain_t *c, const gn_sr25519_keypair_t *hotkey, uint16_t netuid,
                                const uint64_t *uids, const double *scores, size_t n,
                                const uint16_t *salt, size_t n_salt, uint64_t version_key,
                                gn_wait_t wait, gn_chain_cb cb, void *arg);

/* SubtensorModule.register_network: a new subnet owned by the coldkey, with
 * `hotkey` (SS58) as its owner hotkey. Read first: the hotkey is new or the
 * coldkey's (GN_EEXIST), NetworkRateLimit blocks since
 * NetworkLastRegistered (GN_ERANGE with the wait), free balance >= the
 * lock cost (SubnetRegistrationRuntimeApi; GN_ERANGE). The receipt gains
 * "netuid" (from the NetworkAdded event; absent with GN_WAIT_NONE). */
int gn_subtensor_register_network(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey,
                                  const char *hotkey, gn_wait_t wait, gn_chain_cb cb, void *arg);

#endif
