/* Subtensor's custom transaction-validity codes: the spec-293 runtime's
 * CustomTransactionError numbering, and finding the code in the texts the
 * node gives (the real chain's rejections are in tests/actors/
 * test_subtensor_tx.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/subtensor_errors.h"

Test(subtensor_errors, spec_293_numbering)
{
    /* From<CustomTransactionError> for u8 in the spec-293 runtime */
    static const char *names[] = {"ColdkeyInSwapSchedule",
                                  "StakeAmountTooLow",
                                  "BalanceTooLow",
                                  "SubnetDoesntExist",
                                  "HotkeyAccountDoesntExist",
                                  "NotEnoughStakeToWithdraw",
                                  "RateLimitExceeded",
                                  "InsufficientLiquidity",
                                  "SlippageTooHigh",
                                  "TransferDisallowed",
                                  "HotKeyNotRegisteredInNetwork",
                                  "InvalidIpAddress",
                                  "ServingRateLimitExceeded",
                                  "InvalidPort",
                                  "ZeroMaxAmount"};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const gn_subtensor_custom_error_t *e = gn_subtensor_custom_error(i);
        cr_assert_not_null(e, "code %u", i);
        cr_assert_eq(e->code, i);
        cr_assert_str_eq(e->name, names[i]);
        cr_assert_gt(strlen(e->doc), 10, "code %u has a description", i);
    }
    cr_assert_str_eq(gn_subtensor_custom_error(255)->name, "BadRequest");
    /* appended later, same numbering */
    cr_assert_str_eq(gn_subtensor_custom_error(16)->name, "CommitNotFound");
    cr_assert_str_eq(gn_subtensor_custom_error(27)->name, "DelegateTakeTooHigh");
    cr_assert_null(gn_subtensor_custom_error(28));
    cr_assert_null(gn_subtensor_custom_error(254));
}

Test(subtensor_errors, code_in_the_node_text)
{
    unsigned code = 99;
    cr_assert_eq(gn_subtensor_rejection_code("{\"invalid\":{\"custom\":6}}", &code), 0);
    cr_assert_eq(code, 6);
    /* as the chain client words a pool rejection */
    cr_assert_eq(gn_subtensor_rejection_code(
                     "rejected by the node: 1010: {\"invalid\":{\"custom\":11}}", &code),
                 0);
    cr_assert_eq(code, 11);
    /* with spaces, or as an escaped JSON string inside another message */
    cr_assert_eq(gn_subtensor_rejection_code("{\"invalid\": {\"custom\": 255}}", &code), 0);
    cr_assert_eq(code, 255);
    cr_assert_eq(gn_subtensor_rejection_code(
                     "1010: Invalid Transaction: \"{\\\"invalid\\\":{\\\"custom\\\":12}}\"", &code),
                 0);
    cr_assert_eq(code, 12);
    /* not a custom invalidity */
    cr_assert_eq(gn_subtensor_rejection_code("{\"invalid\":{\"stale\":null}}", &code), GN_ENOENT);
    cr_assert_eq(gn_subtensor_rejection_code("{\"unknown\":{\"custom\":3}}", &code), GN_ENOENT);
    cr_assert_eq(gn_subtensor_rejection_code("{\"invalid\":{\"custom\":null}}", &code), GN_ENOENT);
    cr_assert_eq(gn_subtensor_rejection_code("{\"invalid\":{\"custom\":256}}", &code), GN_ENOENT,
                 "the code is a u8");
    cr_assert_eq(gn_subtensor_rejection_code("", &code), GN_ENOENT);
    cr_assert_eq(gn_subtensor_rejection_code(NULL, &code), GN_ENOENT);
}

Test(subtensor_errors, explained)
{
    char out[512];
    const char *t = "rejected by the node: 1010: {\"invalid\":{\"custom\":6}}";
    cr_assert_eq(gn_subtensor_explain_rejection(t, out, sizeof(out)), 0);
    cr_assert_eq(strncmp(out, t, strlen(t)), 0, "the node's text first: %s", out);
    cr_assert(strstr(out, "(custom 6: RateLimitExceeded: "), "%s", out);
    cr_assert_eq(out[strlen(out) - 1], ')');
    /* unknown or absent codes: the text unchanged */
    cr_assert_eq(gn_subtensor_explain_rejection("{\"invalid\":{\"custom\":200}}", out, sizeof(out)),
                 0);
    cr_assert_str_eq(out, "{\"invalid\":{\"custom\":200}}");
    cr_assert_eq(gn_subtensor_explain_rejection("{\"invalid\":{\"badProof\":null}}", out, 64), 0);
    cr_assert_str_eq(out, "{\"invalid\":{\"badProof\":null}}");
    /* too small: cut, NUL-terminated, and said */
    cr_assert_eq(gn_subtensor_explain_rejection(t, out, 20), GN_ENOSPC);
    cr_assert_eq(strlen(out), 19);
    cr_assert_eq(gn_subtensor_explain_rejection(t, out, 0), GN_ENOSPC);
}
