/* bench/dendrite: one Dummy synapse to N targets (1024) on loopback, each
 * target a port of bench/dendrite_responder, which answers every request
 * DELAY ms (50) after reading it. Beside it, in the same run (through
 * bench/dendrite.sh, make bench-dendrite): the Python SDK's way
 * (bench/peer/dendrite.py: aiohttp, asyncio.gather) and the floor below.
 *
 *   dendrite --ports FILE --mode ganglion|raw|sign [--concurrency C] [--rounds R]
 *            [--delay-ms D] [--timeout S] [--inputs OUT.json]
 *            [--sign-threads T] [--witness-pool W] [--name WHO]
 *
 * ganglion  gn_dendrite_query of {"dummy_input": 3} to every target, as a
 *           validator does: each request built from the query's template and
 *           signed with sr25519 (//Alice) by the dendrite (T thread-pool jobs
 *           at once, -1: on the loop thread; W witnesses made ahead, -1:
 *           none); at most C on the wire (0: every target at once); every
 *           result must be a 200
 * raw       the floor: the same number of requests, one pre-built request
 *           text (no signing, no JSON) written on one connection per target,
 *           responses read by Content-Length and dropped: the link and the
 *           responder alone
 * sign      the signing floors, no network: N signed messages (as the
 *           dendrite signs them) made whole or with witnesses made ahead, on
 *           1 and 2 threads; prints one line
 *             sign N WHOLE1_MS WHOLE2_MS WIT1_MS WIT2_MS WHOLE_CPU WIT_CPU MAKE_CPU
 *           (wall ms to sign all N; CPU s per 1000 signatures whole, with a
 *           witness (the signing path only), and making a witness)
 *
 * One process per row, so its peak RSS is its own. Round 1 is cold (every
 * connection new), then R warm rounds on the kept-alive connections. It
 * prints one line:
 *   row WHO N COLD_MS WARM_MEDIAN_MS WARM_BEST_MS WARM_WORST_MS
 *       CPU_COLD CPU_WARM HWM_KIB BASE_KIB SIGN
 * where *_MS is the round's wall time minus DELAY (the fan-out overhead),
 * CPU_* the process's CPU seconds (getrusage user + system) per 1000
 * requests, HWM the peak resident set (VmHWM) and BASE the resident set
 * before the first round (VmRSS), SIGN what the sr25519 signatures alone
 * cost, CPU seconds per 1000 (measured apart; part of CPU_*; the Python
 * peer does not sign). --inputs writes the targets (ip, port, hotkey:
 * distinct made-up keys) for the Python peer; details to stderr. */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <uv.h>

#include "bench.h"
#include "ganglion/dendrite.h"
#include "ganglion/error.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
#include "ganglion/suri.h"
#include "ganglion/synapse.h"

static const gn_syn_field_t DUMMY_F[] = {
    {.name = "dummy_input", .type = GN_SYN_INT, .required = true},
    {.name = "dummy_output", .type = GN_SYN_INT, .nullable = true},
};
static const gn_syn_class_t DUMMY = {"Dummy", DUMMY_F, 2};

#define MAX_ROUNDS 1000

static uv_loop_t loop;
static const char *own_ss58;
static double call_ms[MAX_ROUNDS]; /* time inside gn_dendrite_query per round */
static double first_ms[MAX_ROUNDS], last_ms[MAX_ROUNDS]; /* first and last result, from the call */
static size_t n_calls;
static size_t n_targets;
static uint16_t *ports;
static char (*hotkeys)[64];

/* A field of /proc/self/status in KiB (VmHWM, VmRSS). */
static long proc_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
    return v;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- ganglion ---- */

typedef struct {
    bool done;
    double t0, t_first, t_last;
    double t_done;
    size_t ok, bad;
    char first_bad[256];
} round_t;

