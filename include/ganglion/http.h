/* A small HTTP/1.1 server on a libuv loop, parsing with llhttp: keep-alive,
 * pipelined requests (answered in order), IPv4 and IPv6, and limits that
 * each answer with a clear status, count in the stats and never stall the
 * loop: head bytes (431), body bytes (413), head and body read deadlines
 * (408, the connection is closed), open connections (503 past the limit,
 * then close), requests per second per client IP (429, off by default).
 *
 * The application gets each complete request once and answers it once,
 * at once or later (from the loop thread), whole or streamed (chunked).
 * Everything here runs on the loop thread. */
#ifndef GANGLION_HTTP_H
#define GANGLION_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* One header: not NUL-terminated views (request headers: names
 * lower-cased, values with surrounding blanks trimmed). */
typedef struct gn_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} gn_header_t;

typedef struct gn_http_server gn_http_server_t;

/* One request, read only for the application except `user`. Valid from
 * on_request until it is answered (gn_http_respond, or gn_http_stream_end)
 * or, when its connection goes away first, until on_abort returns; after
 * on_abort the application must not answer it. */
typedef struct gn_http_req {
    const char *method; /* "GET", "POST", ... (NUL-terminated) */
    const char *path;   /* the request target as sent (NUL-terminated) */
    const gn_header_t *headers;
    size_t n_headers;
    const uint8_t *body; /* Content-Length or chunked bodies, whole (NUL after, not counted) */
    size_t body_len;
    char peer_ip[46]; /* text, IPv4 or IPv6 (no brackets) */
    uint16_t peer_port;
    uint64_t arrival_ns; /* uv_hrtime() when the request's first byte arrived */
    void *user;          /* the application's */
    bool draining; /* its head came after gn_http_server_drain, on a connection that had served a
                      request before: new work, to refuse (503); it is answered with
                      Connection: close either way */
} gn_http_req_t;

typedef struct gn_http_limits {
    size_t max_header_bytes;    /* request line + headers; 0: 16384 -> 431 */
    size_t max_body_bytes;      /* 0: 16 MiB -> 413 */
    uint64_t header_timeout_ms; /* from the first byte to the end of the head; 0: 10000 -> 408 */
    uint64_t body_timeout_ms; /* from the end of the head to the end of the body; 0: 30000 -> 408 */
    uint64_t idle_timeout_ms; /* keep-alive idle before close; 0: 5000 */
    unsigned max_connections; /* 0: 10000; past it: 503 and close */
    double per_ip_rate;       /* requests per second per client IP (IPv6: per /64); 0: off; past it:
                                 429, the connection stays */
    unsigned per_ip_burst;    /* token bucket size; 0: max(1, per_ip_rate) */
    unsigned max_pipelined;   /* requests read ahead of the one being answered; 0: 16. A request
                                 counts until its answer is written: reading stops meanwhile */
} gn_http_limits_t;

typedef void (*gn_http_request_cb)(gn_http_req_t *req, void *arg);
typedef void (*gn_http_abort_cb)(gn_http_req_t *req, void *arg);

typedef struct gn_http_opts {
    const char
        *ip; /* "0.0.0.0", "::" (both families where the OS allows), a literal; NULL: "0.0.0.0" */
    uint16_t port; /* 0: any free port (see gn_http_server_port) */
    gn_http_limits_t limits;
    gn_http_request_cb on_request;
    gn_http_abort_cb on_abort; /* may be NULL: an aborted request then stays valid until the
                                  application answers it (refused with GN_ECLOSED, and freed) */
    void *arg;
    const char *server_name; /* the Server header; NULL: "ganglion" */
} gn_http_opts_t;

