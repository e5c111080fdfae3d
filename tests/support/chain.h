/* Test support: the local subtensor chain (build/chain, installed by the
 * chain-metadata fixture step), started on a free port and stopped. */
#ifndef GN_TEST_CHAIN_H
#define GN_TEST_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

/* Start it; *url gets ws://127.0.0.1:PORT. Skips the test with a message
 * when the chain is not installed. */
void gn_test_chain_start(char *url, size_t cap, int *port);
/* The same on a given port (to restart a stopped chain where its clients
 * look for it: its state starts afresh). */
void gn_test_chain_start_on(int port, char *url, size_t cap);
void gn_test_chain_stop(int port);
/* A subnet with n neurons serving axons (the chain's own seed.mjs; a
 * failed seed is retried once on the chain restarted fresh on its port);
 * validator: hk1 also staked, permitted and setting weights. */
void gn_test_chain_seed(const char *url, int n, bool validator);

/* Subnet 2 made with ganglion's own CLI (sudo by //Alice, subnet create,
 * burned registrations, start_call, stake add, chopsticks' dev_newBlock):
 * //Alice//hk0 is uid 0 and //Alice//hk1..n are registered; serve_axon is
 * allowed at any block and registrations are not rate limited. With
 * validator, hk1 is staked 100 TAO, an epoch has run (a validator permit)
 * and the weights rate limit is 0. env: gn_test_run's environment words
 * (e.g. a metadata cache directory). seed.mjs does the same with
 * polkadot-js but loses extrinsics on a loaded machine. */
void gn_test_chain_subnet(const char *url, int n, bool validator, const char *env);
/* n empty blocks (dev_newBlock). */
void gn_test_chain_new_blocks(const char *url, long long n);

#endif
