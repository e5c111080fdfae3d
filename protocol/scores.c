/* A validator's scores and step state (include/ganglion/scores.h). */
#include "ganglion/scores.h"
#include "ganglion/error.h"
#include "msgpack_check.h"

#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* uids are u16: one past the largest */
#define MAX_UIDS   65536u
#define HOTKEY_MAX 48

/* ---- state ---- */

void gn_scores_init(gn_scores_t *s, uint16_t netuid)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->netuid = netuid;
}

static void clear_pending(gn_scores_t *s)
{
    free(s->pending_uids);
    free(s->pending_values);
    s->pending = false;
    s->pending_reveal_block = 0;
    s->n_pending = 0;
    s->pending_uids = NULL;
    s->pending_values = NULL;
    memset(s->pending_salt, 0, sizeof(s->pending_salt));
}

void gn_scores_free(gn_scores_t *s)
{
    if (!s)
        return;
    free(s->score);
    free(s->hotkey);
    free(s->weights_uids);
    free(s->weights_values);
    free(s->pending_uids);
    free(s->pending_values);
    memset(s, 0, sizeof(*s));
}

static double clamp01(double x)
{
    if (!isfinite(x) || x < 0)
        return 0;
    return x > 1 ? 1 : x;
}

int gn_scores_sync(gn_scores_t *s, const char *const *hotkeys, size_t n, size_t *reset)
{
    if (reset)
        *reset = 0;
    if (!s || (n && !hotkeys) || n > MAX_UIDS)
        return GN_EINVAL;
    /* new arrays first, so that a failed allocation leaves s as it was */
    double *score = NULL;
    char(*hk)[49] = NULL;
    if (n) {
        score = calloc(n, sizeof(*score));
        hk = calloc(n, sizeof(*hk));
        if (!score || !hk) {
            free(score);
            free(hk);
            return GN_ENOMEM;
        }
    }
    size_t resets = 0;
    for (size_t i = 0; i < n; i++) {
        const char *want = hotkeys[i] ? hotkeys[i] : "";
        size_t len = strnlen(want, HOTKEY_MAX);
        memcpy(hk[i], want, len);
        hk[i][len] = 0;
        if (i >= s->n)
            continue; /* a new uid starts at 0 */
        if (strcmp(s->hotkey[i], hk[i]) != 0)
            resets++; /* someone else holds the slot now: restart at 0 */
        else
            score[i] = s->score[i];
    }
    free(s->score);
    free(s->hotkey);
    s->score = score;
    s->hotkey = hk;
    s->n = n;
    if (reset)
        *reset = resets;
    return 0;
}

int gn_scores_update(gn_scores_t *s, const uint16_t *uids, const double *rewards, size_t k,
                     double alpha)
{
    if (!s || (k && (!uids || !rewards)) || !(alpha > 0 && alpha <= 1))
        return GN_EINVAL;
    for (size_t j = 0; j < k; j++) {
        if (uids[j] >= s->n)
            continue; /* the metagraph shrank since the query */
        double r = clamp01(rewards[j]);
        /* clamped again: rounding may step just past 1 */
        s->score[uids[j]] = clamp01(alpha * r + (1 - alpha) * s->score[uids[j]]);
    }
    return 0;
}

void gn_scores_normalize(const gn_scores_t *s, uint16_t *uids, double *weights, size_t *k)
{
    *k = 0;
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->score[i]) && s->score[i] > 0)
            sum += s->score[i];
    if (!(sum > 0))
        return;
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->score[i]) && s->score[i] > 0) {
            uids[*k] = (uint16_t)i;
            weights[*k] = s->score[i] / sum;
            (*k)++;
        }
}

/* Copies of k uids and values (NULL, NULL for k 0). */
static int copy_pairs(const uint16_t *uids, const double *values, size_t k, uint16_t **ou,
                      double **ov)
{
    *ou = NULL;
    *ov = NULL;
    if (!k)
        return 0;
    if (!uids || !values || k > MAX_UIDS)
        return GN_EINVAL;
    *ou = malloc(k * sizeof(**ou));
    *ov = malloc(k * sizeof(**ov));
    if (!*ou || !*ov) {
        free(*ou);
        free(*ov);
        *ou = NULL;
        *ov = NULL;
        return GN_ENOMEM;
    }
    memcpy(*ou, uids, k * sizeof(**ou));
    memcpy(*ov, values, k * sizeof(**ov));
    return 0;
}

