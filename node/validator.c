/* `ganglion validator`: every step, query the subnet's miners through the
 * dendrite with a task from the task source, score the answers, keep
 * moving averages; every epoch set the normalised scores as weights on
 * chain (commit, then reveal, when the subnet runs commit-reveal). The
 * scores and step state persist in state_dir after every step
 * (include/ganglion/scores.h), so a restart resumes them.
 *
 * Everything runs on the node's loop: the "validator" actor owns the state
 * and talks to the chain actor (Exec messages), the dendrite actor (Query)
 * and listens to the blocks and metagraph topics. */
#include "cli.h"
#include "config.h"
#include "node.h"

#include "ganglion/dendrite_actor.h"
#include "ganglion/error.h"
#include "ganglion/fs.h"
#include "ganglion/log.h"
#include "ganglion/scores.h"
#include "ganglion/subtensor.h"
#include "ganglion/subtensor_tx.h"
#include "ganglion/vplugin.h"

#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG "validator"

enum { T_STEP = 0x7601, T_SAVED };

static void saved_destroy(void *p);
static const gn_msg_type_t MSG_STEP = {T_STEP, "validator.Step", NULL};
static const gn_msg_type_t MSG_SAVED = {T_SAVED, "validator.Saved", saved_destroy};

typedef struct vstate vstate_t;

/* One miner of a step, as the snapshot had it. */
typedef struct {
    uint16_t uid, port;
    char ip[64], hotkey[49];
} miner_t;
static int open_plugins(vstate_t *v, char *err, size_t cap);

/* What a chain Exec is for, so its reply finds its way. */
typedef enum { X_NONE = 0, X_HYPER, X_SET, X_COMMIT, X_REVEAL } xkind_t;

struct vstate {
    gn_node_t *node;
    const gn_config_t *cfg;
    gn_actor_t *self, *dendrite;
    gn_dendrite_actor_t *dstate;
    gn_vplugin_t *source, *scorer; /* scorer == source when one spec serves both */
    gn_scores_t scores;
    gn_metagraph_t *mg; /* the newest snapshot (a reference) */
    char state_path[PATH_MAX + 32], step_path[PATH_MAX + 32];

    uint64_t head;  /* newest block seen */
    uint64_t timer; /* the step timer */
    double alpha, timeout_s;
    uint64_t max_steps, steps_here;
    size_t sample_size;

    /* hyperparameters */
    bool hp_known, commit_reveal;
    uint64_t tempo, rate_limit, hp_block;
    uint64_t next_weights_try; /* no weights attempt before this block */

    /* a step in flight */
    bool stepping;
    gn_vtask_t task;
    miner_t *q; /* the miners queried: copies, as a new snapshot may come mid-step */
    size_t q_n;
    uint64_t q_corr;
    json_t *q_results;

    /* chain writes and reads in flight */
    uint64_t x_corr[8];
    xkind_t x_kind[8];
    unsigned x_busy;     /* Exec requests awaiting replies */
    bool weights_busy;   /* a weights write among them */
    uint16_t *sent_uids; /* what the set_weights in flight sends */
    double *sent_vals;
    size_t sent_k;
    uint16_t sent_salt[8];
    unsigned saving; /* state writes on the thread pool */

    bool shutting_down; /* a signal: finish what is in flight, then stop */
    bool done_steps;    /* validator.max_steps reached: weights may still be written */
    bool waiting_logged;

    gn_counter_t *m_steps, *m_weights, *m_weights_failed;
    gn_gauge_t *m_last_block, *m_queried, *m_ok;
};

/* ---- small helpers ---- */

static void finish_shutdown(vstate_t *v)
{
    if ((v->shutting_down || v->done_steps) && !v->stepping && !v->x_busy && !v->saving)
        gn_node_stop(v->node);
}

static const json_t *own_neuron(const vstate_t *v)
{
    if (!v->mg)
        return NULL;
    size_t i;
    json_t *n;
    json_array_foreach (v->mg->neurons, i, n)
        if (!strcmp(json_string_value(json_object_get(n, "hotkey")) ?: "", v->node->hotkey_ss58))
            return n;
    return NULL;
}

/* ---- persistence (on the thread pool) ---- */

typedef struct {
    char path[PATH_MAX + 32];
    uint8_t *buf;
    size_t len;
    int status;
} save_t;

static void saved_destroy(void *p)
{
    save_t *s = p;
    free(s->buf);
    free(s);
}

static void *save_work(void *arg)
{
    save_t *s = arg;
    s->status = gn_fs_write_atomic(s->path, s->buf, s->len, true);
    return s;
}

