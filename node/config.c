/* The node's configuration: one schema, four sources (default < YAML file
 * < environment < flags), typed reads. See config.h and docs/config.md. */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "cli.h"
#include "ganglion/error.h"
#include "ganglion/rpc.h"
#include "ganglion/utf8.h"

extern char **environ;

#define MAX_FILE  (1u << 20) /* a config file is small: bound what we parse */
#define MAX_DEPTH 16         /* nesting of YAML maps and lists */
#define MAX_LIST  4096       /* items of one list key */

enum {
    F_HOME = 1u << 0,     /* `~/` expanded to $HOME */
    F_MIN_EXCL = 1u << 1, /* min is exclusive */
    F_NO_MAX = 1u << 2,   /* no upper bound */
    F_IP = 1u << 3,       /* an IP address (or "" when F_EMPTY_OK) */
    F_EMPTY_OK = 1u << 4,
    F_NETWORK = 1u << 5,  /* a network name or URL */
    F_ENDPOINT = 1u << 6, /* "" or a ws:// / wss:// URL or host:port */
    F_NO_FILE = 1u << 7,  /* not settable in the YAML file (config itself) */
};

typedef struct {
    const char *key;
    gn_cfg_type_t type;
    const char *def; /* as text; lists comma-separated */
    double min, max;
    unsigned flags;
    const char *choices; /* "a|b|c" for a str key with fixed choices */
    const char *bt_env;  /* the SDK's variable, lower precedence */
    const char *help;
} cfg_key_t;

static const cfg_key_t schema[] = {
    {"config", GN_CFG_STR, "", 0, 0, F_NO_FILE, NULL, NULL,
     "the YAML file of this configuration (--config or GANGLION_CONFIG)"},
    {"netuid", GN_CFG_INT, "1", 0, 65535, 0, NULL, NULL, "the subnet"},
    {"wallet.name", GN_CFG_STR, "default", 0, 0, 0, NULL, "BT_WALLET_NAME", "the coldkey's name"},
    {"wallet.hotkey", GN_CFG_STR, "default", 0, 0, 0, NULL, "BT_WALLET_HOTKEY",
     "the hotkey's name"},
    {"wallet.path", GN_CFG_STR, "~/.bittensor/wallets", 0, 0, F_HOME, NULL, "BT_WALLET_PATH",
     "the wallets' folder"},
    {"subtensor.network", GN_CFG_STR, "finney", 0, 0, F_NETWORK, NULL, "BT_SUBTENSOR_NETWORK",
     "finney, test, archive, local, latent-lite, or a URL"},
    {"subtensor.chain_endpoint", GN_CFG_STR, "", 0, 0, F_ENDPOINT, NULL,
     "BT_SUBTENSOR_CHAIN_ENDPOINT", "the node's URL; wins over subtensor.network when set"},
    {"axon.port", GN_CFG_INT, "8091", 1, 65535, 0, NULL, "BT_AXON_PORT", "the axon's port"},
    {"axon.ip", GN_CFG_STR, "0.0.0.0", 0, 0, F_IP, NULL, "BT_AXON_IP",
     "the address the axon binds"},
    {"axon.external_ip", GN_CFG_STR, "", 0, 0, F_IP | F_EMPTY_OK, NULL, "BT_AXON_EXTERNAL_IP",
     "the IP published on chain (\"\": discovered)"},
    {"axon.external_port", GN_CFG_INT, "0", 0, 65535, 0, NULL, "BT_AXON_EXTERNAL_PORT",
     "the port published on chain (0: axon.port)"},
    {"axon.max_workers", GN_CFG_INT, "10", 1, 4096, 0, NULL, "BT_AXON_MAX_WORKERS",
     "requests handled at once"},
    {"axon.off", GN_CFG_BOOL, "false", 0, 0, 0, NULL, NULL, "run without an axon"},
    {"logging.debug", GN_CFG_BOOL, "false", 0, 0, 0, NULL, "BT_LOGGING_DEBUG", "debug logs"},
    {"logging.trace", GN_CFG_BOOL, "false", 0, 0, 0, NULL, "BT_LOGGING_TRACE", "trace logs"},
    {"logging.info", GN_CFG_BOOL, "false", 0, 0, 0, NULL, "BT_LOGGING_INFO", "info logs"},
    {"logging.format", GN_CFG_STR, "auto", 0, 0, 0, "auto|human|json", NULL,
     "log lines: human on a terminal, else JSON (auto)"},
    {"logging.logging_dir", GN_CFG_STR, "~/.bittensor/miners", 0, 0, F_HOME, NULL,
     "BT_LOGGING_LOGGING_DIR", "where record_log writes"},
    {"logging.record_log", GN_CFG_BOOL, "false", 0, 0, 0, NULL, "BT_LOGGING_RECORD_LOG",
     "also write logs to logging_dir"},
    {"state_dir", GN_CFG_STR, "", 0, 0, F_HOME, NULL, NULL,
     "the node's state (\"\": the node's default)"},
    {"metrics.port", GN_CFG_INT, "0", 0, 65535, 0, NULL, NULL, "Prometheus port (0: off)"},
    {"metrics.ip", GN_CFG_STR, "127.0.0.1", 0, 0, F_IP, NULL, NULL, "Prometheus bind address"},
    {"metagraph.sync_blocks", GN_CFG_INT, "100", 1, 100000, 0, NULL, NULL,
     "sync the metagraph every N blocks"},
    {"metagraph.persist", GN_CFG_BOOL, "true", 0, 0, 0, NULL, NULL,
     "keep the last metagraph on disk"},
    {"node.grace_period", GN_CFG_FLOAT, "20", 0, 3600, 0, NULL, NULL,
     "seconds to finish work at shutdown"},
    {"miner.register", GN_CFG_BOOL, "false", 0, 0, 0, NULL, NULL,
     "register the hotkey (burned) when it is not"},
    {"miner.require_validator_permit", GN_CFG_BOOL, "false", 0, 0, 0, NULL, NULL,
     "serve only validators with a permit"},
    {"miner.allow_non_registered", GN_CFG_BOOL, "false", 0, 0, 0, NULL, NULL,
     "serve hotkeys not registered on the subnet"},
    {"miner.min_stake", GN_CFG_FLOAT, "0", 0, 0, F_NO_MAX, NULL, NULL,
     "serve only callers with this stake (TAO)"},
    {"miner.handlers", GN_CFG_LIST, "Dummy,StreamingDummy", 0, 0, 0, NULL, NULL,
     "built-in synapse handlers"},
    {"miner.plugins", GN_CFG_LIST, "", 0, 0, 0, NULL, NULL, "handler plug-ins (.so paths)"},
    {"miner.workers", GN_CFG_LIST, "", 0, 0, 0, NULL, NULL, "worker Unix socket paths"},
    {"miner.per_hotkey_rate", GN_CFG_FLOAT, "0", 0, 0, F_NO_MAX, NULL, NULL,
     "requests per second per caller (0: no limit)"},
    {"miner.serve_axon", GN_CFG_BOOL, "true", 0, 0, 0, NULL, NULL,
     "publish the axon on chain (serve_axon)"},
    {"validator.sample_size", GN_CFG_INT, "0", 0, 0, F_NO_MAX, NULL, NULL,
     "miners queried per step (0: every serving axon)"},
    {"validator.alpha", GN_CFG_FLOAT, "0.1", 0, 1, F_MIN_EXCL, NULL, NULL,
     "moving average weight of a new score"},
    {"validator.epoch_length", GN_CFG_INT, "0", 0, 0, F_NO_MAX, NULL, NULL,
     "blocks between weight settings (0: the subnet's tempo)"},
    {"validator.step_interval", GN_CFG_FLOAT, "12", 0.05, 86400, 0, NULL, NULL,
     "seconds between query steps"},
    {"validator.timeout", GN_CFG_FLOAT, "12", 0.01, 3600, 0, NULL, NULL,
     "seconds a query may take"},
    {"validator.task", GN_CFG_STR, "Dummy", 0, 0, 0, NULL, NULL, "the task source"},
    {"validator.scorer", GN_CFG_STR, "", 0, 0, 0, NULL, NULL, "the scorer (\"\": the task's)"},
    {"validator.disable_set_weights", GN_CFG_BOOL, "false", 0, 0, 0, NULL, NULL,
     "score but never set weights"},
    {"validator.version_key", GN_CFG_INT, "0", 0, 0, F_NO_MAX, NULL, NULL,
     "weights version key (0: the SDK's)"},
    {"validator.max_steps", GN_CFG_INT, "0", 0, 0, F_NO_MAX, NULL, NULL,
     "stop after N steps (0: run forever)"},
};
#define NKEYS (sizeof(schema) / sizeof(schema[0]))

