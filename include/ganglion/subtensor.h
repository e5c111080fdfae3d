/* Bittensor reads on top of the Substrate client (include/ganglion/chain.h):
 * what the SDK's AsyncSubtensor answers, as JSON, in rao. Each takes `at`
 * (a block hash, NULL for the best block) and answers once through its
 * gn_chain_cb, like every chain operation. Everything is read through the
 * runtime's metadata and runtime APIs. */
#ifndef GANGLION_SUBTENSOR_H
#define GANGLION_SUBTENSOR_H

#include "ganglion/chain.h"

/* {"netuids": [...ascending], "total": N, "at"}: the subnets that exist
 * (NetworksAdded). */
int gn_subtensor_subnets(gn_chain_t *c, const char *at, gn_chain_cb cb, void *arg);
/* {"netuid", "exists", and when it exists "tempo", "blocks_since_last_step",
 * "neurons", "max_neurons", "owner"} in one read. */
int gn_subtensor_subnet(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb, void *arg);
/* The subnet's hyperparameters: SubnetInfoRuntimeApi.get_subnet_hyperparams_v2
 * where the runtime has it, then get_subnet_hyperparams, then storage;
 * "source" says which ("runtime_api_v2", "runtime_api", "storage"). null:
 * no such subnet. Field names and units are the runtime API's. */
int gn_subtensor_hyperparams(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb,
                             void *arg);
/* The same read from storage alone (what a runtime without the API gets):
 * the fields whose storage item the runtime has. */
int gn_subtensor_hyperparams_storage(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb,
                                     void *arg);
/* {"uid": N or null, "registered": bool} of a hotkey (SS58) on a subnet. */
int gn_subtensor_uid(gn_chain_t *c, uint16_t netuid, const char *hotkey, const char *at,
                     gn_chain_cb cb, void *arg);
/* StakeInfoRuntimeApi: a coldkey's stakes on every hotkey and subnet
 * (hotkey NULL: get_stake_info_for_coldkey, an array), or one
 * hotkey/coldkey/netuid stake (an object, null when none). Stakes are
 * rao of the subnet's alpha. */
int gn_subtensor_stake(gn_chain_t *c, const char *coldkey, const char *hotkey, uint16_t netuid,
                       const char *at, gn_chain_cb cb, void *arg);
/* The neurons of a subnet from NeuronInfoRuntimeApi (lite: without weights
 * and bonds); each axon_info gains "ip_text" (spec §7.3). */
int gn_subtensor_neurons(gn_chain_t *c, uint16_t netuid, bool lite, const char *at, gn_chain_cb cb,
                         void *arg);
/* Every subnet's neurons read at one block (the best block when at is
 * NULL): {"at": hash, "subnets": {"<netuid>": [neurons...]}}, with at most
 * `concurrency` runtime calls in flight (0: 16; 1: one after another).
 * The first failure fails the whole read once the calls in flight end. */
int gn_subtensor_all_neurons(gn_chain_t *c, bool lite, unsigned concurrency, const char *at,
                             gn_chain_cb cb, void *arg);
/* Add "ip_text" to each neuron's axon_info (a JSON array of neurons). */
void gn_subtensor_add_ip_text(json_t *neurons);
/* SubnetInfoRuntimeApi.get_metagraph(netuid) (null: no such subnet). */
int gn_subtensor_metagraph(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb,
                           void *arg);
/* {"<ss58>": free rao, ...} for many accounts in one read; addresses is
 * a JSON array of SS58 strings. */
int gn_subtensor_balances(gn_chain_t *c, const json_t *addresses, const char *at, gn_chain_cb cb,
                          void *arg);

/* An integer that JSON carries as a number or as decimal text (u128). */
int gn_subtensor_u128(const json_t *j, gn_u128_t *v);
/* Add "ip_text" to one axon_info object (spec §7.3). */
void gn_subtensor_axon_ip_text(json_t *axon);

#endif
