/* Helpers every subcommand shares (cli.h). */
#include "cli.h"

#include <stdio.h>

#include "ganglion/error.h"

int gn_cli_fail(const char *what, int err)
{
    fprintf(stderr, "ganglion: %s: %s\n", what, gn_strerror(err));
    return GN_EXIT_FAIL;
}

int gn_cli_usage(const char *msg)
{
    fprintf(stderr, "ganglion: %s\n(see 'ganglion --help')\n", msg);
    return GN_EXIT_USAGE;
}
