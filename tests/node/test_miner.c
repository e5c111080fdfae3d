/* `ganglion miner` run as an operator would, against the real local chain
 * (tests/support/chain.h), queried by `ganglion query` signed with the
 * seeded hotkeys: registration check, serve_axon, the blacklist, a
 * restart from the persisted metagraph, SIGTERM under load. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
#include "support/chain.h"
#include "support/chain_client.h"
#include "support/run.h"

#define GANGLION GN_BUILD_DIR "/ganglion"
#define PY       "/usr/bin/python3" /* Debian's, with python3-msgpack */

static gn_run_t r;
static pid_t miners[8]; /* and the worker: killed at the end */
static int n_miners;
static int chain_port;
static char dir[64];

static void teardown(void)
{
    for (int i = 0; i < n_miners; i++)
        if (miners[i] > 0) {
            kill(miners[i], SIGKILL);
            waitpid(miners[i], NULL, 0);
        }
    n_miners = 0;
    if (chain_port)
        gn_test_chain_stop(chain_port);
    chain_port = 0;
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
    }
    dir[0] = '\0';
}

TestSuite(miner, .fini = teardown);

/* ---- helpers ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/gn-miner-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void ss58_of(const char *uri, char out[64])
{
    gn_sr25519_keypair_t kp;
    gn_test_keypair(uri, &kp);
    cr_assert_eq(gn_ss58_encode(kp.pub, 32, 42, out, 64), 0);
    gn_sr25519_wipe(&kp);
}

/* wallet `w` in dir: hotkey `name` from uri (and the coldkey //Alice, plain) */
static void wallet(const char *name, const char *uri)
{
    gn_test_run(&r, "",
                "wallet regen-hotkey --uri %s --wallet.path %s/wallets --wallet.name w "
                "--wallet.hotkey %s",
                uri, dir, name);
    cr_assert_eq(r.status, 0, "regen-hotkey: %s", r.err);
    char path[128];
    snprintf(path, sizeof(path), "%s/wallets/w/coldkeypub.txt", dir);
    struct stat st;
    if (stat(path, &st) != 0) {
        gn_test_run(&r, "",
                    "wallet regen-coldkey --uri //Alice --no-password --wallet.path %s/wallets "
                    "--wallet.name w",
                    dir);
        cr_assert_eq(r.status, 0, "regen-coldkey: %s", r.err);
    }
}

/* `ganglion miner <args>` in the background, its output in dir/<log>;
 * it dies with the test worker (PDEATHSIG), whatever happens here. */
static pid_t spawn_miner(const char *log, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static pid_t spawn_miner(const char *log, const char *fmt, ...)
{
    char args[2048], cmd[2300], path[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "exec " GANGLION " miner %s", args);
    snprintf(path, sizeof(path), "%s/%s", dir, log);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        FILE *f = freopen(path, "a", stderr);
        if (!f || dup2(fileno(stderr), STDOUT_FILENO) < 0)
            _exit(127);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    cr_assert_lt(n_miners, 8);
    miners[n_miners++] = pid;
    return pid;
}

/* The exit code, or -1 (killed) / -2 (still running after secs). */
static int wait_exit(pid_t pid, double secs)
{
    double end = now_s() + secs;
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            for (int i = 0; i < n_miners; i++)
                if (miners[i] == pid)
                    miners[i] = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        if (now_s() > end)
            return -2;
        usleep(50000);
    }
}

static char *slurp(const char *log)
{
    static char buf[256 * 1024];
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, log);
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

/* The miner's exit code after SIGTERM or its own stop; its log must hold
 * no sanitizer report (the miner is built like the tests). */
static int exit_of(pid_t pid, const char *log, double secs)
{
    int code = wait_exit(pid, secs);
    const char *text = slurp(log);
    cr_assert_null(strstr(text, "Sanitizer"), "%s", text);
    return code;
}

/* One Dummy query signed by suri: its status code (0: no answer line);
 * *out gets dummy_output (-1 when null). */
