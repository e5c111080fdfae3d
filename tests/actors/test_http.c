/* The HTTP server (actors/http.c) against a raw-socket client.
 *
 * The server runs on its own loop in a thread; the test thread is the
 * client, with blocking sockets and receive timeouts, and reaches the loop
 * through on_loop() (a call run there, waited for). The application's
 * callbacks only record and answer; every assertion is on the test thread. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "ganglion/error.h"
#include "ganglion/http.h"
#include "../../actors/http_internal.h"

/* ---- the server side ------------------------------------------------- */

typedef struct srv srv_t;
typedef void (*app_fn)(srv_t *h, gn_http_req_t *req);

typedef struct call {
    void (*fn)(srv_t *h, void *arg);
    void *arg;
    bool done;
    struct call *next;
} call_t;

#define MAX_HELD 64

struct srv {
    uv_loop_t loop;
    uv_thread_t thr;
    uv_async_t wake;
    uv_mutex_t mu;
    uv_cond_t cv;
    call_t *calls;
    gn_http_server_t *s;
    uint16_t port;
    app_fn app;
    gn_http_req_t *held[MAX_HELD];
    int n_held;
    int n_requests, n_aborts, abort_respond_rc;
    char last_peer[46];
    char last_method[16];
    char last_headers[2048];
    bool stopped;
    int loop_close_rc;
};

