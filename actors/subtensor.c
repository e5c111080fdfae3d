/* Bittensor reads (include/ganglion/subtensor.h): chain operations with
 * their answers reshaped. */
#include "ganglion/subtensor.h"
#include "ganglion/axon_info.h"

#include "ganglion/error.h"
#include "ganglion/metadata.h"
#include "ganglion/ss58.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct shape {
    gn_chain_cb cb;
    void *arg;
    json_t *(*fn)(json_t *result, const struct shape *s);
    json_t *addresses;
    uint16_t netuid;
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

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static json_t *subnets_shape(json_t *r, const shape_t *s)
{
    (void)s;
    json_t *entries = json_object_get(r, "entries"), *out = json_array();
    /* the map comes in hashed-key order: netuids are listed ascending */
    size_t i, n = 0;
    json_t *e;
    uint16_t *ids = malloc((json_array_size(entries) + 1) * sizeof(*ids));
    if (!ids) {
        json_decref(out);
        return NULL;
    }
    json_array_foreach (entries, i, e) {
        /* keys only: a subnet that is removed loses its NetworksAdded entry */
        if (!json_is_false(json_object_get(e, "value")))
            ids[n++] = (uint16_t)json_integer_value(json_array_get(json_object_get(e, "keys"), 0));
    }
    qsort(ids, n, sizeof(*ids), cmp_u16);
    for (i = 0; i < n; i++)
        json_array_append_new(out, json_integer(ids[i]));
    free(ids);
    return json_pack("{s:o,s:I,s:O}", "netuids", out, "total", (json_int_t)n, "at",
                     json_object_get(r, "at"));
}

static json_t *subnet_shape(json_t *r, const shape_t *s)
{
    if (json_array_size(r) != 6)
        return NULL;
    bool exists = json_is_true(json_array_get(r, 0));
    json_t *o = json_pack("{s:i,s:b}", "netuid", s->netuid, "exists", exists);
    if (exists) {
        static const char *names[] = {"tempo", "blocks_since_last_step", "neurons", "max_neurons",
                                      "owner"};
        for (size_t i = 0; i < 5; i++)
            json_object_set(o, names[i], json_array_get(r, i + 1));
    }
    return o;
}

static json_t *uid_shape(json_t *r, const shape_t *s)
{
    (void)s;
    return json_pack("{s:O,s:b}", "uid", r, "registered", json_is_integer(r));
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
    gn_query_map_opts_t o = {.page_size = 1000, .keys_only = true};
    int rc = gn_chain_query_map(c, "SubtensorModule", "NetworksAdded", NULL, &o, at, shaped, s);
    if (rc < 0)
        free(s);
    return rc;
}

int gn_subtensor_subnet(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb, void *arg)
{
    shape_t *s = shape_new(cb, arg, subnet_shape);
    if (!s)
        return GN_ENOMEM;
    s->netuid = netuid;
    static const char *items[] = {"NetworksAdded", "Tempo",          "BlocksSinceLastStep",
                                  "SubnetworkN",   "MaxAllowedUids", "SubnetOwner"};
    json_t *qs = json_array();
    for (size_t i = 0; i < 6; i++)
        json_array_append_new(qs, json_pack("[s,s,[i]]", "SubtensorModule", items[i], netuid));
    int rc = gn_chain_query_multi(c, qs, at, shaped, s);
    json_decref(qs);
    if (rc < 0)
        free(s);
    return rc;
}

int gn_subtensor_uid(gn_chain_t *c, uint16_t netuid, const char *hotkey, const char *at,
                     gn_chain_cb cb, void *arg)
{
    shape_t *s = shape_new(cb, arg, uid_shape);
    if (!s)
        return GN_ENOMEM;
    json_t *k = json_pack("[i,s]", netuid, hotkey);
    int rc = k ? gn_chain_query(c, "SubtensorModule", "Uids", k, at, shaped, s) : GN_EINVAL;
    json_decref(k);
    if (rc < 0)
        free(s);
    return rc;
}

