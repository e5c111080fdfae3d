/* The dendrite against ganglion's own axon (on a loop thread) and against
 * misbehaving servers written here (blocking sockets on a thread): the
 * requests header by header against the SDK's worked examples, every
 * status the SDK gives, streaming, 256 targets, the pool. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "ganglion/axon.h"
#include "ganglion/dendrite.h"
#include "ganglion/error.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
#include "ganglion/synapse.h"
#include "support/axon_fixture.h"
#include "support/chain_client.h"
#include "support/vectors.h"

#define ALICE "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
#define BOB   "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"

static const gn_syn_field_t DUMMY_F[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_class_t DUMMY = {"Dummy", DUMMY_F, 2};
static const gn_syn_class_t FOO = {"Foo", DUMMY_F, 2};
static const gn_syn_field_t SD_F[] = {{.name = "text", .type = GN_SYN_STR, .required = true}};
static const gn_syn_class_t STREAMING_DUMMY = {"StreamingDummy", SD_F, 1};
static const gn_syn_field_t TQ_F[] = {
    {.name = "prompt", .type = GN_SYN_STR, .required = true, .hashed = true, .frozen = true},
    {.name = "temperature", .type = GN_SYN_FLOAT, .hashed = true, .default_json = "0.7"},
    {.name = "tags", .type = GN_SYN_LIST, .hashed = true, .default_json = "[]"},
    {.name = "completion", .type = GN_SYN_STR, .nullable = true},
};
static const gn_syn_class_t TEXTQUERY = {"TextQuery", TQ_F, 4};

static gn_sr25519_keypair_t alice, bob;

static void keys(void)
{
    gn_test_keypair("//Alice", &alice);
    gn_test_keypair("//Bob", &bob);
}

/* ---- an axon on a loop thread (support/axon_fixture.h) ---- */

typedef gn_test_axon_t ax_t;

static void ax_start(ax_t *f, gn_axon_opts_t *o)
{
    keys();
    o->hotkey = &bob;
    gn_test_axon_start(f, o, NULL, NULL);
}

#define ax_stop gn_test_axon_stop

/* Slow: dummy_output = 2 x dummy_input, answered delay_ms after the call
 * (on a timer of the axon's loop); slow_pending counts the calls not yet
 * answered, so a test can wait for them before stopping the axon. */
static const gn_syn_field_t SLOW_F[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "delay_ms", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_class_t SLOW = {"Slow", SLOW_F, 3};

static atomic_int slow_pending, slow_late;

typedef struct {
    uv_timer_t t;
    gn_axon_call_t *call;
    json_t *syn;
} slow_t;

static void slow_closed(uv_handle_t *h)
{
    free(h->data);
    atomic_fetch_sub(&slow_pending, 1);
}

static void slow_answer(slow_t *s)
{
    json_t *in = json_object_get(s->syn, "dummy_input");
    json_object_set_new(s->syn, "dummy_output", json_integer(2 * json_integer_value(in)));
    if (gn_axon_reply(s->call, s->syn) == GN_ECLOSED) /* the client or the deadline went first */
        atomic_fetch_add(&slow_late, 1);
}

static void slow_tick(uv_timer_t *t)
{
    slow_answer(t->data);
    uv_close((uv_handle_t *)t, slow_closed);
}

static void slow(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    slow_t *s = calloc(1, sizeof(*s));
    if (!s) {
        json_decref(syn);
        gn_axon_fail(call, 500, "out of memory");
        return;
    }
    s->call = call;
    s->syn = syn;
    atomic_fetch_add(&slow_pending, 1);
    json_int_t ms = json_integer_value(json_object_get(syn, "delay_ms"));
    uv_timer_init(gn_axon_call_loop(call), &s->t);
    s->t.data = s;
    uv_timer_start(&s->t, slow_tick, ms > 0 ? (uint64_t)ms : 0, 0);
}

static void attach_slow(gn_axon_t *ax, void *arg)
{
    (void)arg;
    cr_assert_eq(gn_axon_attach_builtins(ax), 0);
    gn_axon_handler_t h = {.cls = &SLOW, .fn = slow};
    cr_assert_eq(gn_axon_attach(ax, &h), 0);
}

/* ---- misbehaving servers: blocking sockets on a thread ---- */

enum {
    M_SILENT,
    M_RESET_MID,
    M_GARBAGE,
    M_HUGE_LEN,
    M_HUGE_CHUNKED,
    M_ECHO,
    M_KA_CLOSE,
    M_BAD_HDR,
    M_ODD_HDR
};

typedef struct {
    int lfd, port, mode;
    uv_thread_t th;
    volatile int stop;
    char cap[2][16384]; /* the first two requests' bytes */
    char buf[1 << 16];  /* the request being read */
    size_t cap_len[2];
    int n_req, n_conn;
    size_t sent; /* body bytes written (huge modes) */
    int held[64];
    int n_held;
} srv_t;

/* One request (head + Content-Length body) from fd into buf; its length or -1. */
static int read_req(srv_t *s, int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (s->stop)
            return -1;
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t k = recv(fd, buf + n, cap - 1 - n, 0);
        if (k <= 0)
            return -1;
        n += (size_t)k;
        buf[n] = 0;
        char *e = strstr(buf, "\r\n\r\n");
        if (!e)
            continue;
        const char *cl = strstr(buf, "Content-Length:");
        size_t want = (size_t)(e + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        if (n >= want)
            return (int)n;
    }
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

static void echo(srv_t *s, int fd, const char *req)
{
    const char *body = strstr(req, "\r\n\r\n") + 4;
    char head[256];
    int k = snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                     "%zu\r\nbt_header_axon_status_code: 200\r\nbt_header_axon_status_message: "
                     "Success\r\n\r\n",
                     strlen(body));
    send_all(fd, head, (size_t)k);
    send_all(fd, body, strlen(body));
    (void)s;
}

static void serve_conn(srv_t *s, int fd)
{
    char *buf = s->buf; /* each server its own: two may run at once */
    int first = 1;
    for (;;) {
        int n = read_req(s, fd, buf, sizeof(s->buf));
        if (n < 0)
            break;
        if (s->n_req < 2) {
            memcpy(s->cap[s->n_req], buf, (size_t)n + 1);
            s->cap_len[s->n_req] = (size_t)n;
        }
        s->n_req++;
        if (s->mode == M_SILENT) {
            if (s->n_held < 64) {
                s->held[s->n_held++] = fd;
                return;
            }
            break;
        }
        if (s->mode == M_RESET_MID) {
            const char *r = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                            "content-length: 1000\r\n\r\n{\"dummy_input\": 3, ";
            send_all(fd, r, strlen(r));
            usleep(50000);
            struct linger l = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
            break;
        }
        if (s->mode == M_GARBAGE) {
            const char *r = "\x01\x02 this is not HTTP at all\r\n\r\n";
            send_all(fd, r, strlen(r));
            usleep(50000);
            break;
        }
        if (s->mode == M_HUGE_LEN || s->mode == M_HUGE_CHUNKED) {
            const char *r = s->mode == M_HUGE_LEN
                                ? "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                  "content-length: 104857600\r\n\r\n"
                                : "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                  "transfer-encoding: chunked\r\n\r\n";
            send_all(fd, r, strlen(r));
            static char blk[65536 + 16];
            size_t off = 0;
            if (s->mode == M_HUGE_CHUNKED)
                off = (size_t)sprintf(blk, "10000\r\n");
            memset(blk + off, ' ', 65536);
            size_t tot = off + 65536;
            if (s->mode == M_HUGE_CHUNKED) {
                memcpy(blk + tot, "\r\n", 2);
                tot += 2;
            }
            for (int i = 0; i < 1600 && !s->stop; i++) { /* 100 MiB */
                ssize_t k = send(fd, blk, tot, MSG_NOSIGNAL);
                if (k <= 0)
                    break;
                s->sent += (size_t)k;
            }
            break;
        }
        if (s->mode == M_KA_CLOSE && !first)
            break;                  /* the second request on a connection: closed unanswered */
        if (s->mode == M_ODD_HDR) { /* terminal headers plain, then not */
            static const char *const ODD[3] = {
                "bt_header_axon_status_code: 200\r\nbt_header_axon_process_time: 0.25\r\n"
                "bt_header_axon_port: 0099\r\nBT_HEADER_AXON_UUID: upper-name\r\n"
                "bt_header_dendrite_nonce: 9223372036854775807\r\n",
                "bt_header_axon_status_code: 2_00\r\nbt_header_axon_process_time: 2.5e-1\r\n"
                "x-bt_header_axon_nonce: 77\r\nbt_header_axon_port: 99\r\n",
                "bt_header_axon_status_code: 200\r\nbt_header_axon_process_time: 1.\r\n"
                "bt_header_axon_port: +99\r\nbt_header_axon_status_message: first\r\n",
            };
            const char *body = "{\"dummy_input\": 3, \"dummy_output\": 6}";
            char head[512];
            int k = snprintf(head, sizeof(head),
                             "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n%s"
                             "bt_header_axon_status_message: Fine\r\n"
                             "bt_header_dendrite_version: 7002000\r\ncontent-length: %zu\r\n\r\n",
                             ODD[(s->n_req - 1) % 3], strlen(body));
            send_all(fd, head, (size_t)k);
            send_all(fd, body, strlen(body));
            continue;
        }
        if (s->mode == M_BAD_HDR) { /* a whole answer with a header the SDK cannot read */
            static const char *const BAD[3] = {"total_size: many", "timeout: 1.5.5",
                                               "header_size: 99999999999999999999999"};
            const char *body = "{\"dummy_input\": 3, \"dummy_output\": 6}";
            char head[256];
            int k = snprintf(head, sizeof(head),
                             "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n%s\r\n"
                             "content-length: %zu\r\nbt_header_axon_status_code: 200\r\n\r\n",
                             BAD[(s->n_req - 1) % 3], strlen(body));
            send_all(fd, head, (size_t)k);
            send_all(fd, body, strlen(body));
            continue;
        }
        echo(s, fd, buf);
        first = 0;
    }
    close(fd);
}

static void srv_run(void *arg)
{
    srv_t *s = arg;
    while (!s->stop) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        s->n_conn++;
        serve_conn(s, fd);
    }
    for (int i = 0; i < s->n_held; i++)
        close(s->held[i]);
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

static void srv_start(srv_t *s, int mode)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->lfd = listen_any(&s->port);
    cr_assert_eq(listen(s->lfd, 64), 0);
    cr_assert_eq(uv_thread_create(&s->th, srv_run, s), 0);
}

