/* Bittensor writes (include/ganglion/subtensor_tx.h): each reads what it
 * needs first, so a write happens only when it changes something and a
 * refusal names the chain's limit instead of costing a failed extrinsic. */
#include "ganglion/subtensor_tx.h"
#include "ganglion/axon_info.h"
#include "ganglion/error.h"
#include "ganglion/ss58.h"
#include "ganglion/subtensor.h"
#include "ganglion/weights.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writes: read first, so a write happens only when it changes
 * something and a refusal can name the limit instead of costing a failed
 * extrinsic ---- */

typedef struct wr {
    gn_chain_t *c;
    gn_chain_cb cb;
    void *arg;
    gn_sr25519_keypair_t kp;
    uint16_t netuid;
    char hotkey[64];
    json_t *call; /* the arguments to submit when needed */
    gn_wait_t wait;
    /* set_weights */
    uint64_t version_key, block;
    uint16_t *uids, *vals;
    size_t n;
} wr_t;

static void wr_free(wr_t *w)
{
    sodium_memzero(&w->kp, sizeof(w->kp));
    json_decref(w->call);
    free(w->uids);
    free(w->vals);
    free(w);
}

static void wr_done(int status, json_t *result, const char *error, void *arg)
{
    wr_t *w = arg;
    w->cb(status, result, error, w->arg);
    wr_free(w);
}

static void wr_submit(wr_t *w, const char *call)
{
    gn_submit_opts_t so = {.nonce = -1, .wait = w->wait};
    int rc = gn_chain_submit(w->c, "SubtensorModule", call, w->call, &w->kp, &so, wr_done, w);
    if (rc < 0) {
        w->cb(rc, NULL, gn_strerror(rc), w->arg);
        wr_free(w);
    }
}

/* ---- set_weights: the chain's own limits checked first, so a refusal
 * names the limit instead of costing a failed extrinsic ---- */

static void wr_fail(wr_t *w, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    w->cb(status, NULL, msg, w->arg);
    wr_free(w);
}

static void setw_checked(int status, json_t *r, const char *error, void *arg)
{
    wr_t *w = arg;
    if (status < 0) {
        wr_fail(w, status, "%s", error ? error : gn_strerror(status));
        return;
    }
    json_t *uid = json_array_get(r, 0);
    json_int_t min = json_integer_value(json_array_get(r, 1));
    json_int_t limit = json_integer_value(json_array_get(r, 2));
    json_t *last = json_array_get(r, 3);
    bool cr = json_is_true(json_array_get(r, 4));
    json_int_t min_key = json_integer_value(json_array_get(r, 5));
    int rc = 0;
    if (!json_is_integer(uid))
        rc = GN_ENOENT;
    if (rc == 0 && cr) {
        wr_fail(w, GN_EUNSUPPORTED,
                "subnet %u has commit-reveal weights on: weights go through commit and reveal",
                w->netuid);
    } else if (rc < 0) {
        wr_fail(w, rc, "hotkey %s is not registered on subnet %u", w->hotkey, w->netuid);
    } else if ((json_int_t)w->n < min) {
        wr_fail(w, GN_ERANGE,
                "min allowed weights: %zu non-zero weight(s) given, subnet %u requires %lld", w->n,
                w->netuid, (long long)min);
    } else if ((json_int_t)w->version_key < min_key) {
        wr_fail(w, GN_ERANGE, "weights version key: %llu given, subnet %u requires >= %lld",
                (unsigned long long)w->version_key, w->netuid, (long long)min_key);
    } else {
        json_int_t last_block =
            json_integer_value(json_array_get(last, (size_t)json_integer_value(uid)));
        if (limit > 0 && last_block > 0 && (json_int_t)w->block - last_block < limit) {
            wr_fail(w, GN_ERANGE,
                    "weights rate limit: uid %lld last set weights at block %lld, subnet %u "
                    "allows once every %lld blocks, now block %llu (wait %lld more)",
                    (long long)json_integer_value(uid), (long long)last_block, w->netuid,
                    (long long)limit, (unsigned long long)w->block,
                    (long long)(limit - ((json_int_t)w->block - last_block)));
        } else {
            json_t *dests = json_array(), *ws = json_array();
            for (size_t i = 0; i < w->n; i++) {
                json_array_append_new(dests, json_integer(w->uids[i]));
                json_array_append_new(ws, json_integer(w->vals[i]));
            }
            w->call = json_pack("{s:i,s:o,s:o,s:I}", "netuid", w->netuid, "dests", dests, "weights",
                                ws, "version_key", (json_int_t)w->version_key);
            wr_submit(w, "set_weights");
        }
    }
    json_decref(r);
}

