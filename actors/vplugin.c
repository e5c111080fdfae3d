/* The validator's task sources and scorers (include/ganglion/vplugin.h,
 * docs/validator.md): the built-in Dummy, .so plugins and workers. */
#include "ganglion/vplugin.h"
#include "ganglion/axon.h"
#include "ganglion/error.h"
#include "ganglion/log.h"
#include "ganglion/worker.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#define TAG             "vplugin"
#define WORKER_PREFIX   "worker:"
#define DEFAULT_CALL_S  30.0 /* ValidatorTask / ValidatorScore deadline */
#define DEFAULT_TIMEOUT 12.0 /* the SDK's synapse timeout */
#define MSG_CAP         512

typedef enum { KIND_DUMMY, KIND_SO, KIND_WORKER } kind_t;

/* An answer waiting for the deferral timer: callbacks never run inside
 * gn_vplugin_task / gn_vplugin_score. */
typedef struct pend {
    struct pend *next;
    gn_vtask_cb tcb; /* one of tcb, scb */
    gn_vscore_cb scb;
    void *arg;
    int status;
    gn_vtask_t task;
    double *rewards;
    size_t n;
    char error[MSG_CAP];
} pend_t;

/* A worker call in flight. */
typedef struct wcall {
    struct wcall *prev, *next;
    gn_vplugin_t *p;
    gn_vtask_cb tcb;
    gn_vscore_cb scb;
    void *arg;
    size_t n; /* responses scored */
} wcall_t;

struct gn_vplugin {
    uv_loop_t *loop;
    kind_t kind;
    char *spec;
    /* .so */
    void *dl;
    const gn_validator_plugin_v1_t *t;
    void *state;
    /* worker */
    gn_worker_pool_t *pool;
    double call_s;
    wcall_t *calls;
    /* deferral */
    uv_timer_t *timer; /* its own allocation: freed when closed */
    pend_t *head, *tail;
    bool closed, dispatching;
};

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void gn_vtask_clear(gn_vtask_t *t)
{
    if (!t)
        return;
    json_decref(t->synapse);
    json_decref(t->context);
    memset(t, 0, sizeof(*t));
}

static double clamp01(double x)
{
    if (!isfinite(x) || x < 0)
        return 0;
    return x > 1 ? 1 : x;
}

/* ---- deferred answers ---- */

static void free_pend(pend_t *q)
{
    gn_vtask_clear(&q->task);
    free(q->rewards);
    free(q);
}

static void free_plugin(gn_vplugin_t *p)
{
    free(p->spec);
    free(p);
}

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

static void deliver(pend_t *q)
{
    const char *e = q->status ? q->error : NULL;
    if (q->tcb) {
        q->tcb(q->status, q->status ? NULL : &q->task, e, q->arg);
        if (!q->status) /* moved out to the caller */
            memset(&q->task, 0, sizeof(q->task));
    } else {
        q->scb(q->status, q->status ? NULL : q->rewards, q->status ? 0 : q->n, e, q->arg);
    }
}

static void timer_cb(uv_timer_t *t)
{
    gn_vplugin_t *p = t->data;
    pend_t *list = p->head;
    p->head = p->tail = NULL;
    p->dispatching = true;
    while (list) {
        pend_t *q = list;
        list = q->next;
        if (!p->closed) /* a callback may close the plugin: the rest are dropped */
            deliver(q);
        free_pend(q);
    }
    p->dispatching = false;
    if (p->closed)
        free_plugin(p);
}

static pend_t *new_pend(gn_vtask_cb tcb, gn_vscore_cb scb, void *arg)
{
    pend_t *q = calloc(1, sizeof(*q));
    if (q) {
        q->tcb = tcb;
        q->scb = scb;
        q->arg = arg;
    }
    return q;
}

