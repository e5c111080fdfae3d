/* deploy/ (issue 11), without a Docker engine:
 * - the Dockerfile: its stages, and its runtime stage's packages against the
 *   Debian packages of the release binary's libraries (ldd), both ways;
 * - the runtime image's root file system, assembled from the files of
 *   exactly those packages (tests/deploy/rootfs.sh), run with chroot as the
 *   image's user: --version, a chain read (libwebsockets dlopens its libuv
 *   plug-in), and /healthz of a node checked from outside;
 * - compose.yaml and k8s/ manifests parsed with libyaml and checked field by
 *   field, every flag and GANGLION_* variable they give ganglion accepted by
 *   `ganglion config show`;
 * - the systemd unit through systemd-analyze verify;
 * - deploy/local-setup.sh (compose's setup service) on the local chain.
 * SIGTERM under load is tests/node/test_miner.c's. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "support/chain.h"
#include "support/rawhttp.h"
#include "support/run.h"

#define SRC    GN_SOURCE_DIR
#define DEPLOY GN_SOURCE_DIR "/deploy"
#define ROOTFS GN_SOURCE_DIR "/tests/deploy/rootfs.sh"
#define UID_S  "10001" /* the image's user */

/* ---- small helpers ------------------------------------------------------ */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (cap - len < 2) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    if (b)
        b[len] = '\0';
    return b;
}

/* Run a shell command, its stdout (truncated to cap - 1) into out; the exit
 * status, -1 when killed by a signal. */
static int sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    size_t n = 0;
    char drain[4096];
    if (out && cap) {
        n = fread(out, 1, cap - 1, p);
        out[n] = '\0';
    }
    while (fread(drain, 1, sizeof(drain), p) > 0) {
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* s as one single-quoted shell word, appended to dst. */
static void shq_cat(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    if (n + 1 < cap)
        dst[n++] = '\'';
    for (; *s && n + 5 < cap; s++) {
        if (*s == '\'') {
            memcpy(dst + n, "'\\''", 4);
            n += 4;
        } else {
            dst[n++] = *s;
        }
    }
    if (n + 1 < cap)
        dst[n++] = '\'';
    dst[n < cap ? n : cap - 1] = '\0';
}

/* a, or b when a is NULL */
static const char *or_(const char *a, const char *b)
{
    return a ? a : b;
}

static bool in_list(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void skip_without(const char *tool, const char *why)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
    if (system(cmd) != 0) {
        fprintf(stderr, "SKIP %s: %s is not installed (%s)\n", criterion_current_test->name, tool,
                why);
        cr_skip_test("%s is not installed (%s)", tool, why);
    }
}

/* ---- a YAML tree from libyaml's events ----------------------------------- */

typedef enum { Y_SCALAR, Y_SEQ, Y_MAP } ykind_t;
typedef struct ynode ynode_t;
struct ynode {
    ykind_t kind;
    char *text;     /* scalars */
    ynode_t **kids; /* sequences: the items; maps: key, value, key, value... */
    size_t n, cap;
    int line; /* 1-based */
    char *anchor;
    bool quoted; /* a quoted scalar ("true" is text, true a bool) */
    ynode_t *next_all;
};
typedef struct {
    char path[512];
    ynode_t *all; /* every node, for freeing and anchors */
    ynode_t *docs[32];
    size_t ndocs;
} yfile_t;

static ynode_t *y_new(yfile_t *f, ykind_t kind, const yaml_event_t *ev, const yaml_char_t *anchor)
{
    ynode_t *n = calloc(1, sizeof(*n));
    cr_assert_not_null(n);
    n->kind = kind;
    n->line = (int)ev->start_mark.line + 1;
    n->anchor = anchor ? strdup((const char *)anchor) : NULL;
    n->next_all = f->all;
    f->all = n;
    return n;
}

static void y_push(ynode_t *p, ynode_t *k)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->kids = realloc(p->kids, p->cap * sizeof(*p->kids));
        cr_assert_not_null(p->kids);
    }
    p->kids[p->n++] = k;
}

/* The node that ev starts (ev is consumed); NULL with err on failure. */
static ynode_t *y_node(yfile_t *f, yaml_parser_t *p, yaml_event_t *ev, int depth, char *err,
                       size_t cap)
{
    ynode_t *n = NULL;
    if (depth > 64) {
        snprintf(err, cap, "%s:%zu: nested too deep", f->path, ev->start_mark.line + 1);
        goto done;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = y_new(f, Y_SCALAR, ev, ev->data.scalar.anchor);
        n->text = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        break;
    case YAML_ALIAS_EVENT:
        for (ynode_t *a = f->all; a; a = a->next_all) /* the latest definition */
            if (a->anchor && strcmp(a->anchor, (const char *)ev->data.alias.anchor) == 0) {
                n = a;
                break;
            }
        if (!n)
            snprintf(err, cap, "%s:%zu: unknown alias *%s", f->path, ev->start_mark.line + 1,
                     ev->data.alias.anchor);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        n = y_new(f, seq ? Y_SEQ : Y_MAP, ev,
                  seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor);
        for (;;) {
            yaml_event_t e;
            if (!yaml_parser_parse(p, &e)) {
                snprintf(err, cap, "%s:%zu: %s", f->path, p->problem_mark.line + 1,
                         p->problem ? p->problem : "YAML error");
                n = NULL;
                break;
            }
            if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            ynode_t *k = y_node(f, p, &e, depth + 1, err, cap);
            if (!k) {
                n = NULL;
                break;
            }
            y_push(n, k);
        }
        break;
    }
    default:
        snprintf(err, cap, "%s:%zu: unexpected YAML event %d", f->path, ev->start_mark.line + 1,
                 (int)ev->type);
    }
done:
    yaml_event_delete(ev);
    return n;
}

static void y_free(yfile_t *f)
{
    for (ynode_t *n = f->all, *next; n; n = next) {
        next = n->next_all;
        free(n->text);
        free(n->kids);
        free(n->anchor);
        free(n);
    }
    f->all = NULL;
    f->ndocs = 0;
}

/* Every document of the file (empty ones left out); asserts on YAML errors. */
static void y_load(const char *path, yfile_t *f)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "%s", path);
    FILE *in = fopen(path, "rb");
    cr_assert_not_null(in, "%s: %s", path, strerror(errno));
    yaml_parser_t p;
    cr_assert(yaml_parser_initialize(&p));
    yaml_parser_set_input_file(&p, in);
    char err[512] = "";
    bool ok = true;
    for (;;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            snprintf(err, sizeof(err), "%s:%zu: %s", path, p.problem_mark.line + 1,
                     p.problem ? p.problem : "YAML error");
            ok = false;
            break;
        }
        yaml_event_type_t t = e.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&e);
            break;
        }
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT ||
            t == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&e);
            continue;
        }
        ynode_t *root = y_node(f, &p, &e, 0, err, sizeof(err));
        if (!root) {
            ok = false;
            break;
        }
        bool empty = root->kind == Y_SCALAR && root->text[0] == '\0';
        if (!empty && f->ndocs < sizeof(f->docs) / sizeof(f->docs[0]))
            f->docs[f->ndocs++] = root;
    }
    yaml_parser_delete(&p);
    fclose(in);
    if (!ok)
        y_free(f);
    cr_assert(ok, "%s", err);
}

/* m[key], through merge keys (<<); NULL when absent or m is not a map. */
static ynode_t *y_get(const ynode_t *m, const char *key)
{
    if (!m || m->kind != Y_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (m->kids[i]->kind == Y_SCALAR && strcmp(m->kids[i]->text, key) == 0)
            return m->kids[i + 1];
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        if (m->kids[i]->kind != Y_SCALAR || strcmp(m->kids[i]->text, "<<") != 0)
            continue;
        const ynode_t *v = m->kids[i + 1];
        if (v->kind == Y_MAP) {
            ynode_t *r = y_get(v, key);
            if (r)
                return r;
        } else if (v->kind == Y_SEQ) {
            for (size_t j = 0; j < v->n; j++) {
                ynode_t *r = y_get(v->kids[j], key);
                if (r)
                    return r;
            }
        }
    }
    return NULL;
}

/* A '/'-separated path of map keys ("spec/template/spec"). */
static ynode_t *y_path(const ynode_t *n, const char *path)
{
    char key[128];
    const ynode_t *cur = n;
    while (cur && *path) {
        size_t k = strcspn(path, "/");
        snprintf(key, sizeof(key), "%.*s", (int)k, path);
        cur = y_get(cur, key);
        path += k + (path[k] == '/');
    }
    return (ynode_t *)cur;
}

