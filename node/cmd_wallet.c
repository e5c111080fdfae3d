/* ganglion wallet …: Bittensor wallets on disk, in the SDK's layout
 * (wire spec §8.1):
 *   {path}/{name}/coldkey, coldkeypub.txt, hotkeys/{hotkey}, hotkeys/{hotkey}pub.txt
 * Coldkeys are encrypted ($NACL) unless --no-password; hotkeys are plain
 * unless --use-password. Files are 0600, folders 0700, writes atomic, and an
 * existing key is never replaced without --overwrite. */
#include <dirent.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ganglion/fs.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/keyfile.h"
#include "ganglion/mnemonic.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
#include "ganglion/suri.h"
#include "password.h"

#define KEYFILE_MAX (64 * 1024)

typedef struct {
    const char *path, *name, *hotkey;
    const char *mnemonic, *seed, *uri, *password_env, *ss58;
    long n_words;
    bool overwrite, no_password, use_password, coldkey, text;
    const char *pos[3];
    int npos;
} wopts_t;

static const char *env_or(const char *var, const char *dflt)
{
    const char *v = getenv(var);
    return v && *v ? v : dflt;
}

static int parse_opts(int argc, char **argv, wopts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->path = env_or("BT_WALLET_PATH", "~/.bittensor/wallets");
    o->name = env_or("BT_WALLET_NAME", "default");
    o->hotkey = env_or("BT_WALLET_HOTKEY", "default");
    o->n_words = 12;
    static const struct {
        const char *flag;
        size_t off;
    } valued[] = {
        {"--wallet.path", offsetof(wopts_t, path)},
        {"--wallet.name", offsetof(wopts_t, name)},
        {"--wallet.hotkey", offsetof(wopts_t, hotkey)},
        {"--mnemonic", offsetof(wopts_t, mnemonic)},
        {"--seed", offsetof(wopts_t, seed)},
        {"--uri", offsetof(wopts_t, uri)},
        {"--password-env", offsetof(wopts_t, password_env)},
        {"--ss58", offsetof(wopts_t, ss58)},
    };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool done = false;
        for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]) && !done; k++) {
            size_t fl = strlen(valued[k].flag);
            const char **slot = (const char **)((char *)o + valued[k].off);
            if (strcmp(a, valued[k].flag) == 0) {
                if (i + 1 >= argc)
                    return gn_cli_usage("a flag is missing its value");
                *slot = argv[++i];
                done = true;
            } else if (strncmp(a, valued[k].flag, fl) == 0 && a[fl] == '=') {
                *slot = a + fl + 1;
                done = true;
            }
        }
        if (done)
            continue;
        if (strcmp(a, "--n-words") == 0 && i + 1 < argc) {
            char *end;
            o->n_words = strtol(argv[++i], &end, 10);
            if (*end || o->n_words < 12 || o->n_words > 24 || o->n_words % 3)
                return gn_cli_usage("--n-words is one of 12, 15, 18, 21, 24");
        } else if (strcmp(a, "--overwrite") == 0) {
            o->overwrite = true;
        } else if (strcmp(a, "--no-password") == 0 || strcmp(a, "--no-use-password") == 0) {
            o->no_password = true;
        } else if (strcmp(a, "--use-password") == 0) {
            o->use_password = true;
        } else if (strcmp(a, "--coldkey") == 0) {
            o->coldkey = true;
        } else if (strcmp(a, "--text") == 0) {
            o->text = true;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "ganglion: wallet: unknown flag '%s'\n", a);
            return GN_EXIT_USAGE;
        } else if (o->npos < 3) {
            o->pos[o->npos++] = a;
        } else {
            return gn_cli_usage("wallet: too many arguments");
        }
    }
    return 0;
}

/* {path}/{name} with ~ expanded. */
static int wallet_dir(const wopts_t *o, char *out, size_t cap)
{
    const char *p = o->path;
    int n;
    if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
        n = snprintf(out, cap, "%s%s/%s", env_or("HOME", "/root"), p + 1, o->name);
    else
        n = snprintf(out, cap, "%s/%s", p, o->name);
    return n < 0 || (size_t)n >= cap ? GN_ERANGE : 0;
}

typedef struct {
    char key[4096];
    char pub[4200];
    const char *what; /* "coldkey" / "hotkey" */
} keypaths_t;

