/* The dendrite actor: a probe actor's queries answered by message against
 * ganglion's own axon (on a loop thread, the built-in Dummy), results in
 * target order, partial results before the final reply, cancel, invalid
 * queries, shutdown with queries in flight, and the metrics collector;
 * streams (StreamingDummy, and a slow stream of the test's own) as chunk
 * messages then the final synapse, cancelled mid-stream, and refused by a
 * requester whose mailbox is full. */
#include <arpa/inet.h>
#include <stdatomic.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "ganglion/axon.h"
#include "ganglion/dendrite_actor.h"
#include "ganglion/error.h"
#include "ganglion/metrics.h"
#include "ganglion/sr25519.h"
#include "support/axon_fixture.h"
#include "support/chain_client.h"

#define BOB "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"

static const gn_syn_field_t DUMMY_F[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_class_t DUMMY = {"Dummy", DUMMY_F, 2};

static gn_sr25519_keypair_t alice, bob;

/* ---- an axon on its own loop thread (support/axon_fixture.h) ---- */

typedef gn_test_axon_t ax_t;

static void ax_start(ax_t *f)
{
    signal(SIGPIPE, SIG_IGN); /* the axon may write to a client that left (a node ignores it) */
    gn_test_keypair("//Alice", &alice);
    gn_test_keypair("//Bob", &bob);
    gn_axon_opts_t o = {.hotkey = &bob};
    gn_test_axon_start(f, &o, NULL, NULL);
}

#define ax_stop gn_test_axon_stop

/* SlowStream: the words of `text`, one every 20 ms, until the text ends or
 * the client is gone; slow_ended is set once its timer is closed. */
static const gn_syn_field_t SLOW_F[] = {{.name = "text", .type = GN_SYN_STR, .required = true}};
static const gn_syn_class_t SLOW_STREAM = {"SlowStream", SLOW_F, 1};
static const gn_syn_class_t STREAMING_DUMMY = {"StreamingDummy", SLOW_F, 1};

static atomic_int slow_ended, slow_words;

typedef struct {
    uv_timer_t t;
    gn_axon_call_t *call;
    char *text, *at;
} slow_t;

static void slow_closed(uv_handle_t *h)
{
    slow_t *s = h->data;
    free(s->text);
    free(s);
    atomic_store(&slow_ended, 1);
}

static void slow_tick(uv_timer_t *t)
{
    slow_t *s = t->data;
    size_t n = strcspn(s->at, " ");
    size_t k = n + (s->at[n] == ' ');
    if (k && gn_axon_call_alive(s->call) && gn_axon_stream_write(s->call, s->at, k) == 0) {
        atomic_fetch_add(&slow_words, 1);
        s->at += k;
        return;
    }
    gn_axon_stream_end(s->call);
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, slow_closed);
}

static void slow_stream(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    slow_t *s = calloc(1, sizeof(*s));
    cr_assert_not_null(s);
    s->call = call;
    s->text = strdup(json_string_value(json_object_get(syn, "text")));
    s->at = s->text;
    cr_assert_eq(gn_axon_stream_start(call, syn), 0);
    json_decref(syn);
    uv_timer_init(gn_axon_call_loop(call), &s->t);
    s->t.data = s;
    uv_timer_start(&s->t, slow_tick, 0, 20);
}

static void attach_slow(gn_axon_t *ax, void *arg)
{
    (void)arg;
    cr_assert_eq(gn_axon_attach_builtins(ax), 0);
    gn_axon_handler_t h = {.cls = &SLOW_STREAM, .fn = slow_stream, .streaming = true};
    cr_assert_eq(gn_axon_attach(ax, &h), 0);
}

static void ax_start_slow(ax_t *f)
{
    /* the axon writes to a client that left: EPIPE, not a signal (a node
     * ignores SIGPIPE as every network server does) */
    signal(SIGPIPE, SIG_IGN);
    gn_test_keypair("//Alice", &alice);
    gn_test_keypair("//Bob", &bob);
    atomic_store(&slow_ended, 0);
    atomic_store(&slow_words, 0);
    gn_axon_opts_t o = {.hotkey = &bob};
    gn_test_axon_start(f, &o, attach_slow, NULL);
}

/* The slow handler's timer lives on the axon's loop: wait for it to end
 * (the client gone, or the text done) before the axon stops. */
static void wait_slow_ended(void)
{
    for (int i = 0; i < 500 && !atomic_load(&slow_ended); i++)
        usleep(10000);
    cr_assert(atomic_load(&slow_ended), "the slow stream's handler ended");
}

