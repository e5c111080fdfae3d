/* Subtensor's custom transaction-validity codes
 * (include/ganglion/subtensor_errors.h). The numbers and names are the
 * runtime's (CustomTransactionError and its From<..> for u8); the
 * descriptions are ours. */
#include "ganglion/subtensor_errors.h"
#include "ganglion/error.h"

#include <stdio.h>
#include <string.h>

static const gn_subtensor_custom_error_t table[] = {
    {0, "ColdkeyInSwapSchedule",
     "the coldkey is scheduled for a swap: its transfers, stakes and registrations wait for it"},
    {1, "StakeAmountTooLow",
     "the amount is below the minimum stake, or (weights) the hotkey's stake is below the "
     "subnet's threshold for setting weights"},
    {2, "BalanceTooLow", "the coldkey's free balance does not cover the amount"},
    {3, "SubnetDoesntExist", "no such subnet"},
    {4, "HotkeyAccountDoesntExist", "the hotkey is not registered on any subnet (it has no owner)"},
    {5, "NotEnoughStakeToWithdraw",
     "the coldkey has less stake on this hotkey and subnet than the amount to remove"},
    {6, "RateLimitExceeded",
     "rate limit: too many of these operations lately (e.g. registrations "
     "this interval); try again later"},
    {7, "InsufficientLiquidity", "the subnet's pool has too little liquidity for this swap"},
    {8, "SlippageTooHigh", "the price would move beyond the limit given"},
    {9, "TransferDisallowed", "the subnet does not allow stake transfers"},
    {10, "HotKeyNotRegisteredInNetwork", "the hotkey has no uid on this subnet"},
    {11, "InvalidIpAddress",
     "the axon IP is not accepted (the runtime refuses 127.0.0.1, 0.0.0.0 and other reserved "
     "addresses)"},
    {12, "ServingRateLimitExceeded",
     "served too recently: the subnet's ServingRateLimit blocks have not passed"},
    {13, "InvalidPort", "the axon port is not accepted (0)"},
    {14, "ZeroMaxAmount", "the price limit allows no amount at all"},
    /* appended by runtimes after spec 293 */
    {15, "InvalidRevealRound", "timelocked weights: the reveal round is not valid"},
    {16, "CommitNotFound", "no weights commit found to reveal"},
    {17, "CommitBlockNotInRevealRange", "the commit cannot be revealed in this block range"},
    {18, "InputLengthsUnequal", "lists that must have the same length do not"},
    {19, "UidNotFound", "no uid for this hotkey on the subnet"},
    {20, "EvmKeyAssociateRateLimitExceeded", "EVM key association: rate limit"},
    {21, "ColdkeySwapDisputed", "the coldkey's swap is disputed"},
    {22, "InvalidRealAccount", "proxy: the real account is not valid"},
    {23, "FailedShieldedTxParsing", "MEV shield: the encrypted transaction does not parse"},
    {24, "InvalidShieldedTxPubKeyHash", "MEV shield: unknown key hash"},
    {25, "NonAssociatedColdKey", "the hotkey belongs to another coldkey"},
    {26, "DelegateTakeTooLow", "the delegate take is below the minimum"},
    {27, "DelegateTakeTooHigh", "the delegate take is above the maximum"},
    {255, "BadRequest", "refused by the runtime's checks (no more specific code)"},
};

const gn_subtensor_custom_error_t *gn_subtensor_custom_error(unsigned code)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].code == code)
            return &table[i];
    return NULL;
}

int gn_subtensor_rejection_code(const char *text, unsigned *code)
{
    if (!text)
        return GN_ENOENT;
    const char *inv = strstr(text, "invalid");
    const char *p = inv ? strstr(inv, "custom") : NULL;
    if (!p)
        return GN_ENOENT;
    p += 6;
    /* `":`, `\":` or `": ` between the key and the number */
    while (*p == '"' || *p == '\\' || *p == ':' || *p == ' ')
        p++;
    if (*p < '0' || *p > '9')
        return GN_ENOENT;
    unsigned v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v > 255) /* InvalidTransaction::Custom carries a u8 */
            return GN_ENOENT;
    }
    *code = v;
    return 0;
}

int gn_subtensor_explain_rejection(const char *text, char *out, size_t cap)
{
    if (!out || cap == 0)
        return GN_ENOSPC;
    unsigned code;
    const gn_subtensor_custom_error_t *e = NULL;
    if (gn_subtensor_rejection_code(text, &code) == 0)
        e = gn_subtensor_custom_error(code);
    int n = e ? snprintf(out, cap, "%s (custom %u: %s: %s)", text, e->code, e->name, e->doc)
              : snprintf(out, cap, "%s", text ? text : "");
    return n < 0 || (size_t)n >= cap ? GN_ENOSPC : 0;
}
