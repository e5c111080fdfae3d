/* Bittensor writes (include/ganglion/subtensor_tx.h): each reads what it
 * needs first, so a write happens only when it changes something and a
 * refusal names the chain's limit instead of costing a failed extrinsic. */
#include "ganglion/subtensor_tx.h"
#include "ganglion/axon_info.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/ss58.h"
#include "ganglion/subtensor.h"
#include "ganglion/subtensor_errors.h"
#include "ganglion/weights.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- writes: read first, so a write happens only when it changes
 * something and a refusal can name the limit instead of costing a failed
 * extrinsic ---- */

typedef struct wr wr_t;
/* A step of a write's reads: gets the answer (owns it). */
typedef void (*wr_step)(wr_t *w, json_t *r);

struct wr {
    gn_chain_t *c;
    gn_chain_cb cb;
    void *arg;
    gn_sr25519_keypair_t kp;
    uint16_t netuid;
    char hotkey[64];
    json_t *call; /* the arguments to submit when needed */
    gn_wait_t wait;
    /* set_weights, commit and reveal */
    uint64_t version_key, block;
    uint16_t *uids, *vals;
    size_t n;
    uint16_t *salt;
    size_t n_salt;
    uint8_t hash[32];
    uint64_t tempo, period;
    /* the call when it is not the SubtensorModule one named at submit */
    const char *pallet, *fn;
    char signer[64]; /* the signing key's SS58 */
    char dest[64];   /* transfer: the destination */
    char at[67];     /* the block the checks read ("": the best) */
    uint64_t amount;
    bool keep_alive, remove, reveal; /* transfer; unstake (else stake); reveal (else commit) */
    json_t *got;                     /* earlier answers, for later steps */
    wr_step next;                    /* the step the pending read answers */
    void (*finish)(wr_t *w, json_t *receipt); /* adds to a successful receipt */
};

