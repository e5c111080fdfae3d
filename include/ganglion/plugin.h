/* In-process synapse handlers from a shared object named in the config
 * (docs/workers.md, "Plugins"). The .so exports one table:
 *
 *   #include "ganglion/plugin.h"
 *   static const gn_syn_class_t classes[] = {{"Echo", echo_fields, 2}};
 *   static const gn_axon_handler_fn handlers[] = {echo};
 *   const gn_plugin_v1_t gn_plugin_v1 = {
 *       .abi = GN_PLUGIN_ABI, .name = "echo",
 *       .classes = classes, .handlers = handlers, .n = 1,
 *       .init = echo_init, .fini = echo_fini,
 *   };
 *
 * and is built with -fPIC -shared, leaving ganglion's and jansson's
 * symbols undefined: they resolve against the executable (linked with
 * -rdynamic). Handlers run on the axon's loop thread with the state init
 * made as their arg, and answer as any axon handler does (axon.h). The
 * table, classes and handlers must stay valid while the .so is loaded. */
#ifndef GANGLION_PLUGIN_H
#define GANGLION_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/axon.h"
#include "ganglion/synapse.h"

#define GN_PLUGIN_ABI    1
#define GN_PLUGIN_SYMBOL "gn_plugin_v1"

typedef struct gn_plugin_v1 {
    uint32_t abi;                  /* GN_PLUGIN_ABI: another value is refused */
    const char *name;              /* for logs */
    const gn_syn_class_t *classes; /* n classes, each served by handlers[i] */
    const gn_axon_handler_fn *handlers;
    const bool *streaming; /* n flags (the handler answers with gn_axon_stream_*); NULL: none */
    size_t n;
    /* optional: called once at load with the plugin's config (JSON text,
     * "null" when none); returns 0 or a negative GN_E* code, and sets
     * *state (the handlers' arg) */
    int (*init)(const char *config_json, void **state);
    void (*fini)(void *state); /* optional: at unload */
} gn_plugin_v1_t;

typedef struct gn_plugin gn_plugin_t;

/* dlopen path (RTLD_NOW: a missing symbol fails here, not mid-request),
 * read gn_plugin_v1, check it and call init. Errors, with a message for
 * people in err (may be NULL): GN_ENOENT no such file, GN_EIO dlopen
 * failed (not a shared object, an undefined symbol...), GN_EINVAL no
 * gn_plugin_v1 symbol or a malformed table, GN_EUNSUPPORTED ABI mismatch,
 * GN_EFATAL init failed (or init's own negative code). */
int gn_plugin_load(const char *path, const char *config_json, gn_plugin_t **out, char *err,
                   size_t err_cap);
const gn_plugin_v1_t *gn_plugin_table(const gn_plugin_t *p);
void *gn_plugin_state(const gn_plugin_t *p);
/* Attach every class with its handler (arg: the state). GN_EEXIST: the
 * axon already serves one of the names (the ones before it are attached). */
int gn_plugin_attach(gn_axon_t *ax, const gn_plugin_t *p);
/* fini, dlclose. Stop the axon first: its handlers live in the .so. */
void gn_plugin_unload(gn_plugin_t *p);

#endif