static int query(const char *ip, int port, const char *hotkey, const char *suri, int input,
                 long long *out)
{
    gn_test_run(&r, "",
                "query --axon %s:%d:%s --synapse Dummy --field dummy_input=%d --suri %s "
                "--timeout 5",
                ip, port, hotkey, input, suri);
    json_t *j = json_loads(r.out, JSON_DISABLE_EOF_CHECK, NULL);
    int status = 0;
    if (out)
        *out = -1;
    if (j) {
        status = (int)json_integer_value(json_object_get(j, "status_code"));
        json_t *o = json_object_get(j, "dummy_output");
        if (out && json_is_integer(o))
            *out = json_integer_value(o);
        json_decref(j);
    }
    return status;
}

/* Query until the status is `want` (the first metagraph snapshot may take
 * a moment); the last status. */
static int query_until(const char *ip, int port, const char *hotkey, const char *suri, int want,
                       double secs, long long *out)
{
    double end = now_s() + secs;
    int st;
    do {
        st = query(ip, port, hotkey, suri, 3, out);
        if (st == want)
            return st;
        usleep(300000);
    } while (now_s() < end);
    return st;
}

static char env[160]; /* the CLI's metadata cache, one per test */

/* Subnet 2 built with ganglion's own client (tests/support/chain.h). */
static void subnet(const char *url, int n, bool validator)
{
    snprintf(env, sizeof(env), "GANGLION_CHAIN_CACHE_DIR=%s/cache", dir);
    gn_test_chain_subnet(url, n, validator, env);
}

/* Whether the neuron of hotkey on subnet 2 has a validator permit. */
static bool permit_of(const char *url, const char *hotkey)
{
    gn_test_run(&r, env, "neurons --netuid 2 --subtensor.chain_endpoint %s", url);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *all = json_loads(r.out, 0, NULL), *nn;
    cr_assert_not_null(all, "%s", r.out);
    json_t *list = json_is_array(all) ? all : json_object_get(all, "neurons");
    size_t i;
    bool found = false, permit = false;
    json_array_foreach (list, i, nn)
        if (!strcmp(json_string_value(json_object_get(nn, "hotkey")) ?: "", hotkey)) {
            found = true;
            permit = json_is_true(json_object_get(nn, "validator_permit"));
        }
    json_decref(all);
    cr_assert(found, "%s is not on subnet 2", hotkey);
    return permit;
}

/* A GET to ip:port: the status, the body in body. */
static int http_get(const char *ip, int port, const char *path, char *body, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 10};
    cr_assert(fd >= 0);
    inet_pton(AF_INET, ip, &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return 0;
    }
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                     path, ip);
    cr_assert_eq(write(fd, req, (size_t)n), n);
    static char buf[512 * 1024];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof(buf) - 1 && (k = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)k;
    buf[got] = '\0';
    close(fd);
    int status = 0;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
        return 0;
    const char *b = strstr(buf, "\r\n\r\n");
    snprintf(body, cap, "%s", b ? b + 4 : "");
    return status;
}

static const char *miner_args(char *buf, size_t cap, const char *url, const char *hotkey,
                              const char *ip, int port, const char *state, const char *extra)
{
    snprintf(buf, cap,
             "--netuid 2 --wallet.path %s/wallets --wallet.name w --wallet.hotkey %s "
             "--subtensor.chain_endpoint %s --axon.ip %s --axon.port %d --state_dir %s/%s "
             "--logging.format json %s",
             dir, hotkey, url, ip, port, dir, state, extra);
    return buf;
}

/* ---- without a chain ---- */

Test(miner, bad_configuration_exits_2_with_the_reason, .timeout = 60)
{
    make_dir();
    gn_test_run(&r, "", "miner --axon.port 70000");
    cr_assert_eq(r.status, 2);
    cr_assert_not_null(strstr(r.err, "axon.port"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "70000"), "%s", r.err);

    gn_test_run(&r, "", "miner --axon.ip 0.0.0.0 --wallet.path %s", dir);
    cr_assert_eq(r.status, 2);
    cr_assert_not_null(strstr(r.err, "--axon.external_ip"), "%s", r.err);

    gn_test_run(&r, "", "miner --axon.ip 127.0.0.3 --miner.handlers Dummy,Nope");
    cr_assert_eq(r.status, 2);
    cr_assert_not_null(strstr(r.err, "'Nope'"), "%s", r.err);

    gn_test_run(&r, "", "miner --help");
    cr_assert_eq(r.status, 0);
    cr_assert_not_null(strstr(r.out, "--miner.register"), "%s", r.out);
}

