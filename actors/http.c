/* HTTP/1.1 server on libuv TCP with llhttp (include/ganglion/http.h).
 *
 * One connection is one state machine (conn_t), driven by bytes read
 * (process), writes completed (write_done), a deadline (on_timer) and the
 * application's answers (gn_http_respond, gn_http_stream_*). The socket is
 * touched only by transport_write, set_reading, conn_finish, conn_close and
 * arm; a socketless server (actors/http_internal.h) replaces those with a
 * sink and a clock, so the fuzz target drives the very same code.
 *
 * Requests on a connection form a queue in arrival order: an entry joins
 * when its head is complete, is given to the application when its body is,
 * and its answer is written only when every earlier entry has been written
 * whole. An entry leaves the queue when the write of its last byte
 * completes, so a client that does not read its answers fills the queue and
 * stops being read (max_pipelined). llhttp pauses at the end of every head
 * and every message, so head bytes are counted exactly and nothing is
 * parsed past a full pipeline; the unparsed rest of a read is kept (at most
 * one read buffer) until the queue drains.
 *
 * Re-entrancy: the application is called only from the top of a libuv
 * callback (on_request from a read or from a drained queue, on_abort from a
 * handle's close callback), and write completions are always asynchronous,
 * so no queue entry is freed under a caller's feet. A connection's memory
 * is freed only in its close callback. */
#include "ganglion/http.h"
#include "ganglion/buf.h"
#include "ganglion/error.h"
#include "http_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF_SIZE  (64 * 1024)
#define LINGER_MS      2000 /* after a closing answer: read and drop until EOF, this long at most */
#define BACKLOG        4096
#define DRAIN_FRESH_MS 2000 /* draining: a connection with no request yet may start one */

typedef struct conn conn_t;
typedef struct http_req http_req_t;

/* Bytes to write: built whole, then handed to the socket (ownership goes
 * with the uv_write_t inside). */
typedef struct outbuf {
    uv_write_t w;
    struct outbuf *next;
    conn_t *c;
    http_req_t *final; /* this buffer ends final's answer */
    size_t len, cap;
    char data[];
} outbuf_t;

typedef struct {
    uint32_t name_off, name_len, value_off, value_len, done;
} hidx_t;

struct http_req {
    gn_http_req_t pub; /* first: the application's pointer is ours */
    conn_t *c;         /* NULL once aborted */
    http_req_t *qprev, *qnext;
    /* the head: the target, then each header name and value, NUL after each */
    char *head;
    size_t head_len, head_cap;
    hidx_t *hidx;
    size_t nh, hcap;
    gn_header_t *hdrs;
    uint8_t *body;
    size_t body_len, body_cap;
    outbuf_t *out_head, *out_tail; /* answer bytes not yet written */
    /* a stream that cannot go out as chunks (a bodiless answer, or HTTP/1.0
     * keeping the connection) is gathered and sent whole at its end */
    outbuf_t *held_head; /* the application's header lines */
    outbuf_t *held_body;
    size_t held_len;
    int held_status;
    unsigned held_own;
    bool queued, counted, keep_alive, http10, is_head, close_after;
    bool first;     /* the connection's first request */
    bool app_owned; /* given to the application, not yet answered */
    bool streaming, no_body, chunked, gather, gather_failed;
    bool done;     /* the answer is complete (maybe not written) */
    bool sent;     /* its last byte was handed to the socket */
    bool aborted;  /* its connection went away while the application had it */
    bool detached; /* aborted, no on_abort: freed when the application answers */
};

enum { PH_IDLE, PH_HEAD, PH_BODY, PH_LINGER };
enum { PAUSE_NONE, PAUSE_HEADERS, PAUSE_MESSAGE };
enum { PEND_NONE, PEND_400, PEND_431, PEND_413, PEND_NOMEM };
enum { HS_NONE, HS_FIELD, HS_VALUE };

struct conn {
    gn_http_server_t *s;
    conn_t *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shut;
    llhttp_t p;
    int phase, pause, pending, hstate;
    int handles;
    bool reading, read_eof, closing, no_more, discard, finished, dead;
    http_req_t *cur; /* being parsed */
    http_req_t *q_head, *q_tail;
    unsigned n_waiting; /* complete requests in the queue */
    unsigned long nreq; /* requests begun on it */
    uint64_t head_start, body_start, idle_since, linger_until, armed;
    uint64_t arrival_ns, data_ns, in_ns; /* first byte of the request; of these bytes; of c->in */
    size_t head_bytes;
    char *in; /* unparsed bytes kept while the pipeline is full */
    size_t in_off, in_len;
    http_req_t *aborted; /* app-held requests to tell on_abort about (via qnext) */
    char peer_ip[46];
    uint16_t peer_port;
    uint8_t rate_key[16];
    /* socketless */
    gn_http_sink_fn sink;
    void *sink_arg;
    outbuf_t *wdone_head, *wdone_tail;
    uint64_t deadline;
};

typedef struct rate_ent {
    struct rate_ent *next;
    uint8_t key[16];
    double tokens;
    uint64_t last_ms;
} rate_ent_t;

struct gn_http_server {
    uv_loop_t *loop; /* NULL: socketless */
    uv_tcp_t listener;
    bool listening, stopping, done_called;
    bool draining, drain_done_called;
    uint64_t drain_ms; /* when the drain began */
    void (*drain_done)(void *arg);
    void *drain_arg;
    gn_http_request_cb on_request;
    gn_http_abort_cb on_abort;
    void *arg;
    gn_http_limits_t lim;
    char *server_name;
    uint16_t port;
    conn_t *conns, *dead;
    unsigned n_conns;
    gn_http_stats_t st;
    void (*done)(void *arg);
    void *done_arg;
    uint64_t now_ms; /* socketless clock */
    rate_ent_t **rt;
    size_t rt_mask, rt_count, rt_sweep_at;
    uint64_t rt_seed;
    time_t date_sec;
    char date[40];
    char rbuf[READ_BUF_SIZE];
};

static void process_and_read(conn_t *c, const char *data, size_t len);
static void resume(conn_t *c);
static void conn_close(conn_t *c);
static void arm(conn_t *c);
static void flush(conn_t *c);
static void drain_check(conn_t *c);
static void drain_maybe_done(gn_http_server_t *s);

/* ---- small helpers ---------------------------------------------------- */

static uint64_t now_ms(const gn_http_server_t *s)
{
    return s->loop ? uv_now(s->loop) : s->now_ms;
}

static int lower(int ch)
{
    return (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

const char *gn_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    case 511: return "Network Authentication Required";
    default: return "Unknown";
    }
}

/* RFC 7231 IMF-fixdate, cached per second. */
static const char *http_date(gn_http_server_t *s)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = time(NULL);
    if (t != s->date_sec || !s->date[0]) {
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(s->date, sizeof(s->date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        s->date_sec = t;
    }
    return s->date;
}

/* ---- output buffers --------------------------------------------------- */

static outbuf_t *ob_new(size_t cap)
{
    if (cap < 256)
        cap = 256;
    outbuf_t *b = malloc(sizeof(*b) + cap);
    if (!b)
        return NULL;
    memset(b, 0, sizeof(*b));
    b->cap = cap;
    return b;
}

/* Append to a buffer not yet handed over; on failure *bp is freed and NULL. */
static void ob_put(outbuf_t **bp, const void *d, size_t n)
{
    outbuf_t *b = *bp;
    if (!b)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap * 2;
        while (cap < b->len + n)
            cap *= 2;
        outbuf_t *nb = realloc(b, sizeof(*b) + cap);
        if (!nb) {
            free(b);
            *bp = NULL;
            return;
        }
        nb->cap = cap;
        b = *bp = nb;
    }
    if (n)
        memcpy(b->data + b->len, d, n);
    b->len += n;
}