/* A listening socket nobody accepts on: connections complete in the
 * backlog, requests are never answered. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    cr_assert_eq(listen(fd, 64), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Targets carry documentation addresses (10.0.0.x, distinct per index, so
 * the order shows in each result's axon.ip); the route sends them all to
 * the loopback port they name. */
static int to_loopback(void *arg, const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
    (void)arg;
    (void)ip;
    return uv_ip4_addr("127.0.0.1", port, (struct sockaddr_in *)ss);
}

/* ---- the probe: sends queries, records what comes back ---- */

static const gn_msg_type_t GO = {0x7d01, "test.go", NULL};
static const gn_msg_type_t GIVE_UP = {0x7d02, "test.give_up", NULL};
static const gn_msg_type_t STOP = {0x7d03, "test.stop", NULL};

enum { P_PLAIN, P_CANCEL, P_METRICS, P_INVALID, P_SHUTDOWN, P_STREAM, P_STREAM_CANCEL };

#define MAX_Q 4

typedef struct {
    int mode;
    gn_loop_t *loop;
    gn_actor_t *den;
    gn_dendrite_actor_t *da;
    gn_metrics_t *metrics;
    gn_dendrite_target_t t[8];
    char ips[8][16];
    size_t n;
    bool partials;
    double timeout_s;
    int queries; /* to send, one after the other */
    /* what came back */
    uint64_t corr[MAX_Q];
    int sent, replies, timeouts;
    int status[MAX_Q];
    json_t *results[MAX_Q];
    gn_dendrite_query_stats_t qs[MAX_Q];
    int n_partials, partial_bad_corr, partials_after_reply;
    bool partial_seen[8];
    json_t *partial[8];
    char *render[MAX_Q];
    char order[64]; /* 'P' per partial, 'C' per chunk, 'R' per reply, as they came */
    size_t n_order;
    /* streams */
    const gn_syn_class_t *stream_cls;
    const char *stream_syn;
    size_t mailbox_cap;  /* the probe's; 0: the default */
    uint64_t request_ms; /* the request's timeout; 0: 60000 */
    char stream[4096];
    size_t stream_len;
    int n_chunks, chunk_bad_seq, chunk_bad_corr, chunks_after_reply;
} probe_t;

static void target(probe_t *p, size_t i, int port)
{
    snprintf(p->ips[i], sizeof(p->ips[i]), "10.0.0.%zu", i + 1);
    p->t[i] = (gn_dendrite_target_t){.ip = p->ips[i], .port = (uint16_t)port, .hotkey = BOB};
}

static void send_query(gn_actor_t *a, probe_t *p, const gn_syn_class_t *cls, const char *syn)
{
    gn_dendrite_query_msg_t *q = gn_dendrite_query_msg_new(
        p->t, p->n, cls, syn ? json_loads(syn, 0, NULL) : NULL, p->timeout_s, p->partials);
    cr_assert_not_null(q);
    gn_msg_t *m = gn_msg_new(&GN_MSG_DENDRITE_QUERY, q);
    cr_assert_not_null(m);
    cr_assert_eq(gn_request(a, p->den, m, 60000, &p->corr[p->sent]), 0);
    p->sent++;
}

static void send_stream(gn_actor_t *a, probe_t *p)
{
    gn_dendrite_query_msg_t *q = gn_dendrite_stream_msg_new(
        &p->t[0], p->stream_cls, json_loads(p->stream_syn, 0, NULL), p->timeout_s);
    cr_assert_not_null(q);
    gn_msg_t *m = gn_msg_new(&GN_MSG_DENDRITE_STREAM, q);
    cr_assert_not_null(m);
    cr_assert_eq(gn_request(a, p->den, m, p->request_ms ? p->request_ms : 60000, &p->corr[p->sent]),
                 0);
    p->sent++;
}

static void note(probe_t *p, char c)
{
    if (p->n_order < sizeof(p->order) - 1)
        p->order[p->n_order++] = c;
}

static int probe_start(gn_actor_t *a)
{
    uint64_t t;
    /* a bound, so a missing answer fails the test instead of hanging it */
    gn_actor_timer(a, 45000, 0, &GIVE_UP, &t);
    return gn_post(a, gn_msg_new(&GO, NULL));
}

