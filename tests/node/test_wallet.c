/* ganglion wallet …, run as a user would, on wallets in a temp folder. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ganglion/hex.h"
#include "ganglion/keyfile.h"
#include "support/oracle.h"
#include "support/run.h"
#include "support/vectors.h"

#define ALICE "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"

static char dir[64];
static gn_run_t r;

static void make_dir(void)
{
    strcpy(dir, "/tmp/gn-wallet-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(wallet, .init = make_dir, .fini = remove_dir);

/* mode bits of dir/rel */
static unsigned mode_of(const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    cr_assert_eq(stat(p, &st), 0, "%s exists", p);
    return st.st_mode & 0777;
}

static char *read_text(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    char *buf = malloc(65536);
    *n = fread(buf, 1, 65535, f);
    buf[*n] = '\0';
    fclose(f);
    return buf;
}

/* dir/rel parsed as JSON */
static json_t *read_json(const char *rel)
{
    char p[512];
    size_t n;
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    char *t = read_text(p, &n);
    json_t *j = json_loads(t, 0, NULL);
    cr_assert_not_null(j, "%s is JSON", p);
    free(t);
    return j;
}

/* The mnemonic line printed by new-coldkey / new-hotkey. */
static void mnemonic_of(const char *out, char *phrase, size_t cap)
{
    const char *m = strstr(out, "mnemonic: ");
    cr_assert_not_null(m, "%s", out);
    m += 10;
    size_t n = strcspn(m, "\n");
    cr_assert(n < cap);
    memcpy(phrase, m, n);
    phrase[n] = '\0';
}

