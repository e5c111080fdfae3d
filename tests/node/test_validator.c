/* `ganglion validator` against the real local chain and two ganglion axons
 * serving Dummy: steps score the miners, weights land on chain equal to
 * the normalised scores, a restart resumes the scores, and a miner that
 * stops answering sees its score decay. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ganglion/ss58.h"
#include "support/axon_fixture.h"
#include "support/chain.h"
#include "support/chain_client.h"
#include "support/run.h"

static gn_run_t r;

static void rm_rf(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* One miner: an axon with //Alice//hk<i>'s key on 127.0.0.<1+i>,
 * published on chain by that hotkey. */
static void miner_start(gn_test_axon_t *f, int i, const char *url)
{
    char uri[32], ip[24];
    snprintf(uri, sizeof(uri), "//Alice//hk%d", i);
    snprintf(ip, sizeof(ip), "127.0.0.%d", 1 + i);
    gn_sr25519_keypair_t kp;
    gn_test_keypair(uri, &kp);
    gn_axon_opts_t o;
    memset(&o, 0, sizeof(o));
    o.ip = ip;
    o.hotkey = &kp;
    gn_test_axon_start(f, &o, NULL, NULL);
    gn_sr25519_wipe(&kp);
    gn_test_run(&r, "",
                "serve --netuid 2 --ip %s --port %d --suri %s --subtensor.chain_endpoint %s", ip,
                f->port, uri, url);
    cr_assert_eq(r.status, 0, "serve: %s %s", r.out, r.err);
}

static json_t *state(const char *sd)
{
    gn_test_run(&r, "", "validator state --state_dir %s", sd);
    cr_assert_eq(r.status, 0, "validator state: %s", r.err);
    json_t *j = json_loads(r.out, 0, NULL);
    cr_assert_not_null(j, "not JSON: %s", r.out);
    return j;
}

static double score_of(const json_t *st, int uid)
{
    size_t i;
    json_t *s;
    json_array_foreach (json_object_get(st, "scores"), i, s)
        if (json_integer_value(json_object_get(s, "uid")) == uid)
            return json_real_value(json_object_get(s, "score"));
    cr_assert_fail("uid %d has no score", uid);
    return 0;
}

static void run_validator(const char *url, const char *wp, const char *sd, int steps)
{
    gn_test_run(&r, "",
                "validator --netuid 2 --wallet.path %s --wallet.name v --wallet.hotkey h "
                "--subtensor.chain_endpoint %s --state_dir %s --validator.step_interval 0.3 "
                "--validator.timeout 5 --validator.max_steps %d --logging.format human",
                wp, url, sd, steps);
    cr_assert_eq(r.status, 0, "validator exited %d:\n%s", r.status, r.err);
}

/* A chain with subnet 2 (hk1 the permitted validator), a wallet for hk1
 * and a state dir. */
typedef struct {
    char url[128];
    int port;
    char cache[32], env[96], wp[32], sd[32];
} setup_t;

static void setup(setup_t *t, bool permit)
{
    snprintf(t->cache, sizeof(t->cache), "/tmp/gn-vca-XXXXXX");
    snprintf(t->wp, sizeof(t->wp), "/tmp/gn-val-XXXXXX");
    snprintf(t->sd, sizeof(t->sd), "/tmp/gn-vst-XXXXXX");
    cr_assert(mkdtemp(t->cache) && mkdtemp(t->wp) && mkdtemp(t->sd));
    gn_test_chain_start(t->url, sizeof(t->url), &t->port);
    snprintf(t->env, sizeof(t->env), "GANGLION_CHAIN_CACHE_DIR=%s", t->cache);
    /* hk1 registered; with permit staked and permitted; limits lifted */
    gn_test_chain_subnet(t->url, 3, permit, t->env);
    gn_test_run(&r, "",
                "wallet regen-coldkey --uri //Alice --no-password --wallet.path %s --wallet.name v",
                t->wp);
    cr_assert_eq(r.status, 0, "%s", r.err);
    gn_test_run(&r, "",
                "wallet regen-hotkey --uri //Alice//hk1 --wallet.path %s --wallet.name v "
                "--wallet.hotkey h",
                t->wp);
    cr_assert_eq(r.status, 0, "%s", r.err);
}

