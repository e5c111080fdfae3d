/* The HTTP server's connection state machine without sockets, for the fuzz
 * target and tests (actors/http.c, include/ganglion/http.h).
 *
 * A server made with gn_http__server_new has no loop and no listener: each
 * connection is opened by hand, bytes go in through gn_http__conn_feed
 * (as if read from the socket) and whatever the server writes comes out
 * through the connection's sink, at once. Time stands still until
 * gn_http__advance moves it. Writes complete, and closed connections are
 * finished (on_abort), when the server is pumped: every gn_http__ call
 * below pumps before it returns; after answering requests from outside a
 * callback, call gn_http__pump. Everything else (limits, pipelining,
 * rejects, streaming, aborts) is the code the socket server runs. */
#ifndef GANGLION_HTTP_INTERNAL_H
#define GANGLION_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/http.h"

typedef struct gn_http_conn gn_http_conn_t;

/* Bytes the server wrote; data NULL and len 0 once: the connection closed. */
typedef void (*gn_http_sink_fn)(void *arg, const char *data, size_t len);

/* A socketless server (o->ip and o->port are ignored). 0 or GN_EINVAL/GN_ENOMEM. */
int gn_http__server_new(const gn_http_opts_t *o, gn_http_server_t **out);
/* Close every connection (requests still with the application get
 * on_abort) and free everything. */
void gn_http__server_free(gn_http_server_t *s);
/* A connection from peer_ip:peer_port (past max_connections it is answered
 * 503 and closed at once). NULL when out of memory or peer_ip is not an
 * address. Freed with its server. */
gn_http_conn_t *gn_http__conn_new(gn_http_server_t *s, const char *peer_ip, uint16_t peer_port,
                                  gn_http_sink_fn sink, void *arg);
/* The client sent these bytes. Like a read, it takes all of them, or none
 * (false) when the server is not reading from this connection now (its
 * pipeline is full, or it is closed): send them again later. */
bool gn_http__conn_feed(gn_http_conn_t *c, const void *data, size_t len);
/* Whether the server reads from this connection now. */
bool gn_http__conn_reading(const gn_http_conn_t *c);
/* The client shut down its writing side (EOF). */
void gn_http__conn_eof(gn_http_conn_t *c);
/* The connection broke (reset). */
void gn_http__conn_reset(gn_http_conn_t *c);
/* Closed, by either side. */
bool gn_http__conn_closed(const gn_http_conn_t *c);
/* Move the clock on and fire the deadlines that passed. */
void gn_http__advance(gn_http_server_t *s, uint64_t ms);
/* Complete writes and finish closed connections until nothing is left. */
void gn_http__pump(gn_http_server_t *s);

#endif
