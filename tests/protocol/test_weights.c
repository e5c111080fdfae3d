/* Weights for the chain, against the SDK's own formula run by Python
 * (round-half-even, float32 scores), and the commit-reveal hash against
 * Python's hashlib.blake2b over independently packed bytes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/weights.h"
#include "support/vectors.h"

/* Run a Python program on stdin text; its stdout. Skips without python3. */
static char *python(const char *prog, const char *input)
{
    if (system("python3 -c 'import sys' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "SKIP %s: python3 is missing\n", criterion_current_test->name);
        cr_skip_test("python3 is missing");
    }
    char pf[] = "/tmp/gn-py-XXXXXX", in[] = "/tmp/gn-py-in-XXXXXX";
    int a = mkstemp(pf), b = mkstemp(in);
    cr_assert(a >= 0 && b >= 0);
    cr_assert_eq(write(a, prog, strlen(prog)), (ssize_t)strlen(prog));
    cr_assert_eq(write(b, input, strlen(input)), (ssize_t)strlen(input));
    close(a);
    close(b);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "python3 %s < %s", pf, in);
    FILE *p = popen(cmd, "r");
    static char out[1 << 20];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "python failed");
    unlink(pf);
    unlink(in);
    return out;
}

/* The SDK's convert_weights_and_uids_for_emit, restated in plain Python */
static const char *EMIT = "import sys, struct\n"
                          "f32 = lambda x: struct.unpack('f', struct.pack('f', x))[0]\n"
                          "for line in sys.stdin:\n"
                          "    w = [f32(float(x)) for x in line.split()]\n"
                          "    if sum(w) == 0:\n"
                          "        print(''); continue\n"
                          "    m = float(max(w))\n"
                          "    out = []\n"
                          "    for i, x in enumerate(w):\n"
                          "        v = round(float(x) / m * 65535)\n"
                          "        if v != 0: out.append('%d:%d' % (i, v))\n"
                          "    print(' '.join(out))\n";

Test(weights, equal_to_the_sdk_formula)
{
    enum { VECS = 300, MAXN = 64 };
    static double scores[VECS][MAXN];
    static size_t lens[VECS];
    static char input[VECS * MAXN * 32];
    size_t pos = 0;
    uint64_t st = gn_test_seed();
#define RND() ((unsigned)gn_test_rand(&st))
    for (int v = 0; v < VECS; v++) {
        lens[v] = 1 + RND() % MAXN;
        for (size_t i = 0; i < lens[v]; i++) {
            unsigned k = RND() % 10;
            /* zeros, ties, tiny and large values, exact halves */
            double x = k == 0   ? 0
                       : k == 1 ? 0.5
                       : k == 2 ? 1e-9 * (RND() % 1000)
                       : k == 3 ? (double)(RND() % 7)
                                : (double)RND() / 4294967296.0 * 1000;
            if (v == 0)
                x = 0; /* one all-zero vector */
            scores[v][i] = x;
            pos += (size_t)snprintf(input + pos, sizeof(input) - pos, "%.17g ", x);
        }
        input[pos++] = '\n';
    }
    input[pos] = '\0';
    char *out = python(EMIT, input);
    char *line = out;
    for (int v = 0; v < VECS; v++) {
        char *nl = strchr(line, '\n');
        cr_assert_not_null(nl);
        *nl = '\0';
        uint64_t uids[MAXN];
        uint16_t ou[MAXN], ov[MAXN];
        size_t n;
        for (size_t i = 0; i < lens[v]; i++)
            uids[i] = i;
        cr_assert_eq(gn_weights_for_emit(uids, scores[v], lens[v], ou, ov, &n), 0);
        char mine[MAXN * 16] = "";
        size_t mp = 0;
        for (size_t i = 0; i < n; i++)
            mp += (size_t)snprintf(mine + mp, sizeof(mine) - mp, "%s%u:%u", i ? " " : "", ou[i],
                                   ov[i]);
        cr_assert_str_eq(mine, line, "vector %d (seed %llu)", v,
                         (unsigned long long)gn_test_seed());
        line = nl + 1;
    }
}

Test(weights, the_sdk_cases_and_refusals)
{
    uint64_t uids[] = {3, 7, 9};
    double w[] = {0.5, 1.0, 0.0};
    uint16_t ou[3], ov[3];
    size_t n;
    cr_assert_eq(gn_weights_for_emit(uids, w, 3, ou, ov, &n), 0);
    cr_assert_eq(n, 2, "the zero is dropped");
    cr_assert_eq(ou[0], 3);
    cr_assert_eq(ov[0], 32768, "32767.5 rounds half to even");
    cr_assert_eq(ov[1], 65535);
    double neg[] = {1, -0.1, 0};
    cr_assert_eq(gn_weights_for_emit(uids, neg, 3, ou, ov, &n), GN_EINVAL);
    double nan_[] = {1, NAN, 0};
    cr_assert_eq(gn_weights_for_emit(uids, nan_, 3, ou, ov, &n), GN_EINVAL);
    uint64_t big[] = {1, 70000, 2};
    cr_assert_eq(gn_weights_for_emit(big, w, 3, ou, ov, &n), GN_ERANGE);
    double zero[] = {0, 0, 0};
    cr_assert_eq(gn_weights_for_emit(uids, zero, 3, ou, ov, &n), 0);
    cr_assert_eq(n, 0, "nothing to set");
}

static const char *HASH = "import sys, hashlib\n"
                          "a = sys.stdin.read().split()\n"
                          "pub = bytes.fromhex(a[0]); netuid = int(a[1]); vk = int(a[2])\n"
                          "uids = [int(x) for x in a[3].split(',')]\n"
                          "vals = [int(x) for x in a[4].split(',')]\n"
                          "salt = [int(x) for x in a[5].split(',')]\n"
                          "def vec(v):\n"
                          "    assert len(v) < 64\n"
                          "    return bytes([len(v) << 2]) + b''.join(x.to_bytes(2, 'little') "
                          "for x in v)\n"
                          "d = pub + netuid.to_bytes(2, 'little') + vec(uids) + vec(vals) + "
                          "vec(salt) + vk.to_bytes(8, 'little')\n"
                          "print('0x' + hashlib.blake2b(d, digest_size=32).hexdigest())\n";

Test(weights, commit_hash_equals_hashlib)
{
    uint8_t pub[32];
    for (int i = 0; i < 32; i++)
        pub[i] = (uint8_t)(i * 7 + 1);
    uint16_t uids[] = {0, 1, 5}, vals[] = {65535, 32768, 12}, salt[] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t h[32];
    cr_assert_eq(gn_weights_commit_hash(pub, 3, uids, vals, 3, salt, 8, 10002000, h), 0);
    char ph[65], mine[67], in[512];
    gn_hex_encode(pub, 32, 0, ph, sizeof(ph));
    gn_hex_encode(h, 32, 1, mine, sizeof(mine));
    snprintf(in, sizeof(in), "%s 3 10002000 0,1,5 65535,32768,12 1,2,3,4,5,6,7,8", ph);
    char *theirs = python(HASH, in);
    theirs[strcspn(theirs, "\n")] = '\0';
    cr_assert_str_eq(mine, theirs);
}
