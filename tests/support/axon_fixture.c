#include "support/axon_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

#include "support/chain_client.h"

static void done(void *arg)
{
    gn_test_axon_t *f = arg;
    uv_close((uv_handle_t *)&f->stop, NULL);
}

static void stop_cb(uv_async_t *a)
{
    gn_test_axon_t *f = a->data;
    gn_axon_stop(f->ax, done, f);
}

static void run(void *arg)
{
    gn_test_axon_t *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
}

void gn_test_axon_start(gn_test_axon_t *f, gn_axon_opts_t *o, void (*attach)(gn_axon_t *, void *),
                        void *arg)
{
    static gn_sr25519_keypair_t bob; /* the axon copies it */
    memset(f, 0, sizeof(*f));
    cr_assert_eq(uv_loop_init(&f->loop), 0);
    if (!o->hotkey) {
        gn_test_keypair("//Bob", &bob);
        o->hotkey = &bob;
    }
    if (!o->ip)
        o->ip = "127.0.0.1";
    cr_assert_eq(gn_axon_start(&f->loop, o, &f->ax), 0);
    if (attach)
        attach(f->ax, arg);
    else
        cr_assert_eq(gn_axon_attach_builtins(f->ax), 0);
    f->port = gn_axon_port(f->ax);
    cr_assert_gt(f->port, 0);
    uv_async_init(&f->loop, &f->stop, stop_cb);
    f->stop.data = f;
    cr_assert_eq(uv_thread_create(&f->th, run, f), 0);
}

void gn_test_axon_stop(gn_test_axon_t *f)
{
    uv_async_send(&f->stop);
    uv_thread_join(&f->th);
    cr_assert_eq(uv_loop_close(&f->loop), 0, "every axon handle closed");
}
