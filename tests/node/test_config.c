/* node/config.c: the schema's defaults, the four sources and their order,
 * YAML files, every kind of error, the endpoint, and `ganglion config show`
 * run as a user would. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../node/config.h"
#include "ganglion/error.h"
#include "ganglion/rpc.h"
#include "support/run.h"

static char dir[64];
static char err[1024];
static gn_config_t *cfg;

static void setup(void)
{
    strcpy(dir, "/tmp/gn-config-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cfg = NULL;
    err[0] = 0;
}

static void teardown(void)
{
    gn_config_free(cfg);
    cfg = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(config, .init = setup, .fini = teardown);

/* dir/name with `text`; returns the path (static, one at a time per slot) */
static const char *write_file(const char *name, const char *text)
{
    static char paths[4][256];
    static int slot;
    char *p = paths[slot++ & 3];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    return p;
}

/* Load with argv given as a NULL-terminated list and envp (NULL: only
 * HOME=/home/gn, so the test's own environment never leaks in). */
static int load_env(const char *role, const char *const *args, const char *const *envp)
{
    static const char *const home_only[] = {"HOME=/home/gn", NULL};
    char *argv[64];
    int argc = 0;
    for (; args && args[argc]; argc++) {
        cr_assert_lt(argc, 63);
        argv[argc] = (char *)args[argc];
    }
    argv[argc] = NULL;
    gn_config_free(cfg);
    cfg = NULL;
    err[0] = 0;
    int rc =
        gn_config_load(role, argc, argv, (char **)(envp ? envp : home_only), &cfg, err, sizeof err);
    if (rc)
        cr_assert_null(cfg, "a failed load must not return a config");
    else
        cr_assert_not_null(cfg);
    return rc;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ENV(...)  ((const char *const[]){__VA_ARGS__, NULL})
#define NOARGS    ((const char *const[]){NULL})

/* A load that must fail with `code` and exactly `want` as its message. */
static void expect_err(int rc, int code, const char *want)
{
    cr_assert_eq(rc, code, "rc %d (%s), want %d; err: %s", rc, gn_errname(rc), code, err);
    cr_assert_str_eq(err, want);
    cr_assert_null(strchr(err, '\n'), "one line");
}

static const char *where_of(const char *key)
{
    const char *w = NULL;
    gn_config_source(cfg, key, &w);
    cr_assert_not_null(w);
    return w;
}

Test(config, defaults)
{
    cr_assert_eq(load_env("miner", NOARGS, NULL), 0, "%s", err);
    cr_assert_eq(gn_config_int(cfg, "netuid"), 1);
    cr_assert_str_eq(gn_config_str(cfg, "config"), "");
    cr_assert_str_eq(gn_config_str(cfg, "wallet.name"), "default");
    cr_assert_str_eq(gn_config_str(cfg, "wallet.hotkey"), "default");
    cr_assert_str_eq(gn_config_str(cfg, "wallet.path"), "/home/gn/.bittensor/wallets");
    cr_assert_str_eq(gn_config_str(cfg, "subtensor.network"), "finney");
    cr_assert_str_eq(gn_config_str(cfg, "subtensor.chain_endpoint"), "");
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 8091);
    cr_assert_str_eq(gn_config_str(cfg, "axon.ip"), "0.0.0.0");
    cr_assert_str_eq(gn_config_str(cfg, "axon.external_ip"), "");
    cr_assert_eq(gn_config_int(cfg, "axon.external_port"), 0);
    cr_assert_eq(gn_config_int(cfg, "axon.max_workers"), 10);
    cr_assert_not(gn_config_bool(cfg, "axon.off"));
    cr_assert_not(gn_config_bool(cfg, "logging.debug"));
    cr_assert_not(gn_config_bool(cfg, "logging.trace"));
    cr_assert_not(gn_config_bool(cfg, "logging.info"));
    cr_assert_str_eq(gn_config_str(cfg, "logging.format"), "auto");
    cr_assert_str_eq(gn_config_str(cfg, "logging.logging_dir"), "/home/gn/.bittensor/miners");
    cr_assert_not(gn_config_bool(cfg, "logging.record_log"));
    cr_assert_str_eq(gn_config_str(cfg, "state_dir"), "");
    cr_assert_eq(gn_config_int(cfg, "metrics.port"), 0);
    cr_assert_str_eq(gn_config_str(cfg, "metrics.ip"), "127.0.0.1");
    cr_assert_eq(gn_config_int(cfg, "metagraph.sync_blocks"), 100);
    cr_assert(gn_config_bool(cfg, "metagraph.persist"));
    cr_assert_float_eq(gn_config_float(cfg, "node.grace_period"), 20.0, 1e-12);
    cr_assert_not(gn_config_bool(cfg, "miner.register"));
    cr_assert_not(gn_config_bool(cfg, "miner.require_validator_permit"));
    cr_assert_not(gn_config_bool(cfg, "miner.allow_non_registered"));
    cr_assert_float_eq(gn_config_float(cfg, "miner.min_stake"), 0.0, 1e-12);
    size_t n = 99;
    const char *const *l = gn_config_list(cfg, "miner.handlers", &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(l[0], "Dummy");
    cr_assert_str_eq(l[1], "StreamingDummy");
    gn_config_list(cfg, "miner.plugins", &n);
    cr_assert_eq(n, 0);
    gn_config_list(cfg, "miner.workers", &n);
    cr_assert_eq(n, 0);
    cr_assert_float_eq(gn_config_float(cfg, "miner.per_hotkey_rate"), 0.0, 1e-12);
    cr_assert(gn_config_bool(cfg, "miner.serve_axon"));
    cr_assert_eq(gn_config_int(cfg, "validator.sample_size"), 0);
    cr_assert_float_eq(gn_config_float(cfg, "validator.alpha"), 0.1, 1e-12);
    cr_assert_eq(gn_config_int(cfg, "validator.epoch_length"), 0);
    cr_assert_float_eq(gn_config_float(cfg, "validator.step_interval"), 12.0, 1e-12);
    cr_assert_float_eq(gn_config_float(cfg, "validator.timeout"), 12.0, 1e-12);
    cr_assert_str_eq(gn_config_str(cfg, "validator.task"), "Dummy");
    cr_assert_str_eq(gn_config_str(cfg, "validator.scorer"), "");
    cr_assert_not(gn_config_bool(cfg, "validator.disable_set_weights"));
    cr_assert_eq(gn_config_int(cfg, "validator.version_key"), 0);
    cr_assert_eq(gn_config_int(cfg, "validator.max_steps"), 0);
    const char *w = NULL;
    cr_assert_eq(gn_config_source(cfg, "axon.port", &w), GN_CFG_DEFAULT);
    cr_assert_str_eq(w, "default");
    cr_assert_not(gn_config_is_set(cfg, "axon.port"));
}

Test(config, precedence_default_file_env_flag)
{
    const char *f = write_file("p.yaml", "netuid: 7\naxon:\n  port: 1001\n");
    char where_file[300];
    snprintf(where_file, sizeof where_file, "%s:3", f);

    cr_assert_eq(load_env("miner", NOARGS, NULL), 0, "%s", err);
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 8091);
    cr_assert_eq(gn_config_source(cfg, "axon.port", NULL), GN_CFG_DEFAULT);

    cr_assert_eq(load_env("miner", ARGS("--config", f), NULL), 0, "%s", err);
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 1001);
    cr_assert_eq(gn_config_source(cfg, "axon.port", NULL), GN_CFG_FILE);
    cr_assert_str_eq(where_of("axon.port"), where_file);
    cr_assert(gn_config_is_set(cfg, "axon.port"));
    cr_assert_eq(gn_config_source(cfg, "config", NULL), GN_CFG_FLAG);
    cr_assert_str_eq(gn_config_str(cfg, "config"), f);

    cr_assert_eq(load_env("miner", ARGS("--config", f), ENV("GANGLION_AXON_PORT=1002")), 0, "%s",
                 err);
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 1002);
    cr_assert_eq(gn_config_source(cfg, "axon.port", NULL), GN_CFG_ENV);
    cr_assert_str_eq(where_of("axon.port"), "GANGLION_AXON_PORT");
    cr_assert_eq(gn_config_int(cfg, "netuid"), 7, "the file's other keys stay");

    cr_assert_eq(load_env("miner", ARGS("--axon.port", "1003", "--config", f),
                          ENV("GANGLION_AXON_PORT=1002")),
                 0, "%s", err);
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 1003);
    cr_assert_eq(gn_config_source(cfg, "axon.port", NULL), GN_CFG_FLAG);
    cr_assert_str_eq(where_of("axon.port"), "--axon.port");

    /* --key=value and the file named by the environment */
    char cfgvar[300];
    snprintf(cfgvar, sizeof cfgvar, "GANGLION_CONFIG=%s", f);
    cr_assert_eq(load_env("miner", ARGS("--axon.port=1004"), ENV(cfgvar)), 0, "%s", err);
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 1004);
    cr_assert_eq(gn_config_int(cfg, "netuid"), 7);
    cr_assert_eq(gn_config_source(cfg, "config", NULL), GN_CFG_ENV);
    cr_assert_str_eq(where_of("config"), "GANGLION_CONFIG");
    snprintf(where_file, sizeof where_file, "%s:1", f);
    cr_assert_str_eq(where_of("netuid"), where_file);
}

