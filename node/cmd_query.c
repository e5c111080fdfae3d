/* `ganglion query`: one synapse sent to axons by the dendrite (no chain),
 * one JSON line per response, in target order. The built-in classes:
 * Dummy, StreamingDummy (the axon's built-ins) and the plain Synapse
 * (ping). Exit 0 when every response is 200, 1 otherwise. */
#include "cli.h"

#include "ganglion/dendrite.h"
#include "ganglion/error.h"
#include "ganglion/sr25519.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE                                                                                 \
    "usage: ganglion query --axon IP:PORT:HOTKEY_SS58 [--axon ...] [--synapse Dummy|"         \
    "StreamingDummy|Synapse] [--field NAME=VALUE ...] [--timeout S] [--dendrite.external_ip " \
    "IP] (--wallet.name N --wallet.hotkey H [--wallet.path P] | --suri URI)"

static const gn_syn_field_t DUMMY_F[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_class_t DUMMY = {"Dummy", DUMMY_F, 2};
static const gn_syn_field_t SD_F[] = {{.name = "text", .type = GN_SYN_STR, .required = true}};
static const gn_syn_class_t STREAMING_DUMMY = {"StreamingDummy", SD_F, 1};

typedef struct {
    gn_dendrite_target_t *t;
    size_t n, left;
    const gn_syn_class_t *cls;
    json_t **streams; /* per target: the text received (streaming) */
    json_t **finals;
    int failed;
} run_t;

/* "ip:port:hotkey", "[v6]:port:hotkey" or "v6:...:port:hotkey" (split from the right). */
static int parse_target(char *s, gn_dendrite_target_t *t)
{
    char *hk = strrchr(s, ':');
    if (!hk)
        return -1;
    *hk++ = 0;
    char *port = strrchr(s, ':');
    if (!port)
        return -1;
    *port++ = 0;
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 1 || p > 65535 || !*hk)
        return -1;
    if (s[0] == '[') {
        size_t l = strlen(s);
        if (l < 3 || s[l - 1] != ']')
            return -1;
        s[l - 1] = 0;
        s++;
    }
    t->ip = s;
    t->port = (uint16_t)p;
    t->hotkey = hk;
    return *s ? 0 : -1;
}

static void print_result(run_t *r, size_t i, json_t *res)
{
    json_t *den = json_object_get(res, "dendrite");
    json_t *out = json_object();
    char tgt[128];
    bool v6 = strchr(r->t[i].ip, ':') != NULL;
    snprintf(tgt, sizeof(tgt), "%s%s%s:%u", v6 ? "[" : "", r->t[i].ip, v6 ? "]" : "", r->t[i].port);
    json_object_set_new(out, "axon", json_string(tgt));
    json_object_set_new(out, "hotkey", json_string(r->t[i].hotkey));
    static const char *const K[3] = {"status_code", "status_message", "process_time"};
    for (int k = 0; k < 3; k++) {
        json_t *v = json_object_get(den, K[k]);
        json_object_set(out, K[k], v ? v : json_null());
    }
    for (size_t f = 0; f < r->cls->n_fields; f++) {
        json_t *v = json_object_get(res, r->cls->fields[f].name);
        json_object_set(out, r->cls->fields[f].name, v ? v : json_null());
    }
    if (r->streams)
        json_object_set(out, "stream", r->streams[i]);
    if (json_integer_value(json_object_get(den, "status_code")) != 200)
        r->failed = 1;
    char *txt = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (txt)
        puts(txt);
    free(txt);
    json_decref(out);
}

static void on_done(json_t *results, void *arg)
{
    run_t *r = arg;
    for (size_t i = 0; i < json_array_size(results); i++)
        print_result(r, i, json_array_get(results, i));
    fflush(stdout);
}

typedef struct {
    run_t *r;
    size_t i;
} sarg_t;

static void on_chunk(size_t idx, const void *p, size_t n, void *arg)
{
    sarg_t *s = arg;
    (void)idx;
    json_t *prev = s->r->streams[s->i];
    size_t pl = json_string_length(prev);
    char *buf = malloc(pl + n + 1);
    if (!buf)
        return;
    memcpy(buf, json_string_value(prev), pl);
    memcpy(buf + pl, p, n);
    buf[pl + n] = 0;
    json_t *nv = json_stringn_nocheck(buf, pl + n);
    free(buf);
    json_decref(prev);
    s->r->streams[s->i] = nv;
}

static void on_stream_done(json_t *results, void *arg)
{
    sarg_t *s = arg;
    s->r->finals[s->i] = json_incref(json_array_get(results, 0));
    if (--s->r->left == 0)
        for (size_t i = 0; i < s->r->n; i++)
            print_result(s->r, i, s->r->finals[i]);
}

static void closed(void *arg)
{
    (void)arg;
}

