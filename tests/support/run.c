#include "support/run.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void gn_test_run(gn_run_t *r, const char *env, const char *fmt, ...)
{
    char args[8192], cmd[9000], errpath[] = "/tmp/gn-cli-err-XXXXXX";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    int fd = mkstemp(errpath);
    cr_assert(fd >= 0);
    snprintf(cmd, sizeof(cmd), "env %s %s/ganglion %s 2>%s </dev/null", env ? env : "",
             GN_BUILD_DIR, args, errpath);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    size_t n = fread(r->out, 1, sizeof(r->out) - 1, f);
    r->out[n] = '\0';
    char drain[4096]; /* never close the pipe on a writer that is still going */
    while (fread(drain, 1, sizeof(drain), f) > 0) {
    }
    int st = pclose(f);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *e = fdopen(fd, "r");
    n = fread(r->err, 1, sizeof(r->err) - 1, e);
    r->err[n] = '\0';
    fclose(e);
    unlink(errpath);
}