static void srv_stop(srv_t *s)
{
    s->stop = 1;
    uv_thread_join(&s->th);
    close(s->lfd);
}

/* ---- the dendrite on this thread ---- */

typedef struct {
    uv_loop_t loop;
    gn_dendrite_t *d;
    json_t *results;
    int n_results;
    char chunks[4096];
    size_t chunks_len;
    int n_chunks;
    bool closed;
} dx_t;

static void dx_start(dx_t *x, gn_dendrite_opts_t *o)
{
    signal(SIGPIPE, SIG_IGN); /* as a node does: peers close connections under writes */
    memset(x, 0, sizeof(*x));
    keys();
    cr_assert_eq(uv_loop_init(&x->loop), 0);
    o->hotkey = &alice;
    cr_assert_eq(gn_dendrite_new(&x->loop, o, &x->d), 0);
}

static void dx_closed(void *arg)
{
    ((dx_t *)arg)->closed = true;
}

static void dx_stop(dx_t *x)
{
    gn_dendrite_close(x->d, dx_closed, x);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    cr_assert(x->closed);
    cr_assert_eq(uv_loop_close(&x->loop), 0, "every dendrite handle closed");
    json_decref(x->results);
}

static void on_result(size_t idx, json_t *res, void *arg)
{
    dx_t *x = arg;
    (void)idx;
    (void)res;
    x->n_results++;
}

static void on_done(json_t *results, void *arg)
{
    dx_t *x = arg;
    json_decref(x->results);
    x->results = json_incref(results);
}

static void on_chunk(size_t idx, const void *p, size_t n, void *arg)
{
    dx_t *x = arg;
    (void)idx;
    if (x->chunks_len + n < sizeof(x->chunks)) {
        memcpy(x->chunks + x->chunks_len, p, n);
        x->chunks_len += n;
    }
    x->n_chunks++;
}

/* Query and run the loop until every result is in. */
static json_t *query(dx_t *x, const gn_dendrite_target_t *t, size_t n, const gn_syn_class_t *c,
                     const char *syn_json, double timeout)
{
    json_t *s = json_loads(syn_json, 0, NULL);
    cr_assert_not_null(s);
    json_decref(x->results);
    x->results = NULL;
    cr_assert_eq(gn_dendrite_query(x->d, t, n, c, s, timeout, on_result, on_done, x, NULL), 0);
    json_decref(s);
    while (!x->results)
        uv_run(&x->loop, UV_RUN_ONCE);
    cr_assert_eq(json_array_size(x->results), n);
    return x->results;
}

static json_t *one(dx_t *x, const char *ip, int port, const gn_syn_class_t *c, const char *syn_json,
                   double timeout)
{
    gn_dendrite_target_t t = {.ip = ip, .port = (uint16_t)port, .hotkey = BOB};
    return json_array_get(query(x, &t, 1, c, syn_json, timeout), 0);
}

static json_int_t code_of(const json_t *r)
{
    return json_integer_value(json_object_get(json_object_get(r, "dendrite"), "status_code"));
}

static const char *msg_of(const json_t *r)
{
    const char *m =
        json_string_value(json_object_get(json_object_get(r, "dendrite"), "status_message"));
    return m ? m : "(null)";
}

