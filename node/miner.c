/* `ganglion miner`: serve synapses to the subnet's validators.
 *
 * On the node's loop (node.h) the "miner" actor:
 *   1. checks that the hotkey is registered on the netuid (chain Exec of
 *      gn_subtensor_uid); not registered: exit 1 with what to do, or with
 *      --miner.register a burned registration paid by the coldkey (loaded
 *      only then, on the thread pool, and wiped right after);
 *   2. serves the axon (built-ins, .so plug-ins, external workers), its
 *      policy and priority fed by every metagraph snapshot; until the
 *      first snapshot the policy refuses every caller that has to be
 *      registered (the axon knows no neuron yet);
 *   3. publishes the axon on chain (serve_axon, only when it changed);
 *   4. on SIGTERM stops the axon, then the worker pool, waits for a chain
 *      write in flight, then stops the node.
 * A restart serves at once when the persisted snapshot holds the hotkey:
 * the chain's answer, when it comes, is still the authority. */
#include "cli.h"
#include "config.h"
#include "node.h"

#include "ganglion/axon.h"
#include "ganglion/error.h"
#include "ganglion/log.h"
#include "ganglion/plugin.h"
#include "ganglion/subtensor.h"
#include "ganglion/subtensor_tx.h"
#include "ganglion/worker.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG "miner"

enum { T_TICK = 0x6d01, T_RETRY_UID, T_RETRY_SERVE, T_COLD, T_SHUTDOWN };

typedef struct cold {
    int rc;
    gn_sr25519_keypair_t kp;
    char path[PATH_MAX], name[256];
} cold_t;

static void cold_free(void *p)
{
    if (p) {
        sodium_memzero(p, sizeof(cold_t));
        free(p);
    }
}

static const gn_msg_type_t MSG_TICK = {T_TICK, "miner.Tick", NULL};
static const gn_msg_type_t MSG_RETRY_UID = {T_RETRY_UID, "miner.RetryUid", NULL};
static const gn_msg_type_t MSG_RETRY_SERVE = {T_RETRY_SERVE, "miner.RetryServe", NULL};
static const gn_msg_type_t MSG_COLD = {T_COLD, "miner.Coldkey", cold_free};
static const gn_msg_type_t MSG_SHUTDOWN = {T_SHUTDOWN, "miner.Shutdown", NULL};

/* A chain Exec's arguments (the keypair of writes is wiped with it). */
typedef enum { X_UID = 0, X_REGISTER, X_SERVE, X_N } xkind_t;
typedef struct {
    xkind_t kind;
    uint16_t netuid;
    char hotkey[49];
    gn_sr25519_keypair_t kp;
    char ip[64];
    uint16_t port;
} xarg_t;

typedef struct miner {
    gn_node_t *n;
    const gn_config_t *cfg;
    gn_actor_t *self;
    char ext_ip[64];
    uint16_t ext_port;

    gn_axon_t *ax;
    gn_axon_t *draining; /* the axon while it drains (stop_axon) */
    gn_worker_pool_t *pool;
    gn_plugin_t **plugins;
    size_t n_plugins;
    gn_metagraph_t *mg; /* the newest snapshot (a reference) */

    bool registered; /* the chain said so */
    int64_t uid;
    bool in_live;   /* a live snapshot held the hotkey */
    bool reg_tried; /* one registration per run */
    bool served;    /* serve_axon answered (submitted or unchanged) */
    uint64_t uid_backoff, serve_backoff;
    uint64_t corr[X_N];
    bool busy[X_N];
    bool cold_busy;

    bool shutting_down, axon_stopping, pool_closing, stop_sent;
    int exit_code;

    uint64_t tick, wait_start;
    bool progress_shown;
    const char *progress_what;

    gn_gauge_t *g_registered, *g_serving, *g_uid;
} miner_t;

/* ---- chain Exec ---- */

static void xarg_free(void *p)
{
    if (p) {
        sodium_memzero(p, sizeof(xarg_t));
        free(p);
    }
}