Test(miner, missing_or_locked_hotkey_is_refused_clearly, .timeout = 60)
{
    make_dir();
    gn_test_run(&r, "",
                "miner --axon.ip 127.0.0.3 --wallet.path %s/wallets --wallet.name w "
                "--wallet.hotkey nope --subtensor.chain_endpoint ws://127.0.0.1:1 --state_dir "
                "%s/s",
                dir, dir);
    cr_assert_eq(r.status, 1);
    cr_assert_not_null(strstr(r.err, "no hotkey file"), "%s", r.err);

    /* an encrypted hotkey, no BT_PW_ variable and no terminal (setsid) */
    gn_test_run(&r, "PW=secret",
                "wallet regen-hotkey --uri //Alice//locked --use-password --password-env PW "
                "--wallet.path %s/wallets --wallet.name w --wallet.hotkey locked",
                dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "setsid " GANGLION " miner --axon.ip 127.0.0.3 --wallet.path %s/wallets "
             "--wallet.name w --wallet.hotkey locked --subtensor.chain_endpoint ws://127.0.0.1:1 "
             "--state_dir %s/s </dev/null 2>&1",
             dir, dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(r.err, 1, sizeof(r.err) - 1, p);
    r.err[n] = '\0';
    int st = pclose(p);
    cr_assert_eq(WEXITSTATUS(st), 1, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "is encrypted"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "BT_PW_"), "%s", r.err);
}

/* ---- against the local chain ---- */