static uint64_t ms_now(void)
{
    return uv_hrtime() / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void on_wake(uv_async_t *a)
{
    srv_t *h = a->data;
    uv_mutex_lock(&h->mu);
    call_t *list = h->calls;
    h->calls = NULL;
    uv_mutex_unlock(&h->mu);
    while (list) {
        call_t *c = list;
        list = c->next;
        c->fn(h, c->arg);
        uv_mutex_lock(&h->mu);
        c->done = true;
        uv_cond_broadcast(&h->cv);
        uv_mutex_unlock(&h->mu);
    }
}

/* Run fn(h, arg) on the server's loop and wait for it. */
static void on_loop(srv_t *h, void (*fn)(srv_t *, void *), void *arg)
{
    call_t c = {fn, arg, false, NULL};
    uv_mutex_lock(&h->mu);
    c.next = h->calls;
    h->calls = &c;
    uv_mutex_unlock(&h->mu);
    uv_async_send(&h->wake);
    uv_mutex_lock(&h->mu);
    while (!c.done)
        uv_cond_wait(&h->cv, &h->mu);
    uv_mutex_unlock(&h->mu);
}

static void signal_change(srv_t *h)
{
    uv_cond_broadcast(&h->cv);
}

/* Wait (up to ms) until pred(h) holds; evaluated under the lock. */
static bool wait_for(srv_t *h, bool (*pred)(srv_t *, void *), void *arg, int ms)
{
    uint64_t end = ms_now() + (uint64_t)ms;
    uv_mutex_lock(&h->mu);
    bool ok;
    while (!(ok = pred(h, arg)) && ms_now() < end)
        uv_cond_timedwait(&h->cv, &h->mu, 20 * 1000000ull);
    uv_mutex_unlock(&h->mu);
    return ok;
}

static bool held_at_least(srv_t *h, void *arg)
{
    return h->n_held >= *(int *)arg;
}

static bool aborts_at_least(srv_t *h, void *arg)
{
    return h->n_aborts >= *(int *)arg;
}

static void echo_body(gn_http_req_t *req, char *out, size_t cap, size_t *len)
{
    int n = snprintf(out, cap, "%s %s %zu:", req->method, req->path, req->body_len);
    size_t k = (size_t)n;
    size_t b = req->body_len < cap - k ? req->body_len : cap - k;
    memcpy(out + k, req->body, b);
    *len = k + b;
}

static int answer_echo(gn_http_req_t *req)
{
    static char buf[70000];
    size_t len;
    echo_body(req, buf, sizeof(buf), &len);
    gn_header_t hd[] = {{"Content-Type", 12, "text/plain", 10}, {"X-Test", 6, "yes", 3}};
    return gn_http_respond(req, 200, hd, 2, buf, len);
}

static void record(srv_t *h, gn_http_req_t *req)
{
    uv_mutex_lock(&h->mu);
    h->n_requests++;
    snprintf(h->last_peer, sizeof(h->last_peer), "%s", req->peer_ip);
    snprintf(h->last_method, sizeof(h->last_method), "%s", req->method);
    size_t o = 0;
    h->last_headers[0] = 0;
    for (size_t i = 0; i < req->n_headers && o < sizeof(h->last_headers) - 1; i++)
        o += (size_t)snprintf(h->last_headers + o, sizeof(h->last_headers) - o, "%.*s=%.*s;",
                              (int)req->headers[i].name_len, req->headers[i].name,
                              (int)req->headers[i].value_len, req->headers[i].value);
    if (o >= sizeof(h->last_headers))
        h->last_headers[sizeof(h->last_headers) - 1] = 0;
    signal_change(h);
    uv_mutex_unlock(&h->mu);
}

static void app_echo(srv_t *h, gn_http_req_t *req)
{
    (void)h;
    answer_echo(req);
}

static void app_hold(srv_t *h, gn_http_req_t *req)
{
    uv_mutex_lock(&h->mu);
    if (h->n_held < MAX_HELD)
        h->held[h->n_held++] = req;
    signal_change(h);
    uv_mutex_unlock(&h->mu);
}

/* answered 30 ms later from a timer */
static void later_closed(uv_handle_t *t)
{
    free(t);
}

static void later_fire(uv_timer_t *t)
{
    gn_http_req_t *req = t->data;
    req->user = NULL;
    answer_echo(req);
    uv_close((uv_handle_t *)t, later_closed);
}

static void app_later(srv_t *h, gn_http_req_t *req)
{
    uv_timer_t *t = malloc(sizeof(*t));
    uv_timer_init(&h->loop, t);
    t->data = req;
    req->user = t;
    uv_timer_start(t, later_fire, 30, 0);
}

static void on_request(gn_http_req_t *req, void *arg)
{
    srv_t *h = arg;
    record(h, req);
    h->app(h, req);
}

static void on_abort(gn_http_req_t *req, void *arg)
{
    srv_t *h = arg;
    if (req->user) { /* a pending timer */
        uv_timer_t *t = req->user;
        uv_close((uv_handle_t *)t, later_closed);
        req->user = NULL;
    }
    int rc = gn_http_respond(req, 200, NULL, 0, "x", 1); /* must be refused, safely */
    uv_mutex_lock(&h->mu);
    h->n_aborts++;
    h->abort_respond_rc = rc;
    for (int i = 0; i < h->n_held; i++)
        if (h->held[i] == req) {
            h->held[i] = NULL;
        }
    signal_change(h);
    uv_mutex_unlock(&h->mu);
}

static void run_loop(void *arg)
{
    srv_t *h = arg;
    uv_run(&h->loop, UV_RUN_DEFAULT);
}

static srv_t *srv_start_at(const char *ip, const gn_http_limits_t *lim, app_fn app)
{
    srv_t *h = calloc(1, sizeof(*h));
    cr_assert(h);
    uv_loop_init(&h->loop);
    uv_mutex_init(&h->mu);
    uv_cond_init(&h->cv);
    uv_async_init(&h->loop, &h->wake, on_wake);
    h->wake.data = h;
    h->app = app;
    gn_http_opts_t o = {
        .ip = ip, .port = 0, .on_request = on_request, .on_abort = on_abort, .arg = h};
    if (lim)
        o.limits = *lim;
    int rc = gn_http_server_start(&h->loop, &o, &h->s);
    cr_assert_eq(rc, 0, "start: %s", gn_strerror(rc));
    h->port = gn_http_server_port(h->s);
    cr_assert_neq(h->port, 0);
    cr_assert_eq(uv_thread_create(&h->thr, run_loop, h), 0);
    return h;
}

static srv_t *srv_start(const gn_http_limits_t *lim, app_fn app)
{
    return srv_start_at("127.0.0.1", lim, app);
}

static void on_stopped(void *arg)
{
    srv_t *h = arg;
    uv_mutex_lock(&h->mu);
    h->stopped = true;
    signal_change(h);
    uv_mutex_unlock(&h->mu);
    uv_close((uv_handle_t *)&h->wake, NULL);
}

static void do_stop(srv_t *h, void *arg)
{
    (void)arg;
    gn_http_server_stop(h->s, on_stopped, h);
}

static void srv_stop(srv_t *h)
{
    on_loop(h, do_stop, NULL);
    uv_thread_join(&h->thr);
    cr_assert(h->stopped, "done was called");
    cr_assert_eq(uv_loop_close(&h->loop), 0, "no handle left on the loop");
    uv_mutex_destroy(&h->mu);
    uv_cond_destroy(&h->cv);
    free(h);
}

static void do_stats(srv_t *h, void *arg)
{
    gn_http_server_stats(h->s, arg);
}

static gn_http_stats_t stats(srv_t *h)
{
    gn_http_stats_t st;
    on_loop(h, do_stats, &st);
    return st;
}

/* Poll the stats until open_connections == n (true) or ms pass. */
static bool wait_open(srv_t *h, uint64_t n, int ms)
{
    uint64_t end = ms_now() + (uint64_t)ms;
    do {
        if (stats(h).open_connections == n)
            return true;
        sleep_ms(10);
    } while (ms_now() < end);
    return false;
}

typedef struct {
    int i, status;
    const char *body;
} answer_t;

static void do_answer(srv_t *h, void *arg)
{
    answer_t *a = arg;
    gn_http_req_t *req = h->held[a->i];
    h->held[a->i] = NULL;
    if (a->body)
        a->status = gn_http_respond(req, 200, NULL, 0, a->body, strlen(a->body));
    else
        a->status = answer_echo(req);
}

static int answer_held(srv_t *h, int i)
{
    answer_t a = {i, 0, NULL};
    on_loop(h, do_answer, &a);
    return a.status;
}

/* ---- the client side ------------------------------------------------- */

typedef struct {
    int fd;
    size_t len;
    char buf[1 << 17];
} cli_t;

typedef struct {
    int status;
    char head[8192];
    char body[1 << 16];
    size_t body_len;
    int n_chunks;
    char chunks[8][64];
} resp_t;

static cli_t *cli_connect_to(const char *ip, uint16_t port)
{
    cli_t *c = calloc(1, sizeof(*c));
    cr_assert(c);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        inet_pton(AF_INET6, ip, &a->sin6_addr);
        sl = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        inet_pton(AF_INET, ip, &a->sin_addr);
        sl = sizeof(*a);
    }
    c->fd = socket(ss.ss_family, SOCK_STREAM, 0);
    cr_assert_geq(c->fd, 0);
    struct timeval tv = {10, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    cr_assert_eq(connect(c->fd, (struct sockaddr *)&ss, sl), 0, "connect: %s", strerror(errno));
    return c;
}

static cli_t *cli_connect(srv_t *h)
{
    return cli_connect_to("127.0.0.1", h->port);
}

static void cli_close(cli_t *c)
{
    close(c->fd);
    free(c);
}

/* Close with a reset (RST) instead of a FIN. */
static void cli_reset(cli_t *c)
{
    struct linger l = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    cli_close(c);
}

static void cli_sendn(cli_t *c, const void *d, size_t n)
{
    const char *p = d;
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        cr_assert_gt(w, 0, "send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

static void cli_send(cli_t *c, const char *s)
{
    cli_sendn(c, s, strlen(s));
}

/* More bytes into the buffer: >0 read, 0 EOF, <0 error or timeout. */
static ssize_t cli_fill(cli_t *c)
{
    if (c->len == sizeof(c->buf))
        return -1;
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (r > 0)
        c->len += (size_t)r;
    return r;
}

static void cli_drop(cli_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* The next line (without CRLF) into out; false at EOF/timeout. */
static bool cli_line(cli_t *c, char *out, size_t cap)
{
    for (;;) {
        char *e = NULL;
        for (size_t i = 0; i + 1 < c->len && !e; i++)
            if (c->buf[i] == '\r' && c->buf[i + 1] == '\n')
                e = c->buf + i;
        if (e) {
            size_t n = (size_t)(e - c->buf);
            if (n >= cap)
                n = cap - 1;
            memcpy(out, c->buf, n);
            out[n] = 0;
            cli_drop(c, (size_t)(e - c->buf) + 2);
            return true;
        }
        if (cli_fill(c) <= 0)
            return false;
    }
}

static bool cli_bytes(cli_t *c, char *out, size_t n)
{
    while (c->len < n)
        if (cli_fill(c) <= 0)
            return false;
    if (out)
        memcpy(out, c->buf, n);
    cli_drop(c, n);
    return true;
}

/* A header's value in a response head ("" when absent). */
static const char *hdr(const resp_t *r, const char *name, char *out, size_t cap)
{
    out[0] = 0;
    size_t nl = strlen(name);
    for (const char *p = r->head; *p;) {
        const char *e = strstr(p, "\r\n");
        if (!e)
            break;
        if ((size_t)(e - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t n = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
            memcpy(out, v, n);
            out[n] = 0;
            return out;
        }
        p = e + 2;
    }
    return out;
}

/* Read one response (head, then body by length, chunks or EOF). */
static bool cli_response(cli_t *c, resp_t *r)
{
    memset(r, 0, sizeof(*r));
    char line[8192];
    if (!cli_line(c, line, sizeof(line)))
        return false;
    if (sscanf(line, "HTTP/1.1 %d", &r->status) != 1)
        return false;
    size_t o = 0;
    for (;;) {
        if (!cli_line(c, line, sizeof(line)))
            return false;
        if (!line[0])
            break;
        o += (size_t)snprintf(r->head + o, sizeof(r->head) - o, "%s\r\n", line);
        if (o >= sizeof(r->head))
            return false;
    }
    if (r->status < 200)
        return true;
    char v[64];
    if (strcasecmp(hdr(r, "Transfer-Encoding", v, sizeof(v)), "chunked") == 0) {
        for (;;) {
            if (!cli_line(c, line, sizeof(line)))
                return false;
            size_t n = strtoul(line, NULL, 16);
            if (n == 0) {
                if (!cli_line(c, line, sizeof(line)))
                    return false;
                return true;
            }
            if (r->body_len + n > sizeof(r->body) || !cli_bytes(c, r->body + r->body_len, n))
                return false;
            if (r->n_chunks < 8)
                snprintf(r->chunks[r->n_chunks], 64, "%.*s", (int)n, r->body + r->body_len);
            r->n_chunks++;
            r->body_len += n;
            if (!cli_bytes(c, line, 2))
                return false;
        }
    }
    if (hdr(r, "Content-Length", v, sizeof(v))[0]) {
        size_t n = strtoul(v, NULL, 10);
        if (n > sizeof(r->body) || !cli_bytes(c, r->body, n))
            return false;
        r->body_len = n;
        return true;
    }
    while (cli_fill(c) > 0) /* until EOF */
        ;
    r->body_len = c->len < sizeof(r->body) ? c->len : sizeof(r->body);
    memcpy(r->body, c->buf, r->body_len);
    cli_drop(c, c->len);
    return true;
}

/* The server closed: EOF (or a reset) within ms, and no more bytes. */
static bool cli_closed(cli_t *c, int ms)
{
    if (c->len)
        return false;
    struct pollfd pf = {c->fd, POLLIN, 0};
    if (poll(&pf, 1, ms) <= 0)
        return false;
    char b[256];
    ssize_t r = recv(c->fd, b, sizeof(b), 0);
    return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* Nothing arrives for ms. */
static bool cli_quiet(cli_t *c, int ms)
{
    if (c->len)
        return false;
    struct pollfd pf = {c->fd, POLLIN, 0};
    return poll(&pf, 1, ms) == 0;
}

static void expect_body(const resp_t *r, const char *want)
{
    cr_assert_eq(r->body_len, strlen(want), "body [%.*s] want [%s]", (int)r->body_len, r->body,
                 want);
    cr_assert(memcmp(r->body, want, r->body_len) == 0, "body [%.*s] want [%s]", (int)r->body_len,
              r->body, want);
}

/* A refusal's shape: status, JSON message, Connection: close. */
static void expect_reject(const resp_t *r, int status, bool closing)
{
    char v[128];
    cr_assert_eq(r->status, status, "status %d want %d", r->status, status);
    cr_assert_str_eq(hdr(r, "Content-Type", v, sizeof(v)), "application/json");
    cr_assert(r->body_len > 14 && memcmp(r->body, "{\"message\": \"", 13) == 0, "body %.*s",
              (int)r->body_len, r->body);
    if (closing)
        cr_assert_str_eq(hdr(r, "Connection", v, sizeof(v)), "close");
    else
        cr_assert_str_eq(hdr(r, "Connection", v, sizeof(v)), "");
}

/* ---- tests: requests and answers ------------------------------------- */

Test(http, get_answered_at_once, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_echo);
    cli_t *c = cli_connect(h);
    cli_send(c, "GET /Synapse?x=1 HTTP/1.1\r\nHost: a\r\nX-Mixed-Case:  padded value \t\r\n\r\n");
    resp_t r;
    cr_assert(cli_response(c, &r));
    cr_assert_eq(r.status, 200);
    expect_body(&r, "GET /Synapse?x=1 0:");
    char v[128];
    cr_assert_str_eq(hdr(&r, "Content-Type", v, sizeof(v)), "text/plain");
    cr_assert_str_eq(hdr(&r, "X-Test", v, sizeof(v)), "yes");
    cr_assert_str_eq(hdr(&r, "Server", v, sizeof(v)), "ganglion");
    cr_assert_str_eq(hdr(&r, "Content-Length", v, sizeof(v)), "19");
    cr_assert_str_eq(hdr(&r, "Connection", v, sizeof(v)), "");
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    hdr(&r, "Date", v, sizeof(v));
    char wd[4], mon[4], gmt[4];
    int d, y, hh, mm, ss;
    cr_assert_eq(strlen(v), 29, "date %s", v);
    cr_assert_eq(sscanf(v, "%3s, %2d %3s %4d %2d:%2d:%2d %3s", wd, &d, mon, &y, &hh, &mm, &ss, gmt),
                 8, "date %s", v);
    cr_assert_str_eq(gmt, "GMT");
    cr_assert_geq(y, 2024);
    uv_mutex_lock(&h->mu);
    cr_assert_str_eq(h->last_peer, "127.0.0.1");
    cr_assert(strstr(h->last_headers, "host=a;"), "%s", h->last_headers);
    cr_assert(strstr(h->last_headers, "x-mixed-case=padded value;"), "%s", h->last_headers);
    uv_mutex_unlock(&h->mu);
    cli_close(c);
    gn_http_stats_t st = stats(h);
    cr_assert_eq(st.requests, 1);
    cr_assert_eq(st.responses, 1);
    cr_assert_eq(st.accepted, 1);
    srv_stop(h);
}

Test(http, post_answered_later_from_a_timer, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_later);
    cli_t *c = cli_connect(h);
    cli_send(c, "POST /Dummy HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world");
    resp_t r;
    cr_assert(cli_response(c, &r));
    cr_assert_eq(r.status, 200);
    expect_body(&r, "POST /Dummy 11:hello world");
    cli_close(c);
    srv_stop(h);
}

Test(http, keep_alive_three_requests_on_one_connection, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_later);
    cli_t *c = cli_connect(h);
    for (int i = 0; i < 3; i++) {
        char req[128], want[64];
        snprintf(req, sizeof(req), "POST /n%d HTTP/1.1\r\nContent-Length: 1\r\n\r\n%d", i, i);
        cli_send(c, req);
        resp_t r;
        cr_assert(cli_response(c, &r));
        snprintf(want, sizeof(want), "POST /n%d 1:%d", i, i);
        expect_body(&r, want);
    }
    gn_http_stats_t st = stats(h);
    cr_assert_eq(st.accepted, 1);
    cr_assert_eq(st.requests, 3);
    cr_assert_eq(st.open_connections, 1);
    cli_close(c);
    cr_assert(wait_open(h, 0, 5000));
    srv_stop(h);
}

Test(http, pipelined_answered_in_order_when_the_app_answers_out_of_order, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_hold);
    cli_t *c = cli_connect(h);
    cli_send(c, "GET /1 HTTP/1.1\r\n\r\n"
                "POST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nb2"
                "GET /3 HTTP/1.1\r\n\r\n");
    int three = 3;
    cr_assert(wait_for(h, held_at_least, &three, 5000), "all three given to the app");
    cr_assert_eq(answer_held(h, 2), 0);
    cr_assert_eq(answer_held(h, 1), 0);
    cr_assert(cli_quiet(c, 200), "nothing before the first answer");
    cr_assert_eq(answer_held(h, 0), 0);
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /1 0:");
    cr_assert(cli_response(c, &r));
    expect_body(&r, "POST /2 2:b2");
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /3 0:");
    cli_close(c);
    srv_stop(h);
}

Test(http, pipeline_limit_stops_reading_until_answers_drain, .timeout = 30)
{
    gn_http_limits_t lim = {.max_pipelined = 2};
    srv_t *h = srv_start(&lim, app_hold);
    cli_t *c = cli_connect(h);
    char all[1024] = "";
    for (int i = 0; i < 5; i++) {
        char one[64];
        snprintf(one, sizeof(one), "GET /%d HTTP/1.1\r\n\r\n", i);
        strcat(all, one);
    }
    cli_send(c, all);
    int two = 2, three = 3;
    cr_assert(wait_for(h, held_at_least, &two, 5000));
    cr_assert(!wait_for(h, held_at_least, &three, 300), "no more than max_pipelined read ahead");
    cr_assert_eq(answer_held(h, 0), 0);
    cr_assert_eq(answer_held(h, 1), 0);
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /0 0:");
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /1 0:");
    int five = 5;
    uint64_t end = ms_now() + 5000;
    for (int next = 2; next < 5 && ms_now() < end;) {
        int want = next + 1;
        if (!wait_for(h, held_at_least, &want, 1000))
            continue;
        cr_assert_eq(answer_held(h, next), 0);
        cr_assert(cli_response(c, &r));
        char exp[32];
        snprintf(exp, sizeof(exp), "GET /%d 0:", next);
        expect_body(&r, exp);
        next++;
    }
    cr_assert(wait_for(h, held_at_least, &five, 10));
    cli_close(c);
    srv_stop(h);
}

Test(http, chunked_request_body, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_echo);
    cli_t *c = cli_connect(h);
    cli_send(c, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    sleep_ms(50);
    cli_send(c, "6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    resp_t r;
    cr_assert(cli_response(c, &r));
    cr_assert_eq(r.status, 200);
    expect_body(&r, "POST /c 11:hello world");
    cli_close(c);
    srv_stop(h);
}

Test(http, expect_100_continue, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_echo);
    cli_t *c = cli_connect(h);
    cli_send(c, "POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    resp_t r;
    cr_assert(cli_response(c, &r));
    cr_assert_eq(r.status, 100);
    cli_send(c, "abcde");
    cr_assert(cli_response(c, &r));
    cr_assert_eq(r.status, 200);
    expect_body(&r, "POST /e 5:abcde");
    cli_close(c);
    srv_stop(h);
}

Test(http, connection_close_and_http10, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_echo);
    char v[64];
    resp_t r;
    /* Connection: close is honoured, and bytes after it are ignored */
    cli_t *c = cli_connect(h);
    cli_send(c, "GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /a 0:");
    cr_assert_str_eq(hdr(&r, "Connection", v, sizeof(v)), "close");
    cr_assert(cli_closed(c, 3000));
    cli_close(c);
    /* HTTP/1.0: closes by default */
    c = cli_connect(h);
    cli_send(c, "GET /c HTTP/1.0\r\n\r\n");
    cr_assert(cli_response(c, &r));
    cr_assert_str_eq(hdr(&r, "Connection", v, sizeof(v)), "close");
    cr_assert(cli_closed(c, 3000));
    cli_close(c);
    /* HTTP/1.0 with keep-alive stays open */
    c = cli_connect(h);
    cli_send(c, "GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    cr_assert(cli_response(c, &r));
    cr_assert_str_eq(hdr(&r, "Connection", v, sizeof(v)), "keep-alive");
    cli_send(c, "GET /e HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /e 0:");
    cli_close(c);
    srv_stop(h);
}

/* ---- tests: limits ----------------------------------------------------- */

Test(http, head_too_large_is_431, .timeout = 30)
{
    gn_http_limits_t lim = {.max_header_bytes = 1024};
    srv_t *h = srv_start(&lim, app_echo);
    cli_t *c = cli_connect(h);
    char big[3000];
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = 0;
    cli_send(c, "GET / HTTP/1.1\r\nX-Big: ");
    cli_send(c, big);
    cli_send(c, "\r\n\r\n");
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_reject(&r, 431, true);
    cr_assert(cli_closed(c, 3000));
    cli_close(c);
    /* a head of blanks (not stored) is counted as well */
    c = cli_connect(h);
    cli_send(c, "GET / HTTP/1.1\r\nX: ");
    char blanks[2000];
    memset(blanks, ' ', sizeof(blanks));
    cli_sendn(c, blanks, sizeof(blanks));
    cr_assert(cli_response(c, &r));
    expect_reject(&r, 431, true);
    cli_close(c);
    gn_http_stats_t st = stats(h);
    cr_assert_eq(st.rejects[GN_HTTP_REJECT_HEADER_TOO_LARGE], 2);
    cr_assert_eq(st.requests, 0);
    srv_stop(h);
}

Test(http, body_too_large_is_413_before_the_body_is_sent, .timeout = 30)
{
    gn_http_limits_t lim = {.max_body_bytes = 1000};
    srv_t *h = srv_start(&lim, app_echo);
    cli_t *c = cli_connect(h);
    cli_send(c, "POST /big HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n");
    resp_t r;
    cr_assert(cli_response(c, &r), "answered without a byte of the body");
    expect_reject(&r, 413, true);
    cr_assert(cli_closed(c, 5000));
    cli_close(c);
    /* chunked: cut when the sum passes the limit */
    c = cli_connect(h);
    cli_send(c, "POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[700];
    memset(chunk, 'z', sizeof(chunk));
    for (int i = 0; i < 2; i++) {
        cli_send(c, "2bc\r\n");
        cli_sendn(c, chunk, sizeof(chunk));
        cli_send(c, "\r\n");
    }
    cr_assert(cli_response(c, &r));
    expect_reject(&r, 413, true);
    cli_close(c);
    /* exactly the limit is fine */
    c = cli_connect(h);
    char body[1000];
    memset(body, 'q', sizeof(body));
    cli_send(c, "POST /ok HTTP/1.1\r\nContent-Length: 1000\r\n\r\n");
    cli_sendn(c, body, sizeof(body));
    cr_assert(cli_response(c, &r));
    cr_assert_eq(r.status, 200);
    cli_close(c);
    cr_assert_eq(stats(h).rejects[GN_HTTP_REJECT_BODY_TOO_LARGE], 2);
    srv_stop(h);
}

Test(http, slowloris_head_is_cut_at_the_deadline, .timeout = 30)
{
    gn_http_limits_t lim = {.header_timeout_ms = 400};
    srv_t *h = srv_start(&lim, app_echo);
    cli_t *c = cli_connect(h);
    const char *req = "GET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    uint64_t t0 = ms_now();
    bool answered = false;
    for (const char *p = req; *p; p++) { /* a byte every 40 ms: always active */
        if (send(c->fd, p, 1, MSG_NOSIGNAL) != 1)
            break;
        struct pollfd pf = {c->fd, POLLIN, 0};
        if (poll(&pf, 1, 40) > 0) {
            answered = true;
            break;
        }
    }
    cr_assert(answered, "cut while still trickling");
    uint64_t dt = ms_now() - t0;
    cr_assert(dt >= 350 && dt < 3000, "cut after %llu ms", (unsigned long long)dt);
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_reject(&r, 408, true);
    cr_assert(cli_closed(c, 3000));
    cli_close(c);
    cr_assert_eq(stats(h).rejects[GN_HTTP_REJECT_TIMEOUT], 1);
    srv_stop(h);
}

Test(http, slow_body_is_408, .timeout = 30)
{
    gn_http_limits_t lim = {.body_timeout_ms = 300};
    srv_t *h = srv_start(&lim, app_echo);
    cli_t *c = cli_connect(h);
    uint64_t t0 = ms_now();
    cli_send(c, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    resp_t r;
    cr_assert(cli_response(c, &r));
    uint64_t dt = ms_now() - t0;
    cr_assert(dt >= 250 && dt < 3000, "after %llu ms", (unsigned long long)dt);
    expect_reject(&r, 408, true);
    cr_assert(cli_closed(c, 3000));
    cli_close(c);
    gn_http_stats_t st = stats(h);
    cr_assert_eq(st.rejects[GN_HTTP_REJECT_TIMEOUT], 1);
    cr_assert_eq(st.requests, 0);
    srv_stop(h);
}

Test(http, past_max_connections_is_503, .timeout = 30)
{
    gn_http_limits_t lim = {.max_connections = 2};
    srv_t *h = srv_start(&lim, app_echo);
    cli_t *a = cli_connect(h), *b = cli_connect(h);
    cr_assert(wait_open(h, 2, 5000));
    cli_t *c = cli_connect(h);
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_reject(&r, 503, true);
    cr_assert(cli_closed(c, 5000));
    cli_close(c);
    /* the two within the limit still work */
    cli_send(a, "GET /a HTTP/1.1\r\n\r\n");
    cr_assert(cli_response(a, &r));
    expect_body(&r, "GET /a 0:");
    cli_send(b, "GET /b HTTP/1.1\r\n\r\n");
    cr_assert(cli_response(b, &r));
    expect_body(&r, "GET /b 0:");
    gn_http_stats_t st = stats(h);
    cr_assert_eq(st.rejects[GN_HTTP_REJECT_CONNECTIONS], 1);
    cr_assert_eq(st.accepted, 3);
    cli_close(a);
    cli_close(b);
    srv_stop(h);
}

Test(http, per_ip_rate_is_429, .timeout = 30)
{
    gn_http_limits_t lim = {.per_ip_rate = 2, .per_ip_burst = 2};
    srv_t *h = srv_start(&lim, app_echo);
    cli_t *c = cli_connect(h);
    resp_t r;
    cli_send(c, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"
                "POST /3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz");
    cr_assert(cli_response(c, &r));
    cr_assert_eq(r.status, 200);
    cr_assert(cli_response(c, &r));
    cr_assert_eq(r.status, 200);
    cr_assert(cli_response(c, &r));
    expect_reject(&r, 429, false);
    /* the connection stays, and a token comes back after 1/rate s */
    sleep_ms(600);
    cli_send(c, "GET /4 HTTP/1.1\r\n\r\n");
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /4 0:");
    cli_close(c);
    gn_http_stats_t st = stats(h);
    cr_assert_eq(st.rejects[GN_HTTP_REJECT_RATE], 1);
    cr_assert_eq(st.requests, 3);
    srv_stop(h);
}

Test(http, garbage_is_400, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_echo);
    cli_t *c = cli_connect(h);
    cli_sendn(c, "\x01\x02\xff garbage\r\n\r\n", 15);
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_reject(&r, 400, true);
    cr_assert(cli_closed(c, 3000));
    cli_close(c);
    /* a bad header after a good request: the good one is answered first */
    c = cli_connect(h);
    cli_send(c, "GET /ok HTTP/1.1\r\n\r\nGET /bad HTTP/1.1\r\nContent-Length: 1x\r\n\r\n");
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /ok 0:");
    cr_assert(cli_response(c, &r));
    expect_reject(&r, 400, true);
    cli_close(c);
    cr_assert_eq(stats(h).rejects[GN_HTTP_REJECT_MALFORMED], 2);
    srv_stop(h);
}

/* ---- tests: connections going away ------------------------------------ */

Test(http, reset_mid_body_frees_and_aborts, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_hold);
    cli_t *c = cli_connect(h);
    cli_send(c, "GET /held HTTP/1.1\r\n\r\nPOST /cut HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123");
    int one = 1;
    cr_assert(wait_for(h, held_at_least, &one, 5000));
    cli_reset(c);
    cr_assert(wait_for(h, aborts_at_least, &one, 5000), "on_abort for the held request");
    cr_assert(wait_open(h, 0, 5000));
    sleep_ms(100);
    uv_mutex_lock(&h->mu);
    cr_assert_eq(h->n_aborts, 1, "exactly once");
    cr_assert_eq(h->n_requests, 1, "the cut request never reached the app");
    cr_assert_eq(h->abort_respond_rc, GN_ECLOSED);
    uv_mutex_unlock(&h->mu);
    /* reset in the middle of a head and of a body, nothing held */
    c = cli_connect(h);
    cli_send(c, "POST /x HTTP/1.1\r\nContent-Le");
    cli_reset(c);
    c = cli_connect(h);
    cli_send(c, "POST /x HTTP/1.1\r\nContent-Length: 100000\r\n\r\nabc");
    sleep_ms(50);
    cli_reset(c);
    cr_assert(wait_open(h, 0, 5000));
    srv_stop(h);
}

Test(http, stop_aborts_requests_held_by_the_app, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_hold);
    cli_t *c = cli_connect(h);
    cli_send(c, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    int two = 2;
    cr_assert(wait_for(h, held_at_least, &two, 5000));
    srv_t *keep = h;
    on_loop(h, do_stop, NULL);
    uv_thread_join(&h->thr);
    cr_assert(keep->stopped);
    cr_assert_eq(keep->n_aborts, 2);
    cr_assert_eq(uv_loop_close(&keep->loop), 0);
    cr_assert(cli_closed(c, 3000));
    cli_close(c);
    uv_mutex_destroy(&h->mu);
    uv_cond_destroy(&h->cv);
    free(h);
}

Test(http, half_closed_client_gets_its_answer, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_later);
    cli_t *c = cli_connect(h);
    cli_send(c, "POST /half HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
    shutdown(c->fd, SHUT_WR);
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_body(&r, "POST /half 2:hi");
    cr_assert(cli_closed(c, 3000), "closed once answered");
    cli_close(c);
    cr_assert(wait_open(h, 0, 5000));
    uv_mutex_lock(&h->mu);
    cr_assert_eq(h->n_aborts, 0);
    uv_mutex_unlock(&h->mu);
    srv_stop(h);
}

Test(http, idle_keep_alive_connection_is_closed, .timeout = 30)
{
    gn_http_limits_t lim = {.idle_timeout_ms = 300};
    srv_t *h = srv_start(&lim, app_echo);
    cli_t *c = cli_connect(h);
    cli_send(c, "GET / HTTP/1.1\r\n\r\n");
    resp_t r;
    cr_assert(cli_response(c, &r));
    uint64_t t0 = ms_now();
    cr_assert(cli_closed(c, 5000));
    uint64_t dt = ms_now() - t0;
    cr_assert(dt >= 200 && dt < 3000, "closed after %llu ms", (unsigned long long)dt);
    cli_close(c);
    cr_assert(wait_open(h, 0, 5000));
    srv_stop(h);
}

/* The clients live in a child process: 10,000 sockets on each side would
 * pass this process's descriptor limit. */
Test(http, ten_thousand_idle_connections, .timeout = 180)
{
    enum { N = 10000 };
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < N + 200)
        cr_skip_test("RLIMIT_NOFILE %llu is below %d", (unsigned long long)rl.rlim_cur, N + 200);
    gn_http_limits_t lim = {.idle_timeout_ms = 600000, .header_timeout_ms = 600000};
    srv_t *h = srv_start(&lim, app_echo);
    int ready[2], go[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        static int fds[N];
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(h->port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        char st = 'k';
        for (int i = 0; i < N; i++) {
            fds[i] = socket(AF_INET, SOCK_STREAM, 0);
            if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&a, sizeof(a)) != 0) {
                st = 'e';
                break;
            }
        }
        (void)!write(ready[1], &st, 1);
        char b;
        (void)!read(go[0], &b, 1);
        _exit(0); /* closes every socket */
    }
    char st = 0;
    struct pollfd pf = {ready[0], POLLIN, 0};
    cr_assert_eq(poll(&pf, 1, 120000), 1, "the child connected");
    cr_assert_eq(read(ready[0], &st, 1), 1);
    cr_assert_eq(st, 'k', "all %d connects succeeded", N);
    cr_assert(wait_open(h, N, 60000), "open: %llu", (unsigned long long)stats(h).open_connections);
    gn_http_stats_t s1 = stats(h);
    cr_assert_eq(s1.accepted, N);
    cr_assert_eq(s1.rejects[GN_HTTP_REJECT_CONNECTIONS], 0);
    /* the server still answers */
    cli_t *c = cli_connect(h);
    cli_send(c, "GET /alive HTTP/1.1\r\n\r\n");
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_reject(&r, 503, true); /* the 10,001st */
    cli_close(c);
    cr_assert_eq(write(go[1], "g", 1), 1);
    int wst;
    waitpid(pid, &wst, 0);
    cr_assert(wait_open(h, 0, 60000), "open: %llu", (unsigned long long)stats(h).open_connections);
    gn_http_stats_t s2 = stats(h);
    cr_assert_eq(s2.accepted, N + 1);
    cr_assert_eq(s2.rejects[GN_HTTP_REJECT_CONNECTIONS], 1);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    srv_stop(h);
}

/* ---- tests: streaming, IPv6 ------------------------------------------- */

typedef struct {
    int rc;
    const char *data;
} stream_op_t;

static void do_stream_start(srv_t *h, void *arg)
{
    stream_op_t *op = arg;
    gn_header_t hd = {"Content-Type", 12, "text/event-stream", 17};
    op->rc = gn_http_stream_start(h->held[0], 200, &hd, 1);
}

static void do_stream_write(srv_t *h, void *arg)
{
    stream_op_t *op = arg;
    op->rc = gn_http_stream_write(h->held[0], op->data, strlen(op->data));
}

static void do_stream_end(srv_t *h, void *arg)
{
    stream_op_t *op = arg;
    op->rc = gn_http_stream_end(h->held[0]);
    h->held[0] = NULL;
}

Test(http, streamed_answer_is_read_back_as_chunks, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_hold);
    cli_t *c = cli_connect(h);
    cli_send(c, "GET /stream HTTP/1.1\r\n\r\n");
    int one = 1;
    cr_assert(wait_for(h, held_at_least, &one, 5000));
    stream_op_t op = {0, NULL};
    on_loop(h, do_stream_start, &op);
    cr_assert_eq(op.rc, 0);
    /* the head is sent at once */
    char line[256];
    cr_assert(cli_line(c, line, sizeof(line)));
    cr_assert_str_eq(line, "HTTP/1.1 200 OK");
    bool te = false;
    while (cli_line(c, line, sizeof(line)) && line[0])
        te |= strcasecmp(line, "Transfer-Encoding: chunked") == 0;
    cr_assert(te);
    const char *parts[] = {"one", "two!", "three"};
    for (int i = 0; i < 3; i++) {
        op.data = parts[i];
        on_loop(h, do_stream_write, &op);
        cr_assert_eq(op.rc, 0);
        /* each chunk arrives before the next is written */
        char want[64];
        snprintf(want, sizeof(want), "%zx", strlen(parts[i]));
        cr_assert(cli_line(c, line, sizeof(line)));
        cr_assert_str_eq(line, want);
        cr_assert(cli_line(c, line, sizeof(line)));
        cr_assert_str_eq(line, parts[i]);
    }
    on_loop(h, do_stream_end, &op);
    cr_assert_eq(op.rc, 0);
    cr_assert(cli_line(c, line, sizeof(line)));
    cr_assert_str_eq(line, "0");
    cr_assert(cli_line(c, line, sizeof(line)));
    cr_assert_str_eq(line, "");
    /* and the connection carries on */
    cli_send(c, "GET /next HTTP/1.1\r\n\r\n");
    int two = 2;
    cr_assert(wait_for(h, held_at_least, &two, 5000));
    cr_assert_eq(answer_held(h, 1), 0);
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /next 0:");
    cli_close(c);
    srv_stop(h);
}