Test(config, yaml_nested_and_dotted)
{
    const char *f = write_file("n.yaml", "# a comment\n"
                                         "wallet:\n"
                                         "  name: alice\n"
                                         "  hotkey.x: 1\n");
    char want[400];
    snprintf(want, sizeof want, "%s:4: wallet.hotkey.x: unknown key (did you mean wallet.hotkey?)",
             f);
    expect_err(load_env("miner", ARGS("--config", f), NULL), GN_EINVAL, want);

    f = write_file("n2.yaml", "wallet:\n"
                              "  name: alice\n"
                              "  hotkey: \"hk 1\"\n"
                              "axon.port: 9000\n"
                              "validator:\n"
                              "  alpha: 0.25\n"
                              "  disable_set_weights: yes\n"
                              "logging: {debug: true, format: json}\n"
                              "state_dir: ~/state\n"
                              "miner.min_stake: 12.5\n"
                              "subtensor:\n"
                              "  chain_endpoint: 'ws://10.0.0.1:9944'\n"
                              "metrics:\n"
                              "node:\n"
                              "  grace_period: 1.5\n");
    cr_assert_eq(load_env("validator", ARGS("--config", f), NULL), 0, "%s", err);
    cr_assert_str_eq(gn_config_str(cfg, "wallet.name"), "alice");
    cr_assert_str_eq(gn_config_str(cfg, "wallet.hotkey"), "hk 1");
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 9000);
    cr_assert_float_eq(gn_config_float(cfg, "validator.alpha"), 0.25, 1e-12);
    cr_assert(gn_config_bool(cfg, "validator.disable_set_weights"));
    cr_assert(gn_config_bool(cfg, "logging.debug"));
    cr_assert_str_eq(gn_config_str(cfg, "logging.format"), "json");
    cr_assert_str_eq(gn_config_str(cfg, "state_dir"), "/home/gn/state");
    cr_assert_float_eq(gn_config_float(cfg, "miner.min_stake"), 12.5, 1e-12);
    cr_assert_str_eq(gn_config_str(cfg, "subtensor.chain_endpoint"), "ws://10.0.0.1:9944");
    cr_assert_float_eq(gn_config_float(cfg, "node.grace_period"), 1.5, 1e-12);
    /* an empty section (`metrics:`) leaves its keys at their defaults */
    cr_assert_eq(gn_config_source(cfg, "metrics.port", NULL), GN_CFG_DEFAULT);
    char w[300];
    snprintf(w, sizeof w, "%s:6", f);
    cr_assert_str_eq(where_of("validator.alpha"), w);
    snprintf(w, sizeof w, "%s:8", f);
    cr_assert_str_eq(where_of("logging.format"), w);
    /* `~user` is not ours to expand */
    cr_assert_eq(load_env("miner", ARGS("--state_dir", "~bob/x"), NULL), 0, "%s", err);
    cr_assert_str_eq(gn_config_str(cfg, "state_dir"), "~bob/x");
}