static void ob_str(outbuf_t **bp, const char *str)
{
    ob_put(bp, str, strlen(str));
}

static void ob_fmt(outbuf_t **bp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ob_fmt(outbuf_t **bp, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        free(*bp);
        *bp = NULL;
        return;
    }
    ob_put(bp, tmp, (size_t)n);
}

static void req_push_out(http_req_t *r, outbuf_t *b)
{
    b->next = NULL;
    if (r->out_tail)
        r->out_tail->next = b;
    else
        r->out_head = b;
    r->out_tail = b;
}

/* ---- requests and the queue ------------------------------------------ */

static void free_outs(outbuf_t *b)
{
    while (b) {
        outbuf_t *n = b->next;
        free(b);
        b = n;
    }
}

static void free_req(http_req_t *r)
{
    if (!r)
        return;
    if (r->c && r->c->cur == r)
        r->c->cur = NULL;
    free_outs(r->out_head);
    free(r->held_head);
    free(r->held_body);
    free(r->head);
    free(r->hidx);
    free(r->hdrs);
    free(r->body);
    free(r);
}

static void queue_push(conn_t *c, http_req_t *r)
{
    r->qnext = NULL;
    r->qprev = c->q_tail;
    if (c->q_tail)
        c->q_tail->qnext = r;
    else
        c->q_head = r;
    c->q_tail = r;
    r->queued = true;
}

static void queue_unlink(conn_t *c, http_req_t *r)
{
    if (r->qprev)
        r->qprev->qnext = r->qnext;
    else
        c->q_head = r->qnext;
    if (r->qnext)
        r->qnext->qprev = r->qprev;
    else
        c->q_tail = r->qprev;
    r->qprev = r->qnext = NULL;
    r->queued = false;
    if (r->counted) {
        r->counted = false;
        c->n_waiting--;
    }
}

/* ---- transport: socket or sink --------------------------------------- */

static void on_write(uv_write_t *w, int status);

static int transport_write(conn_t *c, outbuf_t *b)
{
    b->c = c;
    b->next = NULL;
    if (!c->s->loop) {
        if (b->len) /* an HTTP/1.0 stream's end has no bytes */
            c->sink(c->sink_arg, b->data, b->len);
        if (c->wdone_tail)
            c->wdone_tail->next = b;
        else
            c->wdone_head = b;
        c->wdone_tail = b;
        return 0;
    }
    uv_buf_t ub = uv_buf_init(b->data, (unsigned)b->len);
    b->w.data = b;
    int rc = uv_write(&b->w, (uv_stream_t *)&c->tcp, &ub, 1, on_write);
    if (rc < 0) {
        free(b);
        return rc;
    }
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn_t *c = h->data;
    buf->base = c->s->rbuf;
    buf->len = sizeof(c->s->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static bool want_read(const conn_t *c)
{
    if (c->closing || c->read_eof)
        return false;
    if (c->phase == PH_LINGER || c->no_more)
        return true; /* read and drop: a reset or EOF is seen */
    return !c->in_len && c->n_waiting < c->s->lim.max_pipelined;
}

static void set_reading(conn_t *c)
{
    bool on = want_read(c);
    if (on == c->reading)
        return;
    c->reading = on;
    if (!c->s->loop)
        return;
    if (on) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
            conn_close(c);
    } else {
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

/* ---- responses -------------------------------------------------------- */

static bool tchar(unsigned char ch)
{
    return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int check_headers(const gn_header_t *h, size_t n)
{
    if (n && !h)
        return GN_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !h[i].name_len || (h[i].value_len && !h[i].value))
            return GN_EINVAL;
        for (size_t k = 0; k < h[i].name_len; k++)
            if (!tchar((unsigned char)h[i].name[k]))
                return GN_EINVAL;
        for (size_t k = 0; k < h[i].value_len; k++) {
            char ch = h[i].value[k];
            if (ch == '\r' || ch == '\n' || ch == '\0')
                return GN_EINVAL;
        }
    }
    return 0;
}

enum { FRAME_LENGTH, FRAME_CHUNKED, FRAME_EOF, FRAME_NONE };

/* The application's header lines, without the framing ones (ours); the
 * flags say whether it gave its own Date or Server. */
static unsigned put_app_headers(outbuf_t **bp, const gn_header_t *h, size_t n)
{
    unsigned own = 0;
    for (size_t i = 0; i < n; i++) {
        const char *nm = h[i].name;
        size_t nl = h[i].name_len;
        if (ieq(nm, nl, "content-length") || ieq(nm, nl, "transfer-encoding") ||
            ieq(nm, nl, "connection"))
            continue;
        own |= ieq(nm, nl, "date") ? 1u : ieq(nm, nl, "server") ? 2u : 0u;
        ob_put(bp, nm, nl);
        ob_put(bp, ": ", 2);
        ob_put(bp, h[i].value, h[i].value_len);
        ob_put(bp, "\r\n", 2);
    }
    return own;
}

/* What follows the application's headers, to the end of the head. */
static void put_head_tail(gn_http_server_t *s, outbuf_t **bp, unsigned own, int framing,
                          size_t clen, bool close, bool http10_keep_alive)
{
    if (framing == FRAME_LENGTH)
        ob_fmt(bp, "Content-Length: %zu\r\n", clen);
    else if (framing == FRAME_CHUNKED)
        ob_str(bp, "Transfer-Encoding: chunked\r\n");
    if (!(own & 1)) {
        ob_str(bp, "Date: ");
        ob_str(bp, http_date(s));
        ob_str(bp, "\r\n");
    }
    if (!(own & 2)) {
        ob_str(bp, "Server: ");
        ob_str(bp, s->server_name);
        ob_str(bp, "\r\n");
    }
    if (close)
        ob_str(bp, "Connection: close\r\n");
    else if (http10_keep_alive)
        ob_str(bp, "Connection: keep-alive\r\n");
    ob_put(bp, "\r\n", 2);
}

/* Status line and headers; *bp must be a fresh buffer. */
static void put_head(gn_http_server_t *s, outbuf_t **bp, int status, const gn_header_t *h, size_t n,
                     int framing, size_t clen, bool close, bool http10_keep_alive)
{
    ob_fmt(bp, "HTTP/1.1 %d %s\r\n", status, gn_http_reason(status));
    unsigned own = put_app_headers(bp, h, n);
    put_head_tail(s, bp, own, framing, clen, close, http10_keep_alive);
}

static void json_escape(outbuf_t **bp, const char *m)
{
    for (; *m; m++) {
        unsigned char ch = (unsigned char)*m;
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            ob_put(bp, e, 2);
        } else if (ch < 0x20) {
            ob_fmt(bp, "\\u%04x", ch);
        } else {
            ob_put(bp, m, 1);
        }
    }
}

/* The server's own answer: {"message": "..."}; for a HEAD request no body. */
static outbuf_t *error_response(gn_http_server_t *s, int status, const char *msg, bool close,
                                bool head, bool http10_keep_alive)
{
    outbuf_t *body = ob_new(64 + strlen(msg) * 2);
    ob_str(&body, "{\"message\": \"");
    json_escape(&body, msg);
    ob_str(&body, "\"}");
    if (!body)
        return NULL;
    static const gn_header_t ct = {"Content-Type", 12, "application/json", 16};
    outbuf_t *b = ob_new(256 + body->len);
    put_head(s, &b, status, &ct, 1, FRAME_LENGTH, head ? 0 : body->len, close, http10_keep_alive);
    if (!head)
        ob_put(&b, body->data, body->len);
    free(body);
    return b;
}

/* ---- connection life -------------------------------------------------- */

static void server_maybe_done(gn_http_server_t *s);

/* The handles are closed: tell the application about the requests it held,
 * then free. */
static void conn_finalize(conn_t *c)
{
    gn_http_server_t *s = c->s;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->n_conns--;
    while (c->aborted) {
        http_req_t *r = c->aborted;
        c->aborted = r->qnext;
        r->qnext = NULL;
        if (s->on_abort) {
            s->on_abort(&r->pub, s->arg);
            free_req(r);
        } else if (!r->app_owned) {
            free_req(r); /* answered (GN_ECLOSED) before we got here */
        } else {
            r->detached = true;
        }
    }
    free_outs(c->wdone_head);
    c->wdone_head = c->wdone_tail = NULL;
    free(c->in);
    c->in = NULL;
    c->dead = true;
    if (!s->loop) {
        if (c->sink)
            c->sink(c->sink_arg, NULL, 0);
        c->next = s->dead;
        s->dead = c;
    } else {
        free(c);
    }
    if (s->stopping)
        server_maybe_done(s);
    else
        drain_maybe_done(s);
}

static void on_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->handles == 0)
        conn_finalize(c);
}