static const char *y_str(const ynode_t *n)
{
    return n && n->kind == Y_SCALAR ? n->text : NULL;
}

static bool y_is(const ynode_t *n, const char *s)
{
    return y_str(n) && strcmp(y_str(n), s) == 0;
}

/* ---- a node's configuration: its flags and environment ------------------- */

typedef struct {
    char role[16]; /* "miner" | "validator" | "" (not ganglion's node) */
    char *argv[64];
    size_t argc;
    char *env[32]; /* "NAME=value", GANGLION_* and BT_* */
    size_t nenv;
} node_cmd_t;

static void node_cmd_free(node_cmd_t *c)
{
    for (size_t i = 0; i < c->argc; i++)
        free(c->argv[i]);
    for (size_t i = 0; i < c->nenv; i++)
        free(c->env[i]);
    memset(c, 0, sizeof(*c));
}

/* The node's command line: args (a sequence whose first word is the role). */
static void node_cmd_from(node_cmd_t *c, const ynode_t *args)
{
    memset(c, 0, sizeof(*c));
    if (!args || args->kind != Y_SEQ || args->n == 0 || !y_str(args->kids[0]))
        return;
    const char *r = y_str(args->kids[0]);
    if (strcmp(r, "miner") != 0 && strcmp(r, "validator") != 0)
        return;
    snprintf(c->role, sizeof(c->role), "%s", r);
    for (size_t i = 1; i < args->n && c->argc < 64; i++) {
        cr_assert_not_null(y_str(args->kids[i]), "line %d: an argument that is not a scalar",
                           args->kids[i]->line);
        c->argv[c->argc++] = strdup(y_str(args->kids[i]));
    }
}

static void node_cmd_env(node_cmd_t *c, const char *name, const char *value)
{
    if (c->nenv < 32 && (!strncmp(name, "GANGLION_", 9) || !strncmp(name, "BT_", 3))) {
        size_t len = strlen(name) + strlen(value) + 2;
        char *e = malloc(len);
        cr_assert_not_null(e);
        snprintf(e, len, "%s=%s", name, value);
        c->env[c->nenv++] = e;
    }
}

/* A flag's value: "--key=v" or "--key v"; else the environment's
 * GANGLION_<KEY>; else NULL. */
static const char *node_cmd_get(const node_cmd_t *c, const char *key, const char *env)
{
    size_t kl = strlen(key);
    const char *v = NULL;
    for (size_t i = 0; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, key, kl) != 0)
            continue;
        if (a[2 + kl] == '=')
            v = a + 3 + kl;
        else if (a[2 + kl] == '\0' && i + 1 < c->argc)
            v = c->argv[i + 1];
    }
    if (v)
        return v;
    for (size_t i = 0; env && i < c->nenv; i++)
        if (!strncmp(c->env[i], env, strlen(env)) && c->env[i][strlen(env)] == '=')
            return c->env[i] + strlen(env) + 1;
    return NULL;
}

/* The port the node serves /healthz on: the axon's (miners) or
 * --metrics.port (validators). */
static int node_health_port(const node_cmd_t *c)
{
    const char *v = strcmp(c->role, "miner") == 0
                        ? node_cmd_get(c, "axon.port", "GANGLION_AXON_PORT")
                        : node_cmd_get(c, "metrics.port", "GANGLION_METRICS_PORT");
    if (!v)
        return strcmp(c->role, "miner") == 0 ? 8091 : 0;
    return atoi(v);
}

static bool have_config_cmd(void)
{
    static int have = -1;
    static gn_run_t r;
    if (have < 0) {
        gn_test_run(&r, "", "config show --role miner");
        have = r.status == 0;
    }
    return have == 1;
}

/* `ganglion config show --role ROLE FLAGS` with the node's environment
 * accepts every flag and variable (exit 0). */
static void node_cmd_check(const node_cmd_t *c, const char *where)
{
    if (!have_config_cmd()) {
        fprintf(stderr, "deploy: %s: flags not checked: this ganglion has no `config show` yet\n",
                where);
        return;
    }
    static char env[8192], args[8192];
    static gn_run_t r;
    env[0] = args[0] = '\0';
    for (size_t i = 0; i < c->nenv; i++) {
        shq_cat(env, sizeof(env), c->env[i]);
        strncat(env, " ", sizeof(env) - strlen(env) - 1);
    }
    for (size_t i = 0; i < c->argc; i++) {
        strncat(args, " ", sizeof(args) - strlen(args) - 1);
        shq_cat(args, sizeof(args), c->argv[i]);
    }
    gn_test_run(&r, env, "config show --role %s%s", c->role, args);
    cr_expect_eq(r.status, 0, "%s: ganglion refuses the node's flags (%s): %s", where, args, r.err);
}

/* ---- the Dockerfile -------------------------------------------------------- */

typedef struct {
    char *from; /* "debian:bookworm-slim AS runtime" */
    char *ins[128];
    size_t n;
} stage_t;

typedef struct {
    char *text; /* the instructions (NUL-separated), continuation lines joined, comments out */
    stage_t st[8];
    size_t nst;
} dockerfile_t;

static void dockerfile_load(dockerfile_t *d)
{
    memset(d, 0, sizeof(*d));
    char *raw = slurp(DEPLOY "/Dockerfile");
    cr_assert_not_null(raw, "deploy/Dockerfile is missing");
    d->text = calloc(1, strlen(raw) + 2);
    cr_assert_not_null(d->text);
    char *o = d->text;
    for (char *line = raw, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *s = line;
        while (s < line + len && (*s == ' ' || *s == '\t'))
            s++;
        if (s == line + len || *s == '#')
            continue;
        size_t e = len;
        while (e > 0 && (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == '\r'))
            e--;
        bool cont = e > 0 && line[e - 1] == '\\';
        memcpy(o, line, cont ? e - 1 : e);
        o += cont ? e - 1 : e;
        *o++ = cont ? ' ' : '\n';
    }
    *o = '\0';
    free(raw);
    for (char *save = NULL, *l = strtok_r(d->text, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        while (*l == ' ')
            l++;
        if (!strncasecmp(l, "FROM ", 5)) {
            cr_assert_lt(d->nst, 8);
            d->st[d->nst++].from = l + 5;
        } else {
            cr_assert_gt(d->nst, 0, "an instruction before the first FROM: %s", l);
            stage_t *s = &d->st[d->nst - 1];
            cr_assert_lt(s->n, 128);
            s->ins[s->n++] = l;
        }
    }
}

/* The stage's instruction starting with kw (case-insensitive), its text
 * after the keyword; the i-th one. */
static const char *stage_find(const stage_t *s, const char *kw, size_t i)
{
    size_t kl = strlen(kw);
    for (size_t j = 0; j < s->n; j++)
        if (!strncasecmp(s->ins[j], kw, kl) && s->ins[j][kl] == ' ' && i-- == 0)
            return s->ins[j] + kl + 1;
    return NULL;
}

/* The packages of the runtime stage's `apt-get install` (malloc'd words). */
static size_t runtime_packages(const dockerfile_t *d, char **out, size_t cap)
{
    const stage_t *s = &d->st[d->nst - 1];
    size_t n = 0;
    const char *run;
    for (size_t i = 0; (run = stage_find(s, "RUN", i)); i++) {
        const char *p = strstr(run, "apt-get install");
        if (!p)
            continue;
        char *copy = strdup(p + strlen("apt-get install"));
        char *save = NULL;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            if (!strcmp(w, "&&") || !strcmp(w, ";") || !strcmp(w, "|") || !strcmp(w, "||"))
                break;
            if (w[0] == '-')
                continue;
            cr_assert_lt(n, cap);
            out[n++] = strdup(w);
        }
        free(copy);
    }
    return n;
}

/* ---- the release install (the image's binary) ------------------------------ */

/* `make install` of a release build (no sanitizers, as the Dockerfile
 * builds it) into destdir; the build dir is shared by the tests, hence the
 * lock. The environment of `make test` (SAN=1, B=...) is not inherited. */
static void install_release(const char *destdir)
{
    char log[600];
    snprintf(log, sizeof(log), "%s.make.log", destdir);
    int rc = sh(NULL, 0,
                "cd " SRC " && flock " GN_BUILD_DIR "/deploy-image.lock "
                "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SAN -u OPT -u CFLAGS -u CPPFLAGS "
                "-u LDFLAGS -u LDLIBS -u B make -j2 B=" GN_BUILD_DIR "/deploy-image install "
                "DESTDIR=%s PREFIX=/usr/local >%s 2>&1",
                destdir, log);
    if (rc != 0) {
        char tail[4096] = "";
        sh(tail, sizeof(tail), "tail -n 20 %s", log);
        cr_assert_fail("make install failed (%d):\n%s", rc, tail);
    }
    unlink(log);
}

