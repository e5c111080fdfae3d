/* bench/dendrite_responder: the load's floor for bench/dendrite, not an
 * axon. One libuv loop listens on N ports of 127.0.0.1 (kernel-chosen, one
 * per target), takes keep-alive connections, reads each HTTP/1.1 request
 * (head up to "\r\n\r\n", then Content-Length body bytes) and answers it
 * DELAY ms later (a uv timer per connection) with a fixed 200 response of
 * class Dummy shaped as ganglion's axon answers (its headers, the synapse
 * JSON with dummy_output set). Nothing is checked: no signature, nonce or
 * body hash; requests pipelined on one connection are answered in order.
 *
 *   dendrite_responder N DELAY_MS PORTS_FILE
 * writes the N ports to PORTS_FILE (one a line, written whole then renamed),
 * then "ready" on stdout; on SIGTERM / SIGINT prints the requests answered
 * and its CPU seconds to stderr and exits. */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <uv.h>

#include "bench.h"

#define MAX_HEAD  65536
#define MAX_QUEUE 64

typedef struct {
    uv_tcp_t tcp;
    int port;
    char *resp; /* this port's response */
    size_t resp_len;
} listener_t;

typedef struct {
    uv_tcp_t tcp;
    uv_timer_t timer;
    listener_t *l;
    char *buf;
    size_t len, cap;
    uint64_t due[MAX_QUEUE]; /* answer times (uv_now ms) of the requests read */
    unsigned qh, qn;
    int closing; /* handles still to close */
} conn_t;

static uv_loop_t *loop;
static uint64_t delay_ms;
static unsigned long long served, conns;
static uv_signal_t sig_term, sig_int;

static void conn_freed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->closing == 0) {
        free(c->buf);
        free(c);
    }
}

static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 2;
    uv_close((uv_handle_t *)&c->tcp, conn_freed);
    uv_close((uv_handle_t *)&c->timer, conn_freed);
}

static void write_done(uv_write_t *w, int status)
{
    conn_t *c = w->data;
    free(w);
    if (status < 0)
        conn_close(c);
}

static void answer(conn_t *c)
{
    listener_t *l = c->l;
    uv_buf_t b = uv_buf_init(l->resp, (unsigned)l->resp_len);
    int k = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (k == (int)l->resp_len) {
        served++;
        return;
    }
    if (k < 0 && k != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    if (k > 0)
        b = uv_buf_init(l->resp + k, (unsigned)(l->resp_len - (size_t)k));
    uv_write_t *w = malloc(sizeof(*w));
    if (!w) {
        conn_close(c);
        return;
    }
    w->data = c;
    if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, write_done) < 0) {
        free(w);
        conn_close(c);
        return;
    }
    served++;
}

static void on_timer(uv_timer_t *t)
{
    conn_t *c = t->data;
    uint64_t now = uv_now(loop);
    while (c->qn && c->due[c->qh] <= now && !c->closing) {
        answer(c);
        c->qh = (c->qh + 1) % MAX_QUEUE;
        c->qn--;
    }
    if (!c->closing && c->qn) {
        uint64_t due = c->due[c->qh];
        uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
    }
}

/* The requests complete in c->buf: queue an answer for each. -1: malformed. */
static int parse(conn_t *c)
{
    size_t off = 0;
    for (;;) {
        char *s = c->buf + off;
        size_t avail = c->len - off;
        char *end = memmem(s, avail, "\r\n\r\n", 4);
        if (!end)
            break;
        size_t head = (size_t)(end - s) + 4, body = 0;
        for (char *p = s; p < end; p++) {
            if ((p == s || p[-1] == '\n') && !strncasecmp(p, "content-length:", 15)) {
                body = strtoul(p + 15, NULL, 10);
                break;
            }
        }
        if (avail < head + body)
            break;
        if (c->qn == MAX_QUEUE)
            return -1;
        c->due[(c->qh + c->qn) % MAX_QUEUE] = uv_now(loop) + delay_ms;
        c->qn++;
        off += head + body;
    }
    if (off) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
    if (c->len > MAX_HEAD && !memmem(c->buf, c->len, "\r\n\r\n", 4))
        return -1;
    if (c->qn && !uv_is_active((uv_handle_t *)&c->timer)) {
        uint64_t now = uv_now(loop), due = c->due[c->qh];
        uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
    }
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    conn_t *c = h->data;
    (void)sz;
    if (c->cap - c->len < 16384) {
        size_t cap = c->cap ? c->cap * 2 : 32768;
        char *nb = realloc(c->buf, cap);
        if (!nb) {
            *b = uv_buf_init(NULL, 0);
            return;
        }
        c->buf = nb;
        c->cap = cap;
    }
    *b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn_t *c = s->data;
    (void)b;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    if (parse(c) < 0)
        conn_close(c);
}