/* Environment prefixes (after GANGLION_) that are ours: a variable under
 * one of them that names no key is a typo, not someone else's variable. */
static const char *const env_sections[] = {"WALLET_",    "SUBTENSOR_", "AXON_",    "LOGGING_",
                                           "METRICS_",   "METAGRAPH_", "NODE_",    "MINER_",
                                           "VALIDATOR_", "NETUID",     "STATE_DIR"};

typedef struct {
    union {
        char *s;
        int64_t i;
        double f;
        bool b;
    } v;
    char **list;
    size_t n;
    gn_cfg_source_t src;
    char *where;
    bool flag_seen; /* a list flag seen once: later ones append */
} val_t;

struct gn_config {
    char *role;
    val_t v[NKEYS];
};

/* ---- helpers ---- */

static int errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
        /* one line, whatever names (paths, variables) it quotes */
        bool utf8 = gn_utf8_valid((const uint8_t *)err, strlen(err));
        for (char *p = err; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f || ((unsigned char)*p >= 0x80 && !utf8))
                *p = '?';
    }
    return GN_EINVAL;
}

static int key_index(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(schema[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* Whether `name` is a section (wallet, axon...): a prefix of keys. */
static bool is_section(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < NKEYS; i++)
        if (strncmp(schema[i].key, name, n) == 0 && schema[i].key[n] == '.')
            return true;
    return false;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

/* "unknown key" with the nearest key as a hint. */
static void unknown_msg(const char *key, char *buf, size_t cap)
{
    size_t best = 99;
    const char *hint = NULL;
    for (size_t i = 0; i < NKEYS; i++) {
        size_t d = edit_distance(key, schema[i].key);
        if (d < best) {
            best = d;
            hint = schema[i].key;
        }
    }
    if (hint && best <= 2) {
        snprintf(buf, cap, "unknown key (did you mean %s?)", hint);
        return;
    }
    /* `--port`: the keys whose last part it is (axon.port, metrics.port) */
    size_t o = 0, found = 0;
    for (size_t i = 0; i < NKEYS && o < cap; i++) {
        const char *dot = strrchr(schema[i].key, '.');
        if (!dot || strcmp(dot + 1, key) != 0)
            continue;
        int n = snprintf(buf + o, cap - o, "%s%s", found ? " or " : "unknown key (did you mean ",
                         schema[i].key);
        o += n > 0 ? (size_t)n : 0;
        found++;
    }
    if (found && o + 2 < cap)
        snprintf(buf + o, cap - o, "?)");
    else
        snprintf(buf, cap, "unknown key");
}

/* A value quoted for a one-line message: escaped, and cut when long. */
typedef struct {
    char s[100];
} qbuf_t;

static const char *q(const char *v, qbuf_t *b)
{
    size_t o = 0, max = sizeof b->s - 8;
    bool utf8 = gn_utf8_valid((const uint8_t *)v, strlen(v));
    b->s[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (o >= max) {
            /* never half a UTF-8 sequence */
            while (o > 1 && ((unsigned char)b->s[o - 1] & 0xC0) == 0x80)
                o--;
            if (o > 1 && (unsigned char)b->s[o - 1] >= 0xC0)
                o--;
            memcpy(b->s + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '"' || *p == '\\') {
            b->s[o++] = '\\';
            b->s[o++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8)) {
            o += (size_t)snprintf(b->s + o, 5, "\\x%02x", *p);
        } else {
            b->s[o++] = (char)*p;
        }
    }
    b->s[o++] = '"';
    b->s[o] = 0;
    return b->s;
}

static char *xstrdup(const char *s)
{
    return strdup(s ? s : "");
}

static void free_list(val_t *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->list[i]);
    free(v->list);
    v->list = NULL;
    v->n = 0;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"true", "1", "yes", "on"};
    static const char *const f[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, t[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, f[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static void fmt_num(char *buf, size_t cap, double x)
{
    snprintf(buf, cap, "%.15g", x);
    if (strtod(buf, NULL) != x)
        snprintf(buf, cap, "%.17g", x);
}

/* The allowed range of a number key, for messages: "1..65535", ">= 0". */
static void range_text(const cfg_key_t *k, char *buf, size_t cap)
{
    char lo[32], hi[32];
    fmt_num(lo, sizeof lo, k->min);
    fmt_num(hi, sizeof hi, k->max);
    if (k->flags & F_NO_MAX)
        snprintf(buf, cap, "must be >= %s", lo);
    else if (k->flags & F_MIN_EXCL)
        snprintf(buf, cap, "is out of range %s < x <= %s", lo, hi);
    else
        snprintf(buf, cap, "is out of range %s..%s", lo, hi);
}

static bool in_range(const cfg_key_t *k, double x)
{
    if (k->flags & F_MIN_EXCL ? x <= k->min : x < k->min)
        return false;
    return (k->flags & F_NO_MAX) || x <= k->max;
}

static bool known_network(const char *s)
{
    static const char *const names[] = {"finney", "test", "archive", "local", "latent-lite"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
}

/* An endpoint: ws:// or wss:// URL, or host:port (ws:// is prepended). */
static bool endpoint_ok(const char *s, char *why, size_t cap)
{
    qbuf_t qb;
    const char *sep = strstr(s, "://");
    if (sep) {
        if (strncmp(s, "ws://", 5) != 0 && strncmp(s, "wss://", 6) != 0) {
            snprintf(why, cap, "%s: the scheme must be ws:// or wss://", q(s, &qb));
            return false;
        }
        if (!sep[3]) {
            snprintf(why, cap, "%s has no host", q(s, &qb));
            return false;
        }
        return true;
    }
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p) || *p == '/') {
            snprintf(why, cap, "%s is not a ws:// or wss:// URL or host:port", q(s, &qb));
            return false;
        }
    if (!strchr(s, ':')) {
        snprintf(why, cap, "%s is not a ws:// or wss:// URL or host:port", q(s, &qb));
        return false;
    }
    return true;
}

/* Checks a string value (choices, IPs, networks); `why` gets the reason. */
static bool check_str(const cfg_key_t *k, const char *s, char *why, size_t cap)
{
    qbuf_t qb;
    if (k->choices) {
        size_t n = strlen(s);
        for (const char *c = k->choices; *c;) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && strncmp(c, s, n) == 0)
                return true;
            c += len + (bar ? 1 : 0);
        }
        char list[128];
        snprintf(list, sizeof list, "%s", k->choices);
        for (char *p = list; *p; p++)
            if (*p == '|')
                *p = ',';
        /* "auto,human,json" -> "auto, human, json" reads better */
        char nice[192] = "";
        size_t o = 0;
        for (char *p = list; *p && o + 3 < sizeof nice; p++) {
            nice[o++] = *p;
            if (*p == ',')
                nice[o++] = ' ';
        }
        nice[o] = 0;
        snprintf(why, cap, "%s is not one of %s", q(s, &qb), nice);
        return false;
    }
    if (k->flags & F_IP) {
        if (!*s && (k->flags & F_EMPTY_OK))
            return true;
        unsigned char buf[16];
        char tmp[64];
        size_t n = strlen(s);
        const char *ip = s;
        if (n >= 2 && n < sizeof tmp && s[0] == '[' && s[n - 1] == ']') {
            memcpy(tmp, s + 1, n - 2);
            tmp[n - 2] = 0;
            ip = tmp;
        }
        if (inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1) {
            snprintf(why, cap, "%s is not an IPv4 or IPv6 address", q(s, &qb));
            return false;
        }
        return true;
    }
    if (k->flags & F_NETWORK) {
        if (known_network(s))
            return true;
        if ((strstr(s, "://") || strchr(s, ':')) && endpoint_ok(s, why, cap))
            return true;
        snprintf(why, cap,
                 "%s is not a network (finney, test, archive, local, latent-lite) or a "
                 "ws:// / wss:// URL",
                 q(s, &qb));
        return false;
    }
    if (k->flags & F_ENDPOINT)
        return !*s || endpoint_ok(s, why, cap);
    return true;
}

/* Set key i from the text `s` coming from `src` at `where`. A list from a
 * flag appends after the first flag; from anywhere else it replaces.
 * `what` prefixes the error ("flag --x", "FILE:LINE: key"). */
static int set_text(gn_config_t *c, size_t i, const char *s, gn_cfg_source_t src, const char *where,
                    const char *what, char *err, size_t cap)
{
    const cfg_key_t *k = &schema[i];
    val_t *v = &c->v[i];
    char why[320];
    qbuf_t qb;
    /* flags and the environment are bytes; the config is text (and JSON) */
    if ((k->type == GN_CFG_STR || k->type == GN_CFG_LIST) &&
        !gn_utf8_valid((const uint8_t *)s, strlen(s)))
        return errf(err, cap, "%s: %s is not valid UTF-8", what, q(s, &qb));
    switch (k->type) {
    case GN_CFG_STR: {
        if (!check_str(k, s, why, sizeof why))
            return errf(err, cap, "%s: %s", what, why);
        char *d = xstrdup(s);
        if (!d)
            return GN_ENOMEM;
        free(v->v.s);
        v->v.s = d;
        break;
    }
    case GN_CFG_INT: {
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (!*s || *end || isspace((unsigned char)*s))
            return errf(err, cap, "%s: %s is not an integer", what, q(s, &qb));
        if (errno == ERANGE || !in_range(k, (double)x)) {
            range_text(k, why, sizeof why);
            return errf(err, cap, "%s: %s %s", what, s, why);
        }
        v->v.i = x;
        break;
    }
    case GN_CFG_FLOAT: {
        char *end;
        errno = 0;
        double x = strtod(s, &end);
        if (!*s || *end || strspn(s, "0123456789+-.eE") != strlen(s) || !isfinite(x))
            return errf(err, cap, "%s: %s is not a number", what, q(s, &qb));
        if (!in_range(k, x)) {
            range_text(k, why, sizeof why);
            return errf(err, cap, "%s: %s %s", what, s, why);
        }
        v->v.f = x;
        break;
    }
    case GN_CFG_BOOL:
        if (!parse_bool(s, &v->v.b))
            return errf(err, cap, "%s: %s is not a boolean (true/false, yes/no, on/off, 1/0)", what,
                        q(s, &qb));
        break;
    case GN_CFG_LIST: {
        if (!(src == GN_CFG_FLAG && v->flag_seen))
            free_list(v);
        for (const char *p = s; *p;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            const char *a = p, *b = p + len;
            while (a < b && isspace((unsigned char)*a))
                a++;
            while (b > a && isspace((unsigned char)b[-1]))
                b--;
            if (b > a) {
                if (v->n >= MAX_LIST)
                    return errf(err, cap, "%s: more than %d items", what, MAX_LIST);
                char **nl = realloc(v->list, (v->n + 1) * sizeof *nl);
                if (!nl)
                    return GN_ENOMEM;
                v->list = nl;
                if (!(v->list[v->n] = strndup(a, (size_t)(b - a))))
                    return GN_ENOMEM;
                v->n++;
            }
            p += len + (comma ? 1 : 0);
        }
        if (src == GN_CFG_FLAG)
            v->flag_seen = true;
        break;
    }
    }
    char *w = xstrdup(where);
    if (!w)
        return GN_ENOMEM;
    free(v->where);
    v->where = w;
    v->src = src;
    return 0;
}

/* ---- environment ---- */

static const char *env_get(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static void env_name(const char *key, char *buf, size_t cap)
{
    size_t o = snprintf(buf, cap, "GANGLION_");
    for (const char *p = key; *p && o + 1 < cap; p++)
        buf[o++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    buf[o] = 0;
}

static int apply_env(gn_config_t *c, char **envp, char *err, size_t cap)
{
    char what[160];
    /* the SDK's names first: GANGLION_* beat them */
    for (size_t i = 0; i < NKEYS; i++) {
        const char *s = schema[i].bt_env ? env_get(envp, schema[i].bt_env) : NULL;
        if (!s)
            continue;
        snprintf(what, sizeof what, "environment %s", schema[i].bt_env);
        int rc = set_text(c, i, s, GN_CFG_ENV, schema[i].bt_env, what, err, cap);
        if (rc)
            return rc;
    }
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "GANGLION_", 9) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[128];
        size_t nl = (size_t)(eq - *e);
        if (nl >= sizeof name)
            nl = sizeof name - 1;
        memcpy(name, *e, nl);
        name[nl] = 0;
        if (strcmp(name, "GANGLION_CONFIG") == 0)
            continue; /* read before the file */
        int found = -1;
        for (size_t i = 0; i < NKEYS && found < 0; i++) {
            char en[128];
            env_name(schema[i].key, en, sizeof en);
            if (strcmp(en, name) == 0)
                found = (int)i;
        }
        if (found < 0) {
            for (size_t j = 0; j < sizeof env_sections / sizeof env_sections[0]; j++)
                if (strncmp(name + 9, env_sections[j], strlen(env_sections[j])) == 0)
                    return errf(err, cap, "environment %s: unknown key (no such setting)", name);
            continue; /* someone else's GANGLION_* variable */
        }
        snprintf(what, sizeof what, "environment %s", name);
        int rc = set_text(c, (size_t)found, eq + 1, GN_CFG_ENV, name, what, err, cap);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- YAML ---- */

typedef struct {
    gn_config_t *c;
    yaml_parser_t p;
    const char *file;
    char *err;
    size_t cap;
    int file_line[NKEYS]; /* line a key was set at in this file (duplicates) */
} yctx_t;

static int yerr(yctx_t *y, size_t line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int yerr(yctx_t *y, size_t line, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (key)
        errf(y->err, y->cap, "%s:%zu: %s: %s", y->file, line, key, msg);
    else
        errf(y->err, y->cap, "%s:%zu: %s", y->file, line, msg);
    return GN_EINVAL;
}

static int syntax_error(yctx_t *y)
{
    const char *ctx = y->p.context ? y->p.context : "";
    errf(y->err, y->cap, "%s:%zu: YAML syntax error: %s%s%s", y->file, y->p.problem_mark.line + 1,
         y->p.problem ? y->p.problem : "unreadable", *ctx ? ", " : "", ctx);
    return GN_EPARSE;
}

static int next_event(yctx_t *y, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&y->p, ev))
        return syntax_error(y);
    if (ev->type == YAML_ALIAS_EVENT) {
        size_t line = ev->start_mark.line + 1;
        yaml_event_delete(ev);
        return yerr(y, line, NULL, "aliases (*name) are not supported");
    }
    const yaml_char_t *anchor = NULL;
    if (ev->type == YAML_SCALAR_EVENT)
        anchor = ev->data.scalar.anchor;
    else if (ev->type == YAML_MAPPING_START_EVENT)
        anchor = ev->data.mapping_start.anchor;
    else if (ev->type == YAML_SEQUENCE_START_EVENT)
        anchor = ev->data.sequence_start.anchor;
    if (anchor) {
        size_t line = ev->start_mark.line + 1;
        yaml_event_delete(ev);
        return yerr(y, line, NULL, "anchors (&name) are not supported");
    }
    return 0;
}

static const char *type_name(gn_cfg_type_t t)
{
    switch (t) {
    case GN_CFG_STR: return "a string";
    case GN_CFG_INT: return "an integer";
    case GN_CFG_FLOAT: return "a number";
    case GN_CFG_BOOL: return "a boolean";
    case GN_CFG_LIST: return "a list";
    }
    return "a value";
}

/* A plain scalar that YAML reads as null. */
static bool is_null(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)ev->data.scalar.value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int mark_set(yctx_t *y, size_t i, size_t line, const char *key)
{
    if (y->file_line[i])
        return yerr(y, line, key, "set twice (first at line %d)", y->file_line[i]);
    y->file_line[i] = (int)line;
    return 0;
}

/* The value of key i (first event `ev`, owned by the caller). */
static int yaml_value(yctx_t *y, size_t i, yaml_event_t *ev)
{
    const cfg_key_t *k = &schema[i];
    size_t line = ev->start_mark.line + 1;
    char where[1100], what[1200];
    snprintf(where, sizeof where, "%s:%zu", y->file, line);
    snprintf(what, sizeof what, "%s: %s", where, k->key);
    int rc = mark_set(y, i, line, k->key);
    if (rc)
        return rc;
    if (k->flags & F_NO_FILE)
        return yerr(y, line, k->key,
                    "not allowed in a config file (use --config or GANGLION_CONFIG)");
    if (ev->type == YAML_MAPPING_START_EVENT)
        return yerr(y, line, k->key, "a mapping where %s is expected", type_name(k->type));
    if (ev->type == YAML_SEQUENCE_START_EVENT) {
        if (k->type != GN_CFG_LIST)
            return yerr(y, line, k->key, "a list where %s is expected", type_name(k->type));
        val_t *v = &y->c->v[i];
        free_list(v);
        for (;;) {
            yaml_event_t it;
            if ((rc = next_event(y, &it)))
                return rc;
            if (it.type == YAML_SEQUENCE_END_EVENT) {
                yaml_event_delete(&it);
                break;
            }
            size_t il = it.start_mark.line + 1;
            if (it.type != YAML_SCALAR_EVENT) {
                yaml_event_delete(&it);
                return yerr(y, il, k->key, "list items must be strings");
            }
            if (strlen((char *)it.data.scalar.value) != it.data.scalar.length) {
                yaml_event_delete(&it);
                return yerr(y, il, k->key, "a NUL byte in a list item");
            }
            if (v->n >= MAX_LIST) {
                yaml_event_delete(&it);
                return yerr(y, il, k->key, "more than %d items", MAX_LIST);
            }
            char **nl = realloc(v->list, (v->n + 1) * sizeof *nl);
            char *s = nl ? strdup(is_null(&it) ? "" : (char *)it.data.scalar.value) : NULL;
            yaml_event_delete(&it);
            if (!nl || !s) {
                if (nl)
                    v->list = nl;
                free(s);
                return GN_ENOMEM;
            }
            v->list = nl;
            v->list[v->n++] = s;
        }
        char *w = strdup(where);
        if (!w)
            return GN_ENOMEM;
        free(v->where);
        v->where = w;
        v->src = GN_CFG_FILE;
        return 0;
    }
    /* a scalar */
    const char *s = (const char *)ev->data.scalar.value;
    if (strlen(s) != ev->data.scalar.length)
        return yerr(y, line, k->key, "a NUL byte in the value");
    if (is_null(ev)) {
        if (k->type == GN_CFG_STR || k->type == GN_CFG_LIST)
            s = "";
        else
            return yerr(y, line, k->key, "no value (%s is expected)", type_name(k->type));
    }
    return set_text(y->c, i, s, GN_CFG_FILE, where, what, y->err, y->cap);
}

/* The pairs of one mapping (after its start event) up to its end: every
 * value is consumed or is an error. */
static int yaml_map(yctx_t *y, const char *prefix, int depth)
{
    /* raw keys of this mapping, for YAML-level duplicates */
    char **seen = NULL;
    size_t nseen = 0;
    int rc = 0;
    for (;;) {
        yaml_event_t kev, vev;
        if ((rc = next_event(y, &kev)))
            goto fail;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            break;
        }
        size_t line = kev.start_mark.line + 1;
        if (kev.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&kev);
            rc = yerr(y, line, prefix[0] ? prefix : NULL, "keys must be plain names");
            goto fail;
        }
        char full[512];
        const char *raw = (const char *)kev.data.scalar.value;
        int fl = snprintf(full, sizeof full, "%s%s%s", prefix, prefix[0] ? "." : "", raw);
        bool bad =
            strlen(raw) != kev.data.scalar.length || !*raw || fl < 0 || (size_t)fl >= sizeof full;
        for (size_t j = 0; !bad && j < nseen; j++)
            if (strcmp(seen[j], raw) == 0) {
                yaml_event_delete(&kev);
                rc = yerr(y, line, full, "duplicate key");
                goto fail;
            }
        char *dup = bad ? NULL : strdup(raw);
        yaml_event_delete(&kev);
        if (bad) {
            rc = yerr(y, line, NULL, "a bad key (empty, too long or with a NUL byte)");
            goto fail;
        }
        char **ns = dup ? realloc(seen, (nseen + 1) * sizeof *ns) : NULL;
        if (!ns) {
            free(dup);
            rc = GN_ENOMEM;
            goto fail;
        }
        seen = ns;
        seen[nseen++] = dup;

        if ((rc = next_event(y, &vev)))
            goto fail;
        size_t vline = vev.start_mark.line + 1;
        int i = key_index(full);
        if (i >= 0) {
            rc = yaml_value(y, (size_t)i, &vev);
            yaml_event_delete(&vev);
        } else if (is_section(full)) {
            if (vev.type != YAML_MAPPING_START_EVENT) {
                bool null = vev.type == YAML_SCALAR_EVENT && is_null(&vev);
                yaml_event_delete(&vev);
                /* `wallet:` with everything commented out below it */
                if (null)
                    continue;
                rc = yerr(y, vline, full, "a section: expected a mapping of its keys");
                goto fail;
            }
            yaml_event_delete(&vev);
            if (depth + 1 > MAX_DEPTH) {
                rc = yerr(y, vline, full, "nested too deep");
                goto fail;
            }
            rc = yaml_map(y, full, depth + 1);
        } else {
            yaml_event_delete(&vev);
            char msg[160];
            unknown_msg(full, msg, sizeof msg);
            rc = yerr(y, line, full, "%s", msg);
        }
        if (rc)
            goto fail;
    }
fail:
    for (size_t j = 0; j < nseen; j++)
        free(seen[j]);
    free(seen);
    return rc;
}

static int load_file(gn_config_t *c, const char *path, char *err, size_t cap)
{
    yctx_t y = {.c = c, .file = path, .err = err, .cap = cap};
    char *buf = NULL;
    int rc;
    bool parser = false;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        errf(err, cap, "%s: cannot read the config file: %s", path, strerror(e));
        return e == ENOENT ? GN_ENOENT : GN_EINVAL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = errf(err, cap, "%s: the config file is not a regular file", path);
        goto fail;
    }
    if (st.st_size > (off_t)MAX_FILE) {
        rc = errf(err, cap, "%s: the config file is larger than 1 MiB", path);
        goto fail;
    }
    size_t want = (size_t)st.st_size;
    if (!(buf = malloc(want + 1))) {
        rc = GN_ENOMEM;
        goto fail;
    }
    /* one byte more than its size tells a file that grew meanwhile */
    size_t n = fread(buf, 1, want + 1, f);
    if (ferror(f)) {
        rc = errf(err, cap, "%s: cannot read the config file: %s", path, strerror(errno));
        goto fail;
    }
    if (n > want) {
        rc = errf(err, cap, "%s: the config file changed while it was read", path);
        goto fail;
    }
    if (!yaml_parser_initialize(&y.p)) {
        rc = GN_ENOMEM;
        goto fail;
    }
    parser = true;
    yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, n);
    yaml_event_t ev;
    /* a syntax check of the whole file first, so a syntax error is
     * reported as such and not as whatever half-read value precedes it */
    int depth = 0;
    for (bool end = false; !end;) {
        if (!yaml_parser_parse(&y.p, &ev)) {
            rc = syntax_error(&y);
            goto fail;
        }
        end = ev.type == YAML_STREAM_END_EVENT;
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
            depth--;
        size_t line = ev.start_mark.line + 1;
        yaml_event_delete(&ev);
        /* libyaml's scanner is quadratic in flow nesting ([[[[...): stop
         * early, long before that costs anything */
        if (depth > MAX_DEPTH) {
            rc = yerr(&y, line, NULL, "nested deeper than %d levels", MAX_DEPTH);
            goto fail;
        }
    }
    yaml_parser_delete(&y.p);
    parser = false;
    if (!yaml_parser_initialize(&y.p)) {
        rc = GN_ENOMEM;
        goto fail;
    }
    parser = true;
    yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, n);
    int docs = 0;
    for (;;) {
        if ((rc = next_event(&y, &ev)))
            goto fail;
        yaml_event_type_t t = ev.type;
        size_t line = ev.start_mark.line + 1;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            yaml_event_delete(&ev);
            rc = yerr(&y, line, NULL, "more than one YAML document");
            goto fail;
        }
        if (t == YAML_MAPPING_START_EVENT) {
            yaml_event_delete(&ev);
            if ((rc = yaml_map(&y, "", 0)))
                goto fail;
            continue;
        }
        if (t == YAML_SCALAR_EVENT && is_null(&ev)) {
            yaml_event_delete(&ev); /* an empty document: nothing set */
            continue;
        }
        if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT) {
            yaml_event_delete(&ev);
            rc = yerr(&y, line, NULL, "the config file must be a mapping of keys (key: value)");
            goto fail;
        }
        yaml_event_delete(&ev);
    }
    rc = 0;
