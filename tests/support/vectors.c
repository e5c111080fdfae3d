#include "support/vectors.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ganglion/hex.h"

const char *gn_test_shared_dir(void)
{
    const char *env = getenv("GANGLION_SHARED");
    return env && *env ? env : GN_SOURCE_DIR "/../shared";
}

/* Skip the calling test, loudly, when a shared file is missing. */
static void skip_missing(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return;
    /* on stderr too: Criterion shows skip reasons only when verbose */
    fprintf(stderr, "SKIP %s: %s is missing (set GANGLION_SHARED)\n", criterion_current_test->name,
            path);
    cr_skip_test("%s is missing: the shared vectors are needed for this test (set "
                 "GANGLION_SHARED to their folder)",
                 path);
}

json_t *gn_test_load_shared_json(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", gn_test_shared_dir(), rel);
    skip_missing(path);
    json_error_t err;
    json_t *j = json_load_file(path, JSON_ALLOW_NUL, &err);
    cr_assert_not_null(j, "%s: JSON error line %d: %s", path, err.line, err.text);
    return j;
}

uint8_t *gn_test_load_shared_hex(const char *rel, size_t *n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", gn_test_shared_dir(), rel);
    skip_missing(path);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    size_t got = fread(text, 1, (size_t)size, f);
    fclose(f);
    while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == '\r' || text[got - 1] == ' '))
        got--;
    text[got] = '\0';
    uint8_t *bytes = gn_test_unhex(text, n);
    free(text);
    return bytes;
}

uint8_t *gn_test_unhex(const char *hex, size_t *n)
{
    size_t len = strlen(hex), cap = len / 2 + 1;
    uint8_t *out = malloc(cap);
    cr_assert_not_null(out);
    int rc = gn_hex_decode(hex, len, out, cap, n);
    cr_assert_eq(rc, 0, "bad hex in test data: %.60s", hex);
    return out;
}

char *gn_test_hex(const uint8_t *p, size_t n)
{
    size_t cap = gn_hex_encoded_len(n, 1) + 1;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    cr_assert_eq(gn_hex_encode(p, n, 1, s, cap), 0);
    return s;
}

uint64_t gn_test_seed(void)
{
    const char *env = getenv("GANGLION_TEST_SEED");
    return env && *env ? strtoull(env, NULL, 0) : 0x6a616e676c696f6eULL;
}

uint64_t gn_test_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void gn_test_assert_hex(const uint8_t *p, size_t n, const char *want, const char *what)
{
    char *h = gn_test_hex(p, n);
    cr_assert_str_eq(h, want, "%s", what);
    free(h);
}
