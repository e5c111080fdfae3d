/* Test support: a ganglion axon served on a loop thread of its own, for
 * the tests of the axon and of the clients that query it. */
#ifndef GN_TEST_AXON_FIXTURE_H
#define GN_TEST_AXON_FIXTURE_H
#include <uv.h>

#include "ganglion/axon.h"

typedef struct gn_test_axon {
    uv_loop_t loop;
    uv_thread_t th;
    uv_async_t stop;
    gn_axon_t *ax;
    int port;
} gn_test_axon_t;

/* Start an axon with options o (hotkey NULL: //Bob; ip NULL: 127.0.0.1),
 * let attach(ax, arg) attach its handlers and settings (NULL: the
 * built-in synapses), then serve on a new thread. */
void gn_test_axon_start(gn_test_axon_t *f, gn_axon_opts_t *o, void (*attach)(gn_axon_t *, void *),
                        void *arg);
/* Stop it, join the thread and check every handle closed. */
void gn_test_axon_stop(gn_test_axon_t *f);
#endif