static void expect_list(const char *key, size_t want_n, const char *const *want)
{
    size_t n = 99;
    const char *const *l = gn_config_list(cfg, key, &n);
    cr_assert_eq(n, want_n, "%s: %zu items, want %zu", key, n, want_n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(l[i], want[i]);
}

Test(config, lists)
{
    const char *f = write_file("l.yaml", "miner:\n"
                                         "  handlers: [A, B]\n"
                                         "  plugins:\n"
                                         "    - /x/a.so\n"
                                         "    - \"/x/b, c.so\"\n"
                                         "  workers: /run/w1.sock, /run/w2.sock\n");
    cr_assert_eq(load_env("miner", ARGS("--config", f), NULL), 0, "%s", err);
    expect_list("miner.handlers", 2, ARGS("A", "B"));
    expect_list("miner.plugins", 2, ARGS("/x/a.so", "/x/b, c.so"));
    expect_list("miner.workers", 2, ARGS("/run/w1.sock", "/run/w2.sock"));

    /* a flag replaces the file's list; repeated flags append */
    cr_assert_eq(load_env("miner",
                          ARGS("--config", f, "--miner.handlers", "C,D", "--miner.handlers=E",
                               "--miner.plugins="),
                          NULL),
                 0, "%s", err);
    expect_list("miner.handlers", 3, ARGS("C", "D", "E"));
    cr_assert_eq(gn_config_source(cfg, "miner.handlers", NULL), GN_CFG_FLAG);
    expect_list("miner.plugins", 0, NULL);
    cr_assert_eq(gn_config_source(cfg, "miner.plugins", NULL), GN_CFG_FLAG);

    /* the environment: comma-separated */
    cr_assert_eq(load_env("miner", NOARGS, ENV("GANGLION_MINER_WORKERS=/a.sock,/b.sock")), 0, "%s",
                 err);
    expect_list("miner.workers", 2, ARGS("/a.sock", "/b.sock"));
    cr_assert_str_eq(where_of("miner.workers"), "GANGLION_MINER_WORKERS");

    /* list items must be scalars */
    f = write_file("l2.yaml", "miner:\n  handlers:\n    - [A]\n");
    char want[400];
    snprintf(want, sizeof want, "%s:3: miner.handlers: list items must be strings", f);
    expect_err(load_env("miner", ARGS("--config", f), NULL), GN_EINVAL, want);
}

Test(config, bools)
{
    cr_assert_eq(load_env("miner", ARGS("--miner.register"), NULL), 0, "%s", err);
    cr_assert(gn_config_bool(cfg, "miner.register"));
    cr_assert_eq(load_env("miner", ARGS("--miner.serve_axon", "false", "--netuid", "3"), NULL), 0,
                 "%s", err);
    cr_assert_not(gn_config_bool(cfg, "miner.serve_axon"));
    cr_assert_eq(gn_config_int(cfg, "netuid"), 3);
    /* a bool flag alone before another flag */
    cr_assert_eq(load_env("miner", ARGS("--axon.off", "--netuid", "4"), NULL), 0, "%s", err);
    cr_assert(gn_config_bool(cfg, "axon.off"));
    cr_assert_eq(gn_config_int(cfg, "netuid"), 4);
    cr_assert_eq(load_env("miner", ARGS("--no-miner.serve_axon"), NULL), 0, "%s", err);
    cr_assert_not(gn_config_bool(cfg, "miner.serve_axon"));
    cr_assert_str_eq(where_of("miner.serve_axon"), "--no-miner.serve_axon");
    cr_assert_eq(load_env("miner", ARGS("--metagraph.persist=OFF"), NULL), 0, "%s", err);
    cr_assert_not(gn_config_bool(cfg, "metagraph.persist"));
    const char *const words[] = {"true", "TRUE", "1", "yes", "Yes", "on", "ON"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char var[64];
        snprintf(var, sizeof var, "GANGLION_LOGGING_TRACE=%s", words[i]);
        cr_assert_eq(load_env("miner", NOARGS, ENV(var)), 0, "%s", err);
        cr_assert(gn_config_bool(cfg, "logging.trace"), "%s", words[i]);
    }
    const char *const no[] = {"false", "False", "0", "no", "NO", "off"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        char var[64];
        snprintf(var, sizeof var, "GANGLION_METAGRAPH_PERSIST=%s", no[i]);
        cr_assert_eq(load_env("miner", NOARGS, ENV(var)), 0, "%s", err);
        cr_assert_not(gn_config_bool(cfg, "metagraph.persist"), "%s", no[i]);
    }
}

Test(config, sdk_env_names)
{
    cr_assert_eq(load_env("miner", NOARGS,
                          ENV("BT_AXON_PORT=7001", "BT_WALLET_NAME=bt", "BT_LOGGING_DEBUG=1",
                              "BT_SUBTENSOR_NETWORK=test", "BT_AXON_EXTERNAL_IP=203.0.113.9",
                              "BT_LOGGING_LOGGING_DIR=/var/log/gn", "HOME=/home/gn")),
                 0, "%s", err);
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 7001);
    cr_assert_eq(gn_config_source(cfg, "axon.port", NULL), GN_CFG_ENV);
    cr_assert_str_eq(where_of("axon.port"), "BT_AXON_PORT");
    cr_assert_str_eq(gn_config_str(cfg, "wallet.name"), "bt");
    cr_assert(gn_config_bool(cfg, "logging.debug"));
    cr_assert_str_eq(gn_config_str(cfg, "subtensor.network"), "test");
    cr_assert_str_eq(gn_config_str(cfg, "axon.external_ip"), "203.0.113.9");
    cr_assert_str_eq(gn_config_str(cfg, "logging.logging_dir"), "/var/log/gn");

    /* GANGLION_* wins, whatever the order of the environment */
    cr_assert_eq(load_env("miner", NOARGS,
                          ENV("GANGLION_AXON_PORT=7003", "BT_AXON_PORT=7001", "BT_WALLET_HOTKEY=h1",
                              "GANGLION_WALLET_HOTKEY=h2")),
                 0, "%s", err);
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 7003);
    cr_assert_str_eq(where_of("axon.port"), "GANGLION_AXON_PORT");
    cr_assert_str_eq(gn_config_str(cfg, "wallet.hotkey"), "h2");
    /* and a flag beats both */
    cr_assert_eq(load_env("miner", ARGS("--axon.port", "7004"),
                          ENV("GANGLION_AXON_PORT=7003", "BT_AXON_PORT=7001")),
                 0, "%s", err);
    cr_assert_eq(gn_config_int(cfg, "axon.port"), 7004);
    /* a bad BT_* value names the variable */
    expect_err(load_env("miner", NOARGS, ENV("BT_AXON_MAX_WORKERS=0")), GN_EINVAL,
               "environment BT_AXON_MAX_WORKERS: 0 is out of range 1..4096");
    /* other GANGLION_* variables are not ours to refuse */
    cr_assert_eq(load_env("miner", NOARGS,
                          ENV("GANGLION_CHAIN_CACHE_DIR=/x", "GANGLION_TEST_SEED=1",
                              "GANGLION_METADATA=/y")),
                 0, "%s", err);
}