/* ---- tests ---- */

Test(dendrite, dummy_succeeds_against_the_axon_and_merges_the_response, .timeout = 60)
{
    ax_t a;
    gn_axon_opts_t ao = {0};
    ax_start(&a, &ao);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    json_t *r = one(&x, "127.0.0.1", a.port, &DUMMY, "{\"dummy_input\": 3}", 5);
    cr_assert_eq(code_of(r), 200, "%s", msg_of(r));
    cr_assert_str_eq(msg_of(r), "Success");
    cr_assert_eq(json_integer_value(json_object_get(r, "dummy_output")), 6);
    cr_assert_eq(json_integer_value(json_object_get(r, "dummy_input")), 3);
    json_t *den = json_object_get(r, "dendrite"), *ax = json_object_get(r, "axon");
    cr_assert(json_is_real(json_object_get(den, "process_time")));
    cr_assert_gt(json_real_value(json_object_get(den, "process_time")), 0);
    cr_assert_eq(json_integer_value(json_object_get(ax, "status_code")), 200);
    cr_assert_str_eq(json_string_value(json_object_get(ax, "hotkey")), BOB);
    cr_assert_str_eq(json_string_value(json_object_get(den, "hotkey")), ALICE);
    /* the ping route, and the same connection reused */
    json_t *p = one(&x, "127.0.0.1", a.port, &GN_SYN_SYNAPSE, "{}", 5);
    cr_assert_eq(code_of(p), 200, "%s", msg_of(p));
    gn_dendrite_stats_t st;
    gn_dendrite_stats(x.d, &st);
    cr_assert_eq(st.requests, 2);
    cr_assert_eq(st.by_status[200], 2);
    cr_assert_eq(st.conns_opened, 1);
    cr_assert_eq(st.conns_reused, 1);
    uint64_t lat = 0;
    for (int i = 0; i < GN_DENDRITE_LAT_BUCKETS; i++)
        lat += st.latency[i];
    cr_assert_eq(lat, 2);
    dx_stop(&x);
    ax_stop(&a);
}

Test(dendrite, ipv6_and_our_own_external_ip_as_loopback, .timeout = 60)
{
    ax_t a;
    gn_axon_opts_t ao = {.ip = "::1"};
    ax_start(&a, &ao);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){.external_ip = "198.51.100.23"});
    json_t *r = one(&x, "::1", a.port, &DUMMY, "{\"dummy_input\": 4}", 5);
    cr_assert_eq(code_of(r), 200, "%s", msg_of(r));
    cr_assert_eq(json_integer_value(json_object_get(r, "dummy_output")), 8);
    dx_stop(&x);
    ax_stop(&a);
    gn_axon_opts_t bo = {0};
    ax_start(&a, &bo);
    dx_start(&x, &(gn_dendrite_opts_t){.external_ip = "198.51.100.23"});
    r = one(&x, "198.51.100.23", a.port, &DUMMY, "{\"dummy_input\": 4}", 5);
    cr_assert_eq(code_of(r), 200, "%s", msg_of(r));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "axon"), "ip")),
                     "198.51.100.23", "the headers keep the public ip");
    dx_stop(&x);
    ax_stop(&a);
}

Test(dendrite, invalid_synapse_is_refused_before_sending, .timeout = 30)
{
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    gn_dendrite_target_t t = {.ip = "127.0.0.1", .port = 1, .hotkey = BOB};
    json_t *s = json_pack("{s:s}", "dummy_output", "x");
    cr_assert_eq(gn_dendrite_query(x.d, &t, 1, &DUMMY, s, 5, NULL, on_done, &x, NULL), GN_EINVAL);
    cr_assert_eq(gn_dendrite_query(x.d, &t, 1, &DUMMY, s, 0, NULL, on_done, &x, NULL), GN_EINVAL);
    json_decref(s);
    json_t *r = query(&x, &t, 0, &DUMMY, "{\"dummy_input\": 1}", 5);
    cr_assert_eq(json_array_size(r), 0);
    dx_stop(&x);
}

Test(dendrite, axon_refusals_404_and_403_with_the_sdk_messages, .timeout = 60)
{
    ax_t a;
    const char *deny[] = {ALICE};
    gn_axon_opts_t ao = {.policy = {.deny = deny, .n_deny = 1}};
    ax_start(&a, &ao);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    json_t *r = one(&x, "127.0.0.1", a.port, &FOO, "{\"dummy_input\": 3}", 5);
    cr_assert_eq(code_of(r), 404, "%s", msg_of(r));
    cr_assert_str_eq(msg_of(r), "Synapse name 'Foo' not found. Available synapses ['Synapse', "
                                "'Dummy', 'StreamingDummy']");
    cr_assert(json_is_null(json_object_get(r, "dummy_output")), "fields untouched");
    cr_assert(json_is_real(json_object_get(json_object_get(r, "dendrite"), "process_time")));
    r = one(&x, "127.0.0.1", a.port, &DUMMY, "{\"dummy_input\": 3}", 5);
    cr_assert_eq(code_of(r), 403, "%s", msg_of(r));
    cr_assert(!strncmp(msg_of(r), "Forbidden. Key is blacklisted: ", 31), "%s", msg_of(r));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "axon"), "status_code")),
                 403);
    dx_stop(&x);
    ax_stop(&a);
}

Test(dendrite, streaming_dummy_arrives_in_chunks_then_the_final_synapse, .timeout = 60)
{
    ax_t a;
    gn_axon_opts_t ao = {0};
    ax_start(&a, &ao);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    gn_dendrite_target_t t = {.ip = "127.0.0.1", .port = (uint16_t)a.port, .hotkey = BOB};
    json_t *s = json_pack("{s:s}", "text", "one two three four");
    cr_assert_eq(gn_dendrite_stream(x.d, &t, &STREAMING_DUMMY, s, 5, on_chunk, on_done, &x, NULL),
                 0);
    json_decref(s);
    while (!x.results)
        uv_run(&x.loop, UV_RUN_ONCE);
    x.chunks[x.chunks_len] = 0;
    cr_assert_str_eq(x.chunks, "one two three four");
    cr_assert_geq(x.n_chunks, 1);
    json_t *r = json_array_get(x.results, 0);
    cr_assert_eq(code_of(r), 200, "%s", msg_of(r));
    cr_assert_str_eq(msg_of(r), "Success");
    cr_assert_str_eq(json_string_value(json_object_get(r, "text")), "one two three four");
    dx_stop(&x);
    ax_stop(&a);
}

