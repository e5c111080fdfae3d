/* Internal to node/: where a wallet password comes from. */
#ifndef GN_NODE_PASSWORD_H
#define GN_NODE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define GN_PASSWORD_MAX 1024

/* The password for the keyfile at `path`, from, in order:
 *  1. the environment variable named by `env_name` (--password-env), raw;
 *  2. btwallet's BT_PW_<PATH> variable (base64 of the password XOR the
 *     variable's name), so automation written for btcli keeps working;
 *  3. the terminal, without echo (twice when `confirm`).
 * GN_ENOENT when none is available (no variable and no terminal). */
int gn_password_get(const char *path, const char *env_name, const char *prompt, bool confirm,
                    char *out, size_t cap);

/* btwallet's variable name for a keyfile path (exposed for tests/docs). */
void gn_password_bt_env_name(const char *path, char *out, size_t cap);

#endif