static void save_bytes(vstate_t *v, const char *path, uint8_t *buf, size_t len)
{
    save_t *s = calloc(1, sizeof(*s));
    if (!s) {
        free(buf);
        return;
    }
    snprintf(s->path, sizeof(s->path), "%s", path);
    s->buf = buf;
    s->len = len;
    if (gn_actor_work(v->self, save_work, s, &MSG_SAVED) < 0) {
        GN_WARN(TAG, "cannot save %s", path);
        saved_destroy(s);
        return;
    }
    v->saving++;
}

static void save_state(vstate_t *v, json_t *last_step)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (gn_scores_encode(&v->scores, &buf, &len) == 0)
        save_bytes(v, v->state_path, buf, len);
    if (last_step) {
        char *text = json_dumps(last_step, JSON_COMPACT);
        if (text)
            save_bytes(v, v->step_path, (uint8_t *)text, strlen(text));
    }
}

/* ---- chain Exec requests ---- */

typedef struct {
    uint16_t netuid;
    gn_sr25519_keypair_t kp;
    uint64_t *uids;
    double *values;
    size_t n;
    uint16_t salt[8];
    uint64_t version_key;
} xarg_t;

static void xarg_free(void *p)
{
    xarg_t *a = p;
    sodium_memzero(&a->kp, sizeof(a->kp));
    free(a->uids);
    free(a->values);
    free(a);
}

static int x_hyper(gn_chain_t *c, gn_chain_cb cb, void *cb_arg, void *arg)
{
    xarg_t *a = arg;
    return gn_subtensor_hyperparams(c, a->netuid, NULL, cb, cb_arg);
}

static int x_set(gn_chain_t *c, gn_chain_cb cb, void *cb_arg, void *arg)
{
    xarg_t *a = arg;
    return gn_subtensor_set_weights(c, &a->kp, a->netuid, a->uids, a->values, a->n, a->version_key,
                                    GN_WAIT_IN_BLOCK, cb, cb_arg);
}

static int x_commit(gn_chain_t *c, gn_chain_cb cb, void *cb_arg, void *arg)
{
    xarg_t *a = arg;
    return gn_subtensor_commit_weights(c, &a->kp, a->netuid, a->uids, a->values, a->n, a->salt, 8,
                                       a->version_key, GN_WAIT_IN_BLOCK, cb, cb_arg);
}

static int x_reveal(gn_chain_t *c, gn_chain_cb cb, void *cb_arg, void *arg)
{
    xarg_t *a = arg;
    return gn_subtensor_reveal_weights(c, &a->kp, a->netuid, a->uids, a->values, a->n, a->salt, 8,
                                       a->version_key, GN_WAIT_IN_BLOCK, cb, cb_arg);
}

static int exec(vstate_t *v, xkind_t kind, gn_chain_exec_fn fn, xarg_t *a)
{
    unsigned slot = 0;
    while (slot < 8 && v->x_kind[slot] != X_NONE)
        slot++;
    if (slot == 8) {
        xarg_free(a);
        return GN_EFULL;
    }
    gn_chain_exec_t *e = gn_chain_exec_new(fn, a, xarg_free);
    gn_msg_t *m = e ? gn_msg_new(&GN_MSG_CHAIN_EXEC, e) : NULL;
    if (!m)
        return GN_ENOMEM;
    /* writes wait for a block: give them a minute and a half */
    int rc =
        gn_request(v->self, v->node->chain, m, kind == X_HYPER ? 30000 : 90000, &v->x_corr[slot]);
    if (rc < 0)
        return rc;
    v->x_kind[slot] = kind;
    v->x_busy++;
    if (kind != X_HYPER)
        v->weights_busy = true;
    return 0;
}

static xarg_t *xarg_new(vstate_t *v, const uint16_t *uids, const double *values, size_t n)
{
    xarg_t *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->netuid = v->node->netuid;
    a->kp = v->node->hotkey;
    int64_t vk = gn_config_int(v->cfg, "validator.version_key");
    a->version_key = vk > 0 ? (uint64_t)vk : GN_SUBTENSOR_VERSION_KEY;
    if (n) {
        a->uids = malloc(n * sizeof(*a->uids));
        a->values = malloc(n * sizeof(*a->values));
        if (!a->uids || !a->values) {
            xarg_free(a);
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            a->uids[i] = uids[i];
            a->values[i] = values[i];
        }
    }
    a->n = n;
    return a;
}

static void read_hyperparams(vstate_t *v)
{
    xarg_t *a = xarg_new(v, NULL, NULL, 0);
    if (!a || exec(v, X_HYPER, x_hyper, a) < 0)
        GN_WARN(TAG, "cannot read the subnet's hyperparameters");
    v->hp_block = v->head ? v->head : 1; /* no second read until 100 blocks on */
}

static uint64_t epoch_blocks(const vstate_t *v)
{
    int64_t e = gn_config_int(v->cfg, "validator.epoch_length");
    if (e > 0)
        return (uint64_t)e;
    return v->tempo ? v->tempo : 360;
}

