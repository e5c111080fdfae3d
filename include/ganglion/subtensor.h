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
/* SubnetInfoRuntimeApi.get_metagraph(netuid) (null: no such subnet). */
int gn_subtensor_metagraph(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb,
                           void *arg);
/* {"<ss58>": free rao, ...} for many accounts in one read; addresses is
 * a JSON array of SS58 strings. */
int gn_subtensor_balances(gn_chain_t *c, const json_t *addresses, const char *at, gn_chain_cb cb,
                          void *arg);

#endif