Test(wallet, new_keys_files_modes_and_regen, .timeout = 120)
{
    gn_test_run(&r, "PW=pass", "wallet new-coldkey --wallet.path %s --password-env PW", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char cold_phrase[300];
    mnemonic_of(r.out, cold_phrase, sizeof(cold_phrase));
    cr_assert_eq(mode_of("default/coldkey"), 0600);
    cr_assert_eq(mode_of("default/coldkeypub.txt"), 0600);
    cr_assert_eq(mode_of("default"), 0700);

    char p[512];
    size_t n;
    snprintf(p, sizeof(p), "%s/default/coldkey", dir);
    char *cold = read_text(p, &n);
    cr_assert_eq(strncmp(cold, "$NACL", 5), 0, "coldkeys are encrypted by default");
    cr_assert_null(strstr(cold, cold_phrase));
    free(cold);
    json_t *pub = read_json("default/coldkeypub.txt");
    cr_assert_eq(json_object_size(pub), 3, "public file: accountId, publicKey, ss58Address");
    cr_assert_not_null(json_object_get(pub, "ss58Address"));
    char cold_ss58[64];
    snprintf(cold_ss58, sizeof(cold_ss58), "%s",
             json_string_value(json_object_get(pub, "ss58Address")));
    json_decref(pub);

    gn_test_run(&r, "", "wallet new-hotkey --wallet.path %s --wallet.hotkey m1", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char hot_phrase[300];
    mnemonic_of(r.out, hot_phrase, sizeof(hot_phrase));
    cr_assert_eq(mode_of("default/hotkeys/m1"), 0600);
    cr_assert_eq(mode_of("default/hotkeys/m1pub.txt"), 0600);
    cr_assert_eq(mode_of("default/hotkeys"), 0700);
    json_t *hot = read_json("default/hotkeys/m1");
    cr_assert_str_eq(json_string_value(json_object_get(hot, "secretPhrase")), hot_phrase,
                     "hotkeys are plain by default");

    /* an existing key is never overwritten without --overwrite */
    gn_test_run(&r, "", "wallet new-hotkey --wallet.path %s --wallet.hotkey m1", dir);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "--overwrite"), "%s", r.err);
    json_t *again = read_json("default/hotkeys/m1");
    cr_assert(json_equal(hot, again), "the refused write changed nothing");
    json_decref(again);

    /* the printed mnemonics regenerate the same keys */
    gn_test_run(&r, "PW=other",
                "wallet regen-coldkey --wallet.path %s --wallet.name copy --mnemonic '%s' "
                "--password-env PW",
                dir, cold_phrase);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, cold_ss58), "%s", r.out);
    gn_test_run(&r, "",
                "wallet regen-hotkey --wallet.path %s --wallet.name copy --wallet.hotkey m1 "
                "--mnemonic '%s'",
                dir, hot_phrase);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *copy = read_json("copy/hotkeys/m1");
    const char *k;
    json_t *v;
    json_object_foreach (hot, k, v)
        cr_assert(json_equal(v, json_object_get(copy, k)), "%s", k);
    json_decref(copy);

    /* list and show see both wallets */
    gn_test_run(&r, "", "wallet list --wallet.path %s", dir);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "copy (") && strstr(r.out, "default (") && strstr(r.out, "m1 ("), "%s",
              r.out);
    cr_assert(strstr(r.out, cold_ss58));
    gn_test_run(&r, "", "wallet show --wallet.path %s --wallet.hotkey m1", dir);
    json_t *show = json_loads(r.out, 0, NULL);
    cr_assert_not_null(show, "%s", r.out);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(show, "coldkey"), "ss58")),
                     cold_ss58);
    cr_assert(json_is_true(json_object_get(json_object_get(show, "coldkey"), "encrypted")));
    cr_assert(json_is_false(json_object_get(json_object_get(show, "hotkey"), "encrypted")));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(show, "hotkey"), "ss58")),
                     json_string_value(json_object_get(hot, "ss58Address")));
    json_decref(show);

    /* sign with the hotkey, verify against its address; the coldkey asks its password */
    gn_test_run(&r, "", "wallet sign 'a message' --text --wallet.path %s --wallet.hotkey m1", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char sig[200];
    snprintf(sig, sizeof(sig), "%.130s", r.out);
    gn_test_run(&r, "", "wallet verify 'a message' %s --text --wallet.path %s --wallet.hotkey m1",
                sig, dir);
    cr_assert_eq(r.status, 0, "%s %s", r.out, r.err);
    cr_assert_str_eq(r.out, "valid\n");
    gn_test_run(&r, "", "wallet verify 'a messagE' %s --text --wallet.path %s --wallet.hotkey m1",
                sig, dir);
    cr_assert_eq(r.status, 1);
    gn_test_run(&r, "PW=wrong", "wallet sign 0x00 --coldkey --wallet.path %s --password-env PW",
                dir);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "wrong password"), "%s", r.err);
    gn_test_run(&r, "", "wallet sign 0x00 --coldkey --wallet.path %s", dir);
    cr_assert_eq(r.status, 1, "no password source: stdin is not a terminal");
    gn_test_run(&r, "PW=pass", "wallet sign 0x00 --coldkey --wallet.path %s --password-env PW",
                dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_decref(hot);
}

Test(wallet, regen_matches_the_keyfile_vectors)
{
    json_t *root = gn_test_load_shared_json("vectors/keyfile.json");
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i;
    json_array_foreach (vecs, i, v) {
        json_t *want = json_object_get(v, "keyfile");
        json_t *phrase = json_object_get(want, "secretPhrase");
        char name[32];
        snprintf(name, sizeof(name), "v%zu", i);
        if (json_is_string(phrase))
            gn_test_run(&r, "",
                        "wallet regen-hotkey --wallet.path %s --wallet.hotkey %s "
                        "--mnemonic '%s'",
                        dir, name, json_string_value(phrase));
        else
            gn_test_run(&r, "", "wallet regen-hotkey --wallet.path %s --wallet.hotkey %s --seed %s",
                        dir, name, json_string_value(json_object_get(want, "secretSeed")));
        cr_assert_eq(r.status, 0, "%s", r.err);
        char rel[64];
        snprintf(rel, sizeof(rel), "default/hotkeys/%s", name);
        json_t *got = read_json(rel);
        const char *k;
        json_t *x;
        json_object_foreach (want, k, x) {
            if (json_is_null(x))
                cr_assert_null(json_object_get(got, k), "%s: absent", k);
            else
                cr_assert(json_equal(x, json_object_get(got, k)), "vector %zu: %s", i, k);
        }
        json_decref(got);
    }
    json_decref(root);
    gn_test_run(&r, "", "wallet regen-hotkey --wallet.path %s --wallet.hotkey a --uri //Alice",
                dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, ALICE));
}

