/* bench/axon_gen: inputs and the crypto floor for bench/axon (axon.sh).
 *
 *   axon_gen verify [SECS]
 *       the bare sr25519 verify rate (gn_sr25519_verify) over signed
 *       messages of the kind the requests carry (wire spec §3.2), on one
 *       thread and on one thread per CPU; prints
 *       "verify_1 <ops/s>", "verify_all <ops/s> <threads>" and
 *       "verify_cpu_us <us>", the thread CPU time of one verify (on one
 *       thread: unlike the rates, other load on the machine barely moves it)
 *   axon_gen requests PREFIX PARTS COUNT AXON_HOTKEY AXON_PORT
 *       COUNT pre-signed Dummy requests (raw HTTP/1.1, as the SDK's dendrite
 *       sends them: wire spec §2-§3, wire-examples.json example1_dummy) in
 *       PARTS files PREFIX.0 .. PREFIX.<PARTS-1>, one per wrk thread, each
 *       request written as "<length>\n<bytes>"; plus PREFIX.probe, one more
 *       request for a probe. Signed by //Alice for AXON_HOTKEY (SS58), with
 *       timeout 60.0 and fresh wall-clock nonces, strictly increasing within
 *       a part. Each part signs on its own thread with its own UUIDS uuids,
 *       request i using uuid i % UUIDS: a uuid comes back only UUIDS
 *       requests later, far more than the 64 requests in flight, so no
 *       request is ever out of order against the axon's replay set (64 per
 *       hotkey:uuid) and no two parts share a uuid. Prints "generated
 *       <count> <seconds> <bytes>".
 */
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
#include "ganglion/suri.h"
#include "ganglion/synapse.h"

#define UUIDS      256
#define EMPTY_HASH "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
#define MSG_CAP    512
#define REQ_CAP    4096

static gn_sr25519_keypair_t alice;
static char alice_ss58[64];

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void uuid_text(char out[37])
{
    uint8_t b[16];
    randombytes_buf(b, sizeof(b));
    gn_uuid4_text(b, out);
}

static void sig_hex(const uint8_t sig[64], char out[131])
{
    static const char d[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 64; i++) {
        out[2 + 2 * i] = d[sig[i] >> 4];
        out[3 + 2 * i] = d[sig[i] & 15];
    }
    out[130] = 0;
}

/* ---- requests ---- */

typedef struct part {
    const char *path;
    const char *axon_hotkey;
    unsigned port;
    size_t count;
    size_t bytes;
    int rc;
} part_t;

/* One request as the SDK's dendrite (aiohttp) sends it: the synapse
 * headers in the SDK's order (example1_dummy), aiohttp's own, and the body
 * in json.dumps' default form. header_size / total_size are the SDK's
 * CPython object sizes from the example (informational, §2.5). */
