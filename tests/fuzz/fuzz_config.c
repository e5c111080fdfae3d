/* libFuzzer target: the node's configuration (node/config.c), the input
 * being a YAML config file, then the value of a few flags.
 *
 * Besides "no crash, no hang, no leak" (ASan):
 * - a load ends in a config or in GN_EINVAL / GN_EPARSE (/ GN_ENOENT) with one line of
 *   error, never anything else;
 * - a loaded config shows as text and as JSON that parses, with a value,
 *   source and `where` for every key; a key from the file says file:line. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../node/config.h"
#include "fuzz.h"
#include "ganglion/error.h"

/* config.c names networks through the RPC client's table (actors/rpc.c,
 * not linked here); the endpoint is not what this target exercises. */
const char *gn_rpc_network_url(const char *network);
const char *gn_rpc_network_url(const char *network)
{
    return network;
}

static void check_loaded(gn_config_t *c, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    CHECK(m);
    CHECK(gn_config_show(c, m, false) == 0);
    CHECK(fclose(m) == 0);
    CHECK(len > 0);
    free(text);
    text = NULL;
    m = open_memstream(&text, &len);
    CHECK(m);
    CHECK(gn_config_show(c, m, true) == 0);
    CHECK(fclose(m) == 0);
    const char *brace = text;
    json_error_t je;
    json_t *j = json_loads(brace, 0, &je);
    CHECK(j);
    const char *key;
    json_t *o;
    json_object_foreach (j, key, o) {
        CHECK(json_object_get(o, "value"));
        const char *src = json_string_value(json_object_get(o, "source"));
        const char *where = json_string_value(json_object_get(o, "where"));
        CHECK(src && where);
        if (strcmp(src, "file") == 0)
            CHECK(strncmp(where, path, strlen(path)) == 0 && where[strlen(path)] == ':');
    }
    json_decref(j);
    free(text);
}

static void check_failed(int rc, const char *err)
{
    /* GN_ENOENT: a flag value that is itself --config=NAME */
    CHECK(rc == GN_EINVAL || rc == GN_EPARSE || rc == GN_ENOENT);
    CHECK(err[0] && !strchr(err, '\n'));
}

static char path[64];

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz_config-%d.yaml", (int)getpid());
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    CHECK(f);
    CHECK(fwrite(data, 1, size, f) == size);
    CHECK(fclose(f) == 0);

    char *env[] = {"HOME=/home/fuzz", NULL};
    char err[1024];
    gn_config_t *c = NULL;
    char *argv[] = {"--config", path, NULL};
    int rc = gn_config_load("miner", 2, argv, env, &c, err, sizeof err);
    if (rc == 0)
        check_loaded(c, path);
    else
        check_failed(rc, err);
    gn_config_free(c);

    /* the same bytes as flag values (up to a NUL) */
    char *s = strndup((const char *)data, size);
    CHECK(s);
    static char *const keys[] = {"--miner.handlers",    "--validator.alpha", "--axon.port",
                                 "--subtensor.network", "--axon.ip",         "--logging.debug"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *fv[] = {keys[i], s, NULL};
        c = NULL;
        rc = gn_config_load("validator", 2, fv, env, &c, err, sizeof err);
        if (rc == 0)
            check_loaded(c, path);
        else
            check_failed(rc, err);
        gn_config_free(c);
    }
    free(s);
    return 0;
}
