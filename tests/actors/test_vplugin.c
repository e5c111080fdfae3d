/* The validator's task sources and scorers (actors/vplugin.c): the built-in
 * Dummy, the .so fixtures built from tests/fixtures/vplugin_echo.c, the
 * example worker examples/validator_worker.py (Debian's python3 +
 * python3-msgpack) started here, and a fake worker on the test's loop that
 * answers garbage, wrong counts, errors or nothing. Every callback is
 * checked not to run inside the call that asked for it, and every test
 * ends with an empty loop (ASan's leak check does the rest). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/axon.h"
#include "ganglion/error.h"
#include "ganglion/synapse.h"
#include "ganglion/vplugin.h"
#include "ganglion/wire.h"
#include "support/loop.h"

#define PY       GN_TEST_PY
#define FIXTURES GN_BUILD_DIR "/tests/fixtures/"

/* ---- the loop (support/loop.h) ---- */

/* Close the plugin, run the loop dry, and check nothing is left on it. */
static void close_all(uv_loop_t *loop, gn_vplugin_t *p)
{
    gn_vplugin_close(p);
    gn_test_run_for(loop, 0.05);
    uv_run(loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(loop), 0, "handles left on the loop");
}

/* ---- calls and their answers ---- */

static bool in_call; /* true while gn_vplugin_task / _score runs */

typedef struct {
    bool done, inside;
    int status;
    gn_vtask_t task;
    char err[600];
} task_res_t;

typedef struct {
    bool done, inside;
    int status;
    size_t n;
    double rewards[16];
    char err[600];
} score_res_t;

static void on_task(int status, gn_vtask_t *task, const char *error, void *arg)
{
    task_res_t *r = arg;
    cr_assert(!r->done, "a task callback ran twice");
    r->done = true;
    r->inside = in_call;
    r->status = status;
    if (status == 0) {
        cr_assert_not_null(task);
        r->task = *task; /* moved out */
    } else {
        cr_assert_null(task);
        cr_assert(error && error[0], "a failure without a message");
        snprintf(r->err, sizeof(r->err), "%s", error);
    }
}

static void on_score(int status, const double *rewards, size_t n, const char *error, void *arg)
{
    score_res_t *r = arg;
    cr_assert(!r->done, "a score callback ran twice");
    r->done = true;
    r->inside = in_call;
    r->status = status;
    r->n = n;
    if (status == 0) {
        cr_assert(n <= 16);
        for (size_t i = 0; i < n; i++)
            r->rewards[i] = rewards[i];
    } else {
        cr_assert(error && error[0], "a failure without a message");
        snprintf(r->err, sizeof(r->err), "%s", error);
    }
}

static bool task_done(void *arg)
{
    return ((task_res_t *)arg)->done;
}

static bool score_done(void *arg)
{
    return ((score_res_t *)arg)->done;
}

static int ask_task(gn_vplugin_t *p, uint64_t step, task_res_t *r)
{
    memset(r, 0, sizeof(*r));
    in_call = true;
    int rc = gn_vplugin_task(p, step, on_task, r);
    in_call = false;
    cr_assert(!r->done, "the task callback ran inside gn_vplugin_task");
    return rc;
}

static int ask_score(gn_vplugin_t *p, const gn_vtask_t *t, const json_t *resp, score_res_t *r)
{
    memset(r, 0, sizeof(*r));
    in_call = true;
    int rc = gn_vplugin_score(p, t, resp, on_score, r);
    in_call = false;
    cr_assert(!r->done, "the score callback ran inside gn_vplugin_score");
    return rc;
}

/* A task, waited for. */
static void get_task(uv_loop_t *loop, gn_vplugin_t *p, uint64_t step, task_res_t *r, double secs)
{
    cr_assert_eq(ask_task(p, step, r), 0);
    cr_assert(gn_test_wait_until(loop, task_done, r, secs), "no task within %g s", secs);
    cr_assert(!r->inside);
}

static void get_score(uv_loop_t *loop, gn_vplugin_t *p, const gn_vtask_t *t, const json_t *resp,
                      score_res_t *r, double secs)
{
    cr_assert_eq(ask_score(p, t, resp, r), 0);
    cr_assert(gn_test_wait_until(loop, score_done, r, secs), "no rewards within %g s", secs);
    cr_assert(!r->inside);
}

static gn_vplugin_t *open_ok(uv_loop_t *loop, const char *spec, const char *config)
{
    gn_vplugin_t *p = NULL;
    char err[300];
    int rc = gn_vplugin_open(loop, spec, config, &p, err, sizeof(err));
    cr_assert_eq(rc, 0, "open %s: %s: %s", spec, gn_errname(rc), err);
    cr_assert_not_null(p);
    return p;
}