static void on_done(json_t *results, void *arg)
{
    round_t *r = arg;
    r->t_done = gn_bench_now();
    r->done = true;
    size_t i;
    json_t *s;
    json_array_foreach (results, i, s) {
        json_t *den = json_object_get(s, "dendrite");
        if (json_integer_value(json_object_get(den, "status_code")) == 200 &&
            json_integer_value(json_object_get(s, "dummy_output")) == 6) {
            r->ok++;
        } else if (r->bad++ == 0) {
            snprintf(r->first_bad, sizeof(r->first_bad), "target %zu: %lld %s", i,
                     (long long)json_integer_value(json_object_get(den, "status_code")),
                     json_string_value(json_object_get(den, "status_message")));
        }
    }
}

static void on_result(size_t idx, json_t *res, void *arg)
{
    round_t *r = arg;
    (void)idx;
    (void)res;
    r->t_last = gn_bench_now();
    if (!r->t_first)
        r->t_first = r->t_last;
}

static double ganglion_round(gn_dendrite_t *d, const gn_dendrite_target_t *t, const json_t *syn,
                             double timeout)
{
    round_t r = {0};
    double t0 = gn_bench_now();
    int rc = gn_dendrite_query(d, t, n_targets, &DUMMY, syn, timeout, on_result, on_done, &r, NULL);
    call_ms[n_calls % MAX_ROUNDS] = (gn_bench_now() - t0) * 1e3;
    if (rc < 0) {
        fprintf(stderr, "dendrite: gn_dendrite_query: %s\n", gn_strerror(rc));
        exit(1);
    }
    while (!r.done)
        uv_run(&loop, UV_RUN_ONCE);
    first_ms[n_calls % MAX_ROUNDS] = (r.t_first - t0) * 1e3;
    last_ms[n_calls % MAX_ROUNDS] = (r.t_last - t0) * 1e3;
    n_calls++;
    if (r.bad) {
        fprintf(stderr, "dendrite: %zu of %zu not answered 200 (%s)\n", r.bad, n_targets,
                r.first_bad);
        exit(1);
    }
    return r.t_done - t0;
}

static void closed(void *arg)
{
    *(bool *)arg = true;
}

/* What signing N requests costs (the dendrite signs each; the Python
 * peer does not): CPU seconds per 1000 signatures of a real signed message. */
static double sign_cost(const gn_sr25519_keypair_t *kp)
{
    char msg[512];
    int len = gn_synapse_message(
        1795314841600398666ull, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", hotkeys[0],
        "016f1df3-0033-41a7-becb-0b5da52815d6",
        "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", msg, sizeof(msg));
    uint8_t rnd[32] = {1}, sig[64];
    double best = 1e30;
    for (int r = 0; r < 3; r++) { /* the least of 3 */
        double c0 = gn_bench_cpu();
        for (size_t i = 0; i < n_targets; i++) {
            rnd[0] = (uint8_t)i;
            gn_sr25519_sign(kp, (const uint8_t *)msg, (size_t)len, rnd, sig);
        }
        double c = gn_bench_cpu() - c0;
        best = c < best ? c : best;
    }
    return best / (double)n_targets * 1000.0;
}

/* ---- sign: the signing floors ---- */

typedef struct {
    const gn_sr25519_keypair_t *kp;
    gn_sr25519_witness_t *wit; /* NULL: whole signatures */
    size_t first, n;
} sign_part_t;

