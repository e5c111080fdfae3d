/* ganglion chain head|constant|query against the real local chain. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "support/chain.h"
#include "support/run.h"

static gn_run_t r;

Test(chain_cli, head_constant_query, .timeout = 180)
{
    char url[128];
    int port;
    gn_test_chain_start(url, sizeof(url), &port);
    gn_test_run(&r, "", "chain head --subtensor.chain_endpoint %s", url);
    int head_status = r.status;
    json_t *head = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "", "chain constant System SS58Prefix --subtensor.chain_endpoint %s", url);
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%.31s", r.out);
    gn_test_run(&r, "",
                "chain query System Account '\"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\"' "
                "--subtensor.chain_endpoint %s",
                url);
    json_t *alice = json_loads(r.out, 0, NULL);
    gn_test_run(&r, "", "chain query System Nope --subtensor.chain_endpoint %s", url);
    int nope = r.status;
    char nope_err[256];
    snprintf(nope_err, sizeof(nope_err), "%.255s", r.err);
    gn_test_chain_stop(port);

    cr_assert_eq(head_status, 0);
    cr_assert(head && strncmp(json_string_value(json_object_get(head, "number")), "0x", 2) == 0);
    cr_assert_str_eq(prefix, "42\n");
    cr_assert_not_null(alice);
    /* the chain's README: //Alice holds 1,000,000 TAO = 10^15 rao */
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(alice, "data"), "free")),
                 1000000000000000LL);
    cr_assert_eq(nope, 1);
    cr_assert(strstr(nope_err, "no storage item System.Nope"), "%s", nope_err);
    json_decref(head);
    json_decref(alice);

    gn_test_run(&r, "", "chain head --subtensor.chain_endpoint ws://127.0.0.1:1 --timeout 5");
    cr_assert_eq(r.status, 1, "no node: a clear failure, not a hang");
}
