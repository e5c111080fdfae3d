/* The ganglion executable's codec commands, run as a user would. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/run.h"

static gn_run_t r_[2];
static int which;
/* run `ganglion <args>`; a result lives until the next-but-one call */
static const gn_run_t *run(const char *args)
{
    gn_run_t *r = &r_[which ^= 1];
    gn_test_run(r, "", "%s", args);
    return r;
}

#define ALICE_PK "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
#define ALICE    "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"

Test(cli, version_and_help)
{
    const gn_run_t *r = run("--version");
    cr_assert_eq(r->status, 0);
    cr_assert_eq(strncmp(r->out, "ganglion ", 9), 0, "%s", r->out);
    r = run("--help");
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "ss58 encode"));
    r = run("");
    cr_assert_eq(r->status, 2);
    r = run("frobnicate");
    cr_assert_eq(r->status, 2);
    cr_assert(strstr(r->err, "unknown command"));
}

Test(cli, ss58)
{
    const gn_run_t *r = run("ss58 encode " ALICE_PK);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_str_eq(r->out, ALICE "\n");
    r = run("ss58 encode " ALICE_PK " --prefix 0");
    cr_assert_str_eq(r->out, "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5\n");
    r = run("ss58 decode " ALICE);
    cr_assert_eq(r->status, 0);
    cr_assert_str_eq(r->out, "{\"prefix\":42,\"payload\":\"" ALICE_PK "\"}\n");
    r = run("ss58 decode 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ");
    cr_assert_eq(r->status, 1);
    cr_assert(strstr(r->err, "checksum"), "%s", r->err);
    cr_assert_str_eq(r->out, "");
    r = run("ss58 encode 0xabc");
    cr_assert_eq(r->status, 1);
    cr_assert(strstr(r->err, "odd length"), "%s", r->err);
    r = run("ss58 encode " ALICE_PK " --prefix 16384");
    cr_assert_eq(r->status, 1);
    r = run("ss58 encode " ALICE_PK " --prefix 46");
    cr_assert(r->status == 1 && strstr(r->err, "reserved"), "%s", r->err);
    r = run("ss58 encode " ALICE_PK " --prefix 4x");
    cr_assert_eq(r->status, 1);
}

Test(cli, hash)
{
    const gn_run_t *r = run("hash twox128 System");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_str_eq(r->out, "0x26aa394eea5630e07c48ae0c9558cef7\n");
    r = run("hash blake2_256 0x");
    cr_assert_str_eq(r->out,
                     "0x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8\n");
    r = run("hash twox64_concat 0x0100");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(strlen(r->out), 2 + 20 + 1);
    cr_assert_eq(strncmp(r->out + 18, "0100", 4), 0, "%s", r->out);
    r = run("hash twox128 0x61 --text");
    const gn_run_t *t = run("hash twox128 0x61");
    cr_assert_str_neq(r->out, t->out, "--text hashes the characters, not the byte");
    r = run("hash md5 abc");
    cr_assert_eq(r->status, 2);
    r = run("hash twox128 0xzz");
    cr_assert_eq(r->status, 1);
}

Test(cli, scale_compact)
{
    const gn_run_t *r = run("scale compact 64");
    cr_assert_str_eq(r->out, "0x0101\n");
    r = run("scale compact 340282366920938463463374607431768211455");
    cr_assert_str_eq(r->out, "0x33ffffffffffffffffffffffffffffffff\n");
    r = run("scale compact 340282366920938463463374607431768211456");
    cr_assert_eq(r->status, 1);
    cr_assert(strstr(r->err, "out of range"), "%s", r->err);
    r = run("scale compact -1");
    cr_assert_eq(r->status, 1);
    r = run("scale decode-compact 0x0300000040");
    cr_assert_str_eq(r->out, "1073741824\n");
    r = run("scale decode-compact 0x0100");
    cr_assert_eq(r->status, 1);
    cr_assert(strstr(r->err, "non-canonical"), "%s", r->err);
    r = run("scale decode-compact 0x0400");
    cr_assert(r->status == 1 && strstr(r->err, "trailing"), "%s", r->err);
}