/* Close now: unwritten answers are dropped, requests with the application
 * are aborted (on_abort from the close callback). */
static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->reading = false;
    while (c->q_head) {
        http_req_t *r = c->q_head;
        queue_unlink(c, r);
        if (r->app_owned) {
            r->aborted = true;
            if (c->cur == r)
                c->cur = NULL;
            r->c = NULL;
            r->qnext = c->aborted;
            c->aborted = r;
        } else {
            free_req(r);
        }
    }
    free_req(c->cur);
    c->cur = NULL;
    if (!c->s->loop)
        return; /* finished by gn_http__pump */
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn_t *c = req->data;
    if (status < 0 && !c->closing)
        conn_close(c);
}

/* A closing answer is written: shut down our side, then read and drop what
 * the client still sends (so it sees the answer, not a reset) until its EOF
 * or the linger deadline. */
static void conn_finish(conn_t *c)
{
    if (c->closing || c->finished)
        return;
    c->finished = true;
    if (!c->s->loop || c->read_eof) {
        conn_close(c);
        return;
    }
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_off = 0;
    c->phase = PH_LINGER;
    uint64_t linger = c->s->lim.idle_timeout_ms < LINGER_MS ? c->s->lim.idle_timeout_ms : LINGER_MS;
    c->linger_until = now_ms(c->s) + linger;
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        conn_close(c);
        return;
    }
    set_reading(c);
    arm(c);
}

static void write_done(conn_t *c, outbuf_t *b, int status)
{
    http_req_t *fin = b->final;
    free(b);
    if (c->closing)
        return; /* the queue is gone already */
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (fin) {
        bool close_after = fin->close_after;
        queue_unlink(c, fin);
        free_req(fin);
        if (close_after) {
            conn_finish(c);
            return;
        }
        if (!c->q_head)
            c->idle_since = now_ms(c->s);
    }
    resume(c);
}

static void on_write(uv_write_t *w, int status)
{
    outbuf_t *b = w->data;
    write_done(b->c, b, status);
}

/* Hand every answer byte that may go now to the socket, in queue order. */
static void flush(conn_t *c)
{
    for (http_req_t *r = c->q_head; r && !c->closing; r = r->qnext) {
        if (r->sent)
            continue;
        while (r->out_head) {
            outbuf_t *b = r->out_head;
            r->out_head = b->next;
            if (!r->out_head)
                r->out_tail = NULL;
            if (!r->out_head && r->done) {
                b->final = r;
                r->sent = true;
                c->s->st.responses++;
            }
            if (transport_write(c, b) < 0) {
                conn_close(c);
                return;
            }
        }
        if (!r->done || r->close_after)
            return;
    }
}

/* The server refuses: its answer takes this request's place in the queue
 * (or the next place), and the connection closes after it, except 429. */
static void reject(conn_t *c, gn_http_reject_t kind, int status, const char *msg)
{
    gn_http_server_t *s = c->s;
    s->st.rejects[kind]++;
    http_req_t *r = c->cur;
    bool head = false;
    if (r && r->queued && !r->done) {
        head = r->is_head;
        free_outs(r->out_head); /* an unsent 100 Continue */
        r->out_head = r->out_tail = NULL;
    } else {
        if (r && !r->queued)
            free_req(r);
        r = calloc(1, sizeof(*r));
        if (!r) {
            c->cur = NULL;
            conn_close(c);
            return;
        }
        r->c = c;
        queue_push(c, r);
    }
    c->cur = NULL;
    c->phase = PH_IDLE;
    c->no_more = true;
    outbuf_t *b = error_response(s, status, msg, true, head, false);
    if (!b) {
        conn_close(c);
        return;
    }
    r->close_after = true;
    r->done = true;
    req_push_out(r, b);
    flush(c);
    if (!c->closing) {
        set_reading(c);
        arm(c);
    }
}

/* ---- per-IP token bucket ---------------------------------------------- */

static size_t rate_hash(const gn_http_server_t *s, const uint8_t key[16])
{
    uint64_t h = 1469598103934665603ull ^ s->rt_seed;
    for (int i = 0; i < 16; i++) {
        h ^= key[i];
        h *= 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 29)) & s->rt_mask;
}

static double rate_refill(const gn_http_server_t *s, rate_ent_t *e, uint64_t now)
{
    double burst = s->lim.per_ip_burst;
    if (now > e->last_ms) {
        e->tokens += (double)(now - e->last_ms) * s->lim.per_ip_rate / 1000.0;
        if (e->tokens > burst)
            e->tokens = burst;
        e->last_ms = now;
    }
    return e->tokens;
}

/* Forget full buckets (as good as absent); grow when still crowded. */
static void rate_sweep(gn_http_server_t *s, uint64_t now)
{
    for (size_t i = 0; i <= s->rt_mask; i++) {
        rate_ent_t **pp = &s->rt[i];
        while (*pp) {
            rate_ent_t *e = *pp;
            if (rate_refill(s, e, now) >= s->lim.per_ip_burst) {
                *pp = e->next;
                free(e);
                s->rt_count--;
            } else {
                pp = &e->next;
            }
        }
    }
    if (s->rt_count > s->rt_mask) {
        size_t n = (s->rt_mask + 1) * 2;
        rate_ent_t **nt = calloc(n, sizeof(*nt));
        if (nt) {
            size_t old = s->rt_mask + 1;
            rate_ent_t **ot = s->rt;
            s->rt = nt;
            s->rt_mask = n - 1;
            for (size_t i = 0; i < old; i++)
                for (rate_ent_t *e = ot[i], *nx; e; e = nx) {
                    nx = e->next;
                    size_t hh = rate_hash(s, e->key);
                    e->next = nt[hh];
                    nt[hh] = e;
                }
            free(ot);
        }
    }
    s->rt_sweep_at = s->rt_count * 2 > 1024 ? s->rt_count * 2 : 1024;
}

