/* deploy/demo.sh end to end (`make demo`): the local chain, a subnet, one
 * validator and three miners as processes; its machine-readable report
 * (the last line, "DEMO_RESULT {json}") checked here, and that nothing it
 * started outlives it. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHAIN_DIR GN_SOURCE_DIR "/build/chain"

typedef struct {
    int status; /* exit code, -1 if killed */
    double seconds;
    char *out; /* stdout and stderr, all of it */
    json_t *result;
} demo_run_t;

static void skip_unless_chain(void)
{
    struct stat st;
    if (stat(CHAIN_DIR "/node_modules/@acala-network/chopsticks", &st) != 0) {
        fprintf(stderr,
                "SKIP %s: the local chain is not installed (make chain-metadata; needs "
                "../shared/chain and Node.js)\n",
                criterion_current_test->name);
        cr_skip_test("the local chain is not installed at " CHAIN_DIR);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void demo_free(demo_run_t *d)
{
    free(d->out);
    json_decref(d->result);
    memset(d, 0, sizeof(*d));
}

/* Run deploy/demo.sh with `env` (shell words) and the test build's
 * executable; parse its DEMO_RESULT line. (d is static in the tests: a
 * failed assertion leaves it reachable, not leaked.) */
static void run_demo(demo_run_t *d, const char *env, const char *ganglion)
{
    demo_free(d);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "env %s GANGLION=%s GANGLION_CHAIN_DIR=" CHAIN_DIR " bash " GN_SOURCE_DIR
             "/deploy/demo.sh 2>&1 </dev/null",
             env, ganglion ? ganglion : GN_BUILD_DIR "/ganglion");
    double t0 = now_s();
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, len = 0;
    d->out = malloc(cap);
    cr_assert_not_null(d->out);
    size_t n;
    while ((n = fread(d->out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *more = realloc(d->out, cap * 2);
            cr_assert_not_null(more);
            d->out = more;
            cap *= 2;
        }
    }
    d->out[len] = '\0';
    int st = pclose(p);
    d->seconds = now_s() - t0;
    d->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    /* the last DEMO_RESULT line */
    d->result = NULL;
    const char *line = NULL;
    for (const char *s = d->out; (s = strstr(s, "DEMO_RESULT ")) != NULL; s++)
        if (s == d->out || s[-1] == '\n')
            line = s;
    if (line) {
        const char *js = line + strlen("DEMO_RESULT ");
        size_t jl = strcspn(js, "\n");
        d->result = json_loadb(js, jl, 0, NULL);
    }
    /* the whole transcript in the test's log: it is the demo's report */
    fprintf(stderr, "---- deploy/demo.sh (%s): exit %d after %.1f s\n%s----\n",
            criterion_current_test->name, d->status, d->seconds, d->out);
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool open = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return open;
}

/* A process of the demo's (ganglion, or the script's own subshells), not
 * another one that took a freed pid. */
static bool is_ours(pid_t pid)
{
    char path[64], cmd[4096];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (cmd[i] == '\0')
            cmd[i] = ' ';
    cmd[n] = '\0';
    return strstr(cmd, "ganglion") || strstr(cmd, "demo.sh");
}

/* Nothing the demo started is left: its processes, its chain, its temp dir. */
static void assert_cleaned_up(const json_t *r)
{
    const json_t *pids = json_object_get(r, "pids"), *v;
    size_t i;
    cr_assert(json_is_array(pids));
    pid_t left = 0;
    json_array_foreach (pids, i, v) {
        pid_t pid = (pid_t)json_integer_value(v);
        cr_assert_gt(pid, 1);
        if (kill(pid, 0) == 0) {
            if (is_ours(pid)) /* stopped here, then the test fails */
                kill(pid, SIGKILL);
            left = pid;
        }
    }
    cr_assert_eq(left, 0, "process %d outlived the demo", (int)left);
    json_int_t port = json_integer_value(json_object_get(r, "chain_port"));
    if (port > 0) {
        bool open = port_open((int)port);
        if (open) { /* stop it before failing: never leave a chain behind */
            char pk[128];
            snprintf(pk, sizeof(pk), "pkill -f 'build/chain/chain.mjs.*--port %d( |$)'", (int)port);
            if (system(pk) != 0)
                fprintf(stderr, "pkill found no chain on port %d\n", (int)port);
        }
        cr_assert_not(open, "the chain on port %d outlived the demo", (int)port);
    }
    const char *tmp = json_string_value(json_object_get(r, "tmp_dir"));
    if (tmp && *tmp) {
        struct stat st;
        cr_assert(stat(tmp, &st) != 0, "the temp dir %s was left behind", tmp);
    }
}

/* chain: [[uid, u16]...]; its uid's share of the total (0 when absent). */
static double chain_share(const json_t *chain, json_int_t uid)
{
    double sum = 0, mine = 0;
    size_t i;
    const json_t *pair;
    json_array_foreach (chain, i, pair) {
        double w = json_number_value(json_array_get(pair, 1));
        sum += w;
        if (json_integer_value(json_array_get(pair, 0)) == uid)
            mine = w;
    }
    return sum > 0 ? mine / sum : 0;
}

/* The validator's {uids, values}: the same. */
static double validator_share(const json_t *uids, const json_t *values, json_int_t uid)
{
    double sum = 0, mine = 0;
    size_t i;
    const json_t *u;
    json_array_foreach (uids, i, u) {
        double w = json_number_value(json_array_get(values, i));
        sum += w;
        if (json_integer_value(u) == uid)
            mine = w;
    }
    return sum > 0 ? mine / sum : 0;
}

Test(demo, three_miners_answer_and_weights_reach_the_chain, .timeout = 420)
{
    skip_unless_chain();
    static demo_run_t d;
    run_demo(&d, "", NULL);
    json_t *r = d.result;
    cr_assert_not_null(r, "no DEMO_RESULT line");
    assert_cleaned_up(r);
    cr_assert_eq(d.status, 0, "the demo failed at %s: %s",
                 json_string_value(json_object_get(r, "failed_step")),
                 json_string_value(json_object_get(r, "error")));
    cr_assert(json_is_true(json_object_get(r, "ok")));
    cr_assert(json_is_null(json_object_get(r, "failed_step")));

    /* three miners queried in the validator's last step, each 200 with a
     * positive score, distinct uids */
    const json_t *miners = json_object_get(r, "miners"), *m;
    cr_assert_eq(json_array_size(miners), 3);
    size_t i;
    json_int_t uids[3];
    json_array_foreach (miners, i, m) {
        uids[i] = json_integer_value(json_object_get(m, "uid"));
        cr_assert_eq(json_integer_value(json_object_get(m, "status")), 200, "miner %zu: %s", i,
                     json_string_value(json_object_get(m, "message")));
        cr_assert_gt(json_number_value(json_object_get(m, "score")), 0.0, "miner %zu", i);
        cr_assert_geq(json_number_value(json_object_get(m, "process_time")), 0.0);
        const char *axon = json_string_value(json_object_get(m, "axon"));
        cr_assert(axon && strncmp(axon, "127.0.0.", 8) == 0 && strncmp(axon, "127.0.0.1:", 10),
                  "axon %s: on 127.0.0.2 and up", axon ? axon : "(none)");
    }
    cr_assert(uids[0] != uids[1] && uids[1] != uids[2] && uids[0] != uids[2]);

    /* the weights read back from SubtensorModule.Weights (u16, max-upscaled)
     * equal the validator's normalised scores: both normalised here again,
     * within u16 rounding */
    const json_t *w = json_object_get(r, "weights");
    const json_t *chain = json_object_get(w, "chain_u16");
    const json_t *vuids = json_object_get(json_object_get(w, "validator_raw"), "uids");
    const json_t *vvals = json_object_get(json_object_get(w, "validator_raw"), "values");
    cr_assert_gt(json_integer_value(json_object_get(w, "block")), 0, "weights were set");
    cr_assert_gt(json_array_size(chain), 0);
    cr_assert_eq(json_array_size(vuids), json_array_size(vvals));
    double vsum = 0;
    size_t k;
    json_t *pair, *vu, *vv;
    json_array_foreach (vvals, k, vv)
        vsum += json_number_value(vv);
    cr_assert_lt(fabs(vsum - 1.0), 1e-6, "the validator's weights sum to 1 (%f)", vsum);
    /* every uid on either side: the same share */
    json_array_foreach (chain, k, pair) {
        json_int_t uid = json_integer_value(json_array_get(pair, 0));
        double c = chain_share(chain, uid), v = validator_share(vuids, vvals, uid);
        cr_assert_lt(fabs(c - v), 1e-3, "uid %lld: chain %f, validator %f", (long long)uid, c, v);
    }
    json_array_foreach (vuids, k, vu) {
        json_int_t uid = json_integer_value(vu);
        double c = chain_share(chain, uid), v = validator_share(vuids, vvals, uid);
        cr_assert_lt(fabs(c - v), 1e-3, "uid %lld: validator %f, chain %f", (long long)uid, v, c);
    }
    /* every miner has a share on chain */
    for (int m3 = 0; m3 < 3; m3++)
        cr_assert_gt(chain_share(chain, uids[m3]), 0.0, "miner uid %lld: no weight on chain",
                     (long long)uids[m3]);

    /* under three minutes, by its own clock and by ours */
    cr_assert_lt(json_number_value(json_object_get(r, "elapsed_s")), 180.0);
    cr_assert_lt(d.seconds, 180.0, "the demo took %.1f s", d.seconds);
}

/* A step that fails once the chain and the miners run: a message naming
 * the step, exit 1, and everything stopped. The failure is injected by a
 * wrapper around ganglion: miner2 does not start (miner1 and miner3 do). */
Test(demo, a_failed_step_is_named_and_everything_stops, .timeout = 300)
{
    skip_unless_chain();
    char dir[] = "/tmp/gn-demo-test-XXXXXX", wrapper[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(wrapper, sizeof(wrapper), "%s/ganglion", dir);
    FILE *f = fopen(wrapper, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "#!/bin/sh\n"
            "case \"$*\" in 'miner '*'--wallet.hotkey miner2 '*)\n"
            "  echo 'injected: miner2 does not start' >&2; exit 3 ;;\n"
            "esac\n"
            "exec %s/ganglion \"$@\"\n",
            GN_BUILD_DIR);
    fclose(f);
    cr_assert_eq(chmod(wrapper, 0700), 0);
    static demo_run_t d;
    run_demo(&d, "", wrapper);
    unlink(wrapper);
    rmdir(dir);
    json_t *r = d.result;
    cr_assert_not_null(r, "no DEMO_RESULT line");
    assert_cleaned_up(r);
    cr_assert_eq(d.status, 1);
    cr_assert(json_is_false(json_object_get(r, "ok")));
    cr_assert_str_eq(json_string_value(json_object_get(r, "failed_step")), "miners");
    const char *err = json_string_value(json_object_get(r, "error"));
    cr_assert(err && strstr(err, "miner2 exited early"), "%s", err ? err : "(null)");
    cr_assert(strstr(d.out, "demo: FAILED at miners: miner2 exited early"),
              "the message names the step");
    cr_assert(strstr(d.out, "injected: miner2 does not start"), "and shows the miner's log");
    /* miner1 and miner3 were running: among the processes stopped (with
     * miner2's pid and the demo's watchdog) */
    cr_assert_geq(json_array_size(json_object_get(r, "pids")), 3);
    cr_assert_gt(json_integer_value(json_object_get(r, "chain_port")), 0);
}

Test(demo, a_missing_chain_spec_is_refused_before_anything_starts, .timeout = 60)
{
    skip_unless_chain();
    static demo_run_t d;
    run_demo(&d, "GANGLION_CHAIN_SPEC=/nonexistent/spec.json", NULL);
    json_t *r = d.result;
    cr_assert_not_null(r, "no DEMO_RESULT line");
    assert_cleaned_up(r);
    cr_assert_eq(d.status, 1);
    cr_assert(json_is_false(json_object_get(r, "ok")));
    cr_assert_str_eq(json_string_value(json_object_get(r, "failed_step")), "prerequisites");
    const char *err = json_string_value(json_object_get(r, "error"));
    cr_assert(err && strstr(err, "GANGLION_CHAIN_SPEC=/nonexistent/spec.json is not a file"), "%s",
              err ? err : "(null)");
    cr_assert(json_is_null(json_object_get(r, "chain_port")), "no chain was started");
}
