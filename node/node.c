/* What `ganglion miner` and `ganglion validator` share (node.h): logging,
 * keys, the loop with the chain and metagraph actors, signals with a grace
 * period, a metrics server and progress lines.
 *
 * The node's own handles (signals, the grace timer, the metrics server)
 * belong to a small "node" actor spawned first, so the loop's ordered stop
 * calls its stop hook last and closes them there: every stop (the role's,
 * the grace timer's, a supervisor giving up) ends with the loop empty. */
#include "node.h"

#include "cli.h"
#include "password.h"

#include "ganglion/error.h"
#include "ganglion/fs.h"
#include "ganglion/http.h"
#include "ganglion/keyfile.h"
#include "ganglion/log.h"
#include "ganglion/ss58.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAG         "node"
#define STOP_DRAIN  2000 /* ms the runtime drains mailboxes on an ordered stop */
#define KEYFILE_MAX (64 * 1024)

typedef struct {
    gn_node_t *n;
    gn_actor_t *actor;
    uv_signal_t sigint, sigterm;
    uv_timer_t grace;
    bool handles_up, closing;
    unsigned signals; /* SIGTERM/SIGINT received */
    uint64_t started_ms;

    gn_http_server_t *http; /* gn_node_serve_metrics */
    bool (*healthy)(void *arg, char *why, size_t cap);
    void *healthy_arg;
    char metrics_ip[64];
    uint16_t metrics_port;

    /* progress lines */
    bool progress_tty, progress_open;
    uint64_t progress_last_ms;

    /* logging: a tee thread copies log lines to logging_dir/<role>.log */
    bool log_started;
    int tee_in, tee_out, tee_file;
    pthread_t tee;
    bool tee_running;
} node_priv_t;

static uint64_t mono_ms(void)
{
    return uv_hrtime() / 1000000u;
}

static int fail_msg(const char *role, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_msg(const char *role, int rc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "ganglion: %s: %s\n", role, msg);
    return rc;
}

/* ---- logging ---- */