Test(wallet, bad_input_is_refused_clearly)
{
    gn_test_run(&r, "", "wallet regen-hotkey --wallet.path %s --mnemonic 'abandon abandon'", dir);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "invalid mnemonic"), "%s", r.err);
    gn_test_run(&r, "", "wallet regen-hotkey --wallet.path %s --seed 0x1234", dir);
    cr_assert_eq(r.status, 1);
    gn_test_run(&r, "", "wallet regen-hotkey --wallet.path %s", dir);
    cr_assert_eq(r.status, 2);
    gn_test_run(&r, "", "wallet regen-hotkey --wallet.path %s --seed 0x00 --uri //A", dir);
    cr_assert_eq(r.status, 2);
    gn_test_run(&r, "", "wallet new-hotkey --wallet.path %s --wallet.hotkey ../escape", dir);
    cr_assert_eq(r.status, 1);
    gn_test_run(&r, "", "wallet frobnicate");
    cr_assert_eq(r.status, 2);
    gn_test_run(&r, "", "wallet new-hotkey --bogus");
    cr_assert_eq(r.status, 2);

    /* legacy encryption is named, not mistaken for a wrong password */
    char p[512];
    snprintf(p, sizeof(p), "%s/legacy", dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/legacy/hotkeys", dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/legacy/hotkeys/default", dir);
    FILE *f = fopen(p, "w");
    fputs("$ANSIBLE_VAULT;1.1;AES256\n6162", f);
    fclose(f);
    gn_test_run(&r, "PW=x",
                "wallet sign 0x00 --wallet.path %s --wallet.name legacy "
                "--password-env PW",
                dir);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "Ansible"), "%s", r.err);
    /* a corrupt plain keyfile */
    f = fopen(p, "w");
    fputs("{\"publicKey\": 12", f);
    fclose(f);
    gn_test_run(&r, "", "wallet sign 0x00 --wallet.path %s --wallet.name legacy", dir);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "invalid keyfile"), "%s", r.err);
}