static void teardown_setup(setup_t *t)
{
    gn_test_chain_stop(t->port);
    rm_rf(t->wp);
    rm_rf(t->sd);
    rm_rf(t->cache);
}

/* The weights of uid 1 on chain are the validator's last normalised scores
 * (u16, max-upscaled: compared after normalising both). */
static void weights_match(const char *url, const json_t *st)
{
    size_t i;
    json_t *e;
    json_t *w = json_object_get(st, "weights");
    cr_assert_gt(json_integer_value(json_object_get(w, "block")), 0, "weights never set");
    gn_test_run(&r, "", "chain query SubtensorModule Weights '2' '1' --subtensor.chain_endpoint %s",
                url);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *onchain = json_loads(r.out, 0, NULL);
    cr_assert(json_is_array(onchain), "%s", r.out);
    double sum_chain = 0, sum_ours = 0;
    json_array_foreach (onchain, i, e)
        sum_chain += (double)json_integer_value(json_array_get(e, 1));
    json_t *wu = json_object_get(w, "uids"), *wv = json_object_get(w, "values");
    for (i = 0; i < json_array_size(wv); i++)
        sum_ours += json_real_value(json_array_get(wv, i));
    cr_assert(fabs(sum_ours - 1) < 1e-9, "values sum to %f", sum_ours);
    cr_assert_eq(json_array_size(onchain), json_array_size(wu), "%s", r.out);
    json_array_foreach (onchain, i, e) {
        json_int_t uid = json_integer_value(json_array_get(e, 0));
        double chain_w = (double)json_integer_value(json_array_get(e, 1)) / sum_chain;
        size_t j;
        for (j = 0; j < json_array_size(wu); j++)
            if (json_integer_value(json_array_get(wu, j)) == uid)
                break;
        cr_assert_lt(j, json_array_size(wu), "uid %lld on chain only", (long long)uid);
        double ours = json_real_value(json_array_get(wv, j));
        cr_assert(fabs(chain_w - ours) < 1e-3, "uid %lld: chain %f, validator %f", (long long)uid,
                  chain_w, ours);
    }
    json_decref(onchain);
}

/* Commit-reveal on: the first weights are committed (pending in the
 * state), and revealed by a later run once the reveal epoch has come; then
 * they are on chain. */
static void commit_then_reveal(setup_t *tp)
{
    setup_t t = *tp;
    gn_test_run(&r, t.env,
                "chain submit Sudo sudo '{\"call\":{\"AdminUtils\":"
                "{\"sudo_set_commit_reveal_weights_enabled\":{\"netuid\":2,\"enabled\":true}}}}' "
                "--suri //Alice --subtensor.chain_endpoint %s",
                t.url);
    cr_assert(r.status == 0 && strstr(r.out, "\"Ok\""), "commit-reveal: %s %s", r.out, r.err);
    gn_test_chain_new_blocks(t.url, 12); /* an epoch since the last weights */
    run_validator(t.url, t.wp, t.sd, 1);
    json_t *st = state(t.sd);
    cr_assert(json_is_true(json_object_get(st, "commit_pending")), "no commit pending");
    json_int_t before =
        json_integer_value(json_object_get(json_object_get(st, "weights"), "block"));
    /* to the first block of the reveal epoch */
    json_int_t from = json_integer_value(json_object_get(st, "reveal_from_block"));
    gn_test_run(&r, t.env, "chain head --subtensor.chain_endpoint %s", t.url);
    json_t *head = json_loads(r.out, 0, NULL);
    json_int_t now = json_integer_value(json_object_get(head, "number"));
    json_decref(head);
    cr_assert(from > now && from < now + 30, "reveal from %lld at block %lld", (long long)from,
              (long long)now);
    gn_test_chain_new_blocks(t.url, from - now);
    json_decref(st);
    run_validator(t.url, t.wp, t.sd, 1);
    static char vlog[sizeof(r.err)];
    snprintf(vlog, sizeof(vlog), "%s", r.err);
    st = state(t.sd);
    cr_assert(json_is_false(json_object_get(st, "commit_pending")), "still pending:\n%s", vlog);
    cr_assert_gt(json_integer_value(json_object_get(json_object_get(st, "weights"), "block")),
                 before, "the reveal did not set weights");
    weights_match(t.url, st);
    json_decref(st);
}

