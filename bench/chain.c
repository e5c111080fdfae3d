/* bench/chain: the Substrate client (actors/chain) over a 50 ms round trip
 * (bench/latency_proxy in front of the local chain), beside polkadot-js
 * (bench/peer/chain.mjs: same accounts, map, block and proxy) and beside
 * two floors measured in the same run:
 *   latency-floor  the round trips alone: serial steps x RTT
 *   raw-rpc        the same JSON-RPC requests in the same pattern, sent raw
 *                  (actors/rpc: no runtime, keys or decoding) over the same
 *                  link: the link and the node's own time, nothing else
 * The node's time alone (the raw requests straight to the chain, no proxy)
 * goes to stderr: on the local chain (chopsticks) it, not the link, is
 * most of a paged map (state_getKeysPaged costs ~0.4 ms per key there).
 * bench/chain.sh (make bench-chain) starts the chain and the proxy, funds
 * the accounts and writes the inputs (bench/chain_setup.mjs), then runs
 * this and the peer through bench/run.sh.
 *
 * Benchmarks ("<bench> <ops/s>"; *_cpu: operations per second of this
 * process's CPU time, getrusage user + system, every thread), and their
 * latency floors:
 *   chain_reads_seq  System.Account reads, each after the previous (SEQ of
 *                    them, the rate per read): one RTT each
 *   chain_reads      every account read at once (gn_chain_query, best of
 *                    ROUNDS): one RTT
 *   chain_map_pP     the whole System.Account map pinned to one block
 *                    (gn_chain_query_map, key pages of P; entries/s, best
 *                    of ROUNDS): ceil(N / P) + 1 RTTs, as key pages are
 *                    serial (each starts after the last key of the one
 *                    before) and the last page's values take one more trip;
 *                    the other pages' values overlap the next key page
 * Floors print as "peer <bench> <floor> <ops/s>" (and chain_reads_seq as
 * chain_reads' "ganglion-seq" peer: the gain of concurrency); details go to
 * stderr. */
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "bench.h"
#include "ganglion/chain.h"
#include "ganglion/error.h"
#include "ganglion/rpc.h"

#define ROUNDS     3
#define SEQ        50
#define TIMEOUT_MS 120000

static uv_loop_t loop;

typedef struct {
    size_t left, failed, entries;
    char err[512];
} wait_t;

