/* ganglion transfer | stake add|remove | weights commit|reveal | subnet
 * create: Bittensor writes that move money or commit weights
 * (include/ganglion/subtensor_tx.h), with the chain commands' flags
 * (chain_cli.h). Amounts are TAO on the command line, rao inside. The
 * receipt is printed as JSON; a refusal or failure goes to stderr with
 * exit 1. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_cli.h"
#include "cli.h"
#include "ganglion/error.h"
#include "ganglion/ss58.h"
#include "ganglion/subtensor_tx.h"

#define USAGE                                                                                     \
    "usage (with the chain flags: --subtensor.network NAME | --subtensor.chain_endpoint URL, "    \
    "--wallet.* or --suri URI, --wait none|inblock|finalized):\n"                                 \
    "  ganglion transfer --dest SS58 --amount TAO [--allow-death]          signed by the "        \
    "coldkey\n"                                                                                   \
    "  ganglion stake add|remove --netuid N --amount TAO|ALPHA [--hotkey SS58]   the coldkey's\n" \
    "  ganglion weights commit --netuid N uid=score... [--salt S,S,...] [--version-key K]\n"      \
    "  ganglion weights reveal --netuid N uid=score... --salt S,S,... [--version-key K]   "       \
    "hotkey\n"                                                                                    \
    "  ganglion subnet create [--hotkey SS58]                              signed by the coldkey"

#define RAO_PER_TAO 1000000000ull

/* "1.5" TAO → 1500000000 rao: digits, an optional point and at most 9
 * decimals (a rao is the smallest unit). GN_EINVAL or GN_ERANGE. */
static int tao_to_rao(const char *s, uint64_t *out)
{
    uint64_t whole = 0, frac = 0;
    size_t nw = 0, nf = 0;
    for (; *s >= '0' && *s <= '9'; s++, nw++) {
        if (whole > (UINT64_MAX - 9) / 10)
            return GN_ERANGE;
        whole = whole * 10 + (uint64_t)(*s - '0');
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, nf++) {
            if (nf == 9)
                return GN_ERANGE; /* below one rao */
            frac = frac * 10 + (uint64_t)(*s - '0');
        }
    }
    if (*s || nw + nf == 0)
        return GN_EINVAL;
    for (size_t i = nf; i < 9; i++)
        frac *= 10;
    if (whole > (UINT64_MAX - frac) / RAO_PER_TAO)
        return GN_ERANGE;
    *out = whole * RAO_PER_TAO + frac;
    return 0;
}

static int amount_arg(const copts_t *o, uint64_t *rao)
{
    if (!o->amount)
        return gn_cli_usage("--amount is needed (in TAO, e.g. 1.5)");
    int rc = tao_to_rao(o->amount, rao);
    if (rc == GN_ERANGE)
        return gn_cli_usage("--amount: too large, or finer than a rao (9 decimals at most)");
    if (rc < 0)
        return gn_cli_usage("--amount is a number of TAO (digits, at most 9 decimals)");
    return 0;
}

/* The coldkey signs money moves and subnet registrations, whatever
 * --wallet.hotkey names. */
static int coldkey(const copts_t *o, gn_sr25519_keypair_t *kp)
{
    copts_t cold = *o;
    cold.coldkey = true;
    return gn_chain_cli_signer(&cold, false, kp);
}

/* --hotkey, else the wallet's hotkey (its public key only). */
static int hotkey_arg(const copts_t *o, char out[64])
{
    if (o->hotkey_ss58) {
        uint8_t acc[32];
        uint16_t fmt;
        if (gn_ss58_decode_account(o->hotkey_ss58, strlen(o->hotkey_ss58), acc, &fmt) < 0)
            return gn_cli_usage("--hotkey is an SS58 address");
        snprintf(out, 64, "%s", o->hotkey_ss58);
        return 0;
    }
    if (o->suri)
        return gn_cli_usage("with --suri, name the hotkey with --hotkey SS58");
    gn_sr25519_keypair_t hk;
    int rc = gn_cli_wallet_keypair(o->wallet_path, o->wallet_name, o->wallet_hotkey, false,
                                   o->password_env, &hk);
    if (rc < 0)
        return rc;
    gn_ss58_encode(hk.pub, 32, 42, out, 64);
    gn_sr25519_wipe(&hk);
    return 0;
}

/* "1,2,3" → u16s (at most cap). */
static int salt_arg(const char *s, uint16_t *salt, size_t cap, size_t *n)
{
    *n = 0;
    while (*s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v > 65535 || *n == cap || (*end && *end != ','))
            return GN_EINVAL;
        salt[(*n)++] = (uint16_t)v;
        s = *end ? end + 1 : end;
    }
    return *n ? 0 : GN_EINVAL;
}

#define MAX_SALT 64

