/* libFuzzer target: the HTTP server's connection state machine
 * (actors/http.c through actors/http_internal.h, no sockets) driven by
 * arbitrary client bytes, interleaved with the clock moving, half-closes,
 * resets, new connections and the application answering (at once, later,
 * out of order, whole or streamed).
 *
 * Input: one configuration byte (limits), then operations, each an opcode
 * byte and its arguments (see run()).
 *
 * Besides "no crash, no leak, no use after free" (ASan):
 * - what the server writes on every connection parses as HTTP/1.1
 *   responses (llhttp, response mode), nothing follows a response that
 *   says Connection: close, and a connection the server closed by itself
 *   ends between responses;
 * - every request given to the application is well formed and within the
 *   limits, and is answered or aborted exactly once (on_abort never for an
 *   answered one; answering an aborted one is refused with GN_ECLOSED);
 * - on a connection the server closed by itself, every answer the
 *   application gave was written (responses marked X-App are counted). */
#include <llhttp.h>
#include <string.h>

#include "../../actors/http_internal.h"
#include "fuzz.h"
#include "ganglion/error.h"

#define MAX_CONNS 16
#define MAX_REQS  256

enum { R_PENDING, R_STREAMING, R_ANSWERED, R_ABORTED };

typedef struct {
    gn_http_conn_t *c;
    llhttp_t rp;
    bool reset;   /* we broke it: its output may stop anywhere */
    bool closed;  /* the sink saw the close */
    bool no_more; /* a Connection: close response completed */
    bool cur_app, cur_head_req;
    char field[32];
    size_t field_len;
    int hstate; /* 0 none, 1 in field, 2 in value */
    unsigned app_responses, answered;
} fconn_t;

typedef struct {
    gn_http_req_t *req;
    int conn, state;
    bool head;
} freq_t;

static fconn_t conns[MAX_CONNS];
static int n_conns;
static freq_t reqs[MAX_REQS];
static int n_reqs;
static gn_http_limits_t lim;
static bool answer_at_once;
static gn_http_server_t *srv;

/* ---- the response checker -------------------------------------------- */

static int rs_field(llhttp_t *p, const char *at, size_t len)
{
    fconn_t *f = p->data;
    if (f->hstate != 1) {
        f->hstate = 1;
        f->field_len = 0;
    }
    size_t room = sizeof(f->field) - f->field_len;
    size_t n = len < room ? len : room;
    memcpy(f->field + f->field_len, at, n);
    f->field_len += n;
    return 0;
}

static int rs_value(llhttp_t *p, const char *at, size_t len)
{
    (void)at, (void)len;
    fconn_t *f = p->data;
    if (f->hstate == 1) {
        if (f->field_len == 5 && memcmp(f->field, "X-App", 5) == 0)
            f->cur_app = true;
        if (f->field_len == 6 && memcmp(f->field, "X-Head", 6) == 0)
            f->cur_head_req = true;
    }
    f->hstate = 2;
    return 0;
}

static int rs_begin(llhttp_t *p)
{
    fconn_t *f = p->data;
    f->cur_app = f->cur_head_req = false;
    f->hstate = 0;
    return 0;
}

static int rs_headers(llhttp_t *p)
{
    fconn_t *f = p->data;
    /* X-App/X-Head with an empty value never reach rs_value */
    return f->cur_head_req ? 1 : 0;
}

static int rs_complete(llhttp_t *p)
{
    fconn_t *f = p->data;
    if (llhttp_get_status_code(p) < 200)
        return 0;
    if (f->cur_app)
        f->app_responses++;
    if (!llhttp_should_keep_alive(p))
        f->no_more = true;
    return 0;
}

static const llhttp_settings_t rs = {
    .on_message_begin = rs_begin,
    .on_header_field = rs_field,
    .on_header_value = rs_value,
    .on_headers_complete = rs_headers,
    .on_message_complete = rs_complete,
};