/* Why a request or connection was refused by the server itself. */
typedef enum {
    GN_HTTP_REJECT_HEADER_TOO_LARGE, /* 431 */
    GN_HTTP_REJECT_BODY_TOO_LARGE,   /* 413 */
    GN_HTTP_REJECT_TIMEOUT,          /* 408 */
    GN_HTTP_REJECT_CONNECTIONS,      /* 503 */
    GN_HTTP_REJECT_RATE,             /* 429 */
    GN_HTTP_REJECT_MALFORMED,        /* 400: llhttp refused the bytes */
    GN_HTTP_REJECT_N
} gn_http_reject_t;

/* requests: given to the application; responses: written whole, the
 * server's own refusals included; rejects: refusals by kind (a connection
 * far past max_connections, 2x + 16, is closed unanswered but counted). */
typedef struct gn_http_stats {
    uint64_t open_connections, accepted, requests, responses;
    uint64_t rejects[GN_HTTP_REJECT_N];
} gn_http_stats_t;

/* 0, GN_EINVAL (no on_request, not an address; "[::]" is taken too),
 * GN_EEXIST (the port is taken), GN_EIO. "::" binds IPv4 where there is no
 * IPv6; IPv4 clients of "::" have peer_ip "1.2.3.4", not "::ffff:1.2.3.4". */
int gn_http_server_start(uv_loop_t *loop, const gn_http_opts_t *o, gn_http_server_t **out);
/* The bound port. */
uint16_t gn_http_server_port(const gn_http_server_t *s);
void gn_http_server_stats(const gn_http_server_t *s, gn_http_stats_t *out);
/* Stop listening and close every connection (requests not answered get
 * on_abort); `done` runs once every handle is closed, then s is freed. */
void gn_http_server_stop(gn_http_server_t *s, void (*done)(void *arg), void *arg);
/* Graceful stop, first step: stop accepting (connections the kernel has
 * completed are taken first, then the listener closes: new connections are
 * refused), let every request received be answered and written, and close
 * each connection once it owes no answer: idle keep-alive ones at once, one
 * with no request yet when it has not started one within min(2 s, the head
 * timeout). Requests whose head completes from now on get Connection:
 * close, and `draining` set unless they are their connection's first; the
 * last answer a connection owes gets Connection: close. `done` runs once no
 * connection is left (on a socketless server, maybe before this returns);
 * the server is then still there for gn_http_server_stop, which also ends
 * a drain early the hard way (done is then not called). Limits and
 * deadlines still apply meanwhile. */
void gn_http_server_drain(gn_http_server_t *s, void (*done)(void *arg), void *arg);
/* "431 Request Header Fields Too Large"'s reason phrase for a status. */
const char *gn_http_reason(int status);

/* Answer a request whole: status, headers (names as given; Content-Length,
 * Date, Server and, when closing, Connection: close are added), body. The
 * bytes are copied. The application's Content-Length, Transfer-Encoding and
 * Connection headers are dropped (framing is the server's); its own Date or
 * Server replaces the server's. HEAD, 204 and 304 answers carry no body.
 * All four return 0; GN_ECLOSED when the connection went away (see
 * on_abort); GN_EINVAL for a request that is not the application's to
 * answer (already answered, or not streaming), a status outside 200..999,
 * or a header with CR/LF/NUL or a name that is not a token; GN_ENOMEM (the
 * request is still the application's). */
int gn_http_respond(gn_http_req_t *req, int status, const gn_header_t *headers, size_t n,
                    const void *body, size_t len);
/* Or streamed: Transfer-Encoding: chunked; each write is sent as a chunk
 * at once (in order behind earlier responses on the connection). HTTP/1.0
 * has no chunks: a closing HTTP/1.0 request gets the body up to the close;
 * a keep-alive one, and a HEAD request, get it gathered and sent whole at
 * the end, with its length. */
int gn_http_stream_start(gn_http_req_t *req, int status, const gn_header_t *headers, size_t n);
int gn_http_stream_write(gn_http_req_t *req, const void *data, size_t len);
int gn_http_stream_end(gn_http_req_t *req);

#endif
