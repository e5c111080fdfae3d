/* libFuzzer target: the SCALE reader.
 *
 * The first byte of each step picks a primitive; the reader then reads it
 * from the rest of the input. Besides "no crash, no overread" (ASan/UBSan),
 * two properties are checked:
 *  - a failed read leaves the position unchanged;
 *  - decoding is canonical: re-encoding a decoded value reproduces exactly
 *    the bytes the read consumed. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "ganglion/scale.h"

static void same_bytes(gn_scale_writer_t *w, const uint8_t *p, size_t n)
{
    CHECK(gn_scale_writer_error(w) == 0);
    CHECK(w->len == n && memcmp(w->buf, p, n) == 0);
    gn_scale_writer_reset(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* ops come from the front, values from the back, so both vary freely */
    size_t nops = data[0] % 16 + 1;
    if (nops >= size)
        nops = size - 1;
    const uint8_t *ops = data + 1;
    gn_scale_reader_t r;
    gn_scale_reader_init(&r, data + 1 + nops, size - 1 - nops);
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    static const unsigned bits[] = {8, 16, 32, 64, 128};

    for (size_t i = 0; i < nops; i++) {
        size_t before = r.pos, n = 0;
        const uint8_t *start = r.p + r.pos, *p;
        const char *s;
        gn_u128_t u;
        bool b;
        int rc, ob;
        uint8_t idx;
        switch (ops[i] % 10) {
        case 0:
            rc = gn_scale_read_compact(&r, bits[(ops[i] / 10) % 5], &u);
            if (rc == 0) {
                gn_scale_write_compact(&w, u);
                same_bytes(&w, start, r.pos - before);
            }
            break;
        case 1:
            rc = gn_scale_read_vec_u8(&r, &p, &n);
            if (rc == 0) {
                CHECK(p + n <= r.p + r.len);
                gn_scale_write_vec_u8(&w, p, n);
                same_bytes(&w, start, r.pos - before);
            }
            break;
        case 2:
            rc = gn_scale_read_str(&r, &s, &n);
            if (rc == 0) {
                CHECK(gn_scale_write_str(&w, s, n) == 0);
                same_bytes(&w, start, r.pos - before);
            }
            break;
        case 3:
            rc = gn_scale_read_bitvec(&r, &p, &n);
            if (rc == 0) {
                gn_scale_write_bitvec(&w, p, n);
                same_bytes(&w, start, r.pos - before);
            }
            break;
        case 4:
            rc = gn_scale_read_u128(&r, &u);
            if (rc == 0) {
                gn_scale_write_u128(&w, u);
                same_bytes(&w, start, 16);
            }
            break;
        case 5:
            rc = gn_scale_read_bool(&r, &b);
            if (rc == 0) {
                gn_scale_write_bool(&w, b);
                same_bytes(&w, start, 1);
            }
            break;
        case 6:
            rc = gn_scale_read_option_bool(&r, &ob);
            if (rc == 0) {
                gn_scale_write_option_bool(&w, ob);
                same_bytes(&w, start, 1);
            }
            break;
        case 7:
            rc = gn_scale_read_len(&r, ops[i] / 10 % 40, &n);
            if (rc == 0)
                CHECK(n * (ops[i] / 10 % 40 ? ops[i] / 10 % 40 : 1) <= gn_scale_remaining(&r));
            break;
        case 8:
            rc = gn_scale_read_variant(&r, ops[i], &idx);
            if (rc == 0)
                CHECK(idx < ops[i]);
            break;
        default: {
            uint64_t x;
            rc = gn_scale_read_u64(&r, &x);
            break;
        }
        }
        CHECK(r.pos <= r.len);
        if (rc != 0)
            CHECK(r.pos == before);
    }
    gn_scale_writer_free(&w);
    return 0;
}
