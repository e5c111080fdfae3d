#include "ganglion/merlin.h"
#include "ganglion/keccak.h"

#include <sodium.h>
#include <string.h>

#include "le.h"

#define STROBE_R 166
#define FLAG_I   1
#define FLAG_A   2
#define FLAG_C   4
#define FLAG_T   8
#define FLAG_M   16
#define FLAG_K   32

static void run_f(gn_strobe_t *s)
{
    s->state[s->pos] ^= s->pos_begin;
    s->state[s->pos + 1] ^= 0x04;
    s->state[STROBE_R + 1] ^= 0x80;
    gn_keccak_f1600(s->state);
    s->pos = 0;
    s->pos_begin = 0;
}

static void absorb(gn_strobe_t *s, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        s->state[s->pos++] ^= data[i];
        if (s->pos == STROBE_R)
            run_f(s);
    }
}

static void overwrite(gn_strobe_t *s, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        s->state[s->pos++] = data[i];
        if (s->pos == STROBE_R)
            run_f(s);
    }
}

static void squeeze(gn_strobe_t *s, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        out[i] = s->state[s->pos];
        s->state[s->pos++] = 0;
        if (s->pos == STROBE_R)
            run_f(s);
    }
}

static void begin_op(gn_strobe_t *s, uint8_t flags, int more)
{
    if (more)
        return; /* continuing: the caller uses the same flags */
    uint8_t head[2] = {s->pos_begin, flags};
    s->pos_begin = (uint8_t)(s->pos + 1);
    s->cur_flags = flags;
    absorb(s, head, 2);
    if ((flags & (FLAG_C | FLAG_K)) && s->pos != 0)
        run_f(s);
}

void gn_strobe_init(gn_strobe_t *s, const uint8_t *label, size_t len)
{
    memset(s, 0, sizeof(*s));
    static const uint8_t head[6] = {1, STROBE_R + 2, 1, 0, 1, 96};
    memcpy(s->state, head, 6);
    memcpy(s->state + 6, "STROBEv1.0.2", 12);
    gn_keccak_f1600(s->state);
    gn_strobe_meta_ad(s, label, len, 0);
}

void gn_strobe_meta_ad(gn_strobe_t *s, const uint8_t *data, size_t len, int more)
{
    begin_op(s, FLAG_M | FLAG_A, more);
    absorb(s, data, len);
}

void gn_strobe_ad(gn_strobe_t *s, const uint8_t *data, size_t len, int more)
{
    begin_op(s, FLAG_A, more);
    absorb(s, data, len);
}

void gn_strobe_prf(gn_strobe_t *s, uint8_t *out, size_t len, int more)
{
    begin_op(s, FLAG_I | FLAG_A | FLAG_C, more);
    squeeze(s, out, len);
}

void gn_strobe_key(gn_strobe_t *s, const uint8_t *data, size_t len, int more)
{
    begin_op(s, FLAG_A | FLAG_C, more);
    overwrite(s, data, len);
}

/* meta-AD(label) then meta-AD(len as u32 LE), continuing */
static void frame(gn_strobe_t *s, const char *label, size_t len)
{
    uint8_t n[4];
    gn_le_store(n, (uint32_t)len, 4);
    gn_strobe_meta_ad(s, (const uint8_t *)label, strlen(label), 0);
    gn_strobe_meta_ad(s, n, 4, 1);
}

void gn_merlin_init(gn_merlin_t *t, const char *label)
{
    gn_strobe_init(&t->strobe, (const uint8_t *)"Merlin v1.0", 11);
    gn_merlin_append(t, "dom-sep", (const uint8_t *)label, strlen(label));
}

void gn_merlin_append(gn_merlin_t *t, const char *label, const uint8_t *msg, size_t len)
{
    frame(&t->strobe, label, len);
    gn_strobe_ad(&t->strobe, msg, len, 0);
}

void gn_merlin_append_u64(gn_merlin_t *t, const char *label, uint64_t x)
{
    uint8_t b[8];
    gn_le_store(b, x, 8);
    gn_merlin_append(t, label, b, 8);
}

void gn_merlin_challenge(gn_merlin_t *t, const char *label, uint8_t *out, size_t len)
{
    frame(&t->strobe, label, len);
    gn_strobe_prf(&t->strobe, out, len, 0);
}

void gn_merlin_rng_init(gn_merlin_rng_t *rng, const gn_merlin_t *t)
{
    rng->strobe = t->strobe;
}

void gn_merlin_rng_rekey(gn_merlin_rng_t *rng, const char *label, const uint8_t *witness,
                         size_t len)
{
    frame(&rng->strobe, label, len);
    gn_strobe_key(&rng->strobe, witness, len, 0);
}

void gn_merlin_rng_finalize(gn_merlin_rng_t *rng, const uint8_t random[32])
{
    gn_strobe_meta_ad(&rng->strobe, (const uint8_t *)"rng", 3, 0);
    gn_strobe_key(&rng->strobe, random, 32, 0);
}

void gn_merlin_rng_fill(gn_merlin_rng_t *rng, uint8_t *out, size_t len)
{
    uint8_t n[4];
    gn_le_store(n, (uint32_t)len, 4);
    gn_strobe_meta_ad(&rng->strobe, n, 4, 0);
    gn_strobe_prf(&rng->strobe, out, len, 0);
}

void gn_merlin_wipe(void *p, size_t len)
{
    sodium_memzero(p, len);
}