/* true: the request may go on. */
static bool rate_take(gn_http_server_t *s, const uint8_t key[16])
{
    if (s->lim.per_ip_rate <= 0)
        return true;
    uint64_t now = now_ms(s);
    if (!s->rt) {
        s->rt = calloc(1024, sizeof(*s->rt));
        if (!s->rt)
            return true;
        s->rt_mask = 1023;
        s->rt_sweep_at = 1024;
    }
    size_t h = rate_hash(s, key);
    rate_ent_t *e = s->rt[h];
    while (e && memcmp(e->key, key, 16) != 0)
        e = e->next;
    if (!e) {
        if (s->rt_count >= s->rt_sweep_at) {
            rate_sweep(s, now);
            h = rate_hash(s, key);
        }
        e = calloc(1, sizeof(*e));
        if (!e)
            return true;
        memcpy(e->key, key, 16);
        e->tokens = s->lim.per_ip_burst;
        e->last_ms = now;
        e->next = s->rt[h];
        s->rt[h] = e;
        s->rt_count++;
    }
    if (rate_refill(s, e, now) >= 1.0) {
        e->tokens -= 1.0;
        return true;
    }
    return false;
}

static void rate_free(gn_http_server_t *s)
{
    if (!s->rt)
        return;
    for (size_t i = 0; i <= s->rt_mask; i++)
        for (rate_ent_t *e = s->rt[i], *nx; e; e = nx) {
            nx = e->next;
            free(e);
        }
    free(s->rt);
    s->rt = NULL;
}

/* ---- parsing ---------------------------------------------------------- */

static int head_append(conn_t *c, const char *at, size_t len)
{
    http_req_t *r = c->cur;
    if (!r)
        return 0;
    if (r->head_len + len > c->s->lim.max_header_bytes) {
        c->pending = PEND_431;
        return HPE_USER;
    }
    char *n = gn_buf_grow(r->head, &r->head_cap, r->head_len + len, 256, 0);
    if (!n) {
        c->pending = PEND_NOMEM;
        return HPE_USER;
    }
    r->head = n;
    memcpy(r->head + r->head_len, at, len);
    r->head_len += len;
    return 0;
}

static int cb_message_begin(llhttp_t *p)
{
    conn_t *c = p->data;
    free_req(c->cur);
    http_req_t *r = calloc(1, sizeof(*r));
    if (!r) {
        c->pending = PEND_NOMEM;
        return -1;
    }
    r->c = c;
    r->first = c->nreq++ == 0;
    r->pub.arrival_ns = c->arrival_ns;
    memcpy(r->pub.peer_ip, c->peer_ip, sizeof(r->pub.peer_ip));
    r->pub.peer_port = c->peer_port;
    c->cur = r;
    c->hstate = HS_NONE;
    return 0;
}

static int cb_url(llhttp_t *p, const char *at, size_t len)
{
    return head_append(p->data, at, len);
}

static int cb_url_complete(llhttp_t *p)
{
    return head_append(p->data, "", 1);
}

/* Header names and values arrive in pieces (a read may end anywhere); the
 * *_complete callbacks close them, even when a piece was empty. */
static int header_new(conn_t *c, http_req_t *r)
{
    if (r->nh == r->hcap) {
        size_t cap = r->hcap ? r->hcap * 2 : 16;
        hidx_t *n = realloc(r->hidx, cap * sizeof(*n));
        if (!n) {
            c->pending = PEND_NOMEM;
            return HPE_USER;
        }
        r->hidx = n;
        r->hcap = cap;
    }
    r->hidx[r->nh++] = (hidx_t){(uint32_t)r->head_len, 0, 0, 0, 0};
    c->hstate = HS_FIELD;
    return 0;
}

static int cb_header_field(llhttp_t *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    http_req_t *r = c->cur;
    if (c->phase != PH_HEAD || !r)
        return 0; /* trailers are not kept */
    if (c->hstate != HS_FIELD && header_new(c, r) != 0)
        return HPE_USER;
    return head_append(c, at, len);
}

static int cb_header_field_complete(llhttp_t *p)
{
    conn_t *c = p->data;
    http_req_t *r = c->cur;
    if (c->phase != PH_HEAD || !r)
        return 0;
    if (c->hstate != HS_FIELD && header_new(c, r) != 0)
        return HPE_USER;
    hidx_t *h = &r->hidx[r->nh - 1];
    h->name_len = (uint32_t)(r->head_len - h->name_off);
    if (!h->name_len) { /* ": value" */
        c->pending = PEND_400;
        return HPE_USER;
    }
    int rc = head_append(c, "", 1);
    h->value_off = (uint32_t)r->head_len;
    c->hstate = HS_VALUE;
    return rc;
}

static int cb_header_value(llhttp_t *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    if (c->phase != PH_HEAD || !c->cur || c->hstate != HS_VALUE)
        return 0;
    return head_append(c, at, len);
}

static int cb_header_value_complete(llhttp_t *p)
{
    conn_t *c = p->data;
    http_req_t *r = c->cur;
    if (c->phase != PH_HEAD || !r || c->hstate != HS_VALUE)
        return 0;
    hidx_t *h = &r->hidx[r->nh - 1];
    h->value_len = (uint32_t)(r->head_len - h->value_off);
    c->hstate = HS_NONE;
    h->done = 1;
    return head_append(c, "", 1);
}

static int cb_headers_complete(llhttp_t *p)
{
    conn_t *c = p->data;
    c->pause = PAUSE_HEADERS;
    return HPE_PAUSED;
}

static int cb_body(llhttp_t *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    http_req_t *r = c->cur;
    if (c->discard || !r || r->done)
        return 0;
    size_t max = c->s->lim.max_body_bytes;
    if (len > max - r->body_len) {
        c->pending = PEND_413;
        return HPE_USER;
    }
    uint8_t *n = gn_buf_grow(r->body, &r->body_cap, r->body_len + len + 1, 1024, max + 1);
    if (!n) {
        c->pending = PEND_NOMEM;
        return HPE_USER;
    }
    r->body = n;
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    return 0;
}

static int cb_message_complete(llhttp_t *p)
{
    conn_t *c = p->data;
    c->pause = PAUSE_MESSAGE;
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_message_begin = cb_message_begin,
    .on_url = cb_url,
    .on_url_complete = cb_url_complete,
    .on_header_field = cb_header_field,
    .on_header_field_complete = cb_header_field_complete,
    .on_header_value = cb_header_value,
    .on_header_value_complete = cb_header_value_complete,
    .on_headers_complete = cb_headers_complete,
    .on_body = cb_body,
    .on_message_complete = cb_message_complete,
};

/* The head is whole: make the application's view of it. */
static int finalize_head(conn_t *c, http_req_t *r)
{
    if (!r->head || !r->head_len)
        return GN_EINVAL;
    if (r->nh) {
        r->hdrs = calloc(r->nh, sizeof(*r->hdrs));
        if (!r->hdrs)
            return GN_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < r->nh; i++) {
        hidx_t *h = &r->hidx[i];
        if (!h->done)
            continue;
        char *name = r->head + h->name_off;
        for (uint32_t j = 0; j < h->name_len; j++)
            name[j] = (char)lower((unsigned char)name[j]);
        const char *v = r->head + h->value_off;
        size_t vl = h->value_len;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        r->hdrs[k++] = (gn_header_t){name, h->name_len, v, vl};
    }
    r->pub.method = llhttp_method_name((llhttp_method_t)llhttp_get_method(&c->p));
    r->pub.path = r->head;
    r->pub.headers = r->hdrs;
    r->pub.n_headers = k;
    return 0;
}

