#include "support/chain.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

void gn_test_chain_start_on(int port, char *url, size_t cap)
{
    skip_unless_installed();
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "CHAIN_RUN_DIR=" CHAIN "/run " CHAIN "/start.sh %d 2>/dev/null | tail -n 1", port);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[256] = "";
    cr_assert_not_null(fgets(line, sizeof(line), p));
    cr_assert_eq(pclose(p), 0, "the chain did not start");
    line[strcspn(line, "\n")] = '\0';
    cr_assert(strncmp(line, "ws://", 5) == 0, "start.sh said: %s", line);
    snprintf(url, cap, "%s", line);
}

void gn_test_chain_start(char *url, size_t cap, int *port)
{
    skip_unless_installed();
    FILE *p = popen("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); "
                    "print(s.getsockname()[1])'",
                    "r");
    cr_assert_not_null(p);
    cr_assert_eq(fscanf(p, "%d", port), 1);
    pclose(p);
    gn_test_chain_start_on(*port, url, cap);
}

void gn_test_chain_stop(int port)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "CHAIN_RUN_DIR=" CHAIN "/run " CHAIN "/stop.sh %d >/dev/null 2>&1",
             port);
    if (system(cmd) != 0)
        fprintf(stderr, "chain on port %d: stop.sh failed\n", port);
}