Test(http, ipv6_loopback_and_dual_stack, .timeout = 30)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    if (probe < 0)
        cr_skip_test("no IPv6 here");
    close(probe);
    srv_t *h = srv_start_at("::1", NULL, app_echo);
    cli_t *c = cli_connect_to("::1", h->port);
    cli_send(c, "GET /six HTTP/1.1\r\n\r\n");
    resp_t r;
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /six 0:");
    uv_mutex_lock(&h->mu);
    cr_assert_str_eq(h->last_peer, "::1");
    uv_mutex_unlock(&h->mu);
    cli_close(c);
    srv_stop(h);
    /* "::" takes IPv4 clients too, named without the ::ffff: prefix */
    h = srv_start_at("[::]", NULL, app_echo);
    c = cli_connect_to("127.0.0.1", h->port);
    cli_send(c, "GET /four HTTP/1.1\r\n\r\n");
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /four 0:");
    uv_mutex_lock(&h->mu);
    cr_assert_str_eq(h->last_peer, "127.0.0.1");
    uv_mutex_unlock(&h->mu);
    cli_close(c);
    c = cli_connect_to("::1", h->port);
    cli_send(c, "GET /six HTTP/1.1\r\n\r\n");
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /six 0:");
    cli_close(c);
    srv_stop(h);
}