static void defer(gn_vplugin_t *p, pend_t *q)
{
    if (p->tail)
        p->tail->next = q;
    else
        p->head = q;
    p->tail = q;
    uv_timer_start(p->timer, timer_cb, 0, 0);
}

static void defer_error(gn_vplugin_t *p, pend_t *q, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void defer_error(gn_vplugin_t *p, pend_t *q, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->error, sizeof(q->error), fmt, ap);
    va_end(ap);
    gn_vtask_clear(&q->task);
    q->status = status;
    defer(p, q);
}

/* ---- tasks: checks shared by plugins and workers ---- */

/* A task's synapse made a valid object of its class (coerced as pydantic
 * would), so the dendrite can hash and send it. */
static int check_task(gn_vtask_t *t, char *msg, size_t cap)
{
    if (!t->cls || !t->cls->name || !t->cls->name[0] || (t->cls->n_fields && !t->cls->fields))
        return fail(msg, cap, GN_EINVAL, "the task has no synapse class");
    if (!json_is_object(t->synapse))
        return fail(msg, cap, GN_EINVAL, "the task's synapse is not an object");
    if (!isfinite(t->timeout_s) || t->timeout_s < 0 || t->timeout_s > 86400)
        return fail(msg, cap, GN_EINVAL, "the task's timeout %g is not in [0, 86400] s",
                    t->timeout_s);
    json_t *norm = NULL;
    int rc = gn_synapse_from_json(t->cls, t->synapse, &norm);
    if (rc < 0)
        return fail(msg, cap, rc == GN_ENOMEM ? rc : GN_EINVAL,
                    "the task's synapse is not a valid %s (a required field missing or of the "
                    "wrong type)",
                    t->cls->name);
    json_decref(t->synapse);
    t->synapse = norm;
    if (json_is_null(t->context)) {
        json_decref(t->context);
        t->context = NULL;
    }
    return 0;
}

/* ---- Dummy ---- */

/* A number, or a string holding one ("0.25": the SDK's headers carry
 * text); false for anything else. */
static bool number_of(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out);
    }
    const char *s = json_string_value(v);
    if (!s || !s[0])
        return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* An integer: a JSON integer, a real holding one, or such text. */
static bool integer_of(const json_t *v, json_int_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    double d;
    if (!number_of(v, &d) || d != floor(d) || fabs(d) > 9007199254740992.0)
        return false;
    *out = (json_int_t)d;
    return true;
}

static int dummy_task(uint64_t step, gn_vtask_t *out)
{
    (void)step;
    json_int_t x = (json_int_t)randombytes_uniform(1000);
    memset(out, 0, sizeof(*out));
    out->cls = gn_axon_dummy_class();
    int rc = gn_synapse_new(out->cls, &out->synapse);
    if (rc < 0)
        return rc;
    if (json_object_set_new(out->synapse, "dummy_input", json_integer(x)) < 0 ||
        !(out->context = json_pack("{s:I}", "expected", 2 * x))) {
        gn_vtask_clear(out);
        return GN_ENOMEM;
    }
    return 0;
}

/* 0 unless the miner answered 200 with 2 x input; then 1 down to 0.5 as
 * its process time goes from 0 to the timeout. */
static double dummy_reward(const gn_vtask_t *task, const json_t *resp)
{
    json_int_t expected, out, code;
    if (!integer_of(json_object_get(task->context, "expected"), &expected)) {
        json_int_t in;
        if (!integer_of(json_object_get(task->synapse, "dummy_input"), &in))
            return 0;
        expected = 2 * in;
    }
    const json_t *den = json_object_get(resp, "dendrite");
    if (!json_is_object(resp) || !integer_of(json_object_get(den, "status_code"), &code) ||
        code != 200 || !integer_of(json_object_get(resp, "dummy_output"), &out) || out != expected)
        return 0;
    double timeout = task->timeout_s, pt;
    if (!(timeout > 0) && !(number_of(json_object_get(resp, "timeout"), &timeout) && timeout > 0))
        timeout = DEFAULT_TIMEOUT;
    if (!number_of(json_object_get(den, "process_time"), &pt) || pt < 0)
        pt = timeout; /* unknown: the slowest correct answer */
    double ratio = pt / timeout;
    return 1 - 0.5 * (ratio < 1 ? ratio : 1);
}

