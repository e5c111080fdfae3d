#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/log.h"

static char *read_pipe(int fd)
{
    static char buf[65536];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    return buf;
}

Test(log, json_lines_levels_and_escaping)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(gn_log_init(GN_LOG_INFO, GN_LOG_JSON, p[1], 0), 0);
    GN_DEBUG("chain", "not shown");
    GN_INFO("chain", "block %d", 42);
    GN_ERROR("axon", "a \"quote\"\nand a newline \xff");
    gn_log_shutdown();
    close(p[1]);
    char *out = read_pipe(p[0]);
    close(p[0]);
    cr_assert_null(strstr(out, "not shown"));
    char *nl = strchr(out, '\n');
    cr_assert_not_null(nl);
    *nl = '\0';
    json_t *a = json_loads(out, 0, NULL), *b = json_loads(nl + 1, 0, NULL);
    cr_assert(a && b, "each line is JSON: %s", out);
    cr_assert_str_eq(json_string_value(json_object_get(a, "level")), "info");
    cr_assert_str_eq(json_string_value(json_object_get(a, "tag")), "chain");
    cr_assert_str_eq(json_string_value(json_object_get(a, "msg")), "block 42");
    cr_assert_str_eq(json_string_value(json_object_get(b, "msg")), "a \"quote\" and a newline ?",
                     "one line, valid UTF-8");
    cr_assert_not_null(json_object_get(a, "ts"));
    json_decref(a), json_decref(b);
}

Test(log, human_lines_and_flags)
{
    gn_log_level_t level = GN_LOG_WARNING;
    gn_log_format_t format = GN_LOG_AUTO;
    char *argv[] = {"--netuid", "1", "--logging.debug", "--logging.format", "human"};
    gn_log_from_args(5, argv, &level, &format);
    cr_assert_eq(level, GN_LOG_DEBUG);
    cr_assert_eq(format, GN_LOG_HUMAN);
    char *argv2[] = {"--logging.trace", "--logging.info"};
    gn_log_from_args(2, argv2, &level, &format);
    cr_assert_eq(level, GN_LOG_TRACE, "the most verbose flag wins");
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(gn_log_init(level, format, p[1], 0), 0);
    GN_TRACE("miner", "hello");
    gn_log_shutdown();
    close(p[1]);
    char *out = read_pipe(p[0]);
    close(p[0]);
    cr_assert(strstr(out, " TRACE miner: hello\n"), "%s", out);
}

Test(log, a_stuck_writer_drops_instead_of_blocking)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    fcntl(p[1], F_SETPIPE_SZ, 4096);
    cr_assert_eq(gn_log_init(GN_LOG_INFO, GN_LOG_HUMAN, p[1], 16), 0);
    /* nobody reads the pipe: the writer blocks, the queue fills, callers go on */
    for (int i = 0; i < 5000; i++)
        GN_INFO("flood", "line %d with some padding to fill the pipe quickly ........", i);
    cr_assert_gt(gn_log_dropped(), 0, "lines were dropped, callers never blocked");
    char buf[4096];
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    /* unblock the writer so shutdown can flush */
    for (int i = 0; i < 1000; i++) {
        if (read(p[0], buf, sizeof(buf)) <= 0)
            usleep(1000);
    }
    close(p[0]);
    gn_log_shutdown();
    close(p[1]);
}