static bool same_pairs(const uint16_t *ua, const double *va, size_t na, const uint16_t *ub,
                       const double *vb, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (ua[i] != ub[i] || fabs(va[i] - vb[i]) > 1e-12)
            return false;
    return true;
}

int gn_scores_set_weights(gn_scores_t *s, uint64_t block, const uint16_t *uids,
                          const double *values, size_t k)
{
    if (!s)
        return GN_EINVAL;
    uint16_t *u;
    double *v;
    int rc = copy_pairs(uids, values, k, &u, &v);
    if (rc < 0)
        return rc;
    /* a reveal of the pending commit sets the same weights */
    if (s->pending && same_pairs(s->pending_uids, s->pending_values, s->n_pending, u, v, k))
        clear_pending(s);
    free(s->weights_uids);
    free(s->weights_values);
    s->weights_uids = u;
    s->weights_values = v;
    s->n_weights = k;
    s->weights_block = block;
    return 0;
}

int gn_scores_set_pending(gn_scores_t *s, uint64_t reveal_block, const uint16_t *uids,
                          const double *values, size_t k, const uint16_t salt[8])
{
    if (!s || !salt)
        return GN_EINVAL;
    uint16_t *u;
    double *v;
    int rc = copy_pairs(uids, values, k, &u, &v);
    if (rc < 0)
        return rc;
    clear_pending(s);
    s->pending = true;
    s->pending_reveal_block = reveal_block;
    s->pending_uids = u;
    s->pending_values = v;
    s->n_pending = k;
    memcpy(s->pending_salt, salt, sizeof(s->pending_salt));
    return 0;
}

/* ---- encoding ---- */

static int pack_key(msgpack_packer *pk, const char *k)
{
    size_t n = strlen(k);
    return msgpack_pack_str(pk, n) | msgpack_pack_str_body(pk, k, n);
}

static int pack_pairs(msgpack_packer *pk, const char *ku, const char *kv, const uint16_t *u,
                      const double *v, size_t k)
{
    int rc = pack_key(pk, ku) | msgpack_pack_array(pk, k);
    for (size_t i = 0; i < k; i++)
        rc |= msgpack_pack_uint16(pk, u[i]);
    rc |= pack_key(pk, kv) | msgpack_pack_array(pk, k);
    for (size_t i = 0; i < k; i++)
        rc |= msgpack_pack_double(pk, v[i]);
    return rc;
}

static bool good_values(const double *v, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (!(v[i] >= 0 && v[i] <= 1)) /* NaN fails too */
            return false;
    return true;
}

#define N_KEYS 15

int gn_scores_encode(const gn_scores_t *s, uint8_t **out, size_t *len)
{
    if (!s || !out || !len || s->n > MAX_UIDS || s->n_weights > MAX_UIDS ||
        s->n_pending > MAX_UIDS || (s->n && (!s->score || !s->hotkey)) ||
        (s->n_weights && (!s->weights_uids || !s->weights_values)) ||
        (s->n_pending && (!s->pending_uids || !s->pending_values)))
        return GN_EINVAL;
    /* refuse what decode would refuse: the state must read back */
    if (!good_values(s->score, s->n) || !good_values(s->weights_values, s->n_weights) ||
        !good_values(s->pending_values, s->n_pending))
        return GN_EINVAL;
    for (size_t i = 0; i < s->n; i++)
        if (strnlen(s->hotkey[i], HOTKEY_MAX + 1) > HOTKEY_MAX)
            return GN_EINVAL;

    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = msgpack_pack_map(&pk, N_KEYS);
    rc |= pack_key(&pk, "v") | msgpack_pack_int(&pk, GN_SCORES_VERSION);
    rc |= pack_key(&pk, "netuid") | msgpack_pack_uint16(&pk, s->netuid);
    rc |= pack_key(&pk, "n") | msgpack_pack_uint64(&pk, s->n);
    rc |= pack_key(&pk, "step") | msgpack_pack_uint64(&pk, s->step);
    rc |= pack_key(&pk, "last_block") | msgpack_pack_uint64(&pk, s->last_block);
    rc |= pack_key(&pk, "score") | msgpack_pack_array(&pk, s->n);
    for (size_t i = 0; i < s->n; i++)
        rc |= msgpack_pack_double(&pk, s->score[i]);
    rc |= pack_key(&pk, "hotkey") | msgpack_pack_array(&pk, s->n);
    for (size_t i = 0; i < s->n; i++) {
        size_t hl = strlen(s->hotkey[i]);
        rc |= msgpack_pack_str(&pk, hl) | msgpack_pack_str_body(&pk, s->hotkey[i], hl);
    }
    rc |= pack_key(&pk, "weights_block") | msgpack_pack_uint64(&pk, s->weights_block);
    rc |= pack_pairs(&pk, "weights_uids", "weights_values", s->weights_uids, s->weights_values,
                     s->n_weights);
    rc |=
        pack_key(&pk, "pending") | (s->pending ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk));
    rc |= pack_key(&pk, "pending_reveal_block") | msgpack_pack_uint64(&pk, s->pending_reveal_block);
    rc |= pack_pairs(&pk, "pending_uids", "pending_values", s->pending_uids, s->pending_values,
                     s->n_pending);
    rc |= pack_key(&pk, "pending_salt") | msgpack_pack_array(&pk, 8);
    for (size_t i = 0; i < 8; i++)
        rc |= msgpack_pack_uint16(&pk, s->pending_salt[i]);
    if (rc != 0) { /* the only failure of an sbuffer write is its realloc */
        msgpack_sbuffer_destroy(&sb);
        return GN_ENOMEM;
    }
    *len = sb.size;
    *out = (uint8_t *)msgpack_sbuffer_release(&sb);
    return 0;
}