Test(config, errors)
{
    char want[600];
    const char *f;

    f = write_file("e1.yaml", "netuid: 2\nwallet:\n  nmae: x\n");
    snprintf(want, sizeof want, "%s:3: wallet.nmae: unknown key (did you mean wallet.name?)", f);
    expect_err(load_env("miner", ARGS("--config", f), NULL), GN_EINVAL, want);

    f = write_file("e2.yaml", "frobnicate: 1\n");
    snprintf(want, sizeof want, "%s:1: frobnicate: unknown key", f);
    expect_err(load_env("miner", ARGS("--config", f), NULL), GN_EINVAL, want);

    expect_err(load_env("miner", ARGS("--netuid", "abc"), NULL), GN_EINVAL,
               "flag --netuid: \"abc\" is not an integer");
    expect_err(load_env("miner", ARGS("--netuid", "3x"), NULL), GN_EINVAL,
               "flag --netuid: \"3x\" is not an integer");
    expect_err(load_env("miner", ARGS("--netuid", "99999999999999999999999"), NULL), GN_EINVAL,
               "flag --netuid: 99999999999999999999999 is out of range 0..65535");

    f = write_file("e3.yaml", "# ports\naxon:\n  port: 70000\n");
    snprintf(want, sizeof want, "%s:3: axon.port: 70000 is out of range 1..65535", f);
    expect_err(load_env("miner", ARGS("--config", f), NULL), GN_EINVAL, want);

    expect_err(load_env("miner", NOARGS, ENV("GANGLION_MINER_REGISTER=maybe")), GN_EINVAL,
               "environment GANGLION_MINER_REGISTER: \"maybe\" is not a boolean (true/false, "
               "yes/no, on/off, 1/0)");

    expect_err(load_env("miner", ARGS("--logging.format", "xml"), NULL), GN_EINVAL,
               "flag --logging.format: \"xml\" is not one of auto, human, json");

    f = write_file("e4.yaml", "netuid: 1\nwallet: [a\n");
    int rc = load_env("miner", ARGS("--config", f), NULL);
    cr_assert_eq(rc, GN_EPARSE, "%s", err);
    snprintf(want, sizeof want, "%s:3: YAML syntax error: ", f);
    cr_assert_eq(strncmp(err, want, strlen(want)), 0, "%s", err);

    f = write_file("e5.yaml", "a: b: c\n");
    snprintf(want, sizeof want,
             "%s:1: YAML syntax error: mapping values are not allowed in this context", f);
    expect_err(load_env("miner", ARGS("--config", f), NULL), GN_EPARSE, want);

    snprintf(want, sizeof want, "%s/none.yaml", dir);
    rc = load_env("miner", ARGS("--config", want), NULL);
    cr_assert_eq(rc, GN_ENOENT);
    char w2[700];
    snprintf(w2, sizeof w2, "%s: cannot read the config file: No such file or directory", want);
    cr_assert_str_eq(err, w2);

    expect_err(load_env("miner", ARGS("--netuid", "2", "serve"), NULL), GN_EINVAL,
               "argument \"serve\": unexpected (flags are --key value)");
    expect_err(load_env("miner", ARGS("-v"), NULL), GN_EINVAL,
               "argument \"-v\": unexpected (flags are --key value)");
    expect_err(load_env("miner", ARGS("--axon.prot", "1"), NULL), GN_EINVAL,
               "flag --axon.prot: unknown key (did you mean axon.port?)");
    expect_err(load_env("miner", ARGS("--wallet.name"), NULL), GN_EINVAL,
               "flag --wallet.name: missing value");
    expect_err(load_env("miner", ARGS("--config"), NULL), GN_EINVAL,
               "flag --config: missing value");
    expect_err(load_env("miner", ARGS("--no-axon.off=1"), NULL), GN_EINVAL,
               "flag --no-axon.off: takes no value");
    expect_err(load_env("miner", NOARGS, ENV("GANGLION_AXON_PROT=1")), GN_EINVAL,
               "environment GANGLION_AXON_PROT: unknown key (no such setting)");
    expect_err(load_env("miner", NOARGS, ENV("GANGLION_VALIDATOR_TIMEOUT=0")), GN_EINVAL,
               "environment GANGLION_VALIDATOR_TIMEOUT: 0 is out of range 0.01..3600");
    expect_err(load_env("miner", ARGS("--validator.alpha", "0"), NULL), GN_EINVAL,
               "flag --validator.alpha: 0 is out of range 0 < x <= 1");
    expect_err(load_env("miner", ARGS("--validator.alpha", "nan"), NULL), GN_EINVAL,
               "flag --validator.alpha: \"nan\" is not a number");
    expect_err(load_env("miner", ARGS("--validator.sample_size", "-1"), NULL), GN_EINVAL,
               "flag --validator.sample_size: -1 must be >= 0");
    expect_err(load_env("miner", ARGS("--miner.min_stake", "-0.5"), NULL), GN_EINVAL,
               "flag --miner.min_stake: -0.5 must be >= 0");
    expect_err(load_env("miner", ARGS("--axon.ip", "localhost"), NULL), GN_EINVAL,
               "flag --axon.ip: \"localhost\" is not an IPv4 or IPv6 address");
    expect_err(load_env("miner", ARGS("--subtensor.network", "finey"), NULL), GN_EINVAL,
               "flag --subtensor.network: \"finey\" is not a network (finney, test, archive, "
               "local, latent-lite) or a ws:// / wss:// URL");
    expect_err(load_env("miner", ARGS("--subtensor.chain_endpoint", "http://x:1"), NULL), GN_EINVAL,
               "flag --subtensor.chain_endpoint: \"http://x:1\": the scheme must be ws:// or "
               "wss://");
    /* values are quoted and escaped: the message stays one line */
    expect_err(load_env("miner", ARGS("--netuid", "1\n2\""), NULL), GN_EINVAL,
               "flag --netuid: \"1\\x0a2\\\"\" is not an integer");
    expect_err(load_env("miner", ARGS("--wallet.name", "a\xff"), NULL), GN_EINVAL,
               "flag --wallet.name: \"a\\xff\" is not valid UTF-8");
    expect_err(load_env("miner", ARGS("--bad\nflag"), NULL), GN_EINVAL,
               "flag --bad?flag: unknown key");
    f = write_file("e6.yaml", "\"net\\nuid\": 1\n");
    snprintf(want, sizeof want, "%s:1: net?uid: unknown key (did you mean netuid?)", f);
    expect_err(load_env("miner", ARGS("--config", f), NULL), GN_EINVAL, want);
    expect_err(load_env("ninja", NOARGS, NULL), GN_EINVAL,
               "role \"ninja\": not one of miner, validator");
}