/* btwallet's password variable: base64(password XOR the variable's name). */
Test(wallet, btwallet_password_variable, .timeout = 120)
{
    gn_test_run(&r, "PW=s3cret", "wallet new-coldkey --wallet.path %s --password-env PW", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char path[256], name[512], val[128];
    snprintf(path, sizeof(path), "%s/default/coldkey", dir);
    size_t o = 0;
    o += (size_t)snprintf(name, sizeof(name), "BT_PW_");
    for (const char *c = path; *c; c++)
        name[o++] =
            (*c == '/' || *c == '.') ? '_' : (char)((*c >= 'a' && *c <= 'z') ? *c - 32 : *c);
    name[o] = '\0';
    const char *pw = "s3cret";
    unsigned char x[16];
    for (size_t i = 0; i < strlen(pw); i++)
        x[i] = (unsigned char)(pw[i] ^ name[i % o]);
    sodium_bin2base64(val, sizeof(val), x, strlen(pw), sodium_base64_VARIANT_ORIGINAL);
    char env[700];
    snprintf(env, sizeof(env), "%s=%s", name, val);
    gn_test_run(&r, env, "wallet sign 0x00 --coldkey --wallet.path %s", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
}

Test(wallet, round_trip_through_the_oracle, .timeout = 600)
{
    /* ganglion's wallet, to be read by the oracle */
    gn_test_run(&r, "PW=hunter2", "wallet new-coldkey --wallet.path %s --password-env PW", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char phrase[300];
    mnemonic_of(r.out, phrase, sizeof(phrase));
    char p[512];
    size_t n;
    snprintf(p, sizeof(p), "%s/default/coldkey", dir);
    char *sealed = read_text(p, &n);
    char *sealed_hex = gn_test_hex((uint8_t *)sealed, n);
    free(sealed);

    /* the oracle's wallet, to be read by ganglion */
    const char *other = "legal winner thank year wave sausage worth useful legal winner thank "
                        "yellow";
    json_t *batch = json_array();
    json_array_append_new(batch,
                          gn_test_oracle_req("keyfile-decrypt", "hunter2", sealed_hex, NULL));
    json_array_append_new(batch, gn_test_oracle_req("keyfile-json", phrase, NULL));
    json_array_append_new(batch, gn_test_oracle_req("keyfile-json", other, NULL));
    json_t *res = gn_test_oracle(batch);
    free(sealed_hex);
    for (size_t i = 0; i < json_array_size(res); i++)
        cr_assert_null(json_object_get(json_array_get(res, i), "error"), "#%zu: %s", i,
                       json_string_value(json_object_get(json_array_get(res, i), "error")));

    /* the oracle opened our $NACL file and found the keyfile it makes itself */
    json_t *plain =
        json_loads(json_string_value(json_object_get(json_array_get(res, 0), "plain")), 0, NULL);
    json_t *want = json_object_get(json_array_get(res, 1), "json");
    cr_assert_not_null(plain);
    const char *k;
    json_t *v;
    json_object_foreach (want, k, v) {
        if (!json_is_null(v))
            cr_assert(json_equal(v, json_object_get(plain, k)), "%s", k);
    }
    json_decref(plain);

    /* the oracle seals its own keyfile text (Python layout) ... */
    json_t *theirs = json_array_get(res, 2);
    const char *text = json_string_value(json_object_get(theirs, "text"));
    json_t *batch2 = json_array();
    json_array_append_new(batch2, gn_test_oracle_req("keyfile-encrypt", "pa ss", text, NULL));
    json_t *res2 = gn_test_oracle(batch2);
    const char *enc_hex = json_string_value(json_object_get(json_array_get(res2, 0), "encrypted"));
    cr_assert_not_null(enc_hex);
    size_t en;
    uint8_t *enc = gn_test_unhex(enc_hex, &en);
    snprintf(p, sizeof(p), "%s/theirs", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/theirs/coldkey", dir);
    FILE *f = fopen(p, "wb");
    fwrite(enc, 1, en, f);
    fclose(f);
    free(enc);
    snprintf(p, sizeof(p), "%s/theirs/hotkeys", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/theirs/hotkeys/default", dir);
    f = fopen(p, "w");
    fputs(text, f);
    fclose(f);

    /* ... and ganglion signs with both files; the oracle checks the signatures */
    const char *pk =
        json_string_value(json_object_get(json_object_get(theirs, "json"), "publicKey"));
    gn_test_run(&r, "PW='pa ss'",
                "wallet sign 0x0102 --coldkey --wallet.path %s --wallet.name "
                "theirs --password-env PW",
                dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char sig_cold[200], sig_hot[200];
    snprintf(sig_cold, sizeof(sig_cold), "%.130s", r.out);
    gn_test_run(&r, "", "wallet sign 0x0102 --wallet.path %s --wallet.name theirs", dir);
    cr_assert_eq(r.status, 0, "%s", r.err);
    snprintf(sig_hot, sizeof(sig_hot), "%.130s", r.out);
    json_t *batch3 = json_array();
    json_array_append_new(batch3,
                          gn_test_oracle_req("sr25519-verify", pk, "0x0102", sig_cold, NULL));
    json_array_append_new(batch3,
                          gn_test_oracle_req("sr25519-verify", pk, "0x0102", sig_hot, NULL));
    json_t *res3 = gn_test_oracle(batch3);
    for (size_t i = 0; i < 2; i++) {
        json_t *a = json_array_get(res3, i);
        cr_assert(json_is_true(json_object_get(a, "scure")) &&
                      json_is_true(json_object_get(a, "wasm")),
                  "signature %zu made from the oracle's keyfile", i);
    }
    json_decref(res3);
    json_decref(batch3);
    json_decref(res2);
    json_decref(batch2);
    json_decref(res);
    json_decref(batch);
}
