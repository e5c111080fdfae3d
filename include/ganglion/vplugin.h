/* The validator's task source and scorer, plugged in the way synapse
 * handlers are (docs/validator.md):
 *
 *   "Dummy"            built in: Dummy synapses with a random dummy_input,
 *                      scored by correctness (dummy_output == 2 x input) and
 *                      latency (reward = 1 - 0.5 x process_time / timeout
 *                      when correct, 0 otherwise)
 *   "path/to/x.so"     in process: a shared object exporting
 *                      gn_validator_plugin_v1 (below), loaded RTLD_NOW
 *   "worker:/path.sock" out of process: a worker speaking the worker
 *                      protocol (include/ganglion/worker.h,
 *                      docs/workers.md) that announces the pseudo-synapses
 *                      "ValidatorTask" and/or "ValidatorScore" and the
 *                      class of the synapse its tasks query
 *
 * The validator asks for one task per step, queries the miners with it,
 * then has the scorer turn the responses into rewards in [0, 1]. Both
 * answer through callbacks on the loop thread: at once for built-ins and
 * .so plugins (but never from inside the call), when the worker answers
 * for workers. */
#ifndef GANGLION_VPLUGIN_H
#define GANGLION_VPLUGIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/synapse.h"

typedef struct gn_vtask {
    const gn_syn_class_t *cls; /* the class queried; valid while its source is open */
    json_t *synapse;           /* the query: a synapse object of cls (owned) */
    json_t *context;           /* for the scorer (e.g. the expected answer); owned, may be NULL */
    double timeout_s;          /* 0: the validator's validator.timeout */
} gn_vtask_t;

/* Free what a task owns (not the struct). */
void gn_vtask_clear(gn_vtask_t *t);

/* status 0: *task is the caller's to keep (moved out; clear it when done);
 * else error says why for people. */
typedef void (*gn_vtask_cb)(int status, gn_vtask_t *task, const char *error, void *arg);
/* status 0: rewards holds n values in [0, 1] (borrowed for the call). */
typedef void (*gn_vscore_cb)(int status, const double *rewards, size_t n, const char *error,
                             void *arg);

typedef struct gn_vplugin gn_vplugin_t;

/* Open a task source / scorer by spec (above). config_json: the plugin's
 * config ("null" when none). Errors with a message in err: GN_ENOENT (no
 * such built-in or file), GN_EIO (dlopen), GN_EINVAL (malformed spec or
 * table), GN_EUNSUPPORTED (ABI). A worker that is not there yet is not an
 * error: calls fail with GN_ECLOSED until it is. */
int gn_vplugin_open(uv_loop_t *loop, const char *spec, const char *config_json, gn_vplugin_t **out,
                    char *err, size_t err_cap);
/* The task of step `step`. GN_EUNSUPPORTED: this plugin makes no tasks. */
int gn_vplugin_task(gn_vplugin_t *p, uint64_t step, gn_vtask_cb cb, void *arg);
/* Rewards for `responses`: a JSON array of the dendrite's result synapses
 * (outputs, dendrite.status_code, dendrite.process_time), one per miner
 * queried, in order. GN_EUNSUPPORTED: this plugin scores nothing. */
int gn_vplugin_score(gn_vplugin_t *p, const gn_vtask_t *task, const json_t *responses,
                     gn_vscore_cb cb, void *arg);
/* Pending callbacks are not called after close. */
void gn_vplugin_close(gn_vplugin_t *p);

/* ---- the shared-object ABI ----
 *   const gn_validator_plugin_v1_t gn_validator_plugin_v1 = {
 *       .abi = GN_VPLUGIN_ABI, .name = "mine", .task = my_task, .score = my_score};
 * built -fPIC -shared with ganglion's and jansson's symbols left to the
 * executable (-rdynamic). Either function may be NULL. */
#define GN_VPLUGIN_ABI    1
#define GN_VPLUGIN_SYMBOL "gn_validator_plugin_v1"
typedef struct gn_validator_plugin_v1 {
    uint32_t abi;
    const char *name;
    int (*init)(const char *config_json, void **state); /* optional */
    void (*fini)(void *state);                          /* optional */
    /* fill *out (cls must stay valid while loaded); 0 or GN_E* */
    int (*task)(void *state, uint64_t step, gn_vtask_t *out);
    /* rewards: n values in [0, 1] for the n responses; 0 or GN_E* */
    int (*score)(void *state, const gn_vtask_t *task, const json_t *responses, size_t n,
                 double *rewards);
} gn_validator_plugin_v1_t;

#endif