Test(http, start_refuses_bad_options, .timeout = 30)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_http_server_t *s;
    gn_http_opts_t o = {.ip = "not an ip", .on_request = on_request};
    cr_assert_eq(gn_http_server_start(&loop, &o, &s), GN_EINVAL);
    o.ip = "127.0.0.1";
    o.on_request = NULL;
    cr_assert_eq(gn_http_server_start(&loop, &o, &s), GN_EINVAL);
    /* a port in use */
    o.on_request = on_request;
    cr_assert_eq(gn_http_server_start(&loop, &o, &s), 0);
    gn_http_server_t *s2;
    o.port = gn_http_server_port(s);
    cr_assert_eq(gn_http_server_start(&loop, &o, &s2), GN_EEXIST);
    gn_http_server_stop(s, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
    cr_assert_str_eq(gn_http_reason(431), "Request Header Fields Too Large");
    cr_assert_str_eq(gn_http_reason(200), "OK");
}

/* ---- tests: the socketless state machine (exact, no clock) ------------ */

typedef struct {
    char out[65536];
    size_t len;
    bool closed;
} sink_t;

static void sink_fn(void *arg, const char *d, size_t n)
{
    sink_t *k = arg;
    if (!d) {
        k->closed = true;
        return;
    }
    if (k->len + n < sizeof(k->out)) {
        memcpy(k->out + k->len, d, n);
        k->len += n;
        k->out[k->len] = 0;
    }
}