static int key_paths(const wopts_t *o, bool cold, keypaths_t *k)
{
    char dir[4000];
    int rc = wallet_dir(o, dir, sizeof(dir));
    if (rc < 0)
        return rc;
    k->what = cold ? "coldkey" : "hotkey";
    if (cold) {
        snprintf(k->key, sizeof(k->key), "%s/coldkey", dir);
        snprintf(k->pub, sizeof(k->pub), "%s/coldkeypub.txt", dir);
    } else {
        if (strchr(o->hotkey, '/'))
            return GN_EINVAL;
        snprintf(k->key, sizeof(k->key), "%s/hotkeys/%s", dir, o->hotkey);
        snprintf(k->pub, sizeof(k->pub), "%s/hotkeys/%spub.txt", dir, o->hotkey);
    }
    return 0;
}

static int fail_path(const char *what, const char *path, int rc)
{
    fprintf(stderr, "ganglion: %s %s: %s\n", what, path, gn_strerror(rc));
    return GN_EXIT_FAIL;
}

/* Write the key file (encrypted or not) and its public twin. */
static int write_key(const wopts_t *o, const keypaths_t *k, const gn_keyfile_t *kf, bool encrypt)
{
    char *json = NULL, *pubjson = NULL, pw[GN_PASSWORD_MAX];
    size_t jn = 0, pn = 0, sn = 0;
    uint8_t *sealed = NULL, key[32];
    int rc, ret = GN_EXIT_FAIL;
    if (!o->overwrite && (gn_fs_exists(k->key) || gn_fs_exists(k->pub))) {
        fprintf(stderr, "ganglion: %s %s exists; pass --overwrite to replace it\n", k->what,
                k->key);
        return GN_EXIT_FAIL;
    }
    if ((rc = gn_keyfile_to_json(kf, false, &json, &jn)) < 0 ||
        (rc = gn_keyfile_to_json(kf, true, &pubjson, &pn)) < 0) {
        ret = gn_cli_fail("wallet: keyfile", rc);
        goto done;
    }
    if (encrypt) {
        rc = gn_password_get(k->key, o->password_env, "Password for the new key: ", true, pw,
                             sizeof(pw));
        if (rc < 0) {
            fprintf(stderr,
                    "ganglion: no password for %s: %s (use --password-env VAR, a "
                    "terminal, or --no-password)\n",
                    k->key, gn_strerror(rc));
            goto done;
        }
        uint8_t nonce[GN_KEYFILE_NONCE_LEN];
        randombytes_buf(nonce, sizeof(nonce));
        sealed = malloc(jn + GN_KEYFILE_NACL_OVERHEAD);
        if (!sealed || (rc = gn_keyfile_derive_key(pw, strlen(pw), key)) < 0 ||
            (rc = gn_keyfile_seal((uint8_t *)json, jn, key, nonce, sealed,
                                  jn + GN_KEYFILE_NACL_OVERHEAD, &sn)) < 0) {
            ret = gn_cli_fail("wallet: encrypting", sealed ? rc : GN_ENOMEM);
            goto done;
        }
    }
    rc = encrypt ? gn_fs_write_atomic(k->key, sealed, sn, o->overwrite)
                 : gn_fs_write_atomic(k->key, json, jn, o->overwrite);
    if (rc == 0)
        rc = gn_fs_write_atomic(k->pub, pubjson, pn, true);
    if (rc < 0) {
        ret = fail_path("writing", k->key, rc);
        goto done;
    }
    ret = GN_EXIT_OK;
done:
    sodium_memzero(pw, sizeof(pw));
    sodium_memzero(key, sizeof(key));
    gn_keyfile_free_text(json, jn);
    gn_keyfile_free_text(pubjson, pn);
    free(sealed);
    return ret;
}

