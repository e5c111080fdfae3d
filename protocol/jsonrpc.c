#include "ganglion/jsonrpc.h"
#include "ganglion/error.h"

#include <stdio.h>
#include <string.h>

int gn_jsonrpc_request(uint64_t id, const char *method, const json_t *params, char **out,
                       size_t *len)
{
    if (!method || (params && !json_is_array(params) && !json_is_object(params)))
        return GN_EINVAL;
    /* "o" takes the reference (released by json_pack on failure too) */
    json_t *p = params ? json_incref((json_t *)params) : json_array();
    json_t *req = json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "2.0", "id", (json_int_t)id, "method",
                            method, "params", p);
    if (!req)
        return GN_ENOMEM;
    char *s = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(req);
    if (!s)
        return GN_ENOMEM;
    *out = s;
    *len = strlen(s);
    return 0;
}

int gn_jsonrpc_parse_value(json_t *v, gn_rpc_msg_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(v))
        return GN_EINVAL;
    json_t *id = json_object_get(v, "id"), *err = json_object_get(v, "error");
    json_t *method = json_object_get(v, "method");
    if (json_is_string(method) && !id) {
        json_t *params = json_object_get(v, "params");
        json_t *sub = json_object_get(params, "subscription");
        if (!json_is_object(params) || !sub || !json_object_get(params, "result"))
            return GN_EINVAL;
        if (json_is_string(sub))
            snprintf(out->subscription, sizeof(out->subscription), "%s", json_string_value(sub));
        else if (json_is_integer(sub))
            snprintf(out->subscription, sizeof(out->subscription), "%lld",
                     (long long)json_integer_value(sub));
        else
            return GN_EINVAL;
        out->kind = GN_RPC_NOTIFICATION;
        out->method = json_string_value(method);
        out->result = json_object_get(params, "result");
        return 0;
    }
    /* we only ever send non-negative integer ids */
    if (!json_is_integer(id) || json_integer_value(id) < 0)
        return GN_EINVAL;
    out->id = (uint64_t)json_integer_value(id);
    if (err) {
        json_t *code = json_object_get(err, "code"), *msg = json_object_get(err, "message");
        if (!json_is_object(err) || !json_is_integer(code))
            return GN_EINVAL;
        out->kind = GN_RPC_ERROR;
        out->error_code = json_integer_value(code);
        out->error_message = json_is_string(msg) ? json_string_value(msg) : "";
        out->error_data = json_object_get(err, "data");
        return 0;
    }
    json_t *result = json_object_get(v, "result");
    if (!result) /* "result": null is a valid answer (absent storage) */
        return GN_EINVAL;
    out->kind = GN_RPC_RESULT;
    out->result = result;
    return 0;
}

int gn_jsonrpc_parse(const char *text, size_t len, void (*on_msg)(const gn_rpc_msg_t *m, void *arg),
                     void *arg)
{
    json_error_t e;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (!root)
        return GN_EINVAL;
    gn_rpc_msg_t m;
    int n = 0, rc = 0;
    if (json_is_array(root)) {
        size_t i;
        json_t *v;
        json_array_foreach (root, i, v) {
            if ((rc = gn_jsonrpc_parse_value(v, &m)) < 0)
                break;
            on_msg(&m, arg);
            n++;
        }
    } else if ((rc = gn_jsonrpc_parse_value(root, &m)) == 0) {
        on_msg(&m, arg);
        n = 1;
    }
    json_decref(root);
    return rc < 0 ? rc : n;
}
