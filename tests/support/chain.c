#include "support/chain.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