static void sign_part(void *arg)
{
    sign_part_t *p = arg;
    char msg[512];
    uint8_t rnd[32], sig[64];
    for (size_t i = p->first; i < p->first + p->n; i++) {
        int len = gn_synapse_message(
            1795314841600398666ull + i, own_ss58, hotkeys[i],
            "016f1df3-0033-41a7-becb-0b5da52815d6",
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", msg, sizeof(msg));
        if (p->wit) {
            gn_sr25519_sign_witness(p->kp, (const uint8_t *)msg, (size_t)len, &p->wit[i], sig);
        } else {
            randombytes_buf(rnd, sizeof(rnd));
            gn_sr25519_sign(p->kp, (const uint8_t *)msg, (size_t)len, rnd, sig);
        }
    }
}

/* Wall seconds to sign every target's message on `threads` threads. */
static double sign_all(const gn_sr25519_keypair_t *kp, gn_sr25519_witness_t *wit, int threads)
{
    sign_part_t parts[2];
    uv_thread_t th[2];
    double t0 = gn_bench_now();
    for (int k = 0; k < threads; k++) {
        size_t per = n_targets / (size_t)threads;
        parts[k] = (sign_part_t){kp, wit, per * (size_t)k,
                                 k == threads - 1 ? n_targets - per * (size_t)k : per};
        if (k)
            uv_thread_create(&th[k], sign_part, &parts[k]);
    }
    sign_part(&parts[0]);
    for (int k = 1; k < threads; k++)
        uv_thread_join(&th[k]);
    return gn_bench_now() - t0;
}

static void make_witnesses(const gn_sr25519_keypair_t *kp, gn_sr25519_witness_t *wit)
{
    uint8_t rnd[32];
    for (size_t i = 0; i < n_targets; i++) {
        randombytes_buf(rnd, sizeof(rnd));
        gn_sr25519_witness(kp, rnd, &wit[i]);
    }
}

static double least(double a, double b)
{
    return a < b ? a : b;
}

static void sign_floors(const gn_sr25519_keypair_t *kp)
{
    gn_sr25519_witness_t *wit = sodium_malloc(n_targets * sizeof(*wit));
    if (!wit)
        exit(1);
    double w1 = 1e30, w2 = 1e30, x1 = 1e30, x2 = 1e30, cw = 1e30, cx = 1e30, cm = 1e30;
    for (int rep = 0; rep < 3; rep++) { /* the least of 3 */
        double c0 = gn_bench_cpu();
        w1 = least(w1, sign_all(kp, NULL, 1));
        cw = least(cw, gn_bench_cpu() - c0);
        w2 = least(w2, sign_all(kp, NULL, 2));
        c0 = gn_bench_cpu();
        make_witnesses(kp, wit);
        cm = least(cm, gn_bench_cpu() - c0);
        c0 = gn_bench_cpu();
        x1 = least(x1, sign_all(kp, wit, 1));
        cx = least(cx, gn_bench_cpu() - c0);
        make_witnesses(kp, wit);
        x2 = least(x2, sign_all(kp, wit, 2));
    }
    sodium_free(wit);
    double per = 1000.0 / (double)n_targets;
    printf("sign %zu %.3f %.3f %.3f %.3f %.5f %.5f %.5f\n", n_targets, w1 * 1e3, w2 * 1e3, x1 * 1e3,
           x2 * 1e3, cw * per, cx * per, cm * per);
}

/* ---- raw: the floor ---- */

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t cr;
    uv_write_t wr;
    char buf[16384];
    size_t len;
    bool connected;
} rconn_t;

static rconn_t *rconns;
static size_t raw_left;
static double raw_t_done;
static char raw_req[4096];
static size_t raw_req_len;

static void raw_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    rconn_t *c = h->data;
    (void)sz;
    *b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void raw_fail(const char *what, int rc)
{
    fprintf(stderr, "dendrite: raw: %s: %s\n", what, uv_strerror(rc));
    exit(1);
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    rconn_t *c = s->data;
    (void)b;
    if (n < 0)
        raw_fail("read", (int)n);
    c->len += (size_t)n;
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return;
    size_t head = (size_t)(end - c->buf) + 4, body = 0;
    for (char *p = c->buf; p < end; p++)
        if ((p == c->buf || p[-1] == '\n') && !strncasecmp(p, "content-length:", 15)) {
            body = strtoul(p + 15, NULL, 10);
            break;
        }
    if (c->len < head + body)
        return;
    if (strncmp(c->buf, "HTTP/1.1 200 ", 13) != 0) {
        fprintf(stderr, "dendrite: raw: not a 200\n");
        exit(1);
    }
    c->len = 0;
    if (--raw_left == 0)
        raw_t_done = gn_bench_now();
}

