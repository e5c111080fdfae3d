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

#endif
