/* Logging: levels, a tag per actor, human lines for terminals and JSON lines
 * for containers. Callers never block on a slow stderr: lines go into a
 * bounded queue drained by a writer thread; when the queue is full a line
 * is dropped and counted (the count is logged once the queue drains). */
#ifndef GANGLION_LOG_H
#define GANGLION_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    GN_LOG_TRACE = 0,
    GN_LOG_DEBUG,
    GN_LOG_INFO,
    GN_LOG_WARNING,
    GN_LOG_ERROR,
    GN_LOG_OFF,
} gn_log_level_t;

typedef enum { GN_LOG_AUTO = 0, GN_LOG_HUMAN, GN_LOG_JSON } gn_log_format_t;

/* Start logging to fd (AUTO: human when fd is a terminal, else JSON).
 * Before gn_log_init (and after gn_log_shutdown) lines go straight to
 * stderr. queue_lines 0 means 4096. */
int gn_log_init(gn_log_level_t level, gn_log_format_t format, int fd, unsigned queue_lines);
/* Flush what is queued and stop the writer thread. */
void gn_log_shutdown(void);

/* The SDK's flags: --logging.trace, --logging.debug, --logging.info (the
 * default level is warning, as in the SDK), and ganglion's
 * --logging.format human|json. Unknown flags are left alone. */
void gn_log_from_args(int argc, char **argv, gn_log_level_t *level, gn_log_format_t *format);

bool gn_log_enabled(gn_log_level_t level);
uint64_t gn_log_dropped(void);
const char *gn_log_level_name(gn_log_level_t level);

void gn_log(gn_log_level_t level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define GN_TRACE(tag, ...) gn_log(GN_LOG_TRACE, tag, __VA_ARGS__)
#define GN_DEBUG(tag, ...) gn_log(GN_LOG_DEBUG, tag, __VA_ARGS__)
#define GN_INFO(tag, ...)  gn_log(GN_LOG_INFO, tag, __VA_ARGS__)
#define GN_WARN(tag, ...)  gn_log(GN_LOG_WARNING, tag, __VA_ARGS__)
#define GN_ERROR(tag, ...) gn_log(GN_LOG_ERROR, tag, __VA_ARGS__)

#endif