static void failf(wait_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(wait_t *w, const char *fmt, ...)
{
    va_list ap;
    if (w->failed++ == 0) {
        va_start(ap, fmt);
        vsnprintf(w->err, sizeof(w->err), fmt, ap);
        va_end(ap);
    }
}

static void wait_all(wait_t *w, const char *what)
{
    double t0 = gn_bench_now();
    while (w->left > 0 && gn_bench_now() - t0 < TIMEOUT_MS / 1000.0)
        uv_run(&loop, UV_RUN_ONCE);
    if (w->left > 0 || w->failed) {
        fprintf(stderr, "chain: %s: %s\n", what, w->left ? "no answer" : w->err);
        exit(1);
    }
}

/* ---- ganglion: gn_chain_query / gn_chain_query_map ---- */

static void on_account(int status, json_t *result, const char *error, void *arg)
{
    wait_t *w = arg;
    w->left--;
    if (status < 0) {
        failf(w, "%s", error ? error : gn_strerror(status));
        return;
    }
    const json_t *f = json_object_get(json_object_get(result, "data"), "free");
    if (!((json_is_integer(f) && json_integer_value(f) > 0) || json_is_string(f)))
        failf(w, "an account read back empty");
    json_decref(result);
}

static void read_account(gn_chain_t *c, const char *ss58, const char *at, wait_t *w)
{
    json_t *keys = json_pack("[s]", ss58);
    w->left++;
    int rc = gn_chain_query(c, "System", "Account", keys, at, on_account, w);
    json_decref(keys);
    if (rc < 0) {
        w->left--;
        failf(w, "gn_chain_query: %s", gn_strerror(rc));
    }
}

static void on_map(int status, json_t *result, const char *error, void *arg)
{
    wait_t *w = arg;
    w->left--;
    if (status < 0) {
        failf(w, "%s", error ? error : gn_strerror(status));
        return;
    }
    w->entries = json_array_size(json_object_get(result, "entries"));
    json_decref(result);
}

/* ---- the floor: the same requests, raw, straight to the chain ---- */

static void on_raw(int status, const gn_rpc_msg_t *m, void *arg)
{
    wait_t *w = arg;
    w->left--;
    if (status < 0)
        failf(w, "%s",
              status == GN_EIO && m && m->error_message ? m->error_message : gn_strerror(status));
}

static void raw_call(gn_rpc_t *r, const char *method, json_t *params, gn_rpc_cb cb, void *arg,
                     wait_t *w)
{
    w->left++;
    int rc = gn_rpc_call(r, method, params, TIMEOUT_MS, cb, arg);
    json_decref(params);
    if (rc < 0) {
        w->left--;
        failf(w, "%s: %s", method, gn_strerror(rc));
    }
}

/* query_map's pattern: key pages one after another, each page's values
 * (state_queryStorageAt) overlapping the next key page. */
typedef struct {
    gn_rpc_t *rpc;
    const char *prefix, *at;
    unsigned page;
    wait_t w;
} raw_map_t;

static void on_raw_keys(int status, const gn_rpc_msg_t *m, void *arg)
{
    raw_map_t *r = arg;
    on_raw(status, m, &r->w);
    if (status < 0)
        return;
    size_t n = json_array_size(m->result);
    r->w.entries += n;
    if (n)
        raw_call(r->rpc, "state_queryStorageAt", json_pack("[O,s]", m->result, r->at), on_raw,
                 &r->w, &r->w);
    if (n == r->page)
        raw_call(r->rpc, "state_getKeysPaged",
                 json_pack("[s,i,O,s]", r->prefix, (int)r->page, json_array_get(m->result, n - 1),
                           r->at),
                 on_raw_keys, r, &r->w);
}

static double raw_map(gn_rpc_t *rpc, const char *prefix, const char *at, unsigned page, size_t want)
{
    raw_map_t r = {.rpc = rpc, .prefix = prefix, .at = at, .page = page};
    double t0 = gn_bench_now();
    raw_call(rpc, "state_getKeysPaged", json_pack("[s,i,s,s]", prefix, (int)page, prefix, at),
             on_raw_keys, &r, &r.w);
    wait_all(&r.w, "raw map");
    if (r.w.entries != want) {
        fprintf(stderr, "chain: raw map: %zu keys of %zu\n", r.w.entries, want);
        exit(1);
    }
    return gn_bench_now() - t0;
}

/* ---- main ---- */

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

static void floor_line(const char *bench, const char *who, double ops, double secs)
{
    printf("peer %s %s %.1f\n", bench, who, ops / secs);
}

/* n raw state_getStorage, all at once (seq: each after the previous). */
static double raw_reads(gn_rpc_t *rpc, const json_t *keys, size_t from, size_t n, bool seq)
{
    wait_t w = {0};
    double t0 = gn_bench_now();
    for (size_t i = from; i < from + n; i++) {
        raw_call(rpc, "state_getStorage", json_pack("[O]", json_array_get(keys, i)), on_raw, &w,
                 &w);
        if (seq)
            wait_all(&w, "raw reads");
    }
    wait_all(&w, "raw reads");
    return gn_bench_now() - t0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--inputs") != 0) {
        fprintf(stderr, "usage: chain --inputs FILE (written by bench/chain_setup.mjs; "
                        "bench/chain.sh runs the whole bench)\n");
        return 2;
    }
    json_error_t jerr;
    json_t *in = json_load_file(argv[2], 0, &jerr);
    if (!in) {
        fprintf(stderr, "chain: %s: %s (run bench/chain.sh)\n", argv[2], jerr.text);
        return 2;
    }
    const char *url = json_string_value(json_object_get(in, "url"));
    const char *direct = json_string_value(json_object_get(in, "direct_url"));
    const char *at = json_string_value(json_object_get(in, "at"));
    double rtt = json_number_value(json_object_get(in, "rtt_ms")) / 1000.0;
    json_t *map = json_object_get(in, "map");
    const char *prefix = json_string_value(json_object_get(map, "prefix"));
    size_t n_map = (size_t)json_integer_value(json_object_get(map, "entries"));
    json_t *accounts = json_object_get(in, "accounts"), *keys = json_object_get(in, "keys");
    size_t n = json_array_size(accounts);
    if (!url || !direct || !at || !prefix || !n_map || rtt <= 0 || n <= SEQ ||
        json_array_size(keys) != n) {
        fprintf(stderr, "chain: %s: incomplete inputs\n", argv[2]);
        return 2;
    }

    uv_loop_init(&loop);
    gn_chain_t *c;
    gn_rpc_t *raw, *node; /* raw: through the proxy; node: straight to the chain */
    gn_chain_opts_t o = {.url = url, .timeout_ms = TIMEOUT_MS, .no_reconnect = true};
    if (gn_chain_open(&loop, &o, &c) < 0 || gn_rpc_open(&loop, url, &raw) < 0 ||
        gn_rpc_open(&loop, direct, &node) < 0) {
        fprintf(stderr, "chain: cannot open %s / %s\n", url, direct);
        return 1;
    }
    { /* warm: connections, the runtime (best block and `at`), codecs */
        wait_t w = {0};
        const char *acct0 = json_string_value(json_array_get(accounts, 0));
        read_account(c, acct0, NULL, &w);
        read_account(c, acct0, at, &w);
        wait_all(&w, "warm-up");
        raw_reads(raw, keys, 0, 1, false);
        raw_reads(node, keys, 0, 1, false);
    }

    /* 1. reads one after another */
    double t0 = gn_bench_now();
    for (size_t i = 1; i <= SEQ; i++) {
        wait_t w = {0};
        read_account(c, json_string_value(json_array_get(accounts, i)), NULL, &w);
        wait_all(&w, "chain_reads_seq");
    }
    double t_seq = gn_bench_now() - t0;
    double t_raw = raw_reads(raw, keys, 1, SEQ, true), t_node = raw_reads(node, keys, 1, SEQ, true);
    printf("chain_reads_seq %.1f\n", SEQ / t_seq);
    floor_line("chain_reads_seq", "latency-floor", SEQ, SEQ * rtt);
    floor_line("chain_reads_seq", "raw-rpc", SEQ, t_raw);
    fprintf(stderr,
            "chain: %d reads one by one: %.1f ms each; raw requests %.1f ms, RTT %.1f ms, "
            "node alone %.2f ms\n",
            SEQ, t_seq / SEQ * 1e3, t_raw / SEQ * 1e3, rtt * 1e3, t_node / SEQ * 1e3);

    /* 2. every read at once */
    double best = 1e9, best_raw = 1e9, best_node = 1e9, cpu = 0, cpu_raw = 0;
    for (int r = 0; r < ROUNDS; r++) {
        wait_t w = {0};
        double c0 = gn_bench_cpu();
        t0 = gn_bench_now();
        for (size_t i = 0; i < n; i++)
            read_account(c, json_string_value(json_array_get(accounts, i)), NULL, &w);
        wait_all(&w, "chain_reads");
        best = min_d(best, gn_bench_now() - t0);
        cpu += gn_bench_cpu() - c0;
        c0 = gn_bench_cpu();
        best_raw = min_d(best_raw, raw_reads(raw, keys, 0, n, false));
        cpu_raw += gn_bench_cpu() - c0;
        best_node = min_d(best_node, raw_reads(node, keys, 0, n, false));
    }
    printf("chain_reads %.1f\n", (double)n / best);
    floor_line("chain_reads", "latency-floor", (double)n, rtt);
    floor_line("chain_reads", "raw-rpc", (double)n, best_raw);
    floor_line("chain_reads", "ganglion-seq", SEQ, t_seq); /* concurrent vs one by one */
    printf("chain_reads_cpu %.1f\n", ROUNDS * (double)n / cpu);
    fprintf(stderr,
            "chain: %zu reads at once: %.1f ms (best of %d) = %.2fx the raw requests (%.1f ms), "
            "%.2fx the latency floor (%.0f ms; node alone %.1f ms); CPU %.1f ms per %zu reads "
            "(raw requests %.1f ms)\n",
            n, best * 1e3, ROUNDS, best / best_raw, best_raw * 1e3, best / rtt, rtt * 1e3,
            best_node * 1e3, cpu / ROUNDS * 1e3, n, cpu_raw / ROUNDS * 1e3);

    /* 3. the whole map, pages of 100 and of 1000 keys */
    static const unsigned pages[] = {100, 1000};
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
        unsigned page = pages[p];
        char name[64];
        best = best_raw = best_node = 1e9;
        cpu = cpu_raw = 0;
        for (int r = 0; r < ROUNDS; r++) {
            wait_t w = {.left = 1};
            gn_query_map_opts_t qo = {.page_size = page};
            double c0 = gn_bench_cpu();
            t0 = gn_bench_now();
            int rc = gn_chain_query_map(c, "System", "Account", NULL, &qo, at, on_map, &w);
            if (rc < 0) {
                fprintf(stderr, "chain: gn_chain_query_map: %s\n", gn_strerror(rc));
                return 1;
            }
            wait_all(&w, "chain_query_map");
            best = min_d(best, gn_bench_now() - t0);
            cpu += gn_bench_cpu() - c0;
            if (w.entries != n_map) {
                fprintf(stderr, "chain: query_map: %zu entries of %zu\n", w.entries, n_map);
                return 1;
            }
            c0 = gn_bench_cpu();
            best_raw = min_d(best_raw, raw_map(raw, prefix, at, page, n_map));
            cpu_raw += gn_bench_cpu() - c0;
            best_node = min_d(best_node, raw_map(node, prefix, at, page, n_map));
        }
        /* key pages go one after another (each starts after the previous
         * page's last key): n_map / page + 1 of them, the last one short or
         * empty; the last non-empty page's values take one more trip */
        size_t key_pages = n_map / page + 1, steps = (n_map + page - 1) / page + 1;
        double lat = (double)steps * rtt;
        snprintf(name, sizeof(name), "chain_map_p%u", page);
        printf("%s %.1f\n", name, (double)n_map / best);
        floor_line(name, "latency-floor", (double)n_map, lat);
        floor_line(name, "raw-rpc", (double)n_map, best_raw);
        printf("%s_cpu %.1f\n", name, ROUNDS * (double)n_map / cpu);
        fprintf(stderr,
                "chain: query_map of %zu entries, %zu key pages of %u: %.1f ms (best of %d) = "
                "%.2fx the raw requests (%.1f ms), %.2fx the latency floor (%zu x RTT = %.0f ms; "
                "node alone %.1f ms); CPU %.1f ms (raw requests %.1f ms)\n",
                n_map, key_pages, page, best * 1e3, ROUNDS, best / best_raw, best_raw * 1e3,
                best / lat, steps, lat * 1e3, best_node * 1e3, cpu / ROUNDS * 1e3,
                cpu_raw / ROUNDS * 1e3);
    }

    gn_chain_close(c);
    gn_rpc_close(raw);
    gn_rpc_close(node);
    uv_run(&loop, UV_RUN_DEFAULT);
    gn_chain_release(c);
    gn_rpc_release(raw);
    gn_rpc_release(node);
    uv_loop_close(&loop);
    json_decref(in);
    return 0;
}