fail:
    if (parser)
        yaml_parser_delete(&y.p);
    free(buf);
    fclose(f);
    return rc;
}

/* ---- flags ---- */

static bool bool_word(const char *s)
{
    bool b;
    return s && parse_bool(s, &b);
}

/* The config file named by the flags (last --config wins), else NULL. */
static int find_config_flag(int argc, char **argv, const char **path, int *at)
{
    *path = NULL;
    for (int a = 0; a < argc; a++) {
        if (strcmp(argv[a], "--config") == 0) {
            if (a + 1 >= argc || strncmp(argv[a + 1], "--", 2) == 0)
                return GN_EINVAL;
            *path = argv[++a];
            *at = a - 1;
        } else if (strncmp(argv[a], "--config=", 9) == 0) {
            *path = argv[a] + 9;
            *at = a;
        }
    }
    return 0;
}

static int apply_flags(gn_config_t *c, int argc, char **argv, char *err, size_t cap)
{
    qbuf_t qb;
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0 || !arg[2])
            return errf(err, cap, "argument %s: unexpected (flags are --key value)", q(arg, &qb));
        char name[256];
        const char *eq = strchr(arg, '=');
        size_t nl = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (nl >= sizeof name)
            return errf(err, cap, "flag %.40s...: unknown key", arg);
        memcpy(name, arg + 2, nl);
        name[nl] = 0;
        const char *val = eq ? eq + 1 : NULL;
        char what[300];
        snprintf(what, sizeof what, "flag --%s", name);
        int i = key_index(name);
        if (i < 0 && strncmp(name, "no-", 3) == 0) {
            int j = key_index(name + 3);
            if (j >= 0 && schema[j].type == GN_CFG_BOOL) {
                if (val)
                    return errf(err, cap, "%s: takes no value", what);
                int rc = set_text(c, (size_t)j, "false", GN_CFG_FLAG, arg, what, err, cap);
                if (rc)
                    return rc;
                continue;
            }
        }
        if (i < 0) {
            char msg[160];
            unknown_msg(name, msg, sizeof msg);
            return errf(err, cap, "%s: %s", what, msg);
        }
        if (!val) {
            if (schema[i].type == GN_CFG_BOOL) {
                /* `--miner.register` alone, or followed by a bool word */
                if (a + 1 < argc && bool_word(argv[a + 1]))
                    val = argv[++a];
                else
                    val = "true";
            } else {
                if (a + 1 >= argc || strncmp(argv[a + 1], "--", 2) == 0)
                    return errf(err, cap, "%s: missing value", what);
                val = argv[++a];
            }
        }
        char where[300];
        snprintf(where, sizeof where, "--%s", name);
        int rc = set_text(c, (size_t)i, val, GN_CFG_FLAG, where, what, err, cap);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- load ---- */

