/* `ganglion axon`: the built-in synapses served with no chain connection
 * (blacklist from --axon.allow, or open), for checking a deployment from
 * outside and for compatibility tests with other implementations. Runs
 * until SIGINT or SIGTERM. */
#include "cli.h"

#include "ganglion/axon.h"
#include "ganglion/error.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE                                                                                   \
    "usage: ganglion axon [--port P | --axon.port P] [--axon.ip IP] [--axon.external_ip IP] "   \
    "[--axon.external_port P] [--axon.max_workers N] [--axon.allow SS58,...] "                  \
    "[--axon.deny SS58,...] [--axon.max_body BYTES] [--axon.per_ip_rate R] "                    \
    "[--axon.per_hotkey_rate R] (--wallet.name N --wallet.hotkey H [--wallet.path P] | --suri " \
    "URI)"

typedef struct {
    uv_signal_t sigint, sigterm;
    gn_axon_t *ax;
    bool stopping;
} run_t;

static void closed(uv_handle_t *h)
{
    (void)h;
}

static void stopped(void *arg)
{
    run_t *r = arg;
    uv_close((uv_handle_t *)&r->sigint, closed);
    uv_close((uv_handle_t *)&r->sigterm, closed);
}

static void on_signal(uv_signal_t *s, int signum)
{
    run_t *r = s->data;
    (void)signum;
    if (r->stopping)
        return;
    r->stopping = true;
    fprintf(stderr, "ganglion: axon: stopping\n");
    gn_axon_stop(r->ax, stopped, r);
}

/* "a,b,c" -> a NULL-terminated array of pointers into a copy. */
static const char **split(const char *list, size_t *n, char **store)
{
    *n = 0;
    *store = strdup(list);
    const char **out = calloc(strlen(list) / 2 + 2, sizeof(*out));
    if (!*store || !out) {
        free(out);
        return NULL;
    }
    for (char *save = NULL, *t = strtok_r(*store, ",", &save); t; t = strtok_r(NULL, ",", &save))
        out[(*n)++] = t;
    return out;
}

static bool num(const char *s, double lo, double hi, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return *s && !*end && *v >= lo && *v <= hi;
}

int gn_cmd_axon(int argc, char **argv)
{
    const char *wallet_path = NULL, *wallet_name = NULL, *wallet_hotkey = NULL, *suri = NULL;
    const char *ip = getenv("BT_AXON_IP"), *ext_ip = getenv("BT_AXON_EXTERNAL_IP");
    const char *allow = NULL, *deny = NULL, *password_env = NULL;
    double port = 8091, ext_port = 0, workers = 0, max_body = 0, ip_rate = 0, hk_rate = 0;
    if (getenv("BT_AXON_PORT") && !num(getenv("BT_AXON_PORT"), 0, 65535, &port))
        return gn_cli_usage("BT_AXON_PORT is a port number");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return gn_cli_usage(USAGE);
        bool ok = true;
        if (!strcmp(a, "--port") || !strcmp(a, "--axon.port"))
            ok = num(v, 0, 65535, &port);
        else if (!strcmp(a, "--axon.ip"))
            ip = v;
        else if (!strcmp(a, "--axon.external_ip"))
            ext_ip = v;
        else if (!strcmp(a, "--axon.external_port"))
            ok = num(v, 0, 65535, &ext_port);
        else if (!strcmp(a, "--axon.max_workers"))
            ok = num(v, 1, 100000, &workers);
        else if (!strcmp(a, "--axon.max_body"))
            ok = num(v, 1, 1e12, &max_body);
        else if (!strcmp(a, "--axon.per_ip_rate"))
            ok = num(v, 0, 1e9, &ip_rate);
        else if (!strcmp(a, "--axon.per_hotkey_rate"))
            ok = num(v, 0, 1e9, &hk_rate);
        else if (!strcmp(a, "--axon.allow"))
            allow = v;
        else if (!strcmp(a, "--axon.deny"))
            deny = v;
        else if (!strcmp(a, "--wallet.path"))
            wallet_path = v;
        else if (!strcmp(a, "--wallet.name"))
            wallet_name = v;
        else if (!strcmp(a, "--wallet.hotkey"))
            wallet_hotkey = v;
        else if (!strcmp(a, "--password-env"))
            password_env = v;
        else if (!strcmp(a, "--suri"))
            suri = v;
        else
            return gn_cli_usage(USAGE);
        if (!ok) {
            fprintf(stderr, "ganglion: axon: %s: bad value '%s'\n", a, v);
            return GN_EXIT_USAGE;
        }
        i++;
    }
    gn_sr25519_keypair_t kp;
    int rc = suri ? gn_cli_suri_keypair(suri, &kp)
                  : gn_cli_wallet_keypair(wallet_path, wallet_name, wallet_hotkey, false,
                                          password_env, &kp);
    if (rc < 0)
        return GN_EXIT_FAIL;
    char *allow_store = NULL, *deny_store = NULL;
    size_t n_allow = 0, n_deny = 0;
    const char **allow_list = allow ? split(allow, &n_allow, &allow_store) : NULL;
    const char **deny_list = deny ? split(deny, &n_deny, &deny_store) : NULL;
    char hotkey[64];
    gn_ss58_encode(kp.pub, 32, 42, hotkey, sizeof(hotkey));
    gn_axon_opts_t o = {
        .ip = ip,
        .port = (uint16_t)port,
        .limits = {.max_body_bytes = (size_t)max_body, .per_ip_rate = ip_rate},
        .hotkey = &kp,
        .external_ip = ext_ip,
        .external_port = (uint16_t)ext_port,
        .max_workers = (unsigned)workers,
        .per_hotkey_rate = hk_rate,
        .policy = {.allow = allow_list, .n_allow = n_allow, .deny = deny_list, .n_deny = n_deny},
    };
    uv_loop_t loop;
    uv_loop_init(&loop);
    run_t r = {0};
    rc = gn_axon_start(&loop, &o, &r.ax);
    gn_sr25519_wipe(&kp);
    if (rc == 0)
        rc = gn_axon_attach_builtins(r.ax);
    if (rc < 0) {
        fprintf(stderr, "ganglion: axon: cannot serve on %s:%u: %s\n", ip ? ip : "0.0.0.0",
                (unsigned)port, gn_strerror(rc));
        if (r.ax)
            gn_axon_stop(r.ax, NULL, NULL);
    } else {
        uv_signal_init(&loop, &r.sigint);
        uv_signal_init(&loop, &r.sigterm);
        r.sigint.data = r.sigterm.data = &r;
        uv_signal_start(&r.sigint, on_signal, SIGINT);
        uv_signal_start(&r.sigterm, on_signal, SIGTERM);
        /* one line on stdout for scripts: where it listens */
        printf("{\"axon\":\"%s:%u\",\"hotkey\":\"%s\"}\n", ip ? ip : "0.0.0.0", gn_axon_port(r.ax),
               hotkey);
        fflush(stdout);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(allow_list);
    free(deny_list);
    free(allow_store);
    free(deny_store);
    return rc < 0 ? GN_EXIT_FAIL : GN_EXIT_OK;
}
