/* The dendrite against ganglion's own axon (on a loop thread) and against
 * misbehaving servers written here (blocking sockets on a thread): the
 * requests header by header against the SDK's worked examples, every
 * status the SDK gives, streaming, 256 targets, the pool. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
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

/* ---- misbehaving servers: blocking sockets on a thread ---- */

enum { M_SILENT, M_RESET_MID, M_GARBAGE, M_HUGE_LEN, M_HUGE_CHUNKED, M_ECHO, M_KA_CLOSE };

typedef struct {
    int lfd, port, mode;
    uv_thread_t th;
    volatile int stop;
    char cap[2][16384]; /* the first two requests' bytes */
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
    static char buf[1 << 16];
    int first = 1;
    for (;;) {
        int n = read_req(s, fd, buf, sizeof(buf));
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
            break; /* the second request on a connection: closed unanswered */
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