static void on_head_done(conn_t *c)
{
    gn_http_server_t *s = c->s;
    http_req_t *r = c->cur;
    if (c->head_bytes > s->lim.max_header_bytes) {
        reject(c, GN_HTTP_REJECT_HEADER_TOO_LARGE, 431, "request head too large");
        return;
    }
    if (!r) {
        conn_close(c);
        return;
    }
    int rc = finalize_head(c, r);
    if (rc == 0 && llhttp_get_http_major(&c->p) != 1)
        rc = GN_EINVAL; /* HTTP/0.9, HTTP/2.0 as text */
    if (rc == GN_EINVAL) {
        reject(c, GN_HTTP_REJECT_MALFORMED, 400, "malformed request");
        return;
    }
    if (rc < 0) {
        conn_close(c);
        return;
    }
    c->phase = PH_BODY;
    c->body_start = now_ms(s);
    r->keep_alive = llhttp_should_keep_alive(&c->p) && !llhttp_get_upgrade(&c->p);
    r->close_after = !r->keep_alive;
    if (s->draining) {
        /* the connection ends with this answer; a request on a connection
         * that was served before is new work the application refuses */
        r->close_after = true;
        r->pub.draining = !r->first;
    }
    r->http10 = llhttp_get_http_major(&c->p) == 1 && llhttp_get_http_minor(&c->p) == 0;
    r->is_head = llhttp_get_method(&c->p) == HTTP_HEAD;
    queue_push(c, r);
    bool chunked = (c->p.flags & F_CHUNKED) != 0;
    uint64_t clen = (c->p.flags & F_CONTENT_LENGTH) ? c->p.content_length : 0;
    if (!chunked && clen > s->lim.max_body_bytes) {
        reject(c, GN_HTTP_REJECT_BODY_TOO_LARGE, 413, "request body too large");
        return;
    }
    if (!rate_take(s, c->rate_key)) {
        s->st.rejects[GN_HTTP_REJECT_RATE]++;
        outbuf_t *b = error_response(s, 429, "too many requests", r->close_after, r->is_head,
                                     r->http10 && r->keep_alive);
        if (!b) {
            conn_close(c);
            return;
        }
        c->discard = true; /* the body is read and dropped */
        r->done = true;
        req_push_out(r, b);
        flush(c);
        return;
    }
    if (chunked || clen > 0) {
        for (size_t i = 0; i < r->pub.n_headers; i++) {
            const gn_header_t *h = &r->hdrs[i];
            if (ieq(h->name, h->name_len, "expect") &&
                ieq(h->value, h->value_len, "100-continue") && !r->http10) {
                outbuf_t *b = ob_new(32);
                ob_str(&b, "HTTP/1.1 100 Continue\r\n\r\n");
                if (!b) {
                    conn_close(c);
                    return;
                }
                req_push_out(r, b);
                flush(c);
                break;
            }
        }
    }
}

static void on_message_done(conn_t *c)
{
    gn_http_server_t *s = c->s;
    http_req_t *r = c->cur;
    bool upgrade = llhttp_get_upgrade(&c->p) != 0;
    c->cur = NULL;
    c->phase = PH_IDLE;
    c->discard = false;
    if (!r) { /* answered 429 and written already */
        if (!llhttp_should_keep_alive(&c->p) || upgrade)
            c->no_more = true;
        return;
    }
    if (r->close_after || upgrade) {
        r->close_after = true;
        c->no_more = true;
    }
    if (r->done)
        return; /* 429 */
    r->counted = true;
    c->n_waiting++;
    r->app_owned = true;
    r->pub.body = r->body ? r->body : (const uint8_t *)"";
    if (r->body)
        r->body[r->body_len] = 0;
    r->pub.body_len = r->body_len;
    s->st.requests++;
    s->on_request(&r->pub, s->arg);
    /* r may be answered, or freed by a stop, from here on */
}

/* Parse what may be parsed of data; returns the bytes taken. Stops at a
 * full pipeline; after a closing request or a reject the rest is dropped. */
static size_t process(conn_t *c, const char *data, size_t len)
{
    gn_http_server_t *s = c->s;
    size_t off = 0;
    bool kick = false;
    while ((off < len || kick) && !c->closing) {
        if (c->no_more || c->phase == PH_LINGER)
            return len;
        if (c->n_waiting >= s->lim.max_pipelined)
            break;
        kick = false;
        if (c->phase == PH_IDLE) {
            if (off == len)
                break;
            c->phase = PH_HEAD;
            c->head_start = now_ms(s);
            c->head_bytes = 0;
            c->arrival_ns = c->data_ns;
        }
        size_t n = len - off;
        if (c->phase == PH_HEAD) {
            size_t room = s->lim.max_header_bytes - c->head_bytes;
            if (n > room + 1)
                n = room + 1;
        }
        int phase = c->phase;
        c->pause = PAUSE_NONE;
        c->pending = PEND_NONE;
        llhttp_errno_t e = llhttp_execute(&c->p, data + off, n);
        size_t used = n;
        if (e != HPE_OK) {
            const char *ep = llhttp_get_error_pos(&c->p);
            used = (ep >= data + off && ep <= data + off + n) ? (size_t)(ep - (data + off)) : n;
        }
        if (phase == PH_HEAD)
            c->head_bytes += used;
        off += used;
        if (e == HPE_PAUSED) {
            llhttp_resume(&c->p);
            kick = true;
            if (c->pause == PAUSE_HEADERS)
                on_head_done(c);
            else if (c->pause == PAUSE_MESSAGE)
                on_message_done(c);
        } else if (e == HPE_PAUSED_UPGRADE) {
            c->no_more = true;
        } else if (e != HPE_OK) {
            if (c->pending == PEND_431)
                reject(c, GN_HTTP_REJECT_HEADER_TOO_LARGE, 431, "request head too large");
            else if (c->pending == PEND_413)
                reject(c, GN_HTTP_REJECT_BODY_TOO_LARGE, 413, "request body too large");
            else if (c->pending == PEND_NOMEM)
                conn_close(c);
            else if (c->pending == PEND_400)
                reject(c, GN_HTTP_REJECT_MALFORMED, 400, "malformed request: empty header name");
            else {
                char msg[160];
                snprintf(msg, sizeof(msg), "malformed request: %s", llhttp_get_error_reason(&c->p));
                reject(c, GN_HTTP_REJECT_MALFORMED, 400, msg);
            }
            return len;
        } else if (c->phase == PH_HEAD && c->head_bytes > s->lim.max_header_bytes) {
            reject(c, GN_HTTP_REJECT_HEADER_TOO_LARGE, 431, "request head too large");
            return len;
        }
    }
    return off;
}

/* Bytes read: parse, keep what the pipeline cannot take yet. */
static void process_and_read(conn_t *c, const char *data, size_t len)
{
    if (c->closing || c->phase == PH_LINGER || c->finished)
        return;
    c->data_ns = uv_hrtime();
    size_t used = process(c, data, len);
    if (c->closing)
        return;
    if (used < len && !c->no_more) {
        size_t rest = len - used;
        char *n = realloc(c->in, c->in_off + c->in_len + rest);
        if (!n) {
            conn_close(c);
            return;
        }
        c->in = n;
        if (!c->in_len)
            c->in_ns = c->data_ns;
        memcpy(c->in + c->in_off + c->in_len, data + used, rest);
        c->in_len += rest;
    }
    set_reading(c);
    arm(c);
}

/* A partial request when the client has stopped sending: drop it. */
static void drop_partial(conn_t *c)
{
    http_req_t *r = c->cur;
    c->cur = NULL;
    if (r) {
        if (!r->queued) {
            free_req(r);
        } else if (!r->done) {
            queue_unlink(c, r);
            free_req(r);
        }
    }
    c->phase = PH_IDLE;
    c->no_more = true;
}

/* Carry on after the queue moved: parse what was kept, close a served
 * half-closed connection, read again. Called at the top of a callback. */