static int x_run(gn_chain_t *c, gn_chain_cb cb, void *cb_arg, void *arg)
{
    xarg_t *x = arg;
    switch (x->kind) {
    case X_UID: return gn_subtensor_uid(c, x->netuid, x->hotkey, NULL, cb, cb_arg);
    case X_REGISTER:
        return gn_subtensor_register(c, &x->kp, x->netuid, x->hotkey, GN_WAIT_IN_BLOCK, cb, cb_arg);
    case X_SERVE:
        return gn_subtensor_serve_axon(c, &x->kp, x->netuid, x->ip, x->port, GN_AXON_VERSION,
                                       GN_WAIT_IN_BLOCK, cb, cb_arg);
    default: return GN_EINVAL;
    }
}

/* Send x (taken) to the chain actor; the reply comes to handle(). */
static int exec(miner_t *m, xarg_t *x, uint64_t timeout_ms)
{
    xkind_t kind = x->kind;
    gn_chain_exec_t *e = gn_chain_exec_new(x_run, x, xarg_free);
    if (!e)
        return GN_ENOMEM;
    gn_msg_t *msg = gn_msg_new(&GN_MSG_CHAIN_EXEC, e);
    if (!msg)
        return GN_ENOMEM;
    int rc = gn_request(m->self, m->n->chain, msg, timeout_ms, &m->corr[kind]);
    if (rc == 0)
        m->busy[kind] = true;
    return rc;
}

static xarg_t *xarg_new(miner_t *m, xkind_t kind)
{
    xarg_t *x = calloc(1, sizeof(*x));
    if (x) {
        x->kind = kind;
        x->netuid = m->n->netuid;
        snprintf(x->hotkey, sizeof(x->hotkey), "%s", m->n->hotkey_ss58);
    }
    return x;
}

/* ---- stopping ---- */

static void maybe_finish(miner_t *m)
{
    if (!m->shutting_down || m->stop_sent || m->ax || m->axon_stopping || m->pool ||
        m->busy[X_REGISTER] || m->busy[X_SERVE] || m->cold_busy)
        return;
    m->stop_sent = true;
    gn_node_stop(m->n);
}

/* Callbacks of the axon and the pool run on the loop thread between the
 * actor's messages, so they touch its state as a handler would. */
static void pool_closed(void *arg)
{
    miner_t *m = arg;
    m->pool = NULL;
    m->pool_closing = false;
    maybe_finish(m);
}

static void axon_stopped(void *arg)
{
    miner_t *m = arg;
    m->axon_stopping = false;
    gn_gauge_set(m->g_serving, 0);
    /* the axon's handlers pointed into the pool: close it only now */
    if (m->pool && !m->pool_closing) {
        m->pool_closing = true;
        gn_worker_pool_close(m->pool, pool_closed, m);
    }
    maybe_finish(m);
}

static void axon_drained(void *arg)
{
    miner_t *m = arg;
    m->draining = NULL;
    axon_stopped(m);
}

/* On SIGTERM the axon drains: what it received is answered and written
 * (its handlers may still use the pool), new connections are refused; it
 * ends by itself a second before node.grace_period, so the pool and the
 * node can still stop cleanly. When the loop stops (the grace period ran
 * out, a second signal: miner_stop sets stop_sent first), a drain still
 * running is cut short. */
static void stop_axon(miner_t *m)
{
    if (m->stop_sent && m->draining) {
        gn_axon_stop(m->draining, NULL, NULL); /* axon_drained follows */
        return;
    }
    if (m->ax && !m->axon_stopping) {
        gn_axon_t *ax = m->ax;
        m->ax = NULL;
        m->axon_stopping = true;
        if (m->stop_sent) {
            gn_axon_stop(ax, axon_stopped, m);
            return;
        }
        double grace = gn_config_float(m->cfg, "node.grace_period");
        double deadline = grace > 2 ? grace - 1 : grace / 2;
        m->draining = ax;
        gn_axon_drain(ax, deadline, axon_drained, m);
    } else if (!m->ax && !m->axon_stopping && m->pool && !m->pool_closing) {
        m->pool_closing = true;
        gn_worker_pool_close(m->pool, pool_closed, m);
    }
}