static int expand_home(gn_config_t *c, char **envp)
{
    const char *home = env_get(envp, "HOME");
    if (!home || !*home)
        home = getenv("HOME");
    if (!home || !*home)
        return 0;
    for (size_t i = 0; i < NKEYS; i++) {
        char *s = c->v[i].v.s;
        if (!(schema[i].flags & F_HOME) || !s || s[0] != '~' || (s[1] && s[1] != '/'))
            continue;
        size_t n = strlen(home) + strlen(s);
        char *d = malloc(n + 1);
        if (!d)
            return GN_ENOMEM;
        snprintf(d, n + 1, "%s%s", home, s + 1);
        free(s);
        c->v[i].v.s = d;
    }
    return 0;
}

int gn_config_load(const char *role, int argc, char **argv, char **envp, gn_config_t **out,
                   char *err, size_t err_cap)
{
    if (err && err_cap)
        err[0] = 0;
    if (!out)
        return GN_EINVAL;
    *out = NULL;
    if (!envp)
        envp = environ;
    qbuf_t qb;
    if (role && strcmp(role, "miner") != 0 && strcmp(role, "validator") != 0)
        return errf(err, err_cap, "role %s: not one of miner, validator", q(role, &qb));
    if (argc < 0 || (argc > 0 && !argv))
        return errf(err, err_cap, "no arguments");
    gn_config_t *c = calloc(1, sizeof *c);
    int rc;
    if (!c)
        return GN_ENOMEM;
    if (role && !(c->role = strdup(role))) {
        rc = GN_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        rc = set_text(c, i, schema[i].def, GN_CFG_DEFAULT, "default", schema[i].key, err, err_cap);
        if (rc)
            goto fail;
    }
    /* the file first: everything else overrides it */
    const char *path = NULL;
    int at = -1;
    if (find_config_flag(argc, argv, &path, &at) != 0) {
        rc = errf(err, err_cap, "flag --config: missing value");
        goto fail;
    }
    if (path) {
        if ((rc = set_text(c, 0, path, GN_CFG_FLAG, "--config", "flag --config", err, err_cap)))
            goto fail;
    } else if ((path = env_get(envp, "GANGLION_CONFIG")) && *path) {
        if ((rc = set_text(c, 0, path, GN_CFG_ENV, "GANGLION_CONFIG", "environment GANGLION_CONFIG",
                           err, err_cap)))
            goto fail;
    } else {
        path = NULL;
    }
    if (path && !*path) {
        rc = errf(err, err_cap, "flag --config: empty file name");
        goto fail;
    }
    if (path && (rc = load_file(c, path, err, err_cap)))
        goto fail;
    if ((rc = apply_env(c, envp, err, err_cap)))
        goto fail;
    if ((rc = apply_flags(c, argc, argv, err, err_cap)))
        goto fail;
    if ((rc = expand_home(c, envp)))
        goto fail;
    *out = c;
    return 0;
fail:
    if (rc == GN_ENOMEM && err && err_cap && !err[0])
        errf(err, err_cap, "out of memory");
    gn_config_free(c);
    return rc;
}