static int sl_requests, sl_aborts;
static gn_http_req_t *sl_held[8];

static void sl_on_request(gn_http_req_t *req, void *arg)
{
    (void)arg;
    sl_held[sl_requests++ % 8] = req;
}

static void sl_on_abort(gn_http_req_t *req, void *arg)
{
    (void)req, (void)arg;
    sl_aborts++;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

Test(http, socketless_head_limit_is_exact)
{
    gn_http_opts_t o = {
        .on_request = sl_on_request, .on_abort = sl_on_abort, .limits = {.max_header_bytes = 40}};
    gn_http_server_t *s;
    cr_assert_eq(gn_http__server_new(&o, &s), 0);
    /* exactly 40 head bytes: fine */
    const char *ok = "GET /aaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n";
    cr_assert_eq(strlen(ok), 40);
    sink_t k1 = {0}, k2 = {0};
    sl_requests = 0;
    gn_http_conn_t *c = gn_http__conn_new(s, "10.0.0.1", 1234, sink_fn, &k1);
    cr_assert(gn_http__conn_feed(c, ok, strlen(ok)));
    cr_assert_eq(sl_requests, 1);
    cr_assert_eq(gn_http_respond(sl_held[0], 204, NULL, 0, NULL, 0), 0);
    gn_http__pump(s);
    cr_assert(strncmp(k1.out, "HTTP/1.1 204 No Content\r\n", 25) == 0, "%s", k1.out);
    /* 41: 431, fed a byte at a time */
    const char *big = "GET /aaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n";
    gn_http_conn_t *c2 = gn_http__conn_new(s, "::1", 1, sink_fn, &k2);
    for (const char *p = big; *p && gn_http__conn_feed(c2, p, 1); p++)
        ;
    cr_assert(strncmp(k2.out, "HTTP/1.1 431 ", 13) == 0, "%s", k2.out);
    cr_assert(k2.closed);
    cr_assert_eq(sl_requests, 1);
    gn_http__server_free(s);
}

Test(http, socketless_deadlines_and_abort)
{
    gn_http_opts_t o = {.on_request = sl_on_request,
                        .on_abort = sl_on_abort,
                        .limits = {.header_timeout_ms = 1000, .idle_timeout_ms = 5000}};
    gn_http_server_t *s;
    cr_assert_eq(gn_http__server_new(&o, &s), 0);
    sink_t k = {0};
    sl_requests = sl_aborts = 0;
    gn_http_conn_t *c = gn_http__conn_new(s, "10.0.0.1", 1, sink_fn, &k);
    /* trickle: a byte every 300 ms is cut at 1000 ms */
    const char *req = "GET / HTTP/1.1\r\nX: yyyyyyyyyyyy";
    int i = 0;
    while (!gn_http__conn_closed(c) && req[i]) {
        gn_http__conn_feed(c, req + i++, 1);
        gn_http__advance(s, 300);
    }
    cr_assert(strncmp(k.out, "HTTP/1.1 408 ", 13) == 0, "%s", k.out);
    cr_assert_eq(i, 4, "cut after 4 bytes (1200 ms), got %d", i);
    /* idle: closed at 5000 ms, not before */
    sink_t k2 = {0};
    gn_http_conn_t *c2 = gn_http__conn_new(s, "10.0.0.2", 1, sink_fn, &k2);
    gn_http__advance(s, 4999);
    cr_assert(!gn_http__conn_closed(c2));
    gn_http__advance(s, 1);
    cr_assert(gn_http__conn_closed(c2));
    cr_assert_eq(k2.len, 0);
    /* a held request, then a reset: on_abort once, answering is refused */
    sink_t k3 = {0};
    gn_http_conn_t *c3 = gn_http__conn_new(s, "10.0.0.3", 1, sink_fn, &k3);
    cr_assert(gn_http__conn_feed(c3, "GET /h HTTP/1.1\r\n\r\n", 19));
    cr_assert_eq(sl_requests, 1);
    gn_http__conn_reset(c3);
    cr_assert_eq(sl_aborts, 1);
    cr_assert_eq(count(k3.out, "HTTP/1.1"), 0);
    gn_http__server_free(s);
    cr_assert_eq(sl_aborts, 1);
}

/* Without on_abort, an aborted request stays valid until the application
 * answers it (refused, then freed: no leak). */
Test(http, socketless_abort_without_on_abort)
{
    gn_http_opts_t o = {.on_request = sl_on_request};
    gn_http_server_t *s;
    cr_assert_eq(gn_http__server_new(&o, &s), 0);
    sink_t k = {0};
    sl_requests = 0;
    gn_http_conn_t *c = gn_http__conn_new(s, "10.0.0.1", 1, sink_fn, &k);
    cr_assert(gn_http__conn_feed(c, "GET /h HTTP/1.1\r\n\r\nGET /i HTTP/1.1\r\n\r\n", 38));
    cr_assert_eq(sl_requests, 2);
    cr_assert_eq(gn_http_stream_start(sl_held[1], 200, NULL, 0), 0);
    gn_http__server_free(s);
    cr_assert_eq(gn_http_stream_write(sl_held[1], "x", 1), GN_ECLOSED);
    cr_assert_eq(gn_http_stream_end(sl_held[1]), GN_ECLOSED);
    cr_assert_eq(gn_http_respond(sl_held[0], 200, NULL, 0, NULL, 0), GN_ECLOSED);
}

static void do_stream_all(srv_t *h, void *arg)
{
    stream_op_t *op = arg;
    gn_http_req_t *req = h->held[0];
    h->held[0] = NULL;
    op->rc = gn_http_stream_start(req, 200, NULL, 0);
    if (!op->rc)
        op->rc = gn_http_stream_write(req, "abc", 3);
    if (!op->rc)
        op->rc = gn_http_stream_write(req, "defg", 4);
    if (!op->rc)
        op->rc = gn_http_stream_end(req);
}

static void shift_held(srv_t *h)
{
    uv_mutex_lock(&h->mu);
    for (int i = 1; i < h->n_held; i++)
        h->held[i - 1] = h->held[i];
    h->n_held--;
    uv_mutex_unlock(&h->mu);
}

/* HTTP/1.0 has no chunks: a closing request gets the body up to the close,
 * a keep-alive one gets it whole with a length; HEAD gets no body. */
Test(http, streams_to_http10_and_head, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_hold);
    int one = 1;
    resp_t r;
    char v[64];
    stream_op_t op = {0, NULL};

    cli_t *c = cli_connect(h);
    cli_send(c, "GET /s HTTP/1.0\r\n\r\n");
    cr_assert(wait_for(h, held_at_least, &one, 5000));
    on_loop(h, do_stream_all, &op);
    cr_assert_eq(op.rc, 0);
    cr_assert(cli_response(c, &r));
    cr_assert_str_eq(hdr(&r, "Connection", v, sizeof(v)), "close");
    cr_assert_str_eq(hdr(&r, "Content-Length", v, sizeof(v)), "");
    expect_body(&r, "abcdefg");
    cli_close(c);
    shift_held(h);

    c = cli_connect(h);
    cli_send(c, "GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    cr_assert(wait_for(h, held_at_least, &one, 5000));
    on_loop(h, do_stream_all, &op);
    cr_assert_eq(op.rc, 0);
    cr_assert(cli_response(c, &r));
    cr_assert_str_eq(hdr(&r, "Connection", v, sizeof(v)), "keep-alive");
    cr_assert_str_eq(hdr(&r, "Content-Length", v, sizeof(v)), "7");
    expect_body(&r, "abcdefg");
    shift_held(h);
    /* HEAD, streamed then whole: lengths, no bodies, the connection goes on */
    cli_send(c, "HEAD /h HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    cr_assert(wait_for(h, held_at_least, &one, 5000));
    on_loop(h, do_stream_all, &op);
    cr_assert_eq(op.rc, 0);
    cr_assert(cli_line(c, r.head, sizeof(r.head)));
    cr_assert_str_eq(r.head, "HTTP/1.1 200 OK");
    bool cl7 = false;
    while (cli_line(c, r.head, sizeof(r.head)) && r.head[0])
        cl7 |= strcmp(r.head, "Content-Length: 7") == 0;
    cr_assert(cl7);
    shift_held(h);
    cli_send(c, "HEAD /h2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    cr_assert(wait_for(h, held_at_least, &one, 5000));
    cr_assert_eq(answer_held(h, 0), 0);
    cr_assert(cli_line(c, r.head, sizeof(r.head)));
    cr_assert_str_eq(r.head, "HTTP/1.1 200 OK");
    bool cl = false;
    while (cli_line(c, r.head, sizeof(r.head)) && r.head[0])
        cl |= strncmp(r.head, "Content-Length: ", 16) == 0;
    cr_assert(cl);
    shift_held(h);
    cli_send(c, "GET /after HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    cr_assert(wait_for(h, held_at_least, &one, 5000));
    cr_assert_eq(answer_held(h, 0), 0);
    cr_assert(cli_response(c, &r));
    expect_body(&r, "GET /after 0:");
    cli_close(c);
    srv_stop(h);
}

/* The application's mistakes are refused, never written. */
Test(http, socketless_answers_are_checked)
{
    gn_http_opts_t o = {
        .on_request = sl_on_request, .on_abort = sl_on_abort, .server_name = "test-server"};
    gn_http_server_t *s;
    cr_assert_eq(gn_http__server_new(&o, &s), 0);
    sink_t k = {0};
    sl_requests = 0;
    gn_http_conn_t *c = gn_http__conn_new(s, "10.0.0.1", 1, sink_fn, &k);
    cr_assert(gn_http__conn_feed(c, "GET /a HTTP/1.1\r\n\r\n", 19));
    gn_http_req_t *req = sl_held[0];
    gn_header_t bad[] = {{"X-Split", 7, "a\r\nInjected: 1", 15}};
    gn_header_t badname[] = {{"X Y", 3, "v", 1}};
    gn_header_t framing[] = {
        {"Content-Length", 14, "999", 3}, {"Connection", 10, "close", 5}, {"Date", 4, "mine", 4}};
    cr_assert_eq(gn_http_respond(req, 200, bad, 1, "x", 1), GN_EINVAL);
    cr_assert_eq(gn_http_respond(req, 200, badname, 1, "x", 1), GN_EINVAL);
    cr_assert_eq(gn_http_respond(req, 99, NULL, 0, "x", 1), GN_EINVAL);
    cr_assert_eq(gn_http_respond(req, 200, NULL, 0, NULL, 3), GN_EINVAL);
    cr_assert_eq(gn_http_stream_write(req, "x", 1), GN_EINVAL);
    cr_assert_eq(gn_http_stream_end(req), GN_EINVAL);
    cr_assert_eq(k.len, 0);
    cr_assert_eq(gn_http_respond(req, 200, framing, 3, "hey", 3), 0);
    cr_assert_eq(gn_http_respond(req, 200, NULL, 0, "x", 1), GN_EINVAL, "answered once only");
    gn_http__pump(s);
    cr_assert(strstr(k.out, "Content-Length: 3\r\n"), "%s", k.out);
    cr_assert(!strstr(k.out, "999"), "%s", k.out);
    cr_assert(!strstr(k.out, "Connection"), "%s", k.out);
    cr_assert(strstr(k.out, "Date: mine\r\n") && count(k.out, "Date:") == 1, "%s", k.out);
    cr_assert(strstr(k.out, "Server: test-server\r\n"), "%s", k.out);
    cr_assert(strstr(k.out, "\r\n\r\nhey"), "%s", k.out);
    cr_assert(!gn_http__conn_closed(c));
    gn_http__server_free(s);
    cr_assert_eq(sl_aborts, 0);
}

/* ---- tests: draining (gn_http_server_drain) --------------------------- */

static int sl_drained;

static void sl_on_drained(void *arg)
{
    (void)arg;
    sl_drained++;
}

/* Every kind of connection a drain meets, step by step: idle keep-alive,
 * one whose request the application holds, fresh ones, a half-read head. */
Test(http, socketless_drain_answers_what_it_has_then_closes)
{
    gn_http_opts_t o = {.on_request = sl_on_request,
                        .on_abort = sl_on_abort,
                        .limits = {.header_timeout_ms = 10000, .idle_timeout_ms = 5000}};
    gn_http_server_t *s;
    cr_assert_eq(gn_http__server_new(&o, &s), 0);
    sl_requests = sl_aborts = sl_drained = 0;
    sink_t ka = {0}, kb = {0}, kc = {0}, kd = {0}, ke = {0};
    /* A: served once, idle */
    gn_http_conn_t *a = gn_http__conn_new(s, "10.0.0.1", 1, sink_fn, &ka);
    cr_assert(gn_http__conn_feed(a, "GET /a HTTP/1.1\r\n\r\n", 19));
    cr_assert_eq(gn_http_respond(sl_held[0], 200, NULL, 0, "a", 1), 0);
    gn_http__pump(s);
    cr_assert_eq(count(ka.out, "HTTP/1.1 200"), 1);
    size_t ka_len = ka.len;
    /* B: a request with the application */
    gn_http_conn_t *b = gn_http__conn_new(s, "10.0.0.2", 1, sink_fn, &kb);
    cr_assert(gn_http__conn_feed(b, "GET /b HTTP/1.1\r\n\r\n", 19));
    gn_http_req_t *b1 = sl_held[1];
    cr_assert(!b1->draining);
    /* C, D: connected, nothing sent yet; E: half a head */
    gn_http_conn_t *c = gn_http__conn_new(s, "10.0.0.3", 1, sink_fn, &kc);
    gn_http_conn_t *d = gn_http__conn_new(s, "10.0.0.4", 1, sink_fn, &kd);
    gn_http_conn_t *e = gn_http__conn_new(s, "10.0.0.5", 1, sink_fn, &ke);
    cr_assert(gn_http__conn_feed(e, "GET /e HTTP/1.1\r\nHost: x\r\n", 26));
    cr_assert_eq(sl_requests, 2);

    gn_http_server_drain(s, sl_on_drained, NULL);
    cr_assert(gn_http__conn_closed(a), "an idle keep-alive connection closes at once");
    cr_assert(ka.closed);
    cr_assert_eq(ka.len, ka_len, "nothing more written to it");
    cr_assert(!gn_http__conn_closed(b) && !gn_http__conn_closed(c) && !gn_http__conn_closed(d) &&
              !gn_http__conn_closed(e));
    cr_assert_eq(sl_drained, 0);

    /* B: a second request behind the held one is new work */
    cr_assert(gn_http__conn_feed(b, "GET /b2 HTTP/1.1\r\n\r\n", 20));
    cr_assert_eq(sl_requests, 3);
    gn_http_req_t *b2 = sl_held[2];
    cr_assert(b2->draining, "a request on a served connection, after the drain");
    cr_assert_eq(gn_http_respond(b1, 200, NULL, 0, "b", 1), 0);
    gn_http__pump(s);
    cr_assert_eq(count(kb.out, "HTTP/1.1 200"), 1);
    cr_assert_eq(count(kb.out, "Connection: close"), 0, "another answer follows: %s", kb.out);
    cr_assert(!kb.closed);
    cr_assert_eq(gn_http_respond(b2, 503, NULL, 0, "{}", 2), 0);
    gn_http__pump(s);
    cr_assert_eq(count(kb.out, "HTTP/1.1 503"), 1, "%s", kb.out);
    cr_assert_eq(count(kb.out, "Connection: close"), 1, "%s", kb.out);
    cr_assert(kb.closed, "closed after its last answer");

    /* C: its first request is not new work: served, then closed */
    cr_assert(gn_http__conn_feed(c, "GET /c HTTP/1.1\r\n\r\n", 19));
    cr_assert_eq(sl_requests, 4);
    cr_assert(!sl_held[3]->draining);
    cr_assert_eq(gn_http_respond(sl_held[3], 200, NULL, 0, "c", 1), 0);
    gn_http__pump(s);
    cr_assert(strstr(kc.out, "HTTP/1.1 200") && strstr(kc.out, "Connection: close"), "%s", kc.out);
    cr_assert(kc.closed);
    /* E: its head completes: its first request too */
    cr_assert(gn_http__conn_feed(e, "\r\n", 2));
    cr_assert_eq(sl_requests, 5);
    cr_assert(!sl_held[4]->draining);
    cr_assert_eq(gn_http_respond(sl_held[4], 200, NULL, 0, "e", 1), 0);
    gn_http__pump(s);
    cr_assert(strstr(ke.out, "Connection: close"), "%s", ke.out);
    cr_assert(ke.closed);
    /* D never starts: closed 2 s into the drain, not before; then done */
    gn_http__advance(s, 1999);
    cr_assert(!gn_http__conn_closed(d));
    cr_assert_eq(sl_drained, 0);
    gn_http__advance(s, 1);
    cr_assert(gn_http__conn_closed(d));
    cr_assert_eq(kd.len, 0);
    cr_assert_eq(sl_drained, 1, "done once, when no connection is left");
    gn_http_server_drain(s, sl_on_drained, NULL); /* again: nothing */
    cr_assert_eq(sl_drained, 1);
    gn_http__server_free(s);
    cr_assert_eq(sl_aborts, 0, "no request was abandoned");
}

static int drained_n;

static void on_drained(void *arg)
{
    srv_t *h = arg;
    uv_mutex_lock(&h->mu);
    drained_n++;
    signal_change(h);
    uv_mutex_unlock(&h->mu);
}

static bool drained(srv_t *h, void *arg)
{
    (void)h;
    return drained_n >= *(int *)arg;
}

static void do_drain(srv_t *h, void *arg)
{
    (void)arg;
    gn_http_server_drain(h->s, on_drained, h);
}

/* The loop is busy for 300 ms, then drains: a client that connected
 * meanwhile sits in the kernel's accept queue. */
static void do_busy_drain(srv_t *h, void *arg)
{
    (void)arg;
    sleep_ms(300);
    gn_http_server_drain(h->s, on_drained, h);
}

static call_t posted;

static bool posted_done(srv_t *h, void *arg)
{
    (void)h, (void)arg;
    return posted.done;
}

/* Run fn on the loop without waiting for it. */
static void post_loop(srv_t *h, void (*fn)(srv_t *, void *))
{
    uv_mutex_lock(&h->mu);
    posted = (call_t){fn, NULL, false, h->calls};
    h->calls = &posted;
    uv_mutex_unlock(&h->mu);
    uv_async_send(&h->wake);
}

/* Connect to 127.0.0.1:port; the errno of a failure, 0 when connected. */
static int try_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

Test(http, drain_refuses_new_connections_and_finishes_the_rest, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_hold);
    drained_n = 0;
    int one = 1, two = 2;
    resp_t r;
    char v[64];
    /* I: idle keep-alive after one answer; A: a request held; F: fresh */
    cli_t *i = cli_connect(h);
    cli_send(i, "GET /i HTTP/1.1\r\n\r\n");
    cr_assert(wait_for(h, held_at_least, &one, 5000));
    cr_assert_eq(answer_held(h, 0), 0);
    cr_assert(cli_response(i, &r));
    shift_held(h);
    cli_t *a = cli_connect(h);
    cli_send(a, "GET /a HTTP/1.1\r\n\r\n");
    cr_assert(wait_for(h, held_at_least, &one, 5000));
    cli_t *f = cli_connect(h);
    cr_assert(wait_open(h, 3, 5000));

    on_loop(h, do_drain, NULL);
    cr_assert_eq(try_connect(h->port), ECONNREFUSED, "the listener is closed");
    cr_assert(cli_closed(i, 3000), "the idle connection is closed");
    cli_close(i);
    /* F's first request is served, and ends its connection */
    cli_send(f, "GET /f HTTP/1.1\r\n\r\n");
    cr_assert(wait_for(h, held_at_least, &two, 5000));
    cr_assert_eq(answer_held(h, 1), 0);
    cr_assert(cli_response(f, &r));
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Connection", v, sizeof(v)), "close");
    cr_assert(cli_closed(f, 3000));
    cli_close(f);
    /* A's answer comes late, and is the last: written, then closed */
    sleep_ms(200);
    cr_assert(!wait_for(h, drained, &one, 0), "not done while A owes an answer");
    cr_assert_eq(answer_held(h, 0), 0);
    cr_assert(cli_response(a, &r));
    cr_assert_eq(r.status, 200);
    expect_body(&r, "GET /a 0:");
    cr_assert_str_eq(hdr(&r, "Connection", v, sizeof(v)), "close");
    cr_assert(cli_closed(a, 3000));
    cli_close(a);
    cr_assert(wait_for(h, drained, &one, 5000), "done once every connection is gone");
    cr_assert(wait_open(h, 0, 1000));
    cr_assert_eq(h->n_aborts, 0);
    srv_stop(h);
    cr_assert_eq(drained_n, 1);
}

/* A client whose connection the kernel completed before the drain, but the
 * loop had not accepted yet, is served, not reset. */
Test(http, drain_serves_connections_still_in_the_accept_queue, .timeout = 30)
{
    srv_t *h = srv_start(NULL, app_hold);
    drained_n = 0;
    int one = 1;
    post_loop(h, do_busy_drain);
    sleep_ms(50); /* the loop is busy now */
    cli_t *c = cli_connect(h);
    cli_send(c, "GET /q HTTP/1.1\r\n\r\n");
    cr_assert(wait_for(h, posted_done, NULL, 5000));
    cr_assert_eq(try_connect(h->port), ECONNREFUSED);
    cr_assert(wait_for(h, held_at_least, &one, 5000), "the queued connection's request came");
    cr_assert(!h->held[0]->draining, "its first request");
    cr_assert_eq(answer_held(h, 0), 0);
    resp_t r;
    char v[64];
    cr_assert(cli_response(c, &r));
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Connection", v, sizeof(v)), "close");
    cli_close(c);
    cr_assert(wait_for(h, drained, &one, 5000));
    srv_stop(h);
}
