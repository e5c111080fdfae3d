/* ganglion metadata summary|type, ganglion decode: runtime metadata from a
 * file (raw bytes, 0x-hex text, or a JSON-RPC answer {"result": "0x…"}). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ganglion/fs.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/metadata.h"
#include "ganglion/value.h"

#define METADATA_MAX (64u << 20)

/* Bytes of a metadata file in any of the three forms. */
/* Parse metadata bytes; failures named for `what` (a file, "the node"). */
static int parse_reported(const char *what, const uint8_t *bytes, size_t len, gn_metadata_t *md)
{
    uint8_t version = 0;
    int rc = gn_metadata_parse(md, bytes, len, NULL, &version);
    if (rc == GN_EUNSUPPORTED)
        fprintf(stderr, "ganglion: %s: metadata version %u is not supported (14 and 15 are)\n",
                what, version);
    else if (rc < 0)
        fprintf(stderr, "ganglion: %s: not runtime metadata: %s\n", what, gn_strerror(rc));
    return rc;
}

int gn_cli_metadata_hex(const char *what, const char *hex, size_t len, gn_metadata_t *md)
{
    size_t n;
    uint8_t *bytes = hex ? malloc(len / 2 + 1) : NULL;
    int rc = !hex     ? GN_EINVAL
             : !bytes ? GN_ENOMEM
                      : gn_hex_decode(hex, len, bytes, len / 2 + 1, &n);
    if (rc == 0)
        rc = parse_reported(what, bytes, n, md);
    else
        fprintf(stderr, "ganglion: %s: not runtime metadata: %s\n", what, gn_strerror(rc));
    free(bytes);
    return rc;
}

/* Metadata from a file: raw bytes, 0x-hex text, or {"result": "0x…"}. */
static int read_metadata(const char *path, gn_metadata_t *md)
{
    if (strncmp(path, "ws://", 5) == 0 || strncmp(path, "wss://", 6) == 0) {
        fprintf(stderr, "ganglion: fetching metadata from a node needs the chain client, which "
                        "is not built yet; save it to a file (state_getMetadata) and pass that\n");
        return GN_EUNSUPPORTED;
    }
    uint8_t *data;
    size_t n;
    int rc = gn_fs_read(path, METADATA_MAX, &data, &n);
    if (rc < 0) {
        fprintf(stderr, "ganglion: %s: %s\n", path, gn_strerror(rc));
        return rc;
    }
    if (n > 0 && data[0] == '{') {
        json_t *j = json_loadb((const char *)data, n, 0, NULL);
        json_t *r = json_object_get(j, "result");
        rc = gn_cli_metadata_hex(path, json_string_value(r), json_string_length(r), md);
        json_decref(j);
    } else if (n >= 2 && data[0] == '0' && data[1] == 'x') {
        while (n && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' '))
            n--;
        rc = gn_cli_metadata_hex(path, (const char *)data, n, md);
    } else {
        rc = parse_reported(path, data, n, md);
    }
    free(data);
    return rc;
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (s)
        puts(s);
    free(s);
    json_decref(j);
}

static json_t *type_json(const gn_metadata_t *md, uint32_t id)
{
    static const char *kinds[] = {"composite", "variant",   "sequence", "array",
                                  "tuple",     "primitive", "compact",  "bit_sequence"};
    const gn_type_t *t = gn_metadata_type(md, id);
    char desc[512];
    gn_type_describe(md, id, desc, sizeof(desc));
    json_t *o =
        json_pack("{s:i,s:s,s:s}", "id", (json_int_t)id, "kind", kinds[t->kind], "type", desc);
    json_t *path = json_array();
    for (uint32_t i = 0; i < t->n_path; i++)
        json_array_append_new(path, json_string(t->path[i]));
    json_object_set_new(o, "path", path);
    json_t *fields = NULL;
    if (t->kind == GN_TYPE_COMPOSITE) {
        fields = json_array();
        for (uint32_t i = 0; i < t->def.composite.n; i++) {
            const gn_field_t *f = &t->def.composite.fields[i];
            gn_type_describe(md, f->type, desc, sizeof(desc));
            json_array_append_new(fields, json_pack("{s:s?,s:i,s:s}", "name", f->name, "type_id",
                                                    (json_int_t)f->type, "type", desc));
        }
        json_object_set_new(o, "fields", fields);
    } else if (t->kind == GN_TYPE_VARIANT) {
        json_t *vars = json_array();
        for (uint32_t i = 0; i < t->def.variant.n; i++) {
            const gn_variant_t *v = &t->def.variant.variants[i];
            json_t *fs = json_array();
            for (uint32_t k = 0; k < v->n_fields; k++) {
                gn_type_describe(md, v->fields[k].type, desc, sizeof(desc));
                json_array_append_new(fs, json_pack("{s:s?,s:i,s:s}", "name", v->fields[k].name,
                                                    "type_id", (json_int_t)v->fields[k].type,
                                                    "type", desc));
            }
            json_array_append_new(vars, json_pack("{s:s,s:i,s:o}", "name", v->name, "index",
                                                  (json_int_t)v->index, "fields", fs));
        }
        json_object_set_new(o, "variants", vars);
    }
    return o;
}

