/* bench/metagraph: "all neurons of all subnets" (gn_subtensor_all_neurons:
 * pin the head, list the subnets, NeuronInfoRuntimeApi.get_neurons_lite for
 * each with a bounded number in flight) over a 50 ms round trip
 * (bench/latency_proxy in front of the local chain seeded by
 * bench/metagraph_setup.mjs), beside polkadot-js (bench/peer/metagraph.mjs:
 * the same steps with Promise.all over every subnet, at the same block,
 * through the same proxy) and beside two floors measured in the same run:
 *   latency-floor  the fewest round trips any client needs: the head, the
 *                  subnet list (one key page), then ceil(S / C) waves of
 *                  runtime calls (S subnets, C in flight), x RTT
 *   raw-rpc        ganglion's own requests in its own pattern, sent raw
 *                  (actors/rpc: no runtime, no decoding) over the same link:
 *                  chain_getHeader, state_getKeysPaged (the subnet list is
 *                  its keys), then the state_calls, C in flight
 * and the time to decode one get_neurons_lite answer of DECODE neurons (the
 * bytes fetched once with gn_chain_rpc state_call) with the chain client's
 * decoder (gn_value_decode_all by the method's output type; then
 * gn_value_to_json, what gn_chain_runtime_call answers), beside
 * @polkadot/types decoding the same bytes (createType, then toJSON).
 * bench/metagraph.sh (make bench-metagraph) starts everything and runs this
 * and the peer through bench/run.sh.
 *
 * Benchmarks ("<bench> <ops/s>"):
 *   metagraph_seq, _c16, _c64   every subnet's neurons with 1, 16, 64
 *                               runtime calls in flight (neurons/s, best of
 *                               ROUNDS); _cpu: neurons per second of this
 *                               process's CPU time (getrusage user + system,
 *                               every thread)
 *   metagraph_decode_N          decodes/s of one N-neuron answer
 *   metagraph_json_N            decode + JSON, decodes/s
 * Floors print as "peer <bench> <floor> <ops/s>"; metagraph_seq also prints
 * as the c16 / c64 rows' "ganglion-seq" peer, so their ratio is the seeds'
 * sync / async ratio. Details (times, ratios, CPU) go to stderr. */
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
#include "ganglion/hex.h"
#include "ganglion/rpc.h"
#include "ganglion/subtensor.h"
#include "ganglion/value.h"

#define ROUNDS     3
#define TIMEOUT_MS 300000

static uv_loop_t loop;

typedef struct {
    size_t left, failed;
    json_t *result;
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
        fprintf(stderr, "metagraph: %s: %s\n", what, w->left ? "no answer" : w->err);
        exit(1);
    }
}

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

static void on_result(int status, json_t *result, const char *error, void *arg)
{
    wait_t *w = arg;
    w->left--;
    if (status < 0)
        failf(w, "%s", error ? error : gn_strerror(status));
    else
        w->result = result;
}

/* ---- ganglion: gn_subtensor_all_neurons ---- */

typedef struct {
    const char *at;
    const json_t *netuids;
    size_t neurons;
} expect_t;

/* One read of every subnet; checks the answer; returns its wall time. */
static double all_neurons(gn_chain_t *c, unsigned conc, const expect_t *e)
{
    wait_t w = {.left = 1};
    double t0 = gn_bench_now();
    int rc = gn_subtensor_all_neurons(c, true, conc, NULL, on_result, &w);
    if (rc < 0) {
        fprintf(stderr, "metagraph: gn_subtensor_all_neurons: %s\n", gn_strerror(rc));
        exit(1);
    }
    wait_all(&w, "gn_subtensor_all_neurons");
    double t = gn_bench_now() - t0;
    const char *at = json_string_value(json_object_get(w.result, "at"));
    json_t *subnets = json_object_get(w.result, "subnets");
    if (!at || strcmp(at, e->at) != 0 || json_object_size(subnets) != json_array_size(e->netuids)) {
        fprintf(stderr, "metagraph: all_neurons read %zu subnets at %s (expected %zu at %s)\n",
                json_object_size(subnets), at ? at : "?", json_array_size(e->netuids), e->at);
        exit(1);
    }
    size_t i;
    json_t *n;
    json_array_foreach (e->netuids, i, n) {
        char key[16];
        snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(n));
        size_t want = json_integer_value(n) ? e->neurons : 0;
        json_t *s = json_object_get(subnets, key);
        if (json_array_size(s) != want ||
            (want && !json_is_string(json_object_get(json_array_get(s, want - 1), "hotkey")))) {
            fprintf(stderr, "metagraph: subnet %s: %zu neurons, expected %zu\n", key,
                    json_array_size(s), want);
            exit(1);
        }
    }
    json_decref(w.result);
    return t;
}

