/* node/node.c without a chain: opening a node from a configuration, the
 * state dir, the metrics server, and the shutdown on SIGTERM (the role's
 * on_shutdown, the grace period). The chain endpoint is a closed port:
 * the chain actor keeps dialling, which must not keep the node alive. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
#include "../../node/config.h"
#include "../../node/node.h"
#include "support/chain_client.h"
#include "support/rawhttp.h"
#include "support/run.h"

static gn_run_t r;
static char dir[64];

static void teardown(void)
{
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
    }
}

TestSuite(node, .fini = teardown);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int free_port(void)
{
    FILE *p = popen("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); "
                    "print(s.getsockname()[1])'",
                    "r");
    int port = 0;
    cr_assert_not_null(p);
    cr_assert_eq(fscanf(p, "%d", &port), 1);
    pclose(p);
    return port;
}

static gn_config_t *config(int metrics_port, const char *grace)
{
    snprintf(dir, sizeof(dir), "/tmp/gn-node-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    gn_test_run(&r, "",
                "wallet regen-hotkey --uri //Alice//node --wallet.path %s/wallets --wallet.name w "
                "--wallet.hotkey h",
                dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    gn_test_run(&r, "",
                "wallet regen-coldkey --uri //Alice --no-password --wallet.path %s/wallets "
                "--wallet.name w",
                dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char wp[128], sd[128], mp[16], ld[128];
    snprintf(wp, sizeof(wp), "%s/wallets", dir);
    snprintf(ld, sizeof(ld), "%s/logs", dir);
    snprintf(sd, sizeof(sd), "%s/state/deep", dir);
    snprintf(mp, sizeof(mp), "%d", metrics_port);
    char *argv[] = {"--netuid",
                    "7",
                    "--wallet.path",
                    wp,
                    "--wallet.name",
                    "w",
                    "--wallet.hotkey",
                    "h",
                    "--subtensor.chain_endpoint",
                    "ws://127.0.0.1:1",
                    "--state_dir",
                    sd,
                    "--metrics.port",
                    mp,
                    "--node.grace_period",
                    (char *)grace,
                    "--logging.format",
                    "json",
                    "--logging.record_log",
                    "--logging.logging_dir",
                    ld};
    gn_config_t *c = NULL;
    char err[512] = "";
    char *envp[] = {NULL};
    int rc = gn_config_load("validator", (int)(sizeof(argv) / sizeof(argv[0])), argv, envp, &c, err,
                            sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
    return c;
}

static void *run_thread(void *arg)
{
    gn_node_t *n = arg;
    intptr_t rc = gn_node_run(n);
    return (void *)rc;
}

typedef struct {
    int calls;
    gn_node_t *n;
    bool stop;
} shut_t;

static void on_shutdown(gn_node_t *n, void *arg)
{
    shut_t *s = arg;
    s->calls++;
    if (s->stop)
        gn_node_stop(n);
}

static bool unhealthy(void *arg, char *why, size_t cap)
{
    (void)arg;
    snprintf(why, cap, "first metagraph sync pending");
    return false;
}

static int get(int port, const char *path, gn_raw_resp_t *resp)
{
    char req[256];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    for (int i = 0; i < 50; i++) { /* the loop thread may not be up yet */
        if (gn_raw_request(port, req, (size_t)n, resp) == 0)
            return resp->status;
        usleep(100000);
    }
    return 0;
}