typedef struct {
    char pkg[128];
    char path[512];
} libpkg_t;

/* rootfs.sh packages|owner over files: the libraries' packages. */
static size_t lib_packages(const char *how, const char *files, libpkg_t *out, size_t cap)
{
    static char buf[65536];
    int rc = sh(buf, sizeof(buf), ROOTFS " %s %s", how, files);
    cr_assert_eq(rc, 0, "rootfs.sh %s %s failed", how, files);
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        cr_assert_lt(n, cap);
        cr_assert_eq(sscanf(l, "%127s %511s", out[n].pkg, out[n].path), 2, "%s", l);
        cr_assert_str_neq(out[n].pkg, "?", "no Debian package owns %s", out[n].path);
        n++;
    }
    return n;
}

static void skip_without_dpkg(void)
{
    skip_without("dpkg", "the runtime's packages are Debian's");
    skip_without("flock", "util-linux");
}

/* ---- tests: install and the Dockerfile ------------------------------------- */

Test(deploy, make_install, .timeout = 900)
{
    skip_without_dpkg();
    char dir[] = "/tmp/gn-deploy-install-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    install_release(dir);
    char path[700], out[512];
    snprintf(path, sizeof(path), "%s/usr/local/bin/ganglion", dir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s is missing", path);
    cr_assert(st.st_mode & S_IXOTH, "the binary is not executable by everyone");
    cr_assert_eq(sh(out, sizeof(out), "%s --version", path), 0);
    char *version = slurp(SRC "/VERSION");
    cr_assert_not_null(version);
    version[strcspn(version, "\n")] = '\0';
    char want[128];
    snprintf(want, sizeof(want), "ganglion %s\n", version);
    cr_expect_str_eq(out, want);
    free(version);
    const char *files[] = {"/usr/local/share/doc/ganglion/README.md",
                           "/usr/local/share/doc/ganglion/deploy.md",
                           "/usr/local/share/ganglion/examples/worker.py"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", dir, files[i]);
        cr_expect_eq(stat(path, &st), 0, "make install did not install %s", files[i]);
    }
    glob_t g;
    if (glob(SRC "/config/*.yaml", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            snprintf(path, sizeof(path), "%s/usr/local/share/ganglion/config/%s", dir,
                     strrchr(g.gl_pathv[i], '/') + 1);
            cr_expect_eq(stat(path, &st), 0, "make install did not install %s", path);
        }
        globfree(&g);
    }
    cr_assert_eq(sh(NULL, 0, "rm -rf %s", dir), 0);
}

Test(deploy, dockerfile, .timeout = 900)
{
    static dockerfile_t d; /* static: a skipped test leaves it reachable, not leaked */
    dockerfile_load(&d);
    cr_assert_geq(d.nst, 2, "the Dockerfile is multi-stage");
    /* build: debian:bookworm, `make deps`, make install */
    const stage_t *build = NULL;
    for (size_t i = 0; i < d.nst; i++)
        if (!strncmp(d.st[i].from, "debian:bookworm ", 16))
            build = &d.st[i];
    cr_assert_not_null(build, "no stage FROM debian:bookworm");
    bool deps = false, install = false;
    const char *run;
    for (size_t i = 0; (run = stage_find(build, "RUN", i)); i++) {
        deps |= strstr(run, "make deps") != NULL;
        install |= strstr(run, "install") && strstr(run, "DESTDIR=");
    }
    cr_expect(deps, "the build stage runs `make deps`");
    cr_expect(install, "the build stage runs `make install DESTDIR=`");
    /* runtime: the last stage */
    const stage_t *last = &d.st[d.nst - 1];
    cr_expect_eq(strncmp(last->from, "debian:bookworm-slim", 20), 0, "runtime FROM %s", last->from);
    const char *user = stage_find(last, "USER", 0);
    cr_assert_not_null(user, "the runtime stage sets no USER");
    cr_expect(atoi(user) > 0, "USER %s: numeric and not root (runAsNonRoot needs a number)", user);
    const char *entry = stage_find(last, "ENTRYPOINT", 0);
    cr_assert_not_null(entry);
    cr_expect(strstr(entry, "[\"/usr/local/bin/ganglion\"]") != NULL, "ENTRYPOINT %s", entry);
    const char *hc = stage_find(last, "HEALTHCHECK", 0);
    cr_assert_not_null(hc, "no HEALTHCHECK");
    cr_expect(strstr(hc, "ganglion-healthcheck") != NULL, "HEALTHCHECK %s", hc);
    bool hc_installed = false;
    for (size_t i = 0; (run = stage_find(build, "RUN", i)); i++)
        hc_installed |=
            strstr(run, "deploy/healthcheck.sh /out/usr/local/bin/ganglion-healthcheck") != NULL;
    cr_expect(hc_installed, "the health check script is installed from deploy/healthcheck.sh");
    char *hcs = slurp(DEPLOY "/healthcheck.sh");
    cr_assert_not_null(hcs);
    cr_expect(strstr(hcs, "GET /healthz") != NULL);
    free(hcs);
    const char *vol = stage_find(last, "VOLUME", 0);
    cr_expect(vol && strstr(vol, "/var/lib/ganglion"), "the state volume");
    const char *expose = stage_find(last, "EXPOSE", 0);
    cr_expect(expose && strstr(expose, "8091"), "EXPOSE the axon's port");
    bool wallets = false;
    const char *env;
    for (size_t i = 0; (env = stage_find(last, "ENV", i)); i++)
        wallets |= strstr(env, "GANGLION_WALLET_PATH=/wallets") != NULL;
    cr_expect(wallets, "the wallets' mount point");

    /* the runtime stage's packages are those of the binary's libraries */
    skip_without_dpkg();
    static char *pkgs[64];
    size_t np = runtime_packages(&d, pkgs, 64);
    cr_assert_gt(np, 0, "the runtime stage installs no packages");
    char dir[] = "/tmp/gn-deploy-docker-XXXXXX", bin[128];
    cr_assert_not_null(mkdtemp(dir));
    install_release(dir);
    snprintf(bin, sizeof(bin), "%s/usr/local/bin/ganglion", dir);
    static libpkg_t libs[128];
    size_t nl = lib_packages("packages", bin, libs, 128);
    cr_assert_gt(nl, 5);
    char *needed[128];
    size_t nn = 0;
    for (size_t i = 0; i < nl; i++) {
        /* libc6 is the base image's (it holds the dynamic loader) */
        if (strcmp(libs[i].pkg, "libc6") == 0)
            continue;
        cr_expect(in_list(pkgs, np, libs[i].pkg),
                  "ganglion needs %s (package %s), which the Dockerfile's runtime stage does not "
                  "install",
                  libs[i].path, libs[i].pkg);
        if (!in_list(needed, nn, libs[i].pkg))
            needed[nn++] = libs[i].pkg;
    }
    /* and nothing else, but for what no ldd shows: the TLS roots, and the
     * event-loop plug-in libwebsockets dlopens (runtime_rootfs proves it) */
    static char *const extra[] = {"ca-certificates", "libwebsockets-evlib-uv"};
    for (size_t i = 0; i < np; i++)
        cr_expect(in_list(needed, nn, pkgs[i]) || in_list(extra, 2, pkgs[i]),
                  "the runtime stage installs %s, which ganglion does not need", pkgs[i]);
    for (size_t i = 0; i < np; i++)
        free(pkgs[i]);
    cr_assert_eq(sh(NULL, 0, "rm -rf %s", dir), 0);
    free(d.text);
}

/* ---- the runtime image's root file system ---------------------------------- */

/* What a test started, undone by its .fini (after a failed assertion too). */
static struct {
    char dir[64];   /* its temporary folder */
    int chain_port; /* its local chain */
    pid_t node;     /* the node in the root */
    pid_t producer; /* the block producer's process group */
} rt;

static void rt_fini(void)
{
    if (rt.node > 0) {
        kill(rt.node, SIGKILL);
        waitpid(rt.node, NULL, 0);
    }
    if (rt.producer > 0) {
        kill(-rt.producer, SIGTERM);
        waitpid(rt.producer, NULL, 0);
    }
    if (rt.chain_port)
        gn_test_chain_stop(rt.chain_port);
    /* the wallets were made read-only: writable again for a non-root rm */
    if (rt.dir[0] && sh(NULL, 0, "chmod -R u+w %s 2>/dev/null; rm -rf %s", rt.dir, rt.dir) != 0)
        fprintf(stderr, "could not remove %s\n", rt.dir);
}

static bool as_root(void)
{
    return geteuid() == 0;
}

/* The shell prefix that runs a command inside root: chroot as the image's
 * user when we are root; else, in a new user and mount namespace
 * (unshare -r, uid 0 there), with the host's device nodes bound onto
 * rootfs.sh's placeholders; "" when neither works here. */
static void runner(char *out, size_t cap, const char *root)
{
    if (as_root())
        snprintf(out, cap, "chroot --userspec=" UID_S ":" UID_S " %s", root);
    else if (sh(NULL, 0, "unshare -r -m true 2>/dev/null") == 0)
        snprintf(out, cap,
                 "unshare -r -m sh -c 'for d in null zero random urandom; do mount --bind "
                 "/dev/$d %s/dev/$d; done; exec chroot %s \"$@\"' chroot",
                 root, root);
    else
        out[0] = '\0';
}

/* Spawn a shell command in its own process group; its output to log. */
static pid_t spawn(const char *cmd, const char *log)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Wait for pid up to secs; its exit status, -1 killed, -2 still running. */
static int wait_for(pid_t pid, double secs)
{
    double end = now_s() + secs;
    int st;
    while (now_s() < end) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        usleep(50000);
    }
    return -2;
}

