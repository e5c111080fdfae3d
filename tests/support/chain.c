#include "support/chain.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ganglion/chain.h"
#include "ganglion/ss58.h"
#include "support/chain_client.h"
#include "support/run.h"

#define CHAIN GN_SOURCE_DIR "/build/chain"

static void skip_unless_installed(void)
{
    struct stat st;
    if (stat(CHAIN "/node_modules/@acala-network/chopsticks", &st) != 0) {
        fprintf(stderr,
                "SKIP %s: the local chain is not installed (make chain-metadata; needs "
                "../shared/chain and Node.js)\n",
                criterion_current_test->name);
        cr_skip_test("the local chain is not installed at " CHAIN);
    }
}

/* One start.sh; false when it refused (port taken meanwhile, say). */
static bool try_start(int port, char *url, size_t cap, char *said, size_t said_cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "CHAIN_RUN_DIR=" CHAIN "/run " CHAIN "/start.sh %d 2>&1 | tail -n 1",
             port);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[256] = "";
    bool got = fgets(line, sizeof(line), p) != NULL;
    int rc = pclose(p);
    line[strcspn(line, "\n")] = '\0';
    snprintf(said, said_cap, "%s", line);
    if (!got || rc != 0 || strncmp(line, "ws://", 5) != 0)
        return false;
    snprintf(url, cap, "%s", line);
    return true;
}

void gn_test_chain_start_on(int port, char *url, size_t cap)
{
    skip_unless_installed();
    char said[256] = "";
    for (int i = 0; i < 3; i++) { /* a restart: the old process may still hold the port */
        if (try_start(port, url, cap, said, sizeof(said)))
            return;
        sleep(1);
    }
    cr_assert_fail("the chain did not start on port %d: %s", port, said);
}

static int free_port(void)
{
    int port = 0;
    FILE *p = popen("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); "
                    "print(s.getsockname()[1])'",
                    "r");
    cr_assert_not_null(p);
    cr_assert_eq(fscanf(p, "%d", &port), 1);
    pclose(p);
    return port;
}

void gn_test_chain_start(char *url, size_t cap, int *port)
{
    skip_unless_installed();
    char said[256] = "";
    /* tests run in parallel, and one restarts its chain on its port: a
     * port found free can be taken before start.sh binds it; pick again */
    for (int i = 0; i < 5; i++) {
        *port = free_port();
        if (try_start(*port, url, cap, said, sizeof(said)))
            return;
    }
    cr_assert_fail("the chain did not start: %s", said);
}

void gn_test_chain_stop(int port)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "CHAIN_RUN_DIR=" CHAIN "/run " CHAIN "/stop.sh %d >/dev/null 2>&1",
             port);
    if (system(cmd) != 0)
        fprintf(stderr, "chain on port %d: stop.sh failed\n", port);
}

void gn_test_chain_seed(const char *url, int n, bool validator)
{
    /* seed.mjs waits 30 s for each block: on a loaded machine one can miss
     * it, and half a seed cannot be finished; so once more on a fresh chain
     * on the same port, with the first attempt's reason shown */
    const char *colon = strrchr(url, ':');
    int port = colon ? atoi(colon + 1) : 0;
    char cmd[768], log[64];
    snprintf(log, sizeof(log), "/tmp/gn-seed-%d.log", port);
    snprintf(cmd, sizeof(cmd), "node " CHAIN "/seed.mjs %s %d%s >%s 2>&1", url, n,
             validator ? " --validator" : "", log);
    int rc = system(cmd);
    if (rc != 0 && port > 0) {
        char tail[600];
        snprintf(tail, sizeof(tail), "tail -n 3 %s >&2", log);
        fprintf(stderr, "seed.mjs on port %d failed; its last lines:\n", port);
        if (system(tail) != 0)
            fprintf(stderr, "(no log)\n");
        gn_test_chain_stop(port);
        char again[128];
        gn_test_chain_start_on(port, again, sizeof(again));
        rc = system(cmd);
    }
    unlink(log);
    cr_assert_eq(rc, 0, "seed.mjs%s failed twice", validator ? " --validator" : "");
}