/* ---- the floor: ganglion's requests, raw, in its pattern ---- */

typedef struct {
    gn_rpc_t *rpc;
    const char *at, *prefix;
    const json_t *netuids;
    unsigned conc, inflight;
    size_t next;
    wait_t w;
} raw_t;

static void raw_call(raw_t *r, const char *method, json_t *params, gn_rpc_cb cb)
{
    r->w.left++;
    int rc = gn_rpc_call(r->rpc, method, params, TIMEOUT_MS, cb, r);
    json_decref(params);
    if (rc < 0) {
        r->w.left--;
        failf(&r->w, "%s: %s", method, gn_strerror(rc));
    }
}

static bool raw_ok(raw_t *r, const char *method, int status, const gn_rpc_msg_t *m)
{
    r->w.left--;
    if (status < 0)
        failf(&r->w, "%s: %s", method,
              status == GN_EIO && m && m->error_message ? m->error_message : gn_strerror(status));
    return status == 0;
}

static void raw_pump(raw_t *r);

static void raw_got_call(int status, const gn_rpc_msg_t *m, void *arg)
{
    raw_t *r = arg;
    r->inflight--;
    if (raw_ok(r, "state_call", status, m))
        raw_pump(r);
}

static void raw_pump(raw_t *r)
{
    while (r->inflight < r->conc && r->next < json_array_size(r->netuids)) {
        uint16_t n = (uint16_t)json_integer_value(json_array_get(r->netuids, r->next++));
        char arg[8];
        snprintf(arg, sizeof(arg), "0x%02x%02x", (unsigned)(n & 0xff), (unsigned)(n >> 8));
        r->inflight++;
        raw_call(r, "state_call",
                 json_pack("[s,s,s]", "NeuronInfoRuntimeApi_get_neurons_lite", arg, r->at),
                 raw_got_call);
    }
}

static void raw_got_keys(int status, const gn_rpc_msg_t *m, void *arg)
{
    raw_t *r = arg;
    if (raw_ok(r, "state_getKeysPaged", status, m))
        raw_pump(r);
}

static void raw_got_head(int status, const gn_rpc_msg_t *m, void *arg)
{
    raw_t *r = arg;
    if (raw_ok(r, "chain_getHeader", status, m))
        raw_call(r, "state_getKeysPaged", json_pack("[s,i,n,s]", r->prefix, 1000, r->at),
                 raw_got_keys);
}

static double raw_all(gn_rpc_t *rpc, unsigned conc, const char *prefix, const expect_t *e)
{
    raw_t r = {.rpc = rpc, .at = e->at, .prefix = prefix, .netuids = e->netuids, .conc = conc};
    double t0 = gn_bench_now();
    raw_call(&r, "chain_getHeader", json_array(), raw_got_head);
    wait_all(&r.w, "raw requests");
    if (r.next != json_array_size(e->netuids)) {
        fprintf(stderr, "metagraph: raw requests: %zu calls made\n", r.next);
        exit(1);
    }
    return gn_bench_now() - t0;
}

/* ---- decode ---- */

static void on_runtime(int status, gn_runtime_t *rt, const char *error, void *arg)
{
    wait_t *w = arg;
    w->left--;
    if (status < 0)
        failf(w, "%s", error ? error : gn_strerror(status));
    else
        w->result = (json_t *)rt; /* carried, not JSON */
}

