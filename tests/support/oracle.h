/* Test support: the independent oracle (../shared/oracle, installed into
 * build/oracle by `make oracle`), called with one JSON batch per process. */
#ifndef GN_TEST_ORACLE_H
#define GN_TEST_ORACLE_H

#include <jansson.h>

/* Run a batch (a JSON array of {"cmd","args"}) and return the array of
 * answers. Skips the calling test with a message when the oracle or node is
 * missing; fails it when the oracle's output is not the expected array. */
json_t *gn_test_oracle(json_t *batch);

/* {"cmd": cmd, "args": [a, b, ...]} from NULL-terminated string arguments. */
json_t *gn_test_oracle_req(const char *cmd, ...);

#endif