static int probe_handle(gn_actor_t *a, gn_msg_t *m)
{
    probe_t *p = gn_actor_state(a);
    if (m->type == &GO) {
        if (p->mode == P_INVALID) {
            send_query(a, p, &DUMMY, "{\"not_the_input\": 1}"); /* a required field missing */
            send_query(a, p, NULL, "{\"dummy_input\": 1}");     /* no class */
            size_t n = p->n;
            p->n = 0;
            send_query(a, p, &DUMMY, "{\"dummy_input\": 1}"); /* no targets: [] at once */
            p->n = n;
            /* a stream goes to one target */
            gn_dendrite_query_msg_t *q = gn_dendrite_query_msg_new(
                p->t, 2, &DUMMY, json_pack("{s:i}", "dummy_input", 1), 5, false);
            cr_assert_not_null(q);
            cr_assert_eq(gn_request(a, p->den, gn_msg_new(&GN_MSG_DENDRITE_STREAM, q), 60000,
                                    &p->corr[p->sent]),
                         0);
            p->sent++;
            return 0;
        }
        if (p->mode == P_STREAM || p->mode == P_STREAM_CANCEL) {
            send_stream(a, p);
            return 0;
        }
        send_query(a, p, &DUMMY, "{\"dummy_input\": 3}");
        if (p->mode == P_SHUTDOWN) { /* stop while the silent targets are waited for */
            uint64_t t;
            gn_actor_timer(a, 300, 0, &STOP, &t);
        }
        return 0;
    }
    if (m->type == &GIVE_UP || m->type == &STOP) {
        gn_loop_stop(p->loop, 1000);
        return 0;
    }
    if (m->type == &GN_MSG_DENDRITE_PARTIAL) {
        gn_dendrite_partial_t *pt = m->payload;
        note(p, 'P');
        p->n_partials++;
        if (pt->corr != p->corr[p->sent - 1] || m->corr != pt->corr)
            p->partial_bad_corr++;
        if (p->replies)
            p->partials_after_reply++;
        if (pt->idx < 8 && !p->partial_seen[pt->idx]) {
            p->partial_seen[pt->idx] = true;
            p->partial[pt->idx] = pt->result; /* kept: taken from the message */
            pt->result = NULL;
        }
        if (p->mode == P_CANCEL && p->n_partials == 1) {
            gn_msg_t *c = gn_dendrite_cancel_msg(a, p->corr[0]);
            cr_assert_not_null(c);
            cr_assert_eq(gn_post(p->den, c), 0);
        }
        return 0;
    }
    if (m->type == &GN_MSG_DENDRITE_CHUNK) {
        gn_dendrite_chunk_t *c = m->payload;
        note(p, 'C');
        if (c->seq != (size_t)p->n_chunks)
            p->chunk_bad_seq++;
        if (c->corr != p->corr[0] || m->corr != c->corr)
            p->chunk_bad_corr++;
        if (p->replies)
            p->chunks_after_reply++;
        p->n_chunks++;
        if (p->stream_len + c->len < sizeof(p->stream)) {
            memcpy(p->stream + p->stream_len, c->data, c->len);
            p->stream_len += c->len;
        }
        if (p->mode == P_STREAM_CANCEL && p->n_chunks == 1) {
            gn_msg_t *cm = gn_dendrite_cancel_msg(a, p->corr[0]);
            cr_assert_not_null(cm);
            cr_assert_eq(gn_post(p->den, cm), 0);
        }
        return 0;
    }
    if (m->type == &GN_MSG_TIMEOUT) {
        p->timeouts++;
        gn_loop_stop(p->loop, 1000);
        return 0;
    }
    if (m->type != &GN_MSG_DENDRITE_RESULT)
        return 0;
    gn_dendrite_result_msg_t *r = m->payload;
    int k = p->replies++;
    note(p, 'R');
    cr_assert_lt(k, MAX_Q);
    cr_assert_eq(m->corr, p->corr[k], "replies in request order here");
    cr_assert_eq(m->status, r->status);
    p->status[k] = r->status;
    p->qs[k] = r->stats;
    p->results[k] = r->results; /* taken over: the payload gives it up */
    r->results = NULL;
    if (p->metrics) {
        size_t len;
        cr_assert_eq(gn_metrics_render(p->metrics, &p->render[k], &len), 0);
    }
    if (p->mode == P_CANCEL) { /* a cancel for a finished query is ignored */
        gn_post(p->den, gn_dendrite_cancel_msg(a, p->corr[0]));
        gn_post(p->den, gn_dendrite_cancel_msg(a, 0));
    }
    if (p->sent < p->queries)
        send_query(a, p, &DUMMY, "{\"dummy_input\": 3}");
    else if (p->replies == p->sent)
        gn_loop_stop(p->loop, 1000);
    return 0;
}

/* Spawn the dendrite actor and the probe on a loop, run it to the end.
 * The caller frees p->da (after any last render) with done(). */