Test(dendrite, two_hundred_fifty_six_targets_in_one_call, .timeout = 120)
{
    ax_t a, b;
    gn_axon_opts_t ao = {0}, bo = {0};
    ax_start(&a, &ao);
    ax_start(&b, &bo);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){.max_per_axon = 8});
    gn_dendrite_target_t t[256];
    for (int i = 0; i < 256; i++)
        t[i] = (gn_dendrite_target_t){
            .ip = "127.0.0.1", .port = (uint16_t)(i % 2 ? b.port : a.port), .hotkey = BOB};
    json_t *rs = query(&x, t, 256, &DUMMY, "{\"dummy_input\": 21}", 30);
    cr_assert_eq(x.n_results, 256);
    json_int_t last = 0;
    for (size_t i = 0; i < 256; i++) {
        json_t *r = json_array_get(rs, i);
        cr_assert_eq(code_of(r), 200, "%zu: %s", i, msg_of(r));
        cr_assert_eq(json_integer_value(json_object_get(r, "dummy_output")), 42);
        json_t *ax = json_object_get(r, "axon"), *den = json_object_get(r, "dendrite");
        cr_assert_eq(json_integer_value(json_object_get(ax, "port")), t[i].port, "target order");
        json_int_t nonce = json_integer_value(json_object_get(den, "nonce"));
        cr_assert_gt(nonce, last, "nonces strictly increasing");
        last = nonce;
    }
    gn_dendrite_stats_t st;
    gn_dendrite_stats(x.d, &st);
    cr_assert_leq(st.conns_opened, 16, "at most 8 connections per axon");
    cr_assert_eq(st.conns_opened + st.conns_reused, 256);
    dx_stop(&x);
    ax_stop(&a);
    ax_stop(&b);
}

Test(dendrite, nothing_listening_is_503, .timeout = 30)
{
    int port;
    int fd = listen_any(&port);
    close(fd);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    json_t *r = one(&x, "127.0.0.1", port, &DUMMY, "{\"dummy_input\": 3}", 5);
    cr_assert_eq(code_of(r), 503);
    char want[128];
    snprintf(want, sizeof(want), "Service unavailable at 127.0.0.1:%d/Dummy", port);
    cr_assert_str_eq(msg_of(r), want);
    cr_assert(json_is_null(json_object_get(json_object_get(r, "dendrite"), "process_time")));
    /* an address that is no IP */
    r = one(&x, "not an ip", port, &DUMMY, "{\"dummy_input\": 3}", 5);
    cr_assert_eq(code_of(r), 422, "%s", msg_of(r));
    dx_stop(&x);
}

Test(dendrite, a_server_that_never_answers_is_408_at_the_deadline, .timeout = 30)
{
    srv_t s;
    srv_start(&s, M_SILENT);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    uint64_t t0 = uv_hrtime();
    json_t *r = one(&x, "127.0.0.1", s.port, &DUMMY, "{\"dummy_input\": 3}", 0.5);
    double el = (double)(uv_hrtime() - t0) / 1e9;
    cr_assert_eq(code_of(r), 408);
    cr_assert_str_eq(msg_of(r), "Request timeout after 0.5 seconds");
    cr_assert(el >= 0.45 && el < 2.0, "%f s", el);
    r = one(&x, "127.0.0.1", s.port, &DUMMY, "{\"dummy_input\": 3}", 1);
    cr_assert_str_eq(msg_of(r), "Request timeout after 1.0 seconds");
    dx_stop(&x);
    srv_stop(&s);
}

Test(dendrite, reset_mid_body_and_garbage_get_the_sdk_statuses, .timeout = 30)
{
    srv_t s;
    srv_start(&s, M_RESET_MID);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    json_t *r = one(&x, "127.0.0.1", s.port, &DUMMY, "{\"dummy_input\": 3}", 5);
    cr_assert_eq(code_of(r), 400, "%s", msg_of(r));
    cr_assert(!strncmp(msg_of(r), "Payload error: ", 15), "%s", msg_of(r));
    srv_stop(&s);
    srv_start(&s, M_GARBAGE);
    r = one(&x, "127.0.0.1", s.port, &DUMMY, "{\"dummy_input\": 3}", 5);
    cr_assert_eq(code_of(r), 400, "%s", msg_of(r));
    cr_assert(!strncmp(msg_of(r), "Client response error: 400", 26), "%s", msg_of(r));
    srv_stop(&s);
    dx_stop(&x);
}

Test(dendrite, a_100_mb_body_fails_without_being_buffered, .timeout = 60)
{
    for (int mode = M_HUGE_LEN; mode <= M_HUGE_CHUNKED; mode++) {
        srv_t s;
        srv_start(&s, mode);
        dx_t x;
        dx_start(&x, &(gn_dendrite_opts_t){.max_body = 1u << 20});
        json_t *r = one(&x, "127.0.0.1", s.port, &DUMMY, "{\"dummy_input\": 3}", 20);
        cr_assert_eq(code_of(r), 422, "%s", msg_of(r));
        cr_assert_str_eq(msg_of(r),
                         "Failed to parse response: response body larger than 1048576 bytes");
        dx_stop(&x);
        srv_stop(&s);
        cr_assert_lt(s.sent, 100u << 20, "the dendrite stopped reading (%zu sent)", s.sent);
    }
}

Test(dendrite, a_pooled_connection_closed_by_the_server_is_retried, .timeout = 30)
{
    srv_t s;
    srv_start(&s, M_KA_CLOSE);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    for (int i = 0; i < 3; i++) {
        json_t *r = one(&x, "127.0.0.1", s.port, &DUMMY, "{\"dummy_input\": 3}", 5);
        cr_assert_eq(code_of(r), 200, "%d: %s", i, msg_of(r));
    }
    gn_dendrite_stats_t st;
    gn_dendrite_stats(x.d, &st);
    cr_assert_eq(st.retries_stale, 2);
    cr_assert_eq(st.conns_opened, 3);
    dx_stop(&x);
    srv_stop(&s);
}

/* Map the examples' axon address to a local server. */
static int route_to(void *arg, const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
    (void)ip;
    (void)port;
    return uv_ip4_addr("127.0.0.1", *(int *)arg, (struct sockaddr_in *)ss);
}

