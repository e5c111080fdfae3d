/* External synapse workers (actors/worker.c): the pool against two Python
 * example workers (examples/worker.py, Debian's python3 + python3-msgpack)
 * started here, and against small fakes on the test's own loop (late
 * answers, garbage, streams); the axon adapter behind a real axon, spoken
 * to over HTTP with signed requests. Plugins (actors/plugin.c) with the
 * fixtures built from tests/fixtures/plugin_echo.c, alone and in an axon. */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ganglion/axon.h"
#include "ganglion/error.h"
#include "ganglion/plugin.h"
#include "ganglion/sr25519.h"
#include "ganglion/synapse.h"
#include "ganglion/wire.h"
#include "ganglion/worker.h"
#include "support/loop.h"
#include "support/chain_client.h"
#include "support/rawhttp.h"

#define PY GN_TEST_PY

/* ---- the loop (support/loop.h) ---- */

typedef struct {
    gn_worker_pool_t *pool;
    size_t worker; /* SIZE_MAX: every worker */
} ready_t;

static bool is_ready(void *arg)
{
    ready_t *r = arg;
    gn_worker_stats_t s;
    if (r->worker != SIZE_MAX) {
        gn_worker_pool_stats(r->pool, r->worker, &s);
        return s.ready;
    }
    for (size_t i = 0; i < gn_worker_pool_size(r->pool); i++) {
        gn_worker_pool_stats(r->pool, i, &s);
        if (!s.ready)
            return false;
    }
    return true;
}

static void wait_ready(uv_loop_t *loop, gn_worker_pool_t *pool, size_t worker)
{
    ready_t r = {pool, worker};
    cr_assert(gn_test_wait_until(loop, is_ready, &r, 15), "worker %zu never became ready",
              worker == SIZE_MAX ? 99 : worker);
}

static void closed_cb(void *arg)
{
    *(bool *)arg = true;
}

static bool flag_set(void *arg)
{
    return *(bool *)arg;
}

/* Close the pool, run the loop dry, and check that nothing is left. */
static void close_all(uv_loop_t *loop, gn_worker_pool_t *pool)
{
    bool closed = false;
    gn_worker_pool_close(pool, closed_cb, &closed);
    cr_assert(gn_test_wait_until(loop, flag_set, &closed, 10), "the pool never finished closing");
    uv_run(loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(loop), 0, "handles left on the loop");
}

/* ---- Python workers ---- */

static pid_t kids[4];
static char paths[4][96];

static void sock_path(int i)
{
    snprintf(paths[i], sizeof(paths[i]), "/tmp/gn-worker-%d-%d.sock", (int)getpid(), i);
    unlink(paths[i]);
}

static void need_python(void)
{
    gn_test_need_python_msgpack("the worker tests");
}

static void spawn_py(int i, double delay)
{
    char d[32];
    snprintf(d, sizeof(d), "%g", delay);
    char *argv[] = {PY, GN_SOURCE_DIR "/examples/worker.py", paths[i], "--delay", d, NULL};
    gn_test_spawn_py(&kids[i], argv);
}

static void kill_py(int i)
{
    gn_test_kill_reap(&kids[i]);
}

static void kill_all(void)
{
    for (int i = 0; i < 4; i++) {
        kill_py(i);
        if (paths[i][0])
            unlink(paths[i]);
    }
}

/* ---- calls ---- */

typedef struct {
    int done, ok;
} tally_t;

typedef struct {
    tally_t *t;
    bool done;
    int status;
    long long out;
    uint64_t at;
    char err[300];
} one_t;

static void on_answer(int status, json_t *result, const char *error, void *arg)
{
    one_t *o = arg;
    cr_assert(!o->done, "a callback called twice");
    o->done = true;
    o->status = status;
    o->at = uv_hrtime();
    if (status == 0) {
        json_t *v = json_object_get(result, "dummy_output");
        o->out = json_is_integer(v) ? json_integer_value(v) : -1;
        o->t->ok++;
    } else {
        cr_assert(error && error[0], "a failure without a message");
        snprintf(o->err, sizeof(o->err), "%s", error);
    }
    o->t->done++;
}

typedef struct {
    tally_t *t;
    int want;
} until_t;

static bool all_done(void *arg)
{
    until_t *u = arg;
    return u->t->done >= u->want;
}

static void wait_done(uv_loop_t *loop, tally_t *t, int want, double secs)
{
    until_t u = {t, want};
    cr_assert(gn_test_wait_until(loop, all_done, &u, secs), "%d of %d calls answered", t->done,
              want);
}

static int call_dummy(gn_worker_pool_t *pool, long long x, double timeout, one_t *o)
{
    json_t *syn = json_pack("{s:s,s:f,s:I,s:n}", "name", "Dummy", "timeout", timeout, "dummy_input",
                            (json_int_t)x, "dummy_output");
    int rc = gn_worker_pool_call(pool, "Dummy", syn, timeout, on_answer, o);
    json_decref(syn);
    return rc;
}

static gn_worker_pool_t *open_pool(uv_loop_t *loop, int n, const gn_worker_opts_t *o)
{
    const char *p[4];
    for (int i = 0; i < n; i++)
        p[i] = paths[i];
    gn_worker_opts_t def = {.backoff_min_ms = 20, .backoff_max_ms = 200};
    gn_worker_pool_t *pool;
    cr_assert_eq(gn_worker_pool_open(loop, p, (size_t)n, o ? o : &def, &pool), 0);
    return pool;
}

/* ---- the pool against two Python workers ---- */