Test(miner, serves_publishes_refuses_and_restarts, .timeout = 600)
{
    char url[128], hk1[64], hk2[64], hk3[64], args[2048], body[4096];
    make_dir();
    gn_test_chain_start(url, sizeof(url), &chain_port);
    subnet(url, 3, true);
    ss58_of("//Alice//hk1", hk1);
    ss58_of("//Alice//hk2", hk2);
    ss58_of("//Alice//hk3", hk3);
    /* the premise of the permit checks below */
    cr_assert(permit_of(url, hk1), "hk1 has no validator permit");
    cr_assert(!permit_of(url, hk3), "hk3 has a validator permit");
    wallet("m3", "//Alice//hk3");
    wallet("m2", "//Alice//hk2");

    /* miner A: hk3, the default policy (registered callers) */
    int pa = free_port();
    pid_t a = spawn_miner("a.log", "%s",
                          miner_args(args, sizeof(args), url, "m3", "127.0.0.3", pa, "sa", ""));
    long long out = 0;
    int st = query_until("127.0.0.3", pa, hk3, "//Alice//hk1", 200, 90, &out);
    cr_assert_eq(st, 200, "a registered validator got %d; miner log:\n%s", st, slurp("a.log"));
    cr_assert_eq(out, 6);
    /* a registered hotkey without a permit may call by default */
    cr_assert_eq(query("127.0.0.3", pa, hk3, "//Alice//hk2", 5, &out), 200);
    cr_assert_eq(out, 10);
    /* a hotkey not on the subnet may not */
    cr_assert_eq(query("127.0.0.3", pa, hk3, "//Bob", 3, &out), 403, "%s", r.out);
    cr_assert_eq(out, -1);
    cr_assert_not_null(strstr(r.out, "Unrecognized hotkey"), "%s", r.out);

    /* its axon is on chain: 127.0.0.3 = 2130706435, the port, the SDK's version */
    json_t *ax = NULL;
    double end = now_s() + 60;
    do {
        json_decref(ax);
        gn_test_run(&r, env,
                    "chain query SubtensorModule Axons 2 '\"%s\"' --subtensor.chain_endpoint %s",
                    hk3, url);
        ax = json_loads(r.out, 0, NULL);
        if (json_integer_value(json_object_get(ax, "port")) == pa)
            break;
        sleep(1);
    } while (now_s() < end);
    cr_assert_eq(json_integer_value(json_object_get(ax, "ip")), 2130706435, "%s\n%s", r.out,
                 slurp("a.log"));
    cr_assert_eq(json_integer_value(json_object_get(ax, "port")), pa, "%s", r.out);
    cr_assert_eq(json_integer_value(json_object_get(ax, "version")), 10002000, "%s", r.out);
    json_decref(ax);
    cr_assert_not_null(strstr(slurp("a.log"), "published on chain"));

    /* health and metrics on the axon port */
    cr_assert_eq(http_get("127.0.0.3", pa, "/healthz", body, sizeof(body)), 200);
    cr_assert_not_null(strstr(body, hk3), "%s", body);
    cr_assert_eq(http_get("127.0.0.3", pa, "/metrics", body, sizeof(body)), 200);
    cr_assert_not_null(strstr(body, "ganglion_miner_registered 1"), "%s", body);

    /* miner B: hk2 with --miner.require_validator_permit; its handlers
     * from a .so plug-in (Echo) and an external worker (Dummy, served by
     * examples/worker.py) instead of the built-ins */
    char sock[128], extra[512];
    snprintf(sock, sizeof(sock), "%s/w.sock", dir);
    bool worker = system(PY " -c 'import msgpack' >/dev/null 2>&1") == 0;
    if (worker) {
        pid_t w = fork();
        cr_assert(w >= 0);
        if (w == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            execl(PY, PY, GN_SOURCE_DIR "/examples/worker.py", sock, (char *)NULL);
            _exit(127);
        }
        miners[n_miners++] = w; /* killed at the end like the miners */
    } else {
        fprintf(stderr,
                "SKIP part of %s: " PY " has no msgpack (python3-msgpack): miner B "
                "serves the built-in Dummy instead of a worker's\n",
                criterion_current_test->name);
    }
    snprintf(extra, sizeof(extra),
             "--miner.require_validator_permit --no-miner.serve_axon --miner.plugins "
             "%s/tests/fixtures/plugin_echo.so %s%s",
             GN_BUILD_DIR, worker ? "--miner.handlers '' --miner.workers " : "",
             worker ? sock : "");
    int pb = free_port();
    pid_t b = spawn_miner("b.log", "%s",
                          miner_args(args, sizeof(args), url, "m2", "127.0.0.4", pb, "sb", extra));
    st = query_until("127.0.0.4", pb, hk2, "//Alice//hk1", 200, 90, &out);
    cr_assert_eq(st, 200, "a permitted validator got %d; miner log:\n%s", st, slurp("b.log"));
    cr_assert_eq(out, 6);
    st = query("127.0.0.4", pb, hk2, "//Alice//hk3", 3, &out);
    cr_assert_eq(st, 403, "registered, no permit: %d %s", st, r.out);
    cr_assert_not_null(strstr(r.out, "validator permit"), "%s", r.out);
    cr_assert_eq(http_get("127.0.0.4", pb, "/healthz", body, sizeof(body)), 200);
    cr_assert_not_null(strstr(body, "\"Echo\""), "%s", body);
    if (worker)
        cr_assert_null(strstr(body, "StreamingDummy"), "the built-ins are off: %s", body);
    kill(b, SIGTERM);
    cr_assert_eq(exit_of(b, "b.log", 30), 0, "%s", slurp("b.log"));

    /* restart: SIGTERM, exit 0; then with the chain gone it serves again at
     * once from the persisted metagraph */
    kill(a, SIGTERM);
    cr_assert_eq(exit_of(a, "a.log", 30), 0, "%s", slurp("a.log"));
    char snap[160];
    snprintf(snap, sizeof(snap), "%s/sa/metagraph.msgpack", dir);
    struct stat sst;
    cr_assert_eq(stat(snap, &sst), 0, "no persisted metagraph at %s", snap);
    gn_test_chain_stop(chain_port);
    chain_port = 0;
    a = spawn_miner("a2.log", "%s",
                    miner_args(args, sizeof(args), url, "m3", "127.0.0.3", pa, "sa", ""));
    double t0 = now_s();
    st = query_until("127.0.0.3", pa, hk3, "//Alice//hk1", 200, 30, &out);
    cr_assert_eq(st, 200, "after a restart: %d; miner log:\n%s", st, slurp("a2.log"));
    cr_assert_eq(out, 6);
    cr_assert_lt(now_s() - t0, 20.0, "it took %.1f s to serve again", now_s() - t0);
    cr_assert_not_null(strstr(slurp("a2.log"), "persisted"), "%s", slurp("a2.log"));
    cr_assert_eq(query("127.0.0.3", pa, hk3, "//Bob", 3, NULL), 403);
    kill(a, SIGTERM);
    cr_assert_eq(exit_of(a, "a2.log", 30), 0, "%s", slurp("a2.log"));
}