/* The synapse is a full object of its class, and hashes. */
static void assert_valid_synapse(const gn_vtask_t *t)
{
    cr_assert_not_null(t->cls);
    cr_assert(json_is_object(t->synapse));
    cr_assert_str_eq(json_string_value(json_object_get(t->synapse, "name")), t->cls->name);
    for (size_t i = 0; i < t->cls->n_fields; i++)
        cr_assert_not_null(json_object_get(t->synapse, t->cls->fields[i].name), "field %s missing",
                           t->cls->fields[i].name);
    static const char *const base[] = {"timeout",  "total_size", "header_size",
                                       "dendrite", "axon",       "computed_body_hash"};
    for (size_t i = 0; i < 6; i++)
        cr_assert_not_null(json_object_get(t->synapse, base[i]), "base field %s missing", base[i]);
    char hash[65];
    cr_assert_eq(gn_synapse_body_hash(t->cls, t->synapse, hash), 0);
    cr_assert_eq(strlen(hash), 64);
    json_t *again = NULL;
    cr_assert_eq(gn_synapse_from_json(t->cls, t->synapse, &again), 0, "not a valid %s",
                 t->cls->name);
    json_decref(again);
}

/* A Dummy response as the dendrite gives it. */
static json_t *dummy_resp(json_t *query, int code, json_t *out, json_t *pt, double timeout)
{
    json_t *r = json_deep_copy(query);
    json_object_set_new(r, "dummy_output", out ? out : json_null());
    json_object_set_new(r, "timeout", json_real(timeout));
    json_t *den = json_object_get(r, "dendrite");
    json_object_set_new(den, "status_code", json_integer(code));
    json_object_set_new(den, "process_time", pt ? pt : json_null());
    return r;
}

/* ---- Dummy ---- */

Test(vplugin, dummy_tasks_are_valid_dummy_synapses)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_vplugin_t *p = open_ok(&loop, "Dummy", NULL);
    json_int_t first = -1;
    bool varied = false;
    for (uint64_t step = 0; step < 20; step++) {
        task_res_t r;
        get_task(&loop, p, step, &r, 5);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_eq(r.task.cls, gn_axon_dummy_class(), "the axon's own Dummy class");
        cr_assert_str_eq(r.task.cls->name, "Dummy");
        assert_valid_synapse(&r.task);
        json_t *in = json_object_get(r.task.synapse, "dummy_input");
        cr_assert(json_is_integer(in));
        json_int_t x = json_integer_value(in);
        cr_assert(x >= 0 && x < 1000, "dummy_input %lld", (long long)x);
        cr_assert(json_is_null(json_object_get(r.task.synapse, "dummy_output")));
        cr_assert_eq(json_integer_value(json_object_get(r.task.context, "expected")), 2 * x);
        cr_assert_eq(r.task.timeout_s, 0, "the validator's timeout");
        if (first < 0)
            first = x;
        varied |= x != first;
        gn_vtask_clear(&r.task);
        cr_assert_null(r.task.synapse);
    }
    cr_assert(varied, "20 tasks with the same dummy_input: not random");
    close_all(&loop, p);
}

Test(vplugin, dummy_scorer_prefers_correct_and_fast)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_vplugin_t *p = open_ok(&loop, "Dummy", "null");
    task_res_t t;
    get_task(&loop, p, 1, &t, 5);
    cr_assert_eq(t.status, 0);
    json_int_t x = json_integer_value(json_object_get(t.task.synapse, "dummy_input"));
    json_t *q = t.task.synapse;
    const double timeout = 12.0;
    json_t *resp = json_array();
    json_array_append_new(resp, dummy_resp(q, 200, json_integer(2 * x), json_real(0.6), timeout));
    json_array_append_new(resp, dummy_resp(q, 200, json_integer(2 * x), json_real(9.0), timeout));
    json_array_append_new(
        resp, dummy_resp(q, 200, json_integer(2 * x + 1), json_real(0.1), timeout)); /* wrong */
    json_array_append_new(resp, dummy_resp(q, 408, json_integer(2 * x), json_real(12.0),
                                           timeout)); /* a timeout, right answer or not */
    json_array_append_new(resp, dummy_resp(q, 200, NULL, json_real(0.1), timeout)); /* none */
    json_array_append_new(resp,
                          dummy_resp(q, 200, json_integer(2 * x), json_string("0.6"), timeout));
    json_array_append_new(resp, dummy_resp(q, 200, json_integer(2 * x), json_real(30), timeout));
    json_array_append_new(resp, json_string("not a synapse"));
    score_res_t s;
    get_score(&loop, p, &t.task, resp, &s, 5);
    cr_assert_eq(s.status, 0, "%s", s.err);
    cr_assert_eq(s.n, 8);
    cr_assert_float_eq(s.rewards[0], 1 - 0.5 * 0.6 / timeout, 1e-12);
    cr_assert_float_eq(s.rewards[1], 1 - 0.5 * 9.0 / timeout, 1e-12);
    cr_assert(s.rewards[0] > s.rewards[1], "correct and fast beats correct and slow");
    cr_assert(s.rewards[1] > 0.5);
    cr_assert_eq(s.rewards[2], 0, "a wrong answer");
    cr_assert_eq(s.rewards[3], 0, "a 408");
    cr_assert_eq(s.rewards[4], 0, "no output");
    cr_assert_eq(s.rewards[5], s.rewards[0], "process_time as text");
    cr_assert_eq(s.rewards[6], 0.5, "correct but past the timeout");
    cr_assert_eq(s.rewards[7], 0);
    /* the task's own timeout wins over the response's */
    t.task.timeout_s = 1.2;
    get_score(&loop, p, &t.task, resp, &s, 5);
    cr_assert_float_eq(s.rewards[0], 1 - 0.5 * 0.5, 1e-12);
    cr_assert_eq(s.rewards[1], 0.5);
    /* no responses: no rewards */
    json_t *none = json_array();
    get_score(&loop, p, &t.task, none, &s, 5);
    cr_assert_eq(s.status, 0);
    cr_assert_eq(s.n, 0);
    cr_assert_eq(gn_vplugin_score(p, &t.task, q, on_score, &s), GN_EINVAL, "not an array");
    json_decref(none);
    json_decref(resp);
    gn_vtask_clear(&t.task);
    close_all(&loop, p);
}