Test(deploy, runtime_rootfs, .timeout = 900, .fini = rt_fini)
{
    skip_without_dpkg();
    char run[1024];
    snprintf(rt.dir, sizeof(rt.dir), "/tmp/gn-deploy-rootfs-XXXXXX");
    cr_assert_not_null(mkdtemp(rt.dir));
    char root[128], inst[128], cmd[4096];
    snprintf(root, sizeof(root), "%s/root", rt.dir);
    snprintf(inst, sizeof(inst), "%s/inst", rt.dir);
    runner(run, sizeof(run), root);
    if (!run[0]) {
        fprintf(stderr, "SKIP deploy::runtime_rootfs: neither root nor unshare -r here\n");
        cr_skip_test("chroot needs root or an unprivileged user namespace (unshare -r)");
    }
    install_release(inst);

    /* the root: the Dockerfile's runtime packages, nothing else */
    static dockerfile_t d;
    dockerfile_load(&d);
    static char *pkgs[64];
    size_t np = runtime_packages(&d, pkgs, 64);
    char words[2048] = "";
    for (size_t i = 0; i < np; i++) {
        strncat(words, " ", sizeof(words) - strlen(words) - 1);
        shq_cat(words, sizeof(words), pkgs[i]);
    }
    static char out[65536];
    int rc = sh(out, sizeof(out), ROOTFS " build %s %s%s", root, inst, words);
    cr_assert_eq(rc, 0, "rootfs.sh build failed");
    long long bin_size = 0, lib_size = 0, base_size = 0;
    const char *p;
    if ((p = strstr(out, "size binary ")))
        bin_size = atoll(p + 12);
    if ((p = strstr(out, "size libraries ")))
        lib_size = atoll(p + 15);
    if ((p = strstr(out, "size base ")))
        base_size = atoll(p + 10);
    cr_assert(bin_size > 0 && lib_size > 0 && base_size > 0, "%s", out);
    /* the image cannot be built here: its size is bookworm-slim's plus this
     * (docs/deploy.md) */
    fprintf(stderr,
            "deploy: runtime on top of bookworm-slim: ganglion %.1f MB (unstripped) + libraries "
            "%.1f MB (libc6, in the base: %.1f MB)\n",
            (double)bin_size / 1e6, (double)lib_size / 1e6, (double)base_size / 1e6);

    /* --version inside the root, as the image's user */
    char host_v[256], in_v[256];
    cr_assert_eq(sh(host_v, sizeof(host_v), "%s/usr/local/bin/ganglion --version", inst), 0);
    rc = sh(in_v, sizeof(in_v), "%s /usr/local/bin/ganglion --version 2>&1", run);
    cr_assert_eq(rc, 0, "ganglion --version in the runtime root: %s", in_v);
    cr_assert_str_eq(in_v, host_v);
    cr_assert_eq(strncmp(in_v, "ganglion ", 9), 0);

    /* the check can fail: the same root without libsodium does not run */
    char root2[160], words2[2048] = "";
    snprintf(root2, sizeof(root2), "%s/root-nosodium", rt.dir);
    for (size_t i = 0; i < np; i++)
        if (strcmp(pkgs[i], "libsodium23") != 0) {
            strncat(words2, " ", sizeof(words2) - strlen(words2) - 1);
            shq_cat(words2, sizeof(words2), pkgs[i]);
        }
    cr_assert_eq(sh(NULL, 0, ROOTFS " build %s %s%s >/dev/null", root2, inst, words2), 0);
    char run2[1024];
    runner(run2, sizeof(run2), root2);
    rc = sh(out, sizeof(out), "%s /usr/local/bin/ganglion --version 2>&1", run2);
    cr_assert_neq(rc, 0, "ganglion ran without libsodium: the root is not what it seems");
    cr_expect(strstr(out, "libsodium") != NULL, "%s", out);

    /* a chain read inside the root: libwebsockets dlopens its libuv plug-in,
     * which no ldd shows; LD_DEBUG on the host names what gets loaded */
    char url[128];
    gn_test_chain_start(url, sizeof(url), &rt.chain_port);
    char ldlog[256];
    snprintf(ldlog, sizeof(ldlog), "%s/ld.log", rt.dir);
    rc = sh(NULL, 0,
            "LD_DEBUG=files %s/usr/local/bin/ganglion chain head "
            "--subtensor.chain_endpoint %s >/dev/null 2>%s",
            inst, url, ldlog);
    cr_assert_eq(rc, 0, "chain head on the host");
    static char loaded[8192];
    cr_assert_eq(sh(loaded, sizeof(loaded), ROOTFS " loaded %s | tr '\\n' ' '", ldlog), 0);
    if (loaded[0]) {
        static libpkg_t dl[32], dldeps[128];
        size_t ndl = lib_packages("owner", loaded, dl, 32);
        size_t ndeps = lib_packages("packages", loaded, dldeps, 128);
        for (size_t i = 0; i < ndl; i++) {
            fprintf(stderr, "deploy: ganglion dlopens %s (%s)\n", dl[i].path, dl[i].pkg);
            cr_expect(in_list(pkgs, np, dl[i].pkg),
                      "ganglion dlopens %s (package %s): the Dockerfile does not install it",
                      dl[i].path, dl[i].pkg);
        }
        for (size_t i = 0; i < ndeps; i++)
            cr_expect(!strcmp(dldeps[i].pkg, "libc6") || in_list(pkgs, np, dldeps[i].pkg),
                      "%s (package %s) is needed by a dlopened library", dldeps[i].path,
                      dldeps[i].pkg);
    }
    rc = sh(out, sizeof(out),
            "%s /usr/local/bin/ganglion chain head --subtensor.chain_endpoint %s "
            "2>&1",
            run, url);
    cr_assert_eq(rc, 0, "chain head in the runtime root: %s", out);
    cr_assert(strstr(out, "\"number\":") != NULL, "%s", out);

    /* a node in the root; its /healthz checked from outside (chroot shares
     * the network). A real miner on the seeded chain when this ganglion has
     * the role; until then the axon alone. */
    static gn_run_t r;
    gn_test_run(&r, "", "miner --help");
    bool miner = r.status == 0;
    const char *w = "--wallet.path /wallets --wallet.name local --wallet.hotkey hk1";
    char wallets[256];
    snprintf(wallets, sizeof(wallets), "%s/wallets", root);
    gn_test_run(&r, "",
                "wallet regen-coldkey --uri //Alice --no-password --wallet.path %s "
                "--wallet.name local",
                wallets);
    cr_assert_eq(r.status, 0, "%s", r.err);
    gn_test_run(&r, "",
                "wallet regen-hotkey --uri //Alice//hk1 --wallet.path %s "
                "--wallet.name local --wallet.hotkey hk1",
                wallets);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* as a read-only mount gives them, without the coldkey: the image's
     * user reads, nobody writes */
    if (as_root())
        cr_assert_eq(sh(NULL, 0, "chown -R " UID_S ":" UID_S " %s", wallets), 0);
    cr_assert_eq(sh(NULL, 0, "rm -f %s/local/coldkey && chmod -R a-w %s", wallets, wallets), 0);
    int port = free_port();
    char log[256];
    snprintf(log, sizeof(log), "%s/node.log", rt.dir);
    if (miner) {
        gn_test_chain_subnet(url, 1, false, ""); /* subnet 2, hk1 registered */
        snprintf(cmd, sizeof(cmd),
                 "exec %s /usr/local/bin/ganglion miner --netuid 2 %s "
                 "--subtensor.chain_endpoint %s --axon.port %d --axon.external_ip 127.0.0.2 "
                 "--state_dir /var/lib/ganglion/miner",
                 run, w, url, port);
    } else {
        fprintf(stderr, "deploy: no `ganglion miner` yet: /healthz of `ganglion axon`\n");
        snprintf(cmd, sizeof(cmd), "exec %s /usr/local/bin/ganglion axon --port %d %s", run, port,
                 w);
    }
    rt.node = spawn(cmd, log);
    gn_raw_resp_t resp = {0};
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    double end = now_s() + (miner ? 120 : 20);
    int status = 0;
    while (now_s() < end && waitpid(rt.node, NULL, WNOHANG) == 0) {
        memset(&resp, 0, sizeof(resp));
        if (gn_raw_request(port, req, strlen(req), &resp) == 0) {
            status = resp.status;
            if (status == 200)
                break;
            gn_raw_free(&resp);
        }
        usleep(200000);
    }
    if (status != 200) {
        char tail[4096] = "";
        sh(tail, sizeof(tail), "tail -n 15 %s", log);
        cr_assert_fail("no 200 from /healthz of the node in the runtime root (last %d):\n%s",
                       status, tail);
    }
    fprintf(stderr, "deploy: /healthz of `ganglion %s` in the runtime root, from outside: %d\n",
            miner ? "miner" : "axon", status);
    cr_expect(strstr(resp.body, "\"status\"") != NULL, "%s", resp.body);
    gn_raw_free(&resp);
    /* the image's HEALTHCHECK script agrees, and fails once the node is gone */
    rc = sh(NULL, 0, "GANGLION_HEALTH_PORT=%d bash " DEPLOY "/healthcheck.sh 2>/dev/null", port);
    cr_expect_eq(rc, 0, "deploy/healthcheck.sh on a healthy node");
    cr_assert_eq(kill(rt.node, SIGTERM), 0);
    rc = wait_for(rt.node, 30);
    cr_expect_eq(rc, 0, "the node in the root after SIGTERM: %d (-2: still running)", rc);
    if (rc != -2)
        rt.node = 0;
    rc = sh(NULL, 0, "GANGLION_HEALTH_PORT=%d bash " DEPLOY "/healthcheck.sh 2>/dev/null", port);
    cr_expect_neq(rc, 0, "deploy/healthcheck.sh with nothing listening");
    for (size_t i = 0; i < np; i++)
        free(pkgs[i]);
    free(d.text);
}