/* Set (or commit, or reveal) weights when an epoch has passed. */
static void maybe_weights(vstate_t *v)
{
    if (gn_config_bool(v->cfg, "validator.disable_set_weights") || v->weights_busy ||
        v->shutting_down || !v->hp_known || !v->mg || v->head < v->next_weights_try)
        return;
    const json_t *me = own_neuron(v);
    if (!me) {
        GN_WARN(TAG, "hotkey %s is not registered on netuid %u: no weights set",
                v->node->hotkey_ss58, v->node->netuid);
        v->next_weights_try = v->head + epoch_blocks(v);
        return;
    }
    if (v->commit_reveal && v->scores.pending) {
        if (v->head + 1 < v->scores.pending_reveal_block)
            return;
        xarg_t *a =
            xarg_new(v, v->scores.pending_uids, v->scores.pending_values, v->scores.n_pending);
        if (a) {
            memcpy(a->salt, v->scores.pending_salt, sizeof(a->salt));
            GN_INFO(TAG, "revealing the weights committed for block %llu",
                    (unsigned long long)v->scores.pending_reveal_block);
            if (exec(v, X_REVEAL, x_reveal, a) < 0)
                GN_WARN(TAG, "cannot send the reveal");
        }
        return;
    }
    uint64_t last_update = (uint64_t)json_integer_value(json_object_get(me, "last_update"));
    uint64_t due = v->scores.weights_block ? v->scores.weights_block + epoch_blocks(v) : 0;
    if (last_update + v->rate_limit > due)
        due = last_update + v->rate_limit;
    if (v->head < due)
        return;
    uint16_t *uids = malloc((v->scores.n ? v->scores.n : 1) * sizeof(*uids));
    double *w = malloc((v->scores.n ? v->scores.n : 1) * sizeof(*w));
    size_t k = 0;
    if (uids && w)
        gn_scores_normalize(&v->scores, uids, w, &k);
    xarg_t *a = k ? xarg_new(v, uids, w, k) : NULL;
    if (a) {
        /* what is sent is kept until it lands: then the weights set, or
         * the pending commit (with its salt) */
        free(v->sent_uids);
        free(v->sent_vals);
        v->sent_uids = uids;
        v->sent_vals = w;
        v->sent_k = k;
        uids = NULL;
        w = NULL;
        if (v->commit_reveal)
            randombytes_buf(a->salt, sizeof(a->salt));
        memcpy(v->sent_salt, a->salt, sizeof(a->salt));
        GN_INFO(TAG, "%s weights for %zu uids at block %llu",
                v->commit_reveal ? "committing" : "setting", k, (unsigned long long)v->head);
        if (exec(v, v->commit_reveal ? X_COMMIT : X_SET, v->commit_reveal ? x_commit : x_set, a) <
            0)
            GN_WARN(TAG, "cannot send the weights");
    }
    free(uids);
    free(w);
}

static void on_exec_reply(vstate_t *v, unsigned slot, gn_msg_t *m)
{
    xkind_t kind = v->x_kind[slot];
    v->x_kind[slot] = X_NONE;
    v->x_busy--;
    gn_chain_result_t *r = m->type == &GN_MSG_CHAIN_RESULT ? m->payload : NULL;
    int status = r ? r->status : m->status ? m->status : GN_ETIMEDOUT;
    const char *error = r && r->error[0] ? r->error : gn_strerror(status);
    json_t *res = r ? r->result : NULL;
    if (kind == X_HYPER) {
        if (status == 0 && json_is_object(res)) {
            v->hp_known = true;
            v->tempo = (uint64_t)json_integer_value(json_object_get(res, "tempo"));
            v->rate_limit =
                (uint64_t)json_integer_value(json_object_get(res, "weights_rate_limit"));
            v->commit_reveal = json_is_true(json_object_get(res, "commit_reveal_weights_enabled"));
            GN_INFO(TAG, "netuid %u: tempo %llu, weights rate limit %llu, commit-reveal %s",
                    v->node->netuid, (unsigned long long)v->tempo,
                    (unsigned long long)v->rate_limit, v->commit_reveal ? "on" : "off");
            if (v->scores.step > 0)
                maybe_weights(v);
        } else {
            GN_WARN(TAG, "hyperparameters of netuid %u: %s", v->node->netuid, error);
            v->hp_block = 0; /* read again at the next step */
        }
        finish_shutdown(v);
        return;
    }
    v->weights_busy = false;
    if (status < 0) {
        gn_counter_inc(v->m_weights_failed);
        GN_WARN(TAG, "%s failed: %s",
                kind == X_SET      ? "set_weights"
                : kind == X_COMMIT ? "commit_weights"
                                   : "reveal_weights",
                error);
        v->next_weights_try = v->head + 2;
        v->hp_block = 0; /* the subnet's settings may have changed */
    } else if (kind == X_COMMIT) {
        uint64_t from = (uint64_t)json_integer_value(json_object_get(res, "reveal_from_block"));
        if (gn_scores_set_pending(&v->scores, from, v->sent_uids, v->sent_vals, v->sent_k,
                                  v->sent_salt) < 0)
            GN_WARN(TAG, "out of memory: the commit cannot be revealed");
        GN_INFO(TAG, "weights committed; reveal from block %llu",
                (unsigned long long)v->scores.pending_reveal_block);
        save_state(v, NULL);
    } else {
        /* the block the write landed in, from its receipt */
        json_int_t landed = json_integer_value(json_object_get(res, "block_number"));
        if (landed > 0 && (uint64_t)landed > v->head)
            v->head = (uint64_t)landed;
        if (kind == X_SET) {
            gn_scores_set_weights(&v->scores, v->head, v->sent_uids, v->sent_vals, v->sent_k);
        } else {
            /* copies: set_weights clears the pending commit they live in */
            size_t k = v->scores.n_pending;
            uint16_t *u = malloc((k ? k : 1) * sizeof(*u));
            double *w = malloc((k ? k : 1) * sizeof(*w));
            if (u && w) {
                memcpy(u, v->scores.pending_uids, k * sizeof(*u));
                memcpy(w, v->scores.pending_values, k * sizeof(*w));
                gn_scores_set_weights(&v->scores, v->head, u, w, k);
            }
            v->scores.pending = false;
            free(u);
            free(w);
        }
        gn_counter_inc(v->m_weights);
        GN_INFO(TAG, "weights %s at block %llu for %zu uids", kind == X_REVEAL ? "revealed" : "set",
                (unsigned long long)v->head, v->scores.n_weights);
        save_state(v, NULL);
    }
    finish_shutdown(v);
}