Test(vplugin, close_with_answers_pending_calls_nothing)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_vplugin_t *p = open_ok(&loop, "Dummy", NULL);
    task_res_t t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(ask_task(p, (uint64_t)i, &t[i]), 0);
    gn_vtask_t task = {.cls = gn_axon_dummy_class()};
    cr_assert_eq(gn_synapse_new(task.cls, &task.synapse), 0);
    json_t *resp = json_array();
    json_array_append_new(resp, json_object());
    score_res_t s;
    cr_assert_eq(ask_score(p, &task, resp, &s), 0);
    close_all(&loop, p);
    for (int i = 0; i < 3; i++)
        cr_assert(!t[i].done, "a callback after close");
    cr_assert(!s.done, "a callback after close");
    json_decref(resp);
    gn_vtask_clear(&task);
}

typedef struct {
    gn_vplugin_t *p;
    int calls;
} closer_t;

static void close_in_callback(int status, gn_vtask_t *task, const char *error, void *arg)
{
    (void)error;
    closer_t *c = arg;
    c->calls++;
    cr_assert_eq(status, 0);
    gn_vtask_clear(task);
    gn_vplugin_close(c->p); /* the answers after this one are dropped */
}

Test(vplugin, a_callback_may_close_the_plugin)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    closer_t c = {open_ok(&loop, "Dummy", NULL), 0};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(gn_vplugin_task(c.p, (uint64_t)i, close_in_callback, &c), 0);
    gn_test_run_for(&loop, 0.1);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(c.calls, 1, "%d callbacks after the plugin closed in the first", c.calls - 1);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

/* ---- shared objects ---- */

Test(vplugin, so_plugin_tasks_and_scores)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_vplugin_t *p = open_ok(&loop, FIXTURES "vplugin_echo.so", "{}");
    task_res_t t;
    get_task(&loop, p, 7, &t, 5);
    cr_assert_eq(t.status, 0, "%s", t.err);
    cr_assert_str_eq(t.task.cls->name, "Echo");
    assert_valid_synapse(&t.task);
    cr_assert_str_eq(json_string_value(json_object_get(t.task.synapse, "text")), "step-7");
    cr_assert_eq(json_integer_value(json_object_get(t.task.context, "step")), 7);
    cr_assert_eq(t.task.timeout_s, 3.5);
    json_t *resp = json_pack("[{s:s},{s:s},{s:f},{s:f},{s:f},{}]", "echo", "step-7", "echo",
                             "step-8", "reward", 7.5, "reward", -2.0, "reward", 0.25);
    score_res_t s;
    get_score(&loop, p, &t.task, resp, &s, 5);
    cr_assert_eq(s.status, 0, "%s", s.err);
    cr_assert_eq(s.n, 6);
    cr_assert_eq(s.rewards[0], 1, "the echo of the task's text");
    cr_assert_eq(s.rewards[1], 0, "another text");
    cr_assert_eq(s.rewards[2], 1, "7.5 clamped to 1");
    cr_assert_eq(s.rewards[3], 0, "-2 clamped to 0");
    cr_assert_eq(s.rewards[4], 0.25);
    cr_assert_eq(s.rewards[5], 0);
    json_decref(resp);
    gn_vtask_clear(&t.task);
    close_all(&loop, p);
}