void gn_config_free(gn_config_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NKEYS; i++) {
        if (schema[i].type == GN_CFG_STR)
            free(c->v[i].v.s);
        free_list(&c->v[i]);
        free(c->v[i].where);
    }
    free(c->role);
    free(c);
}

/* ---- reads ---- */

static const val_t *get(const gn_config_t *c, const char *key, gn_cfg_type_t t)
{
    int i = c && key ? key_index(key) : -1;
    assert(i >= 0 && "gn_config: key not in the schema");
    if (i < 0 || schema[i].type != t) {
        assert(i < 0 || schema[i].type == t);
        return NULL;
    }
    return &c->v[i];
}

const char *gn_config_str(const gn_config_t *c, const char *key)
{
    const val_t *v = get(c, key, GN_CFG_STR);
    return v && v->v.s ? v->v.s : "";
}

int64_t gn_config_int(const gn_config_t *c, const char *key)
{
    const val_t *v = get(c, key, GN_CFG_INT);
    return v ? v->v.i : 0;
}

double gn_config_float(const gn_config_t *c, const char *key)
{
    const val_t *v = get(c, key, GN_CFG_FLOAT);
    return v ? v->v.f : 0.0;
}

bool gn_config_bool(const gn_config_t *c, const char *key)
{
    const val_t *v = get(c, key, GN_CFG_BOOL);
    return v ? v->v.b : false;
}