static json_t *summary_json(const gn_metadata_t *md, const char *only)
{
    json_t *pallets = json_array();
    for (uint32_t i = 0; i < md->n_pallets; i++) {
        const gn_pallet_t *p = &md->pallets[i];
        if (only && strcmp(only, p->name) != 0)
            continue;
        uint32_t calls = p->has_calls ? md->types[p->calls_type].def.variant.n : 0;
        const gn_type_t *et = p->has_events ? &md->types[p->event_type] : NULL;
        const gn_type_t *rt = p->has_errors ? &md->types[p->error_type] : NULL;
        json_t *o = json_pack(
            "{s:s,s:i,s:i,s:i,s:i,s:i,s:i}", "name", p->name, "index", (json_int_t)p->index,
            "storage", (json_int_t)p->n_storage, "calls", (json_int_t)calls, "events",
            (json_int_t)(et && et->kind == GN_TYPE_VARIANT ? et->def.variant.n : 0), "errors",
            (json_int_t)(rt && rt->kind == GN_TYPE_VARIANT ? rt->def.variant.n : 0), "constants",
            (json_int_t)p->n_constants);
        if (only) {
            json_t *st = json_array(), *cs = json_array(), *ca = json_array();
            char desc[512];
            for (uint32_t k = 0; k < p->n_storage; k++) {
                gn_type_describe(md, p->storage[k].value_type, desc, sizeof(desc));
                json_array_append_new(st, json_pack("{s:s,s:b,s:s}", "name", p->storage[k].name,
                                                    "map", p->storage[k].is_map, "value", desc));
            }
            for (uint32_t k = 0; k < p->n_constants; k++)
                json_array_append_new(cs, json_string(p->constants[k].name));
            for (uint32_t k = 0; k < calls; k++)
                json_array_append_new(
                    ca, json_string(md->types[p->calls_type].def.variant.variants[k].name));
            json_object_set_new(o, "storage_items", st);
            json_object_set_new(o, "constant_names", cs);
            json_object_set_new(o, "call_names", ca);
        }
        json_array_append_new(pallets, o);
    }
    json_t *exts = json_array(), *apis = json_array();
    for (uint32_t i = 0; i < md->n_signed_exts; i++)
        json_array_append_new(exts, json_string(md->signed_exts[i].identifier));
    for (uint32_t i = 0; i < md->n_apis; i++) {
        json_t *ms = json_array();
        for (uint32_t k = 0; k < md->apis[i].n_methods; k++)
            json_array_append_new(ms, json_string(md->apis[i].methods[k].name));
        json_array_append_new(apis,
                              json_pack("{s:s,s:o}", "name", md->apis[i].name, "methods", ms));
    }
    return json_pack("{s:i,s:i,s:i,s:i,s:o,s:o,s:o}", "version", (json_int_t)md->version, "types",
                     (json_int_t)md->n_types, "ss58_prefix",
                     (json_int_t)gn_metadata_ss58_prefix(md), "extrinsic_version",
                     (json_int_t)md->extrinsic_version, "signed_extensions", exts, "runtime_apis",
                     apis, "pallets", pallets);
}

/* --metadata FILE or $GANGLION_METADATA */
static const char *metadata_flag(int *argc, char **argv)
{
    const char *m = getenv("GANGLION_METADATA");
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--metadata") == 0 && i + 1 < *argc) {
            m = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], (size_t)(*argc - i - 2) * sizeof(char *));
            *argc -= 2;
            break;
        }
    }
    return m;
}