static void open_fails(const char *spec, const char *config, int want, const char *needle)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_vplugin_t *p = (gn_vplugin_t *)&loop; /* must be set to NULL */
    char err[400] = "";
    int rc = gn_vplugin_open(&loop, spec, config, &p, err, sizeof(err));
    cr_assert_eq(rc, want, "%s: %s, expected %s (%s)", spec ? spec : "NULL", gn_errname(rc),
                 gn_errname(want), err);
    cr_assert_null(p);
    cr_assert(strstr(err, needle), "%s: the message \"%s\" does not say \"%s\"",
              spec ? spec : "NULL", err, needle);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(vplugin, open_errors_are_clear)
{
    open_fails(FIXTURES "vplugin_missing.so", NULL, GN_ENOENT, "vplugin_missing.so");
    open_fails(FIXTURES "vplugin_abi2.so", NULL, GN_EUNSUPPORTED, "ABI 2");
    open_fails(FIXTURES "vplugin_nosym.so", NULL, GN_EINVAL, GN_VPLUGIN_SYMBOL);
    /* the axon's plugin is no validator plugin */
    open_fails(FIXTURES "plugin_echo.so", NULL, GN_EINVAL, GN_VPLUGIN_SYMBOL);
    open_fails(FIXTURES "vplugin_echo.so", "{\"fail_init\": true}", GN_EINVAL, "init failed");
    char bogus[] = "/tmp/gn-vplugin-XXXXXX";
    int fd = mkstemp(bogus);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "not elf", 7), 7);
    close(fd);
    open_fails(bogus, NULL, GN_EIO, bogus);
    unlink(bogus);
    open_fails("Nope", NULL, GN_ENOENT, "built-in");
    open_fails("", NULL, GN_EINVAL, "no task source");
    open_fails(NULL, NULL, GN_EINVAL, "no task source");
    open_fails("worker:", NULL, GN_EINVAL, "socket path");
    open_fails("worker:/tmp/x.sock", "{\"timeout\": -1}", GN_EINVAL, "timeout");
    open_fails("worker:/tmp/x.sock", "{nope", GN_EINVAL, "not JSON");
}

Test(vplugin, so_plugin_failures_come_through_the_callbacks)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_vplugin_t *p = open_ok(&loop, FIXTURES "vplugin_echo.so", "{\"fail_task\": true}");
    task_res_t t;
    get_task(&loop, p, 1, &t, 5);
    cr_assert_eq(t.status, GN_EIO);
    cr_assert(strstr(t.err, "task failed"), "%s", t.err);
    gn_vplugin_close(p);
    p = open_ok(&loop, FIXTURES "vplugin_echo.so", "{\"bad_synapse\": true}");
    get_task(&loop, p, 1, &t, 5);
    cr_assert_eq(t.status, GN_EINVAL);
    cr_assert(strstr(t.err, "not a valid Echo"), "%s", t.err);
    gn_vplugin_close(p);
    p = open_ok(&loop, FIXTURES "vplugin_echo.so", "{\"fail_score\": true}");
    get_task(&loop, p, 2, &t, 5);
    cr_assert_eq(t.status, 0);
    json_t *resp = json_pack("[{}]");
    score_res_t s;
    get_score(&loop, p, &t.task, resp, &s, 5);
    cr_assert_eq(s.status, GN_ERANGE);
    cr_assert(strstr(s.err, "score failed"), "%s", s.err);
    json_decref(resp);
    gn_vtask_clear(&t.task);
    close_all(&loop, p);
}

/* ---- workers ---- */

static pid_t kid;
static char sock[96];

static void make_sock_path(const char *what)
{
    snprintf(sock, sizeof(sock), "/tmp/gn-vplugin-%s-%d.sock", what, (int)getpid());
    unlink(sock);
}

static void kill_kid(void)
{
    gn_test_kill_reap(&kid);
    if (sock[0])
        unlink(sock);
}

static void need_python(void)
{
    gn_test_need_python_msgpack("the validator worker tests");
}

static void spawn_worker(const char *delay)
{
    char *argv[] = {PY,
                    GN_SOURCE_DIR "/examples/validator_worker.py",
                    sock,
                    "--timeout",
                    "5",
                    "--delay",
                    (char *)delay,
                    NULL};
    gn_test_spawn_py(&kid, argv);
}

/* A task from a worker that may still be starting: GN_ECLOSED until it is. */
static void task_when_ready(uv_loop_t *loop, gn_vplugin_t *p, uint64_t step, task_res_t *r)
{
    uint64_t end = uv_hrtime() + 15 * 1000000000ull;
    for (;;) {
        get_task(loop, p, step, r, 15);
        if (r->status != GN_ECLOSED || uv_hrtime() > end)
            return;
        cr_assert(strstr(r->err, "not ready"), "%s", r->err);
        gn_test_run_for(loop, 0.05);
    }
}