/* Read a keyfile, decrypting it when needed. */
static int read_keyfile(const wopts_t *o, const char *path, gn_keyfile_t *kf, bool *encrypted)
{
    uint8_t *data = NULL, *plain = NULL, key[32];
    size_t n = 0, pn = 0;
    char pw[GN_PASSWORD_MAX];
    int rc = gn_fs_read(path, KEYFILE_MAX, &data, &n);
    if (rc < 0)
        return rc;
    gn_keyfile_format_t f = gn_keyfile_detect(data, n);
    if (encrypted)
        *encrypted = f != GN_KEYFILE_PLAIN;
    if (f == GN_KEYFILE_PLAIN) {
        rc = gn_keyfile_parse(data, n, kf);
        goto done;
    }
    if (f != GN_KEYFILE_NACL) {
        fprintf(stderr,
                "ganglion: %s is encrypted with %s; regenerate it with btcli or "
                "'ganglion wallet regen-*' from its mnemonic\n",
                path, gn_keyfile_format_name(f));
        rc = GN_ELEGACY;
        goto done;
    }
    char prompt[4200];
    snprintf(prompt, sizeof(prompt), "Password for %s: ", path);
    if ((rc = gn_password_get(path, o->password_env, prompt, false, pw, sizeof(pw))) < 0)
        goto done;
    plain = malloc(n);
    if (!plain) {
        rc = GN_ENOMEM;
        goto done;
    }
    if ((rc = gn_keyfile_derive_key(pw, strlen(pw), key)) == 0 &&
        (rc = gn_keyfile_open(data, n, key, plain, n, &pn)) == 0)
        rc = gn_keyfile_parse(plain, pn, kf);
done:
    sodium_memzero(pw, sizeof(pw));
    sodium_memzero(key, sizeof(key));
    gn_fs_free_secret(plain, n);
    gn_fs_free_secret(data, n);
    return rc;
}

/* The public key of a hotkey or coldkey without asking for a password. */
static int read_public(const wopts_t *o, bool cold, uint8_t pub[32])
{
    keypaths_t k;
    gn_keyfile_t kf;
    int rc = key_paths(o, cold, &k);
    if (rc < 0)
        return rc;
    uint8_t *data;
    size_t n;
    /* the key file itself when plain, else its public twin */
    if (gn_fs_read(k.key, KEYFILE_MAX, &data, &n) == 0) {
        bool plain = gn_keyfile_detect(data, n) == GN_KEYFILE_PLAIN;
        rc = plain ? gn_keyfile_parse(data, n, &kf) : GN_ENOENT;
        gn_fs_free_secret(data, n);
        if (plain) {
            rc = rc == 0 ? gn_keyfile_public(&kf, pub) : rc;
            gn_keyfile_wipe(&kf);
            return rc;
        }
    }
    if ((rc = gn_fs_read(k.pub, KEYFILE_MAX, &data, &n)) < 0)
        return rc;
    rc = gn_keyfile_parse(data, n, &kf);
    gn_fs_free_secret(data, n);
    if (rc == 0)
        rc = gn_keyfile_public(&kf, pub);
    gn_keyfile_wipe(&kf);
    return rc;
}

static void print_ss58(const uint8_t pub[32])
{
    char addr[GN_SS58_ADDR_MAX];
    gn_ss58_encode(pub, 32, GN_SS58_BITTENSOR, addr, sizeof(addr));
    fputs(addr, stdout);
}

static int cmd_new(const wopts_t *o, bool cold)
{
    uint8_t entropy[32], mini[32];
    char phrase[GN_MNEMONIC_MAX];
    gn_sr25519_keypair_t kp;
    gn_keyfile_t kf;
    keypaths_t k;
    size_t n = (size_t)o->n_words * 4 / 3;
    int rc = key_paths(o, cold, &k), ret;
    if (rc < 0)
        return gn_cli_fail("wallet: bad name", rc);
    randombytes_buf(entropy, n);
    gn_mnemonic_from_entropy(entropy, n, phrase, sizeof(phrase));
    gn_mnemonic_mini_secret(entropy, n, "", 0, mini);
    gn_sr25519_from_mini(&kp, mini);
    gn_keyfile_from_keypair(&kf, &kp, phrase, mini);
    ret = write_key(o, &k, &kf, cold ? !o->no_password : o->use_password);
    if (ret == GN_EXIT_OK) {
        printf("%s ", k.what);
        print_ss58(kp.pub);
        printf(" written to %s\nmnemonic: %s\n", k.key, phrase);
        printf("Keep the mnemonic safe: it is the only way to regenerate this key.\n");
    }
    sodium_memzero(entropy, sizeof(entropy));
    sodium_memzero(mini, sizeof(mini));
    sodium_memzero(phrase, sizeof(phrase));
    gn_sr25519_wipe(&kp);
    gn_keyfile_wipe(&kf);
    return ret;
}

