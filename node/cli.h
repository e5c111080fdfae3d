/* Internal to node/: the subcommands of the ganglion executable. */
#ifndef GN_NODE_CLI_H
#define GN_NODE_CLI_H

/* Exit codes of every subcommand. */
enum { GN_EXIT_OK = 0, GN_EXIT_FAIL = 1, GN_EXIT_USAGE = 2 };

int gn_cmd_ss58(int argc, char **argv);
int gn_cmd_hash(int argc, char **argv);
int gn_cmd_scale(int argc, char **argv);
int gn_cmd_wallet(int argc, char **argv);
int gn_cmd_metadata(int argc, char **argv);
int gn_cmd_decode(int argc, char **argv);
int gn_cmd_chain(int argc, char **argv);

/* Print "ganglion: <what>: <gn_strerror(err)>" to stderr; returns
 * GN_EXIT_FAIL. */
int gn_cli_fail(const char *what, int err);
/* Print "ganglion: <msg>" and a usage hint; returns GN_EXIT_USAGE. */
int gn_cli_usage(const char *msg);

#endif