/* ---- a step: task -> query -> score -> update ---- */

static void step_clear(vstate_t *v)
{
    gn_vtask_clear(&v->task);
    memset(&v->task, 0, sizeof(v->task));
    free(v->q);
    v->q = NULL;
    v->q_n = 0;
    json_decref(v->q_results);
    v->q_results = NULL;
    v->stepping = false;
}

static void step_fail(vstate_t *v, const char *what, const char *error)
{
    GN_WARN(TAG, "step %llu: %s: %s", (unsigned long long)v->scores.step + 1, what,
            error ? error : "failed");
    step_clear(v);
    finish_shutdown(v);
}

static json_t *status_of(const json_t *res, const char *key)
{
    return json_object_get(json_object_get(res, "dendrite"), key);
}

static void scored(int status, const double *rewards, size_t n, const char *error, void *arg)
{
    vstate_t *v = arg;
    if (!v->stepping)
        return;
    if (status < 0 || n != v->q_n) {
        step_fail(v, "scoring", status < 0 ? error : "the scorer's count differs");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (gn_scores_update(&v->scores, &v->q[i].uid, &rewards[i], 1, v->alpha) < 0) {
            step_fail(v, "scores", "update refused");
            return;
        }
    v->scores.step++;
    v->scores.last_block = v->head;
    v->steps_here++;
    size_t ok = 0;
    json_t *queried = json_array();
    for (size_t i = 0; i < n; i++) {
        const json_t *res = json_array_get(v->q_results, i);
        int code = (int)json_integer_value(status_of(res, "status_code"));
        ok += code == 200;
        json_t *pt = status_of(res, "process_time");
        json_array_append_new(
            queried, json_pack("{s:i,s:s,s:i,s:s,s:O,s:f,s:f}", "uid", (int)v->q[i].uid, "hotkey",
                               v->q[i].hotkey, "status", code, "message",
                               json_string_value(status_of(res, "status_message")) ?: "",
                               "process_time", pt ? pt : json_null(), "reward", rewards[i], "score",
                               v->q[i].uid < v->scores.n ? v->scores.score[v->q[i].uid] : 0.0));
    }
    json_t *last = json_pack("{s:I,s:I,s:o}", "step", (json_int_t)v->scores.step, "block",
                             (json_int_t)v->head, "queried", queried);
    GN_INFO(TAG, "step %llu at block %llu: %zu queried, %zu answered 200",
            (unsigned long long)v->scores.step, (unsigned long long)v->head, n, ok);
    gn_counter_inc(v->m_steps);
    gn_gauge_set(v->m_last_block, (double)v->head);
    gn_gauge_set(v->m_queried, (double)n);
    gn_gauge_set(v->m_ok, (double)ok);
    save_state(v, last);
    json_decref(last);
    step_clear(v);
    maybe_weights(v);
    if (v->max_steps && v->steps_here >= v->max_steps && !v->done_steps) {
        GN_INFO(TAG, "%llu steps done (validator.max_steps)", (unsigned long long)v->max_steps);
        v->done_steps = true;
        gn_actor_timer_stop(v->self, v->timer);
    }
    finish_shutdown(v);
}

static void on_query_result(vstate_t *v, gn_msg_t *m)
{
    gn_dendrite_result_msg_t *r = m->type == &GN_MSG_DENDRITE_RESULT ? m->payload : NULL;
    if (!r || m->status < 0 || !json_is_array(r->results)) {
        step_fail(v, "query", gn_strerror(m->status ? m->status : GN_ETIMEDOUT));
        return;
    }
    v->q_results = json_incref(r->results);
    int rc = gn_vplugin_score(v->scorer, &v->task, v->q_results, scored, v);
    if (rc < 0)
        step_fail(v, "scoring", gn_strerror(rc));
}

static void got_task(int status, gn_vtask_t *task, const char *error, void *arg)
{
    vstate_t *v = arg;
    if (!v->stepping) {
        if (status == 0)
            gn_vtask_clear(task);
        return;
    }
    if (status < 0) {
        step_fail(v, "task source", error);
        return;
    }
    v->task = *task;
    memset(task, 0, sizeof(*task));
    gn_dendrite_target_t *t = calloc(v->q_n, sizeof(*t));
    if (!t) {
        step_fail(v, "query", "out of memory");
        return;
    }
    for (size_t i = 0; i < v->q_n; i++)
        t[i] = (gn_dendrite_target_t){
            .ip = v->q[i].ip, .port = v->q[i].port, .hotkey = v->q[i].hotkey};
    double timeout = v->task.timeout_s > 0 ? v->task.timeout_s : v->timeout_s;
    json_t *syn = json_deep_copy(v->task.synapse);
    gn_dendrite_query_msg_t *q =
        syn ? gn_dendrite_query_msg_new(t, v->q_n, v->task.cls, syn, timeout, false) : NULL;
    free(t);
    gn_msg_t *m = q ? gn_msg_new(&GN_MSG_DENDRITE_QUERY, q) : NULL;
    int rc = m ? gn_request(v->self, v->dendrite, m, (uint64_t)(timeout * 1000) + 10000, &v->q_corr)
               : GN_ENOMEM;
    if (rc < 0)
        step_fail(v, "query", gn_strerror(rc));
}

/* The miners to query: every neuron serving an axon but this validator,
 * or a random sample of them. */
static size_t pick_targets(vstate_t *v)
{
    size_t cap = json_array_size(v->mg->neurons), k = 0;
    v->q = calloc(cap ? cap : 1, sizeof(*v->q));
    if (!v->q)
        return 0;
    size_t i;
    json_t *n;
    json_array_foreach (v->mg->neurons, i, n) {
        const json_t *ax = json_object_get(n, "axon_info");
        const char *ip = json_string_value(json_object_get(ax, "ip_text"));
        const char *hk = json_string_value(json_object_get(n, "hotkey"));
        json_int_t port = json_integer_value(json_object_get(ax, "port"));
        json_int_t uid = json_integer_value(json_object_get(n, "uid"));
        if (!ip || !hk || port <= 0 || port > 65535 || !strcmp(ip, "0.0.0.0") || uid < 0 ||
            uid > 65535 || strlen(hk) > 48 || strlen(ip) >= sizeof(v->q[k].ip) ||
            !strcmp(hk, v->node->hotkey_ss58))
            continue;
        miner_t *m = &v->q[k++];
        m->uid = (uint16_t)uid;
        m->port = (uint16_t)port;
        snprintf(m->ip, sizeof(m->ip), "%s", ip);
        snprintf(m->hotkey, sizeof(m->hotkey), "%s", hk);
    }
    /* a partial Fisher-Yates shuffle picks the sample */
    if (v->sample_size && v->sample_size < k) {
        for (size_t j = 0; j < v->sample_size; j++) {
            size_t r = j + randombytes_uniform((uint32_t)(k - j));
            miner_t tmp = v->q[j];
            v->q[j] = v->q[r];
            v->q[r] = tmp;
        }
        k = v->sample_size;
    }
    return k;
}

static void step(vstate_t *v)
{
    if (v->shutting_down || v->done_steps)
        return;
    if (!v->hp_known && !v->x_busy)
        read_hyperparams(v);
    else if (v->hp_known && v->head >= v->hp_block + 100 && !v->x_busy)
        read_hyperparams(v);
    if (!v->mg) {
        gn_node_progress(v->node, "waiting for the first metagraph sync", false);
        v->waiting_logged = true;
        return;
    }
    maybe_weights(v); /* a reveal may be due, or a failed write may retry */
    if (v->stepping) {
        GN_DEBUG(TAG, "a step is still running: this one is skipped");
        return;
    }
    v->stepping = true;
    v->q_n = pick_targets(v);
    if (!v->q_n) {
        GN_INFO(TAG, "no miner serves an axon on netuid %u yet", v->node->netuid);
        step_clear(v);
        return;
    }
    int rc = gn_vplugin_task(v->source, v->scores.step + 1, got_task, v);
    if (rc < 0)
        step_fail(v, "task source", gn_strerror(rc));
}

/* ---- the actor ---- */

static void apply_snapshot(vstate_t *v, gn_metagraph_t *mg)
{
    if (v->mg)
        gn_shared_unref(&v->mg->hdr);
    v->mg = mg;
    if (v->waiting_logged) {
        gn_node_progress(v->node, "first metagraph sync", true);
        v->waiting_logged = false;
    }
    if (mg->block > v->head)
        v->head = mg->block;
    size_t n = 0, i;
    json_t *x;
    json_array_foreach (mg->neurons, i, x) {
        json_int_t uid = json_integer_value(json_object_get(x, "uid"));
        if (uid >= 0 && uid < 65536 && (size_t)uid + 1 > n)
            n = (size_t)uid + 1;
    }
    const char **hk = calloc(n ? n : 1, sizeof(*hk));
    if (!hk)
        return;
    json_array_foreach (mg->neurons, i, x) {
        json_int_t uid = json_integer_value(json_object_get(x, "uid"));
        if (uid >= 0 && (size_t)uid < n)
            hk[uid] = json_string_value(json_object_get(x, "hotkey"));
    }
    for (size_t u = 0; u < n; u++)
        if (!hk[u])
            hk[u] = "";
    size_t reset = 0;
    if (gn_scores_sync(&v->scores, hk, n, &reset) == 0 && reset)
        GN_INFO(TAG, "%zu uid(s) changed hotkey: their scores start again from 0", reset);
    free(hk);
}

static int handle(gn_actor_t *a, gn_msg_t *m)
{
    vstate_t *v = gn_actor_state(a);
    if (m->is_reply) {
        if (v->stepping && m->corr == v->q_corr) {
            on_query_result(v, m);
            return 0;
        }
        for (unsigned s = 0; s < 8; s++)
            if (v->x_kind[s] != X_NONE && v->x_corr[s] == m->corr) {
                on_exec_reply(v, s, m);
                return 0;
            }
        return 0;
    }
    if (m->type == &MSG_STEP) {
        step(v);
    } else if (m->type == &GN_MSG_CHAIN_BLOCK) {
        gn_chain_block_t *b = m->payload;
        if (!b->finalized && b->number > v->head)
            v->head = b->number;
    } else if (m->type == &GN_MSG_METAGRAPH) {
        gn_metagraph_t *mg = m->payload;
        if (mg->netuid == v->node->netuid) {
            m->payload = NULL; /* the reference is kept */
            apply_snapshot(v, mg);
        }
    } else if (m->type == &MSG_SAVED) {
        save_t *s = m->payload;
        v->saving--;
        if (s->status < 0)
            GN_WARN(TAG, "saving %s: %s", s->path, gn_strerror(s->status));
        finish_shutdown(v);
    }
    return 0;
}

static int start(gn_actor_t *a)
{
    vstate_t *v = gn_actor_state(a);
    v->self = a;
    double every = gn_config_float(v->cfg, "validator.step_interval");
    uint64_t ms = (uint64_t)(every * 1000.0);
    char err[256];
    int rc = v->source ? 0 : open_plugins(v, err, sizeof(err));
    if (rc < 0) {
        GN_ERROR(TAG, "task source or scorer: %s", err);
        return rc;
    }
    rc = gn_actor_timer(a, 200, ms ? ms : 1, &MSG_STEP, &v->timer);
    if (rc < 0)
        return rc;
    gn_msg_t *m = gn_msg_new(&GN_MSG_METAGRAPH_SYNC, NULL);
    if (m)
        gn_post(v->node->metagraph, m);
    return 0;
}

/* The plug-ins hold handles on the loop: closed while it still runs (the
 * ordered stop), reopened by start after a restart. */
static void close_plugins(vstate_t *v)
{
    if (v->scorer && v->scorer != v->source)
        gn_vplugin_close(v->scorer);
    gn_vplugin_close(v->source);
    v->scorer = v->source = NULL;
}

static int open_plugins(vstate_t *v, char *err, size_t cap)
{
    uv_loop_t *loop = gn_loop_uv(v->node->loop);
    const char *src = gn_config_str(v->cfg, "validator.task");
    const char *scr = gn_config_str(v->cfg, "validator.scorer");
    int rc = gn_vplugin_open(loop, src, "null", &v->source, err, cap);
    if (rc < 0) {
        v->source = NULL;
        return rc;
    }
    v->scorer = v->source;
    if (scr[0] && strcmp(scr, src)) {
        rc = gn_vplugin_open(loop, scr, "null", &v->scorer, err, cap);
        if (rc < 0) {
            v->scorer = NULL;
            close_plugins(v);
            return rc;
        }
    }
    return 0;
}

static void vstop(gn_actor_t *a)
{
    vstate_t *v = gn_actor_state(a);
    step_clear(v);
    close_plugins(v);
}

static void on_shutdown(gn_node_t *n, void *arg)
{
    vstate_t *v = arg;
    (void)n;
    GN_INFO(TAG, "stopping: finishing the step and writes in flight");
    v->shutting_down = true;
    gn_actor_timer_stop(v->self, v->timer);
    finish_shutdown(v);
}

static bool healthy(void *arg, char *why, size_t cap)
{
    vstate_t *v = arg;
    if (!v->mg) {
        snprintf(why, cap, "no metagraph yet");
        return false;
    }
    snprintf(why, cap, "step %llu at block %llu", (unsigned long long)v->scores.step,
             (unsigned long long)v->scores.last_block);
    return true;
}

static void load_state(vstate_t *v)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = gn_fs_read(v->state_path, 64u << 20, &buf, &len);
    if (rc == GN_ENOENT)
        return;
    gn_scores_t s;
    gn_scores_init(&s, v->node->netuid);
    if (rc == 0)
        rc = gn_scores_decode(buf, len, &s);
    free(buf);
    if (rc < 0) {
        GN_WARN(TAG, "%s: %s: starting with fresh scores", v->state_path, gn_strerror(rc));
        gn_scores_free(&s);
        return;
    }
    if (s.netuid != v->node->netuid) {
        GN_WARN(TAG, "%s holds netuid %u, not %u: starting with fresh scores", v->state_path,
                s.netuid, v->node->netuid);
        gn_scores_free(&s);
        return;
    }
    gn_scores_free(&v->scores);
    v->scores = s;
    GN_INFO(TAG, "resumed at step %llu (%zu uids) from %s", (unsigned long long)s.step, s.n,
            v->state_path);
}