static void setw_head(int status, json_t *head, const char *error, void *arg)
{
    wr_t *w = arg;
    if (status < 0) {
        wr_fail(w, status, "%s", error ? error : gn_strerror(status));
        return;
    }
    w->block = (uint64_t)json_integer_value(json_object_get(head, "number"));
    json_t *qs = json_pack("[[s,s,[i,s]],[s,s,[i]],[s,s,[i]],[s,s,[i]],[s,s,[i]],[s,s,[i]]]",
                           "SubtensorModule", "Uids", w->netuid, w->hotkey, "SubtensorModule",
                           "MinAllowedWeights", w->netuid, "SubtensorModule", "WeightsSetRateLimit",
                           w->netuid, "SubtensorModule", "LastUpdate", w->netuid, "SubtensorModule",
                           "CommitRevealWeightsEnabled", w->netuid, "SubtensorModule",
                           "WeightsVersionKey", w->netuid);
    int rc = gn_chain_query_multi(w->c, qs, json_string_value(json_object_get(head, "hash")),
                                  setw_checked, w);
    json_decref(qs);
    json_decref(head);
    if (rc < 0)
        wr_fail(w, rc, "reading the subnet's weight limits: %s", gn_strerror(rc));
}

int gn_subtensor_set_weights(gn_chain_t *c, const gn_sr25519_keypair_t *hotkey, uint16_t netuid,
                             const uint64_t *uids, const double *scores, size_t n,
                             uint64_t version_key, gn_wait_t wait, gn_chain_cb cb, void *arg)
{
    wr_t *w = calloc(1, sizeof(*w));
    if (!w)
        return GN_ENOMEM;
    w->uids = malloc((n ? n : 1) * sizeof(uint16_t));
    w->vals = malloc((n ? n : 1) * sizeof(uint16_t));
    int rc = !w->uids || !w->vals ? GN_ENOMEM
                                  : gn_weights_for_emit(uids, scores, n, w->uids, w->vals, &w->n);
    if (rc == 0 && w->n == 0)
        rc = GN_EINVAL; /* all zero: nothing to set, as the SDK says */
    if (rc < 0) {
        wr_free(w);
        return rc;
    }
    w->c = c;
    w->cb = cb;
    w->arg = arg;
    w->kp = *hotkey;
    w->netuid = netuid;
    w->version_key = version_key;
    w->wait = wait;
    gn_ss58_encode(hotkey->pub, 32, 42, w->hotkey, sizeof(w->hotkey));
    rc = gn_chain_head(c, false, setw_head, w);
    if (rc < 0)
        wr_free(w);
    return rc;
}

/* ---- register and serve ---- */

static void reg_checked(int status, json_t *uid, const char *error, void *arg)
{
    wr_t *w = arg;
    if (status < 0) {
        w->cb(status, NULL, error, w->arg);
        wr_free(w);
    } else if (json_is_integer(uid)) { /* nothing to pay for */
        w->cb(0,
              json_pack("{s:b,s:O,s:s,s:i}", "already", 1, "uid", uid, "hotkey", w->hotkey,
                        "netuid", w->netuid),
              NULL, w->arg);
        wr_free(w);
    } else {
        wr_submit(w, "burned_register");
    }
    json_decref(uid);
}