int gn_subtensor_stake(gn_chain_t *c, const char *coldkey, const char *hotkey, uint16_t netuid,
                       const char *at, gn_chain_cb cb, void *arg)
{
    json_t *args =
        hotkey ? json_pack("[s,s,i]", hotkey, coldkey, netuid) : json_pack("[s]", coldkey);
    int rc = !args ? GN_EINVAL
                   : gn_chain_runtime_call(c, "StakeInfoRuntimeApi",
                                           hotkey ? "get_stake_info_for_hotkey_coldkey_netuid"
                                                  : "get_stake_info_for_coldkey",
                                           args, at, cb, arg);
    json_decref(args);
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

/* ---- hyperparameters: the runtime API where the runtime has it
 * (get_subnet_hyperparams_v2, then v1), storage otherwise ---- */

enum hp_kind { HP_PLAIN, HP_LOW, HP_HIGH, HP_YUMA, HP_BITS };

/* The storage each SubnetHyperparams(V2) field is read from. */
static const struct hp_field {
    const char *field, *pallet, *item;
    enum hp_kind kind;
} HP_FIELDS[] = {
    {"rho", "SubtensorModule", "Rho", HP_PLAIN},
    {"kappa", "SubtensorModule", "Kappa", HP_PLAIN},
    {"immunity_period", "SubtensorModule", "ImmunityPeriod", HP_PLAIN},
    {"min_allowed_weights", "SubtensorModule", "MinAllowedWeights", HP_PLAIN},
    {"max_weights_limit", "SubtensorModule", "MaxWeightsLimit", HP_PLAIN},
    {"tempo", "SubtensorModule", "Tempo", HP_PLAIN},
    {"min_difficulty", "SubtensorModule", "MinDifficulty", HP_PLAIN},
    {"max_difficulty", "SubtensorModule", "MaxDifficulty", HP_PLAIN},
    {"weights_version", "SubtensorModule", "WeightsVersionKey", HP_PLAIN},
    {"weights_rate_limit", "SubtensorModule", "WeightsSetRateLimit", HP_PLAIN},
    {"adjustment_interval", "SubtensorModule", "AdjustmentInterval", HP_PLAIN},
    {"activity_cutoff", "SubtensorModule", "ActivityCutoff", HP_PLAIN},
    {"registration_allowed", "SubtensorModule", "NetworkRegistrationAllowed", HP_PLAIN},
    {"target_regs_per_interval", "SubtensorModule", "TargetRegistrationsPerInterval", HP_PLAIN},
    {"min_burn", "SubtensorModule", "MinBurn", HP_PLAIN},
    {"max_burn", "SubtensorModule", "MaxBurn", HP_PLAIN},
    {"bonds_moving_avg", "SubtensorModule", "BondsMovingAverage", HP_PLAIN},
    {"max_regs_per_block", "SubtensorModule", "MaxRegistrationsPerBlock", HP_PLAIN},
    {"serving_rate_limit", "SubtensorModule", "ServingRateLimit", HP_PLAIN},
    {"max_validators", "SubtensorModule", "MaxAllowedValidators", HP_PLAIN},
    {"adjustment_alpha", "SubtensorModule", "AdjustmentAlpha", HP_PLAIN},
    {"difficulty", "SubtensorModule", "Difficulty", HP_PLAIN},
    {"commit_reveal_period", "SubtensorModule", "RevealPeriodEpochs", HP_PLAIN},
    {"commit_reveal_weights_enabled", "SubtensorModule", "CommitRevealWeightsEnabled", HP_PLAIN},
    {"alpha_high", "SubtensorModule", "AlphaValues", HP_HIGH},
    {"alpha_low", "SubtensorModule", "AlphaValues", HP_LOW},
    {"liquid_alpha_enabled", "SubtensorModule", "LiquidAlphaOn", HP_PLAIN},
    {"alpha_sigmoid_steepness", "SubtensorModule", "AlphaSigmoidSteepness", HP_BITS},
    {"yuma_version", "SubtensorModule", "Yuma3On", HP_YUMA},
    {"subnet_is_active", "SubtensorModule", "SubtokenEnabled", HP_PLAIN},
    {"transfers_enabled", "SubtensorModule", "TransferToggle", HP_PLAIN},
    {"bonds_reset_enabled", "SubtensorModule", "BondsResetOn", HP_PLAIN},
    {"user_liquidity_enabled", "Swap", "EnabledUserLiquidity", HP_PLAIN},
};
#define HP_N (sizeof(HP_FIELDS) / sizeof(HP_FIELDS[0]))

typedef struct hp {
    gn_chain_t *c;
    gn_chain_cb cb;
    void *arg;
    uint16_t netuid;
    int stage; /* 0: v2, 1: v1, 2: storage */
    char *at;
    bool present[HP_N];
} hp_t;

static void hp_end(hp_t *h, int status, json_t *r, const char *error)
{
    h->cb(status, r, error, h->arg);
    free(h->at);
    free(h);
}

static json_t *hp_value(const struct hp_field *f, json_t *v)
{
    switch (f->kind) {
    case HP_LOW:
    case HP_HIGH: return json_incref(json_array_get(v, f->kind == HP_LOW ? 0 : 1));
    case HP_YUMA: return json_integer(json_is_true(v) ? 3 : 2);
    case HP_BITS: /* an I32F32 of an integer storage value, as the API gives it */
        return json_pack("{s:I}", "bits", (json_int_t)((uint64_t)json_integer_value(v) << 32));
    default: return json_incref(v);
    }
}

static void hp_storage_got(int status, json_t *r, const char *error, void *arg)
{
    hp_t *h = arg;
    if (status < 0) {
        hp_end(h, status, NULL, error);
        return;
    }
    /* the first value is NetworksAdded: no subnet answers null, as the API does */
    json_t *out = NULL;
    if (json_is_true(json_array_get(r, 0))) {
        out = json_object();
        size_t k = 1;
        for (size_t i = 0; i < HP_N; i++) {
            if (h->present[i])
                json_object_set_new(out, HP_FIELDS[i].field,
                                    hp_value(&HP_FIELDS[i], json_array_get(r, k++)));
        }
        json_object_set_new(out, "source", json_string("storage"));
    }
    json_decref(r);
    hp_end(h, 0, out ? out : json_null(), NULL);
}

static void hp_storage_rt(int status, gn_runtime_t *rt, const char *error, void *arg)
{
    hp_t *h = arg;
    if (status < 0) {
        hp_end(h, status, NULL, error);
        return;
    }
    json_t *qs = json_pack("[[s,s,[i]]]", "SubtensorModule", "NetworksAdded", h->netuid);
    for (size_t i = 0; i < HP_N; i++) {
        /* an item this runtime lacks is a field it does not have */
        h->present[i] = gn_metadata_storage(&rt->md, HP_FIELDS[i].pallet, HP_FIELDS[i].item);
        if (h->present[i])
            json_array_append_new(
                qs, json_pack("[s,s,[i]]", HP_FIELDS[i].pallet, HP_FIELDS[i].item, h->netuid));
    }
    gn_runtime_unref(rt);
    int rc = gn_chain_query_multi(h->c, qs, h->at, hp_storage_got, h);
    json_decref(qs);
    if (rc < 0)
        hp_end(h, rc, NULL, gn_strerror(rc));
}

static int hp_next(hp_t *h);

static void hp_api_got(int status, json_t *r, const char *error, void *arg)
{
    hp_t *h = arg;
    if (status == GN_ENOENT || status == GN_EUNSUPPORTED) { /* the runtime lacks this API */
        h->stage++;
        int rc = hp_next(h);
        if (rc < 0)
            hp_end(h, rc, NULL, gn_strerror(rc));
        return;
    }
    if (status == 0 && json_is_object(r))
        json_object_set_new(r, "source",
                            json_string(h->stage == 0 ? "runtime_api_v2" : "runtime_api"));
    hp_end(h, status, r, error);
}

static int hp_next(hp_t *h)
{
    int rc;
    if (h->stage < 2) {
        json_t *args = json_pack("[i]", h->netuid);
        rc = gn_chain_runtime_call(h->c, "SubnetInfoRuntimeApi",
                                   h->stage == 0 ? "get_subnet_hyperparams_v2"
                                                 : "get_subnet_hyperparams",
                                   args, h->at, hp_api_got, h);
        json_decref(args);
    } else {
        rc = gn_chain_runtime(h->c, h->at, hp_storage_rt, h);
    }
    return rc;
}

static int hp_start(gn_chain_t *c, uint16_t netuid, const char *at, int stage, gn_chain_cb cb,
                    void *arg)
{
    hp_t *h = calloc(1, sizeof(*h));
    if (!h || (at && !(h->at = strdup(at)))) {
        free(h);
        return GN_ENOMEM;
    }
    h->c = c, h->cb = cb, h->arg = arg, h->netuid = netuid, h->stage = stage;
    int rc = hp_next(h);
    if (rc < 0) {
        free(h->at);
        free(h);
    }
    return rc;
}

int gn_subtensor_hyperparams(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb,
                             void *arg)
{
    return hp_start(c, netuid, at, 0, cb, arg);
}

int gn_subtensor_hyperparams_storage(gn_chain_t *c, uint16_t netuid, const char *at, gn_chain_cb cb,
                                     void *arg)
{
    return hp_start(c, netuid, at, 2, cb, arg);
}