/* ---- Kubernetes ------------------------------------------------------------- */

typedef struct {
    const char *file;
    const ynode_t *doc;
} k8s_obj_t;

/* A container port by number or name. */
static int container_port(const ynode_t *ctr, const ynode_t *port)
{
    const char *s = y_str(port);
    if (!s)
        return -1;
    if (s[0] >= '0' && s[0] <= '9')
        return atoi(s);
    const ynode_t *ports = y_get(ctr, "ports");
    for (size_t i = 0; ports && ports->kind == Y_SEQ && i < ports->n; i++)
        if (y_is(y_get(ports->kids[i], "name"), s))
            return atoi(or_(y_str(y_get(ports->kids[i], "containerPort")), "-1"));
    return -1;
}

static bool labels_match(const ynode_t *selector, const ynode_t *labels)
{
    if (!selector || selector->kind != Y_MAP || selector->n == 0)
        return false;
    for (size_t i = 0; i + 1 < selector->n; i += 2) {
        const char *k = y_str(selector->kids[i]), *v = y_str(selector->kids[i + 1]);
        if (!k || !v || !y_is(y_get(labels, k), v))
            return false;
    }
    return true;
}

static bool run_as_non_root(const ynode_t *pod, const ynode_t *ctr)
{
    const ynode_t *c = y_path(ctr, "securityContext/runAsNonRoot");
    if (c)
        return y_is(c, "true");
    return y_is(y_path(pod, "securityContext/runAsNonRoot"), "true");
}

static const ynode_t *mount_of(const ynode_t *ctr, const char *volume)
{
    const ynode_t *m = y_get(ctr, "volumeMounts");
    for (size_t i = 0; m && m->kind == Y_SEQ && i < m->n; i++)
        if (y_is(y_get(m->kids[i], "name"), volume))
            return m->kids[i];
    return NULL;
}

/* One ganglion node container: its probes, port, metrics, wallet and flags. */
static void check_k8s_node(const char *where, const ynode_t *tmpl, const ynode_t *ctr,
                           const node_cmd_t *c)
{
    const ynode_t *pod = y_get(tmpl, "spec");
    int port = node_health_port(c);
    cr_expect_gt(port, 0, "%s: the %s serves /healthz on no port (--metrics.port)", where, c->role);
    bool listed = false;
    const ynode_t *ports = y_get(ctr, "ports");
    for (size_t i = 0; ports && ports->kind == Y_SEQ && i < ports->n; i++)
        listed |= atoi(or_(y_str(y_get(ports->kids[i], "containerPort")), "0")) == port;
    cr_expect(listed, "%s: port %d is not a containerPort", where, port);
    const char *probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
    for (size_t i = 0; i < 3; i++) {
        const ynode_t *pr = y_get(ctr, probes[i]);
        if (!pr && i == 2)
            continue;
        cr_expect_not_null(pr, "%s: no %s", where, probes[i]);
        if (!pr)
            continue;
        cr_expect(y_is(y_path(pr, "httpGet/path"), "/healthz"), "%s: %s is not GET /healthz", where,
                  probes[i]);
        cr_expect_eq(container_port(ctr, y_path(pr, "httpGet/port")), port,
                     "%s: %s on another port than the node's %d", where, probes[i], port);
    }
    const ynode_t *ann = y_path(tmpl, "metadata/annotations");
    cr_expect(y_is(y_get(ann, "prometheus.io/scrape"), "true"), "%s: prometheus.io/scrape", where);
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    cr_expect(y_is(y_get(ann, "prometheus.io/port"), ps), "%s: prometheus.io/port is not %s", where,
              ps);
    const ynode_t *path = y_get(ann, "prometheus.io/path");
    cr_expect(!path || y_is(path, "/metrics"), "%s: prometheus.io/path", where);

    /* the wallet: a Secret mounted read-only where the node looks, holding
     * <name>/coldkeypub.txt and <name>/hotkeys/<hotkey> */
    const ynode_t *vols = y_get(pod, "volumes");
    const ynode_t *secret = NULL, *svol = NULL;
    for (size_t i = 0; vols && vols->kind == Y_SEQ && i < vols->n; i++)
        if (y_get(vols->kids[i], "secret")) {
            svol = vols->kids[i];
            secret = y_get(vols->kids[i], "secret");
        }
    cr_assert_not_null(secret, "%s: no wallet Secret", where);
    cr_expect_not_null(y_get(secret, "secretName"), "%s: secretName", where);
    const ynode_t *m = mount_of(ctr, y_str(y_get(svol, "name")));
    cr_assert_not_null(m, "%s: the wallet Secret is not mounted", where);
    cr_expect(y_is(y_get(m, "readOnly"), "true"), "%s: the wallet is mounted read-write", where);
    const char *wpath = or_(node_cmd_get(c, "wallet.path", "GANGLION_WALLET_PATH"), "/wallets");
    cr_expect(y_is(y_get(m, "mountPath"), wpath), "%s: the wallet is mounted at %s, not %s", where,
              y_str(y_get(m, "mountPath")), wpath);
    const char *name = or_(node_cmd_get(c, "wallet.name", "GANGLION_WALLET_NAME"), "default");
    const char *hot = or_(node_cmd_get(c, "wallet.hotkey", "GANGLION_WALLET_HOTKEY"), "default");
    char want_hot[256], want_pub[256];
    snprintf(want_hot, sizeof(want_hot), "%s/hotkeys/%s", name, hot);
    snprintf(want_pub, sizeof(want_pub), "%s/coldkeypub.txt", name);
    bool got_hot = false, got_pub = false;
    const ynode_t *items = y_get(secret, "items");
    for (size_t i = 0; items && items->kind == Y_SEQ && i < items->n; i++) {
        got_hot |= y_is(y_get(items->kids[i], "path"), want_hot);
        got_pub |= y_is(y_get(items->kids[i], "path"), want_pub);
    }
    cr_expect(got_hot && got_pub, "%s: the Secret's items do not make %s and %s", where, want_hot,
              want_pub);
    node_cmd_check(c, where);
}

