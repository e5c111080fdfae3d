/* bench/latency_proxy: a TCP proxy on 127.0.0.1 that delays every chunk,
 * in each direction, by a fixed one-way latency (RTT/2), preserving order;
 * bandwidth is not limited. It stands in for a netem qdisc (which needs
 * root) to give the chain bench the round trip of a distant node.
 *
 *   latency_proxy LISTEN_PORT [UPSTREAM_HOST:]UPSTREAM_PORT [ONE_WAY_MS]
 *
 * LISTEN_PORT 0 takes any free port. Once listening it prints
 * "127.0.0.1:PORT" on stdout; it runs until killed. ONE_WAY_MS defaults
 * to 25 (a 50 ms round trip). Each accepted connection gets its own
 * upstream connection; bytes are opaque (a WebSocket stream, any size). */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define CHUNK_BYTES (64 * 1024)

typedef struct chunk {
    struct chunk *next;
    uint64_t due; /* uv_hrtime() at which it leaves */
    char *data;   /* NULL: end of stream (shut down the writing side) */
    size_t len;
} chunk_t;

struct conn;

/* One direction: what `from` sent, delayed, written to `to`. */
typedef struct dir {
    struct conn *c;
    uv_tcp_t *from, *to;
    chunk_t *head, *tail;
    uv_timer_t timer;
    bool eof_in, eof_out;
} dir_t;

typedef struct conn {
    uv_tcp_t client, upstream;
    uv_connect_t connect;
    uv_shutdown_t shut[2];
    dir_t up, down; /* client -> upstream, upstream -> client */
    bool connected, closing;
    int open_handles;
} conn_t;

typedef struct {
    uv_write_t req;
    chunk_t *chunk;
} write_t;

static uint64_t delay_ns;
static struct sockaddr_storage upstream_addr;

static void conn_free_chunks(dir_t *d)
{
    while (d->head) {
        chunk_t *k = d->head;
        d->head = k->next;
        free(k->data);
        free(k);
    }
    d->tail = NULL;
}

static void conn_handle_gone(conn_t *c)
{
    if (--c->open_handles == 0) {
        conn_free_chunks(&c->up);
        conn_free_chunks(&c->down);
        free(c);
    }
}

static void on_tcp_closed(uv_handle_t *h)
{
    conn_handle_gone(h->data);
}

static void on_timer_closed(uv_handle_t *h)
{
    conn_handle_gone(((dir_t *)h->data)->c);
}

static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->client, on_tcp_closed);
    uv_close((uv_handle_t *)&c->upstream, on_tcp_closed);
    uv_close((uv_handle_t *)&c->up.timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->down.timer, on_timer_closed);
}

/* Both directions ended and were passed on: nothing left to do. */
static void conn_maybe_done(conn_t *c)
{
    if (c->up.eof_out && c->down.eof_out && !c->up.head && !c->down.head)
        conn_close(c);
}

