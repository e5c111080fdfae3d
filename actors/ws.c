/* WebSocket client on libuv via libwebsockets (include/ganglion/ws.h). */
#include "ganglion/ws.h"
#include "ganglion/error.h"
#include "ganglion/log.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libwebsockets (4.1) opens this at context creation (lws_plat_init). */
#define RANDOM_DEVICE "/dev/urandom"

typedef struct out_msg {
    struct out_msg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of headroom, then the text */
} out_msg_t;

struct gn_ws {
    struct lws_context *ctx;
    struct lws_context *alive; /* lws writes NULL here when fully destroyed */
    struct lws *wsi;
    gn_ws_callbacks_t cb;
    out_msg_t *head, *tail;
    char *rx;
    size_t rx_len, rx_cap;
    bool open, closing, closed_reported, freed, tls;
    char url[512];
    char parse[512]; /* lws_parse_uri's pieces point in here */
    const char *address, *path;
    int port;
};

static void report_close(gn_ws_t *ws, int err)
{
    if (ws->closed_reported)
        return;
    ws->closed_reported = true;
    ws->open = false;
    ws->wsi = NULL;
    if (ws->cb.on_close)
        ws->cb.on_close(ws, err, ws->cb.arg);
}

static int rx_append(gn_ws_t *ws, const void *in, size_t len)
{
    if (ws->rx_len + len > GN_WS_MAX_MESSAGE)
        return GN_ERANGE;
    if (ws->rx_len + len + 1 > ws->rx_cap) {
        size_t cap = ws->rx_cap ? ws->rx_cap : 4096;
        while (cap < ws->rx_len + len + 1)
            cap *= 2;
        char *n = realloc(ws->rx, cap);
        if (!n)
            return GN_ENOMEM;
        ws->rx = n;
        ws->rx_cap = cap;
    }
    memcpy(ws->rx + ws->rx_len, in, len);
    ws->rx_len += len;
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    gn_ws_t *ws = lws_get_opaque_user_data(wsi);
    if (!ws)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        ws->open = true;
        if (ws->cb.on_open)
            ws->cb.on_open(ws, ws->cb.arg);
        if (ws->head)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (rx_append(ws, in, len) < 0)
            return -1; /* too large: close */
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            ws->rx[ws->rx_len] = '\0';
            size_t n = ws->rx_len;
            ws->rx_len = 0;
            if (ws->cb.on_message)
                ws->cb.on_message(ws, ws->rx, n, ws->cb.arg);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (ws->closing)
            return -1;
        out_msg_t *m = ws->head;
        if (!m)
            break;
        ws->head = m->next;
        if (!ws->head)
            ws->tail = NULL;
        int w = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        free(m);
        if (w < 0)
            return -1;
        if (ws->head)
            lws_callback_on_writable(wsi);
        break;
    }
    /* a closed wsi forgets its ws: a later event of it (WSI_DESTROY after
     * CLOSED) must not touch a connection dialled since */
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        lws_set_opaque_user_data(wsi, NULL);
        report_close(ws, GN_EIO);
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        lws_set_opaque_user_data(wsi, NULL);
        report_close(ws, ws->closing ? 0 : GN_ECLOSED);
        break;
    default: break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"ganglion", callback, 0, 64 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* A client connection on the context (the first, or after a close). */
static int dial(gn_ws_t *ws)
{
    char path_buf[300];
    snprintf(path_buf, sizeof(path_buf), "/%s", ws->path);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = ws->ctx;
    ci.address = ws->address;
    ci.port = ws->port;
    ci.path = path_buf;
    ci.host = ws->address;
    ci.origin = ws->address;
    ci.ssl_connection = ws->tls ? LCCSCF_USE_SSL : 0;
    ci.protocol = NULL;
    ci.opaque_user_data = ws;
    ci.pwsi = &ws->wsi;
    if (!lws_client_connect_via_info(&ci))
        report_close(ws, GN_EIO); /* the error callback may already have reported it */
    return 0;
}

