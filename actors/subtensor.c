/* Bittensor reads (include/ganglion/subtensor.h): chain operations with
 * their answers reshaped. */
#include "ganglion/subtensor.h"
#include "ganglion/axon_info.h"

#include "ganglion/error.h"
#include "ganglion/ss58.h"

#include <stdio.h>
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
int gn_subtensor_u128(const json_t *j, gn_u128_t *v)
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

void gn_subtensor_axon_ip_text(json_t *axon)
{
    gn_u128_t ip;
    char text[64];
    json_t *t = json_object_get(axon, "ip_type");
    if (gn_subtensor_u128(json_object_get(axon, "ip"), &ip) == 0 &&
        gn_ip_to_text(ip, (uint8_t)json_integer_value(t), text, sizeof(text)) == 0)
        json_object_set_new(axon, "ip_text", json_string(text));
}

void gn_subtensor_add_ip_text(json_t *neurons)
{
    size_t i;
    json_t *n;
    json_array_foreach (neurons, i, n)
        gn_subtensor_axon_ip_text(json_object_get(n, "axon_info"));
}

static json_t *neurons_shape(json_t *r, const shape_t *s)
{
    (void)s;
    if (!json_is_array(r))
        return NULL;
    gn_subtensor_add_ip_text(r);
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

/* ---- every subnet's neurons, at one block, a bounded number of runtime
 * calls in flight (the seeds' "all neurons of the network") ---- */

typedef struct all {
    gn_chain_t *c;
    gn_chain_cb cb;
    void *arg;
    bool lite;
    unsigned limit, inflight;
    size_t next;
    int status;
    char *error;
    char at[67];
    json_t *netuids, *subnets;
} all_t;

static void all_pump(all_t *a);

static void all_finish(all_t *a)
{
    if (a->status < 0)
        a->cb(a->status, NULL, a->error ? a->error : gn_strerror(a->status), a->arg);
    else
        a->cb(0, json_pack("{s:s,s:O}", "at", a->at, "subnets", a->subnets), NULL, a->arg);
    json_decref(a->netuids);
    json_decref(a->subnets);
    free(a->error);
    free(a);
}

static void all_fail(all_t *a, int status, const char *error)
{
    if (a->status == 0) {
        a->status = status;
        a->error = strdup(error ? error : gn_strerror(status));
    }
}

typedef struct all_one {
    all_t *a;
    uint16_t netuid;
} all_one_t;

static void all_got(int status, json_t *r, const char *error, void *arg)
{
    all_one_t *o = arg;
    all_t *a = o->a;
    a->inflight--;
    if (status < 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "subnet %u: %s", o->netuid, error ? error : gn_strerror(status));
        all_fail(a, status, msg);
    } else {
        char key[8];
        snprintf(key, sizeof(key), "%u", o->netuid);
        json_object_set_new(a->subnets, key, r);
    }
    free(o);
    all_pump(a);
}

static void all_pump(all_t *a)
{
    while (a->status == 0 && a->inflight < a->limit && a->next < json_array_size(a->netuids)) {
        all_one_t *o = malloc(sizeof(*o));
        if (!o) {
            all_fail(a, GN_ENOMEM, NULL);
            break;
        }
        o->a = a;
        o->netuid = (uint16_t)json_integer_value(json_array_get(a->netuids, a->next++));
        a->inflight++;
        int rc = gn_subtensor_neurons(a->c, o->netuid, a->lite, a->at, all_got, o);
        if (rc < 0) {
            a->inflight--;
            free(o);
            all_fail(a, rc, NULL);
        }
    }
    if (a->inflight == 0 && (a->status < 0 || a->next >= json_array_size(a->netuids)))
        all_finish(a);
}

static void all_listed(int status, json_t *r, const char *error, void *arg)
{
    all_t *a = arg;
    if (status < 0) {
        all_fail(a, status, error);
    } else {
        a->netuids = json_incref(json_object_get(r, "netuids"));
        json_decref(r);
    }
    all_pump(a);
}

static void all_head(int status, json_t *head, const char *error, void *arg)
{
    all_t *a = arg;
    const char *h = json_string_value(json_object_get(head, "hash"));
    if (status == 0 && !h)
        status = GN_EINVAL, error = "the head has no hash";
    if (status == 0) {
        snprintf(a->at, sizeof(a->at), "%s", h);
        status = gn_subtensor_subnets(a->c, a->at, all_listed, a);
        error = NULL;
    }
    json_decref(head);
    if (status < 0) {
        all_fail(a, status, error);
        all_finish(a);
    }
}

int gn_subtensor_all_neurons(gn_chain_t *c, bool lite, unsigned concurrency, const char *at,
                             gn_chain_cb cb, void *arg)
{
    if (at && strlen(at) >= sizeof(((all_t *)0)->at))
        return GN_EINVAL;
    all_t *a = calloc(1, sizeof(*a));
    json_t *subnets = json_object();
    if (!a || !subnets) {
        free(a);
        json_decref(subnets);
        return GN_ENOMEM;
    }
    a->c = c, a->cb = cb, a->arg = arg, a->lite = lite, a->subnets = subnets;
    a->limit = concurrency ? concurrency : 16;
    int rc;
    if (at) { /* pinned by the caller */
        snprintf(a->at, sizeof(a->at), "%s", at);
        rc = gn_subtensor_subnets(c, a->at, all_listed, a);
    } else { /* pin one block so every subnet is read at the same state */
        rc = gn_chain_head(c, false, all_head, a);
    }
    if (rc < 0) {
        json_decref(subnets);
        free(a);
    }
    return rc;
}
