/* Bittensor reads (include/ganglion/subtensor.h): chain operations with
 * their answers reshaped. */
#include "ganglion/subtensor.h"
#include "ganglion/axon_info.h"
#include "ganglion/decimal.h"
#include "ganglion/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct shape {
    gn_chain_cb cb;
    void *arg;
    json_t *(*fn)(json_t *result, const struct shape *s);
    json_t *addresses;
} shape_t;

static void shaped(int status, json_t *result, const char *error, void *arg)
{
    shape_t *s = arg;
    if (status == 0) {
        json_t *out = s->fn(result, s);
        json_decref(result);
        if (!out)
            s->cb(GN_EINVAL, NULL, "the answer has an unexpected shape", s->arg);
        else
            s->cb(0, out, NULL, s->arg);
    } else {
        s->cb(status, NULL, error, s->arg);
    }
    json_decref(s->addresses);
    free(s);
}

static shape_t *shape_new(gn_chain_cb cb, void *arg, json_t *(*fn)(json_t *, const shape_t *))
{
    shape_t *s = calloc(1, sizeof(*s));
    if (s) {
        s->cb = cb;
        s->arg = arg;
        s->fn = fn;
    }
    return s;
}

/* An integer that JSON may carry as a number or a decimal string. */
static int json_u128(const json_t *j, gn_u128_t *v)
{
    if (json_is_integer(j) && json_integer_value(j) >= 0) {
        *v = (gn_u128_t)json_integer_value(j);
        return 0;
    }
    const char *s = json_string_value(j);
    if (!s || !*s)
        return GN_EINVAL;
    gn_u128_t x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return GN_EINVAL;
        x = x * 10 + (gn_u128_t)(*s - '0');
    }
    *v = x;
    return 0;
}

static void add_ip_text(json_t *axon)
{
    gn_u128_t ip;
    char text[64];
    json_t *t = json_object_get(axon, "ip_type");
    if (json_u128(json_object_get(axon, "ip"), &ip) == 0 &&
        gn_ip_to_text(ip, (uint8_t)json_integer_value(t), text, sizeof(text)) == 0)
        json_object_set_new(axon, "ip_text", json_string(text));
}

static json_t *neurons_shape(json_t *r, const shape_t *s)
{
    (void)s;
    if (!json_is_array(r))
        return NULL;
    size_t i;
    json_t *n;
    json_array_foreach (r, i, n)
        add_ip_text(json_object_get(n, "axon_info"));
    return json_incref(r);
}

static json_t *subnets_shape(json_t *r, const shape_t *s)
{
    (void)s;
    json_t *entries = json_object_get(r, "entries"), *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach (entries, i, e) {
        if (json_is_true(json_object_get(e, "value")))
            json_array_append(out, json_array_get(json_object_get(e, "keys"), 0));
    }
    return json_pack("{s:o,s:O}", "netuids", out, "at", json_object_get(r, "at"));
}

static json_t *balances_shape(json_t *r, const shape_t *s)
{
    json_t *out = json_object();
    for (size_t i = 0; i < json_array_size(r); i++) {
        json_t *free_ = json_object_get(json_object_get(json_array_get(r, i), "data"), "free");
        const char *who = json_string_value(json_array_get(s->addresses, i));
        if (who)
            json_object_set(out, who, free_ ? free_ : json_integer(0));
    }
    return out;
}

int gn_subtensor_subnets(gn_chain_t *c, const char *at, gn_chain_cb cb, void *arg)
{
    shape_t *s = shape_new(cb, arg, subnets_shape);
    if (!s)
        return GN_ENOMEM;
    gn_query_map_opts_t o = {.page_size = 1000};
    int rc = gn_chain_query_map(c, "SubtensorModule", "NetworksAdded", NULL, &o, at, shaped, s);
    if (rc < 0)
        free(s);
    return rc;
}

int gn_subtensor_neurons(gn_chain_t *c, uint16_t netuid, bool lite, const char *at, gn_chain_cb cb,
                         void *arg)
{
    shape_t *s = shape_new(cb, arg, neurons_shape);
    if (!s)
        return GN_ENOMEM;
    json_t *args = json_pack("[i]", netuid);
    int rc = gn_chain_runtime_call(c, "NeuronInfoRuntimeApi",
                                   lite ? "get_neurons_lite" : "get_neurons", args, at, shaped, s);
    json_decref(args);
    if (rc < 0)
        free(s);
    return rc;
}

int gn_subtensor_metagraph(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb,
                           void *arg)
{
    json_t *args = json_pack("[i]", netuid);
    int rc = gn_chain_runtime_call(c, "SubnetInfoRuntimeApi", "get_metagraph", args, at, cb, arg);
    json_decref(args);
    return rc;
}

int gn_subtensor_balances(gn_chain_t *c, const json_t *addresses, const char *at, gn_chain_cb cb,
                          void *arg)
{
    if (!json_is_array(addresses))
        return GN_EINVAL;
    shape_t *s = shape_new(cb, arg, balances_shape);
    if (!s)
        return GN_ENOMEM;
    s->addresses = json_deep_copy(addresses);
    json_t *qs = json_array();
    for (size_t i = 0; i < json_array_size(addresses); i++)
        json_array_append_new(
            qs, json_pack("[s,s,[O]]", "System", "Account", json_array_get(addresses, i)));
    int rc = gn_chain_query_multi(c, qs, at, shaped, s);
    json_decref(qs);
    if (rc < 0) {
        json_decref(s->addresses);
        free(s);
    }
    return rc;
}
