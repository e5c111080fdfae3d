/* libFuzzer target: the validator's persisted state (gn_scores_decode).
 *
 * Besides "no crash, no leak, no huge allocation": errors are GN_EPARSE or
 * GN_EUNSUPPORTED and leave the state untouched; a state that decodes
 * holds what the header promises (scores finite in [0, 1], hotkeys of at
 * most 48 characters), encodes, and its encoding decodes to a state that
 * encodes to the same bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "ganglion/error.h"
#include "ganglion/scores.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gn_scores_t s;
    gn_scores_init(&s, 99);
    int rc = gn_scores_decode(data, size, &s);
    if (rc != 0) {
        CHECK(rc == GN_EPARSE || rc == GN_EUNSUPPORTED);
        CHECK(s.netuid == 99 && s.n == 0 && !s.score && !s.hotkey);
        return 0;
    }
    CHECK(s.n <= 65536 && (s.n == 0 || (s.score && s.hotkey)));
    for (size_t i = 0; i < s.n; i++) {
        CHECK(isfinite(s.score[i]) && s.score[i] >= 0 && s.score[i] <= 1);
        CHECK(strlen(s.hotkey[i]) <= 48);
    }
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    CHECK(gn_scores_encode(&s, &a, &la) == 0);
    gn_scores_t t;
    gn_scores_init(&t, 0);
    CHECK(gn_scores_decode(a, la, &t) == 0);
    CHECK(gn_scores_encode(&t, &b, &lb) == 0);
    CHECK(la == lb && memcmp(a, b, la) == 0);
    free(a);
    free(b);
    gn_scores_free(&s);
    gn_scores_free(&t);
    return 0;
}