int gn_subtensor_register(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey, uint16_t netuid,
                          const char *hotkey, gn_wait_t wait, gn_chain_cb cb, void *arg)
{
    wr_t *w = calloc(1, sizeof(*w));
    if (!w)
        return GN_ENOMEM;
    w->c = c, w->cb = cb, w->arg = arg, w->kp = *coldkey, w->netuid = netuid, w->wait = wait;
    snprintf(w->hotkey, sizeof(w->hotkey), "%s", hotkey);
    w->call = json_pack("{s:i,s:s}", "netuid", netuid, "hotkey", hotkey);
    json_t *k = json_pack("[i,s]", netuid, hotkey);
    int rc = gn_chain_query(c, "SubtensorModule", "Uids", k, NULL, reg_checked, w);
    json_decref(k);
    if (rc < 0)
        wr_free(w);
    return rc;
}

static void serve_checked(int status, json_t *cur, const char *error, void *arg)
{
    wr_t *w = arg;
    if (status < 0) {
        w->cb(status, NULL, error, w->arg);
        wr_free(w);
        json_decref(cur);
        return;
    }
    /* the SDK skips when every served field already matches */
    static const char *fields[] = {"version",  "ip",           "port",        "ip_type",
                                   "protocol", "placeholder1", "placeholder2"};
    bool same = json_is_object(cur);
    for (size_t i = 0; same && i < sizeof(fields) / sizeof(fields[0]); i++) {
        gn_u128_t a, b;
        same = gn_subtensor_u128(json_object_get(cur, fields[i]), &a) == 0 &&
               gn_subtensor_u128(json_object_get(w->call, fields[i]), &b) == 0 && a == b;
    }
    if (same) {
        gn_subtensor_axon_ip_text(cur);
        w->cb(0, json_pack("{s:b,s:O}", "unchanged", 1, "axon", cur), NULL, w->arg);
        wr_free(w);
    } else {
        wr_submit(w, "serve_axon");
    }
    json_decref(cur);
}

int gn_subtensor_serve_axon(gn_chain_t *c, const gn_sr25519_keypair_t *hotkey, uint16_t netuid,
                            const char *ip, uint16_t port, uint32_t version, gn_wait_t wait,
                            gn_chain_cb cb, void *arg)
{
    gn_u128_t ipv;
    uint8_t ip_type;
    int rc = gn_ip_from_text(ip, &ipv, &ip_type);
    if (rc < 0)
        return rc;
    wr_t *w = calloc(1, sizeof(*w));
    if (!w)
        return GN_ENOMEM;
    w->c = c, w->cb = cb, w->arg = arg, w->kp = *hotkey, w->netuid = netuid, w->wait = wait;
    gn_ss58_encode(hotkey->pub, 32, 42, w->hotkey, sizeof(w->hotkey));
    char ipd[48];
    gn_u128_t x = ipv;
    size_t n = 0;
    char rev[48];
    do { /* u128 as decimal text: JSON integers stop at 2^63 */
        rev[n++] = (char)('0' + (int)(x % 10));
        x /= 10;
    } while (x);
    for (size_t i = 0; i < n; i++)
        ipd[i] = rev[n - 1 - i];
    ipd[n] = '\0';
    w->call = json_pack("{s:i,s:I,s:s,s:i,s:i,s:i,s:i,s:i}", "netuid", netuid, "version",
                        (json_int_t)version, "ip", ipd, "port", port, "ip_type", ip_type,
                        "protocol", 4, "placeholder1", 0, "placeholder2", 0);
    json_t *k = json_pack("[i,s]", netuid, w->hotkey);
    rc = gn_chain_query(c, "SubtensorModule", "Axons", k, NULL, serve_checked, w);
    json_decref(k);
    if (rc < 0)
        wr_free(w);
    return rc;
}