static void wr_fail(wr_t *w, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void wr_free(wr_t *w)
{
    sodium_memzero(&w->kp, sizeof(w->kp));
    json_decref(w->call);
    json_decref(w->got);
    free(w->uids);
    free(w->vals);
    free(w->salt);
    free(w);
}

/* The answer of the extrinsic: a pool rejection gets the name of
 * Subtensor's custom code added (include/ganglion/subtensor_errors.h). */
static void wr_done(int status, json_t *result, const char *error, void *arg)
{
    wr_t *w = arg;
    char msg[1024];
    if (status == GN_EREJECTED && error) {
        gn_subtensor_explain_rejection(error, msg, sizeof(msg));
        error = msg;
    }
    if (status == 0 && w->finish && json_is_object(result))
        w->finish(w, result);
    w->cb(status, result, error, w->arg);
    wr_free(w);
}

static void wr_submit(wr_t *w, const char *call)
{
    gn_submit_opts_t so = {.nonce = -1, .wait = w->wait};
    int rc = gn_chain_submit(w->c, w->pallet ? w->pallet : "SubtensorModule", call, w->call, &w->kp,
                             &so, wr_done, w);
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

/* ---- the pieces the writes below share ---- */

static wr_t *wr_new(gn_chain_t *c, const gn_sr25519_keypair_t *kp, gn_wait_t wait, gn_chain_cb cb,
                    void *arg)
{
    wr_t *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->c = c, w->cb = cb, w->arg = arg, w->kp = *kp, w->wait = wait;
    gn_ss58_encode(kp->pub, 32, 42, w->signer, sizeof(w->signer));
    return w;
}

/* The first read's return: on failure nothing will answer, so w goes. */
static int wr_start(wr_t *w, int rc)
{
    if (rc < 0)
        wr_free(w);
    return rc < 0 ? rc : 0;
}

/* A later read that could not start: the write answers with that. */
static void wr_started(wr_t *w, int rc, const char *what)
{
    if (rc < 0)
        wr_fail(w, rc, "%s: %s", what, gn_strerror(rc));
}

static void wr_then(int status, json_t *r, const char *error, void *arg)
{
    wr_t *w = arg;
    if (status < 0) {
        json_decref(r);
        wr_fail(w, status, "%s", error ? error : gn_strerror(status));
        return;
    }
    w->next(w, r);
}

/* Reads at w->at (the best block until a head step pins one). qs is
 * consumed. */
static int wr_query(wr_t *w, json_t *qs, wr_step next)
{
    w->next = next;
    int rc = qs ? gn_chain_query_multi(w->c, qs, w->at[0] ? w->at : NULL, wr_then, w) : GN_ENOMEM;
    json_decref(qs);
    return rc;
}

static int wr_head(wr_t *w, wr_step next)
{
    w->next = next;
    return gn_chain_head(w->c, false, wr_then, w);
}

/* A head step's answer: its number and hash pin the reads that follow. */
static void wr_pin(wr_t *w, json_t *head)
{
    w->block = (uint64_t)json_integer_value(json_object_get(head, "number"));
    snprintf(w->at, sizeof(w->at), "%s", json_string_value(json_object_get(head, "hash")));
    json_decref(head);
}

/* The fee of the call the write would submit (TransactionPaymentApi). */
static int wr_fee(wr_t *w, wr_step next)
{
    w->next = next;
    return gn_chain_fee(w->c, w->pallet ? w->pallet : "SubtensorModule", w->fn, w->call, &w->kp,
                        wr_then, w);
}

/* A JSON integer, or decimal text above 2^53 (the chain client takes both). */
static json_t *json_u64(uint64_t v)
{
    if (v <= (1ull << 53))
        return json_integer((json_int_t)v);
    char s[24];
    snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
    return json_string(s);
}

/* A chain integer (number or decimal text) as u64, saturating; 0 when absent. */
static uint64_t jnum(const json_t *j)
{
    gn_u128_t v;
    if (gn_subtensor_u128(j, &v) < 0)
        return 0;
    return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t free_of(const json_t *account)
{
    return jnum(json_object_get(json_object_get(account, "data"), "free"));
}

/* rao as TAO text ("1.5"), for messages: tao(x).s */
typedef struct {
    char s[32];
} tao_t;

static tao_t tao(uint64_t rao)
{
    tao_t t;
    unsigned long long whole = rao / 1000000000u, frac = rao % 1000000000u;
    if (!frac) {
        snprintf(t.s, sizeof(t.s), "%llu", whole);
        return t;
    }
    char f[16];
    snprintf(f, sizeof(f), "%09llu", frac);
    for (size_t k = strlen(f); k > 0 && f[k - 1] == '0'; k--)
        f[k - 1] = '\0';
    snprintf(t.s, sizeof(t.s), "%llu.%s", whole, f);
    return t;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* An SS58 account, its 32 bytes (GN_EINVAL when it is none). */
static int account_of(const char *ss58, uint8_t acc[32])
{
    uint16_t fmt;
    if (!ss58 || gn_ss58_decode_account(ss58, strlen(ss58), acc, &fmt) < 0)
        return GN_EINVAL;
    return 0;
}

/* A map's default AccountId (all zero) stands for "no entry". */
static bool account_is_none(const json_t *j)
{
    uint8_t acc[32];
    if (account_of(json_string_value(j), acc) < 0)
        return true;
    for (size_t i = 0; i < 32; i++)
        if (acc[i])
            return false;
    return true;
}

/* ---- transfer: what the SDK checks first (free >= amount + fee, plus
 * the existential deposit when the sender is kept alive) ---- */

static void xfer_fee(wr_t *w, json_t *fee)
{
    json_t *accounts = json_array_get(w->got, 0);
    uint64_t ed = jnum(json_array_get(w->got, 1));
    uint64_t f = jnum(json_object_get(fee, "partial_fee"));
    uint64_t have = free_of(json_array_get(accounts, 0));
    uint64_t dest_have = free_of(json_array_get(accounts, 1));
    uint64_t need = sat_add(sat_add(w->amount, f), w->keep_alive ? ed : 0);
    json_decref(fee);
    if (have < need) {
        wr_fail(
            w, GN_ERANGE,
            "not enough balance: %s has %s TAO free; the transfer needs %s TAO + %s TAO fee%s%s%s",
            w->signer, tao(have).s, tao(w->amount).s, tao(f).s, w->keep_alive ? " + " : "",
            w->keep_alive ? tao(ed).s : "",
            w->keep_alive ? " TAO existential deposit to keep it alive" : "");
    } else if (sat_add(dest_have, w->amount) < ed) {
        wr_fail(w, GN_ERANGE,
                "%s holds %s TAO: a transfer must leave it at least the existential deposit (%s "
                "TAO), %s TAO would not",
                w->dest, tao(dest_have).s, tao(ed).s, tao(w->amount).s);
    } else {
        wr_submit(w, w->fn);
    }
}

static void xfer_ed(wr_t *w, json_t *ed)
{
    json_array_append_new(w->got, ed);
    wr_started(w, wr_fee(w, xfer_fee), "estimating the fee");
}

static void xfer_accounts(wr_t *w, json_t *accounts)
{
    w->got = json_pack("[o]", accounts);
    w->next = xfer_ed;
    wr_started(w, gn_chain_constant(w->c, "Balances", "ExistentialDeposit", wr_then, w),
               "reading the existential deposit");
}

int gn_subtensor_transfer(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey, const char *dest,
                          uint64_t amount, bool keep_alive, gn_wait_t wait, gn_chain_cb cb,
                          void *arg)
{
    uint8_t acc[32];
    if (account_of(dest, acc) < 0)
        return GN_EINVAL;
    wr_t *w = wr_new(c, coldkey, wait, cb, arg);
    if (!w)
        return GN_ENOMEM;
    w->pallet = "Balances";
    w->fn = keep_alive ? "transfer_keep_alive" : "transfer_allow_death";
    w->amount = amount;
    w->keep_alive = keep_alive;
    snprintf(w->dest, sizeof(w->dest), "%s", dest);
    w->call = json_pack("{s:s,s:o}", "dest", dest, "value", json_u64(amount));
    json_t *qs = json_pack("[[s,s,[s]],[s,s,[s]]]", "System", "Account", w->signer, "System",
                           "Account", dest);
    return wr_start(w, wr_query(w, qs, xfer_accounts));
}

/* ---- add_stake / remove_stake ---- */

static void stake_go(wr_t *w, json_t *fee)
{
    uint64_t have = free_of(json_array_get(w->got, 3));
    uint64_t f = jnum(json_object_get(fee, "partial_fee"));
    json_decref(fee);
    if (have < sat_add(w->amount, f))
        wr_fail(w, GN_ERANGE,
                "not enough free balance to stake %s TAO: coldkey %s has %s TAO free (and the fee "
                "is %s TAO)",
                tao(w->amount).s, w->signer, tao(have).s, tao(f).s);
    else
        wr_submit(w, w->fn);
}

static void unstake_go(wr_t *w, json_t *info)
{
    /* Option<StakeInfo>: null when the coldkey never staked there */
    uint64_t stake = jnum(json_object_get(info, "stake"));
    json_decref(info);
    if (w->amount > stake)
        wr_fail(w, GN_ERANGE,
                "cannot remove %s alpha: coldkey %s has %s alpha staked on hotkey %s on subnet %u",
                tao(w->amount).s, w->signer, tao(stake).s, w->hotkey, w->netuid);
    else
        wr_submit(w, w->fn);
}

static void stake_checked(wr_t *w, json_t *r)
{
    w->got = r;
    bool exists = json_is_true(json_array_get(r, 0));
    bool started = json_is_true(json_array_get(r, 1));
    if (!exists) {
        wr_fail(w, GN_ENOENT, "subnet %u does not exist", w->netuid);
    } else if (account_is_none(json_array_get(r, 2))) {
        wr_fail(w, GN_ENOENT, "hotkey %s is not registered on any subnet (it has no owner)",
                w->hotkey);
    } else if (w->remove) {
        w->next = unstake_go;
        wr_started(w,
                   gn_subtensor_stake(w->c, w->signer, w->hotkey, w->netuid,
                                      w->at[0] ? w->at : NULL, wr_then, w),
                   "reading the stake");
    } else if (!started) {
        wr_fail(w, GN_EUNSUPPORTED,
                "subnet %u has not started (no start_call yet): staking opens when it does",
                w->netuid);
    } else {
        wr_started(w, wr_fee(w, stake_go), "estimating the fee");
    }
}

static int stake(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey, const char *hotkey,
                 uint16_t netuid, uint64_t amount, bool remove, gn_wait_t wait, gn_chain_cb cb,
                 void *arg)
{
    uint8_t acc[32];
    if (account_of(hotkey, acc) < 0 || amount == 0)
        return GN_EINVAL;
    wr_t *w = wr_new(c, coldkey, wait, cb, arg);
    if (!w)
        return GN_ENOMEM;
    w->netuid = netuid, w->amount = amount, w->remove = remove;
    w->fn = remove ? "remove_stake" : "add_stake";
    snprintf(w->hotkey, sizeof(w->hotkey), "%s", hotkey);
    w->call = json_pack("{s:s,s:i,s:o}", "hotkey", hotkey, "netuid", netuid,
                        remove ? "amount_unstaked" : "amount_staked", json_u64(amount));
    json_t *qs = json_pack("[[s,s,[i]],[s,s,[i]],[s,s,[s]],[s,s,[s]]]", "SubtensorModule",
                           "NetworksAdded", netuid, "SubtensorModule", "SubtokenEnabled", netuid,
                           "SubtensorModule", "Owner", hotkey, "System", "Account", w->signer);
    return wr_start(w, wr_query(w, qs, stake_checked));
}

int gn_subtensor_add_stake(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey, const char *hotkey,
                           uint16_t netuid, uint64_t amount, gn_wait_t wait, gn_chain_cb cb,
                           void *arg)
{
    return stake(c, coldkey, hotkey, netuid, amount, false, wait, cb, arg);
}

int gn_subtensor_remove_stake(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey,
                              const char *hotkey, uint16_t netuid, uint64_t amount, gn_wait_t wait,
                              gn_chain_cb cb, void *arg)
{
    return stake(c, coldkey, hotkey, netuid, amount, true, wait, cb, arg);
}

/* ---- commit-reveal (the hash-based kind: commit_weights then
 * reveal_weights, checked the way the runtime checks them) ---- */

/* The runtime's epoch of a block on a subnet: tempo + 1 blocks each,
 * offset by netuid + 1. */
static uint64_t epoch_of(const wr_t *w, uint64_t block)
{
    return (block + w->netuid + 1) / (w->tempo + 1);
}

/* The blocks in which a commit made at `block` can be revealed: the whole
 * epoch RevealPeriodEpochs after the commit's. */
static void reveal_range(const wr_t *w, uint64_t block, uint64_t *first, uint64_t *last)
{
    uint64_t e = epoch_of(w, block) + w->period;
    uint64_t off = (uint64_t)w->netuid + 1, start = e * (w->tempo + 1);
    *first = start > off ? start - off : 0;
    *last = *first + w->tempo;
}

static json_t *u16s(const uint16_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static void commit_finish(wr_t *w, json_t *receipt)
{
    char hex[67];
    gn_hex_encode(w->hash, 32, 1, hex, sizeof(hex));
    json_object_set_new(receipt, "commit_hash", json_string(hex));
    json_object_set_new(receipt, "uids", u16s(w->uids, w->n));
    json_object_set_new(receipt, "values", u16s(w->vals, w->n));
    json_object_set_new(receipt, "salt", u16s(w->salt, w->n_salt));
    json_object_set_new(receipt, "version_key", json_u64(w->version_key));
    json_t *b = json_object_get(receipt, "block_number");
    if (json_is_integer(b)) {
        uint64_t first, last;
        reveal_range(w, (uint64_t)json_integer_value(b), &first, &last);
        json_object_set_new(receipt, "reveal_from_block", json_u64(first));
        json_object_set_new(receipt, "reveal_until_block", json_u64(last));
    }
}

/* Answers of the reads both make, by index. */
enum { CR_ON, CR_UID, CR_COMMITS, CR_TEMPO, CR_PERIOD, CR_KEY, CR_MIN, CR_LIMIT, CR_LAST };

static bool cr_common(wr_t *w, json_t *r, const char *what)
{
    w->tempo = jnum(json_array_get(r, CR_TEMPO));
    w->period = jnum(json_array_get(r, CR_PERIOD));
    uint64_t min_key = jnum(json_array_get(r, CR_KEY));
    json_int_t min = json_integer_value(json_array_get(r, CR_MIN));
    if (!json_is_true(json_array_get(r, CR_ON))) {
        wr_fail(w, GN_EUNSUPPORTED,
                "subnet %u has commit-reveal weights off: nothing to %s (set weights directly)",
                w->netuid, what);
    } else if (!json_is_integer(json_array_get(r, CR_UID))) {
        wr_fail(w, GN_ENOENT, "hotkey %s is not registered on subnet %u", w->hotkey, w->netuid);
    } else if ((json_int_t)w->n < min) {
        wr_fail(w, GN_ERANGE,
                "min allowed weights: %zu non-zero weight(s) given, subnet %u requires %lld", w->n,
                w->netuid, (long long)min);
    } else if (min_key && w->version_key < min_key) {
        wr_fail(w, GN_ERANGE, "weights version key: %llu given, subnet %u requires >= %llu",
                (unsigned long long)w->version_key, w->netuid, (unsigned long long)min_key);
    } else {
        return true;
    }
    return false;
}

static void commit_checked(wr_t *w, json_t *r)
{
    if (!cr_common(w, r, "commit")) {
        json_decref(r);
        return;
    }
    uint64_t next = w->block + 1; /* the block the commit would land in */
    json_int_t uid = json_integer_value(json_array_get(r, CR_UID));
    uint64_t limit = jnum(json_array_get(r, CR_LIMIT));
    uint64_t last = jnum(json_array_get(json_array_get(r, CR_LAST), (size_t)uid));
    size_t live = 0, i;
    json_t *e;
    json_array_foreach (json_array_get(r, CR_COMMITS), i, e) {
        if (epoch_of(w, next) <= epoch_of(w, jnum(json_array_get(e, 1))) + w->period)
            live++;
    }
    json_decref(r);
    if (last > 0 && sat_sub(next, last) < limit) {
        wr_fail(w, GN_ERANGE,
                "weights rate limit: uid %lld last set or committed weights at block %llu, subnet "
                "%u allows once every %llu blocks, the next block is %llu (wait %llu more)",
                (long long)uid, (unsigned long long)last, w->netuid, (unsigned long long)limit,
                (unsigned long long)next, (unsigned long long)(limit - sat_sub(next, last)));
    } else if (live >= 10) {
        wr_fail(w, GN_ERANGE,
                "hotkey %s has %zu unrevealed commits on subnet %u, the most the runtime keeps: "
                "reveal or let them expire first",
                w->hotkey, live, w->netuid);
    } else {
        char hex[67];
        gn_hex_encode(w->hash, 32, 1, hex, sizeof(hex));
        w->call = json_pack("{s:i,s:s}", "netuid", w->netuid, "commit_hash", hex);
        w->finish = commit_finish;
        wr_submit(w, "commit_weights");
    }
}

static void reveal_checked(wr_t *w, json_t *r)
{
    if (!cr_common(w, r, "reveal")) {
        json_decref(r);
        return;
    }
    uint64_t next = w->block + 1, commit_block = 0;
    json_t *commits = json_array_get(r, CR_COMMITS), *e;
    size_t i, k = json_array_size(commits);
    bool found = false;
    char want[67];
    gn_hex_encode(w->hash, 32, 1, want, sizeof(want));
    json_array_foreach (commits, i, e) {
        const char *h = json_string_value(json_array_get(e, 0));
        if (h && !strcasecmp(h, want)) {
            found = true;
            commit_block = jnum(json_array_get(e, 1));
            break;
        }
    }
    json_decref(r);
    uint64_t first, last;
    reveal_range(w, commit_block, &first, &last);
    if (k == 0) {
        wr_fail(w, GN_ENOENT, "no weights commit of hotkey %s on subnet %u to reveal", w->hotkey,
                w->netuid);
    } else if (!found) {
        wr_fail(w, GN_ENOENT,
                "none of the %zu commit(s) of hotkey %s on subnet %u matches these weights, salt "
                "and version key (hash %s)",
                k, w->hotkey, w->netuid, want);
    } else if (epoch_of(w, next) > epoch_of(w, commit_block) + w->period) {
        wr_fail(w, GN_ERANGE,
                "the commit of block %llu has expired: it could be revealed in blocks %llu..%llu, "
                "the next block is %llu",
                (unsigned long long)commit_block, (unsigned long long)first,
                (unsigned long long)last, (unsigned long long)next);
    } else if (epoch_of(w, next) < epoch_of(w, commit_block) + w->period) {
        wr_fail(w, GN_ERANGE,
                "too early to reveal: the commit of block %llu can be revealed in blocks "
                "%llu..%llu (RevealPeriodEpochs %llu, tempo %llu), the next block is %llu (wait "
                "%llu more)",
                (unsigned long long)commit_block, (unsigned long long)first,
                (unsigned long long)last, (unsigned long long)w->period,
                (unsigned long long)w->tempo, (unsigned long long)next,
                (unsigned long long)sat_sub(first, next));
    } else {
        w->call = json_pack("{s:i,s:o,s:o,s:o,s:o}", "netuid", w->netuid, "uids",
                            u16s(w->uids, w->n), "values", u16s(w->vals, w->n), "salt",
                            u16s(w->salt, w->n_salt), "version_key", json_u64(w->version_key));
        wr_submit(w, "reveal_weights");
    }
}

static void cr_head(wr_t *w, json_t *head)
{
    wr_pin(w, head);
    const char *m = "SubtensorModule";
    json_t *qs = json_pack("[[s,s,[i]],[s,s,[i,s]],[s,s,[i,s]],[s,s,[i]],[s,s,[i]],[s,s,[i]],"
                           "[s,s,[i]],[s,s,[i]],[s,s,[i]]]",
                           m, "CommitRevealWeightsEnabled", w->netuid, m, "Uids", w->netuid,
                           w->hotkey, m, "WeightCommits", w->netuid, w->hotkey, m, "Tempo",
                           w->netuid, m, "RevealPeriodEpochs", w->netuid, m, "WeightsVersionKey",
                           w->netuid, m, "MinAllowedWeights", w->netuid, m, "WeightsSetRateLimit",
                           w->netuid, m, "LastUpdate", w->netuid);
    wr_started(w, wr_query(w, qs, w->reveal ? reveal_checked : commit_checked),
               "reading the subnet's commit-reveal state");
}

static int commit_reveal(gn_chain_t *c, const gn_sr25519_keypair_t *hotkey, uint16_t netuid,
                         const uint64_t *uids, const double *scores, size_t n, const uint16_t *salt,
                         size_t n_salt, uint64_t version_key, bool reveal, gn_wait_t wait,
                         gn_chain_cb cb, void *arg)
{
    if (!salt || n_salt == 0)
        return GN_EINVAL;
    wr_t *w = wr_new(c, hotkey, wait, cb, arg);
    if (!w)
        return GN_ENOMEM;
    w->uids = malloc((n ? n : 1) * sizeof(uint16_t));
    w->vals = malloc((n ? n : 1) * sizeof(uint16_t));
    w->salt = malloc(n_salt * sizeof(uint16_t));
    int rc = !w->uids || !w->vals || !w->salt
                 ? GN_ENOMEM
                 : gn_weights_for_emit(uids, scores, n, w->uids, w->vals, &w->n);
    if (rc == 0 && w->n == 0)
        rc = GN_EINVAL; /* all zero: nothing to commit */
    if (rc < 0) {
        wr_free(w);
        return rc;
    }
    memcpy(w->salt, salt, n_salt * sizeof(uint16_t));
    w->n_salt = n_salt;
    w->netuid = netuid, w->version_key = version_key, w->reveal = reveal;
    snprintf(w->hotkey, sizeof(w->hotkey), "%s", w->signer);
    if ((rc = gn_weights_commit_hash(hotkey->pub, netuid, w->uids, w->vals, w->n, w->salt,
                                     w->n_salt, version_key, w->hash)) < 0) {
        wr_free(w);
        return rc;
    }
    return wr_start(w, wr_head(w, cr_head));
}

int gn_subtensor_commit_weights(gn_chain_t *c, const gn_sr25519_keypair_t *hotkey, uint16_t netuid,
                                const uint64_t *uids, const double *scores, size_t n,
                                const uint16_t *salt, size_t n_salt, uint64_t version_key,
                                gn_wait_t wait, gn_chain_cb cb, void *arg)
{
    return commit_reveal(c, hotkey, netuid, uids, scores, n, salt, n_salt, version_key, false, wait,
                         cb, arg);
}

int gn_subtensor_reveal_weights(gn_chain_t *c, const gn_sr25519_keypair_t *hotkey, uint16_t netuid,
                                const uint64_t *uids, const double *scores, size_t n,
                                const uint16_t *salt, size_t n_salt, uint64_t version_key,
                                gn_wait_t wait, gn_chain_cb cb, void *arg)
{
    return commit_reveal(c, hotkey, netuid, uids, scores, n, salt, n_salt, version_key, true, wait,
                         cb, arg);
}

/* ---- register_network ---- */

static void net_finish(wr_t *w, json_t *receipt)
{
    (void)w;
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get(receipt, "events"), i, e) {
        const char *p = json_string_value(json_object_get(e, "pallet"));
        const char *ev = json_string_value(json_object_get(e, "event"));
        if (p && ev && !strcmp(p, "SubtensorModule") && !strcmp(ev, "NetworkAdded")) {
            /* NetworkAdded(netuid, mechanism) */
            json_t *f = json_object_get(e, "fields");
            json_t *id = json_is_array(f) ? json_array_get(f, 0) : NULL;
            if (json_is_integer(id))
                json_object_set(receipt, "netuid", id);
        }
    }
}

enum { NET_LIMIT, NET_LAST, NET_OWNER, NET_ACCOUNT };

static void net_cost(wr_t *w, json_t *cost)
{
    json_t *r = w->got;
    uint64_t next = w->block + 1, c = jnum(cost);
    uint64_t limit = jnum(json_array_get(r, NET_LIMIT)), last = jnum(json_array_get(r, NET_LAST));
    uint64_t have = free_of(json_array_get(r, NET_ACCOUNT));
    json_t *owner = json_array_get(r, NET_OWNER);
    json_decref(cost);
    if (!account_is_none(owner) && strcmp(json_string_value(owner), w->signer)) {
        wr_fail(w, GN_EEXIST, "hotkey %s belongs to coldkey %s, not to %s", w->hotkey,
                json_string_value(owner), w->signer);
    } else if (sat_sub(next, last) < limit) {
        wr_fail(w, GN_ERANGE,
                "network registration rate limit: the last subnet was registered at block %llu, "
                "the chain allows one every %llu blocks, the next block is %llu (wait %llu more)",
                (unsigned long long)last, (unsigned long long)limit, (unsigned long long)next,
                (unsigned long long)(limit - sat_sub(next, last)));
    } else if (have < c) {
        wr_fail(w, GN_ERANGE, "a subnet locks %s TAO now: coldkey %s has %s TAO free", tao(c).s,
                w->signer, tao(have).s);
    } else {
        w->finish = net_finish;
        wr_submit(w, "register_network");
    }
}

static void net_read(wr_t *w, json_t *r)
{
    w->got = r;
    w->next = net_cost;
    wr_started(w,
               gn_chain_runtime_call(w->c, "SubnetRegistrationRuntimeApi",
                                     "get_network_registration_cost", NULL, w->at, wr_then, w),
               "reading the subnet lock cost");
}

static void net_head(wr_t *w, json_t *head)
{
    wr_pin(w, head);
    json_t *qs = json_pack("[[s,s,[]],[s,s,[]],[s,s,[s]],[s,s,[s]]]", "SubtensorModule",
                           "NetworkRateLimit", "SubtensorModule", "NetworkLastRegistered",
                           "SubtensorModule", "Owner", w->hotkey, "System", "Account", w->signer);
    wr_started(w, wr_query(w, qs, net_read), "reading the network registration limits");
}

int gn_subtensor_register_network(gn_chain_t *c, const gn_sr25519_keypair_t *coldkey,
                                  const char *hotkey, gn_wait_t wait, gn_chain_cb cb, void *arg)
{
    uint8_t acc[32];
    if (account_of(hotkey, acc) < 0)
        return GN_EINVAL;
    wr_t *w = wr_new(c, coldkey, wait, cb, arg);
    if (!w)
        return GN_ENOMEM;
    snprintf(w->hotkey, sizeof(w->hotkey), "%s", hotkey);
    w->call = json_pack("{s:s}", "hotkey", hotkey);
    return wr_start(w, wr_head(w, net_head));
}