static void run(probe_t *p, gn_dendrite_opts_t o)
{
    gn_test_keypair("//Alice", &alice);
    o.hotkey = &alice;
    o.route = to_loopback;
    cr_assert_eq(gn_loop_new(&p->loop), 0);
    cr_assert_eq(gn_dendrite_actor_spawn(p->loop, &o, &p->da, &p->den), 0);
    if (p->metrics)
        cr_assert_eq(gn_metrics_add_collector(p->metrics, gn_dendrite_metrics_collector, p->da), 0);
    gn_actor_t *probe;
    gn_actor_spec_t spec = {.name = "probe",
                            .handle = probe_handle,
                            .start = probe_start,
                            .mailbox_cap = p->mailbox_cap};
    cr_assert_eq(gn_actor_spawn(p->loop, &spec, p, &probe), 0);
    cr_assert_eq(gn_loop_run(p->loop), 0);
    gn_loop_free(p->loop);
}

static void done(probe_t *p)
{
    gn_dendrite_actor_free(p->da);
    for (int k = 0; k < MAX_Q; k++) {
        json_decref(p->results[k]);
        free(p->render[k]);
    }
    for (int i = 0; i < 8; i++)
        json_decref(p->partial[i]);
}

static json_int_t code_of(const json_t *r)
{
    return json_integer_value(json_object_get(json_object_get(r, "dendrite"), "status_code"));
}

static const char *msg_of(const json_t *r)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(r, "dendrite"), "status_message"));
    return s ? s : "(null)";
}

static const char *axon_ip(const json_t *r)
{
    const char *s = json_string_value(json_object_get(json_object_get(r, "axon"), "ip"));
    return s ? s : "(null)";
}

/* The value of the series line starting with `series ` in a render. */
static double series(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, name, n) && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    return -1;
}

/* ---- tests ---- */

Test(dendrite_actor, a_query_to_eight_targets_is_one_reply_in_target_order, .timeout = 60)
{
    ax_t ax;
    ax_start(&ax);
    static probe_t p;
    memset(&p, 0, sizeof(p));
    p.mode = P_PLAIN;
    p.n = 8;
    p.timeout_s = 10;
    p.queries = 1;
    for (size_t i = 0; i < 8; i++)
        target(&p, i, ax.port);
    run(&p, (gn_dendrite_opts_t){0});
    ax_stop(&ax);
    cr_assert_eq(p.timeouts, 0);
    cr_assert_eq(p.replies, 1);
    cr_assert_eq(p.n_partials, 0, "no partials unless asked");
    cr_assert_eq(p.status[0], 0);
    json_t *rs = p.results[0];
    cr_assert_eq(json_array_size(rs), 8);
    for (size_t i = 0; i < 8; i++) {
        json_t *r = json_array_get(rs, i);
        cr_assert_eq(code_of(r), 200, "%zu: %s", i, msg_of(r));
        cr_assert_str_eq(msg_of(r), "Success");
        cr_assert_str_eq(axon_ip(r), p.ips[i], "target order");
        cr_assert_eq(json_integer_value(json_object_get(r, "dummy_input")), 3);
        cr_assert_eq(json_integer_value(json_object_get(r, "dummy_output")), 6);
    }
    cr_assert_eq(p.qs[0].n, 8);
    cr_assert_eq(p.qs[0].ok, 8);
    cr_assert_eq(p.qs[0].failed + p.qs[0].timeouts + p.qs[0].cancelled, 0);
    cr_assert_gt(p.qs[0].elapsed_s, 0);
    cr_assert_lt(p.qs[0].elapsed_s, 10);
    gn_dendrite_stats_t st;
    gn_dendrite_actor_stats(p.da, &st);
    cr_assert_eq(st.requests, 8);
    cr_assert_eq(st.by_status[200], 8);
    done(&p);
}

Test(dendrite_actor, partial_results_arrive_before_the_final_reply, .timeout = 60)
{
    ax_t ax;
    ax_start(&ax);
    static probe_t p;
    memset(&p, 0, sizeof(p));
    p.mode = P_PLAIN;
    p.n = 8;
    p.timeout_s = 10;
    p.queries = 1;
    p.partials = true;
    for (size_t i = 0; i < 8; i++)
        target(&p, i, ax.port);
    run(&p, (gn_dendrite_opts_t){0});
    ax_stop(&ax);
    cr_assert_eq(p.replies, 1);
    cr_assert_eq(p.n_partials, 8);
    cr_assert_str_eq(p.order, "PPPPPPPPR", "every partial before the reply");
    cr_assert_eq(p.partials_after_reply, 0);
    cr_assert_eq(p.partial_bad_corr, 0, "partials carry the query's correlation id");
    for (size_t i = 0; i < 8; i++) {
        cr_assert(p.partial_seen[i], "a partial for target %zu", i);
        json_t *r = p.partial[i];
        cr_assert_eq(code_of(r), 200, "%zu: %s", i, msg_of(r));
        cr_assert_str_eq(axon_ip(r), p.ips[i], "the partial's index is its target's");
        cr_assert_eq(json_integer_value(json_object_get(r, "dummy_output")), 6);
        cr_assert(json_equal(r, json_array_get(p.results[0], i)), "the final result equals it");
        cr_assert_neq(r, json_array_get(p.results[0], i), "a copy of its own");
    }
    done(&p);
}