static void shutdown_now(miner_t *m, int exit_code)
{
    if (exit_code && !m->exit_code)
        m->exit_code = exit_code;
    if (m->shutting_down)
        return;
    m->shutting_down = true;
    if (m->tick) {
        gn_actor_timer_stop(m->self, m->tick);
        m->tick = 0;
    }
    stop_axon(m);
    maybe_finish(m);
}

/* ---- the axon ---- */

static int attach_all(miner_t *m, gn_axon_t *ax)
{
    size_t n = 0;
    const char *const *h = gn_config_list(m->cfg, "miner.handlers", &n);
    /* the built-ins come as a pair (gn_axon_attach_builtins) */
    bool builtins = false;
    for (size_t i = 0; i < n; i++)
        builtins |= !strcmp(h[i], "Dummy") || !strcmp(h[i], "StreamingDummy");
    int rc = builtins ? gn_axon_attach_builtins(ax) : 0;
    if (rc < 0) {
        GN_ERROR(TAG, "attaching the built-in handlers: %s", gn_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < m->n_plugins; i++) {
        if ((rc = gn_plugin_attach(ax, m->plugins[i])) < 0) {
            GN_ERROR(TAG, "plug-in %s: a synapse it serves is already served (%s)",
                     gn_plugin_table(m->plugins[i])->name, gn_strerror(rc));
            return rc;
        }
    }
    size_t nw = 0;
    const char *const *w = gn_config_list(m->cfg, "miner.workers", &nw);
    if (nw) {
        if (!m->pool &&
            (rc = gn_worker_pool_open(gn_loop_uv(m->n->loop), w, nw, NULL, &m->pool)) < 0) {
            GN_ERROR(TAG, "worker pool: %s", gn_strerror(rc));
            return rc;
        }
        if ((rc = gn_worker_attach(ax, m->pool)) < 0) {
            GN_ERROR(TAG, "attaching the workers: %s", gn_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int start_axon(miner_t *m)
{
    if (m->ax || m->axon_stopping || m->shutting_down)
        return 0;
    const gn_config_t *c = m->cfg;
    gn_axon_opts_t o = {
        .ip = gn_config_str(c, "axon.ip"),
        .port = (uint16_t)gn_config_int(c, "axon.port"),
        .hotkey = &m->n->hotkey,
        .external_ip = m->ext_ip[0] ? m->ext_ip : NULL,
        .external_port = m->ext_port,
        .max_workers = (unsigned)gn_config_int(c, "axon.max_workers"),
        .per_hotkey_rate = gn_config_float(c, "miner.per_hotkey_rate"),
        .policy =
            {
                .registered_only = !gn_config_bool(c, "miner.allow_non_registered"),
                .require_permit = gn_config_bool(c, "miner.require_validator_permit"),
                .min_stake = (uint64_t)(gn_config_float(c, "miner.min_stake") * 1e9),
            },
        .metrics = m->n->metrics,
    };
    gn_axon_t *ax = NULL;
    int rc = gn_axon_start(gn_loop_uv(m->n->loop), &o, &ax);
    if (rc < 0) {
        GN_ERROR(TAG, "cannot serve the axon on %s:%u: %s", o.ip, (unsigned)o.port,
                 gn_strerror(rc));
        return rc;
    }
    m->ax = ax;
    if ((rc = attach_all(m, ax)) < 0)
        return rc; /* the caller shuts down, which stops the axon */
    if (m->mg)
        gn_axon_set_neurons(ax, m->mg->neurons);
    gn_gauge_set(m->g_serving, 1);
    GN_INFO(TAG, "axon serving on %s:%u (external %s:%u)%s", o.ip, (unsigned)gn_axon_port(ax),
            m->ext_ip[0] ? m->ext_ip : "-", (unsigned)m->ext_port,
            m->mg ? ""
            : o.policy.registered_only || o.policy.require_permit || o.policy.min_stake
                ? "; callers are refused until the first metagraph snapshot"
                : "");
    return 0;
}

static void serve_on_chain(miner_t *m)
{
    if (m->served || m->busy[X_SERVE] || m->shutting_down || !m->registered ||
        !gn_config_bool(m->cfg, "miner.serve_axon"))
        return;
    xarg_t *x = xarg_new(m, X_SERVE);
    if (!x)
        return;
    x->kp = m->n->hotkey;
    snprintf(x->ip, sizeof(x->ip), "%s", m->ext_ip);
    x->port = m->ext_port;
    if (exec(m, x, 180000) < 0)
        GN_WARN(TAG, "cannot send serve_axon to the chain actor");
}

/* Registered (by the chain, or by a snapshot at start): serve. */
static void serve(miner_t *m)
{
    if (start_axon(m) < 0) {
        shutdown_now(m, 1);
        return;
    }
    serve_on_chain(m);
}

/* ---- registration ---- */

static void check_uid(miner_t *m)
{
    xarg_t *x = xarg_new(m, X_UID);
    if (!x || exec(m, x, 60000) < 0)
        GN_WARN(TAG, "cannot send the registration check to the chain actor");
}

static void retry_later(miner_t *m, uint64_t *backoff, uint64_t min_ms, uint64_t max_ms,
                        const gn_msg_type_t *type)
{
    *backoff = *backoff ? *backoff * 2 : min_ms;
    if (*backoff > max_ms)
        *backoff = max_ms;
    uint64_t id;
    gn_actor_timer(m->self, *backoff, 0, type, &id);
}

static void *load_coldkey(void *arg)
{
    cold_t *c = arg;
    /* the password: btwallet's BT_PW_<path> variable, else the terminal */
    c->rc = gn_cli_wallet_keypair(c->path, c->name, NULL, true, NULL, &c->kp);
    return c;
}

static void not_registered(miner_t *m)
{
    const gn_node_t *n = m->n;
    if (gn_config_bool(m->cfg, "miner.register") && !m->reg_tried) {
        m->reg_tried = true;
        GN_INFO(TAG,
                "hotkey %s is not registered on netuid %u: registering it (burned "
                "registration paid by the coldkey of wallet %s)",
                n->hotkey_ss58, (unsigned)n->netuid, gn_config_str(m->cfg, "wallet.name"));
        cold_t *c = calloc(1, sizeof(*c));
        if (c) {
            snprintf(c->path, sizeof(c->path), "%s", gn_config_str(m->cfg, "wallet.path"));
            snprintf(c->name, sizeof(c->name), "%s", gn_config_str(m->cfg, "wallet.name"));
        }
        if (c && gn_actor_work(m->self, load_coldkey, c, &MSG_COLD) == 0) {
            m->cold_busy = true;
            return;
        }
        cold_free(c);
        GN_ERROR(TAG, "cannot load the coldkey: out of memory");
        shutdown_now(m, 1);
        return;
    }
    GN_ERROR(TAG,
             "hotkey %s is not registered on netuid %u: register it (ganglion register --netuid "
             "%u --wallet.name %s --wallet.hotkey %s) or run with --miner.register",
             n->hotkey_ss58, (unsigned)n->netuid, (unsigned)n->netuid,
             gn_config_str(m->cfg, "wallet.name"), gn_config_str(m->cfg, "wallet.hotkey"));
    shutdown_now(m, 1);
}

static void on_coldkey(miner_t *m, cold_t *c)
{
    m->cold_busy = false;
    if (m->shutting_down) {
        maybe_finish(m);
        return;
    }
    if (c->rc < 0) {
        GN_ERROR(TAG,
                 "--miner.register: cannot load the coldkey of wallet %s (%s); an encrypted "
                 "coldkey needs its password in btwallet's BT_PW_<path> variable or a terminal",
                 c->name, gn_strerror(c->rc));
        shutdown_now(m, 1);
        return;
    }
    xarg_t *x = xarg_new(m, X_REGISTER);
    if (x)
        x->kp = c->kp;
    sodium_memzero(&c->kp, sizeof(c->kp));
    if (!x || exec(m, x, 180000) < 0) {
        GN_ERROR(TAG, "cannot send the registration to the chain actor");
        shutdown_now(m, 1);
    }
}

/* ---- chain answers ---- */

static const char *receipt_error(const json_t *r, char *buf, size_t cap)
{
    const json_t *e = json_object_get(r, "error");
    snprintf(buf, cap, "%s%s%s", json_string_value(json_object_get(e, "pallet")) ?: "",
             json_object_get(e, "pallet") ? "." : "",
             json_string_value(json_object_get(e, "name")) ?: "the extrinsic failed");
    return buf;
}

static void on_reply(miner_t *m, xkind_t kind, gn_msg_t *msg)
{
    m->busy[kind] = false;
    gn_chain_result_t *r = msg->type == &GN_MSG_CHAIN_RESULT ? msg->payload : NULL;
    int status = r ? r->status : msg->status ? msg->status : GN_ETIMEDOUT;
    const char *error = r && r->error[0] ? r->error : gn_strerror(status);
    json_t *res = r ? r->result : NULL;
    char buf[256];
    if (status == 0 && json_is_false(json_object_get(res, "success"))) {
        status = GN_EREJECTED;
        error = receipt_error(res, buf, sizeof(buf));
    }
    gn_node_t *n = m->n;
    switch (kind) {
    case X_UID:
        if (m->shutting_down)
            break;
        if (status < 0) {
            retry_later(m, &m->uid_backoff, 1000, 30000, &MSG_RETRY_UID);
            GN_WARN(TAG, "registration check on %s failed: %s; again in %llu s", n->endpoint, error,
                    (unsigned long long)(m->uid_backoff / 1000));
            break;
        }
        m->uid_backoff = 0;
        if (!json_is_true(json_object_get(res, "registered"))) {
            m->registered = false;
            gn_gauge_set(m->g_registered, 0);
            not_registered(m);
            break;
        }
        m->registered = true;
        m->uid = json_integer_value(json_object_get(res, "uid"));
        gn_gauge_set(m->g_registered, 1);
        gn_gauge_set(m->g_uid, (double)m->uid);
        GN_INFO(TAG, "hotkey %s is registered on netuid %u as uid %lld", n->hotkey_ss58,
                (unsigned)n->netuid, (long long)m->uid);
        serve(m);
        break;
    case X_REGISTER:
        if (status < 0) {
            GN_ERROR(TAG, "registering hotkey %s on netuid %u failed: %s", n->hotkey_ss58,
                     (unsigned)n->netuid, error);
            shutdown_now(m, 1);
            break;
        }
        if (json_is_true(json_object_get(res, "already")))
            GN_INFO(TAG, "hotkey %s was already registered", n->hotkey_ss58);
        else
            GN_INFO(TAG, "registered hotkey %s on netuid %u in block %lld", n->hotkey_ss58,
                    (unsigned)n->netuid,
                    (long long)json_integer_value(json_object_get(res, "block_number")));
        if (m->shutting_down) {
            maybe_finish(m);
            break;
        }
        /* the new uid, and a snapshot that holds it */
        gn_msg_t *sync = gn_msg_new(&GN_MSG_METAGRAPH_SYNC, NULL);
        if (sync)
            gn_post(n->metagraph, sync);
        check_uid(m);
        break;
    case X_SERVE:
        if (status < 0) {
            if (!m->shutting_down) {
                retry_later(m, &m->serve_backoff, 12000, 600000, &MSG_RETRY_SERVE);
                GN_WARN(TAG, "serve_axon %s:%u failed: %s; again in %llu s", m->ext_ip,
                        (unsigned)m->ext_port, error,
                        (unsigned long long)(m->serve_backoff / 1000));
            }
        } else {
            m->served = true;
            m->serve_backoff = 0;
            if (json_is_true(json_object_get(res, "unchanged")))
                GN_INFO(TAG, "axon %s:%u already on chain", m->ext_ip, (unsigned)m->ext_port);
            else
                GN_INFO(TAG, "axon %s:%u published on chain in block %lld", m->ext_ip,
                        (unsigned)m->ext_port,
                        (long long)json_integer_value(json_object_get(res, "block_number")));
        }
        maybe_finish(m);
        break;
    default: break;
    }
}

/* ---- snapshots ---- */

static bool holds(const gn_metagraph_t *g, const char *hotkey)
{
    size_t i;
    json_t *nn;
    json_array_foreach (g->neurons, i, nn)
        if (!strcmp(json_string_value(json_object_get(nn, "hotkey")) ?: "", hotkey))
            return true;
    return false;
}

static void on_snapshot(miner_t *m, gn_metagraph_t *g)
{
    gn_node_t *n = m->n;
    if (g->netuid != n->netuid)
        return;
    bool first = !m->mg;
    if (m->mg)
        gn_shared_unref(&m->mg->hdr);
    m->mg = (gn_metagraph_t *)gn_shared_ref(&g->hdr);
    if (m->ax)
        gn_axon_set_neurons(m->ax, g->neurons);
    bool in = holds(g, n->hotkey_ss58);
    GN_DEBUG(TAG, "metagraph of netuid %u at block %llu%s: %zu neurons", (unsigned)n->netuid,
             (unsigned long long)g->block, g->from_disk ? " (persisted)" : "",
             json_array_size(g->neurons));
    if (first)
        GN_INFO(TAG, "metagraph at block %llu%s: %zu neurons", (unsigned long long)g->block,
                g->from_disk ? " (persisted, until the first sync)" : "",
                json_array_size(g->neurons));
    if (m->shutting_down)
        return;
    if (!g->from_disk && in)
        m->in_live = true;
    if (!g->from_disk && !in && m->in_live) {
        GN_ERROR(TAG, "hotkey %s was deregistered from netuid %u (metagraph at block %llu)",
                 n->hotkey_ss58, (unsigned)n->netuid, (unsigned long long)g->block);
        shutdown_now(m, 1);
        return;
    }
    /* a restart: the persisted snapshot vouches for the hotkey until the
     * chain answers (which may say otherwise and stop the miner) */
    if (in && !m->ax && !m->registered) {
        GN_INFO(TAG,
                "serving from the metagraph snapshot of block %llu while the chain check "
                "is pending",
                (unsigned long long)g->block);
        if (start_axon(m) < 0)
            shutdown_now(m, 1);
    }
}

/* ---- progress ---- */

static void tick(miner_t *m)
{
    uint64_t now = uv_now(gn_loop_uv(m->n->loop));
    const char *what = NULL;
    char line[600];
    if (m->cold_busy || m->busy[X_REGISTER])
        what = "registering the hotkey";
    else if (!m->registered && !m->ax)
        what = "waiting for the chain to check the registration";
    else if (!m->mg)
        what = "waiting for the first metagraph sync";
    if (!what) {
        if (m->progress_shown)
            gn_node_progress(m->n, m->progress_what, true);
        m->progress_shown = false;
        gn_actor_timer_stop(m->self, m->tick);
        m->tick = 0;
        return;
    }
    if (m->progress_what != what) {
        if (m->progress_shown)
            gn_node_progress(m->n, m->progress_what, true);
        m->progress_what = what;
        m->progress_shown = false;
        m->wait_start = now;
    }
    if (now - m->wait_start < 2000)
        return; /* short waits say nothing */
    snprintf(line, sizeof(line), "%s (%s, %llu s)", what, m->n->endpoint,
             (unsigned long long)((now - m->wait_start) / 1000));
    gn_node_progress(m->n, line, false);
    m->progress_shown = true;
}

/* ---- the actor ---- */

static int miner_start(gn_actor_t *a)
{
    miner_t *m = gn_actor_state(a);
    m->self = a;
    if (m->shutting_down)
        return 0;
    m->wait_start = uv_now(gn_loop_uv(m->n->loop));
    gn_actor_timer(a, 1000, 1000, &MSG_TICK, &m->tick);
    check_uid(m);
    return 0;
}

static void miner_stop(gn_actor_t *a)
{
    miner_t *m = gn_actor_state(a);
    /* the loop is stopping (the grace period ran out, a second signal):
     * whatever still runs stops now */
    m->shutting_down = true;
    m->stop_sent = true;
    stop_axon(m);
}

static int miner_handle(gn_actor_t *a, gn_msg_t *msg)
{
    miner_t *m = gn_actor_state(a);
    if (msg->is_reply) {
        for (int k = 0; k < X_N; k++)
            if (m->busy[k] && msg->corr == m->corr[k]) {
                on_reply(m, (xkind_t)k, msg);
                break;
            }
        return 0;
    }
    if (msg->type == &GN_MSG_METAGRAPH) {
        on_snapshot(m, msg->payload);
        return 0;
    }
    switch (msg->type->id) {
    case T_TICK: tick(m); break;
    case T_RETRY_UID:
        if (!m->shutting_down && !m->busy[X_UID])
            check_uid(m);
        break;
    case T_RETRY_SERVE: serve_on_chain(m); break;
    case T_COLD: on_coldkey(m, msg->payload); break;
    case T_SHUTDOWN:
        GN_INFO(TAG, "stopping the axon%s",
                m->busy[X_REGISTER] || m->busy[X_SERVE]
                    ? " and waiting for the chain write in flight"
                    : "");
        shutdown_now(m, 0);
        break;
    default: break;
    }
    return 0;
}

static void on_shutdown(gn_node_t *n, void *arg)
{
    miner_t *m = arg;
    gn_msg_t *msg = gn_msg_new(&MSG_SHUTDOWN, NULL);
    if (!msg || gn_post(m->self, msg) < 0)
        gn_node_stop(n);
}

/* ---- the command ---- */

static bool unspecified_ip(const char *ip)
{
    return !ip[0] || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::") || !strcmp(ip, "[::]");
}

/* Checks that need no chain: the external address, the handlers. */
static int check_config(const gn_config_t *c, miner_t *m)
{
    const char *ext = gn_config_str(c, "axon.external_ip");
    const char *ip = gn_config_str(c, "axon.ip");
    if (!unspecified_ip(ext))
        snprintf(m->ext_ip, sizeof(m->ext_ip), "%s", ext);
    else if (!unspecified_ip(ip))
        snprintf(m->ext_ip, sizeof(m->ext_ip), "%s", ip);
    else if (gn_config_bool(c, "miner.serve_axon")) {
        fprintf(stderr,
                "ganglion: miner: the axon listens on %s: give the address validators reach it "
                "at with --axon.external_ip (or --no-miner.serve_axon to publish nothing)\n",
                ip);
        return GN_EXIT_USAGE;
    }
    int64_t ep = gn_config_int(c, "axon.external_port");
    m->ext_port = (uint16_t)(ep > 0 ? ep : gn_config_int(c, "axon.port"));
    size_t n = 0;
    const char *const *h = gn_config_list(c, "miner.handlers", &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i], "Dummy") && strcmp(h[i], "StreamingDummy")) {
            fprintf(stderr,
                    "ganglion: miner: miner.handlers: unknown built-in handler '%s' (Dummy, "
                    "StreamingDummy; other synapses come from --miner.plugins or "
                    "--miner.workers)\n",
                    h[i]);
            return GN_EXIT_USAGE;
        }
    size_t np = 0, nw = 0;
    gn_config_list(c, "miner.plugins", &np);
    gn_config_list(c, "miner.workers", &nw);
    if (!n && !np && !nw)
        fprintf(stderr, "ganglion: miner: warning: no handlers (miner.handlers, miner.plugins, "
                        "miner.workers): the axon answers only the Synapse ping\n");
    return 0;
}

static int load_plugins(miner_t *m)
{
    size_t n = 0;
    const char *const *p = gn_config_list(m->cfg, "miner.plugins", &n);
    if (!n)
        return 0;
    m->plugins = calloc(n, sizeof(*m->plugins));
    if (!m->plugins)
        return GN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char err[512] = "";
        int rc = gn_plugin_load(p[i], "null", &m->plugins[m->n_plugins], err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "ganglion: miner: plug-in %s: %s\n", p[i],
                    err[0] ? err : gn_strerror(rc));
            return rc;
        }
        GN_INFO(TAG, "plug-in %s loaded from %s", gn_plugin_table(m->plugins[m->n_plugins])->name,
                p[i]);
        m->n_plugins++;
    }
    return 0;
}

static const char MINER_USAGE[] =
    "usage: ganglion miner [--config FILE] [--key value ...]\n"
    "  --netuid N --wallet.name W --wallet.hotkey H [--wallet.path P]\n"
    "  --subtensor.network NAME | --subtensor.chain_endpoint URL\n"
    "  --axon.ip IP --axon.port P [--axon.external_ip IP] [--axon.external_port P]\n"
    "  [--miner.register] [--miner.require_validator_permit] [--miner.min_stake TAO]\n"
    "  [--miner.allow_non_registered] [--miner.handlers Dummy,StreamingDummy]\n"
    "  [--miner.plugins a.so,...] [--miner.workers /run/w.sock,...] [--no-miner.serve_axon]\n"
    "  [--state_dir DIR] [--node.grace_period S] [--logging.debug|--logging.trace]\n"
    "  [--logging.format auto|human|json] [--logging.record_log]\n"
    "Every key, its default and its source: ganglion config show --role miner [flags]\n"
    "See docs/miner.md.\n";

int gn_cmd_miner(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(MINER_USAGE, stdout);
            return GN_EXIT_OK;
        }
    gn_config_t *cfg = NULL;
    char err[1024] = "";
    int rc = gn_config_load("miner", argc, argv, NULL, &cfg, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "ganglion: miner: %s\n", err[0] ? err : gn_strerror(rc));
        return GN_EXIT_USAGE;
    }
    miner_t *m = calloc(1, sizeof(*m));
    gn_node_t *n = calloc(1, sizeof(*n));
    int exit_code = GN_EXIT_FAIL;
    if (!m || !n) {
        fprintf(stderr, "ganglion: miner: out of memory\n");
        goto done;
    }
    m->cfg = cfg;
    m->n = n;
    if ((rc = check_config(cfg, m)) != 0) {
        exit_code = rc;
        goto done;
    }
    if (gn_node_open(n, "miner", cfg) < 0)
        goto close;
    if (load_plugins(m) < 0)
        goto close;
    m->g_registered = gn_metrics_gauge(n->metrics, "ganglion_miner_registered",
                                       "1 when the chain says the hotkey is registered", NULL);
    m->g_serving =
        gn_metrics_gauge(n->metrics, "ganglion_miner_serving", "1 while the axon serves", NULL);
    m->g_uid = gn_metrics_gauge(n->metrics, "ganglion_miner_uid", "The miner's uid", NULL);
    static const gn_actor_spec_t spec = {.name = "miner",
                                         .handle = miner_handle,
                                         .start = miner_start,
                                         .stop = miner_stop,
                                         .mailbox_cap = 1024,
                                         .max_restarts = 3};
    gn_actor_t *actor = NULL;
    if ((rc = gn_actor_spawn(n->loop, &spec, m, &actor)) < 0 ||
        (rc = gn_topic_subscribe(n->snapshots, actor)) < 0) {
        fprintf(stderr, "ganglion: miner: %s\n", gn_strerror(rc));
        goto close;
    }
    m->self = actor;
    n->on_shutdown = on_shutdown;
    n->shutdown_arg = m;
    rc = gn_node_run(n);
    exit_code = rc != 0 ? GN_EXIT_FAIL : m->exit_code ? GN_EXIT_FAIL : GN_EXIT_OK;
close:
    gn_node_close(n); /* the loop is freed: the axon and its handlers are gone */
    if (m->mg)
        gn_shared_unref(&m->mg->hdr);
    for (size_t i = 0; i < m->n_plugins; i++)
        gn_plugin_unload(m->plugins[i]);
    free(m->plugins);
done:
    free(m);
    free(n);
    gn_config_free(cfg);
    return exit_code;
}