Test(axon_worker, round_robin_over_two_python_workers, .timeout = 60, .fini = kill_all)
{
    need_python();
    uv_loop_t loop;
    uv_loop_init(&loop);
    sock_path(0);
    sock_path(1);
    spawn_py(0, 0);
    spawn_py(1, 0);
    gn_worker_pool_t *pool = open_pool(&loop, 2, NULL);
    wait_ready(&loop, pool, SIZE_MAX);

    /* the hello's class */
    cr_assert_eq(gn_worker_pool_n_classes(pool), 1);
    const gn_worker_class_t *c = gn_worker_pool_class(pool, 0);
    cr_assert_str_eq(c->cls.name, "Dummy");
    cr_assert(!c->streaming);
    cr_assert_eq(c->cls.n_fields, 2);
    cr_assert_str_eq(c->cls.fields[0].name, "dummy_input");
    cr_assert_eq(c->cls.fields[0].type, GN_SYN_INT);
    cr_assert(c->cls.fields[0].required && !c->cls.fields[0].nullable);
    cr_assert_str_eq(c->cls.fields[1].name, "dummy_output");
    cr_assert(!c->cls.fields[1].required && c->cls.fields[1].nullable);

    static one_t ones[100];
    tally_t t = {0};
    for (int i = 0; i < 100; i++) {
        ones[i] = (one_t){.t = &t};
        cr_assert_eq(call_dummy(pool, 1000 + i, 10, &ones[i]), 0, "call %d", i);
    }
    wait_done(&loop, &t, 100, 20);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(ones[i].status, 0, "call %d: %s", i, ones[i].err);
        cr_assert_eq(ones[i].out, 2 * (1000 + i), "call %d got another call's answer", i);
    }
    gn_worker_stats_t s0, s1, all;
    gn_worker_pool_stats(pool, 0, &s0);
    gn_worker_pool_stats(pool, 1, &s1);
    gn_worker_pool_stats(pool, SIZE_MAX, &all);
    cr_assert_eq(s0.answered, 50, "worker 0 answered %llu", (unsigned long long)s0.answered);
    cr_assert_eq(s1.answered, 50, "worker 1 answered %llu", (unsigned long long)s1.answered);
    cr_assert(!strncmp(s0.name, "dummy-py-", 9) && !strncmp(s1.name, "dummy-py-", 9));
    cr_assert_str_neq(s0.name, s1.name);
    cr_assert_eq(all.sent, 100);
    cr_assert_eq(all.inflight, 0);
    cr_assert_eq(all.protocol_errors + all.lost + all.timeouts + all.late, 0);

    /* a worker's error answer, and what the pool refuses at once */
    one_t bad = {.t = &t};
    json_t *syn = json_pack("{s:s}", "dummy_input", "seven");
    cr_assert_eq(gn_worker_pool_call(pool, "Dummy", syn, 5, on_answer, &bad), 0);
    cr_assert_eq(gn_worker_pool_call(pool, "Nope", syn, 5, on_answer, &bad), GN_ENOENT);
    cr_assert_eq(gn_worker_pool_call(pool, "Dummy", syn, 0, on_answer, &bad), GN_EINVAL);
    json_decref(syn);
    wait_done(&loop, &t, 101, 10);
    cr_assert_eq(bad.status, GN_EREJECTED);
    cr_assert_str_eq(bad.err, "Dummy needs an integer dummy_input");

    close_all(&loop, pool);
}

typedef struct {
    tally_t *t;
    int want;
    one_t *ones;
    int n;
} failed_t;

static bool n_failed(void *arg)
{
    failed_t *f = arg;
    int k = 0;
    for (int i = 0; i < f->n; i++)
        k += f->ones[i].done && f->ones[i].status != 0;
    return k >= f->want;
}

Test(axon_worker, a_killed_worker_fails_its_calls_and_comes_back, .timeout = 60, .fini = kill_all)
{
    need_python();
    uv_loop_t loop;
    uv_loop_init(&loop);
    sock_path(0);
    sock_path(1);
    spawn_py(0, 0.6); /* 0.6 s of work per call: still in flight when killed */
    spawn_py(1, 0.6);
    gn_worker_pool_t *pool = open_pool(&loop, 2, NULL);
    wait_ready(&loop, pool, SIZE_MAX);

    static one_t ones[20];
    tally_t t = {0};
    for (int i = 0; i < 20; i++) {
        ones[i] = (one_t){.t = &t};
        cr_assert_eq(call_dummy(pool, i, 10, &ones[i]), 0);
    }
    gn_test_run_for(&loop, 0.15); /* written and read by both workers */
    cr_assert_eq(t.done, 0);
    kill(kids[0], SIGKILL);
    uint64_t killed = uv_hrtime();
    failed_t f = {&t, 10, ones, 20};
    cr_assert(gn_test_wait_until(&loop, n_failed, &f, 5), "the killed worker's calls did not fail");
    for (int i = 0; i < 20; i++) {
        if (!ones[i].done)
            continue;
        cr_assert_eq(ones[i].status, GN_ECLOSED, "call %d: %s", i, ones[i].err);
        cr_assert(strstr(ones[i].err, "went away with the Dummy call in flight"), "%s",
                  ones[i].err);
        cr_assert_lt(ones[i].at - killed, 400000000ull, "failed %.3f s after the kill",
                     (double)(ones[i].at - killed) / 1e9);
    }
    wait_done(&loop, &t, 20, 10);
    cr_assert_eq(t.ok, 10, "the other worker answered %d of 10", t.ok);
    waitpid(kids[0], NULL, 0);
    kids[0] = 0;

    /* while it is away the other one serves everything */
    gn_worker_stats_t s0, s1;
    gn_worker_pool_stats(pool, 0, &s0);
    cr_assert(!s0.ready);
    cr_assert_eq(s0.lost, 10);
    static one_t more[6];
    for (int i = 0; i < 6; i++) {
        more[i] = (one_t){.t = &t};
        cr_assert_eq(call_dummy(pool, 100 + i, 10, &more[i]), 0);
    }
    wait_done(&loop, &t, 26, 10);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(more[i].status, 0, "%s", more[i].err);
    gn_worker_pool_stats(pool, 1, &s1);
    cr_assert_eq(s1.answered, 16);

    /* restarted on the same path: dialled again, round robin again */
    spawn_py(0, 0);
    wait_ready(&loop, pool, 0);
    gn_worker_pool_stats(pool, 0, &s0);
    cr_assert_eq(s0.reconnects, 1);
    cr_assert_eq(s0.connects, 2);
    static one_t back[10];
    for (int i = 0; i < 10; i++) {
        back[i] = (one_t){.t = &t};
        cr_assert_eq(call_dummy(pool, 200 + i, 10, &back[i]), 0);
    }
    wait_done(&loop, &t, 36, 10);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(back[i].out, 400 + 2 * i, "%s", back[i].err);
    gn_worker_pool_stats(pool, 0, &s0);
    gn_worker_pool_stats(pool, 1, &s1);
    cr_assert_eq(s0.answered, 5);
    cr_assert_eq(s1.answered, 21);
    close_all(&loop, pool);
}

/* ---- fakes on the test's loop ---- */