Test(dendrite_actor, cancel_finishes_the_unanswered_targets_with_499, .timeout = 60)
{
    ax_t ax;
    ax_start(&ax);
    int silent;
    int fd = silent_listener(&silent);
    static probe_t p;
    memset(&p, 0, sizeof(p));
    p.mode = P_CANCEL;
    p.n = 8;
    p.timeout_s = 30;
    p.queries = 1;
    p.partials = true;
    target(&p, 0, ax.port);
    for (size_t i = 1; i < 8; i++)
        target(&p, i, silent);
    run(&p, (gn_dendrite_opts_t){0});
    ax_stop(&ax);
    close(fd);
    cr_assert_eq(p.timeouts, 0);
    cr_assert_eq(p.replies, 1);
    cr_assert_eq(p.status[0], 0);
    json_t *rs = p.results[0];
    cr_assert_eq(json_array_size(rs), 8);
    cr_assert_eq(code_of(json_array_get(rs, 0)), 200, "%s", msg_of(json_array_get(rs, 0)));
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(rs, 0), "dummy_output")), 6);
    for (size_t i = 1; i < 8; i++) {
        json_t *r = json_array_get(rs, i);
        cr_assert_eq(code_of(r), 499, "%zu: %s", i, msg_of(r));
        cr_assert_str_eq(msg_of(r), "Request cancelled");
        cr_assert_str_eq(axon_ip(r), p.ips[i]);
    }
    cr_assert_eq(p.qs[0].ok, 1);
    cr_assert_eq(p.qs[0].cancelled, 7);
    cr_assert_lt(p.qs[0].elapsed_s, 10, "long before the 30 s deadline");
    cr_assert_eq(p.n_partials, 8, "the cancelled results came as partials too");
    cr_assert_eq(p.order[p.n_order - 1], 'R');
    done(&p);
}

Test(dendrite_actor, metrics_count_requests_by_status_and_connection_reuse, .timeout = 60)
{
    ax_t ax;
    ax_start(&ax);
    static probe_t p;
    memset(&p, 0, sizeof(p));
    p.mode = P_METRICS;
    p.n = 8;
    p.timeout_s = 10;
    p.queries = 2;
    for (size_t i = 0; i < 8; i++) { /* one target address: one pool */
        target(&p, i, ax.port);
        snprintf(p.ips[i], sizeof(p.ips[i]), "10.0.0.1");
    }
    cr_assert_eq(gn_metrics_new(&p.metrics), 0);
    run(&p, (gn_dendrite_opts_t){0});
    ax_stop(&ax);
    cr_assert_eq(p.replies, 2);
    cr_assert_eq(p.qs[0].ok + p.qs[1].ok, 16);
    const char *r1 = p.render[0], *r2 = p.render[1];
    cr_assert_not_null(r1);
    cr_assert_not_null(r2);
    cr_assert(strstr(r1, "# TYPE ganglion_dendrite_requests_total counter"), "%s", r1);
    cr_assert_eq(series(r1, "ganglion_dendrite_requests_total{status=\"200\"}"), 8, "%s", r1);
    cr_assert_eq(series(r2, "ganglion_dendrite_requests_total{status=\"200\"}"), 16, "%s", r2);
    cr_assert_null(strstr(r2, "status=\"408\""), "only statuses seen");
    double opened = series(r2, "ganglion_dendrite_connections_total{kind=\"opened\"}");
    double reused = series(r2, "ganglion_dendrite_connections_total{kind=\"reused\"}");
    cr_assert_eq(series(r1, "ganglion_dendrite_connections_total{kind=\"reused\"}"), 0, "%s", r1);
    cr_assert_gt(reused, 0, "the second query reuses the pool: %s", r2);
    cr_assert_geq(opened, 1);
    cr_assert_leq(opened, 8, "at most max_per_axon connections");
    cr_assert_eq(opened + reused, 16);
    cr_assert_geq(series(r2, "ganglion_dendrite_connections_total{kind=\"closed_idle\"}"), 0);
    double ratio = series(r2, "ganglion_dendrite_connection_reuse_ratio");
    cr_assert_float_eq(ratio, reused / 16, 1e-9, "%s", r2);
    /* the histogram: the dendrite's buckets, counts and sum */
    cr_assert(strstr(r2, "# TYPE ganglion_dendrite_latency_seconds histogram"), "%s", r2);
    cr_assert_eq(series(r1, "ganglion_dendrite_latency_seconds_count"), 8);
    cr_assert_eq(series(r2, "ganglion_dendrite_latency_seconds_count"), 16);
    cr_assert_eq(series(r2, "ganglion_dendrite_latency_seconds_bucket{le=\"+Inf\"}"), 16, "%s", r2);
    gn_dendrite_stats_t st;
    gn_dendrite_actor_stats(p.da, &st);
    uint64_t below_1s = 0;
    for (int i = 0; i < GN_DENDRITE_LAT_BUCKETS && GN_DENDRITE_LAT_BOUNDS[i] <= 1; i++)
        below_1s += st.latency[i];
    cr_assert_eq(series(r2, "ganglion_dendrite_latency_seconds_bucket{le=\"1\"}"), (double)below_1s,
                 "%s", r2);
    double sum = series(r2, "ganglion_dendrite_latency_seconds_sum");
    cr_assert_float_eq(sum, st.latency_sum, 1e-6, "the sum mirrored: %g vs %g", sum,
                       st.latency_sum);
    cr_assert_gt(sum, 0);
    /* after the actor stopped: the same counts (a render of the final stats) */
    char *r3;
    size_t len;
    cr_assert_eq(gn_metrics_render(p.metrics, &r3, &len), 0);
    cr_assert_eq(series(r3, "ganglion_dendrite_requests_total{status=\"200\"}"), 16, "%s", r3);
    cr_assert_eq(series(r3, "ganglion_dendrite_latency_seconds_count"), 16, "not observed twice");
    free(r3);
    done(&p);
    gn_metrics_free(p.metrics);
}

