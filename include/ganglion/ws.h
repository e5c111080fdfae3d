/* A WebSocket client on a libuv loop (libwebsockets with its libuv event
 * library, on the caller's loop): text messages in and out, whole
 * messages delivered (fragments joined). ws:// and wss://. One connection
 * per gn_ws_t; everything runs on the loop's thread. */
#ifndef GANGLION_WS_H
#define GANGLION_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct gn_ws gn_ws_t;

typedef struct gn_ws_callbacks {
    void (*on_open)(gn_ws_t *ws, void *arg);
    void (*on_message)(gn_ws_t *ws, const char *text, size_t len, void *arg);
    /* err 0 for a close we asked for, else a GN_E* code; once per connection */
    void (*on_close)(gn_ws_t *ws, int err, void *arg);
    void *arg;
} gn_ws_callbacks_t;

/* Messages larger than this are refused and the connection closed. */
#define GN_WS_MAX_MESSAGE (64u << 20)

int gn_ws_connect(uv_loop_t *loop, const char *url, const gn_ws_callbacks_t *cb, gn_ws_t **out);
/* Queue a text message (copied). */
int gn_ws_send(gn_ws_t *ws, const char *text, size_t len);
/* Connect again after on_close, on the same libwebsockets context (a new
 * context per reconnect would need the old one's two-step teardown to
 * finish first: lws closes its fds late, after they may have been reused).
 * Messages queued for the lost connection are dropped. */
int gn_ws_redial(gn_ws_t *ws);
/* Whether on_close has been reported (the connection is gone). */
bool gn_ws_done(const gn_ws_t *ws);
/* Close; on_close follows. */
void gn_ws_close(gn_ws_t *ws);
/* Teardown in two steps, as libwebsockets needs on a loop it does not own:
 * gn_ws_free starts it (lws closes its handles as the loop runs); once the
 * loop has run those closes (uv_run returned, or the loop is shutting
 * down), gn_ws_release frees everything. */
void gn_ws_free(gn_ws_t *ws);
void gn_ws_release(gn_ws_t *ws);

#endif