int gn_ws_connect(uv_loop_t *loop, const char *url, const gn_ws_callbacks_t *cb, gn_ws_t **out)
{
    gn_ws_t *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return GN_ENOMEM;
    ws->cb = *cb;
    snprintf(ws->url, sizeof(ws->url), "%s", url);
    const char *proto;
    snprintf(ws->parse, sizeof(ws->parse), "%s", url);
    if (lws_parse_uri(ws->parse, &proto, &ws->address, &ws->port, &ws->path) != 0 ||
        (strcmp(proto, "ws") != 0 && strcmp(proto, "wss") != 0)) {
        free(ws);
        return GN_EINVAL;
    }
    ws->tls = strcmp(proto, "wss") == 0;
    /* When lws_plat_init fails (it cannot open the random device: a bare
     * chroot without /dev), lws 4.1 tears the half-made context down
     * inside lws_create_context. On a foreign loop that teardown runs
     * before the loop was attached, so the libuv event lib takes the pt
     * for an internal loop and calls uv_run(NULL): a segfault we cannot
     * catch afterwards. So what makes it fail in practice is checked
     * first, and refused cleanly (an out-of-memory there would still
     * crash inside lws). */
    int fd = open(RANDOM_DEVICE, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        GN_ERROR("ws",
                 "cannot open %s (%s): libwebsockets needs it (in a chroot or container, "
                 "provide /dev/urandom)",
                 RANDOM_DEVICE, strerror(errno));
        free(ws);
        return GN_EIO;
    }
    close(fd);
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[1] = {loop};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | (ws->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
    info.foreign_loops = loops;
    info.pcontext = &ws->alive;
    ws->ctx = ws->alive = lws_create_context(&info);
    if (!ws->ctx) { /* failed before touching the loop (e.g. no libuv event lib plug-in) */
        GN_ERROR("ws", "libwebsockets could not make a context for %s (its log says why)",
                 ws->address);
        free(ws);
        return GN_EIO;
    }
    dial(ws);
    *out = ws;
    return 0;
}

int gn_ws_redial(gn_ws_t *ws)
{
    if (ws->freed || !ws->closed_reported)
        return GN_EINVAL;
    while (ws->head) { /* what was queued for the lost connection */
        out_msg_t *n = ws->head->next;
        free(ws->head);
        ws->head = n;
    }
    ws->tail = NULL;
    ws->rx_len = 0;
    ws->open = ws->closing = ws->closed_reported = false;
    ws->wsi = NULL;
    return dial(ws);
}

int gn_ws_send(gn_ws_t *ws, const char *text, size_t len)
{
    if (ws->closing || ws->closed_reported)
        return GN_ECLOSED;
    out_msg_t *m = malloc(sizeof(*m) + LWS_PRE + len);
    if (!m)
        return GN_ENOMEM;
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (ws->tail)
        ws->tail->next = m;
    else
        ws->head = m;
    ws->tail = m;
    if (ws->open && ws->wsi)
        lws_callback_on_writable(ws->wsi);
    return 0;
}

bool gn_ws_done(const gn_ws_t *ws)
{
    return ws->closed_reported;
}

void gn_ws_close(gn_ws_t *ws)
{
    ws->closing = true;
    if (ws->wsi)
        lws_callback_on_writable(ws->wsi); /* returning -1 there closes */
    else
        report_close(ws, 0);
}

void gn_ws_free(gn_ws_t *ws)
{
    if (!ws || ws->freed)
        return;
    ws->freed = true;
    /* on a foreign loop this only starts the teardown: lws closes its
     * handles as the loop runs, and gn_ws_release completes it */
    if (ws->ctx)
        lws_context_destroy(ws->ctx);
}

void gn_ws_release(gn_ws_t *ws)
{
    if (!ws)
        return;
    gn_ws_free(ws);
    if (ws->alive)
        lws_context_destroy(ws->ctx);
    while (ws->head) {
        out_msg_t *n = ws->head->next;
        free(ws->head);
        ws->head = n;
    }
    free(ws->rx);
    free(ws);
}