Test(config, yaml_structure_errors)
{
    static const struct {
        const char *text, *msg;
        int code;
    } cases[] = {
        {"- a\n- b\n", "1: the config file must be a mapping of keys (key: value)", GN_EINVAL},
        {"just text\n", "1: the config file must be a mapping of keys (key: value)", GN_EINVAL},
        {"netuid: 1\nnetuid: 2\n", "2: netuid: duplicate key", GN_EINVAL},
        {"wallet:\n  name: a\nwallet.name: b\n", "3: wallet.name: set twice (first at line 2)",
         GN_EINVAL},
        {"base: &b\n  name: a\n", "1: anchors (&name) are not supported", GN_EINVAL},
        {"wallet: {name: &n a, hotkey: *n}\n", "1: anchors (&name) are not supported", GN_EINVAL},
        {"axon:\n  port:\n    value: 1\n", "3: axon.port: a mapping where an integer is expected",
         GN_EINVAL},
        {"wallet:\n  name: [a, b]\n", "2: wallet.name: a list where a string is expected",
         GN_EINVAL},
        {"wallet: x\n", "1: wallet: a section: expected a mapping of its keys", GN_EINVAL},
        {"axon:\n  port:\n", "2: axon.port: no value (an integer is expected)", GN_EINVAL},
        {"config: other.yaml\n",
         "1: config: not allowed in a config file (use --config or GANGLION_CONFIG)", GN_EINVAL},
        {"netuid: 1\n---\nnetuid: 2\n", "2: more than one YAML document", GN_EINVAL},
        {"? [a]\n: 1\n", "1: keys must be plain names", GN_EINVAL},
        {"netuid: \"1\\0\"\n", "1: netuid: a NUL byte in the value", GN_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *f = write_file("s.yaml", cases[i].text);
        char want[600];
        snprintf(want, sizeof want, "%s:%s", f, cases[i].msg);
        int rc = load_env("miner", ARGS("--config", f), NULL);
        cr_assert_eq(rc, cases[i].code, "case %zu: %s", i, err);
        cr_assert_str_eq(err, want, "case %zu", i);
    }
    /* an empty file, or one of comments, sets nothing */
    const char *f = write_file("empty.yaml", "# nothing yet\n");
    cr_assert_eq(load_env("miner", ARGS("--config", f), NULL), 0, "%s", err);
    cr_assert_eq(gn_config_source(cfg, "netuid", NULL), GN_CFG_DEFAULT);
    f = write_file("empty2.yaml", "");
    cr_assert_eq(load_env("miner", ARGS("--config", f), NULL), 0, "%s", err);
    /* a directory is not a config file */
    cr_assert_eq(load_env("miner", ARGS("--config", dir), NULL), GN_EINVAL);
    cr_assert(strstr(err, "not a regular file"), "%s", err);
}

Test(config, big_and_deep_files)
{
    /* over 1 MiB: refused before parsing */
    char p[300];
    snprintf(p, sizeof p, "%s/big.yaml", dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < (1 << 20) / 8 + 1; i++)
        fputs("# ......\n", f);
    fclose(f);
    char want[400];
    snprintf(want, sizeof want, "%s: the config file is larger than 1 MiB", p);
    expect_err(load_env("miner", ARGS("--config", p), NULL), GN_EINVAL, want);

    /* deep flow nesting (libyaml's scanner is quadratic in it): refused at
     * once, well within the test's time */
    static char deep[1000001];
    for (int i = 0; i < 500000; i++)
        deep[i] = '[', deep[500000 + i] = ']';
    const char *d = write_file("deep.yaml", deep);
    snprintf(want, sizeof want, "%s:1: nested deeper than 16 levels", d);
    expect_err(load_env("miner", ARGS("--config", d), NULL), GN_EINVAL, want);
    memset(deep, 0, sizeof deep);
    for (int i = 0; i < 200000; i++)
        memcpy(deep + 5 * i, "{a: [", 5);
    d = write_file("deep2.yaml", deep);
    cr_assert_eq(load_env("miner", ARGS("--config", d), NULL), GN_EINVAL);
    cr_assert(strstr(err, "nested deeper than 16 levels"), "%s", err);
    /* maps under a section are unknown keys; too deep ones never get that far */
    d = write_file("nest3.yaml", "wallet:\n  k1:\n    k2: 1\n");
    snprintf(want, sizeof want, "%s:2: wallet.k1: unknown key", d);
    expect_err(load_env("miner", ARGS("--config", d), NULL), GN_EINVAL, want);
    char nest[4096] = "wallet:\n";
    size_t o = strlen(nest);
    for (int i = 1; i < 60; i++)
        o += (size_t)snprintf(nest + o, sizeof nest - o, "%*sk%d:\n", i * 2, "", i);
    d = write_file("nest.yaml", nest);
    cr_assert_eq(load_env("miner", ARGS("--config", d), NULL), GN_EINVAL);
    /* the 17th map (root, wallet, k1..k15) opens with line 17's key */
    snprintf(want, sizeof want, "%s:17: nested deeper than 16 levels", d);
    cr_assert_str_eq(err, want);
}

/* Random damage to a valid file: every load ends in a config or one line of
 * error, never a crash or a leak. */
Test(config, mutated_files)
{
    char path[300];
    snprintf(path, sizeof path, "%s/config/miner.yaml", GN_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    static char orig[16384], buf[16384];
    size_t n = fread(orig, 1, sizeof orig - 1, f);
    fclose(f);
    cr_assert_gt(n, 100);
    srand(12345);
    static const char junk[] = ":-[]{}&*!|>'\"%@`#,?\n \t\\0xA";
    int ok = 0, bad = 0;
    for (int round = 0; round < 400; round++) {
        memcpy(buf, orig, n);
        size_t m = n;
        for (int k = 0; k < 1 + rand() % 4; k++) {
            size_t at = (size_t)rand() % m;
            if (rand() % 3 == 0 && m > 1) { /* delete */
                memmove(buf + at, buf + at + 1, m - at - 1);
                m--;
            } else {
                buf[at] = junk[rand() % (int)(sizeof junk - 1)];
            }
        }
        buf[m] = 0;
        const char *p = write_file("m.yaml", buf);
        int rc = load_env("miner", ARGS("--config", p), NULL);
        if (rc == 0) {
            ok++;
        } else {
            bad++;
            cr_assert(rc == GN_EINVAL || rc == GN_EPARSE, "rc %d: %s", rc, err);
            cr_assert_gt(strlen(err), 0);
            cr_assert_null(strchr(err, '\n'), "%s", err);
        }
    }
    cr_assert_gt(bad, 0);
    cr_assert_gt(ok, 0);
}

Test(config, ip_forms)
{
    cr_assert_eq(
        load_env("miner", ARGS("--axon.ip", "::", "--axon.external_ip", "[2001:db8::1]"), NULL), 0,
        "%s", err);
    cr_assert_str_eq(gn_config_str(cfg, "axon.ip"), "::");
    cr_assert_eq(load_env("miner", ARGS("--axon.external_ip="), NULL), 0, "%s", err);
    cr_assert_str_eq(gn_config_str(cfg, "axon.external_ip"), "");
    expect_err(load_env("miner", ARGS("--metrics.ip="), NULL), GN_EINVAL,
               "flag --metrics.ip: \"\" is not an IPv4 or IPv6 address");
}

static void expect_endpoint(const char *const *args, const char *want)
{
    cr_assert_eq(load_env("miner", args, NULL), 0, "%s", err);
    char url[256];
    cr_assert_eq(gn_config_endpoint(cfg, url, sizeof url), 0);
    cr_assert_str_eq(url, want);
}

Test(config, endpoint)
{
    /* the spec's table (§9.4), and the same as the RPC client's */
    expect_endpoint(NOARGS, "wss://entrypoint-finney.opentensor.ai:443");
    expect_endpoint(ARGS("--subtensor.network", "test"), "wss://test.finney.opentensor.ai:443");
    expect_endpoint(ARGS("--subtensor.network", "archive"),
                    "wss://archive.chain.opentensor.ai:443");
    expect_endpoint(ARGS("--subtensor.network", "latent-lite"), "wss://lite.sub.latent.to:443");
    expect_endpoint(ARGS("--subtensor.network", "local"), "ws://127.0.0.1:9944");
    char url[256];
    cr_assert_eq(load_env("miner", ARGS("--subtensor.network", "test"), NULL), 0);
    cr_assert_eq(gn_config_endpoint(cfg, url, sizeof url), 0);
    cr_assert_str_eq(url, gn_rpc_network_url("test"));
    /* an explicit endpoint wins over the network (unlike the SDK) */
    expect_endpoint(
        ARGS("--subtensor.network", "test", "--subtensor.chain_endpoint", "wss://node.example:443"),
        "wss://node.example:443");
    /* BT_SUBTENSOR_CHAIN_ENDPOINT is the endpoint too */
    cr_assert_eq(load_env("miner", NOARGS,
                          ENV("BT_SUBTENSOR_NETWORK=local",
                              "BT_SUBTENSOR_CHAIN_ENDPOINT=ws://10.1.1.1:9944")),
                 0, "%s", err);
    cr_assert_eq(gn_config_endpoint(cfg, url, sizeof url), 0);
    cr_assert_str_eq(url, "ws://10.1.1.1:9944");
    /* bare host:port gets ws:// */
    expect_endpoint(ARGS("--subtensor.chain_endpoint", "10.0.0.5:9944"), "ws://10.0.0.5:9944");
    expect_endpoint(ARGS("--subtensor.network", "node.example:9944"), "ws://node.example:9944");
    expect_endpoint(ARGS("--subtensor.network", "wss://n.example"), "wss://n.example");
    /* too small a buffer */
    cr_assert_eq(load_env("miner", NOARGS, NULL), 0);
    cr_assert_eq(gn_config_endpoint(cfg, url, 10), GN_ENOSPC);
    cr_assert_eq(gn_config_endpoint(cfg, url, 0), GN_EINVAL);
}

Test(config, example_files)
{
    char p[512];
    snprintf(p, sizeof p, "%s/config/miner.yaml", GN_SOURCE_DIR);
    cr_assert_eq(load_env("miner", ARGS("--config", p), NULL), 0, "%s", err);
    cr_assert_eq(gn_config_int(cfg, "netuid"), 1);
    cr_assert_str_eq(gn_config_str(cfg, "wallet.name"), "miner");
    cr_assert_str_eq(gn_config_str(cfg, "subtensor.network"), "finney");
    cr_assert(gn_config_bool(cfg, "miner.require_validator_permit"));
    cr_assert_eq(gn_config_source(cfg, "miner.min_stake", NULL), GN_CFG_FILE);
    cr_assert_gt(gn_config_float(cfg, "miner.min_stake"), 0);
    expect_list("miner.handlers", 2, ARGS("Dummy", "StreamingDummy"));
    char url[256];
    cr_assert_eq(gn_config_endpoint(cfg, url, sizeof url), 0);
    cr_assert_str_eq(url, "wss://entrypoint-finney.opentensor.ai:443");

    snprintf(p, sizeof p, "%s/config/validator.yaml", GN_SOURCE_DIR);
    cr_assert_eq(load_env("validator", ARGS("--config", p), NULL), 0, "%s", err);
    cr_assert(gn_config_bool(cfg, "axon.off"));
    cr_assert_str_eq(gn_config_str(cfg, "validator.task"), "Dummy");
    cr_assert_eq(gn_config_source(cfg, "validator.sample_size", NULL), GN_CFG_FILE);
    cr_assert_eq(gn_config_source(cfg, "validator.timeout", NULL), GN_CFG_FILE);

    snprintf(p, sizeof p, "%s/config/local.yaml", GN_SOURCE_DIR);
    for (int role = 0; role < 2; role++) {
        cr_assert_eq(load_env(role ? "validator" : "miner", ARGS("--config", p), NULL), 0, "%s",
                     err);
        cr_assert_eq(gn_config_int(cfg, "netuid"), 2);
        cr_assert_str_eq(gn_config_str(cfg, "subtensor.network"), "local");
        cr_assert_str_eq(gn_config_str(cfg, "axon.ip"), "127.0.0.2");
        cr_assert_eq(gn_config_endpoint(cfg, url, sizeof url), 0);
        cr_assert_str_eq(url, "ws://127.0.0.1:9944");
        cr_assert_eq(gn_config_source(cfg, "validator.step_interval", NULL), GN_CFG_FILE);
    }
}

/* gn_config_show into memory */
static char *show(bool json)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    cr_assert_not_null(m);
    cr_assert_eq(gn_config_show(cfg, m, json), 0);
    cr_assert_eq(fclose(m), 0);
    return text;
}

/* the line of `key` in text output, its spaces squeezed */
static void show_line(const char *text, const char *key, char *out, size_t cap)
{
    out[0] = 0;
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) != 0 || l[kl] != ' ')
            continue;
        size_t o = 0;
        for (const char *p = l; *p && *p != '\n' && o + 1 < cap; p++)
            if (!(*p == ' ' && o && out[o - 1] == ' '))
                out[o++] = *p;
        out[o] = 0;
        return;
    }
}