static void sink(void *arg, const char *data, size_t len)
{
    fconn_t *f = arg;
    CHECK(!f->closed);
    if (!data) {
        f->closed = true;
        if (!f->reset) {
            /* closed by the server: between responses (or at the end of
             * one that runs to the close) */
            CHECK(llhttp_finish(&f->rp) == HPE_OK);
        }
        return;
    }
    CHECK(len > 0);
    CHECK(!f->no_more);
    llhttp_errno_t e = llhttp_execute(&f->rp, data, len);
    CHECK(e == HPE_OK);
}

/* ---- the application ---------------------------------------------------- */

static int conn_of(const gn_http_req_t *req)
{
    return (int)req->peer_port - 1;
}

static void check_request(const gn_http_req_t *req)
{
    CHECK(req->method && req->method[0]);
    CHECK(req->path && req->path[0]);
    size_t head = strlen(req->path);
    CHECK(head <= lim.max_header_bytes);
    CHECK(req->body && req->body_len <= lim.max_body_bytes);
    CHECK(req->body[req->body_len] == 0);
    CHECK(req->n_headers == 0 || req->headers);
    for (size_t i = 0; i < req->n_headers; i++) {
        const gn_header_t *h = &req->headers[i];
        CHECK(h->name && h->name_len > 0);
        CHECK(h->value || h->value_len == 0);
        for (size_t k = 0; k < h->name_len; k++)
            CHECK(!(h->name[k] >= 'A' && h->name[k] <= 'Z'));
        if (h->value_len) {
            CHECK(h->value[0] != ' ' && h->value[h->value_len - 1] != ' ');
        }
        head += h->name_len + h->value_len;
    }
    CHECK(head <= lim.max_header_bytes);
    int ci = conn_of(req);
    CHECK(ci >= 0 && ci < n_conns);
}

static const int statuses[] = {200, 201, 204, 304, 404, 500, 503, 299};

static int answer(freq_t *q, uint8_t how, const uint8_t *body, size_t len)
{
    gn_header_t hd[3] = {
        {"X-App", 5, "1", 1}, {"Content-Type", 12, "text/plain", 10}, {"X-Head", 6, "1", 1}};
    size_t nh = q->head ? 3 : 2;
    int status = statuses[how % 8];
    int rc;
    if ((how & 0x18) == 0x18) { /* stream */
        rc = gn_http_stream_start(q->req, status, hd, nh);
        CHECK(rc == 0);
        q->state = R_STREAMING;
        return 0;
    }
    rc = gn_http_respond(q->req, status, hd, nh, body, len);
    CHECK(rc == 0);
    q->state = R_ANSWERED;
    conns[q->conn].answered++;
    return 0;
}

static void on_request(gn_http_req_t *req, void *arg)
{
    (void)arg;
    check_request(req);
    bool head = strcmp(req->method, "HEAD") == 0;
    if (n_reqs == MAX_REQS || answer_at_once) {
        freq_t tmp = {req, conn_of(req), R_PENDING, head};
        answer(&tmp, 0, req->body, req->body_len);
        return;
    }
    reqs[n_reqs++] = (freq_t){req, conn_of(req), R_PENDING, head};
}

static void on_abort(gn_http_req_t *req, void *arg)
{
    (void)arg;
    int found = 0;
    for (int i = 0; i < n_reqs; i++) {
        if (reqs[i].req != req || (reqs[i].state != R_PENDING && reqs[i].state != R_STREAMING))
            continue;
        reqs[i].state = R_ABORTED;
        found++;
    }
    CHECK(found == 1);
    CHECK(gn_http_respond(req, 200, NULL, 0, "x", 1) == GN_ECLOSED);
    CHECK(gn_http_stream_write(req, "x", 1) == GN_ECLOSED);
}

/* ---- the driver --------------------------------------------------------- */

static void new_conn(uint8_t sel)
{
    if (n_conns == MAX_CONNS)
        return;
    static const char *ips[] = {"10.0.0.1", "10.0.0.2", "::1", "2001:db8::7"};
    fconn_t *f = &conns[n_conns];
    memset(f, 0, sizeof(*f));
    llhttp_init(&f->rp, HTTP_RESPONSE, &rs);
    f->rp.data = f;
    n_conns++;
    f->c = gn_http__conn_new(srv, ips[sel % 4], (uint16_t)n_conns, sink, f);
    CHECK(f->c != NULL);
}

