/* JSON-RPC 2.0 framing for the Substrate client (pure: text in, values out).
 *
 * Requests carry numeric ids chosen by the caller. Incoming text is one of:
 * a response {id, result}, an error response {id, error: {code, message,
 * data?}}, or a subscription notification {method, params: {subscription,
 * result}}; a batch is an array of those. Subscription ids are kept as
 * text (nodes send strings, some send numbers). */
#ifndef GANGLION_JSONRPC_H
#define GANGLION_JSONRPC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* {"jsonrpc":"2.0","id":id,"method":method,"params":params or []} as
 * compact text (malloc'd). params is borrowed. */
int gn_jsonrpc_request(uint64_t id, const char *method, const json_t *params, char **out,
                       size_t *len);

typedef enum {
    GN_RPC_RESULT = 0,   /* a response with a result */
    GN_RPC_ERROR,        /* a response with an error */
    GN_RPC_NOTIFICATION, /* a subscription notification */
} gn_rpc_kind_t;

typedef struct gn_rpc_msg {
    gn_rpc_kind_t kind;
    uint64_t id;        /* responses */
    json_t *result;     /* borrowed from root: result, or a notification's result */
    int64_t error_code; /* errors */
    const char *error_message;
    json_t *error_data;     /* may be NULL */
    const char *method;     /* notifications ("chain_newHead", ...) */
    char subscription[128]; /* notifications, as text */
} gn_rpc_msg_t;

/* Parse one message object (not a batch). GN_EINVAL for anything that is
 * not a JSON-RPC response or notification. Fields borrow from `root`, which
 * the caller releases with json_decref when done. */
int gn_jsonrpc_parse_value(json_t *v, gn_rpc_msg_t *out);

/* Parse text: calls `on_msg` once per message (once, or once per element
 * of a batch). The json_t behind each message lives until the callback
 * returns. Returns the number of messages, or GN_EINVAL for text that is
 * not JSON or holds a malformed message (messages before it were delivered). */
int gn_jsonrpc_parse(const char *text, size_t len, void (*on_msg)(const gn_rpc_msg_t *m, void *arg),
                     void *arg);

#endif