/* ---- shared objects ---- */

static int open_so(gn_vplugin_t *p, const char *spec, const char *config, char *err, size_t cap)
{
    /* "x.so" is a file here, not a name for dlopen's library search */
    char path[4096];
    if (snprintf(path, sizeof(path), "%s%s", strchr(spec, '/') ? "" : "./", spec) >=
        (int)sizeof(path))
        return fail(err, cap, GN_EINVAL, "%.64s...: the path is too long", spec);
    struct stat sb;
    if (stat(path, &sb) < 0)
        return fail(err, cap, errno == ENOENT ? GN_ENOENT : GN_EIO, "%s: %s", path,
                    strerror(errno));
    dlerror();
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        return fail(err, cap, GN_EIO, "%s", e ? e : path);
    }
    dlerror();
    const gn_validator_plugin_v1_t *t = dlsym(dl, GN_VPLUGIN_SYMBOL);
    const char *e = dlerror();
    int rc;
    if (e || !t) {
        rc = fail(err, cap, GN_EINVAL, "%s: not a ganglion validator plugin: no symbol %s", path,
                  GN_VPLUGIN_SYMBOL);
        goto fail;
    }
    if (t->abi != GN_VPLUGIN_ABI) {
        rc = fail(err, cap, GN_EUNSUPPORTED,
                  "%s: validator plugin ABI %u, but this ganglion loads ABI %d plugins only", path,
                  (unsigned)t->abi, GN_VPLUGIN_ABI);
        goto fail;
    }
    if (!t->name || !t->name[0]) {
        rc = fail(err, cap, GN_EINVAL, "%s: the validator plugin table has no name", path);
        goto fail;
    }
    if (!t->task && !t->score) {
        rc = fail(err, cap, GN_EINVAL, "%s: validator plugin %s has neither task nor score", path,
                  t->name);
        goto fail;
    }
    if (t->init && (rc = t->init(config ? config : "null", &p->state)) != 0) {
        if (rc > 0 || !strcmp(gn_errname(rc), "GN_E?")) /* not one of ours */
            rc = GN_EFATAL;
        /* the message before dlclose: the name lives in the .so */
        fail(err, cap, rc, "%s: validator plugin %s: init failed: %s", path, t->name,
             gn_strerror(rc));
        goto fail;
    }
    p->dl = dl;
    p->t = t;
    GN_INFO(TAG, "loaded validator plugin %s from %s (%s%s%s)", t->name, path,
            t->task ? "task" : "", t->task && t->score ? ", " : "", t->score ? "score" : "");
    return 0;
fail:
    dlclose(dl);
    return rc;
}

/* ---- workers ---- */

static int worker_config(gn_vplugin_t *p, const char *config, char *err, size_t cap)
{
    p->call_s = DEFAULT_CALL_S;
    if (!config)
        return 0;
    json_error_t je;
    json_t *c = json_loads(config, JSON_DECODE_ANY, &je);
    if (!c)
        return fail(err, cap, GN_EINVAL, "%s: the config is not JSON: %s", p->spec, je.text);
    int rc = 0;
    json_t *to = json_object_get(c, "timeout");
    if (!json_is_null(c) && !json_is_object(c))
        rc = fail(err, cap, GN_EINVAL, "%s: the config is not an object", p->spec);
    else if (to &&
             !(json_is_number(to) && json_number_value(to) > 0 && json_number_value(to) <= 86400))
        rc = fail(err, cap, GN_EINVAL,
                  "%s: config timeout is not a number of seconds in (0, 86400]", p->spec);
    else if (to)
        p->call_s = json_number_value(to);
    json_decref(c);
    return rc;
}

