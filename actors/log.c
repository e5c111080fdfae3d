/* Logging (see include/ganglion/log.h). Process-wide by nature: one
 * writer thread, one queue. */
#include "ganglion/log.h"
#include "ganglion/error.h"
#include "ganglion/utf8.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 2048

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t writer;
    bool running, quit;
    char **lines;
    unsigned cap, head, count;
    int fd;
    gn_log_format_t format;
    atomic_int level;
    atomic_uint_fast64_t dropped;
    uint64_t dropped_reported;
} L = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .cv = PTHREAD_COND_INITIALIZER,
       .fd = 2,
       .format = GN_LOG_HUMAN,
       .level = GN_LOG_WARNING};

static const char *names[] = {"trace", "debug", "info", "warning", "error", "off"};

const char *gn_log_level_name(gn_log_level_t level)
{
    return level <= GN_LOG_OFF ? names[level] : "?";
}

bool gn_log_enabled(gn_log_level_t level)
{
    return (int)level >= atomic_load(&L.level);
}
uint64_t gn_log_dropped(void)
{
    return atomic_load(&L.dropped);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&L.mu);
    for (;;) {
        while (L.count == 0 && !L.quit)
            pthread_cond_wait(&L.cv, &L.mu);
        if (L.count == 0 && L.quit)
            break;
        char *line = L.lines[L.head];
        L.head = (L.head + 1) % L.cap;
        L.count--;
        pthread_mutex_unlock(&L.mu);
        write_all(L.fd, line, strlen(line));
        free(line);
        pthread_mutex_lock(&L.mu);
    }
    pthread_mutex_unlock(&L.mu);
    return NULL;
}

int gn_log_init(gn_log_level_t level, gn_log_format_t format, int fd, unsigned queue_lines)
{
    pthread_mutex_lock(&L.mu);
    if (L.running) {
        pthread_mutex_unlock(&L.mu);
        return GN_EINVAL;
    }
    L.cap = queue_lines ? queue_lines : 4096;
    L.lines = calloc(L.cap, sizeof(char *));
    if (!L.lines) {
        pthread_mutex_unlock(&L.mu);
        return GN_ENOMEM;
    }
    L.fd = fd;
    L.format = format == GN_LOG_AUTO ? (isatty(fd) ? GN_LOG_HUMAN : GN_LOG_JSON) : format;
    atomic_store(&L.level, (int)level);
    L.head = L.count = 0;
    L.quit = false;
    L.running = pthread_create(&L.writer, NULL, writer_main, NULL) == 0;
    int rc = L.running ? 0 : GN_ENOMEM;
    pthread_mutex_unlock(&L.mu);
    return rc;
}

void gn_log_shutdown(void)
{
    pthread_mutex_lock(&L.mu);
    if (!L.running) {
        pthread_mutex_unlock(&L.mu);
        return;
    }
    L.quit = true;
    pthread_cond_signal(&L.cv);
    pthread_mutex_unlock(&L.mu);
    pthread_join(L.writer, NULL);
    pthread_mutex_lock(&L.mu);
    L.running = false;
    free(L.lines);
    L.lines = NULL;
    pthread_mutex_unlock(&L.mu);
}

void gn_log_from_args(int argc, char **argv, gn_log_level_t *level, gn_log_format_t *format)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--logging.trace"))
            *level = GN_LOG_TRACE;
        else if (!strcmp(a, "--logging.debug") && *level > GN_LOG_DEBUG)
            *level = GN_LOG_DEBUG;
        else if (!strcmp(a, "--logging.info") && *level > GN_LOG_INFO)
            *level = GN_LOG_INFO;
        else if (!strcmp(a, "--logging.format") && i + 1 < argc)
            *format = !strcmp(argv[++i], "json") ? GN_LOG_JSON : GN_LOG_HUMAN;
        else if (!strcmp(a, "--logging.format=json"))
            *format = GN_LOG_JSON;
        else if (!strcmp(a, "--logging.format=human"))
            *format = GN_LOG_HUMAN;
    }
}

/* One formatted line, malloc'd, with its newline. */
static char *format_line(gn_log_level_t level, const char *tag, const char *msg)
{
    struct timespec ts;
    struct tm tm;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    if (L.format == GN_LOG_JSON) {
        json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "ts", when, "level", names[level], "tag",
                              tag ? tag : "", "msg", msg);
        char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        if (!s)
            return NULL;
        size_t len = strlen(s);
        char *line = realloc(s, len + 2);
        if (!line) {
            free(s);
            return NULL;
        }
        line[len] = '\n';
        line[len + 1] = '\0';
        return line;
    }
    static const char *upper[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"};
    size_t cap = strlen(msg) + strlen(tag ? tag : "") + 64;
    char *line = malloc(cap);
    if (line)
        snprintf(line, cap, "%s %-5s %s: %s\n", when, upper[level], tag ? tag : "-", msg);
    return line;
}

void gn_log(gn_log_level_t level, const char *tag, const char *fmt, ...)
{
    if (!gn_log_enabled(level) || level >= GN_LOG_OFF)
        return;
    char msg[LINE_MAX_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* messages are text: control characters would forge extra lines, and
     * JSON needs valid UTF-8 */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            *p = ' ';
    if (!gn_utf8_valid((const uint8_t *)msg, strlen(msg)))
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
    char *line = format_line(level, tag, msg);
    if (!line)
        return;
    pthread_mutex_lock(&L.mu);
    if (!L.running) {
        pthread_mutex_unlock(&L.mu);
        write_all(2, line, strlen(line));
        free(line);
        return;
    }
    if (L.count == L.cap) {
        pthread_mutex_unlock(&L.mu);
        atomic_fetch_add(&L.dropped, 1);
        free(line);
        return;
    }
    L.lines[(L.head + L.count) % L.cap] = line;
    L.count++;
    uint64_t dropped = atomic_load(&L.dropped);
    bool report = L.count == 1 && dropped != L.dropped_reported;
    if (report)
        L.dropped_reported = dropped;
    pthread_cond_signal(&L.cv);
    pthread_mutex_unlock(&L.mu);
    if (report)
        gn_log(GN_LOG_WARNING, "log", "%llu log lines were dropped (slow output)",
               (unsigned long long)dropped);
}