static void raw_written(uv_write_t *w, int status)
{
    (void)w;
    if (status < 0)
        raw_fail("write", status);
}

static void raw_send(rconn_t *c)
{
    uv_buf_t b = uv_buf_init(raw_req, (unsigned)raw_req_len);
    int rc = uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, raw_written);
    if (rc < 0)
        raw_fail("write", rc);
}

static void raw_connected(uv_connect_t *cr, int status)
{
    rconn_t *c = cr->data;
    if (status < 0)
        raw_fail("connect", status);
    c->connected = true;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, raw_alloc, raw_read);
    raw_send(c);
}

static double raw_round(void)
{
    raw_left = n_targets;
    double t0 = gn_bench_now();
    for (size_t i = 0; i < n_targets; i++) {
        rconn_t *c = &rconns[i];
        if (c->connected) {
            raw_send(c);
            continue;
        }
        struct sockaddr_in a;
        uv_ip4_addr("127.0.0.1", ports[i], &a);
        uv_tcp_init(&loop, &c->tcp);
        c->tcp.data = c->cr.data = c;
        int rc = uv_tcp_connect(&c->cr, &c->tcp, (const struct sockaddr *)&a, raw_connected);
        if (rc < 0)
            raw_fail("connect", rc);
    }
    while (raw_left)
        uv_run(&loop, UV_RUN_ONCE);
    return raw_t_done - t0;
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr, "usage: dendrite --ports FILE --mode ganglion|raw|sign [--concurrency C] "
                    "[--rounds R] [--delay-ms D] [--timeout S] [--inputs OUT.json] "
                    "[--sign-threads T] [--witness-pool W] [--name WHO]\n");
    exit(2);
}

static void read_ports(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "dendrite: cannot read %s\n", path);
        exit(1);
    }
    size_t cap = 1024;
    ports = malloc(cap * sizeof(*ports));
    int p;
    while (ports && fscanf(f, "%d", &p) == 1) {
        if (n_targets == cap)
            ports = realloc(ports, (cap *= 2) * sizeof(*ports));
        if (ports)
            ports[n_targets++] = (uint16_t)p;
    }
    fclose(f);
    if (!ports || !n_targets) {
        fprintf(stderr, "dendrite: no ports in %s\n", path);
        exit(1);
    }
}

/* Distinct made-up axon hotkeys: SS58 of BLAKE2b-256("axon" i). */
static void make_hotkeys(void)
{
    hotkeys = calloc(n_targets, sizeof(*hotkeys));
    for (size_t i = 0; hotkeys && i < n_targets; i++) {
        char seed[32];
        uint8_t pub[32];
        int k = snprintf(seed, sizeof(seed), "axon %zu", i);
        crypto_generichash(pub, 32, (const uint8_t *)seed, (size_t)k, NULL, 0);
        gn_ss58_encode(pub, 32, 42, hotkeys[i], sizeof(hotkeys[i]));
    }
    if (!hotkeys)
        exit(1);
}

static void write_inputs(const char *path, const char *own_hotkey, double delay_ms, double timeout)
{
    json_t *t = json_array();
    for (size_t i = 0; i < n_targets; i++)
        json_array_append_new(t, json_pack("{s:s,s:i,s:s}", "ip", "127.0.0.1", "port", ports[i],
                                           "hotkey", hotkeys[i]));
    json_t *in = json_pack("{s:f,s:f,s:s,s:o}", "delay_ms", delay_ms, "timeout", timeout,
                           "dendrite_hotkey", own_hotkey, "targets", t);
    if (!in || json_dump_file(in, path, JSON_COMPACT) != 0) {
        fprintf(stderr, "dendrite: cannot write %s\n", path);
        exit(1);
    }
    json_decref(in);
}