Test(validator, scores_weights_restart_decay_commit_reveal, .timeout = 600)
{
    setup_t t;
    setup(&t, true);
    const char *url = t.url, *wp = t.wp, *sd = t.sd;
    gn_test_axon_t m2, m3;
    miner_start(&m2, 2, url);
    miner_start(&m3, 3, url);

    /* two steps: both miners answer, weights are set */
    run_validator(url, wp, sd, 2);
    json_t *st = state(sd);
    cr_assert_eq(json_integer_value(json_object_get(st, "step")), 2);
    double s2 = score_of(st, 2), s3 = score_of(st, 3);
    cr_assert(s2 > 0 && s3 > 0, "scores %f %f", s2, s3);
    cr_assert_eq(score_of(st, 1), 0.0, "the validator does not score itself");
    json_t *q = json_object_get(json_object_get(st, "last_step"), "queried");
    cr_assert_geq(json_array_size(q), 2);
    size_t i;
    json_t *e;
    json_array_foreach (q, i, e) {
        int uid = (int)json_integer_value(json_object_get(e, "uid"));
        if (uid == 2 || uid == 3)
            cr_assert_eq(json_integer_value(json_object_get(e, "status")), 200, "uid %d", uid);
    }
    weights_match(url, st);
    json_decref(st);

    /* a restart resumes: one more step continues the moving average */
    run_validator(url, wp, sd, 1);
    st = state(sd);
    cr_assert_eq(json_integer_value(json_object_get(st, "step")), 3);
    double r2 = score_of(st, 2);
    cr_assert_gt(r2, s2, "uid 2: %f after a restart, %f before (reset?)", r2, s2);
    s3 = score_of(st, 3);
    json_decref(st);

    /* uid 3 stops answering: its score decays, uid 2's does not */
    gn_test_axon_stop(&m3);
    run_validator(url, wp, sd, 2);
    st = state(sd);
    double d3 = score_of(st, 3), d2 = score_of(st, 2);
    cr_assert_lt(d3, s3, "uid 3: %f after failing, %f before", d3, s3);
    cr_assert_geq(d2, r2, "uid 2: %f, before %f", d2, r2);
    json_array_foreach (json_object_get(json_object_get(st, "last_step"), "queried"), i, e)
        if (json_integer_value(json_object_get(e, "uid")) == 3)
            cr_assert_neq(json_integer_value(json_object_get(e, "status")), 200);
    json_decref(st);

    /* then commit-reveal is switched on: the next weights are committed
     * (pending in the state), and revealed by a later run once the reveal
     * epoch has come; then they are on chain */
    commit_then_reveal(&t);

    gn_test_axon_stop(&m2);
    teardown_setup(&t);
}

Test(validator, bad_config_names_the_key)
{
    gn_test_run(&r, "", "validator --validator.alpha 2");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "validator.alpha"), "%s", r.err);
}

/* A Dummy answered 1.5 s late, so a step is in flight when the signal
 * comes. */
typedef struct {
    uv_timer_t t;
    gn_axon_call_t *call;
    json_t *syn;
} late_t;

static void late_closed(uv_handle_t *h)
{
    free(h->data);
}

static void late_tick(uv_timer_t *tm)
{
    late_t *l = tm->data;
    json_int_t in = json_integer_value(json_object_get(l->syn, "dummy_input"));
    json_object_set_new(l->syn, "dummy_output", json_integer(2 * in));
    gn_axon_reply(l->call, l->syn);
    uv_close((uv_handle_t *)tm, late_closed);
}

static void late_dummy(gn_axon_call_t *call, json_t *syn, void *arg)
{
    (void)arg;
    late_t *l = calloc(1, sizeof(*l));
    cr_assert_not_null(l);
    l->call = call;
    l->syn = syn;
    uv_timer_init(gn_axon_call_loop(call), &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, late_tick, 1500, 0);
}