/* ---- decoding ---- */

/* Containers inside containers: the state needs 2 (arrays in the map). */
#define MAX_DEPTH 8

static bool key_is(const msgpack_object *k, const char *name)
{
    size_t n = strlen(name);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, name, n) == 0;
}

/* The helpers below return 0, GN_EPARSE or GN_ENOMEM. */
static int get_u64(const msgpack_object *o, uint64_t max, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
        return GN_EPARSE;
    *out = o->via.u64;
    return 0;
}

/* A number in [0, 1]. */
static int get_unit(const msgpack_object *o, double *out)
{
    double v;
    if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
        v = o->via.f64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= 1)
        v = (double)o->via.u64;
    else
        return GN_EPARSE;
    if (!(v >= 0 && v <= 1))
        return GN_EPARSE;
    *out = v;
    return 0;
}

static int get_array(const msgpack_object *o, const msgpack_object **items, size_t *n)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > MAX_UIDS)
        return GN_EPARSE;
    *items = o->via.array.ptr;
    *n = o->via.array.size;
    return 0;
}

static int get_units(const msgpack_object *o, double **out, size_t *n)
{
    const msgpack_object *a;
    if (get_array(o, &a, n) < 0)
        return GN_EPARSE;
    if (!*n)
        return 0;
    if (!(*out = malloc(*n * sizeof(**out))))
        return GN_ENOMEM;
    for (size_t i = 0; i < *n; i++)
        if (get_unit(&a[i], &(*out)[i]) < 0)
            return GN_EPARSE;
    return 0;
}

static int get_u16s(const msgpack_object *o, uint16_t **out, size_t *n)
{
    const msgpack_object *a;
    if (get_array(o, &a, n) < 0)
        return GN_EPARSE;
    if (!*n)
        return 0;
    if (!(*out = malloc(*n * sizeof(**out))))
        return GN_ENOMEM;
    for (size_t i = 0; i < *n; i++) {
        uint64_t v;
        if (get_u64(&a[i], UINT16_MAX, &v) < 0)
            return GN_EPARSE;
        (*out)[i] = (uint16_t)v;
    }
    return 0;
}

static int get_hotkeys(const msgpack_object *o, char (**out)[49], size_t *n)
{
    const msgpack_object *a;
    if (get_array(o, &a, n) < 0)
        return GN_EPARSE;
    if (!*n)
        return 0;
    if (!(*out = calloc(*n, sizeof(**out))))
        return GN_ENOMEM;
    for (size_t i = 0; i < *n; i++) {
        if (a[i].type != MSGPACK_OBJECT_STR || a[i].via.str.size > HOTKEY_MAX ||
            memchr(a[i].via.str.ptr, 0, a[i].via.str.size))
            return GN_EPARSE;
        memcpy((*out)[i], a[i].via.str.ptr, a[i].via.str.size);
    }
    return 0;
}

static const char *const KEYS[N_KEYS] = {
    "v",
    "netuid",
    "n",
    "step",
    "last_block",
    "score",
    "hotkey",
    "weights_block",
    "weights_uids",
    "weights_values",
    "pending",
    "pending_reveal_block",
    "pending_uids",
    "pending_values",
    "pending_salt",
};