typedef enum { FAKE_SLEEPY, FAKE_GARBAGE, FAKE_STREAM, FAKE_OTHER_DUMMY, FAKE_AXON } fake_mode_t;

typedef struct fake {
    uv_loop_t *loop;
    uv_pipe_t server;
    uv_pipe_t *client;
    fake_mode_t mode;
    int conns, requests, cancels, answers_sent;
    uv_timer_t drip; /* Drip: a chunk every 50 ms, 20 in all */
    json_int_t drip_id;
    int drips;
    uint8_t buf[1 << 16];
    size_t len;
} fake_t;

static void free_write(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void fake_write(fake_t *f, const void *p, size_t n)
{
    if (!f->client)
        return;
    uv_write_t *w = malloc(sizeof(*w) + n);
    memcpy(w + 1, p, n);
    uv_buf_t b = uv_buf_init((char *)(w + 1), (unsigned)n);
    if (uv_write(w, (uv_stream_t *)f->client, &b, 1, free_write) < 0)
        free(w);
}

static void fake_send(fake_t *f, const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    cr_assert(j, "bad test JSON %s", json);
    uint8_t *b = NULL;
    size_t len = 0, cap = 0;
    cr_assert_eq(gn_wire_frame(j, &b, &len, &cap), 0);
    fake_write(f, b, len);
    free(b);
    json_decref(j);
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* a chunk whose data is msgpack bin (gn_wire only writes strings) */
static void fake_send_bin_chunk(fake_t *f, json_int_t id, const uint8_t *p, size_t n)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    pack_str(&pk, "v");
    msgpack_pack_int(&pk, 1);
    pack_str(&pk, "id");
    msgpack_pack_int64(&pk, id);
    pack_str(&pk, "type");
    pack_str(&pk, "chunk");
    pack_str(&pk, "bin");
    msgpack_pack_bin(&pk, n);
    msgpack_pack_bin_body(&pk, p, n);
    uint8_t hdr[4] = {(uint8_t)(sb.size >> 24), (uint8_t)(sb.size >> 16), (uint8_t)(sb.size >> 8),
                      (uint8_t)sb.size};
    fake_write(f, hdr, 4);
    fake_write(f, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

#define HELLO_DUMMY                                                                        \
    "{\"v\":1,\"type\":\"hello\",\"worker\":\"fake\",\"synapses\":[{\"name\":\"Dummy\","   \
    "\"fields\":[{\"name\":\"dummy_input\",\"type\":\"int\",\"required\":true},{\"name\":" \
    "\"dummy_output\",\"type\":\"int\",\"nullable\":true}]}]}"

typedef struct late {
    uv_timer_t t;
    fake_t *f;
    json_int_t id, x;
} late_t;

static void late_answer(uv_timer_t *t)
{
    late_t *l = (late_t *)t;
    char s[160];
    snprintf(s, sizeof(s),
             "{\"v\":1,\"id\":%lld,\"type\":\"response\",\"body\":{\"dummy_output\":%lld}}",
             (long long)l->id, (long long)(2 * l->x));
    fake_send(l->f, s);
    l->f->answers_sent++;
    uv_close((uv_handle_t *)t, gn_test_free_handle);
}

/* What each connection of the garbage fake does, in order. */
enum {
    G_NOT_MSGPACK,
    G_HUGE,
    G_ARRAY,
    G_V2,
    G_BAD_HELLO,
    G_ANSWER_FIRST,
    G_SILENT,
    G_UNKNOWN_TYPE, /* after the hello, on the first request */
    G_STRING_ID,
    G_HALF_FRAME,
    G_GOOD,
};

static void drip_cb(uv_timer_t *t);

static void fake_on_request(fake_t *f, json_t *req)
{
    json_int_t id = json_integer_value(json_object_get(req, "id"));
    const char *syn = json_string_value(json_object_get(req, "synapse"));
    json_int_t x = json_integer_value(json_object_get(json_object_get(req, "body"), "dummy_input"));
    char s[300];
    f->requests++;
    if (f->mode == FAKE_SLEEPY) { /* answers after 300 ms, cancelled or not */
        late_t *l = calloc(1, sizeof(*l));
        l->f = f;
        l->id = id;
        l->x = x;
        uv_timer_init(f->loop, &l->t);
        uv_timer_start(&l->t, late_answer, 300, 0);
    } else if (f->mode == FAKE_AXON && !strcmp(syn, "Refuse")) {
        snprintf(s, sizeof(s),
                 "{\"v\":1,\"id\":%lld,\"type\":\"error\",\"status\":429,\"message\":\"slow "
                 "down\"}",
                 (long long)id);
        fake_send(f, s);
    } else if (f->mode == FAKE_AXON && !strcmp(syn, "Sleep")) {
        return; /* never answers */
    } else if (f->mode == FAKE_AXON && !strcmp(syn, "Drip")) {
        f->drip_id = id;
        f->drips = 0;
        uv_timer_start(&f->drip, drip_cb, 50, 50);
    } else if (f->mode == FAKE_STREAM || f->mode == FAKE_AXON) {
        if (!strcmp(syn, "Dummy")) { /* a chunk to a call that is no stream */
            snprintf(s, sizeof(s), "{\"v\":1,\"id\":%lld,\"type\":\"chunk\",\"data\":\"x\"}",
                     (long long)id);
            fake_send(f, s);
            return;
        }
        snprintf(s, sizeof(s), "{\"v\":1,\"id\":%lld,\"type\":\"chunk\",\"data\":\"hello \"}",
                 (long long)id);
        fake_send(f, s);
        snprintf(s, sizeof(s), "{\"v\":1,\"id\":%lld,\"type\":\"chunk\",\"data\":\"world\"}",
                 (long long)id);
        fake_send(f, s);
        fake_send_bin_chunk(f, id, (const uint8_t *)"\0\1\2", 3);
        snprintf(s, sizeof(s), "{\"v\":1,\"id\":%lld,\"type\":\"end\",\"body\":{\"n\":3}}",
                 (long long)id);
        fake_send(f, s);
    } else {
        switch (f->conns - 1) {
        case G_UNKNOWN_TYPE:
            snprintf(s, sizeof(s), "{\"v\":1,\"id\":%lld,\"type\":\"bogus\"}", (long long)id);
            fake_send(f, s);
            break;
        case G_STRING_ID:
            snprintf(s, sizeof(s), "{\"v\":1,\"id\":\"%lld\",\"type\":\"response\",\"body\":{}}",
                     (long long)id);
            fake_send(f, s);
            break;
        case G_HALF_FRAME: {
            static const uint8_t half[] = {0, 0, 0, 40, 0x84, 0xa1, 'v', 1};
            fake_write(f, half, sizeof(half));
            uv_close((uv_handle_t *)f->client, gn_test_free_handle);
            f->client = NULL;
            break;
        }
        default:
            snprintf(s, sizeof(s),
                     "{\"v\":1,\"id\":%lld,\"type\":\"response\",\"body\":{\"dummy_output\":%lld}}",
                     (long long)id, (long long)(2 * x));
            fake_send(f, s);
        }
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
    size_t off = 0;
    const uint8_t *p;
    size_t pl, fl;
    while (f->client &&
           gn_wire_frame_peek(f->buf + off, f->len - off, sizeof(f->buf), &p, &pl, &fl) == 0) {
        json_t *j = NULL;
        cr_assert_eq(gn_wire_to_json(p, pl, &j), 0, "the pool wrote a bad frame");
        cr_assert_eq(json_integer_value(json_object_get(j, "v")), 1);
        const char *type = json_string_value(json_object_get(j, "type"));
        if (!strcmp(type, "request"))
            fake_on_request(f, j);
        else if (!strcmp(type, "cancel")) {
            f->cancels++;
            if (json_integer_value(json_object_get(j, "id")) == f->drip_id)
                uv_timer_stop(&f->drip); /* a worker that listens */
        } else
            cr_assert_fail("the pool sent a %s frame", type);
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
    if (f->client) /* one connection at a time: the old one is done */
        uv_close((uv_handle_t *)f->client, gn_test_free_handle);
    f->client = malloc(sizeof(*f->client));
    uv_pipe_init(f->loop, f->client, 0);
    f->client->data = f;
    cr_assert_eq(uv_accept(server, (uv_stream_t *)f->client), 0);
    f->len = 0;
    f->conns++;
    uv_read_start((uv_stream_t *)f->client, fake_alloc, fake_read);
    if (f->mode == FAKE_SLEEPY) {
        fake_send(f, HELLO_DUMMY);
    } else if (f->mode == FAKE_AXON) {
        fake_send(f, "{\"v\":1,\"type\":\"hello\",\"worker\":\"fake\",\"synapses\":["
                     "{\"name\":\"Words\",\"streaming\":true,\"fields\":[{\"name\":\"text\","
                     "\"type\":\"str\",\"required\":true,\"hashed\":true}]},"
                     "{\"name\":\"Refuse\"},{\"name\":\"Sleep\",\"fields\":[]},"
                     "{\"name\":\"Drip\",\"streaming\":true}]}");
    } else if (f->mode == FAKE_OTHER_DUMMY) { /* dummy_input a str: another class */
        fake_send(f, "{\"v\":1,\"type\":\"hello\",\"synapses\":[{\"name\":\"Dummy\","
                     "\"fields\":[{\"name\":\"dummy_input\",\"type\":\"str\"}]}]}");
    } else if (f->mode == FAKE_STREAM) {
        fake_send(f, "{\"v\":1,\"type\":\"hello\",\"worker\":\"streamer\",\"synapses\":["
                     "{\"name\":\"Words\",\"streaming\":true,\"fields\":[{\"name\":\"text\","
                     "\"type\":\"str\",\"required\":true,\"hashed\":true},{\"name\":\"n\","
                     "\"type\":\"int\",\"default\":0}]},"
                     "{\"name\":\"Dummy\",\"fields\":[{\"name\":\"dummy_input\",\"type\":\"int\","
                     "\"required\":true},{\"name\":\"dummy_output\",\"type\":\"int\","
                     "\"nullable\":true}]}]}");
    } else {
        static const uint8_t not_msgpack[] = {0, 0, 0, 3, 0xc1, 0xc1, 0xc1};
        static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0x80};
        switch (f->conns - 1) {
        case G_NOT_MSGPACK: fake_write(f, not_msgpack, sizeof(not_msgpack)); break;
        case G_HUGE: fake_write(f, huge, sizeof(huge)); break;
        case G_ARRAY: fake_send(f, "[1,2,3]"); break;
        case G_V2: fake_send(f, "{\"v\":2,\"type\":\"hello\",\"synapses\":[]}"); break;
        case G_BAD_HELLO:
            fake_send(f, "{\"v\":1,\"type\":\"hello\",\"synapses\":[{\"name\":\"Dummy\","
                         "\"fields\":[{\"name\":\"dummy_input\",\"type\":\"complex\"}]}]}");
            break;
        case G_ANSWER_FIRST:
            fake_send(f, "{\"v\":1,\"id\":1,\"type\":\"response\",\"body\":{}}");
            break;
        case G_SILENT: break; /* no hello: dropped after hello_timeout_ms */
        default: fake_send(f, HELLO_DUMMY);
        }
    }
}

static void fake_start(uv_loop_t *loop, fake_t *f, fake_mode_t mode, int i)
{
    memset(f, 0, sizeof(*f));
    f->loop = loop;
    f->mode = mode;
    sock_path(i);
    uv_pipe_init(loop, &f->server, 0);
    f->server.data = f;
    cr_assert_eq(uv_pipe_bind(&f->server, paths[i]), 0);
    cr_assert_eq(uv_listen((uv_stream_t *)&f->server, 8, fake_conn), 0);
    uv_timer_init(loop, &f->drip);
    f->drip.data = f;
}

static void drip_cb(uv_timer_t *t)
{
    fake_t *f = t->data;
    char s[160];
    if (++f->drips > 20) {
        uv_timer_stop(t);
        snprintf(s, sizeof(s), "{\"v\":1,\"id\":%lld,\"type\":\"end\"}", (long long)f->drip_id);
    } else {
        snprintf(s, sizeof(s), "{\"v\":1,\"id\":%lld,\"type\":\"chunk\",\"data\":\"drop \"}",
                 (long long)f->drip_id);
    }
    fake_send(f, s);
}

static void fake_stop(fake_t *f)
{
    uv_close((uv_handle_t *)&f->drip, NULL);
    if (f->client)
        uv_close((uv_handle_t *)f->client, gn_test_free_handle);
    f->client = NULL;
    uv_close((uv_handle_t *)&f->server, NULL);
}

typedef struct {
    gn_worker_pool_t *pool;
    uint64_t late;
} late_wait_t;

static bool late_seen(void *arg)
{
    late_wait_t *l = arg;
    gn_worker_stats_t s;
    gn_worker_pool_stats(l->pool, SIZE_MAX, &s);
    return s.late >= l->late;
}

Test(axon_worker, a_deadline_fails_the_call_and_the_late_answer_is_dropped, .timeout = 30,
     .fini = kill_all)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake_t f;
    fake_start(&loop, &f, FAKE_SLEEPY, 0);
    gn_worker_opts_t o = {.backoff_min_ms = 20, .max_inflight = 2};
    gn_worker_pool_t *pool = open_pool(&loop, 1, &o);
    wait_ready(&loop, pool, 0);

    tally_t t = {0};
    one_t a = {.t = &t}, b = {.t = &t}, c = {.t = &t};
    uint64_t t0 = uv_hrtime();
    cr_assert_eq(call_dummy(pool, 21, 0.1, &a), 0);
    cr_assert_eq(call_dummy(pool, 5, 2.0, &b), 0);
    cr_assert_eq(call_dummy(pool, 6, 2.0, &c), GN_EFULL, "max_inflight 2 lets a third through");
    wait_done(&loop, &t, 1, 5);
    cr_assert_eq(a.status, GN_ETIMEDOUT, "%s", a.err);
    cr_assert_geq(a.at - t0, 95000000ull);
    cr_assert_lt(a.at - t0, 280000000ull, "the deadline fired after %.3f s",
                 (double)(a.at - t0) / 1e9);
    cr_assert(strstr(a.err, "did not answer Dummy within 0.1 s"), "%s", a.err);
    gn_worker_stats_t s;
    gn_worker_pool_stats(pool, 0, &s);
    cr_assert_eq(s.inflight, 1);
    cr_assert_eq(s.timeouts, 1);

    /* the late answer comes and is dropped; the call after it is answered */
    late_wait_t lw = {pool, 1};
    cr_assert(gn_test_wait_until(&loop, late_seen, &lw, 5), "the late answer never came");
    wait_done(&loop, &t, 2, 5);
    cr_assert_eq(b.status, 0, "%s", b.err);
    cr_assert_eq(b.out, 10);
    cr_assert_eq(f.cancels, 1, "the worker was told the call was given up");
    gn_worker_pool_stats(pool, 0, &s);
    cr_assert_eq(s.late, 1);
    cr_assert_eq(s.answered, 1);
    cr_assert(s.ready, "a late answer is no protocol error");

    /* a call in flight when the pool closes fails GN_ECLOSED */
    one_t d = {.t = &t};
    cr_assert_eq(call_dummy(pool, 7, 5, &d), 0);
    gn_test_run_for(&loop, 0.05);
    bool closed = false;
    gn_worker_pool_close(pool, closed_cb, &closed);
    cr_assert(d.done && d.status == GN_ECLOSED, "%d %s", d.status, d.err);
    cr_assert(strstr(d.err, "closing"), "%s", d.err);
    cr_assert(gn_test_wait_until(&loop, flag_set, &closed, 5));
    gn_test_run_for(&loop, 0.4); /* its late answer goes nowhere */
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

static int states[2][2]; /* [worker][ready] */

static void on_state(gn_worker_pool_t *pool, size_t worker, bool ready, void *arg)
{
    (void)pool;
    (void)arg;
    states[worker][ready]++;
}

Test(axon_worker, another_definition_of_a_class_is_not_routed, .timeout = 30, .fini = kill_all)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake_t f0, f1;
    fake_start(&loop, &f0, FAKE_SLEEPY, 0);
    gn_worker_opts_t o = {.backoff_min_ms = 20, .on_state = on_state};
    fake_start(&loop, &f1, FAKE_OTHER_DUMMY, 1);
    const char *p[] = {paths[1], paths[0]};
    gn_worker_pool_t *pool;
    cr_assert_eq(gn_worker_pool_open(&loop, p, 2, &o, &pool), 0);
    wait_ready(&loop, pool, 1);
    wait_ready(&loop, pool, 0);
    /* whichever hello came first defined Dummy; the other worker is not sent it */
    const gn_worker_class_t *c = gn_worker_pool_class(pool, 0);
    cr_assert_eq(gn_worker_pool_n_classes(pool), 1);
    size_t owner = c->cls.fields[0].type == GN_SYN_INT ? 1 : 0; /* index in p */
    tally_t t = {0};
    one_t ones[4];
    for (int i = 0; i < 4; i++) {
        ones[i] = (one_t){.t = &t};
        cr_assert_eq(call_dummy(pool, i, 5, &ones[i]), 0);
    }
    wait_done(&loop, &t, 4, 5);
    gn_worker_stats_t s;
    gn_worker_pool_stats(pool, owner, &s);
    cr_assert_eq(s.sent, 4);
    gn_worker_pool_stats(pool, 1 - owner, &s);
    cr_assert_eq(s.sent, 0);
    cr_assert(s.ready);
    bool closed = false;
    gn_worker_pool_close(pool, closed_cb, &closed);
    cr_assert(gn_test_wait_until(&loop, flag_set, &closed, 5));
    cr_assert_eq(states[0][1] + states[1][1], 2, "ready reported once per hello");
    cr_assert_eq(states[0][0] + states[1][0], 0, "no loss reported at close");
    fake_stop(&f0);
    fake_stop(&f1);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

typedef struct {
    gn_worker_pool_t *pool;
    uint64_t n;
} perr_t;

static bool perrs(void *arg)
{
    perr_t *p = arg;
    gn_worker_stats_t s;
    gn_worker_pool_stats(p->pool, 0, &s);
    return s.protocol_errors >= p->n;
}

Test(axon_worker, garbage_from_a_worker_drops_it_and_nothing_else, .timeout = 60, .fini = kill_all)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake_t f;
    fake_start(&loop, &f, FAKE_GARBAGE, 0);
    gn_worker_opts_t o = {
        .backoff_min_ms = 10, .backoff_max_ms = 40, .hello_timeout_ms = 200, .max_frame = 1 << 20};
    gn_worker_pool_t *pool = open_pool(&loop, 1, &o);

    /* not msgpack, too big, not a map, v2, a bad hello, an answer first,
     * silence: each a protocol error, dialled again after each */
    perr_t pe = {pool, G_SILENT + 1};
    cr_assert(gn_test_wait_until(&loop, perrs, &pe, 10), "protocol errors: not all seen");
    wait_ready(&loop, pool, 0);
    cr_assert_eq(f.conns, G_UNKNOWN_TYPE + 1);
    cr_assert_eq(gn_worker_pool_n_classes(pool), 1, "the bad hello registered nothing");

    tally_t t = {0};
    one_t ones[4];
    int want[4] = {GN_EIO, GN_EIO, GN_ECLOSED, 0};
    const char *says[4] = {"unknown type bogus", "without an integer id",
                           "the worker closed the connection", NULL};
    for (int i = 0; i < 4; i++) {
        wait_ready(&loop, pool, 0);
        ones[i] = (one_t){.t = &t};
        cr_assert_eq(call_dummy(pool, 4, 5, &ones[i]), 0);
        wait_done(&loop, &t, i + 1, 5);
        cr_assert_eq(ones[i].status, want[i], "call %d: %s", i, ones[i].err);
        if (says[i])
            cr_assert(strstr(ones[i].err, says[i]), "call %d: %s", i, ones[i].err);
    }
    cr_assert_eq(ones[3].out, 8);
    gn_worker_stats_t s;
    gn_worker_pool_stats(pool, 0, &s);
    cr_assert_eq(s.protocol_errors, G_SILENT + 3);
    cr_assert_eq(s.lost, 3);
    cr_assert_eq(s.connects, 4);
    bool closed = false;
    gn_worker_pool_close(pool, closed_cb, &closed);
    cr_assert(gn_test_wait_until(&loop, flag_set, &closed, 5));
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

typedef struct {
    char text[64];
    size_t len;
    int chunks;
} stream_t;

static stream_t got;

static void collect(const uint8_t *data, size_t len, void *arg)
{
    (void)arg;
    cr_assert_leq(got.len + len, sizeof(got.text));
    memcpy(got.text + got.len, data, len);
    got.len += len;
    got.chunks++;
}

static json_int_t end_n = -1;

static void on_end(int status, json_t *result, const char *error, void *arg)
{
    one_t *o = arg;
    o->done = true;
    o->status = status;
    if (error)
        snprintf(o->err, sizeof(o->err), "%s", error);
    if (status == 0)
        end_n = json_integer_value(json_object_get(result, "n"));
}

static bool one_done(void *arg)
{
    return ((one_t *)arg)->done;
}

Test(axon_worker, a_stream_of_chunks, .timeout = 30, .fini = kill_all)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    fake_t f;
    fake_start(&loop, &f, FAKE_STREAM, 0);
    gn_worker_pool_t *pool = open_pool(&loop, 1, NULL);
    wait_ready(&loop, pool, 0);
    cr_assert_eq(gn_worker_pool_n_classes(pool), 2);
    const gn_worker_class_t *w = gn_worker_pool_class(pool, 0);
    cr_assert_str_eq(w->cls.name, "Words");
    cr_assert(w->streaming);
    cr_assert(w->cls.fields[0].hashed && w->cls.fields[0].type == GN_SYN_STR);
    cr_assert_str_eq(w->cls.fields[1].default_json, "0");

    json_t *syn = json_pack("{s:s}", "text", "hello world");
    one_t o = {0};
    uint64_t id = 0;
    cr_assert_eq(gn_worker_pool_call_ex(pool, "Words", syn, 5, collect, on_end, &o, &id), 0);
    cr_assert_neq(id, 0);
    cr_assert(gn_test_wait_until(&loop, one_done, &o, 5));
    cr_assert_eq(o.status, 0, "%s", o.err);
    cr_assert_eq(got.chunks, 3);
    cr_assert_eq(got.len, 14);
    cr_assert(!memcmp(got.text, "hello world\0\1\2", 14));
    cr_assert_eq(end_n, 3);

    /* a chunk to a call made without a chunk callback fails that call only */
    one_t d = {0};
    cr_assert_eq(gn_worker_pool_call_ex(pool, "Dummy", syn, 5, NULL, on_end, &d, NULL), 0);
    cr_assert(gn_test_wait_until(&loop, one_done, &d, 5));
    cr_assert_eq(d.status, GN_EIO);
    cr_assert(strstr(d.err, "which is no stream"), "%s", d.err);
    json_decref(syn);
    gn_worker_stats_t s;
    gn_worker_pool_stats(pool, 0, &s);
    cr_assert_eq(s.chunks, 3);
    cr_assert(s.ready);
    cr_assert_eq(s.protocol_errors, 0);

    bool closed = false;
    gn_worker_pool_close(pool, closed_cb, &closed);
    cr_assert(gn_test_wait_until(&loop, flag_set, &closed, 5));
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

/* ---- through the axon ---- */

#define ALICE "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
#define BOB   "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"

static gn_sr25519_keypair_t alice, bob;

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A request as a Python dendrite makes it: Alice calls Bob's axon with a
 * synapse of class c whose own fields are `fields` (JSON). malloc'd. */
static char *signed_request(const gn_syn_class_t *c, const char *fields, double timeout,
                            size_t *len)
{
    json_t *in = json_loads(fields, 0, NULL);
    cr_assert_not_null(in, "bad test JSON %s", fields);
    json_object_set_new(in, "name", json_string(c->name));
    json_object_set_new(in, "timeout", json_real(timeout));
    char *txt = json_dumps(in, 0);
    json_decref(in);
    json_t *syn;
    cr_assert_eq(gn_synapse_from_body(c, (const uint8_t *)txt, strlen(txt), &syn), 0, "%s", txt);
    free(txt);
    static const char uuid[] = "6d3ae3a2-3a36-11ef-9454-0242ac120002";
    uint64_t nonce = wall_ns();
    json_t *d = json_object_get(syn, "dendrite");
    json_object_set_new(d, "hotkey", json_string(ALICE));
    json_object_set_new(d, "nonce", json_integer((json_int_t)nonce));
    json_object_set_new(d, "uuid", json_string(uuid));
    json_object_set_new(d, "version", json_integer(GN_AXON_VERSION));
    json_object_set_new(json_object_get(syn, "axon"), "hotkey", json_string(BOB));
    char hash[65], msg[512], sig[131] = "0x";
    cr_assert_eq(gn_synapse_body_hash(c, syn, hash), 0);
    json_object_set_new(syn, "computed_body_hash", json_string(hash));
    cr_assert_gt(gn_synapse_message(nonce, ALICE, BOB, uuid, hash, msg, sizeof(msg)), 0);
    uint8_t rnd[32], raw[64];
    randombytes_buf(rnd, sizeof(rnd));
    cr_assert_eq(gn_sr25519_sign(&alice, (const uint8_t *)msg, strlen(msg), rnd, raw), 0);
    for (int i = 0; i < 64; i++)
        snprintf(sig + 2 + 2 * i, 3, "%02x", raw[i]);
    json_object_set_new(d, "signature", json_string(sig));
    gn_header_t *hs;
    size_t n;
    cr_assert_eq(gn_synapse_headers(c, syn, &hs, &n), 0);
    char *body = gn_synapse_json_python(syn);
    size_t cap = 16384 + strlen(body);
    char *out = malloc(cap);
    int k = snprintf(out, cap,
                     "POST /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n",
                     c->name, strlen(body));
    for (size_t i = 0; i < n; i++)
        k += snprintf(out + k, cap - (size_t)k, "%.*s: %.*s\r\n", (int)hs[i].name_len, hs[i].name,
                      (int)hs[i].value_len, hs[i].value);
    k += snprintf(out + k, cap - (size_t)k, "\r\n%s", body);
    *len = (size_t)k;
    free(hs);
    free(body);
    json_decref(syn);
    return out;
}

static void ask(int port, const gn_syn_class_t *c, const char *fields, double timeout,
                gn_raw_resp_t *r)
{
    size_t len;
    char *req = signed_request(c, fields, timeout, &len);
    cr_assert_eq(gn_raw_request(port, req, len, r), 0, "no response");
    free(req);
}

/* The axon, the pool and the fake share one loop, run by a thread of its
 * own; the test speaks HTTP to it. */
typedef struct {
    uv_loop_t loop;
    uv_thread_t th;
    uv_async_t stop;
    gn_axon_t *ax;
    gn_worker_pool_t *pool;
    gn_plugin_t *plugin;
    fake_t fake;
    bool with_fake;
    int port;
    atomic_int ready, lost;
} ax_fx_t;

static void ax_on_state(gn_worker_pool_t *pool, size_t worker, bool ready, void *arg)
{
    (void)pool;
    (void)worker;
    ax_fx_t *x = arg;
    atomic_fetch_add(ready ? &x->ready : &x->lost, 1);
}

static void ax_pool_closed(void *arg)
{
    ax_fx_t *x = arg;
    if (x->with_fake)
        fake_stop(&x->fake);
    uv_close((uv_handle_t *)&x->stop, NULL);
}

/* the pool goes once the axon is stopped: its handlers point into it */
static void ax_stopped(void *arg)
{
    ax_fx_t *x = arg;
    if (x->pool) {
        gn_worker_pool_close(x->pool, ax_pool_closed, x);
        return;
    }
    uv_close((uv_handle_t *)&x->stop, NULL);
}

static void ax_stop_cb(uv_async_t *a)
{
    ax_fx_t *x = a->data;
    gn_axon_stop(x->ax, ax_stopped, x);
}

static void ax_run(void *arg)
{
    ax_fx_t *x = arg;
    uv_run(&x->loop, UV_RUN_DEFAULT);
}

/* The loop and the axon (Bob's hotkey); a fake may be added to the loop
 * before ax_go. */
static void ax_init(ax_fx_t *x)
{
    memset(x, 0, sizeof(*x));
    gn_test_keypair("//Alice", &alice);
    gn_test_keypair("//Bob", &bob);
    cr_assert_eq(uv_loop_init(&x->loop), 0);
    gn_axon_opts_t o = {.ip = "127.0.0.1", .hotkey = &bob};
    cr_assert_eq(gn_axon_start(&x->loop, &o, &x->ax), 0);
    x->port = gn_axon_port(x->ax);
}

/* A pool of the first n_workers paths attached (and the plugin), then the
 * loop's thread. */
static void ax_go(ax_fx_t *x, int n_workers)
{
    if (n_workers) {
        const char *p[2] = {paths[0], paths[1]};
        gn_worker_opts_t wo = {
            .backoff_min_ms = 20, .backoff_max_ms = 100, .on_state = ax_on_state, .arg = x};
        cr_assert_eq(gn_worker_pool_open(&x->loop, p, (size_t)n_workers, &wo, &x->pool), 0);
        cr_assert_eq(gn_worker_attach(x->ax, x->pool), 0);
    }
    if (x->plugin)
        cr_assert_eq(gn_plugin_attach(x->ax, x->plugin), 0);
    uv_async_init(&x->loop, &x->stop, ax_stop_cb);
    x->stop.data = x;
    cr_assert_eq(uv_thread_create(&x->th, ax_run, x), 0);
}

static void ax_stop(ax_fx_t *x)
{
    uv_async_send(&x->stop);
    uv_thread_join(&x->th);
    cr_assert_eq(uv_loop_close(&x->loop), 0, "every handle closed");
}

static void wait_atomic(atomic_int *v, int want)
{
    for (int i = 0; i < 1500 && atomic_load(v) < want; i++)
        usleep(10000);
    cr_assert_geq(atomic_load(v), want, "waited 15 s for %d, have %d", want, atomic_load(v));
}

static const gn_syn_field_t DUMMY_F[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_class_t DUMMY = {"Dummy", DUMMY_F, 2};
static const gn_syn_field_t WORDS_F[] = {
    {.name = "text", .type = GN_SYN_STR, .required = true, .hashed = true}};
static const gn_syn_class_t WORDS = {"Words", WORDS_F, 1};
static const gn_syn_class_t REFUSE = {"Refuse", NULL, 0};
static const gn_syn_class_t SLEEP = {"Sleep", NULL, 0};
static const gn_syn_class_t DRIP = {"Drip", NULL, 0};

static const char *body_message(const gn_raw_resp_t *r, char *out, size_t cap)
{
    json_t *b = json_loads(r->body, 0, NULL);
    const char *m = json_string_value(json_object_get(b, "message"));
    snprintf(out, cap, "%s", m ? m : "(none)");
    json_decref(b);
    return out;
}

Test(axon_worker, the_axon_serves_what_the_workers_announce, .timeout = 90, .fini = kill_all)
{
    need_python();
    static ax_fx_t x;
    sock_path(0);
    spawn_py(0, 0); /* Dummy */
    ax_init(&x);
    x.with_fake = true; /* Words (a stream), Refuse (429), Sleep (never answers) */
    fake_start(&x.loop, &x.fake, FAKE_AXON, 1);
    ax_go(&x, 2);
    wait_atomic(&x.ready, 2);

    char m[256];
    gn_raw_resp_t r;
    ask(x.port, &DUMMY, "{\"dummy_input\": 21}", 12.0, &r);
    cr_assert_eq(r.status, 200, "%s\n%s", r.head, r.body);
    json_t *b = json_loads(r.body, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(b, "dummy_output")), 42, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(b, "dummy_input")), 21);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(b, "axon"), "status_code")),
                 200);
    json_decref(b);
    gn_raw_free(&r);

    ask(x.port, &WORDS, "{\"text\": \"hi\"}", 12.0, &r);
    cr_assert_eq(r.status, 200, "%s\n%s", r.head, r.body);
    cr_assert_eq(r.body_len, 14);
    cr_assert(!memcmp(r.body, "hello world\0\1\2", 14));
    cr_assert_eq(r.chunks, 3);
    gn_raw_free(&r);

    ask(x.port, &REFUSE, "{}", 12.0, &r);
    cr_assert_eq(r.status, 429, "%s\n%s", r.head, r.body);
    cr_assert_str_eq(body_message(&r, m, sizeof(m)), "slow down");
    gn_raw_free(&r);

    ask(x.port, &SLEEP, "{}", 0.5, &r);
    cr_assert_eq(r.status, 408, "%s\n%s", r.head, r.body);
    cr_assert_str_eq(body_message(&r, m, sizeof(m)), "Response timeout after: 0.5s");
    gn_raw_free(&r);

    /* a caller that leaves mid-stream: the worker is told (cancel) */
    size_t len;
    char *req = signed_request(&DRIP, "{}", 12.0, &len);
    int fd = gn_raw_connect(x.port);
    cr_assert_geq(fd, 0);
    cr_assert_eq(gn_raw_send(fd, req, len), 0);
    free(req);
    char head[256];
    cr_assert_gt(read(fd, head, sizeof(head)), 0, "the stream started");
    usleep(120000);
    close(fd);
    usleep(400000);

    kill_py(0);
    wait_atomic(&x.lost, 1);
    ask(x.port, &DUMMY, "{\"dummy_input\": 1}", 12.0, &r);
    cr_assert_eq(r.status, 503, "%s\n%s", r.head, r.body);
    cr_assert_str_eq(body_message(&r, m, sizeof(m)),
                     "Service unavailable: no Dummy worker is connected");
    gn_raw_free(&r);
    ax_stop(&x);
    cr_assert_eq(x.fake.cancels, 2,
                 "the worker was told at Sleep's deadline and when Drip's caller "
                 "left: %d cancels",
                 x.fake.cancels);
    cr_assert_lt(x.fake.drips, 12, "the worker stopped at the cancel: %d drips", x.fake.drips);
}