static void check_k8s_workload(const char *file, const ynode_t *doc, const k8s_obj_t *all,
                               size_t nall, int *miners, int *validators, int *workers)
{
    const char *kind = y_str(y_get(doc, "kind")), *name = y_str(y_path(doc, "metadata/name"));
    char where[300];
    snprintf(where, sizeof(where), "%s: %s %s", file, kind, name);
    const ynode_t *tmpl = y_path(doc, "spec/template");
    const ynode_t *sel = y_path(doc, "spec/selector/matchLabels");
    cr_expect(labels_match(sel, y_path(tmpl, "metadata/labels")),
              "%s: the selector does not match the template's labels", where);
    const ynode_t *pod = y_get(tmpl, "spec");
    const ynode_t *ctrs = y_get(pod, "containers");
    cr_assert(ctrs && ctrs->kind == Y_SEQ && ctrs->n > 0, "%s: no containers", where);
    for (size_t i = 0; i < ctrs->n; i++) {
        const ynode_t *ctr = ctrs->kids[i];
        char cw[400];
        snprintf(cw, sizeof(cw), "%s container %s (line %d)", where,
                 or_(y_str(y_get(ctr, "name")), "?"), ctr->line);
        cr_expect_not_null(y_str(y_get(ctr, "name")), "%s: no name", cw);
        cr_expect_not_null(y_str(y_get(ctr, "image")), "%s: no image", cw);
        cr_expect(y_path(ctr, "resources/requests/cpu") && y_path(ctr, "resources/requests/memory"),
                  "%s: resources.requests cpu and memory", cw);
        cr_expect(run_as_non_root(pod, ctr), "%s: runAsNonRoot", cw);
        cr_expect(y_is(y_path(ctr, "securityContext/allowPrivilegeEscalation"), "false"),
                  "%s: allowPrivilegeEscalation: false", cw);
        cr_expect(y_get(ctr, "readinessProbe") && y_get(ctr, "livenessProbe"), "%s: probes", cw);
        node_cmd_t c;
        node_cmd_from(&c, y_get(ctr, "args"));
        if (!c.role[0])
            continue;
        const ynode_t *env = y_get(ctr, "env");
        for (size_t j = 0; env && env->kind == Y_SEQ && j < env->n; j++) {
            const char *k = y_str(y_get(env->kids[j], "name")),
                       *v = y_str(y_get(env->kids[j], "value"));
            cr_expect(k && (v || y_get(env->kids[j], "valueFrom")), "%s: env item %zu", cw, j);
            if (k && v)
                node_cmd_env(&c, k, v);
        }
        cr_expect(strncmp(or_(y_str(y_get(ctr, "image")), ""), "ganglion:", 9) == 0,
                  "%s: a node runs the ganglion image", cw);
        check_k8s_node(cw, tmpl, ctr, &c);
        if (!strcmp(c.role, "miner")) {
            ++*miners;
            cr_expect(!strcmp(kind, "Deployment") && y_is(y_path(doc, "spec/replicas"), "1") &&
                          y_is(y_path(doc, "spec/strategy/type"), "Recreate"),
                      "%s: a miner is a Deployment of one replica, Recreate (one hotkey)", where);
            /* NodePort: the axon publishes the nodePort */
            for (size_t k = 0; k < nall; k++) {
                const ynode_t *s = all[k].doc;
                if (!y_is(y_get(s, "kind"), "Service") ||
                    !y_is(y_path(s, "spec/type"), "NodePort") ||
                    !labels_match(y_path(s, "spec/selector"), y_path(tmpl, "metadata/labels")))
                    continue;
                const ynode_t *sp = y_path(s, "spec/ports");
                const char *np = sp && sp->n ? y_str(y_get(sp->kids[0], "nodePort")) : NULL;
                const char *ext =
                    node_cmd_get(&c, "axon.external_port", "GANGLION_AXON_EXTERNAL_PORT");
                cr_expect(np && ext && !strcmp(np, ext),
                          "%s: --axon.external_port %s is not the Service's nodePort %s", where,
                          or_(ext, "(unset)"), or_(np, "(unset)"));
            }
        } else {
            ++*validators;
            cr_expect_str_eq(kind, "StatefulSet", "%s: the validator is a StatefulSet", where);
            const ynode_t *vct = y_path(doc, "spec/volumeClaimTemplates");
            cr_assert(vct && vct->kind == Y_SEQ && vct->n > 0, "%s: no volumeClaimTemplates",
                      where);
            const ynode_t *sm = mount_of(ctr, y_str(y_path(vct->kids[0], "metadata/name")));
            cr_assert_not_null(sm, "%s: the claim is not mounted", where);
            const char *mp = y_str(y_get(sm, "mountPath"));
            const char *sd = node_cmd_get(&c, "state_dir", "GANGLION_STATE_DIR");
            cr_expect(sd && mp && !strncmp(sd, mp, strlen(mp)),
                      "%s: --state_dir %s is not on the claim (%s)", where, or_(sd, "(unset)"),
                      or_(mp, "?"));
            const char *svc = y_str(y_path(doc, "spec/serviceName"));
            bool found = false;
            for (size_t k = 0; svc && k < nall; k++)
                found |= y_is(y_get(all[k].doc, "kind"), "Service") &&
                         y_is(y_path(all[k].doc, "metadata/name"), svc);
            cr_expect(found, "%s: serviceName %s is no Service", where, or_(svc, "(unset)"));
        }
        node_cmd_free(&c);
    }
    const ynode_t *labels = y_path(tmpl, "metadata/labels");
    if (y_is(y_get(labels, "app.kubernetes.io/component"), "worker")) {
        ++*workers;
        bool hpa = false;
        for (size_t k = 0; k < nall; k++)
            hpa |= y_is(y_get(all[k].doc, "kind"), "HorizontalPodAutoscaler") &&
                   y_is(y_path(all[k].doc, "spec/scaleTargetRef/name"), name) &&
                   y_is(y_path(all[k].doc, "spec/scaleTargetRef/kind"), kind);
        cr_expect(hpa, "%s: workers scale horizontally: no HorizontalPodAutoscaler", where);
    }
}

Test(deploy, kubernetes)
{
    glob_t g;
    cr_assert_eq(glob(DEPLOY "/k8s/*.yaml", 0, NULL, &g), 0, "no deploy/k8s/*.yaml");
    static yfile_t files[16];
    static k8s_obj_t all[64];
    size_t nf = 0, nall = 0;
    for (size_t i = 0; i < g.gl_pathc && nf < 16; i++) {
        y_load(g.gl_pathv[i], &files[nf]);
        for (size_t j = 0; j < files[nf].ndocs; j++) {
            cr_assert_lt(nall, 64);
            all[nall].file = strstr(files[nf].path, "deploy/");
            all[nall++].doc = files[nf].docs[j];
        }
        nf++;
    }
    globfree(&g);
    int miners = 0, validators = 0, workers = 0, services = 0;
    for (size_t i = 0; i < nall; i++) {
        const ynode_t *doc = all[i].doc;
        const char *kind = y_str(y_get(doc, "kind"));
        cr_assert(kind && y_str(y_get(doc, "apiVersion")) && y_str(y_path(doc, "metadata/name")),
                  "%s:%d: apiVersion, kind and metadata.name", all[i].file, doc->line);
        if (!strcmp(kind, "Deployment") || !strcmp(kind, "StatefulSet")) {
            check_k8s_workload(all[i].file, doc, all, nall, &miners, &validators, &workers);
        } else if (!strcmp(kind, "Service")) {
            services++;
            const ynode_t *ports = y_path(doc, "spec/ports");
            cr_expect(ports && ports->kind == Y_SEQ && ports->n > 0, "%s: Service without ports",
                      all[i].file);
            /* it selects a workload, whose container has its targetPort */
            const ynode_t *sel = y_path(doc, "spec/selector");
            const ynode_t *target = NULL;
            for (size_t k = 0; k < nall && !target; k++)
                if (labels_match(sel, y_path(all[k].doc, "spec/template/metadata/labels")))
                    target = all[k].doc;
            cr_expect_not_null(target, "%s: Service %s selects no workload", all[i].file,
                               y_str(y_path(doc, "metadata/name")));
            for (size_t p = 0; ports && target && p < ports->n; p++) {
                const ynode_t *tp = y_get(ports->kids[p], "targetPort");
                cr_expect(y_str(y_get(ports->kids[p], "port")) && tp, "%s: port and targetPort",
                          all[i].file);
                const ynode_t *ctrs = y_path(target, "spec/template/spec/containers");
                bool found = false;
                for (size_t c = 0; ctrs && c < ctrs->n; c++)
                    found |= container_port(ctrs->kids[c], tp) > 0;
                cr_expect(found, "%s: targetPort %s is no container's port", all[i].file,
                          or_(y_str(tp), "?"));
            }
        } else if (!strcmp(kind, "HorizontalPodAutoscaler")) {
            cr_expect(y_path(doc, "spec/maxReplicas") && y_path(doc, "spec/scaleTargetRef/name"),
                      "%s: HPA", all[i].file);
        }
    }
    cr_expect_geq(miners, 1, "no miner Deployment");
    cr_expect_geq(validators, 1, "no validator StatefulSet");
    cr_expect_geq(workers, 1, "no worker Deployment");
    cr_expect_geq(services, 2);
    for (size_t i = 0; i < nf; i++)
        y_free(&files[i]);
}

