/* `ganglion metagraph`: a subnet's neurons as a readable table, with the
 * columns btcli's metagraph view shows. */
#include "cli.h"

#include "ganglion/subtensor.h"

#include <stdio.h>
#include <string.h>

#define RAO_PER_TAO 1000000000ull

static uint64_t u64_of(const json_t *j)
{
    gn_u128_t v;
    return gn_subtensor_u128(j, &v) == 0 && v <= UINT64_MAX ? (uint64_t)v : 0;
}

/* rao as a token amount with 4 decimals (truncated, like btcli) */
static void amount(uint64_t rao, char *out, size_t cap)
{
    snprintf(out, cap, "%llu.%04llu", (unsigned long long)(rao / RAO_PER_TAO),
             (unsigned long long)(rao % RAO_PER_TAO / 100000));
}

/* A neuron's stake: the sum of its (coldkey, amount) pairs. */
static uint64_t stake_of(const json_t *neuron)
{
    uint64_t sum = 0;
    size_t i;
    json_t *pair;
    json_array_foreach (json_object_get(neuron, "stake"), i, pair)
        sum += u64_of(json_array_get(pair, 1));
    return sum;
}

/* A u16 fixed-point share (rank, trust, ...) as a fraction of 1. */
static double share(const json_t *neuron, const char *field)
{
    return (double)u64_of(json_object_get(neuron, field)) / 65535.0;
}

static void key10(const json_t *neuron, const char *field, char out[11])
{
    const char *s = json_string_value(json_object_get(neuron, field));
    snprintf(out, 11, "%s", s ? s : "?");
}

void gn_cli_metagraph_table(FILE *f, uint16_t netuid, uint64_t block, const json_t *neurons)
{
    uint64_t total_stake = 0, total_emission = 0;
    size_t i, active = 0, permits = 0;
    json_t *n;
    json_array_foreach (neurons, i, n) {
        total_stake += stake_of(n);
        total_emission += u64_of(json_object_get(n, "emission"));
        active += json_is_true(json_object_get(n, "active"));
        permits += json_is_true(json_object_get(n, "validator_permit"));
    }
    char ts[32], te[32];
    amount(total_stake, ts, sizeof(ts));
    amount(total_emission, te, sizeof(te));
    fprintf(f,
            "Metagraph: netuid %u, block %llu, %zu neurons (%zu active, %zu validator permits), "
            "stake %s, emission %s per tempo\n",
            netuid, (unsigned long long)block, json_array_size(neurons), active, permits, ts, te);
    fprintf(f, "%4s %16s %7s %7s %9s %9s %9s %14s %7s %3s %7s %6s %-27s %-10s %-10s\n", "UID",
            "STAKE", "RANK", "TRUST", "CONSENSUS", "INCENTIVE", "DIVIDENDS", "EMISSION(rao)",
            "VTRUST", "VAL", "UPDATED", "ACTIVE", "AXON", "HOTKEY", "COLDKEY");
    json_array_foreach (neurons, i, n) {
        char st[32], axon[48] = "none", hk[11], ck[11];
        amount(stake_of(n), st, sizeof(st));
        const json_t *ax = json_object_get(n, "axon_info");
        const char *ip = json_string_value(json_object_get(ax, "ip_text"));
        uint64_t port = u64_of(json_object_get(ax, "port"));
        if (ip && port)
            snprintf(axon, sizeof(axon), strchr(ip, ':') ? "[%s]:%llu" : "%s:%llu", ip,
                     (unsigned long long)port);
        uint64_t last = u64_of(json_object_get(n, "last_update"));
        key10(n, "hotkey", hk);
        key10(n, "coldkey", ck);
        fprintf(f,
                "%4llu %16s %7.5f %7.5f %9.5f %9.5f %9.5f %14llu %7.5f %3s %7llu %6d %-27s %-10s "
                "%-10s\n",
                (unsigned long long)u64_of(json_object_get(n, "uid")), st, share(n, "rank"),
                share(n, "trust"), share(n, "consensus"), share(n, "incentive"),
                share(n, "dividends"), (unsigned long long)u64_of(json_object_get(n, "emission")),
                share(n, "validator_trust"),
                json_is_true(json_object_get(n, "validator_permit")) ? "*" : "",
                (unsigned long long)(block > last ? block - last : 0),
                json_is_true(json_object_get(n, "active")), axon, hk, ck);
    }
}
