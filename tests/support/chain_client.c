#include "support/chain_client.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/suri.h"
#include "support/chain.h"

void gn_test_res_cb(int status, json_t *result, const char *error, void *arg)
{
    gn_test_res_t *r = arg;
    r->done = true;
    r->status = status;
    r->result = result;
    snprintf(r->err, sizeof(r->err), "%s", error ? error : "");
}

json_t *gn_test_res_any(uv_loop_t *loop, gn_test_res_t *r, int rc)
{
    cr_assert_eq(rc, 0, "the call was refused: %s", gn_strerror(rc));
    uint64_t t0 = uv_hrtime();
    while (!r->done && uv_hrtime() - t0 < 120ull * 1000000000)
        uv_run(loop, UV_RUN_ONCE);
    cr_assert(r->done, "no answer within 120 s");
    return r->result;
}

json_t *gn_test_res_ok(uv_loop_t *loop, gn_test_res_t *r, int rc)
{
    gn_test_res_any(loop, r, rc);
    cr_assert_eq(r->status, 0, "failed: %s", r->err);
    return r->result;
}

void gn_test_client_open(gn_test_client_t *f, const char *cache_dir)
{
    uv_loop_init(&f->loop);
    gn_chain_opts_t o = {.url = f->url, .cache_dir = cache_dir, .timeout_ms = 60000};
    cr_assert_eq(gn_chain_open(&f->loop, &o, &f->c), 0);
}

void gn_test_client_start(gn_test_client_t *f, const char *cache_dir)
{
    gn_test_chain_start(f->url, sizeof(f->url), &f->port);
    gn_test_client_open(f, cache_dir);
}

void gn_test_client_close(gn_test_client_t *f, bool stop_chain)
{
    gn_chain_close(f->c);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    gn_chain_release(f->c);
    cr_assert_eq(uv_loop_close(&f->loop), 0, "no handles left");
    if (stop_chain)
        gn_test_chain_stop(f->port);
}

void gn_test_keypair(const char *uri, gn_sr25519_keypair_t *kp)
{
    uint8_t rnd[32] = {0}, mini[32];
    bool has_mini;
    cr_assert_eq(gn_suri_keypair(uri, strlen(uri), rnd, kp, mini, &has_mini), 0);
}