/* ---- plugins ---- */

#define FIXTURE(name) GN_BUILD_DIR "/tests/fixtures/" name

Test(axon_worker, plugin_echo_loads)
{
    gn_plugin_t *p;
    char err[256];
    int rc = gn_plugin_load(FIXTURE("plugin_echo.so"), "{\"prefix\":\"> \"}", &p, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
    const gn_plugin_v1_t *t = gn_plugin_table(p);
    cr_assert_eq(t->abi, GN_PLUGIN_ABI);
    cr_assert_str_eq(t->name, "echo");
    cr_assert_eq(t->n, 1);
    cr_assert_str_eq(t->classes[0].name, "Echo");
    cr_assert_eq(t->classes[0].n_fields, 2);
    cr_assert_str_eq((const char *)gn_plugin_state(p), "> ", "init read the config");
    gn_plugin_unload(p);
}

Test(axon_worker, plugin_errors_are_clear)
{
    gn_plugin_t *p = NULL;
    char err[256];
    cr_assert_eq(gn_plugin_load(FIXTURE("plugin_none.so"), NULL, &p, err, sizeof(err)), GN_ENOENT);
    cr_assert(strstr(err, "plugin_none.so: No such file"), "%s", err);

    cr_assert_eq(gn_plugin_load(FIXTURE("plugin_nosym.so"), NULL, &p, err, sizeof(err)), GN_EINVAL);
    cr_assert(strstr(err, "not a ganglion plugin: no symbol gn_plugin_v1"), "%s", err);

    cr_assert_eq(gn_plugin_load(FIXTURE("plugin_abi2.so"), NULL, &p, err, sizeof(err)),
                 GN_EUNSUPPORTED);
    cr_assert(strstr(err, "plugin ABI 2, but this ganglion loads ABI 1 plugins only"), "%s", err);

    cr_assert_eq(gn_plugin_load(GN_SOURCE_DIR "/README.md", NULL, &p, err, sizeof(err)), GN_EIO);
    cr_assert(strstr(err, "README.md"), "%s", err);

    cr_assert_eq(gn_plugin_load(FIXTURE("plugin_echo.so"), "{not json", &p, err, sizeof(err)),
                 GN_EINVAL);
    cr_assert(strstr(err, "plugin echo: init failed"), "%s", err);
    cr_assert_null(p);
}

static const gn_syn_field_t ECHO_F[] = {
    {.name = "text", .type = GN_SYN_STR, .required = true, .hashed = true},
    {.name = "echo", .type = GN_SYN_STR, .nullable = true},
};
static const gn_syn_class_t ECHO_CLS = {"Echo", ECHO_F, 2};

Test(axon_worker, plugin_echo_serves_through_the_axon, .timeout = 60)
{
    static ax_fx_t x;
    ax_init(&x);
    char err[256];
    cr_assert_eq(gn_plugin_load(FIXTURE("plugin_echo.so"), "{\"prefix\":\"> \"}", &x.plugin, err,
                                sizeof(err)),
                 0, "%s", err);
    ax_go(&x, 0);
    gn_raw_resp_t r;
    ask(x.port, &ECHO_CLS, "{\"text\": \"hi\"}", 12.0, &r);
    cr_assert_eq(r.status, 200, "%s\n%s", r.head, r.body);
    json_t *b = json_loads(r.body, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(b, "echo")), "> hi", "%s", r.body);
    json_decref(b);
    gn_raw_free(&r);
    ax_stop(&x);
    gn_plugin_unload(x.plugin);
}
