/* The WebSocket client against the real local chain. */
#define _GNU_SOURCE /* unshare */
#include <criterion/criterion.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/jsonrpc.h"
#include "ganglion/ws.h"
#include "support/chain.h"

typedef struct {
    int opened, closed, close_err, answers;
    char number[64];
} ws_state_t;

static void on_open(gn_ws_t *ws, void *arg)
{
    ws_state_t *s = arg;
    s->opened++;
    char *req;
    size_t n;
    cr_assert_eq(gn_jsonrpc_request(1, "chain_getHeader", NULL, &req, &n), 0);
    cr_assert_eq(gn_ws_send(ws, req, n), 0);
    free(req);
}

static void on_rpc(const gn_rpc_msg_t *m, void *arg)
{
    ws_state_t *s = arg;
    cr_assert_eq(m->kind, GN_RPC_RESULT);
    cr_assert_eq(m->id, 1);
    snprintf(s->number, sizeof(s->number), "%s",
             json_string_value(json_object_get(m->result, "number")));
    s->answers++;
}

static void on_message(gn_ws_t *ws, const char *text, size_t len, void *arg)
{
    cr_assert_eq(gn_jsonrpc_parse(text, len, on_rpc, arg), 1, "%.200s", text);
    gn_ws_close(ws);
}

static void on_close(gn_ws_t *ws, int err, void *arg)
{
    (void)ws;
    ws_state_t *s = arg;
    s->closed++;
    s->close_err = err;
}

Test(ws, json_rpc_round_trip_with_the_chain, .timeout = 120)
{
    char url[128];
    int port;
    gn_test_chain_start(url, sizeof(url), &port);
    uv_loop_t loop;
    uv_loop_init(&loop);
    ws_state_t s = {0};
    gn_ws_callbacks_t cb = {on_open, on_message, on_close, &s};
    gn_ws_t *ws;
    cr_assert_eq(gn_ws_connect(&loop, url, &cb, &ws), 0);
    uint64_t t0 = uv_hrtime();
    while (!s.closed && uv_hrtime() - t0 < 30ull * 1000000000)
        uv_run(&loop, UV_RUN_ONCE);
    gn_ws_free(ws);
    uv_run(&loop, UV_RUN_DEFAULT); /* lws closes its handles */
    gn_ws_release(ws);
    int rc = uv_loop_close(&loop);
    gn_test_chain_stop(port);
    cr_assert_eq(s.opened, 1);
    cr_assert_eq(s.answers, 1);
    cr_assert(strncmp(s.number, "0x", 2) == 0, "block number %s", s.number);
    cr_assert_eq(s.closed, 1, "on_close exactly once");
    cr_assert_eq(s.close_err, 0, "a close we asked for");
    cr_assert_eq(rc, 0, "no handles left on the loop");
}

Test(ws, nothing_listening_is_an_error_not_a_hang, .timeout = 60)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ws_state_t s = {0};
    gn_ws_callbacks_t cb = {on_open, on_message, on_close, &s};
    gn_ws_t *ws;
    cr_assert_eq(gn_ws_connect(&loop, "ws://127.0.0.1:1", &cb, &ws), 0);
    uint64_t t0 = uv_hrtime();
    while (!s.closed && uv_hrtime() - t0 < 20ull * 1000000000)
        uv_run(&loop, UV_RUN_ONCE);
    gn_ws_free(ws);
    uv_run(&loop, UV_RUN_DEFAULT);
    gn_ws_release(ws);
    cr_assert_eq(uv_loop_close(&loop), 0);
    cr_assert_eq(s.opened, 0);
    cr_assert_eq(s.closed, 1);
    cr_assert_neq(s.close_err, 0);
    gn_ws_t *bad;
    cr_assert_eq(gn_ws_connect(&loop, "http://x", &cb, &bad), GN_EINVAL);
}

/* A context libwebsockets cannot make: without /dev/urandom (a bare
 * chroot) lws 4.1 used to crash inside lws_create_context (its cleanup ran
 * uv_run on a loop it had not attached yet). Provoked in a child with its
 * own mount namespace, /dev hidden under an empty tmpfs. */
Test(ws, no_random_device_is_a_clean_error, .timeout = 60)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount("none", "/dev", "tmpfs", 0, NULL) != 0)
            _exit(77); /* no mount namespaces here (not root, or no CAP_SYS_ADMIN) */
        if (access("/dev/urandom", F_OK) == 0)
            _exit(78);
        uv_loop_t loop;
        uv_loop_init(&loop);
        ws_state_t s = {0};
        gn_ws_callbacks_t cb = {on_open, on_message, on_close, &s};
        gn_ws_t *ws = NULL;
        int rc = gn_ws_connect(&loop, "ws://127.0.0.1:1", &cb, &ws);
        int loop_rc = uv_loop_close(&loop);
        /* 0: refused with GN_EIO, nothing made, nothing reported, no handle left */
        _exit(rc == GN_EIO && !ws && !s.closed && loop_rc == 0 ? 0 : 1);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "the child died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    if (WEXITSTATUS(st) == 77)
        cr_skip("cannot hide /dev/urandom: unshare(CLONE_NEWNS)/mount not permitted here");
    cr_assert_neq(WEXITSTATUS(st), 78, "/dev/urandom still visible under the tmpfs");
    cr_assert_eq(WEXITSTATUS(st), 0, "gn_ws_connect did not refuse with GN_EIO");
}
