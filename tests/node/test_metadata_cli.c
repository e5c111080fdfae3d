/* ganglion metadata … and ganglion decode, run as a user would. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support/run.h"
#include "support/vectors.h"

static gn_run_t r;

static const char *blob(void)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/vectors/metadata/subtensor-mainnet-spec219-v14.hex",
             gn_test_shared_dir());
    if (access(path, R_OK) != 0)
        cr_skip_test("%s is missing", path);
    return path;
}

Test(metadata_cli, summary)
{
    gn_test_run(&r, "", "metadata summary %s", blob());
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *j = json_loads(r.out, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_eq(json_integer_value(json_object_get(j, "version")), 14);
    cr_assert_eq(json_integer_value(json_object_get(j, "types")), 462);
    cr_assert_eq(json_array_size(json_object_get(j, "pallets")), 27);
    cr_assert_eq(json_array_size(json_object_get(j, "signed_extensions")), 11);
    json_decref(j);
    gn_test_run(&r, "", "metadata summary %s --pallet SubtensorModule", blob());
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"Axons\"") && strstr(r.out, "\"set_weights\""));
    gn_test_run(&r, "", "metadata summary %s --pallet Nope", blob());
    cr_assert_eq(r.status, 1);
}

Test(metadata_cli, decode_and_type)
{
    gn_test_run(&r, "",
                "decode SubtensorModule.Axons "
                "0x20aa44000000000000127a000101a8c00000000000000000000000009b1f04040000 "
                "--metadata %s",
                blob());
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *j = json_loads(r.out, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(j, "ip")), 3232235777LL);
    cr_assert_eq(json_integer_value(json_object_get(j, "port")), 8091);
    json_decref(j);
    gn_test_run(&r, "", "decode System.SS58Prefix 0x2a00");
    cr_assert_eq(r.status, 2, "no --metadata and no GANGLION_METADATA: a usage error");
    char env[4200];
    snprintf(env, sizeof(env), "GANGLION_METADATA=%s", blob());
    gn_test_run(&r, env, "decode System.SS58Prefix 0x2a00");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "42\n");
    gn_test_run(&r, env, "decode System.Account 0x00");
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "truncated"), "%s", r.err);
    gn_test_run(&r, env, "decode 99999 0x00");
    cr_assert_eq(r.status, 1);
    gn_test_run(&r, env, "decode No.Such 0x00");
    cr_assert_eq(r.status, 1);
    gn_test_run(&r, env, "metadata type 3");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "AccountInfo"));
    gn_test_run(&r, env, "metadata type 462");
    cr_assert_eq(r.status, 1);
}

Test(metadata_cli, file_forms_and_bad_files)
{
    char dir[] = "/tmp/gn-md-XXXXXX", path[256], cmd[8600];
    cr_assert_not_null(mkdtemp(dir));
    /* {"result": "0x…"} as a JSON-RPC answer saved to a file */
    snprintf(path, sizeof(path), "%s/rpc.json", dir);
    snprintf(cmd, sizeof(cmd),
             "printf '{\"jsonrpc\":\"2.0\",\"result\":\"%%s\"}' \"$(cat %s)\" > %s", blob(), path);
    cr_assert_eq(system(cmd), 0);
    gn_test_run(&r, "", "metadata summary %s", path);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* raw bytes */
    snprintf(path, sizeof(path), "%s/raw.bin", dir);
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import sys;open(sys.argv[2],\"wb\").write(bytes.fromhex("
             "open(sys.argv[1]).read().strip()[2:]))' %s %s",
             blob(), path);
    cr_assert_eq(system(cmd), 0);
    gn_test_run(&r, "", "metadata summary %s", path);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* a future version is named */
    snprintf(path, sizeof(path), "%s/v16.hex", dir);
    FILE *f = fopen(path, "w");
    fputs("0x6d65746110000000", f);
    fclose(f);
    gn_test_run(&r, "", "metadata summary %s", path);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "version 16 is not supported"), "%s", r.err);
    snprintf(path, sizeof(path), "%s/junk", dir);
    f = fopen(path, "w");
    fputs("hello", f);
    fclose(f);
    gn_test_run(&r, "", "metadata summary %s", path);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "not runtime metadata"), "%s", r.err);
    gn_test_run(&r, "", "metadata summary ws://127.0.0.1:1");
    cr_assert_eq(r.status, 1);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