Test(dendrite_actor, invalid_queries_are_answered_with_their_error, .timeout = 30)
{
    static probe_t p;
    memset(&p, 0, sizeof(p));
    p.mode = P_INVALID;
    p.n = 2;
    p.timeout_s = 5;
    p.queries = 4;
    target(&p, 0, 9); /* never contacted */
    target(&p, 1, 9);
    run(&p, (gn_dendrite_opts_t){0});
    cr_assert_eq(p.replies, 4);
    cr_assert_eq(p.status[0], GN_EINVAL, "not a valid Dummy");
    cr_assert_null(p.results[0]);
    cr_assert_eq(p.qs[0].n, 2);
    cr_assert_eq(p.status[1], GN_EINVAL, "no class");
    cr_assert_null(p.results[1]);
    cr_assert_eq(p.status[2], 0, "no targets");
    cr_assert(json_is_array(p.results[2]));
    cr_assert_eq(json_array_size(p.results[2]), 0);
    cr_assert_eq(p.status[3], GN_EINVAL, "a stream of two targets");
    cr_assert_null(p.results[3]);
    cr_assert_null(gn_dendrite_stream_msg_new(NULL, &DUMMY, json_object(), 5), "no target");
    gn_dendrite_stats_t st;
    gn_dendrite_actor_stats(p.da, &st);
    cr_assert_eq(st.requests, 0, "nothing was sent");
    done(&p);
}

Test(dendrite_actor, stopping_with_queries_in_flight_frees_everything, .timeout = 30)
{
    int silent;
    int fd = silent_listener(&silent);
    static probe_t p;
    memset(&p, 0, sizeof(p));
    p.mode = P_SHUTDOWN;
    p.n = 8;
    p.timeout_s = 20;
    p.queries = 1;
    p.partials = true;
    for (size_t i = 0; i < 8; i++)
        target(&p, i, silent);
    run(&p, (gn_dendrite_opts_t){.max_per_axon = 4}); /* four on the wire, four waiting */
    close(fd);
    /* the stop cancelled the query; its partials and reply went to a probe
     * already stopped, and were destroyed (ASan: no leak) */
    gn_dendrite_stats_t st;
    gn_dendrite_actor_stats(p.da, &st);
    cr_assert_eq(st.requests, 8);
    cr_assert_eq(st.by_status[GN_DENDRITE_CANCELLED], 8);
    cr_assert_eq(st.in_flight + st.waiting, 0);
    done(&p);
}

