/* Test support: a chain client (actors/chain) on a loop of its own, and
 * waiting for its answers, shared by the tests of the chain client and
 * what is built on it. */
#ifndef GN_TEST_CHAIN_CLIENT_H
#define GN_TEST_CHAIN_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "ganglion/chain.h"

/* One answer of a chain operation. */
typedef struct gn_test_res {
    bool done;
    int status;
    json_t *result; /* the caller's to json_decref */
    char err[768];
} gn_test_res_t;

/* A gn_chain_cb filling the gn_test_res_t at arg. */
void gn_test_res_cb(int status, json_t *result, const char *error, void *arg);
/* rc (the operation's own return) must be 0; run the loop until r is
 * answered (120 s at most: a hang fails the test); r->result. */
json_t *gn_test_res_any(uv_loop_t *loop, gn_test_res_t *r, int rc);
/* The same, and the answer must be a success. */
json_t *gn_test_res_ok(uv_loop_t *loop, gn_test_res_t *r, int rc);

typedef struct gn_test_client {
    uv_loop_t loop;
    gn_chain_t *c;
    char url[128];
    int port;
} gn_test_client_t;

/* A client for the chain at f->url (cache_dir may be NULL). */
void gn_test_client_open(gn_test_client_t *f, const char *cache_dir);
/* Start a local chain (support/chain.h), then the client. */
void gn_test_client_start(gn_test_client_t *f, const char *cache_dir);
/* Close the client, check no handle is left, and stop the chain if asked. */
void gn_test_client_close(gn_test_client_t *f, bool stop_chain);

/* A keypair from a development URI ("//Alice"). */
void gn_test_keypair(const char *uri, gn_sr25519_keypair_t *kp);

#endif