/* ---- a subnet made with ganglion's own CLI ---- */

static gn_run_t sub_r;

static void sub_ok(const char *what)
{
    cr_assert_eq(sub_r.status, 0, "%s: %s %s", what, sub_r.out, sub_r.err);
    cr_assert_null(strstr(sub_r.out, "\"success\":false"), "%s: %s", what, sub_r.out);
}

static void sub_sudo(const char *env, const char *url, const char *call)
{
    gn_test_run(&sub_r, env,
                "chain submit Sudo sudo '{\"call\":{\"AdminUtils\":%s}}' --suri //Alice "
                "--subtensor.chain_endpoint %s",
                call, url);
    sub_ok(call);
    cr_assert_not_null(strstr(sub_r.out, "\"Ok\""), "sudo %s: %s", call, sub_r.out);
}

void gn_test_chain_new_blocks(const char *url, long long n)
{
    gn_test_client_t f;
    snprintf(f.url, sizeof(f.url), "%s", url);
    gn_test_client_open(&f, NULL);
    gn_test_res_t res = {0};
    json_t *p = json_pack("[{s:I}]", "count", (json_int_t)n);
    json_decref(
        gn_test_res_ok(&f.loop, &res, gn_chain_rpc(f.c, "dev_newBlock", p, gn_test_res_cb, &res)));
    json_decref(p);
    gn_test_client_close(&f, false);
}

static void sub_ss58(const char *uri, char out[64])
{
    gn_sr25519_keypair_t kp;
    gn_test_keypair(uri, &kp);
    cr_assert_eq(gn_ss58_encode(kp.pub, 32, 42, out, 64), 0);
    gn_sr25519_wipe(&kp);
}

void gn_test_chain_subnet(const char *url, int n, bool validator, const char *env)
{
    char hk[64], uri[32];
    skip_unless_installed();
    sub_sudo(env, url, "{\"sudo_set_network_rate_limit\":{\"rate_limit\":0}}");
    sub_ss58("//Alice//hk0", hk);
    gn_test_run(&sub_r, env,
                "subnet create --hotkey %s --suri //Alice --subtensor.chain_endpoint %s", hk, url);
    sub_ok("subnet create");
    cr_assert_not_null(strstr(sub_r.out, "\"netuid\":2"), "not netuid 2: %s", sub_r.out);
    sub_sudo(env, url, "{\"sudo_set_serving_rate_limit\":{\"netuid\":2,\"serving_rate_limit\":0}}");
    sub_sudo(env, url,
             "{\"sudo_set_target_registrations_per_interval\":{\"netuid\":2,"
             "\"target_registrations_per_interval\":100}}");
    sub_sudo(env, url,
             "{\"sudo_set_max_registrations_per_block\":{\"netuid\":2,"
             "\"max_registrations_per_block\":100}}");
    for (int i = 1; i <= n; i++) {
        snprintf(uri, sizeof(uri), "//Alice//hk%d", i);
        sub_ss58(uri, hk);
        gn_test_run(&sub_r, env,
                    "register --netuid 2 --hotkey %s --suri //Alice --subtensor.chain_endpoint %s",
                    hk, url);
        sub_ok("register");
    }
    if (!validator)
        return;
    sub_sudo(env, url,
             "{\"sudo_set_weights_set_rate_limit\":{\"netuid\":2,\"weights_set_rate_limit\":0}}");
    gn_test_chain_new_blocks(url, 10); /* start_call waits DurationOfStartCall blocks */
    gn_test_run(&sub_r, env,
                "chain submit SubtensorModule start_call '{\"netuid\":2}' --suri //Alice "
                "--subtensor.chain_endpoint %s",
                url);
    sub_ok("start_call");
    sub_ss58("//Alice//hk1", hk);
    gn_test_run(&sub_r, env,
                "stake add --netuid 2 --hotkey %s --amount 100 --suri //Alice "
                "--subtensor.chain_endpoint %s",
                hk, url);
    sub_ok("stake add");
    gn_test_chain_new_blocks(url, 12); /* an epoch (tempo 10): permits */
}