Test(vplugin, python_worker_tasks_and_scores, .timeout = 60, .fini = kill_kid)
{
    need_python();
    make_sock_path("py");
    spawn_worker("0");
    uv_loop_t loop;
    uv_loop_init(&loop);
    char spec[128];
    snprintf(spec, sizeof(spec), "worker:%s", sock);
    gn_vplugin_t *p = open_ok(&loop, spec, "{\"timeout\": 10}");
    gn_vplugin_t *dummy = open_ok(&loop, "Dummy", NULL);
    task_res_t t;
    task_when_ready(&loop, p, 42, &t);
    cr_assert_eq(t.status, 0, "%s", t.err);
    cr_assert_eq(t.task.cls, gn_axon_dummy_class(), "Dummy is built in, not announced");
    assert_valid_synapse(&t.task);
    json_int_t x = json_integer_value(json_object_get(t.task.synapse, "dummy_input"));
    cr_assert(x >= 0 && x < 1000);
    cr_assert_eq(json_integer_value(json_object_get(t.task.context, "expected")), 2 * x);
    cr_assert_eq(json_integer_value(json_object_get(t.task.context, "step")), 42);
    cr_assert_eq(t.task.timeout_s, 5.0);
    cr_assert_eq(json_real_value(json_object_get(t.task.synapse, "timeout")), 5.0);

    /* the worker's rewards are the built-in scorer's */
    json_t *q = t.task.synapse;
    json_t *resp = json_array();
    json_array_append_new(resp, dummy_resp(q, 200, json_integer(2 * x), json_real(0.5), 5.0));
    json_array_append_new(resp, dummy_resp(q, 200, json_integer(2 * x), json_real(4.0), 5.0));
    json_array_append_new(resp, dummy_resp(q, 200, json_integer(2 * x + 2), json_real(0.1), 5.0));
    json_array_append_new(resp, dummy_resp(q, 408, NULL, json_real(5.0), 5.0));
    json_array_append_new(resp, dummy_resp(q, 200, json_integer(2 * x), json_string("1.5"), 5.0));
    score_res_t s, d;
    get_score(&loop, p, &t.task, resp, &s, 15);
    cr_assert_eq(s.status, 0, "%s", s.err);
    get_score(&loop, dummy, &t.task, resp, &d, 5);
    cr_assert_eq(s.n, 5);
    cr_assert_eq(d.n, 5);
    for (size_t i = 0; i < 5; i++)
        cr_assert_float_eq(s.rewards[i], d.rewards[i], 1e-12, "reward %zu: worker %g, Dummy %g", i,
                           s.rewards[i], d.rewards[i]);
    cr_assert(s.rewards[0] > s.rewards[1] && s.rewards[1] > 0 && s.rewards[2] == 0);

    /* calls in flight when the plugin closes: no callbacks, nothing left */
    kill_kid();
    make_sock_path("py");
    spawn_worker("2");
    gn_vplugin_close(p);
    p = open_ok(&loop, spec, NULL);
    gn_vtask_clear(&t.task);
    task_when_ready(&loop, p, 1, &t); /* 2 s */
    cr_assert_eq(t.status, 0, "%s", t.err);
    task_res_t t2;
    cr_assert_eq(ask_task(p, 2, &t2), 0);
    cr_assert_eq(ask_score(p, &t.task, resp, &s), 0);
    gn_test_run_for(&loop, 0.2); /* sent, not answered */
    gn_vplugin_close(dummy);
    close_all(&loop, p);
    cr_assert(!t2.done && !s.done, "a callback after close");
    json_decref(resp);
    gn_vtask_clear(&t.task);
}

Test(vplugin, a_missing_worker_fails_each_call, .timeout = 30, .fini = kill_kid)
{
    make_sock_path("none");
    uv_loop_t loop;
    uv_loop_init(&loop);
    char spec[128];
    snprintf(spec, sizeof(spec), "worker:%s", sock);
    gn_vplugin_t *p = open_ok(&loop, spec, NULL);
    task_res_t t;
    get_task(&loop, p, 1, &t, 5);
    cr_assert_eq(t.status, GN_ECLOSED);
    cr_assert(strstr(t.err, sock), "the message names the socket: %s", t.err);
    gn_vtask_t task = {.cls = gn_axon_dummy_class()};
    cr_assert_eq(gn_synapse_new(task.cls, &task.synapse), 0);
    json_t *resp = json_array();
    score_res_t s;
    get_score(&loop, p, &task, resp, &s, 5);
    cr_assert_eq(s.status, GN_ECLOSED);
    cr_assert(strstr(s.err, "ValidatorScore"), "%s", s.err);
    close_all(&loop, p);
    json_decref(resp);
    gn_vtask_clear(&task);
}

/* ---- a fake worker on the test's loop ---- */

/* ValidatorTask answers by step:
 *   0 a good Dummy task, 1 synapse not a string, 2 a class nobody announced,
 *   3 dummy_input a string, 4 a field the class lacks, 5 an error frame
 *   (503), 6 nothing (the deadline), 7 an announced class (Echo2),
 *   8 fields not a map, 9 timeout a string, 10 the connection closed;
 * ValidatorScore answers by the number of responses:
 *   1 two rewards, 2 a reward that is a string, 3 no rewards key,
 *   4 [0.5, 2, -1, 0.25], 5 nothing. */