static void on_write(uv_write_t *req, int status)
{
    write_t *w = (write_t *)req;
    conn_t *c = req->handle->data;
    free(w->chunk->data);
    free(w->chunk);
    free(w);
    if (status < 0 && status != UV_ECANCELED)
        conn_close(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn_t *c = req->handle->data;
    if (status < 0 && status != UV_ECANCELED)
        conn_close(c);
    else if (!c->closing)
        conn_maybe_done(c);
}

static void on_timer(uv_timer_t *t);

static void dir_arm(dir_t *d)
{
    if (!d->head || d->c->closing)
        return;
    uint64_t now = uv_hrtime();
    uint64_t wait = d->head->due > now ? d->head->due - now : 0;
    uint64_t ms = (wait + 999999) / 1000000;
    uv_update_time(d->timer.loop);
    uv_timer_start(&d->timer, on_timer, ms ? ms : 1, 0);
}

/* Pass on every chunk that is due (within half a millisecond: the timer's
 * resolution is one). */
static void on_timer(uv_timer_t *t)
{
    dir_t *d = t->data;
    conn_t *c = d->c;
    if (!c->connected)
        return; /* flushed once the upstream connects */
    uint64_t now = uv_hrtime() + 500000;
    while (d->head && d->head->due <= now && !c->closing) {
        chunk_t *k = d->head;
        d->head = k->next;
        if (!d->head)
            d->tail = NULL;
        if (!k->data) {
            free(k);
            d->eof_out = true;
            uv_shutdown(&c->shut[d == &c->up], (uv_stream_t *)d->to, on_shutdown);
            continue;
        }
        write_t *w = malloc(sizeof(*w));
        if (!w) {
            free(k->data);
            free(k);
            conn_close(c);
            return;
        }
        w->chunk = k;
        uv_buf_t b = uv_buf_init(k->data, (unsigned)k->len);
        if (uv_write(&w->req, (uv_stream_t *)d->to, &b, 1, on_write) < 0) {
            free(k->data);
            free(k);
            free(w);
            conn_close(c);
            return;
        }
    }
    dir_arm(d);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = malloc(CHUNK_BYTES);
    buf->len = buf->base ? CHUNK_BYTES : 0;
}

static void dir_push(dir_t *d, char *data, size_t len)
{
    chunk_t *k = malloc(sizeof(*k));
    if (!k) {
        free(data);
        conn_close(d->c);
        return;
    }
    *k = (chunk_t){.due = uv_hrtime() + delay_ns, .data = data, .len = len};
    bool was_empty = !d->head;
    if (d->tail)
        d->tail->next = k;
    else
        d->head = k;
    d->tail = k;
    if (was_empty)
        dir_arm(d);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = s->data;
    dir_t *d = s == (uv_stream_t *)&c->client ? &c->up : &c->down;
    if (n > 0 && !c->closing) {
        char *data = realloc(buf->base, (size_t)n); /* shrink: big responses queue */
        dir_push(d, data ? data : buf->base, (size_t)n);
        return;
    }
    free(buf->base);
    if (n == UV_EOF && !d->eof_in) {
        d->eof_in = true;
        uv_read_stop(s);
        dir_push(d, NULL, 0);
    } else if (n < 0) {
        conn_close(c);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    conn_t *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        fprintf(stderr, "latency_proxy: upstream: %s\n", uv_strerror(status));
        conn_close(c);
        return;
    }
    c->connected = true;
    uv_tcp_nodelay(&c->upstream, 1);
    uv_read_start((uv_stream_t *)&c->upstream, on_alloc, on_read);
    on_timer(&c->up.timer); /* anything the client sent meanwhile */
}

static void dir_init(conn_t *c, dir_t *d, uv_loop_t *loop, uv_tcp_t *from, uv_tcp_t *to)
{
    d->c = c;
    d->from = from;
    d->to = to;
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
}

static void on_accept(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    uv_loop_t *loop = server->loop;
    conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    uv_tcp_init(loop, &c->client);
    uv_tcp_init(loop, &c->upstream);
    c->client.data = c->upstream.data = c;
    dir_init(c, &c->up, loop, &c->client, &c->upstream);
    dir_init(c, &c->down, loop, &c->upstream, &c->client);
    c->open_handles = 4;
    c->connect.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->client) < 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->client, 1);
    if (uv_tcp_connect(&c->connect, &c->upstream, (const struct sockaddr *)&upstream_addr,
                       on_connect) < 0) {
        conn_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->client, on_alloc, on_read);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr,
                "usage: latency_proxy LISTEN_PORT [UPSTREAM_HOST:]UPSTREAM_PORT [ONE_WAY_MS]\n");
        return 2;
    }
    int listen_port = atoi(argv[1]);
    char host[256] = "127.0.0.1";
    const char *port_text = argv[2], *colon = strrchr(argv[2], ':');
    if (colon) {
        size_t n = (size_t)(colon - argv[2]);
        if (n == 0 || n >= sizeof(host)) {
            fprintf(stderr, "latency_proxy: bad upstream %s\n", argv[2]);
            return 2;
        }
        memcpy(host, argv[2], n);
        host[n] = 0;
        port_text = colon + 1;
    }
    double one_way_ms = argc == 4 ? atof(argv[3]) : 25.0;
    if (one_way_ms < 0 || listen_port < 0 || listen_port > 65535) {
        fprintf(stderr, "latency_proxy: bad arguments\n");
        return 2;
    }
    delay_ns = (uint64_t)(one_way_ms * 1e6);
    if (uv_ip4_addr(host, atoi(port_text), (struct sockaddr_in *)&upstream_addr) < 0 &&
        uv_ip6_addr(host, atoi(port_text), (struct sockaddr_in6 *)&upstream_addr) < 0) {
        fprintf(stderr, "latency_proxy: bad upstream host %s\n", host);
        return 2;
    }

    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", listen_port, &addr);
    uv_tcp_init(loop, &server);
    int r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&server, 128, on_accept);
    if (r < 0) {
        fprintf(stderr, "latency_proxy: listen on %d: %s\n", listen_port, uv_strerror(r));
        return 1;
    }
    struct sockaddr_in bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
    printf("127.0.0.1:%d\n", ntohs(bound.sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
