/* Test support: run the ganglion executable as a user would. */
#ifndef GN_TEST_RUN_H
#define GN_TEST_RUN_H

typedef struct {
    int status;           /* exit code, -1 if killed */
    char out[256 * 1024]; /* the first 256 KiB of stdout; the rest is read and dropped */
    char err[8192];
} gn_run_t;

/* Run `ganglion <args>` through the shell with `env` (shell words such as
 * "PW=x", or "") added to the environment; stdin is /dev/null. */
void gn_test_run(gn_run_t *r, const char *env, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