static int cmd_regen(const wopts_t *o, bool cold)
{
    uint8_t mini[32], rnd[32];
    gn_sr25519_keypair_t kp;
    gn_keyfile_t kf;
    keypaths_t k;
    bool has_mini = false;
    const char *phrase = NULL;
    int sources = !!o->mnemonic + !!o->seed + !!o->uri, rc, ret;
    if (sources != 1)
        return gn_cli_usage("wallet regen: give exactly one of --mnemonic, --seed, --uri");
    if ((rc = key_paths(o, cold, &k)) < 0)
        return gn_cli_fail("wallet: bad name", rc);
    if (o->mnemonic) {
        rc = gn_mnemonic_to_mini_secret(o->mnemonic, strlen(o->mnemonic), "", 0, mini);
        phrase = o->mnemonic;
        has_mini = true;
    } else if (o->seed) {
        rc = gn_hex_decode_exact(o->seed, strlen(o->seed), mini, 32);
        has_mini = true;
    } else {
        randombytes_buf(rnd, sizeof(rnd));
        rc = gn_suri_keypair(o->uri, strlen(o->uri), rnd, &kp, mini, &has_mini);
    }
    if (rc < 0) {
        ret = gn_cli_fail(o->mnemonic ? "--mnemonic"
                          : o->seed   ? "--seed (0x + 32 bytes)"
                                      : "--uri",
                          rc);
        goto done;
    }
    if (!o->uri)
        gn_sr25519_from_mini(&kp, mini);
    gn_keyfile_from_keypair(&kf, &kp, phrase, has_mini ? mini : NULL);
    ret = write_key(o, &k, &kf, cold ? !o->no_password : o->use_password);
    if (ret == GN_EXIT_OK) {
        printf("%s ", k.what);
        print_ss58(kp.pub);
        printf(" written to %s\n", k.key);
    }
done:
    sodium_memzero(mini, sizeof(mini));
    gn_sr25519_wipe(&kp);
    gn_keyfile_wipe(&kf);
    return ret;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of a folder (skipping dot files); free with free_names. */
static size_t list_dir(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    size_t n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), name_cmp);
    *out = names;
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmd_list(const wopts_t *o)
{
    char root[4000];
    wopts_t w = *o;
    w.name = "";
    if (wallet_dir(&w, root, sizeof(root)) < 0)
        return gn_cli_fail("wallet list", GN_ERANGE);
    root[strlen(root) - 1] = '\0'; /* drop the trailing slash of the empty name */
    char **wallets;
    size_t nw = list_dir(root, &wallets);
    printf("%s\n", root);
    for (size_t i = 0; i < nw; i++) {
        uint8_t pub[32];
        w.name = wallets[i];
        printf("%s %s (", i + 1 == nw ? "└──" : "├──", wallets[i]);
        if (read_public(&w, true, pub) == 0)
            print_ss58(pub);
        else
            fputs("no coldkeypub.txt", stdout);
        printf(")\n");
        char hdir[4100], **hot;
        snprintf(hdir, sizeof(hdir), "%s/%s/hotkeys", root, wallets[i]);
        size_t nh = list_dir(hdir, &hot), last = 0;
        for (size_t h = 0; h < nh; h++)
            if (!ends_with(hot[h], "pub.txt") && !strstr(hot[h], ".tmp."))
                last = h;
        for (size_t h = 0; h < nh; h++) {
            if (ends_with(hot[h], "pub.txt") || strstr(hot[h], ".tmp."))
                continue;
            w.hotkey = hot[h];
            printf("%s%s %s (", i + 1 == nw ? "    " : "│   ", h == last ? "└──" : "├──", hot[h]);
            if (read_public(&w, false, pub) == 0)
                print_ss58(pub);
            else
                fputs("unreadable", stdout);
            printf(")\n");
        }
        free_names(hot, nh);
    }
    free_names(wallets, nw);
    return GN_EXIT_OK;
}

static void show_key(const wopts_t *o, bool cold, const char *label, bool last)
{
    keypaths_t k;
    uint8_t pub[32], *data;
    size_t n;
    key_paths(o, cold, &k);
    printf("\"%s\":{\"file\":\"%s\",", label, k.key);
    if (gn_fs_read(k.key, KEYFILE_MAX, &data, &n) == 0) {
        printf("\"encrypted\":%s,",
               gn_keyfile_detect(data, n) == GN_KEYFILE_PLAIN ? "false" : "true");
        gn_fs_free_secret(data, n);
    } else {
        printf("\"encrypted\":null,");
    }
    if (read_public(o, cold, pub) == 0) {
        printf("\"ss58\":\"");
        print_ss58(pub);
        printf("\"}%s", last ? "" : ",");
    } else {
        printf("\"ss58\":null}%s", last ? "" : ",");
    }
}

