/* The ganglion executable: dispatch to subcommands. */
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "node.h"
#include "ganglion/error.h"

static const char usage[] =
    "usage: ganglion <command> [args]\n"
    "\n"
    "Codecs:\n"
    "  ss58 encode <hex> [--prefix N]   public key -> SS58 address (prefix 42)\n"
    "  ss58 decode <address>            SS58 address -> {prefix, payload}\n"
    "  hash <hasher> <input> [--text]   hasher: twox64 twox128 twox256\n"
    "                                   blake2_128 blake2_256 blake2_512\n"
    "                                   blake2_128_concat twox64_concat identity\n"
    "                                   input: 0x-hex bytes, else UTF-8 text\n"
    "  scale compact <n>                unsigned decimal (< 2^128) -> SCALE hex\n"
    "  scale decode-compact <hex>       SCALE compact hex -> decimal\n"
    "\n"
    "Runtime metadata (a file: raw, 0x-hex, or {\"result\": \"0x..\"}):\n"
    "  metadata summary <file> [--pallet NAME]            pallets, counts, runtime APIs\n"
    "  metadata type <id> --metadata <file>               one type of the registry\n"
    "  decode <type-id|Pallet.Item|Pallet.Const> <hex> --metadata <file>   -> JSON\n"
    "\n"
    "Chain reads (--subtensor.network finney|test|local|..., --subtensor.chain_endpoint URL):\n"
    "  chain head                                          the best block's header\n"
    "  chain constant <Pallet> <Name>                      a constant, as JSON\n"
    "  chain query <Pallet> <Item> [key-json...] [--at H]  a storage value, as JSON\n"
    "  chain ...                                           more: 'ganglion chain' lists them\n"
    "\n"
    "Bittensor (the same chain flags; writes: --wallet.* or --suri, --wait):\n"
    "  subnets [--netuid N]                    subnets; one subnet's state and hyperparameters\n"
    "  metagraph --netuid N [--json]           a subnet's neurons as a table (JSON: "
    "get_metagraph)\n"
    "  neurons --netuid N | --all [--full]     neurons_lite (or full) of one or every subnet\n"
    "  balance <ss58...>                       free balances, rao\n"
    "  register --netuid N [--hotkey SS58]     burned registration, paid by the coldkey\n"
    "  serve --netuid N --ip IP --port P       publish the axon (only when it changed)\n"
    "  weights set|commit|reveal --netuid N uid=score... [--salt a,b..] [--version-key K]\n"
    "  transfer --dest SS58 --amount TAO [--allow-death]\n"
    "  stake add|remove --netuid N --amount TAO [--hotkey SS58]\n"
    "  subnet create [--hotkey SS58]           register a subnet (local and test networks)\n"
    "\n"
    "Dendrite (see docs/dendrite.md):\n"
    "  query --axon ip:port:hotkey... --synapse Dummy --field dummy_input=3 [--timeout S]\n"
    "                                      one JSON line per answer (--wallet.* or --suri)\n"
    "\n"
    "Roles (flags, YAML --config, GANGLION_* variables; see docs/miner.md):\n"
    "  miner --netuid N --wallet.name W --wallet.hotkey H --axon.port P   serve the subnet\n"
    "  validator --netuid N --wallet.name W --wallet.hotkey H [--metrics.port P]\n"
    "                                      query, score, set weights (docs/validator.md)\n"
    "  validator state [--state_dir DIR]   the validator's scores and last step, as JSON\n"
    "\n"
    "Configuration (see docs/config.md):\n"
    "  config show [--json] [--role miner|validator] [--config FILE] [--key value...]\n"
    "\n"
    "Axon (no chain; see docs/axon.md):\n"
    "  axon --port P --wallet.name N --wallet.hotkey H [--axon.allow SS58,...]   serve Dummy\n"
    "                                      and StreamingDummy, /healthz and /metrics\n"
    "\n"
    "Wallets (the Bittensor SDK's layout; --wallet.path, --wallet.name, --wallet.hotkey):\n"
    "  wallet new-coldkey [--n-words N] [--no-password]   new mnemonic, encrypted coldkey\n"
    "  wallet new-hotkey [--use-password]                  new mnemonic, plain hotkey\n"
    "  wallet regen-coldkey|regen-hotkey --mnemonic \"...\" | --seed 0x... | --uri //Alice\n"
    "  wallet list | show\n"
    "  wallet sign <message> [--coldkey]                   sr25519 signature, hex\n"
    "  wallet verify <message> <signature> [--ss58 ADDR]\n"
    "    --password-env VAR reads the password from $VAR (else BT_PW_..., else the\n"
    "    terminal); --overwrite replaces an existing key; <message> 0x.. is hex\n"
    "    unless --text\n"
    "\n"
    "  --version, --help\n";