static void bench_decode(gn_chain_t *c, const json_t *dec)
{
    const char *at = json_string_value(json_object_get(dec, "at"));
    const char *method = json_string_value(json_object_get(dec, "method"));
    const char *args = json_string_value(json_object_get(dec, "args"));
    size_t want = (size_t)json_integer_value(json_object_get(dec, "neurons"));
    wait_t w = {.left = 1};
    json_t *params = json_pack("[s,s,s]", method, args, at);
    if (gn_chain_rpc(c, "state_call", params, on_result, &w) < 0) {
        fprintf(stderr, "metagraph: gn_chain_rpc failed\n");
        exit(1);
    }
    json_decref(params);
    wait_all(&w, "state_call (decode)");
    const char *hex = json_string_value(w.result);
    size_t cap = hex ? strlen(hex) / 2 : 0, n = 0;
    uint8_t *bytes = malloc(cap + 1);
    if (!hex || gn_hex_decode(hex, strlen(hex), bytes, cap + 1, &n) < 0) {
        fprintf(stderr, "metagraph: the decode answer is not hex\n");
        exit(1);
    }
    json_decref(w.result);

    wait_t wr = {.left = 1};
    if (gn_chain_runtime(c, at, on_runtime, &wr) < 0) {
        fprintf(stderr, "metagraph: gn_chain_runtime failed\n");
        exit(1);
    }
    wait_all(&wr, "runtime (decode)");
    gn_runtime_t *rt = (gn_runtime_t *)wr.result;
    const gn_api_method_t *mt =
        gn_metadata_api_method(&rt->md, "NeuronInfoRuntimeApi", "get_neurons_lite");
    if (!mt) {
        fprintf(stderr, "metagraph: no NeuronInfoRuntimeApi.get_neurons_lite\n");
        exit(1);
    }
    gn_arena_t ar;
    gn_value_t v;
    gn_json_opts_t jo = {GN_JSON_SS58_PREFIX, rt->ss58_prefix};
    gn_arena_init(&ar, NULL, 0);
    int rc = gn_value_decode_all(&rt->md, mt->output, bytes, n, &ar, &v);
    json_t *j = rc == 0 ? gn_value_to_json(&rt->md, &v, &jo) : NULL;
    if (rc < 0 || json_array_size(j) != want) {
        fprintf(stderr,
                "metagraph: the %zu-byte answer decodes to %zu neurons (%s), expected %zu\n", n,
                json_array_size(j), gn_strerror(rc), want);
        exit(1);
    }
    json_decref(j);
    gn_arena_free(&ar);

    double d_ops = GN_MEASURE(1.0, 1, {
        gn_value_decode_all(&rt->md, mt->output, bytes, n, &ar, &v);
        gn_arena_free(&ar);
    });
    double j_ops = GN_MEASURE(1.0, 1, {
        gn_value_decode_all(&rt->md, mt->output, bytes, n, &ar, &v);
        json_decref(gn_value_to_json(&rt->md, &v, &jo));
        gn_arena_free(&ar);
    });
    printf("metagraph_decode_%zu %.1f\n", want, d_ops);
    printf("metagraph_json_%zu %.1f\n", want, j_ops);
    fprintf(stderr,
            "metagraph: one get_neurons_lite answer of %zu neurons (%zu bytes): decode %.1f us, "
            "decode + JSON %.1f us\n",
            want, n, 1e6 / d_ops, 1e6 / j_ops);
    gn_runtime_unref(rt);
    free(bytes);
}

/* ---- main ---- */