int main(int argc, char **argv)
{
    const char *ports_path = NULL, *mode = NULL, *inputs = NULL, *name = NULL;
    unsigned conc = 0;
    int sign_threads = 0, witness_pool = 0;
    int rounds = 10;
    double delay_ms = 50, timeout = 12;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--ports"))
            ports_path = argv[++i];
        else if (!strcmp(argv[i], "--mode"))
            mode = argv[++i];
        else if (!strcmp(argv[i], "--concurrency"))
            conc = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--delay-ms"))
            delay_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--timeout"))
            timeout = atof(argv[++i]);
        else if (!strcmp(argv[i], "--inputs"))
            inputs = argv[++i];
        else if (!strcmp(argv[i], "--sign-threads"))
            sign_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--witness-pool"))
            witness_pool = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--name"))
            name = argv[++i];
        else
            usage();
    }
    if (!ports_path || !mode || rounds < 1 || rounds >= MAX_ROUNDS ||
        (strcmp(mode, "ganglion") && strcmp(mode, "raw") && strcmp(mode, "sign")))
        usage();
    if (sodium_init() < 0)
        return 1;
    read_ports(ports_path);
    make_hotkeys();
    uv_loop_init(&loop);

    gn_sr25519_keypair_t kp;
    uint8_t zero[32] = {0};
    if (gn_suri_keypair("//Alice", 7, zero, &kp, NULL, NULL) < 0)
        return 1;
    char own[64];
    gn_ss58_encode(kp.pub, 32, 42, own, sizeof(own));
    own_ss58 = own;
    if (inputs)
        write_inputs(inputs, own, delay_ms, timeout);
    if (!strcmp(mode, "sign")) {
        sign_floors(&kp);
        return 0;
    }

    bool raw = !strcmp(mode, "raw");
    char who[32];
    snprintf(who, sizeof(who), "%s", raw ? "raw-floor" : "ganglion");
    double sign = 0;
    gn_dendrite_t *d = NULL;
    gn_dendrite_target_t *t = NULL;
    json_t *syn = json_pack("{s:i}", "dummy_input", 3);
    if (raw) {
        rconns = calloc(n_targets, sizeof(*rconns));
        raw_req_len = (size_t)snprintf(
            raw_req, sizeof(raw_req),
            "POST /Dummy HTTP/1.1\r\nHost: 127.0.0.1:8091\r\nname: Dummy\r\ntimeout: 12.0\r\n"
            "bt_header_axon_ip: 127.0.0.1\r\nbt_header_axon_port: 8091\r\n"
            "bt_header_axon_hotkey: %s\r\nbt_header_dendrite_version: 10002000\r\n"
            "bt_header_dendrite_nonce: 1795314841600398666\r\n"
            "bt_header_dendrite_uuid: 016f1df3-0033-41a7-becb-0b5da52815d6\r\n"
            "bt_header_dendrite_hotkey: %s\r\nbt_header_dendrite_signature: 0x%0128d\r\n"
            "bt_header_input_obj_dummy_input: MA==\r\nheader_size: 584\r\ntotal_size: 732\r\n"
            "computed_body_hash: "
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a\r\n"
            "Accept: */*\r\nUser-Agent: ganglion\r\nContent-Type: application/json\r\n"
            "Content-Length: 789\r\n\r\n%0789d",
            hotkeys[0], own, 0, 0);
        if (!rconns)
            return 1;
    } else {
        t = calloc(n_targets, sizeof(*t));
        if (!t)
            return 1;
        for (size_t i = 0; i < n_targets; i++)
            t[i] = (gn_dendrite_target_t){"127.0.0.1", ports[i], hotkeys[i]};
        gn_dendrite_opts_t o = {.hotkey = &kp,
                                .max_concurrency = conc ? conc : (unsigned)n_targets,
                                .max_per_axon = 8,
                                .sign_threads = sign_threads,
                                .witness_pool = witness_pool};
        int rc = gn_dendrite_new(&loop, &o, &d);
        if (rc < 0) {
            fprintf(stderr, "dendrite: gn_dendrite_new: %s\n", gn_strerror(rc));
            return 1;
        }
        if (conc)
            snprintf(who, sizeof(who), "ganglion-c%u", conc);
        if (name)
            snprintf(who, sizeof(who), "%s", name);
        sign = sign_cost(&kp);
        /* the witnesses the dendrite makes at start, as a running validator has them */
        for (int i = 0; i < 400 && witness_pool >= 0; i++) {
            gn_dendrite_stats_t st;
            gn_dendrite_stats(d, &st);
            if (st.witnesses >= (witness_pool ? (unsigned)witness_pool : 1024u))
                break;
            uv_run(&loop, UV_RUN_NOWAIT);
            uv_sleep(5);
        }
    }

    long base = proc_kib("VmRSS");
    double c0 = gn_bench_cpu();
    double cold = (raw ? raw_round() : ganglion_round(d, t, syn, timeout)) * 1e3 - delay_ms;
    double c1 = gn_bench_cpu();
    double *warm = calloc((size_t)rounds, sizeof(double));
    if (!warm)
        return 1;
    for (int i = 0; i < rounds; i++)
        warm[i] = (raw ? raw_round() : ganglion_round(d, t, syn, timeout)) * 1e3 - delay_ms;
    double c2 = gn_bench_cpu();
    long hwm = proc_kib("VmHWM");
    double per = 1000.0 / (double)n_targets;

    if (d) {
        size_t nc = n_calls < MAX_ROUNDS ? n_calls : MAX_ROUNDS;
        qsort(call_ms, nc, sizeof(double), cmp_d);
        qsort(first_ms, nc, sizeof(double), cmp_d);
        qsort(last_ms, nc, sizeof(double), cmp_d);
        fprintf(stderr,
                "dendrite: %s: first result %.1f ms after the call, last %.1f ms (medians; the "
                "responder waits %.0f)\n",
                who, first_ms[nc / 2], last_ms[nc / 2], delay_ms);
        fprintf(stderr,
                "dendrite: %s: the gn_dendrite_query call (template, first jobs, small queries "
                "signed) took "
                "%.1f ms (median of the rounds); signing alone %.1f ms\n",
                who, call_ms[nc / 2], sign * (double)n_targets / 1000.0 * 1e3);
        gn_dendrite_stats_t st;
        gn_dendrite_stats(d, &st);
        fprintf(stderr,
                "dendrite: %s: %llu requests, %llu connections opened, %llu reused, "
                "%llu stale retries; %llu signed with a witness made ahead, %llu whole\n",
                who, (unsigned long long)st.requests, (unsigned long long)st.conns_opened,
                (unsigned long long)st.conns_reused, (unsigned long long)st.retries_stale,
                (unsigned long long)st.signed_witness, (unsigned long long)st.signed_whole);
        bool done = false;
        gn_dendrite_close(d, closed, &done);
        while (!done)
            uv_run(&loop, UV_RUN_ONCE);
    }
    fprintf(stderr, "dendrite: %s: rounds (ms over %.0f):", who, delay_ms);
    fprintf(stderr, " %.2f |", cold);
    for (int i = 0; i < rounds; i++)
        fprintf(stderr, " %.2f", warm[i]);
    fprintf(stderr, "\n");
    qsort(warm, (size_t)rounds, sizeof(double), cmp_d);
    printf("row %s %zu %.3f %.3f %.3f %.3f %.5f %.5f %ld %ld %.5f\n", who, n_targets, cold,
           warm[rounds / 2], warm[0], warm[rounds - 1], (c1 - c0) * per, (c2 - c1) * per / rounds,
           hwm, base, sign);
    free(warm);
    free(t);
    json_decref(syn);
    return 0;
}
