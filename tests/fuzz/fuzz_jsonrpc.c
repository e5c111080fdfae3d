/* libFuzzer target: JSON-RPC responses and notifications as a node sends
 * them. Besides "no crash": every delivered message is well formed. */
#include <string.h>

#include "fuzz.h"
#include "ganglion/jsonrpc.h"

static void check(const gn_rpc_msg_t *m, void *arg)
{
    (void)arg;
    switch (m->kind) {
    case GN_RPC_RESULT: CHECK(m->result != NULL); break;
    case GN_RPC_ERROR: CHECK(m->error_message != NULL); break;
    case GN_RPC_NOTIFICATION:
        CHECK(m->method && m->result && memchr(m->subscription, 0, sizeof(m->subscription)));
        break;
    default: CHECK(0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int n = gn_jsonrpc_parse((const char *)data, size, check, NULL);
    CHECK(n >= -32); /* a count or a GN_E* code */
    return 0;
}