static void check_example(dx_t *x, srv_t *s, const json_t *ex, const gn_syn_class_t *c,
                          double timeout)
{
    json_t *want_h = json_object_get(ex, "headers");
    json_t *want_b = json_loads(json_string_value(json_object_get(ex, "body")), 0, NULL);
    /* the caller's synapse: the class's own fields of the example body */
    json_t *syn = json_object();
    for (size_t i = 0; i < c->n_fields; i++)
        json_object_set(syn, c->fields[i].name, json_object_get(want_b, c->fields[i].name));
    char *txt = json_dumps(syn, 0);
    int before = s->n_req;
    json_t *r = one(x, "203.0.113.7", 8091, c, txt, timeout);
    free(txt);
    json_decref(syn);
    cr_assert_eq(code_of(r), 200, "%s", msg_of(r));
    cr_assert_eq(s->n_req, before + 1);
    const char *req = s->cap[before];
    cr_assert(!strncmp(req, "POST /", 6));
    char line[64];
    snprintf(line, sizeof(line), "POST /%s HTTP/1.1\r\n", c->name);
    cr_assert(!strncmp(req, line, strlen(line)), "%s", req);
    /* header by header */
    const char *skip[] = {"bt_header_dendrite_nonce", "bt_header_dendrite_signature", "header_size",
                          "total_size"};
    const char *k;
    json_t *v;
    json_object_foreach (want_h, k, v) {
        char pat[128];
        snprintf(pat, sizeof(pat), "\r\n%s: ", k);
        const char *at = strstr(req, pat);
        cr_assert_not_null(at, "header %s missing\n%s", k, req);
        at += strlen(pat);
        size_t n = strcspn(at, "\r");
        bool sk = false;
        for (size_t i = 0; i < 4; i++)
            sk |= !strcmp(skip[i], k);
        if (!sk)
            cr_assert(n == json_string_length(v) && !memcmp(at, json_string_value(v), n),
                      "header %s: %.*s, want %s", k, (int)n, at, json_string_value(v));
        else
            cr_assert_gt(n, 0);
    }
    cr_assert_not_null(strstr(req, "\r\nHost: 203.0.113.7:8091\r\n"));
    cr_assert_not_null(strstr(req, "\r\nContent-Type: application/json\r\n"));
    /* the body: same values, nonce and signature aside; Python's separators */
    const char *body = strstr(req, "\r\n\r\n") + 4;
    cr_assert_not_null(strstr(body, "\"name\": \""), "Python json.dumps separators");
    json_t *got = json_loads(body, 0, NULL);
    cr_assert_not_null(got);
    json_object_foreach (want_b, k, v) {
        json_t *g = json_object_get(got, k);
        cr_assert_not_null(g, "body field %s", k);
        if (!strcmp(k, "total_size"))
            continue;
        if (!strcmp(k, "dendrite")) {
            const char *tk;
            json_t *tv;
            json_object_foreach (v, tk, tv)
                if (strcmp(tk, "nonce") && strcmp(tk, "signature"))
                    cr_assert(json_equal(tv, json_object_get(g, tk)), "dendrite.%s", tk);
            continue;
        }
        cr_assert(json_equal(v, g), "body field %s", k);
    }
    /* the signature verifies over the signed message */
    json_t *den = json_object_get(got, "dendrite");
    char msg[512];
    int ml = gn_synapse_message((uint64_t)json_integer_value(json_object_get(den, "nonce")), ALICE,
                                BOB, json_string_value(json_object_get(den, "uuid")),
                                json_string_value(json_object_get(want_h, "computed_body_hash")),
                                msg, sizeof(msg));
    cr_assert_gt(ml, 0);
    uint8_t sig[64];
    cr_assert_eq(sodium_hex2bin(sig, 64, json_string_value(json_object_get(den, "signature")) + 2,
                                128, NULL, NULL, NULL),
                 0);
    cr_assert_eq(gn_sr25519_verify(alice.pub, (const uint8_t *)msg, (size_t)ml, sig), 0);
    /* total_size in the body equals its header */
    char ts[32];
    snprintf(ts, sizeof(ts), "\r\ntotal_size: %lld\r\n",
             (long long)json_integer_value(json_object_get(got, "total_size")));
    cr_assert_not_null(strstr(req, ts));
    json_decref(got);
    json_decref(want_b);
}

Test(dendrite, requests_match_the_worked_examples_header_by_header, .timeout = 60)
{
    json_t *ex = gn_test_load_shared_json("spec/wire-examples.json");
    srv_t s;
    srv_start(&s, M_ECHO);
    dx_t x;
    json_t *fixed = json_object_get(ex, "fixed");
    dx_start(&x, &(gn_dendrite_opts_t){
                     .external_ip = json_string_value(json_object_get(fixed, "dendrite_ip")),
                     .uuid = json_string_value(json_object_get(fixed, "dendrite_uuid")),
                     .route = route_to,
                     .route_arg = &s.port});
    check_example(&x, &s, json_object_get(ex, "example1_dummy"), &DUMMY, 12.0);
    check_example(&x, &s, json_object_get(ex, "example2_textquery"), &TEXTQUERY, 20.0);
    dx_stop(&x);
    srv_stop(&s);
    json_decref(ex);
}

static void cancel_on_first(size_t idx, json_t *res, void *arg)
{
    dx_t *x = arg;
    (void)idx;
    (void)res;
    x->n_results++;
}

Test(dendrite, cancel_and_close_finish_every_request, .timeout = 30)
{
    srv_t s;
    srv_start(&s, M_SILENT);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){.max_per_axon = 2});
    gn_dendrite_target_t t[5];
    for (int i = 0; i < 5; i++)
        t[i] = (gn_dendrite_target_t){.ip = "127.0.0.1", .port = (uint16_t)s.port, .hotkey = BOB};
    json_t *syn = json_pack("{s:i}", "dummy_input", 1);
    uint64_t id;
    cr_assert_eq(gn_dendrite_query(x.d, t, 5, &DUMMY, syn, 10, cancel_on_first, on_done, &x, &id),
                 0);
    for (int i = 0; i < 20; i++)
        uv_run(&x.loop, UV_RUN_NOWAIT);
    gn_dendrite_stats_t st;
    gn_dendrite_stats(x.d, &st);
    cr_assert_eq(st.in_flight, 2, "per-axon limit");
    cr_assert_eq(st.waiting, 3);
    cr_assert_eq(gn_dendrite_cancel(x.d, id), 0);
    cr_assert_not_null(x.results, "on_done before cancel returns");
    cr_assert_eq(x.n_results, 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *r = json_array_get(x.results, i);
        cr_assert_eq(code_of(r), 499);
        cr_assert_str_eq(msg_of(r), "Request cancelled");
    }
    cr_assert_eq(gn_dendrite_cancel(x.d, id), GN_ENOENT);
    /* a query still running when the dendrite closes */
    json_decref(x.results);
    x.results = NULL;
    cr_assert_eq(gn_dendrite_query(x.d, t, 2, &DUMMY, syn, 10, NULL, on_done, &x, NULL), 0);
    json_decref(syn);
    gn_dendrite_close(x.d, dx_closed, &x);
    cr_assert_not_null(x.results);
    cr_assert_eq(code_of(json_array_get(x.results, 1)), 499);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    cr_assert(x.closed);
    cr_assert_eq(uv_loop_close(&x.loop), 0);
    json_decref(x.results);
    srv_stop(&s);
}