int gn_cmd_query(int argc, char **argv)
{
    const char *wallet_path = NULL, *wallet_name = NULL, *wallet_hotkey = NULL, *suri = NULL;
    const char *password_env = NULL, *synapse = "Dummy", *ext_ip = NULL;
    double timeout = 12.0;
    gn_dendrite_target_t *targets = calloc((size_t)argc + 1, sizeof(*targets));
    json_t *fields = json_object();
    int rc = GN_EXIT_USAGE;
    if (!targets || !fields)
        goto out;
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            gn_cli_usage(USAGE);
            goto out;
        }
        i++;
        if (!strcmp(a, "--axon")) {
            if (parse_target(v, &targets[n]) < 0) {
                fprintf(stderr, "ganglion: query: --axon %s: want IP:PORT:HOTKEY\n", v);
                goto out;
            }
            n++;
        } else if (!strcmp(a, "--synapse")) {
            synapse = v;
        } else if (!strcmp(a, "--field")) {
            char *eq = strchr(v, '=');
            if (!eq || eq == v) {
                fprintf(stderr, "ganglion: query: --field %s: want NAME=VALUE\n", v);
                goto out;
            }
            *eq = 0;
            json_t *val = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
            json_object_set_new(fields, v, val ? val : json_string(eq + 1));
        } else if (!strcmp(a, "--timeout")) {
            char *end;
            timeout = strtod(v, &end);
            if (*end || !(timeout > 0) || timeout > 1e6) {
                fprintf(stderr, "ganglion: query: --timeout %s: want seconds > 0\n", v);
                goto out;
            }
        } else if (!strcmp(a, "--dendrite.external_ip")) {
            ext_ip = v;
        } else if (!strcmp(a, "--wallet.path")) {
            wallet_path = v;
        } else if (!strcmp(a, "--wallet.name")) {
            wallet_name = v;
        } else if (!strcmp(a, "--wallet.hotkey")) {
            wallet_hotkey = v;
        } else if (!strcmp(a, "--password-env")) {
            password_env = v;
        } else if (!strcmp(a, "--suri")) {
            suri = v;
        } else {
            gn_cli_usage(USAGE);
            goto out;
        }
    }
    const gn_syn_class_t *cls = !strcmp(synapse, "Dummy")            ? &DUMMY
                                : !strcmp(synapse, "StreamingDummy") ? &STREAMING_DUMMY
                                : !strcmp(synapse, "Synapse")        ? &GN_SYN_SYNAPSE
                                                                     : NULL;
    if (!cls) {
        fprintf(stderr, "ganglion: query: unknown synapse '%s' (Dummy, StreamingDummy, Synapse)\n",
                synapse);
        goto out;
    }
    if (!n) {
        gn_cli_usage("query: at least one --axon IP:PORT:HOTKEY");
        goto out;
    }
    gn_sr25519_keypair_t kp;
    int k = suri ? gn_cli_suri_keypair(suri, &kp)
                 : gn_cli_wallet_keypair(wallet_path, wallet_name, wallet_hotkey, false,
                                         password_env, &kp);
    if (k < 0) {
        rc = GN_EXIT_FAIL;
        goto out;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_dendrite_t *d = NULL;
    gn_dendrite_opts_t o = {.hotkey = &kp, .external_ip = ext_ip};
    k = gn_dendrite_new(&loop, &o, &d);
    gn_sr25519_wipe(&kp);
    run_t r = {.t = targets, .n = n, .left = n, .cls = cls};
    sarg_t *sargs = NULL;
    if (k == 0 && cls == &STREAMING_DUMMY) {
        r.streams = calloc(n, sizeof(*r.streams));
        r.finals = calloc(n, sizeof(*r.finals));
        sargs = calloc(n, sizeof(*sargs));
        if (!r.streams || !r.finals || !sargs)
            k = GN_ENOMEM;
        for (size_t i = 0; k == 0 && i < n; i++) {
            r.streams[i] = json_string("");
            sargs[i] = (sarg_t){&r, i};
            k = gn_dendrite_stream(d, &targets[i], cls, fields, timeout, on_chunk, on_stream_done,
                                   &sargs[i], NULL);
        }
    } else if (k == 0) {
        k = gn_dendrite_query(d, targets, n, cls, fields, timeout, NULL, on_done, &r, NULL);
    }
    if (k < 0)
        fprintf(stderr, "ganglion: query: %s%s\n", gn_strerror(k),
                k == GN_EINVAL ? " (missing or mistyped --field for the synapse?)" : "");
    else
        uv_run(&loop, UV_RUN_DEFAULT);
    if (d)
        gn_dendrite_close(d, closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    for (size_t i = 0; r.streams && i < n; i++)
        json_decref(r.streams[i]);
    for (size_t i = 0; r.finals && i < n; i++)
        json_decref(r.finals[i]);
    free(r.streams);
    free(r.finals);
    free(sargs);
    rc = k < 0 || r.failed ? GN_EXIT_FAIL : GN_EXIT_OK;
out:
    free(targets);
    json_decref(fields);
    return rc;
}