static void *tee_main(void *arg)
{
    node_priv_t *p = arg;
    char buf[8192];
    for (;;) {
        ssize_t r = read(p->tee_in, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        /* best effort both ways: a full disk must not stop the node */
        if (write(STDERR_FILENO, buf, (size_t)r) < 0) {
        }
        if (p->tee_file >= 0 && write(p->tee_file, buf, (size_t)r) < 0) {
        }
    }
    return NULL;
}

static int start_logging(gn_node_t *n, node_priv_t *p)
{
    const gn_config_t *c = n->cfg;
    gn_log_level_t level = GN_LOG_INFO; /* a node says what it does by default */
    if (gn_config_bool(c, "logging.debug"))
        level = GN_LOG_DEBUG;
    if (gn_config_bool(c, "logging.trace"))
        level = GN_LOG_TRACE;
    const char *f = gn_config_str(c, "logging.format");
    bool tty = isatty(STDERR_FILENO);
    gn_log_format_t fmt = !strcmp(f, "json")    ? GN_LOG_JSON
                          : !strcmp(f, "human") ? GN_LOG_HUMAN
                          : tty                 ? GN_LOG_HUMAN
                                                : GN_LOG_JSON;
    p->progress_tty = tty && fmt == GN_LOG_HUMAN;
    int fd = STDERR_FILENO;
    if (gn_config_bool(c, "logging.record_log")) {
        char dir[PATH_MAX], path[PATH_MAX + 64];
        snprintf(dir, sizeof(dir), "%s", gn_config_str(c, "logging.logging_dir"));
        int pipefd[2];
        int rc = gn_fs_mkdirs(dir, 0700);
        snprintf(path, sizeof(path), "%s/%s.log", dir, n->role);
        if (rc < 0 ||
            (p->tee_file = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
            return fail_msg(n->role, GN_EIO, "logging.record_log: cannot open %s: %s", path,
                            rc < 0 ? gn_strerror(rc) : strerror(errno));
        if (pipe(pipefd) < 0)
            return fail_msg(n->role, GN_EIO, "logging: pipe: %s", strerror(errno));
        p->tee_in = pipefd[0];
        p->tee_out = fd = pipefd[1];
        if (pthread_create(&p->tee, NULL, tee_main, p) != 0)
            return fail_msg(n->role, GN_EIO, "logging: cannot start the log thread");
        p->tee_running = true;
    }
    int rc = gn_log_init(level, fmt, fd, 0);
    if (rc < 0)
        return fail_msg(n->role, rc, "logging: %s", gn_strerror(rc));
    p->log_started = true;
    return 0;
}

static void stop_logging(node_priv_t *p)
{
    if (p->log_started)
        gn_log_shutdown();
    p->log_started = false;
    /* the log writer wrote into the pipe: closing it ends the tee */
    if (p->tee_out >= 0)
        close(p->tee_out);
    if (p->tee_running)
        pthread_join(p->tee, NULL);
    if (p->tee_in >= 0)
        close(p->tee_in);
    if (p->tee_file >= 0)
        close(p->tee_file);
    p->tee_running = false;
    p->tee_in = p->tee_out = p->tee_file = -1;
}

/* ---- keys ---- */

/* An encrypted hotkey needs a password: a daemon has no one to ask, so say
 * what to do instead of failing on a missing terminal. */
static int check_hotkey_file(const gn_node_t *n)
{
    const gn_config_t *c = n->cfg;
    char path[PATH_MAX * 2];
    const char *wp = gn_config_str(c, "wallet.path");
    if (wp[0] == '~' && (wp[1] == '/' || !wp[1])) {
        const char *home = getenv("HOME");
        snprintf(path, sizeof(path), "%s%s/%s/hotkeys/%s", home ? home : "", wp + 1,
                 gn_config_str(c, "wallet.name"), gn_config_str(c, "wallet.hotkey"));
    } else {
        snprintf(path, sizeof(path), "%s/%s/hotkeys/%s", wp, gn_config_str(c, "wallet.name"),
                 gn_config_str(c, "wallet.hotkey"));
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = gn_fs_read(path, KEYFILE_MAX, &data, &len);
    if (rc == GN_ENOENT)
        return fail_msg(n->role, rc,
                        "no hotkey file %s (create it with 'ganglion wallet new-hotkey "
                        "--wallet.name %s --wallet.hotkey %s', or check --wallet.path/name/hotkey)",
                        path, gn_config_str(c, "wallet.name"), gn_config_str(c, "wallet.hotkey"));
    if (rc < 0)
        return fail_msg(n->role, rc, "reading %s: %s", path, gn_strerror(rc));
    gn_keyfile_format_t f = gn_keyfile_detect(data, len);
    gn_fs_free_secret(data, len);
    if (f == GN_KEYFILE_PLAIN)
        return 0;
    char var[PATH_MAX * 2 + 8];
    gn_password_bt_env_name(path, var, sizeof(var));
    if (getenv(var))
        return 0;
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty >= 0) {
        close(tty); /* someone to ask: the wallet code prompts */
        return 0;
    }
    return fail_msg(n->role, GN_EPASSWORD,
                    "the hotkey file %s is encrypted and there is no terminal to ask for its "
                    "password: set %s (btcli's variable for it) or regenerate the hotkey without "
                    "a password ('ganglion wallet regen-hotkey')",
                    path, var);
}

static int load_keys(gn_node_t *n)
{
    const gn_config_t *c = n->cfg;
    int rc = check_hotkey_file(n);
    if (rc < 0)
        return rc;
    rc = gn_cli_wallet_keypair(gn_config_str(c, "wallet.path"), gn_config_str(c, "wallet.name"),
                               gn_config_str(c, "wallet.hotkey"), false, NULL, &n->hotkey);
    if (rc < 0)
        return fail_msg(n->role, rc, "cannot load the hotkey %s of wallet %s: %s",
                        gn_config_str(c, "wallet.hotkey"), gn_config_str(c, "wallet.name"),
                        gn_strerror(rc));
    char addr[GN_SS58_ADDR_MAX];
    rc = gn_ss58_encode(n->hotkey.pub, 32, GN_SS58_BITTENSOR, addr, sizeof(addr));
    if (rc < 0 || strlen(addr) >= sizeof(n->hotkey_ss58))
        return fail_msg(n->role, rc < 0 ? rc : GN_ERANGE, "hotkey address: %s",
                        gn_strerror(rc < 0 ? rc : GN_ERANGE));
    memcpy(n->hotkey_ss58, addr, strlen(addr) + 1);
    rc = gn_cli_wallet_coldkeypub(gn_config_str(c, "wallet.path"), gn_config_str(c, "wallet.name"),
                                  n->coldkey_ss58);
    if (rc < 0 && rc != GN_ENOENT)
        return fail_msg(n->role, rc, "coldkeypub.txt of wallet %s: %s",
                        gn_config_str(c, "wallet.name"), gn_strerror(rc));
    return 0;
}

int gn_node_state_dir(const gn_config_t *c, const char *role, char *out, size_t cap)
{
    const char *sd = gn_config_str(c, "state_dir");
    int len;
    if (sd[0]) {
        len = snprintf(out, cap, "%s", sd);
    } else {
        const char *home = getenv("HOME");
        if (!home || !home[0])
            return GN_EINVAL;
        len = snprintf(out, cap, "%s/.ganglion/%s/%s/netuid%u/%s", home,
                       gn_config_str(c, "wallet.name"), gn_config_str(c, "wallet.hotkey"),
                       (unsigned)gn_config_int(c, "netuid"), role);
    }
    /* room for the file names the node puts there */
    return len < 0 || (size_t)len + 64 >= cap ? GN_ERANGE : 0;
}

static int make_state_dir(gn_node_t *n)
{
    int rc = gn_node_state_dir(n->cfg, n->role, n->state_dir, sizeof(n->state_dir));
    if (rc == GN_EINVAL)
        return fail_msg(n->role, rc, "HOME is not set: give --state_dir");
    if (rc < 0)
        return fail_msg(n->role, rc, "state_dir is too long");
    rc = gn_fs_mkdirs(n->state_dir, 0700);
    if (rc < 0)
        return fail_msg(n->role, rc, "cannot create the state dir %s: %s", n->state_dir,
                        gn_strerror(rc));
    return 0;
}

/* ---- the node actor: signals, grace, the metrics server ---- */

static void handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void grace_cb(uv_timer_t *t)
{
    node_priv_t *p = t->data;
    GN_WARN(TAG, "the %s did not finish within node.grace_period (%g s): stopping now", p->n->role,
            gn_config_float(p->n->cfg, "node.grace_period"));
    gn_loop_stop(p->n->loop, 0);
}

static void signal_cb(uv_signal_t *s, int signum)
{
    node_priv_t *p = s->data;
    gn_node_t *n = p->n;
    const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";
    if (++p->signals > 1) {
        GN_WARN(TAG, "%s again: stopping now", name);
        gn_loop_stop(n->loop, 0);
        return;
    }
    double grace = gn_config_float(n->cfg, "node.grace_period");
    GN_INFO(TAG, "%s: shutting down (finishing what is in flight, at most %g s)", name, grace);
    uv_timer_start(&p->grace, grace_cb, (uint64_t)(grace * 1000.0), 0);
    if (n->on_shutdown)
        n->on_shutdown(n, n->shutdown_arg);
    else
        gn_node_stop(n);
}

static int node_actor_start(gn_actor_t *a)
{
    node_priv_t *p = gn_actor_state(a);
    if (p->handles_up || p->closing)
        return 0;
    uv_loop_t *uv = gn_loop_uv(gn_actor_loop(a));
    uv_signal_init(uv, &p->sigint);
    uv_signal_init(uv, &p->sigterm);
    uv_timer_init(uv, &p->grace);
    p->sigint.data = p->sigterm.data = p->grace.data = p;
    uv_signal_start(&p->sigint, signal_cb, SIGINT);
    uv_signal_start(&p->sigterm, signal_cb, SIGTERM);
    p->handles_up = true;
    p->started_ms = mono_ms();
    return 0;
}

static void node_actor_stop(gn_actor_t *a)
{
    node_priv_t *p = gn_actor_state(a);
    p->closing = true;
    if (p->handles_up) {
        uv_timer_stop(&p->grace);
        uv_close((uv_handle_t *)&p->sigint, handle_closed);
        uv_close((uv_handle_t *)&p->sigterm, handle_closed);
        uv_close((uv_handle_t *)&p->grace, handle_closed);
        p->handles_up = false;
    }
    if (p->http) {
        gn_http_server_stop(p->http, NULL, NULL);
        p->http = NULL;
    }
}

static int node_actor_handle(gn_actor_t *a, gn_msg_t *m)
{
    (void)a;
    (void)m;
    return 0;
}

/* ---- open / run / close ---- */

int gn_node_open(gn_node_t *n, const char *role, const gn_config_t *cfg)
{
    memset(n, 0, sizeof(*n));
    n->cfg = cfg;
    n->role = role;
    node_priv_t *p = calloc(1, sizeof(*p));
    if (!p)
        return fail_msg(role, GN_ENOMEM, "out of memory");
    p->n = n;
    p->tee_in = p->tee_out = p->tee_file = -1;
    n->priv = p;
    n->netuid = (uint16_t)gn_config_int(cfg, "netuid");
    int rc = gn_config_endpoint(cfg, n->endpoint, sizeof(n->endpoint));
    if (rc < 0)
        return fail_msg(role, rc,
                        "no usable chain endpoint (--subtensor.network, "
                        "--subtensor.chain_endpoint): %s",
                        gn_strerror(rc));
    if ((rc = load_keys(n)) < 0 || (rc = make_state_dir(n)) < 0 || (rc = start_logging(n, p)) < 0)
        return rc;

    char cache[PATH_MAX + 16], persist[PATH_MAX + 32];
    snprintf(cache, sizeof(cache), "%s/chain-cache", n->state_dir);
    snprintf(persist, sizeof(persist), "%s/metagraph.msgpack", n->state_dir);
    if ((rc = gn_loop_new(&n->loop)) < 0 || (rc = gn_topic_new("blocks", &n->blocks)) < 0 ||
        (rc = gn_topic_new("metagraph", &n->snapshots)) < 0 ||
        (rc = gn_metrics_new(&n->metrics)) < 0 ||
        (rc = gn_metrics_add_collector(n->metrics, gn_loop_metrics_collector, n->loop)) < 0)
        goto fail;
    /* first, so its stop hook runs last and closes the node's handles */
    static const gn_actor_spec_t node_spec = {.name = "node",
                                              .handle = node_actor_handle,
                                              .start = node_actor_start,
                                              .stop = node_actor_stop,
                                              .mailbox_cap = 16};
    if ((rc = gn_actor_spawn(n->loop, &node_spec, p, &p->actor)) < 0)
        goto fail;
    gn_chain_opts_t co = {.url = n->endpoint, .cache_dir = cache};
    if ((rc = gn_chain_actor_spawn(n->loop, &co, n->blocks, &n->chain_state, &n->chain)) < 0)
        goto fail;
    gn_metagraph_opts_t mo = {
        .netuid = n->netuid,
        .every_blocks = (uint64_t)gn_config_int(cfg, "metagraph.sync_blocks"),
        .persist_path = gn_config_bool(cfg, "metagraph.persist") ? persist : NULL,
        .chain = n->chain,
        .out = n->snapshots,
    };
    if ((rc = gn_metagraph_spawn(n->loop, &mo, &n->mg_state, &n->metagraph)) < 0 ||
        (rc = gn_topic_subscribe(n->blocks, n->metagraph)) < 0)
        goto fail;

    GN_INFO(TAG, "ganglion %s %s starting: hotkey %s, coldkey %s", role, GN_VERSION, n->hotkey_ss58,
            n->coldkey_ss58[0] ? n->coldkey_ss58 : "(no coldkeypub.txt)");
    GN_INFO(TAG, "chain %s, netuid %u, state_dir %s", n->endpoint, (unsigned)n->netuid,
            n->state_dir);
    return 0;
fail:
    return fail_msg(role, rc, "cannot start the node: %s", gn_strerror(rc));
}

/* ---- the metrics server ---- */

static void respond_text(gn_http_req_t *req, int status, const char *ctype, const char *body,
                         size_t len)
{
    gn_header_t h = {"Content-Type", 12, ctype, strlen(ctype)};
    gn_http_respond(req, status, &h, 1, body, len);
}

static void metrics_request(gn_http_req_t *req, void *arg)
{
    node_priv_t *p = arg;
    gn_node_t *n = p->n;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    const char *path = req->path;
    size_t plen = strcspn(path, "?");
    if (get && plen == 8 && !strncmp(path, "/metrics", 8)) {
        char *text = NULL;
        size_t len = 0;
        if (gn_metrics_render(n->metrics, &text, &len) == 0)
            respond_text(req, 200, "text/plain; version=0.0.4", text, len);
        else
            respond_text(req, 500, "text/plain", "", 0);
        free(text);
        return;
    }
    if (get && plen == 8 && !strncmp(path, "/healthz", 8)) {
        char why[256] = "";
        bool ok = !p->healthy || p->healthy(p->healthy_arg, why, sizeof(why));
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:f}", "status", ok ? "ok" : "unhealthy", "role",
                              n->role, "hotkey", n->hotkey_ss58, "netuid", (json_int_t)n->netuid,
                              "uptime_s", (double)(mono_ms() - p->started_ms) / 1000.0);
        if (o && !ok)
            json_object_set_new(o, "reason", json_string(why[0] ? why : "not ready"));
        char *b = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        respond_text(req, ok ? 200 : 503, "application/json", b ? b : "{}", b ? strlen(b) : 2);
        free(b);
        return;
    }
    respond_text(req, 404, "text/plain", "not found\n", 10);
}

int gn_node_serve_metrics(gn_node_t *n, bool (*healthy)(void *arg, char *why, size_t cap),
                          void *arg)
{
    node_priv_t *p = n ? n->priv : NULL;
    if (!p || !n->loop)
        return GN_EINVAL;
    if (p->http)
        return GN_EEXIST;
    int64_t port = gn_config_int(n->cfg, "metrics.port");
    if (port <= 0)
        return 0; /* off */
    snprintf(p->metrics_ip, sizeof(p->metrics_ip), "%s", gn_config_str(n->cfg, "metrics.ip"));
    p->metrics_port = (uint16_t)port;
    p->healthy = healthy;
    p->healthy_arg = arg;
    gn_http_opts_t o = {
        .ip = p->metrics_ip,
        .port = p->metrics_port,
        .limits = {.max_body_bytes = 4096, .max_connections = 256},
        .on_request = metrics_request,
        .arg = p,
    };
    int rc = gn_http_server_start(gn_loop_uv(n->loop), &o, &p->http);
    if (rc < 0) {
        GN_ERROR(TAG, "cannot serve metrics on %s:%u: %s", p->metrics_ip, (unsigned)p->metrics_port,
                 gn_strerror(rc));
        fprintf(stderr, "ganglion: %s: cannot serve metrics on %s:%u: %s\n", n->role, p->metrics_ip,
                (unsigned)p->metrics_port, gn_strerror(rc));
        return rc;
    }
    GN_INFO(TAG, "metrics and health on http://%s:%u/metrics and /healthz", p->metrics_ip,
            (unsigned)gn_http_server_port(p->http));
    return 0;
}

int gn_node_run(gn_node_t *n)
{
    if (!n || !n->loop)
        return GN_EINVAL;
    int rc = gn_loop_run(n->loop);
    node_priv_t *p = n->priv;
    if (p && p->progress_tty && p->progress_open) {
        fputc('\n', stderr);
        p->progress_open = false;
    }
    if (rc != 0)
        GN_ERROR(TAG, "the %s stopped after an actor failed for good (exit %d)", n->role, rc);
    else
        GN_INFO(TAG, "the %s stopped", n->role);
    return rc;
}

void gn_node_stop(gn_node_t *n)
{
    if (n && n->loop)
        gn_loop_stop(n->loop, STOP_DRAIN);
}

void gn_node_close(gn_node_t *n)
{
    if (!n)
        return;
    node_priv_t *p = n->priv;
    if (n->loop)
        gn_loop_free(n->loop); /* runs the stop hooks if the loop never ran */
    n->loop = NULL;
    gn_metagraph_actor_free(n->mg_state);
    gn_chain_actor_free(n->chain_state);
    n->mg_state = NULL;
    n->chain_state = NULL;
    gn_topic_free(n->blocks);
    gn_topic_free(n->snapshots);
    n->blocks = n->snapshots = NULL;
    gn_metrics_free(n->metrics);
    n->metrics = NULL;
    sodium_memzero(&n->hotkey, sizeof(n->hotkey));
    if (p) {
        stop_logging(p);
        free(p);
    }
    n->priv = NULL;
}

/* ---- progress ---- */

void gn_node_progress(gn_node_t *n, const char *what, bool done)
{
    node_priv_t *p = n ? n->priv : NULL;
    if (!p || !what)
        return;
    uint64_t now = mono_ms();
    if (p->progress_tty) {
        /* one line rewritten in place; a log line may land after it, which
         * the next rewrite leaves on its own line */
        fprintf(stderr, "\r\033[K%s%s", what, done ? " ... done\n" : "");
        fflush(stderr);
        p->progress_open = !done;
        return;
    }
    /* a wait's first line at once, then at most one every 5 s */
    if (done)
        GN_INFO(TAG, "%s: done", what);
    else if (!p->progress_open || now - p->progress_last_ms >= 5000)
        GN_INFO(TAG, "%s", what);
    else
        return;
    p->progress_last_ms = now;
    p->progress_open = !done;
}