Test(dendrite, a_handler_slower_than_the_timeout_is_408_at_the_deadline_and_the_pool_recovers,
     .timeout = 60)
{
    /* the axon answers the timed-out request on a connection the dendrite
     * closed: EPIPE, not a signal (a node ignores SIGPIPE) */
    signal(SIGPIPE, SIG_IGN);
    atomic_store(&slow_pending, 0);
    atomic_store(&slow_late, 0);
    ax_t a;
    gn_axon_opts_t ao = {.hotkey = &bob};
    keys();
    gn_test_axon_start(&a, &ao, attach_slow, NULL);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    /* a quick answer first: its connection goes to the pool */
    json_t *r = one(&x, "127.0.0.1", a.port, &SLOW, "{\"dummy_input\": 1, \"delay_ms\": 0}", 5);
    cr_assert_eq(code_of(r), 200, "%s", msg_of(r));
    gn_dendrite_stats_t st;
    gn_dendrite_stats(x.d, &st);
    cr_assert_eq(st.idle_conns, 1);
    /* the handler takes 1.5 s, the request allows 0.4 s: on the pooled connection */
    uint64_t t0 = uv_hrtime();
    r = one(&x, "127.0.0.1", a.port, &SLOW, "{\"dummy_input\": 2, \"delay_ms\": 1500}", 0.4);
    double el = (double)(uv_hrtime() - t0) / 1e9;
    cr_assert_eq(code_of(r), 408, "%s", msg_of(r));
    cr_assert_str_eq(msg_of(r), "Request timeout after 0.4 seconds", "the SDK's message");
    /* at the deadline, not when the handler answers (1.5 s); slack for a busy machine */
    cr_assert(el >= 0.39 && el < 0.9, "at the deadline, not later: %.3f s", el);
    cr_assert(json_is_null(json_object_get(r, "dummy_output")), "no answer merged");
    cr_assert(json_is_null(json_object_get(json_object_get(r, "dendrite"), "process_time")),
              "a client-side failure, as the SDK leaves it");
    gn_dendrite_stats(x.d, &st);
    cr_assert_eq(st.conns_reused, 1, "the slow request went on the pooled connection");
    cr_assert_eq(st.idle_conns, 0, "its connection was closed, not put back");
    cr_assert_eq(st.in_flight, 0);
    /* the next query to the same axon: a fresh connection, a whole answer */
    r = one(&x, "127.0.0.1", a.port, &SLOW, "{\"dummy_input\": 3, \"delay_ms\": 0}", 5);
    cr_assert_eq(code_of(r), 200, "%s", msg_of(r));
    cr_assert_eq(json_integer_value(json_object_get(r, "dummy_output")), 6,
                 "its own answer, not the late one (4)");
    gn_dendrite_stats(x.d, &st);
    cr_assert_eq(st.conns_opened, 2);
    cr_assert_eq(st.by_status[408], 1);
    cr_assert_eq(st.by_status[200], 2);
    /* ... and once the late answer has been written (and refused) on the
     * closed connection, the pooled one still serves */
    for (int i = 0; i < 300 && atomic_load(&slow_pending); i++)
        usleep(10000);
    cr_assert_eq(atomic_load(&slow_pending), 0, "the slow handler answered");
    cr_assert_eq(atomic_load(&slow_late), 1, "its answer came after the deadline");
    r = one(&x, "127.0.0.1", a.port, &SLOW, "{\"dummy_input\": 4, \"delay_ms\": 0}", 5);
    cr_assert_eq(code_of(r), 200, "%s", msg_of(r));
    cr_assert_eq(json_integer_value(json_object_get(r, "dummy_output")), 8);
    gn_dendrite_stats(x.d, &st);
    cr_assert_eq(st.conns_opened, 2);
    cr_assert_eq(st.conns_reused, 2);
    dx_stop(&x);
    ax_stop(&a);
}

/* ---- the fast JSON reader: equal to json_loadb wherever it answers ---- */

/* Compare on one input; counts what the fast reader took. */
static void json_same(const char *text, size_t len, int *taken, int *valid)
{
    json_error_t e;
    json_t *ref = json_loadb(text, len, JSON_DECODE_ANY, &e);
    json_t *fast = gn_dendrite_json_parse(text, len);
    if (ref)
        (*valid)++;
    if (!fast) {
        json_decref(ref);
        return;
    }
    (*taken)++;
    cr_assert_not_null(ref, "the fast reader took what jansson refuses (%s): %.*s", e.text,
                       (int)len, text);
    char *a = json_dumps(fast, JSON_ENCODE_ANY | JSON_COMPACT);
    char *b = json_dumps(ref, JSON_ENCODE_ANY | JSON_COMPACT);
    cr_assert(json_equal(fast, ref) && a && b && !strcmp(a, b), "%.*s\n fast %s\n jansson %s",
              (int)len, text, a, b);
    free(a);
    free(b);
    json_decref(fast);
    json_decref(ref);
}

Test(dendrite, the_fast_json_reader_equals_jansson, .timeout = 120)
{
    static const char *const SEEDS[] = {
        "{\"name\":\"Dummy\",\"timeout\":12.0,\"total_size\":732,\"header_size\":0,\"dendrite\":"
        "{\"status_code\":null,\"status_message\":null,\"process_time\":null,\"ip\":null,"
        "\"port\":null,\"version\":10002000,\"nonce\":1795314841600398666,\"uuid\":\"016f1df3-"
        "0033-41a7-becb-0b5da52815d6\",\"hotkey\":\"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGK"
        "utQY\",\"signature\":\"0x46d0\"},\"axon\":{\"status_code\":200,\"status_message\":"
        "\"Success\",\"process_time\":7.62e-07,\"ip\":\"127.0.0.1\",\"port\":8091},"
        "\"computed_body_hash\":\"\",\"dummy_input\":3,\"dummy_output\":6}",
        "{\"message\": \"Synapse name 'Foo' not found\"}",
        " [1, -0, 0.5, -2.5e-3, 1E+2, 1e400, 123456789012345678, 1234567890123456789012, true, "
        "false, null, [], {}, [[[]]], {\"a\": {\"b\": [1, {\"c\": null}]}}] ",
        "\"caf\\u00e9 \\ud83d\\ude00 \\n\\t\\\\ \\/ \\\" \xc3\xa9 \xf0\x9f\x98\x80 \\u0041\"",
        "{\"dup\": 1, \"dup\": 2, \"\": \"empty key\", \"k\\u00e9y\": [\"x\"]}",
        "{\"bad\": \"\\u0000\", \"lone\": \"\\udc00\", \"hi\": \"\\ud800x\"}",
        "01",
        "-",
        "1.",
        "1e",
        "truex",
        "[1,]",
        "{\"a\" 1}",
        "\"\x01\"",
        "\"\xc0\xaf\" ",
        "\"\xed\xa0\x80\"",
        "\xef\xbb\xbf{}",
        "{} x",
        "9223372036854775807",
        "-9223372036854775808",
        "0.000000000000000000000000000000000000000000000000000000000000000001e-400",
        "[\"\\q\"]",
        "\"unterminated",
        "\"\\",
    };
    int taken = 0, valid = 0;
    size_t ns = sizeof(SEEDS) / sizeof(SEEDS[0]);
    for (size_t i = 0; i < ns; i++)
        json_same(SEEDS[i], strlen(SEEDS[i]), &taken, &valid);
    cr_assert_geq(taken, 6, "the plain seeds are the fast reader's (%d)", taken);
    /* the response body above is read fast, whole */
    json_t *body = gn_dendrite_json_parse(SEEDS[0], strlen(SEEDS[0]));
    cr_assert_not_null(body);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(body, "dendrite"), "nonce")),
                 1795314841600398666ll);
    json_decref(body);
    /* mutations: bytes changed, cut, doubled */
    static const char ALPHA[] = "{}[]\",:\\/0123456789.eE+-tfnul \t\n\x01\x7f\xc3\xa9\xff";
    uint64_t st = 0x9e3779b97f4a7c15ull;
    char buf[2048];
    for (int iter = 0; iter < 100000; iter++) {
        st ^= st << 13, st ^= st >> 7, st ^= st << 17;
        const char *seed = SEEDS[st % ns];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        int edits = 1 + (int)(st >> 8) % 3;
        for (int k = 0; k < edits && len; k++) {
            st ^= st << 13, st ^= st >> 7, st ^= st << 17;
            size_t at = (size_t)(st >> 16) % len;
            switch ((st >> 4) % 4) {
            case 0: buf[at] = ALPHA[(st >> 32) % (sizeof(ALPHA) - 1)]; break;
            case 1: len = at; break;
            case 2:
                if (len < sizeof(buf) - 1) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = ALPHA[(st >> 40) % (sizeof(ALPHA) - 1)];
                    len++;
                }
                break;
            default:
                if (len > 1) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
                break;
            }
        }
        json_same(buf, len, &taken, &valid);
    }
    cr_log_info("fast JSON reader: %d of %d valid inputs taken, all equal to jansson", taken,
                valid);
    cr_assert_gt(taken, 1000);
}