/* jansson holds copies of whatever JSON it parses, keyfiles included: its
 * memory is wiped before it is freed. */
static void *json_alloc(size_t n)
{
    return malloc(n);
}
static void json_release(void *p)
{
    if (p) {
        sodium_memzero(p, malloc_usable_size(p));
        free(p);
    }
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "ganglion: libsodium failed to initialise\n");
        return GN_EXIT_FAIL;
    }
    json_set_alloc_funcs(json_alloc, json_release);
    /* a peer that left must fail a write (EPIPE), not kill the node */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        return gn_cli_usage("missing command");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return GN_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("ganglion %s\n", GN_VERSION);
        return GN_EXIT_OK;
    }
    if (strcmp(cmd, "ss58") == 0)
        return gn_cmd_ss58(argc - 2, argv + 2);
    if (strcmp(cmd, "hash") == 0)
        return gn_cmd_hash(argc - 2, argv + 2);
    if (strcmp(cmd, "scale") == 0)
        return gn_cmd_scale(argc - 2, argv + 2);
    if (strcmp(cmd, "wallet") == 0)
        return gn_cmd_wallet(argc - 2, argv + 2);
    if (strcmp(cmd, "metadata") == 0)
        return gn_cmd_metadata(argc - 2, argv + 2);
    if (strcmp(cmd, "decode") == 0)
        return gn_cmd_decode(argc - 2, argv + 2);
    if (strcmp(cmd, "chain") == 0)
        return gn_cmd_chain(argc - 2, argv + 2);
    if (strcmp(cmd, "axon") == 0)
        return gn_cmd_axon(argc - 2, argv + 2);
    if (strcmp(cmd, "config") == 0)
        return gn_cmd_config(argc - 2, argv + 2);
    if (strcmp(cmd, "miner") == 0)
        return gn_cmd_miner(argc - 2, argv + 2);
    if (strcmp(cmd, "validator") == 0)
        return gn_cmd_validator(argc - 2, argv + 2);
    if (strcmp(cmd, "query") == 0)
        return gn_cmd_query(argc - 2, argv + 2);
    /* Bittensor writes that move money or commit weights (cmd_tx.c) */
    if (!strcmp(cmd, "transfer") || !strcmp(cmd, "stake") || !strcmp(cmd, "subnet") ||
        (!strcmp(cmd, "weights") && argc > 2 &&
         (!strcmp(argv[2], "commit") || !strcmp(argv[2], "reveal"))))
        return gn_cmd_tx(argc - 1, argv + 1);
    /* Bittensor reads: chain commands of their own name, with the same flags */
    if (!strcmp(cmd, "subnets") || !strcmp(cmd, "neurons") || !strcmp(cmd, "metagraph") ||
        !strcmp(cmd, "balance") || !strcmp(cmd, "weights") || !strcmp(cmd, "register") ||
        !strcmp(cmd, "serve"))
        return gn_cmd_chain(argc - 1, argv + 1);
    fprintf(stderr, "ganglion: unknown command '%s'\n", cmd);
    return gn_cli_usage("try one of: ss58, hash, scale, wallet, metadata, decode, chain, "
                        "subnets, neurons, metagraph, balance, weights, register, serve, "
                        "transfer, stake, subnet");
}