Test(miner, unregistered_exits_or_registers, .timeout = 600)
{
    char url[128], hk1[64], me[64], args[2048];
    make_dir();
    gn_test_chain_start(url, sizeof(url), &chain_port);
    subnet(url, 1, false);
    ss58_of("//Alice//hk1", hk1);
    ss58_of("//Alice//miner-new", me);
    wallet("new", "//Alice//miner-new");
    int port = free_port();

    /* not registered: exit 1, saying what to do */
    pid_t p = spawn_miner("u.log", "%s",
                          miner_args(args, sizeof(args), url, "new", "127.0.0.5", port, "s", ""));
    cr_assert_eq(exit_of(p, "u.log", 120), 1, "%s", slurp("u.log"));
    const char *log = slurp("u.log");
    cr_assert_not_null(strstr(log, "is not registered on netuid 2"), "%s", log);
    cr_assert_not_null(strstr(log, "--miner.register"), "%s", log);
    cr_assert_not_null(strstr(log, me), "%s", log);
    gn_test_run(&r, env,
                "chain query SubtensorModule Uids 2 '\"%s\"' --subtensor.chain_endpoint %s", me,
                url);
    cr_assert_eq(strncmp(r.out, "null", 4), 0, "registered without being asked: %s", r.out);

    /* --miner.register: burned registration paid by the coldkey, then serve */
    p = spawn_miner(
        "r.log", "%s",
        miner_args(args, sizeof(args), url, "new", "127.0.0.5", port, "s", "--miner.register"));
    long long out = 0;
    int st = query_until("127.0.0.5", port, me, "//Alice//hk1", 200, 120, &out);
    cr_assert_eq(st, 200, "got %d; miner log:\n%s", st, slurp("r.log"));
    cr_assert_eq(out, 6);
    gn_test_run(&r, env,
                "chain query SubtensorModule Uids 2 '\"%s\"' --subtensor.chain_endpoint %s", me,
                url);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *uid = json_loads(r.out, JSON_DECODE_ANY, NULL);
    cr_assert(json_is_integer(uid) && json_integer_value(uid) >= 2, "uid: %s", r.out);
    json_decref(uid);
    cr_assert_not_null(strstr(slurp("r.log"), "registered hotkey"), "%s", slurp("r.log"));
    kill(p, SIGTERM);
    cr_assert_eq(exit_of(p, "r.log", 30), 0, "%s", slurp("r.log"));
}

