/* Test support: driving a libuv loop from a test, and the Python example
 * workers (examples/ in Python) as child processes. */
#ifndef GN_TEST_LOOP_H
#define GN_TEST_LOOP_H

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

/* Run the loop until pred(arg) or secs pass (a ticking timer keeps it
 * awake); whether pred held. */
bool gn_test_wait_until(uv_loop_t *loop, bool (*pred)(void *), void *arg, double secs);
/* Run the loop for secs. */
void gn_test_run_for(uv_loop_t *loop, double secs);
/* A uv_close callback freeing a malloc'd handle. */
void gn_test_free_handle(uv_handle_t *h);

#define GN_TEST_PY "/usr/bin/python3"
/* Skip the test (naming `who`) unless Debian's python3 with msgpack is there. */
void gn_test_need_python_msgpack(const char *who);
/* Start GN_TEST_PY with argv (argv[0] is GN_TEST_PY; NULL-terminated). */
void gn_test_spawn_py(pid_t *pid, char *const argv[]);
/* SIGKILL and reap *pid (when > 0), then 0 it. */
void gn_test_kill_reap(pid_t *pid);

#endif
