/* Internal to node/: the subcommands of the ganglion executable. */
#ifndef GN_NODE_CLI_H
#define GN_NODE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes of every subcommand. */
enum { GN_EXIT_OK = 0, GN_EXIT_FAIL = 1, GN_EXIT_USAGE = 2 };

int gn_cmd_ss58(int argc, char **argv);
int gn_cmd_hash(int argc, char **argv);
int gn_cmd_scale(int argc, char **argv);
int gn_cmd_wallet(int argc, char **argv);
int gn_cmd_metadata(int argc, char **argv);
int gn_cmd_decode(int argc, char **argv);
int gn_cmd_chain(int argc, char **argv);
int gn_cmd_axon(int argc, char **argv);
/* one synapse to axons through the dendrite (cmd_query.c) */
int gn_cmd_query(int argc, char **argv);
/* transfer, stake, weights commit|reveal, subnet create (cmd_tx.c) */
int gn_cmd_tx(int argc, char **argv);

/* Print "ganglion: <what>: <gn_strerror(err)>" to stderr; returns
 * GN_EXIT_FAIL. */
int gn_cli_fail(const char *what, int err);
/* Bytes of a command-line argument: 0x-hex unless `text`, else the UTF-8
 * text itself. *out is malloc'd (NULL on error). */
int gn_cli_bytes(const char *arg, int text, uint8_t **out, size_t *n);
struct gn_metadata;
/* Parse 0x-hex metadata text (a file's or a node's), reporting failures
 * on stderr as `what`'s. */
int gn_cli_metadata_hex(const char *what, const char *hex, size_t len, struct gn_metadata *md);
struct gn_sr25519_keypair;
/* The secret key of a wallet's coldkey or hotkey (NULLs: the SDK's
 * defaults and BT_WALLET_* variables); failures are reported on stderr. */
int gn_cli_wallet_keypair(const char *path, const char *name, const char *hotkey, bool cold,
                          const char *password_env, struct gn_sr25519_keypair *kp);
/* The coldkey's SS58 address from {path}/{name}/coldkeypub.txt only (NULLs
 * as above); nothing is printed. GN_ENOENT when the file is absent. */
int gn_cli_wallet_coldkeypub(const char *path, const char *name, char ss58[49]);
/* The keypair of a secret URI (--suri); failures are reported on stderr. */
int gn_cli_suri_keypair(const char *suri, struct gn_sr25519_keypair *kp);
#include <jansson.h>
#include <stdio.h>
/* A subnet's NeuronInfoLite array as btcli's metagraph table (stake in
 * the subnet's token, shares as fractions of 1, UPDATED in blocks ago). */
void gn_cli_metagraph_table(FILE *f, uint16_t netuid, uint64_t block, const json_t *neurons);
/* Print "ganglion: <msg>" and a usage hint; returns GN_EXIT_USAGE. */
int gn_cli_usage(const char *msg);

#endif