Test(miner, sigterm_under_load_answers_everyone_and_exits_0, .timeout = 600)
{
    char url[128], hk1[64], args[2048], cmd[2048];
    make_dir();
    gn_test_chain_start(url, sizeof(url), &chain_port);
    subnet(url, 1, false); /* hk0 (owner) and hk1 registered */
    ss58_of("//Alice//hk1", hk1);
    wallet("m1", "//Alice//hk1");
    int port = free_port();
    pid_t p = spawn_miner("l.log", "%s",
                          miner_args(args, sizeof(args), url, "m1", "127.0.0.6", port, "s",
                                     "--node.grace_period 10 --no-miner.serve_axon"));
    int st = query_until("127.0.0.6", port, hk1, "//Alice//hk0", 200, 90, NULL);
    cr_assert_eq(st, 200, "got %d; miner log:\n%s", st, slurp("l.log"));

    /* three clients in a loop; each query leaves one line in started.N
     * before it runs (the wall-clock time) and one answer line in out.N */
    snprintf(
        cmd, sizeof(cmd),
        "for k in 1 2 3; do (while [ ! -e %s/stop ]; do date +%%s.%%N >> %s/started.$k; " GANGLION
        " query --axon 127.0.0.6:%d:%s --synapse Dummy --field dummy_input=3 --suri "
        "//Alice//hk0 --timeout 5 >> %s/out.$k 2>/dev/null; done) & done; wait",
        dir, dir, port, hk1, dir);
    pid_t load = fork();
    cr_assert(load >= 0);
    if (load == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* under way: some answers in */
    char path[128];
    double end = now_s() + 60;
    int ok = 0;
    while (now_s() < end && ok < 10) {
        ok = 0;
        for (int k = 1; k <= 3; k++) {
            snprintf(path, sizeof(path), "out.%d", k);
            for (const char *s = slurp(path); (s = strstr(s, "\"status_code\":200")); s++)
                ok++;
        }
        usleep(200000);
    }
    cr_assert_geq(ok, 10, "the load did not get going");

    double t0 = now_s();
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    double t0_wall = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
    kill(p, SIGTERM);
    int code = exit_of(p, "l.log", 10 + 5);
    double took = now_s() - t0;
    cr_assert_eq(code, 0, "exit %d after %.1f s:\n%s", code, took, slurp("l.log"));
    cr_assert_lt(took, 10.0, "%.1f s", took);

    snprintf(path, sizeof(path), "%s/stop", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    int lst;
    end = now_s() + 60;
    pid_t w;
    while ((w = waitpid(load, &lst, WNOHANG)) == 0 && now_s() < end)
        usleep(100000);
    cr_assert_eq(w, load, "a client hung after the miner stopped");

    /* every query that started got an answer line with a status; each
     * client's queries run one after the other, so the n-th answer line is
     * the n-th started query's. The axon drains: a query that reached it
     * gets its 200; the others found the listener closed (the dendrite's
     * "Service unavailable at ..." for a refused connection), and only
     * queries that started about when the SIGTERM came can be those. */
    int started = 0, answered = 0, ok_total = 0, other = 0;
    for (int k = 1; k <= 3; k++) {
        snprintf(path, sizeof(path), "started.%d", k);
        double ts[4096];
        int n_ts = 0;
        char *st_text = slurp(path);
        for (char *line = strtok(st_text, "\n"); line; line = strtok(NULL, "\n"))
            if (n_ts < 4096)
                ts[n_ts++] = strtod(line, NULL);
        started += n_ts;
        snprintf(path, sizeof(path), "out.%d", k);
        char *text = slurp(path);
        int i = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), i++) {
            json_t *j = json_loads(line, 0, NULL);
            cr_assert_not_null(j, "not an answer: %s", line);
            int s = (int)json_integer_value(json_object_get(j, "status_code"));
            const char *msg = json_string_value(json_object_get(j, "status_message"));
            cr_assert_gt(s, 0, "%s", line);
            answered++;
            if (s == 200) {
                ok_total++;
            } else {
                other++;
                cr_assert(s == 503 && msg && !strncmp(msg, "Service unavailable at ", 23),
                          "a query lost by the stop (not refused before reaching the miner): %s",
                          line);
                cr_assert(i < n_ts && ts[i] > t0_wall - 3.0,
                          "query %d of client %d started %.2f s before the SIGTERM and was "
                          "refused: %s",
                          i, k, i < n_ts ? t0_wall - ts[i] : -1.0, line);
            }
            json_decref(j);
        }
    }
    cr_assert_eq(answered, started, "%d queries started, %d answered", started, answered);
    cr_assert_geq(ok_total, 10);
    cr_assert_not_null(strstr(slurp("l.log"), "SIGTERM"), "%s", slurp("l.log"));
    fprintf(stderr,
            "miner under load: %d answers, %d x 200, %d refused (listener closed); stop %.2f s\n",
            answered, ok_total, other, took);
}
