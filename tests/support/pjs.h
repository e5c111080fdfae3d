/* Test support: polkadot-js (@polkadot/api, from the local chain's
 * node_modules) reading a running chain: the independent check of the
 * chain client. See tests/fixtures/pjs-chain.mjs for the requests. */
#ifndef GN_TEST_PJS_H
#define GN_TEST_PJS_H

#include <jansson.h>

/* One answer per request (an array). Skips the test when @polkadot/api or
 * Node is missing; fails it when the script fails. */
json_t *gn_test_pjs(const char *url, json_t *requests);

/* One request's answer (a new reference); args is stolen. */
json_t *gn_test_pjs1(const char *url, const char *op, const char *section, const char *method,
                     json_t *args);

#endif