typedef struct fake {
    uv_loop_t *loop;
    uv_pipe_t server;
    uv_pipe_t *client;
    bool no_score; /* announce ValidatorTask only */
    int requests;
    uint8_t buf[1 << 16];
    size_t len;
} fake_t;

static void free_write(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void fake_send(fake_t *f, json_t *j)
{
    cr_assert_not_null(j);
    uint8_t *b = NULL;
    size_t len = 0, cap = 0;
    cr_assert_eq(gn_wire_frame(j, &b, &len, &cap), 0);
    json_decref(j);
    if (f->client) {
        uv_write_t *w = malloc(sizeof(*w) + len);
        memcpy(w + 1, b, len);
        uv_buf_t ub = uv_buf_init((char *)(w + 1), (unsigned)len);
        if (uv_write(w, (uv_stream_t *)f->client, &ub, 1, free_write) < 0)
            free(w);
    }
    free(b);
}

static void answer(fake_t *f, json_int_t id, json_t *body)
{
    fake_send(f,
              json_pack("{s:i,s:I,s:s,s:o}", "v", 1, "id", id, "type", "response", "body", body));
}

static void fake_task(fake_t *f, json_int_t id, json_int_t step)
{
    switch (step) {
    case 0:
        answer(f, id,
               json_pack("{s:s,s:{s:i},s:{s:i},s:f}", "synapse", "Dummy", "fields", "dummy_input",
                         21, "context", "expected", 42, "timeout", 2.5));
        break;
    case 1: answer(f, id, json_pack("{s:i}", "synapse", 42)); break;
    case 2: answer(f, id, json_pack("{s:s,s:{}}", "synapse", "Nope", "fields")); break;
    case 3:
        answer(f, id,
               json_pack("{s:s,s:{s:s}}", "synapse", "Dummy", "fields", "dummy_input", "abc"));
        break;
    case 4:
        answer(f, id,
               json_pack("{s:s,s:{s:i,s:i}}", "synapse", "Dummy", "fields", "dummy_input", 1,
                         "extra", 2));
        break;
    case 5:
        fake_send(f, json_pack("{s:i,s:I,s:s,s:i,s:s}", "v", 1, "id", id, "type", "error", "status",
                               503, "message", "busy right now"));
        break;
    case 6: break; /* the deadline */
    case 7:
        answer(
            f, id,
            json_pack("{s:s,s:{s:s},s:n}", "synapse", "Echo2", "fields", "text", "hi", "context"));
        break;
    case 8: answer(f, id, json_pack("{s:s,s:[]}", "synapse", "Dummy", "fields")); break;
    case 10:
        uv_close((uv_handle_t *)f->client, gn_test_free_handle);
        f->client = NULL;
        break;
    default:
        answer(f, id,
               json_pack("{s:s,s:{s:i},s:s}", "synapse", "Dummy", "fields", "dummy_input", 1,
                         "timeout", "soon"));
    }
}

static void fake_score(fake_t *f, json_int_t id, size_t n)
{
    switch (n) {
    case 1: answer(f, id, json_pack("{s:[f,f]}", "rewards", 1.0, 0.5)); break;
    case 2: answer(f, id, json_pack("{s:[s,f]}", "rewards", "x", 0.5)); break;
    case 3: answer(f, id, json_pack("{s:i}", "scores", 3)); break;
    case 4: answer(f, id, json_pack("{s:[f,i,i,f]}", "rewards", 0.5, 2, -1, 0.25)); break;
    default: break; /* the deadline */
    }
}

static void fake_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    fake_t *f = h->data;
    *b = uv_buf_init((char *)f->buf + f->len, (unsigned)(sizeof(f->buf) - f->len));
}

static void fake_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    fake_t *f = s->data;
    if ((uv_pipe_t *)s != f->client)
        return;
    if (n < 0) {
        uv_close((uv_handle_t *)s, gn_test_free_handle);
        f->client = NULL;
        return;
    }
    f->len += (size_t)n;
    size_t off = 0, pl, fl;
    const uint8_t *pp;
    while (f->client &&
           gn_wire_frame_peek(f->buf + off, f->len - off, sizeof(f->buf), &pp, &pl, &fl) == 0) {
        json_t *j = NULL;
        cr_assert_eq(gn_wire_to_json(pp, pl, &j), 0, "the pool wrote a bad frame");
        const char *type = json_string_value(json_object_get(j, "type"));
        if (type && !strcmp(type, "request")) {
            f->requests++;
            json_int_t id = json_integer_value(json_object_get(j, "id"));
            const char *syn = json_string_value(json_object_get(j, "synapse"));
            json_t *body = json_object_get(j, "body");
            if (!strcmp(syn, "ValidatorTask")) {
                cr_assert(json_is_integer(json_object_get(body, "step")), "no step");
                fake_task(f, id, json_integer_value(json_object_get(body, "step")));
            } else {
                cr_assert_str_eq(syn, "ValidatorScore");
                json_t *task = json_object_get(body, "task");
                cr_assert(json_is_string(json_object_get(task, "synapse")));
                cr_assert(json_is_object(json_object_get(task, "query")));
                cr_assert_not_null(json_object_get(task, "context"));
                fake_score(f, id, json_array_size(json_object_get(body, "responses")));
            }
        }
        json_decref(j);
        off += fl;
    }
    memmove(f->buf, f->buf + off, f->len - off);
    f->len -= off;
}