static void metrics_init(vstate_t *v)
{
    gn_metrics_t *m = v->node->metrics;
    v->m_steps = gn_metrics_counter(m, "ganglion_validator_steps_total", "Steps completed.", NULL);
    v->m_weights = gn_metrics_counter(m, "ganglion_validator_weights_total",
                                      "Weights set or revealed on chain.", NULL);
    v->m_weights_failed = gn_metrics_counter(m, "ganglion_validator_weights_failed_total",
                                             "Weight writes refused or failed.", NULL);
    v->m_last_block = gn_metrics_gauge(m, "ganglion_validator_last_step_block",
                                       "The block of the last step.", NULL);
    v->m_queried =
        gn_metrics_gauge(m, "ganglion_validator_last_step_queried", "Miners queried.", NULL);
    v->m_ok = gn_metrics_gauge(m, "ganglion_validator_last_step_ok",
                               "Miners that answered 200 in the last step.", NULL);
}

static int validator_state_cmd(int argc, char **argv);

int gn_cmd_validator(int argc, char **argv)
{
    if (argc > 0 && !strcmp(argv[0], "state"))
        return validator_state_cmd(argc - 1, argv + 1);
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: ganglion validator [--config FILE] [--key value...]\n"
                   "       ganglion validator state [--state_dir DIR | the same keys]\n"
                   "Every step: query the subnet's miners, score them; every epoch: set weights\n"
                   "(docs/validator.md). Keys (flags; YAML; GANGLION_* variables):\n");
            gn_config_help(stdout, "validator");
            return GN_EXIT_OK;
        }
    char err[512];
    gn_config_t *cfg = NULL;
    int rc = gn_config_load("validator", argc, argv, NULL, &cfg, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "ganglion: validator: %s\n", err);
        return GN_EXIT_USAGE;
    }
    gn_node_t node;
    memset(&node, 0, sizeof(node));
    vstate_t *v = calloc(1, sizeof(*v));
    int exit_code = GN_EXIT_FAIL;
    if (!v)
        goto fail;
    if (gn_node_open(&node, "validator", cfg) < 0)
        goto fail;
    v->node = &node;
    v->cfg = cfg;
    v->alpha = gn_config_float(cfg, "validator.alpha");
    v->timeout_s = gn_config_float(cfg, "validator.timeout");
    v->max_steps = (uint64_t)gn_config_int(cfg, "validator.max_steps");
    v->sample_size = (size_t)gn_config_int(cfg, "validator.sample_size");
    gn_scores_init(&v->scores, node.netuid);
    snprintf(v->state_path, sizeof(v->state_path), "%s/validator_state.msgpack", node.state_dir);
    snprintf(v->step_path, sizeof(v->step_path), "%s/last_step.json", node.state_dir);
    load_state(v);

    if ((rc = open_plugins(v, err, sizeof(err))) < 0) {
        fprintf(stderr, "ganglion: validator: task source or scorer: %s\n", err);
        exit_code = GN_EXIT_USAGE;
        goto fail;
    }

    gn_dendrite_opts_t dopts;
    memset(&dopts, 0, sizeof(dopts));
    dopts.hotkey = &node.hotkey;
    const char *ext = gn_config_str(cfg, "axon.external_ip");
    dopts.external_ip = ext[0] ? ext : NULL;
    if (gn_dendrite_actor_spawn(node.loop, &dopts, &v->dstate, &v->dendrite) < 0) {
        fprintf(stderr, "ganglion: validator: cannot start the dendrite\n");
        goto fail;
    }
    gn_metrics_add_collector(node.metrics, gn_dendrite_metrics_collector, v->dstate);
    metrics_init(v);

    static const gn_actor_spec_t spec = {
        .name = "validator", .handle = handle, .start = start, .stop = vstop};
    gn_actor_t *self = NULL;
    if (gn_actor_spawn(node.loop, &spec, v, &self) < 0)
        goto fail;
    gn_topic_subscribe(node.blocks, self);
    gn_topic_subscribe(node.snapshots, self);
    node.on_shutdown = on_shutdown;
    node.shutdown_arg = v;
    if (gn_config_int(cfg, "metrics.port") > 0 && gn_node_serve_metrics(&node, healthy, v) < 0) {
        fprintf(stderr, "ganglion: validator: cannot serve metrics on port %lld\n",
                (long long)gn_config_int(cfg, "metrics.port"));
        goto fail;
    }
    exit_code = gn_node_run(&node) == 0 ? GN_EXIT_OK : GN_EXIT_FAIL;