static void on_conn(uv_stream_t *srv, int status)
{
    if (status < 0)
        return;
    conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->l = srv->data;
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    conns++;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* The axon's answer to a Dummy request (dummy_input 3), the dendrite's
 * values those of one real request: ganglion's axon echoes them. */
static char *response(int port, size_t *len)
{
    static const char *HK_D = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    static const char *HK_A = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    static const char *UUID = "016f1df3-0033-41a7-becb-0b5da52815d6";
    static const char *SIG = "0x46d0cded91b6b360c919a2c5103a28f0d08f6d6e3867d922bdf0127a3976120e"
                             "e59d8f85c543479049dbf74c9cb00d2779a14d4ef0722dd3e1f7b66b6c925a85";
    static const char *NONCE = "1795314841600398666";
    char body[2048], *out = malloc(4096);
    if (!out)
        return NULL;
    int bl = snprintf(
        body, sizeof(body),
        "{\"name\":\"Dummy\",\"timeout\":12.0,\"total_size\":732,\"header_size\":0,"
        "\"dendrite\":{\"status_code\":null,\"status_message\":null,\"process_time\":null,"
        "\"ip\":null,\"port\":null,\"version\":10002000,\"nonce\":%s,\"uuid\":\"%s\","
        "\"hotkey\":\"%s\",\"signature\":\"%s\"},"
        "\"axon\":{\"status_code\":200,\"status_message\":\"Success\",\"process_time\":7.62e-07,"
        "\"ip\":\"127.0.0.1\",\"port\":%d,\"version\":null,\"nonce\":null,\"uuid\":null,"
        "\"hotkey\":\"%s\",\"signature\":null},\"computed_body_hash\":\"\","
        "\"dummy_input\":3,\"dummy_output\":6}",
        NONCE, UUID, HK_D, SIG, port, HK_A);
    int n = snprintf(
        out, 4096,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nname: Dummy\r\ntimeout: 12.0\r\n"
        "bt_header_axon_status_code: 200\r\nbt_header_axon_status_message: Success\r\n"
        "bt_header_axon_process_time: 7.62e-07\r\nbt_header_axon_ip: 127.0.0.1\r\n"
        "bt_header_axon_port: %d\r\nbt_header_axon_hotkey: %s\r\n"
        "bt_header_dendrite_version: 10002000\r\nbt_header_dendrite_nonce: %s\r\n"
        "bt_header_dendrite_uuid: %s\r\nbt_header_dendrite_hotkey: %s\r\n"
        "bt_header_dendrite_signature: %s\r\nbt_header_input_obj_dummy_input: MA==\r\n"
        "header_size: 696\r\ntotal_size: %d\r\n"
        "computed_body_hash: a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a\r\n"
        "Content-Length: %d\r\nDate: Sun, 22 Nov 2026 02:34:01 GMT\r\nServer: ganglion\r\n\r\n%s",
        port, HK_A, NONCE, UUID, HK_D, SIG, bl, bl, body);
    *len = (size_t)n;
    return out;
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    fprintf(stderr, "responder: %llu requests answered on %llu connections, %.3f s CPU\n", served,
            conns, gn_bench_cpu());
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s N DELAY_MS PORTS_FILE\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    delay_ms = (uint64_t)atoi(argv[2]);
    const char *path = argv[3];
    if (n <= 0 || n > 60000) {
        fprintf(stderr, "responder: bad N\n");
        return 2;
    }
    loop = uv_default_loop();
    listener_t *ls = calloc((size_t)n, sizeof(*ls));
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!ls || !f) {
        fprintf(stderr, "responder: cannot write %s\n", tmp);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        listener_t *l = &ls[i];
        struct sockaddr_in a;
        uv_ip4_addr("127.0.0.1", 0, &a);
        uv_tcp_init(loop, &l->tcp);
        l->tcp.data = l;
        int rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&a, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&l->tcp, 1024, on_conn);
        if (rc < 0) {
            fprintf(stderr, "responder: listen %d of %d: %s\n", i + 1, n, uv_strerror(rc));
            return 1;
        }
        struct sockaddr_storage ss;
        int sl = sizeof(ss);
        uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &sl);
        l->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        l->resp = response(l->port, &l->resp_len);
        if (!l->resp)
            return 1;
        fprintf(f, "%d\n", l->port);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "responder: cannot write %s\n", path);
        return 1;
    }
    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    printf("ready\n");
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
