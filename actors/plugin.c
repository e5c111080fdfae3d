/* Synapse handlers from shared objects (include/ganglion/plugin.h). */
#include "ganglion/plugin.h"
#include "ganglion/error.h"
#include "ganglion/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TAG "plugin"

struct gn_plugin {
    void *dl;
    const gn_plugin_v1_t *t;
    void *state;
    char *path;
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

/* What gn_plugin_attach and the axon rely on. */
static int check_table(const gn_plugin_v1_t *t, const char *path, char *err, size_t cap)
{
    if (t->abi != GN_PLUGIN_ABI)
        return fail(err, cap, GN_EUNSUPPORTED,
                    "%s: plugin ABI %u, but this ganglion loads ABI %d plugins only", path,
                    (unsigned)t->abi, GN_PLUGIN_ABI);
    if (!t->name || !t->name[0])
        return fail(err, cap, GN_EINVAL, "%s: the plugin table has no name", path);
    if (t->n && (!t->classes || !t->handlers))
        return fail(err, cap, GN_EINVAL, "%s: plugin %s lists %zu classes without %s", path,
                    t->name, t->n, t->classes ? "handlers" : "classes");
    for (size_t i = 0; i < t->n; i++) {
        const gn_syn_class_t *c = &t->classes[i];
        if (!c->name || !c->name[0] || (c->n_fields && !c->fields) || !t->handlers[i])
            return fail(err, cap, GN_EINVAL,
                        "%s: plugin %s: class %zu has no name, fields or handler", path, t->name,
                        i);
        for (size_t f = 0; f < c->n_fields; f++)
            if (!c->fields[f].name || (unsigned)c->fields[f].type > GN_SYN_DICT)
                return fail(err, cap, GN_EINVAL, "%s: plugin %s: class %s: field %zu is malformed",
                            path, t->name, c->name, f);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->classes[j].name, c->name))
                return fail(err, cap, GN_EINVAL, "%s: plugin %s: class %s twice", path, t->name,
                            c->name);
    }
    return 0;
}

int gn_plugin_load(const char *path, const char *config_json, gn_plugin_t **out, char *err,
                   size_t cap)
{
    if (err && cap)
        err[0] = 0;
    if (!path || !path[0] || !out)
        return fail(err, cap, GN_EINVAL, "no plugin path");
    struct stat sb;
    if (strchr(path, '/') && stat(path, &sb) < 0)
        return fail(err, cap, errno == ENOENT ? GN_ENOENT : GN_EIO, "%s: %s", path,
                    strerror(errno));
    dlerror();
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        return fail(err, cap, GN_EIO, "%s", e ? e : path);
    }
    dlerror();
    const gn_plugin_v1_t *t = dlsym(dl, GN_PLUGIN_SYMBOL);
    const char *e = dlerror();
    if (e || !t) {
        dlclose(dl);
        return fail(err, cap, GN_EINVAL, "%s: not a ganglion plugin: no symbol %s", path,
                    GN_PLUGIN_SYMBOL);
    }
    int rc = check_table(t, path, err, cap);
    if (rc < 0) {
        dlclose(dl);
        return rc;
    }
    gn_plugin_t *p = calloc(1, sizeof(*p));
    if (!p || !(p->path = strdup(path))) {
        free(p);
        dlclose(dl);
        return fail(err, cap, GN_ENOMEM, "out of memory");
    }
    p->dl = dl;
    p->t = t;
    if (t->init) {
        rc = t->init(config_json ? config_json : "null", &p->state);
        if (rc != 0) {
            if (rc > 0 || !strcmp(gn_errname(rc), "GN_E?")) /* not one of ours */
                rc = GN_EFATAL;
            /* the message before dlclose: the name lives in the .so */
            fail(err, cap, rc, "%s: plugin %s: init failed: %s", path, t->name, gn_strerror(rc));
            free(p->path);
            free(p);
            dlclose(dl);
            return rc;
        }
    }
    GN_INFO(TAG, "loaded plugin %s from %s: %zu synapses", t->name, path, t->n);
    *out = p;
    return 0;
}

const gn_plugin_v1_t *gn_plugin_table(const gn_plugin_t *p)
{
    return p ? p->t : NULL;
}

void *gn_plugin_state(const gn_plugin_t *p)
{
    return p ? p->state : NULL;
}

int gn_plugin_attach(gn_axon_t *ax, const gn_plugin_t *p)
{
    if (!ax || !p)
        return GN_EINVAL;
    for (size_t i = 0; i < p->t->n; i++) {
        gn_axon_handler_t h = {&p->t->classes[i], p->t->handlers[i], p->state,
                               p->t->streaming && p->t->streaming[i]};
        int rc = gn_axon_attach(ax, &h);
        if (rc < 0) {
            GN_WARN(TAG, "plugin %s: cannot attach %s: %s", p->t->name, p->t->classes[i].name,
                    gn_strerror(rc));
            return rc;
        }
    }
    return 0;
}

void gn_plugin_unload(gn_plugin_t *p)
{
    if (!p)
        return;
    if (p->t->fini)
        p->t->fini(p->state);
    dlclose(p->dl);
    free(p->path);
    free(p);
}
