#include "support/loop.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void tick(uv_timer_t *t)
{
    (void)t;
}

void gn_test_free_handle(uv_handle_t *h)
{
    free(h);
}

bool gn_test_wait_until(uv_loop_t *loop, bool (*pred)(void *), void *arg, double secs)
{
    uv_timer_t *t = malloc(sizeof(*t));
    cr_assert_not_null(t);
    uv_timer_init(loop, t);
    uv_timer_start(t, tick, 5, 5);
    uint64_t end = uv_hrtime() + (uint64_t)(secs * 1e9);
    bool ok;
    while (!(ok = pred(arg)) && uv_hrtime() < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)t, gn_test_free_handle);
    return ok;
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

void gn_test_run_for(uv_loop_t *loop, double secs)
{
    gn_test_wait_until(loop, never, NULL, secs);
}

void gn_test_need_python_msgpack(const char *who)
{
    if (access(GN_TEST_PY, X_OK) != 0)
        cr_skip_test("%s is missing: %s need Debian's python3 and python3-msgpack (make deps)",
                     GN_TEST_PY, who);
    if (system(GN_TEST_PY " -c 'import msgpack' >/dev/null 2>&1") != 0)
        cr_skip_test("%s has no msgpack module: apt-get install python3-msgpack (make deps)",
                     GN_TEST_PY);
}

void gn_test_spawn_py(pid_t *pid, char *const argv[])
{
    cr_assert_eq(posix_spawn(pid, GN_TEST_PY, NULL, NULL, argv, environ), 0, "cannot start %s",
                 GN_TEST_PY);
}

void gn_test_kill_reap(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        *pid = 0;
    }
}