Test(dendrite_actor, payloads_are_freed_by_their_types, .timeout = 10)
{
    gn_test_keypair("//Alice", &alice);
    gn_dendrite_target_t t[2] = {{"10.0.0.1", 8091, BOB}, {"2001:db8::1", 8092, BOB}};
    gn_dendrite_query_msg_t *q =
        gn_dendrite_query_msg_new(t, 2, &DUMMY, json_pack("{s:i}", "dummy_input", 1), 5, true);
    cr_assert_not_null(q);
    cr_assert_str_eq(q->targets[1].ip, "2001:db8::1");
    cr_assert_neq(q->targets[1].ip, t[1].ip, "copied");
    cr_assert_eq(q->targets[1].port, 8092);
    gn_msg_free(gn_msg_new(&GN_MSG_DENDRITE_QUERY, q));
    gn_dendrite_target_t bad = {NULL, 1, BOB};
    cr_assert_null(gn_dendrite_query_msg_new(&bad, 1, &DUMMY, json_object(), 5, false),
                   "the synapse is freed too");
    gn_dendrite_result_msg_t *r = calloc(1, sizeof(*r));
    r->results = json_pack("[{}]");
    gn_msg_free(gn_msg_new(&GN_MSG_DENDRITE_RESULT, r));
    gn_dendrite_partial_t *pt = calloc(1, sizeof(*pt));
    pt->result = json_object();
    gn_msg_free(gn_msg_new(&GN_MSG_DENDRITE_PARTIAL, pt));
    gn_msg_free(gn_dendrite_cancel_msg(NULL, 7));
    /* messages never handled: a loop freed without running */
    gn_loop_t *l;
    cr_assert_eq(gn_loop_new(&l), 0);
    gn_dendrite_actor_t *da;
    gn_actor_t *den;
    cr_assert_eq(gn_dendrite_actor_spawn(l, &(gn_dendrite_opts_t){0}, &da, &den), GN_EINVAL,
                 "a hotkey is required");
    cr_assert_eq(gn_dendrite_actor_spawn(l, &(gn_dendrite_opts_t){.hotkey = &alice}, &da, &den), 0);
    q = gn_dendrite_query_msg_new(t, 2, &DUMMY, json_pack("{s:i}", "dummy_input", 1), 5, false);
    cr_assert_eq(gn_post(den, gn_msg_new(&GN_MSG_DENDRITE_QUERY, q)), 0);
    gn_loop_free(l);
    gn_dendrite_actor_free(da);
}

/* ---- streams ---- */

static void stream_probe(probe_t *p, int mode, int port, const gn_syn_class_t *cls, const char *syn,
                         double timeout_s)
{
    memset(p, 0, sizeof(*p));
    p->mode = mode;
    p->n = 1;
    p->timeout_s = timeout_s;
    p->queries = 1;
    p->stream_cls = cls;
    p->stream_syn = syn;
    target(p, 0, port);
}

Test(dendrite_actor, a_stream_arrives_as_chunks_in_order_then_the_final_synapse, .timeout = 60)
{
    ax_t ax;
    ax_start(&ax);
    static probe_t p;
    stream_probe(&p, P_STREAM, ax.port, &STREAMING_DUMMY,
                 "{\"text\": \"the quick brown fox jumps over the lazy dog\"}", 10);
    run(&p, (gn_dendrite_opts_t){0});
    ax_stop(&ax);
    cr_assert_eq(p.timeouts, 0);
    cr_assert_eq(p.replies, 1);
    cr_assert_eq(p.status[0], 0);
    p.stream[p.stream_len] = 0;
    cr_assert_str_eq(p.stream, "the quick brown fox jumps over the lazy dog",
                     "the chunks in order");
    cr_assert_geq(p.n_chunks, 1);
    cr_assert_eq(p.chunk_bad_seq, 0, "seq 0, 1, 2...");
    cr_assert_eq(p.chunk_bad_corr, 0, "chunks carry the stream's correlation id");
    cr_assert_eq(p.chunks_after_reply, 0);
    cr_assert_eq(p.order[p.n_order - 1], 'R', "the reply last: %s", p.order);
    cr_assert_eq(p.n_order, (size_t)p.n_chunks + 1);
    json_t *rs = p.results[0];
    cr_assert_eq(json_array_size(rs), 1);
    json_t *r = json_array_get(rs, 0);
    cr_assert_eq(code_of(r), 200, "%s", msg_of(r));
    cr_assert_str_eq(msg_of(r), "Success");
    cr_assert_str_eq(axon_ip(r), p.ips[0]);
    cr_assert_str_eq(json_string_value(json_object_get(r, "text")),
                     "the quick brown fox jumps over the lazy dog");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "axon"), "status_code")),
                 200, "the axon's headers merged");
    cr_assert_eq(p.qs[0].n, 1);
    cr_assert_eq(p.qs[0].ok, 1);
    cr_assert_eq(p.qs[0].chunks, (size_t)p.n_chunks);
    cr_assert_eq(p.qs[0].chunks_dropped, 0);
    done(&p);
}