static void resume(conn_t *c)
{
    if (c->closing || c->phase == PH_LINGER || c->finished)
        return;
    if (c->in_len && !c->no_more && c->n_waiting < c->s->lim.max_pipelined) {
        c->data_ns = c->in_ns;
        size_t used = process(c, c->in + c->in_off, c->in_len);
        if (c->closing)
            return;
        c->in_off += used;
        c->in_len -= used;
    }
    if (c->no_more || !c->in_len) {
        free(c->in);
        c->in = NULL;
        c->in_off = c->in_len = 0;
    }
    if (c->read_eof && !c->in_len) {
        if (c->phase != PH_IDLE)
            drop_partial(c);
        if (!c->q_head) {
            conn_close(c);
            return;
        }
    }
    flush(c);
    if (c->closing)
        return;
    set_reading(c);
    arm(c);
    drain_check(c);
}

static void on_eof(conn_t *c)
{
    c->read_eof = true;
    c->reading = false;
    if (c->phase == PH_LINGER) {
        conn_close(c);
        return;
    }
    resume(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = st->data;
    if (nread > 0)
        process_and_read(c, buf->base, (size_t)nread);
    else if (nread == UV_EOF) {
        uv_read_stop(st);
        on_eof(c);
    } else if (nread < 0)
        conn_close(c);
}

/* ---- deadlines -------------------------------------------------------- */

static uint64_t deadline(const conn_t *c)
{
    const gn_http_limits_t *l = &c->s->lim;
    if (c->closing)
        return 0;
    switch (c->phase) {
    case PH_LINGER: return c->linger_until;
    case PH_HEAD: return c->head_start + l->header_timeout_ms;
    case PH_BODY: return c->body_start + l->body_timeout_ms;
    default: {
        if (c->q_head || c->in_len || c->read_eof || c->no_more)
            return 0;
        uint64_t d = c->idle_since + l->idle_timeout_ms;
        if (c->s->draining && !c->nreq) { /* a fresh connection's last chance to start */
            uint64_t w =
                l->header_timeout_ms < DRAIN_FRESH_MS ? l->header_timeout_ms : DRAIN_FRESH_MS;
            if (c->s->drain_ms + w < d)
                d = c->s->drain_ms + w;
        }
        return d;
    }
    }
}

static void on_timer_fired(conn_t *c)
{
    uint64_t d = deadline(c);
    if (!d)
        return;
    if (now_ms(c->s) < d) {
        arm(c);
        return;
    }
    switch (c->phase) {
    case PH_HEAD:
        reject(c, GN_HTTP_REJECT_TIMEOUT, 408, "request head not received in time");
        break;
    case PH_BODY:
        reject(c, GN_HTTP_REJECT_TIMEOUT, 408, "request body not received in time");
        break;
    default: conn_close(c); break; /* idle, or lingered enough */
    }
}

static void on_timer(uv_timer_t *t)
{
    conn_t *c = t->data;
    c->armed = 0;
    on_timer_fired(c);
}

static void arm(conn_t *c)
{
    if (c->closing)
        return;
    uint64_t d = deadline(c);
    if (!c->s->loop) {
        c->deadline = d;
        return;
    }
    if (d == c->armed)
        return;
    c->armed = d;
    if (!d) {
        uv_timer_stop(&c->timer);
        return;
    }
    uint64_t now = uv_now(c->s->loop);
    uv_timer_start(&c->timer, on_timer, d > now ? d - now : 0, 0);
}

/* ---- connections ------------------------------------------------------ */

static void set_peer(conn_t *c, const struct sockaddr *sa)
{
    memset(c->rate_key, 0, sizeof(c->rate_key));
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
        c->peer_port = ntohs(a6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
            struct sockaddr_in a4 = {.sin_family = AF_INET};
            memcpy(&a4.sin_addr, a6->sin6_addr.s6_addr + 12, 4);
            uv_ip4_name(&a4, c->peer_ip, sizeof(c->peer_ip));
            memcpy(c->rate_key, a6->sin6_addr.s6_addr, 16);
        } else {
            uv_ip6_name(a6, c->peer_ip, sizeof(c->peer_ip));
            memcpy(c->rate_key, a6->sin6_addr.s6_addr, 8); /* one bucket per /64 */
        }
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        c->peer_port = ntohs(a4->sin_port);
        uv_ip4_name(a4, c->peer_ip, sizeof(c->peer_ip));
        c->rate_key[10] = c->rate_key[11] = 0xff;
        memcpy(c->rate_key + 12, &a4->sin_addr, 4);
    }
}

static conn_t *conn_alloc(gn_http_server_t *s)
{
    conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->s = s;
    llhttp_init(&c->p, HTTP_REQUEST, &settings);
    c->p.data = c;
    c->idle_since = now_ms(s);
    return c;
}

static void conn_link(gn_http_server_t *s, conn_t *c)
{
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    s->st.accepted++;
}

/* A new connection: read it, or refuse it past max_connections. */
static void conn_start(conn_t *c)
{
    gn_http_server_t *s = c->s;
    if (s->n_conns > s->lim.max_connections) {
        reject(c, GN_HTTP_REJECT_CONNECTIONS, 503, "too many connections");
        return;
    }
    set_reading(c);
    arm(c);
}

static void on_raw_closed(uv_handle_t *h)
{
    free(h);
}

static void on_unaccepted_closed(uv_handle_t *h)
{
    free(h->data); /* the conn_t around it */
}

/* A connection accepted on c->tcp: read it. */
static void conn_adopt(gn_http_server_t *s, conn_t *c)
{
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->handles = 2;
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0)
        set_peer(c, (struct sockaddr *)&ss);
    uv_tcp_nodelay(&c->tcp, 1);
    conn_link(s, c);
    conn_start(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    gn_http_server_t *s = server->data;
    if (status < 0 || s->stopping || s->draining)
        return;
    /* far past the limit: no answer, no memory */
    if (s->n_conns >= 2ull * s->lim.max_connections + 16) {
        uv_tcp_t *t = malloc(sizeof(*t));
        if (!t)
            return;
        uv_tcp_init(s->loop, t);
        if (uv_accept(server, (uv_stream_t *)t) == 0)
            s->st.rejects[GN_HTTP_REJECT_CONNECTIONS]++;
        uv_close((uv_handle_t *)t, on_raw_closed);
        return;
    }
    conn_t *c = conn_alloc(s);
    if (!c)
        return;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_unaccepted_closed);
        return;
    }
    conn_adopt(s, c);
}

/* Draining: the connections the kernel completed but we have not accepted
 * yet are taken too (closing the listener would reset them, and their
 * clients connected before the drain). */
static void accept_backlog(gn_http_server_t *s)
{
    uv_os_fd_t lfd;
    if (uv_fileno((uv_handle_t *)&s->listener, &lfd) != 0)
        return;
    for (unsigned i = 0; i < BACKLOG; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            return; /* EAGAIN: none left */
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        conn_t *c = conn_alloc(s);
        if (!c) {
            close(fd);
            return;
        }
        uv_tcp_init(s->loop, &c->tcp);
        c->tcp.data = c;
        if (uv_tcp_open(&c->tcp, fd) < 0) { /* it sets O_NONBLOCK */
            close(fd);
            uv_close((uv_handle_t *)&c->tcp, on_unaccepted_closed);
            continue;
        }
        conn_adopt(s, c);
    }
}

/* ---- the server ------------------------------------------------------- */