static const char *sock_path(const gn_vplugin_t *p)
{
    return p->spec + strlen(WORKER_PREFIX);
}

static bool pool_has(const gn_worker_pool_t *pool, const char *name)
{
    for (size_t i = 0; i < gn_worker_pool_n_classes(pool); i++)
        if (!strcmp(gn_worker_pool_class(pool, i)->cls.name, name))
            return true;
    return false;
}

static bool pool_ready(const gn_worker_pool_t *pool)
{
    gn_worker_stats_t st;
    return gn_worker_pool_stats(pool, SIZE_MAX, &st) == 0 && st.ready;
}

static const gn_syn_class_t *find_class(const gn_worker_pool_t *pool, const char *name)
{
    for (size_t i = 0; i < gn_worker_pool_n_classes(pool); i++) {
        const gn_worker_class_t *c = gn_worker_pool_class(pool, i);
        if (!strcmp(c->cls.name, name))
            return &c->cls;
    }
    const gn_syn_class_t *d = gn_axon_dummy_class();
    return strcmp(name, d->name) ? NULL : d;
}

static bool base_field(const char *k)
{
    static const char *const BASE[] = {"name",     "timeout", "total_size",        "header_size",
                                       "dendrite", "axon",    "computed_body_hash"};
    for (size_t i = 0; i < sizeof(BASE) / sizeof(*BASE); i++)
        if (!strcmp(k, BASE[i]))
            return true;
    return false;
}

/* ValidatorTask's answer {"synapse", "fields", "context", "timeout"} into
 * a task. */