static int cmd_show(const wopts_t *o)
{
    char dir[4000];
    if (wallet_dir(o, dir, sizeof(dir)) < 0)
        return gn_cli_fail("wallet show", GN_ERANGE);
    if (!gn_fs_exists(dir)) {
        fprintf(stderr, "ganglion: wallet %s not found\n", dir);
        return GN_EXIT_FAIL;
    }
    printf("{\"wallet\":\"%s\",\"path\":\"%s\",\"hotkey_name\":\"%s\",", o->name, dir, o->hotkey);
    show_key(o, true, "coldkey", false);
    show_key(o, false, "hotkey", true);
    printf("}\n");
    return GN_EXIT_OK;
}

static int cmd_sign(const wopts_t *o)
{
    if (o->npos != 1)
        return gn_cli_usage("usage: ganglion wallet sign <message> [--coldkey] [--text]");
    keypaths_t k;
    gn_keyfile_t kf;
    gn_sr25519_keypair_t kp;
    uint8_t *msg = NULL, rnd[32], sig[64];
    size_t n;
    int rc, ret = GN_EXIT_FAIL;
    key_paths(o, o->coldkey, &k);
    if ((rc = gn_cli_bytes(o->pos[0], o->text, &msg, &n)) < 0) {
        ret = gn_cli_fail("wallet sign: <message>", rc);
        goto done;
    }
    if ((rc = read_keyfile(o, k.key, &kf, NULL)) < 0) {
        ret = fail_path("reading", k.key, rc);
        goto done;
    }
    rc = gn_keyfile_keypair(&kf, &kp);
    gn_keyfile_wipe(&kf);
    if (rc < 0) {
        ret = fail_path("no secret key in", k.key, rc);
        goto done;
    }
    randombytes_buf(rnd, sizeof(rnd));
    gn_sr25519_sign(&kp, msg, n, rnd, sig);
    gn_sr25519_wipe(&kp);
    char hex[2 * 64 + 3];
    gn_hex_encode(sig, 64, 1, hex, sizeof(hex));
    puts(hex);
    ret = GN_EXIT_OK;
done:
    free(msg);
    return ret;
}

static int cmd_verify(const wopts_t *o)
{
    if (o->npos != 2)
        return gn_cli_usage("usage: ganglion wallet verify <message> <signature> "
                            "[--ss58 ADDRESS | --coldkey] [--text]");
    uint8_t pub[32], sig[64], *msg = NULL;
    size_t n;
    int rc, ret = GN_EXIT_FAIL;
    if ((rc = gn_hex_decode_exact(o->pos[1], strlen(o->pos[1]), sig, 64)) < 0)
        return gn_cli_fail("wallet verify: <signature> (0x + 64 bytes)", rc);
    rc = o->ss58 ? gn_ss58_decode_account(o->ss58, strlen(o->ss58), pub, NULL)
                 : read_public(o, o->coldkey, pub);
    if (rc < 0)
        return gn_cli_fail(o->ss58 ? "wallet verify: --ss58" : "wallet verify: public key", rc);
    if ((rc = gn_cli_bytes(o->pos[0], o->text, &msg, &n)) < 0) {
        ret = gn_cli_fail("wallet verify: <message>", rc);
        goto done;
    }
    rc = gn_sr25519_verify(pub, msg, n, sig);
    if (rc == GN_EBADSIG) {
        /* btwallet's Keypair.verify also accepts <Bytes>…</Bytes> (polkadot-js signRaw) */
        uint8_t *wrapped = malloc(n + 15);
        if (wrapped) {
            memcpy(wrapped, "<Bytes>", 7);
            memcpy(wrapped + 7, msg, n);
            memcpy(wrapped + 7 + n, "</Bytes>", 8);
            if (gn_sr25519_verify(pub, wrapped, n + 15, sig) == 0)
                rc = 1;
            free(wrapped);
        }
    }
    if (rc == 0 || rc == 1) {
        puts(rc ? "valid (<Bytes>-wrapped message)" : "valid");
        ret = GN_EXIT_OK;
    } else {
        printf("invalid: %s\n", gn_strerror(rc));
    }
done:
    free(msg);
    return ret;
}