static void floor_line(const char *bench, const char *who, double ops, double secs)
{
    printf("peer %s %s %.1f\n", bench, who, ops / secs);
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--inputs") != 0) {
        fprintf(stderr, "usage: metagraph --inputs FILE (written by bench/metagraph_setup.mjs; "
                        "bench/metagraph.sh runs the whole bench)\n");
        return 2;
    }
    json_error_t jerr;
    json_t *in = json_load_file(argv[2], 0, &jerr);
    if (!in) {
        fprintf(stderr, "metagraph: %s: %s (run bench/metagraph.sh)\n", argv[2], jerr.text);
        return 2;
    }
    const char *url = json_string_value(json_object_get(in, "url"));
    double rtt = json_number_value(json_object_get(in, "rtt_ms")) / 1000.0;
    expect_t e = {.at = json_string_value(json_object_get(in, "at")),
                  .netuids = json_object_get(in, "netuids"),
                  .neurons = (size_t)json_integer_value(json_object_get(in, "neurons"))};
    size_t subnets = json_array_size(e.netuids), neurons = (subnets - 1) * e.neurons;
    json_t *dec = json_object_get(in, "decode");
    /* the storage prefix of SubtensorModule.NetworksAdded */
    const char *prefix = json_string_value(json_object_get(in, "networks_prefix"));
    if (!url || !e.at || !prefix || rtt <= 0 || subnets < 2 || !e.neurons || !json_is_object(dec)) {
        fprintf(stderr, "metagraph: %s: incomplete inputs\n", argv[2]);
        return 2;
    }

    uv_loop_init(&loop);
    gn_chain_t *c;
    gn_rpc_t *raw;
    gn_chain_opts_t o = {.url = url, .timeout_ms = TIMEOUT_MS, .no_reconnect = true};
    if (gn_chain_open(&loop, &o, &c) < 0 || gn_rpc_open(&loop, url, &raw) < 0) {
        fprintf(stderr, "metagraph: cannot open %s\n", url);
        return 1;
    }
    /* warm: the connections, the runtime (metadata, the head's version) */
    all_neurons(c, 16, &e);
    raw_all(raw, 16, prefix, &e);

    static const unsigned concs[] = {1, 16, 64};
    static const char *const names[] = {"metagraph_seq", "metagraph_c16", "metagraph_c64"};
    double t_seq = 0;
    for (size_t k = 0; k < sizeof(concs) / sizeof(concs[0]); k++) {
        unsigned conc = concs[k];
        double best = 1e9, best_raw = 1e9, cpu = 0, cpu_raw = 0;
        for (int r = 0; r < ROUNDS; r++) {
            double c0 = gn_bench_cpu();
            best = min_d(best, all_neurons(c, conc, &e));
            cpu += gn_bench_cpu() - c0;
            c0 = gn_bench_cpu();
            best_raw = min_d(best_raw, raw_all(raw, conc, prefix, &e));
            cpu_raw += gn_bench_cpu() - c0;
        }
        size_t waves = (subnets + conc - 1) / conc, steps = 2 + waves;
        double lat = (double)steps * rtt;
        printf("%s %.1f\n", names[k], (double)neurons / best);
        floor_line(names[k], "latency-floor", (double)neurons, lat);
        floor_line(names[k], "raw-rpc", (double)neurons, best_raw);
        if (conc == 1)
            t_seq = best;
        else
            floor_line(names[k], "ganglion-seq", (double)neurons, t_seq);
        printf("%s_cpu %.1f\n", names[k], ROUNDS * (double)neurons / cpu);
        fprintf(stderr,
                "metagraph: %zu subnets (%zu neurons), %u in flight: %.1f ms (best of %d) = %.2fx "
                "the latency floor (%zu x RTT = %.0f ms), %.2fx the raw requests (%.1f ms); CPU "
                "%.1f ms per read (raw requests %.1f ms)",
                subnets, neurons, conc, best * 1e3, ROUNDS, best / lat, steps, lat * 1e3,
                best / best_raw, best_raw * 1e3, cpu / ROUNDS * 1e3, cpu_raw / ROUNDS * 1e3);
        if (conc > 1)
            fprintf(stderr, "; sequential / this: %.2fx\n", t_seq / best);
        else
            fprintf(stderr, "\n");
    }

    bench_decode(c, dec);

    gn_chain_close(c);
    gn_rpc_close(raw);
    uv_run(&loop, UV_RUN_DEFAULT);
    gn_chain_release(c);
    gn_rpc_release(raw);
    uv_loop_close(&loop);
    json_decref(in);
    return 0;
}
