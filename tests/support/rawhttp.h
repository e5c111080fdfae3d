/* Test support: a blocking raw HTTP/1.1 client, to send exactly the bytes
 * a test wants (good or broken) and read back one response. */
#ifndef GN_TEST_RAWHTTP_H
#define GN_TEST_RAWHTTP_H
#include <stdbool.h>
#include <stddef.h>

typedef struct gn_raw_resp {
    int status; /* 0: no response (closed or timed out first) */
    char *head; /* the status line and headers, NUL-terminated */
    char *body; /* NUL-terminated; chunked bodies de-chunked */
    size_t body_len;
    int chunks;  /* data chunks of a chunked body */
    bool closed; /* the server closed the connection after it */
} gn_raw_resp_t;

/* A connected socket to 127.0.0.1:port with 10 s send/receive timeouts
 * (-1 on failure). */
int gn_raw_connect(int port);
int gn_raw_send(int fd, const void *p, size_t n);
/* Read one response from fd (0, or -1 when none came). */
int gn_raw_read(int fd, gn_raw_resp_t *r);
/* Connect, send, read one response, close. */
int gn_raw_request(int port, const void *req, size_t n, gn_raw_resp_t *r);
/* A response header's value (case-insensitive name) into out; NULL when absent. */
const char *gn_raw_header(const gn_raw_resp_t *r, const char *name, char *out, size_t cap);
void gn_raw_free(gn_raw_resp_t *r);
#endif