Test(config, show_text_and_json)
{
    const char *f = write_file("s.yaml", "wallet:\n  name: w1\n");
    char cfgvar[300];
    snprintf(cfgvar, sizeof cfgvar, "GANGLION_CONFIG=%s", f);
    cr_assert_eq(load_env("miner", ARGS("--axon.port", "8092", "--miner.handlers", "A,B"),
                          ENV(cfgvar, "BT_WALLET_HOTKEY=hk", "HOME=/h")),
                 0, "%s", err);
    char *text = show(false);
    char line[512], want[512];
    show_line(text, "axon.port", line, sizeof line);
    cr_assert_str_eq(line, "axon.port = 8092 # flag --axon.port");
    show_line(text, "wallet.name", line, sizeof line);
    snprintf(want, sizeof want, "wallet.name = \"w1\" # file %s:2", f);
    cr_assert_str_eq(line, want);
    show_line(text, "wallet.hotkey", line, sizeof line);
    cr_assert_str_eq(line, "wallet.hotkey = \"hk\" # env BT_WALLET_HOTKEY");
    show_line(text, "miner.handlers", line, sizeof line);
    cr_assert_str_eq(line, "miner.handlers = [\"A\",\"B\"] # flag --miner.handlers");
    show_line(text, "validator.alpha", line, sizeof line);
    cr_assert_str_eq(line, "", "the miner does not show the validator's keys");
    show_line(text, "node.grace_period", line, sizeof line);
    cr_assert_str_eq(line, "node.grace_period = 20 # default");
    /* schema order: netuid before wallet.name before axon.port */
    cr_assert_lt(strstr(text, "\nnetuid "), strstr(text, "\nwallet.name "));
    cr_assert_lt(strstr(text, "\nwallet.name "), strstr(text, "\naxon.port "));
    free(text);

    text = show(true);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    cr_assert_not_null(j, "%s: %s", je.text, text);
    json_t *o = json_object_get(j, "axon.port");
    cr_assert_eq(json_integer_value(json_object_get(o, "value")), 8092);
    cr_assert_str_eq(json_string_value(json_object_get(o, "source")), "flag");
    cr_assert_str_eq(json_string_value(json_object_get(o, "where")), "--axon.port");
    o = json_object_get(j, "wallet.name");
    cr_assert_str_eq(json_string_value(json_object_get(o, "value")), "w1");
    cr_assert_str_eq(json_string_value(json_object_get(o, "source")), "file");
    o = json_object_get(j, "config");
    cr_assert_str_eq(json_string_value(json_object_get(o, "source")), "env");
    cr_assert_str_eq(json_string_value(json_object_get(o, "where")), "GANGLION_CONFIG");
    o = json_object_get(j, "wallet.path");
    cr_assert_str_eq(json_string_value(json_object_get(o, "value")), "/h/.bittensor/wallets");
    cr_assert_str_eq(json_string_value(json_object_get(o, "source")), "default");
    o = json_object_get(json_object_get(j, "miner.handlers"), "value");
    cr_assert_eq(json_array_size(o), 2);
    cr_assert_str_eq(json_string_value(json_array_get(o, 1)), "B");
    cr_assert(json_is_real(json_object_get(json_object_get(j, "node.grace_period"), "value")));
    cr_assert(json_is_false(json_object_get(json_object_get(j, "axon.off"), "value")));
    cr_assert_null(json_object_get(j, "validator.alpha"));
    json_decref(j);
    free(text);
}

