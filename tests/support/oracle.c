#include "support/oracle.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *oracle_dir(void)
{
    const char *env = getenv("GANGLION_ORACLE");
    return env && *env ? env : GN_SOURCE_DIR "/build/oracle";
}

json_t *gn_test_oracle(json_t *batch)
{
    char mods[4200], script[4200];
    struct stat st;
    snprintf(mods, sizeof(mods), "%s/node_modules/@scure/sr25519", oracle_dir());
    snprintf(script, sizeof(script), "%s/oracle.mjs", oracle_dir());
    if (stat(mods, &st) != 0 || stat(script, &st) != 0 ||
        system("node --version >/dev/null 2>&1")) {
        fprintf(stderr,
                "SKIP %s: the oracle is not installed at %s (make oracle; needs "
                "../shared and Node.js >= 20)\n",
                criterion_current_test->name, oracle_dir());
        cr_skip_test("oracle not installed at %s (make oracle)", oracle_dir());
    }
    char in[] = "/tmp/gn-oracle-in-XXXXXX", out[] = "/tmp/gn-oracle-out-XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out);
    cr_assert(fi >= 0 && fo >= 0);
    close(fo);
    FILE *f = fdopen(fi, "w");
    cr_assert_eq(json_dumpf(batch, f, JSON_COMPACT), 0);
    fclose(f);
    char cmd[9000];
    snprintf(cmd, sizeof(cmd), "node '%s' < '%s' > '%s' 2>/dev/null", script, in, out);
    int rc = system(cmd);
    json_error_t err;
    json_t *res = json_load_file(out, 0, &err);
    unlink(in);
    unlink(out);
    cr_assert_eq(rc, 0, "the oracle exited with %d", rc);
    cr_assert_not_null(res, "oracle output is not JSON: %s", err.text);
    cr_assert(json_is_array(res) && json_array_size(res) == json_array_size(batch),
              "oracle answered %zu of %zu requests", json_array_size(res), json_array_size(batch));
    return res;
}

json_t *gn_test_oracle_req(const char *cmd, ...)
{
    json_t *args = json_array();
    va_list ap;
    va_start(ap, cmd);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        json_array_append_new(args, json_string(a));
    va_end(ap);
    return json_pack("{s:s,s:o}", "cmd", cmd, "args", args);
}