/* ---- compose ---------------------------------------------------------------- */

/* "${VAR:-default}" in a compose value: the default. */
static void compose_default(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    while (*in && o + 1 < cap) {
        const char *d;
        if (in[0] == '$' && in[1] == '{' && (d = strstr(in, ":-")) && strchr(d, '}')) {
            const char *e = strchr(d, '}');
            for (d += 2; d < e && o + 1 < cap; d++)
                out[o++] = *d;
            in = e + 1;
        } else {
            out[o++] = *in++;
        }
    }
    out[o] = '\0';
}

static bool has_volume(const ynode_t *svc, const char *suffix)
{
    const ynode_t *v = y_get(svc, "volumes");
    for (size_t i = 0; v && v->kind == Y_SEQ && i < v->n; i++) {
        const char *s = y_str(v->kids[i]);
        if (s && strlen(s) >= strlen(suffix) && !strcmp(s + strlen(s) - strlen(suffix), suffix))
            return true;
    }
    return false;
}

Test(deploy, compose)
{
    yfile_t f;
    y_load(DEPLOY "/compose.yaml", &f);
    cr_assert_eq(f.ndocs, 1);
    const ynode_t *services = y_get(f.docs[0], "services");
    cr_assert(services && services->kind == Y_MAP, "compose.yaml: no services");
    const ynode_t *volumes = y_get(f.docs[0], "volumes");
    int miners = 0, validators = 0;
    bool chain = false, setup = false;
    for (size_t i = 0; i + 1 < services->n; i += 2) {
        const char *name = y_str(services->kids[i]);
        const ynode_t *svc = services->kids[i + 1];
        char where[160];
        snprintf(where, sizeof(where), "compose.yaml: service %s (line %d)", name, svc->line);
        cr_expect_not_null(y_str(y_get(svc, "image")), "%s: no image", where);
        const ynode_t *cmd = y_get(svc, "command");
        cr_assert(cmd && cmd->kind == Y_SEQ && cmd->n > 0, "%s: no command", where);
        /* named volumes are declared */
        const ynode_t *vs = y_get(svc, "volumes");
        for (size_t k = 0; vs && vs->kind == Y_SEQ && k < vs->n; k++) {
            const char *v = y_str(vs->kids[k]);
            cr_assert_not_null(v, "%s: volumes in the short form", where);
            if (v[0] != '.' && v[0] != '/' && v[0] != '$') {
                char vol[64];
                snprintf(vol, sizeof(vol), "%.*s", (int)strcspn(v, ":"), v);
                cr_expect_not_null(y_get(volumes, vol), "%s: volume %s is not declared", where,
                                   vol);
            }
        }
        node_cmd_t c;
        node_cmd_from(&c, cmd);
        if (c.role[0]) {
            const ynode_t *env = y_get(svc, "environment");
            for (size_t k = 0; env && env->kind == Y_MAP && k + 1 < env->n; k += 2)
                node_cmd_env(&c, y_str(env->kids[k]), or_(y_str(env->kids[k + 1]), ""));
            cr_expect(strstr(or_(y_str(y_get(svc, "image")), ""), "ganglion") != NULL,
                      "%s: a node runs the ganglion image", where);
            cr_expect(has_volume(svc, ":/wallets:ro"), "%s: wallets mounted read-only", where);
            cr_expect(has_volume(svc, ":/var/lib/ganglion"), "%s: state on a volume", where);
            cr_expect(
                y_is(y_path(svc, "depends_on/setup/condition"), "service_completed_successfully"),
                "%s: starts after setup", where);
            cr_expect_not_null(y_get(svc, "stop_grace_period"), "%s: stop_grace_period", where);
            cr_expect(y_is(y_get(svc, "restart"), "on-failure"), "%s: restart", where);
            const char *ep = node_cmd_get(&c, "subtensor.chain_endpoint", NULL);
            cr_expect(ep && !strcmp(ep, "ws://chain:9944"), "%s: the chain service", where);
            if (!strcmp(c.role, "miner")) {
                miners++;
                /* the validator dials the address the miner publishes */
                const char *ext = node_cmd_get(&c, "axon.external_ip", NULL);
                const ynode_t *ip = y_path(svc, "networks/local/ipv4_address");
                cr_expect(ext && y_is(ip, ext), "%s: --axon.external_ip %s is not its address %s",
                          where, or_(ext, "(unset)"), or_(y_str(ip), "(unset)"));
            } else {
                validators++;
                cr_expect_gt(node_health_port(&c), 0, "%s: the validator's --metrics.port", where);
            }
            /* the image's HEALTHCHECK finds the port from the environment
             * only (deploy/healthcheck.sh's order) */
            const ynode_t *env_map = y_get(svc, "environment");
            const char *hc = y_str(y_get(env_map, "GANGLION_HEALTH_PORT"));
            const char *mp = y_str(y_get(env_map, "GANGLION_METRICS_PORT"));
            if (!hc && mp && strcmp(mp, "0") != 0)
                hc = mp;
            if (!hc)
                hc = y_str(y_get(env_map, "GANGLION_AXON_PORT"));
            if (!hc)
                hc = y_str(y_get(env_map, "BT_AXON_PORT"));
            cr_expect_eq(atoi(or_(hc, "8091")), node_health_port(&c),
                         "%s: the health check looks at port %s, the node serves /healthz on %d",
                         where, or_(hc, "8091"), node_health_port(&c));
            node_cmd_check(&c, where);
            node_cmd_free(&c);
        } else if (!strcmp(name, "chain")) {
            chain = true;
            cr_expect(y_path(svc, "healthcheck/test") != NULL, "%s: a health check", where);
            char src[512] = "", path[1024];
            const ynode_t *v = y_get(svc, "volumes");
            for (size_t k = 0; v && k < v->n; k++)
                if (strstr(or_(y_str(v->kids[k]), ""), ":/src:ro"))
                    compose_default(y_str(v->kids[k]), src, sizeof(src));
            cr_assert(src[0], "%s: the shared chain folder is not mounted read-only", where);
            *strstr(src, ":/src:ro") = '\0';
            snprintf(path, sizeof(path), "%s/%s/chain.mjs", DEPLOY, src);
            struct stat st;
            if (stat(SRC "/../shared/chain", &st) == 0)
                cr_expect_eq(stat(path, &st), 0, "%s: %s does not lead to the shared chain", where,
                             src);
            else
                fprintf(stderr, "deploy: ../shared/chain is missing: compose's path unchecked\n");
            const char *sc = y_str(cmd->kids[cmd->n - 1]);
            cr_expect(sc && strstr(sc, "chain.mjs") && strstr(sc, "--host 0.0.0.0"),
                      "%s: chain.mjs on all interfaces", where);
        } else if (!strcmp(name, "setup")) {
            setup = true;
            cr_expect(y_is(y_get(svc, "restart"), "no"), "%s: a one-shot", where);
            cr_expect(has_volume(svc, "./local-setup.sh:/deploy/local-setup.sh:ro"), "%s", where);
            cr_expect(y_is(cmd->kids[0], "/deploy/local-setup.sh"), "%s: runs local-setup.sh",
                      where);
            cr_expect(y_is(y_path(svc, "depends_on/chain/condition"), "service_healthy"), "%s",
                      where);
        }
    }
    cr_expect(chain && setup, "compose.yaml: the chain and setup services");
    cr_expect_eq(validators, 1, "compose.yaml: one validator");
    cr_expect_eq(miners, 2, "compose.yaml: two miners");
    y_free(&f);
}

/* ---- systemd ---------------------------------------------------------------- */