/* ---- building and signing ---- */

/* A captured request is consistent with itself: Content-Length is the
 * body's length, header_size the bytes of the synapse's header lines
 * before it, total_size (header and body) the compact body's length with
 * total_size 0, the per-target values equal in headers and body, and the
 * signature verifies. */
static void check_request(const char *req, const char *want_hotkey)
{
    const char *body = strstr(req, "\r\n\r\n");
    cr_assert_not_null(body);
    body += 4;
    const char *cl = strstr(req, "\r\nContent-Length: ");
    cr_assert_not_null(cl);
    cr_assert_eq(strtoul(cl + 18, NULL, 10), strlen(body), "Content-Length");
    const char *first = strstr(req, "\r\nname: "), *hs = strstr(req, "\r\nheader_size: ");
    cr_assert(first && hs && first < hs);
    cr_assert_eq(strtoul(hs + 15, NULL, 10), (unsigned long)(hs - first), "header_size");
    json_t *got = json_loads(body, 0, NULL);
    cr_assert_not_null(got, "%s", body);
    json_int_t ts = json_integer_value(json_object_get(got, "total_size"));
    char want_ts[48];
    snprintf(want_ts, sizeof(want_ts), "\r\ntotal_size: %lld\r\n", (long long)ts);
    cr_assert_not_null(strstr(req, want_ts), "total_size in the headers equals the body's");
    json_t *zero = json_deep_copy(got);
    json_object_set_new(zero, "total_size", json_integer(0));
    char *compact = gn_synapse_json_compact(zero);
    cr_assert_eq((size_t)ts, strlen(compact), "total_size is the compact body's length");
    free(compact);
    json_decref(zero);
    json_t *den = json_object_get(got, "dendrite"), *ax = json_object_get(got, "axon");
    const char *hk = json_string_value(json_object_get(ax, "hotkey"));
    cr_assert_str_eq(hk, want_hotkey);
    char line[256];
    snprintf(line, sizeof(line), "\r\nbt_header_dendrite_nonce: %lld\r\n",
             (long long)json_integer_value(json_object_get(den, "nonce")));
    cr_assert_not_null(strstr(req, line), "the nonce in both");
    snprintf(line, sizeof(line), "\r\nbt_header_dendrite_signature: %s\r\n",
             json_string_value(json_object_get(den, "signature")));
    cr_assert_not_null(strstr(req, line), "the signature in both");
    snprintf(line, sizeof(line), "\r\nbt_header_axon_port: %lld\r\n",
             (long long)json_integer_value(json_object_get(ax, "port")));
    cr_assert_not_null(strstr(req, line), "the port in both");
    const char *hash = strstr(req, "\r\ncomputed_body_hash: ");
    cr_assert_not_null(hash);
    char h[65];
    memcpy(h, hash + 22, 64);
    h[64] = 0;
    char msg[512];
    int ml =
        gn_synapse_message((uint64_t)json_integer_value(json_object_get(den, "nonce")), ALICE, hk,
                           json_string_value(json_object_get(den, "uuid")), h, msg, sizeof(msg));
    cr_assert_gt(ml, 0);
    uint8_t sig[64];
    cr_assert_eq(sodium_hex2bin(sig, 64, json_string_value(json_object_get(den, "signature")) + 2,
                                128, NULL, NULL, NULL),
                 0);
    cr_assert_eq(gn_sr25519_verify(alice.pub, (const uint8_t *)msg, (size_t)ml, sig), 0,
                 "the signature verifies");
    json_decref(got);
}

Test(dendrite, templated_and_whole_built_requests_are_each_consistent, .timeout = 60)
{
    /* one echo server per target (each serves one connection at a time) */
    static srv_t s1, s2;
    srv_start(&s1, M_ECHO);
    srv_start(&s2, M_ECHO);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){.external_ip = "198.51.100.23"});
    /* an SS58 hotkey goes through the template; one with a quote and a
     * non-ASCII letter (nothing an axon takes, but the echo does) is
     * built whole */
    const char *odd = "5FHneW46\"x\xc3\xa9";
    gn_dendrite_target_t t[2] = {{.ip = "127.0.0.1", .port = (uint16_t)s1.port, .hotkey = BOB},
                                 {.ip = "127.0.0.1", .port = (uint16_t)s2.port, .hotkey = odd}};
    json_t *rs = query(&x, t, 2, &TEXTQUERY,
                       "{\"prompt\": \"caf\\u00e9 \\\"quoted\\\"\", \"tags\": [\"a\", 1]}", 5);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(code_of(json_array_get(rs, i)), 200, "%d: %s", i,
                     msg_of(json_array_get(rs, i)));
    cr_assert_eq(s1.n_req, 1);
    cr_assert_eq(s2.n_req, 1);
    check_request(s1.cap[0], BOB);
    check_request(s2.cap[0], odd);
    cr_assert_not_null(strstr(s2.cap[0], "\"hotkey\": \"5FHneW46\\\"x\\u00e9\""),
                       "escaped as Python does: %s", s2.cap[0]);
    dx_stop(&x);
    srv_stop(&s1);
    srv_stop(&s2);
}