/* The oldest (or newest) request in a state. */
static freq_t *pick(int state, bool newest)
{
    freq_t *got = NULL;
    for (int i = 0; i < n_reqs; i++)
        if (reqs[i].state == state) {
            got = &reqs[i];
            if (!newest)
                break;
        }
    return got;
}

static void run(const uint8_t *d, size_t n)
{
    size_t i = 0;
#define NEXT() (i < n ? d[i++] : 0)
    while (i < n) {
        uint8_t op = NEXT();
        switch ((op & 0x7f) % 9) {
        case 0:
        case 1: { /* feed: conn, length, bytes */
            fconn_t *f = &conns[NEXT() % n_conns];
            size_t len = NEXT();
            if (op & 0x80)
                len = len * 16; /* big writes now and then */
            if (len > n - i)
                len = n - i;
            if (gn_http__conn_reading(f->c))
                CHECK(gn_http__conn_feed(f->c, d + i, len));
            i += len;
            break;
        }
        case 2: { /* answer one: which, how, body length */
            freq_t *q = pick(R_PENDING, op & 0x80);
            uint8_t how = NEXT();
            size_t len = NEXT();
            if (!q)
                break;
            if (len > n - i)
                len = n - i;
            answer(q, how, d + i, q->head ? 0 : len);
            i += len;
            gn_http__pump(srv);
            break;
        }
        case 3: { /* stream write */
            freq_t *q = pick(R_STREAMING, op & 0x80);
            size_t len = NEXT();
            if (!q)
                break;
            if (len > n - i)
                len = n - i;
            CHECK(gn_http_stream_write(q->req, d + i, len) == 0);
            i += len;
            gn_http__pump(srv);
            break;
        }
        case 4: { /* stream end */
            freq_t *q = pick(R_STREAMING, op & 0x80);
            if (!q)
                break;
            CHECK(gn_http_stream_end(q->req) == 0);
            q->state = R_ANSWERED;
            conns[q->conn].answered++;
            gn_http__pump(srv);
            break;
        }
        case 5: gn_http__advance(srv, (uint64_t)NEXT() * 40); break;
        case 6: gn_http__conn_eof(conns[NEXT() % n_conns].c); break;
        case 7: {
            fconn_t *f = &conns[NEXT() % n_conns];
            if (!gn_http__conn_closed(f->c))
                f->reset = true;
            gn_http__conn_reset(f->c);
            break;
        }
        case 8: new_conn(NEXT()); break;
        }
    }
#undef NEXT
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t cfg = data[0];
    lim = (gn_http_limits_t){
        .max_header_bytes = (cfg & 1) ? 128 : 1024,
        .max_body_bytes = (cfg & 2) ? 16 : 2048,
        .header_timeout_ms = 1000,
        .body_timeout_ms = 2000,
        .idle_timeout_ms = 3000,
        .max_connections = 3,
        .per_ip_rate = (cfg & 4) ? 2 : 0,
        .max_pipelined = 1 + ((cfg >> 3) & 3),
    };
    answer_at_once = (cfg & 0x20) != 0;
    gn_http_opts_t o = {.on_request = on_request, .on_abort = on_abort, .limits = lim};
    CHECK(gn_http__server_new(&o, &srv) == 0);
    n_conns = n_reqs = 0;
    new_conn(0);
    new_conn(2);
    run(data + 1, size - 1);
    /* every connection the server closed by itself wrote every answer */
    for (int k = 0; k < n_conns; k++) {
        fconn_t *f = &conns[k];
        if (f->closed && !f->reset)
            CHECK(f->app_responses == f->answered);
        CHECK(f->app_responses <= f->answered);
        f->reset = true; /* the server closes the rest mid-way */
    }
    gn_http__server_free(srv);
    srv = NULL;
    for (int k = 0; k < n_reqs; k++)
        CHECK(reqs[k].state == R_ANSWERED || reqs[k].state == R_ABORTED);
    for (int k = 0; k < n_conns; k++)
        CHECK(conns[k].closed);
    return 0;
}