/* systemd-analyze verify on a copy of unit named ganglion@test.service,
 * its binary pointed at this build's; its output into out. */
static int verify_unit(const char *dir, const char *unit_text, char *out, size_t cap)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/ganglion@test.service", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(unit_text, f);
    fclose(f);
    return sh(out, cap, "systemd-analyze verify --man=no %s 2>&1", path);
}

static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t n = 0, fl = strlen(from), tl = strlen(to);
    for (const char *p = s; (p = strstr(p, from)); p += fl)
        n++;
    char *out = malloc(strlen(s) + n * (tl + 1) + 1), *o = out;
    cr_assert_not_null(out);
    for (const char *p; (p = strstr(s, from)); s = p + fl) {
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, to, tl);
        o += tl;
    }
    strcpy(o, s);
    return out;
}

Test(deploy, systemd_unit, .timeout = 120)
{
    static char *unit;
    unit = slurp(DEPLOY "/systemd/ganglion@.service");
    cr_assert_not_null(unit, "deploy/systemd/ganglion@.service is missing");
    const char *must[] = {"\nRestart=on-failure\n", "\nNoNewPrivileges=yes\n",
                          "\nProtectSystem=strict\n", "\nReadWritePaths=/var/lib/ganglion/%i\n",
                          "\nStateDirectory=ganglion/%i\n"};
    for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
        cr_expect(strstr(unit, must[i]) != NULL, "the unit lacks %s", must[i] + 1);
    /* ExecStart's flags, for both roles, are ganglion's; its state dir is
     * the writable one */
    char *exec = strstr(unit, "\nExecStart=");
    cr_assert_not_null(exec);
    char line[1024];
    snprintf(line, sizeof(line), "%.*s", (int)strcspn(exec + 11, "\n"), exec + 11);
    cr_assert(strstr(line, "--state_dir /var/lib/ganglion/%i"), "%s", line);
    const char *roles[] = {"miner", "validator"};
    for (size_t r = 0; r < 2; r++) {
        node_cmd_t c = {0};
        snprintf(c.role, sizeof(c.role), "%s", roles[r]);
        char *save = NULL, copy[1024];
        snprintf(copy, sizeof(copy), "%s", line);
        char *w = strtok_r(copy, " ", &save); /* the binary */
        cr_assert_str_eq(w, "/usr/local/bin/ganglion");
        cr_assert_str_eq(strtok_r(NULL, " ", &save), "${ROLE}");
        while ((w = strtok_r(NULL, " ", &save))) {
            if (!strcmp(w, "--config")) { /* the operator's file */
                strtok_r(NULL, " ", &save);
                continue;
            }
            char *inst = replace_all(w, "%i", "test");
            c.argv[c.argc++] = inst;
        }
        node_cmd_check(&c, "ganglion@.service ExecStart");
        node_cmd_free(&c);
    }

    skip_without("systemd-analyze", "the unit is not verified");
    char dir[] = "/tmp/gn-deploy-systemd-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    static char out[8192];
    /* can it run here at all? a trivial unit must pass clean */
    int rc = verify_unit(dir, "[Unit]\nDescription=t\n[Service]\nExecStart=/bin/true\n", out,
                         sizeof(out));
    if (rc != 0 || out[0]) {
        sh(NULL, 0, "rm -rf %s", dir);
        fprintf(stderr, "SKIP deploy::systemd_unit: systemd-analyze cannot verify here: %s\n", out);
        cr_skip_test("systemd-analyze verify does not work in this container: %s", out);
    }
    char *mine = replace_all(unit, "/usr/local/bin/ganglion", GN_BUILD_DIR "/ganglion");
    rc = verify_unit(dir, mine, out, sizeof(out));
    cr_expect(rc == 0 && out[0] == '\0', "systemd-analyze verify (%d):\n%s", rc, out);
    /* and it does see errors: the same unit with a misspelt directive */
    char *bad = replace_all(mine, "Restart=on-failure", "Restart=on-failure\nRestrat=always");
    rc = verify_unit(dir, bad, out, sizeof(out));
    cr_expect(strstr(out, "Restrat") != NULL, "a misspelt directive went unnoticed: %s", out);
    free(bad);
    free(mine);
    free(unit);
    cr_assert_eq(sh(NULL, 0, "rm -rf %s", dir), 0);
}

/* ---- deploy/local-setup.sh on the local chain -------------------------------- */

Test(deploy, local_setup_script, .timeout = 900, .fini = rt_fini)
{
    skip_without("curl", "the test builds blocks with dev_newBlock");
    snprintf(rt.dir, sizeof(rt.dir), "/tmp/gn-deploy-setup-XXXXXX");
    cr_assert_not_null(mkdtemp(rt.dir));
    char url[128], cmd[2048], log[256];
    gn_test_chain_start(url, sizeof(url), &rt.chain_port);
    /* a block every half second after the last one is built (compose's
     * chain has --block-interval-ms; that timer does not wait for a slow
     * build, which a loaded test machine makes) */
    snprintf(
        cmd, sizeof(cmd),
        "while :; do curl -s -m 60 -H 'content-type: application/json' -d "
        "'{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"dev_newBlock\",\"params\":[{\"count\":1}]}' "
        "http://127.0.0.1:%d >/dev/null; sleep 0.5; done",
        rt.chain_port);
    snprintf(log, sizeof(log), "%s/producer.log", rt.dir);
    rt.producer = spawn(cmd, log);

    static char out[16384];
    snprintf(log, sizeof(log), "%s/setup.log", rt.dir);
    const char *env = "GANGLION=" GN_BUILD_DIR "/ganglion NETUID=2";
    int rc = sh(out, sizeof(out), "%s CHAIN=%s WALLETS=%s/w bash " DEPLOY "/local-setup.sh 2>%s",
                env, url, rt.dir, log);
    if (rc != 0) {
        char tail[4096] = "";
        sh(tail, sizeof(tail), "tail -n 15 %s", log);
        cr_assert_fail("local-setup.sh failed (%d):\n%s", rc, tail);
    }
    char val[64] = "", m1[64] = "", m2[64] = "";
    const char *p = strstr(out, "\"netuid\":2,\"validator\":\"");
    cr_assert_not_null(p, "%s", out);
    cr_assert_eq(sscanf(p,
                        "\"netuid\":2,\"validator\":\"%63[^\"]\",\"miner1\":\"%63[^\"]\","
                        "\"miner2\":\"%63[^\"]\"",
                        val, m1, m2),
                 3, "%s", out);
    /* on chain: the three hotkeys on subnet 2, the validator staked */
    static gn_run_t r;
    gn_test_run(&r, "", "neurons --netuid 2 --subtensor.chain_endpoint %s", url);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, val) && strstr(r.out, m1) && strstr(r.out, m2),
              "the hotkeys are not all registered on subnet 2");
    gn_test_run(&r, "",
                "chain runtime-call StakeInfoRuntimeApi get_stake_info_for_hotkey_coldkey_netuid "
                "'[\"%s\",\"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\",2]' "
                "--subtensor.chain_endpoint %s",
                val, url);
    cr_assert_eq(r.status, 0, "%s", r.err);
    p = strstr(r.out, "\"stake\":");
    cr_expect(p && atoll(p + 8 + (p[8] == '"')) > 0, "the validator has no stake: %s", r.out);

    /* compose's miner addresses are ones the chain takes (serve_axon) */
    yfile_t f;
    y_load(DEPLOY "/compose.yaml", &f);
    const char *ip = y_str(y_path(f.docs[0], "services/miner1/networks/local/ipv4_address"));
    cr_assert_not_null(ip);
    gn_test_run(&r, "",
                "serve --netuid 2 --ip %s --port 8091 --wallet.path %s/w --wallet.name local "
                "--wallet.hotkey miner1 --subtensor.chain_endpoint %s",
                ip, rt.dir, url);
    cr_expect_eq(r.status, 0, "serve_axon %s: %s", ip, r.err);
    y_free(&f);

    /* run again: nothing to do, nothing signed */
    gn_test_run(&r, "",
                "chain nonce 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY "
                "--subtensor.chain_endpoint %s",
                url);
    long long nonce = atoll(r.out);
    rc = sh(NULL, 0, "%s CHAIN=%s WALLETS=%s/w bash " DEPLOY "/local-setup.sh >/dev/null 2>>%s",
            env, url, rt.dir, log);
    cr_expect_eq(rc, 0, "local-setup.sh a second time");
    gn_test_run(&r, "",
                "chain nonce 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY "
                "--subtensor.chain_endpoint %s",
                url);
    cr_expect_eq(atoll(r.out), nonce, "the second run signed something");
}