static int task_from_body(const gn_worker_pool_t *pool, const json_t *body, gn_vtask_t *t,
                          char *msg, size_t cap)
{
    const char *name = json_string_value(json_object_get(body, "synapse"));
    json_t *fields = json_object_get(body, "fields");
    json_t *context = json_object_get(body, "context");
    json_t *timeout = json_object_get(body, "timeout");
    memset(t, 0, sizeof(*t));
    if (!name)
        return fail(msg, cap, GN_EPARSE, "the task names no synapse (a string)");
    if (!(t->cls = find_class(pool, name)))
        return fail(msg, cap, GN_EPARSE,
                    "the task's synapse %.100s is neither announced in a hello nor built in", name);
    if (fields && !json_is_object(fields) && !json_is_null(fields))
        return fail(msg, cap, GN_EPARSE, "the task's fields are not a map");
    if (timeout && !json_is_null(timeout) &&
        !(json_is_number(timeout) && json_number_value(timeout) >= 0 &&
          json_number_value(timeout) <= 86400))
        return fail(msg, cap, GN_EPARSE, "the task's timeout is not a number of seconds");
    t->timeout_s = timeout && json_is_number(timeout) ? json_number_value(timeout) : 0;
    int rc = gn_synapse_new(t->cls, &t->synapse);
    if (rc < 0)
        return fail(msg, cap, rc, "out of memory");
    const char *k;
    json_t *v;
    json_object_foreach (fields, k, v) {
        bool known = false;
        for (size_t i = 0; i < t->cls->n_fields && !known; i++)
            known = !strcmp(t->cls->fields[i].name, k);
        if (!known || base_field(k)) {
            rc = fail(msg, cap, GN_EPARSE, "the task sets %.100s, which is no field of %s", k,
                      t->cls->name);
            goto fail;
        }
        if (json_object_set(t->synapse, k, v) < 0) {
            rc = fail(msg, cap, GN_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if (t->timeout_s > 0 && json_object_set_new(t->synapse, "timeout", json_real(t->timeout_s))) {
        rc = fail(msg, cap, GN_ENOMEM, "out of memory");
        goto fail;
    }
    t->context = json_incref(context);
    if ((rc = check_task(t, msg, cap)) < 0) {
        rc = rc == GN_ENOMEM ? rc : GN_EPARSE;
        goto fail;
    }
    return 0;
fail:
    gn_vtask_clear(t);
    return rc;
}

/* {"rewards": [n numbers]} into out (clamped to [0, 1]). */
static int rewards_from_body(const json_t *body, double *out, size_t n, char *msg, size_t cap)
{
    json_t *r = json_object_get(body, "rewards");
    if (!json_is_array(r))
        return fail(msg, cap, GN_EPARSE, "the answer has no rewards list");
    if (json_array_size(r) != n)
        return fail(msg, cap, GN_EPARSE, "%zu rewards for %zu responses", json_array_size(r), n);
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(r, i);
        if (!json_is_number(x))
            return fail(msg, cap, GN_EPARSE, "reward %zu is not a number", i);
        out[i] = clamp01(json_number_value(x));
    }
    return 0;
}

static void unlink_call(wcall_t *c)
{
    gn_vplugin_t *p = c->p;
    if (!p)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

/* The pool's answer; the caller's callback is the last thing done, as it
 * may close the plugin. */
static void on_worker(int status, json_t *result, const char *error, void *arg)
{
    wcall_t *c = arg;
    gn_vplugin_t *p = c->p;
    unlink_call(c);
    wcall_t call = *c;
    free(c);
    if (!p || p->closed) /* the pool failing its calls as the plugin closes, or after */
        return;
    char msg[MSG_CAP] = "";
    const char *what = call.tcb ? "ValidatorTask" : "ValidatorScore";
    if (call.tcb) {
        gn_vtask_t t;
        int rc = status;
        if (status == 0)
            rc = task_from_body(p->pool, result, &t, msg, sizeof(msg));
        else
            snprintf(msg, sizeof(msg), "%s", error ? error : gn_strerror(status));
        if (rc < 0) {
            char full[MSG_CAP + 128];
            snprintf(full, sizeof(full), "%s: %s: %s", p->spec, what, msg);
            call.tcb(rc, NULL, full, call.arg);
        } else {
            call.tcb(0, &t, NULL, call.arg);
        }
        return;
    }
    double *rewards = calloc(call.n ? call.n : 1, sizeof(*rewards));
    int rc = status;
    if (status != 0)
        snprintf(msg, sizeof(msg), "%s", error ? error : gn_strerror(status));
    else if (!rewards)
        rc = fail(msg, sizeof(msg), GN_ENOMEM, "out of memory");
    else
        rc = rewards_from_body(result, rewards, call.n, msg, sizeof(msg));
    if (rc < 0) {
        char full[MSG_CAP + 128];
        snprintf(full, sizeof(full), "%s: %s: %s", p->spec, what, msg);
        free(rewards);
        call.scb(rc, NULL, 0, full, call.arg);
        return;
    }
    call.scb(0, rewards, call.n, NULL, call.arg);
    free(rewards);
}

/* Send one call; a failure to send is answered through the timer. */
static int worker_call(gn_vplugin_t *p, const char *name, json_t *body, gn_vtask_cb tcb,
                       gn_vscore_cb scb, void *arg, size_t n)
{
    pend_t *q = new_pend(tcb, scb, arg);
    wcall_t *c = calloc(1, sizeof(*c));
    if (!q || !c || !body) {
        free(q);
        free(c);
        json_decref(body);
        return GN_ENOMEM;
    }
    c->p = p;
    c->tcb = tcb;
    c->scb = scb;
    c->arg = arg;
    c->n = n;
    int rc = gn_worker_pool_call(p->pool, name, body, p->call_s, on_worker, c);
    json_decref(body);
    if (rc == 0) {
        free(q);
        c->next = p->calls;
        if (c->next)
            c->next->prev = c;
        p->calls = c;
        return 0;
    }
    free(c);
    if (rc == GN_ENOMEM) {
        free(q);
        return rc;
    }
    if (rc == GN_ENOENT || rc == GN_ECLOSED)
        defer_error(p, q, GN_ECLOSED, "%s: %s: the worker at %s is not ready", p->spec, name,
                    sock_path(p));
    else if (rc == GN_EFULL)
        defer_error(p, q, GN_EFULL, "%s: %s: the worker is busy (every call slot in use)", p->spec,
                    name);
    else if (rc == GN_ERANGE)
        defer_error(p, q, GN_ERANGE, "%s: %s: the request is larger than the worker's max_frame",
                    p->spec, name);
    else
        defer_error(p, q, rc, "%s: %s: %s", p->spec, name, gn_strerror(rc));
    return 0;
}

/* ---- the interface ---- */

int gn_vplugin_open(uv_loop_t *loop, const char *spec, const char *config_json, gn_vplugin_t **out,
                    char *err, size_t err_cap)
{
    if (err && err_cap)
        err[0] = 0;
    if (!loop || !out)
        return fail(err, err_cap, GN_EINVAL, "no loop or result pointer");
    *out = NULL;
    if (!spec || !spec[0])
        return fail(err, err_cap, GN_EINVAL, "no task source / scorer named");
    gn_vplugin_t *p = calloc(1, sizeof(*p));
    if (!p || !(p->spec = strdup(spec)) || !(p->timer = malloc(sizeof(*p->timer)))) {
        if (p)
            free(p->spec);
        free(p);
        return fail(err, err_cap, GN_ENOMEM, "out of memory");
    }
    p->loop = loop;
    int rc;
    if (!strcmp(spec, "Dummy")) {
        p->kind = KIND_DUMMY;
    } else if (!strncmp(spec, WORKER_PREFIX, strlen(WORKER_PREFIX))) {
        p->kind = KIND_WORKER;
        const char *path = sock_path(p);
        if (!path[0] || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            rc = fail(err, err_cap, GN_EINVAL, "%s: the socket path is empty or too long", spec);
            goto fail;
        }
        if ((rc = worker_config(p, config_json, err, err_cap)) < 0)
            goto fail;
        if ((rc = gn_worker_pool_open(loop, &path, 1, NULL, &p->pool)) < 0) {
            fail(err, err_cap, rc, "%s: %s", spec, gn_strerror(rc));
            goto fail;
        }
    } else if (strchr(spec, '/') || (strlen(spec) > 3 && !strcmp(spec + strlen(spec) - 3, ".so"))) {
        p->kind = KIND_SO;
        if ((rc = open_so(p, spec, config_json, err, err_cap)) < 0)
            goto fail;
    } else {
        rc = fail(err, err_cap, GN_ENOENT,
                  "%s: no such built-in task source (built in: Dummy; or a path to a .so, or "
                  "worker:/path.sock)",
                  spec);
        goto fail;
    }
    uv_timer_init(loop, p->timer);
    p->timer->data = p;
    *out = p;
    return 0;
fail:
    free(p->timer);
    free_plugin(p);
    return rc;
}

int gn_vplugin_task(gn_vplugin_t *p, uint64_t step, gn_vtask_cb cb, void *arg)
{
    if (!p || !cb || p->closed)
        return GN_EINVAL;
    if (p->kind == KIND_SO && !p->t->task)
        return GN_EUNSUPPORTED;
    if (p->kind == KIND_WORKER) {
        if (pool_ready(p->pool) && !pool_has(p->pool, "ValidatorTask"))
            return GN_EUNSUPPORTED;
        json_t *body = json_pack("{s:I}", "step", (json_int_t)(step & INT64_MAX));
        return worker_call(p, "ValidatorTask", body, cb, NULL, arg, 0);
    }
    pend_t *q = new_pend(cb, NULL, arg);
    if (!q)
        return GN_ENOMEM;
    char msg[MSG_CAP];
    int rc;
    if (p->kind == KIND_DUMMY) {
        if ((rc = dummy_task(step, &q->task)) < 0) {
            defer_error(p, q, rc, "Dummy: cannot make a task: %s", gn_strerror(rc));
            return 0;
        }
    } else {
        rc = p->t->task(p->state, step, &q->task);
        if (rc != 0) {
            if (rc > 0 || !strcmp(gn_errname(rc), "GN_E?"))
                rc = GN_EFATAL;
            defer_error(p, q, rc, "%s: validator plugin %s: task failed: %s", p->spec, p->t->name,
                        gn_strerror(rc));
            return 0;
        }
        if ((rc = check_task(&q->task, msg, sizeof(msg))) < 0) {
            defer_error(p, q, rc, "%s: validator plugin %s: %s", p->spec, p->t->name, msg);
            return 0;
        }
    }
    defer(p, q);
    return 0;
}

int gn_vplugin_score(gn_vplugin_t *p, const gn_vtask_t *task, const json_t *responses,
                     gn_vscore_cb cb, void *arg)
{
    if (!p || !task || !task->cls || !task->cls->name || !json_is_array(responses) || !cb ||
        p->closed)
        return GN_EINVAL;
    if (p->kind == KIND_SO && !p->t->score)
        return GN_EUNSUPPORTED;
    size_t n = json_array_size(responses);
    if (p->kind == KIND_WORKER) {
        if (pool_ready(p->pool) && !pool_has(p->pool, "ValidatorScore"))
            return GN_EUNSUPPORTED;
        json_t *body = json_pack("{s:{s:s,s:O,s:O},s:O}", "task", "synapse", task->cls->name,
                                 "query", task->synapse ? task->synapse : json_null(), "context",
                                 task->context ? task->context : json_null(), "responses",
                                 (json_t *)responses);
        return worker_call(p, "ValidatorScore", body, NULL, cb, arg, n);
    }
    pend_t *q = new_pend(NULL, cb, arg);
    if (!q || !(q->rewards = calloc(n ? n : 1, sizeof(*q->rewards)))) {
        free(q);
        return GN_ENOMEM;
    }
    q->n = n;
    if (p->kind == KIND_DUMMY) {
        for (size_t i = 0; i < n; i++)
            q->rewards[i] = dummy_reward(task, json_array_get(responses, i));
    } else {
        int rc = p->t->score(p->state, task, responses, n, q->rewards);
        if (rc != 0) {
            if (rc > 0 || !strcmp(gn_errname(rc), "GN_E?"))
                rc = GN_EFATAL;
            defer_error(p, q, rc, "%s: validator plugin %s: score failed: %s", p->spec, p->t->name,
                        gn_strerror(rc));
            return 0;
        }
        for (size_t i = 0; i < n; i++)
            q->rewards[i] = clamp01(q->rewards[i]);
    }
    defer(p, q);
    return 0;
}

void gn_vplugin_close(gn_vplugin_t *p)
{
    if (!p || p->closed)
        return;
    p->closed = true;
    while (p->head) { /* answers not delivered yet: dropped */
        pend_t *q = p->head;
        p->head = q->next;
        free_pend(q);
    }
    p->tail = NULL;
    uv_timer_stop(p->timer);
    uv_close((uv_handle_t *)p->timer, timer_closed);
    if (p->pool) /* its calls in flight fail inside, seeing closed: no callbacks */
        gn_worker_pool_close(p->pool, NULL, NULL);
    /* Calls the pool has not answered yet: when close runs inside a pool
     * callback, the pool may be failing a list of them; they must not find
     * the freed plugin. */
    for (wcall_t *c = p->calls, *next; c; c = next) {
        next = c->next;
        c->p = NULL;
    }
    p->calls = NULL;
    if (p->dl) {
        if (p->t->fini)
            p->t->fini(p->state);
        dlclose(p->dl);
    }
    if (!p->dispatching) /* else the timer's loop frees it when it returns */
        free_plugin(p);
}