static int request(char *out, size_t cap, const char *axon_hotkey, unsigned port, const char *uuid,
                   uint64_t nonce, long input)
{
    char msg[MSG_CAP], sig[131];
    uint8_t rnd[32], raw[64];
    int mlen =
        gn_synapse_message(nonce, alice_ss58, axon_hotkey, uuid, EMPTY_HASH, msg, sizeof(msg));
    if (mlen < 0)
        return -1;
    randombytes_buf(rnd, sizeof(rnd));
    if (gn_sr25519_sign(&alice, (const uint8_t *)msg, (size_t)mlen, rnd, raw) != 0)
        return -1;
    sig_hex(raw, sig);
    char body[2048];
    int blen = snprintf(
        body, sizeof(body),
        "{\"name\": \"Dummy\", \"timeout\": 60.0, \"total_size\": 3045, \"header_size\": 0, "
        "\"dendrite\": {\"status_code\": null, \"status_message\": null, \"process_time\": null, "
        "\"ip\": \"127.0.0.1\", \"port\": null, \"version\": 10002000, \"nonce\": %llu, "
        "\"uuid\": \"%s\", \"hotkey\": \"%s\", \"signature\": \"%s\"}, "
        "\"axon\": {\"status_code\": null, \"status_message\": null, \"process_time\": null, "
        "\"ip\": \"127.0.0.1\", \"port\": %u, \"version\": null, \"nonce\": null, "
        "\"uuid\": null, \"hotkey\": \"%s\", \"signature\": null}, "
        "\"computed_body_hash\": \"\", \"dummy_input\": %ld, \"dummy_output\": null}",
        (unsigned long long)nonce, uuid, alice_ss58, sig, port, axon_hotkey, input);
    if (blen < 0 || (size_t)blen >= sizeof(body))
        return -1;
    int n = snprintf(out, cap,
                     "POST /Dummy HTTP/1.1\r\n"
                     "Host: 127.0.0.1:%u\r\n"
                     "name: Dummy\r\n"
                     "timeout: 60.0\r\n"
                     "bt_header_axon_ip: 127.0.0.1\r\n"
                     "bt_header_axon_port: %u\r\n"
                     "bt_header_axon_hotkey: %s\r\n"
                     "bt_header_dendrite_ip: 127.0.0.1\r\n"
                     "bt_header_dendrite_version: 10002000\r\n"
                     "bt_header_dendrite_nonce: %llu\r\n"
                     "bt_header_dendrite_uuid: %s\r\n"
                     "bt_header_dendrite_hotkey: %s\r\n"
                     "bt_header_dendrite_signature: %s\r\n"
                     "bt_header_input_obj_dummy_input: MA==\r\n"
                     "header_size: 464\r\n"
                     "total_size: 3045\r\n"
                     "computed_body_hash: " EMPTY_HASH "\r\n"
                     "Accept: */*\r\n"
                     "Accept-Encoding: gzip, deflate\r\n"
                     "User-Agent: Python/3.11 aiohttp/3.10.11\r\n"
                     "Content-Length: %d\r\n"
                     "Content-Type: application/json\r\n"
                     "\r\n"
                     "%s",
                     port, port, axon_hotkey, (unsigned long long)nonce, uuid, alice_ss58, sig,
                     blen, body);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

static void *write_part(void *arg)
{
    part_t *p = arg;
    p->rc = -1;
    FILE *f = fopen(p->path, "w");
    if (!f) {
        perror(p->path);
        return NULL;
    }
    static _Thread_local char uuids[UUIDS][37];
    for (int i = 0; i < UUIDS; i++)
        uuid_text(uuids[i]);
    char *req = malloc(REQ_CAP);
    uint64_t last = 0;
    bool ok = req != NULL;
    for (size_t i = 0; ok && i < p->count; i++) {
        uint64_t nonce = wall_ns();
        nonce = nonce > last ? nonce : last + 1; /* unique even on a coarse clock */
        last = nonce;
        int n = request(req, REQ_CAP, p->axon_hotkey, p->port, uuids[i % UUIDS], nonce,
                        (long)(i % 1000));
        ok = n > 0 && fprintf(f, "%d\n", n) > 0 && fwrite(req, 1, (size_t)n, f) == (size_t)n;
        p->bytes += n > 0 ? (size_t)n : 0;
    }
    free(req);
    if (fclose(f) != 0)
        ok = false;
    p->rc = ok ? 0 : -1;
    return NULL;
}

static int cmd_requests(int argc, char **argv)
{
    if (argc != 7)
        return 2;
    const char *prefix = argv[2], *hotkey = argv[5];
    long parts = strtol(argv[3], NULL, 10), count = strtol(argv[4], NULL, 10);
    long port = strtol(argv[6], NULL, 10);
    if (parts < 1 || parts > 64 || count < parts || port < 1 || port > 65535)
        return 2;
    size_t plen = strlen(prefix) + 16;
    part_t *p = calloc((size_t)parts + 1, sizeof(*p));
    pthread_t *t = calloc((size_t)parts + 1, sizeof(*t));
    char *paths = calloc((size_t)parts + 1, plen);
    if (!p || !t || !paths)
        return 1;
    double t0 = gn_bench_now();
    for (long i = 0; i <= parts; i++) {
        char *path = paths + (size_t)i * plen;
        if (i < parts)
            snprintf(path, plen, "%s.%ld", prefix, i);
        else
            snprintf(path, plen, "%s.probe", prefix);
        p[i] =
            (part_t){path, hotkey, (unsigned)port, i < parts ? (size_t)(count / parts) : 1, 0, -1};
        if (i < parts && i < count % parts)
            p[i].count++;
        if (pthread_create(&t[i], NULL, write_part, &p[i]) != 0)
            return 1;
    }
    int rc = 0;
    size_t bytes = 0;
    for (long i = 0; i <= parts; i++) {
        pthread_join(t[i], NULL);
        rc |= p[i].rc;
        bytes += i < parts ? p[i].bytes : 0;
    }
    printf("generated %ld %.3f %zu\n", count, gn_bench_now() - t0, bytes);
    free(p);
    free(t);
    free(paths);
    return rc ? 1 : 0;
}

/* ---- the crypto floor ---- */

#define VMSGS 64

typedef struct vjob {
    double secs;
    double rate;
    double cpu_us; /* thread CPU time per verify */
    int bad;
} vjob_t;

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char vmsg[VMSGS][MSG_CAP];
static size_t vlen[VMSGS];
static uint8_t vsig[VMSGS][64];

static void *verify_loop(void *arg)
{
    vjob_t *j = arg;
    size_t k = 0, n = 0;
    int bad = 0;
    double c0 = thread_cpu();
    j->rate = GN_MEASURE(j->secs, 1, {
        bad |= gn_sr25519_verify(alice.pub, (const uint8_t *)vmsg[k], vlen[k], vsig[k]) != 0;
        k = (k + 1) % VMSGS;
        n++;
    });
    j->cpu_us = (thread_cpu() - c0) * 1e6 / (double)n;
    j->bad = bad;
    return NULL;
}

static double verify_rate(int threads, double secs, int *bad, double *cpu_us)
{
    vjob_t j[64];
    pthread_t t[64];
    double sum = 0;
    for (int i = 0; i < threads; i++) {
        j[i] = (vjob_t){.secs = secs};
        pthread_create(&t[i], NULL, verify_loop, &j[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        sum += j[i].rate;
        *bad |= j[i].bad;
        *cpu_us += j[i].cpu_us / threads;
    }
    return sum;
}

static int cmd_verify(int argc, char **argv)
{
    double secs = argc > 2 ? strtod(argv[2], NULL) : 2.0;
    if (!(secs > 0))
        return 2;
    /* the messages of real requests: the axon's hotkey is //Bob's */
    static const char bob[] = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    uint64_t nonce = wall_ns();
    for (int i = 0; i < VMSGS; i++) {
        char uuid[37];
        uint8_t rnd[32];
        uuid_text(uuid);
        int n = gn_synapse_message(nonce + (uint64_t)i, alice_ss58, bob, uuid, EMPTY_HASH, vmsg[i],
                                   MSG_CAP);
        if (n < 0)
            return 1;
        vlen[i] = (size_t)n;
        randombytes_buf(rnd, sizeof(rnd));
        gn_sr25519_sign(&alice, (const uint8_t *)vmsg[i], vlen[i], rnd, vsig[i]);
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
    int bad = 0;
    double cpu_one = 0, cpu_all = 0;
    double one = verify_rate(1, secs, &bad, &cpu_one);
    double all = verify_rate(threads, secs, &bad, &cpu_all);
    if (bad) {
        fprintf(stderr, "axon_gen: a signature did not verify\n");
        return 1;
    }
    printf("verify_1 %.0f\n", one);
    printf("verify_all %.0f %d\n", all, threads);
    printf("verify_cpu_us %.1f\n", cpu_one);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    uint8_t zero[32] = {0};
    if (gn_suri_keypair("//Alice", 7, zero, &alice, NULL, NULL) < 0 ||
        gn_ss58_encode(alice.pub, 32, 42, alice_ss58, sizeof(alice_ss58)) < 0)
        return 1;
    int rc = 2;
    if (argc >= 2 && !strcmp(argv[1], "verify"))
        rc = cmd_verify(argc, argv);
    else if (argc >= 2 && !strcmp(argv[1], "requests"))
        rc = cmd_requests(argc, argv);
    if (rc == 2)
        fprintf(stderr, "usage: axon_gen verify [SECS] | axon_gen requests PREFIX PARTS COUNT "
                        "AXON_HOTKEY AXON_PORT\n");
    return rc;
}
