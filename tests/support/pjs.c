#include "support/pjs.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHAIN GN_SOURCE_DIR "/build/chain"

json_t *gn_test_pjs(const char *url, json_t *requests)
{
    struct stat st;
    if (stat(CHAIN "/node_modules/@polkadot/api", &st) != 0 ||
        system("node --version >/dev/null 2>&1")) {
        fprintf(stderr,
                "SKIP %s: @polkadot/api is not installed in " CHAIN
                " (make chain-metadata; needs ../shared/chain and Node.js)\n",
                criterion_current_test->name);
        cr_skip_test("@polkadot/api not installed");
    }
    char in[] = "/tmp/gn-pjs-in-XXXXXX", out[] = "/tmp/gn-pjs-out-XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out);
    cr_assert(fi >= 0 && fo >= 0);
    close(fo);
    FILE *f = fdopen(fi, "w");
    cr_assert_eq(json_dumpf(requests, f, JSON_COMPACT), 0);
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "node " GN_SOURCE_DIR "/tests/fixtures/pjs-chain.mjs " CHAIN " '%s' < '%s' > '%s'",
             url, in, out);
    int rc = system(cmd);
    json_error_t err;
    json_t *res = json_load_file(out, 0, &err);
    unlink(in);
    unlink(out);
    cr_assert_eq(rc, 0, "pjs-chain.mjs exited with %d", rc);
    cr_assert_not_null(res, "pjs-chain.mjs output is not JSON: %s", err.text);
    cr_assert(json_is_array(res) && json_array_size(res) == json_array_size(requests));
    return res;
}

json_t *gn_test_pjs1(const char *url, const char *op, const char *section, const char *method,
                     json_t *args)
{
    json_t *reqs = json_pack("[{s:s,s:s,s:s,s:o}]", "op", op, "section", section, "method", method,
                             "args", args);
    json_t *all = gn_test_pjs(url, reqs);
    json_t *v = json_incref(json_array_get(all, 0));
    json_decref(reqs);
    json_decref(all);
    return v;
}