static void fake_conn(uv_stream_t *server, int status)
{
    fake_t *f = server->data;
    cr_assert_eq(status, 0);
    if (f->client)
        uv_close((uv_handle_t *)f->client, gn_test_free_handle);
    f->client = malloc(sizeof(*f->client));
    uv_pipe_init(f->loop, f->client, 0);
    f->client->data = f;
    cr_assert_eq(uv_accept(server, (uv_stream_t *)f->client), 0);
    f->len = 0;
    uv_read_start((uv_stream_t *)f->client, fake_alloc, fake_read);
    json_t *syns = json_pack("[{s:s,s:[{s:s,s:s,s:b}]},{s:s,s:[{s:s,s:s,s:b},{s:s,s:s,s:b}]}]",
                             "name", "ValidatorTask", "fields", "name", "step", "type", "int",
                             "required", 1, "name", "Echo2", "fields", "name", "text", "type",
                             "str", "required", 1, "name", "echo", "type", "str", "nullable", 1);
    if (!f->no_score)
        json_array_append_new(syns, json_pack("{s:s,s:[{s:s,s:s,s:b}]}", "name", "ValidatorScore",
                                              "fields", "name", "responses", "type", "list",
                                              "required", 1));
    fake_send(f, json_pack("{s:i,s:s,s:s,s:o}", "v", 1, "type", "hello", "worker", "fake",
                           "synapses", syns));
}

static void fake_start(uv_loop_t *loop, fake_t *f, bool no_score)
{
    memset(f, 0, sizeof(*f));
    f->loop = loop;
    f->no_score = no_score;
    make_sock_path("fake");
    uv_pipe_init(loop, &f->server, 0);
    f->server.data = f;
    cr_assert_eq(uv_pipe_bind(&f->server, sock), 0);
    cr_assert_eq(uv_listen((uv_stream_t *)&f->server, 8, fake_conn), 0);
}

static void fake_stop(fake_t *f)
{
    if (f->client)
        uv_close((uv_handle_t *)f->client, gn_test_free_handle);
    f->client = NULL;
    uv_close((uv_handle_t *)&f->server, NULL);
}