int gn_cmd_wallet(int argc, char **argv)
{
    if (argc < 1)
        return gn_cli_usage("usage: ganglion wallet new-coldkey|new-hotkey|regen-coldkey|"
                            "regen-hotkey|list|show|sign|verify [flags]");
    wopts_t o;
    int rc = parse_opts(argc - 1, argv + 1, &o);
    if (rc != 0)
        return rc;
    const char *sub = argv[0];
    bool takes_args = strcmp(sub, "sign") == 0 || strcmp(sub, "verify") == 0;
    if (!takes_args && o.npos)
        return gn_cli_usage("wallet: unexpected argument");
    if (strcmp(sub, "new-coldkey") == 0)
        return cmd_new(&o, true);
    if (strcmp(sub, "new-hotkey") == 0)
        return cmd_new(&o, false);
    if (strcmp(sub, "regen-coldkey") == 0)
        return cmd_regen(&o, true);
    if (strcmp(sub, "regen-hotkey") == 0)
        return cmd_regen(&o, false);
    if (strcmp(sub, "list") == 0)
        return cmd_list(&o);
    if (strcmp(sub, "show") == 0)
        return cmd_show(&o);
    if (strcmp(sub, "sign") == 0)
        return cmd_sign(&o);
    if (strcmp(sub, "verify") == 0)
        return cmd_verify(&o);
    fprintf(stderr, "ganglion: wallet: unknown subcommand '%s'\n", sub);
    return GN_EXIT_USAGE;
}

int gn_cli_suri_keypair(const char *suri, struct gn_sr25519_keypair *kp)
{
    uint8_t rnd[32], mini[32];
    bool has_mini;
    randombytes_buf(rnd, sizeof(rnd));
    int rc = gn_suri_keypair(suri, strlen(suri), rnd, kp, mini, &has_mini);
    sodium_memzero(mini, sizeof(mini));
    if (rc < 0)
        fprintf(stderr, "ganglion: --suri: %s\n", gn_strerror(rc));
    return rc;
}

int gn_cli_wallet_keypair(const char *path, const char *name, const char *hotkey, bool cold,
                          const char *password_env, gn_sr25519_keypair_t *kp)
{
    wopts_t o;
    keypaths_t k;
    gn_keyfile_t kf;
    memset(&o, 0, sizeof(o));
    o.path = path ? path : env_or("BT_WALLET_PATH", "~/.bittensor/wallets");
    o.name = name ? name : env_or("BT_WALLET_NAME", "default");
    o.hotkey = hotkey ? hotkey : env_or("BT_WALLET_HOTKEY", "default");
    o.password_env = password_env;
    int rc = key_paths(&o, cold, &k);
    if (rc < 0) {
        fail_path("wallet path", o.path, rc);
        return rc;
    }
    if ((rc = read_keyfile(&o, k.key, &kf, NULL)) < 0) {
        fail_path("reading", k.key, rc);
        return rc;
    }
    rc = gn_keyfile_keypair(&kf, kp);
    gn_keyfile_wipe(&kf);
    if (rc < 0)
        fail_path("no secret key in", k.key, rc);
    return rc;
}

/* ---- gn_cli_wallet_coldkeypub (for the miner and validator) ---- */

int gn_cli_wallet_coldkeypub(const char *path, const char *name, char ss58[49])
{
    wopts_t o;
    keypaths_t k;
    gn_keyfile_t kf;
    uint8_t *data = NULL, pub[32];
    size_t n = 0;
    memset(&o, 0, sizeof(o));
    o.path = path ? path : env_or("BT_WALLET_PATH", "~/.bittensor/wallets");
    o.name = name ? name : env_or("BT_WALLET_NAME", "default");
    o.hotkey = "default";
    ss58[0] = '\0';
    int rc = key_paths(&o, true, &k);
    /* only the public file: the coldkey itself is never opened here */
    if (rc == 0 && (rc = gn_fs_read(k.pub, KEYFILE_MAX, &data, &n)) == 0) {
        rc = gn_keyfile_parse(data, n, &kf);
        if (rc == 0) {
            rc = gn_keyfile_public(&kf, pub);
            gn_keyfile_wipe(&kf);
        }
        gn_fs_free_secret(data, n);
    }
    if (rc == 0) {
        char addr[GN_SS58_ADDR_MAX];
        rc = gn_ss58_encode(pub, 32, GN_SS58_BITTENSOR, addr, sizeof(addr));
        if (rc == 0 && strlen(addr) < 49)
            memcpy(ss58, addr, strlen(addr) + 1);
        else if (rc == 0)
            rc = GN_ERANGE;
    }
    return rc;
}