static void wait_witnesses(dx_t *x, unsigned want)
{
    gn_dendrite_stats_t st;
    for (int i = 0; i < 3000; i++) {
        gn_dendrite_stats(x->d, &st);
        if (st.witnesses >= want)
            return;
        uv_run(&x->loop, UV_RUN_NOWAIT);
        usleep(2000);
    }
    cr_assert_fail("%u witnesses made, %u wanted", st.witnesses, want);
}

Test(dendrite, witnesses_made_ahead_sign_requests_the_axon_accepts, .timeout = 120)
{
    ax_t a;
    gn_axon_opts_t ao = {0};
    ax_start(&a, &ao);
    gn_dendrite_target_t t[40];
    for (int i = 0; i < 40; i++)
        t[i] = (gn_dendrite_target_t){.ip = "127.0.0.1", .port = (uint16_t)a.port, .hotkey = BOB};
    /* on the thread pool and on the loop thread, with and without witnesses */
    const gn_dendrite_opts_t modes[4] = {
        {.witness_pool = 64},
        {.witness_pool = 64, .sign_threads = -1},
        {.witness_pool = -1},
        {.witness_pool = 16, .sign_threads = 1},
    };
    for (int m = 0; m < 4; m++) {
        dx_t x;
        gn_dendrite_opts_t o = modes[m];
        dx_start(&x, &o);
        unsigned pool = o.witness_pool > 0 ? (unsigned)o.witness_pool : 0;
        if (pool)
            wait_witnesses(&x, pool);
        json_t *rs = query(&x, t, 40, &DUMMY, "{\"dummy_input\": 5}", 30);
        for (size_t i = 0; i < 40; i++) {
            json_t *r = json_array_get(rs, i);
            cr_assert_eq(code_of(r), 200, "mode %d, %zu: %s", m, i, msg_of(r));
            cr_assert_eq(json_integer_value(json_object_get(r, "dummy_output")), 10);
        }
        gn_dendrite_stats_t st;
        gn_dendrite_stats(x.d, &st);
        uint64_t want_wit = pool < 40 ? pool : 40;
        /* a refill may add a few while the query runs (not while jobs sign) */
        cr_assert_geq(st.signed_witness, want_wit, "mode %d", m);
        cr_assert_eq(st.signed_witness + st.signed_whole, 40, "mode %d", m);
        if (!pool)
            cr_assert_eq(st.signed_witness, 0);
        if (pool)
            wait_witnesses(&x, pool); /* made again */
        dx_stop(&x);
    }
    ax_stop(&a);
}

Test(dendrite, cancel_and_close_while_requests_are_being_signed, .timeout = 60)
{
    srv_t s;
    srv_start(&s, M_SILENT);
    gn_dendrite_target_t t[512];
    for (int i = 0; i < 512; i++)
        t[i] = (gn_dendrite_target_t){.ip = "127.0.0.1", .port = (uint16_t)s.port, .hotkey = BOB};
    for (int round = 0; round < 2; round++) {
        dx_t x;
        dx_start(&x, &(gn_dendrite_opts_t){.witness_pool = -1, .max_per_axon = 4});
        json_t *syn = json_pack("{s:i}", "dummy_input", 1);
        uint64_t id;
        cr_assert_eq(gn_dendrite_query(x.d, t, 512, &DUMMY, syn, 10, on_result, on_done, &x, &id),
                     0);
        json_decref(syn);
        if (round == 0) { /* jobs still signing: cancel, then let them finish */
            cr_assert_eq(gn_dendrite_cancel(x.d, id), 0);
            cr_assert_not_null(x.results, "on_done before cancel returns");
            for (int i = 0; i < 50; i++)
                uv_run(&x.loop, UV_RUN_NOWAIT);
        } else { /* or close at once */
            gn_dendrite_close(x.d, dx_closed, &x);
            cr_assert_not_null(x.results);
        }
        cr_assert_eq(x.n_results, 512);
        for (size_t i = 0; i < 512; i++)
            cr_assert_eq(code_of(json_array_get(x.results, i)), 499, "%zu", i);
        if (round == 0) {
            dx_stop(&x);
        } else {
            uv_run(&x.loop, UV_RUN_DEFAULT);
            cr_assert(x.closed);
            cr_assert_eq(uv_loop_close(&x.loop), 0);
            json_decref(x.results);
        }
    }
    srv_stop(&s);
}

Test(dendrite, a_response_header_the_sdk_cannot_read_is_422, .timeout = 30)
{
    srv_t s;
    srv_start(&s, M_BAD_HDR);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    for (int i = 0; i < 3; i++) {
        json_t *r = one(&x, "127.0.0.1", s.port, &DUMMY, "{\"dummy_input\": 3}", 5);
        cr_assert_eq(code_of(r), 422, "%d: %s", i, msg_of(r));
        cr_assert(!strncmp(msg_of(r), "Failed to parse response: bad response headers", 46), "%s",
                  msg_of(r));
    }
    dx_stop(&x);
    srv_stop(&s);
}

Test(dendrite, response_terminal_headers_are_read_as_pydantic_reads_them, .timeout = 30)
{
    srv_t s;
    srv_start(&s, M_ODD_HDR);
    dx_t x;
    dx_start(&x, &(gn_dendrite_opts_t){0});
    for (int i = 0; i < 3; i++) {
        json_t *r = one(&x, "127.0.0.1", s.port, &DUMMY, "{\"dummy_input\": 3}", 5);
        cr_assert_eq(code_of(r), 200, "%d: %s", i, msg_of(r));
        cr_assert_str_eq(msg_of(r), "Fine", "the last of a repeated header");
        json_t *ax = json_object_get(r, "axon"), *den = json_object_get(r, "dendrite");
        cr_assert_eq(json_integer_value(json_object_get(ax, "status_code")), 200, "int(\"2_00\")");
        cr_assert_eq(json_integer_value(json_object_get(ax, "port")), 99, "%d", i);
        cr_assert(json_is_real(json_object_get(ax, "process_time")));
        cr_assert_float_eq(json_real_value(json_object_get(ax, "process_time")),
                           i == 2 ? 1.0 : 0.25, 1e-12, "%d", i);
        cr_assert_eq(json_integer_value(json_object_get(den, "version")), 7002000);
        if (i == 0) {
            cr_assert_str_eq(json_string_value(json_object_get(ax, "uuid")), "upper-name");
            cr_assert_eq(json_integer_value(json_object_get(den, "nonce")), INT64_MAX);
        }
        if (i == 1) /* the pattern anywhere in the name counts, as in the SDK's from_headers */
            cr_assert_eq(json_integer_value(json_object_get(ax, "nonce")), 77);
        cr_assert_eq(json_integer_value(json_object_get(r, "dummy_output")), 6);
    }
    dx_stop(&x);
    srv_stop(&s);
}