static int server_init(gn_http_server_t *s, const gn_http_opts_t *o)
{
    s->on_request = o->on_request;
    s->on_abort = o->on_abort;
    s->arg = o->arg;
    s->lim = o->limits;
    gn_http_limits_t *l = &s->lim;
    if (!l->max_header_bytes)
        l->max_header_bytes = 16384;
    if (!l->max_body_bytes)
        l->max_body_bytes = 16u << 20;
    if (l->max_body_bytes > SIZE_MAX / 4)
        l->max_body_bytes = SIZE_MAX / 4;
    if (l->max_header_bytes > UINT32_MAX / 2)
        l->max_header_bytes = UINT32_MAX / 2;
    if (!l->header_timeout_ms)
        l->header_timeout_ms = 10000;
    if (!l->body_timeout_ms)
        l->body_timeout_ms = 30000;
    if (!l->idle_timeout_ms)
        l->idle_timeout_ms = 5000;
    if (!l->max_connections)
        l->max_connections = 10000;
    if (!(l->per_ip_rate > 0))
        l->per_ip_rate = 0;
    if (!l->per_ip_burst)
        l->per_ip_burst = l->per_ip_rate >= 1 ? (unsigned)l->per_ip_rate : 1;
    if (!l->max_pipelined)
        l->max_pipelined = 16;
    const char *name = o->server_name ? o->server_name : "ganglion";
    for (const char *p = name; *p; p++)
        if (*p == '\r' || *p == '\n')
            return GN_EINVAL;
    s->server_name = strdup(name);
    if (!s->server_name)
        return GN_ENOMEM;
    s->rt_seed = uv_hrtime() ^ (uint64_t)(uintptr_t)s;
    return 0;
}

static void server_free_mem(gn_http_server_t *s)
{
    while (s->dead) {
        conn_t *c = s->dead;
        s->dead = c->next;
        free(c);
    }
    rate_free(s);
    free(s->server_name);
    free(s);
}

static void server_maybe_done(gn_http_server_t *s)
{
    if (!s->loop || !s->stopping || s->listening || s->n_conns || s->done_called)
        return;
    s->done_called = true;
    if (s->done)
        s->done(s->done_arg);
    server_free_mem(s);
}

static void on_listener_closed(uv_handle_t *h)
{
    gn_http_server_t *s = h->data;
    s->listening = false;
    if (s->stopping)
        server_maybe_done(s);
    else if (s->draining)
        drain_maybe_done(s);
    else
        server_free_mem(s); /* a failed start */
}

/* "::" where the OS has no IPv6: fall back to IPv4. */
static bool ipv6_works(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

int gn_http_server_start(uv_loop_t *loop, const gn_http_opts_t *o, gn_http_server_t **out)
{
    if (!loop || !o || !o->on_request || !out)
        return GN_EINVAL;
    *out = NULL;
    char ip[64];
    const char *src = o->ip ? o->ip : "0.0.0.0";
    size_t n = strlen(src);
    if (n >= sizeof(ip))
        return GN_EINVAL;
    if (n >= 2 && src[0] == '[' && src[n - 1] == ']') { /* "[::]" */
        memcpy(ip, src + 1, n - 2);
        ip[n - 2] = 0;
    } else {
        memcpy(ip, src, n + 1);
    }
    if (strcmp(ip, "::") == 0 && !ipv6_works())
        snprintf(ip, sizeof(ip), "0.0.0.0");
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (uv_ip4_addr(ip, o->port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(ip, o->port, (struct sockaddr_in6 *)&ss) != 0)
        return GN_EINVAL;
    gn_http_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return GN_ENOMEM;
    int rc = server_init(s, o);
    if (rc < 0) {
        free(s->server_name);
        free(s);
        return rc;
    }
    s->loop = loop;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listening = true;
    rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, BACKLOG, on_connection);
    if (rc == 0) {
        struct sockaddr_storage bound;
        int bl = sizeof(bound);
        rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &bl);
        if (rc == 0)
            s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                        : ((struct sockaddr_in *)&bound)->sin_port);
    }
    if (rc < 0) {
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return rc == UV_EADDRINUSE ? GN_EEXIST : GN_EIO;
    }
    *out = s;
    return 0;
}

uint16_t gn_http_server_port(const gn_http_server_t *s)
{
    return s ? s->port : 0;
}

void gn_http_server_stats(const gn_http_server_t *s, gn_http_stats_t *out)
{
    if (!s || !out)
        return;
    *out = s->st;
    out->open_connections = s->n_conns;
}

void gn_http_server_stop(gn_http_server_t *s, void (*done)(void *arg), void *arg)
{
    if (!s || s->stopping || !s->loop)
        return;
    s->stopping = true;
    s->done = done;
    s->done_arg = arg;
    if (s->listening && !uv_is_closing((uv_handle_t *)&s->listener))
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    for (conn_t *c = s->conns; c; c = c->next)
        conn_close(c);
    if (!s->listening)
        server_maybe_done(s); /* drained already: nothing left to close */
}

/* Draining: a connection with nothing left to answer and nothing coming
 * closes (a fresh one may still start its first request, see deadline). */
static void drain_check(conn_t *c)
{
    gn_http_server_t *s = c->s;
    if (!s->draining || c->closing || c->finished || c->q_head || c->phase != PH_IDLE ||
        c->in_len || c->read_eof)
        return;
    if (!c->nreq && now_ms(s) < deadline(c)) {
        arm(c);
        return;
    }
    conn_finish(c);
}

static void drain_maybe_done(gn_http_server_t *s)
{
    if (!s->draining || s->stopping || s->drain_done_called || s->listening || s->n_conns)
        return;
    s->drain_done_called = true;
    if (s->drain_done)
        s->drain_done(s->drain_arg);
}

void gn_http_server_drain(gn_http_server_t *s, void (*done)(void *arg), void *arg)
{
    if (!s || s->stopping || s->draining)
        return;
    s->draining = true;
    s->drain_ms = now_ms(s);
    s->drain_done = done;
    s->drain_arg = arg;
    if (s->loop) {
        accept_backlog(s);
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    }
    for (conn_t *c = s->conns; c; c = c->next)
        drain_check(c);
    if (!s->loop) {
        gn_http__pump(s);
        drain_maybe_done(s);
    }
}

/* Draining: the last answer a connection owes says Connection: close and
 * ends it, unless another request is on its way in behind it. */
static void drain_mark(http_req_t *r)
{
    conn_t *c = r->c;
    if (!c->s->draining || r->close_after || r != c->q_tail || c->phase != PH_IDLE || c->in_len)
        return;
    r->close_after = true;
    c->no_more = true;
}

/* ---- answers ---------------------------------------------------------- */

static http_req_t *as_req(gn_http_req_t *req)
{
    return (http_req_t *)req;
}

/* An answer to a request whose connection is gone. */
static int answer_aborted(http_req_t *r, bool last)
{
    if (last) {
        r->app_owned = false;
        if (r->detached)
            free_req(r);
    }
    return GN_ECLOSED;
}

static void after_answer(conn_t *c)
{
    flush(c);
    if (!c->closing) {
        set_reading(c);
        arm(c);
    }
}

int gn_http_respond(gn_http_req_t *req, int status, const gn_header_t *headers, size_t n,
                    const void *body, size_t len)
{
    http_req_t *r = as_req(req);
    if (!r)
        return GN_EINVAL;
    if (r->aborted)
        return answer_aborted(r, true);
    if (!r->app_owned || r->streaming || status < 200 || status > 999 || (len && !body))
        return GN_EINVAL;
    int rc = check_headers(headers, n);
    if (rc < 0)
        return rc;
    conn_t *c = r->c;
    drain_mark(r);
    bool bodiless = status == 204 || status == 304;
    bool no_body = r->is_head || bodiless;
    outbuf_t *b = ob_new(512 + (no_body ? 0 : len));
    put_head(c->s, &b, status, headers, n, bodiless ? FRAME_NONE : FRAME_LENGTH, bodiless ? 0 : len,
             r->close_after, r->http10 && r->keep_alive);
    if (!no_body)
        ob_put(&b, body, len);
    if (!b)
        return GN_ENOMEM;
    r->app_owned = false;
    r->done = true;
    req_push_out(r, b);
    after_answer(c);
    return 0;
}

