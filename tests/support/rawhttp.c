#include "support/rawhttp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int gn_raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int gn_raw_send(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Buffered reading of one connection. */
typedef struct {
    int fd;
    char *buf;
    size_t len, cap, pos;
    bool eof;
} rd_t;

static bool fill(rd_t *r)
{
    if (r->eof)
        return false;
    if (r->cap - r->len < 4096) {
        size_t cap = r->cap ? 2 * r->cap : 65536;
        char *b = realloc(r->buf, cap + 1);
        if (!b)
            return false;
        r->buf = b;
        r->cap = cap;
    }
    ssize_t k = recv(r->fd, r->buf + r->len, r->cap - r->len, 0);
    if (k <= 0) {
        r->eof = true;
        return false;
    }
    r->len += (size_t)k;
    r->buf[r->len] = '\0';
    return true;
}

/* The position just past "\r\n" at or after from, reading as needed. */
static long line_end(rd_t *r, size_t from)
{
    for (;;) {
        for (size_t i = from; i + 1 < r->len; i++)
            if (r->buf[i] == '\r' && r->buf[i + 1] == '\n')
                return (long)(i + 2);
        if (!fill(r))
            return -1;
    }
}

static bool need(rd_t *r, size_t n)
{
    while (r->len - r->pos < n)
        if (!fill(r))
            return false;
    return true;
}

/* A response header's value in a head text. */
static const char *find_header(const char *head, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *l = p + 2;
        if (!strncasecmp(l, name, nl) && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r");
            snprintf(out, cap, "%.*s", (int)n, v);
            return out;
        }
    }
    return NULL;
}

static int read_one(rd_t *r, gn_raw_resp_t *o)
{
    memset(o, 0, sizeof(*o));
    long e = -1;
    for (size_t from = r->pos;;) { /* the head ends with an empty line */
        long le = line_end(r, from);
        if (le < 0)
            return -1;
        if ((size_t)le == from + 2) {
            e = le;
            break;
        }
        from = (size_t)le;
    }
    size_t hl = (size_t)e - r->pos;
    o->head = malloc(hl + 1);
    memcpy(o->head, r->buf + r->pos, hl);
    o->head[hl] = '\0';
    r->pos = (size_t)e;
    sscanf(o->head, "HTTP/1.%*d %d", &o->status);
    char v[64];
    size_t cap = 0;
    if (find_header(o->head, "transfer-encoding", v, sizeof(v)) && strstr(v, "chunked")) {
        for (;;) {
            long le = line_end(r, r->pos);
            if (le < 0)
                return -1;
            size_t n = strtoul(r->buf + r->pos, NULL, 16);
            r->pos = (size_t)le;
            if (!need(r, n + 2))
                return -1;
            if (n == 0) {
                r->pos += 2;
                break;
            }
            o->body = realloc(o->body, cap + n + 1);
            memcpy(o->body + cap, r->buf + r->pos, n);
            cap += n;
            o->body[cap] = '\0';
            o->chunks++;
            r->pos += n + 2;
        }
        o->body_len = cap;
    } else if (find_header(o->head, "content-length", v, sizeof(v))) {
        size_t n = strtoul(v, NULL, 10);
        if (!need(r, n))
            return -1;
        o->body = malloc(n + 1);
        memcpy(o->body, r->buf + r->pos, n);
        o->body[n] = '\0';
        o->body_len = n;
        r->pos += n;
    } else { /* until close */
        while (fill(r)) {
        }
        o->body_len = r->len - r->pos;
        o->body = malloc(o->body_len + 1);
        memcpy(o->body, r->buf + r->pos, o->body_len);
        o->body[o->body_len] = '\0';
        r->pos = r->len;
    }
    if (!o->body)
        o->body = calloc(1, 1);
    return 0;
}

int gn_raw_read(int fd, gn_raw_resp_t *o)
{
    rd_t r = {.fd = fd};
    int rc = read_one(&r, o);
    if (rc == 0) { /* closed after it? a short look */
        struct timeval tv = {0, 200000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char c;
        o->closed = r.len == r.pos && recv(fd, &c, 1, MSG_PEEK) == 0;
        struct timeval t10 = {10, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t10, sizeof(t10));
    }
    free(r.buf);
    return rc;
}

int gn_raw_request(int port, const void *req, size_t n, gn_raw_resp_t *o)
{
    memset(o, 0, sizeof(*o));
    int fd = gn_raw_connect(port);
    if (fd < 0)
        return -1;
    int rc = gn_raw_send(fd, req, n) == 0 ? gn_raw_read(fd, o) : -1;
    close(fd);
    return rc;
}

const char *gn_raw_header(const gn_raw_resp_t *r, const char *name, char *out, size_t cap)
{
    return r->head ? find_header(r->head, name, out, cap) : NULL;
}

void gn_raw_free(gn_raw_resp_t *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof(*r));
}