Test(dendrite_actor, a_stream_refused_before_the_body_has_no_chunks_and_its_status, .timeout = 60)
{
    ax_t ax;
    ax_start(&ax);
    static probe_t p;
    /* SlowStream is not attached to this axon: 404 */
    stream_probe(&p, P_STREAM, ax.port, &SLOW_STREAM, "{\"text\": \"a b\"}", 10);
    run(&p, (gn_dendrite_opts_t){0});
    ax_stop(&ax);
    cr_assert_eq(p.replies, 1);
    cr_assert_eq(p.n_chunks, 0);
    json_t *r = json_array_get(p.results[0], 0);
    cr_assert_eq(code_of(r), 404, "%s", msg_of(r));
    cr_assert_eq(p.qs[0].failed, 1);
    cr_assert_eq(p.qs[0].chunks, 0);
    done(&p);
}

Test(dendrite_actor, cancel_mid_stream_is_499_and_frees_everything, .timeout = 60)
{
    ax_t ax;
    ax_start_slow(&ax);
    static probe_t p;
    char syn[1200] = "{\"text\": \"";
    for (int i = 0; i < 100; i++) /* 100 words, 2 s at one per 20 ms */
        strcat(syn, "word ");
    strcat(syn, "end\"}");
    stream_probe(&p, P_STREAM_CANCEL, ax.port, &SLOW_STREAM, syn, 30);
    run(&p, (gn_dendrite_opts_t){0});
    wait_slow_ended();
    ax_stop(&ax);
    cr_assert_eq(p.timeouts, 0);
    cr_assert_eq(p.replies, 1);
    cr_assert_geq(p.n_chunks, 1);
    cr_assert_lt(atomic_load(&slow_words), 101, "the axon saw the client go before the end");
    cr_assert_eq(p.chunk_bad_seq, 0);
    cr_assert_eq(p.order[p.n_order - 1], 'R', "%s", p.order);
    cr_assert(!strncmp(p.stream, "word ", 5), "the first chunk: %.*s", (int)p.stream_len, p.stream);
    json_t *r = json_array_get(p.results[0], 0);
    cr_assert_eq(code_of(r), 499, "%s", msg_of(r));
    cr_assert_str_eq(msg_of(r), "Request cancelled");
    cr_assert_eq(p.qs[0].cancelled, 1);
    cr_assert_eq(p.qs[0].chunks, (size_t)p.n_chunks);
    cr_assert_eq(p.qs[0].chunks_dropped, 0);
    cr_assert_lt(p.qs[0].elapsed_s, 1.5, "long before the stream's end (2 s) or deadline (30 s)");
    gn_dendrite_stats_t st;
    gn_dendrite_actor_stats(p.da, &st);
    cr_assert_eq(st.by_status[GN_DENDRITE_CANCELLED], 1);
    cr_assert_eq(st.in_flight + st.idle_conns, 0, "the stream's connection closed, not pooled");
    done(&p);
}

Test(dendrite_actor, a_requester_that_cannot_take_a_chunk_ends_the_stream, .timeout = 60)
{
    ax_t ax;
    ax_start(&ax);
    static probe_t p;
    char syn[1200] = "{\"text\": \"";
    for (int i = 0; i < 100; i++) /* StreamingDummy writes them all at once */
        strcat(syn, "w ");
    strcat(syn, "end\"}");
    stream_probe(&p, P_STREAM, ax.port, &STREAMING_DUMMY, syn, 10);
    p.mailbox_cap = 4;   /* more chunks arrive in one read than the probe can queue */
    p.request_ms = 1500; /* the reply is refused too: the request times out */
    run(&p, (gn_dendrite_opts_t){0});
    ax_stop(&ax);
    cr_assert_lt(p.n_chunks, 101, "not the whole stream (%d chunks)", p.n_chunks);
    cr_assert_eq(p.chunk_bad_seq, 0, "no hole in what came");
    gn_dendrite_stats_t st;
    gn_dendrite_actor_stats(p.da, &st);
    cr_assert_eq(st.requests, 1);
    cr_assert_eq(st.by_status[GN_DENDRITE_CANCELLED], 1, "the stream was cancelled");
    cr_assert_eq(st.by_status[200], 0);
    cr_assert(p.timeouts == 1 || p.replies == 1);
    if (p.replies) {
        cr_assert_eq(p.qs[0].chunks_dropped, 1);
        cr_assert_eq(code_of(json_array_get(p.results[0], 0)), 499);
    }
    done(&p);
}