/* The map into t (zeroed, freed by the caller on failure). */
static int from_map(const msgpack_object *root, gn_scores_t *t)
{
    const msgpack_object *val[N_KEYS] = {0};
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr[i];
        size_t k = 0;
        while (k < N_KEYS && !key_is(&kv->key, KEYS[k]))
            k++;
        if (k == N_KEYS || val[k]) /* unknown or repeated */
            return GN_EPARSE;
        val[k] = &kv->val;
    }
    for (size_t k = 0; k < N_KEYS; k++)
        if (!val[k])
            return GN_EPARSE;

    uint64_t netuid, n;
    size_t n_score, n_wv, n_pv;
    int rc;
    if ((rc = get_u64(val[1], UINT16_MAX, &netuid)) < 0 ||
        (rc = get_u64(val[2], MAX_UIDS, &n)) < 0 ||
        (rc = get_u64(val[3], UINT64_MAX, &t->step)) < 0 ||
        (rc = get_u64(val[4], UINT64_MAX, &t->last_block)) < 0 ||
        (rc = get_units(val[5], &t->score, &n_score)) < 0 ||
        (rc = get_hotkeys(val[6], &t->hotkey, &t->n)) < 0 ||
        (rc = get_u64(val[7], UINT64_MAX, &t->weights_block)) < 0 ||
        (rc = get_u16s(val[8], &t->weights_uids, &t->n_weights)) < 0 ||
        (rc = get_units(val[9], &t->weights_values, &n_wv)) < 0 ||
        (rc = get_u64(val[11], UINT64_MAX, &t->pending_reveal_block)) < 0 ||
        (rc = get_u16s(val[12], &t->pending_uids, &t->n_pending)) < 0 ||
        (rc = get_units(val[13], &t->pending_values, &n_pv)) < 0)
        return rc;
    /* the arrays agree with n and with each other */
    if (val[10]->type != MSGPACK_OBJECT_BOOLEAN || n_score != n || t->n != n ||
        n_wv != t->n_weights || n_pv != t->n_pending)
        return GN_EPARSE;
    t->netuid = (uint16_t)netuid;
    t->pending = val[10]->via.boolean;
    const msgpack_object *salt;
    size_t n_salt;
    if (get_array(val[14], &salt, &n_salt) < 0 || n_salt != 8)
        return GN_EPARSE;
    for (size_t i = 0; i < 8; i++) {
        uint64_t x;
        if (get_u64(&salt[i], UINT16_MAX, &x) < 0)
            return GN_EPARSE;
        t->pending_salt[i] = (uint16_t)x;
    }
    return 0;
}

int gn_scores_decode(const uint8_t *buf, size_t len, gn_scores_t *s)
{
    if (!s || (!buf && len))
        return GN_EINVAL;
    /* walked first: msgpack-c allocates a container's elements from its
     * header, so a 5-byte input could otherwise ask for gigabytes */
    if (!len || gn_msgpack_check(buf, len, MAX_DEPTH) < 0)
        return GN_EPARSE;
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 2048))
        return GN_ENOMEM;
    msgpack_object root;
    size_t off = 0;
    gn_scores_t t;
    memset(&t, 0, sizeof(t));
    int rc = GN_EPARSE;
    msgpack_unpack_return r = msgpack_unpack((const char *)buf, len, &off, &zone, &root);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR)
        rc = GN_ENOMEM;
    if (r != MSGPACK_UNPACK_SUCCESS || off != len || root.type != MSGPACK_OBJECT_MAP)
        goto fail;
    /* the version first: another version may hold other keys */
    const msgpack_object *v = NULL;
    for (uint32_t i = 0; i < root.via.map.size; i++)
        if (key_is(&root.via.map.ptr[i].key, "v")) {
            if (v)
                goto fail;
            v = &root.via.map.ptr[i].val;
        }
    if (!v ||
        (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER && v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER))
        goto fail;
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != GN_SCORES_VERSION) {
        rc = GN_EUNSUPPORTED;
        goto fail;
    }
    rc = from_map(&root, &t);
    if (rc < 0)
        goto fail;
    msgpack_zone_destroy(&zone);
    gn_scores_free(s);
    *s = t;
    return 0;
fail:
    msgpack_zone_destroy(&zone);
    gn_scores_free(&t);
    return rc;
}