Test(config, cli_show)
{
    static gn_run_t r;
    const char *f = write_file("c.yaml", "netuid: 9\nvalidator:\n  timeout: 3\n");
    /* a clean environment: the test's own must not leak in */
    gn_test_run(&r, "-i HOME=/h GANGLION_AXON_MAX_WORKERS=33",
                "config show --role validator --config %s --axon.port 8092", f);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char line[512], want[512];
    show_line(r.out, "axon.port", line, sizeof line);
    cr_assert_str_eq(line, "axon.port = 8092 # flag --axon.port");
    show_line(r.out, "axon.max_workers", line, sizeof line);
    cr_assert_str_eq(line, "axon.max_workers = 33 # env GANGLION_AXON_MAX_WORKERS");
    show_line(r.out, "validator.timeout", line, sizeof line);
    snprintf(want, sizeof want, "validator.timeout = 3 # file %s:3", f);
    cr_assert_str_eq(line, want);
    show_line(r.out, "miner.handlers", line, sizeof line);
    cr_assert_str_eq(line, "");

    gn_test_run(&r, "-i HOME=/h", "config show --json --config %s --netuid=12", f);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_error_t je;
    json_t *j = json_loads(r.out, 0, &je);
    cr_assert_not_null(j, "%s", je.text);
    json_t *o = json_object_get(j, "netuid");
    cr_assert_eq(json_integer_value(json_object_get(o, "value")), 12);
    cr_assert_str_eq(json_string_value(json_object_get(o, "where")), "--netuid");
    cr_assert_not_null(json_object_get(j, "miner.handlers"), "no role: every key");
    cr_assert_not_null(json_object_get(j, "validator.timeout"));
    json_decref(j);

    /* bad config: exit 2, one line naming file:line and key, nothing on stdout */
    f = write_file("bad.yaml", "axon:\n  port: 0\n");
    gn_test_run(&r, "-i HOME=/h", "config show --config %s", f);
    cr_assert_eq(r.status, 2);
    snprintf(want, sizeof want, "ganglion: %s:2: axon.port: 0 is out of range 1..65535\n", f);
    cr_assert_str_eq(r.err, want);
    cr_assert_str_eq(r.out, "");
    gn_test_run(&r, "-i HOME=/h GANGLION_NODE_GRACE=1", "config show");
    cr_assert_eq(r.status, 2);
    cr_assert_str_eq(r.err, "ganglion: environment GANGLION_NODE_GRACE: unknown key (no such "
                            "setting)\n");
    gn_test_run(&r, "-i HOME=/h", "config show --role ninja");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "miner, validator"), "%s", r.err);
    gn_test_run(&r, "-i HOME=/h", "config keys --role miner");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "--axon.port "), "%s", r.out);
    cr_assert(strstr(r.out, "BT_AXON_PORT"), "%s", r.out);
    cr_assert(strstr(r.out, "--miner.handlers "), "%s", r.out);
    cr_assert_null(strstr(r.out, "--validator."), "%s", r.out);
    gn_test_run(&r, "-i HOME=/h", "config frob");
    cr_assert_eq(r.status, 2);
    gn_test_run(&r, "-i HOME=/h", "config show extra");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "\"extra\""), "%s", r.err);
}