static int weights_cr(uv_loop_t *loop, gn_chain_t *c, const copts_t *o, bool reveal, sync_t *s)
{
    if (!o->has_netuid)
        return gn_cli_usage("weights commit|reveal: --netuid N is needed");
    uint64_t uids[14];
    double scores[14];
    size_t k = 0;
    for (int i = 2; i < o->npos; i++, k++) {
        char *end;
        unsigned long u = strtoul(o->pos[i], &end, 10);
        if (*end != '=' || end == o->pos[i])
            return gn_cli_usage("weights: each weight is uid=score (e.g. 0=0.5)");
        uids[k] = u;
        scores[k] = strtod(end + 1, &end);
        if (*end)
            return gn_cli_usage("weights: a score is a number");
    }
    if (k == 0)
        return gn_cli_usage("weights commit|reveal: give the weights as uid=score...");
    uint16_t salt[MAX_SALT];
    size_t n_salt = 0;
    if (o->salt) {
        if (salt_arg(o->salt, salt, MAX_SALT, &n_salt) < 0)
            return gn_cli_usage("--salt is u16 numbers separated by commas (e.g. 17,4,9000)");
    } else if (reveal) {
        return gn_cli_usage("weights reveal: --salt is needed (the one the commit printed)");
    } else { /* 8 random u16, printed with the receipt for the reveal */
        for (n_salt = 0; n_salt < 8; n_salt++)
            salt[n_salt] = (uint16_t)randombytes_uniform(65536);
    }
    gn_sr25519_keypair_t kp;
    int rc = gn_chain_cli_signer(o, true, &kp);
    if (rc < 0)
        return rc;
    uint64_t vk = o->version_key ? o->version_key : GN_SUBTENSOR_VERSION_KEY;
    rc = reveal ? gn_subtensor_reveal_weights(c, &kp, (uint16_t)o->netuid, uids, scores, k, salt,
                                              n_salt, vk, o->wait_mode, gn_chain_cli_sync_cb, s)
                : gn_subtensor_commit_weights(c, &kp, (uint16_t)o->netuid, uids, scores, k, salt,
                                              n_salt, vk, o->wait_mode, gn_chain_cli_sync_cb, s);
    gn_sr25519_wipe(&kp);
    return gn_chain_cli_wait(loop, s, rc);
}

static int run(uv_loop_t *loop, gn_chain_t *c, const copts_t *o)
{
    const char *cmd = o->pos[0], *sub = o->npos > 1 ? o->pos[1] : "";
    sync_t s = {0};
    gn_sr25519_keypair_t kp;
    char hotkey[64];
    uint64_t rao;
    int rc;
    if (!strcmp(cmd, "transfer") && o->npos == 1) {
        if (!o->dest)
            return gn_cli_usage("transfer: --dest SS58 is needed");
        if ((rc = amount_arg(o, &rao)) != 0)
            return rc;
        uint8_t acc[32];
        uint16_t fmt;
        if (gn_ss58_decode_account(o->dest, strlen(o->dest), acc, &fmt) < 0)
            return gn_cli_usage("--dest is an SS58 address");
        if ((rc = coldkey(o, &kp)) < 0)
            return rc;
        rc = gn_subtensor_transfer(c, &kp, o->dest, rao, !o->allow_death, o->wait_mode,
                                   gn_chain_cli_sync_cb, &s);
        gn_sr25519_wipe(&kp);
        rc = gn_chain_cli_wait(loop, &s, rc);
    } else if (!strcmp(cmd, "stake") && o->npos == 2 &&
               (!strcmp(sub, "add") || !strcmp(sub, "remove"))) {
        if (!o->has_netuid)
            return gn_cli_usage("stake: --netuid N is needed");
        if ((rc = amount_arg(o, &rao)) != 0 || (rc = hotkey_arg(o, hotkey)) != 0)
            return rc;
        if ((rc = coldkey(o, &kp)) < 0)
            return rc;
        rc = !strcmp(sub, "add")
                 ? gn_subtensor_add_stake(c, &kp, hotkey, (uint16_t)o->netuid, rao, o->wait_mode,
                                          gn_chain_cli_sync_cb, &s)
                 : gn_subtensor_remove_stake(c, &kp, hotkey, (uint16_t)o->netuid, rao, o->wait_mode,
                                             gn_chain_cli_sync_cb, &s);
        gn_sr25519_wipe(&kp);
        rc = gn_chain_cli_wait(loop, &s, rc);
    } else if (!strcmp(cmd, "weights") && (!strcmp(sub, "commit") || !strcmp(sub, "reveal"))) {
        if ((rc = weights_cr(loop, c, o, !strcmp(sub, "reveal"), &s)) == GN_EXIT_USAGE)
            return rc;
    } else if (!strcmp(cmd, "subnet") && o->npos == 2 && !strcmp(sub, "create")) {
        if ((rc = hotkey_arg(o, hotkey)) != 0)
            return rc;
        if ((rc = coldkey(o, &kp)) < 0)
            return rc;
        rc = gn_subtensor_register_network(c, &kp, hotkey, o->wait_mode, gn_chain_cli_sync_cb, &s);
        gn_sr25519_wipe(&kp);
        rc = gn_chain_cli_wait(loop, &s, rc);
    } else {
        return gn_cli_usage(USAGE);
    }
    return gn_chain_cli_finish(&s, rc);
}

int gn_cmd_tx(int argc, char **argv)
{
    return gn_chain_cli_main(argc, argv, USAGE, run);
}