int gn_http_stream_start(gn_http_req_t *req, int status, const gn_header_t *headers, size_t n)
{
    http_req_t *r = as_req(req);
    if (!r)
        return GN_EINVAL;
    if (r->aborted)
        return answer_aborted(r, false);
    if (!r->app_owned || r->streaming || status < 200 || status > 999)
        return GN_EINVAL;
    int rc = check_headers(headers, n);
    if (rc < 0)
        return rc;
    conn_t *c = r->c;
    drain_mark(r);
    bool bodiless = status == 204 || status == 304;
    r->no_body = r->is_head || bodiless;
    /* HTTP/1.0 has no chunks: its body ends with the connection when that
     * closes anyway, else it is gathered and sent with a length */
    r->chunked = !r->http10;
    r->gather = r->no_body || (r->http10 && !r->close_after);
    if (r->gather) {
        outbuf_t *h = ob_new(256);
        r->held_own = put_app_headers(&h, headers, n);
        if (!h)
            return GN_ENOMEM;
        r->held_head = h;
        r->held_status = status;
        r->streaming = true;
        return 0;
    }
    int framing = r->chunked ? FRAME_CHUNKED : FRAME_EOF;
    outbuf_t *b = ob_new(512);
    put_head(c->s, &b, status, headers, n, framing, 0, r->close_after, false);
    if (!b)
        return GN_ENOMEM;
    r->streaming = true;
    req_push_out(r, b);
    after_answer(c);
    return 0;
}

int gn_http_stream_write(gn_http_req_t *req, const void *data, size_t len)
{
    http_req_t *r = as_req(req);
    if (!r)
        return GN_EINVAL;
    if (r->aborted)
        return answer_aborted(r, false);
    if (!r->app_owned || !r->streaming || (len && !data))
        return GN_EINVAL;
    if (!len)
        return 0;
    if (r->gather) {
        if (!r->no_body) {
            if (!r->held_body)
                r->held_body = ob_new(len);
            ob_put(&r->held_body, data, len);
            if (!r->held_body) {
                r->gather_failed = true; /* what was gathered is lost: it ends as a 500 */
                return GN_ENOMEM;
            }
        }
        r->held_len += len;
        return 0;
    }
    outbuf_t *b = ob_new(len + 32);
    if (r->chunked)
        ob_fmt(&b, "%zx\r\n", len);
    ob_put(&b, data, len);
    if (r->chunked)
        ob_put(&b, "\r\n", 2);
    if (!b)
        return GN_ENOMEM;
    req_push_out(r, b);
    after_answer(r->c);
    return 0;
}

int gn_http_stream_end(gn_http_req_t *req)
{
    http_req_t *r = as_req(req);
    if (!r)
        return GN_EINVAL;
    if (r->aborted)
        return answer_aborted(r, true);
    if (!r->app_owned || !r->streaming)
        return GN_EINVAL;
    outbuf_t *b;
    if (r->gather) {
        int status = r->held_status;
        bool bodiless = status == 204 || status == 304;
        size_t blen = r->held_body ? r->held_body->len : 0;
        if (r->gather_failed)
            status = 500;
        b = ob_new(512 + r->held_head->len + blen);
        ob_fmt(&b, "HTTP/1.1 %d %s\r\n", status, gn_http_reason(status));
        ob_put(&b, r->held_head->data, r->held_head->len);
        put_head_tail(r->c->s, &b, r->held_own, bodiless ? FRAME_NONE : FRAME_LENGTH,
                      status == 500 ? 0 : r->held_len, r->close_after, r->http10 && r->keep_alive);
        if (!r->no_body && status != 500 && blen)
            ob_put(&b, r->held_body->data, blen);
    } else {
        b = ob_new(16);
        if (r->chunked)
            ob_str(&b, "0\r\n\r\n");
    }
    if (!b)
        return GN_ENOMEM;
    r->app_owned = false;
    r->done = true;
    req_push_out(r, b);
    after_answer(r->c);
    return 0;
}

/* ---- socketless (actors/http_internal.h) ------------------------------ */

int gn_http__server_new(const gn_http_opts_t *o, gn_http_server_t **out)
{
    if (!o || !o->on_request || !out)
        return GN_EINVAL;
    gn_http_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return GN_ENOMEM;
    int rc = server_init(s, o);
    if (rc < 0) {
        free(s->server_name);
        free(s);
        return rc;
    }
    s->now_ms = 1000000;
    *out = s;
    return 0;
}

void gn_http__pump(gn_http_server_t *s)
{
    bool progress = true;
    while (progress) {
        progress = false;
        for (conn_t *c = s->conns, *next; c; c = next) {
            next = c->next;
            while (c->wdone_head) {
                outbuf_t *b = c->wdone_head;
                c->wdone_head = b->next;
                if (!c->wdone_head)
                    c->wdone_tail = NULL;
                write_done(c, b, 0);
                progress = true;
            }
            if (c->closing) {
                conn_finalize(c);
                progress = true;
            }
            if (progress)
                break; /* the list may have changed */
        }
    }
}

void gn_http__server_free(gn_http_server_t *s)
{
    if (!s)
        return;
    s->stopping = true;
    for (conn_t *c = s->conns; c; c = c->next)
        conn_close(c);
    gn_http__pump(s);
    server_free_mem(s);
}

gn_http_conn_t *gn_http__conn_new(gn_http_server_t *s, const char *peer_ip, uint16_t peer_port,
                                  gn_http_sink_fn sink, void *arg)
{
    if (!s || !peer_ip || !sink || s->loop)
        return NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (uv_ip4_addr(peer_ip, peer_port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(peer_ip, peer_port, (struct sockaddr_in6 *)&ss) != 0)
        return NULL;
    conn_t *c = conn_alloc(s);
    if (!c)
        return NULL;
    c->sink = sink;
    c->sink_arg = arg;
    set_peer(c, (struct sockaddr *)&ss);
    conn_link(s, c);
    conn_start(c);
    gn_http__pump(s);
    return (gn_http_conn_t *)c;
}

bool gn_http__conn_feed(gn_http_conn_t *hc, const void *data, size_t len)
{
    conn_t *c = (conn_t *)hc;
    if (!c || c->dead || !c->reading)
        return false;
    if (len)
        process_and_read(c, data, len);
    gn_http__pump(c->s);
    return true;
}

bool gn_http__conn_reading(const gn_http_conn_t *hc)
{
    const conn_t *c = (const conn_t *)hc;
    return c && !c->dead && c->reading;
}

void gn_http__conn_eof(gn_http_conn_t *hc)
{
    conn_t *c = (conn_t *)hc;
    if (!c || c->dead || c->closing || c->read_eof)
        return;
    on_eof(c);
    gn_http__pump(c->s);
}

void gn_http__conn_reset(gn_http_conn_t *hc)
{
    conn_t *c = (conn_t *)hc;
    if (!c || c->dead)
        return;
    conn_close(c);
    gn_http__pump(c->s);
}

bool gn_http__conn_closed(const gn_http_conn_t *hc)
{
    const conn_t *c = (const conn_t *)hc;
    return !c || c->dead || c->closing;
}

void gn_http__advance(gn_http_server_t *s, uint64_t ms)
{
    if (!s || s->loop)
        return;
    s->now_ms += ms;
    bool again = true;
    while (again) {
        again = false;
        for (conn_t *c = s->conns; c; c = c->next) {
            if (!c->closing && c->deadline && c->deadline <= s->now_ms) {
                c->deadline = 0;
                on_timer_fired(c);
                gn_http__pump(s);
                again = true;
                break;
            }
        }
    }
}