int gn_cmd_metadata(int argc, char **argv)
{
    gn_metadata_t md;
    if (argc >= 2 && strcmp(argv[0], "summary") == 0) {
        const char *only = NULL;
        if (argc == 4 && strcmp(argv[2], "--pallet") == 0)
            only = argv[3];
        else if (argc != 2)
            return gn_cli_usage("usage: ganglion metadata summary <file> [--pallet NAME]");
        if (read_metadata(argv[1], &md) < 0)
            return GN_EXIT_FAIL;
        if (only && !gn_metadata_pallet(&md, only)) {
            fprintf(stderr, "ganglion: no pallet '%s'\n", only);
            gn_metadata_free(&md);
            return GN_EXIT_FAIL;
        }
        print_json(summary_json(&md, only));
        gn_metadata_free(&md);
        return GN_EXIT_OK;
    }
    if (argc >= 1 && strcmp(argv[0], "type") == 0) {
        const char *file = metadata_flag(&argc, argv);
        char *end;
        unsigned long id = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
        if (argc != 2 || *end || !file)
            return gn_cli_usage("usage: ganglion metadata type <id> --metadata <file>");
        if (read_metadata(file, &md) < 0)
            return GN_EXIT_FAIL;
        int ret = GN_EXIT_OK;
        if (id >= md.n_types) {
            fprintf(stderr, "ganglion: type %lu does not exist (0..%u)\n", id, md.n_types - 1);
            ret = GN_EXIT_FAIL;
        } else {
            print_json(type_json(&md, (uint32_t)id));
        }
        gn_metadata_free(&md);
        return ret;
    }
    return gn_cli_usage("usage: ganglion metadata summary <file> [--pallet NAME] | "
                        "ganglion metadata type <id> --metadata <file>");
}

int gn_cmd_decode(int argc, char **argv)
{
    const char *file = metadata_flag(&argc, argv);
    if (argc != 2 || !file)
        return gn_cli_usage("usage: ganglion decode <type-id | Pallet.Item | Pallet.Constant> "
                            "<hex> --metadata <file>");
    gn_metadata_t md;
    if (read_metadata(file, &md) < 0)
        return GN_EXIT_FAIL;
    int ret = GN_EXIT_FAIL;
    uint8_t *bytes = NULL;
    uint32_t type = 0;
    const char *what = argv[0], *dot = strchr(what, '.');
    char *end;
    if (dot) {
        char pallet[128];
        snprintf(pallet, sizeof(pallet), "%.*s", (int)(dot - what), what);
        const gn_storage_entry_t *e = gn_metadata_storage(&md, pallet, dot + 1);
        const gn_constant_t *c = e ? NULL : gn_metadata_constant(&md, pallet, dot + 1);
        if (!e && !c) {
            fprintf(stderr, "ganglion: no storage item or constant %s\n", what);
            goto done;
        }
        type = e ? e->value_type : c->type;
    } else {
        unsigned long id = strtoul(what, &end, 10);
        if (*end || id >= md.n_types) {
            fprintf(stderr, "ganglion: '%s' is no type id (0..%u) or Pallet.Item\n", what,
                    md.n_types - 1);
            goto done;
        }
        type = (uint32_t)id;
    }
    size_t len = strlen(argv[1]), n;
    bytes = malloc(len / 2 + 1);
    int rc = bytes ? gn_hex_decode(argv[1], len, bytes, len / 2 + 1, &n) : GN_ENOMEM;
    if (rc < 0) {
        ret = gn_cli_fail("decode: <hex>", rc);
        goto done;
    }
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 0);
    gn_value_t v;
    rc = gn_value_decode_all(&md, type, bytes, n, &ar, &v);
    if (rc < 0) {
        char desc[256];
        gn_type_describe(&md, type, desc, sizeof(desc));
        fprintf(stderr, "ganglion: decode as %s: %s\n", desc, gn_strerror(rc));
    } else {
        gn_json_opts_t opts = {GN_JSON_SS58_PREFIX, gn_metadata_ss58_prefix(&md)};
        print_json(gn_value_to_json(&md, &v, &opts));
        ret = GN_EXIT_OK;
    }
    gn_arena_free(&ar);
done:
    free(bytes);
    gn_metadata_free(&md);
    return ret;
}