const char *const *gn_config_list(const gn_config_t *c, const char *key, size_t *n)
{
    const val_t *v = get(c, key, GN_CFG_LIST);
    if (n)
        *n = v ? v->n : 0;
    return v ? (const char *const *)v->list : NULL;
}

gn_cfg_source_t gn_config_source(const gn_config_t *c, const char *key, const char **where)
{
    int i = c && key ? key_index(key) : -1;
    assert(i >= 0 && "gn_config: key not in the schema");
    if (where)
        *where = i >= 0 && c->v[i].where ? c->v[i].where : "default";
    return i >= 0 ? c->v[i].src : GN_CFG_DEFAULT;
}

bool gn_config_is_set(const gn_config_t *c, const char *key)
{
    return gn_config_source(c, key, NULL) != GN_CFG_DEFAULT;
}

/* ---- show ---- */

static const char *source_name(gn_cfg_source_t s)
{
    switch (s) {
    case GN_CFG_DEFAULT: return "default";
    case GN_CFG_FILE: return "file";
    case GN_CFG_ENV: return "env";
    case GN_CFG_FLAG: return "flag";
    }
    return "default";
}

/* Keys of the other role's section are not shown. */
static bool shown(const gn_config_t *c, size_t i)
{
    if (!c->role)
        return true;
    const char *other = strcmp(c->role, "miner") == 0 ? "validator." : "miner.";
    return strncmp(schema[i].key, other, strlen(other)) != 0;
}