static void attach_late(gn_axon_t *ax, void *arg)
{
    (void)arg;
    gn_axon_handler_t h = {.cls = gn_axon_dummy_class(), .fn = late_dummy};
    cr_assert_eq(gn_axon_attach(ax, &h), 0);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool file_has(const char *path, const char *what)
{
    char buf[65536];
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, what) != NULL;
}

/* SIGTERM while a step waits on a slow miner: the step finishes (the
 * miner's 200 is recorded, not a cancel), the state is written, exit 0
 * well within the grace period. */
Test(validator, sigterm_finishes_the_step_in_flight, .timeout = 600)
{
    setup_t t;
    setup(&t, false);
    char uri[] = "//Alice//hk2";
    gn_sr25519_keypair_t kp;
    gn_test_keypair(uri, &kp);
    gn_axon_opts_t o;
    memset(&o, 0, sizeof(o));
    o.ip = "127.0.0.3";
    o.hotkey = &kp;
    gn_test_axon_t m2;
    gn_test_axon_start(&m2, &o, attach_late, NULL);
    gn_sr25519_wipe(&kp);
    gn_test_run(&r, "",
                "serve --netuid 2 --ip 127.0.0.3 --port %d --suri %s --subtensor.chain_endpoint %s",
                m2.port, uri, t.url);
    cr_assert_eq(r.status, 0, "serve: %s %s", r.out, r.err);

    char log[64], rc[64], pid[64], cmd[2048];
    snprintf(log, sizeof(log), "%s/log", t.sd);
    snprintf(rc, sizeof(rc), "%s/rc", t.sd);
    snprintf(pid, sizeof(pid), "%s/pid", t.sd);
    snprintf(cmd, sizeof(cmd),
             "sh -c '%s/ganglion validator --netuid 2 --wallet.path %s --wallet.name v "
             "--wallet.hotkey h --subtensor.chain_endpoint %s --state_dir %s "
             "--validator.step_interval 0.2 --validator.timeout 5 --validator.disable_set_weights "
             "--logging.format human 2>%s </dev/null & echo $! > %s; wait $!; echo $? > %s' "
             ">/dev/null 2>&1 &",
             GN_BUILD_DIR, t.wp, t.url, t.sd, log, pid, rc);
    cr_assert_eq(system(cmd), 0);
    double t0 = mono_s();
    while (!file_has(log, "step 1 at block") && mono_s() - t0 < 120)
        usleep(100 * 1000);
    cr_assert(file_has(log, "step 1 at block"), "no step in 120 s");
    usleep(600 * 1000); /* step 2 is waiting on the miner now */
    FILE *f = fopen(pid, "r");
    cr_assert_not_null(f);
    long p = 0;
    cr_assert_eq(fscanf(f, "%ld", &p), 1);
    fclose(f);
    double sent = mono_s();
    cr_assert_eq(kill((pid_t)p, SIGTERM), 0);
    while (access(rc, F_OK) != 0 && mono_s() - sent < 30)
        usleep(50 * 1000);
    double took = mono_s() - sent;
    f = fopen(rc, "r");
    cr_assert_not_null(f, "the validator did not exit within 30 s of SIGTERM");
    int code = -1;
    cr_assert_eq(fscanf(f, "%d", &code), 1);
    fclose(f);
    cr_assert_eq(code, 0, "exit %d", code);
    cr_assert_lt(took, 20.0, "took %.1f s (grace period 20 s)", took);
    cr_assert(file_has(log, "stopping"), "no shutdown line");
    json_t *st = state(t.sd);
    cr_assert_geq(json_integer_value(json_object_get(st, "step")), 2);
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get(json_object_get(st, "last_step"), "queried"), i, e)
        if (json_integer_value(json_object_get(e, "uid")) == 2)
            cr_assert_eq(json_integer_value(json_object_get(e, "status")), 200,
                         "the step in flight was not finished: %s",
                         json_string_value(json_object_get(e, "message")));
    json_decref(st);
    gn_test_axon_stop(&m2);
    teardown_setup(&t);
}