Test(vplugin, a_worker_answering_garbage_gets_clear_errors, .timeout = 60, .fini = kill_kid)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake_t f;
    fake_start(&loop, &f, false);
    char spec[128];
    snprintf(spec, sizeof(spec), "worker:%s", sock);
    gn_vplugin_t *p = open_ok(&loop, spec, "{\"timeout\": 0.4}");
    task_res_t t;
    task_when_ready(&loop, p, 0, &t);
    cr_assert_eq(t.status, 0, "%s", t.err);
    cr_assert_eq(t.task.cls, gn_axon_dummy_class());
    cr_assert_eq(json_integer_value(json_object_get(t.task.synapse, "dummy_input")), 21);
    cr_assert_eq(t.task.timeout_s, 2.5);
    assert_valid_synapse(&t.task);

    static const struct {
        int status;
        const char *needle;
    } want[] = {
        {0, NULL},
        {GN_EPARSE, "names no synapse"},
        {GN_EPARSE, "neither announced"},
        {GN_EPARSE, "not a valid Dummy"},
        {GN_EPARSE, "no field of Dummy"},
        {GN_EREJECTED, "busy right now"},
        {GN_ETIMEDOUT, "ValidatorTask"},
        {0, NULL},
        {GN_EPARSE, "not a map"},
        {GN_EPARSE, "timeout"},
    };
    for (uint64_t step = 1; step < 10; step++) {
        task_res_t r;
        get_task(&loop, p, step, &r, 10);
        cr_assert_eq(r.status, want[step].status, "step %llu: %s (%s)", (unsigned long long)step,
                     gn_errname(r.status), r.err);
        if (want[step].needle)
            cr_assert(strstr(r.err, want[step].needle), "step %llu: \"%s\" does not say \"%s\"",
                      (unsigned long long)step, r.err, want[step].needle);
        if (step == 7) { /* a class announced in the hello */
            cr_assert_str_eq(r.task.cls->name, "Echo2");
            assert_valid_synapse(&r.task);
            cr_assert_str_eq(json_string_value(json_object_get(r.task.synapse, "text")), "hi");
            cr_assert_null(r.task.context, "a null context is none");
        }
        gn_vtask_clear(&r.task);
    }

    json_t *resp = json_array();
    score_res_t s;
    static const struct {
        int status;
        const char *needle;
    } swant[] = {
        {0, NULL},
        {GN_EPARSE, "2 rewards for 1 responses"},
        {GN_EPARSE, "reward 0 is not a number"},
        {GN_EPARSE, "no rewards list"},
        {0, NULL},
        {GN_ETIMEDOUT, "ValidatorScore"},
    };
    for (size_t n = 1; n <= 5; n++) {
        json_array_append_new(resp, json_object());
        get_score(&loop, p, &t.task, resp, &s, 10);
        cr_assert_eq(s.status, swant[n].status, "%zu responses: %s (%s)", n, gn_errname(s.status),
                     s.err);
        if (swant[n].needle)
            cr_assert(strstr(s.err, swant[n].needle), "%zu: \"%s\" does not say \"%s\"", n, s.err,
                      swant[n].needle);
    }
    /* n 4 gave [0.5, 2, -1, 0.25], clamped */
    json_t *four = json_pack("[{},{},{},{}]");
    get_score(&loop, p, &t.task, four, &s, 10);
    cr_assert_eq(s.status, 0, "%s", s.err);
    cr_assert_eq(s.n, 4);
    cr_assert_eq(s.rewards[0], 0.5);
    cr_assert_eq(s.rewards[1], 1);
    cr_assert_eq(s.rewards[2], 0);
    cr_assert_eq(s.rewards[3], 0.25);
    json_decref(four);
    json_decref(resp);
    gn_vtask_clear(&t.task);
    /* a silent call in flight at close */
    task_res_t silent;
    cr_assert_eq(ask_task(p, 6, &silent), 0);
    gn_test_run_for(&loop, 0.05);
    gn_vplugin_close(p);
    fake_stop(&f);
    gn_test_run_for(&loop, 0.05);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert(!silent.done, "a callback after close");
    cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(vplugin, a_worker_without_validator_score_scores_nothing, .timeout = 30, .fini = kill_kid)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake_t f;
    fake_start(&loop, &f, true);
    char spec[128];
    snprintf(spec, sizeof(spec), "worker:%s", sock);
    gn_vplugin_t *p = open_ok(&loop, spec, NULL);
    task_res_t t;
    task_when_ready(&loop, p, 0, &t);
    cr_assert_eq(t.status, 0, "%s", t.err);
    json_t *resp = json_pack("[{}]");
    score_res_t s;
    cr_assert_eq(ask_score(p, &t.task, resp, &s), GN_EUNSUPPORTED);
    json_decref(resp);
    gn_vtask_clear(&t.task);
    gn_vplugin_close(p);
    fake_stop(&f);
    gn_test_run_for(&loop, 0.05);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert(!s.done);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

typedef struct {
    gn_vplugin_t *p;
    int calls;
    int status;
} closer2_t;

static void close_on_failure(int status, gn_vtask_t *task, const char *error, void *arg)
{
    (void)error;
    closer2_t *c = arg;
    c->calls++;
    c->status = status;
    if (status == 0)
        gn_vtask_clear(task);
    cr_assert(!in_call);
    gn_vplugin_close(c->p);
}

/* The worker goes away with two calls in flight: the pool fails both in
 * one go, and the first callback closes the plugin. */
Test(vplugin, closing_in_a_callback_while_the_worker_fails_its_calls, .timeout = 30,
     .fini = kill_kid)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake_t f;
    fake_start(&loop, &f, false);
    char spec[128];
    snprintf(spec, sizeof(spec), "worker:%s", sock);
    closer2_t c = {open_ok(&loop, spec, NULL), 0, 0};
    task_res_t t;
    task_when_ready(&loop, c.p, 0, &t);
    cr_assert_eq(t.status, 0, "%s", t.err);
    gn_vtask_clear(&t.task);
    in_call = true;
    cr_assert_eq(gn_vplugin_task(c.p, 6, close_on_failure, &c), 0);  /* silent */
    cr_assert_eq(gn_vplugin_task(c.p, 10, close_on_failure, &c), 0); /* hangs up */
    in_call = false;
    uint64_t end = uv_hrtime() + 10 * 1000000000ull;
    while (!c.calls && uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
    cr_assert_eq(c.calls, 1);
    cr_assert_eq(c.status, GN_ECLOSED, "%s", gn_errname(c.status));
    fake_stop(&f);
    gn_test_run_for(&loop, 0.05);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(c.calls, 1, "a callback after close");
    cr_assert_eq(uv_loop_close(&loop), 0);
}