static json_t *value_json(const gn_config_t *c, size_t i)
{
    const val_t *v = &c->v[i];
    switch (schema[i].type) {
    case GN_CFG_STR: return json_string(v->v.s ? v->v.s : "");
    case GN_CFG_INT: return json_integer(v->v.i);
    case GN_CFG_FLOAT: return json_real(v->v.f);
    case GN_CFG_BOOL: return json_boolean(v->v.b);
    case GN_CFG_LIST: {
        json_t *a = json_array();
        for (size_t j = 0; a && j < v->n; j++)
            if (json_array_append_new(a, json_string(v->list[j])) != 0) {
                json_decref(a);
                return NULL;
            }
        return a;
    }
    }
    return NULL;
}

int gn_config_show(const gn_config_t *c, FILE *f, bool json)
{
    if (!c || !f)
        return GN_EINVAL;
    if (json) {
        json_t *root = json_object();
        int rc = root ? 0 : GN_ENOMEM;
        for (size_t i = 0; i < NKEYS && !rc; i++) {
            if (!shown(c, i))
                continue;
            json_t *o = json_pack("{s:o?,s:s,s:s}", "value", value_json(c, i), "source",
                                  source_name(c->v[i].src), "where",
                                  c->v[i].where ? c->v[i].where : "default");
            if (!o || json_object_set_new(root, schema[i].key, o) != 0)
                rc = GN_ENOMEM;
        }
        if (!rc && (json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
                    fputc('\n', f) == EOF))
            rc = GN_EIO;
        json_decref(root);
        return rc;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        if (!shown(c, i))
            continue;
        char *val;
        if (schema[i].type == GN_CFG_FLOAT) {
            char buf[40];
            fmt_num(buf, sizeof buf, c->v[i].v.f);
            val = strdup(buf);
        } else {
            json_t *j = value_json(c, i);
            val = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
            json_decref(j);
        }
        if (!val)
            return GN_ENOMEM;
        const char *w = c->v[i].where ? c->v[i].where : "default";
        int n;
        if (c->v[i].src == GN_CFG_DEFAULT)
            n = fprintf(f, "%-31s = %-24s # default\n", schema[i].key, val);
        else
            n = fprintf(f, "%-31s = %-24s # %s %s\n", schema[i].key, val, source_name(c->v[i].src),
                        w);
        free(val);
        if (n < 0)
            return GN_EIO;
    }
    return 0;
}