fail:
    if (v && v->source && !v->self)
        close_plugins(v); /* never spawned: gn_loop_free runs the loop once more */
    gn_node_close(&node);
    if (v) {
        gn_dendrite_actor_free(v->dstate);
        if (v->mg)
            gn_shared_unref(&v->mg->hdr);
        step_clear(v);
        gn_scores_free(&v->scores);
        free(v->sent_uids);
        free(v->sent_vals);
        free(v);
    }
    gn_config_free(cfg);
    return exit_code;
}

/* ---- `ganglion validator state` ---- */

static int validator_state_cmd(int argc, char **argv)
{
    char err[512], dir[PATH_MAX];
    gn_config_t *cfg = NULL;
    int rc = gn_config_load("validator", argc, argv, NULL, &cfg, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "ganglion: validator state: %s\n", err);
        return GN_EXIT_USAGE;
    }
    rc = gn_node_state_dir(cfg, "validator", dir, sizeof(dir));
    if (rc < 0) {
        gn_config_free(cfg);
        fprintf(stderr, "ganglion: validator state: the state dir: %s (give --state_dir)\n",
                gn_strerror(rc));
        return GN_EXIT_FAIL;
    }
    gn_config_free(cfg);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/validator_state.msgpack", dir);
    uint8_t *buf = NULL;
    size_t len = 0;
    gn_scores_t s;
    gn_scores_init(&s, 0);
    if ((rc = gn_fs_read(path, 64u << 20, &buf, &len)) < 0 ||
        (rc = gn_scores_decode(buf, len, &s)) < 0) {
        free(buf);
        gn_scores_free(&s);
        fprintf(stderr, "ganglion: validator state: %s: %s\n", path, gn_strerror(rc));
        return GN_EXIT_FAIL;
    }
    free(buf);
    json_t *scores = json_array(), *wu = json_array(), *wv = json_array();
    for (size_t u = 0; u < s.n; u++)
        json_array_append_new(scores, json_pack("{s:I,s:s,s:f}", "uid", (json_int_t)u, "hotkey",
                                                s.hotkey[u], "score", s.score[u]));
    for (size_t i = 0; i < s.n_weights; i++) {
        json_array_append_new(wu, json_integer(s.weights_uids[i]));
        json_array_append_new(wv, json_real(s.weights_values[i]));
    }
    json_t *out = json_pack("{s:i,s:I,s:I,s:o,s:{s:I,s:o,s:o},s:b}", "netuid", (int)s.netuid,
                            "step", (json_int_t)s.step, "last_block", (json_int_t)s.last_block,
                            "scores", scores, "weights", "block", (json_int_t)s.weights_block,
                            "uids", wu, "values", wv, "commit_pending", (int)s.pending);
    if (s.pending)
        json_object_set_new(out, "reveal_from_block",
                            json_integer((json_int_t)s.pending_reveal_block));
    snprintf(path, sizeof(path), "%s/last_step.json", dir);
    json_t *last = json_load_file(path, 0, NULL);
    json_object_set_new(out, "last_step", last ? last : json_null());
    gn_scores_free(&s);
    char *text = json_dumps(out, JSON_INDENT(2));
    json_decref(out);
    if (!text)
        return GN_EXIT_FAIL;
    puts(text);
    free(text);
    return GN_EXIT_OK;
}
