/* Internal to node/: the miner's and validator's configuration.
 *
 * Sources, later wins: built-in default < YAML file (--config PATH, or
 * GANGLION_CONFIG) < environment < command-line flags.
 *
 * - Keys are dotted names from one schema (config.c): the SDK's where they
 *   exist (../shared/spec/wire-protocol.md §9.3: netuid, wallet.name,
 *   wallet.hotkey, wallet.path, subtensor.network, subtensor.chain_endpoint,
 *   axon.port, axon.ip, axon.external_ip, axon.external_port,
 *   axon.max_workers, logging.debug, logging.trace, logging.info,
 *   logging.logging_dir), ganglion's own under miner.*, validator.*,
 *   metagraph.*, metrics.*, node.*, state_dir, logging.format.
 * - YAML: nested maps (`wallet: {name: x}`, as the SDK's config dumps) or
 *   dotted keys at any level (`wallet.name: x`); sequences for list keys.
 * - Environment: GANGLION_<KEY> with dots as '_' and upper case
 *   (GANGLION_WALLET_NAME, GANGLION_AXON_PORT); the SDK's BT_* names of
 *   §9.3 too (BT_AXON_PORT, BT_WALLET_NAME...), which GANGLION_* beats.
 * - Flags: `--key value`, `--key=value`; a bool flag alone means true
 *   (`--miner.register`), `--no-key` / `--key false` false. Lists:
 *   comma-separated, or the flag repeated (appends).
 * - Unknown keys, values of the wrong type or out of range, and YAML syntax
 *   errors are errors naming the key, the source and the line
 *   ("config/miner.yaml:7: axon.port: 70000 is out of range 1..65535"),
 *   never silently ignored. */
#ifndef GN_NODE_CONFIG_H
#define GN_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { GN_CFG_STR = 0, GN_CFG_INT, GN_CFG_FLOAT, GN_CFG_BOOL, GN_CFG_LIST } gn_cfg_type_t;
typedef enum { GN_CFG_DEFAULT = 0, GN_CFG_FILE, GN_CFG_ENV, GN_CFG_FLAG } gn_cfg_source_t;

typedef struct gn_config gn_config_t;

/* Parse, for `role` ("miner", "validator"; keys of the other role's
 * section are still accepted, so one file can serve both), argv (the
 * arguments after the role word; argv[0] is the first flag), `envp` (NULL:
 * environ). On error *out is NULL, err holds one line naming the key and
 * its source, and the return is GN_EINVAL (bad value / unknown key),
 * GN_ENOENT (no such config file) or GN_EPARSE (YAML syntax). Positional
 * arguments (not starting with --) are GN_EINVAL. */
int gn_config_load(const char *role, int argc, char **argv, char **envp, gn_config_t **out,
                   char *err, size_t err_cap);
void gn_config_free(gn_config_t *c);

/* Typed reads of a schema key (a key not in the schema aborts in debug
 * builds and returns the zero value). Strings are "" when unset; `~/` at
 * the start of wallet.path, state_dir and logging.logging_dir is expanded
 * to $HOME. */
const char *gn_config_str(const gn_config_t *c, const char *key);
int64_t gn_config_int(const gn_config_t *c, const char *key);
double gn_config_float(const gn_config_t *c, const char *key);
bool gn_config_bool(const gn_config_t *c, const char *key);
/* A list key: its n items (borrowed). */
const char *const *gn_config_list(const gn_config_t *c, const char *key, size_t *n);
/* Where the value came from: the source, and `where` (borrowed) the
 * file:line, the environment variable or the flag ("default" for
 * defaults). */
gn_cfg_source_t gn_config_source(const gn_config_t *c, const char *key, const char **where);
/* Whether the key was set anywhere but its default. */
bool gn_config_is_set(const gn_config_t *c, const char *key);

/* The effective configuration, one key a line in schema order:
 *   axon.port = 8092            # flag --axon.port
 * or with json, one object {"key": {"value": v, "source": "flag",
 * "where": "--axon.port"}}. */
int gn_config_show(const gn_config_t *c, FILE *f, bool json);

/* The chain endpoint the node connects to: subtensor.chain_endpoint when
 * set (an explicit endpoint wins, unlike the SDK: spec §9.3), else the URL
 * of subtensor.network (a name of §9.4, or a URL). "ws://" is prepended to
 * an endpoint without a scheme. */
int gn_config_endpoint(const gn_config_t *c, char *out, size_t cap);

/* Every key (of `role`'s sections; NULL: all) a line: flag, type, default,
 * meaning and the SDK's variable: for the roles' --help. */
int gn_config_help(FILE *f, const char *role);

/* `ganglion config show [--json] [--role miner|validator] [flags...]`,
 * `ganglion config keys [--role miner|validator]`. */
int gn_cmd_config(int argc, char **argv);

#endif