static const char *type_word(gn_cfg_type_t t)
{
    static const char *const w[] = {"str", "int", "float", "bool", "list"};
    return (unsigned)t < 5 ? w[t] : "?";
}

int gn_config_help(FILE *f, const char *role)
{
    if (!f)
        return GN_EINVAL;
    if (fputs("Keys (--key value, --key=value; environment GANGLION_<KEY>, dots as '_'):\n", f) < 0)
        return GN_EIO;
    const char *other = !role ? NULL : strcmp(role, "miner") == 0 ? "validator." : "miner.";
    for (size_t i = 0; i < NKEYS; i++) {
        const cfg_key_t *k = &schema[i];
        if (other && strncmp(k->key, other, strlen(other)) == 0)
            continue;
        char def[96];
        snprintf(def, sizeof def, "%s%s%s", k->type == GN_CFG_STR ? "\"" : "", k->def,
                 k->type == GN_CFG_STR ? "\"" : "");
        if (fprintf(f, "  --%-30s %-5s %-22s %s%s%s\n", k->key, type_word(k->type), def, k->help,
                    k->bt_env ? "; also $" : "", k->bt_env ? k->bt_env : "") < 0)
            return GN_EIO;
    }
    return 0;
}

/* ---- endpoint ---- */

int gn_config_endpoint(const gn_config_t *c, char *out, size_t cap)
{
    if (!c || !out || !cap)
        return GN_EINVAL;
    const char *ep = gn_config_str(c, "subtensor.chain_endpoint");
    if (!*ep) {
        const char *net = gn_config_str(c, "subtensor.network");
        /* BT_SUBTENSOR_CHAIN_ENDPOINT already is subtensor.chain_endpoint
         * here: the bare local URL, not the process's environment again */
        ep = strcmp(net, "local") == 0 ? "ws://127.0.0.1:9944" : gn_rpc_network_url(net);
    }
    if (!ep || !*ep)
        return GN_EINVAL;
    int n = snprintf(out, cap, "%s%s", strstr(ep, "://") ? "" : "ws://", ep);
    if (n < 0 || (size_t)n >= cap)
        return GN_ENOSPC;
    return 0;
}

/* ---- ganglion config show | keys ---- */

static const char config_usage[] =
    "usage: ganglion config show [--json] [--role miner|validator] [--config FILE] [--key "
    "value...]\n"
    "         the effective configuration and where each value comes from\n"
    "         (default < --config FILE < GANGLION_* / BT_* environment < flags)\n"
    "       ganglion config keys [--role miner|validator]\n"
    "         every key: type, default, meaning (docs/config.md)\n";

int gn_cmd_config(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(config_usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? GN_EXIT_USAGE : GN_EXIT_OK;
    }
    bool keys = strcmp(argv[0], "keys") == 0;
    if (!keys && strcmp(argv[0], "show") != 0) {
        fprintf(stderr, "ganglion: config: unknown subcommand \"%s\"\n%s", argv[0], config_usage);
        return GN_EXIT_USAGE;
    }
    bool json = false;
    const char *role = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0, status = GN_EXIT_OK, rc;
    gn_config_t *c = NULL;
    if (!rest) {
        fprintf(stderr, "ganglion: out of memory\n");
        return GN_EXIT_FAIL;
    }
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--json") == 0 && !keys) {
            json = true;
        } else if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            fputs(config_usage, stdout);
            goto done;
        } else if (strcmp(argv[a], "--role") == 0) {
            if (a + 1 >= argc) {
                fprintf(stderr, "ganglion: flag --role: missing value (miner or validator)\n");
                status = GN_EXIT_USAGE;
                goto done;
            }
            role = argv[++a];
        } else if (strncmp(argv[a], "--role=", 7) == 0) {
            role = argv[a] + 7;
        } else {
            rest[nrest++] = argv[a];
        }
    }
    if (role && strcmp(role, "miner") != 0 && strcmp(role, "validator") != 0) {
        fprintf(stderr, "ganglion: flag --role: \"%s\" is not one of miner, validator\n", role);
        status = GN_EXIT_USAGE;
        goto done;
    }
    if (keys) {
        if (nrest) {
            fprintf(stderr, "ganglion: config keys: unexpected \"%s\"\n", rest[0]);
            status = GN_EXIT_USAGE;
        } else if ((rc = gn_config_help(stdout, role)) || fflush(stdout) != 0) {
            fprintf(stderr, "ganglion: config keys: %s\n", gn_strerror(rc ? rc : GN_EIO));
            status = GN_EXIT_FAIL;
        }
        goto done;
    }
    char err[1024];
    rc = gn_config_load(role, nrest, rest, NULL, &c, err, sizeof err);
    if (rc) {
        fprintf(stderr, "ganglion: %s\n", err[0] ? err : gn_strerror(rc));
        status = GN_EXIT_USAGE;
        goto done;
    }
    if ((rc = gn_config_show(c, stdout, json)) || fflush(stdout) != 0) {
        fprintf(stderr, "ganglion: config show: %s\n", gn_strerror(rc ? rc : GN_EIO));
        status = GN_EXIT_FAIL;
    }
done:
    gn_config_free(c);
    free(rest);
    return status;
}