Test(node, opens_serves_metrics_and_stops_on_sigterm, .timeout = 60)
{
    int mport = free_port();
    gn_config_t *c = config(mport, "20");
    gn_node_t n;
    cr_assert_eq(gn_node_open(&n, "validator", c), 0);

    /* what it loaded and made */
    gn_sr25519_keypair_t kp;
    char want[64];
    gn_test_keypair("//Alice//node", &kp);
    gn_ss58_encode(kp.pub, 32, 42, want, sizeof(want));
    gn_sr25519_wipe(&kp);
    cr_assert_str_eq(n.hotkey_ss58, want);
    cr_assert_str_eq(n.coldkey_ss58, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    cr_assert_eq(n.netuid, 7);
    cr_assert_str_eq(n.endpoint, "ws://127.0.0.1:1");
    struct stat st;
    cr_assert_eq(stat(n.state_dir, &st), 0, "%s", n.state_dir);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(st.st_mode & 0777, 0700);
    cr_assert_not_null(n.chain);
    cr_assert_not_null(n.metagraph);

    shut_t s = {.n = &n, .stop = true};
    n.on_shutdown = on_shutdown;
    n.shutdown_arg = &s;
    cr_assert_eq(gn_node_serve_metrics(&n, unhealthy, NULL), 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, run_thread, &n), 0);

    gn_raw_resp_t resp = {0};
    cr_assert_eq(get(mport, "/healthz", &resp), 503);
    cr_assert_not_null(strstr(resp.body, "first metagraph sync pending"), "%s", resp.body);
    cr_assert_not_null(strstr(resp.body, want), "%s", resp.body);
    gn_raw_free(&resp);
    memset(&resp, 0, sizeof(resp));
    cr_assert_eq(get(mport, "/metrics", &resp), 200);
    cr_assert_not_null(strstr(resp.body, "ganglion_mailbox_queued{actor=\"chain\"}"), "%s",
                       resp.body);
    char ct[64];
    cr_assert_not_null(gn_raw_header(&resp, "content-type", ct, sizeof(ct)));
    cr_assert_str_eq(ct, "text/plain; version=0.0.4");
    gn_raw_free(&resp);
    memset(&resp, 0, sizeof(resp));
    cr_assert_eq(get(mport, "/nope", &resp), 404);
    gn_raw_free(&resp);

    double t0 = now_s();
    kill(getpid(), SIGTERM);
    void *rc;
    cr_assert_eq(pthread_join(t, &rc), 0);
    cr_assert_eq((intptr_t)rc, 0);
    cr_assert_eq(s.calls, 1);
    cr_assert_lt(now_s() - t0, 10.0);
    gn_node_close(&n);
    gn_config_free(c);

    /* --logging.record_log: the same lines in logging_dir/<role>.log */
    char path[128], text[8192] = "";
    snprintf(path, sizeof(path), "%s/logs/validator.log", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
    fclose(f);
    cr_assert_not_null(strstr(text, "ganglion validator"), "%s", text);
    cr_assert_not_null(strstr(text, "SIGTERM"), "%s", text);
    cr_assert_not_null(strstr(text, "\"level\":\"info\""), "%s", text);
}

Test(node, grace_period_stops_a_role_that_does_not, .timeout = 60)
{
    int mport = free_port();
    gn_config_t *c = config(mport, "1");
    gn_node_t n;
    cr_assert_eq(gn_node_open(&n, "validator", c), 0);
    shut_t s = {.n = &n, .stop = false}; /* a role stuck in its shutdown */
    n.on_shutdown = on_shutdown;
    n.shutdown_arg = &s;
    cr_assert_eq(gn_node_serve_metrics(&n, NULL, NULL), 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, run_thread, &n), 0);
    gn_raw_resp_t resp = {0};
    cr_assert_eq(get(mport, "/healthz", &resp), 200); /* running: the signals are ours */
    cr_assert_not_null(strstr(resp.body, "\"status\":\"ok\""), "%s", resp.body);
    gn_raw_free(&resp);
    double t0 = now_s();
    kill(getpid(), SIGTERM);
    void *rc;
    cr_assert_eq(pthread_join(t, &rc), 0);
    double took = now_s() - t0;
    cr_assert_eq((intptr_t)rc, 0);
    cr_assert_eq(s.calls, 1);
    cr_assert_geq(took, 0.9, "stopped after %.2f s, before the grace period", took);
    cr_assert_lt(took, 6.0, "stopped after %.2f s", took);
    gn_node_close(&n);
    gn_config_free(c);
}

Test(node, a_missing_wallet_fails_open_cleanly, .timeout = 60)
{
    gn_config_t *c = config(0, "1");
    char *argv[] = {"--wallet.path", "/nonexistent/wallets", "--state_dir", dir};
    gn_config_t *c2 = NULL;
    char err[512] = "";
    char *envp[] = {NULL};
    cr_assert_eq(gn_config_load("miner", 4, argv, envp, &c2, err, sizeof(err)), 0, "%s", err);
    gn_node_t n;
    cr_assert_lt(gn_node_open(&n, "miner", c2), 0);
    gn_node_close(&n); /* after a failed open, as node.h says */
    gn_config_free(c2);
    gn_config_free(c);
}
